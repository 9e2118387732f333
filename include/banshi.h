// SPDX-License-Identifier: Apache-2.0
/* banshi.h - the banshi library: XML sources of official documents and
 * reports typeset as PDF/A.  The one public header (libbanshi.so, pkg-config
 * banshi); everything else in the source tree is internal.
 *
 *   banshi_env *env = banshi_env_new();          once: options, then the
 *   banshi_env_set(env, "lang", "en");           template and fonts are
 *                                                loaded at the first render
 *   banshi_result *r = banshi_render(env, "a.xml", NULL, 0, "a.pdf", 0);
 *   for (size_t i = 0; i < banshi_result_count(r); i++) {
 *     const banshi_diagnostic *d = banshi_result_diagnostic(r, i);
 *     printf("%s:%u: %s\n", d->file, d->line, d->message);
 *   }
 *   int status = banshi_result_status(r);
 *   banshi_result_free(r);
 *   banshi_env_free(env);
 *
 * Threads: an env may be used by any number of threads at once once its
 * options are set (the template and fonts are loaded once and shared
 * read-only); each result belongs to the thread that made it.  Memory: an
 * allocation failure ends the process (docs/api.md says why).  The data
 * folder (schemas, templates, fonts) is found beside the installed library
 * (PREFIX/share/banshi), else in $BANSHI_DATA.
 *
 * examples/render.c is a whole program; docs/api.md is the guide.
 *
 * Layer 12 (public API): docs/architecture.md. */
#ifndef BANSHI_H
#define BANSHI_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Statuses, the same as the exit statuses of the banshi command. */
enum {
  BANSHI_OK = 0,      /* done (a PDF written when one was asked for) */
  BANSHI_INVALID = 1, /* the source has errors: no PDF */
  BANSHI_USAGE = 2,   /* a bad option name or value */
  BANSHI_FAILURE = 3, /* I/O, environment (fonts, template) or internal */
};

/* banshi_render flags. */
enum {
  BANSHI_PDF_IN_MEMORY = 1, /* keep the PDF in the result (banshi_result_pdf) */
};

typedef struct banshi_env banshi_env;       /* options and shared resources */
typedef struct banshi_result banshi_result; /* one source's outcome */

/* One message about a source.  Owned by its result. */
typedef struct banshi_diagnostic {
  const char *file;     /* the source's name as given; NULL: none */
  unsigned line;        /* 1-based; 0: no location */
  unsigned column;      /* 1-based, in characters; 0: unknown */
  const char *severity; /* "error", "warning" or "note" */
  const char *rule;     /* stable id: "xml-syntax", "schema", "rule" ... */
  const char *message;  /* in the env's language */
  size_t nvalues;       /* the message's variable parts, in order */
  const char *const *values;
} banshi_diagnostic;

/* "0.1.0": the library's version. */
const char *banshi_version(void);

/* A new environment with the defaults: template gbt9704, the default font
 * map, text normalisation on, Chinese messages, PDF/A-1b, dates from the
 * source. */
banshi_env *banshi_env_new(void);

/* Set an option before the first render (values are copied):
 *   "template"  a name in templates/ or a path
 *   "fonts"     a font map whose roles replace the default map's
 *   "normalize" "1" or "0"
 *   "lang"      "zh" or "en"
 *   "epoch"     seconds since 1970 for the PDF dates (SOURCE_DATE_EPOCH)
 *   "previous"  last year's report source, for cross-year rules
 *   "pdfa"      "1b", "2a" (tagged) or "3b" (the XML source embedded)
 *   "tagged"    "1": tagged PDF (structure tree, marked content)
 *   "as-published"  "1": reports as issued, the rules' findings warn
 *   "format"    "pdf" (default: OFD only for an output named *.ofd),
 *               "ofd" (every output is OFD), or "pdf,ofd" (banshi_batch:
 *               NAME.ofd beside each NAME.pdf)
 *   "diagnostics"  "text" (default) or "json": how the functions below
 *               that take a stream print messages on it
 *   "quiet"     "1": such streams get errors only
 *   "threads"   "N" or "auto" (the CPUs the process may run on): threads
 *               one render may use (default 1).  With 2 or more, when the
 *               process may run on two CPUs, the first render of an env
 *               loads the template, fonts and schemas on a second thread
 *               while it parses its source, and every render subsets and
 *               compresses its fonts on one while it writes the pages (the
 *               same PDF and messages); for a program that renders one
 *               source at a time, not for threads sharing an env
 *               (banshi_batch and banshi_archive use one)
 * Returns BANSHI_OK, or BANSHI_USAGE for an unknown name, a bad value or
 * an env that has rendered already. */
int banshi_env_set(banshi_env *env, const char *name, const char *value);

void banshi_env_free(banshi_env *env);

/* Typeset one source.  The source is the file `name`, or, when `data` is
 * not NULL, the `len` bytes at `data` (`name` then names it in messages).
 * The PDF is written to the file `pdf_path` when not NULL (complete or
 * absent, never partial), and kept in the result with
 * BANSHI_PDF_IN_MEMORY; with neither, the source is only checked.  Never
 * returns NULL; see banshi_result_status. */
banshi_result *banshi_render(banshi_env *env, const char *name,
                             const void *data, size_t len,
                             const char *pdf_path, int flags);

/* BANSHI_OK, BANSHI_INVALID or BANSHI_FAILURE. */
int banshi_result_status(const banshi_result *r);

/* Pages laid out; counts of errors and warnings. */
int banshi_result_pages(const banshi_result *r);
unsigned banshi_result_errors(const banshi_result *r);
unsigned banshi_result_warnings(const banshi_result *r);

/* The PDF kept with BANSHI_PDF_IN_MEMORY (NULL and 0 otherwise or when
 * none was made); owned by the result. */
const void *banshi_result_pdf(const banshi_result *r, size_t *len);

/* The messages, sorted by file, line and column. */
size_t banshi_result_count(const banshi_result *r);
const banshi_diagnostic *banshi_result_diagnostic(const banshi_result *r,
                                                  size_t i);

void banshi_result_free(banshi_result *r);

/* The services of the banshi command, for programs that do what it does.
 * Each prints its messages on a stream as the command does (text or JSON
 * lines, after the env's "diagnostics" and "quiet") and returns what the
 * command's exit status is built from. */

/* banshi_render, with a layout dump (the text `banshi render --dump`
 * writes) to the file `dump` ("-": standard output; NULL: none) and the
 * messages printed on `messages` (NULL: none) as they are found.  The
 * output `out` is PDF or OFD after the env's "format".  `name` "-" with
 * `data` NULL reads standard input (named "<stdin>" in messages).  Never
 * returns NULL. */
banshi_result *banshi_render_to(banshi_env *env, const char *name,
                                const void *data, size_t len,
                                const char *out, const char *dump,
                                FILE *messages);

/* Write the core document a report source maps to, as XML, to `core_path`
 * (`banshi convert`); messages on `messages`.  Never returns NULL. */
banshi_result *banshi_convert(banshi_env *env, const char *name,
                              const char *core_path, FILE *messages);

/* A complete report source to start from (`banshi new`): the skeleton of
 * report type `type` (and `format`, NULL: the year's) with `year` (four
 * digits) and `issuer` filled in, written to the file `output` (never
 * replacing one) or, when `output` is NULL or "-", to `out`.  Messages on
 * `err`.  Returns BANSHI_OK, BANSHI_USAGE (a bad year, issuer, type or
 * format) or BANSHI_FAILURE (`output` exists or cannot be written). */
int banshi_new(banshi_env *env, const char *type, const char *format,
               const char *year, const char *issuer, const char *output,
               FILE *out, FILE *err);

/* The most documents banshi_batch renders at once. */
#define BANSHI_MAX_JOBS 256

/* What banshi_batch is to do. */
typedef struct banshi_batch_options {
  const char *const *inputs; /* sources, folders, manifests ("-": stdin) */
  size_t ninputs;
  const char *outdir;        /* OUTDIR, made if missing */
  const char *log;           /* the result log; NULL: in OUTDIR */
  unsigned jobs;             /* documents at once; 0: the cores */
  unsigned shard_k, shard_n; /* only shard k of n (n 0 or 1: all) */
  int verbosity;             /* -1 errors only, no progress; 0; 1 a line
                                per source */
} banshi_batch_options;

/* Many sources to OUTDIR/NAME.pdf with worker processes, skipping those up
 * to date, with a JSON Lines log (`banshi batch`, docs/batch.md).
 * Progress, messages and the summary go to `err`; SIGINT and SIGTERM are
 * handled while it runs.  Returns BANSHI_OK, BANSHI_INVALID (some sources
 * invalid), BANSHI_FAILURE, or 128 + the signal that stopped it; the
 * warnings of every source are added to *warnings when not NULL. */
int banshi_batch(banshi_env *env, const banshi_batch_options *o, FILE *err,
                 unsigned long *warnings);

/* The PDFs that banshi_batch wrote to `outdir`, with their sources and
 * metadata, as the BagIt bag `bag` (`banshi archive`, docs/archive.md);
 * `organization` (NULL: none) names the issuer in bag-info.txt.  Returns
 * BANSHI_OK, BANSHI_INVALID (documents the batch does not vouch for) or
 * BANSHI_FAILURE; warnings are added to *warnings when not NULL. */
int banshi_archive(banshi_env *env, const char *outdir, const char *bag,
                   const char *organization, FILE *err,
                   unsigned long *warnings);

/* Check every checksum of the bag `bag` (`banshi archive --verify`).
 * Returns BANSHI_OK (valid), BANSHI_INVALID or BANSHI_FAILURE. */
int banshi_archive_verify(banshi_env *env, const char *bag, FILE *err);

/* Release what the library keeps for the process (compiled schemas, the
 * calling thread's line breakers).  Call once at the end, after the last
 * banshi_env_free; optional (it keeps leak checkers quiet). */
void banshi_cleanup(void);

#ifdef __cplusplus
}
#endif

#endif
