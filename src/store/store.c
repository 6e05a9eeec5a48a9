/*
 * store.c - picks the backend named by a store URL and forwards each call
 * to it; also the record helpers that do not depend on a backend.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

#include "core/str.h"
#include "store/store_backend.h"

static const struct store_ops *ops_of(const void *store_or_tx)
{
    return ((const struct store_head *)store_or_tx)->ops;
}

/* Do the values an index holds fit (STORE_INDEXED_VALUE_MAX)?  NULLs do. */
static bool indexable(const char *const *values, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (values[i] != NULL && strlen(values[i]) > STORE_INDEXED_VALUE_MAX)
            return false;
    }
    return true;
}

static bool user_indexable(const struct store_user *u)
{
    const char *v[] = { u->username, u->email };
    return indexable(v, 2);
}

static bool idp_user_indexable(const struct store_idp_user *r)
{
    const char *v[] = { r->user_name, r->external_id };
    return indexable(v, 2) && indexable((const char *const *)r->emails, r->n_emails);
}

static bool group_indexable(const struct store_group *g)
{
    const char *v[] = { g->display_name, g->external_id };
    return indexable(v, 2);
}

enum status store_open(const char *url, unsigned pool_size, struct store **out,
                       struct scim_error *err)
{
    if (url != NULL && (str_istarts(url, "postgres://") || str_istarts(url, "postgresql://")))
        return postgres_store_open(url, pool_size, out, err);
    return sqlite_store_open(url, pool_size, out, err);
}

void store_close(struct store *store)
{
    if (store != NULL)
        ops_of(store)->close(store);
}

enum status store_begin(struct store *store, bool write, struct store_tx **out)
{
    return ops_of(store)->begin(store, write, out);
}

enum status store_lock(struct store_tx *tx, const char *key)
{
    return ops_of(tx)->lock(tx, key);
}

enum status store_commit(struct store_tx *tx)
{
    return ops_of(tx)->commit(tx);
}

void store_rollback(struct store_tx *tx)
{
    if (tx != NULL)
        ops_of(tx)->rollback(tx);
}

enum status store_tenant_insert(struct store_tx *tx, const struct store_tenant *t)
{
    return ops_of(tx)->tenant_insert(tx, t);
}

enum status store_tenant_find(struct store_tx *tx, const char *key, struct store_tenant *out)
{
    return ops_of(tx)->tenant_find(tx, key, out);
}

enum status store_tenant_each(struct store_tx *tx, store_tenant_fn fn, void *ctx)
{
    return ops_of(tx)->tenant_each(tx, fn, ctx);
}

enum status store_idp_insert(struct store_tx *tx, const struct store_idp *idp)
{
    return ops_of(tx)->idp_insert(tx, idp);
}

enum status store_idp_get(struct store_tx *tx, const char *id, struct store_idp *out)
{
    return ops_of(tx)->idp_get(tx, id, out);
}

enum status store_idp_each(struct store_tx *tx, const char *tenant_id, store_idp_fn fn, void *ctx)
{
    return ops_of(tx)->idp_each(tx, tenant_id, fn, ctx);
}

enum status store_token_insert(struct store_tx *tx, const struct store_token *t)
{
    return ops_of(tx)->token_insert(tx, t);
}

enum status store_token_get(struct store_tx *tx, const char *id, struct store_token *out)
{
    return ops_of(tx)->token_get(tx, id, out);
}

enum status store_token_by_hash(struct store_tx *tx, const char *hash, struct store_token *out)
{
    return ops_of(tx)->token_by_hash(tx, hash, out);
}

enum status store_token_revoke(struct store_tx *tx, const char *id, const char *at)
{
    return ops_of(tx)->token_revoke(tx, id, at);
}

enum status store_token_touch(struct store_tx *tx, const char *id, const char *at)
{
    return ops_of(tx)->token_touch(tx, id, at);
}

enum status store_token_each(struct store_tx *tx, const char *idp_id, store_token_fn fn, void *ctx)
{
    return ops_of(tx)->token_each(tx, idp_id, fn, ctx);
}

enum status store_user_insert(struct store_tx *tx, const struct store_user *u)
{
    if (!user_indexable(u))
        return ERR_INVALID_VALUE;
    return ops_of(tx)->user_insert(tx, u);
}

enum status store_user_update(struct store_tx *tx, const struct store_user *u)
{
    if (!user_indexable(u))
        return ERR_INVALID_VALUE;
    return ops_of(tx)->user_update(tx, u);
}

enum status store_user_get(struct store_tx *tx, const char *tenant_id, const char *id, struct store_user *out)
{
    return ops_of(tx)->user_get(tx, tenant_id, id, out);
}

enum status store_user_find_match(struct store_tx *tx, const char *tenant_id, const char *email, const char *username, struct store_user *out)
{
    return ops_of(tx)->user_find_match(tx, tenant_id, email, username, out);
}

enum status store_user_each(struct store_tx *tx, const char *tenant_id, const char *idp_id, store_user_fn fn, void *ctx)
{
    return ops_of(tx)->user_each(tx, tenant_id, idp_id, fn, ctx);
}

enum status store_idp_user_insert(struct store_tx *tx, const struct store_idp_user *r)
{
    if (!idp_user_indexable(r))
        return ERR_INVALID_VALUE;
    return ops_of(tx)->idp_user_insert(tx, r);
}

enum status store_idp_user_update(struct store_tx *tx, const struct store_idp_user *r)
{
    if (!idp_user_indexable(r))
        return ERR_INVALID_VALUE;
    return ops_of(tx)->idp_user_update(tx, r);
}

enum status store_idp_user_get(struct store_tx *tx, const char *tenant_id, const char *idp_id, const char *user_id, struct store_idp_user *out)
{
    return ops_of(tx)->idp_user_get(tx, tenant_id, idp_id, user_id, out);
}

enum status store_idp_user_by_external_id(struct store_tx *tx, const char *tenant_id, const char *idp_id, const char *external_id, struct store_idp_user *out)
{
    return ops_of(tx)->idp_user_by_external_id(tx, tenant_id, idp_id, external_id, out);
}

enum status store_idp_user_by_user_name(struct store_tx *tx, const char *tenant_id, const char *idp_id, const char *user_name, struct store_idp_user *out)
{
    return ops_of(tx)->idp_user_by_user_name(tx, tenant_id, idp_id, user_name, out);
}

enum status store_idp_user_each_of_user(struct store_tx *tx, const char *tenant_id, const char *user_id, store_idp_user_fn fn, void *ctx)
{
    return ops_of(tx)->idp_user_each_of_user(tx, tenant_id, user_id, fn, ctx);
}

enum status store_idp_user_search(struct store_tx *tx, const struct store_search *q, store_idp_user_fn fn, void *ctx, struct store_search_result *res)
{
    return ops_of(tx)->idp_user_search(tx, q, fn, ctx, res);
}

enum status store_group_insert(struct store_tx *tx, const struct store_group *g)
{
    if (!group_indexable(g))
        return ERR_INVALID_VALUE;
    return ops_of(tx)->group_insert(tx, g);
}

enum status store_group_update(struct store_tx *tx, const struct store_group *g)
{
    if (!group_indexable(g))
        return ERR_INVALID_VALUE;
    return ops_of(tx)->group_update(tx, g);
}

enum status store_group_get(struct store_tx *tx, const char *tenant_id, const char *idp_id, const char *id, struct store_group *out)
{
    return ops_of(tx)->group_get(tx, tenant_id, idp_id, id, out);
}

enum status store_group_by_external_id(struct store_tx *tx, const char *tenant_id, const char *idp_id, const char *external_id, struct store_group *out)
{
    return ops_of(tx)->group_by_external_id(tx, tenant_id, idp_id, external_id, out);
}

enum status store_group_delete(struct store_tx *tx, const char *tenant_id, const char *idp_id, const char *id)
{
    return ops_of(tx)->group_delete(tx, tenant_id, idp_id, id);
}

enum status store_group_search(struct store_tx *tx, const struct store_search *q, store_group_fn fn, void *ctx, struct store_search_result *res)
{
    return ops_of(tx)->group_search(tx, q, fn, ctx, res);
}

enum status store_users_missing(struct store_tx *tx, const char *tenant_id, const char *idp_id, const char *const *user_ids, size_t n, store_id_fn fn, void *ctx)
{
    return ops_of(tx)->users_missing(tx, tenant_id, idp_id, user_ids, n, fn, ctx);
}

enum status store_group_members_add(struct store_tx *tx, const char *tenant_id, const char *idp_id, const char *group_id, const char *const *user_ids, size_t n, store_id_fn fn, void *ctx)
{
    return ops_of(tx)->group_members_add(tx, tenant_id, idp_id, group_id, user_ids, n, fn, ctx);
}

enum status store_group_members_remove(struct store_tx *tx, const char *tenant_id, const char *idp_id, const char *group_id, const char *const *user_ids, size_t n, store_id_fn fn, void *ctx)
{
    return ops_of(tx)->group_members_remove(tx, tenant_id, idp_id, group_id, user_ids, n, fn, ctx);
}

enum status store_group_members_clear(struct store_tx *tx, const char *tenant_id, const char *idp_id, const char *group_id, store_id_fn fn, void *ctx)
{
    return ops_of(tx)->group_members_clear(tx, tenant_id, idp_id, group_id, fn, ctx);
}

enum status store_group_members_each(struct store_tx *tx, const char *tenant_id, const char *idp_id, const char *group_id, bool live_only, store_id_fn fn, void *ctx)
{
    return ops_of(tx)->group_members_each(tx, tenant_id, idp_id, group_id, live_only, fn, ctx);
}

enum status store_user_in_groups(struct store_tx *tx, const char *tenant_id, const char *idp_id, const char *user_id, bool *out)
{
    return ops_of(tx)->user_in_groups(tx, tenant_id, idp_id, user_id, out);
}

enum status store_groups_of_user_each(struct store_tx *tx, const char *tenant_id, const char *idp_id, const char *user_id, store_group_of_fn fn, void *ctx)
{
    return ops_of(tx)->groups_of_user_each(tx, tenant_id, idp_id, user_id, fn, ctx);
}

enum status store_setting_claim(struct store_tx *tx, const char *name, const char *candidate, char *out, size_t out_size)
{
    return ops_of(tx)->setting_claim(tx, name, candidate, out, out_size);
}

enum status store_event_append(struct store_tx *tx, struct store_event *e)
{
    return ops_of(tx)->event_append(tx, e);
}

enum status store_event_each(struct store_tx *tx, const struct store_event_query *q, store_event_fn fn, void *ctx)
{
    return ops_of(tx)->event_each(tx, q, fn, ctx);
}
/* ---- records --------------------------------------------------------------------- */

void store_user_release(struct store_user *u)
{
    if (u == NULL)
        return;
    free(u->username);
    free(u->email);
    free(u->given_name);
    free(u->family_name);
    free(u->display_name);
    u->username = u->email = u->given_name = u->family_name = u->display_name = NULL;
}

void store_idp_user_release(struct store_idp_user *r)
{
    if (r == NULL)
        return;
    /* emails belong to the caller (store.h): never freed here. */
    free(r->external_id);
    free(r->user_name);
    free(r->doc);
    r->external_id = r->user_name = r->doc = NULL;
}

void store_group_release(struct store_group *g)
{
    if (g == NULL)
        return;
    free(g->external_id);
    free(g->display_name);
    free(g->doc);
    g->external_id = g->display_name = g->doc = NULL;
}

