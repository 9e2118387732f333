// SPDX-License-Identifier: Apache-2.0
/* render_ofd.c - the layout as OFD (GB/T 33190-2016 电子文件存储与交换格式
 * 版式文档), DocType OFD-A (the archival profile of GB/T 42133-2022): a
 * second renderer of the same layout as render_pdf.c.
 * Layer 10 (renderers): docs/architecture.md.
 *
 * Design.  An OFD file is a ZIP package of XML parts and resources:
 *
 *   OFD.xml                       DocBody: DocInfo (+ CustomDatas), DocRoot
 *   Doc_0/Document.xml            CommonData, Pages, Outlines
 *   Doc_0/PublicRes.xml           Fonts
 *   Doc_0/DocumentRes.xml         MultiMedias (images)
 *   Doc_0/Pages/Page_N/Content.xml  one Layer of TextObject, PathObject,
 *                                 ImageObject
 *   Doc_0/Res/font_ID.otf|.ttf    subset fonts; image_ID.png|.jpg
 *
 * Every length is in millimetres (the OFD unit), written from the layout's
 * millipoints in units of 1/10,000 mm with integer arithmetic, so that a
 * position is never more than 0.00005 mm from the PDF's and the bytes do
 * not depend on floating-point formatting.  A run becomes one TextObject
 * whose Boundary is the run's box (padded by an em, since some readers clip
 * to it); its TextCode carries the run's characters, X and Y of the first
 * baseline point, and DeltaX: the distances between consecutive glyph
 * origins, taken as differences of the rounded absolute positions so that
 * rounding never accumulates along a line (repeats compressed as "g N d").
 * A glyph that is not the one the font's cmap gives for its character gets
 * a CGTransform naming the glyph (in the subset font's numbering).  No
 * layout of banshi's makes one today: every character is drawn with its
 * font's nominal glyph (bs_role_font_for in inline.c), variation
 * selectors are dropped, nothing is shaped, and compressed punctuation is
 * set by position rather than by alternate glyphs; control characters
 * never reach a run.  The path is kept, for fonts and text that will need
 * it (vertical or variant forms, shaping), and is exercised by the unit
 * test ofd_glyph on a layout changed by hand (tests/unit/test_render.c),
 * whose file tests/ofdcheck.py checks.
 *
 * Fonts.  Each font is cut down with HarfBuzz's subsetter to the glyphs
 * drawn, keeping what an OFD reader and an archival checker need: cmap
 * (characters -> glyphs: OFD text is characters), head, hhea, hmtx, maxp,
 * name, OS/2, post and the outlines.  The default fonts (Noto CJK) have
 * PostScript (CFF) outlines; their subsets are embedded as OpenType/CFF
 * (.otf), which GB/T 33190 (7.5, "OpenType") allows, rather than converted
 * to TrueType: HarfBuzz cannot convert cubic outlines to quadratic ones, a
 * conversion would change the shapes the PDF shows, and an OpenType/CFF
 * subset is the same font program the PDF embeds (FontFile3) plus the
 * tables above.  TrueType fonts (a user's --fonts map) stay TrueType.
 *
 * Cost.  The OFD must cost less than the PDF of the same layout (bench/
 * formats.py measures both): numbers are formatted by hand, the cmap is
 * written here (S_cmap), the DocID hashes the parts' CRCs rather than
 * their bytes, and XML parts are compressed at a low level.
 *
 * The package is written by minizip (Debian libminizip-dev, from zlib's
 * contrib; chosen over libzip because it writes a pre-compressed entry
 * as it is, which libzip cannot): each entry is compressed here with
 * libdeflate, as render_pdf.c compresses its streams, and handed to minizip
 * raw with its CRC-32.  Entries come in a fixed order with the document's
 * date as their time stamp and no extra fields, so equal input gives equal
 * bytes.  The file is written under a temporary name and renamed into
 * place (fsio.h).  No external resource, no encryption, no signature, one
 * document: what OFD-A asks.  minizip is loaded when the first OFD is
 * written (dynlib.h): PDF output never maps it. */
#include "render.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hb-ot.h>
#include <hb-subset.h>
#include <hpdf.h>
#include <nettle/md5.h>
#include <libdeflate.h>
#include <png.h>
#include <zip.h>

#include "dynlib.h"
#include "fsio.h"
#include "image.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* Growing text buffers                                                 */

typedef struct S_buf {
  char *d;
  size_t len, cap;
} S_buf;

static void
S_putn(S_buf *b, const char *s, size_t n)
{
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1)
      cap *= 2;
    b->d = bs_xrealloc(b->d, cap);
    b->cap = cap;
  }
  memcpy(b->d + b->len, s, n);
  b->len += n;
  b->d[b->len] = '\0';
}

static void
S_put(S_buf *b, const char *s)
{
  S_putn(b, s, strlen(s));
}

static void
S_putf(S_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
S_putf(S_buf *b, const char *fmt, ...)
{
  char tmp[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  if ((size_t)n < sizeof tmp) {
    S_putn(b, tmp, (size_t)n);
    return;
  }
  char *big = bs_xmalloc((size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  S_putn(b, big, (size_t)n);
  free(big);
}

/* Text as XML character data or an attribute value. */
static void
S_esc(S_buf *b, const char *s)
{
  for (; s && *s; s++) {
    switch (*s) {
    case '&': S_put(b, "&amp;"); break;
    case '<': S_put(b, "&lt;"); break;
    case '>': S_put(b, "&gt;"); break;
    case '"': S_put(b, "&quot;"); break;
    case '\'': S_put(b, "&apos;"); break;
    case '\t': S_put(b, "&#9;"); break;
    case '\n': S_put(b, "&#10;"); break;
    case '\r': S_put(b, "&#13;"); break;
    default: S_putn(b, s, 1); break;
    }
  }
}

/* ------------------------------------------------------------------ */
/* Lengths: millipoints -> 1/10,000 mm                                  */

/* 1 pt = 25.4/72 mm, so 1 mpt = 254/72000 of 1e-4 mm = 127/36. */
static int64_t
S_u(int64_t mpt)
{
  int64_t n = mpt * 127;
  return n >= 0 ? (n + 18) / 36 : -((-n + 18) / 36);
}

/* A length in 1e-4 mm as a decimal number of millimetres (written by
 * hand: snprintf was a tenth of the writer's instructions). */
static void
S_num(S_buf *b, int64_t u)
{
  char tmp[32];
  char *e = tmp + sizeof tmp, *p = e;
  uint64_t v = u < 0 ? (uint64_t)-u : (uint64_t)u;
  unsigned frac = (unsigned)(v % 10000);
  v /= 10000;
  if (frac) {
    int digits = 4;
    while (frac % 10 == 0) {
      frac /= 10;
      digits--;
    }
    for (int i = 0; i < digits; i++) {
      *--p = (char)('0' + frac % 10);
      frac /= 10;
    }
    *--p = '.';
  }
  do {
    *--p = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  if (u < 0)
    *--p = '-';
  S_putn(b, p, (size_t)(e - p));
}

static void
S_mm(S_buf *b, int64_t mpt)
{
  S_num(b, S_u(mpt));
}

/* ------------------------------------------------------------------ */
/* The package being built                                              */

typedef struct S_ofont {
  bs_font *font;
  int id;               /* resource ID */
  hb_set_t *unicodes;   /* characters drawn with their cmap glyph */
  hb_set_t *glyphs;     /* glyphs drawn for another character */
  hb_map_t *old_new;    /* original glyph -> subset glyph */
  hb_blob_t *program;   /* the subset font file */
  char file[32];        /* its name in Res/ */
} S_ofont;

typedef struct S_oimage {
  const bs_picture *pic;
  int id;
  char file[32];
  unsigned char *data;  /* the file (PNG made here, or the JPEG) */
  size_t len;
  bool owned;           /* data is malloc'd here */
} S_oimage;

typedef struct S_entry {
  char *name;           /* path in the package */
  unsigned char *z;     /* deflated data (or stored, if !deflated) */
  size_t zlen, len;     /* compressed and original sizes */
  uint32_t crc;
  bool deflated;
} S_entry;

typedef struct S_ofd {
  const bs_layout *l;
  bs_diags *diags;
  S_ofont *fonts;
  int nfonts;
  S_oimage *images;
  int nimages;
  int next_id;
  int *page_ids;
  S_entry *entries;
  int nentries;
  struct libdeflate_compressor *deflate;  /* fonts */
  struct libdeflate_compressor *deflate_xml; /* XML parts */
  struct md5_ctx md5;     /* of every part, for DocID */
  /* the page being written */
  S_buf page;
  int page_index;
} S_ofd;

/* An internal failure, as render_pdf.c's S_fail: an English detail for a
 * bug report inside the catalogue's BS_D_RENDER frame. */
static void
S_fail(S_ofd *o, const char *what)
{
  bs_diag(o->diags, BS_ERROR, BS_D_RENDER, o->l->doc->path, 0, 0, what);
}

/* How parts are stored (see S_add).  Levels measured on the example
 * (instructions of the whole run / package size): XML at 6 and fonts at 6,
 * 104.6 M / 119 KB; XML at 1, 100.5 M / 122 KB; both at 1, 95.3 M /
 * 124 KB.  The XML of the pages is most of the bytes that go through the
 * compressor, and level 1 already takes it to a fifth. */
enum { S_STORE = 0, S_XML = 1, S_FONT = 2 };
enum { S_XML_LEVEL = 1, S_FONT_LEVEL = 6 };

/* Add a part: compressed now, written to the package at the end. */
static void
S_add(S_ofd *o, const char *name, const void *data, size_t len,
      int compress)
{
  o->entries =
      bs_xrealloc(o->entries, (size_t)(o->nentries + 1) * sizeof *o->entries);
  S_entry *e = &o->entries[o->nentries++];
  memset(e, 0, sizeof *e);
  e->name = bs_xmalloc(strlen(name) + 1);
  strcpy(e->name, name);
  e->len = len;
  e->crc = (uint32_t)libdeflate_crc32(0, data, len);
  /* DocID: an MD5 of every part's name, size and CRC-32 */
  unsigned char sum[12];
  for (int i = 0; i < 8; i++)
    sum[i] = (unsigned char)((uint64_t)len >> (8 * i));
  for (int i = 0; i < 4; i++)
    sum[8 + i] = (unsigned char)(e->crc >> (8 * i));
  md5_update(&o->md5, strlen(name) + 1, (const uint8_t *)name);
  md5_update(&o->md5, sizeof sum, sum);
  if (compress) {
    struct libdeflate_compressor **c =
        compress == S_XML ? &o->deflate_xml : &o->deflate;
    if (!*c)
      *c = libdeflate_alloc_compressor(compress == S_XML ? S_XML_LEVEL
                                                         : S_FONT_LEVEL);
    size_t cap = libdeflate_deflate_compress_bound(*c, len);
    e->z = bs_xmalloc(cap ? cap : 1);
    e->zlen = libdeflate_deflate_compress(*c, data, len, e->z, cap);
    if (e->zlen > 0 && e->zlen < len) {
      e->deflated = true;
      return;
    }
    free(e->z);
  }
  e->z = bs_xmalloc(len ? len : 1);
  memcpy(e->z, data, len);
  e->zlen = len;
}

/* ------------------------------------------------------------------ */
/* Fonts                                                                */

static S_ofont *
S_font_of(S_ofd *o, const bs_font *f)
{
  for (int i = 0; i < o->nfonts; i++)
    if (o->fonts[i].font == f)
      return &o->fonts[i];
  return NULL;
}

/* True when glyph g is what the font's cmap gives for cp, so that the
 * character alone names the glyph. */
static bool
S_nominal(const bs_font *f, uint32_t cp, uint32_t gid)
{
  return cp && gid && bs_font_glyph(f, cp) == gid;
}

/* A character XML 1.0 can carry (the others are written as U+FFFD, their
 * glyph named by a CGTransform). */
static bool
S_xml_char(uint32_t cp)
{
  return (cp >= 0x20 && cp < 0xD800) || (cp >= 0xE000 && cp < 0xFFFE) ||
         (cp >= 0x10000 && cp <= 0x10FFFF);
}

static void
S_collect(S_ofd *o)
{
  const bs_layout *l = o->l;
  for (int pi = 0; pi < l->npages; pi++) {
    const bs_page *pg = &l->pages[pi];
    for (size_t i = 0; i < pg->n; i++) {
      const bs_item *it = &pg->items[i];
      if (it->type == BS_ITEM_RUN) {
        const bs_run *r = &it->as.run;
        S_ofont *sf = S_font_of(o, r->font);
        if (!sf) {
          o->fonts = bs_xrealloc(o->fonts,
                                 (size_t)(o->nfonts + 1) * sizeof *o->fonts);
          sf = &o->fonts[o->nfonts++];
          memset(sf, 0, sizeof *sf);
          sf->font = r->font;
          sf->id = o->next_id++;
          sf->unicodes = hb_set_create();
          sf->glyphs = hb_set_create();
        }
        for (uint32_t g = 0; g < r->n; g++) {
          const bs_glyph *gl = &r->glyphs[g];
          if (S_xml_char(gl->cp) && S_nominal(r->font, gl->cp, gl->gid))
            hb_set_add(sf->unicodes, gl->cp);
          else
            hb_set_add(sf->glyphs, gl->gid);
        }
      } else if (it->type == BS_ITEM_IMAGE && it->as.image.pic) {
        const bs_picture *pic = it->as.image.pic;
        bool seen = false;
        for (int k = 0; k < o->nimages && !seen; k++)
          seen = o->images[k].pic == pic;
        if (seen)
          continue;
        o->images = bs_xrealloc(o->images,
                                (size_t)(o->nimages + 1) * sizeof *o->images);
        S_oimage *im = &o->images[o->nimages++];
        memset(im, 0, sizeof *im);
        im->pic = pic;
        im->id = o->next_id++;
      }
    }
  }
}

/* ------------------------------------------------------------------ */
/* cmap                                                                 */

static void
S_be16(unsigned char *p, unsigned v)
{
  p[0] = (unsigned char)(v >> 8);
  p[1] = (unsigned char)v;
}

static void
S_be32(unsigned char *p, uint32_t v)
{
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

/* The subset's cmap, written here: n characters (ascending) and their
 * glyphs.  HarfBuzz's subsetter also rewrites the font's format 14
 * (variation sequences) subtable, which in a Noto CJK font means walking
 * tens of thousands of sequences: 13% of the instructions of a whole
 * document, for mappings no TextCode uses.  The table written here has
 * what readers look up: (3,1) format 4 for the BMP characters (left out
 * when it would need more than 8,000 segments, past format 4's size) and
 * (3,10) format 12 for all; a segment or group is a run of consecutive
 * characters with consecutive glyphs. */
static hb_blob_t *
S_cmap(const uint32_t *cps, const uint32_t *gids, unsigned n)
{
  /* runs */
  unsigned nbmp = 0, nall = 0;
  for (unsigned i = 0; i < n; i++) {
    bool cont = i > 0 && cps[i] == cps[i - 1] + 1 && gids[i] == gids[i - 1] + 1;
    if (!cont) {
      nall++;
      if (cps[i] < 0xFFFF)
        nbmp++;
    }
  }
  unsigned seg = nbmp + 1; /* and the final 0xFFFF segment */
  bool f4 = seg <= 8000;
  size_t len4 = f4 ? 16 + (size_t)seg * 8 : 0;
  size_t len12 = 16 + (size_t)nall * 12;
  unsigned ntab = f4 ? 2 : 1;
  size_t head = 4 + (size_t)ntab * 8;
  size_t total = head + len4 + len12;
  unsigned char *t = bs_xcalloc(total, 1);
  S_be16(t + 2, ntab);
  unsigned char *rec = t + 4;
  if (f4) {
    S_be16(rec, 3);
    S_be16(rec + 2, 1);
    S_be32(rec + 4, (uint32_t)head);
    rec += 8;
  }
  S_be16(rec, 3);
  S_be16(rec + 2, 10);
  S_be32(rec + 4, (uint32_t)(head + len4));
  if (f4) {
    unsigned char *f = t + head;
    S_be16(f, 4);
    S_be16(f + 2, (unsigned)len4);
    S_be16(f + 6, seg * 2);
    unsigned sr = 1, es = 0;
    while (sr * 2 <= seg) {
      sr *= 2;
      es++;
    }
    S_be16(f + 8, sr * 2);
    S_be16(f + 10, es);
    S_be16(f + 12, seg * 2 - sr * 2);
    unsigned char *endc = f + 14, *startc = endc + seg * 2 + 2,
                  *delta = startc + seg * 2;
    unsigned k = 0;
    for (unsigned i = 0; i < n && cps[i] < 0xFFFF; i++) {
      bool cont =
          i > 0 && cps[i] == cps[i - 1] + 1 && gids[i] == gids[i - 1] + 1;
      if (!cont) {
        S_be16(startc + k * 2, cps[i]);
        S_be16(delta + k * 2, (gids[i] - cps[i]) & 0xFFFF);
        k++;
      }
      S_be16(endc + (k - 1) * 2, cps[i]);
    }
    S_be16(startc + k * 2, 0xFFFF);
    S_be16(endc + k * 2, 0xFFFF);
    S_be16(delta + k * 2, 1);
    /* idRangeOffset: all 0 (calloc) */
  }
  unsigned char *f = t + head + len4;
  S_be16(f, 12);
  S_be32(f + 4, (uint32_t)len12);
  S_be32(f + 12, nall);
  unsigned char *g = f + 16 - 12;
  for (unsigned i = 0; i < n; i++) {
    bool cont = i > 0 && cps[i] == cps[i - 1] + 1 && gids[i] == gids[i - 1] + 1;
    if (!cont) {
      g += 12;
      S_be32(g, cps[i]);
      S_be32(g + 8, gids[i]);
    }
    S_be32(g + 4, cps[i]);
  }
  return hb_blob_create((const char *)t, (unsigned)total,
                        HB_MEMORY_MODE_READONLY, t, free);
}

/* The tables kept from the source font (and cmap, written here). */
static const hb_tag_t S_keep[] = {
    HB_TAG('h', 'e', 'a', 'd'), HB_TAG('h', 'h', 'e', 'a'),
    HB_TAG('h', 'm', 't', 'x'), HB_TAG('m', 'a', 'x', 'p'),
    HB_TAG('n', 'a', 'm', 'e'), HB_TAG('O', 'S', '/', '2'),
    HB_TAG('p', 'o', 's', 't'), HB_TAG('C', 'F', 'F', ' '),
    HB_TAG('g', 'l', 'y', 'f'), HB_TAG('l', 'o', 'c', 'a'),
};

/* The subset face with `cmap` added, as a font file.  (The subsetter's
 * face cannot list its tables in HarfBuzz 6: the kept ones are asked for
 * by name.) */
static hb_blob_t *
S_font_file(hb_face_t *sub, hb_blob_t *cmap)
{
  hb_face_t *b = hb_face_builder_create();
  for (size_t i = 0; i < sizeof S_keep / sizeof *S_keep; i++) {
    hb_blob_t *t = hb_face_reference_table(sub, S_keep[i]);
    if (hb_blob_get_length(t))
      hb_face_builder_add_table(b, S_keep[i], t);
    hb_blob_destroy(t);
  }
  hb_face_builder_add_table(b, HB_TAG('c', 'm', 'a', 'p'), cmap);
  hb_blob_t *file = hb_face_reference_blob(b);
  hb_face_destroy(b);
  return file;
}

/* Cut one font down to what the document draws, keeping the tables an OFD
 * reader needs (see the file comment). */
static int
S_subset(S_ofd *o, S_ofont *sf)
{
  bs_font *f = sf->font;
  hb_subset_input_t *in = hb_subset_input_create_or_fail();
  if (!in) {
    S_fail(o, "cannot prepare a font subset");
    return -1;
  }
  hb_set_union(hb_subset_input_unicode_set(in), sf->unicodes);
  hb_set_union(hb_subset_input_glyph_set(in), sf->glyphs);
  hb_subset_input_set_flags(in, HB_SUBSET_FLAGS_NO_HINTING |
                                    (f->cff ? HB_SUBSET_FLAGS_DESUBROUTINIZE
                                            : 0));
  hb_set_t *drop = hb_subset_input_set(in, HB_SUBSET_SETS_DROP_TABLE_TAG);
  hb_tag_t tags[64];
  unsigned start = 0, count;
  do {
    count = sizeof tags / sizeof *tags;
    hb_face_get_table_tags(f->face, start, &count, tags);
    for (unsigned i = 0; i < count; i++) {
      bool k = false;
      for (size_t j = 0; j < sizeof S_keep / sizeof *S_keep; j++)
        k = k || tags[i] == S_keep[j];
      if (!k)
        hb_set_add(drop, tags[i]);
    }
    start += count;
  } while (count == sizeof tags / sizeof *tags);
  hb_subset_plan_t *plan = hb_subset_plan_create_or_fail(f->face, in);
  hb_subset_input_destroy(in);
  hb_face_t *sub = plan ? hb_subset_plan_execute_or_fail(plan) : NULL;
  if (!sub) {
    if (plan)
      hb_subset_plan_destroy(plan);
    S_fail(o, "cannot subset a font");
    return -1;
  }
  /* the plan's map dies with it: keep the drawn glyphs' part */
  const hb_map_t *o2n = hb_subset_plan_old_to_new_glyph_mapping(plan);
  sf->old_new = hb_map_create();
  hb_codepoint_t c = HB_SET_VALUE_INVALID;
  while (hb_set_next(sf->unicodes, &c)) {
    hb_codepoint_t g = bs_font_glyph(f, c);
    hb_map_set(sf->old_new, g, hb_map_get(o2n, g));
  }
  c = HB_SET_VALUE_INVALID;
  while (hb_set_next(sf->glyphs, &c))
    hb_map_set(sf->old_new, c, hb_map_get(o2n, c));
  unsigned n = hb_set_get_population(sf->unicodes), k = 0;
  uint32_t *cps = bs_xmalloc((n ? n : 1) * sizeof *cps);
  uint32_t *gids = bs_xmalloc((n ? n : 1) * sizeof *gids);
  c = HB_SET_VALUE_INVALID;
  while (hb_set_next(sf->unicodes, &c) && k < n) {
    cps[k] = c;
    gids[k++] = hb_map_get(sf->old_new, bs_font_glyph(f, c));
  }
  hb_blob_t *cmap = S_cmap(cps, gids, k);
  free(cps);
  free(gids);
  sf->program = S_font_file(sub, cmap);
  hb_blob_destroy(cmap);
  hb_face_destroy(sub);
  hb_subset_plan_destroy(plan);
  snprintf(sf->file, sizeof sf->file, "font_%d.%s", sf->id,
           f->cff ? "otf" : "ttf");
  unsigned len;
  const char *data = hb_blob_get_data(sf->program, &len);
  char name[64];
  snprintf(name, sizeof name, "Doc_0/Res/%s", sf->file);
  S_add(o, name, data, len, S_FONT);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Images                                                               */

typedef struct S_png_out {
  unsigned char *d;
  size_t len, cap;
} S_png_out;

static void
S_png_write(png_structp png, png_bytep data, png_size_t n)
{
  S_png_out *w = png_get_io_ptr(png);
  if (w->len + n > w->cap) {
    size_t cap = w->cap ? w->cap : 65536;
    while (cap < w->len + n)
      cap *= 2;
    w->d = bs_xrealloc(w->d, cap);
    w->cap = cap;
  }
  memcpy(w->d + w->len, data, n);
  w->len += n;
}

static void
S_png_flush(png_structp png)
{
  (void)png;
}

/* Decoded samples (already checked and flattened by image.c) as a PNG
 * file: no time chunk, so the bytes depend on the pixels only. */
static int
S_png_encode(const bs_picture *pic, S_png_out *w)
{
  png_structp png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!info) {
    png_destroy_write_struct(&png, NULL);
    return -1;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    free(w->d);
    w->d = NULL;
    return -1;
  }
  png_set_write_fn(png, w, S_png_write, S_png_flush);
  png_set_IHDR(png, info, pic->width, pic->height, 8,
               pic->components == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  size_t stride = (size_t)pic->width * (size_t)pic->components;
  for (uint32_t y = 0; y < pic->height; y++)
    png_write_row(png, (png_const_bytep)(pic->data + (size_t)y * stride));
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  return 0;
}

static int
S_image_file(S_ofd *o, S_oimage *im)
{
  const bs_picture *pic = im->pic;
  bool jpeg = pic->kind == BS_IMAGE_JPEG;
  snprintf(im->file, sizeof im->file, "image_%d.%s", im->id,
           jpeg ? "jpg" : "png");
  if (jpeg) {
    im->data = (unsigned char *)pic->data;
    im->len = pic->size;
  } else {
    S_png_out w = {NULL, 0, 0};
    if (S_png_encode(pic, &w) != 0) {
      S_fail(o, "cannot encode an image as PNG");
      return -1;
    }
    im->data = w.d;
    im->len = w.len;
    im->owned = true;
  }
  char name[64];
  snprintf(name, sizeof name, "Doc_0/Res/%s", im->file);
  /* JPEG and PNG are compressed already */
  S_add(o, name, im->data, im->len, S_STORE);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Pages                                                                */

#define S_NS "xmlns:ofd=\"http://www.ofdspec.org/2016\""

static int
S_begin_page(void *ctx, const bs_page *page, int index)
{
  S_ofd *o = ctx;
  o->page_index = index;
  o->page.len = 0;
  S_buf *b = &o->page;
  S_put(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ofd:Page " S_NS
           ">\n<ofd:Area><ofd:PhysicalBox>0 0 ");
  S_mm(b, page->w);
  S_put(b, " ");
  S_mm(b, page->h);
  S_putf(b, "</ofd:PhysicalBox></ofd:Area>\n<ofd:Content>\n"
            "<ofd:Layer ID=\"%d\" Type=\"Body\">\n",
         o->next_id++);
  return 0;
}

/* One DeltaX entry, or a run of equal ones as "g N d". */
static void
S_delta(S_buf *b, int64_t d, int reps, bool *first)
{
  if (reps <= 0)
    return;
  if (!*first)
    S_put(b, " ");
  *first = false;
  if (reps >= 2) {
    S_putf(b, "g %d ", reps);
    S_num(b, d);
    return;
  }
  S_num(b, d);
}

static int
S_glyph_run(void *ctx, const bs_run *r)
{
  S_ofd *o = ctx;
  if (!r->n)
    return 0;
  S_ofont *sf = S_font_of(o, r->font);
  if (!sf || !sf->old_new)
    return -1;
  S_buf *b = &o->page;
  const bs_font *f = r->font;
  /* the box: the font's ascent to descent, an em more on each side */
  int64_t asc = (int64_t)f->ascent * r->size / 1000;
  int64_t desc = (int64_t)-f->descent * r->size / 1000;
  int64_t bx = S_u((int64_t)r->x - r->size);
  int64_t by = S_u((int64_t)r->y - asc);
  int64_t bw = S_u((int64_t)r->x + r->width + r->size) - bx;
  int64_t bh = S_u((int64_t)r->y + desc) - by;
  S_putf(b, "<ofd:TextObject ID=\"%d\" Boundary=\"", o->next_id++);
  S_num(b, bx);
  S_put(b, " ");
  S_num(b, by);
  S_put(b, " ");
  S_num(b, bw);
  S_put(b, " ");
  S_num(b, bh);
  S_putf(b, "\" Font=\"%d\" Size=\"", sf->id);
  S_mm(b, r->size);
  S_put(b, "\">\n");
  /* glyphs that their character does not name */
  for (uint32_t i = 0; i < r->n; i++) {
    const bs_glyph *g = &r->glyphs[i];
    if (S_xml_char(g->cp) && S_nominal(f, g->cp, g->gid) &&
        hb_set_has(sf->unicodes, g->cp))
      continue;
    hb_codepoint_t ng = hb_map_get(sf->old_new, g->gid);
    if (ng == HB_MAP_VALUE_INVALID)
      ng = 0;
    S_putf(b,
           "<ofd:CGTransform CodePosition=\"%u\" CodeCount=\"1\" "
           "GlyphCount=\"1\"><ofd:Glyphs>%u</ofd:Glyphs></ofd:CGTransform>\n",
           i, (unsigned)ng);
  }
  int64_t x0 = S_u((int64_t)r->x + r->glyphs[0].x);
  S_put(b, "<ofd:TextCode X=\"");
  S_num(b, x0 - bx);
  S_put(b, "\" Y=\"");
  S_num(b, S_u(r->y) - by);
  S_put(b, "\"");
  if (r->n > 1) {
    S_put(b, " DeltaX=\"");
    bool first = true;
    int64_t prev = x0, cur = 0;
    int reps = 0;
    for (uint32_t i = 1; i < r->n; i++) {
      int64_t xi = S_u((int64_t)r->x + r->glyphs[i].x);
      int64_t d = xi - prev;
      prev = xi;
      if (reps && d == cur) {
        reps++;
        continue;
      }
      S_delta(b, cur, reps, &first);
      cur = d;
      reps = 1;
    }
    S_delta(b, cur, reps, &first);
    S_put(b, "\"");
  }
  S_put(b, ">");
  for (uint32_t i = 0; i < r->n; i++) {
    uint32_t cp = r->glyphs[i].cp;
    char u[8];
    if (cp == '&' || cp == '<' || cp == '>') {
      S_put(b, cp == '&' ? "&amp;" : cp == '<' ? "&lt;" : "&gt;");
      continue;
    }
    int n = bs_utf8_encode(S_xml_char(cp) ? cp : 0xFFFD, u);
    S_putn(b, u, (size_t)n);
  }
  S_put(b, "</ofd:TextCode>\n</ofd:TextObject>\n");
  return 0;
}

static int
S_rule(void *ctx, const bs_rule *r)
{
  S_ofd *o = ctx;
  S_buf *b = &o->page;
  int64_t hw = r->width / 2;
  int64_t x0 = r->x0 < r->x1 ? r->x0 : r->x1, x1 = r->x0 < r->x1 ? r->x1 : r->x0;
  int64_t y0 = r->y0 < r->y1 ? r->y0 : r->y1, y1 = r->y0 < r->y1 ? r->y1 : r->y0;
  int64_t bx = S_u(x0 - hw), by = S_u(y0 - hw);
  int64_t bw = S_u(x1 + hw) - bx, bh = S_u(y1 + hw) - by;
  S_putf(b, "<ofd:PathObject ID=\"%d\" Boundary=\"", o->next_id++);
  S_num(b, bx);
  S_put(b, " ");
  S_num(b, by);
  S_put(b, " ");
  S_num(b, bw);
  S_put(b, " ");
  S_num(b, bh);
  S_put(b, "\" LineWidth=\"");
  S_mm(b, r->width);
  /* projecting caps close the corners of grids, as in the PDF */
  S_put(b, "\" Cap=\"Square\"><ofd:AbbreviatedData>M ");
  S_num(b, S_u(r->x0) - bx);
  S_put(b, " ");
  S_num(b, S_u(r->y0) - by);
  S_put(b, " L ");
  S_num(b, S_u(r->x1) - bx);
  S_put(b, " ");
  S_num(b, S_u(r->y1) - by);
  S_put(b, "</ofd:AbbreviatedData></ofd:PathObject>\n");
  return 0;
}

static int
S_image(void *ctx, const bs_image *im)
{
  S_ofd *o = ctx;
  S_buf *b = &o->page;
  int id = 0;
  for (int i = 0; i < o->nimages && !id; i++)
    if (o->images[i].pic == im->pic)
      id = o->images[i].id;
  if (!id)
    return -1;
  int64_t bx = S_u(im->x), by = S_u(im->y);
  int64_t bw = S_u((int64_t)im->x + im->w) - bx;
  int64_t bh = S_u((int64_t)im->y + im->h) - by;
  S_putf(b, "<ofd:ImageObject ID=\"%d\" Boundary=\"", o->next_id++);
  S_num(b, bx);
  S_put(b, " ");
  S_num(b, by);
  S_put(b, " ");
  S_num(b, bw);
  S_put(b, " ");
  S_num(b, bh);
  S_put(b, "\" CTM=\"");
  S_num(b, bw);
  S_put(b, " 0 0 ");
  S_num(b, bh);
  S_putf(b, " 0 0\" ResourceID=\"%d\"/>\n", id);
  return 0;
}

static int
S_end_page(void *ctx)
{
  S_ofd *o = ctx;
  S_buf *b = &o->page;
  S_put(b, "</ofd:Layer>\n</ofd:Content>\n</ofd:Page>\n");
  char name[64];
  snprintf(name, sizeof name, "Doc_0/Pages/Page_%d/Content.xml",
           o->page_index);
  o->page_ids[o->page_index] = o->next_id++;
  S_add(o, name, b->d, b->len, S_XML);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Document parts                                                       */

typedef struct S_when {
  int y, mo, d;
} S_when;

static S_when
S_date(const bs_document *doc, long long epoch)
{
  S_when w = {2000, 1, 1};
  if (epoch >= 0) {
    time_t t = (time_t)epoch;
    struct tm tm;
    gmtime_r(&t, &tm);
    w.y = tm.tm_year + 1900;
    w.mo = tm.tm_mon + 1;
    w.d = tm.tm_mday;
  } else if (doc->meta.date_y) {
    w.y = doc->meta.date_y;
    w.mo = doc->meta.date_m ? doc->meta.date_m : 1;
    w.d = doc->meta.date_d ? doc->meta.date_d : 1;
  }
  return w;
}

static void
S_custom(S_buf *b, const char *name, const char *value)
{
  if (!value || !*value)
    return;
  S_put(b, "<ofd:CustomData Name=\"");
  S_esc(b, name);
  S_put(b, "\">");
  S_esc(b, value);
  S_put(b, "</ofd:CustomData>\n");
}

/* OFD.xml: the document information, with the DA/T 46-2009 metadata
 * elements banshi knows as CustomData (named as archive.c names them). */
static void
S_ofd_xml(S_ofd *o, S_buf *b, const char *docid, S_when w)
{
  const bs_meta *m = &o->l->doc->meta;
  char date[16];
  snprintf(date, sizeof date, "%04d-%02d-%02d", w.y, w.mo, w.d);
  S_put(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ofd:OFD " S_NS
           " Version=\"1.0\" DocType=\"OFD-A\">\n<ofd:DocBody>\n"
           "<ofd:DocInfo>\n<ofd:DocID>");
  S_put(b, docid);
  S_put(b, "</ofd:DocID>\n");
  if (m->title) {
    S_put(b, "<ofd:Title>");
    S_esc(b, m->title);
    S_put(b, "</ofd:Title>\n");
  }
  if (m->issuer) {
    S_put(b, "<ofd:Author>");
    S_esc(b, m->issuer);
    S_put(b, "</ofd:Author>\n");
  }
  if (m->subject) {
    S_put(b, "<ofd:Subject>");
    S_esc(b, m->subject);
    S_put(b, "</ofd:Subject>\n");
  }
  S_putf(b, "<ofd:CreationDate>%s</ofd:CreationDate>\n"
            "<ofd:ModDate>%s</ofd:ModDate>\n<ofd:DocUsage>Normal</ofd:DocUsage>\n",
         date, date);
  if (m->keywords && m->keywords[0]) {
    S_put(b, "<ofd:Keywords>");
    for (int i = 0; m->keywords[i]; i++) {
      S_put(b, "<ofd:Keyword>");
      S_esc(b, m->keywords[i]);
      S_put(b, "</ofd:Keyword>");
    }
    S_put(b, "</ofd:Keywords>\n");
  }
  S_put(b, "<ofd:Creator>" BANSHI_NAME "</ofd:Creator>\n"
           "<ofd:CreatorVersion>" BANSHI_VERSION "</ofd:CreatorVersion>\n"
           "<ofd:CustomDatas>\n");
  char buf[32], issued[16];
  S_custom(b, "聚合层次", "文件");
  S_custom(b, "题名", m->title);
  S_custom(b, "责任者", m->issuer);
  S_custom(b, "文件编号", m->number);
  if (m->date_y) {
    snprintf(issued, sizeof issued, "%04d-%02d-%02d", m->date_y, m->date_m,
             m->date_d);
    S_custom(b, "日期", issued);
  }
  if (m->year) {
    snprintf(buf, sizeof buf, "%d", m->year);
    S_custom(b, "年度", buf);
  }
  S_custom(b, "保管期限", m->retention);
  for (int i = 0; m->keywords && m->keywords[i]; i++)
    S_custom(b, "关键词", m->keywords[i]);
  S_custom(b, "摘要", m->subject);
  snprintf(buf, sizeof buf, "%d", o->l->npages);
  S_custom(b, "页数", buf);
  S_custom(b, "语种",
           !m->lang || strncmp(m->lang, "zh", 2) == 0 ? "汉语" : m->lang);
  S_custom(b, "格式信息", "OFD-A（GB/T 33190-2016）");
  S_custom(b, "生成方式", "原生");
  S_custom(b, "信息系统描述", BANSHI_NAME " " BANSHI_VERSION);
  S_put(b, "</ofd:CustomDatas>\n</ofd:DocInfo>\n"
           "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>\n"
           "</ofd:DocBody>\n</ofd:OFD>\n");
}

/* Outlines from the headings: nested by level, each going to the top of
 * its heading. */
static void
S_outlines(S_ofd *o, S_buf *b)
{
  const bs_layout *l = o->l;
  if (!l->noutline)
    return;
  S_put(b, "<ofd:Outlines>\n");
  int depth = 0; /* OutlineElem elements open */
  int levels[16];
  for (int i = 0; i < l->noutline; i++) {
    const bs_outline *ol = &l->outline[i];
    int lv = ol->level < 1 ? 1 : ol->level > 6 ? 6 : ol->level;
    while (depth > 0 && levels[depth - 1] >= lv) {
      S_put(b, "</ofd:OutlineElem>\n");
      depth--;
    }
    S_put(b, "<ofd:OutlineElem Title=\"");
    S_esc(b, ol->title);
    S_putf(b, "\"><ofd:Actions><ofd:Action Event=\"CLICK\"><ofd:Goto>"
              "<ofd:Dest Type=\"XYZ\" PageID=\"%d\" Left=\"0\" Top=\"",
           o->page_ids[ol->page]);
    S_mm(b, ol->y);
    S_put(b, "\"/></ofd:Goto></ofd:Action></ofd:Actions>\n");
    levels[depth++] = lv;
  }
  while (depth-- > 0)
    S_put(b, "</ofd:OutlineElem>\n");
  S_put(b, "</ofd:Outlines>\n");
}

static void
S_document_xml(S_ofd *o, S_buf *b)
{
  const bs_layout *l = o->l;
  S_put(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ofd:Document " S_NS
           ">\n<ofd:CommonData>\n");
  S_putf(b, "<ofd:MaxUnitID>%d</ofd:MaxUnitID>\n", o->next_id - 1);
  S_put(b, "<ofd:PageArea><ofd:PhysicalBox>0 0 ");
  S_mm(b, l->npages ? l->pages[0].w : 595276);
  S_put(b, " ");
  S_mm(b, l->npages ? l->pages[0].h : 841890);
  S_put(b, "</ofd:PhysicalBox></ofd:PageArea>\n"
           "<ofd:PublicRes>PublicRes.xml</ofd:PublicRes>\n"
           "<ofd:DocumentRes>DocumentRes.xml</ofd:DocumentRes>\n"
           "</ofd:CommonData>\n<ofd:Pages>\n");
  for (int i = 0; i < l->npages; i++)
    S_putf(b,
           "<ofd:Page ID=\"%d\" BaseLoc=\"Pages/Page_%d/Content.xml\"/>\n",
           o->page_ids[i], i);
  S_put(b, "</ofd:Pages>\n");
  S_outlines(o, b);
  S_put(b, "</ofd:Document>\n");
}

static void
S_public_res(S_ofd *o, S_buf *b)
{
  S_put(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ofd:Res " S_NS
           " BaseLoc=\"Res\">\n");
  if (o->nfonts) {
    S_put(b, "<ofd:Fonts>\n");
    for (int i = 0; i < o->nfonts; i++) {
      const S_ofont *sf = &o->fonts[i];
      char family[256];
      unsigned len = sizeof family;
      if (!hb_ot_name_get_utf8(sf->font->face, HB_OT_NAME_ID_FONT_FAMILY,
                               hb_language_from_string("en", -1), &len,
                               family) ||
          !family[0])
        snprintf(family, sizeof family, "%s", sf->font->psname);
      float wght = hb_style_get_value(sf->font->hbfont, HB_STYLE_TAG_WEIGHT);
      S_putf(b, "<ofd:Font ID=\"%d\" FontName=\"", sf->id);
      S_esc(b, sf->font->psname);
      S_put(b, "\" FamilyName=\"");
      S_esc(b, family);
      S_put(b, "\"");
      if (wght >= 600)
        S_put(b, " Bold=\"true\"");
      S_putf(b, "><ofd:FontFile>%s</ofd:FontFile></ofd:Font>\n", sf->file);
    }
    S_put(b, "</ofd:Fonts>\n");
  }
  S_put(b, "</ofd:Res>\n");
}

static void
S_document_res(S_ofd *o, S_buf *b)
{
  S_put(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ofd:Res " S_NS
           " BaseLoc=\"Res\">\n");
  if (o->nimages) {
    S_put(b, "<ofd:MultiMedias>\n");
    for (int i = 0; i < o->nimages; i++) {
      const S_oimage *im = &o->images[i];
      S_putf(b,
             "<ofd:MultiMedia ID=\"%d\" Type=\"Image\" Format=\"%s\">"
             "<ofd:MediaFile>%s</ofd:MediaFile></ofd:MultiMedia>\n",
             im->id, im->pic->kind == BS_IMAGE_JPEG ? "JPEG" : "PNG",
             im->file);
    }
    S_put(b, "</ofd:MultiMedias>\n");
  }
  S_put(b, "</ofd:Res>\n");
}

/* ------------------------------------------------------------------ */
/* The ZIP package                                                      */

/* minizip, loaded when the first OFD is written (dynlib.h): the
 * functions S_write_zip calls, with the header's prototypes. */
typedef struct S_zip_fns {
  __typeof__(zipOpen2_64) *zipOpen2_64;
  __typeof__(zipOpenNewFileInZip2) *zipOpenNewFileInZip2;
  __typeof__(zipWriteInFileInZip) *zipWriteInFileInZip;
  __typeof__(zipCloseFileInZipRaw) *zipCloseFileInZipRaw;
  __typeof__(zipClose) *zipClose;
} S_zip_fns;

static S_zip_fns S_zl;
static const bs_dynsym S_zip_syms[] = {
    BS_DYNSYM(S_zip_fns, zipOpen2_64),
    BS_DYNSYM(S_zip_fns, zipOpenNewFileInZip2),
    BS_DYNSYM(S_zip_fns, zipWriteInFileInZip),
    BS_DYNSYM(S_zip_fns, zipCloseFileInZipRaw),
    BS_DYNSYM(S_zip_fns, zipClose),
};
static bs_dynlib S_zip_lib =
    BS_DYNLIB(BS_SONAME_MINIZIP, S_zip_syms, &S_zl);

/* minizip's file functions over the temporary file of fsio.h */
static voidpf ZCALLBACK
S_z_open(voidpf opaque, const void *name, int mode)
{
  (void)name;
  (void)mode;
  return opaque;
}

static uLong ZCALLBACK
S_z_read(voidpf opaque, voidpf stream, void *buf, uLong size)
{
  (void)opaque;
  return (uLong)fread(buf, 1, size, stream);
}

static uLong ZCALLBACK
S_z_write(voidpf opaque, voidpf stream, const void *buf, uLong size)
{
  (void)opaque;
  return (uLong)fwrite(buf, 1, size, stream);
}

static ZPOS64_T ZCALLBACK
S_z_tell(voidpf opaque, voidpf stream)
{
  (void)opaque;
  return (ZPOS64_T)ftello(stream);
}

static long ZCALLBACK
S_z_seek(voidpf opaque, voidpf stream, ZPOS64_T off, int origin)
{
  (void)opaque;
  int wh = origin == ZLIB_FILEFUNC_SEEK_SET   ? SEEK_SET
           : origin == ZLIB_FILEFUNC_SEEK_CUR ? SEEK_CUR
                                              : SEEK_END;
  return fseeko(stream, (off_t)off, wh) == 0 ? 0 : -1;
}

static int ZCALLBACK
S_z_close(voidpf opaque, voidpf stream)
{
  (void)opaque;
  (void)stream;
  return 0; /* fsio closes it */
}

static int ZCALLBACK
S_z_error(voidpf opaque, voidpf stream)
{
  (void)opaque;
  return ferror(stream);
}

static int
S_write_zip(S_ofd *o, const char *path, S_when w)
{
  bs_atomic out;
  int e = bs_atomic_open(&out, path);
  if (e) {
    bs_diag(o->diags, BS_ERROR, BS_D_IO_WRITE, NULL, 0, 0, path, strerror(e));
    return -1;
  }
  zlib_filefunc64_def ff = {S_z_open,  S_z_read,  S_z_write, S_z_tell,
                            S_z_seek,  S_z_close, S_z_error, out.f};
  zipFile zf = S_zl.zipOpen2_64(path, APPEND_STATUS_CREATE, NULL, &ff);
  bool ok = zf != NULL;
  zip_fileinfo zi;
  memset(&zi, 0, sizeof zi);
  /* DOS time stamps start in 1980 */
  zi.tmz_date.tm_year = (uInt)(w.y < 1980 ? 1980 : w.y > 2107 ? 2107 : w.y);
  zi.tmz_date.tm_mon = (uInt)(w.mo - 1);
  zi.tmz_date.tm_mday = (uInt)w.d;
  for (int i = 0; ok && i < o->nentries; i++) {
    const S_entry *en = &o->entries[i];
    ok = S_zl.zipOpenNewFileInZip2(zf, en->name, &zi, NULL, 0, NULL, 0,
                                   NULL, en->deflated ? Z_DEFLATED : 0,
                                   en->deflated ? 6 : 0, 1) == ZIP_OK &&
         S_zl.zipWriteInFileInZip(zf, en->z, (unsigned)en->zlen) == ZIP_OK &&
         S_zl.zipCloseFileInZipRaw(zf, (uLong)en->len, en->crc) == ZIP_OK;
  }
  if (zf && S_zl.zipClose(zf, NULL) != ZIP_OK)
    ok = false;
  if (ok && ferror(out.f))
    ok = false;
  if (!ok) {
    e = errno ? errno : EIO;
    bs_atomic_abort(&out);
  } else {
    e = bs_atomic_commit(&out);
  }
  if (e) {
    bs_diag(o->diags, BS_ERROR, BS_D_IO_WRITE, NULL, 0, 0, path, strerror(e));
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------------ */

int
bs_render_ofd(const bs_layout *l, const char *path, const bs_ofd_options *opt)
{
  S_ofd o;
  memset(&o, 0, sizeof o);
  o.l = l;
  o.diags = &l->doc->diags;
  o.next_id = 1;
  o.page_ids = bs_xcalloc((size_t)(l->npages ? l->npages : 1), sizeof(int));
  md5_init(&o.md5);
  S_when w = S_date(l->doc, opt ? opt->epoch : -1);
  int rc = 0;
  /* the package's writer first: without it nothing else is worth doing */
  if (!bs_dynlib_load(&S_zip_lib)) {
    bool en = l->doc->diags.lang == BS_LANG_EN;
    bs_diag(o.diags, BS_ERROR, BS_D_LIBRARY, l->doc->path, 0, 0,
            BS_SONAME_MINIZIP, en ? "writing OFD files" : "写出 OFD 文件",
            S_zip_lib.why);
    rc = -1;
  }
  S_collect(&o);
  for (int i = 0; rc == 0 && i < o.nfonts; i++)
    rc = S_subset(&o, &o.fonts[i]);
  for (int i = 0; rc == 0 && i < o.nimages; i++)
    rc = S_image_file(&o, &o.images[i]);
  int first_page = o.nentries;
  if (rc == 0) {
    bs_renderer r = {&o, S_begin_page, S_glyph_run, S_rule, S_image,
                     S_end_page, NULL};
    if (bs_render(l, &r) != 0) {
      S_fail(&o, "cannot write a page");
      rc = -1;
    }
  }
  if (rc == 0) {
    /* the document's parts, then every page, then the resources */
    S_buf b = {NULL, 0, 0};
    const bs_meta *m = &l->doc->meta;
    md5_update(&o.md5, strlen(BANSHI_VERSION), (const uint8_t *)BANSHI_VERSION);
    const char *const meta[] = {m->title, m->issuer, m->subject, m->number,
                                m->retention, m->lang};
    for (size_t i = 0; i < sizeof meta / sizeof *meta; i++)
      if (meta[i])
        md5_update(&o.md5, strlen(meta[i]) + 1, (const uint8_t *)meta[i]);
    HPDF_BYTE d[16];
    md5_digest(&o.md5, MD5_DIGEST_SIZE, d);
    char docid[33];
    for (int i = 0; i < 16; i++)
      snprintf(docid + 2 * i, 3, "%02x", d[i]);
    int nres = first_page;
    int npages = o.nentries - first_page;
    S_ofd_xml(&o, &b, docid, w);
    S_add(&o, "OFD.xml", b.d, b.len, S_XML);
    b.len = 0;
    S_document_xml(&o, &b);
    S_add(&o, "Doc_0/Document.xml", b.d, b.len, S_XML);
    b.len = 0;
    S_public_res(&o, &b);
    S_add(&o, "Doc_0/PublicRes.xml", b.d, b.len, S_XML);
    b.len = 0;
    S_document_res(&o, &b);
    S_add(&o, "Doc_0/DocumentRes.xml", b.d, b.len, S_XML);
    free(b.d);
    /* reorder: the four parts, the pages, the resources */
    S_entry *sorted = bs_xmalloc((size_t)o.nentries * sizeof *sorted);
    int k = 0;
    for (int i = nres + npages; i < o.nentries; i++)
      sorted[k++] = o.entries[i];
    for (int i = nres; i < nres + npages; i++)
      sorted[k++] = o.entries[i];
    for (int i = 0; i < nres; i++)
      sorted[k++] = o.entries[i];
    free(o.entries);
    o.entries = sorted;
    rc = S_write_zip(&o, path, w);
  }
  for (int i = 0; i < o.nentries; i++) {
    free(o.entries[i].name);
    free(o.entries[i].z);
  }
  free(o.entries);
  for (int i = 0; i < o.nfonts; i++) {
    hb_set_destroy(o.fonts[i].unicodes);
    hb_set_destroy(o.fonts[i].glyphs);
    hb_map_destroy(o.fonts[i].old_new);
    hb_blob_destroy(o.fonts[i].program);
  }
  free(o.fonts);
  for (int i = 0; i < o.nimages; i++)
    if (o.images[i].owned)
      free(o.images[i].data);
  free(o.images);
  free(o.page_ids);
  free(o.page.d);
  if (o.deflate)
    libdeflate_free_compressor(o.deflate);
  if (o.deflate_xml)
    libdeflate_free_compressor(o.deflate_xml);
  return rc;
}
