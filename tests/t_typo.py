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


GROUPS = {"typo-punct": group_punct}
