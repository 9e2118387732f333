/* sha256.h - SHA-256 (FIPS 180-4) for content keys and BagIt manifests.
 *
 * Written here rather than taken from a crypto library: the digest is short,
 * banshi needs nothing else from such a library, and the Debian packages it
 * already depends on do not export one with a stable API.  Checked against
 * the FIPS 180-4 examples and against sha256sum in the unit tests. */
#ifndef BS_SHA256_H
#define BS_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct bs_sha256 {
  uint32_t h[8];         /* chaining state */
  uint64_t bytes;        /* message length so far */
  unsigned char buf[64]; /* pending partial block */
  size_t nbuf;           /* bytes in buf */
} bs_sha256;

#define BS_SHA256_HEX 65 /* 64 hex digits and a NUL */

/* Start a digest. */
void bs_sha256_init(bs_sha256 *c);
/* Add n bytes of message. */
void bs_sha256_update(bs_sha256 *c, const void *data, size_t n);
/* Finish and store the 32-byte digest; `c` must be initialised again
 * before reuse. */
void bs_sha256_final(bs_sha256 *c, unsigned char out[32]);

/* Lower-case hex of a 32-byte digest. */
void bs_sha256_hex(const unsigned char d[32], char hex[BS_SHA256_HEX]);

/* Digest of a whole buffer, as hex. */
void bs_sha256_buf(const void *data, size_t n, char hex[BS_SHA256_HEX]);

/* Digest of the file at `path`, as hex, and its size in *size (may be
 * NULL).  Returns 0, or -1 with errno set when it cannot be read. */
int bs_sha256_file(const char *path, char hex[BS_SHA256_HEX],
                   long long *size);

#endif
