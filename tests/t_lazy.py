# SPDX-License-Identifier: Apache-2.0
"""Libraries loaded when first needed (pipeline/dynlib.h).

  lazylibs  the program does not name libicui18n, libjpeg, libjansson or
            libminizip (readelf), and neither `--version` nor a render of
            the example loads them (the dynamic loader's LD_DEBUG=files
            log); each is loaded by the documents that need it and does
            its work there: a JPEG figure (libjpeg, the photo embedded as
            DCT), prose a pattern may match (libicui18n, the finding
            reported, which loads libjansson to read it back), OFD output
            (libminizip, a package with OFD.xml) and a batch archived
            (libicui18n's collator, libjansson for the log).  Then each is
            replaced by an empty file of its soname (LD_LIBRARY_PATH): the
            example still renders to the same bytes without any of them,
            and each document that needs one fails with exit status 3 and an error at the
            input that needed it (the figure's and the paragraph's line
            and column), never a crash.
"""
import glob
import os
import re
import shutil
import subprocess
import tempfile

from bstest import *  # noqa: F401,F403

LAZY = ("libicui18n.so", "libjpeg.so", "libjansson.so", "libminizip.so")
FIGURES = os.path.join(HERE, "cases", "figures")
SAMPLE_2021 = os.path.join(HERE, "reports", "sample-2021.xml")


def traced(args, cwd=None, env=None):
    """Run with the dynamic loader's file log; returns rc, out, err and
    {soname: how} of the lazy libraries seen, how being "startup" (a
    NEEDED entry) or "dlopen" (dynamically loaded), across every process
    of the run (batch workers included)."""
    d = tempfile.mkdtemp(prefix="banshi-ld-")
    try:
        e = dict(env or {}, LD_DEBUG="files",
                 LD_DEBUG_OUTPUT=os.path.join(d, "ld"))
        rc, out, err = run(args, cwd=cwd, env=e)
        seen = {}
        for log in glob.glob(os.path.join(d, "ld.*")):
            for line in open(log, encoding="utf-8", errors="replace"):
                m = re.search(r"\bfile=(\S+) \[\d+\];\s+(dynamically loaded"
                              r"|needed|generating)", line)
                if m and m.group(1).startswith(LAZY):
                    how = "dlopen" if m.group(2) == "dynamically loaded" \
                        else "startup"
                    seen.setdefault(m.group(1), how)
        return rc, out, err, seen
    finally:
        shutil.rmtree(d, ignore_errors=True)


def line_of(path, needle):
    """The 1-based line of the first occurrence of `needle` in a file."""
    text = open(path, encoding="utf-8").read()
    return text[:text.index(needle)].count("\n") + 1


def prose_source(d):
    """The 2021 sample with a paragraph that states 50 where the table has
    49: the prose check compiles a pattern and finds it."""
    s = open(SAMPLE_2021, encoding="utf-8").read()
    i = s.index("<overview>") + len("<overview>")
    src = os.path.join(d, "prose.xml")
    open(src, "w", encoding="utf-8").write(
        s[:i] + "\n    <p>2021年共收到依申请公开申请50件。</p>" + s[i:])
    return src


def figure_source(d):
    """A document with two JPEG figures (one CMYK, converted) beside it."""
    for f in ("photo.jpg", "cmyk.jpg"):
        shutil.copy(os.path.join(FIGURES, f), d)
    fig = os.path.join(d, "figure.xml")
    write_source(fig, '<p>插图如下。</p>\n<figure src="photo.jpg"><caption>图1'
                 '</caption></figure>\n<figure src="cmyk.jpg"><caption>图2'
                 '</caption></figure>', title="插图")
    return fig


def needing(banshi, d):
    """Runs of `banshi` that need the lazy libraries, made in folder d:
    [(what, args, [soname prefixes it loads])], each to exit 0."""
    return [
        ("JPEG figures", [banshi, "render", figure_source(d), "-o",
                          os.path.join(d, "figure.pdf")], ["libjpeg.so"]),
        ("prose check", [banshi, "validate", prose_source(d)],
         ["libicui18n.so", "libjansson.so"]),
        ("OFD output", [banshi, "render", EXAMPLE, "-o",
                        os.path.join(d, "example.ofd")], ["libminizip.so"]),
    ]


def group_lazylibs(a):
    d = os.path.join(a.work, "lazylibs")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    # the program does not name them
    if shutil.which("readelf"):
        rc, out, err = run(["readelf", "-d", a.banshi])
        needed = re.findall(r"\(NEEDED\).*\[(.+)\]", out)
        check(rc == 0 and needed, "readelf -d: %d %s" % (rc, err))
        for lib in needed:
            check(not lib.startswith(LAZY), "the program names %s" % lib)
    # neither --version nor the example loads them
    rc, out, err, seen = traced([a.banshi, "--version"])
    check(rc == 0 and not seen, "--version: %d, loaded %s" % (rc, seen))
    example_pdf = os.path.join(d, "example.pdf")
    rc, out, err, seen = traced([a.banshi, "render", EXAMPLE, "-o",
                                 example_pdf])
    check(rc == 0 and err == "", "example: %d %s" % (rc, err))
    check(not seen, "the example loads %s" % seen)

    # each is loaded where it is needed, and works
    sonames = {}

    def loads(what, want, got):
        for prefix in want:
            names = [s for s in got if s.startswith(prefix)]
            if check(names, "%s does not load %s (loaded %s)"
                     % (what, prefix, got)):
                check(got[names[0]] == "dlopen",
                      "%s: %s is not loaded with dlopen" % (what, names[0]))
                sonames[prefix] = names[0]
        check(all(s.startswith(tuple(want)) for s in got),
              "%s loads %s, only %s wanted" % (what, sorted(got), want))

    runs = needing(a.banshi, d)
    for what, args, libs in runs:
        rc, out, err, seen = traced(args)
        check(rc == 0, "%s: %d %s" % (what, rc, err))
        loads(what, libs, seen)
        if what == "prose check":
            check("所述数字50与表格不一致" in err, "prose finding: %s" % err)
    fig, prose = runs[0][1][2], runs[1][1][2]
    fig_pdf = os.path.join(d, "figure.pdf")
    if os.path.exists(fig_pdf):
        check(b"/DCTDecode" in open(fig_pdf, "rb").read(),
              "the photo is not embedded as a JPEG")
    ofd = os.path.join(d, "example.ofd")
    if os.path.exists(ofd):
        import zipfile
        with zipfile.ZipFile(ofd) as z:
            check("OFD.xml" in z.namelist() and z.testzip() is None,
                  "OFD package: %s" % z.namelist()[:5])

    src = os.path.join(d, "batch-src")
    os.makedirs(src)
    shutil.copy(EXAMPLE, os.path.join(src, "a.xml"))
    out_dir = os.path.join(d, "batch-out")
    rc, out, err = run([a.banshi, "batch", src, "-o", out_dir])
    check(rc == 0, "batch: %d %s" % (rc, err[-400:]))
    bag = os.path.join(d, "bag")
    rc, out, err, seen = traced([a.banshi, "archive", out_dir, "-o", bag,
                                 "--organization", "某市档案馆"])
    check(rc == 0 and os.path.exists(os.path.join(bag, "data", "index.pdf")),
          "archive: %d %s" % (rc, err))
    loads("archive", ["libicui18n.so", "libjansson.so"], seen)

    # each replaced by a file that is no library
    if not check(len(sonames) == len(LAZY), "sonames found: %s" % sonames):
        return
    fakes = {}
    for prefix, so in sonames.items():
        fakes[prefix] = os.path.join(d, "fake-" + prefix)
        os.makedirs(fakes[prefix])
        open(os.path.join(fakes[prefix], so), "w").close()

    def missing(what, args, prefix, located=None, lang_en=False):
        """args, with the library of `prefix` replaced, fail with status 3
        and a message naming its soname; with located=(file, line), the
        message is at that line."""
        rc, out, err = run(args, env={"LD_LIBRARY_PATH": fakes[prefix]})
        so = sonames[prefix]
        check(rc == 3, "%s without %s: exit %d (%s)" % (what, so, rc, err))
        word = "cannot load the library" if lang_en else "无法加载库"
        lines = [l for l in err.splitlines() if so in l and word in l
                 and "file too short" in l]
        if not check(lines, "%s without %s: no message: %s" % (what, so, err)):
            return
        if located:
            f, ln = located
            check(re.match(r"%s:%d:\d+: error: " % (re.escape(f), ln),
                           lines[0]),
                  "%s: not located at %s:%d: %s" % (what, f, ln, lines[0]))

    rc, out, err = run([a.banshi, "render", EXAMPLE, "-o",
                        os.path.join(d, "example-nolibs.pdf")],
                       env={"LD_LIBRARY_PATH": ":".join(fakes.values())})
    check(rc == 0 and err == "", "example without the libraries: %d %s"
          % (rc, err))
    if os.path.exists(example_pdf) and rc == 0:
        check(open(example_pdf, "rb").read() ==
              open(os.path.join(d, "example-nolibs.pdf"), "rb").read(),
              "the example differs without the libraries")
    nofig = os.path.join(d, "figure-nolib.pdf")
    missing("JPEG figure", [a.banshi, "render", fig, "-o", nofig],
            "libjpeg.so", (fig, line_of(fig, '<figure src="photo.jpg"')))
    check(not os.path.exists(nofig), "a PDF without its JPEG figure")
    missing("JPEG figure (en)", [a.banshi, "validate", fig, "--lang", "en"],
            "libjpeg.so", (fig, line_of(fig, '<figure src="photo.jpg"')),
            lang_en=True)
    missing("prose check", [a.banshi, "validate", prose], "libicui18n.so",
            (prose, line_of(prose, "<p>2021年共收到")))
    noofd = os.path.join(d, "nolib.ofd")
    missing("OFD output", [a.banshi, "render", EXAMPLE, "-o", noofd],
            "libminizip.so")
    check(not os.path.exists(noofd), "an OFD file without minizip")
    # a render with a warning reads its diagnostics back with Jansson
    warn = os.path.join(d, "warning.xml")
    write_source(warn, "<p>半角标点,在此。</p>")
    rc, out, err = run([a.banshi, "validate", warn])
    check(rc == 0 and "warning" in err, "warning source: %d %s" % (rc, err))
    missing("diagnostics", [a.banshi, "validate", warn], "libjansson.so")
    missing("archive", [a.banshi, "archive", out_dir, "-o",
                        os.path.join(d, "bag-nolibs"), "--organization", "某"],
            "libicui18n.so")
    missing("archive log", [a.banshi, "archive", out_dir, "-o",
                            os.path.join(d, "bag-nolibs2"), "--organization",
                            "某"], "libjansson.so")


GROUPS = {"lazylibs": group_lazylibs}
