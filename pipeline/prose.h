// SPDX-License-Identifier: Apache-2.0
/* prose.h - numbers stated in a report's prose checked against its tables
 * (report types, report.h).  Internal to report.c.
 *
 * Layer 4 (parse, prose): docs/architecture.md. */
#ifndef BS_PROSE_H
#define BS_PROSE_H

#include <stdbool.h>

#include <libxml/tree.h>
#include <libxml/xpath.h>

#include "xml.h"

/* Check the prose of the source that `x` (an XPath context over it, with the
 * rules' namespaces registered) evaluates against the <prose> and <claim>
 * elements of the rules document `rules` (prose.c documents them).  Every
 * mismatch is a warning at the prose that states the number.  Problems of
 * the rules themselves (a pattern ICU cannot compile) are errors naming
 * `rules_path` and the type `type_name`. */
void bs_prose_check(bs_xml_parser *p, xmlDocPtr rules, const char *rules_path,
                    const char *type_name, xmlXPathContextPtr x);

/* Parse a number written in Arabic digits (ASCII or full-width, with an
 * optional decimal part and commas between groups of three, 1,520) or in
 * Chinese numerals (一百二十三, 两千零五, 十二,
 * 一万二千, 二〇二一).  Returns false when `s` (of `len` bytes, UTF-8) is
 * not such a number. */
bool bs_prose_number(const char *s, size_t len, double *out);

/* What a text must contain for a pattern to match it: a string of each
 * list. */
#define BS_PROSE_LITS 16 /* strings in a list */
#define BS_PROSE_ANDS 4  /* lists */
typedef struct bs_prose_need {
  int nsets;                             /* lists */
  int n[BS_PROSE_ANDS];                  /* strings of each list */
  char *s[BS_PROSE_ANDS][BS_PROSE_LITS]; /* malloc'd */
} bs_prose_need;

/* Read the ICU regular expression `pattern` for what a text must contain
 * to match it (prose.c says how).  Returns true with *need filled (free
 * with bs_prose_need_free), or false with nothing in *need when nothing
 * is known or the pattern is outside the subset of ICU's syntax that is
 * read; a pattern it returns true for, ICU compiles. */
bool bs_prose_needs(const char *pattern, bs_prose_need *need);
void bs_prose_need_free(bs_prose_need *need);

/* Whether `text` (UTF-8) contains what `need` lists; true for none. */
bool bs_prose_may_match(const bs_prose_need *need, const char *text);

/* Release the compiled patterns (bs_report_cleanup). */
void bs_prose_cleanup(void);

#endif
