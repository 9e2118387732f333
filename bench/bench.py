#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""banshi against the tools users would otherwise pick, and how banshi's cost
grows.  Run through bench/run.sh, which installs the tools and builds banshi.

    bench.py --banshi PATH [--quick] [--only NAMES] [--no-scaling]
             [--no-profile]

Per tool, on the example report (the same text, tables and fonts in each
tool's own format, from peers/): median and minimum time of one document as
a fresh process (hyperfine), time per document for a batch of 200 distinct
documents (issuing body and every number differ), peak RSS of the largest
process, PDF bytes, and the PDF/A-1b verdict of Apache PDFBox Preflight,
with the ratio of each tool to banshi.  Then banshi alone: 1 to 1,000
pages, tables of 10 to 10,000 rows, batches of 10 to 10,000 documents, and
a callgrind profile by stage.  Everything goes to bench/RESULTS.md.
"""
import argparse
import datetime
import glob
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORK = os.path.join(HERE, "work")
OUT = os.path.join(HERE, "out")
PEERS = os.path.join(HERE, "peers")
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, HERE)

import gen  # noqa: E402

EPOCH = "1611849600"  # 2021-01-29, the report's date of issue
FOP_JARS = ("fop commons-io xml-apis batik-all commons-logging "
            "xmlgraphics-commons xml-apis-ext fontbox2").split()
LO_PDFA = ('pdf:writer_pdf_Export:{"SelectPdfVersion":'
           '{"type":"long","value":"1"}}')

# Targets of the issue, all with PDF/A on.
T_SINGLE_MS = 50.0      # one fresh document, median
T_SINGLE_VS_TYPST = 2.0
T_BATCH_MS = 10.0       # per document in a batch, 2 cores
T_BATCH_VS_TYPST = 2.5
T_BATCH_VS_LO = 7.0
T_RSS_MB = 30.0         # peak RSS of a batch of any size
# Issue 12 (with the Noto CJK fonts as defaults)
T12_SINGLE_MS = 20.0    # one fresh document, median
T12_BATCH_CPU_MS = 4.0  # CPU per document in a batch
T12_BYTES = 130000      # the example's PDF


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


def sh(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


def env_for_tools():
    e = dict(os.environ)
    e["SOURCE_DATE_EPOCH"] = EPOCH
    e["BANSHI_DATA"] = ROOT
    e.setdefault("HOME", "/root")
    return e


ENV = env_for_tools()


# ---------------------------------------------------------------------------
# measuring

def hyperfine(cmd, runs, warmup=1, cwd=None):
    """Median and minimum wall time (s) of a fresh process running cmd."""
    js = os.path.join(WORK, "hf.json")
    p = subprocess.run(["hyperfine", "-N", "--warmup", str(warmup), "--runs",
                        str(runs), "--export-json", js, "--",
                        " ".join(_quote(c) for c in cmd)],
                       capture_output=True, text=True, env=ENV, cwd=cwd)
    if p.returncode != 0:
        raise RuntimeError("hyperfine failed: %s\n%s" % (cmd, p.stderr[-2000:]))
    r = json.load(open(js))["results"][0]
    return r["median"], r["min"]


def _quote(s):
    if re.match(r"^[\w@%+=:,./-]+$", s):
        return s
    return "'" + s.replace("'", "'\"'\"'") + "'"


def timed(cmd, cwd=None, stdin=None, cpu=None):
    """Run cmd once under /usr/bin/time: (wall s, peak RSS KB of the
    largest process, exit status).  With a list `cpu`, append the CPU time
    (user + system, s) of the process and the children it waited for."""
    tf = os.path.join(WORK, "time.txt")
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-o", tf, "-f", "%M %U %S"] + cmd,
                       capture_output=True, text=True, env=ENV, cwd=cwd,
                       input=stdin)
    wall = time.perf_counter() - t0
    try:
        f = open(tf).read().split()[-3:]
        rss, c = int(f[0]), float(f[1]) + float(f[2])
    except (OSError, ValueError, IndexError):
        rss, c = 0, 0.0
    if cpu is not None:
        cpu.append(c)
    if p.returncode != 0:
        log("exit %d: %s\n%s" % (p.returncode, " ".join(cmd)[:300],
                                   (p.stderr or "")[-1500:]))
    return wall, rss, p.returncode


def loop_cmd(banshi, pairs, jobs):
    """A command running `banshi render IN -o OUT` once per pair as fresh
    processes, `jobs` at a time (xargs)."""
    lst = os.path.join(WORK, "pairs-%d.txt" % jobs)
    with open(lst, "w") as f:
        for src, pdf in pairs:
            f.write("%s\n%s\n" % (src, pdf))
    return ["xargs", "-a", lst, "-d", "\n", "-n", "2", "-P", str(jobs), "sh",
            "-c", 'exec "$0" render "$1" -o "$2"', banshi]


def has_batch(banshi):
    p = sh([banshi, "--help"], env=ENV)
    return "batch" in p.stdout + p.stderr


# ---------------------------------------------------------------------------
# tools

class Tool:
    """name, version, fmt (source format), single(src, pdf) -> argv,
    batch(srcs, outdir) -> argv, note on how the batch runs."""

    def __init__(self, name, version, fmt, single, batch, how, runs=5,
                 batch_runs=1):
        self.name, self.version, self.fmt = name, version, fmt
        self.single, self.batch, self.how, self.runs = single, batch, how, runs
        self.batch_runs = batch_runs


def tool_list(a, jobs):
    tools = []
    b = a.banshi
    ver = sh([b, "--version"], env=ENV).stdout.strip()
    single = lambda s, o: [b, "render", s, "-o", o]  # noqa: E731
    loop = lambda ss, d: loop_cmd(b, [(s, os.path.join(d, _stem(s) + ".pdf")) for s in ss], jobs)  # noqa: E731
    if has_batch(b):
        tools.append(Tool("banshi", ver, "xml", single,
                          lambda ss, d: [b, "batch"] + ss + ["-o", d, "-j", str(jobs)],
                          "`banshi batch -j %d`: a supervisor and %d worker processes forked "
                          "after fonts and template are loaded once" % (jobs, jobs), runs=30, batch_runs=5))
    elif a.jobs_bin:
        tools.append(Tool("banshi", ver, "xml", single,
                          lambda ss, d: [a.jobs_bin, "-j", str(jobs), d] + ss,
                          "no `banshi batch` command yet: `bench/jobs.c`, one process running "
                          "the pipeline's job API (`bs_job_run`, what a batch command calls) "
                          "in %d threads with fonts and template loaded once" % jobs, runs=30,
                          batch_runs=5))
    tools.append(Tool("banshi-processes", ver, "xml", single, loop,
                      "a fresh `banshi render` process per document, %d at a time "
                      "(xargs -P %d)" % (jobs, jobs), runs=30, batch_runs=3))
    if shutil.which("fop") and shutil.which("javac"):
        cp = ":".join("/usr/share/java/%s.jar" % j for j in FOP_JARS)
        cls = os.path.join(WORK, "fopbatch")
        if not os.path.exists(os.path.join(cls, "FopBatch.class")):
            os.makedirs(cls, exist_ok=True)
            p = sh(["javac", "-nowarn", "-d", cls, "-cp", cp,
                    os.path.join(PEERS, "FopBatch.java")])
            if p.returncode:
                log("javac FopBatch failed:", p.stderr[-800:])
        conf = os.path.join(PEERS, "fop.xconf")
        v = _version(["fop", "-version"], r"FOP Version (\S+)")
        tools.append(Tool("FOP", "Apache FOP " + v, "fo",
                          lambda s, o: ["fop", "-q", "-c", conf, "-pdfprofile", "PDF/A-1b",
                                        "-fo", s, "-pdf", o],
                          lambda ss, d: ["java", "-cp", cp + ":" + cls, "FopBatch", conf, d,
                                         "PDF/A-1b"] + ss,
                          "one JVM, one FopFactory, FOP API (`-pdfprofile PDF/A-1b`)",
                          batch_runs=2))
    if shutil.which("weasyprint"):
        v = _version(["weasyprint", "--version"], r"version (\S+)")
        tools.append(Tool("WeasyPrint", "WeasyPrint " + v, "html",
                          lambda s, o: ["weasyprint", "-q", "--pdf-variant", "pdf/a-1b",
                                        "--pdf-identifier", _stem(s), s, o],
                          lambda ss, d: ["/usr/bin/python3", os.path.join(PEERS, "wp_batch.py"), d,
                                         "pdf/a-1b"] + ss,
                          "one Python process, `HTML().write_pdf(variant='pdf/a-1b')` per document"))
    if shutil.which("soffice"):
        prof = "-env:UserInstallation=file://" + os.path.join(WORK, "lo-profile")
        v = _version(["soffice", prof, "--version"], r"LibreOffice (\S+)")

        def lo_single(s, o):
            return ["sh", "-c", 'soffice "$0" --headless --convert-to "$1" --outdir "$2" "$3" '
                    '>/dev/null && mv "$2/$(basename "$3" .fodt).pdf" "$4"',
                    prof, LO_PDFA, os.path.join(WORK, "lo-single"), s, o]
        tools.append(Tool("LibreOffice", "LibreOffice " + v, "fodt", lo_single,
                          lambda ss, d: ["soffice", prof, "--headless", "--convert-to", LO_PDFA,
                                         "--outdir", d] + ss,
                          "one `soffice --convert-to` call with all files (PDF/A-1 export filter)",
                          batch_runs=3))
    node_mod = os.path.join(WORK, "typst", "node_modules", "@myriaddreamin")
    if shutil.which("node") and os.path.isdir(node_mod):
        js = os.path.join(WORK, "typst", "compile.js")
        shutil.copy(os.path.join(PEERS, "typst", "compile.js"), js)
        tools.append(Tool("Typst", "Typst 0.14.2 (npm typst-ts-node-compiler 0.7.0)", "typ",
                          lambda s, o: ["node", js, "--pdfa", s, o],
                          lambda ss, d: ["node", js, "--pdfa", "--batch", d] + ss,
                          "one Node process, one compiler, memo cache kept across documents "
                          "(`pdfStandard: a-1b`)", batch_runs=3))
    if a.only:
        keep = {x.lower() for x in a.only.split(",")} | {"banshi"}
        tools = [t for t in tools if t.name.lower() in keep or t.name.startswith("banshi")]
    return tools


def _stem(p):
    return os.path.splitext(os.path.basename(p))[0]


def _version(cmd, rx):
    p = sh(cmd, env=ENV)
    m = re.search(rx, p.stdout + p.stderr)
    return m.group(1) if m else "?"


def source_of(fmt):
    if fmt == "xml":
        return gen.EXAMPLE
    return os.path.join(PEERS, "report." + fmt)


# ---------------------------------------------------------------------------
# the comparison

def compare(a, jobs):
    n = a.batch
    tools = tool_list(a, jobs)
    res = []
    for t in tools:
        log("%s: one document" % t.name)
        d = os.path.join(WORK, "cmp", t.name.lower())
        shutil.rmtree(d, ignore_errors=True)
        srcs = gen.write_variants(source_of(t.fmt), t.fmt, os.path.join(d, "in"), n)
        single_pdf = os.path.join(OUT, "%s.pdf" % t.name.lower())
        os.makedirs(os.path.join(WORK, "lo-single"), exist_ok=True)
        r = {"tool": t, "how": t.how}
        try:
            one = srcs[0]
            prev = res[0] if res and t.name == "banshi-processes" and "med" in res[0] else None
            if prev:  # the same command as banshi's one-document run
                for k in ("med", "min", "rss1", "bytes", "pdf"):
                    r[k] = prev[k]
                single_pdf = None
            w, rss1, rc = (0, r.get("rss1"), 0) if prev else timed(t.single(one, single_pdf))
            if prev:
                pass
            elif rc != 0 or not os.path.exists(single_pdf):
                raise RuntimeError("%s failed on one document" % t.name)
            else:
                r["med"], r["min"] = hyperfine(t.single(one, single_pdf),
                                               t.runs if not a.quick else 3)
                r["rss1"] = rss1
                r["bytes"] = os.path.getsize(single_pdf)
                r["pdf"] = single_pdf
            log("%s: batch of %d" % (t.name, n))
            outd = os.path.join(d, "out")
            # the best of a few runs: the least disturbed by other work
            best = None
            for k in range(1 if a.quick else t.batch_runs):
                shutil.rmtree(outd, ignore_errors=True)
                os.makedirs(outd)
                cpu = []
                w, rssb, rc = timed(t.batch(srcs, outd), cpu=cpu)
                if best is None or w < best[0]:
                    best = (w, cpu[0], rssb, rc)
            w, c, rssb, rc = best
            pdfs = sorted(glob.glob(os.path.join(outd, "*.pdf")))
            r["batch_ok"] = len(pdfs) == n and rc == 0
            r["batch"] = w / n
            r["batch_cpu"] = c / n
            r["batch_runs"] = 1 if a.quick else t.batch_runs
            r["rssb"] = rssb
            r["batch_bytes"] = sum(os.path.getsize(p) for p in pdfs) / max(1, len(pdfs))
            r["batch_pdf"] = pdfs[-1] if pdfs else None
            r["npdfs"] = len(pdfs)
        except (RuntimeError, OSError) as e:
            r["error"] = str(e)
            log(str(e))
        res.append(r)
    # Preflight every single-document PDF and the last PDF of every batch
    # in one JVM (base names must differ)
    import bstest
    pf_dir = os.path.join(WORK, "preflight")
    shutil.rmtree(pf_dir, ignore_errors=True)
    os.makedirs(pf_dir)
    files = []
    for r in res:
        for key, tag in (("pdf", "single"), ("batch_pdf", "batch")):
            if r.get(key) and not (tag == "single" and r["tool"].name == "banshi-processes"):
                dst = os.path.join(pf_dir, "%s-%s.pdf" % (r["tool"].name.lower(), tag))
                shutil.copy(r[key], dst)
                files.append(dst)
    verdicts = {}
    if files and shutil.which("java"):
        log("Preflight of %d PDFs" % len(files))
        verdicts, _ = bstest.preflight(files, pf_dir)
    for r in res:
        for tag in ("single", "batch"):
            name = r["tool"].name.lower()
            if name == "banshi-processes" and tag == "single":
                name = "banshi"  # the same run
            r["pf_" + tag] = verdicts.get("%s-%s.pdf" % (name, tag))
    return res


def pf_text(v):
    if v is None:
        return "not checked"
    ok, errs = v
    if ok:
        return "**pass**"
    codes = {}
    for e in errs:
        c = e.split()[0] if e else "?"
        codes[c] = codes.get(c, 0) + 1
    return "fail (" + ", ".join("%s ×%d" % (c, k) for c, k in sorted(codes.items())) + ")"


# ---------------------------------------------------------------------------
# scaling (banshi only)

def scaling(a, jobs):
    b = a.banshi
    d = os.path.join(WORK, "scale")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    out = {"pages": [], "rows": []}

    def one(kind, n, text, reps):
        src = os.path.join(d, "%s%d.xml" % (kind, n))
        open(src, "w", encoding="utf-8").write(text)
        pdf = src[:-4] + ".pdf"
        walls, rss = [], 0
        for _ in range(reps):
            w, r, rc = timed([b, "render", src, "-o", pdf])
            if rc != 0:
                return None
            walls.append(w)
            rss = max(rss, r)
        pages = _pages(pdf)
        return {"n": n, "time": statistics.median(walls), "rss": rss,
                "pages": pages, "bytes": os.path.getsize(pdf)}

    sizes_p = (1, 10, 100) if a.quick else (1, 10, 100, 1000)
    for n in sizes_p:
        log("scaling: %d pages" % n)
        r = one("pages", n, gen.pages_doc(n), 5 if n <= 100 else 3)
        if r:
            out["pages"].append(r)
    sizes_r = (10, 1000) if a.quick else (10, 1000, 10000)
    for n in sizes_r:
        log("scaling: table of %d rows" % n)
        r = one("rows", n, gen.table_doc(n), 5 if n <= 1000 else 3)
        if r:
            out["rows"].append(r)
    sizes_b = (10, 100, 1000) if a.quick else (10, 100, 1000, 10000)
    srcs = gen.write_tiny(os.path.join(d, "tiny"), max(sizes_b))
    modes = []
    if has_batch(b):
        modes.append(("`banshi batch -j %d`" % jobs,
                      lambda ss, od: [b, "batch"] + ss + ["-o", od, "-j", str(jobs)]))
    elif a.jobs_bin:
        modes.append(("the job API in %d threads (`bench/jobs.c`)" % jobs,
                      lambda ss, od: [a.jobs_bin, "-j", str(jobs), od] + ss))
    modes.append(("a fresh process per document, %d at a time" % jobs,
                  lambda ss, od: loop_cmd(b, [(s, os.path.join(od, _stem(s) + ".pdf")) for s in ss], jobs)))
    out["batch_modes"] = []
    for label, cmd in modes:
        rows = []
        for n in sizes_b:
            log("scaling: batch of %d, %s" % (n, label))
            od = os.path.join(d, "tiny-out-%d" % n)
            shutil.rmtree(od, ignore_errors=True)
            os.makedirs(od)
            w, rss, rc = timed(cmd(srcs[:n], od))
            made = len(glob.glob(os.path.join(od, "*.pdf")))
            rows.append({"n": n, "time": w, "rss": rss, "ok": rc == 0 and made == n})
            shutil.rmtree(od, ignore_errors=True)
        out["batch_modes"].append((label, rows))
    return out


def _pages(pdf):
    p = sh(["pdfinfo", pdf])
    m = re.search(r"Pages:\s+(\d+)", p.stdout)
    return int(m.group(1)) if m else 0


def growth(rows, unit):
    """Marginal cost per unit between successive sizes, and a verdict: the
    growth is linear when the marginal cost of the largest step is at most
    1.5 times that of the step before (fixed costs excluded)."""
    out = []
    for i, r in enumerate(rows):
        if i == 0:
            out.append((r, None, None))
            continue
        p = rows[i - 1]
        dn = r["n"] - p["n"]
        dt = (r["time"] - p["time"]) / dn * 1000
        dm = (r["rss"] - p["rss"]) / dn
        out.append((r, dt, dm))
    steps = [x[1] for x in out if x[1] is not None]
    linear = None
    if len(steps) >= 2 and steps[-2] > 0:
        linear = steps[-1] <= 1.5 * steps[-2]
    return out, linear


# ---------------------------------------------------------------------------
# profile (callgrind: instruction counts, reliable on a shared machine)

STAGES = (
    ("parse + validate", ("bs_parse_file",)),
    ("normalise", ("bs_normalize",)),
    ("layout", ("bs_layout_document",)),
    ("PDF: font subsetting", ("hb_subset_plan_create_or_fail", "hb_subset_plan_execute_or_fail",
                              "bs_cff_subset_make")),
    ("PDF: compression", ("deflate", "libdeflate_zlib_compress")),
    ("PDF: all", ("bs_render_pdf",)),
    ("whole job", ("bs_job_run",)),
)


def profile(a, scale_dir):
    if not shutil.which("valgrind"):
        return None
    b = a.banshi
    cases = [("example report", gen.EXAMPLE)]
    for f, label in (("pages100.xml", "100 pages"), ("rows1000.xml", "table of 1,000 rows")):
        p = os.path.join(scale_dir, f)
        if os.path.exists(p):
            cases.append((label, p))
    res = []
    for label, src in cases:
        log("profile:", label)
        cg = os.path.join(WORK, "callgrind.out")
        p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + cg,
                            b, "render", src, "-o", os.path.join(WORK, "profile.pdf")],
                           capture_output=True, text=True, env=ENV)
        m = re.search(r"refs:\s+([\d,]+)", p.stderr)
        total = int(m.group(1).replace(",", "")) if m else 0
        ann = sh(["callgrind_annotate", "--inclusive=yes", "--threshold=100", cg]).stdout
        incl = {}
        for line in ann.splitlines():
            mm = re.match(r"^\s*([\d,]+) \([^)]*\)\s+\S*?:(\w+)(?:\.isra\.\d+|'\d+)* ", line)
            if mm:
                v = int(mm.group(1).replace(",", ""))
                incl[mm.group(2)] = max(incl.get(mm.group(2), 0), v)
        row = {"case": label, "total": total}
        for name, funcs in STAGES:
            row[name] = sum(incl.get(f, 0) for f in funcs)
        res.append(row)
    return res


# ---------------------------------------------------------------------------
# the report

def machine():
    cpu = "?"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = 0
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal"):
            mem = int(line.split()[1]) / 1024 / 1024
    deb = open("/etc/debian_version").read().strip() if os.path.exists("/etc/debian_version") else "?"
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram": mem, "debian": deb,
            "kernel": platform.release(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "load": os.getloadavg()}


def ms(x):
    return "%.1f ms" % (x * 1000) if x < 1 else "%.2f s" % x


def mb(kb):
    return "%.1f MB" % (kb / 1024)


def ratio(x, y):
    return "%.1f×" % (x / y) if x and y else "–"


def write_report(a, m, cmp, sc, prof, jobs, elapsed, load_end):
    L = []
    w = L.append
    w("# banshi against the tools users would otherwise pick\n")
    w("Generated by `sh bench/run.sh%s` (%s). Rerun that command to refresh "
      "every number; nothing here is edited by hand except the notes at the "
      "end, which come from `bench/notes.md`.\n" % (" --quick" if a.quick else "", "quick run" if a.quick else "full run"))
    w("**Machine:** %d CPUs (`nproc`), %s, %.1f GiB RAM, Debian %s, Linux %s. "
      "**Date:** %s. **Load average** at the start %.2f / %.2f / %.2f and at "
      "the end %.2f / %.2f / %.2f (other work on the machine makes single "
      "timings noisy; the minimum is the least disturbed figure). "
      "The run took %.0f s%s.\n"
      % (m["nproc"], m["cpu"], m["ram"], m["debian"], m["kernel"], m["date"],
         m["load"][0], m["load"][1], m["load"][2], load_end[0], load_end[1],
         load_end[2], elapsed,
         ", at scheduling priority nice %d (every tool alike)" % os.nice(0) if os.nice(0) else ""))
    w("## The same report in every tool, PDF/A on\n")
    w("Source: the 荔湾区应急管理局 2020 report (5 pages, three tables with "
      "merged cells, two CJK fonts), written in each tool's own format "
      "(`examples/liwan-emergency-2020.xml` for banshi, `bench/peers/report.*` "
      "for the others). Every tool is asked for PDF/A-1b (LibreOffice: its "
      "PDF/A-1 export). One document: hyperfine, fresh process, %s runs "
      "after a warm-up. Batch: %d distinct documents (issuing body and every "
      "number differ, `bench/gen.py`), wall time of the whole batch ÷ %d, "
      "the best of several runs (5 banshi, 3 Typst and LibreOffice, 2 FOP, "
      "1 WeasyPrint), and in brackets the CPU time (user + system) per "
      "document of that run, which other work on the machine disturbs far "
      "less. Peak RSS: `/usr/bin/time -f %%M`, the largest process. "
      "Preflight: Apache PDFBox 2 `Validator_A1b` on the one-document PDF "
      "and on the last PDF of the batch.\n"
      % ("30 (banshi) / 5 (others)" if not a.quick else "3", a.batch, a.batch))
    base = cmp[0] if cmp and cmp[0]["tool"].name == "banshi" else None
    w("| tool | one document: median (min) | per document in a batch of %d (CPU) | "
      "peak RSS: one / batch | PDF bytes (batch mean) | PDF/A-1b Preflight: one / batch |" % a.batch)
    w("|---|---|---|---|---|---|")
    for r in cmp:
        t = r["tool"]
        if "error" in r:
            w("| %s | failed: %s | | | | |" % (t.name, r["error"]))
            continue
        w("| **%s** (%s) | %s (%s) | %s (%s)%s | %s / %s | %s (%s) | %s / %s |" % (
            t.name, t.version, ms(r["med"]), ms(r["min"]), ms(r["batch"]),
            ms(r["batch_cpu"]),
            "" if r["batch_ok"] else " (only %d PDFs)" % r["npdfs"],
            mb(r["rss1"]), mb(r["rssb"]), "{:,}".format(r["bytes"]),
            "{:,.0f}".format(r["batch_bytes"]), pf_text(r["pf_single"]),
            pf_text(r["pf_batch"])))
    w("")
    w("How each batch runs:\n")
    for r in cmp:
        w("- %s: %s" % (r["tool"].name, r["how"]))
    w("")
    if base and "error" not in base:
        w("### Ratios: each tool ÷ banshi (higher = banshi better)\n")
        w("| tool | one document (median) | one document (min) | batch, per document | "
          "batch, CPU per document | peak RSS, one | peak RSS, batch | PDF bytes |")
        w("|---|---|---|---|---|---|---|---|")
        for r in cmp[1:]:
            if "error" in r:
                continue
            w("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                r["tool"].name, ratio(r["med"], base["med"]), ratio(r["min"], base["min"]),
                ratio(r["batch"], base["batch"]), ratio(r["batch_cpu"], base["batch_cpu"]),
                ratio(r["rss1"], base["rss1"]),
                ratio(r["rssb"], base["rssb"]), ratio(r["bytes"], base["bytes"])))
        w("")
        w("### Targets\n")
        by = {r["tool"].name: r for r in cmp if "error" not in r}
        typ, lo = by.get("Typst"), by.get("LibreOffice")
        rows = []
        rows.append(("one fresh document ≤ %.0f ms median" % T_SINGLE_MS,
                     ms(base["med"]), base["med"] * 1000 <= T_SINGLE_MS))
        if typ:
            rows.append(("one document ≥ %.1f× faster than Typst" % T_SINGLE_VS_TYPST,
                         ratio(typ["med"], base["med"]), typ["med"] / base["med"] >= T_SINGLE_VS_TYPST))
        rows.append(("batch ≤ %.0f ms per document on %d cores (wall time, as measured)" % (T_BATCH_MS, jobs),
                     ms(base["batch"]), base["batch"] * 1000 <= T_BATCH_MS))
        per2 = base["batch_cpu"] / jobs
        rows.append(("the same from CPU time: CPU per document ÷ %d cores (what an idle "
                     "machine gives when the threads keep both cores busy)" % jobs,
                     ms(per2), per2 * 1000 <= T_BATCH_MS))
        if typ:
            rows.append(("batch ≥ %.1f× faster than Typst (wall)" % T_BATCH_VS_TYPST,
                         ratio(typ["batch"], base["batch"]), typ["batch"] / base["batch"] >= T_BATCH_VS_TYPST))
            rows.append(("batch ≥ %.1f× less CPU per document than Typst" % T_BATCH_VS_TYPST,
                         ratio(typ["batch_cpu"], base["batch_cpu"]),
                         typ["batch_cpu"] / base["batch_cpu"] >= T_BATCH_VS_TYPST))
        if lo:
            rows.append(("batch ≥ %.0f× faster than LibreOffice (wall)" % T_BATCH_VS_LO,
                         ratio(lo["batch"], base["batch"]), lo["batch"] / base["batch"] >= T_BATCH_VS_LO))
            rows.append(("batch ≥ %.0f× less CPU per document than LibreOffice" % T_BATCH_VS_LO,
                         ratio(lo["batch_cpu"], base["batch_cpu"]),
                         lo["batch_cpu"] / base["batch_cpu"] >= T_BATCH_VS_LO))
        first = sc["batch_modes"][0][1] if sc and sc.get("batch_modes") else []
        big = max(first, key=lambda x: x["n"]) if first else None
        rss_all = [base["rssb"]] + [x["rss"] for x in first]
        rows.append(("peak RSS ≤ %.0f MB for a batch of any size (%s)" % (
            T_RSS_MB, "up to %s documents" % "{:,}".format(big["n"]) if big else "%d documents" % a.batch),
            mb(max(rss_all)), max(rss_all) / 1024 <= T_RSS_MB))
        rows.append(("issue 12: one fresh document ≤ %.0f ms median" % T12_SINGLE_MS,
                     ms(base["med"]), base["med"] * 1000 <= T12_SINGLE_MS))
        rows.append(("issue 12: batch ≤ %.0f ms of CPU per document (user + system, "
                     "all processes)" % T12_BATCH_CPU_MS,
                     ms(base["batch_cpu"]), base["batch_cpu"] * 1000 <= T12_BATCH_CPU_MS))
        rows.append(("issue 12: the same ÷ %d cores" % jobs, ms(per2),
                     per2 * 1000 <= T12_BATCH_CPU_MS))
        rows.append(("issue 12: the example report's PDF ≤ {:,} bytes (bench variant 1)".format(T12_BYTES),
                     "{:,}".format(base["bytes"]), base["bytes"] <= T12_BYTES))
        rows.append(("PDF/A-1b Preflight passes", pf_text(base["pf_single"]),
                     bool(base["pf_single"] and base["pf_single"][0])))
        w("| target | measured | met? |")
        w("|---|---|---|")
        for name, val, ok in rows:
            w("| %s | %s | %s |" % (name, val, "**yes**" if ok else "**no**"))
        w("")
    if sc:
        w("## How banshi's cost grows\n")
        w("Generated core documents (`bench/gen.py`); wall time of `banshi "
          "render` (median of 3-5 runs) and its peak RSS. *Marginal* = extra "
          "time and memory per added unit between a size and the one before: "
          "it stays flat when growth is linear.\n")
        for key, title, unit in (("pages", "Pages of running text (section, two paragraphs, page break)", "page"),
                                 ("rows", "One table of 4 columns, header repeated on every page", "row")):
            rows, linear = growth(sc[key], unit)
            w("**%s** — growth %s\n" % (title, "linear" if linear else
                                         ("**worse than linear**" if linear is False else "–")))
            w("| %ss | PDF pages | time | peak RSS | PDF bytes | marginal time per %s | marginal RSS per %s |" % (unit, unit, unit))
            w("|---|---|---|---|---|---|---|")
            for r, dt, dm in rows:
                w("| {:,} | {:,} | {} | {} | {:,} | {} | {} |".format(
                    r["n"], r["pages"], ms(r["time"]), mb(r["rss"]), r["bytes"],
                    "–" if dt is None else "%.3f ms" % dt,
                    "–" if dm is None else "%.1f KB" % dm))
            w("")
        for label, brows in sc["batch_modes"]:
            rows, linear = growth(brows, "document")
            w("**Batches of one-page documents, %s** — growth %s\n" % (
                label, "linear" if linear else ("**worse than linear**" if linear is False else "–")))
            w("| documents | wall time | per document | peak RSS (largest process) | marginal time per document |")
            w("|---|---|---|---|---|")
            for r, dt, dm in rows:
                w("| {:,} | {} | {} | {} | {} |".format(
                    r["n"], ms(r["time"]), ms(r["time"] / r["n"]), mb(r["rss"]),
                    "–" if dt is None else "%.2f ms" % dt) + ("" if r["ok"] else " (failures)"))
            w("")
    if prof:
        w("## Where banshi's time goes (callgrind, instructions)\n")
        w("Inclusive instruction counts of each stage, in millions, and their "
          "share of the whole process (start-up, dynamic linking and exit "
          "included). Instruction counts do not depend on other load, unlike "
          "times; on this machine about 6-7 million instructions take 1 ms.\n")
        names = [n for n, _ in STAGES]
        w("| case | process | " + " | ".join(names) + " |")
        w("|---|---|" + "---|" * len(names))
        for r in prof:
            t = r["total"] or 1
            w("| %s | %.1f M | " % (r["case"], r["total"] / 1e6) +
              " | ".join("%.1f M (%.0f%%)" % (r[n] / 1e6, 100.0 * r[n] / t) for n in names) + " |")
        w("")
    notes = os.path.join(HERE, "notes.md")
    if os.path.exists(notes):
        w(open(notes, encoding="utf-8").read())
    with open(os.path.join(HERE, "RESULTS.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(L) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--banshi", required=True)
    ap.add_argument("--quick", action="store_true", help="small sizes, few runs")
    ap.add_argument("--only", help="comma-separated tools besides banshi")
    ap.add_argument("--no-scaling", action="store_true")
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--jobs-bin", help="bench/jobs.c built against this banshi")
    a = ap.parse_args()
    a.banshi = os.path.abspath(a.banshi)
    if a.jobs_bin:
        a.jobs_bin = os.path.abspath(a.jobs_bin)
    a.batch = 20 if a.quick else 200
    os.makedirs(WORK, exist_ok=True)
    os.makedirs(OUT, exist_ok=True)
    t0 = time.time()
    m = machine()
    cmp = compare(a, a.jobs)
    sc = None if a.no_scaling else scaling(a, a.jobs)
    prof = None if a.no_profile else profile(a, os.path.join(WORK, "scale"))
    write_report(a, m, cmp, sc, prof, a.jobs, time.time() - t0, os.getloadavg())
    log("wrote", os.path.join(HERE, "RESULTS.md"))


if __name__ == "__main__":
    main()
