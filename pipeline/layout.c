// SPDX-License-Identifier: Apache-2.0
/* layout.c - the document tree into pages.
 *
 * Design.  Layout runs in two passes.  The first walks the tree and turns
 * every block into a flow of items: lines (from inline.c, already broken
 * and justified, each knowing whether it must stay on the page of the next
 * line), vertical spaces, forced page breaks and tables (sized by table.c).
 * The second pass, pagination, cuts the flow into pages of the template's
 * type area: a line that does not fit starts a new page; a chain of lines
 * that must stay together (a heading and the first lines of its paragraph,
 * the two first and two last lines of a paragraph, the closing block) moves
 * to the next page as a whole when it does not fit; spaces vanish at the top
 * of a page; tables split themselves row by row.  Page numbers come last,
 * when every page exists.  The alternative, laying out page by page while
 * walking the tree, couples keep rules to tree structure and was rejected.
 *
 * GB/T 9704-2012: every paragraph and heading is indented two characters
 * (7.3.3), the title is centred (7.3.1), the signature and date are set as
 * 7.3.5.2 describes for documents without a seal, and page numbers as 7.5.
 *
 * Layer 9 (layout): docs/architecture.md. */
#include "page.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "util.h"

typedef enum {
  S_F_LINE,
  S_F_SPACE,
  S_F_BREAK,
  S_F_TABLE,
  S_F_IMAGE,
} S_fkind;

typedef struct S_flow {
  S_fkind kind;
  bs_line line;             /* S_F_LINE */
  int32_t space;            /* S_F_SPACE */
  bs_table_layout *table;   /* S_F_TABLE */
  bs_image image;           /* S_F_IMAGE (x relative to the type area);
                               its height is also in `space` */
  const char *outline;      /* S_F_LINE: bookmark starting at this line */
  int outline_level;
  int32_t sid;              /* S_F_IMAGE: its structure element */
} S_flow;

typedef struct S_layout {
  bs_lctx lc;
  bs_vec flow;      /* S_flow */
  bs_vec lines;     /* scratch: bs_line from the paragraph engine */
  bs_vec pages;     /* bs_page */
  bs_vec outline;   /* bs_outline */
  int counters[4];  /* heading numbers per level */
  int32_t skip_to;  /* y of the next line, set after a table (0: none) */
  bs_picture_cache pics; /* each image decoded once, the document's budget */
  int32_t sid;      /* structure element of the lines emitted next */
  int32_t parent;   /* structure element that takes the next blocks */
} S_layout;

/* ------------------------------------------------------------------ */
/* Helpers                                                              */

static void
S_cn_number(int n, char *out, size_t sz)
{
  static const char *d[] = {"零", "一", "二", "三", "四",
                            "五", "六", "七", "八", "九"};
  if (n <= 0 || n > 999) {
    snprintf(out, sz, "%d", n);
    return;
  }
  out[0] = '\0';
  int h = n / 100, t = (n / 10) % 10, u = n % 10;
  size_t k = 0;
#define S_CAT(s) k += (size_t)snprintf(out + k, sz - k, "%s", s)
  if (h) {
    S_CAT(d[h]);
    S_CAT("百");
    if (t == 0 && u)
      S_CAT("零");
  }
  if (t) {
    if (!(t == 1 && !h))
      S_CAT(d[t]);
    S_CAT("十");
  }
  if (u)
    S_CAT(d[u]);
#undef S_CAT
}

/* Expand a number format: {cn} Chinese numeral, {n} Arabic numeral. */
static char *
S_format_number(bs_arena *a, const char *fmt, int n)
{
  char buf[256], num[64];
  size_t k = 0;
  for (const char *p = fmt; *p && k + 1 < sizeof buf;) {
    if (strncmp(p, "{cn}", 4) == 0) {
      S_cn_number(n, num, sizeof num);
      k += (size_t)snprintf(buf + k, sizeof buf - k, "%s", num);
      p += 4;
    } else if (strncmp(p, "{n}", 3) == 0) {
      k += (size_t)snprintf(buf + k, sizeof buf - k, "%d", n);
      p += 3;
    } else {
      buf[k++] = *p++;
    }
  }
  buf[k < sizeof buf ? k : sizeof buf - 1] = '\0';
  return bs_arena_strdup(a, buf);
}

/* The plain text of an inline subtree. */
static void
S_plain(const bs_node *n, char *buf, size_t sz, size_t *k)
{
  for (const bs_node *c = n->first; c; c = c->next) {
    if (c->type == BS_NODE_TEXT) {
      size_t l = c->as.text.len;
      if (*k + l >= sz) {
        l = sz - *k - 1;
        /* never cut a character in two: bookmarks must stay UTF-8 */
        while (l > 0 && ((unsigned char)c->as.text.data[l] & 0xC0) == 0x80)
          l--;
      }
      memcpy(buf + *k, c->as.text.data, l);
      *k += l;
      buf[*k] = '\0';
    } else {
      S_plain(c, buf, sz, k);
    }
  }
}

static S_flow *
S_push(S_layout *L, S_fkind kind)
{
  S_flow f;
  memset(&f, 0, sizeof f);
  f.kind = kind;
  return bs_vec_push(&L->flow, &f);
}

static void
S_space(S_layout *L, int32_t h)
{
  if (h > 0)
    S_push(L, S_F_SPACE)->space = h;
}

/* Move the lines collected in L->lines into the flow. */
static S_flow *
S_emit_lines(S_layout *L, bool keep_all, const char *outline, int level)
{
  bs_line *ls = L->lines.data;
  S_flow *first = NULL;
  size_t n = L->lines.len;
  for (size_t i = 0; i < n; i++) {
    S_flow *f = S_push(L, S_F_LINE);
    f->line = ls[i];
    f->line.sid = L->sid;
    /* orphans and widows: the first two and last two lines of a paragraph
     * stay together */
    if (keep_all)
      f->line.keep_with_next = true;
    else if ((i == 0 && n > 1) || (n > 2 && i == n - 2))
      f->line.keep_with_next = true;
    if (i == 0) {
      f->outline = outline;
      f->outline_level = level;
      first = f;
    }
  }
  L->lines.len = 0;
  return first;
}

static int32_t
S_chars(const bs_template *t, const bs_style *st, int32_t thousandths)
{
  int32_t unit = st->grid && t->char_pitch > 0
                     ? t->char_pitch * st->size / t->styles[BS_STYLE_BODY].size
                     : st->size;
  return (int32_t)((int64_t)unit * thousandths / 1000);
}

static bs_para_geom
S_geom(S_layout *L, const bs_style *st, bs_align align, int indent_chars)
{
  const bs_template *t = L->lc.tpl;
  bs_para_geom g;
  memset(&g, 0, sizeof g);
  g.width = bs_template_text_w(t);
  g.left = S_chars(t, st, st->left);
  g.first_indent = indent_chars >= 0 ? S_chars(t, st, indent_chars * 1000)
                                     : S_chars(t, st, st->indent);
  g.align = align != BS_ALIGN_DEFAULT ? align
            : st->align != BS_ALIGN_DEFAULT ? st->align
                                            : BS_ALIGN_JUSTIFY;
  g.leading = st->leading ? st->leading : t->line_pitch;
  if (g.leading < st->size)
    g.leading = st->size;
  return g;
}

/* ------------------------------------------------------------------ */
/* Blocks                                                               */

static void S_blocks(S_layout *L, const bs_node *parent);

static void
S_title(S_layout *L)
{
  const bs_meta *m = &L->lc.doc->meta;
  if (!m->title || !*m->title)
    return;
  const bs_style *st = &L->lc.tpl->styles[BS_STYLE_TITLE];
  bs_para_begin(&L->lc);
  bs_para_text(&L->lc, m->title, strlen(m->title), st, NULL, m->title_line,
               m->title_col);
  bs_para_geom g = S_geom(L, st, BS_ALIGN_CENTER, 0);
  g.balance = true;
  g.title = true;
  g.issuer = m->issuer;
  bs_para_layout(&L->lc, &g, &L->lines);
  S_space(L, st->space_before);
  L->sid = bs_struct_add(&L->lc, BS_SE_TITLE, L->parent);
  S_emit_lines(L, true, NULL, 0);
  /* the title never ends a page on its own */
  S_flow *last = (S_flow *)L->flow.data + L->flow.len - 1;
  last->line.keep_with_next = true;
  S_space(L, st->space_after);
}

static const char *
S_heading_number(S_layout *L, const bs_node *sec, const bs_style *st,
                 int level)
{
  if (sec->as.section.number)
    return sec->as.section.number;
  int k = level - 1;
  L->counters[k]++;
  for (int i = k + 1; i < 4; i++)
    L->counters[i] = 0;
  return st->number ? S_format_number(L->lc.arena, st->number, L->counters[k])
                    : "";
}

static bool
S_is_cn_digit(uint32_t cp)
{
  static const uint32_t d[] = {0x96F6, 0x4E00, 0x4E8C, 0x4E09, 0x56DB, 0x4E94,
                               0x516D, 0x4E03, 0x516B, 0x4E5D, 0x5341, 0x767E};
  for (size_t i = 0; i < sizeof d / sizeof *d; i++)
    if (cp == d[i])
      return true;
  return false;
}

/* Warn when a heading repeats the number that banshi generates: 一、
 * （一） 1. （1） 1、 at its start. */
static void
S_check_heading_text(S_layout *L, const bs_node *h, const char *text)
{
  const unsigned char *p = (const unsigned char *)text;
  size_t n = strlen(text), i = 0;
  uint32_t cp;
  int l = bs_utf8_decode(p, n, &cp);
  if (l > 0 && (cp == 0xFF08 || cp == '('))
    i += (size_t)l;
  size_t digits = 0;
  while (i < n && (l = bs_utf8_decode(p + i, n - i, &cp)) > 0 &&
         ((cp >= '0' && cp <= '9') || S_is_cn_digit(cp))) {
    i += (size_t)l;
    digits++;
  }
  if (!digits || i >= n || (l = bs_utf8_decode(p + i, n - i, &cp)) <= 0)
    return;
  if (cp != 0x3001 && cp != 0xFF09 && cp != ')' && cp != '.' && cp != 0xFF0E)
    return;
  i += (size_t)l;
  char num[64];
  snprintf(num, sizeof num, "%.*s", (int)(i < 60 ? i : 60), text);
  bs_diag(&L->lc.doc->diags, BS_WARNING, BS_D_HEADING_NUMBER, L->lc.doc->path,
          h->line, h->col, num);
}

static void
S_section(S_layout *L, const bs_node *sec)
{
  int level = sec->as.section.level;
  if (level > 4)
    level = 4;
  const bs_style *hs = &L->lc.tpl->styles[BS_STYLE_H1 + level - 1];
  const bs_node *heading = sec->first && sec->first->type == BS_NODE_HEADING
                               ? sec->first
                               : NULL;
  const char *num = S_heading_number(L, sec, hs, level);
  char plain[512];
  size_t k = 0;
  plain[0] = '\0';
  if (heading)
    S_plain(heading, plain, sizeof plain, &k);
  if (!sec->as.section.number)
    S_check_heading_text(L, heading ? heading : sec, plain);
  /* the bookmark: number and heading, without a closing full stop */
  char *bm = bs_arena_printf(L->lc.arena, "%s%s", num, plain);
  size_t bl = strlen(bm);
  if (bl >= 3 && strcmp(bm + bl - 3, "。") == 0)
    bm[bl - 3] = '\0';

  const bs_node *body = heading ? heading->next : sec->first;
  bool runin = sec->as.section.runin && body &&
               body->type == BS_NODE_PARAGRAPH;
  /* a run-in heading is the start of its paragraph: one P */
  L->sid = bs_struct_add(&L->lc, runin ? BS_SE_P : BS_SE_H, L->parent);
  ((bs_selem *)L->lc.elems.data)[L->sid].level = level;
  bs_para_begin(&L->lc);
  if (*num)
    bs_para_text(&L->lc, num, strlen(num), hs, NULL,
                 heading ? heading->line : sec->line,
                 heading ? heading->col : sec->col);
  if (heading)
    bs_para_inline(&L->lc, heading, hs);
  if (runin) {
    /* The heading opens the first paragraph, in its own font. */
    const bs_style *bs = &L->lc.tpl->styles[BS_STYLE_BODY];
    bs_para_inline(&L->lc, body, bs);
    bs_para_geom g = S_geom(L, bs, body->as.para.align, body->as.para.indent);
    bs_para_layout(&L->lc, &g, &L->lines);
    S_space(L, hs->space_before);
    S_emit_lines(L, false, bm, level);
    body = body->next;
  } else {
    bs_para_geom g = S_geom(L, hs, BS_ALIGN_DEFAULT, -1);
    bs_para_layout(&L->lc, &g, &L->lines);
    S_space(L, hs->space_before);
    S_emit_lines(L, true, bm, level);
    S_space(L, hs->space_after);
  }
  /* blocks after the heading (and the run-in paragraph) */
  if (body) {
    bs_node fake;
    memset(&fake, 0, sizeof fake);
    fake.first = (bs_node *)body;
    S_blocks(L, &fake);
  }
}

static void
S_paragraph(S_layout *L, const bs_node *p, const bs_style *st)
{
  bs_para_begin(&L->lc);
  bs_para_inline(&L->lc, p, st);
  if (bs_para_empty(&L->lc))
    return;
  bs_para_geom g = S_geom(L, st, p->as.para.align, p->as.para.indent);
  bs_para_layout(&L->lc, &g, &L->lines);
  S_space(L, st->space_before);
  L->sid = bs_struct_add(&L->lc, BS_SE_P, L->parent);
  S_emit_lines(L, false, NULL, 0);
  S_space(L, st->space_after);
}

/* The glyphs at the start of the first line collected in L->lines that
 * draw `marker` (its spaces may be gaps rather than glyphs), or 0 when
 * they do not. */
static uint32_t
S_label_glyphs(S_layout *L, const char *marker)
{
  if (!L->lines.len)
    return 0;
  const bs_line *ln = L->lines.data;
  const unsigned char *m = (const unsigned char *)marker;
  size_t ml = strlen(marker), k = 0;
  uint32_t n = 0;
  int r = 0;
  uint32_t g = 0;
  while (k < ml) {
    uint32_t cp;
    int l = bs_utf8_decode(m + k, ml - k, &cp);
    if (l <= 0)
      return 0;
    while (r < ln->nruns && g >= ln->runs[r].n) {
      r++;
      g = 0;
    }
    bool has = r < ln->nruns && ln->runs[r].glyphs[g].cp == cp;
    if (has) {
      g++;
      n++;
    } else if (cp != ' ') {
      return 0;
    }
    k += (size_t)l;
  }
  return n;
}

static void
S_list(S_layout *L, const bs_node *list)
{
  const bs_style *st = &L->lc.tpl->styles[BS_STYLE_LIST];
  int num = list->as.list.start > 0 ? list->as.list.start : 1;
  int depth = list->as.list.depth;
  int32_t parent = L->parent;
  int32_t lsid = bs_struct_add(&L->lc, BS_SE_L, parent);
  for (const bs_node *it = list->first; it; it = it->next, num++) {
    char marker[64];
    if (list->as.list.ordered)
      snprintf(marker, sizeof marker, depth % 2 == 0 ? "%d." : "（%d）", num);
    else
      snprintf(marker, sizeof marker, "%s", depth % 2 == 0 ? "●" : "○");
    bs_style s = *st;
    /* two characters per level, up to eight levels: deeper lists keep
     * twelve characters of measure instead of running off the page */
    s.left = st->left + (depth < 8 ? depth : 8) * 2000;
    bs_para_begin(&L->lc);
    bs_para_text(&L->lc, marker, strlen(marker), &s, NULL, it->line,
                 it->col);
    if (!list->as.list.ordered)
      bs_para_text(&L->lc, " ", 1, &s, NULL, it->line, it->col);
    bs_para_inline(&L->lc, it, &s);
    bs_para_geom g = S_geom(L, &s, BS_ALIGN_DEFAULT, -1);
    bs_para_layout(&L->lc, &g, &L->lines);
    /* LI: Lbl (the marker's glyphs at the start of the first line, often
     * in one run with the text) and LBody */
    int32_t li = bs_struct_add(&L->lc, BS_SE_LI, lsid);
    uint32_t nl = S_label_glyphs(L, marker);
    int32_t lbl = nl ? bs_struct_add(&L->lc, BS_SE_LBL, li) : 0;
    L->sid = bs_struct_add(&L->lc, BS_SE_LBODY, li);
    if (nl) {
      bs_line *first = L->lines.data;
      first->lbl_n = nl;
      first->lbl_sid = lbl;
    }
    S_emit_lines(L, false, NULL, 0);
    L->parent = L->sid;
    for (const bs_node *c = it->first; c; c = c->next)
      if (c->type == BS_NODE_LIST)
        S_list(L, c);
    L->parent = parent;
  }
}

static void
S_table(S_layout *L, const bs_node *t)
{
  const bs_style *cs = &L->lc.tpl->styles[BS_STYLE_CAPTION];
  S_space(L, L->lc.tpl->line_pitch / 4);
  int32_t tsid = bs_struct_add(&L->lc, BS_SE_TABLE, L->parent);
  for (const bs_node *c = t->first; c; c = c->next) {
    if (c->type != BS_NODE_CAPTION)
      continue;
    bs_para_begin(&L->lc);
    bs_para_inline(&L->lc, c, cs);
    bs_para_geom g = S_geom(L, cs, BS_ALIGN_CENTER, 0);
    bs_para_layout(&L->lc, &g, &L->lines);
    S_space(L, cs->space_before);
    L->sid = bs_struct_add(&L->lc, BS_SE_CAPTION, tsid);
    S_emit_lines(L, true, NULL, 0);
  }
  bs_table_layout *tl =
      bs_table_prepare(&L->lc, t, bs_template_text_w(L->lc.tpl), tsid);
  if (tl)
    S_push(L, S_F_TABLE)->table = tl;
  S_space(L, L->lc.tpl->line_pitch / 2);
}

static void
S_figure_error(S_layout *L, const bs_node *fig, const char *en,
               const char *zh, const char *a, const char *b)
{
  bs_document *doc = L->lc.doc;
  bs_diag_text(&doc->diags, BS_ERROR, BS_D_IMAGE, doc->path, fig->line,
               fig->col, doc->diags.lang == BS_LANG_EN ? en : zh, a, b);
}

/* The figure's file: relative to the source's folder and inside it, first
 * by its name alone (bs_path_inside, before any file system access), then
 * with links resolved.  Stores the resolved path in `real`; false after an
 * error. */
static bool
S_figure_path(S_layout *L, const bs_node *fig, char real[PATH_MAX])
{
  bs_document *doc = L->lc.doc;
  const char *src = fig->as.figure.src;
  char base[PATH_MAX];
  char *norm = bs_path_inside(src);
  free(norm);
  if (!norm) {
    S_figure_error(L, fig, "image '%s' is outside the source's folder%s; refused",
                   "图片“%s”不在源文件所在目录之内%s，拒绝读取", src, "");
    return false;
  }
  if (!realpath(doc->dir, base)) {
    S_figure_error(L, fig, "cannot resolve the source folder %s: %s",
                   "无法解析源文件所在目录 %s：%s", doc->dir, strerror(errno));
    return false;
  }
  char *joined = bs_path_join(L->lc.arena, doc->dir, src);
  if (!realpath(joined, real)) {
    S_figure_error(L, fig, "image '%s': %s", "无法读取图片“%s”：%s", src,
                   strerror(errno));
    return false;
  }
  size_t bl = strlen(base);
  if (!(strncmp(real, base, bl) == 0 && (real[bl] == '/' || bl == 1))) {
    S_figure_error(L, fig,
                   "image '%s' is outside the source's folder %s; refused",
                   "图片“%s”不在源文件所在目录 %s 之内，拒绝读取", src, base);
    return false;
  }
  return true;
}

/* The figure's file decoded (a PNG or JPEG checked through), or NULL after
 * an error.  The same content used again is the same picture. */
static const bs_picture *
S_figure_load(S_layout *L, const bs_node *fig, const char *real)
{
  const char *src = fig->as.figure.src;
  const bs_picture *pic = NULL;
  const char *why = NULL;
  switch (bs_picture_load(L->lc.arena, &L->pics, real, &pic, &why)) {
  case BS_PIC_OK:
    break;
  case BS_PIC_IO:
    S_figure_error(L, fig, "image '%s': %s", "无法读取图片“%s”：%s", src, why);
    return NULL;
  case BS_PIC_FORMAT:
    S_figure_error(L, fig, "image '%s' is not a PNG or JPEG file%s",
                   "图片“%s”不是 PNG 或 JPEG 文件%s", src, "");
    return NULL;
  case BS_PIC_TOO_LARGE:
    S_figure_error(L, fig, "image '%s' is larger than %s",
                   "图片“%s”超过 %s 的上限", src, why);
    return NULL;
  case BS_PIC_PNG:
    S_figure_error(L, fig, "image '%s' is a damaged PNG file (%s)",
                   "图片“%s”是损坏的 PNG 文件（%s）", src, why);
    return NULL;
  case BS_PIC_JPEG:
    S_figure_error(L, fig, "image '%s' is a damaged JPEG file (%s)",
                   "图片“%s”是损坏的 JPEG 文件（%s）", src, why);
    return NULL;
  case BS_PIC_LIBRARY: {
    bs_document *doc = L->lc.doc;
    bool en = doc->diags.lang == BS_LANG_EN;
    bs_diag(&doc->diags, BS_ERROR, BS_D_LIBRARY, doc->path, fig->line,
            fig->col, BS_SONAME_JPEG,
            en ? "reading JPEG figures" : "读取 JPEG 图片", why);
    return NULL;
  }
  }
  return pic;
}

/* The figure's size on the page: the requested width, else the file's
 * resolution (96 dpi if none), never wider than the type area nor taller
 * than most of a page. */
static void
S_figure_size(const bs_template *t, const bs_node *fig, const bs_picture *pic,
              double *wp, double *hp)
{
  int32_t W = bs_template_text_w(t), H = bs_template_text_h(t);
  double dpi_x = pic->dpi_x > 1 ? pic->dpi_x : 96.0;
  double dpi_y = pic->dpi_y > 1 ? pic->dpi_y : dpi_x;
  double w = pic->src_width * 72000.0 / dpi_x;
  double ratio = (pic->src_height / dpi_y) / (pic->src_width / dpi_x);
  if (fig->as.figure.width.kind == BS_LEN_PERCENT)
    w = (double)W * fig->as.figure.width.value / 100000.0;
  else if (fig->as.figure.width.kind == BS_LEN_ABS)
    w = fig->as.figure.width.value;
  if (w > W)
    w = W;
  double h = w * ratio;
  double maxh = H * 0.8;
  if (h > maxh) {
    w = w * maxh / h;
    h = maxh;
  }
  if (w < 1000)
    w = 1000;
  if (h < 1000)
    h = 1000;
  *wp = w;
  *hp = h;
}

/* A figure: the image centred, scaled to fit the type area, its caption
 * below (图题 below figures, 表题 above tables).  The path is resolved
 * relative to the source's folder and must stay inside it. */
static void
S_figure(S_layout *L, const bs_node *fig)
{
  const bs_template *t = L->lc.tpl;
  char real[PATH_MAX];
  if (!S_figure_path(L, fig, real))
    return;
  const bs_picture *pic = S_figure_load(L, fig, real);
  if (!pic)
    return;
  double w, h;
  S_figure_size(t, fig, pic, &w, &h);
  S_space(L, t->line_pitch / 4);
  S_flow *f = S_push(L, S_F_IMAGE);
  f->image.path = bs_arena_strdup(L->lc.arena, real);
  f->image.w = (int32_t)w;
  f->image.h = (int32_t)h;
  f->image.x = (bs_template_text_w(t) - f->image.w) / 2;
  f->image.pic = pic;
  f->space = f->image.h;
  f->sid = bs_struct_add(&L->lc, BS_SE_FIGURE, L->parent);
  const bs_style *cs = &t->styles[BS_STYLE_CAPTION];
  for (const bs_node *c = fig->first; c; c = c->next) {
    if (c->type != BS_NODE_CAPTION)
      continue;
    /* the caption is also the figure's alternate description */
    char alt[1024];
    size_t k = 0;
    alt[0] = '\0';
    S_plain(c, alt, sizeof alt, &k);
    bs_selem *e = (bs_selem *)L->lc.elems.data + f->sid;
    if (!e->alt && alt[0])
      e->alt = bs_arena_strdup(L->lc.arena, alt);
    L->sid = bs_struct_add(&L->lc, BS_SE_CAPTION, L->parent);
    bs_para_begin(&L->lc);
    bs_para_inline(&L->lc, c, cs);
    bs_para_geom g = S_geom(L, cs, BS_ALIGN_CENTER, 0);
    bs_para_layout(&L->lc, &g, &L->lines);
    S_space(L, cs->space_after);
    S_emit_lines(L, true, NULL, 0);
    S_flow *last = (S_flow *)L->flow.data + L->flow.len - 1;
    last->line.keep_with_next = false;
  }
  S_space(L, t->line_pitch / 2);
}

static void
S_blocks(S_layout *L, const bs_node *parent)
{
  const bs_style *body = &L->lc.tpl->styles[BS_STYLE_BODY];
  for (const bs_node *c = parent->first; c; c = c->next) {
    switch (c->type) {
    case BS_NODE_PARAGRAPH:
      S_paragraph(L, c, body);
      break;
    case BS_NODE_SECTION:
      S_section(L, c);
      break;
    case BS_NODE_LIST:
      S_list(L, c);
      break;
    case BS_NODE_TABLE:
      S_table(L, c);
      break;
    case BS_NODE_PAGEBREAK:
      S_push(L, S_F_BREAK);
      break;
    case BS_NODE_FIGURE:
      S_figure(L, c);
      break;
    default:
      break;
    }
  }
}

/* 7.3.5.2: signature right-aligned two characters from the right edge, the
 * date on the next line starting two characters right of the signature's
 * first character; a date longer than that is set two characters from the
 * edge and the signature moves left with it. */
static void
S_closing(S_layout *L)
{
  const bs_meta *m = &L->lc.doc->meta;
  if (!m->signatures || !m->signatures[0])
    return;
  const bs_style *st = &L->lc.tpl->styles[BS_STYLE_CLOSING];
  int32_t em = S_chars(L->lc.tpl, st, 1000);
  int32_t W = bs_template_text_w(L->lc.tpl);
  char date[64];
  snprintf(date, sizeof date, "%d年%d月%d日", m->close_y, m->close_m,
           m->close_d);
  /* Measure each line. */
  int nsig = 0;
  while (m->signatures[nsig])
    nsig++;
  int32_t sig_w = 0, date_w;
  bs_para_geom g = S_geom(L, st, BS_ALIGN_LEFT, 0);
  g.first_indent = 0;
  int32_t minw, maxw;
  L->lc.measuring = true;
  for (int i = 0; i < nsig; i++) {
    bs_para_begin(&L->lc);
    bs_para_text(&L->lc, m->signatures[i], strlen(m->signatures[i]), st,
                 NULL, m->closing_line, m->closing_col);
    bs_para_measure(&L->lc, &minw, &maxw);
    if (maxw > sig_w)
      sig_w = maxw;
  }
  bs_para_begin(&L->lc);
  bs_para_text(&L->lc, date, strlen(date), st, NULL, m->closing_line,
               m->closing_col);
  bs_para_measure(&L->lc, &minw, &maxw);
  L->lc.measuring = false;
  date_w = maxw;
  int32_t sig_x = W - 2 * em - sig_w;
  int32_t date_x = sig_x + 2 * em;
  if (date_x + date_w > W - 2 * em) {
    date_x = W - 2 * em - date_w;
    sig_x = date_x - 2 * em;
  }
  if (sig_x < 0)
    sig_x = 0;
  if (date_x < 0)
    date_x = 0;
  /* the last line of the body stays with the closing */
  if (L->flow.len) {
    S_flow *last = (S_flow *)L->flow.data + L->flow.len - 1;
    if (last->kind == S_F_LINE)
      last->line.keep_with_next = true;
  }
  S_space(L, st->space_before);
  for (int i = 0; i <= nsig; i++) {
    const char *text = i < nsig ? m->signatures[i] : date;
    bs_para_begin(&L->lc);
    bs_para_text(&L->lc, text, strlen(text), st, NULL, m->closing_line,
                 m->closing_col);
    g.left = i < nsig ? sig_x : date_x;
    g.width = W;
    bs_para_layout(&L->lc, &g, &L->lines);
    L->sid = bs_struct_add(&L->lc, BS_SE_P, L->parent);
    S_emit_lines(L, true, NULL, 0);
  }
  S_flow *last = (S_flow *)L->flow.data + L->flow.len - 1;
  last->line.keep_with_next = false;
}

/* ------------------------------------------------------------------ */
/* Pagination                                                           */

typedef struct S_pager {
  bs_pager pg;
  S_layout *L;
} S_pager;

static int32_t
S_left_margin(const bs_template *t, int index)
{
  /* index is 0-based: page 1 is odd */
  if (t->mirror && index % 2 == 1)
    return t->outer;
  return t->inner;
}

static void
S_new_page(bs_pager *pg)
{
  S_pager *sp = (S_pager *)pg;
  S_layout *L = sp->L;
  const bs_template *t = L->lc.tpl;
  bs_page p;
  memset(&p, 0, sizeof p);
  p.w = t->page_w;
  p.h = t->page_h;
  p.number = (int)L->pages.len + 1;
  bs_vec_push(&L->pages, &p);
  pg->page = (bs_page *)L->pages.data + L->pages.len - 1;
  pg->top = t->top;
  pg->bottom = t->page_h - t->bottom;
  pg->left = S_left_margin(t, (int)L->pages.len - 1);
  pg->width = bs_template_text_w(t);
  pg->y = pg->top;
}

/* Height of the chain of kept-together items starting at flow index i:
 * lines with keep_with_next and the line that ends the chain. */
static int32_t
S_chain_height(const bs_lctx *lc, const S_flow *f, size_t n, size_t i,
               const bs_pager *pg)
{
  int32_t h = 0;
  for (size_t k = i; k < n; k++) {
    if (f[k].kind == S_F_SPACE) {
      h += f[k].space;
      continue;
    }
    if (f[k].kind == S_F_TABLE) {
      h += bs_table_start_h(lc, f[k].table, pg->bottom - pg->y - h,
                            pg->bottom - pg->top);
      break;
    }
    if (f[k].kind == S_F_IMAGE) {
      h += f[k].space;
      continue; /* with its caption */
    }
    if (f[k].kind != S_F_LINE)
      break;
    h += f[k].line.height;
    if (!f[k].line.keep_with_next)
      break;
  }
  return h;
}

static int32_t S_chain_height(const bs_lctx *lc, const S_flow *f, size_t n,
                              size_t i, const bs_pager *pg);

/* Equal space above and below a table (as a typesetter sets it): a table
 * that ends on the page where it started, between two lines of text, is
 * moved down within the room it has, from the bottom of the line above to
 * the grid line where the text below resumes (the lines return to the
 * page's grid after a table, at least a quarter line below it), so that
 * both gaps are equal.  `first` is the table's first item on the page,
 * `before` the gap above it. */
static void
S_table_centre(S_layout *L, bs_pager *pg, const S_flow *f, size_t n,
               size_t i, size_t first, int32_t before)
{
  const int32_t pitch = L->lc.tpl->line_pitch;
  size_t k = i + 1;
  while (k < n && f[k].kind == S_F_SPACE)
    k++;
  if (k >= n || f[k].kind != S_F_LINE || f[k].line.height != pitch ||
      before <= 0 || pitch <= 0)
    return;
  int32_t yb = pg->y;
  int32_t least = yb + pitch / 4;
  int32_t next = pg->top + (least - pg->top + pitch - 1) / pitch * pitch;
  int32_t y = pg->y;
  pg->y = next;
  int32_t h = S_chain_height(&L->lc, f, n, k, pg);
  pg->y = y;
  if (next + h > pg->bottom)
    return; /* the text below goes to the next page */
  int32_t room = (next - yb) + before;
  int32_t d = room / 2 - before;
  if (d <= 0)
    return;
  bs_page *p = pg->page;
  for (size_t it = first; it < p->n; it++) {
    bs_item *x = &p->items[it];
    if (x->type == BS_ITEM_RUN) {
      x->as.run.y += d;
    } else if (x->type == BS_ITEM_RULE) {
      x->as.rule.y0 += d;
      x->as.rule.y1 += d;
    }
  }
  pg->y = yb + d;
  L->skip_to = next;
}

static void
S_paginate(S_layout *L)
{
  S_pager sp;
  memset(&sp, 0, sizeof sp);
  sp.L = L;
  sp.pg.new_page = S_new_page;
  S_new_page(&sp.pg);
  bs_pager *pg = &sp.pg;
  S_flow *f = L->flow.data;
  size_t n = L->flow.len;
  bool chain_checked = false;
  bool off_grid = false; /* a table or figure left y between grid lines */
  int32_t content_bottom = pg->top; /* bottom of the last line or image */
  const int32_t pitch = L->lc.tpl->line_pitch;
  for (size_t i = 0; i < n; i++) {
    /* the page vector may move: refresh the page pointer */
    pg->page = (bs_page *)L->pages.data + L->pages.len - 1;
    switch (f[i].kind) {
    case S_F_SPACE:
      if (pg->y > pg->top) {
        pg->y += f[i].space;
        if (pg->y > pg->bottom)
          pg->y = pg->bottom;
      }
      break;
    case S_F_BREAK:
      if (pg->page->n > 0 || pg->y > pg->top)
        S_new_page(pg);
      break;
    case S_F_LINE: {
      const bs_line *ln = &f[i].line;
      int32_t page_h = pg->bottom - pg->top;
      if (L->skip_to) {
        /* the line after a table, where S_table_centre put it */
        pg->y = L->skip_to;
        L->skip_to = 0;
        off_grid = false;
      }
      if (off_grid && ln->height == pitch && pitch > 0 && pg->y > pg->top) {
        /* back onto the page's line grid, so that lines of facing pages
         * and of both sides of a sheet stay in register */
        int32_t k = (pg->y - pg->top + pitch - 1) / pitch;
        pg->y = pg->top + k * pitch;
      }
      if (ln->height == pitch)
        off_grid = false;
      if (!chain_checked && ln->keep_with_next && pg->y > pg->top) {
        int32_t h = S_chain_height(&L->lc, f, n, i, pg);
        if (pg->y + h > pg->bottom && h <= page_h)
          S_new_page(pg);
      }
      chain_checked = ln->keep_with_next;
      if (pg->y + ln->height > pg->bottom && pg->y > pg->top)
        S_new_page(pg);
      if (f[i].outline) {
        bs_outline o = {f[i].outline, f[i].outline_level,
                        (int)L->pages.len - 1, pg->y};
        bs_vec_push(&L->outline, &o);
      }
      bs_page_add_line(&L->lc, pg->page, ln, pg->left, pg->y);
      pg->y += ln->height;
      content_bottom = pg->y;
      break;
    }
    case S_F_TABLE: {
      chain_checked = false;
      off_grid = true;
      size_t npages = L->pages.len, first = pg->page->n;
      int32_t top = pg->y;
      bs_table_place(&L->lc, f[i].table, pg);
      pg->page = (bs_page *)L->pages.data + L->pages.len - 1;
      if (L->pages.len == npages)
        S_table_centre(L, pg, f, n, i, first, top - content_bottom);
      break;
    }
    case S_F_IMAGE: {
      /* the image and the first line of its caption stay together */
      int32_t h = S_chain_height(&L->lc, f, n, i, pg);
      if (pg->y + h > pg->bottom && pg->y > pg->top &&
          h <= pg->bottom - pg->top)
        S_new_page(pg);
      else if (pg->y + f[i].space > pg->bottom && pg->y > pg->top)
        S_new_page(pg);
      bs_item *it = bs_page_add(&L->lc, pg->page, BS_ITEM_IMAGE);
      it->sid = f[i].sid;
      it->as.image = f[i].image;
      it->as.image.x += pg->left;
      it->as.image.y = pg->y;
      pg->y += f[i].space;
      content_bottom = pg->y;
      chain_checked = false;
      off_grid = true;
      break;
    }
    }
  }
}

/* 7.5: "— 1 —" in 4号 宋体, 7 mm below the type area (measured to the
 * dashes), odd pages flush right one character in, even pages flush left
 * one character in. */
static void
S_page_numbers(S_layout *L)
{
  const bs_template *t = L->lc.tpl;
  const bs_style *st = &t->styles[BS_STYLE_PAGE_NUMBER];
  bs_page *pages = L->pages.data;
  for (size_t i = 0; i < L->pages.len; i++) {
    char *text = S_format_number(L->lc.arena, t->page_number_format,
                                 pages[i].number);
    bs_para_begin(&L->lc);
    bs_para_text(&L->lc, text, strlen(text), st, NULL, 0, 0);
    bs_para_geom g;
    memset(&g, 0, sizeof g);
    g.width = bs_template_text_w(t);
    g.leading = st->size;
    bool odd = pages[i].number % 2 == 1;
    bs_align al = odd ? t->page_number_odd : t->page_number_even;
    int32_t indent = (int32_t)((int64_t)st->size * t->page_number_indent / 1000);
    g.align = al;
    if (al == BS_ALIGN_RIGHT)
      g.width -= indent;
    else if (al == BS_ALIGN_LEFT)
      g.left = indent;
    L->lines.len = 0;
    bs_para_layout(&L->lc, &g, &L->lines);
    if (!L->lines.len)
      continue;
    bs_line *ln = L->lines.data;
    /* Put the middle of the dash (or of the digits) at the offset. */
    int32_t mid = st->size * 3 / 10;
    if (ln->nruns && ln->runs[0].n) {
      bs_font *f = ln->runs[0].font;
      bs_glyph_ink e;
      if (bs_font_glyph_ink(f, ln->runs[0].glyphs[0].gid, &e) &&
          e.height != 0)
        mid = (int32_t)((int64_t)(2 * e.y_bearing + e.height) * st->size /
                        (2 * (int64_t)f->upem));
    }
    int32_t base = t->page_h - t->bottom + t->page_number_offset + mid;
    int32_t top = base - ln->runs[0].y;
    ln->sid = BS_SID_PAGINATION;
    bs_page_add_line(&L->lc, &pages[i], ln, S_left_margin(t, (int)i), top);
    L->lines.len = 0;
  }
}

bs_layout *
bs_layout_document(bs_document *doc, const bs_layout_options *o)
{
  S_layout *L = bs_xcalloc(1, sizeof *L);
  L->lc.doc = doc;
  L->lc.tpl = o->tpl;
  L->lc.fonts = o->fonts;
  L->lc.arena = &doc->arena;
  L->flow.esize = sizeof(S_flow);
  L->lines.esize = sizeof(bs_line);
  L->pages.esize = sizeof(bs_page);
  L->outline.esize = sizeof(bs_outline);
  L->lc.elems.esize = sizeof(bs_selem);
  L->parent = bs_struct_add(&L->lc, BS_SE_DOCUMENT, -1);

  S_title(L);
  S_blocks(L, doc->body);
  S_closing(L);

  bs_layout *out = NULL;
  if (!L->lc.missing && doc->diags.errors == 0) {
    S_paginate(L);
    S_page_numbers(L);
    out = bs_arena_alloc(&doc->arena, sizeof *out);
    out->doc = doc;
    out->tpl = o->tpl;
    out->npages = (int)L->pages.len;
    out->pages = bs_arena_alloc(&doc->arena, L->pages.len * sizeof(bs_page));
    if (L->pages.len)
      memcpy(out->pages, L->pages.data, L->pages.len * sizeof(bs_page));
    out->noutline = (int)L->outline.len;
    out->outline =
        bs_arena_alloc(&doc->arena, (L->outline.len + 1) * sizeof(bs_outline));
    if (L->outline.len)
      memcpy(out->outline, L->outline.data,
             L->outline.len * sizeof(bs_outline));
    out->nelems = (int)L->lc.elems.len;
    out->elems =
        bs_arena_alloc(&doc->arena, L->lc.elems.len * sizeof(bs_selem));
    memcpy(out->elems, L->lc.elems.data, L->lc.elems.len * sizeof(bs_selem));
  }
  bs_vec_free(&L->lc.chars);
  bs_vec_free(&L->lc.u16);
  bs_vec_free(&L->lc.u16map);
  bs_vec_free(&L->lc.tmp);
  bs_vec_free(&L->flow);
  bs_vec_free(&L->lines);
  bs_vec_free(&L->pages);
  bs_vec_free(&L->outline);
  bs_vec_free(&L->lc.elems);
  free(L);
  return out;
}
