// SPDX-License-Identifier: Apache-2.0
/* new_cmd.c - `banshi new`: its options, for the library's banshi_new
 * (include/banshi.h); the skeletons are pipeline/tools/new.c's.
 *
 * Layer 15 (command line): docs/architecture.md. */
#include "commands.h"

#include <stdlib.h>

#include <banshi.h>

#include "opts.h"

enum {
  S_O_OUTPUT = 'o',
  S_O_FORMAT = 256,
  S_O_YEAR,
  S_O_ISSUER,
};

static const bs_opt S_new_opts[] = {
    {"year", S_O_YEAR, "YEAR", "报告年度（如 2023）",
     "the report's year (such as 2023)"},
    {"issuer", S_O_ISSUER, "NAME", "发布机关名称", "the issuing body's name"},
    {"format", S_O_FORMAT, "F", "官方格式（默认：该年度施行的格式）",
     "the official format (default: the one in force for YEAR)"},
    {"output", S_O_OUTPUT, "FILE", "要写入的文件（默认标准输出；已存在的文件不覆盖）",
     "the file to write (default standard output; an existing file is never "
     "replaced)"},
    {NULL, 0, NULL, NULL, NULL},
};

static const bs_cmd S_new_cmd = {
    "new", "TYPE --year YEAR --issuer NAME [--format F] [-o FILE]",
    "写出一份 TYPE 类型的完整报告源文件作为起点：所有元素、表格中的零、"
    "每个表格行注明官方标签、占位的正文。例如：\n"
    "  banshi new disclosure-annual-report --format 2021 --year 2023 "
    "--issuer 某市某局 -o report.xml",
    "Write a complete report source of TYPE to start from (standard output\n"
    "without -o): every element, zeros in the tables, each table row\n"
    "commented with its official label, placeholder prose.  An existing FILE\n"
    "is never replaced.\n\n"
    "  banshi new disclosure-annual-report --format 2021 --year 2023 \\\n"
    "      --issuer 某市某局 -o report.xml",
    S_new_opts};

typedef struct S_args {
  const char *format, *year, *issuer, *output;
} S_args;

static int
S_opt(void *ctx, int key, const char *v, const bs_common *c, FILE *err)
{
  (void)c;
  (void)err;
  S_args *o = ctx;
  switch (key) {
  case S_O_FORMAT:
    o->format = v;
    break;
  case S_O_YEAR:
    o->year = v;
    break;
  case S_O_ISSUER:
    o->issuer = v;
    break;
  case S_O_OUTPUT:
    o->output = v;
    break;
  }
  return 0;
}

int
bs_cmd_new(int argc, char **argv, FILE *out, FILE *err)
{
  S_args o = {0};
  bs_common c;
  const char **ops = calloc((size_t)argc + 1, sizeof *ops);
  if (!ops)
    return BANSHI_FAILURE;
  int nops = 0;
  int pst = bs_opts_parse(&S_new_cmd, argc, argv, &c, S_opt, &o, ops, &nops,
                          out, err);
  const char *type = nops > 0 ? ops[0] : NULL;
  free(ops);
  if (pst >= 0)
    return pst;
  if (nops > 1) {
    bs_opts_error(&S_new_cmd, &c, err, "只接受一个 TYPE%s",
                  "takes one TYPE%s", "");
    return BANSHI_USAGE;
  }
  if (!type || !o.year || !o.issuer) {
    bs_opts_error(&S_new_cmd, &c, err, "需要 TYPE、--year 和 --issuer%s",
                  "takes TYPE, --year and --issuer%s", "");
    return BANSHI_USAGE;
  }
  banshi_env *env = bs_opts_env_new();
  bs_opts_env_common(env, &c);
  int st = banshi_new(env, type, o.format, o.year, o.issuer, o.output, out,
                      err);
  banshi_env_free(env);
  banshi_cleanup();
  return st;
}
