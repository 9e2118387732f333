// SPDX-License-Identifier: Apache-2.0
/* fuzz_parse.c - libFuzzer target: parse + validate + normalise.
 *
 * Input: one option byte, then the source file's bytes (any encoding, any
 * damage).  Option bits: 0 English messages, 1 normalisation off, 2 a small
 * size limit (4 KiB) instead of the default, 3 a report source as published
 * (its rules and prose checks warn; the cells are restored as written).  Besides the sanitizers'
 * findings, every located diagnostic must point into the source
 * (fuzz_check_locations), the document's memory stays within 16 times
 * the source plus 1 MiB, every message is one line of UTF-8, no text of
 * a local file may reach the tree or a message (fuzz.h, FUZZ_CANARY), and
 * printing the list must work. */
#include <string.h>

#include "fuzz.h"
#include "pipeline.h"
#include "util.h"

static FILE *S_null;
static char S_path[256];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  S_null = fopen("/dev/null", "w");
  /* the source "lives" beside the canary file, so relative references in
   * it would find that file */
  snprintf(S_path, sizeof S_path, "%s/fuzz.xml", fuzz_tmpdir());
  return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  uint8_t opt = data[0];
  bs_lang lang = opt & 1 ? BS_LANG_EN : BS_LANG_ZH;
  bs_parse_options po;
  memset(&po, 0, sizeof po);
  po.max_bytes = opt & 4 ? 4096 : 0;
  po.as_published = (opt & 8) != 0;
  fuzz_canary_arm(data, size);
  bs_document *doc =
      bs_parse_memory(S_path, data + 1, size - 1, &po, lang);
  fuzz_check_locations(doc);
  if (doc->diags.errors == 0) {
    /* a valid document has the parts the schema requires */
    FUZZ_CHECK(doc->meta.title && doc->meta.issuer && doc->body,
               "valid document without title, issuer or body");
    bs_normalize_options no = {!(opt & 2)};
    bs_normalize(doc, &no);
    fuzz_check_locations(doc);
    /* normalisation keeps every text valid UTF-8 of the stated length */
    for (bs_node *n = doc->body; n; n = bs_node_walk_next(n, doc->body))
      if (n->type == BS_NODE_TEXT) {
        const char *t = n->as.text.data;
        fuzz_check_no_canary("a text node", t, n->as.text.len);
        FUZZ_CHECK(strlen(t) == n->as.text.len, "text length %zu, stored %zu",
                   strlen(t), n->as.text.len);
        FUZZ_CHECK(bs_utf8_check((const unsigned char *)t, n->as.text.len) ==
                       n->as.text.len,
                   "normalised text is not UTF-8");
      }
  }
  /* memory stays proportional to the source: a quadratic copy (text split
   * by many comments once took gigabytes) shows as a large ratio */
  FUZZ_CHECK(doc->arena.total <= ((size_t)1 << 20) + 16 * size,
             "%zu bytes of memory for %zu bytes of source", doc->arena.total,
             size);
  const bs_diagnostic *d = doc->diags.items.data;
  for (size_t i = 0; i < doc->diags.items.len; i++) {
    size_t n = strlen(d[i].message);
    fuzz_check_no_canary("a message", d[i].message, n);
    FUZZ_CHECK(bs_utf8_check((const unsigned char *)d[i].message, n) == n,
               "a message is not UTF-8: %s", d[i].message);
    FUZZ_CHECK(!strchr(d[i].message, '\n') && !strchr(d[i].message, '\r'),
               "a message of several lines: %s", d[i].message);
  }
  if (doc->meta.title)
    fuzz_check_no_canary("the title", doc->meta.title, strlen(doc->meta.title));
  if (S_null)
    bs_diags_print(&doc->diags, S_null);
  bs_document_free(doc);
  return 0;
}
