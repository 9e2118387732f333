/* archive.c - BagIt bags (RFC 8493) of a batch's output with DA/T 46-2009
 * metadata records and a pinyin-ordered index; see archive.h.
 *
 * Design.  The bag is assembled in a temporary folder beside its final
 * name and renamed at the end, after every file and folder was flushed:
 * RFC 8493 knows no "incomplete bag" state, so a records office must never
 * see one.  Before anything is written, every PDF of OUTDIR is checked
 * against its batch stamp (size) and its source against the digest the
 * stamp holds, so a bag never pairs a PDF with a source it was not made
 * from; any problem stops the archive with the full list.
 *
 * Rejected: packing whatever PDFs lie in OUTDIR - a PDF left from an older
 * source after that source failed would be archived beside the wrong XML;
 * and computing digests in a second pass - every payload file is hashed
 * while it is copied, once.
 *
 * The index is rendered by banshi itself: a core document (data/index.xml,
 * kept in the bag beside data/index.pdf, like every other PDF/A there) with
 * one table row per document, sorted by issuing body with ICU's collator
 * for "zh" (pinyin order: 安徽 before 北京, though 北 U+5317 precedes 安
 * U+5B89), then by date, title and file name.  The metadata records use
 * DA/T 46-2009 element names where they apply (notes/archival.md): 题名,
 * 责任者, 日期 (ISO 8601, GB/T 7408), 文件编号 (the 文号), 年度, 保管期限,
 * 关键词, 摘要, 页数, 语种, and per file 计算机文件名, 计算机文件大小,
 * 格式信息 and its SHA-256. */
#include "archive.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <unicode/ucol.h>

#include "batch.h"
#include "doc.h"
#include "fsio.h"
#include "job.h"
#include "pipeline.h"
#include "render.h"
#include "sha256.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* Manifest paths                                                       */

char *
bs_bag_encode_path(const char *path)
{
  size_t n = 0;
  for (const char *s = path; *s; s++)
    n += (*s == '%' || *s == '\r' || *s == '\n') ? 3 : 1;
  char *out = bs_xmalloc(n + 1), *o = out;
  for (const char *s = path; *s; s++) {
    if (*s == '%' || *s == '\r' || *s == '\n')
      o += sprintf(o, "%%%02X", (unsigned char)*s);
    else
      *o++ = *s;
  }
  *o = '\0';
  return out;
}

static int
S_hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

char *
bs_bag_decode_path(const char *text)
{
  char *out = bs_xmalloc(strlen(text) + 1), *o = out;
  for (const char *s = text; *s; s++) {
    if (*s != '%') {
      *o++ = *s;
      continue;
    }
    int hi = S_hexval(s[1]), lo = hi < 0 ? -1 : S_hexval(s[2]);
    if (hi < 0 || lo < 0) {
      free(out);
      return NULL;
    }
    *o++ = (char)(hi * 16 + lo);
    s += 2;
  }
  *o = '\0';
  return out;
}

/* A bag-relative path that stays inside the bag. */
static bool
S_safe_path(const char *p)
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
/* Messages of the command itself                                       */

typedef enum {
  S_M_WRITTEN,
  S_M_VALID,
  S_M_INVALID,
  S_M_EXISTS,
  S_M_EMPTY,
  S_M_NO_BAGIT,
  S_M_BAD_BAGIT,
  S_M_NO_MANIFEST,
  S_M_BAD_LINE,
  S_M_BAD_PATH,
  S_M_OTHER_ALGO,
  S_M_COUNT
} S_msg;

static const char *const S_msgs[S_M_COUNT][2] = {
    [S_M_WRITTEN] = {"banshi：已生成 BagIt 包 %s：%zu 份文档，%zu 个文件，"
                     "%lld 字节\n",
                     "banshi: wrote the bag %s: %zu documents, %zu files, "
                     "%lld bytes\n"},
    [S_M_VALID] = {"banshi：BagIt 包 %s 完好：%ld 个文件的校验和一致\n",
                   "banshi: the bag %s is valid: %ld files match their "
                   "checksums\n"},
    [S_M_INVALID] = {"banshi：BagIt 包 %s 有 %u 处问题\n",
                     "banshi: the bag %s has %u problems\n"},
    [S_M_EXISTS] = {"banshi：%s 已存在；请为新包另选名称\n",
                    "banshi: %s exists; choose another name for the bag\n"},
    [S_M_EMPTY] = {"banshi：%s 中没有 PDF，未生成 BagIt 包\n",
                   "banshi: no PDF in %s; no bag written\n"},
    [S_M_NO_BAGIT] = {"缺少 bagit.txt", "bagit.txt is missing"},
    [S_M_BAD_BAGIT] = {"bagit.txt 应含 BagIt-Version 与 "
                       "Tag-File-Character-Encoding: UTF-8",
                       "bagit.txt needs BagIt-Version and "
                       "Tag-File-Character-Encoding: UTF-8"},
    [S_M_NO_MANIFEST] = {"缺少 manifest-sha256.txt",
                         "manifest-sha256.txt is missing"},
    [S_M_BAD_LINE] = {"应为“校验和 路径”", "expected 'checksum path'"},
    [S_M_BAD_PATH] = {"路径“%s”不在包内或不在 data/ 下",
                      "path '%s' is outside the bag or outside data/"},
    [S_M_OTHER_ALGO] = {"%s 未校验（只支持 SHA-256）",
                        "%s not checked (only SHA-256 is supported)"},
};

static const char *
S_m(bs_lang lang, S_msg m)
{
  return S_msgs[m][lang == BS_LANG_EN ? 1 : 0];
}

/* ------------------------------------------------------------------ */
/* Verification                                                         */

typedef struct S_entry {
  char *path;              /* bag-relative, decoded */
  char sha[BS_SHA256_HEX]; /* as recorded */
  uint32_t line;           /* line in the manifest */
} S_entry;

static char *
S_join(const char *a, const char *b)
{
  size_t n = strlen(a) + strlen(b) + 2;
  char *s = bs_xmalloc(n);
  snprintf(s, n, "%s/%s", a, b);
  return s;
}

/* Read a manifest: "checksum path" lines.  Returns false when absent. */
static bool
S_read_manifest(const char *bag, const char *name, bool payload,
                bs_vec *entries, bs_diags *d)
{
  char *path = S_join(bag, name);
  FILE *f = fopen(path, "r");
  if (!f) {
    free(path);
    return false;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  uint32_t no = 0;
  while ((n = getline(&line, &cap, f)) >= 0) {
    no++;
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
      line[--n] = '\0';
    if (n == 0)
      continue;
    char *sp = line + strcspn(line, " \t");
    char *p = sp + strspn(sp, " \t");
    bool hex = sp - line == 64;
    for (char *h = line; hex && h < sp; h++)
      hex = S_hexval(*h) >= 0;
    if (!hex || !*p) {
      bs_diag(d, BS_ERROR, BS_D_BAG_FORMAT, path, no, 0,
              S_m(d->lang, S_M_BAD_LINE));
      continue;
    }
    char *dec = bs_bag_decode_path(p);
    if (!dec || !S_safe_path(dec) ||
        (payload && strncmp(dec, "data/", 5) != 0)) {
      char msg[512];
      snprintf(msg, sizeof msg, S_m(d->lang, S_M_BAD_PATH), p);
      bs_diag(d, BS_ERROR, BS_D_BAG_FORMAT, path, no, 0, msg);
      free(dec);
      continue;
    }
    S_entry e;
    e.path = dec;
    for (int i = 0; i < 64; i++)
      e.sha[i] = (char)((line[i] >= 'A' && line[i] <= 'F') ? line[i] + 32
                                                          : line[i]);
    e.sha[64] = '\0';
    e.line = no;
    bs_vec_push(entries, &e);
  }
  free(line);
  fclose(f);
  free(path);
  return true;
}

/* Compare every entry with the file; returns the number compared. */
static long
S_check_entries(const char *bag, const char *name, bs_vec *entries,
                bs_diags *d)
{
  long checked = 0;
  S_entry *e = entries->data;
  for (size_t i = 0; i < entries->len; i++) {
    char *path = S_join(bag, e[i].path);
    char hex[BS_SHA256_HEX];
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
      bs_diag(d, BS_ERROR, BS_D_BAG_MISSING, path, 0, 0, name);
    } else if (bs_sha256_file(path, hex, NULL) != 0) {
      bs_diag(d, BS_ERROR, BS_D_IO_READ, path, 0, 0, path, strerror(errno));
    } else {
      checked++;
      if (strcmp(hex, e[i].sha) != 0)
        bs_diag(d, BS_ERROR, BS_D_BAG_ALTERED, path, 0, 0, hex, name,
                e[i].sha);
    }
    free(path);
  }
  return checked;
}

static int
S_cmp_entry(const void *a, const void *b)
{
  return strcmp(((const S_entry *)a)->path, ((const S_entry *)b)->path);
}

static int
S_cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every file below `dir` (bag-relative `rel`), with sizes. */
static void
S_walk_files(const char *bag, const char *rel, bs_vec *files,
             long long *octets, int depth)
{
  char *dir = S_join(bag, rel);
  DIR *dh = opendir(dir);
  if (!dh) {
    free(dir);
    return;
  }
  struct dirent *e;
  while ((e = readdir(dh)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    char *sub = S_join(rel, e->d_name);
    char *full = S_join(bag, sub);
    struct stat st;
    if (lstat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
      if (depth < 64)
        S_walk_files(bag, sub, files, octets, depth + 1);
      free(sub);
    } else {
      if (stat(full, &st) == 0)
        *octets += st.st_size;
      bs_vec_push(files, &sub);
    }
    free(full);
  }
  closedir(dh);
  free(dir);
}

static void
S_free_entries(bs_vec *v)
{
  for (size_t i = 0; i < v->len; i++)
    free(((S_entry *)v->data)[i].path);
  bs_vec_free(v);
}

long
bs_bag_verify(const char *bag, bs_diags *d)
{
  struct stat st;
  if (stat(bag, &st) != 0 || !S_ISDIR(st.st_mode))
    return -1;
  bs_lang lang = d->lang;

  /* bagit.txt */
  char *bagit = S_join(bag, "bagit.txt");
  FILE *f = fopen(bagit, "r");
  if (!f) {
    bs_diag(d, BS_ERROR, BS_D_BAG_FORMAT, bagit, 0, 0,
            S_m(lang, S_M_NO_BAGIT));
  } else {
    char line[256];
    bool version = false, enc = false;
    while (fgets(line, sizeof line, f)) {
      if (strncmp(line, "BagIt-Version: ", 15) == 0)
        version = true;
      if (strncmp(line, "Tag-File-Character-Encoding: UTF-8", 34) == 0)
        enc = true;
    }
    fclose(f);
    if (!version || !enc)
      bs_diag(d, BS_ERROR, BS_D_BAG_FORMAT, bagit, 0, 0,
              S_m(lang, S_M_BAD_BAGIT));
  }
  free(bagit);

  /* manifests of other algorithms are noted, not checked */
  DIR *dh = opendir(bag);
  if (dh) {
    struct dirent *e;
    while ((e = readdir(dh)) != NULL) {
      size_t n = strlen(e->d_name);
      bool manifest = strncmp(e->d_name, "manifest-", 9) == 0 ||
                      strncmp(e->d_name, "tagmanifest-", 12) == 0;
      if (manifest && n > 4 && strcmp(e->d_name + n - 4, ".txt") == 0 &&
          !strstr(e->d_name, "-sha256.txt")) {
        char *p = S_join(bag, e->d_name);
        char msg[512];
        snprintf(msg, sizeof msg, S_m(lang, S_M_OTHER_ALGO), e->d_name);
        bs_diag(d, BS_NOTE, BS_D_BAG_FORMAT, p, 0, 0, msg);
        free(p);
      }
    }
    closedir(dh);
  }

  /* payload */
  long checked = 0;
  bs_vec man = {NULL, 0, 0, sizeof(S_entry)};
  if (!S_read_manifest(bag, "manifest-sha256.txt", true, &man, d)) {
    char *p = S_join(bag, "manifest-sha256.txt");
    bs_diag(d, BS_ERROR, BS_D_BAG_FORMAT, p, 0, 0,
            S_m(lang, S_M_NO_MANIFEST));
    free(p);
  } else {
    checked += S_check_entries(bag, "manifest-sha256.txt", &man, d);
  }
  qsort(man.data, man.len, sizeof(S_entry), S_cmp_entry);
  bs_vec files = BS_VEC_INIT(char *);
  long long octets = 0;
  S_walk_files(bag, "data", &files, &octets, 0);
  qsort(files.data, files.len, sizeof(char *), S_cmp_str);
  for (size_t i = 0; i < files.len; i++) {
    char *rel = ((char **)files.data)[i];
    S_entry key = {rel, "", 0};
    if (!bsearch(&key, man.data, man.len, sizeof(S_entry), S_cmp_entry)) {
      char *p = S_join(bag, rel);
      bs_diag(d, BS_ERROR, BS_D_BAG_UNLISTED, p, 0, 0,
              "manifest-sha256.txt");
      free(p);
    }
    free(rel);
  }

  /* Payload-Oxum */
  char *info = S_join(bag, "bag-info.txt");
  f = fopen(info, "r");
  if (f) {
    char line[512];
    uint32_t no = 0;
    while (fgets(line, sizeof line, f)) {
      no++;
      if (strncmp(line, "Payload-Oxum:", 13) != 0)
        continue;
      long long o = -1, c = -1;
      sscanf(line + 13, " %lld.%lld", &o, &c);
      if (o != octets || c != (long long)files.len) {
        char want[64], got[64];
        snprintf(want, sizeof want, "%lld.%lld", o, c);
        snprintf(got, sizeof got, "%lld.%zu", octets, files.len);
        bs_diag(d, BS_ERROR, BS_D_BAG_OXUM, info, no, 0, want, got);
      }
    }
    fclose(f);
  }
  free(info);
  bs_vec_free(&files);

  /* tag files */
  bs_vec tags = {NULL, 0, 0, sizeof(S_entry)};
  if (S_read_manifest(bag, "tagmanifest-sha256.txt", false, &tags, d))
    checked += S_check_entries(bag, "tagmanifest-sha256.txt", &tags, d);
  S_free_entries(&tags);
  S_free_entries(&man);
  return checked;
}

/* ------------------------------------------------------------------ */
/* Writing a bag                                                        */

typedef struct S_file {
  char *path;              /* bag-relative */
  char sha[BS_SHA256_HEX]; /* digest */
  long long size;          /* bytes */
} S_file;

typedef struct S_doc {
  char *rel;           /* output name below OUTDIR, "dept/a.pdf" */
  char *base;          /* rel without ".pdf" */
  bs_stamp stamp;      /* the batch's record */
  const char *title, *issuer, *number, *subject, *retention, *lang;
  const char **keywords;
  int year, y, m, d;
  S_file pdf, src;     /* in the bag */
  S_file *images;      /* the images of its figures, in the bag */
  int nimages;         /* as many as the stamp lists */
} S_doc;

typedef struct S_bag {
  const char *outdir;
  const char *tmp;     /* the bag being built */
  bs_lang lang;
  bs_arena arena;      /* metadata strings */
  bs_diags diags;      /* problems of documents and writes */
  bs_vec docs;         /* S_doc */
  bs_vec files;        /* S_file, payload */
} S_bag;

/* Write or copy one file of the bag, hashing what is written.  Files are
 * flushed all at once before the bag is renamed into place (S_flush). */
static int
S_put(S_bag *b, const char *rel, const void *data, size_t len,
      const char *copy_from, S_file *out)
{
  char *path = S_join(b->tmp, rel);
  char *slash = strrchr(path, '/');
  *slash = '\0';
  int rc = bs_mkdirs(path);
  *slash = '/';
  int in = -1, fd = -1;
  if (!rc && copy_from && (in = open(copy_from, O_RDONLY | O_CLOEXEC)) < 0)
    rc = errno;
  if (!rc && (fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                        0644)) < 0)
    rc = errno;
  bs_sha256 c;
  bs_sha256_init(&c);
  long long total = 0;
  unsigned char buf[65536];
  while (!rc) {
    const unsigned char *p;
    size_t n;
    if (copy_from) {
      ssize_t r = read(in, buf, sizeof buf);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0) {
        rc = errno;
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
  if (fd >= 0 && close(fd) != 0 && !rc)
    rc = errno;
  if (in >= 0)
    close(in);
  if (rc) {
    bs_diag(&b->diags, BS_ERROR, copy_from && in < 0 ? BS_D_IO_READ
                                                     : BS_D_IO_WRITE,
            NULL, 0, 0, copy_from && in < 0 ? copy_from : path,
            strerror(rc));
  } else {
    unsigned char d[32];
    bs_sha256_final(&c, d);
    S_file f;
    f.path = strdup(rel);
    bs_sha256_hex(d, f.sha);
    f.size = total;
    if (out)
      *out = f;
    bs_vec_push(&b->files, &f);
  }
  free(path);
  return rc;
}

/* The image `src` of a source, as a path beside it (malloc'd). */
static char *
S_image_path(const char *source, const char *src)
{
  const char *slash = strrchr(source, '/');
  size_t dl = slash ? (size_t)(slash - source) : 1;
  size_t n = dl + strlen(src) + 2;
  char *p = bs_xmalloc(n);
  snprintf(p, n, "%.*s/%s", (int)dl, slash ? source : ".", src);
  return p;
}

/* Copy an image into the bag, once: sources of one folder share their
 * images; two different images for one bag path are an error. */
static int
S_put_shared(S_bag *b, const char *rel, const char *source,
             const bs_stamp_image *im, S_file *out)
{
  S_file *fs = b->files.data;
  for (size_t i = 0; i < b->files.len; i++) {
    if (strcmp(fs[i].path, rel) != 0)
      continue;
    if (strcmp(fs[i].sha, im->sha) == 0) {
      *out = fs[i];
      return 0;
    }
    char *p = S_image_path(source, im->src);
    bs_diag(&b->diags, BS_ERROR, BS_D_BATCH_CLASH, p, 0, 0, rel, source);
    free(p);
    return EEXIST;
  }
  char *p = S_image_path(source, im->src);
  int rc = S_put(b, rel, NULL, 0, p, out);
  free(p);
  if (!rc && strcmp(out->sha, im->sha) != 0) {
    bs_diag(&b->diags, BS_ERROR, BS_D_ARCHIVE_CHANGED, rel, 0, 0, rel);
    rc = EIO;
  }
  return rc;
}

static void
S_xml(FILE *f, const char *s)
{
  for (; s && *s; s++) {
    switch (*s) {
    case '&':
      fputs("&amp;", f);
      break;
    case '<':
      fputs("&lt;", f);
      break;
    case '>':
      fputs("&gt;", f);
      break;
    case '"':
      fputs("&quot;", f);
      break;
    default:
      fputc(*s, f);
    }
  }
}

static void
S_elem(FILE *f, const char *indent, const char *name, const char *value)
{
  if (!value || !*value)
    return;
  fprintf(f, "%s<%s>", indent, name);
  S_xml(f, value);
  fprintf(f, "</%s>\n", name);
}

static void
S_file_record(FILE *f, const S_file *file, const char *format)
{
  char size[32];
  snprintf(size, sizeof size, "%lld", file->size);
  fputs("    <文档>\n", f);
  S_elem(f, "      ", "计算机文件名", file->path);
  S_elem(f, "      ", "计算机文件大小", size);
  S_elem(f, "      ", "格式信息", format);
  fprintf(f, "      <数字摘要 算法=\"SHA-256\">%s</数字摘要>\n", file->sha);
  fputs("    </文档>\n", f);
}

/* The metadata record of one document, DA/T 46-2009 element names. */
static char *
S_record(const S_doc *doc, size_t *len)
{
  char *text = NULL;
  FILE *f = open_memstream(&text, len);
  if (!f)
    return NULL;
  char date[16], year[16], pages[16];
  snprintf(date, sizeof date, "%04d-%02d-%02d", doc->y, doc->m, doc->d);
  snprintf(year, sizeof year, "%d", doc->year);
  snprintf(pages, sizeof pages, "%d", doc->stamp.pages);
  fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<!-- 文书类电子文件元数据：元素名称依 DA/T 46-2009（适用者）。"
        "由 banshi 生成。 -->\n"
        "<电子文件元数据>\n"
        "  <聚合层次>文件</聚合层次>\n"
        "  <来源>\n",
        f);
  S_elem(f, "    ", "立档单位名称", doc->issuer);
  fputs("  </来源>\n", f);
  S_elem(f, "  ", "电子文件号", doc->base);
  if (doc->year || doc->retention) {
    fputs("  <档号>\n", f);
    if (doc->year)
      S_elem(f, "    ", "年度", year);
    S_elem(f, "    ", "保管期限", doc->retention);
    fputs("  </档号>\n", f);
  }
  fputs("  <内容描述>\n", f);
  S_elem(f, "    ", "题名", doc->title);
  for (int i = 0; doc->keywords && doc->keywords[i]; i++)
    S_elem(f, "    ", "关键词", doc->keywords[i]);
  S_elem(f, "    ", "摘要", doc->subject);
  S_elem(f, "    ", "文件编号", doc->number);
  S_elem(f, "    ", "责任者", doc->issuer);
  S_elem(f, "    ", "日期", date);
  fputs("  </内容描述>\n  <形式特征>\n", f);
  S_elem(f, "    ", "页数", pages);
  S_elem(f, "    ", "语种",
         !doc->lang || strncmp(doc->lang, "zh", 2) == 0 ? "汉语" : doc->lang);
  fputs("  </形式特征>\n  <文件数据>\n", f);
  S_file_record(f, &doc->pdf, "PDF/A-1b（GB/T 23286.1-2009）");
  S_file_record(f, &doc->src, "XML（banshi 源文件）");
  for (int i = 0; i < doc->nimages; i++) {
    const char *ext = strrchr(doc->images[i].path, '.');
    bool jpeg = ext && (strcasecmp(ext, ".jpg") == 0 ||
                        strcasecmp(ext, ".jpeg") == 0);
    S_file_record(f, &doc->images[i], jpeg ? "JPEG（图片）" : "PNG（图片）");
  }
  fputs("  </文件数据>\n", f);
  fprintf(f, "  <生成方式>原生</生成方式>\n"
             "  <信息系统描述>%s %s</信息系统描述>\n"
             "</电子文件元数据>\n",
          BANSHI_NAME, BANSHI_VERSION);
  fclose(f);
  return text;
}

static int
S_cmp_doc(const void *pa, const void *pb, void *ctx)
{
  const S_doc *a = pa, *b = pb;
  UCollator *coll = ctx;
  UErrorCode st = U_ZERO_ERROR;
  UCollationResult r =
      ucol_strcollUTF8(coll, a->issuer, -1, b->issuer, -1, &st);
  if (r != UCOL_EQUAL)
    return r == UCOL_LESS ? -1 : 1;
  int da = a->y * 10000 + a->m * 100 + a->d;
  int db = b->y * 10000 + b->m * 100 + b->d;
  if (da != db)
    return da < db ? -1 : 1;
  st = U_ZERO_ERROR;
  r = ucol_strcollUTF8(coll, a->title, -1, b->title, -1, &st);
  if (r != UCOL_EQUAL)
    return r == UCOL_LESS ? -1 : 1;
  return strcmp(a->rel, b->rel);
}

static void
S_csv(FILE *f, const char *s)
{
  if (!s)
    s = "";
  if (!strpbrk(s, ",\"\r\n")) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"')
      fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

/* data/index.csv: UTF-8 with a byte order mark (so that spreadsheet
 * programs in Chinese locales do not read it as GBK), CRLF (RFC 4180). */
static char *
S_index_csv(S_bag *b, size_t *len)
{
  char *text = NULL;
  FILE *f = open_memstream(&text, len);
  if (!f)
    return NULL;
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
  fclose(f);
  return text;
}

/* data/index.xml: a core document with one table row per document. */
static char *
S_index_xml(S_bag *b, const char *org, const char *date, size_t *len)
{
  char *text = NULL;
  FILE *f = open_memstream(&text, len);
  if (!f)
    return NULL;
  fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<document version=\"1\" xml:lang=\"zh-CN\">\n<meta>"
        "<title>归档文件目录</title><issuer>",
        f);
  S_xml(f, org ? org : BANSHI_NAME);
  fprintf(f, "</issuer><date>%s</date></meta>\n<body>\n", date);
  fprintf(f, "<p>本目录列出本包所收 %zu 份文件，按责任者名称的汉语拼音排序；"
             "同一责任者按日期排列。</p>\n",
          b->docs.len);
  fputs("<table size=\"五号\">\n<colgroup><col width=\"7%\"/>"
        "<col width=\"21%\"/><col width=\"25%\"/><col width=\"17%\"/>"
        "<col width=\"14%\"/><col width=\"7%\"/><col width=\"9%\"/>"
        "</colgroup>\n<thead><tr><th>序号</th><th>责任者</th><th>题名</th>"
        "<th>文件编号</th><th>日期</th><th>页数</th><th>保管期限</th>"
        "</tr></thead>\n<tbody>\n",
        f);
  S_doc *docs = b->docs.data;
  for (size_t i = 0; i < b->docs.len; i++) {
    S_doc *d = &docs[i];
    fprintf(f, "<tr><td align=\"center\">%zu</td><td align=\"left\">",
            i + 1);
    S_xml(f, d->issuer);
    fputs("</td><td align=\"left\">", f);
    S_xml(f, d->title);
    fputs("</td><td>", f);
    S_xml(f, d->number);
    fprintf(f, "</td><td align=\"center\">%04d-%02d-%02d</td>"
               "<td align=\"center\">%d</td><td align=\"center\">",
            d->y, d->m, d->d, d->stamp.pages);
    S_xml(f, d->retention);
    fputs("</td></tr>\n", f);
  }
  fputs("</tbody>\n</table>\n</body>\n</document>\n", f);
  fclose(f);
  return text;
}

static const char *
S_adup(bs_arena *a, const char *s)
{
  return s ? bs_arena_strdup(a, s) : NULL;
}

static int
S_cmp_rel(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.pdf below OUTDIR, hidden names (banshi's state) skipped. */
static void
S_find_pdfs(const char *outdir, const char *rel, bs_vec *out, int depth)
{
  char *dir = *rel ? S_join(outdir, rel) : strdup(outdir);
  DIR *dh = opendir(dir);
  if (!dh) {
    free(dir);
    return;
  }
  struct dirent *e;
  while ((e = readdir(dh)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    char *sub = *rel ? S_join(rel, e->d_name) : strdup(e->d_name);
    char *full = S_join(dir, e->d_name);
    struct stat st;
    size_t n = strlen(e->d_name);
    if (lstat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
      if (depth < 64)
        S_find_pdfs(outdir, sub, out, depth + 1);
      free(sub);
    } else if (n > 4 && strcmp(e->d_name + n - 4, ".pdf") == 0 &&
               S_ISREG(st.st_mode)) {
      bs_vec_push(out, &sub);
    } else {
      free(sub);
    }
    free(full);
  }
  closedir(dh);
  free(dir);
}

/* Every image the stamp lists still has the digest it was rendered with. */
static bool
S_images_unchanged(S_bag *b, const bs_stamp *st)
{
  bool ok = true;
  for (int i = 0; i < st->nimages; i++) {
    char *p = S_image_path(st->source, st->images[i].src);
    char hex[BS_SHA256_HEX];
    if (bs_sha256_file(p, hex, NULL) != 0) {
      bs_diag(&b->diags, BS_ERROR, BS_D_IO_READ, p, 0, 0, p,
              strerror(errno));
      ok = false;
    } else if (strcmp(hex, st->images[i].sha) != 0) {
      bs_diag(&b->diags, BS_ERROR, BS_D_ARCHIVE_CHANGED, p, 0, 0, p);
      ok = false;
    }
    free(p);
  }
  return ok;
}

/* Check one PDF against its stamp and read its source's metadata. */
static void
S_load_doc(S_bag *b, const char *rel)
{
  S_doc doc;
  memset(&doc, 0, sizeof doc);
  char *pdf = S_join(b->outdir, rel);
  char *stamp = bs_stamp_path(b->outdir, rel);
  struct stat st;
  char hex[BS_SHA256_HEX];
  if (bs_stamp_read(stamp, &doc.stamp) != 0) {
    bs_diag(&b->diags, BS_ERROR, BS_D_ARCHIVE_RECORD, pdf, 0, 0, pdf);
  } else if (stat(pdf, &st) != 0 || st.st_size != doc.stamp.bytes) {
    bs_diag(&b->diags, BS_ERROR, BS_D_ARCHIVE_CHANGED, pdf, 0, 0, pdf);
  } else if (bs_sha256_file(doc.stamp.source, hex, NULL) != 0) {
    bs_diag(&b->diags, BS_ERROR, BS_D_IO_READ, doc.stamp.source, 0, 0,
            doc.stamp.source, strerror(errno));
  } else if (strcmp(hex, doc.stamp.source_sha) != 0) {
    bs_diag(&b->diags, BS_ERROR, BS_D_ARCHIVE_CHANGED, doc.stamp.source, 0,
            0, doc.stamp.source);
  } else if (!S_images_unchanged(b, &doc.stamp)) {
    /* reported */
  } else {
    bs_document *src = bs_parse_file(doc.stamp.source, NULL, b->lang);
    if (src->diags.errors == 0) {
      bs_normalize_options no = {doc.stamp.normalize};
      bs_normalize(src, &no);
    }
    if (src->diags.errors) {
      /* it rendered once with this digest: only a changed schema or
       * banshi gets here; report what the parser says */
      bs_diagnostic *it = src->diags.items.data;
      for (size_t i = 0; i < src->diags.items.len; i++)
        if (it[i].severity == BS_ERROR)
          bs_diag_text(&b->diags, BS_ERROR, it[i].code, it[i].file,
                       it[i].line, it[i].col, "%s", it[i].message);
    } else {
      bs_arena *a = &b->arena;
      const bs_meta *m = &src->meta;
      doc.rel = bs_arena_strdup(a, rel);
      doc.base = bs_arena_strndup(a, rel, strlen(rel) - 4);
      doc.title = S_adup(a, m->title);
      doc.issuer = S_adup(a, m->issuer);
      doc.number = S_adup(a, m->number);
      doc.subject = S_adup(a, m->subject);
      doc.retention = S_adup(a, m->retention);
      doc.lang = S_adup(a, m->lang);
      int nk = 0;
      while (m->keywords && m->keywords[nk])
        nk++;
      doc.keywords = bs_arena_alloc(a, (size_t)(nk + 1) * sizeof(char *));
      for (int i = 0; i < nk; i++)
        doc.keywords[i] = bs_arena_strdup(a, m->keywords[i]);
      doc.year = m->year;
      doc.y = m->date_y;
      doc.m = m->date_m;
      doc.d = m->date_d;
      if (!doc.title)
        doc.title = "";
      if (!doc.issuer)
        doc.issuer = "";
      bs_vec_push(&b->docs, &doc);
      bs_document_free(src);
      free(pdf);
      free(stamp);
      return;
    }
    bs_document_free(src);
  }
  bs_stamp_free(&doc.stamp);
  free(pdf);
  free(stamp);
}

static int
S_cmp_file(const void *a, const void *b)
{
  return strcmp(((const S_file *)a)->path, ((const S_file *)b)->path);
}

/* Flush every file and folder of the bag being built: one syncfs(2) of
 * its file system, files and folders alike (one call instead of an fsync
 * per file, which costs seconds per thousand files on some disks). */
static int
S_flush(const char *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return errno;
  int rc = syncfs(fd) == 0 ? 0 : errno;
  close(fd);
  return rc;
}

static void
S_bag_date(char out[16])
{
  const char *e = getenv("SOURCE_DATE_EPOCH");
  time_t t;
  struct tm tm;
  char *end = NULL;
  long long v = e && *e ? strtoll(e, &end, 10) : -1;
  if (end && !*end && v >= 0) {
    t = (time_t)v;
    gmtime_r(&t, &tm);
  } else {
    t = time(NULL);
    localtime_r(&t, &tm);
  }
  strftime(out, 16, "%Y-%m-%d", &tm);
}

typedef struct S_opts {
  const char *outdir;
  const char *bag;
  const char *verify;
  const char *org;
  bs_job_options job;
} S_opts;

static int
S_write_bag(const S_opts *o, FILE *err)
{
  struct stat st;
  if (lstat(o->bag, &st) == 0) {
    fprintf(err, S_m(o->job.lang, S_M_EXISTS), o->bag);
    return BS_STATUS_FAILURE;
  }
  S_bag b;
  memset(&b, 0, sizeof b);
  b.outdir = o->outdir;
  b.lang = o->job.lang;
  bs_arena_init(&b.arena);
  bs_diags_init(&b.diags, &b.arena, b.lang);
  b.docs.esize = sizeof(S_doc);
  b.files.esize = sizeof(S_file);
  int status = BS_STATUS_OK;

  bs_vec pdfs = BS_VEC_INIT(char *);
  if (stat(o->outdir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    bs_diag(&b.diags, BS_ERROR, BS_D_IO_READ, o->outdir, 0, 0, o->outdir,
            strerror(errno ? errno : ENOTDIR));
    status = BS_STATUS_FAILURE;
  } else {
    S_find_pdfs(o->outdir, "", &pdfs, 0);
    qsort(pdfs.data, pdfs.len, sizeof(char *), S_cmp_rel);
    for (size_t i = 0; i < pdfs.len; i++)
      S_load_doc(&b, ((char **)pdfs.data)[i]);
    if (pdfs.len == 0) {
      fprintf(err, S_m(b.lang, S_M_EMPTY), o->outdir);
      status = BS_STATUS_INVALID;
    }
  }
  for (size_t i = 0; i < pdfs.len; i++)
    free(((char **)pdfs.data)[i]);
  bs_vec_free(&pdfs);

  char *tmp = NULL;
  if (status == BS_STATUS_OK && b.diags.errors == 0) {
    /* remove bags half-built by killed runs, then build this one */
    char *parent = bs_path_dir(&b.arena, o->bag);
    const char *slash = strrchr(o->bag, '/');
    const char *name = slash ? slash + 1 : o->bag;
    DIR *dh = opendir(parent);
    struct dirent *e;
    while (dh && (e = readdir(dh)) != NULL) {
      char *final;
      long pid;
      if (bs_temp_parse(e->d_name, &final, &pid)) {
        if (strcmp(final, name) == 0 && pid != (long)getpid() &&
            kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
          char *p = S_join(parent, e->d_name);
          bs_remove_tree(p);
          free(p);
        }
        free(final);
      }
    }
    if (dh)
      closedir(dh);
    tmp = bs_temp_name(o->bag, (long)getpid());
    int e2 = bs_mkdirs(tmp);
    if (e2) {
      bs_diag(&b.diags, BS_ERROR, BS_D_IO_WRITE, NULL, 0, 0, tmp,
              strerror(e2));
      free(tmp);
      tmp = NULL;
    }
  }
  if (tmp) {
    b.tmp = tmp;
    /* the payload: each PDF with its source and its record */
    S_doc *docs = b.docs.data;
    for (size_t i = 0; i < b.docs.len && !b.diags.errors; i++) {
      S_doc *d = &docs[i];
      char *p = bs_arena_printf(&b.arena, "data/documents/%s", d->rel);
      char *s = bs_arena_printf(&b.arena, "data/documents/%s.xml", d->base);
      char *m = bs_arena_printf(&b.arena, "data/metadata/%s.xml", d->base);
      char *from = S_join(o->outdir, d->rel);
      int rc = S_put(&b, p, NULL, 0, from, &d->pdf);
      free(from);
      if (rc || S_put(&b, s, NULL, 0, d->stamp.source, &d->src))
        break;
      /* the images beside the source copy, where its figures find them */
      d->nimages = d->stamp.nimages;
      d->images = bs_arena_alloc(&b.arena, (size_t)(d->nimages + 1) *
                                               sizeof(S_file));
      const char *slash = strrchr(d->rel, '/');
      for (int k = 0; k < d->nimages && !b.diags.errors; k++) {
        char *ip = bs_arena_printf(&b.arena, "data/documents/%.*s%s%s",
                                   slash ? (int)(slash - d->rel) : 0, d->rel,
                                   slash ? "/" : "", d->stamp.images[k].src);
        if (S_put_shared(&b, ip, d->stamp.source, &d->stamp.images[k],
                         &d->images[k]))
          break;
      }
      size_t len = 0;
      char *rec = S_record(d, &len);
      S_put(&b, m, rec, len, NULL, NULL);
      free(rec);
    }
    /* the index, in pinyin order of the issuing bodies */
    if (!b.diags.errors) {
      UErrorCode ust = U_ZERO_ERROR;
      UCollator *coll = ucol_open("zh", &ust);
      if (U_SUCCESS(ust))
        qsort_r(b.docs.data, b.docs.len, sizeof(S_doc), S_cmp_doc, coll);
      ucol_close(coll);
      size_t len = 0;
      char *csv = S_index_csv(&b, &len);
      S_put(&b, "data/index.csv", csv, len, NULL, NULL);
      free(csv);
      char date[16];
      S_bag_date(date);
      char *xml = S_index_xml(&b, o->org, date, &len);
      S_put(&b, "data/index.xml", xml, len, NULL, NULL);
      free(xml);
      if (!b.diags.errors) {
        char *ix = S_join(tmp, "data/index.xml");
        char *ip = S_join(tmp, "data/index.pdf");
        bs_job_options jo = o->job;
        jo.normalize = false; /* the text is the sources' normalised text */
        bs_shared *sh = bs_shared_new(&jo);
        bs_job_result res;
        if (bs_job_run(sh, ix, ip, NULL, NULL, &res) != BS_STATUS_OK) {
          fputs(res.diagnostics, err);
          status = BS_STATUS_FAILURE;
        } else {
          /* hash it as a payload file (written by the PDF renderer) */
          S_file f;
          f.path = strdup("data/index.pdf");
          bs_sha256_file(ip, f.sha, &f.size);
          bs_vec_push(&b.files, &f);
        }
        bs_job_result_free(&res);
        bs_shared_free(sh);
        free(ix);
        free(ip);
      }
    }
    /* manifests and tag files */
    if (!b.diags.errors && status == BS_STATUS_OK) {
      S_file *fs = b.files.data;
      size_t nf = b.files.len;
      qsort(fs, nf, sizeof *fs, S_cmp_file);
      char *text = NULL;
      size_t len = 0;
      long long octets = 0;
      FILE *m = open_memstream(&text, &len);
      for (size_t i = 0; i < nf; i++) {
        char *enc = bs_bag_encode_path(fs[i].path);
        fprintf(m, "%s  %s\n", fs[i].sha, enc);
        free(enc);
        octets += fs[i].size;
      }
      fclose(m);
      bs_vec tags = {NULL, 0, 0, sizeof(S_file)};
      bs_vec payload = b.files;
      b.files = tags; /* S_put now collects the tag files */
      S_put(&b, "manifest-sha256.txt", text, len, NULL, NULL);
      free(text);
      const char *bagit = "BagIt-Version: 1.0\n"
                          "Tag-File-Character-Encoding: UTF-8\n";
      S_put(&b, "bagit.txt", bagit, strlen(bagit), NULL, NULL);
      char date[16];
      S_bag_date(date);
      m = open_memstream(&text, &len);
      if (o->org)
        fprintf(m, "Source-Organization: %s\n", o->org);
      fprintf(m,
              "Bagging-Date: %s\n"
              "Payload-Oxum: %lld.%zu\n"
              "Bag-Software-Agent: %s %s\n"
              "External-Description: %zu 份文件（PDF/A-1b）及其 XML "
              "源文件与 DA/T 46 元数据 / %zu documents (PDF/A-1b) with "
              "their XML sources and DA/T 46 metadata\n",
              date, octets, nf, BANSHI_NAME, BANSHI_VERSION, b.docs.len,
              b.docs.len);
      fclose(m);
      S_put(&b, "bag-info.txt", text, len, NULL, NULL);
      free(text);
      fs = b.files.data;
      m = open_memstream(&text, &len);
      qsort(fs, b.files.len, sizeof *fs, S_cmp_file);
      for (size_t i = 0; i < b.files.len; i++)
        fprintf(m, "%s  %s\n", fs[i].sha, fs[i].path);
      fclose(m);
      bs_vec list = b.files;
      b.files = payload;
      S_put(&b, "tagmanifest-sha256.txt", text, len, NULL, NULL);
      free(text);
      for (size_t i = 0; i < list.len; i++)
        free(((S_file *)list.data)[i].path);
      bs_vec_free(&list);
      int fe = b.diags.errors ? 0 : S_flush(tmp);
      if (fe)
        bs_diag(&b.diags, BS_ERROR, BS_D_IO_WRITE, NULL, 0, 0, tmp,
                strerror(fe));
      if (!b.diags.errors) {
        if (rename(tmp, o->bag) != 0) {
          bs_diag(&b.diags, BS_ERROR, BS_D_IO_WRITE, NULL, 0, 0, o->bag,
                  strerror(errno));
        } else {
          bs_fsync_dir(bs_path_dir(&b.arena, o->bag));
          fprintf(err, S_m(b.lang, S_M_WRITTEN), o->bag, b.docs.len,
                  nf + 4, octets);
        }
      }
    }
    if (b.diags.errors || status != BS_STATUS_OK)
      bs_remove_tree(tmp);
    free(tmp);
  }
  bs_diags_print(&b.diags, err);
  if (b.diags.errors && status == BS_STATUS_OK) {
    const bs_diagnostic *it = b.diags.items.data;
    status = BS_STATUS_INVALID;
    for (size_t i = 0; i < b.diags.items.len; i++)
      if (it[i].code == BS_D_IO_READ || it[i].code == BS_D_IO_WRITE)
        status = BS_STATUS_FAILURE;
  }
  S_doc *docs = b.docs.data;
  for (size_t i = 0; i < b.docs.len; i++)
    bs_stamp_free(&docs[i].stamp);
  bs_vec_free(&b.docs);
  for (size_t i = 0; i < b.files.len; i++)
    free(((S_file *)b.files.data)[i].path);
  bs_vec_free(&b.files);
  bs_diags_free(&b.diags);
  bs_arena_free(&b.arena);
  return status;
}

static void
S_usage(FILE *f)
{
  fputs("usage: banshi archive OUTDIR -o BAG [options]\n"
        "       banshi archive --verify BAG [--lang zh|en]\n"
        "\n"
        "Pack the PDFs that banshi batch wrote to OUTDIR, each with its "
        "XML source\n"
        "and a DA/T 46 metadata record, with an index (CSV and PDF/A) in "
        "pinyin\n"
        "order of the issuing bodies, as a BagIt bag (RFC 8493); or check "
        "every\n"
        "checksum of a bag.\n"
        "\n"
        "options:\n"
        "  -o, --output BAG       the bag folder to create (must not "
        "exist)\n"
        "  --verify BAG           check a bag: missing, altered and "
        "unlisted files\n"
        "  --organization NAME    Source-Organization of bag-info.txt and "
        "issuer of\n"
        "                         the index\n"
        "  --template NAME, --fonts MAP, --lang zh|en   as for banshi "
        "render\n"
        "\n"
        "exit status: 0 success (a valid bag), 1 problems found, 2 usage "
        "error,\n"
        "             3 I/O failure\n",
        f);
}

int
bs_archive_main(int argc, char **argv, FILE *out, FILE *err)
{
  S_opts o;
  memset(&o, 0, sizeof o);
  o.job.normalize = true;
  o.job.epoch = -1;
  const char *e = getenv("SOURCE_DATE_EPOCH");
  if (e && *e) {
    char *end;
    long long v = strtoll(e, &end, 10);
    if (!*end && v >= 0)
      o.job.epoch = v;
  }
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      S_usage(out);
      return BS_STATUS_OK;
    }
    const char **slot = NULL;
    if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0)
      slot = &o.bag;
    else if (strcmp(a, "--verify") == 0)
      slot = &o.verify;
    else if (strcmp(a, "--organization") == 0)
      slot = &o.org;
    else if (strcmp(a, "--template") == 0)
      slot = &o.job.tpl;
    else if (strcmp(a, "--fonts") == 0)
      slot = &o.job.font_map;
    else if (strcmp(a, "--lang") == 0) {
      if (i + 1 >= argc || (strcmp(argv[i + 1], "zh") != 0 &&
                            strcmp(argv[i + 1], "en") != 0)) {
        fprintf(err, "banshi: --lang takes zh or en\n");
        return BS_STATUS_USAGE;
      }
      o.job.lang = strcmp(argv[++i], "en") == 0 ? BS_LANG_EN : BS_LANG_ZH;
      continue;
    } else if (a[0] == '-' && a[1]) {
      fprintf(err, "banshi: unknown option '%s'\n", a);
      return BS_STATUS_USAGE;
    } else {
      if (o.outdir) {
        fprintf(err, "banshi: archive takes one OUTDIR\n");
        return BS_STATUS_USAGE;
      }
      o.outdir = a;
      continue;
    }
    if (i + 1 >= argc) {
      fprintf(err, "banshi: %s needs a value\n", a);
      return BS_STATUS_USAGE;
    }
    *slot = argv[++i];
  }
  if (o.verify) {
    if (o.outdir || o.bag) {
      fprintf(err, "banshi: archive --verify takes only the BAG\n");
      return BS_STATUS_USAGE;
    }
    bs_arena a;
    bs_diags d;
    bs_arena_init(&a);
    bs_diags_init(&d, &a, o.job.lang);
    d.max_per_code = 0; /* every missing or altered file is listed */
    long n = bs_bag_verify(o.verify, &d);
    int status;
    if (n < 0) {
      fprintf(err, "%s: error: ", o.verify);
      fprintf(err, bs_diag_format(BS_D_IO_READ, o.job.lang), o.verify,
              strerror(errno ? errno : ENOTDIR));
      fputc('\n', err);
      status = BS_STATUS_FAILURE;
    } else {
      bs_diags_print(&d, err);
      if (d.errors) {
        fprintf(err, S_m(o.job.lang, S_M_INVALID), o.verify, d.errors);
        status = BS_STATUS_INVALID;
      } else {
        fprintf(err, S_m(o.job.lang, S_M_VALID), o.verify, n);
        status = BS_STATUS_OK;
      }
    }
    bs_diags_free(&d);
    bs_arena_free(&a);
    return status;
  }
  if (!o.outdir || !o.bag) {
    fprintf(err, "banshi: archive takes OUTDIR and -o BAG\n");
    S_usage(err);
    return BS_STATUS_USAGE;
  }
  return S_write_bag(&o, err);
}
