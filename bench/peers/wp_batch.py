#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""WeasyPrint batch: one Python process renders every input.

usage: wp_batch.py OUTDIR VARIANT|- IN.html...   (VARIANT e.g. pdf/a-1b)
OUTDIR/NAME.pdf is written for each IN NAME.html.  A document that fails
is reported on stderr and the batch goes on; the exit status is 1 if any
failed."""
import os
import sys
import traceback

from weasyprint import HTML

outdir, variant, inputs = sys.argv[1], sys.argv[2], sys.argv[3:]
os.makedirs(outdir, exist_ok=True)
failed = 0
for src in inputs:
    name = os.path.splitext(os.path.basename(src))[0]
    opts = {}
    if variant != "-":
        opts = {"variant": variant, "identifier": name.encode()}
    try:
        HTML(filename=src).write_pdf(os.path.join(outdir, name + ".pdf"), **opts)
    except Exception:  # noqa: BLE001 - report and go on with the batch
        failed += 1
        print("wp_batch: %s failed:\n%s" % (src, traceback.format_exc(limit=2)),
              file=sys.stderr)
print("wp_batch: %d of %d failed" % (failed, len(inputs)), file=sys.stderr)
sys.exit(1 if failed else 0)
