#!/usr/bin/python3
"""WeasyPrint batch: one Python process renders every input.

usage: wp_batch.py OUTDIR VARIANT|- IN.html...   (VARIANT e.g. pdf/a-1b)
OUTDIR/NAME.pdf is written for each IN NAME.html."""
import os
import sys

from weasyprint import HTML

outdir, variant, inputs = sys.argv[1], sys.argv[2], sys.argv[3:]
os.makedirs(outdir, exist_ok=True)
for src in inputs:
    name = os.path.splitext(os.path.basename(src))[0]
    opts = {}
    if variant != "-":
        opts = {"variant": variant, "identifier": name.encode()}
    HTML(filename=src).write_pdf(os.path.join(outdir, name + ".pdf"), **opts)
