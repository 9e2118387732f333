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
 * removes those whose writer is gone: the writer holds an flock on its
 * temporary while it writes, which (unlike the PID in the name) also
 * holds for writers in another PID namespace or container sharing the
 * folder.  Names are made unique by O_EXCL and a counter.
 *
 * Layer 0 (base): docs/architecture.md. */
#ifndef BS_FSIO_H
#define BS_FSIO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>


typedef struct bs_atomic {
  char *path;   /* final name (malloc'd) */
  char *tmp;    /* temporary name beside it (malloc'd) */
  FILE *f;      /* open for writing on tmp */
  bool durable; /* fsync file and folder on commit (the default) */
} bs_atomic;

/* Create the temporary file for `path` (its folder must exist) and open
 * it for writing as a->f.  Where `path` is an existing device, FIFO or
 * socket (/dev/null, /dev/stdout), a->f writes to it in place and a->tmp
 * is NULL: nothing is renamed over it.  Returns 0, or an errno value
 * (nothing to undo).  Finish with bs_atomic_commit or bs_atomic_abort. */
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

/* Inputs.  Every file banshi reads (sources, last year's sources, figures,
 * font maps, fonts, manifests, stamps, bag members) is opened once through
 * bs_input_open and its type and size checked with fstat on that
 * descriptor before a byte is read: a FIFO, device or socket (which could
 * block or never end), a folder, a /proc or /sys file (whose size is
 * unknown) or a file larger than its limit (a sparse multi-GB file costs no
 * disk but would take seconds to hash) is refused at once.  The open never
 * blocks (O_NONBLOCK, cleared once the type is known), so a FIFO with no
 * writer cannot hang it.  A read error is an error, never an end of file,
 * and a file that grows or shrinks while read is refused. */

/* Error numbers of these functions beyond errno's, each with a message
 * in the catalogue (bs_io_strerror, diag.h). */
#define BS_E_SPECIAL 0x10001 /* a FIFO, device, socket or folder */
#define BS_E_PSEUDO 0x10002  /* a /proc or /sys file */
#define BS_E_CHANGED 0x10003 /* the size changed while it was read */

/* Open `path` for reading and check it: a regular file of at most
 * `max_bytes` (0: no limit).  Returns the descriptor (blocking, close-on-
 * exec) with its fstat in *st, or -1 with errno set: BS_E_SPECIAL (a folder too),
 * BS_E_PSEUDO, EFBIG, or the open's own. */
int bs_input_open(const char *path, uint64_t max_bytes, struct stat *st);

/* Read the whole of `fd` opened by bs_input_open (st its fstat) into
 * malloc'd memory, NUL-terminated; *len excludes the NUL.  Returns NULL
 * with errno set on a read error or BS_E_CHANGED.  Does not close fd. */
unsigned char *bs_input_read(int fd, const struct stat *st, size_t *len);


/* True when the two descriptors' or paths' files are the same file
 * (st_dev and st_ino).  bs_same_file: false if either cannot be stat'ed. */
bool bs_same_stat(const struct stat *a, const struct stat *b);
bool bs_same_file(const char *a, const char *b);

/* Outputs never overwrite inputs: the first of inputs[0..n) (NULL entries
 * skipped) that is the file `out` names - the same path, a hard link or a
 * symbolic link to it, compared by st_dev and st_ino after following
 * links - or NULL.  An `out` that does not exist yet, or "-", clashes with
 * nothing. */
const char *bs_output_input(const char *out, const char *const *inputs,
                            size_t n);

#endif
