// SPDX-License-Identifier: Apache-2.0
/* new.h - `banshi new`: a complete report source to start from.
 *
 * Layer 13 (batch, bag): docs/architecture.md. */
#ifndef BS_NEW_H
#define BS_NEW_H

#include <stdio.h>

/* `banshi new TYPE --year Y --issuer NAME [--format F] [-o FILE]`: argv
 * holds the arguments after the command name.  Writes the type's skeleton
 * (report.h, bs_report_type_skeleton) with the year and the issuer filled
 * in, to FILE (never replacing one) or `out`.  Returns the exit status: 0,
 * 2 on a usage error (unknown type or format), 3 when FILE exists or cannot
 * be written. */
int bs_new_main(int argc, char **argv, FILE *out, FILE *err);

#endif
