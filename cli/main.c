/* main.c - the banshi command line.  Only this file prints or exits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "batch.h"
#include "job.h"
#include "layout.h"
#include "new.h"
#include "pipeline.h"
#include "render.h"
#include "report.h"

enum {
  EXIT_OK = BS_STATUS_OK,
  EXIT_USAGE = BS_STATUS_USAGE,
};

static void
S_usage(FILE *out)
{
  fputs(
      "usage: banshi render SOURCE.xml -o OUT.pdf [options]\n"
      "       banshi validate SOURCE.xml... [options]\n"
      "       banshi convert SOURCE.xml -o CORE.xml [--previous FILE]\n"
      "       banshi batch INPUT... -o OUTDIR [-j N] [--shard K/N] "
      "[options]\n"
      "       banshi archive OUTDIR -o BAG | banshi archive --verify BAG\n"
      "       banshi new TYPE --year YEAR --issuer NAME [--format F] "
      "[-o FILE]\n"
      "       banshi --help | --version\n"
      "\n"
      "render    lay out SOURCE.xml and write OUT.pdf (PDF/A-1b) or OUT.ofd\n"
      "validate  check sources (schema, text policy, fonts, layout) "
      "without\n"
      "          writing anything\n"
      "convert   write the core document a report source maps to\n"
      "batch     render many sources (files, folders, manifests) with N "
      "workers,\n"
      "          skipping those up to date (banshi batch --help)\n"
      "archive   pack a batch's PDFs, sources and metadata as a BagIt bag, "
      "or\n"
      "          verify one (banshi archive --help)\n"
      "new       write a complete report source to start from (banshi new "
      "--help)\n"
      "\n"
      "options:\n"
      "  -o, --output FILE    the PDF to write (render)\n"
      "  --template NAME      page template: a name in templates/ or a "
      "path\n"
      "                       (default gbt9704, GB/T 9704-2012 on A4)\n"
      "  --fonts MAP          font map whose roles replace the default "
      "map's\n"
      "  --no-normalize       typeset the text exactly as written\n"
      "  --lang zh|en         language of messages (default zh)\n"
      "  --dump FILE          also write the layout as text ('-' = stdout)\n"
      "  --format pdf|ofd     output format (default: by the extension of "
      "-o,\n"
      "                       .ofd = OFD, GB/T 33190; else PDF)\n"
      "  --pdfa 1b|3b         PDF/A part: 1b (default), or 3b with the "
      "XML\n"
      "                       source embedded (docs/formats.md)\n"
      "  --previous FILE      last year's report source, for the cross-year\n"
      "                       rules (上年结转 = 上年结转下年度继续办理)\n"
      "  --as-published       a report as it was issued: cells print as "
      "written,\n"
      "                       the rules' findings are warnings (exit 0)\n"
      "\n"
      "exit status: 0 success, 1 invalid source, 2 usage error,\n"
      "             3 I/O or internal failure\n"
      "Messages: FILE:LINE:COL: error|warning: text, on standard error.\n"
      "Environment: BANSHI_DATA (data folder), BANSHI_FONT_PATH (font "
      "folders),\n"
      "             BANSHI_TYPES (extra report type folders, ':'-separated),\n"
      "             SOURCE_DATE_EPOCH (PDF dates instead of the date of "
      "issue).\n",
      out);
}

typedef struct S_opts {
  const char *output;
  const char *dump;
  bs_job_options job;
  const char **inputs;
  int ninputs;
} S_opts;

/* banshi convert: the core document of a source, written as XML. */
static int
S_convert(const S_opts *o)
{
  bs_report_source *prev =
      o->job.previous ? bs_report_source_load(o->job.previous, o->job.lang)
                      : NULL;
  bs_parse_options po = {0};
  po.previous = prev;
  po.core_out = o->output;
  po.as_published = o->job.as_published;
  bs_document *doc = bs_parse_file(o->inputs[0], &po, o->job.lang);
  bs_diags_print(&doc->diags, stderr);
  int status = bs_diags_status(&doc->diags);
  bs_document_free(doc);
  bs_report_source_free(prev);
  return status;
}

int
main(int argc, char **argv)
{
  if (argc < 2) {
    S_usage(stderr);
    return EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    S_usage(stdout);
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
  bool render = strcmp(cmd, "render") == 0;
  bool validate = strcmp(cmd, "validate") == 0;
  bool convert = strcmp(cmd, "convert") == 0;
  if (!render && !validate && !convert) {
    fprintf(stderr, "banshi: unknown command '%s'\n", cmd);
    S_usage(stderr);
    return EXIT_USAGE;
  }
  S_opts o;
  memset(&o, 0, sizeof o);
  o.job.normalize = true;
  o.job.epoch = bs_source_date_epoch();
  o.inputs = calloc((size_t)argc, sizeof(char *));
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    const char **slot = NULL;
    if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0)
      slot = &o.output;
    else if (strcmp(a, "--template") == 0)
      slot = &o.job.tpl;
    else if (strcmp(a, "--fonts") == 0)
      slot = &o.job.font_map;
    else if (strcmp(a, "--dump") == 0)
      slot = &o.dump;
    else if (strcmp(a, "--previous") == 0)
      slot = &o.job.previous;
    else if (strcmp(a, "--no-normalize") == 0) {
      o.job.normalize = false;
      continue;
    } else if (strcmp(a, "--as-published") == 0) {
      o.job.as_published = true;
      continue;
    } else if (strcmp(a, "--pdfa") == 0) {
      const char *v = i + 1 < argc ? argv[++i] : "";
      if (strcmp(v, "1b") == 0 || strcmp(v, "3b") == 0) {
        o.job.pdfa = v[0] - '0';
        continue;
      }
      fprintf(stderr, strcmp(v, "2a") == 0
                          ? "banshi: --pdfa 2a (tagged PDF) is not "
                            "implemented; use 1b or 3b\n"
                          : "banshi: --pdfa takes 1b or 3b\n");
      free(o.inputs);
      return EXIT_USAGE;
    } else if (strcmp(a, "--format") == 0) {
      const char *v = i + 1 < argc ? argv[++i] : "";
      if (strcmp(v, "pdf") != 0 && strcmp(v, "ofd") != 0) {
        fprintf(stderr, "banshi: --format takes pdf or ofd\n");
        free(o.inputs);
        return EXIT_USAGE;
      }
      o.job.ofd = strcmp(v, "ofd") == 0;
      continue;
    } else if (strcmp(a, "--tagged") == 0) {
      fprintf(stderr, "banshi: --tagged (tagged PDF) is not implemented\n");
      free(o.inputs);
      return EXIT_USAGE;
    } else if (strcmp(a, "--lang") == 0) {
      if (i + 1 >= argc || (strcmp(argv[i + 1], "zh") != 0 &&
                            strcmp(argv[i + 1], "en") != 0)) {
        fprintf(stderr, "banshi: --lang takes zh or en\n");
        free(o.inputs);
        return EXIT_USAGE;
      }
      o.job.lang = strcmp(argv[++i], "en") == 0 ? BS_LANG_EN : BS_LANG_ZH;
      continue;
    } else if (strcmp(a, "--help") == 0) {
      S_usage(stdout);
      free(o.inputs);
      return EXIT_OK;
    } else if (a[0] == '-' && a[1]) {
      fprintf(stderr, "banshi: unknown option '%s'\n", a);
      free(o.inputs);
      return EXIT_USAGE;
    } else {
      o.inputs[o.ninputs++] = a;
      continue;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "banshi: %s needs a value\n", a);
      free(o.inputs);
      return EXIT_USAGE;
    }
    *slot = argv[++i];
  }
  int status = EXIT_OK;
  if (convert) {
    if (o.ninputs != 1 || !o.output) {
      fprintf(stderr, "banshi: convert takes one SOURCE and -o CORE.xml\n");
      free(o.inputs);
      return EXIT_USAGE;
    }
    status = S_convert(&o);
  } else if (render) {
    if (o.ninputs != 1 || (!o.output && !o.dump)) {
      fprintf(stderr, "banshi: render takes one SOURCE and -o OUT.pdf\n");
      free(o.inputs);
      return EXIT_USAGE;
    }
    bs_shared *sh = bs_shared_new(&o.job);
    bs_job_result res;
    status = bs_job_run(sh, o.inputs[0], o.output, o.dump, stderr, &res);
    bs_job_result_free(&res);
    bs_shared_free(sh);
  } else {
    if (o.ninputs == 0) {
      fprintf(stderr, "banshi: validate takes at least one SOURCE\n");
      free(o.inputs);
      return EXIT_USAGE;
    }
    bs_shared *sh = bs_shared_new(&o.job);
    for (int i = 0; i < o.ninputs; i++) {
      bs_job_result res;
      int st = bs_job_run(sh, o.inputs[i], NULL, o.dump, stderr, &res);
      bs_job_result_free(&res);
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
