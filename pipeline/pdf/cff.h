// SPDX-License-Identifier: Apache-2.0
/* cff.h - reading CFF font programs, and cutting a CID-keyed one down to
 * the glyphs a document draws, for the FontFile3 (CIDFontType0C) of a PDF.
 * Used by render_pdf.c only; plain bytes in and out, no font library.
 *
 * Layer 10 (renderers): docs/architecture.md. */
#ifndef BS_PDF_CFF_H
#define BS_PDF_CFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memo.h"

/* A subset: a complete CFF program of n glyphs, glyph 0 the .notdef. */
typedef struct bs_cff_subset {
  uint8_t *data; /* the program (malloc'd) */
  size_t len;
  unsigned n;     /* glyphs */
  uint32_t *orig; /* the font's glyph index of each */
  uint32_t *cid;  /* its CID: the font's charset keeps them */
} bs_cff_subset;

typedef enum bs_cff_status {
  BS_CFF_OK,
  /* a form this subsetter does not write (a name-keyed font, a seac
   * accent, a subroutine number computed by arithmetic): the caller uses
   * a general subsetter */
  BS_CFF_UNSUPPORTED,
  /* the program contradicts the CFF specification */
  BS_CFF_MALFORMED,
} bs_cff_status;

/* Cut the CID-keyed CFF program `cff` (len bytes) down to the glyphs
 * `gids` (n of them, ascending, each below the font's glyph count; glyph 0
 * is added when missing).  Charstrings come out without subroutines and
 * without hints, the CIDs and Font DICTs are the font's own.  `memo` (may
 * be NULL) keeps each glyph's flattened charstring for the next subsets of
 * the same program, so that a process flattens a glyph at most twice: it
 * is filled from the second subset on (the first, in a process that may
 * cut no other, leaves it empty), serves the first program it is given
 * (the same bytes at the same address) and is ignored for any other; the
 * subset is the same bytes with or without it.
 * On BS_CFF_OK `out` holds the subset (free with bs_cff_subset_free);
 * otherwise it is empty. */
bs_cff_status bs_cff_subset_make(const uint8_t *cff, size_t len,
                                 const uint32_t *gids, unsigned n,
                                 bs_memo *memo, bs_cff_subset *out);

/* As bs_cff_subset_make, but the charstrings of the glyphs flattened
 * here (not found in the memo) are read with pread from `file`, which
 * holds the program at offset `at` (the font file that `cff` maps), and
 * not from `cff`: they are spread over the megabytes of a CJK program,
 * and each first touch of a page of the mapping is a page fault that
 * costs more than the read.  The INDEXes, DICTs and subroutines, read
 * by every subset, are read from `cff`.  With file < 0, or when a read
 * comes short, the charstrings are read from `cff` too; the subset is
 * the same bytes either way.  Thread-safe for a file shared by threads:
 * pread moves no file offset. */
bs_cff_status bs_cff_subset_make_fd(const uint8_t *cff, size_t len, int file,
                                    uint64_t at, const uint32_t *gids,
                                    unsigned n, bs_memo *memo,
                                    bs_cff_subset *out);
void bs_cff_subset_free(bs_cff_subset *s);

/* The code of each of the n glyphs of a CFF program: its CID in a
 * CID-keyed font (a PDF viewer finds a glyph by its CID, ISO 32000
 * 9.7.4.2), its glyph index in a name-keyed one.  Returns false when the
 * program cannot be read. */
bool bs_cff_codes(const uint8_t *cff, size_t len, uint32_t *code,
                  unsigned n);

#endif
