// SPDX-License-Identifier: Apache-2.0
/* memo.h - a store of byte strings computed from single glyphs of one font
 * program (cff.c keeps each glyph's flattened charstring here), shared by
 * every document and thread of a process and kept as long as the font.
 *
 * Design.  An item, once stored, is never changed, moved or freed before
 * the memo is: a reader holds the lock only to find it and reads its
 * bytes after, so threads copying glyphs do not wait on each other.  The
 * memo is bounded in bytes and then stops taking items instead of evicting
 * old ones: eviction would need reference counts on every item read, and a
 * bound that holds every glyph a run of documents draws (a few thousand
 * CJK glyphs of a few hundred bytes) leaves nothing worth evicting.  What
 * is stored must be a function of the program and the key alone, so that
 * a document comes out the same whatever was rendered before it in the
 * process.
 *
 * Layer 0 (base): docs/architecture.md. */
#ifndef BS_MEMO_H
#define BS_MEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bs_memo bs_memo;

/* An item: bytes and a value kept with them. */
typedef struct bs_memo_item {
  uint32_t key;
  uint32_t aux;   /* the storer's own value (cff.c: the glyph's CID and FD) */
  size_t len;     /* bytes in data */
  uint8_t data[]; /* the bytes */
} bs_memo_item;

/* A memo of at most max_bytes bytes (its items' storage and its table);
 * free with bs_memo_free, after every thread is done with its items. */
bs_memo *bs_memo_new(size_t max_bytes);
void bs_memo_free(bs_memo *m);

/* Claim the memo for a use with the program of len bytes at p: the number
 * of earlier uses (0 the first time: it then serves this program), or -1
 * when it serves another program, whose items must not be mixed with
 * these.  Thread-safe. */
long bs_memo_claim(bs_memo *m, const void *p, size_t len);

/* The item stored under key, or NULL.  It stays valid and unchanged until
 * bs_memo_free.  Thread-safe. */
const bs_memo_item *bs_memo_get(bs_memo *m, uint32_t key);

/* Store a copy of data (len bytes) and aux under key.  Returns false and
 * stores nothing when the key is taken (the first item stays: items are
 * a function of the key, so a second one is the same) or the bound would
 * be passed.  Thread-safe. */
bool bs_memo_put(bs_memo *m, uint32_t key, uint32_t aux, const void *data,
                 size_t len);

/* Items stored, and the bytes counted against the bound. */
size_t bs_memo_count(bs_memo *m, size_t *bytes);

/* A store of the last few results of a costly computation, each under the
 * full bytes of what it was computed from (render_pdf.c keeps a font's
 * recent embeddings in one: a batch's documents often draw the very same
 * glyphs of a font).  Unlike a bs_memo it holds whole results, and
 * evicts: storing one more than it holds drops the oldest, which is freed
 * once no reader holds it (readers take a reference).  A key is found by
 * its hash and then compared byte for byte, never by the hash alone.  As
 * with a memo, a value must be a function of its key alone.  Thread-safe;
 * a reader reads the value without the lock. */
typedef struct bs_recent bs_recent;
typedef struct bs_recent_ref bs_recent_ref;

/* A store of at most n values; freeing it frees each with free_value
 * (called also for values dropped), once no reference is held. */
bs_recent *bs_recent_new(unsigned n, void (*free_value)(void *));
void bs_recent_free(bs_recent *r);

/* The value stored under the klen bytes at key (hash: any hash of them),
 * and in *ref a reference to give back with bs_recent_release; NULL when
 * none is stored. */
const void *bs_recent_get(bs_recent *r, uint64_t hash, const void *key,
                          size_t klen, bs_recent_ref **ref);
void bs_recent_release(bs_recent *r, bs_recent_ref *ref);

/* Store `value` (taken: freed with free_value, at once when the key is
 * stored already) under a copy of the key. */
void bs_recent_put(bs_recent *r, uint64_t hash, const void *key, size_t klen,
                   void *value);

/* Values found and values stored since the store was made. */
void bs_recent_stats(bs_recent *r, size_t *found, size_t *stored);

#endif
