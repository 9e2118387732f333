# SPDX-License-Identifier: Apache-2.0
"""Deployment test groups.

  install   `cmake --install` into a temporary prefix, the prefix copied
            elsewhere, the source and build trees hidden from the program
            (a private mount namespace with an empty folder over them, or,
            where namespaces are not allowed, strace proving that nothing
            below them is opened): the installed banshi renders the example
            to the same bytes as the build tree's; $BANSHI_DATA serves a
            program copied away from its data and is not needed otherwise.
  deb       dpkg-buildpackage builds the .deb from a copy of the tree; its
            contents and dependencies are checked, an install is simulated
            against the machine's package lists (every dependency resolves
            on Debian 12), and the package is unpacked with dpkg -x into a
            temporary root whose program renders the example with the
            source tree hidden; the packages of the libraries it loads
            with dlopen (t_lazy.py) are in Depends.  (Not installed onto
            the machine itself: several builds may share it, and dpkg's
            lock would serialise them; a fresh chroot needs a mirror and
            minutes.)
  slurm     the Slurm job array example of docs/batch.md, run as written
            (16 array tasks) on a single-node cluster the test starts
            (munged, slurmctld, slurmd on free ports, all files in a
            temporary folder): the shard logs name every source exactly
            once, the PDFs are those logged, and a whole batch afterwards
            renders nothing.  Skipped, with the reason, where the daemons
            are not installed or cannot start.
"""
import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time

from bstest import *  # noqa: F401,F403
from t_batch import make_sources, read_log, pdf_files


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
        # the public header only: the internal headers stay in the tree
        inc = os.path.join(moved, "include")
        got_inc = sorted(os.listdir(inc)) if os.path.isdir(inc) else []
        check(got_inc == ["banshi.h"], "installed include/: %s" % got_inc)
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

        # the library: examples/render.c built with the installed header,
        # library and pkg-config file (prefix as moved), run with the
        # source tree hidden; its PDF is the program's
        pcs = glob.glob(os.path.join(moved, "lib*", "**", "banshi.pc"), recursive=True)
        if check(pcs and shutil.which("pkg-config") and shutil.which("cc"),
                 "installed banshi.pc: %s" % pcs):
            penv = dict(os.environ, PKG_CONFIG_PATH=os.path.dirname(pcs[0]))
            p = subprocess.run(["pkg-config", "--define-prefix", "--cflags", "--libs",
                                "banshi"], capture_output=True, text=True, env=penv)
            incs = [f for f in p.stdout.split() if f.startswith("-I")]
            check(incs == ["-I" + inc], "pkg-config names include/ only: %s" % incs)
            exe = os.path.join(tmp, "render-example")
            so = glob.glob(os.path.join(moved, "lib*", "**", "libbanshi.so.0"), recursive=True)
            # a library built with the sanitizers needs them in the program
            san = ["-fsanitize=address,undefined"] if so and "__asan_init" in \
                run(["nm", "-D", so[0]])[1] else []
            cc = subprocess.run(["cc", os.path.join(ROOT, "examples", "render.c"), "-o", exe]
                                + san + p.stdout.split(), capture_output=True, text=True)
            if check(p.returncode == 0 and cc.returncode == 0,
                     "example with pkg-config: %s %s" % (p.stderr, cc.stderr)):
                libdir = os.path.dirname(glob.glob(os.path.join(
                    moved, "lib*", "**", "libbanshi.so.0"), recursive=True)[0])
                lenv = {"BANSHI_DATA": "", "LD_LIBRARY_PATH": libdir,
                        "SOURCE_DATE_EPOCH": "1700000000"}
                outdir = os.path.join(tmp, "lib-out")
                os.makedirs(outdir)
                args = [exe, "report.xml", outdir]
                res = hidden_run(args, hide, tmp, lenv) or traced_run(args, hide, tmp, lenv)
                ref = os.path.join(tmp, "ref-epoch.pdf")
                run([a.banshi, "render", src, "-o", ref], env={"SOURCE_DATE_EPOCH": "1700000000"})
                lpdf = os.path.join(outdir, "1.pdf")
                check(res[0] == 0 and os.path.exists(lpdf) and
                      open(lpdf, "rb").read() == open(ref, "rb").read(),
                      "installed library (%s): %d %s %s" % (res[3], res[0], res[1], res[2]))
                print("install: examples/render.c built with pkg-config, rendered with "
                      "the installed library (%s)" % res[3])

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


def copy_tree(dst):
    """The source tree as a checkout has it: tracked and new files, no
    build folders."""
    os.makedirs(dst)
    rc, out, err = run(["git", "-C", ROOT, "ls-files", "-co",
                        "--exclude-standard", "-z"])
    if rc == 0:
        for rel in out.split("\0"):
            if not rel or not os.path.lexists(os.path.join(ROOT, rel)):
                continue
            os.makedirs(os.path.join(dst, os.path.dirname(rel)), exist_ok=True)
            shutil.copy2(os.path.join(ROOT, rel), os.path.join(dst, rel),
                         follow_symlinks=False)
        return
    shutil.rmtree(dst)
    shutil.copytree(ROOT, dst, symlinks=True, ignore=shutil.ignore_patterns(
        "build*", "out", ".git"))


def deb_contents(deb):
    rc, out, err = run(["dpkg-deb", "-c", deb])
    return [line.split()[-1].lstrip(".") for line in out.splitlines()
            if line.split()]


def build_depends():
    """Package names of debian/control's Build-Depends."""
    text = open(os.path.join(ROOT, "debian", "control"), encoding="utf-8").read()
    m = re.search(r"^Build-Depends:(.*?)^\S", text, re.S | re.M)
    return [re.match(r"\s*([a-z0-9.+-]+)", d).group(1)
            for d in m.group(1).split(",") if d.strip()]


def group_deb(a):
    # The Containerfile (which no engine here can build) installs what the
    # package build needs: at least it does not drift from debian/control.
    cf = open(os.path.join(ROOT, "Containerfile"), encoding="utf-8").read()
    for dep in build_depends():
        if dep != "debhelper-compat":
            check(re.search(r"\s%s\s" % re.escape(dep), cf),
                  "Containerfile does not install Build-Depends %s" % dep)
    for tool in ("dpkg-buildpackage", "dh", "dpkg-deb"):
        if not check(shutil.which(tool), "%s missing (sh build.sh deps)" % tool):
            return
    tmp = tempfile.mkdtemp(prefix="banshi-deb-")
    try:
        src = os.path.join(tmp, "banshi")
        copy_tree(src)
        t0 = time.time()
        p = subprocess.run(["dpkg-buildpackage", "-b", "-us", "-uc"],
                           cwd=src, capture_output=True, text=True,
                           env=dict(os.environ, DEB_BUILD_OPTIONS="parallel=%d"
                                    % (os.cpu_count() or 2)))
        secs = time.time() - t0
        if not check(p.returncode == 0, "dpkg-buildpackage: %d\n%s"
                     % (p.returncode, (p.stdout + p.stderr)[-4000:])):
            return
        debs = sorted(f for f in os.listdir(tmp) if f.endswith(".deb")
                      and "dbgsym" not in f)
        print("dpkg-buildpackage: %.0f s, %s" % (secs, " ".join(debs)))
        deb = os.path.join(tmp, [d for d in debs if d.startswith("banshi_")][0])
        files = deb_contents(deb)
        for want in ("/usr/bin/banshi", "/usr/share/banshi/schemas/document.xsd",
                     "/usr/share/banshi/templates/gbt9704.xml",
                     "/usr/share/banshi/fonts/default.map",
                     "/usr/share/banshi/collation/pinyin-places.txt",
                     "/usr/share/doc/banshi/copyright",
                     "/usr/share/man/man1/banshi.1.gz",
                     "/usr/share/bash-completion/completions/banshi",
                     "/usr/include/banshi.h"):
            check(want in files, "%s not in the package" % want)
        check(not any("banshi-data" in f for f in files),
              "the build tree's data link is not packaged")
        rc, deps, err = run(["dpkg-deb", "-f", deb, "Depends"])
        for want in ("libxml2", "libicu", "libhpdf", "libharfbuzz",
                     "fonts-noto-cjk", "fonts-lxgw-wenkai",
                     "fonts-arphic-gbsn00lp", "fonts-wqy-zenhei",
                     "icc-profiles-free"):
            check(want in deps, "Depends lacks %s: %s" % (want, deps))
        # the build folder's path is nowhere in the program
        blob = open(os.path.join(src, "debian", "banshi", "usr", "bin",
                                 "banshi"), "rb").read()
        check(src.encode() not in blob, "the build path is in the program")
        # every dependency resolves against Debian 12's packages
        rc, out, err = run(["apt-get", "install", "--simulate", "-q", deb])
        check(rc == 0 and "Inst banshi" in out,
              "simulated install: %d\n%s%s" % (rc, out[-2000:], err))
        # unpacked into a temporary root and run from there
        root = os.path.join(tmp, "root")
        rc, out, err = run(["dpkg-deb", "-x", deb, root])
        check(rc == 0, "dpkg-deb -x: %s" % err)
        shutil.copy(EXAMPLE, os.path.join(tmp, "report.xml"))
        prog = os.path.join(root, "usr", "bin", "banshi")
        hide = [os.path.realpath(ROOT), src]
        args = [prog, "render", "report.xml", "-o", "report.pdf"]
        env = {"BANSHI_DATA": "/nonexistent"}
        rc, out, err, how = hidden_run(args, hide, tmp, env) or \
            traced_run(args, hide, tmp, env)
        check(rc == 0 and err == "", "packaged render (%s): %d %s"
              % (how, rc, err))
        rc, text, err = run(["pdftotext", os.path.join(tmp, "report.pdf"), "-"])
        check("政府信息公开工作年度报告" in text and "荔湾区应急管理局" in text,
              "packaged program's PDF text: %r" % text[:200])
        rc, out, err = run(["qpdf", "--check", os.path.join(tmp, "report.pdf")])
        check(rc == 0, "qpdf --check: %s" % out[-500:])
        # the libraries loaded with dlopen (pipeline/dynlib.h), which
        # dpkg-shlibdeps cannot see: the package of each is in Depends
        from t_lazy import LAZY, needing, traced
        loaded = {}
        for what, args, libs in needing(prog, tmp):
            rc, out, err, seen = traced(args, cwd=tmp, env=env)
            check(rc == 0, "packaged program, %s: %d %s" % (what, rc, err))
            loaded.update(seen)
        check(len(loaded) == len(LAZY), "loaded with dlopen: %s" % loaded)
        names = [d.strip().split()[0] for d in deps.split(",")]
        for so in sorted(loaded):
            rc, out, err = run(["dpkg", "-S", "*/" + so])
            pkg = out.split(":")[0] if rc == 0 else "?"
            check(pkg in names, "Depends lacks %s, whose %s the program "
                  "loads: %s" % (pkg, so, deps))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


GROUPS = {"install": group_install, "deb": group_deb}


# ---------------------------------------------------------------------------
# slurm

def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def slurm_script():
    """The Slurm job array example of docs/batch.md, as written there."""
    text = open(os.path.join(ROOT, "docs", "batch.md"), encoding="utf-8").read()
    m = re.search(r"Slurm job array.*?```sh\n(.*?)```", text, re.S)
    return m.group(1) if m else None


class Cluster:
    """A single-node Slurm cluster of its own: munged, slurmctld and slurmd
    on free ports, with every file in `d`."""

    def __init__(self, d):
        self.d = d
        self.procs = []
        self.host = socket.gethostname().split(".")[0]

    def start(self):
        """Start the daemons; returns None, or why the cluster cannot run."""
        d = self.d
        for tool in ("munged", "slurmctld", "slurmd", "sbatch", "sinfo"):
            if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
                return "%s is not installed (Debian packages slurm-wlm, munge)" % tool
        m = os.path.join(d, "munge")
        os.makedirs(m, mode=0o700)
        for sub in ("state", "spool", "log"):
            os.makedirs(os.path.join(d, sub))
        key = os.path.join(m, "munge.key")
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o600)
        self.sock = os.path.join(m, "socket")
        self.spawn(["munged", "--foreground", "--force", "--key-file=" + key,
                    "--socket=" + self.sock, "--pid-file=" + m + "/pid",
                    "--log-file=" + m + "/log", "--seed-file=" + m + "/seed"],
                   "munged")
        if not self.wait(lambda: os.path.exists(self.sock), 20):
            return "munged did not start: %s" % self.tail("munged")
        ctld, slurmd = free_ports(2)
        user = pwd.getpwuid(os.getuid()).pw_name
        self.conf = os.path.join(d, "slurm.conf")
        with open(self.conf, "w") as f:
            f.write("""ClusterName=banshitest
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld}
SlurmdPort={slurmd}
SlurmUser={user}
SlurmdUser={user}
AuthType=auth/munge
AuthInfo=socket={sock}
CredType=cred/munge
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/log/slurmctld.log
SlurmdLogFile={d}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
# the node offers 64 CPUs whatever the machine has, so that the example's
# 16 tasks of 4 CPUs each run at once
SlurmdParameters=config_overrides
ReturnToService=2
NodeName={host} NodeAddr=127.0.0.1 CPUs=64 RealMemory=1000 State=UNKNOWN
PartitionName=banshi Nodes=ALL Default=YES MaxTime=INFINITE State=UP
""".format(host=self.host, ctld=ctld, slurmd=slurmd, user=user,
           sock=self.sock, d=d))
        self.env = {"SLURM_CONF": self.conf}
        self.spawn(["slurmctld", "-D", "-f", self.conf], "slurmctld")
        self.spawn(["slurmd", "-D", "-f", self.conf], "slurmd")

        def idle():
            rc, out, err = run(["sinfo", "-h", "-o", "%t"], env=self.env)
            return rc == 0 and out.strip() == "idle"
        if not self.wait(idle, 60):
            return ("the Slurm daemons did not bring the node up within 60 s: "
                    "slurmctld: %s; slurmd: %s"
                    % (self.tail("slurmctld"), self.tail("slurmd")))
        return None

    def spawn(self, args, name):
        exe = shutil.which(args[0]) or "/usr/sbin/" + args[0]
        out = open(os.path.join(self.d, "log", name + ".out"), "w")
        self.procs.append(subprocess.Popen(
            [exe] + args[1:], stdout=out, stderr=subprocess.STDOUT,
            env=dict(os.environ, SLURM_CONF=os.path.join(self.d, "slurm.conf")),
            start_new_session=True))

    def wait(self, cond, secs):
        end = time.time() + secs
        while time.time() < end:
            if cond():
                return True
            if any(p.poll() is not None for p in self.procs):
                return False
            time.sleep(0.5)
        return False

    def tail(self, name):
        p = os.path.join(self.d, "log", name + ".out")
        lines = open(p, errors="replace").read().splitlines() \
            if os.path.exists(p) else []
        err = [line for line in lines if "error" in line.lower()]
        return " | ".join((err or lines)[-3:]) or "no output"

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def group_slurm(a):
    script = slurm_script()
    if not check(script and "--shard" in script,
                 "docs/batch.md has no Slurm job array example"):
        return
    tmp = tempfile.mkdtemp(prefix="banshi-slurm-")
    cluster = Cluster(tmp)
    try:
        why = cluster.start()
        if why:
            skip("no single-node Slurm cluster could be started here: " + why)
        reports = os.path.join(tmp, "reports")
        out = os.path.join(tmp, "out")
        n = 40
        make_sources(reports, n)
        job = os.path.join(tmp, "job.sh")
        with open(job, "w") as f:
            f.write(script.replace("/shared/reports", reports)
                    .replace("/shared/out", out))
        shards = int(re.search(r"--array=0-(\d+)", script).group(1)) + 1
        env = dict(cluster.env, PATH=os.path.dirname(os.path.abspath(a.banshi))
                   + os.pathsep + os.environ.get("PATH", ""))
        t0 = time.time()
        rc, so, se = run(["sbatch", "--wait", "--job-name=banshi-test",
                          "--output=" + os.path.join(tmp, "log", "task-%a.out"),
                          job], env=env)
        secs = time.time() - t0
        check(rc == 0, "sbatch --wait: %d %s%s" % (rc, so, se))
        print("slurm: %d array tasks, %d sources, %.1f s" % (shards, n, secs))
        logs = sorted(f for f in os.listdir(out) if f.endswith(".jsonl"))
        check(len(logs) == shards, "shard logs: %s" % logs)
        seen = []
        for k in range(shards):
            lp = os.path.join(out, "banshi-batch.%d-of-%d.jsonl" % (k, shards))
            if not check(os.path.exists(lp), "no log of shard %d" % k):
                continue
            recs, summary = read_log(lp)
            check(summary and summary["shard"] == "%d/%d" % (k, shards)
                  and summary["failed"] == 0 and summary["invalid"] == 0,
                  "shard %d summary: %r" % (k, summary))
            seen += [os.path.relpath(r["output"], out) for r in recs]
            tl = os.path.join(tmp, "log", "task-%d.out" % k)
            check(os.path.exists(tl), "array task %d left no output" % k)
        # every source exactly once across the shards, and nothing else
        check(len(seen) == n and len(set(seen)) == n,
              "shards logged %d outputs, %d distinct, of %d sources"
              % (len(seen), len(set(seen)), n))
        check(set(pdf_files(out)) == set(seen),
              "PDFs written differ from those logged")
        # the whole batch after the shards: nothing left to do
        rc, _, err = run([a.banshi, "batch", reports, "-o", out, "--lang", "en"])
        check(rc == 0 and "0 written, %d up to date" % n in err,
              "after the shards: %s" % err[-300:])
    finally:
        cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)


GROUPS["slurm"] = group_slurm
