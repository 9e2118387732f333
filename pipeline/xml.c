// SPDX-License-Identifier: Apache-2.0
/* xml.c - the secure XML reader: raw bytes -> located libxml2 tree.
 *
 * Design: the source is first decoded to UTF-8 here (BOM, then the encoding
 * of the XML declaration, converted with ICU), so that every later offset is
 * an offset into one UTF-8 buffer that we keep; libxml2 then parses that
 * buffer with XML_PARSE_IGNORE_ENC.  libxml2 keeps only line numbers on
 * nodes, so a thin wrapper around its SAX2 tree builder stores the byte
 * offset of every element's '<' and of every text node's first character in
 * the node's _private field; lines and columns are computed from those
 * offsets.  Validation against an XSD runs on the finished tree and its
 * errors are located the same way.  Compiled schemas are cached for the
 * process.  Both source kinds use this reader: core documents (parse.c) and
 * report sources (report.c); the front end (source.c) reads every source
 * with it and hands the tree to one and then the other.
 *
 * Security: DTDs with entity declarations or external identifiers are
 * refused (no entity expansion, no file or network access), XML_PARSE_NONET
 * is set, and nesting and size are limited (doc.h).
 *
 * Layer 3 (xml): docs/architecture.md. */
#include "xml.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlschemastypes.h>
#include <unicode/ucnv.h>
#include <unicode/ustring.h>

#include "util.h"

static pthread_once_t S_once;
static void S_init(void);

typedef bs_xml_parser S_parser; /* see xml.h */

/* ------------------------------------------------------------------ */
/* Decoding to UTF-8                                                    */

/* Find the encoding name in an ASCII-compatible XML declaration: only a
 * well-formed EncName (XML 1.0 [81]) inside a declaration closed by "?>"
 * within 512 bytes counts.  *at is the offset of the "encoding" keyword. */
static bool
S_decl_encoding(const unsigned char *s, size_t n, char *out, size_t outsz,
                size_t *at)
{
  if (n < 6 || memcmp(s, "<?xml", 5) != 0)
    return false;
  size_t end = 5;
  while (end + 1 < n && !(s[end] == '?' && s[end + 1] == '>') && end < 512)
    end++;
  if (end + 1 >= n || s[end] != '?' || s[end + 1] != '>')
    return false;
  const unsigned char *p = s;
  for (size_t i = 5; i + 8 < end; i++) {
    if (memcmp(p + i, "encoding", 8) != 0)
      continue;
    size_t j = i + 8;
    while (j < end && (p[j] == ' ' || p[j] == '\t' || p[j] == '\r' ||
                       p[j] == '\n'))
      j++;
    if (j >= end || p[j] != '=')
      return false;
    j++;
    while (j < end && (p[j] == ' ' || p[j] == '\t'))
      j++;
    if (j >= end || (p[j] != '"' && p[j] != '\''))
      return false;
    unsigned char q = p[j++];
    size_t k = 0;
    while (j < end && p[j] != q && k + 1 < outsz) {
      unsigned char c = p[j++];
      bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                (k > 0 && ((c >= '0' && c <= '9') || c == '.' || c == '_' ||
                           c == '-'));
      if (!ok)
        return false;
      out[k++] = (char)c;
    }
    out[k] = '\0';
    if (j >= end || p[j] != q)
      return false;
    if (at)
      *at = i;
    return k > 0;
  }
  return false;
}

static bool
S_is_utf8_name(const char *e)
{
  return strcasecmp(e, "UTF-8") == 0 || strcasecmp(e, "UTF8") == 0 ||
         strcasecmp(e, "US-ASCII") == 0 || strcasecmp(e, "ASCII") == 0;
}

/* Line and column (in characters) of byte `off` of a UTF-8 buffer that is
 * not yet the document's source (no line table). */
static void
S_buf_loc(const unsigned char *s, size_t off, uint32_t *line, uint32_t *col)
{
  size_t ls = 0;
  *line = 1;
  for (size_t i = 0; i < off; i++)
    if (s[i] == '\n') {
      (*line)++;
      ls = i + 1;
    }
  *col = (uint32_t)bs_utf8_count(s + ls, off - ls) + 1;
}

/* A byte order mark decides the encoding (XML 1.0 F.1); a declaration that
 * names another one is a leftover of an editor's conversion.  The text is
 * read as the mark says, with a warning at the declaration. */
static void
S_check_bom_decl(bs_document *doc, const unsigned char *utf8, size_t len,
                 const char *bom_enc)
{
  char decl[64];
  size_t at = 0;
  if (!S_decl_encoding(utf8, len, decl, sizeof decl, &at))
    return;
  bool utf16 = strncasecmp(bom_enc, "UTF-16", 6) == 0;
  if (utf16 ? strncasecmp(decl, "UTF-16", 6) == 0 ||
                  strcasecmp(decl, "UTF16") == 0
            : S_is_utf8_name(decl))
    return;
  /* the declaration may span lines */
  uint32_t line, col;
  S_buf_loc(utf8, at, &line, &col);
  bs_diag_text(&doc->diags, BS_WARNING, BS_D_XML_SYNTAX, doc->path, line, col,
               doc->diags.lang == BS_LANG_EN
                   ? "the file starts with a %s byte order mark but declares "
                     "encoding %s; it was read as %s"
                   : "文件以 %s 字节顺序标记开头，却声明编码为 %s；已按 %s 读取",
               bom_enc, decl, bom_enc);
}

/* Report the first invalid byte of a UTF-8 buffer at its line and column. */
static void
S_report_bad_utf8(bs_document *doc, const unsigned char *s, size_t n,
                  size_t bad, const char *enc)
{
  uint32_t line, col;
  S_buf_loc(s, bad < n ? bad : n, &line, &col);
  bs_diag_text(&doc->diags, BS_ERROR, BS_D_XML_SYNTAX, doc->path, line, col,
               doc->diags.lang == BS_LANG_EN
                   ? "invalid %s byte sequence (byte 0x%02X)"
                   : "无效的 %s 字节序列（字节 0x%02X）",
               enc, bad < n ? s[bad] : 0);
}

/* Convert buf (in encoding `enc`) to UTF-8 with ICU, stopping at the first
 * invalid sequence.  Returns malloc'd UTF-8 or NULL after a diagnostic. */
static unsigned char *
S_convert(bs_document *doc, const unsigned char *buf, size_t len,
          const char *enc, size_t *outlen)
{
  UErrorCode st = U_ZERO_ERROR;
  UConverter *cv = ucnv_open(enc, &st);
  if (U_FAILURE(st)) {
    bs_diag_text(&doc->diags, BS_ERROR, BS_D_XML_SYNTAX, doc->path, 1, 1,
                 doc->diags.lang == BS_LANG_EN
                     ? "unsupported encoding '%s'"
                     : "不支持的编码“%s”",
                 enc);
    return NULL;
  }
  ucnv_setToUCallBack(cv, UCNV_TO_U_CALLBACK_STOP, NULL, NULL, NULL, &st);
  size_t cap = len * 2 + 16;
  UChar *u = bs_xmalloc(cap * sizeof(UChar));
  UChar *target = u;
  const char *source = (const char *)buf;
  ucnv_toUnicode(cv, &target, u + cap, &source, (const char *)buf + len,
                 NULL, true, &st);
  size_t ulen = (size_t)(target - u);
  if (U_FAILURE(st)) {
    /* Locate the error in the text converted so far. */
    uint32_t line = 1, col = 1;
    for (size_t i = 0; i < ulen; i++) {
      if (u[i] == '\n') {
        line++;
        col = 1;
      } else if (!U16_IS_TRAIL(u[i])) {
        col++;
      }
    }
    char bytes[64];
    int8_t blen = 32;
    char raw[32];
    UErrorCode st2 = U_ZERO_ERROR;
    ucnv_getInvalidChars(cv, raw, &blen, &st2);
    size_t k = 0;
    for (int i = 0; i < blen && k + 6 < sizeof bytes; i++)
      k += (size_t)snprintf(bytes + k, sizeof bytes - k, "%s0x%02X",
                            i ? " " : "", (unsigned char)raw[i]);
    bytes[k] = '\0';
    bs_diag_text(&doc->diags, BS_ERROR, BS_D_XML_SYNTAX, doc->path, line, col,
                 doc->diags.lang == BS_LANG_EN
                     ? "invalid %s byte sequence (%s)"
                     : "无效的 %s 字节序列（%s）",
                 enc, bytes);
    free(u);
    ucnv_close(cv);
    return NULL;
  }
  ucnv_close(cv);
  /* UTF-16 -> UTF-8 */
  int32_t need = 0;
  st = U_ZERO_ERROR;
  u_strToUTF8(NULL, 0, &need, u, (int32_t)ulen, &st);
  st = U_ZERO_ERROR;
  unsigned char *out = bs_xmalloc((size_t)need + 1);
  u_strToUTF8((char *)out, need + 1, &need, u, (int32_t)ulen, &st);
  free(u);
  if (U_FAILURE(st)) {
    free(out);
    bs_diag_text(&doc->diags, BS_ERROR, BS_D_XML_SYNTAX, doc->path, 0, 0,
                 "%s", u_errorName(st));
    return NULL;
  }
  out[need] = '\0';
  *outlen = (size_t)need;
  return out;
}

/* Decode the raw file bytes to UTF-8.  Returns malloc'd memory or NULL after
 * a diagnostic. */
static unsigned char *
S_decode(bs_document *doc, const unsigned char *buf, size_t len,
         size_t *outlen)
{
  char enc[64];
  const char *bom = NULL;
  if (len >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF) {
    buf += 3;
    len -= 3;
    bom = "UTF-8";
  } else if (len >= 2 && ((buf[0] == 0xFF && buf[1] == 0xFE) ||
                          (buf[0] == 0xFE && buf[1] == 0xFF))) {
    bom = buf[0] == 0xFF ? "UTF-16LE" : "UTF-16BE";
    unsigned char *out = S_convert(doc, buf + 2, len - 2, bom, outlen);
    if (out)
      S_check_bom_decl(doc, out, *outlen, bom);
    return out;
  } else if (len >= 4 && buf[0] == 0 && buf[1] == '<' && buf[2] == 0) {
    return S_convert(doc, buf, len, "UTF-16BE", outlen);
  } else if (len >= 4 && buf[0] == '<' && buf[1] == 0 && buf[3] == 0) {
    return S_convert(doc, buf, len, "UTF-16LE", outlen);
  } else if (S_decl_encoding(buf, len, enc, sizeof enc, NULL) &&
             !S_is_utf8_name(enc)) {
    if (strncasecmp(enc, "UTF-16", 6) == 0) {
      bs_diag_text(&doc->diags, BS_ERROR, BS_D_XML_SYNTAX, doc->path, 1, 1,
                   doc->diags.lang == BS_LANG_EN
                       ? "declared encoding %s but the file has no UTF-16 "
                         "byte order"
                       : "声明的编码为 %s，但文件不是 UTF-16 字节序列",
                   enc);
      return NULL;
    }
    return S_convert(doc, buf, len, enc, outlen);
  }
  size_t bad = bs_utf8_check(buf, len);
  if (bad < len) {
    S_report_bad_utf8(doc, buf, len, bad, "UTF-8");
    return NULL;
  }
  if (bom)
    S_check_bom_decl(doc, buf, len, bom);
  unsigned char *out = bs_xmalloc(len + 1);
  memcpy(out, buf, len);
  out[len] = '\0';
  *outlen = len;
  return out;
}

/* ------------------------------------------------------------------ */
/* SAX wrappers that record source offsets                              */

static size_t
S_offset(S_parser *p)
{
  long c = xmlByteConsumed(p->ctxt);
  if (c < 0)
    return 0;
  if ((size_t)c > p->doc->src_len)
    return p->doc->src_len;
  return (size_t)c;
}

static void
S_loc(S_parser *p, xmlNodePtr node, uint32_t *line, uint32_t *col)
{
  *line = *col = 0;
  while (node && !node->_private)
    node = node->parent;
  if (node && node->_private) {
    size_t off = (size_t)(uintptr_t)node->_private - 1;
    bs_document_offset_loc(p->doc, off, line, col);
  } else if (node) {
    *line = (uint32_t)xmlGetLineNo(node);
  }
}

static void
S_stop(S_parser *p, uint32_t line, uint32_t col, const char *en,
       const char *zh)
{
  if (p->stopped)
    return;
  p->stopped = true;
  bs_diag_text(&p->doc->diags, BS_ERROR, BS_D_XML_SYNTAX, p->doc->path, line,
               col, "%s", p->doc->diags.lang == BS_LANG_EN ? en : zh);
  xmlStopParser(p->ctxt);
}

static void
S_here(S_parser *p, uint32_t *line, uint32_t *col)
{
  bs_document_offset_loc(p->doc, S_offset(p), line, col);
}

static void
S_start_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                const xmlChar *URI, int nb_namespaces,
                const xmlChar **namespaces, int nb_attributes,
                int nb_defaulted, const xmlChar **attributes)
{
  xmlParserCtxtPtr ctxt = ctx;
  S_parser *p = ctxt->_private;
  size_t off = S_offset(p);
  const unsigned char *s = p->doc->src;
  size_t start = off;
  while (start > 0 && s[start] != '<')
    start--;
  size_t end = off;
  while (end < p->doc->src_len && s[end] != '>')
    end++;
  p->markup_end = end < p->doc->src_len ? end + 1 : end;
  if (++p->depth > BS_MAX_DEPTH) {
    uint32_t line, col;
    bs_document_offset_loc(p->doc, start, &line, &col);
    char en[96], zh[96];
    snprintf(en, sizeof en, "elements nested deeper than %d levels",
             BS_MAX_DEPTH);
    snprintf(zh, sizeof zh, "元素嵌套超过 %d 层", BS_MAX_DEPTH);
    S_stop(p, line, col, en, zh);
    return;
  }
  xmlSAX2StartElementNs(ctx, localname, prefix, URI, nb_namespaces,
                        namespaces, nb_attributes, nb_defaulted, attributes);
  if (ctxt->node)
    ctxt->node->_private = (void *)(uintptr_t)(start + 1);
}

static void
S_end_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
              const xmlChar *URI)
{
  xmlParserCtxtPtr ctxt = ctx;
  S_parser *p = ctxt->_private;
  p->depth--;
  xmlSAX2EndElementNs(ctx, localname, prefix, URI);
  p->markup_end = S_offset(p);
}

static void
S_mark_new_text(S_parser *p, xmlNodePtr before)
{
  xmlNodePtr parent = p->ctxt->node;
  if (!parent)
    return;
  xmlNodePtr now = parent->last;
  if (now && now != before && !now->_private)
    now->_private = (void *)(uintptr_t)(p->markup_end + 1);
}

static void
S_characters(void *ctx, const xmlChar *ch, int len)
{
  xmlParserCtxtPtr ctxt = ctx;
  S_parser *p = ctxt->_private;
  xmlNodePtr before = ctxt->node ? ctxt->node->last : NULL;
  xmlSAX2Characters(ctx, ch, len);
  S_mark_new_text(p, before);
}

static void
S_cdata(void *ctx, const xmlChar *value, int len)
{
  xmlParserCtxtPtr ctxt = ctx;
  S_parser *p = ctxt->_private;
  xmlNodePtr before = ctxt->node ? ctxt->node->last : NULL;
  xmlSAX2CDataBlock(ctx, value, len);
  S_mark_new_text(p, before);
  p->markup_end = S_offset(p);
}

static void
S_comment(void *ctx, const xmlChar *value)
{
  xmlParserCtxtPtr ctxt = ctx;
  S_parser *p = ctxt->_private;
  xmlSAX2Comment(ctx, value);
  p->markup_end = S_offset(p);
}

static void
S_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
  xmlParserCtxtPtr ctxt = ctx;
  S_parser *p = ctxt->_private;
  xmlSAX2ProcessingInstruction(ctx, target, data);
  p->markup_end = S_offset(p);
}

/* Where the declaration that the parser has just read starts: the last
 * `what` ("<!ENTITY", "<!DOCTYPE") before the current offset, so that the
 * message points at the declaration rather than past its end. */
static void
S_decl_start(S_parser *p, const char *what, uint32_t *line, uint32_t *col)
{
  size_t off = S_offset(p), n = strlen(what);
  const unsigned char *s = p->doc->src;
  size_t limit = off > 65536 ? off - 65536 : 0;
  for (size_t i = off >= n ? off - n + 1 : 0; i-- > limit;)
    if (memcmp(s + i, what, n) == 0) {
      off = i;
      break;
    }
  bs_document_offset_loc(p->doc, off, line, col);
}

static void
S_internal_subset(void *ctx, const xmlChar *name, const xmlChar *ExternalID,
                  const xmlChar *SystemID)
{
  xmlParserCtxtPtr ctxt = ctx;
  S_parser *p = ctxt->_private;
  if (ExternalID || SystemID) {
    uint32_t line, col;
    S_decl_start(p, "<!DOCTYPE", &line, &col);
    S_stop(p, line, col,
           "external DTDs are not allowed in banshi sources (nothing was "
           "loaded)",
           "源文件中不允许引用外部 DTD（未加载任何内容）");
    return;
  }
  xmlSAX2InternalSubset(ctx, name, ExternalID, SystemID);
}

static void
S_entity_decl(void *ctx, const xmlChar *name, int type,
              const xmlChar *publicId, const xmlChar *systemId,
              xmlChar *content)
{
  xmlParserCtxtPtr ctxt = ctx;
  S_parser *p = ctxt->_private;
  (void)name;
  (void)type;
  (void)publicId;
  (void)systemId;
  (void)content;
  uint32_t line, col;
  S_decl_start(p, "<!ENTITY", &line, &col);
  S_stop(p, line, col,
         "entity declarations are not allowed in banshi sources (nothing "
         "was expanded or loaded)",
         "源文件中不允许声明实体（未展开、未加载任何内容）");
}

/* The entity loader of the whole process.  Sources parsed here never load
 * anything; the project's own data (schemas including schemas, XSLT) may
 * read local files but never the network. */
static xmlParserInputPtr
S_entity_loader(const char *URL, const char *ID, xmlParserCtxtPtr ctxt)
{
  if (ctxt && ctxt->sax && ctxt->sax->startElementNs == S_start_element) {
    S_parser *p = ctxt->_private;
    if (p) {
      uint32_t line, col;
      S_here(p, &line, &col);
      S_stop(p, line, col, "external resources are never loaded",
             "不加载任何外部资源");
    }
    return NULL;
  }
  return xmlNoNetExternalEntityLoader(URL, ID, ctxt);
}

/* A libxml2 message as one line of valid UTF-8, in memory the caller
 * frees (bs_diag copies what it reports into the arena): libxml2
 * quotes pieces of the source after a line break ("CData section not
 * finished\n<50 bytes>") cut at a byte count, which would split a
 * diagnostic over lines and leave half a character at its end.  A run
 * of line breaks and tabs becomes one space; bytes of a cut character are
 * dropped; trailing spaces go. */
static char *
S_clean_message(const char *m)
{
  if (!m)
    m = "?";
  size_t n = strlen(m), k = 0;
  char *out = bs_xmalloc(n + 1);
  const unsigned char *s = (const unsigned char *)m;
  for (size_t i = 0; i < n;) {
    uint32_t cp;
    int l = bs_utf8_decode(s + i, n - i, &cp);
    if (l <= 0) {
      i++;
      continue;
    }
    if (cp < 0x20) {
      if (k && out[k - 1] != ' ')
        out[k++] = ' ';
    } else {
      memcpy(out + k, s + i, (size_t)l);
      k += (size_t)l;
    }
    i += (size_t)l;
  }
  while (k && out[k - 1] == ' ')
    k--;
  out[k] = '\0';
  return out;
}

static void
S_structured_error(void *ctx, xmlErrorPtr err)
{
  /* For parser errors libxml2 passes the parser context. */
  xmlParserCtxtPtr ctxt = ctx;
  S_parser *p = ctxt ? ctxt->_private : NULL;
  if (!p || !err || p->stopped)
    return;
  bs_severity sev = err->level == XML_ERR_WARNING ? BS_WARNING : BS_ERROR;
  uint32_t line = err->line > 0 ? (uint32_t)err->line : 0;
  uint32_t col = err->int2 > 0 ? (uint32_t)err->int2 : 0;
  char *msg = S_clean_message(err->message);
  bs_diag(&p->doc->diags, sev, BS_D_XML_SYNTAX, p->doc->path, line, col, msg);
  free(msg);
  /* XML is not recoverable after a fatal error (XML 1.0 §1.2): what
   * libxml2 would report next is a cascade of the first error. */
  if (err->level == XML_ERR_FATAL) {
    p->stopped = true;
    xmlStopParser(ctxt);
  }
}

typedef struct S_schema_err {
  xmlNodePtr node;     /* element the error is about (NULL if unknown) */
  uint32_t line, col;
  bs_severity sev;
  char *message;       /* owned; freed with the pass (S_schema_errs_clear) */
  bool unexpected;     /* "This element is not expected" */
} S_schema_err;

static void
S_schema_error(void *ctx, xmlErrorPtr err)
{
  S_parser *p = ctx;
  if (!err)
    return;
  xmlNodePtr node = err->node;
  if (node && node->type == XML_ATTRIBUTE_NODE)
    node = node->parent;
  S_schema_err e;
  memset(&e, 0, sizeof e);
  e.node = node && node->type == XML_ELEMENT_NODE ? node : NULL;
  if (node)
    S_loc(p, node, &e.line, &e.col);
  else if (err->line > 0)
    e.line = (uint32_t)err->line;
  e.sev = err->level == XML_ERR_WARNING ? BS_WARNING : BS_ERROR;
  e.message = S_clean_message(err->message);
  e.unexpected = strstr(e.message, "This element is not expected") != NULL;
  bs_vec_push(&p->schema_errs, &e);
}

/* Forget the errors of a validation pass.  Their messages are not kept in
 * the document's arena: every pass reports the errors of the passes before
 * it again, and a source with many errors made the arena grow with the
 * passes times the errors (1.5 MB for a 12 KB source). */
static void
S_schema_errs_clear(S_parser *p)
{
  S_schema_err *errs = p->schema_errs.data;
  for (size_t i = 0; i < p->schema_errs.len; i++)
    free(errs[i].message);
  p->schema_errs.len = 0;
}

static bool
S_is_ancestor_or_self(xmlNodePtr a, xmlNodePtr n)
{
  for (; n; n = n->parent)
    if (n == a)
      return true;
  return false;
}

/* Schema errors reported so far, as a set of 64-bit hashes of line, column
 * and message (open addressing): a document with 40,000 errors took 9 s
 * when each new error was compared with every earlier one. */
typedef struct S_seen {
  uint64_t *keys; /* 0 = empty */
  size_t cap, len;
} S_seen;

static uint64_t
S_err_key(const S_schema_err *e)
{
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  const uint32_t lc[2] = {e->line, e->col};
  const unsigned char *b = (const unsigned char *)lc;
  for (size_t i = 0; i < sizeof lc; i++)
    h = (h ^ b[i]) * 1099511628211ULL;
  for (const unsigned char *m = (const unsigned char *)e->message; *m; m++)
    h = (h ^ *m) * 1099511628211ULL;
  return h ? h : 1;
}

/* Add `key`; false if it was there already. */
static bool
S_seen_add(S_seen *s, uint64_t key)
{
  if (2 * (s->len + 1) > s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 256;
    uint64_t *keys = bs_xcalloc(cap, sizeof *keys);
    for (size_t i = 0; i < s->cap; i++)
      if (s->keys[i]) {
        size_t j = s->keys[i] & (cap - 1);
        while (keys[j])
          j = (j + 1) & (cap - 1);
        keys[j] = s->keys[i];
      }
    free(s->keys);
    s->keys = keys;
    s->cap = cap;
  }
  size_t j = key & (s->cap - 1);
  while (s->keys[j]) {
    if (s->keys[j] == key)
      return false;
    j = (j + 1) & (s->cap - 1);
  }
  s->keys[j] = key;
  s->len++;
  return true;
}

/* Validate, report, and validate again without the elements that were not
 * expected, so that one stray element does not hide the problems after it
 * (libxml2 stops checking a content model at its first error).  Errors at
 * the parents of removed elements in later passes are consequences of the
 * removal and are not reported. */
static bool
S_validate(S_parser *p, xmlSchemaPtr schema, xmlDocPtr xdoc)
{
  enum { MAX_PASSES = 32 };
  xmlNodePtr parents[MAX_PASSES * 8];
  int nparents = 0;
  S_seen seen = {NULL, 0, 0};
  bool valid = true;
  for (int pass = 0; pass < MAX_PASSES; pass++) {
    S_schema_errs_clear(p);
    xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema);
    xmlSchemaSetValidStructuredErrors(vc, S_schema_error, p);
    int rc = xmlSchemaValidateDoc(vc, xdoc);
    xmlSchemaFreeValidCtxt(vc);
    if (rc == 0)
      break;
    valid = false;
    S_schema_err *errs = p->schema_errs.data;
    size_t n = p->schema_errs.len;
    int removed = 0;
    for (size_t i = 0; i < n; i++) {
      S_schema_err *e = &errs[i];
      bool dup = false;
      for (int k = 0; k < nparents && !dup; k++)
        dup = e->node && S_is_ancestor_or_self(e->node, parents[k]);
      if (dup || !S_seen_add(&seen, S_err_key(e)))
        continue;
      bs_diag(&p->doc->diags, e->sev, BS_D_SCHEMA, p->doc->path, e->line,
              e->col, e->message);
    }
    for (size_t i = 0; i < n; i++) {
      S_schema_err *e = &errs[i];
      if (!e->unexpected || !e->node || !e->node->parent ||
          e->node->parent->type != XML_ELEMENT_NODE ||
          nparents >= (int)(sizeof parents / sizeof *parents))
        continue;
      parents[nparents++] = e->node->parent;
      xmlUnlinkNode(e->node);
      xmlFreeNode(e->node);
      /* later errors of this pass may point into the freed subtree */
      for (size_t k = i + 1; k < n; k++)
        errs[k].node = NULL;
      removed++;
      break;
    }
    if (!removed)
      break;
  }
  S_schema_errs_clear(p);
  free(seen.keys);
  if (!valid && p->doc->diags.errors == 0)
    bs_diag(&p->doc->diags, BS_ERROR, BS_D_SCHEMA, p->doc->path, 0, 0,
            "the document is not valid");
  return valid;
}

/* ------------------------------------------------------------------ */
/* Schema cache: compiled once per process, shared read-only by threads.
 * The table's lock is not held while a schema compiles, so two threads
 * compile two schemas at once (a fresh render compiles the core
 * document's schema on its second thread while the first compiles the
 * source's, job.c); a thread asking for a schema another is compiling
 * waits for it.  A schema that fails leaves no entry: it is compiled
 * again when next asked for, as before the cache. */

#define S_MAX_SCHEMAS 16
static struct {
  char *path;
  xmlSchemaPtr schema;
  bool loading;
} S_schemas[S_MAX_SCHEMAS];
static pthread_mutex_t S_schema_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t S_schema_done = PTHREAD_COND_INITIALIZER;

static void
S_ignore_generic(void *ctx, const char *msg, ...)
{
  (void)ctx;
  (void)msg;
}

/* Why this thread's last schema failed: "FILE:LINE: MESSAGE" of the
 * first error libxml2 gave, or "". */
static _Thread_local char S_why[512];

static void
S_keep_first(void *ctx, xmlErrorPtr err)
{
  (void)ctx;
  if (S_why[0] || !err)
    return;
  const char *m = err->message ? err->message : "";
  size_t n = strlen(m);
  while (n && (m[n - 1] == '\n' || m[n - 1] == ' '))
    n--;
  if (err->file && err->line > 0)
    snprintf(S_why, sizeof S_why, "%s:%d: %.*s", err->file, err->line,
             (int)n, m);
  else if (err->file)
    snprintf(S_why, sizeof S_why, "%s: %.*s", err->file, (int)n, m);
  else
    snprintf(S_why, sizeof S_why, "%.*s", (int)n, m);
}

static xmlSchemaPtr
S_schema(const char *path)
{
  pthread_once(&S_once, S_init);
  pthread_mutex_lock(&S_schema_lock);
  int i, slot;
  for (;;) {
    i = slot = -1;
    for (int k = 0; k < S_MAX_SCHEMAS && i < 0; k++)
      if (!S_schemas[k].path) {
        if (slot < 0)
          slot = k;
      } else if (strcmp(S_schemas[k].path, path) == 0)
        i = k;
    if (i < 0 || !S_schemas[i].loading)
      break;
    pthread_cond_wait(&S_schema_done, &S_schema_lock);
  }
  xmlSchemaPtr found = NULL;
  if (i >= 0)
    found = S_schemas[i].schema;
  else if (slot >= 0) {
    i = slot;
    S_schemas[i].path = bs_xstrdup(path);
    S_schemas[i].loading = true;
    pthread_mutex_unlock(&S_schema_lock);
    /* libxml2 prints what the parser context's handler does not take
     * (the XSD files' own XML errors) through the thread's generic and
     * structured handlers: silenced here, so that a schema that cannot be
     * loaded says so once, by its diagnostic, on whichever thread
     * compiled it */
    xmlGenericErrorFunc old_generic = xmlGenericError;
    void *old_generic_ctx = xmlGenericErrorContext;
    xmlStructuredErrorFunc old_structured = xmlStructuredError;
    void *old_structured_ctx = xmlStructuredErrorContext;
    S_why[0] = '\0';
    xmlSetGenericErrorFunc(NULL, S_ignore_generic);
    xmlSetStructuredErrorFunc(NULL, S_keep_first);
    xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(path);
    if (pc) {
      xmlSchemaSetParserStructuredErrors(pc, S_keep_first, NULL);
      found = xmlSchemaParse(pc);
      xmlSchemaFreeParserCtxt(pc);
    }
    xmlSetStructuredErrorFunc(old_structured_ctx, old_structured);
    xmlSetGenericErrorFunc(old_generic_ctx, old_generic);
    pthread_mutex_lock(&S_schema_lock);
    S_schemas[i].loading = false;
    S_schemas[i].schema = found;
    if (!found) {
      /* the slot is freed: the next to ask compiles again (a file fixed
       * meanwhile), and failures do not fill the table */
      free(S_schemas[i].path);
      S_schemas[i].path = NULL;
    }
    pthread_cond_broadcast(&S_schema_done);
  }
  pthread_mutex_unlock(&S_schema_lock);
  return found;
}

void
bs_xml_cleanup(void)
{
  pthread_mutex_lock(&S_schema_lock);
  for (int i = 0; i < S_MAX_SCHEMAS; i++) {
    if (!S_schemas[i].path || S_schemas[i].loading)
      continue; /* one still compiling is its thread's (a misuse) */
    xmlSchemaFree(S_schemas[i].schema);
    free(S_schemas[i].path);
    S_schemas[i].path = NULL;
    S_schemas[i].schema = NULL;
  }
  pthread_mutex_unlock(&S_schema_lock);
}

/* ------------------------------------------------------------------ */

static pthread_once_t S_once = PTHREAD_ONCE_INIT;

/* Process-wide libxml2 set-up: nothing external is ever loaded, by any
 * parser of this process (sources, schemas, stylesheets alike).  The
 * built-in XSD types are made here, once: libxml2 2.9 makes them on the
 * first schema compiled, unguarded, and two threads may compile at once. */
static void
S_init(void)
{
  xmlInitParser();
  xmlSchemaInitTypes();
  xmlSetExternalEntityLoader(S_entity_loader);
}

/* Decode, keep the source and parse it; see bs_xml_read. */
static xmlDocPtr
S_read(S_parser *p, const unsigned char *raw, size_t rawlen)
{
  bs_document *doc = p->doc;
  size_t len = 0;
  unsigned char *utf8 = S_decode(doc, raw, rawlen, &len);
  if (!utf8)
    return NULL;
  /* Keep the UTF-8 source in the arena for locations. */
  unsigned char *src = bs_arena_alloc(&doc->arena, len + 1);
  memcpy(src, utf8, len + 1);
  free(utf8);
  bs_document_set_source(doc, src, len);
  if (len > INT32_MAX) {
    bs_diag(&doc->diags, BS_ERROR, BS_D_IO_READ, doc->path, 0, 0, doc->path,
            "too large");
    return NULL;
  }

  if (len == 0 || (len < 64 && strspn((const char *)src, " \t\r\n") == len)) {
    bs_diag_text(&doc->diags, BS_ERROR, BS_D_XML_SYNTAX, doc->path, 1, 0,
                 "%s", doc->diags.lang == BS_LANG_EN
                           ? "the file is empty: not an XML document"
                           : "文件为空，不是 XML 文档");
    return NULL;
  }
  xmlParserCtxtPtr ctxt =
      xmlCreateMemoryParserCtxt((const char *)src, (int)len);
  if (!ctxt) {
    bs_diag(&doc->diags, BS_ERROR, BS_D_XML_SYNTAX, doc->path, 0, 0,
            "cannot create parser");
    return NULL;
  }
  p->ctxt = ctxt;
  ctxt->_private = p;
  xmlSAXHandler *sax = ctxt->sax;
  sax->startElementNs = S_start_element;
  sax->endElementNs = S_end_element;
  sax->characters = S_characters;
  sax->ignorableWhitespace = S_characters;
  sax->cdataBlock = S_cdata;
  sax->comment = S_comment;
  sax->processingInstruction = S_pi;
  sax->internalSubset = S_internal_subset;
  sax->externalSubset = NULL;
  sax->entityDecl = S_entity_decl;
  sax->serror = S_structured_error;
  sax->error = NULL;
  sax->warning = NULL;
  sax->initialized = XML_SAX2_MAGIC;
  xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_IGNORE_ENC |
                              XML_PARSE_NOCDATA * 0 | XML_PARSE_BIG_LINES);
  ctxt->replaceEntities = 0;
  ctxt->loadsubset = 0;
  ctxt->validate = 0;
  pthread_once(&S_once, S_init);
  xmlParseDocument(ctxt);
  xmlDocPtr xdoc = ctxt->myDoc;
  ctxt->myDoc = NULL;
  bool ok = ctxt->wellFormed && !p->stopped && xdoc;
  if (!ok && doc->diags.errors == 0)
    bs_diag(&doc->diags, BS_ERROR, BS_D_XML_SYNTAX, doc->path, 0, 0,
            "not a well-formed XML document");
  xmlFreeParserCtxt(ctxt);
  p->ctxt = NULL;
  if (!ok) {
    xmlFreeDoc(xdoc);
    return NULL;
  }
  return xdoc;
}

/* ------------------------------------------------------------------ */
/* xml.h                                                                */

const char *
bs_xml_schema_why(const char *path)
{
  return S_why[0] ? S_why : path;
}

void
bs_xml_init(void)
{
  pthread_once(&S_once, S_init);
}

void
bs_xml_parser_init(bs_xml_parser *p, bs_document *doc)
{
  memset(p, 0, sizeof *p);
  p->doc = doc;
  p->schema_errs.esize = sizeof(S_schema_err);
}

void
bs_xml_parser_done(bs_xml_parser *p)
{
  bs_vec_free(&p->schema_errs);
}

xmlDocPtr
bs_xml_read(bs_xml_parser *p, const unsigned char *raw, size_t rawlen)
{
  return S_read(p, raw, rawlen);
}

void
bs_xml_loc(bs_xml_parser *p, xmlNodePtr node, uint32_t *line, uint32_t *col)
{
  S_loc(p, node, line, col);
}

bool
bs_xml_validate(bs_xml_parser *p, xmlSchemaPtr schema, xmlDocPtr xdoc)
{
  return S_validate(p, schema, xdoc);
}

xmlSchemaPtr
bs_xml_schema(const char *path)
{
  return S_schema(path);
}

bool
bs_xml_is(xmlNodePtr n, const char *name)
{
  return n && n->type == XML_ELEMENT_NODE &&
         xmlStrcmp(n->name, BAD_CAST name) == 0;
}

char *
bs_xml_prop(xmlNodePtr n, const char *name)
{
  xmlChar *v = xmlGetProp(n, BAD_CAST name);
  char *s = bs_xstrdup((const char *)v);
  xmlFree(v);
  return s;
}
