// SPDX-License-Identifier: Apache-2.0
/* pdf_text.c - PDF text strings from UTF-8; see pdf_text.h.
 * Layer 10 (renderers): docs/architecture.md. */
#include "pdf_text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

HPDF_Binary
bs_pdf_text(HPDF_MMgr mm, const char *utf8)
{
  size_t n = strlen(utf8);
  /* two bytes of mark, at most four a byte of UTF-8 (one byte, one unit
   * of two bytes; four bytes, a pair of four) */
  HPDF_BYTE *b = bs_xmalloc(2 + n * 4);
  size_t k = 0;
  b[k++] = 0xFE;
  b[k++] = 0xFF;
  for (size_t i = 0; i < n;) {
    uint32_t cp;
    int l = bs_utf8_decode((const unsigned char *)utf8 + i, n - i, &cp);
    if (l <= 0) {
      cp = 0xFFFD;
      l = 1;
    }
    i += (size_t)l;
    uint32_t u[2] = {cp, 0};
    int nu = 1;
    if (cp >= 0x10000) {
      u[0] = 0xD800 + ((cp - 0x10000) >> 10);
      u[1] = 0xDC00 + ((cp - 0x10000) & 0x3FF);
      nu = 2;
    }
    for (int j = 0; j < nu; j++) {
      b[k++] = (HPDF_BYTE)(u[j] >> 8);
      b[k++] = (HPDF_BYTE)u[j];
    }
  }
  HPDF_Binary s = HPDF_Binary_New(mm, b, (HPDF_UINT)k);
  free(b);
  return s;
}
