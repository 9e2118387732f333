// SPDX-License-Identifier: Apache-2.0
/* dynlib.h - libraries loaded when a document first needs them.
 *
 * A fresh `banshi render` pays, before main(), for mapping and relocating
 * every library the program names (its NEEDED entries), whether the
 * document uses it or not.  The libraries that only some documents need
 * are therefore not linked but opened with dlopen by soname at their
 * first use, and a small table of their functions is resolved once:
 * libicui18n (the regular expressions of the prose checks, which most
 * texts never reach, and the archive's collation), libjpeg (JPEG figures),
 * libminizip (OFD output) and libjansson (reading back JSON diagnostics
 * and batch logs).  The sonames come from the libraries the build found
 * (CMakeLists.txt, BS_SONAME_*), so the program opens the very library it
 * was compiled against; the Debian package names them in Depends, since
 * dpkg-shlibdeps sees NEEDED entries only (debian/control).
 *
 * Type checking stays with the compiler: each user declares its table's
 * pointers with the libraries' own prototypes (`__typeof__(jpeg_std_error)
 * *`), and BS_DYNSYM names a symbol after the header's macros, so ICU's
 * versioned entry points (uregex_open -> uregex_open_72) are looked up by
 * the name the header gives them.
 *
 * The table is filled once per process, under the library's own lock
 * (documents are laid out in several threads at once), and the library is
 * never closed.
 * A library that cannot be loaded, or lacks a symbol, is an error of the
 * document that needed it (diag.h BS_D_LIBRARY), never a crash; documents
 * that do not need it are unaffected.
 *
 * Layer 0 (base): docs/architecture.md. */
#ifndef BS_DYNLIB_H
#define BS_DYNLIB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* One function of a library: its exported name and where its pointer
 * lives in the caller's table (offsetof). */
typedef struct bs_dynsym {
  const char *name;
  size_t offset;
} bs_dynsym;

/* One library opened at its first use.  Static in the file that uses it
 * (BS_DYNLIB); ok and why are meaningful once bs_dynlib_load has run. */
typedef struct bs_dynlib {
  const char *soname;    /* "libjpeg.so.62": dlopen's search, as for NEEDED */
  const bs_dynsym *syms; /* the functions to resolve */
  size_t nsyms;
  void *table;           /* struct of function pointers, filled on success */
  pthread_mutex_t lock;  /* guards the one attempt to open it */
  bool tried;            /* bs_dynlib_load has opened it or failed to */
  bool ok;               /* every symbol resolved */
  char why[256];         /* dlerror()'s text when !ok */
} bs_dynlib;

/* The initializer of a bs_dynlib for `soname` whose functions `syms` (an
 * array) are stored in the struct `*table`. */
#define BS_DYNLIB(soname, syms, table)                                        \
  {(soname), (syms), sizeof(syms) / sizeof *(syms), (table),                  \
   PTHREAD_MUTEX_INITIALIZER, false, false, ""}

/* The exported name of `fn` after the header's macros have renamed it
 * (ICU's U_ICU_ENTRY_POINT_RENAME), as a string. */
#define BS_DYNSYM_STR_(x) #x
#define BS_DYNSYM_STR(x) BS_DYNSYM_STR_(x)
/* The table entry of function `fn`, whose pointer is the member of the
 * same name in a struct of type `T`. */
#define BS_DYNSYM(T, fn) {BS_DYNSYM_STR(fn), offsetof(T, fn)}

/* On the first call, open d->soname (dlopen, RTLD_NOW | RTLD_LOCAL) and
 * store each symbol's address in d->table; every call returns whether that
 * succeeded (d->why says why not; the table must not be used then).
 * Thread-safe: the lock also makes the table visible to every caller. */
bool bs_dynlib_load(bs_dynlib *d);

#endif
