// SPDX-License-Identifier: Apache-2.0
/* batch.c - batch production; see batch.h.
 *
 * Design.  Workers are POSIX threads in one process sharing one bs_shared
 * (template and fonts loaded once, read-only): a job queue that is nothing
 * but an index into the sorted plan, taken under a mutex, so at most N
 * documents are in memory whatever the size of the batch.  Results are
 * reported by the worker that made them, under the same mutex, to the log
 * and to the terminal; the main thread only waits, redraws the progress
 * line and notices signals.
 *
 * Rejected: one process per document (fork/exec) - simple isolation, but
 * every process loads the schema, the template and 10-50 MB of fonts again,
 * and the batch then costs several times the work of its documents; and a
 * worker pool of forked processes - crash isolation, at the price of a
 * result protocol over pipes, while the pipeline already reports every
 * failure as a diagnostic and the hostile-input work keeps it from
 * crashing.  Rejected too: keeping results in memory for a report at the
 * end - the log is written as results arrive, so memory stays flat and the
 * log of an interrupted batch still says what was done.
 *
 * Nothing half-written: PDFs are written by render_pdf.c under a temporary
 * name, fsync'd and renamed; stamps and the log go through fsio.h the same
 * way.  A stamp is removed before its PDF is rendered again and written
 * after the new PDF is in place, so after a kill at any moment a rerun
 * either finds a stamp that matches the PDF beside it, or renders again.
 *
 * Signals: the first SIGINT or SIGTERM stops the hand-out of new documents;
 * those in flight are finished, the rest are logged as not run, and the
 * summary is printed.  The handler is reset, so a second signal ends the
 * process at once (leaving only temporaries, removed by the next run).
 *
 * Layer 13 (batch, bag): docs/architecture.md. */
#include "batch.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libxml/xmlreader.h>

#include "fsio.h"
#include "opts.h"
#include "job.h"
#include "layout.h"
#include "render.h"
#include "report.h"
#include "util.h"

#define S_STATE_DIR ".banshi"
#define S_MAX_WALK_DEPTH 64
#define S_MAX_JOBS 256

/* ------------------------------------------------------------------ */
/* Planning                                                             */

void
bs_batch_plan_init(bs_batch_plan *p, bs_lang lang)
{
  memset(p, 0, sizeof *p);
  p->items.esize = sizeof(bs_batch_item);
  bs_arena_init(&p->arena);
  bs_diags_init(&p->diags, &p->arena, lang);
}

void
bs_batch_plan_free(bs_batch_plan *p)
{
  bs_vec_free(&p->items);
  bs_diags_free(&p->diags);
  bs_arena_free(&p->arena);
}

static bool
S_ends_xml(const char *s)
{
  size_t n = strlen(s);
  return n > 4 && strcasecmp(s + n - 4, ".xml") == 0;
}

/* The output name for a source name: .xml becomes .pdf. */
static char *
S_rel_pdf(bs_arena *a, const char *name)
{
  size_t n = strlen(name);
  if (S_ends_xml(name))
    n -= 4;
  return bs_arena_printf(a, "%.*s.pdf", (int)n, name);
}

static void
S_add(bs_batch_plan *p, const char *source, const char *previous,
      const char *rel)
{
  bs_batch_item it = {bs_arena_strdup(&p->arena, source),
                      previous ? bs_arena_strdup(&p->arena, previous) : NULL,
                      rel, NULL, p->items.len, false};
  bs_vec_push(&p->items, &it);
}

static int
S_cmp_name(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in an open folder, hidden ones (., .., banshi's state and
 * temporaries) left out, sorted so that results do not depend on the file
 * system's order; closes the folder.  Free each name and the vector. */
static bs_vec
S_sorted_names(DIR *d)
{
  bs_vec names = BS_VEC_INIT(char *);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    char *s = strdup(de->d_name);
    bs_vec_push(&names, &s);
  }
  closedir(d);
  qsort(names.data, names.len, sizeof(char *), S_cmp_name);
  return names;
}

static void
S_walk(bs_batch_plan *p, const char *dir, const char *prefix, int depth)
{
  DIR *d = opendir(dir);
  if (!d) {
    bs_diag(&p->diags, BS_ERROR, BS_D_IO_READ, dir, 0, 0, dir,
            strerror(errno));
    return;
  }
  bs_vec names = S_sorted_names(d);
  for (size_t i = 0; i < names.len; i++) {
    char *name = ((char **)names.data)[i];
    char *path = bs_path_join(&p->arena, dir, name);
    char *rel = *prefix ? bs_arena_printf(&p->arena, "%s/%s", prefix, name)
                        : name;
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
      if (depth < S_MAX_WALK_DEPTH)
        S_walk(p, path, bs_arena_strdup(&p->arena, rel), depth + 1);
    } else if (S_ends_xml(name) && stat(path, &st) == 0 &&
               S_ISREG(st.st_mode)) {
      S_add(p, path, NULL, S_rel_pdf(&p->arena, rel));
    }
    free(name);
  }
  bs_vec_free(&names);
}

/* A relative path without "." or ".." steps keeps its folders in the output
 * name; anything else is named after its base name. */
static const char *
S_manifest_rel(bs_arena *a, const char *written)
{
  while (written[0] == '.' && written[1] == '/')
    written += 2;
  bool keep = written[0] != '/';
  for (const char *s = written; keep && *s; s++)
    if ((s == written || s[-1] == '/') && s[0] == '.' &&
        (s[1] == '/' || s[1] == '\0' || (s[1] == '.' && (s[2] == '/' ||
                                                          s[2] == '\0'))))
      keep = false;
  if (!keep) {
    const char *slash = strrchr(written, '/');
    written = slash ? slash + 1 : written;
  }
  return S_rel_pdf(a, written);
}

static void S_add_input(bs_batch_plan *p, const char *input, int depth);

static void
S_manifest(bs_batch_plan *p, const char *path, FILE *f, int depth)
{
  /* paths in a manifest on standard input are relative to the current
   * folder, those in a file to the file's folder */
  char *base = strcmp(path, "-") == 0 ? NULL : bs_path_dir(&p->arena, path);
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, f)) >= 0) {
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
      line[--n] = '\0';
    char *s = line;
    while (*s == ' ')
      s++;
    if (!*s || *s == '#')
      continue;
    /* columns after the source: last year's source, "as-published" */
    char *prev = NULL;
    bool as_published = false;
    char *tab = strchr(s, '\t');
    if (tab) {
      *tab++ = '\0';
      char *save = NULL;
      for (char *col = strtok_r(tab, "\t", &save); col;
           col = strtok_r(NULL, "\t", &save)) {
        while (*col == ' ')
          col++;
        if (strcmp(col, "as-published") == 0)
          as_published = true;
        else if (*col && !prev)
          prev = col;
      }
    }
    const char *src = s[0] == '/' || !base ? s
                                            : bs_path_join(&p->arena, base, s);
    const char *pv = !prev || prev[0] == '/' || !base
                         ? prev
                         : bs_path_join(&p->arena, base, prev);
    struct stat st;
    if (stat(src, &st) == 0 && S_ISDIR(st.st_mode)) {
      S_add_input(p, src, depth + 1);
      continue;
    }
    /* A missing source is the failure of that source, not of the batch. */
    S_add(p, src, pv, S_manifest_rel(&p->arena, s));
    ((bs_batch_item *)p->items.data)[p->items.len - 1].as_published =
        as_published;
  }
  free(line);
}

static void
S_add_input(bs_batch_plan *p, const char *input, int depth)
{
  if (depth > 8)
    return; /* manifests naming manifests in a loop */
  if (strcmp(input, "-") == 0) {
    S_manifest(p, input, stdin, depth);
    return;
  }
  struct stat st;
  if (stat(input, &st) == 0 && S_ISDIR(st.st_mode)) {
    S_walk(p, input, "", 0);
    return;
  }
  if (S_ends_xml(input)) {
    const char *slash = strrchr(input, '/');
    S_add(p, input, NULL, S_rel_pdf(&p->arena, slash ? slash + 1 : input));
    return;
  }
  FILE *f = fopen(input, "r");
  if (!f) {
    bs_diag(&p->diags, BS_ERROR, BS_D_IO_READ, input, 0, 0, input,
            strerror(errno));
    return;
  }
  S_manifest(p, input, f, depth);
  fclose(f);
}

void
bs_batch_plan_add(bs_batch_plan *p, const char *input)
{
  S_add_input(p, input, 0);
}

static int
S_cmp_item(const void *pa, const void *pb)
{
  const bs_batch_item *a = pa, *b = pb;
  int c = strcmp(a->rel, b->rel);
  if (c)
    return c;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* The same file, however it was named. */
static bool
S_same_file(const char *a, const char *b)
{
  if (strcmp(a, b) == 0)
    return true;
  struct stat sa, sb;
  return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

void
bs_batch_plan_finish(bs_batch_plan *p)
{
  bs_batch_item *it = p->items.data;
  size_t n = p->items.len;
  qsort(it, n, sizeof *it, S_cmp_item);
  size_t out = 0;
  for (size_t i = 0; i < n; i++) {
    size_t first = out; /* the first kept item with this output name */
    while (first > 0 && strcmp(it[first - 1].rel, it[i].rel) == 0)
      first--;
    if (first < out) {
      if (S_same_file(it[first].source, it[i].source))
        continue; /* listed twice */
      it[i].clash = it[first].source;
    }
    it[out++] = it[i];
  }
  p->items.len = out;
}

bool
bs_shard_selects(const char *rel, unsigned k, unsigned n)
{
  if (n <= 1)
    return true;
  bs_sha256 c;
  unsigned char d[32];
  bs_sha256_init(&c);
  bs_sha256_update(&c, rel, strlen(rel));
  bs_sha256_final(&c, d);
  uint64_t h = 0;
  for (int i = 0; i < 8; i++)
    h = h << 8 | d[i];
  return h % n == k;
}

/* ------------------------------------------------------------------ */
/* Stamps                                                               */

char *
bs_stamp_path(const char *outdir, const char *rel)
{
  size_t n = strlen(outdir) + strlen(rel) + sizeof S_STATE_DIR + 16;
  char *s = bs_xmalloc(n);
  snprintf(s, n, "%s/%s/%s.stamp", outdir, S_STATE_DIR, rel);
  return s;
}

void
bs_stamp_free(bs_stamp *st)
{
  for (int i = 0; i < st->nimages; i++)
    free(st->images[i].src);
  free(st->images);
  free(st->source);
  free(st->previous);
  for (int i = 0; i < st->nfindings; i++)
    free(st->findings[i]);
  free(st->findings);
  memset(st, 0, sizeof *st);
}

static bool
S_hex_ok(const char *s)
{
  if (strlen(s) != 64)
    return false;
  for (int i = 0; i < 64; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return true;
}

int
bs_stamp_read(const char *path, bs_stamp *st)
{
  memset(st, 0, sizeof *st);
  st->pages = -1;
  st->bytes = -1;
  FILE *f = fopen(path, "r");
  if (!f)
    return errno;
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  bool magic = false;
  while ((n = getline(&line, &cap, f)) >= 0) {
    if (n > 0 && line[n - 1] == '\n')
      line[--n] = '\0';
    char *v = strchr(line, ' ');
    if (!v)
      continue;
    *v++ = '\0';
    if (strcmp(line, "banshi-stamp") == 0)
      magic = strcmp(v, "1") == 0;
    else if (strcmp(line, "key") == 0 && S_hex_ok(v))
      memcpy(st->key, v, BS_SHA256_HEX);
    else if (strcmp(line, "source") == 0 && !st->source)
      st->source = strdup(v);
    else if (strcmp(line, "source-sha256") == 0 && S_hex_ok(v))
      memcpy(st->source_sha, v, BS_SHA256_HEX);
    else if (strcmp(line, "previous") == 0 && !st->previous)
      st->previous = strdup(v);
    else if (strcmp(line, "pages") == 0)
      st->pages = atoi(v);
    else if (strcmp(line, "bytes") == 0)
      st->bytes = atoll(v);
    else if (strcmp(line, "normalize") == 0)
      st->normalize = strcmp(v, "1") == 0;
    else if (strcmp(line, "as-published") == 0)
      st->as_published = strcmp(v, "1") == 0;
    else if (strcmp(line, "finding") == 0 && st->nfindings < 10000) {
      st->findings = bs_xrealloc(st->findings, (size_t)(st->nfindings + 1) *
                                                   sizeof *st->findings);
      st->findings[st->nfindings++] = strdup(v);
    }
    else if (strcmp(line, "image") == 0 && strlen(v) > 65 && v[64] == ' ') {
      bs_stamp_image im;
      memcpy(im.sha, v, 64);
      im.sha[64] = '\0';
      im.src = strdup(v + 65);
      st->images = bs_xrealloc(st->images, (size_t)(st->nimages + 1) *
                                               sizeof *st->images);
      st->images[st->nimages++] = im;
    }
  }
  free(line);
  fclose(f);
  if (!magic || !st->key[0] || !st->source || !st->source_sha[0] ||
      st->pages < 0 || st->bytes < 0)
    return EINVAL;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Messages of the batch itself (not diagnostics of a source)          */

typedef enum {
  S_M_PROGRESS,
  S_M_PROGRESS_TTY,
  S_M_INTERRUPT,
  S_M_SUMMARY,
  S_M_LOG,
  S_M_COUNT
} S_msg;

static const char *const S_msgs[S_M_COUNT][2] = {
    [S_M_PROGRESS] = {"banshi：已完成 %zu/%zu（%d%%），失败 %zu，每秒 %.1f 份，"
                      "预计还需 %s\n",
                      "banshi: %zu/%zu done (%d%%), %zu failed, %.1f/s, "
                      "%s left\n"},
    [S_M_PROGRESS_TTY] = {"%zu/%zu  失败 %zu  %.1f 份/秒  剩余 %s",
                          "%zu/%zu  %zu failed  %.1f/s  %s left"},
    [S_M_INTERRUPT] = {"banshi：收到信号，正在完成处理中的 %zu 份文档，"
                       "不再开始新的文档（再次中断则立即退出）\n",
                       "banshi: interrupted: finishing the %zu documents in "
                       "flight, starting no more (interrupt again to stop "
                       "at once)\n"},
    [S_M_SUMMARY] = {"banshi：共 %zu 份：生成 %zu，已是最新 %zu，无效 %zu，"
                     "失败 %zu，未处理 %zu；用时 %.1f 秒\n",
                     "banshi: %zu sources: %zu written, %zu up to date, "
                     "%zu invalid, %zu failed, %zu not run; %.1f s\n"},
    [S_M_LOG] = {"banshi：结果日志 %s\n", "banshi: result log %s\n"},
};

/* ------------------------------------------------------------------ */
/* The run                                                              */

typedef struct S_opts {
  const char *outdir;
  const char *log;
  unsigned jobs;
  unsigned shard_k, shard_n;
  bs_job_options job;
  bs_vec inputs; /* const char * */
} S_opts;

typedef enum {
  S_ST_OK,
  S_ST_CURRENT,
  S_ST_INVALID,
  S_ST_FAILED,
  S_ST_NOT_RUN,
  S_ST_COUNT
} S_status;

static const char *const S_status_names[S_ST_COUNT] = {
    "ok", "up-to-date", "invalid", "failed", "not-run"};

typedef struct S_batch {
  const S_opts *o;
  bs_shared *shared;
  bs_batch_item **todo; /* the selected items, in plan order */
  size_t ntodo;
  bs_arena scratch;             /* small strings of the main thread */
  bool env_ok;                  /* env_hex is valid */
  char env_hex[BS_SHA256_HEX];  /* key of everything but the sources */
  FILE *err;
  bool tty;
  bs_atomic log;
  bool log_ok;
  int log_errno;
  struct timespec t0;

  pthread_mutex_t lock;
  pthread_cond_t cond;
  size_t next;          /* next item to hand out */
  size_t inflight;      /* items being processed */
  size_t done;          /* items reported */
  size_t rendered;      /* items rendered (not up to date) */
  size_t count[S_ST_COUNT];
  unsigned long warnings; /* of every source, for --fail-on-warnings */
  int verbosity;          /* -1 -q, 0, 1 -v */
  unsigned running;     /* workers not yet finished */
  bool bar_shown;       /* a progress bar is on the terminal line */
  double last_line;     /* time of the last plain progress line */
  int last_decile;      /* decile of the last plain progress line */
  size_t last_done;     /* items done at the last plain progress line */
} S_batch;

static atomic_int S_signal;

/* The first SIGINT or SIGTERM only sets the flag; both go back to their
 * default action, so that a second one ends the process at once. */
static void
S_on_signal(int sig)
{
  atomic_store(&S_signal, sig);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
}

static double
S_elapsed(const S_batch *b)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - b->t0.tv_sec) +
         (double)(t.tv_nsec - b->t0.tv_nsec) / 1e9;
}

static const char *
S_msg_text(const S_batch *b, S_msg m)
{
  return S_msgs[m][b->o->job.lang == BS_LANG_EN ? 1 : 0];
}

/* JSON string: UTF-8 kept, controls escaped, invalid bytes as U+FFFD. */
static void
S_json_str(FILE *f, const char *s)
{
  fputc('"', f);
  const unsigned char *p = (const unsigned char *)s;
  size_t n = strlen(s);
  while (n) {
    uint32_t cp;
    int k = bs_utf8_decode(p, n, &cp);
    if (k == 0) {
      fputs("\xEF\xBF\xBD", f);
      p++;
      n--;
      continue;
    }
    if (cp == '"' || cp == '\\')
      fprintf(f, "\\%c", (int)cp);
    else if (cp == '\n')
      fputs("\\n", f);
    else if (cp == '\t')
      fputs("\\t", f);
    else if (cp < 0x20 || cp == 0x7F)
      fprintf(f, "\\u%04x", (unsigned)cp);
    else
      fwrite(p, 1, (size_t)k, f);
    p += k;
    n -= (size_t)k;
  }
  fputc('"', f);
}

typedef struct S_result {
  S_status status;
  int pages;
  long long bytes;
  unsigned errors, warnings;
  double seconds;
  char *diagnostics; /* malloc'd text, one diagnostic a line */
  char *json;        /* the same as JSON objects, one a line */
} S_result;

static char *
S_out_path(const S_batch *b, const char *rel)
{
  size_t n = strlen(b->o->outdir) + strlen(rel) + 2;
  char *s = bs_xmalloc(n);
  snprintf(s, n, "%s/%s", b->o->outdir, rel);
  return s;
}

static char *
S_dirname(const char *path)
{
  const char *slash = strrchr(path, '/');
  return slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
}

/* Hash one file into the key as "name path sha\n"; false if unreadable. */
static bool
S_key_file(bs_sha256 *c, const char *name, const char *path, char *sha_out)
{
  char hex[BS_SHA256_HEX];
  if (bs_sha256_file(path, hex, NULL) != 0)
    return false;
  char *abs = realpath(path, NULL);
  const char *p = abs ? abs : path;
  bs_sha256_update(c, name, strlen(name));
  bs_sha256_update(c, " ", 1);
  bs_sha256_update(c, p, strlen(p) + 1);
  bs_sha256_update(c, hex, 64);
  bs_sha256_update(c, "\n", 1);
  free(abs);
  if (sha_out)
    memcpy(sha_out, hex, BS_SHA256_HEX);
  return true;
}

/* A relative path that does not climb out of its folder, normalised
 * ("a/./b/../c.png" -> "a/c.png") into `out` (malloc'd); false if it
 * would climb out or is absolute. */
static bool
S_inside(const char *p, char **out)
{
  if (strchr(p, '\n') || strchr(p, '\r'))
    return false;
  *out = bs_path_inside(p);
  return *out != NULL;
}

static void
S_quiet(void *ctx, xmlErrorPtr err)
{
  (void)ctx;
  (void)err;
}

void
bs_source_images(const char *source,
                 void (*fn)(void *ctx, const char *src, const char *path),
                 void *ctx)
{
  xmlTextReaderPtr r = xmlReaderForFile(
      source, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (!r)
    return;
  xmlTextReaderSetStructuredErrorHandler(r, S_quiet, NULL);
  const char *slash = strrchr(source, '/');
  size_t dl = slash ? (size_t)(slash - source) : 1;
  const char *dir = slash ? source : ".";
  while (xmlTextReaderRead(r) == 1) {
    if (xmlTextReaderNodeType(r) != XML_READER_TYPE_ELEMENT ||
        !xmlStrEqual(xmlTextReaderConstLocalName(r), BAD_CAST "figure"))
      continue;
    xmlChar *src = xmlTextReaderGetAttribute(r, BAD_CAST "src");
    if (!src)
      continue;
    /* layout.c refuses images outside the source's folder; so does this,
     * and it passes on regular files only (never /dev/zero) */
    char *norm = NULL, *path = NULL;
    struct stat st;
    if (S_inside((const char *)src, &norm)) {
      size_t n = dl + strlen(norm) + 2;
      path = bs_xmalloc(n);
      snprintf(path, n, "%.*s/%s", (int)dl, dir, norm);
      if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        free(path);
        path = NULL;
      }
    }
    fn(ctx, norm ? norm : (const char *)src, path);
    free(norm);
    free(path);
    xmlFree(src);
  }
  xmlFreeTextReader(r);
}

typedef struct S_images {
  bs_sha256 *c;  /* the key */
  bs_vec *list;  /* bs_stamp_image, for the stamp */
} S_images;

static void
S_key_image(void *ctx, const char *src, const char *path)
{
  S_images *im = ctx;
  bs_stamp_image e;
  memset(&e, 0, sizeof e);
  strcpy(e.sha, path ? "missing" : "refused");
  if (path && bs_sha256_file(path, e.sha, NULL) != 0)
    strcpy(e.sha, "missing");
  bs_sha256_update(im->c, "image ", 6);
  bs_sha256_update(im->c, src, strlen(src) + 1);
  bs_sha256_update(im->c, e.sha, strlen(e.sha));
  bs_sha256_update(im->c, "\n", 1);
  e.src = strdup(src);
  bs_vec_push(im->list, &e);
}

/* The key of one item, or false when it cannot be computed (then the item
 * is rendered, and its failure, if any, reported by the job). */
static bool
S_item_key(const S_batch *b, const bs_batch_item *it,
           char key[BS_SHA256_HEX], char src_sha[BS_SHA256_HEX],
           bs_vec *images)
{
  if (!b->env_ok)
    return false;
  bs_sha256 c;
  unsigned char d[32];
  bs_sha256_init(&c);
  bs_sha256_update(&c, b->env_hex, 64);
  bs_sha256_update(&c, "\n", 1);
  if (!S_key_file(&c, "source", it->source, src_sha))
    return false;
  if (it->previous && !S_key_file(&c, "previous", it->previous, NULL))
    return false;
  if (it->as_published || b->o->job.as_published)
    bs_sha256_update(&c, "as-published\n", 13);
  S_images im = {&c, images};
  bs_source_images(it->source, S_key_image, &im);
  bs_sha256_final(&c, d);
  bs_sha256_hex(d, key);
  return true;
}

static int
S_stamp_write(const char *path, const char *key, const char *src_sha,
              const bs_vec *images, const bs_batch_item *it,
              const S_result *r, bool normalize, bool as_published,
              const char *findings)
{
  char *src = realpath(it->source, NULL);
  char *prev = it->previous ? realpath(it->previous, NULL) : NULL;
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  if (!m) {
    free(src);
    free(prev);
    return errno;
  }
  fprintf(m, "banshi-stamp 1\nkey %s\nsource %s\nsource-sha256 %s\n", key,
          src ? src : it->source, src_sha);
  if (it->previous)
    fprintf(m, "previous %s\n", prev ? prev : it->previous);
  const bs_stamp_image *im = images->data;
  for (size_t i = 0; i < images->len; i++)
    fprintf(m, "image %s %s\n", im[i].sha, im[i].src);
  fprintf(m, "pages %d\nbytes %lld\nnormalize %d\nbanshi %s\n", r->pages,
          r->bytes, normalize ? 1 : 0, BANSHI_VERSION);
  /* what the report type's checks found, for the archive's record */
  if (as_published)
    fputs("as-published 1\n", m);
  for (const char *s = findings ? findings : ""; *s;) {
    size_t n = strcspn(s, "\n");
    if (n)
      fprintf(m, "finding %.*s\n", (int)n, s);
    s += n + (s[n] ? 1 : 0);
  }
  fclose(m);
  /* Not flushed: a stamp lost or garbled by a power failure is found
   * invalid when read, and costs only a rendering again. */
  int rc = bs_atomic_write(path, text, len, false);
  free(text);
  free(src);
  free(prev);
  return rc;
}

/* With --format pdf,ofd: the OFD beside the PDF `out` exists. */
static bool
S_ofd_present(const S_batch *b, const char *out)
{
  if (!b->o->job.ofd_beside)
    return true;
  size_t n = strlen(out);
  char *ofd = bs_xmalloc(n + 1);
  memcpy(ofd, out, n + 1);
  if (n > 4)
    memcpy(ofd + n - 4, ".ofd", 4);
  struct stat st;
  bool ok = stat(ofd, &st) == 0 && S_ISREG(st.st_mode);
  free(ofd);
  return ok;
}

static void
S_process(S_batch *b, const bs_batch_item *it, S_result *r)
{
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  memset(r, 0, sizeof *r);
  bs_arena arena;
  bs_diags d;
  bs_arena_init(&arena);
  bs_diags_init(&d, &arena, b->o->job.lang);
  char *out = S_out_path(b, it->rel);
  char *stamp = bs_stamp_path(b->o->outdir, it->rel);
  char *job_diags = NULL, *job_json = NULL, *job_findings = NULL;
  int status = BS_STATUS_OK;
  bool current = false;
  bs_vec images = {NULL, 0, 0, sizeof(bs_stamp_image)};

  if (it->clash) {
    bs_diag(&d, BS_ERROR, BS_D_BATCH_CLASH, it->source, 0, 0, out,
            it->clash);
    status = BS_STATUS_FAILURE;
    goto done;
  }
  char *dirs[2] = {S_dirname(out), S_dirname(stamp)};
  for (int i = 0; i < 2; i++) {
    int e = bs_mkdirs(dirs[i]);
    if (e && status == BS_STATUS_OK) {
      bs_diag(&d, BS_ERROR, BS_D_IO_WRITE, NULL, 0, 0, dirs[i], strerror(e));
      status = BS_STATUS_FAILURE;
    }
    free(dirs[i]);
  }
  if (status != BS_STATUS_OK)
    goto done;

  char key[BS_SHA256_HEX] = "", src_sha[BS_SHA256_HEX] = "";
  bool have_key = S_item_key(b, it, key, src_sha, &images);
  if (have_key) {
    bs_stamp st;
    struct stat ps;
    if (bs_stamp_read(stamp, &st) == 0 && strcmp(st.key, key) == 0 &&
        stat(out, &ps) == 0 && S_ISREG(ps.st_mode) &&
        (long long)ps.st_size == st.bytes && S_ofd_present(b, out)) {
      current = true;
      r->pages = st.pages;
      r->bytes = st.bytes;
      /* what the checks found when it was made stays in the log */
      for (int i = 0; i < st.nfindings; i++) {
        size_t have = job_diags ? strlen(job_diags) : 0;
        size_t add = strlen(st.findings[i]);
        job_diags = bs_xrealloc(job_diags, have + add + 2);
        memcpy(job_diags + have, st.findings[i], add);
        memcpy(job_diags + have + add, "\n", 2);
        if (strstr(st.findings[i], ": warning: "))
          r->warnings++;
        else
          r->errors++;
      }
    }
    bs_stamp_free(&st);
  }
  if (!current) {
    /* The stamp must not outlive the PDF it describes. */
    if (unlink(stamp) != 0 && errno != ENOENT) {
      bs_diag(&d, BS_ERROR, BS_D_IO_WRITE, NULL, 0, 0, stamp,
              strerror(errno));
      status = BS_STATUS_FAILURE;
      goto done;
    }
    /* Last year's source (manifest column 2) for the cross-year rules of
     * report types; it is part of the key as well. */
    bs_job_result res;
    bs_report_source *prev =
        it->previous ? bs_report_source_load(it->previous, b->o->job.lang)
                     : NULL;
    status = bs_job_run_report(b->shared, it->source, prev, it->as_published,
                               out, NULL, NULL, &res);
    bs_report_source_free(prev);
    job_findings = res.findings;
    res.findings = NULL;
    /* A source that no longer renders leaves no PDF that looks current:
     * the PDF of its last good version is removed (docs/batch.md). */
    if (status != BS_STATUS_OK && unlink(out) != 0 && errno != ENOENT)
      bs_diag(&d, BS_ERROR, BS_D_IO_WRITE, NULL, 0, 0, out, strerror(errno));
    r->pages = res.pages;
    r->bytes = res.bytes;
    r->errors = res.errors;
    r->warnings = res.warnings;
    job_diags = res.diagnostics;
    res.diagnostics = NULL;
    job_json = res.diagnostics_json;
    res.diagnostics_json = NULL;
    bs_job_result_free(&res);
    if (status == BS_STATUS_OK) {
      /* The renderer flushed the PDF; its rename is flushed with its
       * folder before a stamp may vouch for it. */
      char *dir = S_dirname(out);
      int e = bs_fsync_dir(dir);
      free(dir);
      if (e) {
        bs_diag(&d, BS_ERROR, BS_D_IO_WRITE, NULL, 0, 0, out, strerror(e));
        status = BS_STATUS_FAILURE;
      }
    }
    if (status == BS_STATUS_OK && have_key) {
      int e = S_stamp_write(stamp, key, src_sha, &images, it, r,
                            b->o->job.normalize,
                            it->as_published || b->o->job.as_published,
                            job_findings);
      if (e) {
        bs_diag(&d, BS_ERROR, BS_D_IO_WRITE, NULL, 0, 0, stamp, strerror(e));
        status = BS_STATUS_FAILURE;
      }
    }
  }

done:;
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  if (m) {
    if (job_diags)
      fputs(job_diags, m);
    bs_diags_print(&d, m);
    fclose(m);
  }
  r->diagnostics = text ? text : strdup("");
  text = NULL;
  m = open_memstream(&text, &len);
  if (m) {
    if (job_json)
      fputs(job_json, m);
    bs_diags_print_json(&d, m);
    fclose(m);
  }
  r->json = text ? text : strdup("");
  free(job_json);
  r->errors += d.errors;
  r->warnings += d.warnings;
  r->status = current                         ? S_ST_CURRENT
              : status == BS_STATUS_OK        ? S_ST_OK
              : status == BS_STATUS_INVALID   ? S_ST_INVALID
                                              : S_ST_FAILED;
  for (size_t i = 0; i < images.len; i++)
    free(((bs_stamp_image *)images.data)[i].src);
  bs_vec_free(&images);
  free(job_diags);
  free(job_findings);
  free(out);
  free(stamp);
  bs_diags_free(&d);
  bs_arena_free(&arena);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  r->seconds = (double)(t1.tv_sec - t0.tv_sec) +
               (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

static void
S_log_record(S_batch *b, const bs_batch_item *it, const S_result *r)
{
  if (!b->log_ok)
    return;
  FILE *f = b->log.f;
  char *out = S_out_path(b, it->rel);
  fputs("{\"source\":", f);
  S_json_str(f, it->source);
  fputs(",\"output\":", f);
  S_json_str(f, out);
  fprintf(f, ",\"status\":\"%s\"", S_status_names[r->status]);
  if (it->previous) {
    fputs(",\"previous\":", f);
    S_json_str(f, it->previous);
  }
  /* as issued: the findings of the checks are the warnings listed */
  if (it->as_published || b->o->job.as_published)
    fputs(",\"as_published\":true", f);
  fprintf(f, ",\"errors\":%u,\"warnings\":%u,\"diagnostics\":[", r->errors,
          r->warnings);
  const char *s = r->diagnostics ? r->diagnostics : "";
  bool first = true;
  while (*s) {
    const char *nl = strchr(s, '\n');
    size_t n = nl ? (size_t)(nl - s) : strlen(s);
    char *line = strndup(s, n);
    if (!first)
      fputc(',', f);
    S_json_str(f, line);
    free(line);
    first = false;
    s += n + (nl ? 1 : 0);
  }
  /* the same messages as objects (schemas/diagnostics.schema.json) */
  fputs("],\"messages\":[", f);
  first = true;
  for (s = r->json ? r->json : ""; *s;) {
    const char *nl = strchr(s, '\n');
    size_t n = nl ? (size_t)(nl - s) : strlen(s);
    if (!first)
      fputc(',', f);
    fwrite(s, 1, n, f);
    first = false;
    s += n + (nl ? 1 : 0);
  }
  fprintf(f, "],\"pages\":%d,\"bytes\":%lld,\"time\":%.3f}\n", r->pages,
          r->bytes, r->seconds);
  free(out);
  if (ferror(f) && !b->log_errno)
    b->log_errno = errno ? errno : EIO;
}

static void
S_fmt_eta(double secs, char out[32])
{
  if (secs < 0 || secs > 360000) {
    strcpy(out, "--:--");
    return;
  }
  long s = (long)(secs + 0.5);
  if (s >= 3600)
    snprintf(out, 32, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else
    snprintf(out, 32, "%ld:%02ld", s / 60, s % 60);
}

/* Progress: a bar redrawn in place on a terminal, a plain line at every
 * tenth of the batch (and at least every 10 s) otherwise.  Called with the
 * lock held. */
static void
S_progress(S_batch *b, bool force)
{
  if (b->verbosity < 0) /* -q: no progress */
    return;
  size_t total = b->ntodo, done = b->done;
  size_t failed = b->count[S_ST_INVALID] + b->count[S_ST_FAILED];
  double t = S_elapsed(b);
  double rate = t > 0 ? (double)b->rendered / t : 0;
  /* up-to-date items take no time: the estimate counts rendered ones */
  double eta = rate > 0 ? (double)(total - done) / rate : -1;
  if (done == total)
    eta = 0;
  char etas[32];
  S_fmt_eta(eta, etas);
  if (b->tty) {
    char text[256];
    int w = 24, fill = total ? (int)((double)done * w / (double)total) : w;
    char bar[32];
    for (int i = 0; i < w; i++)
      bar[i] = i < fill ? '#' : '-';
    bar[w] = '\0';
    snprintf(text, sizeof text, S_msg_text(b, S_M_PROGRESS_TTY), done, total,
             failed, rate, etas);
    fprintf(b->err, "\r\033[K[%s] %s", bar, text);
    fflush(b->err);
    b->bar_shown = true;
    return;
  }
  int decile = total ? (int)(done * 10 / total) : 10;
  if (force ? b->last_decile >= 0 && done == b->last_done
            : decile == b->last_decile && t - b->last_line < 10)
    return;
  b->last_decile = decile;
  b->last_done = done;
  b->last_line = t;
  fprintf(b->err, S_msg_text(b, S_M_PROGRESS), done, total,
          total ? (int)(done * 100 / total) : 100, failed, rate, etas);
  fflush(b->err);
}

static void
S_clear_bar(S_batch *b)
{
  if (b->tty && b->bar_shown) {
    fputs("\r\033[K", b->err);
    b->bar_shown = false;
  }
}

/* Report one result: log, diagnostics, counters.  Lock held. */
static void
S_report(S_batch *b, const bs_batch_item *it, const S_result *r)
{
  S_log_record(b, it, r);
  const char *shown = b->o->job.json_diags ? r->json : r->diagnostics;
  if (shown && *shown) {
    S_clear_bar(b);
    if (b->verbosity < 0) {
      /* -q: errors only (the log keeps every message) */
      const char *mark = b->o->job.json_diags ? "\"severity\":\"error\""
                                              : ": error: ";
      for (const char *s = shown; *s;) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) + 1 : strlen(s);
        char *line = strndup(s, n);
        if (strstr(line, mark))
          fputs(line, b->err);
        free(line);
        s += n;
      }
    } else
      fputs(shown, b->err);
  }
  if (b->verbosity > 0) {
    S_clear_bar(b);
    fprintf(b->err, "%s: %s\n", it->source, S_status_names[r->status]);
  }
  b->count[r->status]++;
  b->warnings += r->warnings;
  b->done++;
  if (r->status != S_ST_CURRENT && r->status != S_ST_NOT_RUN)
    b->rendered++;
}

static void *
S_worker(void *arg)
{
  S_batch *b = arg;
  for (;;) {
    pthread_mutex_lock(&b->lock);
    if (atomic_load(&S_signal) || b->next >= b->ntodo) {
      pthread_mutex_unlock(&b->lock);
      break;
    }
    const bs_batch_item *it = b->todo[b->next++];
    b->inflight++;
    pthread_mutex_unlock(&b->lock);

    S_result r;
    S_process(b, it, &r);

    pthread_mutex_lock(&b->lock);
    S_report(b, it, &r);
    b->inflight--;
    pthread_cond_signal(&b->cond);
    pthread_mutex_unlock(&b->lock);
    free(r.diagnostics);
    free(r.json);
  }
  bs_layout_cleanup(); /* this thread's ICU break iterators */
  pthread_mutex_lock(&b->lock);
  b->running--;
  pthread_cond_signal(&b->cond);
  pthread_mutex_unlock(&b->lock);
  return NULL;
}

/* ------------------------------------------------------------------ */
/* The key of everything but the sources                                */

typedef struct S_env {
  bs_sha256 c;
  bs_vec seen; /* char *, files hashed already */
  bool ok;
} S_env;

static void
S_env_file(void *ctx, const char *path)
{
  S_env *e = ctx;
  char **seen = e->seen.data;
  for (size_t i = 0; i < e->seen.len; i++)
    if (strcmp(seen[i], path) == 0)
      return;
  char *copy = strdup(path);
  bs_vec_push(&e->seen, &copy);
  if (!S_key_file(&e->c, "input", path, NULL))
    e->ok = false;
}

/* Every file below `dir`, in name order: the schemas, and the report types
 * with their schemas, rules and stylesheets, whichever a source uses. */
static void
S_env_tree(S_env *e, const char *dir, int depth);

/* One folder of report types (bs_report_type_folders). */
static void
S_env_folder(const char *dir, void *ctx)
{
  S_env_tree(ctx, dir, 0);
}

static void
S_env_tree(S_env *e, const char *dir, int depth)
{
  DIR *d = opendir(dir);
  if (!d)
    return;
  bs_vec names = S_sorted_names(d);
  for (size_t i = 0; i < names.len; i++) {
    char *name = ((char **)names.data)[i];
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = bs_xmalloc(n);
    snprintf(path, n, "%s/%s", dir, name);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
      if (depth < 8)
        S_env_tree(e, path, depth + 1);
    } else if (S_ISREG(st.st_mode)) {
      S_env_file(e, path);
    }
    free(path);
    free(name);
  }
  bs_vec_free(&names);
}

static void
S_env_key(S_batch *b)
{
  S_env e;
  memset(&e, 0, sizeof e);
  e.seen.esize = sizeof(char *);
  e.ok = true;
  bs_sha256_init(&e.c);
  char head[256];
  snprintf(head, sizeof head, "banshi %s\nnormalize %d\nepoch %lld\n",
           BANSHI_VERSION, b->o->job.normalize ? 1 : 0, b->o->job.epoch);
  /* other formats only when asked for, so that stamps of plain PDF/A-1b
   * batches stay valid */
  if (b->o->job.ofd_beside || b->o->job.pdfa == 3)
    snprintf(head + strlen(head), sizeof head - strlen(head),
             "ofd %d\npdfa %d\n", b->o->job.ofd_beside ? 1 : 0,
             b->o->job.pdfa);
  bs_sha256_update(&e.c, head, strlen(head));
  if (bs_shared_inputs(b->shared, S_env_file, &e) != 0)
    e.ok = false;
  bs_report_type_folders(S_env_folder, &e);
  unsigned char d[32];
  bs_sha256_final(&e.c, d);
  bs_sha256_hex(d, b->env_hex);
  b->env_ok = e.ok;
  for (size_t i = 0; i < e.seen.len; i++)
    free(((char **)e.seen.data)[i]);
  bs_vec_free(&e.seen);
}

/* ------------------------------------------------------------------ */
/* Temporaries of killed runs                                           */

typedef struct S_sweep {
  bs_batch_item **todo; /* sorted by rel */
  size_t n;
  const char *prefix;   /* folder below OUTDIR, "" for OUTDIR itself */
  const char *suffix;   /* ".stamp" in the state folder, else "" */
} S_sweep;

static int
S_cmp_rel(const void *key, const void *elem)
{
  return strcmp(key, (*(bs_batch_item *const *)elem)->rel);
}

static bool
S_sweep_wanted(void *ctx, const char *final)
{
  S_sweep *s = ctx;
  size_t fl = strlen(final), sl = strlen(s->suffix);
  if (fl < sl || strcmp(final + fl - sl, s->suffix) != 0)
    return false;
  size_t n = strlen(s->prefix) + fl + 2;
  char *rel = bs_xmalloc(n);
  snprintf(rel, n, "%s%s%.*s", s->prefix, *s->prefix ? "/" : "",
           (int)(fl - sl), final);
  /* NAME.ofd beside NAME.pdf (--format pdf,ofd) */
  size_t rl = strlen(rel);
  if (!*s->suffix && rl > 4 && strcmp(rel + rl - 4, ".ofd") == 0)
    memcpy(rel + rl - 4, ".pdf", 4);
  bool found = bsearch(rel, s->todo, s->n, sizeof *s->todo, S_cmp_rel);
  free(rel);
  return found;
}

/* Remove the temporaries that killed runs left for this batch's outputs
 * and stamps.  Only names of the selected items are touched, so shards
 * sharing an output folder never remove each other's. */
static void
S_sweep_temps(S_batch *b)
{
  bs_vec dirs = BS_VEC_INIT(char *);
  for (size_t i = 0; i < b->ntodo; i++) {
    const char *rel = b->todo[i]->rel;
    const char *slash = strrchr(rel, '/');
    char *d = slash ? strndup(rel, (size_t)(slash - rel)) : strdup("");
    bs_vec_push(&dirs, &d);
  }
  qsort(dirs.data, dirs.len, sizeof(char *), S_cmp_name);
  char **ds = dirs.data;
  for (size_t i = 0; i < dirs.len; i++) {
    if (i > 0 && strcmp(ds[i], ds[i - 1]) == 0)
      continue;
    S_sweep s = {b->todo, b->ntodo, ds[i], ""};
    size_t n = strlen(b->o->outdir) + strlen(ds[i]) + 32;
    char *path = bs_xmalloc(n);
    snprintf(path, n, "%s/%s", b->o->outdir, ds[i]);
    bs_remove_stale_temps(path, S_sweep_wanted, &s);
    snprintf(path, n, "%s/%s/%s", b->o->outdir, S_STATE_DIR, ds[i]);
    s.suffix = ".stamp";
    bs_remove_stale_temps(path, S_sweep_wanted, &s);
    free(path);
  }
  for (size_t i = 0; i < dirs.len; i++)
    free(ds[i]);
  bs_vec_free(&dirs);
}

static bool
S_log_wanted(void *ctx, const char *final)
{
  return strcmp(ctx, final) == 0;
}

/* ------------------------------------------------------------------ */
/* Command line                                                         */

static unsigned
S_cores(void)
{
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0)
      return (unsigned)n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (unsigned)n : 1;
}

static bool
S_parse_uint(const char *s, unsigned long max, unsigned *out)
{
  if (!s || !*s)
    return false;
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (*end || errno || v > max || s[0] == '-' || s[0] == '+')
    return false;
  *out = (unsigned)v;
  return true;
}

enum {
  S_O_OUTPUT = 'o',
  S_O_JOBS = 'j',
  S_O_SHARD = 256,
  S_O_LOG,
  S_O_TEMPLATE,
  S_O_FONTS,
  S_O_NO_NORMALIZE,
  S_O_AS_PUBLISHED,
  S_O_FORMAT,
  S_O_PDFA,
};

static const bs_opt S_batch_opts[] = {
    {"output", S_O_OUTPUT, "DIR", "输出目录（不存在时创建）",
     "the output folder (created if missing)"},
    {"jobs", S_O_JOBS, "N", "同时排版的文档数（默认：可用的处理器核数）",
     "documents rendered at once (default: the cores)"},
    {"shard", S_O_SHARD, "K/N", "只处理 N 份中的第 K 份（K 从 0 起）",
     "only the K-th of N shares of the sources (K from 0)"},
    {"log", S_O_LOG, "FILE",
     "结果日志，JSON Lines（默认 OUTDIR/banshi-batch.jsonl）",
     "result log, JSON Lines (default OUTDIR/banshi-batch.jsonl)"},
    {"template", S_O_TEMPLATE, "NAME", "版式模板，同 banshi render",
     "page template, as for banshi render"},
    {"fonts", S_O_FONTS, "MAP", "字体映射文件，同 banshi render",
     "font map, as for banshi render"},
    {"no-normalize", S_O_NO_NORMALIZE, NULL, "按原文排版，不做文本规范化",
     "typeset the text exactly as written"},
    {"as-published", S_O_AS_PUBLISHED, NULL,
     "按发布时的原样：单元格照写，规则的发现为警告（也可按清单行指定）",
     "reports as issued: cells as written, the rules' findings are "
     "warnings (also per manifest line)"},
    {"format", S_O_FORMAT, "pdf|pdf,ofd",
     "pdf,ofd：在每个 NAME.pdf 旁另写 NAME.ofd（OFD，GB/T 33190）",
     "pdf,ofd: also write NAME.ofd (OFD, GB/T 33190) beside each NAME.pdf"},
    {"pdfa", S_O_PDFA, "1b|3b", "PDF/A 部分，同 banshi render",
     "PDF/A part, as for banshi render"},
    {NULL, 0, NULL, NULL, NULL},
};

static const bs_cmd S_batch_cmd = {
    "batch", "INPUT... -o OUTDIR [options]",
    "INPUT 为源文件（.xml）、目录（其下所有 .xml）或清单（每行一个源文件，"
    "可加 TAB 和上年度源文件，再加 TAB 和 as-published；“-”读标准输入）。"
    "每个源文件生成 OUTDIR/NAME.pdf，已是最新的跳过，失败的源文件的 PDF "
    "被删除。日志每条记录的 messages 为结构化消息。"
    "被 SIGINT/SIGTERM 停止时退出状态为 130/143。",
    "INPUT is a source (.xml), a folder (every .xml below it) or a manifest\n"
    "(one source per line, optionally TAB and last year's source, and TAB\n"
    "and as-published; '-' reads standard input).  Each source becomes\n"
    "OUTDIR/NAME.pdf; sources that are up to date are skipped; the PDF of a\n"
    "source that fails is removed.  Each record of the log has its messages as\n"
    "objects (messages).  Stopped by SIGINT/SIGTERM: exit status 130/143.",
    S_batch_opts};

static int
S_opt(void *ctx, int key, const char *v, const bs_common *c, FILE *err)
{
  S_opts *o = ctx;
  switch (key) {
  case S_O_OUTPUT:
    o->outdir = v;
    break;
  case S_O_LOG:
    o->log = v;
    break;
  case S_O_TEMPLATE:
    o->job.tpl = v;
    break;
  case S_O_FONTS:
    o->job.font_map = v;
    break;
  case S_O_NO_NORMALIZE:
    o->job.normalize = false;
    break;
  case S_O_AS_PUBLISHED:
    o->job.as_published = true;
    break;
  case S_O_FORMAT:
    /* the PDF is what batch's up-to-date check and archive work on */
    if (strcmp(v, "pdf") != 0 && strcmp(v, "pdf,ofd") != 0 &&
        strcmp(v, "ofd,pdf") != 0) {
      bs_opts_error(&S_batch_cmd, c, err,
                    "batch 的 --format 取 pdf 或 pdf,ofd，而不是“%s”",
                    "batch --format takes pdf or pdf,ofd, not '%s'", v);
      return BS_STATUS_USAGE;
    }
    o->job.ofd_beside = strcmp(v, "pdf") != 0;
    break;
  case S_O_PDFA:
    if (strcmp(v, "1b") != 0 && strcmp(v, "3b") != 0) {
      bs_opts_error(&S_batch_cmd, c, err, "--pdfa 取 1b 或 3b，而不是“%s”",
                    "--pdfa takes 1b or 3b, not '%s'", v);
      return BS_STATUS_USAGE;
    }
    o->job.pdfa = v[0] - '0';
    break;
  case S_O_JOBS:
    if (!S_parse_uint(v, S_MAX_JOBS, &o->jobs) || o->jobs == 0) {
      char max[16];
      snprintf(max, sizeof max, "%d", S_MAX_JOBS);
      bs_opts_error(&S_batch_cmd, c, err, "-j 取 1 到 %s 的数",
                    "-j takes a number from 1 to %s", max);
      return BS_STATUS_USAGE;
    }
    break;
  case S_O_SHARD: {
    const char *slash = strchr(v, '/');
    char *k = slash ? strndup(v, (size_t)(slash - v)) : NULL;
    bool ok = k && S_parse_uint(k, UINT_MAX, &o->shard_k) &&
              S_parse_uint(slash + 1, 1000000, &o->shard_n) &&
              o->shard_n > 0 && o->shard_k < o->shard_n;
    free(k);
    if (!ok) {
      bs_opts_error(&S_batch_cmd, c, err,
                    "--shard 取 K/N，0 <= K < N，如 0/4%s",
                    "--shard takes K/N with 0 <= K < N, as 0/4%s", "");
      return BS_STATUS_USAGE;
    }
    break;
  }
  }
  return 0;
}

/* Returns -1 to go on, or an exit status. */
static int
S_parse_args(int argc, char **argv, S_opts *o, bs_common *c, FILE *out,
             FILE *err)
{
  const char **ops = bs_xcalloc((size_t)argc + 1, sizeof *ops);
  int nops = 0;
  int st = bs_opts_parse(&S_batch_cmd, argc, argv, c, S_opt, o, ops, &nops,
                         out, err);
  for (int i = 0; i < nops; i++)
    bs_vec_push(&o->inputs, &ops[i]);
  free(ops);
  if (st >= 0)
    return st;
  o->job.lang = c->lang;
  o->job.json_diags = c->json;
  o->job.quiet = c->verbosity < 0;
  if (!o->outdir || o->inputs.len == 0) {
    bs_opts_error(&S_batch_cmd, c, err,
                  "需要至少一个 INPUT 和 -o OUTDIR%s",
                  "takes at least one INPUT and -o OUTDIR%s", "");
    return BS_STATUS_USAGE;
  }
  return -1;
}

int
bs_batch_main(int argc, char **argv, FILE *out, FILE *err)
{
  S_opts o;
  memset(&o, 0, sizeof o);
  o.inputs.esize = sizeof(const char *);
  o.job.normalize = true;
  o.job.epoch = bs_source_date_epoch();
  o.shard_n = 1;
  bs_common common;
  int rc = S_parse_args(argc, argv, &o, &common, out, err);
  if (rc >= 0) {
    bs_vec_free(&o.inputs);
    return rc;
  }
  if (!o.jobs)
    o.jobs = S_cores();
  char *outdir = strdup(o.outdir); /* without trailing slashes */
  for (size_t n = strlen(outdir); n > 1 && outdir[n - 1] == '/'; n--)
    outdir[n - 1] = '\0';
  o.outdir = outdir;

  /* Plan. */
  bs_batch_plan plan;
  bs_batch_plan_init(&plan, o.job.lang);
  for (size_t i = 0; i < o.inputs.len; i++)
    bs_batch_plan_add(&plan, ((const char **)o.inputs.data)[i]);
  bs_batch_plan_finish(&plan);
  bs_diags_print(&plan.diags, err);
  int status = plan.diags.errors ? BS_STATUS_FAILURE : BS_STATUS_OK;

  S_batch b;
  memset(&b, 0, sizeof b);
  b.o = &o;
  b.verbosity = common.verbosity;
  b.err = err;
  b.tty = isatty(fileno(err));
  b.last_decile = -1;
  bs_batch_item *items = plan.items.data;
  b.todo = bs_xmalloc((plan.items.len + 1) * sizeof *b.todo);
  for (size_t i = 0; i < plan.items.len; i++)
    if (bs_shard_selects(items[i].rel, o.shard_k, o.shard_n))
      b.todo[b.ntodo++] = &items[i];

  int e = bs_mkdirs(o.outdir);
  char *log_path = NULL;
  if (o.log) {
    log_path = strdup(o.log);
  } else {
    size_t n = strlen(o.outdir) + 64;
    log_path = bs_xmalloc(n);
    if (o.shard_n > 1)
      snprintf(log_path, n, "%s/banshi-batch.%u-of-%u.jsonl", o.outdir,
               o.shard_k, o.shard_n);
    else
      snprintf(log_path, n, "%s/banshi-batch.jsonl", o.outdir);
  }
  if (e) {
    fprintf(err, "%s: error: ", o.outdir);
    fprintf(err, bs_diag_format(BS_D_IO_WRITE, o.job.lang), o.outdir,
            strerror(e));
    fputc('\n', err);
    free(log_path);
    free(b.todo);
    free(outdir);
    bs_batch_plan_free(&plan);
    bs_vec_free(&o.inputs);
    return BS_STATUS_FAILURE;
  }
  {
    char *ld = S_dirname(log_path);
    const char *slash = strrchr(log_path, '/');
    bs_remove_stale_temps(ld, S_log_wanted,
                          (void *)(slash ? slash + 1 : log_path));
    free(ld);
  }
  e = bs_atomic_open(&b.log, log_path);
  b.log_ok = e == 0;
  if (e) {
    fprintf(err, "%s: error: ", log_path);
    fprintf(err, bs_diag_format(BS_D_IO_WRITE, o.job.lang), log_path,
            strerror(e));
    fputc('\n', err);
    status = BS_STATUS_FAILURE;
  }
  S_sweep_temps(&b);

  b.shared = bs_shared_new(&o.job);
  bs_arena_init(&b.scratch);
  S_env_key(&b);
  pthread_mutex_init(&b.lock, NULL);
  pthread_cond_init(&b.cond, NULL);
  clock_gettime(CLOCK_MONOTONIC, &b.t0);

  /* Workers never see SIGINT/SIGTERM: only this thread notices them. */
  atomic_store(&S_signal, 0);
  struct sigaction sa, old_int, old_term;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = S_on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  sigset_t block, prev;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &block, &prev);
  unsigned nw = o.jobs < b.ntodo ? o.jobs : (unsigned)b.ntodo;
  pthread_t *tids = bs_xcalloc(nw ? nw : 1, sizeof *tids);
  b.running = nw;
  for (unsigned i = 0; i < nw; i++)
    if (pthread_create(&tids[i], NULL, S_worker, &b) != 0) {
      /* run with the workers we have; the others never existed */
      pthread_mutex_lock(&b.lock);
      b.running -= nw - i;
      pthread_mutex_unlock(&b.lock);
      nw = i;
      break;
    }
  pthread_sigmask(SIG_SETMASK, &prev, NULL);
  if (nw == 0 && b.ntodo > 0) {
    b.running = 1; /* no thread could be started: work in this one */
    S_worker(&b);
  }

  bool announced = false;
  pthread_mutex_lock(&b.lock);
  S_progress(&b, true);
  while (b.running > 0) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 250 * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&b.cond, &b.lock, &until);
    if (atomic_load(&S_signal) && !announced) {
      announced = true;
      S_clear_bar(&b);
      fprintf(err, S_msg_text(&b, S_M_INTERRUPT), b.inflight);
    }
    S_progress(&b, false);
  }
  pthread_mutex_unlock(&b.lock);
  for (unsigned i = 0; i < nw; i++)
    pthread_join(tids[i], NULL);
  free(tids);
  int sig = atomic_load(&S_signal);
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);

  /* Items never handed out (interrupted): logged as not run. */
  for (size_t i = b.next; i < b.ntodo; i++) {
    S_result r;
    memset(&r, 0, sizeof r);
    r.status = S_ST_NOT_RUN;
    S_report(&b, b.todo[i], &r);
  }
  S_progress(&b, true);
  S_clear_bar(&b);
  double secs = S_elapsed(&b);
  fprintf(err, S_msg_text(&b, S_M_SUMMARY), b.ntodo, b.count[S_ST_OK],
          b.count[S_ST_CURRENT], b.count[S_ST_INVALID], b.count[S_ST_FAILED],
          b.count[S_ST_NOT_RUN], secs);
  if (b.log_ok) {
    FILE *f = b.log.f;
    fprintf(f,
            "{\"summary\":{\"sources\":%zu,\"ok\":%zu,\"up_to_date\":%zu,"
            "\"invalid\":%zu,\"failed\":%zu,\"not_run\":%zu,\"jobs\":%u,"
            "\"shard\":\"%u/%u\",\"interrupted\":%s,\"seconds\":%.3f}}\n",
            b.ntodo, b.count[S_ST_OK], b.count[S_ST_CURRENT],
            b.count[S_ST_INVALID], b.count[S_ST_FAILED],
            b.count[S_ST_NOT_RUN], o.jobs, o.shard_k, o.shard_n,
            sig ? "true" : "false", secs);
    e = b.log_errno;
    if (e)
      bs_atomic_abort(&b.log);
    else
      e = bs_atomic_commit(&b.log);
    if (e) {
      fprintf(err, "%s: error: ", log_path);
      fprintf(err, bs_diag_format(BS_D_IO_WRITE, o.job.lang), log_path,
              strerror(e));
      fputc('\n', err);
      status = BS_STATUS_FAILURE;
    } else {
      fprintf(err, S_msg_text(&b, S_M_LOG), log_path);
    }
  }
  fflush(err);

  if (b.count[S_ST_FAILED] || b.count[S_ST_NOT_RUN])
    status = BS_STATUS_FAILURE;
  else if (b.count[S_ST_INVALID] && status == BS_STATUS_OK)
    status = BS_STATUS_INVALID;
  if (!sig)
    status = bs_opts_status(&common, status, b.warnings ? 1u : 0u);
  if (sig)
    status = 128 + sig;

  pthread_cond_destroy(&b.cond);
  pthread_mutex_destroy(&b.lock);
  bs_shared_free(b.shared);
  bs_arena_free(&b.scratch);
  free(log_path);
  free(b.todo);
  free(outdir);
  bs_batch_plan_free(&plan);
  bs_vec_free(&o.inputs);
  return status;
}
