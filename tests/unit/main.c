// SPDX-License-Identifier: Apache-2.0
/* The unit test runner: `unit_tests NAME` runs one group, no argument all. */
#include <stdlib.h>

#include "harness.h"
#include "layout.h"
#include "pipeline.h"

void test_arena(test_state *st);
void test_utf8(test_state *st);
void test_lengths(test_state *st);
void test_diag(test_state *st);
void test_paths(test_state *st);
void test_parse(test_state *st);
void test_normalize(test_state *st);
void test_hostile(test_state *st);
void test_report(test_state *st);
void test_sha256(test_state *st);
void test_fingerprint(test_state *st);
void test_fsio(test_state *st);
void test_plan(test_state *st);
void test_shard(test_state *st);
void test_bagpath(test_state *st);
void test_fmt(test_state *st);
void test_ofd_glyph(test_state *st);
void test_cff_subset(test_state *st);
void test_cff_memo(test_state *st);
void test_percent(test_state *st);
void test_zpieces(test_state *st);
void test_recent(test_state *st);

static const struct {
  const char *name;
  test_fn fn;
} S_tests[] = {
    {"arena", test_arena},   {"utf8", test_utf8},   {"lengths", test_lengths},
    {"diag", test_diag},     {"parse", test_parse}, {"normalize", test_normalize},
    {"hostile", test_hostile}, {"paths", test_paths},
    {"report", test_report},
    {"sha256", test_sha256}, {"fingerprint", test_fingerprint},
    {"fsio", test_fsio},   {"plan", test_plan},
    {"shard", test_shard},   {"bagpath", test_bagpath}, {"fmt", test_fmt},
    {"ofd_glyph", test_ofd_glyph},
    {"cff_subset", test_cff_subset},
    {"cff_memo", test_cff_memo},
    {"percent", test_percent},
    {"zpieces", test_zpieces},
    {"recent", test_recent},
};

int
main(int argc, char **argv)
{
  test_state st = {0, 0};
  int matched = 0;
  for (size_t i = 0; i < sizeof S_tests / sizeof *S_tests; i++) {
    if (argc > 1 && strcmp(argv[1], S_tests[i].name) != 0)
      continue;
    matched++;
    S_tests[i].fn(&st);
  }
  bs_layout_cleanup();
  bs_parse_cleanup();
  if (!matched) {
    fprintf(stderr, "no test named %s\n", argc > 1 ? argv[1] : "");
    return 2;
  }
  printf("%d checks, %d failed\n", st.run, st.failed);
  return st.failed ? 1 : 0;
}
