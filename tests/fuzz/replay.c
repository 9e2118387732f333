// SPDX-License-Identifier: Apache-2.0
/* replay.c - run a fuzz target over files without libFuzzer (SQLite's
 * test/fuzzcheck.c): ctest replays the seed corpus and every input that
 * once crashed, on every build, with any compiler.
 *
 *   fuzz_replay_NAME FILE_OR_FOLDER...
 *
 * Folders are read in sorted order; files starting with '.' and README
 * files are skipped.  A crash, sanitizer report or failed invariant ends
 * the program abnormally; otherwise it prints how many inputs ran and
 * exits 0 (1 when an argument cannot be read). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "util.h"

static int S_count;

static int
S_one(const char *path)
{
  size_t n = 0;
  unsigned char *buf = bs_read_file(path, 0, &n);
  if (!buf) {
    perror(path);
    return 1;
  }
  /* a private copy of the exact size, so ASan sees reads past the end */
  unsigned char *copy = bs_xmalloc(n ? n : 1);
  memcpy(copy, buf, n);
  free(buf);
  LLVMFuzzerTestOneInput(copy, n);
  free(copy);
  S_count++;
  return 0;
}

static int
S_skip(const char *name)
{
  return name[0] == '.' || strncmp(name, "README", 6) == 0;
}

static int
S_arg(const char *path)
{
  struct stat st;
  if (stat(path, &st) != 0) {
    perror(path);
    return 1;
  }
  if (!S_ISDIR(st.st_mode))
    return S_one(path);
  struct dirent **list = NULL;
  int n = scandir(path, &list, NULL, alphasort);
  if (n < 0) {
    perror(path);
    return 1;
  }
  int rc = 0;
  for (int i = 0; i < n; i++) {
    if (!S_skip(list[i]->d_name)) {
      char sub[4096];
      snprintf(sub, sizeof sub, "%s/%s", path, list[i]->d_name);
      rc |= S_arg(sub);
    }
    free(list[i]);
  }
  free(list);
  return rc;
}

int
main(int argc, char **argv)
{
  /* the targets work in their scratch folder (fuzz_tmpdir), so the
   * inputs are named by absolute paths first */
  char **abs = bs_xcalloc((size_t)argc, sizeof *abs);
  for (int i = 1; i < argc; i++) {
    abs[i] = realpath(argv[i], NULL);
    if (!abs[i]) {
      perror(argv[i]);
      return 1;
    }
  }
  LLVMFuzzerInitialize(&argc, &argv);
  int rc = 0;
  for (int i = 1; i < argc; i++) {
    rc |= S_arg(abs[i]);
    free(abs[i]);
  }
  free(abs);
  printf("%d inputs replayed\n", S_count);
  return rc;
}
