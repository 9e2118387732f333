#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The cost of each output format per document (docs/formats.md).

    python3 bench/formats.py --banshi build/banshi [--out bench/FORMATS.md]
                             [--runs 5]

For each source (the example report, and generated documents of 10 and 40
pages), banshi renders: the layout alone (--dump to /dev/null: parse,
normalise, lay out), PDF/A-1b, PDF/A-3b, tagged PDF/A-1b, PDF/A-2a and
OFD.  Measured per document:

- instructions (valgrind --tool=callgrind, the whole process): exact and
  repeatable on a shared machine; the format's own cost is its total less
  the layout alone's;
- CPU time (user + system) of a fresh process, the median of --runs runs
  (noisy on a loaded machine: the instruction counts decide);
- the output's size.

Writes a Markdown table to --out (default: standard output).
"""
import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
from bstest import write_source  # noqa: E402

EXAMPLE = os.path.join(ROOT, "examples", "liwan-emergency-2020.xml")


def gen(path, pages):
    paras = "".join("<section><heading>第%d部分</heading>%s</section>" % (
        i + 1, "<p>%s</p>" % ("政府信息公开工作年度报告正文，依法公开、及时回应。" * 12))
        for i in range(pages * 2))
    rows = "".join("<tr><td>事项%d</td><td>%d</td><td>%d</td></tr>" % (i, i * 3, i * 7)
                   for i in range(pages * 8))
    body = paras + ("<table><thead><tr><th>事项</th><th>数量</th><th>金额</th></tr>"
                    "</thead><tbody>%s</tbody></table>" % rows)
    write_source(path, body, title="%d页" % pages)


def instructions(cmd):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "cg.out")
        p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] + cmd,
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("%s: %s" % (cmd, p.stderr[-1000:]))
        m = re.search(r"Collected : (\d+)", p.stderr)
        return int(m.group(1))


def cpu_ms(cmd, runs):
    ts = []
    for _ in range(runs):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(cmd, check=True, capture_output=True)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        ts.append((r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1000)
    ts.sort()
    return ts[len(ts) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--banshi", required=True)
    ap.add_argument("--out")
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    os.environ.setdefault("BANSHI_DATA", ROOT)
    work = tempfile.mkdtemp(prefix="banshi-formats-")
    srcs = [("example (5 pages)", EXAMPLE)]
    for n in (10, 40):
        p = os.path.join(work, "gen%d.xml" % n)
        gen(p, n)
        srcs.append(("generated, %d sections + table" % (2 * n), p))
    variants = [("layout only", ["--dump", "/dev/null"], None),
                ("PDF/A-1b", ["-o"], "pdf"),
                ("PDF/A-3b", ["--pdfa", "3b", "-o"], "pdf"),
                ("tagged PDF/A-1b", ["--tagged", "-o"], "pdf"),
                ("PDF/A-2a (tagged)", ["--pdfa", "2a", "-o"], "pdf"),
                ("OFD", ["-o"], "ofd")]
    lines = ["| document | pages | output | instructions (M) | of which the format (M) "
             "| CPU ms (median) | bytes |",
             "| --- | ---: | --- | ---: | ---: | ---: | ---: |"]
    for label, src in srcs:
        base = None
        for vname, args, ext in variants:
            out = os.path.join(work, "out." + ext) if ext else None
            cmd = [a.banshi, "render", src] + args + ([out] if out else [])
            ins = instructions(cmd)
            ms = cpu_ms(cmd, a.runs)
            size = os.path.getsize(out) if out else 0
            pages = ""
            if ext == "pdf" and vname == "PDF/A-1b":
                info = subprocess.run(["pdfinfo", out], capture_output=True, text=True).stdout
                pages = re.search(r"Pages:\s+(\d+)", info).group(1)
            if base is None:
                base = ins
            own = ins - base
            lines.append("| %s | %s | %s | %.1f | %s | %.1f | %s |" % (
                label, pages, vname, ins / 1e6, "%.1f" % (own / 1e6) if ext else "-",
                ms, "{:,}".format(size) if size else "-"))
            print(lines[-1], file=sys.stderr)
    text = "\n".join(lines) + "\n"
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
