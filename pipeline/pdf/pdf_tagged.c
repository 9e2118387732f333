// SPDX-License-Identifier: Apache-2.0
/* pdf_tagged.c - the structure tree of a tagged PDF (ISO 32000-1:2008,
 * 14.7 logical structure, 14.8 tagged PDF; ISO 19005-2 6.8 for PDF/A-2a)
 * on libharu's object tree.
 *
 * Design.  Layout gives every item a structure element (bs_item.sid) from
 * a list of elements numbered in source order (bs_layout.elems), or marks
 * it as an artifact; render_pdf.c wraps each stretch of items of one
 * element in a marked-content sequence (BDC ... EMC) whose MCID it takes
 * from bs_pdf_tags_mcid, per page in drawing order, and artifacts in
 * /Artifact sequences.  libharu 2.3.0 has no API for any of it, so this
 * file builds the objects afterwards, as render_pdf.c builds the fonts:
 * one StructElem per element, its K holding first its own marked content
 * in page order (an MCID on the element's /Pg page, an MCR on later pages:
 * a paragraph or a cell split across pages is one element) and then its
 * child elements in source order, which is the reading order.  Content
 * comes before children because layout emits an element's own lines
 * before the elements inside it (a list item's text before its nested
 * list, a table's caption before its rows).  The ParentTree maps each
 * page's MCIDs back to their elements; its key for a page is the page's
 * index (/StructParents).  Everything is written in the order of the
 * layout, so the bytes are deterministic.
 *
 * PDF/A-1's implementation limit of 8,191 array elements (ISO 19005-1
 * 6.1.12) bounds K arrays and the ParentTree: an element with more
 * children gets them in groups (TBody in a table, Div elsewhere), and a
 * document of many pages gets a two-level number tree.
 *
 * Layer 10 (renderers): docs/architecture.md. */
#include "pdf_tagged.h"

#include <stdlib.h>
#include <string.h>

#include "pdf_text.h"
#include "util.h"

/* Kids per K array or Nums pairs per node, under the 8,191 limit. */
#define S_MAX_KIDS 8000
#define S_PAGES_PER_NODE 2000

typedef struct S_page_marks {
  int32_t *sid; /* element of each MCID */
  int n, cap;
} S_page_marks;

struct bs_pdf_tags {
  const bs_layout *l;
  S_page_marks *pages;
};

bs_pdf_tags *
bs_pdf_tags_new(const bs_layout *l)
{
  bs_pdf_tags *t = bs_xcalloc(1, sizeof *t);
  t->l = l;
  t->pages = bs_xcalloc((size_t)(l->npages ? l->npages : 1),
                        sizeof *t->pages);
  return t;
}

void
bs_pdf_tags_free(bs_pdf_tags *t)
{
  if (!t)
    return;
  for (int i = 0; i < t->l->npages; i++)
    free(t->pages[i].sid);
  free(t->pages);
  free(t);
}

const char *
bs_pdf_tag_name(const bs_layout *l, int32_t sid)
{
  static const char *const h[] = {"H1", "H2", "H3", "H4"};
  const bs_selem *e = &l->elems[sid];
  switch (e->kind) {
  case BS_SE_DOCUMENT: return "Document";
  case BS_SE_TITLE: return "Title";
  case BS_SE_H: return h[e->level < 1 ? 0 : e->level > 4 ? 3 : e->level - 1];
  case BS_SE_P: return "P";
  case BS_SE_L: return "L";
  case BS_SE_LI: return "LI";
  case BS_SE_LBL: return "Lbl";
  case BS_SE_LBODY: return "LBody";
  case BS_SE_TABLE: return "Table";
  case BS_SE_TR: return "TR";
  case BS_SE_TH: return "TH";
  case BS_SE_TD: return "TD";
  case BS_SE_FIGURE: return "Figure";
  case BS_SE_CAPTION: return "Caption";
  }
  return "Span";
}

int
bs_pdf_tags_mcid(bs_pdf_tags *t, int page, int32_t sid)
{
  S_page_marks *pm = &t->pages[page];
  if (pm->n == pm->cap) {
    pm->cap = pm->cap ? pm->cap * 2 : 32;
    pm->sid = bs_xrealloc(pm->sid, (size_t)pm->cap * sizeof *pm->sid);
  }
  pm->sid[pm->n] = sid;
  return pm->n++;
}

/* What an element says besides its kind and content: a cell's spans
 * (table attributes, where they are not 1) and a header cell's scope, a
 * figure's Alt. */
static void
S_attrs(HPDF_MMgr mm, HPDF_Dict d, const bs_selem *e)
{
  if (e->kind == BS_SE_FIGURE && e->alt)
    HPDF_Dict_Add(d, "Alt", bs_pdf_text(mm, e->alt));
  int scope = e->kind == BS_SE_TH ? e->level : 0;
  if ((e->kind != BS_SE_TH && e->kind != BS_SE_TD) ||
      (e->rowspan <= 1 && e->colspan <= 1 && !scope))
    return;
  HPDF_Dict a = HPDF_Dict_New(mm);
  HPDF_Dict_AddName(a, "O", "Table");
  if (scope)
    HPDF_Dict_AddName(a, "Scope", scope == 1 ? "Column" : "Row");
  if (e->rowspan > 1)
    HPDF_Dict_AddNumber(a, "RowSpan", e->rowspan);
  if (e->colspan > 1)
    HPDF_Dict_AddNumber(a, "ColSpan", e->colspan);
  HPDF_Dict_Add(d, "A", a);
}

/* The ParentTree: for page i, the array of the elements of its MCIDs. */
static HPDF_Dict
S_parent_tree(bs_pdf_tags *t, HPDF_Doc pdf, HPDF_Dict *dicts)
{
  HPDF_MMgr mm = pdf->mmgr;
  int np = t->l->npages;
  HPDF_Dict root = HPDF_Dict_New(mm);
  HPDF_Xref_Add(pdf->xref, root);
  HPDF_Array kids = np > S_PAGES_PER_NODE ? HPDF_Array_New(mm) : NULL;
  for (int first = 0; first < np || first == 0; first += S_PAGES_PER_NODE) {
    int last = first + S_PAGES_PER_NODE < np ? first + S_PAGES_PER_NODE : np;
    HPDF_Dict node = root;
    if (kids) {
      node = HPDF_Dict_New(mm);
      HPDF_Xref_Add(pdf->xref, node);
      HPDF_Array lim = HPDF_Array_New(mm);
      HPDF_Array_AddNumber(lim, first);
      HPDF_Array_AddNumber(lim, last - 1);
      HPDF_Dict_Add(node, "Limits", lim);
      HPDF_Array_Add(kids, node);
    }
    HPDF_Array nums = HPDF_Array_New(mm);
    for (int i = first; i < last; i++) {
      HPDF_Array_AddNumber(nums, i);
      HPDF_Array marks = HPDF_Array_New(mm);
      for (int k = 0; k < t->pages[i].n; k++)
        HPDF_Array_Add(marks, dicts[t->pages[i].sid[k]]);
      HPDF_Array_Add(nums, marks);
    }
    HPDF_Dict_Add(node, "Nums", nums);
    if (!kids)
      break;
  }
  if (kids)
    HPDF_Dict_Add(root, "Kids", kids);
  return root;
}

/* Where each structure element's content and children are: element e's
 * marked-content sequences are (mpage[m], mcid[m]) for m in
 * [start[e], start[e + 1]), in page order, and its children are kid[i]
 * for i in [kstart[e], kstart[e + 1]), in source order.  malloc'd. */
typedef struct S_index {
  size_t *start; /* per element + 1: first of its sequences */
  int *mpage;    /* per sequence: its page index */
  int *mcid;     /* per sequence: its MCID on that page */
  size_t *kstart; /* per element + 1: first of its children */
  int32_t *kid;   /* children, grouped by parent */
} S_index;

/* cnt[e + 1] holds element e's count: turn the counts into starts (sums
 * of the counts before) and return a malloc'd copy of them to fill from. */
static size_t *
S_starts(size_t *cnt, int ne)
{
  for (int e = 0; e < ne; e++)
    cnt[e + 1] += cnt[e];
  size_t *fill = bs_xmalloc(((size_t)ne + 1) * sizeof *fill);
  memcpy(fill, cnt, ((size_t)ne + 1) * sizeof *fill);
  return fill;
}

/* Collect the index of the whole tree (freed with S_index_free). */
static void
S_index_build(const bs_pdf_tags *t, S_index *ix)
{
  const bs_layout *l = t->l;
  int ne = l->nelems;
  /* each element's marked content, in page order: (page, mcid) pairs */
  ix->start = bs_xcalloc((size_t)ne + 1, sizeof *ix->start);
  for (int pi = 0; pi < l->npages; pi++)
    for (int k = 0; k < t->pages[pi].n; k++)
      ix->start[t->pages[pi].sid[k] + 1]++;
  size_t *fill = S_starts(ix->start, ne);
  ix->mpage = bs_xmalloc((ix->start[ne] + 1) * sizeof *ix->mpage);
  ix->mcid = bs_xmalloc((ix->start[ne] + 1) * sizeof *ix->mcid);
  for (int pi = 0; pi < l->npages; pi++)
    for (int k = 0; k < t->pages[pi].n; k++) {
      size_t at = fill[t->pages[pi].sid[k]]++;
      ix->mpage[at] = pi;
      ix->mcid[at] = k;
    }
  free(fill);
  /* each element's children, in source order */
  ix->kstart = bs_xcalloc((size_t)ne + 1, sizeof *ix->kstart);
  for (int e = 1; e < ne; e++)
    ix->kstart[l->elems[e].parent + 1]++;
  size_t *kfill = S_starts(ix->kstart, ne);
  ix->kid = bs_xmalloc(((size_t)ne + 1) * sizeof *ix->kid);
  for (int e = 1; e < ne; e++)
    ix->kid[kfill[l->elems[e].parent]++] = e;
  free(kfill);
}

static void
S_index_free(S_index *ix)
{
  free(ix->start);
  free(ix->mpage);
  free(ix->mcid);
  free(ix->kstart);
  free(ix->kid);
}

/* Add element e's marked-content sequences to its /K array k: bare MCIDs
 * on its first page (its /Pg), marked-content references elsewhere. */
static void
S_add_marks(HPDF_Doc pdf, HPDF_Dict d, HPDF_Array k, const S_index *ix,
            int e)
{
  HPDF_MMgr mm = pdf->mmgr;
  int pgi = -1;
  for (size_t m = ix->start[e]; m < ix->start[e + 1]; m++) {
    if (pgi < 0) {
      pgi = ix->mpage[m];
      HPDF_Dict_Add(d, "Pg", HPDF_GetPageByIndex(pdf, (HPDF_UINT)pgi));
    }
    if (ix->mpage[m] == pgi) {
      HPDF_Array_AddNumber(k, ix->mcid[m]);
      continue;
    }
    HPDF_Dict mcr = HPDF_Dict_New(mm);
    HPDF_Dict_AddName(mcr, "Type", "MCR");
    HPDF_Dict_Add(mcr, "Pg",
                  HPDF_GetPageByIndex(pdf, (HPDF_UINT)ix->mpage[m]));
    HPDF_Dict_AddNumber(mcr, "MCID", ix->mcid[m]);
    HPDF_Array_Add(k, mcr);
  }
}

/* Add element e's children to its /K array k (in groups, TBody or Div,
 * when there are more than S_MAX_KIDS kids), setting each child's parent
 * in up[]. */
static void
S_add_kids(HPDF_Doc pdf, HPDF_Dict d, HPDF_Array k, const S_index *ix,
           int e, const bs_selem *el, HPDF_Dict *dicts, HPDF_Dict *up)
{
  HPDF_MMgr mm = pdf->mmgr;
  size_t nk = ix->kstart[e + 1] - ix->kstart[e];
  size_t nown = ix->start[e + 1] - ix->start[e];
  if (nk + nown <= S_MAX_KIDS) {
    for (size_t i = ix->kstart[e]; i < ix->kstart[e + 1]; i++) {
      HPDF_Array_Add(k, dicts[ix->kid[i]]);
      up[ix->kid[i]] = d;
    }
    return;
  }
  /* too many children for one array: groups of them */
  const char *group = el->kind == BS_SE_TABLE ? "TBody" : "Div";
  for (size_t i = ix->kstart[e]; i < ix->kstart[e + 1]; i += S_MAX_KIDS) {
    HPDF_Dict g = HPDF_Dict_New(mm);
    HPDF_Xref_Add(pdf->xref, g);
    HPDF_Dict_AddName(g, "S", group);
    HPDF_Dict_Add(g, "P", d);
    HPDF_Array gk = HPDF_Array_New(mm);
    for (size_t j = i; j < ix->kstart[e + 1] && j < i + S_MAX_KIDS; j++) {
      HPDF_Array_Add(gk, dicts[ix->kid[j]]);
      up[ix->kid[j]] = g;
    }
    HPDF_Dict_Add(g, "K", gk);
    HPDF_Array_Add(k, g);
  }
}

int
bs_pdf_tags_finish(bs_pdf_tags *t, HPDF_Doc pdf)
{
  const bs_layout *l = t->l;
  HPDF_MMgr mm = pdf->mmgr;
  int ne = l->nelems;
  if (ne < 1)
    return -1;
  S_index ix;
  S_index_build(t, &ix);

  HPDF_Dict root = HPDF_Dict_New(mm);
  HPDF_Xref_Add(pdf->xref, root);
  HPDF_Dict_AddName(root, "Type", "StructTreeRoot");
  HPDF_Dict *dicts = bs_xmalloc((size_t)ne * sizeof *dicts);
  HPDF_Dict *up = bs_xmalloc((size_t)ne * sizeof *up); /* the /P of each */
  for (int e = 0; e < ne; e++) {
    dicts[e] = HPDF_Dict_New(mm);
    HPDF_Xref_Add(pdf->xref, dicts[e]);
  }
  up[0] = root;
  for (int e = 0; e < ne && !pdf->error.error_no; e++) {
    const bs_selem *el = &l->elems[e];
    HPDF_Dict d = dicts[e];
    /* no /Type: it is optional and would be a fifth of the tree's bytes */
    HPDF_Dict_AddName(d, "S", bs_pdf_tag_name(l, e));
    HPDF_Dict_Add(d, "P", up[e]);
    size_t nk = ix.kstart[e + 1] - ix.kstart[e];
    size_t nown = ix.start[e + 1] - ix.start[e];
    if (nk + nown == 1) {
      /* one kid needs no array around it */
      if (nown) {
        HPDF_Dict_Add(d, "Pg", HPDF_GetPageByIndex(
                                   pdf, (HPDF_UINT)ix.mpage[ix.start[e]]));
        HPDF_Dict_AddNumber(d, "K", ix.mcid[ix.start[e]]);
      } else {
        HPDF_Dict_Add(d, "K", dicts[ix.kid[ix.kstart[e]]]);
        up[ix.kid[ix.kstart[e]]] = d;
      }
      S_attrs(mm, d, el);
      continue;
    }
    HPDF_Array k = HPDF_Array_New(mm);
    S_add_marks(pdf, d, k, &ix, e);
    S_add_kids(pdf, d, k, &ix, e, el, dicts, up);
    HPDF_Dict_Add(d, "K", k);
    S_attrs(mm, d, el);
  }
  HPDF_Dict_Add(root, "K", dicts[0]);
  HPDF_Dict_Add(root, "ParentTree", S_parent_tree(t, pdf, dicts));
  HPDF_Dict_AddNumber(root, "ParentTreeNextKey", l->npages);
  HPDF_Dict rm = HPDF_Dict_New(mm);
  HPDF_Dict_AddName(rm, "Title", "H1");
  HPDF_Dict_Add(root, "RoleMap", rm);
  HPDF_Dict_Add(pdf->catalog, "StructTreeRoot", root);
  HPDF_Dict mi = HPDF_Dict_New(mm);
  HPDF_Dict_AddBoolean(mi, "Marked", HPDF_TRUE);
  HPDF_Dict_Add(pdf->catalog, "MarkInfo", mi);
  S_index_free(&ix);
  free(dicts);
  free(up);
  return pdf->error.error_no ? -1 : 0;
}
