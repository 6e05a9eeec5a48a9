/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rec_migrations.c - this file contains the data migrations that SQL alone
 * cannot write, in C and once for every backend (stmt.h): today the re-keying
 * of the *_lc columns from ASCII lowercase to sqlgen_key_dup's Unicode keys.
 */
#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "core/log.h"
#include "store/sqlgen.h"
#include "store/stmt.h"
#include "store/store.h"

#include "core/str.h"

#define REKEY_COLS 4 /* columns a re-keyed row is read with */

/* Rows read by a re-keying statement, copied (the statement is done before they change). */
struct rows {
    char *(*v)[REKEY_COLS];
    size_t n, cap;
};

static void rows_release(struct rows *r)
{
    for (size_t i = 0; i < r->n; i++) {
        for (int k = 0; k < REKEY_COLS; k++)
            free(r->v[i][k]);
    }
    free(r->v);
}

static enum status collect_row(struct stmt *st, rec_any_fn fn, void *ctx)
{
    (void)fn;
    struct rows *r = ctx;
    char *(*more)[REKEY_COLS] = array_room(r->v, r->n, &r->cap, sizeof(*more), 64);
    if (more == NULL)
        return ERR_NOMEM;
    r->v = more;
    for (int k = 0; k < REKEY_COLS; k++) {
        if (!rec_col_dup(st, k, &r->v[r->n][k])) {
            while (k-- > 0)
                free(r->v[r->n][k]);
            return ERR_NOMEM;
        }
    }
    r->n++;
    return OK;
}

/* Every row sql (a STMT_PER_DIALECT statement selecting REKEY_COLS columns) returns. */
static enum status collect(struct store_tx *tx, const char *const sql[STMT_DIALECTS],
                           struct rows *out)
{
    memset(out, 0, sizeof(*out));
    return rec_each(tx, stmt_sql(tx, sql), NULL, 0, STMT_SCAN, collect_row, NULL, out, "read keys");
}

/* The new key of an old one: keys only ever differed from values in ASCII case,
 * which the fold ignores, so folding the old key gives the value's key. */
static enum status new_key(const char *old, char **out)
{
    *out = sqlgen_key_dup(old);
    return old == NULL || *out != NULL ? OK : ERR_NOMEM;
}

/* Re-key every row sql returns with fix(tx, row), until one fails: the rows are
 * read whole first, as fixing them changes what the statement would read. */
typedef enum status (*rekey_row_fn)(struct store_tx *tx, char *const *row);
static enum status rekey_each(struct store_tx *tx, const char *const sql[STMT_DIALECTS],
                              rekey_row_fn fix)
{
    struct rows r;
    enum status rc = collect(tx, sql, &r);
    for (size_t i = 0; rc == OK && i < r.n; i++)
        rc = fix(tx, r.v[i]);
    rows_release(&r);
    return rc;
}

#define NON_ASCII(D, c) STMT_FRAGMENT(D, NON_ASCII)(c)

/* ---- userName of IdP user rows: unique among a connection's live rows --------------- */

#define SQL_IDP_USER_KEYS(D)                                                                       \
    "SELECT tenant_id, idp_id, user_id, user_name_lc FROM idp_users WHERE " NON_ASCII(             \
        D, "user_name_lc")
static const char *const SQL_IDP_USER_KEYS_IN[STMT_DIALECTS] = STMT_PER_DIALECT(SQL_IDP_USER_KEYS);
static const char SQL_IDP_USER_KEY_TAKEN[] =
    "SELECT 1 FROM idp_users WHERE tenant_id = ? AND idp_id = ? AND user_name_lc = ? "
    "AND deleted = 0 AND user_id <> ? AND (SELECT deleted FROM idp_users WHERE tenant_id = ?1 "
    "AND idp_id = ?2 AND user_id = ?4) = 0";
static const char SQL_IDP_USER_REKEY[] = "UPDATE idp_users SET user_name_lc = ? "
                                         "WHERE tenant_id = ? AND idp_id = ? AND user_id = ?";

static enum status read_nothing(struct stmt *st, void *out)
{
    (void)st;
    (void)out;
    return OK;
}

static enum status rekey_idp_user(struct store_tx *tx, char *const *v)
{
    char *key;
    enum status rc = new_key(v[3], &key);
    if (rc != OK || strcmp(key, v[3]) == 0) {
        free(key);
        return rc;
    }
    /* Two live userNames that differ only beyond ASCII case were two users
     * before: both stay, the second under its old key, until one changes. */
    const char *taken[] = { v[0], v[1], key, v[2] };
    rc = rec_find(tx, SQL_IDP_USER_KEY_TAKEN, taken, 4, read_nothing, NULL, "rekey userName");
    if (rc == OK) {
        log_warn("store: two userNames of one connection now compare equal; user %s keeps its "
                 "old key",
                 v[2]);
    } else if (rc == ERR_NOT_FOUND) {
        const char *values[] = { key, v[0], v[1], v[2] };
        rc = rec_exec(tx, SQL_IDP_USER_REKEY, values, 4, "rekey userName");
    }
    free(key);
    return rc;
}

/* ---- canonical users: username and email ------------------------------------------- */

#define SQL_USER_KEYS(D)                                                                           \
    "SELECT tenant_id, id, username_lc, email_lc FROM users WHERE " NON_ASCII(                     \
        D, "username_lc") " OR " NON_ASCII(D, "email_lc")
static const char *const SQL_USER_KEYS_IN[STMT_DIALECTS] = STMT_PER_DIALECT(SQL_USER_KEYS);
static const char SQL_USER_REKEY[] =
    "UPDATE users SET username_lc = ?, email_lc = ? WHERE tenant_id = ? AND id = ?";

static enum status rekey_user(struct store_tx *tx, char *const *v)
{
    char *username = NULL, *email = NULL;
    enum status rc = new_key(v[2], &username);
    if (rc == OK)
        rc = new_key(v[3], &email);
    const char *values[] = { username, email, v[0], v[1] };
    if (rc == OK)
        rc = rec_exec(tx, SQL_USER_REKEY, values, 4, "rekey user");
    free(username);
    free(email);
    return rc;
}

/* ---- the email index: the key is part of the row's key ------------------------------ */

#define SQL_EMAIL_KEYS(D)                                                                          \
    "SELECT tenant_id, idp_id, user_id, value_lc FROM idp_user_emails WHERE " NON_ASCII(           \
        D, "value_lc")
static const char *const SQL_EMAIL_KEYS_IN[STMT_DIALECTS] = STMT_PER_DIALECT(SQL_EMAIL_KEYS);
static const char SQL_EMAIL_DROP[] = "DELETE FROM idp_user_emails WHERE tenant_id = ? "
                                     "AND idp_id = ? AND user_id = ? AND value_lc = ?";
/* Two addresses of one user with one key are one index entry. */
static const char SQL_EMAIL_ADD[] =
    "INSERT INTO idp_user_emails (tenant_id, idp_id, user_id, value_lc) VALUES (?, ?, ?, ?) "
    "ON CONFLICT DO NOTHING";

static enum status rekey_email(struct store_tx *tx, char *const *v)
{
    char *key;
    enum status rc = new_key(v[3], &key);
    if (rc != OK || strcmp(key, v[3]) == 0) {
        free(key);
        return rc;
    }
    const char *values[] = { v[0], v[1], v[2], key };
    rc = rec_exec(tx, SQL_EMAIL_DROP, (const char *const *)v, 4, "rekey email");
    if (rc == OK)
        rc = rec_exec(tx, SQL_EMAIL_ADD, values, 4, "rekey email");
    free(key);
    return rc;
}

/* ---- group displayName -------------------------------------------------------------- */

#define SQL_GROUP_KEYS(D)                                                                          \
    "SELECT tenant_id, idp_id, id, display_name_lc FROM groups WHERE " NON_ASCII(                  \
        D, "display_name_lc")
static const char *const SQL_GROUP_KEYS_IN[STMT_DIALECTS] = STMT_PER_DIALECT(SQL_GROUP_KEYS);
static const char SQL_GROUP_REKEY[] = "UPDATE groups SET display_name_lc = ? "
                                      "WHERE tenant_id = ? AND idp_id = ? AND id = ?";

static enum status rekey_group(struct store_tx *tx, char *const *v)
{
    char *key;
    enum status rc = new_key(v[3], &key);
    const char *values[] = { key, v[0], v[1], v[2] };
    if (rc == OK)
        rc = rec_exec(tx, SQL_GROUP_REKEY, values, 4, "rekey group");
    free(key);
    return rc;
}

/* Every *_lc key written before keys were Unicode (issue: ÄRGER and ärger were two). */
static enum status fold_keys(struct store_tx *tx)
{
    enum status rc = rekey_each(tx, SQL_IDP_USER_KEYS_IN, rekey_idp_user);
    if (rc == OK)
        rc = rekey_each(tx, SQL_USER_KEYS_IN, rekey_user);
    if (rc == OK)
        rc = rekey_each(tx, SQL_EMAIL_KEYS_IN, rekey_email);
    if (rc == OK)
        rc = rekey_each(tx, SQL_GROUP_KEYS_IN, rekey_group);
    return rc;
}

const struct rec_migration rec_migrations[] = {
    { "code_001_fold_keys", fold_keys },
};
const size_t rec_n_migrations = sizeof(rec_migrations) / sizeof(rec_migrations[0]);
