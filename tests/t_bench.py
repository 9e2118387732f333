# SPDX-License-Identifier: Apache-2.0
"""Test group for the benchmark's inputs and for behaviour that the speed
work must keep.

  bench   bench/gen.py makes valid, distinct sources: variants of the
          example report differ in the issuing body and the numbers and
          render to PDFs that differ; generated documents have the page
          count and rows they promise; large inputs (a table of 3,000 rows,
          a paragraph of 30,000 characters, 3,000 text-policy warnings)
          render completely, every row and character in the output.
"""
import os
import re
import sys

from bstest import *  # noqa: F401,F403

sys.path.insert(0, os.path.join(ROOT, "bench"))
import gen  # noqa: E402


def _pages(pdf):
    rc, out, err = run(["pdfinfo", pdf])
    m = re.search(r"Pages:\s+(\d+)", out)
    return int(m.group(1)) if m else -1


def _text(pdf):
    rc, out, err = run(["pdftotext", "-raw", pdf, "-"])
    return re.sub(r"\s+", "", out)


def group_bench(a):
    w = os.path.join(a.work, "bench")
    os.makedirs(w, exist_ok=True)
    # variants of the example: valid, distinct, and the name is typeset
    srcs = gen.write_variants(gen.EXAMPLE, "xml", os.path.join(w, "var"), 3)
    texts = [open(s, encoding="utf-8").read() for s in srcs]
    check(len(set(texts)) == 3, "variants are not distinct")
    check('="%d"' % gen.factor(1) in texts[1], "variant 1: counts not varied")
    pdfs = []
    for i, s in enumerate(srcs):
        pdf = s[:-4] + ".pdf"
        rc, out, err = run([a.banshi, "render", s, "-o", pdf])
        if not check(rc == 0, "variant %d: exit %d\n%s" % (i, rc, err)):
            continue
        pdfs.append(pdf)
        name = gen.body_name(i)[1]
        check(name in _text(pdf), "variant %d: %s not in the PDF" % (i, name))
    if len(pdfs) == 3:
        check(len({open(p, "rb").read() for p in pdfs}) == 3,
              "variants give identical PDFs")
    for fmt in ("fo", "html", "typ", "fodt"):
        src = os.path.join(ROOT, "bench", "peers", "report." + fmt)
        v = gen.variant(open(src, encoding="utf-8").read(), fmt, 7)
        check("荔湾区" not in v and gen.body_name(7)[1] in v,
              "peer source %s: name not replaced" % fmt)
        one, k = (">1<", ">%d<") if fmt != "typ" else ("[1]", "[%d]")
        n = open(src, encoding="utf-8").read().count(one)
        check(n > 0 and one not in v and v.count(k % gen.factor(7)) >= n,
              "peer source %s: counts not varied" % fmt)
    # generated documents
    cases = (("pages", gen.pages_doc(3), 3), ("tiny", gen.tiny_doc(4), 1))
    for name, text, pages in cases:
        src = os.path.join(w, name + ".xml")
        open(src, "w", encoding="utf-8").write(text)
        pdf = src[:-4] + ".pdf"
        rc, out, err = run([a.banshi, "render", src, "-o", pdf])
        if check(rc == 0, "%s: exit %d\n%s" % (name, rc, err)):
            check(_pages(pdf) == pages, "%s: %d pages, want %d" % (name, _pages(pdf), pages))
    # large inputs render whole (these were quadratic once)
    src = os.path.join(w, "rows.xml")
    open(src, "w", encoding="utf-8").write(gen.table_doc(3000))
    pdf = src[:-4] + ".pdf"
    rc, out, err = run([a.banshi, "render", src, "-o", pdf])
    if check(rc == 0, "table of 3,000 rows: exit %d\n%s" % (rc, err)):
        t = _text(pdf)
        missing = [r for r in (1, 999, 1500, 2999, 3000)
                   if "（第%d项）" % r not in t]
        check(not missing, "table rows missing from the PDF: %s" % missing)
    sents = gen._example_sentences()
    para = ""
    k = 0
    while len(para) < 30000:
        para += sents[k % len(sents)]
        k += 1
    para += "终段标记。"
    src = os.path.join(w, "para.xml")
    open(src, "w", encoding="utf-8").write(gen._doc("长段落", "<p>%s</p>" % para))
    pdf = src[:-4] + ".pdf"
    rc, out, err = run([a.banshi, "render", src, "-o", pdf])
    if check(rc == 0, "long paragraph: exit %d\n%s" % (rc, err)):
        t = _text(pdf)
        check(t.count("终段标记") == 1 and _pages(pdf) >= 40,
              "long paragraph: %d pages, end marker %d times"
              % (_pages(pdf), t.count("终段标记")))
    src = os.path.join(w, "warn.xml")
    open(src, "w", encoding="utf-8").write(gen._doc("警告", "<p>%s</p>" % ("公开,\n" * 3000)))
    rc, out, err = run([a.banshi, "validate", "--lang", "en", src])
    locs = [(int(l), int(c)) for l, c in
            re.findall(r"warn\.xml:(\d+):(\d+): warning: half-width punctuation", err)]
    check(rc == 0 and len(locs) > 10, "warnings: exit %d, %d located" % (rc, len(locs)))
    # one comma per source line: after <p> and two characters on the first,
    # after two characters on each of the next
    want = [(4, 6)] + [(5 + i, 3) for i in range(len(locs) - 1)]
    check(locs == want, "warning locations: %s" % locs[:6])

GROUPS = {"bench": group_bench}
