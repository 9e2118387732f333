/* main.c - the banshi command line.  Only this file prints or exits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "pipeline.h"
#include "render.h"
#include "util.h"

enum {
  EXIT_OK = 0,
  EXIT_INVALID = 1, /* the source has errors */
  EXIT_USAGE = 2,   /* bad command line */
  EXIT_FAILURE_IO = 3, /* I/O, environment or internal failure */
};

static void
S_usage(FILE *out)
{
  fputs(
      "usage: banshi render SOURCE.xml -o OUT.pdf [options]\n"
      "       banshi validate SOURCE.xml... [options]\n"
      "       banshi --help | --version\n"
      "\n"
      "render    lay out SOURCE.xml and write OUT.pdf (PDF/A-1b)\n"
      "validate  check sources (schema, text policy, fonts, layout) "
      "without\n"
      "          writing anything\n"
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
      "\n"
      "exit status: 0 success, 1 invalid source, 2 usage error,\n"
      "             3 I/O or internal failure\n"
      "Messages: FILE:LINE:COL: error|warning: text, on standard error.\n"
      "Environment: BANSHI_DATA (data folder), BANSHI_FONT_PATH (font "
      "folders),\n"
      "             SOURCE_DATE_EPOCH (PDF dates instead of the date of "
      "issue).\n",
      out);
}

typedef struct S_opts {
  const char *output;
  const char *tpl;
  const char *fonts;
  const char *dump;
  bool normalize;
  bs_lang lang;
  const char **inputs;
  int ninputs;
} S_opts;

/* Which exit status a list of diagnostics calls for. */
static int
S_status(const bs_diags *d)
{
  if (!d->errors)
    return EXIT_OK;
  const bs_diagnostic *it = d->items.data;
  for (size_t i = 0; i < d->items.len; i++) {
    if (it[i].severity != BS_ERROR)
      continue;
    switch (it[i].code) {
    case BS_D_IO_READ:
    case BS_D_IO_WRITE:
    case BS_D_SCHEMA_LOAD:
    case BS_D_FONT_MAP:
    case BS_D_FONT_ROLE:
    case BS_D_FONT_FILE:
    case BS_D_FONT_LOAD:
    case BS_D_FONT_UNUSABLE:
    case BS_D_TEMPLATE:
    case BS_D_TEMPLATE_MISSING:
    case BS_D_RENDER:
      return EXIT_FAILURE_IO;
    default:
      break;
    }
  }
  return EXIT_INVALID;
}

static long long
S_epoch(void)
{
  const char *e = getenv("SOURCE_DATE_EPOCH");
  if (!e || !*e)
    return -1;
  char *end;
  long long v = strtoll(e, &end, 10);
  if (*end || v < 0)
    return -1;
  return v;
}

/* Run one source through the pipeline.  Returns the exit status. */
static int
S_process(const S_opts *o, const char *path, bool write_pdf)
{
  bs_document *doc = bs_parse_file(path, NULL, o->lang);
  bs_template *tpl = NULL;
  bs_fontset *fonts = NULL;
  if (doc->diags.errors == 0) {
    bs_normalize_options no = {o->normalize};
    bs_normalize(doc, &no);
    tpl = bs_template_load(o->tpl ? o->tpl : "gbt9704", &doc->diags);
    fonts = bs_fontset_new(o->fonts, &doc->diags);
  }
  bs_layout *lay = NULL;
  if (doc->diags.errors == 0 && tpl && fonts) {
    bs_layout_options lo = {tpl, fonts};
    lay = bs_layout_document(doc, &lo);
  }
  if (lay && o->dump) {
    FILE *f = strcmp(o->dump, "-") == 0 ? stdout : fopen(o->dump, "w");
    if (!f || bs_render_dump(lay, f) != 0)
      bs_diag(&doc->diags, BS_ERROR, BS_D_IO_WRITE, NULL, 0, 0, o->dump,
              strerror(errno ? errno : EIO));
    if (f && f != stdout)
      fclose(f);
  }
  if (lay && write_pdf && doc->diags.errors == 0) {
    bs_pdf_options po = {NULL, S_epoch()};
    bs_render_pdf(lay, o->output, &po);
  }
  bs_diags_print(&doc->diags, stderr);
  int st = S_status(&doc->diags);
  if (st == EXIT_OK && !lay)
    st = EXIT_FAILURE_IO;
  bs_fontset_free(fonts);
  bs_template_free(tpl);
  bs_document_free(doc);
  return st;
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
  bool render = strcmp(cmd, "render") == 0;
  bool validate = strcmp(cmd, "validate") == 0;
  if (!render && !validate) {
    fprintf(stderr, "banshi: unknown command '%s'\n", cmd);
    S_usage(stderr);
    return EXIT_USAGE;
  }
  S_opts o;
  memset(&o, 0, sizeof o);
  o.normalize = true;
  o.inputs = calloc((size_t)argc, sizeof(char *));
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    const char **slot = NULL;
    if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0)
      slot = &o.output;
    else if (strcmp(a, "--template") == 0)
      slot = &o.tpl;
    else if (strcmp(a, "--fonts") == 0)
      slot = &o.fonts;
    else if (strcmp(a, "--dump") == 0)
      slot = &o.dump;
    else if (strcmp(a, "--no-normalize") == 0) {
      o.normalize = false;
      continue;
    } else if (strcmp(a, "--lang") == 0) {
      if (i + 1 >= argc || (strcmp(argv[i + 1], "zh") != 0 &&
                            strcmp(argv[i + 1], "en") != 0)) {
        fprintf(stderr, "banshi: --lang takes zh or en\n");
        free(o.inputs);
        return EXIT_USAGE;
      }
      o.lang = strcmp(argv[++i], "en") == 0 ? BS_LANG_EN : BS_LANG_ZH;
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
  if (render) {
    if (o.ninputs != 1 || (!o.output && !o.dump)) {
      fprintf(stderr, "banshi: render takes one SOURCE and -o OUT.pdf\n");
      free(o.inputs);
      return EXIT_USAGE;
    }
    status = S_process(&o, o.inputs[0], o.output != NULL);
  } else {
    if (o.ninputs == 0) {
      fprintf(stderr, "banshi: validate takes at least one SOURCE\n");
      free(o.inputs);
      return EXIT_USAGE;
    }
    for (int i = 0; i < o.ninputs; i++) {
      int st = S_process(&o, o.inputs[i], false);
      if (st > status)
        status = st;
    }
  }
  free(o.inputs);
  bs_layout_cleanup();
  bs_parse_cleanup();
  return status;
}
