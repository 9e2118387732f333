# SPDX-License-Identifier: Apache-2.0
"""Batch production and archival export.

  batch        1,000 generated sources with broken ones: exactly the right
               successes and failures in the exit status, the log and the
               output folder; reruns skip what is up to date and redo what
               changed; manifests; memory does not grow with the batch.
  batch_kill   SIGKILL in the middle of a batch while the output folder is
               polled: no partial file is ever visible under its final name;
               a rerun completes the set with the same bytes as a clean run.
               SIGINT finishes the documents in flight and prints the summary.
  batch_shard  --shard K/N: the shards together give the whole, without
               overlap; progress on a terminal and as plain lines.
  batch_previous  report sources with last year's source from a manifest:
               passed to the cross-year rules, part of the key, archived;
               the images of figures are part of the key too.
  archive      a BagIt bag checked by an independent reader (hashlib), by
               banshi archive --verify, and after a flipped byte, a missing
               and an unlisted file; the index in pinyin order of the issuing
               bodies (CSV and PDF/A); DA/T 46 records; Preflight; PDFs the
               batch does not vouch for are refused.
"""
import csv
import hashlib
import json
import os
import pty
import select
import shutil
import signal
import subprocess
import time
import xml.etree.ElementTree as ET

from bstest import *  # noqa: F401,F403

# Issuing bodies whose pinyin order (安 an, 北 bei, 广 guang, 江 jiang,
# 上 shang, 浙 zhe) differs from their code point order (上 4E0A, 北 5317,
# 安 5B89, 广 5E7F, 江 6C5F, 浙 6D59).
BODIES = ["上海市人民政府", "北京市人民政府", "安徽省人民政府",
          "广东省人民政府", "江苏省人民政府", "浙江省人民政府"]
PINYIN = ["安徽省人民政府", "北京市人民政府", "广东省人民政府",
          "江苏省人民政府", "上海市人民政府", "浙江省人民政府"]


def fresh(a, name):
    """An empty folder for a group.  An old one is renamed away and removed
    in the background: removing thousands of files can take far longer than
    making them on some file systems (ext4 mounted with discard)."""
    d = os.path.join(a.work, name)
    if os.path.exists(d):
        trash = os.path.join(a.work, ".trash-%s-%d" % (name, os.getpid()))
        os.rename(d, trash)
        subprocess.Popen(["rm", "-rf", trash], start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.makedirs(d)
    return d


def source_text(i, body=None, issuer=None, extra_meta=""):
    issuer = issuer or BODIES[i % len(BODIES)]
    if body is None:
        body = ("<section><heading>总体情况</heading><p>第%d号报告：本年度"
                "主动公开政府信息%d条，依申请公开%d件。</p></section>"
                % (i, i * 3 % 500, i % 17))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<document version="1">'
            "<meta><title>%s%d年政府信息公开工作年度报告</title>"
            "<issuer>%s</issuer><year>2020</year><date>2021-01-%02d</date>"
            "<number>政办〔2021〕%d号</number><retention>永久</retention>%s"
            "</meta>\n<body>%s</body></document>\n"
            % (issuer, 2020, issuer, i % 28 + 1, i, extra_meta, body))


def make_sources(d, n, broken=(), flat=False):
    """n sources in d/dept-NNNN/report.xml (output names keep folders) or,
    flat, d/rNNNN.xml; `broken` maps index -> kind.  Returns {rel pdf:
    source path}."""
    out = {}
    os.makedirs(d, exist_ok=True)
    for i in range(n):
        if flat:
            p = os.path.join(d, "r%04d.xml" % i)
        else:
            sub = os.path.join(d, "dept-%04d" % i)
            os.makedirs(sub, exist_ok=True)
            p = os.path.join(sub, "report.xml")
        kind = broken.get(i) if isinstance(broken, dict) else None
        if kind == "syntax":
            text = source_text(i).replace("</body>", "<p>未闭合</body>")
        elif kind == "schema":
            text = source_text(i).replace("<issuer>", "<isuer>").replace(
                "</issuer>", "</isuer>")
        elif kind == "glyph":
            text = source_text(i, body="<p>缺字\uE000。</p>")
        else:
            text = source_text(i)
        with open(p, "w", encoding="utf-8") as f:
            f.write(text)
        out[("r%04d.pdf" if flat else "dept-%04d/report.pdf") % i] = p
    return out


def read_log(path):
    recs, summary = [], None
    with open(path, encoding="utf-8") as f:
        for line in f:
            obj = json.loads(line)  # every line is JSON
            if "summary" in obj:
                summary = obj["summary"]
            else:
                recs.append(obj)
    return recs, summary


def pdf_complete(data):
    return data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF")


def is_asan(banshi):
    with open(banshi, "rb") as f:
        return b"__asan_init" in f.read()


def run_rss(args):
    """Run and return (rc, stderr, peak RSS in MiB of that process)."""
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, err, ru.ru_maxrss / 1024.0


def pdf_files(outdir):
    res = {}
    for root, dirs, files in os.walk(outdir):
        dirs[:] = [x for x in dirs if not x.startswith(".")]
        for fn in files:
            if fn.endswith(".pdf"):
                p = os.path.join(root, fn)
                res[os.path.relpath(p, outdir)] = p
    return res


# ---------------------------------------------------------------------------
# batch

def group_batch(a):
    w = fresh(a, "batch")
    src = os.path.join(w, "src")
    out = os.path.join(w, "out")
    broken = {13: "syntax", 250: "schema", 501: "syntax", 777: "glyph"}
    rels = make_sources(src, 1000, broken, flat=True)
    # one more source through a manifest, and a manifest line whose file is
    # missing: an I/O failure of that line only
    extra = os.path.join(w, "extra")
    os.makedirs(extra)
    with open(os.path.join(extra, "late.xml"), "w", encoding="utf-8") as f:
        f.write(source_text(1000))
    manifest = os.path.join(w, "list.txt")
    with open(manifest, "w", encoding="utf-8") as f:
        f.write("# extra sources\nextra/late.xml\nextra/missing.xml\n")

    t0 = time.time()
    rc, err, rss = run_rss([a.banshi, "batch", src, manifest, "-o", out,
                            "-j", "2", "--lang", "en"])
    secs = time.time() - t0
    print("batch: 1,002 sources, -j 2: %.1f s, %.1f ms/document, peak RSS "
          "%.1f MiB" % (secs, secs * 1000 / 1002, rss))
    # invalid sources and a missing one: the worst status, 3, and every
    # problem reported with its location
    check(rc == 3, "batch exit %d, want 3\n%s" % (rc, err[-2000:]))
    check("r0013.xml:" in err and "error:" in err,
          "syntax error of source 13 not reported")
    check("extra/missing.xml" in err, "missing source not reported")
    check("1002 sources: 997 written, 0 up to date, 4 invalid, 1 failed, "
          "0 not run" in err, "summary: %s" % err[-500:])

    recs, summary = read_log(os.path.join(out, "banshi-batch.jsonl"))
    check(len(recs) == 1002, "log has %d records, want 1002" % len(recs))
    by_out = {os.path.relpath(r["output"], out): r for r in recs}
    check(len(by_out) == 1002, "log names %d distinct outputs" % len(by_out))
    for i in range(1000):
        rel = "r%04d.pdf" % i
        r = by_out.get(rel)
        if not check(r is not None, "no log record for %s" % rel):
            continue
        want = "invalid" if i in broken else "ok"
        check(r["status"] == want, "%s: status %s, want %s" % (rel, r["status"], want))
        check(r["source"] == rels[rel], "%s: source %s" % (rel, r["source"]))
        for key in ("diagnostics", "pages", "bytes", "time", "errors", "warnings"):
            check(key in r, "%s: no %s in the log" % (rel, key))
        path = os.path.join(out, rel)
        if want == "ok":
            check(r["pages"] == 1 and r["errors"] == 0, "%s: %r" % (rel, r))
            check(os.path.getsize(path) == r["bytes"], "%s: size differs from log" % rel)
        else:
            check(not os.path.exists(path), "%s: PDF written for a broken source" % rel)
            check(r["errors"] >= 1 and any("error:" in d for d in r["diagnostics"]),
                  "%s: no error in the log: %r" % (rel, r["diagnostics"]))
            check(all(d.startswith(rels[rel] + ":") for d in r["diagnostics"]
                      if "error:" in d),
                  "%s: diagnostics not located in the source: %r" % (rel, r["diagnostics"]))
    check(by_out.get("extra/late.pdf", {}).get("status") == "ok", "manifest source: %r" % by_out.get("extra/late.pdf"))
    check(by_out.get("extra/missing.pdf", {}).get("status") == "failed",
          "missing manifest source: %r" % by_out.get("extra/missing.pdf"))
    check(summary and summary["ok"] == 997 and summary["invalid"] == 4
          and summary["failed"] == 1 and not summary["interrupted"],
          "log summary: %r" % summary)
    made = pdf_files(out)
    check(len(made) == 997, "%d PDFs in the output folder, want 997" % len(made))
    # the glyph case is named by its code point
    check("U+E000" in json.dumps(by_out["r0777.pdf"]["diagnostics"]),
          "missing glyph not named")
    left = [f for _, _, fs in os.walk(out) for f in fs if f.endswith(".tmp")]
    check(not left, "temporaries left: %s" % left[:5])
    # every PDF is whole: checked by qpdf for a sample
    for rel in sorted(made)[::97]:
        rc2, o2, e2 = run(["qpdf", "--check", made[rel]])
        check(rc2 == 0, "qpdf --check %s: %s" % (rel, o2 + e2))

    # rerun: nothing to do but the broken ones
    before = {rel: os.stat(p).st_mtime_ns for rel, p in made.items()}
    rc, out2, err = run([a.banshi, "batch", src, manifest, "-o", out, "-j", "2",
                         "--lang", "en"])
    check(rc == 3, "rerun exit %d" % rc)
    check("997 up to date, 4 invalid, 1 failed" in err, "rerun summary: %s" % err[-400:])
    after = {rel: os.stat(p).st_mtime_ns for rel, p in pdf_files(out).items()}
    check(before == after, "a rerun rewrote up-to-date PDFs")

    # fix one broken source, change one good one, delete one PDF, damage one
    # stamp, truncate one PDF (as a hand edit would): exactly those are redone
    with open(rels["r0013.pdf"], "w", encoding="utf-8") as f:
        f.write(source_text(13))
    with open(rels["r0020.pdf"], "w", encoding="utf-8") as f:
        f.write(source_text(20, body="<p>改过的正文。</p>"))
    os.unlink(os.path.join(out, "r0030.pdf"))
    with open(os.path.join(out, ".banshi/r0040.pdf.stamp"), "w") as f:
        f.write("garbage\n")
    with open(os.path.join(out, "r0050.pdf"), "r+b") as f:
        f.truncate(100)
    rc, _, err = run([a.banshi, "batch", src, "-o", out, "-j", "2", "--lang", "en"])
    check(rc == 1, "third run exit %d (invalid sources remain)" % rc)
    recs, summary = read_log(os.path.join(out, "banshi-batch.jsonl"))
    redone = sorted(os.path.relpath(r["output"], out) for r in recs if r["status"] == "ok")
    want = ["r%04d.pdf" % i for i in (13, 20, 30, 40, 50)]
    check(redone == want, "redone %s, want %s" % (redone, want))
    check(summary["up_to_date"] == 992 and summary["invalid"] == 3,
          "third run summary %r" % summary)
    with open(os.path.join(out, "r0050.pdf"), "rb") as f:
        check(pdf_complete(f.read()), "truncated PDF not rendered again")
    # a changed template or option changes every key
    rc, _, err = run([a.banshi, "batch", os.path.join(src, "r0001.xml"), "-o", out,
                      "--no-normalize", "--lang", "en"])
    check("1 written, 0 up to date" in err, "--no-normalize did not invalidate: %s" % err)

    # memory does not grow with the batch (documents are not kept)
    if not is_asan(a.banshi):
        small = os.path.join(w, "small")
        os.makedirs(small)
        for i in range(100):
            os.symlink(os.path.join(src, "r%04d.xml" % (i + 100)),
                       os.path.join(small, "r%04d.xml" % i))
        rc1, _, rss100 = run_rss([a.banshi, "batch", small, "-o",
                                  os.path.join(w, "out100"), "-j", "2"])
        print("batch: peak RSS 100 documents %.1f MiB, 1,002 documents %.1f MiB"
              % (rss100, rss))
        check(rss < rss100 + 40, "peak RSS grows with the batch: %.1f MiB for "
              "100, %.1f MiB for 1,002" % (rss100, rss))

    # usage errors
    rc, _, err = run([a.banshi, "batch", src])
    check(rc == 2 and "-o" in err, "batch without -o: %d" % rc)
    for bad in (["--shard", "2/2"], ["--shard", "x"], ["-j", "0"], ["--bogus"]):
        rc, _, err = run([a.banshi, "batch", src, "-o", out] + bad)
        check(rc == 2, "batch %s: exit %d" % (bad, rc))
    rc, o, _ = run([a.banshi, "batch", "--help"])
    check(rc == 0 and "--shard" in o, "batch --help")
    rc, o, _ = run([a.banshi, "--help"])
    check("banshi batch" in o and "banshi archive" in o, "usage lacks batch/archive")


# ---------------------------------------------------------------------------
# batch_kill

def poll_until_exit(proc, outdir, seen, kill_after=None):
    """Watch outdir while proc runs; every PDF seen under its final name
    must be complete.  Kill with SIGKILL once kill_after PDFs exist."""
    bad = []
    killed = False
    while proc.poll() is None:
        pdfs = pdf_files(outdir) if os.path.isdir(outdir) else {}
        for rel, p in pdfs.items():
            try:
                with open(p, "rb") as f:
                    data = f.read()
            except FileNotFoundError:
                continue
            if not pdf_complete(data):
                bad.append((rel, len(data)))
            seen.add(rel)
        if kill_after is not None and not killed and len(pdfs) >= kill_after:
            proc.send_signal(signal.SIGKILL)
            killed = True
    return bad, killed


def group_batch_kill(a):
    w = fresh(a, "batch_kill")
    src = os.path.join(w, "src")
    n = 400
    make_sources(src, n)
    ref = os.path.join(w, "ref")
    rc, _, err = run([a.banshi, "batch", src, "-o", ref, "-j", "2"])
    check(rc == 0, "reference batch: %d %s" % (rc, err[-500:]))
    reference = {rel: open(p, "rb").read() for rel, p in pdf_files(ref).items()}
    check(len(reference) == n, "reference has %d PDFs" % len(reference))

    out = os.path.join(w, "out")
    seen = set()
    proc = subprocess.Popen([a.banshi, "batch", src, "-o", out, "-j", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bad, killed = poll_until_exit(proc, out, seen, kill_after=n // 4)
    # its workers die with it (PR_SET_PDEATHSIG); wait until they are gone
    # (under ASan a dying process takes a moment to release its files)
    for _ in range(500):
        if not subprocess.run(["pgrep", "-f", out], capture_output=True,
                              text=True).stdout.strip():
            break
        time.sleep(0.02)
    check(killed and proc.returncode == -signal.SIGKILL,
          "batch was not killed mid-run (rc %s)" % proc.returncode)
    check(not bad, "partial PDFs visible under their final names: %s" % bad[:5])
    done = pdf_files(out)
    check(0 < len(done) < n, "after the kill %d of %d PDFs exist" % (len(done), n))
    for rel, p in done.items():
        with open(p, "rb") as f:
            check(f.read() == reference[rel], "%s after the kill differs from "
                  "the clean run" % rel)
    check(not os.path.exists(os.path.join(out, "banshi-batch.jsonl")),
          "a log of the killed run is visible")
    temps = [f for _, _, fs in os.walk(out) for f in fs if f.endswith(".tmp")]
    print("batch_kill: killed after %d PDFs, %d temporaries left" % (len(done), len(temps)))

    # rerun, polled too: completes the set, skips what the killed run made
    proc = subprocess.Popen([a.banshi, "batch", src, "-o", out, "-j", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    bad, _ = poll_until_exit(proc, out, seen)
    err = proc.stderr.read()
    check(proc.returncode == 0, "rerun exit %d: %s" % (proc.returncode, err[-500:]))
    check(not bad, "partial PDFs visible during the rerun: %s" % bad[:5])
    recs, summary = read_log(os.path.join(out, "banshi-batch.jsonl"))
    # PDFs the killed run renamed into place before writing their stamp are
    # rendered again; the others are skipped
    check(summary["up_to_date"] >= len(done) - 2 and
          summary["up_to_date"] + summary["ok"] == n,
          "rerun after kill: %r (killed run left %d)" % (summary, len(done)))
    final = pdf_files(out)
    check(sorted(final) == sorted(reference), "rerun set differs from the clean run")
    same = sum(1 for rel, p in final.items() if open(p, "rb").read() == reference[rel])
    check(same == n, "%d of %d PDFs equal the clean run's" % (same, n))
    temps = [f for _, _, fs in os.walk(out) for f in fs if f.endswith(".tmp")]
    check(not temps, "temporaries of the killed run not removed: %s" % temps[:5])

    # SIGINT: finish the documents in flight, log the rest as not run
    out3 = os.path.join(w, "out-int")
    proc = subprocess.Popen([a.banshi, "batch", src, "-o", out3, "-j", "2",
                             "--lang", "en"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    while proc.poll() is None and len(pdf_files(out3) if os.path.isdir(out3) else {}) < 20:
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    err = proc.stderr.read()
    proc.wait()
    check(proc.returncode == 130, "SIGINT exit %d, want 130" % proc.returncode)
    check("interrupted" in err and "not run" in err, "SIGINT messages: %s" % err[-600:])
    recs, summary = read_log(os.path.join(out3, "banshi-batch.jsonl"))
    check(summary["interrupted"] and summary["ok"] + summary["not_run"] == n
          and summary["not_run"] > 0,
          "SIGINT summary: %r" % summary)
    ok = {os.path.relpath(r["output"], out3) for r in recs if r["status"] == "ok"}
    check(ok == set(pdf_files(out3)), "PDFs present differ from those logged ok")
    for rel in ok:
        with open(os.path.join(out3, rel), "rb") as f:
            check(f.read() == reference[rel], "%s after SIGINT differs" % rel)


# ---------------------------------------------------------------------------
# batch_shard

def group_batch_shard(a):
    w = fresh(a, "batch_shard")
    src = os.path.join(w, "src")
    n = 120
    make_sources(src, n)
    out = os.path.join(w, "out")
    got = []
    for k in range(3):
        rc, _, err = run([a.banshi, "batch", src, "-o", out, "-j", "2",
                          "--shard", "%d/3" % k, "--lang", "en"])
        check(rc == 0, "shard %d/3: %d %s" % (k, rc, err[-300:]))
        recs, summary = read_log(os.path.join(out, "banshi-batch.%d-of-3.jsonl" % k))
        check(summary["shard"] == "%d/3" % k, "shard in summary: %r" % summary)
        got.append({os.path.relpath(r["output"], out) for r in recs})
    union = got[0] | got[1] | got[2]
    check(len(union) == n and sum(len(g) for g in got) == n,
          "shards: %s, union %d of %d" % ([len(g) for g in got], len(union), n))
    check(all(len(g) > n // 6 for g in got), "unbalanced shards %s" % [len(g) for g in got])
    check(set(pdf_files(out)) == union, "shards wrote other files than they logged")
    # the selection is a property of the name, not of the input order
    lst = os.path.join(src, "reversed.txt")
    with open(lst, "w") as f:
        for i in reversed(range(n)):
            f.write("dept-%04d/report.xml\n" % i)
    out2 = os.path.join(w, "out2")
    rc, _, err = run([a.banshi, "batch", lst, "-o", out2, "--shard", "1/3"])
    recs, _ = read_log(os.path.join(out2, "banshi-batch.1-of-3.jsonl"))
    check({os.path.relpath(r["output"], out2) for r in recs} == got[1],
          "shard 1/3 differs when the inputs come in another order")
    # the whole batch after the shards: all up to date
    rc, _, err = run([a.banshi, "batch", src, "-o", out, "--lang", "en"])
    check("0 written, %d up to date" % n in err, "after shards: %s" % err[-300:])

    # a manifest on standard input: paths relative to the current folder
    out5 = os.path.join(w, "out5")
    rc, _, err = run([os.path.abspath(a.banshi), "batch", "-", "-o", out5], cwd=src,
                     stdin="dept-0003/report.xml\n# comment\n\ndept-0004/report.xml\n")
    check(rc == 0 and sorted(pdf_files(out5)) ==
          ["dept-0003/report.pdf", "dept-0004/report.pdf"],
          "manifest on standard input: %d %s" % (rc, sorted(pdf_files(out5))))

    # progress: plain lines without a terminal ...
    out3 = os.path.join(w, "out3")
    rc, _, err = run([a.banshi, "batch", src, "-o", out3, "-j", "2", "--lang", "en"])
    lines = [l for l in err.splitlines() if "done (" in l]
    check(len(lines) >= 10 and "120/120 done (100%)" in lines[-1] and "\r" not in err,
          "plain progress lines: %r" % lines[-3:])
    # ... and a bar redrawn in place on one
    master, slave = pty.openpty()
    proc = subprocess.Popen([a.banshi, "batch", src, "-o", os.path.join(w, "out4"),
                             "-j", "2", "--lang", "en"],
                            stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    buf = b""
    while True:
        r, _, _ = select.select([master], [], [], 10)
        if not r:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
    proc.wait()
    os.close(master)
    text = buf.decode("utf-8", "replace")
    check("\r\x1b[K[" in text and "120/120" in text and "/s" in text and "left" in text,
          "terminal progress bar: %r" % text[-300:])
    check(proc.returncode == 0, "batch on a terminal: exit %d" % proc.returncode)


# ---------------------------------------------------------------------------
# archive

def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def independent_verify(bag):
    """A BagIt check written from RFC 8493, independent of banshi's."""
    problems = []
    with open(os.path.join(bag, "bagit.txt"), encoding="utf-8") as f:
        bagit = f.read()
    if "BagIt-Version: 1.0\n" not in bagit or "Tag-File-Character-Encoding: UTF-8" not in bagit:
        problems.append("bagit.txt: %r" % bagit)
    listed = {}
    with open(os.path.join(bag, "manifest-sha256.txt"), encoding="utf-8") as f:
        for line in f:
            digest, path = line.rstrip("\n").split(None, 1)
            path = path.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")
            listed[path] = digest
    payload = {}
    for root, _, files in os.walk(os.path.join(bag, "data")):
        for fn in files:
            p = os.path.join(root, fn)
            payload[os.path.relpath(p, bag)] = p
    if set(listed) != set(payload):
        problems.append("manifest vs payload: %s" % (set(listed) ^ set(payload)))
    for rel, p in payload.items():
        if rel in listed and sha256_of(p) != listed[rel]:
            problems.append("checksum of %s" % rel)
    info = {}
    with open(os.path.join(bag, "bag-info.txt"), encoding="utf-8") as f:
        for line in f:
            k, v = line.rstrip("\n").split(": ", 1)
            info[k] = v
    octets = sum(os.path.getsize(p) for p in payload.values())
    if info.get("Payload-Oxum") != "%d.%d" % (octets, len(payload)):
        problems.append("Payload-Oxum %s, payload %d.%d" % (info.get("Payload-Oxum"),
                                                            octets, len(payload)))
    tags = {}
    with open(os.path.join(bag, "tagmanifest-sha256.txt"), encoding="utf-8") as f:
        for line in f:
            digest, path = line.rstrip("\n").split(None, 1)
            tags[path] = digest
    for t in ("bagit.txt", "bag-info.txt", "manifest-sha256.txt"):
        if tags.get(t) != sha256_of(os.path.join(bag, t)):
            problems.append("tag manifest entry for %s" % t)
    return problems, info, listed


def group_archive(a):
    w = fresh(a, "archive")
    src = os.path.join(w, "src")
    os.makedirs(src)
    # 12 documents of 6 bodies; the names are written in code point order
    # of the bodies so that pinyin order has to come from the collator
    docs = []
    for i in range(12):
        body = BODIES[i % 6]
        sub = os.path.join(src, "d%02d" % i)
        os.makedirs(sub)
        p = os.path.join(sub, "report.xml")
        with open(p, "w", encoding="utf-8") as f:
            f.write(source_text(i, issuer=body))
        docs.append((body, p))
    out = os.path.join(w, "out")
    rc, _, err = run([a.banshi, "batch", src, "-o", out, "-j", "2"])
    check(rc == 0, "batch: %s" % err[-400:])
    bag = os.path.join(w, "bag")
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    rc, _, err = run([a.banshi, "archive", out, "-o", bag, "--organization",
                      "某市档案馆", "--lang", "en"], env=env)
    if not check(rc == 0, "archive: %d %s" % (rc, err)):
        return
    problems, info, listed = independent_verify(bag)
    check(not problems, "independent BagIt check: %s" % problems)
    check(info.get("Source-Organization") == "某市档案馆" and
          info.get("Bagging-Date") == "2023-11-14", "bag-info: %r" % info)
    # each PDF with its source and record, byte for byte the batch's
    for i in range(12):
        rel = "d%02d/report" % i
        for ext in (".pdf", ".xml"):
            check("data/documents/%s%s" % (rel, ext) in listed, "%s%s not in bag" % (rel, ext))
        check(open(os.path.join(bag, "data/documents", rel + ".pdf"), "rb").read() ==
              open(os.path.join(out, rel + ".pdf"), "rb").read(), "%s.pdf differs" % rel)
        check(open(os.path.join(bag, "data/documents", rel + ".xml"), "rb").read() ==
              open(docs[i][1], "rb").read(), "%s.xml differs from the source" % rel)
    # the DA/T 46 record
    rec = ET.parse(os.path.join(bag, "data/metadata/d03/report.xml")).getroot()
    check(rec.findtext("内容描述/题名") == "%s2020年政府信息公开工作年度报告" % BODIES[3],
          "record 题名")
    check(rec.findtext("内容描述/责任者") == BODIES[3], "record 责任者")
    check(rec.findtext("内容描述/日期") == "2021-01-04", "record 日期")
    check(rec.findtext("内容描述/文件编号") == "政办〔2021〕3号", "record 文件编号")
    check(rec.findtext("档号/保管期限") == "永久" and rec.findtext("档号/年度") == "2020",
          "record 档号")
    check(rec.findtext("形式特征/页数") == "1", "record 页数")
    files = rec.findall("文件数据/文档")
    check(len(files) == 2 and files[0].findtext("计算机文件名") == "data/documents/d03/report.pdf"
          and files[0].findtext("数字摘要") == listed["data/documents/d03/report.pdf"]
          and "PDF/A-1b" in files[0].findtext("格式信息"),
          "record 文件数据: %s" % ET.tostring(rec, encoding="unicode")[:600])
    # the index in pinyin order, by the CSV ...
    with open(os.path.join(bag, "data/index.csv"), encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    check(rows[0][:5] == ["序号", "责任者", "题名", "文件编号", "日期"], "CSV header %r" % rows[0])
    issuers = [r[1] for r in rows[1:]]
    want = [b for b in PINYIN for _ in range(2)]
    check(issuers == want, "CSV order %s, want pinyin order %s" % (issuers, want))
    check(sorted(set(issuers)) != PINYIN, "test names do not differ in code point order")
    dates = [r[4] for r in rows[1:]]
    check(all(dates[i] <= dates[i + 1] for i in range(0, 12, 2)), "dates within a body")
    # ... and by the text of the index PDF
    rc, txt, _ = run(["pdftotext", "-raw", os.path.join(bag, "data/index.pdf"), "-"])
    pos = [txt.find(b) for b in PINYIN]
    check(all(p >= 0 for p in pos) and pos == sorted(pos),
          "index PDF order: %s" % pos)
    res, log = preflight([os.path.join(bag, "data/index.pdf"),
                          os.path.join(bag, "data/documents/d00/report.pdf")], w)
    for name in ("index.pdf", "report.pdf"):
        v = res.get(name)
        check(v and v[0] and not v[1], "preflight %s: %s" % (name, v))
    # banshi's own verification
    rc, _, err = run([a.banshi, "archive", "--verify", bag, "--lang", "en"])
    check(rc == 0 and "is valid" in err, "verify: %d %s" % (rc, err))
    # the same input gives the same bag (SOURCE_DATE_EPOCH fixes the date)
    bag2 = os.path.join(w, "bag2")
    run([a.banshi, "archive", out, "-o", bag2, "--organization", "某市档案馆"], env=env)
    check(open(os.path.join(bag, "manifest-sha256.txt")).read() ==
          open(os.path.join(bag2, "manifest-sha256.txt")).read(), "bags differ")
    # an existing bag is never overwritten
    rc, _, err = run([a.banshi, "archive", out, "-o", bag])
    check(rc == 3, "archive over an existing bag: %d" % rc)

    # damage: a flipped byte, a missing file, an unlisted file, a tag file
    bad = os.path.join(w, "bad")
    shutil.copytree(bag, bad)
    victim = os.path.join(bad, "data/documents/d05/report.pdf")
    with open(victim, "r+b") as f:
        f.seek(1000)
        c = f.read(1)
        f.seek(1000)
        f.write(bytes([c[0] ^ 0x01]))
    os.unlink(os.path.join(bad, "data/metadata/d07/report.xml"))
    with open(os.path.join(bad, "data/notes.txt"), "w") as f:
        f.write("x")
    with open(os.path.join(bad, "bag-info.txt"), "a") as f:
        f.write("Contact-Name: x\n")
    rc, _, err = run([a.banshi, "archive", "--verify", bad, "--lang", "en"])
    check(rc == 1, "verify of a damaged bag: exit %d" % rc)
    expect = [
        ("data/documents/d05/report.pdf: error: altered", "flipped byte"),
        ("data/metadata/d07/report.xml: error: missing", "missing file"),
        ("data/notes.txt: error: not listed", "unlisted file"),
        ("bag-info.txt: error: altered", "altered tag file"),
        ("Payload-Oxum", "payload size"),
    ]
    for text, what in expect:
        check(text in err, "verify did not report the %s: %s" % (what, err))
    check("the bag %s has 5 problems" % bad in err, "problem count: %s" % err)
    # a bag with a manifest path leading outside the bag
    evil = os.path.join(w, "evil")
    shutil.copytree(bag, evil)
    with open(os.path.join(evil, "manifest-sha256.txt"), "a") as f:
        f.write("%s  data/../../outside\n" % ("0" * 64))
    rc, _, err = run([a.banshi, "archive", "--verify", evil, "--lang", "en"])
    check(rc == 1 and "outside the bag" in err, "path escape: %d %s" % (rc, err))
    rc, _, err = run([a.banshi, "archive", "--verify", os.path.join(w, "nothing")])
    check(rc == 3, "verify of a missing bag: %d" % rc)

    # PDFs the batch does not vouch for are refused, all reported, no bag
    with open(docs[2][1], "a", encoding="utf-8") as f:
        f.write("<!-- edited after the batch -->\n")
    shutil.copy(os.path.join(out, "d00/report.pdf"), os.path.join(out, "stray.pdf"))
    bag3 = os.path.join(w, "bag3")
    rc, _, err = run([a.banshi, "archive", out, "-o", bag3, "--lang", "en"])
    check(rc == 1, "archive of unvouched PDFs: exit %d" % rc)
    check("d02/report.xml' changed after the PDF was made" in err, "changed source: %s" % err)
    check("stray.pdf' has no batch record" in err, "stray PDF: %s" % err)
    check(not os.path.exists(bag3), "a bag was written despite the problems")
    check(not [f for f in os.listdir(w) if f.endswith(".tmp")], "temporary bag left")
    rc, o, _ = run([a.banshi, "archive", "--help"])
    check(rc == 0 and "--verify" in o, "archive --help")


# ---------------------------------------------------------------------------
# batch_previous

def grey_png(path, shade):
    """A 4 x 4 grey PNG of one shade."""
    import struct
    import zlib

    def chunk(t, d):
        return (struct.pack(">I", len(d)) + t + d +
                struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF))
    raw = b"".join(b"\0" + bytes([shade]) * 4 for _ in range(4))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" +
                chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 0, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def group_batch_previous(a):
    """Report sources with last year's source from the manifest."""
    w = fresh(a, "batch_previous")
    reports = os.path.join(ROOT, "tests", "reports")
    s2019 = os.path.join(reports, "sample-2020.xml")  # 2019 format, year 2020
    s2021 = os.path.join(reports, "sample-2021.xml")
    lst = os.path.join(w, "list.txt")
    with open(lst, "w") as f:
        f.write("%s\t%s\n%s\n" % (s2021, s2019, s2019))
    out = os.path.join(w, "out")
    rc, _, err = run([a.banshi, "batch", lst, "-o", out, "--lang", "en"])
    check(rc == 0 and "2 written" in err, "report batch: %d %s" % (rc, err[-500:]))
    recs, _ = read_log(os.path.join(out, "banshi-batch.jsonl"))
    r21 = [r for r in recs if r["source"] == s2021]
    check(len(r21) == 1 and r21[0].get("previous") == s2019, "previous in the log: %r" % r21)
    # the bag of report sources: metadata from the core document they map to
    bag = os.path.join(w, "bag")
    rc, _, err = run([a.banshi, "archive", out, "-o", bag, "--lang", "en"])
    check(rc == 0, "archive of report sources: %d %s" % (rc, err))
    if rc == 0:
        problems, _, listed = independent_verify(bag)
        check(not problems and "data/documents/sample-2021.xml" in listed,
              "report bag: %s" % problems)
        rec = ET.parse(os.path.join(bag, "data/metadata/sample-2021.xml")).getroot()
        check("2021" in (rec.findtext("内容描述/题名") or ""), "report record 题名: %r"
              % rec.findtext("内容描述/题名"))
    # another previous source is another key, and reaches the cross-year
    # rules: the same year as this one is reported
    with open(lst, "w") as f:
        f.write("%s\t%s\n%s\n" % (s2021, s2021, s2019))
    rc, _, err = run([a.banshi, "batch", lst, "-o", out])
    check(rc == 1 and "已是最新 1" in err and "上年报告的年度为2021年" in err,
          "changed previous: %d %s" % (rc, err[-600:]))

    # the images of a source's figures are part of its key; an image
    # outside the source's folder is refused without being read
    figs = os.path.join(w, "figs")
    os.makedirs(figs)
    grey_png(os.path.join(figs, "pic.png"), 100)
    with open(os.path.join(figs, "fig.xml"), "w", encoding="utf-8") as f:
        f.write(source_text(1, body='<p>见下图。</p><figure src="pic.png">'
                            "<caption>图1　示例</caption></figure>"))
    with open(os.path.join(figs, "evil.xml"), "w", encoding="utf-8") as f:
        f.write(source_text(2, body='<figure src="../../../../../../../dev/zero"/>'))
    out2 = os.path.join(w, "out-figs")
    for want in ("1 written, 0 up to date", "0 written, 1 up to date"):
        rc, _, err = run([a.banshi, "batch", figs, "-o", out2, "--lang", "en"])
        check(rc == 1 and want in err and "outside the source's folder" in err,
              "figures, want %r: %d %s" % (want, rc, err[-400:]))
    grey_png(os.path.join(figs, "pic.png"), 200)
    rc, _, err = run([a.banshi, "batch", figs, "-o", out2, "--lang", "en"])
    check("1 written, 0 up to date" in err, "changed image not rendered again: %s" % err[-300:])
    # every font file of the template's roles is part of the key (hashed
    # with XXH3-128, not SHA-256: docs/batch.md): one byte changed inside a
    # copy of a font, its size kept, renders again; unchanged, it does not
    font = os.path.join(w, "kai-copy.ttf")
    shutil.copyfile("/usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf", font)
    fmap = os.path.join(w, "kai.map")
    with open(fmap, "w") as f:
        f.write("kai = %s\n" % font)
    out3 = os.path.join(w, "out-font")
    for want in ("1 written, 0 up to date", "0 written, 1 up to date"):
        rc, _, err = run([a.banshi, "batch", os.path.join(figs, "fig.xml"), "-o", out3,
                          "--fonts", fmap, "--lang", "en"])
        check(rc == 0 and want in err, "font copy, want %r: %d %s" % (want, rc, err[-400:]))
    size = os.path.getsize(font)
    with open(font, "r+b") as f:
        # the last byte of the 'name' table: a character of a name string,
        # which nothing in the layout reads
        head = f.read(12)
        count = int.from_bytes(head[4:6], "big")
        dirs = f.read(16 * count)
        recs = {dirs[i:i + 4]: (int.from_bytes(dirs[i + 8:i + 12], "big"),
                                int.from_bytes(dirs[i + 12:i + 16], "big"))
                for i in range(0, len(dirs), 16)}
        off, length = recs[b"name"]
        f.seek(off + length - 1)
        b = f.read(1)
        f.seek(off + length - 1)
        f.write(bytes([b[0] ^ 1]))
    check(os.path.getsize(font) == size, "the font copy changed size")
    for want in ("1 written, 0 up to date", "0 written, 1 up to date"):
        rc, _, err = run([a.banshi, "batch", os.path.join(figs, "fig.xml"), "-o", out3,
                          "--fonts", fmap, "--lang", "en"])
        check(rc == 0 and want in err,
              "changed font byte, want %r: %d %s" % (want, rc, err[-400:]))
    # the stamp names the hash of each file only through the key: a stamp
    # of another scheme (another key) is simply not up to date
    stamp = os.path.join(out3, ".banshi", "fig.pdf.stamp")
    with open(stamp) as f:
        text = f.read()
    key = [l for l in text.splitlines() if l.startswith("key ")]
    check(len(key) == 1, "stamp key line: %r" % key)
    if key:
        with open(stamp, "w") as f:
            f.write(text.replace(key[0], "key " + "0" * 64))
        rc, _, err = run([a.banshi, "batch", os.path.join(figs, "fig.xml"), "-o", out3,
                          "--fonts", fmap, "--lang", "en"])
        check(rc == 0 and "1 written, 0 up to date" in err,
              "a stamp of another key: %d %s" % (rc, err[-400:]))
    # the bag holds the image beside the source copy, as its figure names it
    bag = os.path.join(w, "bag-figs")
    rc, _, err = run([a.banshi, "archive", out2, "-o", bag, "--lang", "en"])
    check(rc == 0, "archive with a figure: %d %s" % (rc, err))
    if rc == 0:
        problems, _, listed = independent_verify(bag)
        check(not problems and listed.get("data/documents/pic.png") ==
              sha256_of(os.path.join(figs, "pic.png")), "image in the bag: %s %s"
              % (problems, sorted(listed)))
        rec = ET.parse(os.path.join(bag, "data/metadata/fig.xml")).getroot()
        names = [d.findtext("计算机文件名") for d in rec.findall("文件数据/文档")]
        check(names == ["data/documents/fig.pdf", "data/documents/fig.xml",
                        "data/documents/pic.png"], "record files: %s" % names)
    # an image changed after the batch: refused
    grey_png(os.path.join(figs, "pic.png"), 50)
    rc, _, err = run([a.banshi, "archive", out2, "-o", bag + "2", "--lang", "en"])
    check(rc == 1 and "pic.png' changed after the PDF was made" in err,
          "changed image archived: %d %s" % (rc, err))

def group_batch_messages(a):
    """The log of a source found up to date repeats the messages of its
    render (text and objects, with the same counts), from its stamp."""
    w = fresh(a, "batch_messages")
    src = os.path.join(w, "src")
    os.makedirs(src)
    shutil.copy(os.path.join(ROOT, "tests", "cases", "norm-spaces.xml"), src)
    with open(os.path.join(src, "plain.xml"), "w", encoding="utf-8") as f:
        f.write(source_text(3))
    out = os.path.join(w, "out")
    runs = []
    for want in ("2 written, 0 up to date", "0 written, 2 up to date"):
        rc, _, err = run([a.banshi, "batch", src, "-o", out, "-j", "2", "--lang", "en"])
        check(rc == 0 and want in err, "want %r: %d %s" % (want, rc, err[-400:]))
        recs, _ = read_log(os.path.join(out, "banshi-batch.jsonl"))
        runs.append({os.path.basename(r["source"]): r for r in recs})
    first, second = runs
    norm = first.get("norm-spaces.xml", {})
    check(norm.get("warnings", 0) >= 3 and len(norm.get("messages", [])) == norm["warnings"],
          "rendered: %r" % norm)
    for name, r in first.items():
        again = second.get(name, {})
        check(again.get("status") == "up-to-date", "%s: %r" % (name, again))
        for key in ("messages", "diagnostics", "warnings", "errors"):
            check(again.get(key) == r[key], "%s: up to date, %s %r, rendered %r"
                  % (name, key, again.get(key), r[key]))


def group_batch_reuse(a):
    """A font whose glyphs and characters are the same as in an earlier
    document of the process reuses that document's embedding (program,
    CIDSet, ToUnicode: render_pdf.c, bs_font.embeds): each PDF of a batch
    where a font comes with the same glyph set, then another, then the
    first again (the store keeps two), must be the one `banshi render`
    writes alone, in either order of the batch."""
    w = fresh(a, "batch_reuse")
    src = os.path.join(w, "src")
    os.makedirs(src)
    same = "本年度主动公开政府信息十条，依申请公开三件。"
    bodies = [
        same,
        same,
        "依申请公开三件，本年度主动公开政府信息十条。",  # same glyphs, reordered
        same + "另有一件。",                               # one glyph more
        same,
        "全年受理行政复议案件两起，均已办结。",            # other glyphs
        same + "另有一件。",
        "全年受理行政复议案件两起，均已办结。",
        same,
    ]
    names = []
    for i, b in enumerate(bodies):
        name = "r%02d" % i
        body = ("<section><heading>总体情况</heading><p>%s</p></section>"
                "<section><heading>其他</heading><p>%s</p></section>"
                % (b, bodies[(i + 3) % len(bodies)] if i % 2 else b))
        text = ('<?xml version="1.0" encoding="UTF-8"?>\n<document '
                'version="1"><meta><title>某市2020年政府信息公开工作年度报告'
                "</title><issuer>某市人民政府</issuer><year>2020</year>"
                "<date>2021-01-20</date><number>政办〔2021〕1号</number>"
                "<retention>永久</retention></meta>\n<body>%s</body>"
                "</document>\n" % body)
        with open(os.path.join(src, name + ".xml"), "w",
                  encoding="utf-8") as f:
            f.write(text)
        names.append(name)
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    for opts in ([], ["--pdfa", "2a"]):
        tag = "-".join(opts) or "1b"
        alone = os.path.join(w, "alone-" + tag)
        os.makedirs(alone)
        for n in names:
            rc, out, err = run([a.banshi, "render", os.path.join(src, n + ".xml"),
                                "-o", os.path.join(alone, n + ".pdf")] + opts,
                               env=env)
            check(rc == 0, "render %s %s: %s" % (n, opts, err))
        for order in ("forward", "backward"):
            out = os.path.join(w, "batch-%s-%s" % (tag, order))
            seq = names if order == "forward" else names[::-1]
            rc, o, err = run([a.banshi, "batch"] +
                             [os.path.join(src, n + ".xml") for n in seq] +
                             ["-o", out, "-j", "1", "-q"] + opts, env=env)
            check(rc == 0, "batch %s %s: %s" % (order, opts, err[-2000:]))
            for n in names:
                got = os.path.join(out, n + ".pdf")
                want = os.path.join(alone, n + ".pdf")
                check(os.path.exists(got) and
                      open(got, "rb").read() == open(want, "rb").read(),
                      "batch %s %s: %s.pdf differs from its render alone"
                      % (order, opts, n))


GROUPS = {
    "batch": group_batch, "batch_kill": group_batch_kill,
    "batch_shard": group_batch_shard, "archive": group_archive,
    "batch_previous": group_batch_previous,
    "batch_messages": group_batch_messages,
    "batch_reuse": group_batch_reuse,
}
