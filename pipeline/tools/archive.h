// SPDX-License-Identifier: Apache-2.0
/* archive.h - `banshi archive`: a batch's output as a BagIt bag (RFC 8493)
 * for a records office, and the verification of such a bag (bag.h).
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
 *   BAG/data/left-out.csv         the sources the batch log records as
 *                                 failed, which have no PDF
 *
 * Only PDFs that the batch vouches for are packed: each needs its stamp
 * (batch.h), and the PDF, the source and the images copied into the bag
 * must have the size and SHA-256 the stamp records; otherwise no bag is
 * written and every problem is reported.  The bag is built in a temporary
 * folder beside BAG, every file flushed, and renamed into place: BAG is
 * complete or absent.
 *
 * Layer 14 (archive): docs/architecture.md. */
#ifndef BS_ARCHIVE_H
#define BS_ARCHIVE_H

/* banshi_archive and banshi_archive_verify (include/banshi.h) are the
 * whole interface; this header keeps the description. */

#endif
