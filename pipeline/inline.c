// SPDX-License-Identifier: Apache-2.0
/* inline.c - one paragraph into lines: collect, prepare, break, finalise.
 *
 * Design.  Chinese text is set on a grid (GB/T 9704-2012 5.2.3: 28
 * characters filling the 156 mm measure), so the breaker is greedy, first-fit
 * per line, as a Chinese compositor (and Word's grid mode) works: a total-fit
 * (Knuth-Plass) search gains little when almost every position is a break
 * opportunity and the grid fixes the width of each character, and it would
 * make line contents depend on later text, which offices find surprising
 * when they edit.  Titles are the exception: they are balanced (7.3.1, lines
 * of similar length in a trapezoid or diamond) and broken at word boundaries
 * where possible ("回行时，要做到词意完整").
 *
 * Break opportunities are ICU's line break iterator (UAX #14) corrected by
 * the clreq 行首行尾禁则 at the GB level (W3C clreq §3.1.7): no line starts
 * with 、，。．：；！？ closing quotes or brackets, connectors or interpuncts;
 * none ends with opening quotes or brackets or a solidus.  ICU 72 forbids
 * breaks on either side of “ ” (UAX #14 LB19, before Unicode 15.1's LB19a),
 * which is wrong for Chinese: next to CJK text the quotes are treated as
 * opening and closing punctuation instead.
 *
 * Widths.  Full-width characters of grid styles advance by the grid pitch;
 * everything else by the font's width (in the same 1/1000 em units that the
 * PDF /W array holds, so layout and viewer agree exactly).  A full-width
 * mark at the end of a line whose ink sits in the left half of its em
 * (measured from the glyph, not assumed) is set half-width, as GB/T 15834
 * 5.1.10 requires.  Two adjacent marks (》《, ”“) are not compressed
 * (clreq §3.1.5 makes it optional): on the grid each mark keeps its cell,
 * and overlapping glyph boxes make PDF text extraction (poppler) break the
 * line between them, which would spoil search in the archived file.
 * Lines are justified by spreading the remaining space
 * evenly over the gaps between characters (never inside a run of Latin
 * letters or digits, nor inside —— or ……), the last line of a paragraph is
 * set flush left, and Latin text next to Han text gets no extra space.
 *
 * Layer 7 (line and page setting): docs/architecture.md. */
#include "layout_int.h"

#include <stdlib.h>
#include <string.h>

#include <unicode/ubrk.h>
#include <unicode/uchar.h>
#include <unicode/ustring.h>

#include "util.h"

enum {
  S_WIDE = 1,       /* full-width / CJK character */
  S_WESTERN = 2,    /* letters, digits, narrow punctuation */
  S_SPACE = 3,      /* a breakable inter-word space */
};

typedef struct S_ch {
  uint32_t cp;
  bs_font *font;     /* NULL for a missing glyph or a forced break */
  uint32_t gid;
  int32_t size;
  int32_t adv;       /* natural advance (font width) */
  int32_t full;      /* placed advance without compression */
  int32_t half;      /* amount removable when compressed */
  int32_t pcut;      /* removed between this mark and the next (adjacent
                        marks) when both are on one line */
  int32_t scut;      /* removed before this opening mark at a line start */
  uint8_t cls;       /* S_WIDE, S_WESTERN, S_SPACE */
  bool ink_left;     /* wide punctuation whose right half is empty */
  bool ink_right;    /* wide punctuation whose left half is empty */
  bool brk;          /* a line may break before this char */
  bool forced;       /* a forced break (<br/>): not drawn */
  bool skip;         /* not drawn and zero width (format characters) */
  bool word;         /* a word boundary lies before this char (titles) */
  const bs_node *src;/* text node the character comes from, or NULL */
  uint32_t idx;      /* its byte index there; or line and col when NULL */
  uint32_t line, col;
} S_ch;

/* ------------------------------------------------------------------ */
/* ICU iterators, one set per thread                                   */

static _Thread_local UBreakIterator *S_line_bi;
static _Thread_local UBreakIterator *S_word_bi;

static UBreakIterator *
S_bi(UBreakIteratorType type)
{
  UBreakIterator **slot = type == UBRK_LINE ? &S_line_bi : &S_word_bi;
  if (!*slot) {
    UErrorCode st = U_ZERO_ERROR;
    *slot = ubrk_open(type, "zh", NULL, 0, &st);
    if (U_FAILURE(st))
      *slot = NULL;
  }
  return *slot;
}

/* ICU's breaks of short texts, kept per thread as long as its iterators:
 * a table's cells are broken once when their widths are measured and
 * again when they are set, and the labels of a report's tables come back
 * in every document of a batch.  The breaks of a text are a function of
 * the text and the iterator's type alone, so what is kept changes no
 * output.  Bounded in entries and bytes; once full, it keeps no more. */
enum { S_BM_SLOTS = 8192, S_BM_MAX = 6000, S_BM_TEXT = 128 };
#define S_BM_BYTES ((size_t)1 << 20)

typedef struct S_bm_ent {
  uint32_t hash;
  int32_t ul;     /* UTF-16 units of the text */
  int32_t nb;     /* break positions */
  uint8_t type;   /* UBreakIteratorType */
  int32_t *pos;   /* nb positions, 0 < p < ul */
  UChar text[];   /* ul units */
} S_bm_ent;

static _Thread_local S_bm_ent **S_bm_slot;
static _Thread_local size_t S_bm_n, S_bm_bytes;
static _Thread_local bs_vec S_bm_pos;

static void
S_bm_free(void)
{
  if (S_bm_slot)
    for (size_t i = 0; i < S_BM_SLOTS; i++)
      free(S_bm_slot[i]);
  free(S_bm_slot);
  S_bm_slot = NULL;
  S_bm_n = S_bm_bytes = 0;
  bs_vec_free(&S_bm_pos);
}

/* Mark ch[map[p]] (brk, or word when `word`) at each break p, 0 < p < ul,
 * that the iterator of `type` finds in u. */
static void
S_mark_breaks(UBreakIteratorType type, const UChar *u, int32_t ul, S_ch *ch,
              const uint32_t *map, bool word)
{
  UBreakIterator *bi = S_bi(type);
  if (!bi)
    return;
  uint32_t h = 2166136261u ^ (uint32_t)type;
  size_t slot = 0;
  bool keep = ul <= S_BM_TEXT;
  if (keep) {
    for (int32_t i = 0; i < ul; i++)
      h = (h ^ u[i]) * 16777619u;
    if (!S_bm_slot)
      S_bm_slot = bs_xcalloc(S_BM_SLOTS, sizeof *S_bm_slot);
    for (slot = h & (S_BM_SLOTS - 1); S_bm_slot[slot];
         slot = (slot + 1) & (S_BM_SLOTS - 1)) {
      const S_bm_ent *e = S_bm_slot[slot];
      if (e->hash == h && e->ul == ul && e->type == (uint8_t)type &&
          memcmp(e->text, u, (size_t)ul * sizeof *u) == 0) {
        for (int32_t k = 0; k < e->nb; k++) {
          if (word)
            ch[map[e->pos[k]]].word = true;
          else
            ch[map[e->pos[k]]].brk = true;
        }
        return;
      }
    }
  }
  UErrorCode st = U_ZERO_ERROR;
  ubrk_setText(bi, u, ul, &st);
  if (U_FAILURE(st))
    keep = false;
  S_bm_pos.esize = sizeof(int32_t);
  S_bm_pos.len = 0;
  for (int32_t p = ubrk_first(bi); p != UBRK_DONE; p = ubrk_next(bi))
    if (p > 0 && p < ul) {
      if (word)
        ch[map[p]].word = true;
      else
        ch[map[p]].brk = true;
      if (keep)
        BS_VEC_PUSH(&S_bm_pos, int32_t, p);
    }
  if (!keep || S_bm_n >= S_BM_MAX)
    return;
  size_t nb = S_bm_pos.len;
  size_t sz = sizeof(S_bm_ent) + (size_t)ul * sizeof(UChar);
  sz = (sz + sizeof(int32_t) - 1) / sizeof(int32_t) * sizeof(int32_t);
  size_t total = sz + nb * sizeof(int32_t);
  if (S_bm_bytes + total > S_BM_BYTES)
    return;
  S_bm_ent *e = bs_xmalloc(total);
  e->hash = h;
  e->ul = ul;
  e->nb = (int32_t)nb;
  e->type = (uint8_t)type;
  memcpy(e->text, u, (size_t)ul * sizeof *u);
  e->pos = (int32_t *)(void *)((char *)e + sz);
  if (nb)
    memcpy(e->pos, S_bm_pos.data, nb * sizeof(int32_t));
  S_bm_slot[slot] = e;
  S_bm_n++;
  S_bm_bytes += total;
}

void
bs_layout_warm(void)
{
  /* Word breaks over Han text make ICU build its Chinese dictionary
   * engine (about 8 M instructions: the Unicode sets it is built from);
   * ICU keeps it for every iterator of the process. */
  static const UChar han[] = {0x4E2D, 0x6587}; /* 中文 */
  UBreakIterator *bi = S_bi(UBRK_WORD);
  UErrorCode st = U_ZERO_ERROR;
  if (bi) {
    ubrk_setText(bi, han, 2, &st);
    if (U_SUCCESS(st))
      ubrk_next(bi);
  }
  bs_layout_cleanup();
}

void
bs_layout_cleanup(void)
{
  if (S_line_bi)
    ubrk_close(S_line_bi);
  if (S_word_bi)
    ubrk_close(S_word_bi);
  S_line_bi = S_word_bi = NULL;
  S_bm_free();
}

/* ------------------------------------------------------------------ */
/* Character classes                                                    */

/* clreq: not at line start (GB level, plus ASCII marks next to Han). */
static bool
S_no_start(uint32_t c)
{
  switch (c) {
  case 0x3001: case 0xFF0C: case 0x3002: case 0xFF0E: case 0xFF1A:
  case 0xFF1B: case 0xFF01: case 0xFF1F: case 0x203C: case 0x2047:
  case 0x201D: case 0x2019: case 0x300D: case 0x300F: case 0xFF09:
  case 0x3015: case 0xFF3D: case 0xFF5D: case 0x3011: case 0x3017:
  case 0x3009: case 0x300B: case 0xFF5E: case 0x2013: case 0x00B7:
  case 0x30FB: case 0x2027: case 0x3005: case 0x309D: case 0x309E:
  case 0x30FC: case 0x2030: case 0x2103: case 0xFF05:
  case ',': case '.': case ':': case ';': case '!': case '?': case ')':
  case ']': case '}': case '%':
    return true;
  default:
    return false;
  }
}

/* clreq: not at line end (GB level adds the solidus). */
static bool
S_no_end(uint32_t c)
{
  switch (c) {
  case 0x201C: case 0x2018: case 0x300C: case 0x300E: case 0xFF08:
  case 0x3014: case 0xFF3B: case 0xFF5B: case 0x3010: case 0x3016:
  case 0x3008: case 0x300A: case 0x002F: case 0xFF0F:
  case '(': case '[': case '{':
    return true;
  default:
    return false;
  }
}

/* Two-em units that never split: —— and …… (clreq §3.1.8). */
static bool
S_unit_pair(uint32_t a, uint32_t b)
{
  return a == b && (a == 0x2014 || a == 0x2026 || a == 0x22EF ||
                    a == 0x2E3A);
}

static bool
S_is_wide(uint32_t c)
{
  if (c < 0x1100)
    return false;
  /* the CJK Unified Ideographs and CJK punctuation (but U+303F) are all
   * wide: most characters of a report, without asking ICU */
  if ((c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3000 && c <= 0x303E))
    return true;
  int w = u_getIntPropertyValue((UChar32)c, UCHAR_EAST_ASIAN_WIDTH);
  return w == U_EA_WIDE || w == U_EA_FULLWIDTH;
}

/* Quotes and dashes are "ambiguous" in East Asian Width but full-width in
 * Chinese fonts and text. */
static bool
S_is_ambiguous_wide(uint32_t c)
{
  return c == 0x201C || c == 0x201D || c == 0x2018 || c == 0x2019 ||
         c == 0x2014 || c == 0x2026 || c == 0x00B7 || c == 0x2015 ||
         c == 0x25CF || c == 0x25CB || c == 0x2460 || c == 0x2116 ||
         c == 0x00D7 || c == 0x00F7 || c == 0x2103 || c == 0x3007 ||
         (c >= 0x2460 && c <= 0x24FF) || (c >= 0x2160 && c <= 0x217F) ||
         (c >= 0x25A0 && c <= 0x25FF);
}

static bool
S_is_format(uint32_t c)
{
  return c == 0x00AD || c == 0x200B || c == 0x200C || c == 0x200D ||
         c == 0x2060 || c == 0xFEFF || (c >= 0xFE00 && c <= 0xFE0F) ||
         (c >= 0xE0100 && c <= 0xE01EF);
}

/* ------------------------------------------------------------------ */

/* Source location of a character, for messages. */
static void
S_loc(const bs_lctx *lc, const S_ch *c, uint32_t *line, uint32_t *col)
{
  if (c->src) {
    bs_document_text_loc(lc->doc, c->src, c->idx, line, col);
  } else {
    *line = c->line;
    *col = c->col;
  }
}

bs_role *
bs_lctx_role(bs_lctx *lc, const bs_style *st)
{
  /* a role without a usable font is reported once per document, not for
   * every paragraph that uses it */
  for (int i = 0; i < lc->nfailed; i++)
    if (strcmp(lc->failed_roles[i], st->role) == 0)
      return NULL;
  bs_role *r = bs_fontset_role(lc->fonts, st->role, &lc->doc->diags);
  if (!r && lc->nfailed < (int)(sizeof lc->failed_roles /
                                sizeof *lc->failed_roles))
    lc->failed_roles[lc->nfailed++] = st->role;
  return r;
}

void
bs_para_begin(bs_lctx *lc)
{
  lc->chars.esize = sizeof(S_ch);
  lc->chars.len = 0;
}

size_t
bs_para_keep(bs_lctx *lc, bs_vec *keep)
{
  size_t bytes = lc->chars.len * sizeof(S_ch);
  if (bytes) {
    memcpy(bs_vec_reserve(keep, bytes), lc->chars.data, bytes);
    keep->len += bytes;
  }
  return lc->chars.len;
}

void
bs_para_restore(bs_lctx *lc, const bs_vec *keep, size_t off, size_t n)
{
  bs_para_begin(lc);
  if (n) {
    memcpy(bs_vec_reserve(&lc->chars, n), (const char *)keep->data + off,
           n * sizeof(S_ch));
    lc->chars.len = n;
  }
}

bool
bs_para_empty(bs_lctx *lc)
{
  const S_ch *c = lc->chars.data;
  for (size_t i = 0; i < lc->chars.len; i++)
    if (!c[i].forced && !c[i].skip && c[i].cls != S_SPACE)
      return false;
  return true;
}

void
bs_para_inline(bs_lctx *lc, const bs_node *n, const bs_style *st)
{
  for (const bs_node *c = n->first; c; c = c->next) {
    switch (c->type) {
    case BS_NODE_TEXT:
      bs_para_text(lc, c->as.text.data, c->as.text.len, st, c, 0, 0);
      break;
    case BS_NODE_EMPH:
    case BS_NODE_STRONG: {
      /* the surrounding size, the emphasis style's font role */
      bs_style *s = bs_arena_alloc(lc->arena, sizeof *s);
      *s = *st;
      s->role = lc->tpl->styles[c->type == BS_NODE_EMPH ? BS_STYLE_EM
                                                         : BS_STYLE_STRONG]
                    .role;
      bs_para_inline(lc, c, s);
      break;
    }
    case BS_NODE_BREAK:
      bs_para_break(lc);
      break;
    default:
      break;
    }
  }
}

void
bs_para_break(bs_lctx *lc)
{
  S_ch c;
  memset(&c, 0, sizeof c);
  c.cp = '\n';
  c.forced = true;
  c.cls = S_SPACE;
  BS_VEC_PUSH(&lc->chars, S_ch, c);
}

/* Which half of its advance a wide mark leaves empty, from the glyph's
 * own outline: 、，。 and closing brackets and quotes have their ink in the
 * left half in Chinese fonts, opening ones in the right half; marks set in
 * the middle (：； in some fonts, ！？) in neither.  Measured rather than
 * assumed, since fonts differ (Noto CJK SC sets ：； left, others centre
 * them). */
static void
S_ink_halves(bs_lctx *lc, const bs_font *f, uint32_t gid, bool *left,
             bool *right)
{
  size_t slot = (gid * 31u + (uint32_t)f->id) % (sizeof lc->ink /
                                                 sizeof *lc->ink);
  if (lc->ink[slot].font == f && lc->ink[slot].gid == gid) {
    *left = lc->ink[slot].left;
    *right = lc->ink[slot].right;
    return;
  }
  bs_glyph_ink e;
  *left = *right = false;
  if (bs_font_glyph_ink(f, gid, &e) && e.width > 0) {
    int adv = e.advance;
    *left = e.x_bearing + e.width <= adv / 2 + adv / 20;
    *right = e.x_bearing >= adv / 2 - adv / 20;
  }
  lc->ink[slot].font = f;
  lc->ink[slot].gid = gid;
  lc->ink[slot].left = *left;
  lc->ink[slot].right = *right;
}

void
bs_para_text(bs_lctx *lc, const char *utf8, size_t len, const bs_style *st,
             const bs_node *src, uint32_t line, uint32_t col)
{
  bs_role *role = bs_lctx_role(lc, st);
  const unsigned char *s = (const unsigned char *)utf8;
  size_t i = 0;
  while (i < len) {
    uint32_t cp;
    int l = bs_utf8_decode(s + i, len - i, &cp);
    if (l <= 0) {
      cp = 0xFFFD;
      l = 1;
    }
    S_ch c;
    memset(&c, 0, sizeof c);
    c.cp = cp == '\t' || cp == '\n' || cp == '\r' ? ' ' : cp;
    c.size = st->size;
    /* the location is computed only when a message needs it */
    c.src = src;
    c.idx = (uint32_t)i;
    c.line = line;
    c.col = col;
    i += (size_t)l;
    if (S_is_format(c.cp)) {
      c.skip = true;
      c.cls = S_WESTERN;
      BS_VEC_PUSH(&lc->chars, S_ch, c);
      continue;
    }
    if (!role) {
      lc->missing = true;
      continue;
    }
    unsigned gid = 0;
    bs_font *f = bs_role_font_for(role, c.cp, &gid);
    if (!f) {
      if (c.cp == ' ' || c.cp == 0x00A0) {
        /* a space the fonts lack: use a quarter em of nothing */
        c.cls = S_SPACE;
        c.adv = c.full = st->size / 4;
        BS_VEC_PUSH(&lc->chars, S_ch, c);
        continue;
      }
      lc->missing = true;
      if (lc->measuring)
        continue;
      if (!bs_diag_wanted(&lc->doc->diags, BS_D_GLYPH_MISSING)) {
        bs_diag_count(&lc->doc->diags, BS_ERROR, BS_D_GLYPH_MISSING);
        continue;
      }
      char shown[16];
      uint32_t ln, cl;
      S_loc(lc, &c, &ln, &cl);
      bs_cp_show(c.cp, shown);
      bs_diag(&lc->doc->diags, BS_ERROR, BS_D_GLYPH_MISSING, lc->doc->path,
              ln, cl, (unsigned)c.cp, shown, role->name, role->tried);
      lc->missing = true;
      continue;
    }
    c.font = f;
    c.gid = gid;
    c.adv = (int32_t)((int64_t)bs_font_advance(f, gid) * st->size / 1000);
    bool wide = S_is_wide(c.cp) || S_is_ambiguous_wide(c.cp);
    if (c.cp == ' ')
      c.cls = S_SPACE;
    else if (wide)
      c.cls = S_WIDE;
    else
      c.cls = S_WESTERN;
    c.full = c.adv;
    if (wide && st->grid && lc->tpl->char_pitch > 0 &&
        c.adv >= st->size * 9 / 10)
      c.full = lc->tpl->char_pitch * st->size /
               lc->tpl->styles[BS_STYLE_BODY].size;
    if (wide && u_ispunct((UChar32)c.cp)) {
      S_ink_halves(lc, f, gid, &c.ink_left, &c.ink_right);
      if (c.ink_left)
        c.half = c.full / 2;
    }
    BS_VEC_PUSH(&lc->chars, S_ch, c);
  }
}

/* ------------------------------------------------------------------ */
/* Prepare: break opportunities and compression                         */

/* Does the paragraph hold the UTF-8 string `w` at character p? */
static bool
S_match_at(const S_ch *ch, size_t n, size_t p, const char *w, size_t *len)
{
  size_t k = 0;
  const unsigned char *u = (const unsigned char *)w;
  size_t i = 0, wl = strlen(w);
  while (i < wl) {
    uint32_t cp;
    int l = bs_utf8_decode(u + i, wl - i, &cp);
    if (l <= 0 || p + k >= n || ch[p + k].cp != cp)
      return false;
    i += (size_t)l;
    k++;
  }
  *len = k;
  return k > 0;
}

/* Does the paragraph hold the code points w[0..len) at character p? */
static bool
S_cps_at(const S_ch *ch, size_t n, size_t p, const uint32_t *w, size_t len)
{
  if (len == 0 || len > n - p)
    return false;
  for (size_t k = 0; k < len; k++)
    if (ch[p + k].cp != w[k])
      return false;
  return true;
}

/* Punctuation width adjustment (clreq 3.1.6; GB/T 15834-2011 5.1.11):
 * two adjacent full-width marks, each one em with half of it empty, are
 * set in 1.5 em (》《 ”“ 》， ）（ 、“ 。”) when the first leaves its right
 * half empty or the second its left half: the pair then shares one empty
 * half.  The cut is counted with the first mark (pcut), where prefix sums
 * of widths find it; where the glyphs go does not depend on which mark
 * gives up its half.  An opening mark at the start of a continuation line
 * of justified or flush-left text loses its empty left half (scut); the
 * first line keeps it, so that headings such as （一） and paragraphs stay
 * on the indent's grid, and centred labels keep their brackets inside
 * their cells.  Both follow the template. */
static void
S_compress(const bs_lctx *lc, S_ch *ch, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    ch[i].pcut = 0;
    ch[i].scut = lc->start_cut && i > 0 && ch[i].ink_right ? ch[i].full / 2
                                                            : 0;
  }
  if (!lc->tpl->punct_adjacent)
    return;
  for (size_t i = 0; i + 1 < n; i++) {
    const S_ch *a = &ch[i], *b = &ch[i + 1];
    if (!(a->ink_left || a->ink_right) || !(b->ink_left || b->ink_right) ||
        a->size != b->size)
      continue;
    /* a mark cut on its left already (the second of a pair) keeps its
     * right half: one em box never loses both */
    bool a_left_cut = i > 0 && ch[i - 1].pcut > 0 && !ch[i - 1].ink_left;
    if (a->ink_left && !a_left_cut)
      ch[i].pcut = a->full / 2;
    else if (b->ink_right)
      ch[i].pcut = b->full / 2;
  }
}

static void
S_prepare(bs_lctx *lc, bool words)
{
  S_ch *ch = lc->chars.data;
  size_t n = lc->chars.len;
  if (!n)
    return;
  /* ICU's line breaks decide nothing for two kinds of text, which skip it
   * (most table cells are one or the other; ICU costs about 650
   * instructions a character): CJK characters only, where the corrections
   * below set every boundary themselves (a break between two CJK
   * characters, less clreq's prohibitions), and ASCII digits only, which
   * UAX #14 never breaks (LB25, NU x NU) and the corrections leave alone. */
  bool all_wide = true, all_digits = true;
  for (size_t i = 0; i < n && (all_wide || all_digits); i++) {
    if (ch[i].cls != S_WIDE || ch[i].skip || ch[i].forced)
      all_wide = false;
    if (ch[i].cp < '0' || ch[i].cp > '9' || ch[i].skip || ch[i].forced)
      all_digits = false;
  }
  bool line = !(all_wide || all_digits);
  /* UTF-16 copy for ICU, with a map back to character indices. */
  lc->u16.esize = sizeof(UChar);
  lc->u16map.esize = sizeof(uint32_t);
  lc->u16.len = lc->u16map.len = 0;
  UChar *u = bs_vec_reserve(&lc->u16, 2 * n + 1);
  uint32_t *map = bs_vec_reserve(&lc->u16map, 2 * n + 2);
  int32_t ul = 0;
  for (size_t i = 0; i < n; i++) {
    map[ul] = (uint32_t)i;
    UChar32 c = (UChar32)ch[i].cp;
    if (ch[i].forced)
      c = 0x2028; /* mandatory break for ICU */
    if (U_IS_BMP(c)) {
      u[ul++] = (UChar)c;
    } else {
      u[ul++] = U16_LEAD(c);
      map[ul] = (uint32_t)i;
      u[ul++] = U16_TRAIL(c);
    }
  }
  map[ul] = (uint32_t)n;
  for (size_t i = 0; i < n; i++)
    ch[i].brk = ch[i].word = false;
  if (line)
    S_mark_breaks(UBRK_LINE, u, ul, ch, map, false);
  if (words) {
    if (S_bi(UBRK_WORD)) {
      S_mark_breaks(UBRK_WORD, u, ul, ch, map, true);
      /* a number stays with its unit: 2020年, 175条 */
      for (size_t i = 1; i < n; i++)
        if (ch[i - 1].cp >= '0' && ch[i - 1].cp <= '9' && ch[i].cls == S_WIDE)
          ch[i].word = false;
      /* nor is a word of the template's list broken (ICU's dictionary
       * splits 年度, 办公厅, 出具); only where a word may start are the
       * words compared */
      const bs_template *tpl = lc->tpl;
      for (size_t p = 0; p < n && tpl->nwords > 0; p++) {
        uint32_t c0 = ch[p].cp;
        if (!(tpl->word_first[(c0 & 255) >> 6] >> (c0 & 63) & 1))
          continue;
        for (int w = 0; w < tpl->nwords; w++) {
          const uint32_t *wc = tpl->word_cps[w];
          size_t len = (size_t)tpl->word_len[w];
          if (len > 0 && wc[0] == c0 && S_cps_at(ch, n, p, wc, len))
            for (size_t k = p + 1; k < p + len; k++)
              ch[k].word = false;
        }
      }
    }
  }
  /* Corrections: quotes next to CJK, clreq prohibitions, units, spaces. */
  for (size_t i = 1; i < n; i++) {
    uint32_t a = ch[i - 1].cp, b = ch[i].cp;
    bool brk = ch[i].brk;
    bool cjk_ctx = ch[i - 1].cls == S_WIDE || ch[i].cls == S_WIDE;
    if (cjk_ctx && (b == 0x201C || b == 0x2018) && ch[i - 1].cls == S_WIDE)
      brk = true; /* before an opening quote */
    if (cjk_ctx && (a == 0x201D || a == 0x2019) && ch[i].cls == S_WIDE)
      brk = true; /* after a closing quote */
    if (ch[i - 1].cls == S_WIDE && ch[i].cls == S_WIDE && !ch[i].skip &&
        !ch[i - 1].skip)
      brk = true; /* between two CJK characters by default */
    if (S_no_start(b) || S_no_end(a) || S_unit_pair(a, b))
      brk = false;
    if (ch[i].cls == S_SPACE && !ch[i].forced)
      brk = false; /* break after spaces, not before */
    if (ch[i - 1].cls == S_SPACE && ch[i].cls != S_SPACE)
      brk = true;
    if (ch[i - 1].forced || ch[i].forced)
      brk = true;
    if (ch[i].skip && ch[i].cp != 0x200B)
      brk = false;
    if (a == 0x200B)
      brk = true;
    ch[i].brk = brk;
  }
  ch[0].brk = false;
  S_compress(lc, ch, n);
}

/* Width of char i inside a line, given whether i+1 is on the same line. */
static int32_t
S_w_inside(const S_ch *c)
{
  if (c->forced || c->skip)
    return 0;
  return c->full - c->pcut;
}

static int32_t
S_w_end(const S_ch *c)
{
  if (c->forced || c->skip)
    return 0;
  if (c->cls == S_SPACE)
    return 0;
  return c->ink_left ? c->full - c->half : c->full;
}

/* Width of [s, b) as one line: interior widths plus the end width of the
 * last visible character; trailing spaces do not count.  V (S_prefix) finds
 * that character without walking back over the invisible ones, which made
 * a run of 100,000 zero-width spaces quadratic. */
static int32_t
S_span_width(const S_ch *ch, const int64_t *Q, const int64_t *V, size_t s,
             size_t b)
{
  size_t e = (size_t)V[b];
  if (e <= s)
    return 0;
  return (int32_t)(Q[e - 1] - Q[s]) + S_w_end(&ch[e - 1]) - ch[s].scut;
}

typedef struct S_brk {
  size_t s, b; /* line is [s, b) */
} S_brk;

/* Greedy breaking with measure `w0` for the first line and `w` for the
 * rest; `words` restricts breaks to word boundaries where possible.
 * Returns the number of lines in `out` (a bs_vec of S_brk). */
static size_t
S_break(bs_lctx *lc, const int64_t *Q, const int64_t *V, int32_t w0,
        int32_t w, bool words, bs_vec *out)
{
  const S_ch *ch = lc->chars.data;
  size_t n = lc->chars.len, s = 0;
  out->len = 0;
  while (s < n) {
    int32_t avail = out->len == 0 ? w0 : w;
    size_t best = 0, best_word = 0, last_fit = 0;
    size_t b;
    for (b = s + 1; b <= n; b++) {
      bool allowed = b == n || ch[b].brk;
      bool forced = b < n && ch[b].forced;
      int32_t width = S_span_width(ch, Q, V, s, b);
      if (width <= avail) {
        last_fit = b;
        if (allowed) {
          best = b;
          if (!words || b == n || ch[b].word || forced)
            best_word = b;
        }
      } else if (Q[b - 1] - Q[s] > (int64_t)avail) {
        break; /* later ends can only be wider */
      }
      if (forced || (b < n && ch[b - 1].forced))
        break;
    }
    size_t end;
    if (words && best_word > s)
      end = best_word;
    else if (best > s)
      end = best;
    else if (last_fit > s) {
      end = last_fit; /* no break chance fits: break inside the word */
    } else {
      end = s + 1; /* a single character wider than the measure */
      if (!lc->warned_overflow) {
        lc->warned_overflow = true;
        uint32_t ln, cl;
        S_loc(lc, &ch[s], &ln, &cl);
        bs_diag_text(&lc->doc->diags, BS_WARNING, BS_D_LAYOUT_OVERFLOW,
                     lc->doc->path, ln, cl,
                     lc->doc->diags.lang == BS_LANG_EN
                         ? "a character is wider than the space for it "
                           "and overflows"
                         : "字符宽度超过可用宽度，已溢出");
      }
    }
    /* A forced break character ends the line it closes. */
    if (end < n && ch[end].forced)
      end++;
    S_brk br = {s, end};
    BS_VEC_PUSH(out, S_brk, br);
    s = end;
    /* spaces at the start of a line vanish */
    while (s < n && ch[s].cls == S_SPACE && !ch[s].forced)
      s++;
  }
  return out->len;
}

/* Prefix sums of interior widths: Q[k] = sum of S_w_inside(ch[0..k-1]);
 * and *V: V[k] = 1 + the index of the last visible character before k
 * (not a space, forced break or format character), 0 if none. */
static int64_t *
S_prefix(bs_lctx *lc, const int64_t **V)
{
  size_t n = lc->chars.len;
  lc->tmp.esize = sizeof(int64_t);
  lc->tmp.len = 0;
  int64_t *Q = bs_vec_reserve(&lc->tmp, 2 * (n + 1));
  int64_t *vis = Q + n + 1;
  const S_ch *ch = lc->chars.data;
  Q[0] = 0;
  vis[0] = 0;
  for (size_t i = 0; i < n; i++) {
    Q[i + 1] = Q[i] + S_w_inside(&ch[i]);
    bool visible = ch[i].cls != S_SPACE && !ch[i].forced && !ch[i].skip;
    vis[i + 1] = visible ? (int64_t)i + 1 : vis[i];
  }
  *V = vis;
  return Q;
}

void
bs_para_measure(bs_lctx *lc, int32_t *minw, int32_t *maxw)
{
  *minw = *maxw = 0;
  size_t n = lc->chars.len;
  if (!n)
    return;
  lc->start_cut = false;
  S_prepare(lc, false);
  const int64_t *V;
  int64_t *Q = S_prefix(lc, &V);
  const S_ch *ch = lc->chars.data;
  size_t s = 0;
  /* preferred: each forced-break segment on one line */
  for (size_t i = 0; i <= n; i++) {
    if (i == n || ch[i].forced) {
      int32_t w = S_span_width(ch, Q, V, s, i);
      if (w > *maxw)
        *maxw = w;
      s = i + 1;
    }
  }
  /* minimum: the widest piece between break opportunities */
  s = 0;
  for (size_t i = 1; i <= n; i++) {
    if (i == n || ch[i].brk) {
      int32_t w = S_span_width(ch, Q, V, s, i);
      if (w > *minw)
        *minw = w;
      s = i;
      while (s < n && ch[s].cls == S_SPACE)
        s++;
    }
  }
}

/* ------------------------------------------------------------------ */
/* Finalise: positions, justification, runs                             */

static bool
S_stretchable(const S_ch *a, const S_ch *b)
{
  if (a->skip || b->skip || a->forced || b->forced)
    return false;
  if (a->cls == S_WESTERN && b->cls == S_WESTERN)
    return false;
  if (S_unit_pair(a->cp, b->cp))
    return false;
  if (a->pcut > 0)
    return false; /* a compressed pair stays tight */
  return true;
}

static void
S_make_line(bs_lctx *lc, const S_brk *br, bool last, int32_t avail,
            int32_t x0, const bs_para_geom *g, bs_line *out)
{
  const S_ch *ch = lc->chars.data;
  size_t s = br->s, e = br->b;
  bool ends_forced = e > s && ch[e - 1].forced;
  /* drop trailing spaces and the forced break */
  while (e > s && (ch[e - 1].cls == S_SPACE || ch[e - 1].forced))
    e--;
  memset(out, 0, sizeof *out);
  out->height = g->leading;
  if (e == s)
    return;
  /* widths */
  int32_t natural = 0;
  int gaps = 0;
  int32_t maxsize = 0;
  /* an opening mark at the line start stands half out (its empty half) */
  int32_t scut = ch[s].scut;
  natural -= scut;
  for (size_t i = s; i < e; i++) {
    natural += i + 1 < e ? S_w_inside(&ch[i]) : S_w_end(&ch[i]);
    if (i + 1 < e && S_stretchable(&ch[i], &ch[i + 1]))
      gaps++;
    if (ch[i].size > maxsize)
      maxsize = ch[i].size;
  }
  int32_t extra = avail - natural;
  int32_t per = 0, rem = 0, offset = 0;
  bs_align al = g->align;
  bool justify = al == BS_ALIGN_JUSTIFY &&
                 ((!last && !ends_forced) || g->justify_last);
  int64_t limit = g->max_stretch > 0 ? g->max_stretch
                                     : (maxsize ? maxsize : 16000);
  if (justify && gaps > 0 && extra > 0 && extra <= (int64_t)gaps * limit) {
    per = extra / gaps;
    rem = extra % gaps;
  } else if (justify && gaps > 0 && extra < 0) {
    /* overfull (a forced break inside a word): squeeze evenly */
    per = -((-extra + gaps - 1) / gaps);
    rem = 0;
  } else if (al == BS_ALIGN_CENTER) {
    offset = extra / 2; /* an overfull line overflows both sides evenly */
  } else if (al == BS_ALIGN_RIGHT && extra > 0) {
    offset = extra;
  }
  /* glyph positions and runs (at most one run per character) */
  out->runs = bs_arena_alloc(lc->arena, (e - s) * sizeof(bs_run));
  bs_glyph *glyphs = bs_arena_alloc(lc->arena, (e - s) * sizeof(bs_glyph));
  int32_t x = x0 + offset - scut;
  int gap_index = 0;
  bs_run *run = NULL;
  int32_t baseline = bs_baseline_in(g->leading, maxsize);
  for (size_t i = s; i < e; i++) {
    const S_ch *c = &ch[i];
    if (c->font && !c->skip) {
      if (!run || run->font != c->font || run->size != c->size) {
        run = &out->runs[out->nruns++];
        run->font = c->font;
        run->size = c->size;
        run->x = x;
        run->y = baseline;
        run->glyphs = glyphs;
        run->n = 0;
      }
      bs_glyph *gl = &run->glyphs[run->n++];
      glyphs++;
      gl->cp = c->cp;
      gl->gid = c->gid;
      gl->x = x - run->x;
      gl->adv = c->adv;
    }
    int32_t w = i + 1 < e ? S_w_inside(c) : S_w_end(c);
    x += w;
    if (i + 1 < e && S_stretchable(c, &ch[i + 1])) {
      /* the remainder of the division goes to the first gap, so that the
       * others are equal and the PDF can set them with one Tc */
      x += per + (gap_index == 0 ? rem : 0);
      gap_index++;
    }
    if (run)
      run->width = x - run->x;
  }
  out->width = x - x0;
}

/* clreq 3.1.9: a paragraph should not end with a line of one character
 * (or one character and a mark).  Move the last break back to the previous
 * opportunity when the line above keeps at least three characters. */
static void
S_no_lone_char(bs_lctx *lc, bs_vec *brks)
{
  const S_ch *ch = lc->chars.data;
  S_brk *b = brks->data;
  S_brk *prev = &b[brks->len - 2], *last = &b[brks->len - 1];
  size_t visible = 0;
  for (size_t i = last->s; i < last->b; i++)
    if (ch[i].font && !ch[i].skip && ch[i].cls != S_SPACE && !ch[i].ink_left)
      visible++;
  if (visible != 1 || (prev->b > prev->s && ch[prev->b - 1].forced))
    return;
  for (size_t p = last->s - 1; p > prev->s + 3; p--) {
    if (!ch[p].brk)
      continue;
    prev->b = p;
    last->s = p;
    return;
  }
}

/* ------------------------------------------------------------------ */
/* Titles (GB/T 9704-2012 7.3.1)                                        */

typedef struct S_tctx {
  const S_ch *ch;
  size_t n;
  const int64_t *Q, *V;
  int32_t measure, em;
  const bool *ok;       /* a title line may end before char b */
  const int32_t *bonus; /* preference for a break before b (em^2 / 16) */
  size_t cut[4], best[4];
  int64_t best_cost;
  int k;                /* lines wanted */
} S_tctx;

/* Cost of a title set in the lines cut at t->cut[0..k-2] in *cost; false
 * when it breaks a rule: a line too long, or a top-heavy shape (the first line
 * longer than the second or than the last: 7.3.1 wants 梯形 上短下长 or
 * 菱形, never an inverted trapezoid).  Otherwise the squared differences
 * of neighbouring lines (排列对称，长短适宜) less the break bonuses, in
 * sixteenths of an em squared. */
static bool
S_title_cost(const S_tctx *t, int64_t *cost)
{
  int32_t w[4];
  size_t s = 0;
  for (int i = 0; i < t->k; i++) {
    size_t b = i + 1 < t->k ? t->cut[i] : t->n;
    w[i] = S_span_width(t->ch, t->Q, t->V, s, b);
    if (w[i] > t->measure)
      return false;
    s = b;
  }
  /* a first line longer by a character (or a tenth of the last line)
   * reads as level, not as an inverted trapezoid */
  int32_t tol = t->em > w[t->k - 1] / 10 ? t->em : w[t->k - 1] / 10;
  if (w[0] > w[1] + tol || w[0] > w[t->k - 1] + tol)
    return false;
  *cost = 0;
  for (int i = 0; i + 1 < t->k; i++) {
    int64_t d = (int64_t)(w[i + 1] - w[i]) * 4 / t->em;
    *cost += d * d - t->bonus[t->cut[i]];
  }
  return true;
}

static void
S_title_search(S_tctx *t, int line, size_t s)
{
  if (line == t->k - 1) {
    int64_t c;
    if (S_title_cost(t, &c) && c < t->best_cost) {
      t->best_cost = c;
      memcpy(t->best, t->cut, sizeof t->cut);
    }
    return;
  }
  for (size_t b = s + 1; b < t->n; b++) {
    if (!t->ok[b])
      continue;
    if (S_span_width(t->ch, t->Q, t->V, s, b) > t->measure)
      break;
    t->cut[line] = b;
    S_title_search(t, line + 1, b);
  }
}

/* Title lines (GB/T 9704-2012 7.3.1: 回行时，要做到词意完整，排列对称，长短
 * 适宜，间距恰当，标题排列应当使用梯形或菱形).  Every way of cutting the title
 * into the fewest lines (up to four; one more when no way of that many
 * keeps the shape) is tried, breaking only where a line may end: at a word
 * boundary of ICU's dictionary, never inside a word of the template's
 * <words> (办公厅, 人民政府, 年度, 政府信息公开 …), nor after 关于 (it
 * stays with what it introduces).  The cheapest by S_title_cost wins; the
 * end of the issuing body's name, the start of 关于 and the end of a year
 * (2021年, 2021年度) are preferred breaks.  Returns false when nothing
 * fits, leaving the greedy lines. */
static bool
S_title_lines(bs_lctx *lc, const bs_para_geom *g, const int64_t *Q,
              const int64_t *V, int32_t measure, size_t nl, bs_vec *brks)
{
  const S_ch *ch = lc->chars.data;
  size_t n = lc->chars.len;
  bool *ok = bs_xcalloc(n + 1, sizeof *ok);
  int32_t *bonus = bs_xcalloc(n + 1, sizeof *bonus);
  for (size_t b = 1; b < n; b++)
    ok[b] = ch[b].brk && ch[b].word && ch[b].cls != S_SPACE;
  /* after 关于 (inside the template's words: S_prepare) */
  for (size_t p = 0; p < n; p++) {
    size_t len;
    if (S_match_at(ch, n, p, "关于", &len)) {
      ok[p + len] = false;
      bonus[p] += 64;
    }
    if (p >= 1 && ch[p].cp == 0x5E74 && ch[p - 1].cp >= '0' &&
        ch[p - 1].cp <= '9') {
      size_t e = p + 1 < n && ch[p + 1].cp == 0x5EA6 ? p + 2 : p + 1;
      if (e < n)
        bonus[e] += 32;
    }
  }
  /* the issuing body: its name where the title holds it, or else the
   * longest end of its name that starts the title (荔湾区应急管理局 of
   * 广州市荔湾区应急管理局); never broken inside, preferably after */
  if (g->issuer && *g->issuer) {
    size_t at = n, len = 0;
    for (size_t p = 0; p < n && at == n; p++)
      if (S_match_at(ch, n, p, g->issuer, &len))
        at = p;
    size_t il = strlen(g->issuer);
    for (size_t off = 1; off < il && at == n; off++)
      if (((unsigned char)g->issuer[off] & 0xC0) != 0x80 &&
          S_match_at(ch, n, 0, g->issuer + off, &len) && len >= 2)
        at = 0;
    if (at < n && at + len < n) {
      for (size_t k = at + 1; k < at + len; k++)
        ok[k] = false;
      bonus[at + len] += 64;
    }
  }
  S_tctx t;
  memset(&t, 0, sizeof t);
  t.ch = ch;
  t.n = n;
  t.Q = Q;
  t.V = V;
  t.measure = measure;
  t.em = ch[0].full > 0 ? ch[0].full : ch[0].size;
  t.ok = ok;
  t.bonus = bonus;
  bool found = false;
  for (size_t k = nl; k <= 4 && k <= nl + 1 && !found; k++) {
    t.k = (int)k;
    t.best_cost = INT64_MAX;
    S_title_search(&t, 0, 0);
    found = t.best_cost != INT64_MAX;
  }
  if (found) {
    brks->len = 0;
    size_t s = 0;
    for (int i = 0; i < t.k; i++) {
      S_brk br = {s, i + 1 < t.k ? t.best[i] : n};
      BS_VEC_PUSH(brks, S_brk, br);
      s = br.b;
    }
  }
  free(ok);
  free(bonus);
  return found;
}

static bool
S_has_forced(const bs_lctx *lc)
{
  const S_ch *ch = lc->chars.data;
  for (size_t i = 0; i < lc->chars.len; i++)
    if (ch[i].forced)
      return true;
  return false;
}

int
bs_para_layout(bs_lctx *lc, const bs_para_geom *g, bs_vec *out)
{
  size_t n = lc->chars.len;
  if (!n)
    return 0;
  lc->start_cut = lc->tpl->punct_line_start &&
                  (g->align == BS_ALIGN_JUSTIFY || g->align == BS_ALIGN_LEFT);
  S_prepare(lc, g->balance || g->prefer_words);
  const int64_t *V;
  int64_t *Q = S_prefix(lc, &V);
  int32_t w0 = g->width - g->left - g->first_indent;
  int32_t w = g->width - g->left;
  if (w0 < 1000)
    w0 = 1000;
  if (w < 1000)
    w = 1000;
  bs_vec brks = BS_VEC_INIT(S_brk);
  size_t nl = S_break(lc, Q, V, w0, w, g->balance || g->prefer_words, &brks);
  if (g->title && nl >= 2 && nl <= 4 && !S_has_forced(lc) &&
      S_title_lines(lc, g, Q, V, w, nl, &brks)) {
    /* set by GB/T 9704's rules for titles */
  } else if (g->balance && nl == 2 && !S_has_forced(lc)) {
    /* Two lines: try every break and keep the one with the most even
     * lines, at a word boundary, preferring the end of a phrase such as
     * 2021年 (GB/T 9704-2012 7.3.1: 词意完整，排列对称). */
    const S_ch *ch = lc->chars.data;
    int64_t best = INT64_MAX;
    size_t at = 0;
    int32_t em = ch[0].full > 0 ? ch[0].full : ch[0].size;
    for (size_t b = 1; b < n; b++) {
      if (!ch[b].brk)
        continue;
      size_t s2 = b;
      while (s2 < n && ch[s2].cls == S_SPACE)
        s2++;
      int32_t w1 = S_span_width(ch, Q, V, 0, b),
              w2 = S_span_width(ch, Q, V, s2, n);
      if (w1 > w0 || w2 > w || s2 >= n)
        continue;
      /* doubled, so that the first line wins a tie (倒梯形 for "自然/人") */
      int64_t cost = 2 * (int64_t)(w1 > w2 ? w1 - w2 : w2 - w1) + (w1 < w2);
      if (!ch[b].word)
        cost += 8 * (int64_t)em;
      if (b >= 2 && ch[b - 1].cp == 0x5E74 && ch[b - 2].cp >= '0' &&
          ch[b - 2].cp <= '9')
        cost -= 6 * (int64_t)em;
      if (cost < best) {
        best = cost;
        at = b;
      }
    }
    if (at) {
      S_brk *bb = brks.data;
      bb[0].b = at;
      size_t s2 = at;
      while (s2 < n && ch[s2].cls == S_SPACE)
        s2++;
      bb[1].s = s2;
      bb[1].b = n;
    }
  } else if (g->balance && nl > 1) {
    /* More lines: shrink the measure while the line count stays the same,
     * so that the lines come out of similar length, the first not
     * shorter. */
    int32_t lo = (int32_t)(Q[n] / (int64_t)nl), hi = w;
    bs_vec trial = BS_VEC_INIT(S_brk);
    while (hi - lo > 500) {
      int32_t mid = lo + (hi - lo) / 2;
      if (S_break(lc, Q, V, mid, mid, true, &trial) <= nl)
        hi = mid;
      else
        lo = mid;
    }
    if (S_break(lc, Q, V, hi, hi, true, &trial) == nl) {
      bs_vec tmp = brks;
      brks = trial;
      trial = tmp;
    }
    bs_vec_free(&trial);
  }
  if (!g->balance && brks.len >= 2)
    S_no_lone_char(lc, &brks);
  const S_brk *b = brks.data;
  int made = 0;
  for (size_t i = 0; i < brks.len; i++) {
    bs_line line;
    bool first = i == 0;
    int32_t x0 = g->left + (first ? g->first_indent : 0);
    S_make_line(lc, &b[i], i + 1 == brks.len, first ? w0 : w, x0, g, &line);
    line.par_last = i + 1 == brks.len;
    BS_VEC_PUSH(out, bs_line, line);
    made++;
  }
  bs_vec_free(&brks);
  return made;
}
