// SPDX-License-Identifier: Apache-2.0
/* new.c - `banshi new TYPE`: a complete report source to start from.
 *
 * Design.  The source is the report type's own skeleton, data in the type's
 * folder (type.xml: <new format="2021" href="new-2021.xml" from-year="2021"/>),
 * with three placeholders filled: {{issuer}} (XML-escaped), {{year}} and
 * {{next-year}}.  The C code knows no report: a type that has no skeleton
 * cannot be started this way, and one that adds a format adds a file.  The
 * skeletons hold every element with zeros, each table row commented with its
 * official label, and placeholder prose; every skeleton validates and renders
 * for every year (tests/t_reports.py, group reports-new).
 *
 * The file is written under a temporary name and renamed into place, and an
 * existing file is never replaced: it may be a report someone filled in.
 *
 * banshi_new (include/banshi.h) is its interface.
 *
 * Layer 13 (batch, bag): docs/architecture.md. */
#include "banshi.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api.h"
#include "fsio.h"
#include "report.h"
#include "util.h"

/* `s` with & < > " escaped (malloc'd). */
static char *
S_escape(const char *s)
{
  size_t n = 0;
  for (const char *c = s; *c; c++)
    n += *c == '&' ? 5 : *c == '<' || *c == '>' ? 4 : *c == '"' ? 6 : 1;
  char *out = bs_xmalloc(n + 1), *o = out;
  for (const char *c = s; *c; c++) {
    const char *r = *c == '&'   ? "&amp;"
                    : *c == '<' ? "&lt;"
                    : *c == '>' ? "&gt;"
                    : *c == '"' ? "&quot;"
                                : NULL;
    if (r) {
      memcpy(o, r, strlen(r));
      o += strlen(r);
    } else {
      *o++ = *c;
    }
  }
  *o = '\0';
  return out;
}

/* The skeleton `text` with its placeholders filled (malloc'd). */
static char *
S_fill(const char *text, const char *issuer, int year)
{
  char y[16], ny[16];
  snprintf(y, sizeof y, "%d", year);
  snprintf(ny, sizeof ny, "%d", year + 1);
  const char *names[] = {"{{issuer}}", "{{year}}", "{{next-year}}"};
  const char *values[] = {issuer, y, ny};
  size_t cap = strlen(text) + 1, len = 0;
  char *out = bs_xmalloc(cap);
  for (const char *s = text; *s;) {
    int k = -1;
    for (int i = 0; i < 3 && k < 0; i++)
      if (strncmp(s, names[i], strlen(names[i])) == 0)
        k = i;
    const char *piece = k >= 0 ? values[k] : s;
    size_t pl = k >= 0 ? strlen(values[k]) : 1;
    if (len + pl + 1 > cap) {
      cap = (len + pl + 1) * 2;
      out = bs_xrealloc(out, cap);
    }
    memcpy(out + len, piece, pl);
    len += pl;
    s += k >= 0 ? strlen(names[k]) : 1;
  }
  out[len] = '\0';
  return out;
}

/* A name fit for a title: not empty, no control characters. */
static bool
S_issuer_ok(const char *s)
{
  if (!*s)
    return false;
  for (const unsigned char *c = (const unsigned char *)s; *c; c++)
    if (*c < 0x20 || *c == 0x7F)
      return false;
  return true;
}

/* "banshi: " and the catalogue's message `code` in `lang`, a line. */
static void
S_say(FILE *err, bs_lang lang, bs_code code, ...)
{
  fputs(lang == BS_LANG_EN ? "banshi: " : "banshi：", err);
  va_list ap;
  va_start(ap, code);
  vfprintf(err, bs_diag_format(code, lang), ap);
  va_end(ap);
  fputc('\n', err);
}

int
banshi_new(banshi_env *env, const char *type, const char *format,
           const char *year_s, const char *issuer, const char *output,
           FILE *out, FILE *err)
{
  bs_lang lang = bs_env_options(env)->lang;
  if (!type || !year_s || !issuer)
    return BS_STATUS_USAGE;
  char *end = NULL;
  long year = strtol(year_s, &end, 10);
  if (*end || strlen(year_s) != 4 || year < 1900 || year > 2998) {
    S_say(err, lang, BS_D_NEW_YEAR, year_s);
    return BS_STATUS_USAGE;
  }
  if (!S_issuer_ok(issuer)) {
    S_say(err, lang, BS_D_NEW_ISSUER);
    return BS_STATUS_USAGE;
  }
  char *why = NULL;
  char *skel = bs_report_type_skeleton(type, format, (int)year, &why);
  if (!skel) {
    S_say(err, lang, BS_D_TEXT, why ? why : "?");
    free(why);
    return BS_STATUS_USAGE;
  }
  size_t len = 0;
  unsigned char *text = bs_read_file(skel, 1 << 20, &len);
  if (!text) {
    S_say(err, lang, BS_D_IO_READ, skel, strerror(errno));
    free(skel);
    return BS_STATUS_FAILURE;
  }
  char *esc = S_escape(issuer);
  char *src = S_fill((const char *)text, esc, (int)year);
  free(esc);
  free(text);
  int status = BS_STATUS_OK;
  struct stat st;
  if (!output || strcmp(output, "-") == 0) {
    if (fputs(src, out) == EOF || fflush(out) != 0)
      status = BS_STATUS_FAILURE;
  } else if (lstat(output, &st) == 0) {
    S_say(err, lang, BS_D_NEW_EXISTS, output);
    status = BS_STATUS_FAILURE;
  } else {
    int e = bs_atomic_write(output, src, strlen(src), true);
    if (e) {
      S_say(err, lang, BS_D_IO_WRITE, output, strerror(e));
      status = BS_STATUS_FAILURE;
    } else {
      S_say(err, lang, BS_D_NEW_WRITTEN, output, output);
    }
  }
  free(src);
  free(skel);
  return status;
}
