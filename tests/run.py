#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""banshi test driver, run by ctest.

    run.py --banshi PATH --work DIR GROUP [CASE] [--update]
    run.py --banshi PATH --work DIR --update-visual   (rewrite tests/visual/)

Each tests/t_*.py module defines GROUPS, a dict of group name -> function of
the parsed arguments; see the modules for what each group checks.

CASE runs one case of a group that has cases as data (cases, hostile,
reports-cases: the source's name without .xml; valgrind: a run's name), as
curl's `runtests.pl 1234` does: `run.py ... hostile xxe-system-file`.
"""
import argparse
import glob
import importlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bstest  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--banshi", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--update", action="store_true")
    ap.add_argument("--update-visual", action="store_true",
                    help="rewrite the reference page images of tests/visual/")
    ap.add_argument("group", nargs="?")
    ap.add_argument("case", nargs="?", help="run only this case of the group")
    a = ap.parse_args()
    bstest.CASE = a.case
    a.work = os.path.abspath(a.work)
    os.makedirs(a.work, exist_ok=True)
    groups = {}
    for path in sorted(glob.glob(os.path.join(HERE, "t_*.py"))):
        mod = importlib.import_module(os.path.basename(path)[:-3])
        groups.update(mod.GROUPS)
    if a.update_visual and not a.group:
        a.group = "visual"
    if a.group not in groups:
        print("unknown group %s; known: %s" % (a.group, " ".join(sorted(groups))))
        sys.exit(2)
    try:
        groups[a.group](a)
    except bstest.Skip as e:
        print("skipped: %s" % e)
        if not bstest.failures:
            sys.exit(77)
    if a.case and not bstest.case_seen:
        print("group %s has no case %s" % (a.group, a.case), file=sys.stderr)
        sys.exit(2)
    if bstest.failures:
        print("%d failures" % len(bstest.failures), file=sys.stderr)
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
