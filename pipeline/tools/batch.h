// SPDX-License-Identifier: Apache-2.0
/* batch.h - `banshi batch`: many sources to PDF/A with N workers, nothing
 * lost and nothing half-written, reruns that skip what is up to date, and
 * deterministic shards for schedulers that run banshi across machines.
 *
 * A batch is planned first (sources from files, folders and manifests,
 * sorted by output name), then the planned items are handed one at a time
 * to worker threads that each run bs_job_run(); each result is appended to
 * a JSON Lines log as it arrives.  Only the plan (a path and an output name
 * per source) grows with the size of the batch; documents are in memory
 * only while a worker renders them.
 *
 * Up to date means: the stamp `OUTDIR/.banshi/REL.stamp` written after the
 * PDF holds the same key, and the PDF has the size it recorded.  The key is
 * a SHA-256 of banshi's version, the options that change the output, the
 * template, the font maps and font files, the schemas and report types
 * (schemas/ and $BANSHI_TYPES), and the source with the images its
 * figures name (and the previous year's source, when one is given).  The
 * stamp is removed before a PDF is rendered again and written after it is
 * in place, so a stamp never vouches for a PDF it did not see.  It keeps
 * the render's messages too, so that the log of a source found up to date
 * repeats them as the log of its render had them.
 *
 * banshi_batch (include/banshi.h) runs a batch; this header has its parts
 * for archive.c and the tests.
 *
 * Layer 13 (batch, bag): docs/architecture.md. */
#ifndef BS_BATCH_H
#define BS_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "arena.h"
#include "diag.h"
#include "sha256.h"

typedef struct bs_batch_item {
  const char *source;   /* path as found (argument, folder, manifest) */
  const char *previous; /* last year's source (manifest column 2) or NULL:
                           the hook for cross-year rules */
  const char *rel;      /* output path below OUTDIR, "dept/report.pdf" */
  const char *clash;    /* source of an earlier item with the same output,
                           or NULL */
  size_t seq;           /* order of discovery */
  bool as_published;    /* manifest column "as-published": the report is
                           typeset as issued, its findings warn */
} bs_batch_item;

typedef struct bs_batch_plan {
  bs_vec items;         /* bs_batch_item */
  bs_arena arena;       /* the items' strings and the diagnostics */
  bs_diags diags;       /* inputs that cannot be read */
  bs_vec manifests;     /* const char *: manifest files read (arena) */
} bs_batch_plan;

/* Start an empty plan whose messages are in `lang`. */
void bs_batch_plan_init(bs_batch_plan *p, bs_lang lang);
void bs_batch_plan_free(bs_batch_plan *p);

/* Add the sources an input names: a folder (every *.xml below it, hidden
 * names skipped, output names relative to the folder), a file ending in
 * .xml (output named after its base name), or any other file, or "-" for
 * standard input, as a manifest: one source per line, relative to the
 * manifest's folder, "#" comments, optionally further TAB-separated
 * columns: last year's source, and the word "as-published" (typeset as
 * issued, docs/report-types.md); a relative path keeps its folders in the
 * output name.  An input that
 * cannot be read is a diagnostic in p->diags. */
void bs_batch_plan_add(bs_batch_plan *p, const char *input);

/* Sort the items by output name, drop a source listed twice for the same
 * output, and mark the later of two different sources with one output
 * name as a clash. */
void bs_batch_plan_finish(bs_batch_plan *p);

/* True if shard k of n (0 <= k < n) takes the output `rel`: a hash of the
 * name, so the choice depends neither on the order of the inputs nor on
 * the machine, and the n shards together take every name exactly once. */
bool bs_shard_selects(const char *rel, unsigned k, unsigned n);

/* An image a source's figure names, and its digest. */
typedef struct bs_stamp_image {
  char *src;               /* as written, normalised ("fig/1.png") */
  char sha[BS_SHA256_HEX]; /* SHA-256 */
} bs_stamp_image;

/* What a stamp records about one PDF. */
typedef struct bs_stamp {
  char key[BS_SHA256_HEX];        /* the up-to-date key */
  char *source;                   /* absolute path of the source */
  char source_sha[BS_SHA256_HEX]; /* SHA-256 of the source */
  char *previous;                 /* absolute path, or NULL */
  int pages;                      /* pages of the PDF */
  long long bytes;                /* size of the PDF */
  char pdf_sha[BS_SHA256_HEX];    /* SHA-256 of the PDF ("" in version 1) */
  bool normalize;                 /* the text policy was applied */
  bs_stamp_image *images;         /* images of its figures (malloc'd) */
  int nimages;                    /* entries in images */
  bool as_published;              /* typeset as issued (--as-published) */
  char **findings;                /* the report checks' diagnostics, one a
                                     line (malloc'd) */
  int nfindings;                  /* entries in findings */
  bool has_messages;              /* the render's messages are recorded
                                     (stamps written since they are) */
  char **diagnostics;             /* the render's messages as text, one a
                                     line (malloc'd) */
  int ndiagnostics;               /* entries in diagnostics */
  char **messages;                /* the same as JSON objects
                                     (schemas/diagnostics.schema.json) */
  int nmessages;                  /* entries in messages */
  unsigned errors, warnings;      /* the render's counts */
  int pdfa;                       /* PDF/A part written: 1, 2 (2a) or 3
                                     (3b); 0 in stamps older than the field,
                                     which were all 1b or 3b */
  bool tagged;                    /* a tagged PDF */
} bs_stamp;

/* The stamp path for output `rel` of `outdir`, malloc'd. */
char *bs_stamp_path(const char *outdir, const char *rel);

/* Read a stamp.  Returns 0, or an errno value (EINVAL when malformed);
 * free with bs_stamp_free either way. */
int bs_stamp_read(const char *path, bs_stamp *st);
void bs_stamp_free(bs_stamp *st);

/* Call fn for each image that a figure of the source at `source` names,
 * read the way layout.c reads it: `src` is the name, normalised, relative
 * to the source's folder, `path` the file to read, or NULL when layout.c
 * would refuse it (outside the source's folder, not a regular file).  A
 * streaming read of the source that stops quietly where it is broken. */
void bs_source_images(const char *source,
                      void (*fn)(void *ctx, const char *src,
                                 const char *path),
                      void *ctx);

#endif
