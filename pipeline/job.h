// SPDX-License-Identifier: Apache-2.0
/* job.h - one source through the whole pipeline: the unit of work of the
 * command line and of batch production.
 *
 *   parse + validate -> normalise -> lay out -> PDF (and/or text dump)
 *
 * Templates and fonts are loaded once into a bs_shared and used read-only by
 * every job, from any thread.
 *
 * Layer 11 (job): docs/architecture.md. */
#ifndef BS_JOB_H
#define BS_JOB_H

#include <stdbool.h>
#include <stdio.h>

#include "diag.h"
#include "report.h"

/* Exit statuses of the command line, also the status of a job. */
enum {
  BS_STATUS_OK = 0,      /* success */
  BS_STATUS_INVALID = 1, /* the source has errors */
  BS_STATUS_USAGE = 2,   /* bad command line */
  BS_STATUS_FAILURE = 3, /* I/O, environment or internal failure */
};

typedef struct bs_job_options {
  const char *tpl;       /* template name or path; NULL = "gbt9704" */
  const char *font_map;  /* user font map, or NULL */
  bool normalize;        /* apply the text policy */
  bs_lang lang;          /* language of messages */
  long long epoch;       /* SOURCE_DATE_EPOCH, or -1 */
  const char *previous;  /* last year's source for cross-year rules */
  bool as_published;    /* a report as issued: rules warn (docs/report-types.md) */
  int pdfa;              /* PDF/A part: 1 (default, also 0), 2 (2a, tagged)
                            or 3 (3b, with the source embedded) */
  bool tagged;           /* tagged PDF (also with pdfa 2) */
  bool ofd;              /* the output path gets OFD, not PDF (also when it
                            ends in .ofd) */
  bool ofd_beside;       /* write NAME.ofd beside every NAME.pdf too */
  bool json_diags;       /* diag_out gets JSON lines (bs_diags_print_json) */
  bool quiet;            /* diag_out gets errors only */
  int threads;           /* threads a job may use (bs_cpus caps it at 2):
                            2 or more lets what every job needs besides its
                            source (template, fonts, the core schema, ICU's
                            dictionary) load on a second thread while the
                            first parses the source, and a PDF's fonts be
                            subset and compressed on it while the first
                            writes the pages.  Only the command line's
                            render of one source asks for it: batch workers
                            and threads sharing an env keep the cores busy */
  bool pdf_sha256;       /* res->pdf_sha256 of a PDF written (batch stamps) */
} bs_job_options;

typedef struct bs_job_result {
  int status;            /* BS_STATUS_* */
  int pages;             /* pages laid out */
  long long bytes;       /* size of the PDF written, 0 if none */
  unsigned errors, warnings;
  char *diagnostics;     /* malloc'd text of every diagnostic (may be "") */
  char *diagnostics_json;/* the same as JSON lines, one object each */
  char *findings;        /* malloc'd: the diagnostics of a report type's
                            checks (cells, rules, prose), one a line */
  bool have_pdf_sha256;  /* with o->pdf_sha256, a PDF was written and ... */
  unsigned char pdf_sha256[32]; /* ... this is the SHA-256 of its bytes as
                            written and flushed (bs_pdf_options.sha256) */
} bs_job_result;

typedef struct bs_shared bs_shared;

/* Resources shared by jobs with the same options (template, fonts).  Free
 * with bs_shared_free after the last job. */
bs_shared *bs_shared_new(const bs_job_options *o);
void bs_shared_free(bs_shared *s);

/* Call fn(ctx, path) for every file that the output of any job depends on
 * besides its own source: the template, the font maps and the font file of
 * every role the template names, in a fixed order (batch.c hashes them for
 * its up-to-date check).  Loads the template and the fonts now if no job
 * did yet; a role without a usable font is skipped here and reported by
 * the jobs that use it.  Returns 0, or -1 when the template or the font map
 * cannot be loaded (every job will then report why). */
int bs_shared_inputs(bs_shared *s, void (*fn)(void *ctx, const char *path),
                     void *ctx);

/* Run `src` through the pipeline, writing the PDF to `pdf` (NULL: none)
 * and the layout dump to `dump` (NULL: none, "-": stdout).  Diagnostics go
 * to `diag_out` when not NULL and into res->diagnostics; free that with
 * bs_job_result_free.  Returns res->status. */
int bs_job_run(bs_shared *sh, const char *src, const char *pdf,
               const char *dump, FILE *diag_out, bs_job_result *res);
void bs_job_result_free(bs_job_result *res);

/* bs_job_run with last year's report source already loaded (report.h), for
 * callers that find it themselves (batch): `previous` replaces the
 * options' path; NULL means no cross-year rules. */
int bs_job_run_previous(bs_shared *sh, const char *src,
                        const bs_report_source *previous, const char *pdf,
                        const char *dump, FILE *diag_out,
                        bs_job_result *res);

/* bs_job_run_previous with --as-published chosen per job (batch manifests
 * can ask for it line by line): true overrides the shared options. */
int bs_job_run_report(bs_shared *sh, const char *src,
                      const bs_report_source *previous, bool as_published,
                      const char *pdf, const char *dump, FILE *diag_out,
                      bs_job_result *res);

/* bs_job_run_report with the source's bytes in memory (`buf`, `len`;
 * NULL: read the file `src`); `src` names it in messages. */
int bs_job_run_memory(bs_shared *sh, const char *src, const unsigned char *buf,
                      size_t len, const bs_report_source *previous,
                      bool as_published,
                      const char *pdf, const char *dump, FILE *diag_out,
                      bs_job_result *res);

/* Print d on `out` as the options say: JSON lines (json_diags) or text,
 * errors only when quiet (which sets d->shown). */
void bs_job_print(const bs_job_options *o, bs_diags *d, FILE *out);

/* The status a list of diagnostics calls for, the one rule of every
 * command (render, validate, batch, archive): BS_STATUS_OK without errors;
 * BS_STATUS_FAILURE when an error says a file could not be read or
 * written, or banshi's own data (schemas, report types, fonts, template,
 * collation rules) or machinery failed; else BS_STATUS_INVALID (the input
 * itself is wrong). */
int bs_diags_status(const bs_diags *d);

#endif
