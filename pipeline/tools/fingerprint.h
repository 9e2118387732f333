// SPDX-License-Identifier: Apache-2.0
/* fingerprint.h - XXH3-128 of files that are only checked for change.
 *
 * batch's up-to-date key (docs/batch.md) covers every file a document
 * depends on besides its source: the template, the font maps, the report
 * types and the font file of every role, about 115 MB with the default
 * CJK fonts.  The key detects change and is never recorded as a file's
 * digest, so it does not need a cryptographic hash: XXH3-128 from
 * libxxhash takes about 31 ms of CPU for those fonts where SHA-256 took
 * about 140 ms (both through read(); README,
 * Dependencies).  Digests that are recorded or archived (the PDF's and
 * the source's in stamps, BagIt manifests) stay SHA-256 (sha256.h).
 *
 * Layer 0 (base): docs/architecture.md. */
#ifndef BS_FINGERPRINT_H
#define BS_FINGERPRINT_H

#define BS_FINGERPRINT_HEX 33 /* 32 hex digits and a NUL */

/* The name of the hash, as the keys that use it write it. */
#define BS_FINGERPRINT_NAME "xxh3-128"

/* XXH3-128 of the regular file at `path` (opened and checked by
 * bs_input_open, fsio.h) as lower-case hex of its canonical big-endian
 * form (what xxhsum -H2 prints), and its size in *size (may be NULL).  A
 * file whose size changes while it is hashed is refused with
 * BS_E_CHANGED.  Returns 0, or -1 with errno set (bs_io_strerror gives
 * the message).  Safe to call from several threads. */
int bs_fingerprint_file(const char *path, char hex[BS_FINGERPRINT_HEX],
                        long long *size);

#endif
