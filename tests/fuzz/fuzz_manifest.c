// SPDX-License-Identifier: Apache-2.0
/* fuzz_manifest.c - libFuzzer target: the batch manifest reader
 * (bs_batch_plan_add on a manifest file, then bs_batch_plan_finish).
 *
 * The scratch folder holds a few sources, a folder of sources, a FIFO and
 * a link, so that lines can name real files, folders (walked), special
 * files (never opened by the plan) and missing ones.  The first byte picks
 * the language of messages (bit 0) and whether the manifest is given
 * twice (bit 1, duplicates and clashes); the rest is the manifest.
 *
 * Besides the sanitizers' findings: every output name is relative, ends
 * in ".pdf", has no "." or ".." step and no empty step; no more items than
 * the manifest has lines (times the files of the walked folder); the plan
 * is sorted by output name; every message is one line.  A FIFO opened by
 * the reader would hang the target (libFuzzer's -timeout).  Names are
 * fixed, so a fixed seed gives the same run. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch.h"
#include "fuzz.h"

static void
S_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  FUZZ_CHECK(f != NULL, "cannot create %s", path);
  fputs(text, f);
  fclose(f);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_tmpdir(); /* the current folder from now on */
  mkdir("sub", 0777);
  mkdir("dir", 0777);
  mkdir("dir/deeper", 0777);
  S_file("a.xml", "<document/>\n");
  S_file("sub/b.xml", "<document/>\n");
  S_file("dir/c.xml", "<document/>\n");
  S_file("dir/deeper/d.xml", "<document/>\n");
  S_file("dir/note.txt", "not a source\n");
  if (mkfifo("pipe.xml", 0666) != 0 && errno != EEXIST)
    FUZZ_CHECK(0, "mkfifo: %s", strerror(errno));
  if (symlink("a.xml", "link.xml") != 0 && errno != EEXIST)
    FUZZ_CHECK(0, "symlink: %s", strerror(errno));
  return 0;
}

static void
S_check_rel(const char *rel)
{
  size_t n = strlen(rel);
  FUZZ_CHECK(n > 4 && strcmp(rel + n - 4, ".pdf") == 0,
             "output name '%s' does not end in .pdf", rel);
  FUZZ_CHECK(rel[0] != '/', "output name '%s' is absolute", rel);
  for (const char *s = rel; *s;) {
    size_t k = strcspn(s, "/");
    FUZZ_CHECK(k > 0 || s[k] == '\0', "empty step in '%s'", rel);
    FUZZ_CHECK(!(k == 1 && s[0] == '.') && !(k == 2 && s[0] == '.' &&
                                               s[1] == '.'),
               "'.' or '..' step in '%s'", rel);
    s += k + (s[k] ? 1 : 0);
  }
}

/* True if a line of the manifest names a folder outside the scratch
 * folder ("/", "..", "../../usr"): batch would walk it - the user's choice,
 * but the fuzzer's hang; such inputs are skipped. */
static bool
S_leaves(const uint8_t *data, size_t size)
{
  char here[4096];
  if (!getcwd(here, sizeof here))
    return true;
  size_t hl = strlen(here);
  for (size_t i = 0; i < size;) {
    size_t e = i;
    while (e < size && data[e] != '\n')
      e++;
    char *line = strndup((const char *)data + i, e - i);
    char *s = line;
    while (*s == ' ')
      s++;
    s[strcspn(s, "\t\r")] = '\0';
    char real[4096];
    struct stat st;
    bool out = *s && *s != '#' && stat(s, &st) == 0 && S_ISDIR(st.st_mode) &&
               (!realpath(s, real) || strncmp(real, here, hl) != 0 ||
                (real[hl] != '\0' && real[hl] != '/'));
    free(line);
    if (out)
      return true;
    i = e + 1;
  }
  return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1 || S_leaves(data + 1, size - 1))
    return 0;
  uint8_t opt = data[0];
  FILE *f = fopen("manifest.txt", "w");
  FUZZ_CHECK(f != NULL, "cannot write the manifest");
  if (size > 1)
    fwrite(data + 1, 1, size - 1, f);
  fclose(f);
  size_t lines = 1;
  for (size_t i = 1; i < size; i++)
    lines += data[i] == '\n';

  bs_batch_plan p;
  bs_batch_plan_init(&p, opt & 1 ? BS_LANG_EN : BS_LANG_ZH);
  p.diags.max_per_code = 0;
  int times = opt & 2 ? 2 : 1;
  for (int i = 0; i < times; i++)
    bs_batch_plan_add(&p, "manifest.txt");
  bs_batch_plan_finish(&p);

  const bs_batch_item *it = p.items.data;
  /* a line names one source, or a folder of at most 2 (dir/) - or sub/
   * and the scratch folder itself, walked whole: bounded by 8 */
  FUZZ_CHECK(p.items.len <= lines * 8 * (size_t)times,
             "%zu items from %zu lines", p.items.len, lines);
  for (size_t i = 0; i < p.items.len; i++) {
    S_check_rel(it[i].rel);
    FUZZ_CHECK(it[i].source && it[i].source[0], "an empty source");
    if (i > 0)
      FUZZ_CHECK(strcmp(it[i - 1].rel, it[i].rel) <= 0,
                 "plan not sorted: '%s' before '%s'", it[i - 1].rel,
                 it[i].rel);
  }
  const bs_diagnostic *dg = p.diags.items.data;
  for (size_t i = 0; i < p.diags.items.len; i++)
    FUZZ_CHECK(!strchr(dg[i].message, '\n'), "a message of two lines: %s",
               dg[i].message);
  bs_batch_plan_free(&p);
  return 0;
}
