// SPDX-License-Identifier: Apache-2.0
/* pipeline.h - the stages of banshi and their entry points.
 *
 *   source.c     source file -> validated document tree: reads it (xml.c),
 *                maps a report source (report.c), builds the tree (parse.c)
 *   normalize.c  text policy on the tree                   (ICU)
 *   layout.c     tree -> pages of positioned runs          (ICU line breaks)
 *   render_*.c   pages -> PDF (libharu) or a text dump
 *
 * Every stage appends its problems to doc->diags and keeps going where it
 * can; callers check doc->diags.errors between stages.
 *
 * Layer 5 (report, source, normalize): docs/architecture.md. */
#ifndef BS_PIPELINE_H
#define BS_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>

#include "doc.h"

/* The limits (BS_MAX_SOURCE_BYTES …) are in doc.h. */

struct bs_report_source;

typedef struct bs_parse_options {
  const char *schema; /* XSD path; NULL = the core document schema */
  size_t max_bytes;   /* 0 = BS_MAX_SOURCE_BYTES */
  const struct bs_report_source *previous; /* last year's report source for
                                              cross-year rules, or NULL */
  const char *core_out; /* write the core document here (banshi convert) */
  bool as_published;    /* a report as it was issued: its rules warn */
  bool keep_source;     /* keep the source bytes and a report's core
                           document in the document (PDF/A-3b embeds them) */
  bool two_threads;     /* may use a second thread (bs_job_options.threads) */
} bs_parse_options;

/* Read, parse and validate the source at `path` and build its tree: a core
 * document, or a report source that a report type maps to one (report.h).
 * Always returns a document (free with bs_document_free); on failure
 * doc->diags.errors > 0 and the tree may be empty.  No network access and no
 * external entity or DTD is ever loaded. */
bs_document *bs_parse_file(const char *path, const bs_parse_options *opts,
                           bs_lang lang);

/* The same for a source already in memory (the buffer is copied); `path`
 * is only used in messages and to resolve relative image paths. */
bs_document *bs_parse_memory(const char *path, const unsigned char *buf,
                             size_t len, const bs_parse_options *opts,
                             bs_lang lang);

/* Release process-wide parser state (cached schemas) at exit. */
void bs_parse_cleanup(void);

typedef struct bs_normalize_options {
  bool enabled; /* false: only XML white space is collapsed */
} bs_normalize_options;

/* Apply the text policy (docs/source.md, "Normalisation") to every text node and
 * the metadata, warning for each change that alters the text. */
void bs_normalize(bs_document *doc, const bs_normalize_options *opts);

/* Is `cp` alone its own NFC for certain (no canonical decomposition)?
 * True only in a few blocks; NFC is checked with ICU otherwise. */
bool bs_nfc_stable(uint32_t cp);

#endif
