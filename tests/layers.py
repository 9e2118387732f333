#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The architecture as a test: includes and calls point down the layers.

    layers.py SOURCE_DIR
    layers.py --self-test SOURCE_DIR


Every C file of pipeline/, cli/ and include/ names its layer in its first
comment ("Layer 5 (parse): ..."); docs/architecture.md lists the order.
From the sources this script derives two graphs between files:

  include  A -> B when A has `#include "B"`;
  call     A.c -> B.c when A.c calls a bs_/banshi_ function that B.c
           defines (a definition: the name at the start of a line, then a
           parenthesis, as STYLE.md writes them).

A third check keeps libraries behind the files that use them: the
project files that may include a confined library's headers, directly or
through a project header, are listed in CONFINED (HarfBuzz: fonts.c and
the renderers' font embedding, so layout.h and render.h stay free of it).

With --self-test it adds forbidden arrows to copies of the sources' text
(parse.c calling report.c, fonts.h including <hb.h>, table.c calling
layout.c) and fails unless each is reported.

It fails when a source file (C, Python, shell, CMake) lacks its
SPDX-License-Identifier line, when a file has no layer, when an arrow of either graph points up
(from a lower layer to a higher one), or when the call graph has a cycle
(two files of one layer calling each other).  It prints the layers and the
number of arrows checked.

The command line (cli/) is a client of the public header only, as any
program is: its files include <banshi.h>, cli/ headers and C/POSIX headers,
and call only banshi_ functions of the library; the `banshi` target of
CMakeLists.txt has no pipeline/ include directory, of its own or from a
library it links (their PUBLIC and INTERFACE include directories, through
their PUBLIC and INTERFACE links).
"""
import os
import re
import sys

LAYER_RX = re.compile(r"\bLayer (\d+)\b")
INCLUDE_RX = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
DEF_RX = re.compile(r"^((?:bs|banshi)_\w+)\(", re.M)
USE_RX = re.compile(r"\b((?:bs|banshi)_\w+)\s*\(")
COMMENT_RX = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
STRING_RX = re.compile(r'"(?:[^"\\\n]|\\.)*"')
SYS_INCLUDE_RX = re.compile(r'^\s*#\s*include\s+<([^>]+)>', re.M)

# library: (its headers, the only files that may include them)
CONFINED = {
    "HarfBuzz": (re.compile(r"^(harfbuzz/)?hb(-[\w-]+)?\.h$"),
                 {"pipeline/fonts.c", "pipeline/pdf/render_pdf.c",
                  "pipeline/ofd/render_ofd.c"}),
}


def sources(root):
    out = []
    for top in ("pipeline", "cli", "include"):
        for d, _, fs in os.walk(os.path.join(root, top)):
            for f in fs:
                if f.endswith((".c", ".h")):
                    out.append(os.path.relpath(os.path.join(d, f), root))
    return sorted(out)


# What a file of cli/ may include besides <banshi.h> and cli/ headers: the
# C library (with glibc's malloc.h, for mallopt) and POSIX.
SYSTEM_HEADERS = {
    "assert.h", "ctype.h", "errno.h", "fcntl.h", "getopt.h", "inttypes.h",
    "limits.h", "locale.h", "malloc.h", "math.h", "signal.h", "stdarg.h",
    "stdbool.h",
    "stddef.h", "stdint.h", "stdio.h", "stdlib.h", "string.h", "strings.h",
    "time.h", "unistd.h"}
ANGLE_RX = re.compile(r'^\s*#\s*include\s+<([^>]+)>', re.M)


def cmake_call(cmake, command, target):
    """The arguments of every `command(target ...)` in a CMake file."""
    out = []
    for m in re.finditer(r"\b%s\(\s*%s\s+([^)]*(?:\)[^)]*)*?)\)\s*$"
                         % (re.escape(command), re.escape(target)), cmake, re.M):
        out.append(m.group(1))
    return out


def cli_problems(root, files, text, defined, calls, problems):
    """The command line uses the public header only (see the top)."""
    cli = [f for f in files if f.startswith("cli/")]
    cli_names = {os.path.basename(f) for f in cli}
    for f in cli:
        for inc in INCLUDE_RX.findall(text[f]):
            if inc not in cli_names:
                problems.append('%s includes "%s": cli/ includes only <banshi.h> '
                                "and its own headers" % (f, inc))
        for inc in ANGLE_RX.findall(text[f]):
            if inc != "banshi.h" and inc not in SYSTEM_HEADERS and \
                    not inc.startswith("sys/"):
                problems.append("%s includes <%s>: cli/ includes only <banshi.h>, "
                                "its own headers and the C library's" % (f, inc))
        if not f.endswith(".c"):
            continue
        code = STRING_RX.sub('""', COMMENT_RX.sub(" ", text[f]))
        for name in sorted(set(USE_RX.findall(code))):
            g = defined.get(name)
            if g and not g.startswith("cli/") and not name.startswith("banshi_"):
                problems.append("%s calls %s (%s): cli/ calls the library through "
                                "banshi.h only" % (f, name, g))
    cmake = open(os.path.join(root, "CMakeLists.txt"), encoding="utf-8").read()
    exe = cmake_call(cmake, "add_executable", "banshi")
    if not exe:
        problems.append("CMakeLists.txt: no add_executable(banshi ...)")
    for args in exe:
        for src in args.split():
            if not src.startswith("cli/"):
                problems.append("CMakeLists.txt: the banshi command is built from %s, "
                                "outside cli/" % src)
    # the command's include directories, and those it gets from the
    # libraries it links (their PUBLIC and INTERFACE parts, transitively)
    seen, todo = set(), ["banshi"]
    while todo:
        t = todo.pop()
        if t in seen:
            continue
        seen.add(t)
        for args in cmake_call(cmake, "target_include_directories", t):
            for scope, items in cmake_scopes(args):
                if (t == "banshi" or scope != "PRIVATE") and \
                        any("pipeline" in i for i in items):
                    problems.append("CMakeLists.txt: the banshi command gets a pipeline/ "
                                    "include directory from %s (%s %s)"
                                    % (t, scope, " ".join(items)))
        for args in cmake_call(cmake, "target_link_libraries", t):
            for scope, items in cmake_scopes(args):
                if t == "banshi" or scope != "PRIVATE":
                    todo.extend(i for i in items if i.startswith("banshi_"))


def cmake_scopes(args):
    """A CMake argument list as (PUBLIC|PRIVATE|INTERFACE, [items])."""
    out, scope = [], "PRIVATE"
    for w in args.split():
        if w in ("PUBLIC", "PRIVATE", "INTERFACE"):
            scope = w
            out.append((scope, []))
        else:
            if not out:
                out.append((scope, []))
            out[-1][1].append(w)
    return out


def check(root, patch=None):
    """The problems of the sources under root and the report's lines;
    patch maps a file to text appended to it (the self-test)."""
    files = sources(root)
    text, layer, problems = {}, {}, []
    for f in files:
        t = open(os.path.join(root, f), encoding="utf-8").read()
        t += (patch or {}).get(f, "")
        text[f] = t
        # the first comment after the SPDX line
        m = re.match(r"\s*(?://[^\n]*\n\s*)*/\*.*?\*/", t, re.S)
        lm = LAYER_RX.search(m.group(0)) if m else None
        if not lm:
            problems.append("%s: no 'Layer N' in its first comment" % f)
            continue
        layer[f] = int(lm.group(1))
    by_base = {}
    for f in files:
        by_base.setdefault(os.path.basename(f), []).append(f)

    # include graph
    n_inc = 0
    for f in files:
        for inc in INCLUDE_RX.findall(text[f]):
            for g in by_base.get(os.path.basename(inc), []):
                n_inc += 1
                if f in layer and g in layer and layer[g] > layer[f]:
                    problems.append("%s (layer %d) includes %s (layer %d): an upward arrow"
                                    % (f, layer[f], g, layer[g]))

    # confined libraries: the system headers each file reaches through
    # its own includes and the project headers they include in turn
    def reach(f, seen):
        if f in seen:
            return
        seen.add(f)
        for inc in INCLUDE_RX.findall(text[f]):
            for g in by_base.get(os.path.basename(inc), []):
                reach(g, seen)

    for f in files:
        seen = set()
        reach(f, seen)
        for g in sorted(seen):
            for h in SYS_INCLUDE_RX.findall(text[g]):
                for lib, (rx, allowed) in CONFINED.items():
                    if rx.match(h) and f not in allowed:
                        via = "" if g == f else " through %s" % g
                        problems.append("%s includes <%s>%s: %s is for %s only"
                                        % (f, h, via, lib,
                                           ", ".join(sorted(allowed))))

    # call graph
    defined = {}
    for f in files:
        if f.endswith(".c"):
            for name in DEF_RX.findall(text[f]):
                defined.setdefault(name, f)
    calls = {f: set() for f in files if f.endswith(".c")}
    for f in calls:
        code = STRING_RX.sub('""', COMMENT_RX.sub(" ", text[f]))
        for name in USE_RX.findall(code):
            g = defined.get(name)
            if g and g != f:
                calls[f].add(g)
    n_call = 0
    for f, gs in calls.items():
        for g in sorted(gs):
            n_call += 1
            if f in layer and g in layer and layer[g] > layer[f]:
                problems.append("%s (layer %d) calls into %s (layer %d): an upward arrow"
                                % (f, layer[f], g, layer[g]))

    # cycles in the call graph (depth-first search, colours)
    colour = {}

    def visit(f, path):
        colour[f] = 1
        for g in sorted(calls.get(f, ())):
            if colour.get(g) == 1:
                cyc = path[path.index(g):] + [g]
                problems.append("call cycle: " + " -> ".join(cyc))
            elif g not in colour:
                visit(g, path + [g])
        colour[f] = 2

    for f in sorted(calls):
        if f not in colour:
            visit(f, [f])

    cli_problems(root, files, text, defined, calls, problems)

    # every source file names its licence (LICENSE): C, Python and shell
    for d, dirs, fs in os.walk(root):
        dirs[:] = [x for x in dirs if not x.startswith((".", "build", "obj-"))
                   and x not in ("out", "work")]
        for f in fs:
            if f.endswith((".c", ".h", ".py", ".sh")) or f == "CMakeLists.txt":
                path = os.path.join(d, f)
                with open(path, encoding="utf-8", errors="replace") as fh:
                    head = fh.read(300)
                if "SPDX-License-Identifier: Apache-2.0" not in head:
                    problems.append("%s: no SPDX-License-Identifier line"
                                    % os.path.relpath(path, root))

    lines = ["layer %2d: %s" % (n, " ".join(f for f in files if layer.get(f) == n))
             for n in sorted(set(layer.values()))]
    lines.append("%d files, %d include arrows, %d call arrows"
                 % (len(files), n_inc, n_call))
    return problems, lines


# The self-test: arrows the layer order exists to forbid, added to copies
# of the sources' text, must each be reported.
SELF_TEST = [
    ("parse.c calls report mapping again",
     {"pipeline/parse.c": '\n#include "report.h"\nvoid\nS_x(void)\n{\n'
                          '  bs_report_cleanup();\n}\n'},
     ["pipeline/parse.c (layer 4) includes pipeline/report.h",
      "pipeline/parse.c (layer 4) calls into pipeline/report.c"]),
    ("fonts.h includes HarfBuzz again",
     {"pipeline/fonts.h": "\n#include <hb.h>\n"},
     ["pipeline/layout.h includes <hb.h> through pipeline/fonts.h",
      "pipeline/render.h includes <hb.h> through pipeline/fonts.h"]),
    ("table.c calls back into layout.c",
     {"pipeline/table.c": "\nvoid\nS_x(void)\n{\n  bs_layout_document(0, 0);\n}\n"},
     ["pipeline/table.c (layer 8) calls into pipeline/layout.c"]),
]


def self_test(root):
    failed = 0
    for name, patch, want in SELF_TEST:
        problems, _ = check(root, patch)
        for w in want:
            if not any(w in p for p in problems):
                print("FAIL: self-test '%s': no problem says %r (got %s)"
                      % (name, w, problems), file=sys.stderr)
                failed += 1
    if failed:
        sys.exit(1)
    print("ok: %d forbidden arrows reported" % len(SELF_TEST))


def main():
    args = sys.argv[1:]
    root = args[-1] if args and not args[-1].startswith("-") else \
        os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if "--self-test" in args:
        self_test(root)
        return
    problems, lines = check(root)
    for line in lines:
        print(line)
    if problems:
        for p in problems:
            print("FAIL: " + p, file=sys.stderr)
        sys.exit(1)
    print("ok: every arrow points down, no call cycle")


if __name__ == "__main__":
    main()
