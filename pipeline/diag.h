// SPDX-License-Identifier: Apache-2.0
/* diag.h - diagnostics collected per document, printed only by the caller.
 *
 * Stages never write to stderr or exit: they append to a bs_diags list owned
 * by the document and carry on, so that a user sees every problem of a source
 * in one run (Typst's Sink, SQLite's sqlite3ErrorMsg).  Each message has a
 * fixed code (append-only enum, as Expat's XML_Error) whose wording is kept in
 * one table in diag.c, in Chinese and English (the `banshi` command's
 * usage errors and help are the command's own, in cli/: opts.c says why).
 * A location with column 0 means
 * the column is unknown: it prints as `file:line:` and never as a guess.
 *
 * Layer 1 (util, diag): docs/architecture.md. */
#ifndef BS_DIAG_H
#define BS_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "arena.h"

typedef enum bs_severity {
  BS_NOTE = 0,
  BS_WARNING = 1,
  BS_ERROR = 2,
} bs_severity;

typedef enum bs_lang {
  BS_LANG_ZH = 0, /* default: the users are Chinese offices */
  BS_LANG_EN = 1,
} bs_lang;

/* Message codes.  Append only; the wording lives in diag.c. */
typedef enum bs_code {
  BS_D_TEXT = 0,          /* free text from a library (libxml2), verbatim */
  BS_D_IO_READ,           /* cannot read a file */
  BS_D_IO_WRITE,          /* cannot write a file */
  BS_D_XML_SYNTAX,        /* well-formedness error (libxml2 message) */
  BS_D_SCHEMA,            /* XSD validation error (libxml2 message) */
  BS_D_SCHEMA_LOAD,       /* the XSD itself cannot be loaded */
  BS_D_NORM_NFC,          /* text changed by NFC */
  BS_D_NORM_WIDTH,        /* full-width letter/digit made half-width */
  BS_D_NORM_PUNCT,        /* half-width punctuation made full-width */
  BS_D_NORM_SPACE,        /* space between Han characters removed */
  BS_D_NORM_QUOTE,        /* straight quote made a Chinese quote */
  BS_D_FONT_MAP,          /* syntax error in a font map */
  BS_D_FONT_ROLE,         /* unknown font role */
  BS_D_FONT_FILE,         /* no file found for a role */
  BS_D_FONT_LOAD,         /* font file unreadable or not a usable font */
  BS_D_GLYPH_MISSING,     /* character in no font of the chain */
  BS_D_TEMPLATE,          /* error in a page template */
  BS_D_TEMPLATE_MISSING,  /* template not found */
  BS_D_HEADING_NUMBER,    /* heading text repeats the automatic number */
  BS_D_LAYOUT_OVERFLOW,   /* content does not fit and was forced */
  BS_D_RENDER,            /* PDF library failure */
  BS_D_TOO_MANY,          /* further diagnostics of one kind suppressed */
  BS_D_VALUE,             /* invalid attribute or element value */
  BS_D_NON_BMP,           /* character outside the BMP not supported */
  BS_D_KEEP,              /* a keep rule could not be honoured */
  BS_D_FONT_UNUSABLE,     /* a role failed earlier in this process */
  BS_D_IMAGE,             /* an image cannot be used */
  BS_D_REPORT_TYPE,       /* a report type's data cannot be used */
  BS_D_REPORT_FORMAT,     /* the source names no format of its type */
  BS_D_RULE,              /* a report type's rule fails (data wording) */
  BS_D_CELL_BLANK,        /* a number cell of a report is empty */
  BS_D_CELL_PLACEHOLDER,  /* a number cell holds "/" or similar */
  BS_D_CELL_VALUE,        /* a number cell holds a number of the wrong kind */
  BS_D_PREVIOUS,          /* last year's source cannot be used */
  /* batch and archive (batch.c, archive.c) */
  BS_D_BATCH_CLASH,       /* two sources would write the same output */
  BS_D_ARCHIVE_RECORD,    /* an output has no batch record */
  BS_D_ARCHIVE_CHANGED,   /* a file changed since the batch made the PDF */
  BS_D_BAG_MISSING,       /* a file listed in a bag manifest is missing */
  BS_D_BAG_ALTERED,       /* a bag file's checksum differs */
  BS_D_BAG_UNLISTED,      /* a payload file is in no manifest */
  BS_D_BAG_FORMAT,        /* bagit.txt is malformed */
  BS_D_BAG_OXUM,          /* Payload-Oxum does not match the payload */
  BS_D_LIMIT,             /* a limit against hostile sources (pipeline.h) */
  BS_D_BAG_LINK,          /* a bag member is a symbolic link */
  BS_D_BAG_SPECIAL,       /* a bag member is a device, FIFO or socket */
  BS_D_BAG_DUPLICATE,     /* a manifest lists a path twice */
  BS_D_ARCHIVE_IMAGE_PATH, /* a batch record names an image outside */
  BS_D_ARCHIVE_LEFT_OUT,  /* a source of the batch is not in the bag */
  BS_D_BAG_REQUIRED,      /* a file or folder every bag has is missing */
  BS_D_BAG_LINE,          /* a manifest line is malformed */
  BS_D_BAG_PATH,          /* a manifest path leaves the bag or data/ */
  BS_D_BAG_OTHER_ALGO,    /* a manifest of another algorithm */
  BS_D_BAG_OXUM_FORMAT,   /* Payload-Oxum is malformed */
  BS_D_BAG_DEEP,          /* folders nested too deep to check */
  BS_D_COLLATION,         /* banshi's collation rules cannot be used */
  BS_D_NORM_TITLE_MARK,   /* < > inside 《》 made 〈〉 (GB/T 15834 4.15) */
  BS_D_PROSE,             /* a number in a report's prose differs from its table */
  /* inputs and outputs (fsio.h); the first three are reasons, no format */
  BS_D_IO_SPECIAL,        /* an input is a FIFO, device or socket */
  BS_D_IO_PSEUDO,         /* an input is a /proc or /sys file */
  BS_D_IO_CHANGED,        /* an input changed size while it was read */
  BS_D_OUTPUT_IS_INPUT,   /* an output path names an input of the run */
  BS_D_NAME_CONTROL,      /* an output name holds a control character */
  BS_D_WORKER_CRASH,      /* a batch worker ended by a signal */
  BS_D_MANIFEST_TEXT,     /* a manifest line: NUL, too long, too many */
  BS_D_PDF_CHANGED,       /* a PDF differs from its batch record */
  /* what batch and archive print about the run itself, not about a file
   * (lines of their own, without a location or severity) */
  BS_D_BATCH_PROGRESS,    /* a progress line */
  BS_D_BATCH_PROGRESS_TTY, /* the text of the progress bar */
  BS_D_BATCH_INTERRUPT,   /* a signal stopped the hand-out */
  BS_D_BATCH_SUMMARY,     /* the counts at the end */
  BS_D_BATCH_LOG,         /* where the log is */
  BS_D_ARCHIVE_WRITTEN,   /* a bag was written */
  BS_D_ARCHIVE_VALID,     /* a bag checked and found whole */
  BS_D_ARCHIVE_INVALID,   /* a bag checked and found damaged */
  BS_D_ARCHIVE_EXISTS,    /* the bag's folder exists */
  BS_D_ARCHIVE_EMPTY,     /* no PDF to archive */
  BS_D_ARCHIVE_LEFT_OUT_COUNT, /* sources without a PDF, listed */
  BS_D_ARCHIVE_NO_LOG,    /* no batch log to list them from */
  BS_D_STDIN,             /* standard input cannot be read */
  BS_D_NEW_YEAR,          /* banshi new: not a year */
  BS_D_NEW_ISSUER,        /* banshi new: not an issuer's name */
  BS_D_NEW_EXISTS,        /* banshi new: the file exists */
  BS_D_NEW_WRITTEN,       /* banshi new: the source was written */
  BS_D_ICC_MISSING,       /* the sRGB ICC profile of PDF/A is not installed */
  BS_D_LIBRARY,           /* a library loaded at its first use cannot be
                             (dynlib.h) */
  BS_D_CODE_COUNT
} bs_code;

typedef struct bs_diagnostic {
  const char *file;     /* source path as given by the user (arena) */
  uint32_t line;        /* 1-based; 0 = no location */
  uint32_t col;         /* 1-based in characters; 0 = unknown */
  bs_severity severity; /* error, warning or note */
  bs_code code;         /* message code */
  const char *message;  /* formatted message (arena) */
  const char *const *values; /* the message's arguments, each formatted as
                                in the message, in order (arena) */
  unsigned nvalues;
} bs_diagnostic;

typedef struct bs_diags {
  bs_arena *arena;          /* where messages live (the document's arena) */
  bs_vec items;             /* bs_diagnostic, in order of emission */
  bs_lang lang;             /* language of messages */
  unsigned errors;          /* count of errors (the sticky failure flag) */
  unsigned warnings;        /* count of warnings */
  unsigned per_code[BS_D_CODE_COUNT]; /* emitted per code, for the cap */
  unsigned max_per_code;    /* 0 = unlimited */
  bs_severity shown;        /* least severity printed (BS_NOTE: all) */
} bs_diags;

/* Initialise a list whose messages are allocated in `arena`. */
void bs_diags_init(bs_diags *d, bs_arena *arena, bs_lang lang);
/* Free the item array (messages go with the arena). */
void bs_diags_free(bs_diags *d);

/* Append a diagnostic with the catalogue wording of `code` for the list's
 * language; the variadic arguments fill its format.  Severity is given by
 * the caller because some codes are errors in one place and warnings in
 * another. */
void bs_diag(bs_diags *d, bs_severity sev, bs_code code, const char *file,
             uint32_t line, uint32_t col, ...);

/* Append a diagnostic with a caller-formatted message (used for libxml2
 * messages and data-driven rule messages that carry their own wording). */
void bs_diag_text(bs_diags *d, bs_severity sev, bs_code code,
                  const char *file, uint32_t line, uint32_t col,
                  const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* False when a diagnostic of `code` would be held back by the per-code cap:
 * callers whose locations are costly to compute check this first and call
 * bs_diag_count instead, so the summary of held-back messages stays right. */
bool bs_diag_wanted(const bs_diags *d, bs_code code);
void bs_diag_count(bs_diags *d, bs_severity sev, bs_code code);

/* Sort by file, line and column (stable, unlocated first) and print every
 * diagnostic as `file:line:col: severity: message`.  Returns the number of
 * errors printed. */
unsigned bs_diags_print(bs_diags *d, FILE *out);

/* Print every diagnostic as one JSON object per line, in the order of
 * bs_diags_print: file, line, column (null when unknown), severity, rule
 * (bs_code_name), message and values (schemas/diagnostics.schema.json).
 * Returns the number of errors printed. */
unsigned bs_diags_print_json(bs_diags *d, FILE *out);

/* Write `s` as a JSON string (quotes and escapes) to `out`. */
void bs_json_string(FILE *out, const char *s);

/* The stable name of a message code, its rule id in JSON diagnostics
 * ("io-read", "rule", "bag-altered"; "code-N" for a code without one). */
const char *bs_code_name(bs_code code);

/* The catalogue format of `code` in `lang` (for tests and documentation). */
const char *bs_diag_format(bs_code code, bs_lang lang);

/* The message for an errno value of fsio.h's input functions: banshi's
 * own (BS_E_SPECIAL, BS_E_PSEUDO, BS_E_CHANGED) from the catalogue in
 * `lang`, strerror's otherwise.  Static text. */
const char *bs_io_strerror(int e, bs_lang lang);

/* The word for a severity in a language ("error" / "错误" are not mixed:
 * the severity word stays English in both, as compilers and editors parse
 * it). */
const char *bs_severity_name(bs_severity sev);

#endif
