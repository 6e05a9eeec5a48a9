/*
 * admin.c - tenants, IdP connections, tokens, admin-created users, and the
 * bearer-token check every SCIM request starts with.
 */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "directory/audit.h"
#include "directory/directory.h"
#include "directory/mirror.h"
#include "core/str.h"

const char *const directory_vendors[] = {
    "okta", "entra", "onelogin", "ping", "jumpcloud", "generic", NULL,
};

static const char admin_actor[] = "cli";

void directory_init(struct directory *dir, struct store *store, const char *public_url)
{
    dir->store = store;
    atomic_init(&dir->stopping, false);
    str_copy(dir->public_url, sizeof(dir->public_url), public_url);
    size_t n = strlen(dir->public_url);
    while (n > 0 && dir->public_url[n - 1] == '/')
        dir->public_url[--n] = '\0';
}

#define CURSOR_KEY_SETTING "cursor_hmac_key"

enum status directory_load_keys(struct directory *dir, struct scim_error *err)
{
    unsigned char fresh[SCIM_CURSOR_KEY_LEN];
    char candidate[2 * SCIM_CURSOR_KEY_LEN + 1], stored[2 * SCIM_CURSOR_KEY_LEN + 1];
    enum status rc = crypto_random_bytes(fresh, sizeof(fresh));
    if (rc != OK)
        return scim_error_set(err, rc, "no random bytes for the cursor key");
    for (size_t i = 0; i < sizeof(fresh); i++)
        snprintf(candidate + 2 * i, 3, "%02x", fresh[i]);

    struct store_tx *tx = NULL;
    if ((rc = store_begin(dir->store, true, &tx)) == OK &&
        (rc = store_setting_claim(tx, CURSOR_KEY_SETTING, candidate, stored, sizeof(stored))) ==
            OK)
        rc = store_commit(tx);
    else
        store_rollback(tx);
    if (rc != OK)
        return scim_error_set(err, rc, "cannot load the cursor key");
    for (size_t i = 0; i < sizeof(dir->cursor_key); i++) {
        int hi = str_hex_value(stored[2 * i]), lo = hi < 0 ? -1 : str_hex_value(stored[2 * i + 1]);
        if (lo < 0)
            return scim_error_set(err, ERR_STORE, "the stored cursor key is not hex");
        dir->cursor_key[i] = (unsigned char)(hi << 4 | lo);
    }
    dir->cursor_key_loaded = true;
    return OK;
}

void directory_conn_release(struct scim_conn *conn)
{
    store_rollback(conn->read_tx);
    conn->read_tx = NULL;
}

enum status directory_read_begin(struct directory *dir, const struct scim_conn *conn,
                                 struct store_tx **out)
{
    if (conn->read_tx != NULL) {
        *out = conn->read_tx;
        return OK;
    }
    return store_begin(dir->store, false, out);
}

void directory_read_end(const struct scim_conn *conn, struct store_tx *tx)
{
    if (tx != conn->read_tx)
        store_rollback(tx);
}

void directory_idp_base_url(const struct directory *dir, const char *idp_id,
                            char out[DIRECTORY_URL_MAX])
{
    snprintf(out, DIRECTORY_URL_MAX, "%s/scim/v2/inbound/%s/", dir->public_url, idp_id);
}

static struct audit_ctx admin_ctx(const struct actor *by, const char *tenant_id,
                                  const char *idp_id)
{
    struct audit_ctx ctx = {
        .tenant_id = tenant_id,
        .idp_id = idp_id,
        .actor = by && by->name ? by->name : admin_actor,
        .source = by ? by->source : NULL,
    };
    return ctx;
}

/* Names shown to admins: 1..128 bytes of printable UTF-8. */
static enum status check_name(const char *what, const char *name, struct scim_error *err)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0)
        return scim_error_set(err, ERR_INVALID_VALUE, "%s must not be empty", what);
    if (n >= STORE_NAME_MAX)
        return scim_error_set(err, ERR_INVALID_VALUE, "%s is longer than %d bytes", what,
                              STORE_NAME_MAX - 1);
    if (!str_utf8_valid(name, n))
        return scim_error_set(err, ERR_INVALID_VALUE, "%s is not valid UTF-8", what);
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)name[i] < 0x20)
            return scim_error_set(err, ERR_INVALID_VALUE, "%s contains a control character",
                                  what);
    }
    return OK;
}

/* "Acme Corp" -> "acme-corp" */
static void slugify(const char *name, char *out, size_t size)
{
    size_t j = 0;
    bool dash = false;
    for (const char *p = name; *p && j + 1 < size; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (dash && j > 0)
                out[j++] = '-';
            if (j + 1 < size)
                out[j++] = c;
            dash = false;
        } else {
            dash = true;
        }
    }
    out[j] = '\0';
}

static enum status check_subdomain(const char *s, struct scim_error *err)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return scim_error_set(err, ERR_INVALID_VALUE, "subdomain must be 1 to 63 characters");
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0 && i + 1 < n);
        if (!ok)
            return scim_error_set(err, ERR_INVALID_VALUE,
                                  "subdomain may hold only a-z, 0-9 and inner '-'");
    }
    return OK;
}

/* Commit tx, or roll it back when rc is already an error; converts store errors. */
static enum status finish(struct store_tx *tx, enum status rc, struct scim_error *err)
{
    return mirror_end(tx, rc, err);
}

enum status directory_tenant_create(struct directory *dir, const char *name, const char *subdomain,
                                    const struct actor *by, struct store_tenant *out,
                                    struct scim_error *err)
{
    scim_error_clear(err);
    enum status rc = check_name("tenant name", name, err);
    if (rc != OK)
        return rc;
    memset(out, 0, sizeof(*out));
    str_copy(out->name, sizeof(out->name), name);
    if (subdomain)
        str_copy(out->subdomain, sizeof(out->subdomain), subdomain);
    else
        slugify(name, out->subdomain, 64);
    rc = check_subdomain(out->subdomain, err);
    if (rc != OK)
        return rc;
    if ((rc = crypto_uuid(out->id)) != OK)
        return scim_error_set(err, rc, "no randomness available");
    clock_now_iso(out->created_at);

    struct store_tx *tx = NULL;
    if ((rc = store_begin(dir->store, true, &tx)) != OK)
        return scim_error_set(err, rc, "database unavailable");
    rc = store_tenant_insert(tx, out);
    if (rc == ERR_UNIQUENESS)
        scim_error_set(err, rc, "subdomain '%s' is taken", out->subdomain);
    if (rc == OK) {
        struct audit_ctx ctx = admin_ctx(by, out->id, NULL);
        json_t *summary = json_pack("{s:s,s:s}", "name", out->name, "subdomain", out->subdomain);
        rc = summary ? audit_append(tx, &ctx, "tenant_created", out->id, summary) : ERR_NOMEM;
        json_decref(summary);
    }
    return finish(tx, rc, err);
}

enum status directory_idp_create(struct directory *dir, const char *tenant_key, const char *name,
                                 const char *vendor, const struct actor *by, struct store_idp *out,
                                 struct scim_error *err)
{
    scim_error_clear(err);
    enum status rc = check_name("IdP name", name, err);
    if (rc != OK)
        return rc;
    bool known = false;
    for (const char *const *v = directory_vendors; *v; v++)
        known = known || str_ieq(*v, vendor);
    if (!known)
        return scim_error_set(err, ERR_INVALID_VALUE,
                              "unknown vendor '%.32s' (okta, entra, onelogin, ping, jumpcloud, generic)",
                              vendor ? vendor : "");
    memset(out, 0, sizeof(*out));
    str_copy(out->name, sizeof(out->name), name);
    str_copy(out->vendor, sizeof(out->vendor), vendor);
    str_lower(out->vendor);
    if ((rc = crypto_uuid(out->id)) != OK)
        return scim_error_set(err, rc, "no randomness available");
    clock_now_iso(out->created_at);

    struct store_tx *tx = NULL;
    if ((rc = store_begin(dir->store, true, &tx)) != OK)
        return scim_error_set(err, rc, "database unavailable");
    struct store_tenant tenant;
    rc = store_tenant_find(tx, tenant_key, &tenant);
    if (rc == ERR_NOT_FOUND)
        scim_error_set(err, rc, "no tenant '%.64s'", tenant_key);
    if (rc == OK) {
        str_copy(out->tenant_id, sizeof(out->tenant_id), tenant.id);
        rc = store_idp_insert(tx, out);
    }
    if (rc == OK) {
        struct audit_ctx ctx = admin_ctx(by, out->tenant_id, out->id);
        json_t *summary = json_pack("{s:s,s:s}", "name", out->name, "vendor", out->vendor);
        rc = summary ? audit_append(tx, &ctx, "idp_created", out->id, summary) : ERR_NOMEM;
        json_decref(summary);
    }
    return finish(tx, rc, err);
}

enum status directory_token_create(struct directory *dir, const char *idp_id, const char *name,
                                   const struct actor *by, struct store_token *out,
                                   char plaintext[CRYPTO_TOKEN_LEN], struct scim_error *err)
{
    scim_error_clear(err);
    enum status rc = check_name("token name", name, err);
    if (rc != OK)
        return rc;
    memset(out, 0, sizeof(*out));
    if ((rc = crypto_uuid(out->id)) != OK || (rc = crypto_token_new(plaintext)) != OK)
        return scim_error_set(err, rc, "no randomness available");
    str_copy(out->name, sizeof(out->name), name);
    /* "scimd_" plus four characters: enough to tell tokens apart, useless to guess them */
    str_copy(out->prefix, 11, plaintext);
    crypto_sha256_hex(plaintext, strlen(plaintext), out->hash);
    clock_now_iso(out->created_at);

    struct store_tx *tx = NULL;
    if ((rc = store_begin(dir->store, true, &tx)) != OK)
        return scim_error_set(err, rc, "database unavailable");
    struct store_idp idp;
    rc = store_idp_get(tx, idp_id, &idp);
    if (rc == ERR_NOT_FOUND)
        scim_error_set(err, rc, "no IdP connection '%.64s'", idp_id);
    if (rc == OK) {
        str_copy(out->tenant_id, sizeof(out->tenant_id), idp.tenant_id);
        str_copy(out->idp_id, sizeof(out->idp_id), idp.id);
        rc = store_token_insert(tx, out);
    }
    if (rc == OK) {
        struct audit_ctx ctx = admin_ctx(by, out->tenant_id, out->idp_id);
        json_t *summary = json_pack("{s:s,s:s}", "name", out->name, "prefix", out->prefix);
        rc = summary ? audit_append(tx, &ctx, "token_created", out->id, summary) : ERR_NOMEM;
        json_decref(summary);
    }
    rc = finish(tx, rc, err);
    if (rc != OK)
        memset(plaintext, 0, CRYPTO_TOKEN_LEN);
    return rc;
}

enum status directory_token_revoke(struct directory *dir, const char *token_id,
                                   const struct actor *by, struct scim_error *err)
{
    scim_error_clear(err);
    struct store_tx *tx = NULL;
    enum status rc = store_begin(dir->store, true, &tx);
    if (rc != OK)
        return scim_error_set(err, rc, "database unavailable");
    struct store_token token;
    rc = store_token_get(tx, token_id, &token);
    if (rc == ERR_NOT_FOUND)
        scim_error_set(err, rc, "no token '%.64s'", token_id);
    if (rc == OK && token.revoked_at[0])
        rc = scim_error_set(err, ERR_CONFLICT, "token '%s' is already revoked", token.id);
    if (rc == OK) {
        char now[STORE_TIME_LEN];
        clock_now_iso(now);
        rc = store_token_revoke(tx, token.id, now);
    }
    if (rc == OK) {
        struct audit_ctx ctx = admin_ctx(by, token.tenant_id, token.idp_id);
        json_t *summary = json_pack("{s:s,s:s}", "name", token.name, "prefix", token.prefix);
        rc = summary ? audit_append(tx, &ctx, "token_revoked", token.id, summary) : ERR_NOMEM;
        json_decref(summary);
    }
    return finish(tx, rc, err);
}

enum status directory_user_create(struct directory *dir, const struct directory_new_user *nu,
                                  const struct actor *by, struct store_user *out,
                                  struct scim_error *err)
{
    scim_error_clear(err);
    memset(out, 0, sizeof(*out));
    enum status rc = check_name("username", nu->username, err);
    if (rc == OK)
        rc = check_name("email", nu->email, err);
    if (rc == OK && strchr(nu->email, '@') == NULL)
        rc = scim_error_set(err, ERR_INVALID_VALUE, "email must contain '@'");
    if (rc != OK)
        return rc;
    if ((rc = crypto_uuid(out->id)) != OK)
        return scim_error_set(err, rc, "no randomness available");
    out->username = str_dup(nu->username);
    out->email = str_dup(nu->email);
    out->given_name = str_dup(nu->given_name);
    out->family_name = str_dup(nu->family_name);
    if (!out->username || !out->email || (nu->given_name && !out->given_name) ||
        (nu->family_name && !out->family_name)) {
        store_user_release(out);
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    }
    str_copy(out->status, sizeof(out->status), "active");
    clock_now_iso(out->created_at);
    str_copy(out->updated_at, sizeof(out->updated_at), out->created_at);

    struct store_tx *tx = NULL;
    if ((rc = store_begin(dir->store, true, &tx)) != OK) {
        store_user_release(out);
        return scim_error_set(err, rc, "database unavailable");
    }
    struct store_tenant tenant;
    rc = store_tenant_find(tx, nu->tenant_key, &tenant);
    if (rc == ERR_NOT_FOUND)
        scim_error_set(err, rc, "no tenant '%.64s'", nu->tenant_key);
    if (rc == OK && nu->idp_id) {
        struct store_idp idp;
        rc = store_idp_get(tx, nu->idp_id, &idp);
        if (rc == OK && strcmp(idp.tenant_id, tenant.id) != 0)
            rc = ERR_NOT_FOUND;
        if (rc == ERR_NOT_FOUND)
            scim_error_set(err, rc, "no IdP connection '%.64s' in tenant '%s'", nu->idp_id,
                           tenant.name);
        if (rc == OK)
            str_copy(out->idp_id, sizeof(out->idp_id), idp.id);
    }
    if (rc == OK) {
        str_copy(out->tenant_id, sizeof(out->tenant_id), tenant.id);
        rc = store_user_insert(tx, out);
    }
    if (rc == OK) {
        struct audit_ctx ctx = admin_ctx(by, out->tenant_id, out->idp_id[0] ? out->idp_id : NULL);
        json_t *summary = json_pack("{s:s}", "origin", nu->idp_id ? "sign_in" : "admin");
        rc = summary ? audit_append(tx, &ctx, "user_created", out->id, summary) : ERR_NOMEM;
        json_decref(summary);
    }
    rc = finish(tx, rc, err);
    if (rc != OK)
        store_user_release(out);
    return rc;
}

/* ---- bearer tokens ------------------------------------------------------------------- */

static enum status auth_failed(struct directory *dir, const char *tenant_id, const char *idp_id,
                               const char *source, const char *reason, struct scim_error *err)
{
    struct store_tx *tx = NULL;
    if (store_begin(dir->store, true, &tx) == OK) {
        struct audit_ctx ctx = { tenant_id, idp_id, "anonymous", source };
        json_t *summary = json_pack("{s:s}", "reason", reason);
        enum status rc = summary ? audit_append(tx, &ctx, "scim_auth_failed", NULL, summary)
                                 : ERR_NOMEM;
        json_decref(summary);
        if (rc == OK)
            store_commit(tx);
        else
            store_rollback(tx);
    }
    return scim_error_set(err, ERR_UNAUTHORIZED, "%s", reason);
}

/* "Bearer <token>" -> token; NULL when the header is not a bearer credential. */
static const char *bearer_of(const char *authorization)
{
    if (authorization == NULL || !str_istarts(authorization, "Bearer "))
        return NULL;
    const char *t = authorization + 7;
    while (*t == ' ')
        t++;
    return *t ? t : NULL;
}

enum status directory_authenticate(struct directory *dir, const char *idp_id,
                                   const char *authorization, const char *source,
                                   bool keep_reading, struct scim_conn *out,
                                   struct scim_error *err)
{
    scim_error_clear(err);
    memset(out, 0, sizeof(*out));
    out->source = source;
    struct store_tx *tx = NULL;
    enum status rc = store_begin(dir->store, false, &tx);
    if (rc != OK)
        return scim_error_set(err, rc, "database unavailable");
    struct store_idp idp;
    bool idp_known = store_idp_get(tx, idp_id, &idp) == OK;
    const char *bearer = bearer_of(authorization);
    struct store_token token;
    rc = ERR_NOT_FOUND;
    if (bearer) {
        char hash[CRYPTO_SHA256_HEX_LEN];
        crypto_sha256_hex(bearer, strlen(bearer), hash);
        rc = store_token_by_hash(tx, hash, &token);
    }
    bool accepted = rc == OK && !token.revoked_at[0] && idp_known &&
                    strcmp(token.idp_id, idp.id) == 0;
    char now[STORE_TIME_LEN];
    clock_now_iso(now);
    /* last_used_at at most once a minute: a write per request would serialise reads */
    bool touch = accepted && (token.last_used_at[0] == '\0' ||
                              clock_iso_diff_s(token.last_used_at, now) >= DIRECTORY_TOKEN_TOUCH_S);
    /* A request that writes, or touches the token, gives its connection back first:
     * holding one while waiting for another could exhaust a small pool. */
    if (accepted && keep_reading && !touch)
        out->read_tx = tx;
    else
        store_rollback(tx);
    tx = NULL;
    if (rc != OK && rc != ERR_NOT_FOUND)
        return scim_error_set(err, rc, "database unavailable");

    const char *tenant_id = idp_known ? idp.tenant_id : NULL;
    const char *known_idp = idp_known ? idp.id : NULL;
    if (authorization == NULL)
        return auth_failed(dir, tenant_id, known_idp, source, "missing bearer token", err);
    if (bearer == NULL)
        return auth_failed(dir, tenant_id, known_idp, source, "authorization is not a bearer token",
                           err);
    if (rc == ERR_NOT_FOUND)
        return auth_failed(dir, tenant_id, known_idp, source, "unknown bearer token", err);
    if (token.revoked_at[0])
        return auth_failed(dir, tenant_id, known_idp, source, "revoked bearer token", err);
    if (!idp_known || strcmp(token.idp_id, idp.id) != 0)
        return auth_failed(dir, tenant_id, known_idp, source,
                           "bearer token is not valid for this connection", err);

    str_copy(out->tenant_id, sizeof(out->tenant_id), token.tenant_id);
    str_copy(out->idp_id, sizeof(out->idp_id), token.idp_id);
    str_copy(out->token_id, sizeof(out->token_id), token.id);
    snprintf(out->actor, sizeof(out->actor), "token:%s", token.id);
    directory_idp_base_url(dir, idp.id, out->base_url);

    if (touch) {
        if (store_begin(dir->store, true, &tx) == OK) {
            if (store_token_touch(tx, token.id, now) == OK)
                store_commit(tx);
            else
                store_rollback(tx);
        }
    }
    return OK;
}
