// SPDX-License-Identifier: Apache-2.0
/* memo.c - a bounded, thread-safe store of per-glyph byte strings; see
 * memo.h.
 *
 * Items are found in an open-addressed table of pointers (linear probing,
 * at most half full); growing it moves the pointers, never the items, so
 * an item a thread has found stays where it is.  Items are cut from chunks
 * of 64 KB: a malloc and a free per glyph were most of what storing cost a
 * one-document process (0.4 M instructions for the example).  One mutex guards the
 * table: a lookup holds it for a few probes.  `banshi batch` forks its
 * workers from a supervisor that renders nothing, so no fork happens while
 * another thread holds it.
 *
 * Layer 0 (base): docs/architecture.md. */
#include "memo.h"

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

/* Storage for items, chained from the newest. */
typedef struct S_chunk {
  struct S_chunk *next;
  size_t size;         /* bytes in data */
  size_t used;         /* of them, handed out */
  max_align_t data[];  /* the items */
} S_chunk;

#define S_CHUNK ((size_t)64 << 10)

struct bs_memo {
  pthread_mutex_t lock;
  const void *owner;    /* the program served, NULL: none yet */
  size_t owner_len;     /* its length */
  long uses;            /* claims for it so far */
  bs_memo_item **slots; /* cap slots, NULL where empty */
  S_chunk *chunks;      /* the items' storage, newest first */
  size_t cap;           /* a power of two, or 0 before the first item */
  size_t n;             /* items */
  size_t bytes;         /* the chunks' and the table's */
  size_t max_bytes;     /* the bound on `bytes` */
};

bs_memo *
bs_memo_new(size_t max_bytes)
{
  bs_memo *m = bs_xcalloc(1, sizeof *m);
  pthread_mutex_init(&m->lock, NULL);
  m->max_bytes = max_bytes;
  return m;
}

void
bs_memo_free(bs_memo *m)
{
  if (!m)
    return;
  while (m->chunks) {
    S_chunk *next = m->chunks->next;
    free(m->chunks);
    m->chunks = next;
  }
  free(m->slots);
  pthread_mutex_destroy(&m->lock);
  free(m);
}

long
bs_memo_claim(bs_memo *m, const void *p, size_t len)
{
  pthread_mutex_lock(&m->lock);
  if (!m->owner) {
    m->owner = p;
    m->owner_len = len;
  }
  long uses = -1;
  if (m->owner == p && m->owner_len == len) {
    uses = m->uses;
    if (m->uses < LONG_MAX)
      m->uses++;
  }
  pthread_mutex_unlock(&m->lock);
  return uses;
}

/* The slot of key: where it is, or the empty slot where it would go. */
static size_t
S_slot(const bs_memo *m, uint32_t key)
{
  size_t mask = m->cap - 1;
  size_t i = (size_t)(key * 2654435761u) & mask; /* Knuth's multiplier */
  while (m->slots[i] && m->slots[i]->key != key)
    i = (i + 1) & mask;
  return i;
}

const bs_memo_item *
bs_memo_get(bs_memo *m, uint32_t key)
{
  pthread_mutex_lock(&m->lock);
  const bs_memo_item *it = m->cap ? m->slots[S_slot(m, key)] : NULL;
  pthread_mutex_unlock(&m->lock);
  return it;
}

/* Double the table (or make the first one of 256 slots); false when that
 * would pass the bound. */
static bool
S_grow(bs_memo *m)
{
  size_t cap = m->cap ? m->cap * 2 : 256;
  size_t more = (cap - m->cap) * sizeof *m->slots;
  if (more > m->max_bytes - m->bytes)
    return false;
  bs_memo_item **old = m->slots;
  size_t oldcap = m->cap;
  m->slots = bs_xcalloc(cap, sizeof *m->slots);
  m->cap = cap;
  m->bytes += more;
  for (size_t i = 0; i < oldcap; i++)
    if (old[i])
      m->slots[S_slot(m, old[i]->key)] = old[i];
  free(old);
  return true;
}

/* size bytes for an item (a multiple of an item's alignment), from the
 * newest chunk or a new one; NULL when that would pass the bound. */
static bs_memo_item *
S_alloc(bs_memo *m, size_t size)
{
  S_chunk *c = m->chunks;
  if (!c || c->size - c->used < size) {
    size_t room = m->max_bytes - m->bytes, head = offsetof(S_chunk, data);
    size_t want = size > S_CHUNK ? size : S_CHUNK;
    if (room < head + size)
      return NULL;
    if (want > room - head)
      want = room - head; /* the last chunk: what the bound leaves */
    size_t total = head + want;
    c = bs_xmalloc(total);
    c->size = want;
    c->used = 0;
    c->next = m->chunks;
    m->chunks = c;
    m->bytes += total;
  }
  bs_memo_item *it = (bs_memo_item *)((unsigned char *)c->data + c->used);
  c->used += size;
  return it;
}

bool
bs_memo_put(bs_memo *m, uint32_t key, uint32_t aux, const void *data,
            size_t len)
{
  if (len > m->max_bytes)
    return false;
  size_t align = _Alignof(bs_memo_item);
  size_t size = (sizeof(bs_memo_item) + len + align - 1) / align * align;
  pthread_mutex_lock(&m->lock);
  bs_memo_item *it = NULL;
  if (2 * (m->n + 1) <= m->cap || S_grow(m)) {
    size_t i = S_slot(m, key);
    if (!m->slots[i] && (it = S_alloc(m, size)) != NULL) {
      it->key = key;
      it->aux = aux;
      it->len = len;
      if (len)
        memcpy(it->data, data, len);
      m->slots[i] = it;
      m->n++;
    }
  }
  pthread_mutex_unlock(&m->lock);
  return it != NULL;
}

size_t
bs_memo_count(bs_memo *m, size_t *bytes)
{
  pthread_mutex_lock(&m->lock);
  size_t n = m->n;
  if (bytes)
    *bytes = m->bytes;
  pthread_mutex_unlock(&m->lock);
  return n;
}

/* ------------------------------------------------------------------ */
/* Recent results                                                       */

struct bs_recent_ref {
  size_t refs;          /* the store's (while stored) and readers' */
  uint64_t hash;
  void *value;
  size_t klen;
  unsigned char key[];
};

struct bs_recent {
  pthread_mutex_t lock;
  void (*free_value)(void *);
  bs_recent_ref **items; /* newest first, n of them, at most cap */
  unsigned n, cap;
  size_t found, stored;
};

bs_recent *
bs_recent_new(unsigned n, void (*free_value)(void *))
{
  bs_recent *r = bs_xcalloc(1, sizeof *r);
  pthread_mutex_init(&r->lock, NULL);
  r->free_value = free_value;
  r->cap = n ? n : 1;
  r->items = bs_xcalloc(r->cap, sizeof *r->items);
  return r;
}

/* Drop a reference to it (the lock held); the item, when it was the last,
 * to free after the lock is let go: returned. */
static bs_recent_ref *
S_unref(bs_recent_ref *it)
{
  return --it->refs == 0 ? it : NULL;
}

static void
S_item_free(bs_recent *r, bs_recent_ref *it)
{
  if (!it)
    return;
  if (r->free_value)
    r->free_value(it->value);
  free(it);
}

void
bs_recent_free(bs_recent *r)
{
  if (!r)
    return;
  for (unsigned i = 0; i < r->n; i++)
    S_item_free(r, S_unref(r->items[i]));
  free(r->items);
  pthread_mutex_destroy(&r->lock);
  free(r);
}

const void *
bs_recent_get(bs_recent *r, uint64_t hash, const void *key, size_t klen,
              bs_recent_ref **ref)
{
  *ref = NULL;
  pthread_mutex_lock(&r->lock);
  for (unsigned i = 0; i < r->n; i++) {
    bs_recent_ref *it = r->items[i];
    if (it->hash == hash && it->klen == klen &&
        (klen == 0 || memcmp(it->key, key, klen) == 0)) {
      it->refs++;
      r->found++;
      *ref = it;
      break;
    }
  }
  pthread_mutex_unlock(&r->lock);
  return *ref ? (*ref)->value : NULL;
}

void
bs_recent_release(bs_recent *r, bs_recent_ref *ref)
{
  if (!ref)
    return;
  pthread_mutex_lock(&r->lock);
  bs_recent_ref *dead = S_unref(ref);
  pthread_mutex_unlock(&r->lock);
  S_item_free(r, dead);
}

void
bs_recent_put(bs_recent *r, uint64_t hash, const void *key, size_t klen,
              void *value)
{
  bs_recent_ref *it = bs_xmalloc(offsetof(bs_recent_ref, key) + klen + 1);
  it->refs = 1;
  it->hash = hash;
  it->value = value;
  it->klen = klen;
  if (klen)
    memcpy(it->key, key, klen);
  bs_recent_ref *dead = NULL;
  pthread_mutex_lock(&r->lock);
  for (unsigned i = 0; i < r->n; i++)
    if (r->items[i]->hash == hash && r->items[i]->klen == klen &&
        (klen == 0 || memcmp(r->items[i]->key, key, klen) == 0)) {
      dead = it; /* stored already (by another thread): keep that one */
      it = NULL;
      break;
    }
  if (it) {
    if (r->n == r->cap)
      dead = S_unref(r->items[--r->n]);
    memmove(r->items + 1, r->items, r->n * sizeof *r->items);
    r->items[0] = it;
    r->n++;
    r->stored++;
  }
  pthread_mutex_unlock(&r->lock);
  S_item_free(r, dead);
}

void
bs_recent_stats(bs_recent *r, size_t *found, size_t *stored)
{
  pthread_mutex_lock(&r->lock);
  if (found)
    *found = r->found;
  if (stored)
    *stored = r->stored;
  pthread_mutex_unlock(&r->lock);
}
