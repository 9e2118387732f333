// SPDX-License-Identifier: Apache-2.0
/* fingerprint.c - XXH3-128 of files; see fingerprint.h.
 * Layer 0 (base): docs/architecture.md. */
#include "fingerprint.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "fsio.h"

/* Hash everything readable from fd: its size, or -1 with errno set. */
static long long
S_hash_read(int fd, XXH128_hash_t *h)
{
  XXH3_state_t *s = XXH3_createState();
  if (!s) {
    errno = ENOMEM;
    return -1;
  }
  XXH3_128bits_reset(s);
  unsigned char buf[65536];
  long long total = 0;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int e = errno;
      XXH3_freeState(s);
      errno = e;
      return -1;
    }
    if (n == 0)
      break;
    XXH3_128bits_update(s, buf, (size_t)n);
    total += n;
  }
  *h = XXH3_128bits_digest(s);
  XXH3_freeState(s);
  return total;
}

int
bs_fingerprint_file(const char *path, char hex[BS_FINGERPRINT_HEX],
                    long long *size)
{
  struct stat st;
  int fd = bs_input_open(path, 0, &st);
  if (fd < 0)
    return -1;
  XXH128_hash_t h;
  long long n = (long long)st.st_size;
  int e = 0;
  /* read(), not a mapping: a mapped file truncated while it is hashed
   * raises SIGBUS, and a library has no business catching signals; for
   * the default fonts the mapping saved about 5 ms of a batch's 31 */
  n = S_hash_read(fd, &h);
  if (n < 0)
    e = errno;
  /* the same size after as before: a file that grew or shrank while it
   * was hashed is not vouched for */
  struct stat after;
  if (!e && (fstat(fd, &after) != 0 || after.st_size != st.st_size ||
             n != (long long)st.st_size))
    e = BS_E_CHANGED;
  close(fd);
  if (e) {
    errno = e;
    return -1;
  }
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, h);
  static const char digits[] = "0123456789abcdef";
  for (int i = 0; i < 16; i++) {
    hex[2 * i] = digits[c.digest[i] >> 4];
    hex[2 * i + 1] = digits[c.digest[i] & 15];
  }
  hex[32] = '\0';
  if (size)
    *size = n;
  return 0;
}
