// SPDX-License-Identifier: Apache-2.0
/* fingerprint.c - XXH3-128 of files over a mapping; see fingerprint.h.
 * Layer 0 (base): docs/architecture.md. */
#include "fingerprint.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xxhash.h>

#include "fsio.h"

/* A mapped file that is truncated while it is read raises SIGBUS on the
 * pages past its new end.  While a mapping is hashed, a handler turns that
 * into a jump back to the hash on the thread that armed it; a SIGBUS that
 * is not ours gets the default action.  The handler is installed only for
 * the hash and the previous one restored after, one thread at a time. */
static _Thread_local sigjmp_buf *S_bus_jump;
static pthread_mutex_t S_bus_lock = PTHREAD_MUTEX_INITIALIZER;

static void
S_on_bus(int sig)
{
  if (S_bus_jump)
    siglongjmp(*S_bus_jump, 1);
  signal(sig, SIG_DFL);
  raise(sig);
}

/* Hash `len` (> 0) bytes of fd through a mapping: 0, 1 if it cannot be
 * mapped (the caller reads instead), -1 if the file shrank under it. */
static int
S_hash_mapped(int fd, size_t len, XXH128_hash_t *h)
{
  void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
  if (m == MAP_FAILED)
    return 1;
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = S_on_bus;
  sigemptyset(&sa.sa_mask);
  pthread_mutex_lock(&S_bus_lock);
  sigaction(SIGBUS, &sa, &old);
  sigjmp_buf jump;
  volatile int rc = 0;
  if (sigsetjmp(jump, 1) == 0) {
    S_bus_jump = &jump;
    *h = XXH3_128bits(m, len);
  } else {
    rc = -1;
  }
  S_bus_jump = NULL;
  sigaction(SIGBUS, &old, NULL);
  pthread_mutex_unlock(&S_bus_lock);
  munmap(m, len);
  return rc;
}

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
  int m = n > 0 ? S_hash_mapped(fd, (size_t)n, &h) : 1;
  if (m < 0) {
    e = BS_E_CHANGED;
  } else if (m > 0) {
    n = S_hash_read(fd, &h);
    if (n < 0)
      e = errno;
  }
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
