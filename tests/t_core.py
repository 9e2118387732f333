# SPDX-License-Identifier: Apache-2.0
"""Core test groups.

  cases        tests/cases/*.xml: banshi's diagnostics and exit status must
               equal NAME.diag and NAME.rc (--update rewrites them).
  cli          command-line behaviour: usage, exit codes, messages.
  layout       line breaking, justification, headings, closing block, page
               numbers, checked on the text dump of generated sources (the
               layout oracle).
  example      the bundled example report as PDF: text extraction, fonts,
               page geometry, structure.
  determinism  identical input gives identical bytes.
  pdfa         PDFs of several kinds pass Apache PDFBox Preflight (PDF/A-1b)
               without errors or ToUnicode warnings.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

from bstest import *  # noqa: F401,F403

# ---------------------------------------------------------------------------
# cases

def group_cases(a):
    run_case_folder(a, os.path.join(HERE, "cases"), 10)


# ---------------------------------------------------------------------------
# cli

def group_cli_options(a):
    """One option parser for every command (cli/opts.c): --opt=value, -oV,
    --, '-' for standard input and output, -q, -v, --fail-on-warnings,
    help per command and in the message language, JSON diagnostics."""
    b = a.banshi
    w = os.path.join(a.work, "cli-options")
    shutil.rmtree(w, ignore_errors=True)
    os.makedirs(w)
    ref = os.path.join(w, "ref.pdf")
    rc, _, err = run([b, "render", EXAMPLE, "-o", ref])
    check(rc == 0, "render: %r" % err)
    want = open(ref, "rb").read()
    # the same PDF from every spelling of the output option
    for args in (["--output=%s" % os.path.join(w, "a.pdf")],
                 ["-o%s" % os.path.join(w, "a.pdf")],
                 ["--output", os.path.join(w, "a.pdf")]):
        rc, _, err = run([b, "render"] + args + ["--", EXAMPLE])
        check(rc == 0 and open(os.path.join(w, "a.pdf"), "rb").read() == want,
              "render %s: %d %r" % (args, rc, err))
    # a source named like an option, after --
    dash = os.path.join(w, "-dash.xml")
    shutil.copy(EXAMPLE, dash)
    rc, _, err = run([b, "validate", "--", dash], cwd=w)
    check(rc == 0, "validate -- -dash.xml: %d %r" % (rc, err))
    # banshi render - -o - < a.xml > a.pdf: the same bytes
    with open(EXAMPLE, "rb") as f:
        p = subprocess.run([b, "render", "-", "-o", "-"], stdin=f, capture_output=True)
    check(p.returncode == 0 and p.stdout == want,
          "render - -o -: exit %d, %d bytes, want %d; %r"
          % (p.returncode, len(p.stdout), len(want), p.stderr[-300:]))
    check(not os.path.exists(os.path.join(w, "-")), "render -o - wrote a file named '-'")
    # warnings: shown, hidden by -q, exit 1 with --fail-on-warnings
    warn = os.path.join(HERE, "cases", "norm-spaces.xml")
    rc, _, err = run([b, "validate", warn, "--lang", "en"])
    check(rc == 0 and ": warning: " in err, "warnings shown: %d %r" % (rc, err))
    rc, _, err = run([b, "validate", warn, "-q"])
    check(rc == 0 and err == "", "-q: %d %r" % (rc, err))
    rc, _, err = run([b, "validate", warn, "--fail-on-warnings", "-q"])
    check(rc == 1, "--fail-on-warnings: exit %d" % rc)
    rc, _, err = run([b, "validate", EXAMPLE, "--fail-on-warnings"])
    check(rc == 0, "--fail-on-warnings without warnings: exit %d %r" % (rc, err))
    rc, _, err = run([b, "validate", EXAMPLE, "-v", "--lang", "en"])
    check(rc == 0 and re.search(r"liwan-emergency-2020\.xml: ok, \d+ pages", err),
          "-v: %d %r" % (rc, err))
    # help of each command, in the message language
    for cmd in ("render", "validate", "convert", "batch", "archive", "new"):
        rc, out, _ = run([b, cmd, "--help", "--lang", "en"])
        check(rc == 0 and out.startswith("usage: banshi %s" % cmd) and "--fail-on-warnings" in out,
              "%s --help: %d %r" % (cmd, rc, out[:200]))
        rc, out, _ = run([b, cmd, "-h"], env={"LANG": "zh_CN.UTF-8", "LC_ALL": ""})
        check(rc == 0 and out.startswith("用法： banshi %s" % cmd), "%s -h in Chinese: %r" % (cmd, out[:80]))
        rc, out, _ = run([b, cmd, "--help"], env={"LANG": "en_US.UTF-8", "LC_ALL": ""})
        check(rc == 0 and out.startswith("usage: banshi %s" % cmd), "%s --help with LANG=en: %r" % (cmd, out[:80]))
    rc, _, err = run([b, "render", "--bogus"], env={"LANG": "en_US.UTF-8", "LC_ALL": ""})
    check(rc == 2 and "unknown option '--bogus'" in err, "English usage error from LANG: %r" % err)
    # JSON diagnostics: one object a line, valid against the schema
    check_json_diagnostics(a, b)


def check_json_diagnostics(a, b):
    try:
        import jsonschema
    except ImportError:
        fail("python3-jsonschema is not installed (build.sh installs it)")
        return
    schema = json.load(open(os.path.join(ROOT, "schemas", "diagnostics.schema.json")))
    jsonschema.Draft202012Validator.check_schema(schema)
    v = jsonschema.Draft202012Validator(schema)
    n = 0
    rules = set()
    for name in ("norm-spaces", "encoding-gbk-invalid", "schema-bad-values", "nosuch"):
        src = os.path.join(HERE, "cases", name + ".xml")
        rc, out, err = run([b, "validate", src, "--diagnostics", "json", "--lang", "en"])
        text = run([b, "validate", src, "--lang", "en"])[2]
        lines = err.splitlines()
        check(len(lines) == len(text.splitlines()),
              "%s: %d JSON lines for %d text lines" % (name, len(lines), len(text.splitlines())))
        for line, tl in zip(lines, text.splitlines()):
            try:
                obj = json.loads(line)
            except ValueError as e:
                fail("%s: not JSON: %r (%s)" % (name, line, e))
                continue
            errs = [e.message for e in v.iter_errors(obj)]
            check(not errs, "%s: %r does not follow the schema: %s" % (name, obj, errs))
            # the same message as the text form, located the same way
            loc = obj["file"] + ("" if obj["line"] is None else ":%d" % obj["line"]) + \
                ("" if obj["column"] is None else ":%d" % obj["column"])
            check(tl == "%s: %s: %s" % (loc, obj["severity"], obj["message"]),
                  "%s: JSON %r differs from the text %r" % (name, obj, tl))
            rules.add(obj["rule"])
            n += 1
    check(n >= 3 and "io-read" in rules, "JSON diagnostics: %d objects, rules %s" % (n, rules))
    # batch: the log's records carry the same messages as objects, and
    # --diagnostics json prints them so on standard error
    out = os.path.join(a.work, "cli-options", "batch")
    srcs = [os.path.join(HERE, "cases", n + ".xml")
            for n in ("norm-spaces", "encoding-gbk-invalid", "schema-bad-values")]
    rc, _, err = run([b, "batch"] + srcs + ["-o", out, "-j", "2", "--diagnostics=json",
                                              "--lang", "en"])
    check(rc == 1, "batch: exit %d %r" % (rc, err[-300:]))
    printed = [json.loads(l) for l in err.splitlines() if l.startswith("{")]
    # nothing but banshi's own lines: a library's message written straight
    # to standard error (libxml2's "encoding error : ...") could cut a JSON
    # line in two
    stray = [l for l in err.splitlines() if not l.startswith(("{", "banshi"))]
    check(not stray, "batch: lines not banshi's on standard error: %r" % stray[:4])
    logged = []
    for line in open(os.path.join(out, "banshi-batch.jsonl"), encoding="utf-8"):
        rec = json.loads(line)
        if "source" not in rec:
            continue
        check(len(rec["messages"]) == len(rec["diagnostics"]),
              "batch log: %d messages for %d diagnostics" % (len(rec["messages"]), len(rec["diagnostics"])))
        for m in rec["messages"]:
            errs = [e.message for e in v.iter_errors(m)]
            check(not errs, "batch log message %r: %s" % (m, errs))
            logged.append(m)
    check(len(logged) >= 3 and sorted(map(json.dumps, logged)) == sorted(map(json.dumps, printed)),
          "batch: %d messages logged, %d printed" % (len(logged), len(printed)))
    # a value of the message: the characters a rule or the normaliser names
    rc, out, err = run([b, "validate", os.path.join(HERE, "cases", "encoding-gbk-invalid.xml"),
                        "--diagnostics=json"])
    obj = json.loads(err.splitlines()[0])
    check(obj["values"] and all(v in obj["message"] for v in obj["values"][1:]),
          "values: %r" % obj)

def group_cli(a):
    b = a.banshi
    rc, out, err = run([b, "--version"])
    check(rc == 0 and re.match(r"^banshi \d+\.\d+\.\d+\n$", out), "--version: %r" % out)
    rc, out, err = run([b, "--help", "--lang", "en"])
    check(rc == 0 and "banshi render" in out and "exit status" in out, "--help")
    rc, out, err = run([b, "--lang", "en"])
    check(rc == 2 and "usage" in err, "no arguments: exit %d" % rc)
    rc, out, err = run([b, "frobnicate", "--lang", "en"])
    check(rc == 2 and "unknown command" in err, "unknown command: %d %r" % (rc, err))
    rc, out, err = run([b, "render", EXAMPLE])
    check(rc == 2 and "-o" in err, "render without -o: %d" % rc)
    # an installation problem a user can mend, in the user's language: the
    # sRGB profile of PDF/A missing (BANSHI_ICC names another file)
    icc_pdf = os.path.join(a.work, "cli-no-icc.pdf")
    for lang, words in (("zh", "缺少 PDF/A 所需的 sRGB ICC"), ("en", "sRGB ICC profile")):
        rc, out, err = run([b, "render", EXAMPLE, "-o", icc_pdf, "--lang", lang],
                           env=dict(os.environ, BANSHI_ICC="/nonexistent/sRGB.icc"))
        check(rc == 3 and words in err and "icc-profiles-free" in err
              and not os.path.exists(icc_pdf),
              "missing ICC profile (%s): %d %r" % (lang, rc, err[-300:]))
    rc, out, err = run([b, "render", EXAMPLE, "--lang", "en", "-o"])
    check(rc == 2 and "needs a value" in err, "-o without a value: %d %r" % (rc, err))
    rc, out, err = run([b, "validate", "--bogus", EXAMPLE, "--lang=en"])
    check(rc == 2 and "unknown option '--bogus'" in err, "unknown option: %d %r" % (rc, err))
    group_cli_options(a)
    rc, out, err = run([b, "validate", "--lang", "fr", EXAMPLE])
    check(rc == 2, "bad --lang: %d" % rc)
    # a missing source is an I/O failure (3) with a message naming it
    rc, out, err = run([b, "validate", "/nonexistent/x.xml"])
    check(rc == 3 and "/nonexistent/x.xml" in err, "missing source: %d %r" % (rc, err))
    # the example is valid and clean
    rc, out, err = run([b, "validate", EXAMPLE])
    check(rc == 0 and err == "", "example validates: %d %r" % (rc, err))
    # an unwritable output: exit 3, no file left behind
    os.makedirs(a.work, exist_ok=True)
    rc, out, err = run([b, "render", EXAMPLE, "-o", "/nonexistent-dir/x.pdf"])
    check(rc == 3 and "x.pdf" in err, "unwritable output: %d %r" % (rc, err))
    # validate reports every file and the worst status
    bad = os.path.join(a.work, "cli-bad.xml")
    with open(bad, "w") as f:
        f.write("<document><meta></document>")
    rc, out, err = run([b, "validate", EXAMPLE, bad, "--lang", "en"])
    check(rc == 1 and "cli-bad.xml:1:" in err, "validate two files: %d %r" % (rc, err))
    # English and Chinese messages
    rc, out, err = run([b, "validate", bad])
    check("XML 格式错误" in err, "Chinese messages by default: %r" % err)
    # a missing template and a missing font map are I/O failures
    rc, out, err = run([b, "validate", EXAMPLE, "--template", "nosuch"])
    check(rc == 3 and "nosuch" in err, "missing template: %d %r" % (rc, err))
    rc, out, err = run([b, "validate", EXAMPLE, "--fonts", "/nonexistent.map"])
    check(rc == 3 and "nonexistent.map" in err, "missing font map: %d %r" % (rc, err))
    # a font map naming a font file that does not exist: role and paths
    fm = os.path.join(a.work, "missing-font.map")
    with open(fm, "w") as f:
        f.write("fangsong = FZFangSong-NotInstalled.ttf\n")
    rc, out, err = run([b, "validate", EXAMPLE, "--fonts", fm, "--lang", "en"])
    check(rc == 3 and "fangsong" in err and "FZFangSong-NotInstalled.ttf" in err
          and "/usr/share/fonts" in err, "missing font file: %d %r" % (rc, err))
    # a user map replaces one role and keeps the others
    fm2 = os.path.join(a.work, "kai-as-song.map")
    with open(fm2, "w") as f:
        f.write("# headings in the Song face\nhei = gbsn00lp.ttf\n")
    (pages, _), err = dump_of(b, EXAMPLE, a.work, ["--fonts", fm2])
    fonts = {r.font for p in pages for r in p["runs"]}
    check("NotoSerifCJK-Bold.ttc#2" in fonts, "title role keeps its font: %s" % fonts)
    heading = [r for p in pages for r in p["runs"] if r.text.startswith("一、总体情况")]
    check(heading and heading[0].font == "gbsn00lp.ttf",
          "user map changes the hei role: %s" % [h.font for h in heading])


# ---------------------------------------------------------------------------
# layout

PUNCT_TEXT = (
    "本机关依法办理申请，按程序审查，及时答复；对不予公开的，说明理由。"
    "“以公开为常态、不公开为例外”原则得到落实，“放管服”改革持续深化。"
    "《条例》《办法》等文件（含附件）均已公开！是否及时？均按时。"
)


def group_layout(a):
    os.makedirs(a.work, exist_ok=True)
    # 1. Prohibited marks at line starts and ends, over many alignments: the
    # same text shifted by one character at a time.
    paras = []
    for k in range(28):
        paras.append("<p>%s%s</p>" % ("政" * k, PUNCT_TEXT * 2))
    src = os.path.join(a.work, "kinsoku.xml")
    write_source(src, "\n".join(paras))
    (pages, _), err = dump_of(a.banshi, src, a.work)
    lines = body_lines(pages)
    check(len(lines) > 200, "kinsoku: %d lines" % len(lines))
    starts = ends = 0
    for pg, ln in lines:
        t = line_text(ln)
        if t[0] in NO_START:
            fail("kinsoku: line starts with %r: %s" % (t[0], t))
        if t[-1] in NO_END:
            fail("kinsoku: line ends with %r: %s" % (t[-1], t))
        starts += t[0] in "“《（"
        ends += t[-1] in "，。；、！？”》）"
    # the test must have exercised both rules
    check(starts > 5 and ends > 20, "kinsoku: lines starting with openers %d, "
          "ending with closers %d" % (starts, ends))
    # every source character comes back, in order, with nothing added
    got = "".join(line_text(ln) for pg, ln in lines[1:])  # skip the title
    want = "".join(("政" * k + PUNCT_TEXT * 2) for k in range(28))
    check(got == want, "kinsoku: text differs from the source")

    # 2. Justification: every line but the last of a paragraph fills the
    # measure exactly; last lines start at the margin and stop short.
    for pg, ln in lines[1:]:
        x0, x1 = ln[0].x0, ln[-1].x1
        # an opening mark at the start of a continuation line stands half
        # a cell out (its empty half: clreq 3.1.6)
        if line_text(ln)[0] in "“《（":
            x0 += 156 * MM / 28 / 2
        check(abs(x0 - LEFT) < EPS or abs(x0 - (LEFT + 2 * 156 * MM / 28)) < 0.02,
              "justify: line starts at %.3f: %s" % (x0, line_text(ln)))
        check(x1 <= RIGHT + EPS, "justify: line overflows to %.3f" % x1)
    full = [ln for pg, ln in lines[1:] if abs(ln[-1].x1 - RIGHT) < EPS]
    check(len(full) > 150, "justify: only %d full lines" % len(full))
    # a paragraph's lines: all but the last must be full
    para_lines = []
    cur = []
    for pg, ln in lines[1:]:
        if cur and ln[0].x0 > LEFT + 1:  # indented: a new paragraph
            para_lines.append(cur)
            cur = []
        cur.append(ln)
    para_lines.append(cur)
    check(len(para_lines) == 28, "justify: %d paragraphs, want 28" % len(para_lines))
    for pl in para_lines:
        for ln in pl[:-1]:
            check(abs(ln[-1].x1 - RIGHT) < EPS, "justify: short line %.3f: %s"
                  % (ln[-1].x1, line_text(ln)))
        check(pl[-1][-1].x1 < RIGHT - 1 or len(line_text(pl[-1])) >= 27,
              "justify: last line stretched")
    # first lines are indented two grid characters
    for pl in para_lines:
        check(abs(pl[0][0].x0 - (LEFT + 2 * 156 * MM / 28)) < 0.02,
              "indent: first line at %.3f" % pl[0][0].x0)

    # 3. Mixed Han, Latin and digits: no inserted spaces, numbers and words
    # never split, URLs too long for a line are broken without overflow.
    mixed = ("本机关2020年共收到申请175件，按PDF/A-1b格式归档，平均用时3.5天；"
             "办理结果见表3。网址为https://www.example.gov.cn/xxgk/ndbg/2020/"
             "report-final-version-2021-01-05.html，欢迎查阅。")
    src = os.path.join(a.work, "mixed.xml")
    write_source(src, "\n".join("<p>%s%s</p>" % ("字" * k, mixed) for k in range(28)))
    (pages, _), err = dump_of(a.banshi, src, a.work)
    lines = body_lines(pages)[1:]
    got = "".join(line_text(ln) for pg, ln in lines)
    want = "".join("字" * k + mixed for k in range(28))
    check(got == want, "mixed: text differs (spaces inserted or lost)")
    for pg, ln in lines:
        t = line_text(ln)
        check(ln[-1].x1 <= RIGHT + EPS, "mixed: overflow %.3f: %s" % (ln[-1].x1, t))
    joined = "\n".join(line_text(ln) for pg, ln in lines)
    for word in ("2020", "175", "PDF/A-1b", "3.5"):
        for k in range(1, len(word)):
            check(word[:k] + "\n" + word[k:] not in joined,
                  "mixed: %r split across lines" % word)
    check(any(len(line_text(ln)) > 30 and "example" in line_text(ln)
              for pg, ln in lines), "mixed: the URL is set on full lines")

    # 4. Headings at four levels: numbers, fonts, indent, bookmarks.
    body = ("<section><heading>第一层</heading><p>正文。</p>"
            "<section><heading>第二层</heading><p>正文。</p>"
            "<section><heading>第三层</heading><p>正文。</p>"
            "<section><heading>第四层</heading><p>正文。</p></section>"
            "<section><heading>第四层乙</heading></section>"
            "</section></section>"
            "<section><heading>第二层乙</heading></section></section>"
            "<section><heading>第一层乙</heading></section>")
    src = os.path.join(a.work, "headings.xml")
    write_source(src, body)
    (pages, outline), err = dump_of(a.banshi, src, a.work)
    texts = [(line_text(ln), ln[0].font, ln[0].x0) for pg, ln in body_lines(pages)]
    hei, kai, song = ("NotoSansCJK-Regular.ttc#2", "LXGWWenKai-Regular.ttf",
                      "NotoSerifCJK-Regular.ttc#2")
    want = [("一、第一层", hei), ("（一）第二层", kai), ("1.第三层", song),
            ("（1）第四层", song), ("（2）第四层乙", song), ("（二）第二层乙", kai),
            ("二、第一层乙", hei)]
    got = [(t, f) for t, f, x in texts if not t.startswith("正文") and t != "测试文档"]
    check(got == want, "headings: %s" % got)
    for t, f, x in texts[1:]:
        check(abs(x - (LEFT + 2 * 156 * MM / 28)) < 0.02, "headings: indent %s %.3f" % (t, x))
    check(len(outline) == 7 and "level=4" in outline[3] and '"（1）第四层"' in outline[3],
          "headings: outline %s" % outline)

    # 5. A heading is never the last line of a page: fill a page so that a
    # heading would land on its last line.
    for k in range(15, 24):
        body = "<p>%s</p>" % ("满" * (26 + 28 * k)) + \
            "<section><heading>标题</heading><p>%s</p></section>" % ("续" * 80)
        src = os.path.join(a.work, "keep%d.xml" % k)
        write_source(src, body)
        (pages, _), err = dump_of(a.banshi, src, a.work)
        for i, p in enumerate(pages):
            ls = lines_of(p)
            if ls and line_text(ls[-1]).startswith("一、"):
                fail("keep: heading alone at the foot of page %d (k=%d)" % (i + 1, k))
            check(len(ls) <= 22, "grid: %d lines on a page" % len(ls))
            for ln in ls:
                check(ln[0].y <= BOTTOM and ln[0].y >= TOP, "grid: line outside type area")

    # 6. Title: centred, balanced lines, broken at a word.
    src = os.path.join(a.work, "title.xml")
    write_source(src, "<p>正文。</p>",
                 title="广州市荔湾区应急管理局2020年政府信息公开工作年度报告")
    (pages, _), err = dump_of(a.banshi, src, a.work)
    tl = [ln for ln in lines_of(pages[0]) if ln[0].size == 22]
    check(len(tl) == 2, "title: %d lines" % len(tl))
    if len(tl) == 2:
        w0, w1 = (ln[-1].x1 - ln[0].x0 for ln in tl)
        # 上短下长 (GB/T 9704 7.3.1: a trapezoid, never top-heavy), lines of
        # sensible length (t_typo.py checks many more titles)
        check(w0 <= w1 + 22 and w1 - w0 < 6 * 22,
              "title: shape %.1f / %.1f" % (w0, w1))
        for ln in tl:
            mid = (ln[0].x0 + ln[-1].x1) / 2
            check(abs(mid - (LEFT + RIGHT) / 2) < 0.1, "title: not centred")
        check(line_text(tl[1]).startswith(("政府", "2020年")),
              "title: broken inside a word: %s" % [line_text(x) for x in tl])

    # 7. Closing block (GB/T 9704-2012 7.3.5.2): signature two characters
    # from the right edge; date two characters right of the signature start.
    em = 156 * MM / 28
    for sig, date in (("广州市荔湾区应急管理局", "2021-01-29"), ("某局", "2021-12-31")):
        src = os.path.join(a.work, "closing.xml")
        write_source(src, "<p>正文。</p>", closing=([sig], date))
        (pages, _), err = dump_of(a.banshi, src, a.work)
        ls = lines_of(pages[-1])
        s_ln = [ln for ln in ls if line_text(ln) == sig]
        y, m, d = (int(x) for x in date.split("-"))
        dt = "%d年%d月%d日" % (y, m, d)
        d_ln = [ln for ln in ls if line_text(ln) == dt]
        if check(s_ln and d_ln, "closing: lines %s" % [line_text(l) for l in ls]):
            s, dd = s_ln[0], d_ln[0]
            sw, dw = s[-1].x1 - s[0].x0, dd[-1].x1 - dd[0].x0
            if dw <= sw - 2 * em:
                check(abs(s[-1].x1 - (RIGHT - 2 * em)) < 0.02,
                      "closing: signature right %.3f" % s[-1].x1)
            else:
                check(abs(dd[-1].x1 - (RIGHT - 2 * em)) < 0.02,
                      "closing: long date right %.3f" % dd[-1].x1)
            check(abs(dd[0].x0 - (s[0].x0 + 2 * em)) < 0.02, "closing: date start")
            check(dd[0].y > s[0].y, "closing: date below signature")

    # 8. Page numbers: "— N —", odd pages right, even pages left, one 4号
    # character in, 7 mm below the type area.
    src = os.path.join(a.work, "pages.xml")
    write_source(src, "\n".join("<p>%s</p>" % ("页" * 200) for _ in range(12)))
    (pages, _), err = dump_of(a.banshi, src, a.work)
    check(len(pages) >= 3, "page numbers: %d pages" % len(pages))
    for i, p in enumerate(pages):
        num = [r for r in p["runs"] if r.y > BOTTOM]
        if not check(len(num) == 1, "page %d: %d footer runs" % (i + 1, len(num))):
            continue
        r = num[0]
        check(r.text == "— %d —" % (i + 1), "page number text %r" % r.text)
        check(r.size == 14, "page number size %s" % r.size)
        if (i + 1) % 2:
            check(abs(r.x1 - (RIGHT - 14)) < EPS, "odd page number at %.3f" % r.x1)
        else:
            check(abs(r.x0 - (LEFT + 14)) < EPS, "even page number at %.3f" % r.x0)
        check(BOTTOM + 7 * MM < r.y < BOTTOM + 7 * MM + 14, "page number y %.3f" % r.y)


# ---------------------------------------------------------------------------
# example

def sentences_of(path):
    """Text of every paragraph and heading of a core source, in order."""
    tree = ET.parse(path)
    out = []
    for el in tree.iter():
        if el.tag in ("p", "heading", "signature", "title") and el.text is not None:
            t = "".join(el.itertext())
            out.append(re.sub(r"\s+", "", t))
    return out


def group_example(a):
    os.makedirs(a.work, exist_ok=True)
    pdf = os.path.join(a.work, "example.pdf")
    dump = os.path.join(a.work, "example.dump")
    rc, out, err = run([a.banshi, "render", EXAMPLE, "-o", pdf, "--dump", dump])
    if not check(rc == 0 and err == "", "render example: %d %r" % (rc, err)):
        return
    pages, outline = parse_dump(open(dump, encoding="utf-8").read())
    # the example is a report source: read the core document it maps to
    core = os.path.join(a.work, "example-core.xml")
    rc, out, err = run([a.banshi, "convert", EXAMPLE, "-o", core])
    if not check(rc == 0 and err == "", "convert example: %d %r" % (rc, err)):
        return
    # every sentence comes back, in order
    rc, text, err = run(["pdftotext", "-enc", "UTF-8", pdf, "-"])
    flat = re.sub(r"\s+", "", text)
    pos = 0
    for s in sentences_of(core):
        for sent in re.split(r"(?<=[。；])", s):
            if not sent:
                continue
            i = flat.find(sent, pos)
            if check(i >= 0, "example: sentence missing or out of order: %s" % sent):
                pos = i + len(sent)
    # every table cell's text comes back intact in raw order
    rc, raw, err = run(["pdftotext", "-raw", "-enc", "UTF-8", pdf, "-"])
    rawflat = re.sub(r"\s+", "", raw)
    tree = ET.parse(core)
    pos = 0
    for cell in tree.iter():
        if cell.tag in ("td", "th"):
            t = re.sub(r"\s+", "", "".join(cell.itertext()))
            i = rawflat.find(t, pos)
            if check(i >= 0, "example: table cell missing or out of order: %s" % t):
                pos = i + len(t)
    for label in ("社会公益组织", "本机关不掌握相关政府信息", "本年新制作数量"):
        check(label in raw.replace("\n", ""), "example: label %s" % label)
    # the closing date as GB/T 9704 writes it
    check("2021年1月29日" in flat, "example: closing date")
    # fonts: all embedded subsets with ToUnicode
    rc, out, err = run(["pdffonts", pdf])
    rows = out.splitlines()[2:]
    check(len(rows) >= 3, "example: %d fonts" % len(rows))
    for r in rows:
        f = r.split()
        check(f[-5:-2] == ["yes", "yes", "yes"] and "CID" in r and "Identity-H" in r,
              "example: font not embedded/subset/unicode: %s" % r)
    # geometry and page count
    rc, out, err = run(["pdfinfo", pdf])
    info = dict(l.split(":", 1) for l in out.splitlines() if ":" in l)
    check("595.276 x 841.89 pts (A4)" in info.get("Page size", ""), "example: not A4")
    npages = int(info.get("Pages", "0"))
    check(npages == len(pages), "example: %d pages in the PDF, %d laid out" % (npages, len(pages)))
    # the report sets in five pages in the official geometry (2 of prose,
    # 2 of tables, 1 of prose and closing); a change here is a layout change
    check(npages == 5, "example: %d pages, expected 5" % npages)
    check(info.get("Title", "").strip() == "荔湾区应急管理局2020年政府信息公开工作年度报告",
          "example: title metadata")
    check(info.get("Author", "").strip() == "广州市荔湾区应急管理局", "example: author")
    rc, out, err = run(["pdfinfo", "-box", "-f", "1", "-l", str(npages), pdf])
    check(out.count("MediaBox:") == npages, "example: media boxes")
    # structure
    rc, out, err = run(["qpdf", "--check", pdf])
    check(rc == 0 and "No syntax or stream encoding errors" in out, "qpdf: %s %s" % (out, err))
    # bookmarks: six sections, five subsections
    check(len(outline) == 11, "example: %d bookmarks" % len(outline))
    # every run inside the type area (page numbers below it)
    for i, p in enumerate(pages):
        for r in p["runs"]:
            check(LEFT - EPS <= r.x0 and r.x1 <= RIGHT + EPS, "example: run outside: %s" % r.text)
            check(r.y >= TOP or r.size == 22, "example: run above the type area")
        for x0, y0, x1, y1, w in p["rules"]:
            check(LEFT - EPS <= min(x0, x1) and max(x0, x1) <= RIGHT + EPS
                  and TOP - EPS <= min(y0, y1) and max(y0, y1) <= BOTTOM + EPS,
                  "example: rule outside the type area")
    shutil.copy(pdf, os.path.join(a.work, "pdfa-example.pdf"))


# ---------------------------------------------------------------------------
# determinism

def group_determinism(a):
    os.makedirs(a.work, exist_ok=True)
    p1 = os.path.join(a.work, "det1.pdf")
    p2 = os.path.join(a.work, "det2.pdf")
    env = {"SOURCE_DATE_EPOCH": ""}
    for p in (p1, p2):
        rc, out, err = run([a.banshi, "render", EXAMPLE, "-o", p], env=env)
        check(rc == 0, "render: %s" % err)
    b1, b2 = open(p1, "rb").read(), open(p2, "rb").read()
    check(b1 == b2, "two renders differ")
    # the date of issue is the PDF date unless SOURCE_DATE_EPOCH is set
    rc, out, err = run(["pdfinfo", "-isodates", p1])
    check("2021-01-29T00:00:00+08" in out, "creation date from the source: %s" % out)
    p3 = os.path.join(a.work, "det3.pdf")
    rc, out, err = run([a.banshi, "render", EXAMPLE, "-o", p3],
                       env={"SOURCE_DATE_EPOCH": "1700000000"})
    rc, out, err = run(["pdfinfo", "-isodates", p3])
    check("2023-11-14T22:13:20" in out, "SOURCE_DATE_EPOCH date: %s" % out)
    check(open(p3, "rb").read() != b1, "SOURCE_DATE_EPOCH changes the file")
    # One source on two CPUs loads template, fonts, schemas and ICU's
    # dictionary on a second thread (job.c, report.c): the same PDF, the
    # same messages in the same order and the same exit status as on one.
    two = hasattr(os, "sched_getaffinity") and len(os.sched_getaffinity(0)) >= 2
    if not two or not shutil.which("taskset"):
        print("note: determinism: one CPU or no taskset; threads not compared")
    else:
        srcs = [EXAMPLE, os.path.join(HERE, "reports", "sample-2021.xml"),
                os.path.join(HERE, "reports", "cases", "format-unknown.xml"),
                os.path.join(HERE, "reports", "cases", "multi.xml"),
                os.path.join(HERE, "reports", "cases", "r1-balance.xml"),
                os.path.join(HERE, "reports", "cases", "schema-missing-row.xml"),
                os.path.join(HERE, "cases", "glyph-missing.xml"),
                os.path.join(HERE, "cases", "encoding-gbk-invalid.xml")]
        env1 = {"SOURCE_DATE_EPOCH": "1700000000"}
        for src in srcs:
            got = []
            for cmd in ([], ["taskset", "-c", "0"]):
                pdf = os.path.join(a.work, "threads-%d.pdf" % len(got))
                if os.path.exists(pdf):
                    os.remove(pdf)
                rc, out, err = run(cmd + [a.banshi, "render", src, "-o", pdf],
                                   env=env1)
                body = open(pdf, "rb").read() if os.path.exists(pdf) else None
                got.append((rc, err, body))
            name = os.path.basename(src)
            check(got[0][0] == got[1][0], "%s: exit %d on two CPUs, %d on one"
                  % (name, got[0][0], got[1][0]))
            check(got[0][1] == got[1][1], "%s: messages differ on two CPUs:\n%s\n"
                  "on one:\n%s" % (name, got[0][1], got[1][1]))
            check(got[0][2] == got[1][2], "%s: the PDF differs on two CPUs" % name)
        # a template that cannot be loaded is reported as on one thread
        got = []
        for cmd in ([], ["taskset", "-c", "0"]):
            rc, out, err = run(cmd + [a.banshi, "render", EXAMPLE, "--template",
                                      "no-such-template", "-o",
                                      os.path.join(a.work, "threads-t.pdf")])
            got.append((rc, err))
        check(got[0] == got[1] and got[0][0] != 0,
              "a missing template on two CPUs: %r, on one: %r" % (got[0], got[1]))
    # no temporary file is left beside the output
    left = [f for f in os.listdir(a.work) if f.endswith(".tmp")]
    check(not left, "temporary files left: %s" % left)


# ---------------------------------------------------------------------------
# pdfa

def group_pdfa(a):
    """Every kind of PDF banshi makes passes Preflight: the example, each
    valid case source, figures, bookmarks, a title full of XML specials,
    fallback fonts, a character outside the BMP, long and tall tables."""
    from t_tables import make_png
    d = os.path.join(a.work, "pdfa")
    os.makedirs(d, exist_ok=True)
    make_png(os.path.join(d, "alpha.png"), 120, 60, 6,
             lambda x, y: (30, 90, 200, 255 if x % 20 < 10 else 0), dpi=96)
    shutil.copy(os.path.join(HERE, "cases", "figures", "photo.jpg"), d)
    srcs = {
        "specials": ("<section><heading>标题</heading><p>正文&amp;&lt;&gt;"
                     "&quot;&apos;。</p></section>",
                     "A&amp;B &lt;报告&gt; \"引号\" 'x'"),
        "fallback": ("<section><heading>生僻字𠀋</heading>"
                     "<p>〇号文件；生僻字𠀋；〇〇七。</p></section>", "后备字体与生僻字𠀋"),
        "figures": ('<figure src="alpha.png"><caption>图1</caption></figure>'
                    '<figure src="photo.jpg"><caption>图2</caption></figure>', "插图"),
        "table": ("<table><thead><tr><th>甲</th><th>乙</th></tr></thead><tbody>"
                  + "<tr><td>一</td><td>1</td></tr>" * 120 + "</tbody></table>", "表格"),
        "sections": ("".join("<section><heading>第%d部分</heading><p>%s</p>"
                             "<section><heading>细则</heading><p>内容。</p></section>"
                             "</section>" % (i, "正文" * 200) for i in range(1, 6)),
                     "书签"),
    }
    # TrueType fonts a user maps with --fonts (licensed 仿宋, 小标宋 …) are
    # embedded as FontFile2; the fallback source is set in the older
    # TrueType fonts, and falls back from one to the next
    tt_map = os.path.join(d, "truetype.map")
    with open(tt_map, "w") as f:
        f.write("fangsong = gbsn00lp.ttf, wqy-zenhei.ttc#0, LXGWWenKai-Regular.ttf\n"
                "xiaobiaosong = wqy-zenhei.ttc#0, LXGWWenKai-Regular.ttf\n"
                "hei = wqy-zenhei.ttc#0, LXGWWenKai-Regular.ttf\n"
                "song = gbsn00lp.ttf\n")
    pdfs = []
    for name, (body, title) in srcs.items():
        src = os.path.join(d, name + ".xml")
        # the fallback source has 𠀋 (outside the BMP) in its title, issuer
        # and a heading too: Info, the XMP and the bookmarks keep it
        write_source(src, body, title=title,
                     issuer="𠀋村委员会" if name == "fallback" else "测试机关")
        pdf = os.path.join(d, "pdfa-" + name + ".pdf")
        extra = ["--fonts", tt_map] if name == "fallback" else []
        rc, out, err = run([a.banshi, "render", src, "-o", pdf] + extra)
        if check(rc == 0, "render %s: %s" % (name, err)):
            pdfs.append(pdf)
    pdf = os.path.join(d, "pdfa-liwan.pdf")
    rc, out, err = run([a.banshi, "render", EXAMPLE, "-o", pdf])
    if check(rc == 0, "render example: %s" % err):
        pdfs.append(pdf)
    # every case source that renders
    for src in sorted(glob.glob(os.path.join(HERE, "cases", "*.xml"))):
        name = os.path.basename(src)[:-4]
        pdf = os.path.join(d, "case-" + name + ".pdf")
        rc, out, err = run([a.banshi, "render", src, "-o", pdf])
        if rc == 0:
            pdfs.append(pdf)
    check(len(pdfs) >= 12, "pdfa: only %d PDFs" % len(pdfs))
    res, log = preflight(pdfs, d)
    for p in pdfs:
        name = os.path.basename(p)
        if not check(name in res, "preflight: no verdict for %s" % name):
            continue
        valid, errs = res[name]
        check(valid and not errs, "preflight: %s is not PDF/A-1b: %s" % (name, errs))
    check("ToUnicode" not in log, "preflight warns about ToUnicode: %s" % log)
    # the fallback characters are drawn from the fonts that have them and
    # come back from the text layer
    fb = os.path.join(d, "pdfa-fallback.pdf")
    rc, out, err = run(["pdftotext", fb, "-"])
    check("〇号文件；生僻字𠀋；〇〇七。" in out, "fallback text: %r" % out)
    # ... and so do the document information and the bookmark (libharu's
    # own UTF-8 strings made each a space, which Preflight rejected as
    # Info not matching the XMP)
    rc, out, err = run(["pdfinfo", fb])
    check("后备字体与生僻字𠀋" in out and "𠀋村委员会" in out,
          "fallback information: %r" % out)
    rc, out, err = run(["qpdf", "--json", "--json-key=outlines", fb])
    titles = [o.get("title") for o in json.loads(out).get("outlines", [])] if rc == 0 else []
    check(any("生僻字𠀋" in (t or "") for t in titles), "fallback bookmarks: %r" % titles)
    rc, out, err = run(["pdffonts", fb])
    check("WenQuanYi" in out and "LXGW" in out and "BousungEG" in out
          and "CID TrueType" in out and "CID Type 0C" not in out,
          "fallback fonts embedded: %s" % out)
    # the default fonts: Noto CJK (OpenType CFF) as CIDFontType0C subsets
    rc, out, err = run(["pdffonts", os.path.join(d, "pdfa-liwan.pdf")])
    for face in ("NotoSerifCJKsc-Regular", "NotoSerifCJKsc-Bold", "NotoSansCJKsc-Regular"):
        check(re.search(r"\+%s\s+CID Type 0C\s+Identity-H\s+yes yes yes" % face, out),
              "default font %s not a CFF subset: %s" % (face, out))
    print("preflight: %d PDFs valid PDF/A-1b" % sum(1 for v in res.values() if v[0]))


GROUPS = {
    "cases": group_cases, "cli": group_cli, "layout": group_layout,
    "example": group_example, "determinism": group_determinism,
    "pdfa": group_pdfa,
}
