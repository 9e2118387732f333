// SPDX-License-Identifier: Apache-2.0
/* memo.c - a bounded, thread-safe store of per-glyph byte strings; see
 * memo.h.
 *
 * Items are found in an open-addressed table of pointers (linear probing,
 * at most half full); growing it moves the pointers, never the items, so
 * an item a thread has found stays where it is.  One mutex guards the
 * table: a lookup holds it for a few probes.  `banshi batch` forks its
 * workers from a supervisor that renders nothing, so no fork happens while
 * another thread holds it.
 *
 * Layer 0 (base): docs/architecture.md. */
#include "memo.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

struct bs_memo {
  pthread_mutex_t lock;
  const void *owner;    /* the program served, NULL: none yet */
  size_t owner_len;     /* its length */
  bs_memo_item **slots; /* cap slots, NULL where empty */
  size_t cap;           /* a power of two, or 0 before the first item */
  size_t n;             /* items */
  size_t bytes;         /* their bytes and headers, and the table's */
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
  for (size_t i = 0; i < m->cap; i++)
    free(m->slots[i]);
  free(m->slots);
  pthread_mutex_destroy(&m->lock);
  free(m);
}

bool
bs_memo_claim(bs_memo *m, const void *p, size_t len)
{
  pthread_mutex_lock(&m->lock);
  if (!m->owner) {
    m->owner = p;
    m->owner_len = len;
  }
  bool ok = m->owner == p && m->owner_len == len;
  pthread_mutex_unlock(&m->lock);
  return ok;
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

bool
bs_memo_put(bs_memo *m, uint32_t key, uint32_t aux, const void *data,
            size_t len)
{
  if (len > m->max_bytes)
    return false;
  /* made outside the lock: other threads wait only for the table */
  size_t size = sizeof(bs_memo_item) + len;
  bs_memo_item *it = bs_xmalloc(size);
  it->key = key;
  it->aux = aux;
  it->len = len;
  if (len)
    memcpy(it->data, data, len);
  pthread_mutex_lock(&m->lock);
  bool ok = size <= m->max_bytes - m->bytes &&
            (2 * (m->n + 1) <= m->cap || S_grow(m)) &&
            size <= m->max_bytes - m->bytes;
  size_t i = ok ? S_slot(m, key) : 0;
  if (ok && m->slots[i] == NULL) {
    m->slots[i] = it;
    m->n++;
    m->bytes += size;
    it = NULL;
  } else {
    ok = false;
  }
  pthread_mutex_unlock(&m->lock);
  free(it);
  return ok;
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
