/* SPDX-License-Identifier: Apache-2.0 */
/*
 * audit.h - writing audit events from inside a directory transaction.
 *
 * Internal to src/directory/.  Summaries are small JSON objects of ids,
 * attribute names and statuses: never token values, hashes, passwords or
 * attribute values.
 */
#ifndef SCIMD_DIRECTORY_AUDIT_H
#define SCIMD_DIRECTORY_AUDIT_H

#include <jansson.h>

#include "directory/directory.h"
#include "store/store.h"

struct audit_ctx {
    const char *tenant_id;
    const char *idp_id;
    const char *actor;
    const char *source;
};

/* Append one event; summary (may be NULL) is borrowed. */
enum status audit_append(struct store_tx *tx, const struct audit_ctx *ctx, const char *type,
                         const char *subject_id, const json_t *summary);
/* Append an event for a failed request: summary {status, scimType?, detail}. */
enum status audit_failure(struct store_tx *tx, const struct audit_ctx *ctx, const char *type,
                          const char *subject_id, const struct scim_error *failure);
/* The audit context of an authenticated SCIM connection. */
struct audit_ctx audit_of_conn(const struct scim_conn *conn);

/* ---- events of SCIM requests (resource: "User" or "Group") ---- */
/* Append one event of the connection's request. */
enum status audit_scim_event(struct store_tx *tx, const struct scim_conn *conn, const char *type,
                             const char *subject_id, const json_t *summary);
/* scim_user_received / scim_group_received {method, resource}: every SCIM write leaves one. */
enum status audit_scim_received(struct store_tx *tx, const struct scim_conn *conn,
                                const char *resource, const char *method, const char *subject_id);
/* A failed write still leaves its _received event and scim_conflict or
 * scim_request_failed, in a transaction of its own (the request's was rolled
 * back).  Logged, never returned: the client gets the original failure. */
void audit_scim_failure(struct store *store, const struct scim_conn *conn, const char *resource,
                        const char *method, const char *subject_id,
                        const struct scim_error *failure);

#endif
