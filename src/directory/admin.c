/* SPDX-License-Identifier: Apache-2.0 */
/*
 * admin.c - tenants, IdP connections, tokens, admin-created users, and the
 * bearer-token check every SCIM request starts with.
 */
#include <stdio.h>
#include <string.h>

#include "core/cidr.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "directory/audit.h"
#include "directory/auth_audit.h"
#include "directory/directory.h"
#include "directory/mirror.h"

#include "core/str.h" /* last: its banned.h must follow the system headers */

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
        (rc = store_setting_claim(tx, CURSOR_KEY_SETTING, candidate, stored, sizeof(stored))) == OK)
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

static struct audit_ctx admin_ctx(const struct actor *by, const char *tenant_id, const char *idp_id)
{
    struct audit_ctx ctx = {
        .tenant_id = tenant_id,
        .idp_id = idp_id,
        .actor = by && by->name ? by->name : admin_actor,
        .source = by ? by->source : NULL,
    };
    return ctx;
}

/* A JSON string, or null for "". */
static json_t *json_nullable(const char *s)
{
    return s && *s ? json_string(s) : json_null();
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
            return scim_error_set(err, ERR_INVALID_VALUE, "%s contains a control character", what);
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
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0 && i + 1 < n);
        if (!ok)
            return scim_error_set(err, ERR_INVALID_VALUE,
                                  "subdomain may hold only a-z, 0-9 and inner '-'");
    }
    return OK;
}

/* Commit tx, or roll it back when rc is already an error; converts store errors. */
enum status directory_tenant_find(struct store_tx *tx, const char *tenant_key,
                                  struct store_tenant *out, struct scim_error *err)
{
    enum status rc = store_tenant_find(tx, tenant_key ? tenant_key : "", out);
    if (rc == ERR_NOT_FOUND)
        scim_error_set(err, rc, "no tenant '%.64s'", tenant_key ? tenant_key : "");
    return rc;
}

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
        return scim_error_set(
            err, ERR_INVALID_VALUE,
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
    rc = directory_tenant_find(tx, tenant_key, &tenant, err);
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
    return directory_token_create_expiring(dir, idp_id, name, 0, by, out, plaintext, err);
}

/* The time `seconds` after `from` (clock_now_iso's format), or "" for 0 (never). */
static void time_after(const char *from, int64_t seconds, char out[STORE_TIME_LEN])
{
    int64_t ms;
    out[0] = '\0';
    if (seconds > 0 && clock_parse_iso(from, &ms))
        clock_iso_from_ms(ms + seconds * 1000, out);
}

enum status directory_token_create_expiring(struct directory *dir, const char *idp_id,
                                            const char *name, int64_t expires_in_s,
                                            const struct actor *by, struct store_token *out,
                                            char plaintext[CRYPTO_TOKEN_LEN],
                                            struct scim_error *err)
{
    scim_error_clear(err);
    enum status rc = check_name("token name", name, err);
    if (rc != OK)
        return rc;
    if (expires_in_s < 0 || expires_in_s > CLOCK_DURATION_MAX_S)
        return scim_error_set(err, ERR_INVALID_VALUE,
                              "a token's lifetime must be 1 s to 100 years");
    memset(out, 0, sizeof(*out));
    if ((rc = crypto_uuid(out->id)) != OK || (rc = crypto_token_new(plaintext)) != OK)
        return scim_error_set(err, rc, "no randomness available");
    str_copy(out->name, sizeof(out->name), name);
    /* "scimd_" plus four characters: enough to tell tokens apart, useless to guess them */
    str_copy(out->prefix, 11, plaintext);
    crypto_sha256_hex(plaintext, strlen(plaintext), out->hash);
    clock_now_iso(out->created_at);
    time_after(out->created_at, expires_in_s, out->expires_at);

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
        json_t *summary = json_pack("{s:s,s:s,s:o}", "name", out->name, "prefix", out->prefix,
                                    "expires_at", json_nullable(out->expires_at));
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

#define ROTATED_SUFFIX " (rotated)"

/* The successor's name: old's, marked rotated once, cut to fit. */
static void rotated_name(const char *old, char out[STORE_NAME_MAX])
{
    size_t n = strlen(old), k = sizeof(ROTATED_SUFFIX) - 1;
    if (n >= k && strcmp(old + n - k, ROTATED_SUFFIX) == 0) {
        str_copy(out, STORE_NAME_MAX, old);
        return;
    }
    if (n > STORE_NAME_MAX - 1 - k)
        n = STORE_NAME_MAX - 1 - k;
    while (n > 0 && ((unsigned char)old[n] & 0xC0) == 0x80) /* not inside a UTF-8 sequence */
        n--;
    snprintf(out, STORE_NAME_MAX, "%.*s%s", (int)n, old, ROTATED_SUFFIX);
}

enum status directory_token_rotate(struct directory *dir, const char *token_id, int64_t overlap_s,
                                   int64_t expires_in_s, const struct actor *by,
                                   struct store_token *out, char plaintext[CRYPTO_TOKEN_LEN],
                                   struct scim_error *err)
{
    scim_error_clear(err);
    memset(out, 0, sizeof(*out));
    if (overlap_s < 0 || overlap_s > CLOCK_DURATION_MAX_S)
        return scim_error_set(err, ERR_INVALID_VALUE, "the overlap must be 0 s to 100 years");
    enum status rc;
    if ((rc = crypto_uuid(out->id)) != OK || (rc = crypto_token_new(plaintext)) != OK)
        return scim_error_set(err, rc, "no randomness available");
    str_copy(out->prefix, 11, plaintext);
    crypto_sha256_hex(plaintext, strlen(plaintext), out->hash);
    clock_now_iso(out->created_at);

    struct store_tx *tx = NULL;
    if ((rc = store_begin(dir->store, true, &tx)) != OK) {
        memset(plaintext, 0, CRYPTO_TOKEN_LEN);
        return scim_error_set(err, rc, "database unavailable");
    }
    struct store_token old;
    rc = store_token_get(tx, token_id, &old);
    if (rc == ERR_NOT_FOUND)
        scim_error_set(err, rc, "no token '%.64s'", token_id);
    if (rc == OK && old.revoked_at[0])
        rc = scim_error_set(err, ERR_CONFLICT, "token '%s' is revoked", old.id);
    if (rc == OK && old.expires_at[0] && strcmp(old.expires_at, out->created_at) <= 0)
        rc = scim_error_set(err, ERR_CONFLICT, "token '%s' has expired; create a new one", old.id);
    char old_until[STORE_TIME_LEN] = "";
    if (rc == OK) {
        /* the successor lives as long as its predecessor did, unless told otherwise */
        if (expires_in_s < 0 && old.expires_at[0])
            expires_in_s = clock_iso_diff_s(old.created_at, old.expires_at);
        time_after(out->created_at, expires_in_s > 0 ? expires_in_s : 0, out->expires_at);
        time_after(out->created_at, overlap_s, old_until);
        if (old_until[0] == '\0') /* overlap 0: now */
            str_copy(old_until, sizeof(old_until), out->created_at);
        if (old.expires_at[0] && strcmp(old.expires_at, old_until) < 0)
            str_copy(old_until, sizeof(old_until), old.expires_at);
        str_copy(out->tenant_id, sizeof(out->tenant_id), old.tenant_id);
        str_copy(out->idp_id, sizeof(out->idp_id), old.idp_id);
        rotated_name(old.name, out->name);
        rc = store_token_insert(tx, out);
    }
    if (rc == OK)
        rc = store_token_set_expiry(tx, old.id, old_until);
    if (rc == OK) {
        struct audit_ctx ctx = admin_ctx(by, out->tenant_id, out->idp_id);
        json_t *created =
            json_pack("{s:s,s:s,s:o,s:s}", "name", out->name, "prefix", out->prefix, "expires_at",
                      json_nullable(out->expires_at), "rotated_from", old.id);
        json_t *rotated = json_pack("{s:s,s:s,s:s,s:I}", "name", old.name, "replaced_by", out->id,
                                    "expires_at", old_until, "overlap_s", (json_int_t)overlap_s);
        rc = created && rotated ? audit_append(tx, &ctx, "token_created", out->id, created)
                                : ERR_NOMEM;
        if (rc == OK)
            rc = audit_append(tx, &ctx, "token_rotated", old.id, rotated);
        json_decref(created);
        json_decref(rotated);
    }
    rc = finish(tx, rc, err);
    if (rc != OK)
        memset(plaintext, 0, CRYPTO_TOKEN_LEN);
    return rc;
}

/* ---- a connection's kill switch and allowlist ----------------------------------------- */

enum status directory_idp_set_disabled(struct directory *dir, const char *idp_id, bool disabled,
                                       const struct actor *by, const struct directory_guard *guard,
                                       bool *changed, struct scim_error *err)
{
    scim_error_clear(err);
    *changed = false;
    struct store_tx *tx = NULL;
    enum status rc = directory_begin_change(dir, guard, &tx, err);
    if (rc != OK)
        return rc;
    struct store_idp idp;
    struct store_idp_access access;
    rc = store_idp_get(tx, idp_id, &idp);
    if (rc == OK)
        rc = store_idp_access_get(tx, idp.id, &access);
    if (rc == ERR_NOT_FOUND)
        scim_error_set(err, rc, "no IdP connection '%.64s'", idp_id);
    if (rc == OK && (access.disabled_at[0] != '\0') != disabled) {
        char now[STORE_TIME_LEN];
        clock_now_iso(now);
        rc = store_idp_set_disabled(tx, idp.id, disabled ? now : NULL);
        *changed = rc == OK;
        if (rc == OK) {
            struct audit_ctx ctx = admin_ctx(by, idp.tenant_id, idp.id);
            json_t *summary = json_pack("{s:s}", "name", idp.name);
            rc = summary ? audit_append(tx, &ctx, disabled ? "idp_disabled" : "idp_enabled", idp.id,
                                        summary)
                         : ERR_NOMEM;
            json_decref(summary);
        }
    }
    return finish(tx, rc, err);
}

enum status directory_idp_rename(struct directory *dir, const char *idp_id, const char *name,
                                 const struct actor *by, const struct directory_guard *guard,
                                 struct store_idp *out, struct scim_error *err)
{
    scim_error_clear(err);
    enum status rc = check_name("IdP name", name, err);
    if (rc != OK)
        return rc;
    struct store_tx *tx = NULL;
    if ((rc = directory_begin_change(dir, guard, &tx, err)) != OK)
        return rc;
    rc = store_idp_get_fresh(tx, idp_id, out);
    if (rc == ERR_NOT_FOUND)
        scim_error_set(err, rc, "no IdP connection '%.64s'", idp_id);
    if (rc == OK && strcmp(out->name, name) != 0) {
        json_t *summary = json_pack("{s:s,s:s}", "old", out->name, "new", name);
        rc = summary ? store_idp_rename(tx, out->id, name) : ERR_NOMEM;
        if (rc == OK) {
            struct audit_ctx ctx = admin_ctx(by, out->tenant_id, out->id);
            rc = audit_append(tx, &ctx, "idp_renamed", out->id, summary);
        }
        json_decref(summary);
        str_copy(out->name, sizeof(out->name), name);
    }
    return finish(tx, rc, err);
}

enum status directory_idp_set_allowlist(struct directory *dir, const char *idp_id,
                                        const char *cidrs, const struct actor *by,
                                        char out[STORE_ALLOWLIST_MAX], struct scim_error *err)
{
    scim_error_clear(err);
    out[0] = '\0';
    enum status rc = OK;
    if (cidrs != NULL && (rc = cidr_list_canonical(cidrs, out, err)) != OK)
        return rc;
    struct store_tx *tx = NULL;
    if ((rc = store_begin(dir->store, true, &tx)) != OK)
        return scim_error_set(err, rc, "database unavailable");
    struct store_idp idp;
    rc = store_idp_get(tx, idp_id, &idp);
    if (rc == ERR_NOT_FOUND)
        scim_error_set(err, rc, "no IdP connection '%.64s'", idp_id);
    if (rc == OK)
        rc = store_idp_set_allowlist(tx, idp.id, cidrs ? out : NULL);
    if (rc == OK) {
        struct audit_ctx ctx = admin_ctx(by, idp.tenant_id, idp.id);
        json_t *summary = json_pack("{s:o}", "allowlist", json_nullable(out));
        rc = summary ? audit_append(tx, &ctx, "idp_allowlist_set", idp.id, summary) : ERR_NOMEM;
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
    rc = directory_tenant_find(tx, nu->tenant_key, &tenant, err);
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

/* Record a refused request (401: scim_auth_failed, 403: scim_access_denied)
 * and fill err. */
static enum status auth_failed(struct directory *dir, const char *tenant_id, const char *idp_id,
                               const char *source, enum status status, const char *reason,
                               struct scim_error *err)
{
    struct store_tx *tx = NULL;
    if (store_begin(dir->store, true, &tx) == OK) {
        struct audit_ctx ctx = { tenant_id, idp_id, "anonymous", source };
        json_t *summary = json_pack("{s:s,s:i}", "reason", reason, "status", status_http(status));
        const char *type = status == ERR_FORBIDDEN ? "scim_access_denied" : "scim_auth_failed";
        enum status rc = summary ? audit_append(tx, &ctx, type, NULL, summary) : ERR_NOMEM;
        json_decref(summary);
        if (rc == OK)
            store_commit(tx);
        else
            store_rollback(tx);
    }
    return scim_error_set(err, status, "%s", reason);
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
                                   const char *authorization, const char *source, bool keep_reading,
                                   struct scim_conn *out, struct scim_error *err)
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
    char now[STORE_TIME_LEN];
    clock_now_iso(now);
    struct scim_error verdict;
    scim_error_clear(&verdict);
    if (rc == OK)
        directory_token_verdict(&token, idp_known ? idp.id : NULL, source, now, &verdict);
    bool accepted = rc == OK && verdict.status == OK;
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
        return auth_failed(dir, tenant_id, known_idp, source, ERR_UNAUTHORIZED,
                           "missing bearer token", err);
    if (bearer == NULL)
        return auth_failed(dir, tenant_id, known_idp, source, ERR_UNAUTHORIZED,
                           "authorization is not a bearer token", err);
    if (rc == ERR_NOT_FOUND)
        return auth_failed(dir, tenant_id, known_idp, source, ERR_UNAUTHORIZED,
                           "unknown bearer token", err);
    if (!accepted)
        return auth_failed(dir, tenant_id, known_idp, source, verdict.status, verdict.detail, err);

    str_copy(out->tenant_id, sizeof(out->tenant_id), token.tenant_id);
    str_copy(out->idp_id, sizeof(out->idp_id), token.idp_id);
    str_copy(out->token_id, sizeof(out->token_id), token.id);
    snprintf(out->actor, sizeof(out->actor), "token:%s", token.id);
    directory_idp_base_url(dir, idp.id, out->base_url);

    if (touch) {
        if (store_begin(dir->store, true, &tx) == OK) {
            if (store_token_touch_from(tx, token.id, now, source) == OK)
                store_commit(tx);
            else
                store_rollback(tx);
        }
    }
    return OK;
}
