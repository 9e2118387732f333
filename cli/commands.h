// SPDX-License-Identifier: Apache-2.0
/* commands.h - the commands of `banshi` other than render, validate and
 * convert (main.c): each reads its options (opts.h) and runs the library's
 * service for it (include/banshi.h).  argv holds the arguments after the
 * command's name; help goes to `out`, messages to `err`.  Each returns the
 * exit status (man/banshi.1).
 *
 * Layer 15 (command line): docs/architecture.md. */
#ifndef BS_COMMANDS_H
#define BS_COMMANDS_H

#include <stdio.h>

/* `banshi batch INPUT... -o OUTDIR [options]` (banshi_batch). */
int bs_cmd_batch(int argc, char **argv, FILE *out, FILE *err);

/* `banshi archive OUTDIR -o BAG [options]`, `banshi archive --verify BAG`
 * (banshi_archive, banshi_archive_verify). */
int bs_cmd_archive(int argc, char **argv, FILE *out, FILE *err);

/* `banshi new TYPE --year YEAR --issuer NAME [--format F] [-o FILE]`
 * (banshi_new). */
int bs_cmd_new(int argc, char **argv, FILE *out, FILE *err);

#endif
