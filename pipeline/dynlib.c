// SPDX-License-Identifier: Apache-2.0
/* dynlib.c - libraries loaded when first needed; see dynlib.h.
 * Layer 0 (base): docs/architecture.md. */
#include "dynlib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/* Function pointers are stored from dlsym's void * by copying their bytes
 * (what POSIX requires to work); a conversion would be undefined in ISO C
 * and -pedantic says so. */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)),
               "function and object pointers have one size (POSIX dlsym)");

static void
S_open(bs_dynlib *d)
{
  d->ok = false;
  d->why[0] = '\0';
  void *h = dlopen(d->soname, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char *e = dlerror();
    snprintf(d->why, sizeof d->why, "%s", e ? e : "dlopen failed");
    return;
  }
  for (size_t i = 0; i < d->nsyms; i++) {
    dlerror();
    void *sym = dlsym(h, d->syms[i].name);
    if (!sym) {
      const char *e = dlerror();
      snprintf(d->why, sizeof d->why, "%s",
               e ? e : "a function is missing from the library");
      dlclose(h);
      return;
    }
    memcpy((char *)d->table + d->syms[i].offset, &sym, sizeof sym);
  }
  /* never closed: the functions stay valid for the process */
  d->ok = true;
}

bool
bs_dynlib_load(bs_dynlib *d)
{
  pthread_mutex_lock(&d->lock);
  if (!d->tried) {
    S_open(d);
    d->tried = true;
  }
  bool ok = d->ok;
  pthread_mutex_unlock(&d->lock);
  return ok;
}
