# SPDX-License-Identifier: Apache-2.0
"""Sources for the benchmark: distinct variants of the example report in
each tool's format, and banshi core documents that grow (pages, table rows,
tiny documents for large batches).

Variants differ in the issuing body's name and in the numbers of the text
and the tables, so that no tool can reuse the result (or the font subset) of
an earlier document; the counts of a variant are the example's times a
factor, so that its sums and totals still add up.  The substitution is plain text replacement on the
hand-written sources in peers/ and on examples/liwan-emergency-2020.xml.
"""
import html
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EXAMPLE = os.path.join(ROOT, "examples", "liwan-emergency-2020.xml")

# 20 districts x 10 bodies = 200 distinct issuing bodies; more variants
# repeat a name but never the numbers.
DISTRICTS = ("越秀区 海珠区 天河区 白云区 黄埔区 番禺区 花都区 南沙区 从化区 增城区 "
             "东城区 西城区 朝阳区 丰台区 海淀区 通州区 顺义区 昌平区 大兴区 怀柔区").split()
BODIES = ("应急管理局 司法局 民政局 财政局 教育局 卫生健康局 交通运输局 水务局 "
          "商务局 统计局").split()


def body_name(i):
    """District and issuing body of variant i (0-based)."""
    d = DISTRICTS[i % len(DISTRICTS)]
    b = BODIES[(i // len(DISTRICTS)) % len(BODIES)]
    return d, d + b


def _num(i, k):
    """A deterministic number for cell k of variant i (0..999)."""
    x = (i * 7919 + k * 104729 + 12345) & 0xFFFFFFFF
    x ^= x >> 13
    x = (x * 0x5BD1E995) & 0xFFFFFFFF
    x ^= x >> 15
    return x % 1000


def factor(i):
    """Every count of variant i is the example's times this factor, so that
    the report's sums and totals (its 勾稽关系, which banshi checks) still
    hold."""
    return 2 + i % 97


def variant(text, fmt, i):
    """Variant i of a source `text` in format fmt (xml, fo, html, typ,
    fodt): another issuing body, another number of items published, every
    count of the tables multiplied by factor(i)."""
    district, name = body_name(i)
    k = factor(i)
    text = text.replace("荔湾区应急管理局", name).replace("荔湾区", district)
    text = text.replace("175条", "%d条" % (100 + i % 900))
    text = text.replace("事项1件", "事项%d件" % k)

    def times(m):
        return m.group(1) + str(int(m.group(2)) * k) + m.group(3)

    if fmt == "typ":
        return re.sub(r"(\[)(\d+)(\])", times, text)
    text = re.sub(r"(?<!<year)(>)(\d+)(<)", times, text)
    if fmt == "xml":
        # counts as attributes (report sources), not format or version
        text = re.sub(r'(\s(?!format=|version=)[a-z-]+=")(\d+)(")', times, text)
    return text


def write_variants(src, fmt, outdir, n, stem="doc"):
    """Write n variants of file `src` to outdir/stemNNNN.ext; return paths."""
    text = open(src, encoding="utf-8").read()
    ext = os.path.splitext(src)[1]
    os.makedirs(outdir, exist_ok=True)
    paths = []
    for i in range(n):
        p = os.path.join(outdir, "%s%04d%s" % (stem, i + 1, ext))
        with open(p, "w", encoding="utf-8") as f:
            f.write(variant(text, fmt, i))
        paths.append(p)
    return paths


# ---------------------------------------------------------------------------
# banshi core documents for the scaling runs

def _example_sentences():
    """The prose of the example report, cut into sentences."""
    text = open(EXAMPLE, encoding="utf-8").read()
    paras = re.findall(r"<p>(.*?)</p>", text, re.S)
    out = []
    for p in paras:
        p = re.sub(r"<[^>]+>", "", p)
        out += [s + "。" for s in p.split("。") if len(s) > 8]
    return out


def _doc(title, body, issuer="测试机关"):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<document version="1" xml:lang="zh-CN"><meta>'
            "<title>%s</title><issuer>%s</issuer><date>2021-01-29</date>"
            "</meta>\n<body>\n%s</body></document>\n"
            % (html.escape(title), html.escape(issuer), body))


def pages_doc(npages):
    """About npages pages of running text: per page a section heading and
    prose, then a page break, so the page count is exact."""
    sents = _example_sentences()
    parts, k = [], 0
    for pg in range(npages):
        prose = []
        while sum(len(s) for s in prose) < 330:
            prose.append(sents[k % len(sents)].replace("2020", str(1990 + pg % 40)))
            k += 1
        half = len(prose) // 2
        parts.append("<section><heading>第%d部分工作情况</heading>"
                     "<p>%s</p><p>%s</p></section>\n"
                     % (pg + 1, "".join(prose[:half]), "".join(prose[half:])))
        if pg + 1 < npages:
            parts.append("<pagebreak/>\n")
    return _doc("%d页测试文档" % npages, "".join(parts))


ITEMS = ("行政许可 行政处罚 行政强制 行政事业性收费 政府集中采购 规范性文件 "
         "依申请公开 主动公开 政策解读 舆情回应 建议提案办理 政务服务事项").split()


def table_doc(nrows):
    """One table of nrows body rows under a repeated header row."""
    rows = []
    for r in range(nrows):
        rows.append("<tr><td>%d</td><td align=\"left\">%s（第%d项）</td>"
                    "<td>%d</td><td>%d</td></tr>\n"
                    % (r + 1, ITEMS[r % len(ITEMS)], r + 1, _num(r, 1),
                       _num(r, 2)))
    body = ("<section><heading>数据表</heading><table size=\"小四\">"
            "<colgroup><col width=\"12%%\"/><col width=\"48%%\"/>"
            "<col width=\"20%%\"/><col width=\"20%%\"/></colgroup>"
            "<thead><tr><th>序号</th><th>事项</th><th>本年数量</th>"
            "<th>上年数量</th></tr></thead>\n<tbody>\n%s</tbody></table>"
            "</section>\n" % "".join(rows))
    return _doc("%d行表格测试文档" % nrows, body)


def tiny_doc(i):
    """A one-page notice, distinct for every i."""
    district, name = body_name(i)
    body = ("<section><heading>总体情况</heading><p>%d年，%s依法公开政府信息"
            "%d条，办理依申请公开事项%d件，均在法定期限内答复。</p></section>\n"
            % (2000 + i % 25, name, _num(i, 1), _num(i, 2)))
    return _doc("%s政府信息公开工作情况（第%d号）" % (name, i + 1), body, name)


def write_tiny(outdir, n):
    os.makedirs(outdir, exist_ok=True)
    paths = []
    for i in range(n):
        p = os.path.join(outdir, "t%05d.xml" % (i + 1))
        with open(p, "w", encoding="utf-8") as f:
            f.write(tiny_doc(i))
        paths.append(p)
    return paths
