/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rec_tenants.c - this file contains the record operations of store.h for
 * tenants, IdP connections (their immutable rows, cached, and their access
 * state: kill switch and allowlist, never cached), tokens and settings: their
 * SQL, parameters and row decoding, written once for every backend (stmt.h).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/stmt.h"
#include "store/store.h"

#include "core/str.h"

/* ---- tenants ------------------------------------------------------------------------ */

#define TENANT_COLUMNS "id, name, subdomain, created_at"
static const char SQL_TENANT_INSERT[] = "INSERT INTO tenants (" TENANT_COLUMNS ") "
                                        "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING";
static const char SQL_TENANT_BY_ID[] = "SELECT " TENANT_COLUMNS " FROM tenants WHERE id = ?";
static const char SQL_TENANT_BY_SUBDOMAIN[] =
    "SELECT " TENANT_COLUMNS " FROM tenants WHERE subdomain = ?";
static const char SQL_TENANT_BY_NAME[] =
    "SELECT " TENANT_COLUMNS " FROM tenants WHERE name = ? ORDER BY created_at, id LIMIT 1";
static const char SQL_TENANT_EACH[] =
    "SELECT " TENANT_COLUMNS " FROM tenants ORDER BY created_at, id";

static enum status read_tenant(struct stmt *st, void *out)
{
    struct store_tenant *t = out;
    memset(t, 0, sizeof(*t));
    rec_col_copy(st, 0, t->id, sizeof(t->id));
    rec_col_copy(st, 1, t->name, sizeof(t->name));
    rec_col_copy(st, 2, t->subdomain, sizeof(t->subdomain));
    rec_col_copy(st, 3, t->created_at, sizeof(t->created_at));
    return OK;
}

enum status store_tenant_insert(struct store_tx *tx, const struct store_tenant *t)
{
    char now[STORE_TIME_LEN];
    const char *values[] = { t->id, t->name, t->subdomain, rec_time_or_now(t->created_at, now) };
    return rec_insert(tx, SQL_TENANT_INSERT, values, 4, "insert tenant");
}

enum status store_tenant_find(struct store_tx *tx, const char *key, struct store_tenant *out)
{
    static const char *const by[] = { SQL_TENANT_BY_ID, SQL_TENANT_BY_SUBDOMAIN,
                                      SQL_TENANT_BY_NAME };
    enum status rc = ERR_NOT_FOUND;
    for (size_t i = 0; rc == ERR_NOT_FOUND && i < sizeof(by) / sizeof(by[0]); i++)
        rc = rec_find(tx, by[i], &key, 1, read_tenant, out, "find tenant");
    return rc;
}

static enum status each_tenant(struct stmt *st, rec_any_fn fn, void *ctx)
{
    struct store_tenant t;
    read_tenant(st, &t);
    return ((store_tenant_fn)fn)(ctx, &t);
}

enum status store_tenant_each(struct store_tx *tx, store_tenant_fn fn, void *ctx)
{
    return rec_each(tx, SQL_TENANT_EACH, NULL, 0, 0, each_tenant, (rec_any_fn)fn, ctx,
                    "list tenants");
}

/* ---- IdP connections ---------------------------------------------------------------- */

#define IDP_COLUMNS "tenant_id, id, name, vendor, created_at"
static const char SQL_IDP_INSERT[] = "INSERT INTO idps (" IDP_COLUMNS ") "
                                     "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
static const char SQL_IDP_GET[] = "SELECT " IDP_COLUMNS " FROM idps WHERE id = ?";
static const char SQL_IDP_EACH[] = "SELECT " IDP_COLUMNS " FROM idps ORDER BY created_at, id";
static const char SQL_IDP_EACH_TENANT[] =
    "SELECT " IDP_COLUMNS " FROM idps WHERE tenant_id = ? ORDER BY created_at, id";

static enum status read_idp(struct stmt *st, void *out)
{
    struct store_idp *idp = out;
    memset(idp, 0, sizeof(*idp));
    rec_col_copy(st, 0, idp->tenant_id, sizeof(idp->tenant_id));
    rec_col_copy(st, 1, idp->id, sizeof(idp->id));
    rec_col_copy(st, 2, idp->name, sizeof(idp->name));
    rec_col_copy(st, 3, idp->vendor, sizeof(idp->vendor));
    rec_col_copy(st, 4, idp->created_at, sizeof(idp->created_at));
    return OK;
}

enum status store_idp_insert(struct store_tx *tx, const struct store_idp *idp)
{
    char now[STORE_TIME_LEN];
    const char *values[] = { idp->tenant_id, idp->id, idp->name, idp->vendor,
                             rec_time_or_now(idp->created_at, now) };
    return rec_insert(tx, SQL_IDP_INSERT, values, 5, "insert idp");
}

/* ---- the IdP cache (stmt.h) --------------------------------------------------------- */

void rec_idp_cache_init(struct rec_idp_cache *c)
{
    pthread_mutex_init(&c->mu, NULL);
    c->slots = NULL;
    c->n = 0;
}

void rec_idp_cache_release(struct rec_idp_cache *c)
{
    pthread_mutex_destroy(&c->mu);
    free(c->slots);
    c->slots = NULL;
}

static size_t idp_slot(const char *id)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const char *s = id; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)(h % REC_IDP_CACHE_SLOTS);
}

/* Find id (found: copied to out) or, with add, store add in its free slot. */
static bool idp_cache_visit(struct rec_idp_cache *c, const char *id, struct store_idp *out,
                            const struct store_idp *add)
{
    bool found = false;
    pthread_mutex_lock(&c->mu);
    if (c->slots == NULL && add != NULL)
        c->slots = calloc(REC_IDP_CACHE_SLOTS, sizeof(*c->slots));
    for (size_t i = idp_slot(id), k = 0; c->slots != NULL && k < REC_IDP_CACHE_SLOTS; k++) {
        struct store_idp *e = &c->slots[(i + k) % REC_IDP_CACHE_SLOTS];
        if (e->id[0] == '\0') {
            if (add != NULL && c->n < REC_IDP_CACHE_SLOTS / 4 * 3) {
                *e = *add;
                c->n++;
            }
            break;
        }
        if (strcmp(e->id, id) == 0) {
            found = out != NULL;
            if (found)
                *out = *e;
            break;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return found;
}

enum status store_idp_get(struct store_tx *tx, const char *id, struct store_idp *out)
{
    bool cacheable = rec_tx_reads_only(tx) && strlen(id) < sizeof(out->id);
    if (cacheable && idp_cache_visit(rec_idp_cache_of(tx), id, out, NULL))
        return OK;
    enum status rc = rec_find(tx, SQL_IDP_GET, &id, 1, read_idp, out, "get idp");
    if (rc == OK && cacheable)
        idp_cache_visit(rec_idp_cache_of(tx), id, NULL, out);
    return rc;
}

static enum status each_idp(struct stmt *st, rec_any_fn fn, void *ctx)
{
    struct store_idp idp;
    read_idp(st, &idp);
    return ((store_idp_fn)fn)(ctx, &idp);
}

enum status store_idp_each(struct store_tx *tx, const char *tenant_id, store_idp_fn fn, void *ctx)
{
    return rec_each_scoped(tx, SQL_IDP_EACH, SQL_IDP_EACH_TENANT, tenant_id, each_idp,
                           (rec_any_fn)fn, ctx, "list idps");
}

static const char SQL_IDP_RENAME[] = "UPDATE idps SET name = ?1 WHERE id = ?2";

enum status store_idp_get_fresh(struct store_tx *tx, const char *id, struct store_idp *out)
{
    return rec_find(tx, SQL_IDP_GET, &id, 1, read_idp, out, "get idp");
}

/* Overwrite the cached row of idp (if any) with it. */
static void idp_cache_replace(struct rec_idp_cache *c, const struct store_idp *idp)
{
    pthread_mutex_lock(&c->mu);
    for (size_t i = idp_slot(idp->id), k = 0; c->slots != NULL && k < REC_IDP_CACHE_SLOTS; k++) {
        struct store_idp *e = &c->slots[(i + k) % REC_IDP_CACHE_SLOTS];
        if (e->id[0] == '\0')
            break;
        if (strcmp(e->id, idp->id) == 0) {
            *e = *idp;
            break;
        }
    }
    pthread_mutex_unlock(&c->mu);
}

enum status store_idp_rename(struct store_tx *tx, const char *idp_id, const char *name)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_IDP_RENAME, 0, "rename idp", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, name);
    stmt_text(st, idp_id);
    if ((rc = rec_done_one(st)) != OK)
        return rc;
    /* this node's cache follows at once (a rollback leaves it ahead: names are shown only) */
    struct store_idp idp;
    if (store_idp_get_fresh(tx, idp_id, &idp) == OK)
        idp_cache_replace(rec_idp_cache_of(tx), &idp);
    return OK;
}

/* ---- what an operator may change on a connection ------------------------------------ */

static const char SQL_IDP_ACCESS_GET[] = "SELECT disabled_at, allowlist FROM idps WHERE id = ?";
static const char SQL_IDP_SET_DISABLED[] = "UPDATE idps SET disabled_at = ?1 WHERE id = ?2";
static const char SQL_IDP_SET_ALLOWLIST[] = "UPDATE idps SET allowlist = ?1 WHERE id = ?2";

static void read_access(struct stmt *st, int col, struct store_idp_access *a)
{
    rec_col_copy(st, col, a->disabled_at, sizeof(a->disabled_at));
    rec_col_copy(st, col + 1, a->allowlist, sizeof(a->allowlist));
}

static enum status read_idp_access(struct stmt *st, void *out)
{
    struct store_idp_access *a = out;
    memset(a, 0, sizeof(*a));
    read_access(st, 0, a);
    return OK;
}

enum status store_idp_access_get(struct store_tx *tx, const char *idp_id,
                                 struct store_idp_access *out)
{
    return rec_find(tx, SQL_IDP_ACCESS_GET, &idp_id, 1, read_idp_access, out, "get idp access");
}

/* Set one column of one IdP (value NULL: NULL); ERR_NOT_FOUND when there is none. */
static enum status idp_set(struct store_tx *tx, const char *sql, const char *id, const char *value)
{
    if (value && strlen(value) >= STORE_ALLOWLIST_MAX)
        return ERR_INVALID_VALUE;
    struct stmt *st;
    enum status rc = stmt_prepare(tx, sql, 0, "update idp", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, value);
    stmt_text(st, id);
    return rec_done_one(st);
}

enum status store_idp_set_disabled(struct store_tx *tx, const char *idp_id, const char *at)
{
    return idp_set(tx, SQL_IDP_SET_DISABLED, idp_id, at);
}

enum status store_idp_set_allowlist(struct store_tx *tx, const char *idp_id, const char *list)
{
    return idp_set(tx, SQL_IDP_SET_ALLOWLIST, idp_id, list && *list ? list : NULL);
}

/* ---- tokens ------------------------------------------------------------------------- */

#define TOKEN_COLUMNS                                                                              \
    "tenant_id, id, idp_id, name, prefix, hash, created_at, last_used_at, revoked_at, "            \
    "expires_at, last_used_from"
/* Every read joins the connection's access state (one row, by primary key):
 * the token check of a request learns of a disable or an allowlist in the
 * same round trip. */
#define TOKEN_READ                                                                                 \
    "SELECT t.tenant_id, t.id, t.idp_id, t.name, t.prefix, t.hash, t.created_at, "                 \
    "t.last_used_at, t.revoked_at, t.expires_at, t.last_used_from, i.disabled_at, i.allowlist "    \
    "FROM tokens t JOIN idps i ON i.tenant_id = t.tenant_id AND i.id = t.idp_id "
static const char SQL_TOKEN_INSERT[] = "INSERT INTO tokens (" TOKEN_COLUMNS ") "
                                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                                       "ON CONFLICT DO NOTHING";
static const char SQL_TOKEN_GET[] = TOKEN_READ "WHERE t.id = ?";
static const char SQL_TOKEN_BY_HASH[] = TOKEN_READ "WHERE t.hash = ?";
static const char SQL_TOKEN_REVOKE[] =
    "UPDATE tokens SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL";
/* Never moves last_used_at backwards when two requests race. */
static const char SQL_TOKEN_TOUCH[] =
    "UPDATE tokens SET last_used_at = ?1, last_used_from = ?3 WHERE id = ?2 "
    "AND (last_used_at IS NULL OR last_used_at < ?1)";
static const char SQL_TOKEN_SET_EXPIRY[] = "UPDATE tokens SET expires_at = ?1 WHERE id = ?2";
static const char SQL_TOKEN_EACH[] = TOKEN_READ "ORDER BY t.created_at, t.id";
/* The tenant comes from the IdP so that the (tenant_id, idp_id) index serves. */
static const char SQL_TOKEN_EACH_IDP[] =
    TOKEN_READ "WHERE t.tenant_id = (SELECT tenant_id FROM idps WHERE id = ?1) "
               "AND t.idp_id = ?1 ORDER BY t.created_at, t.id";

static enum status read_token(struct stmt *st, void *out)
{
    struct store_token *t = out;
    memset(t, 0, sizeof(*t));
    rec_col_copy(st, 0, t->tenant_id, sizeof(t->tenant_id));
    rec_col_copy(st, 1, t->id, sizeof(t->id));
    rec_col_copy(st, 2, t->idp_id, sizeof(t->idp_id));
    rec_col_copy(st, 3, t->name, sizeof(t->name));
    rec_col_copy(st, 4, t->prefix, sizeof(t->prefix));
    rec_col_copy(st, 5, t->hash, sizeof(t->hash));
    rec_col_copy(st, 6, t->created_at, sizeof(t->created_at));
    rec_col_copy(st, 7, t->last_used_at, sizeof(t->last_used_at));
    rec_col_copy(st, 8, t->revoked_at, sizeof(t->revoked_at));
    rec_col_copy(st, 9, t->expires_at, sizeof(t->expires_at));
    rec_col_copy(st, 10, t->last_used_from, sizeof(t->last_used_from));
    read_access(st, 11, &t->idp_access);
    return OK;
}

enum status store_token_insert(struct store_tx *tx, const struct store_token *t)
{
    char now[STORE_TIME_LEN];
    const char *values[] = { t->tenant_id,
                             t->id,
                             t->idp_id,
                             t->name,
                             t->prefix,
                             t->hash,
                             rec_time_or_now(t->created_at, now),
                             t->last_used_at[0] ? t->last_used_at : NULL,
                             t->revoked_at[0] ? t->revoked_at : NULL,
                             t->expires_at[0] ? t->expires_at : NULL,
                             t->last_used_from[0] ? t->last_used_from : NULL };
    return rec_insert(tx, SQL_TOKEN_INSERT, values, 11, "insert token");
}

enum status store_token_get(struct store_tx *tx, const char *id, struct store_token *out)
{
    return rec_find(tx, SQL_TOKEN_GET, &id, 1, read_token, out, "get token");
}

enum status store_token_by_hash(struct store_tx *tx, const char *hash, struct store_token *out)
{
    return rec_find(tx, SQL_TOKEN_BY_HASH, &hash, 1, read_token, out, "find token");
}

/* Set a column of one token (at: a time, now when NULL and use_now; extra: a
 * third parameter or none); a token that exists but was not changed is OK. */
static enum status token_set(struct store_tx *tx, const char *sql, const char *id, const char *at,
                             bool use_now, bool with_extra, const char *extra)
{
    char now[STORE_TIME_LEN];
    struct stmt *st;
    enum status rc = stmt_prepare(tx, sql, 0, "update token", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, use_now ? rec_time_or_now(at, now) : at);
    stmt_text(st, id);
    if (with_extra)
        stmt_text(st, extra && *extra ? extra : NULL);
    rc = rec_done_one(st);
    if (rc == ERR_NOT_FOUND) {
        struct store_token t;
        rc = store_token_get(tx, id, &t);
    }
    return rc;
}

enum status store_token_revoke(struct store_tx *tx, const char *id, const char *at)
{
    return token_set(tx, SQL_TOKEN_REVOKE, id, at, true, false, NULL);
}

enum status store_token_touch(struct store_tx *tx, const char *id, const char *at)
{
    return token_set(tx, SQL_TOKEN_TOUCH, id, at, true, true, NULL);
}

enum status store_token_touch_from(struct store_tx *tx, const char *id, const char *at,
                                   const char *source)
{
    if (source && strlen(source) >= STORE_SOURCE_MAX)
        source = NULL;
    return token_set(tx, SQL_TOKEN_TOUCH, id, at, true, true, source);
}

enum status store_token_set_expiry(struct store_tx *tx, const char *id, const char *expires_at)
{
    return token_set(tx, SQL_TOKEN_SET_EXPIRY, id, expires_at && *expires_at ? expires_at : NULL,
                     false, false, NULL);
}

static enum status each_token(struct stmt *st, rec_any_fn fn, void *ctx)
{
    struct store_token t;
    read_token(st, &t);
    return ((store_token_fn)fn)(ctx, &t);
}

enum status store_token_each(struct store_tx *tx, const char *idp_id, store_token_fn fn, void *ctx)
{
    if (idp_id == NULL)
        return rec_each(tx, SQL_TOKEN_EACH, NULL, 0, 0, each_token, (rec_any_fn)fn, ctx,
                        "list tokens");
    return rec_each(tx, SQL_TOKEN_EACH_IDP, &idp_id, 1, 0, each_token, (rec_any_fn)fn, ctx,
                    "list tokens");
}

/* ---- settings ----------------------------------------------------------------------- */

static const char SQL_SETTING_INSERT[] =
    "INSERT INTO settings (name, value, created_at) VALUES (?, ?, ?) "
    "ON CONFLICT (name) DO NOTHING";
static const char SQL_SETTING_GET[] = "SELECT value FROM settings WHERE name = ?";

struct setting_out {
    char *buf;
    size_t size;
};

static enum status read_setting(struct stmt *st, void *out)
{
    struct setting_out *o = out;
    const char *v = stmt_col_text(st, 0);
    if (v == NULL || strlen(v) >= o->size)
        return ERR_INVALID_VALUE;
    str_copy(o->buf, o->size, v);
    return OK;
}

enum status store_setting_claim(struct store_tx *tx, const char *name, const char *candidate,
                                char *out, size_t out_size)
{
    char now[STORE_TIME_LEN];
    const char *values[] = { name, candidate, rec_time_or_now(NULL, now) };
    enum status rc = rec_exec(tx, SQL_SETTING_INSERT, values, 3, "insert setting");
    if (rc != OK)
        return rc;
    struct setting_out o = { out, out_size };
    return rec_find(tx, SQL_SETTING_GET, &name, 1, read_setting, &o, "read setting");
}
