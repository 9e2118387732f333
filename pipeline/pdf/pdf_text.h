// SPDX-License-Identifier: Apache-2.0
/* pdf_text.h - text strings of a PDF (ISO 32000-1 7.9.2.2) made from
 * UTF-8: the document information, bookmark titles, figures' Alt, the
 * names of embedded files.  Used by the PDF renderer's files only.
 *
 * libharu 2.3.0 makes such strings through its UTF-8 encoder, which turns
 * every character outside the BMP into a space (a title with 𠀋 lost it in
 * Info and the bookmarks, and no longer matched the XMP, which PDF/A
 * requires) and builds 257 KB of tables for each document.  These strings
 * are written the way that encoder writes the others: <FEFF...>.
 *
 * Layer 10 (renderers): docs/architecture.md. */
#ifndef BS_PDF_TEXT_H
#define BS_PDF_TEXT_H

#include <hpdf.h>

/* `utf8` as a text string: UTF-16BE after its byte order mark, surrogate
 * pairs for characters outside the BMP, U+FFFD for a byte that does not
 * decode.  NULL when libharu's memory ran out (its error handler has
 * the reason; HPDF_Dict_Add and HPDF_Array_Add take NULL as a failure). */
HPDF_Binary bs_pdf_text(HPDF_MMgr mm, const char *utf8);

#endif
