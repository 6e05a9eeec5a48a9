/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rec_mirror.c - this file contains the record operations of store.h for
 * attribute mirroring (custom fields, mirroring rules, derived field values),
 * tenant extension schemas and roles mapped from groups, written once for
 * every backend (stmt.h).
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlgen.h"
#include "store/stmt.h"
#include "store/store.h"

#include "core/str.h"

/* ---- custom fields ------------------------------------------------------------------ */

static const char SQL_FIELD_INSERT[] = "INSERT INTO custom_fields (tenant_id, name, type, "
                                       "created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING";
static const char SQL_FIELD_EACH[] = "SELECT tenant_id, name, type, created_at FROM custom_fields "
                                     "WHERE tenant_id = ? ORDER BY name";

static const char SQL_FIELD_DELETE[] = "DELETE FROM custom_fields WHERE tenant_id = ? AND name = ?";
static const char SQL_FIELD_RULES_DELETE[] =
    "DELETE FROM mirror_rules WHERE tenant_id = ? AND field = ?";
static const char SQL_FIELD_VALUES_DELETE[] =
    "DELETE FROM user_fields WHERE tenant_id = ? AND name = ?";

enum status store_field_delete(struct store_tx *tx, const char *tenant_id, const char *name)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_FIELD_DELETE, 0, "delete custom field", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, tenant_id);
    stmt_text(st, name);
    if ((rc = rec_done_one(st)) != OK)
        return rc;
    const char *keys[] = { tenant_id, name };
    rc = rec_exec(tx, SQL_FIELD_RULES_DELETE, keys, 2, "delete custom field rules");
    if (rc == OK)
        rc = rec_exec(tx, SQL_FIELD_VALUES_DELETE, keys, 2, "delete custom field values");
    return rc;
}

enum status store_field_insert(struct store_tx *tx, const struct store_field *f)
{
    char now[STORE_TIME_LEN];
    const char *values[] = { f->tenant_id, f->name, f->type, rec_time_or_now(f->created_at, now) };
    return rec_insert(tx, SQL_FIELD_INSERT, values, 4, "insert custom field");
}

static enum status each_field(struct stmt *st, rec_any_fn fn, void *ctx)
{
    struct store_field f;
    memset(&f, 0, sizeof(f));
    rec_col_copy(st, 0, f.tenant_id, sizeof(f.tenant_id));
    rec_col_copy(st, 1, f.name, sizeof(f.name));
    rec_col_copy(st, 2, f.type, sizeof(f.type));
    rec_col_copy(st, 3, f.created_at, sizeof(f.created_at));
    return ((store_field_fn)fn)(ctx, &f);
}

enum status store_field_each(struct store_tx *tx, const char *tenant_id, store_field_fn fn,
                             void *ctx)
{
    return rec_each(tx, SQL_FIELD_EACH, &tenant_id, 1, 0, each_field, (rec_any_fn)fn, ctx,
                    "list custom fields");
}

/* ---- mirroring rules ---------------------------------------------------------------- */

static const char SQL_RULE_PUT[] =
    "INSERT INTO mirror_rules (tenant_id, idp_id, field, path, updated_at) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (tenant_id, idp_id, field) DO UPDATE SET path = excluded.path, "
    "updated_at = excluded.updated_at";
/* kind 0: a custom field (name, type); kind 1: a rule (idp_id, field, path, updated_at) */
static const char SQL_CONFIG_EACH[] =
    "SELECT 0, name, type, '', created_at FROM custom_fields WHERE tenant_id = ?1 "
    "UNION ALL SELECT 1, idp_id, field, path, updated_at FROM mirror_rules WHERE tenant_id = ?1 "
    "ORDER BY 1, 2, 3";

enum status store_mirror_rule_put(struct store_tx *tx, const struct store_mirror_rule *r)
{
    char now[STORE_TIME_LEN];
    const char *values[] = { r->tenant_id, r->idp_id, r->field, r->path,
                             rec_time_or_now(r->updated_at, now) };
    return rec_exec(tx, SQL_RULE_PUT, values, 5, "put mirror rule");
}

struct config_fns {
    const char *tenant_id;
    store_field_fn field_fn;
    store_mirror_rule_fn rule_fn;
    void *ctx;
};

static enum status each_config_row(struct stmt *st, rec_any_fn fn, void *ctx)
{
    (void)fn;
    const struct config_fns *c = ctx;
    if (stmt_col_int(st, 0) == 0) {
        struct store_field f;
        memset(&f, 0, sizeof(f));
        str_copy(f.tenant_id, sizeof(f.tenant_id), c->tenant_id);
        rec_col_copy(st, 1, f.name, sizeof(f.name));
        rec_col_copy(st, 2, f.type, sizeof(f.type));
        rec_col_copy(st, 4, f.created_at, sizeof(f.created_at));
        return c->field_fn(c->ctx, &f);
    }
    struct store_mirror_rule r;
    memset(&r, 0, sizeof(r));
    str_copy(r.tenant_id, sizeof(r.tenant_id), c->tenant_id);
    rec_col_copy(st, 1, r.idp_id, sizeof(r.idp_id));
    rec_col_copy(st, 2, r.field, sizeof(r.field));
    rec_col_copy(st, 3, r.path, sizeof(r.path));
    rec_col_copy(st, 4, r.updated_at, sizeof(r.updated_at));
    return c->rule_fn(c->ctx, &r);
}

enum status store_mirror_config_each(struct store_tx *tx, const char *tenant_id,
                                     store_field_fn field_fn, store_mirror_rule_fn rule_fn,
                                     void *ctx)
{
    struct config_fns c = { tenant_id, field_fn, rule_fn, ctx };
    return rec_each(tx, SQL_CONFIG_EACH, &tenant_id, 1, 0, each_config_row, NULL, &c,
                    "mirroring configuration");
}

/* ---- derived custom field values ---------------------------------------------------- */

static const char SQL_USER_FIELDS_CLEAR[] =
    "DELETE FROM user_fields WHERE tenant_id = ? AND user_id = ?";
static const char SQL_USER_FIELD_INSERT[] =
    "INSERT INTO user_fields (tenant_id, user_id, name, value, idp_id) VALUES (?, ?, ?, ?, ?)";
static const char SQL_USER_FIELD_EACH[] = "SELECT name, value, idp_id FROM user_fields "
                                          "WHERE tenant_id = ? AND user_id = ? ORDER BY name";

enum status store_user_fields_replace(struct store_tx *tx, const char *tenant_id,
                                      const char *user_id, const struct store_user_field *fields,
                                      size_t n)
{
    const char *keys[] = { tenant_id, user_id };
    enum status rc = rec_exec(tx, SQL_USER_FIELDS_CLEAR, keys, 2, "clear user fields");
    for (size_t i = 0; rc == OK && i < n; i++) {
        const char *values[] = { tenant_id, user_id, fields[i].name, fields[i].value,
                                 fields[i].idp_id };
        rc = rec_exec(tx, SQL_USER_FIELD_INSERT, values, 5, "insert user field");
    }
    return rc;
}

static enum status each_user_field(struct stmt *st, rec_any_fn fn, void *ctx)
{
    struct store_user_field f = { rec_col_view(st, 0), rec_col_view(st, 1), rec_col_view(st, 2) };
    return ((store_user_field_fn)fn)(ctx, &f);
}

enum status store_user_field_each(struct store_tx *tx, const char *tenant_id, const char *user_id,
                                  store_user_field_fn fn, void *ctx)
{
    const char *keys[] = { tenant_id, user_id };
    return rec_each(tx, SQL_USER_FIELD_EACH, keys, 2, 0, each_user_field, (rec_any_fn)fn, ctx,
                    "list user fields");
}

/* ---- tenant extension schemas ------------------------------------------------------- */

static const char SQL_SCHEMA_INSERT[] =
    "INSERT INTO tenant_schemas (tenant_id, urn, urn_lc, attrs, created_at) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
static const char SQL_SCHEMA_EACH[] = "SELECT tenant_id, urn, attrs, created_at "
                                      "FROM tenant_schemas WHERE tenant_id = ? ORDER BY urn_lc";

enum status store_tenant_schema_insert(struct store_tx *tx, const struct store_tenant_schema *s)
{
    char *lc = sqlgen_key_dup(s->urn);
    if (lc == NULL)
        return ERR_NOMEM;
    char now[STORE_TIME_LEN];
    const char *values[] = { s->tenant_id, s->urn, lc, s->attrs,
                             rec_time_or_now(s->created_at, now) };
    enum status rc = rec_insert(tx, SQL_SCHEMA_INSERT, values, 5, "insert tenant schema");
    free(lc);
    return rc;
}

static enum status each_schema(struct stmt *st, rec_any_fn fn, void *ctx)
{
    struct store_tenant_schema s;
    memset(&s, 0, sizeof(s));
    rec_col_copy(st, 0, s.tenant_id, sizeof(s.tenant_id));
    rec_col_copy(st, 1, s.urn, sizeof(s.urn));
    s.attrs = rec_col_view(st, 2);
    rec_col_copy(st, 3, s.created_at, sizeof(s.created_at));
    return ((store_tenant_schema_fn)fn)(ctx, &s);
}

enum status store_tenant_schema_each(struct store_tx *tx, const char *tenant_id,
                                     store_tenant_schema_fn fn, void *ctx)
{
    return rec_each(tx, SQL_SCHEMA_EACH, &tenant_id, 1, 0, each_schema, (rec_any_fn)fn, ctx,
                    "list tenant schemas");
}

/* ---- roles -------------------------------------------------------------------------- */

#define ROLE_COLUMNS "r.tenant_id, r.id, r.name, r.created_at"
static const char SQL_ROLE_INSERT[] =
    "INSERT INTO roles (tenant_id, id, name, name_lc, created_at) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT DO NOTHING";
static const char SQL_ROLE_BY_ID[] = "SELECT " ROLE_COLUMNS " FROM roles r "
                                     "WHERE r.tenant_id = ? AND r.id = ?";
static const char SQL_ROLE_BY_ID_ANY[] = "SELECT " ROLE_COLUMNS " FROM roles r WHERE r.id = ?";
static const char SQL_ROLE_BY_NAME[] = "SELECT " ROLE_COLUMNS " FROM roles r "
                                       "WHERE r.tenant_id = ? AND r.name_lc = ?";
static const char SQL_ROLE_EACH[] = "SELECT " ROLE_COLUMNS " FROM roles r "
                                    "WHERE r.tenant_id = ? ORDER BY r.name, r.id";
static const char SQL_ROLE_GROUP_ADD[] =
    "INSERT INTO role_groups (tenant_id, role_id, idp_id, group_id) VALUES (?, ?, ?, ?) "
    "ON CONFLICT DO NOTHING";
static const char SQL_ROLE_GROUPS_EACH[] =
    "SELECT g.id, g.display_name FROM role_groups rg JOIN groups g ON g.tenant_id = rg.tenant_id "
    "AND g.idp_id = rg.idp_id AND g.id = rg.group_id WHERE rg.tenant_id = ? AND rg.role_id = ? "
    "ORDER BY g.display_name, g.id";
static const char SQL_GROUP_HAS_ROLES[] =
    "SELECT 1 FROM role_groups WHERE tenant_id = ? AND idp_id = ? AND group_id = ? LIMIT 1";
static const char SQL_GROUP_BY_ID_IN_TENANT[] =
    "SELECT idp_id, id FROM groups WHERE tenant_id = ? AND id = ?";
static const char SQL_GROUP_BY_NAME_IN_TENANT[] =
    "SELECT idp_id, id FROM groups WHERE tenant_id = ? AND display_name_lc = ? LIMIT 2";
/* Through the user's live IdP rows (active, not deleted) to their memberships. */
static const char SQL_USER_ROLES_GRANTED[] =
    "SELECT DISTINCT " ROLE_COLUMNS " FROM idp_users iu "
    "JOIN group_members m ON m.tenant_id = iu.tenant_id AND m.idp_id = iu.idp_id "
    "AND m.user_id = iu.user_id "
    "JOIN role_groups rg ON rg.tenant_id = m.tenant_id AND rg.idp_id = m.idp_id "
    "AND rg.group_id = m.group_id "
    "JOIN roles r ON r.tenant_id = rg.tenant_id AND r.id = rg.role_id "
    "WHERE iu.tenant_id = ? AND iu.user_id = ? AND iu.deleted = 0 AND iu.active = 1 "
    "ORDER BY r.name, r.id";
static const char SQL_USER_ROLES_EACH[] =
    "SELECT " ROLE_COLUMNS " FROM user_roles ur JOIN roles r ON r.tenant_id = ur.tenant_id "
    "AND r.id = ur.role_id WHERE ur.tenant_id = ? AND ur.user_id = ? ORDER BY r.name, r.id";
static const char SQL_USER_ROLES_CLEAR[] =
    "DELETE FROM user_roles WHERE tenant_id = ? AND user_id = ?";
static const char SQL_USER_ROLE_INSERT[] =
    "INSERT INTO user_roles (tenant_id, user_id, role_id) VALUES (?, ?, ?) "
    "ON CONFLICT DO NOTHING";

enum status store_role_insert(struct store_tx *tx, const struct store_role *r)
{
    char *lc = sqlgen_key_dup(r->name);
    if (lc == NULL)
        return ERR_NOMEM;
    char now[STORE_TIME_LEN];
    const char *values[] = { r->tenant_id, r->id, r->name, lc,
                             rec_time_or_now(r->created_at, now) };
    enum status rc = rec_insert(tx, SQL_ROLE_INSERT, values, 5, "insert role");
    free(lc);
    return rc;
}

static enum status read_role(struct stmt *st, void *out)
{
    struct store_role *r = out;
    memset(r, 0, sizeof(*r));
    rec_col_copy(st, 0, r->tenant_id, sizeof(r->tenant_id));
    rec_col_copy(st, 1, r->id, sizeof(r->id));
    rec_col_copy(st, 2, r->name, sizeof(r->name));
    rec_col_copy(st, 3, r->created_at, sizeof(r->created_at));
    return OK;
}

static enum status each_role(struct stmt *st, rec_any_fn fn, void *ctx)
{
    struct store_role r;
    read_role(st, &r);
    return ((store_role_fn)fn)(ctx, &r);
}

enum status store_role_find(struct store_tx *tx, const char *tenant_id, const char *key,
                            struct store_role *out)
{
    if (tenant_id == NULL)
        return rec_find(tx, SQL_ROLE_BY_ID_ANY, &key, 1, read_role, out, "find role");
    const char *by_id[] = { tenant_id, key };
    enum status rc = rec_find(tx, SQL_ROLE_BY_ID, by_id, 2, read_role, out, "find role");
    if (rc != ERR_NOT_FOUND)
        return rc;
    char *lc = sqlgen_key_dup(key);
    if (lc == NULL)
        return ERR_NOMEM;
    const char *by_name[] = { tenant_id, lc };
    rc = rec_find(tx, SQL_ROLE_BY_NAME, by_name, 2, read_role, out, "find role");
    free(lc);
    return rc;
}

enum status store_role_each(struct store_tx *tx, const char *tenant_id, store_role_fn fn, void *ctx)
{
    return rec_each(tx, SQL_ROLE_EACH, &tenant_id, 1, 0, each_role, (rec_any_fn)fn, ctx,
                    "list roles");
}

enum status store_role_group_add(struct store_tx *tx, const char *tenant_id, const char *role_id,
                                 const char *idp_id, const char *group_id)
{
    const char *values[] = { tenant_id, role_id, idp_id, group_id };
    return rec_exec(tx, SQL_ROLE_GROUP_ADD, values, 4, "map group to role");
}

static const char SQL_ROLE_GROUP_REMOVE[] = "DELETE FROM role_groups WHERE tenant_id = ? "
                                            "AND role_id = ? AND idp_id = ? AND group_id = ?";
static const char SQL_ROLE_GROUPS_CLEAR[] =
    "DELETE FROM role_groups WHERE tenant_id = ? AND role_id = ?";
static const char SQL_ROLE_USERS_EACH[] =
    "SELECT user_id FROM user_roles WHERE tenant_id = ? AND role_id = ? ORDER BY user_id";
static const char SQL_ROLE_USERS_CLEAR[] =
    "DELETE FROM user_roles WHERE tenant_id = ? AND role_id = ?";
static const char SQL_ROLE_DELETE[] = "DELETE FROM roles WHERE tenant_id = ? AND id = ?";

enum status store_role_group_remove(struct store_tx *tx, const char *tenant_id, const char *role_id,
                                    const char *idp_id, const char *group_id)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_ROLE_GROUP_REMOVE, 0, "unmap group from role", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, tenant_id);
    stmt_text(st, role_id);
    stmt_text(st, idp_id);
    stmt_text(st, group_id);
    return rec_done_one(st);
}

enum status store_role_groups_clear(struct store_tx *tx, const char *tenant_id, const char *role_id)
{
    const char *keys[] = { tenant_id, role_id };
    return rec_exec(tx, SQL_ROLE_GROUPS_CLEAR, keys, 2, "unmap role groups");
}

static enum status each_id(struct stmt *st, rec_any_fn fn, void *ctx)
{
    return ((store_id_fn)fn)(ctx, stmt_col_text(st, 0));
}

enum status store_role_users_each(struct store_tx *tx, const char *tenant_id, const char *role_id,
                                  store_id_fn fn, void *ctx)
{
    const char *keys[] = { tenant_id, role_id };
    return rec_each(tx, SQL_ROLE_USERS_EACH, keys, 2, 0, each_id, (rec_any_fn)fn, ctx,
                    "list role holders");
}

enum status store_role_delete(struct store_tx *tx, const char *tenant_id, const char *role_id)
{
    const char *keys[] = { tenant_id, role_id };
    enum status rc = rec_exec(tx, SQL_ROLE_GROUPS_CLEAR, keys, 2, "unmap role groups");
    if (rc == OK)
        rc = rec_exec(tx, SQL_ROLE_USERS_CLEAR, keys, 2, "clear role holders");
    struct stmt *st;
    if (rc == OK && (rc = stmt_prepare(tx, SQL_ROLE_DELETE, 0, "delete role", &st)) == OK) {
        stmt_text(st, tenant_id);
        stmt_text(st, role_id);
        rc = rec_done_one(st);
    }
    return rc;
}

static enum status each_group_of(struct stmt *st, rec_any_fn fn, void *ctx)
{
    return ((store_group_of_fn)fn)(ctx, stmt_col_text(st, 0), stmt_col_text(st, 1));
}

enum status store_role_groups_each(struct store_tx *tx, const char *tenant_id, const char *role_id,
                                   store_group_of_fn fn, void *ctx)
{
    const char *keys[] = { tenant_id, role_id };
    return rec_each(tx, SQL_ROLE_GROUPS_EACH, keys, 2, 0, each_group_of, (rec_any_fn)fn, ctx,
                    "list role groups");
}

struct group_key {
    char *idp_id;
    char *group_id;
    size_t n;
};

static enum status read_group_key(struct stmt *st, rec_any_fn fn, void *ctx)
{
    (void)fn;
    struct group_key *k = ctx;
    if (k->n++ == 0) {
        rec_col_copy(st, 0, k->idp_id, STORE_ID_LEN);
        rec_col_copy(st, 1, k->group_id, STORE_ID_LEN);
    }
    return OK;
}

enum status store_group_find_in_tenant(struct store_tx *tx, const char *tenant_id, const char *key,
                                       char idp_id[STORE_ID_LEN], char group_id[STORE_ID_LEN])
{
    if (strlen(key) > STORE_INDEXED_VALUE_MAX)
        return ERR_NOT_FOUND;
    struct group_key k = { idp_id, group_id, 0 };
    const char *by_id[] = { tenant_id, key };
    enum status rc = rec_each(tx, SQL_GROUP_BY_ID_IN_TENANT, by_id, 2, 0, read_group_key, NULL, &k,
                              "find group");
    if (rc != OK || k.n > 0)
        return rc;
    char *lc = sqlgen_key_dup(key);
    if (lc == NULL)
        return ERR_NOMEM;
    const char *by_name[] = { tenant_id, lc };
    rc = rec_each(tx, SQL_GROUP_BY_NAME_IN_TENANT, by_name, 2, 0, read_group_key, NULL, &k,
                  "find group");
    free(lc);
    if (rc != OK)
        return rc;
    return k.n == 0 ? ERR_NOT_FOUND : k.n > 1 ? ERR_UNIQUENESS : OK;
}

static enum status read_nothing(struct stmt *st, void *out)
{
    (void)st;
    (void)out;
    return OK;
}

enum status store_group_has_roles(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                                  const char *group_id, bool *out)
{
    const char *keys[] = { tenant_id, idp_id, group_id };
    enum status rc = rec_find(tx, SQL_GROUP_HAS_ROLES, keys, 3, read_nothing, NULL, "group roles");
    *out = rc == OK;
    return rc == ERR_NOT_FOUND ? OK : rc;
}

enum status store_user_roles_granted(struct store_tx *tx, const char *tenant_id,
                                     const char *user_id, store_role_fn fn, void *ctx)
{
    const char *keys[] = { tenant_id, user_id };
    return rec_each(tx, SQL_USER_ROLES_GRANTED, keys, 2, 0, each_role, (rec_any_fn)fn, ctx,
                    "roles granted");
}

enum status store_user_roles_each(struct store_tx *tx, const char *tenant_id, const char *user_id,
                                  store_role_fn fn, void *ctx)
{
    const char *keys[] = { tenant_id, user_id };
    return rec_each(tx, SQL_USER_ROLES_EACH, keys, 2, 0, each_role, (rec_any_fn)fn, ctx,
                    "list user roles");
}

enum status store_user_roles_replace(struct store_tx *tx, const char *tenant_id,
                                     const char *user_id, const char *const *role_ids, size_t n)
{
    const char *keys[] = { tenant_id, user_id };
    enum status rc = rec_exec(tx, SQL_USER_ROLES_CLEAR, keys, 2, "clear user roles");
    for (size_t i = 0; rc == OK && i < n; i++) {
        const char *values[] = { tenant_id, user_id, role_ids[i] };
        rc = rec_exec(tx, SQL_USER_ROLE_INSERT, values, 3, "insert user role");
    }
    return rc;
}
