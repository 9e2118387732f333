// SPDX-License-Identifier: Apache-2.0
/* Unit tests of code rewritten for speed, against the plain versions.
 *
 * fmt: bs_fmt_mpt, bs_put_mpt and bs_put_u64 write what printf would, over
 * a range of values and at the extremes. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"
#include "pipeline.h"
#include "util.h"

void test_fmt(test_state *st);

/* The reference: printf, trailing zeros of the decimals removed. */
static void
S_fmt_ref(int64_t mpt, char out[48])
{
  bool neg = mpt < 0;
  uint64_t v = neg ? 0 - (uint64_t)mpt : (uint64_t)mpt;
  int n = snprintf(out, 48, "%s%llu.%03u", neg ? "-" : "",
                   (unsigned long long)(v / 1000), (unsigned)(v % 1000));
  while (out[n - 1] == '0')
    out[--n] = '\0';
  if (out[n - 1] == '.')
    out[--n] = '\0';
}

/* The next number of a fixed pseudo-random walk (xorshift64). */
static uint64_t
S_next(uint64_t *x)
{
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

/* True when the characters put..end are exactly the string want. */
static bool
S_same(const char *put, const char *end, const char *want)
{
  size_t n = strlen(want);
  return (size_t)(end - put) == n && memcmp(put, want, n) == 0;
}

void
test_fmt(test_state *st)
{
  char got[32], want[48];
  int bad = 0;
  for (int64_t v = -120000; v <= 120000; v++) {
    bs_fmt_mpt(v, got);
    S_fmt_ref(v, want);
    if (strcmp(got, want) != 0 && bad++ < 5)
      CHECK_STR(st, got, want);
  }
  CHECK_INT(st, bad, 0);
  static const int64_t edge[] = {INT64_MIN, INT64_MIN + 1, INT64_MAX,
                                  -1000000000007LL, 999999999999999LL};
  for (size_t i = 0; i < sizeof edge / sizeof *edge; i++) {
    bs_fmt_mpt(edge[i], got);
    S_fmt_ref(edge[i], want);
    CHECK_STR(st, got, want);
  }
  bs_fmt_mpt(-50, got);
  CHECK_STR(st, got, "-0.05");
  /* bs_put_mpt writes the same characters and returns their end, also
   * for numbers of many digits (a fixed pseudo-random walk) */
  uint64_t x = 88172645463325252ULL;
  bad = 0;
  for (int i = 0; i < 200000; i++) {
    S_next(&x);
    int64_t v = (int64_t)x >> (x % 63);
    char put[32];
    char *end = bs_put_mpt(put, v);
    S_fmt_ref(v, want);
    if (!S_same(put, end, want))
      bad++;
  }
  CHECK_INT(st, bad, 0);
  /* bs_put_u64, the integer part of both, writes what printf's %llu
   * would, over the same walk unshifted and shifted, and at the ends */
  x = 88172645463325252ULL;
  bad = 0;
  for (int i = 0; i < 200000; i++) {
    S_next(&x);
    uint64_t u = i % 2 ? x : x >> (x % 64);
    char put[24];
    char *end = bs_put_u64(put, u);
    snprintf(want, sizeof want, "%llu", (unsigned long long)u);
    if (!S_same(put, end, want))
      bad++;
  }
  static const uint64_t uedge[] = {0, 9, 10, 99, 100, 999, 1000, UINT64_MAX};
  for (size_t i = 0; i < sizeof uedge / sizeof *uedge; i++) {
    *bs_put_u64(got, uedge[i]) = '\0';
    snprintf(want, sizeof want, "%llu", (unsigned long long)uedge[i]);
    CHECK_STR(st, got, want);
  }
  CHECK_INT(st, bad, 0);
}
