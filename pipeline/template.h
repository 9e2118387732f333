// SPDX-License-Identifier: Apache-2.0
/* template.h - page templates (templates/NAME.xml).
 *
 * A template is data: page size and margins, the character grid, and one
 * style per kind of text (font role, size, alignment, indent, spacing).  The
 * default template, gbt9704, follows GB/T 9704-2012 (A4, type area
 * 156 x 225 mm, 22 lines of 28 characters of 3号 text, headings 一、/（一）/
 * 1./（1）in 黑/楷/仿宋/仿宋, page numbers "— 1 —" in 4号 宋体).  Every
 * template is validated against schemas/template.xsd before it is used.
 *
 * Layer 6 (fonts, template, image): docs/architecture.md. */
#ifndef BS_TEMPLATE_H
#define BS_TEMPLATE_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "doc.h"

typedef struct bs_style {
  const char *role;      /* font role name */
  int32_t size;          /* font size, mpt */
  bs_align align;        /* default alignment */
  int32_t indent;        /* first-line indent, in 1/1000 of a character */
  int32_t left;          /* left indent of all lines, 1/1000 character */
  int32_t space_before;  /* mpt */
  int32_t space_after;   /* mpt */
  int32_t leading;       /* line pitch in mpt; 0 = the grid's line pitch */
  bool grid;             /* set full-width characters on the grid pitch */
  const char *number;    /* heading number format: {cn} {n} tokens */
} bs_style;

enum {
  BS_STYLE_BODY,
  BS_STYLE_TITLE,
  BS_STYLE_H1,
  BS_STYLE_H2,
  BS_STYLE_H3,
  BS_STYLE_H4,
  BS_STYLE_EM,
  BS_STYLE_STRONG,
  BS_STYLE_LIST,
  BS_STYLE_TABLE,
  BS_STYLE_TABLE_HEAD,
  BS_STYLE_CAPTION,
  BS_STYLE_CLOSING,
  BS_STYLE_PAGE_NUMBER,
  BS_STYLE_COUNT
};

typedef struct bs_template {
  char *name;            /* template name */
  char *path;            /* file it came from */
  int32_t page_w, page_h;            /* mpt */
  int32_t top, bottom, inner, outer; /* margins, mpt */
  bool mirror;           /* inner margin on the binding side of each page */
  int grid_lines;        /* lines per page of body text */
  int grid_chars;        /* characters per line of body text */
  int32_t line_pitch;    /* (page_h - top - bottom) / grid_lines */
  int32_t char_pitch;    /* (page_w - inner - outer) / grid_chars */
  bs_style styles[BS_STYLE_COUNT];
  const char *page_number_format;  /* e.g. "— {n} —" */
  int32_t page_number_offset;      /* from type area bottom to the dash */
  bs_align page_number_odd;        /* right */
  bs_align page_number_even;       /* left */
  int32_t page_number_indent;      /* characters (1/1000) from the edge */
  int32_t rule_width;              /* table rules, mpt */
  int32_t cell_pad_x, cell_pad_y;  /* table cell padding, mpt */
  int32_t table_split_empty;       /* a table that would leave more than
                                      this share (1/1000) of a page empty
                                      by moving whole splits at a group */
  const char **words;    /* words that titles and table labels never break
                            inside (办公厅, 人民政府, 年度, 出具 …), UTF-8 */
  const uint32_t **word_cps; /* the same as code points, decoded once */
  int *word_len;             /* how many each */
  int nwords;
  uint64_t word_first[4];    /* bit c & 255: a word starts with c */
  bool punct_adjacent;   /* two adjacent full-width marks share their
                            blank halves: 1.5 em instead of 2 */
  bool punct_line_start; /* an opening mark at a line start is set half
                            width */
  bs_arena arena;        /* strings of this template */
} bs_template;

/* Load template `name` (a name in templates/ of the data folder, or a path
 * to an .xml file), validated against schemas/template.xsd.  Returns NULL
 * after diagnostics (BS_D_TEMPLATE, located file:line:col where the
 * problem has a place) on failure. */
bs_template *bs_template_load(const char *name, bs_diags *diags);
void bs_template_free(bs_template *t);

/* Width and height of the type area. */
static inline int32_t
bs_template_text_w(const bs_template *t)
{
  return t->page_w - t->inner - t->outer;
}
static inline int32_t
bs_template_text_h(const bs_template *t)
{
  return t->page_h - t->top - t->bottom;
}

#endif
