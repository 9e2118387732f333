// SPDX-License-Identifier: Apache-2.0
/* Unit tests of zpieces.c: deflate in content-defined pieces.
 *
 * zpieces: every output is a zlib stream that zlib's own inflater reads
 * back as the input (empty, shorter than a piece, incompressible, text,
 * data shaped like a font program); the bytes are the same with a store
 * and without, on a second call (pieces reused) and on a third thread;
 * data with bytes inserted in its middle reuses the pieces before and
 * after the insertion; a store too small to keep a piece changes nothing
 * but the reuse.
 *
 * recent: memo.h's store of recent results (below). */
#include <libdeflate.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "memo.h"
#include "zcheck.h"
#include "zpieces.h"

void test_zpieces(test_state *st);

/* xorshift64*: fixed seeds, the same data on every run */
static uint64_t
S_next(uint64_t *s)
{
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * UINT64_C(2685821657736338717);
}

/* Data like a font program: records of a few dozen bytes drawn from a
 * small set of shapes with varying numbers, so that deflate finds short
 * matches and pieces repeat in structure but not byte for byte. */
static unsigned char *
S_fontish(size_t n, uint64_t seed)
{
  unsigned char *d = malloc(n ? n : 1);
  uint64_t s = seed;
  size_t i = 0;
  while (i < n) {
    uint64_t r = S_next(&s);
    size_t len = 8 + (size_t)(r % 40);
    for (size_t k = 0; k < len && i < n; k++, i++)
      d[i] = (unsigned char)(k % 5 == 4 ? 0x15 + (r >> 60)
                                        : (r >> (k % 7 * 8)) % 64 + 139);
  }
  return d;
}

static unsigned char *
S_random(size_t n, uint64_t seed)
{
  unsigned char *d = malloc(n ? n : 1);
  uint64_t s = seed;
  for (size_t i = 0; i < n; i++)
    d[i] = (unsigned char)(S_next(&s) >> 56);
  return d;
}

static unsigned char *
S_text(size_t n)
{
  static const char words[] =
      "政府信息公开工作年度报告 the annual report on government information "
      "disclosure, tables with merged cells 主动公开 依申请公开 ";
  unsigned char *d = malloc(n ? n : 1);
  for (size_t i = 0; i < n; i++)
    d[i] = (unsigned char)words[(i * 7 + i / 13) % (sizeof words - 1)];
  return d;
}

typedef struct S_job {
  bs_zpieces *store;
  const unsigned char *d;
  size_t n;
  unsigned char *z;
  size_t zlen;
} S_job;

static void *
S_run(void *arg)
{
  S_job *j = arg;
  struct libdeflate_compressor *c = NULL;
  j->z = bs_zpieces_deflate(j->store, &c, j->d, j->n, &j->zlen);
  libdeflate_free_compressor(c);
  return NULL;
}

void
test_zpieces(test_state *st)
{
  struct libdeflate_compressor *c = NULL;
  const size_t sizes[] = {0, 1, 1023, 1024, 1025, 8192, 20000, 150000};
  for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
    size_t n = sizes[si];
    unsigned char *data[3] = {S_fontish(n, 7 + n), S_random(n, 11 + n),
                              S_text(n)};
    for (int k = 0; k < 3; k++) {
      const unsigned char *d = data[k];
      size_t l0, l1, l2;
      unsigned char *z0 = bs_zpieces_deflate(NULL, &c, d, n, &l0);
      CHECK(st, z0 && zcheck_reads_back(z0, l0, d, n),
            "%zu bytes of kind %d: not read back", n, k);
      bs_zpieces *store = bs_zpieces_new(4u << 20);
      unsigned char *z1 = bs_zpieces_deflate(store, &c, d, n, &l1);
      unsigned char *z2 = bs_zpieces_deflate(store, &c, d, n, &l2);
      CHECK(st, z1 && l1 == l0 && memcmp(z1, z0, l0) == 0,
            "%zu bytes of kind %d: a store changed the bytes", n, k);
      CHECK(st, z2 && l2 == l0 && memcmp(z2, z0, l0) == 0,
            "%zu bytes of kind %d: reused pieces changed the bytes", n, k);
      size_t pieces, reused, made;
      bs_zpieces_stats(store, &pieces, NULL, &reused, &made);
      CHECK(st, reused == made && pieces == made,
            "%zu bytes of kind %d: %zu pieces made, %zu reused, %zu kept",
            n, k, made, reused, pieces);
      /* primed from the last piece: every piece made, all reused after */
      bs_zpieces *primed = bs_zpieces_new(4u << 20);
      bs_zpieces_prime(primed, &c, d, n);
      size_t made_p, l3, made_after, reused_after;
      bs_zpieces_stats(primed, NULL, NULL, NULL, &made_p);
      unsigned char *z3 = bs_zpieces_deflate(primed, &c, d, n, &l3);
      bs_zpieces_stats(primed, NULL, NULL, &reused_after, &made_after);
      CHECK(st, z3 && l3 == l0 && memcmp(z3, z0, l0) == 0,
            "%zu bytes of kind %d: primed pieces changed the bytes", n, k);
      CHECK(st, made_p == made && made_after == made && reused_after == made,
            "%zu bytes of kind %d: %zu primed of %zu, then %zu made, %zu "
            "reused", n, k, made_p, made, made_after - made_p, reused_after);
      free(z3);
      bs_zpieces_free(primed);
      if (k == 1 && n >= 1024) /* incompressible: stored, 5 bytes a piece */
        CHECK(st, l0 <= n + 5 * (n / 1024 + 1) + 8,
              "%zu random bytes grew to %zu", n, l0);
      if (k == 2 && n >= 8192)
        CHECK(st, l0 < n / 4, "%zu bytes of text deflated to %zu", n, l0);
      bs_zpieces_free(store);
      free(z0);
      free(z1);
      free(z2);
    }
    for (int k = 0; k < 3; k++)
      free(data[k]);
  }

  /* bytes inserted in the middle: the pieces away from them are reused */
  size_t n = 120000, ins = 300;
  unsigned char *a = S_fontish(n, 42);
  unsigned char *b = malloc(n + ins);
  memcpy(b, a, n / 2);
  memcpy(b + n / 2 + ins, a + n / 2, n - n / 2);
  unsigned char *extra = S_fontish(ins, 99);
  memcpy(b + n / 2, extra, ins);
  free(extra);
  bs_zpieces *store = bs_zpieces_new(4u << 20);
  size_t la, lb, lb0;
  unsigned char *za = bs_zpieces_deflate(store, &c, a, n, &la);
  size_t made_a, reused_b, made_b;
  bs_zpieces_stats(store, NULL, NULL, NULL, &made_a);
  unsigned char *zb = bs_zpieces_deflate(store, &c, b, n + ins, &lb);
  bs_zpieces_stats(store, NULL, NULL, &reused_b, &made_b);
  made_b -= made_a;
  unsigned char *zb0 = bs_zpieces_deflate(NULL, &c, b, n + ins, &lb0);
  CHECK(st, zb && zcheck_reads_back(zb, lb, b, n + ins), "insertion: not read back");
  CHECK(st, zb && zb0 && lb == lb0 && memcmp(zb, zb0, lb) == 0,
        "insertion: the store changed the bytes");
  CHECK(st, made_a >= 15 && made_b <= 3 && reused_b + 3 >= made_a,
        "insertion: %zu pieces, then %zu made and %zu reused", made_a, made_b,
        reused_b);

  /* a store that keeps nothing changes nothing */
  bs_zpieces *tiny = bs_zpieces_new(1000);
  size_t lt, kept;
  unsigned char *zt = bs_zpieces_deflate(tiny, &c, a, n, &lt);
  bs_zpieces_stats(tiny, &kept, NULL, NULL, NULL);
  CHECK(st, zt && lt == la && memcmp(zt, za, la) == 0 && kept == 0,
        "a full store: %zu bytes against %zu, %zu kept", lt, la, kept);
  bs_zpieces_free(tiny);

  /* two threads, one store: each gets the bytes made alone */
  S_job jobs[2] = {{store, a, n, NULL, 0}, {store, b, n + ins, NULL, 0}};
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    pthread_create(&t[i], NULL, S_run, &jobs[i]);
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  CHECK(st, jobs[0].z && jobs[0].zlen == la &&
                memcmp(jobs[0].z, za, la) == 0,
        "thread 1: other bytes");
  CHECK(st, jobs[1].z && jobs[1].zlen == lb0 &&
                memcmp(jobs[1].z, zb0, lb0) == 0,
        "thread 2: other bytes");
  for (int i = 0; i < 2; i++)
    free(jobs[i].z);
  bs_zpieces_free(store);

  /* one thread deflates from the first piece while another primes from
   * the last, one store: the bytes made alone */
  for (int round = 0; round < 4; round++) {
    bs_zpieces *shared = bs_zpieces_new(4u << 20);
    S_job dj = {shared, a, n, NULL, 0};
    pthread_t td;
    pthread_create(&td, NULL, S_run, &dj);
    struct libdeflate_compressor *c2 = NULL;
    bs_zpieces_prime(shared, &c2, a, n);
    pthread_join(td, NULL);
    CHECK(st, dj.z && dj.zlen == la && memcmp(dj.z, za, la) == 0,
          "deflated while primed: other bytes (round %d)", round);
    free(dj.z);
    libdeflate_free_compressor(c2);
    bs_zpieces_free(shared);
  }
  free(za);
  free(zb);
  free(zb0);
  free(zt);
  free(a);
  free(b);
  libdeflate_free_compressor(c);
}

/* recent (memo.h): the last results of a costly computation.  A key is
 * found by its bytes, not its hash alone (two keys under one hash); the
 * oldest of more than the store holds is dropped, but freed only once its
 * reader lets it go; a key stored twice keeps the first value. */

static int S_freed;

static void
S_count_free(void *v)
{
  S_freed++;
  free(v);
}

static char *
S_dup(const char *s)
{
  char *d = malloc(strlen(s) + 1);
  strcpy(d, s);
  return d;
}

void test_recent(test_state *st);

void
test_recent(test_state *st)
{
  S_freed = 0;
  bs_recent *r = bs_recent_new(2, S_count_free);
  bs_recent_ref *ref, *held;
  CHECK(st, !bs_recent_get(r, 7, "a", 1, &ref) && !ref, "empty store");
  bs_recent_put(r, 7, "a", 1, S_dup("A"));
  bs_recent_put(r, 7, "b", 1, S_dup("B")); /* the same hash */
  const char *v = bs_recent_get(r, 7, "a", 1, &held);
  CHECK(st, v && strcmp(v, "A") == 0, "a under a shared hash");
  v = bs_recent_get(r, 7, "b", 1, &ref);
  CHECK(st, v && strcmp(v, "B") == 0, "b under a shared hash");
  bs_recent_release(r, ref);
  CHECK(st, !bs_recent_get(r, 8, "a", 1, &ref), "another hash, same bytes");
  CHECK(st, !bs_recent_get(r, 7, "ab", 2, &ref), "a longer key");
  bs_recent_put(r, 7, "b", 1, S_dup("B2")); /* stored already: dropped */
  CHECK_INT(st, S_freed, 1);
  v = bs_recent_get(r, 7, "b", 1, &ref);
  CHECK(st, v && strcmp(v, "B") == 0, "the first value stays");
  bs_recent_release(r, ref);
  /* a third key drops the oldest, "a", still held */
  bs_recent_put(r, 9, "c", 1, S_dup("C"));
  CHECK(st, !bs_recent_get(r, 7, "a", 1, &ref), "a dropped");
  CHECK_INT(st, S_freed, 1);
  v = bs_recent_get(r, 7, "b", 1, &ref); /* still held by the store */
  CHECK(st, v != NULL, "b kept");
  bs_recent_release(r, ref);
  bs_recent_release(r, held); /* "a" freed now */
  CHECK_INT(st, S_freed, 2);
  size_t found, stored;
  bs_recent_stats(r, &found, &stored);
  CHECK_INT(st, found, 4);
  CHECK_INT(st, stored, 3);
  bs_recent_free(r);
  CHECK_INT(st, S_freed, 4);
}
