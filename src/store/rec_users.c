/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rec_users.c - this file contains the record operations of store.h for
 * canonical users and IdP user rows (with their email index and searches):
 * their SQL, parameters and row decoding, written once for every backend
 * (stmt.h).  *_lc columns hold the lowercased values that case-insensitive
 * lookups probe.
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlgen.h"
#include "store/stmt.h"
#include "store/store.h"

/* Do the values an index holds fit (STORE_INDEXED_VALUE_MAX)?  NULLs do. */
static bool indexable(const char *const *values, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (values[i] != NULL && strlen(values[i]) > STORE_INDEXED_VALUE_MAX)
            return false;
    }
    return true;
}

/* ---- canonical users ---------------------------------------------------------------- */

#define USER_COLUMNS                                                                               \
    "tenant_id, id, username, email, given_name, family_name, display_name, status, idp_id, "      \
    "scim_managed, created_at, updated_at"
static const char SQL_USER_INSERT[] =
    "INSERT INTO users (tenant_id, id, username, username_lc, email, email_lc, given_name, "
    "family_name, display_name, status, idp_id, scim_managed, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
static const char SQL_USER_UPDATE[] =
    "UPDATE users SET username = ?, username_lc = ?, email = ?, email_lc = ?, given_name = ?, "
    "family_name = ?, display_name = ?, status = ?, idp_id = ?, scim_managed = ?, "
    "updated_at = ? WHERE tenant_id = ? AND id = ?";
static const char SQL_USER_GET[] =
    "SELECT " USER_COLUMNS " FROM users WHERE tenant_id = ? AND id = ?";
static const char SQL_USER_GET_ANY[] = "SELECT " USER_COLUMNS " FROM users WHERE id = ?";
/* Each OR branch names the tenant so that it is an index probe of its own. */
static const char SQL_USER_FIND_MATCH[] =
    "SELECT " USER_COLUMNS " FROM users WHERE (tenant_id = ?1 AND email_lc = ?2) "
    "OR (tenant_id = ?1 AND username_lc = ?2) OR (tenant_id = ?1 AND username_lc = ?3) "
    "ORDER BY created_at, id LIMIT 1";
static const char SQL_USER_EACH[] =
    "SELECT " USER_COLUMNS " FROM users WHERE tenant_id = ? ORDER BY created_at, id";
static const char SQL_USER_EACH_IDP[] =
    "SELECT " USER_COLUMNS " FROM users WHERE tenant_id = ?1 AND id IN "
    "(SELECT user_id FROM idp_users WHERE tenant_id = ?1 AND idp_id = ?2) "
    "ORDER BY created_at, id";

/* Fill u from a row: heap copies when copy, else views borrowed from the statement. */
static enum status read_user(struct stmt *st, struct store_user *u, bool copy)
{
    memset(u, 0, sizeof(*u));
    rec_col_copy(st, 0, u->tenant_id, sizeof(u->tenant_id));
    rec_col_copy(st, 1, u->id, sizeof(u->id));
    char **heap[] = { &u->username, &u->email, &u->given_name, &u->family_name, &u->display_name };
    for (size_t i = 0; i < sizeof(heap) / sizeof(heap[0]); i++) {
        if (!copy) {
            *heap[i] = rec_col_view(st, 2 + (int)i);
        } else if (!rec_col_dup(st, 2 + (int)i, heap[i])) {
            store_user_release(u);
            return ERR_NOMEM;
        }
    }
    rec_col_copy(st, 7, u->status, sizeof(u->status));
    rec_col_copy(st, 8, u->idp_id, sizeof(u->idp_id));
    u->scim_managed = stmt_col_int(st, 9) != 0;
    rec_col_copy(st, 10, u->created_at, sizeof(u->created_at));
    rec_col_copy(st, 11, u->updated_at, sizeof(u->updated_at));
    return OK;
}

static enum status read_user_copy(struct stmt *st, void *out)
{
    return read_user(st, out, true);
}

/* Insert or update u (every mutable column). */
static enum status user_write(struct store_tx *tx, const struct store_user *u, bool insert)
{
    const char *indexed[] = { u->username, u->email };
    if (!indexable(indexed, 2))
        return ERR_INVALID_VALUE;
    char *username_lc = sqlgen_key_dup(u->username);
    char *email_lc = sqlgen_key_dup(u->email);
    struct stmt *st = NULL;
    enum status rc = ERR_NOMEM;
    if ((u->username == NULL || username_lc != NULL) && (u->email == NULL || email_lc != NULL))
        rc = stmt_prepare(tx, insert ? SQL_USER_INSERT : SQL_USER_UPDATE, 0,
                          insert ? "insert user" : "update user", &st);
    if (rc == OK) {
        char now[STORE_TIME_LEN];
        if (insert) {
            stmt_text(st, u->tenant_id);
            stmt_text(st, u->id);
        }
        stmt_text(st, u->username);
        stmt_text(st, username_lc);
        stmt_text(st, u->email);
        stmt_text(st, email_lc);
        stmt_text(st, u->given_name);
        stmt_text(st, u->family_name);
        stmt_text(st, u->display_name);
        stmt_text(st, u->status);
        stmt_opt(st, u->idp_id);
        stmt_int(st, u->scim_managed);
        if (insert) {
            const char *created_at = rec_time_or_now(u->created_at, now);
            stmt_text(st, created_at);
            stmt_text(st, u->updated_at[0] ? u->updated_at : created_at);
            rc = rec_done_insert(st);
        } else {
            stmt_text(st, rec_time_or_now(u->updated_at, now));
            stmt_text(st, u->tenant_id);
            stmt_text(st, u->id);
            rc = rec_done_one(st);
        }
    }
    free(username_lc);
    free(email_lc);
    return rc;
}

enum status store_user_insert(struct store_tx *tx, const struct store_user *u)
{
    return user_write(tx, u, true);
}

enum status store_user_update(struct store_tx *tx, const struct store_user *u)
{
    return user_write(tx, u, false);
}

enum status store_user_get(struct store_tx *tx, const char *tenant_id, const char *id,
                           struct store_user *out)
{
    memset(out, 0, sizeof(*out));
    return rec_find_scoped(tx, SQL_USER_GET_ANY, SQL_USER_GET, tenant_id, id, read_user_copy, out,
                           "get user");
}

enum status store_user_find_match(struct store_tx *tx, const char *tenant_id, const char *email,
                                  const char *username, struct store_user *out)
{
    memset(out, 0, sizeof(*out));
    if (email == NULL && username == NULL)
        return ERR_NOT_FOUND;
    char *email_lc = sqlgen_key_dup(email);
    char *username_lc = sqlgen_key_dup(username);
    enum status rc = ERR_NOMEM;
    if ((email == NULL || email_lc != NULL) && (username == NULL || username_lc != NULL)) {
        /* A NULL key binds NULL, which equals nothing: that argument is ignored. */
        const char *keys[] = { tenant_id, email_lc, username_lc };
        rc = rec_find(tx, SQL_USER_FIND_MATCH, keys, 3, read_user_copy, out, "match user");
    }
    free(email_lc);
    free(username_lc);
    return rc;
}

static enum status each_user(struct stmt *st, rec_any_fn fn, void *ctx)
{
    struct store_user u;
    read_user(st, &u, false);
    return ((store_user_fn)fn)(ctx, &u);
}

enum status store_user_each(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                            store_user_fn fn, void *ctx)
{
    if (idp_id == NULL)
        return rec_each(tx, SQL_USER_EACH, &tenant_id, 1, STMT_SCAN, each_user, (rec_any_fn)fn, ctx,
                        "list users");
    const char *keys[] = { tenant_id, idp_id };
    return rec_each(tx, SQL_USER_EACH_IDP, keys, 2, STMT_SCAN, each_user, (rec_any_fn)fn, ctx,
                    "list users");
}

/* The admin list: every filter optional (NULL binds NULL), keyset on
 * (created_at, id) served by users_created (migration 080). */
static const char SQL_USER_LIST[] =
    "SELECT " USER_COLUMNS " FROM users u WHERE u.tenant_id = ?1 "
    "AND (CAST(?2 AS TEXT) IS NULL OR u.status = ?2) "
    "AND (CAST(?3 AS TEXT) IS NULL OR u.username_lc LIKE ?3 ESCAPE '\\' "
    "OR u.email_lc LIKE ?3 ESCAPE '\\' OR lower(u.given_name) LIKE ?8 ESCAPE '\\' "
    "OR lower(u.family_name) LIKE ?8 ESCAPE '\\' OR lower(u.display_name) LIKE ?8 ESCAPE '\\') "
    "AND (CAST(?4 AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM idp_users iu "
    "WHERE iu.tenant_id = u.tenant_id AND iu.idp_id = ?4 AND iu.user_id = u.id)) "
    "AND (CAST(?5 AS TEXT) IS NULL OR u.created_at > ?5 OR (u.created_at = ?5 AND u.id > ?6)) "
    "ORDER BY u.created_at, u.id LIMIT ?7";

enum status store_user_list(struct store_tx *tx, const struct store_user_list *l, store_user_fn fn,
                            void *ctx)
{
    /* userName and email have folded key columns; names go through lower(),
     * which lowers ASCII only, so their pattern is only ASCII-lowered */
    char *pattern = NULL, *names = NULL;
    if (l->q != NULL && ((pattern = sqlgen_like_contains(l->q)) == NULL ||
                         (names = sqlgen_like_contains_ascii(l->q)) == NULL)) {
        free(pattern);
        return ERR_NOMEM;
    }
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_USER_LIST, 0, "list users", &st);
    if (rc == OK) {
        stmt_text(st, l->tenant_id);
        stmt_text(st, l->status);
        stmt_text(st, pattern);
        stmt_text(st, l->idp_id);
        stmt_text(st, l->after_created_at);
        stmt_text(st, l->after_created_at ? l->after_id : NULL);
        stmt_int(st, (int64_t)l->limit);
        stmt_text(st, names);
        rc = rec_rows(st, each_user, (rec_any_fn)fn, ctx);
    }
    free(pattern);
    free(names);
    return rc;
}

/* ---- IdP user rows ------------------------------------------------------------------ */

static const char SQL_IDP_USER_INSERT[] =
    "INSERT INTO idp_users (tenant_id, idp_id, user_id, external_id, user_name, user_name_lc, "
    "active, deleted, version, doc, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
static const char SQL_IDP_USER_UPDATE[] =
    "UPDATE idp_users SET external_id = ?, user_name = ?, user_name_lc = ?, active = ?, "
    "deleted = ?, version = ?, doc = ?, updated_at = ? "
    "WHERE tenant_id = ? AND idp_id = ? AND user_id = ?";
static const char SQL_IDP_USER_GET[] = "SELECT " SQLGEN_IDP_USER_COLUMNS " FROM idp_users "
                                       "WHERE tenant_id = ? AND idp_id = ? AND user_id = ?";
static const char SQL_IDP_USER_BY_EXTERNAL_ID[] =
    "SELECT " SQLGEN_IDP_USER_COLUMNS " FROM idp_users "
    "WHERE tenant_id = ? AND idp_id = ? AND external_id = ?";
static const char SQL_IDP_USER_BY_USER_NAME[] =
    "SELECT " SQLGEN_IDP_USER_COLUMNS " FROM idp_users "
    "WHERE tenant_id = ? AND idp_id = ? AND user_name_lc = ? AND deleted = 0";
static const char SQL_IDP_USER_EACH_OF_USER[] =
    "SELECT " SQLGEN_IDP_USER_COLUMNS " FROM idp_users "
    "WHERE tenant_id = ? AND user_id = ? ORDER BY created_at, idp_id";
static const char SQL_EMAILS_DELETE[] =
    "DELETE FROM idp_user_emails WHERE tenant_id = ? AND idp_id = ? AND user_id = ?";
/* All addresses in one statement; the same address twice in one user is one index entry. */
#define SQL_EMAILS_INSERT(D)                                                                       \
    "INSERT INTO idp_user_emails (tenant_id, idp_id, user_id, value_lc) "                          \
    "SELECT CAST(?1 AS TEXT), CAST(?2 AS TEXT), CAST(?3 AS TEXT), ids.value "                      \
    "FROM " STMT_FRAGMENT(D, IDS)("?4") " WHERE true ON CONFLICT DO NOTHING"
static const char *const SQL_EMAILS_INSERT_IN[STMT_DIALECTS] = STMT_PER_DIALECT(SQL_EMAILS_INSERT);

/* Fill r from a row (SQLGEN_IDP_USER_COLUMNS): heap copies when copy, else borrowed views. */
static enum status read_idp_user(struct stmt *st, struct store_idp_user *r, bool copy)
{
    memset(r, 0, sizeof(*r));
    rec_col_copy(st, SQLGEN_IU_TENANT_ID, r->tenant_id, sizeof(r->tenant_id));
    rec_col_copy(st, SQLGEN_IU_IDP_ID, r->idp_id, sizeof(r->idp_id));
    rec_col_copy(st, SQLGEN_IU_USER_ID, r->user_id, sizeof(r->user_id));
    r->active = stmt_col_int(st, SQLGEN_IU_ACTIVE) != 0;
    r->deleted = stmt_col_int(st, SQLGEN_IU_DELETED) != 0;
    r->version = stmt_col_int(st, SQLGEN_IU_VERSION);
    rec_col_copy(st, SQLGEN_IU_CREATED_AT, r->created_at, sizeof(r->created_at));
    rec_col_copy(st, SQLGEN_IU_UPDATED_AT, r->updated_at, sizeof(r->updated_at));
    rec_memo_in_groups(st, r->tenant_id, r->idp_id, r->user_id,
                       stmt_col_int(st, SQLGEN_IU_IN_GROUPS) != 0);
    if (!copy) {
        r->external_id = rec_col_view(st, SQLGEN_IU_EXTERNAL_ID);
        r->user_name = rec_col_view(st, SQLGEN_IU_USER_NAME);
        r->doc = rec_col_view(st, SQLGEN_IU_DOC);
        return OK;
    }
    if (!rec_col_dup(st, SQLGEN_IU_EXTERNAL_ID, &r->external_id) ||
        !rec_col_dup(st, SQLGEN_IU_USER_NAME, &r->user_name) ||
        !rec_col_dup(st, SQLGEN_IU_DOC, &r->doc)) {
        store_idp_user_release(r);
        return ERR_NOMEM;
    }
    return OK;
}

static enum status read_idp_user_copy(struct stmt *st, void *out)
{
    return read_idp_user(st, out, true);
}

/* Replace the email index entries of r with r->emails (fresh: r has none yet). */
static enum status emails_write(struct store_tx *tx, const struct store_idp_user *r, bool fresh)
{
    const char *keys[] = { r->tenant_id, r->idp_id, r->user_id };
    enum status rc = fresh ? OK : rec_exec(tx, SQL_EMAILS_DELETE, keys, 3, "delete emails");
    if (rc != OK || r->n_emails == 0)
        return rc;
    char **lc = calloc(r->n_emails, sizeof(*lc));
    if (lc == NULL)
        return ERR_NOMEM;
    size_t n = 0;
    for (size_t i = 0; rc == OK && i < r->n_emails; i++) {
        if (r->emails[i] == NULL)
            continue;
        lc[n] = sqlgen_key_dup(r->emails[i]);
        rc = lc[n++] ? OK : ERR_NOMEM;
    }
    char *json = NULL;
    if (rc == OK && n > 0) {
        json = rec_ids_json((const char *const *)lc, n);
        rc = json ? OK : ERR_NOMEM;
        if (rc == OK) {
            const char *values[] = { r->tenant_id, r->idp_id, r->user_id, json };
            rc = rec_exec(tx, stmt_sql(tx, SQL_EMAILS_INSERT_IN), values, 4, "insert emails");
        }
    }
    free(json);
    for (size_t i = 0; i < n; i++)
        free(lc[i]);
    free(lc);
    return rc;
}

/* Insert or update r; a userName or externalId taken by another row is ERR_UNIQUENESS
 * (an update's on PostgreSQL aborts the transaction: callers roll back). */
static enum status idp_user_write(struct store_tx *tx, const struct store_idp_user *r, bool insert)
{
    const char *indexed[] = { r->user_name, r->external_id };
    if (!indexable(indexed, 2) || !indexable((const char *const *)r->emails, r->n_emails))
        return ERR_INVALID_VALUE;
    char *user_name_lc = sqlgen_key_dup(r->user_name);
    if (r->user_name != NULL && user_name_lc == NULL)
        return ERR_NOMEM;
    struct stmt *st;
    enum status rc = stmt_prepare(tx, insert ? SQL_IDP_USER_INSERT : SQL_IDP_USER_UPDATE, 0,
                                  insert ? "insert idp user" : "update idp user", &st);
    if (rc == OK) {
        char now[STORE_TIME_LEN];
        if (insert) {
            stmt_text(st, r->tenant_id);
            stmt_text(st, r->idp_id);
            stmt_text(st, r->user_id);
        }
        stmt_text(st, r->external_id);
        stmt_text(st, r->user_name);
        stmt_text(st, user_name_lc);
        stmt_int(st, r->active);
        stmt_int(st, r->deleted);
        stmt_int(st, r->version);
        stmt_text(st, r->doc);
        if (insert) {
            const char *created_at = rec_time_or_now(r->created_at, now);
            stmt_text(st, created_at);
            stmt_text(st, r->updated_at[0] ? r->updated_at : created_at);
            rc = rec_done_insert(st);
        } else {
            stmt_text(st, rec_time_or_now(r->updated_at, now));
            stmt_text(st, r->tenant_id);
            stmt_text(st, r->idp_id);
            stmt_text(st, r->user_id);
            rc = rec_done_one(st);
        }
    }
    free(user_name_lc);
    return rc == OK ? emails_write(tx, r, insert) : rc;
}

enum status store_idp_user_insert(struct store_tx *tx, const struct store_idp_user *r)
{
    return idp_user_write(tx, r, true);
}

enum status store_idp_user_update(struct store_tx *tx, const struct store_idp_user *r)
{
    return idp_user_write(tx, r, false);
}

/* One row by three keys.  Its emails are left NULL: they only feed the index, which every
 * insert and update rewrites from the caller's r->emails. */
static enum status idp_user_find(struct store_tx *tx, const char *sql, const char *const *keys,
                                 struct store_idp_user *out)
{
    memset(out, 0, sizeof(*out));
    return rec_find(tx, sql, keys, 3, read_idp_user_copy, out, "get idp user");
}

enum status store_idp_user_get(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                               const char *user_id, struct store_idp_user *out)
{
    const char *keys[] = { tenant_id, idp_id, user_id };
    return idp_user_find(tx, SQL_IDP_USER_GET, keys, out);
}

enum status store_idp_user_by_external_id(struct store_tx *tx, const char *tenant_id,
                                          const char *idp_id, const char *external_id,
                                          struct store_idp_user *out)
{
    const char *keys[] = { tenant_id, idp_id, external_id };
    return idp_user_find(tx, SQL_IDP_USER_BY_EXTERNAL_ID, keys, out);
}

enum status store_idp_user_by_user_name(struct store_tx *tx, const char *tenant_id,
                                        const char *idp_id, const char *user_name,
                                        struct store_idp_user *out)
{
    memset(out, 0, sizeof(*out));
    char *lc = sqlgen_key_dup(user_name);
    if (user_name != NULL && lc == NULL)
        return ERR_NOMEM;
    const char *keys[] = { tenant_id, idp_id, lc };
    enum status rc = idp_user_find(tx, SQL_IDP_USER_BY_USER_NAME, keys, out);
    free(lc);
    return rc;
}

static enum status each_idp_user(struct stmt *st, rec_any_fn fn, void *ctx)
{
    struct store_idp_user r;
    read_idp_user(st, &r, false);
    return ((store_idp_user_fn)fn)(ctx, &r);
}

enum status store_idp_user_each_of_user(struct store_tx *tx, const char *tenant_id,
                                        const char *user_id, store_idp_user_fn fn, void *ctx)
{
    const char *keys[] = { tenant_id, user_id };
    return rec_each(tx, SQL_IDP_USER_EACH_OF_USER, keys, 2, 0, each_idp_user, (rec_any_fn)fn, ctx,
                    "list idp users");
}

enum status store_idp_user_search(struct store_tx *tx, const struct store_search *q,
                                  store_idp_user_fn fn, void *ctx, struct store_search_result *res)
{
    return rec_search(tx, q, sqlgen_user_search, each_idp_user, (rec_any_fn)fn, ctx, res,
                      "search idp users");
}
