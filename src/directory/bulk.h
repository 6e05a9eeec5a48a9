/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bulk.h - POST /Bulk with explicit limits, for unit tests and the fuzzer
 * (the server calls directory_scim_bulk in directory.h, which uses the
 * DIRECTORY_BULK_* limits).  Same contract and thread safety as
 * directory_scim_bulk.
 */
#ifndef SCIMD_DIRECTORY_BULK_H
#define SCIMD_DIRECTORY_BULK_H

#include <stdint.h>

#include "directory/directory.h"
#include "scim/bulk.h"

struct directory_bulk_limits {
    struct scim_bulk_limits plan; /* operations and references per request */
    int64_t budget_ms;            /* operations not started by then answer 503 */
};

enum status directory_scim_bulk_limited(struct directory *dir, const struct scim_conn *conn,
                                        json_t *body, const struct directory_bulk_limits *limits,
                                        char **out, struct scim_error *err);

#endif
