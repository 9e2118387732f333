// SPDX-License-Identifier: Apache-2.0
/* render.c - a program that uses the banshi library (include/banshi.h).
 *
 *   cc render.c $(pkg-config --cflags --libs banshi) -o render
 *   ./render SOURCE.xml... OUTDIR
 *
 * Loads the shared resources once, then for each source reads the file
 * into memory, typesets it from memory to memory, writes OUTDIR/N.pdf
 * itself, and prints every message with its location and rule id.  Exit
 * status: the worst status of the sources (0 when every PDF was written).
 * Built and run by the tests (tests/t_api.py). */
#include <stdio.h>
#include <stdlib.h>

#include <banshi.h>

static char *
slurp(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  size_t cap = 1 << 16, n = 0, got;
  char *buf = malloc(cap);
  while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      char *nb = realloc(buf, cap *= 2);
      if (!nb) {
        free(buf);
        buf = NULL;
      }
      buf = nb;
    }
  }
  fclose(f);
  *len = n;
  return buf;
}

int
main(int argc, char **argv)
{
  if (argc < 3) {
    fprintf(stderr, "usage: %s SOURCE.xml... OUTDIR\n", argv[0]);
    return 2;
  }
  printf("banshi %s\n", banshi_version());
  banshi_env *env = banshi_env_new();
  if (banshi_env_set(env, "lang", "en") != BANSHI_OK ||
      banshi_env_set(env, "epoch", "1700000000") != BANSHI_OK) {
    fprintf(stderr, "cannot set the options\n");
    return 2;
  }
  int worst = BANSHI_OK;
  for (int i = 1; i < argc - 1; i++) {
    size_t len = 0;
    char *xml = slurp(argv[i], &len);
    if (!xml) {
      perror(argv[i]);
      worst = BANSHI_FAILURE;
      continue;
    }
    banshi_result *r =
        banshi_render(env, argv[i], xml, len, NULL, BANSHI_PDF_IN_MEMORY);
    free(xml);
    for (size_t k = 0; k < banshi_result_count(r); k++) {
      const banshi_diagnostic *d = banshi_result_diagnostic(r, k);
      printf("%s:%u:%u: %s [%s] %s", d->file ? d->file : "-", d->line,
             d->column, d->severity, d->rule, d->message);
      for (size_t v = 0; v < d->nvalues; v++)
        printf("%s%s", v ? " | " : " {", d->values[v]);
      printf("%s\n", d->nvalues ? "}" : "");
    }
    size_t pdf_len = 0;
    const void *pdf = banshi_result_pdf(r, &pdf_len);
    if (pdf) {
      char out[4096];
      snprintf(out, sizeof out, "%s/%d.pdf", argv[argc - 1], i);
      FILE *f = fopen(out, "wb");
      if (!f || fwrite(pdf, 1, pdf_len, f) != pdf_len || fclose(f) != 0) {
        perror(out);
        worst = BANSHI_FAILURE;
      } else
        printf("%s: %d pages, %zu bytes -> %s\n", argv[i],
               banshi_result_pages(r), pdf_len, out);
    }
    if (banshi_result_status(r) > worst)
      worst = banshi_result_status(r);
    banshi_result_free(r);
  }
  banshi_env_free(env);
  banshi_cleanup();
  return worst;
}
