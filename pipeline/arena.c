// SPDX-License-Identifier: Apache-2.0
/* arena.c - per-document bump allocator; see arena.h.
 * Layer 0 (base): docs/architecture.md. */
#include "arena.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bs_arena_block {
  bs_arena_block *prev; /* older block */
  size_t size;          /* usable bytes in data */
  size_t used;          /* bytes handed out */
  max_align_t data[];   /* payload */
};

#define BS_ARENA_MIN_BLOCK ((size_t)64 * 1024)
#define BS_ALIGN(n)                                                            \
  (((n) + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1))

static void
S_oom(void)
{
  fputs("banshi: out of memory\n", stderr);
  abort();
}

void *
bs_xmalloc(size_t n)
{
  void *p = malloc(n ? n : 1);
  if (!p)
    S_oom();
  return p;
}

char *
bs_xstrdup(const char *s)
{
  if (!s)
    return NULL;
  size_t n = strlen(s) + 1;
  return memcpy(bs_xmalloc(n), s, n);
}

void *
bs_xcalloc(size_t n, size_t size)
{
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p)
    S_oom();
  return p;
}

void *
bs_xrealloc(void *p, size_t n)
{
  void *q = realloc(p, n ? n : 1);
  if (!q)
    S_oom();
  return q;
}

void
bs_arena_init(bs_arena *a)
{
  a->head = NULL;
  a->total = 0;
}

void
bs_arena_free(bs_arena *a)
{
  bs_arena_block *b = a->head;
  while (b) {
    bs_arena_block *prev = b->prev;
    free(b);
    b = prev;
  }
  a->head = NULL;
  a->total = 0;
}

void *
bs_arena_alloc(bs_arena *a, size_t n)
{
  bs_arena_block *b = a->head;
  n = BS_ALIGN(n ? n : 1);
  if (!b || b->size - b->used < n) {
    size_t size = n > BS_ARENA_MIN_BLOCK ? n : BS_ARENA_MIN_BLOCK;
    /* Grow blocks geometrically so a huge document needs few mallocs. */
    if (a->total / 2 > size && a->total / 2 < ((size_t)1 << 30))
      size = BS_ALIGN(a->total / 2);
    if (size > SIZE_MAX - sizeof(bs_arena_block))
      S_oom();
    b = malloc(sizeof(bs_arena_block) + size);
    if (!b)
      S_oom();
    b->prev = a->head;
    b->size = size;
    b->used = 0;
    a->head = b;
    a->total += size;
  }
  void *p = (char *)b->data + b->used;
  b->used += n;
  memset(p, 0, n);
  return p;
}

void *
bs_arena_realloc(bs_arena *a, void *p, size_t old, size_t n)
{
  bs_arena_block *b = a->head;
  if (n <= old)
    return p;
  /* Extend in place when p is the last allocation of the newest block. */
  if (p && b && (char *)p + BS_ALIGN(old ? old : 1) ==
                    (char *)b->data + b->used &&
      b->size - ((char *)p - (char *)b->data) >= BS_ALIGN(n)) {
    size_t oldal = BS_ALIGN(old ? old : 1);
    size_t newal = BS_ALIGN(n);
    memset((char *)p + old, 0, n - old);
    b->used += newal - oldal;
    return p;
  }
  void *q = bs_arena_alloc(a, n);
  if (p && old)
    memcpy(q, p, old);
  return q;
}

char *
bs_arena_strndup(bs_arena *a, const char *s, size_t n)
{
  char *p = bs_arena_alloc(a, n + 1);
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

char *
bs_arena_strdup(bs_arena *a, const char *s)
{
  return bs_arena_strndup(a, s, strlen(s));
}

char *
bs_arena_printf(bs_arena *a, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    n = 0;
  char *p = bs_arena_alloc(a, (size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return p;
}

void *
bs_vec_grow(bs_vec *v, size_t extra)
{
  if (v->cap - v->len < extra) {
    size_t cap = v->cap ? v->cap : v->esize > 256 ? 2 : 16;
    while (cap - v->len < extra) {
      if (cap > SIZE_MAX / 2 / v->esize)
        S_oom();
      cap *= 2;
    }
    v->data = bs_xrealloc(v->data, cap * v->esize);
    v->cap = cap;
  }
  return (char *)v->data + v->len * v->esize;
}

void
bs_vec_free(bs_vec *v)
{
  free(v->data);
  v->data = NULL;
  v->len = v->cap = 0;
}
