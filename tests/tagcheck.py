#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""An independent checker of a tagged PDF's logical structure (ISO
32000-1 14.7-14.8), written apart from banshi's writer: it reads the file
through `qpdf --json` (streams decoded) and its own parser of content
streams.

Checked:
  - the catalog has /MarkInfo << /Marked true >>, /Lang and a
    /StructTreeRoot whose /K is one Document element;
  - every structure element is a /StructElem whose /P is the element (or
    root) it hangs under, with a standard structure type or one the
    RoleMap maps to a standard type; every TH/TD is in a TR in a Table
    (or a THead/TBody/TFoot of one); Figures have /Alt;
  - every page has /StructParents; the ParentTree (a number tree, Kids and
    Limits followed) has for each page an array whose entry i is the
    element that claims MCID i of that page, and nothing else;
  - in every content stream: marked-content operators nest properly,
    also with BT/ET; each MCID is used once per page, tagged with the
    type of its element (or is a /Span with ActualText); every MCID an element claims (an integer on its
    /Pg page, or an MCR) is in the page's content and every MCID in the
    content is claimed by exactly one element;
  - every text-showing and painting operator is inside a marked-content
    sequence with an MCID or an /Artifact one (nothing is left out of
    both);
  - with --page-numbers: each page has exactly one pagination artifact
    holding text (its number).

Usage: tagcheck.py FILE.pdf [--page-numbers] [--json]
Exit status 0 when nothing is wrong; the problems are printed otherwise.
With --json, prints a summary (element counts by type, MCIDs per page)."""
import json
import re
import subprocess
import sys

STANDARD = {
    "Document", "Part", "Art", "Sect", "Div", "BlockQuote", "Caption", "TOC",
    "TOCI", "Index", "NonStruct", "Private", "P", "H", "H1", "H2", "H3",
    "H4", "H5", "H6", "L", "LI", "Lbl", "LBody", "Table", "TR", "TH", "TD",
    "THead", "TBody", "TFoot", "Span", "Quote", "Note", "Reference",
    "BibEntry", "Code", "Link", "Annot", "Ruby", "RB", "RT", "RP", "Warichu",
    "WT", "WP", "Figure", "Formula", "Form",
}
PAINT = {"TJ", "Tj", "'", '"', "S", "s", "f", "F", "f*", "B", "B*", "b",
         "b*", "Do", "sh", "BI"}


class Problems(list):
    def add(self, msg):
        if len(self) < 200:
            self.append(msg)


# ---------------------------------------------------------------------------
# content streams

DELIM = b"()<>[]{}/%"
WS = b" \t\r\n\f\0"


def tokens(data):
    """Yield (kind, value): num, name, str, hex, op, '[', ']', '<<', '>>'."""
    i, n = 0, len(data)
    while i < n:
        c = data[i:i + 1]
        if c in (b" ", b"\t", b"\r", b"\n", b"\f", b"\0"):
            i += 1
        elif c == b"%":
            while i < n and data[i:i + 1] not in (b"\r", b"\n"):
                i += 1
        elif c == b"/":
            j = i + 1
            while j < n and data[j] not in WS and data[j] not in DELIM:
                j += 1
            yield "name", data[i + 1:j].decode("latin-1")
            i = j
        elif c == b"(":
            depth, j, out = 1, i + 1, bytearray()
            while j < n and depth:
                b = data[j:j + 1]
                if b == b"\\":
                    out += data[j:j + 2]
                    j += 2
                    continue
                if b == b"(":
                    depth += 1
                elif b == b")":
                    depth -= 1
                    if not depth:
                        break
                out += b
                j += 1
            yield "str", bytes(out)
            i = j + 1
        elif data[i:i + 2] == b"<<":
            yield "<<", None
            i += 2
        elif data[i:i + 2] == b">>":
            yield ">>", None
            i += 2
        elif c == b"<":
            j = data.index(b">", i)
            yield "hex", data[i + 1:j]
            i = j + 1
        elif c in (b"[", b"]"):
            yield c.decode(), None
            i += 1
        else:
            j = i
            while j < n and data[j] not in WS and data[j] not in DELIM:
                j += 1
            if j == i:
                j = i + 1
            w = data[i:j].decode("latin-1")
            if re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", w):
                yield "num", float(w)
            else:
                yield "op", w
            i = j


def operations(data):
    """Yield (operator, operands) with arrays as lists and dicts as dicts."""
    stack = [[]]
    it = tokens(data)
    for kind, v in it:
        if kind == "op":
            if v == "BI":  # inline image: skip to EI
                yield "BI", []
                for k2, v2 in it:
                    if k2 == "op" and v2 == "EI":
                        break
                stack = [[]]
                continue
            if v in ("true", "false", "null"):
                stack[-1].append(v)
                continue
            yield v, stack[0]
            stack = [[]]
        elif kind in ("[", "<<"):
            stack.append([])
        elif kind == "]":
            top = stack.pop()
            stack[-1].append(top)
        elif kind == ">>":
            top = stack.pop()
            d = {}
            for k in range(0, len(top) - 1, 2):
                d[top[k]] = top[k + 1]
            stack[-1].append(d)
        else:
            stack[-1].append(v)


def scan_content(data, where, probs):
    """The marked content of one page: [(tag, props or None, mcid or None,
    painted ops inside)], checking nesting and that painting is marked."""
    seqs = []
    open_ = []  # stack of ('mc', index) and ('bt', None)
    for op, args in operations(data):
        if op in ("BDC", "BMC"):
            tag = args[0] if args else None
            props = args[1] if op == "BDC" and len(args) > 1 else None
            mcid = props.get("MCID") if isinstance(props, dict) else None
            seqs.append({"tag": tag, "props": props, "mcid": mcid,
                         "paint": 0, "text": 0,
                         "outer": next((s for k, s in reversed(open_)
                                        if k == "mc"), None)})
            open_.append(("mc", len(seqs) - 1))
        elif op == "EMC":
            if not open_ or open_[-1][0] != "mc":
                probs.add("%s: EMC without its BDC/BMC (or across BT/ET)" % where)
                continue
            open_.pop()
        elif op == "BT":
            open_.append(("bt", None))
        elif op == "ET":
            if not open_ or open_[-1][0] != "bt":
                probs.add("%s: ET inside a marked-content sequence begun in "
                          "the text object's parent (improper nesting)" % where)
                continue
            open_.pop()
        elif op in PAINT:
            mcs = [s for k, s in open_ if k == "mc"]
            # the outermost sequence with an MCID or an Artifact owns it
            owner = None
            for s in mcs:
                sq = seqs[s]
                if sq["mcid"] is not None or sq["tag"] == "Artifact":
                    owner = sq
                    break
            if owner is None:
                probs.add("%s: %s outside any tagged or artifact content" % (where, op))
                continue
            owner["paint"] += 1
            if op in ("TJ", "Tj", "'", '"'):
                owner["text"] += 1
    if open_:
        probs.add("%s: content ends inside %s" % (where, open_))
    return seqs


# ---------------------------------------------------------------------------
# the object tree

class Pdf:
    def __init__(self, path):
        out = subprocess.run(
            ["qpdf", "--json", "--json-stream-data=inline",
             "--decode-level=generalized", "--json-key=qpdf", path],
            capture_output=True, check=True).stdout
        objs = json.loads(out)["qpdf"][1]
        self.obj = {}
        self.data = {}
        for k, v in objs.items():
            if not k.startswith("obj:"):
                continue
            ref = k[4:]
            if "stream" in v:
                self.obj[ref] = v["stream"].get("dict", {})
                if "data" in v["stream"]:
                    import base64
                    self.data[ref] = base64.b64decode(v["stream"]["data"])
            else:
                self.obj[ref] = v.get("value")
        self.trailer = objs.get("trailer", {}).get("value", {})

    def get(self, v):
        """Resolve a reference."""
        if isinstance(v, str) and re.fullmatch(r"\d+ \d+ R", v):
            return self.obj.get(v)
        return v

    def catalog(self):
        return self.get(self.trailer.get("/Root"))

    def pages(self):
        out = []

        def walk(ref):
            node = self.get(ref)
            if node.get("/Type") == "/Pages":
                for k in node.get("/Kids", []):
                    walk(k)
            else:
                out.append(ref)
        walk(self.catalog()["/Pages"])
        return out

    def content(self, page):
        c = self.get(page).get("/Contents")
        refs = c if isinstance(c, list) else [c]
        return b"\n".join(self.data.get(r, b"") for r in refs)


def number_tree(pdf, node, out, probs, depth=0):
    node = pdf.get(node)
    if depth > 32 or not isinstance(node, dict):
        probs.add("ParentTree: bad node")
        return
    nums = node.get("/Nums")
    if nums is not None:
        for i in range(0, len(nums) - 1, 2):
            out[int(nums[i])] = pdf.get(nums[i + 1])
        lim = node.get("/Limits")
        if lim and nums and (lim[0] != nums[0] or lim[1] != nums[-2]):
            probs.add("ParentTree: Limits %s do not match keys %s..%s" % (lim, nums[0], nums[-2]))
    for k in node.get("/Kids", []):
        number_tree(pdf, k, out, probs, depth + 1)


def check(path, page_numbers=False):
    probs = Problems()
    pdf = Pdf(path)
    cat = pdf.catalog()
    summary = {"elements": {}, "mcids": [], "pages": 0, "split": {},
               "repeated": 0}
    if pdf.get(cat.get("/MarkInfo", {})).get("/Marked") is not True:
        probs.add("catalog: no /MarkInfo << /Marked true >>")
    if not str(cat.get("/Lang", "")).startswith("u:"):
        probs.add("catalog: no /Lang")
    summary["lang"] = str(cat.get("/Lang", ""))[2:]
    root_ref = cat.get("/StructTreeRoot")
    root = pdf.get(root_ref)
    if not isinstance(root, dict):
        probs.add("catalog: no /StructTreeRoot")
        return probs, summary
    rolemap = {k[1:]: v[1:] for k, v in pdf.get(root.get("/RoleMap", {})).items()}
    pages = pdf.pages()
    summary["pages"] = len(pages)
    page_index = {p: i for i, p in enumerate(pages)}
    # walk the structure tree
    claims = {}  # (page, mcid) -> element ref
    kids = root.get("/K")
    kids = kids if isinstance(kids, list) else [kids]
    if len(kids) != 1 or pdf.get(kids[0]).get("/S") != "/Document":
        probs.add("StructTreeRoot /K is not one Document element")
    seen = set()

    def std(s):
        k = 0
        while s not in STANDARD and s in rolemap and k < 10:
            s, k = rolemap[s], k + 1
        return s

    def walk(ref, parent_ref, chain, depth):
        if ref in seen:
            probs.add("%s: element reached twice" % ref)
            return
        seen.add(ref)
        el = pdf.get(ref)
        if not isinstance(el, dict) or depth > 200:
            probs.add("%s: not a structure element" % ref)
            return
        s = el.get("/S", "")[1:]
        t = std(s)
        summary["elements"][s] = summary["elements"].get(s, 0) + 1
        if el.get("/Type", "/StructElem") != "/StructElem":
            probs.add("%s: /Type %s" % (ref, el.get("/Type")))
        if t not in STANDARD:
            probs.add("%s: structure type %s is neither standard nor role-mapped" % (ref, s))
        if el.get("/P") != parent_ref:
            probs.add("%s (%s): /P %s, but it hangs under %s" % (ref, s, el.get("/P"), parent_ref))
        if t in ("TH", "TD") and not (chain and chain[-1] == "TR"):
            probs.add("%s: %s not in a TR" % (ref, s))
        if t == "TR" and not (chain and chain[-1] in ("Table", "THead", "TBody", "TFoot")):
            probs.add("%s: TR not in a Table" % ref)
        if t == "Figure" and "/Alt" not in el:
            probs.add("%s: Figure without /Alt" % ref)
        pg = el.get("/Pg")
        k = el.get("/K", [])
        k = k if isinstance(k, list) else [k]
        for item in k:
            if isinstance(item, (int, float)):
                if pg not in page_index:
                    probs.add("%s: MCID %d without a /Pg page" % (ref, item))
                    continue
                key = (page_index[pg], int(item))
            elif isinstance(item, dict) and item.get("/Type") == "/MCR":
                if item.get("/Pg", pg) not in page_index:
                    probs.add("%s: MCR without a page" % ref)
                    continue
                key = (page_index[item.get("/Pg", pg)], int(item["/MCID"]))
            elif isinstance(item, str) and item.endswith(" R"):
                walk(item, ref, chain + [t], depth + 1)
                continue
            else:
                probs.add("%s: unexpected K entry %r" % (ref, item))
                continue
            if key in claims:
                probs.add("page %d MCID %d claimed by %s and %s" % (key[0] + 1, key[1], claims[key][0], ref))
            claims[key] = (ref, s)

    for k in kids:
        walk(k, root_ref, [], 0)
    # the parent tree
    ptree = {}
    number_tree(pdf, root.get("/ParentTree"), ptree, probs)
    nextkey = root.get("/ParentTreeNextKey")
    # content
    used = set()
    for i, p in enumerate(pages):
        pd = pdf.get(p)
        where = "page %d" % (i + 1)
        sp = pd.get("/StructParents")
        if sp is None:
            probs.add("%s: no /StructParents" % where)
            continue
        if nextkey is not None and sp >= nextkey:
            probs.add("%s: /StructParents %d not below ParentTreeNextKey %d" % (where, sp, nextkey))
        arr = ptree.get(sp)
        if arr is None:
            probs.add("%s: no ParentTree entry %d" % (where, sp))
            arr = []
        seqs = scan_content(pdf.content(p), where, probs)
        mc = [q for q in seqs if q["mcid"] is not None]
        ids = [int(q["mcid"]) for q in mc]
        summary["mcids"].append(len(ids))
        if len(set(ids)) != len(ids):
            probs.add("%s: an MCID used twice: %s" % (where, ids))
        if len(arr) != len(ids) or sorted(ids) != list(range(len(ids))):
            probs.add("%s: MCIDs %s but ParentTree array of %d" % (where, ids, len(arr)))
        for q in mc:
            n = int(q["mcid"])
            used.add((i, n))
            if q["outer"] is not None and (seqs[q["outer"]]["mcid"] is not None
                                           or seqs[q["outer"]]["tag"] == "Artifact"):
                probs.add("%s: MCID %d nested in another tagged sequence" % (where, n))
            owner = claims.get((i, n))
            if owner is None:
                probs.add("%s: MCID %d is in no structure element" % (where, n))
                continue
            if n < len(arr) and arr[n] != owner[0]:
                probs.add("%s: ParentTree says MCID %d is %s, the tree says %s" % (where, n, arr[n], owner[0]))
            # a Span (with ActualText) may carry content of any element
            if q["tag"] != owner[1] and not (q["tag"] == "Span" and "ActualText" in q["props"]):
                probs.add("%s: MCID %d tagged /%s in the content, its element is %s" % (where, n, q["tag"], owner[1]))
        if page_numbers:
            pn = [q for q in seqs if q["tag"] == "Artifact" and isinstance(q["props"], dict)
                  and q["props"].get("Subtype") == "Footer" and q["text"]]
            if len(pn) != 1:
                probs.add("%s: %d page-number artifacts with text" % (where, len(pn)))
        summary["repeated"] += len([
            q for q in seqs if q["tag"] == "Artifact" and q["text"]
            and isinstance(q["props"], dict) and q["props"].get("Type") == "Pagination"
            and "Subtype" not in q["props"]])
    # elements whose content is on more than one page
    spread = {}
    for (pg, n), (ref, s) in claims.items():
        spread.setdefault((ref, s), set()).add(pg)
    for (ref, s), pgs in spread.items():
        if len(pgs) > 1:
            summary["split"][s] = summary["split"].get(s, 0) + 1
    for key, (ref, s) in sorted(claims.items()):
        if key not in used:
            probs.add("%s (%s) claims MCID %d of page %d, which is not in the content" % (ref, s, key[1], key[0] + 1))
    return probs, summary


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    probs, summary = check(args[0], "--page-numbers" in argv)
    for p in probs:
        print("%s: %s" % (args[0], p))
    if "--json" in argv:
        print(json.dumps(summary, ensure_ascii=False, sort_keys=True))
    return 1 if probs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
