// SPDX-License-Identifier: Apache-2.0
/* fonts.h - font roles, font files, metrics and coverage.
 *
 * A font map (fonts/default.map, overridable with --fonts) names, for each
 * role (song 宋, fangsong 仿宋, kai 楷, hei 黑, xiaobiaosong 小标宋 …), a chain
 * of font files: the first is preferred, the others are fallbacks for
 * characters it lacks.  Fonts are read with HarfBuzz (TrueType and OpenType
 * CFF outlines, .ttf/.otf files and .ttc/.otc collections, cmap formats 4
 * and 12) and are shared read-only by every
 * document of a process.  Widths are kept in the PDF unit of 1/1000 em so
 * that layout and the PDF /W array use the very same numbers.
 *
 * Layer 6 (fonts, template, image): docs/architecture.md. */
#ifndef BS_FONTS_H
#define BS_FONTS_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "memo.h"
#include "zpieces.h"

/* HarfBuzz's objects, opaque here (HarfBuzz itself names them by these
 * struct tags): only the files that read font data include <hb.h> -
 * fonts.c and the renderers' font embedding - and layout.h and render.h,
 * which include this header, stay free of it (the layers test checks). */
struct hb_blob_t;
struct hb_face_t;
struct hb_font_t;

typedef struct bs_font {
  char *path;         /* file path */
  unsigned index;     /* face index in a collection */
  char *label;        /* as written in the map, for messages */
  struct hb_blob_t *blob;   /* the mapped file */
  int fd;             /* the file, open for pread (pdf/cff.c), or -1 */
  struct hb_face_t *face;   /* HarfBuzz face */
  struct hb_font_t *hbfont; /* at scale = upem */
  unsigned upem;      /* units per em */
  char *psname;       /* PostScript name, sanitised for PDF */
  int ascent;         /* 1/1000 em, positive */
  int descent;        /* 1/1000 em, negative */
  int cap_height;     /* 1/1000 em */
  int bbox[4];        /* xMin yMin xMax yMax, 1/1000 em */
  int italic_angle;   /* degrees */
  uint16_t fs_type;   /* OS/2 embedding flags */
  bool cff;           /* PostScript (CFF) outlines, else TrueType (glyf) */
  bs_memo *cff_glyphs; /* CFF: flattened charstrings of the glyphs subset
                          so far (pdf/cff.c), for every document */
  bs_zpieces *programs; /* the deflated pieces of subset programs, shared
                           by the fonts of a font set (pdf/render_pdf.c) */
  bs_recent *embeds;  /* the last embeddings of this font's subsets,
                         each a malloc'd block under the glyphs and
                         characters it was made for (pdf/render_pdf.c) */
  int id;             /* index in the font set */
  /* What HarfBuzz said of recent code points (glyph) and glyphs (advance
   * in 1/1000 em), for every document and thread: a direct-mapped table
   * of key + 1 in the high half of each entry and the value in the low
   * half, 0 where nothing is kept yet (fonts.c).  Layout asks for each
   * character of a paragraph and again for each measure of a table
   * cell; HarfBuzz's lookups cost 100 to 250 instructions each.  Made
   * on a font's first lookup (a fallback seldom has one). */
  uint64_t *glyph_memo; /* BS_FONT_GLYPH_MEMO entries */
  uint64_t *adv_memo;   /* BS_FONT_ADV_MEMO entries */
} bs_font;

typedef struct bs_role {
  char *name;         /* role name */
  int nfonts;         /* fonts in the chain that were found */
  bs_font **chain;    /* preferred first */
  char *tried;        /* labels of all fonts of the chain, for messages */
  bool resolved;      /* files looked up already */
  bool failed;        /* no usable font */
} bs_role;

typedef struct bs_fontset bs_fontset;

/* Load the font map: the default map of the data folder, then the user's
 * map (may be NULL) whose roles replace the default's.  Files are not opened
 * until a role is used.  Problems go to `diags`.  Returns NULL only when a
 * map cannot be read or parsed. */
bs_fontset *bs_fontset_new(const char *user_map, bs_diags *diags);
void bs_fontset_free(bs_fontset *fs);

/* The role named `name` with its fonts opened, or NULL (after a diagnostic
 * in `diags`, once per role) when the role is unknown or has no usable
 * font.  Thread-safe. */
bs_role *bs_fontset_role(bs_fontset *fs, const char *name, bs_diags *diags);

/* Number of distinct fonts opened so far, and font number i. */
int bs_fontset_count(bs_fontset *fs);
bs_font *bs_fontset_font(bs_fontset *fs, int i);

/* The set's store of deflated pieces (zpieces.h), owned by the set: its
 * fonts' subset programs are kept there, and the renderer keeps there what
 * else every document repeats (bs_pdf_options.pieces).  Never NULL;
 * thread-safe like the store itself. */
bs_zpieces *bs_fontset_programs(bs_fontset *fs);

/* Glyph of cp in font f (0 if missing). */
unsigned bs_font_glyph(const bs_font *f, uint32_t cp);

/* Advance of glyph g in 1/1000 em, rounded as the PDF /W array holds it. */
int bs_font_advance(const bs_font *f, unsigned gid);

/* The ink box of a glyph and its advance, in font units (upem), y up. */
typedef struct bs_glyph_ink {
  int32_t x_bearing; /* left edge of the ink from the origin */
  int32_t y_bearing; /* top edge of the ink above the baseline */
  int32_t width;     /* ink width, >= 0 */
  int32_t height;    /* ink height, <= 0 (downwards from y_bearing) */
  int32_t advance;   /* horizontal advance */
} bs_glyph_ink;

/* The ink box of glyph `gid` of `f` in *ink; false (ink zeroed) when the
 * font gives none. */
bool bs_font_glyph_ink(const bs_font *f, unsigned gid, bs_glyph_ink *ink);

/* The first font of the role's chain that has cp, or NULL. */
bs_font *bs_role_font_for(const bs_role *role, uint32_t cp, unsigned *gid);

/* The folders searched for font files named without a path. */
const char *const *bs_font_dirs(void);

#endif
