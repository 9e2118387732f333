"""Deployment test groups.

  install   `cmake --install` into a temporary prefix, the prefix copied
            elsewhere, the source and build trees hidden from the program
            (a private mount namespace with an empty folder over them, or,
            where namespaces are not allowed, strace proving that nothing
            below them is opened): the installed banshi renders the example
            to the same bytes as the build tree's; $BANSHI_DATA serves a
            program copied away from its data and is not needed otherwise.
"""
import os
import shutil
import subprocess
import tempfile

from bstest import *  # noqa: F401,F403


def build_dir(a):
    """The build tree of the program under test."""
    return os.path.dirname(os.path.abspath(a.banshi))


def install_prefix(a, prefix):
    """cmake --install of the build tree under test into `prefix`."""
    rc, out, err = run(["cmake", "--install", build_dir(a), "--prefix", prefix])
    check(rc == 0, "cmake --install: %d %s%s" % (rc, out, err))
    return rc == 0


def hidden_run(args, hide, cwd, env=None):
    """Run args with every folder in `hide` made unreachable: in a private
    mount namespace with an empty tmpfs over each (unshare, as root or in a
    user namespace).  Returns (rc, out, err, how), how = "namespace"; or
    None when no namespace can be made here."""
    probe = subprocess.run(["unshare", "--mount", "--map-root-user", "true"],
                           capture_output=True)
    if probe.returncode != 0:
        return None
    mounts = " && ".join("mount -t tmpfs none '%s'" % h for h in hide)
    script = '%s && exec "$@"' % mounts
    rc, out, err = run(["unshare", "--mount", "--map-root-user", "sh", "-c",
                        script, "sh"] + args, cwd=cwd, env=env)
    return rc, out, err, "namespace"


def traced_run(args, hide, cwd, env=None):
    """Run args under strace and fail for every file below a folder in
    `hide` that the program tries to open or stat."""
    log = os.path.join(cwd, "strace.log")
    # LeakSanitizer cannot run under ptrace
    env = dict(env or {}, ASAN_OPTIONS="detect_leaks=0")
    rc, out, err = run(["strace", "-f", "-qq", "-e", "trace=%file", "-o", log]
                       + args, cwd=cwd, env=env)
    touched = []
    for line in open(log, encoding="utf-8", errors="replace"):
        for h in hide:
            if '"%s/' % h in line or '"%s"' % h in line:
                touched.append(line.strip())
    check(not touched, "the installed program looked into the source tree:\n%s"
          % "\n".join(touched[:10]))
    return rc, out, err, "strace"


def group_install(a):
    root = os.path.realpath(ROOT)
    build = os.path.realpath(build_dir(a))
    hide = [root] if build.startswith(root + "/") else [root, build]
    tmp = tempfile.mkdtemp(prefix="banshi-install-")
    try:
        prefix = os.path.join(tmp, "prefix")
        if not install_prefix(a, prefix):
            return
        # the installed tree moved as a whole: nothing absolute inside it
        moved = os.path.join(tmp, "elsewhere", "opt")
        shutil.copytree(prefix, moved, symlinks=True)
        shutil.rmtree(prefix)
        check(os.path.isfile(os.path.join(moved, "share", "banshi", "schemas",
                                          "document.xsd")),
              "schemas installed under share/banshi")
        check(not os.path.exists(os.path.join(moved, "bin", "banshi-data")),
              "the build tree's data link is not installed")
        src = os.path.join(tmp, "report.xml")
        shutil.copy(EXAMPLE, src)
        want = os.path.join(tmp, "want.pdf")
        rc, out, err = run([a.banshi, "render", src, "-o", want])
        check(rc == 0, "build tree render: %d %s" % (rc, err))

        prog = os.path.join(moved, "bin", "banshi")
        # a BANSHI_DATA left over from a development tree does not matter
        env = {"BANSHI_DATA": "/nonexistent", "LD_LIBRARY_PATH": ""}
        args = [prog, "render", "report.xml", "-o", "got.pdf"]
        res = hidden_run(args, hide, tmp, env) or \
            traced_run(args, hide, tmp, env)
        rc, out, err, how = res
        check(rc == 0 and err == "", "installed render (%s): %d %s"
              % (how, rc, err))
        got = os.path.join(tmp, "got.pdf")
        check(os.path.exists(got) and
              open(got, "rb").read() == open(want, "rb").read(),
              "the installed program's PDF equals the build tree's")
        print("install: rendered with the source tree hidden (%s)" % how)

        # the program alone, away from its data: BANSHI_DATA names the data
        lone = os.path.join(tmp, "lone")
        os.makedirs(lone)
        for f in os.listdir(os.path.join(moved, "bin")):
            shutil.copy(os.path.join(moved, "bin", f), lone)
        data = os.path.join(moved, "share", "banshi")
        lprog = os.path.join(lone, "banshi")
        env2 = {"BANSHI_DATA": data}
        res = hidden_run([lprog, "validate", "report.xml"], hide, tmp, env2) \
            or traced_run([lprog, "validate", "report.xml"], hide, tmp, env2)
        check(res[0] == 0 and res[2] == "",
              "lone program with BANSHI_DATA: %d %s" % (res[0], res[2]))
        # and without it: exit 3, naming where the data was expected
        env3 = {"BANSHI_DATA": ""}
        res = hidden_run([lprog, "validate", "report.xml"], hide, tmp, env3) \
            or traced_run([lprog, "validate", "report.xml"], hide, tmp, env3)
        check(res[0] == 3 and "share/banshi" in res[2],
              "lone program without data: %d %s" % (res[0], res[2]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    # the build tree's program finds the source tree's data by itself
    rc, out, err = run([a.banshi, "validate", EXAMPLE], env={"BANSHI_DATA": ""})
    check(rc == 0 and err == "", "build tree without BANSHI_DATA: %d %s"
          % (rc, err))


GROUPS = {"install": group_install}
