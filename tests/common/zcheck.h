// SPDX-License-Identifier: Apache-2.0
/* zcheck.h - what the unit tests and the fuzz targets share to check a
 * deflated stream: plain C11 and zlib, no test harness, so it links into
 * the unit tests, the replay drivers and the libFuzzer targets alike. */
#ifndef BS_ZCHECK_H
#define BS_ZCHECK_H

#include <stdbool.h>
#include <stddef.h>

/* True when the zlib stream z (zlen bytes) inflates, by zlib's own
 * inflater, to exactly the n bytes at d: not one byte more or fewer. */
bool zcheck_reads_back(const unsigned char *z, size_t zlen,
                       const unsigned char *d, size_t n);

#endif
