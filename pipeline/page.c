// SPDX-License-Identifier: Apache-2.0
/* page.c - the page builder: items added to pages.
 *
 * Layer 7 (page): uses layout_int.h's types only.
 *
 * Design.  The body flow (layout.c) and tables (table.c) both put items on
 * pages; the functions that do it live here, below both, so that table.c
 * needs nothing from layout.c and the two never call each other back.  A
 * table starts new pages through the bs_pager it is given (page.h). */
#include "page.h"

#include <string.h>

bs_item *
bs_page_add(bs_lctx *lc, bs_page *page, bs_item_type type)
{
  if (page->n == page->cap) {
    size_t cap = page->cap ? page->cap * 2 : 64;
    page->items = bs_arena_realloc(lc->arena, page->items,
                                   page->cap * sizeof(bs_item),
                                   cap * sizeof(bs_item));
    page->cap = cap;
  }
  bs_item *it = &page->items[page->n++];
  memset(it, 0, sizeof *it);
  it->type = type;
  return it;
}

void
bs_page_add_line(bs_lctx *lc, bs_page *page, const bs_line *line, int32_t x,
                 int32_t y)
{
  uint32_t lbl = line->lbl_n;
  for (int i = 0; i < line->nruns; i++) {
    bs_item *it = bs_page_add(lc, page, BS_ITEM_RUN);
    it->sid = line->sid;
    if (lbl > 0) {
      /* the label: whole runs, then the start of one */
      uint32_t k = lbl < line->runs[i].n ? lbl : line->runs[i].n;
      if (k == line->runs[i].n) {
        it->sid = line->lbl_sid;
      } else {
        it->lbl_n = k;
        it->lbl_sid = line->lbl_sid;
      }
      lbl -= k;
    }
    it->as.run = line->runs[i];
    it->as.run.x += x;
    it->as.run.y += y;
  }
}

int32_t
bs_struct_add(bs_lctx *lc, bs_struct_kind kind, int32_t parent)
{
  bs_selem e;
  memset(&e, 0, sizeof e);
  e.kind = kind;
  e.parent = parent;
  e.rowspan = e.colspan = 1;
  bs_vec_push(&lc->elems, &e);
  return (int32_t)lc->elems.len - 1;
}
