/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rec_app_groups.c - this file contains the record operations of store.h for
 * groups pushed to downstream apps: the (app, group) link to the remote group,
 * the member rows scimd put there, and the member set the remote group should
 * have; their SQL written once for every backend (stmt.h).
 */
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "store/stmt.h"
#include "store/store.h"

#define GROUP_LINK_COLUMNS                                                                         \
    "tenant_id, app_id, group_id, remote_id, display_name, created_at, updated_at"
static const char SQL_GROUP_LINK_GET[] =
    "SELECT " GROUP_LINK_COLUMNS " FROM app_group_links WHERE tenant_id = ? AND app_id = ? "
    "AND group_id = ?";
static const char SQL_GROUP_LINK_PUT[] =
    "INSERT INTO app_group_links (" GROUP_LINK_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (tenant_id, app_id, group_id) DO UPDATE SET remote_id = excluded.remote_id, "
    "display_name = excluded.display_name, updated_at = excluded.updated_at";
static const char *const SQL_GROUP_LINK_DELETE[] = {
    "DELETE FROM app_group_members WHERE tenant_id = ? AND app_id = ? AND group_id = ?",
    "DELETE FROM app_group_links WHERE tenant_id = ? AND app_id = ? AND group_id = ?",
};
static const char SQL_GROUP_PUSHED[] =
    "SELECT p.user_id, p.remote_id, CASE WHEN l.remote_id = p.remote_id THEN 1 ELSE 0 END "
    "FROM app_group_members p LEFT JOIN app_links l ON l.tenant_id = p.tenant_id "
    "AND l.app_id = p.app_id AND l.user_id = p.user_id "
    "WHERE p.tenant_id = ? AND p.app_id = ? AND p.group_id = ? ORDER BY p.user_id";
static const char SQL_GROUP_WANTED[] =
    "SELECT m.user_id, l.remote_id, 1 FROM group_members m JOIN app_links l "
    "ON l.tenant_id = m.tenant_id AND l.app_id = ?2 AND l.user_id = m.user_id "
    "WHERE m.tenant_id = ?1 AND m.idp_id = ?3 AND m.group_id = ?4 AND l.active = 1 "
    "ORDER BY m.user_id";
static const char SQL_GROUP_PUSHED_ADD[] =
    "INSERT INTO app_group_members (tenant_id, app_id, group_id, user_id, remote_id) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id, app_id, group_id, user_id) DO UPDATE "
    "SET remote_id = excluded.remote_id";
static const char SQL_GROUP_PUSHED_REMOVE[] =
    "DELETE FROM app_group_members WHERE tenant_id = ? AND app_id = ? AND group_id = ? "
    "AND user_id = ?";
static const char SQL_GROUPS_OF_USER[] =
    "SELECT g.subject_id FROM app_grants g JOIN group_members m ON m.tenant_id = g.tenant_id "
    "AND m.idp_id = g.idp_id AND m.group_id = g.subject_id "
    "WHERE g.tenant_id = ?1 AND g.app_id = ?2 AND g.kind = 'group' AND m.user_id = ?3 "
    "UNION SELECT group_id FROM app_group_members "
    "WHERE tenant_id = ?1 AND app_id = ?2 AND user_id = ?3";
static const char SQL_GROUP_LINKED[] =
    "SELECT 1 FROM app_group_links WHERE tenant_id = ? AND app_id = ? AND group_id = ?";

void store_app_group_link_release(struct store_app_group_link *l)
{
    if (l == NULL)
        return;
    free(l->display_name);
    l->display_name = NULL;
}

static enum status read_group_link(struct stmt *st, void *out)
{
    struct store_app_group_link *l = out;
    memset(l, 0, sizeof(*l));
    rec_col_copy(st, 0, l->tenant_id, sizeof(l->tenant_id));
    rec_col_copy(st, 1, l->app_id, sizeof(l->app_id));
    rec_col_copy(st, 2, l->group_id, sizeof(l->group_id));
    rec_col_copy(st, 3, l->remote_id, sizeof(l->remote_id));
    rec_col_copy(st, 5, l->created_at, sizeof(l->created_at));
    rec_col_copy(st, 6, l->updated_at, sizeof(l->updated_at));
    return rec_col_dup(st, 4, &l->display_name) ? OK : ERR_NOMEM;
}

enum status store_app_group_link_get(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                     const char *group_id, struct store_app_group_link *out)
{
    const char *keys[] = { tenant_id, app_id, group_id };
    return rec_find(tx, SQL_GROUP_LINK_GET, keys, 3, read_group_link, out, "get group link");
}

enum status store_app_group_link_put(struct store_tx *tx, const struct store_app_group_link *l)
{
    char now[STORE_TIME_LEN];
    const char *created = rec_time_or_now(l->created_at, now);
    const char *values[] = { l->tenant_id,
                             l->app_id,
                             l->group_id,
                             l->remote_id,
                             l->display_name ? l->display_name : "",
                             created,
                             l->updated_at[0] ? l->updated_at : created };
    return rec_exec(tx, SQL_GROUP_LINK_PUT, values, 7, "put group link");
}

enum status store_app_group_link_delete(struct store_tx *tx, const char *tenant_id,
                                        const char *app_id, const char *group_id)
{
    const char *keys[] = { tenant_id, app_id, group_id };
    enum status rc = rec_exec(tx, SQL_GROUP_LINK_DELETE[0], keys, 3, "forget pushed members");
    return rc == OK ? rec_exec(tx, SQL_GROUP_LINK_DELETE[1], keys, 3, "delete group link") : rc;
}

static enum status each_member(struct stmt *st, rec_any_fn fn, void *ctx)
{
    struct store_app_group_member m = {
        .user_id = stmt_col_text(st, 0),
        .remote_id = stmt_col_text(st, 1),
        .account_exists = stmt_col_int(st, 2) != 0,
    };
    return ((store_app_group_member_fn)fn)(ctx, &m);
}

enum status store_app_group_pushed_each(struct store_tx *tx, const char *tenant_id,
                                        const char *app_id, const char *group_id,
                                        store_app_group_member_fn fn, void *ctx)
{
    const char *keys[] = { tenant_id, app_id, group_id };
    return rec_each(tx, SQL_GROUP_PUSHED, keys, 3, STMT_SCAN, each_member, (rec_any_fn)fn, ctx,
                    "list pushed members");
}

enum status store_app_group_wanted_each(struct store_tx *tx, const char *tenant_id,
                                        const char *app_id, const char *idp_id,
                                        const char *group_id, store_app_group_member_fn fn,
                                        void *ctx)
{
    const char *keys[] = { tenant_id, app_id, idp_id, group_id };
    return rec_each(tx, SQL_GROUP_WANTED, keys, 4, STMT_SCAN, each_member, (rec_any_fn)fn, ctx,
                    "list wanted members");
}

enum status store_app_group_pushed_add(struct store_tx *tx, const char *tenant_id,
                                       const char *app_id, const char *group_id,
                                       const char *const *user_ids, const char *const *remote_ids,
                                       size_t n)
{
    enum status rc = OK;
    for (size_t i = 0; rc == OK && i < n; i++) {
        const char *values[] = { tenant_id, app_id, group_id, user_ids[i], remote_ids[i] };
        rc = rec_exec(tx, SQL_GROUP_PUSHED_ADD, values, 5, "record pushed member");
    }
    return rc;
}

enum status store_app_group_pushed_remove(struct store_tx *tx, const char *tenant_id,
                                          const char *app_id, const char *group_id,
                                          const char *const *user_ids, size_t n)
{
    enum status rc = OK;
    for (size_t i = 0; rc == OK && i < n; i++) {
        const char *keys[] = { tenant_id, app_id, group_id, user_ids[i] };
        rc = rec_exec(tx, SQL_GROUP_PUSHED_REMOVE, keys, 4, "forget pushed member");
    }
    return rc;
}

static enum status each_id(struct stmt *st, rec_any_fn fn, void *ctx)
{
    return ((store_id_fn)fn)(ctx, stmt_col_text(st, 0));
}

enum status store_app_groups_of_user_each(struct store_tx *tx, const char *tenant_id,
                                          const char *app_id, const char *user_id, store_id_fn fn,
                                          void *ctx)
{
    const char *keys[] = { tenant_id, app_id, user_id };
    return rec_each(tx, SQL_GROUPS_OF_USER, keys, 3, 0, each_id, (rec_any_fn)fn, ctx,
                    "list pushed groups of user");
}

static enum status read_true(struct stmt *st, void *out)
{
    (void)st;
    *(bool *)out = true;
    return OK;
}

enum status store_app_group_linked(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                   const char *group_id, bool *out)
{
    const char *keys[] = { tenant_id, app_id, group_id };
    *out = false;
    enum status rc = rec_find(tx, SQL_GROUP_LINKED, keys, 3, read_true, out, "check group link");
    return rc == ERR_NOT_FOUND ? OK : rc;
}
