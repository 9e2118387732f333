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

#include "arena.h"
#include "util.h"

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
  for (size_t i = 0; i < sizeof ops / sizeof *ops && st->len <= 3; i++)
    if (ops[i][0] == st->name[0] && strlen(ops[i]) == st->len &&
        memcmp(ops[i], st->name, st->len) == 0)
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
 * (descendants; "//NAME", the first step, all the document's NAME
 * elements, as the prose checks' "//p" is); an attribute step @NAME, @*
 * or @*[not(name() = 'TEXT' or ...)] may end the path; "|" joins such paths.  The node-set is the one
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
  if (p[0] != '/')
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

/* The node-set of `path` in `doc`; NULL when the walk declines. */
static xmlXPathObjectPtr
S_path_run(xmlDocPtr doc, const S_path *path)
{
  xmlXPathObjectPtr o = xmlXPathNewNodeSet(NULL);
  if (!o || !o->nodesetval) {
    xmlXPathFreeObject(o);
    return NULL;
  }
  /* the first step: the document's children (a DTD node is no element),
   * for "//NAME" each followed by its descendants */
  const S_pstep *s = &path->st[0];
  for (xmlNodePtr k = doc->children; k; k = k->next) {
    if (!S_plain_node(k) && k->type != XML_DTD_NODE) {
      xmlXPathFreeObject(o);
      return NULL;
    }
    int m = S_pstep_match(k, s);
    if (m < 0 || (m && !S_path_walk(k, path, 1, o->nodesetval)) ||
        (s->desc && k->type == XML_ELEMENT_NODE &&
         !S_path_walk(k, path, 0, o->nodesetval))) {
      xmlXPathFreeObject(o);
      return NULL;
    }
  }
  return o;
}

/* The node-set of `expr` in `doc` when it is such a path, else NULL. */
static xmlXPathObjectPtr
S_path_eval1(xmlDocPtr doc, const char *expr)
{
  S_path path;
  if (!doc || !S_path_parse(expr, &path))
    return NULL;
  return S_path_run(doc, &path);
}

/* In the union s..e ("A | B | ..."), the first bar outside quotes, or NULL;
 * and in *aend the end of the path before it (or of all, when none) less
 * its trailing white space. */
static const char *
S_union_bar(const char *s, const char *e, const char **aend)
{
  const char *bar = NULL;
  char quote = 0;
  for (const char *q = s; q < e && !bar; q++) {
    if (quote)
      quote = *q == quote ? 0 : quote;
    else if (*q == '\'' || *q == '"')
      quote = *q;
    else if (*q == '|')
      bar = q;
  }
  const char *end = bar ? bar : e;
  while (bar && end > s && (end[-1] == ' ' || end[-1] == '\t' ||
                            end[-1] == '\n' || end[-1] == '\r'))
    end--;
  *aend = end;
  return bar;
}

/* A path, or a union "A | B" of such paths: their node-sets merged and
 * sorted into document order as XPath does; else NULL. */
xmlXPathObjectPtr
bs_xpath_paths(xmlDocPtr doc, const char *expr)
{
  const char *e;
  const char *bar = S_union_bar(expr, expr + strlen(expr), &e);
  if (!bar)
    return S_path_eval1(doc, expr);
  /* the first path, then the rest (which may hold more "|") */
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


/* Numbers: an expression of additions, subtractions, multiplications and
 * divisions ("+", "-", "*", "div", left to right, "*" and "div" first) of
 * integer literals, parenthesised expressions, paths or unions of paths
 * as above (a node-set's number is its first node's, by XPath's own
 * conversion) and sum() of one such node-set is compiled once into a
 * program of those operations, and run with the same conversions and in
 * the same order as libxml2's XPath; a prose claim's value is one
 * ("100 * A div B", "sum(A | B)").  Anything else (other functions,
 * "mod", a unary minus, relative paths, comparisons) is not compiled, and
 * a path the walk declines in a document is not run: both are left to
 * XPath. */
enum { S_OP_NUM, S_OP_PATHS, S_OP_SUM, S_OP_ADD, S_OP_SUB, S_OP_MUL,
       S_OP_DIV };

typedef struct S_op {
  int op;
  double v;       /* S_OP_NUM */
  int first, n;   /* S_OP_PATHS, S_OP_SUM: the paths [first, first + n) */
} S_op;

struct bs_xnum {
  bs_vec ops;     /* S_op, in postfix order */
  bs_vec paths;   /* S_path; their names point into strs */
  bs_vec strs;    /* char *: each path's text */
};

typedef struct S_num {
  bs_xnum *prog;
  const char *p;
  bool bad;
} S_num;

static void S_num_expr(S_num *n);

static void
S_num_emit(S_num *n, int op, double v, int first, int count)
{
  S_op o = {op, v, first, count};
  bs_vec_push(&n->prog->ops, &o);
}

/* The end of the path or union of paths at p: the first space, ")",
 * "+", ",", or comparison outside brackets and quotes that no "|"
 * follows, or a "*" that is no step's name. */
static const char *
S_path_end(const char *p)
{
  int depth = 0;
  char quote = 0;
  for (const char *q = p;; q++) {
    char c = *q;
    if (!c)
      return q;
    if (quote) {
      quote = c == quote ? 0 : quote;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '[') {
      depth++;
    } else if (c == ']') {
      if (--depth < 0)
        return q;
    } else if (depth) {
      continue;
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '|') {
      const char *r = q;
      S_ws(&r);
      if (*r != '|')
        return q;
      r++;
      S_ws(&r);
      q = r - 1;
    } else if (c == ')' || c == '+' || c == ',' || c == '=' || c == '<' ||
               c == '>' || c == '!' ||
               (c == '*' && q > p && q[-1] != '/' && q[-1] != '@')) {
      return q;
    }
  }
}

/* Compile the paths at n->p, split at "|" as bs_xpath_paths splits them,
 * into n->prog->paths; their index range in *first, *count. */
static void
S_num_paths(S_num *n, int *first, int *count)
{
  const char *e = S_path_end(n->p);
  *first = (int)n->prog->paths.len;
  *count = 0;
  const char *s = n->p;
  while (!n->bad) {
    const char *end;
    const char *bar = S_union_bar(s, e, &end);
    char *str = bs_xmalloc((size_t)(end - s) + 1);
    memcpy(str, s, (size_t)(end - s));
    str[end - s] = '\0';
    bs_vec_push(&n->prog->strs, &str);
    S_path path;
    if (!S_path_parse(str, &path)) {
      n->bad = true;
      break;
    }
    bs_vec_push(&n->prog->paths, &path);
    (*count)++;
    if (!bar)
      break;
    s = bar + 1;
    S_ws(&s);
  }
  n->p = e;
  S_ws(&n->p);
}

static void
S_num_primary(S_num *n)
{
  const char *p = n->p;
  int first, count;
  if (*p >= '0' && *p <= '9') {
    double v = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 15)
      v = v * 10 + (*p++ - '0'), digits++;
    if ((*p >= '0' && *p <= '9') || *p == '.') {
      n->bad = true;
      return;
    }
    n->p = p;
    S_ws(&n->p);
    S_num_emit(n, S_OP_NUM, v, 0, 0);
  } else if (*p == '(') {
    n->p++;
    S_ws(&n->p);
    S_num_expr(n);
    if (*n->p != ')') {
      n->bad = true;
      return;
    }
    n->p++;
    S_ws(&n->p);
  } else if (*p == '/') {
    S_num_paths(n, &first, &count);
    S_num_emit(n, S_OP_PATHS, 0, first, count);
  } else if (S_tok(&p, "sum") && S_tok(&p, "(") && *p == '/') {
    n->p = p;
    S_num_paths(n, &first, &count);
    if (*n->p != ')') {
      n->bad = true;
      return;
    }
    n->p++;
    S_ws(&n->p);
    S_num_emit(n, S_OP_SUM, 0, first, count);
  } else {
    n->bad = true;
  }
}

static void
S_num_term(S_num *n)
{
  S_num_primary(n);
  while (!n->bad) {
    int op;
    if (*n->p == '*') {
      n->p++;
      S_ws(&n->p);
      op = S_OP_MUL;
    } else if (S_tok(&n->p, "div")) {
      op = S_OP_DIV;
    } else {
      break;
    }
    S_num_primary(n);
    S_num_emit(n, op, 0, 0, 0);
  }
}

static void
S_num_expr(S_num *n)
{
  S_num_term(n);
  while (!n->bad && (*n->p == '+' || *n->p == '-')) {
    int op = *n->p == '+' ? S_OP_ADD : S_OP_SUB;
    n->p++;
    S_ws(&n->p);
    S_num_term(n);
    S_num_emit(n, op, 0, 0, 0);
  }
}

bs_xnum *
bs_xnum_compile(const char *expr)
{
  if (!expr)
    return NULL;
  bs_xnum *prog = bs_xcalloc(1, sizeof *prog);
  prog->ops = (bs_vec)BS_VEC_INIT(S_op);
  prog->paths = (bs_vec)BS_VEC_INIT(S_path);
  prog->strs = (bs_vec)BS_VEC_INIT(char *);
  S_num n = {prog, expr, false};
  S_ws(&n.p);
  S_num_expr(&n);
  if (n.bad || *n.p) {
    bs_xnum_free(prog);
    return NULL;
  }
  return prog;
}

void
bs_xnum_free(bs_xnum *prog)
{
  if (!prog)
    return;
  char **strs = prog->strs.data;
  for (size_t i = 0; i < prog->strs.len; i++)
    free(strs[i]);
  bs_vec_free(&prog->strs);
  bs_vec_free(&prog->paths);
  bs_vec_free(&prog->ops);
  free(prog);
}

/* The node-set of paths [first, first + n): merged and sorted into
 * document order as XPath's union is; NULL when the walk declines. */
static xmlXPathObjectPtr
S_num_set(const bs_xnum *prog, xmlDocPtr doc, int first, int n)
{
  const S_path *paths = prog->paths.data;
  xmlXPathObjectPtr a = S_path_run(doc, &paths[first]);
  for (int i = 1; a && i < n; i++) {
    xmlXPathObjectPtr b = S_path_run(doc, &paths[first + i]);
    xmlNodeSetPtr m = b ? xmlXPathNodeSetMerge(a->nodesetval, b->nodesetval)
                        : NULL;
    xmlXPathFreeObject(b);
    if (!m) {
      xmlXPathFreeObject(a);
      return NULL;
    }
    a->nodesetval = m;
  }
  if (a && n > 1)
    xmlXPathNodeSetSort(a->nodesetval);
  return a;
}

bool
bs_xnum_eval(const bs_xnum *prog, xmlDocPtr doc, double *out)
{
  if (!prog || !doc || !prog->ops.len)
    return false;
  double stack[64];
  size_t sp = 0;
  const S_op *ops = prog->ops.data;
  for (size_t i = 0; i < prog->ops.len; i++) {
    const S_op *o = &ops[i];
    if (o->op == S_OP_NUM || o->op == S_OP_PATHS || o->op == S_OP_SUM) {
      if (sp == sizeof stack / sizeof *stack)
        return false;
      double v = o->v;
      if (o->op != S_OP_NUM) {
        xmlXPathObjectPtr set = S_num_set(prog, doc, o->first, o->n);
        if (!set)
          return false;
        if (o->op == S_OP_PATHS) {
          v = xmlXPathCastToNumber(set);
        } else {
          /* as xmlXPathSumFunction: from 0, node by node */
          v = 0.0;
          xmlNodeSetPtr ns = set->nodesetval;
          for (int k = 0; ns && k < ns->nodeNr; k++)
            v += xmlXPathCastNodeToNumber(ns->nodeTab[k]);
        }
        xmlXPathFreeObject(set);
      }
      stack[sp++] = v;
      continue;
    }
    if (sp < 2)
      return false;
    double b = stack[--sp], *a = &stack[sp - 1];
    if (o->op == S_OP_ADD)
      *a = *a + b;
    else if (o->op == S_OP_SUB)
      *a = *a - b;
    else if (o->op == S_OP_MUL)
      *a = *a * b;
    else
      *a = *a / b;
  }
  if (sp != 1)
    return false;
  *out = stack[0];
  return true;
}
