/* SPDX-License-Identifier: Apache-2.0 */
/*
 * roles.c - roles of a tenant and the groups that grant them (seed 004:
 * IdP groups mapped to roles).  A user's roles are the union of the roles
 * mapped to the groups it is a live member of (its IdP row of that group's
 * connection active and not deleted); they are recomputed in the
 * transaction of every change that can alter them, which appends
 * user_roles_changed {old, new} when they do.
 */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/str.h"
#include "directory/audit.h"
#include "directory/mirror.h"
#include "directory/mirroring.h"

#define ROLE_NAME_BYTES (STORE_NAME_MAX - 1)

/* ---- recomputing ------------------------------------------------------------------------ */

/* Roles as ids (for the store) and names (for the event), in name order. */
struct role_set {
    json_t *names;
    struct id_array ids;
};

static enum status role_set_add(void *ctx, const struct store_role *r)
{
    struct role_set *s = ctx;
    enum status rc = id_array_push(&s->ids, r->id);
    if (rc == OK && json_array_append_new(s->names, json_string(r->name)) != 0)
        rc = ERR_NOMEM;
    return rc;
}

static void role_set_release(struct role_set *s)
{
    json_decref(s->names);
    id_array_release(&s->ids);
}

static bool role_sets_equal(const struct role_set *a, const struct role_set *b)
{
    return a->ids.n == b->ids.n &&
           (a->ids.n == 0 || memcmp(a->ids.ids, b->ids.ids, a->ids.n * STORE_ID_LEN) == 0);
}

enum status roles_recompute(struct store_tx *tx, const struct audit_ctx *ctx, const char *tenant_id,
                            const char *user_id)
{
    struct role_set old = { .names = json_array() }, now = { .names = json_array() };
    enum status rc = old.names && now.names ? OK : ERR_NOMEM;
    if (rc == OK)
        rc = store_user_roles_each(tx, tenant_id, user_id, role_set_add, &old);
    if (rc == OK)
        rc = store_user_roles_granted(tx, tenant_id, user_id, role_set_add, &now);
    if (rc == OK && !role_sets_equal(&old, &now)) {
        const char **ids = malloc((now.ids.n ? now.ids.n : 1) * sizeof(*ids));
        for (size_t i = 0; ids && i < now.ids.n; i++)
            ids[i] = now.ids.ids[i];
        rc = ids ? store_user_roles_replace(tx, tenant_id, user_id, ids, now.ids.n) : ERR_NOMEM;
        free(ids);
        if (rc == OK) {
            json_t *summary = json_pack("{s:O,s:O}", "old", old.names, "new", now.names);
            rc =
                summary ? audit_append(tx, ctx, "user_roles_changed", user_id, summary) : ERR_NOMEM;
            json_decref(summary);
        }
    }
    role_set_release(&old);
    role_set_release(&now);
    return rc;
}

/* ---- admin operations ------------------------------------------------------------------- */

static enum status check_role_name(const char *name, struct scim_error *err)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > ROLE_NAME_BYTES || !str_utf8_valid(name, n))
        return scim_error_set(err, ERR_INVALID_VALUE, "role name must be 1 to %d bytes of UTF-8",
                              ROLE_NAME_BYTES);
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)name[i] < 0x20)
            return scim_error_set(err, ERR_INVALID_VALUE, "role name has a control character");
    }
    return OK;
}

enum status directory_role_create(struct directory *dir, const char *tenant_key, const char *name,
                                  const struct actor *by, struct store_role *out,
                                  struct scim_error *err)
{
    scim_error_clear(err);
    memset(out, 0, sizeof(*out));
    enum status rc = check_role_name(name, err);
    if (rc != OK)
        return rc;
    if ((rc = crypto_uuid(out->id)) != OK)
        return scim_error_set(err, rc, "no randomness available");
    struct store_tx *tx;
    struct store_tenant tenant;
    if ((rc = mirror_begin(dir, tenant_key, true, &tx, &tenant, err)) != OK)
        return rc;
    str_copy(out->tenant_id, sizeof(out->tenant_id), tenant.id);
    str_copy(out->name, sizeof(out->name), name);
    clock_now_iso(out->created_at);
    if ((rc = store_role_insert(tx, out)) == ERR_UNIQUENESS)
        scim_error_set(err, rc, "the tenant already has a role '%.64s'", name);
    if (rc == OK) {
        struct audit_ctx ctx = mirror_ctx(by, tenant.id, NULL);
        json_t *summary = json_pack("{s:s}", "name", out->name);
        rc = summary ? audit_append(tx, &ctx, "role_created", out->id, summary) : ERR_NOMEM;
        json_decref(summary);
    }
    return mirror_end(tx, rc, err);
}

/* In a write transaction, once guard passed: the role (by id, or by name
 * within tenant_key's tenant). */
static enum status find_role(struct directory *dir, const char *tenant_key, const char *role_key,
                             const struct directory_guard *guard, struct store_tx **tx,
                             struct store_role *role, struct scim_error *err)
{
    struct store_tenant tenant;
    enum status rc;
    if (tenant_key != NULL) {
        if ((rc = mirror_begin(dir, tenant_key, true, tx, &tenant, err)) != OK)
            return rc;
        if ((rc = directory_guard_check(guard, *tx, err)) == OK)
            rc = store_role_find(*tx, tenant.id, role_key, role);
    } else {
        if ((rc = directory_begin_change(dir, guard, tx, err)) != OK)
            return rc;
        rc = store_role_find(*tx, NULL, role_key, role);
    }
    if (rc == ERR_NOT_FOUND)
        scim_error_set(err, rc, "no role '%.64s'%s", role_key,
                       tenant_key ? "" : " (give --tenant to find a role by name)");
    if (rc != OK) {
        mirror_end(*tx, rc, err);
        *tx = NULL;
    }
    return rc;
}

/* Every user in ids gets its roles recomputed. */
static enum status recompute_all(struct store_tx *tx, const struct audit_ctx *ctx,
                                 const char *tenant_id, const struct id_array *ids)
{
    enum status rc = OK;
    for (size_t i = 0; rc == OK && i < ids->n; i++)
        rc = roles_recompute(tx, ctx, tenant_id, ids->ids[i]);
    return rc;
}

/* Once group (idp_id, group_id) was mapped to or unmapped from role: the event
 * (type: role_mapped, role_unmapped) and every member's roles recomputed. */
static enum status role_group_changed(struct store_tx *tx, const struct actor *by,
                                      const struct store_role *role, const char *type,
                                      const char *idp_id, const char *group_id)
{
    struct audit_ctx ctx = mirror_ctx(by, role->tenant_id, NULL);
    json_t *summary =
        json_pack("{s:s,s:s,s:s}", "role", role->name, "group_id", group_id, "idp_id", idp_id);
    enum status rc = summary ? audit_append(tx, &ctx, type, role->id, summary) : ERR_NOMEM;
    json_decref(summary);
    struct id_array m = { 0 };
    if (rc == OK)
        rc = store_group_members_each(tx, role->tenant_id, idp_id, group_id, true, id_array_push,
                                      &m);
    if (rc == OK)
        rc = recompute_all(tx, &ctx, role->tenant_id, &m);
    id_array_release(&m);
    return rc;
}

/* Map (map) or unmap group_key to or from the role: the row, its event and
 * every member's roles recomputed, in one transaction once guard passed. */
static enum status role_group_change(struct directory *dir, const char *tenant_key,
                                     const char *role_key, const char *group_key, bool map,
                                     const struct actor *by, const struct directory_guard *guard,
                                     struct scim_error *err)
{
    scim_error_clear(err);
    if (role_key == NULL || group_key == NULL)
        return scim_error_set(err, ERR_INVALID_VALUE, "a role and a group are required");
    struct store_tx *tx = NULL;
    struct store_role role;
    enum status rc = find_role(dir, tenant_key, role_key, guard, &tx, &role, err);
    if (rc != OK)
        return rc;
    char idp_id[STORE_ID_LEN], group_id[STORE_ID_LEN];
    rc = store_group_find_in_tenant(tx, role.tenant_id, group_key, idp_id, group_id);
    if (rc == ERR_NOT_FOUND && map)
        scim_error_set(err, rc, "no group '%.64s' in the role's tenant", group_key);
    if (rc == OK)
        rc = map ? store_role_group_add(tx, role.tenant_id, role.id, idp_id, group_id)
                 : store_role_group_remove(tx, role.tenant_id, role.id, idp_id, group_id);
    if (rc == ERR_NOT_FOUND && !map)
        scim_error_set(err, rc, "group '%.64s' is not mapped to role '%.64s'", group_key,
                       role.name);
    else if (rc == ERR_UNIQUENESS)
        scim_error_set(err, rc, "several groups are named '%.64s': give the group id", group_key);
    if (rc == OK)
        rc = role_group_changed(tx, by, &role, map ? "role_mapped" : "role_unmapped", idp_id,
                                group_id);
    return mirror_end(tx, rc, err);
}

enum status directory_role_map(struct directory *dir, const char *tenant_key, const char *role_key,
                               const char *group_key, const struct actor *by,
                               const struct directory_guard *guard, struct scim_error *err)
{
    return role_group_change(dir, tenant_key, role_key, group_key, true, by, guard, err);
}

enum status directory_role_unmap(struct directory *dir, const char *tenant_key,
                                 const char *role_key, const char *group_key,
                                 const struct actor *by, const struct directory_guard *guard,
                                 struct scim_error *err)
{
    return role_group_change(dir, tenant_key, role_key, group_key, false, by, guard, err);
}

enum status directory_role_delete(struct directory *dir, const char *tenant_key,
                                  const char *role_key, const struct actor *by,
                                  const struct directory_guard *guard, struct scim_error *err)
{
    scim_error_clear(err);
    if (role_key == NULL)
        return scim_error_set(err, ERR_INVALID_VALUE, "a role is required");
    struct store_tx *tx = NULL;
    struct store_role role;
    enum status rc = find_role(dir, tenant_key, role_key, guard, &tx, &role, err);
    if (rc != OK)
        return rc;
    /* unmapped first, so each holder's recompute sees the role go (and says so) */
    struct audit_ctx ctx = mirror_ctx(by, role.tenant_id, NULL);
    struct id_array holders = { 0 };
    rc = store_role_users_each(tx, role.tenant_id, role.id, id_array_push, &holders);
    if (rc == OK)
        rc = store_role_groups_clear(tx, role.tenant_id, role.id);
    if (rc == OK)
        rc = recompute_all(tx, &ctx, role.tenant_id, &holders);
    id_array_release(&holders);
    if (rc == OK)
        rc = store_role_delete(tx, role.tenant_id, role.id);
    if (rc == OK) {
        json_t *summary = json_pack("{s:s}", "name", role.name);
        rc = summary ? audit_append(tx, &ctx, "role_deleted", role.id, summary) : ERR_NOMEM;
        json_decref(summary);
    }
    return mirror_end(tx, rc, err);
}

static enum status list_group(void *ctx, const char *group_id, const char *display_name)
{
    return json_array_append_new(ctx, json_pack("{s:s,s:s}", "id", group_id, "displayName",
                                                display_name ? display_name : "")) == 0
               ? OK
               : ERR_NOMEM;
}

struct role_list {
    struct store_tx *tx;
    json_t *list;
};

static enum status list_role(void *ctx, const struct store_role *r)
{
    struct role_list *l = ctx;
    json_t *groups = json_array();
    json_t *o = groups ? json_pack("{s:s,s:s,s:s,s:O}", "id", r->id, "name", r->name, "created_at",
                                   r->created_at, "groups", groups)
                       : NULL;
    enum status rc =
        o ? store_role_groups_each(l->tx, r->tenant_id, r->id, list_group, groups) : ERR_NOMEM;
    json_decref(groups);
    if (rc == OK && json_array_append(l->list, o) != 0)
        rc = ERR_NOMEM;
    json_decref(o);
    return rc;
}

static enum status read_roles(struct store_tx *tx, const struct store_tenant *t, const void *ctx,
                              json_t **out, struct scim_error *err)
{
    (void)ctx;
    (void)err;
    struct role_list l = { tx, json_array() };
    *out = l.list;
    return l.list ? store_role_each(tx, t->id, list_role, &l) : ERR_NOMEM;
}

enum status directory_role_list(struct directory *dir, const char *tenant_key, json_t **out,
                                struct scim_error *err)
{
    return mirror_tenant_read(dir, tenant_key, read_roles, NULL, out, err);
}

enum status directory_role_list_in(struct store_tx *tx, const char *tenant_key, json_t **out,
                                   struct scim_error *err)
{
    return mirror_tenant_read_in(tx, tenant_key, read_roles, NULL, out, err);
}
