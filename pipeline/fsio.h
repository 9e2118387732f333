// SPDX-License-Identifier: Apache-2.0
/* fsio.h - files that appear whole or not at all, and folder helpers.
 *
 * Every file banshi's batch and archive commands write (PDFs through
 * render_pdf.c, stamps, logs, bag files) follows one convention: it is
 * written under a temporary name `.NAME.PID-N.tmp` in the folder of its
 * final name, flushed to disk (fsync), renamed into place, and the folder
 * is flushed too.  rename(2) within one folder is atomic, so whoever looks
 * at NAME, at any moment and whatever happens to the writer (a crash,
 * SIGKILL), sees the previous file or the complete new one, never a part.
 * A killed writer leaves its temporary behind; bs_remove_stale_temps()
 * removes those whose process is gone.  One writer per path per process.
 *
 * Layer 0 (base): docs/architecture.md. */
#ifndef BS_FSIO_H
#define BS_FSIO_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

typedef struct bs_atomic {
  char *path;   /* final name (malloc'd) */
  char *tmp;    /* temporary name beside it (malloc'd) */
  FILE *f;      /* open for writing on tmp */
  bool durable; /* fsync file and folder on commit (the default) */
} bs_atomic;

/* Create the temporary file for `path` (its folder must exist) and open
 * it for writing as a->f.  Returns 0, or an errno value (nothing to undo).
 * Finish with bs_atomic_commit or bs_atomic_abort. */
int bs_atomic_open(bs_atomic *a, const char *path);

/* Flush and fsync the temporary, rename it to the final name and fsync the
 * folder.  Returns 0, or an errno value after removing the temporary (the
 * final name is then untouched).  Frees a's memory either way. */
int bs_atomic_commit(bs_atomic *a);

/* Close and remove the temporary; the final name is untouched. */
void bs_atomic_abort(bs_atomic *a);

/* Write `len` bytes as the whole content of `path` atomically.  With
 * `durable` the content and the rename are flushed to disk before it
 * returns; without, a crash of the machine (not of the process) may lose
 * the new file or leave the old one, but never a part of either - enough
 * for files that are checked when read and cheap to make again.  Returns 0
 * or an errno value. */
int bs_atomic_write(const char *path, const void *data, size_t len,
                    bool durable);

/* fsync the folder `dir` so that a rename in it survives a power loss.
 * Returns 0 or an errno value. */
int bs_fsync_dir(const char *dir);

/* Create `dir` and its missing parents (mode 0777 less the umask).
 * Returns 0 or an errno value. */
int bs_mkdirs(const char *dir);

/* The temporary name `.NAME.PID.tmp` for `path` of process `pid`, malloc'd
 * (for folders made whole, as bags; files use bs_atomic_open). */
char *bs_temp_name(const char *path, long pid);

/* If `name` (a file name without folder) is a temporary name of this
 * convention, store the final file name it stands for (malloc'd) in
 * *final and the writer's process id in *pid and return true. */
bool bs_temp_parse(const char *name, char **final, long *pid);

/* Remove, in folder `dir`, the temporaries of this convention whose
 * writer process no longer exists and whose final name satisfies
 * `wanted` (NULL: any).  Returns the number removed. */
int bs_remove_stale_temps(const char *dir,
                          bool (*wanted)(void *ctx, const char *final),
                          void *ctx);

/* Remove `path` and, if it is a folder, everything below it (symbolic
 * links are removed, never followed).  Returns 0 or an errno value. */
int bs_remove_tree(const char *path);

#endif
