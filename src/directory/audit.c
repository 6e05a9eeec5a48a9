/*
 * audit.c - event rows for the audit log, written in the caller's transaction.
 */
#include <stdlib.h>

#include "directory/audit.h"
#include "core/str.h"
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
    };
    enum status rc = store_event_append(tx, &e);
    free(text);
    return rc;
}

enum status audit_failure(struct store_tx *tx, const struct audit_ctx *ctx, const char *type,
                          const char *subject_id, const struct scim_error *failure)
{
    json_t *summary = json_pack("{s:i,s:s}", "status", status_http(failure->status), "detail",
                                failure->detail);
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
