// SPDX-License-Identifier: Apache-2.0
/* arena.h - per-document bump allocator.
 *
 * Everything a document needs (nodes, strings, layout boxes, diagnostics)
 * lives in one arena and is released by one bs_arena_free() call, so error
 * paths cannot leak.  Objects allocated here have no individual free.
 * Out of memory is not recoverable: bs_xmalloc() and the arena report it on
 * stderr and abort, as cmark does.
 *
 * Design.  A program that embeds the library gets the same: an allocation
 * failure ends the process, it is never returned as an error.  Returning
 * it would put a failure path after every one of the thousands of small
 * allocations of a layout, each a path the tests cannot reach; documents
 * are limited in size (docs/hostile-input.md) so that memory runs out only
 * when the machine does.  A server that must survive that renders
 * in a child process and treats its death as a failed document.
 *
 * Layer 0 (base): docs/architecture.md. */
#ifndef BS_ARENA_H
#define BS_ARENA_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct bs_arena_block bs_arena_block;

typedef struct bs_arena {
  bs_arena_block *head; /* newest block; older blocks are chained behind */
  size_t total;         /* bytes obtained from malloc, for statistics */
} bs_arena;

/* Initialise an empty arena (no allocation happens until first use). */
void bs_arena_init(bs_arena *a);

/* Release every block of the arena; the arena may be reused afterwards. */
void bs_arena_free(bs_arena *a);

/* Return n bytes aligned for any type, zero-filled.  Never returns NULL. */
void *bs_arena_alloc(bs_arena *a, size_t n);

/* Grow the most recent allocation `p` of `old` bytes to `n` bytes, moving it
 * when needed (the old copy stays in the arena until it is freed).  Used for
 * arrays that grow while being built. */
void *bs_arena_realloc(bs_arena *a, void *p, size_t old, size_t n);

/* Copy the first n bytes of s into the arena and NUL-terminate them. */
char *bs_arena_strndup(bs_arena *a, const char *s, size_t n);

/* Copy the NUL-terminated string s into the arena. */
char *bs_arena_strdup(bs_arena *a, const char *s);

/* printf into the arena. */
char *bs_arena_printf(bs_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* malloc/calloc/realloc that abort with a message on failure. */
void *bs_xmalloc(size_t n);
void *bs_xcalloc(size_t n, size_t size);
void *bs_xrealloc(void *p, size_t n);
/* A malloc'd copy of `s` (NULL for NULL), aborting like bs_xmalloc. */
char *bs_xstrdup(const char *s);

/* A growable array of fixed-size elements in malloc'd memory (not in an
 * arena): for buffers that are reused across paragraphs or documents. */
typedef struct bs_vec {
  void *data;   /* elements */
  size_t len;   /* elements in use */
  size_t cap;   /* elements allocated */
  size_t esize; /* size of one element */
} bs_vec;

#define BS_VEC_INIT(type) {NULL, 0, 0, sizeof(type)}
/* Make room for `extra` more elements and return a pointer to the first
 * of them (not counted in len until the caller bumps it). */
/* (The common case, room already there, is inline: layout and the PDF
 * writer call these some 20,000 times a document.) */
void *bs_vec_grow(bs_vec *v, size_t extra);
static inline void *
bs_vec_reserve(bs_vec *v, size_t extra)
{
  if (v->cap - v->len < extra)
    return bs_vec_grow(v, extra);
  return (char *)v->data + v->len * v->esize;
}
/* Append one element (copied from `elem`) and return a pointer to it. */
static inline void *
bs_vec_push(bs_vec *v, const void *elem)
{
  void *slot = bs_vec_reserve(v, 1);
  memcpy(slot, elem, v->esize);
  v->len++;
  return slot;
}
/* A slot for one more element of size `esize` (which must be the
 * vector's), counted in len; the caller stores the element.  The step
 * behind BS_VEC_PUSH. */
static inline void *
bs_vec_slot(bs_vec *v, size_t esize)
{
  assert(esize == v->esize);
  (void)esize;
  void *slot = bs_vec_reserve(v, 1);
  v->len++;
  return slot;
}
/* Append `elem`, a value of `type`, the vector's element type, and yield
 * it: a typed store whose size the compiler knows, where bs_vec_push
 * copies the size it reads from the vector at run time (a call to memcpy
 * for anything but the smallest elements).  For the hot pushes: each
 * character of a paragraph, each line.  `v` is evaluated once; `elem`
 * must not be read from the vector itself (growing it may move it). */
#define BS_VEC_PUSH(v, type, elem)                                           \
  (*(type *)bs_vec_slot((v), sizeof(type)) = (elem))
void bs_vec_free(bs_vec *v);

#endif
