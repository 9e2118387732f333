/* archive.h - `banshi archive`: a batch's output as a BagIt bag (RFC 8493)
 * for a records office, and the verification of such a bag.
 *
 *   BAG/bagit.txt                 BagIt-Version 1.0, UTF-8
 *   BAG/bag-info.txt              Bagging-Date, Payload-Oxum, ...
 *   BAG/manifest-sha256.txt       every payload file
 *   BAG/tagmanifest-sha256.txt    bagit.txt, bag-info.txt, the manifest
 *   BAG/data/documents/REL.pdf    each PDF/A of the batch
 *   BAG/data/documents/REL.xml    with the source it was made from, and
 *                                 the images of its figures beside it
 *   BAG/data/metadata/REL.xml     a record per document with DA/T 46-2009
 *                                 element names (题名, 责任者, 日期 ...)
 *   BAG/data/index.csv|xml|pdf    all documents, by issuing body in pinyin
 *                                 order (ICU collation), as CSV and PDF/A
 *
 * Only PDFs that the batch vouches for are packed: each needs its stamp
 * (batch.h), the size the stamp records, and a source and images whose
 * SHA-256 is the one the stamp records; otherwise nothing is written and every problem is
 * reported.  The bag is built in a temporary folder beside BAG, every file
 * flushed, and renamed into place: BAG is complete or absent. */
#ifndef BS_ARCHIVE_H
#define BS_ARCHIVE_H

#include <stdio.h>

#include "diag.h"

/* Check the bag at `bag`: bagit.txt, every entry of manifest-sha256.txt
 * and tagmanifest-sha256.txt (missing or altered files), payload files that
 * no manifest lists, and Payload-Oxum.  Every problem is a diagnostic in
 * `d` located at the file concerned.  Returns the number of files whose
 * checksum was compared, or -1 when `bag` is not a readable folder. */
long bs_bag_verify(const char *bag, bs_diags *d);

/* A file path as a manifest line writes it (RFC 8493 2.1.3: CR, LF and %
 * percent-encoded), malloc'd; and back.  bs_bag_decode_path returns NULL
 * for a malformed escape. */
char *bs_bag_encode_path(const char *path);
char *bs_bag_decode_path(const char *text);

/* `banshi archive OUTDIR -o BAG [options]` and `banshi archive --verify
 * BAG`: argv holds the arguments after the command name.  Messages go to
 * `err`, help to `out`.  Returns the exit status: 0 success (a valid bag),
 * 1 a document or the bag has problems, 2 usage, 3 I/O failure. */
int bs_archive_main(int argc, char **argv, FILE *out, FILE *err);

#endif
