// SPDX-License-Identifier: Apache-2.0
/* Unit tests of the core helpers: arena, UTF-8, lengths, diagnostics. */
#include <stdlib.h>

#include "arena.h"
#include "diag.h"
#include "harness.h"
#include "util.h"

void test_arena(test_state *st);
void test_utf8(test_state *st);
void test_lengths(test_state *st);
void test_diag(test_state *st);
void test_paths(test_state *st);
void test_percent(test_state *st);

void
test_arena(test_state *st)
{
  bs_arena a;
  bs_arena_init(&a);
  char *p = bs_arena_alloc(&a, 10);
  CHECK(st, p != NULL, "allocation");
  CHECK(st, ((uintptr_t)p % _Alignof(max_align_t)) == 0, "alignment");
  CHECK(st, p[0] == 0 && p[9] == 0, "zero-filled");
  /* growing the last allocation keeps its content */
  memcpy(p, "abcdefghi", 10);
  char *q = bs_arena_realloc(&a, p, 10, 100000);
  CHECK_STR(st, q, "abcdefghi");
  /* many small allocations across blocks */
  for (int i = 0; i < 100000; i++) {
    int *x = bs_arena_alloc(&a, sizeof(int));
    *x = i;
  }
  CHECK_STR(st, bs_arena_printf(&a, "%d-%s", 42, "x"), "42-x");
  CHECK_STR(st, bs_arena_strndup(&a, "hello", 3), "hel");
  bs_arena_free(&a);
  CHECK(st, a.head == NULL, "freed");

  bs_vec v = BS_VEC_INIT(int);
  for (int i = 0; i < 1000; i++)
    bs_vec_push(&v, &i);
  CHECK_INT(st, v.len, 1000);
  CHECK_INT(st, ((int *)v.data)[999], 999);
  bs_vec_free(&v);
}

void
test_utf8(test_state *st)
{
  uint32_t cp;
  CHECK_INT(st, bs_utf8_decode((const unsigned char *)"A", 1, &cp), 1);
  CHECK_INT(st, cp, 'A');
  CHECK_INT(st, bs_utf8_decode((const unsigned char *)"\xE4\xB8\x80", 3, &cp),
            3);
  CHECK_INT(st, cp, 0x4E00);
  CHECK_INT(st, bs_utf8_decode((const unsigned char *)"\xF0\xA0\x80\x8B", 4,
                               &cp),
            4);
  CHECK_INT(st, cp, 0x2000B);
  /* overlong, surrogate, truncated */
  CHECK_INT(st, bs_utf8_decode((const unsigned char *)"\xC0\x80", 2, &cp), 0);
  CHECK_INT(st, bs_utf8_decode((const unsigned char *)"\xED\xA0\x80", 3, &cp),
            0);
  CHECK_INT(st, bs_utf8_decode((const unsigned char *)"\xE4\xB8", 2, &cp), 0);
  CHECK_INT(st, bs_utf8_check((const unsigned char *)"ab\xE4\xB8\x80\xFF", 6),
            5);
  CHECK_INT(st, bs_utf8_count((const unsigned char *)"a\xE4\xB8\x80z", 5), 3);
  /* the word-at-a-time paths (8-byte words, blocks of 255 words) against
   * a byte loop, at every length and alignment up to 4,100 bytes */
  {
    static unsigned char buf[4200];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
      x = x * 1103515245u + 12345u;
      unsigned r = x >> 16;
      static const unsigned char han[3] = {0xE4, 0xB8, 0x80}; /* 一 */
      switch (i / 50 % 3) {
      case 0: /* ASCII */
        buf[i] = (unsigned char)('a' + r % 26);
        break;
      case 1: /* three-byte characters */
        buf[i] = han[i % 3];
        break;
      default: /* anything */
        buf[i] = (unsigned char)(i % 3 == 0 ? r
                                 : (r & 1) ? 0x80 | (r & 0x3F)
                                           : r & 0x7F);
      }
    }
    bool same = true;
    for (size_t off = 0; off < 8; off++)
      for (size_t n = 0; n + off <= 4100 && same; n += n < 80 ? 1 : 37) {
        size_t want = 0, chk = n;
        for (size_t i = 0; i < n; i++)
          want += (buf[off + i] & 0xC0) != 0x80;
        for (size_t i = 0; i < n; i++) {
          uint32_t c;
          int l = buf[off + i] < 0x80 ? 1
                                      : bs_utf8_decode(buf + off + i,
                                                       n - i, &c);
          if (l == 0) {
            chk = i;
            break;
          }
          i += (size_t)l - 1;
        }
        same = bs_utf8_count(buf + off, n) == want &&
               bs_utf8_check(buf + off, n) == chk;
      }
    CHECK(st, same, "utf8 count and check by words = by bytes");
  }
  char out[5];
  CHECK_INT(st, bs_utf8_encode(0x2000B, out), 4);
  CHECK(st, memcmp(out, "\xF0\xA0\x80\x8B", 4) == 0, "encode non-BMP");
}

void
test_lengths(test_state *st)
{
  char buf[32];
  bs_fmt_mpt(12500, buf);
  CHECK_STR(st, buf, "12.5");
  bs_fmt_mpt(-3000, buf);
  CHECK_STR(st, buf, "-3");
  bs_fmt_mpt(1, buf);
  CHECK_STR(st, buf, "0.001");
  int32_t v;
  bool pct;
  CHECK(st, bs_parse_length("10mm", false, &v, &pct), "mm");
  CHECK_INT(st, v, 28346);
  CHECK(st, bs_parse_length("40%", true, &v, &pct) && pct, "percent");
  CHECK_INT(st, v, 40000);
  CHECK(st, !bs_parse_length("40%", false, &v, &pct), "percent refused");
  CHECK(st, !bs_parse_length("12 furlongs", false, &v, &pct), "bad unit");
  CHECK(st, bs_parse_font_size("三号", &v), "三号");
  CHECK_INT(st, v, 16000);
  CHECK(st, bs_parse_font_size("五号", &v), "五号");
  CHECK_INT(st, v, 10500);
  CHECK(st, bs_parse_font_size("10.5pt", &v), "10.5pt");
  CHECK_INT(st, v, 10500);
  CHECK(st, !bs_parse_font_size("十号", &v), "unknown size name");
}

/* The one path join (arena and malloc'd forms) and the data folder table. */
void
test_paths(test_state *st)
{
  bs_arena a;
  bs_arena_init(&a);
  CHECK_STR(st, bs_path_join(&a, "a/b", "c.xml"), "a/b/c.xml");
  CHECK_STR(st, bs_path_join(&a, "a/b/", "c.xml"), "a/b/c.xml");
  CHECK_STR(st, bs_path_join(&a, "a", "/abs/c.xml"), "/abs/c.xml");
  CHECK_STR(st, bs_path_join(&a, "", "c.xml"), "c.xml");
  CHECK_STR(st, bs_path_join(&a, "/", "c.xml"), "/c.xml");
  char *m = bs_path_join_new("types/", "type.xml");
  CHECK_STR(st, m, "types/type.xml");
  free(m);
  m = bs_path_join_new("types", "/etc/x");
  CHECK_STR(st, m, "/etc/x");
  free(m);
  CHECK_STR(st, bs_data_folder_name(BS_DATA_SCHEMAS), "schemas");
  CHECK_STR(st, bs_data_folder_name(BS_DATA_COLLATION), "collation");
  CHECK_STR(st, bs_data_folder_name(BS_DATA_COUNT), "");
  const char *d = bs_data_dir();
  CHECK_STR(st, bs_data_path(&a, BS_DATA_FONTS, "default.map"),
            bs_arena_printf(&a, "%s/fonts/default.map", d));
  CHECK_STR(st, bs_data_path(&a, BS_DATA_TEMPLATES, ""),
            bs_arena_printf(&a, "%s/templates", d));
  CHECK(st, bs_file_readable(bs_data_path(&a, BS_DATA_SCHEMAS,
                                          "template.xsd")),
        "schemas/template.xsd in the data folder");
  bs_arena_free(&a);
}

void
test_diag(test_state *st)
{
  bs_arena a;
  bs_arena_init(&a);
  bs_diags d;
  bs_diags_init(&d, &a, BS_LANG_EN);
  bs_diag(&d, BS_WARNING, BS_D_NORM_WIDTH, "b.xml", 3, 4, "Ａ", "A");
  bs_diag(&d, BS_ERROR, BS_D_SCHEMA, "b.xml", 2, 0, "bad");
  bs_diag(&d, BS_ERROR, BS_D_SCHEMA, "a.xml", 9, 1, "first file");
  CHECK_INT(st, d.errors, 2);
  CHECK_INT(st, d.warnings, 1);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  CHECK_INT(st, bs_diags_print(&d, f), 2);
  fclose(f);
  CHECK_STR(st, buf,
            "a.xml:9:1: error: schema: first file\n"
            "b.xml:2: error: schema: bad\n"
            "b.xml:3:4: warning: full-width letter or digit 'Ａ' became 'A'\n");
  free(buf);
  /* the cap on one kind of message */
  d.max_per_code = 2;
  for (int i = 0; i < 5; i++)
    bs_diag(&d, BS_WARNING, BS_D_NORM_SPACE, "c.xml", 1, 1, "x");
  CHECK_INT(st, d.items.len, 5); /* 3 earlier + 2 kept */
  bs_diags_free(&d);
  bs_arena_free(&a);
}

/* One percent-encoder for stamps, bag manifests and messages: each set
 * encodes '%' and its own characters, and the decoder undoes any of them. */
void
test_percent(test_state *st)
{
  const char raw[] = "a%b\nc\rd\te\x7F 文件";
  char *lines = bs_pct_encode(raw, strlen(raw), BS_PCT_LINE_BREAKS);
  CHECK_STR(st, lines, "a%25b%0Ac%0Dd\te\x7F 文件");
  char *ctl = bs_pct_encode(raw, strlen(raw), BS_PCT_CONTROLS);
  CHECK_STR(st, ctl, "a%25b%0Ac%0Dd%09e%7F 文件");
  char *none = bs_pct_encode(raw, 3, 0); /* only n bytes, '%' always */
  CHECK_STR(st, none, "a%25b");
  CHECK(st, bs_pct_decode(lines) && strcmp(lines, raw) == 0, "lines back");
  CHECK(st, bs_pct_decode(ctl) && strcmp(ctl, raw) == 0, "controls back");
  char lower[] = "%e6%96%87";
  CHECK(st, bs_pct_decode(lower) && strcmp(lower, "文") == 0, "lower case");
  char bad1[] = "x%zz", bad2[] = "x%2", bad3[] = "x%00y", bad4[] = "%";
  CHECK(st, !bs_pct_decode(bad1), "malformed escape");
  CHECK(st, !bs_pct_decode(bad2), "short escape");
  CHECK(st, !bs_pct_decode(bad3), "NUL refused");
  CHECK(st, !bs_pct_decode(bad4), "lone percent");
  CHECK(st, bs_hex_value('f') == 15 && bs_hex_value('F') == 15 &&
                bs_hex_value('0') == 0 && bs_hex_value('g') < 0,
        "hex digits");
  free(lines);
  free(ctl);
  free(none);
}
