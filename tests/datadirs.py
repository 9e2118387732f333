#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The data folders are listed once in C, and the other lists agree.

    datadirs.py SOURCE_DIR

pipeline/datadir.c's table (S_folders, one entry per bs_data_folder of
util.h) is the one list of the data folders (schemas, templates, fonts,
collation) in C.  CMake's install rule and the Debian package's check of
its contents (tests/t_deploy.py) must name them too; this script fails when:

  - the table and util.h's enum disagree, or a folder is missing from the
    source tree;
  - CMakeLists.txt's install(DIRECTORY ... DESTINATION .../banshi) list or
    the folders of t_deploy.py's /usr/share/banshi/FOLDER/ files differ
    from the table;
  - C code outside datadir.c spells a path into a data folder itself
    ("schemas/...") instead of bs_data_path(a, BS_DATA_..., name);
  - a bs_data_path(..., BS_DATA_X, "name") names a file that the folder
    does not hold in the source tree.
"""
import os
import re
import sys

COMMENT_RX = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


def read(root, rel):
    return open(os.path.join(root, rel), encoding="utf-8").read()


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    problems = []

    table = dict(re.findall(r'\[(BS_DATA_\w+)\]\s*=\s*"([^"]+)"',
                            read(root, "pipeline/datadir.c")))
    enum_body = re.search(r"enum bs_data_folder \{(.*?)\}",
                          read(root, "pipeline/util.h"), re.S).group(1)
    members = [m for m in re.findall(r"\b(BS_DATA_\w+)\b",
                                     COMMENT_RX.sub(" ", enum_body))
               if m != "BS_DATA_COUNT"]
    if sorted(members) != sorted(table):
        problems.append("util.h's bs_data_folder %s and datadir.c's table %s differ"
                        % (members, sorted(table)))
    folders = sorted(table.values())
    for f in folders:
        if not os.path.isdir(os.path.join(root, f)):
            problems.append("data folder %s/ is not in the source tree" % f)

    m = re.search(r"install\(DIRECTORY\s+([^)]*?)\s+DESTINATION\s+\S*banshi\)",
                  read(root, "CMakeLists.txt"))
    cmake = sorted(m.group(1).split()) if m else []
    if cmake != folders:
        problems.append("CMakeLists.txt installs %s, datadir.c lists %s"
                        % (cmake, folders))

    deb = sorted(set(re.findall(r"/usr/share/banshi/([^/\"]+)/",
                                read(root, "tests/t_deploy.py"))))
    if deb != folders:
        problems.append("t_deploy.py checks the package for %s, datadir.c lists %s"
                        % (deb, folders))

    spelled = re.compile(r'"(?:%s)/' % "|".join(map(re.escape, folders)))
    uses = re.compile(r'bs_data_path\([^;]*?\b(BS_DATA_\w+)\s*,\s*"([^"]+)"\)',
                      re.S)
    for top in ("pipeline", "cli", "include"):
        for d, _, fs in os.walk(os.path.join(root, top)):
            for f in sorted(fs):
                if not f.endswith((".c", ".h")):
                    continue
                rel = os.path.relpath(os.path.join(d, f), root)
                code = COMMENT_RX.sub(" ", read(root, rel))
                if rel != "pipeline/datadir.c" and spelled.search(code):
                    problems.append("%s spells a data folder path (%s...): use "
                                    "bs_data_path" % (rel, spelled.search(code).group(0)))
                for member, name in uses.findall(code):
                    if member not in table:
                        problems.append("%s: unknown data folder %s" % (rel, member))
                    elif not os.path.exists(os.path.join(root, table[member], name)):
                        problems.append("%s names %s/%s, which the source tree lacks"
                                        % (rel, table[member], name))

    print("data folders: %s" % " ".join(folders))
    if problems:
        for p in problems:
            print("FAIL: " + p, file=sys.stderr)
        sys.exit(1)
    print("ok: datadir.c, util.h, CMakeLists.txt and t_deploy.py agree")


if __name__ == "__main__":
    main()
