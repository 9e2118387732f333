/* sha256.c - SHA-256 through Nettle; see sha256.h. */
#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

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

/* Read size: large enough that a read costs little next to hashing it
 * (at 1 GB/s a 256 KiB read is hashed in a quarter of a millisecond),
 * small enough to stay in the second-level cache. */
#define S_CHUNK ((size_t)256 * 1024)

int
bs_sha256_fd(int fd, char hex[BS_SHA256_HEX], long long *size)
{
  unsigned char *buf = malloc(S_CHUNK);
  if (!buf)
    return -1;
  bs_sha256 c;
  bs_sha256_init(&c);
  long long total = 0;
  for (;;) {
    ssize_t n = read(fd, buf, S_CHUNK);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int e = errno;
      free(buf);
      errno = e;
      return -1;
    }
    if (n == 0)
      break;
    bs_sha256_update(&c, buf, (size_t)n);
    total += n;
  }
  free(buf);
  unsigned char d[32];
  bs_sha256_final(&c, d);
  bs_sha256_hex(d, hex);
  if (size)
    *size = total;
  return 0;
}

int
bs_sha256_file(const char *path, char hex[BS_SHA256_HEX], long long *size)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  int rc = bs_sha256_fd(fd, hex, size);
  int e = errno;
  close(fd);
  errno = e;
  return rc;
}
