// SPDX-License-Identifier: Apache-2.0
/* fuzz_bag.c - libFuzzer target: `banshi archive --verify` (bs_bag_verify)
 * on damaged bags.
 *
 * Every input starts from the same small valid bag in the scratch folder
 * (three payload files, one in a subfolder, both manifests, bag-info.txt
 * with its Payload-Oxum) and a folder `outside` beside it holding copies
 * of the payload.  The first byte picks the mode: bit 0 English messages;
 * bits 1-2 (1, 2, 3) replace manifest-sha256.txt, bag-info.txt or
 * bagit.txt with the rest of the input (the parsers' share of the work);
 * 0 reads the rest as damage operations, each an operation byte, a member
 * byte and for some a length and bytes: replace, append, truncate, remove,
 * a link to the outside copy, a link inside the bag, a FIFO, a folder.
 *
 * Besides the sanitizers' findings: verification returns a count; a bag
 * left intact verifies with no problem; any link, FIFO or other special
 * file in the bag is an error; every message is one line and located in
 * the bag (or nowhere); and a bag found valid is valid by a second, simple
 * reading: every regular payload file is listed with its SHA-256.  A FIFO
 * that were opened would hang the target (libFuzzer's -timeout).  Names
 * are fixed and nothing depends on the time or the process id, so a fixed
 * seed gives the same run. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bag.h"
#include "fsio.h"
#include "fuzz.h"
#include "sha256.h"
#include "util.h"

#define S_BAG "bag"

static const char *const S_members[] = {
    "bagit.txt",
    "bag-info.txt",
    "manifest-sha256.txt",
    "tagmanifest-sha256.txt",
    "data",
    "data/a.pdf",
    "data/sub",
    "data/sub/b.xml",
    "data/c.txt",
    "data/new.bin",
    "manifest-md5.txt",
    "other/tag.txt",
};
#define S_NMEMBERS (sizeof S_members / sizeof *S_members)

static const struct {
  const char *path, *text;
} S_payload[] = {
    {"data/a.pdf", "%PDF-1.4 a\n"},
    {"data/sub/b.xml", "<b/>\n"},
    {"data/c.txt", "c\n"},
};

static void
S_write(const char *path, const void *data, size_t n, bool append)
{
  char dir[512];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash) {
    *slash = '\0';
    bs_mkdirs(dir);
  }
  int fd = open(path,
                O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
                    (append ? O_APPEND : O_TRUNC),
                0644);
  if (fd < 0)
    return;
  if (n && write(fd, data, n) < 0) {
    /* a folder or FIFO in the way: that damage stays */
  }
  close(fd);
}

/* The files of the valid bag, as S_make writes them. */
static struct {
  char path[32];
  char text[512];
} S_files[7];
static size_t S_nfiles;

static void
S_keep(const char *path, const char *text)
{
  if (S_nfiles < sizeof S_files / sizeof *S_files) {
    snprintf(S_files[S_nfiles].path, sizeof S_files[0].path, "%s", path);
    snprintf(S_files[S_nfiles].text, sizeof S_files[0].text, "%s", text);
    S_nfiles++;
  }
}

/* The valid bag in folder `root`. */
static void
S_make(const char *root)
{
  S_nfiles = 0;
  bs_remove_tree(root);
  char manifest[1024] = "", tags[1024] = "", path[256], hex[BS_SHA256_HEX];
  size_t octets = 0;
  for (size_t i = 0; i < 3; i++) {
    const char *t = S_payload[i].text;
    snprintf(path, sizeof path, "%s/%s", root, S_payload[i].path);
    S_write(path, t, strlen(t), false);
    S_keep(S_payload[i].path, t);
    bs_sha256_buf(t, strlen(t), hex);
    size_t n = strlen(manifest);
    snprintf(manifest + n, sizeof manifest - n, "%s  %s\n", hex,
             S_payload[i].path);
    octets += strlen(t);
  }
  char info[128];
  snprintf(info, sizeof info, "Bagging-Date: 2020-01-01\nPayload-Oxum: %zu.3\n",
           octets);
  const char *bagit =
      "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
  const char *names[3] = {"bagit.txt", "bag-info.txt", "manifest-sha256.txt"};
  const char *texts[3] = {bagit, info, manifest};
  for (int i = 0; i < 3; i++) {
    snprintf(path, sizeof path, "%s/%s", root, names[i]);
    S_write(path, texts[i], strlen(texts[i]), false);
    S_keep(names[i], texts[i]);
    bs_sha256_buf(texts[i], strlen(texts[i]), hex);
    size_t n = strlen(tags);
    snprintf(tags + n, sizeof tags - n, "%s  %s\n", hex, names[i]);
  }
  snprintf(path, sizeof path, "%s/tagmanifest-sha256.txt", root);
  S_write(path, tags, strlen(tags), false);
  S_keep("tagmanifest-sha256.txt", tags);
}

/* The top-level entries of the bag that an input changed, restored after
 * it: rebuilding only those keeps the target fast on disks
 * where removing files is slow, and every input starts from the same bag. */
static char S_touched[8][32];
static int S_ntouched;

static void
S_touch(const char *member)
{
  char top[32];
  snprintf(top, sizeof top, "%.*s", (int)strcspn(member, "/"), member);
  for (int i = 0; i < S_ntouched; i++)
    if (strcmp(S_touched[i], top) == 0)
      return;
  if (S_ntouched < 8)
    snprintf(S_touched[S_ntouched++], sizeof S_touched[0], "%s", top);
}

/* Put the touched entries back as S_make made them. */
static void
S_restore(void)
{
  for (int i = 0; i < S_ntouched; i++) {
    char path[256];
    snprintf(path, sizeof path, S_BAG "/%.32s", S_touched[i]);
    bs_remove_tree(path);
    for (size_t k = 0; k < S_nfiles; k++) {
      size_t n = strlen(S_touched[i]);
      if (strncmp(S_files[k].path, S_touched[i], n) == 0 &&
          (S_files[k].path[n] == '\0' || S_files[k].path[n] == '/')) {
        snprintf(path, sizeof path, S_BAG "/%.32s", S_files[k].path);
        S_write(path, S_files[k].text, strlen(S_files[k].text), false);
      }
    }
  }
  S_ntouched = 0;
}

/* True if no folder on the way to `path` is a link or a file: damage is
 * done to the bag only, never through a link to the outside copy (which
 * would carry one input's damage into the next). */
static bool
S_inside(const char *path)
{
  char pre[256];
  for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
    snprintf(pre, sizeof pre, "%.*s", (int)(s - path), path);
    struct stat st;
    if (lstat(pre, &st) == 0 && !S_ISDIR(st.st_mode))
      return false;
  }
  return true;
}

/* Apply the damage operations; false if none was applied. */
static bool
S_damage(const uint8_t *p, size_t n)
{
  bool any = false;
  char path[256], target[256];
  for (size_t i = 0; i + 1 < n;) {
    uint8_t op = p[i] % 8;
    const char *m = S_members[p[i + 1] % S_NMEMBERS];
    i += 2;
    size_t len = 0;
    if (op <= 2) {
      if (i >= n)
        break;
      len = p[i++] % 64;
    }
    snprintf(path, sizeof path, S_BAG "/%s", m);
    S_touch(m);
    if (!S_inside(path)) {
      i += op <= 1 ? (len < n - i ? len : n - i) : 0;
      continue;
    }
    int depth = 0;
    for (const char *s = m; *s; s++)
      depth += *s == '/';
    /* from the member's folder: up to the bag, then up once more */
    size_t up = 0;
    for (int k = 0; k < depth; k++)
      up += (size_t)snprintf(target + up, sizeof target - up, "../");
    any = true;
    switch (op) {
    case 0: /* replace */
      if (len > n - i)
        len = n - i;
      bs_remove_tree(path);
      S_write(path, p + i, len, false);
      i += len;
      break;
    case 1: /* append */
      if (len > n - i)
        len = n - i;
      S_write(path, p + i, len, true);
      i += len;
      break;
    case 2: /* truncate, never through a link */
    {
      int fd = open(path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK);
      if (fd >= 0) {
        if (ftruncate(fd, (off_t)len) != 0) {
          /* not a file: nothing to cut */
        }
        close(fd);
      }
      break;
    }
    case 3:
      bs_remove_tree(path);
      break;
    case 4: /* a link to the outside copy: same name, same content */
    case 5: /* a link to another member inside the bag */
    case 7: /* a FIFO */
    {
      bs_remove_tree(path);
      snprintf(target + up, sizeof target - up, "%s",
               op == 4 ? "../outside/" : "data/a.pdf");
      if (op == 4)
        snprintf(target + up + 11, sizeof target - up - 11, "%s", m);
      char dir[256];
      snprintf(dir, sizeof dir, "%s", path);
      *strrchr(dir, '/') = '\0';
      bs_mkdirs(dir);
      if (op == 7) {
        if (mkfifo(path, 0644) != 0) {
          /* the folder could not be made: no FIFO */
        }
      } else if (symlink(target, path) != 0) {
        /* likewise */
      }
      break;
    }
    case 6: /* a folder */
      bs_remove_tree(path);
      bs_mkdirs(path);
      break;
    }
  }
  return any;
}

/* True if the bag holds a link, FIFO or other special file anywhere. */
static bool
S_has_special(const char *dir, int depth)
{
  DIR *d = opendir(dir);
  if (!d)
    return false;
  bool found = false;
  struct dirent *e;
  /* every entry, whatever is found first: the same work in any readdir
   * order, so that runs on different file systems follow the same path */
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    char sub[1024];
    snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
    struct stat st;
    if (lstat(sub, &st) != 0)
      continue;
    if (S_ISDIR(st.st_mode))
      found = (depth < 60 && S_has_special(sub, depth + 1)) || found;
    else
      found = !S_ISREG(st.st_mode) || found;
  }
  closedir(d);
  return found;
}

/* A simple second reading for a bag found valid: every regular file below
 * data/ is listed in manifest-sha256.txt with its digest. */
static void
S_check_valid(const char *dir, const char *rel, const char *manifest)
{
  DIR *d = opendir(dir);
  if (!d)
    return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    char sub[1024], subrel[1024];
    snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
    snprintf(subrel, sizeof subrel, "%s/%s", rel, e->d_name);
    struct stat st;
    if (lstat(sub, &st) != 0)
      continue;
    if (S_ISDIR(st.st_mode)) {
      S_check_valid(sub, subrel, manifest);
      continue;
    }
    size_t n = 0;
    unsigned char *buf = bs_read_file(sub, 0, &n);
    char hex[BS_SHA256_HEX];
    bs_sha256_buf(buf, n, hex);
    free(buf);
    bool listed = false;
    for (const char *l = manifest; *l && !listed;) {
      const char *nl = strchr(l, '\n');
      size_t len = nl ? (size_t)(nl - l) : strlen(l);
      char line[4096];
      if (len >= sizeof line)
        len = sizeof line - 1;
      memcpy(line, l, len);
      line[len] = '\0';
      if (len && line[len - 1] == '\r')
        line[len - 1] = '\0';
      char *p = line + strcspn(line, " \t");
      if (p - line == 64) {
        *p++ = '\0';
        p += strspn(p, " \t");
        for (char *h = line; *h; h++)
          if (*h >= 'A' && *h <= 'F')
            *h = (char)(*h + 32);
        char *dec = bs_bag_decode_path(p);
        listed = dec && strcmp(dec, subrel) == 0 && strcmp(line, hex) == 0;
        free(dec);
      }
      l = nl ? nl + 1 : l + len;
    }
    FUZZ_CHECK(listed, "found valid, but %s (SHA-256 %s) is not listed", subrel,
               hex);
  }
  closedir(d);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_tmpdir();     /* the current folder from now on */
  S_make("outside"); /* never written again: links only lead to it */
  S_make(S_BAG);
  return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  uint8_t opt = data[0];
  bool intact = true;
  int mode = (opt >> 1) & 3;
  if (mode) {
    static const char *const raw[] = {NULL, "manifest-sha256.txt",
                                      "bag-info.txt", "bagit.txt"};
    char path[256];
    snprintf(path, sizeof path, S_BAG "/%s", raw[mode]);
    S_touch(raw[mode]);
    S_write(path, data + 1, size - 1, false);
    intact = false;
  } else {
    intact = !S_damage(data + 1, size - 1);
  }

  bs_arena arena;
  bs_diags d;
  bs_arena_init(&arena);
  bs_diags_init(&d, &arena, opt & 1 ? BS_LANG_EN : BS_LANG_ZH);
  d.max_per_code = 0;
  long n = bs_bag_verify(S_BAG, &d);
  FUZZ_CHECK(n >= 0, "the bag folder could not be opened");
  if (intact)
    FUZZ_CHECK(d.errors == 0 && n == 6, "an intact bag: %u errors, %ld checked",
               d.errors, n);
  if (S_has_special(S_BAG, 0))
    FUZZ_CHECK(d.errors > 0, "a link or special file was not reported");
  const bs_diagnostic *it = d.items.data;
  for (size_t i = 0; i < d.items.len; i++) {
    FUZZ_CHECK(!strchr(it[i].message, '\n'), "a message of two lines: %s",
               it[i].message);
    FUZZ_CHECK(!it[i].file || strncmp(it[i].file, S_BAG "/", 4) == 0,
               "a message located outside the bag: %s: %s", it[i].file,
               it[i].message);
  }
  if (d.errors == 0) {
    size_t len = 0;
    unsigned char *manifest =
        bs_read_file(S_BAG "/manifest-sha256.txt", 0, &len);
    FUZZ_CHECK(manifest != NULL, "found valid without a payload manifest");
    S_check_valid(S_BAG "/data", "data", (const char *)manifest);
    free(manifest);
  }
  FILE *null = fopen("/dev/null", "w");
  bs_diags_print(&d, null);
  fclose(null);
  bs_diags_free(&d);
  bs_arena_free(&arena);
  /* here, not before the next input: what an input runs depends on that
   * input alone */
  S_restore();
  return 0;
}
