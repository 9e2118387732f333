// SPDX-License-Identifier: Apache-2.0
/* fuzz.h - what banshi's libFuzzer targets share: the libFuzzer entry
 * points, a private scratch folder, and the invariants every input must
 * keep.
 *
 * Two targets, as cmark's fuzz/ has (cmark-fuzz.c): fuzz_parse.c drives
 * parse + validate + normalise on raw bytes; fuzz_layout.c drives the whole
 * job (parse, normalise, lay out, dump or PDF) on raw XML or on a document
 * generated from the bytes.  The first input byte picks options, as
 * cmark-fuzz.c's leading bytes do.  The same files are linked into plain
 * replay drivers (replay.c) that ctest runs over the seed corpus and over
 * every input that ever crashed (SQLite's test/fuzzcheck.c), with gcc and
 * without libFuzzer, so a fixed crash stays fixed on every build. */
#ifndef BS_FUZZ_H
#define BS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "doc.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the pipeline failed: report and abort, so that libFuzzer
 * keeps the input as a crash and the replay driver fails. */
#define FUZZ_CHECK(cond, ...)                                                  \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__, __LINE__,     \
              #cond);                                                          \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
      abort();                                                                 \
    }                                                                          \
  } while (0)

/* Every located diagnostic about the source points into it: its line
 * exists and its column is at most one past the line's last character.
 * (Decoding errors are located in the raw bytes before the UTF-8 copy
 * exists; they are checked only when the source was kept.) */
void fuzz_check_locations(const bs_document *doc);

/* A private folder for the run's files (created once, removed at exit).
 * It holds `secret.txt`, whose text (FUZZ_CANARY) must never reach a
 * document, a message or an output: sources name it in external entities,
 * DTDs and XIncludes (see xml.dict). */
const char *fuzz_tmpdir(void);
#define FUZZ_CANARY "BANSHI-CANARY-7f3a"

/* Arm the canary check for an input: off when the input itself contains
 * the canary's text (libFuzzer learns it from the comparisons below), since
 * messages may rightly quote the source. */
void fuzz_canary_arm(const void *input, size_t n);
/* Abort if `what` (n bytes) contains the canary's text. */
void fuzz_check_no_canary(const char *what, const void *s, size_t n);

#endif
