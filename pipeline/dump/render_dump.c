// SPDX-License-Identifier: Apache-2.0
/* render_dump.c - the layout as text, one line per page, run, rule and
 * image: the oracle of the layout tests (MuPDF's trace device).
 *
 * Layer 10 (renderers): docs/architecture.md. */
#include "render.h"

#include <string.h>

#include "util.h"

typedef struct S_dump {
  FILE *out;
} S_dump;

static int
S_begin_page(void *ctx, const bs_page *page, int index)
{
  S_dump *d = ctx;
  char w[32], h[32];
  bs_fmt_mpt(page->w, w);
  bs_fmt_mpt(page->h, h);
  fprintf(d->out, "page %d number=%d size=%sx%s\n", index + 1, page->number,
          w, h);
  return 0;
}

static int
S_glyph_run(void *ctx, const bs_run *run)
{
  S_dump *d = ctx;
  char x[32], y[32], x1[32], sz[32];
  bs_fmt_mpt(run->x, x);
  bs_fmt_mpt(run->y, y);
  bs_fmt_mpt((int64_t)run->x + run->width, x1);
  bs_fmt_mpt(run->size, sz);
  fprintf(d->out, "  run x=%s..%s y=%s size=%s font=%s \"", x, x1, y, sz,
          run->font->label ? run->font->label : run->font->psname);
  for (uint32_t i = 0; i < run->n; i++) {
    char u[8];
    uint32_t cp = run->glyphs[i].cp;
    if (cp == '"' || cp == '\\')
      fputc('\\', d->out);
    u[bs_utf8_encode(cp, u)] = '\0';
    fputs(u, d->out);
  }
  fputs("\"\n", d->out);
  /* each glyph's pen position from the run's x (compressed punctuation,
   * justification): what a writer of another format must reproduce */
  fputs("    at", d->out);
  for (uint32_t i = 0; i < run->n; i++) {
    char gx[32];
    bs_fmt_mpt(run->glyphs[i].x, gx);
    fputs(i ? "," : " ", d->out);
    fputs(gx, d->out);
  }
  fputc('\n', d->out);
  return 0;
}

static int
S_rule(void *ctx, const bs_rule *r)
{
  S_dump *d = ctx;
  char a[32], b[32], c[32], e[32], w[32];
  bs_fmt_mpt(r->x0, a);
  bs_fmt_mpt(r->y0, b);
  bs_fmt_mpt(r->x1, c);
  bs_fmt_mpt(r->y1, e);
  bs_fmt_mpt(r->width, w);
  fprintf(d->out, "  rule %s,%s %s,%s width=%s\n", a, b, c, e, w);
  return 0;
}

static int
S_image(void *ctx, const bs_image *im)
{
  S_dump *d = ctx;
  char x[32], y[32], w[32], h[32];
  bs_fmt_mpt(im->x, x);
  bs_fmt_mpt(im->y, y);
  bs_fmt_mpt(im->w, w);
  bs_fmt_mpt(im->h, h);
  const char *base = strrchr(im->path, '/');
  fprintf(d->out, "  image x=%s y=%s w=%s h=%s file=%s\n", x, y, w, h,
          base ? base + 1 : im->path);
  return 0;
}

static int
S_end_page(void *ctx)
{
  (void)ctx;
  return 0;
}

int
bs_render_dump(const bs_layout *l, FILE *out)
{
  S_dump d = {out};
  bs_renderer r = {&d, S_begin_page, S_glyph_run, S_rule, S_image,
                   S_end_page, NULL};
  for (int i = 0; i < l->noutline; i++) {
    char y[32];
    bs_fmt_mpt(l->outline[i].y, y);
    fprintf(out, "outline level=%d page=%d y=%s \"%s\"\n", l->outline[i].level,
            l->outline[i].page + 1, y, l->outline[i].title);
  }
  bs_render(l, &r);
  return ferror(out) ? -1 : 0;
}
