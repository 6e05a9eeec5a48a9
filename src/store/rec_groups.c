/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rec_groups.c - this file contains the record operations of store.h for
 * SCIM groups and their member rows (and group searches): their SQL,
 * parameters and row decoding, written once for every backend (stmt.h).
 * Member changes go ID_BATCH_MAX ids per statement: each id is one index
 * probe, so the cost of a change does not depend on the size of the group,
 * and one round trip serves many ids.
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlgen.h"
#include "store/stmt.h"
#include "store/store.h"

#include "core/str.h"

#define ID_BATCH_MAX 1000 /* member ids per statement */

static const char SQL_GROUP_INSERT[] =
    "INSERT INTO groups (tenant_id, idp_id, id, external_id, display_name, display_name_lc, "
    "version, doc, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT DO NOTHING";
static const char SQL_GROUP_UPDATE[] =
    "UPDATE groups SET external_id = ?, display_name = ?, display_name_lc = ?, version = ?, "
    "doc = ?, updated_at = ? WHERE tenant_id = ? AND idp_id = ? AND id = ?";
static const char SQL_GROUP_GET[] = "SELECT " SQLGEN_GROUP_COLUMNS " FROM groups "
                                    "WHERE tenant_id = ? AND idp_id = ? AND id = ?";
static const char SQL_GROUP_BY_EXTERNAL_ID[] =
    "SELECT " SQLGEN_GROUP_COLUMNS " FROM groups "
    "WHERE tenant_id = ? AND idp_id = ? AND external_id = ?";
static const char SQL_GROUP_DELETE[] =
    "DELETE FROM groups WHERE tenant_id = ? AND idp_id = ? AND id = ?";
/* role_groups has no foreign key to groups: its rows go with the group here. */
static const char SQL_GROUP_ROLES_DELETE[] =
    "DELETE FROM role_groups WHERE tenant_id = ? AND idp_id = ? AND group_id = ?";
/* The ids of ?3 (in their order, repeats included) that are not live users. */
#define SQL_USERS_MISSING(D)                                                                       \
    "SELECT ids.value FROM " STMT_FRAGMENT(D, IDS)(                                                \
        "?3") " WHERE NOT EXISTS "                                                                 \
              "(SELECT 1 FROM idp_users AS i WHERE i.tenant_id = ?1 AND i.idp_id = ?2 "            \
              "AND i.user_id = ids.value AND i.deleted = 0) ORDER BY ids.key"
#define SQL_MEMBERS_ADD(D)                                                                         \
    "INSERT INTO group_members (tenant_id, idp_id, group_id, user_id) "                            \
    "SELECT CAST(?1 AS TEXT), CAST(?2 AS TEXT), CAST(?3 AS TEXT), ids.value "                      \
    "FROM " STMT_FRAGMENT(D, IDS)("?4") " WHERE true ON CONFLICT DO NOTHING RETURNING user_id"
#define SQL_MEMBERS_REMOVE(D)                                                                      \
    "DELETE FROM group_members WHERE tenant_id = ?1 AND idp_id = ?2 AND group_id = ?3 "            \
    "AND user_id IN (SELECT ids.value FROM " STMT_FRAGMENT(D, IDS)("?4") ") RETURNING user_id"
static const char *const SQL_USERS_MISSING_IN[STMT_DIALECTS] = STMT_PER_DIALECT(SQL_USERS_MISSING);
static const char *const SQL_MEMBERS_ADD_IN[STMT_DIALECTS] = STMT_PER_DIALECT(SQL_MEMBERS_ADD);
static const char *const SQL_MEMBERS_REMOVE_IN[STMT_DIALECTS] =
    STMT_PER_DIALECT(SQL_MEMBERS_REMOVE);
static const char SQL_MEMBERS_EACH[] =
    "SELECT user_id FROM group_members "
    "WHERE tenant_id = ? AND idp_id = ? AND group_id = ? ORDER BY user_id";
static const char SQL_MEMBERS_EACH_LIVE[] =
    "SELECT m.user_id FROM group_members AS m JOIN idp_users AS u ON u.tenant_id = m.tenant_id "
    "AND u.idp_id = m.idp_id AND u.user_id = m.user_id AND u.deleted = 0 "
    "WHERE m.tenant_id = ? AND m.idp_id = ? AND m.group_id = ? ORDER BY m.user_id";
static const char SQL_MEMBERS_CLEAR[] =
    "DELETE FROM group_members WHERE tenant_id = ? AND idp_id = ? AND group_id = ?";
static const char SQL_USER_IN_GROUPS[] =
    "SELECT 1 FROM group_members WHERE tenant_id = ? AND idp_id = ? AND user_id = ? LIMIT 1";
static const char SQL_GROUPS_OF_USER[] =
    "SELECT g.id, g.display_name FROM group_members AS m JOIN groups AS g ON g.tenant_id = "
    "m.tenant_id AND g.idp_id = m.idp_id AND g.id = m.group_id "
    "WHERE m.tenant_id = ? AND m.idp_id = ? AND m.user_id = ? ORDER BY m.group_id";

/* ---- groups ------------------------------------------------------------------------- */

static enum status read_group(struct stmt *st, struct store_group *g, bool copy)
{
    memset(g, 0, sizeof(*g));
    rec_col_copy(st, SQLGEN_G_TENANT_ID, g->tenant_id, sizeof(g->tenant_id));
    rec_col_copy(st, SQLGEN_G_IDP_ID, g->idp_id, sizeof(g->idp_id));
    rec_col_copy(st, SQLGEN_G_ID, g->id, sizeof(g->id));
    g->version = stmt_col_int(st, SQLGEN_G_VERSION);
    rec_col_copy(st, SQLGEN_G_CREATED_AT, g->created_at, sizeof(g->created_at));
    rec_col_copy(st, SQLGEN_G_UPDATED_AT, g->updated_at, sizeof(g->updated_at));
    if (!copy) {
        g->external_id = rec_col_view(st, SQLGEN_G_EXTERNAL_ID);
        g->display_name = rec_col_view(st, SQLGEN_G_DISPLAY_NAME);
        g->doc = rec_col_view(st, SQLGEN_G_DOC);
        return OK;
    }
    if (!rec_col_dup(st, SQLGEN_G_EXTERNAL_ID, &g->external_id) ||
        !rec_col_dup(st, SQLGEN_G_DISPLAY_NAME, &g->display_name) ||
        !rec_col_dup(st, SQLGEN_G_DOC, &g->doc)) {
        store_group_release(g);
        return ERR_NOMEM;
    }
    return OK;
}

static enum status read_group_copy(struct stmt *st, void *out)
{
    return read_group(st, out, true);
}

/* An externalId taken by another group: ERR_UNIQUENESS (an update's on PostgreSQL
 * aborts the transaction). */
static enum status group_write(struct store_tx *tx, const struct store_group *g, bool insert)
{
    if ((g->display_name && strlen(g->display_name) > STORE_INDEXED_VALUE_MAX) ||
        (g->external_id && strlen(g->external_id) > STORE_INDEXED_VALUE_MAX))
        return ERR_INVALID_VALUE;
    char *lc = sqlgen_key_dup(g->display_name);
    if (g->display_name != NULL && lc == NULL)
        return ERR_NOMEM;
    struct stmt *st;
    enum status rc = stmt_prepare(tx, insert ? SQL_GROUP_INSERT : SQL_GROUP_UPDATE, 0,
                                  insert ? "insert group" : "update group", &st);
    if (rc == OK) {
        char now[STORE_TIME_LEN];
        if (insert) {
            stmt_text(st, g->tenant_id);
            stmt_text(st, g->idp_id);
            stmt_text(st, g->id);
        }
        stmt_text(st, g->external_id);
        stmt_text(st, g->display_name);
        stmt_text(st, lc);
        stmt_int(st, g->version);
        stmt_text(st, g->doc);
        if (insert) {
            const char *created_at = rec_time_or_now(g->created_at, now);
            stmt_text(st, created_at);
            stmt_text(st, g->updated_at[0] ? g->updated_at : created_at);
            rc = rec_done_insert(st);
        } else {
            stmt_text(st, rec_time_or_now(g->updated_at, now));
            stmt_text(st, g->tenant_id);
            stmt_text(st, g->idp_id);
            stmt_text(st, g->id);
            rc = rec_done_one(st);
        }
    }
    free(lc);
    return rc;
}

enum status store_group_insert(struct store_tx *tx, const struct store_group *g)
{
    return group_write(tx, g, true);
}

enum status store_group_update(struct store_tx *tx, const struct store_group *g)
{
    return group_write(tx, g, false);
}

enum status store_group_get(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                            const char *id, struct store_group *out)
{
    memset(out, 0, sizeof(*out));
    const char *keys[] = { tenant_id, idp_id, id };
    return rec_find(tx, SQL_GROUP_GET, keys, 3, read_group_copy, out, "get group");
}

enum status store_group_by_external_id(struct store_tx *tx, const char *tenant_id,
                                       const char *idp_id, const char *external_id,
                                       struct store_group *out)
{
    memset(out, 0, sizeof(*out));
    const char *keys[] = { tenant_id, idp_id, external_id };
    return rec_find(tx, SQL_GROUP_BY_EXTERNAL_ID, keys, 3, read_group_copy, out, "get group");
}

enum status store_group_delete(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                               const char *id)
{
    /* member rows go with the group (ON DELETE CASCADE) */
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_GROUP_DELETE, 0, "delete group", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, tenant_id);
    stmt_text(st, idp_id);
    stmt_text(st, id);
    if ((rc = rec_done_one(st)) != OK)
        return rc;
    const char *keys[] = { tenant_id, idp_id, id };
    return rec_exec(tx, SQL_GROUP_ROLES_DELETE, keys, 3, "delete group role mappings");
}

static enum status each_group(struct stmt *st, rec_any_fn fn, void *ctx)
{
    struct store_group g;
    read_group(st, &g, false);
    return ((store_group_fn)fn)(ctx, &g);
}

enum status store_group_search(struct store_tx *tx, const struct store_search *q, store_group_fn fn,
                               void *ctx, struct store_search_result *res)
{
    return rec_search(tx, q, sqlgen_group_search, each_group, (rec_any_fn)fn, ctx, res,
                      "search groups");
}

/* ---- members ------------------------------------------------------------------------ */

static enum status each_id(struct stmt *st, rec_any_fn fn, void *ctx)
{
    return ((store_id_fn)fn)(ctx, stmt_col_text(st, 0));
}

struct changed_id {
    char *id;
    bool seen;
};

static int changed_id_cmp(const void *a, const void *b)
{
    return strcmp(((const struct changed_id *)a)->id, ((const struct changed_id *)b)->id);
}

/* The ids of st's rows (one each, copied), sorted; *n_out of them.  NULL and
 * *n_out 0 for none; ERR_NOMEM or the statement's failure. */
static enum status changed_ids(struct stmt *st, struct changed_id **out, size_t *n_out)
{
    struct changed_id *ids = NULL;
    size_t n = 0, cap = 0;
    enum status rc;
    while ((rc = stmt_step(st)) == OK) {
        if (n == cap) {
            size_t grown = cap ? 2 * cap : 16;
            struct changed_id *more = realloc(ids, grown * sizeof(*ids));
            if (more == NULL) {
                rc = ERR_NOMEM;
                break;
            }
            ids = more;
            cap = grown;
        }
        const char *id = stmt_col_text(st, 0);
        ids[n].id = id ? str_dup(id) : NULL;
        ids[n].seen = false;
        if (ids[n].id == NULL) {
            rc = ERR_NOMEM;
            break;
        }
        n++;
    }
    if (rc == ERR_NOT_FOUND) {
        rc = OK;
        if (n > 0)
            qsort(ids, n, sizeof(*ids), changed_id_cmp);
    }
    if (rc != OK) {
        for (size_t i = 0; i < n; i++)
            free(ids[i].id);
        free(ids);
        ids = NULL;
        n = 0;
    }
    *out = ids;
    *n_out = n;
    return rc;
}

/* Call fn for each of ids[0..n) among changed[0..n_changed): once each, in the
 * order of ids, as one statement per id would. */
static enum status deliver_changed(struct changed_id *changed, size_t n_changed,
                                   const char *const *ids, size_t n, store_id_fn fn, void *ctx)
{
    enum status rc = OK;
    for (size_t i = 0; rc == OK && n_changed > 0 && i < n; i++) {
        if (ids[i] == NULL)
            continue;
        struct changed_id key = { (char *)ids[i], false };
        struct changed_id *hit =
            bsearch(&key, changed, n_changed, sizeof(*changed), changed_id_cmp);
        if (hit != NULL && !hit->seen) {
            hit->seen = true;
            rc = fn(ctx, ids[i]);
        }
    }
    return rc;
}

/* Run sql (one of the STMT_PER_DIALECT member statements) over user_ids, ID_BATCH_MAX per
 * statement, after the keys[0..n_keys); each(row) per row, or with changed, fn per id changed. */
static enum status id_batches(struct store_tx *tx, const char *const sql[STMT_DIALECTS],
                              const char *const *keys, size_t n_keys, const char *const *user_ids,
                              size_t n, bool changed, store_id_fn fn, void *ctx, const char *what)
{
    for (size_t start = 0; start < n; start += ID_BATCH_MAX) {
        size_t k = n - start < ID_BATCH_MAX ? n - start : ID_BATCH_MAX;
        char *json = rec_ids_json(user_ids + start, k);
        if (json == NULL)
            return ERR_NOMEM;
        struct stmt *st;
        enum status rc = stmt_prepare(tx, stmt_sql(tx, sql), 0, what, &st);
        for (size_t i = 0; rc == OK && i < n_keys; i++)
            stmt_text(st, keys[i]);
        if (rc == OK) {
            stmt_text(st, json);
            if (!changed) {
                rc = rec_rows(st, each_id, (rec_any_fn)fn, ctx);
            } else {
                struct changed_id *ids = NULL;
                size_t n_ids = 0;
                rc = changed_ids(st, &ids, &n_ids);
                stmt_finish(st);
                if (rc == OK && fn != NULL)
                    rc = deliver_changed(ids, n_ids, user_ids + start, k, fn, ctx);
                for (size_t i = 0; i < n_ids; i++)
                    free(ids[i].id);
                free(ids);
            }
        }
        free(json);
        if (rc != OK)
            return rc;
    }
    return OK;
}

enum status store_users_missing(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                                const char *const *user_ids, size_t n, store_id_fn fn, void *ctx)
{
    const char *keys[] = { tenant_id, idp_id };
    return id_batches(tx, SQL_USERS_MISSING_IN, keys, 2, user_ids, n, false, fn, ctx, "live users");
}

enum status store_group_members_add(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                                    const char *group_id, const char *const *user_ids, size_t n,
                                    store_id_fn fn, void *ctx)
{
    const char *keys[] = { tenant_id, idp_id, group_id };
    return id_batches(tx, SQL_MEMBERS_ADD_IN, keys, 3, user_ids, n, true, fn, ctx, "add members");
}

enum status store_group_members_remove(struct store_tx *tx, const char *tenant_id,
                                       const char *idp_id, const char *group_id,
                                       const char *const *user_ids, size_t n, store_id_fn fn,
                                       void *ctx)
{
    const char *keys[] = { tenant_id, idp_id, group_id };
    return id_batches(tx, SQL_MEMBERS_REMOVE_IN, keys, 3, user_ids, n, true, fn, ctx,
                      "remove members");
}

enum status store_group_members_clear(struct store_tx *tx, const char *tenant_id,
                                      const char *idp_id, const char *group_id, store_id_fn fn,
                                      void *ctx)
{
    const char *keys[] = { tenant_id, idp_id, group_id };
    enum status rc = OK;
    if (fn != NULL)
        rc = rec_each(tx, SQL_MEMBERS_EACH, keys, 3, STMT_SCAN, each_id, (rec_any_fn)fn, ctx,
                      "list members");
    return rc == OK ? rec_exec(tx, SQL_MEMBERS_CLEAR, keys, 3, "clear members") : rc;
}

enum status store_group_members_each(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                                     const char *group_id, bool live_only, store_id_fn fn,
                                     void *ctx)
{
    const char *keys[] = { tenant_id, idp_id, group_id };
    return rec_each(tx, live_only ? SQL_MEMBERS_EACH_LIVE : SQL_MEMBERS_EACH, keys, 3, STMT_SCAN,
                    each_id, (rec_any_fn)fn, ctx, "list members");
}

static enum status read_nothing(struct stmt *st, void *out)
{
    (void)st;
    (void)out;
    return OK;
}

enum status store_user_in_groups(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                                 const char *user_id, bool *out)
{
    if (rec_memo_lookup(tx, tenant_id, idp_id, user_id, out))
        return OK; /* the row just read said so, in this snapshot */
    const char *keys[] = { tenant_id, idp_id, user_id };
    enum status rc = rec_find(tx, SQL_USER_IN_GROUPS, keys, 3, read_nothing, NULL, "user groups");
    *out = rc == OK;
    return rc == ERR_NOT_FOUND ? OK : rc;
}

static enum status each_group_of(struct stmt *st, rec_any_fn fn, void *ctx)
{
    return ((store_group_of_fn)fn)(ctx, stmt_col_text(st, 0), stmt_col_text(st, 1));
}

enum status store_groups_of_user_each(struct store_tx *tx, const char *tenant_id,
                                      const char *idp_id, const char *user_id, store_group_of_fn fn,
                                      void *ctx)
{
    const char *keys[] = { tenant_id, idp_id, user_id };
    return rec_each(tx, SQL_GROUPS_OF_USER, keys, 3, 0, each_group_of, (rec_any_fn)fn, ctx,
                    "groups of user");
}
