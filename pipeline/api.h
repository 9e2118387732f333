// SPDX-License-Identifier: Apache-2.0
/* api.h - what the library's own services behind include/banshi.h
 * (batch, archive, new: pipeline/tools/) need of an env.
 *
 * Layer 12 (public API): docs/architecture.md. */
#ifndef BS_API_H
#define BS_API_H

#include "banshi.h"
#include "job.h"

/* The options an env holds (banshi_env_set), for a service that runs its
 * own jobs with them.  Borrowed from the env. */
const bs_job_options *bs_env_options(const banshi_env *e);

#endif
