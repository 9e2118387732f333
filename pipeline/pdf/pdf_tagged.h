// SPDX-License-Identifier: Apache-2.0
/* pdf_tagged.h - tagged PDF (ISO 32000-1 14.7-14.8): the structure tree of
 * a layout (bs_layout.elems) on libharu's object tree, and the marked-
 * content identifiers render_pdf.c gives its content.  Used by
 * render_pdf.c only.
 *
 * Layer 10 (renderers): docs/architecture.md. */
#ifndef BS_PDF_TAGGED_H
#define BS_PDF_TAGGED_H

#include <hpdf.h>

#include "render.h"

typedef struct bs_pdf_tags bs_pdf_tags;

/* A recorder of the marked content of `l`'s pages.  Free with
 * bs_pdf_tags_free. */
bs_pdf_tags *bs_pdf_tags_new(const bs_layout *l);
void bs_pdf_tags_free(bs_pdf_tags *t);

/* The standard structure type (or role-mapped name) of element `sid`:
 * the tag of its marked content, e.g. "P", "H2", "TD". */
const char *bs_pdf_tag_name(const bs_layout *l, int32_t sid);

/* The next marked-content identifier of page `page` (0-based), given to
 * content of element `sid`. */
int bs_pdf_tags_mcid(bs_pdf_tags *t, int page, int32_t sid);

/* Build the structure tree: a StructElem per element with its marked
 * content (K: MCIDs on its /Pg page, MCRs on others) and its children,
 * table attributes (RowSpan, ColSpan), a figure's Alt; the ParentTree
 * number tree (key = page index, which render_pdf.c gives each page as
 * /StructParents); the StructTreeRoot with its RoleMap, and MarkInfo
 * Marked, in the catalog.  Call after every page is drawn.  Returns 0,
 * or -1 when libharu failed (its error handler has the reason). */
int bs_pdf_tags_finish(bs_pdf_tags *t, HPDF_Doc pdf);

#endif
