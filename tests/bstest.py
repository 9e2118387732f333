# SPDX-License-Identifier: Apache-2.0
"""Helpers shared by the test groups (t_*.py): running banshi, reading the
layout dump, writing sources, Preflight, and the failure list."""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EXAMPLE = os.path.join(ROOT, "examples", "liwan-emergency-2020.xml")

MM = 72.0 / 25.4
# GB/T 9704-2012 type area of the default template, in points
LEFT = round(28 * MM, 3)
RIGHT = round((28 + 156) * MM, 3)
TOP = round(37 * MM, 3)
BOTTOM = round((297 - 35) * MM, 3)
EPS = 0.011

NO_START = set("、，。．：；！？”’」』）〕］｝】〗〉》～·")
NO_END = set("“‘「『（〔［｛【〖〈《")

failures = []
# run.py GROUP CASE: the one case to run (None: all); case_seen is set when
# a group's loop met it (selected()).
CASE = None
case_seen = False


def selected(name):
    """True when the case `name` is to run (every case when no CASE was
    named on the command line)."""
    global case_seen
    if CASE is None:
        return True
    if name == CASE:
        case_seen = True
        return True
    return False


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


class Skip(Exception):
    """A group that cannot run here; run.py exits 77, which ctest reports
    as skipped (SKIP_RETURN_CODE)."""


def skip(msg):
    raise Skip(msg)


def check(cond, msg):
    if not cond:
        fail(msg)
    return cond


def run(args, cwd=None, env=None, stdin=None):
    e = dict(os.environ)
    if env:
        e.update(env)
    p = subprocess.run(args, cwd=cwd, env=e, capture_output=True, text=True,
                       input=stdin, timeout=240)
    return p.returncode, p.stdout, p.stderr


# ---------------------------------------------------------------------------
# the text dump

class Run:
    __slots__ = ("page", "x0", "x1", "y", "size", "font", "text", "at")


def parse_dump(text):
    """Pages of runs and rules from `banshi --dump` output."""
    pages, outline = [], []
    rx = re.compile(r'  run x=(\S+)\.\.(\S+) y=(\S+) size=(\S+) font=(\S+) "(.*)"$')
    for line in text.splitlines():
        if line.startswith("page "):
            pages.append({"runs": [], "rules": [], "line": line})
        elif line.startswith("outline "):
            outline.append(line)
        elif line.startswith("  run "):
            m = rx.match(line)
            r = Run()
            r.page = len(pages)
            r.x0, r.x1, r.y, r.size = (float(m.group(i)) for i in range(1, 5))
            r.font = m.group(5)
            r.text = m.group(6).replace('\\"', '"').replace("\\\\", "\\")
            r.at = []
            pages[-1]["runs"].append(r)
        elif line.startswith("    at "):
            # pen position of each glyph, relative to the run's x
            pages[-1]["runs"][-1].at = [float(v) for v in line[7:].split(",")]
        elif line.startswith("  rule "):
            nums = re.findall(r"-?[\d.]+", line)
            pages[-1]["rules"].append(tuple(float(n) for n in nums[:5]))
    return pages, outline


def lines_of(page, body_only=True):
    """Group the runs of a page into visual lines (same baseline)."""
    lines = {}
    for r in page["runs"]:
        if body_only and r.y > BOTTOM:
            continue  # page number
        lines.setdefault(round(r.y, 2), []).append(r)
    out = []
    for y in sorted(lines):
        rs = sorted(lines[y], key=lambda r: r.x0)
        out.append(rs)
    return out


def dump_of(banshi, src, work, extra=()):
    rc, out, err = run([banshi, "render", src, "--dump", "-"] + list(extra))
    if rc != 0:
        fail("%s: exit %d\n%s" % (src, rc, err))
        return ([], []), err
    return parse_dump(out), err


def write_source(path, body, title="测试文档", closing=None, meta_extra="",
                 issuer="测试机关"):
    close = ""
    if closing:
        close = "<closing>%s<date>%s</date></closing>" % (
            "".join("<signature>%s</signature>" % s for s in closing[0]),
            closing[1])
    with open(path, "w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<document version="1">'
                "<meta><title>%s</title><issuer>%s</issuer>"
                "<date>2021-01-05</date>%s</meta>\n<body>\n%s\n</body>%s"
                "</document>\n" % (title, issuer, meta_extra, body, close))



def body_lines(pages):
    """Visual lines of body text: (page, [runs]) in reading order."""
    out = []
    for i, p in enumerate(pages):
        for ln in lines_of(p):
            out.append((i, ln))
    return out


def line_text(runs):
    return "".join(r.text for r in runs)


PREFLIGHT_CP = ":".join("/usr/share/java/%s.jar" % j for j in (
    "preflight", "pdfbox2", "fontbox2", "xmpbox", "commons-logging",
    "javax.activation", "jaxb-api"))


def preflight(pdfs, work):
    """Validate PDFs in one JVM (base names must differ).  Returns
    ({basename: (valid, [errors])}, the validator's log)."""
    lst = os.path.join(work, "preflight-list.txt")
    with open(lst, "w") as f:
        f.write("\n".join(pdfs) + "\n")
    rc, out, err = run(["java", "-cp", PREFLIGHT_CP,
                        "org.apache.pdfbox.preflight.Validator_A1b", "xml", "group", lst])
    res = {}
    xmlf = lst + ".preflight.xml"
    if not os.path.exists(xmlf):
        fail("preflight produced no result: %s %s" % (out, err))
        return res, err
    root = ET.parse(xmlf).getroot()
    for pf in root.iter("preflight"):
        valid = pf.findtext("isValid") == "true"
        errs = ["%s %s" % (e.findtext("code"), e.findtext("details"))
                for e in pf.iter("error")]
        res[pf.get("name")] = (valid, errs)
    return res, err


DIAG_RX = re.compile(r"^[^:]+\.xml(:\d+(:\d+)?)?: (error|warning|note): |^banshi: ")
DIAG_RX_LOCATED = re.compile(r"^[^:]+\.xml:\d+:\d+: (error|warning): ")


def run_case_folder(a, folder, least, located=False, extra=None):
    """Cases as data: each NAME.xml in `folder` is validated (or run with
    the arguments in NAME.args) and its diagnostics and exit status must
    equal NAME.diag and NAME.rc (--update rewrites them).  Every message
    must be well formed (with `located`, carry a line and a column);
    `extra(name, out, err)` adds checks.  Returns [(name, rc)]."""
    import difflib
    srcs = sorted(glob.glob(os.path.join(folder, "*.xml")))
    check(len(srcs) >= least, "%s: %d sources, expected at least %d"
          % (folder, len(srcs), least))
    srcs = [s for s in srcs if selected(os.path.basename(s)[:-4])]
    rx = DIAG_RX_LOCATED if located else DIAG_RX
    results = []
    for src in srcs:
        name = os.path.basename(src)[:-4]
        args = ["validate", name + ".xml"]
        argf = os.path.join(folder, name + ".args")
        if os.path.exists(argf):
            args = open(argf, encoding="utf-8").read().split() + [name + ".xml"]
        rc, out, err = run([a.banshi] + args, cwd=folder)
        results.append((name, rc))
        diagf = os.path.join(folder, name + ".diag")
        rcf = os.path.join(folder, name + ".rc")
        if a.update:
            open(diagf, "w", encoding="utf-8").write(err)
            open(rcf, "w").write("%d\n" % rc)
            continue
        want = open(diagf, encoding="utf-8").read() if os.path.exists(diagf) else ""
        want_rc = int(open(rcf).read()) if os.path.exists(rcf) else 0
        if err != want:
            diff = "".join(difflib.unified_diff(
                want.splitlines(True), err.splitlines(True), name + ".diag", "actual"))
            fail("%s: diagnostics differ\n%s" % (name, diff))
        check(rc == want_rc, "%s: exit %d, want %d" % (name, rc, want_rc))
        for line in err.splitlines():
            check(rx.match(line), "%s: badly formed diagnostic %r" % (name, line))
        if extra:
            extra(name, out, err)
    return results
