// SPDX-License-Identifier: Apache-2.0
/* datadir.c - where banshi's data lives, and the folders it holds.
 *
 * Design.  An installed banshi must find its data wherever its tree was
 * installed or moved to (a .deb under /usr, `cmake --install --prefix
 * ~/opt`, a copy of that prefix on another machine), so no absolute path is
 * compiled in.  The candidates, first usable one wins:
 *
 *   1. the installed layout, relative to the file the code was loaded from:
 *      the shared library (LIBDIR/../share/banshi, BANSHI_LIB_TO_DATA) and
 *      the program (/proc/self/exe, BINDIR/../share/banshi,
 *      BANSHI_BIN_TO_DATA); both relative paths are computed by CMake from
 *      the install directories;
 *   2. $BANSHI_DATA, for a program or library copied away from its data;
 *   3. a folder `banshi-data` beside the program or the library: CMake
 *      makes it in the build tree as a link to the source tree, so a program
 *      run from its build folder uses the sources' data, and an installed
 *      one, which has no such link, never does.
 *
 * The installed layout comes before $BANSHI_DATA so that a variable left
 * in an environment for a development tree never makes an installed banshi
 * read another version's schemas.  Rejected: a compiled-in source path
 * (installed programs read the source tree first, and failed once it was
 * moved away), and a compiled-in absolute prefix (breaks every relocation).
 * "Usable" means schemas/document.xsd is readable there; when nothing is,
 * the first candidate is returned so that the error names the expected
 * place.
 *
 * Layer 1 (util, diag): docs/architecture.md. */
#include "util.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef BANSHI_BIN_TO_DATA
#define BANSHI_BIN_TO_DATA "../share/banshi"
#endif
#ifndef BANSHI_LIB_TO_DATA
#define BANSHI_LIB_TO_DATA "../share/banshi"
#endif

static char S_dir[PATH_MAX + 64]; /* room for a suffix after a folder */
static pthread_once_t S_once = PTHREAD_ONCE_INIT;

/* The folders of the data folder (util.h, bs_data_folder): the one list in
 * C.  CMakeLists.txt installs the same folders; tests/datadirs.py checks
 * that its install rule, this table and the source tree agree. */
static const char *const S_folders[BS_DATA_COUNT] = {
    [BS_DATA_SCHEMAS] = "schemas",
    [BS_DATA_TEMPLATES] = "templates",
    [BS_DATA_FONTS] = "fonts",
    [BS_DATA_COLLATION] = "collation",
};

/* The file whose presence makes a folder banshi's data folder. */
#define S_MARK_FOLDER BS_DATA_SCHEMAS
#define S_MARK_FILE "document.xsd"

static bool
S_usable(const char *dir)
{
  char buf[PATH_MAX + 32];
  snprintf(buf, sizeof buf, "%s/%s/%s", dir, S_folders[S_MARK_FOLDER],
           S_MARK_FILE);
  return bs_file_readable(buf);
}

/* The folder of `file` resolved to an absolute path, in out; false when
 * it cannot be resolved. */
static bool
S_folder_of(const char *file, char out[PATH_MAX])
{
  char real[PATH_MAX];
  if (!file || !realpath(file, real))
    return false;
  char *slash = strrchr(real, '/');
  if (!slash)
    return false;
  slash[slash == real ? 1 : 0] = '\0';
  snprintf(out, PATH_MAX, "%s", real);
  return true;
}

/* Try dir/rel; on success it becomes the answer. */
static bool
S_try(const char *dir, const char *rel)
{
  char cand[PATH_MAX];
  if ((size_t)snprintf(cand, sizeof cand, "%s/%s", dir, rel) >= sizeof cand)
    return false;
  char real[PATH_MAX];
  if (!realpath(cand, real) || !S_usable(real))
    return false;
  snprintf(S_dir, sizeof S_dir, "%s", real);
  return true;
}

static void
S_resolve(void)
{
  char exe[PATH_MAX] = "", lib[PATH_MAX] = "";
  bool have_exe = S_folder_of("/proc/self/exe", exe);
  Dl_info info; /* any address inside this library will do */
  bool have_lib = dladdr(S_dir, &info) && info.dli_fname &&
                  S_folder_of(info.dli_fname, lib) && strcmp(lib, exe) != 0;
  if ((have_lib && S_try(lib, BANSHI_LIB_TO_DATA)) ||
      (have_exe && S_try(exe, BANSHI_BIN_TO_DATA)))
    return;
  const char *env = getenv("BANSHI_DATA");
  if (env && *env) {
    snprintf(S_dir, sizeof S_dir, "%s", env);
    return;
  }
  if ((have_lib && S_try(lib, "banshi-data")) ||
      (have_exe && S_try(exe, "banshi-data")))
    return;
  if (have_lib || have_exe)
    snprintf(S_dir, sizeof S_dir, "%s/%s", have_lib ? lib : exe,
             have_lib ? BANSHI_LIB_TO_DATA : BANSHI_BIN_TO_DATA);
  else
    snprintf(S_dir, sizeof S_dir, ".");
}

const char *
bs_data_dir(void)
{
  pthread_once(&S_once, S_resolve);
  return S_dir;
}

const char *
bs_data_folder_name(bs_data_folder f)
{
  return (unsigned)f < BS_DATA_COUNT ? S_folders[f] : "";
}

char *
bs_data_path(bs_arena *a, bs_data_folder f, const char *name)
{
  char *dir = bs_path_join(a, bs_data_dir(), bs_data_folder_name(f));
  return *name ? bs_path_join(a, dir, name) : dir;
}
