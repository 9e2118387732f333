#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""An OFD checker written apart from banshi's writer (render_ofd.c), for the
tests: there is no OFD validator in Debian.

    ofdcheck.py FILE.ofd [--schema XSD] [--dump LAYOUT.txt] [--pdf FILE.pdf]
                [--json]

Checks, each failure printed as "FILE: problem" (exit 1 when any):
  package   a ZIP whose entries are unique, relative, inside the package;
            OFD.xml present; every entry referenced (no stray files)
  schema    every XML part validates against schemas/ofd/ofd.xsd (xmllint)
  paths     DocRoot, PublicRes, DocumentRes, Page BaseLoc, FontFile and
            MediaFile resolve to entries of the package (BaseLoc rules of
            GB/T 33190 7.5); no external location
  ids       IDs unique; MaxUnitID >= every ID; every Font, ResourceID and
            outline PageID reference resolves
  fonts     each font opens with fontTools; has cmap, head, hhea, hmtx,
            maxp, name (with a family name), OS/2, post and outlines (glyf +
            loca or CFF); embedding is not restricted (OS/2 fsType bit 1)
  text      every TextCode character maps to a glyph of its font: through
            a CGTransform when one covers it, else through the cmap (never
            .notdef); CGTransform glyphs exist and are not what the cmap
            gives anyway; DeltaX has exactly len(text)-1 entries
  glyphs    (--originals) each font's original is found by its PostScript
            name with fc-list, and every glyph drawn is checked to be the
            original's glyph for that character (the cmap's, or for a
            CGTransform some other glyph of the original): same CID name in
            a CID-keyed CFF font, same outline points in a TrueType font
  layout    (--dump) every glyph of the layout dump sits at the OFD's
            position within 0.1 mm (x and baseline), same characters, same
            runs, same pages, same page sizes
  pdf       (--pdf) every word pdftotext -bbox finds in the PDF is drawn by
            the OFD on the same page, starting within 0.1 mm of the word's
            xMin, its ascent/descent box within 0.1 mm of the word's yMin
            and yMax
With --json, prints a summary (pages, text objects, glyphs, fonts, largest
position difference) as JSON on standard output.
"""
import io
import json
import os
import posixpath
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile

from fontTools.ttLib import TTFont

NS = "{http://www.ofdspec.org/2016}"
MM_PER_PT = 25.4 / 72
TOL = 0.1  # mm

problems = []


def bad(msg):
    problems.append(msg)


def q(tag):
    return NS + tag


def parse_deltas(s):
    out = []
    toks = s.split()
    i = 0
    while i < len(toks):
        if toks[i] == "g":
            n = int(toks[i + 1])
            out.extend([float(toks[i + 2])] * n)
            i += 3
        else:
            out.append(float(toks[i]))
            i += 1
    return out


def nums(s):
    return [float(v) for v in s.split()]


class Package:
    def __init__(self, path, schema):
        self.path = path
        self.zf = zipfile.ZipFile(path)
        self.names = [i.filename for i in self.zf.infolist()]
        self.used = set()
        self.schema = schema
        self.xml = {}

    def check_entries(self):
        if len(set(self.names)) != len(self.names):
            bad("duplicate entries in the package")
        for n in self.names:
            if n.startswith("/") or ".." in n.split("/") or "\\" in n or ":" in n:
                bad("entry outside the package: %s" % n)
        if "OFD.xml" not in self.names:
            bad("no OFD.xml")
        r = self.zf.testzip()
        if r:
            bad("damaged entry %s" % r)

    def resolve(self, base_dir, loc, what):
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", loc) or loc.startswith("//"):
            bad("%s: external location %s" % (what, loc))
            return None
        p = posixpath.normpath(loc[1:] if loc.startswith("/") else
                               posixpath.join(base_dir, loc))
        if p.startswith(".."):
            bad("%s: %s leaves the package" % (what, loc))
            return None
        if p not in self.names:
            bad("%s: %s does not resolve (%s)" % (what, loc, p))
            return None
        self.used.add(p)
        return p

    def part(self, name, root):
        data = self.zf.read(name)
        try:
            tree = ET.fromstring(data)
        except ET.ParseError as e:
            bad("%s: not well-formed: %s" % (name, e))
            return None
        if tree.tag != q(root):
            bad("%s: root %s, want ofd:%s" % (name, tree.tag, root))
        self.xml[name] = data
        return tree

    def validate_all(self):
        if not self.schema:
            return
        with tempfile.TemporaryDirectory() as d:
            files = []
            for i, (name, data) in enumerate(sorted(self.xml.items())):
                f = os.path.join(d, "%04d.xml" % i)
                with open(f, "wb") as fh:
                    fh.write(data)
                files.append((name, f))
            # one xmllint for all parts
            r = subprocess.run(["xmllint", "--noout", "--schema", self.schema]
                               + [f for _, f in files],
                               capture_output=True, text=True)
            byfile = {f: n for n, f in files}
            for line in r.stderr.splitlines():
                m = re.match(r"^(\S+?\.xml)[: ]", line)
                if line.endswith(" validates"):
                    continue
                name = byfile.get(m.group(1), "?") if m else "?"
                bad("schema: %s: %s" % (name, line))
            if r.returncode != 0 and not any(p.startswith("schema") for p in problems):
                bad("schema: xmllint exit %d: %s" % (r.returncode, r.stderr[-500:]))


def font_checks(name, data):
    try:
        f = TTFont(io.BytesIO(data), lazy=False)
    except Exception as e:  # noqa: BLE001
        bad("font %s does not open: %s" % (name, e))
        return None
    for t in ("cmap", "head", "hhea", "hmtx", "maxp", "name", "OS/2", "post"):
        if t not in f:
            bad("font %s lacks the %s table" % (name, t))
    if not (("glyf" in f and "loca" in f) or "CFF " in f):
        bad("font %s has no outlines (glyf+loca or CFF)" % name)
    if "name" in f and not f["name"].getDebugName(1):
        bad("font %s: name table without a family name" % name)
    if "OS/2" in f and f["OS/2"].fsType & 0x2:
        bad("font %s: restricted licence embedding (fsType %d)" % (name, f["OS/2"].fsType))
    return f


def font_metrics(f):
    """ascent, descent (positive down) in em, as HarfBuzz reads them."""
    upem = f["head"].unitsPerEm
    os2 = f["OS/2"]
    if os2.fsSelection & (1 << 7):
        a, d = os2.sTypoAscender, os2.sTypoDescender
    else:
        a, d = f["hhea"].ascent, f["hhea"].descent
    return a / upem, -d / upem


_originals = {}


def original_font(psname):
    if psname in _originals:
        return _originals[psname]
    r = subprocess.run(["fc-list", ":postscriptname=" + psname, "file", "index"],
                       capture_output=True, text=True)
    f = None
    for line in r.stdout.splitlines():
        m = re.match(r"^(.*?): *(?::index=(\d+))?", line.strip())
        path = line.split(":")[0]
        idx = re.search(r"index=(\d+)", line)
        try:
            f = TTFont(path, fontNumber=int(idx.group(1)) if idx else -1, lazy=True)
            break
        except Exception:  # noqa: BLE001
            f = None
    _originals[psname] = f
    return f


def same_glyph(sub, sname, orig, oname):
    """The subset's glyph sname is the original's glyph oname."""
    if "CFF " in sub and "CFF " in orig:
        cid = sub["CFF "].cff.topDictIndex[0]
        if hasattr(cid, "ROS"):
            return sname == oname  # CID-keyed: names are cidNNNNN
        return sname == oname
    if "glyf" in sub and "glyf" in orig:
        a = sub["glyf"][sname]
        b = orig["glyf"][oname]
        if a.isComposite() or b.isComposite():
            return a.isComposite() == b.isComposite()
        ca, ea, fa = a.getCoordinates(sub["glyf"])
        cb, eb, fb = b.getCoordinates(orig["glyf"])
        return list(ca) == list(cb) and list(ea) == list(eb)
    return False


def check_originals(out_pages, fonts, variants=None):
    """variants: {character: another character}: a CGTransform on the
    first must name the original's glyph of the second."""
    n = 0
    for page in out_pages:
        for run in page["runs"]:
            tf, fe = fonts[run["font"]]
            orig = original_font(fe.get("FontName"))
            if orig is None:
                bad("the original of font %s is not installed" % fe.get("FontName"))
                return n
            ocmap = orig.getBestCmap()
            for ch, gname, cgt in zip(run["text"], run["glyphs"], run["cgt"]):
                if gname is None:
                    continue
                want = ocmap.get(ord(ch))
                if cgt:
                    # another glyph of the original (a variant form)
                    if gname == want:
                        bad("%r: CGTransform names the cmap's glyph" % ch)
                    if variants and ch in variants:
                        other = ocmap.get(ord(variants[ch]))
                        if other is None or not same_glyph(tf, gname, orig, other):
                            bad("%r: CGTransform glyph %s is not the original's %s (%r)"
                                % (ch, gname, other, variants[ch]))
                        _variants_seen.append(ch)
                    continue
                if want is None or not same_glyph(tf, gname, orig, want):
                    bad("%r in font %s: glyph %s is not the original's %s"
                        % (ch, fe.get("FontName"), gname, want))
                n += 1
    return n


_variants_seen = []


def check(path, schema, dump=None, pdf=None, originals=False, variants=None):
    pk = Package(path, schema)
    pk.check_entries()
    ofd = pk.part("OFD.xml", "OFD")
    if ofd is None:
        return None
    if ofd.get("DocType") != "OFD-A":
        bad("DocType %r, want OFD-A" % ofd.get("DocType"))
    bodies = ofd.findall(q("DocBody"))
    if len(bodies) != 1:
        bad("%d DocBody, OFD-A wants one document" % len(bodies))
        return None
    body = bodies[0]
    info = body.find(q("DocInfo"))
    customs = {}
    if info is not None:
        for c in info.iter(q("CustomData")):
            customs.setdefault(c.get("Name"), []).append(c.text)
    docroot = pk.resolve("", body.findtext(q("DocRoot")), "DocRoot")
    if not docroot:
        return None
    docdir = posixpath.dirname(docroot)
    doc = pk.part(docroot, "Document")
    ids = {}

    def take_id(el, where):
        i = el.get("ID")
        if i is None:
            return
        if i in ids:
            bad("%s: ID %s used twice" % (where, i))
        ids[i] = el

    cd = doc.find(q("CommonData"))
    maxid = int(cd.findtext(q("MaxUnitID")))
    fonts = {}    # id -> (TTFont, element)
    images = {}
    for kind in ("PublicRes", "DocumentRes"):
        for el in cd.findall(q(kind)):
            rp = pk.resolve(docdir, el.text, kind)
            if not rp:
                continue
            res = pk.part(rp, "Res")
            resdir = posixpath.dirname(rp)
            base = posixpath.join(resdir, res.get("BaseLoc", ""))
            for fe in res.iter(q("Font")):
                take_id(fe, rp)
                fp = pk.resolve(base, fe.findtext(q("FontFile")), "FontFile")
                if fp:
                    tf = font_checks(fp, pk.zf.read(fp))
                    if tf:
                        fonts[fe.get("ID")] = (tf, fe)
            for me in res.iter(q("MultiMedia")):
                take_id(me, rp)
                mp = pk.resolve(base, me.findtext(q("MediaFile")), "MediaFile")
                if mp:
                    images[me.get("ID")] = mp
                    head = pk.zf.read(mp)[:8]
                    fmt = me.get("Format")
                    if (fmt == "PNG" and head != b"\x89PNG\r\n\x1a\n") or \
                       (fmt == "JPEG" and head[:2] != b"\xff\xd8"):
                        bad("%s is not %s" % (mp, fmt))
    pages = []
    for pe in doc.find(q("Pages")).findall(q("Page")):
        take_id(pe, docroot)
        pp = pk.resolve(docdir, pe.get("BaseLoc"), "Page")
        if pp:
            pages.append((pe.get("ID"), pp))
    for dest in doc.iter(q("Dest")):
        if dest.get("PageID") not in [p[0] for p in pages]:
            bad("outline goes to page ID %s, which is not a page" % dest.get("PageID"))
    # pages: glyphs with absolute positions
    out_pages = []
    nglyphs = ntext = 0
    for pid, pp in pages:
        page = pk.part(pp, "Page")
        if page is None:
            continue
        box = nums(page.find(q("Area")).findtext(q("PhysicalBox")))
        runs = []
        for el in page.iter():
            if el.get("ID") and el.tag != q("Page"):
                take_id(el, pp)
            if el.tag == q("ImageObject") and el.get("ResourceID") not in images:
                bad("%s: image object %s refers to no image" % (pp, el.get("ID")))
            if el.tag != q("TextObject"):
                continue
            ntext += 1
            fid = el.get("Font")
            if fid not in fonts:
                bad("%s: text object %s refers to no font (%s)" % (pp, el.get("ID"), fid))
                continue
            tf, fe = fonts[fid]
            cmap = tf.getBestCmap() or {}
            order = tf.getGlyphOrder()
            bx, by, bw, bh = nums(el.get("Boundary"))
            size = float(el.get("Size"))
            cgt = {}
            for cg in el.findall(q("CGTransform")):
                pos = int(cg.get("CodePosition"))
                cc = int(cg.get("CodeCount", "1"))
                gc = int(cg.get("GlyphCount", "1"))
                gl = [int(v) for v in cg.findtext(q("Glyphs")).split()]
                if cc != 1 or gc != 1 or len(gl) != 1:
                    bad("%s: CGTransform other than one code to one glyph" % pp)
                cgt[pos] = gl[0]
            for tc in el.findall(q("TextCode")):
                text = tc.text or ""
                x0, y0 = float(tc.get("X")), float(tc.get("Y"))
                dx = parse_deltas(tc.get("DeltaX", "")) if tc.get("DeltaX") else []
                if len(dx) != max(len(text) - 1, 0):
                    bad("%s: object %s: DeltaX has %d entries for %d characters"
                        % (pp, el.get("ID"), len(dx), len(text)))
                xs = [x0]
                for d in dx:
                    xs.append(xs[-1] + d)
                glyphs = []
                cgts = [i in cgt for i in range(len(text))]
                for i, ch in enumerate(text):
                    if i in cgt:
                        g = cgt[i]
                        if g <= 0 or g >= len(order):
                            bad("%s: CGTransform glyph %d not in font %s" % (pp, g, fid))
                        elif cmap.get(ord(ch)) == order[g]:
                            bad("%s: CGTransform for %r repeats the cmap's glyph" % (pp, ch))
                        gname = order[g] if 0 <= g < len(order) else None
                    else:
                        gname = cmap.get(ord(ch))
                        if gname is None or gname == ".notdef":
                            bad("%s: %r (U+%04X) has no glyph in font %s" % (pp, ch, ord(ch), fid))
                    glyphs.append(gname)
                nglyphs += len(text)
                runs.append({"text": text, "font": fid, "size": size,
                             "xs": [bx + x for x in xs[:len(text)]],
                             "y": by + y0, "glyphs": glyphs, "cgt": cgts,
                             "metrics": font_metrics(tf)})
        out_pages.append({"box": box, "runs": runs})
    for i, el in ids.items():
        if int(i) > maxid:
            bad("ID %s above MaxUnitID %d" % (i, maxid))
    for n in pk.names:
        if n not in pk.used and n != "OFD.xml" and n not in pk.xml:
            bad("stray entry %s (referenced by nothing)" % n)
    pk.validate_all()
    summary = {"pages": len(out_pages), "text_objects": ntext, "glyphs": nglyphs,
               "fonts": len(fonts), "images": len(images), "custom": customs}
    if originals:
        summary["glyphs_checked_against_originals"] = check_originals(out_pages, fonts,
                                                                      variants)
        summary["variants_checked"] = len(_variants_seen)
    if dump:
        summary["max_layout_diff_mm"] = compare_dump(out_pages, dump)
    if pdf:
        summary["max_pdf_diff_mm"], summary["pdf_words"] = compare_pdf(out_pages, pdf)
    return summary


def parse_dump(path):
    pages = []
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    rx_run = re.compile(r'^  run x=([-\d.]+)\.\.([-\d.]+) y=([-\d.]+) size=([\d.]+) font=\S+ "(.*)"$')
    for i, line in enumerate(lines):
        m = re.match(r"^page \d+ number=\S+ size=([\d.]+)x([\d.]+)", line)
        if m:
            pages.append({"size": (float(m.group(1)), float(m.group(2))), "runs": []})
            continue
        m = rx_run.match(line)
        if m:
            text = re.sub(r"\\(.)", r"\1", m.group(5))
            at = [float(v) for v in lines[i + 1].strip()[3:].split(",")]
            x = float(m.group(1))
            pages[-1]["runs"].append({"text": text, "xs": [x + a for a in at],
                                      "y": float(m.group(3))})
    return pages


def compare_dump(opages, dump):
    dpages = parse_dump(dump)
    worst = 0.0
    if len(dpages) != len(opages):
        bad("layout has %d pages, OFD %d" % (len(dpages), len(opages)))
    for pi, (dp, op) in enumerate(zip(dpages, opages)):
        w, h = dp["size"][0] * MM_PER_PT, dp["size"][1] * MM_PER_PT
        if abs(op["box"][2] - w) > TOL or abs(op["box"][3] - h) > TOL:
            bad("page %d: size %s, layout %.4f x %.4f mm" % (pi + 1, op["box"], w, h))
        if len(dp["runs"]) != len(op["runs"]):
            bad("page %d: layout has %d runs, OFD %d text objects"
                % (pi + 1, len(dp["runs"]), len(op["runs"])))
        for dr, orun in zip(dp["runs"], op["runs"]):
            if dr["text"] != orun["text"]:
                bad("page %d: text %r, layout %r" % (pi + 1, orun["text"], dr["text"]))
                continue
            dy = abs(dr["y"] * MM_PER_PT - orun["y"])
            worst = max(worst, dy)
            if dy > TOL:
                bad("page %d: %r baseline %.4f mm, layout %.4f mm"
                    % (pi + 1, dr["text"], orun["y"], dr["y"] * MM_PER_PT))
            for k, (a, b) in enumerate(zip(dr["xs"], orun["xs"])):
                d = abs(a * MM_PER_PT - b)
                worst = max(worst, d)
                if d > TOL:
                    bad("page %d: %r glyph %d at x=%.4f mm, layout %.4f mm"
                        % (pi + 1, dr["text"], k, b, a * MM_PER_PT))
    return worst


def compare_pdf(opages, pdf):
    r = subprocess.run(["pdftotext", "-bbox", pdf, "-"], capture_output=True)
    root = ET.fromstring(re.sub(rb"<!DOCTYPE[^>]*>", b"", r.stdout))
    X = "{http://www.w3.org/1999/xhtml}"
    worst = 0.0
    nwords = 0
    ppages = list(root.iter(X + "page"))
    if len(ppages) != len(opages):
        bad("PDF has %d pages, OFD %d" % (len(ppages), len(opages)))
    for pi, (pp, op) in enumerate(zip(ppages, opages)):
        # every glyph of the page, in drawing order, with its run
        glyphs = []
        for run in op["runs"]:
            for k, ch in enumerate(run["text"]):
                glyphs.append((ch, run["xs"][k], run, k))
        for w in pp.iter(X + "word"):
            word = w.text or ""
            nwords += 1
            x0 = float(w.get("xMin")) * MM_PER_PT
            y0 = float(w.get("yMin")) * MM_PER_PT
            y1 = float(w.get("yMax")) * MM_PER_PT
            best = None
            for gi, (ch, gx, run, k) in enumerate(glyphs):
                if ch != word[0] or abs(gx - x0) > TOL:
                    continue
                if "".join(g[0] for g in glyphs[gi:gi + len(word)]) != word:
                    continue
                asc, desc = run["metrics"]
                top = run["y"] - asc * run["size"]
                bottom = run["y"] + desc * run["size"]
                d = max(abs(gx - x0), abs(top - y0), abs(bottom - y1))
                if best is None or d < best:
                    best = d
            if best is None or best > TOL:
                bad("page %d: PDF word %r at x=%.3f mm y=%.3f..%.3f mm not drawn there by the OFD%s"
                    % (pi + 1, word, x0, y0, y1,
                       "" if best is None else " (off by %.3f mm)" % best))
            else:
                worst = max(worst, best)
    return worst, nwords


def main():
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("ofd")
    ap.add_argument("--schema")
    ap.add_argument("--dump")
    ap.add_argument("--pdf")
    ap.add_argument("--originals", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--variant", action="append", default=[],
                    help="C=D: a CGTransform on character C must name the "
                    "original font's glyph of character D (with --originals)")
    a = ap.parse_args()
    variants = dict(v.split("=", 1) for v in a.variant)
    try:
        summary = check(a.ofd, a.schema, a.dump, a.pdf, a.originals, variants)
    except (zipfile.BadZipFile, KeyError, AttributeError, ValueError, TypeError) as e:
        bad("cannot read the package: %s: %s" % (type(e).__name__, e))
        summary = None
    for p in problems:
        print("%s: %s" % (a.ofd, p), file=sys.stderr)
    if a.json and summary is not None:
        print(json.dumps(summary, ensure_ascii=False))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
