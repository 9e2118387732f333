// SPDX-License-Identifier: Apache-2.0
/* normalize.c - the text policy, applied to the tree before layout (ICU).
 *
 * Policy (also in docs/source.md, "Normalisation"):
 *  0. XML white space: runs of white space that contain a line break or tab
 *     are source formatting, not text: they vanish between two CJK characters
 *     and become one space elsewhere; white space at the start and end of a
 *     block vanishes.  Always applied, silently.
 *  1. NFC (Unicode normalisation form C).
 *  2. Full-width Latin letters and digits (Ａ１) become half-width (A1).
 *  3. Half-width punctuation , ; : ! ? . ( ) " in Chinese text becomes the
 *     full-width mark (， ； ： ！ ？ 。 （ ） “ ”).  "Chinese text" means the
 *     preceding character is CJK; a full stop only after a Han character or
 *     a closing bracket or quote, and not before a letter or digit; brackets
 *     only as a pair whose content or surroundings are CJK; a comma or colon
 *     before a digit stays (1,000 and 10:30).
 *     Inside 《》, < and > (ASCII or full-width) used as the inner title
 *     marks become 〈 〉 (GB/T 15834-2011 4.15: 《中华人民共和国〈政府信息
 *     公开条例〉释义》): only as a pair, both inside the same 《》.
 *  4. Spaces (U+0020, no-break space) typed between two CJK characters, or
 *     between a CJK character and a number (2020 年), are removed; a space
 *     after a Latin word with digits (GB18030 编码) stays, and so does the
 *     ideographic space U+3000, which is typed on purpose (表1　示例).
 * Steps 1-4 can be turned off with --no-normalize; each change they make is
 * reported as a warning at its source location.  The result is what is
 * typeset and what text extraction gives back.
 *
 * Layer 5 (report, source, normalize): docs/architecture.md. */
#include "pipeline.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uscript.h>
#include <unicode/ustring.h>

#include "util.h"

typedef struct S_cp {
  uint32_t cp;    /* code point */
  bs_node *node;  /* text node it came from */
  uint32_t idx;   /* byte index in that node's original text */
  bool drop;      /* removed */
} S_cp;

typedef struct S_norm {
  bs_document *doc;
  bool enabled;
  bs_vec cps;     /* S_cp of the current block */
  bs_vec nodes;   /* bs_node* text nodes of the current block */
  const UNormalizer2 *nfc;
} S_norm;

static bool
S_is_han(uint32_t cp)
{
  UErrorCode st = U_ZERO_ERROR;
  return uscript_getScript((UChar32)cp, &st) == USCRIPT_HAN;
}

/* CJK for the purpose of the policy: Han, kana, and every wide or
 * full-width character except the full-width ASCII variants. */
static bool
S_is_cjk(uint32_t cp)
{
  if (cp < 0x2E80)
    return cp == 0x2014 || cp == 0x2026 || cp == 0x201C || cp == 0x201D ||
           cp == 0x2018 || cp == 0x2019 || cp == 0x00B7;
  if (cp >= 0xFF01 && cp <= 0xFF5E)
    return !(cp >= 0xFF10 && cp <= 0xFF19) && !(cp >= 0xFF21 && cp <= 0xFF3A) &&
           !(cp >= 0xFF41 && cp <= 0xFF5A);
  /* the CJK Unified Ideographs and CJK punctuation (but U+303F) are all
   * wide: most characters of a report, without asking ICU */
  if ((cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3000 && cp <= 0x303E))
    return true;
  int w = u_getIntPropertyValue((UChar32)cp, UCHAR_EAST_ASIAN_WIDTH);
  return w == U_EA_WIDE || w == U_EA_FULLWIDTH || S_is_han(cp);
}

static bool
S_is_space(uint32_t cp)
{
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' ||
         cp == 0x3000 || cp == 0x00A0;
}

static bool
S_is_xml_space(uint32_t cp)
{
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r';
}

static bool
S_is_alnum(uint32_t cp)
{
  return (cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z') ||
         (cp >= 'a' && cp <= 'z');
}

static void
S_warn(S_norm *n, const S_cp *at, bs_code code, const char *from,
       const char *to)
{
  if (!bs_diag_wanted(&n->doc->diags, code)) {
    bs_diag_count(&n->doc->diags, BS_WARNING, code);
    return;
  }
  uint32_t line, col;
  bs_document_text_loc(n->doc, at->node, at->idx, &line, &col);
  bs_diag(&n->doc->diags, BS_WARNING, code, n->doc->path, line, col, from,
          to);
}

static void
S_warn1(S_norm *n, const S_cp *at, bs_code code, const char *what)
{
  if (!bs_diag_wanted(&n->doc->diags, code)) {
    bs_diag_count(&n->doc->diags, BS_WARNING, code);
    return;
  }
  uint32_t line, col;
  bs_document_text_loc(n->doc, at->node, at->idx, &line, &col);
  bs_diag(&n->doc->diags, BS_WARNING, code, n->doc->path, line, col, what);
}

/* Collect the text nodes of one block, in order, through em/strong. */
static void
S_collect(S_norm *n, bs_node *block)
{
  for (bs_node *c = block->first; c; c = c->next) {
    if (c->type == BS_NODE_TEXT) {
      bs_vec_push(&n->nodes, &c);
      const unsigned char *s = (const unsigned char *)c->as.text.data;
      size_t len = c->as.text.len, i = 0;
      while (i < len) {
        uint32_t cp;
        int l = bs_utf8_decode(s + i, len - i, &cp);
        if (l <= 0) {
          cp = 0xFFFD;
          l = 1;
        }
        S_cp e = {cp, c, (uint32_t)i, false};
        bs_vec_push(&n->cps, &e);
        i += (size_t)l;
      }
    } else if (c->type == BS_NODE_EMPH || c->type == BS_NODE_STRONG) {
      S_collect(n, c);
    } else if (c->type == BS_NODE_BREAK) {
      /* a forced break separates text like a line end */
      S_cp e = {'\n', c, 0, true};
      bs_vec_push(&n->cps, &e);
    }
  }
}

/* Previous / next kept, non-space code point around i, or 0. */
static uint32_t
S_prev(S_cp *a, size_t i)
{
  while (i-- > 0)
    if (!a[i].drop && !S_is_space(a[i].cp))
      return a[i].cp;
  return 0;
}

static uint32_t
S_next(S_cp *a, size_t n, size_t i)
{
  for (size_t k = i + 1; k < n; k++)
    if (!a[k].drop && !S_is_space(a[k].cp))
      return a[k].cp;
  return 0;
}

/* Step 0: XML white space. */
static void
S_collapse(S_cp *a, size_t n)
{
  /* Content is anything but white space; forced breaks count as edges. */
  size_t last_content = n;
  for (size_t k = n; k-- > 0;)
    if (!a[k].drop && !S_is_xml_space(a[k].cp)) {
      last_content = k;
      break;
    }
  bool seen_content = false;
  size_t i = 0;
  while (i < n) {
    if (a[i].drop || !S_is_xml_space(a[i].cp)) {
      if (!a[i].drop)
        seen_content = true;
      i++;
      continue;
    }
    size_t j = i;
    bool formatting = false;
    while (j < n && !a[j].drop && S_is_xml_space(a[j].cp)) {
      if (a[j].cp != ' ')
        formatting = true;
      j++;
    }
    /* [i, j) is a run of white space */
    bool at_start = !seen_content, at_end = last_content == n || j > last_content;
    bool after_break = i > 0 && a[i - 1].node->type == BS_NODE_BREAK;
    bool before_break = j < n && a[j].node->type == BS_NODE_BREAK;
    if (at_start || at_end || after_break || before_break) {
      for (size_t k = i; k < j; k++)
        a[k].drop = true;
    } else if (formatting) {
      uint32_t p = a[i - 1].cp, q = a[j].cp;
      bool cjk = (S_is_cjk(p) || (p >= 0xFF01 && p <= 0xFF5E)) &&
                 (S_is_cjk(q) || (q >= 0xFF01 && q <= 0xFF5E));
      for (size_t k = i; k < j; k++)
        a[k].drop = true;
      if (!cjk) {
        a[i].drop = false;
        a[i].cp = ' ';
      }
    } else if (j - i > 1) {
      /* several typed spaces: keep one here, step 4 judges it */
      for (size_t k = i + 1; k < j; k++)
        a[k].drop = true;
    }
    i = j;
  }
}

/* Code points with no canonical decomposition (UnicodeData.txt field 5
 * empty or a <compat> tag only) in blocks where none has one: Basic Latin
 * and Latin-1 up to U+00BF, CJK Symbols and Punctuation, the CJK Unified
 * Ideographs block, Halfwidth and Fullwidth Forms.  (The CJK Compatibility
 * Ideographs U+F900-FAFF do change under NFC and are not here.) */
bool
bs_nfc_stable(uint32_t cp)
{
  return cp <= 0xBF || (cp >= 0x3000 && cp <= 0x303F) ||
         (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xFF00 && cp <= 0xFFEF);
}

static void
S_nfc(S_norm *n, S_cp *a, size_t cnt)
{
  /* Work on maximal runs that start at a starter: compose each run with
   * ICU and replace it when it changes. */
  UErrorCode st = U_ZERO_ERROR;
  size_t i = 0;
  while (i < cnt) {
    size_t j = i + 1;
    while (j < cnt && !unorm2_hasBoundaryBefore(n->nfc, (UChar32)a[j].cp))
      j++;
    /* the segment [i, j); one code point without a canonical
     * decomposition is its own NFC, and most segments of a report are one
     * Han character, a CJK or full-width mark or an ASCII character */
    if (j == i + 1 && !a[i].drop && bs_nfc_stable(a[i].cp)) {
      i = j;
      continue;
    }
    UChar in[64], out[64];
    int32_t ilen = 0;
    bool fits = true;
    for (size_t k = i; k < j; k++) {
      if (a[k].drop)
        continue;
      if (ilen + 2 > 64) {
        fits = false;
        break;
      }
      U16_APPEND_UNSAFE(in, ilen, (UChar32)a[k].cp);
    }
    st = U_ZERO_ERROR;
    if (fits && ilen > 0 && !unorm2_isNormalized(n->nfc, in, ilen, &st)) {
      st = U_ZERO_ERROR;
      int32_t olen = unorm2_normalize(n->nfc, in, ilen, out, 64, &st);
      if (U_SUCCESS(st)) {
        char from[256], to[256];
        int32_t fl = 0, tl = 0;
        UErrorCode s2 = U_ZERO_ERROR;
        u_strToUTF8(from, sizeof from, &fl, in, ilen, &s2);
        s2 = U_ZERO_ERROR;
        u_strToUTF8(to, sizeof to, &tl, out, olen, &s2);
        size_t first = i;
        while (first < j && a[first].drop)
          first++;
        S_warn(n, &a[first < j ? first : i], BS_D_NORM_NFC, from, to);
        /* write the composed code points over the segment */
        size_t k = i;
        for (int32_t p = 0; p < olen;) {
          UChar32 c;
          U16_NEXT_UNSAFE(out, p, c);
          while (k < j && a[k].drop)
            k++;
          if (k < j) {
            a[k].cp = (uint32_t)c;
            k++;
          }
        }
        for (; k < j; k++)
          a[k].drop = true;
      }
    }
    i = j;
  }
}

static void
S_widths(S_norm *n, S_cp *a, size_t cnt)
{
  for (size_t i = 0; i < cnt; i++) {
    uint32_t c = a[i].cp;
    if (a[i].drop)
      continue;
    if ((c >= 0xFF10 && c <= 0xFF19) || (c >= 0xFF21 && c <= 0xFF3A) ||
        (c >= 0xFF41 && c <= 0xFF5A)) {
      /* one warning for a run of such characters */
      size_t j = i;
      char from[256], to[256];
      size_t fl = 0, tl = 0;
      while (j < cnt && !a[j].drop &&
             ((a[j].cp >= 0xFF10 && a[j].cp <= 0xFF19) ||
              (a[j].cp >= 0xFF21 && a[j].cp <= 0xFF3A) ||
              (a[j].cp >= 0xFF41 && a[j].cp <= 0xFF5A))) {
        if (fl + 4 < sizeof from)
          fl += (size_t)bs_utf8_encode(a[j].cp, from + fl);
        a[j].cp -= 0xFEE0;
        if (tl + 1 < sizeof to)
          to[tl++] = (char)a[j].cp;
        j++;
      }
      from[fl] = to[tl] = '\0';
      S_warn(n, &a[i], BS_D_NORM_WIDTH, from, to);
      i = j - 1;
    }
  }
}

static void
S_change(S_norm *n, S_cp *at, uint32_t to, bs_code code)
{
  char f[8], t[8];
  f[bs_utf8_encode(at->cp, f)] = '\0';
  t[bs_utf8_encode(to, t)] = '\0';
  S_warn(n, at, code, f, t);
  at->cp = to;
}

/* For every kept '(' the index of its matching ')' (SIZE_MAX if none), and
 * the number of kept CJK characters before each index: computed in one pass
 * each, so that a block of 100,000 '(' or of spaces stays linear (scanning
 * from every bracket made it quadratic).  Both arrays are malloc'd. */
static void
S_brackets(S_cp *a, size_t cnt, size_t **match, uint32_t **cjk_before)
{
  size_t *m = bs_xmalloc((cnt ? cnt : 1) * sizeof *m);
  size_t *stack = bs_xmalloc((cnt ? cnt : 1) * sizeof *stack);
  uint32_t *cb = bs_xmalloc((cnt + 1) * sizeof *cb);
  size_t top = 0;
  uint32_t cjk = 0;
  for (size_t k = 0; k < cnt; k++) {
    m[k] = SIZE_MAX;
    cb[k] = cjk;
    if (a[k].drop)
      continue;
    if (a[k].cp == '(')
      stack[top++] = k;
    else if (a[k].cp == ')' && top > 0)
      m[stack[--top]] = k;
    else if (S_is_cjk(a[k].cp))
      cjk++;
  }
  cb[cnt] = cjk;
  free(stack);
  *match = m;
  *cjk_before = cb;
}

/* < > typed as the inner title marks inside 《》 become 〈〉 (GB/T
 * 15834-2011 4.15).  One pass with a stack of the open <, emptied at every
 * 《 and 》, so that a < is paired only with a > of the same title and a
 * block of many < stays linear. */
static void
S_title_marks(S_norm *n, S_cp *a, size_t cnt)
{
  size_t *open = bs_xmalloc((cnt ? cnt : 1) * sizeof *open);
  size_t top = 0;
  int depth = 0;
  for (size_t i = 0; i < cnt; i++) {
    if (a[i].drop)
      continue;
    uint32_t c = a[i].cp;
    if (c == 0x300A || c == 0x300B) {
      depth += c == 0x300A ? 1 : depth > 0 ? -1 : 0;
      top = 0;
    } else if (depth > 0 && (c == '<' || c == 0xFF1C)) {
      open[top++] = i;
    } else if (depth > 0 && (c == '>' || c == 0xFF1E) && top > 0) {
      S_change(n, &a[open[--top]], 0x3008, BS_D_NORM_TITLE_MARK);
      S_change(n, &a[i], 0x3009, BS_D_NORM_TITLE_MARK);
    }
  }
  free(open);
}

static void
S_punct(S_norm *n, S_cp *a, size_t cnt)
{
  bool quote_open = true; /* next straight quote opens */
  size_t *match;
  uint32_t *cjk_before;
  S_brackets(a, cnt, &match, &cjk_before);
  for (size_t i = 0; i < cnt; i++) {
    if (a[i].drop)
      continue;
    uint32_t c = a[i].cp, p, q;
    switch (c) {
    case ',':
    case ';':
    case ':':
    case '!':
    case '?':
      p = S_prev(a, i);
      q = S_next(a, cnt, i);
      if (S_is_cjk(p) && !(q >= '0' && q <= '9' && (c == ',' || c == ':'))) {
        uint32_t to = c == ',' ? 0xFF0C : c == ';' ? 0xFF1B
                      : c == ':' ? 0xFF1A : c == '!' ? 0xFF01 : 0xFF1F;
        S_change(n, &a[i], to, BS_D_NORM_PUNCT);
      }
      break;
    case '.':
      p = S_prev(a, i);
      q = S_next(a, cnt, i);
      if ((S_is_han(p) || p == 0xFF09 || p == 0x201D || p == 0x300B ||
           p == 0x300D || p == 0x300F) &&
          !S_is_alnum(q) && q != '.')
        S_change(n, &a[i], 0x3002, BS_D_NORM_PUNCT);
      break;
    case '(': {
      /* brackets only as a pair with CJK inside or around */
      size_t j = match[i];
      if (j == SIZE_MAX)
        break;
      bool cjk_inside = cjk_before[j] > cjk_before[i + 1];
      if (cjk_inside || S_is_cjk(S_prev(a, i)) ||
          S_is_cjk(S_next(a, cnt, j))) {
        S_change(n, &a[i], 0xFF08, BS_D_NORM_PUNCT);
        S_change(n, &a[j], 0xFF09, BS_D_NORM_PUNCT);
      }
      break;
    }
    case '"': {
      bool cjk = S_is_cjk(S_prev(a, i)) || S_is_cjk(S_next(a, cnt, i));
      if (cjk) {
        S_change(n, &a[i], quote_open ? 0x201C : 0x201D, BS_D_NORM_QUOTE);
      }
      quote_open = !quote_open;
      break;
    }
    default:
      break;
    }
  }
  free(match);
  free(cjk_before);
  S_title_marks(n, a, cnt);
}

/* Is the digit at a[i] part of a number, not of a Latin token such as
 * GB18030 or UTF-8?  The token is the run of letters, digits and . - _ /
 * around it, scanned in direction dir. */
static bool
S_number_digit(S_cp *a, size_t i, int dir, size_t cnt)
{
  size_t k = i;
  for (;;) {
    uint32_t c = a[k].cp;
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
      return false;
    if (!(c >= '0' && c <= '9') && c != '.' && c != '-' && c != '_' &&
        c != '/')
      return true;
    if (dir < 0) {
      if (k == 0)
        return true;
      k--;
    } else {
      if (++k >= cnt)
        return true;
    }
  }
}

static void
S_spaces(S_norm *n, S_cp *a, size_t cnt)
{
  for (size_t i = 0; i < cnt; i++) {
    /* U+3000 is typed on purpose in Chinese text (表1　示例): kept */
    if (a[i].drop || !S_is_space(a[i].cp) || a[i].cp == 0x3000)
      continue;
    size_t j = i;
    while (j < cnt && (a[j].drop || (S_is_space(a[j].cp) && a[j].cp != 0x3000)))
      j++;
    size_t pi = i;
    while (pi > 0 && a[pi - 1].drop)
      pi--;
    uint32_t p = pi > 0 ? a[pi - 1].cp : 0, q = j < cnt ? a[j].cp : 0;
    bool pd = p >= '0' && p <= '9' && S_number_digit(a, pi - 1, -1, cnt);
    bool qd = q >= '0' && q <= '9' && S_number_digit(a, j, +1, cnt);
    if (p && q &&
        ((S_is_cjk(p) && S_is_cjk(q)) || (S_is_cjk(p) && qd) ||
         (pd && S_is_cjk(q)))) {
      char ctx[32];
      size_t k = 0;
      k += (size_t)bs_utf8_encode(p, ctx + k);
      ctx[k++] = ' ';
      k += (size_t)bs_utf8_encode(q, ctx + k);
      ctx[k] = '\0';
      S_warn1(n, &a[i], BS_D_NORM_SPACE, ctx);
      for (size_t k2 = i; k2 < j; k2++)
        if (S_is_space(a[k2].cp))
          a[k2].drop = true;
    }
    i = j - 1;
  }
}

/* Write the code points back into their text nodes. */
static void
S_write_back(S_norm *n)
{
  bs_node **nodes = n->nodes.data;
  S_cp *a = n->cps.data;
  size_t cnt = n->cps.len, k = 0;
  for (size_t t = 0; t < n->nodes.len; t++) {
    bs_node *node = nodes[t];
    size_t cap = node->as.text.len * 2 + 8, len = 0;
    char *out = bs_arena_alloc(&n->doc->arena, cap);
    while (k < cnt && a[k].node != node)
      k++;
    for (; k < cnt && a[k].node == node; k++) {
      if (a[k].drop)
        continue;
      if (len + 5 > cap) {
        out = bs_arena_realloc(&n->doc->arena, out, cap, cap * 2);
        cap *= 2;
      }
      len += (size_t)bs_utf8_encode(a[k].cp, out + len);
    }
    out[len] = '\0';
    node->as.text.data = out;
    node->as.text.len = len;
  }
}

static void
S_block(S_norm *n, bs_node *block)
{
  n->cps.len = 0;
  n->nodes.len = 0;
  S_collect(n, block);
  S_cp *a = n->cps.data;
  size_t cnt = n->cps.len;
  if (!cnt)
    return;
  S_collapse(a, cnt);
  if (n->enabled) {
    S_nfc(n, a, cnt);
    S_widths(n, a, cnt);
    S_punct(n, a, cnt);
    S_spaces(n, a, cnt);
  }
  S_write_back(n);
}

static bool
S_is_text_block(const bs_node *x)
{
  switch (x->type) {
  case BS_NODE_HEADING:
  case BS_NODE_PARAGRAPH:
  case BS_NODE_CELL:
  case BS_NODE_CAPTION:
  case BS_NODE_ITEM:
    return true;
  default:
    return false;
  }
}

void
bs_normalize(bs_document *doc, const bs_normalize_options *opts)
{
  S_norm n;
  memset(&n, 0, sizeof n);
  n.doc = doc;
  n.enabled = !opts || opts->enabled;
  n.cps.esize = sizeof(S_cp);
  n.nodes.esize = sizeof(bs_node *);
  UErrorCode st = U_ZERO_ERROR;
  n.nfc = unorm2_getNFCInstance(&st);
  if (U_FAILURE(st))
    n.enabled = false;
  for (bs_node *x = doc->body; x; x = bs_node_walk_next(x, doc->body))
    if (S_is_text_block(x))
      S_block(&n, x);
  bs_vec_free(&n.cps);
  bs_vec_free(&n.nodes);
}
