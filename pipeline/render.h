// SPDX-License-Identifier: Apache-2.0
/* render.h - output devices.  A renderer is a struct of function pointers
 * (MuPDF's fz_device): the walker in render.c calls it for every page and
 * item of a layout, in order.  render_pdf.c writes PDF/A-1b through libharu;
 * render_dump.c prints each call as text, the oracle of the layout tests.
 *
 * Layer 10 (renderers): docs/architecture.md. */
#ifndef BS_RENDER_H
#define BS_RENDER_H

#include <stdio.h>

#include "layout.h"

typedef struct bs_renderer {
  void *ctx;
  /* each returns 0 on success; a failure stops the walk */
  int (*begin_page)(void *ctx, const bs_page *page, int index);
  int (*glyph_run)(void *ctx, const bs_run *run);
  int (*rule)(void *ctx, const bs_rule *rule);
  int (*image)(void *ctx, const bs_image *image);
  int (*end_page)(void *ctx);
  /* optional (NULL: not called): before each item's own call, with the
   * item, for what the drawing calls do not carry (its structure) */
  int (*item)(void *ctx, const bs_item *it);
} bs_renderer;

/* Walk every page of `l` through `r`.  Returns 0 or the first failure. */
int bs_render(const bs_layout *l, const bs_renderer *r);

/* Print the layout as text: one line per page, run, rule and image, with
 * lengths in points.  Returns 0, or -1 on a write error. */
int bs_render_dump(const bs_layout *l, FILE *out);

/* A file carried inside a PDF/A-3b file as an associated file
 * (AFRelationship Source): the XML the document was made from. */
typedef struct bs_pdf_attachment {
  const char *name;           /* file name shown by readers (UTF-8) */
  const char *mime;           /* MIME type, e.g. "application/xml" */
  const char *desc;           /* description (UTF-8) */
  const unsigned char *data;  /* contents (borrowed) */
  size_t len;                 /* bytes in data */
} bs_pdf_attachment;

typedef struct bs_pdf_options {
  const char *icc_profile; /* sRGB ICC v2 profile; NULL = the default */
  long long epoch;         /* SOURCE_DATE_EPOCH, or -1 to use the source */
  int pdfa_part;           /* 1 (PDF/A-1b, also 0), 2 (PDF/A-2a, tagged)
                              or 3 (PDF/A-3b) */
  const bs_pdf_attachment *files; /* PDF/A-3b: the source files */
  int nfiles;              /* entries in files */
  bool tagged;             /* tagged PDF: structure tree and marked
                              content (implied by pdfa_part 2) */
  int threads;             /* 2: the fonts' subsets and compression also
                              on a second thread (the file is the same);
                              0 or 1: on the calling thread alone.  For a
                              process that renders one document on a
                              machine with an idle core, not for batch
                              workers or an env shared by threads */
  unsigned char *sha256;   /* NULL, or 32 bytes that receive the SHA-256
                              of the bytes written, as they were handed to
                              the file, when the file was written whole,
                              flushed and renamed into place (0 returned):
                              batch's stamp, without reading the file back */
  bs_zpieces *pieces;      /* NULL, or the store of deflated pieces that
                              outlives the document (the font set's,
                              bs_fontset_programs): streams every document
                              repeats, the ICC profile's, are deflated
                              once a process; the bytes are the same */
} bs_pdf_options;

/* Write `l` as a PDF/A-1b file (or PDF/A-3b with o->files embedded, or
 * PDF/A-2a, tagged) at `path`; tagged (docs/formats.md) when o->tagged or
 * o->pdfa_part is 2.  The file is written under a
 * temporary name, flushed and renamed into place, so that `path` never
 * holds a partial file.  Returns 0, or -1 after diagnostics in the
 * document's list. */
int bs_render_pdf(const bs_layout *l, const char *path,
                  const bs_pdf_options *o);

typedef struct bs_ofd_options {
  long long epoch; /* SOURCE_DATE_EPOCH, or -1 to use the source */
} bs_ofd_options;

/* Write `l` as an OFD file (GB/T 33190-2016, DocType OFD-A) at `path`:
 * a ZIP package written under a temporary name and renamed into place,
 * like the PDF.  Returns 0, or -1 after diagnostics in the document's
 * list. */
int bs_render_ofd(const bs_layout *l, const char *path,
                  const bs_ofd_options *o);

/* The program's name and version, for metadata and --version.  The version
 * is written in one place, the project() line of CMakeLists.txt, which
 * passes it to the library and everything linked with it. */
#define BANSHI_NAME "banshi"
#ifndef BANSHI_VERSION
#error "BANSHI_VERSION comes from CMakeLists.txt (project VERSION)"
#endif

#endif
