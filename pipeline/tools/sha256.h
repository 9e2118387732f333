// SPDX-License-Identifier: Apache-2.0
/* sha256.h - SHA-256 (FIPS 180-4) for content keys, stamps and BagIt
 * manifests.
 *
 * A thin layer over Nettle's sha256 (README, Dependencies): Nettle picks
 * the processor's SHA extensions at run time (about 1.3 GB/s on a core with
 * SHA-NI, five times the portable code banshi once carried), and its
 * context is a plain struct, so a bs_sha256 lives on the stack, needs no
 * allocation and nothing to release on an early return.  The unit tests
 * check it against the FIPS 180-4 examples and the tests against Python's
 * hashlib.
 *
 * Layer 0 (base): docs/architecture.md. */
#ifndef BS_SHA256_H
#define BS_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include <nettle/sha2.h>

typedef struct bs_sha256 {
  struct sha256_ctx ctx; /* Nettle's state */
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

/* Digest of everything readable from the open descriptor `fd` (from its
 * current offset), as hex, and the number of bytes in *size (may be NULL).
 * Returns 0, or -1 with errno set on a read error. */
int bs_sha256_fd(int fd, char hex[BS_SHA256_HEX], long long *size);

/* Digest of the regular file at `path` (opened and checked by
 * bs_input_open, fsio.h: never a FIFO, device or /proc file), as hex, and
 * its size in *size (may be NULL).  Returns 0, or -1 with errno set when
 * it cannot be read (bs_io_strerror gives the message). */
int bs_sha256_file(const char *path, char hex[BS_SHA256_HEX], long long *size);

/* The same, refused with EFBIG when larger than `max_bytes` (0: any). */
int bs_sha256_file_max(const char *path, uint64_t max_bytes,
                       char hex[BS_SHA256_HEX], long long *size);

#endif
