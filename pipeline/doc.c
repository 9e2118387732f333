// SPDX-License-Identifier: Apache-2.0
/* doc.c - document tree; see doc.h.
 * Layer 2 (document): docs/architecture.md. */
#include "doc.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

bs_document *
bs_document_new(const char *path, bs_lang lang)
{
  bs_document *doc = bs_xcalloc(1, sizeof *doc);
  bs_arena_init(&doc->arena);
  bs_diags_init(&doc->diags, &doc->arena, lang);
  doc->path = bs_arena_strdup(&doc->arena, path ? path : "-");
  doc->dir = bs_path_dir(&doc->arena, doc->path);
  doc->meta.lang = "zh-CN";
  doc->body = bs_node_new(doc, BS_NODE_BODY, 0, 0);
  return doc;
}

void
bs_document_free(bs_document *doc)
{
  if (!doc)
    return;
  bs_diags_free(&doc->diags);
  bs_arena_free(&doc->arena);
  free(doc);
}

bs_node *
bs_node_new(bs_document *doc, bs_node_type type, uint32_t line, uint32_t col)
{
  bs_node *n = bs_arena_alloc(&doc->arena, sizeof *n);
  n->type = type;
  n->line = line;
  n->col = col;
  if (type == BS_NODE_TEXT)
    n->as.text.src_off = UINT32_MAX;
  if (type == BS_NODE_PARAGRAPH)
    n->as.para.indent = -1;
  return n;
}

void
bs_node_append(bs_node *parent, bs_node *child)
{
  assert(child->parent == NULL && child->prev == NULL && child->next == NULL);
  child->parent = parent;
  child->prev = parent->last;
  if (parent->last)
    parent->last->next = child;
  else
    parent->first = child;
  parent->last = child;
}

void
bs_node_unlink(bs_node *node)
{
  if (node->prev)
    node->prev->next = node->next;
  else if (node->parent)
    node->parent->first = node->next;
  if (node->next)
    node->next->prev = node->prev;
  else if (node->parent)
    node->parent->last = node->prev;
  node->parent = node->prev = node->next = NULL;
}

bs_node *
bs_node_walk_next(bs_node *node, const bs_node *root)
{
  if (node->first)
    return node->first;
  while (node && node != root) {
    if (node->next)
      return node->next;
    node = node->parent;
  }
  return NULL;
}

void
bs_document_set_source(bs_document *doc, const unsigned char *src,
                       size_t len)
{
  doc->src = src;
  doc->src_len = len;
  uint32_t n = 1;
  const unsigned char *end = src + len, *q;
  for (const unsigned char *at = src; at < end &&
       (q = memchr(at, '\n', (size_t)(end - at))) != NULL; at = q + 1)
    n++;
  doc->line_starts = bs_arena_alloc(&doc->arena, n * sizeof(uint32_t));
  doc->line_starts[0] = 0;
  uint32_t k = 1;
  for (const unsigned char *at = src; at < end &&
       (q = memchr(at, '\n', (size_t)(end - at))) != NULL; at = q + 1)
    doc->line_starts[k++] = (uint32_t)(q + 1 - src);
  doc->nlines = n;
  /* characters before each stride boundary: a column is then a difference
   * of two prefix counts plus at most two strides of counting */
  size_t nstrides = len / BS_LOC_STRIDE + 1;
  doc->chars_before =
      bs_arena_alloc(&doc->arena, nstrides * sizeof(uint32_t));
  uint32_t chars = 0;
  for (size_t s = 0; s < nstrides; s++) {
    doc->chars_before[s] = chars;
    size_t at = s * BS_LOC_STRIDE;
    if (at < len)
      chars += (uint32_t)bs_utf8_count(
          src + at, len - at < BS_LOC_STRIDE ? len - at : BS_LOC_STRIDE);
  }
}

/* Characters in src[0, off). */
static size_t
S_chars_before(const bs_document *doc, size_t off)
{
  size_t k = off / BS_LOC_STRIDE;
  size_t base = k * BS_LOC_STRIDE;
  return doc->chars_before[k] +
         bs_utf8_count(doc->src + base, off - base);
}

bool
bs_document_offset_loc(const bs_document *doc, size_t off, uint32_t *line,
                       uint32_t *col)
{
  *line = *col = 0;
  if (!doc->src || !doc->nlines)
    return false;
  if (off > doc->src_len)
    off = doc->src_len;
  /* binary search for the last line start <= off */
  uint32_t lo = 0, hi = doc->nlines - 1;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo + 1) / 2;
    if (doc->line_starts[mid] <= off)
      lo = mid;
    else
      hi = mid - 1;
  }
  *line = lo + 1;
  /* the characters from the line's start: counted directly on a short
   * line (the count of bytes that are not continuation bytes adds up, so
   * either way gives the same number), through the strides on a long one */
  size_t ls = doc->line_starts[lo];
  if (ls <= off && off - ls <= 2 * BS_LOC_STRIDE)
    *col = (uint32_t)bs_utf8_count(doc->src + ls, off - ls) + 1;
  else
    *col = (uint32_t)(S_chars_before(doc, off) - S_chars_before(doc, ls)) +
           1;
  return true;
}

/* Skip markup that produces no text inside a run of character data:
 * comments, processing instructions and CDATA delimiters.  Returns bytes
 * skipped. */
static size_t
S_skip_markup(const unsigned char *s, size_t n, bool *in_cdata)
{
  if (*in_cdata) {
    if (n >= 3 && memcmp(s, "]]>", 3) == 0) {
      *in_cdata = false;
      return 3;
    }
    return 0;
  }
  if (n >= 9 && memcmp(s, "<![CDATA[", 9) == 0) {
    *in_cdata = true;
    return 9;
  }
  if (n >= 4 && memcmp(s, "<!--", 4) == 0) {
    const unsigned char *e = s + 4;
    while ((size_t)(e - s) + 3 <= n && memcmp(e, "-->", 3) != 0)
      e++;
    return (size_t)(e - s) + 3 <= n ? (size_t)(e - s) + 3 : n;
  }
  if (n >= 2 && s[0] == '<' && s[1] == '?') {
    /* a processing instruction between two pieces of text */
    const unsigned char *e = s + 2;
    while ((size_t)(e - s) + 2 <= n && memcmp(e, "?>", 2) != 0)
      e++;
    return (size_t)(e - s) + 2 <= n ? (size_t)(e - s) + 2 : n;
  }
  return 0;
}

void
bs_document_text_loc(const bs_document *doc, const bs_node *n, size_t idx,
                     uint32_t *line, uint32_t *col)
{
  if (n->type != BS_NODE_TEXT || n->as.text.src_off == UINT32_MAX ||
      !doc->src || n->as.text.src_off > doc->src_len) {
    *line = n->line;
    *col = n->col;
    return;
  }
  /* Walk the source and the decoded text side by side. */
  const unsigned char *s = doc->src;
  size_t p = n->as.text.src_off, t = 0;
  bool in_cdata = false;
  while (t < idx && p < doc->src_len) {
    size_t k = S_skip_markup(s + p, doc->src_len - p, &in_cdata);
    if (k) {
      p += k;
      continue;
    }
    if (s[p] == '&' && !in_cdata) {
      /* a reference: one decoded character of 1..4 bytes */
      size_t e = p;
      while (e < doc->src_len && s[e] != ';' && e - p < 16)
        e++;
      uint32_t cp = '&';
      if (e - p > 2 && s[p + 1] == '#') {
        cp = (uint32_t)strtoul((const char *)s + p + (s[p + 2] == 'x' ? 3 : 2),
                               NULL, s[p + 2] == 'x' ? 16 : 10);
      }
      char tmp[4];
      t += (size_t)bs_utf8_encode(cp, tmp);
      p = e + 1;
      continue;
    }
    if (s[p] == '\r' && p + 1 < doc->src_len && s[p + 1] == '\n') {
      p++; /* CRLF is one newline in the decoded text */
      continue;
    }
    p++;
    t++;
  }
  bs_document_offset_loc(doc, p, line, col);
}

const char *
bs_node_type_name(bs_node_type t)
{
  static const char *names[] = {
      "body", "section", "heading", "paragraph", "list",   "item",
      "table", "caption", "row",    "cell",      "figure", "pagebreak",
      "text", "emph",    "strong", "break",
  };
  return (unsigned)t < sizeof names / sizeof *names ? names[t] : "?";
}
