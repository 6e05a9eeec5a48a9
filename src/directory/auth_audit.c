/*
 * auth_audit.c - a bearer check that records nothing, and the summary
 * event of repeated failed authentications (see auth_audit.h).
 */
#include <jansson.h>
#include <string.h>

#include "core/crypto.h"
#include "core/str.h"
#include "directory/audit.h"
#include "directory/auth_audit.h"

bool directory_bearer_accepted(struct directory *dir, const char *idp_id, const char *token,
                               size_t len)
{
    if (token == NULL || len == 0)
        return false;
    struct store_tx *tx = NULL;
    if (store_begin(dir->store, false, &tx) != OK)
        return true;
    char hash[CRYPTO_SHA256_HEX_LEN];
    crypto_sha256_hex(token, len, hash);
    struct store_token t;
    enum status rc = store_token_by_hash(tx, hash, &t);
    store_rollback(tx);
    if (rc != OK)
        return rc != ERR_NOT_FOUND;
    return !t.revoked_at[0] && strcmp(t.idp_id, idp_id) == 0;
}

enum status directory_auth_failures_record(struct directory *dir, const char *source,
                                           const char *idp_id, uint64_t failures, uint64_t refused,
                                           unsigned window_s)
{
    struct store_tx *tx = NULL;
    enum status rc = store_begin(dir->store, true, &tx);
    if (rc != OK)
        return rc;
    struct store_idp idp;
    bool known = idp_id != NULL && idp_id[0] && store_idp_get(tx, idp_id, &idp) == OK;
    struct audit_ctx ctx = { known ? idp.tenant_id : NULL, known ? idp.id : NULL, "anonymous",
                             source };
    json_t *summary =
        json_pack("{s:s, s:I, s:I, s:i}", "reason", "repeated failed authentications", "count",
                  (json_int_t)failures, "refused", (json_int_t)refused, "window_s", (int)window_s);
    rc = summary ? audit_append(tx, &ctx, "scim_auth_failed", NULL, summary) : ERR_NOMEM;
    json_decref(summary);
    if (rc != OK) {
        store_rollback(tx);
        return rc;
    }
    return store_commit(tx);
}
