// SPDX-License-Identifier: Apache-2.0
/* bag.c - BagIt bags (RFC 8493): paths, descriptor-relative files and
 * verification; see bag.h.
 *
 * Design.  Verification walks the whole bag once, from the descriptor of
 * its folder, with fstatat(AT_SYMLINK_NOFOLLOW) on every entry: regular
 * files under data/ are the payload, every link and special file anywhere
 * is reported where it is, and nothing is opened on the way.  Then every
 * manifest entry is opened step by step with openat(O_NOFOLLOW) and hashed
 * from its descriptor.  A link met there that the walk did not see (the
 * bag changed meanwhile) is reported too; one the walk reported is not
 * reported again for every entry below it.
 *
 * Rejected: realpath() and a prefix check before a path-based open - the
 * file can be swapped for a link between the check and the open, and a
 * link inside the bag to another file of the bag would still be accepted,
 * although a copy of the bag (to another disk, into a ZIP) would lose it.
 *
 * Layer 13 (batch, bag): docs/architecture.md. */
#include "bag.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "sha256.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* Paths                                                                */

char *
bs_bag_encode_path(const char *path)
{
  return bs_pct_encode(path, strlen(path), BS_PCT_LINE_BREAKS);
}

char *
bs_bag_decode_path(const char *text)
{
  char *out = bs_xstrdup(text);
  if (!bs_pct_decode(out)) {
    free(out);
    return NULL;
  }
  return out;
}

bool
bs_bag_path_ok(const char *p)
{
  if (!*p || p[0] == '/')
    return false;
  for (const char *s = p; *s;) {
    const char *e = strchr(s, '/');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (n == 0 || (n == 1 && s[0] == '.') ||
        (n == 2 && s[0] == '.' && s[1] == '.'))
      return false;
    s += n + (e ? 1 : 0);
    if (e && !*s)
      return false;
  }
  return true;
}

/* ------------------------------------------------------------------ */
/* Files beneath a folder descriptor                                    */

/* The next step of `rel` from `s` into `name`; its end offset in *end.
 * False when a step is longer than a file name may be. */
static bool
S_step(const char *rel, const char *s, char name[NAME_MAX + 1], size_t *end,
       bool *last)
{
  const char *e = strchr(s, '/');
  size_t n = e ? (size_t)(e - s) : strlen(s);
  if (n > NAME_MAX)
    return false;
  memcpy(name, s, n);
  name[n] = '\0';
  *end = (size_t)(s - rel) + n;
  *last = e == NULL;
  return true;
}

int
bs_bag_open(int dirfd, const char *rel, int *why, size_t *at)
{
  *at = 0;
  if (!bs_bag_path_ok(rel)) {
    *why = BS_BAG_BAD_PATH;
    return -1;
  }
  int cur = dirfd, fd = -1;
  char name[NAME_MAX + 1];
  size_t end;
  bool last;
  *why = 0;
  for (const char *s = rel; !*why;) {
    if (!S_step(rel, s, name, &end, &last)) {
      *why = ENAMETOOLONG;
      break;
    }
    /* look before opening: a device must not even be opened */
    struct stat st;
    if (fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      *why = errno;
      break;
    }
    *at = end;
    if (S_ISLNK(st.st_mode)) {
      *why = BS_BAG_IS_LINK;
      break;
    }
    if (!last) {
      int next = S_ISDIR(st.st_mode)
                     ? openat(cur, name,
                              O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                     : -1;
      if (next < 0) {
        *why = !S_ISDIR(st.st_mode) ? ENOTDIR
               : errno == ELOOP     ? BS_BAG_IS_LINK
                                    : errno;
        break;
      }
      if (cur != dirfd)
        close(cur);
      cur = next;
      s = rel + end + 1;
      continue;
    }
    if (!S_ISREG(st.st_mode)) {
      *why = S_ISDIR(st.st_mode) ? EISDIR : BS_BAG_IS_SPECIAL;
      break;
    }
    fd = openat(cur, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      *why = errno == ELOOP ? BS_BAG_IS_LINK : errno;
      break;
    }
    /* it may have been swapped since fstatat looked */
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      close(fd);
      fd = -1;
      *why = BS_BAG_IS_SPECIAL;
      break;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
      fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    break;
  }
  if (cur != dirfd)
    close(cur);
  return fd;
}

int
bs_bag_create(int dirfd, const char *rel, int *why)
{
  if (!bs_bag_path_ok(rel)) {
    *why = BS_BAG_BAD_PATH;
    return -1;
  }
  int cur = dirfd, fd = -1;
  char name[NAME_MAX + 1];
  size_t end;
  bool last;
  *why = 0;
  for (const char *s = rel; !*why;) {
    if (!S_step(rel, s, name, &end, &last)) {
      *why = ENAMETOOLONG;
      break;
    }
    if (last) {
      fd = openat(cur, name,
                  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (fd < 0)
        *why = errno;
      break;
    }
    if (mkdirat(cur, name, 0777) != 0 && errno != EEXIST) {
      *why = errno;
      break;
    }
    int next =
        openat(cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) {
      *why = errno == ELOOP ? BS_BAG_IS_LINK : errno;
      break;
    }
    if (cur != dirfd)
      close(cur);
    cur = next;
    s = rel + end + 1;
  }
  if (cur != dirfd)
    close(cur);
  return fd;
}

const char *
bs_bag_reason(int why, bs_lang lang)
{
  bool en = lang == BS_LANG_EN;
  switch (why) {
  case BS_BAG_IS_LINK:
    return en ? "a symbolic link (not followed)" : "是符号链接（未跟随）";
  case BS_BAG_IS_SPECIAL:
    return en ? "not a regular file" : "不是普通文件";
  case BS_BAG_BAD_PATH:
    return en ? "the path leaves its folder" : "路径超出其所在目录";
  default:
    return strerror(why);
  }
}

/* ------------------------------------------------------------------ */
/* Verification                                                         */

#define S_MAX_DEPTH 64
#define S_MAX_LINE 16384 /* a path of PATH_MAX, percent-encoded, and more */

typedef struct S_entry {
  char *path;              /* bag-relative, decoded */
  char sha[BS_SHA256_HEX]; /* as recorded, lower case */
  uint32_t line;           /* line in the manifest */
} S_entry;

typedef struct S_verify {
  int fd;               /* the bag's folder */
  const char *bag;      /* its path, for messages */
  bs_diags *d;          /* problems */
  bs_arena arena;       /* message paths and walk names */
  bs_vec payload;       /* char *: regular files below data/, sorted */
  bs_vec bad;           /* char *: links and special files seen, sorted */
  long long octets;     /* bytes of the payload */
  bool deep_noted;      /* BS_D_BAG_DEEP said once */
  bool payload_unknown; /* a link or special file in data/: not measured */
} S_verify;

/* bag/rel, for a message (arena).  A manifest may name a path holding a
 * line break (BagIt encodes it as %0A, and the decoded name is what is
 * looked for): control characters and '%' are written back in that
 * encoding, so every message stays one line and says which name it was. */
static const char *
S_at(S_verify *v, const char *rel, size_t n)
{
  char *enc = bs_pct_encode(rel, n, BS_PCT_CONTROLS);
  const char *out = bs_arena_printf(&v->arena, "%s/%s", v->bag, enc);
  free(enc);
  return out;
}

static int
S_cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every entry below the folder `fd` (bag-relative `rel`, "" for the bag
 * itself), in name order (readdir's order differs between file systems);
 * takes `fd`. */
static void
S_walk(S_verify *v, int fd, const char *rel, bool payload, int depth)
{
  DIR *dh = fdopendir(fd);
  if (!dh) {
    close(fd);
    const char *at = S_at(v, rel, strlen(rel));
    bs_diag(v->d, BS_ERROR, BS_D_IO_READ, at, 0, 0, at, strerror(errno));
    return;
  }
  bs_vec names = BS_VEC_INIT(char *);
  struct dirent *e;
  while ((e = readdir(dh)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    char *name = bs_arena_strdup(&v->arena, e->d_name);
    bs_vec_push(&names, &name);
  }
  if (names.len > 1)
    qsort(names.data, names.len, sizeof(char *), S_cmp_str);
  for (size_t i = 0; i < names.len; i++) {
    const char *name = ((char **)names.data)[i];
    char *sub = *rel ? bs_arena_printf(&v->arena, "%s/%s", rel, name)
                     : bs_arena_strdup(&v->arena, name);
    const char *at = S_at(v, sub, strlen(sub));
    bool in_payload = payload || (!*rel && strcmp(name, "data") == 0);
    struct stat st;
    if (fstatat(dirfd(dh), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      bs_diag(v->d, BS_ERROR, BS_D_IO_READ, at, 0, 0, at, strerror(errno));
    } else if (S_ISLNK(st.st_mode) ||
               (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))) {
      bs_diag(v->d, BS_ERROR,
              S_ISLNK(st.st_mode) ? BS_D_BAG_LINK : BS_D_BAG_SPECIAL, at, 0, 0);
      bs_vec_push(&v->bad, &sub);
      if (in_payload)
        v->payload_unknown = true; /* Payload-Oxum cannot be compared */
    } else if (S_ISREG(st.st_mode)) {
      if (in_payload) {
        bs_vec_push(&v->payload, &sub);
        v->octets += st.st_size;
      }
    } else if (depth >= S_MAX_DEPTH) {
      if (!v->deep_noted)
        bs_diag(v->d, BS_ERROR, BS_D_BAG_DEEP, at, 0, 0, S_MAX_DEPTH);
      v->deep_noted = true;
    } else {
      int sfd = openat(dirfd(dh), name,
                       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sfd < 0)
        bs_diag(v->d, BS_ERROR, BS_D_IO_READ, at, 0, 0, at, strerror(errno));
      else
        S_walk(v, sfd, sub, in_payload, depth + 1);
    }
  }
  bs_vec_free(&names);
  closedir(dh);
}

/* A tag file of the bag, opened beneath it; reported when it is a link or
 * special file the walk did not see.  -1 when absent or unusable. */
static int
S_open(S_verify *v, const char *rel, bool *absent)
{
  int why;
  size_t at;
  int fd = bs_bag_open(v->fd, rel, &why, &at);
  *absent = fd < 0 && (why == ENOENT || why == ENOTDIR);
  if (fd >= 0 || why == ENOENT || why == ENOTDIR)
    return fd;
  if (why == BS_BAG_IS_LINK || why == BS_BAG_IS_SPECIAL) {
    char *key = bs_arena_printf(&v->arena, "%.*s", (int)at, rel);
    if (!v->bad.len ||
        !bsearch(&key, v->bad.data, v->bad.len, sizeof(char *), S_cmp_str))
      bs_diag(v->d, BS_ERROR,
              why == BS_BAG_IS_LINK ? BS_D_BAG_LINK : BS_D_BAG_SPECIAL,
              S_at(v, rel, at), 0, 0);
  } else {
    bs_diag(v->d, BS_ERROR, BS_D_IO_READ, S_at(v, rel, strlen(rel)), 0, 0,
            S_at(v, rel, strlen(rel)), bs_bag_reason(why, v->d->lang));
  }
  return -1;
}

/* One line of at most S_MAX_LINE bytes into buf, without its line end; a
 * longer line is cut there and *long_line set.  False at the end. */
static bool
S_line(FILE *f, char *buf, bool *long_line)
{
  if (!fgets(buf, S_MAX_LINE, f))
    return false;
  size_t n = strlen(buf);
  *long_line = n == S_MAX_LINE - 1 && buf[n - 1] != '\n';
  if (*long_line) {
    int c;
    while ((c = getc(f)) != EOF && c != '\n')
      ;
  }
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
    buf[--n] = '\0';
  return true;
}

/* Read a manifest, "checksum path" lines.  False when it is absent. */
static bool
S_read_manifest(S_verify *v, const char *name, bool payload, bs_vec *entries)
{
  bool absent;
  int fd = S_open(v, name, &absent);
  if (fd < 0)
    return !absent;
  FILE *f = fdopen(fd, "r");
  if (!f) {
    close(fd);
    return true;
  }
  const char *mpath = S_at(v, name, strlen(name));
  char *line = bs_xmalloc(S_MAX_LINE);
  bool long_line;
  uint32_t no = 0;
  while (S_line(f, line, &long_line)) {
    no++;
    if (!*line)
      continue;
    char *sp = line + strcspn(line, " \t");
    char *p = sp + strspn(sp, " \t");
    bool hex = sp - line == 64 && !long_line;
    for (char *h = line; hex && h < sp; h++)
      hex = bs_hex_value((unsigned char)*h) >= 0;
    if (!hex || !*p) {
      bs_diag(v->d, BS_ERROR, BS_D_BAG_LINE, mpath, no, 0);
      continue;
    }
    char *dec = bs_bag_decode_path(p);
    if (!dec || !bs_bag_path_ok(dec) ||
        (payload && strncmp(dec, "data/", 5) != 0)) {
      bs_diag(v->d, BS_ERROR, BS_D_BAG_PATH, mpath, no, 0, p);
      free(dec);
      continue;
    }
    S_entry e;
    e.path = dec;
    for (int i = 0; i < 64; i++)
      e.sha[i] =
          (char)((line[i] >= 'A' && line[i] <= 'F') ? line[i] + 32 : line[i]);
    e.sha[64] = '\0';
    e.line = no;
    bs_vec_push(entries, &e);
  }
  if (ferror(f))
    bs_diag(v->d, BS_ERROR, BS_D_IO_READ, mpath, 0, 0, mpath, strerror(errno));
  free(line);
  fclose(f);
  return true;
}

static int
S_cmp_entry(const void *a, const void *b)
{
  const S_entry *x = a, *y = b;
  int c = strcmp(x->path, y->path);
  return c ? c : (x->line > y->line) - (x->line < y->line);
}

static int
S_cmp_path(const void *a, const void *b)
{
  return strcmp(((const S_entry *)a)->path, ((const S_entry *)b)->path);
}

/* Sort the entries and report paths listed twice (the later ones are
 * dropped). */
static void
S_dedupe(S_verify *v, const char *name, bs_vec *entries)
{
  S_entry *e = entries->data;
  if (entries->len > 1)
    qsort(e, entries->len, sizeof *e, S_cmp_entry);
  size_t out = 0;
  for (size_t i = 0; i < entries->len; i++) {
    if (out > 0 && strcmp(e[out - 1].path, e[i].path) == 0) {
      bs_diag(v->d, BS_ERROR, BS_D_BAG_DUPLICATE, S_at(v, name, strlen(name)),
              e[i].line, 0, name, e[out - 1].line);
      free(e[i].path);
      continue;
    }
    e[out++] = e[i];
  }
  entries->len = out;
}

/* Compare every entry with its file; returns the number compared. */
static long
S_check_entries(S_verify *v, const char *name, const bs_vec *entries)
{
  long checked = 0;
  const S_entry *e = entries->data;
  for (size_t i = 0; i < entries->len; i++) {
    const char *at = S_at(v, e[i].path, strlen(e[i].path));
    bool absent;
    int fd = S_open(v, e[i].path, &absent);
    if (fd < 0) {
      if (absent)
        bs_diag(v->d, BS_ERROR, BS_D_BAG_MISSING, at, 0, 0, name);
      continue;
    }
    char hex[BS_SHA256_HEX];
    if (bs_sha256_fd(fd, hex, NULL) != 0) {
      bs_diag(v->d, BS_ERROR, BS_D_IO_READ, at, 0, 0, at, strerror(errno));
    } else {
      checked++;
      if (strcmp(hex, e[i].sha) != 0)
        bs_diag(v->d, BS_ERROR, BS_D_BAG_ALTERED, at, 0, 0, hex, name,
                e[i].sha);
    }
    close(fd);
  }
  return checked;
}

static void
S_free_entries(bs_vec *v)
{
  for (size_t i = 0; i < v->len; i++)
    free(((S_entry *)v->data)[i].path);
  bs_vec_free(v);
}

/* Read a small tag file whole (NUL-terminated, malloc'd); NULL when it is
 * absent or unusable (reported unless absent). */
static char *
S_slurp(S_verify *v, const char *name, size_t max, bool *absent)
{
  int fd = S_open(v, name, absent);
  if (fd < 0)
    return NULL;
  char *buf = bs_xmalloc(max + 1);
  size_t n = 0;
  for (;;) {
    ssize_t r = read(fd, buf + n, max - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    n += (size_t)r;
    if (n == max)
      break; /* the rest is not looked at: these files are a few lines */
  }
  close(fd);
  buf[n] = '\0';
  return buf;
}

/* The line of `text` that starts at *pos, without its end (LF or CRLF),
 * into out (at most 200 bytes); false after the last. */
static bool
S_text_line(const char *text, size_t *pos, char out[201])
{
  const char *s = text + *pos;
  if (!*s)
    return false;
  size_t n = strcspn(s, "\n");
  *pos += n + (s[n] == '\n');
  if (n > 0 && s[n - 1] == '\r')
    n--;
  if (n > 200)
    n = 200;
  memcpy(out, s, n);
  out[n] = '\0';
  return true;
}

/* bagit.txt: exactly "BagIt-Version: M.N" and
 * "Tag-File-Character-Encoding: UTF-8" (RFC 8493 2.1.1), no byte order
 * mark, nothing but blank lines after them. */
static void
S_check_bagit(S_verify *v)
{
  bool absent;
  char *text = S_slurp(v, "bagit.txt", 4096, &absent);
  const char *at = S_at(v, "bagit.txt", 9);
  if (!text) {
    if (absent)
      bs_diag(v->d, BS_ERROR, BS_D_BAG_REQUIRED, at, 0, 0);
    return;
  }
  char l[201];
  size_t pos = 0;
  bool ok =
      S_text_line(text, &pos, l) && strncmp(l, "BagIt-Version: ", 15) == 0;
  if (ok) {
    const char *s = l + 15;
    size_t major = strspn(s, "0123456789");
    size_t minor = s[major] == '.' ? strspn(s + major + 1, "0123456789") : 0;
    ok = major > 0 && minor > 0 && s[major + 1 + minor] == '\0';
  }
  ok = ok && S_text_line(text, &pos, l) &&
       strcmp(l, "Tag-File-Character-Encoding: UTF-8") == 0;
  while (ok && S_text_line(text, &pos, l))
    ok = !*l;
  if (!ok)
    bs_diag(v->d, BS_ERROR, BS_D_BAG_FORMAT, at, 0, 0);
  free(text);
}

/* True if `s` (up to the line end) is "DIGITS.DIGITS" into *o and *c. */
static bool
S_parse_oxum(const char *s, long long *o, long long *c)
{
  s += strspn(s, " \t");
  char *end;
  if (*s < '0' || *s > '9')
    return false;
  errno = 0;
  *o = strtoll(s, &end, 10);
  if (errno || *end != '.' || end[1] < '0' || end[1] > '9')
    return false;
  *c = strtoll(end + 1, &end, 10);
  if (errno)
    return false;
  end += strspn(end, " \t\r");
  return *end == '\n' || *end == '\0';
}

static void
S_check_oxum(S_verify *v)
{
  bool absent;
  char *text = S_slurp(v, "bag-info.txt", 1 << 16, &absent);
  if (!text)
    return; /* optional (RFC 8493 2.2.2) */
  const char *at = S_at(v, "bag-info.txt", 12);
  uint32_t no = 0;
  for (const char *l = text; *l;) {
    const char *nl = strchr(l, '\n');
    no++;
    if (strncmp(l, "Payload-Oxum:", 13) == 0) {
      long long o, c;
      int len = nl ? (int)(nl - l) : (int)strlen(l);
      if (!S_parse_oxum(l + 13, &o, &c)) {
        char *shown =
            bs_arena_printf(&v->arena, "%.*s", len > 200 ? 200 : len, l);
        bs_diag(v->d, BS_ERROR, BS_D_BAG_OXUM_FORMAT, at, no, 0, shown);
      } else if (!v->payload_unknown &&
                 (o != v->octets || c != (long long)v->payload.len)) {
        char *want = bs_arena_printf(&v->arena, "%lld.%lld", o, c);
        char *got =
            bs_arena_printf(&v->arena, "%lld.%zu", v->octets, v->payload.len);
        bs_diag(v->d, BS_ERROR, BS_D_BAG_OXUM, at, no, 0, want, got);
      }
    }
    l = nl ? nl + 1 : l + strlen(l);
  }
  free(text);
}

/* Manifests of other algorithms are noted, not checked. */
static void
S_note_other_manifests(S_verify *v)
{
  int fd = openat(v->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *dh = fd >= 0 ? fdopendir(fd) : NULL;
  if (!dh) {
    if (fd >= 0)
      close(fd);
    return;
  }
  bs_vec names = BS_VEC_INIT(char *);
  struct dirent *e;
  while ((e = readdir(dh)) != NULL) {
    size_t n = strlen(e->d_name);
    bool manifest = strncmp(e->d_name, "manifest-", 9) == 0 ||
                    strncmp(e->d_name, "tagmanifest-", 12) == 0;
    if (manifest && n > 4 && strcmp(e->d_name + n - 4, ".txt") == 0 &&
        !strstr(e->d_name, "-sha256.txt")) {
      char *s = bs_arena_strdup(&v->arena, e->d_name);
      bs_vec_push(&names, &s);
    }
  }
  closedir(dh);
  if (names.len > 1)
    qsort(names.data, names.len, sizeof(char *), S_cmp_str);
  for (size_t i = 0; i < names.len; i++) {
    const char *s = ((char **)names.data)[i];
    bs_diag(v->d, BS_NOTE, BS_D_BAG_OTHER_ALGO, S_at(v, s, strlen(s)), 0, 0);
  }
  bs_vec_free(&names);
}

long
bs_bag_verify(const char *bag, bs_diags *d)
{
  int fd = open(bag, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  S_verify v;
  memset(&v, 0, sizeof v);
  v.fd = fd;
  v.bag = bag;
  v.d = d;
  bs_arena_init(&v.arena);
  v.payload.esize = v.bad.esize = sizeof(char *);

  /* the whole bag, nothing opened but folders */
  int wfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (wfd >= 0)
    S_walk(&v, wfd, "", false, 0);
  if (v.payload.len > 1)
    qsort(v.payload.data, v.payload.len, sizeof(char *), S_cmp_str);
  if (v.bad.len > 1)
    qsort(v.bad.data, v.bad.len, sizeof(char *), S_cmp_str);
  struct stat st;
  if (fstatat(fd, "data", &st, AT_SYMLINK_NOFOLLOW) != 0)
    bs_diag(d, BS_ERROR, BS_D_BAG_REQUIRED, S_at(&v, "data", 4), 0, 0);

  S_check_bagit(&v);
  S_note_other_manifests(&v);

  long checked = 0;
  bs_vec man = {NULL, 0, 0, sizeof(S_entry)};
  if (!S_read_manifest(&v, "manifest-sha256.txt", true, &man)) {
    bs_diag(d, BS_ERROR, BS_D_BAG_REQUIRED, S_at(&v, "manifest-sha256.txt", 19),
            0, 0);
  } else {
    S_dedupe(&v, "manifest-sha256.txt", &man);
    checked += S_check_entries(&v, "manifest-sha256.txt", &man);
  }
  /* payload files no manifest lists (paths are unique after S_dedupe) */
  for (size_t i = 0; i < v.payload.len; i++) {
    char *rel = ((char **)v.payload.data)[i];
    S_entry key = {rel, "", 0};
    if (!man.len ||
        !bsearch(&key, man.data, man.len, sizeof(S_entry), S_cmp_path))
      bs_diag(d, BS_ERROR, BS_D_BAG_UNLISTED, S_at(&v, rel, strlen(rel)), 0, 0,
              "manifest-sha256.txt");
  }
  S_check_oxum(&v);

  bs_vec tags = {NULL, 0, 0, sizeof(S_entry)};
  if (S_read_manifest(&v, "tagmanifest-sha256.txt", false, &tags)) {
    S_dedupe(&v, "tagmanifest-sha256.txt", &tags);
    checked += S_check_entries(&v, "tagmanifest-sha256.txt", &tags);
  }
  S_free_entries(&tags);
  S_free_entries(&man);
  bs_vec_free(&v.payload);
  bs_vec_free(&v.bad);
  bs_arena_free(&v.arena);
  close(fd);
  return checked;
}
