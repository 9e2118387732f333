// SPDX-License-Identifier: Apache-2.0
/* zcheck.c - checks of deflated streams shared by the tests; see
 * zcheck.h. */
#include "zcheck.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

bool
zcheck_reads_back(const unsigned char *z, size_t zlen,
                  const unsigned char *d, size_t n)
{
  /* one byte of room more than expected, so a longer stream shows */
  unsigned char *out = malloc(n + 1);
  if (!out)
    abort();
  uLongf got = (uLongf)n + 1;
  int r = uncompress(out, &got, z, (uLong)zlen);
  bool ok = r == Z_OK && got == n && memcmp(out, d, n) == 0;
  free(out);
  return ok;
}
