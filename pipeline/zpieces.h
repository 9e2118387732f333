// SPDX-License-Identifier: Apache-2.0
/* zpieces.h - the zlib form (RFC 1950) of a byte string, deflated in
 * pieces cut where its content says, with a bounded store of pieces made
 * before.
 *
 * What it is for.  The font programs of a report's PDF are most of its
 * bytes and, deflated whole, most of the cost of a document in a batch
 * (libdeflate level 1: about 1.1 ms for the 90 KB body font of the example;
 * CFF charstrings and TrueType outlines hardly compress, and compressing
 * them is the slow case).  Documents of one batch draw mostly the same
 * glyphs, and a subset keeps its glyphs in the font's order, so two
 * documents' programs share long runs of bytes.  Here a program is cut
 * into pieces of 1-8 KB at points chosen by the bytes around them (a
 * rolling gear hash, as content-defined chunking does), so that a glyph
 * added in one place changes the piece around it and not the cut points
 * after it; each piece is deflated on its own into a run of blocks that
 * ends on a byte boundary (a sync flush: an empty stored block), and the
 * pieces joined, after a zlib header and before an empty final block and
 * the Adler-32 of the whole, are one zlib stream that any inflater reads.
 * A piece deflated once is kept and reused when the same bytes come again.
 *
 * The bytes made are a function of the input alone: the same whether the
 * pieces came from the store or were deflated now, on any thread, after
 * any earlier document.  Each piece is deflated with libdeflate (level 1),
 * then read back with zlib's inflater, which checks it gives the piece's
 * bytes back and finds where its last block starts (to clear that block's
 * final bit) and ends (to place the flush); a piece that fails the check
 * is stored instead of deflated.  Cutting costs about 5 % in bytes
 * against deflating the whole (the example: 121,906 -> 128,155 bytes).
 *
 * Layer 0 (base): docs/architecture.md. */
#ifndef BS_ZPIECES_H
#define BS_ZPIECES_H

#include <stddef.h>

struct libdeflate_compressor;

/* A store of pieces, shared by every document and thread of a process. */
typedef struct bs_zpieces bs_zpieces;

/* A store of at most max_bytes bytes (its pieces, before and after
 * deflating, and its table); when full it takes no more pieces.  Free
 * with bs_zpieces_free once no thread uses it. */
bs_zpieces *bs_zpieces_new(size_t max_bytes);
void bs_zpieces_free(bs_zpieces *z);

/* The zlib form of `len` bytes at `data`, in a malloc'd buffer of *zlen
 * bytes; `store` may be NULL (nothing kept or reused).  *c is the calling
 * thread's libdeflate compressor at level 1, made on first use; NULL
 * when it cannot be had or zlib's inflater cannot be set up.
 * Thread-safe. */
unsigned char *bs_zpieces_deflate(bs_zpieces *store,
                                  struct libdeflate_compressor **c,
                                  const void *data, size_t len, size_t *zlen);

/* Deflate into `store` the pieces of `len` bytes at `data` that
 * bs_zpieces_deflate would cut, from the last towards the first, until
 * one is found stored (or the store is full): a second thread's help to
 * a thread that deflates the same bytes from the first piece, which then
 * finds the rest of its pieces made.  The bytes that call makes are the
 * same (the store's pieces are the ones it would make).  Thread-safe. */
void bs_zpieces_prime(bs_zpieces *store, struct libdeflate_compressor **c,
                      const void *data, size_t len);

/* Pieces stored and the bytes counted against the bound; pieces reused
 * and pieces deflated since the store was made. */
void bs_zpieces_stats(bs_zpieces *z, size_t *pieces, size_t *bytes,
                      size_t *reused, size_t *made);

#endif
