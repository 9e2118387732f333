// SPDX-License-Identifier: Apache-2.0
/* util.c - files, paths and UTF-8; see util.h.
 * Layer 1 (util, diag): docs/architecture.md. */
#include "util.h"

#include "fsio.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

unsigned char *
bs_read_file(const char *path, size_t max_bytes, size_t *len)
{
  struct stat st;
  int fd = bs_input_open(path, max_bytes, &st);
  if (fd < 0)
    return NULL;
  unsigned char *buf = bs_input_read(fd, &st, len);
  int e = errno;
  close(fd);
  errno = e;
  return buf;
}

unsigned
bs_cpus(void)
{
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0)
      return (unsigned)n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (unsigned)n : 1;
}

bool
bs_file_readable(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
         access(path, R_OK) == 0;
}

/* The join of dir and name into out (NULL: only measure); returns the
 * length.  The rule of both joins below. */
static size_t
S_join(char *out, const char *dir, const char *name)
{
  size_t dl = strlen(dir), nl = strlen(name);
  if (name[0] == '/' || dl == 0)
    dl = 0;
  bool slash = dl && dir[dl - 1] != '/';
  if (out) {
    memcpy(out, dir, dl);
    if (slash)
      out[dl] = '/';
    memcpy(out + dl + slash, name, nl + 1);
  }
  return dl + slash + nl;
}

char *
bs_path_join(bs_arena *a, const char *dir, const char *name)
{
  char *out = bs_arena_alloc(a, S_join(NULL, dir, name) + 1);
  S_join(out, dir, name);
  return out;
}

char *
bs_path_join_new(const char *dir, const char *name)
{
  char *out = bs_xmalloc(S_join(NULL, dir, name) + 1);
  S_join(out, dir, name);
  return out;
}

char *
bs_path_inside(const char *p)
{
  if (p[0] == '/')
    return NULL;
  char *out = NULL;
  bs_vec parts = BS_VEC_INIT(const char *);
  bs_vec lens = BS_VEC_INIT(size_t);
  bool ok = true;
  for (const char *c = p; *c && ok;) {
    const char *e = strchr(c, '/');
    size_t n = e ? (size_t)(e - c) : strlen(c);
    if (n == 2 && c[0] == '.' && c[1] == '.') {
      if (parts.len == 0)
        ok = false;
      else {
        parts.len--;
        lens.len--;
      }
    } else if (n > 0 && !(n == 1 && c[0] == '.')) {
      bs_vec_push(&parts, &c);
      bs_vec_push(&lens, &n);
    }
    c = e ? e + 1 : c + n;
  }
  ok = ok && parts.len > 0;
  if (ok) {
    size_t total = 1;
    for (size_t i = 0; i < parts.len; i++)
      total += ((size_t *)lens.data)[i] + 1;
    char *o = bs_xmalloc(total), *w = o;
    for (size_t i = 0; i < parts.len; i++) {
      if (i)
        *w++ = '/';
      size_t n = ((size_t *)lens.data)[i];
      memcpy(w, ((const char **)parts.data)[i], n);
      w += n;
    }
    *w = '\0';
    out = o;
  }
  bs_vec_free(&parts);
  bs_vec_free(&lens);
  return out;
}

char *
bs_path_dir(bs_arena *a, const char *path)
{
  const char *s = strrchr(path, '/');
  if (!s)
    return bs_arena_strdup(a, ".");
  if (s == path)
    return bs_arena_strdup(a, "/");
  return bs_arena_strndup(a, path, (size_t)(s - path));
}

int
bs_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
  if (n == 0)
    return 0;
  unsigned c = s[0];
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  int len;
  uint32_t v, min;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    v = c & 0x1F;
    min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    v = c & 0x0F;
    min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    v = c & 0x07;
    min = 0x10000;
  } else {
    return 0;
  }
  if ((size_t)len > n)
    return 0;
  for (int i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80)
      return 0;
    v = (v << 6) | (s[i] & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
    return 0;
  *cp = v;
  return len;
}

int
bs_utf8_encode(uint32_t cp, char *out)
{
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (cp >> 18));
  out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* Eight bytes of s, in any byte order (the tests below treat each byte
 * alike). */
static inline uint64_t
S_word(const unsigned char *s)
{
  uint64_t x;
  memcpy(&x, s, sizeof x);
  return x;
}

#define S_HIGH UINT64_C(0x8080808080808080)

size_t
bs_utf8_check(const unsigned char *s, size_t n)
{
  size_t i = 0;
  while (i < n) {
    if (s[i] < 0x80) {
      i++;
      /* runs of ASCII (markup, digits) eight bytes at a time */
      while (n - i >= 8 && !(S_word(s + i) & S_HIGH))
        i += 8;
      continue;
    }
    uint32_t cp;
    int l = bs_utf8_decode(s + i, n - i, &cp);
    if (l == 0)
      return i;
    i += (size_t)l;
  }
  return n;
}

size_t
bs_utf8_count(const unsigned char *s, size_t n)
{
  /* n less the continuation bytes (10xxxxxx), counted eight bytes at a
   * time: bit 7 of a byte, and not bit 6 (moved up by the shift), gives
   * a 1 in that byte's lane; the lanes add up for 255 words at most */
  size_t cont = 0, i = 0;
  while (n - i >= 8) {
    size_t words = (n - i) / 8;
    if (words > 255)
      words = 255;
    uint64_t acc = 0;
    for (size_t w = 0; w < words; w++, i += 8) {
      uint64_t x = S_word(s + i);
      acc += (x & ~(x << 1) & S_HIGH) >> 7;
    }
    acc = (acc & UINT64_C(0x00FF00FF00FF00FF)) +
          ((acc >> 8) & UINT64_C(0x00FF00FF00FF00FF));
    cont += (size_t)((acc * UINT64_C(0x0001000100010001)) >> 48);
  }
  for (; i < n; i++)
    if ((s[i] & 0xC0) == 0x80)
      cont++;
  return n - cont;
}

void
bs_cp_show(uint32_t cp, char out[16])
{
  if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
    snprintf(out, 16, "\\x%02X", (unsigned)cp);
    return;
  }
  int n = bs_utf8_encode(cp, out);
  out[n] = '\0';
}

/* Digits by hand: this runs for every number of every content stream, and
 * snprintf took a tenth of the instructions of a document. */
/* Two decimal digits of each number below 100. */
static const char S_digits2[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233"
    "34353637383940414243444546474849505152535455565758596061626364656667"
    "6869707172737475767778798081828384858687888990919293949596979899";

/* Inline in bs_put_mpt (a call there cost 4% of its instructions). */
static inline char *
S_put_u64(char *out, uint64_t v)
{
  /* two digits a step, right to left into scratch, then copied out */
  char tmp[24];
  int n = (int)sizeof tmp;
  while (v >= 100) {
    unsigned d = (unsigned)(v % 100);
    v /= 100;
    n -= 2;
    memcpy(tmp + n, S_digits2 + 2 * d, 2);
  }
  if (v >= 10) {
    n -= 2;
    memcpy(tmp + n, S_digits2 + 2 * v, 2);
  } else {
    tmp[--n] = (char)('0' + v);
  }
  memcpy(out, tmp + n, sizeof tmp - (size_t)n);
  return out + (sizeof tmp - (size_t)n);
}

char *
bs_put_u64(char *out, uint64_t v)
{
  return S_put_u64(out, v);
}

char *
bs_put_mpt(char *out, int64_t mpt)
{
  /* The PDF writer formats some 5,000 numbers a document (every rule's
   * ends, every run's position). */
  char *o = out;
  uint64_t v = (uint64_t)mpt;
  if (mpt < 0) {
    *o++ = '-';
    v = 0 - v;
  }
  uint64_t ip = v / 1000;
  unsigned fp = (unsigned)(v - ip * 1000);
  o = S_put_u64(o, ip);
  if (fp) {
    /* up to three decimals, without trailing zeros */
    o[0] = '.';
    o[1] = (char)('0' + fp / 100);
    memcpy(o + 2, S_digits2 + 2 * (fp % 100), 2);
    o += fp % 10 ? 4 : fp % 100 ? 3 : 2;
  }
  return o;
}

void
bs_fmt_mpt(int64_t mpt, char out[32])
{
  *bs_put_mpt(out, mpt) = '\0';
}

bool
bs_parse_length(const char *s, bool allow_percent, int32_t *value,
                bool *is_percent)
{
  if (!s)
    return false;
  while (*s == ' ')
    s++;
  char *end;
  double v = strtod(s, &end);
  if (end == s || v < 0 || v > 100000)
    return false;
  while (*end == ' ')
    end++;
  double mpt;
  if (is_percent)
    *is_percent = false;
  if (strcmp(end, "pt") == 0)
    mpt = v * 1000.0;
  else if (strcmp(end, "mm") == 0)
    mpt = v * 72000.0 / 25.4;
  else if (strcmp(end, "cm") == 0)
    mpt = v * 720000.0 / 25.4;
  else if (strcmp(end, "in") == 0)
    mpt = v * 72000.0;
  else if (allow_percent && strcmp(end, "%") == 0) {
    if (v > 100)
      return false;
    if (is_percent)
      *is_percent = true;
    mpt = v * 1000.0;
  } else
    return false;
  *value = (int32_t)(mpt + 0.5);
  return true;
}

bool
bs_parse_font_size(const char *s, int32_t *mpt)
{
  /* 号数制, GB/T 9704 notes §A7 */
  static const struct {
    const char *name;
    int32_t mpt;
  } sizes[] = {
      {"初号", 42000}, {"小初", 36000}, {"一号", 26000}, {"小一", 24000},
      {"二号", 22000}, {"小二", 18000}, {"三号", 16000}, {"小三", 15000},
      {"四号", 14000}, {"小四", 12000}, {"五号", 10500}, {"小五", 9000},
      {"六号", 7500},  {"小六", 6500},  {"七号", 5500},  {"八号", 5000},
  };
  if (!s)
    return false;
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
    if (strcmp(s, sizes[i].name) == 0) {
      *mpt = sizes[i].mpt;
      return true;
    }
  int32_t v;
  bool pct;
  if (!bs_parse_length(s, false, &v, &pct) || v <= 0 || v > 500000)
    return false;
  *mpt = v;
  return true;
}

/* ------------------------------------------------------------------ */
/* Percent-encoding                                                     */

int
bs_hex_value(int c)
{
  return c >= '0' && c <= '9'   ? c - '0'
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                : -1;
}

static bool
S_pct_needed(unsigned char c, unsigned set)
{
  if (c == '%')
    return true;
  if ((set & BS_PCT_CONTROLS) && (c < 0x20 || c == 0x7F))
    return true;
  return (set & BS_PCT_LINE_BREAKS) && (c == '\r' || c == '\n');
}

char *
bs_pct_encode(const char *s, size_t n, unsigned set)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t len = 0;
  for (size_t i = 0; i < n; i++)
    len += S_pct_needed((unsigned char)s[i], set) ? 3 : 1;
  char *out = bs_xmalloc(len + 1), *o = out;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (S_pct_needed(c, set)) {
      *o++ = '%';
      *o++ = hex[c >> 4];
      *o++ = hex[c & 15];
    } else {
      *o++ = (char)c;
    }
  }
  *o = '\0';
  return out;
}

bool
bs_pct_decode(char *s)
{
  char *w = s;
  for (const char *r = s; *r; r++) {
    if (*r != '%') {
      *w++ = *r;
      continue;
    }
    int hi = bs_hex_value((unsigned char)r[1]);
    int lo = hi >= 0 ? bs_hex_value((unsigned char)r[2]) : -1;
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
      return false;
    *w++ = (char)(hi * 16 + lo);
    r += 2;
  }
  *w = '\0';
  return true;
}
