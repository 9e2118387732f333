// SPDX-License-Identifier: Apache-2.0
/* Renderers on layouts that no source makes.
 *
 * ofd_glyph: a glyph that is not the one the font's cmap gives for its
 * character.  banshi's layout never draws one: each character is drawn
 * with its font's nominal glyph (bs_role_font_for, inline.c), variation
 * selectors are dropped, there is no shaping, and compressed punctuation
 * is set by position, not by alternate glyphs.  The OFD writer still
 * names such a glyph with a CGTransform (render_ofd.c), for fonts and
 * text that will need it; this test reaches that path by changing a laid
 * out glyph: 一 drawn with the glyph of 二, as a variant form would be.
 * The file is written to $BANSHI_UNIT_OFD when set (the ofd group then
 * checks it with tests/ofdcheck.py), else to a temporary file. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fonts.h"
#include "harness.h"
#include "layout.h"
#include "pipeline.h"
#include "render.h"
#include "template.h"

void test_ofd_glyph(test_state *st);

void
test_ofd_glyph(test_state *st)
{
  static const char src[] =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<document version=\"1\">"
      "<meta><title>变体</title><issuer>测试机关</issuer>"
      "<date>2021-01-05</date></meta><body><p>一二三一</p></body></document>";
  bs_document *doc = bs_parse_memory("variant.xml", (const unsigned char *)src,
                                     strlen(src), NULL, BS_LANG_EN);
  CHECK_INT(st, doc->diags.errors, 0);
  bs_template *tpl = bs_template_load("gbt9704", &doc->diags);
  bs_fontset *fonts = bs_fontset_new(NULL, &doc->diags);
  CHECK(st, tpl && fonts, "template or fonts not loaded");
  bs_layout *l = NULL;
  if (tpl && fonts) {
    bs_layout_options lo = {tpl, fonts};
    l = bs_layout_document(doc, &lo);
  }
  CHECK(st, l != NULL, "no layout");
  /* the body run holding 一二三一: its first 一 gets 二's glyph */
  int changed = 0;
  for (int pi = 0; l && pi < l->npages && !changed; pi++)
    for (size_t i = 0; i < l->pages[pi].n && !changed; i++) {
      bs_item *it = &l->pages[pi].items[i];
      if (it->type != BS_ITEM_RUN || it->as.run.n != 4 ||
          it->as.run.glyphs[0].cp != 0x4E00 ||
          it->as.run.glyphs[1].cp != 0x4E8C)
        continue;
      bs_glyph *g = it->as.run.glyphs;
      CHECK(st, g[0].gid == bs_font_glyph(it->as.run.font, 0x4E00),
            "layout drew a glyph other than the cmap's");
      g[0].gid = g[1].gid;
      changed = 1;
    }
  CHECK_INT(st, changed, 1);
  const char *out = getenv("BANSHI_UNIT_OFD");
  char tmp[] = "/tmp/banshi-unit-XXXXXX";
  int fd = -1;
  if (!out || !*out) {
    fd = mkstemp(tmp);
    out = tmp;
  }
  if (changed) {
    bs_ofd_options oo = {-1};
    CHECK_INT(st, bs_render_ofd(l, out, &oo), 0);
    CHECK(st, access(out, R_OK) == 0, "no file %s", out);
  }
  if (fd >= 0) {
    close(fd);
    unlink(tmp);
  }
  bs_document_free(doc);
  bs_fontset_free(fonts);
  bs_template_free(tpl);
}
