# SPDX-License-Identifier: Apache-2.0
"""Visual regression tests, as typesetting engines keep theirs (Typst's
reference tests): the example and every typography test document
(tests/typo/*.xml) rendered to page images and compared with the reference
images in tests/visual/.

  visual   each document rendered to PDF (and checked with Preflight), each
           page rendered with pdftoppm at 50 dpi in grey, thresholded
           to black and white (grey below 3/4 is ink), compared pixel by pixel with
           tests/visual/NAME-PAGE.png; more than 0.1 % of the pixels
           differing (a line moved by one pixel differs by thousands, the
           rasteriser's rounding by a few) fails, and writes the new image
           and a difference image (red: only in the new page, blue: only in
           the reference) beside the work files.

`tests/run.py --banshi B --work W --update-visual` rewrites the references
for review (look at the changed PNGs before committing them).  The PNGs
are 1-bit, a few KB a page, written and read here (zlib only).
"""
import glob
import os
import struct
import zlib

from bstest import *  # noqa: F401,F403

VISUAL = os.path.join(HERE, "visual")
DPI = 50
TOLERANCE = 0.001  # share of a page's pixels that may differ


def documents():
    docs = [("example", EXAMPLE)]
    for src in sorted(glob.glob(os.path.join(HERE, "typo", "*.xml"))):
        docs.append((os.path.basename(src)[:-4], src))
    return docs


def _chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)


def write_png(path, w, h, rows, color_type=0, bits=1):
    """rows: bytes per row, already packed."""
    raw = b"".join(b"\0" + r for r in rows)
    data = (b"\x89PNG\r\n\x1a\n" +
            _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bits, color_type, 0, 0, 0)) +
            _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(data)


def read_bitmap(path):
    """(w, h, rows of 0/1 ink flags) of a 1-bit PNG written by write_png."""
    data = open(path, "rb").read()
    pos, idat, w, h = 8, b"", 0, 0
    while pos < len(data):
        n, t = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if t == b"IHDR":
            w, h, bits, ct = struct.unpack(">IIBB", body[:10])
            if bits != 1 or ct != 0:
                raise ValueError("%s: not a 1-bit grey PNG" % path)
        elif t == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = (w + 7) // 8
    rows = []
    for y in range(h):
        line = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        if line[0] != 0:
            raise ValueError("%s: filtered rows are not read here" % path)
        bits = []
        for x in range(w):
            bits.append(0 if line[1 + x // 8] >> (7 - x % 8) & 1 else 1)
        rows.append(bits)
    return w, h, rows


def pack(bitrows):
    out = []
    for bits in bitrows:
        b = bytearray((len(bits) + 7) // 8)
        for x, ink in enumerate(bits):
            if not ink:  # white is 1 in a grey PNG
                b[x // 8] |= 0x80 >> (x % 8)
        out.append(bytes(b))
    return out


def render_pages(a, name, src):
    """Black-and-white bitmaps of every page of the source's PDF."""
    pdf = os.path.join(a.work, "visual-%s.pdf" % name)
    rc, out, err = run([a.banshi, "render", src, "-o", pdf])
    if not check(rc == 0, "visual: %s: exit %d %s" % (name, rc, err)):
        return []
    base = os.path.join(a.work, "visual-%s" % name)
    for old in glob.glob(base + "-*.pgm"):
        os.remove(old)
    rc, out, err = run(["pdftoppm", "-r", str(DPI), "-gray", pdf, base])
    pages = []
    for pgm in sorted(glob.glob(base + "-*.pgm"), key=lambda p: int(p.rsplit("-", 1)[1][:-4])):
        d = open(pgm, "rb").read()
        parts = d.split(maxsplit=4)
        w, h = int(parts[1]), int(parts[2])
        pix = parts[4][-w * h:]
        pages.append((w, h, [[1 if pix[y * w + x] < 192 else 0 for x in range(w)]
                             for y in range(h)]))
    return pages


def group_visual(a):
    os.makedirs(a.work, exist_ok=True)
    update = getattr(a, "update_visual", False)
    pdfs = []
    for name, src in documents():
        pages = render_pages(a, name, src)
        pdfs.append(os.path.join(a.work, "visual-%s.pdf" % name))
        refs = sorted(glob.glob(os.path.join(VISUAL, "%s-*.png" % name)))
        if update:
            for r in refs:
                os.remove(r)
            for i, (w, h, rows) in enumerate(pages):
                write_png(os.path.join(VISUAL, "%s-%d.png" % (name, i + 1)), w, h, pack(rows))
            print("visual: %s: %d pages written" % (name, len(pages)))
            continue
        check(len(refs) == len(pages), "visual: %s: %d pages, %d reference images"
              % (name, len(pages), len(refs)))
        for i, (w, h, rows) in enumerate(pages):
            ref = os.path.join(VISUAL, "%s-%d.png" % (name, i + 1))
            if not os.path.exists(ref):
                continue
            rw, rh, rrows = read_bitmap(ref)
            if (rw, rh) != (w, h):
                fail("visual: %s page %d: %dx%d, reference %dx%d" % (name, i + 1, w, h, rw, rh))
                continue
            diff = sum(1 for y in range(h) for x in range(w) if rows[y][x] != rrows[y][x])
            if diff > TOLERANCE * w * h:
                new = os.path.join(a.work, "visual-%s-%d.new.png" % (name, i + 1))
                write_png(new, w, h, pack(rows))
                rgb = []
                for y in range(h):
                    line = bytearray()
                    for x in range(w):
                        n, r = rows[y][x], rrows[y][x]
                        line += bytes((200, 0, 0) if n and not r else (0, 0, 200) if r and not n
                                      else (0, 0, 0) if n else (255, 255, 255))
                    rgb.append(bytes(line))
                dpath = os.path.join(a.work, "visual-%s-%d.diff.png" % (name, i + 1))
                write_png(dpath, w, h, rgb, color_type=2, bits=8)
                fail("visual: %s page %d differs from %s in %d pixels (%.2f %%): new image %s, "
                     "difference %s" % (name, i + 1, os.path.relpath(ref, ROOT), diff,
                                         100.0 * diff / (w * h), new, dpath))


    # every document of the references is PDF/A-1b
    if not update:
        res, log = preflight(pdfs, a.work)
        for p in pdfs:
            v = res.get(os.path.basename(p))
            check(v and v[0] and not v[1], "visual: %s is not PDF/A-1b: %s"
                  % (os.path.basename(p), v))


GROUPS = {"visual": group_visual}
