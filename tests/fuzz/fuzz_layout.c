// SPDX-License-Identifier: Apache-2.0
/* fuzz_layout.c - libFuzzer target: the whole job (parse, normalise, lay
 * out, render) as bs_job_run() does it for the command line.
 *
 * Input: one option byte, then either a raw source (option bit 3) or bytes
 * that a small grammar turns into a valid document: paragraphs of Chinese,
 * Latin, digits, punctuation, spaces and format characters, nested
 * sections with run-in and unnumbered headings, lists, tables with spans,
 * column widths and header rows, page breaks, unbreakable words and
 * numbers, runs of many paragraphs.  Random bytes alone seldom make a
 * document that passes the schema, so without the grammar the layout code
 * would hardly be reached.  Option bits: 0 English messages, 1
 * normalisation off, 2 write a PDF (else the layout dump), 3 raw source,
 * 4 allow characters that no font has, 5 add the closing block, 6 a
 * tagged PDF (with bit 2).
 *
 * Invariants besides the sanitizers': the status is 0, 1 or 3; a PDF
 * exists exactly when the status is 0, starts with %PDF- and ends with
 * %%EOF, and has a structure tree and MarkInfo exactly when tagged; no
 * temporary file is left behind; every line of the messages is
 * a diagnostic of the source or of the program; no text of a local file
 * (FUZZ_CANARY) reaches the dump or a message.
 *
 * BANSHI_FUZZ_VERBOSE=1 prints each job's status and messages, =2 also the
 * source (for studying an input with the replay driver). */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "job.h"
#include "layout.h"
#include "pipeline.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* Document generator                                                   */

typedef struct S_gen {
  const uint8_t *p, *end;
  bs_vec out;       /* char */
  int sections;     /* open <section> elements */
  bool missing;     /* characters no font has are allowed */
} S_gen;

enum { S_MAX_OUT = 64 * 1024 };

static unsigned
S_byte(S_gen *g)
{
  return g->p < g->end ? *g->p++ : 0;
}

static bool
S_full(const S_gen *g)
{
  return g->out.len > S_MAX_OUT;
}

static void
S_put(S_gen *g, const char *s)
{
  size_t n = strlen(s);
  memcpy(bs_vec_reserve(&g->out, n), s, n);
  g->out.len += n;
}

/* Pieces of text, each a valid XML text fragment. */
static const char *const S_atoms[] = {
    "政", "府", "信息", "公开", "年度", "报告", "申请", "办理", "，", "。",
    "、", "；", "：", "！", "？", "“", "”", "‘", "’", "《", "》", "（", "）",
    "【", "】", "——", "……", "·", "2020", "年", "175", "3.5", "1,000",
    "10:30", "PDF/A-1b", "GB18030", "Word", "a", "x", " ", "  ", "\n    ",
    "\t", "&amp;", "&lt;", "&gt;", "&quot;", "&#x4E00;", "&#20013;",
    "<![CDATA[a<b]]>", "<!-- c -->", "<?pi x?>", "\xE2\x80\x8B" /* ZWSP */,
    "\xC2\xAD" /* soft hyphen */, "\xE3\x80\x80" /* ideographic space */,
    "\xC2\xA0" /* no-break space */, "\xE2\x81\xA0" /* word joiner */,
    ",", ".", ";", ":", "!", "?", "(", ")", "\"", "'", "/", "-", "%",
    "\xEF\xBC\xA1\xEF\xBC\x91" /* ＡＡ１ full-width */, "e\xCC\x81" /* e +
    combining acute (NFC) */, "\xE2\x84\x83" /* ℃ */, "\xE2\x91\xA0" /* ① */,
    "https://www.example.gov.cn/xxgk/ndbg/2020/report.html", "-- ",
    "\xE3\x80\x87" /* 〇 */, "\xEF\xBD\x9E" /* ～ */, "\xE2\x80\x94",
};
/* Characters that the default fonts lack: an emoji, a private-use
 * character, a Hangul syllable block character, a symbol. */
static const char *const S_missing[] = {
    "\xF0\x9F\x98\x80", "\xEE\x80\x80", "\xF0\xA0\x80\x80" /* CJK ext B */,
    "\xE2\x98\x83", "\xEF\xBF\xBD",
};

static void
S_text(S_gen *g, unsigned n)
{
  for (unsigned i = 0; i < n && !S_full(g); i++) {
    unsigned b = S_byte(g);
    if (g->missing && b == 255)
      S_put(g, S_missing[S_byte(g) % (sizeof S_missing / sizeof *S_missing)]);
    else
      S_put(g, S_atoms[b % (sizeof S_atoms / sizeof *S_atoms)]);
  }
}

/* Text with emphasis and forced breaks. */
static void
S_inline(S_gen *g)
{
  unsigned n = S_byte(g) % 8 + 1;
  for (unsigned i = 0; i < n && !S_full(g); i++) {
    unsigned b = S_byte(g);
    switch (b % 6) {
    case 0:
      S_put(g, "<em>");
      S_text(g, S_byte(g) % 16);
      S_put(g, "</em>");
      break;
    case 1:
      S_put(g, "<strong>");
      S_text(g, S_byte(g) % 16);
      S_put(g, "</strong>");
      break;
    case 2:
      S_put(g, "<br/>");
      break;
    default:
      S_text(g, S_byte(g) % 48);
      break;
    }
  }
}

/* A word or number with no break chance, up to 4,095 characters (longer
 * ones are the pathological tests' business: here they would only slow
 * the search down). */
static void
S_unbreakable(S_gen *g)
{
  static const char *const pieces[] = {"1", "a", "数", "——", "W", "/"};
  unsigned kind = S_byte(g) % 6;
  unsigned n = (S_byte(g) * 256 + S_byte(g)) % 4096;
  for (unsigned i = 0; i < n && !S_full(g); i++)
    S_put(g, pieces[kind]);
}

static void
S_attr_align(S_gen *g, unsigned b)
{
  static const char *const al[] = {"", " align=\"left\"", " align=\"center\"",
                                   " align=\"right\"", " align=\"justify\""};
  S_put(g, al[b % 5]);
}

static void
S_paragraph(S_gen *g)
{
  char buf[48];
  unsigned b = S_byte(g);
  S_put(g, "<p");
  S_attr_align(g, b);
  if (b & 0x80) {
    snprintf(buf, sizeof buf, " indent=\"%u\"", S_byte(g) % 21);
    S_put(g, buf);
  }
  S_put(g, ">");
  if (b & 0x40)
    S_unbreakable(g);
  else
    S_inline(g);
  S_put(g, "</p>\n");
}

static void
S_list(S_gen *g, int depth)
{
  unsigned b = S_byte(g);
  char buf[48];
  S_put(g, b & 1 ? "<list type=\"unordered\"" : "<list");
  if (b & 2) {
    snprintf(buf, sizeof buf, " start=\"%u\"", S_byte(g) * 40 + 1);
    S_put(g, buf);
  }
  S_put(g, ">");
  unsigned n = S_byte(g) % 6 + 1;
  for (unsigned i = 0; i < n && !S_full(g); i++) {
    S_put(g, "<item>");
    S_inline(g);
    if (depth < 6 && S_byte(g) % 4 == 0)
      S_list(g, depth + 1);
    S_put(g, "</item>");
  }
  S_put(g, "</list>\n");
}

static void
S_table(S_gen *g)
{
  char buf[96];
  unsigned b = S_byte(g);
  unsigned cols = b & 0x80 ? S_byte(g) % 220 + 1 : S_byte(g) % 8 + 1;
  unsigned rows = S_byte(g) % 40 + 1;
  S_put(g, "<table");
  if (b & 1) {
    static const char *const sz[] = {"五号", "小四", "8pt", "30pt", "0.5pt"};
    snprintf(buf, sizeof buf, " size=\"%s\"", sz[S_byte(g) % 5]);
    S_put(g, buf);
  }
  S_put(g, ">");
  if (b & 2) {
    S_put(g, "<caption>");
    S_inline(g);
    S_put(g, "</caption>");
  }
  if (b & 4) {
    static const char *const w[] = {"10%", "50%", "100%", "20mm", "0mm",
                                    "1pt", "300mm", "33.3%"};
    S_put(g, "<colgroup>");
    unsigned nc = S_byte(g) % (cols + 2) + 1;
    for (unsigned i = 0; i < nc; i++) {
      unsigned k = S_byte(g);
      if (k & 8)
        S_put(g, "<col/>");
      else {
        snprintf(buf, sizeof buf, "<col width=\"%s\"/>", w[k % 8]);
        S_put(g, buf);
      }
    }
    S_put(g, "</colgroup>");
  }
  for (int part = b & 8 ? 0 : 1; part < 2; part++) {
    S_put(g, part ? "<tbody>" : "<thead>");
    unsigned nr = part ? rows : S_byte(g) % 3 + 1;
    for (unsigned r = 0; r < nr && !S_full(g); r++) {
      S_put(g, "<tr>");
      unsigned nc = (S_byte(g) & 3) == 0 ? S_byte(g) % (cols + 1) + 1 : cols;
      for (unsigned c = 0; c < nc && !S_full(g); c++) {
        unsigned k = S_byte(g);
        S_put(g, k & 1 ? "<th" : "<td");
        if (k & 2) {
          unsigned span = k & 0x80 ? S_byte(g) * 4 % 1000 + 1
                                   : S_byte(g) % 4 + 1;
          snprintf(buf, sizeof buf, " colspan=\"%u\"", span);
          S_put(g, buf);
        }
        if (k & 4) {
          unsigned span = k & 0x40 ? S_byte(g) * 4 % 1000 + 1
                                   : S_byte(g) % 5 + 1;
          snprintf(buf, sizeof buf, " rowspan=\"%u\"", span);
          S_put(g, buf);
        }
        if (k & 8)
          S_attr_align(g, S_byte(g));
        if (k & 16) {
          static const char *const va[] = {" valign=\"top\"",
                                           " valign=\"middle\"",
                                           " valign=\"bottom\""};
          S_put(g, va[S_byte(g) % 3]);
        }
        S_put(g, ">");
        if (k & 32)
          S_unbreakable(g);
        else
          S_inline(g);
        S_put(g, k & 1 ? "</th>" : "</td>");
      }
      S_put(g, "</tr>\n");
    }
    S_put(g, part ? "</tbody>" : "</thead>");
  }
  S_put(g, "</table>\n");
}

static void
S_blocks(S_gen *g)
{
  while (g->p < g->end && !S_full(g)) {
    unsigned b = S_byte(g);
    switch (b % 11) {
    case 0:
    case 1:
      S_paragraph(g);
      break;
    case 2:
      if (g->sections < 12) {
        unsigned k = S_byte(g);
        S_put(g, "<section");
        if (k & 1)
          S_put(g, " runin=\"true\"");
        if (k & 2)
          S_put(g, " number=\"\"");
        else if (k & 4)
          S_put(g, " number=\"第一章\"");
        S_put(g, "><heading>");
        S_inline(g);
        S_put(g, "</heading>\n");
        g->sections++;
      }
      break;
    case 3:
      if (g->sections > 0) {
        S_put(g, "</section>\n");
        g->sections--;
      }
      break;
    case 4:
      S_table(g);
      break;
    case 5:
      S_list(g, 0);
      break;
    case 6:
      S_put(g, "<pagebreak/>\n");
      break;
    case 7: {
      /* many small paragraphs */
      unsigned n = S_byte(g) * 2 + 1;
      for (unsigned i = 0; i < n && !S_full(g); i++)
        S_put(g, "<p>段</p>\n");
      break;
    }
    case 8: {
      /* a paragraph filling most of a page: headings land at its foot */
      unsigned n = S_byte(g) * 4;
      S_put(g, "<p>");
      for (unsigned i = 0; i < n; i++)
        S_put(g, "满");
      S_put(g, "</p>\n");
      break;
    }
    default:
      S_paragraph(g);
      break;
    }
  }
  while (g->sections > 0) {
    S_put(g, "</section>\n");
    g->sections--;
  }
}

static void
S_generate(S_gen *g, bool closing)
{
  S_put(g, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
           "<document version=\"1\"><meta><title>标题");
  S_text(g, S_byte(g) % 24);
  S_put(g, "</title><issuer>机关");
  S_text(g, S_byte(g) % 8);
  S_put(g, "</issuer><date>2021-01-05</date>");
  if (S_byte(g) & 1) {
    S_put(g, "<keywords><keyword>年报");
    S_text(g, S_byte(g) % 4);
    S_put(g, "</keyword></keywords>");
  }
  S_put(g, "</meta>\n<body>\n");
  S_blocks(g);
  S_put(g, "</body>");
  if (closing) {
    S_put(g, "<closing><signature>机关");
    S_text(g, S_byte(g) % 30);
    S_put(g, "</signature><date>2021-12-31</date></closing>");
  }
  S_put(g, "</document>\n");
}

/* ------------------------------------------------------------------ */

static bs_shared *S_shared[8]; /* by language, normalisation, tagging */
static int S_verbose;          /* BANSHI_FUZZ_VERBOSE: 1 results, 2 sources */

static void
S_free_shared(void)
{
  for (int i = 0; i < 8; i++)
    bs_shared_free(S_shared[i]);
  bs_layout_cleanup();
  bs_parse_cleanup();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  const char *v = getenv("BANSHI_FUZZ_VERBOSE");
  S_verbose = v ? atoi(v) : 0;
  for (int i = 0; i < 8; i++) {
    bs_job_options o;
    memset(&o, 0, sizeof o);
    o.lang = i & 1 ? BS_LANG_EN : BS_LANG_ZH;
    o.normalize = !(i & 2);
    o.tagged = i & 4;
    o.epoch = -1;
    S_shared[i] = bs_shared_new(&o);
  }
  atexit(S_free_shared);
  return 0;
}

static bool
S_write(const char *path, const void *data, size_t n)
{
  FILE *f = fopen(path, "wb");
  if (!f)
    return false;
  bool ok = n == 0 || fwrite(data, 1, n, f) == n; /* data may be NULL */
  return fclose(f) == 0 && ok;
}

/* The source an input makes (option bit 3: its bytes as they are, else
 * the grammar's document), in g->out. */
static void
S_source(S_gen *g, const uint8_t *data, size_t size)
{
  uint8_t opt = data[0];
  memset(g, 0, sizeof *g);
  g->out.esize = 1;
  if (opt & 8) {
    /* an empty source has no bytes to copy (and no buffer to copy to) */
    if (size > 1)
      memcpy(bs_vec_reserve(&g->out, size - 1), data + 1, size - 1);
    g->out.len = size - 1;
  } else {
    g->p = data + 1;
    g->end = data + size;
    g->missing = opt & 16;
    S_generate(g, opt & 32);
  }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  uint8_t opt = data[0];
  const char *dir = fuzz_tmpdir();
  char src[256], pdf[256], dump[256];
  snprintf(src, sizeof src, "%s/in.xml", dir);
  snprintf(pdf, sizeof pdf, "%s/out.pdf", dir);
  snprintf(dump, sizeof dump, "%s/out.dump", dir);
  unlink(pdf);
  unlink(dump);
  S_gen g;
  S_source(&g, data, size);
  if (S_verbose > 1)
    fwrite(g.out.data, 1, g.out.len, stdout);
  fuzz_canary_arm(g.out.data, g.out.len);
  bool ok = S_write(src, g.out.data, g.out.len);
  bs_vec_free(&g.out);
  FUZZ_CHECK(ok, "cannot write %s", src);

  bool want_pdf = opt & 4;
  bool tagged = want_pdf && (opt & 64);
  bs_job_result res;
  int st = bs_job_run(S_shared[(opt & 3) | (tagged ? 4 : 0)], src,
                      want_pdf ? pdf : NULL, want_pdf ? NULL : dump, NULL,
                      &res);
  FUZZ_CHECK(st == BS_STATUS_OK || st == BS_STATUS_INVALID ||
                 st == BS_STATUS_FAILURE,
             "status %d", st);
  if (S_verbose)
    printf("status %d, %d pages, %lld bytes\n%s", st, res.pages, res.bytes,
           res.diagnostics);
  fuzz_check_no_canary("a message", res.diagnostics,
                       strlen(res.diagnostics));
  /* one diagnostic a line, each naming the source or the program */
  for (const char *l = res.diagnostics; *l;) {
    const char *e = strchr(l, '\n');
    FUZZ_CHECK(e && (strncmp(l, src, strlen(src)) == 0 ||
                     strncmp(l, "banshi: ", 8) == 0),
               "a message line that is not a diagnostic: %.200s", l);
    l = e + 1;
  }
  if (want_pdf) {
    struct stat sb;
    bool exists = stat(pdf, &sb) == 0;
    FUZZ_CHECK(exists == (st == BS_STATUS_OK), "status %d but the PDF %s",
               st, exists ? "exists" : "is missing");
    if (exists) {
      size_t n = 0;
      unsigned char *b = bs_read_file(pdf, 0, &n);
      FUZZ_CHECK(b && n > 16 && memcmp(b, "%PDF-1.4", 8) == 0 &&
                     memmem(b + n - 7, 7, "%%EOF", 5),
                 "the PDF is incomplete (%zu bytes)", n);
      /* dictionaries are not compressed: the catalog's keys show */
      FUZZ_CHECK(b && !memmem(b, n, "/StructTreeRoot", 15) == !tagged &&
                     !memmem(b, n, "/MarkInfo", 9) == !tagged,
                 "tagged %d but the structure tree is %s", tagged,
                 tagged ? "missing" : "there");
      free(b);
    }
  } else if (st == BS_STATUS_OK) {
    size_t n = 0;
    unsigned char *b = bs_read_file(dump, 0, &n);
    FUZZ_CHECK(b, "no layout dump");
    fuzz_check_no_canary("the layout", b, n);
    free(b);
  }
  bs_job_result_free(&res);
  /* no temporary file is left in the folder */
  DIR *dh = opendir(dir);
  FUZZ_CHECK(dh, "cannot list %s", dir);
  for (struct dirent *e; (e = readdir(dh)) != NULL;) {
    size_t n = strlen(e->d_name);
    FUZZ_CHECK(n < 4 || strcmp(e->d_name + n - 4, ".tmp") != 0,
               "temporary file left: %s", e->d_name);
  }
  closedir(dh);
  return 0;
}
