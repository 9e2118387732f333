// SPDX-License-Identifier: Apache-2.0
/* report.h - report types as data.
 *
 * A report type (政府信息公开工作年度报告, …) is a folder of data, never C:
 *
 *   type.xml     descriptor: the root element (and namespace) that marks a
 *                source of this type, the XSD of each format the source may
 *                declare, the rules file and the stylesheet;
 *   *.xsd        the source schema(s);
 *   rules.xml    business rules (勾稽关系): XPath equalities and assertions
 *                with their messages in Chinese and English;
 *   *.xsl        XSLT 1.0 (libxslt) mapping the source to the core document
 *                (schemas/document.xsd).
 *
 * Types are found in the subfolders of $BANSHI_DATA/schemas and of every
 * folder named in $BANSHI_TYPES (colon-separated), so a type is added
 * without recompiling.  The front end (source.c, bs_parse_file()) hands
 * every source's tree to bs_report_map(), which recognises a report source
 * by its root element, validates it against its type's schema, checks every
 * rule, and returns the core document the stylesheet makes of it; parse.c
 * builds banshi's tree from that.
 *
 * Layer 5 (report, source, normalize): docs/architecture.md. */
#ifndef BS_REPORT_H
#define BS_REPORT_H

#include "diag.h"

/* A report source read and validated on its own, to serve as last year's
 * source of cross-year rules (bs_parse_options.previous). */
typedef struct bs_report_source bs_report_source;

/* Read the report source at `path` and validate it against its type's
 * schema (its rules are not checked: that is its own run's job).  Always
 * returns an object (free with bs_report_source_free); when the file cannot
 * be read, is not a report source, or is invalid, the object carries the
 * diagnostics and cross-year rules that use it report that instead of
 * comparing.  Messages are in `lang`. */
bs_report_source *bs_report_source_load(const char *path, bs_lang lang);
void bs_report_source_free(bs_report_source *s);

/* Call fn(dir, ctx) for each folder that holds report types, in the order
 * they are searched: $BANSHI_DATA/schemas, then each of $BANSHI_TYPES.  The
 * one place that reads $BANSHI_TYPES (batch hashes the same folders into
 * its environment key). */
void bs_report_type_folders(void (*fn)(const char *dir, void *ctx), void *ctx);

/* The path `s` was loaded from (borrowed). */
const char *bs_report_source_path(const bs_report_source *s);

/* The report year of a loaded source (its meta/year), 0 if unknown: lets a
 * batch find the previous year's source among its inputs. */
int bs_report_source_year(const bs_report_source *s);

/* The name of the report type of a loaded source, NULL if none. */
const char *bs_report_source_type(const bs_report_source *s);

/* The skeleton a report type offers to start a new source from (banshi
 * new): the file its type.xml names with <new format="F" href="…"
 * from-year="Y"/> for `format`, or, when `format` is NULL, for the format in
 * force in `year` (the greatest from-year not after it).  Returns the path
 * (malloc'd), or NULL with *why set (malloc'd) when the type or the format
 * is unknown or the type has no skeleton. */
char *bs_report_type_skeleton(const char *name, const char *format, int year,
                              char **why);

/* Release the process-wide type registry (compiled schemas, rules and
 * stylesheets).  Called by bs_parse_cleanup(). */
void bs_report_cleanup(void);

/* For the front end (source.c), which reads every source with the XML
 * reader (xml.h) and hands its tree here; the libxml2 types are named by their struct
 * tags so that report.h does not pull libxml2 into its users.
 *
 * If a report type claims the root element of `src`, validate it, check
 * its rules (with `previous` for cross-year rules) and map it to the core
 * document: returns 1 and sets *core to the new tree (nodes located in the
 * source), or to NULL after errors.  Returns 0, touching nothing, when no
 * type claims the root. */
struct bs_xml_parser;
struct _xmlDoc;
int bs_report_map(struct bs_xml_parser *p, struct _xmlDoc *src,
                  const bs_report_source *previous, struct _xmlDoc **core);

/* Write `core` as XML to `path` (banshi convert); false after an I/O
 * diagnostic in doc. */
struct bs_document;
bool bs_report_save(struct bs_document *doc, struct _xmlDoc *core,
                    const char *path);

#endif
