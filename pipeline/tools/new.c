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

int
banshi_new(banshi_env *env, const char *type, const char *format,
           const char *year_s, const char *issuer, const char *output,
           FILE *out, FILE *err)
{
  bool en = bs_env_options(env)->lang == BS_LANG_EN;
  if (!type || !year_s || !issuer)
    return BS_STATUS_USAGE;
  char *end = NULL;
  long year = strtol(year_s, &end, 10);
  if (*end || strlen(year_s) != 4 || year < 1900 || year > 2998) {
    fprintf(err, en ? "banshi: --year takes a year such as 2023, not '%s'\n"
                    : "banshi：--year 应为年份（如 2023），而不是“%s”\n",
            year_s);
    return 2;
  }
  if (!S_issuer_ok(issuer)) {
    fprintf(err, en ? "banshi: --issuer takes the name of the issuing body\n"
                    : "banshi：--issuer 应为发布机关名称\n");
    return 2;
  }
  char *why = NULL;
  char *skel = bs_report_type_skeleton(type, format, (int)year, &why);
  if (!skel) {
    fprintf(err, "banshi: %s\n", why ? why : "?");
    free(why);
    return 2;
  }
  size_t len = 0;
  unsigned char *text = bs_read_file(skel, 1 << 20, &len);
  if (!text) {
    fprintf(err, en ? "banshi: cannot read '%s': %s\n"
                    : "banshi：无法读取文件“%s”：%s\n",
            skel, strerror(errno));
    free(skel);
    return 3;
  }
  char *esc = S_escape(issuer);
  char *src = S_fill((const char *)text, esc, (int)year);
  free(esc);
  free(text);
  int status = 0;
  struct stat st;
  if (!output || strcmp(output, "-") == 0) {
    if (fputs(src, out) == EOF || fflush(out) != 0)
      status = 3;
  } else if (lstat(output, &st) == 0) {
    fprintf(err, en ? "banshi: '%s' exists; not replaced (remove it or "
                      "choose another name)\n"
                    : "banshi：文件“%s”已存在，未覆盖（请删除或换一个文件名）\n",
            output);
    status = 3;
  } else {
    int e = bs_atomic_write(output, src, strlen(src), true);
    if (e) {
      fprintf(err, en ? "banshi: cannot write '%s': %s\n"
                      : "banshi：无法写入文件“%s”：%s\n",
              output, strerror(e));
      status = 3;
    } else {
      fprintf(err, en ? "banshi: wrote %s; fill it in, then run banshi "
                        "validate %s\n"
                      : "banshi：已写入 %s；填写后请运行 banshi validate %s\n",
              output, output);
    }
  }
  free(src);
  free(skel);
  return status;
}
