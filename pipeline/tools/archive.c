// SPDX-License-Identifier: Apache-2.0
/* archive.c - BagIt bags (RFC 8493) of a batch's output with DA/T 46-2009
 * metadata records and a pinyin-ordered index; see archive.h.
 *
 * Design.  The bag is assembled in a temporary folder beside its final
 * name and renamed at the end, after every file and folder was flushed:
 * RFC 8493 knows no "incomplete bag" state, so a records office must never
 * see one.  The temporary folder is made with mkdir(2), which fails on any
 * existing name (a link planted there included), and then used only
 * through its descriptor (bag.h), so nothing can redirect what is written.
 *
 * The batch's stamps (batch.h) say which PDFs it vouches for, and with
 * which source and images; they are read as untrusted input.  Every file is
 * copied first and hashed as it is copied, and the digest of the copy is
 * compared with the one the stamp records: a file that changes while the
 * bag is built fails the bag, whenever it changes, and a path in a stamp
 * can only bring into the bag a file whose content the stamp already
 * records.  Image names from a stamp must stay below the source's folder
 * (bs_bag_path_ok), so none can place a file outside the bag.  The source
 * is read into memory once: the same bytes are written to the bag, hashed
 * and parsed for the metadata record.  Problems of every document are
 * collected before the bag is given up, so one run names them all.
 *
 * Rejected: checking every digest first and copying afterwards - a file
 * changed in between went into the bag unnoticed; and packing whatever PDFs
 * lie in OUTDIR - a PDF left from an older source after that source failed
 * would be archived beside the wrong XML.
 *
 * The index is rendered by banshi itself: a core document (data/index.xml,
 * kept in the bag beside data/index.pdf, like every other PDF/A there) with
 * one table row per document, sorted by issuing body with ICU's collator
 * for Chinese in pinyin order, tailored for the place names whose reading
 * differs from the character's most frequent one (长沙 cháng, 厦门 xià,
 * 六安 lù ...; the rules are data: collation/pinyin-places.txt), then by
 * date, title and file name.  The metadata records use DA/T 46-2009
 * element names where they apply (notes/archival.md) and are written with
 * libxml2's xmlTextWriter, one function per section.  Sources that the
 * batch log records as failed are listed in data/left-out.csv.
 *
 * ICU's collator (libicui18n) and Jansson are loaded when the index is
 * sorted and the first batch log read (dynlib.h), like every library that
 * only some runs need.
 *
 * Layer 14 (archive): docs/architecture.md. */
#include "archive.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libxml/hash.h>
#include <libxml/xmlwriter.h>
#include <unicode/ucol.h>
#include <unicode/ustring.h>

#include "api.h"
#include "bag.h"
#include "batch.h"
#include "doc.h"
#include "dynlib.h"
#include "fsio.h"
#include "job.h"
#include "pipeline.h"
#include "render.h"
#include "sha256.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* The bag being built                                                  */

typedef struct S_file {
  char *path;              /* bag-relative (malloc'd) */
  char sha[BS_SHA256_HEX]; /* digest */
  long long size;          /* bytes */
} S_file;

typedef struct S_doc {
  char *rel;      /* output name below OUTDIR, "dept/a.pdf" */
  char *base;     /* rel without ".pdf" */
  bs_stamp stamp; /* the batch's record */
  const char *title, *issuer, *number, *subject, *retention, *lang;
  const char **keywords;
  int year, y, m, d;
  S_file pdf, src; /* in the bag */
  S_file ofd;      /* the OFD beside the PDF (batch --format pdf,ofd), if
                      any: path NULL when none */
  S_file *images;  /* the images of its figures, in the bag */
  int nimages;     /* as many as were packed */
  bool ok;         /* packed without a problem */
} S_doc;

typedef struct S_left {
  const char *source;  /* as the log names it */
  const char *output;  /* as the log names it */
  const char *status;  /* "invalid", "failed", "not-run" */
  const char *log;     /* the log's file name */
  const char *problem; /* its first error, or "" */
} S_left;

typedef struct S_opts {
  const char *outdir;
  const char *bag;
  const char *verify;
  const char *org;
  bs_job_options job;
} S_opts;

typedef struct S_bag {
  const S_opts *o;
  bs_lang lang;
  bs_arena arena;         /* strings of documents and messages */
  bs_diags diags;         /* problems of documents and writes */
  bs_vec docs;            /* S_doc */
  bs_vec files;           /* S_file: the payload */
  bs_vec tags;            /* S_file: tag files */
  bs_vec left;            /* S_left: sources of the batch without a PDF */
  xmlHashTablePtr images; /* bag path -> S_file (arena): images packed */
  bool have_log;          /* a batch log was found */
  char *tmp;              /* the temporary folder (malloc'd) */
  int fd;                 /* its descriptor, -1 before it exists */
  struct stat st;         /* its identity */
  long long octets;       /* payload bytes */
} S_bag;

/* Write one file of the bag, from memory (`data`, `len`) or copied from
 * the descriptor `in`, hashing exactly what is written; its record goes to
 * `list` (and to *out when not NULL).  Files are flushed all at once before
 * the bag is renamed into place (S_finish).  Returns 0 or an errno value
 * (reported). */
static int
S_put(S_bag *b, const char *rel, const void *data, size_t len, int in,
      bs_vec *list, S_file *out)
{
  int why = 0;
  int fd = bs_bag_create(b->fd, rel, &why);
  bs_sha256 c;
  bs_sha256_init(&c);
  long long total = 0;
  int rc = fd < 0 ? why : 0, read_rc = 0;
  unsigned char *buf = in >= 0 && !rc ? bs_xmalloc(1 << 18) : NULL;
  while (!rc && !read_rc) {
    const unsigned char *p;
    size_t n;
    if (in >= 0) {
      ssize_t r = read(in, buf, 1 << 18);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0) {
        read_rc = errno;
        break;
      }
      p = buf;
      n = (size_t)r;
    } else {
      p = (const unsigned char *)data + total;
      n = len - (size_t)total;
    }
    if (n == 0)
      break;
    bs_sha256_update(&c, p, n);
    for (size_t off = 0; off < n && !rc;) {
      ssize_t w = write(fd, p + off, n - off);
      if (w < 0 && errno != EINTR)
        rc = errno;
      else if (w > 0)
        off += (size_t)w;
    }
    total += (long long)n;
  }
  free(buf);
  if (fd >= 0 && close(fd) != 0 && !rc)
    rc = errno;
  const char *at = bs_arena_printf(&b->arena, "%s/%s", b->tmp, rel);
  if (read_rc)
    bs_diag(&b->diags, BS_ERROR, BS_D_IO_READ, NULL, 0, 0, rel,
            strerror(read_rc));
  else if (rc)
    bs_diag(&b->diags, BS_ERROR, BS_D_IO_WRITE, NULL, 0, 0, at,
            bs_bag_reason(rc, b->lang));
  if (rc || read_rc)
    return rc ? rc : read_rc;
  unsigned char d[32];
  bs_sha256_final(&c, d);
  S_file f;
  f.path = strdup(rel);
  bs_sha256_hex(d, f.sha);
  f.size = total;
  if (out)
    *out = f;
  bs_vec_push(list, &f);
  return 0;
}

/* Open an input to copy: a regular file, never waited on (O_NONBLOCK: a
 * FIFO named in a stamp does not hang the archive), a link at its last
 * step refused when `nofollow`.  Returns the descriptor, or -1 with the
 * problem reported. */
static int
S_open_input(S_bag *b, const char *path, bool nofollow, struct stat *st)
{
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC |
                          (nofollow ? O_NOFOLLOW : 0));
  int e = fd < 0 ? errno : 0;
  if (fd >= 0 && (fstat(fd, st) != 0 || !S_ISREG(st->st_mode))) {
    e = S_ISDIR(st->st_mode) ? EISDIR : EINVAL;
    close(fd);
    fd = -1;
  }
  if (fd < 0) {
    bs_diag(&b->diags, BS_ERROR, BS_D_IO_READ, path, 0, 0, path,
            e == EINVAL  ? bs_bag_reason(BS_BAG_IS_SPECIAL, b->lang)
            : e == ELOOP ? bs_bag_reason(BS_BAG_IS_LINK, b->lang)
                         : strerror(e));
    return -1;
  }
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0)
    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  return fd;
}

/* ------------------------------------------------------------------ */
/* What the batch vouches for                                           */

static int
S_cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.pdf below OUTDIR, hidden names (banshi's state) skipped; the
 * names in the arena. */
static void
S_find_pdfs(bs_arena *a, const char *outdir, const char *rel, bs_vec *out,
            int depth)
{
  const char *dir = *rel ? bs_path_join(a, outdir, rel) : outdir;
  DIR *dh = opendir(dir);
  if (!dh)
    return;
  struct dirent *e;
  while ((e = readdir(dh)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    char *sub =
        *rel ? bs_path_join(a, rel, e->d_name) : bs_arena_strdup(a, e->d_name);
    struct stat st;
    size_t n = strlen(e->d_name);
    if (fstatat(dirfd(dh), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
      continue;
    if (S_ISDIR(st.st_mode) && depth < 64)
      S_find_pdfs(a, outdir, sub, out, depth + 1);
    else if (S_ISREG(st.st_mode) && n > 4 &&
             strcmp(e->d_name + n - 4, ".pdf") == 0)
      bs_vec_push(out, &sub);
  }
  closedir(dh);
}

/* A stamp is untrusted input: whoever can write OUTDIR can write one.  Its
 * source must be an absolute path, as batch writes it, and its image names
 * must stay below the source's folder, so that none can place a file
 * outside the bag.  False with the problem reported. */
static bool
S_stamp_usable(S_bag *b, const char *pdf, const bs_stamp *st)
{
  bool ok = true;
  if (st->source[0] != '/') {
    bs_diag(&b->diags, BS_ERROR, BS_D_ARCHIVE_RECORD, pdf, 0, 0, pdf);
    ok = false;
  }
  for (int i = 0; i < st->nimages; i++) {
    if (!bs_bag_path_ok(st->images[i].src)) {
      bs_diag(&b->diags, BS_ERROR, BS_D_ARCHIVE_IMAGE_PATH, pdf, 0, 0, pdf,
              st->images[i].src);
      ok = false;
    }
  }
  return ok;
}

/* Every PDF of OUTDIR with a usable stamp becomes a document to pack. */
static void
S_collect(S_bag *b)
{
  const char *outdir = b->o->outdir;
  bs_vec pdfs = BS_VEC_INIT(char *);
  S_find_pdfs(&b->arena, outdir, "", &pdfs, 0);
  if (pdfs.len > 1)
    qsort(pdfs.data, pdfs.len, sizeof(char *), S_cmp_str);
  for (size_t i = 0; i < pdfs.len; i++) {
    char *rel = ((char **)pdfs.data)[i];
    S_doc doc;
    memset(&doc, 0, sizeof doc);
    char *pdf = bs_path_join(&b->arena, outdir, rel);
    char *stamp = bs_stamp_path(outdir, rel);
    if (bs_stamp_read(stamp, &doc.stamp) != 0) {
      bs_diag(&b->diags, BS_ERROR, BS_D_ARCHIVE_RECORD, pdf, 0, 0, pdf);
      bs_stamp_free(&doc.stamp);
    } else if (!S_stamp_usable(b, pdf, &doc.stamp)) {
      bs_stamp_free(&doc.stamp);
    } else {
      doc.rel = rel;
      doc.base = bs_arena_strndup(&b->arena, rel, strlen(rel) - 4);
      bs_vec_push(&b->docs, &doc);
    }
    free(stamp);
  }
  bs_vec_free(&pdfs);
}

/* ------------------------------------------------------------------ */
/* Sources the batch could not render                                   */

typedef struct S_logrec {
  char *key;   /* the source's real path, else as written (malloc'd) */
  size_t seq;  /* order read: later records are newer */
  S_left left; /* strings in the bag's arena; status NULL when ok */
} S_logrec;

static int
S_cmp_logrec(const void *pa, const void *pb)
{
  const S_logrec *a = pa, *b = pb;
  int c = strcmp(a->key, b->key);
  return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

/* Jansson's functions that S_read_log calls, with the header's
 * prototypes (json_decref is inline over json_delete). */
typedef struct S_json_fns {
  __typeof__(json_loads) *json_loads;
  __typeof__(json_object_get) *json_object_get;
  __typeof__(json_string_value) *json_string_value;
  __typeof__(json_array_size) *json_array_size;
  __typeof__(json_array_get) *json_array_get;
  __typeof__(json_delete) *json_delete;
} S_json_fns;

static S_json_fns S_j;
static const bs_dynsym S_json_syms[] = {
    BS_DYNSYM(S_json_fns, json_loads),
    BS_DYNSYM(S_json_fns, json_object_get),
    BS_DYNSYM(S_json_fns, json_string_value),
    BS_DYNSYM(S_json_fns, json_array_size),
    BS_DYNSYM(S_json_fns, json_array_get),
    BS_DYNSYM(S_json_fns, json_delete),
};
static bs_dynlib S_json_lib =
    BS_DYNLIB(BS_SONAME_JANSSON, S_json_syms, &S_j);

/* Add the records of one log (JSON Lines, batch.h) to `recs`. */
static void
S_read_log(S_bag *b, const char *path, const char *name, bs_vec *recs)
{
  if (!bs_dynlib_load(&S_json_lib)) {
    bs_diag(&b->diags, BS_ERROR, BS_D_LIBRARY, path, 0, 0, BS_SONAME_JANSSON,
            b->lang == BS_LANG_EN ? "reading batch logs" : "读取批处理日志",
            S_json_lib.why);
    return;
  }
  /* checked like every input: a FIFO planted at a log's name never
   * blocks the archive */
  struct stat st;
  int fd = bs_input_open(path, 0, &st);
  FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
  if (!f) {
    if (fd >= 0)
      close(fd);
    return;
  }
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, f) >= 0) {
    json_t *j = S_j.json_loads(line, JSON_REJECT_DUPLICATES, NULL);
    const char *source =
        S_j.json_string_value(S_j.json_object_get(j, "source"));
    const char *output =
        S_j.json_string_value(S_j.json_object_get(j, "output"));
    const char *status =
        S_j.json_string_value(S_j.json_object_get(j, "status"));
    if (source && output && status) {
      S_logrec r;
      char *real = realpath(source, NULL);
      r.key = real ? real : strdup(source);
      r.seq = recs->len;
      bool bad = strcmp(status, "ok") != 0 && strcmp(status, "up-to-date") != 0;
      r.left.source = bs_arena_strdup(&b->arena, source);
      r.left.output = bs_arena_strdup(&b->arena, output);
      r.left.status = bad ? bs_arena_strdup(&b->arena, status) : NULL;
      r.left.log = name;
      r.left.problem = "";
      json_t *diags = S_j.json_object_get(j, "diagnostics");
      for (size_t i = 0; bad && i < S_j.json_array_size(diags); i++) {
        const char *t = S_j.json_string_value(S_j.json_array_get(diags, i));
        if (t && strstr(t, ": error: ")) {
          r.left.problem = bs_arena_strdup(&b->arena, t);
          break;
        }
      }
      bs_vec_push(recs, &r);
    }
    if (j)
      S_j.json_delete(j); /* json_decref of the only reference */
  }
  free(line);
  fclose(f);
}

typedef struct S_logfile {
  char *path, *name; /* arena */
  struct timespec mtime;
} S_logfile;

static int
S_cmp_logfile(const void *pa, const void *pb)
{
  const S_logfile *a = pa, *b = pb;
  if (a->mtime.tv_sec != b->mtime.tv_sec)
    return a->mtime.tv_sec < b->mtime.tv_sec ? -1 : 1;
  if (a->mtime.tv_nsec != b->mtime.tv_nsec)
    return a->mtime.tv_nsec < b->mtime.tv_nsec ? -1 : 1;
  return strcmp(a->path, b->path);
}

static int
S_cmp_source(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, ((const S_doc *)b)->stamp.source);
}

static int
S_cmp_doc_rel(const void *a, const void *b)
{
  return strcmp(((const S_doc *)a)->rel, ((const S_doc *)b)->rel);
}

static int
S_cmp_doc_source(const void *a, const void *b)
{
  return strcmp(((const S_doc *)a)->stamp.source,
                ((const S_doc *)b)->stamp.source);
}

/* The sources that the batch logs of OUTDIR (banshi-batch.jsonl and the
 * shards' banshi-batch.K-of-N.jsonl) record as not rendered, by their
 * latest record, and that no packed document was made from. */
static void
S_left_out(S_bag *b)
{
  const char *outdir = b->o->outdir;
  DIR *dh = opendir(outdir);
  if (!dh)
    return;
  bs_vec logs = BS_VEC_INIT(S_logfile);
  struct dirent *e;
  while ((e = readdir(dh)) != NULL) {
    size_t n = strlen(e->d_name);
    struct stat st;
    if (strncmp(e->d_name, "banshi-batch", 12) != 0 || n < 18 ||
        strcmp(e->d_name + n - 6, ".jsonl") != 0)
      continue;
    S_logfile l;
    l.path = bs_path_join(&b->arena, outdir, e->d_name);
    l.name = bs_arena_strdup(&b->arena, e->d_name);
    if (stat(l.path, &st) == 0 && S_ISREG(st.st_mode)) {
      l.mtime = st.st_mtim;
      bs_vec_push(&logs, &l);
    }
  }
  closedir(dh);
  b->have_log = logs.len > 0;
  /* oldest first, so that a source's latest record comes last */
  if (logs.len > 1)
    qsort(logs.data, logs.len, sizeof(S_logfile), S_cmp_logfile);
  bs_vec recs = BS_VEC_INIT(S_logrec);
  for (size_t i = 0; i < logs.len; i++) {
    S_logfile *l = (S_logfile *)logs.data + i;
    S_read_log(b, l->path, l->name, &recs);
  }
  bs_vec_free(&logs);
  S_logrec *r = recs.data;
  if (recs.len > 1)
    qsort(r, recs.len, sizeof *r, S_cmp_logrec);
  if (b->docs.len > 1)
    qsort(b->docs.data, b->docs.len, sizeof(S_doc), S_cmp_doc_source);
  for (size_t i = 0; i < recs.len; i++) {
    bool latest = i + 1 == recs.len || strcmp(r[i].key, r[i + 1].key) != 0;
    if (latest && r[i].left.status &&
        (!b->docs.len || !bsearch(&r[i].key, b->docs.data, b->docs.len,
                                  sizeof(S_doc), S_cmp_source))) {
      bs_vec_push(&b->left, &r[i].left);
      bs_diag(&b->diags, BS_WARNING, BS_D_ARCHIVE_LEFT_OUT, r[i].left.source, 0,
              0, r[i].left.log, r[i].left.status);
    }
    free(r[i].key);
  }
  bs_vec_free(&recs);
}

/* ------------------------------------------------------------------ */
/* The temporary folder                                                 */

/* Remove bags half-built by killed runs of this bag name. */
static void
S_sweep(S_bag *b)
{
  const char *bag = b->o->bag;
  char *parent = bs_path_dir(&b->arena, bag);
  const char *slash = strrchr(bag, '/');
  const char *name = slash ? slash + 1 : bag;
  DIR *dh = opendir(parent);
  struct dirent *e;
  while (dh && (e = readdir(dh)) != NULL) {
    char *final;
    long pid;
    if (bs_temp_parse(e->d_name, &final, &pid)) {
      if (strcmp(final, name) == 0 && pid != (long)getpid() &&
          kill((pid_t)pid, 0) != 0 && errno == ESRCH)
        bs_remove_tree(bs_path_join(&b->arena, parent, e->d_name));
      free(final);
    }
  }
  if (dh)
    closedir(dh);
}

/* Make the temporary folder and open it.  mkdir(2) fails on any existing
 * name, a link planted there included; O_NOFOLLOW and the owner check
 * refuse a folder swapped in between.  False with the problem reported. */
static bool
S_open_tmp(S_bag *b)
{
  S_sweep(b);
  b->tmp = bs_temp_name(b->o->bag, (long)getpid());
  int e = 0;
  if (mkdir(b->tmp, 0777) != 0) {
    e = errno;
  } else {
    b->fd = open(b->tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (b->fd < 0)
      e = errno == ELOOP ? BS_BAG_IS_LINK : errno;
    else if (fstat(b->fd, &b->st) != 0 || b->st.st_uid != geteuid())
      e = EPERM;
  }
  if (e) {
    bs_diag(&b->diags, BS_ERROR, BS_D_IO_WRITE, NULL, 0, 0, b->tmp,
            bs_bag_reason(e, b->lang));
    if (b->fd >= 0)
      close(b->fd);
    b->fd = -1;
    return false;
  }
  return true;
}

/* True if `path` is the temporary folder itself. */
static bool
S_is_tmp(const S_bag *b, const char *path, bool follow)
{
  struct stat st;
  int r = follow ? stat(path, &st) : lstat(path, &st);
  return r == 0 && st.st_dev == b->st.st_dev && st.st_ino == b->st.st_ino;
}

/* A path that leads to the temporary folder whatever happens to its name,
 * for the renderer, which opens files by path: the descriptor's entry in
 * /proc, else the name while it still is that folder. */
static const char *
S_tmp_path(S_bag *b)
{
  char *proc = bs_arena_printf(&b->arena, "/proc/self/fd/%d", b->fd);
  if (S_is_tmp(b, proc, true))
    return proc;
  return S_is_tmp(b, b->tmp, false) ? b->tmp : NULL;
}

/* ------------------------------------------------------------------ */
/* Documents                                                            */

/* The PDF, as the stamp recorded it. */
static bool
S_pack_pdf(S_bag *b, S_doc *d)
{
  const char *from = bs_path_join(&b->arena, b->o->outdir, d->rel);
  struct stat st;
  int in = S_open_input(b, from, true, &st);
  if (in < 0)
    return false;
  char *rel = bs_arena_printf(&b->arena, "data/documents/%s", d->rel);
  int rc = S_put(b, rel, NULL, 0, in, &b->files, &d->pdf);
  close(in);
  if (rc)
    return false;
  if (d->pdf.size != d->stamp.bytes) {
    bs_diag(&b->diags, BS_ERROR, BS_D_ARCHIVE_CHANGED, from, 0, 0, from);
    return false;
  }
  /* the copy's digest against the stamp's: a PDF damaged in place, its
   * size kept, is not archived (banshi batch renders it again) */
  if (!d->stamp.pdf_sha[0] || strcmp(d->pdf.sha, d->stamp.pdf_sha) != 0) {
    bs_diag(&b->diags, BS_ERROR, BS_D_PDF_CHANGED, from, 0, 0);
    return false;
  }
  return true;
}

/* The OFD beside the PDF, when the batch wrote one (--format pdf,ofd).
 * The batch's stamp records the PDF only, so the OFD is vouched for by its
 * presence and by the digest taken as it is copied. */
static bool
S_pack_ofd(S_bag *b, S_doc *d)
{
  size_t n = strlen(d->rel);
  char *ofd = bs_arena_printf(&b->arena, "%.*s.ofd", (int)(n - 4), d->rel);
  const char *from = bs_path_join(&b->arena, b->o->outdir, ofd);
  struct stat st;
  if (lstat(from, &st) != 0 && errno == ENOENT)
    return true;
  int in = S_open_input(b, from, true, &st);
  if (in < 0)
    return false;
  char *rel = bs_arena_printf(&b->arena, "data/documents/%s", ofd);
  int rc = S_put(b, rel, NULL, 0, in, &b->files, &d->ofd);
  close(in);
  return rc == 0;
}

/* The source: read once, and the same bytes hashed, compared with the
 * stamp, written to the bag and parsed for the record. */
static bool
S_pack_source(S_bag *b, S_doc *d)
{
  const char *path = d->stamp.source;
  struct stat st;
  int in = S_open_input(b, path, false, &st);
  if (in < 0)
    return false;
  unsigned char *buf = NULL;
  size_t len = 0;
  int e = 0;
  if ((size_t)st.st_size > BS_MAX_SOURCE_BYTES) {
    e = EFBIG;
  } else {
    buf = bs_xmalloc((size_t)st.st_size + 1);
    for (;;) {
      ssize_t r = read(in, buf + len, (size_t)st.st_size + 1 - len);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        e = errno;
      if (r <= 0)
        break;
      len += (size_t)r;
      if (len > (size_t)st.st_size) {
        e = EAGAIN; /* it grew while read: changed, reported below */
        break;
      }
    }
  }
  close(in);
  char hex[BS_SHA256_HEX] = "";
  if (!e)
    bs_sha256_buf(buf, len, hex);
  bool ok = false;
  if (e && e != EAGAIN) {
    bs_diag(&b->diags, BS_ERROR, BS_D_IO_READ, path, 0, 0, path, strerror(e));
  } else if (e || strcmp(hex, d->stamp.source_sha) != 0) {
    bs_diag(&b->diags, BS_ERROR, BS_D_ARCHIVE_CHANGED, path, 0, 0, path);
  } else {
    char *rel = bs_arena_printf(&b->arena, "data/documents/%s.xml", d->base);
    ok = S_put(b, rel, buf, len, -1, &b->files, &d->src) == 0;
  }
  if (ok) {
    /* a report made as published is read as published */
    bs_parse_options po = {0};
    po.as_published = d->stamp.as_published;
    bs_document *src = bs_parse_memory(path, buf, len, &po, b->lang);
    if (src->diags.errors == 0) {
      bs_normalize_options no = {d->stamp.normalize};
      bs_normalize(src, &no);
    }
    ok = src->diags.errors == 0;
    if (!ok) {
      /* it rendered once with these bytes: only a changed schema or
       * banshi gets here; report what the parser says */
      const bs_diagnostic *it = src->diags.items.data;
      for (size_t i = 0; i < src->diags.items.len; i++)
        if (it[i].severity == BS_ERROR)
          bs_diag_text(&b->diags, BS_ERROR, it[i].code, it[i].file, it[i].line,
                       it[i].col, "%s", it[i].message);
    } else {
      bs_arena *a = &b->arena;
      const bs_meta *m = &src->meta;
      d->title = bs_arena_strdup(a, m->title ? m->title : "");
      d->issuer = bs_arena_strdup(a, m->issuer ? m->issuer : "");
      d->number = m->number ? bs_arena_strdup(a, m->number) : NULL;
      d->subject = m->subject ? bs_arena_strdup(a, m->subject) : NULL;
      d->retention = m->retention ? bs_arena_strdup(a, m->retention) : NULL;
      d->lang = m->lang ? bs_arena_strdup(a, m->lang) : NULL;
      int nk = 0;
      while (m->keywords && m->keywords[nk])
        nk++;
      d->keywords = bs_arena_alloc(a, (size_t)(nk + 1) * sizeof(char *));
      for (int i = 0; i < nk; i++)
        d->keywords[i] = bs_arena_strdup(a, m->keywords[i]);
      d->year = m->year;
      d->y = m->date_y;
      d->m = m->date_m;
      d->d = m->date_d;
    }
    bs_document_free(src);
  }
  free(buf);
  return ok;
}

/* The images of its figures beside the source copy, where its figures
 * find them: copied once (sources of one folder share their images), two
 * different images for one bag path are an error. */
static bool
S_pack_images(S_bag *b, S_doc *d)
{
  d->images = bs_arena_alloc(&b->arena,
                             (size_t)(d->stamp.nimages + 1) * sizeof(S_file));
  const char *slash = strrchr(d->rel, '/');
  const char *srcdir = bs_path_dir(&b->arena, d->stamp.source);
  bool ok = true;
  for (int k = 0; k < d->stamp.nimages; k++) {
    const bs_stamp_image *im = &d->stamp.images[k];
    char *rel = bs_arena_printf(&b->arena, "data/documents/%.*s%s%s",
                                slash ? (int)(slash - d->rel) : 0, d->rel,
                                slash ? "/" : "", im->src);
    const char *from = bs_path_join(&b->arena, srcdir, im->src);
    const S_file *same = xmlHashLookup(b->images, BAD_CAST rel);
    if (same && strcmp(same->sha, im->sha) != 0) {
      bs_diag(&b->diags, BS_ERROR, BS_D_BATCH_CLASH, from, 0, 0, rel,
              d->stamp.source);
      ok = false;
      continue;
    }
    if (same) {
      d->images[d->nimages++] = *same;
      continue;
    }
    struct stat st;
    int in = S_open_input(b, from, false, &st);
    if (in < 0) {
      ok = false;
      continue;
    }
    S_file f;
    int rc = S_put(b, rel, NULL, 0, in, &b->files, &f);
    close(in);
    if (rc) {
      ok = false;
    } else if (strcmp(f.sha, im->sha) != 0) {
      bs_diag(&b->diags, BS_ERROR, BS_D_ARCHIVE_CHANGED, from, 0, 0, from);
      ok = false;
    } else {
      S_file *kept = bs_arena_alloc(&b->arena, sizeof *kept);
      *kept = f;
      xmlHashAddEntry(b->images, BAD_CAST rel, kept);
      d->images[d->nimages++] = f;
    }
  }
  return ok;
}

/* ------------------------------------------------------------------ */
/* XML: metadata records and the index source                           */

/* An XML text being written by libxml2's writer into a buffer; `ok`
 * turns false at the first failure (the writer's only failure is memory). */
typedef struct S_xml {
  xmlBufferPtr buf;
  xmlTextWriterPtr w;
  bool ok;
} S_xml;

static void
S_xml_open(S_xml *x)
{
  x->buf = xmlBufferCreate();
  x->w = x->buf ? xmlNewTextWriterMemory(x->buf, 0) : NULL;
  x->ok = x->w != NULL;
  if (x->ok)
    x->ok = xmlTextWriterSetIndent(x->w, 1) >= 0 &&
            xmlTextWriterSetIndentString(x->w, BAD_CAST "  ") >= 0;
  if (x->ok)
    x->ok = xmlTextWriterStartDocument(x->w, "1.0", "UTF-8", NULL) >= 0;
}

static void
S_xml_start(S_xml *x, const char *name)
{
  if (x->ok)
    x->ok = xmlTextWriterStartElement(x->w, BAD_CAST name) >= 0;
}

static void
S_xml_end(S_xml *x)
{
  if (x->ok)
    x->ok = xmlTextWriterEndElement(x->w) >= 0;
}

static void
S_xml_attr(S_xml *x, const char *name, const char *value)
{
  if (x->ok)
    x->ok =
        xmlTextWriterWriteAttribute(x->w, BAD_CAST name, BAD_CAST value) >= 0;
}

static void
S_xml_text(S_xml *x, const char *text)
{
  if (x->ok && text)
    x->ok = xmlTextWriterWriteString(x->w, BAD_CAST text) >= 0;
}

/* <name>value</name>, left out when the value is missing or empty (DA/T
 * 46 records hold only what is known). */
static void
S_xml_leaf(S_xml *x, const char *name, const char *value)
{
  if (!value || !*value)
    return;
  S_xml_start(x, name);
  S_xml_text(x, value);
  S_xml_end(x);
}

static void
S_xml_comment(S_xml *x, const char *text)
{
  if (x->ok)
    x->ok = xmlTextWriterWriteComment(x->w, BAD_CAST text) >= 0;
}

/* Finish the document: its text (malloc'd) and length, or NULL after a
 * failure. */
static char *
S_xml_close(S_xml *x, size_t *len)
{
  if (x->ok)
    x->ok = xmlTextWriterEndDocument(x->w) >= 0;
  xmlFreeTextWriter(x->w); /* flushes into the buffer */
  char *text = NULL;
  if (x->ok && x->buf) {
    *len = (size_t)xmlBufferLength(x->buf);
    text = bs_xmalloc(*len + 1);
    memcpy(text, xmlBufferContent(x->buf), *len);
    text[*len] = '\0';
  }
  xmlBufferFree(x->buf);
  return text;
}

/* A metadata record is a list of sections, each a function: a new section
 * (a check of the report's figures, a signature) is one more function in
 * S_record_sections. */
typedef void (*S_section)(S_xml *x, const S_doc *d);

static void
S_rec_origin(S_xml *x, const S_doc *d)
{
  S_xml_leaf(x, "聚合层次", "文件");
  S_xml_start(x, "来源");
  S_xml_leaf(x, "立档单位名称", d->issuer);
  S_xml_end(x);
  S_xml_leaf(x, "电子文件号", d->base);
}

static void
S_rec_archival_code(S_xml *x, const S_doc *d)
{
  if (!d->year && !d->retention)
    return;
  char year[16];
  snprintf(year, sizeof year, "%d", d->year);
  S_xml_start(x, "档号");
  S_xml_leaf(x, "年度", d->year ? year : NULL);
  S_xml_leaf(x, "保管期限", d->retention);
  S_xml_end(x);
}

static void
S_rec_content(S_xml *x, const S_doc *d)
{
  char date[16];
  snprintf(date, sizeof date, "%04d-%02d-%02d", d->y, d->m, d->d);
  S_xml_start(x, "内容描述");
  S_xml_leaf(x, "题名", d->title);
  for (int i = 0; d->keywords && d->keywords[i]; i++)
    S_xml_leaf(x, "关键词", d->keywords[i]);
  S_xml_leaf(x, "摘要", d->subject);
  S_xml_leaf(x, "文件编号", d->number);
  S_xml_leaf(x, "责任者", d->issuer);
  S_xml_leaf(x, "日期", date);
  S_xml_end(x);
}

static void
S_rec_form(S_xml *x, const S_doc *d)
{
  char pages[16];
  snprintf(pages, sizeof pages, "%d", d->stamp.pages);
  S_xml_start(x, "形式特征");
  S_xml_leaf(x, "页数", pages);
  S_xml_leaf(x, "语种",
             !d->lang || strncmp(d->lang, "zh", 2) == 0 ? "汉语" : d->lang);
  S_xml_end(x);
}

static void
S_rec_file(S_xml *x, const S_file *f, const char *format)
{
  char size[32];
  snprintf(size, sizeof size, "%lld", f->size);
  S_xml_start(x, "文档");
  S_xml_leaf(x, "计算机文件名", f->path);
  S_xml_leaf(x, "计算机文件大小", size);
  S_xml_leaf(x, "格式信息", format);
  S_xml_start(x, "数字摘要");
  S_xml_attr(x, "算法", "SHA-256");
  S_xml_text(x, f->sha);
  S_xml_end(x);
  S_xml_end(x);
}

/* 格式信息 of a document's PDF: the PDF/A part and conformance its batch
 * wrote, from the stamp.  A stamp older than that field counts as 1b, the
 * default then (a 3b batch of that time is recorded as 1b until it is
 * rendered again). */
static const char *
S_pdf_format(const bs_stamp *st)
{
  switch (st->pdfa) {
  case 2:
    return "PDF/A-2a（ISO 19005-2:2011，带结构标签）";
  case 3:
    return st->tagged ? "PDF/A-3b（ISO 19005-3:2012，带结构标签）"
                      : "PDF/A-3b（ISO 19005-3:2012）";
  default:
    return st->tagged ? "PDF/A-1b（GB/T 23286.1-2009，带结构标签）"
                      : "PDF/A-1b（GB/T 23286.1-2009）";
  }
}

static void
S_rec_files(S_xml *x, const S_doc *d)
{
  S_xml_start(x, "文件数据");
  S_rec_file(x, &d->pdf, S_pdf_format(&d->stamp));
  if (d->ofd.path)
    S_rec_file(x, &d->ofd, "OFD-A（GB/T 33190-2016）");
  S_rec_file(x, &d->src, "XML（banshi 源文件）");
  for (int i = 0; i < d->nimages; i++) {
    const char *ext = strrchr(d->images[i].path, '.');
    bool jpeg =
        ext && (strcasecmp(ext, ".jpg") == 0 || strcasecmp(ext, ".jpeg") == 0);
    S_rec_file(x, &d->images[i], jpeg ? "JPEG（图片）" : "PNG（图片）");
  }
  S_xml_end(x);
}

static void
S_rec_system(S_xml *x, const S_doc *d)
{
  (void)d;
  S_xml_leaf(x, "生成方式", "原生");
  S_xml_leaf(x, "信息系统描述", BANSHI_NAME " " BANSHI_VERSION);
}

/* The check of a report's figures (not a DA/T 46 element): what its
 * report type's rules found when the batch made the PDF, one <发现> per
 * finding with its location, so that a bag says which archived reports
 * were inconsistent.  Reports made --as-published say so: they were
 * typeset as issued, whatever was found. */
static void
S_rec_check(S_xml *x, const S_doc *d)
{
  if (!d->stamp.as_published && !d->stamp.nfindings)
    return;
  S_xml_start(x, "数据核查");
  S_xml_attr(x, "依据", "报告类型规则（勾稽关系、正文与表格）");
  S_xml_attr(x, "方式", d->stamp.as_published ? "按原样发布" : "严格");
  char n[64];
  snprintf(n, sizeof n, "%d", d->stamp.nfindings);
  S_xml_leaf(x, "结论", d->stamp.nfindings ? "发现不一致" : "未发现不一致");
  S_xml_leaf(x, "发现数", n);
  for (int i = 0; i < d->stamp.nfindings; i++) {
    /* "file:line:col: severity: message" */
    const char *f = d->stamp.findings[i];
    const char *sev = strstr(f, ": warning: ");
    const char *err = strstr(f, ": error: ");
    const char *cut = sev && (!err || sev < err) ? sev : err;
    S_xml_start(x, "发现");
    if (cut) {
      char *loc = strndup(f, (size_t)(cut - f));
      const char *base = strrchr(loc, '/');
      S_xml_attr(x, "位置", base ? base + 1 : loc);
      S_xml_attr(x, "级别", cut == sev ? "warning" : "error");
      free(loc);
      S_xml_text(x, cut + (cut == sev ? 11 : 9));
    } else {
      S_xml_text(x, f);
    }
    S_xml_end(x);
  }
  S_xml_end(x);
}

static const S_section S_record_sections[] = {
    S_rec_origin, S_rec_archival_code, S_rec_content, S_rec_form,
    S_rec_files,  S_rec_check,         S_rec_system,
};

/* The metadata record of one document, DA/T 46-2009 element names; NULL
 * when out of memory. */
static char *
S_record(const S_doc *d, size_t *len)
{
  S_xml x;
  S_xml_open(&x);
  S_xml_comment(&x, " 文书类电子文件元数据：元素名称依 DA/T 46-2009（适用者）。"
                    "由 banshi 生成。 ");
  S_xml_start(&x, "电子文件元数据");
  for (size_t i = 0; i < sizeof S_record_sections / sizeof *S_record_sections;
       i++)
    S_record_sections[i](&x, d);
  S_xml_end(&x);
  return S_xml_close(&x, len);
}

/* Write a text made in memory into the bag; NULL text means it could not
 * be made (out of memory).  Returns 0 or an errno value (reported). */
static int
S_put_text(S_bag *b, const char *rel, char *text, size_t len, bs_vec *list)
{
  int rc = ENOMEM;
  if (!text)
    bs_diag(&b->diags, BS_ERROR, BS_D_IO_WRITE, NULL, 0, 0,
            bs_arena_printf(&b->arena, "%s/%s", b->tmp, rel), strerror(rc));
  else
    rc = S_put(b, rel, text, len, -1, list, NULL);
  free(text);
  return rc;
}

/* One document: PDF, source, images, record.  Every problem is reported;
 * false if there was one. */
static bool
S_pack_doc(S_bag *b, S_doc *d)
{
  bool ok = S_pack_pdf(b, d);
  ok = S_pack_ofd(b, d) && ok;
  ok = S_pack_source(b, d) && ok;
  ok = S_pack_images(b, d) && ok;
  if (ok) {
    size_t len = 0;
    char *rec = S_record(d, &len);
    char *rel = bs_arena_printf(&b->arena, "data/metadata/%s.xml", d->base);
    ok = S_put_text(b, rel, rec, len, &b->files) == 0;
  }
  return ok;
}

/* ------------------------------------------------------------------ */
/* The index                                                            */

/* libicui18n's collator, with the header's prototypes and ICU's
 * versioned names (ucol_close is ucol_close_72 in ICU 72). */
typedef struct S_coll_fns {
  __typeof__(ucol_openRules) *ucol_openRules;
  __typeof__(ucol_strcollUTF8) *ucol_strcollUTF8;
  __typeof__(ucol_close) *ucol_close;
} S_coll_fns;

static S_coll_fns S_icu;
static const bs_dynsym S_coll_syms[] = {
    BS_DYNSYM(S_coll_fns, ucol_openRules),
    BS_DYNSYM(S_coll_fns, ucol_strcollUTF8),
    BS_DYNSYM(S_coll_fns, ucol_close),
};
static bs_dynlib S_coll_lib =
    BS_DYNLIB(BS_SONAME_ICUI18N, S_coll_syms, &S_icu);

/* The index's collator: ICU's pinyin order for Chinese, tailored for the
 * place names read otherwise than their characters' most frequent reading
 * (collation/pinyin-places.txt, ICU rule syntax).  NULL with the problem
 * reported. */
static UCollator *
S_collator(S_bag *b)
{
  const char *path =
      bs_data_path(&b->arena, BS_DATA_COLLATION, "pinyin-places.txt");
  if (!bs_dynlib_load(&S_coll_lib)) {
    bs_diag(&b->diags, BS_ERROR, BS_D_LIBRARY, path, 0, 0, BS_SONAME_ICUI18N,
            b->lang == BS_LANG_EN ? "sorting the index in pinyin order"
                                  : "按拼音排序索引",
            S_coll_lib.why);
    return NULL;
  }
  size_t len = 0;
  char *text = (char *)bs_read_file(path, (size_t)1 << 20, &len);
  if (!text) {
    bs_diag(&b->diags, BS_ERROR, BS_D_IO_READ, path, 0, 0, path,
            strerror(errno));
    return NULL;
  }
  UErrorCode st = U_ZERO_ERROR;
  int32_t ulen = 0;
  u_strFromUTF8(NULL, 0, &ulen, text, (int32_t)len, &st);
  UChar *u = bs_xmalloc(((size_t)ulen + 1) * sizeof(UChar));
  st = U_ZERO_ERROR;
  u_strFromUTF8(u, ulen + 1, &ulen, text, (int32_t)len, &st);
  free(text);
  UCollator *coll = NULL;
  UParseError pe;
  memset(&pe, 0, sizeof pe);
  if (U_SUCCESS(st))
    coll = S_icu.ucol_openRules(u, ulen, UCOL_DEFAULT, UCOL_DEFAULT_STRENGTH,
                                &pe, &st);
  if (U_FAILURE(st)) {
    /* ICU gives an offset in UTF-16 units: the line is counted here */
    uint32_t line = 1;
    for (int32_t i = 0; i < pe.offset && i < ulen; i++)
      line += u[i] == '\n';
    char ctx[64] = "";
    u_strToUTF8(ctx, sizeof ctx - 1, NULL, pe.preContext, -1, &(UErrorCode){0});
    bs_diag(&b->diags, BS_ERROR, BS_D_COLLATION, path, line, 0,
            *ctx ? ctx : "-", u_errorName(st));
    coll = NULL;
  }
  free(u);
  return coll;
}

static int
S_cmp_doc(const void *pa, const void *pb, void *ctx)
{
  const S_doc *a = pa, *b = pb;
  UCollator *coll = ctx;
  UErrorCode st = U_ZERO_ERROR;
  UCollationResult r =
      S_icu.ucol_strcollUTF8(coll, a->issuer, -1, b->issuer, -1, &st);
  if (r != UCOL_EQUAL)
    return r == UCOL_LESS ? -1 : 1;
  int da = a->y * 10000 + a->m * 100 + a->d;
  int db = b->y * 10000 + b->m * 100 + b->d;
  if (da != db)
    return da < db ? -1 : 1;
  st = U_ZERO_ERROR;
  r = S_icu.ucol_strcollUTF8(coll, a->title, -1, b->title, -1, &st);
  if (r != UCOL_EQUAL)
    return r == UCOL_LESS ? -1 : 1;
  return strcmp(a->rel, b->rel);
}

/* A CSV field (RFC 4180), made harmless for spreadsheet programs: a cell
 * that starts with = + - @, a tab or a carriage return would be taken for
 * a formula (CSV injection), so it gets a leading apostrophe, as OWASP
 * recommends, and is quoted. */
static void
S_csv(FILE *f, const char *s)
{
  if (!s)
    s = "";
  bool formula = strchr("=+-@\t\r", s[0]) && s[0];
  if (!formula && !strpbrk(s, ",\"\r\n")) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  if (formula)
    fputc('\'', f);
  for (; *s; s++) {
    if (*s == '"')
      fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

/* A text built with stdio in memory (open_memstream). */
typedef struct S_text {
  char *text;
  size_t len;
  FILE *f;
} S_text;

static bool
S_text_open(S_text *t)
{
  t->text = NULL;
  t->len = 0;
  t->f = open_memstream(&t->text, &t->len);
  return t->f != NULL;
}

/* The text (malloc'd) or NULL when memory ran out. */
static char *
S_text_close(S_text *t)
{
  if (!t->f)
    return NULL;
  bool bad = ferror(t->f) != 0;
  if (fclose(t->f) != 0 || bad) {
    free(t->text);
    return NULL;
  }
  return t->text;
}

/* data/index.csv: UTF-8 with a byte order mark (so that spreadsheet
 * programs in Chinese locales do not read it as GBK), CRLF (RFC 4180). */
static char *
S_index_csv(S_bag *b, size_t *len)
{
  S_text t;
  if (!S_text_open(&t))
    return NULL;
  FILE *f = t.f;
  fputs("\xEF\xBB\xBF"
        "序号,责任者,题名,文件编号,日期,年度,保管期限,页数,文件,源文件,"
        "SHA-256\r\n",
        f);
  S_doc *docs = b->docs.data;
  for (size_t i = 0; i < b->docs.len; i++) {
    S_doc *d = &docs[i];
    fprintf(f, "%zu,", i + 1);
    S_csv(f, d->issuer);
    fputc(',', f);
    S_csv(f, d->title);
    fputc(',', f);
    S_csv(f, d->number);
    fprintf(f, ",%04d-%02d-%02d,", d->y, d->m, d->d);
    if (d->year)
      fprintf(f, "%d", d->year);
    fputc(',', f);
    S_csv(f, d->retention);
    fprintf(f, ",%d,", d->stamp.pages);
    S_csv(f, d->pdf.path);
    fputc(',', f);
    S_csv(f, d->src.path);
    fprintf(f, ",%s\r\n", d->pdf.sha);
  }
  char *text = S_text_close(&t);
  *len = t.len;
  return text;
}

/* data/left-out.csv: the sources of the batch that have no PDF. */
static char *
S_left_csv(S_bag *b, size_t *len)
{
  S_text t;
  if (!S_text_open(&t))
    return NULL;
  FILE *f = t.f;
  fputs("\xEF\xBB\xBF"
        "源文件,输出文件,结果,问题,日志\r\n",
        f);
  const S_left *l = b->left.data;
  for (size_t i = 0; i < b->left.len; i++) {
    S_csv(f, l[i].source);
    fputc(',', f);
    S_csv(f, l[i].output);
    fputc(',', f);
    S_csv(f, l[i].status);
    fputc(',', f);
    S_csv(f, l[i].problem);
    fputc(',', f);
    S_csv(f, l[i].log);
    fputs("\r\n", f);
  }
  char *text = S_text_close(&t);
  *len = t.len;
  return text;
}

static void
S_td(S_xml *x, const char *align, const char *text)
{
  S_xml_start(x, "td");
  if (align)
    S_xml_attr(x, "align", align);
  S_xml_text(x, text);
  S_xml_end(x);
}

/* data/index.xml: a core document with one table row per document. */
static char *
S_index_xml(S_bag *b, const char *date, size_t *len)
{
  static const char *const widths[] = {"7%",  "21%", "25%", "17%",
                                       "14%", "7%",  "9%"};
  static const char *const heads[] = {"序号", "责任者", "题名",    "文件编号",
                                      "日期", "页数",   "保管期限"};
  S_xml x;
  S_xml_open(&x);
  S_xml_start(&x, "document");
  S_xml_attr(&x, "version", "1");
  S_xml_attr(&x, "xml:lang", "zh-CN");
  S_xml_start(&x, "meta");
  S_xml_leaf(&x, "title", "归档文件目录");
  S_xml_leaf(&x, "issuer", b->o->org ? b->o->org : BANSHI_NAME);
  S_xml_leaf(&x, "date", date);
  S_xml_end(&x);
  S_xml_start(&x, "body");
  char n[32], p[32];
  char *lead = bs_arena_printf(&b->arena,
                               "本目录列出本包所收 %zu 份文件，按责任者名称的"
                               "汉语拼音排序；同一责任者按日期排列。",
                               b->docs.len);
  S_xml_leaf(&x, "p", lead);
  S_xml_start(&x, "table");
  S_xml_attr(&x, "size", "五号");
  S_xml_start(&x, "colgroup");
  for (int i = 0; i < 7; i++) {
    S_xml_start(&x, "col");
    S_xml_attr(&x, "width", widths[i]);
    S_xml_end(&x);
  }
  S_xml_end(&x);
  S_xml_start(&x, "thead");
  S_xml_start(&x, "tr");
  for (int i = 0; i < 7; i++)
    S_xml_leaf(&x, "th", heads[i]);
  S_xml_end(&x);
  S_xml_end(&x);
  S_xml_start(&x, "tbody");
  const S_doc *docs = b->docs.data;
  for (size_t i = 0; i < b->docs.len; i++) {
    const S_doc *d = &docs[i];
    char date_s[16];
    snprintf(n, sizeof n, "%zu", i + 1);
    snprintf(p, sizeof p, "%d", d->stamp.pages);
    snprintf(date_s, sizeof date_s, "%04d-%02d-%02d", d->y, d->m, d->d);
    S_xml_start(&x, "tr");
    S_td(&x, "center", n);
    S_td(&x, "left", d->issuer);
    S_td(&x, "left", d->title);
    S_td(&x, NULL, d->number);
    S_td(&x, "center", date_s);
    S_td(&x, "center", p);
    S_td(&x, "center", d->retention);
    S_xml_end(&x);
  }
  S_xml_end(&x); /* tbody */
  S_xml_end(&x); /* table */
  S_xml_end(&x); /* body */
  S_xml_end(&x); /* document */
  return S_xml_close(&x, len);
}

/* The Bagging-Date: the env's epoch (SOURCE_DATE_EPOCH, as UTC), else
 * today. */
static void
S_bag_date(const S_bag *b, char out[16])
{
  long long epoch = b->o->job.epoch;
  time_t t = epoch >= 0 ? (time_t)epoch : time(NULL);
  struct tm tm;
  if (epoch >= 0)
    gmtime_r(&t, &tm);
  else
    localtime_r(&t, &tm);
  strftime(out, 16, "%Y-%m-%d", &tm);
}

/* data/index.pdf, rendered by banshi from data/index.xml: a payload file
 * written by the PDF renderer, hashed after. */
static void
S_index_pdf(S_bag *b, FILE *err)
{
  const char *dir = S_tmp_path(b);
  if (!dir) {
    bs_diag(&b->diags, BS_ERROR, BS_D_IO_WRITE, NULL, 0, 0, b->tmp,
            bs_bag_reason(BS_BAG_IS_LINK, b->lang));
    return;
  }
  char *ix = bs_arena_printf(&b->arena, "%s/data/index.xml", dir);
  char *ip = bs_arena_printf(&b->arena, "%s/data/index.pdf", dir);
  bs_job_options jo = b->o->job;
  jo.normalize = false; /* the text is the sources' normalised text */
  bs_shared *sh = bs_shared_new(&jo);
  bs_job_result res;
  if (bs_job_run(sh, ix, ip, NULL, NULL, &res) != BS_STATUS_OK) {
    fputs(res.diagnostics, err);
    bs_diag(&b->diags, BS_ERROR, BS_D_IO_WRITE, NULL, 0, 0, "data/index.pdf",
            "");
  } else {
    int why;
    size_t at;
    int fd = bs_bag_open(b->fd, "data/index.pdf", &why, &at);
    S_file f;
    f.path = strdup("data/index.pdf");
    if (fd < 0 || bs_sha256_fd(fd, f.sha, &f.size) != 0) {
      bs_diag(&b->diags, BS_ERROR, BS_D_IO_READ, NULL, 0, 0, ip,
              fd < 0 ? bs_bag_reason(why, b->lang) : strerror(errno));
      free(f.path);
    } else {
      bs_vec_push(&b->files, &f);
    }
    if (fd >= 0)
      close(fd);
  }
  bs_job_result_free(&res);
  bs_shared_free(sh);
}

/* The index in pinyin order of the issuing bodies, as CSV, banshi source
 * and PDF/A, and the list of sources left out. */
static void
S_pack_index(S_bag *b, FILE *err)
{
  UCollator *coll = S_collator(b);
  if (!coll)
    return;
  if (b->docs.len > 1)
    qsort_r(b->docs.data, b->docs.len, sizeof(S_doc), S_cmp_doc, coll);
  S_icu.ucol_close(coll);
  size_t len = 0;
  char *csv = S_index_csv(b, &len);
  if (S_put_text(b, "data/index.csv", csv, len, &b->files))
    return;
  if (b->have_log) {
    char *left = S_left_csv(b, &len);
    if (S_put_text(b, "data/left-out.csv", left, len, &b->files))
      return;
  }
  char date[16];
  S_bag_date(b, date);
  char *xml = S_index_xml(b, date, &len);
  if (S_put_text(b, "data/index.xml", xml, len, &b->files))
    return;
  S_index_pdf(b, err);
}

/* ------------------------------------------------------------------ */
/* Tag files and the rename into place                                  */

static int
S_cmp_file(const void *a, const void *b)
{
  return strcmp(((const S_file *)a)->path, ((const S_file *)b)->path);
}

/* "checksum  path" lines of `files`, sorted by path. */
static char *
S_manifest(bs_vec *files, size_t *len, long long *octets)
{
  S_file *fs = files->data;
  if (files->len > 1)
    qsort(fs, files->len, sizeof *fs, S_cmp_file);
  S_text t;
  if (!S_text_open(&t))
    return NULL;
  *octets = 0;
  for (size_t i = 0; i < files->len; i++) {
    char *enc = bs_bag_encode_path(fs[i].path);
    fprintf(t.f, "%s  %s\n", fs[i].sha, enc);
    free(enc);
    *octets += fs[i].size;
  }
  char *text = S_text_close(&t);
  *len = t.len;
  return text;
}

static char *
S_bag_info(S_bag *b, size_t *len)
{
  S_text t;
  if (!S_text_open(&t))
    return NULL;
  char date[16];
  S_bag_date(b, date);
  if (b->o->org)
    fprintf(t.f, "Source-Organization: %s\n", b->o->org);
  fprintf(t.f,
          "Bagging-Date: %s\n"
          "Payload-Oxum: %lld.%zu\n"
          "Bag-Software-Agent: %s %s\n"
          "External-Description: %zu 份文件（PDF/A）及其 XML 源文件与 DA/T "
          "46 元数据 / %zu documents (PDF/A) with their XML sources and "
          "DA/T 46 metadata\n",
          date, b->octets, b->files.len, BANSHI_NAME, BANSHI_VERSION,
          b->docs.len, b->docs.len);
  if (b->have_log)
    fprintf(t.f, "Left-Out-Sources: %zu (data/left-out.csv)\n", b->left.len);
  char *text = S_text_close(&t);
  *len = t.len;
  return text;
}

/* manifest-sha256.txt, bagit.txt, bag-info.txt, tagmanifest-sha256.txt. */
static void
S_pack_tags(S_bag *b)
{
  size_t len = 0;
  char *text = S_manifest(&b->files, &len, &b->octets);
  if (S_put_text(b, "manifest-sha256.txt", text, len, &b->tags))
    return;
  static const char bagit[] = "BagIt-Version: 1.0\n"
                              "Tag-File-Character-Encoding: UTF-8\n";
  if (S_put(b, "bagit.txt", bagit, sizeof bagit - 1, -1, &b->tags, NULL))
    return;
  text = S_bag_info(b, &len);
  if (S_put_text(b, "bag-info.txt", text, len, &b->tags))
    return;
  long long tag_octets;
  bs_vec tags = b->tags;
  b->tags = (bs_vec)BS_VEC_INIT(S_file); /* the tag manifest lists the others */
  text = S_manifest(&tags, &len, &tag_octets);
  S_put_text(b, "tagmanifest-sha256.txt", text, len, &b->tags);
  for (size_t i = 0; i < tags.len; i++)
    free(((S_file *)tags.data)[i].path);
  bs_vec_free(&tags);
}

/* Flush the bag (one syncfs(2) for every file and folder of it, instead of
 * an fsync per file, which costs seconds per thousand files on some disks)
 * and rename it into place, never over an existing name, and only while
 * the temporary name still is the folder that was built.  False with the
 * problem reported. */
static bool
S_finish(S_bag *b)
{
  const char *bag = b->o->bag;
  int e = syncfs(b->fd) == 0 ? 0 : errno;
  if (!e && !S_is_tmp(b, b->tmp, false))
    e = BS_BAG_IS_LINK;
  if (!e && renameat2(AT_FDCWD, b->tmp, AT_FDCWD, bag, RENAME_NOREPLACE)) {
    e = errno;
    if (e == EINVAL || e == ENOSYS) {
      /* a file system without RENAME_NOREPLACE */
      struct stat st;
      e = lstat(bag, &st) == 0 ? EEXIST : rename(b->tmp, bag) != 0 ? errno : 0;
    }
  }
  if (e) {
    bs_diag(&b->diags, BS_ERROR, BS_D_IO_WRITE, NULL, 0, 0,
            e == EEXIST ? bag : b->tmp, bs_bag_reason(e, b->lang));
    return false;
  }
  bs_fsync_dir(bs_path_dir(&b->arena, bag));
  return true;
}

/* ------------------------------------------------------------------ */
/* The command                                                          */

static void
S_bag_free(S_bag *b)
{
  S_doc *docs = b->docs.data;
  for (size_t i = 0; i < b->docs.len; i++)
    bs_stamp_free(&docs[i].stamp);
  bs_vec_free(&b->docs);
  for (size_t i = 0; i < b->files.len; i++)
    free(((S_file *)b->files.data)[i].path);
  bs_vec_free(&b->files);
  for (size_t i = 0; i < b->tags.len; i++)
    free(((S_file *)b->tags.data)[i].path);
  bs_vec_free(&b->tags);
  bs_vec_free(&b->left);
  xmlHashFree(b->images, NULL);
  if (b->fd >= 0)
    close(b->fd);
  free(b->tmp);
  bs_diags_free(&b->diags);
  bs_arena_free(&b->arena);
}

static int
S_write_bag(const S_opts *o, FILE *err, unsigned long *warnings)
{
  struct stat st;
  if (lstat(o->bag, &st) == 0) {
    fprintf(err, bs_diag_format(BS_D_ARCHIVE_EXISTS, o->job.lang), o->bag);
    return BS_STATUS_FAILURE;
  }
  S_bag b;
  memset(&b, 0, sizeof b);
  b.o = o;
  b.lang = o->job.lang;
  b.fd = -1;
  bs_arena_init(&b.arena);
  bs_diags_init(&b.diags, &b.arena, b.lang);
  b.diags.max_per_code = 0; /* every document with a problem is named */
  b.docs.esize = sizeof(S_doc);
  b.files.esize = b.tags.esize = sizeof(S_file);
  b.left.esize = sizeof(S_left);
  b.images = xmlHashCreate(64);

  int status = BS_STATUS_OK;
  if (stat(o->outdir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    bs_diag(&b.diags, BS_ERROR, BS_D_IO_READ, o->outdir, 0, 0, o->outdir,
            strerror(errno ? errno : ENOTDIR));
  } else {
    S_collect(&b);
    S_left_out(&b);
    if (b.docs.len == 0 && !b.diags.errors) {
      fprintf(err, bs_diag_format(BS_D_ARCHIVE_EMPTY, b.lang), o->outdir);
      status = BS_STATUS_INVALID;
    }
  }
  /* documents are packed even after a problem, so that one run names
   * every document the batch does not vouch for */
  if (status == BS_STATUS_OK && b.docs.len && S_open_tmp(&b)) {
    if (b.docs.len > 1)
      qsort(b.docs.data, b.docs.len, sizeof(S_doc), S_cmp_doc_rel);
    S_doc *docs = b.docs.data;
    for (size_t i = 0; i < b.docs.len; i++)
      docs[i].ok = S_pack_doc(&b, &docs[i]);
    if (!b.diags.errors)
      S_pack_index(&b, err);
    if (!b.diags.errors)
      S_pack_tags(&b);
    if (!b.diags.errors && S_finish(&b)) {
      fprintf(err, bs_diag_format(BS_D_ARCHIVE_WRITTEN, b.lang), o->bag,
              b.docs.len, b.files.len + b.tags.len, b.octets);
      if (b.left.len)
        fprintf(err, bs_diag_format(BS_D_ARCHIVE_LEFT_OUT_COUNT, b.lang),
                b.left.len);
    } else if (S_is_tmp(&b, b.tmp, false)) {
      bs_remove_tree(b.tmp);
    }
  }
  if (!b.have_log && status == BS_STATUS_OK && !b.diags.errors)
    fprintf(err, bs_diag_format(BS_D_ARCHIVE_NO_LOG, b.lang), o->outdir);
  bs_job_print(&o->job, &b.diags, err);
  if (status == BS_STATUS_OK)
    status = bs_diags_status(&b.diags);
  if (warnings)
    *warnings += b.diags.warnings;
  S_bag_free(&b);
  return status;
}

static int
S_verify(const S_opts *o, FILE *err)
{
  bs_arena a;
  bs_diags d;
  bs_arena_init(&a);
  bs_diags_init(&d, &a, o->job.lang);
  d.max_per_code = 0; /* every missing or altered file is listed */
  long n = bs_bag_verify(o->verify, &d);
  int status;
  if (n < 0) {
    fprintf(err, "%s: error: ", o->verify);
    fprintf(err, bs_diag_format(BS_D_IO_READ, o->job.lang), o->verify,
            strerror(errno ? errno : ENOTDIR));
    fputc('\n', err);
    status = BS_STATUS_FAILURE;
  } else {
    bs_job_print(&o->job, &d, err);
    if (d.errors) {
      fprintf(err, bs_diag_format(BS_D_ARCHIVE_INVALID, o->job.lang),
              o->verify, d.errors);
      status = BS_STATUS_INVALID;
    } else {
      fprintf(err, bs_diag_format(BS_D_ARCHIVE_VALID, o->job.lang),
              o->verify, n);
      status = BS_STATUS_OK;
    }
  }
  bs_diags_free(&d);
  bs_arena_free(&a);
  return status;
}

int
banshi_archive(banshi_env *env, const char *outdir, const char *bag,
               const char *organization, FILE *err, unsigned long *warnings)
{
  S_opts o;
  memset(&o, 0, sizeof o);
  o.job = *bs_env_options(env);
  o.outdir = outdir;
  o.bag = bag;
  o.org = organization;
  if (!outdir || !bag)
    return BS_STATUS_USAGE;
  return S_write_bag(&o, err, warnings);
}

int
banshi_archive_verify(banshi_env *env, const char *bag, FILE *err)
{
  S_opts o;
  memset(&o, 0, sizeof o);
  o.job = *bs_env_options(env);
  o.verify = bag;
  if (!bag)
    return BS_STATUS_USAGE;
  return S_verify(&o, err);
}
