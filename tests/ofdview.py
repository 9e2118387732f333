#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Draw the pages of an OFD file as grey PNG images, independently of banshi
(fontTools for the glyph outlines, a plain scanline fill): to look at what
the OFD writer makes, as pdftoppm shows a PDF.  There is no OFD viewer in
Debian 12.

    ofdview.py FILE.ofd OUTPREFIX [--dpi 60]   -> OUTPREFIX-1.png ...

Text (embedded fonts, TextCode X/Y/DeltaX, CGTransform), PathObject lines
(M/L, LineWidth) and ImageObject boxes (drawn as a grey frame) are drawn;
nothing else is needed for what banshi writes.
"""
import io
import posixpath
import struct
import sys
import zipfile
import zlib
import xml.etree.ElementTree as ET

from fontTools.pens.basePen import BasePen
from fontTools.ttLib import TTFont

NS = "{http://www.ofdspec.org/2016}"


class FlatPen(BasePen):
    """Outline -> closed polygons, curves flattened."""

    def __init__(self, glyphset):
        super().__init__(glyphset)
        self.polys, self.cur = [], []

    def _moveTo(self, p):
        self.cur = [p]

    def _lineTo(self, p):
        self.cur.append(p)

    def _curveToOne(self, p1, p2, p3):
        p0 = self.cur[-1]
        for i in range(1, 9):
            t = i / 8
            mt = 1 - t
            self.cur.append((mt ** 3 * p0[0] + 3 * mt * mt * t * p1[0] + 3 * mt * t * t * p2[0] + t ** 3 * p3[0],
                             mt ** 3 * p0[1] + 3 * mt * mt * t * p1[1] + 3 * mt * t * t * p2[1] + t ** 3 * p3[1]))

    def _qCurveToOne(self, p1, p2):
        p0 = self.cur[-1]
        for i in range(1, 7):
            t = i / 6
            mt = 1 - t
            self.cur.append((mt * mt * p0[0] + 2 * mt * t * p1[0] + t * t * p2[0],
                             mt * mt * p0[1] + 2 * mt * t * p1[1] + t * t * p2[1]))

    def _closePath(self):
        if len(self.cur) > 2:
            self.polys.append(self.cur)
        self.cur = []

    _endPath = _closePath


def fill(img, w, h, polys):
    """Non-zero fill of polygons (pixel coordinates) into img (bytearray)."""
    if not polys:
        return
    ys = [p[1] for poly in polys for p in poly]
    y0, y1 = max(int(min(ys)), 0), min(int(max(ys)) + 1, h)
    edges = []
    for poly in polys:
        for i in range(len(poly)):
            a, b = poly[i], poly[(i + 1) % len(poly)]
            if a[1] != b[1]:
                edges.append((a, b, 1 if b[1] > a[1] else -1))
    for y in range(y0, y1):
        sy = y + 0.5
        xs = []
        for a, b, d in edges:
            lo, hi = (a, b) if a[1] < b[1] else (b, a)
            if lo[1] <= sy < hi[1]:
                xs.append((a[0] + (sy - a[1]) * (b[0] - a[0]) / (b[1] - a[1]), d))
        xs.sort()
        wind = 0
        for i, (x, d) in enumerate(xs):
            prev = wind
            wind += d
            if prev == 0 and wind != 0:
                start = x
            elif prev != 0 and wind == 0:
                for px in range(max(int(start + 0.5), 0), min(int(x + 0.5), w)):
                    img[y * w + px] = 0


def png(path, w, h, img):
    raw = b"".join(b"\0" + bytes(img[y * w:(y + 1) * w]) for y in range(h))

    def chunk(t, d):
        c = t + d
        return struct.pack(">I", len(d)) + c + struct.pack(">I", zlib.crc32(c))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def main():
    src, prefix = sys.argv[1], sys.argv[2]
    dpi = float(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--dpi" else 60.0
    k = dpi / 25.4
    z = zipfile.ZipFile(src)
    ofd = ET.fromstring(z.read("OFD.xml"))
    root = ofd.find(NS + "DocBody").findtext(NS + "DocRoot")
    ddir = posixpath.dirname(root)
    doc = ET.fromstring(z.read(root))
    fonts = {}
    for el in doc.find(NS + "CommonData"):
        if el.tag in (NS + "PublicRes", NS + "DocumentRes"):
            rp = posixpath.join(ddir, el.text)
            res = ET.fromstring(z.read(rp))
            base = posixpath.join(posixpath.dirname(rp), res.get("BaseLoc", ""))
            for fe in res.iter(NS + "Font"):
                tf = TTFont(io.BytesIO(z.read(posixpath.join(base, fe.findtext(NS + "FontFile")))))
                fonts[fe.get("ID")] = tf
    for n, pe in enumerate(doc.find(NS + "Pages").findall(NS + "Page")):
        page = ET.fromstring(z.read(posixpath.join(ddir, pe.get("BaseLoc"))))
        box = [float(v) for v in page.find(NS + "Area").findtext(NS + "PhysicalBox").split()]
        w, h = int(box[2] * k + 0.5), int(box[3] * k + 0.5)
        img = bytearray([255]) * (w * h)
        for obj in page.iter():
            if obj.tag not in (NS + "TextObject", NS + "PathObject", NS + "ImageObject"):
                continue
            bx, by, bw, bh = [float(v) for v in obj.get("Boundary").split()]
            if obj.tag == NS + "ImageObject":
                fill(img, w, h, [[(bx * k, by * k), ((bx + bw) * k, by * k),
                                  ((bx + bw) * k, (by + bh) * k), (bx * k, (by + bh) * k)],
                                 [(bx * k + 2, by * k + 2), (bx * k + 2, (by + bh) * k - 2),
                                  ((bx + bw) * k - 2, (by + bh) * k - 2), ((bx + bw) * k - 2, by * k + 2)]])
                continue
            if obj.tag == NS + "PathObject":
                t = obj.findtext(NS + "AbbreviatedData").split()
                lw = max(float(obj.get("LineWidth", "0.353")) * k, 1.0)
                x0, y0, x1, y1 = float(t[1]), float(t[2]), float(t[4]), float(t[5])
                ax, ay, cx, cy = (bx + x0) * k, (by + y0) * k, (bx + x1) * k, (by + y1) * k
                if abs(ay - cy) < 0.01:
                    fill(img, w, h, [[(min(ax, cx), ay - lw / 2), (max(ax, cx), ay - lw / 2),
                                      (max(ax, cx), ay + lw / 2), (min(ax, cx), ay + lw / 2)]])
                else:
                    fill(img, w, h, [[(ax - lw / 2, min(ay, cy)), (ax + lw / 2, min(ay, cy)),
                                      (ax + lw / 2, max(ay, cy)), (ax - lw / 2, max(ay, cy))]])
                continue
            tf = fonts[obj.get("Font")]
            gs = tf.getGlyphSet()
            order = tf.getGlyphOrder()
            cmap = tf.getBestCmap()
            upem = tf["head"].unitsPerEm
            size = float(obj.get("Size"))
            cgt = {int(c.get("CodePosition")): int(c.findtext(NS + "Glyphs"))
                   for c in obj.findall(NS + "CGTransform")}
            tc = obj.find(NS + "TextCode")
            x, y = bx + float(tc.get("X")), by + float(tc.get("Y"))
            toks = (tc.get("DeltaX") or "").split()
            dx, i = [], 0
            while i < len(toks):
                if toks[i] == "g":
                    dx += [float(toks[i + 2])] * int(toks[i + 1])
                    i += 3
                else:
                    dx.append(float(toks[i]))
                    i += 1
            for j, ch in enumerate(tc.text or ""):
                name = order[cgt[j]] if j in cgt else cmap.get(ord(ch))
                if name:
                    pen = FlatPen(gs)
                    gs[name].draw(pen)
                    s = size / upem
                    fill(img, w, h, [[((x + px * s) * k, (y - py * s) * k) for px, py in poly]
                                     for poly in pen.polys])
                if j < len(dx):
                    x += dx[j]
        png("%s-%d.png" % (prefix, n + 1), w, h, img)


if __name__ == "__main__":
    main()
