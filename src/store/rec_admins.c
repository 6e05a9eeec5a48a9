/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rec_admins.c - this file contains the record operations of store.h for
 * administrators: accounts, sign-in sessions, admin API keys and the
 * sign-in throttle, written once for every backend (stmt.h).  Emails are
 * compared through email_lc (sqlgen_key_dup).
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlgen.h"
#include "store/stmt.h"
#include "store/store.h"

/* ---- accounts ----------------------------------------------------------------------- */

#define ADMIN_COLUMNS                                                                              \
    "id, tenant_id, email, role, password_hash, setup_hash, setup_expires_at, created_at"
static const char SQL_ADMIN_INSERT[] =
    "INSERT INTO admins (" ADMIN_COLUMNS ", email_lc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT DO NOTHING";
static const char SQL_ADMIN_GET[] = "SELECT " ADMIN_COLUMNS " FROM admins WHERE id = ?";
static const char SQL_ADMIN_BY_EMAIL[] = "SELECT " ADMIN_COLUMNS " FROM admins WHERE email_lc = ?";
static const char SQL_ADMIN_BY_SETUP[] =
    "SELECT " ADMIN_COLUMNS " FROM admins WHERE setup_hash = ?";
static const char SQL_ADMIN_SET_PASSWORD[] = "UPDATE admins SET password_hash = ?, setup_hash = "
                                             "NULL, setup_expires_at = NULL WHERE id = ?";
static const char SQL_ADMIN_SET_SETUP[] =
    "UPDATE admins SET setup_hash = ?, setup_expires_at = ? WHERE id = ?";
static const char SQL_ADMIN_EACH[] = "SELECT " ADMIN_COLUMNS " FROM admins ORDER BY created_at, id";
static const char SQL_ADMIN_EACH_TENANT[] =
    "SELECT " ADMIN_COLUMNS " FROM admins WHERE tenant_id = ? ORDER BY created_at, id";

static enum status read_admin(struct stmt *st, void *out)
{
    struct store_admin *a = out;
    memset(a, 0, sizeof(*a));
    rec_col_copy(st, 0, a->id, sizeof(a->id));
    rec_col_copy(st, 1, a->tenant_id, sizeof(a->tenant_id));
    rec_col_copy(st, 2, a->email, sizeof(a->email));
    rec_col_copy(st, 3, a->role, sizeof(a->role));
    rec_col_copy(st, 4, a->password_hash, sizeof(a->password_hash));
    rec_col_copy(st, 5, a->setup_hash, sizeof(a->setup_hash));
    rec_col_copy(st, 6, a->setup_expires_at, sizeof(a->setup_expires_at));
    rec_col_copy(st, 7, a->created_at, sizeof(a->created_at));
    return OK;
}

enum status store_admin_insert(struct store_tx *tx, const struct store_admin *a)
{
    char now[STORE_TIME_LEN];
    char *email_lc = sqlgen_key_dup(a->email);
    if (email_lc == NULL)
        return ERR_NOMEM;
    const char *values[] = { a->id,
                             a->tenant_id[0] ? a->tenant_id : NULL,
                             a->email,
                             a->role,
                             a->password_hash[0] ? a->password_hash : NULL,
                             a->setup_hash[0] ? a->setup_hash : NULL,
                             a->setup_expires_at[0] ? a->setup_expires_at : NULL,
                             rec_time_or_now(a->created_at, now),
                             email_lc };
    enum status rc = rec_insert(tx, SQL_ADMIN_INSERT, values, 9, "insert admin");
    free(email_lc);
    return rc;
}

enum status store_admin_get(struct store_tx *tx, const char *id, struct store_admin *out)
{
    return rec_find(tx, SQL_ADMIN_GET, &id, 1, read_admin, out, "get admin");
}

enum status store_admin_by_email(struct store_tx *tx, const char *email, struct store_admin *out)
{
    char *email_lc = sqlgen_key_dup(email);
    if (email_lc == NULL)
        return ERR_NOMEM;
    const char *key = email_lc;
    enum status rc = rec_find(tx, SQL_ADMIN_BY_EMAIL, &key, 1, read_admin, out, "find admin");
    free(email_lc);
    return rc;
}

enum status store_admin_by_setup(struct store_tx *tx, const char *setup_hash,
                                 struct store_admin *out)
{
    return rec_find(tx, SQL_ADMIN_BY_SETUP, &setup_hash, 1, read_admin, out, "find admin setup");
}

enum status store_admin_set_password(struct store_tx *tx, const char *id, const char *hash)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_ADMIN_SET_PASSWORD, 0, "set admin password", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, hash);
    stmt_text(st, id);
    return rec_done_one(st);
}

enum status store_admin_set_setup(struct store_tx *tx, const char *id, const char *setup_hash,
                                  const char *expires_at)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_ADMIN_SET_SETUP, 0, "set admin setup link", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, setup_hash);
    stmt_text(st, expires_at);
    stmt_text(st, id);
    return rec_done_one(st);
}

static enum status each_admin(struct stmt *st, rec_any_fn fn, void *ctx)
{
    struct store_admin a;
    read_admin(st, &a);
    return ((store_admin_fn)fn)(ctx, &a);
}

enum status store_admin_each(struct store_tx *tx, const char *tenant_id, store_admin_fn fn,
                             void *ctx)
{
    return rec_each_scoped(tx, SQL_ADMIN_EACH, SQL_ADMIN_EACH_TENANT, tenant_id, each_admin,
                           (rec_any_fn)fn, ctx, "list admins");
}

/* ---- sessions ----------------------------------------------------------------------- */

#define SESSION_COLUMNS                                                                            \
    "id_hash, admin_id, csrf_hash, source, created_at, last_seen_at, expires_at, ended_at"
static const char SQL_SESSION_INSERT[] = "INSERT INTO admin_sessions (" SESSION_COLUMNS ") "
                                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
static const char SQL_SESSION_GET[] =
    "SELECT " SESSION_COLUMNS " FROM admin_sessions WHERE id_hash = ?";
static const char SQL_SESSION_TOUCH[] = "UPDATE admin_sessions SET last_seen_at = ?1 "
                                        "WHERE id_hash = ?2 AND last_seen_at < ?1";
static const char SQL_SESSION_END[] =
    "UPDATE admin_sessions SET ended_at = ?1 WHERE id_hash = ?2 AND ended_at IS NULL";
static const char SQL_SESSION_END_ALL[] =
    "UPDATE admin_sessions SET ended_at = ?1 WHERE admin_id = ?2 AND ended_at IS NULL";

static enum status read_session(struct stmt *st, void *out)
{
    struct store_admin_session *s = out;
    memset(s, 0, sizeof(*s));
    rec_col_copy(st, 0, s->id_hash, sizeof(s->id_hash));
    rec_col_copy(st, 1, s->admin_id, sizeof(s->admin_id));
    rec_col_copy(st, 2, s->csrf_hash, sizeof(s->csrf_hash));
    rec_col_copy(st, 3, s->source, sizeof(s->source));
    rec_col_copy(st, 4, s->created_at, sizeof(s->created_at));
    rec_col_copy(st, 5, s->last_seen_at, sizeof(s->last_seen_at));
    rec_col_copy(st, 6, s->expires_at, sizeof(s->expires_at));
    rec_col_copy(st, 7, s->ended_at, sizeof(s->ended_at));
    return OK;
}

enum status store_admin_session_insert(struct store_tx *tx, const struct store_admin_session *s)
{
    const char *values[] = { s->id_hash,    s->admin_id,
                             s->csrf_hash,  s->source[0] ? s->source : NULL,
                             s->created_at, s->last_seen_at,
                             s->expires_at, s->ended_at[0] ? s->ended_at : NULL };
    return rec_insert(tx, SQL_SESSION_INSERT, values, 8, "insert admin session");
}

enum status store_admin_session_get(struct store_tx *tx, const char *id_hash,
                                    struct store_admin_session *out)
{
    return rec_find(tx, SQL_SESSION_GET, &id_hash, 1, read_session, out, "get admin session");
}

/* Run an UPDATE of (?1 = at, ?2 = key); a row that exists but was not changed is OK
 * when exists_sql finds it. */
static enum status set_time(struct store_tx *tx, const char *sql, const char *key, const char *at,
                            const char *exists_sql, rec_read_fn read, void *scratch)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, sql, 0, "update admin record", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, at);
    stmt_text(st, key);
    rc = rec_done_one(st);
    if (rc == ERR_NOT_FOUND && exists_sql != NULL)
        rc = rec_find(tx, exists_sql, &key, 1, read, scratch, "find admin record");
    return rc;
}

enum status store_admin_session_touch(struct store_tx *tx, const char *id_hash, const char *at)
{
    struct store_admin_session s;
    return set_time(tx, SQL_SESSION_TOUCH, id_hash, at, SQL_SESSION_GET, read_session, &s);
}

enum status store_admin_session_end(struct store_tx *tx, const char *id_hash, const char *at)
{
    return set_time(tx, SQL_SESSION_END, id_hash, at, NULL, NULL, NULL);
}

enum status store_admin_sessions_end_all(struct store_tx *tx, const char *admin_id, const char *at)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_SESSION_END_ALL, 0, "end admin sessions", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, at);
    stmt_text(st, admin_id);
    return rec_done(st);
}

/* ---- API keys ----------------------------------------------------------------------- */

#define KEY_COLUMNS "id, admin_id, name, prefix, hash, created_at, last_used_at, revoked_at"
static const char SQL_KEY_INSERT[] = "INSERT INTO admin_keys (" KEY_COLUMNS ") "
                                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
static const char SQL_KEY_GET[] = "SELECT " KEY_COLUMNS " FROM admin_keys WHERE id = ?";
static const char SQL_KEY_BY_HASH[] = "SELECT " KEY_COLUMNS " FROM admin_keys WHERE hash = ?";
static const char SQL_KEY_TOUCH[] = "UPDATE admin_keys SET last_used_at = ?1 WHERE id = ?2 "
                                    "AND (last_used_at IS NULL OR last_used_at < ?1)";

static enum status read_key(struct stmt *st, void *out)
{
    struct store_admin_key *k = out;
    memset(k, 0, sizeof(*k));
    rec_col_copy(st, 0, k->id, sizeof(k->id));
    rec_col_copy(st, 1, k->admin_id, sizeof(k->admin_id));
    rec_col_copy(st, 2, k->name, sizeof(k->name));
    rec_col_copy(st, 3, k->prefix, sizeof(k->prefix));
    rec_col_copy(st, 4, k->hash, sizeof(k->hash));
    rec_col_copy(st, 5, k->created_at, sizeof(k->created_at));
    rec_col_copy(st, 6, k->last_used_at, sizeof(k->last_used_at));
    rec_col_copy(st, 7, k->revoked_at, sizeof(k->revoked_at));
    return OK;
}

enum status store_admin_key_insert(struct store_tx *tx, const struct store_admin_key *k)
{
    char now[STORE_TIME_LEN];
    const char *values[] = { k->id,
                             k->admin_id,
                             k->name,
                             k->prefix,
                             k->hash,
                             rec_time_or_now(k->created_at, now),
                             k->last_used_at[0] ? k->last_used_at : NULL,
                             k->revoked_at[0] ? k->revoked_at : NULL };
    return rec_insert(tx, SQL_KEY_INSERT, values, 8, "insert admin key");
}

enum status store_admin_key_by_hash(struct store_tx *tx, const char *hash,
                                    struct store_admin_key *out)
{
    return rec_find(tx, SQL_KEY_BY_HASH, &hash, 1, read_key, out, "find admin key");
}

enum status store_admin_key_touch(struct store_tx *tx, const char *id, const char *at)
{
    struct store_admin_key k;
    return set_time(tx, SQL_KEY_TOUCH, id, at, SQL_KEY_GET, read_key, &k);
}

/* ---- sign-in throttle --------------------------------------------------------------- */

static const char SQL_THROTTLE_GET[] =
    "SELECT failures, window_start, locked_until FROM admin_throttle WHERE key = ?";
static const char SQL_THROTTLE_PUT[] =
    "INSERT INTO admin_throttle (key, failures, window_start, locked_until) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, "
    "window_start = excluded.window_start, locked_until = excluded.locked_until";
static const char SQL_THROTTLE_CLEAR[] = "DELETE FROM admin_throttle WHERE key = ?";

static enum status read_throttle(struct stmt *st, void *out)
{
    struct store_throttle *t = out;
    memset(t, 0, sizeof(*t));
    t->failures = stmt_col_int(st, 0);
    rec_col_copy(st, 1, t->window_start, sizeof(t->window_start));
    rec_col_copy(st, 2, t->locked_until, sizeof(t->locked_until));
    return OK;
}

enum status store_throttle_get(struct store_tx *tx, const char *key, struct store_throttle *out)
{
    return rec_find(tx, SQL_THROTTLE_GET, &key, 1, read_throttle, out, "get throttle");
}

enum status store_throttle_put(struct store_tx *tx, const char *key, const struct store_throttle *t)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_THROTTLE_PUT, 0, "put throttle", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, key);
    stmt_int(st, t->failures);
    stmt_text(st, t->window_start);
    stmt_opt(st, t->locked_until);
    return rec_done(st);
}

enum status store_throttle_clear(struct store_tx *tx, const char *key)
{
    return rec_exec(tx, SQL_THROTTLE_CLEAR, &key, 1, "clear throttle");
}
