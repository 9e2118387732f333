// SPDX-License-Identifier: Apache-2.0
/* parse.h - a core document read by the XML reader -> banshi's tree.
 *
 * The tree builder of the front end (source.c): it sees only core
 * documents (schemas/document.xsd); report sources reach it after report.c
 * has mapped them.  Not a public interface.
 *
 * Layer 4 (parse, prose): docs/architecture.md. */
#ifndef BS_PARSE_H
#define BS_PARSE_H

#include <stdbool.h>

#include "xml.h"

/* Validate `core` (read by `p`, or made from its source by a report type)
 * against `schema`, every error located in p->doc's source, and when it is
 * valid build p->doc's tree from it.  Returns true when valid; `core` stays
 * the caller's (validation may remove elements from it). */
bool bs_parse_tree(bs_xml_parser *p, xmlSchemaPtr schema, xmlDocPtr core);

#endif
