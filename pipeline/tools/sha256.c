// SPDX-License-Identifier: Apache-2.0
/* sha256.c - SHA-256 through Nettle; see sha256.h.
 * Layer 0 (base): docs/architecture.md. */
#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "fsio.h"

void
bs_sha256_init(bs_sha256 *c)
{
  sha256_init(&c->ctx);
}

void
bs_sha256_update(bs_sha256 *c, const void *data, size_t n)
{
  sha256_update(&c->ctx, n, data);
}

void
bs_sha256_final(bs_sha256 *c, unsigned char out[32])
{
  sha256_digest(&c->ctx, SHA256_DIGEST_SIZE, out);
}

void
bs_sha256_hex(const unsigned char d[32], char hex[BS_SHA256_HEX])
{
  static const char digits[] = "0123456789abcdef";
  for (int i = 0; i < 32; i++) {
    hex[2 * i] = digits[d[i] >> 4];
    hex[2 * i + 1] = digits[d[i] & 15];
  }
  hex[64] = '\0';
}

void
bs_sha256_buf(const void *data, size_t n, char hex[BS_SHA256_HEX])
{
  bs_sha256 c;
  unsigned char d[32];
  bs_sha256_init(&c);
  bs_sha256_update(&c, data, n);
  bs_sha256_final(&c, d);
  bs_sha256_hex(d, hex);
}

int
bs_sha256_fd(int fd, char hex[BS_SHA256_HEX], long long *size)
{
  /* 64 KiB reads: a read costs little next to hashing what it brings (at
   * 1 GB/s, 64 KiB take 60 microseconds), and the buffer stays in the
   * first- and second-level caches */
  unsigned char buf[65536];
  bs_sha256 c;
  bs_sha256_init(&c);
  long long total = 0;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    if (n == 0)
      break;
    bs_sha256_update(&c, buf, (size_t)n);
    total += n;
  }
  unsigned char d[32];
  bs_sha256_final(&c, d);
  bs_sha256_hex(d, hex);
  if (size)
    *size = total;
  return 0;
}

int
bs_sha256_file_max(const char *path, uint64_t max_bytes,
                   char hex[BS_SHA256_HEX], long long *size)
{
  struct stat st;
  int fd = bs_input_open(path, max_bytes, &st);
  if (fd < 0)
    return -1;
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  long long n = 0;
  int rc = bs_sha256_fd(fd, hex, &n);
  int e = errno;
  if (rc == 0 && n != (long long)st.st_size) {
    rc = -1;
    e = BS_E_CHANGED;
  }
  close(fd);
  if (rc == 0 && size)
    *size = n;
  errno = e;
  return rc;
}

int
bs_sha256_file(const char *path, char hex[BS_SHA256_HEX], long long *size)
{
  return bs_sha256_file_max(path, 0, hex, size);
}
