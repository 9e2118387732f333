// SPDX-License-Identifier: Apache-2.0
/* image.c - PNG and JPEG decoding for figures; see image.h.
 * Layer 6 (fonts, template, image): docs/architecture.md. */
#include "image.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

#include "util.h"

/* ------------------------------------------------------------------ */
/* PNG                                                                  */

typedef struct S_png_src {
  const unsigned char *p;
  size_t n, off;
} S_png_src;

typedef struct S_png_err {
  jmp_buf jb;
  char msg[160];
} S_png_err;

static void
S_png_read(png_structp png, png_bytep out, png_size_t len)
{
  S_png_src *s = png_get_io_ptr(png);
  if (s->n - s->off < len)
    png_error(png, "the file ends too early (truncated)");
  memcpy(out, s->p + s->off, len);
  s->off += len;
}

static void
S_png_error(png_structp png, png_const_charp msg)
{
  S_png_err *e = png_get_error_ptr(png);
  snprintf(e->msg, sizeof e->msg, "%s", msg);
  longjmp(e->jb, 1);
}

static void
S_png_warning(png_structp png, png_const_charp msg)
{
  (void)png;
  (void)msg; /* benign (e.g. an unknown chunk): the image still decodes */
}

static bs_picture_error
S_png(bs_arena *arena, const unsigned char *buf, size_t len, bs_picture *out,
      const char **why)
{
  S_png_err err;
  S_png_src src = {buf, len, 0};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &err,
                                           S_png_error, S_png_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  unsigned char *volatile rgba = NULL;
  png_bytep *volatile rows = NULL;
  if (!png || !info) {
    png_destroy_read_struct(&png, &info, NULL);
    *why = "out of memory";
    return BS_PIC_PNG;
  }
  if (setjmp(err.jb)) {
    free(rgba);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    *why = bs_arena_strdup(arena, err.msg);
    return BS_PIC_PNG;
  }
  png_set_read_fn(png, &src, S_png_read);
  png_set_user_limits(png, 65535, 65535);
  png_read_info(png, info);
  png_uint_32 w = png_get_image_width(png, info);
  png_uint_32 h = png_get_image_height(png, info);
  if ((uint64_t)w * h > BS_IMAGE_MAX_PIXELS) {
    png_destroy_read_struct(&png, &info, NULL);
    *why = "64 megapixels";
    return BS_PIC_TOO_LARGE;
  }
  int ct = png_get_color_type(png, info);
  bool grey = !(ct & PNG_COLOR_MASK_COLOR);
  /* everything to 8-bit grey+alpha or RGBA */
  png_set_expand(png);
  png_set_strip_16(png);
  if (!(ct & PNG_COLOR_MASK_ALPHA) && !png_get_valid(png, info, PNG_INFO_tRNS))
    png_set_add_alpha(png, 0xFF, PNG_FILLER_AFTER);
  else if (png_get_valid(png, info, PNG_INFO_tRNS))
    png_set_tRNS_to_alpha(png);
  if (grey)
    png_set_gray_to_rgb(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != (size_t)w * 4)
    png_error(png, "unsupported pixel layout");
  rgba = malloc((size_t)w * h * 4);
  rows = malloc(sizeof(png_bytep) * (h ? h : 1));
  if (!rgba || !rows)
    png_error(png, "out of memory");
  for (png_uint_32 y = 0; y < h; y++)
    rows[y] = rgba + (size_t)y * w * 4;
  png_read_image(png, rows);
  png_read_end(png, NULL);
  png_uint_32 rx = 0, ry = 0;
  int unit = 0;
  if (png_get_pHYs(png, info, &rx, &ry, &unit) && unit == PNG_RESOLUTION_METER) {
    out->dpi_x = rx * 0.0254;
    out->dpi_y = ry * 0.0254;
  }
  png_destroy_read_struct(&png, &info, NULL);
  free(rows);
  /* flatten onto white: c' = c * a + 255 * (1 - a) */
  int comps = grey ? 1 : 3;
  unsigned char *px = bs_arena_alloc(arena, (size_t)w * h * (size_t)comps);
  for (size_t i = 0; i < (size_t)w * h; i++) {
    const unsigned char *s = rgba + i * 4;
    unsigned a = s[3];
    for (int c = 0; c < comps; c++)
      px[i * (size_t)comps + (size_t)c] =
          (unsigned char)((s[c] * a + 255u * (255u - a) + 127u) / 255u);
  }
  free(rgba);
  out->kind = BS_IMAGE_PIXELS;
  out->width = w;
  out->height = h;
  out->components = comps;
  out->data = px;
  out->size = (size_t)w * h * (size_t)comps;
  return BS_PIC_OK;
}

/* ------------------------------------------------------------------ */
/* JPEG                                                                 */

typedef struct S_jpeg_err {
  struct jpeg_error_mgr pub;
  jmp_buf jb;
  char msg[JMSG_LENGTH_MAX];
} S_jpeg_err;

static void
S_jpeg_exit(j_common_ptr cinfo)
{
  S_jpeg_err *e = (S_jpeg_err *)cinfo->err;
  (*cinfo->err->format_message)(cinfo, e->msg);
  longjmp(e->jb, 1);
}

static void
S_jpeg_emit(j_common_ptr cinfo, int level)
{
  /* A corrupt-data warning (level -1) means the picture would come out
   * damaged: treat it as an error. */
  if (level < 0)
    S_jpeg_exit(cinfo);
}

static bs_picture_error
S_jpeg(bs_arena *arena, const unsigned char *buf, size_t size,
       bs_picture *out, const char **why)
{
  volatile size_t len = size; /* read after setjmp */
  struct jpeg_decompress_struct ci;
  S_jpeg_err err;
  memset(&ci, 0, sizeof ci);
  ci.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = S_jpeg_exit;
  err.pub.emit_message = S_jpeg_emit;
  unsigned char *volatile row = NULL;
  unsigned char *volatile px = NULL;
  if (setjmp(err.jb)) {
    free(row);
    jpeg_destroy_decompress(&ci);
    *why = bs_arena_strdup(arena, err.msg);
    return BS_PIC_JPEG;
  }
  jpeg_create_decompress(&ci);
  jpeg_mem_src(&ci, buf, (unsigned long)len);
  jpeg_read_header(&ci, TRUE);
  if ((uint64_t)ci.image_width * ci.image_height > BS_IMAGE_MAX_PIXELS) {
    jpeg_destroy_decompress(&ci);
    *why = "64 megapixels";
    return BS_PIC_TOO_LARGE;
  }
  bool cmyk = ci.jpeg_color_space == JCS_CMYK || ci.jpeg_color_space == JCS_YCCK;
  bool adobe_inverted = ci.saw_Adobe_marker;
  if (ci.density_unit == 1) {
    out->dpi_x = ci.X_density;
    out->dpi_y = ci.Y_density;
  } else if (ci.density_unit == 2) {
    out->dpi_x = ci.X_density * 2.54;
    out->dpi_y = ci.Y_density * 2.54;
  }
  if (cmyk)
    ci.out_color_space = JCS_CMYK;
  jpeg_start_decompress(&ci);
  int comps = ci.output_components;
  size_t stride = (size_t)ci.output_width * (size_t)comps;
  row = malloc(stride ? stride : 1);
  if (cmyk)
    px = bs_arena_alloc(arena, (size_t)ci.output_width * ci.output_height * 3);
  /* decode every line: a damaged file fails here, not in a viewer */
  while (ci.output_scanline < ci.output_height) {
    JSAMPROW r = (JSAMPROW)row;
    size_t y = ci.output_scanline;
    jpeg_read_scanlines(&ci, &r, 1);
    if (cmyk) {
      for (size_t x = 0; x < ci.output_width; x++) {
        unsigned c = row[x * 4], m = row[x * 4 + 1], yy = row[x * 4 + 2],
                 k = row[x * 4 + 3];
        if (!adobe_inverted) {
          c = 255 - c;
          m = 255 - m;
          yy = 255 - yy;
          k = 255 - k;
        }
        /* inverted CMYK (Adobe): R = C * K / 255 */
        unsigned char *o = px + (y * ci.output_width + x) * 3;
        o[0] = (unsigned char)(c * k / 255);
        o[1] = (unsigned char)(m * k / 255);
        o[2] = (unsigned char)(yy * k / 255);
      }
    }
  }
  jpeg_finish_decompress(&ci);
  out->width = ci.output_width;
  out->height = ci.output_height;
  jpeg_destroy_decompress(&ci);
  free(row);
  if (cmyk) {
    out->kind = BS_IMAGE_PIXELS;
    out->components = 3;
    out->data = px;
    out->size = (size_t)out->width * out->height * 3;
  } else {
    size_t n = len;
    unsigned char *copy = bs_arena_alloc(arena, n);
    memcpy(copy, buf, n);
    out->kind = BS_IMAGE_JPEG;
    out->components = comps;
    out->data = copy;
    out->size = n;
  }
  return BS_PIC_OK;
}

bs_picture_error
bs_picture_load(bs_arena *arena, const char *path, bs_picture *out,
                const char **why)
{
  memset(out, 0, sizeof *out);
  size_t len = 0;
  unsigned char *buf = bs_read_file(path, BS_IMAGE_MAX_BYTES, &len);
  *why = "";
  if (!buf) {
    if (errno == EFBIG) {
      *why = "64 MiB";
      return BS_PIC_TOO_LARGE;
    }
    *why = strerror(errno);
    return BS_PIC_IO;
  }
  bs_picture_error ok;
  if (len >= 8 && memcmp(buf, "\x89PNG\r\n\x1a\n", 8) == 0)
    ok = S_png(arena, buf, len, out, why);
  else if (len >= 3 && buf[0] == 0xFF && buf[1] == 0xD8 && buf[2] == 0xFF)
    ok = S_jpeg(arena, buf, len, out, why);
  else
    ok = BS_PIC_FORMAT;
  free(buf);
  return ok;
}
