# SPDX-License-Identifier: Apache-2.0
"""Archival formats besides the default PDF/A-1b (docs/formats.md).

  pdfa3   --pdfa 3b: the source (and a report source's core document) is
          embedded as an associated file with AFRelationship /Source; the
          PDF/A-3 requirements banshi relies on are checked with qpdf --json
          (EmbeddedFiles name tree, catalog AF, MIME Subtype, Params,
          F/UF, XMP pdfaid:part 3), the rest of the file with Preflight,
          whose only complaints must be the three PDF/A-1 rules that
          PDF/A-3 lifts; bytes are deterministic; 1b stays the default.
"""
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
    for bad, word in ((["--pdfa", "2b"], "1b or 3b"), (["--pdfa", "2a"], "not implemented"),
                      (["--tagged"], "not implemented")):
        rc, out, err = run([a.banshi, "render", core_src, "-o", os.path.join(d, "x.pdf"), "--lang", "en"] + bad)
        check(rc == 2 and word in err, "%s: exit %d %r" % (bad, rc, err))
    # Preflight (PDF/A-1b rules) on the rest of the file
    res, log = preflight(pdfs, d)
    for p in pdfs:
        valid, errs = res.get(os.path.basename(p), (False, ["no verdict"]))
        other = [e for e in errs if not e.startswith(PDFA1_ONLY)]
        check(not other, "preflight: %s: %s" % (p, other))
    print("pdfa3: %d PDF/A-3b files checked" % len(pdfs))


GROUPS = {"pdfa3": group_pdfa3}
