// SPDX-License-Identifier: Apache-2.0
/* render.c - the walker that drives a renderer; see render.h.
 * Layer 10 (renderers): docs/architecture.md. */
#include "render.h"

int
bs_render(const bs_layout *l, const bs_renderer *r)
{
  for (int p = 0; p < l->npages; p++) {
    const bs_page *page = &l->pages[p];
    int rc = r->begin_page(r->ctx, page, p);
    for (size_t i = 0; rc == 0 && i < page->n; i++) {
      const bs_item *it = &page->items[i];
      if (r->item && (rc = r->item(r->ctx, it)) != 0)
        break;
      switch (it->type) {
      case BS_ITEM_RUN:
        rc = r->glyph_run(r->ctx, &it->as.run);
        break;
      case BS_ITEM_RULE:
        rc = r->rule(r->ctx, &it->as.rule);
        break;
      case BS_ITEM_IMAGE:
        rc = r->image(r->ctx, &it->as.image);
        break;
      }
    }
    if (rc == 0)
      rc = r->end_page(r->ctx);
    if (rc)
      return rc;
  }
  return 0;
}
