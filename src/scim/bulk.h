/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bulk.h - reading a SCIM BulkRequest (RFC 7644 §3.7) into a plan: the
 * operations checked one by one, every "bulkId:<name>" reference found
 * once and tied to the POST that creates <name>, and the order to run them
 * in (the earliest operation whose references are all created first).
 *
 * Pure logic: no store, no HTTP.  Running an operation and substituting the
 * ids it refers to is the caller's (src/directory/bulk.c); the plan says
 * which operation is next and what each one refers to.  Work is linear in
 * the body: one walk over every operation's path and data, a hash map from
 * bulkId to operation, and a heap for the order.
 *
 * Ownership: a plan borrows the request body (its json_t nodes, including
 * the reference strings the caller overwrites with ids); the body must
 * outlive it.  Thread safety: a plan belongs to one thread.
 */
#ifndef SCIMD_SCIM_BULK_H
#define SCIMD_SCIM_BULK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"

#define SCIM_BULK_REF_PREFIX      "bulkId:"
#define SCIM_BULK_ID_MAX          256 /* a bulkId: at most 255 bytes + NUL */
#define SCIM_BULK_PATH_ID_MAX     (SCIM_BULK_ID_MAX + sizeof(SCIM_BULK_REF_PREFIX) - 1)
#define SCIM_SCHEMA_BULK_REQUEST  "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
#define SCIM_SCHEMA_BULK_RESPONSE "urn:ietf:params:scim:api:messages:2.0:BulkResponse"

enum scim_bulk_method { SCIM_BULK_POST, SCIM_BULK_PUT, SCIM_BULK_PATCH, SCIM_BULK_DELETE };

struct scim_bulk_limits {
    size_t max_operations; /* more -> ERR_TOO_LARGE for the whole request */
    size_t max_references; /* more "bulkId:" strings -> ERR_TOO_LARGE for the whole request */
};

/* One "bulkId:" reference: the string node to overwrite with the created id
 * (NULL for a reference in the operation's path) and the POST it names. */
struct scim_bulk_ref {
    json_t *node;
    size_t target;
};

struct scim_bulk_op {
    const json_t *op;        /* the operation as sent */
    const char *method_name; /* as sent (for the response), or NULL */
    const char *bulk_id;     /* NULL when absent */
    /* When invalid, the operation fails with error at its turn; the fields
     * below are then unset. */
    bool invalid;
    struct scim_error error;
    enum scim_bulk_method method;
    bool group;                          /* /Groups, else /Users */
    char path_id[SCIM_BULK_PATH_ID_MAX]; /* "" for POST; may be "bulkId:<name>" */
    const char *version;                 /* "version" (an ETag for If-Match), or NULL */
    json_t *data;                        /* NULL for DELETE */
    bool path_ref;                       /* path_id is a reference: refs[first_ref] */
    size_t first_ref, nrefs;             /* this operation's slice of plan.refs */
    size_t waits;                        /* references to operations not finished yet */
};

struct scim_bulk_plan {
    struct scim_bulk_op *ops; /* in request order */
    size_t n;
    struct scim_bulk_ref *refs;
    size_t nrefs;
    long fail_on_errors; /* 0: none */
    /* private: dependants of each POST (CSR over refs) and the ready heap */
    size_t *dep_start, *deps;
    size_t *heap, heap_n;
};

/*
 * Check body as a BulkRequest and plan it.  The request as a whole is
 * refused (ERR_INVALID_SYNTAX / ERR_INVALID_VALUE / ERR_TOO_LARGE) when it
 * is not a BulkRequest, has too many operations or references, or a bad
 * failOnErrors; a bad operation only marks that operation invalid: not an
 * object, unknown method, bad path or data, a malformed or repeated POST
 * bulkId, or a reference to a bulkId no POST in the request carries.
 * On failure p needs no release.
 */
enum status scim_bulk_plan_init(struct scim_bulk_plan *p, json_t *body,
                                const struct scim_bulk_limits *limits, struct scim_error *err);
/* The next operation to run: the lowest-numbered one whose references all
 * name finished operations.  false when none is left ready (what has not
 * finished then waits on a cycle). */
bool scim_bulk_plan_next(struct scim_bulk_plan *p, size_t *i);
/* Operation i has finished (ran or failed): operations waiting on it may
 * become ready.  Call once per operation scim_bulk_plan_next returned. */
void scim_bulk_plan_done(struct scim_bulk_plan *p, size_t i);
void scim_bulk_plan_release(struct scim_bulk_plan *p);

#endif
