// SPDX-License-Identifier: Apache-2.0
/* report.c - report types as data: descriptor, schema, rules, stylesheet.
 *
 * Design.  A report type is a folder of data (report.h); the C code here
 * knows no report.  Three mechanisms, each the standard one of the XML stack
 * we already use:
 *
 *   structure  XSD (libxml2), one schema per format a type has; the format
 *              is chosen by an attribute of the root (format="2019");
 *   rules      a small rules file: cell checks, and equalities and
 *              assertions written in XPath 1.0 (libxml2), each with its
 *              message in Chinese and English;
 *   mapping    XSLT 1.0 (libxslt) to the core document.
 *
 * Rejected: ISO Schematron.  libxml2's own Schematron reports only a fixed
 * "pattern failed" text, cannot print computed values (一+二=3), and has no
 * location better than a line; the XSLT "skeleton" implementations are not
 * packaged in Debian.  The rules file keeps Schematron's model (context,
 * test, message) with the two things the users need: both sides' values in
 * the message, and the column of the offending cell.
 *
 * Cascades.  Cell checks run first; a cell that is not a valid number is
 * reported once and emptied, so every equation that uses it evaluates to
 * NaN and is skipped: one wrong cell gives one message, not one per rule.
 * Rules run only on a source that its schema accepts, and the stylesheet
 * only on a source without errors.
 *
 * Locations.  Every element of the source carries its byte offset in
 * _private (xml.c).  Before the transformation each element gets the
 * offset as an attribute bsloc:at, which copy-of carries into the result and
 * which the stylesheet copies onto the elements it generates; afterwards the
 * attributes become _private again and text nodes are matched with the
 * source text they were copied from, so normalisation and layout messages on
 * the generated core document still point into the report source.
 *
 * Security.  Sources never load anything (xml.c); the transformation runs
 * with libxslt security preferences that forbid reading or writing files and
 * any network access.  Only the project's own data files (descriptor,
 * schemas, rules, stylesheets) are read from disk.
 *
 * Layer 5 (report, source, normalize): docs/architecture.md. */
#include "fsio.h"
#include "report.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <libxml/xmlsave.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <libxslt/security.h>
#include <libxslt/transform.h>
#include <libxslt/xslt.h>
#include <libxslt/xsltInternals.h>
#include <libxslt/xsltutils.h>

#include "prose.h"
#include "xml.h"
#include "xpath.h"
#include "util.h"

#define S_LOC_NS "urn:banshi:source-location"
#define S_MAX_VARIANTS 8
#define S_MAX_TYPES 64

typedef struct S_variant {
  char *value;          /* value of the format attribute */
  char *schema;         /* XSD path */
} S_variant;

typedef struct S_type {
  char *name;           /* type name (descriptor's name attribute) */
  char *dir;            /* the type's folder */
  char *root;           /* root element local name */
  char *ns;             /* root namespace URI, NULL for none */
  char *format_attr;    /* attribute choosing a variant, NULL if one schema */
  S_variant variants[S_MAX_VARIANTS];
  int nvariants;
  char *schema;         /* XSD path when there are no variants */
  char *rules_path;     /* rules file, NULL if none */
  char *xsl_path;       /* stylesheet */
  bool compiled;        /* rules and stylesheet loaded (or failed) */
  char *error;          /* why the type cannot be used, NULL if it can */
  xmlDocPtr rules;      /* parsed rules file */
  xsltStylesheetPtr xsl;/* compiled stylesheet */
} S_type;

static pthread_mutex_t S_lock = PTHREAD_MUTEX_INITIALIZER;
static bool S_loaded;
static S_type S_types[S_MAX_TYPES];
static int S_ntypes;
static xsltSecurityPrefsPtr S_secprefs;

struct bs_report_source {
  bs_document *doc;     /* the source's text, locations and diagnostics */
  xmlDocPtr xdoc;       /* the validated source tree, NULL if unusable */
  const S_type *type;   /* its type, NULL if none */
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */

/* Append printf output to a malloc'd string. */
static void
S_appendf(char **buf, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char tmp[512];
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  size_t old = *buf ? strlen(*buf) : 0;
  size_t add = strlen(tmp);
  *buf = bs_xrealloc(*buf, old + add + 1);
  memcpy(*buf + old, tmp, add + 1);
}

/* Error text from libxml2/libxslt while compiling, collected per thread. */
static _Thread_local char *S_errbuf;

static void
S_collect_error(void *ctx, const char *fmt, ...)
{
  (void)ctx;
  va_list ap;
  va_start(ap, fmt);
  char tmp[512];
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (!S_errbuf || strlen(S_errbuf) < 2000)
    S_appendf(&S_errbuf, "%s", tmp);
}

static void
S_collect_structured(void *ctx, xmlErrorPtr err)
{
  if (err && err->message)
    S_collect_error(ctx, "%s", err->message);
}

/* The collected text as one line (newlines become "; "), then cleared. */
static char *
S_take_errors(void)
{
  char *e = S_errbuf;
  S_errbuf = NULL;
  if (!e)
    return bs_xstrdup("?");
  size_t n = strlen(e);
  while (n && (e[n - 1] == '\n' || e[n - 1] == ' '))
    e[--n] = '\0';
  for (char *c = e; *c; c++)
    if (*c == '\n')
      *c = ' ';
  return e;
}

/* ------------------------------------------------------------------ */
/* Registry                                                             */

static xmlDocPtr
S_read_data(const char *path)
{
  /* The project's own data: local files only, no network, no DTD. */
  return xmlReadFile(path, NULL,
                     XML_PARSE_NONET | XML_PARSE_NOERROR |
                         XML_PARSE_NOWARNING);
}

/* Read one descriptor; types that cannot be read are kept with an error so
 * that a source of that type gets a message rather than a silent miss. */
static void
S_load_descriptor(const char *dir)
{
  if (S_ntypes >= S_MAX_TYPES)
    return;
  char *path = bs_path_join_new(dir, "type.xml");
  if (!bs_file_readable(path)) {
    free(path);
    return;
  }
  S_type *t = &S_types[S_ntypes];
  memset(t, 0, sizeof *t);
  t->dir = bs_xstrdup(dir);
  xmlDocPtr d = S_read_data(path);
  xmlNodePtr r = d ? xmlDocGetRootElement(d) : NULL;
  if (!r || !bs_xml_is(r, "report-type")) {
    t->name = bs_xstrdup(dir);
    t->error = bs_xstrdup(d ? "type.xml: the root element is not <report-type>"
                          : "type.xml is not well-formed XML");
    xmlFreeDoc(d);
    free(path);
    S_ntypes++;
    return;
  }
  t->name = bs_xml_prop(r, "name");
  if (!t->name)
    t->name = bs_xstrdup(dir);
  for (xmlNodePtr c = r->children; c; c = c->next) {
    char *v;
    if (bs_xml_is(c, "root")) {
      t->root = bs_xml_prop(c, "element");
      t->ns = bs_xml_prop(c, "namespace");
      if (t->ns && !*t->ns) {
        free(t->ns);
        t->ns = NULL;
      }
    } else if (bs_xml_is(c, "schema") && (v = bs_xml_prop(c, "href"))) {
      free(t->schema);
      t->schema = bs_path_join_new(dir, v);
      free(v);
    } else if (bs_xml_is(c, "formats")) {
      t->format_attr = bs_xml_prop(c, "attribute");
      for (xmlNodePtr f = c->children; f; f = f->next) {
        if (!bs_xml_is(f, "format") || t->nvariants >= S_MAX_VARIANTS)
          continue;
        char *val = bs_xml_prop(f, "value"), *href = bs_xml_prop(f, "schema");
        if (val && href) {
          t->variants[t->nvariants].value = val;
          t->variants[t->nvariants].schema = bs_path_join_new(dir, href);
          t->nvariants++;
        } else {
          free(val);
        }
        free(href);
      }
    } else if (bs_xml_is(c, "rules") && (v = bs_xml_prop(c, "href"))) {
      free(t->rules_path);
      t->rules_path = bs_path_join_new(dir, v);
      free(v);
    } else if (bs_xml_is(c, "stylesheet") && (v = bs_xml_prop(c, "href"))) {
      free(t->xsl_path);
      t->xsl_path = bs_path_join_new(dir, v);
      free(v);
    }
  }
  xmlFreeDoc(d);
  free(path);
  if (!t->root)
    t->error = bs_xstrdup("type.xml names no <root element=\"...\"/>");
  else if (!t->xsl_path)
    t->error = bs_xstrdup("type.xml names no <stylesheet href=\"...\"/>");
  else if (!t->schema && t->nvariants == 0)
    t->error = bs_xstrdup("type.xml names no schema");
  S_ntypes++;
}

static int
S_cmp_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A folder that is a type (has type.xml) or holds types in subfolders,
 * read in name order so that the registry does not depend on the file
 * system. */
static void
S_scan(const char *dir)
{
  char *self = bs_path_join_new(dir, "type.xml");
  bool is_type = bs_file_readable(self);
  free(self);
  if (is_type) {
    S_load_descriptor(dir);
    return;
  }
  DIR *d = opendir(dir);
  if (!d)
    return;
  char **names = NULL;
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    names = bs_xrealloc(names, (n + 1) * sizeof *names);
    names[n++] = bs_xstrdup(e->d_name);
  }
  closedir(d);
  if (n)
    qsort(names, n, sizeof *names, S_cmp_names);
  for (size_t i = 0; i < n; i++) {
    char *sub = bs_path_join_new(dir, names[i]);
    S_load_descriptor(sub);
    free(sub);
    free(names[i]);
  }
  free(names);
}

static void
S_scan_folder(const char *dir, void *ctx)
{
  (void)ctx;
  S_scan(dir);
}

/* Called with S_lock held. */
static void
S_load_registry(void)
{
  if (S_loaded)
    return;
  S_loaded = true;
  xsltInit();
  S_secprefs = xsltNewSecurityPrefs();
  xsltSecurityOption forbid[] = {XSLT_SECPREF_READ_FILE,
                                 XSLT_SECPREF_WRITE_FILE,
                                 XSLT_SECPREF_CREATE_DIRECTORY,
                                 XSLT_SECPREF_READ_NETWORK,
                                 XSLT_SECPREF_WRITE_NETWORK};
  for (size_t i = 0; i < sizeof forbid / sizeof *forbid; i++)
    xsltSetSecurityPrefs(S_secprefs, forbid[i], xsltSecurityForbid);
  bs_report_type_folders(S_scan_folder, NULL);
}

void
bs_report_type_folders(void (*fn)(const char *dir, void *ctx), void *ctx)
{
  char *schemas = bs_path_join_new(bs_data_dir(),
                                   bs_data_folder_name(BS_DATA_SCHEMAS));
  fn(schemas, ctx);
  free(schemas);
  const char *env = getenv("BANSHI_TYPES");
  while (env && *env) {
    size_t n = strcspn(env, ":");
    if (n) {
      char *dir = bs_xstrdup(env);
      dir[n] = '\0';
      fn(dir, ctx);
      free(dir);
    }
    env += n + (env[n] == ':');
  }
  /* Two types claiming one root element: an error naming both, on both,
   * rather than one silently shadowing the other (docs/report-types.md) */
  for (int i = 0; i < S_ntypes; i++)
    for (int k = i + 1; k < S_ntypes; k++) {
      S_type *a = &S_types[i], *b = &S_types[k];
      if (!a->root || !b->root || strcmp(a->root, b->root) != 0 ||
          (a->ns == NULL) != (b->ns == NULL) ||
          (a->ns && strcmp(a->ns, b->ns) != 0))
        continue;
      char *why = NULL;
      S_appendf(&why, "the types '%s' (%s) and '%s' (%s) both claim the root "
                "element <%s>; remove one of them (BANSHI_TYPES)",
                a->name, a->dir, b->name, b->dir, a->root);
      for (int j = 0; j < 2; j++) {
        S_type *t = j ? b : a;
        if (!t->error)
          t->error = bs_xstrdup(why);
      }
      free(why);
    }
}

/* Load rules and stylesheet once; called with S_lock held. */
static void
S_compile(S_type *t)
{
  if (t->compiled || t->error)
    return;
  t->compiled = true;
  xmlGenericErrorFunc old_generic = xmlGenericError;
  void *old_ctx = xmlGenericErrorContext;
  xmlSetGenericErrorFunc(NULL, S_collect_error);
  xmlSetStructuredErrorFunc(NULL, S_collect_structured);
  xsltSetGenericErrorFunc(NULL, S_collect_error);
  if (t->rules_path) {
    t->rules = S_read_data(t->rules_path);
    if (!t->rules) {
      char *why = S_take_errors();
      t->error = NULL;
      S_appendf(&t->error, "%s: %s", t->rules_path, why);
      free(why);
    }
  }
  if (!t->error) {
    t->xsl = xsltParseStylesheetFile(BAD_CAST t->xsl_path);
    if (!t->xsl) {
      char *why = S_take_errors();
      S_appendf(&t->error, "%s: %s", t->xsl_path, why);
      free(why);
    }
  }
  free(S_take_errors());
  xsltSetGenericErrorFunc(NULL, NULL);
  xmlSetStructuredErrorFunc(NULL, NULL);
  xmlSetGenericErrorFunc(old_ctx, old_generic);
}

/* The schema of type `t` for a source whose root is `root`: the variant
 * its format attribute names, or NULL (S_type_schema reports why). */
static const char *
S_schema_path(const S_type *t, xmlNodePtr root)
{
  if (!t->format_attr)
    return t->schema;
  const char *path = NULL;
  xmlChar *v = xmlGetProp(root, BAD_CAST t->format_attr);
  for (int i = 0; v && i < t->nvariants && !path; i++)
    if (strcmp(t->variants[i].value, (const char *)v) == 0)
      path = t->variants[i].schema;
  xmlFree(v);
  return path;
}

static void *
S_schema_warm(void *path)
{
  bs_xml_schema(path);
  return NULL;
}

/* The type claiming `root`, its rules and stylesheet compiled.  With
 * `two_threads`, the type's schema (what S_type_schema asks for next)
 * compiles on a second thread meanwhile: a third of the time of mapping a
 * fresh process's first source. */
static S_type *
S_find(xmlNodePtr root, bool two_threads)
{
  if (!root)
    return NULL;
  pthread_mutex_lock(&S_lock);
  S_load_registry();
  S_type *found = NULL;
  const char *ns = root->ns && root->ns->href ? (const char *)root->ns->href
                                              : NULL;
  for (int i = 0; i < S_ntypes && !found; i++) {
    S_type *t = &S_types[i];
    if (!t->root || strcmp(t->root, (const char *)root->name) != 0)
      continue;
    if ((t->ns == NULL) != (ns == NULL) || (ns && strcmp(t->ns, ns) != 0))
      continue;
    found = t;
  }
  pthread_t warm;
  bool warming = false;
  if (found && two_threads && !found->compiled && !found->error) {
    const char *path = S_schema_path(found, root);
    warming = path && pthread_create(&warm, NULL, S_schema_warm,
                                     (void *)path) == 0;
  }
  if (found)
    S_compile(found);
  pthread_mutex_unlock(&S_lock);
  if (warming)
    pthread_join(warm, NULL);
  return found;
}

static void S_xcleanup(void);

void
bs_report_cleanup(void)
{
  pthread_mutex_lock(&S_lock);
  for (int i = 0; i < S_ntypes; i++) {
    S_type *t = &S_types[i];
    free(t->name);
    free(t->dir);
    free(t->root);
    free(t->ns);
    free(t->format_attr);
    for (int k = 0; k < t->nvariants; k++) {
      free(t->variants[k].value);
      free(t->variants[k].schema);
    }
    free(t->schema);
    free(t->rules_path);
    free(t->xsl_path);
    free(t->error);
    xmlFreeDoc(t->rules);
    if (t->xsl)
      xsltFreeStylesheet(t->xsl);
    memset(t, 0, sizeof *t);
  }
  S_ntypes = 0;
  S_xcleanup();
  bs_prose_cleanup();
  if (S_loaded) {
    xsltFreeSecurityPrefs(S_secprefs);
    S_secprefs = NULL;
    xsltCleanupGlobals();
  }
  S_loaded = false;
  pthread_mutex_unlock(&S_lock);
}

/* ------------------------------------------------------------------ */
/* Locations                                                            */

static size_t
S_offset_of(xmlNodePtr n)
{
  return n && n->_private ? (size_t)(uintptr_t)n->_private - 1 : SIZE_MAX;
}

/* Where attribute `a` is written in its element's start tag; the element's
 * location when it cannot be found (a defaulted attribute). */
static void
S_attr_loc(bs_xml_parser *p, xmlAttrPtr a, uint32_t *line, uint32_t *col)
{
  xmlNodePtr el = a->parent;
  bs_xml_loc(p, el, line, col);
  size_t off = S_offset_of(el);
  const unsigned char *s = p->doc->src;
  size_t n = p->doc->src_len;
  if (off == SIZE_MAX || off >= n || s[off] != '<')
    return;
  char want[256];
  if (a->ns && a->ns->prefix)
    snprintf(want, sizeof want, "%s:%s", a->ns->prefix, a->name);
  else
    snprintf(want, sizeof want, "%s", a->name);
  size_t wl = strlen(want);
  size_t i = off + 1;
  while (i < n && !strchr(" \t\r\n/>", s[i]))
    i++; /* element name */
  for (;;) {
    while (i < n && strchr(" \t\r\n", s[i]))
      i++;
    if (i >= n || s[i] == '>' || s[i] == '/')
      return;
    size_t name = i;
    while (i < n && !strchr(" \t\r\n=/>", s[i]))
      i++;
    size_t name_len = i - name;
    while (i < n && strchr(" \t\r\n", s[i]))
      i++;
    if (i >= n || s[i] != '=')
      return;
    i++;
    while (i < n && strchr(" \t\r\n", s[i]))
      i++;
    if (i >= n || (s[i] != '"' && s[i] != '\''))
      return;
    unsigned char q = s[i++];
    while (i < n && s[i] != q)
      i++;
    i++;
    if (name_len == wl && memcmp(s + name, want, wl) == 0) {
      bs_document_offset_loc(p->doc, name, line, col);
      return;
    }
  }
}

static void
S_node_loc(bs_xml_parser *p, xmlNodePtr n, uint32_t *line, uint32_t *col)
{
  if (n && n->type == XML_ATTRIBUTE_NODE)
    S_attr_loc(p, (xmlAttrPtr)n, line, col);
  else
    bs_xml_loc(p, n, line, col);
}

/* ------------------------------------------------------------------ */
/* Rules                                                                */

typedef struct S_check {
  bs_xml_parser *p;
  const S_type *t;
  xmlXPathContextPtr x;
  char *xpath_error;    /* last XPath error text (malloc'd) */
  bs_vec emptied;       /* S_emptied: bad cells, restored as published */
  xmlXPathCompExprPtr xone; /* compiled for one use (S_xcompiled) */
} S_check;

/* A cell emptied for the equations, with the text the report printed. */
typedef struct S_emptied {
  xmlNodePtr node;
  xmlChar *text;
} S_emptied;

/* The severity of a finding: as published (--as-published) every rule
 * still runs, but what would stop a new report only warns about an issued
 * one. */
static bs_severity
S_sev(const S_check *c, bs_severity sev)
{
  return c->p->as_published && sev == BS_ERROR ? BS_WARNING : sev;
}

static void
S_xpath_error(void *ctx, xmlErrorPtr err)
{
  S_check *c = ctx;
  if (!err || c->xpath_error)
    return;
  c->xpath_error = bs_xstrdup(err->message ? err->message : "XPath error");
  size_t n = strlen(c->xpath_error);
  while (n && c->xpath_error[n - 1] == '\n')
    c->xpath_error[--n] = '\0';
}

/* The label a rules file gives an element or attribute name (its own name
 * when it gives none). */
static const char *
S_label(const S_check *c, const char *kind, const xmlChar *name, char *buf,
        size_t bufsz)
{
  xmlNodePtr r = xmlDocGetRootElement(c->t->rules);
  for (xmlNodePtr l = r ? r->children : NULL; l; l = l->next) {
    if (!bs_xml_is(l, "label"))
      continue;
    xmlChar *k = xmlGetProp(l, BAD_CAST kind);
    bool match = k && xmlStrcmp(k, name) == 0;
    xmlFree(k);
    if (!match)
      continue;
    xmlChar *text = xmlGetProp(l, BAD_CAST "text");
    snprintf(buf, bufsz, "%s", text ? (const char *)text : "");
    xmlFree(text);
    return buf;
  }
  snprintf(buf, bufsz, "%s", (const char *)name);
  return buf;
}

/* Replace every "{key}" in `s` by `key` (malloc'd result), built as
 * S_appendf pieces, each cut at 511 bytes: how longer expressions have
 * always been read. */
static char *
S_subst_key_pieces(const char *s, const char *key)
{
  char *out = NULL;
  S_appendf(&out, "%s", "");
  const char *k;
  while (key && (k = strstr(s, "{key}"))) {
    char *part = bs_xmalloc((size_t)(k - s) + 1);
    memcpy(part, s, (size_t)(k - s));
    part[k - s] = '\0';
    S_appendf(&out, "%s%s", part, key);
    free(part);
    s = k + 5;
  }
  S_appendf(&out, "%s", s);
  return out;
}

/* Replace every "{key}" in `s` by `key` (malloc'd result). */
static char *
S_subst_key(const char *s, const char *key)
{
  size_t n = strlen(s), kl = key ? strlen(key) : 0, count = 0;
  for (const char *k = s; key && (k = strstr(k, "{key}")); k += 5)
    count++;
  if (n + count * kl >= 512) /* a piece may be cut */
    return S_subst_key_pieces(s, key);
  char *out = bs_xmalloc(n + count * kl + 1), *o = out;
  const char *k;
  while (key && (k = strstr(s, "{key}"))) {
    memcpy(o, s, (size_t)(k - s));
    o += k - s;
    memcpy(o, key, kl);
    o += kl;
    s = k + 5;
  }
  memcpy(o, s, strlen(s) + 1);
  return out;
}

/* The rules' XPath expressions compiled once per process, by their text:
 * a report evaluates about 100 (a rule's expressions with each of its keys
 * put in), and compiling each anew cost more than evaluating it.  A
 * compiled expression holds no reference to the context or document it
 * was compiled with (prefixes and variables are looked up when it is
 * evaluated, and the contexts here have no dictionary), so documents and
 * threads share it as libxslt shares a stylesheet's.  Open addressing on
 * an FNV-1a hash; at most S_XMAX entries, after which expressions are
 * compiled per use as before. */
#define S_XMAX 8192

typedef struct S_xentry {
  char *expr;
  xmlXPathCompExprPtr comp;
} S_xentry;

static pthread_mutex_t S_xlock = PTHREAD_MUTEX_INITIALIZER;
static S_xentry *S_xtab;
static size_t S_xcap, S_xn;

static size_t
S_xhash(const char *s)
{
  uint64_t h = 0xcbf29ce484222325u;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 0x100000001b3u;
  return (size_t)h;
}

/* The slot of `expr` in the table (its entry, or the empty slot where it
 * goes); S_xlock held, S_xcap > 0. */
static S_xentry *
S_xslot(S_xentry *tab, size_t cap, const char *expr)
{
  size_t i = S_xhash(expr) & (cap - 1);
  while (tab[i].expr && strcmp(tab[i].expr, expr) != 0)
    i = (i + 1) & (cap - 1);
  return &tab[i];
}

static xmlXPathCompExprPtr
S_xlookup(const char *expr)
{
  xmlXPathCompExprPtr comp = NULL;
  pthread_mutex_lock(&S_xlock);
  if (S_xcap) {
    S_xentry *e = S_xslot(S_xtab, S_xcap, expr);
    comp = e->comp;
  }
  pthread_mutex_unlock(&S_xlock);
  return comp;
}

/* Keep `comp` for `expr` and return the one kept (another thread's when it
 * got there first); NULL when the table is full (the caller frees comp). */
static xmlXPathCompExprPtr
S_xinsert(const char *expr, xmlXPathCompExprPtr comp)
{
  xmlXPathCompExprPtr kept = NULL;
  pthread_mutex_lock(&S_xlock);
  if (S_xn < S_XMAX) {
    if (2 * (S_xn + 1) > S_xcap) {
      size_t cap = S_xcap ? 2 * S_xcap : 256;
      S_xentry *tab = bs_xcalloc(cap, sizeof *tab);
      for (size_t i = 0; i < S_xcap; i++)
        if (S_xtab[i].expr)
          *S_xslot(tab, cap, S_xtab[i].expr) = S_xtab[i];
      free(S_xtab);
      S_xtab = tab;
      S_xcap = cap;
    }
    S_xentry *e = S_xslot(S_xtab, S_xcap, expr);
    if (!e->expr) {
      e->expr = bs_xstrdup(expr);
      e->comp = comp;
      S_xn++;
    }
    kept = e->comp;
  }
  pthread_mutex_unlock(&S_xlock);
  return kept;
}

static void
S_xcleanup(void)
{
  pthread_mutex_lock(&S_xlock);
  for (size_t i = 0; i < S_xcap; i++)
    if (S_xtab[i].expr) {
      free(S_xtab[i].expr);
      xmlXPathFreeCompExpr(S_xtab[i].comp);
    }
  free(S_xtab);
  S_xtab = NULL;
  S_xcap = S_xn = 0;
  pthread_mutex_unlock(&S_xlock);
}

/* `expr` compiled, from the table or now; NULL if it does not compile
 * (the caller then evaluates it as text, which reports the error). */
static xmlXPathCompExprPtr
S_xcompiled(S_check *c, const char *expr)
{
  xmlXPathCompExprPtr comp = S_xlookup(expr);
  if (comp || c->x->dict)
    return comp;
  comp = xmlXPathCtxtCompile(c->x, BAD_CAST expr);
  free(c->xpath_error);
  c->xpath_error = NULL;
  if (!comp)
    return NULL;
  xmlXPathCompExprPtr kept = S_xinsert(expr, comp);
  if (kept != comp) {
    if (kept) {
      xmlXPathFreeCompExpr(comp);
      return kept;
    }
    /* table full: this one use only */
    c->xone = comp;
  }
  return comp;
}

/* Equations are mostly sums of cells: "new/@{key} + carried-over/@{key}",
 * "@natural + @business + ...".  For such an expression (terms of child
 * element names and one unprefixed attribute, joined by "+") the value
 * xmlXPathCastToNumber would give is found by walking the tree: each term
 * is the first such attribute in document order, as a number by XPath's
 * own conversion (NaN when there is none), added from the left.  Anything
 * else (functions, predicates, variables, other operators, spaces around
 * "/") is left to XPath. */
#define S_SIMPLE_STEPS 8

/* The first attribute `attr` of an element reached from `n` by the child
 * steps `st`, in document order. */
static xmlAttrPtr
S_first_attr(xmlNodePtr n, const bs_xname *st, int nst, const bs_xname *attr)
{
  if (nst == 0) {
    for (xmlAttrPtr a = n->properties; a; a = a->next)
      if (a->type == XML_ATTRIBUTE_NODE && !a->ns &&
          bs_xname_is(a->name, attr))
        return a;
    return NULL;
  }
  for (xmlNodePtr k = n->children; k; k = k->next)
    if (k->type == XML_ELEMENT_NODE && !k->ns && bs_xname_is(k->name, st)) {
      xmlAttrPtr a = S_first_attr(k, st + 1, nst - 1, attr);
      if (a)
        return a;
    }
  return NULL;
}

/* The number `expr` gives at element `ctx` when it is a simple sum; false
 * (and *out untouched) when it is not. */
static bool
S_simple_sum(xmlNodePtr ctx, const char *expr, double *out)
{
  if (!ctx || ctx->type != XML_ELEMENT_NODE)
    return false;
  const char *p = expr;
  double acc = 0;
  for (int term = 0;; term++) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
      p++;
    bs_xname st[S_SIMPLE_STEPS], attr;
    int nst = 0;
    while (*p != '@') {
      if (nst == S_SIMPLE_STEPS || !bs_xname_read(&p, &st[nst++]) ||
          *p++ != '/')
        return false;
    }
    p++;
    if (!bs_xname_read(&p, &attr))
      return false;
    double v = bs_xattr_number(S_first_attr(ctx, st, nst, &attr));
    acc = term ? acc + v : v;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
      p++;
    if (!*p)
      break;
    if (*p++ != '+')
      return false;
  }
  *out = acc;
  return true;
}

/* Evaluate `expr` at the context node; NULL after a reported data error. */
static xmlXPathObjectPtr
S_eval(S_check *c, xmlNodePtr rule, const char *expr)
{
  free(c->xpath_error);
  c->xpath_error = NULL;
  if (expr[0] == '/') {
    xmlXPathObjectPtr o = bs_xpath_paths(c->x->doc, expr);
    if (o)
      return o;
  }
  xmlXPathCompExprPtr comp = S_xcompiled(c, expr);
  xmlXPathObjectPtr o = comp ? xmlXPathCompiledEval(comp, c->x)
                             : xmlXPathEvalExpression(BAD_CAST expr, c->x);
  if (c->xone) {
    xmlXPathFreeCompExpr(c->xone);
    c->xone = NULL;
  }
  if (!o) {
    char *id = bs_xml_prop(rule, "id");
    char what[600];
    snprintf(what, sizeof what, "%s: rule %s: XPath \"%s\": %s",
             c->t->rules_path, id ? id : "?", expr,
             c->xpath_error ? c->xpath_error : "cannot be evaluated");
    bs_diag(&c->p->doc->diags, BS_ERROR, BS_D_REPORT_TYPE, NULL, 0, 0,
            c->t->name, what);
    free(id);
  }
  return o;
}

/* "sum(PATH/@NAME)" with the same PATH for every key of a rule
 * (R3: the sum of a column over every result row, once per column): PATH is evaluated once per context node and kept, and each
 * key's sum adds up the attribute NAME of its elements in document order
 * from 0, as XPath's sum() does.  PATH must be a node-set with no "|"
 * outside brackets (else "PATH/@NAME" would not be "(PATH)/@NAME"); when
 * it is not, or does not evaluate, the whole expression goes to XPath,
 * which reports any error as before. */
typedef struct S_pathmemo {
  xmlNodePtr node;      /* the context node it was evaluated at */
  char *path;
  xmlXPathObjectPtr set;
} S_pathmemo;

static void
S_pathmemo_clear(S_pathmemo *m)
{
  free(m->path);
  xmlXPathFreeObject(m->set);
  memset(m, 0, sizeof *m);
}

static bool
S_sum_attr(S_check *c, xmlNodePtr ctx, const char *expr, S_pathmemo *m,
           double *out)
{
  if (strncmp(expr, "sum(", 4) != 0)
    return false;
  const char *p = expr + 4, *end = expr + strlen(expr);
  if (end - p < 4 || end[-1] != ')')
    return false;
  /* the attribute name before the final ")" */
  const char *a = end - 1;
  while (a > p && ((a[-1] >= 'A' && a[-1] <= 'Z') ||
                   (a[-1] >= 'a' && a[-1] <= 'z') ||
                   (a[-1] >= '0' && a[-1] <= '9') || a[-1] == '_' ||
                   a[-1] == '-'))
    a--;
  const char *name = a;
  bs_xname attr;
  if (a - p < 3 || a[-1] != '@' || a[-2] != '/' ||
      !bs_xname_read(&name, &attr) || name != end - 1)
    return false;
  const char *pe = a - 2; /* PATH is [p, pe) */
  if (pe == p || pe[-1] == '/')
    return false;
  int depth = 0;
  char quote = 0;
  for (const char *q = p; q < pe; q++) {
    if (quote) {
      if (*q == quote)
        quote = 0;
    } else if (*q == '"' || *q == '\'') {
      quote = *q;
    } else if (*q == '(' || *q == '[') {
      depth++;
    } else if (*q == ')' || *q == ']') {
      if (--depth < 0)
        return false;
    } else if (*q == '|' && depth == 0) {
      return false;
    }
  }
  if (quote || depth)
    return false;
  size_t plen = (size_t)(pe - p);
  if (!m->set || m->node != ctx || strlen(m->path) != plen ||
      memcmp(m->path, p, plen) != 0) {
    S_pathmemo_clear(m);
    char *path = bs_xmalloc(plen + 1);
    memcpy(path, p, plen);
    path[plen] = '\0';
    xmlXPathCompExprPtr comp = S_xcompiled(c, path);
    xmlXPathObjectPtr o = NULL;
    if (comp) {
      c->x->node = ctx;
      o = xmlXPathCompiledEval(comp, c->x);
    }
    if (c->xone) {
      xmlXPathFreeCompExpr(c->xone);
      c->xone = NULL;
    }
    free(c->xpath_error);
    c->xpath_error = NULL;
    if (!o || o->type != XPATH_NODESET) {
      xmlXPathFreeObject(o);
      free(path);
      return false;
    }
    if (o->nodesetval)
      xmlXPathNodeSetSort(o->nodesetval);
    m->node = ctx;
    m->path = path;
    m->set = o;
  }
  double res = 0.0;
  xmlNodeSetPtr ns = m->set->nodesetval;
  for (int i = 0; ns && i < ns->nodeNr; i++) {
    xmlNodePtr n = ns->nodeTab[i];
    if (n->type != XML_ELEMENT_NODE)
      continue;
    for (xmlAttrPtr at = n->properties; at; at = at->next)
      if (at->type == XML_ATTRIBUTE_NODE && !at->ns &&
          bs_xname_is(at->name, &attr)) {
        res += bs_xattr_number(at);
        break;
      }
  }
  *out = res;
  return true;
}

/* The number an equation side gives at `node`: false after a reported
 * error. */
static bool
S_side(S_check *c, xmlNodePtr rule, xmlNodePtr node, const char *expr,
       S_pathmemo *m, double *out)
{
  if (S_simple_sum(node, expr, out) || S_sum_attr(c, node, expr, m, out))
    return true;
  c->x->node = node;
  xmlXPathObjectPtr o = S_eval(c, rule, expr);
  if (!o)
    return false;
  *out = xmlXPathCastToNumber(o);
  xmlXPathFreeObject(o);
  return true;
}

/* Format a rule value: integers without decimals, others shortest. */
static void
S_fmt_num(double v, char *out, size_t outsz)
{
  if (fabs(v) < 1e15 && v == floor(v))
    snprintf(out, outsz, "%.0f", v);
  else
    snprintf(out, outsz, "%.10g", v);
}

/* The message of `rule` in the document's language with its placeholders
 * filled: {left} {right}, {key} (label of the key attribute), {row} (label
 * of the context element), {=XPATH} (string value at the context). */
static char *
S_message(S_check *c, xmlNodePtr rule, const char *key, double left,
          double right)
{
  const char *want = c->p->doc->diags.lang == BS_LANG_EN ? "en" : "zh";
  char *tmpl = NULL;
  for (xmlNodePtr m = rule->children; m; m = m->next) {
    if (!bs_xml_is(m, "message"))
      continue;
    xmlChar *lang = xmlNodeGetLang(m);
    bool ok = lang && xmlStrcmp(lang, BAD_CAST want) == 0;
    xmlFree(lang);
    if (ok || !tmpl) {
      free(tmpl);
      xmlChar *t = xmlNodeGetContent(m);
      tmpl = bs_xstrdup(t ? (const char *)t : "");
      xmlFree(t);
      if (ok)
        break;
    }
  }
  if (!tmpl)
    tmpl = bs_xml_prop(rule, "id");
  if (!tmpl)
    tmpl = bs_xstrdup("rule failed");
  char *out = NULL;
  S_appendf(&out, "%s", "");
  const char *s = tmpl;
  while (*s) {
    const char *o = strchr(s, '{');
    const char *e = o ? strchr(o, '}') : NULL;
    if (!o || !e) {
      S_appendf(&out, "%s", s);
      break;
    }
    char *lit = bs_xmalloc((size_t)(o - s) + 1);
    memcpy(lit, s, (size_t)(o - s));
    lit[o - s] = '\0';
    S_appendf(&out, "%s", lit);
    free(lit);
    size_t nl = (size_t)(e - o - 1);
    char *name = bs_xmalloc(nl + 1);
    memcpy(name, o + 1, nl);
    name[nl] = '\0';
    char buf[512];
    if (strcmp(name, "left") == 0 || strcmp(name, "right") == 0) {
      S_fmt_num(name[0] == 'l' ? left : right, buf, sizeof buf);
      S_appendf(&out, "%s", buf);
    } else if (strcmp(name, "key") == 0) {
      /* keys name attributes (columns) or elements (rows) */
      const char *l =
          key ? S_label(c, "attribute", BAD_CAST key, buf, sizeof buf) : "";
      if (key && strcmp(l, key) == 0)
        l = S_label(c, "element", BAD_CAST key, buf, sizeof buf);
      S_appendf(&out, "%s", l);
    } else if (strcmp(name, "row") == 0) {
      xmlNodePtr n = c->x->node;
      if (n && n->type == XML_ATTRIBUTE_NODE)
        n = n->parent;
      S_appendf(&out, "%s",
                n ? S_label(c, "element", n->name, buf, sizeof buf) : "");
    } else if (name[0] == '=') {
      char *expr = S_subst_key(name + 1, key);
      xmlXPathObjectPtr v = S_eval(c, rule, expr);
      if (v) {
        xmlChar *str = xmlXPathCastToString(v);
        S_appendf(&out, "%s", str ? (const char *)str : "");
        xmlFree(str);
        xmlXPathFreeObject(v);
      }
      free(expr);
    } else {
      S_appendf(&out, "{%s}", name);
    }
    free(name);
    s = e + 1;
  }
  free(tmpl);
  return out;
}

static bs_severity
S_severity(xmlNodePtr rule)
{
  char *s = bs_xml_prop(rule, "severity");
  bs_severity sev = BS_ERROR;
  if (s && strcmp(s, "warning") == 0)
    sev = BS_WARNING;
  else if (s && strcmp(s, "note") == 0)
    sev = BS_NOTE;
  free(s);
  return sev;
}

/* The location a rule points at: its <at select=""/> evaluated at the
 * context, else the context node. */
static void
S_rule_loc(S_check *c, xmlNodePtr rule, const char *key, uint32_t *line,
           uint32_t *col)
{
  xmlNodePtr ctx = c->x->node;
  S_node_loc(c->p, ctx, line, col);
  for (xmlNodePtr a = rule->children; a; a = a->next) {
    if (!bs_xml_is(a, "at"))
      continue;
    char *sel = bs_xml_prop(a, "select");
    if (!sel)
      break;
    char *expr = S_subst_key(sel, key);
    xmlXPathObjectPtr o = S_eval(c, rule, expr);
    if (o && o->type == XPATH_NODESET && o->nodesetval &&
        o->nodesetval->nodeNr > 0)
      S_node_loc(c->p, o->nodesetval->nodeTab[0], line, col);
    xmlXPathFreeObject(o);
    free(expr);
    free(sel);
    break;
  }
  c->x->node = ctx;
}

/* Is `s` (trimmed) a number of the kind: "count" (non-negative integer),
 * "integer" (signed) or "amount" (non-negative decimal)? */
static bool
S_number_ok(const char *s, const char *kind)
{
  size_t i = 0;
  if (strcmp(kind, "integer") == 0 && (s[0] == '-' || s[0] == '+'))
    i++;
  size_t digits = 0;
  while (s[i] >= '0' && s[i] <= '9') {
    i++;
    digits++;
  }
  if (!digits || digits > 15)
    return false;
  if (strcmp(kind, "amount") == 0 && s[i] == '.') {
    i++;
    size_t frac = 0;
    while (s[i] >= '0' && s[i] <= '9') {
      i++;
      frac++;
    }
    if (!frac || frac > 6)
      return false;
  }
  return s[i] == '\0';
}

/* Does `s` hold a digit, ASCII or full-width (U+FF10..U+FF19, which are
 * EF BC 90..99 in UTF-8)?  A cell without one is a placeholder ("/", "无"),
 * not a mistyped number. */
static bool
S_has_digit(const char *s)
{
  const unsigned char *u = (const unsigned char *)s;
  for (; *u; u++) {
    if (*u >= '0' && *u <= '9')
      return true;
    if (u[0] == 0xEF && u[1] == 0xBC && u[2] >= 0x90 && u[2] <= 0x99)
      return true;
  }
  return false;
}

/* <cells select="XPATH" kind="count|integer|amount" where="…" where-en="…">:
 * every selected node must hold a number of the kind.  A bad cell is
 * reported and emptied (so the equations that use it are skipped). */
static void
S_cells(S_check *c, xmlNodePtr rule)
{
  char *sel = bs_xml_prop(rule, "select");
  char *kind = bs_xml_prop(rule, "kind");
  bool en = c->p->doc->diags.lang == BS_LANG_EN;
  char *where = bs_xml_prop(rule, en ? "where-en" : "where");
  if (!where)
    where = bs_xml_prop(rule, "where");
  if (!kind)
    kind = bs_xstrdup("count");
  c->x->node = xmlDocGetRootElement(c->x->doc);
  xmlXPathObjectPtr o = sel ? S_eval(c, rule, sel) : NULL;
  xmlNodeSetPtr ns = o && o->type == XPATH_NODESET ? o->nodesetval : NULL;
  for (int i = 0; ns && i < ns->nodeNr; i++) {
    xmlNodePtr n = ns->nodeTab[i];
    xmlChar *raw = xmlNodeGetContent(n);
    char none[1] = "";
    char *val = raw ? (char *)raw : none; /* trimmed in place */
    while (*val == ' ' || *val == '\t' || *val == '\n' || *val == '\r')
      val++;
    size_t len = strlen(val);
    while (len && strchr(" \t\r\n", val[len - 1]))
      val[--len] = '\0';
    if (!S_number_ok(val, kind)) {
      char buf[256], buf2[256], *desc = NULL;
      xmlNodePtr row = n->type == XML_ATTRIBUTE_NODE ? n->parent : n;
      const char *rl = S_label(c, "element", row->name, buf, sizeof buf);
      const char *cl = n->type == XML_ATTRIBUTE_NODE
                           ? S_label(c, "attribute", n->name, buf2,
                                     sizeof buf2)
                           : "";
      const char *w = where ? where : "{row} {col}";
      while (*w) {
        if (strncmp(w, "{row}", 5) == 0) {
          S_appendf(&desc, "%s", rl);
          w += 5;
        } else if (strncmp(w, "{col}", 5) == 0) {
          S_appendf(&desc, "%s", cl);
          w += 5;
        } else {
          S_appendf(&desc, "%c", *w++);
        }
      }
      uint32_t line, col;
      S_node_loc(c->p, n, &line, &col);
      bs_diags *d = &c->p->doc->diags;
      bs_severity sev = S_sev(c, BS_ERROR);
      if (!*val) {
        bs_diag(d, sev, BS_D_CELL_BLANK, c->p->doc->path, line, col,
                desc);
      } else if (!S_has_digit(val)) {
        bs_diag(d, sev, BS_D_CELL_PLACEHOLDER, c->p->doc->path, line,
                col, desc, val);
      } else {
        const char *what =
            strcmp(kind, "amount") == 0
                ? (en ? "a non-negative number (decimals allowed)"
                      : "非负数（可以有小数）")
            : strcmp(kind, "integer") == 0
                ? (en ? "an integer" : "整数")
                : (en ? "a non-negative integer" : "非负整数");
        bs_diag(d, sev, BS_D_CELL_VALUE, c->p->doc->path, line, col,
                desc, val, what);
      }
      free(desc);
      if (c->p->as_published) {
        S_emptied e = {n, xmlNodeGetContent(n)};
        bs_vec_push(&c->emptied, &e);
      }
      if (n->type == XML_ATTRIBUTE_NODE)
        xmlSetNsProp(n->parent, n->ns, n->name, BAD_CAST "");
      else
        xmlNodeSetContent(n, BAD_CAST "");
    }
    xmlFree(raw);
  }
  xmlXPathFreeObject(o);
  free(sel);
  free(kind);
  free(where);
}

/* One <rule>: for each context node (and each key), test and report. */
static void
S_rule(S_check *c, xmlNodePtr rule)
{
  char *context = bs_xml_prop(rule, "context");
  char *keys = bs_xml_prop(rule, "keys");
  char *when = bs_xml_prop(rule, "when");
  xmlNodePtr test = NULL;
  for (xmlNodePtr k = rule->children; k; k = k->next)
    if (bs_xml_is(k, "equal") || bs_xml_is(k, "assert")) {
      test = k;
      break;
    }
  char *left = test ? bs_xml_prop(test, "left") : NULL;
  char *right = test ? bs_xml_prop(test, "right") : NULL;
  char *assert_expr = test ? bs_xml_prop(test, "test") : NULL;
  bool is_equal = test && bs_xml_is(test, "equal");
  bs_severity sev = S_sev(c, S_severity(rule));
  if (!test || (is_equal && (!left || !right)) ||
      (!is_equal && !assert_expr)) {
    char *id = bs_xml_prop(rule, "id");
    char what[512];
    snprintf(what, sizeof what,
             "%s: rule %s has no <equal left=\"\" right=\"\"/> or "
             "<assert test=\"\"/>",
             c->t->rules_path, id ? id : "?");
    bs_diag(&c->p->doc->diags, BS_ERROR, BS_D_REPORT_TYPE, NULL, 0, 0,
            c->t->name, what);
    free(id);
    test = NULL;
  }

  bool when_keyed = when && strstr(when, "{key}");
  S_pathmemo memo = {0}; /* a sum's node-set at the current context */
  c->x->node = xmlDocGetRootElement(c->x->doc);
  xmlXPathObjectPtr ctxs = S_eval(c, rule, context ? context : "/*");
  xmlNodeSetPtr ns =
      ctxs && ctxs->type == XPATH_NODESET ? ctxs->nodesetval : NULL;
  for (int i = 0; test && ns && i < ns->nodeNr; i++) {
    char *klist = bs_xstrdup(keys ? keys : "");
    char *save = NULL;
    char *key = keys ? strtok_r(klist, " \t\n", &save) : NULL;
    int when_known = -1; /* the condition at this node, once evaluated */
    do {
      xmlNodePtr node = ns->nodeTab[i];
      c->x->node = node;
      bool applies = true;
      if (when && when_known >= 0) {
        applies = when_known;
      } else if (when) {
        char *e = S_subst_key(when, key);
        xmlXPathObjectPtr w = S_eval(c, rule, e);
        applies = w && xmlXPathCastToBoolean(w);
        /* without {key} the condition is the same for every key (an
         * expression in error is evaluated, and reported, for each) */
        if (w && !when_keyed)
          when_known = applies;
        xmlXPathFreeObject(w);
        free(e);
      }
      bool fails = false;
      double lv = 0, rv = 0;
      if (applies && is_equal && left && right) {
        char *le = S_subst_key(left, key), *re = S_subst_key(right, key);
        if (S_side(c, rule, node, le, &memo, &lv) &&
            S_side(c, rule, node, re, &memo, &rv)) {
          /* NaN: a cell already reported as not a number */
          fails = !isnan(lv) && !isnan(rv) && fabs(lv - rv) > 1e-9;
        }
        free(le);
        free(re);
      } else if (applies && !is_equal && assert_expr) {
        char *te = S_subst_key(assert_expr, key);
        c->x->node = node;
        xmlXPathObjectPtr to = S_eval(c, rule, te);
        fails = to && !xmlXPathCastToBoolean(to);
        xmlXPathFreeObject(to);
        free(te);
      }
      if (fails) {
        c->x->node = node;
        uint32_t line, col;
        S_rule_loc(c, rule, key, &line, &col);
        c->x->node = node;
        char *msg = S_message(c, rule, key, lv, rv);
        bs_diag(&c->p->doc->diags, sev, BS_D_RULE, c->p->doc->path, line,
                col, msg);
        free(msg);
      }
      key = keys ? strtok_r(NULL, " \t\n", &save) : NULL;
    } while (key);
    free(klist);
  }
  S_pathmemo_clear(&memo);
  xmlXPathFreeObject(ctxs);
  free(context);
  free(keys);
  free(when);
  free(left);
  free(right);
  free(assert_expr);
}

/* Check every rule of type `t` on `src`; `prev` is last year's root element
 * (NULL when none was given). */
static void
S_check_rules(bs_xml_parser *p, const S_type *t, xmlDocPtr src,
              xmlNodePtr prev)
{
  if (!t->rules)
    return;
  S_check c;
  memset(&c, 0, sizeof c);
  c.p = p;
  c.t = t;
  c.emptied = (bs_vec)BS_VEC_INIT(S_emptied);
  c.x = xmlXPathNewContext(src);
  c.x->error = S_xpath_error;
  c.x->userData = &c;
  xmlNodePtr root = xmlDocGetRootElement(t->rules);
  for (xmlNodePtr n = root ? root->children : NULL; n; n = n->next) {
    if (!bs_xml_is(n, "namespace"))
      continue;
    xmlChar *pre = xmlGetProp(n, BAD_CAST "prefix");
    xmlChar *uri = xmlGetProp(n, BAD_CAST "uri");
    if (pre && uri)
      xmlXPathRegisterNs(c.x, pre, uri);
    xmlFree(pre);
    xmlFree(uri);
  }
  xmlXPathRegisterVariable(c.x, BAD_CAST "previous",
                           xmlXPathNewNodeSet(prev));
  /* cells first: bad cells are emptied before the equations see them */
  for (xmlNodePtr n = root ? root->children : NULL; n; n = n->next)
    if (bs_xml_is(n, "cells"))
      S_cells(&c, n);
  for (xmlNodePtr n = root ? root->children : NULL; n; n = n->next)
    if (bs_xml_is(n, "rule"))
      S_rule(&c, n);
  bs_prose_check(p, t->rules, t->rules_path, t->name, c.x);
  /* as published: the cells print as the report wrote them (last first,
   * so that a cell two checks emptied gets its first, original text) */
  S_emptied *e = c.emptied.data;
  for (size_t i = c.emptied.len; i-- > 0;) {
    xmlNodePtr n = e[i].node;
    if (n->type == XML_ATTRIBUTE_NODE)
      xmlSetNsProp(n->parent, n->ns, n->name, e[i].text);
    else
      xmlNodeSetContent(n, e[i].text);
    xmlFree(e[i].text);
  }
  bs_vec_free(&c.emptied);
  free(c.xpath_error);
  xmlXPathFreeContext(c.x);
}

/* ------------------------------------------------------------------ */
/* Validation of a source against its type                              */

/* The schema for `root`'s format; NULL after a diagnostic. */
static xmlSchemaPtr
S_type_schema(bs_xml_parser *p, const S_type *t, xmlNodePtr root)
{
  const char *path = S_schema_path(t, root);
  if (!path && t->format_attr) {
    xmlChar *v = xmlGetProp(root, BAD_CAST t->format_attr);
    char *list = NULL;
    for (int i = 0; i < t->nvariants; i++)
      S_appendf(&list, "%s%s=\"%s\"", i ? ", " : "", t->format_attr,
                t->variants[i].value);
    uint32_t line, col;
    xmlAttrPtr a = xmlHasProp(root, BAD_CAST t->format_attr);
    if (a)
      S_attr_loc(p, a, &line, &col);
    else
      bs_xml_loc(p, root, &line, &col);
    bs_diag(&p->doc->diags, BS_ERROR, BS_D_REPORT_FORMAT, p->doc->path,
            line, col, v ? (const char *)v : "", list ? list : "");
    free(list);
    xmlFree(v);
    return NULL;
  }
  xmlSchemaPtr s = path ? bs_xml_schema(path) : NULL;
  if (!s)
    bs_diag(&p->doc->diags, BS_ERROR, BS_D_SCHEMA_LOAD, NULL, 0, 0,
            path ? bs_xml_schema_why(path) : t->name);
  return s;
}

/* ------------------------------------------------------------------ */
/* Mapping                                                              */

typedef struct S_srcnode {
  size_t off;
  xmlNodePtr node;
} S_srcnode;

/* Give every located element of `src` a bsloc:at attribute holding its
 * source offset; collect the elements (in document order, so by offset). */

/* The node after n in document order within root's subtree, or NULL
 * (descending into elements only). */
static xmlNodePtr
S_next_in(xmlNodePtr n, xmlNodePtr root)
{
  if (n->type == XML_ELEMENT_NODE && n->children)
    return n->children;
  while (n && n != root && !n->next)
    n = n->parent;
  if (!n || n == root)
    return NULL;
  return n->next;
}

static void
S_mark(xmlDocPtr src, bs_vec *nodes)
{
  xmlNodePtr root = xmlDocGetRootElement(src);
  xmlNsPtr ns = xmlNewNs(root, BAD_CAST S_LOC_NS, BAD_CAST "bsloc");
  for (xmlNodePtr n = root; n;) {
    if (n->type == XML_ELEMENT_NODE && n->_private) {
      char buf[32], *d = buf + sizeof buf; /* "%zu" */
      *--d = '\0';
      size_t v = S_offset_of(n);
      do
        *--d = (char)('0' + v % 10);
      while ((v /= 10) != 0);
      xmlSetNsProp(n, ns, BAD_CAST "at", BAD_CAST d);
      S_srcnode s = {S_offset_of(n), n};
      bs_vec_push(nodes, &s);
    }
    n = S_next_in(n, root);
  }
}

static xmlNodePtr
S_find_src(const bs_vec *nodes, size_t off)
{
  const S_srcnode *a = nodes->data;
  size_t lo = 0, hi = nodes->len;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (a[mid].off < off)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < nodes->len && a[lo].off == off ? a[lo].node : NULL;
}

/* Turn bsloc:at attributes of the result back into _private offsets, and
 * locate text copied from the source at that source text. */
static void
S_unmark(xmlDocPtr out, const bs_vec *nodes, size_t src_len)
{
  xmlNodePtr root = xmlDocGetRootElement(out);
  for (xmlNodePtr n = root; n;) {
    if (n->type == XML_ELEMENT_NODE) {
      xmlAttrPtr a = xmlHasNsProp(n, BAD_CAST "at", BAD_CAST S_LOC_NS);
      if (a) {
        /* the value as written by S_mark: one text node */
        xmlNodePtr t1 = a->children;
        bool one = t1 && t1->type == XML_TEXT_NODE && !t1->next && t1->content;
        xmlChar *v = one ? t1->content : xmlNodeGetContent((xmlNodePtr)a);
        size_t off = v ? (size_t)strtoull((const char *)v, NULL, 10)
                       : SIZE_MAX;
        if (!one)
          xmlFree(v);
        xmlRemoveProp(a);
        /* an offset we did not write (a stylesheet's own) locates nothing */
        xmlNodePtr s = off < src_len ? S_find_src(nodes, off) : NULL;
        if (off < src_len)
          n->_private = (void *)(uintptr_t)(off + 1);
        xmlNodePtr sc = s ? s->children : NULL;
        for (xmlNodePtr t = n->children; s && t; t = t->next) {
          if (t->type != XML_TEXT_NODE && t->type != XML_CDATA_SECTION_NODE)
            continue;
          for (xmlNodePtr k = sc; k; k = k->next)
            if ((k->type == XML_TEXT_NODE ||
                 k->type == XML_CDATA_SECTION_NODE) &&
                k->_private && xmlStrEqual(k->content, t->content)) {
              t->_private = k->_private;
              sc = k->next;
              break;
            }
        }
      }
    }
    n = S_next_in(n, root);
  }
  /* the namespace declarations that carried the marks go too */
  for (xmlNodePtr n = root; n;) {
    if (n->type == XML_ELEMENT_NODE) {
      xmlNsPtr *link = &n->nsDef;
      while (*link) {
        xmlNsPtr ns = *link;
        if (ns->href && xmlStrEqual(ns->href, BAD_CAST S_LOC_NS)) {
          *link = ns->next;
          ns->next = NULL;
          xmlFreeNs(ns);
        } else {
          link = &ns->next;
        }
      }
    }
    n = S_next_in(n, root);
  }
}

static xmlDocPtr
S_transform(bs_xml_parser *p, const S_type *t, xmlDocPtr src)
{
  bs_vec nodes = BS_VEC_INIT(S_srcnode);
  S_mark(src, &nodes);
  xsltTransformContextPtr tc = xsltNewTransformContext(t->xsl, src);
  xmlDocPtr out = NULL;
  if (tc) {
    xsltSetCtxtSecurityPrefs(S_secprefs, tc);
    xsltSetTransformErrorFunc(tc, NULL, S_collect_error);
    out = xsltApplyStylesheetUser(t->xsl, src, NULL, NULL, NULL, tc);
    if (tc->state == XSLT_STATE_ERROR || tc->state == XSLT_STATE_STOPPED) {
      xmlFreeDoc(out);
      out = NULL;
    }
    xsltFreeTransformContext(tc);
  }
  char *why = S_take_errors();
  if (!out || !xmlDocGetRootElement(out)) {
    xmlFreeDoc(out);
    out = NULL;
    char what[1200];
    snprintf(what, sizeof what, "%s: %s", t->xsl_path, why);
    bs_diag(&p->doc->diags, BS_ERROR, BS_D_REPORT_TYPE, p->doc->path, 0, 0,
            t->name, what);
  } else {
    S_unmark(out, &nodes, p->doc->src_len);
  }
  free(why);
  bs_vec_free(&nodes);
  return out;
}

/* Replay the diagnostics of last year's source into this document, with a
 * note that the cross-year rules were not checked. */
static void
S_previous_unusable(bs_xml_parser *p, const bs_report_source *prev,
                    const char *why_zh, const char *why_en)
{
  const bs_diagnostic *it = prev->doc->diags.items.data;
  for (size_t i = 0; i < prev->doc->diags.items.len; i++)
    bs_diag_text(&p->doc->diags, it[i].severity, it[i].code, it[i].file,
                 it[i].line, it[i].col, "%s", it[i].message);
  bs_diag(&p->doc->diags, BS_ERROR, BS_D_PREVIOUS, p->doc->path, 0, 0,
          prev->doc->path,
          p->doc->diags.lang == BS_LANG_EN ? why_en : why_zh);
}

int
bs_report_map(bs_xml_parser *p, xmlDocPtr src,
              const bs_report_source *previous, xmlDocPtr *core)
{
  *core = NULL;
  xmlNodePtr root = xmlDocGetRootElement(src);
  S_type *t = S_find(root, p->two_threads);
  if (!t)
    return 0;
  if (t->error) {
    bs_diag(&p->doc->diags, BS_ERROR, BS_D_REPORT_TYPE, p->doc->path, 0, 0,
            t->name, t->error);
    return 1;
  }
  xmlSchemaPtr schema = S_type_schema(p, t, root);
  if (!schema || !bs_xml_validate(p, schema, src))
    return 1;
  xmlNodePtr prev_root = NULL;
  if (previous) {
    if (!previous->xdoc || previous->doc->diags.errors)
      S_previous_unusable(p, previous,
                          "有错误，未做跨年度核对",
                          "has errors; the cross-year rules were not "
                          "checked");
    else if (previous->type != t)
      S_previous_unusable(p, previous,
                          "不是同一类报告，未做跨年度核对",
                          "is not a report of the same type; the "
                          "cross-year rules were not checked");
    else
      prev_root = xmlDocGetRootElement(previous->xdoc);
  }
  S_check_rules(p, t, src, prev_root);
  if (p->doc->diags.errors)
    return 1;
  *core = S_transform(p, t, src);
  return 1;
}

bool
bs_report_save(bs_document *doc, xmlDocPtr core, const char *path)
{
  /* under a temporary name, renamed into place: never a partial file */
  char *tmp = NULL;
  S_appendf(&tmp, "%s.tmp", path);
  xmlChar *mem = NULL;
  int size = 0;
  xmlDocDumpFormatMemoryEnc(core, &mem, &size, "UTF-8", 1);
  errno = 0;
  FILE *f = mem ? fopen(tmp, "wb") : NULL;
  bool ok = f && fwrite(mem, 1, (size_t)size, f) == (size_t)size;
  if (f && fclose(f) != 0)
    ok = false;
  ok = ok && rename(tmp, path) == 0;
  xmlFree(mem);
  if (!ok) {
    int e = errno ? errno : EIO;
    if (f)
      remove(tmp);
    bs_diag(&doc->diags, BS_ERROR, BS_D_IO_WRITE, NULL, 0, 0, path,
            strerror(e));
  }
  free(tmp);
  return ok;
}

/* ------------------------------------------------------------------ */
/* Last year's source                                                   */

bs_report_source *
bs_report_source_load(const char *path, bs_lang lang)
{
  bs_report_source *s = bs_xcalloc(1, sizeof *s);
  s->doc = bs_document_new(path, lang);
  size_t len = 0;
  unsigned char *buf = bs_read_file(path, BS_MAX_SOURCE_BYTES, &len);
  if (!buf) {
    bs_diag(&s->doc->diags, BS_ERROR, BS_D_IO_READ, s->doc->path, 0, 0,
            path, bs_io_strerror(errno, lang));
    return s;
  }
  bs_xml_parser p;
  bs_xml_parser_init(&p, s->doc);
  xmlDocPtr x = bs_xml_read(&p, buf, len);
  free(buf);
  S_type *t = x ? S_find(xmlDocGetRootElement(x), false) : NULL;
  if (x && !t) {
    uint32_t line, col;
    bs_xml_loc(&p, xmlDocGetRootElement(x), &line, &col);
    bs_diag(&s->doc->diags, BS_ERROR, BS_D_PREVIOUS, s->doc->path, line,
            col, path,
            lang == BS_LANG_EN ? "not a report source of a known type"
                               : "不是已知类型的报告源文件");
  } else if (t && t->error) {
    bs_diag(&s->doc->diags, BS_ERROR, BS_D_REPORT_TYPE, s->doc->path, 0, 0,
            t->name, t->error);
  } else if (t) {
    xmlSchemaPtr schema = S_type_schema(&p, t, xmlDocGetRootElement(x));
    if (schema && bs_xml_validate(&p, schema, x)) {
      s->xdoc = x;
      s->type = t;
      x = NULL;
    }
  }
  xmlFreeDoc(x);
  bs_xml_parser_done(&p);
  return s;
}

const char *
bs_report_source_path(const bs_report_source *s)
{
  return s && s->doc ? s->doc->path : NULL;
}

void
bs_report_source_free(bs_report_source *s)
{
  if (!s)
    return;
  xmlFreeDoc(s->xdoc);
  bs_document_free(s->doc);
  free(s);
}

int
bs_report_source_year(const bs_report_source *s)
{
  if (!s || !s->xdoc)
    return 0;
  xmlXPathContextPtr x = xmlXPathNewContext(s->xdoc);
  xmlXPathObjectPtr o =
      xmlXPathEvalExpression(BAD_CAST "number(/*/*[local-name()='meta']/"
                                      "*[local-name()='year'])",
                             x);
  double v = o ? xmlXPathCastToNumber(o) : NAN;
  xmlXPathFreeObject(o);
  xmlXPathFreeContext(x);
  return isnan(v) ? 0 : (int)v;
}

const char *
bs_report_source_type(const bs_report_source *s)
{
  return s && s->type ? s->type->name : NULL;
}

/* ------------------------------------------------------------------ */
/* Skeletons (banshi new)                                               */

char *
bs_report_type_skeleton(const char *name, const char *format, int year,
                        char **why)
{
  *why = NULL;
  pthread_mutex_lock(&S_lock);
  S_load_registry();
  char *dir = NULL, *known = NULL;
  for (int i = 0; i < S_ntypes; i++) {
    if (strcmp(S_types[i].name, name) == 0 && !dir)
      dir = bs_xstrdup(S_types[i].dir);
    S_appendf(&known, "%s%s", i ? ", " : "", S_types[i].name);
  }
  pthread_mutex_unlock(&S_lock);
  if (!dir) {
    S_appendf(why, "no report type '%s' (known: %s)", name,
              known ? known : "none");
    free(known);
    return NULL;
  }
  free(known);
  char *path = bs_path_join_new(dir, "type.xml");
  xmlDocPtr d = S_read_data(path);
  free(path);
  xmlNodePtr r = d ? xmlDocGetRootElement(d) : NULL;
  char *href = NULL, *formats = NULL;
  long best = -1;
  for (xmlNodePtr c = r ? r->children : NULL; c; c = c->next) {
    if (!bs_xml_is(c, "new"))
      continue;
    char *f = bs_xml_prop(c, "format"), *h = bs_xml_prop(c, "href");
    char *from = bs_xml_prop(c, "from-year");
    long fy = from ? strtol(from, NULL, 10) : 0;
    if (f)
      S_appendf(&formats, "%s%s", formats ? ", " : "", f);
    bool take = h && (format ? f && strcmp(f, format) == 0
                             : fy <= year && fy > best);
    if (!format && h && !href && best < 0 && fy > year)
      take = true; /* a year before every format: the first one */
    if (take) {
      free(href);
      href = bs_xstrdup(h);
      best = fy <= year ? fy : best;
    }
    free(f);
    free(h);
    free(from);
  }
  xmlFreeDoc(d);
  char *skel = href ? bs_path_join_new(dir, href) : NULL;
  if (!skel && formats)
    S_appendf(why, "report type '%s' has no format '%s' (formats: %s)", name,
              format ? format : "?", formats);
  else if (!skel)
    S_appendf(why, "report type '%s' has no skeleton to start from "
              "(type.xml names no <new href=\"\"/>)", name);
  free(href);
  free(formats);
  free(dir);
  return skel;
}
