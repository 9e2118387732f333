// SPDX-License-Identifier: Apache-2.0
/* doc.h - the document tree.
 *
 * One node struct for every kind of node, linked to parent, children and
 * siblings as cmark's node.h, with the source line and column on every node
 * so that late stages (rules, normalisation, layout) still point into the XML.
 * Nodes and strings live in the document's arena and have no free.
 *
 * Layer 2 (document): docs/architecture.md. */
#ifndef BS_DOC_H
#define BS_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "diag.h"

/* Limits that protect the pipeline against hostile or broken sources. */
#define BS_MAX_SOURCE_BYTES ((size_t)64 * 1024 * 1024) /* 64 MiB */
#define BS_MAX_DEPTH 64 /* element nesting */
#define BS_MAX_TABLE_COLUMNS 1000           /* columns of one table */
#define BS_MAX_TABLE_CELLS (2 * 1000 * 1000) /* rows x columns of one table */
#define BS_MAX_TABLE_REPEATS (200 * 1000)   /* cells a document's tables draw
                                               again on later pages */
#define BS_MAX_TABLE_FILLERS (100 * 1000)   /* empty cells a document's tables
                                               get for the holes of their
                                               grids (short rows) */

typedef enum bs_node_type {
  BS_NODE_BODY,      /* root of the flow: blocks */
  BS_NODE_SECTION,   /* heading + blocks; as.section */
  BS_NODE_HEADING,   /* inline children */
  BS_NODE_PARAGRAPH, /* inline children; as.para */
  BS_NODE_LIST,      /* items; as.list */
  BS_NODE_ITEM,      /* inline children and nested lists */
  BS_NODE_TABLE,     /* caption?, rows; as.table */
  BS_NODE_CAPTION,   /* inline children (table or figure caption) */
  BS_NODE_ROW,       /* cells; as.row */
  BS_NODE_CELL,      /* inline children; as.cell */
  BS_NODE_FIGURE,    /* caption?; as.figure */
  BS_NODE_PAGEBREAK, /* forced page break */
  BS_NODE_TEXT,      /* leaf; as.text */
  BS_NODE_EMPH,      /* inline children, set in the emphasis style */
  BS_NODE_STRONG,    /* inline children, set in the strong style */
  BS_NODE_BREAK,     /* forced line break inside a paragraph */
} bs_node_type;

typedef enum bs_align {
  BS_ALIGN_DEFAULT = 0, /* the style's alignment */
  BS_ALIGN_LEFT,
  BS_ALIGN_CENTER,
  BS_ALIGN_RIGHT,
  BS_ALIGN_JUSTIFY,
} bs_align;

typedef enum bs_valign {
  BS_VALIGN_DEFAULT = 0,
  BS_VALIGN_TOP,
  BS_VALIGN_MIDDLE,
  BS_VALIGN_BOTTOM,
} bs_valign;

/* A length from the source: absolute (millipoints) or percent (per
 * hundred-thousand of the available width, so 12.5% = 12500). */
typedef struct bs_length {
  enum { BS_LEN_AUTO = 0, BS_LEN_ABS, BS_LEN_PERCENT } kind;
  int32_t value; /* millipoints, or percent * 1000 */
} bs_length;

typedef struct bs_node bs_node;
struct bs_node {
  bs_node_type type;
  bs_node *parent; /* NULL for the body */
  bs_node *first;  /* first child */
  bs_node *last;   /* last child */
  bs_node *next;   /* next sibling */
  bs_node *prev;   /* previous sibling */
  uint32_t line;   /* source line of the element (1-based), 0 if generated */
  uint32_t col;    /* source column (1-based), 0 if unknown */
  union {
    struct {
      char *data;       /* UTF-8, NUL-terminated; edited by normalisation */
      size_t len;       /* bytes in data */
      uint32_t src_off; /* byte offset of the text in the source, for
                           per-character locations; UINT32_MAX if none */
    } text;
    struct {
      int level;          /* 1..4 (deeper sections use level 4 styles) */
      const char *number; /* explicit number, "" for none, NULL = automatic */
      bool runin;         /* heading set at the start of the first paragraph */
    } section;
    struct {
      bs_align align; /* paragraph alignment */
      int indent;     /* first-line indent in characters, -1 = style's */
    } para;
    struct {
      bool ordered; /* ordered (1. 2.) or unordered (bullets) */
      int start;    /* first number */
      int depth;    /* nesting depth, 0 for a top-level list */
    } list;
    struct {
      int ncols;          /* columns of the grid (from the widest row) */
      bs_length *widths;  /* ncols entries from <colgroup>, or NULL */
      int32_t size;       /* font size in millipoints, 0 = style's */
      int head_rows;      /* rows from <thead>, repeated on each page */
    } table;
    struct {
      bool header; /* row comes from <thead> */
    } row;
    struct {
      int colspan, rowspan; /* >= 1 */
      bs_align align;       /* horizontal alignment */
      bs_valign valign;     /* vertical alignment */
      bool header;          /* <th> */
    } cell;
    struct {
      const char *src; /* image path as written in the source */
      bs_length width; /* requested width */
    } figure;
  } as;
};

/* Document metadata from <meta> and <closing>. */
typedef struct bs_meta {
  const char *title;      /* 标题 */
  const char *issuer;     /* 发文机关 / 责任者 */
  int year;               /* report year, 0 if absent */
  int date_y, date_m, date_d; /* 成文日期 */
  const char *number;     /* 文号, NULL if absent */
  const char *subject;    /* NULL if absent */
  const char **keywords;  /* NULL-terminated, may be empty */
  const char *retention;  /* 保管期限, NULL if absent */
  const char *lang;       /* BCP 47, default "zh-CN" */
  uint32_t title_line, title_col; /* where the title is in the source */
  const char **signatures; /* closing: NULL-terminated, NULL if no closing */
  int close_y, close_m, close_d; /* closing date */
  uint32_t closing_line, closing_col;
} bs_meta;

/* A parsed source: tree, metadata and the source text for locations. */
typedef struct bs_document {
  bs_arena arena;       /* owns every node and string below */
  bs_diags diags;       /* problems found so far, in all stages */
  const char *path;     /* source path as given */
  const char *dir;      /* folder of the source (for relative image paths) */
  bs_meta meta;         /* metadata */
  bs_node *body;        /* the flow */
  const unsigned char *src;  /* the source bytes as UTF-8 (arena) */
  size_t src_len;            /* bytes in src */
  uint32_t *line_starts;     /* offsets where each line starts (arena) */
  uint32_t nlines;           /* entries in line_starts */
  uint32_t *chars_before;    /* characters before every BS_LOC_STRIDE-th
                                byte (arena): columns in constant time even
                                on a single-line (minified) source */
  const unsigned char *raw;  /* the source file's bytes as read (arena), kept
                                only when bs_parse_options.keep_source */
  size_t raw_len;            /* bytes in raw */
  const unsigned char *core; /* a report source's core document as UTF-8
                                XML (arena), kept with raw; NULL otherwise */
  size_t core_len;           /* bytes in core */
} bs_document;

/* Create an empty document for the source at `path`; diagnostics will use
 * `lang`.  Free with bs_document_free(). */
bs_document *bs_document_new(const char *path, bs_lang lang);
/* Free the document, its tree and its diagnostics. */
void bs_document_free(bs_document *doc);

/* Allocate a node of `type` in the document's arena, located at line:col. */
bs_node *bs_node_new(bs_document *doc, bs_node_type type, uint32_t line,
                     uint32_t col);
/* Append `child` as the last child of `parent`. */
void bs_node_append(bs_node *parent, bs_node *child);
/* Remove `node` from its parent (it stays allocated in the arena). */
void bs_node_unlink(bs_node *node);
/* Next node in document order (pre-order) below `root`, or NULL. */
bs_node *bs_node_walk_next(bs_node *node, const bs_node *root);

/* Byte stride of doc->chars_before. */
#define BS_LOC_STRIDE 64

/* Remember the source bytes (already UTF-8) and index its lines. */
void bs_document_set_source(bs_document *doc, const unsigned char *src,
                            size_t len);
/* Line and column (1-based, in characters) of byte offset `off` of the
 * source.  Returns false (and 0:0) without a source. */
bool bs_document_offset_loc(const bs_document *doc, size_t off,
                            uint32_t *line, uint32_t *col);
/* Line and column of byte `idx` of the text of text node `n`, following
 * character and entity references in the source.  Falls back to the node's
 * own location when the text has no source offset. */
void bs_document_text_loc(const bs_document *doc, const bs_node *n,
                          size_t idx, uint32_t *line, uint32_t *col);

/* Name of a node type, for dumps. */
const char *bs_node_type_name(bs_node_type t);

#endif
