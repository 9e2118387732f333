// SPDX-License-Identifier: Apache-2.0
/* main.c - the banshi command line: picks the command and runs render,
 * validate and convert itself; batch, archive and new are in their own
 * files (commands.h).  Every command is a client of the library's public
 * header, include/banshi.h, as any other program is (tests/layers.py
 * checks it): the command line reads options, the library does the work
 * and prints the messages.  No command calls exit(); each returns its
 * status to main().
 *
 * Layer 15 (command line): docs/architecture.md. */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <banshi.h>

#include "commands.h"
#include "opts.h"

enum {
  EXIT_OK = BANSHI_OK,
  EXIT_USAGE = BANSHI_USAGE,
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
S_usage(FILE *out, bs_cli_lang lang)
{
  bool en = lang == BS_CLI_EN;
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
  banshi_env *env;     /* the options that go to the library */
  bool pdf_only;       /* --pdfa or --tagged: options of PDF output */
  bool ofd;            /* --format ofd */
  bs_cli_lang lang;
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
      o->pdf_only = true;
      return banshi_env_set(o->env, "pdfa", v);
    }
    bs_opts_error(&S_cmds[0], c, err, "--pdfa 取 1b、2a 或 3b，而不是“%s”",
                  "--pdfa takes 1b, 2a or 3b, not '%s'", v);
    return BANSHI_USAGE;
  case O_FORMAT:
    if (strcmp(v, "pdf") != 0 && strcmp(v, "ofd") != 0) {
      bs_opts_error(&S_cmds[0], c, err, "--format 取 pdf 或 ofd，而不是“%s”",
                    "--format takes pdf or ofd, not '%s'", v);
      return BANSHI_USAGE;
    }
    o->ofd = strcmp(v, "ofd") == 0;
    return banshi_env_set(o->env, "format", v);
  case O_TAGGED:
    o->pdf_only = true;
    return banshi_env_set(o->env, "tagged", "1");
  case O_OUTPUT:
    o->output = v;
    break;
  case O_TEMPLATE:
    return banshi_env_set(o->env, "template", v);
  case O_FONTS:
    return banshi_env_set(o->env, "fonts", v);
  case O_NO_NORMALIZE:
    return banshi_env_set(o->env, "normalize", "0");
  case O_DUMP:
    o->dump = v;
    break;
  case O_PREVIOUS:
    return banshi_env_set(o->env, "previous", v);
  case O_AS_PUBLISHED:
    return banshi_env_set(o->env, "as-published", "1");
  }
  return 0;
}

/* banshi convert: the core document of a source, written as XML. */
static int
S_convert(const S_opts *o, const bs_common *c)
{
  banshi_result *r =
      banshi_convert(o->env, o->inputs[0], o->output, stderr);
  int status = bs_opts_status(c, banshi_result_status(r),
                              banshi_result_warnings(r));
  banshi_result_free(r);
  return status;
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
S_run_one(const S_opts *o, const bs_common *c, const char *src,
          const char *pdf, const char *dump)
{
  banshi_result *r = banshi_render_to(o->env, src, NULL, 0, pdf, dump,
                                      stderr);
  int st = banshi_result_status(r);
  if (c->verbosity > 0)
    fprintf(stderr,
            o->lang == BS_CLI_EN
                ? "%s: %s, %d pages, %u errors, %u warnings\n"
                : "%s：%s，%d 页，%u 个错误，%u 个警告\n",
            src,
            st == BANSHI_OK ? (o->lang == BS_CLI_EN ? "ok" : "成功")
                            : (o->lang == BS_CLI_EN ? "failed" : "失败"),
            banshi_result_pages(r), banshi_result_errors(r),
            banshi_result_warnings(r));
  st = bs_opts_status(c, st, banshi_result_warnings(r));
  banshi_result_free(r);
  return st;
}

static int
S_render(const S_opts *o, const bs_common *c)
{
  /* one source: its fixed costs load on a second core meanwhile */
  banshi_env_set(o->env, "threads", "auto");
  if (!o->output || strcmp(o->output, "-") != 0)
    return S_run_one(o, c, o->inputs[0], o->output, o->dump);
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
    return BANSHI_FAILURE;
  }
  size_t n = strlen(dir) + sizeof "/out.pdf";
  char *pdf = malloc(n);
  snprintf(pdf, n, "%s/out.pdf", dir);
  int st = S_run_one(o, c, o->inputs[0], pdf, o->dump);
  if (st == BANSHI_OK || (st == BANSHI_INVALID && c->fail_on_warnings)) {
    int e = S_copy_out(pdf);
    if (e) {
      fprintf(stderr, "banshi: %s: %s\n",
              o->lang == BS_CLI_EN ? "cannot write standard output"
                                        : "无法写入标准输出",
              strerror(e));
      st = BANSHI_FAILURE;
    }
  }
  unlink(pdf);
  rmdir(dir);
  free(pdf);
  free(dir);
  return st;
}

/* render, validate or convert once their options are read. */
static int
S_command(const bs_cmd *bc, S_opts *o, const bs_common *c)
{
  o->lang = c->lang;
  bs_opts_env_common(o->env, c);
  if (bc == &S_cmds[2]) {
    if (o->ninputs != 1 || !o->output) {
      bs_opts_error(bc, c, stderr, "需要一个源文件和 -o CORE.xml%s",
                    "takes one SOURCE and -o CORE.xml%s", "");
      return EXIT_USAGE;
    }
    return S_convert(o, c);
  }
  if (bc == &S_cmds[0]) {
    if (o->ninputs != 1 || (!o->output && !o->dump)) {
      bs_opts_error(bc, c, stderr, "需要一个源文件和 -o OUT.pdf%s",
                    "takes one SOURCE and -o OUT.pdf%s", "");
      return EXIT_USAGE;
    }
    size_t ol = o->output ? strlen(o->output) : 0;
    if (o->pdf_only &&
        (o->ofd || (ol > 4 && strcmp(o->output + ol - 4, ".ofd") == 0))) {
      /* an OFD file is OFD-A whatever is asked; say so rather than
       * ignore a PDF option */
      bs_opts_error(bc, c, stderr,
                    "--pdfa 和 --tagged 只用于 PDF 输出；OFD 文件总是 OFD-A%s",
                    "--pdfa and --tagged apply to PDF output only; an OFD "
                    "file is always OFD-A%s",
                    "");
      return EXIT_USAGE;
    }
    return S_render(o, c);
  }
  if (o->ninputs == 0) {
    bs_opts_error(bc, c, stderr, "至少需要一个源文件%s",
                  "takes at least one SOURCE%s", "");
    return EXIT_USAGE;
  }
  int status = EXIT_OK;
  for (int i = 0; i < o->ninputs; i++) {
    int st = S_run_one(o, c, o->inputs[i], NULL, o->dump);
    if (st > status)
      status = st;
  }
  return status;
}

/* The heap of a one-document process in 2 MB pages.  Each page a process
 * touches first costs a page fault; on virtual machines whose hypervisor
 * keeps shadow page tables, such as this project's CI and bench machines,
 * a fault costs about 12 us (about 1 us on bare metal), and a fresh
 * render's main thread faults in about 650 pages of heap (the source's
 * trees, the compiled schemas and stylesheet, the layout, libharu's
 * objects).  A 2 MB page is one fault.  Linux gives them to ranges marked
 * MADV_HUGEPAGE (its default setting, "madvise"), but only to a 2 MB-aligned
 * range none of whose pages is touched yet, and glibc marks none (its
 * tunable glibc.malloc.hugetlb is read from the environment before main).
 * So one block grows the heap by 12 MB; the new range is marked while only
 * the page at the block's end is touched (the header of what is left of
 * the heap: it lies in the last, partial 2 MB range); the block is freed,
 * and a block kept for the process fills the heap up to the first 2 MB
 * boundary, so that what is allocated next starts there.
 *
 * The example, Release build: page faults 1,633 -> about 950 (perf stat,
 * 20 runs each, several times), and in runs taken in turn with the build
 * before, 8 ms less CPU and 8-9 ms less wall time of 44-48 ms; peak RSS
 * 25.0 -> 25.4-26.5 MB (the touched 2 MB pages count whole).  Not done:
 * - the threads' arenas (their own mappings, about 360 faults): a thread
 *   arena's first 2 MB holds its header, touched as it is made, and each
 *   thread uses less than that; one arena for all (M_ARENA_MAX 1) halves
 *   the faults but the threads then wait for its lock, and the time does
 *   not move;
 * - a batch: its processes keep their heaps for thousands of documents.
 * The check of the block's place skips it all where malloc is not glibc's
 * heap below the program break (valgrind, sanitizers); where the kernel
 * gives no large pages, the mark does nothing. */
/* kept for the process, reachable (no leak); volatile, or the compiler,
 * seeing it never read, drops the call that fills it */
static void *volatile S_heap_filler;

static void
S_heap_large_pages(void)
{
#if defined(__GLIBC__) && defined(MADV_HUGEPAGE)
  const uintptr_t huge = (uintptr_t)2 << 20;
  const size_t span = (size_t)12 << 20;
  /* the block from the heap, not from mmap, for this call only */
  mallopt(M_MMAP_THRESHOLD, 16 << 20);
  void *volatile block = malloc(span); /* volatile: kept, not folded away */
  mallopt(M_MMAP_THRESHOLD, 8 << 20);
  if (!block)
    return;
  uintptr_t start = (uintptr_t)block - 2 * sizeof(size_t); /* its header */
  uintptr_t end = (uintptr_t)sbrk(0);
  uintptr_t lo = (start + huge - 1) & ~(huge - 1);
  /* the block came from the top of glibc's heap: the break lies above it,
   * by no more than M_TOP_PAD and a page */
  int ours = end > start && end - start <= span + ((size_t)1 << 20) + 8192 &&
             end - lo >= huge;
  if (ours)
    (void)madvise((void *)lo, end - lo, MADV_HUGEPAGE);
  free(block);
  if (ours && lo - start >= 64)
    S_heap_filler = malloc(lo - start - 2 * sizeof(size_t));
#endif
}

int
main(int argc, char **argv)
{
  /* glibc's malloc grows and shrinks the heap of each of a render's
   * threads 128 KB at a time, each step a system call that takes the
   * address space's lock the other threads' page faults wait for, and a
   * shrunk step is faulted in again when it is next used.  1 MB steps:
   * for the example, 168 mprotect and 24 brk calls become 32 and 8, and
   * 64 page faults of 1,790 go; untouched pages of a step cost nothing.
   * Setting one limit stops glibc from raising the others as large blocks
   * are freed, so the limits a batch worker sets (batch.c, measured there)
   * are set here too: blocks below 8 MB come from the heap and are used
   * again, and up to 16 MB of free heap is kept; a render of a 1,500-row
   * table takes 2,830 page faults instead of 3,250. */
#if defined(M_TOP_PAD) && defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
  mallopt(M_TOP_PAD, 1 << 20);
  mallopt(M_MMAP_THRESHOLD, 8 << 20);
  mallopt(M_TRIM_THRESHOLD, 16 << 20);
#endif
  bs_cli_lang env_lang = bs_opts_env_lang();
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--lang=en") == 0 ||
        (strcmp(argv[i], "--lang") == 0 && i + 1 < argc &&
         strcmp(argv[i + 1], "en") == 0))
      env_lang = BS_CLI_EN;
  if (argc < 2) {
    S_usage(stderr, env_lang);
    return EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    S_usage(stdout, env_lang);
    return EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("banshi %s\n", banshi_version());
    return EXIT_OK;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "new") == 0)
    return bs_cmd_new(argc - 2, argv + 2, stdout, stderr);
  if (strcmp(cmd, "batch") == 0 || strcmp(cmd, "archive") == 0) {
    int st = strcmp(cmd, "batch") == 0
                 ? bs_cmd_batch(argc - 2, argv + 2, stdout, stderr)
                 : bs_cmd_archive(argc - 2, argv + 2, stdout, stderr);
    banshi_cleanup();
    return st;
  }
  const bs_cmd *bc = NULL;
  for (size_t i = 0; i < sizeof S_cmds / sizeof *S_cmds; i++)
    if (strcmp(cmd, S_cmds[i].name) == 0)
      bc = &S_cmds[i];
  if (!bc) {
    fprintf(stderr,
            env_lang == BS_CLI_EN ? "banshi: unknown command '%s'\n"
                                   : "banshi：未知命令“%s”\n",
            cmd);
    S_usage(stderr, env_lang);
    return EXIT_USAGE;
  }
  S_heap_large_pages();
  S_opts o;
  memset(&o, 0, sizeof o);
  o.env = bs_opts_env_new();
  o.inputs = calloc((size_t)argc + 1, sizeof(char *));
  bs_common c;
  int status = bs_opts_parse(bc, argc - 2, argv + 2, &c, S_opt, &o, o.inputs,
                             &o.ninputs, stdout, stderr);
  if (status < 0)
    status = S_command(bc, &o, &c);
  free(o.inputs);
  banshi_env_free(o.env);
  /* No banshi_cleanup() here: what it frees (compiled schemas, report
   * types, prose patterns, line breakers) lives as long as the process and
   * stays reachable from the library's globals, so leak checkers do not
   * count it, and the kernel takes it back at once where freeing it piece
   * by piece costs about 3 M instructions, 0.6 ms of a one-document
   * render.  Programs that load the library and go on call it. */
  return status;
}
