// SPDX-License-Identifier: Apache-2.0
/* job.c - one source through the pipeline; see job.h.
 * Layer 11 (job): docs/architecture.md. */
#include "job.h"

#include "fsio.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "layout.h"
#include "pipeline.h"
#include "render.h"
#include "util.h"
#include "xml.h"

struct bs_shared {
  bs_job_options o;
  pthread_mutex_t lock;
  bool loaded;
  bs_template *tpl;     /* NULL after a failure */
  bs_fontset *fonts;    /* NULL after a failure */
  bs_arena arena;       /* diagnostics of loading, replayed per job */
  bs_diags load_diags;
  bool prefetch_started; /* under lock */
  pthread_t prefetch;   /* S_prefetch, joined by bs_shared_free */
};

bs_shared *
bs_shared_new(const bs_job_options *o)
{
  bs_shared *s = bs_xcalloc(1, sizeof *s);
  s->o = *o;
  pthread_mutex_init(&s->lock, NULL);
  bs_arena_init(&s->arena);
  bs_diags_init(&s->load_diags, &s->arena, o->lang);
  return s;
}

void
bs_shared_free(bs_shared *s)
{
  if (!s)
    return;
  if (s->prefetch_started)
    pthread_join(s->prefetch, NULL);
  bs_template_free(s->tpl);
  bs_fontset_free(s->fonts);
  bs_diags_free(&s->load_diags);
  bs_arena_free(&s->arena);
  pthread_mutex_destroy(&s->lock);
  free(s);
}

/* Load template and font map once; replay their diagnostics into every
 * job's list so each result is complete on its own. */
static void
S_load_once(bs_shared *s)
{
  pthread_mutex_lock(&s->lock);
  if (!s->loaded) {
    s->loaded = true;
    s->tpl = bs_template_load(s->o.tpl ? s->o.tpl : "gbt9704",
                              &s->load_diags);
    s->fonts = bs_fontset_new(s->o.font_map, &s->load_diags);
  }
  pthread_mutex_unlock(&s->lock);
}

static void
S_load(bs_shared *s, bs_diags *d)
{
  S_load_once(s);
  const bs_diagnostic *it = s->load_diags.items.data;
  for (size_t i = 0; i < s->load_diags.items.len; i++)
    bs_diag_text(d, it[i].severity, it[i].code, it[i].file, it[i].line,
                 it[i].col, "%s", it[i].message);
}

/* The second thread of a job that may use two (o.threads): the fixed
 * costs a job meets after its source is parsed, mapped and checked -- the
 * core document's schema, the template and font map, ICU's Chinese
 * dictionary for titles, a fifth of the instructions of a fresh render --
 * made while the first thread does that.  Nothing here reports: S_load
 * keeps its diagnostics for the job to replay as before, a schema that
 * fails is compiled and reported again by the parser, and a font role is
 * left to the layout, whose first resolution of it reports. */
static void *
S_prefetch(void *arg)
{
  bs_shared *s = arg;
  bs_arena a;
  bs_arena_init(&a);
  bs_xml_schema(bs_data_path(&a, BS_DATA_SCHEMAS, "document.xsd"));
  bs_arena_free(&a);
  S_load_once(s);
  bs_layout_warm();
  return NULL;
}

static void
S_prefetch_start(bs_shared *s)
{
  bs_xml_init();
  pthread_mutex_lock(&s->lock);
  if (!s->prefetch_started && !s->loaded)
    s->prefetch_started =
        pthread_create(&s->prefetch, NULL, S_prefetch, s) == 0;
  pthread_mutex_unlock(&s->lock);
}

int
bs_shared_inputs(bs_shared *s, void (*fn)(void *ctx, const char *path),
                 void *ctx)
{
  bs_arena scratch;
  bs_diags d;
  bs_arena_init(&scratch);
  bs_diags_init(&d, &scratch, s->o.lang);
  S_load(s, &d);
  int rc = s->tpl && s->fonts ? 0 : -1;
  if (rc == 0) {
    fn(ctx, s->tpl->path);
    fn(ctx, bs_data_path(&scratch, BS_DATA_FONTS, "default.map"));
    if (s->o.font_map)
      fn(ctx, s->o.font_map);
    /* Resolving a failed role again would only add a diagnostic to the
     * scratch list; the jobs that use it report it. */
    for (int i = 0; i < BS_STYLE_COUNT; i++)
      if (s->tpl->styles[i].role)
        bs_fontset_role(s->fonts, s->tpl->styles[i].role, &d);
    int n = bs_fontset_count(s->fonts);
    for (int i = 0; i < n; i++)
      fn(ctx, bs_fontset_font(s->fonts, i)->path);
  }
  bs_diags_free(&d);
  bs_arena_free(&scratch);
  return rc;
}

void
bs_job_print(const bs_job_options *o, bs_diags *d, FILE *out)
{
  if (o->quiet)
    d->shown = BS_ERROR;
  if (o->json_diags)
    bs_diags_print_json(d, out);
  else
    bs_diags_print(d, out);
}

int
bs_diags_status(const bs_diags *d)
{
  if (!d->errors)
    return BS_STATUS_OK;
  const bs_diagnostic *it = d->items.data;
  for (size_t i = 0; i < d->items.len; i++) {
    if (it[i].severity != BS_ERROR)
      continue;
    switch (it[i].code) {
    case BS_D_IO_READ:
    case BS_D_IO_WRITE:
    case BS_D_SCHEMA_LOAD:
    case BS_D_FONT_MAP:
    case BS_D_FONT_ROLE:
    case BS_D_FONT_FILE:
    case BS_D_FONT_LOAD:
    case BS_D_FONT_UNUSABLE:
    case BS_D_TEMPLATE:
    case BS_D_TEMPLATE_MISSING:
    case BS_D_RENDER:
    case BS_D_ICC_MISSING:
    case BS_D_REPORT_TYPE:
    case BS_D_OUTPUT_IS_INPUT:
    case BS_D_NAME_CONTROL:
    case BS_D_WORKER_CRASH:
    case BS_D_COLLATION:
    case BS_D_LIBRARY:
      return BS_STATUS_FAILURE;
    default:
      break;
    }
  }
  return BS_STATUS_INVALID;
}

/* The input `out` would overwrite (a typo such as -o report.xml would
 * otherwise replace the source with the PDF): the source, last year's
 * source, the font map or a figure of the document, or NULL. */
static const char *
S_clobbers(const bs_job_options *o, const bs_document *doc,
           const char *previous, const char *out)
{
  if (!out || strcmp(out, "-") == 0)
    return NULL;
  const char *inputs[3] = {doc->path, previous, o->font_map};
  const char *hit = bs_output_input(out, inputs, 3);
  for (bs_node *n = doc->body; n && !hit; n = bs_node_walk_next(n, doc->body))
    if (n->type == BS_NODE_FIGURE && n->as.figure.src) {
      const char *fig = n->as.figure.src;
      char *path = fig[0] == '/' ? strdup(fig) : NULL;
      if (!path) {
        size_t len = strlen(doc->dir) + strlen(fig) + 2;
        path = bs_xmalloc(len);
        snprintf(path, len, "%s/%s", doc->dir, fig);
      }
      if (bs_output_input(out, (const char *const *)&path, 1))
        hit = n->as.figure.src;
      free(path);
    }
  return hit;
}

static bool
S_ends_with(const char *s, const char *tail)
{
  size_t n = strlen(s), k = strlen(tail);
  return n >= k && strcasecmp(s + n - k, tail) == 0;
}

static long long
S_size(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

/* PDF/A-3b: the source as read and, for a report source, the core
 * document it maps to (as banshi convert writes it).  Returns how many. */
static int
S_source_files(bs_document *doc, bs_pdf_attachment files[2])
{
  const char *slash = strrchr(doc->path, '/');
  const char *base = slash ? slash + 1 : doc->path;
  if (!*base)
    base = "source.xml";
  int n = 0;
  files[n++] = (bs_pdf_attachment){base, "application/xml",
                                   "XML source (源文件)", doc->raw,
                                   doc->raw_len};
  if (doc->core) {
    size_t bl = strlen(base);
    if (bl > 4 && strcmp(base + bl - 4, ".xml") == 0)
      bl -= 4;
    char *name = bs_arena_alloc(&doc->arena, bl + sizeof ".core.xml");
    memcpy(name, base, bl);
    memcpy(name + bl, ".core.xml", sizeof ".core.xml");
    files[n++] = (bs_pdf_attachment){
        strcmp(name, base) ? name : "core.xml", "application/xml",
        "core document of the report source (核心文档)", doc->core,
        doc->core_len};
  }
  return n;
}

int
bs_job_run(bs_shared *sh, const char *src, const char *pdf, const char *dump,
           FILE *diag_out, bs_job_result *res)
{
  bs_report_source *prev =
      sh->o.previous ? bs_report_source_load(sh->o.previous, sh->o.lang)
                     : NULL;
  int st = bs_job_run_previous(sh, src, prev, pdf, dump, diag_out, res);
  bs_report_source_free(prev);
  return st;
}

int
bs_job_run_previous(bs_shared *sh, const char *src,
                    const bs_report_source *previous, const char *pdf,
                    const char *dump, FILE *diag_out, bs_job_result *res)
{
  return bs_job_run_report(sh, src, previous, false, pdf, dump, diag_out,
                           res);
}

/* The findings of a report type's checks, as printed text (malloc'd). */
static char *
S_findings(const bs_diags *all)
{
  bs_arena a;
  bs_arena_init(&a);
  bs_diags d;
  bs_diags_init(&d, &a, all->lang);
  const bs_diagnostic *it = all->items.data;
  for (size_t i = 0; i < all->items.len; i++) {
    bs_code c = it[i].code;
    if (c == BS_D_RULE || c == BS_D_CELL_BLANK ||
        c == BS_D_CELL_PLACEHOLDER || c == BS_D_CELL_VALUE ||
        c == BS_D_PROSE)
      bs_diag_text(&d, it[i].severity, c, it[i].file, it[i].line, it[i].col,
                   "%s", it[i].message);
  }
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  if (mem) {
    bs_diags_print(&d, mem);
    fclose(mem);
  }
  bs_diags_free(&d);
  bs_arena_free(&a);
  return text ? text : strdup("");
}

int
bs_job_run_report(bs_shared *sh, const char *src,
                  const bs_report_source *previous, bool as_published,
                  const char *pdf, const char *dump, FILE *diag_out,
                  bs_job_result *res)
{
  return bs_job_run_memory(sh, src, NULL, 0, previous, as_published, pdf,
                           dump, diag_out, res);
}

int
bs_job_run_memory(bs_shared *sh, const char *src, const unsigned char *buf,
                  size_t buflen, const bs_report_source *previous,
                  bool as_published,
                  const char *pdf, const char *dump, FILE *diag_out,
                  bs_job_result *res)
{
  memset(res, 0, sizeof *res);
  const bs_job_options *o = &sh->o;
  bool two = o->threads >= 2 && bs_cpus() >= 2;
  if (two)
    S_prefetch_start(sh);
  bs_parse_options popts = {0};
  popts.previous = previous;
  popts.as_published = o->as_published || as_published;
  popts.keep_source = o->pdfa == 3 && pdf;
  popts.two_threads = two;
  bs_document *doc = buf ? bs_parse_memory(src, buf, buflen, &popts, o->lang)
                         : bs_parse_file(src, &popts, o->lang);
  const char *prev_path = previous ? bs_report_source_path(previous)
                                   : o->previous;
  for (int i = 0; i < 2; i++) {
    const char *out = i ? dump : pdf;
    const char *in = S_clobbers(o, doc, prev_path, out);
    if (in) {
      bs_diag(&doc->diags, BS_ERROR, BS_D_OUTPUT_IS_INPUT, NULL, 0, 0, out,
              in);
      if (i)
        dump = NULL;
      else
        pdf = NULL;
    }
  }
  bs_layout *lay = NULL;
  if (doc->diags.errors == 0) {
    bs_normalize_options no = {o->normalize};
    bs_normalize(doc, &no);
    S_load(sh, &doc->diags);
  }
  if (doc->diags.errors == 0 && sh->tpl && sh->fonts) {
    bs_layout_options lo = {sh->tpl, sh->fonts};
    lay = bs_layout_document(doc, &lo);
  }
  if (lay) {
    res->pages = lay->npages;
    if (dump) {
      FILE *f = strcmp(dump, "-") == 0 ? stdout : fopen(dump, "w");
      int e = errno;
      if (!f || bs_render_dump(lay, f) != 0)
        bs_diag(&doc->diags, BS_ERROR, BS_D_IO_WRITE, NULL, 0, 0, dump,
                strerror(f ? EIO : e));
      if (f && f != stdout && fclose(f) != 0)
        bs_diag(&doc->diags, BS_ERROR, BS_D_IO_WRITE, NULL, 0, 0, dump,
                strerror(errno));
    }
    if (pdf && doc->diags.errors == 0) {
      bs_ofd_options oo = {o->epoch};
      if (o->ofd || S_ends_with(pdf, ".ofd")) {
        if (bs_render_ofd(lay, pdf, &oo) == 0)
          res->bytes = S_size(pdf);
      } else {
        bs_pdf_options po = {NULL, o->epoch,
                             o->pdfa == 3 || o->pdfa == 2 ? o->pdfa : 1,
                             NULL, 0, o->tagged,
                             two ? 2 : 1,
                             o->pdf_sha256 ? res->pdf_sha256 : NULL,
                             bs_fontset_programs(sh->fonts)};
        bs_pdf_attachment files[2];
        if (po.pdfa_part == 3)
          po.nfiles = S_source_files(doc, files);
        po.files = files;
        if (bs_render_pdf(lay, pdf, &po) == 0) {
          res->have_pdf_sha256 = o->pdf_sha256;
          res->bytes = S_size(pdf);
          if (o->ofd_beside) {
            size_t n = strlen(pdf);
            if (S_ends_with(pdf, ".pdf"))
              n -= 4;
            char *ofd = bs_arena_alloc(&doc->arena, n + 5);
            memcpy(ofd, pdf, n);
            memcpy(ofd + n, ".ofd", 5);
            bs_render_ofd(lay, ofd, &oo);
          }
        }
      }
    }
  }
  char *text = NULL, *json = NULL;
  size_t len = 0, jlen = 0;
  FILE *mem = open_memstream(&text, &len);
  if (mem) {
    bs_diags_print(&doc->diags, mem);
    fclose(mem);
  }
  mem = open_memstream(&json, &jlen);
  if (mem) {
    bs_diags_print_json(&doc->diags, mem);
    fclose(mem);
  }
  const char *shown = o->json_diags ? json : text;
  if (diag_out && o->quiet) {
    doc->diags.shown = BS_ERROR;
    if (o->json_diags)
      bs_diags_print_json(&doc->diags, diag_out);
    else
      bs_diags_print(&doc->diags, diag_out);
  } else if (diag_out && shown)
    fputs(shown, diag_out);
  res->diagnostics = text ? text : strdup("");
  res->diagnostics_json = json ? json : strdup("");
  res->findings = S_findings(&doc->diags);
  res->errors = doc->diags.errors;
  res->warnings = doc->diags.warnings;
  res->status = bs_diags_status(&doc->diags);
  if (res->status == BS_STATUS_OK && !lay)
    res->status = BS_STATUS_FAILURE;
  bs_document_free(doc);
  return res->status;
}

void
bs_job_result_free(bs_job_result *res)
{
  free(res->diagnostics);
  res->diagnostics = NULL;
  free(res->diagnostics_json);
  res->diagnostics_json = NULL;
  free(res->findings);
  res->findings = NULL;
}
