/* SPDX-License-Identifier: Apache-2.0 */
/*
 * audit.c - event rows for the audit log, written in the caller's transaction.
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"
#include "core/str.h"
#include "directory/audit.h"
#include "scim/render.h"

enum status audit_append(struct store_tx *tx, const struct audit_ctx *ctx, const char *type,
                         const char *subject_id, const json_t *summary)
{
    char *text = summary ? scim_json_text(summary) : NULL;
    if (summary && text == NULL)
        return ERR_NOMEM;
    struct store_event e = {
        .tenant_id = ctx->tenant_id,
        .idp_id = ctx->idp_id,
        .type = type,
        .actor = ctx->actor,
        .subject_id = subject_id,
        .summary = text,
        .source = ctx->source,
        .request_id = log_request_id, /* set while this thread serves an HTTP request */
    };
    enum status rc = store_event_append(tx, &e);
    free(text);
    return rc;
}

enum status audit_failure(struct store_tx *tx, const struct audit_ctx *ctx, const char *type,
                          const char *subject_id, const struct scim_error *failure)
{
    json_t *summary =
        json_pack("{s:i,s:s}", "status", status_http(failure->status), "detail", failure->detail);
    if (summary == NULL)
        return ERR_NOMEM;
    const char *scim_type = status_scim_type(failure->status);
    if (scim_type)
        json_object_set_new(summary, "scimType", json_string(scim_type));
    enum status rc = audit_append(tx, ctx, type, subject_id, summary);
    json_decref(summary);
    return rc;
}

struct audit_ctx audit_of_conn(const struct scim_conn *conn)
{
    struct audit_ctx ctx = {
        .tenant_id = conn->tenant_id,
        .idp_id = conn->idp_id,
        .actor = conn->actor,
        .source = conn->source,
    };
    return ctx;
}

enum status audit_scim_event(struct store_tx *tx, const struct scim_conn *conn, const char *type,
                             const char *subject_id, const json_t *summary)
{
    struct audit_ctx ctx = audit_of_conn(conn);
    return audit_append(tx, &ctx, type, subject_id, summary);
}

enum status audit_scim_received(struct store_tx *tx, const struct scim_conn *conn,
                                const char *resource, const char *method, const char *subject_id)
{
    char type[32];
    snprintf(type, sizeof(type), "scim_%s_received", str_ieq(resource, "Group") ? "group" : "user");
    json_t *summary = json_pack("{s:s,s:s}", "method", method, "resource", resource);
    enum status rc = summary ? audit_scim_event(tx, conn, type, subject_id, summary) : ERR_NOMEM;
    json_decref(summary);
    return rc;
}

void audit_scim_failure(struct store *store, const struct scim_conn *conn, const char *resource,
                        const char *method, const char *subject_id,
                        const struct scim_error *failure)
{
    struct store_tx *tx = NULL;
    enum status rc = store_begin(store, true, &tx);
    if (rc == OK)
        rc = audit_scim_received(tx, conn, resource, method, subject_id);
    if (rc == OK) {
        /* uniqueness conflicts have their own type */
        const char *type = failure->status == ERR_UNIQUENESS || failure->status == ERR_CONFLICT
                               ? "scim_conflict"
                               : "scim_request_failed";
        struct audit_ctx ctx = audit_of_conn(conn);
        rc = audit_failure(tx, &ctx, type, subject_id, failure);
    }
    if (rc == OK)
        rc = store_commit(tx);
    else
        store_rollback(tx);
    if (rc != OK)
        log_warn("could not record a failed %s %s for idp %s: %s", resource, method, conn->idp_id,
                 status_name(rc));
}
