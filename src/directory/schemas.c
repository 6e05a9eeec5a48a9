/* SPDX-License-Identifier: Apache-2.0 */
/*
 * schemas.c - tenant-declared SCIM User extension schemas: declaring and
 * listing them, the tenant's User resource type a request validates with,
 * and the /Schemas and /ResourceTypes documents a connection sees.
 *
 * scim/ stays pure: the definitions are read here and passed to it as
 * schema tables (scim_ext_schema_new, scim_resource_type_extend).
 */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/str.h"
#include "directory/audit.h"
#include "directory/mirror.h"
#include "directory/mirroring.h"

/* ---- the tenant's User type ------------------------------------------------------------- */

static enum status add_schema(void *ctx, const struct store_tenant_schema *s)
{
    struct user_type *ut = ctx;
    if (ut->n == SCIM_EXT_MAX)
        return OK;
    struct scim_error ignored;
    struct scim_schema *schema;
    /* validated when declared; one that no longer parses is left out */
    if (scim_ext_schema_new(s->urn, s->attrs, &schema, &ignored) == OK)
        ut->owned[ut->n++] = schema;
    return OK;
}

enum status user_type_load(struct store_tx *tx, const char *tenant_id, struct user_type *ut)
{
    memset(ut, 0, sizeof(*ut));
    enum status rc = store_tenant_schema_each(tx, tenant_id, add_schema, ut);
    scim_resource_type_extend(&scim_resource_user, (const struct scim_schema *const *)ut->owned,
                              ut->n, &ut->ext);
    return rc;
}

void user_type_release(struct user_type *ut)
{
    for (size_t i = 0; i < ut->n; i++)
        scim_ext_schema_free(ut->owned[i]);
    ut->n = 0;
}

enum status user_type_of_conn(struct directory *dir, const struct scim_conn *conn,
                              struct user_type *ut)
{
    struct store_tx *tx = NULL;
    enum status rc = directory_read_begin(dir, conn, &tx);
    if (rc != OK) {
        memset(ut, 0, sizeof(*ut));
        scim_resource_type_extend(&scim_resource_user, NULL, 0, &ut->ext);
        return rc;
    }
    rc = user_type_load(tx, conn->tenant_id, ut);
    directory_read_end(conn, tx);
    return rc;
}

/* ---- declaring ---------------------------------------------------------------------------- */

enum status directory_schema_add(struct directory *dir, const char *tenant_key, const char *urn,
                                 const char *attrs, const struct actor *by, struct scim_error *err)
{
    scim_error_clear(err);
    struct scim_schema *schema = NULL;
    enum status rc = scim_ext_schema_new(urn, attrs, &schema, err);
    if (rc != OK)
        return rc;
    scim_ext_schema_free(schema);
    struct store_tx *tx;
    struct store_tenant tenant;
    if ((rc = mirror_begin(dir, tenant_key, true, &tx, &tenant, err)) != OK)
        return rc;
    struct user_type ut;
    rc = user_type_load(tx, tenant.id, &ut);
    if (rc == OK && ut.n >= SCIM_EXT_MAX)
        rc = scim_error_set(err, ERR_INVALID_VALUE, "a tenant may declare at most %d schemas",
                            SCIM_EXT_MAX);
    user_type_release(&ut);
    struct store_tenant_schema s = { .attrs = attrs };
    str_copy(s.tenant_id, sizeof(s.tenant_id), tenant.id);
    str_copy(s.urn, sizeof(s.urn), urn);
    clock_now_iso(s.created_at);
    if (rc == OK && (rc = store_tenant_schema_insert(tx, &s)) == ERR_UNIQUENESS)
        scim_error_set(err, rc, "the tenant already has the schema '%s'", urn);
    if (rc == OK) {
        struct audit_ctx ctx = mirror_ctx(by, tenant.id, NULL);
        json_t *summary = json_pack("{s:s,s:s}", "urn", urn, "attributes", attrs);
        rc = summary ? audit_append(tx, &ctx, "tenant_schema_added", NULL, summary) : ERR_NOMEM;
        json_decref(summary);
    }
    return mirror_end(tx, rc, err);
}

static enum status read_schemas(struct store_tx *tx, const struct store_tenant *t, const void *ctx,
                                json_t **out, struct scim_error *err)
{
    (void)ctx;
    (void)err;
    struct user_type ut;
    enum status rc = user_type_load(tx, t->id, &ut);
    *out = json_array();
    for (size_t i = 0; rc == OK && *out && i < ut.n; i++)
        json_array_append_new(*out, scim_schema_render(ut.owned[i], NULL));
    user_type_release(&ut);
    return rc;
}

enum status directory_schema_list(struct directory *dir, const char *tenant_key, json_t **out,
                                  struct scim_error *err)
{
    return mirror_tenant_read(dir, tenant_key, read_schemas, NULL, out, err);
}

/* ---- discovery ---------------------------------------------------------------------------- */

enum status directory_scim_schemas(struct directory *dir, const struct scim_conn *conn,
                                   const char *urn, json_t **out, struct scim_error *err)
{
    scim_error_clear(err);
    *out = NULL;
    struct user_type ut;
    enum status rc = user_type_of_conn(dir, conn, &ut);
    if (rc == OK && urn == NULL) {
        *out = scim_schemas_list_render_for(&ut.ext.rt, conn->base_url);
    } else if (rc == OK) {
        const struct scim_schema *s = scim_schema_by_urn_in(&ut.ext.rt, urn);
        *out = s ? scim_schema_render(s, conn->base_url) : NULL;
        if (s == NULL)
            rc = scim_error_set(err, ERR_NOT_FOUND, "no such schema");
    }
    user_type_release(&ut);
    if (rc == OK && *out == NULL)
        rc = scim_error_set(err, ERR_NOMEM, "out of memory");
    return rc == OK || err->status == rc ? rc : scim_error_set(err, rc, "%s", status_name(rc));
}

enum status directory_scim_resource_types(struct directory *dir, const struct scim_conn *conn,
                                          const char *id, json_t **out, struct scim_error *err)
{
    scim_error_clear(err);
    *out = NULL;
    struct user_type ut;
    enum status rc = user_type_of_conn(dir, conn, &ut);
    if (rc == OK && id == NULL) {
        *out = scim_resource_types_list_render_for(&ut.ext.rt, conn->base_url);
    } else if (rc == OK) {
        const struct scim_resource_type *rt = scim_resource_type_by_id(id);
        if (rt == &scim_resource_user)
            rt = &ut.ext.rt;
        *out = rt ? scim_resource_type_render(rt, conn->base_url) : NULL;
        if (rt == NULL)
            rc = scim_error_set(err, ERR_NOT_FOUND, "no such resource type");
    }
    user_type_release(&ut);
    if (rc == OK && *out == NULL)
        rc = scim_error_set(err, ERR_NOMEM, "out of memory");
    return rc == OK || err->status == rc ? rc : scim_error_set(err, rc, "%s", status_name(rc));
}
