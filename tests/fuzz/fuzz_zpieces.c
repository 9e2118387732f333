// SPDX-License-Identifier: Apache-2.0
/* fuzz_zpieces.c - libFuzzer target: deflate in content-defined pieces
 * (pipeline/zpieces.c) on the bytes, the way font programs are deflated.
 *
 * The first byte says where a variant of the rest differs: at
 * (b * length / 256) the variant has the first (b % 61) * 7 bytes again,
 * as a subset with a few more glyphs has a few more charstrings.
 *
 * Besides the sanitizers' findings: the output is a zlib stream that
 * zlib's own inflater reads back as the input; it is the same bytes with a
 * store of pieces and without, and again when its pieces come from the
 * store; the variant, deflated after it through the same store (some of
 * its pieces reused), is the bytes it gives alone and reads back as
 * itself.  libdeflate writes whole streams only, and each piece's blocks
 * are found by inflating it: this is where a mistake in that would show. */
#include <libdeflate.h>
#include <string.h>

#include "fuzz.h"
#include "zcheck.h"
#include "zpieces.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  return 0;
}

static void
S_same(const unsigned char *a, size_t alen, const unsigned char *b,
       size_t blen, const char *what)
{
  FUZZ_CHECK(a && b && alen == blen && memcmp(a, b, alen) == 0,
             "%s: %zu bytes against %zu", what, alen, blen);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  const uint8_t *d = data + 1;
  size_t n = size - 1;
  struct libdeflate_compressor *c = NULL;
  size_t l0, l1, l2;
  unsigned char *z0 = bs_zpieces_deflate(NULL, &c, d, n, &l0);
  FUZZ_CHECK(z0 != NULL, "no output for %zu bytes", n);
  FUZZ_CHECK(zcheck_reads_back(z0, l0, d, n), "%zu bytes do not read back",
             n);
  bs_zpieces *store = bs_zpieces_new(1u << 20);
  unsigned char *z1 = bs_zpieces_deflate(store, &c, d, n, &l1);
  S_same(z1, l1, z0, l0, "with a store");
  unsigned char *z2 = bs_zpieces_deflate(store, &c, d, n, &l2);
  S_same(z2, l2, z0, l0, "from the store");

  size_t at = (size_t)data[0] * n / 256, more = (size_t)(data[0] % 61) * 7;
  if (more > n)
    more = n;
  uint8_t *v = malloc(n + more + 1);
  memcpy(v, d, at);
  memcpy(v + at, d, more);
  memcpy(v + at + more, d + at, n - at);
  size_t lv, lv0;
  unsigned char *zv = bs_zpieces_deflate(store, &c, v, n + more, &lv);
  unsigned char *zv0 = bs_zpieces_deflate(NULL, &c, v, n + more, &lv0);
  S_same(zv, lv, zv0, lv0, "the variant through the store");
  FUZZ_CHECK(zcheck_reads_back(zv, lv, v, n + more),
             "the variant (%zu bytes) does not read back", n + more);
  free(z0);
  free(z1);
  free(z2);
  free(zv);
  free(zv0);
  free(v);
  bs_zpieces_free(store);
  libdeflate_free_compressor(c);
  return 0;
}
