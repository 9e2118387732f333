// SPDX-License-Identifier: Apache-2.0
/* opts.h - the one command-line parser of every banshi command.
 *
 * Each command (render, validate, convert, batch, archive) describes its
 * options in a table with their help in Chinese and English; bs_opts_parse
 * reads argv with getopt_long, so every command accepts the same forms:
 * `--output=F` and `--output F`, `-oF` and `-o F`, `--` before operands
 * that begin with '-', and a lone `-` as an operand (standard input or
 * output where the command allows it).  The options common to every
 * command are handled here: --lang, -q/--quiet, -v/--verbose,
 * --fail-on-warnings, --diagnostics text|json and -h/--help (the
 * command's own help, in the message language).
 *
 * Design.  One table per command instead of one loop per command: the
 * three hand-written loops this replaces disagreed (archive refused
 * --no-normalize, none took --output=F or --), and the help text was a
 * second copy of the options that could drift from them.
 *
 * Like every file of cli/, it uses the library through include/banshi.h
 * only (tests/layers.py checks it).
 *
 * Layer 15 (command line): docs/architecture.md. */
#ifndef BS_OPTS_H
#define BS_OPTS_H

#include <stdbool.h>
#include <stdio.h>

#include <banshi.h>

/* The language of messages and help. */
typedef enum bs_cli_lang {
  BS_CLI_ZH = 0, /* default: the users are Chinese offices */
  BS_CLI_EN = 1,
} bs_cli_lang;

/* One option of a command.  `key` is the short letter, or a number from
 * 256 for an option with only a long name. */
typedef struct bs_opt {
  const char *name;    /* long name without "--" */
  int key;             /* short letter or >= 256 */
  const char *arg;     /* NULL: no value; else its name in the help */
  const char *help_zh; /* one line each */
  const char *help_en;
} bs_opt;

typedef struct bs_cmd {
  const char *name;                /* "render" */
  const char *usage;               /* operands: "SOURCE.xml -o OUT.pdf" */
  const char *what_zh, *what_en;   /* what the command does, a paragraph */
  const bs_opt *opts;              /* the command's own, ended by {NULL} */
} bs_cmd;

/* The common options, as parsed. */
typedef struct bs_common {
  bs_cli_lang lang;          /* --lang, else LC_ALL/LC_MESSAGES/LANG */
  int verbosity;         /* -1 with -q, 1 with -v, else 0 */
  bool fail_on_warnings; /* warnings make the exit status 1 */
  bool json;             /* --diagnostics json */
} bs_common;

/* Called for each of the command's own options (key, value or NULL).
 * Returns 0, or BANSHI_USAGE after printing why to err. */
typedef int (*bs_opt_fn)(void *ctx, int key, const char *value,
                         const bs_common *c, FILE *err);

/* Parse the arguments after the command's name for `cmd` (argv is not
 * changed): the
 * command's options go to fn, the common ones into *c, the operands, in
 * order, into ops (argc entries room; *nops set).  Returns -1 to go on, 0
 * after printing the help to out, or BANSHI_USAGE after a message on
 * err. */
int bs_opts_parse(const bs_cmd *cmd, int argc, char **argv, bs_common *c,
                  bs_opt_fn fn, void *ctx, const char **ops, int *nops,
                  FILE *out, FILE *err);

/* The help of `cmd` in `lang`. */
void bs_opts_help(const bs_cmd *cmd, bs_cli_lang lang, FILE *out);

/* The message language from the environment: LC_ALL, else LC_MESSAGES,
 * else LANG; "en…" is English, anything else (zh_CN, C, unset) Chinese,
 * banshi's default. */
bs_cli_lang bs_opts_env_lang(void);

/* Print a usage error "banshi CMD: message" in the language of c. */
void bs_opts_error(const bs_cmd *cmd, const bs_common *c, FILE *err,
                   const char *zh, const char *en, const char *value);

/* The exit status after a run with `status`, given `warnings` and the
 * common options (--fail-on-warnings turns success into 1). */
int bs_opts_status(const bs_common *c, int status, unsigned long warnings);

/* A library env (banshi.h) for a command: dates from SOURCE_DATE_EPOCH
 * when it is set.  Free with banshi_env_free. */
banshi_env *bs_opts_env_new(void);

/* Set the common options' share of the env: language, message format,
 * -q.  Call after bs_opts_parse. */
void bs_opts_env_common(banshi_env *env, const bs_common *c);

#endif
