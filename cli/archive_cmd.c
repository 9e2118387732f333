// SPDX-License-Identifier: Apache-2.0
/* archive_cmd.c - `banshi archive`: its options, read into the library's
 * env and the arguments of banshi_archive or banshi_archive_verify
 * (include/banshi.h); the bag itself is pipeline/tools/archive.c.
 *
 * Layer 15 (command line): docs/architecture.md. */
#include "commands.h"

#include <stdlib.h>
#include <string.h>

#include <banshi.h>

#include "opts.h"

typedef struct S_args {
  banshi_env *env;
  const char *outdir, *bag, *verify, *org;
} S_args;

enum {
  S_O_OUTPUT = 'o',
  S_O_VERIFY = 256,
  S_O_ORG,
  S_O_TEMPLATE,
  S_O_FONTS,
  S_O_NO_NORMALIZE,
};

static const bs_opt S_archive_opts[] = {
    {"output", S_O_OUTPUT, "BAG", "要建立的包目录（不得已存在）",
     "the bag folder to create (must not exist)"},
    {"verify", S_O_VERIFY, "BAG", "校验一个包：缺失、被改动和未列出的文件",
     "check a bag: missing, altered and unlisted files"},
    {"organization", S_O_ORG, "NAME",
     "bag-info.txt 的 Source-Organization 和索引的发文机关",
     "Source-Organization of bag-info.txt and issuer of the index"},
    {"template", S_O_TEMPLATE, "NAME", "索引的版式模板，同 banshi render",
     "page template of the index, as for banshi render"},
    {"fonts", S_O_FONTS, "MAP", "字体映射文件，同 banshi render",
     "font map, as for banshi render"},
    {"no-normalize", S_O_NO_NORMALIZE, NULL, "索引按原文排版，不做文本规范化",
     "typeset the index exactly as written"},
    {NULL, 0, NULL, NULL, NULL},
};

static const bs_cmd S_archive_cmd = {
    "archive", "OUTDIR -o BAG [options] | banshi archive --verify BAG",
    "把 banshi batch 写入 OUTDIR 的 PDF 连同其 XML 源文件和 DA/T 46 元数据、"
    "按发文机关拼音排序的索引（CSV 和 PDF/A）打包为 BagIt 包（RFC 8493）；"
    "或校验一个包的全部校验和。",
    "Pack the PDFs that banshi batch wrote to OUTDIR, each with its XML "
    "source\nand a DA/T 46 metadata record, with an index (CSV and PDF/A) in "
    "pinyin\norder of the issuing bodies, as a BagIt bag (RFC 8493); or check "
    "every\nchecksum of a bag.",
    S_archive_opts};

static int
S_opt(void *ctx, int key, const char *v, const bs_common *c, FILE *err)
{
  (void)c;
  (void)err;
  S_args *a = ctx;
  switch (key) {
  case S_O_OUTPUT:
    a->bag = v;
    break;
  case S_O_VERIFY:
    a->verify = v;
    break;
  case S_O_ORG:
    a->org = v;
    break;
  case S_O_TEMPLATE:
    return banshi_env_set(a->env, "template", v);
  case S_O_FONTS:
    return banshi_env_set(a->env, "fonts", v);
  case S_O_NO_NORMALIZE:
    return banshi_env_set(a->env, "normalize", "0");
  }
  return 0;
}

/* The command once its arguments are read (argv as getopt should see
 * it). */
static int
S_run(S_args *a, int argc, char **argv, FILE *out, FILE *err)
{
  bs_common c;
  const char **ops = calloc((size_t)argc + 1, sizeof *ops);
  if (!ops)
    return BANSHI_FAILURE;
  int nops = 0;
  int st = bs_opts_parse(&S_archive_cmd, argc, argv, &c, S_opt, a, ops,
                         &nops, out, err);
  if (st < 0 && nops > 1) {
    bs_opts_error(&S_archive_cmd, &c, err, "只接受一个 OUTDIR%s",
                  "takes one OUTDIR%s", "");
    st = BANSHI_USAGE;
  }
  if (nops == 1)
    a->outdir = ops[0];
  free(ops);
  if (st >= 0)
    return st;
  bs_opts_env_common(a->env, &c);
  if (a->org && strpbrk(a->org, "\r\n\t\x01\x02\x03\x04\x05\x06\x07\x08\x0b"
                                "\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16"
                                "\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f")) {
    /* bag-info.txt is one field per line */
    bs_opts_error(&S_archive_cmd, &c, err,
                  "--organization 不得含控制字符%s",
                  "--organization must not hold control characters%s", "");
    return BANSHI_USAGE;
  }
  if (a->verify) {
    if (a->outdir || a->bag) {
      bs_opts_error(&S_archive_cmd, &c, err, "--verify 只接受 BAG%s",
                    "--verify takes only the BAG%s", "");
      return BANSHI_USAGE;
    }
    return banshi_archive_verify(a->env, a->verify, err);
  }
  if (!a->outdir || !a->bag) {
    bs_opts_error(&S_archive_cmd, &c, err, "需要 OUTDIR 和 -o BAG%s",
                  "takes OUTDIR and -o BAG%s", "");
    return BANSHI_USAGE;
  }
  unsigned long warnings = 0;
  st = banshi_archive(a->env, a->outdir, a->bag, a->org, err, &warnings);
  return bs_opts_status(&c, st, warnings);
}

int
bs_cmd_archive(int argc, char **argv, FILE *out, FILE *err)
{
  /* --verify followed by another option takes the last argument as its
   * BAG: archive --verify --lang en BAG (getopt would take "--lang") */
  char **args = calloc((size_t)argc + 1, sizeof *args);
  char *verify_arg = NULL;
  if (!args)
    return BANSHI_FAILURE;
  int nargs = 0;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--verify") == 0 && i + 1 < argc &&
        argv[i + 1][0] == '-' && argc - 1 > i + 1 &&
        argv[argc - 1][0] != '-' && !verify_arg) {
      size_t n = strlen(argv[argc - 1]) + sizeof "--verify=";
      verify_arg = malloc(n);
      if (!verify_arg)
        break;
      snprintf(verify_arg, n, "--verify=%s", argv[argc - 1]);
      args[nargs++] = verify_arg;
      argc--; /* the BAG is taken */
      continue;
    }
    args[nargs++] = argv[i];
  }
  S_args a;
  memset(&a, 0, sizeof a);
  a.env = bs_opts_env_new();
  int st = S_run(&a, nargs, args, out, err);
  banshi_env_free(a.env);
  free(verify_arg);
  free(args);
  return st;
}
