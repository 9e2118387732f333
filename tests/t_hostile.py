# SPDX-License-Identifier: Apache-2.0
"""Hostile and broken input: no crash, no hang, no leak of local files, a
clear error every time.

  hostile    tests/hostile/NAME.xml, each with its expected diagnostics
             (NAME.diag, NAME.rc; `--update` rewrites them for review):
             external entities and DTDs, entity bombs, XInclude, schema
             hints, nesting, bad bytes in every encoding, characters no font
             has.  Each source is also rendered: a PDF exists exactly when
             validation passed (no partial output), every PDF passes
             Preflight, and the text of tests/hostile/secret.txt or
             /etc/passwd appears in no message and no PDF.
  sandbox    every hostile source, case and report case under strace: no
             socket, no connection, no other program, and neither
             secret.txt nor /etc/passwd is ever opened.
  encodings  the same report saved as UTF-8 (with and without a byte order
             mark, with CRLF, with character references), UTF-16LE/BE,
             GB18030 and GBK gives byte-identical PDFs; a one-character
             change gives a different file ID.
  extremes   layout and size extremes, generated: numbers and words wider
             than the line or the cell, a 60-column table, table limits,
             185,000 paragraphs on 8,410 pages (a PDF page tree of more
             than one node), 1,000,000 zero-width spaces and '(' in one
             paragraph, a 50,000-row table on one line, a table header
             taller than the page over 300 rows, a row continued over
             pages beside 900 columns and 2,000 rows short of 1,000
             columns (memory bounded), empty documents,
             headings at the foot of a page before a table, a list or a
             subsection, nesting 100,000 deep, text nodes and files over the
             limits, metadata at its limits (Preflight).  Time and peak
             memory of the big ones are printed (docs/hostile-input.md
             states the limits); they are not asserted.
  files      unreadable sources, damaged fonts and font maps, a damaged
             template, unwritable output paths, a full disk (RLIMIT_FSIZE),
             /dev/full: exit 3, a message naming the file, no partial file,
             an earlier file of the same name untouched.
  valgrind   (plain build) every hostile source, every case and the error
             paths above under valgrind's memcheck: no invalid access, no
             leak.
"""
import glob
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import bstest  # noqa: E402
from bstest import *  # noqa: F401,F403

HOSTILE = os.path.join(HERE, "hostile")
CASES = os.path.join(HERE, "cases")
REPORT_CASES = os.path.join(HERE, "reports", "cases")
SECRETS = ("BANSHI-CANARY", "root:x:0:0")


def leaked(data):
    """The first secret found in `data` (str or bytes), or None."""
    for s in SECRETS:
        if (s.encode() if isinstance(data, bytes) else s) in data:
            return s
    return None


def pdf_plain(pdf, work):
    """The PDF with every stream uncompressed (qpdf), as bytes."""
    out = os.path.join(work, "plain-" + os.path.basename(pdf))
    subprocess.run(["qpdf", "--stream-data=uncompress", "--object-streams=disable",
                    pdf, out], capture_output=True)
    data = open(out, "rb").read() if os.path.exists(out) else b""
    if os.path.exists(out):
        os.unlink(out)
    return data


def run_measured(args, cwd=None, env=None, preexec=None, timeout=600):
    """Run a command; return (rc, stdout, stderr, seconds, None)."""
    e = dict(os.environ)
    if env:
        e.update(env)
    t0 = time.monotonic()
    p = subprocess.Popen(args, cwd=cwd, env=e, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, preexec_fn=preexec)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        fail("%s: no result after %d s" % (" ".join(args[:3]), timeout))
    secs = time.monotonic() - t0
    return p.returncode, out.decode("utf-8", "replace"), \
        err.decode("utf-8", "replace"), secs, None


def peak_rss_mb(args, cwd=None, env=None):
    """Run through /usr/bin/time -f %M when available: (rc, out, err, secs,
    MB).  Falls back to no memory figure."""
    if os.path.exists("/usr/bin/time"):
        tf = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                          "banshi-time-%d.txt" % os.getpid())
        rc, out, err, secs, _ = run_measured(
            ["/usr/bin/time", "-o", tf, "-f", "%M"] + args, cwd=cwd, env=env)
        mb = None
        try:
            mb = int(open(tf).read().split()[-1]) / 1024.0
            os.unlink(tf)
        except (OSError, ValueError, IndexError):
            pass
        return rc, out, err, secs, mb
    return run_measured(args, cwd=cwd, env=env)


def report(name, secs, mb, extra=""):
    print("  %-28s %6.2f s %8s %s" % (name, secs,
                                        "%.0f MB" % mb if mb else "", extra))


# ---------------------------------------------------------------------------
# hostile: each source with its expected diagnostics

def group_hostile(a):
    os.makedirs(a.work, exist_ok=True)
    def no_leak(name, out, err):
        check(not leaked(out + err), "%s: a local file's text in the output: %s"
              % (name, leaked(out + err)))
    results = run_case_folder(a, HOSTILE, 40, extra=no_leak)
    if a.update:
        return
    # every source rendered: a PDF exactly when it is valid, never a
    # partial one, nothing secret inside, PDF/A-1b
    out = os.path.join(a.work, "hostile")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    pdfs = []
    for name, vrc in results:
        pdf = os.path.join(out, name + ".pdf")
        rc, o, err = run([a.banshi, "render", name + ".xml", "-o", pdf], cwd=HOSTILE)
        check(rc == vrc, "%s: render exits %d, validate %d" % (name, rc, vrc))
        check(os.path.exists(pdf) == (rc == 0),
              "%s: exit %d and %s PDF" % (name, rc, "a" if os.path.exists(pdf) else "no"))
        check(not leaked(o + err), "%s: a local file's text in a message" % name)
        if os.path.exists(pdf):
            data = pdf_plain(pdf, a.work)
            check(data.startswith(b"%PDF-1.4"), "%s: not a PDF" % name)
            check(not leaked(data), "%s: a local file's text in the PDF" % name)
            pdfs.append(pdf)
    left = [f for f in os.listdir(out) if f.endswith(".tmp")]
    check(not left, "temporary files left: %s" % left)
    check(len(pdfs) >= 8 or bstest.CASE, "only %d hostile sources rendered" % len(pdfs))
    res, log = preflight(pdfs, a.work)
    for p in pdfs:
        valid, errs = res.get(os.path.basename(p), (False, ["no verdict"]))
        check(valid and not errs, "preflight: %s: %s" % (os.path.basename(p), errs))
    print("%d sources, %d rendered, all PDF/A-1b" % (len(results), len(pdfs)))


# ---------------------------------------------------------------------------
# sandbox: what the process does, seen by strace

def group_sandbox(a):
    os.makedirs(a.work, exist_ok=True)
    if not check(shutil.which("strace"), "strace is not installed (build.sh installs it)"):
        return
    log = os.path.join(a.work, "strace.log")
    # strace must see the source being opened, or the test proves nothing
    rc, out, err = run(["strace", "-f", "-qq", "-o", log, "-e", "trace=openat",
                        a.banshi, "validate", "utf8-bom.xml"], cwd=HOSTILE)
    if not check(os.path.exists(log) and "utf8-bom.xml" in open(log).read(),
                 "strace does not work here: %s" % err):
        return
    srcs = sorted(glob.glob(os.path.join(HOSTILE, "*.xml"))) + \
        sorted(glob.glob(os.path.join(CASES, "*.xml"))) + \
        sorted(glob.glob(os.path.join(REPORT_CASES, "*.xml")))
    for src in srcs:
        name = os.path.basename(src)
        rc, out, err = run(["strace", "-f", "-qq", "-o", log, "-e",
                            "trace=%network,open,openat,creat,execve,execveat,"
                            "connect,bind,sendto",
                            a.banshi, "validate", name], cwd=os.path.dirname(src))
        trace = open(log, encoding="utf-8", errors="replace").read().splitlines()
        for line in trace:
            if re.search(r"\b(socket|connect|bind|sendto|sendmsg)\(", line):
                fail("%s: network call: %s" % (name, line))
            if re.search(r"\bopen(at)?\(.*(secret\.txt|/etc/passwd|https?:|ftp:)", line):
                fail("%s: opened a file the source names: %s" % (name, line))
        execs = [l for l in trace if re.search(r"\bexecve(at)?\(", l)]
        check(len(execs) == 1, "%s: %d programs started: %s" % (name, len(execs), execs))
    # a template (trusted data, but chosen by the user) that names a file
    tpl = os.path.join(a.work, "entity-template.xml")
    open(tpl, "w").write('<?xml version="1.0"?>\n<!DOCTYPE template [<!ENTITY x SYSTEM '
                         '"/etc/passwd">]>\n<template>&x;</template>\n')
    rc, out, err = run(["strace", "-f", "-qq", "-o", log, "-e", "trace=open,openat",
                        a.banshi, "validate", EXAMPLE, "--template", tpl])
    trace = open(log, encoding="utf-8", errors="replace").read()
    check("entity-template.xml" in trace and "/etc/passwd" not in trace
          and not leaked(out + err), "template: /etc/passwd opened or shown: %r" % err)
    print("%d sources traced" % len(srcs))


# ---------------------------------------------------------------------------
# encodings: twins give identical files

TWIN = '''<document version="1">
  <meta><title>荔湾区2020年政府信息公开工作年度报告</title><issuer>广州市荔湾区应急管理局</issuer>
    <date>2021-01-29</date><keywords><keyword>政府信息公开</keyword><keyword>年度报告</keyword></keywords></meta>
  <body>
    <section><heading>总体情况</heading>
      <p>2020年，本机关共收到申请175件，按《条例》办理，平均用时3.5天；网址为www.example.gov.cn。
      “以公开为常态、不公开为例外”——原则得到落实……</p>
      <table><thead><tr><th>项目</th><th>数量</th></tr></thead>
        <tbody><tr><td>主动公开</td><td>1,000</td></tr><tr><td>依申请公开</td><td>175</td></tr></tbody></table>
      <list><item>甲项</item><item>乙项</item></list>
    </section>
  </body>
  <closing><signature>广州市荔湾区应急管理局</signature><date>2021-01-29</date></closing>
</document>
'''


def group_encodings(a):
    os.makedirs(a.work, exist_ok=True)

    def decl(enc):
        return '<?xml version="1.0" encoding="%s"?>\n' % enc
    twins = {
        "utf8": (decl("UTF-8") + TWIN).encode("utf-8"),
        "utf8-bom": b"\xef\xbb\xbf" + (decl("UTF-8") + TWIN).encode("utf-8"),
        "utf8-crlf": (decl("UTF-8") + TWIN).replace("\n", "\r\n").encode("utf-8"),
        "utf8-charrefs": (decl("UTF-8") + TWIN.replace("荔湾区", "&#x8354;&#28286;区")
                          .replace("“", "&#x201C;")).encode("utf-8"),
        "utf8-no-decl": TWIN.encode("utf-8"),
        "utf16le": b"\xff\xfe" + (decl("UTF-16") + TWIN).encode("utf-16-le"),
        "utf16be": b"\xfe\xff" + (decl("UTF-16") + TWIN).encode("utf-16-be"),
        "gb18030": (decl("GB18030") + TWIN).encode("gb18030"),
        "gbk": (decl("GBK") + TWIN).encode("gbk"),
    }
    files = {}
    for name, data in twins.items():
        src = os.path.join(a.work, "twin-%s.xml" % name)
        open(src, "wb").write(data)
        pdf = os.path.join(a.work, "twin-%s.pdf" % name)
        rc, out, err = run([a.banshi, "render", src, "-o", pdf])
        if check(rc == 0 and err == "", "twin %s: exit %d %s" % (name, rc, err)):
            files[name] = open(pdf, "rb").read()
    ref = files.get("utf8")
    if not check(ref, "the UTF-8 twin was not rendered"):
        return
    for name, data in files.items():
        check(data == ref, "twin %s: the PDF differs from the UTF-8 twin's" % name)
    check(len(files) == len(twins), "%d of %d twins rendered" % (len(files), len(twins)))
    # the twins' text is what the source says
    rc, text, err = run(["pdftotext", "-enc", "UTF-8",
                         os.path.join(a.work, "twin-gb18030.pdf"), "-"])
    flat = re.sub(r"\s+", "", text)
    for s in ("荔湾区2020年政府信息公开工作年度报告", "共收到申请175件", "“以公开为常态",
              "依申请公开", "2021年1月29日"):
        check(s in flat, "twin text: %r missing" % s)

    # a change that shows changes the file ID; the ID does not depend on
    # where the source came from
    def file_id(data):
        m = re.search(rb"/ID\s*\[\s*<([0-9A-Fa-f]+)>", data)
        return m.group(1) if m else None
    src = os.path.join(a.work, "twin-changed.xml")
    open(src, "wb").write((decl("UTF-8") + TWIN.replace("175件", "176件")).encode("utf-8"))
    pdf = os.path.join(a.work, "twin-changed.pdf")
    run([a.banshi, "render", src, "-o", pdf])
    changed = open(pdf, "rb").read() if os.path.exists(pdf) else b""
    check(file_id(ref) and file_id(changed) and file_id(ref) != file_id(changed),
          "a changed character keeps the file ID %s" % file_id(ref))
    sub = os.path.join(a.work, "twin-elsewhere")
    os.makedirs(sub, exist_ok=True)
    shutil.copy(os.path.join(a.work, "twin-utf8.xml"), os.path.join(sub, "other-name.xml"))
    pdf = os.path.join(sub, "other.pdf")
    run([a.banshi, "render", "other-name.xml", "-o", "other.pdf"], cwd=sub)
    check(os.path.exists(pdf) and open(pdf, "rb").read() == ref,
          "the same source under another name and folder gives another file")
    # an invalid byte sequence is an error with line and column, never a PDF
    bad = os.path.join(a.work, "twin-bad.xml")
    open(bad, "wb").write(twins["gb18030"].replace("申请".encode("gb18030"), b"\x81\x20"))
    pdf = os.path.join(a.work, "twin-bad.pdf")
    rc, out, err = run([a.banshi, "render", bad, "-o", pdf, "--lang", "en"])
    check(rc == 1 and re.search(r"twin-bad\.xml:7:22: error: invalid GB18030 byte", err)
          and not os.path.exists(pdf), "bad GB18030: %d %r" % (rc, err))


# ---------------------------------------------------------------------------
# extremes

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<document version="1"><meta>'
        '<title>测试</title><issuer>测试机关</issuer><date>2021-01-05</date></meta>\n<body>\n')
TAIL = "</body></document>\n"


def source(work, name, body, head=HEAD, tail=TAIL):
    path = os.path.join(work, "x-%s.xml" % name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(head)
        if isinstance(body, str):
            f.write(body)
        else:
            for chunk in body:
                f.write(chunk)
        f.write(tail)
    return path


def vertical_rules(page):
    return [(x0, min(y0, y1), max(y0, y1)) for x0, y0, x1, y1, w in page["rules"]
            if abs(x0 - x1) < 1e-6]


def crossings(pages):
    """Runs that cross a vertical table rule (text outside its cell)."""
    bad = []
    for p in pages:
        vr = vertical_rules(p)
        for r in p["runs"]:
            top, bottom = r.y - 0.88 * r.size, r.y + 0.12 * r.size
            for x, lo, hi in vr:
                if r.x0 + 0.05 < x < r.x1 - 0.05 and lo < bottom and top < hi:
                    bad.append(r.text)
                    break
    return bad


def dump(a, src, extra=()):
    rc, out, err, secs, mb = peak_rss_mb([a.banshi, "render", src, "--dump", "-",
                                          "--lang", "en"] + list(extra))
    return rc, parse_dump(out)[0] if rc == 0 else [], err, secs, mb


def refused_near(a, w, label, base, bad, message, why):
    """A source (bad: name, body) refused with `message` at its start, its
    peak memory within twice that of a like source the program accepts
    (base: name, body), plus 40 MB: bounded against it, so that a
    sanitizer build's larger figures compare alike."""
    src = source(w, base[0], base[1])
    rc, out, err, secs, base_mb = peak_rss_mb([a.banshi, "validate", src, "--lang", "en"])
    check(rc == 0, "%s, %s: %d %r" % (label, base[0], rc, err[:300]))
    src = source(w, bad[0], bad[1])
    rc, out, err, secs, mb = peak_rss_mb([a.banshi, "validate", src, "--lang", "en"])
    check(rc == 1 and re.search(r"x-%s\.xml:\d+:\d+: %s" % (re.escape(bad[0]), message), err),
          "%s: %d %r" % (label, rc, err[:300]))
    check(mb is None or base_mb is None or mb < 2 * base_mb + 40,
          "%s: %.0f MB, %.0f MB for %s (%s)" % (label, mb, base_mb, base[0], why))
    report(label, secs, mb, "refused")


def group_extremes(a):
    os.makedirs(a.work, exist_ok=True)
    w = a.work
    print("extremes (time and peak memory of this build):")

    # 1. A number wider than the line: broken on full lines, nothing lost,
    # nothing outside the type area, no message.
    digits = "".join(str(i % 10) for i in range(3000))
    rc, pages, err, secs, mb = dump(a, source(w, "long-number", "<p>%s</p>" % digits))
    lines = [line_text(l) for p in pages for l in lines_of(p)][1:]
    check(rc == 0 and err == "", "long number: %d %r" % (rc, err))
    check("".join(lines) == digits, "long number: digits lost or changed")
    check(all(r.x0 >= LEFT - EPS and r.x1 <= RIGHT + EPS for p in pages for r in p["runs"]),
          "long number: text outside the type area")
    check(len(lines) > 40, "long number: %d lines" % len(lines))

    # 2. Words and numbers wider than their cell: broken inside the cell.
    body = ("<table><tbody><tr><td>甲</td><td>%s</td><td>丙</td></tr>"
            "<tr><td>https://www.example.gov.cn/%s</td><td>1</td><td>2</td></tr>"
            "</tbody></table>" % ("9" * 300, "a/" * 120))
    rc, pages, err, secs, mb = dump(a, source(w, "cell-words", body))
    check(rc == 0, "words wider than a cell: %d %r" % (rc, err))
    check(not crossings(pages), "words wider than a cell cross rules: %s" % crossings(pages)[:3])
    text = "".join(r.text for p in pages for r in p["runs"])
    check(text.count("9") >= 300 and "www.example.gov.cn" in text,
          "words wider than a cell: text lost")
    sizes = {r.size for p in pages for r in p["runs"] if r.y < BOTTOM and r.size < 20}
    check(sizes == {10.5}, "words wider than a cell shrink the table: sizes %s" % sizes)

    # 3. Sixty columns of Chinese words: smaller type, words broken,
    # nothing outside its cell, a warning.
    row = "<tr>%s</tr>" % "".join("<td>数据%d</td>" % i for i in range(60))
    rc, pages, err, secs, mb = dump(a, source(w, "cols60", "<table><tbody>%s</tbody></table>"
                                              % (row * 4)))
    check(rc == 0 and "broken across lines" in err, "60 columns: %d %r" % (rc, err))
    check(not crossings(pages), "60 columns: text crosses rules")
    check(all(r.x0 >= LEFT - EPS and r.x1 <= RIGHT + EPS for p in pages for r in p["runs"]),
          "60 columns: text outside the type area")

    # 4. Table limits: refused before the grid is built.
    for name, body, want in (
            ("table-1001-columns", "<table><tbody><tr>%s</tr></tbody></table>"
             % ('<td colspan="1000"/><td/><td/>'), "more than 1000 columns"),
            ("table-grid-bomb", "<table><tbody><tr>%s</tr>%s</tbody></table>"
             % ('<td colspan="1000"/>' * 1000, "<tr><td/></tr>" * 100), "more than 1000 columns"),
            ("table-3001x1000", "<table><tbody><tr><td colspan=\"1000\"/></tr>%s</tbody></table>"
             % ("<tr><td/></tr>" * 3000), "has more than 2000000 cells"),
            ("colgroup-100000", "<table><colgroup>%s</colgroup><tbody><tr><td>甲</td></tr>"
             "</tbody></table>" % ("<col/>" * 100000), "more than 1000 columns")):
        rc, pages, err, secs, mb = dump(a, source(w, name, body))
        check(rc == 1 and re.search(r"x-%s\.xml:\d+:\d+: error: .*%s" % (name, want), err),
              "%s: %d %r" % (name, rc, err))
        report(name, secs, mb, "refused")

    # 4b. A header taller than the page over 300 rows: drawn once, where
    # the table starts (repeated, it made a page of header for every row:
    # the output grew as header times rows, 33 pages of 15,000 runs from
    # a 23 KB source found by fuzz_ofd).
    rows = "".join("<tr><td>%d</td><td>第%d行</td></tr>" % (i, i) for i in range(300))
    plain = "<table><tbody>%s</tbody></table>" % rows
    rc, bare, err, secs, mb = dump(a, source(w, "rows-300", plain))
    tall = plain.replace("<tbody>", "<thead><tr><th>项</th><th>%s</th></tr></thead><tbody>"
                         % ("表头" * 2000), 1)
    rc2, pages, err, secs, mb = dump(a, source(w, "header-over-page", tall))
    heads = sum(1 for p in pages for r in p["runs"] if r.text == "项")
    check(rc == 0 and rc2 == 0 and heads == 1 and 0 < len(pages) <= len(bare) + 2,
          "header taller than the page: %d, %d pages (%d without it), header %d times %r"
          % (rc2, len(pages), len(bare), heads, err[:300]))
    report("header over a page, 300 rows", secs, mb, "%d pages" % len(pages))

    # 4c. A row continued over many pages beside a span of 900 columns:
    # each page draws the row's 900 cells again.  That grew as columns
    # times pages (2,200 pages of 1,800 rules here, 330 MB against 40 MB
    # for the same text in a table of one column; 444 pages took 214 MB
    # for a 65 KB source found by fuzz_layout).  Now the document's tables
    # draw at most 200,000 cells again, then the table is refused, and the
    # memory stays near that of the one-column table.
    text = "数" * 100000
    narrow = '<table size="30pt"><tbody><tr><td>%s</td></tr>%s</tbody></table>'
    refused_near(a, w, "900 columns, a row over pages",
                 ("table-row-one-column", narrow % (text, "")),
                 ("table-row-over-pages", narrow % (text, '<tr><td colspan="900"/></tr>')),
                 r"error: table of 900 columns .*more than 200000 cells are drawn again",
                 "the output grows as columns times pages")

    # 4d. 2,000 rows of one cell under a row of 1,000 columns: every place
    # without a cell became an empty cell drawn as one, 2 million of them
    # from 43 KB (1.3 GB and 15 s, a 21 MB PDF).  Now a document's tables
    # fill at most 100,000 such places, and the table is refused before
    # its cells are made: memory near that of the same rows in one column.
    rows = "".join("<tr><td>%d</td></tr>" % i for i in range(1990))
    short = '<table><tbody>%s%s</tbody></table>'
    refused_near(a, w, "2,000 rows short of 1,000 columns",
                 ("table-rows-one-column", short % ("", rows)),
                 ("table-rows-short", short % ('<tr><td colspan="1000"/></tr>', rows)),
                 r"error: table of 1991 rows and 1000 columns has 1988010 empty grid places",
                 "every place without a cell drawn as one")

    # 5. 185,000 paragraphs: one line each, 22 lines a page, more pages
    # (8,410) than one node of the PDF page tree holds (8,191).
    n = 185000
    src = source(w, "paragraphs", ("<p>第%d段。</p>\n" % i for i in range(n)))
    rc, pages, err, secs, mb = dump(a, src)
    count = sum(1 for p in pages for l in lines_of(p) if line_text(l).startswith("第"))
    check(rc == 0 and err == "", "185,000 paragraphs: %d %r" % (rc, err[:300]))
    check(count == n, "185,000 paragraphs: %d lines" % count)
    check(len(pages) > 8191, "185,000 paragraphs: %d pages" % len(pages))
    report("185,000 paragraphs", secs, mb, "%d pages" % len(pages))
    pdf = os.path.join(w, "x-paragraphs.pdf")
    rc, out, err, secs, mb = peak_rss_mb([a.banshi, "render", src, "-o", pdf])
    check(rc == 0 and os.path.exists(pdf), "185,000 paragraphs to PDF: %d %r" % (rc, err))
    report("185,000 paragraphs (PDF)", secs, mb,
           "%.1f MB PDF" % (os.path.getsize(pdf) / 1e6 if os.path.exists(pdf) else 0))
    rc, out, err = run(["pdfinfo", pdf])
    check(re.search(r"^Pages: +%d$" % len(pages), out, re.M),
          "185,000 paragraphs: pdfinfo %r" % out)
    big_pdfs = [pdf]

    # 6. One paragraph of 1,000,000 zero-width spaces, of '(' and of
    # no-break spaces: linear, nothing lost.
    for name, ch, want in (("zwsp", "\u200b", None), ("parens", "(", "(" * 1000),
                           ("nbsp", "\u00a0", None)):
        src = source(w, name, "<p>甲%s乙</p>" % (ch * 1000000))
        rc, pages, err, secs, mb = dump(a, src)
        check(rc == 0, "1,000,000 %s: %d %r" % (name, rc, err[:300]))
        text = "".join(r.text for p in pages for r in p["runs"])
        check("甲" in text and "乙" in text, "1,000,000 %s: text lost" % name)
        if want:
            check(want in text, "1,000,000 %s: characters lost" % name)
        report("1,000,000 %s" % name, secs, mb, "%d pages" % len(pages))

    # 6b. A paragraph split by 100,000 comments and processing
    # instructions: joined once (piece by piece it took 15 GB).
    src = source(w, "split-text", ["<p>", "政<!---->府<?pi x?>" * 50000, "</p>"])
    rc, pages, err, secs, mb = dump(a, src)
    text = "".join(r.text for p in pages for r in p["runs"])
    check(rc == 0 and text.count("政") == 50000 and text.count("府") == 50000,
          "text split by 100,000 comments: %d %r" % (rc, err[:200]))
    check(mb is None or mb < 1024, "text split by 100,000 comments: %.0f MB" % (mb or 0))
    report("text split by 100,000 markups", secs, mb, "%d pages" % len(pages))

    # 7. A 50,000-row table written on one line (minified): locations stay
    # cheap.
    rows = "".join("<tr><td>%d</td><td>项目</td><td>%d</td></tr>" % (i, i * 7)
                   for i in range(50000))
    src = source(w, "minified", "<table><thead><tr><th>序号</th><th>项目</th><th>数量</th>"
                 "</tr></thead><tbody>%s</tbody></table>" % rows,
                 head=HEAD.replace("\n", ""), tail=TAIL)
    rc, pages, err, secs, mb = dump(a, src)
    check(rc == 0 and err == "", "minified 50,000-row table: %d %r" % (rc, err[:300]))
    check(sum(1 for p in pages for r in p["runs"] if r.text == "49999") == 1,
          "minified 50,000-row table: last row missing")
    report("50,000-row table, one line", secs, mb, "%d pages" % len(pages))

    # 8. Empty documents: the title page only.
    for name, body in (("empty-body", ""),
                       ("empty-blocks", "<p/><p> </p><p>\n  </p><section><heading/></section>"
                        "<table><tbody><tr><td/><td/></tr></tbody></table>"
                        "<list><item/></list><p><em/><strong/></p>")):
        rc, pages, err, secs, mb = dump(a, source(w, name, body))
        check(rc == 0 and len(pages) == 1, "%s: %d, %d pages %r" % (name, rc, len(pages), err))
        texts = [r.text for p in pages for r in p["runs"]]
        check("测试" in texts and "— 1 —" in texts, "%s: %s" % (name, texts))

    # 9. A heading is never the last line of a page, whatever follows it.
    follow = {
        "table": "<table><thead><tr><th>甲</th><th>乙</th></tr></thead><tbody>%s</tbody></table>"
                 % ("<tr><td>一</td><td>二</td></tr>" * 6),
        "list": "<list><item>%s</item><item>续</item></list>" % ("项" * 60),
        "subsection": "<section><heading>子标题</heading><p>%s</p></section>" % ("续" * 80),
    }
    for what, after in follow.items():
        for k in range(17, 23):
            body = "<p>%s</p><section><heading>标题</heading>%s</section>" % (
                "满" * (26 + 28 * k), after)
            rc, pages, err, secs, mb = dump(a, source(w, "foot-" + what, body))
            check(rc == 0, "heading before a %s: %d %r" % (what, rc, err))
            for i, p in enumerate(pages[:-1]):
                ls = lines_of(p)
                last = line_text(ls[-1]) if ls else ""
                if last.startswith("一、") or last.startswith("（一）"):
                    fail("heading before a %s alone at the foot of page %d (k=%d)"
                         % (what, i + 1, k))

    # 9b. Lists nested 30 deep: indented up to eight levels, no overflow.
    body = "<list>%s<item>底</item>%s</list>" % ("<item>项<list>" * 30, "</list></item>" * 30)
    rc, pages, err, secs, mb = dump(a, source(w, "deep-lists", body))
    check(rc == 0 and err == "", "lists 30 deep: %d %r" % (rc, err))
    runs = [r for p in pages for r in p["runs"]]
    check(all(r.x0 >= LEFT - EPS and r.x1 <= RIGHT + EPS for r in runs),
          "lists 30 deep: text outside the type area")
    check(sum(1 for r in runs if r.text.endswith("项")) == 30
          and any(r.text.endswith("底") for r in runs), "lists 30 deep: items lost")

    # 9c. 40,000 schema errors: the first 200 shown with a count of the
    # rest, nothing repeated.
    src = source(w, "schema-errors", "<p><p>x</p></p>\n" * 40000)
    rc, out, err, secs, mb = peak_rss_mb([a.banshi, "validate", src, "--lang", "en"])
    lines = err.splitlines()
    check(rc == 1 and len(lines) == 201 and len(set(lines)) == 201
          and re.match(r"banshi: note: \d+ more of this kind not shown", lines[-1]),
          "40,000 schema errors: %d, %d lines %r" % (rc, len(lines), lines[-1:]))
    report("40,000 schema errors", secs, mb, "200 shown")

    # 10. Nesting 100,000 deep: refused at level 65, at once.
    src = source(w, "deep", ["<p>", "<em>" * 100000, "深", "</em>" * 100000, "</p>"])
    rc, out, err, secs, mb = peak_rss_mb([a.banshi, "validate", src, "--lang", "en"])
    check(rc == 1 and re.search(r"x-deep\.xml:4:\d+: error: elements nested deeper than 64",
                                err), "100,000 levels: %d %r" % (rc, err))
    report("nesting 100,000 deep", secs, mb, "refused")

    # 11. A text node over libxml2's 10 MB limit, and a file over 64 MiB.
    src = source(w, "huge-text", ["<p>", "政" * (4 * 1024 * 1024), "</p>"])
    rc, out, err, secs, mb = peak_rss_mb([a.banshi, "validate", src, "--lang", "en"])
    check(rc == 1 and re.search(r"x-huge-text\.xml:\d+:\d+: error: ", err)
          and "Traceback" not in err, "12 MB text node: %d %r" % (rc, err))
    report("12 MB text node", secs, mb, "refused")
    big = os.path.join(w, "x-big.xml")
    with open(big, "wb") as f:
        f.write(HEAD.encode())
        f.truncate(65 * 1024 * 1024)
    rc, out, err, secs, mb = peak_rss_mb([a.banshi, "validate", big, "--lang", "en"])
    check(rc == 1 and "x-big.xml: error: the source is larger than the limit of 64 MiB" in err,
          "65 MiB source: %d %r" % (rc, err))
    report("65 MiB source", secs, mb, "refused")
    os.unlink(big)

    # 12. Metadata and bookmarks at their limits: 1,000-character title,
    # 5,000 keywords, a 300-character heading (its bookmark is cut between
    # characters); valid PDF/A with Info and XMP in agreement.
    meta = ('<?xml version="1.0" encoding="UTF-8"?>\n<document version="1"><meta>'
            '<title>%s</title><issuer>测试机关</issuer><date>2021-01-05</date>'
            '<subject>%s</subject><keywords>%s</keywords></meta>\n<body>\n'
            % ("标" * 1000, "主题" * 500,
               "".join("<keyword>关键词%d</keyword>" % i for i in range(5000))))
    src = source(w, "metadata", "<section><heading>%s</heading><p>正文。</p></section>"
                 % ("长标题" * 100), head=meta)
    pdf = os.path.join(w, "x-metadata.pdf")
    rc, out, err = run([a.banshi, "render", src, "-o", pdf])
    check(rc == 0 and os.path.exists(pdf), "metadata at its limits: %d %r" % (rc, err[:300]))
    if os.path.exists(pdf):
        big_pdfs.append(pdf)
        rc, out, err = run(["pdfinfo", pdf])
        check("标" * 1000 in out, "metadata: the title is not whole")
    res, log = preflight(big_pdfs, w)
    for p in big_pdfs:
        valid, errs = res.get(os.path.basename(p), (False, ["no verdict"]))
        check(valid and not errs, "preflight: %s: %s" % (os.path.basename(p), errs[:5]))


# ---------------------------------------------------------------------------
# files

def no_xfsz():
    """In the child: a 64 KiB file size limit, with SIGXFSZ ignored so that
    write() fails with EFBIG as on a full disk."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


def group_files(a):
    os.makedirs(a.work, exist_ok=True)
    w = os.path.join(a.work, "files")
    shutil.rmtree(w, ignore_errors=True)
    os.makedirs(w)
    b = a.banshi
    good = os.path.join(w, "good.xml")
    shutil.copy(EXAMPLE, good)

    def expect(name, args, rc_want, pattern, pdf=None, cwd=None, preexec=None):
        rc, out, err, secs, mb = run_measured([b] + args + ["--lang", "en"], cwd=cwd,
                                              preexec=preexec)
        check(rc == rc_want and re.search(pattern, err),
              "%s: exit %d, want %d; %r" % (name, rc, rc_want, err[:600]))
        # one problem, one message: no cascade of consequences
        check(len(err.splitlines()) <= 3, "%s: %d messages: %r"
              % (name, len(err.splitlines()), err[:600]))
        for line in err.splitlines():
            check(DIAG_RX.match(line) or line.startswith(w) or ": error: " in line,
                  "%s: badly formed message %r" % (name, line))
        if pdf:
            check(not os.path.exists(pdf), "%s: a PDF was left at %s" % (name, pdf))
            d = os.path.dirname(pdf) or "."
            if os.path.isdir(d):
                left = [f for f in os.listdir(d) if f.endswith(".tmp")]
                check(not left, "%s: temporary files left: %s" % (name, left))
        return err

    # sources that cannot be read
    expect("source is a folder", ["validate", w], 3, r"cannot read '%s': not a regular file" % re.escape(w))
    locked = os.path.join(w, "locked.xml")
    shutil.copy(EXAMPLE, locked)
    os.chmod(locked, 0)
    if os.geteuid() != 0:
        expect("unreadable source", ["validate", locked], 3, r"locked\.xml': Permission denied")
    else:
        print("  (running as root: a mode-000 file stays readable; not tested)")
    os.chmod(locked, 0o644)
    if os.path.exists("/proc/self/mem"):
        # a file that opens but cannot be read (EIO), even for root: a /proc
        # file, refused before it is read
        expect("source that fails to read", ["validate", "/proc/self/mem"], 3,
               r"cannot read '/proc/self/mem': a /proc or /sys file")

    # fonts: damaged, not fonts at all, a folder, a face that is not there
    gbsn = None
    for d in ("/usr/share/fonts",):
        for root, dirs, fs in os.walk(d):
            if "gbsn00lp.ttf" in fs:
                gbsn = os.path.join(root, "gbsn00lp.ttf")
    if check(gbsn, "gbsn00lp.ttf not found"):
        data = open(gbsn, "rb").read()
        fonts = {
            "truncated.ttf": data[:64 * 1024],
            "header-only.ttf": data[:12],
            "empty.ttf": b"",
            "random.ttf": bytes((i * 7919) % 256 for i in range(200000)),
            "zeroed-tables.ttf": data[:1024] + b"\0" * (len(data) - 1024),
        }
        for fname, content in fonts.items():
            path = os.path.join(w, fname)
            open(path, "wb").write(content)
            fmap = os.path.join(w, fname + ".map")
            open(fmap, "w").write("fangsong = %s\nsong = %s\n" % (path, path))
            pdf = os.path.join(w, fname + ".pdf")
            expect("font %s" % fname, ["render", good, "-o", pdf, "--fonts", fmap], 3,
                   r"(cannot use font file '%s'|font role '\w+' has no usable font|"
                   r"PDF output failed)" % re.escape(path), pdf=pdf)
        os.makedirs(os.path.join(w, "folder.ttf"), exist_ok=True)
        fmap = os.path.join(w, "folder.map")
        open(fmap, "w").write("fangsong = %s\n" % os.path.join(w, "folder.ttf"))
        expect("font is a folder", ["validate", good, "--fonts", fmap], 3,
               r"no font file for role .fangsong.")
        fmap = os.path.join(w, "face.map")
        open(fmap, "w").write("fangsong = wqy-zenhei.ttc#9\n")
        expect("face not in the collection", ["validate", good, "--fonts", fmap], 3,
               r"the collection has fewer faces")
    fmap = os.path.join(w, "syntax.map")
    open(fmap, "w").write("fangsong gbsn00lp.ttf\n = x.ttf\nkai = a.ttf#x\n")
    err = expect("font map syntax", ["validate", good, "--fonts", fmap], 3,
                 r"syntax\.map:1: error: expected 'role = font")
    check("syntax.map:2:" in err and "syntax.map:3:" in err,
          "font map: not every line reported: %r" % err)
    # blank lines count: the error on line 4 after two blank lines is map:4:
    fmap = os.path.join(w, "blank.map")
    open(fmap, "w").write("# roles\n\n\nkai a.ttf\n")
    err = expect("font map line numbers", ["validate", good, "--fonts", fmap], 3,
                 r"blank\.map:4: error: expected 'role = font")

    # a damaged template
    tpl_src = os.path.join(ROOT, "templates", "gbt9704.xml")
    tpl = os.path.join(w, "damaged.xml")
    open(tpl, "wb").write(open(tpl_src, "rb").read()[:700])
    pdf = os.path.join(w, "tpl.pdf")
    expect("damaged template", ["render", good, "-o", pdf, "--template", tpl], 3,
           r"damaged\.xml", pdf=pdf)

    # a grid count that is not a whole number from 1 to 200 (the schema,
    # schemas/template.xsd, then strtol: "22x" and an overflowing number
    # are refused, not read as 22), located at line and column
    tpl_text = open(tpl_src, encoding="utf-8").read()
    grid_at = "%d:3" % (tpl_text[:tpl_text.index("<grid ")].count("\n") + 1)
    for bad in ("22x", "99999999999999999999", "0"):
        tpl = os.path.join(w, "grid.xml")
        open(tpl, "w", encoding="utf-8").write(
            re.sub(r'lines="\d+"', 'lines="%s"' % bad, tpl_text, count=1))
        expect("template grid %s" % bad, ["validate", good, "--template", tpl], 3,
               r"grid\.xml:%s: error: template .*'lines'.*'%s'"
               % (grid_at, re.escape(bad)))

    # bad templates: each error located file:line:col, exit 3 (the run
    # cannot go on), no PDF
    def bad_template(name, old, new, pattern):
        assert old in tpl_text, old
        text = tpl_text.replace(old, new, 1)
        tpl = os.path.join(w, "tpl-%s.xml" % name)
        open(tpl, "w", encoding="utf-8").write(text)
        el = text.rfind("<", 0, text.index(new) + 1)  # the element's '<'
        at = "%d:%d" % (text[:el].count("\n") + 1, el - text[:el].rfind("\n"))
        pdf = os.path.join(w, "tpl-%s.pdf" % name)
        expect("template: " + name, ["render", good, "-o", pdf, "--template", tpl], 3,
               r"tpl-%s\.xml:%s: error: template .*%s" % (re.escape(name), at, pattern),
               pdf=pdf)

    bad_template("type", '<style name="title"   font="xiaobiaosong" size="二号"',
                 '<style name="title"   font="xiaobiaosong" size="big"', r"'big'")
    bad_template("length", '<page width="210mm"', '<page width="210px"', r"'210px'")
    bad_template("range", '<style name="h1"      font="hei"      size="三号" indent="2"',
                 '<style name="h1"      font="hei"      size="三号" indent="41"',
                 r"'41'.*maximum")
    bad_template("share", 'padding-y="1.5pt" split-empty="25%"',
                 'padding-y="1.5pt" split-empty="125%"', r"'125%'")
    bad_template("element", "<grid ", "<gird ", r"'gird'.*not expected")
    bad_template("attribute", '<page-number format', '<page-number colour="red" format',
                 r"'colour'.*not allowed")
    bad_template("missing", '<style name="em"      font="kai"/>', '<style font="kai"/>',
                 r"'name'.*required")
    bad_template("style", '<style name="strong"', '<style name="bold"', r"'bold'")
    # a page smaller than its margins: a check of template.c, not the schema
    tpl = os.path.join(w, "tpl-margins.xml")
    open(tpl, "w", encoding="utf-8").write(tpl_text.replace('top="37mm"', 'top="290mm"'))
    expect("template: margins", ["validate", good, "--template", tpl], 3,
           r"tpl-margins\.xml: error: template .*page smaller than its margins")
    # every bundled template validates against the schema and loads
    for t in sorted(glob.glob(os.path.join(ROOT, "templates", "*.xml"))):
        rc, out, err = run(["xmllint", "--noout", "--nonet", "--schema",
                            os.path.join(ROOT, "schemas", "template.xsd"), t])
        check(rc == 0, "bundled template %s does not validate: %s" % (t, err))
        rc, out, err = run([b, "validate", good, "--template", t])
        check(rc == 0 and err == "", "bundled template %s: %d %s" % (t, rc, err))

    # output paths that cannot be written
    afile = os.path.join(w, "a-file")
    open(afile, "w").write("x")
    pdf = os.path.join(afile, "out.pdf")
    expect("output under a file", ["render", good, "-o", pdf], 3,
           r"cannot write '%s': Not a directory" % re.escape(pdf))
    if os.path.isdir("/sys/kernel"):
        # a folder nobody may create files in, even root
        expect("output folder not writable", ["render", good, "-o", "/sys/banshi.pdf"], 3,
               r"cannot write '/sys/banshi\.pdf': Permission denied")
    outdir = os.path.join(w, "out-is-a-folder.pdf")
    os.makedirs(outdir)
    expect("output is a folder", ["render", good, "-o", outdir], 3,
           r"cannot write '%s': Is a directory" % re.escape(outdir))
    check(os.path.isdir(outdir) and not os.listdir(outdir), "output folder changed")
    check(not [f for f in os.listdir(w) if f.endswith(".tmp")], "output folder: .tmp left")

    # an existing FIFO or device (-o /dev/null, /dev/stdout) is written in
    # place: a file renamed over it would replace the node (as root,
    # /dev/null itself); a node made here stands for /dev/null
    import stat
    import threading
    fifo = os.path.join(w, "out.fifo")
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()),
                              daemon=True)
    reader.start()
    expect("output is a FIFO", ["render", good, "-o", fifo], 0, r"^$")
    reader.join(60)
    check(stat.S_ISFIFO(os.stat(fifo).st_mode), "output FIFO replaced by a file")
    check(got and got[0].startswith(b"%PDF-") and got[0].rstrip().endswith(b"%%EOF"),
          "output FIFO: no whole PDF came through it")
    if os.geteuid() == 0:
        null = os.path.join(w, "null")
        os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        for opt in ("-o", "--dump"):
            expect("output is a device (%s)" % opt, ["render", good, opt, null], 0, r"^$")
            check(stat.S_ISCHR(os.stat(null).st_mode), "%s: device replaced" % opt)
    check(not [f for f in os.listdir(w) if f.endswith(".tmp")], "FIFO/device: .tmp left")

    # the source itself as the output (a typo): refused, the source intact
    before = open(good, "rb").read()
    expect("output is the source", ["render", good, "-o", good], 3,
           r"the output '%s' is the input '%s'" % (re.escape(good), re.escape(good)))
    link = os.path.join(w, "link-to-source.pdf")
    os.symlink(good, link)
    expect("output links to the source", ["render", good, "--dump", link], 3,
           r"is the input .*or a link to it")
    check(open(good, "rb").read() == before, "output is the source: the source changed")

    # a full disk: the write fails, nothing is left under the final name,
    # and an earlier file of that name is kept as it was
    pdf = os.path.join(w, "full.pdf")
    expect("full disk", ["render", good, "-o", pdf], 3,
           r"cannot write '%s': File too large" % re.escape(pdf), pdf=pdf, preexec=no_xfsz)
    old = os.path.join(w, "old.pdf")
    open(old, "wb").write(b"%PDF-1.4 an earlier version\n")
    expect("full disk over an earlier file", ["render", good, "-o", old], 3,
           r"File too large", preexec=no_xfsz)
    check(open(old, "rb").read() == b"%PDF-1.4 an earlier version\n",
          "full disk: the earlier file was changed")
    check(not [f for f in os.listdir(w) if f.endswith(".tmp")], "full disk: .tmp left")
    # an invalid source never replaces an earlier PDF either
    bad = os.path.join(w, "bad.xml")
    open(bad, "w").write("<document><meta></document>")
    expect("invalid source over an earlier file", ["render", bad, "-o", old], 1, r"bad\.xml:1:")
    check(open(old, "rb").read() == b"%PDF-1.4 an earlier version\n",
          "invalid source: the earlier file was changed")
    # the layout dump to a full device
    if os.path.exists("/dev/full"):
        expect("dump to /dev/full", ["render", good, "--dump", "/dev/full"], 3,
               r"cannot write '/dev/full': No space left on device")
    # the whole run leaves a working folder clean
    check(not [f for f in os.listdir(w) if f.endswith(".tmp") or f.startswith(".")],
          "files left: %s" % os.listdir(w))


# ---------------------------------------------------------------------------
# valgrind

def group_valgrind(a):
    os.makedirs(a.work, exist_ok=True)
    if not check(shutil.which("valgrind"), "valgrind is not installed (build.sh installs it)"):
        return
    vg = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
          "--errors-for-leak-kinds=definite,indirect",
          "--show-leak-kinds=definite,indirect", "--track-fds=no"]
    w = os.path.join(a.work, "valgrind")
    shutil.rmtree(w, ignore_errors=True)
    os.makedirs(w)
    jobs = []
    for folder in (HOSTILE, CASES, REPORT_CASES):
        for src in sorted(glob.glob(os.path.join(folder, "*.xml"))):
            name = os.path.basename(src)
            args = ["validate", name]
            argf = src[:-4] + ".args"
            if os.path.exists(argf):
                args = open(argf, encoding="utf-8").read().split()
            jobs.append((name, args, folder, None))
    # rendering, and the error paths of the files group
    jobs.append(("render example", ["render", EXAMPLE, "-o", os.path.join(w, "ex.pdf")], w, None))
    jobs.append(("render utf16", ["render", "utf16le-bom.xml", "-o",
                                  os.path.join(w, "u16.pdf")], HOSTILE, None))
    jobs.append(("full disk", ["render", EXAMPLE, "-o", os.path.join(w, "full.pdf")], w,
                 no_xfsz))
    jobs.append(("output is a folder", ["render", EXAMPLE, "-o", w], w, None))
    jobs.append(("source is a folder", ["validate", w], w, None))
    jobs.append(("missing template", ["validate", EXAMPLE, "--template", "nosuch"], w, None))
    trunc = os.path.join(w, "trunc.ttf")
    for root, dirs, fs in os.walk("/usr/share/fonts"):
        if "gbsn00lp.ttf" in fs:
            open(trunc, "wb").write(open(os.path.join(root, "gbsn00lp.ttf"), "rb").read()[:65536])
    fmap = os.path.join(w, "trunc.map")
    open(fmap, "w").write("fangsong = %s\n" % trunc)
    jobs.append(("damaged font", ["render", EXAMPLE, "-o", os.path.join(w, "t.pdf"),
                                  "--fonts", fmap], w, None))
    jobs.append(("two sources", ["validate", EXAMPLE, os.path.join(HOSTILE, "xxe-system-file.xml")],
                 w, None))

    # batch (its workers too) and archive of the batch's folder, once each
    bsrc = os.path.join(w, "batch-src")
    os.makedirs(bsrc)
    for f in ("liwan-emergency-2020.xml",):
        shutil.copy(EXAMPLE, os.path.join(bsrc, f))
    shutil.copy(os.path.join(HOSTILE, "utf8-bom.xml"), bsrc)
    bout = os.path.join(w, "batch-out")
    bag = os.path.join(w, "bag")
    jobs = [j for j in jobs if selected(j[0])]
    if selected("batch and archive"):
        jobs.append(("batch and archive", None, w, None))

    def one(job):
        name, args, cwd, pre = job
        if args is None:
            # in order: the archive packs what the batch wrote
            for argv in (["batch", bsrc, "-o", bout, "-j", "2"],
                         ["archive", bout, "-o", bag],
                         ["archive", "--verify", bag]):
                rc, out, err, secs, mb = run_measured(vg + ["--trace-children=yes"] +
                                                      [a.banshi] + argv, cwd=cwd)
                check(rc == 0, "valgrind: %s: exit %d\n%s" % (argv[0], rc, err[-3000:]))
                if rc != 0:
                    break
            return name, rc, err
        rc, out, err, secs, mb = run_measured(vg + [a.banshi] + args, cwd=cwd, preexec=pre)
        return name, rc, err
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        for name, rc, err in ex.map(one, jobs):
            check(rc != 99 and not re.search(r"^==\d+==", err, re.M),
                  "valgrind: %s: exit %d\n%s" % (name, rc, err[-3000:]))
    print("%d runs under valgrind in %.0f s" % (len(jobs), time.monotonic() - t0))


# ---------------------------------------------------------------------------
# images: decompression bombs (a small file that unpacks to 64 megapixels)

def bomb_png(path, side=8192, variant=0, height=None, dpi=None):
    """An RGBA PNG of side x side pixels, almost all transparent black, that
    deflates to a few hundred KB; `variant` changes one pixel of the first
    row so that files of different variants differ in content."""
    import struct
    import zlib

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    height = height or side
    z = zlib.compressobj(9)
    body = []
    first = bytearray(1 + side * 4)
    first[1:5] = bytes((variant & 255, (variant >> 8) & 255, 7, 255))
    body.append(z.compress(bytes(first)))
    row = bytes(1 + side * 4)
    for _ in range(height - 1):
        body.append(z.compress(row))
    body.append(z.flush())
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", side, height, 8, 6, 0, 0, 0)))
        if dpi:
            ppm = int(round(dpi / 0.0254))
            f.write(chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)))
        f.write(chunk(b"IDAT", b"".join(body)))
        f.write(chunk(b"IEND", b""))


def pdf_images(pdf):
    """(width, height) of every image XObject of the PDF, each object once
    however often it is drawn (pdfimages -list: one line per use, with the
    object number)."""
    p = subprocess.run(["pdfimages", "-list", pdf], capture_output=True, text=True)
    seen = {}
    for line in p.stdout.splitlines()[2:]:
        f = line.split()
        if len(f) > 11 and f[2] == "image":
            seen.setdefault(f[10], (int(f[3]), int(f[4])))
    return sorted(seen.values())


def group_images(a):
    w = os.path.join(a.work, "images")
    shutil.rmtree(w, ignore_errors=True)
    os.makedirs(w)
    b = a.banshi
    bomb = os.path.join(w, "bomb.png")
    bomb_png(bomb)
    print("  a %d-byte PNG of 8192 x 8192 RGBA pixels" % os.path.getsize(bomb))

    # one file named six times, once through a second name: decoded once,
    # embedded once, reduced to 4096 pixels a side (600 dpi over 173 mm)
    shutil.copy(bomb, os.path.join(w, "same-content.png"))
    figs = "".join('<figure src="%s"><caption>图%d</caption></figure>'
                   % ("same-content.png" if i == 5 else "bomb.png", i + 1)
                   for i in range(6))
    src = source(w, "six", figs)
    pdf = os.path.join(w, "six.pdf")
    rc, out, err, secs, mb = peak_rss_mb([b, "render", src, "-o", pdf, "--lang", "en"])
    report("one image used 6 times", secs, mb)
    check(rc == 0, "six uses of one image: exit %d %s" % (rc, err[:400]))
    if check(os.path.exists(pdf), "six uses: no PDF"):
        imgs = pdf_images(pdf)
        check(imgs == [(4096, 4096)], "six uses: images in the PDF %r, want one "
              "of 4096 x 4096" % imgs)
    # decoding once, one row at a time: well under one image's 256 MB of RGBA
    # (before: 472 MB for each use)
    if mb is not None:
        check(mb < 400, "six uses of one image: peak RSS %.0f MB" % mb)

    # five different images of 64 megapixels: four fit the document's budget
    # of 256 megapixels, the fifth is a located error (exit 1), no PDF
    figs = ""
    for i in range(5):
        bomb_png(os.path.join(w, "b%d.png" % i), variant=i + 1)
        figs += '<figure src="b%d.png"><caption>图%d</caption></figure>\n' % (i, i + 1)
    src = source(w, "five", figs)
    pdf = os.path.join(w, "five.pdf")
    rc, out, err, secs, mb = peak_rss_mb([b, "render", src, "-o", pdf, "--lang", "en"])
    report("five distinct images", secs, mb)
    check(rc == 1 and re.search(r"x-five\.xml:\d+:\d+: error: image 'b4\.png' is larger "
                                r"than 256 megapixels per document", err)
          and len(err.strip().splitlines()) == 1,
          "five images: exit %d %r" % (rc, err[:600]))
    check(not os.path.exists(pdf), "five images: a PDF was written")

    # an image within the limit keeps its pixels
    small = os.path.join(w, "small.png")
    bomb_png(small, side=3000, variant=9)
    src = source(w, "sizes", '<figure src="small.png"><caption>图1</caption></figure>')
    pdf = os.path.join(w, "sizes.pdf")
    rc, out, err, secs, mb = run_measured([b, "render", src, "-o", pdf])
    check(rc == 0 and pdf_images(pdf) == [(3000, 3000)],
          "3000 px image: exit %d %r %r" % (rc, pdf_images(pdf) if rc == 0 else None,
                                           err[:300]))
    # a reduced image keeps its size on the page: 6000 x 600 px at 2400 dpi
    # is 63.5 x 6.35 mm (180 x 18 pt), drawn from 3000 x 300 pixels
    bomb_png(os.path.join(w, "wide.png"), side=6000, height=600, variant=3, dpi=2400)
    src = source(w, "wide", '<figure src="wide.png"><caption>图1</caption></figure>')
    pdf = os.path.join(w, "wide.pdf")
    rc, out, err, secs, mb = run_measured([b, "render", src, "-o", pdf, "--dump", "-"])
    m = re.search(r"image x=\S+ y=\S+ w=(\S+) h=(\S+) file=wide\.png", out)
    check(rc == 0 and m and abs(float(m.group(1)) - 180) < 0.01
          and abs(float(m.group(2)) - 18) < 0.01,
          "reduced image's size on the page: exit %d %r" % (rc, m.group(0) if m else out[-300:]))
    check(rc == 0 and pdf_images(pdf) == [(3000, 300)],
          "reduced image: %r" % (pdf_images(pdf) if rc == 0 else None,))


GROUPS = {
    "hostile": group_hostile, "sandbox": group_sandbox, "encodings": group_encodings,
    "extremes": group_extremes, "files": group_files, "valgrind": group_valgrind,
    "images": group_images,
}
