// SPDX-License-Identifier: Apache-2.0
/* layout.h - the layout output: pages of positioned glyph runs, rules and
 * images (as Typst's frames), plus the outline.  It is plain data: renderers
 * (render.h) only read it.  Every length is an integer in millipoints (mpt,
 * 1/1000 pt), so sums are exact and dumps are stable; y grows downwards from
 * the top edge of the page.
 *
 * Layer 7 (line and page setting): docs/architecture.md. */
#ifndef BS_LAYOUT_H
#define BS_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "doc.h"
#include "fonts.h"
#include "template.h"

typedef struct bs_glyph {
  uint32_t cp;  /* Unicode code point (for the text layer / ToUnicode) */
  uint32_t gid; /* glyph in the run's font */
  int32_t x;    /* pen position relative to the run's x */
  int32_t adv;  /* natural advance from the font's widths */
} bs_glyph;

typedef struct bs_run {
  bs_font *font;    /* font of every glyph of the run */
  int32_t size;     /* font size */
  int32_t x, y;     /* baseline origin of the first glyph */
  uint32_t n;       /* glyphs */
  bs_glyph *glyphs; /* in reading order */
  int32_t width;    /* from x to the end of the last glyph's advance */
} bs_run;

typedef struct bs_rule {
  int32_t x0, y0, x1, y1; /* a straight line */
  int32_t width;          /* stroke width */
} bs_rule;

typedef struct bs_image {
  const char *path;            /* resolved file path */
  int32_t x, y;                /* top-left corner */
  int32_t w, h;                /* size on the page */
  const struct bs_picture *pic; /* decoded content (image.h) */
} bs_image;

typedef enum bs_item_type {
  BS_ITEM_RUN,
  BS_ITEM_RULE,
  BS_ITEM_IMAGE,
} bs_item_type;

/* What an item is in the document's logical structure (tagged PDF, ISO
 * 32000-1 14.7-14.8): a structure element of bs_layout.elems (> 0), or
 * an artifact, drawn for the page and not part of the text. */
enum {
  BS_SID_ARTIFACT = 0,    /* rules: borders and lines */
  BS_SID_PAGINATION = -1, /* page numbers */
  BS_SID_REPEATED = -2,   /* a table's header rows repeated on a page */
};

typedef struct bs_item {
  bs_item_type type;
  int32_t sid;    /* structure element (> 0) or BS_SID_* */
  uint32_t lbl_n; /* runs: its first lbl_n glyphs (a list item's number
                     set in one run with the item's text) belong to */
  int32_t lbl_sid;/* this element (an Lbl) instead */
  union {
    bs_run run;
    bs_rule rule;
    bs_image image;
  } as;
} bs_item;

typedef struct bs_page {
  int32_t w, h;   /* media size */
  int number;     /* printed page number (1-based) */
  bs_item *items; /* in drawing and reading order */
  size_t n, cap;  /* items used and allocated */
} bs_page;

typedef struct bs_outline {
  const char *title; /* UTF-8 bookmark text */
  int level;         /* 1 = top */
  int page;          /* 0-based page index */
  int32_t y;         /* top of the heading on that page */
} bs_outline;

/* Kinds of structure elements; each renders as the standard structure
 * type named beside it (ISO 32000-1 14.8.4), Title through a role map. */
typedef enum bs_struct_kind {
  BS_SE_DOCUMENT, /* Document: the root, element 0 */
  BS_SE_TITLE,    /* Title (role-mapped to H1): the document's title */
  BS_SE_H,        /* H1-H4 (level) */
  BS_SE_P,        /* P: paragraphs, closing lines, run-in headings */
  BS_SE_L,        /* L */
  BS_SE_LI,       /* LI */
  BS_SE_LBL,      /* Lbl: a list item's number or bullet */
  BS_SE_LBODY,    /* LBody */
  BS_SE_TABLE,    /* Table */
  BS_SE_TR,       /* TR */
  BS_SE_TH,       /* TH */
  BS_SE_TD,       /* TD */
  BS_SE_FIGURE,   /* Figure, with alt */
  BS_SE_CAPTION,  /* Caption */
} bs_struct_kind;

/* One structure element.  Elements are numbered in source order (the
 * reading order), each after its parent; an element's content is its own
 * items (in page order) followed by its child elements. */
typedef struct bs_selem {
  bs_struct_kind kind;
  int32_t parent;      /* index of the parent element (-1 for the root) */
  int level;           /* BS_SE_H: 1-4; BS_SE_TH: what it heads (1 its
                          column, 2 its row, 0 not said) */
  int row, col;        /* table cells: grid position (0-based) */
  int rowspan, colspan;/* table cells: spans */
  const char *alt;     /* BS_SE_FIGURE: the caption's text, or NULL */
} bs_selem;

typedef struct bs_layout {
  bs_document *doc;       /* the document laid out (owns the arena) */
  const bs_template *tpl; /* template used */
  bs_page *pages;
  int npages;
  bs_outline *outline;
  int noutline;
  bs_selem *elems;        /* the structure: elems[0] is the Document */
  int nelems;
} bs_layout;

typedef struct bs_layout_options {
  const bs_template *tpl; /* page template */
  bs_fontset *fonts;      /* font roles */
} bs_layout_options;

/* Lay the document out.  Returns NULL when errors make a faithful layout
 * impossible (missing fonts, characters no font has); the reasons are in
 * doc->diags.  The layout lives in the document's arena. */
bs_layout *bs_layout_document(bs_document *doc, const bs_layout_options *o);

/* Build, on the calling thread, what ICU keeps process-wide for the
 * layout of Chinese titles (its dictionary engine), so that a later layout
 * on another thread finds it made; the thread's own state is released. */
void bs_layout_warm(void);

/* Release per-thread layout state (ICU iterators) at exit. */
void bs_layout_cleanup(void);

#endif
