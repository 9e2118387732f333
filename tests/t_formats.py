# SPDX-License-Identifier: Apache-2.0
"""Archival formats besides the default PDF/A-1b (docs/formats.md).

  pdfa3   --pdfa 3b: the source (and a report source's core document) is
          embedded as an associated file with AFRelationship /Source; the
          PDF/A-3 requirements banshi relies on are checked with qpdf --json
          (EmbeddedFiles name tree, catalog AF, MIME Subtype, Params,
          F/UF, XMP pdfaid:part 3), the rest of the file with Preflight,
          whose only complaints must be the three PDF/A-1 rules that
          PDF/A-3 lifts; bytes are deterministic; 1b stays the default.
  tagged  --tagged and --pdfa 2a: tests/tagcheck.py (an independent
          reader of qpdf --json and the content streams) finds the
          structure tree, MarkInfo, Lang and ParentTree consistent with the
          MCIDs of every page, every text inside a structure element or an
          artifact, page numbers as artifacts; pdfinfo -struct-text gives
          every heading, paragraph, list item and cell text in source order
          and tables their cells at their rows and columns; the text
          (pdftotext) is that of the untagged file, which has no tags;
          Preflight passes --tagged (PDF/A-1b); --pdfa 2a says part 2,
          conformance A in its XMP; deterministic bytes.
  ofd     OFD output (-o X.ofd, --format ofd) of the example and of every
          valid case and test source, checked by tests/ofdcheck.py (an
          independent reader on fontTools): the package, every part against
          schemas/ofd/ofd.xsd, every path, ID and font, every character's
          glyph (against the installed original font), DeltaX counts, every
          glyph's position against the layout dump and every PDF word's
          position (pdftotext -bbox) within 0.1 mm; deterministic bytes;
          broken packages made from a good one are caught by the checker.
  cff     the CFF font programs that pipeline/pdf/cff.c cuts (the example
          and 1,500 common characters in the Noto Serif, Serif Bold and
          Sans faces): tests/cffcheck.py (fontTools) finds every glyph's
          outline and advance and its Private DICT equal to the font's own
          glyph of that CID, no subroutine or hint left; the text extracts
          as written; Preflight passes; the two rendered twice over by one
          batch worker, in both orders, are the bytes each has alone (the
          later ones take glyphs from the fonts' memo).
"""
import shutil
import subprocess
import sys
import zipfile
import glob
import json
import os
import re

from bstest import *  # noqa: F401,F403

# Preflight checks PDF/A-1b only: these are the PDF/A-1 rules that PDF/A-3
# changes (embedded files allowed as associated files; part 3)
PDFA1_ONLY = ("1.4.7 ", "1.2.9 ", "7.11.2 ")


def qpdf_json(pdf):
    rc, out, err = run(["qpdf", "--json", "--json-key=qpdf",
                        "--json-key=attachments", pdf])
    if not check(rc == 0, "qpdf --json %s: %s" % (pdf, err)):
        return None
    d = json.loads(out)
    objs = {}
    for k, v in d["qpdf"][1].items():
        if k.startswith("obj:"):
            objs[k[4:]] = v.get("value", v.get("stream", {}).get("dict"))
    return d, objs


def catalog(objs):
    for v in objs.values():
        if isinstance(v, dict) and v.get("/Type") == "/Catalog":
            return v
    return None


def xmp_text(pdf, cat):
    ref = cat.get("/Metadata", "")
    num = ref.split()[0]
    rc, out, err = run(["qpdf", "--show-object=%s" % num,
                        "--filtered-stream-data", pdf])
    return out


def pdfa3_check(pdf, expect):
    """expect: [(name, bytes)], the files the PDF must carry."""
    with open(pdf, "rb") as f:
        head = f.read(9)
    check(head == b"%PDF-1.7\n", "%s: header %r" % (pdf, head))
    got = qpdf_json(pdf)
    if not got:
        return
    d, objs = got
    cat = catalog(objs)
    if not check(cat is not None, "%s: no catalog" % pdf):
        return
    names = cat.get("/Names", {}).get("/EmbeddedFiles", {}).get("/Names", [])
    keys = [n[2:] for n in names[0::2]]
    want = sorted(n for n, _ in expect)
    check(keys == want, "%s: EmbeddedFiles names %s, want %s" % (pdf, keys, want))
    af = cat.get("/AF", [])
    check(sorted(af) == sorted(names[1::2]) and len(af) == len(expect),
          "%s: catalog AF %s does not list every file spec %s" % (pdf, af, names))
    for ref in af:
        fs = objs.get(ref, {})
        check(fs.get("/Type") == "/Filespec" and fs.get("/AFRelationship") == "/Source",
              "%s: %s is not a Source file spec: %s" % (pdf, ref, fs))
        check("/F" in fs and "/UF" in fs and "/Desc" in fs,
              "%s: %s lacks F, UF or Desc" % (pdf, ref))
        ef = objs.get(fs.get("/EF", {}).get("/F", ""), {})
        check(ef.get("/Type") == "/EmbeddedFile" and ef.get("/Subtype") == "/application/xml",
              "%s: embedded file stream %s" % (pdf, ef))
        params = ef.get("/Params", {})
        check(re.match(r"u:D:\d{14}[+-Z]", params.get("/ModDate", "")) and
              "/Size" in params and "/CheckSum" in params,
              "%s: embedded file Params %s" % (pdf, params))
    att = d.get("attachments", {})
    for name, data in expect:
        if not check(name in att, "%s: no attachment %s" % (pdf, name)):
            continue
        rc, out, err = run(["qpdf", "--show-attachment=" + name, pdf])
        # run() decodes as text: compare as text
        check(out == data.decode("utf-8"), "%s: attachment %s differs from its source" % (pdf, name))
    x = xmp_text(pdf, cat)
    check("<pdfaid:part>3</pdfaid:part>" in x and
          "<pdfaid:conformance>B</pdfaid:conformance>" in x,
          "%s: XMP does not say PDF/A-3b: %s" % (pdf, x[-400:]))


def group_pdfa3(a):
    d = os.path.join(a.work, "pdfa3")
    os.makedirs(d, exist_ok=True)
    core_src = os.path.join(d, "core.xml")
    write_source(core_src, "<section><heading>标题</heading><p>正文&amp;附件。</p></section>",
                 title="三号")
    pdfs = []
    # a core document: the source alone
    out1 = os.path.join(d, "core-3b.pdf")
    rc, out, err = run([a.banshi, "render", core_src, "-o", out1, "--pdfa", "3b"])
    if check(rc == 0, "render --pdfa 3b: %s" % err):
        pdfa3_check(out1, [("core.xml", open(core_src, "rb").read())])
        pdfs.append(out1)
    # a report source: the source and its core document (as banshi convert)
    ex3 = os.path.join(d, "liwan-3b.pdf")
    rc, out, err = run([a.banshi, "render", EXAMPLE, "-o", ex3, "--pdfa", "3b"])
    conv = os.path.join(d, "liwan.core.xml")
    rc2, _, err2 = run([a.banshi, "convert", EXAMPLE, "-o", conv])
    if check(rc == 0 and rc2 == 0, "render example --pdfa 3b: %s %s" % (err, err2)):
        pdfa3_check(ex3, [("liwan-emergency-2020.xml", open(EXAMPLE, "rb").read()),
                          ("liwan-emergency-2020.core.xml", open(conv, "rb").read())])
        pdfs.append(ex3)
        # deterministic
        again = os.path.join(d, "liwan-3b-again.pdf")
        run([a.banshi, "render", EXAMPLE, "-o", again, "--pdfa", "3b"])
        check(open(again, "rb").read() == open(ex3, "rb").read(),
              "--pdfa 3b: two runs give different bytes")
        # the pages are those of the PDF/A-1b file
        one = os.path.join(d, "liwan-1b.pdf")
        run([a.banshi, "render", EXAMPLE, "-o", one, "--pdfa", "1b"])
        t1 = run(["pdftotext", "-layout", one, "-"])[1]
        t3 = run(["pdftotext", "-layout", ex3, "-"])[1]
        check(t1 == t3 and len(t1) > 1000, "--pdfa 3b text differs from 1b")
    # 1b stays the default: no embedded file, part 1
    dflt = os.path.join(d, "liwan-default.pdf")
    rc, out, err = run([a.banshi, "render", EXAMPLE, "-o", dflt])
    got = qpdf_json(dflt)
    if got:
        cat = catalog(got[1])
        check("/Names" not in cat and "/AF" not in cat, "default PDF has attachments")
        check("<pdfaid:part>1</pdfaid:part>" in xmp_text(dflt, cat), "default not part 1")
        with open(dflt, "rb") as f:
            check(f.read(9) == b"%PDF-1.4\n", "default PDF not 1.4")
    # options refused clearly
    for bad, word in ((["--pdfa", "2b"], "1b, 2a or 3b"),):
        rc, out, err = run([a.banshi, "render", core_src, "-o", os.path.join(d, "x.pdf"), "--lang", "en"] + bad)
        check(rc == 2 and word in err, "%s: exit %d %r" % (bad, rc, err))
    # Preflight (PDF/A-1b rules) on the rest of the file
    res, log = preflight(pdfs, d)
    for p in pdfs:
        valid, errs = res.get(os.path.basename(p), (False, ["no verdict"]))
        other = [e for e in errs if not e.startswith(PDFA1_ONLY)]
        check(not other, "preflight: %s: %s" % (p, other))
    print("pdfa3: %d PDF/A-3b files checked" % len(pdfs))


# ---------------------------------------------------------------------------
# ofd

OFDCHECK = os.path.join(HERE, "ofdcheck.py")
OFD_XSD = os.path.join(ROOT, "schemas", "ofd", "ofd.xsd")


def fonttools_python():
    """A Python that has fontTools (Debian's python3-fonttools is for
    /usr/bin/python3, which may not be the one running the tests)."""
    for py in (sys.executable, "/usr/bin/python3"):
        if os.path.exists(py) and subprocess.run(
                [py, "-c", "import fontTools"], capture_output=True).returncode == 0:
            return py
    return None


def ofdcheck(py, ofd, dump=None, pdf=None, originals=True):
    args = [py, OFDCHECK, ofd, "--schema", OFD_XSD, "--json"]
    if dump:
        args += ["--dump", dump]
    if pdf:
        args += ["--pdf", pdf]
    if originals:
        args.append("--originals")
    rc, out, err = run(args)
    return rc, (json.loads(out) if out.strip() else None), err


def group_ofd(a):
    py = fonttools_python()
    if not py:
        skip("no Python with fontTools (Debian python3-fonttools)")
    from t_tables import make_png
    d = os.path.join(a.work, "ofd")
    os.makedirs(d, exist_ok=True)
    make_png(os.path.join(d, "alpha.png"), 120, 60, 6,
             lambda x, y: (30, 90, 200, 255 if x % 20 < 10 else 0), dpi=96)
    shutil.copy(os.path.join(HERE, "cases", "figures", "photo.jpg"), d)
    srcs = {"ex": EXAMPLE}
    gen = {
        "specials": "<section><heading>标题&amp;</heading><p>正文&amp;&lt;&gt;"
                    "&quot;&apos;。Latin text, with spaces.</p></section>",
        "figures": '<figure src="alpha.png"><caption>图1</caption></figure>'
                   '<figure src="photo.jpg"><caption>图2</caption></figure>',
        "table": "<table><thead><tr><th>甲</th><th>乙</th></tr></thead><tbody>"
                 + "<tr><td>一</td><td>1</td></tr>" * 80 + "</tbody></table>",
        "outline": "".join("<section><heading>第%d部分</heading><p>%s</p>"
                           "<section><heading>细则</heading><p>内容。</p></section>"
                           "</section>" % (i, "正文“引号”《书名》，" * 60) for i in range(1, 4)),
        "fallback": "<p>〇号文件；生僻字𠀋；〇〇七。</p>",
    }
    for name, body in gen.items():
        src = os.path.join(d, name + ".xml")
        write_source(src, body, title=name)
        srcs[name] = src
    for src in sorted(glob.glob(os.path.join(HERE, "cases", "*.xml")) +
                      glob.glob(os.path.join(HERE, "reports", "*.xml"))):
        srcs["case-" + os.path.basename(src)[:-4]] = src
    checked = 0
    worst_layout = worst_pdf = 0.0
    glyphs = 0
    for name, src in sorted(srcs.items()):
        pdf = os.path.join(d, name + ".pdf")
        rc, out, err = run([a.banshi, "render", src, "-o", pdf])
        if rc != 0:
            if name.startswith("case-"):
                continue  # an invalid case source
            check(False, "render %s: %s" % (name, err))
            continue
        ofd = os.path.join(d, name + ".ofd")
        dump = os.path.join(d, name + ".dump")
        rc, out, err = run([a.banshi, "render", src, "-o", ofd, "--dump", dump])
        if not check(rc == 0 and os.path.exists(ofd), "render %s as OFD: %s" % (name, err)):
            continue
        rc, summary, err = ofdcheck(py, ofd, dump, pdf)
        if not check(rc == 0 and summary, "ofdcheck %s:\n%s" % (name, err[:3000])):
            continue
        checked += 1
        glyphs += summary["glyphs"]
        check(summary["glyphs_checked_against_originals"] == summary["glyphs"],
              "%s: not every glyph compared with its original" % name)
        worst_layout = max(worst_layout, summary["max_layout_diff_mm"])
        worst_pdf = max(worst_pdf, summary["max_pdf_diff_mm"])
        if name == "figures":
            check(summary["images"] == 2, "figures: %d images" % summary["images"])
        if name == "ex":
            c = summary["custom"]
            check(c.get("题名") == ["荔湾区应急管理局2020年政府信息公开工作年度报告"]
                  and c.get("保管期限") == ["永久"] and c.get("年度") == ["2020"]
                  and c.get("页数") == [str(summary["pages"])],
                  "example: DA/T 46 custom data %s" % c)
    check(checked >= 12, "ofd: only %d sources checked" % checked)
    # A glyph that is not the one the cmap gives for its character, named
    # by a CGTransform.  banshi's layout never draws one (each character
    # with its font's nominal glyph), so the unit test ofd_glyph makes it:
    # 一 drawn with the glyph of 二 (tests/unit/test_render.c).
    unit = os.path.join(os.path.dirname(os.path.abspath(a.banshi)), "tests", "unit_tests")
    vofd = os.path.join(d, "variant.ofd")
    if os.path.exists(vofd):
        os.unlink(vofd)
    rc, out, err = run([unit, "ofd_glyph"], env={"BANSHI_UNIT_OFD": vofd})
    if check(rc == 0 and os.path.exists(vofd), "unit_tests ofd_glyph: %s %s" % (out, err)):
        vargs = [py, OFDCHECK, vofd, "--schema", OFD_XSD, "--json", "--originals",
                 "--variant", "一=二"]
        rc, out, err = run(vargs)
        summ = json.loads(out) if rc == 0 and out.strip() else {}
        check(rc == 0 and summ.get("variants_checked") == 1,
              "variant OFD: %s %s" % (out, err[:2000]))
        with zipfile.ZipFile(vofd) as z:
            content = z.read("Doc_0/Pages/Page_0/Content.xml").decode()
            entries = [(i, z.read(i.filename)) for i in z.infolist()]
        check(content.count("<ofd:CGTransform ") == 1 and
              re.search(r'<ofd:CGTransform CodePosition="0"[^>]*><ofd:Glyphs>\d+</ofd:Glyphs>',
                        content) and ">一二三一</ofd:TextCode>" in content,
              "variant: CGTransform %s" % content[:1500])
        # the check sees a CGTransform that names another glyph
        g = re.search(r"<ofd:Glyphs>(\d+)</ofd:Glyphs>", content)
        bad_ofd = os.path.join(d, "variant-bad.ofd")
        with zipfile.ZipFile(bad_ofd, "w") as z:
            for info, data in entries:
                if info.filename == "Doc_0/Pages/Page_0/Content.xml" and g:
                    other = int(g.group(1)) + 1
                    data = data.replace(g.group(0).encode(),
                                        b"<ofd:Glyphs>%d</ofd:Glyphs>" % other)
                z.writestr(info, data)
        rc, out, err = run([py, OFDCHECK, bad_ofd, "--schema", OFD_XSD, "--originals",
                            "--variant", "一=二"])
        check(rc == 1 and "CGTransform" in err, "variant: a wrong glyph passes: %s" % err[:500])
    # --format ofd, and the same bytes every time
    ex = os.path.join(d, "ex.ofd")
    again = os.path.join(d, "ex-again.bin")
    rc, out, err = run([a.banshi, "render", EXAMPLE, "-o", again, "--format", "ofd"])
    check(rc == 0 and open(again, "rb").read() == open(ex, "rb").read(),
          "--format ofd / second run: different bytes")
    with zipfile.ZipFile(ex) as z:
        names = z.namelist()
        check(names[:4] == ["OFD.xml", "Doc_0/Document.xml", "Doc_0/PublicRes.xml",
                            "Doc_0/DocumentRes.xml"], "entry order %s" % names[:4])
        infos = z.infolist()
        check(all(i.date_time == infos[0].date_time and not i.extra for i in infos),
              "entries with differing time stamps or extra fields")
        fonts = [n for n in names if n.startswith("Doc_0/Res/font_")]
        check(any(n.endswith(".otf") for n in fonts), "no OpenType/CFF font: %s" % fonts)
    # the checker catches broken packages
    def tamper(tag, fn):
        bad = os.path.join(d, "bad-%s.ofd" % tag)
        with zipfile.ZipFile(ex) as zin, zipfile.ZipFile(bad, "w") as zout:
            for i in zin.infolist():
                data = fn(i.filename, zin.read(i.filename))
                if data is not None:
                    zout.writestr(i, data)
        rc, summary, err = ofdcheck(py, bad, os.path.join(d, "ex.dump"))
        check(rc != 0, "ofdcheck misses a broken package (%s)" % tag)
    page = "Doc_0/Pages/Page_0/Content.xml"
    tamper("deltax", lambda n, b: re.sub(rb'DeltaX="g (\d+)',
                                          lambda m: b'DeltaX="g ' + str(int(m.group(1)) - 1).encode(),
                                          b, count=1) if n == page else b)
    tamper("char", lambda n, b: b.replace("荔".encode(), "莉".encode(), 1) if n == page else b)
    tamper("moved", lambda n, b: re.sub(rb'Y="(\d+)', lambda m: b'Y="' + str(int(m.group(1)) + 1).encode(),
                                         b, count=1) if n == page else b)
    tamper("font", lambda n, b: None if n.startswith("Doc_0/Res/font_3") else b)
    tamper("schema", lambda n, b: b.replace(b'DocType="OFD-A"', b'DocType="PDF"') if n == "OFD.xml" else b)
    tamper("cmap", lambda n, b: b.replace(b'Font="3"', b'Font="1"', 1) if n == page else b)
    # an invalid source writes nothing
    badsrc = os.path.join(d, "invalid.xml")
    with open(badsrc, "w") as f:
        f.write("<document><oops/></document>")
    out_bad = os.path.join(d, "invalid.ofd")
    rc, out, err = run([a.banshi, "render", badsrc, "-o", out_bad])
    check(rc == 1 and not os.path.exists(out_bad), "invalid source: exit %d, file written" % rc)
    rc, out, err = run([a.banshi, "render", EXAMPLE, "-o", out_bad, "--format", "xps",
                        "--lang", "en"])
    check(rc == 2 and "pdf or ofd" in err, "--format xps: %d %r" % (rc, err))
    # batch --format pdf,ofd: an OFD beside every PDF, redone when missing;
    # archive packs it with its digest and DA/T 46 record
    bd = os.path.join(d, "batch")
    shutil.rmtree(bd, ignore_errors=True)
    os.makedirs(os.path.join(bd, "in"))
    for name in ("specials", "figures"):
        shutil.copy(srcs[name], os.path.join(bd, "in"))
    for img in ("alpha.png", "photo.jpg"):
        shutil.copy(os.path.join(d, img), os.path.join(bd, "in"))
    outd = os.path.join(bd, "out")
    rc, out, err = run([a.banshi, "batch", os.path.join(bd, "in"), "-o", outd,
                        "--format", "pdf,ofd", "-j", "1"])
    check(rc == 0, "batch --format pdf,ofd: %s" % err)
    for name in ("specials", "figures"):
        o = os.path.join(outd, name + ".ofd")
        check(os.path.exists(os.path.join(outd, name + ".pdf")) and os.path.exists(o),
              "batch: no %s.pdf/.ofd" % name)
        if os.path.exists(o):
            check(open(o, "rb").read() == open(os.path.join(d, name + ".ofd"), "rb").read(),
                  "batch OFD of %s differs from render's" % name)
    os.remove(os.path.join(outd, "specials.ofd"))
    rc, out, err = run([a.banshi, "batch", os.path.join(bd, "in"), "-o", outd,
                        "--format", "pdf,ofd", "-j", "1"])
    check(rc == 0 and os.path.exists(os.path.join(outd, "specials.ofd")),
          "batch did not write a missing OFD again: %s" % err)
    rc, out, err = run([a.banshi, "batch", os.path.join(bd, "in"), "-o", outd,
                        "--format", "ofd", "--lang", "en"])
    check(rc == 2 and "pdf,ofd" in err, "batch --format ofd: %d %r" % (rc, err))
    bag = os.path.join(bd, "bag")
    rc, out, err = run([a.banshi, "archive", outd, "-o", bag])
    if check(rc == 0, "archive: %s" % err):
        man = open(os.path.join(bag, "manifest-sha256.txt")).read()
        check("data/documents/specials.ofd" in man and "data/documents/figures.ofd" in man,
              "archive: OFD not in the manifest")
        rec = open(os.path.join(bag, "data", "metadata", "specials.xml"), encoding="utf-8").read()
        check("data/documents/specials.ofd" in rec and "OFD-A" in rec,
              "archive: OFD not in the DA/T 46 record")
        rc, out, err = run([a.banshi, "archive", "--verify", bag])
        check(rc == 0, "archive --verify: %s" % err)
    print("ofd: %d documents, %d glyphs checked; largest difference %.5f mm from the "
          "layout, %.5f mm from the PDF's words" % (checked, glyphs, worst_layout, worst_pdf))


# ---------------------------------------------------------------------------
# tagged

TAGCHECK = os.path.join(HERE, "tagcheck.py")


def struct_tree(pdf):
    """pdfinfo -struct-text as a tree: {"type", "attrs", "text", "kids"}."""
    rc, out, err = run(["pdfinfo", "-struct-text", pdf])
    root = {"type": "", "attrs": {}, "text": [], "kids": [], "ind": -1}
    stack = [root]
    for line in out.split("\n"):
        if not line.strip():
            continue
        ind = len(line) - len(line.lstrip(" "))
        body = line.strip()
        while len(stack) > 1 and stack[-1]["ind"] >= ind:
            stack.pop()
        top = stack[-1]
        if body.startswith('"'):
            top["text"].append(body[1:-1] if body.endswith('"') else body[1:])
        elif body.startswith("/"):
            k, _, v = body[1:].partition(" ")
            top["attrs"][k] = v
            stack.append({"type": None, "ind": ind, "attrs": {}, "text": [], "kids": []})
            stack.pop()
        else:
            name = body.split()[0].rstrip(":")
            node = {"type": name, "attrs": {}, "text": [], "kids": [], "ind": ind}
            top["kids"].append(node)
            stack.append(node)
    return root


def all_text(node):
    return "".join(node["text"]) + "".join(all_text(k) for k in node["kids"])


def find_all(node, typ):
    out = [node] if node["type"] == typ else []
    for k in node["kids"]:
        out += find_all(k, typ)
    return out


def table_grid(table):
    """{(row, col): text} of a Table element, spans from its attributes."""
    grid, taken = {}, set()
    rows = [k for k in table["kids"] if k["type"] == "TR"]
    for r, tr in enumerate(rows):
        c = 0
        for cell in tr["kids"]:
            while (r, c) in taken:
                c += 1
            rs = int(cell["attrs"].get("RowSpan", 1))
            cs = int(cell["attrs"].get("ColSpan", 1))
            grid[(r, c)] = (cell["type"], all_text(cell), rs, cs)
            for i in range(rs):
                for j in range(cs):
                    taken.add((r + i, c + j))
            c += cs
    return grid


def squash(t):
    return re.sub(r"\s+", "", t)


def tagcheck(pdf):
    rc, out, err = run([sys.executable, TAGCHECK, pdf, "--page-numbers", "--json"])
    lines = out.strip().split("\n")
    ok = check(rc == 0, "tagcheck %s:\n%s" % (pdf, out[:3000] + err[:1000]))
    try:
        return json.loads(lines[-1]) if ok else None
    except ValueError:
        return None


def group_tagged(a):
    from collections import Counter
    from t_tables import make_png
    d = os.path.join(a.work, "tagged")
    os.makedirs(d, exist_ok=True)
    make_png(os.path.join(d, "fig.png"), 120, 60, 2,
             lambda x, y: (30, 90, 200) if x % 20 < 10 else (250, 250, 250), dpi=96)
    long_p = "长段落的文字跨越两页，" * 160 + "到此为止。"
    rows = "".join("<tr><td>第%d行</td><td>%d</td></tr>" % (i, i) for i in range(1, 61))
    gen = {
        "lists": "<section><heading>列表</heading><list><item>第一项"
                 "<list type=\"unordered\"><item>子项甲</item><item>子项乙</item></list></item>"
                 "<item>第二项</item></list><list type=\"unordered\"><item>无序项</item></list>"
                 "</section>",
        "figure": '<p>图前的段落。</p><figure src="fig.png"><caption>图1　示意图</caption></figure>'
                  "<p>图后的段落。</p>",
        "spans": "<table><caption>表1　合并单元格</caption><thead><tr><th rowspan=\"2\">项目</th>"
                 "<th colspan=\"2\">数量</th></tr><tr><th>申请</th><th>办结</th></tr></thead>"
                 "<tbody><tr><td rowspan=\"2\">甲类</td><td>1</td><td>2</td></tr>"
                 "<tr><td>3</td><td>4</td></tr><tr><td>乙类</td><td colspan=\"2\">5</td></tr>"
                 "<tr><th>合计</th><td>9</td><td>11</td></tr></tbody></table>",
        "long": "<section><heading>长表与长段</heading><p>%s</p>"
                "<table><thead><tr><th>行</th><th>值</th></tr></thead><tbody>%s</tbody></table>"
                "</section>" % (long_p, rows),
    }
    srcs = {"ex": EXAMPLE,
            "everything": os.path.join(HERE, "cases", "valid-everything.xml")}
    for name, body in gen.items():
        src = os.path.join(d, name + ".xml")
        write_source(src, body, title=name, closing=(["测试机关"], "2021-01-05"))
        srcs[name] = src
    trees, sums = {}, {}
    pf = []
    for name, src in sorted(srcs.items()):
        plain = os.path.join(d, name + "-plain.pdf")
        tagged = os.path.join(d, name + ".pdf")
        rc1, _, err1 = run([a.banshi, "render", src, "-o", plain])
        rc2, _, err2 = run([a.banshi, "render", src, "-o", tagged, "--tagged"])
        if not check(rc1 == 0 and rc2 == 0, "render %s: %s %s" % (name, err1, err2)):
            continue
        pf.append(tagged)
        summ = tagcheck(tagged)
        if not summ:
            continue
        sums[name] = summ
        check(summ["lang"] == "zh-CN", "%s: /Lang %r" % (name, summ["lang"]))
        # the untagged file has no structure, the text is the same
        got = qpdf_json(plain)
        if got:
            cat = catalog(got[1])
            check("/StructTreeRoot" not in cat and "/MarkInfo" not in cat,
                  "%s: untagged file has structure" % name)
        t_plain = run(["pdftotext", plain, "-"])[1]
        t_tag = run(["pdftotext", tagged, "-"])[1]
        check(t_plain == t_tag and len(t_plain) > 20, "%s: pdftotext differs when tagged" % name)
        # every text inside a structure element: what pdftotext shows, less
        # the page numbers and the repeated table headers (artifacts), is
        # the text of the structure tree
        tree = struct_tree(tagged)
        trees[name] = tree
        st = squash(all_text(tree))
        check(st, "%s: pdfinfo -struct-text shows no text" % name)
        pages = run(["pdftotext", tagged, "-"])[1].split("\f")
        numbers = "".join(re.findall(r"—\s*\d+\s*—", t_tag))
        extra = Counter(squash(t_tag)) - Counter(st)
        missing = Counter(st) - Counter(squash(t_tag))
        rest = extra - Counter(squash(numbers))
        if name == "long":
            rest -= Counter("行值" * (len(pages) - 1))
        check(not missing and not rest and Counter(squash(numbers)) <= extra,
              "%s: text outside the structure %s, structure text not shown %s"
              % (name, dict(rest), dict(missing)))
        check(not re.search(r"—\s*\d+\s*—", all_text(tree)),
              "%s: a page number inside the structure" % name)
        # deterministic
        again = os.path.join(d, name + "-again.pdf")
        run([a.banshi, "render", src, "-o", again, "--tagged"])
        check(open(again, "rb").read() == open(tagged, "rb").read(),
              "%s: two tagged runs differ" % name)
    # reading order = source order; the structure of each source
    if "ex" in trees:
        doc = trees["ex"]["kids"][0]
        heads = [all_text(k) for k in doc["kids"] if k["type"] in ("H1", "Title")]
        check(heads[:3] == ["荔湾区应急管理局2020年政府信息公开工作年度报告", "一、总体情况",
                            "二、主动公开政府信息情况"], "example: headings %s" % heads[:3])
        tables = find_all(doc, "Table")
        check(len(tables) == 3, "example: %d tables" % len(tables))
        if tables:
            g = table_grid(tables[0])
            check(g.get((0, 0)) == ("TH", "第二十条第（一）项", 1, 5) and
                  [g.get((1, c), ("",))[1] for c in (0, 1, 2, 4)] ==
                  ["信息内容", "本年新制作数量", "本年新公开数量", "对外公开总数量"] and
                  g.get((2, 0), ("",))[1] == "规章" and g.get((2, 2), ("", "", 0, 0))[3] == 2,
                  "example: first table's cells %s" % sorted(g.items())[:12])
    if "lists" in trees:
        doc = trees["lists"]["kids"][0]
        lists = [k for k in doc["kids"] if k["type"] == "L"]
        ok = len(lists) == 2 and len(lists[0]["kids"]) == 2
        if ok:
            li = lists[0]["kids"][0]
            nested = find_all(li, "L")
            lbls = [[all_text(x) for x in k["kids"] if x["type"] == "Lbl"]
                    for k in lists[0]["kids"] + lists[1]["kids"]]
            ok = (li["type"] == "LI" and [k["type"] for k in li["kids"]] == ["Lbl", "LBody"]
                  and lbls == [["1."], ["2."], ["●"]] and len(nested) == 1
                  and nested[0] in li["kids"][1]["kids"]
                  and squash(all_text(li["kids"][1])) == "第一项○子项甲○子项乙"
                  and [squash(all_text(k)) for k in nested[0]["kids"]] == ["○子项甲", "○子项乙"])
        check(ok, "lists: structure %s" % json.dumps(lists, ensure_ascii=False)[:800])
    if "figure" in trees:
        doc = trees["figure"]["kids"][0]
        kinds = [k["type"] for k in doc["kids"]]
        check(kinds[:5] == ["H1", "P", "Figure", "Caption", "P"],
              "figure: elements %s" % kinds)
        got = qpdf_json(os.path.join(d, "figure.pdf"))
        if got:
            alts = [v.get("/Alt") for v in got[1].values()
                    if isinstance(v, dict) and v.get("/S") == "/Figure"]
            check(alts == ["u:图1　示意图"], "figure: Alt %s" % alts)
    if "spans" in trees:
        t = find_all(trees["spans"], "Table")
        if check(len(t) == 1, "spans: %d tables" % len(t)):
            g = table_grid(t[0])
            want = {(0, 0): ("TH", "项目", 2, 1), (0, 1): ("TH", "数量", 1, 2),
                    (1, 1): ("TH", "申请", 1, 1), (1, 2): ("TH", "办结", 1, 1),
                    (2, 0): ("TD", "甲类", 2, 1), (2, 1): ("TD", "1", 1, 1),
                    (2, 2): ("TD", "2", 1, 1), (3, 1): ("TD", "3", 1, 1),
                    (3, 2): ("TD", "4", 1, 1), (4, 0): ("TD", "乙类", 1, 1),
                    (4, 1): ("TD", "5", 1, 2), (5, 0): ("TH", "合计", 1, 1),
                    (5, 1): ("TD", "9", 1, 1), (5, 2): ("TD", "11", 1, 1)}
            check(g == want, "spans: cells %s" % sorted(g.items()))
            scopes = [c["attrs"].get("Scope") for tr in t[0]["kids"] if tr["type"] == "TR"
                      for c in tr["kids"] if c["type"] == "TH"]
            check(scopes == ["/Column"] * 4 + ["/Row"], "spans: header scopes %s" % scopes)
            check([k["type"] for k in t[0]["kids"]][:1] == ["Caption"],
                  "spans: no Caption first in the Table")
    if "long" in trees and "long" in sums:
        s = sums["long"]
        check(s["pages"] >= 3 and s["split"].get("P", 0) >= 1 and s["split"].get("Table") is None
              and s["repeated"] >= 1,
              "long: a paragraph and a table across pages %s" % s)
        ps = [k for k in trees["long"]["kids"][0]["kids"] if k["type"] == "P"]
        check(any(squash(all_text(p)) == squash(long_p) for p in ps),
              "long: the split paragraph is not one P")
        t = find_all(trees["long"], "Table")
        if check(len(t) == 1, "long: %d Table elements (one table across pages)" % len(t)):
            g = table_grid(t[0])
            check(len([k for k in t[0]["kids"] if k["type"] == "TR"]) == 61 and
                  g.get((60, 0), ("",))[1] == "第60行" and g.get((0, 1), ("",))[1] == "值",
                  "long: rows %d" % len(t[0]["kids"]))
    # the checker catches broken files made from a good one
    good = os.path.join(d, "everything.pdf")
    qdf = os.path.join(d, "everything.qdf.pdf")
    rc, _, err = run(["qpdf", "--qdf", "--object-streams=disable", good, qdf])
    if check(rc == 0 and os.path.exists(qdf), "qpdf --qdf: %s" % err):
        raw = open(qdf, "rb").read()
        footer = b"/Artifact <</Type /Pagination /Subtype /Footer>> BDC"
        for name, old, new, word in (
                ("duplicate MCID", b"/MCID 1>> BDC", b"/MCID 0>> BDC", "used twice"),
                ("no MarkInfo", b"/MarkInfo", b"/MarkInfX", "MarkInfo"),
                ("unmarked page number", footer, b" " * len(footer), "outside any tagged")):
            if not check(old in raw, "tamper %s: %r not in the file" % (name, old)):
                continue
            bad = os.path.join(d, "tampered.qdf.pdf")
            fixed = os.path.join(d, "tampered.pdf")
            with open(bad, "wb") as f:
                f.write(raw.replace(old, new, 1))
            subprocess.run("fix-qdf < '%s' > '%s'" % (bad, fixed), shell=True)
            rc, out, err = run([sys.executable, TAGCHECK, fixed, "--page-numbers"])
            check(rc == 1 and word in out, "tagcheck misses a %s: %d %s" % (name, rc, out[:500]))
    # PDF/A-2a: part 2, conformance A, and what a tagged file needs
    a2 = os.path.join(d, "ex-2a.pdf")
    rc, out, err = run([a.banshi, "render", EXAMPLE, "-o", a2, "--pdfa", "2a"])
    if check(rc == 0, "--pdfa 2a: %s" % err):
        with open(a2, "rb") as f:
            check(f.read(9) == b"%PDF-1.7\n", "2a: header")
        got = qpdf_json(a2)
        cat = catalog(got[1]) if got else {}
        x = xmp_text(a2, cat)
        check("<pdfaid:part>2</pdfaid:part>" in x and
              "<pdfaid:conformance>A</pdfaid:conformance>" in x,
              "2a: XMP does not say PDF/A-2a: %s" % x[-300:])
        check(cat.get("/Lang") == "u:zh-CN" and cat.get("/MarkInfo", {}).get("/Marked") is True
              and "/StructTreeRoot" in cat, "2a: catalog %s" % cat)
        tagcheck(a2)
        pf.append(a2)
    # OFD: the PDF options are refused, not ignored
    for bad in (["--pdfa", "2a"], ["--tagged"], ["--pdfa", "1b", "--format", "ofd"]):
        out_ = os.path.join(d, "x.ofd" if "--format" not in bad else "x.bin")
        rc, out, err = run([a.banshi, "render", EXAMPLE, "-o", out_, "--lang", "en"] + bad)
        check(rc == 2 and "PDF output only" in err and not os.path.exists(out_),
              "%s with OFD: exit %d %r" % (bad, rc, err))
    # Preflight: --tagged files are PDF/A-1b; 2a may only fail the part number
    res, log = preflight(pf, d)
    for p in pf:
        valid, errs = res.get(os.path.basename(p), (False, ["no verdict"]))
        if p == a2:
            check(errs == ["7.11.2 Error on MetaData, part must be 1"], "preflight 2a: %s" % errs)
        else:
            check(valid and not errs, "preflight: %s: %s" % (p, errs))
    print("tagged: %d files checked, elements %s" % (
        len(sums), {k: v["elements"] for k, v in sorted(sums.items()) if k != "ex"}))
    tagged_batch(a, d, [srcs["ex"], srcs["lists"]])


def read_stamp(out, pdf):
    """The lines of the batch's stamp of `pdf` (OUTDIR/.banshi/NAME.stamp)."""
    path = os.path.join(out, ".banshi", os.path.relpath(pdf, out) + ".stamp")
    with open(path, encoding="utf-8") as f:
        return f.read().split("\n")


def tagged_batch(a, d, sources):
    """banshi batch --pdfa 2a / --tagged: tagged PDFs, a stamp that says
    so, up to date on a rerun with the same options and rendered again
    without them, and the archive's DA/T 46 record naming the conformance
    written."""
    import xml.etree.ElementTree as ET
    from t_batch import read_log
    out = os.path.join(d, "batch")
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")

    def batch(*opts):
        rc, _, err = run([a.banshi, "batch", *sources, "-o", out, "--lang", "en", *opts],
                         env=env)
        check(rc == 0, "batch %s: %d %s" % (" ".join(opts), rc, err[-800:]))
        recs, _ = read_log(os.path.join(out, "banshi-batch.jsonl"))
        return sorted(r["status"] for r in recs)

    check(batch("--pdfa", "2a") == ["ok", "ok"], "batch --pdfa 2a: not rendered")
    pdfs = sorted(glob.glob(os.path.join(out, "*.pdf")))
    check(len(pdfs) == 2, "batch --pdfa 2a wrote %s" % pdfs)
    for pdf in pdfs:
        tagcheck(pdf)
        got = qpdf_json(pdf)
        if got:
            x = xmp_text(pdf, catalog(got[1]))
            check("<pdfaid:part>2</pdfaid:part>" in x and
                  "<pdfaid:conformance>A</pdfaid:conformance>" in x,
                  "%s: XMP does not say PDF/A-2a" % pdf)
        stamp = read_stamp(out, pdf)
        check("pdfa 2a" in stamp and "tagged 1" in stamp, "%s: stamp %s" % (pdf, stamp[:14]))
    check(batch("--pdfa", "2a") == ["up-to-date", "up-to-date"],
          "batch --pdfa 2a again: not up to date")
    check(batch("--tagged") == ["ok", "ok"], "--tagged after --pdfa 2a: not rendered again")
    stamp = read_stamp(out, pdfs[0])
    check("pdfa 1b" in stamp and "tagged 1" in stamp, "--tagged stamp %s" % stamp[:14])
    check(batch() == ["ok", "ok"], "untagged after --tagged: not rendered again")
    check(batch("--pdfa", "2a") == ["ok", "ok"], "--pdfa 2a again: not rendered")
    bag = os.path.join(d, "bag")
    shutil.rmtree(bag, ignore_errors=True)
    rc, _, err = run([a.banshi, "archive", out, "-o", bag, "--lang", "en"], env=env)
    if check(rc == 0, "archive of a --pdfa 2a batch: %d %s" % (rc, err[-800:])):
        recs = glob.glob(os.path.join(bag, "data", "metadata", "*.xml"))
        fmts = [ET.parse(r).getroot().findtext("文件数据/文档/格式信息") for r in recs]
        check(len(fmts) == 2 and all(f.startswith("PDF/A-2a") for f in fmts),
              "archive 格式信息 %s" % fmts)
    bad = run([a.banshi, "batch", sources[0], "-o", out, "--pdfa", "2b", "--lang", "en"])
    check(bad[0] == 2 and "1b, 2a or 3b" in bad[2], "batch --pdfa 2b: %r" % (bad,))



# ---------------------------------------------------------------------------
# cff

CFFCHECK = os.path.join(HERE, "cffcheck.py")
NOTO = "/usr/share/fonts/opentype/noto"


def gb2312_level1(count):
    """The first `count` characters of GB 2312's first level (rows 16-55),
    the common Chinese characters, in the standard's order."""
    out = []
    for row in range(0xB0, 0xD8):
        for col in range(0xA1, 0xFF):
            try:
                out.append(bytes([row, col]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
            if len(out) == count:
                return "".join(out)
    return "".join(out)


def same_in_batch(a, d, alone, srcs):
    """The two documents rendered twice over by one process (a batch of one
    worker: X, Y, X, Y and Y, X, Y, X) are the bytes each is alone: the
    second fills the fonts' memo of flattened charstrings (cff.c), the
    third takes part of its glyphs from it, the fourth all of them, and
    the subsets must not show it."""
    for order in ((0, 1, 0, 1), (1, 0, 1, 0)):
        folder = os.path.join(d, "batch%d%d" % order[:2])
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(os.path.join(folder, "src"))
        names = []
        for k, i in enumerate(order):
            name = "%s-%s" % ("abcd"[k], os.path.basename(alone[i]))
            shutil.copy(srcs[i], os.path.join(folder, "src", name[:-4] + ".xml"))
            names.append((name, alone[i]))
        rc, out, err = run([a.banshi, "batch", os.path.join(folder, "src"), "-o",
                            os.path.join(folder, "out"), "-j", "1", "-q"])
        if not check(rc == 0, "batch %r: exit %d: %s" % (order, rc, err)):
            continue
        for name, pdf in names:
            with open(os.path.join(folder, "out", name), "rb") as f, \
                    open(pdf, "rb") as g:
                check(f.read() == g.read(), "%s: rendered after other "
                      "documents in one process, not the bytes it has alone"
                      % name)


def group_cff(a):
    """The CFF font programs (pipeline/pdf/cff.c) of the example and of a
    document of 1,500 common characters, with punctuation, digits and Latin,
    in the title (Noto Serif CJK Bold), headings and strong text (Noto
    Sans CJK) and body (Noto Serif CJK): every glyph draws as the font's
    own glyph of its CID (tests/cffcheck.py, fontTools), the text extracts
    as written and the files pass Preflight."""
    py = fonttools_python()
    if not py:
        skip("no Python with fontTools (Debian python3-fonttools)")
    d = os.path.join(a.work, "cff")
    os.makedirs(d, exist_ok=True)
    chars = gb2312_level1(1500)
    paras = [chars[i:i + 300] for i in range(0, len(chars), 300)]
    tail = "“引号”（括号）《书名》、，。：；！？0123456789 ABCxyz"
    body = "".join(
        "<section><heading>%s</heading><p>%s<strong>%s</strong>%s</p>"
        "</section>" % (p[:12], p, p[100:160], tail) for p in paras)
    src = os.path.join(d, "common-chars.xml")
    write_source(src, body, title="常用字" + chars[:30])
    pdfs = []
    for name, s in (("example", EXAMPLE), ("common-chars", src)):
        pdf = os.path.join(d, name + ".pdf")
        rc, out, err = run([a.banshi, "render", s, "-o", pdf])
        if not check(rc == 0, "%s: render failed: %s" % (name, err)):
            continue
        pdfs.append(pdf)
        fonts = [os.path.join(NOTO, f) for f in sorted(os.listdir(NOTO))]
        rc, out, err = run([py, CFFCHECK, pdf] + fonts)
        check(rc == 0, "%s: cffcheck: %s%s" % (name, out[-3000:], err[-2000:]))
        programs = [ln for ln in out.splitlines() if re.search(r": \d+ glyphs", ln)]
        check(len(programs) == 3, "%s: %d CFF programs, expected 3 (Serif, "
              "Serif Bold, Sans): %s" % (name, len(programs), out))
    if len(pdfs) == 2:
        same_in_batch(a, d, pdfs, (EXAMPLE, src))
        rc, text, err = run(["pdftotext", "-enc", "UTF-8", pdfs[1], "-"])
        # the page numbers (—1—) between the pages' text
        flat = re.sub(r"—\d+—", "", re.sub(r"\s+", "", text))
        for p in paras:
            check(p in flat, "common-chars: a paragraph does not extract "
                  "as written: %s..." % p[:20])
        res, log = preflight(pdfs, d)
        for pdf in pdfs:
            ok, errs = res.get(os.path.basename(pdf), (False, ["no result"]))
            check(ok, "%s: Preflight: %s" % (pdf, errs[:5]))


GROUPS = {"pdfa3": group_pdfa3, "ofd": group_ofd, "tagged": group_tagged,
          "cff": group_cff}
