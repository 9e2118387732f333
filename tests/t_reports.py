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
    s22 = s21.replace("<year>2021</year>", "<year>2022</year>")
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


GROUPS = {
    "reports-cases": group_cases, "reports-render": group_render,
    "reports-example": group_example, "reports-types": group_types,
    "reports-previous": group_previous,
}
