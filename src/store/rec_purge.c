/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rec_purge.c - this file contains the record operations of store.h for
 * retention: finding users soft-deleted before a cutoff and erasing their
 * personal data, written once for every backend (stmt.h).
 *
 * Events are not touched here: they hold ids, types, attribute names and
 * statuses, never attribute values (directory/audit.h), so the audit trail
 * stays whole and pseudonymous.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/stmt.h"
#include "store/store.h"

/* A scan of users (purge is a batch job); NOT EXISTS keeps a user any
 * connection still holds live out of reach. */
static const char SQL_DELETED_BEFORE[] =
    "SELECT u.tenant_id, u.id, u.updated_at FROM users u "
    "WHERE u.status = 'deleted' AND u.updated_at < ?1 AND (CAST(?2 AS TEXT) IS NULL OR u.tenant_id = ?2) "
    "AND NOT EXISTS (SELECT 1 FROM idp_users r WHERE r.tenant_id = u.tenant_id "
    "AND r.user_id = u.id AND r.deleted = 0) "
    "ORDER BY u.tenant_id, u.id LIMIT ?3";

/* The statements of one erase, in order: what they delete or update. */
static const char SQL_ERASE_MEMBERSHIPS[] =
    "DELETE FROM group_members WHERE tenant_id = ?1 AND user_id = ?2 AND idp_id IN "
    "(SELECT idp_id FROM idp_users WHERE tenant_id = ?1 AND user_id = ?2)";
static const char SQL_ERASE_EMAILS[] =
    "DELETE FROM idp_user_emails WHERE tenant_id = ?1 AND user_id = ?2 AND idp_id IN "
    "(SELECT idp_id FROM idp_users WHERE tenant_id = ?1 AND user_id = ?2)";
static const char SQL_ERASE_FIELDS[] =
    "DELETE FROM user_fields WHERE tenant_id = ?1 AND user_id = ?2";
static const char SQL_ERASE_ROLES[] =
    "DELETE FROM user_roles WHERE tenant_id = ?1 AND user_id = ?2";
static const char SQL_ERASE_ROWS[] = "DELETE FROM idp_users WHERE tenant_id = ?1 AND user_id = ?2";
static const char SQL_ERASE_USER[] =
    "UPDATE users SET username = NULL, username_lc = NULL, email = NULL, email_lc = NULL, "
    "given_name = NULL, family_name = NULL, display_name = NULL, status = 'erased', "
    "updated_at = ?3 WHERE tenant_id = ?1 AND id = ?2 AND status = 'deleted'";

static enum status each_target(struct stmt *st, rec_any_fn fn, void *ctx)
{
    struct store_purge_target t;
    memset(&t, 0, sizeof(t));
    rec_col_copy(st, 0, t.tenant_id, sizeof(t.tenant_id));
    rec_col_copy(st, 1, t.id, sizeof(t.id));
    rec_col_copy(st, 2, t.deleted_at, sizeof(t.deleted_at));
    return ((store_purge_fn)fn)(ctx, &t);
}

enum status store_user_deleted_each(struct store_tx *tx, const char *tenant_id, const char *before,
                                    size_t limit, store_purge_fn fn, void *ctx)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_DELETED_BEFORE, STMT_SCAN, "find deleted users", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, before);
    stmt_text(st, tenant_id);
    stmt_int(st, limit ? (int64_t)limit : INT64_MAX);
    return rec_rows(st, each_target, (rec_any_fn)fn, ctx);
}

/* Run one erase statement over (tenant_id, user_id[, at]); *changed += rows. */
static enum status erase_step(struct store_tx *tx, const char *sql, const char *tenant_id,
                              const char *user_id, const char *at, int64_t *changed)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, sql, 0, "erase user", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, tenant_id);
    stmt_text(st, user_id);
    if (at)
        stmt_text(st, at);
    rc = stmt_exec(st);
    if (rc == OK)
        *changed += stmt_changes(st);
    stmt_finish(st);
    return rc;
}

enum status store_user_erase(struct store_tx *tx, const char *tenant_id, const char *user_id,
                             const char *at, struct store_erased *counts)
{
    char now[STORE_TIME_LEN];
    int64_t users = 0;
    enum status rc =
        erase_step(tx, SQL_ERASE_USER, tenant_id, user_id, rec_time_or_now(at, now), &users);
    if (rc == OK && users == 0)
        rc = ERR_NOT_FOUND;
    if (rc == OK)
        rc = erase_step(tx, SQL_ERASE_MEMBERSHIPS, tenant_id, user_id, NULL, &counts->memberships);
    if (rc == OK)
        rc = erase_step(tx, SQL_ERASE_EMAILS, tenant_id, user_id, NULL, &counts->emails);
    if (rc == OK)
        rc = erase_step(tx, SQL_ERASE_FIELDS, tenant_id, user_id, NULL, &counts->fields);
    if (rc == OK)
        rc = erase_step(tx, SQL_ERASE_ROLES, tenant_id, user_id, NULL, &counts->fields);
    if (rc == OK)
        rc = erase_step(tx, SQL_ERASE_ROWS, tenant_id, user_id, NULL, &counts->idp_rows);
    if (rc == OK)
        counts->users += users;
    return rc;
}
