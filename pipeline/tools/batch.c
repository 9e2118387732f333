// SPDX-License-Identifier: Apache-2.0
/* batch.c - batch production; see batch.h.
 *
 * Design.  A supervisor and N worker processes (S_supervise).  The
 * supervisor plans, loads the template and fonts once (bs_shared) and
 * forks the workers, which share them copy-on-write; it hands out one
 * index into the sorted plan at a time over a pipe per worker, so at most N
 * documents are in memory whatever the size of the batch, and reads each
 * result (status, counts, diagnostics) back over a second pipe, writing
 * the log and the terminal itself.  A worker that crashes (SIGSEGV, abort,
 * out of memory) ends its pipe: the supervisor logs its document as failed
 * with the signal, starts another worker and goes on; the batch then exits
 * 3.  Measured against the POSIX threads of the first version (one process,
 * one bs_shared), the processes cost under 10 % of throughput
 * (docs/benchmarks.md): fonts and template are loaded before the fork, so a
 * worker starts in about a millisecond.
 *
 * Rejected: threads - no isolation: one crash in HarfBuzz, libxml2 or the
 * layout ends the batch and loses its log; one process per document
 * (fork/exec) - every process would load the schema, the template and
 * 10-50 MB of fonts again; and a fork per document - isolation without
 * the exec, but every document would warm its caches (fonts, schema) from
 * cold.  Rejected too: keeping results in memory for a report at the end -
 * the log is written as results arrive, so memory stays flat and the log of
 * an interrupted batch still says what was done.
 *
 * Nothing half-written: PDFs are written by render_pdf.c under a temporary
 * name, fsync'd and renamed; stamps and the log go through fsio.h the same
 * way.  A stamp is removed before its PDF is rendered again and written
 * after the new PDF is in place, so after a kill at any moment a rerun
 * either finds a stamp that matches the PDF beside it, or renders again.
 *
 * Signals: the first SIGINT or SIGTERM stops the hand-out of new documents;
 * those in flight get half a second to finish, then their workers are
 * killed and they are logged as not run with the rest, and the summary is
 * printed: SIGTERM ends a batch within a second.  The handler is reset, so
 * a second signal ends the process at once (leaving only temporaries,
 * removed by the next run); workers ignore both signals (a terminal's
 * interrupt reaches the whole process group) and die with the supervisor
 * (PR_SET_PDEATHSIG).  SIGPIPE is ignored: a reader of standard error that
 * goes away does not stop the batch, whose log is still written.
 *
 * Layer 13 (batch, bag): docs/architecture.md. */
#include "batch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libxml/xmlreader.h>

#include "api.h"
#include "fingerprint.h"
#include "fsio.h"
#include "image.h"
#include "job.h"
#include "layout.h"
#include "pipeline.h"
#include "render.h"
#include "report.h"
#include "util.h"

#define S_STATE_DIR ".banshi"
#define S_MAX_WALK_DEPTH 64
#define S_MAX_JOBS BANSHI_MAX_JOBS
#define S_MANIFEST_LINE 65536 /* bytes of one manifest line, at most */
#define S_MAX_SOURCES 1000000 /* sources of one batch, at most */

/* ------------------------------------------------------------------ */
/* Planning                                                             */

void
bs_batch_plan_init(bs_batch_plan *p, bs_lang lang)
{
  memset(p, 0, sizeof *p);
  p->items.esize = sizeof(bs_batch_item);
  p->manifests.esize = sizeof(const char *);
  bs_arena_init(&p->arena);
  bs_diags_init(&p->diags, &p->arena, lang);
}

void
bs_batch_plan_free(bs_batch_plan *p)
{
  bs_vec_free(&p->items);
  bs_vec_free(&p->manifests);
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
  if (names.len) /* an empty folder: no array at all */
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

/* A relative path without ".." steps keeps its folders in the output name
 * (empty and "." steps dropped: "./a//b.xml" is "a/b.pdf"); an absolute
 * path or one that climbs is named after its last real step ("x/../"
 * gives "x.pdf"), and a path with none after "_" (found by fuzz_manifest:
 * "a/" once gave the hidden name ".pdf"). */
static const char *
S_manifest_rel(bs_arena *a, const char *written)
{
  bool keep = written[0] != '/';
  const char *last = NULL;
  size_t last_n = 0, total = 0;
  for (const char *s = written; *s;) {
    size_t k = strcspn(s, "/");
    if (k == 2 && s[0] == '.' && s[1] == '.')
      keep = false;
    else if (k > 0 && !(k == 1 && s[0] == '.')) {
      last = s;
      last_n = k;
      total += k + 1;
    }
    s += k + (s[k] ? 1 : 0);
  }
  if (!last)
    return S_rel_pdf(a, "_");
  if (!keep)
    return S_rel_pdf(a, bs_arena_strndup(a, last, last_n));
  char *o = bs_arena_alloc(a, total + 1), *w = o;
  for (const char *s = written; *s;) {
    size_t k = strcspn(s, "/");
    if (k > 0 && !(k == 1 && s[0] == '.')) {
      if (w > o)
        *w++ = '/';
      memcpy(w, s, k);
      w += k;
    }
    s += k + (s[k] ? 1 : 0);
  }
  *w = '\0';
  return S_rel_pdf(a, o);
}

static void S_add_input(bs_batch_plan *p, const char *input, int depth);

/* One line of a manifest into *line (without its '\n'), at most
 * S_MANIFEST_LINE bytes.  Returns its length, -1 at the end, -2 for a line
 * too long or holding a NUL byte (*why says which), -3 on a read error. */
static ssize_t
S_manifest_line(FILE *f, char **line, size_t *cap, const char **why)
{
  size_t n = 0;
  int c;
  bool any = false;
  while ((c = getc(f)) != EOF) {
    any = true;
    if (c == '\n')
      break;
    if (c == '\0') {
      *why = "NUL byte";
      return -2;
    }
    if (n + 1 >= S_MANIFEST_LINE) {
      *why = "longer than 64 KiB";
      return -2;
    }
    if (n + 2 > *cap) {
      *cap = *cap ? *cap * 2 : 256;
      *line = bs_xrealloc(*line, *cap);
    }
    (*line)[n++] = (char)c;
  }
  if (ferror(f))
    return -3;
  if (!any)
    return -1;
  if (!*line)
    *line = bs_xmalloc(*cap = 1);
  (*line)[n] = '\0';
  return (ssize_t)n;
}

static void
S_manifest(bs_batch_plan *p, const char *path, FILE *f, int depth)
{
  /* paths in a manifest on standard input are relative to the current
   * folder, those in a file to the file's folder */
  char *base = strcmp(path, "-") == 0 ? NULL : bs_path_dir(&p->arena, path);
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  unsigned lineno = 0;
  const char *why = "";
  /* A manifest is text of bounded lines: read from a pipe that never ends
   * (cat /dev/zero |), it stops at the first NUL or overlong line. */
  while ((n = S_manifest_line(f, &line, &cap, &why)) >= 0 || n == -2) {
    lineno++;
    if (n >= 0 && p->items.len >= S_MAX_SOURCES) {
      n = -2;
      why = "more than 1000000 sources";
    }
    if (n == -2) {
      bs_diag(&p->diags, BS_ERROR, BS_D_MANIFEST_TEXT, path, lineno, 0,
              lineno, why);
      break;
    }
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
  if (n == -3) /* a read error is not the end of the manifest */
    bs_diag(&p->diags, BS_ERROR, BS_D_IO_READ, path, 0, 0, path,
            strerror(errno ? errno : EIO));
  free(line);
}

/* A manifest's descriptor: a regular file of at most BS_MAX_SOURCE_BYTES
 * or a pipe (standard input, `<(find ...)`); never a device (/dev/zero),
 * socket or folder.  Returns fd (blocking), or -1 with the problem
 * reported. */
static int
S_manifest_fd(bs_batch_plan *p, const char *name, int fd)
{
  struct stat st;
  int e = 0;
  if (fstat(fd, &st) != 0)
    e = errno;
  else if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode))
    e = BS_E_SPECIAL;
  else if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > BS_MAX_SOURCE_BYTES)
    e = EFBIG;
  if (!e) {
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && (fl & O_NONBLOCK))
      fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    /* A FIFO opened before its writer reads as empty (end of file) until
     * a writer opens it, so the batch ended at once, a run of nothing, and
     * a writer opening it afterwards waited for ever.  Wait for the first
     * data or the end (Linux reports POLLHUP only once a writer has come
     * and gone); a signal ends the wait as it ends a read. */
    if (S_ISFIFO(st.st_mode)) {
      struct pollfd pf = {.fd = fd, .events = POLLIN};
      (void)poll(&pf, 1, -1);
    }
    return fd;
  }
  bs_diag(&p->diags, BS_ERROR, BS_D_IO_READ, name, 0, 0, name,
          bs_io_strerror(e, p->diags.lang));
  return -1;
}

static void
S_add_input(bs_batch_plan *p, const char *input, int depth)
{
  if (depth > 8)
    return; /* manifests naming manifests in a loop */
  if (strcmp(input, "-") == 0) {
    if (S_manifest_fd(p, input, STDIN_FILENO) >= 0)
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
  /* O_NONBLOCK: a FIFO with no writer must not hang the open */
  int fd = open(input, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    bs_diag(&p->diags, BS_ERROR, BS_D_IO_READ, input, 0, 0, input,
            strerror(errno));
    return;
  }
  FILE *f = S_manifest_fd(p, input, fd) >= 0 ? fdopen(fd, "r") : NULL;
  if (!f) {
    close(fd);
    return;
  }
  const char *m = bs_arena_strdup(&p->arena, input);
  bs_vec_push(&p->manifests, &m);
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
  if (n)
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

/* A stamp's list of lines: at most S_STAMP_LINES each, so that a damaged
 * or hostile stamp cannot make a rerun hold more than its 16 MB. */
#define S_STAMP_LINES 100000
#define S_STAMP_MAX_BYTES ((uint64_t)16 << 20)

static void
S_lines_push(char ***list, int *n, const char *v)
{
  if (*n >= S_STAMP_LINES)
    return;
  *list = bs_xrealloc(*list, (size_t)(*n + 1) * sizeof **list);
  (*list)[(*n)++] = bs_xstrdup(v);
}

static void
S_lines_free(char **list, int n)
{
  for (int i = 0; i < n; i++)
    free(list[i]);
  free(list);
}

void
bs_stamp_free(bs_stamp *st)
{
  for (int i = 0; i < st->nimages; i++)
    free(st->images[i].src);
  free(st->images);
  free(st->source);
  free(st->previous);
  S_lines_free(st->findings, st->nfindings);
  S_lines_free(st->diagnostics, st->ndiagnostics);
  S_lines_free(st->messages, st->nmessages);
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

/* A stamp value as one line: '%', controls and DEL percent-encoded
 * ("%0A"), so that a name with a line break cannot split its line and add
 * a field (stamp version 2). */
static void
S_stamp_value(FILE *f, const char *v)
{
  char *enc = bs_pct_encode(v, strlen(v), BS_PCT_CONTROLS);
  fputs(enc, f);
  free(enc);
}

int
bs_stamp_read(const char *path, bs_stamp *st)
{
  memset(st, 0, sizeof *st);
  st->pages = -1;
  st->bytes = -1;
  /* a stamp is small; anything else at its name (a FIFO, a huge file) is
   * no stamp */
  struct stat sb;
  int fd = bs_input_open(path, S_STAMP_MAX_BYTES, &sb);
  if (fd < 0)
    return errno == BS_E_SPECIAL || errno == EFBIG
               ? EINVAL
               : errno;
  FILE *f = fdopen(fd, "r");
  if (!f) {
    int e = errno;
    close(fd);
    return e;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  bool magic = false, bad = false;
  int version = 0;
  while ((n = getline(&line, &cap, f)) >= 0) {
    if (n > 0 && line[n - 1] == '\n')
      line[--n] = '\0';
    char *v = strchr(line, ' ');
    if (!v)
      continue;
    *v++ = '\0';
    /* version 1 wrote names as they were; 2 percent-encodes them */
    if (version >= 2 && !bs_pct_decode(v)) {
      bad = true;
      continue;
    }
    if (strcmp(line, "banshi-stamp") == 0) {
      magic = strcmp(v, "1") == 0 || strcmp(v, "2") == 0;
      version = atoi(v);
    } else if (strcmp(line, "pdf-sha256") == 0 && S_hex_ok(v))
      memcpy(st->pdf_sha, v, BS_SHA256_HEX);
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
    else if (strcmp(line, "pdfa") == 0)
      st->pdfa = strcmp(v, "1b") == 0   ? 1
                 : strcmp(v, "2a") == 0 ? 2
                 : strcmp(v, "3b") == 0 ? 3
                                        : 0;
    else if (strcmp(line, "tagged") == 0)
      st->tagged = strcmp(v, "1") == 0;
    else if (strcmp(line, "finding") == 0)
      S_lines_push(&st->findings, &st->nfindings, v);
    else if (strcmp(line, "diagnostic") == 0)
      S_lines_push(&st->diagnostics, &st->ndiagnostics, v);
    else if (strcmp(line, "message") == 0)
      S_lines_push(&st->messages, &st->nmessages, v);
    else if (strcmp(line, "errors") == 0) {
      st->errors = (unsigned)strtoul(v, NULL, 10);
      st->has_messages = true;
    } else if (strcmp(line, "warnings") == 0)
      st->warnings = (unsigned)strtoul(v, NULL, 10);
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
  if (!magic || bad || !st->key[0] || !st->source || !st->source_sha[0] ||
      st->pages < 0 || st->bytes < 0)
    return EINVAL;
  return 0;
}

/* ------------------------------------------------------------------ */
/* The run                                                              */

typedef struct S_opts {
  const char *outdir;
  const char *log;
  unsigned jobs;
  unsigned shard_k, shard_n;
  bs_job_options job;
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

typedef struct S_ident {
  dev_t dev;
  ino_t ino;
  const char *path;
} S_ident;

static int
S_cmp_ident(const void *pa, const void *pb)
{
  const S_ident *a = pa, *b = pb;
  if (a->dev != b->dev)
    return a->dev < b->dev ? -1 : 1;
  return a->ino < b->ino ? -1 : a->ino > b->ino;
}

typedef struct S_batch {
  const S_opts *o;
  bs_shared *shared;
  bs_batch_item **todo; /* the selected items, in plan order */
  size_t ntodo;
  bs_arena scratch;             /* small strings of the main thread */
  S_ident *inputs;              /* every input file, sorted (S_cmp_ident) */
  size_t ninputs;
  bool env_ok;                  /* env_hex is valid */
  char env_hex[BS_SHA256_HEX];  /* key of everything but the sources */
  FILE *err;
  bool tty;
  bs_atomic log;
  bool log_ok;
  int log_errno;
  struct timespec t0;

  size_t next;          /* next item to hand out */
  size_t inflight;      /* items being processed */
  size_t done;          /* items reported */
  size_t rendered;      /* items rendered (not up to date) */
  size_t count[S_ST_COUNT];
  unsigned long warnings; /* of every source, for --fail-on-warnings */
  int verbosity;          /* -1 -q, 0, 1 -v */
  size_t crashed;       /* workers that crashed */
  size_t *retry;        /* documents given back by crashed workers */
  size_t nretry;
  bool bar_shown;       /* a progress bar is on the terminal line */
  double last_line;     /* time of the last plain progress line */
  int last_decile;      /* decile of the last plain progress line */
  size_t last_done;     /* items done at the last plain progress line */
} S_batch;

static atomic_int S_signal;
static int S_wake[2] = {-1, -1}; /* self-pipe: wakes the supervisor's poll */
static int S_spawn_errno;          /* why the last worker could not start */

/* The first SIGINT or SIGTERM only sets the flag and wakes the
 * supervisor; both go back to their default action, so that a second one
 * ends the process at once. */
static void
S_on_signal(int sig)
{
  int e = errno;
  atomic_store(&S_signal, sig);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  if (S_wake[1] >= 0 && write(S_wake[1], "", 1) < 0) {
    /* full: the supervisor wakes anyway */
  }
  errno = e;
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
S_msg_text(const S_batch *b, bs_code m)
{
  return bs_diag_format(m, b->o->job.lang);
}

/* JSON string: UTF-8 kept, controls escaped, and each byte of invalid
 * UTF-8 (a file name in another encoding) as the lone surrogate
 * \\udc80-\\udcff of PEP 383 ("surrogateescape"), so that the exact bytes
 * come back (Python: os.fsencode(json.loads(...))), never U+FFFD. */
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
      fprintf(f, "\\udc%02x", *p);
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
  int signal;        /* the signal that ended its worker, or 0 */
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

/* Hash one file (at most `max` bytes, 0: any) into the key as
 * "name path sha\n"; false if unreadable or refused. */
static bool
S_key_file(bs_sha256 *c, const char *name, const char *path, uint64_t max,
           char *sha_out)
{
  char hex[BS_SHA256_HEX];
  if (bs_sha256_file_max(path, max, hex, NULL) != 0)
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

static void
S_quiet_generic(void *ctx, const char *fmt, ...)
{
  (void)ctx;
  (void)fmt;
}

/* Encodings in which every ASCII character is its own byte, as the
 * declaration names them (compared without case). */
static const char *const S_ascii_encodings[] = {
    "UTF-8", "UTF8",   "US-ASCII", "ASCII",      "GBK",    "GB2312",
    "GB18030", "CP936", "ISO-8859-1", "LATIN1", "BIG5", NULL};

/* False only when the source surely has no figure element: it starts with
 * '<' (after a UTF-8 byte order mark and white space), has no NUL byte (no
 * UTF-16 or UTF-32), declares no encoding or one of S_ascii_encodings,
 * has no DOCTYPE (so no entity can expand to one) and the bytes "figure"
 * appear nowhere: in such a file an element named figure, with any prefix,
 * would be spelled with those bytes.  Most sources have no figure, and the
 * reader below costs 3 % of a batch document. */
static bool
S_may_have_figures(const unsigned char *buf, size_t len)
{
  size_t i = 0;
  if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
    i = 3;
  while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' ||
                     buf[i] == '\n'))
    i++;
  if (i >= len || buf[i] != '<' || memchr(buf, 0, len) ||
      memmem(buf, len, "figure", 6) || memmem(buf, len, "<!DOCTYPE", 9))
    return true;
  if (len - i < 5 || memcmp(buf + i, "<?xml", 5) != 0)
    return false;
  /* the declaration, and its encoding if it names one */
  const unsigned char *end = memmem(buf + i, len - i, "?>", 2);
  if (!end)
    return true;
  const unsigned char *e =
      memmem(buf + i, (size_t)(end - (buf + i)), "encoding", 8);
  if (!e)
    return false;
  const unsigned char *q = e + 8;
  while (q < end && *q != '"' && *q != '\'')
    q++;
  if (q >= end)
    return true;
  const unsigned char *v = q + 1;
  const unsigned char *ve = memchr(v, *q, (size_t)(end - v));
  if (!ve)
    return true;
  for (const char *const *n = S_ascii_encodings; *n; n++)
    if (strlen(*n) == (size_t)(ve - v) &&
        strncasecmp((const char *)v, *n, (size_t)(ve - v)) == 0)
      return false;
  return true;
}

/* bs_source_images on the source's bytes, already read. */
static void
S_source_images_mem(const char *source, const unsigned char *buf,
                    size_t len,
                    void (*fn)(void *ctx, const char *src, const char *path),
                    void *ctx)
{
  if (!S_may_have_figures(buf, len))
    return;
  /* Quiet: the render reports what is wrong with the source.  libxml2
   * raises an encoding error (an invalid GBK byte) on its generic channel,
   * which the reader's handler does not catch and which would otherwise go
   * to standard error, in pieces between the batch's own lines. */
  xmlGenericErrorFunc old_generic = xmlGenericError;
  void *old_ctx = xmlGenericErrorContext;
  xmlSetGenericErrorFunc(NULL, S_quiet_generic);
  xmlTextReaderPtr r = xmlReaderForMemory(
      (const char *)buf, (int)len, source, NULL,
      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (!r) {
    xmlSetGenericErrorFunc(old_ctx, old_generic);
    return;
  }
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
  xmlSetGenericErrorFunc(old_ctx, old_generic);
}

void
bs_source_images(const char *source,
                 void (*fn)(void *ctx, const char *src, const char *path),
                 void *ctx)
{
  /* read through bs_read_file: a regular file of bounded size only */
  size_t len = 0;
  unsigned char *buf = bs_read_file(source, BS_MAX_SOURCE_BYTES, &len);
  if (!buf)
    return;
  S_source_images_mem(source, buf, len, fn, ctx);
  free(buf);
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
  if (path && bs_sha256_file_max(path, BS_IMAGE_MAX_BYTES, e.sha, NULL) != 0)
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
  /* the source read once (checked, bounded): hashed and scanned for its
   * figures from the same bytes; the key's text as S_key_file's */
  size_t len = 0;
  unsigned char *buf = bs_read_file(it->source, BS_MAX_SOURCE_BYTES, &len);
  if (!buf)
    return false;
  char hex[BS_SHA256_HEX];
  bs_sha256_buf(buf, len, hex);
  char *abs = realpath(it->source, NULL);
  const char *ap = abs ? abs : it->source;
  bs_sha256_update(&c, "source ", 7);
  bs_sha256_update(&c, ap, strlen(ap) + 1);
  bs_sha256_update(&c, hex, 64);
  bs_sha256_update(&c, "\n", 1);
  free(abs);
  memcpy(src_sha, hex, BS_SHA256_HEX);
  if (it->previous && !S_key_file(&c, "previous", it->previous,
                                  BS_MAX_SOURCE_BYTES, NULL)) {
    free(buf);
    return false;
  }
  if (it->as_published || b->o->job.as_published)
    bs_sha256_update(&c, "as-published\n", 13);
  S_images im = {&c, images};
  S_source_images_mem(it->source, buf, len, S_key_image, &im);
  free(buf);
  bs_sha256_final(&c, d);
  bs_sha256_hex(d, key);
  return true;
}

/* One stamp field per line of `text` (NULL: none). */
static void
S_stamp_lines(FILE *m, const char *field, const char *text)
{
  for (const char *s = text ? text : ""; *s;) {
    size_t n = strcspn(s, "\n");
    if (n) {
      char *enc = bs_pct_encode(s, n, BS_PCT_CONTROLS);
      fprintf(m, "%s %s\n", field, enc);
      free(enc);
    }
    s += n + (s[n] ? 1 : 0);
  }
}

static int
S_stamp_write(const char *path, const char *key, const char *src_sha,
              const char *pdf_sha, const bs_vec *images,
              const bs_batch_item *it,
              const S_result *r, const bs_job_options *jo,
              bool as_published, const char *findings, const char *diags,
              const char *json)
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
  fprintf(m, "banshi-stamp 2\nkey %s\nsource ", key);
  S_stamp_value(m, src ? src : it->source);
  fprintf(m, "\nsource-sha256 %s\n", src_sha);
  if (it->previous) {
    fputs("previous ", m);
    S_stamp_value(m, prev ? prev : it->previous);
    fputc('\n', m);
  }
  const bs_stamp_image *im = images->data;
  for (size_t i = 0; i < images->len; i++) {
    fprintf(m, "image %s ", im[i].sha);
    S_stamp_value(m, im[i].src);
    fputc('\n', m);
  }
  fprintf(m, "pages %d\nbytes %lld\npdf-sha256 %s\nnormalize %d\nbanshi %s\n",
          r->pages, r->bytes, pdf_sha, jo->normalize ? 1 : 0,
          BANSHI_VERSION);
  /* the conformance written, for the archive's record (fields added to
   * version 2: older readers skip them) */
  fprintf(m, "pdfa %s\n",
          jo->pdfa == 2 ? "2a" : jo->pdfa == 3 ? "3b" : "1b");
  if (jo->tagged || jo->pdfa == 2)
    fputs("tagged 1\n", m);
  /* what the report type's checks found, for the archive's record */
  if (as_published)
    fputs("as-published 1\n", m);
  S_stamp_lines(m, "finding", findings);
  /* the render's messages, repeated in the log of a rerun: fields added
   * to version 2, which readers skip when they do not know them */
  fprintf(m, "errors %u\nwarnings %u\n", r->errors, r->warnings);
  S_stamp_lines(m, "diagnostic", diags);
  S_stamp_lines(m, "message", json);
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

/* Lines joined, each ending in a line break (malloc'd, NULL for none). */
static char *
S_lines_join(char *const *lines, int n)
{
  size_t len = 0;
  for (int i = 0; i < n; i++)
    len += strlen(lines[i]) + 1;
  if (!len)
    return NULL;
  char *out = bs_xmalloc(len + 1), *o = out;
  for (int i = 0; i < n; i++) {
    size_t k = strlen(lines[i]);
    memcpy(o, lines[i], k);
    o[k] = '\n';
    o += k + 1;
  }
  *o = '\0';
  return out;
}

/* The messages of an up-to-date source: those its render had, as the
 * stamp recorded them, so that the log of a rerun loses nothing.  A stamp
 * written before they were recorded kept only the findings of the report
 * checks, as text. */
static void
S_stamp_messages(const bs_stamp *st, S_result *r, char **text, char **json)
{
  if (st->has_messages) {
    *text = S_lines_join(st->diagnostics, st->ndiagnostics);
    *json = S_lines_join(st->messages, st->nmessages);
    r->errors = st->errors;
    r->warnings = st->warnings;
    return;
  }
  *text = S_lines_join(st->findings, st->nfindings);
  for (int i = 0; i < st->nfindings; i++) {
    if (strstr(st->findings[i], ": warning: "))
      r->warnings++;
    else
      r->errors++;
  }
}

/* One item's work in progress (S_process). */
typedef struct S_work {
  const bs_batch_item *it;
  char *out;                       /* the PDF (malloc'd) */
  char *stamp;                     /* its stamp (malloc'd) */
  bs_diags d;                      /* the batch's own messages about it */
  bool have_key;                   /* key and src_sha are valid */
  char key[BS_SHA256_HEX];         /* the up-to-date key */
  char src_sha[BS_SHA256_HEX];     /* SHA-256 of the source */
  bs_vec images;                   /* bs_stamp_image of its figures */
  char *diags, *json, *findings;   /* the render's messages (malloc'd) */
} S_work;

/* The checks before an item is looked at: its output name is its own and
 * holds no control character, its folders can be made, and its PDF would
 * not replace an input of the batch (another item's source, a manifest,
 * the font map) or a link to one.  Returns BS_STATUS_OK or
 * BS_STATUS_FAILURE with a message in w->d. */
static int
S_check_output(const S_batch *b, S_work *w)
{
  const bs_batch_item *it = w->it;
  if (it->clash) {
    bs_diag(&w->d, BS_ERROR, BS_D_BATCH_CLASH, it->source, 0, 0, w->out,
            it->clash);
    return BS_STATUS_FAILURE;
  }
  /* a line break or other control in an output name would split log
   * lines and stamp fields of every tool that reads them line by line */
  for (const unsigned char *c = (const unsigned char *)it->rel; *c; c++)
    if (*c < 0x20 || *c == 0x7F) {
      bs_diag(&w->d, BS_ERROR, BS_D_NAME_CONTROL, it->source, 0, 0, w->out);
      return BS_STATUS_FAILURE;
    }
  int status = BS_STATUS_OK;
  char *dirs[2] = {S_dirname(w->out), S_dirname(w->stamp)};
  for (int i = 0; i < 2; i++) {
    int e = bs_mkdirs(dirs[i]);
    if (e && status == BS_STATUS_OK) {
      bs_diag(&w->d, BS_ERROR, BS_D_IO_WRITE, NULL, 0, 0, dirs[i],
              strerror(e));
      status = BS_STATUS_FAILURE;
    }
    free(dirs[i]);
  }
  if (status != BS_STATUS_OK)
    return status;
  struct stat os;
  if (stat(w->out, &os) == 0 && b->ninputs) {
    S_ident k = {os.st_dev, os.st_ino, NULL};
    const S_ident *hit =
        bsearch(&k, b->inputs, b->ninputs, sizeof k, S_cmp_ident);
    if (hit) {
      bs_diag(&w->d, BS_ERROR, BS_D_OUTPUT_IS_INPUT, it->source, 0, 0,
              w->out, hit->path);
      return BS_STATUS_FAILURE;
    }
  }
  return BS_STATUS_OK;
}

/* True if the item is up to date: its stamp holds its key and the PDF is
 * still what the stamp vouches for (a PDF damaged in place, its size
 * kept, is rendered again).  Then r and w carry what the stamp recorded. */
static bool
S_up_to_date(const S_batch *b, S_work *w, S_result *r)
{
  if (!w->have_key)
    return false;
  bs_stamp st;
  struct stat ps;
  char pdf_hex[BS_SHA256_HEX];
  bool current =
      bs_stamp_read(w->stamp, &st) == 0 && strcmp(st.key, w->key) == 0 &&
      stat(w->out, &ps) == 0 && S_ISREG(ps.st_mode) &&
      (long long)ps.st_size == st.bytes && st.pdf_sha[0] &&
      bs_sha256_file(w->out, pdf_hex, NULL) == 0 &&
      strcmp(pdf_hex, st.pdf_sha) == 0 && S_ofd_present(b, w->out);
  if (current) {
    r->pages = st.pages;
    r->bytes = st.bytes;
    S_stamp_messages(&st, r, &w->diags, &w->json);
  }
  bs_stamp_free(&st);
  return current;
}

/* Render an item that is not up to date: its stamp removed first, its PDF
 * flushed, its stamp written after.  Returns the status. */
static int
S_render_item(const S_batch *b, S_work *w, S_result *r)
{
  const bs_batch_item *it = w->it;
  bs_lang lang = b->o->job.lang;
  /* The stamp must not outlive the PDF it describes. */
  if (unlink(w->stamp) != 0 && errno != ENOENT) {
    bs_diag(&w->d, BS_ERROR, BS_D_IO_WRITE, NULL, 0, 0, w->stamp,
            strerror(errno));
    return BS_STATUS_FAILURE;
  }
  /* Last year's source (manifest column 2) for the cross-year rules of
   * report types; it is part of the key as well. */
  bs_job_result res;
  bs_report_source *prev =
      it->previous ? bs_report_source_load(it->previous, lang) : NULL;
  int status = bs_job_run_report(b->shared, it->source, prev,
                                 it->as_published, w->out, NULL, NULL, &res);
  bs_report_source_free(prev);
  /* A source that no longer renders leaves no PDF that looks current:
   * the PDF of its last good version is removed (docs/batch.md). */
  if (status != BS_STATUS_OK && unlink(w->out) != 0 && errno != ENOENT)
    bs_diag(&w->d, BS_ERROR, BS_D_IO_WRITE, NULL, 0, 0, w->out,
            strerror(errno));
  r->pages = res.pages;
  r->bytes = res.bytes;
  r->errors = res.errors;
  r->warnings = res.warnings;
  w->findings = res.findings;
  w->diags = res.diagnostics;
  w->json = res.diagnostics_json;
  res.findings = res.diagnostics = res.diagnostics_json = NULL;
  bs_job_result_free(&res);
  if (status != BS_STATUS_OK)
    return status;
  /* The renderer flushed the PDF, renamed it into place and flushed its
   * folder (bs_atomic_commit, fsio.h) before it reported success, so a
   * stamp written now vouches for a PDF that survives a power cut. */
  if (!w->have_key)
    return BS_STATUS_OK;
  /* The digest of the bytes the renderer wrote, flushed and renamed into
   * place (bs_pdf_options.sha256): the PDF is not read back.  Read back
   * only when the renderer gave none. */
  char pdf_sha[BS_SHA256_HEX] = "";
  if (res.have_pdf_sha256) {
    bs_sha256_hex(res.pdf_sha256, pdf_sha);
  } else if (bs_sha256_file(w->out, pdf_sha, NULL) != 0) {
    bs_diag(&w->d, BS_ERROR, BS_D_IO_READ, NULL, 0, 0, w->out,
            bs_io_strerror(errno, lang));
    return BS_STATUS_FAILURE;
  }
  int e = S_stamp_write(w->stamp, w->key, w->src_sha, pdf_sha, &w->images, it, r,
                    &b->o->job, it->as_published || b->o->job.as_published,
                    w->findings, w->diags, w->json);
  if (e) {
    bs_diag(&w->d, BS_ERROR, BS_D_IO_WRITE, NULL, 0, 0, w->stamp,
            strerror(e));
    return BS_STATUS_FAILURE;
  }
  return BS_STATUS_OK;
}

/* `first` (may be NULL) followed by what print writes of d (malloc'd). */
static char *
S_joined(const char *first, bs_diags *d,
         unsigned (*print)(bs_diags *, FILE *))
{
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  if (m) {
    if (first)
      fputs(first, m);
    print(d, m);
    fclose(m);
  }
  return text ? text : bs_xstrdup("");
}

static void
S_process(S_batch *b, const bs_batch_item *it, S_result *r)
{
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  memset(r, 0, sizeof *r);
  bs_arena arena;
  bs_arena_init(&arena);
  S_work w;
  memset(&w, 0, sizeof w);
  w.it = it;
  bs_diags_init(&w.d, &arena, b->o->job.lang);
  w.out = S_out_path(b, it->rel);
  w.stamp = bs_stamp_path(b->o->outdir, it->rel);
  w.images = (bs_vec){NULL, 0, 0, sizeof(bs_stamp_image)};

  bool current = false;
  int status = S_check_output(b, &w);
  if (status == BS_STATUS_OK) {
    w.have_key = S_item_key(b, it, w.key, w.src_sha, &w.images);
    current = S_up_to_date(b, &w, r);
    if (!current)
      status = S_render_item(b, &w, r);
  }

  r->diagnostics = S_joined(w.diags, &w.d, bs_diags_print);
  r->json = S_joined(w.json, &w.d, bs_diags_print_json);
  r->errors += w.d.errors;
  r->warnings += w.d.warnings;
  r->status = current                         ? S_ST_CURRENT
              : status == BS_STATUS_OK        ? S_ST_OK
              : status == BS_STATUS_INVALID   ? S_ST_INVALID
                                              : S_ST_FAILED;
  for (size_t i = 0; i < w.images.len; i++)
    free(((bs_stamp_image *)w.images.data)[i].src);
  bs_vec_free(&w.images);
  free(w.diags);
  free(w.json);
  free(w.findings);
  free(w.out);
  free(w.stamp);
  bs_diags_free(&w.d);
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
  if (r->signal)
    fprintf(f, "],\"signal\":%d,\"pages\":%d", r->signal, r->pages);
  else
    fprintf(f, "],\"pages\":%d", r->pages);
  fprintf(f, ",\"bytes\":%lld,\"time\":%.3f}\n", r->bytes, r->seconds);
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
    snprintf(text, sizeof text, S_msg_text(b, BS_D_BATCH_PROGRESS_TTY), done,
             total, failed, rate, etas);
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
  fprintf(b->err, S_msg_text(b, BS_D_BATCH_PROGRESS), done, total,
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

/* ------------------------------------------------------------------ */
/* Worker processes                                                     */

/* A result as it travels from a worker to the supervisor, followed by
 * `dlen` bytes of diagnostics and `jlen` bytes of the same as JSON. */
typedef struct S_wire {
  int32_t status, pages;
  uint32_t errors, warnings, dlen, jlen;
  int64_t bytes;
  double seconds;
} S_wire;

/* Documents queued per worker: the one it renders and the next, so that
 * a worker never waits for the supervisor between two documents (on a
 * loaded machine the supervisor may wait milliseconds for a core). */
#define S_DEPTH 2

typedef struct S_proc {
  pid_t pid;          /* 0: no process */
  int to;             /* write end: indexes into todo */
  int from;           /* read end: results */
  size_t q[S_DEPTH];  /* indexes sent, in order; q[0] is being rendered */
  int nq;             /* entries in q */
} S_proc;

static bool
S_read_full(int fd, void *buf, size_t n)
{
  char *p = buf;
  while (n) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return false;
    p += r;
    n -= (size_t)r;
  }
  return true;
}

static bool
S_write_full(int fd, const void *buf, size_t n)
{
  const char *p = buf;
  while (n) {
    ssize_t r = write(fd, p, n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return false;
    p += r;
    n -= (size_t)r;
  }
  return true;
}

#ifdef BANSHI_TEST_HOOKS
/* Test builds only (BUILD_TESTING): BANSHI_TEST_CRASH=KIND:TEXT makes the
 * worker that takes a source whose path contains TEXT crash, KIND being
 * segv, abort or oom, so that tests see what a real crash does (or, KIND
 * sleep, take a minute). */
static void
S_test_crash(const char *source)
{
  const char *spec = getenv("BANSHI_TEST_CRASH");
  const char *colon = spec ? strchr(spec, ':') : NULL;
  if (!colon || !colon[1] || !strstr(source, colon + 1))
    return;
  if (strncmp(spec, "segv:", 5) == 0) {
    volatile int *volatile nowhere = NULL;
    *nowhere = 1;
  } else if (strncmp(spec, "abort:", 6) == 0) {
    abort();
  } else if (strncmp(spec, "sleep:", 6) == 0) {
    sleep(60); /* a document that takes long: signals must not wait */
  } else if (strncmp(spec, "oom:", 4) == 0) {
    struct rlimit rl = {(rlim_t)1 << 30, (rlim_t)1 << 30};
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (f && fscanf(f, "%lu", &pages) == 1)
      rl.rlim_cur = rl.rlim_max = pages * 4096 + ((rlim_t)64 << 20);
    if (f)
      fclose(f);
    setrlimit(RLIMIT_AS, &rl);
    for (;;)
      memset(bs_xmalloc((size_t)16 << 20), 1, (size_t)16 << 20);
  }
}
#endif

/* The worker: take indexes from `in`, render, send results to `out`,
 * until `in` ends.  Never returns; never flushes the supervisor's stdio
 * buffers it inherited (_exit). */
static _Noreturn void
S_worker_main(S_batch *b, int in, int out, pid_t parent)
{
  /* Signals are the supervisor's: a terminal's interrupt reaches the whole
   * process group, and the supervisor decides what happens to documents in
   * flight.  A worker whose supervisor is gone (SIGKILL) dies with it. */
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent)
    _exit(0);
#ifdef __GLIBC__
  /* Keep the heap between documents.  glibc serves a block over 128 KB
   * with its own mmap and gives the heap's free top back above 128 KB,
   * raising both limits only as large blocks are freed: each worker's
   * first documents, and every document that needs more than the last
   * one, fault their pages in again.  Measured with the example's
   * variants (bench/gen.py): a batch of 40 takes 3,707 page faults by
   * default, 3,585 with an mmap limit of 256 KB, 3,330 from 1 MB on
   * (blocks of 512 KB - 1 MB), whatever the trim limit from 1 MB up; 12
   * documents of a 1,500-row table take 15,600-16,000 by default, 8,500-
   * 10,400 with 4 MB / 8 MB, 6,900 with 8 MB / 16 MB and 6,300-6,900
   * with 32 MB / 64 MB.  So 8 MB and twice that, which bounds the free
   * heap a worker keeps after a large document; the peak RSS of a batch
   * did not move beyond the noise (22.0 MB).  Either limit set alone
   * turns glibc's raising off for both and is worse than the default
   * (11,000 and 13,800 faults for 200 documents instead of 3,700);
   * M_TOP_PAD (4 MB) changed nothing here (the command line sets 1 MB for
   * the threads of a render, cli/main.c, and a worker inherits it). */
  mallopt(M_MMAP_THRESHOLD, 8 << 20);
  mallopt(M_TRIM_THRESHOLD, 16 << 20);
#endif
  uint32_t idx;
  while (S_read_full(in, &idx, sizeof idx) && idx < b->ntodo) {
    const bs_batch_item *it = b->todo[idx];
#ifdef BANSHI_TEST_HOOKS
    S_test_crash(it->source);
#endif
    S_result r;
    S_process(b, it, &r);
    S_wire w = {(int32_t)r.status,
                r.pages,
                r.errors,
                r.warnings,
                (uint32_t)strlen(r.diagnostics),
                (uint32_t)strlen(r.json ? r.json : ""),
                r.bytes,
                r.seconds};
    bool ok = S_write_full(out, &w, sizeof w) &&
              S_write_full(out, r.diagnostics, w.dlen) &&
              S_write_full(out, r.json ? r.json : "", w.jlen);
    free(r.diagnostics);
    free(r.json);
    if (!ok)
      break;
  }
  _exit(0);
}

/* Start worker `w`; false if no process could be started. */
static bool
S_spawn(S_batch *b, S_proc *procs, unsigned nw, unsigned w)
{
  int down[2], up[2];
  if (pipe2(down, O_CLOEXEC) != 0)
    return false;
  if (pipe2(up, O_CLOEXEC) != 0) {
    close(down[0]);
    close(down[1]);
    return false;
  }
  fflush(NULL);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    /* only its own pipes: a crash of a sibling must reach the supervisor
     * as the end of the sibling's pipe */
    for (unsigned i = 0; i < nw; i++)
      if (procs[i].pid > 0) {
        close(procs[i].to);
        close(procs[i].from);
      }
    for (int i = 0; i < 2; i++)
      if (S_wake[i] >= 0)
        close(S_wake[i]);
    /* nor the log: its temporary's lock (fsio.h) must end with the
     * supervisor, not with a worker still dying after it */
    if (b->log.f)
      close(fileno(b->log.f));
    close(down[1]);
    close(up[0]);
    S_worker_main(b, down[0], up[1], parent);
  }
  close(down[0]);
  close(up[1]);
  if (pid < 0) {
    int e = errno;
    close(down[1]);
    close(up[0]);
    errno = e;
    return false;
  }
  procs[w] = (S_proc){.pid = pid, .to = down[1], .from = up[0]};
  return true;
}

static void
S_report_not_run(S_batch *b, size_t idx)
{
  S_result r;
  memset(&r, 0, sizeof r);
  r.status = S_ST_NOT_RUN;
  S_report(b, b->todo[idx], &r);
}

/* Worker `p` ended (its pipe closed): reap it; the document it was
 * rendering failed with the signal that ended it, or, when the supervisor
 * stopped it (`stopped`), was not run.  The one queued after it goes back
 * to the queue (or is not run either). */
static void
S_reap(S_batch *b, S_proc *p, bool stopped)
{
  int ws = 0;
  close(p->to); /* an idle worker ends when its pipe does */
  close(p->from);
  while (waitpid(p->pid, &ws, 0) < 0 && errno == EINTR)
    ;
  for (int k = 0; k < p->nq; k++) {
    size_t idx = p->q[k];
    b->inflight--;
    if (stopped) {
      S_report_not_run(b, idx);
      continue;
    }
    if (k > 0) {
      b->retry[b->nretry++] = idx;
      continue;
    }
    const bs_batch_item *it = b->todo[idx];
    S_result r;
    memset(&r, 0, sizeof r);
    r.status = S_ST_FAILED;
    char how[64];
    if (WIFSIGNALED(ws)) {
      r.signal = WTERMSIG(ws);
      snprintf(how, sizeof how, "signal %d, SIG%s", r.signal,
               sigabbrev_np(r.signal) ? sigabbrev_np(r.signal) : "?");
    } else {
      snprintf(how, sizeof how, "exit status %d",
               WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
    }
    bs_arena a;
    bs_diags d;
    bs_arena_init(&a);
    bs_diags_init(&d, &a, b->o->job.lang);
    bs_diag(&d, BS_ERROR, BS_D_WORKER_CRASH, it->source, 0, 0, how);
    r.diagnostics = S_joined(NULL, &d, bs_diags_print);
    r.json = S_joined(NULL, &d, bs_diags_print_json);
    r.errors = 1;
    bs_diags_free(&d);
    bs_arena_free(&a);
    b->crashed++;
    S_report(b, it, &r);
    free(r.diagnostics);
    free(r.json);
  }
  memset(p, 0, sizeof *p);
}

/* The result of the document worker `p` renders: read and report it, or,
 * when the pipe ends first, the worker crashed. */
static void
S_collect(S_batch *b, S_proc *p)
{
  S_wire w;
  if (!S_read_full(p->from, &w, sizeof w)) {
    S_reap(b, p, false);
    return;
  }
  char *diag = bs_xmalloc((size_t)w.dlen + 1);
  char *json = bs_xmalloc((size_t)w.jlen + 1);
  if (!S_read_full(p->from, diag, w.dlen) ||
      !S_read_full(p->from, json, w.jlen)) {
    free(diag);
    free(json);
    S_reap(b, p, false);
    return;
  }
  diag[w.dlen] = '\0';
  json[w.jlen] = '\0';
  S_result r;
  memset(&r, 0, sizeof r);
  r.status = w.status >= 0 && w.status < S_ST_COUNT ? (S_status)w.status
                                                   : S_ST_FAILED;
  r.pages = w.pages;
  r.bytes = w.bytes;
  r.errors = w.errors;
  r.warnings = w.warnings;
  r.seconds = w.seconds;
  r.diagnostics = diag;
  r.json = json;
  S_report(b, b->todo[p->q[0]], &r);
  free(diag);
  free(json);
  memmove(p->q, p->q + 1, (size_t)(p->nq - 1) * sizeof p->q[0]);
  p->nq--;
  b->inflight--;
}

/* Documents rendered in this process, one after another: when no worker
 * process can be started at all. */
static void
S_run_here(S_batch *b)
{
  while (!atomic_load(&S_signal) && b->next < b->ntodo) {
    const bs_batch_item *it = b->todo[b->next++];
    S_result r;
    S_process(b, it, &r);
    S_report(b, it, &r);
    free(r.diagnostics);
    free(r.json);
    S_progress(b, false);
  }
}

static double
S_now(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The supervisor: hand documents to `nw` worker processes one at a time,
 * report results as they come, restart a worker that crashed.  After a
 * signal no document is handed out; those in flight get S_GRACE seconds,
 * then their workers are killed and the documents logged as not run, so
 * that SIGTERM ends the batch within a second whatever is in flight. */
#define S_GRACE 0.5
static void
S_supervise(S_batch *b, unsigned nw)
{
  S_proc *procs = bs_xcalloc(nw, sizeof *procs);
  unsigned alive = 0;
  for (unsigned i = 0; i < nw; i++)
    if (S_spawn(b, procs, nw, i))
      alive++;
  if (alive == 0) {
    free(procs);
    S_run_here(b);
    return;
  }
  struct pollfd *fds = bs_xcalloc(nw + 1, sizeof *fds);
  unsigned *who = bs_xcalloc(nw + 1, sizeof *who);
  bool announced = false;
  double stop_at = 0;
  int spawn_waits = 0;
  S_progress(b, true);
  for (;;) {
    int sig = atomic_load(&S_signal);
    /* hand out: documents given back after a crash first */
    for (unsigned i = 0; i < nw && !sig; i++) {
      bool more = b->nretry > 0 || b->next < b->ntodo;
      if (procs[i].pid == 0 && more && !S_spawn(b, procs, nw, i))
        S_spawn_errno = errno; /* after a crash */
      while (procs[i].pid > 0 && procs[i].nq < S_DEPTH &&
             (b->nretry > 0 || b->next < b->ntodo)) {
        size_t idx = b->nretry > 0 ? b->retry[--b->nretry] : b->next++;
        uint32_t w32 = (uint32_t)idx;
        procs[i].q[procs[i].nq++] = idx;
        b->inflight++;
        if (!S_write_full(procs[i].to, &w32, sizeof w32)) {
          S_reap(b, &procs[i], false);
          break;
        }
      }
    }
    if (b->inflight == 0 && !sig && (b->nretry > 0 || b->next < b->ntodo) &&
        ++spawn_waits <= 250) {
      /* no worker could be started (fork or pipe failed: the machine is
       * out of processes or memory for a moment): try again shortly */
      if (spawn_waits == 1)
        fprintf(b->err, "banshi: cannot start a worker process (%s); "
                        "retrying\n", strerror(S_spawn_errno ? S_spawn_errno : EAGAIN));
      struct timespec ts = {0, 20 * 1000000L};
      nanosleep(&ts, NULL);
      continue;
    }
    if (b->inflight == 0)
      break;
    spawn_waits = 0;
    if (sig && !announced) {
      announced = true;
      stop_at = S_now() + S_GRACE;
      S_clear_bar(b);
      fprintf(b->err, S_msg_text(b, BS_D_BATCH_INTERRUPT), b->inflight);
      fflush(b->err);
    }
    if (sig && S_now() >= stop_at) {
      for (unsigned i = 0; i < nw; i++)
        if (procs[i].pid > 0 && procs[i].nq > 0) {
          kill(procs[i].pid, SIGKILL);
          S_reap(b, &procs[i], true);
        }
      break;
    }
    nfds_t n = 0;
    fds[n] = (struct pollfd){S_wake[0], POLLIN, 0};
    who[n++] = nw;
    for (unsigned i = 0; i < nw; i++)
      if (procs[i].pid > 0 && procs[i].nq > 0) {
        fds[n] = (struct pollfd){procs[i].from, POLLIN, 0};
        who[n++] = i;
      }
    int ms = 250;
    if (sig) {
      double left = stop_at - S_now();
      ms = left > 0 ? (int)(left * 1000) + 1 : 0;
    }
    int r = poll(fds, n, ms);
    if (r > 0) {
      for (nfds_t k = 0; k < n; k++) {
        if (!fds[k].revents)
          continue;
        if (who[k] == nw) {
          char buf[16];
          while (read(S_wake[0], buf, sizeof buf) > 0)
            ;
          continue;
        }
        S_collect(b, &procs[who[k]]);
      }
    }
    S_progress(b, false);
  }
  /* idle workers end when their pipe does */
  for (unsigned i = 0; i < nw; i++)
    if (procs[i].pid > 0)
      S_reap(b, &procs[i], true);
  /* given back after a crash and never run (interrupted) */
  while (b->nretry > 0)
    S_report_not_run(b, b->retry[--b->nretry]);
  free(fds);
  free(who);
  free(procs);
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
  /* XXH3-128, not SHA-256: this key only tells whether an input changed
   * and is recorded as no file's digest, and the fonts alone are about
   * 115 MB (fingerprint.h).  The hash is named, so that a key of another
   * scheme never matches. */
  char hex[BS_FINGERPRINT_HEX];
  if (bs_fingerprint_file(path, hex, NULL) != 0) {
    e->ok = false;
    return;
  }
  char *abs = realpath(path, NULL);
  const char *p = abs ? abs : path;
  bs_sha256_update(&e->c, "input ", 6);
  bs_sha256_update(&e->c, p, strlen(p) + 1);
  bs_sha256_update(&e->c, BS_FINGERPRINT_NAME " ",
                   strlen(BS_FINGERPRINT_NAME) + 1);
  bs_sha256_update(&e->c, hex, strlen(hex));
  bs_sha256_update(&e->c, "\n", 1);
  free(abs);
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
  if (b->o->job.ofd_beside || b->o->job.pdfa == 2 || b->o->job.pdfa == 3)
    snprintf(head + strlen(head), sizeof head - strlen(head),
             "ofd %d\npdfa %d\n", b->o->job.ofd_beside ? 1 : 0,
             b->o->job.pdfa);
  if (b->o->job.tagged || b->o->job.pdfa == 2)
    snprintf(head + strlen(head), sizeof head - strlen(head), "tagged 1\n");
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
  if (dirs.len)
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
/* The run as a whole                                                   */

/* Every input file of the plan (sources, last year's sources, manifests,
 * the font map), by identity, sorted: no output may be one of them. */
static void
S_collect_inputs(S_batch *b, const bs_batch_plan *plan)
{
  const bs_batch_item *items = plan->items.data;
  size_t ni = plan->items.len, nm = plan->manifests.len;
  b->inputs = bs_xmalloc((2 * ni + nm + 1) * sizeof *b->inputs);
  const char **ms = plan->manifests.data;
  for (size_t i = 0; i < ni + nm + 1; i++) {
    const char *paths[2] = {NULL, NULL};
    if (i < ni) {
      paths[0] = items[i].source;
      paths[1] = items[i].previous;
    } else if (i < ni + nm) {
      paths[0] = ms[i - ni];
    } else {
      paths[0] = b->o->job.font_map;
    }
    for (int k = 0; k < 2; k++) {
      struct stat st;
      if (paths[k] && stat(paths[k], &st) == 0)
        b->inputs[b->ninputs++] = (S_ident){st.st_dev, st.st_ino, paths[k]};
    }
  }
  qsort(b->inputs, b->ninputs, sizeof *b->inputs, S_cmp_ident);
}

/* The log's path: --log, else banshi-batch.jsonl (with the shard in its
 * name) in OUTDIR (malloc'd). */
static char *
S_log_path(const S_opts *o)
{
  if (o->log)
    return bs_xstrdup(o->log);
  size_t n = strlen(o->outdir) + 64;
  char *path = bs_xmalloc(n);
  if (o->shard_n > 1)
    snprintf(path, n, "%s/banshi-batch.%u-of-%u.jsonl", o->outdir, o->shard_k,
             o->shard_n);
  else
    snprintf(path, n, "%s/banshi-batch.jsonl", o->outdir);
  return path;
}

/* "FILE: error: " and the catalogue's message `code` in one line. */
static void
S_error_line(FILE *err, bs_lang lang, const char *at, bs_code code,
             const char *a1, const char *a2)
{
  fprintf(err, "%s: %s: ", at, bs_severity_name(BS_ERROR));
  fprintf(err, bs_diag_format(code, lang), a1, a2);
  fputc('\n', err);
}

/* Make OUTDIR and open the log's temporary.  Returns BS_STATUS_OK,
 * BS_STATUS_FAILURE when the batch cannot start (OUTDIR cannot be made,
 * the log would replace an input), or -1 when the batch goes on without a
 * log (b->log_ok false, the message printed). */
static int
S_open_log(S_batch *b, const char *log_path)
{
  bs_lang lang = b->o->job.lang;
  int e = bs_mkdirs(b->o->outdir);
  if (e) {
    S_error_line(b->err, lang, b->o->outdir, BS_D_IO_WRITE, b->o->outdir,
                 strerror(e));
    return BS_STATUS_FAILURE;
  }
  struct stat ls;
  if (stat(log_path, &ls) == 0) {
    S_ident k = {ls.st_dev, ls.st_ino, NULL};
    const S_ident *clobber =
        bsearch(&k, b->inputs, b->ninputs, sizeof k, S_cmp_ident);
    if (clobber) {
      S_error_line(b->err, lang, log_path, BS_D_OUTPUT_IS_INPUT, log_path,
                   clobber->path);
      return BS_STATUS_FAILURE;
    }
  }
  char *ld = S_dirname(log_path);
  const char *slash = strrchr(log_path, '/');
  bs_remove_stale_temps(ld, S_log_wanted,
                        (void *)(slash ? slash + 1 : log_path));
  free(ld);
  e = bs_atomic_open(&b->log, log_path);
  b->log_ok = e == 0;
  if (e) {
    S_error_line(b->err, lang, log_path, BS_D_IO_WRITE, log_path,
                 strerror(e));
    return -1;
  }
  return BS_STATUS_OK;
}

/* Hand the selected items to the workers with the signals of the batch in
 * place: only this process notices SIGINT/SIGTERM (the workers ignore
 * them); SIGPIPE stays ignored until the caller restores `old_pipe`, so
 * that `banshi batch ... | head` goes on when its reader is gone and still
 * writes its log.  Returns the signal that stopped it, or 0. */
static int
S_run(S_batch *b, struct sigaction *old_pipe)
{
  atomic_store(&S_signal, 0);
  if (pipe2(S_wake, O_CLOEXEC | O_NONBLOCK) != 0)
    S_wake[0] = S_wake[1] = -1;
  struct sigaction sa, old_int, old_term;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = S_on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  sa.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &sa, old_pipe);
  unsigned nw = b->o->jobs < b->ntodo ? b->o->jobs : (unsigned)b->ntodo;
  b->retry = bs_xmalloc((size_t)(nw ? nw : 1) * S_DEPTH * sizeof *b->retry);
  if (nw > 0)
    S_supervise(b, nw);
  free(b->retry);
  b->retry = NULL;
  int sig = atomic_load(&S_signal);
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  for (int i = 0; i < 2; i++)
    if (S_wake[i] >= 0) {
      close(S_wake[i]);
      S_wake[i] = -1;
    }
  if (b->crashed)
    S_sweep_temps(b); /* what crashed workers left */
  return sig;
}

/* The end of a run: the items never handed out (interrupted) logged as
 * not run, the summary on the terminal and in the log, the log put in
 * place.  Returns BS_STATUS_FAILURE if the log could not be written. */
static int
S_summarise(S_batch *b, const char *log_path, int sig)
{
  for (size_t i = b->next; i < b->ntodo; i++) {
    S_result r;
    memset(&r, 0, sizeof r);
    r.status = S_ST_NOT_RUN;
    S_report(b, b->todo[i], &r);
  }
  S_progress(b, true);
  S_clear_bar(b);
  double secs = S_elapsed(b);
  const size_t *n = b->count;
  fprintf(b->err, S_msg_text(b, BS_D_BATCH_SUMMARY), b->ntodo, n[S_ST_OK],
          n[S_ST_CURRENT], n[S_ST_INVALID], n[S_ST_FAILED], n[S_ST_NOT_RUN],
          secs);
  int status = BS_STATUS_OK;
  if (b->log_ok) {
    fprintf(b->log.f,
            "{\"summary\":{\"sources\":%zu,\"ok\":%zu,\"up_to_date\":%zu,"
            "\"invalid\":%zu,\"failed\":%zu,\"not_run\":%zu,\"jobs\":%u,"
            "\"shard\":\"%u/%u\",\"interrupted\":%s,\"seconds\":%.3f}}\n",
            b->ntodo, n[S_ST_OK], n[S_ST_CURRENT], n[S_ST_INVALID],
            n[S_ST_FAILED], n[S_ST_NOT_RUN], b->o->jobs, b->o->shard_k,
            b->o->shard_n, sig ? "true" : "false", secs);
    int e = b->log_errno;
    if (e)
      bs_atomic_abort(&b->log);
    else
      e = bs_atomic_commit(&b->log);
    if (e) {
      S_error_line(b->err, b->o->job.lang, log_path, BS_D_IO_WRITE, log_path,
                   strerror(e));
      status = BS_STATUS_FAILURE;
    } else {
      fprintf(b->err, S_msg_text(b, BS_D_BATCH_LOG), log_path);
    }
  }
  fflush(b->err);
  return status;
}

/* The exit status of a run (banshi.h, banshi_batch). */
static int
S_exit_status(const S_batch *b, int status, int sig)
{
  if (sig)
    return 128 + sig;
  if (b->count[S_ST_FAILED] || b->count[S_ST_NOT_RUN])
    return BS_STATUS_FAILURE;
  if (b->count[S_ST_INVALID] && status == BS_STATUS_OK)
    return BS_STATUS_INVALID;
  return status;
}

int
banshi_batch(banshi_env *env, const banshi_batch_options *bo, FILE *err,
              unsigned long *warnings)
{
  S_opts o;
  memset(&o, 0, sizeof o);
  o.job = *bs_env_options(env);
  o.job.threads = 1; /* the workers keep every core busy already */
  o.job.pdf_sha256 = true; /* the stamps' digest, as the PDF is written */
  o.outdir = bo->outdir;
  o.log = bo->log;
  o.jobs = !bo->jobs ? bs_cpus()
           : bo->jobs > S_MAX_JOBS ? S_MAX_JOBS
                                   : bo->jobs;
  o.shard_k = bo->shard_n > 1 ? bo->shard_k : 0;
  o.shard_n = bo->shard_n > 1 ? bo->shard_n : 1;
  if (!o.outdir || !bo->ninputs || o.shard_k >= o.shard_n)
    return BANSHI_USAGE;
  char *outdir = bs_xstrdup(o.outdir); /* without trailing slashes */
  for (size_t n = strlen(outdir); n > 1 && outdir[n - 1] == '/'; n--)
    outdir[n - 1] = '\0';
  o.outdir = outdir;

  /* Plan, and this shard's share of it. */
  bs_batch_plan plan;
  bs_batch_plan_init(&plan, o.job.lang);
  for (size_t i = 0; i < bo->ninputs; i++)
    bs_batch_plan_add(&plan, bo->inputs[i]);
  bs_batch_plan_finish(&plan);
  bs_diags_print(&plan.diags, err);
  int status = plan.diags.errors ? BS_STATUS_FAILURE : BS_STATUS_OK;

  S_batch b;
  memset(&b, 0, sizeof b);
  b.o = &o;
  b.verbosity = bo->verbosity;
  b.err = err;
  b.tty = isatty(fileno(err));
  b.last_decile = -1;
  bs_batch_item *items = plan.items.data;
  b.todo = bs_xmalloc((plan.items.len + 1) * sizeof *b.todo);
  for (size_t i = 0; i < plan.items.len; i++)
    if (bs_shard_selects(items[i].rel, o.shard_k, o.shard_n))
      b.todo[b.ntodo++] = &items[i];
  S_collect_inputs(&b, &plan);

  char *log_path = S_log_path(&o);
  int rc = S_open_log(&b, log_path);
  if (rc != BS_STATUS_FAILURE) {
    if (rc < 0)
      status = BS_STATUS_FAILURE;
    S_sweep_temps(&b);
    b.shared = bs_shared_new(&o.job);
    bs_arena_init(&b.scratch);
    S_env_key(&b);
    clock_gettime(CLOCK_MONOTONIC, &b.t0);
    struct sigaction old_pipe;
    int sig = S_run(&b, &old_pipe);
    if (S_summarise(&b, log_path, sig) != BS_STATUS_OK)
      status = BS_STATUS_FAILURE;
    status = S_exit_status(&b, status, sig);
    if (warnings)
      *warnings += b.warnings;
    bs_shared_free(b.shared);
    bs_arena_free(&b.scratch);
    sigaction(SIGPIPE, &old_pipe, NULL);
  } else {
    status = BS_STATUS_FAILURE;
  }
  free(log_path);
  free(b.inputs);
  free(b.todo);
  free(outdir);
  bs_batch_plan_free(&plan);
  return status;
}
