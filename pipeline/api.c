// SPDX-License-Identifier: Apache-2.0
/* api.c - the public API (include/banshi.h) over the job (job.h).
 *
 * Design.  The API is a thin layer: an env is a bs_shared with copies of
 * its option strings; a result keeps what bs_job_result gives, with the
 * diagnostics turned back into structs from the JSON lines the job writes
 * (bs_diags_print_json, read with Jansson), so that the API needs nothing
 * from the job that the command line does not use.  Jansson is loaded at
 * the first diagnostic to read (dynlib.h): a document without messages,
 * the common case, never maps it.  A PDF kept in memory
 * is written as every PDF is (a temporary name, flushed, renamed) into a
 * private temporary folder, read back and removed: the renderer has one
 * output path, tested once.
 *
 * Layer 12 (public API): docs/architecture.md. */
#include "banshi.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "api.h"
#include "dynlib.h"
#include "fsio.h"
#include "job.h"
#include "layout.h"
#include "pipeline.h"
#include "render.h"
#include "report.h"
#include "util.h"

struct banshi_env {
  bs_job_options o;
  char *tpl, *fonts, *previous; /* owned copies of o's strings */
  bs_shared *shared;            /* made at the first render */
  pthread_mutex_t lock;
};

struct banshi_result {
  int status, pages;
  unsigned errors, warnings;
  unsigned char *pdf;
  size_t pdf_len;
  banshi_diagnostic *diags;
  size_t ndiags;
  bs_arena arena; /* the diagnostics' strings */
};

const char *
banshi_version(void)
{
  return BANSHI_VERSION;
}

banshi_env *
banshi_env_new(void)
{
  banshi_env *e = bs_xcalloc(1, sizeof *e);
  e->o.normalize = true;
  e->o.epoch = -1;
  e->o.lang = BS_LANG_ZH;
  pthread_mutex_init(&e->lock, NULL);
  return e;
}

static int
S_set_str(char **slot, const char **opt, const char *value)
{
  free(*slot);
  *slot = value ? strdup(value) : NULL;
  *opt = *slot;
  return BANSHI_OK;
}

int
banshi_env_set(banshi_env *e, const char *name, const char *value)
{
  if (!e || !name || e->shared)
    return BANSHI_USAGE;
  if (strcmp(name, "template") == 0)
    return S_set_str(&e->tpl, &e->o.tpl, value);
  if (strcmp(name, "fonts") == 0)
    return S_set_str(&e->fonts, &e->o.font_map, value);
  if (strcmp(name, "previous") == 0)
    return S_set_str(&e->previous, &e->o.previous, value);
  if (!value)
    return BANSHI_USAGE;
  if (strcmp(name, "normalize") == 0 &&
      (strcmp(value, "0") == 0 || strcmp(value, "1") == 0)) {
    e->o.normalize = value[0] == '1';
    return BANSHI_OK;
  }
  if (strcmp(name, "lang") == 0 &&
      (strcmp(value, "zh") == 0 || strcmp(value, "en") == 0)) {
    e->o.lang = value[0] == 'e' ? BS_LANG_EN : BS_LANG_ZH;
    return BANSHI_OK;
  }
  if (strcmp(name, "pdfa") == 0 &&
      (strcmp(value, "1b") == 0 || strcmp(value, "2a") == 0 ||
       strcmp(value, "3b") == 0)) {
    e->o.pdfa = value[0] - '0';
    return BANSHI_OK;
  }
  if (strcmp(name, "tagged") == 0 &&
      (strcmp(value, "0") == 0 || strcmp(value, "1") == 0)) {
    e->o.tagged = value[0] == '1';
    return BANSHI_OK;
  }
  if (strcmp(name, "threads") == 0 &&
      (strcmp(value, "1") == 0 || strcmp(value, "2") == 0)) {
    e->o.threads = value[0] - '0';
    return BANSHI_OK;
  }
  if (strcmp(name, "as-published") == 0 &&
      (strcmp(value, "0") == 0 || strcmp(value, "1") == 0)) {
    e->o.as_published = value[0] == '1';
    return BANSHI_OK;
  }
  if (strcmp(name, "quiet") == 0 &&
      (strcmp(value, "0") == 0 || strcmp(value, "1") == 0)) {
    e->o.quiet = value[0] == '1';
    return BANSHI_OK;
  }
  if (strcmp(name, "diagnostics") == 0 &&
      (strcmp(value, "text") == 0 || strcmp(value, "json") == 0)) {
    e->o.json_diags = value[0] == 'j';
    return BANSHI_OK;
  }
  if (strcmp(name, "format") == 0) {
    bool pdf = strcmp(value, "pdf") == 0, ofd = strcmp(value, "ofd") == 0;
    bool both = strcmp(value, "pdf,ofd") == 0 || strcmp(value, "ofd,pdf") == 0;
    if (pdf || ofd || both) {
      e->o.ofd = ofd;
      e->o.ofd_beside = both;
      return BANSHI_OK;
    }
  }
  if (strcmp(name, "epoch") == 0) {
    char *end;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (*value && !*end && !errno && v >= 0) {
      e->o.epoch = v;
      return BANSHI_OK;
    }
  }
  return BANSHI_USAGE;
}

const bs_job_options *
bs_env_options(const banshi_env *e)
{
  return &e->o;
}

void
banshi_env_free(banshi_env *e)
{
  if (!e)
    return;
  bs_shared_free(e->shared);
  free(e->tpl);
  free(e->fonts);
  free(e->previous);
  pthread_mutex_destroy(&e->lock);
  free(e);
}

/* The whole file at `path` into the result (read back from the temporary
 * folder).  Returns 0 or an errno. */
static int
S_slurp(banshi_result *r, const char *path)
{
  size_t len = 0;
  unsigned char *buf = bs_read_file(path, 0, &len);
  if (!buf)
    return errno ? errno : EIO;
  r->pdf = buf;
  r->pdf_len = len;
  return 0;
}

/* A result that is one error, with `message` (copied) about `file`. */
static banshi_result *
S_failed(banshi_result *r, const char *file, const char *rule,
         const char *message)
{
  r->status = BANSHI_FAILURE;
  banshi_diagnostic *d = bs_arena_alloc(&r->arena, sizeof *d);
  memset(d, 0, sizeof *d);
  d->file = file ? bs_arena_strdup(&r->arena, file) : NULL;
  d->severity = "error";
  d->rule = rule;
  d->message = bs_arena_strdup(&r->arena, message);
  r->diags = d;
  r->ndiags = 1;
  r->errors = 1;
  return r;
}

/* Jansson's functions that S_diags calls, with the header's prototypes
 * (json_decref is inline over json_delete). */
typedef struct S_json_fns {
  __typeof__(json_loadb) *json_loadb;
  __typeof__(json_object_get) *json_object_get;
  __typeof__(json_string_value) *json_string_value;
  __typeof__(json_integer_value) *json_integer_value;
  __typeof__(json_array_size) *json_array_size;
  __typeof__(json_array_get) *json_array_get;
  __typeof__(json_delete) *json_delete;
} S_json_fns;

static S_json_fns S_j;
static const bs_dynsym S_json_syms[] = {
    BS_DYNSYM(S_json_fns, json_loadb),
    BS_DYNSYM(S_json_fns, json_object_get),
    BS_DYNSYM(S_json_fns, json_string_value),
    BS_DYNSYM(S_json_fns, json_integer_value),
    BS_DYNSYM(S_json_fns, json_array_size),
    BS_DYNSYM(S_json_fns, json_array_get),
    BS_DYNSYM(S_json_fns, json_delete),
};
static bs_dynlib S_json_lib =
    BS_DYNLIB(BS_SONAME_JANSSON, S_json_syms, &S_j);

/* A JSON member as a string in the result's arena (NULL for null). */
static const char *
S_str(banshi_result *r, json_t *o, const char *key)
{
  const char *s = S_j.json_string_value(S_j.json_object_get(o, key));
  return s ? bs_arena_strdup(&r->arena, s) : NULL;
}

/* The job's JSON lines as structs.  Without Jansson the result fails
 * with that one error about `file` (the source whose diagnostics these
 * are), printed on `messages` as the options say when not NULL, after
 * the document's own that the job printed. */
static void
S_diags(banshi_result *r, const char *json, const bs_job_options *opt,
        const char *file, FILE *messages)
{
  if (!*json)
    return;
  if (!bs_dynlib_load(&S_json_lib)) {
    bs_arena arena;
    bs_arena_init(&arena);
    bs_diags d;
    bs_diags_init(&d, &arena, opt->lang);
    bs_diag(&d, BS_ERROR, BS_D_LIBRARY, file, 0, 0, BS_SONAME_JANSSON,
            opt->lang == BS_LANG_EN ? "reading diagnostics" : "读取消息",
            S_json_lib.why);
    if (messages)
      bs_job_print(opt, &d, messages);
    unsigned errors = r->errors;
    S_failed(r, file, bs_code_name(BS_D_LIBRARY),
             ((const bs_diagnostic *)d.items.data)->message);
    r->errors = errors + 1;
    bs_diags_free(&d);
    bs_arena_free(&arena);
    return;
  }
  size_t n = 0;
  for (const char *s = json; *s; s++)
    n += *s == '\n';
  r->diags = bs_arena_alloc(&r->arena, (n ? n : 1) * sizeof *r->diags);
  for (const char *s = json; *s;) {
    const char *nl = strchr(s, '\n');
    size_t len = nl ? (size_t)(nl - s) : strlen(s);
    json_t *o = S_j.json_loadb(s, len, 0, NULL);
    s += len + (nl ? 1 : 0);
    if (!o)
      continue;
    banshi_diagnostic *d = &r->diags[r->ndiags++];
    memset(d, 0, sizeof *d);
    d->file = S_str(r, o, "file");
    d->line = (unsigned)S_j.json_integer_value(S_j.json_object_get(o, "line"));
    d->column =
        (unsigned)S_j.json_integer_value(S_j.json_object_get(o, "column"));
    d->severity = S_str(r, o, "severity");
    d->rule = S_str(r, o, "rule");
    d->message = S_str(r, o, "message");
    json_t *vals = S_j.json_object_get(o, "values");
    d->nvalues = S_j.json_array_size(vals);
    if (d->nvalues) {
      const char **v = bs_arena_alloc(&r->arena, d->nvalues * sizeof *v);
      for (size_t i = 0; i < d->nvalues; i++) {
        const char *t = S_j.json_string_value(S_j.json_array_get(vals, i));
        v[i] = bs_arena_strdup(&r->arena, t ? t : "");
      }
      d->values = v;
    }
    S_j.json_delete(o); /* json_decref of the only reference */
  }
}

static banshi_result *
S_result_new(void)
{
  banshi_result *r = bs_xcalloc(1, sizeof *r);
  bs_arena_init(&r->arena);
  return r;
}

static void
S_share(banshi_env *e)
{
  pthread_mutex_lock(&e->lock);
  if (!e->shared)
    e->shared = bs_shared_new(&e->o);
  pthread_mutex_unlock(&e->lock);
}

/* All of standard input, or NULL with errno set; more than a source may
 * hold is cut there (the parser reports the limit). */
static unsigned char *
S_read_stdin(size_t *len)
{
  size_t cap = 1 << 16, n = 0;
  unsigned char *buf = malloc(cap);
  size_t got;
  while (buf && (got = fread(buf + n, 1, cap - n, stdin)) > 0) {
    n += got;
    if (n > BS_MAX_SOURCE_BYTES)
      break;
    if (n == cap) {
      unsigned char *nb = realloc(buf, cap *= 2);
      if (!nb) {
        free(buf);
        return NULL;
      }
      buf = nb;
    }
  }
  if (buf && ferror(stdin)) {
    free(buf);
    errno = EIO;
    return NULL;
  }
  *len = n;
  return buf;
}

/* banshi_render and banshi_render_to.  A named file is read with last
 * year's source of the env's "previous"; bytes in memory without it. */
static banshi_result *
S_render(banshi_env *e, const char *name, const void *data, size_t len,
         const char *out, const char *dump, FILE *messages, int flags)
{
  banshi_result *r = S_result_new();
  S_share(e);
  unsigned char *input = NULL;
  if (!data && name && strcmp(name, "-") == 0) {
    input = S_read_stdin(&len);
    if (!input) {
      const char *why = strerror(errno);
      char msg[512];
      snprintf(msg, sizeof msg, bs_diag_format(BS_D_STDIN, e->o.lang), why);
      if (messages)
        fprintf(messages, "%s: %s\n", BANSHI_NAME, msg);
      return S_failed(r, NULL, "io-read", msg);
    }
    name = "<stdin>";
    data = input;
  }
  /* in memory: a private folder for the renderer's one output path */
  char tmpdir[PATH_MAX] = "", tmppdf[PATH_MAX + 16] = "";
  const char *pdf = out;
  if ((flags & BANSHI_PDF_IN_MEMORY) && !out) {
    const char *t = getenv("TMPDIR");
    int n = snprintf(tmpdir, sizeof tmpdir, "%s/banshi-XXXXXX",
                     t && *t ? t : "/tmp");
    if (n < 0 || (size_t)n >= sizeof tmpdir)
      errno = ENAMETOOLONG;
    if (n < 0 || (size_t)n >= sizeof tmpdir || !mkdtemp(tmpdir)) {
      free(input);
      return S_failed(r, tmpdir, "io-write", strerror(errno));
    }
    snprintf(tmppdf, sizeof tmppdf, "%s/out.pdf", tmpdir);
    pdf = tmppdf;
  }
  bs_job_result jr;
  if (data)
    r->status = bs_job_run_memory(e->shared, name, data, len, NULL, false,
                                  pdf, dump, messages, &jr);
  else
    r->status = bs_job_run(e->shared, name, pdf, dump, messages, &jr);
  free(input);
  r->pages = jr.pages;
  r->errors = jr.errors;
  r->warnings = jr.warnings;
  S_diags(r, jr.diagnostics_json ? jr.diagnostics_json : "", &e->o, name,
          messages);
  bs_job_result_free(&jr);
  if (flags & BANSHI_PDF_IN_MEMORY && r->status == BANSHI_OK) {
    int err = S_slurp(r, pdf);
    if (err)
      r->status = BANSHI_FAILURE;
  }
  if (*tmpdir) {
    unlink(tmppdf);
    rmdir(tmpdir);
  }
  return r;
}

banshi_result *
banshi_render(banshi_env *e, const char *name, const void *data, size_t len,
              const char *pdf_path, int flags)
{
  return S_render(e, name, data, len, pdf_path, NULL, NULL, flags);
}

banshi_result *
banshi_render_to(banshi_env *e, const char *name, const void *data,
                 size_t len, const char *out, const char *dump,
                 FILE *messages)
{
  return S_render(e, name, data, len, out, dump, messages, 0);
}

banshi_result *
banshi_convert(banshi_env *e, const char *name, const char *core_path,
               FILE *messages)
{
  banshi_result *r = S_result_new();
  const bs_job_options *o = &e->o;
  /* the core document never replaces the source or last year's */
  const char *inputs[2] = {name, o->previous};
  const char *in = bs_output_input(core_path, inputs, 2);
  if (in) {
    char msg[1024];
    snprintf(msg, sizeof msg, bs_diag_format(BS_D_OUTPUT_IS_INPUT, o->lang),
             core_path, in);
    if (messages)
      fprintf(messages, "%s: %s: %s\n", core_path,
              bs_severity_name(BS_ERROR), msg);
    return S_failed(r, core_path, bs_code_name(BS_D_OUTPUT_IS_INPUT), msg);
  }
  bs_report_source *prev =
      o->previous ? bs_report_source_load(o->previous, o->lang) : NULL;
  bs_parse_options po = {0};
  po.previous = prev;
  po.core_out = core_path;
  po.as_published = o->as_published;
  bs_document *doc = bs_parse_file(name, &po, o->lang);
  if (messages)
    bs_job_print(o, &doc->diags, messages);
  doc->diags.shown = BS_NOTE;
  char *json = NULL;
  size_t jlen = 0;
  FILE *mem = open_memstream(&json, &jlen);
  if (mem) {
    bs_diags_print_json(&doc->diags, mem);
    fclose(mem);
  }
  r->status = bs_diags_status(&doc->diags);
  r->errors = doc->diags.errors;
  r->warnings = doc->diags.warnings;
  S_diags(r, json ? json : "", o, name, messages);
  free(json);
  bs_document_free(doc);
  bs_report_source_free(prev);
  return r;
}

int
banshi_result_status(const banshi_result *r)
{
  return r->status;
}

int
banshi_result_pages(const banshi_result *r)
{
  return r->pages;
}

unsigned
banshi_result_errors(const banshi_result *r)
{
  return r->errors;
}

unsigned
banshi_result_warnings(const banshi_result *r)
{
  return r->warnings;
}

const void *
banshi_result_pdf(const banshi_result *r, size_t *len)
{
  if (len)
    *len = r->pdf ? r->pdf_len : 0;
  return r->pdf;
}

size_t
banshi_result_count(const banshi_result *r)
{
  return r->ndiags;
}

const banshi_diagnostic *
banshi_result_diagnostic(const banshi_result *r, size_t i)
{
  return i < r->ndiags ? &r->diags[i] : NULL;
}

void
banshi_result_free(banshi_result *r)
{
  if (!r)
    return;
  free(r->pdf);
  bs_arena_free(&r->arena);
  free(r);
}

void
banshi_cleanup(void)
{
  bs_layout_cleanup();
  bs_parse_cleanup();
  bs_report_cleanup();
}
