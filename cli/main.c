// SPDX-License-Identifier: Apache-2.0
/* main.c - the banshi command line: picks the command and runs render,
 * validate and convert itself.  batch (batch.c) and archive (archive.c) are
 * commands of their own: they print their progress and messages too, but
 * none of the three calls exit(); each returns its status to main().
 *
 * Layer 15 (command line): docs/architecture.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive.h"
#include "batch.h"
#include "fsio.h"
#include "job.h"
#include "layout.h"
#include "new.h"
#include "opts.h"
#include "pipeline.h"
#include "render.h"
#include "report.h"

enum {
  EXIT_OK = BS_STATUS_OK,
  EXIT_USAGE = BS_STATUS_USAGE,
};

enum {
  O_OUTPUT = 'o',
  O_TEMPLATE = 256,
  O_FONTS,
  O_NO_NORMALIZE,
  O_DUMP,
  O_PREVIOUS,
  O_PDFA,
  O_TAGGED,
  O_FORMAT,
  O_AS_PUBLISHED,
};

/* The options of render, validate and convert (batch.c and archive.c have
 * their own tables). */
static const bs_opt S_render_opts[] = {
    {"output", O_OUTPUT, "FILE", "要写入的 PDF（“-”为标准输出）",
     "the PDF to write ('-' = standard output)"},
    {"template", O_TEMPLATE, "NAME",
     "版式模板：templates/ 中的名称或路径（默认 gbt9704）",
     "page template: a name in templates/ or a path (default gbt9704)"},
    {"fonts", O_FONTS, "MAP", "字体映射文件，其角色替换默认映射中的角色",
     "font map whose roles replace the default map's"},
    {"no-normalize", O_NO_NORMALIZE, NULL, "按原文排版，不做文本规范化",
     "typeset the text exactly as written"},
    {"dump", O_DUMP, "FILE", "另外把版面写成文本（“-”为标准输出）",
     "also write the layout as text ('-' = standard output)"},
    {"previous", O_PREVIOUS, "FILE", "上年度的报告源文件，用于跨年度规则",
     "last year's report source, for the cross-year rules"},
    {"pdfa", O_PDFA, "1b|2a|3b",
     "PDF/A 部分：1b（默认）、带结构标签的 2a，或嵌入 XML 源文件的 3b"
     "（docs/formats.md）",
     "PDF/A part: 1b (default), 2a (tagged), or 3b with the XML source "
     "embedded (docs/formats.md)"},
    {"format", O_FORMAT, "pdf|ofd",
     "输出格式：pdf 或 ofd（默认按 -o 的扩展名：.ofd 为 OFD，GB/T 33190）",
     "output format: pdf or ofd (default: by the extension of -o; .ofd = "
     "OFD, GB/T 33190)"},
    {"tagged", O_TAGGED, NULL,
     "带结构标签的 PDF：结构树、标记内容（docs/formats.md）",
     "tagged PDF: structure tree and marked content (docs/formats.md)"},
    {"as-published", O_AS_PUBLISHED, NULL,
     "按发布时的原样：单元格照写排印，规则的发现为警告（退出状态 0）",
     "a report as it was issued: cells print as written, the rules' "
     "findings are warnings (exit 0)"},
    {NULL, 0, NULL, NULL, NULL},
};

static const bs_opt S_convert_opts[] = {
    {"output", O_OUTPUT, "FILE", "要写入的核心文档 XML",
     "the core document XML to write"},
    {"previous", O_PREVIOUS, "FILE", "上年度的报告源文件，用于跨年度规则",
     "last year's report source, for the cross-year rules"},
    {"as-published", O_AS_PUBLISHED, NULL,
     "按发布时的原样：规则的发现为警告",
     "a report as it was issued: the rules' findings are warnings"},
    {NULL, 0, NULL, NULL, NULL},
};

static const bs_cmd S_cmds[] = {
    {"render", "SOURCE.xml -o OUT.pdf [options]",
     "排版 SOURCE.xml 并写出 OUT.pdf（PDF/A-1b）或 OUT.ofd（OFD）。SOURCE "
     "为“-”时从标准输入读取。",
     "Lay out SOURCE.xml and write OUT.pdf (PDF/A-1b) or OUT.ofd (OFD).  "
     "SOURCE '-' reads "
     "standard input.",
     S_render_opts},
    {"validate", "SOURCE.xml... [options]",
     "检查源文件（模式、文本规范、字体、版面），不写出任何文件。",
     "Check sources (schema, text policy, fonts, layout) without writing "
     "anything.",
     S_render_opts},
    {"convert", "SOURCE.xml -o CORE.xml [options]",
     "写出报告源文件映射成的核心文档。",
     "Write the core document a report source maps to.",
     S_convert_opts},
};

static void
S_usage(FILE *out, bs_lang lang)
{
  bool en = lang == BS_LANG_EN;
  fprintf(out,
          "%s banshi render SOURCE.xml -o OUT.pdf [options]\n"
          "       banshi validate SOURCE.xml... [options]\n"
          "       banshi convert SOURCE.xml -o CORE.xml [--previous FILE]\n"
          "       banshi batch INPUT... -o OUTDIR [-j N] [--shard K/N] "
          "[options]\n"
          "       banshi archive OUTDIR -o BAG | banshi archive --verify BAG\n"
          "       banshi new TYPE --year YEAR --issuer NAME [--format F] "
          "[-o FILE]\n"
          "       banshi --help | --version\n\n",
          en ? "usage:" : "用法：");
  for (size_t i = 0; i < sizeof S_cmds / sizeof *S_cmds; i++)
    fprintf(out, "%-9s %s\n", S_cmds[i].name,
            en ? S_cmds[i].what_en : S_cmds[i].what_zh);
  fputs(en ? "batch     render many sources with N workers, skipping those "
             "up to date\n"
             "archive   pack a batch's output as a BagIt bag, or verify one\n"
             "new       write a complete report source to start from\n"
             "\n'banshi COMMAND --help' lists a command's options; "
             "'man banshi' has the manual.\n"
             "exit status: 0 success, 1 invalid source, 2 usage error,\n"
             "             3 I/O or internal failure\n"
             "Messages: FILE:LINE:COL: error|warning: text, on standard "
             "error.\n"
             "Environment: BANSHI_DATA (data folder), BANSHI_FONT_PATH (font "
             "folders),\n"
             "             BANSHI_TYPES (extra report type folders, "
             "':'-separated),\n"
             "             SOURCE_DATE_EPOCH (PDF dates instead of the date "
             "of issue),\n"
             "             LANG / LC_MESSAGES (en… for English messages).\n"
           : "batch     用 N 个工作线程排版多个源文件，跳过已是最新的\n"
             "archive   把批量输出打包为 BagIt 包，或校验一个包\n"
             "new       写出一份完整的报告源文件作为起点\n"
             "\n“banshi 命令 --help”列出该命令的选项；“man banshi”为完整手册。\n"
             "退出状态：0 成功，1 源文件有误，2 用法错误，3 读写或内部故障\n"
             "消息：文件:行:列: error|warning: 内容，写到标准错误。\n"
             "环境变量：BANSHI_DATA（数据目录）、BANSHI_FONT_PATH（字体目录）、\n"
             "          BANSHI_TYPES（其他报告类型目录，以“:”分隔）、\n"
             "          SOURCE_DATE_EPOCH（PDF 日期）、LANG / LC_MESSAGES"
             "（en… 为英文消息）。\n",
        out);
}

typedef struct S_opts {
  const char *output;
  const char *dump;
  bs_job_options job;
  const char **inputs;
  int ninputs;
} S_opts;

static const bs_cmd S_cmds[];

static int
S_opt(void *ctx, int key, const char *v, const bs_common *c, FILE *err)
{
  S_opts *o = ctx;
  switch (key) {
  case O_PDFA:
    if (strcmp(v, "1b") == 0 || strcmp(v, "2a") == 0 ||
        strcmp(v, "3b") == 0) {
      o->job.pdfa = v[0] - '0';
      break;
    }
    bs_opts_error(&S_cmds[0], c, err, "--pdfa 取 1b、2a 或 3b，而不是“%s”",
                  "--pdfa takes 1b, 2a or 3b, not '%s'", v);
    return BS_STATUS_USAGE;
  case O_FORMAT:
    if (strcmp(v, "pdf") != 0 && strcmp(v, "ofd") != 0) {
      bs_opts_error(&S_cmds[0], c, err, "--format 取 pdf 或 ofd，而不是“%s”",
                    "--format takes pdf or ofd, not '%s'", v);
      return BS_STATUS_USAGE;
    }
    o->job.ofd = strcmp(v, "ofd") == 0;
    break;
  case O_TAGGED:
    o->job.tagged = true;
    break;
  case O_OUTPUT:
    o->output = v;
    break;
  case O_TEMPLATE:
    o->job.tpl = v;
    break;
  case O_FONTS:
    o->job.font_map = v;
    break;
  case O_NO_NORMALIZE:
    o->job.normalize = false;
    break;
  case O_DUMP:
    o->dump = v;
    break;
  case O_PREVIOUS:
    o->job.previous = v;
    break;
  case O_AS_PUBLISHED:
    o->job.as_published = true;
    break;
  }
  return 0;
}

/* banshi convert: the core document of a source, written as XML. */
static int
S_convert(const S_opts *o, const bs_common *c)
{
  bs_report_source *prev =
      o->job.previous ? bs_report_source_load(o->job.previous, o->job.lang)
                      : NULL;
  /* the core document never replaces the source or last year's */
  const char *inputs[2] = {o->inputs[0], o->job.previous};
  const char *in = bs_output_input(o->output, inputs, 2);
  if (in) {
    fprintf(stderr, "%s: error: ", o->output);
    fprintf(stderr, bs_diag_format(BS_D_OUTPUT_IS_INPUT, o->job.lang),
            o->output, in);
    fputc('\n', stderr);
    bs_report_source_free(prev);
    return BS_STATUS_FAILURE;
  }
  bs_parse_options po = {0};
  po.previous = prev;
  po.core_out = o->output;
  po.as_published = o->job.as_published;
  bs_document *doc = bs_parse_file(o->inputs[0], &po, o->job.lang);
  if (c->verbosity < 0)
    doc->diags.shown = BS_ERROR;
  if (c->json)
    bs_diags_print_json(&doc->diags, stderr);
  else
    bs_diags_print(&doc->diags, stderr);
  int status = bs_opts_status(c, bs_diags_status(&doc->diags),
                              doc->diags.warnings);
  bs_document_free(doc);
  bs_report_source_free(prev);
  return status;
}

/* All of standard input, or NULL with errno set. */
static unsigned char *
S_read_stdin(size_t *len)
{
  size_t cap = 1 << 16, n = 0;
  unsigned char *buf = malloc(cap);
  size_t got;
  while (buf && (got = fread(buf + n, 1, cap - n, stdin)) > 0) {
    n += got;
    if (n > BS_MAX_SOURCE_BYTES)
      break; /* the parser reports the limit */
    if (n == cap) {
      unsigned char *nb = realloc(buf, cap *= 2);
      if (!nb) {
        free(buf);
        return NULL;
      }
      buf = nb;
    }
  }
  if (buf && ferror(stdin)) {
    free(buf);
    errno = EIO;
    return NULL;
  }
  *len = n;
  return buf;
}

/* -o -: the PDF is written to a temporary folder as any PDF is (complete or
 * absent), then copied to standard output.  Returns 0, or an errno. */
static int
S_copy_out(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return errno;
  char buf[1 << 16];
  size_t n;
  int e = 0;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0)
    if (fwrite(buf, 1, n, stdout) != n) {
      e = errno ? errno : EIO;
      break;
    }
  if (!e && ferror(f))
    e = EIO;
  fclose(f);
  if (!e && fflush(stdout) != 0)
    e = errno ? errno : EIO;
  return e;
}

/* One source of render or validate; "-" is standard input. */
static int
S_run_one(bs_shared *sh, const S_opts *o, const bs_common *c, const char *src,
          const char *pdf, const char *dump)
{
  bs_job_result res;
  int st;
  if (strcmp(src, "-") == 0) {
    size_t len = 0;
    unsigned char *buf = S_read_stdin(&len);
    if (!buf) {
      fprintf(stderr, "banshi: %s: %s\n",
              o->job.lang == BS_LANG_EN ? "cannot read standard input"
                                        : "无法读取标准输入",
              strerror(errno));
      return BS_STATUS_FAILURE;
    }
    st = bs_job_run_memory(sh, "<stdin>", buf, len, NULL, false, pdf, dump,
                           stderr, &res);
    free(buf);
  } else {
    st = bs_job_run(sh, src, pdf, dump, stderr, &res);
  }
  if (c->verbosity > 0)
    fprintf(stderr,
            o->job.lang == BS_LANG_EN
                ? "%s: %s, %d pages, %u errors, %u warnings\n"
                : "%s：%s，%d 页，%u 个错误，%u 个警告\n",
            src,
            st == BS_STATUS_OK ? (o->job.lang == BS_LANG_EN ? "ok" : "成功")
                               : (o->job.lang == BS_LANG_EN ? "failed"
                                                            : "失败"),
            res.pages, res.errors, res.warnings);
  st = bs_opts_status(c, st, res.warnings);
  bs_job_result_free(&res);
  return st;
}

static int
S_render(bs_shared *sh, const S_opts *o, const bs_common *c)
{
  if (!o->output || strcmp(o->output, "-") != 0)
    return S_run_one(sh, o, c, o->inputs[0], o->output, o->dump);
  char tmpl[] = "/tmp/banshi-XXXXXX";
  const char *tmpdir = getenv("TMPDIR");
  char *dir = NULL;
  if (tmpdir && *tmpdir) {
    size_t n = strlen(tmpdir) + sizeof "/banshi-XXXXXX";
    dir = malloc(n);
    snprintf(dir, n, "%s/banshi-XXXXXX", tmpdir);
  } else
    dir = strdup(tmpl);
  if (!mkdtemp(dir)) {
    fprintf(stderr, "banshi: %s: %s\n", dir, strerror(errno));
    free(dir);
    return BS_STATUS_FAILURE;
  }
  size_t n = strlen(dir) + sizeof "/out.pdf";
  char *pdf = malloc(n);
  snprintf(pdf, n, "%s/out.pdf", dir);
  int st = S_run_one(sh, o, c, o->inputs[0], pdf, o->dump);
  if (st == BS_STATUS_OK || (st == BS_STATUS_INVALID && c->fail_on_warnings)) {
    int e = S_copy_out(pdf);
    if (e) {
      fprintf(stderr, "banshi: %s: %s\n",
              o->job.lang == BS_LANG_EN ? "cannot write standard output"
                                        : "无法写入标准输出",
              strerror(e));
      st = BS_STATUS_FAILURE;
    }
  }
  unlink(pdf);
  rmdir(dir);
  free(pdf);
  free(dir);
  return st;
}

int
main(int argc, char **argv)
{
  bs_lang env_lang = bs_opts_env_lang();
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--lang=en") == 0 ||
        (strcmp(argv[i], "--lang") == 0 && i + 1 < argc &&
         strcmp(argv[i + 1], "en") == 0))
      env_lang = BS_LANG_EN;
  if (argc < 2) {
    S_usage(stderr, env_lang);
    return EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    S_usage(stdout, env_lang);
    return EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("%s %s\n", BANSHI_NAME, BANSHI_VERSION);
    return EXIT_OK;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "new") == 0) {
    int st = bs_new_main(argc - 2, argv + 2, stdout, stderr);
    bs_report_cleanup();
    return st;
  }
  if (strcmp(cmd, "batch") == 0 || strcmp(cmd, "archive") == 0) {
    int st = strcmp(cmd, "batch") == 0
                 ? bs_batch_main(argc - 2, argv + 2, stdout, stderr)
                 : bs_archive_main(argc - 2, argv + 2, stdout, stderr);
    bs_layout_cleanup();
    bs_parse_cleanup();
    return st;
  }
  const bs_cmd *bc = NULL;
  for (size_t i = 0; i < sizeof S_cmds / sizeof *S_cmds; i++)
    if (strcmp(cmd, S_cmds[i].name) == 0)
      bc = &S_cmds[i];
  if (!bc) {
    fprintf(stderr,
            env_lang == BS_LANG_EN ? "banshi: unknown command '%s'\n"
                                   : "banshi：未知命令“%s”\n",
            cmd);
    S_usage(stderr, env_lang);
    return EXIT_USAGE;
  }
  S_opts o;
  memset(&o, 0, sizeof o);
  o.job.normalize = true;
  o.job.epoch = bs_source_date_epoch();
  o.inputs = calloc((size_t)argc + 1, sizeof(char *));
  bs_common c;
  int status = bs_opts_parse(bc, argc - 2, argv + 2, &c, S_opt, &o, o.inputs,
                             &o.ninputs, stdout, stderr);
  if (status >= 0) {
    free(o.inputs);
    return status;
  }
  o.job.lang = c.lang;
  o.job.json_diags = c.json;
  o.job.quiet = c.verbosity < 0;
  status = EXIT_OK;
  if (bc == &S_cmds[2]) {
    if (o.ninputs != 1 || !o.output) {
      bs_opts_error(bc, &c, stderr, "需要一个源文件和 -o CORE.xml%s",
                    "takes one SOURCE and -o CORE.xml%s", "");
      free(o.inputs);
      return EXIT_USAGE;
    }
    status = S_convert(&o, &c);
  } else if (bc == &S_cmds[0]) {
    if (o.ninputs != 1 || (!o.output && !o.dump)) {
      bs_opts_error(bc, &c, stderr, "需要一个源文件和 -o OUT.pdf%s",
                    "takes one SOURCE and -o OUT.pdf%s", "");
      free(o.inputs);
      return EXIT_USAGE;
    }
    size_t ol = o.output ? strlen(o.output) : 0;
    if ((o.job.pdfa || o.job.tagged) &&
        (o.job.ofd || (ol > 4 && strcmp(o.output + ol - 4, ".ofd") == 0))) {
      /* an OFD file is OFD-A whatever is asked; say so rather than
       * ignore a PDF option */
      bs_opts_error(bc, &c, stderr,
                    "--pdfa 和 --tagged 只用于 PDF 输出；OFD 文件总是 OFD-A%s",
                    "--pdfa and --tagged apply to PDF output only; an OFD "
                    "file is always OFD-A%s",
                    "");
      free(o.inputs);
      return EXIT_USAGE;
    }
    bs_shared *sh = bs_shared_new(&o.job);
    status = S_render(sh, &o, &c);
    bs_shared_free(sh);
  } else {
    if (o.ninputs == 0) {
      bs_opts_error(bc, &c, stderr, "至少需要一个源文件%s",
                    "takes at least one SOURCE%s", "");
      free(o.inputs);
      return EXIT_USAGE;
    }
    bs_shared *sh = bs_shared_new(&o.job);
    for (int i = 0; i < o.ninputs; i++) {
      int st = S_run_one(sh, &o, &c, o.inputs[i], NULL, o.dump);
      if (st > status)
        status = st;
    }
    bs_shared_free(sh);
  }
  free(o.inputs);
  bs_layout_cleanup();
  bs_parse_cleanup();
  return status;
}
