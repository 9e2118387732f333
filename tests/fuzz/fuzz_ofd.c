// SPDX-License-Identifier: Apache-2.0
/* fuzz_ofd.c - libFuzzer target: the OFD writer (render_ofd.c) behind the
 * whole job, on the documents fuzz_layout.c's grammar makes from the
 * input (its generator is reused as it is: this file includes
 * fuzz_layout.c with that target's entry points renamed).
 *
 * Input: as fuzz_layout.c's (one option byte, then the grammar's bytes or,
 * with option bit 3, a raw source); the output is always an OFD.
 *
 * Invariants besides the sanitizers': the status is 0, 1 or 3; the OFD
 * exists exactly when the status is 0; it is a ZIP package whose first
 * entry is OFD.xml, whose entries are relative and stay inside it and read
 * back with a matching CRC; every XML part is well-formed, in the OFD
 * namespace; every TextCode has X and Y and exactly one DeltaX entry fewer
 * than its characters ("g N d" counting N); no text of a local file
 * (FUZZ_CANARY) reaches a part; no temporary file is left behind. */
#define LLVMFuzzerTestOneInput S_layout_test_one
#define LLVMFuzzerInitialize S_layout_initialize
#include "fuzz_layout.c"
#undef LLVMFuzzerTestOneInput
#undef LLVMFuzzerInitialize

#include <libxml/parser.h>
#include <libxml/xmlreader.h>
#include <unzip.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bs_shared *S_ofd_shared[2]; /* by normalisation */

static void
S_free_ofd_shared(void)
{
  for (int i = 0; i < 2; i++)
    bs_shared_free(S_ofd_shared[i]);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  S_layout_initialize(argc, argv);
  for (int i = 0; i < 2; i++) {
    bs_job_options o;
    memset(&o, 0, sizeof o);
    o.normalize = i == 0;
    o.epoch = -1;
    o.ofd = true;
    S_ofd_shared[i] = bs_shared_new(&o);
  }
  atexit(S_free_ofd_shared);
  return 0;
}

/* Entries of DeltaX, "g N d" counting N; -1 when the list is malformed. */
static long
S_deltas(const char *s)
{
  long n = 0;
  while (*s) {
    while (*s == ' ')
      s++;
    if (!*s)
      break;
    if (s[0] == 'g' && s[1] == ' ') {
      char *end;
      long k = strtol(s + 2, &end, 10);
      if (end == s + 2 || k < 1 || *end != ' ')
        return -1;
      n += k;
      s = end + 1;
      strtod(s, &end);
      if (end == s)
        return -1;
      s = end;
    } else {
      char *end;
      strtod(s, &end);
      if (end == s)
        return -1;
      n++;
      s = end;
    }
  }
  return n;
}

/* One TextCode: X and Y, and one DeltaX entry fewer than its characters. */
static void
S_check_text_code(const char *name, xmlTextReaderPtr rd)
{
  xmlChar *x = xmlTextReaderGetAttribute(rd, BAD_CAST "X");
  xmlChar *y = xmlTextReaderGetAttribute(rd, BAD_CAST "Y");
  xmlChar *dx = xmlTextReaderGetAttribute(rd, BAD_CAST "DeltaX");
  xmlChar *text = xmlTextReaderReadString(rd);
  size_t chars = text ? bs_utf8_count(text, strlen((char *)text)) : 0;
  long d = dx ? S_deltas((const char *)dx) : 0;
  FUZZ_CHECK(x && y, "%s: TextCode without X or Y", name);
  FUZZ_CHECK(chars > 0 && d == (long)chars - 1,
             "%s: TextCode of %zu characters with %ld DeltaX entries", name,
             chars, d);
  xmlFree(x);
  xmlFree(y);
  xmlFree(dx);
  xmlFree(text);
}

#define S_OFD_NS "http://www.ofdspec.org/2016"

/* An XML part, read as a stream: building and freeing the tree of a page
 * of many thousand objects took four times as long as writing the whole
 * package (10 s of a 12 s replay for a 14 MB OFD, 1.2 s this way). */
static void
S_check_part(const char *name, const unsigned char *data, size_t len)
{
  fuzz_check_no_canary(name, data, len);
  xmlTextReaderPtr rd = xmlReaderForMemory(
      (const char *)data, (int)len, name, NULL,
      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  FUZZ_CHECK(rd, "%s: cannot read", name);
  bool seen_root = false;
  int r;
  while ((r = xmlTextReaderRead(rd)) == 1) {
    if (xmlTextReaderNodeType(rd) != XML_READER_TYPE_ELEMENT)
      continue;
    if (!seen_root) {
      const xmlChar *ns = xmlTextReaderConstNamespaceUri(rd);
      FUZZ_CHECK(ns && xmlStrcmp(ns, BAD_CAST S_OFD_NS) == 0,
                 "%s: root not in the OFD namespace", name);
      seen_root = true;
    }
    if (xmlStrcmp(xmlTextReaderConstLocalName(rd), BAD_CAST "TextCode") == 0)
      S_check_text_code(name, rd);
  }
  FUZZ_CHECK(r == 0 && seen_root, "%s is not well-formed XML", name);
  xmlFreeTextReader(rd);
}

static void
S_check_package(const char *path)
{
  unzFile z = unzOpen(path);
  FUZZ_CHECK(z, "%s is not a ZIP package", path);
  int r = unzGoToFirstFile(z);
  bool first = true;
  while (r == UNZ_OK) {
    char name[512];
    unz_file_info info;
    FUZZ_CHECK(unzGetCurrentFileInfo(z, &info, name, sizeof name, NULL, 0,
                                     NULL, 0) == UNZ_OK,
               "unreadable entry");
    FUZZ_CHECK(!first || strcmp(name, "OFD.xml") == 0,
               "first entry %s, not OFD.xml", name);
    FUZZ_CHECK(name[0] != '/' && !strstr(name, "..") && !strchr(name, '\\'),
               "entry outside the package: %s", name);
    first = false;
    FUZZ_CHECK(unzOpenCurrentFile(z) == UNZ_OK, "cannot open %s", name);
    unsigned char *buf = bs_xmalloc(info.uncompressed_size + 1);
    int got = unzReadCurrentFile(z, buf, (unsigned)info.uncompressed_size);
    FUZZ_CHECK(got == (int)info.uncompressed_size, "short entry %s", name);
    FUZZ_CHECK(unzCloseCurrentFile(z) == UNZ_OK, "bad CRC in %s", name);
    size_t nl = strlen(name);
    if (nl > 4 && strcmp(name + nl - 4, ".xml") == 0)
      S_check_part(name, buf, (size_t)got);
    free(buf);
    r = unzGoToNextFile(z);
  }
  FUZZ_CHECK(r == UNZ_END_OF_LIST_OF_FILE && !first, "damaged package");
  unzClose(z);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  uint8_t opt = data[0];
  const char *dir = fuzz_tmpdir();
  char src[256], ofd[256];
  snprintf(src, sizeof src, "%s/in.xml", dir);
  snprintf(ofd, sizeof ofd, "%s/out.ofd", dir);
  unlink(ofd);
  S_gen g;
  S_source(&g, data, size);
  fuzz_canary_arm(g.out.data, g.out.len);
  bool ok = S_write(src, g.out.data, g.out.len);
  bs_vec_free(&g.out);
  FUZZ_CHECK(ok, "cannot write %s", src);
  bs_job_result res;
  int st = bs_job_run(S_ofd_shared[(opt >> 1) & 1], src, ofd, NULL, NULL,
                      &res);
  FUZZ_CHECK(st == BS_STATUS_OK || st == BS_STATUS_INVALID ||
                 st == BS_STATUS_FAILURE,
             "status %d", st);
  if (S_verbose)
    printf("status %d, %d pages, %lld bytes\n%s", st, res.pages, res.bytes,
           res.diagnostics);
  fuzz_check_no_canary("a message", res.diagnostics,
                       strlen(res.diagnostics));
  bs_job_result_free(&res);
  struct stat sb;
  bool exists = stat(ofd, &sb) == 0;
  FUZZ_CHECK(exists == (st == BS_STATUS_OK), "status %d but the OFD %s", st,
             exists ? "exists" : "is missing");
  if (exists)
    S_check_package(ofd);
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
