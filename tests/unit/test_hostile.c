// SPDX-License-Identifier: Apache-2.0
/* Unit tests of the defences against hostile and broken sources: source
 * locations on long single-line sources, the byte-order-mark check, libxml2
 * messages as one line of UTF-8, bracket matching in normalisation. */
#include <stdlib.h>

#include "harness.h"
#include "pipeline.h"
#include "util.h"

void test_hostile(test_state *st);

#define DOC_HEAD                                                               \
  "<document version=\"1\"><meta><title>标题</title><issuer>机关</issuer>"     \
  "<date>2021-01-05</date></meta>"

/* Columns from the prefix counts equal a plain count from the line start,
 * for characters of one to four bytes on one very long line. */
static void
S_columns(test_state *st)
{
  static const char *pieces[] = {"a", "é", "政", "😀", "\n"};
  size_t cap = 200000, len = 0;
  unsigned char *src = malloc(cap);
  unsigned seed = 7;
  while (len + 8 < cap) {
    seed = seed * 1103515245 + 12345;
    const char *p = pieces[(seed >> 16) % (len > cap / 2 ? 5 : 4)];
    size_t n = strlen(p);
    memcpy(src + len, p, n);
    len += n;
  }
  bs_document *doc = bs_document_new("t.xml", BS_LANG_EN);
  bs_document_set_source(doc, src, len);
  int bad = 0;
  for (size_t off = 0; off <= len && bad < 3; off += 97) {
    while (off < len && (src[off] & 0xC0) == 0x80)
      off++;
    uint32_t line, col;
    bs_document_offset_loc(doc, off, &line, &col);
    uint32_t want_line = 1;
    size_t ls = 0;
    for (size_t i = 0; i < off; i++)
      if (src[i] == '\n') {
        want_line++;
        ls = i + 1;
      }
    uint32_t want_col = (uint32_t)bs_utf8_count(src + ls, off - ls) + 1;
    if (line != want_line || col != want_col)
      bad++;
    CHECK(st, line == want_line && col == want_col,
          "offset %zu: %u:%u, want %u:%u", off, line, col, want_line,
          want_col);
  }
  bs_document_free(doc);
  free(src);
}

static bs_document *
S_parse(const char *src, size_t len)
{
  return bs_parse_memory("t.xml", (const unsigned char *)src, len, NULL,
                         BS_LANG_EN);
}

void
test_hostile(test_state *st)
{
  S_columns(st);

  /* a UTF-8 byte order mark with a GBK declaration: read as UTF-8, a
   * warning at the keyword's column (counted in characters) */
  const char bom[] = "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"GBK\"?>\n" DOC_HEAD
                     "<body><p>正文</p></body></document>";
  bs_document *doc = S_parse(bom, sizeof bom - 1);
  CHECK_INT(st, doc->diags.errors, 0);
  CHECK_INT(st, doc->diags.warnings, 1);
  bs_diagnostic *d = doc->diags.items.data;
  CHECK_INT(st, d[0].line, 1);
  CHECK_INT(st, d[0].col, 21);
  CHECK(st, strstr(d[0].message, "byte order mark") != NULL, "%s",
        d[0].message);
  bs_document_free(doc);

  /* an encoding name that is not a name is not taken from the declaration:
   * libxml2 reports the declaration instead of ICU converting garbage */
  const char garbage[] = "<?xml version=\"1.0\" encoding=\"政府\"?>\n<d/>";
  doc = S_parse(garbage, sizeof garbage - 1);
  CHECK(st, doc->diags.errors > 0, "bad encoding name accepted");
  d = doc->diags.items.data;
  CHECK(st, doc->diags.items.len > 0 && !strstr(d[0].message, "unsupported"),
        "%s", doc->diags.items.len ? d[0].message : "");
  bs_document_free(doc);

  /* libxml2 quotes the source after a line break, cut at a byte count:
   * the message is one line of UTF-8 */
  char cdata[512];
  int n = snprintf(cdata, sizeof cdata,
                   "<?xml version=\"1.0\"?>\n" DOC_HEAD
                   "<body><p><![CDATA[%s</p></body></document>",
                   "政府信息公开政府信息公开政府信息公开政府信息公开");
  doc = S_parse(cdata, (size_t)n);
  CHECK_INT(st, doc->diags.errors, 1);
  d = doc->diags.items.data;
  size_t ml = strlen(d[0].message);
  CHECK(st, !strchr(d[0].message, '\n'), "several lines: %s", d[0].message);
  CHECK(st, bs_utf8_check((const unsigned char *)d[0].message, ml) == ml,
        "not UTF-8: %s", d[0].message);
  bs_document_free(doc);

  /* brackets matched in one pass: nested pairs and a lone '(' */
  const char br[] = "<?xml version=\"1.0\"?>\n" DOC_HEAD
                    "<body><p>甲(乙(丙)丁)戊(己</p></body></document>";
  doc = S_parse(br, sizeof br - 1);
  bs_normalize_options no = {true};
  bs_normalize(doc, &no);
  const bs_node *t = doc->body->first ? doc->body->first->first : NULL;
  CHECK(st, t && t->type == BS_NODE_TEXT, "text");
  if (t)
    CHECK_STR(st, t->as.text.data, "甲（乙（丙）丁）戊(己");
  bs_document_free(doc);
}
