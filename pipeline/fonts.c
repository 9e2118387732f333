// SPDX-License-Identifier: Apache-2.0
/* fonts.c - font map, font files, metrics; see fonts.h.
 * Layer 6 (fonts, template, image): docs/architecture.md. */
#include "fsio.h"
#include "fonts.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hb-ot.h>

#include "util.h"

typedef struct S_entry {
  char *spec;     /* file name or path, as written */
  unsigned index; /* face index after '#' */
  bool optional;  /* written with a trailing '?': skip quietly if absent */
} S_entry;

typedef struct S_rolespec {
  char *name;
  S_entry *entries;
  int n;
  char *map_dir; /* folder of the map that defined it */
  bs_role role;
} S_rolespec;

typedef struct S_dirindex S_dirindex;

struct bs_fontset {
  pthread_mutex_t lock;
  S_rolespec *roles;
  int nroles;
  bs_font **fonts; /* distinct fonts opened */
  int nfonts;
  S_dirindex *dirs; /* bs_font_dirs() listed, built on first use */
  int ndirs;
  bs_zpieces *programs; /* deflated pieces of the fonts' subset programs */
};

/* ------------------------------------------------------------------ */

static char *S_dirs[16];
static bs_arena S_dirs_arena;

static void
S_dirs_init(void)
{
  int n = 0;
  bs_arena_init(&S_dirs_arena);
  const char *env = getenv("BANSHI_FONT_PATH");
  if (env && *env) {
    const char *s = env;
    while (*s && n < 8) {
      const char *e = strchr(s, ':');
      size_t len = e ? (size_t)(e - s) : strlen(s);
      if (len)
        S_dirs[n++] = bs_arena_strndup(&S_dirs_arena, s, len);
      s = e ? e + 1 : s + len;
    }
  }
  const char *home = getenv("HOME");
  if (home && *home) {
    S_dirs[n++] = bs_arena_printf(&S_dirs_arena, "%s/.local/share/fonts", home);
    S_dirs[n++] = bs_arena_printf(&S_dirs_arena, "%s/.fonts", home);
  }
  S_dirs[n++] = "/usr/local/share/fonts";
  S_dirs[n++] = "/usr/share/fonts";
  S_dirs[n] = NULL;
}

const char *const *
bs_font_dirs(void)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, S_dirs_init);
  return (const char *const *)S_dirs;
}

/* Font folders are searched for files named in the map, each folder to a
 * depth of 4, entries in sorted order so that the result does not depend on
 * the file system's order; a folder's own files come before those of its
 * subfolders.  A map names a handful of files, several roles name the same
 * ones, and a system font folder holds hundreds of entries: searching it
 * once per map entry cost thousands of stat calls per process (a quarter of
 * the time of a one-document run).  So each folder is listed once, into an
 * index of (name, path) in search order, and every lookup reads the index.
 * The type of an entry comes from readdir when the file system gives it,
 * from stat otherwise (symbolic links, old file systems). */
struct S_dirindex {
  char *root;   /* folder listed */
  char **names; /* file names, in search order */
  char **paths; /* their paths */
  size_t n, cap;
  bool listed;  /* walked already */
};

static bool
S_entry_is_dir(const char *path, const struct dirent *de)
{
  if (de->d_type == DT_DIR)
    return true;
  if (de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
    return false;
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void
S_index_walk(S_dirindex *ix, const char *dir, int depth)
{
  struct dirent **list = NULL;
  int n = scandir(dir, &list, NULL, alphasort);
  if (n < 0)
    return;
  char path[4096];
  bool *sub = bs_xcalloc((size_t)n + 1, sizeof *sub);
  for (int i = 0; i < n; i++) {
    const char *d = list[i]->d_name;
    if (strcmp(d, ".") == 0 || strcmp(d, "..") == 0)
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, d);
    if (S_entry_is_dir(path, list[i])) {
      sub[i] = d[0] != '.';
      continue;
    }
    if (ix->n == ix->cap) {
      ix->cap = ix->cap ? 2 * ix->cap : 64;
      ix->names = bs_xrealloc(ix->names, ix->cap * sizeof *ix->names);
      ix->paths = bs_xrealloc(ix->paths, ix->cap * sizeof *ix->paths);
    }
    ix->names[ix->n] = strdup(d);
    ix->paths[ix->n] = strdup(path);
    ix->n++;
  }
  for (int i = 0; i < n; i++) {
    if (sub[i] && depth > 0) {
      snprintf(path, sizeof path, "%s/%s", dir, list[i]->d_name);
      S_index_walk(ix, path, depth - 1);
    }
    free(list[i]);
  }
  free(sub);
  free(list);
}

static void
S_index_free(S_dirindex *ix)
{
  for (size_t i = 0; i < ix->n; i++) {
    free(ix->names[i]);
    free(ix->paths[i]);
  }
  free(ix->names);
  free(ix->paths);
  free(ix->root);
}

/* The first readable file called `name` in the index (malloc'd), or NULL. */
static char *
S_index_find(const S_dirindex *ix, const char *name)
{
  for (size_t i = 0; i < ix->n; i++)
    if (strcmp(ix->names[i], name) == 0 && bs_file_readable(ix->paths[i]))
      return strdup(ix->paths[i]);
  return NULL;
}

/* ------------------------------------------------------------------ */
/* Map parsing                                                          */

static char *
S_trim(char *s)
{
  while (*s == ' ' || *s == '\t')
    s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
               s[n - 1] == '\n'))
    s[--n] = '\0';
  return s;
}

static S_rolespec *
S_find_role(bs_fontset *fs, const char *name)
{
  for (int i = 0; i < fs->nroles; i++)
    if (strcmp(fs->roles[i].name, name) == 0)
      return &fs->roles[i];
  return NULL;
}

static bool
S_load_map(bs_fontset *fs, const char *path, bs_diags *diags)
{
  size_t len;
  unsigned char *buf = bs_read_file(path, 1 << 20, &len);
  if (!buf) {
    bs_diag(diags, BS_ERROR, BS_D_IO_READ, path, 0, 0, path,
            bs_io_strerror(errno, diags->lang));
    return false;
  }
  char *dir;
  {
    const char *sl = strrchr(path, '/');
    dir = sl ? strndup(path, (size_t)(sl - path)) : strdup(".");
  }
  bool ok = true;
  unsigned lineno = 0;
  /* Lines are split by hand, not with strtok_r, which would skip blank
     lines and so number the lines after them wrongly. */
  char *next = (char *)buf;
  while (next) {
    char *line = next;
    next = strchr(line, '\n');
    if (next)
      *next++ = '\0';
    lineno++;
    char *s = S_trim(line);
    if (!*s || *s == '#')
      continue;
    char *eq = strchr(s, '=');
    if (!eq) {
      bs_diag_text(diags, BS_ERROR, BS_D_FONT_MAP, path, lineno, 0,
                   diags->lang == BS_LANG_EN
                       ? "expected 'role = font, fallback…'"
                       : "应为“角色 = 字体, 后备字体…”");
      ok = false;
      continue;
    }
    *eq = '\0';
    char *name = S_trim(s);
    char *rhs = S_trim(eq + 1);
    if (!*name || !*rhs) {
      bs_diag_text(diags, BS_ERROR, BS_D_FONT_MAP, path, lineno, 0,
                   diags->lang == BS_LANG_EN ? "empty role or font list"
                                             : "角色名或字体列表为空");
      ok = false;
      continue;
    }
    S_rolespec *r = S_find_role(fs, name);
    if (r) {
      /* A later map replaces the role entirely. */
      for (int i = 0; i < r->n; i++)
        free(r->entries[i].spec);
      free(r->entries);
      free(r->map_dir);
    } else {
      fs->roles = bs_xrealloc(fs->roles, (size_t)(fs->nroles + 1) *
                                             sizeof *fs->roles);
      r = &fs->roles[fs->nroles++];
      memset(r, 0, sizeof *r);
      r->name = strdup(name);
    }
    r->entries = NULL;
    r->n = 0;
    r->map_dir = strdup(dir);
    char *save2 = NULL;
    for (char *tok = strtok_r(rhs, ",", &save2); tok;
         tok = strtok_r(NULL, ",", &save2)) {
      char *t = S_trim(tok);
      if (!*t)
        continue;
      S_entry e = {0};
      size_t tl = strlen(t);
      if (t[tl - 1] == '?') {
        e.optional = true;
        t[--tl] = '\0';
        t = S_trim(t);
      }
      char *hash = strrchr(t, '#');
      if (hash) {
        char *end;
        unsigned long idx = strtoul(hash + 1, &end, 10);
        if (end == hash + 1 || *end || idx > 255) {
          bs_diag_text(diags, BS_ERROR, BS_D_FONT_MAP, path, lineno, 0,
                       diags->lang == BS_LANG_EN
                           ? "bad face index in '%s'"
                           : "“%s”中的字体序号无效",
                       t);
          ok = false;
          continue;
        }
        *hash = '\0';
        e.index = (unsigned)idx;
      }
      e.spec = strdup(S_trim(t));
      r->entries = bs_xrealloc(r->entries, (size_t)(r->n + 1) *
                                               sizeof *r->entries);
      r->entries[r->n++] = e;
    }
  }
  free(dir);
  free(buf);
  return ok;
}

/* ------------------------------------------------------------------ */
/* Font files                                                           */

static int16_t
S_i16(const uint8_t *p)
{
  return (int16_t)((p[0] << 8) | p[1]);
}

static int
S_to1000(const bs_font *f, int v)
{
  long long x = (long long)v * 1000;
  return (int)(x >= 0 ? (x + f->upem / 2) / f->upem
                      : -((-x + f->upem / 2) / f->upem));
}

/* Sizes of the tables of bs_font's glyph_memo and adv_memo (powers of
 * two): a document uses a few hundred to a few thousand characters. */
enum { S_GLYPH_MEMO = 8192, S_ADV_MEMO = 4096 };

/* The entries are read and written whole with relaxed atomics: threads
 * that share a font may race to fill an entry, and each writes what
 * HarfBuzz gives for its key, so any entry read is right for its key. */
static inline uint64_t
S_memo_get(const uint64_t *m, size_t i)
{
  return __atomic_load_n(&m[i], __ATOMIC_RELAXED);
}

static inline void
S_memo_put(uint64_t *m, size_t i, uint64_t v)
{
  __atomic_store_n(&m[i], v, __ATOMIC_RELAXED);
}

/* The table at *slot of n entries, made zeroed on first use: a font of a
 * role's chain that no character falls back to (most fallbacks) never
 * touches the 96 KB of its two tables.  Threads that race to make it keep
 * the first one made.  NULL when memory ran out (the caller then asks
 * HarfBuzz each time). */
static uint64_t *
S_memo_table(uint64_t *const *slot, size_t n)
{
  uint64_t **s = (uint64_t **)slot;
  uint64_t *m = __atomic_load_n(s, __ATOMIC_ACQUIRE);
  if (m)
    return m;
  uint64_t *fresh = calloc(n, sizeof *fresh);
  if (!fresh)
    return NULL;
  if (__atomic_compare_exchange_n(s, &m, fresh, false, __ATOMIC_ACQ_REL,
                                  __ATOMIC_ACQUIRE))
    return fresh;
  free(fresh);
  return m;
}

static unsigned
S_glyph(const bs_font *f, uint32_t cp)
{
  hb_codepoint_t g = 0;
  if (!hb_font_get_nominal_glyph(f->hbfont, cp, &g))
    return 0;
  return g;
}

unsigned
bs_font_glyph(const bs_font *f, uint32_t cp)
{
  uint64_t *memo = cp > 0x10FFFF ? NULL
                                 : S_memo_table(&f->glyph_memo, S_GLYPH_MEMO);
  if (!memo)
    return S_glyph(f, cp);
  size_t i = cp & (S_GLYPH_MEMO - 1);
  uint64_t e = S_memo_get(memo, i);
  if ((uint32_t)(e >> 32) == cp + 1)
    return (unsigned)(uint32_t)e;
  unsigned g = S_glyph(f, cp);
  S_memo_put(memo, i, (uint64_t)(cp + 1) << 32 | (uint32_t)g);
  return g;
}

bool
bs_font_glyph_ink(const bs_font *f, unsigned gid, bs_glyph_ink *ink)
{
  hb_glyph_extents_t e;
  memset(ink, 0, sizeof *ink);
  if (!hb_font_get_glyph_extents(f->hbfont, gid, &e))
    return false;
  ink->x_bearing = e.x_bearing;
  ink->y_bearing = e.y_bearing;
  ink->width = e.width;
  ink->height = e.height;
  ink->advance = hb_font_get_glyph_h_advance(f->hbfont, gid);
  return true;
}

int
bs_font_advance(const bs_font *f, unsigned gid)
{
  uint64_t *memo = gid > 0xFFFFFF ? NULL
                                   : S_memo_table(&f->adv_memo, S_ADV_MEMO);
  if (!memo) {
    hb_position_t a = hb_font_get_glyph_h_advance(f->hbfont, gid);
    return S_to1000(f, a);
  }
  size_t i = gid & (S_ADV_MEMO - 1);
  uint64_t e = S_memo_get(memo, i);
  if ((uint32_t)(e >> 32) == gid + 1)
    return (int)(int32_t)(uint32_t)e;
  hb_position_t a = hb_font_get_glyph_h_advance(f->hbfont, gid);
  int w = S_to1000(f, a);
  S_memo_put(memo, i,
             (uint64_t)(gid + 1) << 32 | (uint32_t)(int32_t)w);
  return w;
}

static void
S_font_free(bs_font *f)
{
  if (!f)
    return;
  if (f->hbfont)
    hb_font_destroy(f->hbfont);
  if (f->face)
    hb_face_destroy(f->face);
  if (f->blob)
    hb_blob_destroy(f->blob);
  bs_memo_free(f->cff_glyphs);
  bs_recent_free(f->embeds);
  free(f->glyph_memo);
  free(f->adv_memo);
  if (f->fd >= 0)
    close(f->fd);
  free(f->path);
  free(f->label);
  free(f->psname);
  free(f);
}

static uint32_t
S_u32(const uint8_t *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

/* Check the table directory of face `index` against the file: every table
 * lies inside it and the tables every OpenType font needs are there.  A cut-off
 * or damaged file otherwise opens "fine" in HarfBuzz, which sanitizes the
 * damage away into a font without characters, and every character of the
 * document would be reported missing.  Returns NULL or the reason, in
 * `buf`. */
static const char *
S_check_directory(hb_blob_t *blob, unsigned index, char *buf, size_t bufsz)
{
  unsigned len;
  const uint8_t *d = (const uint8_t *)hb_blob_get_data(blob, &len);
  size_t off = 0;
  if (len >= 12 && memcmp(d, "ttcf", 4) == 0) {
    if ((size_t)16 + 4 * (size_t)index > len)
      return "damaged font: the collection header is cut off";
    off = S_u32(d + 12 + 4 * (size_t)index);
  }
  if (off > len || len - off < 12)
    return "damaged font: the table directory is cut off";
  unsigned ntables = (unsigned)(d[off + 4] << 8 | d[off + 5]);
  if ((len - off - 12) / 16 < ntables)
    return "damaged font: the table directory is cut off";
  static const char need[][5] = {"head", "hhea", "hmtx", "maxp", "cmap"};
  bool have[sizeof need / sizeof *need] = {false};
  for (unsigned i = 0; i < ntables; i++) {
    const uint8_t *r = d + off + 12 + 16 * (size_t)i;
    uint32_t toff = S_u32(r + 8), tlen = S_u32(r + 12);
    if (toff > len || tlen > len - toff) {
      snprintf(buf, bufsz, "damaged font: its '%.4s' table is cut off",
               (const char *)r);
      return buf;
    }
    for (size_t k = 0; k < sizeof need / sizeof *need; k++)
      if (memcmp(r, need[k], 4) == 0 && tlen > 0)
        have[k] = true;
  }
  for (size_t k = 0; k < sizeof need / sizeof *need; k++)
    if (!have[k]) {
      snprintf(buf, bufsz, "damaged font: it has no '%s' table", need[k]);
      return buf;
    }
  return NULL;
}

/* Open a font file; on failure return NULL with a reason in `why` (static
 * text or `buf`). */
/* Whether `f` maps any character.  A font of Chinese text maps 一 or 。, a
 * Latin one the space or a digit; only when none of these is there is the
 * whole map collected (44,000 entries in a Noto CJK face, a tenth of a
 * one-document run if done for every font). */
static bool
S_maps_text(const bs_font *f)
{
  static const hb_codepoint_t probe[] = {0x4E00, 0x3002, ' ', '0', 'a'};
  bool maps = false;
  for (size_t i = 0; i < sizeof probe / sizeof *probe && !maps; i++) {
    hb_codepoint_t g;
    maps = hb_font_get_nominal_glyph(f->hbfont, probe[i], &g);
  }
  if (!maps) {
    hb_set_t *cps = hb_set_create();
    hb_face_collect_unicodes(f->face, cps);
    maps = !hb_set_is_empty(cps);
    hb_set_destroy(cps);
  }
  return maps;
}

/* Bounding box (from `head`, 54 bytes or more), ascent, descent, cap
 * height, embedding flags and italic angle of `f`, in 1/1000 em. */
static void
S_metrics(bs_font *f, const uint8_t *h)
{
  f->bbox[0] = S_to1000(f, S_i16(h + 36));
  f->bbox[1] = S_to1000(f, S_i16(h + 38));
  f->bbox[2] = S_to1000(f, S_i16(h + 40));
  f->bbox[3] = S_to1000(f, S_i16(h + 42));
  hb_position_t v;
  if (hb_ot_metrics_get_position(f->hbfont, HB_OT_METRICS_TAG_HORIZONTAL_ASCENDER, &v))
    f->ascent = S_to1000(f, v);
  else
    f->ascent = f->bbox[3];
  if (hb_ot_metrics_get_position(f->hbfont, HB_OT_METRICS_TAG_HORIZONTAL_DESCENDER, &v))
    f->descent = S_to1000(f, v);
  else
    f->descent = f->bbox[1];
  if (f->descent > 0)
    f->descent = -f->descent;
  if (hb_ot_metrics_get_position(f->hbfont, HB_OT_METRICS_TAG_CAP_HEIGHT, &v) && v > 0) {
    f->cap_height = S_to1000(f, v);
  } else {
    hb_codepoint_t g;
    hb_glyph_extents_t ext;
    if (hb_font_get_nominal_glyph(f->hbfont, 'H', &g) &&
        hb_font_get_glyph_extents(f->hbfont, g, &ext) && ext.y_bearing > 0)
      f->cap_height = S_to1000(f, ext.y_bearing);
    else
      f->cap_height = f->ascent;
  }
  hb_blob_t *os2 = hb_face_reference_table(f->face, HB_TAG('O', 'S', '/', '2'));
  unsigned olen;
  const uint8_t *o = (const uint8_t *)hb_blob_get_data(os2, &olen);
  if (olen >= 10)
    f->fs_type = (uint16_t)((o[8] << 8) | o[9]);
  hb_blob_destroy(os2);
  hb_blob_t *post = hb_face_reference_table(f->face, HB_TAG('p', 'o', 's', 't'));
  unsigned plen;
  const uint8_t *pp = (const uint8_t *)hb_blob_get_data(post, &plen);
  if (plen >= 8)
    f->italic_angle = S_i16(pp + 4);
  hb_blob_destroy(post);
}

/* The PostScript name of `f`, sanitised for PDF (malloc'd); FontN when it
 * has none. */
static char *
S_psname(const bs_font *f, unsigned index)
{
  char name[128];
  unsigned nlen = sizeof name;
  name[0] = '\0';
  hb_ot_name_get_utf8(f->face, HB_OT_NAME_ID_POSTSCRIPT_NAME,
                      HB_LANGUAGE_INVALID, &nlen, name);
  size_t k = 0;
  char clean[64];
  for (size_t i = 0; name[i] && k + 1 < sizeof clean; i++) {
    unsigned char c = (unsigned char)name[i];
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '_')
      clean[k++] = (char)c;
  }
  clean[k] = '\0';
  if (!k)
    snprintf(clean, sizeof clean, "Font%u", index);
  return strdup(clean);
}

static bs_font *
S_font_open(const char *path, unsigned index, const char **why, char *buf,
            size_t bufsz)
{
  /* type checked first: HarfBuzz would block on a FIFO */
  struct stat st;
  int fd = bs_input_open(path, 0, &st);
  if (fd < 0) {
    *why = bs_io_strerror(errno, BS_LANG_EN);
    return NULL;
  }
  hb_blob_t *blob = hb_blob_create_from_file_or_fail(path);
  if (!blob) {
    close(fd);
    *why = "cannot read the file";
    return NULL;
  }
  /* The descriptor stays open: cff.c reads the charstrings of a CJK font
   * with pread, which costs less than the page faults of touching them
   * in the mapping.  A file whose size changed between the open and the
   * mapping is not the one mapped: its descriptor is not used. */
  if ((uint64_t)st.st_size != hb_blob_get_length(blob)) {
    close(fd);
    fd = -1;
  }
  unsigned count = hb_face_count(blob);
  if (count == 0) {
    *why = "not a TrueType/OpenType font";
  } else if (index >= count) {
    *why = "the collection has fewer faces";
  } else {
    *why = S_check_directory(blob, index, buf, bufsz);
  }
  if (*why) {
    hb_blob_destroy(blob);
    if (fd >= 0)
      close(fd);
    return NULL;
  }
  bs_font *f = bs_xcalloc(1, sizeof *f);
  f->blob = blob;
  f->fd = fd;
  f->face = hb_face_create(blob, index);
  f->upem = hb_face_get_upem(f->face);
  f->path = strdup(path);
  f->index = index;
  /* Outlines: TrueType (glyf) or CFF, embedded as FontFile2 or FontFile3
   * (render_pdf.c); CFF2 (variable fonts) has no PDF/A-1 form. */
  hb_blob_t *glyf = hb_face_reference_table(f->face, HB_TAG('g', 'l', 'y', 'f'));
  hb_blob_t *cff = hb_face_reference_table(f->face, HB_TAG('C', 'F', 'F', ' '));
  hb_blob_t *head = hb_face_reference_table(f->face, HB_TAG('h', 'e', 'a', 'd'));
  unsigned glen = hb_blob_get_length(glyf);
  unsigned clen = hb_blob_get_length(cff);
  unsigned hlen;
  const uint8_t *h = (const uint8_t *)hb_blob_get_data(head, &hlen);
  hb_blob_destroy(glyf);
  hb_blob_destroy(cff);
  f->cff = glen == 0 && clen > 0;
  if (!f->cff && f->fd >= 0) { /* only cff.c reads through it */
    close(f->fd);
    f->fd = -1;
  }
  if ((glen == 0 && clen == 0) || hlen < 54 || f->upem < 16 ||
      f->upem > 16384) {
    hb_blob_destroy(head);
    S_font_free(f);
    *why = glen == 0 && clen == 0
               ? "no TrueType (glyf) or CFF outlines; only such fonts can be "
                 "embedded"
               : "damaged font (head table)";
    return NULL;
  }
  f->hbfont = hb_font_create(f->face);
  hb_font_set_scale(f->hbfont, (int)f->upem, (int)f->upem);
  if (!S_maps_text(f)) {
    hb_blob_destroy(head);
    S_font_free(f);
    *why = "damaged font: its character map is empty";
    return NULL;
  }
  S_metrics(f, h);
  hb_blob_destroy(head);
  f->psname = S_psname(f, index);

  /* The glyphs of a CJK font that a process's documents draw: a few
   * thousand distinct ones even in a large batch, and a glyph of Noto CJK
   * flattens to 405 bytes on average in Serif, 246 in Sans (all 65,535 of
   * face 2, memo overhead included), so 4 MB holds about 10,000 of them,
   * more than the 8,105 characters of the Table of General Standard
   * Chinese Characters.  A hostile font whose glyphs flatten to the 64 KB
   * a charstring may have fills it after 60 glyphs and then costs the
   * walks the memo would have saved, nothing more. */
  if (f->cff)
    f->cff_glyphs = bs_memo_new(4u << 20);

  /* The last two embeddings of a subset of the font (the program, CIDSet
   * and ToUnicode deflated), for a document that draws the same glyphs
   * for the same characters as one before it: in a batch of one report's
   * variants most fonts do.  A CJK body font's is some 100 KB. */
  f->embeds = bs_recent_new(2, free);

  /* Embedding restrictions (OS/2 fsType): PDF/A requires embedding. */
  if ((f->fs_type & 0x000F) == 0x0002) {
    *why = "its licence (OS/2 fsType) forbids embedding";
    S_font_free(f);
    return NULL;
  }
  if (f->fs_type & 0x0200) {
    *why = "its licence (OS/2 fsType) allows bitmap embedding only";
    S_font_free(f);
    return NULL;
  }
  return f;
}

bs_fontset *
bs_fontset_new(const char *user_map, bs_diags *diags)
{
  bs_fontset *fs = bs_xcalloc(1, sizeof *fs);
  pthread_mutex_init(&fs->lock, NULL);
  /* A batch's documents share most of their glyphs and so most pieces of
   * their subset programs (zpieces.h): the example's four programs are
   * 120 KB, and 220 KB kept with their deflated forms; 4 MB keeps what
   * the first documents of a batch share with the later ones, and bounds
   * what the store adds to a batch worker's peak RSS. */
  fs->programs = bs_zpieces_new(4u << 20);
  const char *path =
      bs_data_path(diags->arena, BS_DATA_FONTS, "default.map");
  bool ok = S_load_map(fs, path, diags);
  if (ok && user_map)
    ok = S_load_map(fs, user_map, diags);
  if (!ok) {
    bs_fontset_free(fs);
    return NULL;
  }
  return fs;
}

void
bs_fontset_free(bs_fontset *fs)
{
  if (!fs)
    return;
  for (int i = 0; i < fs->nroles; i++) {
    S_rolespec *r = &fs->roles[i];
    for (int k = 0; k < r->n; k++)
      free(r->entries[k].spec);
    free(r->entries);
    free(r->name);
    free(r->map_dir);
    free(r->role.chain);
    free(r->role.tried);
  }
  free(fs->roles);
  for (int i = 0; i < fs->nfonts; i++)
    S_font_free(fs->fonts[i]);
  free(fs->fonts);
  bs_zpieces_free(fs->programs);
  for (int i = 0; i < fs->ndirs; i++)
    S_index_free(&fs->dirs[i]);
  free(fs->dirs);
  pthread_mutex_destroy(&fs->lock);
  free(fs);
}

/* Resolve one map entry to a file path (malloc'd) or NULL; appends the
 * places looked at to `tried`. */
static char *
S_resolve(bs_fontset *fs, const S_rolespec *r, const S_entry *e, char **tried,
          size_t *tlen)
{
  char buf[4096];
#define S_TRIED(s)                                                             \
  do {                                                                         \
    size_t l_ = strlen(s);                                                     \
    *tried = bs_xrealloc(*tried, *tlen + l_ + 3);                              \
    if (*tlen) {                                                               \
      memcpy(*tried + *tlen, ", ", 2);                                         \
      *tlen += 2;                                                              \
    }                                                                          \
    memcpy(*tried + *tlen, s, l_ + 1);                                         \
    *tlen += l_;                                                               \
  } while (0)
  if (strchr(e->spec, '/')) {
    if (e->spec[0] == '/')
      snprintf(buf, sizeof buf, "%s", e->spec);
    else
      snprintf(buf, sizeof buf, "%s/%s", r->map_dir, e->spec);
    S_TRIED(buf);
    return bs_file_readable(buf) ? strdup(buf) : NULL;
  }
  snprintf(buf, sizeof buf, "%s/%s", r->map_dir, e->spec);
  char *found = bs_file_readable(buf) ? strdup(buf) : NULL;
  S_TRIED(buf);
  if (!fs->dirs) {
    const char *const *d = bs_font_dirs();
    while (d[fs->ndirs])
      fs->ndirs++;
    fs->dirs = bs_xcalloc((size_t)fs->ndirs + 1, sizeof *fs->dirs);
    for (int i = 0; i < fs->ndirs; i++)
      fs->dirs[i].root = strdup(d[i]);
  }
  for (int i = 0; !found && i < fs->ndirs; i++) {
    S_dirindex *ix = &fs->dirs[i];
    snprintf(buf, sizeof buf, "%s/**/%s", ix->root, e->spec);
    S_TRIED(buf);
    if (!ix->listed) {
      ix->listed = true;
      S_index_walk(ix, ix->root, 4);
    }
    found = S_index_find(ix, e->spec);
  }
  return found;
#undef S_TRIED
}

static void
S_resolve_role(bs_fontset *fs, S_rolespec *r, bs_diags *diags)
{
  bs_role *role = &r->role;
  role->resolved = true;
  role->name = r->name;
  role->chain = bs_xcalloc((size_t)(r->n ? r->n : 1), sizeof(bs_font *));
  char *labels = NULL;
  size_t llen = 0;
  for (int i = 0; i < r->n; i++) {
    const S_entry *e = &r->entries[i];
    char label[300];
    if (e->index)
      snprintf(label, sizeof label, "%s#%u", e->spec, e->index);
    else
      snprintf(label, sizeof label, "%s", e->spec);
    size_t l = strlen(label);
    labels = bs_xrealloc(labels, llen + l + 3);
    if (llen) {
      memcpy(labels + llen, ", ", 2);
      llen += 2;
    }
    memcpy(labels + llen, label, l + 1);
    llen += l;

    char *tried = NULL;
    size_t tlen = 0;
    char *path = S_resolve(fs, r, e, &tried, &tlen);
    if (!path) {
      if (!e->optional) {
        bs_diag(diags, BS_ERROR, BS_D_FONT_FILE, NULL, 0, 0, r->name, label,
                tried);
        role->failed = true;
      }
      free(tried);
      continue;
    }
    free(tried);
    /* Reuse a font already opened for another role. */
    bs_font *f = NULL;
    for (int k = 0; k < fs->nfonts; k++)
      if (strcmp(fs->fonts[k]->path, path) == 0 &&
          fs->fonts[k]->index == e->index)
        f = fs->fonts[k];
    if (!f) {
      const char *why = NULL;
      char whybuf[96];
      f = S_font_open(path, e->index, &why, whybuf, sizeof whybuf);
      if (!f) {
        bs_diag(diags, BS_ERROR, BS_D_FONT_LOAD, NULL, 0, 0, path, why);
        role->failed = true;
        free(path);
        continue;
      }
      f->label = strdup(label);
      f->id = fs->nfonts;
      f->programs = fs->programs;
      fs->fonts = bs_xrealloc(fs->fonts, (size_t)(fs->nfonts + 1) *
                                             sizeof *fs->fonts);
      fs->fonts[fs->nfonts++] = f;
    }
    free(path);
    role->chain[role->nfonts++] = f;
  }
  role->tried = labels ? labels : strdup("");
  if (role->nfonts == 0)
    role->failed = true;
}

bs_role *
bs_fontset_role(bs_fontset *fs, const char *name, bs_diags *diags)
{
  pthread_mutex_lock(&fs->lock);
  S_rolespec *r = S_find_role(fs, name);
  bs_role *out = NULL;
  if (!r) {
    bs_diag(diags, BS_ERROR, BS_D_FONT_ROLE, NULL, 0, 0, name);
  } else {
    if (!r->role.resolved)
      S_resolve_role(fs, r, diags);
    else if (r->role.failed)
      bs_diag(diags, BS_ERROR, BS_D_FONT_UNUSABLE, NULL, 0, 0, r->name,
              r->role.tried);
    out = r->role.failed ? NULL : &r->role;
  }
  pthread_mutex_unlock(&fs->lock);
  return out;
}

int
bs_fontset_count(bs_fontset *fs)
{
  pthread_mutex_lock(&fs->lock);
  int n = fs->nfonts;
  pthread_mutex_unlock(&fs->lock);
  return n;
}

bs_font *
bs_fontset_font(bs_fontset *fs, int i)
{
  pthread_mutex_lock(&fs->lock);
  bs_font *f = i >= 0 && i < fs->nfonts ? fs->fonts[i] : NULL;
  pthread_mutex_unlock(&fs->lock);
  return f;
}

bs_zpieces *
bs_fontset_programs(bs_fontset *fs)
{
  /* set once by bs_fontset_new: no lock */
  return fs->programs;
}

bs_font *
bs_role_font_for(const bs_role *role, uint32_t cp, unsigned *gid)
{
  for (int i = 0; i < role->nfonts; i++) {
    unsigned g = bs_font_glyph(role->chain[i], cp);
    if (g) {
      *gid = g;
      return role->chain[i];
    }
  }
  *gid = 0;
  return NULL;
}
