// SPDX-License-Identifier: Apache-2.0
/* xpath.c - XPath expressions of a simple form evaluated by walking the
 * libxml2 tree instead of through libxml2's XPath: what report rules and
 * prose claims mostly are (a cell, the cells of a row, a context element),
 * at a fraction of XPath's instructions.  xpath.h says what each gives.
 *
 * Layer 3 (xml): docs/architecture.md. */
#include "xpath.h"

#include <string.h>

#include <libxml/xpathInternals.h>

#include "util.h"

bool
bs_xname_is(const xmlChar *name, const bs_xname *st)
{
  return strncmp((const char *)name, st->name, st->len) == 0 &&
         name[st->len] == '\0';
}

/* An NCName of ASCII letters, digits, '_' and '-' (not an operator name). */
bool
bs_xname_read(const char **p, bs_xname *st)
{
  const char *s = *p;
  if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
    return false;
  while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
         (*s >= '0' && *s <= '9') || *s == '_' || *s == '-')
    s++;
  st->name = *p;
  st->len = (size_t)(s - *p);
  static const char *const ops[] = {"and", "or", "div", "mod"};
  for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
    if (strlen(ops[i]) == st->len && memcmp(ops[i], st->name, st->len) == 0)
      return false;
  *p = s;
  return true;
}

double
bs_xattr_number(xmlAttrPtr a)
{
  if (!a)
    return xmlXPathCastStringToNumber(BAD_CAST "");
  xmlNodePtr t = a->children;
  if (!t)
    return xmlXPathCastStringToNumber(BAD_CAST "");
  if (t->type == XML_TEXT_NODE && !t->next)
    return xmlXPathCastStringToNumber(t->content ? t->content : BAD_CAST "");
  xmlChar *v = xmlNodeGetContent((xmlNodePtr)a);
  double d = xmlXPathCastStringToNumber(v ? v : BAD_CAST "");
  xmlFree(v);
  return d;
}

/* Absolute paths of element steps ("/disclosure-report/applications",
 * the cells of tables 二, 三 and 四), what rule contexts and cell
 * selections mostly are, are found by walking the tree: child steps of a
 * name or "*", each with at most a predicate [@NAME], [@NAME = 'TEXT'] or
 * [starts-with(name(), 'TEXT')]; a last element step may be "//"
 * (descendants); an attribute step @NAME, @* or @*[not(name() = 'TEXT' or
 * ...)] may end the path; "|" joins such paths.  The node-set is the one
 * XPath gives, in document order (the steps before a "//" select no
 * element inside another).  Any other expression, and any tree holding
 * nodes other than elements, text, comments and processing instructions
 * under the path, or a prefixed name where name() is asked, is left to
 * XPath. */
#define S_PATH_STEPS 12

typedef struct S_pstep {
  bs_xname name;
  bool any;             /* "*" */
  bool desc;            /* reached by "//" */
  bool pred;            /* [@pname] */
  bs_xname pname;
  bool peq;             /* [@pname = 'pval'] */
  bs_xname pval;
  bool starts;          /* [starts-with(name(), 'prefix')] */
  bs_xname prefix;
} S_pstep;

#define S_PATH_NOT 8

typedef struct S_path {
  S_pstep st[S_PATH_STEPS];
  int n;
  bool attr, attr_any;  /* ends in @aname or @* */
  bs_xname aname;
  bs_xname not_names[S_PATH_NOT]; /* @*[not(name() = 'a' or ...)] */
  int nnot;
} S_path;

static void
S_ws(const char **p)
{
  while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
    (*p)++;
}

/* The token `tok` (then spaces); for a word, not followed by a name
 * character. */
static bool
S_tok(const char **p, const char *tok)
{
  size_t n = strlen(tok);
  if (strncmp(*p, tok, n) != 0)
    return false;
  char c = (*p)[n];
  if (((tok[0] >= 'a' && tok[0] <= 'z') || tok[0] == '-') &&
      ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
       c == ':'))
    return false;
  *p += n;
  S_ws(p);
  return true;
}

/* A string literal (then spaces). */
static bool
S_literal(const char **p, bs_xname *lit)
{
  char q = **p;
  if (q != '\'' && q != '"')
    return false;
  const char *e = strchr(*p + 1, q);
  if (!e)
    return false;
  lit->name = *p + 1;
  lit->len = (size_t)(e - (*p + 1));
  *p = e + 1;
  S_ws(p);
  return true;
}

/* name() of an element or attribute when it is its local name (no
 * prefix), else NULL. */
static const xmlChar *
S_plain_name(xmlNodePtr n)
{
  if ((n->ns && n->ns->prefix) || !n->name || n->name[0] == ' ')
    return NULL;
  return n->name;
}

static bool
S_path_parse(const char *p, S_path *path)
{
  memset(path, 0, sizeof *path);
  if (p[0] != '/' || p[1] == '/')
    return false;
  while (*p == '/') {
    p++;
    bool desc = *p == '/';
    if (desc)
      p++;
    if (*p == '@') {
      p++;
      if (desc)
        return false;
      if (*p == '*') {
        path->attr_any = true;
        p++;
      } else if (!bs_xname_read(&p, &path->aname)) {
        return false;
      }
      path->attr = true;
      if (path->attr_any && *p == '[') {
        p++;
        S_ws(&p);
        if (!S_tok(&p, "not") || !S_tok(&p, "("))
          return false;
        do {
          if (path->nnot == S_PATH_NOT || !S_tok(&p, "name") ||
              !S_tok(&p, "(") || !S_tok(&p, ")") || !S_tok(&p, "=") ||
              !S_literal(&p, &path->not_names[path->nnot++]))
            return false;
        } while (S_tok(&p, "or"));
        if (!S_tok(&p, ")") || *p++ != ']')
          return false;
      }
      break;
    }
    if (path->n == S_PATH_STEPS)
      return false;
    S_pstep *s = &path->st[path->n++];
    s->desc = desc;
    if (*p == '*') {
      s->any = true;
      p++;
    } else if (!bs_xname_read(&p, &s->name)) {
      return false;
    }
    if (*p == '[') {
      p++;
      S_ws(&p);
      if (*p == '@') {
        p++;
        if (!bs_xname_read(&p, &s->pname))
          return false;
        s->pred = true;
        S_ws(&p);
        if (*p == '=') {
          p++;
          S_ws(&p);
          if (!S_literal(&p, &s->pval))
            return false;
          s->peq = true;
        }
      } else if (S_tok(&p, "starts-with") && S_tok(&p, "(") &&
                 S_tok(&p, "name") && S_tok(&p, "(") && S_tok(&p, ")") &&
                 S_tok(&p, ",") && S_literal(&p, &s->prefix) &&
                 S_tok(&p, ")")) {
        s->starts = true;
      } else {
        return false;
      }
      if (*p++ != ']')
        return false;
    }
  }
  if (*p || path->n == 0)
    return false;
  for (int i = 0; i + 1 < path->n; i++)
    if (path->st[i].desc)
      return false;
  return true;
}

static bool
S_plain_node(xmlNodePtr k)
{
  return k->type == XML_ELEMENT_NODE || k->type == XML_TEXT_NODE ||
         k->type == XML_CDATA_SECTION_NODE || k->type == XML_COMMENT_NODE ||
         k->type == XML_PI_NODE;
}

/* 1 when element step `s` selects `k`, 0 when not, -1 when the walk does
 * not decide (a prefixed name for name()). */
static int
S_pstep_match(xmlNodePtr k, const S_pstep *s)
{
  if (k->type != XML_ELEMENT_NODE ||
      !(s->any || (!k->ns && bs_xname_is(k->name, &s->name))))
    return 0;
  if (s->starts) {
    const xmlChar *nm = S_plain_name(k);
    if (!nm)
      return -1;
    if (strncmp((const char *)nm, s->prefix.name, s->prefix.len) != 0 ||
        strlen((const char *)nm) < s->prefix.len)
      return 0;
  }
  if (!s->pred)
    return 1;
  for (xmlAttrPtr a = k->properties; a; a = a->next) {
    if (a->type != XML_ATTRIBUTE_NODE || a->ns ||
        !bs_xname_is(a->name, &s->pname))
      continue;
    if (!s->peq)
      return 1;
    /* @pname = 'pval': the attribute's string value is pval */
    xmlChar *v = xmlNodeGetContent((xmlNodePtr)a);
    bool eq = bs_xname_is(v ? v : BAD_CAST "", &s->pval);
    xmlFree(v);
    return eq;
  }
  return 0;
}

/* Add what the steps from `i` select at element `n` to `out`; false when
 * the tree holds a node the walk does not decide on. */
static bool
S_path_walk(xmlNodePtr n, const S_path *path, int i, xmlNodeSetPtr out)
{
  if (i == path->n) {
    if (!path->attr) {
      xmlXPathNodeSetAddUnique(out, n);
      return true;
    }
    for (xmlAttrPtr a = n->properties; a; a = a->next) {
      if (a->type != XML_ATTRIBUTE_NODE ||
          !(path->attr_any || (!a->ns && bs_xname_is(a->name, &path->aname))))
        continue;
      if (path->nnot) {
        const xmlChar *nm = S_plain_name((xmlNodePtr)a);
        if (!nm)
          return false;
        bool excluded = false;
        for (int j = 0; j < path->nnot && !excluded; j++)
          excluded = bs_xname_is(nm, &path->not_names[j]);
        if (excluded)
          continue;
      }
      xmlXPathNodeSetAddUnique(out, (xmlNodePtr)a);
    }
    return true;
  }
  const S_pstep *s = &path->st[i];
  if (!s->desc) {
    for (xmlNodePtr k = n->children; k; k = k->next) {
      if (!S_plain_node(k))
        return false;
      int m = S_pstep_match(k, s);
      if (m < 0 || (m && !S_path_walk(k, path, i + 1, out)))
        return false;
    }
    return true;
  }
  /* the last element step, "//": n's descendants in document order */
  xmlNodePtr k = n->children;
  while (k) {
    if (!S_plain_node(k))
      return false;
    int m = S_pstep_match(k, s);
    if (m < 0 || (m && !S_path_walk(k, path, i + 1, out)))
      return false;
    if (k->type == XML_ELEMENT_NODE && k->children) {
      k = k->children;
      continue;
    }
    while (k && !k->next) {
      k = k->parent;
      if (k == n)
        k = NULL;
    }
    if (k)
      k = k->next;
  }
  return true;
}

/* The node-set of `expr` in `doc` when it is such a path, else NULL. */
static xmlXPathObjectPtr
S_path_eval1(xmlDocPtr doc, const char *expr)
{
  S_path path;
  if (!doc || !S_path_parse(expr, &path))
    return NULL;
  xmlXPathObjectPtr o = xmlXPathNewNodeSet(NULL);
  if (!o || !o->nodesetval) {
    xmlXPathFreeObject(o);
    return NULL;
  }
  /* the first step: the document's children (a DTD node is no element) */
  const S_pstep *s = &path.st[0];
  for (xmlNodePtr k = doc->children; k; k = k->next) {
    if (!S_plain_node(k) && k->type != XML_DTD_NODE) {
      xmlXPathFreeObject(o);
      return NULL;
    }
    int m = S_pstep_match(k, s);
    if (m < 0 || (m && !S_path_walk(k, &path, 1, o->nodesetval))) {
      xmlXPathFreeObject(o);
      return NULL;
    }
  }
  return o;
}

/* A path, or a union "A | B" of such paths: their node-sets merged and
 * sorted into document order as XPath does; else NULL. */
xmlXPathObjectPtr
bs_xpath_paths(xmlDocPtr doc, const char *expr)
{
  const char *bar = NULL;
  char quote = 0;
  for (const char *q = expr; *q && !bar; q++) {
    if (quote)
      quote = *q == quote ? 0 : quote;
    else if (*q == '\'' || *q == '"')
      quote = *q;
    else if (*q == '|')
      bar = q;
  }
  if (!bar)
    return S_path_eval1(doc, expr);
  /* the first path, then the rest (which may hold more "|") */
  const char *e = bar;
  while (e > expr && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
                      e[-1] == '\r'))
    e--;
  char *first = bs_xmalloc((size_t)(e - expr) + 1);
  memcpy(first, expr, (size_t)(e - expr));
  first[e - expr] = '\0';
  const char *rest = bar + 1;
  S_ws(&rest);
  xmlXPathObjectPtr a = S_path_eval1(doc, first);
  free(first);
  xmlXPathObjectPtr b = a ? bs_xpath_paths(doc, rest) : NULL;
  if (!a || !b) {
    xmlXPathFreeObject(a);
    xmlXPathFreeObject(b);
    return NULL;
  }
  xmlNodeSetPtr m = xmlXPathNodeSetMerge(a->nodesetval, b->nodesetval);
  xmlXPathFreeObject(b);
  if (!m) {
    xmlXPathFreeObject(a);
    return NULL;
  }
  a->nodesetval = m;
  xmlXPathNodeSetSort(m);
  return a;
}
