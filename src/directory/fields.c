/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fields.c - custom canonical fields, the attribute mirroring map of a
 * tenant (show, and set, which starts the job re-deriving every user), the
 * canonical view of a user, and the transaction frame fields.c, schemas.c
 * and roles.c share.
 */
#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/str.h"
#include "directory/audit.h"
#include "directory/mirror.h"
#include "directory/mirroring.h"

#define FIELD_NAME_BYTES (STORE_FIELD_NAME_MAX - 1)

static const char *const field_types[] = { "string", "integer", "boolean", NULL };

/* ---- the frame -------------------------------------------------------------------------- */

/* tenant_key's tenant (id, subdomain or name) in tx, with a "no tenant" error. */
static enum status find_tenant(struct store_tx *tx, const char *tenant_key, struct store_tenant *t,
                               struct scim_error *err)
{
    enum status rc = directory_tenant_find(tx, tenant_key, t, err);
    return rc == OK || rc == ERR_NOT_FOUND ? rc : scim_error_set(err, rc, "%s", status_name(rc));
}

enum status mirror_begin(struct directory *dir, const char *tenant_key, bool write,
                         struct store_tx **tx, struct store_tenant *t, struct scim_error *err)
{
    *tx = NULL;
    if (tenant_key == NULL || tenant_key[0] == '\0')
        return scim_error_set(err, ERR_INVALID_VALUE, "a tenant is required");
    enum status rc = store_begin(dir->store, write, tx);
    if (rc != OK)
        return scim_error_set(err, rc, "database unavailable");
    if ((rc = find_tenant(*tx, tenant_key, t, err)) != OK) {
        store_rollback(*tx);
        *tx = NULL;
    }
    return rc;
}

enum status mirror_end(struct store_tx *tx, enum status rc, struct scim_error *err)
{
    if (rc != OK) {
        store_rollback(tx);
        if (err && err->status != rc)
            scim_error_set(err, rc, "%s", status_name(rc));
        return rc;
    }
    rc = store_commit(tx);
    if (rc != OK)
        return scim_error_set(err, rc, "could not commit: %s", status_name(rc));
    return OK;
}

enum status mirror_tenant_read_in(struct store_tx *tx, const char *tenant_key, mirror_read_fn read,
                                  const void *ctx, json_t **out, struct scim_error *err)
{
    scim_error_clear(err);
    *out = NULL;
    if (tenant_key == NULL || tenant_key[0] == '\0')
        return scim_error_set(err, ERR_INVALID_VALUE, "a tenant is required");
    struct store_tenant tenant;
    enum status rc = find_tenant(tx, tenant_key, &tenant, err);
    if (rc == OK)
        rc = read(tx, &tenant, ctx, out, err);
    if (rc == OK && *out == NULL)
        rc = ERR_NOMEM;
    if (rc == OK)
        return OK;
    json_decref(*out);
    *out = NULL;
    return err->status == rc ? rc : scim_error_set(err, rc, "%s", status_name(rc));
}

enum status mirror_tenant_read(struct directory *dir, const char *tenant_key, mirror_read_fn read,
                               const void *ctx, json_t **out, struct scim_error *err)
{
    scim_error_clear(err);
    *out = NULL;
    if (tenant_key == NULL || tenant_key[0] == '\0')
        return scim_error_set(err, ERR_INVALID_VALUE, "a tenant is required");
    struct store_tx *tx = NULL;
    enum status rc = store_begin(dir->store, false, &tx);
    if (rc != OK)
        return scim_error_set(err, rc, "database unavailable");
    rc = mirror_tenant_read_in(tx, tenant_key, read, ctx, out, err);
    store_rollback(tx);
    return rc;
}

enum status id_array_push(void *ctx, const char *id)
{
    struct id_array *a = ctx;
    char(*more)[STORE_ID_LEN] = array_room(a->ids, a->n, &a->alloc, sizeof(*more), 16);
    if (more == NULL)
        return ERR_NOMEM;
    a->ids = more;
    str_copy(a->ids[a->n++], STORE_ID_LEN, id);
    return OK;
}

void id_array_release(struct id_array *a)
{
    free(a->ids);
    memset(a, 0, sizeof(*a));
}

struct audit_ctx mirror_ctx(const struct actor *by, const char *tenant_id, const char *idp_id)
{
    struct audit_ctx ctx = {
        .tenant_id = tenant_id,
        .idp_id = idp_id,
        .actor = by && by->name ? by->name : "cli",
        .source = by ? by->source : NULL,
    };
    return ctx;
}

/* ---- custom fields ---------------------------------------------------------------------- */

static enum status check_field_name(const char *name, struct scim_error *err)
{
    size_t n = name ? strlen(name) : 0;
    bool ok = n > 0 && n <= FIELD_NAME_BYTES && name[0] >= 'a' && name[0] <= 'z';
    for (size_t i = 1; ok && i < n; i++)
        ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
             name[i] == '_';
    if (!ok)
        return scim_error_set(err, ERR_INVALID_VALUE,
                              "field name must be 1 to %d of a-z, 0-9 and '_', starting with a "
                              "letter",
                              FIELD_NAME_BYTES);
    for (size_t i = 0; mirror_core_fields[i]; i++) {
        if (strcmp(mirror_core_fields[i], name) == 0)
            return scim_error_set(err, ERR_UNIQUENESS, "'%s' is a built-in field", name);
    }
    return OK;
}

enum status directory_field_add(struct directory *dir, const char *tenant_key, const char *name,
                                const char *type, const struct actor *by, struct store_field *out,
                                struct scim_error *err)
{
    scim_error_clear(err);
    memset(out, 0, sizeof(*out));
    enum status rc = check_field_name(name, err);
    if (rc != OK)
        return rc;
    const char *const *t = field_types;
    while (*t && !(type == NULL ? strcmp(*t, "string") == 0 : str_ieq(*t, type)))
        t++;
    if (*t == NULL)
        return scim_error_set(err, ERR_INVALID_VALUE,
                              "field type '%.32s' is not string, integer or boolean", type);
    struct store_tx *tx;
    struct store_tenant tenant;
    if ((rc = mirror_begin(dir, tenant_key, true, &tx, &tenant, err)) != OK)
        return rc;
    struct mirror_config c;
    rc = mirror_config_load(tx, tenant.id, &c);
    if (rc == OK && c.n_fields >= MIRROR_MAX_CUSTOM_FIELDS)
        rc = scim_error_set(err, ERR_INVALID_VALUE, "a tenant may declare at most %d fields",
                            MIRROR_MAX_CUSTOM_FIELDS);
    if (rc == OK)
        mirror_config_release(&c);
    str_copy(out->tenant_id, sizeof(out->tenant_id), tenant.id);
    str_copy(out->name, sizeof(out->name), name);
    str_copy(out->type, sizeof(out->type), *t);
    clock_now_iso(out->created_at);
    if (rc == OK && (rc = store_field_insert(tx, out)) == ERR_UNIQUENESS)
        scim_error_set(err, rc, "the tenant already has a field '%s'", name);
    if (rc == OK) {
        struct audit_ctx ctx = mirror_ctx(by, tenant.id, NULL);
        json_t *summary = json_pack("{s:s,s:s}", "name", out->name, "type", out->type);
        rc = summary ? audit_append(tx, &ctx, "custom_field_added", NULL, summary) : ERR_NOMEM;
        json_decref(summary);
    }
    return mirror_end(tx, rc, err);
}

enum status directory_field_remove(struct directory *dir, const char *tenant_key, const char *name,
                                   const struct actor *by, const struct directory_guard *guard,
                                   struct scim_error *err)
{
    scim_error_clear(err);
    if (name == NULL || name[0] == '\0' || strlen(name) > FIELD_NAME_BYTES)
        return scim_error_set(err, ERR_INVALID_VALUE, "a field name is required");
    struct store_tx *tx;
    struct store_tenant tenant;
    enum status rc = mirror_begin(dir, tenant_key, true, &tx, &tenant, err);
    if (rc != OK)
        return rc;
    if ((rc = directory_guard_check(guard, tx, err)) != OK)
        return mirror_end(tx, rc, err);
    if ((rc = store_field_delete(tx, tenant.id, name)) == ERR_NOT_FOUND)
        scim_error_set(err, rc, "the tenant has no field '%s'", name);
    if (rc == OK) {
        struct audit_ctx ctx = mirror_ctx(by, tenant.id, NULL);
        json_t *summary = json_pack("{s:s}", "name", name);
        rc = summary ? audit_append(tx, &ctx, "custom_field_removed", NULL, summary) : ERR_NOMEM;
        json_decref(summary);
    }
    return mirror_end(tx, rc, err);
}

static enum status list_field(void *ctx, const struct store_field *f)
{
    return json_array_append_new(ctx, json_pack("{s:s,s:s,s:s}", "name", f->name, "type", f->type,
                                                "created_at", f->created_at)) == 0
               ? OK
               : ERR_NOMEM;
}

static enum status read_fields(struct store_tx *tx, const struct store_tenant *t, const void *ctx,
                               json_t **out, struct scim_error *err)
{
    (void)ctx;
    (void)err;
    *out = json_array();
    return *out ? store_field_each(tx, t->id, list_field, *out) : ERR_NOMEM;
}

enum status directory_field_list(struct directory *dir, const char *tenant_key, json_t **out,
                                 struct scim_error *err)
{
    return mirror_tenant_read(dir, tenant_key, read_fields, NULL, out, err);
}

enum status directory_field_list_in(struct store_tx *tx, const char *tenant_key, json_t **out,
                                    struct scim_error *err)
{
    return mirror_tenant_read_in(tx, tenant_key, read_fields, NULL, out, err);
}

/* ---- the mapping ------------------------------------------------------------------------ */

/* The IdP idp_id of the tenant, or 404. */
static enum status check_idp(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                             struct scim_error *err)
{
    struct store_idp idp;
    enum status rc = store_idp_get(tx, idp_id, &idp);
    if (rc == OK && strcmp(idp.tenant_id, tenant_id) != 0)
        rc = ERR_NOT_FOUND;
    if (rc == ERR_NOT_FOUND)
        return scim_error_set(err, rc, "no IdP connection '%.64s' in this tenant", idp_id);
    return rc;
}

static json_t *map_json(const struct mirror_config *c, const char *tenant_id, const char *idp_id)
{
    struct mirror_entry map[MIRROR_MAX_FIELDS];
    size_t n;
    mirror_config_map(c, idp_id, map, &n);
    json_t *fields = json_array();
    for (size_t i = 0; fields && i < n; i++)
        json_array_append_new(
            fields, json_pack("{s:s,s:s,s:o,s:s}", "field", map[i].field, "type", map[i].type,
                              "path", map[i].path[0] ? json_string(map[i].path) : json_null(),
                              "source", map[i].source));
    return fields ? json_pack("{s:s,s:o,s:o}", "tenant_id", tenant_id, "idp_id",
                              idp_id ? json_string(idp_id) : json_null(), "fields", fields)
                  : NULL;
}

static enum status read_map(struct store_tx *tx, const struct store_tenant *t, const void *ctx,
                            json_t **out, struct scim_error *err)
{
    const char *idp_id = ctx;
    enum status rc = idp_id ? check_idp(tx, t->id, idp_id, err) : OK;
    struct mirror_config c;
    if (rc != OK || (rc = mirror_config_load(tx, t->id, &c)) != OK)
        return rc;
    *out = map_json(&c, t->id, idp_id);
    mirror_config_release(&c);
    return OK;
}

enum status directory_mirror_show(struct directory *dir, const char *tenant_key, const char *idp_id,
                                  json_t **out, struct scim_error *err)
{
    return mirror_tenant_read(dir, tenant_key, read_map, idp_id, out, err);
}

enum status directory_mirror_show_in(struct store_tx *tx, const char *tenant_key,
                                     const char *idp_id, json_t **out, struct scim_error *err)
{
    return mirror_tenant_read_in(tx, tenant_key, read_map, idp_id, out, err);
}

/* path resolved against the tenant's User type, written canonically into out. */
static enum status canonical_path(struct store_tx *tx, const char *tenant_id, const char *path,
                                  char out[STORE_SCIM_PATH_MAX], struct scim_error *err)
{
    if (path == NULL || path[0] == '\0' || strlen(path) >= STORE_SCIM_PATH_MAX)
        return scim_error_set(err, ERR_INVALID_VALUE, "a SCIM attribute path is required");
    struct user_type ut;
    enum status rc = user_type_load(tx, tenant_id, &ut);
    if (rc != OK)
        return rc;
    struct scim_attr_ref ref;
    rc = scim_schema_resolve(&ut.ext.rt, path, &ref, err);
    if (rc == OK && ref.sub == NULL && ref.attr->type == SCIM_TYPE_COMPLEX)
        rc = scim_error_set(err, ERR_INVALID_VALUE,
                            "'%.64s' is complex: name one of its sub-attributes", path);
    if (rc == OK) {
        bool core = ref.schema == NULL || ref.schema == ut.ext.rt.schema;
        snprintf(out, STORE_SCIM_PATH_MAX, "%s%s%s%s%s", core ? "" : ref.schema->id,
                 core ? "" : ":", ref.attr->name, ref.sub ? "." : "", ref.sub ? ref.sub->name : "");
    } else if (err->status != ERR_INVALID_VALUE) {
        scim_error_set(err, ERR_INVALID_VALUE, "unknown attribute path '%.64s'", path);
    }
    user_type_release(&ut);
    return rc == OK ? OK : ERR_INVALID_VALUE;
}

/* Start the job that re-derives every user of the tenant (rederive.h),
 * superseding one still running. */
static enum status start_rederive(struct store_tx *tx, const struct audit_ctx *ctx,
                                  struct store_rederive_job *job)
{
    char key[8 + STORE_ID_LEN];
    snprintf(key, sizeof(key), "rederive%s", ctx->tenant_id);
    enum status rc = store_lock(tx, key); /* one job start per tenant at a time */
    if (rc == OK)
        rc = crypto_uuid(job->id);
    if (rc != OK)
        return rc;
    str_copy(job->tenant_id, sizeof(job->tenant_id), ctx->tenant_id);
    str_copy(job->actor, sizeof(job->actor), ctx->actor);
    str_copy(job->source, sizeof(job->source), ctx->source ? ctx->source : "");
    clock_now_iso(job->started_at);
    return store_rederive_job_start(tx, job);
}

enum status directory_mirror_set(struct directory *dir, const char *tenant_key, const char *idp_id,
                                 const char *field, const char *path, const struct actor *by,
                                 const struct directory_guard *guard,
                                 struct store_rederive_job *job, struct scim_error *err)
{
    scim_error_clear(err);
    memset(job, 0, sizeof(*job));
    struct store_tx *tx;
    struct store_tenant tenant;
    enum status rc = mirror_begin(dir, tenant_key, true, &tx, &tenant, err);
    if (rc != OK)
        return rc;
    if ((rc = directory_guard_check(guard, tx, err)) != OK)
        return mirror_end(tx, rc, err);
    struct store_mirror_rule rule = { 0 };
    str_copy(rule.tenant_id, sizeof(rule.tenant_id), tenant.id);
    str_copy(rule.idp_id, sizeof(rule.idp_id), idp_id ? idp_id : "");
    if (idp_id && (rc = check_idp(tx, tenant.id, idp_id, err)) != OK)
        return mirror_end(tx, rc, err);
    struct mirror_config c;
    if ((rc = mirror_config_load(tx, tenant.id, &c)) != OK)
        return mirror_end(tx, rc, err);
    const char *type;
    bool known = field && mirror_config_has_field(&c, field, &type);
    mirror_config_release(&c);
    if (!known)
        return mirror_end(tx,
                          scim_error_set(err, ERR_INVALID_VALUE,
                                         "no field '%.64s' (built-in: username, email, "
                                         "given_name, family_name, display_name; or add it "
                                         "with 'scimd field add')",
                                         field ? field : ""),
                          err);
    str_copy(rule.field, sizeof(rule.field), field);
    clock_now_iso(rule.updated_at);
    rc = canonical_path(tx, tenant.id, path, rule.path, err);
    if (rc == OK)
        rc = store_mirror_rule_put(tx, &rule);
    struct audit_ctx ctx = mirror_ctx(by, tenant.id, idp_id);
    if (rc == OK)
        rc = start_rederive(tx, &ctx, job);
    if (rc == OK) {
        json_t *summary =
            json_pack("{s:s,s:s,s:o,s:s}", "field", rule.field, "path", rule.path, "idp_id",
                      idp_id ? json_string(idp_id) : json_null(), "rederive_job", job->id);
        rc = summary ? audit_append(tx, &ctx, "mirroring_changed", NULL, summary) : ERR_NOMEM;
        json_decref(summary);
    }
    return mirror_end(tx, rc, err);
}

/* ---- the canonical user ----------------------------------------------------------------- */

static enum status put_field_value(void *ctx, const struct store_user_field *f)
{
    json_t *v = json_loads(f->value ? f->value : "null", JSON_DECODE_ANY, NULL);
    return v && json_object_set_new(ctx, f->name, v) == 0 ? OK : ERR_NOMEM;
}

static enum status put_role_name(void *ctx, const struct store_role *r)
{
    return json_array_append_new(ctx, json_string(r->name)) == 0 ? OK : ERR_NOMEM;
}

enum status directory_user_detail(struct store_tx *tx, const struct store_user *u, json_t *obj)
{
    json_t *fields = json_object(), *roles = json_array();
    if (json_object_set_new(obj, "custom_fields", fields) != 0 ||
        json_object_set_new(obj, "roles", roles) != 0)
        return ERR_NOMEM;
    enum status rc = store_user_field_each(tx, u->tenant_id, u->id, put_field_value, fields);
    if (rc == OK)
        rc = store_user_roles_each(tx, u->tenant_id, u->id, put_role_name, roles);
    return rc;
}
