// SPDX-License-Identifier: Apache-2.0
/* table.c - tables: grid, column widths, row heights, page splitting.
 *
 * Design.  Cells are placed on a grid as HTML does (rowspan and colspan at
 * any depth; a row shorter than the grid gets empty cells).  Column widths
 * come from <colgroup> where given (percent of the type area or absolute)
 * and otherwise from content as CSS 2.1 automatic table layout computes them
 * (§17.5.2.2): each cell's minimum width (its widest unbreakable piece) and
 * preferred width (its text on one line), spanning cells spread over their
 * columns, then the free space is shared in proportion to what each column
 * would still like, so numeric columns stay narrow and labels wrap.
 *
 * Rows get the height of their tallest single-row cell; a row-spanned cell
 * taller than its rows adds the difference to its last row.  Pagination
 * works row by row: header rows (<thead>) are repeated at the top of every
 * page when they take at most a quarter of its height, as CSS Tables 3
 * (6.2, repeated headers) asks; a taller header is drawn once, where the
 * table starts.  Repeating it anyway was rejected: a header taller than a
 * page overflowed every page, each carrying one body row, and one that
 * left a line free cut a tall row into one-line pieces, each under the
 * whole header, so the output grew as the header's size times the body's
 * (a 23 KB source made 33 pages of 15,000 runs each, a 32 KB one 2,000
 * pages).  A row that does not fit moves to the next page; a row taller
 * than a whole page is split between lines of its cells.  A row-spanned
 * cell cut by a page break is drawn on every page it reaches: its text is
 * repeated when it fits each piece (a label such as 三、本年度办理结果) and
 * continued otherwise, so nothing is lost.  A table never leaves its header
 * alone at the foot of a page.
 *
 * Rules: each cell piece draws its top and left edges, and each page's piece
 * of the table its right and bottom edges: every edge once, a closed grid.
 * Text is emitted cell by cell, line by line, so that text extraction keeps
 * each cell's words together.
 *
 * Layer 8 (tables): docs/architecture.md. */
#include "page.h"

#include <stdlib.h>
#include <string.h>

#include "pipeline.h"
#include "util.h"

typedef struct S_cell {
  const bs_node *node;  /* NULL for a filler cell */
  int row, col;         /* top-left grid position */
  int rowspan, colspan;
  bs_align align;
  bs_valign valign;
  bs_line *lines;       /* laid out at the final width */
  int nlines;
  int32_t leading;      /* line pitch in this cell */
  int32_t minw, maxw;   /* content widths, padding included */
  int32_t size;         /* text size */
  int consumed;         /* lines already drawn (continued cells) */
  bool holds_groups;    /* row-spanned around other row-spanned cells
                           (三、本年度办理结果 around （三）（四）（五）) */
  bool shown;           /* the whole text was drawn in one piece */
  bool drawn;           /* drawn before: drawn whole again, it repeats */
  int32_t sid;          /* its structure element (TH or TD) */
  size_t kept_off;      /* its text as collected to be measured: bytes at */
  size_t kept_n;        /* kept_off in the table's `kept`, kept_n chars */
  bool kept;            /* (only when no glyph was missing in it) */
} S_cell;

struct bs_table_layout {
  const bs_node *node;
  int nrows, ncols, head_rows;
  S_cell *cells;
  int ncells;
  int *grid;            /* nrows * ncols cell indices */
  int32_t *colw;        /* column widths */
  int32_t *colx;        /* column left edges (ncols + 1) */
  int32_t *colmin;      /* the least width each column's content needs */
  int32_t *rowh;        /* row heights */
  int32_t width;        /* table width */
  int32_t pad_x, pad_y, rule;
  int32_t scale;        /* text size in 1/1000 of the style's, for tables
                           whose columns cannot all fit otherwise */
  bool squeeze;         /* even then too wide: columns may be one character
                           narrow and long words break inside */
  int first_end;        /* end of the first piece (S_first_group_end) */
  bs_vec kept;          /* the cells' collected text (bs_para_keep), from
                           the last measuring, for their layout */
};

#define S_AT(t, r, c) ((t)->grid[(size_t)(r) * (size_t)(t)->ncols + (size_t)(c)])

static const bs_style *
S_cell_style(const bs_lctx *lc, const S_cell *c)
{
  bool head = c->node && c->node->as.cell.header;
  return &lc->tpl->styles[head ? BS_STYLE_TABLE_HEAD : BS_STYLE_TABLE];
}

/* The style of a cell's text at the table's size and scale. */
static void
S_text_style(const bs_lctx *lc, const bs_table_layout *t, const S_cell *c,
             bs_style *st)
{
  *st = *S_cell_style(lc, c);
  st->grid = false;
  if (t->node->as.table.size)
    st->size = t->node->as.table.size;
  if (!st->leading || t->node->as.table.size)
    st->leading = st->size * 135 / 100;
  st->size = (int32_t)((int64_t)st->size * t->scale / 1000);
  st->leading = (int32_t)((int64_t)st->leading * t->scale / 1000);
}

static void
S_collect_cell(bs_lctx *lc, const bs_table_layout *t, const S_cell *c,
               const bs_style **st_out)
{
  bs_style *st = bs_arena_alloc(lc->arena, sizeof *st);
  S_text_style(lc, t, c, st);
  *st_out = st;
  bs_para_begin(lc);
  if (c->node)
    bs_para_inline(lc, c->node, st);
}

/* The grid's size: rows, cells and columns (the widest row, counting
 * spans and cells spanning into it).  A table over the limits (pipeline.h)
 * is an error here, before anything of the grid's size is allocated or
 * walked: 1,000 cells of colspan 1,000 take 20 KB of source.  Returns
 * false for an empty or refused table. */
static bool
S_grid_size(bs_lctx *lc, const bs_node *table, int *nrows_out,
            int *ncols_out, int *ncells_out)
{
  int nrows = 0, ncells = 0;
  for (const bs_node *r = table->first; r; r = r->next)
    if (r->type == BS_NODE_ROW) {
      nrows++;
      for (const bs_node *c = r->first; c; c = c->next)
        ncells++;
    }
  if (nrows == 0)
    return false;
  int ncols = table->as.table.ncols;
  bool too_wide = ncols > BS_MAX_TABLE_COLUMNS;
  bool too_big = (size_t)nrows > BS_MAX_TABLE_CELLS;
  int *carry = bs_xcalloc(BS_MAX_TABLE_COLUMNS + 1, sizeof(int));
  int used = 0; /* columns that ever held a cell */
  int ri = 0;
  for (const bs_node *r = table->first; r && !too_wide && !too_big;
       r = r->next) {
    if (r->type != BS_NODE_ROW)
      continue;
    int col = 0;
    for (const bs_node *c = r->first; c; c = c->next) {
      while (col < used && carry[col] > 0)
        col++;
      int cs = c->as.cell.colspan;
      int rs = c->as.cell.rowspan;
      if (cs > BS_MAX_TABLE_COLUMNS - col) {
        too_wide = true;
        break;
      }
      for (int k = 0; k < cs; k++)
        carry[col + k] = rs;
      col += cs;
      if (col > used)
        used = col;
    }
    if (used > ncols)
      ncols = used;
    for (int k = 0; k < used; k++)
      if (carry[k] > 0)
        carry[k]--;
    ri++;
    too_big = (size_t)ri * (size_t)ncols > BS_MAX_TABLE_CELLS;
  }
  free(carry);
  if (!too_wide && (size_t)nrows * (size_t)(ncols ? ncols : 1) >
                       BS_MAX_TABLE_CELLS)
    too_big = true;
  if (too_wide || too_big) {
    bool en = lc->doc->diags.lang == BS_LANG_EN;
    if (too_wide)
      bs_diag_text(&lc->doc->diags, BS_ERROR, BS_D_LIMIT, lc->doc->path,
                   table->line, table->col,
                   en ? "table has more than %d columns (the limit)"
                      : "表格超过 %d 列的上限",
                   BS_MAX_TABLE_COLUMNS);
    else
      bs_diag_text(&lc->doc->diags, BS_ERROR, BS_D_LIMIT, lc->doc->path,
                   table->line, table->col,
                   en ? "table of %d rows and %d columns has more than %d "
                        "cells (the limit)"
                      : "表格有 %d 行、%d 列，超过 %d 个单元格的上限",
                   nrows, ncols, BS_MAX_TABLE_CELLS);
    return false;
  }
  *nrows_out = nrows;
  *ncols_out = ncols ? ncols : 1;
  *ncells_out = ncells;
  return true;
}

/* Grid placement (HTML's row and column algorithm): each cell at the first
 * free slot of its row, covering its spans; holes become empty cells, so
 * the grid is closed. */
static bool
S_place_cells(bs_lctx *lc, bs_table_layout *t, const bs_node *table)
{
  int nrows, ncols, ncells;
  if (!S_grid_size(lc, table, &nrows, &ncols, &ncells))
    return false;
  t->nrows = nrows;
  t->ncols = ncols;
  t->grid = bs_arena_alloc(lc->arena,
                           (size_t)nrows * (size_t)ncols * sizeof(int));
  for (size_t i = 0; i < (size_t)nrows * (size_t)ncols; i++)
    t->grid[i] = -1;
  /* the cells of the source; the fillers of holes are added below */
  t->cells = bs_arena_alloc(lc->arena, (size_t)ncells * sizeof(S_cell));
  int r = 0;
  for (const bs_node *row = table->first; row; row = row->next) {
    if (row->type != BS_NODE_ROW)
      continue;
    int col = 0;
    for (const bs_node *c = row->first; c; c = c->next) {
      while (col < ncols && S_AT(t, r, col) >= 0)
        col++;
      if (col >= ncols)
        break;
      int cs = c->as.cell.colspan, rs = c->as.cell.rowspan;
      if (col + cs > ncols)
        cs = ncols - col;
      if (r + rs > nrows) {
        bs_diag_text(&lc->doc->diags, BS_WARNING, BS_D_VALUE, lc->doc->path,
                     c->line, c->col,
                     lc->doc->diags.lang == BS_LANG_EN
                         ? "rowspan=\"%d\" reaches beyond the last row; cut "
                           "to %d"
                         : "rowspan=\"%d\" 超出表格末行，已截为 %d",
                     rs, nrows - r);
        rs = nrows - r;
      }
      S_cell *cell = &t->cells[t->ncells];
      memset(cell, 0, sizeof *cell);
      cell->node = c;
      cell->row = r;
      cell->col = col;
      cell->rowspan = rs;
      cell->colspan = cs;
      cell->align = c->as.cell.align;
      cell->valign = c->as.cell.valign;
      for (int y = r; y < r + rs; y++)
        for (int x = col; x < col + cs; x++)
          if (S_AT(t, y, x) < 0)
            S_AT(t, y, x) = t->ncells;
      t->ncells++;
      col += cs;
    }
    r++;
  }
  /* holes become empty cells, so the grid is closed: a document's tables
   * get at most BS_MAX_TABLE_FILLERS of them.  Each is drawn as a cell, so
   * a few tens of KB of short rows under a row of 1,000 columns (2,000
   * rows of one cell each) would otherwise be 2 million cells, 1.3 GB and
   * 15 s to render; real reports leave a few holes at most. */
  int64_t holes = 0;
  for (size_t i = 0; i < (size_t)nrows * (size_t)ncols; i++)
    holes += t->grid[i] < 0;
  if (holes > BS_MAX_TABLE_FILLERS - lc->table_fillers) {
    bs_diag_text(&lc->doc->diags, BS_ERROR, BS_D_LIMIT, lc->doc->path,
                 table->line, table->col,
                 lc->doc->diags.lang == BS_LANG_EN
                     ? "table of %d rows and %d columns has %lld empty grid "
                       "places (rows with fewer cells than columns); a "
                       "document's tables may have at most %d (the limit)"
                     : "表格有 %d 行、%d 列，其中 %lld 个位置没有单元格（行的"
                       "单元格少于列数），全文表格的空位超过 %d 个的上限",
                 nrows, ncols, (long long)holes, BS_MAX_TABLE_FILLERS);
    lc->table_fillers = BS_MAX_TABLE_FILLERS;
    return false;
  }
  lc->table_fillers += holes;
  t->cells = bs_arena_realloc(lc->arena, t->cells,
                              (size_t)ncells * sizeof(S_cell),
                              ((size_t)t->ncells + (size_t)holes) *
                                  sizeof(S_cell));
  for (int y = 0; y < nrows; y++)
    for (int x = 0; x < ncols; x++)
      if (S_AT(t, y, x) < 0) {
        S_cell *cell = &t->cells[t->ncells];
        memset(cell, 0, sizeof *cell);
        cell->row = y;
        cell->col = x;
        cell->rowspan = cell->colspan = 1;
        S_AT(t, y, x) = t->ncells++;
      }
  return true;
}

/* Cell indices ordered by colspan (or rowspan), then by position: spanning
 * cells are sized after the cells they span, in one pass over the cells
 * rather than one pass per possible span (which made a table with a
 * 1,000-column span take seconds).  malloc'd. */
typedef struct S_span_key {
  int span, index;
} S_span_key;

static int
S_span_cmp(const void *pa, const void *pb)
{
  const S_span_key *a = pa, *b = pb;
  if (a->span != b->span)
    return a->span < b->span ? -1 : 1;
  return (a->index > b->index) - (a->index < b->index);
}

static int *
S_by_span(const bs_table_layout *t, bool rows)
{
  /* Most cells span one row and one column: those come first, in their
   * order, and only the spanning ones are sorted (spans are at least 1:
   * S_place_cells). */
  int *order = bs_xmalloc((size_t)(t->ncells ? t->ncells : 1) * sizeof(int));
  S_span_key *k = NULL;
  int n1 = 0, nk = 0;
  for (int i = 0; i < t->ncells; i++) {
    int span = rows ? t->cells[i].rowspan : t->cells[i].colspan;
    if (span == 1) {
      order[n1++] = i;
      continue;
    }
    if (!k)
      k = bs_xmalloc((size_t)t->ncells * sizeof *k);
    k[nk].span = span;
    k[nk].index = i;
    nk++;
  }
  if (nk) {
    qsort(k, (size_t)nk, sizeof *k, S_span_cmp);
    for (int i = 0; i < nk; i++)
      order[n1 + i] = k[i].index;
  }
  free(k);
  return order;
}

/* Each cell's least and preferred widths (c->minw, c->maxw), padding and
 * rule included, from its text measured at the table's scale. */
static void
S_measure_cells(bs_lctx *lc, bs_table_layout *t)
{
  t->kept.esize = 1;
  t->kept.len = 0;
  for (int i = 0; i < t->ncells; i++) {
    S_cell *c = &t->cells[i];
    const bs_style *st;
    /* The text is kept for the layout of the cell (S_layout_cells), which
     * collects the same characters at the same scale, unless a glyph is
     * missing: the measuring leaves its message to the layout. */
    bool missing = lc->missing;
    lc->missing = false;
    lc->measuring = true;
    S_collect_cell(lc, t, c, &st);
    lc->measuring = false;
    c->kept = !lc->missing;
    lc->missing = lc->missing || missing;
    if (c->kept) {
      c->kept_off = t->kept.len;
      c->kept_n = bs_para_keep(lc, &t->kept);
    }
    int32_t a, b;
    bs_para_measure(lc, &a, &b);
    /* A column narrower than two characters reads as a vertical strip:
     * ask for two characters where the text has them. */
    int32_t two = 2 * st->size;
    if (t->squeeze)
      a = a < st->size ? a : st->size;
    else if (a < two)
      a = b < two ? b : two;
    /* A word or number longer than eight characters (a URL, a 30-digit
     * code) would make the whole table smaller for one cell: it breaks
     * inside instead, as on a line of text. */
    else if (a > 8 * st->size)
      a = 8 * st->size;
    c->minw = a + 2 * t->pad_x + t->rule;
    c->maxw = b + 2 * t->pad_x + t->rule;
    c->size = st->size;
  }
}

/* Each column's least and preferred widths mn[], mx[] from its cells':
 * single-column cells first, then spans by increasing width, a span's
 * shortfall shared evenly over its columns. */
static void
S_column_ranges(const bs_table_layout *t, int64_t *mn, int64_t *mx)
{
  int *order = S_by_span(t, false);
  for (int oi = 0; oi < t->ncells; oi++) {
    const S_cell *c = &t->cells[order[oi]];
    int64_t smin = 0, smax = 0;
    for (int k = c->col; k < c->col + c->colspan; k++) {
      smin += mn[k];
      smax += mx[k];
    }
    if (c->minw > smin) {
      int64_t d = c->minw - smin;
      for (int k = 0; k < c->colspan; k++)
        mn[c->col + k] += d / c->colspan + (k < d % c->colspan ? 1 : 0);
    }
    if (c->maxw > smax) {
      int64_t d = c->maxw - smax;
      for (int k = 0; k < c->colspan; k++)
        mx[c->col + k] += d / c->colspan + (k < d % c->colspan ? 1 : 0);
    }
  }
  free(order);
  for (int k = 0; k < t->ncols; k++)
    if (mx[k] < mn[k])
      mx[k] = mn[k];
}

/* The <colgroup> widths of a table W wide into fixed[] (isfixed[] marks
 * them), scaled down together when they exceed W.  Returns their sum. */
static int64_t
S_fixed_widths(const bs_table_layout *t, const bs_node *table, int32_t W,
               int32_t *fixed, bool *isfixed)
{
  int nc = t->ncols;
  int64_t fixed_sum = 0;
  const bs_length *ws = table->as.table.widths;
  for (int k = 0; ws && k < nc && k < table->as.table.ncols; k++) {
    if (ws[k].kind == BS_LEN_PERCENT)
      fixed[k] = (int32_t)((int64_t)W * ws[k].value / 100000);
    else if (ws[k].kind == BS_LEN_ABS)
      fixed[k] = ws[k].value;
    else
      continue;
    isfixed[k] = true;
    fixed_sum += fixed[k];
  }
  if (fixed_sum > W) {
    for (int k = 0; k < nc; k++)
      if (isfixed[k])
        fixed[k] = (int32_t)((int64_t)fixed[k] * W / fixed_sum);
    fixed_sum = W;
  }
  return fixed_sum;
}

/* Make the widths t->colw[] sum to W (stretching all-fixed columns short
 * of it, the rounding remainder to the last column) and set t->colx[] and
 * t->width from them. */
static void
S_close_widths(bs_table_layout *t, int32_t W, int nauto)
{
  int nc = t->ncols;
  /* all columns fixed but short of the width: stretch them */
  int64_t total = 0;
  for (int k = 0; k < nc; k++)
    total += t->colw[k];
  if (nauto == 0 && total > 0 && total < W)
    for (int k = 0; k < nc; k++)
      t->colw[k] = (int32_t)((int64_t)t->colw[k] * W / total);
  /* rounding: give the remainder to the last column */
  total = 0;
  for (int k = 0; k < nc; k++)
    total += t->colw[k];
  if (total != W && nc > 0 && total > 0 && total < (int64_t)W + nc)
    t->colw[nc - 1] += (int32_t)(W - total);
  t->colx[0] = 0;
  for (int k = 0; k < nc; k++)
    t->colx[k + 1] = t->colx[k] + t->colw[k];
  t->width = t->colx[nc];
}

/* Column widths: explicit from <colgroup>, automatic otherwise, the
 * automatic columns sharing what the explicit ones leave.  Returns the
 * least width the columns need (their minimum widths). */
static int64_t
S_widths(bs_lctx *lc, bs_table_layout *t, const bs_node *table, int32_t W)
{
  int nc = t->ncols;
  int64_t *mn = bs_xcalloc((size_t)nc, sizeof(int64_t));
  int64_t *mx = bs_xcalloc((size_t)nc, sizeof(int64_t));
  int32_t *fixed = bs_xcalloc((size_t)nc, sizeof(int32_t));
  bool *isfixed = bs_xcalloc((size_t)nc, sizeof(bool));
  S_measure_cells(lc, t);
  S_column_ranges(t, mn, mx);
  int64_t fixed_sum = S_fixed_widths(t, table, W, fixed, isfixed);
  int64_t rest = W - fixed_sum;
  int64_t amin = 0, amax = 0;
  int nauto = 0;
  for (int k = 0; k < nc; k++)
    if (!isfixed[k]) {
      amin += mn[k];
      amax += mx[k];
      nauto++;
    }
  for (int k = 0; k < nc; k++) {
    if (isfixed[k]) {
      t->colw[k] = fixed[k];
      continue;
    }
    int64_t w;
    if (amax <= rest)
      /* everything fits on one line: share the surplus by preference */
      w = amax ? mx[k] + (rest - amax) * mx[k] / amax : rest / nauto;
    else if (amin >= rest)
      /* not even the minimum fits: shrink in proportion to the minimum */
      w = amin ? rest * mn[k] / amin : rest / nauto;
    else
      w = mn[k] + (rest - amin) * (mx[k] - mn[k]) / (amax - amin);
    t->colw[k] = (int32_t)w;
  }
  S_close_widths(t, W, nauto);
  int64_t need = fixed_sum + amin;
  for (int k = 0; k < nc; k++)
    t->colmin[k] = (int32_t)(mn[k] < INT32_MAX ? mn[k] : INT32_MAX);
  free(mn);
  free(mx);
  free(fixed);
  free(isfixed);
  return need;
}

static int32_t
S_cell_content_h(const S_cell *c)
{
  int32_t h = 0;
  for (int i = 0; i < c->nlines; i++)
    h += c->lines[i].height;
  return h;
}

static int S_first_group_end(const bs_table_layout *t);

/* A label that just misses its column's width would leave one character
 * alone on a line of its own (自然 / 人): its column is widened to hold it
 * on one line, the width taken from the column with the most room beyond
 * what its content needs (a wide label column; number columns have
 * little), if that column can give it.  Explicit <colgroup> widths too are
 * a layout, not a contract: the official forms set such labels whole. */
static void
S_no_lone_chars(bs_table_layout *t)
{
  for (int i = 0; i < t->ncells; i++) {
    const S_cell *c = &t->cells[i];
    if (!c->node || c->colspan != 1)
      continue;
    int k = c->col;
    int32_t d = c->maxw - t->colw[k];
    /* one character short: the text's one-line width exceeds the column
     * by at most a character */
    if (d <= 0 || d > c->size)
      continue;
    int donor = -1;
    int32_t best = 0;
    for (int j = 0; j < t->ncols; j++)
      if (j != k && t->colw[j] - t->colmin[j] > best) {
        best = t->colw[j] - t->colmin[j];
        donor = j;
      }
    if (donor < 0 || best < d)
      continue;
    t->colw[donor] -= d;
    t->colw[k] += d;
    t->colmin[k] = t->colw[k];
  }
  for (int k = 0; k < t->ncols; k++)
    t->colx[k + 1] = t->colx[k] + t->colw[k];
}

/* The structure of the table under its element `tsid`: a TR per grid
 * row and, in it, a TH or TD for every cell that starts in the row (the
 * fillers of holes too, so every row keeps its columns), in reading
 * order. */
static void
S_structure(bs_lctx *lc, bs_table_layout *t, int32_t tsid)
{
  for (int r = 0; r < t->nrows; r++) {
    int32_t tr = bs_struct_add(lc, BS_SE_TR, tsid);
    for (int col = 0; col < t->ncols; col++) {
      S_cell *c = &t->cells[S_AT(t, r, col)];
      if (c->row != r || c->col != col)
        continue;
      bool head = r < t->head_rows || (c->node && c->node->as.cell.header);
      c->sid = bs_struct_add(lc, head ? BS_SE_TH : BS_SE_TD, tr);
      bs_selem *e = (bs_selem *)lc->elems.data + c->sid;
      /* a header row's cells head their columns, a <th> opening a body
       * row heads the row */
      e->level = !head ? 0 : r < t->head_rows ? 1 : col == 0 ? 2 : 0;
      e->row = c->row;
      e->col = c->col;
      e->rowspan = c->rowspan;
      e->colspan = c->colspan;
    }
  }
}

/* Mark the labels around groups: a row-spanned cell with a row-spanned
 * cell beside it (each cell's rows walked once). */
static void
S_mark_group_labels(bs_table_layout *t)
{
  for (int i = 0; i < t->ncells; i++) {
    S_cell *c = &t->cells[i];
    int next = c->col + c->colspan;
    for (int y = c->row; c->rowspan > 1 && next < t->ncols &&
                         y < c->row + c->rowspan && !c->holds_groups;) {
      const S_cell *e = &t->cells[S_AT(t, y, next)];
      c->holds_groups = e->row == y && e->rowspan > 1 &&
                        e->row + e->rowspan <= c->row + c->rowspan;
      y = e->row + e->rowspan > y ? e->row + e->rowspan : y + 1;
    }
  }
}

/* Set the column widths of a table `width` wide, making its text smaller
 * and then breaking inside words when its columns do not fit, with a
 * warning for the user in either of the last two cases. */
static void
S_fit_widths(bs_lctx *lc, bs_table_layout *t, const bs_node *table,
             int32_t width)
{
  t->scale = 1000;
  int64_t min_w = S_widths(lc, t, table, width);
  if (min_w > width) {
    /* The columns cannot all fit: set the table's text smaller (down to
     * 4/10 of its size) and measure again; warn if even that overflows. */
    int32_t scale = (int32_t)((int64_t)width * 1000 / min_w);
    t->scale = scale < 400 ? 400 : scale;
    t->pad_x = t->pad_x * t->scale / 1000;
    t->pad_y = t->pad_y * t->scale / 1000;
    min_w = S_widths(lc, t, table, width);
  }
  if (min_w > width) {
    /* Still too wide: long words and numbers break inside (as inline.c's
     * emergency break does on a line), each column keeping one character;
     * when even that does not fit, the text overflows its cells. */
    t->squeeze = true;
    int64_t squeezed = S_widths(lc, t, table, width);
    bool en = lc->doc->diags.lang == BS_LANG_EN;
    if (squeezed <= width) {
      bs_diag_text(&lc->doc->diags, BS_WARNING, BS_D_LAYOUT_OVERFLOW,
                   lc->doc->path, table->line, table->col, "%s",
                   en ? "the table's columns are too narrow for its longest "
                        "words or numbers: they are broken across lines"
                      : "表格列宽容纳不下最长的词或数字，已在词内换行");
    } else {
      char msg[256];
      snprintf(msg, sizeof msg,
               en ? "table of %d columns needs %.0f mm but the type area is "
                    "%.0f mm wide: its text overflows the cells"
                  : "表格有 %d 列，至少需要 %.0f 毫米宽，版心只有 %.0f 毫米："
                    "单元格文字会溢出",
               t->ncols, min_w * 25.4 / 72000.0, width * 25.4 / 72000.0);
      bs_diag_text(&lc->doc->diags, BS_WARNING, BS_D_LAYOUT_OVERFLOW,
                   lc->doc->path, table->line, table->col, "%s", msg);
    }
  }
}

/* Break every cell's text into lines at its column width (c->lines,
 * c->nlines in the arena; c->leading). */
static void
S_layout_cells(bs_lctx *lc, bs_table_layout *t)
{
  bs_vec lines = BS_VEC_INIT(bs_line);
  for (int i = 0; i < t->ncells; i++) {
    S_cell *c = &t->cells[i];
    const bs_style *st;
    bs_style kst;
    if (c->kept) {
      S_text_style(lc, t, c, &kst);
      st = &kst;
      bs_para_restore(lc, &t->kept, c->kept_off, c->kept_n);
    } else {
      S_collect_cell(lc, t, c, &st);
    }
    bs_para_geom g;
    memset(&g, 0, sizeof g);
    g.width = t->colx[c->col + c->colspan] - t->colx[c->col] - 2 * t->pad_x -
              t->rule;
    g.leading = st->leading;
    c->leading = st->leading;
    bs_align al = c->align != BS_ALIGN_DEFAULT ? c->align
                  : st->align != BS_ALIGN_DEFAULT ? st->align
                                                  : BS_ALIGN_CENTER;
    /* left-aligned Chinese labels read best justified, last line flush;
     * a label spanning rows is centred, line by line, as the official
     * forms set 三、本年度办理结果 and （三）不予公开 */
    if (c->rowspan > 1)
      al = BS_ALIGN_CENTER;
    g.align = al == BS_ALIGN_LEFT ? BS_ALIGN_JUSTIFY : al;
    /* centred text wraps into lines of similar length, at words; labels
     * break at words and are not letter-spaced across a wide cell */
    g.balance = g.align == BS_ALIGN_CENTER;
    g.prefer_words = true;
    g.max_stretch = st->size / 4;
    lines.len = 0;
    bs_para_layout(lc, &g, &lines);
    c->nlines = (int)lines.len;
    c->lines = bs_arena_alloc(lc->arena,
                              (lines.len ? lines.len : 1) * sizeof(bs_line));
    if (lines.len)
      memcpy(c->lines, lines.data, lines.len * sizeof(bs_line));
  }
  bs_vec_free(&lines);
}

/* Row heights t->rowh[]: single-row cells, then spanning cells by span,
 * each row at least one line of the table's largest leading. */
static void
S_row_heights(bs_table_layout *t)
{
  int32_t min_row = 0;
  for (int i = 0; i < t->ncells; i++)
    if (t->cells[i].leading > min_row)
      min_row = t->cells[i].leading;
  for (int r = 0; r < t->nrows; r++)
    t->rowh[r] = min_row + 2 * t->pad_y;
  int *order = S_by_span(t, true);
  for (int oi = 0; oi < t->ncells; oi++) {
    S_cell *c = &t->cells[order[oi]];
    int span = c->rowspan;
    int32_t need = S_cell_content_h(c) + 2 * t->pad_y;
    int32_t have = 0;
    for (int r = c->row; r < c->row + span; r++)
      have += t->rowh[r];
    if (need > have) {
      /* spread over the spanned rows, the remainder on the last */
      int32_t d = need - have;
      for (int r = c->row; r < c->row + span; r++)
        t->rowh[r] += d / span;
      t->rowh[c->row + span - 1] += d % span;
    }
  }
  free(order);
}

bs_table_layout *
bs_table_prepare(bs_lctx *lc, const bs_node *table, int32_t width,
                 int32_t sid)
{
  bs_table_layout *t = bs_arena_alloc(lc->arena, sizeof *t);
  t->node = table;
  t->kept = (bs_vec)BS_VEC_INIT(char);
  t->pad_x = lc->tpl->cell_pad_x;
  t->pad_y = lc->tpl->cell_pad_y;
  t->rule = lc->tpl->rule_width;
  if (!S_place_cells(lc, t, table))
    return NULL;
  t->head_rows = table->as.table.head_rows;
  if (t->head_rows >= t->nrows)
    t->head_rows = 0; /* a table of headers only has nothing to repeat */
  S_structure(lc, t, sid);
  S_mark_group_labels(t);
  t->colw = bs_arena_alloc(lc->arena, (size_t)t->ncols * sizeof(int32_t));
  t->colx = bs_arena_alloc(lc->arena,
                           (size_t)(t->ncols + 1) * sizeof(int32_t));
  t->colmin = bs_arena_alloc(lc->arena, (size_t)t->ncols * sizeof(int32_t));
  t->rowh = bs_arena_alloc(lc->arena, (size_t)t->nrows * sizeof(int32_t));
  S_fit_widths(lc, t, table, width);
  S_no_lone_chars(t);
  S_layout_cells(lc, t);
  bs_vec_free(&t->kept);
  S_row_heights(t);
  t->first_end = S_first_group_end(t);
  return t;
}

/* ------------------------------------------------------------------ */
/* Placement                                                            */

static void
S_rule(bs_lctx *lc, bs_page *p, int32_t x0, int32_t y0, int32_t x1,
       int32_t y1, int32_t w)
{
  bs_item *it = bs_page_add(lc, p, BS_ITEM_RULE);
  it->as.rule.x0 = x0;
  it->as.rule.y0 = y0;
  it->as.rule.x1 = x1;
  it->as.rule.y1 = y1;
  it->as.rule.width = w;
}

/* Draw the text of a cell piece of height h at (x, y). */
static void
S_cell_piece(bs_lctx *lc, bs_table_layout *t, S_cell *c, bs_page *p,
             int32_t x, int32_t y, int32_t h, bool last_piece)
{
  int32_t inner = h - 2 * t->pad_y;
  int first = 0, count = 0;
  int32_t content = 0;
  int32_t total = S_cell_content_h(c);
  int32_t sid = c->sid;
  if (c->consumed == 0 && total <= inner) {
    /* the whole text fits this piece: draw it (again, on a new page: a
     * repeated header or row label is no new text) */
    count = c->nlines;
    content = total;
    c->shown = true;
    if (c->drawn)
      sid = BS_SID_REPEATED;
  } else if (c->shown) {
    /* shown whole on an earlier page; this piece is too small to repeat */
    count = 0;
  } else {
    /* continue where the previous piece stopped */
    first = c->consumed;
    for (int i = first; i < c->nlines; i++) {
      if (content + c->lines[i].height > inner && !last_piece)
        break;
      content += c->lines[i].height;
      count++;
    }
    c->consumed = first + count;
  }
  int32_t ty = y + t->pad_y;
  bs_valign va = c->valign;
  if (va == BS_VALIGN_DEFAULT)
    va = BS_VALIGN_MIDDLE;
  if (va == BS_VALIGN_MIDDLE && content < inner)
    ty += (inner - content) / 2;
  else if (va == BS_VALIGN_BOTTOM && content < inner)
    ty += inner - content;
  int32_t tx = x + t->pad_x + t->rule / 2;
  if (count > 0)
    c->drawn = true;
  for (int i = first; i < first + count; i++) {
    c->lines[i].sid = sid;
    bs_page_add_line(lc, p, &c->lines[i], tx, ty);
    ty += c->lines[i].height;
  }
}

/* Draw rows [r0, r1) of the table at *y with row heights h[] (which may be
 * cut for a split row).  `split`: the last row continues on the next page.
 * Returns the cell pieces drawn. */
static int64_t
S_draw_rows(bs_lctx *lc, bs_table_layout *t, bs_page *p, int32_t x0,
            int32_t y0, int r0, int r1, const int32_t *h, bool split,
            bool close_bottom)
{
  /* row tops */
  int32_t *ry = bs_xmalloc((size_t)(r1 - r0 + 1) * sizeof(int32_t));
  ry[0] = y0;
  for (int r = r0; r < r1; r++)
    ry[r - r0 + 1] = ry[r - r0] + h[r - r0];
  int64_t pieces = 0;
  /* each cell that has a piece in [r0, r1), in reading order */
  for (int r = r0; r < r1; r++) {
    for (int col = 0; col < t->ncols; col++) {
      int ci = S_AT(t, r, col);
      S_cell *c = &t->cells[ci];
      if (c->col != col)
        continue;
      /* a cell starts its piece at its own row or at the top of the piece */
      if (c->row != r && r != r0)
        continue;
      int end = c->row + c->rowspan;
      int pe = end < r1 ? end : r1;
      int32_t x = x0 + t->colx[c->col];
      int32_t w = t->colx[c->col + c->colspan] - t->colx[c->col];
      int32_t y = ry[r - r0], hh = ry[pe - r0] - y;
      /* top and left edges */
      S_rule(lc, p, x, y, x + w, y, t->rule);
      S_rule(lc, p, x, y, x, y + hh, t->rule);
      S_cell_piece(lc, t, c, p, x, y, hh, end < r1 || (end == r1 && !split));
      pieces++;
    }
  }
  /* right and bottom edges of this piece of the table */
  int32_t yb = ry[r1 - r0];
  S_rule(lc, p, x0 + t->width, y0, x0 + t->width, yb, t->rule);
  if (close_bottom) /* a header's bottom is the top of the rows below */
    S_rule(lc, p, x0, yb, x0 + t->width, yb, t->rule);
  free(ry);
  return pieces;
}

static int32_t
S_rows_h(const bs_table_layout *t, int r0, int r1)
{
  int32_t h = 0;
  for (int r = r0; r < r1; r++)
    h += t->rowh[r];
  return h;
}

/* The least height of a piece of a split row: one line and padding. */
static int32_t
S_min_split_h(const bs_table_layout *t)
{
  return 2 * t->pad_y + (t->ncells ? t->cells[0].leading : 0);
}

/* The fewest body rows a table shows on the page where it starts: a
 * piece of one or two rows under a repeated header reads as a stray. */
#define S_FIRST_ROWS 3

static int S_respect_spans(const bs_table_layout *t, int r, int r1);

/* Is the line between rows r-1 and r a boundary between groups of rows?
 * Every cell that reaches across it must be a label around groups (such
 * as 三、本年度办理结果 around （一）…（七）) whose next group starts at r; a
 * row-spanned label around plain rows (（三）不予公开 around 1.–8.) is a
 * group that a page break should not cut. */
static bool
S_group_boundary(const bs_table_layout *t, int r)
{
  if (r <= t->head_rows || r >= t->nrows)
    return true;
  for (int col = 0; col < t->ncols; col++) {
    const S_cell *c = &t->cells[S_AT(t, r, col)];
    if (c->row == r || c->col != col)
      continue;
    int next = c->col + c->colspan;
    if (!c->holds_groups || next >= t->ncols ||
        t->cells[S_AT(t, r, next)].row != r)
      return false;
  }
  return true;
}

/* May a page's piece that starts at row r0 end before row r: a group
 * boundary where every label reaching across has its text whole above? */
static bool
S_cut_ok(const bs_table_layout *t, int r0, int r)
{
  return S_group_boundary(t, r) && S_respect_spans(t, r0, r) == r;
}

/* End of the first piece a table needs on its first page: at least
 * S_FIRST_ROWS body rows (or all), and every row-spanned cell starting in
 * them whole, unless its text fits the rows already included. */
static int
S_first_end(const bs_table_layout *t)
{
  int nbody = t->nrows - t->head_rows;
  int k = t->head_rows + (nbody < S_FIRST_ROWS ? nbody : S_FIRST_ROWS);
  bool moved = true;
  while (moved) {
    moved = false;
    for (int row = t->head_rows; row < k; row++)
      for (int col = 0; col < t->ncols; col++) {
        const S_cell *c = &t->cells[S_AT(t, row, col)];
        if (c->row != row || c->col != col || c->row + c->rowspan <= k)
          continue;
        if (S_rows_h(t, c->row, k) - 2 * t->pad_y < S_cell_content_h(c)) {
          k = c->row + c->rowspan;
          moved = true;
        }
      }
  }
  return k;
}

/* The end of the first piece: at a group boundary after S_FIRST_ROWS
 * rows (never inside a group of rows unless no boundary follows: a group
 * taller than a page). */
static int
S_first_group_end(const bs_table_layout *t)
{
  int nbody = t->nrows - t->head_rows;
  int r = t->head_rows + (nbody < S_FIRST_ROWS ? nbody : S_FIRST_ROWS);
  while (r < t->nrows && !S_cut_ok(t, t->head_rows, r))
    r++;
  return r < t->nrows ? r : S_first_end(t);
}

int32_t
bs_table_first_h(const bs_table_layout *t)
{
  return S_rows_h(t, 0, t->first_end);
}

/* Lower the end r1 of a page's piece so that no row-spanned cell that
 * starts on this page (after row r) is cut before its text fits: such a
 * cell then starts on the next page instead. */
static int
S_respect_spans(const bs_table_layout *t, int r, int r1)
{
  /* Only cells whose top-left slot lies in rows (r, r1) can matter; they
   * are found through the grid, since going through every cell of the
   * table on every page is quadratic in the rows.  The result does not
   * depend on the order cells are tried in: a cell cut at r1 is also cut
   * at any smaller end below which it starts. */
  bool moved = true;
  while (moved && r1 > r) {
    moved = false;
    for (int row = r + 1; row < r1; row++) {
      for (int col = 0; col < t->ncols; col++) {
        const S_cell *c = &t->cells[S_AT(t, row, col)];
        if (c->row != row || c->col != col || c->row + c->rowspan <= r1)
          continue;
        int32_t piece = S_rows_h(t, c->row, r1) - 2 * t->pad_y;
        if (piece < S_cell_content_h(c)) {
          r1 = c->row;
          moved = true;
        }
      }
    }
  }
  return r1;
}

/* Where a table that does not fit in `avail` (whole rows up to `fit`)
 * ends its first piece: a group boundary after at least S_FIRST_ROWS body
 * rows, or 0 to move it to the next page (moving leaves no more than the
 * template's share of the page empty), or -1 when no boundary fits. */
static int
S_start_split(const bs_lctx *lc, const bs_table_layout *t, int32_t avail,
              int32_t page_h, int fit)
{
  if ((int64_t)avail * 1000 <= (int64_t)lc->tpl->table_split_empty * page_h)
    return 0;
  int nbody = t->nrows - t->head_rows;
  int least = t->head_rows + (nbody < S_FIRST_ROWS ? nbody : S_FIRST_ROWS);
  for (int b = fit; b >= least && b > t->head_rows; b--)
    if (S_cut_ok(t, t->head_rows, b))
      return b;
  return -1;
}

int32_t
bs_table_start_h(const bs_lctx *lc, const bs_table_layout *t, int32_t avail,
                 int32_t page_h)
{
  int32_t all = S_rows_h(t, 0, t->nrows);
  if (all <= avail)
    return all;
  int32_t head = S_rows_h(t, 0, t->head_rows), used = head;
  int fit = t->head_rows;
  while (fit < t->nrows && used + t->rowh[fit] <= avail)
    used += t->rowh[fit++];
  int b = S_start_split(lc, t, avail, page_h, fit);
  if (b > 0)
    return S_rows_h(t, 0, b);
  if (b < 0 && bs_table_first_h(t) > page_h)
    return S_rows_h(t, 0, S_first_end(t)); /* a group taller than a page */
  return avail + 1; /* it moves */
}

/* The sum of the first n heights of h[]. */
static int32_t
S_sum_h(const int32_t *h, int n)
{
  int32_t used = 0;
  for (int i = 0; i < n; i++)
    used += h[i];
  return used;
}

/* Draw the header rows at y, their cells (head[], nhead of them) drawn
 * afresh as on every page.  Returns the cell pieces drawn. */
static int64_t
S_draw_header(bs_lctx *lc, bs_table_layout *t, bs_pager *pg, int32_t y,
              const int *head, int nhead)
{
  int32_t *hh = bs_xmalloc((size_t)t->head_rows * sizeof(int32_t));
  for (int k = 0; k < t->head_rows; k++)
    hh[k] = t->rowh[k];
  for (int k = 0; k < nhead; k++) {
    t->cells[head[k]].consumed = 0;
    t->cells[head[k]].shown = false;
  }
  int64_t pieces = S_draw_rows(lc, t, pg->page, pg->left, y, 0, t->head_rows,
                               hh, false, false);
  free(hh);
  return pieces;
}

/* What is left of split row r for the next page: the tallest rest of its
 * single-row cells' text, with padding; 0 when all of it was shown. */
static int32_t
S_split_rest(const bs_table_layout *t, int r)
{
  int32_t rest = 0;
  for (int col = 0; col < t->ncols; col++) {
    const S_cell *c = &t->cells[S_AT(t, r, col)];
    if (c->row != r || c->col != col || c->rowspan != 1 || c->shown)
      continue;
    int32_t ch = 0;
    for (int k = c->consumed; k < c->nlines; k++)
      ch += c->lines[k].height;
    if (ch > 0 && ch + 2 * t->pad_y > rest)
      rest = ch + 2 * t->pad_y;
  }
  return rest;
}

/* Warn, once per document, that a table's header rows leave no room on
 * a page, so a row overflows it. */
static void
S_warn_header_full(bs_lctx *lc, const bs_table_layout *t)
{
  if (lc->warned_overflow)
    return;
  lc->warned_overflow = true;
  const bs_node *tn = t->node;
  bs_diag_text(&lc->doc->diags, BS_WARNING, BS_D_LAYOUT_OVERFLOW,
               lc->doc->path, tn->line, tn->col, "%s",
               lc->doc->diags.lang == BS_LANG_EN
                   ? "table header rows leave no room on the page; "
                     "a row overflows"
                   : "表头占满整页，表格行溢出页面");
}

/* Does a page's piece of the table start with the header rows (head_h
 * high)?  The first piece does; the others while the header takes at most
 * a quarter of the page (see the file comment). */
static bool
S_with_header(const bs_table_layout *t, int32_t head_h, int32_t page_h,
              bool first_piece)
{
  return t->head_rows > 0 && (first_piece || (int64_t)head_h * 4 <= page_h);
}

/* Refuse a table whose pieces on its pages draw its cells again more
 * often than the document's budget allows (BS_MAX_TABLE_REPEATS).  A row
 * or row span that continues over pages draws every cell it crosses on
 * every page: the output grows as the table's columns times the pages of
 * its tallest cell, both linear in the source, so a few tens of KB (a
 * span of 900 columns beside a long word in a narrow column, one character
 * a line, 440 pages) took hundreds of MB.  Real reports repeat a header
 * or a row label a few hundred times.  `pieces` is what the table drew so
 * far; returns true (with the error) when over the budget. */
static bool
S_over_repeats(bs_lctx *lc, const bs_table_layout *t, int64_t pieces)
{
  if (pieces - t->ncells <= BS_MAX_TABLE_REPEATS - lc->table_repeats)
    return false;
  const bs_node *tn = t->node;
  bs_diag_text(&lc->doc->diags, BS_ERROR, BS_D_LIMIT, lc->doc->path, tn->line,
               tn->col,
               lc->doc->diags.lang == BS_LANG_EN
                   ? "table of %d columns continues its rows over so many "
                     "pages that more than %d cells are drawn again (the "
                     "limit)"
                   : "表格有 %d 列，续排的页数过多，重复绘制的单元格超过 %d "
                     "个的上限",
               t->ncols, BS_MAX_TABLE_REPEATS);
  lc->table_repeats = BS_MAX_TABLE_REPEATS;
  return true;
}

/* Placement is one loop over pages: which rows fit, where the piece may
 * end, whether the table moves, splits a row or overflows all depend on
 * the row r, the rest left_h of a split row and the page position it
 * carries from one page to the next, so those decisions stay together
 * here; drawing the header and measuring a split row's rest are apart. */
void
bs_table_place(bs_lctx *lc, bs_table_layout *t, bs_pager *pg)
{
  int32_t head_h = S_rows_h(t, 0, t->head_rows);
  bool first_piece = true; /* nothing of the table is placed yet */
  int r = t->head_rows;
  int32_t *h = bs_xmalloc((size_t)t->nrows * sizeof(int32_t));
  /* `left_h` is what remains of row r (less than its height once split) */
  int32_t left_h = r < t->nrows ? t->rowh[r] : 0;
  /* the header's cells, drawn afresh on every page */
  int *head = bs_xmalloc((size_t)(t->ncells ? t->ncells : 1) * sizeof(int));
  int nhead = 0;
  int64_t pieces = 0; /* cell pieces drawn (S_over_repeats) */
  for (int i = 0; i < t->ncells; i++) {
    t->cells[i].consumed = 0;
    t->cells[i].shown = false;
    if (t->cells[i].row < t->head_rows)
      head[nhead++] = i;
  }
  while (r < t->nrows) {
    bool at_top = pg->y <= pg->top;
    int32_t page_h = pg->bottom - pg->top;
    bool with_head = S_with_header(t, head_h, page_h, first_piece);
    int32_t hh = with_head ? head_h : 0;
    int32_t avail = pg->bottom - pg->y - hh;
    /* whole rows that fit */
    int r1 = r, n = 0;
    int32_t used = 0;
    while (r1 < t->nrows) {
      int32_t rh = r1 == r ? left_h : t->rowh[r1];
      if (used + rh > avail)
        break;
      h[n++] = rh;
      used += rh;
      r1++;
    }
    int fit = r1; /* whole rows that fit */
    if (r1 < t->nrows && r1 > r) {
      /* end the piece at the last group boundary that fits, if any (a
       * group taller than what is left of a page is cut where its label
       * fits above) */
      int k = S_respect_spans(t, r, r1);
      for (int b = k; b > r; b--)
        if (S_cut_ok(t, r, b)) {
          k = b;
          break;
        }
      if (k < r1) {
        r1 = k;
        n = k - r;
        used = S_sum_h(h, n);
      }
    }
    /* A table that does not fit where it starts moves whole to the next
     * page when that leaves no more than the template's share of this page
     * empty; otherwise it splits at the last group boundary that fits
     * after at least S_FIRST_ROWS rows, its header repeated.  With no such
     * boundary it moves, unless its first group is taller than a page
     * (then it is cut where its label fits, as before). */
    if (!at_top && r == t->head_rows && left_h == t->rowh[r] &&
        r1 < t->nrows) {
      int b = S_start_split(lc, t, pg->bottom - pg->y, page_h, fit);
      if (b < 0 && bs_table_first_h(t) > page_h) {
        /* a first group taller than a page: cut below, where it must */
      } else if (b <= r) {
        pg->new_page(pg);
        continue;
      } else {
        r1 = b;
        n = b - r;
        used = S_sum_h(h, n);
      }
    }
    bool split = false;
    if (r1 == r) {
      /* nothing fits whole: a new page, unless the row is taller than a
       * page (split it here) or we are at the top already */
      bool fits_fresh = left_h <= page_h - hh;
      if (!at_top && (fits_fresh || avail < S_min_split_h(t))) {
        pg->new_page(pg);
        continue;
      }
      if (avail >= S_min_split_h(t) && avail < left_h) {
        h[0] = avail;
        split = true;
      } else {
        /* the header leaves no room at all: let the row overflow */
        h[0] = left_h;
        S_warn_header_full(lc, t);
      }
      n = 1;
      r1 = r + 1;
      used = h[0];
    }
    int32_t y = pg->y;
    if (with_head) {
      pieces += S_draw_header(lc, t, pg, y, head, nhead);
      y += hh;
    }
    pieces += S_draw_rows(lc, t, pg->page, pg->left, y, r, r1, h, split, true);
    pg->y = y + used;
    first_piece = false;
    if (S_over_repeats(lc, t, pieces))
      break;
    if (split) {
      int32_t rest = S_split_rest(t, r);
      if (rest == 0) {
        r = r1;
        left_h = r < t->nrows ? t->rowh[r] : 0;
      } else {
        left_h = rest;
      }
    } else {
      r = r1;
      left_h = r < t->nrows ? t->rowh[r] : 0;
    }
    if (r < t->nrows)
      pg->new_page(pg);
  }
  if (pieces > t->ncells && lc->table_repeats < BS_MAX_TABLE_REPEATS)
    lc->table_repeats += pieces - t->ncells;
  free(h);
  free(head);
}
