// SPDX-License-Identifier: Apache-2.0
/* util.h - small helpers shared by the stages: files, paths, UTF-8.
 * Layer 1 (util, diag): docs/architecture.md. */
#ifndef BS_UTIL_H
#define BS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

/* Read a whole regular file into malloc'd memory (NUL-terminated, *len
 * excludes the NUL), opened and checked by bs_input_open (fsio.h).  Returns
 * NULL and sets errno on failure (bs_io_strerror gives the message); fails
 * with EFBIG when the file is larger than max_bytes. */
unsigned char *bs_read_file(const char *path, size_t max_bytes, size_t *len);

/* True if path names an existing regular file that we can read. */
bool bs_file_readable(const char *path);

/* The CPUs this process may run on (its affinity mask), at least 1. */
unsigned bs_cpus(void);

/* Join dir and name with one '/', in the arena; `name` itself when it is
 * absolute or dir is empty.  The one path join of the library. */
char *bs_path_join(bs_arena *a, const char *dir, const char *name);

/* The same, malloc'd (free it), for objects that outlive any arena. */
char *bs_path_join_new(const char *dir, const char *name);

/* The relative path `rel` normalised ("a/./b/../c.png" -> "a/c.png"),
 * malloc'd; NULL when it is absolute, climbs out of its folder ("..") or
 * names nothing.  The one lexical "stays inside its folder" check (figures
 * of a source, images named in a batch record); it looks at no file, so a
 * source cannot probe for files elsewhere.  Links are the callers' to
 * resolve (realpath) after it. */
char *bs_path_inside(const char *rel);

/* Folder part of path ("." when there is none), in the arena. */
char *bs_path_dir(bs_arena *a, const char *path);

/* The folder holding banshi's data (the folders of bs_data_folder): the
 * installed layout relative to the library or program (PREFIX/share/banshi),
 * else $BANSHI_DATA, else the source tree for a program in its build tree
 * (datadir.c explains the order).  Thread-safe, never NULL. */
const char *bs_data_dir(void);

/* The folders of the data folder.  datadir.c's table is the one list in C;
 * CMake's install rule names them too, and the `datadirs` test checks that
 * the two agree with the source tree. */
typedef enum bs_data_folder {
  BS_DATA_SCHEMAS,   /* XSDs; report types, one subfolder each */
  BS_DATA_TEMPLATES, /* page templates, report stylesheets */
  BS_DATA_FONTS,     /* font maps */
  BS_DATA_COLLATION, /* ICU collation tailorings (archive index order) */
  BS_DATA_COUNT
} bs_data_folder;

/* The name of folder `f` ("schemas"), static. */
const char *bs_data_folder_name(bs_data_folder f);

/* The file `name` of data folder `f` ("document.xsd" of BS_DATA_SCHEMAS),
 * or the folder itself for an empty name, joined in the arena.  Every path
 * into the data folder is made here. */
char *bs_data_path(bs_arena *a, bs_data_folder f, const char *name);

/* Decode one UTF-8 sequence at s (at most n bytes).  Returns its length and
 * stores the code point, or returns 0 for an invalid sequence. */
int bs_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Encode cp as UTF-8 into out (4 bytes room); returns the length. */
int bs_utf8_encode(uint32_t cp, char *out);

/* Offset of the first invalid UTF-8 byte in s, or n if all is valid. */
size_t bs_utf8_check(const unsigned char *s, size_t n);

/* Number of code points in the first n bytes of valid UTF-8. */
size_t bs_utf8_count(const unsigned char *s, size_t n);

/* A printable rendering of one code point for messages ("U+3000" style
 * characters are shown as themselves unless they are controls or spaces). */
void bs_cp_show(uint32_t cp, char out[16]);

/* The decimal digits of v ("0", "18446744073709551615") written at `out`
 * (room for 20), without a NUL; returns their end.  The one integer
 * formatter of the PDF writer's numbers (bs_put_mpt, character spacing). */
char *bs_put_u64(char *out, uint64_t v);

/* Format a length in millipoints as a decimal number of points with up to
 * three decimals and no trailing zeros ("12.5", "-3", "0.001"). */
void bs_fmt_mpt(int64_t mpt, char out[32]);
/* The same characters written at `out` (room for 24, which it may use
 * as scratch beyond them), without a NUL; returns their end. */
char *bs_put_mpt(char *out, int64_t mpt);

/* Percent-encoding (RFC 3986 2.1, "%0A"): how a name that may hold any
 * byte is kept on one line of a text file.  '%' itself is always encoded,
 * and besides it the characters of `set`:
 *   BS_PCT_LINE_BREAKS  CR and LF (BagIt manifests, RFC 8493 2.1.3)
 *   BS_PCT_CONTROLS     every C0 control and DEL (stamps, messages)
 * bs_pct_encode encodes the first n bytes of s (malloc'd, NUL-terminated).
 * bs_pct_decode decodes s in place whatever the set was (a decoder that
 * reads more than an encoder writes is harmless); it returns false for a
 * malformed escape or one that decodes to a NUL byte, leaving s undefined. */
enum {
  BS_PCT_LINE_BREAKS = 1,
  BS_PCT_CONTROLS = 2,
};
char *bs_pct_encode(const char *s, size_t n, unsigned set);
bool bs_pct_decode(char *s);

/* The value of a hexadecimal digit (either case), or -1. */
int bs_hex_value(int c);

/* Millipoints: the one fine unit of every length in banshi (1 pt = 1000). */
#define BS_MPT_PER_PT 1000
#define BS_MM(x) ((int32_t)((x)*72000.0 / 25.4 + 0.5)) /* mm -> mpt */

/* Parse "12pt", "5.5mm", "1cm" into millipoints; with allow_percent also
 * "40%" (stored as percent * 1000 in *value, *is_percent set).  Returns
 * false on a malformed value. */
bool bs_parse_length(const char *s, bool allow_percent, int32_t *value,
                     bool *is_percent);

/* Parse a font size: "10.5pt" or a Chinese size name (三号, 小四 …). */
bool bs_parse_font_size(const char *s, int32_t *mpt);

#endif
