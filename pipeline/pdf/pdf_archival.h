// SPDX-License-Identifier: Apache-2.0
/* pdf_archival.h - the additions of PDF/A-3b (ISO 19005-3) to a PDF that
 * render_pdf.c builds: source files embedded as associated files.  Used by
 * render_pdf.c only.
 *
 * Layer 10 (renderers): docs/architecture.md. */
#ifndef BS_PDF_ARCHIVAL_H
#define BS_PDF_ARCHIVAL_H

#include <hpdf.h>

#include "render.h"

/* Embed `files` (n of them) in `pdf`: an EmbeddedFile stream each (MIME
 * Subtype, Params with Size, ModDate and CheckSum), a file specification
 * with F, UF, Desc and AFRelationship /Source, listed in the catalog's
 * EmbeddedFiles name tree (sorted by name) and its AF array.  `moddate` is
 * a PDF date string (D:YYYYMMDDHHmmSS+HH'mm').  Returns 0, or -1 when
 * libharu failed (its error handler has the reason). */
int bs_pdf_embed_sources(HPDF_Doc pdf, const bs_pdf_attachment *files, int n,
                         const char *moddate);

#endif
