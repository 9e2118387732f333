// SPDX-License-Identifier: Apache-2.0
/* opts.c - the command-line parser of every command; see opts.h.
 *
 * Wording.  The usage errors and help of the command (an unknown option,
 * a value out of range, a missing argument) are written here and in the
 * command files beside the options they are about, each in Chinese and
 * English, and not in diag.c's catalogue: they belong to the `banshi`
 * command, not to the library (a program using banshi.h has options of
 * its own), and the command reaches the library through banshi.h only.
 * Every message about a source, a file or a run comes from the library's
 * catalogue.
 *
 * Layer 15 (command line): docs/architecture.md. */
#include "opts.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>


enum {
  S_LANG = 1000,
  S_FAIL_WARN,
  S_DIAGS,
  S_HELP = 'h',
  S_QUIET = 'q',
  S_VERBOSE = 'v',
};

static const bs_opt S_common[] = {
    {"lang", S_LANG, "zh|en", "消息和帮助的语言（默认取 LANG，否则中文）",
     "language of messages and help (default: from LANG, else zh)"},
    {"quiet", S_QUIET, NULL, "只显示错误", "show errors only"},
    {"verbose", S_VERBOSE, NULL, "另外显示每个源文件的结果",
     "also show the result of each source"},
    {"fail-on-warnings", S_FAIL_WARN, NULL, "有警告时退出状态为 1",
     "exit with status 1 when there are warnings"},
    {"diagnostics", S_DIAGS, "text|json",
     "消息格式：text（文件:行:列: 级别: 消息）或 json（每行一个对象）",
     "message format: text (file:line:col: severity: message) or json "
     "(one object a line)"},
    {"help", S_HELP, NULL, "显示本帮助", "show this help"},
    {NULL, 0, NULL, NULL, NULL},
};

bs_cli_lang
bs_opts_env_lang(void)
{
  const char *vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
  for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
    const char *v = getenv(vars[i]);
    if (v && *v)
      return strncmp(v, "en", 2) == 0 ? BS_CLI_EN : BS_CLI_ZH;
  }
  return BS_CLI_ZH;
}

void
bs_opts_error(const bs_cmd *cmd, const bs_common *c, FILE *err,
              const char *zh, const char *en, const char *value)
{
  fprintf(err, "banshi %s: ", cmd->name);
  fprintf(err, c->lang == BS_CLI_EN ? en : zh, value ? value : "");
  fprintf(err, c->lang == BS_CLI_EN ? " (banshi %s --help)\n"
                                     : "（参见 banshi %s --help）\n",
          cmd->name);
}

int
bs_opts_status(const bs_common *c, int status, unsigned long warnings)
{
  if (status == BANSHI_OK && c->fail_on_warnings && warnings)
    return BANSHI_INVALID;
  return status;
}

static void
S_help_list(const bs_opt *o, bs_cli_lang lang, FILE *out)
{
  for (; o->name; o++) {
    char left[64];
    int n;
    if (o->key < 256)
      n = snprintf(left, sizeof left, "  -%c, --%s", o->key, o->name);
    else
      n = snprintf(left, sizeof left, "      --%s", o->name);
    if (o->arg && n > 0 && (size_t)n < sizeof left)
      snprintf(left + n, sizeof left - (size_t)n, " %s", o->arg);
    fprintf(out, "%-30s %s\n", left, lang == BS_CLI_EN ? o->help_en
                                                         : o->help_zh);
  }
}

void
bs_opts_help(const bs_cmd *cmd, bs_cli_lang lang, FILE *out)
{
  bool en = lang == BS_CLI_EN;
  fprintf(out, "%s banshi %s %s\n\n%s\n\n%s\n", en ? "usage:" : "用法：",
          cmd->name, cmd->usage, en ? cmd->what_en : cmd->what_zh,
          en ? "options:" : "选项：");
  S_help_list(cmd->opts, lang, out);
  S_help_list(S_common, lang, out);
  fputs(en ? "\nexit status: 0 success, 1 invalid source (or warnings with "
             "--fail-on-warnings),\n2 usage error, 3 I/O or internal "
             "failure.  man banshi for the whole manual.\n"
           : "\n退出状态：0 成功，1 源文件有误（或有 --fail-on-warnings "
             "时有警告），\n2 用法错误，3 读写或内部故障。完整手册见 "
             "man banshi。\n",
        out);
}

/* The language first, so that every message of the parse is in it. */
static void
S_prescan_lang(int argc, char **argv, bs_common *c)
{
  c->lang = bs_opts_env_lang();
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = NULL;
    if (strcmp(a, "--") == 0)
      break;
    if (strcmp(a, "--lang") == 0 && i + 1 < argc)
      v = argv[i + 1];
    else if (strncmp(a, "--lang=", 7) == 0)
      v = a + 7;
    if (v && (strcmp(v, "en") == 0 || strcmp(v, "zh") == 0))
      c->lang = strcmp(v, "en") == 0 ? BS_CLI_EN : BS_CLI_ZH;
  }
}

static size_t
S_count(const bs_opt *o)
{
  size_t n = 0;
  while (o[n].name)
    n++;
  return n;
}

static void
S_add(const bs_opt *o, struct option *lo, size_t *nlo, char *sh, size_t *nsh)
{
  for (; o->name; o++) {
    lo[*nlo].name = o->name;
    lo[*nlo].has_arg = o->arg ? required_argument : no_argument;
    lo[*nlo].flag = NULL;
    lo[*nlo].val = o->key;
    (*nlo)++;
    if (o->key < 256) {
      sh[(*nsh)++] = (char)o->key;
      if (o->arg)
        sh[(*nsh)++] = ':';
    }
  }
}

/* The option as the user wrote it, for messages. */
static const char *
S_written(const bs_opt *own, int key, char *buf, size_t n)
{
  for (int pass = 0; pass < 2; pass++)
    for (const bs_opt *o = pass ? S_common : own; o->name; o++)
      if (o->key == key) {
        snprintf(buf, n, "--%s", o->name);
        return buf;
      }
  snprintf(buf, n, "-%c", key);
  return buf;
}

int
bs_opts_parse(const bs_cmd *cmd, int argc, char **argv, bs_common *c,
              bs_opt_fn fn, void *ctx, const char **ops, int *nops,
              FILE *out, FILE *err)
{
  memset(c, 0, sizeof *c);
  /* getopt_long wants the program's name first and permutes the array */
  char **args = calloc((size_t)argc + 2, sizeof *args);
  args[0] = (char *)cmd->name;
  for (int i = 0; i < argc; i++)
    args[i + 1] = argv[i];
  argc++;
  argv = args;
  S_prescan_lang(argc, argv, c);
  size_t n = S_count(cmd->opts) + S_count(S_common) + 1;
  struct option *lo = calloc(n, sizeof *lo);
  char *sh = calloc(2 * n + 3, 1);
  size_t nlo = 0, nsh = 0;
  sh[nsh++] = ':'; /* a missing value returns ':' */
  S_add(cmd->opts, lo, &nlo, sh, &nsh);
  S_add(S_common, lo, &nlo, sh, &nsh);
  *nops = 0;
  int status = -1;
  optind = 0; /* GNU: start afresh (the parser may run more than once) */
  opterr = 0; /* our messages, in the message language */
  int k;
  char buf[80];
  while (status < 0 && (k = getopt_long(argc, argv, sh, lo, NULL)) != -1) {
    switch (k) {
    case '?':
      if (optopt)
        snprintf(buf, sizeof buf, "-%c", optopt);
      else
        snprintf(buf, sizeof buf, "%s", argv[optind - 1]);
      bs_opts_error(cmd, c, err, "未知选项“%s”", "unknown option '%s'", buf);
      status = BANSHI_USAGE;
      break;
    case ':':
      bs_opts_error(cmd, c, err, "选项 %s 需要一个值", "%s needs a value",
                    optopt ? S_written(cmd->opts, optopt, buf, sizeof buf)
                           : argv[optind - 1]);
      status = BANSHI_USAGE;
      break;
    case S_HELP:
      bs_opts_help(cmd, c->lang, out);
      status = 0;
      break;
    case S_LANG:
      if (strcmp(optarg, "zh") != 0 && strcmp(optarg, "en") != 0) {
        bs_opts_error(cmd, c, err, "--lang 取 zh 或 en，而不是“%s”",
                      "--lang takes zh or en, not '%s'", optarg);
        status = BANSHI_USAGE;
      }
      break;
    case S_QUIET:
      c->verbosity = -1;
      break;
    case S_VERBOSE:
      c->verbosity = 1;
      break;
    case S_FAIL_WARN:
      c->fail_on_warnings = true;
      break;
    case S_DIAGS:
      if (strcmp(optarg, "json") == 0 || strcmp(optarg, "text") == 0)
        c->json = strcmp(optarg, "json") == 0;
      else {
        bs_opts_error(cmd, c, err, "--diagnostics 取 text 或 json，而不是“%s”",
                      "--diagnostics takes text or json, not '%s'", optarg);
        status = BANSHI_USAGE;
      }
      break;
    default: {
      int r = fn(ctx, k, optarg, c, err);
      if (r)
        status = r;
    }
    }
  }
  if (status < 0)
    for (int i = optind; i < argc; i++)
      ops[(*nops)++] = argv[i];
  free(lo);
  free(sh);
  free(args);
  return status;
}

banshi_env *
bs_opts_env_new(void)
{
  banshi_env *env = banshi_env_new();
  const char *epoch = getenv("SOURCE_DATE_EPOCH");
  if (epoch && *epoch)
    banshi_env_set(env, "epoch", epoch); /* refused when invalid: ignored */
  return env;
}

void
bs_opts_env_common(banshi_env *env, const bs_common *c)
{
  banshi_env_set(env, "lang", c->lang == BS_CLI_EN ? "en" : "zh");
  banshi_env_set(env, "diagnostics", c->json ? "json" : "text");
  banshi_env_set(env, "quiet", c->verbosity < 0 ? "1" : "0");
}
