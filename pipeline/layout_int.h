// SPDX-License-Identifier: Apache-2.0
/* layout_int.h - internals shared by layout.c, inline.c and table.c.
 *
 * layout.c walks the tree and produces a flow of lines and tables;
 * inline.c turns one paragraph into lines; table.c sizes and splits tables;
 * paginate (in layout.c) cuts the flow into pages.
 *
 * Layer 7 (line and page setting): docs/architecture.md. */
#ifndef BS_LAYOUT_INT_H
#define BS_LAYOUT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "layout.h"

/* One laid-out line: runs positioned relative to the line box (x from the
 * left edge of the box the line was set for, y of the baseline from the
 * top of the line). */
typedef struct bs_line {
  bs_run *runs;        /* arena */
  int nruns;
  int32_t height;      /* line pitch */
  int32_t width;       /* width of the content (after justification) */
  bool keep_with_next; /* never end a page after this line */
  bool par_last;       /* last line of its paragraph */
  int32_t sid;         /* structure element of its runs (bs_item.sid) */
  uint32_t lbl_n;      /* its first lbl_n glyphs belong to element lbl_sid
                          (a list item's label) */
  int32_t lbl_sid;
} bs_line;

/* Geometry and behaviour of one paragraph. */
typedef struct bs_para_geom {
  int32_t width;       /* measure available to every line */
  int32_t first_indent;/* extra indent of the first line */
  int32_t left;        /* indent of every line */
  bs_align align;      /* justify, left, center, right */
  int32_t leading;     /* line pitch */
  bool balance;        /* balance line lengths and prefer word breaks
                          (titles, centred labels) */
  bool title;          /* the document title: GB/T 9704 7.3.1's rules
                          (inline.c, S_title_lines) */
  const char *issuer;  /* titles: the issuing body, whose end is a
                          preferred break */
  bool justify_last;   /* justify the last line too */
  bool prefer_words;   /* break at word boundaries where one fits (narrow
                          table cells: 办理/结果, not 办理结/果) */
  int32_t max_stretch; /* most space added to a gap when justifying; a
                          looser line is set flush left (0 = no limit) */
} bs_para_geom;

typedef struct bs_lctx bs_lctx;

/* The per-document layout context (created by layout.c). */
struct bs_lctx {
  bs_document *doc;
  const bs_template *tpl;
  bs_fontset *fonts;
  bs_arena *arena;     /* output arena (the document's) */
  bs_vec chars;        /* scratch: characters of the current paragraph */
  bs_vec u16;          /* scratch: UTF-16 for ICU */
  bs_vec u16map;       /* scratch: UTF-16 index -> char index */
  bs_vec tmp;          /* scratch: widths and prefix sums */
  bool missing;        /* a character had no glyph (an error was emitted) */
  bool warned_overflow;/* one overflow warning per document */
  int64_t table_repeats;/* cells drawn again on later pages, all tables
                           (BS_MAX_TABLE_REPEATS; table.c) */
  int64_t table_fillers;/* empty cells filling the holes of all tables'
                           grids (BS_MAX_TABLE_FILLERS; table.c) */
  struct {             /* which half of a mark's em its ink leaves empty
                          (inline.c S_ink_halves): measuring a CFF glyph
                          runs its charstring, so each is measured once
                          per document */
    const bs_font *font;
    uint32_t gid;
    bool left, right;
  } ink[64];
  bool start_cut;      /* an opening mark may lose its empty half at the
                          start of a line (set per paragraph) */
  bool measuring;      /* text collected only to be measured: a missing
                          glyph is reported when the text is laid out */
  const char *failed_roles[16]; /* roles already reported unusable */
  int nfailed;
  bs_vec elems;        /* bs_selem: the structure, in source order */
};

/* Font role of a style, opened (NULL after a diagnostic). */
bs_role *bs_lctx_role(bs_lctx *lc, const bs_style *st);

/* Start collecting a new paragraph. */
void bs_para_begin(bs_lctx *lc);
/* Append UTF-8 text set in style `st`; `src` (a text node or NULL) and the
 * byte index of each character locate errors. */
void bs_para_text(bs_lctx *lc, const char *utf8, size_t len,
                  const bs_style *st, const bs_node *src, uint32_t line,
                  uint32_t col);
/* Append the inline content of `n` (text, em, strong, br) set in `st`;
 * em and strong keep the size and take their style's font role. */
void bs_para_inline(bs_lctx *lc, const bs_node *n, const bs_style *st);
/* Append a forced line break. */
void bs_para_break(bs_lctx *lc);
/* True when nothing visible was collected. */
bool bs_para_empty(bs_lctx *lc);
/* Break the collected paragraph into lines and append them (bs_line) to
 * `out`.  Returns the number of lines. */
int bs_para_layout(bs_lctx *lc, const bs_para_geom *g, bs_vec *out);
/* Minimum width (widest unbreakable piece) and preferred width (longest
 * line without wrapping) of the collected paragraph. */
void bs_para_measure(bs_lctx *lc, int32_t *minw, int32_t *maxw);
/* Keep a copy of the collected paragraph at the end of `keep` (a byte
 * vector), so that the same text need not be collected again: returns its
 * number of characters.  bs_para_restore makes a kept paragraph, of `n`
 * characters at byte offset `off` of `keep`, the collected one, as if it
 * had been collected again (measuring and layout each work out what they
 * need from the characters themselves). */
size_t bs_para_keep(bs_lctx *lc, bs_vec *keep);
void bs_para_restore(bs_lctx *lc, const bs_vec *keep, size_t off, size_t n);

/* Ideographic em box: baseline at 0.88 em below its top, used to centre
 * text vertically in its line. */
#define BS_EM_ASCENT 880

/* Baseline offset of text of size `size` centred in a line of `height`. */
static inline int32_t
bs_baseline_in(int32_t height, int32_t size)
{
  return (height - size) / 2 + (int32_t)((int64_t)size * BS_EM_ASCENT / 1000);
}

/* Tables: lay out `table` for a box of `width`, appending flow items;
 * its rows and cells become structure elements under `sid` (a Table). */
typedef struct bs_table_layout bs_table_layout;
bs_table_layout *bs_table_prepare(bs_lctx *lc, const bs_node *table,
                                  int32_t width, int32_t sid);

/* Height of the header rows and the first body row: what must fit below
 * a heading kept with the table. */
int32_t bs_table_first_h(const bs_table_layout *t);

/* The height the table needs where it starts with `avail` left on a page
 * of `page_h`: all of it if it fits, else its first piece up to a group
 * boundary, or more than `avail` when it will move to the next page (it
 * would leave no more than the template's share of the page empty). */
int32_t bs_table_start_h(const bs_lctx *lc, const bs_table_layout *t,
                         int32_t avail, int32_t page_h);

/* Place the table starting at *y on the current page, adding pages as
 * needed through the pager (page.h). */
typedef struct bs_pager bs_pager;
void bs_table_place(bs_lctx *lc, bs_table_layout *t, bs_pager *pg);

#endif
