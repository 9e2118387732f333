// SPDX-License-Identifier: Apache-2.0
/* Unit tests of batch production and archiving: SHA-256, atomic files,
 * planning, shards, stamps, manifest paths. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bag.h"
#include "batch.h"
#include "fingerprint.h"
#include "fsio.h"
#include "harness.h"
#include "sha256.h"

void test_sha256(test_state *st);
void test_fingerprint(test_state *st);
void test_fsio(test_state *st);
void test_plan(test_state *st);
void test_shard(test_state *st);
void test_bagpath(test_state *st);

static void
S_hex_of(const void *data, size_t n, char hex[BS_SHA256_HEX])
{
  bs_sha256_buf(data, n, hex);
}

void
test_sha256(test_state *st)
{
  char hex[BS_SHA256_HEX];
  /* FIPS 180-4 examples and the empty message */
  S_hex_of("", 0, hex);
  CHECK_STR(st, hex,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  S_hex_of("abc", 3, hex);
  CHECK_STR(st, hex,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  S_hex_of(two, strlen(two), hex);
  CHECK_STR(st, hex,
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const char *four = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                     "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
  S_hex_of(four, strlen(four), hex);
  CHECK_STR(st, hex,
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  /* one million 'a', fed in pieces that straddle block boundaries */
  bs_sha256 c;
  unsigned char d[32];
  char chunk[1000];
  memset(chunk, 'a', sizeof chunk);
  bs_sha256_init(&c);
  size_t left = 1000000, k = 1;
  while (left) {
    size_t n = k % 997 + 1;
    if (n > left)
      n = left;
    bs_sha256_update(&c, chunk, n);
    left -= n;
    k += 37;
  }
  bs_sha256_final(&c, d);
  bs_sha256_hex(d, hex);
  CHECK_STR(st, hex,
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  /* every length around the padding boundaries: piecewise == whole */
  unsigned char buf[200];
  for (int i = 0; i < 200; i++)
    buf[i] = (unsigned char)(i * 7 + 1);
  int bad = 0;
  for (size_t n = 0; n <= 200; n++) {
    char whole[BS_SHA256_HEX], parts[BS_SHA256_HEX];
    S_hex_of(buf, n, whole);
    bs_sha256_init(&c);
    for (size_t i = 0; i < n; i++)
      bs_sha256_update(&c, buf + i, 1);
    bs_sha256_final(&c, d);
    bs_sha256_hex(d, parts);
    bad += strcmp(whole, parts) != 0;
  }
  CHECK_INT(st, bad, 0);
  /* a file */
  char path[] = "/tmp/bs-sha-XXXXXX";
  int fd = mkstemp(path);
  CHECK(st, fd >= 0, "mkstemp");
  CHECK(st, write(fd, "abc", 3) == 3, "write");
  close(fd);
  long long size = 0;
  CHECK_INT(st, bs_sha256_file(path, hex, &size), 0);
  CHECK_INT(st, size, 3);
  CHECK_STR(st, hex,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  unlink(path);
  CHECK_INT(st, bs_sha256_file(path, hex, NULL), -1);
}

/* XXH3-128 of files (the batch key of fonts and other shared inputs),
 * against xxh128sum of the xxhash package: a short file, an empty one and
 * one of 3,000,000 bytes (mapped in many pages). */
void
test_fingerprint(test_state *st)
{
  static const struct {
    size_t n;
    const char *hex;
  } cases[] = {
      {3, "06b05ab6733a618578af5f94892f3950"},
      {0, "99aa06d3014798d86001c324468d497f"},
      {3000000, "1f895bac9b72598405afde2f9995314a"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char path[] = "/tmp/bs-fp-XXXXXX";
    int fd = mkstemp(path);
    CHECK(st, fd >= 0, "mkstemp");
    size_t n = cases[i].n;
    char *data = malloc(n + 1);
    memset(data, 'x', n);
    if (n == 3)
      memcpy(data, "abc", 3);
    CHECK(st, write(fd, data, n) == (ssize_t)n, "write");
    close(fd);
    char hex[BS_FINGERPRINT_HEX];
    long long size = -1;
    CHECK_INT(st, bs_fingerprint_file(path, hex, &size), 0);
    CHECK_INT(st, size, (long long)n);
    CHECK_STR(st, hex, cases[i].hex);
    /* one byte changed, the size kept: another fingerprint */
    if (n) {
      data[n / 2] ^= 1;
      fd = open(path, O_WRONLY);
      CHECK(st, fd >= 0 && write(fd, data, n) == (ssize_t)n, "rewrite");
      close(fd);
      CHECK_INT(st, bs_fingerprint_file(path, hex, NULL), 0);
      CHECK(st, strcmp(hex, cases[i].hex) != 0, "a changed byte went unseen");
    }
    free(data);
    unlink(path);
    CHECK_INT(st, bs_fingerprint_file(path, hex, NULL), -1);
  }
  /* not a regular file: refused as SHA-256's reader refuses it */
  char hex[BS_FINGERPRINT_HEX];
  CHECK_INT(st, bs_fingerprint_file("/tmp", hex, NULL), -1);
  CHECK_INT(st, errno, BS_E_SPECIAL);
}

static bool
S_exists(const char *path)
{
  struct stat s;
  return stat(path, &s) == 0;
}

static char *
S_read(const char *path)
{
  FILE *f = fopen(path, "r");
  if (!f)
    return NULL;
  char *buf = calloc(1, 4096);
  size_t n = fread(buf, 1, 4095, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

static bool
S_any(void *ctx, const char *final)
{
  (void)ctx;
  (void)final;
  return true;
}

void
test_fsio(test_state *st)
{
  char dir[] = "/tmp/bs-fsio-XXXXXX";
  CHECK(st, mkdtemp(dir) != NULL, "mkdtemp");
  char path[256], sub[256];
  snprintf(path, sizeof path, "%s/out.pdf", dir);

  /* temporary names: the same shape as the PDF writer's */
  char *t = bs_temp_name(path, 1234);
  char want[300];
  snprintf(want, sizeof want, "%s/.out.pdf.1234.tmp", dir);
  CHECK_STR(st, t, want);
  char *final = NULL;
  long pid = 0;
  CHECK(st, bs_temp_parse(".out.pdf.1234.tmp", &final, &pid), "parse");
  CHECK_STR(st, final, "out.pdf");
  CHECK_INT(st, pid, 1234);
  free(final);
  free(t);
  /* the per-writer counter of bs_atomic_open */
  CHECK(st, bs_temp_parse(".out.pdf.1234-7.tmp", &final, &pid), "parse -N");
  CHECK_STR(st, final, "out.pdf");
  CHECK_INT(st, pid, 1234);
  free(final);
  CHECK(st, !bs_temp_parse(".out.pdf.-7.tmp", &final, &pid), "no pid before -N");
  CHECK(st, !bs_temp_parse("out.pdf", &final, &pid), "not a temporary");
  CHECK(st, !bs_temp_parse(".out.pdf.tmp", &final, &pid), "no pid");
  CHECK(st, !bs_temp_parse(".x.12a.tmp", &final, &pid), "bad pid");

  /* atomic write: the content appears whole, no temporary is left */
  CHECK_INT(st, bs_atomic_write(path, "first", 5, true), 0);
  char *s = S_read(path);
  CHECK_STR(st, s, "first");
  free(s);
  bs_atomic a;
  CHECK_INT(st, bs_atomic_open(&a, path), 0);
  fputs("second, longer", a.f);
  fflush(a.f);
  s = S_read(path); /* before the commit the old file is intact */
  CHECK_STR(st, s, "first");
  free(s);
  CHECK_INT(st, bs_atomic_commit(&a), 0);
  s = S_read(path);
  CHECK_STR(st, s, "second, longer");
  free(s);
  CHECK_INT(st, bs_atomic_open(&a, path), 0);
  fputs("abandoned", a.f);
  bs_atomic_abort(&a);
  s = S_read(path);
  CHECK_STR(st, s, "second, longer");
  free(s);
  snprintf(want, sizeof want, "%s/.out.pdf.%ld.tmp", dir, (long)getpid());
  CHECK(st, !S_exists(want), "temporary removed");

  /* a writer's folder must exist; the error is reported, not hidden */
  snprintf(sub, sizeof sub, "%s/missing/x.pdf", dir);
  CHECK(st, bs_atomic_write(sub, "x", 1, true) != 0, "missing folder");

  /* stale temporaries: only those nobody writes go.  A writer holds the
   * lock of its temporary (bs_atomic_open), whatever PID its name shows:
   * one in another PID namespace may show a PID that is dead here. */
  pid_t child = fork();
  if (child == 0)
    _exit(0);
  waitpid(child, NULL, 0);
  char *dead = bs_temp_name(path, (long)child);
  CHECK_INT(st, bs_atomic_write(dead, "x", 1, true), 0);
  bs_atomic writing;
  CHECK_INT(st, bs_atomic_open(&writing, path), 0);
  char *other = bs_temp_name(path, (long)child + 1000000);
  int ofd = open(other, O_WRONLY | O_CREAT | O_EXCL, 0644);
  CHECK(st, ofd >= 0 && flock(ofd, LOCK_EX) == 0, "lock a foreign temporary");
  CHECK_INT(st, bs_remove_stale_temps(dir, S_any, NULL), 1);
  CHECK(st, !S_exists(dead), "dead writer's temporary removed");
  CHECK(st, S_exists(writing.tmp), "live writer's temporary kept");
  CHECK(st, S_exists(other), "a locked temporary of another namespace kept");
  bs_atomic_abort(&writing);
  close(ofd);
  CHECK_INT(st, bs_remove_stale_temps(dir, S_any, NULL), 1);
  CHECK(st, !S_exists(other), "unlocked, it is stale");
  free(dead);
  free(other);

  /* mkdirs and remove_tree */
  snprintf(sub, sizeof sub, "%s/a/b/c", dir);
  CHECK_INT(st, bs_mkdirs(sub), 0);
  CHECK_INT(st, bs_mkdirs(sub), 0);
  snprintf(sub, sizeof sub, "%s/a/b/c/f.txt", dir);
  CHECK_INT(st, bs_atomic_write(sub, "x", 1, true), 0);
  CHECK_INT(st, bs_mkdirs(sub), ENOTDIR);
  CHECK_INT(st, bs_remove_tree(dir), 0);
  CHECK(st, !S_exists(dir), "tree removed");
}

static void
S_write(const char *dir, const char *name, const char *text)
{
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  char *slash = strrchr(path, '/');
  *slash = '\0';
  bs_mkdirs(path);
  *slash = '/';
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
}

static const bs_batch_item *
S_item(const bs_batch_plan *p, const char *rel)
{
  const bs_batch_item *it = p->items.data;
  for (size_t i = 0; i < p->items.len; i++)
    if (strcmp(it[i].rel, rel) == 0)
      return &it[i];
  return NULL;
}

typedef struct S_seen {
  char text[512];
} S_seen;

static void
S_image(void *ctx, const char *src, const char *path)
{
  S_seen *s = ctx;
  size_t n = strlen(s->text);
  snprintf(s->text + n, sizeof s->text - n, "%s=%s;", src,
           path ? strrchr(path, '/') + 1 : "-");
}

/* The images bs_source_images finds for dir/name, as S_image lists them. */
static const char *
S_images_of(S_seen *seen, const char *dir, const char *name)
{
  char src[512];
  snprintf(src, sizeof src, "%s/%s", dir, name);
  seen->text[0] = '\0';
  bs_source_images(src, S_image, seen);
  return seen->text;
}

void
test_plan(test_state *st)
{
  char dir[] = "/tmp/bs-plan-XXXXXX";
  CHECK(st, mkdtemp(dir) != NULL, "mkdtemp");
  S_write(dir, "tree/a.xml", "x");
  S_write(dir, "tree/sub/b.XML", "x");
  S_write(dir, "tree/notes.txt", "x");
  S_write(dir, "tree/.hidden.xml", "x");
  S_write(dir, "tree/.banshi/c.xml", "x");
  S_write(dir, "other/a.xml", "x");
  S_write(dir, "list/m.txt",
          "# a manifest\n"
          "\n"
          "dept1/report.xml\tdept1/report-2019.xml\n"
          "dept2/report.xml\r\n"
          "../other/a.xml\n"
          "./dept1/report.xml\n");
  S_write(dir, "list/dept1/report.xml", "x");
  S_write(dir, "list/dept2/report.xml", "x");
  bs_batch_plan p;
  bs_batch_plan_init(&p, BS_LANG_EN);
  char in[512];
  snprintf(in, sizeof in, "%s/tree", dir);
  bs_batch_plan_add(&p, in);
  snprintf(in, sizeof in, "%s/list/m.txt", dir);
  bs_batch_plan_add(&p, in);
  snprintf(in, sizeof in, "%s/missing-manifest", dir);
  bs_batch_plan_add(&p, in);
  bs_batch_plan_finish(&p);
  CHECK_INT(st, p.diags.errors, 1); /* the missing manifest */
  /* a.pdf twice (tree/a.xml, other/a.xml via ".."), sub/b.pdf,
   * dept1/report.pdf (listed twice: once), dept2/report.pdf */
  CHECK_INT(st, p.items.len, 5);
  const bs_batch_item *it = p.items.data;
  CHECK_STR(st, it[0].rel, "a.pdf");
  CHECK(st, it[0].clash == NULL, "first a.pdf is no clash");
  CHECK_STR(st, it[1].rel, "a.pdf");
  CHECK(st, it[1].clash && strstr(it[1].clash, "tree/a.xml"),
        "second a.pdf clashes with the first");
  const bs_batch_item *d1 = S_item(&p, "dept1/report.pdf");
  CHECK(st, d1 && d1->previous && strstr(d1->previous, "report-2019.xml"),
        "previous year's source from the manifest");
  CHECK(st, S_item(&p, "dept2/report.pdf") != NULL, "CRLF manifest line");
  CHECK(st, S_item(&p, "sub/b.pdf") != NULL, "folder path kept");
  CHECK(st, S_item(&p, ".hidden.pdf") == NULL, "hidden file skipped");
  CHECK(st, S_item(&p, "c.pdf") == NULL, "hidden folder skipped");
  bs_batch_plan_free(&p);

  /* stamps */
  char stamp[512];
  snprintf(stamp, sizeof stamp, "%s/s.stamp", dir);
  FILE *f = fopen(stamp, "w");
  fprintf(f, "banshi-stamp 1\nkey %064d\nsource /x/y.xml\n"
             "source-sha256 %064d\npages 3\nbytes 1234\nnormalize 1\n",
          7, 9);
  fclose(f);
  bs_stamp s;
  CHECK_INT(st, bs_stamp_read(stamp, &s), 0);
  CHECK_STR(st, s.source, "/x/y.xml");
  CHECK_INT(st, s.pages, 3);
  CHECK_INT(st, s.bytes, 1234);
  CHECK(st, s.normalize && !s.previous, "flags");
  bs_stamp_free(&s);
  f = fopen(stamp, "w");
  fprintf(f, "banshi-stamp 1\nkey abc\nsource /x/y.xml\n");
  fclose(f);
  CHECK_INT(st, bs_stamp_read(stamp, &s), EINVAL);
  bs_stamp_free(&s);
  char *sp = bs_stamp_path("out", "d/r.pdf");
  CHECK_STR(st, sp, "out/.banshi/d/r.pdf.stamp");
  free(sp);

  /* the images of figures, found the way layout.c finds them */
  S_write(dir, "img/a/c.png", "x");
  S_write(dir, "img/s.xml",
          "<document><body><figure src=\"a/./b/../c.png\"/>"
          "<figure src=\"../s.xml\"/><figure src=\"/etc/passwd\"/>"
          "<figure src=\"none.png\"/><p>x</p><figure/></body></document>");
  S_seen seen;
  CHECK_STR(st, S_images_of(&seen, dir, "img/s.xml"),
            "a/c.png=c.png;../s.xml=-;/etc/passwd=-;none.png=-;");
  /* a figure with a prefix, and one in UTF-16, whose bytes do not spell
   * "figure": both are still found (the scan is skipped only for sources
   * that surely have none) */
  S_write(dir, "img/p.xml",
          "<?xml version=\"1.0\" encoding=\"GB18030\"?>\n<d:document "
          "xmlns:d=\"urn:x\"><d:body><d:figure src=\"a/c.png\"/></d:body>"
          "</d:document>");
  CHECK_STR(st, S_images_of(&seen, dir, "img/p.xml"), "a/c.png=c.png;");
  const char *u8 = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>"
                   "<document><figure src=\"a/c.png\"/></document>";
  for (int bom = 0; bom < 2; bom++) {
    char src[512], name[32];
    snprintf(name, sizeof name, "img/u%d.xml", bom);
    snprintf(src, sizeof src, "%s/%s", dir, name);
    FILE *f16 = fopen(src, "wb");
    if (bom) {
      fputc(0xFF, f16);
      fputc(0xFE, f16);
    }
    for (const char *c = u8; *c; c++) {
      fputc(*c, f16);
      fputc(0, f16);
    }
    fclose(f16);
    CHECK_STR(st, S_images_of(&seen, dir, name), "a/c.png=c.png;");
  }
  /* none: a source without the word */
  S_write(dir, "img/n.xml",
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- a comment -->"
          "<document><body><p>x</p></body></document>");
  CHECK_STR(st, S_images_of(&seen, dir, "img/n.xml"), "");
  bs_remove_tree(dir);
}

void
test_shard(test_state *st)
{
  /* every name goes to exactly one shard of n, for several n */
  int bad = 0, empty = 0;
  for (unsigned n = 1; n <= 7; n++) {
    unsigned count[7] = {0};
    for (int i = 0; i < 1000; i++) {
      char name[32];
      snprintf(name, sizeof name, "dept%03d/report.pdf", i);
      int takers = 0;
      for (unsigned k = 0; k < n; k++)
        if (bs_shard_selects(name, k, n)) {
          takers++;
          count[k]++;
        }
      bad += takers != 1;
    }
    for (unsigned k = 0; k < n; k++)
      empty += count[k] < 1000 / n / 2; /* roughly balanced */
  }
  CHECK_INT(st, bad, 0);
  CHECK_INT(st, empty, 0);
  /* the choice is a property of the name alone */
  CHECK(st, bs_shard_selects("a.pdf", 0, 2) == bs_shard_selects("a.pdf", 0, 2),
        "stable");
}

void
test_bagpath(test_state *st)
{
  char *e = bs_bag_encode_path("data/a%b\nc\rd 文件.pdf");
  CHECK_STR(st, e, "data/a%25b%0Ac%0Dd 文件.pdf");
  char *d = bs_bag_decode_path(e);
  CHECK_STR(st, d, "data/a%b\nc\rd 文件.pdf");
  free(e);
  free(d);
  CHECK(st, bs_bag_decode_path("data/%zz") == NULL, "malformed escape");
  CHECK(st, bs_bag_decode_path("data/%2") == NULL, "short escape");
}
