#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""How fast banshi hashes a bag: `banshi archive --verify` on a bag whose
payload is one large file, after the file is in the page cache, so that the
figure is SHA-256 and banshi's reading, not the disk.

    python3 bench/hashing.py BANSHI [BANSHI...] [--mb 1024] [--runs 5]

For each binary: the best of RUNS wall times and the CPU time of that run,
as MB/s of payload (1 MB = 10^6 bytes), with sha256sum (coreutils) and
Python's hashlib as references.  Writes a Markdown table to standard output.
Not part of the tests: times depend on the machine and its load.
"""
import argparse
import hashlib
import os
import resource
import shutil
import subprocess
import tempfile
import time


def make_bag(d, mb):
    """A valid bag with one payload file of `mb` MB; returns its path."""
    bag = os.path.join(d, "bag")
    os.makedirs(os.path.join(bag, "data"))
    block = hashlib.sha256(b"banshi").digest() * (1 << 15)  # 1 MiB
    h = hashlib.sha256()
    size = mb * 1000 * 1000
    with open(os.path.join(bag, "data", "payload.bin"), "wb") as f:
        left = size
        while left:
            piece = block[:min(left, len(block))]
            f.write(piece)
            h.update(piece)
            left -= len(piece)
    tags = {}

    def tag(name, text):
        with open(os.path.join(bag, name), "w", encoding="utf-8") as f:
            f.write(text)
        tags[name] = hashlib.sha256(text.encode()).hexdigest()

    tag("bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    tag("manifest-sha256.txt", "%s  data/payload.bin\n" % h.hexdigest())
    tag("bag-info.txt", "Payload-Oxum: %d.1\n" % size)
    with open(os.path.join(bag, "tagmanifest-sha256.txt"), "w") as f:
        for name in sorted(tags):
            f.write("%s  %s\n" % (tags[name], name))
    return bag, size


def timed(args):
    """(wall seconds, CPU seconds of the child, exit status)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    rc = subprocess.run(args, stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL).returncode
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, rc


def best(args, runs):
    res = [timed(args) for _ in range(runs)]
    bad = [r for r in res if r[2] != 0]
    if bad:
        raise SystemExit("%s: exit %d" % (" ".join(args), bad[0][2]))
    return min(res)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("banshi", nargs="+")
    ap.add_argument("--mb", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="banshi-hash-")
    try:
        bag, size = make_bag(d, a.mb)
        payload = os.path.join(bag, "data", "payload.bin")
        rows = []
        for b in a.banshi:
            rows.append(("`%s archive --verify`" % b,
                         best([b, "archive", "--verify", bag], a.runs)))
        if shutil.which("sha256sum"):
            rows.append(("`sha256sum` (reference)",
                         best(["sha256sum", payload], a.runs)))
        t = []
        for _ in range(a.runs):
            t0 = time.perf_counter()
            with open(payload, "rb") as f:
                hashlib.file_digest(f, "sha256") if hasattr(
                    hashlib, "file_digest") else hashlib.sha256(f.read())
            t.append(time.perf_counter() - t0)
        rows.append(("Python hashlib (reference)", (min(t), min(t), 0)))
        print("payload %d MB in the page cache, best of %d runs; load "
              "average %.1f\n" % (size // 10**6, a.runs, os.getloadavg()[0]))
        print("| what | wall | MB/s (wall) | CPU | MB/s (CPU) |")
        print("|---|---|---|---|---|")
        for name, (wall, cpu, _) in rows:
            print("| %s | %.3f s | %.0f | %.3f s | %.0f |"
                  % (name, wall, size / 1e6 / wall, cpu,
                     size / 1e6 / cpu if cpu else 0))
    finally:
        shutil.rmtree(d)


if __name__ == "__main__":
    main()
