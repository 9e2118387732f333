# SPDX-License-Identifier: Apache-2.0
"""Bags under attack and after damage (banshi archive, archive --verify).

  bag_damage      a valid bag, then one bag per kind of damage, each checked
                  with archive --verify: missing, altered, unlisted and
                  duplicated files, manifest paths that leave the bag or
                  data/, truncated manifests, bad bagit.txt, bad
                  Payload-Oxum, missing tag files and data/, and links and
                  FIFOs anywhere in the bag (a link is an error and is never
                  followed: a link to an outside copy with the right
                  checksum must not verify).
  archive_hostile archive treats stamps as untrusted input (an image name
                  that climbs out of the source's folder creates nothing
                  outside the bag), never builds a bag through a link
                  planted at its temporary name, escapes spreadsheet
                  formulas in data/index.csv, lists the sources the batch
                  log records as failed, and refuses control characters in
                  --organization.
  archive_index   the index of a realistic list of issuing bodies is in
                  pinyin order, place names read otherwise than their
                  characters' most frequent reading included (长沙 cháng,
                  厦门 xià, 重庆 chóng, 六安 lù, 蚌埠 bèng, 乐清 yuè ...),
                  while 长 stays zhǎng where it is (长子县).
"""
import csv
import os
import shutil
import subprocess

from bstest import *  # noqa: F401,F403
from t_batch import fresh, grey_png, independent_verify, sha256_of, source_text


def make_batch(banshi, w, bodies, figure=False, broken=()):
    """Sources in w/src (one folder each, a figure in the first when asked),
    rendered by banshi batch into w/out.  Returns (src, out, sources)."""
    src = os.path.join(w, "src")
    sources = []
    for i, body in enumerate(bodies):
        d = os.path.join(src, "d%02d" % i)
        os.makedirs(d)
        p = os.path.join(d, "report.xml")
        text = None
        if figure and i == 0:
            grey_png(os.path.join(d, "pic.png"), 120)
            text = source_text(i, issuer=body, body='<p>见下图。</p><figure src="pic.png">'
                               "<caption>图1　示例</caption></figure>")
        else:
            text = source_text(i, issuer=body)
        if i in broken:
            text = text.replace("</body>", "<p>未闭合</body>")
        with open(p, "w", encoding="utf-8") as f:
            f.write(text)
        sources.append(p)
    out = os.path.join(w, "out")
    rc, _, err = run([banshi, "batch", src, "-o", out, "-j", "2", "--lang", "en"])
    check(rc == (1 if broken else 0), "batch: %d %s" % (rc, err[-500:]))
    return src, out, sources


def verify(a, bag, timeout=60):
    """archive --verify with a time limit (a FIFO that is opened would hang
    it): (exit status, stderr)."""
    try:
        p = subprocess.run([a.banshi, "archive", "--verify", bag, "--lang", "en"],
                           capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timed out"
    return p.returncode, p.stderr


# ---------------------------------------------------------------------------
# bag_damage

def group_bag_damage(a):
    w = fresh(a, "bag_damage")
    _, out, _ = make_batch(a.banshi, w, ["北京市人民政府", "上海市人民政府", "安徽省人民政府"],
                           figure=True)
    good = os.path.join(w, "good")
    rc, _, err = run([a.banshi, "archive", out, "-o", good, "--lang", "en"])
    if not check(rc == 0, "archive: %d %s" % (rc, err)):
        return
    rc, err = verify(a, good)
    check(rc == 0 and "is valid" in err, "the good bag: %s %s" % (rc, err))
    outside = os.path.join(w, "outside")
    os.makedirs(outside)
    pdf_rel = "data/documents/d01/report.pdf"

    def damaged(name, damage):
        bag = os.path.join(w, name)
        shutil.copytree(good, bag, symlinks=True)
        damage(bag)
        return bag

    def manifest_lines(bag, name="manifest-sha256.txt"):
        with open(os.path.join(bag, name), encoding="utf-8") as f:
            return f.read().splitlines(True)

    def write_manifest(bag, lines, name="manifest-sha256.txt"):
        with open(os.path.join(bag, name), "w", encoding="utf-8") as f:
            f.write("".join(lines))

    def flip(bag):
        with open(os.path.join(bag, pdf_rel), "r+b") as f:
            f.seek(500)
            c = f.read(1)
            f.seek(500)
            f.write(bytes([c[0] ^ 1]))

    def unlisted(bag):
        with open(os.path.join(bag, "data/documents/extra.txt"), "w") as f:
            f.write("not in the manifest\n")

    def escape(bag):
        with open(os.path.join(bag, "manifest-sha256.txt"), "a") as f:
            f.write("%s  data/../../outside/x\n" % ("0" * 64))
            f.write("%s  /etc/passwd\n" % ("0" * 64))
            f.write("%s  data/%%2e%%2e/%%2e%%2e/x\n" % ("0" * 64))
            f.write("%s  bagit.txt\n" % ("0" * 64))

    def truncated(bag):
        text = "".join(manifest_lines(bag))
        # cut in the middle of the third line
        cut = text.index("\n", text.index("\n") + 1) + 30
        with open(os.path.join(bag, "manifest-sha256.txt"), "w") as f:
            f.write(text[:cut])

    def duplicate(bag):
        lines = manifest_lines(bag)
        write_manifest(bag, lines + [lines[0]])

    def oxum(bag, value):
        p = os.path.join(bag, "bag-info.txt")
        with open(p, encoding="utf-8") as f:
            text = f.read()
        text = "\n".join("Payload-Oxum: " + value if l.startswith("Payload-Oxum:")
                         else l for l in text.split("\n"))
        with open(p, "w", encoding="utf-8") as f:
            f.write(text)

    def bagit(bag, text):
        p = os.path.join(bag, "bagit.txt")
        if text is None:
            os.unlink(p)
        else:
            with open(p, "wb") as f:
                f.write(text)

    def link_file(bag):
        # the PDF replaced by a link to an outside copy: same checksum
        p = os.path.join(bag, pdf_rel)
        copy = os.path.join(outside, "report.pdf")
        shutil.copy(p, copy)
        os.unlink(p)
        os.symlink(copy, p)

    def link_folder(bag):
        d = os.path.join(bag, "data/documents/d02")
        copy = os.path.join(outside, "d02")
        shutil.copytree(d, copy)
        shutil.rmtree(d)
        os.symlink(copy, d)

    def link_data(bag):
        d = os.path.join(bag, "data")
        copy = os.path.join(outside, "data")
        shutil.copytree(d, copy)
        shutil.rmtree(d)
        os.symlink(copy, d)

    def link_tag(bag):
        p = os.path.join(bag, "bagit.txt")
        copy = os.path.join(outside, "bagit.txt")
        shutil.copy(p, copy)
        os.unlink(p)
        os.symlink(copy, p)

    def fifo(bag):
        # a FIFO listed in the manifest: opening it would wait for a writer
        p = os.path.join(bag, pdf_rel)
        os.unlink(p)
        os.mkfifo(p)

    def fifo_unlisted(bag):
        os.mkfifo(os.path.join(bag, "data/pipe"))

    def edited_tag(bag):
        with open(os.path.join(bag, "bag-info.txt"), "a") as f:
            f.write("Contact-Name: x\n")

    def upper_hex(bag):
        write_manifest(bag, [l[:64].upper() + l[64:] for l in manifest_lines(bag)])
        # the tag manifest then records the new manifest's digest
        lines = manifest_lines(bag, "tagmanifest-sha256.txt")
        digest = sha256_of(os.path.join(bag, "manifest-sha256.txt"))
        write_manifest(bag, [digest + l[64:] if l.endswith(" manifest-sha256.txt\n")
                             else l for l in lines], "tagmanifest-sha256.txt")

    pdf_at = "%s: error: " % pdf_rel
    cases = [
        # name, damage, exit status, texts that must appear
        ("missing", lambda b: os.unlink(os.path.join(b, pdf_rel)), 1,
         [pdf_at + "missing (listed in 'manifest-sha256.txt')", "Payload-Oxum"]),
        ("altered", flip, 1, [pdf_at + "altered: SHA-256 is"]),
        ("unlisted", unlisted, 1,
         ["data/documents/extra.txt: error: not listed in 'manifest-sha256.txt'"]),
        ("escape", escape, 1,
         ["path 'data/../../outside/x' is outside the bag",
          "path '/etc/passwd' is outside the bag",
          "path 'data/%2e%2e/%2e%2e/x' is outside the bag",
          "path 'bagit.txt' is outside the bag or outside data/"]),
        ("truncated", truncated, 1, ["not listed in 'manifest-sha256.txt'"]),
        ("duplicate", duplicate, 1, ["listed twice in 'manifest-sha256.txt'"]),
        ("oxum-wrong", lambda b: oxum(b, "1.1"), 1, ["Payload-Oxum records 1.1"]),
        ("oxum-malformed", lambda b: oxum(b, "many.files"), 1,
         ["Payload-Oxum must be 'OCTETS.COUNT'"]),
        ("bagit-missing", lambda b: bagit(b, None), 1,
         ["bagit.txt: error: missing; every bag must have it"]),
        ("bagit-version", lambda b: bagit(b, b"BagIt-Version: one\n"
                                          b"Tag-File-Character-Encoding: UTF-8\n"), 1,
         ["bagit.txt: error: BagIt format"]),
        ("bagit-encoding", lambda b: bagit(b, b"BagIt-Version: 1.0\n"), 1,
         ["bagit.txt: error: BagIt format"]),
        ("bagit-bom", lambda b: bagit(b, b"\xef\xbb\xbfBagIt-Version: 1.0\n"
                                      b"Tag-File-Character-Encoding: UTF-8\n"), 1,
         ["bagit.txt: error: BagIt format"]),
        ("bagit-extra", lambda b: bagit(b, b"BagIt-Version: 1.0\n"
                                        b"Tag-File-Character-Encoding: UTF-8\nx: y\n"), 1,
         ["bagit.txt: error: BagIt format"]),
        ("manifest-missing", lambda b: os.unlink(os.path.join(b, "manifest-sha256.txt")),
         1, ["manifest-sha256.txt: error: missing; every bag must have it"]),
        ("data-missing", lambda b: shutil.rmtree(os.path.join(b, "data")), 1,
         ["data: error: missing; every bag must have it"]),
        ("tag-edited", edited_tag, 1, ["bag-info.txt: error: altered"]),
        ("link-file", link_file, 1, [pdf_at + "a symbolic link"]),
        ("link-folder", link_folder, 1, ["data/documents/d02: error: a symbolic link"]),
        ("link-data", link_data, 1, ["/data: error: a symbolic link"]),
        ("link-tag", link_tag, 1, ["bagit.txt: error: a symbolic link"]),
        ("fifo", fifo, 1, [pdf_at + "not a regular file or folder"]),
        ("fifo-unlisted", fifo_unlisted, 1, ["data/pipe: error: not a regular file"]),
        ("upper-hex", upper_hex, 0, ["is valid"]),
    ]
    for name, damage, want_rc, texts in cases:
        bag = damaged(name, damage)
        rc, err = verify(a, bag)
        check(rc == want_rc, "%s: verify exit %s, want %d\n%s" % (name, rc, want_rc, err))
        for t in texts:
            check(t in err, "%s: %r not reported:\n%s" % (name, t, err))
        if want_rc:
            check("has %s problems" % err.count(": error: ") in err,
                  "%s: problem count differs from the errors listed:\n%s" % (name, err))
    # one link reported once, not once per file behind it
    rc, err = verify(a, os.path.join(w, "link-data"))
    check(err.count(": error: ") == 1, "link-data: %s" % err)


# ---------------------------------------------------------------------------
# archive_hostile

def group_archive_hostile(a):
    w = fresh(a, "archive_hostile")
    _, out, sources = make_batch(a.banshi, w, ["北京市人民政府", "上海市人民政府"], figure=True)

    # (a) an image name in a stamp that climbs out of the source's folder.
    # The stamp also names another copy of the source (same digest), four
    # folders deep, and the bag is made two folders deep: four steps up
    # from the source find a real file with the recorded digest, and four
    # steps up from the source's folder in the bag leave the bag.
    stamp = os.path.join(out, ".banshi/d00/report.pdf.stamp")
    with open(stamp, encoding="utf-8") as f:
        original = f.read()
    deep = os.path.join(w, "s1/s2/s3/s4")
    os.makedirs(deep)
    shutil.copy(sources[0], os.path.join(deep, "report.xml"))
    shutil.copy(os.path.join(os.path.dirname(sources[0]), "pic.png"), deep)
    esc = os.path.join(w, "esc")
    os.makedirs(esc)
    with open(os.path.join(esc, "f.txt"), "w") as f:
        f.write("planted\n")
    climb = "../../../../esc/f.txt"
    lines = []
    for line in original.splitlines(True):
        if line.startswith("source "):
            line = "source %s\n" % os.path.join(deep, "report.xml")
        lines.append(line)
        if line.startswith("image "):
            lines.append("image %s %s\n" % (sha256_of(os.path.join(esc, "f.txt")), climb))
    with open(stamp, "w", encoding="utf-8") as f:
        f.write("".join(lines))
    parent = os.path.join(w, "b1/b2")
    os.makedirs(parent)
    bag = os.path.join(parent, "bag")
    rc, _, err = run([a.banshi, "archive", out, "-o", bag, "--lang", "en"])
    check(rc == 1 and "names the image '%s', outside the source's folder" % climb in err,
          "stamp image outside: %d %s" % (rc, err))
    check(not os.path.exists(bag), "a bag was written from a hostile stamp")
    check(os.listdir(parent) == [], "files appeared outside the bag: %s"
          % os.listdir(parent))
    check(os.listdir(esc) == ["f.txt"], "files appeared in %s: %s" % (esc, os.listdir(esc)))
    with open(stamp, "w", encoding="utf-8") as f:
        f.write(original)

    # (b) a link planted at the temporary name: the child names its link
    # after its own process id and then becomes banshi (exec keeps the id)
    target = os.path.join(w, "target")
    os.makedirs(target)
    bag = os.path.join(w, "bag-link")
    pid = os.fork()
    if pid == 0:
        try:
            os.symlink(target, os.path.join(w, ".bag-link.%d.tmp" % os.getpid()))
            fd = os.open(os.devnull, os.O_WRONLY)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.execv(a.banshi, [a.banshi, "archive", out, "-o", bag, "--lang", "en"])
        finally:
            os._exit(127)
    _, status = os.waitpid(pid, 0)
    rc = os.waitstatus_to_exitcode(status)
    check(rc == 3, "archive with a link at its temporary name: exit %d, want 3" % rc)
    check(os.listdir(target) == [], "the bag was built through the link: %s"
          % os.listdir(target))
    check(not os.path.lexists(bag), "the bag name was made despite the link")
    for f in os.listdir(w):
        if f.startswith(".bag-link."):
            os.unlink(os.path.join(w, f))

    # spreadsheet formulas in the index, and the sources the batch failed
    w2 = os.path.join(w, "formulas")
    os.makedirs(w2)
    cells = {"title": "=HYPERLINK(\"http://example.com\",\"点击\")",
             "number": "-2+3", "issuer": "@SUM(1,2)", "retention": "+永久"}
    src = os.path.join(w2, "src")
    os.makedirs(src)
    text = source_text(1, issuer=cells["issuer"])
    text = text.replace("<title>%s2020年政府信息公开工作年度报告</title>" % cells["issuer"],
                        "<title>%s</title>" % cells["title"].replace("&", "&amp;"))
    text = text.replace("<number>政办〔2021〕1号</number>", "<number>%s</number>" % cells["number"])
    text = text.replace("<retention>永久</retention>", "<retention>%s</retention>"
                        % cells["retention"])
    with open(os.path.join(src, "f.xml"), "w", encoding="utf-8") as f:
        f.write(text)
    with open(os.path.join(src, "broken.xml"), "w", encoding="utf-8") as f:
        f.write(source_text(2).replace("</body>", "<p>未闭合</body>"))
    out2 = os.path.join(w2, "out")
    rc, _, err = run([a.banshi, "batch", src, "-o", out2, "--no-normalize", "--lang", "en"])
    check(rc == 1, "batch with a broken source: %d %s" % (rc, err[-400:]))
    bag = os.path.join(w2, "bag")
    rc, _, err = run([a.banshi, "archive", out2, "-o", bag, "--lang", "en"])
    if check(rc == 0, "archive: %d %s" % (rc, err)):
        with open(os.path.join(bag, "data/index.csv"), encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
        head, row = rows[0], rows[1]
        for key, col in (("title", "题名"), ("number", "文件编号"), ("issuer", "责任者"),
                         ("retention", "保管期限")):
            got = row[head.index(col)]
            check(got == "'" + cells[key], "CSV %s: %r, want %r" % (col, got, "'" + cells[key]))
        # left out, and said so: on standard error and in the bag
        broken = os.path.join(src, "broken.xml")
        check("%s: warning: left out of the bag: the batch log 'banshi-batch.jsonl' "
              "records it as 'invalid'" % broken in err, "left-out warning: %s" % err)
        check("1 sources of the batch have no PDF" in err, "left-out summary: %s" % err)
        with open(os.path.join(bag, "data/left-out.csv"), encoding="utf-8-sig",
                  newline="") as f:
            left = list(csv.reader(f))
        check(len(left) == 2 and left[1][0] == broken and left[1][2] == "invalid"
              and left[1][3].startswith(broken + ":") and "error:" in left[1][3],
              "left-out.csv: %r" % left)
        with open(os.path.join(bag, "bag-info.txt"), encoding="utf-8") as f:
            check("Left-Out-Sources: 1 (data/left-out.csv)\n" in f.read(), "bag-info")
        problems, _, listed = independent_verify(bag)
        check(not problems and "data/left-out.csv" in listed, "bag: %s" % problems)
    # once the source is fixed and rendered, it is no longer left out
    with open(os.path.join(src, "broken.xml"), "w", encoding="utf-8") as f:
        f.write(source_text(2))
    run([a.banshi, "batch", src, "-o", out2, "--no-normalize"])
    rc, _, err = run([a.banshi, "archive", out2, "-o", bag + "2", "--lang", "en"])
    check(rc == 0 and "left out" not in err, "after the fix: %d %s" % (rc, err))

    # bag-info.txt holds one field per line
    rc, _, err = run([a.banshi, "archive", out, "-o", os.path.join(w, "bag-nl"),
                      "--organization", "某馆\nPayload-Oxum: 0.0"])
    check(rc == 2 and not os.path.exists(os.path.join(w, "bag-nl")),
          "--organization with a line break: %d %s" % (rc, err))


# ---------------------------------------------------------------------------
# archive_index

# Issuing bodies as offices name themselves, with the pinyin of the first
# characters (tone marks left out: the order is decided before them).
BODIES = [
    ("厦门市财政局", "xia men"),
    ("长沙市教育局", "chang sha"),
    ("上海市人民政府", "shang hai"),
    ("重庆市人民政府", "chong qing"),
    ("六安市人民政府", "lu an"),
    ("蚌埠市生态环境局", "beng bu"),
    ("乐清市人民政府", "yue qing"),
    ("乐山市人民政府", "le shan"),
    ("单县人民政府", "shan xian"),
    ("长春市人民政府办公厅", "chang chun"),
    ("长治市人民政府", "chang zhi"),
    ("常州市人民政府", "chang zhou"),
    ("长子县人民政府", "zhang zi"),
    ("西安市人民政府", "xi an"),
    ("夏县人民政府", "xia xian"),
    ("北京市人民政府", "bei jing"),
    ("包头市人民政府", "bao tou"),
    ("安徽省人民政府", "an hui"),
    ("成都市人民政府", "cheng du"),
    ("崇左市人民政府", "chong zuo"),
    ("陆丰市人民政府", "lu feng"),
    ("浙江省人民政府", "zhe jiang"),
]


def group_archive_index(a):
    w = fresh(a, "archive_index")
    _, out, _ = make_batch(a.banshi, w, [b for b, _ in BODIES])
    bag = os.path.join(w, "bag")
    rc, _, err = run([a.banshi, "archive", out, "-o", bag, "--lang", "en"])
    if not check(rc == 0, "archive: %d %s" % (rc, err)):
        return
    want = [b for b, _ in sorted(BODIES, key=lambda x: x[1])]
    with open(os.path.join(bag, "data/index.csv"), encoding="utf-8-sig", newline="") as f:
        got = [r[1] for r in list(csv.reader(f))[1:]]
    for i, (g, wnt) in enumerate(zip(got, want)):
        if g != wnt:
            fail("index row %d: %s, want %s (pinyin order: %s)" % (i + 1, g, wnt, want))
            break
    check(len(got) == len(want), "index has %d rows" % len(got))
    rc, txt, _ = run(["pdftotext", "-raw", os.path.join(bag, "data/index.pdf"), "-"])
    pos = [txt.replace("\n", "").find(b) for b in want]
    check(all(p >= 0 for p in pos) and pos == sorted(pos), "index PDF order: %s" % pos)


GROUPS = {
    "bag_damage": group_bag_damage,
    "archive_hostile": group_archive_hostile,
    "archive_index": group_archive_index,
}
