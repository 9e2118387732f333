// SPDX-License-Identifier: Apache-2.0
/* bag.h - BagIt bags (RFC 8493): manifest paths, files made and read
 * beneath a bag's folder descriptor, and the verification of a bag.
 *
 * A bag is read and written through the descriptor of its folder and never
 * through a path: every step below it is opened with openat(2) and
 * O_NOFOLLOW, so a symbolic link planted in a bag - at a payload file, at
 * data/ itself, or at the temporary folder a bag is built in - can neither
 * lead banshi to read a file outside the bag nor to write one.  A member
 * that is a link is an error, never followed; a device, FIFO or socket is
 * an error and is never opened (opening a FIFO would wait for a writer).
 *
 * Layer 13 (batch, bag): docs/architecture.md. */
#ifndef BS_BAG_H
#define BS_BAG_H

#include <stdbool.h>

#include "diag.h"

/* A file path as a manifest line writes it (RFC 8493 2.1.3: CR, LF and %
 * percent-encoded), malloc'd; and back.  bs_bag_decode_path returns NULL
 * for a malformed escape. */
char *bs_bag_encode_path(const char *path);
char *bs_bag_decode_path(const char *text);

/* True if `rel` is a relative path that stays where it is put: not empty,
 * not absolute, no empty, "." or ".." step and no trailing slash.  Lexical
 * only; the file system is not asked. */
bool bs_bag_path_ok(const char *rel);

/* Why bs_bag_open or bs_bag_create failed, besides errno values. */
enum {
  BS_BAG_IS_LINK = 0x20000, /* a step of the path is a symbolic link */
  BS_BAG_IS_SPECIAL,        /* the file is a device, FIFO or socket */
  BS_BAG_BAD_PATH,          /* the path fails bs_bag_path_ok */
};

/* Open the regular file `rel` beneath the folder `dirfd` for reading, no
 * step followed if it is a link.  Returns the descriptor (close-on-exec),
 * or -1 with the reason in *why (an errno value or BS_BAG_*) and, for
 * BS_BAG_IS_LINK and BS_BAG_IS_SPECIAL, the length of the prefix of `rel`
 * that names the offending member in *at. */
int bs_bag_open(int dirfd, const char *rel, int *why, size_t *at);

/* Create the new file `rel` beneath the folder `dirfd` for writing (mode
 * 0644 less the umask), and the folders before it that are missing, never
 * through a link or an existing file.  Returns the descriptor or -1 with
 * the reason in *why. */
int bs_bag_create(int dirfd, const char *rel, int *why);

/* The reason `why` of bs_bag_open or bs_bag_create as text in `lang`. */
const char *bs_bag_reason(int why, bs_lang lang);

/* Check the bag at `bag`: bagit.txt, every entry of manifest-sha256.txt
 * and tagmanifest-sha256.txt (missing or altered files, paths that leave
 * the bag or the payload, entries listed twice), payload files that no
 * manifest lists, links and special files anywhere in the bag, and
 * Payload-Oxum.  Every problem is a diagnostic in `d` located at the file
 * concerned.  Returns the number of files whose checksum was compared, or
 * -1 with errno set when `bag` is not a folder that can be opened. */
long bs_bag_verify(const char *bag, bs_diags *d);

#endif
