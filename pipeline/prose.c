// SPDX-License-Identifier: Apache-2.0
/* prose.c - numbers stated in a report's prose checked against its tables.
 *
 * Design.  What a report's prose says about its tables ("全年新收政府信息
 * 公开申请49件", "予以公开及部分公开258件", "行政复议7件，均获维持") is
 * found by phrase patterns that are data, in the report type's rules file,
 * never C: the C code below knows no phrase and no table.  The rules file
 * says where prose is and what each claim is checked against:
 *
 *   <define name="num" pattern="ICU regex"/>   a named piece of pattern;
 *       "{num}" in any pattern is replaced by it (other braces, such as the
 *       quantifier {0,6}, are left to ICU)
 *   <prose select="XPATH"/>                    the elements whose text is
 *       prose (their string value is searched, inline markup included)
 *   <claim id="P1" value="XPATH" where="…" where-en="…" prose="XPATH">
 *     <pattern>ICU regex, group 1 the number stated</pattern>
 *     <pattern claim="0">ICU regex stating a fixed number ("未发生…")</pattern>
 *   </claim>
 *
 * A claim's prose="XPATH" narrows the prose it reads (行政复议 counts only
 * where the text is about 政府信息公开: a 司法局 also reports the reviews
 * it decides).  The value is an XPath 1.0 number over the source, evaluated
 * at its root (a cell, a sum of cells, a ratio); a claim whose value is not
 * a finite number (a blank cell, a "/", already reported by the cell
 * checks; a ratio of a zero total) is skipped.  Values that are
 * arithmetic of simple paths, and a prose selection of simple paths
 * ("//p | //note"), are found by walking the tree (xpath.h), with the
 * numbers and node-sets XPath would give; the rest goes to XPath.  A
 * stated number agrees with the table when the table's value rounds to it
 * at the precision it is written with: "49件" needs 49, "占33.9%" any value
 * in [33.85, 33.95].  Numbers are read in Arabic digits (ASCII or
 * full-width) or Chinese numerals (bs_prose_number).  Each mismatch is a
 * warning (diag.c BS_D_PROSE) at the first character of the phrase, naming
 * the phrase, both numbers and the table cell.
 *
 * Patterns are compiled once per rules document (ICU, from UTF-8 text),
 * most of them only once a text contains what their matches must (below),
 * and cloned for each document, as ICU's matchers are not thread-safe; the
 * subject is matched in UTF-16 (a UTF-8 UText was three times slower), and
 * match offsets are mapped back to byte offsets into the element's text,
 * which are then found in the source.  ICU's regular expressions live in
 * libicui18n, which is loaded (dynlib.h) only when a pattern is first
 * compiled: a document whose prose no pattern can match never maps it.
 *
 * Rejected: C tables of phrases (a new phrasing would need a rebuild, and
 * the report type would no longer be data); XPath matches() and regular
 * expressions of XSLT 2 (libxml2 and libxslt implement XPath 1.0 only);
 * POSIX regcomp (no Unicode classes, no lookbehind, locale-dependent).
 *
 * Layer 4 (parse, prose): docs/architecture.md. */
#include "prose.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xpathInternals.h>
#include <unicode/uregex.h>
#include <unicode/ustring.h>
#include <unicode/utext.h>

#include "dynlib.h"
#include "util.h"
#include "xml.h"
#include "xpath.h"

#define S_MAX_CACHE 16

typedef struct S_pattern {
  URegularExpression *re; /* compiled (the master, never matched); with
                             need, NULL until a text may match it */
  char *src;              /* the pattern, {NAME}s replaced */
  bs_prose_need need;     /* what a text must contain to match; none:
                             compiled with the rules */
  bool failed;            /* ICU refused it at its first use */
  bool fixed;             /* the pattern states a fixed number */
  double claim;           /* that number */
} S_pattern;

typedef struct S_claim {
  char *id;
  char *value;            /* XPath of the table's value */
  xmlXPathCompExprPtr value_x; /* compiled once, shared by every thread */
  bs_xnum *value_n;       /* the same walked (xpath.h), or NULL */
  char *prose;            /* XPath narrowing the prose it reads, or NULL */
  xmlXPathCompExprPtr prose_x;
  char *where, *where_en; /* the cell in words */
  S_pattern *pats;
  int npats;
} S_claim;

typedef struct S_compiled {
  xmlDocPtr rules;        /* the rules document these come from */
  char *select;           /* XPath of the prose elements */
  xmlXPathCompExprPtr select_x;
  S_claim *claims;
  int nclaims;
  char *error;            /* why the patterns cannot be used, or NULL */
} S_compiled;

/* libicui18n's regular expressions, with the header's prototypes and
 * ICU's versioned names (uregex_clone is uregex_clone_72 in ICU 72). */
typedef struct S_re_fns {
  __typeof__(uregex_openUText) *uregex_openUText;
  __typeof__(uregex_clone) *uregex_clone;
  __typeof__(uregex_close) *uregex_close;
  __typeof__(uregex_setText) *uregex_setText;
  __typeof__(uregex_findNext) *uregex_findNext;
  __typeof__(uregex_start) *uregex_start;
  __typeof__(uregex_end) *uregex_end;
} S_re_fns;

static S_re_fns S_re;
static const bs_dynsym S_re_syms[] = {
    BS_DYNSYM(S_re_fns, uregex_openUText),
    BS_DYNSYM(S_re_fns, uregex_clone),
    BS_DYNSYM(S_re_fns, uregex_close),
    BS_DYNSYM(S_re_fns, uregex_setText),
    BS_DYNSYM(S_re_fns, uregex_findNext),
    BS_DYNSYM(S_re_fns, uregex_start),
    BS_DYNSYM(S_re_fns, uregex_end),
};
static bs_dynlib S_re_lib =
    BS_DYNLIB(BS_SONAME_ICUI18N, S_re_syms, &S_re);

/* Whether ICU's regular expressions are there, loading them the first
 * time (S_re's pointers are set only when true). */
static bool
S_re_loaded(void)
{
  return bs_dynlib_load(&S_re_lib);
}

static pthread_mutex_t S_lock = PTHREAD_MUTEX_INITIALIZER;
static S_compiled S_cache[S_MAX_CACHE];
static int S_ncache;

/* ------------------------------------------------------------------ */
/* Numbers                                                              */

/* The next UTF-8 code point of s[*i..len), advancing *i; -1 if malformed. */
static long
S_cp(const unsigned char *s, size_t len, size_t *i)
{
  unsigned char c = s[*i];
  int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3
                                          : (c >> 3) == 30 ? 4 : 0;
  if (!n || *i + (size_t)n > len)
    return -1;
  long cp = n == 1 ? c : c & (0x7F >> n);
  for (int k = 1; k < n; k++) {
    if ((s[*i + (size_t)k] & 0xC0) != 0x80)
      return -1;
    cp = (cp << 6) | (s[*i + (size_t)k] & 0x3F);
  }
  *i += (size_t)n;
  return cp;
}

static int
S_cn_digit(long cp)
{
  static const long digits[] = {0x96F6 /* 零 */, 0x4E00 /* 一 */,
                                 0x4E8C /* 二 */, 0x4E09 /* 三 */,
                                 0x56DB /* 四 */, 0x4E94 /* 五 */,
                                 0x516D /* 六 */, 0x4E03 /* 七 */,
                                 0x516B /* 八 */, 0x4E5D /* 九 */};
  for (int d = 0; d < 10; d++)
    if (cp == digits[d])
      return d;
  if (cp == 0x3007) /* 〇 */
    return 0;
  if (cp == 0x4E24) /* 两 */
    return 2;
  return -1;
}

bool
bs_prose_number(const char *str, size_t len, double *out)
{
  const unsigned char *s = (const unsigned char *)str;
  if (!len)
    return false;
  /* Arabic digits, ASCII or full-width, with an optional decimal part and
   * commas between groups of three digits (1,520) */
  double v = 0, scale = 0;
  bool arabic = true, any = false;
  for (size_t i = 0; i < len && arabic;) {
    size_t at = i;
    long cp = S_cp(s, len, &i);
    if (cp == ',' && any && scale == 0 && at + 3 < len && s[at + 1] >= '0' &&
        s[at + 1] <= '9' && s[at + 2] >= '0' && s[at + 2] <= '9' &&
        s[at + 3] >= '0' && s[at + 3] <= '9' &&
        (at + 4 == len || s[at + 4] < '0' || s[at + 4] > '9'))
      continue;
    int d = cp >= '0' && cp <= '9'           ? (int)(cp - '0')
            : cp >= 0xFF10 && cp <= 0xFF19 ? (int)(cp - 0xFF10)
                                             : -1;
    if (d >= 0) {
      any = true;
      if (scale > 0) {
        v += d * scale;
        scale /= 10;
      } else {
        v = v * 10 + d;
      }
    } else if ((cp == '.' || cp == 0xFF0E) && scale == 0 && any) {
      scale = 0.1;
    } else {
      arabic = false;
    }
  }
  if (arabic && any && scale != 0.1) {
    *out = v;
    return true;
  }
  /* Chinese numerals: digits with the units 十百千 within a section of
   * 万; without any unit, a string of digits (二〇二一) */
  double total = 0, section = 0;
  int digit = -1;
  bool units = false, digits_only = true;
  double plain = 0;
  size_t n = 0;
  for (size_t i = 0; i < len;) {
    long cp = S_cp(s, len, &i);
    int d = S_cn_digit(cp);
    n++;
    if (d >= 0) {
      digit = d;
      plain = plain * 10 + d;
      continue;
    }
    digits_only = false;
    int unit = cp == 0x5341 ? 10 : cp == 0x767E ? 100 : cp == 0x5343 ? 1000
                                                                      : 0;
    if (unit) {
      units = true;
      /* 十二 = 12: a unit without a digit before it counts once */
      section += (digit < 0 ? 1 : digit) * unit;
      digit = -1;
    } else if (cp == 0x4E07) { /* 万 */
      units = true;
      section += digit < 0 ? 0 : digit;
      total += (section ? section : 1) * 10000;
      section = 0;
      digit = -1;
    } else {
      return false;
    }
  }
  if (!n)
    return false;
  if (digits_only && !units) {
    *out = plain;
    return true;
  }
  *out = total + section + (digit < 0 ? 0 : digit);
  return true;
}

/* Digits after the decimal point of a stated number (0 for Chinese). */
static int
S_decimals(const char *s, size_t len)
{
  for (size_t i = 0; i < len; i++)
    if (s[i] == '.')
      return (int)(len - i - 1);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Strings a pattern needs                                              */

/* Compiling the first ICU pattern of a process sets up ICU's regular
 * expression tables (about 8 M instructions) and each pattern costs some
 * 160,000 more, while most prose states few of the claims: a report whose
 * prose says nothing the rules look for should not pay for them.  So each
 * pattern is read here for strings a match must contain: for
 * "(?:新收|收到)(?:的)?申请({num}){unit}", one of 新收 收到, and 申请, and
 * one of the units.  A pattern is compiled, and run on a text, only once a
 * text contains them.
 *
 * The reading accepts a subset of ICU's syntax that ICU always compiles:
 * literals, escaped metacharacters, \s \d \w and their negations, ".",
 * sets of literals and ranges, groups, look-ahead and look-behind (with
 * nothing but ? inside, ICU's bound on its length), ? * + {n} {n,} {n,m}
 * and their lazy and possessive forms, ^ and $.  Anything else, or a
 * pattern that needs no string, is compiled with the rules as before, so
 * a pattern ICU rejects is reported as it always was.
 *
 * A piece is exact when the strings it can match are few ("(?:的)?" is ""
 * or 的); a sequence joins exact pieces while they stay few, and every
 * run it cannot extend, and every requirement of a piece that is not
 * exact, becomes a requirement of the sequence (the best S_ANDS are kept,
 * those whose shortest string is longest); alternatives keep the union
 * of their best requirements. */

#define S_LITS BS_PROSE_LITS
#define S_ANDS BS_PROSE_ANDS
#define S_DEPTH 16 /* groups within groups */

typedef struct S_set {
  int n;
  size_t score;          /* the shortest string's length, in req[] */
  const char *s[S_LITS]; /* NUL-terminated, in the reading's arena */
} S_set;

typedef struct S_info {
  bool exact;         /* ex is all the piece can match */
  S_set ex;
  int nreq;           /* a match contains a string of each req[i] */
  S_set req[S_ANDS];
} S_info;

typedef struct S_rx {
  const unsigned char *p, *end; /* the pattern still to read */
  bool bad;                     /* outside the subset */
  int behind;                   /* inside a look-behind */
  int depth;                    /* open groups */
  bs_arena *a;                  /* the strings */
} S_rx;

static void S_alt(S_rx *r, S_info *out);

static int
S_peek(const S_rx *r)
{
  return r->p < r->end ? *r->p : -1;
}

static void
S_next(S_rx *r)
{
  if (r->p < r->end)
    r->p++;
}

static bool
S_quant_char(int c)
{
  return c == '?' || c == '*' || c == '+' || c == '{';
}

/* *i = exactly the string s[0..len). */
static void
S_exact(S_rx *r, S_info *i, const void *s, size_t len)
{
  i->exact = true;
  i->ex.n = 1;
  i->ex.s[0] = bs_arena_strndup(r->a, s, len);
  i->nreq = 0;
}

static void
S_unknown(S_info *i)
{
  i->exact = false;
  i->nreq = 0;
}

/* The shortest string of a set in bytes: 0 if it has none, or "". */
static size_t
S_score(const S_set *s)
{
  size_t m = s->n ? SIZE_MAX : 0;
  for (int k = 0; k < s->n; k++) {
    size_t l = strlen(s->s[k]);
    if (l < m)
      m = l;
  }
  return m;
}

/* Whether h[0..hl) contains n[0..nl): the strings are a few bytes long,
 * where a plain loop beats memmem's set-up. */
static bool
S_contains(const char *h, size_t hl, const char *n, size_t nl)
{
  for (size_t i = 0; i + nl <= hl; i++)
    if (h[i] == n[0] && memcmp(h + i, n, nl) == 0)
      return true;
  return false;
}

/* *s without the strings that contain another of it (a text that holds
 * them holds that one) or repeat one. */
static void
S_minimize(S_set *s)
{
  /* compared against the strings as they were: the kept ones are packed
   * into s->s while the loop still reads it */
  const char *was[S_LITS];
  size_t len[S_LITS];
  for (int k = 0; k < s->n; k++) {
    was[k] = s->s[k];
    len[k] = strlen(was[k]);
  }
  int n = 0;
  for (int k = 0; k < s->n; k++) {
    bool covered = false;
    for (int j = 0; j < s->n && !covered; j++)
      covered = j != k && len[j] <= len[k] && (len[j] < len[k] || j < k) &&
                S_contains(was[k], len[k], was[j], len[j]);
    if (!covered)
      s->s[n++] = was[k];
  }
  s->n = n;
}

/* Add `s` to the requirements of *i, in place of the worst when S_ANDS
 * are kept. */
static void
S_require(S_info *i, const S_set *s)
{
  size_t score = S_score(s);
  if (!score)
    return;
  int at = i->nreq;
  if (at == S_ANDS) {
    at = 0;
    for (int k = 1; k < S_ANDS; k++)
      if (i->req[k].score < i->req[at].score)
        at = k;
    if (i->req[at].score >= score)
      return;
  } else {
    i->nreq++;
  }
  i->req[at] = *s;
  i->req[at].score = score;
}

/* The requirement of *i that is hardest to meet, or NULL. */
static const S_set *
S_best(const S_info *i)
{
  const S_set *b = NULL;
  if (i->exact)
    return S_score(&i->ex) ? &i->ex : NULL;
  for (int k = 0; k < i->nreq; k++)
    if (!b || i->req[k].score > b->score)
      b = &i->req[k];
  return b;
}

/* *acc = each string of *acc followed by each of `s`; false (and *acc
 * unchanged) when there would be more than S_LITS. */
static bool
S_product(S_rx *r, S_set *acc, const S_set *s)
{
  if (acc->n * s->n > S_LITS)
    return false;
  S_set out = {0, 0, {0}};
  for (int k = 0; k < acc->n; k++)
    for (int j = 0; j < s->n; j++) {
      size_t a = strlen(acc->s[k]), b = strlen(s->s[j]);
      char *t = bs_arena_alloc(r->a, a + b + 1);
      memcpy(t, acc->s[k], a);
      memcpy(t + a, s->s[j], b + 1);
      out.s[out.n++] = t;
    }
  *acc = out;
  return true;
}

/* *acc = the strings of *acc and `s`; false when they would not fit. */
static bool
S_add(S_set *acc, const S_set *s)
{
  int n = acc->n;
  for (int j = 0; j < s->n; j++) {
    bool dup = false;
    for (int k = 0; k < n && !dup; k++)
      dup = strcmp(acc->s[k], s->s[j]) == 0;
    if (dup)
      continue;
    if (acc->n == S_LITS) {
      acc->n = n;
      return false;
    }
    acc->s[acc->n++] = s->s[j];
  }
  return true;
}

/* The next code point of the pattern as a literal: its length in bytes,
 * or 0 and bad (malformed or overlong UTF-8, a surrogate, a control
 * character). */
static size_t
S_rx_char(S_rx *r, long *cp)
{
  size_t i = 0;
  long c = S_cp(r->p, (size_t)(r->end - r->p), &i);
  long least = i == 1 ? 0x20 : i == 2 ? 0x80 : i == 3 ? 0x800 : 0x10000;
  if (c < least || c == 0x7F || c > 0x10FFFF ||
      (c >= 0xD800 && c <= 0xDFFF)) {
    r->bad = true;
    return 0;
  }
  r->p += i;
  *cp = c;
  return i;
}

/* After "\": true for an escaped metacharacter (its byte in *lit), false
 * for \s \d \w \S \D \W; anything else is bad. */
static bool
S_escape(S_rx *r, char *lit)
{
  int c = S_peek(r);
  S_next(r);
  if (c > 0 && strchr("\\^$.|?*+()[]{}", c)) {
    *lit = (char)c;
    return true;
  }
  if (c <= 0 || !strchr("sSdDwW", c))
    r->bad = true;
  return false;
}

/* One member of a set: its code point with its bytes in lit[0..*len),
 * -2 for \s and the like, -1 when bad.  Characters with a meaning inside
 * ICU's sets are refused ([: opens a POSIX class only first). */
static long
S_member(S_rx *r, char *lit, size_t *len, bool first)
{
  int c = S_peek(r);
  if (c == '\\') {
    S_next(r);
    if (!S_escape(r, lit))
      return r->bad ? -1 : -2;
    *len = 1;
    return (unsigned char)lit[0];
  }
  if (c < 0 || (c < 0x80 && strchr("[]-&{}$^ \\", c)) ||
      (c == ':' && first)) {
    r->bad = true;
    return -1;
  }
  const unsigned char *at = r->p;
  long cp;
  size_t n = S_rx_char(r, &cp);
  if (!n)
    return -1;
  memcpy(lit, at, n);
  *len = n;
  return cp;
}

/* After "[": exact when it lists a few literals only. */
static void
S_class(S_rx *r, S_info *out)
{
  bool exact = true;
  S_set s = {0, 0, {0}};
  if (S_peek(r) == '^') {
    exact = false;
    S_next(r);
  }
  int members = 0;
  while (!r->bad && S_peek(r) != ']') {
    char lit[8];
    size_t len = 0;
    long lo = S_member(r, lit, &len, members++ == 0);
    if (lo == -1)
      break;
    if (lo >= 0 && S_peek(r) == '-') { /* a range: ends in order */
      S_next(r);
      char hl[8];
      size_t hn;
      if (S_member(r, hl, &hn, false) < lo)
        r->bad = true;
      lo = -2;
    }
    if (lo >= 0 && exact && s.n < S_LITS)
      s.s[s.n++] = bs_arena_strndup(r->a, lit, len);
    else
      exact = false;
  }
  if (S_peek(r) != ']' || !members)
    r->bad = true;
  S_next(r);
  S_unknown(out);
  if (exact) {
    out->exact = true;
    out->ex = s;
  }
}

/* Up to 4 digits: their value; -1 when there are none. */
static long
S_number(S_rx *r)
{
  long v = -1;
  int d = 0;
  while (S_peek(r) >= '0' && S_peek(r) <= '9') {
    if (++d > 4)
      r->bad = true;
    v = (v < 0 ? 0 : v * 10) + (S_peek(r) - '0');
    S_next(r);
  }
  return v;
}

/* After "{": an interval {n}, {n,} or {n,m} with n <= m; false and bad if
 * malformed.  *hi = -1: no bound. */
static bool
S_interval(S_rx *r, long *lo, long *hi)
{
  *lo = S_number(r);
  *hi = *lo;
  if (S_peek(r) == ',') {
    S_next(r);
    *hi = S_number(r);
  }
  if (r->bad || *lo < 0 || S_peek(r) != '}' || (*hi >= 0 && *hi < *lo)) {
    r->bad = true;
    return false;
  }
  S_next(r);
  return true;
}

/* A quantifier after a piece whose strings are *i, if one follows. */
static void
S_quantifier(S_rx *r, S_info *i)
{
  int c = S_peek(r);
  long lo, hi;
  if (!S_quant_char(c))
    return;
  S_next(r);
  if (c == '{') {
    if (!S_interval(r, &lo, &hi))
      return;
  } else {
    lo = c == '+';
    hi = c == '?' ? 1 : -1;
  }
  if (S_peek(r) == '?' || S_peek(r) == '+') /* lazy, possessive */
    S_next(r);
  /* no quantifier on a quantifier; ICU bounds a look-behind's length */
  if (S_quant_char(S_peek(r)) || (r->behind && !(lo == 0 && hi == 1)))
    r->bad = true;
  if (lo == 1 && hi == 1)
    return;
  S_set empty = {1, 0, {""}};
  if (lo == 0 && hi == 1 && i->exact && S_add(&i->ex, &empty))
    return;
  if (lo == 0) {
    S_unknown(i);
  } else if (i->exact) {
    S_set ex = i->ex;
    S_unknown(i);
    S_require(i, &ex);
  }
}

/* After "(": a group; a look-around matches no text of its own. */
static void
S_group(S_rx *r, S_info *out)
{
  bool look = false, behind = false;
  if (S_peek(r) == '?') {
    S_next(r);
    if (S_peek(r) == '<') {
      S_next(r);
      behind = true;
    }
    int c = S_peek(r);
    look = c == '=' || c == '!';
    if (!look && (c != ':' || behind))
      r->bad = true;
    S_next(r);
  }
  if (++r->depth > S_DEPTH || (look && r->behind))
    r->bad = true;
  r->behind += behind;
  if (!r->bad)
    S_alt(r, out);
  r->behind -= behind;
  r->depth--;
  if (S_peek(r) != ')')
    r->bad = true;
  S_next(r);
  if (look) {
    S_exact(r, out, "", 0);
    if (S_quant_char(S_peek(r)))
      r->bad = true;
  } else {
    S_quantifier(r, out);
  }
}

/* One piece of a sequence, with its quantifier. */
static void
S_piece(S_rx *r, S_info *out)
{
  int c = S_peek(r);
  char lit;
  S_unknown(out);
  if (c >= 0x80 || !strchr("()^$[\\.?*+{}]|", c)) {
    const unsigned char *at = r->p;
    long cp;
    size_t n = S_rx_char(r, &cp);
    if (n) {
      S_exact(r, out, at, n);
      S_quantifier(r, out);
    }
    return;
  }
  S_next(r);
  if (c == '(') {
    S_group(r, out);
    return;
  }
  if (c == '^' || c == '$') {
    S_exact(r, out, "", 0);
    if (S_quant_char(S_peek(r)))
      r->bad = true;
    return;
  }
  if (c == '[') {
    S_class(r, out);
  } else if (c == '\\') {
    if (S_escape(r, &lit))
      S_exact(r, out, &lit, 1);
  } else if (S_quant_char(c) || c == '}' || c == ']') {
    r->bad = true; /* a quantifier after nothing, a stray bracket */
    return;
  } /* else ".", any character */
  S_quantifier(r, out);
}

/* A sequence, up to "|", ")" or the end. */
static void
S_seq(S_rx *r, S_info *out)
{
  S_set cur = {1, 0, {""}}; /* the run of exact pieces being joined */
  bool exact = true;
  S_info piece;
  S_unknown(out);
  while (!r->bad && S_peek(r) >= 0 && S_peek(r) != '|' && S_peek(r) != ')') {
    S_piece(r, &piece);
    if (piece.exact && S_product(r, &cur, &piece.ex))
      continue;
    exact = false;
    S_require(out, &cur);
    cur = (S_set){1, 0, {""}};
    if (piece.exact)
      cur = piece.ex;
    for (int k = 0; k < piece.nreq; k++)
      S_require(out, &piece.req[k]);
  }
  if (exact) {
    out->exact = true;
    out->ex = cur;
  } else {
    S_require(out, &cur);
  }
}

/* Alternatives, up to ")" or the end. */
static void
S_alt(S_rx *r, S_info *out)
{
  S_seq(r, out);
  while (!r->bad && S_peek(r) == '|') {
    S_next(r);
    S_info b;
    S_seq(r, &b);
    if (out->exact && b.exact && S_add(&out->ex, &b.ex))
      continue;
    const S_set *x = S_best(out), *y = S_best(&b);
    S_set u = x ? *x : (S_set){0, 0, {0}}, v = y ? *y : (S_set){0, 0, {0}};
    bool known = x && y && S_add(&u, &v);
    if (x && y && !known) {
      S_minimize(&u);
      S_minimize(&v);
      known = S_add(&u, &v);
    }
    S_unknown(out);
    if (known)
      S_require(out, &u);
  }
}

bool
bs_prose_needs(const char *pattern, bs_prose_need *need)
{
  bs_arena a;
  bs_arena_init(&a);
  S_rx r = {(const unsigned char *)pattern,
            (const unsigned char *)pattern + strlen(pattern), false, 0, 0,
            &a};
  S_info i;
  S_alt(&r, &i);
  if (i.exact) {
    S_set ex = i.ex;
    S_unknown(&i);
    S_require(&i, &ex);
  }
  memset(need, 0, sizeof *need);
  /* the lists in the order that rules texts out soonest: longest
   * shortest string first */
  for (int k = 1; k < i.nreq; k++)
    for (int j = k; j > 0 && i.req[j].score > i.req[j - 1].score;
         j--) {
      S_set t = i.req[j];
      i.req[j] = i.req[j - 1];
      i.req[j - 1] = t;
    }
  if (!r.bad && r.p == r.end)
    for (int k = 0; k < i.nreq; k++, need->nsets++) {
      S_minimize(&i.req[k]);
      for (int j = 0; j < i.req[k].n; j++, need->n[k]++)
        need->s[k][j] = bs_xstrdup(i.req[k].s[j]);
    }
  bs_arena_free(&a);
  return need->nsets > 0;
}

void
bs_prose_need_free(bs_prose_need *need)
{
  for (int k = 0; k < need->nsets; k++)
    for (int j = 0; j < need->n[k]; j++)
      free(need->s[k][j]);
  need->nsets = 0;
}

/* The pairs of adjacent bytes a text holds, hashed to 4096 bits, so that
 * a string with a pair the text lacks is known to be absent without
 * searching (most of the strings the patterns need are not in a given
 * text); a string whose pairs are all there is searched for as before. */
typedef struct S_pairs {
  uint64_t bits[64];
} S_pairs;

static unsigned
S_pair(unsigned char a, unsigned char b)
{
  return ((unsigned)a << 4 ^ b) & 4095u;
}

static void
S_pairs_of(const char *text, S_pairs *pp)
{
  memset(pp, 0, sizeof *pp);
  const unsigned char *s = (const unsigned char *)text;
  for (size_t i = 0; s[i] && s[i + 1]; i++) {
    unsigned h = S_pair(s[i], s[i + 1]);
    pp->bits[h >> 6] |= (uint64_t)1 << (h & 63);
  }
}

/* Whether `lit` may be in the text of `pp`: false only when it is not. */
static bool
S_pairs_may(const S_pairs *pp, const char *lit)
{
  const unsigned char *s = (const unsigned char *)lit;
  for (size_t i = 0; s[i] && s[i + 1]; i++) {
    unsigned h = S_pair(s[i], s[i + 1]);
    if (!(pp->bits[h >> 6] >> (h & 63) & 1))
      return false;
  }
  return true;
}

/* bs_prose_may_match, with the text's pairs when known (else NULL). */
static bool
S_may_match(const bs_prose_need *need, const char *text, const S_pairs *pp)
{
  for (int k = 0; k < need->nsets; k++) {
    bool any = false;
    for (int j = 0; j < need->n[k] && !any; j++)
      any = (!pp || S_pairs_may(pp, need->s[k][j])) &&
            strstr(text, need->s[k][j]) != NULL;
    if (!any)
      return false;
  }
  return true;
}

bool
bs_prose_may_match(const bs_prose_need *need, const char *text)
{
  return S_may_match(need, text, NULL);
}

/* ------------------------------------------------------------------ */
/* Compiling the rules' patterns                                        */

/* The <define>s of a rules document, read once for all its patterns. */
typedef struct S_defs {
  int n;
  char **name, **pattern;
} S_defs;

static void
S_defs_read(S_defs *d, xmlNodePtr root)
{
  memset(d, 0, sizeof *d);
  for (xmlNodePtr n = root ? root->children : NULL; n; n = n->next) {
    if (!bs_xml_is(n, "define"))
      continue;
    d->name = bs_xrealloc(d->name, (size_t)(d->n + 1) * sizeof *d->name);
    d->pattern =
        bs_xrealloc(d->pattern, (size_t)(d->n + 1) * sizeof *d->pattern);
    char *pat = bs_xml_prop(n, "pattern");
    d->name[d->n] = bs_xml_prop(n, "name"); /* NULL: never used */
    d->pattern[d->n++] = pat ? pat : bs_xstrdup("");
  }
}

static void
S_defs_free(S_defs *d)
{
  for (int i = 0; i < d->n; i++) {
    free(d->name[i]);
    free(d->pattern[i]);
  }
  free(d->name);
  free(d->pattern);
}

/* `pattern` with every {NAME} of a <define> replaced (malloc'd); a
 * define may use others, to a depth of 8 (a loop stops there). */
static char *
S_expand(const S_defs *d, const char *pattern, int depth)
{
  size_t cap = strlen(pattern) + 1, len = 0;
  char *out = bs_xmalloc(cap);
  const char *s = pattern;
  while (*s) {
    const char *e = *s == '{' ? strchr(s, '}') : NULL;
    int k = 0;
    while (e && k < d->n &&
           !(d->name[k] && (size_t)(e - s - 1) == strlen(d->name[k]) &&
             memcmp(s + 1, d->name[k], (size_t)(e - s - 1)) == 0))
      k++;
    if (e && k < d->n) { /* the first define of that name */
      char *pat = depth < 8 ? S_expand(d, d->pattern[k], depth + 1)
                            : bs_xstrdup("");
      size_t pl = strlen(pat);
      if (len + pl + 1 > cap) {
        cap = (len + pl + 1) * 2;
        out = bs_xrealloc(out, cap);
      }
      memcpy(out + len, pat, pl);
      len += pl;
      free(pat);
      s = e + 1;
      continue;
    }
    if (len + 2 > cap) {
      cap *= 2;
      out = bs_xrealloc(out, cap);
    }
    out[len++] = *s++;
  }
  out[len] = '\0';
  return out;
}

/* ICU's compiled form of the UTF-8 pattern `pat`, or NULL with *st set.
 * Only once S_re_loaded() is true. */
static URegularExpression *
S_regex(const char *pat, UParseError *pe, UErrorCode *st)
{
  UText *pt = utext_openUTF8(NULL, pat, -1, st);
  URegularExpression *re =
      U_SUCCESS(*st) ? S_re.uregex_openUText(pt, 0, pe, st) : NULL;
  utext_close(pt);
  return re;
}

static void
S_compile(S_compiled *c, const char *rules_path)
{
  xmlNodePtr root = xmlDocGetRootElement(c->rules);
  S_defs defs;
  S_defs_read(&defs, root);
  for (xmlNodePtr n = root ? root->children : NULL; n; n = n->next) {
    if (bs_xml_is(n, "prose") && !c->select)
      c->select = bs_xml_prop(n, "select");
    if (!bs_xml_is(n, "claim"))
      continue;
    c->claims = bs_xrealloc(c->claims,
                            (size_t)(c->nclaims + 1) * sizeof *c->claims);
    S_claim *cl = &c->claims[c->nclaims++];
    memset(cl, 0, sizeof *cl);
    cl->id = bs_xml_prop(n, "id");
    cl->value = bs_xml_prop(n, "value");
    cl->prose = bs_xml_prop(n, "prose");
    cl->where = bs_xml_prop(n, "where");
    cl->where_en = bs_xml_prop(n, "where-en");
    if (!cl->value && !c->error) {
      char buf[512];
      snprintf(buf, sizeof buf, "%s: claim %s has no value=\"XPATH\"",
               rules_path, cl->id ? cl->id : "?");
      c->error = bs_xstrdup(buf);
    }
    for (xmlNodePtr k = n->children; k; k = k->next) {
      if (!bs_xml_is(k, "pattern"))
        continue;
      xmlChar *text = xmlNodeGetContent(k);
      char *pat = S_expand(&defs, text ? (const char *)text : "", 0);
      xmlFree(text);
      bs_prose_need need;
      bool lazy = bs_prose_needs(pat, &need);
      UErrorCode st = U_ZERO_ERROR;
      UParseError pe;
      /* without libicui18n, left uncompiled: bs_prose_check reports the
       * library at the first text that needs it */
      URegularExpression *re =
          lazy || !S_re_loaded() ? NULL : S_regex(pat, &pe, &st);
      if (U_FAILURE(st)) {
        if (!c->error) {
          char buf[1024];
          snprintf(buf, sizeof buf,
                   "%s:%ld: claim %s: the pattern cannot be compiled (%s at "
                   "offset %d): %.300s",
                   rules_path, xmlGetLineNo(k), cl->id ? cl->id : "?",
                   u_errorName(st), pe.offset, pat);
          c->error = bs_xstrdup(buf);
        }
        free(pat);
        continue;
      }
      cl->pats = bs_xrealloc(cl->pats,
                             (size_t)(cl->npats + 1) * sizeof *cl->pats);
      S_pattern *p = &cl->pats[cl->npats++];
      memset(p, 0, sizeof *p);
      p->re = re;
      p->src = pat;
      p->need = need;
      char *fixed = bs_xml_prop(k, "claim");
      p->fixed = fixed != NULL;
      p->claim = fixed ? strtod(fixed, NULL) : 0;
      free(fixed);
    }
  }
  S_defs_free(&defs);
  if (!c->select)
    c->select = bs_xstrdup("//p");
  /* the XPaths compiled once: evaluating a compiled expression does not
   * change it, so the threads share them */
  c->select_x = xmlXPathCompile(BAD_CAST c->select);
  if (!c->select_x && !c->error) {
    char buf[600];
    snprintf(buf, sizeof buf, "%s: <prose select=\"%s\">: not an XPath",
             rules_path, c->select);
    c->error = bs_xstrdup(buf);
  }
  for (int k = 0; k < c->nclaims; k++) {
    S_claim *cl = &c->claims[k];
    cl->value_x = cl->value ? xmlXPathCompile(BAD_CAST cl->value) : NULL;
    cl->value_n = cl->value_x ? bs_xnum_compile(cl->value) : NULL;
    cl->prose_x = cl->prose ? xmlXPathCompile(BAD_CAST cl->prose) : NULL;
    if (cl->prose && !cl->prose_x && !c->error) {
      char buf[600];
      snprintf(buf, sizeof buf, "%s: claim %s: prose \"%s\" is not an XPath",
               rules_path, cl->id ? cl->id : "?", cl->prose);
      c->error = bs_xstrdup(buf);
    }
    if (cl->value && !cl->value_x && !c->error) {
      char buf[600];
      snprintf(buf, sizeof buf, "%s: claim %s: value \"%s\" is not an XPath",
               rules_path, cl->id ? cl->id : "?", cl->value);
      c->error = bs_xstrdup(buf);
    }
  }
}

/* The master of a pattern that waited for a text that may match it,
 * compiled now.  NULL, and the pattern skipped, if ICU refuses it, which
 * for the subset bs_prose_needs reads means memory ran out.  Only once
 * S_re_loaded() is true. */
static URegularExpression *
S_master(S_pattern *p)
{
  pthread_mutex_lock(&S_lock);
  if (!p->re && !p->failed) {
    UErrorCode st = U_ZERO_ERROR;
    UParseError pe;
    p->re = S_regex(p->src, &pe, &st);
    p->failed = U_FAILURE(st);
    if (p->failed)
      p->re = NULL;
  }
  URegularExpression *re = p->re;
  pthread_mutex_unlock(&S_lock);
  return re;
}

/* The compiled patterns of `rules`, compiled at the first use. */
static const S_compiled *
S_get(xmlDocPtr rules, const char *rules_path)
{
  pthread_mutex_lock(&S_lock);
  S_compiled *found = NULL;
  for (int i = 0; i < S_ncache && !found; i++)
    if (S_cache[i].rules == rules)
      found = &S_cache[i];
  if (!found && S_ncache < S_MAX_CACHE) {
    found = &S_cache[S_ncache++];
    memset(found, 0, sizeof *found);
    found->rules = rules;
    S_compile(found, rules_path);
  }
  pthread_mutex_unlock(&S_lock);
  return found;
}

void
bs_prose_cleanup(void)
{
  pthread_mutex_lock(&S_lock);
  for (int i = 0; i < S_ncache; i++) {
    S_compiled *c = &S_cache[i];
    for (int k = 0; k < c->nclaims; k++) {
      S_claim *cl = &c->claims[k];
      for (int j = 0; j < cl->npats; j++) {
        if (cl->pats[j].re)
          S_re.uregex_close(cl->pats[j].re);
        free(cl->pats[j].src);
        bs_prose_need_free(&cl->pats[j].need);
      }
      free(cl->pats);
      free(cl->id);
      free(cl->value);
      xmlXPathFreeCompExpr(cl->value_x);
      bs_xnum_free(cl->value_n);
      free(cl->prose);
      xmlXPathFreeCompExpr(cl->prose_x);
      free(cl->where);
      free(cl->where_en);
    }
    free(c->claims);
    free(c->select);
    xmlXPathFreeCompExpr(c->select_x);
    free(c->error);
  }
  S_ncache = 0;
  pthread_mutex_unlock(&S_lock);
}

/* ------------------------------------------------------------------ */
/* Checking                                                             */

/* Where `text` (a match in the string value of `el`) is written: the
 * first occurrence of its bytes in the source after the element's start,
 * else the element. */
static void
S_loc(bs_xml_parser *p, xmlNodePtr el, const char *text, size_t len,
      uint32_t *line, uint32_t *col)
{
  bs_xml_loc(p, el, line, col);
  size_t off = el->_private ? (size_t)(uintptr_t)el->_private - 1 : SIZE_MAX;
  const char *src = (const char *)p->doc->src;
  size_t n = p->doc->src_len;
  if (off >= n || !len)
    return;
  /* the phrases are specific enough that the first occurrence after the
   * element's start tag is in the element; text split by inline markup or
   * written with character references is not found: the element then */
  const char *hit = memmem(src + off, n - off, text, len);
  if (hit)
    bs_document_offset_loc(p->doc, (size_t)(hit - src), line, col);
}

/* A short excerpt of a match: at most 60 bytes, cut at a character. */
static void
S_excerpt(const char *s, size_t len, char *out, size_t outsz)
{
  size_t n = len < 60 ? len : 60;
  while (n < len && n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
    n--;
  if (n >= outsz)
    n = outsz - 1;
  memcpy(out, s, n);
  out[n] = '\0';
  if (n < len && n + 4 < outsz)
    strcat(out, "…");
}

static void
S_fmt(double v, char *out, size_t outsz)
{
  if (fabs(v) < 1e15 && v == floor(v)) {
    snprintf(out, outsz, "%.0f", v);
    return;
  }
  snprintf(out, outsz, "%.2f", v);
  size_t n = strlen(out);
  while (n > 1 && out[n - 1] == '0')
    out[--n] = '\0';
  if (n > 1 && out[n - 1] == '.')
    out[--n] = '\0';
}

/* The prose each claim reads when narrower than all of it (prose=""),
 * evaluated when a pattern of the claim first may match a text (most
 * documents never need it); claims with the same prose="" share one
 * evaluation. */
typedef struct S_scopes {
  const S_compiled *c;
  xmlXPathContextPtr x;
  xmlXPathObjectPtr *set; /* per claim, once done */
  bool *done, *owned;
} S_scopes;

/* Claim k's prose: NULL for all of it, else its evaluation; false when
 * that is no node-set and the claim reads nothing. */
static bool
S_scope(S_scopes *s, int k, xmlXPathObjectPtr *out)
{
  const S_claim *cl = &s->c->claims[k];
  *out = NULL;
  if (!cl->prose_x)
    return true;
  if (!s->done[k]) {
    int j = 0;
    while (j < k && !(s->c->claims[j].prose &&
                      strcmp(s->c->claims[j].prose, cl->prose) == 0))
      j++;
    if (!s->done[j]) {
      xmlNodePtr at = s->x->node;
      s->x->node = xmlDocGetRootElement(s->x->doc);
      s->set[j] = xmlXPathCompiledEval(s->c->claims[j].prose_x, s->x);
      s->x->node = at;
      s->owned[j] = s->done[j] = true;
    }
    s->set[k] = s->set[j];
    s->done[k] = true;
  }
  *out = s->set[k];
  return *out != NULL;
}

typedef struct S_span {
  const S_claim *claim;
  int64_t start, end;
} S_span;

/* `text` in UTF-16 (*u, *ulen) and the byte offset of each UTF-16 index
 * and of its end (*at); false, with nothing allocated, when ICU does not
 * take it. */
static bool
S_utf16(const char *text, UChar **u, int32_t *ulen, int64_t **at)
{
  size_t tlen = strlen(text);
  UErrorCode st = U_ZERO_ERROR;
  *u = bs_xmalloc((tlen + 1) * sizeof **u);
  *ulen = 0;
  u_strFromUTF8(*u, (int32_t)tlen + 1, ulen, text, (int32_t)tlen, &st);
  if (U_FAILURE(st) || *ulen < 0 || (size_t)*ulen > tlen) {
    free(*u);
    *u = NULL;
    return false;
  }
  int64_t *a = bs_xmalloc(((size_t)*ulen + 1) * sizeof *a);
  size_t b = 0;
  for (int32_t i = 0; i < *ulen; i++) {
    a[i] = (int64_t)b;
    unsigned char ch = (unsigned char)text[b];
    size_t n = ch < 0x80 ? 1 : ch < 0xE0 ? 2 : ch < 0xF0 ? 3 : 4;
    if (n == 4 && i + 1 < *ulen) /* a surrogate pair: two UTF-16 units */
      a[++i] = (int64_t)b;
    b += n;
  }
  a[*ulen] = (int64_t)tlen;
  *at = a;
  return true;
}

static void
S_check_text(bs_xml_parser *p, const S_compiled *c, xmlNodePtr el,
             const char *text, const S_pairs *pairs, double *values,
             S_scopes *scopes, URegularExpression **res)
{
  /* matched as UTF-16 (ICU's own form, several times faster than through
   * a UTF-8 UText), converted once a pattern is to run on the text */
  UErrorCode st = U_ZERO_ERROR;
  UChar *u = NULL;
  int32_t ulen = 0;
  int64_t *at = NULL;
  bool en = p->doc->diags.lang == BS_LANG_EN;
  bs_vec spans = BS_VEC_INIT(S_span);
  int r = 0;
  bool stop = false; /* not UTF-8 for ICU: no pattern runs */
  for (int k = 0; k < c->nclaims && !stop; k++) {
    const S_claim *cl = &c->claims[k];
    for (int j = 0; j < cl->npats && !stop; j++, r++) {
      if (!isfinite(values[k]) || !res[r] ||
          !S_may_match(&cl->pats[j].need, text, pairs))
        continue;
      xmlXPathObjectPtr scope;
      if (!S_scope(scopes, k, &scope)) {
        values[k] = NAN; /* not a node-set: the claim reads nothing */
        continue;
      }
      if (scope && (scope->type != XPATH_NODESET ||
                    !xmlXPathNodeSetContains(scope->nodesetval, el)))
        continue;
      if (!u && !S_utf16(text, &u, &ulen, &at)) {
        stop = true;
        continue;
      }
      URegularExpression *re = res[r];
      st = U_ZERO_ERROR;
      S_re.uregex_setText(re, u, ulen, &st);
      while (U_SUCCESS(st) && S_re.uregex_findNext(re, &st)) {
        int32_t ms16 = S_re.uregex_start(re, 0, &st);
        int32_t me16 = S_re.uregex_end(re, 0, &st);
        if (U_FAILURE(st) || ms16 < 0 || me16 < ms16 || me16 > ulen)
          break;
        int64_t ms = at[ms16], me = at[me16];
        double stated = cl->pats[j].claim;
        int decimals = 0;
        if (!cl->pats[j].fixed) {
          int32_t gs16 = S_re.uregex_start(re, 1, &st);
          int32_t ge16 = S_re.uregex_end(re, 1, &st);
          int64_t gs = gs16 >= 0 && gs16 <= ulen ? at[gs16] : -1;
          int64_t ge = ge16 >= 0 && ge16 <= ulen ? at[ge16] : -1;
          if (U_FAILURE(st) || gs < 0 || ge < gs ||
              !bs_prose_number(text + gs, (size_t)(ge - gs), &stated)) {
            st = U_ZERO_ERROR;
            continue;
          }
          decimals = S_decimals(text + gs, (size_t)(ge - gs));
        }
        /* one finding per claim and phrase, however many patterns match */
        bool seen = false;
        const S_span *sp = spans.data;
        for (size_t i = 0; i < spans.len && !seen; i++)
          seen = sp[i].claim == cl && ms < sp[i].end && me > sp[i].start;
        if (seen)
          continue;
        S_span add = {cl, ms, me};
        bs_vec_push(&spans, &add);
        double tol = 0.5 * pow(10, -decimals) + 1e-9;
        if (fabs(stated - values[k]) <= tol)
          continue;
        char excerpt[128], a[64], b[64];
        S_excerpt(text + ms, (size_t)(me - ms), excerpt, sizeof excerpt);
        S_fmt(stated, a, sizeof a);
        S_fmt(values[k], b, sizeof b);
        uint32_t line, col;
        S_loc(p, el, text + ms, (size_t)(me - ms), &line, &col);
        const char *where = en && cl->where_en ? cl->where_en : cl->where;
        bs_diag(&p->doc->diags, BS_WARNING, BS_D_PROSE, p->doc->path, line,
                col, excerpt, a, where ? where : (cl->id ? cl->id : "?"), b);
      }
    }
  }
  bs_vec_free(&spans);
  free(at);
  free(u);
}

/* Matchers of our own (ICU's are not to be shared between threads), one
 * per pattern of `c` in order: NULL for a pattern that no text of
 * texts[0..n) can match, whose master then need not be compiled.  When a
 * text needs ICU's regular expressions and they cannot be loaded, every
 * matcher is NULL and *missing is the first such text; else -1. */
static URegularExpression **
S_matchers(const S_compiled *c, xmlChar **texts, const S_pairs *pairs,
           int n, int npats, int *missing)
{
  URegularExpression **res = bs_xcalloc((size_t)npats + 1, sizeof *res);
  *missing = -1;
  int r = 0;
  for (int k = 0; k < c->nclaims; k++)
    for (int j = 0; j < c->claims[k].npats; j++, r++) {
      S_pattern *pt = &c->claims[k].pats[j];
      /* the first text it may match; a pattern compiled with the rules
       * (no need) may match any */
      int first = -1;
      for (int i = 0; i < n && first < 0; i++)
        if (texts[i] && (pt->need.nsets
                             ? S_may_match(&pt->need, (const char *)texts[i],
                                           &pairs[i])
                             : *texts[i] != '\0'))
          first = i;
      if (first < 0)
        continue;
      if (!S_re_loaded()) {
        if (*missing < 0 || first < *missing)
          *missing = first;
        continue;
      }
      URegularExpression *master = pt->need.nsets ? S_master(pt) : pt->re;
      UErrorCode st = U_ZERO_ERROR;
      res[r] = master ? S_re.uregex_clone(master, &st) : NULL;
      if (U_FAILURE(st))
        res[r] = NULL;
    }
  return res;
}

void
bs_prose_check(bs_xml_parser *p, xmlDocPtr rules, const char *rules_path,
               const char *type_name, xmlXPathContextPtr x)
{
  const S_compiled *c = S_get(rules, rules_path);
  if (!c || !c->nclaims)
    return;
  if (c->error) {
    bs_diag(&p->doc->diags, BS_ERROR, BS_D_REPORT_TYPE, NULL, 0, 0,
            type_name, c->error);
    return;
  }
  xmlNodePtr root = xmlDocGetRootElement(x->doc);
  /* the tables' values, once */
  double *values = bs_xmalloc((size_t)c->nclaims * sizeof *values);
  int npats = 0;
  for (int k = 0; k < c->nclaims; k++) {
    npats += c->claims[k].npats;
    /* mostly cells and sums of cells: walked, not through XPath */
    if (bs_xnum_eval(c->claims[k].value_n, x->doc, &values[k]))
      continue;
    x->node = root;
    xmlXPathObjectPtr o = xmlXPathCompiledEval(c->claims[k].value_x, x);
    values[k] = o ? xmlXPathCastToNumber(o) : NAN;
    if (!o) {
      char buf[600];
      snprintf(buf, sizeof buf, "%s: claim %s: XPath \"%s\" cannot be "
               "evaluated", rules_path,
               c->claims[k].id ? c->claims[k].id : "?", c->claims[k].value);
      bs_diag(&p->doc->diags, BS_ERROR, BS_D_REPORT_TYPE, NULL, 0, 0,
              type_name, buf);
    }
    xmlXPathFreeObject(o);
  }
  S_scopes scopes = {c, x,
                     bs_xcalloc((size_t)c->nclaims + 1, sizeof *scopes.set),
                     bs_xcalloc((size_t)c->nclaims + 1, sizeof *scopes.done),
                     bs_xcalloc((size_t)c->nclaims + 1, sizeof *scopes.owned)};
  x->node = root;
  xmlXPathObjectPtr o = bs_xpath_paths(x->doc, c->select);
  if (!o)
    o = xmlXPathCompiledEval(c->select_x, x);
  xmlNodeSetPtr ns = o && o->type == XPATH_NODESET ? o->nodesetval : NULL;
  int ntexts = ns ? ns->nodeNr : 0;
  xmlChar **texts = bs_xcalloc((size_t)ntexts + 1, sizeof *texts);
  for (int i = 0; i < ntexts; i++)
    texts[i] = xmlNodeGetContent(ns->nodeTab[i]);
  S_pairs *pairs = bs_xmalloc(((size_t)ntexts + 1) * sizeof *pairs);
  for (int i = 0; i < ntexts; i++)
    S_pairs_of(texts[i] ? (const char *)texts[i] : "", &pairs[i]);
  int missing;
  URegularExpression **res = S_matchers(c, texts, pairs, ntexts, npats,
                                         &missing);
  if (missing >= 0) {
    /* the patterns are skipped; the error is at the first text that
     * needed them */
    uint32_t line, col;
    bs_xml_loc(p, ns->nodeTab[missing], &line, &col);
    bool en = p->doc->diags.lang == BS_LANG_EN;
    bs_diag(&p->doc->diags, BS_ERROR, BS_D_LIBRARY, p->doc->path, line, col,
            BS_SONAME_ICUI18N,
            en ? "checking the numbers of the prose" : "核对正文中的数字",
            S_re_lib.why);
  }
  for (int i = 0; i < ntexts; i++) {
    if (texts[i] && *texts[i])
      S_check_text(p, c, ns->nodeTab[i], (const char *)texts[i], &pairs[i],
                   values, &scopes, res);
    xmlFree(texts[i]);
  }
  free(texts);
  free(pairs);
  xmlXPathFreeObject(o);
  for (int k = 0; k < npats; k++)
    if (res[k])
      S_re.uregex_close(res[k]);
  free(res);
  for (int k = 0; k < c->nclaims; k++)
    if (scopes.owned[k])
      xmlXPathFreeObject(scopes.set[k]);
  free(scopes.set);
  free(scopes.done);
  free(scopes.owned);
  free(values);
  x->node = root;
}
