#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Check the CFF font programs of a PDF against the fonts they came from.

    cffcheck.py FILE.pdf FONT...

Every FontFile3 of subtype CIDFontType0C in FILE.pdf (read with qpdf) is
opened with fontTools, an independent CFF reader, and compared with the
font among FONT... (OpenType files or collections) whose CFF program has
the same name:

  outlines  each glyph of the subset, found by its CID, draws the same
            path as the original glyph of that CID (fontTools' charstring
            interpreter, subroutines followed) and has the same advance;
  private   its Font DICT's Private DICT says what the original glyph's
            says (widths, blue zones, stem snaps), less Subrs;
  form      no global or local subroutines and no stem hints or hint
            masks are left (render_pdf.c asks for both), glyph 0 is the
            .notdef, CIDs ascend, the ROS and CIDCount are the font's.

Prints one line per program and a line per difference; exits 1 on any
difference, 2 when the PDF has no CFF program.
"""
import io
import re
import subprocess
import sys
import tempfile

from fontTools.cffLib import CFFFontSet
from fontTools.pens.recordingPen import RecordingPen
from fontTools.ttLib import TTCollection, TTFont

HINT_OPS = {"hstem", "vstem", "hstemhm", "vstemhm", "hintmask", "cntrmask",
            "callsubr", "callgsubr"}


def programs(pdf):
    """The decoded CIDFontType0C streams of pdf."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as t:
        subprocess.run(["qpdf", "--qdf", "--object-streams=disable",
                        "--stream-data=uncompress", pdf, t.name], check=True)
        data = open(t.name, "rb").read()
    objs = {int(m.group(1)): m.end()
            for m in re.finditer(rb"\n(\d+) 0 obj\n", data)}
    rx = re.compile(rb"\n\d+ 0 obj\n<<((?:(?!>>\nstream\n|\nendobj).)*)>>\n"
                    rb"stream\n", re.S)
    for m in rx.finditer(data):
        if not re.search(rb"/Subtype /CIDFontType0C\b", m.group(1)):
            continue
        ref = re.search(rb"/Length (\d+) 0 R", m.group(1))
        if ref:
            n = int(re.match(rb"(\d+)", data[objs[int(ref.group(1))]:]).group(1))
        else:
            n = int(re.search(rb"/Length (\d+)", m.group(1)).group(1))
        yield data[m.end():m.end() + n]


def originals(paths):
    """CFF font name -> (its top DICT, the CFFFontSet) over the fonts."""
    out = {}
    for path in paths:
        if path.lower().endswith((".ttc", ".otc")):
            faces = TTCollection(path, lazy=True).fonts
        else:
            faces = [TTFont(path, lazy=True)]
        for f in faces:
            if "CFF " not in f:
                continue
            cff = f["CFF "].cff
            out.setdefault(cff.fontNames[0], (cff[cff.fontNames[0]], cff))
    return out


def private_of(charstring):
    """The Private DICT a glyph's charstring is read with, less Subrs."""
    return {k: v for k, v in charstring.private.rawDict.items()
            if k != "Subrs"}


def ops_of(charstring):
    charstring.decompile()
    return {t for t in charstring.program if isinstance(t, str)}


def check(raw, fonts, problems):
    cff = CFFFontSet()
    cff.decompile(io.BytesIO(raw), None)
    name = cff.fontNames[0]
    top = cff[name]
    if name not in fonts:
        problems.append("%s: no such font among the originals" % name)
        return
    otop, _ = fonts[name]
    if len(cff.GlobalSubrs):
        problems.append("%s: %d global subroutines" % (name, len(cff.GlobalSubrs)))
    for i, fd in enumerate(getattr(top, "FDArray", [])):
        if "Subrs" in fd.Private.rawDict:
            problems.append("%s: Font DICT %d has local subroutines" % (name, i))
    for key in ("ROS", "CIDCount"):
        if top.rawDict.get(key) != otop.rawDict.get(key):
            problems.append("%s: %s %r, the font's %r" % (
                name, key, top.rawDict.get(key), otop.rawDict.get(key)))
    order = top.charset
    if not order or order[0] != ".notdef":
        problems.append("%s: glyph 0 is not .notdef" % name)
    cids = [int(g[3:]) for g in order[1:]]
    if cids != sorted(set(cids)):
        problems.append("%s: CIDs do not ascend" % name)
    sub, orig = top.CharStrings, otop.CharStrings
    for g in order:
        a, b = RecordingPen(), RecordingPen()
        sub[g].draw(a)
        orig[g].draw(b)
        if a.value != b.value:
            problems.append("%s %s: outline differs" % (name, g))
        if sub[g].width != orig[g].width:
            problems.append("%s %s: advance %s, the font's %s" % (
                name, g, sub[g].width, orig[g].width))
        left = ops_of(sub[g]) & HINT_OPS
        if left:
            problems.append("%s %s: %s left" % (name, g, " ".join(sorted(left))))
        if private_of(sub[g]) != private_of(orig[g]):
            problems.append("%s %s: Private DICT differs" % (name, g))
    print("%s: %d glyphs, %d bytes" % (name, len(order), len(raw)))


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    fonts = originals(sys.argv[2:])
    problems = []
    n = 0
    for raw in programs(sys.argv[1]):
        n += 1
        check(raw, fonts, problems)
    for p in problems:
        print(p)
    if n == 0:
        print("no CFF font program in %s" % sys.argv[1])
        return 2
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
