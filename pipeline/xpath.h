// SPDX-License-Identifier: Apache-2.0
/* xpath.h - XPath expressions of a simple form evaluated by walking the
 * libxml2 tree (xpath.c), shared by report.c (rule contexts, cells and
 * sums) and prose.c (the tables' values the prose is checked against).
 * Not a public interface.
 *
 * Each function gives what libxml2's XPath gives for the expressions it
 * accepts, and declines (false, NULL) any other, which the caller then
 * evaluates with XPath.
 *
 * Layer 3 (xml): docs/architecture.md. */
#ifndef BS_XPATH_H
#define BS_XPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <libxml/tree.h>
#include <libxml/xpath.h>

/* A name in an expression: the bytes [name, name + len). */
typedef struct bs_xname {
  const char *name;
  size_t len;
} bs_xname;

/* Whether `name` is the name (or literal) `st`; inline, the first byte
 * deciding most comparisons. */
static inline bool
bs_xname_is(const xmlChar *name, const bs_xname *st)
{
  if (!st->len)
    return name[0] == '\0';
  return name[0] == (xmlChar)st->name[0] &&
         strncmp((const char *)name, st->name, st->len) == 0 &&
         name[st->len] == '\0';
}

/* Read an NCName of ASCII letters, digits, '_' and '-' (not an operator
 * name) at *p into *st, advancing *p; false (nothing read) when there is
 * none. */
bool bs_xname_read(const char **p, bs_xname *st);

/* An attribute's value as a number, by XPath's own conversion (NaN for
 * none: a NULL attribute). */
double bs_xattr_number(xmlAttrPtr a);

/* The node-set of `expr` in `doc` when it is an absolute path of the
 * simple form xpath.c describes, or a union "A | B" of such paths, in
 * document order as XPath gives it; else NULL. */
xmlXPathObjectPtr bs_xpath_paths(xmlDocPtr doc, const char *expr);

/* Arithmetic of such paths, sums of them and integers (xpath.c says
 * which), compiled once: NULL for any other expression.  bs_xnum_eval
 * gives the number xmlXPathCastToNumber gives of the expression evaluated
 * in `doc` (true), or false, *out untouched, when the walk declines a
 * path of it there. */
typedef struct bs_xnum bs_xnum;
bs_xnum *bs_xnum_compile(const char *expr);
bool bs_xnum_eval(const bs_xnum *prog, xmlDocPtr doc, double *out);
void bs_xnum_free(bs_xnum *prog);

#endif
