#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Typst 0.14 through the npm package @myriaddreamin/typst-ts-node-compiler.
// usage: node compile.js [--pdfa] [--nocache] IN.typ OUT.pdf
//        node compile.js [--pdfa] [--nocache] --batch OUTDIR IN.typ...
// --batch: one process and one compiler for every input (OUTDIR/NAME.pdf);
// --nocache: evict Typst's memo cache before each document.
// Errors: Typst's diagnostics on stderr, exit 1.
const path = require('path');
const fs = require('fs');
const { NodeCompiler } = require('@myriaddreamin/typst-ts-node-compiler');
let a = process.argv.slice(2);
const flag = (f) => { const i = a.indexOf(f); if (i < 0) return false; a.splice(i, 1); return true; };
const pdfa = flag('--pdfa');
const nocache = flag('--nocache');
const batch = flag('--batch');
const opts = pdfa ? { pdfStandard: 'a-1b' } : {};
let compiler = null;
function one(inp, dst) {
  inp = path.resolve(inp);
  if (!compiler)
    compiler = NodeCompiler.create({
      workspace: path.dirname(inp),
      fontArgs: [{ fontPaths: ['/usr/share/fonts/truetype/arphic-gbsn00lp',
                               '/usr/share/fonts/truetype/wqy'] }],
    });
  if (nocache) compiler.evictCache(0);
  const res = compiler.compile({ mainFilePath: inp });
  const doc = res.result;
  if (!doc || res.hasError()) {
    res.printDiagnostics();
    process.exit(1);
  }
  fs.writeFileSync(dst, compiler.pdf(doc, opts));
}
if (batch) {
  const dir = a.shift();
  fs.mkdirSync(dir, { recursive: true });
  for (const inp of a)
    one(inp, path.join(dir, path.basename(inp).replace(/\.typ$/, '') + '.pdf'));
} else {
  one(a[0], a[1]);
}
