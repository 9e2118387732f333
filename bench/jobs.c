// SPDX-License-Identifier: Apache-2.0
/* jobs.c - the benchmark's in-process batch: documents through the job API
 * (pipeline/job.h) in worker threads, with fonts and template loaded once
 * and shared, as `banshi batch` does.  bench.py uses `banshi batch` for
 * the batch row; this program is kept to measure the job API alone, without
 * batch's planning, log and process supervision.
 *
 *   jobs -j N OUTDIR SOURCE.xml...     writes OUTDIR/NAME.pdf per source
 *
 * Exit status: the worst job status (0 when every document was written). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "layout.h"
#include "pipeline.h"

typedef struct S_batch {
  bs_shared *sh;
  const char *outdir;
  char **srcs;
  int n;
  atomic_int next;
  atomic_int worst;
} S_batch;

static void *
S_worker(void *arg)
{
  S_batch *b = arg;
  char out[4096];
  for (int i; (i = atomic_fetch_add(&b->next, 1)) < b->n;) {
    const char *src = b->srcs[i];
    const char *base = strrchr(src, '/');
    base = base ? base + 1 : src;
    size_t len = strlen(base);
    if (len > 4 && strcmp(base + len - 4, ".xml") == 0)
      len -= 4;
    snprintf(out, sizeof out, "%s/%.*s.pdf", b->outdir, (int)len, base);
    bs_job_result res;
    int st = bs_job_run(b->sh, src, out, NULL, stderr, &res);
    bs_job_result_free(&res);
    int w = atomic_load(&b->worst);
    while (st > w && !atomic_compare_exchange_weak(&b->worst, &w, st))
      ;
  }
  return NULL;
}

int
main(int argc, char **argv)
{
  if (argc < 4 || strcmp(argv[1], "-j") != 0) {
    fprintf(stderr, "usage: jobs -j N OUTDIR SOURCE.xml...\n");
    return 2;
  }
  int nt = atoi(argv[2]);
  if (nt < 1)
    nt = 1;
  bs_job_options o;
  memset(&o, 0, sizeof o);
  o.normalize = true;
  o.epoch = -1;
  const char *e = getenv("SOURCE_DATE_EPOCH");
  if (e && *e)
    o.epoch = atoll(e);
  S_batch b = {bs_shared_new(&o), argv[3], argv + 4, argc - 4, 0, 0};
  pthread_t *t = calloc((size_t)nt, sizeof *t);
  for (int i = 0; i < nt; i++)
    pthread_create(&t[i], NULL, S_worker, &b);
  for (int i = 0; i < nt; i++)
    pthread_join(t[i], NULL);
  free(t);
  bs_shared_free(b.sh);
  bs_layout_cleanup();
  bs_parse_cleanup();
  return atomic_load(&b.worst);
}
