// SPDX-License-Identifier: Apache-2.0
/* page.h - the page builder (page.c): what the body flow (layout.c) and
 * tables (table.c) use to put items on pages.  Internal to layout.
 *
 * Layer 7 (page): includes layout_int.h. */
#ifndef BS_PAGE_H
#define BS_PAGE_H

#include "layout_int.h"

/* The pager as tables see it: current page, cursor, and a way to start a
 * new page. */
struct bs_pager {
  bs_page *page;       /* current page */
  int32_t y;           /* cursor (top of the next box) */
  int32_t top, bottom; /* type area on this page */
  int32_t left, width; /* type area on this page */
  void *ctx;
  void (*new_page)(bs_pager *pg); /* start a new page, reset y */
};

/* Add an item to a page. */
bs_item *bs_page_add(bs_lctx *lc, bs_page *page, bs_item_type type);

/* Add a structure element of `kind` under `parent` (an index into
 * lc->elems); returns its index. */
int32_t bs_struct_add(bs_lctx *lc, bs_struct_kind kind, int32_t parent);

/* Place `line` with its box's left edge at x and its top at y; its runs
 * belong to the line's structure element (line->sid), its first
 * line->lbl_n glyphs to line->lbl_sid. */
void bs_page_add_line(bs_lctx *lc, bs_page *page, const bs_line *line,
                      int32_t x, int32_t y);

#endif
