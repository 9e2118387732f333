// SPDX-License-Identifier: Apache-2.0
/* image.c - PNG and JPEG decoding for figures; see image.h.
 * Layer 6 (fonts, template, image): docs/architecture.md. */
#include "diag.h"
#include "fsio.h"
#include "image.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <nettle/sha2.h>
#include <png.h>

#include "dynlib.h"
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

/* The whole factor by which an image of w x h is reduced so that no side
 * exceeds BS_IMAGE_MAX_SIDE (1: kept as it is). */
static uint32_t
S_factor(uint64_t w, uint64_t h)
{
  uint64_t side = w > h ? w : h;
  return (uint32_t)((side + BS_IMAGE_MAX_SIDE - 1) / BS_IMAGE_MAX_SIDE);
}

/* A box filter fed one decoded RGBA row at a time: the rows of one band of
 * `f` rows are flattened onto white and summed per output pixel, then
 * written as an output row of `comps` components. */
typedef struct S_box {
  uint32_t w, f, ow, comps;
  uint32_t *sum; /* ow * comps */
  uint32_t rows; /* rows summed in the current band */
  unsigned char *out;
  size_t out_row; /* next output row */
} S_box;

static void
S_box_emit(S_box *b)
{
  unsigned char *o = b->out + b->out_row * b->ow * b->comps;
  for (uint32_t ox = 0; ox < b->ow; ox++) {
    uint32_t cols = ox + 1 < b->ow ? b->f : b->w - ox * b->f;
    uint32_t n = cols * b->rows;
    for (uint32_t c = 0; c < b->comps; c++) {
      uint32_t *sp = &b->sum[ox * b->comps + c];
      o[ox * b->comps + c] = (unsigned char)((*sp + n / 2) / n);
      *sp = 0;
    }
  }
  b->out_row++;
  b->rows = 0;
}

static void
S_box_row(S_box *b, const unsigned char *rgba)
{
  for (uint32_t x = 0; x < b->w; x++) {
    const unsigned char *s = rgba + (size_t)x * 4;
    unsigned a = s[3];
    uint32_t *sp = &b->sum[(x / b->f) * b->comps];
    /* flatten onto white: c' = c * a + 255 * (1 - a) */
    for (uint32_t c = 0; c < b->comps; c++)
      sp[c] += (s[c] * a + 255u * (255u - a) + 127u) / 255u;
  }
  if (++b->rows == b->f)
    S_box_emit(b);
}

static bs_picture_error
S_png(bs_arena *arena, const unsigned char *buf, size_t len, uint64_t budget,
      bs_picture *out, const char **why)
{
  S_png_err err;
  S_png_src src = {buf, len, 0};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &err,
                                           S_png_error, S_png_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  unsigned char *volatile rgba = NULL; /* an interlaced image, whole */
  png_bytep *volatile rows = NULL;
  unsigned char *volatile line = NULL; /* one row of the others */
  uint32_t *volatile sum = NULL;
  if (!png || !info) {
    png_destroy_read_struct(&png, &info, NULL);
    *why = "out of memory";
    return BS_PIC_PNG;
  }
  if (setjmp(err.jb)) {
    free(rgba);
    free(rows);
    free(line);
    free(sum);
    png_destroy_read_struct(&png, &info, NULL);
    *why = bs_arena_strdup(arena, err.msg);
    return BS_PIC_PNG;
  }
  png_set_read_fn(png, &src, S_png_read);
  png_set_user_limits(png, 65535, 65535);
  png_read_info(png, info);
  png_uint_32 w = png_get_image_width(png, info);
  png_uint_32 h = png_get_image_height(png, info);
  if ((uint64_t)w * h > BS_IMAGE_MAX_PIXELS || (uint64_t)w * h > budget) {
    png_destroy_read_struct(&png, &info, NULL);
    *why = (uint64_t)w * h > BS_IMAGE_MAX_PIXELS
               ? "64 megapixels"
               : "256 megapixels per document";
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
  int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != (size_t)w * 4)
    png_error(png, "unsupported pixel layout");
  S_box box = {.w = w, .f = S_factor(w, h), .comps = grey ? 1 : 3};
  box.ow = (w + box.f - 1) / box.f;
  uint32_t oh = (h + box.f - 1) / box.f;
  sum = calloc((size_t)box.ow * box.comps, sizeof *sum);
  if (!sum)
    png_error(png, "out of memory");
  box.sum = sum;
  box.out = bs_arena_alloc(arena, (size_t)box.ow * oh * box.comps);
  if (passes > 1) {
    /* Adam7 fills every row in each pass: the whole image first */
    rgba = malloc((size_t)w * h * 4);
    rows = malloc(sizeof(png_bytep) * (h ? h : 1));
    if (!rgba || !rows)
      png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < h; y++)
      rows[y] = rgba + (size_t)y * w * 4;
    png_read_image(png, rows);
    for (png_uint_32 y = 0; y < h; y++)
      S_box_row(&box, rows[y]);
  } else {
    /* row by row: memory of one row, whatever the height */
    line = malloc((size_t)w * 4);
    if (!line)
      png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < h; y++) {
      png_read_row(png, line, NULL);
      S_box_row(&box, line);
    }
  }
  if (box.rows)
    S_box_emit(&box);
  png_read_end(png, NULL);
  png_uint_32 rx = 0, ry = 0;
  int unit = 0;
  if (png_get_pHYs(png, info, &rx, &ry, &unit) && unit == PNG_RESOLUTION_METER) {
    out->dpi_x = rx * 0.0254;
    out->dpi_y = ry * 0.0254;
  }
  png_destroy_read_struct(&png, &info, NULL);
  free(rows);
  free(rgba);
  free(line);
  free(sum);
  out->kind = BS_IMAGE_PIXELS;
  out->width = box.ow;
  out->height = oh;
  out->src_width = w;
  out->src_height = h;
  out->components = (int)box.comps;
  out->data = box.out;
  out->size = (size_t)box.ow * oh * box.comps;
  return BS_PIC_OK;
}

/* ------------------------------------------------------------------ */
/* JPEG                                                                 */

/* libjpeg, loaded at the first JPEG figure (dynlib.h): the functions
 * S_jpeg calls, with the header's prototypes.  jpeg_create_decompress is
 * a macro over jpeg_CreateDecompress. */
typedef struct S_jpeg_fns {
  __typeof__(jpeg_std_error) *jpeg_std_error;
  __typeof__(jpeg_CreateDecompress) *jpeg_CreateDecompress;
  __typeof__(jpeg_destroy_decompress) *jpeg_destroy_decompress;
  __typeof__(jpeg_mem_src) *jpeg_mem_src;
  __typeof__(jpeg_read_header) *jpeg_read_header;
  __typeof__(jpeg_start_decompress) *jpeg_start_decompress;
  __typeof__(jpeg_read_scanlines) *jpeg_read_scanlines;
  __typeof__(jpeg_finish_decompress) *jpeg_finish_decompress;
} S_jpeg_fns;

static S_jpeg_fns S_jl;
static const bs_dynsym S_jpeg_syms[] = {
    BS_DYNSYM(S_jpeg_fns, jpeg_std_error),
    BS_DYNSYM(S_jpeg_fns, jpeg_CreateDecompress),
    BS_DYNSYM(S_jpeg_fns, jpeg_destroy_decompress),
    BS_DYNSYM(S_jpeg_fns, jpeg_mem_src),
    BS_DYNSYM(S_jpeg_fns, jpeg_read_header),
    BS_DYNSYM(S_jpeg_fns, jpeg_start_decompress),
    BS_DYNSYM(S_jpeg_fns, jpeg_read_scanlines),
    BS_DYNSYM(S_jpeg_fns, jpeg_finish_decompress),
};
static bs_dynlib S_jpeg_lib =
    BS_DYNLIB(BS_SONAME_JPEG, S_jpeg_syms, &S_jl);

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
S_jpeg(bs_arena *arena, const unsigned char *buf, size_t size, uint64_t budget,
       bs_picture *out, const char **why)
{
  if (!bs_dynlib_load(&S_jpeg_lib)) {
    *why = S_jpeg_lib.why;
    return BS_PIC_LIBRARY;
  }
  volatile size_t len = size; /* read after setjmp */
  struct jpeg_decompress_struct ci;
  S_jpeg_err err;
  memset(&ci, 0, sizeof ci);
  ci.err = S_jl.jpeg_std_error(&err.pub);
  err.pub.error_exit = S_jpeg_exit;
  err.pub.emit_message = S_jpeg_emit;
  unsigned char *volatile row = NULL;
  unsigned char *volatile px = NULL;
  if (setjmp(err.jb)) {
    free(row);
    S_jl.jpeg_destroy_decompress(&ci);
    *why = bs_arena_strdup(arena, err.msg);
    return BS_PIC_JPEG;
  }
  S_jl.jpeg_CreateDecompress(&ci, JPEG_LIB_VERSION, sizeof ci);
  S_jl.jpeg_mem_src(&ci, buf, (unsigned long)len);
  S_jl.jpeg_read_header(&ci, TRUE);
  uint64_t npx = (uint64_t)ci.image_width * ci.image_height;
  if (npx > BS_IMAGE_MAX_PIXELS || npx > budget) {
    S_jl.jpeg_destroy_decompress(&ci);
    *why = npx > BS_IMAGE_MAX_PIXELS ? "64 megapixels"
                                     : "256 megapixels per document";
    return BS_PIC_TOO_LARGE;
  }
  out->src_width = ci.image_width;
  out->src_height = ci.image_height;
  bool cmyk = ci.jpeg_color_space == JCS_CMYK || ci.jpeg_color_space == JCS_YCCK;
  bool adobe_inverted = ci.saw_Adobe_marker;
  if (ci.density_unit == 1) {
    out->dpi_x = ci.X_density;
    out->dpi_y = ci.Y_density;
  } else if (ci.density_unit == 2) {
    out->dpi_x = ci.X_density * 2.54;
    out->dpi_y = ci.Y_density * 2.54;
  }
  if (cmyk) {
    /* converted, so reduced as PNG files are (libjpeg scales by 1/2, 1/4
     * or 1/8 while decoding); other files pass through untouched */
    ci.out_color_space = JCS_CMYK;
    uint32_t f = S_factor(ci.image_width, ci.image_height);
    ci.scale_num = 1;
    ci.scale_denom = f > 4 ? 8 : f > 2 ? 4 : f > 1 ? 2 : 1;
  }
  S_jl.jpeg_start_decompress(&ci);
  int comps = ci.output_components;
  size_t stride = (size_t)ci.output_width * (size_t)comps;
  row = malloc(stride ? stride : 1);
  if (cmyk)
    px = bs_arena_alloc(arena, (size_t)ci.output_width * ci.output_height * 3);
  /* decode every line: a damaged file fails here, not in a viewer */
  while (ci.output_scanline < ci.output_height) {
    JSAMPROW r = (JSAMPROW)row;
    size_t y = ci.output_scanline;
    S_jl.jpeg_read_scanlines(&ci, &r, 1);
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
  S_jl.jpeg_finish_decompress(&ci);
  out->width = ci.output_width;
  out->height = ci.output_height;
  S_jl.jpeg_destroy_decompress(&ci);
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

/* One content seen in this document, with the outcome of its decoding. */
struct bs_picture_cached {
  struct bs_picture_cached *next;
  uint8_t sha[SHA256_DIGEST_SIZE];
  bs_picture_error error;
  const char *why;
  bs_picture pic;
};

static bs_picture_error
S_decode(bs_arena *arena, const unsigned char *buf, size_t len,
         uint64_t budget, bs_picture *out, const char **why)
{
  if (len >= 8 && memcmp(buf, "\x89PNG\r\n\x1a\n", 8) == 0)
    return S_png(arena, buf, len, budget, out, why);
  if (len >= 3 && buf[0] == 0xFF && buf[1] == 0xD8 && buf[2] == 0xFF)
    return S_jpeg(arena, buf, len, budget, out, why);
  return BS_PIC_FORMAT;
}

bs_picture_error
bs_picture_load(bs_arena *arena, bs_picture_cache *cache, const char *path,
                const bs_picture **out, const char **why)
{
  *out = NULL;
  size_t len = 0;
  unsigned char *buf = bs_read_file(path, BS_IMAGE_MAX_BYTES, &len);
  *why = "";
  if (!buf) {
    if (errno == EFBIG) {
      *why = "64 MiB";
      return BS_PIC_TOO_LARGE;
    }
    *why = bs_io_strerror(errno, BS_LANG_EN);
    return BS_PIC_IO;
  }
  struct bs_picture_cached *c = bs_arena_alloc(arena, sizeof *c);
  memset(c, 0, sizeof *c);
  if (cache) {
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, len, buf);
    sha256_digest(&ctx, sizeof c->sha, c->sha);
    for (struct bs_picture_cached *e = cache->head; e; e = e->next)
      if (memcmp(e->sha, c->sha, sizeof c->sha) == 0) {
        free(buf);
        *why = e->why;
        *out = e->error == BS_PIC_OK ? &e->pic : NULL;
        return e->error;
      }
  }
  uint64_t budget = BS_IMAGE_MAX_DOC_PIXELS;
  if (cache)
    budget = cache->pixels < budget ? budget - cache->pixels : 0;
  c->error = S_decode(arena, buf, len, budget, &c->pic, why);
  free(buf);
  c->why = *why;
  if (cache) {
    if (c->error == BS_PIC_OK)
      cache->pixels += (uint64_t)c->pic.src_width * c->pic.src_height;
    c->next = cache->head;
    cache->head = c;
  }
  if (c->error == BS_PIC_OK)
    *out = &c->pic;
  return c->error;
}
