// SPDX-License-Identifier: Apache-2.0
/* parse.c - a core document (libxml2 tree) -> validated document tree.
 *
 * Design: the source has been read by the secure XML reader (xml.c) and,
 * when it is a report source, mapped to a core document by report.c; the
 * front end (source.c) does both and hands the core document here.  It is
 * validated against schemas/document.xsd and converted into banshi's own
 * tree (doc.h), every node located in the source.  This file knows nothing
 * of report types, so report mapping stays a stage of its own above it.
 *
 * Layer 4 (parse, prose): docs/architecture.md. */
#include "parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#include "util.h"

typedef bs_xml_parser S_parser; /* see xml.h */

/* ------------------------------------------------------------------ */
/* libxml2 tree -> banshi tree                                          */

static bool
S_is(xmlNodePtr n, const char *name)
{
  return n && n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name,
                                                       BAD_CAST name) == 0;
}

static bs_node *
S_new(S_parser *p, bs_node_type t, xmlNodePtr src)
{
  uint32_t line, col;
  bs_xml_loc(p, src, &line, &col);
  return bs_node_new(p->doc, t, line, col);
}

/* Trimmed text content of an element, in the arena. */
static const char *
S_text(S_parser *p, xmlNodePtr n)
{
  xmlChar *c = xmlNodeGetContent(n);
  if (!c)
    return bs_arena_strdup(&p->doc->arena, "");
  const char *s = (const char *)c;
  while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
    s++;
  size_t len = strlen(s);
  while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
                 s[len - 1] == '\n' || s[len - 1] == '\r'))
    len--;
  /* Inner runs of white space in metadata collapse to one space. */
  char *out = bs_arena_alloc(&p->doc->arena, len + 1);
  size_t k = 0;
  bool sp = false;
  for (size_t i = 0; i < len; i++) {
    char ch = s[i];
    if (ch == '\n' || ch == '\r' || ch == '\t' || ch == ' ') {
      if (!sp)
        out[k++] = ' ';
      sp = true;
    } else {
      out[k++] = ch;
      sp = false;
    }
  }
  out[k] = '\0';
  xmlFree(c);
  return out;
}

static const char *
S_attr(xmlNodePtr n, const char *name, char *buf, size_t bufsz)
{
  /* What xmlGetProp returns, read in place in the common case (a table
   * cell asks for four attributes and has none or one): the first
   * attribute of the name, whose value is one text node.  Another value,
   * and a document with a DTD, whose declarations may give defaults, go
   * through xmlGetProp. */
  if (n && n->type == XML_ELEMENT_NODE) {
    bool simple = true;
    const xmlAttr *a = n->properties;
    for (; a; a = a->next)
      if (xmlStrEqual(a->name, BAD_CAST name))
        break;
    if (a) {
      const xmlNode *t = a->children;
      simple = a->type == XML_ATTRIBUTE_NODE && t && !t->next &&
               (t->type == XML_TEXT_NODE ||
                t->type == XML_CDATA_SECTION_NODE) &&
               t->content;
      if (simple) {
        size_t l = strlen((const char *)t->content);
        if (l >= bufsz)
          l = bufsz - 1;
        memcpy(buf, t->content, l);
        buf[l] = '\0';
        return buf;
      }
    } else if (!n->doc || !n->doc->intSubset) {
      return NULL;
    }
  }
  xmlChar *v = xmlGetProp(n, BAD_CAST name);
  if (!v)
    return NULL;
  snprintf(buf, bufsz, "%s", (const char *)v);
  xmlFree(v);
  return buf;
}

/* A whole number that the schema has checked, read with strtol and kept
 * in document.xsd's range [lo, hi] all the same (a schema given with
 * --schema may be looser, and atoi's overflow is undefined): `dflt` when
 * it is absent or not a number. */
static int
S_int(const char *s, long lo, long hi, int dflt)
{
  if (!s)
    return dflt;
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (end == s)
    return dflt;
  if (errno == ERANGE || v < lo || v > hi)
    return (int)(v < lo ? lo : hi);
  return (int)v;
}

static void
S_date(const char *s, int *y, int *m, int *d)
{
  *y = *m = *d = 0;
  if (s)
    sscanf(s, "%d-%d-%d", y, m, d);
}

static void S_inline(S_parser *p, xmlNodePtr parent, bs_node *out);
static void S_blocks(S_parser *p, xmlNodePtr parent, bs_node *out,
                     int level, int list_depth);

static bool
S_is_textish(xmlNodePtr c)
{
  return c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE;
}

/* Append the text of `t` and of the text and CDATA siblings that follow it,
 * across comments and processing instructions, as one text node allocated
 * once: joining piece by piece copied the whole text again for every piece
 * (a paragraph split by 100,000 comments took 15 GB).  Returns the last
 * node consumed. */
static xmlNodePtr
S_append_text(S_parser *p, bs_node *out, xmlNodePtr t)
{
  size_t total = 0;
  bool any = false;
  xmlNodePtr last = t;
  for (xmlNodePtr c = t; c; c = c->next) {
    if (S_is_textish(c)) {
      if (c->content) {
        total += strlen((const char *)c->content);
        any = true;
      }
    } else if (c->type != XML_COMMENT_NODE && c->type != XML_PI_NODE) {
      break;
    }
    last = c;
  }
  if (!any)
    return last;
  char *data = bs_arena_alloc(&p->doc->arena, total + 1);
  size_t k = 0;
  for (xmlNodePtr c = t;; c = c->next) {
    if (S_is_textish(c) && c->content) {
      size_t l = strlen((const char *)c->content);
      memcpy(data + k, c->content, l);
      k += l;
    }
    if (c == last)
      break;
  }
  data[k] = '\0';
  bs_node *n = S_new(p, BS_NODE_TEXT, t);
  n->as.text.data = data;
  n->as.text.len = k;
  if (t->_private)
    n->as.text.src_off = (uint32_t)((uintptr_t)t->_private - 1);
  bs_node_append(out, n);
  return last;
}

static void
S_inline(S_parser *p, xmlNodePtr parent, bs_node *out)
{
  for (xmlNodePtr c = parent->children; c; c = c->next) {
    if (S_is_textish(c)) {
      c = S_append_text(p, out, c);
    } else if (S_is(c, "em") || S_is(c, "strong")) {
      bs_node *n = S_new(p, S_is(c, "em") ? BS_NODE_EMPH : BS_NODE_STRONG, c);
      bs_node_append(out, n);
      S_inline(p, c, n);
    } else if (S_is(c, "br")) {
      bs_node_append(out, S_new(p, BS_NODE_BREAK, c));
    }
  }
}

static bs_align
S_align(xmlNodePtr n)
{
  char buf[32];
  const char *a = S_attr(n, "align", buf, sizeof buf);
  if (!a)
    return BS_ALIGN_DEFAULT;
  if (strcmp(a, "left") == 0)
    return BS_ALIGN_LEFT;
  if (strcmp(a, "center") == 0)
    return BS_ALIGN_CENTER;
  if (strcmp(a, "right") == 0)
    return BS_ALIGN_RIGHT;
  if (strcmp(a, "justify") == 0)
    return BS_ALIGN_JUSTIFY;
  return BS_ALIGN_DEFAULT;
}

static void
S_list(S_parser *p, xmlNodePtr l, bs_node *out, int depth)
{
  char buf[32];
  bs_node *list = S_new(p, BS_NODE_LIST, l);
  const char *t = S_attr(l, "type", buf, sizeof buf);
  list->as.list.ordered = !t || strcmp(t, "unordered") != 0;
  const char *st = S_attr(l, "start", buf, sizeof buf);
  list->as.list.start = S_int(st, 0, 999999, 1);
  list->as.list.depth = depth;
  bs_node_append(out, list);
  for (xmlNodePtr it = l->children; it; it = it->next) {
    if (!S_is(it, "item"))
      continue;
    bs_node *item = S_new(p, BS_NODE_ITEM, it);
    bs_node_append(list, item);
    for (xmlNodePtr c = it->children; c; c = c->next) {
      if (S_is_textish(c)) {
        c = S_append_text(p, item, c);
      } else if (S_is(c, "em") || S_is(c, "strong")) {
        bs_node *n =
            S_new(p, S_is(c, "em") ? BS_NODE_EMPH : BS_NODE_STRONG, c);
        bs_node_append(item, n);
        S_inline(p, c, n);
      } else if (S_is(c, "br")) {
        bs_node_append(item, S_new(p, BS_NODE_BREAK, c));
      } else if (S_is(c, "list")) {
        S_list(p, c, item, depth + 1);
      }
    }
  }
}

static void
S_rows(S_parser *p, xmlNodePtr group, bs_node *table, bool header)
{
  char buf[32];
  for (xmlNodePtr tr = group->children; tr; tr = tr->next) {
    if (!S_is(tr, "tr"))
      continue;
    bs_node *row = S_new(p, BS_NODE_ROW, tr);
    row->as.row.header = header;
    bs_node_append(table, row);
    if (header)
      table->as.table.head_rows++;
    for (xmlNodePtr c = tr->children; c; c = c->next) {
      if (!S_is(c, "td") && !S_is(c, "th"))
        continue;
      bs_node *cell = S_new(p, BS_NODE_CELL, c);
      const char *v = S_attr(c, "colspan", buf, sizeof buf);
      cell->as.cell.colspan = S_int(v, 1, 1000, 1);
      v = S_attr(c, "rowspan", buf, sizeof buf);
      cell->as.cell.rowspan = S_int(v, 1, 1000, 1);
      cell->as.cell.align = S_align(c);
      v = S_attr(c, "valign", buf, sizeof buf);
      cell->as.cell.valign = !v                        ? BS_VALIGN_DEFAULT
                             : strcmp(v, "top") == 0    ? BS_VALIGN_TOP
                             : strcmp(v, "bottom") == 0 ? BS_VALIGN_BOTTOM
                                                        : BS_VALIGN_MIDDLE;
      cell->as.cell.header = S_is(c, "th");
      bs_node_append(row, cell);
      S_inline(p, c, cell);
    }
  }
}

static void
S_table(S_parser *p, xmlNodePtr t, bs_node *out)
{
  char buf[64];
  bs_node *table = S_new(p, BS_NODE_TABLE, t);
  bs_node_append(out, table);
  const char *sz = S_attr(t, "size", buf, sizeof buf);
  if (sz)
    bs_parse_font_size(sz, &table->as.table.size);
  int ncols = 0;
  for (xmlNodePtr c = t->children; c; c = c->next) {
    if (S_is(c, "caption")) {
      bs_node *cap = S_new(p, BS_NODE_CAPTION, c);
      bs_node_append(table, cap);
      S_inline(p, c, cap);
    } else if (S_is(c, "colgroup")) {
      for (xmlNodePtr col = c->children; col; col = col->next)
        if (S_is(col, "col"))
          ncols++;
      table->as.table.widths =
          bs_arena_alloc(&p->doc->arena, (size_t)ncols * sizeof(bs_length));
      int k = 0;
      for (xmlNodePtr col = c->children; col; col = col->next) {
        if (!S_is(col, "col"))
          continue;
        const char *w = S_attr(col, "width", buf, sizeof buf);
        int32_t v;
        bool pct;
        if (w && bs_parse_length(w, true, &v, &pct)) {
          table->as.table.widths[k].kind = pct ? BS_LEN_PERCENT : BS_LEN_ABS;
          table->as.table.widths[k].value = v;
        }
        k++;
      }
      table->as.table.ncols = ncols;
    } else if (S_is(c, "thead")) {
      S_rows(p, c, table, true);
    } else if (S_is(c, "tbody")) {
      S_rows(p, c, table, false);
    }
  }
}

static void
S_blocks(S_parser *p, xmlNodePtr parent, bs_node *out, int level,
         int list_depth)
{
  char buf[256];
  for (xmlNodePtr c = parent->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE)
      continue;
    if (S_is(c, "p")) {
      bs_node *n = S_new(p, BS_NODE_PARAGRAPH, c);
      n->as.para.align = S_align(c);
      const char *ind = S_attr(c, "indent", buf, sizeof buf);
      n->as.para.indent = S_int(ind, 0, 20, -1);
      bs_node_append(out, n);
      S_inline(p, c, n);
    } else if (S_is(c, "section")) {
      bs_node *n = S_new(p, BS_NODE_SECTION, c);
      n->as.section.level = level + 1;
      const char *num = S_attr(c, "number", buf, sizeof buf);
      n->as.section.number = num ? bs_arena_strdup(&p->doc->arena, num) : NULL;
      const char *ri = S_attr(c, "runin", buf, sizeof buf);
      n->as.section.runin = ri && (strcmp(ri, "true") == 0 ||
                                   strcmp(ri, "1") == 0);
      bs_node_append(out, n);
      for (xmlNodePtr h = c->children; h; h = h->next)
        if (S_is(h, "heading")) {
          bs_node *hn = S_new(p, BS_NODE_HEADING, h);
          bs_node_append(n, hn);
          S_inline(p, h, hn);
          break;
        }
      S_blocks(p, c, n, level + 1, list_depth);
    } else if (S_is(c, "list")) {
      if (out->type == BS_NODE_ITEM)
        continue; /* handled by S_list */
      S_list(p, c, out, list_depth);
    } else if (S_is(c, "table")) {
      S_table(p, c, out);
    } else if (S_is(c, "figure")) {
      bs_node *n = S_new(p, BS_NODE_FIGURE, c);
      const char *src = S_attr(c, "src", buf, sizeof buf);
      n->as.figure.src = bs_arena_strdup(&p->doc->arena, src ? src : "");
      const char *w = S_attr(c, "width", buf, sizeof buf);
      int32_t v;
      bool pct;
      if (w && bs_parse_length(w, true, &v, &pct)) {
        n->as.figure.width.kind = pct ? BS_LEN_PERCENT : BS_LEN_ABS;
        n->as.figure.width.value = v;
      }
      bs_node_append(out, n);
      for (xmlNodePtr cap = c->children; cap; cap = cap->next)
        if (S_is(cap, "caption")) {
          bs_node *cn = S_new(p, BS_NODE_CAPTION, cap);
          bs_node_append(n, cn);
          S_inline(p, cap, cn);
        }
    } else if (S_is(c, "pagebreak")) {
      bs_node_append(out, S_new(p, BS_NODE_PAGEBREAK, c));
    }
  }
}

static void
S_meta(S_parser *p, xmlNodePtr meta)
{
  bs_meta *m = &p->doc->meta;
  bs_arena *a = &p->doc->arena;
  size_t nkw = 0;
  for (xmlNodePtr c = meta->children; c; c = c->next) {
    if (S_is(c, "title")) {
      m->title = S_text(p, c);
      bs_xml_loc(p, c, &m->title_line, &m->title_col);
    } else if (S_is(c, "issuer")) {
      m->issuer = S_text(p, c);
    } else if (S_is(c, "year")) {
      m->year = S_int(S_text(p, c), 0, 9999, 0);
    } else if (S_is(c, "date")) {
      S_date(S_text(p, c), &m->date_y, &m->date_m, &m->date_d);
    } else if (S_is(c, "number")) {
      m->number = S_text(p, c);
    } else if (S_is(c, "subject")) {
      m->subject = S_text(p, c);
    } else if (S_is(c, "retention")) {
      m->retention = S_text(p, c);
    } else if (S_is(c, "keywords")) {
      for (xmlNodePtr k = c->children; k; k = k->next)
        if (S_is(k, "keyword"))
          nkw++;
      m->keywords = bs_arena_alloc(a, (nkw + 1) * sizeof(char *));
      size_t i = 0;
      for (xmlNodePtr k = c->children; k; k = k->next)
        if (S_is(k, "keyword"))
          m->keywords[i++] = S_text(p, k);
    }
  }
  if (!m->keywords)
    m->keywords = bs_arena_alloc(a, sizeof(char *));
}

static void
S_closing(S_parser *p, xmlNodePtr cl)
{
  bs_meta *m = &p->doc->meta;
  size_t n = 0;
  bs_xml_loc(p, cl, &m->closing_line, &m->closing_col);
  for (xmlNodePtr c = cl->children; c; c = c->next)
    if (S_is(c, "signature"))
      n++;
  m->signatures = bs_arena_alloc(&p->doc->arena, (n + 1) * sizeof(char *));
  size_t i = 0;
  for (xmlNodePtr c = cl->children; c; c = c->next) {
    if (S_is(c, "signature"))
      m->signatures[i++] = S_text(p, c);
    else if (S_is(c, "date"))
      S_date(S_text(p, c), &m->close_y, &m->close_m, &m->close_d);
  }
}

static void
S_convert_doc(S_parser *p, xmlDocPtr xdoc)
{
  xmlNodePtr root = xmlDocGetRootElement(xdoc);
  if (!root)
    return;
  xmlChar *lang = xmlNodeGetLang(root);
  if (lang) {
    p->doc->meta.lang = bs_arena_strdup(&p->doc->arena, (const char *)lang);
    xmlFree(lang);
  }
  for (xmlNodePtr c = root->children; c; c = c->next) {
    if (S_is(c, "meta"))
      S_meta(p, c);
    else if (S_is(c, "body")) {
      bs_xml_loc(p, c, &p->doc->body->line, &p->doc->body->col);
      S_blocks(p, c, p->doc->body, 0, 0);
    } else if (S_is(c, "closing"))
      S_closing(p, c);
  }
}

bool
bs_parse_tree(bs_xml_parser *p, xmlSchemaPtr schema, xmlDocPtr core)
{
  if (!bs_xml_validate(p, schema, core))
    return false;
  S_convert_doc(p, core);
  return true;
}
