#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The cost of the prose checks (pipeline/prose.c) per report.

Instructions, not wall time, because the machine is shared and a cost of a
fraction of a millisecond drowns in the noise of timings: callgrind counts
the instructions spent in bs_prose_check while `banshi validate
--as-published` checks the reports of tests/reports/published/ once and K
times in one process; the difference divided by the extra documents is the
cost per document (the patterns are compiled once per process, which the
difference leaves out and which is reported apart).  Instructions become
milliseconds at the rate the same validation runs natively: the CPU time
(user + system, the minimum of R runs) of validating the set K times,
divided by its instruction count under callgrind.

    python3 bench/prose.py [--banshi build/banshi] [-k 3] [-r 5]
"""
import argparse
import glob
import os
import re
import resource
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def callgrind(banshi, files, toggle=None):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "cg.out")
        cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out]
        if toggle:
            cmd.append("--toggle-collect=" + toggle)
        r = subprocess.run(cmd + [banshi, "validate", "--as-published"] + files, cwd=ROOT,
                           env=dict(os.environ, BANSHI_DATA=ROOT),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        m = re.search(r"(?:I\s+refs|Collected)\s*:\s*([\d,]+)", r.stderr)
        return int(m.group(1).replace(",", ""))


def cpu(banshi, files):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([banshi, "validate", "--as-published"] + files, cwd=ROOT,
                   env=dict(os.environ, BANSHI_DATA=ROOT),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--banshi", default=os.path.join(ROOT, "build", "banshi"))
    ap.add_argument("-k", type=int, default=3)
    ap.add_argument("-r", type=int, default=5)
    a = ap.parse_args()
    docs = sorted(glob.glob(os.path.join("tests", "reports", "published", "*.xml")))
    one = callgrind(a.banshi, docs, "bs_prose_check")
    many = callgrind(a.banshi, docs * a.k, "bs_prose_check")
    extra = len(docs) * (a.k - 1)
    per_doc = (many - one) / extra
    once = one - per_doc * len(docs)
    total = callgrind(a.banshi, docs * a.k)
    secs = min(cpu(a.banshi, docs * a.k) for _ in range(a.r))
    ms_per_instr = secs * 1000 / total
    print("prose checks: %.2f M instructions per document (%.3f ms at %.0f M "
          "instructions/s, the rate of the whole validation), plus %.1f M once "
          "per process to compile the patterns (%.2f ms); validation as a whole: "
          "%.1f M instructions, %.2f ms CPU per document"
          % (per_doc / 1e6, per_doc * ms_per_instr, 1e-6 / ms_per_instr * 1000,
             once / 1e6, once * ms_per_instr, total / len(docs * a.k) / 1e6,
             secs * 1000 / len(docs * a.k)))


if __name__ == "__main__":
    main()
