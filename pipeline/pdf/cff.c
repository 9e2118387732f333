// SPDX-License-Identifier: Apache-2.0
/* cff.c - a subsetter for CID-keyed CFF font programs (the CJK fonts of
 * the Source Han / Noto CJK family), for PDF's FontFile3 /CIDFontType0C.
 *
 * Design.  A PDF needs only the CFF program of an OpenType CFF font, and
 * only the glyphs its pages draw.  HarfBuzz's general subsetter does this
 * too, but it plans a whole OpenType font (every table, glyph closure,
 * name and charset handling) and costs a one-document run about a fifth of
 * its instructions; this file does the one job directly, in one pass over
 * the glyphs it keeps.  The result has the same form as HarfBuzz's with
 * HB_SUBSET_FLAGS_DESUBROUTINIZE and NO_HINTING, as render_pdf.c asked of
 * it before:
 *
 *   - each kept glyph's Type 2 charstring with its subroutine calls
 *     replaced by the subroutines' bytes (the number before callsubr or
 *     callgsubr is dropped, the body copied without its `return`), so no
 *     Global or Local Subrs are written: a CJK font's subroutines serve
 *     65,000 glyphs, and a document uses a few hundred;
 *   - without stem hints and hint masks (hstem, vstem, hstemhm, vstemhm,
 *     hintmask, cntrmask and their operands), keeping an advance width
 *     that was the first operand of a dropped hint;
 *   - glyph 0 (.notdef) first, then the kept glyphs in the font's order;
 *     the charset keeps each glyph's CID, so a content stream's codes stay
 *     the font's CIDs, and FDSelect maps each glyph to its Font DICT;
 *   - the Name and String INDEXes as they were, the Top DICT without the
 *     font's unique identifiers (a subset is another program), the Font
 *     DICTs that kept glyphs use and their Private DICTs without Subrs.
 *
 * The charstring is walked, not interpreted: only numbers (to find the
 * subroutine number and count the stems a hint mask covers) and operators
 * are decoded.  What a walk cannot follow is left to the general
 * subsetter (BS_CFF_UNSUPPORTED): a name-keyed font, a seac accent
 * (endchar with 4 operands), a subroutine number made by an arithmetic
 * operator, or a glyph whose flattened charstring would be longer than
 * the 65,535 bytes a charstring may have.  Every offset is checked
 * against the program's length; subroutine nesting stops at 10 (Type 2
 * charstring format, appendix B) and each glyph's walk at a budget of
 * operators, so a hostile font can make it neither loop nor grow without
 * bound.  References: Adobe TN 5176 (CFF) and TN 5177 (Type 2 charstrings).
 *
 * Layer 10 (renderers): docs/architecture.md. */
#include "cff.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "memo.h"

/* ------------------------------------------------------------------ */
/* Reading                                                              */

static uint32_t
S_get(const uint8_t *d, size_t at, unsigned size)
{
  uint32_t v = 0;
  for (unsigned k = 0; k < size; k++)
    v = v << 8 | d[at + k];
  return v;
}

/* An integer in one of the forms DICTs and Type 2 charstrings share:
 * 28 and two bytes, or one byte 32-246, or two bytes 247-254 (TN 5176
 * table 3, TN 5177 section 3.2); the bytes at q are known to be there. */
static long
S_small_int(const uint8_t *q)
{
  if (q[0] == 28)
    return (long)S_get(q, 1, 2) - (q[1] & 0x80 ? 0x10000 : 0);
  if (q[0] <= 246)
    return q[0] - 139;
  if (q[0] <= 250)
    return (q[0] - 247) * 256 + q[1] + 108;
  return -(q[0] - 251) * 256 - q[1] - 108;
}

/* An INDEX: count items; item i is bytes base+off[i] .. base+off[i+1]. */
typedef struct S_index {
  unsigned count;
  unsigned offsize;
  size_t offsets; /* the offset array */
  size_t base;    /* the byte before the data: offsets count from 1 */
  size_t start;   /* the INDEX itself: start .. end */
  size_t end;
} S_index;

static bool
S_index_at(const uint8_t *d, size_t len, size_t p, S_index *ix)
{
  memset(ix, 0, sizeof *ix);
  ix->start = p;
  if (p > len || len - p < 2)
    return false;
  ix->count = S_get(d, p, 2);
  if (ix->count == 0) {
    ix->end = p + 2;
    return true;
  }
  if (len - p < 3)
    return false;
  ix->offsize = d[p + 2];
  if (ix->offsize < 1 || ix->offsize > 4)
    return false;
  ix->offsets = p + 3;
  size_t arr = (size_t)(ix->count + 1) * ix->offsize;
  if (len - ix->offsets < arr)
    return false;
  ix->base = ix->offsets + arr - 1;
  uint32_t last =
      S_get(d, ix->offsets + (size_t)ix->count * ix->offsize, ix->offsize);
  if (last < 1 || last > len - ix->base)
    return false;
  ix->end = ix->base + last;
  return true;
}

static bool
S_item(const uint8_t *d, const S_index *ix, unsigned i, size_t *s, size_t *e)
{
  if (i >= ix->count)
    return false;
  uint32_t a = S_get(d, ix->offsets + (size_t)i * ix->offsize, ix->offsize);
  uint32_t b =
      S_get(d, ix->offsets + (size_t)(i + 1) * ix->offsize, ix->offsize);
  if (a < 1 || a > b || b > ix->end - ix->base)
    return false;
  *s = ix->base + a;
  *e = ix->base + b;
  return true;
}

/* One DICT entry: its operands and operator (TN 5176, section 4). */
typedef struct S_entry {
  int op;            /* 0-21, or 1200 + the byte after the escape 12 */
  size_t start, end; /* the entry's bytes */
  int n;             /* operands */
  long arg[48];      /* their values; a real number reads as 0 */
} S_entry;

/* The entry at *p (before e): 1 and *p past it, 0 at the end of the DICT,
 * -1 when the bytes are not a DICT. */
static int
S_dict_next(const uint8_t *d, size_t *p, size_t e, S_entry *en)
{
  size_t s = *p;
  if (s >= e)
    return 0;
  en->start = s;
  en->n = 0;
  while (s < e) {
    uint8_t b = d[s];
    if (b <= 21) {
      if (b == 12 && e - s < 2)
        return -1;
      en->op = b == 12 ? 1200 + d[s + 1] : b;
      s += b == 12 ? 2 : 1;
      en->end = *p = s;
      return 1;
    }
    long v = 0;
    size_t w = b == 28 ? 3 : b == 29 ? 5 : b <= 246 ? 1 : 2;
    if (b == 30) {
      for (w = 1; s + w < e; w++)
        if ((d[s + w] & 0x0F) == 0x0F || (d[s + w] >> 4) == 0x0F)
          break;
      w++;
    } else if (b == 31 || b == 255 || (b > 21 && b < 28)) {
      return -1;
    }
    if (e - s < w)
      return -1;
    if (b == 29)
      v = (long)S_get(d, s + 1, 4) - (d[s + 1] & 0x80 ? 0x100000000L : 0);
    else if (b != 30)
      v = S_small_int(d + s);
    if (en->n == 48)
      return -1;
    en->arg[en->n++] = v;
    s += w;
  }
  return -1; /* operands without an operator */
}

/* A Font DICT of the FDArray, its Private DICT and local subroutines. */
typedef struct S_fd {
  size_t font_s, font_e; /* the Font DICT */
  size_t priv, priv_e;   /* the Private DICT */
  S_index subrs;
  bool has_subrs;
  unsigned bias;
  int renum; /* its index in the subset's FDArray; -1: unused */
} S_fd;

typedef struct S_font {
  const uint8_t *d;
  size_t len;
  S_index names, top, strings, gsubrs, charstrings, fdarray;
  size_t top_s, top_e;
  long charset, fdselect, cs_off, fda_off;
  bool ros;
  unsigned nfd;
  S_fd *fd;
} S_font;

/* The bias added to a subroutine number (TN 5177, section 4.7). */
static unsigned
S_bias(unsigned count)
{
  return count < 1240 ? 107 : count < 33900 ? 1131 : 32768;
}

static bool
S_offset_ok(const S_font *f, long off)
{
  return off > 0 && (unsigned long)off < f->len;
}

/* The Top DICT: whether the font is CID-keyed, and its offsets. */
static bs_cff_status
S_read_top(S_font *f)
{
  size_t p = f->top_s;
  S_entry en;
  int r;
  while ((r = S_dict_next(f->d, &p, f->top_e, &en)) > 0) {
    long last = en.n ? en.arg[en.n - 1] : -1;
    if (en.op == 1230)
      f->ros = true;
    else if (en.op == 15)
      f->charset = last;
    else if (en.op == 17)
      f->cs_off = last;
    else if (en.op == 1236)
      f->fda_off = last;
    else if (en.op == 1237)
      f->fdselect = last;
    else if (en.op == 1206 && last != 2)
      return BS_CFF_UNSUPPORTED; /* a Type 1 charstring font */
  }
  if (r < 0)
    return BS_CFF_MALFORMED;
  return f->ros ? BS_CFF_OK : BS_CFF_UNSUPPORTED;
}

/* Each Font DICT's Private DICT and local subroutines. */
static bs_cff_status
S_read_fds(S_font *f)
{
  f->nfd = f->fdarray.count;
  if (f->nfd < 1 || f->nfd > 256)
    return BS_CFF_MALFORMED;
  f->fd = bs_xcalloc(f->nfd, sizeof *f->fd);
  for (unsigned i = 0; i < f->nfd; i++) {
    S_fd *fd = &f->fd[i];
    fd->renum = -1;
    if (!S_item(f->d, &f->fdarray, i, &fd->font_s, &fd->font_e))
      return BS_CFF_MALFORMED;
    size_t p = fd->font_s;
    S_entry en;
    int r;
    long size = -1, off = -1;
    while ((r = S_dict_next(f->d, &p, fd->font_e, &en)) > 0)
      if (en.op == 18 && en.n == 2) {
        size = en.arg[0];
        off = en.arg[1];
      }
    /* an empty Private DICT may sit at the very end */
    if (r < 0 || size < 0 || off < 0 || (unsigned long)off > f->len ||
        (unsigned long)size > f->len - (unsigned long)off)
      return BS_CFF_MALFORMED;
    fd->priv = (size_t)off;
    fd->priv_e = fd->priv + (size_t)size;
    p = fd->priv;
    while ((r = S_dict_next(f->d, &p, fd->priv_e, &en)) > 0)
      if (en.op == 19 && en.n == 1) {
        if (en.arg[0] <= 0 ||
            !S_index_at(f->d, f->len, fd->priv + (size_t)en.arg[0],
                        &fd->subrs))
          return BS_CFF_MALFORMED;
        fd->has_subrs = true;
        fd->bias = S_bias(fd->subrs.count);
      }
    if (r < 0)
      return BS_CFF_MALFORMED;
  }
  return BS_CFF_OK;
}

static bs_cff_status
S_open(const uint8_t *d, size_t len, S_font *f)
{
  memset(f, 0, sizeof *f);
  f->d = d;
  f->len = len;
  if (len < 4 || d[0] != 1 || d[2] < 4 || d[2] > len)
    return BS_CFF_MALFORMED;
  if (!S_index_at(d, len, d[2], &f->names) ||
      !S_index_at(d, len, f->names.end, &f->top) ||
      !S_index_at(d, len, f->top.end, &f->strings) ||
      !S_index_at(d, len, f->strings.end, &f->gsubrs) ||
      f->names.count != 1 || f->top.count != 1 ||
      !S_item(d, &f->top, 0, &f->top_s, &f->top_e))
    return BS_CFF_MALFORMED; /* one font per program, as OpenType has */
  bs_cff_status st = S_read_top(f);
  if (st != BS_CFF_OK)
    return st;
  if (f->charset <= 2 || !S_offset_ok(f, f->charset) ||
      !S_offset_ok(f, f->fdselect) || !S_offset_ok(f, f->cs_off) ||
      !S_offset_ok(f, f->fda_off) ||
      !S_index_at(d, len, (size_t)f->cs_off, &f->charstrings) ||
      !S_index_at(d, len, (size_t)f->fda_off, &f->fdarray) ||
      f->charstrings.count < 1)
    return BS_CFF_MALFORMED;
  return S_read_fds(f);
}

/* The charset or FDSelect, read glyph by glyph in ascending order: the
 * range that holds the last glyph asked for is kept. */
typedef struct S_walk {
  size_t p;        /* the next range */
  uint32_t first;  /* the first glyph of the current range */
  uint32_t count;  /* its glyphs */
  uint32_t value;  /* the first glyph's CID, or the range's FD */
} S_walk;

/* The CID of glyph g (> 0, ascending across calls), or -1. */
static long
S_cid(const uint8_t *d, size_t len, size_t charset, uint32_t g, S_walk *w)
{
  uint8_t fmt = d[charset];
  if (fmt == 0) {
    size_t at = charset + 1 + 2 * (size_t)(g - 1);
    return at + 2 <= len ? (long)S_get(d, at, 2) : -1;
  }
  if (fmt != 1 && fmt != 2)
    return -1;
  if (w->p == 0) {
    w->p = charset + 1;
    w->first = 1;
  }
  size_t rl = fmt == 1 ? 3 : 4;
  while (g >= w->first + w->count) {
    if (w->p + rl > len)
      return -1;
    w->first += w->count;
    w->value = S_get(d, w->p, 2);
    w->count = S_get(d, w->p + 2, rl - 2) + 1;
    w->p += rl;
  }
  return (long)(w->value + (g - w->first));
}

/* The FD of glyph g (ascending across calls), or -1. */
static int
S_fd_of(const S_font *f, uint32_t g, S_walk *w)
{
  const uint8_t *d = f->d;
  size_t at = (size_t)f->fdselect;
  if (d[at] == 0)
    return at + 1 + g < f->len ? d[at + 1 + g] : -1;
  if (d[at] != 3 || at + 3 > f->len)
    return -1;
  unsigned nranges = S_get(d, at + 1, 2);
  if (w->p == 0)
    w->p = at + 3;
  size_t end = at + 3 + 3 * (size_t)nranges; /* the sentinel */
  if (end + 2 > f->len)
    return -1;
  for (;;) {
    if (w->p >= end || S_get(d, w->p, 2) > g)
      return -1;
    uint32_t next = S_get(d, w->p + 3, 2); /* next range, or sentinel */
    if (g < next)
      return d[w->p + 2];
    w->p += 3;
  }
}

/* ------------------------------------------------------------------ */
/* Writing                                                              */

typedef struct S_buf {
  uint8_t *p;
  size_t len, cap;
} S_buf;

static void
S_put(S_buf *b, const void *src, size_t n)
{
  if (b->len + n > b->cap) {
    b->cap = (b->len + n) * 2 + 256;
    b->p = bs_xrealloc(b->p, b->cap);
  }
  if (n)
    memcpy(b->p + b->len, src, n);
  b->len += n;
}

/* v as `size` bytes, big-endian */
static void
S_putn(S_buf *b, uint32_t v, unsigned size)
{
  uint8_t t[4];
  for (unsigned k = 0; k < size; k++)
    t[k] = (uint8_t)(v >> (8 * (size - 1 - k)));
  S_put(b, t, size);
}

/* A DICT integer in its 5-byte form, so that an offset written later
 * does not change the DICT's length; returns where its value goes. */
static size_t
S_put_int5(S_buf *b, uint32_t v)
{
  uint8_t op = 29;
  S_put(b, &op, 1);
  size_t at = b->len;
  S_putn(b, v, 4);
  return at;
}

static void
S_set_int5(S_buf *b, size_t at, size_t v)
{
  for (unsigned k = 0; k < 4; k++)
    b->p[at + k] = (uint8_t)(v >> (8 * (3 - k)));
}

static void
S_put_op(S_buf *b, int op)
{
  uint8_t t[2] = {12, (uint8_t)(op - 1200)};
  if (op >= 1200)
    S_put(b, t, 2);
  else
    S_putn(b, (uint32_t)op, 1);
}

/* An INDEX of count items, item i being data[off[i] .. off[i+1]]. */
static void
S_put_index(S_buf *b, const uint8_t *data, const size_t *off,
            unsigned count)
{
  S_putn(b, count, 2);
  if (count == 0)
    return;
  size_t last = off[count] + 1;
  unsigned os = last <= 0xFF ? 1 : last <= 0xFFFF ? 2 : last <= 0xFFFFFF ? 3 : 4;
  S_putn(b, os, 1);
  for (unsigned i = 0; i <= count; i++)
    S_putn(b, (uint32_t)(off[i] + 1), os);
  S_put(b, data, off[count]);
}

/* ------------------------------------------------------------------ */
/* Charstrings                                                          */

/* One glyph's charstring being flattened into `out`. */
typedef struct S_cs {
  const uint8_t *d; /* the program: the subroutines are read here */
  const S_index *gsubrs, *lsubrs; /* lsubrs NULL: its FD has none */
  unsigned gbias, lbias;
  S_buf *out;
  size_t arg_start;  /* where the operands of the next operator begin */
  int nargs;         /* how many */
  size_t first_len;  /* bytes of the first of them */
  int wargs;         /* 1: the first is a width a dropped hint left */
  size_t wlen;       /* its bytes */
  unsigned stems;    /* stem hints so far: a hint mask has a bit each */
  bool cleared;      /* the first stack-clearing operator has been seen */
  bool done;         /* endchar */
  unsigned long budget; /* operators left to walk in this glyph */
  size_t start;         /* where its charstring begins in `out` */
} S_cs;

/* The longest charstring (TN 5177, appendix B): a glyph whose flattened
 * charstring would be longer is left to the general subsetter, which keeps
 * subroutines; a hostile font cannot make the output grow without bound. */
#define S_CS_MAX 65535

/* A stem hint or hint mask, dropped.  Its operands are stems (two
 * numbers each); before the first stack-clearing operator an odd count
 * means the first is the glyph's advance width, which stays for the next
 * operator to carry (TN 5177, section 4.1), and counts among its operands
 * (an endchar after it with 3 more is an accent, as it would be after a
 * width of its own). */
static void
S_drop_hint(S_cs *c)
{
  int own = c->nargs - c->wargs;
  if (!c->cleared && own % 2 == 1) {
    c->wargs = 1;
    c->wlen = c->first_len;
  }
  c->stems += (unsigned)(own / 2);
  c->cleared = true;
  c->out->len = c->arg_start + c->wlen;
  c->nargs = c->wargs;
}

/* An operator that a walk cannot follow: arithmetic and storage, which
 * change the operand count (TN 5177, section 4.4), and reserved codes. */
static bool
S_unfollowed(int op)
{
  if (op >= 1200)
    return op < 1234 || op > 1237; /* all but the four flex operators */
  return op == 0 || op == 2 || op == 9 || op == 13 || op == 15 ||
         op == 16 || op == 17;
}

static bs_cff_status S_walk_cs(S_cs *c, const uint8_t *d, size_t s,
                               size_t e, int depth);

/* A number's length in bytes from its first byte b, 0 for an operator
 * (TN 5177, 3.2). */
static size_t
S_num_len(uint8_t b)
{
  return b == 28 ? 3 : b < 32 ? 0 : b <= 246 ? 1 : b <= 254 ? 2 : 5;
}

/* callsubr or callgsubr after the number q (its bytes, already dropped
 * from the output): the subroutine's bytes replace the call. */
static bs_cff_status
S_call(S_cs *c, int op, const uint8_t *q, int depth)
{
  const S_index *ix = op == 10 ? c->lsubrs : c->gsubrs;
  if (!ix)
    return BS_CFF_MALFORMED;
  long k = S_small_int(q) + (long)(op == 10 ? c->lbias : c->gbias);
  size_t s, e;
  if (depth >= 10 || k < 0 || k > (long)UINT32_MAX ||
      !S_item(c->d, ix, (unsigned)k, &s, &e))
    return BS_CFF_MALFORMED;
  return S_walk_cs(c, c->d, s, e, depth + 1);
}

/* Walk d[s..e) (the program, or a copy of the glyph's charstring read
 * from the file): bytes are copied in runs from `seg`, flushed before an
 * operator that changes what was written; c->arg_start is an offset in
 * the output as if every byte so far were flushed.  The operand count
 * lives in a local between operators (most bytes are operands). */
static bs_cff_status
S_walk_cs(S_cs *c, const uint8_t *d, size_t s, size_t e, int depth)
{
  size_t seg = s;
  size_t num = SIZE_MAX; /* the operand just before, if any */
  int nargs = c->nargs;
#define S_AT() (c->out->len + (s - seg))
#define S_FLUSH(to)                                                            \
  do {                                                                         \
    S_put(c->out, d + seg, (to) - seg);                                        \
    seg = (to);                                                                \
    if (c->out->len - c->start > S_CS_MAX)                                     \
      return BS_CFF_UNSUPPORTED;                                               \
  } while (0)
  while (s < e) {
    size_t n;
    while ((n = S_num_len(d[s])) != 0) {
      if (e - s < n || nargs == 48)
        return BS_CFF_MALFORMED;
      if (nargs++ == 0)
        c->first_len = n;
      num = s;
      s += n;
      if (s == e)
        goto end;
    }
    if (c->budget-- == 0)
      return BS_CFF_UNSUPPORTED;
    uint8_t b = d[s];
    n = b == 12 ? 2 : 1;
    if (e - s < n)
      return BS_CFF_MALFORMED;
    int op = b == 12 ? 1200 + d[s + 1] : b;
    size_t q = num;
    num = SIZE_MAX;
    if (op == 10 || op == 29) {
      if (q == SIZE_MAX || d[q] == 255)
        return BS_CFF_UNSUPPORTED; /* a number made by arithmetic */
      S_FLUSH(s);
      c->out->len -= s - q; /* the subroutine's number */
      c->nargs = nargs - 1;
      bs_cff_status st = S_call(c, op, d + q, depth);
      if (st != BS_CFF_OK || c->done)
        return st;
      nargs = c->nargs;
      s = seg = s + n;
      continue;
    }
    if (op == 11) { /* return */
      S_FLUSH(s);
      c->nargs = nargs;
      return depth > 0 ? BS_CFF_OK : BS_CFF_MALFORMED;
    }
    if (op == 14 && nargs >= 4)
      return BS_CFF_UNSUPPORTED; /* seac: an accent from two glyphs */
    if (op == 1 || op == 3 || op == 18 || op == 23 || op == 19 || op == 20) {
      S_FLUSH(s);
      c->nargs = nargs;
      S_drop_hint(c);
      nargs = c->nargs;
      size_t m = op == 19 || op == 20 ? (c->stems + 7) / 8 : 0;
      if (e - s - n < m) /* a hint mask: a bit per stem */
        return BS_CFF_MALFORMED;
      s = seg = s + n + m;
      continue;
    }
    if (op == 1200) { /* dotsection: an obsolete hint */
      S_FLUSH(s);
      s = seg = s + n;
      continue;
    }
    if (S_unfollowed(op))
      return BS_CFF_UNSUPPORTED;
    s += n;
    nargs = c->wargs = 0;
    c->wlen = 0;
    c->arg_start = S_AT();
    c->cleared = true;
    if (op == 14) {
      S_FLUSH(s);
      c->nargs = 0;
      c->done = true;
      return BS_CFF_OK;
    }
  }
end:
  /* a subroutine may end at its end without `return` */
  S_FLUSH(e);
  c->nargs = nargs;
#undef S_AT
#undef S_FLUSH
  return depth > 0 ? BS_CFF_OK : BS_CFF_MALFORMED;
}

/* ------------------------------------------------------------------ */
/* The subset                                                           */

/* Where the kept glyphs' charstrings are read from. */
typedef struct S_src {
  int file;    /* a file that holds the program, or -1: the program's bytes */
  uint64_t at; /* the program's first byte in the file */
  S_buf buf;   /* the charstring read from the file */
} S_src;

/* Bytes s..e of the program (a glyph's charstring): read from the file
 * into src->buf when there is one, else the program's own.  A read that
 * comes short (the file is not the one mapped any more) falls back to the
 * program, which held the same bytes when it was opened. */
static const uint8_t *
S_read(const S_font *f, S_src *src, size_t s, size_t e)
{
  size_t n = e - s, got = 0;
  if (src->file < 0 || n == 0)
    return f->d + s;
  if (src->buf.cap < n) {
    src->buf.cap = n * 2 + 256;
    src->buf.p = bs_xrealloc(src->buf.p, src->buf.cap);
  }
  while (got < n) {
    ssize_t r = pread(src->file, src->buf.p + got, n - got,
                      (off_t)(src->at + s + got));
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  if (got == n)
    return src->buf.p;
  src->file = -1;
  return f->d + s;
}

/* The kept glyphs' charstrings, CIDs and FDs (in fdof).  A glyph found in
 * the memo is copied from it; one flattened here is added to it, with its
 * CID and FD, for the next documents of the process.  All three are
 * functions of the program and the glyph alone, so a subset is the same
 * bytes whichever of its glyphs came from the memo. */
static bs_cff_status
S_glyphs(S_font *f, bs_cff_subset *out, uint8_t *fdof, S_buf *cs,
         size_t *csoff, bs_memo *memo, S_src *src)
{
  S_walk cw = {0}, fw = {0};
  for (unsigned i = 0; i < out->n; i++) {
    uint32_t g = out->orig[i];
    csoff[i] = cs->len;
    const bs_memo_item *m = memo ? bs_memo_get(memo, g) : NULL;
    if (m) {
      unsigned fd = m->aux >> 16;
      if (fd >= f->nfd)
        return BS_CFF_MALFORMED; /* not this program's: cannot happen */
      out->cid[i] = m->aux & 0xFFFF;
      fdof[i] = (uint8_t)fd;
      f->fd[fd].renum = 0; /* numbered in S_font_dicts */
      S_put(cs, m->data, m->len);
      continue;
    }
    int fd = S_fd_of(f, g, &fw);
    long cid = i ? S_cid(f->d, f->len, (size_t)f->charset, g, &cw) : 0;
    size_t s, e;
    if (fd < 0 || (unsigned)fd >= f->nfd || cid < 0 || cid > 0xFFFF ||
        !S_item(f->d, &f->charstrings, g, &s, &e))
      return BS_CFF_MALFORMED;
    out->cid[i] = (uint32_t)cid;
    fdof[i] = (uint8_t)fd;
    S_fd *x = &f->fd[fd];
    S_cs c = {.d = f->d,
              .gsubrs = &f->gsubrs,
              .gbias = S_bias(f->gsubrs.count),
              .lsubrs = x->has_subrs ? &x->subrs : NULL,
              .lbias = x->bias,
              .out = cs,
              .arg_start = cs->len,
              .start = cs->len,
              .budget = 1UL << 16};
    bs_cff_status st = S_walk_cs(&c, S_read(f, src, s, e), 0, e - s, 0);
    if (st != BS_CFF_OK)
      return st;
    if (!c.done)
      return BS_CFF_MALFORMED;
    x->renum = 0; /* numbered in S_font_dicts, in the font's order */
    if (memo)
      bs_memo_put(memo, g, (uint32_t)cid | (uint32_t)fd << 16,
                  cs->p + csoff[i], cs->len - csoff[i]);
  }
  csoff[out->n] = cs->len;
  return BS_CFF_OK;
}

/* The entries of a DICT but those whose operator is in `skip`. */
static void
S_copy_dict(const S_font *f, size_t s, size_t e, const int *skip,
            size_t nskip, S_buf *b)
{
  S_entry en;
  while (S_dict_next(f->d, &s, e, &en) > 0) {
    bool keep = true;
    for (size_t k = 0; k < nskip; k++)
      keep = keep && en.op != skip[k];
    if (keep)
      S_put(b, f->d + en.start, en.end - en.start);
  }
}

/* charset: format 0 (a CID per glyph) or 2 (runs), whichever is
 * shorter. */
static void
S_put_charset(S_buf *b, const bs_cff_subset *out)
{
  unsigned runs = 0;
  for (unsigned i = 1; i < out->n; i++)
    runs += i == 1 || out->cid[i] != out->cid[i - 1] + 1;
  if (4 * (size_t)runs >= 2 * (size_t)(out->n - 1)) {
    S_putn(b, 0, 1);
    for (unsigned i = 1; i < out->n; i++)
      S_putn(b, out->cid[i], 2);
    return;
  }
  S_putn(b, 2, 1);
  for (unsigned i = 1; i < out->n;) {
    unsigned j = i + 1;
    while (j < out->n && out->cid[j] == out->cid[j - 1] + 1)
      j++;
    S_putn(b, out->cid[i], 2);
    S_putn(b, j - i - 1, 2);
    i = j;
  }
}

/* FDSelect format 3: a range per run of glyphs of one Font DICT. */
static void
S_put_fdselect(S_buf *b, const S_font *f, const uint8_t *fdof, unsigned n)
{
  unsigned ranges = 0;
  for (unsigned i = 0; i < n; i++)
    ranges += i == 0 || fdof[i] != fdof[i - 1];
  S_putn(b, 3, 1);
  S_putn(b, ranges, 2);
  for (unsigned i = 0; i < n; i++)
    if (i == 0 || fdof[i] != fdof[i - 1]) {
      S_putn(b, i, 2);
      S_putn(b, (uint32_t)f->fd[fdof[i]].renum, 1);
    }
  S_putn(b, n, 2);
}

/* The used Font DICTs (FDArray data in `fonts`, item offsets in fdoff)
 * and their Private DICTs (in `privs`, each at priv_at[k]); pslot[k] is
 * where the Font DICT's Private offset goes.  Returns how many. */
static unsigned
S_font_dicts(S_font *f, S_buf *fonts, size_t *fdoff, S_buf *privs,
             size_t *priv_at, size_t *pslot)
{
  static const int font_skip[] = {18};
  static const int priv_skip[] = {19};
  unsigned k = 0;
  for (unsigned i = 0; i < f->nfd; i++) {
    S_fd *x = &f->fd[i];
    if (x->renum < 0)
      continue;
    x->renum = (int)k;
    fdoff[k] = fonts->len;
    priv_at[k] = privs->len;
    S_copy_dict(f, x->priv, x->priv_e, priv_skip, 1, privs);
    S_copy_dict(f, x->font_s, x->font_e, font_skip, 1, fonts);
    S_put_int5(fonts, (uint32_t)(privs->len - priv_at[k]));
    pslot[k] = S_put_int5(fonts, 0);
    S_put_op(fonts, 18);
    k++;
  }
  fdoff[k] = fonts->len;
  priv_at[k] = privs->len;
  return k;
}

/* The program: header, Name, Top DICT, String and (empty) Global Subr
 * INDEXes, charset, FDSelect, CharStrings, FDArray, Private DICTs. */
static void
S_write(S_font *f, bs_cff_subset *out, const uint8_t *fdof, const S_buf *cs,
        const size_t *csoff)
{
  /* Top DICT: the font's entries but offsets and unique identifiers
   * (UniqueID, XUID, UIDBase), then the offsets, filled in below */
  static const int top_skip[] = {13, 14, 15, 16, 17, 18, 1235, 1236, 1237};
  S_buf top = {0};
  S_copy_dict(f, f->top_s, f->top_e, top_skip,
              sizeof top_skip / sizeof *top_skip, &top);
  size_t slot[4];
  static const int slot_op[4] = {15, 17, 1237, 1236};
  for (int k = 0; k < 4; k++) {
    slot[k] = S_put_int5(&top, 0);
    S_put_op(&top, slot_op[k]);
  }
  S_buf fonts = {0}, privs = {0};
  size_t *fdoff = bs_xcalloc(f->nfd + 1, sizeof *fdoff);
  size_t *priv_at = bs_xcalloc(f->nfd + 1, sizeof *priv_at);
  size_t *pslot = bs_xcalloc(f->nfd + 1, sizeof *pslot);
  unsigned nfd = S_font_dicts(f, &fonts, fdoff, &privs, priv_at, pslot);

  S_buf o = {0};
  const uint8_t header[4] = {1, 0, 4, 4};
  S_put(&o, header, 4);
  S_put(&o, f->d + f->names.start, f->names.end - f->names.start);
  size_t topoff[2] = {0, top.len};
  S_put_index(&o, top.p, topoff, 1);
  size_t top_at = o.len - top.len;
  S_put(&o, f->d + f->strings.start, f->strings.end - f->strings.start);
  S_putn(&o, 0, 2); /* Global Subrs: none */
  size_t at[4];
  at[0] = o.len;
  S_put_charset(&o, out);
  at[2] = o.len;
  S_put_fdselect(&o, f, fdof, out->n);
  at[1] = o.len;
  S_put_index(&o, cs->p, csoff, out->n);
  at[3] = o.len;
  S_put_index(&o, fonts.p, fdoff, nfd);
  size_t fonts_at = o.len - fonts.len;
  size_t privs_at = o.len;
  S_put(&o, privs.p, privs.len);
  for (int k = 0; k < 4; k++)
    S_set_int5(&o, top_at + slot[k], at[k]);
  for (unsigned k = 0; k < nfd; k++)
    S_set_int5(&o, fonts_at + pslot[k], privs_at + priv_at[k]);
  free(top.p);
  free(fonts.p);
  free(privs.p);
  free(fdoff);
  free(priv_at);
  free(pslot);
  out->data = o.p;
  out->len = o.len;
}

bs_cff_status
bs_cff_subset_make(const uint8_t *cff, size_t len, const uint32_t *gids,
                   unsigned n, bs_memo *memo, bs_cff_subset *out)
{
  return bs_cff_subset_make_fd(cff, len, -1, 0, gids, n, memo, out);
}

bs_cff_status
bs_cff_subset_make_fd(const uint8_t *cff, size_t len, int file, uint64_t at,
                      const uint32_t *gids, unsigned n, bs_memo *memo,
                      bs_cff_subset *out)
{
  memset(out, 0, sizeof *out);
  /* The memo is left alone by another program (its glyphs are not
   * these) and by the first subset of a process: a process that cuts one
   * subset of the font (one document, as `banshi render`) would only pay
   * for storing its glyphs (0.2 ms of 25 for the example: the copies and
   * 60 more pages of memory); the second subset fills it, the third on
   * take their glyphs from it. */
  if (memo && bs_memo_claim(memo, cff, len) < 1)
    memo = NULL;
  S_font f;
  bs_cff_status st = S_open(cff, len, &f);
  if (st != BS_CFF_OK) {
    free(f.fd);
    return st;
  }
  out->orig = bs_xcalloc((size_t)n + 1, sizeof *out->orig);
  out->cid = bs_xcalloc((size_t)n + 1, sizeof *out->cid);
  out->n = 1; /* .notdef */
  for (unsigned i = 0; i < n && st == BS_CFF_OK; i++) {
    if (gids[i] >= f.charstrings.count ||
        (gids[i] > 0 && gids[i] <= out->orig[out->n - 1]))
      st = BS_CFF_MALFORMED;
    else if (gids[i] > 0)
      out->orig[out->n++] = gids[i];
  }
  uint8_t *fdof = bs_xmalloc(out->n);
  size_t *csoff = bs_xmalloc((out->n + 1) * sizeof *csoff);
  S_buf cs = {0};
  S_src src = {.file = file, .at = at};
  if (st == BS_CFF_OK)
    st = S_glyphs(&f, out, fdof, &cs, csoff, memo, &src);
  if (st == BS_CFF_OK)
    S_write(&f, out, fdof, &cs, csoff);
  free(src.buf.p);
  free(cs.p);
  free(csoff);
  free(fdof);
  free(f.fd);
  if (st != BS_CFF_OK)
    bs_cff_subset_free(out);
  return st;
}

void
bs_cff_subset_free(bs_cff_subset *s)
{
  free(s->data);
  free(s->orig);
  free(s->cid);
  memset(s, 0, sizeof *s);
}

bool
bs_cff_codes(const uint8_t *cff, size_t len, uint32_t *code, unsigned n)
{
  for (unsigned i = 0; i < n; i++)
    code[i] = i;
  S_font f;
  bs_cff_status st = S_open(cff, len, &f);
  free(f.fd);
  if (st == BS_CFF_UNSUPPORTED && f.top_e > 0 && !f.ros)
    return true; /* name-keyed: the glyph index */
  if (st != BS_CFF_OK)
    return false;
  S_walk w = {0};
  for (unsigned i = 1; i < n; i++) {
    long cid = S_cid(f.d, f.len, (size_t)f.charset, i, &w);
    if (cid < 0)
      return false;
    code[i] = (uint32_t)cid;
  }
  return true;
}
