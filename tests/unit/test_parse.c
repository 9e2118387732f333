// SPDX-License-Identifier: Apache-2.0
/* Unit tests of parsing (locations on nodes, security) and normalisation. */
#include <stdlib.h>

#include <unicode/unorm2.h>
#include <unicode/utf16.h>

#include "harness.h"
#include "pipeline.h"
#include "util.h"

void test_parse(test_state *st);
void test_normalize(test_state *st);

#define HEAD                                                                   \
  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                               \
  "<document version=\"1\">\n"                                                 \
  "<meta><title>标题</title><issuer>机关</issuer>"                             \
  "<date>2021-01-05</date></meta>\n"

static bs_document *
S_parse(const char *src)
{
  return bs_parse_memory("t.xml", (const unsigned char *)src, strlen(src),
                         NULL, BS_LANG_EN);
}

static const char *
S_first_text(bs_node *n)
{
  for (; n; n = bs_node_walk_next(n, NULL))
    if (n->type == BS_NODE_TEXT)
      return n->as.text.data;
  return NULL;
}

void
test_parse(test_state *st)
{
  bs_document *doc = S_parse(HEAD "<body>\n"
                                  "  <section><heading>总体</heading>\n"
                                  "    <p>甲&amp;乙<em>丙</em></p>\n"
                                  "  </section>\n"
                                  "</body></document>\n");
  CHECK_INT(st, doc->diags.errors, 0);
  CHECK_STR(st, doc->meta.title, "标题");
  CHECK_INT(st, doc->meta.date_y, 2021);
  CHECK_INT(st, doc->meta.date_d, 5);
  bs_node *sec = doc->body->first;
  CHECK(st, sec && sec->type == BS_NODE_SECTION, "section");
  CHECK_INT(st, sec->line, 5);
  CHECK_INT(st, sec->col, 3);
  CHECK_INT(st, sec->as.section.level, 1);
  bs_node *p = sec->first->next;
  CHECK(st, p && p->type == BS_NODE_PARAGRAPH, "paragraph");
  CHECK_INT(st, p->line, 6);
  CHECK_INT(st, p->col, 5);
  bs_node *t = p->first;
  CHECK_STR(st, t->as.text.data, "甲&乙");
  /* the character after the entity is located after it in the source */
  uint32_t line, col;
  bs_document_text_loc(doc, t, 4, &line, &col); /* "乙" */
  CHECK_INT(st, line, 6);
  CHECK_INT(st, col, 14);
  CHECK(st, t->next && t->next->type == BS_NODE_EMPH, "emphasis");
  bs_document_free(doc);

  /* several schema errors are all reported, each with its location */
  doc = S_parse(HEAD "<body>\n<p align=\"middle\">x</p>\n<bogus/>\n</body>"
                     "</document>");
  CHECK_INT(st, doc->diags.errors, 2);
  bs_diagnostic *d = doc->diags.items.data;
  CHECK_INT(st, d[0].line, 5);
  CHECK_INT(st, d[0].col, 1);
  CHECK_INT(st, d[1].line, 6);
  bs_document_free(doc);

  /* an external entity is refused and nothing is read */
  doc = S_parse("<?xml version=\"1.0\"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "
                "\"file:///etc/passwd\">]>\n<document>&x;</document>");
  CHECK(st, doc->diags.errors > 0, "entity refused");
  bs_document_free(doc);

  /* invalid UTF-8 is located */
  doc = S_parse(HEAD "<body><p>好\xFF</p></body></document>");
  CHECK_INT(st, doc->diags.errors, 1);
  d = doc->diags.items.data;
  CHECK_INT(st, d[0].line, 4);
  CHECK_INT(st, d[0].col, 11);
  bs_document_free(doc);
}

static char *
S_norm(const char *para, bool enabled, unsigned *warnings)
{
  char src[4096];
  snprintf(src, sizeof src, HEAD "<body><p>%s</p></body></document>", para);
  bs_document *doc = S_parse(src);
  bs_normalize_options o = {enabled};
  bs_normalize(doc, &o);
  *warnings = doc->diags.warnings;
  const char *t = S_first_text(doc->body);
  char *out = strdup(t ? t : "");
  bs_document_free(doc);
  return out;
}

void
test_normalize(test_state *st)
{
  static const struct {
    const char *in, *out;
    unsigned warnings;
  } cases[] = {
      /* formatting white space: gone between CJK, one space elsewhere */
      {"第一行\n    第二行", "第一行第二行", 0},
      {"English\n    words", "English words", 0},
      {"  前后空白  ", "前后空白", 0},
      /* typed spaces inside Chinese text */
      {"政府 信息", "政府信息", 1},
      {"2020 年", "2020年", 1},
      {"共 12 件", "共12件", 2},
      {"PDF 文件", "PDF 文件", 0},
      /* full-width letters and digits */
      {"第１２３号ＡＢ", "第123号AB", 2},
      /* punctuation in Chinese text */
      {"收到申请,其中", "收到申请，其中", 1},
      {"如下:一是", "如下：一是", 1},
      {"完成.", "完成。", 1},
      {"(表三)", "（表三）", 2},
      {"他说\"你好\"", "他说“你好”", 2},
      /* but not in numbers or Latin text */
      {"1,000元", "1,000元", 0},
      {"10:30开会", "10:30开会", 0},
      {"v1.2版", "v1.2版", 0},
      {"see (page 3).", "see (page 3).", 0},
      /* NFC */
      {"e\xCC\x81t\xC3\xA9", "\xC3\xA9t\xC3\xA9", 1},
      /* one code point that NFC replaces: a CJK compatibility ideograph
       * (U+F900 -> U+8C48) and the Angstrom sign (U+212B -> U+00C5) */
      {"\xEF\xA4\x80\xE6\x96\x87", "\xE8\xB1\x88\xE6\x96\x87", 1},
      {"\xE2\x84\xAB", "\xC3\x85", 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    unsigned w;
    char *got = S_norm(cases[i].in, true, &w);
    CHECK(st, strcmp(got, cases[i].out) == 0, "case %zu: \"%s\" -> \"%s\", want \"%s\"",
          i, cases[i].in, got, cases[i].out);
    CHECK(st, w == cases[i].warnings, "case %zu \"%s\": %u warnings, want %u", i,
          cases[i].in, w, cases[i].warnings);
    free(got);
  }
  /* --no-normalize keeps the text; formatting white space still goes
   * between CJK characters and becomes one space elsewhere */
  unsigned w;
  char *got = S_norm("收到 申请,\n   其中１２\n  号", false, &w);
  CHECK_STR(st, got, "收到 申请, 其中１２号");
  CHECK_INT(st, w, 0);
  free(got);
  /* the code points NFC's check skips are each their own NFC by ICU */
  UErrorCode ue = U_ZERO_ERROR;
  const UNormalizer2 *nfc = unorm2_getNFCInstance(&ue);
  unsigned stable = 0, wrong = 0;
  for (UChar32 c = 0; c <= 0x10FFFF && U_SUCCESS(ue); c++) {
    if (!bs_nfc_stable((uint32_t)c) || U_IS_SURROGATE(c))
      continue;
    UChar u[2];
    int32_t n = 0;
    U16_APPEND_UNSAFE(u, n, c);
    UErrorCode e = U_ZERO_ERROR;
    UChar out[8];
    int32_t ol = unorm2_normalize(nfc, u, n, out, 8, &e);
    stable++;
    if (U_FAILURE(e) || ol != n || memcmp(out, u, (size_t)n * sizeof *u) != 0)
      wrong++;
  }
  CHECK(st, U_SUCCESS(ue) && stable > 20000 && wrong == 0,
        "%u code points taken as NFC-stable, %u of them change", stable, wrong);
}
