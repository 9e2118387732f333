// SPDX-License-Identifier: Apache-2.0
/* harness.h - a tiny test harness (after cmark's api_test/harness.h). */
#ifndef BS_HARNESS_H
#define BS_HARNESS_H

#include <stdio.h>
#include <string.h>

typedef struct test_state {
  int run, failed;
} test_state;

#define CHECK(st, cond, ...)                                                   \
  do {                                                                         \
    (st)->run++;                                                               \
    if (!(cond)) {                                                             \
      (st)->failed++;                                                          \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
    }                                                                          \
  } while (0)

#define CHECK_STR(st, got, want)                                               \
  do {                                                                         \
    const char *g_ = (got), *w_ = (want);                                      \
    CHECK(st, g_ && strcmp(g_, w_) == 0, "got \"%s\", want \"%s\"",            \
          g_ ? g_ : "(null)", w_);                                             \
  } while (0)

#define CHECK_INT(st, got, want)                                               \
  do {                                                                         \
    long long g_ = (long long)(got), w_ = (long long)(want);                   \
    CHECK(st, g_ == w_, "got %lld, want %lld", g_, w_);                        \
  } while (0)

typedef void (*test_fn)(test_state *);

#endif
