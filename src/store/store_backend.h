/*
 * store_backend.h - what a storage backend provides: one table of functions.
 *
 * Every backend's struct store and struct store_tx begin with a struct
 * store_head, so store.c can dispatch a call without knowing the backend.
 * Only src/store/ includes this file.
 */
#ifndef SCIMD_STORE_BACKEND_H
#define SCIMD_STORE_BACKEND_H

#include "store/store.h"

struct store_ops;

struct store_head {
    const struct store_ops *ops;
};

/* Each member does what the store.h function named store_<member> does. */
struct store_ops {
    const char *name; /* "sqlite", "postgres" */
    void (*close)(struct store *store);
    enum status (*begin)(struct store *store, bool write, struct store_tx **out);
    enum status (*lock)(struct store_tx *tx, const char *key);
    enum status (*commit)(struct store_tx *tx);
    void (*rollback)(struct store_tx *tx);
    enum status (*tenant_insert)(struct store_tx *tx, const struct store_tenant *t);
    enum status (*tenant_find)(struct store_tx *tx, const char *key, struct store_tenant *out);
    enum status (*tenant_each)(struct store_tx *tx, store_tenant_fn fn, void *ctx);
    enum status (*idp_insert)(struct store_tx *tx, const struct store_idp *idp);
    enum status (*idp_get)(struct store_tx *tx, const char *id, struct store_idp *out);
    enum status (*idp_each)(struct store_tx *tx, const char *tenant_id, store_idp_fn fn, void *ctx);
    enum status (*token_insert)(struct store_tx *tx, const struct store_token *t);
    enum status (*token_get)(struct store_tx *tx, const char *id, struct store_token *out);
    enum status (*token_by_hash)(struct store_tx *tx, const char *hash, struct store_token *out);
    enum status (*token_revoke)(struct store_tx *tx, const char *id, const char *at);
    enum status (*token_touch)(struct store_tx *tx, const char *id, const char *at);
    enum status (*token_each)(struct store_tx *tx, const char *idp_id, store_token_fn fn, void *ctx);
    enum status (*user_insert)(struct store_tx *tx, const struct store_user *u);
    enum status (*user_update)(struct store_tx *tx, const struct store_user *u);
    enum status (*user_get)(struct store_tx *tx, const char *tenant_id, const char *id, struct store_user *out);
    enum status (*user_find_match)(struct store_tx *tx, const char *tenant_id, const char *email, const char *username, struct store_user *out);
    enum status (*user_each)(struct store_tx *tx, const char *tenant_id, const char *idp_id, store_user_fn fn, void *ctx);
    enum status (*idp_user_insert)(struct store_tx *tx, const struct store_idp_user *r);
    enum status (*idp_user_update)(struct store_tx *tx, const struct store_idp_user *r);
    enum status (*idp_user_get)(struct store_tx *tx, const char *tenant_id, const char *idp_id, const char *user_id, struct store_idp_user *out);
    enum status (*idp_user_by_external_id)(struct store_tx *tx, const char *tenant_id, const char *idp_id, const char *external_id, struct store_idp_user *out);
    enum status (*idp_user_by_user_name)(struct store_tx *tx, const char *tenant_id, const char *idp_id, const char *user_name, struct store_idp_user *out);
    enum status (*idp_user_each_of_user)(struct store_tx *tx, const char *tenant_id, const char *user_id, store_idp_user_fn fn, void *ctx);
    enum status (*idp_user_search)(struct store_tx *tx, const struct store_search *q, store_idp_user_fn fn, void *ctx, struct store_search_result *res);
    enum status (*group_insert)(struct store_tx *tx, const struct store_group *g);
    enum status (*group_update)(struct store_tx *tx, const struct store_group *g);
    enum status (*group_get)(struct store_tx *tx, const char *tenant_id, const char *idp_id, const char *id, struct store_group *out);
    enum status (*group_by_external_id)(struct store_tx *tx, const char *tenant_id, const char *idp_id, const char *external_id, struct store_group *out);
    enum status (*group_delete)(struct store_tx *tx, const char *tenant_id, const char *idp_id, const char *id);
    enum status (*group_search)(struct store_tx *tx, const struct store_search *q, store_group_fn fn, void *ctx, struct store_search_result *res);
    enum status (*users_missing)(struct store_tx *tx, const char *tenant_id, const char *idp_id, const char *const *user_ids, size_t n, store_id_fn fn, void *ctx);
    enum status (*group_members_add)(struct store_tx *tx, const char *tenant_id, const char *idp_id, const char *group_id, const char *const *user_ids, size_t n, store_id_fn fn, void *ctx);
    enum status (*group_members_remove)(struct store_tx *tx, const char *tenant_id, const char *idp_id, const char *group_id, const char *const *user_ids, size_t n, store_id_fn fn, void *ctx);
    enum status (*group_members_clear)(struct store_tx *tx, const char *tenant_id, const char *idp_id, const char *group_id, store_id_fn fn, void *ctx);
    enum status (*group_members_each)(struct store_tx *tx, const char *tenant_id, const char *idp_id, const char *group_id, bool live_only, store_id_fn fn, void *ctx);
    enum status (*user_in_groups)(struct store_tx *tx, const char *tenant_id, const char *idp_id, const char *user_id, bool *out);
    enum status (*groups_of_user_each)(struct store_tx *tx, const char *tenant_id, const char *idp_id, const char *user_id, store_group_of_fn fn, void *ctx);
    enum status (*setting_claim)(struct store_tx *tx, const char *name, const char *candidate, char *out, size_t out_size);
    enum status (*event_append)(struct store_tx *tx, struct store_event *e);
    enum status (*event_each)(struct store_tx *tx, const struct store_event_query *q, store_event_fn fn, void *ctx);
};

enum status sqlite_store_open(const char *url, unsigned pool_size, struct store **out,
                               struct scim_error *err);
enum status postgres_store_open(const char *url, unsigned pool_size, struct store **out,
                                 struct scim_error *err);

#endif
