// SPDX-License-Identifier: Apache-2.0
/* pdf_archival.c - PDF/A-3b associated files (ISO 19005-3:2012, 6.8;
 * ISO 32000-2 7.11.4 and 14.13) on libharu's object tree.
 *
 * Design.  PDF/A-3 differs from PDF/A-1b, for what banshi writes, in two
 * places: embedded files are allowed when each is an associated file, and
 * the XMP says pdfaid:part 3 (render_pdf.c writes that).  libharu 2.3.0 has
 * no API for either (its HPDF_AttachFile writes neither UF, Subtype, Params
 * nor AFRelationship), so the objects are built here as the fonts are in
 * render_pdf.c.  What ISO 19005-3 6.8 requires of each file, and what is
 * written: the embedded file stream has Type /EmbeddedFile, the MIME type
 * as Subtype and Params with the modification date; the file specification
 * has F and UF, Desc and AFRelationship, and is listed in the catalog's AF
 * array (the files belong to the whole document).  The name tree lists the
 * files in byte order of their names, as a name tree must.  Every value
 * comes from the input: the date is the document's, the checksum an MD5 of
 * the bytes, so the file stays deterministic.  The data is compressed by
 * libharu (Flate) when the file is written.
 *
 * Layer 10 (renderers): docs/architecture.md. */
#include "pdf_archival.h"

#include <stdlib.h>
#include <string.h>

#include <nettle/md5.h>

#include "pdf_text.h"
#include "util.h"

/* A file name for /F, which PDF readers take as a byte string in the
 * platform's encoding: the name when it is printable ASCII, else an ASCII
 * stand-in (the Unicode name is in /UF). */
static void
S_ascii_name(const char *name, size_t i, char *out, size_t sz)
{
  bool ascii = true;
  for (const char *c = name; *c; c++)
    if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7E || *c == '/' ||
        *c == '\\')
      ascii = false;
  if (ascii && strlen(name) < sz)
    snprintf(out, sz, "%s", name);
  else
    snprintf(out, sz, "source-%zu.xml", i + 1);
}

static int
S_by_name(const void *a, const void *b)
{
  const bs_pdf_attachment *x = *(const bs_pdf_attachment *const *)a;
  const bs_pdf_attachment *y = *(const bs_pdf_attachment *const *)b;
  return strcmp(x->name, y->name);
}

int
bs_pdf_embed_sources(HPDF_Doc pdf, const bs_pdf_attachment *files, int n,
                     const char *moddate)
{
  if (n <= 0)
    return 0;
  HPDF_MMgr mm = pdf->mmgr;
  const bs_pdf_attachment **order = bs_xcalloc((size_t)n, sizeof *order);
  for (int i = 0; i < n; i++)
    order[i] = &files[i];
  qsort(order, (size_t)n, sizeof *order, S_by_name);

  HPDF_Array names = HPDF_Array_New(mm);
  HPDF_Array af = HPDF_Array_New(mm);
  for (int i = 0; i < n; i++) {
    const bs_pdf_attachment *f = order[i];
    HPDF_Dict ef = HPDF_DictStream_New(mm, pdf->xref);
    if (!ef)
      break;
    ef->filter = HPDF_STREAM_FILTER_FLATE_DECODE;
    if (f->len)
      HPDF_Stream_Write(ef->stream, f->data, (HPDF_UINT)f->len);
    HPDF_Dict_AddName(ef, "Type", "EmbeddedFile");
    HPDF_Dict_AddName(ef, "Subtype", f->mime);
    HPDF_Dict params = HPDF_Dict_New(mm);
    HPDF_Dict_AddNumber(params, "Size", (HPDF_INT32)f->len);
    HPDF_Dict_Add(params, "ModDate", HPDF_String_New(mm, moddate, NULL));
    struct md5_ctx ctx;
    HPDF_BYTE md5[16];
    md5_init(&ctx);
    if (f->len)
      md5_update(&ctx, f->len, f->data);
    md5_digest(&ctx, MD5_DIGEST_SIZE, md5);
    HPDF_Dict_Add(params, "CheckSum", HPDF_Binary_New(mm, md5, 16));
    HPDF_Dict_Add(ef, "Params", params);

    char ascii[256];
    S_ascii_name(f->name, (size_t)i, ascii, sizeof ascii);
    HPDF_Dict fs = HPDF_Dict_New(mm);
    HPDF_Xref_Add(pdf->xref, fs);
    HPDF_Dict_AddName(fs, "Type", "Filespec");
    HPDF_Dict_Add(fs, "F", HPDF_String_New(mm, ascii, NULL));
    HPDF_Dict_Add(fs, "UF", bs_pdf_text(mm, f->name));
    if (f->desc)
      HPDF_Dict_Add(fs, "Desc", bs_pdf_text(mm, f->desc));
    HPDF_Dict_AddName(fs, "AFRelationship", "Source");
    HPDF_Dict efd = HPDF_Dict_New(mm);
    HPDF_Dict_Add(efd, "F", ef);
    HPDF_Dict_Add(efd, "UF", ef);
    HPDF_Dict_Add(fs, "EF", efd);

    HPDF_Array_Add(names, bs_pdf_text(mm, f->name));
    HPDF_Array_Add(names, fs);
    HPDF_Array_Add(af, fs);
  }
  free(order);
  HPDF_Dict tree = HPDF_Dict_New(mm);
  HPDF_Dict_Add(tree, "Names", names);
  HPDF_Dict nd = HPDF_Dict_New(mm);
  HPDF_Dict_Add(nd, "EmbeddedFiles", tree);
  HPDF_Dict_Add(pdf->catalog, "Names", nd);
  HPDF_Dict_Add(pdf->catalog, "AF", af);
  return HPDF_GetError(pdf) == HPDF_OK ? 0 : -1;
}
