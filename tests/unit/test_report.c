// SPDX-License-Identifier: Apache-2.0
/* Unit tests of report types (report.c): a source of the test-only type in
 * tests/types is mapped to a core tree whose nodes are located in the report
 * source, and rule messages point at the attribute they are about. */
#include <math.h>
#include <stdlib.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <unicode/uregex.h>
#include <unicode/utext.h>

#include "harness.h"
#include "pipeline.h"
#include "prose.h"
#include "report.h"
#include "util.h"
#include "xpath.h"

void test_report(test_state *st);

#define BUDGET(total)                                                          \
  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                               \
  "<budget-summary xmlns=\"urn:banshi:test:budget-summary\" year=\"2022\">\n"  \
  "  <title>预算表</title><issuer>测试局</issuer><date>2022-02-10</date>\n"    \
  "  <intro>收入情况如下。</intro>\n"                                          \
  "  <income item=\"财政拨款收入\" amount=\"1200.5\"/>\n"                      \
  "  <income item=\"事业收入\" amount=\"300\"/>\n"                             \
  "  <total   amount=\"" total "\"/>\n"                                        \
  "</budget-summary>\n"

static bs_document *
S_parse(const char *src)
{
  return bs_parse_memory("b.xml", (const unsigned char *)src, strlen(src),
                         NULL, BS_LANG_ZH);
}

/* The walked paths and numbers of xpath.c against libxml2's XPath. */
static void
S_xpath_walk(test_state *st)
{
  static const char xdoc[] =
      "<r f='2021'><a><n t='3'/><n t='4.5'/><m t=''/><k><n t='7'/></k></a>"
      "<p>x<note>y</note></p><b t='0'/><p><p/></p><note/><a><n t='2'/></a>"
      "</r>";
  xmlDocPtr d = xmlReadMemory(xdoc, (int)sizeof xdoc - 1, "x.xml", NULL, 0);
  xmlXPathContextPtr x = xmlXPathNewContext(d);
  static const char *const nums[] = {
      "/r/a/n/@t", "/r/a/n/@t + /r/b/@t", "100 * /r/a/n/@t div /r/b/@t",
      "100 * (/r/a/n/@t + /r/a/m/@t) div /r/a/n/@t", "sum(/r/a/n/@t)",
      "sum(/r/a/*/@t | /r/b/@t)", "sum(/r/a//n/@t)", "/r/x/@t",
      "sum(/r/x/@t)", "2 * 3 - 4 div 8", "/r[@f = '2021']/a/n/@t - 1",
      "/r[@f = '2019']/a/n/@t", "sum(//n/@t)", "/r/b/@t div /r/b/@t"};
  for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
    bs_xnum *prog = bs_xnum_compile(nums[i]);
    double v = -1, w = -2;
    CHECK(st, prog && bs_xnum_eval(prog, d, &v), "walked %s", nums[i]);
    xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST nums[i], x);
    w = o ? xmlXPathCastToNumber(o) : -3;
    xmlXPathFreeObject(o);
    CHECK(st, (isnan(v) && isnan(w)) || v == w, "%s: %g, XPath %g", nums[i],
          v, w);
    bs_xnum_free(prog);
  }
  static const char *const declined[] = {
      "-/r/b/@t", "/r/b/@t mod 2", "count(/r/a)", "sum(r/a/n/@t)",
      "sum(/r/a/descendant-or-self::*/@t)", "/r/b/@t = 0", "1.5 * 2", ""};
  for (size_t i = 0; i < sizeof declined / sizeof *declined; i++) {
    bs_xnum *prog = bs_xnum_compile(declined[i]);
    CHECK(st, !prog, "declined %s", declined[i]);
    bs_xnum_free(prog);
  }
  static const char *const sets[] = {"//p | //note", "//p", "//n/@t",
                                     "/r/a/n | /r/b | /r/a"};
  for (size_t i = 0; i < sizeof sets / sizeof *sets; i++) {
    xmlXPathObjectPtr o = bs_xpath_paths(d, sets[i]);
    xmlXPathObjectPtr q = xmlXPathEvalExpression(BAD_CAST sets[i], x);
    bool same = o && q && o->nodesetval && q->nodesetval &&
                o->nodesetval->nodeNr == q->nodesetval->nodeNr;
    for (int k = 0; same && k < o->nodesetval->nodeNr; k++)
      same = o->nodesetval->nodeTab[k] == q->nodesetval->nodeTab[k];
    CHECK(st, same, "walked %s", sets[i]);
    xmlXPathFreeObject(o);
    xmlXPathFreeObject(q);
  }
  xmlXPathFreeContext(x);
  xmlFreeDoc(d);
}

void
test_report(test_state *st)
{
  /* The registry is read once per process: name the test types first. */
  bs_arena a;
  bs_arena_init(&a);
  setenv("BANSHI_TYPES", bs_path_join(&a, bs_data_dir(), "tests/types"), 1);

  bs_document *doc = S_parse(BUDGET("1500.5"));
  CHECK_INT(st, doc->diags.errors, 0);
  CHECK_STR(st, doc->meta.title, "预算表");
  CHECK_INT(st, doc->meta.year, 2022);
  bs_node *p = doc->body->first;
  CHECK(st, p && p->type == BS_NODE_PARAGRAPH, "first block is the intro");
  if (p && p->first) {
    /* the paragraph and its text are located at <intro> and its text */
    CHECK_INT(st, p->line, 4);
    CHECK_INT(st, p->col, 3);
    uint32_t line, col;
    bs_document_text_loc(doc, p->first, 3, &line, &col); /* "情" */
    CHECK_INT(st, line, 4);
    CHECK_INT(st, col, 11);
  }
  bs_node *table = p ? p->next : NULL;
  CHECK(st, table && table->type == BS_NODE_TABLE, "a table follows");
  int rows = 0;
  for (bs_node *r = table ? table->first : NULL; r; r = r->next) {
    if (r->type != BS_NODE_ROW)
      continue;
    rows++;
    if (rows == 3) /* the second income line: located at its element */
      CHECK_INT(st, r->line, 6);
  }
  CHECK_INT(st, rows, 4);
  bs_document_free(doc);

  /* a rule violation: located at the total's amount attribute */
  doc = S_parse(BUDGET("1600"));
  CHECK_INT(st, doc->diags.errors, 1);
  const bs_diagnostic *d = doc->diags.items.data;
  if (doc->diags.items.len == 1) {
    CHECK_INT(st, d->line, 7);
    CHECK_INT(st, d->col, 12);
    CHECK_STR(st, d->message, "收入合计=1600，各收入项目之和=1500.5，应相等");
  }
  bs_document_free(doc);

  /* a blank amount: one message, and the sum rule does not also fire */
  doc = S_parse(BUDGET(""));
  CHECK_INT(st, doc->diags.errors, 1);
  d = doc->diags.items.data;
  if (doc->diags.items.len == 1)
    CHECK_INT(st, d->code, BS_D_CELL_BLANK);
  bs_document_free(doc);

  /* last year's source: loaded, typed and dated for batch callers */
  bs_report_source *prev = bs_report_source_load(
      bs_path_join(&a, bs_data_dir(), "tests/reports/sample-2020.xml"),
      BS_LANG_ZH);
  CHECK_STR(st, bs_report_source_type(prev), "disclosure-annual-report");
  CHECK_INT(st, bs_report_source_year(prev), 2020);
  bs_report_source_free(prev);

  /* numbers as prose writes them (prose.c) */
  static const struct {
    const char *text;
    double value; /* -1: not a number */
  } nums[] = {
      {"49", 49},        {"４９", 49},         {"0.5", 0.5},
      {"1,520", 1520},   {"12,345.5", 12345.5}, {"1,52", -1},
      {"1,5200", -1},    {"一百二十三", 123},   {"十二", 12},
      {"四十九", 49},    {"两千零五", 2005},    {"一万二千", 12000},
      {"二〇二一", 2021}, {"零", 0},             {"十", 10},
      {"三件", -1},      {"", -1},              {"1.", -1},
  };
  for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
    double v = -1;
    bool ok = bs_prose_number(nums[i].text, strlen(nums[i].text), &v);
    CHECK(st, ok == (nums[i].value >= 0) && (!ok || v == nums[i].value),
          "%s", nums[i].text);
  }

  /* what a text must contain for a pattern to match (prose.c): lists in
   * the order they are tried, " & " between lists; NULL where the
   * pattern is compiled with the rules.  Every pattern read is one ICU
   * compiles. */
  static const struct {
    const char *pattern, *want;
  } needs[] = {
      {"(?:新收|新收到|收到)(?:的)?申请(\\d+)件",
       "新收的申请|新收申请|收到的申请|收到申请 & 件"},
      {"予以公开(?<!(?:及|和)予以公开)[：:]?(\\d+)[件条]",
       "予以公开 & 件|条"},
      {"(?:未|没有)(?:发生|收到)(?:因[^，]{0,6})?(?:复议)",
       "未发生|未收到|没有发生|没有收到 & 复议"},
      /* a string dropped as covered moves the later ones down: each is
       * still compared with what it was (上年度结转 holds no other) */
      {"(?:本年新收|新收|上年结转|上年度结转)(\\d+)件",
       "新收|上年结转|上年度结转 & 件"},
      {"a|b", "a|b"},
      {"x(?:ab)*y", "x & y"},
      {"\\d+%", "%"},
      {"(?:a+|bc)d", "a|bc & d"},
      {"^[0-9０-９]{1,3}\\.?$", NULL},
      {".*", NULL},
      {"", NULL},
      {"(?i)abc", NULL},
      {"a{2,1}b", NULL},
      {"[z-a]b", NULL},
      {"(?<=a*)b", NULL},
      {"(?<=a{1,2})b", NULL},
      {"ab\\1", NULL},
      {"(?<n>x)y", NULL},
      {"[:alpha:]x", NULL},
      {"(ab", NULL},
      {"ab)", NULL},
      {"*a", NULL},
      {"a**", NULL},
      {"x{,3}", NULL},
      {"[]a]b", NULL},
      {"a\\qb", NULL},
      {"a\\", NULL},
      {"[ab", NULL},
      {"(?=a)*b", NULL},
  };
  for (size_t i = 0; i < sizeof needs / sizeof *needs; i++) {
    bs_prose_need need;
    bool known = bs_prose_needs(needs[i].pattern, &need);
    char got[512] = "";
    for (int k = 0; k < need.nsets; k++)
      for (int j = 0; j < need.n[k]; j++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s",
                 j ? "|" : k ? " & " : "", need.s[k][j]);
    CHECK(st, known == (needs[i].want != NULL), "%s", needs[i].pattern);
    if (known && needs[i].want)
      CHECK_STR(st, got, needs[i].want);
    if (known) {
      UErrorCode ust = U_ZERO_ERROR;
      UParseError pe;
      UText *ut = utext_openUTF8(NULL, needs[i].pattern, -1, &ust);
      URegularExpression *re = uregex_openUText(ut, 0, &pe, &ust);
      CHECK(st, U_SUCCESS(ust), "ICU refuses %s", needs[i].pattern);
      uregex_close(re);
      utext_close(ut);
    }
    bs_prose_need_free(&need);
  }
  /* texts checked against a need */
  bs_prose_need need;
  CHECK(st, bs_prose_needs("(?:新收|收到)\\d+件", &need), "need");
  CHECK(st, bs_prose_may_match(&need, "全年收到申请，共49件"), "may");
  CHECK(st, !bs_prose_may_match(&need, "全年收到申请49条"), "may not");
  bs_prose_need_free(&need);
  CHECK(st, bs_prose_needs("(?:本年新收|新收|上年结转|上年度结转)(\\d+)件",
                           &need), "need");
  CHECK(st, bs_prose_may_match(&need, "上年度结转3件"), "may");
  CHECK(st, !bs_prose_may_match(&need, "上年结余3件"), "may not");
  bs_prose_need_free(&need);
  bs_arena_free(&a);

  S_xpath_walk(st);
}
