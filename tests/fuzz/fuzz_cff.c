// SPDX-License-Identifier: Apache-2.0
/* fuzz_cff.c - libFuzzer target: the CFF subsetter (pipeline/pdf/cff.c)
 * on a font program from the bytes.  Fonts are input too: a user maps a
 * role to any font file (--fonts), and its CFF program is read here.
 *
 * The first byte picks the glyphs to keep: (b & 31) + 1 of them, glyph 0
 * and then every ((b >> 5) + 1)-th; the rest is the CFF program.  The seed
 * is a 12-glyph CID-keyed program cut from Noto Serif CJK by fontTools,
 * with its global and local subroutines and hints.
 *
 * Besides the sanitizers' findings: a subset has the glyphs asked for,
 * .notdef first, in ascending order; its charset gives back the CIDs it
 * reported (bs_cff_codes); and it is a fixed point: cut again to all its
 * glyphs it comes out byte for byte the same (nothing is left to remove);
 * and cut again twice through one memo (the second cut fills it, the third
 * takes its glyphs from it, as a process's later documents do) it is the
 * same bytes.
 * A refused program leaves nothing allocated (LeakSanitizer). */
#include <string.h>

#include "fuzz.h"
#include "memo.h"
#include "pdf/cff.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  return 0;
}

static void
S_check(const bs_cff_subset *s, const uint32_t *gids, unsigned n)
{
  FUZZ_CHECK(s->n == n, "%u glyphs, %u asked for", s->n, n);
  for (unsigned i = 0; i < n; i++)
    FUZZ_CHECK(s->orig[i] == gids[i], "glyph %u is %u, not %u", i,
               (unsigned)s->orig[i], (unsigned)gids[i]);
  uint32_t *codes = calloc(n, sizeof *codes);
  FUZZ_CHECK(bs_cff_codes(s->data, s->len, codes, n),
             "the subset's charset cannot be read");
  FUZZ_CHECK(memcmp(codes, s->cid, n * sizeof *codes) == 0,
             "the charset does not give the CIDs reported");
  free(codes);
  uint32_t *all = calloc(n, sizeof *all);
  for (unsigned i = 0; i < n; i++)
    all[i] = i;
  bs_cff_subset again;
  bs_cff_status st = bs_cff_subset_make(s->data, s->len, all, n, NULL, &again);
  FUZZ_CHECK(st == BS_CFF_OK, "the subset cannot be cut again (%d)", st);
  FUZZ_CHECK(again.len == s->len && memcmp(again.data, s->data, s->len) == 0,
             "the subset cut again changed (%zu -> %zu bytes)", s->len,
             again.len);
  bs_cff_subset_free(&again);
  free(all);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  unsigned n = (data[0] & 31) + 1, step = (data[0] >> 5) + 1;
  uint32_t gids[32];
  for (unsigned i = 0; i < n; i++)
    gids[i] = i * step;
  bs_memo *memo = bs_memo_new(1u << 20);
  bs_cff_subset s;
  bs_cff_status st = bs_cff_subset_make(data + 1, size - 1, gids, n, memo, &s);
  if (st == BS_CFF_OK) {
    S_check(&s, gids, n);
    /* the second cut fills the memo, the third reads it */
    for (int k = 0; k < 2; k++) {
      bs_cff_subset w;
      st = bs_cff_subset_make(data + 1, size - 1, gids, n, memo, &w);
      FUZZ_CHECK(st == BS_CFF_OK,
                 "the program cannot be cut again through its memo (%d)", st);
      FUZZ_CHECK(w.len == s.len && memcmp(w.data, s.data, s.len) == 0,
                 "cut through its memo the subset changed (%zu -> %zu bytes)",
                 s.len, w.len);
      bs_cff_subset_free(&w);
    }
  } else {
    FUZZ_CHECK(s.data == NULL && s.orig == NULL && s.cid == NULL,
               "a refused program left a subset");
  }
  bs_cff_subset_free(&s);
  bs_memo_free(memo);
  return 0;
}
