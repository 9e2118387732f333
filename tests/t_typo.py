# SPDX-License-Identifier: Apache-2.0
"""Typography: what a professional typesetter or a 公文 clerk checks.

  typo-punct   adjacent punctuation compression (clreq 3.1.6, GB/T 15834
               5.1.11): pairs such as 》《 ”“ 》， ）（ 、“ 。” take 1.5 em,
               measured from glyph positions; an opening mark at a line
               start is set half width; the text extracted from the PDF is
               exactly the source's.
  typo-titles  titles broken between words, issuer and subject apart,
               关于 kept with what follows, lines never top-heavy (GB/T
               9704-2012 7.3.1).
  typo-tables  tables split at group boundaries instead of leaving a page
               half empty; labels broken between words and without a lone
               character; equal space before and after tables.

The documents are in tests/typo/ (each is also a visual reference: see
t_visual.py).
"""
import os
import re

from bstest import *  # noqa: F401,F403

TYPO = os.path.join(HERE, "typo")
# the body text's grid cell: 156 mm / 28 characters, in points
CELL = 156 * MM / 28


def glyphs_of(pages):
    """Every glyph of the body as (page, line y, x, character, size),
    in reading order."""
    out = []
    for i, p in enumerate(pages):
        for ln in lines_of(p):
            for r in ln:
                for k, ch in enumerate(r.text):
                    out.append((i, r.y, r.x0 + r.at[k], ch, r.size))
    return out


def pdftext(pdf, raw=False):
    rc, out, err = run(["pdftotext"] + (["-raw"] if raw else []) + [pdf, "-"])
    return out


def source_paragraphs(path):
    import xml.etree.ElementTree as ET
    return ["".join(p.itertext()) for p in ET.parse(path).iter("p")]


# ---------------------------------------------------------------------------

PAIRS = ["》《", "”“", "》，", "）（", "、“", "。”", "”，", "：“", "）。", "》、"]


def group_punct(a):
    src = os.path.join(TYPO, "punctuation.xml")
    pdf = os.path.join(a.work, "typo-punctuation.pdf")
    dump = os.path.join(a.work, "typo-punctuation.dump")
    rc, out, err = run([a.banshi, "render", src, "-o", pdf, "--dump", dump])
    if not check(rc == 0 and err == "", "punctuation: %d %s" % (rc, err)):
        return
    pages, _ = parse_dump(open(dump, encoding="utf-8").read())
    gl = glyphs_of(pages)
    # 1. every listed pair, wherever both marks share a line, takes 1.5 em:
    # the second mark starts half a cell after the first (the pair shares
    # one empty half), not a whole cell
    seen = {p: 0 for p in PAIRS}
    for k in range(len(gl) - 1):
        (p0, y0, x0, c0, s0), (p1, y1, x1, c1, s1) = gl[k], gl[k + 1]
        pair = c0 + c1
        if pair not in seen or p0 != p1 or y0 != y1 or s0 != 16:
            continue
        seen[pair] += 1
        check(abs((x1 - x0) - CELL / 2) < 0.02,
              "punctuation: %s on page %d set %.2f pt apart, want %.2f (1.5 em for the pair)"
              % (pair, p0 + 1, x1 - x0, CELL / 2))
    for pair, n in seen.items():
        check(n >= 1, "punctuation: the test text has no %s on one line" % pair)
    # 2. no other hole: two Han characters stay a cell apart or more
    # (justification only adds), and a mark next to a Han character is
    # never pulled into it
    for k in range(len(gl) - 1):
        (p0, y0, x0, c0, s0), (p1, y1, x1, c1, s1) = gl[k], gl[k + 1]
        if p0 == p1 and y0 == y1 and s0 == 16 and (c0 + c1) not in PAIRS and \
                "\u4e00" <= c0 <= "\u9fff":
            check(x1 - x0 >= CELL - 0.02, "punctuation: %s%s squeezed (%.2f)"
                  % (c0, c1, x1 - x0))
    # 3. an opening mark at the start of a continuation line stands half a
    # cell out: its ink starts at the margin; at a paragraph's start it
    # keeps its cell after the indent
    starts = 0
    for i, p in enumerate(pages):
        for ln in lines_of(p):
            first = ln[0]
            if first.text[:1] in "“《（" and first.size == 16:
                starts += 1
                check(abs(first.x0 + CELL / 2 - LEFT) < 0.02 or
                      abs(first.x0 - (LEFT + 2 * CELL)) < 0.02,
                      "punctuation: line-start %s at %.2f" % (first.text[:1], first.x0))
    check(starts >= 2, "punctuation: only %d lines start with an opening mark" % starts)
    # 4. the lines stay justified to the measure
    for i, p in enumerate(pages):
        ls = lines_of(p)
        for ln in ls[:-1]:
            check(ln[-1].x1 <= RIGHT + EPS, "punctuation: line overflows %.2f" % ln[-1].x1)
    # 5. text extraction returns exactly the source: each paragraph's lines
    # joined give the paragraph (no line break between compressed marks)
    paras = source_paragraphs(src)
    for raw in (False, True):
        text = pdftext(pdf, raw)
        body = "".join(text.split("\n")).replace("\f", "")
        joined = "".join(paras)
        check(joined in re.sub(r"—\s*\d+\s*—", "", body),
              "punctuation: pdftotext%s differs from the source:\n%s"
              % (" -raw" if raw else "", text))
        # no line of the extracted text ends between the two marks of a pair
        # that the layout set on one line
        lines = text.split("\n")
        for k in range(len(lines) - 1):
            if lines[k] and lines[k + 1] and (lines[k][-1] + lines[k + 1][0]) in PAIRS:
                ys = [g for g in range(len(gl) - 1) if gl[g][3] + gl[g + 1][3] ==
                      lines[k][-1] + lines[k + 1][0] and gl[g][1] == gl[g + 1][1]]
                check(not ys, "punctuation: pdftotext breaks the line inside %s%s"
                      % (lines[k][-1], lines[k + 1][0]))
    # 6. Preflight
    res, log = preflight([pdf], a.work)
    v = res.get(os.path.basename(pdf))
    check(v and v[0], "punctuation: not PDF/A-1b: %s" % (v,))
    # 7. the template can turn both off: every mark back in its cell
    tpl = os.path.join(a.work, "typo-full-punct.xml")
    t = open(os.path.join(ROOT, "templates", "gbt9704.xml"), encoding="utf-8").read()
    t = t.replace('adjacent="compress" line-start="half"', 'adjacent="full" line-start="full"')
    open(tpl, "w", encoding="utf-8").write(t)
    (pages2, _), err = dump_of(a.banshi, src, a.work, ["--template", tpl])
    gl2 = glyphs_of(pages2)
    for k in range(len(gl2) - 1):
        (p0, y0, x0, c0, s0), (p1, y1, x1, c1, s1) = gl2[k], gl2[k + 1]
        if (c0 + c1) in PAIRS and p0 == p1 and y0 == y1 and s0 == 16:
            check(x1 - x0 >= CELL - 0.02, "punctuation: adjacent=\"full\" still compresses %s%s"
                  % (c0, c1))


# ---------------------------------------------------------------------------
# titles: (issuing body, title) as published by Chinese government bodies

TITLES = [
    ("广州市荔湾区人民政府办公室", "广州市荔湾区人民政府办公室2020年政府信息公开工作年度报告"),
    ("国务院办公厅", "国务院办公厅关于印发2021年政务公开工作要点的通知"),
    ("生态环境部", "中华人民共和国生态环境部2021年政府信息公开工作年度报告"),
    ("北京市朝阳区人民政府办公室",
     "北京市朝阳区人民政府办公室关于做好2022年政府信息公开工作年度报告编制工作的通知"),
    ("上海市浦东新区应急管理局", "上海市浦东新区应急管理局2021年度政府信息公开工作年度报告"),
    ("广州市荔湾区应急管理局", "荔湾区应急管理局2020年政府信息公开工作年度报告"),
    ("深圳市福田区卫生健康局", "深圳市福田区卫生健康局2022年政府信息公开工作年度报告"),
    ("南京市玄武区人民政府办公室", "江苏省南京市玄武区人民政府办公室2021年政府信息公开工作年度报告"),
    ("国家税务总局广州市税务局", "国家税务总局广州市税务局关于2021年度政府信息公开工作情况的报告"),
    ("武汉市江汉区市场监督管理局", "湖北省武汉市江汉区市场监督管理局2021年政府信息公开工作年度报告"),
    ("广州市人民政府办公厅",
     "中共广州市委办公厅广州市人民政府办公厅关于进一步加强政务公开工作的实施意见"),
    ("杭州市西湖区人民政府办公室",
     "浙江省杭州市西湖区人民政府办公室关于公布2021年政府信息公开工作年度报告的通知"),
    ("广东省人民政府办公厅", "广东省人民政府办公厅2021年政府信息公开工作年度报告"),
]

# words a title line must never end inside (GB/T 9704 7.3.1 词意完整)
WORDS = ["办公厅", "办公室", "人民政府", "年度", "政府信息公开", "政务公开", "管理局",
         "卫生健康局", "生态环境部", "税务局", "工作", "报告", "通知", "实施意见",
         "中华人民共和国", "国务院", "市场监督管理局", "应急管理局"]


def title_lines(a, issuer, title, name):
    src = os.path.join(a.work, name + ".xml")
    write_source(src, "<p>正文。</p>", title=title, issuer=issuer)
    (pages, _), err = dump_of(a.banshi, src, a.work)
    return [ln for ln in lines_of(pages[0]) if ln[0].size == 22] if pages else []


def group_titles(a):
    for k, (issuer, title) in enumerate(TITLES):
        tl = title_lines(a, issuer, title, "typo-title-%d" % k)
        texts = [line_text(l) for l in tl]
        if not check("".join(texts) == title, "title %d: text %s" % (k, texts)):
            continue
        # the fewest lines that fit, at most one more
        need = 2 if len(title) > 20 else 1
        check(need <= len(tl) <= 3, "title %d: %d lines: %s" % (k, len(tl), texts))
        widths = [l[-1].x1 - l[0].x0 for l in tl]
        em = 22.0
        for ln in tl:
            mid = (ln[0].x0 + ln[-1].x1) / 2
            check(abs(mid - (LEFT + RIGHT) / 2) < 0.1, "title %d: not centred" % k)
        # never top-heavy: the first line is not longer than the second or
        # the last by more than a character (or a tenth of the last line)
        if len(widths) >= 2:
            tol = max(em, widths[-1] / 10) + 0.01
            check(widths[0] <= widths[1] + tol and widths[0] <= widths[-1] + tol,
                  "title %d: top-heavy %s %s" % (k, texts, ["%.1f" % (w / em) for w in widths]))
        # broken between words only: not inside a listed word, nor inside
        # the issuing body's name, nor after 关于, nor between a year and 年
        pos = 0
        for t in texts[:-1]:
            pos += len(t)
            for w in WORDS + [issuer]:
                for i in range(1, len(w)):
                    start = pos - i
                    check(not (start >= 0 and title[start:start + len(w)] == w),
                          "title %d: broken inside %s: %s" % (k, w, " / ".join(texts)))
            check(not t.endswith("关于"), "title %d: 关于 ends a line: %s" % (k, texts))
            check(not (t[-1].isdigit() and title[pos] == "年"),
                  "title %d: a year split from 年: %s" % (k, texts))
    # the issuer and 关于: the break falls between the issuing body and the
    # subject where that keeps the shape
    tl = title_lines(a, "国家税务总局广州市税务局",
                     "国家税务总局广州市税务局关于2021年度政府信息公开工作情况的报告", "typo-title-x")
    check([line_text(l) for l in tl][:1] == ["国家税务总局广州市税务局"],
          "title: issuer and subject not on lines of their own: %s" % [line_text(l) for l in tl])


# ---------------------------------------------------------------------------
# tables

def group_tables(a):
    from t_tables import cell_rect
    src = os.path.join(TYPO, "table-groups.xml")
    (pages, _), err = dump_of(a.banshi, src, a.work)
    check(err == "", "table groups: %s" % err)

    def where(text):
        return [i for i, p in enumerate(pages) for r in p["runs"] if r.text == text]
    # 1. about half of page 1 is left after the text: the table starts
    # there, split at a group boundary, instead of moving whole
    check(where("项目")[:1] == [0],
          "table groups: the table moved whole to page %s" % (where("项目")[:1],))
    # 2. its header is repeated on the next page
    check(len(where("项目")) >= 2, "table groups: header not repeated: %s" % where("项目"))
    # 3. never inside a group of rows: each group's items on one page
    groups = {"（三）": ["1.属于国家秘密", "8.属于行政查询事项"],
              "（四）": ["1.本机关不掌握相关政府信息", "3.补正后申请内容仍不明确"],
              "（五）": ["1.信访举报投诉类申请", "2.重复申请"]}
    for g, items in groups.items():
        ps = set(i for it in items for i in where(it))
        check(len(ps) == 1, "table groups: group %s split over pages %s" % (g, sorted(ps)))
    # 4. the outer label 三、本年度办理结果 is drawn whole on both pages
    lab = [i for i, p in enumerate(pages) for r in p["runs"] if r.text.startswith("三、")]
    check(sorted(set(lab)) == [0, 1], "table groups: outer label on pages %s" % sorted(set(lab)))
    # 5. the share is the template's: with 90% the table moves whole
    tpl = os.path.join(a.work, "typo-split90.xml")
    t = open(os.path.join(ROOT, "templates", "gbt9704.xml"), encoding="utf-8").read()
    open(tpl, "w", encoding="utf-8").write(t.replace('split-empty="25%"', 'split-empty="90%"'))
    (pages2, _), err = dump_of(a.banshi, src, a.work, ["--template", tpl])
    first = [i for i, p in enumerate(pages2) for r in p["runs"] if r.text == "项目"]
    check(first[:1] == [1], "table groups: split-empty=90%% still splits: %s" % first[:1])

    # table labels (the example's table 三)
    (pages, _), err = dump_of(a.banshi, EXAMPLE, a.work)
    texts = [r.text for p in pages for r in p["runs"]]
    # 6. no break inside a word: 出具 (ICU's dictionary splits it)
    check(not any(t.endswith("重新出") for t in texts) and any(t.startswith("出具") or "出具" in t
                                                          for t in texts),
          "labels: 出具 broken: %s" % [t for t in texts if "出" in t])
    # 7. no single character alone: 自然人 on one line (its column widened)
    check("自然人" in texts and "人" not in texts, "labels: 自然人 split: %s"
          % [t for t in texts if "自然" in t or t == "人"])
    # 8. row-spanned labels of several lines are centred in their cells
    for label in ("不予公开", "无法提供", "不予处理", "本年度"):
        found = [(i, r) for i, p in enumerate(pages) for r in p["runs"] if r.text == label]
        if not check(found, "labels: %s not found" % label):
            continue
        i, r = found[0]
        pg, cell = cell_rect(pages, label)
        if check(cell, "labels: no cell around %s" % label):
            mid = (r.x0 + r.x1) / 2
            check(abs(mid - (cell[0] + cell[2]) / 2) < 0.6,
                  "labels: %s not centred (%.1f in %.1f..%.1f)" % (label, mid, cell[0], cell[2]))


def group_table_space(a):
    """Equal space above and below a table between two paragraphs; the
    text below returns to the page's line grid."""
    src = os.path.join(TYPO, "table-space.xml")
    (pages, _), err = dump_of(a.banshi, src, a.work)
    if not check(pages, "table space: no pages"):
        return
    p = pages[0]
    ys = sorted(set(r[1] for r in p["rules"]))
    pitch = 225 * MM / 22
    # a body line's box: its baseline lies (pitch - 16) / 2 + 0.88 * 16 below
    # the box's top
    base = (pitch - 16) / 2 + 0.88 * 16
    body = [r for r in p["runs"] if r.size == 16 and r.y < BOTTOM]
    above = [r for r in body if r.y < ys[0]]
    below = [r for r in body if r.y > ys[-1]]
    if not check(above and below, "table space: text above and below the table"):
        return
    gap_before = ys[0] - (max(r.y for r in above) - base + pitch)
    gap_after = (min(r.y for r in below) - base) - ys[-1]
    check(abs(gap_before - gap_after) < 0.1,
          "table space: %.2f pt above the table, %.2f below" % (gap_before, gap_after))
    line = (min(r.y for r in below) - base - TOP) / pitch
    check(abs(line - round(line)) < 0.01, "table space: text below off the grid (%.3f)" % line)


GROUPS = {"typo-punct": group_punct, "typo-titles": group_titles,
          "typo-tables": group_tables, "typo-table-space": group_table_space}
