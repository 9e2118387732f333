// SPDX-License-Identifier: Apache-2.0
/* xml.h - the secure XML reader (xml.c), shared by source.c (every source),
 * parse.c (core documents), report.c (report sources) and template.c (page
 * templates).  Not a public interface.
 *
 * A libxml2 tree read by bs_xml_read() carries, in every element's and text
 * node's _private field, the byte offset + 1 of that node in the document's
 * UTF-8 source; bs_xml_loc() turns it into line and column.  Report sources
 * are read, validated and checked with these functions before they are
 * mapped to the core document.
 *
 * Layer 3 (xml): docs/architecture.md. */
#ifndef BS_XML_H
#define BS_XML_H

#include <stdbool.h>

#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#include "doc.h"

typedef struct bs_xml_parser {
  bs_document *doc;      /* the document whose source is parsed */
  xmlParserCtxtPtr ctxt; /* libxml2 parser while parsing, else NULL */
  size_t markup_end;     /* offset just after the last markup seen */
  int depth;             /* current element nesting */
  bool stopped;          /* we stopped the parser for a policy violation */
  bool as_published;     /* report rules warn instead of failing (--as-published) */
  bool two_threads;      /* a report type's schema may compile on a second
                            thread while its stylesheet does (report.c) */
  bs_vec schema_errs;    /* S_schema_err of the current validation pass */
} bs_xml_parser;

/* Prepare `p` for `doc` (no allocation); release with bs_xml_parser_done. */
void bs_xml_parser_init(bs_xml_parser *p, bs_document *doc);
void bs_xml_parser_done(bs_xml_parser *p);

/* Decode `raw` (any supported encoding), keep it as doc's source and parse
 * it with the security policy of sources (no DTD, entity or external
 * resource).  Returns the tree (free with xmlFreeDoc) or NULL after
 * diagnostics in doc. */
xmlDocPtr bs_xml_read(bs_xml_parser *p, const unsigned char *raw,
                      size_t rawlen);

/* Line and column of `node` in doc's source (0:0 when unknown; nodes without
 * an offset take their nearest located ancestor's). */
void bs_xml_loc(bs_xml_parser *p, xmlNodePtr node, uint32_t *line,
                uint32_t *col);

/* Validate `xdoc` against `schema`, reporting every error located in the
 * source.  Returns true when valid.  May remove unexpected elements from
 * xdoc (to find the errors behind them). */
bool bs_xml_validate(bs_xml_parser *p, xmlSchemaPtr schema, xmlDocPtr xdoc);

/* libxml2's process-wide set-up (made by the first call of this module
 * otherwise).  Called before a second thread starts: libxml2 2.9 guards
 * only its own first initialisation, and a thread parsing while another
 * initialises would make it twice. */
void bs_xml_init(void);

/* The compiled XSD at `path`, cached for the process and shared read-only
 * (NULL when it cannot be loaded).  Freed by bs_parse_cleanup. */
xmlSchemaPtr bs_xml_schema(const char *path);

/* After bs_xml_schema(path) returned NULL on this thread: the first error
 * libxml2 gave ("FILE:LINE: MESSAGE"), or `path` when it gave none. */
const char *bs_xml_schema_why(const char *path);

/* Whether `n` is an element named `name` (false for NULL). */
bool bs_xml_is(xmlNodePtr n, const char *name);

/* Attribute `name` of `n` as a malloc'd string (bs_xstrdup), NULL if
 * absent. */
char *bs_xml_prop(xmlNodePtr n, const char *name);

/* Free the cached schemas (bs_parse_cleanup calls it). */
void bs_xml_cleanup(void);

#endif
