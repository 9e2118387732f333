// SPDX-License-Identifier: Apache-2.0
/* image.h - figures: PNG and JPEG files checked, decoded and prepared for
 * PDF/A-1 before layout.
 *
 * Every image is decoded completely when the document is laid out, so that
 * a damaged file is an error of `banshi validate` and never a broken page.
 * PNG (libpng): palettes, 16-bit samples and transparency are converted;
 * any alpha is flattened onto white, because PDF/A-1 forbids transparency
 * (ISO 19005-1 6.4).  JPEG (libjpeg): grey and colour files are embedded as
 * they are (DCT passes through untouched); CMYK files, which would need a
 * CMYK output intent, are converted to RGB.  libjpeg is loaded at the first
 * JPEG file (dynlib.h): documents without one never map it.
 *
 * Layer 6 (fonts, template, image): docs/architecture.md. */
#ifndef BS_IMAGE_H
#define BS_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

/* Limits that protect against hostile files (docs/hostile-input.md):
 * one image's pixels and file size; the pixels decoded for one document,
 * each distinct image counted once (a small file can unpack to 64
 * megapixels: a document naming many such files stops at this budget);
 * and the longest side kept after decoding.  An image larger than that is
 * reduced by a whole factor with a box filter while it is decoded: 4096
 * pixels are 600 dpi over 173 mm, more than the type area's width and a
 * figure's greatest height, so the printed page loses nothing. */
#define BS_IMAGE_MAX_PIXELS ((uint64_t)64 * 1024 * 1024) /* 64 megapixels */
#define BS_IMAGE_MAX_BYTES ((size_t)64 * 1024 * 1024)
#define BS_IMAGE_MAX_DOC_PIXELS ((uint64_t)256 * 1024 * 1024)
#define BS_IMAGE_MAX_SIDE 4096u

typedef enum bs_image_kind {
  BS_IMAGE_PIXELS = 1, /* decoded 8-bit samples in `data` */
  BS_IMAGE_JPEG = 2,   /* the JPEG file itself in `data` */
} bs_image_kind;

typedef struct bs_picture {
  bs_image_kind kind;
  uint32_t width, height; /* pixels in data */
  uint32_t src_width, src_height; /* pixels of the file (sizes the figure) */
  int components;         /* 1 grey, 3 RGB */
  double dpi_x, dpi_y;    /* resolution recorded in the file, 0 if none */
  const unsigned char *data; /* samples (rows top to bottom) or JPEG bytes */
  size_t size;            /* bytes in data */
} bs_picture;

typedef enum bs_picture_error {
  BS_PIC_OK = 0,
  BS_PIC_IO,        /* cannot read: detail is strerror */
  BS_PIC_FORMAT,    /* neither PNG nor JPEG */
  BS_PIC_TOO_LARGE, /* over the pixel or byte limit */
  BS_PIC_PNG,       /* damaged PNG: detail from libpng */
  BS_PIC_JPEG,      /* damaged JPEG: detail from libjpeg */
  BS_PIC_LIBRARY,   /* libjpeg (BS_SONAME_JPEG, loaded at the first JPEG
                       file: dynlib.h) cannot be loaded: detail is why */
} bs_picture_error;

/* The images of one document: each distinct file content (SHA-256) is
 * decoded once, whatever its name and however often it is used, and the
 * pixels decoded are counted against BS_IMAGE_MAX_DOC_PIXELS.  Zero it
 * before the first use; it lives in the document's arena. */
typedef struct bs_picture_cache {
  struct bs_picture_cached *head;
  uint64_t pixels; /* pixels of the files decoded so far */
} bs_picture_cache;

/* Read and decode the image at `path`, with the pixels or bytes in
 * `arena`; *out points to the picture, the same one for every use of the
 * same content within `cache` (NULL: no sharing, no document budget).
 * Returns BS_PIC_OK, or an error with the library's detail (static or
 * arena string) in *detail. */
bs_picture_error bs_picture_load(bs_arena *arena, bs_picture_cache *cache,
                                 const char *path, const bs_picture **out,
                                 const char **detail);

#endif
