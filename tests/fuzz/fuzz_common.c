// SPDX-License-Identifier: Apache-2.0
/* fuzz_common.c - scratch folder and invariants shared by the fuzz
 * targets; see fuzz.h. */
#include "fuzz.h"

#include <dirent.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static char S_dir[64];

static void
S_cleanup(void)
{
  DIR *d = opendir(S_dir);
  if (d) {
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.' &&
          (e->d_name[1] == '\0' ||
           (e->d_name[1] == '.' && e->d_name[2] == '\0')))
        continue;
      snprintf(path, sizeof path, "%s/%s", S_dir, e->d_name);
      unlink(path);
    }
    closedir(d);
  }
  rmdir(S_dir);
}

/* The folder is created under a random name but then made the current
 * folder, and fuzz_tmpdir() returns ".": paths of the scratch files, which
 * reach messages and the comparisons libFuzzer learns from, are then the
 * same on every run, so a fixed seed gives the same run (sh build.sh
 * test).  Corpus and artifact paths must therefore be absolute. */
const char *
fuzz_tmpdir(void)
{
  if (!S_dir[0]) {
    const char *base = getenv("TMPDIR");
    snprintf(S_dir, sizeof S_dir, "%s/banshi-fuzz-XXXXXX",
             base && *base && strlen(base) < 40 ? base : "/tmp");
    if (!mkdtemp(S_dir)) {
      perror("mkdtemp");
      abort();
    }
    atexit(S_cleanup);
    char path[512];
    snprintf(path, sizeof path, "%s/secret.txt", S_dir);
    FILE *f = fopen(path, "w");
    if (!f || fputs(FUZZ_CANARY "\n", f) < 0 || fclose(f) != 0) {
      perror(path);
      abort();
    }
    if (chdir(S_dir) != 0) {
      perror(S_dir);
      abort();
    }
  }
  return ".";
}

void
fuzz_check_locations(const bs_document *doc)
{
  if (!doc->src)
    return;
  const bs_diagnostic *d = doc->diags.items.data;
  for (size_t i = 0; i < doc->diags.items.len; i++) {
    if (!d[i].file || strcmp(d[i].file, doc->path) != 0 || d[i].line == 0)
      continue;
    FUZZ_CHECK(d[i].line <= doc->nlines, "line %u of %u: %s", d[i].line,
               doc->nlines, d[i].message);
    if (d[i].col == 0)
      continue;
    size_t start = doc->line_starts[d[i].line - 1];
    size_t end = d[i].line < doc->nlines ? doc->line_starts[d[i].line]
                                         : doc->src_len;
    size_t chars = bs_utf8_count(doc->src + start, end - start);
    FUZZ_CHECK(d[i].col <= chars + 1, "column %u of line %u (%zu chars): %s",
               d[i].col, d[i].line, chars, d[i].message);
  }
}

static int S_armed;

void
fuzz_canary_arm(const void *input, size_t n)
{
  S_armed = n == 0 || !memmem(input, n, FUZZ_CANARY, strlen(FUZZ_CANARY));
}

void
fuzz_check_no_canary(const char *what, const void *s, size_t n)
{
  if (!S_armed)
    return;
  FUZZ_CHECK(n == 0 || !memmem(s, n, FUZZ_CANARY, strlen(FUZZ_CANARY)),
             "the text of a local file reached %s", what);
}

/* libxml2 seeds the hash functions of its dictionaries from time(), so the
 * order in which it walks its hash tables, and with it the comparisons and
 * paths libFuzzer observes, changed from one run to the next: the same seed
 * explored different inputs.  The fuzz binaries and their replay drivers
 * fix the clock for every library they load (the executable's definition
 * comes first), so a fixed seed gives the same run. */
time_t
time(time_t *t)
{
  if (t)
    *t = 1000000000;
  return 1000000000;
}
