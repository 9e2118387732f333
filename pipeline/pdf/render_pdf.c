// SPDX-License-Identifier: Apache-2.0
/* render_pdf.c - the layout as PDF/A-1b (ISO 19005-1 = GB/T 23286.1-2009)
 * through libharu 2.3.0.
 *
 * Design.  libharu writes the file: object tree, pages, content streams and
 * their compression, outlines, images, the Info dictionary, cross-reference
 * table and trailer.  Fonts and text are banshi's own, on libharu's object
 * tree, because libharu's TrueType path cannot give an archival file:
 * HPDF_GetFont walks all 65,536 code points (20-65 ms per font and
 * document), writes a /W array of every glyph (over PDF/A's 8,191 limit for
 * large CJK fonts), keeps the full loca/hmtx/cmap/post tables in the
 * embedded program, writes an encoding CMap where a ToUnicode CMap belongs,
 * has no CIDSet or CapHeight, and turns characters outside the BMP into
 * spaces.  Instead, before any page is written, the glyphs each font needs
 * are collected from the layout, the font is cut down (a CID-keyed CFF
 * font by cff.c, any other by HarfBuzz's subsetter), and the Type0 / CIDFont / FontDescriptor / font program /
 * CIDSet / ToUnicode objects are built directly with exactly the widths
 * layout used.  TrueType fonts become CIDFontType2 with a FontFile2 whose
 * glyphs are renumbered from 0 (code = new glyph, CIDToGIDMap /Identity);
 * OpenType CFF fonts (Noto CJK, the defaults) become CIDFontType0 with a
 * FontFile3 of subtype CIDFontType0C holding the subset's CFF program, whose
 * charset keeps the original CIDs (code = CID).  Text is drawn with TJ, one
 * text object per run,
 * glyph positions exact to 1/1000 of the font size.
 *
 * A font's subset and its compressed streams are data made before its
 * objects (S_font_job): with bs_pdf_options.threads 2 a worker thread makes
 * them, the costliest font first, while the main thread goes on with the
 * document's other objects; libharu, which is not thread-safe, is called
 * from the main thread alone, in the same order, so the bytes are the same.
 * A font that draws the same glyphs for the same characters as in one of
 * the last two documents of the process takes that document's subset and
 * deflated streams (bs_font.embeds, S_reuse) instead of making them again:
 * they are functions of those glyphs and characters and the font alone.
 *
 * PDF/A-1b needs, besides: an sRGB ICC v2 output intent (icc-profiles-free),
 * XMP metadata in an x:xmpmeta wrapper with the pdfaid schema and the same
 * values as Info (written here, XML-escaped), a trailer /ID (a hash of the
 * pages and metadata, so identical content gives identical bytes whatever
 * the source's encoding), direct outline
 * destinations, PDF 1.4, no transparency.  ../shared notes on libharu
 * record how each of these was found.
 *
 * Layer 10 (renderers): docs/architecture.md. */
#include "render.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hb-subset.h>
#include <hpdf.h>
#include <hpdf_conf.h>
#include <nettle/md5.h>
#include <xxhash.h>
#include <nettle/sha2.h>
#include <libdeflate.h>

#include "cff.h"
#include "fsio.h"
#include "pdf_archival.h"
#include "pdf_tagged.h"
#include "pdf_text.h"
#include "image.h"
#include "util.h"

#define S_DEFAULT_ICC "/usr/share/color/icc/sRGB.icc"
/* The largest profile read: sRGB profiles are 0.5-7 KB, the largest
 * common RGB ones (with lookup tables) under 1 MB. */
#define S_ICC_MAX ((size_t)4 << 20)

/* libharu 2.3.0 copies, fills and measures memory one byte at a time
 * (HPDF_MemCpy, HPDF_MemSet, HPDF_StrLen in hpdf_utils.c), and every byte
 * it writes to a stream passes through them twice: about 5 M instructions,
 * a fifth of the PDF stage of the example.  The library calls them through
 * its procedure linkage table, so these definitions in the program take
 * their place (ELF symbol interposition; the linker exports them because
 * libhpdf defines them).  Each keeps the library's contract: HPDF_MemCpy
 * and HPDF_MemSet return the end of what they wrote, HPDF_StrLen counts up
 * to a NUL or `maxlen` (no limit when negative), 0 for NULL.  Copies use
 * memmove: the byte loop tolerated an overlap with the source ahead. */
HPDF_BYTE *HPDF_MemCpy(HPDF_BYTE *out, const HPDF_BYTE *in, HPDF_UINT n);
void *HPDF_MemSet(void *s, HPDF_BYTE c, HPDF_UINT n);
HPDF_UINT HPDF_StrLen(const char *s, HPDF_INT maxlen);

HPDF_BYTE *
HPDF_MemCpy(HPDF_BYTE *out, const HPDF_BYTE *in, HPDF_UINT n)
{
  if (n)
    memmove(out, in, n);
  return out + n;
}

void *
HPDF_MemSet(void *s, HPDF_BYTE c, HPDF_UINT n)
{
  if (n)
    memset(s, c, n);
  return (HPDF_BYTE *)s + n;
}

HPDF_UINT
HPDF_StrLen(const char *s, HPDF_INT maxlen)
{
  if (!s)
    return 0;
  return (HPDF_UINT)(maxlen < 0 ? strlen(s) : strnlen(s, (size_t)maxlen));
}

typedef struct S_font {
  bs_font *font;        /* the source font */
  hb_set_t *gids;       /* original glyphs used */
  hb_map_t *gid_cp;     /* original glyph -> a code point it shows */
  hb_map_t *old_new;    /* original glyph -> CID (subset glyph) */
  HPDF_Dict type0;      /* the font resource */
} S_font;

typedef struct S_pdf {
  const bs_layout *l;
  bs_diags *diags;
  HPDF_Doc pdf;
  HPDF_Page page;
  bs_vec *cs;           /* current page's content, before compression */
  bs_vec content;       /* its buffer, reused from page to page */
  int32_t page_h;
  S_font *fonts;
  int nfonts;
  const bs_picture **pics; /* images embedded so far, each once */
  HPDF_Image *images;
  int nimages;
  /* content state */
  bool in_text;
  S_font *cur_font;
  int32_t cur_size;
  int64_t cur_tc;       /* character spacing Tc, in 1e-9 pt */
  bool in_path;
  int32_t path_width;
  HPDF_STATUS error;
  HPDF_STATUS detail;
  struct libdeflate_compressor *deflate; /* the main thread's (S_deflate),
                                           made on first use */
  const bs_pdf_options *o; /* NULL = defaults */
  bs_pdf_tags *tags;    /* tagged PDF: the marked content; NULL = untagged */
  int page_index;       /* current page, 0-based */
  int32_t open_sid;     /* element (or BS_SID_*) of the open marked-content
                           sequence; S_NO_MARK when none is open */
  bool mc_closed;       /* open_sid's sequence was closed after a glyph
                           chain with ActualText: reopen before drawing */
  bool mc_in_text;      /* the open sequence is inside a text object */
  uint32_t lbl_n;       /* the next run's first glyphs that are a label */
  int32_t lbl_body;     /* and the element of the rest of the run */
} S_pdf;

#define S_NO_MARK INT32_MIN

static void
S_error_handler(HPDF_STATUS error_no, HPDF_STATUS detail_no, void *user)
{
  S_pdf *p = user;
  if (!p->error) {
    p->error = error_no;
    p->detail = detail_no;
  }
}

/* An internal failure: libharu or HarfBuzz refused data banshi made (no
 * input of a user's leads here but exhausted memory or a bug).  `what` is
 * a detail in English for whoever reports the bug, inside the catalogue's
 * BS_D_RENDER frame in the user's language; failures a user can mend
 * (a missing ICC profile, fonts, template) have catalogue codes of their
 * own. */
static void
S_fail(S_pdf *p, const char *what)
{
  char msg[640]; /* room for any caller's `what` (at most 512 bytes) */
  if (p->error)
    snprintf(msg, sizeof msg, "%s (libharu error 0x%04X, detail %u)", what,
             (unsigned)p->error, (unsigned)p->detail);
  else
    snprintf(msg, sizeof msg, "%s", what);
  bs_diag(p->diags, BS_ERROR, BS_D_RENDER, p->l->doc->path, 0, 0, msg);
}

/* ------------------------------------------------------------------ */
/* Writing numbers and strings into content streams                     */

/* A page's content is gathered in a buffer of its own and handed to the
 * compressor whole when the page ends (S_deflate_page): a page writes
 * thousands of small pieces (four hex digits a glyph), each of which cost
 * a pass through libharu's stream functions, and the page was read back
 * out of libharu's stream to be compressed. */
static void
S_str(bs_vec *s, const char *str)
{
  size_t n = strlen(str);
  memcpy(bs_vec_reserve(s, n), str, n);
  s->len += n;
}

static void
S_num(bs_vec *s, int64_t mpt)
{
  char *o = bs_vec_reserve(s, 24);
  s->len += (size_t)(bs_put_mpt(o, mpt) - o);
}

/* ------------------------------------------------------------------ */
/* Fonts                                                                */

static S_font *
S_font_of(S_pdf *p, bs_font *f)
{
  for (int i = 0; i < p->nfonts; i++)
    if (p->fonts[i].font == f)
      return &p->fonts[i];
  p->fonts = bs_xrealloc(p->fonts, (size_t)(p->nfonts + 1) * sizeof *p->fonts);
  S_font *sf = &p->fonts[p->nfonts++];
  memset(sf, 0, sizeof *sf);
  sf->font = f;
  sf->gids = hb_set_create();
  sf->gid_cp = hb_map_create();
  hb_set_add(sf->gids, 0);
  return sf;
}

static void
S_collect_glyphs(S_pdf *p)
{
  /* a bit per glyph below 65,536 of each font already given to the set
   * and map, in the order of p->fonts: a document draws each glyph many
   * times, and HarfBuzz's set and map cost some 200 instructions a glyph;
   * the set and map come out the same */
  enum { NBITS = 65536 };
  uint64_t **seen = NULL;
  int nseen = 0;
  for (int pi = 0; pi < p->l->npages; pi++) {
    const bs_page *pg = &p->l->pages[pi];
    for (size_t i = 0; i < pg->n; i++) {
      if (pg->items[i].type != BS_ITEM_RUN)
        continue;
      const bs_run *r = &pg->items[i].as.run;
      S_font *sf = S_font_of(p, r->font);
      int fi = (int)(sf - p->fonts);
      if (fi >= nseen) {
        seen = bs_xrealloc(seen, (size_t)(fi + 1) * sizeof *seen);
        for (int k = nseen; k <= fi; k++)
          seen[k] = bs_xcalloc(NBITS / 64, sizeof **seen);
        nseen = fi + 1;
      }
      uint64_t *bits = seen[fi];
      for (uint32_t g = 0; g < r->n; g++) {
        unsigned gid = r->glyphs[g].gid;
        if (gid < NBITS) {
          uint64_t bit = UINT64_C(1) << (gid & 63);
          if (bits[gid >> 6] & bit)
            continue;
          bits[gid >> 6] |= bit;
        }
        hb_set_add(sf->gids, gid);
        if (!hb_map_has(sf->gid_cp, gid))
          hb_map_set(sf->gid_cp, gid, r->glyphs[g].cp);
      }
    }
  }
  for (int k = 0; k < nseen; k++)
    free(seen[k]);
  free(seen);
}

/* libharu writes the /Filter entry of a stream it compresses itself and
 * drops any other; this one goes with data compressed here. */
static HPDF_STATUS
S_flate_filter_key(HPDF_Dict d, HPDF_Stream out)
{
  (void)d;
  return HPDF_Stream_WriteStr(out, "/Filter /FlateDecode\012");
}

/* Streams: the fonts' (S_stream_packed) and the pages' (S_deflate_page)
 * are Flate-compressed, the XMP metadata (S_stream) is not.
 *
 * The data is compressed here with libdeflate rather than by libharu when it
 * writes the file: libharu uses zlib at its default level, and the font
 * programs (most of the bytes of a PDF) then took a third of the
 * instructions of a whole document.  libdeflate gives the same format at
 * about a third of the cost, and at its level 1 rather than 6 another 7 %
 * of a document's instructions go (the example: 102.0 M -> 94.5 M) for
 * 1.8 % more bytes (119,709 -> 121,906): the font programs, CFF
 * charstrings and TrueType outlines, hardly compress at any level. */
#define S_DEFLATE_LEVEL 1
/* `len` bytes at `data` deflated with the compressor *c (made on first
 * use), into a malloc'd buffer of *zlen bytes; NULL when the compressor
 * cannot be had or fails.  Touches nothing of libharu's: any thread. */
static unsigned char *
S_deflate(struct libdeflate_compressor **c, const void *data, size_t len,
          size_t *zlen)
{
  if (!*c)
    *c = libdeflate_alloc_compressor(S_DEFLATE_LEVEL);
  if (!*c)
    return NULL;
  size_t cap = libdeflate_zlib_compress_bound(*c, len);
  unsigned char *z = bs_xmalloc(cap ? cap : 1);
  *zlen = libdeflate_zlib_compress(*c, data, len, z, cap);
  if (*zlen == 0) {
    free(z);
    return NULL;
  }
  return z;
}

/* `zlen` bytes of zlib data `z` as the stream of `d`, which then writes its
 * own /Filter. */
static void
S_put_deflated(HPDF_Dict d, const unsigned char *z, size_t zlen)
{
  HPDF_Stream_Write(d->stream, z, (HPDF_UINT)zlen);
  d->filter = HPDF_STREAM_FILTER_NONE;
  d->write_fn = S_flate_filter_key;
}

/* `len` bytes at `data` deflated into the stream of `d`, which then writes
 * its own /Filter; false when the compressor cannot be had or fails (the
 * stream is left empty). */
static bool
S_deflate_into(S_pdf *p, HPDF_Dict d, const void *data, size_t len)
{
  size_t zl;
  unsigned char *z = S_deflate(&p->deflate, data, len, &zl);
  if (z)
    S_put_deflated(d, z, zl);
  free(z);
  return z != NULL;
}

/* A stream object holding `data` as it is. */
static HPDF_Dict
S_stream(S_pdf *p, const void *data, size_t len)
{
  HPDF_Dict d = HPDF_DictStream_New(p->pdf->mmgr, p->pdf->xref);
  if (!d)
    return NULL;
  if (len)
    HPDF_Stream_Write(d->stream, (const HPDF_BYTE *)data, (HPDF_UINT)len);
  return d;
}

/* A compressed stream's bytes, made before its object (S_font_job_run,
 * on any thread): the data and its zlib form. */
typedef struct S_packed {
  const void *data;   /* the bytes (in `own` or borrowed) */
  size_t len;         /* bytes in data */
  void *own;          /* malloc'd data, or NULL when borrowed */
  unsigned char *z;   /* malloc'd zlib form; NULL when the compressor
                         cannot be had or failed */
  size_t zlen;        /* bytes in z */
} S_packed;

/* Pack `len` bytes at `data` (`own`: malloc'd, taken; NULL: borrowed):
 * deflated whole, or in pieces kept in `pieces` (zpieces.h) when it is not
 * NULL. */
static void
S_pack(S_packed *pk, struct libdeflate_compressor **c, bs_zpieces *pieces,
       const void *data, size_t len, void *own)
{
  pk->data = data;
  pk->len = len;
  pk->own = own;
  pk->z = pieces ? bs_zpieces_deflate(pieces, c, data, len, &pk->zlen)
                 : S_deflate(c, data, len, &pk->zlen);
}

static void
S_packed_free(S_packed *pk)
{
  free(pk->own);
  free(pk->z);
  memset(pk, 0, sizeof *pk);
}

/* The stream object of a packed stream, Flate-compressed: by libharu
 * when the file is written if the compressor failed. */
static void
S_put_packed(HPDF_Dict d, const S_packed *pk)
{
  if (pk->z) {
    S_put_deflated(d, pk->z, pk->zlen);
    return;
  }
  d->filter = HPDF_STREAM_FILTER_FLATE_DECODE;
  if (pk->len)
    HPDF_Stream_Write(d->stream, (const HPDF_BYTE *)pk->data,
                      (HPDF_UINT)pk->len);
}

static HPDF_Dict
S_stream_packed(S_pdf *p, const S_packed *pk)
{
  HPDF_Dict d = HPDF_DictStream_New(p->pdf->mmgr, p->pdf->xref);
  if (d)
    S_put_packed(d, pk);
  return d;
}

/* Six capital letters from a hash of the font and its glyph set, so the
 * subset tag is stable for identical inputs. */
static void
S_subset_tag(const S_font *sf, char tag[8])
{
  struct md5_ctx ctx;
  HPDF_BYTE d[16];
  md5_init(&ctx);
  md5_update(&ctx, strlen(sf->font->psname), (const uint8_t *)sf->font->psname);
  hb_codepoint_t g = HB_SET_VALUE_INVALID;
  while (hb_set_next(sf->gids, &g)) {
    HPDF_BYTE b[4] = {(HPDF_BYTE)(g >> 24), (HPDF_BYTE)(g >> 16),
                      (HPDF_BYTE)(g >> 8), (HPDF_BYTE)g};
    md5_update(&ctx, 4, b);
  }
  md5_digest(&ctx, MD5_DIGEST_SIZE, d);
  for (int i = 0; i < 6; i++)
    tag[i] = (char)('A' + d[i] % 26);
  tag[6] = '+';
  tag[7] = '\0';
}

static void
S_hex4(char *out, unsigned v)
{
  static const char hx[] = "0123456789ABCDEF";
  out[0] = hx[(v >> 12) & 15];
  out[1] = hx[(v >> 8) & 15];
  out[2] = hx[(v >> 4) & 15];
  out[3] = hx[v & 15];
}

/* What the subsetter made of one font: the font program to embed and, for
 * each glyph of the subset, the code that draws it and the original glyph
 * it comes from. */
typedef struct S_subset {
  hb_blob_t *program;   /* FontFile2: the subset font; FontFile3: its CFF */
  unsigned n;           /* glyphs of the subset */
  uint32_t *code;       /* subset glyph -> code (= CID) in content streams */
  hb_codepoint_t *orig; /* subset glyph -> original glyph */
  uint32_t maxcode;     /* the largest code */
} S_subset;

/* The ToUnicode CMap: every code to the character it was drawn for.
 * Returns the malloc'd text, of *lenp bytes. */
static char *
S_tounicode(const S_font *sf, const S_subset *ss, size_t *lenp)
{
  size_t cap = 512 + (size_t)ss->n * 32, len = 0;
  char *buf = bs_xmalloc(cap);
  len += (size_t)snprintf(
      buf + len, cap - len,
      "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
      "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 "
      ">> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
      "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n");
  unsigned i = 1;
  while (i < ss->n) {
    unsigned block = 0;
    size_t mark = len;
    len += (size_t)snprintf(buf + len, cap - len, "%-3u beginbfchar\n", 100u);
    for (; i < ss->n && block < 100; i++) {
      hb_codepoint_t old = ss->orig[i];
      if (!hb_map_has(sf->gid_cp, old))
        continue; /* a component glyph, never drawn alone */
      uint32_t cp = hb_map_get(sf->gid_cp, old);
      char e[32];
      e[0] = '<';
      S_hex4(e + 1, ss->code[i]);
      memcpy(e + 5, "> <", 3);
      size_t k = 8;
      if (cp < 0x10000) {
        S_hex4(e + k, cp);
        k += 4;
      } else {
        uint32_t v = cp - 0x10000;
        S_hex4(e + k, 0xD800 + (v >> 10));
        S_hex4(e + k + 4, 0xDC00 + (v & 0x3FF));
        k += 8;
      }
      e[k++] = '>';
      e[k++] = '\n';
      memcpy(buf + len, e, k);
      len += k;
      block++;
    }
    if (block == 0) {
      len = mark;
      continue;
    }
    /* patch the count written in front of the block */
    char cnt[8];
    snprintf(cnt, sizeof cnt, "%-3u", block);
    memcpy(buf + mark, cnt, 3);
    len += (size_t)snprintf(buf + len, cap - len, "endbfchar\n");
  }
  len += (size_t)snprintf(buf + len, cap - len,
                          "endcmap\nCMapName currentdict /CMap defineresource "
                          "pop\nend\nend\n");
  *lenp = len;
  return buf;
}

/* CIDSet: a bit for every code of the subset (PDF/A-1 6.3.5), malloc'd,
 * *lenp bytes. */
static unsigned char *
S_cidset(const S_subset *ss, size_t *lenp)
{
  size_t setlen = (size_t)ss->maxcode / 8 + 1;
  unsigned char *bits = bs_xcalloc(setlen, 1);
  for (unsigned c = 0; c < ss->n; c++)
    bits[ss->code[c] / 8] |= (unsigned char)(0x80 >> (ss->code[c] % 8));
  *lenp = setlen;
  return bits;
}

/* ------------------------------------------------------------------ */
/* Subsetting                                                           */

/* The subsetter's input for one font: its characters (or glyphs), without
 * hinting, without the tables a PDF font program does not need. */
static hb_subset_input_t *
S_subset_input(const S_font *sf)
{
  bs_font *f = sf->font;
  hb_subset_input_t *in = hb_subset_input_create_or_fail();
  if (!in)
    return NULL;
  /* Ask for the characters rather than the glyphs when every glyph is
   * its character's glyph in the font's cmap (the usual case): the
   * subsetter then looks up only those characters, where a glyph set makes
   * it map the whole cmap, 20,000-45,000 entries for a CJK font, in every
   * document (23% of the instructions of a one-document run).  The
   * subset is the same. */
  hb_set_t *cps = hb_set_create();
  hb_codepoint_t g = HB_SET_VALUE_INVALID;
  while (cps && hb_set_next(sf->gids, &g)) {
    uint32_t cp = g ? hb_map_get(sf->gid_cp, g) : 0;
    if (g && (cp == HB_MAP_VALUE_INVALID || bs_font_glyph(f, cp) != g)) {
      hb_set_destroy(cps);
      cps = NULL;
    } else if (g) {
      hb_set_add(cps, cp);
    }
  }
  if (cps)
    hb_set_union(hb_subset_input_unicode_set(in), cps);
  else
    hb_set_union(hb_subset_input_glyph_set(in), sf->gids);
  hb_set_destroy(cps);
  /* Hinting instructions only help low-resolution screens; archival
   * copies are printed or viewed by renderers that ignore or replace
   * them, and they are a tenth of a CJK font's glyph data.  CFF
   * charstrings are written without subroutines, as cff.c writes those of
   * a CID-keyed font: a CJK font's subroutines serve 65,000 glyphs, and
   * finding the few a subset needs cost the subsetter three times the
   * instructions of inlining them, for a program that comes out larger
   * (Noto Serif CJK, the example's 400 glyphs: 92 KB with subroutines,
   * 84 KB without). */
  hb_subset_input_set_flags(in, HB_SUBSET_FLAGS_NO_HINTING |
                                    (f->cff ? HB_SUBSET_FLAGS_DESUBROUTINIZE
                                            : 0));
  hb_set_t *dt = hb_subset_input_set(in, HB_SUBSET_SETS_DROP_TABLE_TAG);
  if (f->cff) {
    /* FontFile3 holds the CFF table alone: every other table is work
     * for nothing (the layout tables of a CJK font most of all) */
    hb_tag_t tags[64];
    unsigned start = 0, count;
    do {
      count = sizeof tags / sizeof *tags;
      hb_face_get_table_tags(f->face, start, &count, tags);
      for (unsigned i = 0; i < count; i++)
        if (tags[i] != HB_TAG('C', 'F', 'F', ' '))
          hb_set_add(dt, tags[i]);
      start += count;
    } while (count == sizeof tags / sizeof *tags);
    return in;
  }
  static const hb_tag_t drop[] = {
      HB_TAG('G', 'S', 'U', 'B'), HB_TAG('G', 'P', 'O', 'S'),
      HB_TAG('G', 'D', 'E', 'F'), HB_TAG('B', 'A', 'S', 'E'),
      HB_TAG('J', 'S', 'T', 'F'), HB_TAG('M', 'A', 'T', 'H'),
      HB_TAG('v', 'h', 'e', 'a'), HB_TAG('v', 'm', 't', 'x'),
      HB_TAG('V', 'O', 'R', 'G'), HB_TAG('k', 'e', 'r', 'n'),
      HB_TAG('D', 'S', 'I', 'G'), HB_TAG('E', 'B', 'D', 'T'),
      HB_TAG('E', 'B', 'L', 'C'), HB_TAG('E', 'B', 'S', 'C'),
      HB_TAG('h', 'd', 'm', 'x'), HB_TAG('L', 'T', 'S', 'H'),
      HB_TAG('V', 'D', 'M', 'X'), HB_TAG('P', 'C', 'L', 'T'),
      HB_TAG('m', 'o', 'r', 'x'), HB_TAG('m', 'o', 'r', 't'),
      HB_TAG('f', 'e', 'a', 't'), HB_TAG('g', 'a', 's', 'p'),
      HB_TAG('c', 'm', 'a', 'p'), HB_TAG('n', 'a', 'm', 'e'),
  };
  for (size_t i = 0; i < sizeof drop / sizeof *drop; i++)
    hb_set_add(dt, drop[i]);
  return in;
}

/* A CID-keyed CFF font cut down by cff.c.  Returns false when the font
 * is of a form cff.c leaves to HarfBuzz (a name-keyed CFF font, say). */
static bool
S_subset_cid_cff(S_font *sf, S_subset *ss)
{
  hb_blob_t *blob =
      hb_face_reference_table(sf->font->face, HB_TAG('C', 'F', 'F', ' '));
  unsigned len;
  const uint8_t *d = (const uint8_t *)hb_blob_get_data(blob, &len);
  unsigned n = hb_set_get_population(sf->gids);
  uint32_t *gids = bs_xcalloc(n ? n : 1, sizeof *gids);
  unsigned k = 0;
  hb_codepoint_t g = HB_SET_VALUE_INVALID;
  while (k < n && hb_set_next(sf->gids, &g))
    gids[k++] = g;
  /* The table lies in the mapped file (a sub-blob of it, unless
   * HarfBuzz's sanitizer had to copy it): the same bytes are at that
   * offset of the file, which cff.c reads the charstrings from. */
  unsigned flen;
  uintptr_t t = (uintptr_t)d,
            fa = (uintptr_t)hb_blob_get_data(sf->font->blob, &flen);
  int file = -1;
  uint64_t at = 0;
  if (sf->font->fd >= 0 && t && fa && t >= fa && len <= flen &&
      t - fa <= flen - len) {
    file = sf->font->fd;
    at = t - fa;
  }
  bs_cff_subset cs;
  bs_cff_status st = bs_cff_subset_make_fd(d, len, file, at, gids, k,
                                           sf->font->cff_glyphs, &cs);
  free(gids);
  hb_blob_destroy(blob);
  if (st != BS_CFF_OK)
    return false;
  ss->n = cs.n;
  ss->orig = cs.orig;
  ss->code = cs.cid;
  ss->program = hb_blob_create((const char *)cs.data, (unsigned)cs.len,
                               HB_MEMORY_MODE_READONLY, cs.data, free);
  return true;
}

/* The font cut down by HarfBuzz's subsetter: TrueType subsets are
 * renumbered from 0 and the code is the new glyph (CIDToGIDMap
 * /Identity); CFF subsets keep their CIDs (bs_cff_codes). */
static const char *
S_subset_hb(S_font *sf, S_subset *ss)
{
  bs_font *f = sf->font;
  hb_subset_input_t *in = S_subset_input(sf);
  if (!in)
    return "cannot prepare a font subset";
  hb_subset_plan_t *plan = hb_subset_plan_create_or_fail(f->face, in);
  hb_subset_input_destroy(in);
  if (!plan)
    return "cannot plan a font subset";
  hb_face_t *sub = hb_subset_plan_execute_or_fail(plan);
  if (!sub) {
    hb_subset_plan_destroy(plan);
    return "cannot subset a font";
  }
  const hb_map_t *n2o = hb_subset_plan_new_to_old_glyph_mapping(plan);
  ss->n = hb_map_get_population(n2o);
  ss->orig = bs_xcalloc(ss->n ? ss->n : 1, sizeof *ss->orig);
  ss->code = bs_xcalloc(ss->n ? ss->n : 1, sizeof *ss->code);
  for (unsigned c = 0; c < ss->n; c++)
    ss->orig[c] = hb_map_has(n2o, c) ? hb_map_get(n2o, c) : 0;
  const char *why = NULL;
  if (f->cff) {
    ss->program = hb_face_reference_table(sub, HB_TAG('C', 'F', 'F', ' '));
    unsigned len;
    const uint8_t *d = (const uint8_t *)hb_blob_get_data(ss->program, &len);
    if (!bs_cff_codes(d, len, ss->code, ss->n))
      why = "cannot read the CFF font program of a subset";
  } else {
    ss->program = hb_face_reference_blob(sub);
    for (unsigned c = 0; c < ss->n; c++)
      ss->code[c] = c;
  }
  hb_face_destroy(sub);
  hb_subset_plan_destroy(plan);
  return why;
}

/* Record, in sf->old_new, the code of each original glyph of subset ss. */
static void
S_old_new(S_font *sf, const S_subset *ss)
{
  sf->old_new = hb_map_create();
  for (unsigned c = 0; c < ss->n; c++)
    hb_map_set(sf->old_new, ss->orig[c], ss->code[c]);
}

/* Cut one font down to the glyphs the document draws and record, in
 * sf->old_new, the code of each original glyph.  Failures, for S_fail,
 * go to why[] (at most two; none: the subset is there).  Touches nothing
 * of libharu's and no font but sf: any thread. */
static void
S_subset_font(S_font *sf, S_subset *ss, const char *why[2])
{
  memset(ss, 0, sizeof *ss);
  why[0] = why[1] = NULL;
  if (!sf->font->cff || !S_subset_cid_cff(sf, ss))
    why[0] = S_subset_hb(sf, ss);
  if (!ss->program)
    return;
  for (unsigned c = 0; c < ss->n; c++)
    if (ss->code[c] > ss->maxcode)
      ss->maxcode = ss->code[c];
  S_old_new(sf, ss);
  if (ss->maxcode > 0xFFFF)
    why[why[0] != NULL] = "a font subset has a CID above 65535";
}

static void
S_subset_free(S_subset *ss)
{
  hb_blob_destroy(ss->program);
  free(ss->code);
  free(ss->orig);
}

/* ------------------------------------------------------------------ */
/* Font jobs                                                            */

/* What of a font's embedding is data alone, done before its objects are
 * built (S_embed_font), on the main thread or the font worker: the subset,
 * its program, CIDSet and ToUnicode CMap, deflated.  libharu is not
 * thread-safe; the objects are built on the main thread in the fonts'
 * order, from the same bytes, so the file is the same whichever thread
 * made them. */
typedef struct S_font_job {
  S_font *sf;           /* the font (its old_new is set here) */
  S_subset ss;          /* the subset */
  const char *why[2];   /* failures for S_fail, NULL: none */
  S_packed program;     /* FontFile2/3 (the subset's blob, borrowed) */
  S_packed cidset;      /* CIDSet */
  S_packed tounicode;   /* ToUnicode */
  HPDF_Dict ff;         /* the program's stream object, once built */
  bool later;           /* the program is deflated after the objects are
                           built, and put in ff then */
  bool subset_done;     /* S_font_work: the subset and the small streams
                           are made (under its lock) */
  bool program_taken;   /* a thread deflates the program (under it) */
  bool program_done;    /* and the program is deflated */
  char tag[8];          /* the subset tag (S_subset_tag) */
  unsigned program_len; /* bytes in the program before deflating */
  uint32_t *key;        /* what the embedding is made from (S_embed_key),
                           malloc'd; NULL once stored or when reused */
  size_t klen;          /* bytes in key */
  uint64_t khash;       /* their hash */
  bs_recent_ref *reused; /* the stored embedding used (S_reuse), whose
                            bytes the job's subset and streams borrow;
                            NULL: made here */
} S_font_job;

/* A font's embedding kept for the next documents (bs_font.embeds), in one
 * malloc'd block: this header, then the arrays and the streams' zlib
 * forms its pointers point to.  Everything of it is a function of the
 * font and the key it is stored under (S_embed_key). */
typedef struct S_embedding {
  unsigned n;           /* S_subset's n, code, orig and maxcode */
  uint32_t maxcode;
  const uint32_t *code;
  const hb_codepoint_t *orig;
  unsigned program_len;
  char tag[8];
  const unsigned char *z[3]; /* program, CIDSet, ToUnicode, deflated */
  size_t zlen[3];
  size_t len[3];        /* their bytes before deflating */
} S_embedding;

/* The key of a font's embedding in a document: each glyph it draws
 * (ascending) with the character it is drawn for, or ~0 for none.  The
 * subset (glyphs, codes, program), its tag, CIDSet and ToUnicode and the
 * widths are functions of these and the font alone; the font is the
 * store's (one per bs_font).  Returns the malloc'd key, *klen bytes. */
static uint32_t *
S_embed_key(const S_font *sf, size_t *klen)
{
  unsigned n = hb_set_get_population(sf->gids);
  uint32_t *key = bs_xmalloc(2 * (size_t)(n ? n : 1) * sizeof *key);
  size_t k = 0;
  hb_codepoint_t g = HB_SET_VALUE_INVALID;
  while (k < 2 * (size_t)n && hb_set_next(sf->gids, &g)) {
    key[k++] = g;
    key[k++] = hb_map_has(sf->gid_cp, g) ? hb_map_get(sf->gid_cp, g)
                                         : UINT32_MAX;
  }
  *klen = k * sizeof *key;
  return key;
}

/* Use an embedding stored for the same key by an earlier document, if
 * there is one: the job's subset and streams then borrow its bytes.
 * True when it did. */
static bool
S_reuse(S_font_job *j)
{
  bs_recent *store = j->sf->font->embeds;
  if (!store)
    return false;
  j->key = S_embed_key(j->sf, &j->klen);
  j->khash = XXH3_64bits(j->key, j->klen);
  bs_recent_ref *ref;
  const S_embedding *e =
      bs_recent_get(store, j->khash, j->key, j->klen, &ref);
  if (!e)
    return false;
  free(j->key);
  j->key = NULL;
  j->reused = ref;
  memset(&j->ss, 0, sizeof j->ss);
  j->ss.n = e->n;
  j->ss.maxcode = e->maxcode;
  j->ss.code = (uint32_t *)e->code;
  j->ss.orig = (hb_codepoint_t *)e->orig;
  j->program_len = e->program_len;
  memcpy(j->tag, e->tag, sizeof j->tag);
  S_packed *pk[3] = {&j->program, &j->cidset, &j->tounicode};
  for (int i = 0; i < 3; i++) {
    pk[i]->z = (unsigned char *)e->z[i];
    pk[i]->zlen = e->zlen[i];
    pk[i]->len = e->len[i];
  }
  S_old_new(j->sf, &j->ss);
  return true;
}

/* Store job j's embedding (all of it made here, without failure) for the
 * documents after. */
static void
S_keep(S_font_job *j)
{
  if (!j->key)
    return;
  const S_packed *pk[3] = {&j->program, &j->cidset, &j->tounicode};
  bool whole = !j->why[0] && !j->why[1];
  for (int i = 0; i < 3; i++)
    whole = whole && pk[i]->z;
  if (whole) {
    size_t n = j->ss.n, size = sizeof(S_embedding) + n * sizeof(uint32_t) +
                              n * sizeof(hb_codepoint_t);
    for (int i = 0; i < 3; i++)
      size += pk[i]->zlen;
    S_embedding *e = bs_xmalloc(size);
    unsigned char *at = (unsigned char *)(e + 1);
    e->n = j->ss.n;
    e->maxcode = j->ss.maxcode;
    e->code = (const uint32_t *)at;
    memcpy(at, j->ss.code, n * sizeof(uint32_t));
    at += n * sizeof(uint32_t);
    e->orig = (const hb_codepoint_t *)at;
    memcpy(at, j->ss.orig, n * sizeof(hb_codepoint_t));
    at += n * sizeof(hb_codepoint_t);
    e->program_len = j->program_len;
    memcpy(e->tag, j->tag, sizeof e->tag);
    for (int i = 0; i < 3; i++) {
      e->z[i] = at;
      e->zlen[i] = pk[i]->zlen;
      e->len[i] = pk[i]->len;
      memcpy(at, pk[i]->z, pk[i]->zlen);
      at += pk[i]->zlen;
    }
    bs_recent_put(j->sf->font->embeds, j->khash, j->key, j->klen, e);
  }
  free(j->key);
  j->key = NULL;
}

/* Deflate the program of job j (its subset made) with the compressor *c,
 * in pieces that documents of a batch share (zpieces.h). */
static void
S_font_job_program(S_font_job *j, struct libdeflate_compressor **c)
{
  if (j->why[0] || j->reused)
    return;
  unsigned blen;
  const char *bdata = hb_blob_get_data(j->ss.program, &blen);
  S_pack(&j->program, c, j->sf->font->programs, bdata, blen, NULL);
  S_keep(j);
}

/* Run job j with the compressor *c (one per thread): all of it, or all
 * but the program's compression when `program` is false. */
static void
S_font_job_run(S_font_job *j, struct libdeflate_compressor **c, bool program)
{
  if (S_reuse(j))
    return;
  S_subset_font(j->sf, &j->ss, j->why);
  if (j->why[0])
    return;
  j->program_len = hb_blob_get_length(j->ss.program);
  S_subset_tag(j->sf, j->tag);
  size_t len;
  unsigned char *bits = S_cidset(&j->ss, &len);
  S_pack(&j->cidset, c, NULL, bits, len, bits);
  char *cmap = S_tounicode(j->sf, &j->ss, &len);
  S_pack(&j->tounicode, c, NULL, cmap, len, cmap);
  if (program)
    S_font_job_program(j, c);
}

static void
S_font_job_free(S_font_job *j)
{
  free(j->key);
  j->key = NULL;
  if (j->reused) {
    /* the bytes are the store's */
    memset(&j->program, 0, sizeof j->program);
    memset(&j->cidset, 0, sizeof j->cidset);
    memset(&j->tounicode, 0, sizeof j->tounicode);
    memset(&j->ss, 0, sizeof j->ss);
    bs_recent_release(j->sf->font->embeds, j->reused);
    j->reused = NULL;
  }
  S_packed_free(&j->program);
  S_packed_free(&j->cidset);
  S_packed_free(&j->tounicode);
  S_subset_free(&j->ss);
  memset(&j->ss, 0, sizeof j->ss);
}

/* The font jobs of a document with a font worker (bs_pdf_options.threads
 * 2), in two phases.  Subsets (with the small streams) are taken in turn
 * by the main thread and the worker, costliest first: the body font of a
 * report draws most of the glyphs (the example: 10 M of the 14 M
 * instructions of its four fonts), and the worker takes it while the main
 * thread writes the document information, the output intent and the ID's
 * hash and takes the smaller fonts.  The programs, most of the bytes to
 * compress, are deflated by the worker, costliest first, once their
 * subsets are made, while the main thread builds the fonts' objects, their
 * program streams empty, and writes the pages; then the main thread, which
 * would otherwise wait for the worker, deflates the programs the worker
 * has not started, cheapest first, and fills the program streams before
 * the file is written (S_font_work_finish).  Each program is deflated
 * once, by whichever thread takes it first; its bytes are the same on
 * either (zpieces.h). */
typedef struct S_font_work {
  S_font_job *jobs;     /* one per font, in the fonts' order */
  int n;                /* jobs */
  int *order;           /* job indexes, costliest first */
  atomic_int next;      /* the next entry of order to take */
  pthread_mutex_t lock; /* guards the jobs' _done flags and stop */
  pthread_cond_t done;  /* a flag was set */
  bool stop;            /* the main thread needs no more */
} S_font_work;

static void
S_font_work_init(S_font_work *w, S_pdf *p)
{
  memset(w, 0, sizeof *w);
  w->n = p->nfonts;
  w->jobs = bs_xcalloc(w->n ? (size_t)w->n : 1, sizeof *w->jobs);
  w->order = bs_xcalloc(w->n ? (size_t)w->n : 1, sizeof *w->order);
  unsigned *cost = bs_xcalloc(w->n ? (size_t)w->n : 1, sizeof *cost);
  for (int i = 0; i < w->n; i++) {
    w->jobs[i].sf = &p->fonts[i];
    /* flattening, copying and deflating grow with the glyphs */
    cost[i] = hb_set_get_population(p->fonts[i].gids);
    int k = i;
    for (; k > 0 && cost[w->order[k - 1]] < cost[i]; k--)
      w->order[k] = w->order[k - 1];
    w->order[k] = i;
  }
  free(cost);
  atomic_init(&w->next, 0);
  pthread_mutex_init(&w->lock, NULL);
  pthread_cond_init(&w->done, NULL);
}

/* The next subset to make, or NULL when every one is taken. */
static S_font_job *
S_font_work_take(S_font_work *w)
{
  int i = atomic_fetch_add(&w->next, 1);
  return i < w->n ? &w->jobs[w->order[i]] : NULL;
}

/* Take and make subsets until none is left (the thread's compressor *c). */
static void
S_font_work_subsets(S_font_work *w, struct libdeflate_compressor **c)
{
  S_font_job *j;
  while ((j = S_font_work_take(w)) != NULL) {
    S_font_job_run(j, c, false);
    pthread_mutex_lock(&w->lock);
    j->subset_done = true;
    pthread_cond_broadcast(&w->done);
    pthread_mutex_unlock(&w->lock);
  }
}

/* Wait until job j's subset is made; false when the work was stopped. */
static bool
S_font_work_wait_subset(S_font_work *w, S_font_job *j)
{
  pthread_mutex_lock(&w->lock);
  while (!j->subset_done && !w->stop)
    pthread_cond_wait(&w->done, &w->lock);
  bool ok = j->subset_done;
  pthread_mutex_unlock(&w->lock);
  return ok;
}

/* Take job j's program to deflate (its subset made): false when the other
 * thread took it. */
static bool
S_font_work_take_program(S_font_work *w, S_font_job *j)
{
  pthread_mutex_lock(&w->lock);
  bool mine = !j->program_taken;
  j->program_taken = true;
  pthread_mutex_unlock(&w->lock);
  return mine;
}

/* Deflate job j's program, taken, with the compressor *c. */
static void
S_font_work_program(S_font_work *w, S_font_job *j,
                    struct libdeflate_compressor **c)
{
  S_font_job_program(j, c);
  pthread_mutex_lock(&w->lock);
  j->program_done = true;
  pthread_cond_broadcast(&w->done);
  pthread_mutex_unlock(&w->lock);
}

/* The font worker: subsets, then every program the main thread has not
 * taken, with a compressor of its own.  It never calls libharu nor S_fail
 * (its failures wait in the jobs). */
static void *
S_font_worker(void *arg)
{
  S_font_work *w = arg;
  struct libdeflate_compressor *c = NULL;
  S_font_work_subsets(w, &c);
  for (int i = 0; i < w->n; i++) {
    S_font_job *j = &w->jobs[w->order[i]];
    if (!S_font_work_wait_subset(w, j))
      break;
    if (S_font_work_take_program(w, j))
      S_font_work_program(w, j, &c);
  }
  if (c)
    libdeflate_free_compressor(c);
  return NULL;
}

/* The main thread needs nothing more of the worker. */
static void
S_font_work_stop(S_font_work *w)
{
  atomic_store(&w->next, w->n);
  pthread_mutex_lock(&w->lock);
  w->stop = true;
  pthread_cond_broadcast(&w->done);
  pthread_mutex_unlock(&w->lock);
}

/* Put each font's program, once the worker has deflated it, in the
 * stream object built for it, and join the worker.  Returns 0, or -1 when
 * libharu failed. */
static int
S_font_work_finish(S_font_work *w, pthread_t worker, S_pdf *p)
{
  /* the programs the worker has not started, cheapest first (every
   * subset of a built font is made) */
  for (int i = w->n; i-- > 0;) {
    S_font_job *j = &w->jobs[w->order[i]];
    if (j->ff && S_font_work_take_program(w, j))
      S_font_work_program(w, j, &p->deflate);
  }
  /* and the programs the worker is deflating: their last pieces, which
   * it then finds made (zpieces.h) */
  for (int i = 0; i < w->n; i++) {
    S_font_job *j = &w->jobs[w->order[i]];
    pthread_mutex_lock(&w->lock);
    bool busy = j->ff && !j->program_done;
    pthread_mutex_unlock(&w->lock);
    if (busy) {
      unsigned blen;
      const char *bdata = hb_blob_get_data(j->ss.program, &blen);
      bs_zpieces_prime(j->sf->font->programs, &p->deflate, bdata, blen);
    }
  }
  for (int i = 0; i < w->n; i++) {
    S_font_job *j = &w->jobs[i];
    if (!j->ff)
      continue; /* not built */
    pthread_mutex_lock(&w->lock);
    while (!j->program_done)
      pthread_cond_wait(&w->done, &w->lock);
    pthread_mutex_unlock(&w->lock);
    S_put_packed(j->ff, &j->program);
  }
  S_font_work_stop(w);
  pthread_join(worker, NULL);
  return p->error ? -1 : 0;
}

static void
S_font_work_free(S_font_work *w)
{
  for (int i = 0; i < w->n; i++)
    S_font_job_free(&w->jobs[i]);
  free(w->jobs);
  free(w->order);
  pthread_mutex_destroy(&w->lock);
  pthread_cond_destroy(&w->done);
}

/* ------------------------------------------------------------------ */
/* Font objects                                                         */

/* /W: the widths layout used, for every code whose width is not the
 * default 1000, in runs of consecutive codes (each within PDF/A's array
 * limit). */
static HPDF_Array
S_widths(S_pdf *p, const bs_font *f, const S_subset *ss)
{
  HPDF_MMgr mm = p->pdf->mmgr;
  HPDF_Array w = HPDF_Array_New(mm);
  unsigned c = 0;
  while (c < ss->n) {
    if (bs_font_advance(f, ss->orig[c]) == 1000) {
      c++;
      continue;
    }
    HPDF_Array run = HPDF_Array_New(mm);
    HPDF_Array_AddNumber(w, (HPDF_INT32)ss->code[c]);
    unsigned k = 0;
    do {
      HPDF_Array_AddNumber(run, bs_font_advance(f, ss->orig[c]));
      c++;
      k++;
    } while (c < ss->n && k < 8000 && ss->code[c] == ss->code[c - 1] + 1 &&
             bs_font_advance(f, ss->orig[c]) != 1000);
    HPDF_Array_Add(w, run);
  }
  return w;
}

/* The Type0 font with its CIDFont and FontDescriptor: CIDFontType2 with a
 * FontFile2 for TrueType, CIDFontType0 with a FontFile3 of subtype
 * CIDFontType0C for CFF (both allowed by PDF/A-1). */
static HPDF_Dict
S_font_dicts(S_pdf *p, S_font_job *j)
{
  S_font *sf = j->sf;
  const S_subset *ss = &j->ss;
  bs_font *f = sf->font;
  HPDF_MMgr mm = p->pdf->mmgr;
  char base[128];
  snprintf(base, sizeof base, "%s%s", j->tag, f->psname);

  /* the program itself may come later (S_font_work_finish) */
  HPDF_Dict ff = !j->later
                     ? S_stream_packed(p, &j->program)
                     : HPDF_DictStream_New(p->pdf->mmgr, p->pdf->xref);
  j->ff = ff;
  if (f->cff)
    HPDF_Dict_AddName(ff, "Subtype", "CIDFontType0C");
  else
    HPDF_Dict_AddNumber(ff, "Length1",
                        (HPDF_INT32)j->program_len);

  HPDF_Dict fd = HPDF_Dict_New(mm);
  HPDF_Xref_Add(p->pdf->xref, fd);
  HPDF_Dict_AddName(fd, "Type", "FontDescriptor");
  HPDF_Dict_AddName(fd, "FontName", base);
  HPDF_Dict_AddNumber(fd, "Flags", 4);
  HPDF_Array bbox = HPDF_Array_New(mm);
  for (int i = 0; i < 4; i++)
    HPDF_Array_AddNumber(bbox, f->bbox[i]);
  HPDF_Dict_Add(fd, "FontBBox", bbox);
  HPDF_Dict_AddNumber(fd, "ItalicAngle", f->italic_angle);
  HPDF_Dict_AddNumber(fd, "Ascent", f->ascent);
  HPDF_Dict_AddNumber(fd, "Descent", f->descent);
  HPDF_Dict_AddNumber(fd, "CapHeight", f->cap_height);
  HPDF_Dict_AddNumber(fd, "StemV", 80);
  HPDF_Dict_Add(fd, f->cff ? "FontFile3" : "FontFile2", ff);
  HPDF_Dict_Add(fd, "CIDSet", S_stream_packed(p, &j->cidset));

  HPDF_Dict cid = HPDF_Dict_New(mm);
  HPDF_Xref_Add(p->pdf->xref, cid);
  HPDF_Dict_AddName(cid, "Type", "Font");
  HPDF_Dict_AddName(cid, "Subtype", f->cff ? "CIDFontType0" : "CIDFontType2");
  HPDF_Dict_AddName(cid, "BaseFont", base);
  HPDF_Dict sysinfo = HPDF_Dict_New(mm);
  HPDF_Dict_Add(sysinfo, "Registry", HPDF_String_New(mm, "Adobe", NULL));
  HPDF_Dict_Add(sysinfo, "Ordering", HPDF_String_New(mm, "Identity", NULL));
  HPDF_Dict_AddNumber(sysinfo, "Supplement", 0);
  HPDF_Dict_Add(cid, "CIDSystemInfo", sysinfo);
  HPDF_Dict_Add(cid, "FontDescriptor", fd);
  HPDF_Dict_AddNumber(cid, "DW", 1000);
  HPDF_Dict_Add(cid, "W", S_widths(p, f, ss));
  if (!f->cff)
    HPDF_Dict_AddName(cid, "CIDToGIDMap", "Identity");

  HPDF_Dict t0 = HPDF_Dict_New(mm);
  HPDF_Xref_Add(p->pdf->xref, t0);
  HPDF_Dict_AddName(t0, "Type", "Font");
  HPDF_Dict_AddName(t0, "Subtype", "Type0");
  HPDF_Dict_AddName(t0, "BaseFont", base);
  HPDF_Dict_AddName(t0, "Encoding", "Identity-H");
  HPDF_Array desc = HPDF_Array_New(mm);
  HPDF_Array_Add(desc, cid);
  HPDF_Dict_Add(t0, "DescendantFonts", desc);
  HPDF_Dict_Add(t0, "ToUnicode", S_stream_packed(p, &j->tounicode));
  return t0;
}

/* Build the PDF objects of a font whose job is done: the first of its
 * failures, or the objects. */
static int
S_embed_font(S_pdf *p, S_font_job *j)
{
  for (int k = 0; k < 2 && j->why[k]; k++)
    S_fail(p, j->why[k]);
  if (j->why[0])
    return -1;
  j->sf->type0 = S_font_dicts(p, j);
  if (p->error) {
    S_fail(p, "cannot build a font");
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* Content                                                              */

static void
S_end_path(S_pdf *p)
{
  if (p->in_path) {
    S_str(p->cs, "S\n");
    p->in_path = false;
  }
}

static void S_end_mark(S_pdf *p);

static void
S_end_text(S_pdf *p)
{
  if (p->in_text) {
    if (p->mc_in_text)
      S_end_mark(p);
    S_str(p->cs, "ET\n");
    p->in_text = false;
  }
}

/* Tagged PDF: a new sequence (a new MCID) of the element whose sequence
 * a glyph chain closed. */
static void
S_reopen(S_pdf *p)
{
  char buf[64];
  snprintf(buf, sizeof buf, "/%s <</MCID %d>> BDC\n",
           bs_pdf_tag_name(p->l, p->open_sid),
           bs_pdf_tags_mcid(p->tags, p->page_index, p->open_sid));
  S_str(p->cs, buf);
  p->mc_closed = false;
}

static int
S_begin_page(void *ctx, const bs_page *page, int index)
{
  S_pdf *p = ctx;
  p->page = HPDF_AddPage(p->pdf);
  if (!p->page)
    return -1;
  p->page_index = index;
  p->open_sid = S_NO_MARK;
  p->mc_closed = false;
  if (p->tags)
    HPDF_Dict_AddNumber(p->page, "StructParents", index);
  HPDF_Page_SetWidth(p->page, (HPDF_REAL)page->w / 1000.0f);
  HPDF_Page_SetHeight(p->page, (HPDF_REAL)page->h / 1000.0f);
  /* libharu stores the media box as reals; write it exactly */
  HPDF_Array mb = HPDF_Array_New(p->pdf->mmgr);
  HPDF_Array_AddNumber(mb, 0);
  HPDF_Array_AddNumber(mb, 0);
  HPDF_Array_AddReal(mb, (HPDF_REAL)page->w / 1000.0f);
  HPDF_Array_AddReal(mb, (HPDF_REAL)page->h / 1000.0f);
  HPDF_Dict_Add(p->page, "MediaBox", mb);
  p->content.len = 0;
  p->cs = &p->content;
  p->page_h = page->h;
  p->in_text = p->in_path = false;
  p->cur_font = NULL;
  p->cur_size = 0;
  p->cur_tc = 0;
  p->path_width = -1;
  /* black text and rules; projecting caps close the corners of grids */
  S_str(p->cs, "0 g 0 G 2 J\n");
  return p->error ? -1 : 0;
}

/* Set the character spacing Tc (in 1e-9 pt) unless it is set already. */
static void
S_tc(S_pdf *p, int64_t tc)
{
  if (tc == p->cur_tc)
    return;
  /* the number with nine decimals, less its trailing zeros (and its point
   * when none is left) */
  uint64_t v = tc < 0 ? 0 - (uint64_t)tc : (uint64_t)tc;
  uint64_t ip = v / 1000000000;
  uint32_t fp = (uint32_t)(v % 1000000000);
  char *o = bs_vec_reserve(p->cs, 48);
  char *start = o;
  if (tc < 0)
    *o++ = '-';
  o = bs_put_u64(o, ip);
  if (fp) {
    *o++ = '.';
    for (int k = 8; k >= 0; k--) {
      o[k] = (char)('0' + fp % 10);
      fp /= 10;
    }
    int len = 9;
    while (o[len - 1] == '0')
      len--;
    o += len;
  }
  memcpy(o, " Tc\n", 4);
  p->cs->len += (size_t)(o + 4 - start);
  p->cur_tc = tc;
}

/* The code of a glyph, as four hex digits. */
static void
S_cid(bs_vec *s, const S_font *sf, const bs_glyph *g)
{
  hb_codepoint_t cid = hb_map_get(sf->old_new, g->gid);
  if (cid == HB_MAP_VALUE_INVALID)
    cid = 0;
  S_hex4(bs_vec_reserve(s, 4), cid);
  s->len += 4;
}

/* Overlap of two glyph boxes, in millionths of an em, above which text
 * extraction breaks the word (poppler's minDupBreakOverlap is 0.2 em). */
#define S_OVERLAP 150000

/* Open a /Span marked-content sequence whose /ActualText is the text of
 * glyphs [i, j) of the run (UTF-16BE with its byte order mark); in a
 * tagged file it also has an MCID (`mcid` >= 0) of the element the text
 * belongs to.  The tag stays /Span: poppler reads ActualText only there. */
static void
S_actual_text(bs_vec *s, const bs_run *r, uint32_t i, uint32_t j,
              int mcid)
{
  if (mcid >= 0) {
    char buf[64];
    snprintf(buf, sizeof buf, "/Span <</MCID %d /ActualText <FEFF", mcid);
    S_str(s, buf);
  } else {
    S_str(s, "/Span <</ActualText <FEFF");
  }
  for (uint32_t k = i; k < j; k++) {
    uint32_t cp = r->glyphs[k].cp;
    char hex[9];
    if (cp < 0x10000) {
      S_hex4(hex, cp);
      hex[4] = '\0';
    } else {
      S_hex4(hex, 0xD800 + ((cp - 0x10000) >> 10));
      S_hex4(hex + 4, 0xDC00 + ((cp - 0x10000) & 0x3FF));
      hex[8] = '\0';
    }
    S_str(s, hex);
  }
  S_str(s, ">>> BDC ");
}

/* Make sf at `size` the current text font (Tf), if it is not already.
 * Returns -1 when libharu has no name for the font on this page. */
static int
S_select_font(S_pdf *p, S_font *sf, int32_t size)
{
  if (p->cur_font == sf && p->cur_size == size)
    return 0;
  const char *name = HPDF_Page_GetLocalFontName(p->page, sf->type0);
  if (!name)
    return -1;
  bs_vec *s = p->cs;
  S_str(s, "/");
  S_str(s, name);
  S_str(s, " ");
  S_num(s, size);
  S_str(s, " Tf\n");
  p->cur_font = sf;
  p->cur_size = size;
  return 0;
}

/* adj[i] for each glyph but the last of run r: the font's advance minus
 * the gap to the next glyph that layout wants, in millionths of the font
 * size, rounded to nearest. */
static void
S_adjustments(const bs_run *r, int64_t *adj)
{
  for (uint32_t i = 0; i + 1 < r->n; i++) {
    const bs_glyph *g = &r->glyphs[i];
    int w1000 = bs_font_advance(r->font, g->gid);
    int64_t want = ((int64_t)r->glyphs[i + 1].x - g->x) * 1000000;
    int64_t q = want >= 0 ? (want + r->size / 2) / r->size
                          : -((-want + r->size / 2) / r->size);
    adj[i] = (int64_t)w1000 * 1000 - q;
  }
}

/* The most frequent of the n - 1 adjustments adj[] (the first to reach
 * the top count; the search stops once one holds half of them), or 0. */
static int64_t
S_most_frequent(const int64_t *adj, uint32_t n)
{
  int64_t mode = 0;
  int best = 0;
  for (uint32_t i = 0; i + 1 < n && best * 2 < (int)n; i++) {
    int cnt = 0;
    for (uint32_t k = i; k + 1 < n; k++)
      cnt += adj[k] == adj[i];
    if (cnt > best) {
      best = cnt;
      mode = adj[i];
    }
  }
  return mode;
}

/* Write glyphs [i, j) of run r as one TJ array, each adjustment that
 * differs from the character spacing's `mode` as a number after its
 * glyph. */
static void
S_tj(bs_vec *s, S_font *sf, const bs_run *r, uint32_t i, uint32_t j,
     const int64_t *adj, int64_t mode)
{
  S_str(s, "[<");
  bool open = true;
  for (uint32_t k = i; k < j; k++) {
    if (!open) {
      S_str(s, " <");
      open = true;
    }
    S_cid(s, sf, &r->glyphs[k]);
    if (k + 1 < r->n && adj[k] != mode) {
      char *o = bs_vec_reserve(s, 2 + 24), *start = o;
      memcpy(o, "> ", 2);
      o = bs_put_mpt(o + 2, adj[k] - mode);
      s->len += (size_t)(o - start);
      open = false;
    }
  }
  S_str(s, open ? ">] TJ" : "] TJ");
}

/* The segment loop below stays whole: the glyph chains, the list label's
 * end and the tagged sequences (open_sid, mc_closed) decide together
 * where each marked-content sequence opens and closes. */
static int
S_glyph_run(void *ctx, const bs_run *r)
{
  S_pdf *p = ctx;
  if (!r->n)
    return 0;
  S_end_path(p);
  S_font *sf = S_font_of(p, r->font);
  if (!sf->type0)
    return -1;
  bs_vec *s = p->cs;
  if (!p->in_text) {
    S_str(s, "BT\n");
    p->in_text = true;
  }
  if (S_select_font(p, sf, r->size) < 0)
    return -1;
  /* Adjustment after each glyph, in millionths of the font size: the
   * font's advance minus the gap layout wants.  The most frequent one
   * becomes the character spacing Tc (justified Chinese lines space every
   * gap alike); TJ carries only the differences. */
  int64_t stack[64];
  int64_t *adj = r->n <= 64 ? stack : bs_xmalloc(r->n * sizeof(int64_t));
  S_adjustments(r, adj);
  int64_t mode = S_most_frequent(adj, r->n);
  /* Tc in points = -mode / 1e6 * size / 1000; kept exact in 1e-9 pt */
  int64_t tc = -mode * r->size;
  S_tc(p, tc);
  char *o = bs_vec_reserve(s, 2 * 24 + 16), *start = o;
  memcpy(o, "1 0 0 1 ", 8);
  o = bs_put_mpt(o + 8, r->x);
  *o++ = ' ';
  o = bs_put_mpt(o, (int64_t)p->page_h - r->y);
  memcpy(o, " Tm ", 4);
  s->len += (size_t)(o + 4 - start);
  /* Glyphs that overlap the next by more than S_OVERLAP (the marks of a
   * compressed pair: 》 and 《 share one empty half em) are drawn in a
   * marked-content span with their text as /ActualText.  The glyphs land
   * where the TJ offsets put them, but poppler's text extraction sees each
   * glyph's box as its full advance and starts a new line where the boxes
   * of 》 and 《 overlap by half an em (character spacing does not help:
   * it is taken off the box); for a span with ActualText it sets the text
   * over the span's width instead, so the extracted text is exactly the
   * source's. */
  /* In a tagged file the span does not nest in the element's sequence:
   * readers that collect a structure element's text (poppler's
   * MarkedContentOutputDev) end the element at the span's EMC.  So the
   * glyphs get a sequence of their own, with a new MCID of the element
   * and the ActualText. */
  bool split = p->tags && p->open_sid > 0;
  /* Tagged: the first lbl_end glyphs are a list item's label (S_item
   * opened its Lbl): a segment of their own, then the item's body. */
  uint32_t lbl_end = p->tags ? p->lbl_n : 0;
  p->lbl_n = 0;
  uint32_t i = 0;
  bool first = true;
  while (i < r->n) {
    uint32_t cap = i < lbl_end ? lbl_end : r->n;
    bool chain = i + 1 < cap && adj[i] - mode > S_OVERLAP;
    uint32_t j = i + 1;
    if (chain)
      while (j < cap && adj[j - 1] - mode > S_OVERLAP)
        j++;
    else
      while (j < cap && !(j + 1 < cap && adj[j] - mode > S_OVERLAP))
        j++;
    if (!first)
      S_str(s, "\n");
    first = false;
    if (lbl_end && i == lbl_end) {
      if (!p->mc_closed)
        S_str(s, "EMC ");
      p->open_sid = p->lbl_body;
      p->mc_closed = true;
    }
    if (chain && split) {
      /* a sequence of the element's own, in the same text object */
      if (!p->mc_closed)
        S_str(s, "EMC ");
      S_actual_text(s, r, i, j,
                    bs_pdf_tags_mcid(p->tags, p->page_index, p->open_sid));
      p->mc_closed = false;
    } else if (split && p->mc_closed) {
      S_reopen(p);
    } else if (chain) {
      S_actual_text(s, r, i, j, -1);
    }
    S_tj(s, sf, r, i, j, adj, mode);
    if (chain)
      S_str(s, " EMC");
    /* in a tagged file, the rest of the element gets a new sequence when
     * it comes */
    if (chain && split)
      p->mc_closed = true;
    i = j;
  }
  S_str(s, "\n");
  if (adj != stack)
    free(adj);
  return p->error ? -1 : 0;
}

static int
S_rule(void *ctx, const bs_rule *r)
{
  S_pdf *p = ctx;
  S_end_text(p);
  bs_vec *s = p->cs;
  if (p->in_path && p->path_width != r->width)
    S_end_path(p);
  if (p->path_width != r->width) {
    S_num(s, r->width);
    S_str(s, " w\n");
    p->path_width = r->width;
  }
  p->in_path = true;
  /* "x0 y0 m x1 y1 l\n": four numbers of at most 24 characters each */
  char *o = bs_vec_reserve(s, 4 * 24 + 8), *start = o;
  o = bs_put_mpt(o, r->x0);
  *o++ = ' ';
  o = bs_put_mpt(o, (int64_t)p->page_h - r->y0);
  memcpy(o, " m ", 3);
  o = bs_put_mpt(o + 3, r->x1);
  *o++ = ' ';
  o = bs_put_mpt(o, (int64_t)p->page_h - r->y1);
  memcpy(o, " l\n", 3);
  s->len += (size_t)(o + 3 - start);
  return p->error ? -1 : 0;
}

static int
S_image(void *ctx, const bs_image *im)
{
  S_pdf *p = ctx;
  S_end_text(p);
  S_end_path(p);
  const bs_picture *pic = im->pic;
  HPDF_Image img = NULL;
  for (int i = 0; i < p->nimages && !img; i++)
    if (p->pics[i] == pic)
      img = p->images[i];
  if (!img) {
    if (pic->kind == BS_IMAGE_JPEG)
      img = HPDF_LoadJpegImageFromMem(p->pdf, pic->data, (HPDF_UINT)pic->size);
    else
      img = HPDF_LoadRawImageFromMem(
          p->pdf, pic->data, pic->width, pic->height,
          pic->components == 1 ? HPDF_CS_DEVICE_GRAY : HPDF_CS_DEVICE_RGB, 8);
    if (!img)
      return -1;
    p->pics = bs_xrealloc(p->pics, (size_t)(p->nimages + 1) * sizeof *p->pics);
    p->images =
        bs_xrealloc(p->images, (size_t)(p->nimages + 1) * sizeof *p->images);
    p->pics[p->nimages] = pic;
    p->images[p->nimages++] = img;
  }
  /* q w 0 0 h x y cm /Im Do Q, exactly as laid out */
  const char *name = HPDF_Page_GetXObjectName(p->page, img);
  if (!name)
    return -1;
  bs_vec *s = p->cs;
  S_str(s, "q ");
  S_num(s, im->w);
  S_str(s, " 0 0 ");
  S_num(s, im->h);
  S_str(s, " ");
  S_num(s, im->x);
  S_str(s, " ");
  S_num(s, (int64_t)p->page_h - im->y - im->h);
  S_str(s, " cm /");
  S_str(s, name);
  S_str(s, " Do Q\n");
  return p->error ? -1 : 0;
}

/* The page's content stream, complete, deflated here rather than by
 * libharu's zlib when the file is written (as the fonts' streams are,
 * S_pack): the same format at about a third of the instructions. */
static void
S_deflate_page(S_pdf *p)
{
  HPDF_Dict c = ((HPDF_PageAttr)p->page->attr)->contents;
  if (!c)
    return;
  const void *raw = p->content.data;
  size_t len = p->content.len;
  if (!S_deflate_into(p, c, raw, len) && len)
    /* as it was: libharu compresses it */
    HPDF_Stream_Write(c->stream, raw, (HPDF_UINT)len);
  p->content.len = 0;
}

/* Tagged PDF: close the open marked-content sequence: one in a text
 * object stays in it; one around paths or images ends after them. */
static void
S_end_mark(S_pdf *p)
{
  if (p->open_sid == S_NO_MARK)
    return;
  if (!p->mc_in_text) {
    S_end_text(p);
    S_end_path(p);
  }
  if (!p->mc_closed)
    S_str(p->cs, "EMC\n");
  p->open_sid = S_NO_MARK;
  p->mc_closed = false;
  p->mc_in_text = false;
}

/* Tagged PDF: the item's marked-content sequence, continuing the open one
 * when the item belongs to the same element.  Text is marked inside its
 * text object (BT /P <</MCID 0>> BDC ... EMC ET), rules and images
 * outside theirs, so sequences nest properly with BT/ET and never cut a
 * path from its painting operator. */
static int
S_item(void *ctx, const bs_item *it)
{
  S_pdf *p = ctx;
  bool text = it->type == BS_ITEM_RUN;
  /* a run that starts with a list item's label opens the label's
   * sequence; S_glyph_run switches to the body's after it */
  p->lbl_n = text ? it->lbl_n : 0;
  p->lbl_body = it->sid;
  int32_t sid = p->lbl_n ? it->lbl_sid : it->sid;
  if (sid == p->open_sid && p->mc_in_text == text) {
    if (p->mc_closed)
      S_reopen(p);
    return 0;
  }
  S_end_mark(p);
  if (text) {
    S_end_path(p);
    if (!p->in_text) {
      S_str(p->cs, "BT\n");
      p->in_text = true;
    }
  } else {
    S_end_text(p);
  }
  p->mc_in_text = text;
  bs_vec *s = p->cs;
  switch (sid) {
  case BS_SID_ARTIFACT:
    S_str(s, "/Artifact BMC\n");
    break;
  case BS_SID_PAGINATION:
    S_str(s, "/Artifact <</Type /Pagination /Subtype /Footer>> BDC\n");
    break;
  case BS_SID_REPEATED:
    S_str(s, "/Artifact <</Type /Pagination>> BDC\n");
    break;
  default: {
    if (sid < 0 || sid >= p->l->nelems)
      return -1;
    char buf[64];
    snprintf(buf, sizeof buf, "/%s <</MCID %d>> BDC\n",
             bs_pdf_tag_name(p->l, sid),
             bs_pdf_tags_mcid(p->tags, p->page_index, sid));
    S_str(s, buf);
    break;
  }
  }
  p->open_sid = sid;
  return p->error ? -1 : 0;
}

static int
S_end_page(void *ctx)
{
  S_pdf *p = ctx;
  S_end_mark(p);
  S_end_text(p);
  S_end_path(p);
  S_deflate_page(p);
  return p->error ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Document-level objects                                               */

static void
S_xml_escape(bs_vec *out, const char *s)
{
  for (; s && *s; s++) {
    const char *rep = NULL;
    switch (*s) {
    case '&': rep = "&amp;"; break;
    case '<': rep = "&lt;"; break;
    case '>': rep = "&gt;"; break;
    case '"': rep = "&quot;"; break;
    case '\'': rep = "&apos;"; break;
    default: break;
    }
    if (rep) {
      size_t l = strlen(rep);
      memcpy(bs_vec_reserve(out, l), rep, l);
      out->len += l;
    } else {
      bs_vec_push(out, s);
    }
  }
}

static void
S_cat(bs_vec *out, const char *s)
{
  size_t l = strlen(s);
  memcpy(bs_vec_reserve(out, l), s, l);
  out->len += l;
}

typedef struct S_date {
  int y, mo, d, h, mi, s;
  int off_h, off_m; /* zone east of UTC */
} S_date;

static void
S_keywords(const bs_meta *m, char *buf, size_t sz)
{
  /* whole keywords only, so that the text stays UTF-8 and Info and XMP
   * agree; the XMP dc:subject list has every keyword */
  size_t k = 0;
  buf[0] = '\0';
  for (int i = 0; m->keywords && m->keywords[i]; i++) {
    const char *sep = i ? ", " : "";
    size_t need = strlen(sep) + strlen(m->keywords[i]);
    if (k + need >= sz)
      break;
    k += (size_t)snprintf(buf + k, sz - k, "%s%s", sep, m->keywords[i]);
  }
}

static HPDF_Dict
S_xmp(S_pdf *p, const S_date *dt, const char *creator, const char *producer,
      int part)
{
  const bs_meta *m = &p->l->doc->meta;
  bs_vec x = BS_VEC_INIT(char);
  char date[64], kw[2048];
  snprintf(date, sizeof date, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
           dt->y, dt->mo, dt->d, dt->h, dt->mi, dt->s, '+', dt->off_h,
           dt->off_m);
  S_keywords(m, kw, sizeof kw);
  S_cat(&x, "<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
            "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n"
            " <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
            "  <rdf:Description rdf:about=\"\" "
            "xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
            "   <dc:format>application/pdf</dc:format>\n");
  if (m->title) {
    S_cat(&x, "   <dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">");
    S_xml_escape(&x, m->title);
    S_cat(&x, "</rdf:li></rdf:Alt></dc:title>\n");
  }
  if (m->issuer) {
    S_cat(&x, "   <dc:creator><rdf:Seq><rdf:li>");
    S_xml_escape(&x, m->issuer);
    S_cat(&x, "</rdf:li></rdf:Seq></dc:creator>\n");
  }
  if (m->subject) {
    S_cat(&x, "   <dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">");
    S_xml_escape(&x, m->subject);
    S_cat(&x, "</rdf:li></rdf:Alt></dc:description>\n");
  }
  if (m->keywords && m->keywords[0]) {
    S_cat(&x, "   <dc:subject><rdf:Bag>");
    for (int i = 0; m->keywords[i]; i++) {
      S_cat(&x, "<rdf:li>");
      S_xml_escape(&x, m->keywords[i]);
      S_cat(&x, "</rdf:li>");
    }
    S_cat(&x, "</rdf:Bag></dc:subject>\n");
  }
  S_cat(&x, "   <dc:language><rdf:Bag><rdf:li>");
  S_xml_escape(&x, m->lang);
  S_cat(&x, "</rdf:li></rdf:Bag></dc:language>\n  </rdf:Description>\n");
  S_cat(&x, "  <rdf:Description rdf:about=\"\" "
            "xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\">\n   <pdf:Producer>");
  S_xml_escape(&x, producer);
  S_cat(&x, "</pdf:Producer>\n");
  if (kw[0]) {
    S_cat(&x, "   <pdf:Keywords>");
    S_xml_escape(&x, kw);
    S_cat(&x, "</pdf:Keywords>\n");
  }
  S_cat(&x, "  </rdf:Description>\n  <rdf:Description rdf:about=\"\" "
            "xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\">\n   <xmp:CreatorTool>");
  S_xml_escape(&x, creator);
  S_cat(&x, "</xmp:CreatorTool>\n   <xmp:CreateDate>");
  S_cat(&x, date);
  S_cat(&x, "</xmp:CreateDate>\n   <xmp:ModifyDate>");
  S_cat(&x, date);
  S_cat(&x, "</xmp:ModifyDate>\n   <xmp:MetadataDate>");
  S_cat(&x, date);
  S_cat(&x, "</xmp:MetadataDate>\n  </rdf:Description>\n"
            "  <rdf:Description rdf:about=\"\" "
            "xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\">\n"
            "   <pdfaid:part>");
  S_cat(&x, part == 3 ? "3" : part == 2 ? "2" : "1");
  S_cat(&x, "</pdfaid:part>\n   <pdfaid:conformance>");
  S_cat(&x, part == 2 ? "A" : "B"); /* 2a: the tagged level */
  S_cat(&x, "</pdfaid:conformance>\n"
            "  </rdf:Description>\n </rdf:RDF>\n</x:xmpmeta>\n");
  /* no padding: an archival copy is never updated in place */
  S_cat(&x, "<?xpacket end=\"w\"?>");
  HPDF_Dict d = S_stream(p, x.data, x.len);
  bs_vec_free(&x);
  if (!d)
    return NULL;
  HPDF_Dict_AddName(d, "Type", "Metadata");
  HPDF_Dict_AddName(d, "Subtype", "XML");
  return d;
}

static int
S_output_intent(S_pdf *p, const char *icc_path)
{
  if (!bs_file_readable(icc_path)) {
    bs_diag(p->diags, BS_ERROR, BS_D_ICC_MISSING, p->l->doc->path, 0, 0,
            icc_path);
    return -1;
  }
  /* The profile's stream as libharu's HPDF_LoadIccProfileFromFile makes
   * it (/N 3 /Alternate /DeviceRGB), but deflated here in pieces kept in
   * the caller's store (bs_pdf_options.pieces, the font set's, which keeps
   * the fonts' programs too), whether the document has fonts or not: every
   * document of a process embeds the same profile, and libharu deflated it
   * anew each time with zlib (a 7 KB profile, 3 % of a batch document's
   * time). */
  size_t len = 0;
  unsigned char *data = bs_read_file(icc_path, S_ICC_MAX, &len);
  size_t zlen = 0;
  unsigned char *z = data ? bs_zpieces_deflate(p->o ? p->o->pieces : NULL,
                                               &p->deflate, data, len, &zlen)
                          : NULL;
  HPDF_Dict icc = z ? HPDF_DictStream_New(p->pdf->mmgr, p->pdf->xref) : NULL;
  if (icc) {
    HPDF_Dict_AddNumber(icc, "N", 3);
    HPDF_Dict_AddName(icc, "Alternate", "DeviceRGB");
    S_put_deflated(icc, z, zlen);
  }
  free(z);
  free(data);
  if (!icc || p->error) {
    S_fail(p, "cannot load the sRGB ICC profile");
    return -1;
  }
  HPDF_MMgr mm = p->pdf->mmgr;
  HPDF_Dict oi = HPDF_Dict_New(mm);
  HPDF_Xref_Add(p->pdf->xref, oi);
  HPDF_Dict_AddName(oi, "Type", "OutputIntent");
  HPDF_Dict_AddName(oi, "S", "GTS_PDFA1");
  HPDF_Dict_Add(oi, "OutputConditionIdentifier",
                HPDF_String_New(mm, "sRGB IEC61966-2.1", NULL));
  HPDF_Dict_Add(oi, "Info", HPDF_String_New(mm, "sRGB IEC61966-2.1", NULL));
  HPDF_Dict_Add(oi, "DestOutputProfile", icc);
  HPDF_Array arr = HPDF_Array_New(mm);
  HPDF_Array_Add(arr, oi);
  HPDF_Dict_Add(p->pdf->catalog, "OutputIntents", arr);
  return p->error ? -1 : 0;
}

/* Outline with direct destinations (PDFBox Preflight rejects indirect
 * ones). */
static int
S_outline(S_pdf *p)
{
  const bs_layout *l = p->l;
  if (!l->noutline)
    return 0;
  HPDF_Outline parents[8] = {NULL};
  for (int i = 0; i < l->noutline; i++) {
    const bs_outline *o = &l->outline[i];
    int lv = o->level < 1 ? 1 : o->level > 6 ? 6 : o->level;
    HPDF_Outline parent = NULL;
    for (int k = lv - 1; k >= 1 && !parent; k--)
      parent = parents[k];
    /* the title in place of the empty one libharu makes (pdf_text.h) */
    HPDF_Outline ol = HPDF_CreateOutline(p->pdf, parent, "", NULL);
    if (!ol ||
        HPDF_Dict_Add(ol, "Title", bs_pdf_text(p->pdf->mmgr, o->title)) !=
            HPDF_OK)
      return -1;
    HPDF_Outline_SetOpened(ol, lv == 1 ? HPDF_TRUE : HPDF_FALSE);
    HPDF_Page pg = HPDF_GetPageByIndex(p->pdf, (HPDF_UINT)o->page);
    HPDF_Array dest = HPDF_Array_New(p->pdf->mmgr);
    HPDF_Array_Add(dest, pg);
    HPDF_Array_AddName(dest, "XYZ");
    HPDF_Array_AddNumber(dest, 0);
    HPDF_Array_AddReal(dest,
                       (HPDF_REAL)(l->pages[o->page].h - o->y) / 1000.0f);
    HPDF_Array_AddNumber(dest, 0);
    HPDF_Dict_Add(ol, "Dest", dest);
    parents[lv] = ol;
    for (int k = lv + 1; k < 8; k++)
      parents[k] = NULL;
  }
  HPDF_SetPageMode(p->pdf, HPDF_PAGE_MODE_USE_OUTLINE);
  return p->error ? -1 : 0;
}

/* The trailer /ID: a 128-bit hash of what the file shows (ISO 32000 14.4
 * asks for an identifier of the content, computed "using a message digest
 * algorithm such as MD5").  It is computed from the layout, the metadata
 * and the fonts, not from the source bytes: a source saved as GB18030,
 * UTF-16 or UTF-8, with or without a byte order mark, CRLF line ends or
 * character references, gives the same pages and so the same file, while
 * any change that shows (a character, a position, a date, a font) changes
 * the ID.  The hash is XXH3-128 (libxxhash): an identifier, never checked
 * as a digest, and MD5 over the 24 bytes hashed per glyph was 2 % of a
 * batch document's time.  The fields are gathered in one buffer, hashed
 * at the end. */
typedef bs_vec S_hash; /* bytes */

static void
S_hash_feed(S_hash *h, size_t n, const uint8_t *data)
{
  memcpy(bs_vec_reserve(h, n), data, n);
  h->len += n;
}

static void
S_id_int(S_hash *h, int64_t v)
{
  HPDF_BYTE b[8];
  for (int i = 0; i < 8; i++)
    b[i] = (HPDF_BYTE)((uint64_t)v >> (8 * i));
  S_hash_feed(h, 8, b);
}

static void
S_id_str(S_hash *h, const char *s)
{
  if (!s)
    s = "";
  S_hash_feed(h, strlen(s) + 1, (const uint8_t *)s);
}

/* Bytes of any size (an image's pixels, a file a PDF/A-3 carries): their
 * length and their own XXH3-128, so the buffer stays small. */
static void
S_id_bytes(S_hash *h, const void *data, size_t n)
{
  S_id_int(h, (int64_t)n);
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, XXH3_128bits(n ? data : "", n));
  S_hash_feed(h, sizeof c.digest, c.digest);
}

/* The ID's hash, into d: data alone (the layout, the metadata, the
 * fonts' order), so that it may be computed while the font worker runs. */
static void
S_id_digest(const S_pdf *p, const S_date *dt, HPDF_BYTE d[16])
{
  const bs_layout *l = p->l;
  const bs_meta *m = &l->doc->meta;
  S_hash ctx = BS_VEC_INIT(uint8_t);
  S_id_str(&ctx, BANSHI_VERSION);
  /* document information and XMP */
  S_id_str(&ctx, m->title);
  S_id_str(&ctx, m->issuer);
  S_id_str(&ctx, m->subject);
  S_id_str(&ctx, m->lang);
  for (int i = 0; m->keywords && m->keywords[i]; i++)
    S_id_str(&ctx, m->keywords[i]);
  S_id_str(&ctx, "");
  const int date[] = {dt->y, dt->mo, dt->d, dt->h, dt->mi, dt->s, dt->off_h,
                      dt->off_m};
  for (size_t i = 0; i < sizeof date / sizeof *date; i++)
    S_id_int(&ctx, date[i]);
  /* fonts, in the order of their first use */
  for (int i = 0; i < p->nfonts; i++) {
    const bs_font *f = p->fonts[i].font;
    S_id_str(&ctx, f->path);
    S_id_int(&ctx, f->index);
    S_id_str(&ctx, f->psname);
  }
  /* pages */
  for (int pi = 0; pi < l->npages; pi++) {
    const bs_page *pg = &l->pages[pi];
    S_id_int(&ctx, pg->w);
    S_id_int(&ctx, pg->h);
    S_id_int(&ctx, (int64_t)pg->n);
    for (size_t i = 0; i < pg->n; i++) {
      const bs_item *it = &pg->items[i];
      S_id_int(&ctx, it->type);
      if (it->type == BS_ITEM_RUN) {
        const bs_run *r = &it->as.run;
        int fi = 0;
        while (fi < p->nfonts && p->fonts[fi].font != r->font)
          fi++;
        const int64_t v[] = {fi, r->size, r->x, r->y, r->n};
        for (size_t k = 0; k < sizeof v / sizeof *v; k++)
          S_id_int(&ctx, v[k]);
        for (uint32_t g = 0; g < r->n; g++) {
          S_id_int(&ctx, r->glyphs[g].cp);
          S_id_int(&ctx, r->glyphs[g].gid);
          S_id_int(&ctx, r->glyphs[g].x);
        }
      } else if (it->type == BS_ITEM_RULE) {
        const bs_rule *r = &it->as.rule;
        const int64_t v[] = {r->x0, r->y0, r->x1, r->y1, r->width};
        for (size_t k = 0; k < sizeof v / sizeof *v; k++)
          S_id_int(&ctx, v[k]);
      } else if (it->type == BS_ITEM_IMAGE) {
        const bs_image *im = &it->as.image;
        const int64_t v[] = {im->x, im->y, im->w, im->h};
        for (size_t k = 0; k < sizeof v / sizeof *v; k++)
          S_id_int(&ctx, v[k]);
        const bs_picture *pic = im->pic;
        if (pic) {
          const int64_t w[] = {pic->kind, pic->width, pic->height,
                               pic->components};
          for (size_t k = 0; k < sizeof w / sizeof *w; k++)
            S_id_int(&ctx, w[k]);
          S_id_bytes(&ctx, pic->data, pic->size);
        }
      }
    }
  }
  /* PDF/A-3b: the files it carries */
  if (p->o && p->o->pdfa_part == 3) {
    S_id_int(&ctx, 3);
    for (int i = 0; i < p->o->nfiles; i++) {
      S_id_str(&ctx, p->o->files[i].name);
      S_id_str(&ctx, p->o->files[i].mime);
      S_id_str(&ctx, p->o->files[i].desc);
      S_id_bytes(&ctx, p->o->files[i].data, p->o->files[i].len);
    }
  }
  /* tagged PDF: the structure and each item's place in it */
  if (p->tags) {
    S_id_int(&ctx, p->o && p->o->pdfa_part == 2 ? 2 : 1);
    for (int i = 0; i < l->nelems; i++) {
      const bs_selem *e = &l->elems[i];
      const int64_t v[] = {e->kind,    e->parent,  e->level,  e->row,
                           e->col,     e->rowspan, e->colspan};
      for (size_t k = 0; k < sizeof v / sizeof *v; k++)
        S_id_int(&ctx, v[k]);
      S_id_str(&ctx, e->alt);
    }
    for (int pi = 0; pi < l->npages; pi++)
      for (size_t i = 0; i < l->pages[pi].n; i++) {
        const bs_item *it = &l->pages[pi].items[i];
        S_id_int(&ctx, it->sid);
        S_id_int(&ctx, it->lbl_n);
        S_id_int(&ctx, it->lbl_sid);
      }
  }
  /* bookmarks */
  for (int i = 0; i < l->noutline; i++) {
    const bs_outline *o = &l->outline[i];
    S_id_str(&ctx, o->title);
    const int64_t v[] = {o->level, o->page, o->y};
    for (size_t k = 0; k < sizeof v / sizeof *v; k++)
      S_id_int(&ctx, v[k]);
  }
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, XXH3_128bits(ctx.data, ctx.len));
  bs_vec_free(&ctx);
  memcpy(d, c.digest, 16);
}

static void
S_set_id(S_pdf *p, const HPDF_BYTE d[16])
{
  HPDF_Array id = HPDF_Array_New(p->pdf->mmgr);
  HPDF_Array_Add(id, HPDF_Binary_New(p->pdf->mmgr, (HPDF_BYTE *)d, 16));
  HPDF_Array_Add(id, HPDF_Binary_New(p->pdf->mmgr, (HPDF_BYTE *)d, 16));
  HPDF_Dict_Add(p->pdf->trailer, "ID", id);
}

static void
S_dates(const bs_document *doc, long long epoch, S_date *dt)
{
  memset(dt, 0, sizeof *dt);
  if (epoch >= 0) {
    time_t t = (time_t)epoch;
    struct tm tm;
    gmtime_r(&t, &tm);
    dt->y = tm.tm_year + 1900;
    dt->mo = tm.tm_mon + 1;
    dt->d = tm.tm_mday;
    dt->h = tm.tm_hour;
    dt->mi = tm.tm_min;
    dt->s = tm.tm_sec;
    return;
  }
  /* the date of issue, at midnight China Standard Time */
  dt->y = doc->meta.date_y ? doc->meta.date_y : 2000;
  dt->mo = doc->meta.date_m ? doc->meta.date_m : 1;
  dt->d = doc->meta.date_d ? doc->meta.date_d : 1;
  dt->off_h = 8;
}

/* Save the document to `path` atomically; with `sha256`, the SHA-256 of
 * the bytes written, stored only when the file was written whole, flushed
 * and renamed into place (0 returned). */
static int
S_save(S_pdf *p, const char *path, unsigned char *sha256)
{
  if (HPDF_SaveToStream(p->pdf) != HPDF_OK) {
    S_fail(p, "cannot serialise the PDF");
    return -1;
  }
  HPDF_UINT32 size = HPDF_GetStreamSize(p->pdf);
  bs_atomic out;
  int e = bs_atomic_open(&out, path);
  if (e) {
    bs_diag(p->diags, BS_ERROR, BS_D_IO_WRITE, NULL, 0, 0, path, strerror(e));
    return -1;
  }
  HPDF_BYTE buf[65536];
  HPDF_UINT32 done = 0;
  struct sha256_ctx sc;
  sha256_init(&sc);
  while (done < size) {
    HPDF_UINT32 n = sizeof buf;
    HPDF_STATUS st = HPDF_ReadFromStream(p->pdf, buf, &n);
    if (n == 0 || fwrite(buf, 1, n, out.f) != n)
      break;
    if (sha256)
      sha256_update(&sc, n, buf);
    done += n;
    if (st != HPDF_OK && st != HPDF_STREAM_EOF)
      break;
  }
  if (done != size) {
    e = errno ? errno : EIO;
    bs_atomic_abort(&out);
  } else {
    e = bs_atomic_commit(&out);
  }
  if (e) {
    bs_diag(p->diags, BS_ERROR, BS_D_IO_WRITE, NULL, 0, 0, path, strerror(e));
    return -1;
  }
  if (sha256)
    sha256_digest(&sc, SHA256_DIGEST_SIZE, sha256);
  return 0;
}

/* The document information dictionary (title, author, subject, keywords,
 * creator, producer, dates) and the catalog's /Lang, from the document's
 * metadata; failures show in p->error. */
static void
S_info(S_pdf *p, const S_date *dt, const char *creator, const char *producer)
{
  const bs_meta *m = &p->l->doc->meta;
  char kw[2048];
  S_keywords(m, kw, sizeof kw);
  /* the dictionary as libharu's HPDF_SetInfoAttr makes it (an indirect
   * object, the trailer's /Info), its strings ours (pdf_text.h) */
  HPDF_Doc pdf = p->pdf;
  if (!pdf->info) {
    pdf->info = HPDF_Dict_New(pdf->mmgr);
    if (pdf->info && HPDF_Xref_Add(pdf->xref, pdf->info) != HPDF_OK)
      pdf->info = NULL; /* freed by HPDF_Xref_Add */
  }
  const char *text[][2] = {
      {"Title", m->title},     {"Author", m->issuer},
      {"Subject", m->subject}, {"Keywords", kw[0] ? kw : NULL},
      {"Creator", creator},    {"Producer", producer}};
  for (size_t i = 0; pdf->info && i < sizeof text / sizeof text[0]; i++)
    if (text[i][1])
      HPDF_Dict_Add(pdf->info, text[i][0],
                    bs_pdf_text(pdf->mmgr, text[i][1]));
  HPDF_Date hd = {dt->y, dt->mo, dt->d, dt->h, dt->mi, dt->s, '+', dt->off_h,
                  dt->off_m};
  HPDF_SetInfoDateAttr(p->pdf, HPDF_INFO_CREATION_DATE, hd);
  HPDF_SetInfoDateAttr(p->pdf, HPDF_INFO_MOD_DATE, hd);
  HPDF_Dict_Add(p->pdf->catalog, "Lang",
                HPDF_String_New(p->pdf->mmgr, m->lang, NULL));
}

/* Free everything the writer holds, the libharu document last. */
static void
S_release(S_pdf *p)
{
  for (int i = 0; i < p->nfonts; i++) {
    hb_set_destroy(p->fonts[i].gids);
    hb_map_destroy(p->fonts[i].gid_cp);
    if (p->fonts[i].old_new)
      hb_map_destroy(p->fonts[i].old_new);
  }
  bs_pdf_tags_free(p->tags);
  free(p->fonts);
  free(p->pics);
  free(p->images);
  bs_vec_free(&p->content);
  if (p->deflate)
    libdeflate_free_compressor(p->deflate);
  HPDF_Free(p->pdf);
}

int
bs_render_pdf(const bs_layout *l, const char *path, const bs_pdf_options *o)
{
  S_pdf p;
  memset(&p, 0, sizeof p);
  p.content.esize = 1;
  p.l = l;
  p.o = o;
  p.diags = &l->doc->diags;
  /* The fonts' data first: with a second thread, the worker starts on it
   * at once (S_font_work). */
  S_collect_glyphs(&p);
  S_font_work work;
  S_font_work_init(&work, &p);
  pthread_t worker;
  bool threaded = o && o->threads >= 2 && work.n > 0;
  for (int i = 0; i < work.n; i++)
    work.jobs[i].later = threaded;
  if (threaded &&
      pthread_create(&worker, NULL, S_font_worker, &work) != 0) {
    threaded = false;
    for (int i = 0; i < work.n; i++)
      work.jobs[i].later = false;
  }
  p.pdf = HPDF_New(S_error_handler, &p);
  if (!p.pdf) {
    S_fail(&p, "cannot create a PDF document");
    if (threaded) {
      S_font_work_stop(&work);
      pthread_join(worker, NULL);
    }
    S_font_work_free(&work);
    S_release(&p);
    return -1;
  }
  int rc = 0;
  HPDF_SetCompressionMode(p.pdf, HPDF_COMP_ALL);
  /* One page tree node holds at most 8,191 kids (libharu's and PDF/A-1's
   * array limit): longer documents get a tree of nodes of 1,000 pages. */
  if (l->npages > 8000)
    HPDF_SetPagesConfiguration(p.pdf, 1000);
  p.pdf->pdf_version = HPDF_VER_14;

  char creator[64], producer[128];
  snprintf(creator, sizeof creator, "%s %s", BANSHI_NAME, BANSHI_VERSION);
  snprintf(producer, sizeof producer, "%s %s (libharu %s)", BANSHI_NAME,
           BANSHI_VERSION, HPDF_GetVersion());
  S_date dt;
  S_dates(l->doc, o ? o->epoch : -1, &dt);
  S_info(&p, &dt, creator, producer);
  int part = o && (o->pdfa_part == 3 || o->pdfa_part == 2) ? o->pdfa_part : 1;
  if (part == 3)
    p.pdf->pdf_version = HPDF_VER_17; /* associated files, ISO 32000-2 */
  if (part == 2)
    p.pdf->pdf_version = HPDF_VER_17; /* PDF/A-2 is ISO 32000-1 */
  if (part == 2 || (o && o->tagged))
    p.tags = bs_pdf_tags_new(l);
  HPDF_Dict xmp = S_xmp(&p, &dt, creator, producer, part);
  if (xmp)
    HPDF_Dict_Add(p.pdf->catalog, "Metadata", xmp);
  const char *icc = o && o->icc_profile ? o->icc_profile : getenv("BANSHI_ICC");
  if (!icc || !*icc)
    icc = S_DEFAULT_ICC;
  if (p.error) {
    /* reported here, not as a failure of whatever comes next */
    S_fail(&p, "cannot write the document information");
    rc = -1;
  }
  if (rc == 0 && S_output_intent(&p, icc) != 0)
    rc = -1;
  if (rc == 0 && part == 3) {
    char moddate[40];
    snprintf(moddate, sizeof moddate, "D:%04d%02d%02d%02d%02d%02d+%02d'%02d'",
             dt.y, dt.mo, dt.d, dt.h, dt.mi, dt.s, dt.off_h, dt.off_m);
    if (bs_pdf_embed_sources(p.pdf, o->files, o->nfiles, moddate) != 0) {
      S_fail(&p, "cannot embed the source files");
      rc = -1;
    }
  }

  HPDF_BYTE id[16];
  S_id_digest(&p, &dt, id);
  if (threaded && rc != 0)
    S_font_work_stop(&work); /* nothing more is needed */
  if (threaded)
    S_font_work_subsets(&work, &p.deflate);
  for (int i = 0; rc == 0 && i < work.n; i++) {
    S_font_job *j = &work.jobs[i];
    if (!threaded)
      S_font_job_run(j, &p.deflate, true);
    else
      S_font_work_wait_subset(&work, j);
    if (S_embed_font(&p, j) != 0)
      rc = -1;
    if (!threaded)
      S_font_job_free(j);
  }
  if (rc == 0) {
    bs_renderer r = {&p, S_begin_page, S_glyph_run, S_rule, S_image,
                     S_end_page, p.tags ? S_item : NULL};
    if (bs_render(l, &r) != 0) {
      S_fail(&p, "cannot write a page");
      rc = -1;
    }
  }
  if (rc == 0 && p.tags && bs_pdf_tags_finish(p.tags, p.pdf) != 0) {
    S_fail(&p, "cannot write the structure tree");
    rc = -1;
  }
  if (rc == 0 && S_outline(&p) != 0) {
    S_fail(&p, "cannot write the bookmarks");
    rc = -1;
  }
  if (rc == 0) {
    S_set_id(&p, id);
    if (p.error) {
      S_fail(&p, "cannot finish the PDF");
      rc = -1;
    }
  }
  if (threaded) {
    if (S_font_work_finish(&work, worker, &p) != 0 && rc == 0) {
      S_fail(&p, "cannot build a font");
      rc = -1;
    }
  }
  S_font_work_free(&work);
  if (rc == 0)
    rc = S_save(&p, path, o ? o->sha256 : NULL);
  S_release(&p);
  return rc;
}
