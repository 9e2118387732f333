# SPDX-License-Identifier: Apache-2.0
"""Faults and hostile files around the documents (issues 15 and 17): every
input checked before it is read, outputs that would overwrite inputs, names
that would inject fields, crashes of one document in a batch.

  faults_inputs  FIFOs, devices, folders, /proc files and a 2 GB sparse file
                 as sources, last year's sources, figures, font maps and
                 manifests, in render, validate, convert, batch and archive:
                 refused at once (well under a second each) with a message
                 naming the file and what it is, never read or hashed; a
                 manifest from /dev/zero (a device: refused) or from a pipe
                 that never ends (bounded: the first NUL stops it, exit 3,
                 also under a 1 GB address-space limit); SIGTERM ends a
                 batch within a second.
  faults_clobber every command asked to write one of its inputs (or a link
                 to one) refuses with exit 3 and leaves the input untouched.
  faults_names   names with line breaks, controls and invalid UTF-8 in
                 stamps and logs; SIGPIPE; the PDF's digest in the stamp;
                 option order of archive --verify.
  faults_crash   (test builds) a document that crashes its worker (SIGSEGV,
                 abort) is logged failed with the signal, the batch goes on,
                 exit 3; a rerun renders it again.
"""
import json
import os
import resource
import signal
import subprocess
import time

from bstest import *  # noqa: F401,F403
from t_batch import fresh, make_sources, read_log, pdf_files, is_asan  # noqa: F401

FAST = 2.0  # seconds: "at once", with room for a loaded machine and ASan
# seconds: a manifest that never ends (a device, an endless pipe) must still
# end the batch by itself.  It takes 2-4 s under ASan (the batch reads its
# bound of lines first); the bound tells "ends" from "hangs", with room for
# a machine shared with other work, where the same run once took 12 s.
ENDS = 60.0


def timed(args, stdin=None, cwd=None, timeout=30, preexec=None):
    t = time.monotonic()
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                       stdin=stdin, cwd=cwd, preexec_fn=preexec)
    return p.returncode, p.stderr, time.monotonic() - t


def hostile_files(w):
    """name -> (path, what the message must say)."""
    fifo = os.path.join(w, "pipe.xml")
    if not os.path.exists(fifo):
        os.mkfifo(fifo)
    sparse = os.path.join(w, "sparse.xml")
    with open(sparse, "wb") as f:
        f.truncate(2 * 1024 ** 3)
    folder = os.path.join(w, "folder.xml")
    os.makedirs(folder, exist_ok=True)
    return {
        "fifo": (fifo, "not a regular file"),
        "device": ("/dev/zero", "not a regular file"),
        "folder": (folder, "not a regular file"),
        "proc": ("/proc/self/status", "/proc or /sys"),
        "sparse": (sparse, "64 MiB"),
    }


def group_faults_inputs(a):
    w = fresh(a, "faults_inputs")
    files = hostile_files(w)
    good = os.path.join(w, "good.xml")
    shutil.copy(EXAMPLE, good)
    en = ["--lang", "en"]

    # sources of render, validate and convert
    for name, (path, says) in files.items():
        for cmd in (["render", path, "-o", os.path.join(w, "o.pdf")],
                    ["validate", path],
                    ["convert", path, "-o", os.path.join(w, "o-core.xml")]):
            rc, err, secs = timed([a.banshi] + cmd + en)
            check(rc in (1, 3) and secs < FAST and says in err,
                  "%s source %s: rc %d in %.2f s: %s" % (cmd[0], name, rc,
                                                         secs, err[-300:]))
        # last year's source and the font map
        rc, err, secs = timed([a.banshi, "render", good, "--previous", path,
                               "-o", os.path.join(w, "o.pdf")] + en)
        check(rc in (1, 3) and secs < FAST,
              "render --previous %s: rc %d in %.2f s" % (name, rc, secs))
        rc, err, secs = timed([a.banshi, "render", good, "--fonts", path,
                               "-o", os.path.join(w, "o.pdf")] + en)
        check(rc == 3 and secs < FAST and path in err,
              "render --fonts %s: rc %d in %.2f s: %s" % (name, rc, secs,
                                                          err[-300:]))
    check(not os.path.exists(os.path.join(w, "o.pdf")),
          "a PDF was written from a hostile input")

    # figures: the same files named by <figure src>
    figs = os.path.join(w, "figs")
    os.makedirs(figs, exist_ok=True)
    os.link(files["sparse"][0], os.path.join(figs, "sparse.png")) \
        if not os.path.exists(os.path.join(figs, "sparse.png")) else None
    if not os.path.exists(os.path.join(figs, "pipe.png")):
        os.mkfifo(os.path.join(figs, "pipe.png"))
    os.makedirs(os.path.join(figs, "dir.png"), exist_ok=True)
    body = "".join('<figure src="%s"><caption>图</caption></figure>' % s
                   for s in ("pipe.png", "sparse.png", "dir.png"))
    fsrc = os.path.join(figs, "figs.xml")
    write_source(fsrc, "<p>图片。</p>" + body)
    for cmd in (["validate", fsrc], ["render", fsrc, "-o",
                                     os.path.join(w, "f.pdf")]):
        rc, err, secs = timed([a.banshi] + cmd + en)
        check(rc == 1 and secs < FAST and "pipe.png" in err and
              "not a regular file" in err and "sparse.png" in err,
              "%s with hostile figures: rc %d in %.2f s: %s" % (
                  cmd[0], rc, secs, err[-600:]))

    # batch: every kind in one manifest, and the figures' source
    man = os.path.join(w, "manifest.txt")
    with open(man, "w") as f:
        f.write(good + "\n" + fsrc + "\n")
        for path, _ in files.values():
            f.write(path + "\n")
        f.write(good + "\t" + files["fifo"][0] + "\n")
    out = os.path.join(w, "out")
    rc, err, secs = timed([a.banshi, "batch", man, "-o", out, "-j", "2"] + en,
                          timeout=120)
    check(rc == 3 and secs < 10, "batch of hostile inputs: rc %d in %.1f s: %s"
          % (rc, secs, err[-800:]))
    recs, summary = read_log(os.path.join(out, "banshi-batch.jsonl"))
    by = {r["source"]: r for r in recs}
    check(by.get(good, {}).get("status") == "ok", "the good source: %r" %
          by.get(good))
    for name, (path, says) in files.items():
        if name == "folder":
            continue  # a folder in a manifest stands for its sources
        r = by.get(path)
        check(r is not None and r["status"] in ("failed", "invalid") and
              says in " ".join(r["diagnostics"]) and r["time"] < FAST,
              "batch source %s: %r" % (name, r))

    # manifests that never end or are no text
    for name, stdin_cmd in (("device", None), ("zero-pipe", "cat /dev/zero"),
                            ("noise-pipe", "yes")):
        o = os.path.join(w, "out-" + name)
        if stdin_cmd is None:
            rc, err, secs = timed([a.banshi, "batch", "/dev/zero", "-o", o] + en,
                                  timeout=2 * ENDS)
        else:
            feeder = subprocess.Popen(["sh", "-c", stdin_cmd],
                                      stdout=subprocess.PIPE)

            def limit():
                resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
            rc, err, secs = timed([a.banshi, "batch", "-", "-o", o] + en,
                                  stdin=feeder.stdout, timeout=2 * ENDS,
                                  preexec=None if is_asan(a.banshi) else limit)
            feeder.stdout.close()
            feeder.kill()
            feeder.wait()
        check(rc == 3 and secs < ENDS and ("manifest" in err or
                                          "not a regular file" in err),
              "manifest %s: rc %d in %.1f s: %s" % (name, rc, secs, err[-300:]))
        check(rc != 0, "manifest %s accepted (exit 0)" % name)

    # a FIFO manifest with a writer that writes a line and stays open: the
    # batch waits for the rest (a pipe is a manifest) but SIGTERM ends it
    fm = os.path.join(w, "man.fifo")
    if not os.path.exists(fm):
        os.mkfifo(fm)
    proc = subprocess.Popen([a.banshi, "batch", fm, "-o",
                             os.path.join(w, "out-fifo")] + en,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wfd = os.open(fm, os.O_WRONLY)
    os.write(wfd, (good + "\n").encode())
    time.sleep(0.3)
    t = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    os.close(wfd)
    check(time.monotonic() - t < 1.0 and proc.returncode != 0,
          "SIGTERM while reading a manifest: rc %s after %.2f s" % (
              proc.returncode, time.monotonic() - t))

    # SIGTERM during a batch ends it within a second, log written
    src = os.path.join(w, "many")
    make_sources(src, 200)
    o = os.path.join(w, "out-term")
    proc = subprocess.Popen([a.banshi, "batch", src, "-o", o, "-j", "2"] + en,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    while proc.poll() is None and len(pdf_files(o) if os.path.isdir(o) else {}) < 5:
        time.sleep(0.005)
    t = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    secs = time.monotonic() - t
    check(secs < 1.0 and proc.returncode == 128 + signal.SIGTERM,
          "SIGTERM: rc %s after %.2f s" % (proc.returncode, secs))
    check(os.path.exists(os.path.join(o, "banshi-batch.jsonl")),
          "no log after SIGTERM")
    print("faults_inputs: SIGTERM ended the batch in %.2f s" % secs)


def group_faults_clobber(a):
    """Issue 17 item 1: before the fix, convert, render --previous and
    batch --log replaced an input with exit 0."""
    w = fresh(a, "faults_clobber")
    en = ["--lang", "en"]
    src = os.path.join(w, "a.xml")
    last = os.path.join(w, "last.xml")
    fonts = os.path.join(w, "fonts.map")
    shutil.copy(EXAMPLE, src)
    shutil.copy(EXAMPLE, last)
    with open(fonts, "w") as f:
        f.write("# no roles replaced\n")
    fig = os.path.join(w, "logo.png")
    shutil.copy(os.path.join(HERE, "cases", "figures", "gray.png"), fig)
    figsrc = os.path.join(w, "fig.xml")
    write_source(figsrc, '<p>图。</p><figure src="logo.png"><caption>图</caption></figure>')
    ind = os.path.join(w, "in")
    make_sources(ind, 3, flat=True)
    man = os.path.join(w, "manifest.txt")
    with open(man, "w") as f:
        f.write("in/r0000.xml\nin/r0001.xml\n")
    for name, target in (("link-src.pdf", src), ("link-last.pdf", last),
                         ("link-man.jsonl", man), ("link-r1.pdf",
                                                  os.path.join(ind, "r0001.xml"))):
        p = os.path.join(w, name)
        if not os.path.lexists(p):
            os.symlink(target, p)
    hard = os.path.join(w, "hard.pdf")
    if not os.path.exists(hard):
        os.link(src, hard)

    def snapshot():
        out = {}
        for p in (src, last, fonts, fig, man) + tuple(
                os.path.join(ind, f) for f in sorted(os.listdir(ind))
                if f.endswith(".xml")):
            with open(p, "rb") as f:
                out[p] = f.read()
        return out
    before = snapshot()
    cases = [
        ("convert onto its source", ["convert", src, "-o", src]),
        ("convert onto last year's", ["convert", src, "--previous", last, "-o", last]),
        ("convert onto a link to the source", ["convert", src, "-o",
                                               os.path.join(w, "link-src.pdf")]),
        ("render onto its source", ["render", src, "-o", src]),
        ("render onto a hard link", ["render", src, "-o", hard]),
        ("render onto a link", ["render", src, "-o", os.path.join(w, "link-src.pdf")]),
        ("render onto last year's", ["render", src, "--previous", last, "-o", last]),
        ("render onto a link to last year's", ["render", src, "--previous", last,
                                               "-o", os.path.join(w, "link-last.pdf")]),
        ("render onto the font map", ["render", src, "--fonts", fonts, "-o", fonts]),
        ("render onto a figure", ["render", figsrc, "-o", fig]),
        ("dump onto the source", ["render", src, "-o", os.path.join(w, "x.pdf"),
                                  "--dump", src]),
        ("dump onto last year's", ["render", src, "--previous", last, "--dump", last]),
        ("batch log onto a source", ["batch", ind, "-o", os.path.join(w, "o1"),
                                     "--log", os.path.join(ind, "r0001.xml")]),
        ("batch log onto the manifest", ["batch", man, "-o", os.path.join(w, "o2"),
                                         "--log", man]),
        ("batch log onto a link to the manifest", [
            "batch", man, "-o", os.path.join(w, "o3"), "--log",
            os.path.join(w, "link-man.jsonl")]),
        ("batch log onto the font map", ["batch", ind, "-o", os.path.join(w, "o4"),
                                         "--fonts", fonts, "--log", fonts]),
        ("archive onto a source", ["archive", os.path.join(w, "o0"), "-o", src]),
    ]
    rc, _, err = run([a.banshi, "batch", ind, "-o", os.path.join(w, "o0")])
    check(rc == 0, "reference batch: %d %s" % (rc, err[-300:]))
    for name, args in cases:
        rc, _, err = run([a.banshi] + args + en)
        check(rc == 3 and ("is the input" in err or "exists" in err),
              "%s: rc %d: %s" % (name, rc, err[-300:]))
    # a PDF of a batch that would replace another item's source (through a
    # link placed at its output name): that item fails, the others go on
    out = os.path.join(w, "o5")
    os.makedirs(out, exist_ok=True)
    if not os.path.lexists(os.path.join(out, "r0002.pdf")):
        os.symlink(os.path.join(ind, "r0000.xml"), os.path.join(out, "r0002.pdf"))
    rc, _, err = run([a.banshi, "batch", ind, "-o", out] + en)
    recs, summary = read_log(os.path.join(out, "banshi-batch.jsonl"))
    st = {os.path.basename(r["source"]): r["status"] for r in recs}
    check(rc == 3 and st == {"r0000.xml": "ok", "r0001.xml": "ok",
                             "r0002.xml": "failed"},
          "batch PDF onto another source: rc %d %r %s" % (rc, st, err[-300:]))
    after = snapshot()
    for p in before:
        check(before[p] == after[p], "%s was changed" % p)


def group_faults_crash(a):
    """Crash isolation in batch (issue 15): a worker that crashes costs only
    its document; signals end a batch within a second; SIGPIPE does not."""
    w = fresh(a, "faults_crash")
    en = ["--lang", "en"]
    asan = is_asan(a.banshi)
    src = os.path.join(w, "src")
    n = 30
    make_sources(src, n)
    ref = os.path.join(w, "ref")
    rc, _, err = run([a.banshi, "batch", src, "-o", ref, "-j", "2"])
    check(rc == 0, "reference batch: %d %s" % (rc, err[-300:]))
    reference = {rel: open(p, "rb").read() for rel, p in pdf_files(ref).items()}
    kinds = [("segv", signal.SIGSEGV, "dept-0007"), ("abort", signal.SIGABRT, "dept-0011")]
    if not asan:  # an address-space limit and ASan's shadow memory do not mix
        kinds.append(("oom", signal.SIGABRT, "dept-0023"))
    for kind, sig, victim in kinds:
        out = os.path.join(w, "out-" + kind)
        rc, _, err = run([a.banshi, "batch", src, "-o", out, "-j", "2"] + en,
                         env={"BANSHI_TEST_CRASH": "%s:%s/" % (kind, victim)})
        check(rc == 3, "%s: exit %d, want 3: %s" % (kind, rc, err[-500:]))
        recs, summary = read_log(os.path.join(out, "banshi-batch.jsonl"))
        bad = [r for r in recs if r["status"] != "ok"]
        check(len(bad) == 1 and victim in bad[0]["source"] and
              bad[0]["status"] == "failed" and
              "ended" in " ".join(bad[0]["diagnostics"]),
              "%s: not-ok records %r" % (kind, bad))
        if bad and not (asan and kind == "segv"):
            # ASan turns a SIGSEGV into its report and exit status 1
            check(bad[0].get("signal") == sig,
                  "%s: signal %r, want %d" % (kind, bad[0].get("signal"), sig))
        check(summary["ok"] == n - 1 and summary["failed"] == 1,
              "%s: summary %r" % (kind, summary))
        got = pdf_files(out)
        check(len(got) == n - 1 and all(open(p, "rb").read() == reference[r]
                                        for r, p in got.items()),
              "%s: the other PDFs differ from a clean run" % kind)
        temps = [f for _, _, fs in os.walk(out) for f in fs if f.endswith(".tmp")]
        check(not temps, "%s: temporaries left: %s" % (kind, temps))
        # the rerun renders the crashed document and nothing else
        rc, _, err = run([a.banshi, "batch", src, "-o", out, "-j", "2"] + en)
        recs, summary = read_log(os.path.join(out, "banshi-batch.jsonl"))
        check(rc == 0 and summary["ok"] == 1 and summary["up_to_date"] == n - 1,
              "%s: rerun rc %d %r" % (kind, rc, summary))
        got = pdf_files(out)
        check(len(got) == n and all(open(p, "rb").read() == reference[r]
                                    for r, p in got.items()),
              "%s: after the rerun the PDFs differ from a clean run" % kind)
    # every worker crashes: each document failed, the batch still ends
    out = os.path.join(w, "out-all")
    rc, _, err = run([a.banshi, "batch", src, "-o", out, "-j", "2"] + en,
                     env={"BANSHI_TEST_CRASH": "abort:/dept-"})
    recs, summary = read_log(os.path.join(out, "banshi-batch.jsonl"))
    check(rc == 3 and summary["failed"] == n, "all crash: rc %d %r" % (rc, summary))

    # SIGTERM with a document that takes a minute: ended within a second,
    # that document logged as not run, nothing half-written
    for sig in (signal.SIGTERM, signal.SIGINT):
        o = os.path.join(w, "out-slow-%d" % sig)
        proc = subprocess.Popen([a.banshi, "batch", src, "-o", o, "-j", "2"] + en,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True, env=dict(os.environ,
                                                    BANSHI_TEST_CRASH="sleep:dept-0005/"))
        while proc.poll() is None and len(pdf_files(o) if os.path.isdir(o) else {}) < 8:
            time.sleep(0.005)
        t = time.monotonic()
        proc.send_signal(sig)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        secs = time.monotonic() - t
        err = proc.stderr.read()
        check(secs < 1.0 and proc.returncode == 128 + sig,
              "signal %d with a slow document: rc %s after %.2f s" % (
                  sig, proc.returncode, secs))
        recs, summary = read_log(os.path.join(o, "banshi-batch.jsonl"))
        slow = [r for r in recs if "dept-0005/" in r["source"]]
        check(summary["interrupted"] and slow and slow[0]["status"] == "not-run",
              "signal %d: %r %r" % (sig, summary, slow))
        print("faults_crash: signal %d ended the batch in %.2f s" % (sig, secs))
        time.sleep(0.2)
        left = subprocess.run(["pgrep", "-f", o], capture_output=True, text=True).stdout
        check(not left.strip(), "workers left running: %s" % left)

    # SIGPIPE: standard error's reader goes away; the batch goes on and
    # writes its log (before: exit 141, no log)
    o = os.path.join(w, "out-pipe")
    r, wfd = os.pipe()
    proc = subprocess.Popen([a.banshi, "batch", src, "-o", o, "-j", "2"] + en,
                            stdout=wfd, stderr=wfd)
    os.close(wfd)
    os.close(r)
    proc.wait(timeout=120)
    check(proc.returncode == 0, "batch with a closed stderr: rc %d" % proc.returncode)
    recs, summary = read_log(os.path.join(o, "banshi-batch.jsonl"))
    check(summary["ok"] == n, "batch with a closed stderr: %r" % summary)


def group_faults_names(a):
    """Issue 17 item 7 and the smaller list: names in stamps and logs,
    control characters, invalid UTF-8, the PDF's digest, temporaries of
    other PID namespaces, archive --verify's option order."""
    import fcntl
    w = fresh(a, "faults_names")
    en = ["--lang", "en"]
    wb = os.fsencode(w)
    # a folder whose name injects a stamp field: a line break, then an
    # image line (before: archive then failed for the whole folder)
    evil = os.path.join(wb, b"dept\nimage " + b"0" * 64 + b" injected.png")
    os.makedirs(evil, exist_ok=True)
    src = os.path.join(evil, b"report.xml")
    shutil.copy(EXAMPLE, src)
    good = os.path.join(w, "good.xml")
    shutil.copy(EXAMPLE, good)
    # a file name that is not UTF-8
    latin = os.path.join(wb, b"r\xe9sum\xe9.xml")
    shutil.copy(EXAMPLE, latin)
    out = os.path.join(w, "out")
    p = subprocess.run([os.fsencode(a.banshi), b"batch", src, os.fsencode(good), latin,
                        b"-o", os.fsencode(out)] + [x.encode() for x in en],
                       capture_output=True)
    check(p.returncode == 0, "batch of odd names: rc %d %s" % (p.returncode, p.stderr[-400:]))
    stamps = os.path.join(out, ".banshi")
    for f in os.listdir(stamps):
        lines = open(os.path.join(stamps, f), "rb").read().split(b"\n")
        check(not any(l.startswith(b"image ") for l in lines),
              "%s: a name injected a stamp line: %r" % (f, lines[:4]))
        check(lines[0] == b"banshi-stamp 2" and any(l.startswith(b"pdf-sha256 ") for l in lines),
              "%s: stamp version or PDF digest missing" % f)
    with open(os.path.join(out, "banshi-batch.jsonl"), "rb") as f:
        raw = f.read()
    check(b"\xef\xbf\xbd" not in raw, "U+FFFD in the log instead of the bytes")
    recs = [json.loads(l) for l in raw.decode("utf-8").splitlines() if l.strip()]
    names = {os.fsencode(r["source"]) for r in recs if "source" in r}
    check(latin in names and src in names,
          "log names do not give back the file names' bytes: %r" % names)
    bag = os.path.join(w, "bag")
    rc, _, err = run([a.banshi, "archive", out, "-o", bag] + en)
    check(rc == 0, "archive after odd names: rc %d %s" % (rc, err[-400:]))
    packed = [f for _, _, fs in os.walk(bag) for f in fs]
    check(not any("injected" in f for f in packed), "an injected image was packed")
    # archive --verify with the options first
    rc, _, err = run([a.banshi, "archive", "--verify", "--lang", "en", bag])
    check(rc == 0 and "valid" in err, "archive --verify --lang en BAG: rc %d %s" % (rc, err[-300:]))

    # output names with a control character: refused, the others go on
    ctl = os.path.join(w, "ctl")
    os.makedirs(ctl, exist_ok=True)
    shutil.copy(EXAMPLE, os.path.join(ctl, "a.xml"))
    shutil.copy(EXAMPLE, os.path.join(ctl, "b\nc.xml"))
    shutil.copy(EXAMPLE, os.path.join(ctl, "d\x1be.xml"))
    o2 = os.path.join(w, "out-ctl")
    rc, _, err = run([a.banshi, "batch", ctl, "-o", o2] + en)
    recs, summary = read_log(os.path.join(o2, "banshi-batch.jsonl"))
    st = sorted((os.path.basename(r["source"]), r["status"]) for r in recs)
    check(rc == 3 and st == [("a.xml", "ok"), ("b\nc.xml", "failed"),
                             ("d\x1be.xml", "failed")] and "control character" in err,
          "control characters in output names: rc %d %r %s" % (rc, st, err[-300:]))
    check(sorted(pdf_files(o2)) == ["a.pdf"], "PDFs with control names: %r" % pdf_files(o2))

    # a PDF damaged in place, its size kept: archive refuses it, a rerun of
    # batch renders it again (before: up to date, archived as valid)
    pdf = os.path.join(out, "good.pdf")
    data = bytearray(open(pdf, "rb").read())
    data[len(data) // 2] ^= 0xFF
    with open(pdf, "r+b") as f:
        f.write(data)
    rc, _, err = run([a.banshi, "archive", out, "-o", os.path.join(w, "bag2")] + en)
    check(rc != 0 and "differs from its batch record" in err,
          "archive of a damaged PDF: rc %d %s" % (rc, err[-300:]))
    p = subprocess.run([os.fsencode(a.banshi), b"batch", src, os.fsencode(good), latin,
                        b"-o", os.fsencode(out)], capture_output=True)
    recs, summary = read_log(os.path.join(out, "banshi-batch.jsonl"))
    check(p.returncode == 0 and summary["ok"] == 1 and summary["up_to_date"] == 2,
          "rerun after the damage: %r" % summary)
    rc, _, err = run([a.banshi, "archive", out, "-o", os.path.join(w, "bag3")] + en)
    check(rc == 0, "archive after the rerun: rc %d %s" % (rc, err[-300:]))

    # the log's temporary of a batch in another PID namespace: its PID is
    # dead here, but it holds the lock: kept; unlocked, it is stale
    o3 = os.path.join(w, "out-ns")
    os.makedirs(o3, exist_ok=True)
    foreign = os.path.join(o3, ".banshi-batch.jsonl.999999-0.tmp")
    fd = os.open(foreign, os.O_WRONLY | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    rc, _, err = run([a.banshi, "batch", good, "-o", o3])
    check(rc == 0 and os.path.exists(foreign),
          "another namespace's log temporary removed (rc %d)" % rc)
    os.close(fd)
    rc, _, err = run([a.banshi, "batch", good, "-o", o3])
    check(rc == 0 and not os.path.exists(foreign), "a stale log temporary kept")


def tree_bytes(root):
    """{relative path: bytes} of every file below root (links as targets'
    names), hidden state included."""
    out = {}
    for d, dirs, fs in os.walk(root):
        for f in fs:
            p = os.path.join(d, f)
            rel = os.path.relpath(p, root)
            out[rel] = os.readlink(p).encode() if os.path.islink(p) else open(p, "rb").read()
    return out


def wait_gone(marker, timeout=10):
    """Wait until no process has `marker` in its command line: batch's
    workers die with their supervisor (PR_SET_PDEATHSIG), but a dying
    process keeps its files (and their locks) until its memory is gone,
    which takes a moment under ASan."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not subprocess.run(["pgrep", "-f", marker], capture_output=True,
                              text=True).stdout.strip():
            return True
        time.sleep(0.02)
    return False


def kill_at(args, delay, env=None):
    """Start args, SIGKILL it after `delay` seconds and wait for its workers
    to be gone; True if it was still running then, else the seconds it took
    (which the caller uses to aim its next kills: the moments are fractions
    of a run's length, and on a busy machine that length changes)."""
    t = time.monotonic()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, **(env or {})))
    try:
        proc.wait(timeout=delay)
        return time.monotonic() - t
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        check(wait_gone(args[4]),
              "processes of a killed run still alive: %s" % args)
        return True


def group_faults_kill(a):
    """SIGKILL of batch and of archive at 20 or more moments each, then a
    rerun: byte-identical to a clean run, nothing half-written."""
    w = fresh(a, "faults_kill")
    env = {"SOURCE_DATE_EPOCH": "1611849600"}
    src = os.path.join(w, "src")
    n = 40
    make_sources(src, n, flat=True)
    ref = os.path.join(w, "ref")
    t = time.monotonic()
    rc, _, err = run([a.banshi, "batch", src, "-o", ref, "-j", "2"], env=env)
    clean = time.monotonic() - t
    check(rc == 0, "clean batch: %d %s" % (rc, err[-300:]))
    reference = {r: d for r, d in tree_bytes(ref).items()
                 if r.endswith(".pdf")}
    killed = 0
    for i in range(100):
        if killed >= 20:
            break
        out = os.path.join(w, "out-%02d" % i)
        got = kill_at([a.banshi, "batch", src, "-o", out, "-j", "2"],
                      clean * (0.05 + 0.9 * (killed % 20) / 20), env)
        if got is True:
            killed += 1
        else:
            clean = min(clean, got)  # finished first: aim within its length
        for rel, data in tree_bytes(out).items() if os.path.isdir(out) else ():
            if rel.endswith(".pdf") and not os.path.basename(rel).startswith("."):
                check(data == reference.get(rel),
                      "kill %d: %s visible and not the clean run's" % (i, rel))
        rc, _, err = run([a.banshi, "batch", src, "-o", out, "-j", "2"], env=env)
        got = tree_bytes(out)
        pdfs = {r: d for r, d in got.items() if r.endswith(".pdf")}
        check(rc == 0 and pdfs == reference,
              "kill %d: rerun rc %d, %d PDFs, %d equal to the clean run's" % (
                  i, rc, len(pdfs), sum(1 for r in pdfs if pdfs[r] == reference.get(r))))
        temps = [r for r in got if r.endswith(".tmp")]
        check(not temps, "kill %d: temporaries after the rerun: %s" % (i, temps[:3]))
        recs, summary = read_log(os.path.join(out, "banshi-batch.jsonl"))
        check(summary["ok"] + summary["up_to_date"] == n, "kill %d: %r" % (i, summary))
    check(killed >= 20, "batch killed mid-run only %d times" % killed)
    print("faults_kill: batch killed at %d moments (clean run %.2f s)" % (killed, clean))

    # archive
    bag_ref = os.path.join(w, "bag-ref")
    t = time.monotonic()
    rc, _, err = run([a.banshi, "archive", ref, "-o", bag_ref], env=env)
    aclean = time.monotonic() - t
    check(rc == 0, "clean archive: %d %s" % (rc, err[-300:]))
    want = tree_bytes(bag_ref)
    killed = 0
    for i in range(100):
        if killed >= 20:
            break
        bag = os.path.join(w, "bag-%02d" % i)
        got = kill_at([a.banshi, "archive", ref, "-o", bag],
                      aclean * (0.05 + 0.9 * (killed % 20) / 20), env)
        if got is True:
            killed += 1
        else:
            aclean = min(aclean, got)  # finished first: aim within its length
        # the bag's name holds nothing or the complete bag
        if os.path.exists(bag):
            check(tree_bytes(bag) == want, "kill %d: an incomplete bag under its name" % i)
            shutil.rmtree(bag)
        rc, _, err = run([a.banshi, "archive", ref, "-o", bag], env=env)
        check(rc == 0 and tree_bytes(bag) == want,
              "archive kill %d: rerun rc %d, bag differs from the clean one: %s" % (
                  i, rc, err[-300:]))
        left = [f for f in os.listdir(w) if f.startswith(".bag-%02d" % i)]
        check(not left, "archive kill %d: temporaries left: %s" % (i, left))
    check(killed >= 20, "archive killed mid-run only %d times" % killed)
    rc, _, err = run([a.banshi, "archive", "--verify", os.path.join(w, "bag-00")])
    check(rc == 0, "verify after kills: %d %s" % (rc, err[-300:]))
    print("faults_kill: archive killed at %d moments (clean run %.2f s)" % (killed, aclean))


def group_faults_disk(a):
    """Full disk, a read-only output folder, links planted at temporary and
    final names, and writers running at once."""
    import fcntl  # noqa: F401
    w = fresh(a, "faults_disk")
    env = {"SOURCE_DATE_EPOCH": "1611849600"}
    en = ["--lang", "en"]
    src = os.path.join(w, "src")
    n = 12
    make_sources(src, n, flat=True)
    ref = os.path.join(w, "ref")
    rc, _, err = run([a.banshi, "batch", src, "-o", ref, "-j", "2"], env=env)
    check(rc == 0, "clean batch: %d %s" % (rc, err[-300:]))
    reference = {r: d for r, d in tree_bytes(ref).items() if r.endswith(".pdf")}

    def settle(out, what):
        rc, _, err = run([a.banshi, "batch", src, "-o", out, "-j", "2"], env=env)
        got = tree_bytes(out)
        pdfs = {r: d for r, d in got.items() if r.endswith(".pdf")}
        check(rc == 0 and pdfs == reference and not [r for r in got if r.endswith(".tmp")],
              "%s: the rerun is not the clean run (rc %d, %d PDFs) %s" % (
                  what, rc, len(pdfs), err[-300:]))

    # full disk: a file size limit (SIGXFSZ ignored, so writes fail EFBIG)
    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (8000, 8000))
    out = os.path.join(w, "out-fsize")
    p = subprocess.run([a.banshi, "batch", src, "-o", out, "-j", "2"] + en,
                       capture_output=True, text=True, preexec_fn=small_files,
                       env=dict(os.environ, **env))
    check(p.returncode == 3 and "File too large" in p.stderr,
          "batch under RLIMIT_FSIZE: rc %d %s" % (p.returncode, p.stderr[-300:]))
    for rel, data in tree_bytes(out).items():
        if rel.endswith(".pdf"):
            check(data == reference.get(rel), "full disk: %s half-written" % rel)
    settle(out, "RLIMIT_FSIZE")

    # a real full file system, where one can be mounted
    mnt = os.path.join(w, "tmpfs")
    os.makedirs(mnt, exist_ok=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=100k", "tmpfs", mnt],
                      capture_output=True).returncode == 0:
        try:
            out = os.path.join(mnt, "out")
            rc, _, err = run([a.banshi, "batch", src, "-o", out, "-j", "2"] + en, env=env)
            check(rc == 3 and "No space left" in err,
                  "batch on a full tmpfs: rc %d %s" % (rc, err[-300:]))
            for rel, data in tree_bytes(out).items():
                if rel.endswith(".pdf"):
                    check(data == reference.get(rel), "full tmpfs: %s half-written" % rel)
            subprocess.run(["mount", "-o", "remount,size=8m", mnt], check=True)
            settle(out, "full tmpfs")
        finally:
            subprocess.run(["umount", mnt])
        # a bag that does not fit
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=100k", "tmpfs", mnt],
                          capture_output=True).returncode == 0:
            try:
                bag = os.path.join(mnt, "bag")
                rc, _, err = run([a.banshi, "archive", ref, "-o", bag] + en, env=env)
                check(rc == 3 and not os.path.exists(bag) and
                      not [f for f in os.listdir(mnt) if f.startswith(".bag")],
                      "archive on a full tmpfs: rc %d %s" % (rc, err[-300:]))
            finally:
                subprocess.run(["umount", mnt])
    else:
        print("faults_disk: no tmpfs can be mounted here; RLIMIT_FSIZE only")

    # a read-only output folder (a read-only bind mount: root ignores modes)
    ro = os.path.join(w, "ro")
    shutil.copytree(ref, ro)
    if subprocess.run(["mount", "--bind", ro, ro], capture_output=True).returncode == 0:
        try:
            subprocess.run(["mount", "-o", "remount,bind,ro", ro], check=True)
            before = tree_bytes(ro)
            make_sources(os.path.join(w, "src2"), 2, flat=True)
            rc, _, err = run([a.banshi, "batch", src, "-o", ro] + en, env=env)
            check(rc == 3 and "Read-only file system" in err,
                  "batch into a read-only folder: rc %d %s" % (rc, err[-300:]))
            rc, _, err = run([a.banshi, "render", EXAMPLE, "-o",
                              os.path.join(ro, "x.pdf")] + en, env=env)
            check(rc == 3 and "Read-only" in err, "render into a read-only folder: %d" % rc)
            check(tree_bytes(ro) == before, "the read-only folder changed")
        finally:
            subprocess.run(["umount", ro])
    elif os.geteuid() != 0:
        os.chmod(ro, 0o555)
        rc, _, err = run([a.banshi, "batch", src, "-o", ro] + en, env=env)
        check(rc == 3, "batch into a mode-555 folder: rc %d" % rc)
        os.chmod(ro, 0o755)
    else:
        print("faults_disk: no read-only folder can be made here; not tested")

    # links planted at final and temporary names point at a victim outside
    victim = os.path.join(w, "victim.txt")
    with open(victim, "w") as f:
        f.write("victim\n")
    out = os.path.join(w, "out-links")
    os.makedirs(os.path.join(out, ".banshi"), exist_ok=True)
    os.symlink(victim, os.path.join(out, "r0001.pdf"))
    os.symlink(victim, os.path.join(out, ".banshi", "r0002.pdf.stamp"))
    os.symlink(victim, os.path.join(out, "banshi-batch.jsonl"))
    # temporaries: every name the next few hundred processes would use
    last = os.getpid()
    for pid in range(last + 1, last + 400):
        for k in range(3):
            for name in ("r0003.pdf", ".banshi/r0003.pdf.stamp", "banshi-batch.jsonl"):
                d, b = os.path.split(os.path.join(out, name))
                os.symlink(victim, os.path.join(d, ".%s.%d-%d.tmp" % (b, pid, k)))
    rc, _, err = run([a.banshi, "batch", src, "-o", out, "-j", "2"] + en, env=env)
    check(rc == 0, "batch with planted links: rc %d %s" % (rc, err[-300:]))
    check(open(victim).read() == "victim\n", "a planted link was written through")
    got = tree_bytes(out)
    check({r: d for r, d in got.items() if r.endswith(".pdf")} == reference,
          "PDFs with planted links differ from the clean run's")
    bag = os.path.join(w, "bag-links")
    os.symlink(victim, os.path.join(w, ".bag-links.%d.tmp" % (last + 1)))
    rc, _, err = run([a.banshi, "archive", out, "-o", bag] + en, env=env)
    check(rc == 0 and open(victim).read() == "victim\n",
          "archive with planted links: rc %d %s" % (rc, err[-300:]))

    # writers at once.  Two batches on one output folder: each PDF, stamp and
    # log is written under its writer's own temporary and renamed, so the
    # last rename wins and every name holds one complete file; both succeed.
    for shards in (("0/1", "0/1"), ("0/2", "1/2")):
        out = os.path.join(w, "out-two-%s" % shards[1].replace("/", "-"))
        procs = [subprocess.Popen([a.banshi, "batch", src, "-o", out, "-j", "2",
                                   "--shard", s], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True,
                                  env=dict(os.environ, **env)) for s in shards]
        errs = [p.communicate()[1] for p in procs]
        check(all(p.returncode == 0 for p in procs),
              "two batches %s at once: %r %s" % (shards, [p.returncode for p in procs],
                                                 errs))
        got = tree_bytes(out)
        check({r: d for r, d in got.items() if r.endswith(".pdf")} == reference and
              not [r for r in got if r.endswith(".tmp")],
              "two batches %s at once: PDFs differ from the clean run's" % (shards,))
        for log in [r for r in got if r.endswith(".jsonl")]:
            recs, summary = read_log(os.path.join(out, log))
            check(summary["ok"] + summary["up_to_date"] == summary["sources"],
                  "two batches: log %s %r" % (log, summary))
    # two renders to one path at once, of different sources: the path holds
    # one of the two complete PDFs, never a mixture
    a_src = os.path.join(src, "r0000.xml")
    b_src = os.path.join(src, "r0001.xml")
    target = os.path.join(w, "same.pdf")
    for _ in range(5):
        procs = [subprocess.Popen([a.banshi, "render", s, "-o", target],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  env=dict(os.environ, **env)) for s in (a_src, b_src)]
        for p in procs:
            p.wait()
        check(all(p.returncode == 0 for p in procs), "two renders at once failed")
        data = open(target, "rb").read()
        check(data in (reference["r0000.pdf"], reference["r0001.pdf"]),
              "two renders to one path: the result is neither PDF")
    check(not [f for f in os.listdir(w) if f.startswith(".same.pdf")],
          "two renders: temporaries left")


GROUPS = {
    "faults_inputs": group_faults_inputs,
    "faults_clobber": group_faults_clobber,
    "faults_crash": group_faults_crash,
    "faults_names": group_faults_names,
    "faults_kill": group_faults_kill,
    "faults_disk": group_faults_disk,
}
