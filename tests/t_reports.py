# SPDX-License-Identifier: Apache-2.0
"""Report types (schemas/*/type.xml): the 政府信息公开工作年度报告 in its two
official formats, its arithmetic rules (勾稽关系), the cross-year rule, and a
report type that lives only in the tests.

  reports-cases     tests/reports/cases/*.xml: diagnostics and exit status
                    must equal NAME.diag and NAME.rc (one broken source per
                    rule, several faults at once, English); --update rewrites
                    them for review.
  reports-render    a correct source in each format renders; every official
                    label comes back verbatim from the PDF (pdftotext), the
                    generated tables have the official merged cells, and the
                    PDFs pass Preflight.
  reports-example   the example report is a report source; the tables it
                    generates are the ones it used to spell out by hand.
  reports-types     a report type added as data (tests/types) works without
                    any C change, and is unknown without BANSHI_TYPES.
  reports-previous  the cross-year rules with --previous and its failures.
  reports-published tests/reports/published/*.xml, reports as they are
                    published (both formats, blank, "/" and other cells as
                    written, preambles, notes, prose that contradicts the
                    tables): --as-published diagnostics must equal NAME.diag
                    with exit 0; strict mode reports the same cells and rules
                    as errors; each renders to a PDF/A-1b that passes
                    Preflight with its cells as written; a batch of them
                    (manifest column as-published) archives each document's
                    findings in its metadata record; a source that becomes
                    invalid loses its old PDF; a type that claims a built-in
                    root is an error naming both.
  reports-new       banshi new: a source for both formats and every year
                    2019-2025 that validates (no error; only the warning of a
                    format not in force) and renders to PDF/A-1b; every table
                    row commented with its label; its refusals.
  reports-prose     tests/reports/prose/corpus.txt: phrasings of numbers in
                    prose, each with the findings it must give against the
                    2021 sample's tables (none on the samples and the
                    example).
"""
import difflib
import glob
import os
import re
import shutil
import xml.etree.ElementTree as ET

import bstest  # noqa: E402
from bstest import *  # noqa: F401,F403

REPORTS = os.path.join(HERE, "reports")
TYPES = os.path.join(HERE, "types")
SAMPLE_2019 = os.path.join(REPORTS, "sample-2020.xml")  # 2019 format
SAMPLE_2021 = os.path.join(REPORTS, "sample-2021.xml")

# ---------------------------------------------------------------------------
# The official tables, written from the formats themselves
# (shared/notes/disclosure-report-format.md §3-5), independently of the
# stylesheet: (text, colspan, rowspan) per label cell, N per number cell.

N = "N"
N2 = "N2"  # a number cell over two columns

T2_2019 = [
    # the form's five-column grid: three values split the width in thirds,
    # two values in halves
    [("第二十条第（一）项", 5, 1)],
    [("信息内容", 1, 1), ("本年新制作数量", 1, 1), ("本年新公开数量", 2, 1), ("对外公开总数量", 1, 1)],
    [("规章", 1, 1), N, N2, N],
    [("规范性文件", 1, 1), N, N2, N],
    [("第二十条第（五）项", 5, 1)],
    [("信息内容", 1, 1), ("上一年项目数量", 1, 1), ("本年增/减", 2, 1), ("处理决定数量", 1, 1)],
    [("行政许可", 1, 1), N, N2, N],
    [("其他对外管理服务事项", 1, 1), N, N2, N],
    [("第二十条第（六）项", 5, 1)],
    [("信息内容", 1, 1), ("上一年项目数量", 1, 1), ("本年增/减", 2, 1), ("处理决定数量", 1, 1)],
    [("行政处罚", 1, 1), N, N2, N],
    [("行政强制", 1, 1), N, N2, N],
    [("第二十条第（八）项", 5, 1)],
    [("信息内容", 1, 1), ("上一年项目数量", 2, 1), ("本年增/减", 2, 1)],
    [("行政事业性收费", 1, 1), N2, N2],
    [("第二十条第（九）项", 5, 1)],
    [("信息内容", 1, 1), ("采购项目数量", 2, 1), ("采购总金额", 2, 1)],
    [("政府集中采购", 1, 1), N2, N2],
]

T2_2021 = [
    [("第二十条第（一）项", 4, 1)],
    [("信息内容", 1, 1), ("本年制发件数", 1, 1), ("本年废止件数", 1, 1), ("现行有效件数", 1, 1)],
    [("规章", 1, 1), N, N, N],
    [("行政规范性文件", 1, 1), N, N, N],
    [("第二十条第（五）项", 4, 1)],
    [("信息内容", 1, 1), ("本年处理决定数量", 3, 1)],
    [("行政许可", 1, 1), "N3"],
    [("第二十条第（六）项", 4, 1)],
    [("信息内容", 1, 1), ("本年处理决定数量", 3, 1)],
    [("行政处罚", 1, 1), "N3"],
    [("行政强制", 1, 1), "N3"],
    [("第二十条第（八）项", 4, 1)],
    [("信息内容", 1, 1), ("本年收费金额（单位：万元）", 3, 1)],
    [("行政事业性收费", 1, 1), "N3"],
]

T3_HEAD = [
    [("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", 3, 3), ("申请人情况", 7, 1)],
    [("自然人", 1, 2), ("法人或其他组织", 5, 1), ("总计", 1, 2)],
    [("商业企业", 1, 1), ("科研机构", 1, 1), ("社会公益组织", 1, 1), ("法律服务机构", 1, 1), ("其他", 1, 1)],
]

SEVEN = [N] * 7


def t3_body(fmt):
    rows = [
        [("一、本年新收政府信息公开申请数量", 3, 1)] + SEVEN,
        [("二、上年结转政府信息公开申请数量", 3, 1)] + SEVEN,
        [("三、本年度办理结果", 1, 20 if fmt == "2019" else 22), ("（一）予以公开", 2, 1)] + SEVEN,
        [("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", 2, 1)] + SEVEN,
    ]
    groups = [
        ("（三）不予公开", ["1.属于国家秘密", "2.其他法律行政法规禁止公开", "3.危及“三安全一稳定”",
                       "4.保护第三方合法权益", "5.属于三类内部事务信息", "6.属于四类过程性信息",
                       "7.属于行政执法案卷", "8.属于行政查询事项"]),
        ("（四）无法提供", ["1.本机关不掌握相关政府信息", "2.没有现成信息需要另行制作",
                       "3.补正后申请内容仍不明确"]),
        ("（五）不予处理", ["1.信访举报投诉类申请", "2.重复申请", "3.要求提供公开出版物",
                       "4.无正当理由大量反复申请", "5.要求行政机关确认或重新出具已获取信息"]),
    ]
    if fmt == "2021":
        groups.append(("（六）其他处理", [
            "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
            "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
            "3.其他"]))
    for g, items in groups:
        for i, it in enumerate(items):
            first = [(g, 1, len(items))] if i == 0 else []
            rows.append(first + [(it, 1, 1)] + SEVEN)
    if fmt == "2019":
        rows.append([("（六）其他处理", 2, 1)] + SEVEN)
    rows.append([("（七）总计", 2, 1)] + SEVEN)
    rows.append([("四、结转下年度继续办理", 3, 1)] + SEVEN)
    return rows


T4_HEAD = [
    [("行政复议", 5, 1), ("行政诉讼", 10, 1)],
    [("结果维持", 1, 2), ("结果纠正", 1, 2), ("其他结果", 1, 2), ("尚未审结", 1, 2), ("总计", 1, 2),
     ("未经复议直接起诉", 5, 1), ("复议后起诉", 5, 1)],
    [(t, 1, 1) for t in ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 2],
]

HEADINGS = ["一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
            "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况",
            "六、其他需要报告的事项"]


def official(fmt):
    """The tables of a format: [(head rows, body rows)] for 二, 三, 四."""
    return [([], T2_2019 if fmt == "2019" else T2_2021),
            (T3_HEAD, t3_body(fmt)),
            (T4_HEAD, [[N] * 15])]


def grid_of(table):
    """[(head rows, body rows)] of a core <table> in the official notation."""
    def rows(group):
        out = []
        if group is None:
            return out
        for tr in group.findall("tr"):
            r = []
            for c in tr:
                t = re.sub(r"\s+", "", "".join(c.itertext()))
                if c.tag == "td" and re.fullmatch(r"-?[0-9.]+(万元|元)?", t):
                    r.append(N if c.get("colspan", "1") == "1" else N + c.get("colspan"))
                else:
                    r.append((t, int(c.get("colspan", "1")), int(c.get("rowspan", "1"))))
            out.append(r)
        return out
    return (rows(table.find("thead")), rows(table.find("tbody")))


def labels_of(fmt):
    out = []
    for head, body in official(fmt):
        for r in head + body:
            out.extend(c[0] for c in r if not isinstance(c, str))
    return out


def convert(a, src, name, env=None, extra=()):
    core = os.path.join(a.work, name + "-core.xml")
    if os.path.exists(core):
        os.remove(core)
    rc, out, err = run([a.banshi, "convert", src, "-o", core] + list(extra), env=env)
    if not check(rc == 0 and err == "", "convert %s: %d %r" % (src, rc, err)):
        return None
    return ET.parse(core).getroot()


# ---------------------------------------------------------------------------
# reports-cases

def group_cases(a):
    d = os.path.join(REPORTS, "cases")
    run_case_folder(a, d, 15, located=True)
    if a.update or bstest.CASE:
        return
    # The rule cases name exactly one rule each, with both sides' values.
    def diag(name):
        return open(os.path.join(d, name + ".diag"), encoding="utf-8").read().splitlines()
    r1 = diag("r1-balance")
    check(len(r1) == 2 and all("一+二=" in l and "三(七)+四=" in l for l in r1),
          "R1 case: %s" % r1)
    check(any("表三“自然人”列：一+二=43，三(七)+四=42，应相等" in l for l in r1), "R1 values: %s" % r1)
    r1en = diag("r1-balance-en")
    check(len(r1en) == 2 and "column “自然人”: 一+二 = 43, 三(七)+四 = 42" in r1en[0],
          "R1 in English: %s" % r1en)
    for name, needle, n in (("r2-row-total", "自然人与法人或其他组织各列之和", 2),
                            ("r3-results-total", "（一）至（六）各项之和", 2),
                            ("r4-review-total", "结果维持+结果纠正+其他结果+尚未审结", 1),
                            ("r5-blank", "未填写", 1), ("r5-placeholder", "“/”不是数字", 1),
                            ("r5-negative", "“-1”不是非负整数", 1),
                            ("r6-carry-over", "上年报告四、结转下年度继续办理", 3)):
        ls = diag(name)
        check(len(ls) == n and all(needle in l for l in ls),
              "case %s: want %d diagnostics with %r: %s" % (name, n, needle, ls))
    # every line a case points at holds the cell it names
    for name in ("r1-balance", "r2-row-total", "r4-review-total", "r5-blank", "r6-carry-over"):
        src = open(os.path.join(d, name + ".xml"), encoding="utf-8").read().splitlines()
        for l in diag(name):
            m = re.match(r"[^:]+:(\d+):(\d+):", l)
            line, col = int(m.group(1)), int(m.group(2))
            check(re.match(r"[a-z-]+=\"", src[line - 1][col - 1:]),
                  "case %s: %d:%d is not at an attribute: %r" % (name, line, col,
                                                                 src[line - 1][col - 1:col + 20]))
    multi = diag("multi")
    check(len(multi) >= 6, "multi: %s" % multi)
    check(len(set(multi)) == len(multi), "multi: a diagnostic repeated")


# ---------------------------------------------------------------------------
# reports-render

def group_render(a):
    pdfs = []
    for fmt, src in (("2019", SAMPLE_2019), ("2021", SAMPLE_2021)):
        root = convert(a, src, "sample-" + fmt)
        if root is None:
            continue
        tables = list(root.iter("table"))
        want = official(fmt)
        if check(len(tables) == 3, "%s: %d tables" % (fmt, len(tables))):
            for i, (t, w) in enumerate(zip(tables, want)):
                got = grid_of(t)
                if got != w:
                    diff = "\n".join(difflib.unified_diff(
                        [repr(r) for r in w[0] + w[1]], [repr(r) for r in got[0] + got[1]],
                        "official", "generated", lineterm=""))
                    fail("%s format, table %d differs from the official one:\n%s"
                         % (fmt, i + 2, diff))
        pdf = os.path.join(a.work, "report-%s.pdf" % fmt)
        rc, out, err = run([a.banshi, "render", src, "-o", pdf])
        if not check(rc == 0 and err == "", "render %s: %d %r" % (src, rc, err)):
            continue
        pdfs.append(pdf)
        rc, raw, err = run(["pdftotext", "-raw", "-enc", "UTF-8", pdf, "-"])
        flat = re.sub(r"\s+", "", raw)
        for seq in (HEADINGS, labels_of(fmt)):
            pos = 0
            for label in seq:
                i = flat.find(label, pos)
                if check(i >= 0, "%s: label missing or out of order in the PDF text: %s"
                         % (fmt, label)):
                    pos = i + len(label)
        # numbers of the source come back
        check("1520" in flat and "0.5" in flat if fmt == "2021" else "36.8万元" in flat,
              "%s: numbers of table 二" % fmt)
    # a folder of its own: ctest runs the pdfa group at the same time
    pf = os.path.join(a.work, "reports-preflight")
    os.makedirs(pf, exist_ok=True)
    res, log = preflight(pdfs, pf)
    for p in pdfs:
        v = res.get(os.path.basename(p))
        check(v and v[0] and not v[1], "preflight %s: %s" % (p, v))


# ---------------------------------------------------------------------------
# reports-example

def group_example(a):
    root = convert(a, EXAMPLE, "liwan")
    if root is None:
        return
    want = ET.parse(os.path.join(REPORTS, "liwan-tables.xml")).getroot().findall("table")

    def canon(e):
        return (e.tag, sorted(e.attrib.items()), (e.text or "").strip(),
                [canon(c) for c in e], (e.tail or "").strip())
    got = list(root.iter("table"))
    check(len(got) == 3 and [canon(t) for t in got] == [canon(t) for t in want],
          "example: generated tables differ from tests/reports/liwan-tables.xml")
    # and they are the official 2019-format tables
    check([grid_of(t) for t in got] == official("2019"), "example: not the official tables")
    # convert's command line
    rc, out, err = run([a.banshi, "convert", EXAMPLE])
    check(rc == 2 and "convert" in err, "convert without -o: %d %r" % (rc, err))
    rc, out, err = run([a.banshi, "convert", EXAMPLE, "-o", "/nonexistent-dir/core.xml"])
    check(rc == 3 and "/nonexistent-dir/core.xml" in err, "convert to nowhere: %d %r" % (rc, err))
    heads = ["".join(h.itertext()) for h in root.iter("heading")]
    check(heads[:1] == ["总体情况"] and "其他需要报告的事项" in heads, "example headings %s" % heads)
    # messages about generated text point into the source: a half-width
    # comma in the prose of section 六 is reported at its own line
    src = open(EXAMPLE, encoding="utf-8").read()
    bad = src.replace("无其他需要报告事项。", "无其他需要报告事项,特此说明。")
    f = os.path.join(a.work, "liwan-comma.xml")
    open(f, "w", encoding="utf-8").write(bad)
    line = bad[:bad.index(",特此")].count("\n") + 1
    col = len(bad[:bad.index(",特此")].rsplit("\n", 1)[1]) + 1
    rc, out, err = run([a.banshi, "validate", f])
    check(rc == 0 and ("liwan-comma.xml:%d:%d: warning:" % (line, col)) in err,
          "example: normalisation warning at %d:%d: %r" % (line, col, err))


# ---------------------------------------------------------------------------
# reports-types

BUDGET = """<?xml version="1.0" encoding="UTF-8"?>
<budget-summary xmlns="urn:banshi:test:budget-summary" year="2022">
  <title>测试局2022年部门预算收入总表</title>
  <issuer>测试局</issuer>
  <date>2022-02-10</date>
  <intro>本表列示2022年部门预算收入情况。</intro>
  <income item="财政拨款收入" amount="1200.5"/>
  <income item="事业收入" amount="300"/>
  <total amount="%s"/>
</budget-summary>
"""


def group_types(a):
    good = os.path.join(a.work, "budget.xml")
    open(good, "w", encoding="utf-8").write(BUDGET % "1500.5")
    env = {"BANSHI_TYPES": TYPES}
    # without the folder the type is unknown: the source is no core document
    rc, out, err = run([a.banshi, "validate", good])
    check(rc == 1 and "budget-summary" in err, "unknown type: %d %r" % (rc, err))
    # with it, the source validates, maps and renders, with no C change
    rc, out, err = run([a.banshi, "validate", good], env=env)
    check(rc == 0 and err == "", "test type validates: %d %r" % (rc, err))
    pdf = os.path.join(a.work, "budget.pdf")
    rc, out, err = run([a.banshi, "render", good, "-o", pdf], env=env)
    if check(rc == 0, "test type renders: %d %r" % (rc, err)):
        rc, text, err = run(["pdftotext", "-raw", "-enc", "UTF-8", pdf, "-"])
        flat = re.sub(r"\s+", "", text)
        for s in ("测试局2022年部门预算收入总表", "财政拨款收入1200.5", "事业收入300", "合计1500.5"):
            check(s in flat, "test type PDF lacks %s: %s" % (s, flat[:200]))
    # its own rule, in its own words, at the total's attribute
    bad = os.path.join(a.work, "budget-bad.xml")
    open(bad, "w", encoding="utf-8").write(BUDGET % "1600")
    rc, out, err = run([a.banshi, "validate", bad], env=env)
    check(rc == 1 and err == "%s:9:10: error: 收入合计=1600，各收入项目之和=1500.5，应相等\n" % bad,
          "test type rule: %d %r" % (rc, err))
    rc, out, err = run([a.banshi, "validate", bad, "--lang", "en"], env=env)
    check("total income = 1600, sum of the income lines = 1500.5" in err, "test type en: %r" % err)
    # a broken type is a failure naming it, not a crash
    broken = os.path.join(a.work, "types-broken")
    shutil.rmtree(broken, ignore_errors=True)
    shutil.copytree(os.path.join(TYPES, "budget-summary"), os.path.join(broken, "budget-summary"))
    with open(os.path.join(broken, "budget-summary", "budget-summary.xsl"), "a") as f:
        f.write("<not-closed>")
    rc, out, err = run([a.banshi, "validate", good], env={"BANSHI_TYPES": broken})
    check(rc == 3 and "budget-summary" in err and "budget-summary.xsl" in err,
          "broken type: %d %r" % (rc, err))
    # a schema that does not compile is said once, by its diagnostic, and
    # the same on two CPUs (compiled on a second thread while the
    # stylesheet compiles) as on one; no raw libxml2 lines
    badxsd = os.path.join(a.work, "types-badxsd")
    shutil.rmtree(badxsd, ignore_errors=True)
    shutil.copytree(os.path.join(TYPES, "budget-summary"), os.path.join(badxsd, "budget-summary"))
    with open(os.path.join(badxsd, "budget-summary", "source.xsd"), "a") as f:
        f.write("<not-closed>")
    got = []
    for cmd in ([], ["taskset", "-c", "0"] if shutil.which("taskset") else []):
        rc, out, err = run(cmd + [a.banshi, "render", good, "-o",
                                  os.path.join(a.work, "badxsd.pdf")],
                           env={"BANSHI_TYPES": badxsd})
        got.append((rc, err))
    for rc, err in got:
        check(rc == 3 and err.count("source.xsd") == 1 and "schema-load" not in err
              and err.count("\n") == 1 and "parser error" not in err
              and "source.xsd:30: Extra content" in err,
              "a schema that does not compile: %d %r" % (rc, err))
    check(got[0] == got[-1], "a broken schema on two CPUs: %r, on one: %r" % (got[0], got[-1]))
    # the stylesheet may not write files
    evil = os.path.join(a.work, "types-evil")
    shutil.rmtree(evil, ignore_errors=True)
    shutil.copytree(os.path.join(TYPES, "budget-summary"), os.path.join(evil, "budget-summary"))
    xsl = os.path.join(evil, "budget-summary", "budget-summary.xsl")
    target = os.path.join(a.work, "written-by-xslt.txt")
    if os.path.exists(target):
        os.remove(target)
    # libxslt implements XSLT 1.1's xsl:document: only the security
    # preferences stand between it and the file system
    s = open(xsl, encoding="utf-8").read().replace(
        '<xsl:stylesheet version="1.0"', '<xsl:stylesheet version="1.1"').replace(
        "<body>", '<body><xsl:document href="%s" method="text">x</xsl:document>' % target)
    open(xsl, "w", encoding="utf-8").write(s)
    rc, out, err = run([a.banshi, "validate", good], env={"BANSHI_TYPES": evil})
    check(not os.path.exists(target), "the stylesheet wrote a file")
    check(rc == 3 and "budget-summary" in err and "refused" in err,
          "a stylesheet that writes files is refused: "
          "%d %r" % (rc, err))


# ---------------------------------------------------------------------------
# reports-previous

def attr(s, elem, name, value):
    m = re.search(r'<%s [^>]*?\b%s="([^"]*)"' % (re.escape(elem), re.escape(name)), s)
    return s[:m.start(1)] + value + s[m.end(1):]


def group_previous(a):
    s21 = open(SAMPLE_2021, encoding="utf-8").read()
    # a clean pair
    rc, out, err = run([a.banshi, "validate", SAMPLE_2021, "--previous", SAMPLE_2019])
    check(rc == 0 and err == "", "clean pair: %d %r" % (rc, err))
    # R7 (2021 after 2021): 现行有效件数 does not follow, a warning; the
    # carry-over is made to match so that only R7 speaks
    s22 = s21.replace("<year>2021</year>", "<year>2022</year>").replace(
        "<date>2022-01-20</date>", "<date>2023-01-20</date>", 1).replace(
        "新收政府信息公开申请49件，上年结转4件", "新收政府信息公开申请51件，上年结转2件")
    for k, v in (("natural", "41"), ("business", "6"), ("total", "51")):
        s22 = attr(s22, "new", k, v)
    for k, v in (("natural", "2"), ("business", "0"), ("total", "2")):
        s22 = attr(s22, "carried-over", k, v)
    f22 = os.path.join(a.work, "r7-2022.xml")
    open(f22, "w", encoding="utf-8").write(s22)
    rc, out, err = run([a.banshi, "validate", f22, "--previous", SAMPLE_2021])
    lines = err.splitlines()
    check(rc == 0 and len(lines) == 1 and "warning: 表二“行政规范性文件”：现行有效件数=31，"
          "上年现行有效件数+本年制发件数-本年废止件数=34" in err, "R7: %d %r" % (rc, err))
    # the previous report of the wrong year: a warning, and the comparison
    rc, out, err = run([a.banshi, "validate", SAMPLE_2021, "--previous", SAMPLE_2021])
    check(rc == 1 and "上年报告的年度为2021年，本报告年度为2021年" in err
          and "二、上年结转=3，上年报告四、结转下年度继续办理=2" in err,
          "previous of the same year: %d %r" % (rc, err))
    # a missing previous file is an I/O failure naming it
    rc, out, err = run([a.banshi, "validate", SAMPLE_2021, "--previous", "/nonexistent/p.xml"])
    check(rc == 3 and "/nonexistent/p.xml" in err, "missing previous: %d %r" % (rc, err))
    # a previous file that is not a report source, or is invalid
    rc, out, err = run([a.banshi, "validate", SAMPLE_2021, "--previous",
                        os.path.join(HERE, "cases", "valid-everything.xml")])
    check(rc == 1 and "不是已知类型的报告源文件" in err, "previous not a report: %d %r" % (rc, err))
    bad = os.path.join(a.work, "prev-invalid.xml")
    open(bad, "w", encoding="utf-8").write(
        re.sub(r"\n\s*<inquiry [^>]*/>", "", open(SAMPLE_2019, encoding="utf-8").read()))
    rc, out, err = run([a.banshi, "validate", SAMPLE_2021, "--previous", bad, "--lang", "en"])
    check(rc == 1 and "prev-invalid.xml:" in err and "cross-year rules were not checked" in err,
          "invalid previous: %d %r" % (rc, err))
    # convert takes --previous too
    core = os.path.join(a.work, "r7-core.xml")
    rc, out, err = run([a.banshi, "convert", f22, "-o", core, "--previous", SAMPLE_2021])
    check(rc == 0 and "现行有效件数=31" in err and os.path.exists(core), "convert --previous: %d" % rc)


# ---------------------------------------------------------------------------
# reports-published

PUBLISHED = os.path.join(REPORTS, "published")
FINDING_CODES = ("不是数字", "未填写", "不是非负", "应相等", "不一致", "发布日期为",
                 "不是同一机关")


def group_published(a):
    results = run_case_folder(a, PUBLISHED, 6, located=True)
    if a.update:
        return
    names = [n for n, _ in results]
    check(all(rc == 0 for _, rc in results), "as published, every exit is 0: %s" % results)
    diags = {n: open(os.path.join(PUBLISHED, n + ".diag"), encoding="utf-8").read().splitlines()
             for n in names}
    # the set covers what the issue lists
    text = "\n".join("\n".join(v) for v in diags.values())
    for needle in ("未填写", "“/”不是数字", "“无”不是数字", "一+二=", "总计=3，",
                   "发布日期为", "不是同一机关", "一百二十三", "所述数字66.7",
                   "均获维持", "均胜诉", "无法提供", "上年结转", "不予公开",
                   "不予处理", "其他处理", "部分公开", "结转至下年度", "行政规范性文件",
                   "行政事业性收费"):
        check(needle in text, "published set: no finding with %r" % needle)
    fmts = set()
    for n in names:
        src = open(os.path.join(PUBLISHED, n + ".xml"), encoding="utf-8").read()
        fmts.add(re.search(r'format="(\d+)"', src).group(1))
    check(fmts == {"2019", "2021"}, "published set: formats %s" % fmts)
    srcs = "".join(open(os.path.join(PUBLISHED, n + ".xml"), encoding="utf-8").read()
                   for n in names)
    check(srcs.count("<preamble>") >= 4 and srcs.count("<note>") >= 3,
          "published set: preambles and notes")
    # strict: the cells and rules are errors at the same places
    for n in names:
        args = open(os.path.join(PUBLISHED, n + ".args")).read().split()
        args = [x for x in args if x != "--as-published"]
        rc, out, err = run([a.banshi] + args + [n + ".xml"], cwd=PUBLISHED)
        check(rc == 1, "%s strict: exit %d" % (n, rc))
        strict = err.splitlines()
        for l in diags[n]:
            if "正文“" in l or "发布日期为" in l or "不是同一机关" in l or "如有修订" in l:
                want = l  # warnings in both modes
            else:
                want = l.replace(": warning: ", ": error: ")
            check(want in strict, "%s strict: missing %r" % (n, want))
    # --lang en: the same findings, in English
    rc, out, err = run([a.banshi, "validate", "--as-published", "--lang", "en",
                        "2019-city-office.xml"], cwd=PUBLISHED)
    check(rc == 0 and "the text “予以公开及部分公开158件” states 158, but table 三, "
          "（一）予以公开 + （二）部分公开, column 总计 is 173" in err
          and len(err.splitlines()) == len(diags["2019-city-office"]),
          "English findings: %d %r" % (rc, err[:300]))
    # renders as published: PDF/A-1b, cells as written
    pdfs = []
    for n in names:
        args = open(os.path.join(PUBLISHED, n + ".args")).read().split()[1:]
        pdf = os.path.join(a.work, "pub-" + n + ".pdf")
        rc, out, err = run([a.banshi, "render"] + args + [n + ".xml", "-o", pdf], cwd=PUBLISHED)
        if check(rc == 0 and os.path.exists(pdf), "render %s --as-published: %d" % (n, rc)):
            pdfs.append(pdf)
    def layout(n):
        rc, txt, err = run(["pdftotext", "-layout", "-enc", "UTF-8",
                            os.path.join(a.work, "pub-" + n + ".pdf"), "-"])
        return txt
    def row(txt, label):
        for l in txt.splitlines():
            if label in l:
                return l.split(label, 1)[1].split()
        return None
    t = layout("2020-district-bureau")
    check(row(t, "其他对外管理服务事项") == ["/", "/", "/"], "“/” cells: %r" % row(t, "其他对外管理服务事项"))
    check(row(t, "政府集中采购") == ["/", "/"], "“/” cells: %r" % row(t, "政府集中采购"))
    t = layout("2024-health-commission")
    check(row(t, "规章") == ["无", "无", "无"], "“无” cells: %r" % row(t, "规章"))
    check(row(t, "行政强制") == ["—"], "“—” cell: %r" % row(t, "行政强制"))
    t = layout("2019-city-office")
    # 总计 left blank: six numbers on the row, not seven
    check(row(t, "1.属于国家秘密") == ["2", "0", "0", "0", "0", "0"],
          "blank 总计: %r" % row(t, "1.属于国家秘密"))
    flat = re.sub(r"\s+", "", t)
    i, j, k = flat.find("本年度报告根据"), flat.find("一、总体情况"), flat.find("注：本表“总计”列")
    check(0 <= i < j < k, "preamble before 一、, note after table 三: %d %d %d" % (i, j, k))
    t = layout("2022-audit-bureau")
    check(row(t, "3.补正后申请内容仍不明确") == ["1", "1"], "blank cells: %r"
          % row(t, "3.补正后申请内容仍不明确"))
    flat = re.sub(r"\s+", "", t)
    check(flat.find("注：空白栏表示无此类申请。") > flat.find("四、结转下年度继续办理")
          and "行政复议案件1件，结果维持。" in flat, "note and block after the tables")
    pf = os.path.join(a.work, "published-preflight")
    os.makedirs(pf, exist_ok=True)
    res, log = preflight(pdfs, pf)
    for p in pdfs:
        v = res.get(os.path.basename(p))
        check(v and v[0] and not v[1], "preflight %s: %s" % (p, v))
    # a batch of them, as published by manifest column, and its bag
    out = os.path.join(a.work, "published-batch")
    bag = os.path.join(a.work, "published-bag")
    for d in (out, bag):
        shutil.rmtree(d, ignore_errors=True)
    man = os.path.join(a.work, "published.list")
    with open(man, "w", encoding="utf-8") as f:
        for n in names:
            prev = "\t" + os.path.join(PUBLISHED, "2023-street-office.xml") \
                if n == "2024-health-commission" else ""
            f.write("%s%s\tas-published\n" % (os.path.join(PUBLISHED, n + ".xml"), prev))
    rc, o, err = run([a.banshi, "batch", man, "-o", out, "-j", "2"])
    check(rc == 0, "batch as published: %d %r" % (rc, err[-400:]))
    import json
    recs = [json.loads(l) for l in open(os.path.join(out, "banshi-batch.jsonl"), encoding="utf-8")
            if '"source"' in l]
    check(len(recs) == 6 and all(r.get("as_published") and r["status"] == "ok" and
                                 r["warnings"] == len(diags[os.path.basename(r["source"])[:-4]])
                                 for r in recs), "batch log: %s" % [(r["source"], r["warnings"]) for r in recs])
    rc, o, err = run([a.banshi, "archive", out, "-o", bag])
    if check(rc == 0, "archive: %d %r" % (rc, err)):
        for n in names:
            rec = ET.parse(os.path.join(bag, "data", "metadata", n + ".xml")).getroot()
            chk = rec.find("数据核查")
            if not check(chk is not None, "%s: no check section" % n):
                continue
            found = chk.findall("发现")
            want = [l for l in diags[n] if any(c in l for c in FINDING_CODES)]
            check(chk.get("方式") == "按原样发布" and len(found) == len(want) and
                  chk.findtext("发现数") == str(len(want)),
                  "%s: %d findings recorded, want %d" % (n, len(found), len(want)))
            for f, l in zip(sorted(found, key=lambda e: e.text), sorted(want, key=lambda l: l.split(": warning: ")[1])):
                check(l.endswith(": warning: " + f.text) and f.get("位置") in l,
                      "%s: finding %r / %r" % (n, f.text, l))
    # batch again without the column: strict, so they are invalid, and the
    # PDFs of the sources that became invalid are removed
    plain = os.path.join(a.work, "published-plain.list")
    with open(plain, "w", encoding="utf-8") as f:
        for n in names:
            f.write(os.path.join(PUBLISHED, n + ".xml") + "\n")
    rc, o, err = run([a.banshi, "batch", plain, "-o", out])
    check(rc == 1, "strict batch: %d" % rc)
    left = sorted(x for x in os.listdir(out) if x.endswith(".pdf"))
    check(left == [], "PDFs of invalid sources left: %s" % left)
    # a type that claims the root of a built-in one is an error naming both
    dup = os.path.join(a.work, "dup-types")
    shutil.rmtree(dup, ignore_errors=True)
    shutil.copytree(os.path.join(ROOT, "schemas", "disclosure-annual-report"),
                    os.path.join(dup, "mine"))
    tx = os.path.join(dup, "mine", "type.xml")
    t = open(tx, encoding="utf-8").read().replace('name="disclosure-annual-report"',
                                                   'name="my-disclosure"')
    open(tx, "w", encoding="utf-8").write(t)
    env = dict(os.environ, BANSHI_TYPES=dup)
    rc, o, err = run([a.banshi, "validate", SAMPLE_2021, "--lang", "en"], env=env)
    check(rc == 3 and "'disclosure-annual-report'" in err and "'my-disclosure'" in err
          and "both claim the root element <disclosure-report>" in err,
          "shadowing type: %d %r" % (rc, err))


# ---------------------------------------------------------------------------
# reports-prose

def group_prose(a):
    corpus = os.path.join(REPORTS, "prose", "corpus.txt")
    lines = [l.rstrip("\n") for l in open(corpus, encoding="utf-8")
             if l.strip() and not l.startswith("#")]
    check(len(lines) >= 40, "corpus: %d phrasings" % len(lines))
    s = open(SAMPLE_2021, encoding="utf-8").read()
    i = s.index("<overview>") + len("<overview>")
    first = s[:i].count("\n") + 2
    src = os.path.join(a.work, "prose-corpus.xml")
    open(src, "w", encoding="utf-8").write(
        s[:i] + "".join("\n    <p>%s</p>" % l.split("\t")[0] for l in lines) + s[i:])
    rc, out, err = run([a.banshi, "validate", src])
    check(rc == 0, "corpus: exit %d" % rc)
    got = {}
    for d in err.splitlines():
        m = re.match(r"[^:]+:(\d+):\d+: warning: 正文“(.*)”所述数字(\S+?)与表格不一致：.*为(\S+)$", d)
        if m:
            k = int(m.group(1)) - first
            ph = lines[k].split("\t")[0] if 0 <= k < len(lines) else ""
            check(m.group(1) and m.group(2) in ph, "finding %r not at its phrase %r" % (d, ph))
            got.setdefault(k, []).append("%s=%s" % (m.group(3), m.group(4)))
        else:
            check("全角字母或数字" in d, "corpus: unexpected %r" % d)
    n = 0
    for k, l in enumerate(lines):
        ph, want = l.split("\t")
        w = [] if want == "-" else want.split()
        n += len(w)
        check(sorted(got.get(k, [])) == sorted(w),
              "corpus: %r: want %s, got %s" % (ph, w, got.get(k, [])))
    check(n >= 20, "corpus: only %d expected findings" % n)
    # in English, the same number of findings
    rc, out, err = run([a.banshi, "validate", src, "--lang", "en"])
    check(len([l for l in err.splitlines() if "the text “" in l]) == n,
          "English corpus findings")
    # no false alarm on the samples and the example
    for f in (SAMPLE_2019, SAMPLE_2021, EXAMPLE):
        rc, out, err = run([a.banshi, "validate", f])
        check(rc == 0 and err == "", "%s: %d %r" % (f, rc, err))


# ---------------------------------------------------------------------------
# reports-new

def group_new(a):
    d = os.path.join(a.work, "new")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    pdfs = []
    for fmt in ("2019", "2021"):
        for year in range(2019, 2026):
            src = os.path.join(d, "new-%s-%d.xml" % (fmt, year))
            rc, out, err = run([a.banshi, "new", "disclosure-annual-report", "--format", fmt,
                                "--year", str(year), "--issuer", "某县<交通>运输局", "-o", src])
            if not check(rc == 0 and os.path.exists(src), "new %s %d: %d %r" % (fmt, year, rc, err)):
                continue
            text = open(src, encoding="utf-8").read()
            in_force = (fmt == "2019") == (year < 2021)
            pdf = os.path.join(d, "new-%s-%d.pdf" % (fmt, year))
            rc, out, err = run([a.banshi, "render", src, "-o", pdf])
            check(rc == 0 and (err == "" if in_force else
                               len(err.splitlines()) == 1 and "warning: 报告年度为" in err),
                  "render new %s %d: %d %r" % (fmt, year, rc, err))
            if rc == 0:
                pdfs.append(pdf)
            if year in (2020, 2023):
                rc, raw, e = run(["pdftotext", "-raw", "-enc", "UTF-8", pdf, "-"])
                flat = re.sub(r"\s+", "", raw)
                check("某县<交通>运输局%d年政府信息公开工作年度报告" % year in flat
                      and all(h in flat for h in HEADINGS)
                      and all(l in flat for l in labels_of(fmt)),
                      "new %s %d: title, headings and labels in the PDF" % (fmt, year))
                # every row of the three tables commented with its label
                for label in ("一、本年新收政府信息公开申请数量", "（七）总计",
                              "四、结转下年度继续办理", "8.属于行政查询事项",
                              "行政事业性收费", "行政复议", "复议后起诉"):
                    check(re.search(r"/>\s*<!-- [^>]*%s" % re.escape(label), text),
                          "new %s: no row commented %s" % (fmt, label))
                rows = len(re.findall(r"<[a-z-]+ [^>]*=\"0\"[^>]*/>", text))
                comments = len(re.findall(r"/>  <!-- ", text))
                check(rows == comments and rows >= (32 if fmt == "2021" else 33),
                      "new %s: %d rows, %d commented" % (fmt, rows, comments))
                check("<date>%d-01-20</date>" % (year + 1) in text, "new: date of issue")
    pf = os.path.join(a.work, "new-preflight")
    os.makedirs(pf, exist_ok=True)
    res, log = preflight(pdfs[:1] + pdfs[-1:], pf)
    for p in pdfs[:1] + pdfs[-1:]:
        v = res.get(os.path.basename(p))
        check(v and v[0] and not v[1], "preflight %s: %s" % (p, v))
    # without --format: the format in force; without -o: standard output
    for year, fmt in ((2020, "2019"), (2021, "2021"), (2025, "2021")):
        rc, out, err = run([a.banshi, "new", "disclosure-annual-report", "--year", str(year),
                            "--issuer", "某局"])
        check(rc == 0 and 'format="%s"' % fmt in out, "new %d: format %s" % (year, fmt))
    # refusals: an existing file, an unknown type or format, a bad year
    src = os.path.join(d, "new-2021-2023.xml")
    before = open(src, "rb").read()
    rc, out, err = run([a.banshi, "new", "disclosure-annual-report", "--year", "2023",
                        "--issuer", "另一局", "-o", src])
    check(rc == 3 and "已存在" in err and open(src, "rb").read() == before,
          "new over an existing file: %d %r" % (rc, err))
    for args, needle in ((["nope", "--year", "2023", "--issuer", "x"], "no report type 'nope'"),
                         (["disclosure-annual-report", "--format", "2020", "--year", "2023",
                           "--issuer", "x"], "formats: 2019, 2021"),
                         (["disclosure-annual-report", "--year", "23", "--issuer", "x"], "--year"),
                         (["disclosure-annual-report", "--year", "2023"], "--issuer")):
        rc, out, err = run([a.banshi, "new"] + args)
        check(rc == 2 and needle in err, "new %s: %d %r" % (args, rc, err))
    # the 2021 example of the README
    ex = os.path.join(ROOT, "examples", "shuangshan-transport-2023.xml")
    rc, out, err = run([a.banshi, "validate", ex])
    check(rc == 0 and err == "", "2021 example: %d %r" % (rc, err))


GROUPS = {
    "reports-cases": group_cases, "reports-render": group_render,
    "reports-example": group_example, "reports-types": group_types,
    "reports-previous": group_previous, "reports-published": group_published,
    "reports-prose": group_prose, "reports-new": group_new,
}
