// SPDX-License-Identifier: Apache-2.0
/* batch_cmd.c - `banshi batch`: its options, read into the library's
 * banshi_batch_options and env (include/banshi.h); the batch itself is
 * pipeline/tools/batch.c.
 *
 * Layer 15 (command line): docs/architecture.md. */
#include "commands.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <banshi.h>

#include "opts.h"

typedef struct S_args {
  banshi_env *env;
  banshi_batch_options o;
} S_args;

static bool
S_parse_uint(const char *s, unsigned long max, unsigned *out)
{
  if (!s || !*s)
    return false;
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (*end || errno || v > max || s[0] == '-' || s[0] == '+')
    return false;
  *out = (unsigned)v;
  return true;
}

enum {
  S_O_OUTPUT = 'o',
  S_O_JOBS = 'j',
  S_O_SHARD = 256,
  S_O_LOG,
  S_O_TEMPLATE,
  S_O_FONTS,
  S_O_NO_NORMALIZE,
  S_O_AS_PUBLISHED,
  S_O_FORMAT,
  S_O_PDFA,
  S_O_TAGGED,
};

static const bs_opt S_batch_opts[] = {
    {"output", S_O_OUTPUT, "DIR", "输出目录（不存在时创建）",
     "the output folder (created if missing)"},
    {"jobs", S_O_JOBS, "N", "同时排版的文档数（默认：可用的处理器核数）",
     "documents rendered at once (default: the cores)"},
    {"shard", S_O_SHARD, "K/N", "只处理 N 份中的第 K 份（K 从 0 起）",
     "only the K-th of N shares of the sources (K from 0)"},
    {"log", S_O_LOG, "FILE",
     "结果日志，JSON Lines（默认 OUTDIR/banshi-batch.jsonl）",
     "result log, JSON Lines (default OUTDIR/banshi-batch.jsonl)"},
    {"template", S_O_TEMPLATE, "NAME", "版式模板，同 banshi render",
     "page template, as for banshi render"},
    {"fonts", S_O_FONTS, "MAP", "字体映射文件，同 banshi render",
     "font map, as for banshi render"},
    {"no-normalize", S_O_NO_NORMALIZE, NULL, "按原文排版，不做文本规范化",
     "typeset the text exactly as written"},
    {"as-published", S_O_AS_PUBLISHED, NULL,
     "按发布时的原样：单元格照写，规则的发现为警告（也可按清单行指定）",
     "reports as issued: cells as written, the rules' findings are "
     "warnings (also per manifest line)"},
    {"format", S_O_FORMAT, "pdf|pdf,ofd",
     "pdf,ofd：在每个 NAME.pdf 旁另写 NAME.ofd（OFD，GB/T 33190）",
     "pdf,ofd: also write NAME.ofd (OFD, GB/T 33190) beside each NAME.pdf"},
    {"pdfa", S_O_PDFA, "1b|2a|3b", "PDF/A 部分，同 banshi render",
     "PDF/A part, as for banshi render"},
    {"tagged", S_O_TAGGED, NULL, "带结构标签的 PDF，同 banshi render",
     "tagged PDF, as for banshi render"},
    {NULL, 0, NULL, NULL, NULL},
};

static const bs_cmd S_batch_cmd = {
    "batch", "INPUT... -o OUTDIR [options]",
    "INPUT 为源文件（.xml）、目录（其下所有 .xml）或清单（每行一个源文件，"
    "可加 TAB 和上年度源文件，再加 TAB 和 as-published；“-”读标准输入）。"
    "每个源文件生成 OUTDIR/NAME.pdf，已是最新的跳过，失败的源文件的 PDF "
    "被删除。日志每条记录的 messages 为结构化消息。"
    "被 SIGINT/SIGTERM 停止时退出状态为 130/143。",
    "INPUT is a source (.xml), a folder (every .xml below it) or a manifest\n"
    "(one source per line, optionally TAB and last year's source, and TAB\n"
    "and as-published; '-' reads standard input).  Each source becomes\n"
    "OUTDIR/NAME.pdf; sources that are up to date are skipped; the PDF of a\n"
    "source that fails is removed.  Each record of the log has its messages as\n"
    "objects (messages).  Stopped by SIGINT/SIGTERM: exit status 130/143.",
    S_batch_opts};

/* An option's value for the env, refused with its own message. */
static int
S_env(S_args *a, const char *name, const char *v)
{
  if (banshi_env_set(a->env, name, v) != BANSHI_OK)
    return BANSHI_USAGE;
  return 0;
}

static int
S_opt(void *ctx, int key, const char *v, const bs_common *c, FILE *err)
{
  S_args *a = ctx;
  switch (key) {
  case S_O_OUTPUT:
    a->o.outdir = v;
    break;
  case S_O_LOG:
    a->o.log = v;
    break;
  case S_O_TEMPLATE:
    return S_env(a, "template", v);
  case S_O_FONTS:
    return S_env(a, "fonts", v);
  case S_O_NO_NORMALIZE:
    return S_env(a, "normalize", "0");
  case S_O_AS_PUBLISHED:
    return S_env(a, "as-published", "1");
  case S_O_FORMAT:
    /* the PDF is what batch's up-to-date check and archive work on */
    if (strcmp(v, "pdf") != 0 && strcmp(v, "pdf,ofd") != 0 &&
        strcmp(v, "ofd,pdf") != 0) {
      bs_opts_error(&S_batch_cmd, c, err,
                    "batch 的 --format 取 pdf 或 pdf,ofd，而不是“%s”",
                    "batch --format takes pdf or pdf,ofd, not '%s'", v);
      return BANSHI_USAGE;
    }
    return S_env(a, "format", v);
  case S_O_PDFA:
    if (strcmp(v, "1b") != 0 && strcmp(v, "2a") != 0 && strcmp(v, "3b") != 0) {
      bs_opts_error(&S_batch_cmd, c, err, "--pdfa 取 1b、2a 或 3b，而不是“%s”",
                    "--pdfa takes 1b, 2a or 3b, not '%s'", v);
      return BANSHI_USAGE;
    }
    return S_env(a, "pdfa", v);
  case S_O_TAGGED:
    return S_env(a, "tagged", "1");
  case S_O_JOBS:
    if (!S_parse_uint(v, BANSHI_MAX_JOBS, &a->o.jobs) || a->o.jobs == 0) {
      char max[16];
      snprintf(max, sizeof max, "%d", BANSHI_MAX_JOBS);
      bs_opts_error(&S_batch_cmd, c, err, "-j 取 1 到 %s 的数",
                    "-j takes a number from 1 to %s", max);
      return BANSHI_USAGE;
    }
    break;
  case S_O_SHARD: {
    const char *slash = strchr(v, '/');
    char *k = slash ? strndup(v, (size_t)(slash - v)) : NULL;
    bool ok = k && S_parse_uint(k, UINT_MAX, &a->o.shard_k) &&
              S_parse_uint(slash + 1, 1000000, &a->o.shard_n) &&
              a->o.shard_n > 0 && a->o.shard_k < a->o.shard_n;
    free(k);
    if (!ok) {
      bs_opts_error(&S_batch_cmd, c, err,
                    "--shard 取 K/N，0 <= K < N，如 0/4%s",
                    "--shard takes K/N with 0 <= K < N, as 0/4%s", "");
      return BANSHI_USAGE;
    }
    break;
  }
  }
  return 0;
}

int
bs_cmd_batch(int argc, char **argv, FILE *out, FILE *err)
{
  S_args a;
  memset(&a, 0, sizeof a);
  a.env = bs_opts_env_new();
  a.o.shard_n = 1;
  const char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
  int ninputs = 0;
  bs_common c;
  int st = inputs ? bs_opts_parse(&S_batch_cmd, argc, argv, &c, S_opt, &a,
                                  inputs, &ninputs, out, err)
                  : BANSHI_FAILURE;
  if (st < 0 && (!a.o.outdir || ninputs == 0)) {
    bs_opts_error(&S_batch_cmd, &c, err,
                  "需要至少一个 INPUT 和 -o OUTDIR%s",
                  "takes at least one INPUT and -o OUTDIR%s", "");
    st = BANSHI_USAGE;
  }
  if (st < 0) {
    bs_opts_env_common(a.env, &c);
    a.o.inputs = inputs;
    a.o.ninputs = (size_t)ninputs;
    a.o.verbosity = c.verbosity;
    unsigned long warnings = 0;
    st = banshi_batch(a.env, &a.o, err, &warnings);
    if (st < 128) /* not stopped by a signal */
      st = bs_opts_status(&c, st, warnings);
  }
  free(inputs);
  banshi_env_free(a.env);
  return st;
}
