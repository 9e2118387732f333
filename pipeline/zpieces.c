// SPDX-License-Identifier: Apache-2.0
/* zpieces.c - deflate in content-defined pieces, with a store of pieces;
 * see zpieces.h.
 *
 * A piece's deflated form is a run of deflate blocks (RFC 1951) whose
 * last block has its final bit cleared, followed by the start of an empty
 * stored block (three zero bits, then zero bits to the byte boundary, then
 * LEN 0 and NLEN 0xFFFF), so that it ends on a byte boundary and the next
 * piece's first block header starts a byte; this is what zlib's
 * deflate(Z_SYNC_FLUSH) writes between two runs of input, and zlib's
 * examples/gzjoin.c joins streams the same way.  libdeflate, about twice
 * as fast as zlib at level 1 on font programs, writes only whole streams,
 * so the block boundaries are found by inflating the piece with zlib and
 * Z_BLOCK, which stops at each block's end and says how many bits of the
 * last byte it read (zlib.h, "The Z_BLOCK option").
 *
 * The store is a bs_memo (memo.h: bounded, thread-safe, items never
 * moved nor freed before it) keyed by the piece's CRC-32; an item holds
 * the piece's bytes, compared in full before a reuse, then its deflated
 * form, and its length as the item's value.  Two pieces with one CRC-32
 * share a key: the first is kept, the second is deflated each time.
 *
 * Layer 0 (base): docs/architecture.md. */
#include "zpieces.h"

#include <libdeflate.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "arena.h"
#include "memo.h"

/* Pieces: at least S_MIN bytes (the last may be shorter), cut where the
 * gear hash of the 64 bytes before has its top S_BITS bits clear (every
 * 2^S_BITS bytes on average), at most S_MAX bytes.  Smaller pieces are
 * found again more often and compress less: for the example's programs,
 * 1-8 KB pieces keep 91 % of the bytes of one document's programs in
 * those of the next and cost 3 % in size. */
#define S_MIN 1024
#define S_MAX 8192
#define S_BITS 11
#define S_LEVEL 1

struct bs_zpieces {
  bs_memo *memo;          /* the pieces */
  _Atomic size_t reused;  /* pieces found in the store */
  _Atomic size_t made;    /* pieces deflated */
};

bs_zpieces *
bs_zpieces_new(size_t max_bytes)
{
  bs_zpieces *z = bs_xcalloc(1, sizeof *z);
  z->memo = bs_memo_new(max_bytes);
  return z;
}

void
bs_zpieces_free(bs_zpieces *z)
{
  if (!z)
    return;
  bs_memo_free(z->memo);
  free(z);
}

void
bs_zpieces_stats(bs_zpieces *z, size_t *pieces, size_t *bytes,
                 size_t *reused, size_t *made)
{
  size_t n = bs_memo_count(z->memo, bytes);
  if (pieces)
    *pieces = n;
  if (reused)
    *reused = atomic_load(&z->reused);
  if (made)
    *made = atomic_load(&z->made);
}

/* ------------------------------------------------------------------ */
/* Cutting                                                              */

/* The gear table: 256 fixed pseudo-random words (SplitMix64 from a fixed
 * seed), the same in every process, so cut points are too. */
static void
S_gear(uint64_t g[256])
{
  uint64_t x = 0;
  for (int i = 0; i < 256; i++) {
    x += UINT64_C(0x9E3779B97F4A7C15);
    uint64_t v = x;
    v = (v ^ (v >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    v = (v ^ (v >> 27)) * UINT64_C(0x94D049BB133111EB);
    g[i] = v ^ (v >> 31);
  }
}

/* The length of the piece that starts `d` (n bytes left).  The hash at a
 * byte depends on the 64 bytes up to it alone (older bytes are shifted
 * out), so a cut point depends on the bytes around it, not on where the
 * piece began, once S_MIN bytes are passed. */
static size_t
S_cut(const uint8_t *d, size_t n, const uint64_t g[256])
{
  if (n <= S_MIN)
    return n;
  size_t end = n < S_MAX ? n : S_MAX;
  const uint64_t mask = ~UINT64_C(0) << (64 - S_BITS);
  uint64_t h = 0;
  size_t i = S_MIN - 64;
  for (; i < S_MIN; i++)
    h = (h << 1) + g[d[i]];
  for (; i < end; i++) {
    h = (h << 1) + g[d[i]];
    if (!(h & mask))
      return i + 1;
  }
  return end;
}

/* ------------------------------------------------------------------ */
/* One piece                                                            */

/* The sync flush after a piece's blocks ended at bit `end` of its last
 * byte (0-7, 0: on a boundary): the three bits of an empty stored block's
 * header go into that byte's free bits when there are three, else into
 * one more zero byte; then LEN and NLEN.  Writes and returns 4 or 5. */
static size_t
S_flush(uint8_t *out, unsigned end)
{
  size_t k = 0;
  if (end == 0 || end > 5)
    out[k++] = 0;
  out[k++] = 0;
  out[k++] = 0;
  out[k++] = 0xFF;
  out[k++] = 0xFF;
  return k;
}

/* A piece as one stored block, not final (n < 65,536): 5 + n bytes. */
static size_t
S_stored(const uint8_t *d, size_t n, uint8_t *out)
{
  out[0] = 0; /* BFINAL 0, BTYPE 00, padding */
  out[1] = (uint8_t)n;
  out[2] = (uint8_t)(n >> 8);
  out[3] = (uint8_t)~n;
  out[4] = (uint8_t)(~n >> 8);
  memcpy(out + 5, d, n);
  return 5 + n;
}

/* Deflate piece d (n <= S_MAX bytes) into out (room for S_MAX + 16
 * bytes), its blocks not final and ending on a byte boundary; `in` is an
 * inflater for raw deflate, `check` room for S_MAX bytes.  Returns the
 * bytes written: the stored form when deflating does not pay or the
 * result does not read back as d. */
static size_t
S_piece(struct libdeflate_compressor *c, z_stream *in, uint8_t *check,
        const uint8_t *d, size_t n, uint8_t *out)
{
  size_t m = libdeflate_deflate_compress(c, d, n, out, S_MAX + 16);
  if (m == 0 || m >= n || inflateReset(in) != Z_OK)
    return S_stored(d, n, out);
  in->next_in = out;
  in->avail_in = (uInt)m;
  in->next_out = check;
  in->avail_out = S_MAX;
  /* the bit where the current block's header starts; each Z_BLOCK return
   * at a block's end (data_type 128) gives the next one, until the block
   * that ended is the last (64) */
  size_t hdr = 0, last = 0, end = 0;
  bool done = false;
  for (int guard = 0; !done && guard < 1 << 16; guard++) {
    int r = inflate(in, Z_BLOCK);
    if (r != Z_OK)
      break; /* Z_STREAM_END before the last block's end is seen, or an
                error: not what libdeflate writes */
    unsigned left = (unsigned)in->data_type & 63;
    if (left > 7)
      break;
    if (in->data_type & 128) {
      size_t at = (size_t)in->total_in * 8 - left;
      if (in->data_type & 64) {
        last = hdr;
        end = at;
        done = true;
      } else {
        hdr = at;
      }
    }
  }
  if (!done || in->total_out != n || memcmp(check, d, n) != 0 ||
      (end + 7) / 8 != m)
    return S_stored(d, n, out);
  out[last / 8] &= (uint8_t) ~(1u << (last % 8)); /* BFINAL 0 */
  unsigned bits = (unsigned)(end % 8);
  if (bits)
    out[m - 1] &= (uint8_t)((1u << bits) - 1); /* zero padding */
  return m + S_flush(out + m, bits);
}

/* ------------------------------------------------------------------ */

/* What making pieces needs: the compressor (made on first use, the
 * caller's), an inflater to check them, the gear table and two buffers. */
typedef struct S_maker {
  struct libdeflate_compressor *c;
  z_stream in;
  uint64_t g[256];
  uint8_t *check; /* S_MAX bytes: a piece read back */
  uint8_t *both;  /* a piece and then its deflated form: a store's item */
} S_maker;

static bool
S_maker_init(S_maker *m, struct libdeflate_compressor **c)
{
  if (!*c)
    *c = libdeflate_alloc_compressor(S_LEVEL);
  if (!*c)
    return false;
  m->c = *c;
  memset(&m->in, 0, sizeof m->in);
  if (inflateInit2(&m->in, -15) != Z_OK)
    return false;
  S_gear(m->g);
  m->check = bs_xmalloc(S_MAX);
  m->both = bs_xmalloc(2 * S_MAX + 16);
  return true;
}

static void
S_maker_free(S_maker *m)
{
  inflateEnd(&m->in);
  free(m->check);
  free(m->both);
}

/* Deflate the n-byte piece d into m->both (the piece, then its deflated
 * form, whose length is returned), counted as made in `store`. */
static size_t
S_make(S_maker *m, bs_zpieces *store, const uint8_t *d, size_t n)
{
  memcpy(m->both, d, n);
  size_t pn = S_piece(m->c, &m->in, m->check, d, n, m->both + n);
  if (store)
    atomic_fetch_add(&store->made, 1);
  return pn;
}

unsigned char *
bs_zpieces_deflate(bs_zpieces *store, struct libdeflate_compressor **c,
                   const void *data, size_t len, size_t *zlen)
{
  S_maker m;
  if (!S_maker_init(&m, c))
    return NULL;
  /* each piece: at most 5 bytes more than its length; pieces but the last
   * have S_MIN bytes or more */
  size_t cap = 2 + len + 5 * (len / S_MIN + 1) + 2 + 4;
  unsigned char *out = bs_xmalloc(cap);
  size_t k = 0;
  out[k++] = 0x78; /* deflate, 32 KB window */
  out[k++] = 0x01; /* fastest; (0x78 << 8 | 0x01) % 31 == 0 */
  const uint8_t *d = data;
  size_t at = 0;
  while (at < len) {
    size_t n = S_cut(d + at, len - at, m.g);
    uint32_t crc = (uint32_t)libdeflate_crc32(0, d + at, n);
    const bs_memo_item *e = store ? bs_memo_get(store->memo, crc) : NULL;
    if (e && (e->aux != n || memcmp(e->data, d + at, n) != 0))
      e = NULL; /* another piece with this CRC-32 */
    if (e) {
      memcpy(out + k, e->data + n, e->len - n);
      k += e->len - n;
      atomic_fetch_add(&store->reused, 1);
    } else {
      size_t pn = S_make(&m, store, d + at, n);
      memcpy(out + k, m.both + n, pn);
      k += pn;
      if (store)
        bs_memo_put(store->memo, crc, (uint32_t)n, m.both, n + pn);
    }
    at += n;
  }
  out[k++] = 0x03; /* final block, fixed codes, end of block at once */
  out[k++] = 0x00;
  uint32_t a = libdeflate_adler32(1, data, len);
  out[k++] = (uint8_t)(a >> 24);
  out[k++] = (uint8_t)(a >> 16);
  out[k++] = (uint8_t)(a >> 8);
  out[k++] = (uint8_t)a;
  S_maker_free(&m);
  *zlen = k;
  return out;
}

void
bs_zpieces_prime(bs_zpieces *store, struct libdeflate_compressor **c,
                 const void *data, size_t len)
{
  S_maker m;
  if (!store || !len || !S_maker_init(&m, c))
    return;
  /* the pieces' starts, as bs_zpieces_deflate cuts them */
  const uint8_t *d = data;
  size_t npieces = 0, cap = len / S_MIN + 2;
  size_t *at = bs_xmalloc(cap * sizeof *at);
  for (size_t o = 0; o < len; o += S_cut(d + o, len - o, m.g))
    at[npieces++] = o;
  for (size_t i = npieces; i-- > 0;) {
    size_t n = (i + 1 < npieces ? at[i + 1] : len) - at[i];
    uint32_t crc = (uint32_t)libdeflate_crc32(0, d + at[i], n);
    if (bs_memo_get(store->memo, crc))
      break; /* stored: the other thread is past it, or the store has
                pieces of this CRC-32 (what follows is the other's) */
    size_t pn = S_make(&m, store, d + at[i], n);
    if (!bs_memo_put(store->memo, crc, (uint32_t)n, m.both, n + pn))
      break; /* full, or the other thread stored it meanwhile */
  }
  S_maker_free(&m);
  free(at);
}
