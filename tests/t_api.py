# SPDX-License-Identifier: Apache-2.0
"""The library for other programs and the manual.

  api     examples/render.c, linked with libbanshi.so only, renders sources
          from memory to memory: the PDFs are byte for byte the command's,
          every message comes back with its location, rule id and values;
          the library exports banshi_* alone, under its soname.
  manual  man/banshi.1 formats without a warning (man --warnings), names
          every option of every command's --help; the bash completion
          completes commands, options and option values.
"""
import os
import re
import shutil
import subprocess

from bstest import *  # noqa: F401,F403


def group_api(a):
    ex = os.environ.get("BANSHI_EXAMPLE")
    lib = os.environ.get("BANSHI_LIB")
    if not check(ex and os.path.exists(ex), "BANSHI_EXAMPLE not built: %r" % ex):
        return
    w = os.path.join(a.work, "api")
    shutil.rmtree(w, ignore_errors=True)
    os.makedirs(w)
    bad = os.path.join(HERE, "cases", "encoding-gbk-invalid.xml")
    warn = os.path.join(HERE, "cases", "norm-spaces.xml")
    rc, out, err = run([ex, EXAMPLE, warn, bad, w])
    check(rc == 1, "example: exit %d (want 1: one source invalid)\n%s%s" % (rc, out, err))
    check(out.startswith("banshi %s" % run([a.banshi, "--version"])[1].split()[1]),
          "banshi_version: %r" % out[:40])
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    for i, src in ((1, EXAMPLE), (2, warn)):
        ref = os.path.join(w, "ref-%d.pdf" % i)
        rc2, _, err2 = run([a.banshi, "render", src, "-o", ref], env=env)
        got = os.path.join(w, "%d.pdf" % i)
        check(rc2 == 0 and os.path.exists(got) and
              open(got, "rb").read() == open(ref, "rb").read(),
              "%s: the library's PDF differs from the command's" % src)
    check(not os.path.exists(os.path.join(w, "3.pdf")), "a PDF for an invalid source")
    # the messages: the same as the command's JSON, with location and rule
    for src in (warn, bad):
        rc2, _, err2 = run([a.banshi, "validate", src, "--diagnostics", "json", "--lang", "en"])
        import json
        for line in err2.splitlines():
            d = json.loads(line)
            want = "%s:%d:%d: %s [%s] %s" % (d["file"], d["line"] or 0, d["column"] or 0,
                                             d["severity"], d["rule"], d["message"])
            if d["values"]:
                want += " {" + " | ".join(d["values"]) + "}"
            check(want in out.splitlines(), "example lacks %r:\n%s" % (want, out))
    check(re.search(r"encoding-gbk-invalid\.xml:5:10: error \[xml-syntax\] .*\{GBK \| 0x81\}", out),
          "the invalid source's message: %s" % out)
    # nothing but banshi_* exported, under the soname
    if lib and shutil.which("nm"):
        rc, out, _ = run(["nm", "-D", "--defined-only", lib])
        names = [l.split()[-1].split("@")[0] for l in out.splitlines() if l.split()[1:2] == ["T"]]
        check(names and all(n.startswith("banshi_") for n in names),
              "exported: %s" % [n for n in names if not n.startswith("banshi_")][:10])
        rc, out, _ = run(["objdump", "-p", lib])
        check(re.search(r"SONAME\s+libbanshi\.so\.0\b", out), "soname: %s" % out[:300])


def group_manual(a):
    man = os.path.join(ROOT, "man", "banshi.1")
    if not check(shutil.which("man"), "man is not installed (build.sh installs man-db)"):
        return
    for loc in ("C", "C.UTF-8"):
        rc, out, err = run(["man", "--warnings", "-l", man],
                           env={"LC_ALL": loc, "MANWIDTH": "80", "MAN_KEEP_FORMATTING": ""})
        check(rc == 0 and err == "" and "banshi render" in out,
              "man --warnings (LC_ALL=%s): %d %r" % (loc, rc, err[:500]))
    page = run(["man", "-l", man], env={"LC_ALL": "C.UTF-8", "MANWIDTH": "200"})[1]
    page = re.sub(r".\x08", "", page).replace("\u2010", "-").replace("\u2212", "-")
    for cmd in ("render", "validate", "convert", "batch", "archive", "new"):
        rc, out, _ = run([a.banshi, cmd, "--help", "--lang", "en"])
        for opt in sorted(set(re.findall(r"--[a-z][a-z-]+", out))):
            check(opt in page, "%s: %s is not in the manual page" % (cmd, opt))
    # bash completion
    comp = os.path.join(ROOT, "completion", "banshi.bash")
    bindir = os.path.join(a.work, "manual-bin")
    os.makedirs(bindir, exist_ok=True)
    link = os.path.join(bindir, "banshi")
    if not os.path.exists(link):
        os.symlink(a.banshi, link)

    def complete(words):
        script = ("source %s; COMP_WORDS=(%s); COMP_CWORD=%d; _banshi; "
                  "printf '%%s\\n' \"${COMPREPLY[@]}\"" %
                  (comp, " ".join("'%s'" % x for x in words), len(words) - 1))
        p = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                           env=dict(os.environ, PATH=bindir + ":" + os.environ["PATH"]))
        return set(p.stdout.split()), p.stderr

    got, err = complete(["banshi", "b"])
    check(got == {"batch"}, "complete 'banshi b': %s %s" % (got, err))
    got, err = complete(["banshi", "render", "--diag"])
    check(got == {"--diagnostics"}, "complete 'render --diag': %s %s" % (got, err))
    got, err = complete(["banshi", "batch", "--"])
    check({"--jobs", "--shard", "--fail-on-warnings", "--output"} <= got,
          "complete 'batch --': %s %s" % (got, err))
    got, err = complete(["banshi", "render", "--lang", ""])
    check(got == {"zh", "en"}, "complete '--lang ': %s" % got)
    got, err = complete(["banshi", "validate", "--diagnostics", "j"])
    check(got == {"json"}, "complete '--diagnostics j': %s" % got)


GROUPS = {"api": group_api, "manual": group_manual}
