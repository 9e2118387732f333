// SPDX-License-Identifier: Apache-2.0
/* template.c - page templates; see template.h.
 *
 * Design: a template is read like a source, with the secure XML reader
 * (xml.c: no DTD, no entity, no external resource), and validated against
 * schemas/template.xsd with the shared schema cache before any value is
 * used, so every error - a wrong type, a value out of range, an unknown
 * element or attribute, a missing attribute - is reported at its
 * file:line:col.  The walk below then reads numbers with strtol or strtod
 * and range checks of its own (the schema is data a packager may change)
 * and checks what a schema cannot say (a page smaller than its margins).
 * Rejected: checking by hand in C alone, which located errors by line only
 * and let types drift from the documentation.
 *
 * Layer 6 (fonts, template, image): docs/architecture.md. */
#include "template.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "util.h"
#include "xml.h"

/* Templates are a few KB; a larger file is not one. */
#define S_MAX_TEMPLATE_BYTES (1024 * 1024)

static const char *S_style_names[BS_STYLE_COUNT] = {
    [BS_STYLE_BODY] = "body",
    [BS_STYLE_TITLE] = "title",
    [BS_STYLE_H1] = "h1",
    [BS_STYLE_H2] = "h2",
    [BS_STYLE_H3] = "h3",
    [BS_STYLE_H4] = "h4",
    [BS_STYLE_EM] = "em",
    [BS_STYLE_STRONG] = "strong",
    [BS_STYLE_LIST] = "list",
    [BS_STYLE_TABLE] = "table",
    [BS_STYLE_TABLE_HEAD] = "table-head",
    [BS_STYLE_CAPTION] = "caption",
    [BS_STYLE_CLOSING] = "closing",
    [BS_STYLE_PAGE_NUMBER] = "page-number",
};

typedef struct S_ctx {
  bs_template *t;
  bs_diags *diags;
  const char *path;
  bs_xml_parser *p; /* the reader of the template file, for locations */
  bool ok;
} S_ctx;

/* A template error at n.  The detail is worded here, in both languages,
 * inside the catalogue's BS_D_TEMPLATE frame (rule id "template"): the
 * checks left after schemas/template.xsd are a dozen "this value of this
 * field is out of range" details of one message, which nothing downstream
 * tells apart, so they get no catalogue codes of their own. */
static void
S_err(S_ctx *c, xmlNodePtr n, const char *en, const char *zh,
      const char *what)
{
  c->ok = false;
  char msg[512];
  uint32_t line = 0, col = 0;
  snprintf(msg, sizeof msg, c->diags->lang == BS_LANG_EN ? en : zh, what);
  if (n)
    bs_xml_loc(c->p, n, &line, &col);
  bs_diag(c->diags, BS_ERROR, BS_D_TEMPLATE, c->path, line, col, c->t->name,
          msg);
}

static char *
S_prop(S_ctx *c, xmlNodePtr n, const char *name)
{
  xmlChar *v = xmlGetProp(n, BAD_CAST name);
  if (!v)
    return NULL;
  char *s = bs_arena_strdup(&c->t->arena, (const char *)v);
  xmlFree(v);
  return s;
}

static void
S_len(S_ctx *c, xmlNodePtr n, const char *name, int32_t *out)
{
  char *v = S_prop(c, n, name);
  if (!v)
    return;
  bool pct;
  if (!bs_parse_length(v, false, out, &pct))
    S_err(c, n, "bad length %s", "长度值无效：%s", v);
}

/* A vertical length that may be given in lines ("1line", "0.5line"). */
static void
S_vlen(S_ctx *c, xmlNodePtr n, const char *name, int32_t *out,
       bool *in_lines, double *lines)
{
  char *v = S_prop(c, n, name);
  if (!v)
    return;
  char *end;
  double d = strtod(v, &end);
  if (end != v && (strcmp(end, "line") == 0 || strcmp(end, "lines") == 0) &&
      d >= 0 && d <= 100) {
    *in_lines = true;
    *lines = d;
    return;
  }
  bool pct;
  if (!bs_parse_length(v, false, out, &pct))
    S_err(c, n, "bad length %s", "长度值无效：%s", v);
}

static bs_align
S_align_of(S_ctx *c, xmlNodePtr n, const char *v)
{
  if (!v)
    return BS_ALIGN_DEFAULT;
  if (strcmp(v, "left") == 0)
    return BS_ALIGN_LEFT;
  if (strcmp(v, "right") == 0)
    return BS_ALIGN_RIGHT;
  if (strcmp(v, "center") == 0)
    return BS_ALIGN_CENTER;
  if (strcmp(v, "justify") == 0)
    return BS_ALIGN_JUSTIFY;
  S_err(c, n, "bad alignment %s", "对齐方式无效：%s", v);
  return BS_ALIGN_DEFAULT;
}

static int32_t
S_chars(S_ctx *c, xmlNodePtr n, const char *v)
{
  char *end;
  double d = strtod(v, &end);
  if (end == v || *end || d < 0 || d > 40) {
    S_err(c, n, "bad character count %s", "字符数无效：%s", v);
    return 0;
  }
  return (int32_t)(d * 1000 + 0.5);
}

typedef struct {
  bool before_lines, after_lines, leading_lines;
  double before, after, leading;
} S_pending;

static void
S_style(S_ctx *c, xmlNodePtr n, S_pending *pend)
{
  char *name = S_prop(c, n, "name");
  int k = -1;
  for (int i = 0; name && i < BS_STYLE_COUNT; i++)
    if (strcmp(name, S_style_names[i]) == 0)
      k = i;
  if (k < 0) {
    S_err(c, n, "unknown style '%s'", "未知样式“%s”", name ? name : "");
    return;
  }
  bs_style *s = &c->t->styles[k];
  char *v;
  if ((v = S_prop(c, n, "font")))
    s->role = v;
  if ((v = S_prop(c, n, "size")) && !bs_parse_font_size(v, &s->size))
    S_err(c, n, "bad font size %s", "字号无效：%s", v);
  if ((v = S_prop(c, n, "align")))
    s->align = S_align_of(c, n, v);
  if ((v = S_prop(c, n, "indent")))
    s->indent = S_chars(c, n, v);
  if ((v = S_prop(c, n, "left")))
    s->left = S_chars(c, n, v);
  if ((v = S_prop(c, n, "grid")))
    s->grid = strcmp(v, "true") == 0;
  if ((v = S_prop(c, n, "number")))
    s->number = v;
  S_vlen(c, n, "space-before", &s->space_before, &pend[k].before_lines,
         &pend[k].before);
  S_vlen(c, n, "space-after", &s->space_after, &pend[k].after_lines,
         &pend[k].after);
  if ((v = S_prop(c, n, "leading"))) {
    char *end;
    double d = strtod(v, &end);
    if (end != v && *end == '\0' && d > 0.5 && d < 5) {
      /* a factor of the font size, resolved below */
      pend[k].leading_lines = false;
      pend[k].leading = d;
    } else {
      S_vlen(c, n, "leading", &s->leading, &pend[k].leading_lines,
             &pend[k].leading);
    }
  }
}

/* <grid lines="22" chars="28">: whole numbers from 1 to 200 (strtol: no
 * trailing text, no overflow). */
static void
S_grid_count(S_ctx *c, xmlNodePtr n, const char *attr, int *out)
{
  char *v = S_prop(c, n, attr);
  if (!v)
    return;
  char *end;
  errno = 0;
  long k = strtol(v, &end, 10);
  if (end == v || *end || errno || k < 1 || k > 200) {
    S_err(c, n, "bad grid %s (a whole number from 1 to 200)",
          "版心网格无效：%s（应为 1 到 200 的整数）", v);
    return;
  }
  *out = (int)k;
}

static void
S_grid(S_ctx *c, xmlNodePtr n)
{
  S_grid_count(c, n, "lines", &c->t->grid_lines);
  S_grid_count(c, n, "chars", &c->t->grid_chars);
}

/* The values a template starts from, before its file's. */
static void
S_defaults(bs_template *t)
{
  t->page_w = BS_MM(210);
  t->page_h = BS_MM(297);
  t->grid_lines = 22;
  t->grid_chars = 28;
  t->page_number_format = "— {n} —";
  t->page_number_odd = BS_ALIGN_RIGHT;
  t->page_number_even = BS_ALIGN_LEFT;
  t->rule_width = 500;
  t->table_split_empty = 250;
  t->punct_adjacent = true;
  t->punct_line_start = true;
  for (int i = 0; i < BS_STYLE_COUNT; i++) {
    t->styles[i].role = "song";
    t->styles[i].size = 16000;
  }
}

/* The pitches of the grid, then the lengths given in lines or as a factor
 * of the font size, which need them. */
static void
S_resolve(S_ctx *c, const S_pending *pend)
{
  bs_template *t = c->t;
  int32_t tw = bs_template_text_w(t), th = bs_template_text_h(t);
  if (t->page_w <= 0 || t->page_h <= 0 || tw < 20000 || th < 20000) {
    S_err(c, NULL, "page smaller than its margins (%s)",
          "页边距超过页面（%s）", t->path);
  } else {
    t->line_pitch = th / t->grid_lines;
    t->char_pitch = tw / t->grid_chars;
  }
  for (int i = 0; i < BS_STYLE_COUNT; i++) {
    bs_style *s = &t->styles[i];
    if (pend[i].before_lines)
      s->space_before = (int32_t)(pend[i].before * t->line_pitch + 0.5);
    if (pend[i].after_lines)
      s->space_after = (int32_t)(pend[i].after * t->line_pitch + 0.5);
    if (pend[i].leading_lines)
      s->leading = (int32_t)(pend[i].leading * t->line_pitch + 0.5);
    else if (pend[i].leading > 0)
      s->leading = (int32_t)(pend[i].leading * s->size + 0.5);
  }
}

static void S_element(S_ctx *c, xmlNodePtr n, S_pending *pend);

/* Read the template file with the XML reader and validate it against
 * schemas/template.xsd; the reader's and the schema's diagnostics collect
 * in `src` (a document for the template file).  Returns the valid tree or
 * NULL. */
static xmlDocPtr
S_read_valid(bs_xml_parser *p, bs_document *src)
{
  size_t len = 0;
  unsigned char *buf = bs_read_file(src->path, S_MAX_TEMPLATE_BYTES, &len);
  if (!buf) {
    bs_diag(&src->diags, BS_ERROR, BS_D_IO_READ, src->path, 0, 0, src->path,
            bs_io_strerror(errno, src->diags.lang));
    return NULL;
  }
  xmlDocPtr x = bs_xml_read(p, buf, len);
  free(buf);
  if (!x)
    return NULL;
  const char *xsd =
      bs_data_path(&src->arena, BS_DATA_SCHEMAS, "template.xsd");
  xmlSchemaPtr schema = bs_xml_schema(xsd);
  if (!schema) {
    bs_diag(&src->diags, BS_ERROR, BS_D_SCHEMA_LOAD, NULL, 0, 0,
            bs_xml_schema_why(xsd));
    xmlFreeDoc(x);
    return NULL;
  }
  if (!bs_xml_validate(p, schema, x)) {
    xmlFreeDoc(x);
    return NULL;
  }
  return x;
}

/* The reader's and the schema's findings, as template errors (a template
 * that cannot be used is a failure of the run, not an invalid source). */
static void
S_forward(S_ctx *c, const bs_document *src)
{
  const bs_diagnostic *it = src->diags.items.data;
  for (size_t i = 0; i < src->diags.items.len; i++) {
    bs_code code = it[i].code == BS_D_XML_SYNTAX || it[i].code == BS_D_SCHEMA
                       ? BS_D_TEMPLATE
                       : it[i].code;
    if (it[i].severity == BS_ERROR)
      c->ok = false;
    if (code == BS_D_TEMPLATE)
      bs_diag(c->diags, it[i].severity, code, c->path, it[i].line, it[i].col,
              c->t->name, it[i].message);
    else
      bs_diag_text(c->diags, it[i].severity, code, it[i].file, it[i].line,
                   it[i].col, "%s", it[i].message);
  }
}

bs_template *
bs_template_load(const char *name, bs_diags *diags)
{
  bs_template *t = bs_xcalloc(1, sizeof *t);
  bs_arena_init(&t->arena);
  t->name = bs_arena_strdup(&t->arena, name);
  size_t nl = strlen(name);
  if (strchr(name, '/') || (nl > 4 && strcmp(name + nl - 4, ".xml") == 0))
    t->path = bs_arena_strdup(&t->arena, name);
  else
    t->path = bs_data_path(&t->arena, BS_DATA_TEMPLATES,
                           bs_arena_printf(&t->arena, "%s.xml", name));
  if (!bs_file_readable(t->path)) {
    bs_diag(diags, BS_ERROR, BS_D_TEMPLATE_MISSING, NULL, 0, 0, name,
            t->path);
    bs_template_free(t);
    return NULL;
  }
  bs_document *src = bs_document_new(t->path, diags->lang);
  bs_xml_parser p;
  bs_xml_parser_init(&p, src);
  S_ctx c = {t, diags, t->path, &p, true};
  xmlDocPtr x = S_read_valid(&p, src);
  S_forward(&c, src);
  if (x) {
    S_defaults(t);
    S_pending pend[BS_STYLE_COUNT];
    memset(pend, 0, sizeof pend);
    for (xmlNodePtr n = xmlDocGetRootElement(x)->children; n; n = n->next)
      if (n->type == XML_ELEMENT_NODE)
        S_element(&c, n, pend);
    xmlFreeDoc(x);
    S_resolve(&c, pend);
  } else {
    c.ok = false;
  }
  bs_xml_parser_done(&p);
  bs_document_free(src);
  if (!c.ok) {
    bs_template_free(t);
    return NULL;
  }
  return t;
}

/* One element of the template file. */
static void
S_element(S_ctx *c, xmlNodePtr n, S_pending *pend)
{
  bs_template *t = c->t;
  const char *en = (const char *)n->name;
  char *v;
  if (strcmp(en, "page") == 0) {
    S_len(c, n, "width", &t->page_w);
    S_len(c, n, "height", &t->page_h);
    S_len(c, n, "top", &t->top);
    S_len(c, n, "bottom", &t->bottom);
    S_len(c, n, "inner", &t->inner);
    S_len(c, n, "outer", &t->outer);
    if ((v = S_prop(c, n, "mirror")))
      t->mirror = strcmp(v, "true") == 0;
  } else if (strcmp(en, "grid") == 0) {
    S_grid(c, n);
  } else if (strcmp(en, "style") == 0) {
    S_style(c, n, pend);
  } else if (strcmp(en, "page-number") == 0) {
    if ((v = S_prop(c, n, "format")))
      t->page_number_format = v;
    S_len(c, n, "offset", &t->page_number_offset);
    if ((v = S_prop(c, n, "odd")))
      t->page_number_odd = S_align_of(c, n, v);
    if ((v = S_prop(c, n, "even")))
      t->page_number_even = S_align_of(c, n, v);
    if ((v = S_prop(c, n, "indent")))
      t->page_number_indent = S_chars(c, n, v);
  } else if (strcmp(en, "table") == 0) {
    S_len(c, n, "rule", &t->rule_width);
    S_len(c, n, "padding-x", &t->cell_pad_x);
    S_len(c, n, "padding-y", &t->cell_pad_y);
    if ((v = S_prop(c, n, "split-empty"))) {
      char *end;
      double d = strtod(v, &end);
      if (end == v || strcmp(end, "%") != 0 || d < 0 || d > 100)
        S_err(c, n, "bad share %s (a percentage)", "比例无效：%s（应为百分数）",
              v);
      else
        t->table_split_empty = (int32_t)(d * 10 + 0.5);
    }
  } else if (strcmp(en, "words") == 0) {
    /* words separated by white space, added to those of earlier
     * elements */
    xmlChar *txt = xmlNodeGetContent(n);
    char *save = NULL;
    for (char *w = strtok_r((char *)txt, " \t\r\n", &save); w;
         w = strtok_r(NULL, " \t\r\n", &save)) {
      size_t k = (size_t)t->nwords;
      t->words = bs_arena_realloc(&t->arena, t->words, k * sizeof *t->words,
                                  (k + 1) * sizeof *t->words);
      t->word_cps = bs_arena_realloc(&t->arena, t->word_cps,
                                     k * sizeof *t->word_cps,
                                     (k + 1) * sizeof *t->word_cps);
      t->word_len = bs_arena_realloc(&t->arena, t->word_len,
                                     k * sizeof *t->word_len,
                                     (k + 1) * sizeof *t->word_len);
      t->words[k] = bs_arena_strdup(&t->arena, w);
      /* decoded here once, not for every paragraph that looks for it */
      size_t wl = strlen(w);
      uint32_t *cps = bs_arena_alloc(&t->arena, (wl + 1) * sizeof *cps);
      int ncp = 0;
      for (size_t i = 0; i < wl;) {
        int l = bs_utf8_decode((const unsigned char *)w + i, wl - i,
                               &cps[ncp]);
        if (l <= 0)
          break;
        i += (size_t)l;
        ncp++;
      }
      t->word_cps[k] = cps;
      t->word_len[k] = ncp;
      if (ncp > 0)
        t->word_first[(cps[0] & 255) >> 6] |= UINT64_C(1) << (cps[0] & 63);
      t->nwords++;
    }
    xmlFree(txt);
  } else if (strcmp(en, "punctuation") == 0) {
    if ((v = S_prop(c, n, "adjacent"))) {
      if (strcmp(v, "compress") && strcmp(v, "full"))
        S_err(c, n, "bad value %s (compress or full)",
              "取值无效：%s（应为 compress 或 full）", v);
      t->punct_adjacent = strcmp(v, "compress") == 0;
    }
    if ((v = S_prop(c, n, "line-start"))) {
      if (strcmp(v, "half") && strcmp(v, "full"))
        S_err(c, n, "bad value %s (half or full)",
              "取值无效：%s（应为 half 或 full）", v);
      t->punct_line_start = strcmp(v, "half") == 0;
    }
  } else {
    S_err(c, n, "unknown element <%s>", "未知元素 <%s>", en);
  }
}

void
bs_template_free(bs_template *t)
{
  if (!t)
    return;
  bs_arena_free(&t->arena);
  free(t);
}
