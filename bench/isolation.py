#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The cost of crash isolation in banshi batch: worker processes against the
POSIX threads of the first version, on the same documents.

    isolation.py --banshi NEW --baseline OLD [--docs 300] [--runs 7] [-j 2]

NEW and OLD are two builds of banshi (the same build type); each run renders
DOCS distinct variants of the example report into an empty folder with
`banshi batch -j J`.  The two programs take turns, so that a change in the
machine's load falls on both; the medians of the wall times and their ratio
are printed (docs/benchmarks.md quotes them).
"""
import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import gen  # noqa: E402


def one(banshi, src, out, jobs):
    shutil.rmtree(out, ignore_errors=True)
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.monotonic()
    p = subprocess.run([banshi, "batch", src, "-o", out, "-j", str(jobs)],
                       capture_output=True, text=True,
                       env=dict(os.environ, SOURCE_DATE_EPOCH="1611849600"))
    secs = time.monotonic() - t
    ru2 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit("%s failed: %s" % (banshi, p.stderr[-500:]))
    cpu = (ru2.ru_utime - ru.ru_utime) + (ru2.ru_stime - ru.ru_stime)
    return secs, cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--banshi", required=True)
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--docs", type=int, default=300)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--work", default=os.path.join(HERE, "work", "isolation"))
    a = ap.parse_args()
    src = os.path.join(a.work, "src")
    shutil.rmtree(a.work, ignore_errors=True)
    gen.write_variants(os.path.join(ROOT, "examples",
                                    "liwan-emergency-2020.xml"),
                       "xml", src, a.docs)
    times = {"new": [], "old": []}
    cpus = {"new": [], "old": []}
    progs = [("new", a.banshi), ("old", a.baseline)]
    one(a.banshi, src, os.path.join(a.work, "warm"), a.jobs)  # page cache
    for r in range(a.runs):
        for name, prog in (progs if r % 2 == 0 else progs[::-1]):
            secs, cpu = one(prog, src, os.path.join(a.work, name), a.jobs)
            times[name].append(secs)
            cpus[name].append(cpu)
    med = {k: statistics.median(v) for k, v in times.items()}
    cpu = {k: statistics.median(v) for k, v in cpus.items()}
    for k in ("old", "new"):
        print("%s: median %.3f s for %d documents (%.1f documents/s; "
              "runs %s); CPU time %.2f s" % (
                  k, med[k], a.docs, a.docs / med[k],
                  " ".join("%.2f" % t for t in times[k]), cpu[k]))
    print("throughput new/old: %.3f; CPU time new/old: %.3f" % (
        med["old"] / med["new"], cpu["new"] / cpu["old"]))
    try:
        load = open("/proc/loadavg").read().split()[:3]
        print("load average: %s" % " ".join(load))
    except OSError:
        pass


if __name__ == "__main__":
    main()
