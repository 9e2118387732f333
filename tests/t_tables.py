# SPDX-License-Identifier: Apache-2.0
"""Tables and figures.

  tables   merged cells on the grid (the example's table 三 and 四), text
           inside its cell on the dump and in the PDF (pdftotext
           -bbox-layout), header rows repeated, a 2,000-row table, a cell
           three pages tall, a row-spanned label repeated across a page
           break, automatic column widths, no header alone at a page foot,
           a header over a quarter page drawn once, not on every page.
  figures  PNG with alpha flattened, JPEG passed through, CMYK converted,
           scaled to the type area, captions, PDF/A; damaged and escaping
           images are errors (see also tests/cases/figure-*).
"""
import os
import re
import shutil
import xml.etree.ElementTree as ET

from bstest import *  # noqa: F401,F403

TABLE_EPS = 0.05


# ---------------------------------------------------------------------------
# geometry helpers

def segments(page):
    """Horizontal and vertical rules of a page: (h, v) lists of
    (fixed, lo, hi)."""
    h, v = [], []
    for x0, y0, x1, y1, w in page["rules"]:
        if abs(y0 - y1) < 1e-6:
            h.append((y0, min(x0, x1), max(x0, x1)))
        elif abs(x0 - x1) < 1e-6:
            v.append((x0, min(y0, y1), max(y0, y1)))
    return h, v


def cell_of(page, x, y):
    """The rectangle (left, top, right, bottom) of rules around a point."""
    h, v = segments(page)
    left = max((f for f, lo, hi in v if f <= x and lo <= y <= hi), default=None)
    right = min((f for f, lo, hi in v if f >= x and lo <= y <= hi), default=None)
    top = max((f for f, lo, hi in h if f <= y and lo <= x <= hi), default=None)
    bottom = min((f for f, lo, hi in h if f >= y and lo <= x <= hi), default=None)
    if None in (left, right, top, bottom):
        return None
    return (left, top, right, bottom)


def run_box(r):
    """Approximate ink box of a run: the em box around the baseline."""
    return (r.x0, r.y - 0.88 * r.size, r.x1, r.y + 0.12 * r.size)


def check_no_crossing(pages, what):
    """No text run crosses a rule: text stays inside its cell."""
    n = 0
    for i, p in enumerate(pages):
        h, v = segments(p)
        for r in p["runs"]:
            x0, y0, x1, y1 = run_box(r)
            for f, lo, hi in v:
                if x0 + TABLE_EPS < f < x1 - TABLE_EPS and lo < y1 and y0 < hi:
                    fail("%s: page %d: %r crosses the rule x=%.2f" % (what, i + 1, r.text, f))
                    n += 1
            for f, lo, hi in h:
                if y0 + TABLE_EPS < f < y1 - TABLE_EPS and lo < x1 and x0 < hi:
                    fail("%s: page %d: %r crosses the rule y=%.2f" % (what, i + 1, r.text, f))
                    n += 1
            check(r.x0 >= LEFT - EPS and r.x1 <= RIGHT + EPS,
                  "%s: %r outside the type area" % (what, r.text))
        for f, lo, hi in h:
            check(LEFT - EPS <= lo and hi <= RIGHT + EPS, "%s: rule outside" % what)
        for f, lo, hi in v:
            check(TOP - EPS <= lo and hi <= BOTTOM + EPS, "%s: rule outside" % what)
            check(LEFT - EPS <= f <= RIGHT + EPS, "%s: rule outside" % what)
        if n > 20:
            return


def find_runs(pages, text):
    """Runs whose text starts a cell label (text may wrap over runs)."""
    out = []
    for i, p in enumerate(pages):
        for r in p["runs"]:
            if r.text and text.startswith(r.text) and len(r.text) >= min(2, len(text)):
                out.append((i, r))
    return out


def cell_rect(pages, text):
    found = find_runs(pages, text)
    if not found:
        return None, None
    i, r = found[0]
    return i, cell_of(pages[i], (r.x0 + r.x1) / 2, r.y - 0.3 * r.size)


def pdf_words(pdf):
    """Words of pdftotext -bbox-layout: (page, text, xmin, ymin, xmax, ymax)."""
    rc, out, err = run(["pdftotext", "-bbox-layout", pdf, "-"])
    out = re.sub(r'xmlns="[^"]*"', "", out)
    out = re.sub(r"<!DOCTYPE[^>]*>", "", out)
    root = ET.fromstring(out)
    words = []
    for pi, page in enumerate(root.iter("page")):
        for w in page.iter("word"):
            words.append((pi, w.text or "", float(w.get("xMin")), float(w.get("yMin")),
                          float(w.get("xMax")), float(w.get("yMax"))))
    return words


def table_body(rows, head=None, cols=None, size=None):
    t = "<table%s>" % (' size="%s"' % size if size else "")
    if cols:
        t += "<colgroup>%s</colgroup>" % "".join('<col width="%s"/>' % c for c in cols)
    if head:
        t += "<thead>%s</thead>" % "".join(head)
    t += "<tbody>%s</tbody></table>" % "".join(rows)
    return t


# ---------------------------------------------------------------------------

def group_tables(a):
    os.makedirs(a.work, exist_ok=True)
    # 1. The example: merged cells of table 三 occupy the right grid cells.
    pdf = os.path.join(a.work, "tables-example.pdf")
    dump = os.path.join(a.work, "tables-example.dump")
    rc, out, err = run([a.banshi, "render", EXAMPLE, "-o", pdf, "--dump", dump])
    check(rc == 0, "render example: %s" % err)
    pages, _ = parse_dump(open(dump, encoding="utf-8").read())
    check_no_crossing(pages, "example")
    pg, corner = cell_rect(pages, "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）")
    pg2, natural = cell_rect(pages, "自然人")
    pg3, kinds = cell_rect(pages, "商业企业")
    pg4, applicant = cell_rect(pages, "申请人情况")
    if check(None not in (corner, natural, kinds, applicant), "example: table 三 header cells"):
        # the corner cell spans three columns and the three header rows
        check(abs(corner[0] - LEFT) < TABLE_EPS, "corner cell starts at the table edge")
        check(abs(corner[2] - natural[0]) < TABLE_EPS, "corner cell ends where 自然人 starts")
        check(abs(corner[1] - applicant[1]) < TABLE_EPS, "corner cell top = header top")
        check(abs(corner[3] - kinds[3]) < TABLE_EPS, "corner cell spans the three header rows")
        # 申请人情况 spans the seven number columns
        check(abs(applicant[0] - natural[0]) < TABLE_EPS and abs(applicant[2] - RIGHT) < TABLE_EPS,
              "申请人情况 spans 自然人..总计")
        # 自然人 spans two header rows
        check(abs(natural[3] - kinds[3]) < TABLE_EPS and natural[1] > applicant[1],
              "自然人 spans header rows 2-3")
    pg5, result = cell_rect(pages, "三、本年度办理结果")
    pg6, first = cell_rect(pages, "（一）予以公开")
    pg7, total = cell_rect(pages, "（七）总计")
    pg8, refused = cell_rect(pages, "（三）不予公开")
    pg9, secret = cell_rect(pages, "1.属于国家秘密")
    pg10, query = cell_rect(pages, "8.属于行政查询事项")
    if check(None not in (result, first, total, refused, secret, query),
             "example: table 三 body cells"):
        check(pg5 == pg6 == pg7, "三、本年度办理结果 and its rows on one page")
        check(abs(result[1] - first[1]) < TABLE_EPS and abs(result[3] - total[3]) < TABLE_EPS,
              "三、本年度办理结果 spans rows （一）..（七）")
        check(abs(refused[1] - secret[1]) < TABLE_EPS and abs(refused[3] - query[3]) < TABLE_EPS,
              "（三）不予公开 spans its eight rows")
        check(abs(refused[2] - secret[0]) < TABLE_EPS, "（三）不予公开 left of its items")
    # table 四: three header levels over fifteen columns
    pg, review = cell_rect(pages, "行政复议")
    pg, lawsuit = cell_rect(pages, "行政诉讼")
    pg, direct = cell_rect(pages, "未经复议直接起诉")
    if check(None not in (review, lawsuit, direct), "example: table 四 header"):
        check(abs(review[0] - LEFT) < TABLE_EPS and abs(lawsuit[2] - RIGHT) < TABLE_EPS,
              "table 四 header spans the width")
        check(abs(review[2] - lawsuit[0]) < TABLE_EPS and abs(direct[0] - lawsuit[0]) < TABLE_EPS,
              "行政诉讼 above 未经复议直接起诉")
        check((lawsuit[2] - lawsuit[0]) > 1.9 * (review[2] - review[0]),
              "行政诉讼 spans ten columns, 行政复议 five")
    # the PDF draws the text where the layout put it: every word of the
    # example's tables lies inside the cell the dump gives it
    words = pdf_words(pdf)
    # the example is a report source: its cells are in the core document
    # it maps to
    core = os.path.join(a.work, "tables-example-core.xml")
    rc, out, err = run([a.banshi, "convert", EXAMPLE, "-o", core])
    check(rc == 0, "convert example: %s" % err)
    labels = [ET.tostring(c, encoding="unicode", method="text").strip()
              for c in ET.parse(core).iter() if c.tag in ("td", "th")]
    checked = 0
    for pi, text, x0, y0, x1, y1 in words:
        if not any(len(text) >= 2 and text in l for l in labels):
            continue
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        cell = cell_of(pages[pi], cx, cy)
        if check(cell is not None, "pdf: word %r outside any cell" % text):
            l, t, r, b = cell
            check(l - 0.5 <= x0 and x1 <= r + 0.5 and t - 0.5 <= y0 and y1 <= b + 0.5,
                  "pdf: word %r (%.1f,%.1f,%.1f,%.1f) leaves its cell %s"
                  % (text, x0, y0, x1, y1, cell))
            checked += 1
    check(checked > 60, "pdf: only %d table words compared" % checked)
    shutil.copy(pdf, os.path.join(a.work, "pdfa-tables-example.pdf"))

    # 2. A 2,000-row table: header on every page, rows in order, no text
    # outside its cell, no header alone.
    head = ["<tr><th>序号</th><th>事项名称</th><th>数量</th></tr>"]
    rows = ["<tr><td>%d</td><td align=\"left\">第%d项政府信息公开事项</td><td>%d</td></tr>"
            % (i, i, i * 7 % 100) for i in range(1, 2001)]
    src = os.path.join(a.work, "long-table.xml")
    write_source(src, table_body(rows, head))
    (pages, _), err = dump_of(a.banshi, src, a.work)
    check(len(pages) > 30, "long table: %d pages" % len(pages))
    check_no_crossing(pages, "long table")
    order = []
    for i, p in enumerate(pages):
        ls = lines_of(p)
        texts = [line_text(l) for l in ls]
        if i == 0:
            texts = texts[1:]  # the title
        check(texts and texts[0] == "序号事项名称数量",
              "long table: page %d does not start with the header: %s" % (i + 1, texts[:1]))
        check(len(texts) >= 2, "long table: page %d has a header alone" % (i + 1))
        for t in texts[1:]:
            m = re.match(r"^(\d+)第(\d+)项政府信息公开事项(\d+)$", t)
            if check(m and m.group(1) == m.group(2), "long table: row text %r" % t):
                order.append(int(m.group(1)))
        # the table closes on every page: bottom rule at the last row
        h, v = segments(p)
        check(h and abs(min(lo for f, lo, hi in h) - LEFT) < TABLE_EPS, "long table: rules")
    check(order == list(range(1, 2001)), "long table: rows missing or out of order")

    # 3. A single cell three pages tall: split between lines, continued in
    # order, the grid closed on each page.
    para = "本机关依法依规做好政府信息公开工作，按程序审查，及时答复申请人。"
    long_text = para * 160
    src = os.path.join(a.work, "tall-cell.xml")
    write_source(src, table_body(
        ["<tr><td>甲</td><td align=\"left\">%s</td></tr>" % long_text,
         "<tr><td>乙</td><td>结束</td></tr>"],
        ["<tr><th>项</th><th>内容</th></tr>"], cols=["15%", "85%"]))
    (pages, _), err = dump_of(a.banshi, src, a.work)
    check(len(pages) >= 3, "tall cell: %d pages" % len(pages))
    check_no_crossing(pages, "tall cell")
    got = ""
    for i, p in enumerate(pages):
        for r in sorted(p["runs"], key=lambda r: (r.y, r.x0)):
            if r.y < BOTTOM and r.text not in ("项", "内容", "甲", "乙", "结束", "测试文档"):
                got += r.text
        h, v = segments(p)
        ys = sorted(set(round(f, 2) for f, lo, hi in h))
        check(len(ys) >= 2, "tall cell: page %d not closed" % (i + 1))
    check(got == long_text, "tall cell: text lost or reordered (%d of %d chars)"
          % (len(got), len(long_text)))
    pages_with_text = sum(1 for p in pages if any(para[:4] in r.text for r in p["runs"]))
    check(pages_with_text >= 3, "tall cell: text on %d pages" % pages_with_text)

    # 4. A row-spanned label crossing a page break is drawn on both pages.
    rows = ['<tr><td rowspan="70">甲类事项</td><td>第1行</td></tr>'] + \
        ["<tr><td>第%d行</td></tr>" % i for i in range(2, 71)]
    src = os.path.join(a.work, "span-break.xml")
    write_source(src, "<p>%s</p>" % ("前" * 300) + table_body(rows, cols=["30%", "70%"]))
    (pages, _), err = dump_of(a.banshi, src, a.work)
    check_no_crossing(pages, "span across pages")
    with_label = [i for i, p in enumerate(pages) if any(r.text == "甲类事项" for r in p["runs"])]
    with_rows = [i for i, p in enumerate(pages) if any(r.text.startswith("第") and r.text.endswith("行") for r in p["runs"])]
    check(len(with_rows) >= 2 and with_label == with_rows,
          "span across pages: label on pages %s, rows on %s" % (with_label, with_rows))
    for i in with_label:
        r = [r for r in pages[i]["runs"] if r.text == "甲类事项"][0]
        cell = cell_of(pages[i], (r.x0 + r.x1) / 2, r.y - 4)
        rowcells = [cell_of(pages[i], (q.x0 + q.x1) / 2, q.y - 4)
                    for q in pages[i]["runs"] if q.text.startswith("第") and q.text.endswith("行")]
        if check(cell and rowcells, "span across pages: cells on page %d" % (i + 1)):
            check(abs(cell[1] - min(c[1] for c in rowcells)) < TABLE_EPS and
                  abs(cell[3] - max(c[3] for c in rowcells)) < TABLE_EPS,
                  "span across pages: the label's cell covers its rows on page %d" % (i + 1))

    # 5. Automatic widths: a long label column and narrow number columns.
    rows = ["<tr><td align=\"left\">%s</td><td>%d</td><td>%d</td></tr>"
            % ("要求行政机关确认或重新出具已获取信息" * 2, i, i * 3) for i in range(3)]
    src = os.path.join(a.work, "auto-widths.xml")
    write_source(src, table_body(rows, ["<tr><th>项目</th><th>自然人</th><th>总计</th></tr>"]))
    (pages, _), err = dump_of(a.banshi, src, a.work)
    p = pages[0]
    _, lab = cell_rect(pages, "项目")
    _, num = cell_rect(pages, "自然人")
    if check(lab and num, "auto widths: cells"):
        check((lab[2] - lab[0]) > 3 * (num[2] - num[0]), "auto widths: label %.1f, number %.1f"
              % (lab[2] - lab[0], num[2] - num[0]))
        check((num[2] - num[0]) >= 2 * 10.5, "auto widths: a number column narrower than two characters")
    check_no_crossing(pages, "auto widths")

    # 6. No header alone at the foot of a page: fill the page so that only
    # the header would fit.
    for k in range(17, 21):
        src = os.path.join(a.work, "header-foot.xml")
        write_source(src, "<p>%s</p>" % ("满" * (26 + 28 * k)) + table_body(
            ["<tr><td>%d</td><td>内容</td></tr>" % i for i in range(5)],
            ["<tr><th>序号</th><th>内容</th></tr>"]))
        (pages, _), err = dump_of(a.banshi, src, a.work)
        for i, p in enumerate(pages):
            ls = [line_text(l) for l in lines_of(p)]
            if ls and ls[-1] == "序号内容":
                fail("header alone at the foot of page %d (k=%d)" % (i + 1, k))

    # 7. Two hundred columns: narrow but laid out, nothing outside.
    cells = "".join("<td>%d</td>" % (i % 10) for i in range(200))
    src = os.path.join(a.work, "wide-table.xml")
    write_source(src, table_body(["<tr>%s</tr>" % cells] * 3))
    (pages, _), err = dump_of(a.banshi, src, a.work)
    cells = sum(1 for p in pages for r in p["runs"] if r.size < 10.5 and r.y < BOTTOM)
    check(cells == 600, "200 columns: %d cells drawn" % cells)
    check("200 列" in err and "溢出" in err, "200 columns: no warning: %s" % err)
    for p in pages:
        for r in p["runs"]:
            check(r.x0 >= LEFT - EPS and r.x1 <= RIGHT + 1, "200 columns: text outside")

    # 8. Header rows are repeated while they take at most a quarter of the
    # page (CSS Tables 3, 6.2); a taller header is drawn once, where the
    # table starts, and the rows fill the pages after it.  (A header
    # repeated whatever its height made pages of header over one row, or
    # one line of a tall row: output growing as header times body.)
    quarter = (BOTTOM - TOP) / 4
    rows = ["<tr><td>%d</td><td>第%d行</td></tr>" % (i, i) for i in range(1, 121)]
    for n, repeated in ((120, True), (250, False)):
        src = os.path.join(a.work, "tall-header-%d.xml" % n)
        write_source(src, table_body(
            rows, ["<tr><th>项</th><th>%s</th></tr>" % ("说明" * n)], cols=["15%", "85%"]))
        (pages, _), err = dump_of(a.banshi, src, a.work)
        check_no_crossing(pages, "header of %d characters" % (2 * n))
        pg, head = cell_rect(pages, "项")
        if not check(head, "header of %d characters: not drawn" % (2 * n)):
            continue
        tall = head[3] - head[1]
        check((tall <= quarter) == repeated,
              "header of %d characters: %.1f pt against a quarter page of %.1f pt"
              % (2 * n, tall, quarter))
        with_head = [i for i, p in enumerate(pages) if any(r.text == "项" for r in p["runs"])]
        with_rows = sorted({i for i, p in enumerate(pages) for r in p["runs"]
                            if re.match(r"^第\d+行$", r.text)})
        check(len(with_rows) >= 3, "header of %d characters: rows on pages %s"
              % (2 * n, with_rows))
        check(with_head == (with_rows if repeated else [with_rows[0]]),
              "header of %d characters: header on pages %s, rows on %s"
              % (2 * n, with_head, with_rows))
        got = [int(r.text[1:-1]) for p in pages for r in sorted(p["runs"], key=lambda r: r.y)
               if re.match(r"^第\d+行$", r.text)]
        check(got == list(range(1, 121)), "header of %d characters: rows lost or reordered"
              % (2 * n))


# ---------------------------------------------------------------------------

def make_png(path, w, h, color_type, pixel, dpi=None):
    import struct
    import zlib
    rows = []
    for y in range(h):
        row = bytearray([0])
        for x in range(w):
            row += bytes(pixel(x, y))
        rows.append(bytes(row))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0))
    if dpi:
        ppm = int(round(dpi / 0.0254))
        out += chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1))
    out += chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(out)


def group_figures(a):
    d = os.path.join(a.work, "figures")
    os.makedirs(d, exist_ok=True)
    # RGBA with transparent stripes; a wide grey image; JPEGs
    make_png(os.path.join(d, "alpha.png"), 300, 150, 6,
             lambda x, y: (200, 40, 120, 255 if (x + y) % 50 < 25 else 0), dpi=150)
    make_png(os.path.join(d, "wide.png"), 3000, 100, 0, lambda x, y: ((x // 12) % 256,), dpi=72)
    for f in ("photo.jpg", "cmyk.jpg"):
        shutil.copy(os.path.join(HERE, "cases", "figures", f), d)
    src = os.path.join(d, "figures.xml")
    write_source(src, "<p>图表如下。</p>"
                 '<figure src="alpha.png"><caption>图1　透明背景</caption></figure>'
                 '<figure src="wide.png"><caption>图2　超宽图片</caption></figure>'
                 '<figure src="photo.jpg" width="40%"><caption>图3　照片</caption></figure>'
                 '<figure src="./cmyk.jpg"><caption>图4　CMYK</caption></figure>')
    pdf = os.path.join(a.work, "pdfa-figures.pdf")
    dump = os.path.join(a.work, "figures.dump")
    rc, out, err = run([a.banshi, "render", src, "-o", pdf, "--dump", dump])
    if not check(rc == 0 and err == "", "figures: %d %s" % (rc, err)):
        return
    text = open(dump, encoding="utf-8").read()
    imgs = re.findall(r"image x=(\S+) y=(\S+) w=(\S+) h=(\S+) file=(\S+)", text)
    check([i[4] for i in imgs] == ["alpha.png", "wide.png", "photo.jpg", "cmyk.jpg"],
          "figures: images %s" % imgs)
    if len(imgs) == 4:
        x, y, w, h = (float(v) for v in imgs[0][:4])
        check(abs(w - 300 * 72 / 150) < 0.05 and abs(h - 150 * 72 / 150) < 0.05,
              "figures: PNG at its 150 dpi: %.2f x %.2f" % (w, h))
        check(abs((x + w / 2) - (LEFT + RIGHT) / 2) < 0.01, "figures: centred")
        x, y, w, h = (float(v) for v in imgs[1][:4])
        check(abs(w - (RIGHT - LEFT)) < 0.01 and abs(h - w / 30) < 0.01,
              "figures: a wide image is scaled to the type area: %.2f x %.2f" % (w, h))
        x, y, w, h = (float(v) for v in imgs[2][:4])
        check(abs(w - 0.4 * (RIGHT - LEFT)) < 0.01 and abs(h - w / 2) < 0.01,
              "figures: width=40%%: %.2f x %.2f" % (w, h))
    pages, _ = parse_dump(text)
    caps = [r for p in pages for r in p["runs"] if re.match(r"^图\d", r.text)]
    check(len(caps) == 4, "figures: %d captions" % len(caps))
    # captions below their images
    for (x, y, w, h, f), cap in zip(imgs, caps):
        check(cap.y > float(y) + float(h), "figures: caption %s below its image" % cap.text)
    # in the PDF: no soft masks, the JPEG kept as DCT, the rest as pixels
    rc, out, err = run(["pdfimages", "-list", pdf])
    rows = [l.split() for l in out.splitlines()[2:]]
    check(len(rows) == 4, "figures: %d images in the PDF" % len(rows))
    if len(rows) == 4:
        check([r[2] for r in rows] == ["image"] * 4, "figures: a soft mask was written: %s" % out)
        check(rows[0][5] == "rgb" and rows[1][5] == "gray" and rows[2][8] == "jpeg"
              and rows[3][5] == "rgb", "figures: colour spaces and encodings: %s" % out)
    # transparent pixels became white, opaque ones kept their colour:
    # render the page and sample the middle of a stripe of each kind
    base = os.path.join(a.work, "fig")
    rc, out, err = run(["pdftoppm", "-r", "288", "-f", "1", "-l", "1", "-gray", pdf, base])
    pgm = [f for f in os.listdir(a.work) if f.startswith("fig") and f.endswith(".pgm")]
    if check(rc == 0 and pgm and len(imgs) == 4, "figures: page image"):
        data = open(os.path.join(a.work, pgm[0]), "rb").read()
        parts = data.split(maxsplit=4)
        pw, ph = int(parts[1]), int(parts[2])
        pix = parts[4][-pw * ph:]
        x0, y0, w, h = (float(v) for v in imgs[0][:4])
        s = w / 300.0

        def grey(ix, iy):
            px = int((x0 + ix * s) * 4)
            py = int((y0 + iy * s) * 4)
            return pix[py * pw + px]
        check(grey(12, 25) > 245, "figures: transparent pixel not white (%d)" % grey(12, 25))
        check(grey(37, 25) < 150, "figures: opaque pixel lost (%d)" % grey(37, 25))
    # damaged and escaping images: tests/cases/figure-*.xml


GROUPS = {"tables": group_tables, "figures": group_figures}
