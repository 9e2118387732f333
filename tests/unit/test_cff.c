// SPDX-License-Identifier: Apache-2.0
/* The CFF subsetter (pipeline/pdf/cff.c) on a real CID-keyed font and on
 * damaged programs.
 *
 * cff_subset: Noto Serif CJK's CFF program (the default Song face) cut to
 * every 37th glyph.  The subset's glyphs are the ones asked for, .notdef
 * first, with the CIDs that bs_cff_codes reads back from the subset; and a
 * subset is a fixed point: cutting it again to all its glyphs gives the
 * same bytes (no subroutine or hint is left to remove, nothing else
 * changes).  Then the subset truncated at 300 lengths must be refused as
 * malformed, 3,000 copies with one byte changed (positions and values from
 * a fixed seed) of a 100-glyph subset must not crash the subsetter (the ASan+UBSan build runs
 * this), and the same program with its ROS operator renamed is a
 * name-keyed font, left to HarfBuzz (BS_CFF_UNSUPPORTED), as is a glyph
 * whose flattened charstring would pass 65,535 bytes (a program built
 * here, whose one glyph calls a subroutine 200 or 300 times).  The
 * subset made with the charstrings read from the font file (pread, as
 * render_pdf.c does) is the same bytes, and so is one whose file comes
 * short (an empty file: the program's bytes are read instead).
 * tests/cffcheck.py
 * (the `cff` group) compares the glyphs' outlines with fontTools.
 *
 * cff_memo: subsets of two overlapping glyph sets made through one memo
 * (bs_memo, as every document of a process shares the font's) are the
 * bytes each makes alone, whether the memo is unused (the first subset
 * leaves it empty), empty, holds part of the glyphs or all of them, is
 * full (a bound of 20 KB), is filled by two threads at once (reading the
 * charstrings through one descriptor of the font file), or was first
 * given another program (then it is not used). */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "memo.h"
#include "pdf/cff.h"
#include "util.h"

void test_cff_subset(test_state *st);
void test_cff_memo(test_state *st);

#define S_NOTO "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"

static uint32_t
S_u32(const unsigned char *d)
{
  return (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 |
         d[3];
}

/* The CFF table of face `index` of an OpenType collection. */
static const unsigned char *
S_cff_table(const unsigned char *d, size_t len, unsigned index, size_t *n)
{
  if (len < 12 || memcmp(d, "ttcf", 4) != 0 || index >= S_u32(d + 8) ||
      16 + 4 * (size_t)index > len)
    return NULL;
  size_t font = S_u32(d + 12 + 4 * index);
  if (font + 12 > len)
    return NULL;
  unsigned tables = (unsigned)(d[font + 4] << 8 | d[font + 5]);
  for (unsigned t = 0; t < tables; t++) {
    const unsigned char *rec = d + font + 12 + 16 * (size_t)t;
    if ((size_t)(rec + 16 - d) > len)
      return NULL;
    if (memcmp(rec, "CFF ", 4) == 0) {
      size_t off = S_u32(rec + 8);
      *n = S_u32(rec + 12);
      return off + *n <= len ? d + off : NULL;
    }
  }
  return NULL;
}

/* Every glyph of the subset, 0 .. n-1. */
static uint32_t *
S_all(unsigned n)
{
  uint32_t *g = calloc(n, sizeof *g);
  for (unsigned i = 0; i < n; i++)
    g[i] = i;
  return g;
}

static void
S_damaged(test_state *st, const bs_cff_subset *sub)
{
  uint32_t *all = S_all(sub->n);
  bs_cff_subset again;
  int refused = 0;
  for (int k = 1; k <= 300; k++) {
    size_t cut = sub->len * (size_t)k / 301;
    refused += bs_cff_subset_make(sub->data, cut, all, sub->n, NULL, &again) ==
               BS_CFF_MALFORMED;
    CHECK(st, again.data == NULL, "a refused subset left data");
  }
  CHECK_INT(st, refused, 300);
  unsigned char *copy = malloc(sub->len);
  uint64_t seed = 20211231;
  for (int k = 0; k < 3000; k++) {
    memcpy(copy, sub->data, sub->len);
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    copy[(seed >> 33) % sub->len] = (unsigned char)(seed >> 13);
    if (bs_cff_subset_make(copy, sub->len, all, sub->n, NULL, &again) == BS_CFF_OK)
      bs_cff_subset_free(&again);
  }
  /* the ROS operator (12 30) of the Top DICT renamed: name-keyed */
  memcpy(copy, sub->data, sub->len);
  unsigned char *ros = NULL;
  for (size_t i = 0; i + 1 < sub->len && i < 200 && !ros; i++)
    if (copy[i] == 12 && copy[i + 1] == 30)
      ros = copy + i;
  CHECK(st, ros != NULL, "no ROS operator in the subset's Top DICT");
  if (ros) {
    ros[1] = 31; /* CIDFontVersion */
    CHECK_INT(st, bs_cff_subset_make(copy, sub->len, all, sub->n, NULL, &again),
              BS_CFF_UNSUPPORTED);
    uint32_t codes[4];
    CHECK(st, bs_cff_codes(copy, sub->len, codes, 4) && codes[3] == 3,
          "a name-keyed program's codes are its glyph indices");
  }
  free(copy);
  free(all);
}

/* A CID-keyed program built here: glyph 1 is an rmoveto and `calls`
 * calls of one global subroutine of 100 rlinetos (300 bytes). */
static unsigned char *
S_synthetic(int calls, size_t *len)
{
  enum { SUBR = 301 };
  size_t glyph = 3 + 2 * (size_t)calls + 1;
  size_t at_charset = 63 + SUBR, at_fdsel = at_charset + 3,
         at_cs = at_fdsel + 3, at_fda = at_cs + 9 + 1 + glyph,
         at_priv = at_fda + 16;
  unsigned char *d = calloc(at_priv, 1), *q = d;
#define S_B(...)                                                               \
  do {                                                                         \
    const unsigned char b_[] = {__VA_ARGS__};                                  \
    memcpy(q, b_, sizeof b_);                                                  \
    q += sizeof b_;                                                            \
  } while (0)
#define S_I5(v) S_B(29, 0, (unsigned char)((v) >> 16), (unsigned char)((v) >> 8), \
                   (unsigned char)(v))
  S_B(1, 0, 4, 4, 0, 1, 1, 1, 2, 'x'); /* header, Name INDEX */
  S_B(0, 1, 1, 1, 40);                 /* Top DICT INDEX: 39 bytes */
  S_I5(391);
  S_I5(392);
  S_B(139, 12, 30); /* ROS */
  S_I5(at_charset);
  S_B(15);
  S_I5(at_cs);
  S_B(17);
  S_I5(at_fdsel);
  S_B(12, 37);
  S_I5(at_fda);
  S_B(12, 36);
  S_B(0, 0);                                 /* String INDEX */
  S_B(0, 1, 2, 0, 1, (SUBR + 1) >> 8, (SUBR + 1) & 0xFF); /* Global Subrs */
  for (int k = 0; k < 100; k++)
    S_B(139, 139, 5); /* 0 0 rlineto */
  S_B(11);
  S_B(0, 0, 1);    /* charset: glyph 1 is CID 1 */
  S_B(0, 0, 0);    /* FDSelect: both glyphs in FD 0 */
  S_B(0, 2, 2, 0, 1, 0, 2, (unsigned char)((glyph + 2) >> 8),
      (unsigned char)(glyph + 2));
  S_B(14);          /* .notdef: endchar */
  S_B(139, 139, 21); /* 0 0 rmoveto */
  for (int k = 0; k < calls; k++)
    S_B(32, 29); /* -107 callgsubr: subroutine 0 */
  S_B(14);
  S_B(0, 1, 1, 1, 12); /* FDArray: one Font DICT, an empty Private */
  S_I5(0);
  S_I5(at_priv);
  S_B(18);
#undef S_I5
#undef S_B
  *len = (size_t)(q - d);
  return d;
}

void
test_cff_subset(test_state *st)
{
  /* a charstring flattened past 65,535 bytes is left to HarfBuzz */
  uint32_t one[2] = {0, 1};
  for (int calls = 200; calls <= 300; calls += 100) {
    size_t slen;
    unsigned char *syn = S_synthetic(calls, &slen);
    bs_cff_subset ss;
    bs_cff_status got = bs_cff_subset_make(syn, slen, one, 2, NULL, &ss);
    CHECK_INT(st, got, calls == 200 ? BS_CFF_OK : BS_CFF_UNSUPPORTED);
    if (got == BS_CFF_OK)
      CHECK(st, ss.len > 60000 && ss.len < 61000, "flattened: %zu bytes",
            ss.len);
    bs_cff_subset_free(&ss);
    free(syn);
  }

  size_t flen = 0;
  unsigned char *file = bs_read_file(S_NOTO, 64u << 20, &flen);
  CHECK(st, file != NULL, "cannot read " S_NOTO " (fonts-noto-cjk)");
  if (!file)
    return;
  size_t len = 0;
  const unsigned char *cff = S_cff_table(file, flen, 2, &len);
  CHECK(st, cff != NULL, "no CFF table in face 2 of " S_NOTO);
  if (!cff) {
    free(file);
    return;
  }
  uint32_t gids[2000];
  unsigned n = 0;
  for (uint32_t g = 0; g < 65535 && n < 2000; g += 37)
    gids[n++] = g;
  bs_cff_subset sub;
  CHECK_INT(st, bs_cff_subset_make(cff, len, gids, n, NULL, &sub), BS_CFF_OK);
  CHECK_INT(st, sub.n, n); /* glyph 0 was among them */
  for (unsigned i = 0; i < sub.n && i < n; i++)
    if (sub.orig[i] != gids[i]) {
      CHECK_INT(st, sub.orig[i], gids[i]);
      break;
    }
  uint32_t *codes = calloc(sub.n, sizeof *codes);
  CHECK(st, bs_cff_codes(sub.data, sub.len, codes, sub.n),
        "the subset's charset cannot be read");
  CHECK(st, memcmp(codes, sub.cid, sub.n * sizeof *codes) == 0,
        "the subset's charset does not give the CIDs it reported");
  free(codes);

  /* the charstrings read from the file (pread), as render_pdf.c does:
   * the same bytes; a file that comes short (here an empty one) is left
   * for the program's bytes, with the same result */
  const char *files[2] = {S_NOTO, "/dev/null"};
  for (int k = 0; k < 2; k++) {
    int fd = open(files[k], O_RDONLY | O_CLOEXEC);
    CHECK(st, fd >= 0, "cannot open %s", files[k]);
    bs_cff_subset viafd;
    CHECK_INT(st,
              bs_cff_subset_make_fd(cff, len, fd, (uint64_t)(cff - file),
                                    gids, n, NULL, &viafd),
              BS_CFF_OK);
    CHECK(st,
          viafd.len == sub.len && memcmp(viafd.data, sub.data, sub.len) == 0,
          "the subset read through %s differs", files[k]);
    bs_cff_subset_free(&viafd);
    if (fd >= 0)
      close(fd);
  }

  uint32_t *all = S_all(sub.n);
  bs_cff_subset again;
  CHECK_INT(st, bs_cff_subset_make(sub.data, sub.len, all, sub.n, NULL, &again),
            BS_CFF_OK);
  CHECK(st, again.len == sub.len && memcmp(again.data, sub.data, sub.len) == 0,
        "a subset cut again to all its glyphs changed");
  bs_cff_subset_free(&again);
  free(all);

  /* out of order, or beyond the font: refused, nothing left behind */
  uint32_t bad[2] = {40, 20};
  CHECK_INT(st, bs_cff_subset_make(cff, len, bad, 2, NULL, &again),
            BS_CFF_MALFORMED);
  bad[0] = 70000;
  CHECK_INT(st, bs_cff_subset_make(cff, len, bad, 1, NULL, &again),
            BS_CFF_MALFORMED);
  CHECK(st, again.data == NULL && again.orig == NULL, "refusal left data");

  /* damage a smaller program of the subset's first 100 glyphs */
  all = S_all(100);
  CHECK_INT(st, bs_cff_subset_make(sub.data, sub.len, all, 100, NULL, &again),
            BS_CFF_OK);
  free(all);
  bs_cff_subset_free(&sub);
  if (again.data)
    S_damaged(st, &again);
  bs_cff_subset_free(&again);
  free(file);
}

/* The glyphs below 6,000 that are multiples of k (glyph 0 among them). */
static unsigned
S_multiples(unsigned k, uint32_t *g)
{
  unsigned n = 0;
  for (uint32_t x = 0; x < 6000; x += k)
    g[n++] = x;
  return n;
}

static bool
S_same(const bs_cff_subset *a, const bs_cff_subset *b)
{
  return a->len == b->len && a->n == b->n &&
         memcmp(a->data, b->data, a->len) == 0 &&
         memcmp(a->cid, b->cid, a->n * sizeof *a->cid) == 0 &&
         memcmp(a->orig, b->orig, a->n * sizeof *a->orig) == 0;
}

/* One thread's subsets: the set, then the other set, through one memo. */
typedef struct S_job {
  const unsigned char *cff;
  size_t len;
  const uint32_t *g[2];
  unsigned n[2];
  bs_memo *memo;
  int file;    /* the font file, shared by the threads */
  uint64_t at; /* the program in it */
  bs_cff_subset out[2];
  bs_cff_status st[2];
} S_job;

static void *
S_run(void *arg)
{
  S_job *j = arg;
  for (int k = 0; k < 2; k++)
    j->st[k] = bs_cff_subset_make_fd(j->cff, j->len, j->file, j->at, j->g[k],
                                     j->n[k], j->memo, &j->out[k]);
  return NULL;
}

void
test_cff_memo(test_state *st)
{
  size_t flen = 0;
  unsigned char *file = bs_read_file(S_NOTO, 64u << 20, &flen);
  CHECK(st, file != NULL, "cannot read " S_NOTO " (fonts-noto-cjk)");
  if (!file)
    return;
  size_t len = 0;
  const unsigned char *cff = S_cff_table(file, flen, 2, &len);
  CHECK(st, cff != NULL, "no CFF table in face 2 of " S_NOTO);
  if (!cff) {
    free(file);
    return;
  }
  /* A: every 3rd glyph, B: every 5th; every 15th is in both */
  static uint32_t ga[2000], gb[1200];
  unsigned na = S_multiples(3, ga), nb = S_multiples(5, gb);
  unsigned both = 400; /* 0, 15, .. 5985 */
  bs_cff_subset alone_a, alone_b, got;
  CHECK_INT(st, bs_cff_subset_make(cff, len, ga, na, NULL, &alone_a),
            BS_CFF_OK);
  CHECK_INT(st, bs_cff_subset_make(cff, len, gb, nb, NULL, &alone_b),
            BS_CFF_OK);

  /* the first use leaves the memo empty, the second fills it with B, the
   * third takes part of A from it and adds the rest, the fourth takes all
   * of B from it */
  bs_memo *m = bs_memo_new(4u << 20);
  CHECK_INT(st, bs_cff_subset_make(cff, len, ga, na, m, &got), BS_CFF_OK);
  CHECK(st, S_same(&got, &alone_a), "A through an unused memo differs");
  bs_cff_subset_free(&got);
  CHECK_INT(st, bs_memo_count(m, NULL), 0);
  CHECK_INT(st, bs_cff_subset_make(cff, len, gb, nb, m, &got), BS_CFF_OK);
  CHECK(st, S_same(&got, &alone_b), "B through an empty memo differs");
  bs_cff_subset_free(&got);
  CHECK_INT(st, bs_memo_count(m, NULL), nb);
  CHECK_INT(st, bs_cff_subset_make(cff, len, ga, na, m, &got), BS_CFF_OK);
  CHECK(st, S_same(&got, &alone_a), "A after B through one memo differs");
  bs_cff_subset_free(&got);
  CHECK_INT(st, bs_memo_count(m, NULL), na + nb - both);
  CHECK_INT(st, bs_cff_subset_make(cff, len, gb, nb, m, &got), BS_CFF_OK);
  CHECK(st, S_same(&got, &alone_b), "B from the memo alone differs");
  bs_cff_subset_free(&got);

  /* another program (the subset A) is not served by m: the same bytes as
   * without a memo, and nothing added */
  bs_cff_subset sub_alone;
  uint32_t *all = S_all(100);
  CHECK_INT(st,
            bs_cff_subset_make(alone_a.data, alone_a.len, all, 100, NULL,
                               &sub_alone),
            BS_CFF_OK);
  CHECK_INT(st,
            bs_cff_subset_make(alone_a.data, alone_a.len, all, 100, m, &got),
            BS_CFF_OK);
  CHECK(st, S_same(&got, &sub_alone), "another program's glyphs were used");
  CHECK_INT(st, bs_memo_count(m, NULL), na + nb - both);
  CHECK_INT(st, bs_memo_claim(m, alone_a.data, alone_a.len), -1);
  bs_cff_subset_free(&got);
  bs_cff_subset_free(&sub_alone);
  free(all);
  bs_memo_free(m);

  /* a memo that fills after a few dozen glyphs */
  m = bs_memo_new(20000);
  for (int k = 0; k < 2; k++) {
    CHECK_INT(st, bs_cff_subset_make(cff, len, ga, na, m, &got), BS_CFF_OK);
    CHECK(st, S_same(&got, &alone_a), "A through a full memo differs");
    bs_cff_subset_free(&got);
    CHECK_INT(st, bs_cff_subset_make(cff, len, gb, nb, m, &got), BS_CFF_OK);
    CHECK(st, S_same(&got, &alone_b), "B through a full memo differs");
    bs_cff_subset_free(&got);
  }
  size_t bytes = 0, count = bs_memo_count(m, &bytes);
  CHECK(st, count > 10 && count < na && bytes <= 20000,
        "a memo of 20,000 bytes holds %zu glyphs, %zu bytes", count, bytes);
  bs_memo_free(m);

  /* two threads through one memo, A then B and B then A, reading the
   * charstrings through one descriptor of the font file */
  m = bs_memo_new(4u << 20);
  int fd = open(S_NOTO, O_RDONLY | O_CLOEXEC);
  uint64_t at = (uint64_t)(cff - file);
  S_job jobs[2] = {
      {cff, len, {ga, gb}, {na, nb}, m, fd, at, {{0}}, {0}},
      {cff, len, {gb, ga}, {nb, na}, m, fd, at, {{0}}, {0}},
  };
  pthread_t t[2];
  for (int k = 0; k < 2; k++)
    pthread_create(&t[k], NULL, S_run, &jobs[k]);
  for (int k = 0; k < 2; k++)
    pthread_join(t[k], NULL);
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < 2; i++) {
      CHECK_INT(st, jobs[k].st[i], BS_CFF_OK);
      CHECK(st,
            S_same(&jobs[k].out[i], jobs[k].g[i] == ga ? &alone_a : &alone_b),
            "thread %d, subset %d differs", k, i);
      bs_cff_subset_free(&jobs[k].out[i]);
    }
  CHECK_INT(st, bs_memo_count(m, NULL), na + nb - both);
  bs_memo_free(m);
  if (fd >= 0)
    close(fd);

  bs_cff_subset_free(&alone_a);
  bs_cff_subset_free(&alone_b);
  free(file);
}
