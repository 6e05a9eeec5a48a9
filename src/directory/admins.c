/* SPDX-License-Identifier: Apache-2.0 */
/*
 * admins.c - administrator accounts, setup links, sign-in with its
 * throttle, sessions and admin API keys (admins.h).  Password hashing and
 * checking (Argon2id, slow on purpose) run outside any transaction.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/fold.h"
#include "core/log.h"
#include "core/str.h"
#include "directory/admins.h"
#include "directory/audit.h"

const char *const directory_admin_roles[] = { "super", "admin", "auditor", NULL };

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_ready = -1;
/* Checked against when the email is unknown or has no password, so that a
 * wrong email takes as long to refuse as a wrong password. */
static char decoy_hash[crypto_pwhash_STRBYTES];

static void sodium_start(void)
{
    sodium_ready = sodium_init();
    static const char decoy[] = "no account has this password";
    if (sodium_ready >= 0 &&
        crypto_pwhash_str(decoy_hash, decoy, sizeof(decoy) - 1, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        sodium_ready = -1;
}

static bool sodium_ok(void)
{
    pthread_once(&sodium_once, sodium_start);
    return sodium_ready >= 0;
}

/* The time `seconds` from now, as clock_now_iso writes it. */
static void iso_in(int64_t seconds, char out[STORE_TIME_LEN])
{
    clock_iso_from_ms(clock_now_ms() + seconds * 1000, out);
}

static enum status new_secret(char out[DIRECTORY_SECRET_LEN])
{
    return crypto_random_base62(out, DIRECTORY_SECRET_CHARS);
}

static void hash_of(const char *secret, char out[CRYPTO_SHA256_HEX_LEN])
{
    crypto_sha256_hex(secret, strlen(secret), out);
}

static enum status check_password(const char *password, struct scim_error *err)
{
    size_t n = password ? strlen(password) : 0;
    if (n < DIRECTORY_PASSWORD_MIN)
        return scim_error_set(err, ERR_INVALID_VALUE, "the password must be at least %d characters",
                              DIRECTORY_PASSWORD_MIN);
    if (n > DIRECTORY_PASSWORD_MAX)
        return scim_error_set(err, ERR_INVALID_VALUE, "the password is longer than %d bytes",
                              DIRECTORY_PASSWORD_MAX);
    return OK;
}

static enum status hash_password(const char *password, char out[STORE_PWHASH_MAX],
                                 struct scim_error *err)
{
    _Static_assert(crypto_pwhash_STRBYTES <= STORE_PWHASH_MAX, "room for an Argon2id string");
    if (!sodium_ok() ||
        crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return scim_error_set(err, ERR_NOMEM, "cannot hash the password (out of memory)");
    return OK;
}

static bool email_ok(const char *email)
{
    size_t n = email ? strlen(email) : 0;
    if (n < 3 || n >= STORE_EMAIL_MAX || strchr(email, '@') == NULL || !str_utf8_valid(email, n))
        return false;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)email[i] <= 0x20)
            return false;
    }
    return true;
}

/* Commit tx, or roll it back when rc is an error (err set by the caller or here). */
static enum status finish(struct store_tx *tx, enum status rc, struct scim_error *err)
{
    if (rc != OK) {
        store_rollback(tx);
        if (err->status != rc)
            scim_error_set(err, rc, "%s", status_name(rc));
        return rc;
    }
    rc = store_commit(tx);
    if (rc != OK)
        return scim_error_set(err, rc, "could not commit: %s", status_name(rc));
    return OK;
}

static struct audit_ctx ctx_of(const struct actor *by, const char *tenant_id)
{
    struct audit_ctx ctx = {
        .tenant_id = tenant_id && tenant_id[0] ? tenant_id : NULL,
        .actor = by && by->name ? by->name : "cli",
        .source = by ? by->source : NULL,
    };
    return ctx;
}

/* An event with a summary of string pairs (k1, v1, k2, v2..., NULL). */
static enum status event(struct store_tx *tx, const struct audit_ctx *ctx, const char *type,
                         const char *subject, const char *key, const char *value)
{
    json_t *summary = key ? json_pack("{s:s}", key, value) : NULL;
    if (key && summary == NULL)
        return ERR_NOMEM;
    enum status rc = audit_append(tx, ctx, type, subject, summary);
    json_decref(summary);
    return rc;
}

/* ---- accounts ----------------------------------------------------------------------- */

enum status directory_admin_create(struct directory *dir, const struct directory_admin_new *na,
                                   const struct actor *by, struct store_admin *out,
                                   char setup_token[DIRECTORY_SECRET_LEN], struct scim_error *err)
{
    scim_error_clear(err);
    memset(out, 0, sizeof(*out));
    setup_token[0] = '\0';
    const char *role = na->role ? na->role : "admin";
    bool known = false;
    for (const char *const *r = directory_admin_roles; *r; r++)
        known = known || strcmp(*r, role) == 0;
    if (!known)
        return scim_error_set(err, ERR_INVALID_VALUE,
                              "unknown role '%.32s' (super, admin, auditor)", role);
    if (!email_ok(na->email))
        return scim_error_set(err, ERR_INVALID_VALUE, "'%.64s' is not an email address",
                              na->email ? na->email : "");
    bool super = strcmp(role, "super") == 0;
    if (super && na->tenant_key)
        return scim_error_set(err, ERR_INVALID_VALUE, "a super admin belongs to no tenant");
    if (!super && !na->tenant_key)
        return scim_error_set(err, ERR_INVALID_VALUE, "an %s needs a tenant", role);
    enum status rc;
    if (na->password) {
        if ((rc = check_password(na->password, err)) != OK ||
            (rc = hash_password(na->password, out->password_hash, err)) != OK)
            return rc;
    } else {
        if ((rc = new_secret(setup_token)) != OK)
            return scim_error_set(err, rc, "no randomness available");
        hash_of(setup_token, out->setup_hash);
        iso_in(DIRECTORY_ADMIN_SETUP_S, out->setup_expires_at);
    }
    str_copy(out->email, sizeof(out->email), na->email);
    str_copy(out->role, sizeof(out->role), role);
    if ((rc = crypto_uuid(out->id)) != OK)
        return scim_error_set(err, rc, "no randomness available");
    clock_now_iso(out->created_at);

    struct store_tx *tx = NULL;
    if ((rc = store_begin(dir->store, true, &tx)) != OK) {
        setup_token[0] = '\0';
        return scim_error_set(err, rc, "database unavailable");
    }
    if (na->tenant_key) {
        struct store_tenant tenant;
        rc = directory_tenant_find(tx, na->tenant_key, &tenant, err);
        if (rc == OK)
            str_copy(out->tenant_id, sizeof(out->tenant_id), tenant.id);
    }
    if (rc == OK) {
        rc = store_admin_insert(tx, out);
        if (rc == ERR_UNIQUENESS)
            scim_error_set(err, rc, "an admin with email '%.64s' exists", out->email);
    }
    if (rc == OK) {
        struct audit_ctx ctx = ctx_of(by, out->tenant_id);
        rc = event(tx, &ctx, "admin_created", out->id, "role", out->role);
    }
    rc = finish(tx, rc, err);
    if (rc != OK)
        memset(setup_token, 0, DIRECTORY_SECRET_LEN);
    return rc;
}

enum status directory_admin_reset(struct directory *dir, const char *email, const struct actor *by,
                                  struct store_admin *out, char setup_token[DIRECTORY_SECRET_LEN],
                                  struct scim_error *err)
{
    scim_error_clear(err);
    memset(out, 0, sizeof(*out));
    enum status rc = new_secret(setup_token);
    if (rc != OK)
        return scim_error_set(err, rc, "no randomness available");
    char hash[CRYPTO_SHA256_HEX_LEN], expires[STORE_TIME_LEN];
    hash_of(setup_token, hash);
    iso_in(DIRECTORY_ADMIN_SETUP_S, expires);
    struct store_tx *tx = NULL;
    if ((rc = store_begin(dir->store, true, &tx)) != OK) {
        memset(setup_token, 0, DIRECTORY_SECRET_LEN);
        return scim_error_set(err, rc, "database unavailable");
    }
    rc = store_admin_by_email(tx, email ? email : "", out);
    if (rc == ERR_NOT_FOUND)
        scim_error_set(err, rc, "no admin with email '%.64s'", email ? email : "");
    if (rc == OK)
        rc = store_admin_set_setup(tx, out->id, hash, expires);
    if (rc == OK) {
        str_copy(out->setup_hash, sizeof(out->setup_hash), hash);
        str_copy(out->setup_expires_at, sizeof(out->setup_expires_at), expires);
        struct audit_ctx ctx = ctx_of(by, out->tenant_id);
        rc = event(tx, &ctx, "admin_setup_link_issued", out->id, "expires_at", expires);
    }
    rc = finish(tx, rc, err);
    if (rc != OK)
        memset(setup_token, 0, DIRECTORY_SECRET_LEN);
    return rc;
}

void directory_admin_setup_url(const struct directory *dir, const char *token,
                               char out[DIRECTORY_URL_MAX])
{
    snprintf(out, DIRECTORY_URL_MAX, "%s/admin/setup#%s", dir->public_url, token);
}

enum status directory_admin_setup(struct directory *dir, const char *token, const char *password,
                                  const char *source, struct scim_error *err)
{
    scim_error_clear(err);
    if (token == NULL || strlen(token) != DIRECTORY_SECRET_CHARS)
        return scim_error_set(err, ERR_NOT_FOUND, "unknown or expired setup link");
    enum status rc = check_password(password, err);
    char pwhash[STORE_PWHASH_MAX];
    if (rc != OK || (rc = hash_password(password, pwhash, err)) != OK)
        return rc;
    char hash[CRYPTO_SHA256_HEX_LEN], now[STORE_TIME_LEN];
    hash_of(token, hash);
    clock_now_iso(now);
    struct store_tx *tx = NULL;
    if ((rc = store_begin(dir->store, true, &tx)) != OK)
        return scim_error_set(err, rc, "database unavailable");
    struct store_admin a;
    rc = store_admin_by_setup(tx, hash, &a);
    if (rc == OK && strcmp(a.setup_expires_at, now) <= 0)
        rc = ERR_NOT_FOUND;
    if (rc == ERR_NOT_FOUND)
        scim_error_set(err, rc, "unknown or expired setup link");
    if (rc == OK)
        rc = store_admin_set_password(tx, a.id, pwhash);
    if (rc == OK) /* a reset link is used when a password is lost or exposed */
        rc = store_admin_sessions_end_all(tx, a.id, now);
    if (rc == OK) {
        char actor[16 + STORE_ID_LEN];
        snprintf(actor, sizeof(actor), "admin:%s", a.id);
        struct actor by = { actor, source };
        struct audit_ctx ctx = ctx_of(&by, a.tenant_id);
        rc = event(tx, &ctx, "admin_password_set", a.id, NULL, NULL);
    }
    return finish(tx, rc, err);
}

enum status directory_admin_key_create(struct directory *dir, const char *admin_email,
                                       const char *name, const struct actor *by,
                                       struct store_admin_key *out,
                                       char plaintext[DIRECTORY_ADMIN_KEY_LEN],
                                       struct scim_error *err)
{
    scim_error_clear(err);
    memset(out, 0, sizeof(*out));
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= STORE_NAME_MAX || !str_utf8_valid(name, n))
        return scim_error_set(err, ERR_INVALID_VALUE, "a key name is 1 to %d bytes of UTF-8",
                              STORE_NAME_MAX - 1);
    char secret[DIRECTORY_SECRET_LEN];
    enum status rc = new_secret(secret);
    if (rc == OK)
        rc = crypto_uuid(out->id);
    if (rc != OK)
        return scim_error_set(err, rc, "no randomness available");
    snprintf(plaintext, DIRECTORY_ADMIN_KEY_LEN, "%s%s", DIRECTORY_ADMIN_KEY_PREFIX, secret);
    memset(secret, 0, sizeof(secret));
    str_copy(out->name, sizeof(out->name), name);
    str_copy(out->prefix, sizeof(out->prefix), plaintext); /* "scimd_admin_" + 3 */
    hash_of(plaintext, out->hash);
    clock_now_iso(out->created_at);

    struct store_tx *tx = NULL;
    if ((rc = store_begin(dir->store, true, &tx)) != OK) {
        memset(plaintext, 0, DIRECTORY_ADMIN_KEY_LEN);
        return scim_error_set(err, rc, "database unavailable");
    }
    struct store_admin a;
    rc = store_admin_by_email(tx, admin_email ? admin_email : "", &a);
    if (rc == ERR_NOT_FOUND)
        scim_error_set(err, rc, "no admin '%.64s'", admin_email ? admin_email : "");
    if (rc == OK) {
        str_copy(out->admin_id, sizeof(out->admin_id), a.id);
        rc = store_admin_key_insert(tx, out);
    }
    if (rc == OK) {
        struct audit_ctx ctx = ctx_of(by, a.tenant_id);
        rc = event(tx, &ctx, "admin_key_created", out->id, "name", out->name);
    }
    rc = finish(tx, rc, err);
    if (rc != OK)
        memset(plaintext, 0, DIRECTORY_ADMIN_KEY_LEN);
    return rc;
}

/* ---- sign-in ------------------------------------------------------------------------ */

static void auth_fill(struct directory_admin_auth *out, const struct store_admin *a, bool by_key,
                      const char *key_id)
{
    memset(out, 0, sizeof(*out));
    out->admin = *a;
    memset(out->admin.password_hash, 0, sizeof(out->admin.password_hash));
    memset(out->admin.setup_hash, 0, sizeof(out->admin.setup_hash));
    out->by_key = by_key;
    if (by_key)
        snprintf(out->actor, sizeof(out->actor), "admin_key:%s", key_id);
    else
        snprintf(out->actor, sizeof(out->actor), "admin:%s", a->id);
}

/* Is key locked now? */
static enum status throttled(struct store_tx *tx, const char *key, const char *now, bool *out)
{
    struct store_throttle t;
    enum status rc = store_throttle_get(tx, key, &t);
    *out = rc == OK && t.locked_until[0] && strcmp(t.locked_until, now) > 0;
    return rc == ERR_NOT_FOUND ? OK : rc;
}

/* Count one failure against key; lock it after max in the window. */
static enum status throttle_fail(struct store_tx *tx, const char *key, int64_t max, const char *now)
{
    struct store_throttle t;
    enum status rc = store_throttle_get(tx, key, &t);
    if (rc == ERR_NOT_FOUND ||
        (rc == OK && clock_iso_diff_s(t.window_start, now) > DIRECTORY_LOGIN_WINDOW_S)) {
        memset(&t, 0, sizeof(t));
        str_copy(t.window_start, sizeof(t.window_start), now);
        rc = OK;
    }
    if (rc != OK)
        return rc;
    t.failures++;
    if (t.failures >= max)
        iso_in(DIRECTORY_LOGIN_LOCK_S, t.locked_until);
    return store_throttle_put(tx, key, &t);
}

struct login_keys {
    char email[8 + STORE_EMAIL_MAX];
    char source[8 + 64];
};

/* Record a failed sign-in (reason: "password", "throttled", "no_password"). */
static void login_failed(struct directory *dir, const struct login_keys *keys,
                         const struct store_admin *a, const char *source, const char *reason,
                         bool count)
{
    char now[STORE_TIME_LEN];
    clock_now_iso(now);
    struct store_tx *tx = NULL;
    enum status rc = store_begin(dir->store, true, &tx);
    if (rc == OK && count) {
        rc = throttle_fail(tx, keys->email, DIRECTORY_LOGIN_MAX_PER_EMAIL, now);
        if (rc == OK && source && source[0])
            rc = throttle_fail(tx, keys->source, DIRECTORY_LOGIN_MAX_PER_SOURCE, now);
    }
    if (rc == OK) {
        struct actor by = { "anonymous", source && source[0] ? source : NULL };
        struct audit_ctx ctx = ctx_of(&by, a ? a->tenant_id : NULL);
        rc = event(tx, &ctx, "admin_login_failed", a ? a->id : NULL, "reason", reason);
    }
    if (rc == OK)
        rc = store_commit(tx);
    else
        store_rollback(tx);
    if (rc != OK)
        log_warn("cannot record a failed admin sign-in: %s", status_name(rc));
}

enum status directory_admin_login(struct directory *dir, const char *email, const char *password,
                                  const char *source, struct directory_admin_auth *out,
                                  char session_id[DIRECTORY_SECRET_LEN],
                                  char csrf[DIRECTORY_SECRET_LEN], struct scim_error *err)
{
    scim_error_clear(err);
    session_id[0] = csrf[0] = '\0';
    if (!email_ok(email) || password == NULL || strlen(password) > DIRECTORY_PASSWORD_MAX)
        return scim_error_set(err, ERR_UNAUTHORIZED, "wrong email or password");
    struct login_keys keys;
    char *folded = fold_key(email);
    if (folded == NULL)
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    snprintf(keys.email, sizeof(keys.email), "email:%s", folded);
    free(folded);
    snprintf(keys.source, sizeof(keys.source), "source:%s", source ? source : "");

    /* Read: the throttle and the account. */
    char now[STORE_TIME_LEN];
    clock_now_iso(now);
    struct store_admin a;
    bool locked_email = false, locked_source = false, found = false;
    struct store_tx *tx = NULL;
    enum status rc = store_begin(dir->store, false, &tx);
    if (rc == OK)
        rc = throttled(tx, keys.email, now, &locked_email);
    if (rc == OK && source && source[0])
        rc = throttled(tx, keys.source, now, &locked_source);
    if (rc == OK) {
        rc = store_admin_by_email(tx, email, &a);
        found = rc == OK;
        if (rc == ERR_NOT_FOUND)
            rc = OK;
    }
    store_rollback(tx);
    if (rc != OK)
        return scim_error_set(err, rc, "database unavailable");
    if (locked_email || locked_source) {
        login_failed(dir, &keys, found ? &a : NULL, source, "throttled", false);
        return scim_error_set(err, ERR_TOO_MANY,
                              "too many failed sign-ins; try again in %d minutes",
                              DIRECTORY_LOGIN_LOCK_S / 60);
    }
    /* The slow part, outside any transaction. */
    bool good = false;
    if (sodium_ok()) {
        bool real = found && a.password_hash[0];
        good = crypto_pwhash_str_verify(real ? a.password_hash : decoy_hash, password,
                                        strlen(password)) == 0 &&
               real;
    }
    if (!good) {
        login_failed(dir, &keys, found ? &a : NULL, source,
                     found && !a.password_hash[0] ? "no_password" : "password", true);
        return scim_error_set(err, ERR_UNAUTHORIZED, "wrong email or password");
    }

    struct store_admin_session s;
    memset(&s, 0, sizeof(s));
    if ((rc = new_secret(session_id)) != OK || (rc = new_secret(csrf)) != OK)
        return scim_error_set(err, rc, "no randomness available");
    hash_of(session_id, s.id_hash);
    hash_of(csrf, s.csrf_hash);
    str_copy(s.admin_id, sizeof(s.admin_id), a.id);
    str_copy(s.source, sizeof(s.source), source ? source : "");
    clock_now_iso(s.created_at);
    str_copy(s.last_seen_at, sizeof(s.last_seen_at), s.created_at);
    iso_in(DIRECTORY_SESSION_MAX_S, s.expires_at);
    auth_fill(out, &a, false, NULL);
    str_copy(out->session_hash, sizeof(out->session_hash), s.id_hash);
    str_copy(out->csrf_hash, sizeof(out->csrf_hash), s.csrf_hash);

    if ((rc = store_begin(dir->store, true, &tx)) != OK)
        rc = scim_error_set(err, rc, "database unavailable");
    else {
        rc = store_throttle_clear(tx, keys.email);
        if (rc == OK)
            rc = store_admin_session_insert(tx, &s);
        if (rc == OK) {
            struct actor by = { out->actor, source && source[0] ? source : NULL };
            struct audit_ctx ctx = ctx_of(&by, a.tenant_id);
            rc = event(tx, &ctx, "admin_login", a.id, "role", a.role);
        }
        rc = finish(tx, rc, err);
    }
    if (rc != OK) {
        memset(session_id, 0, DIRECTORY_SECRET_LEN);
        memset(csrf, 0, DIRECTORY_SECRET_LEN);
    }
    return rc;
}

typedef enum status (*touch_fn)(struct store_tx *tx, const char *key, const char *at);

/* Record a use (last seen / last used) at most every DIRECTORY_TOKEN_TOUCH_S,
 * in a write transaction of its own, so that most requests only read. */
static enum status touch(struct directory *dir, touch_fn fn, const char *key, const char *last,
                         const char *now)
{
    if (clock_iso_diff_s(last, now) <= DIRECTORY_TOKEN_TOUCH_S)
        return OK;
    struct store_tx *tx = NULL;
    enum status rc = store_begin(dir->store, true, &tx);
    if (rc != OK)
        return rc;
    rc = fn(tx, key, now);
    if (rc != OK) {
        store_rollback(tx);
        return rc;
    }
    return store_commit(tx);
}

static enum status session_lookup(struct directory *dir, const char *session_id, bool activity,
                                  struct directory_admin_auth *out, struct scim_error *err)
{
    scim_error_clear(err);
    if (session_id == NULL || strlen(session_id) != DIRECTORY_SECRET_CHARS)
        return scim_error_set(err, ERR_UNAUTHORIZED, "not signed in");
    char hash[CRYPTO_SHA256_HEX_LEN], now[STORE_TIME_LEN];
    hash_of(session_id, hash);
    clock_now_iso(now);
    struct store_tx *tx = NULL;
    enum status rc = store_begin(dir->store, false, &tx);
    if (rc != OK)
        return scim_error_set(err, rc, "database unavailable");
    struct store_admin_session s;
    struct store_admin a;
    rc = store_admin_session_get(tx, hash, &s);
    if (rc == OK && (s.ended_at[0] || strcmp(s.expires_at, now) <= 0 ||
                     clock_iso_diff_s(s.last_seen_at, now) > DIRECTORY_SESSION_IDLE_S))
        rc = ERR_NOT_FOUND;
    if (rc == OK)
        rc = store_admin_get(tx, s.admin_id, &a);
    store_rollback(tx);
    if (rc == ERR_NOT_FOUND)
        return scim_error_set(err, ERR_UNAUTHORIZED, "not signed in, or the session has ended");
    if (rc == OK && activity)
        rc = touch(dir, store_admin_session_touch, hash, s.last_seen_at, now);
    if (rc != OK)
        return scim_error_set(err, rc, "database unavailable");
    auth_fill(out, &a, false, NULL);
    str_copy(out->session_hash, sizeof(out->session_hash), s.id_hash);
    str_copy(out->csrf_hash, sizeof(out->csrf_hash), s.csrf_hash);
    return OK;
}

enum status directory_admin_session(struct directory *dir, const char *session_id,
                                    struct directory_admin_auth *out, struct scim_error *err)
{
    return session_lookup(dir, session_id, true, out, err);
}

enum status directory_admin_session_valid(struct directory *dir, const char *session_id,
                                          struct scim_error *err)
{
    struct directory_admin_auth auth;
    enum status rc = session_lookup(dir, session_id, false, &auth, err);
    memset(&auth, 0, sizeof(auth));
    return rc;
}

enum status directory_admin_logout(struct directory *dir, const struct directory_admin_auth *auth,
                                   const char *source, struct scim_error *err)
{
    scim_error_clear(err);
    if (auth->by_key || !auth->session_hash[0])
        return scim_error_set(err, ERR_BAD_REQUEST, "an API key has no session to end");
    char now[STORE_TIME_LEN];
    clock_now_iso(now);
    struct store_tx *tx = NULL;
    enum status rc = store_begin(dir->store, true, &tx);
    if (rc != OK)
        return scim_error_set(err, rc, "database unavailable");
    rc = store_admin_session_end(tx, auth->session_hash, now);
    if (rc == ERR_NOT_FOUND)
        scim_error_set(err, ERR_UNAUTHORIZED, "the session has already ended");
    if (rc == ERR_NOT_FOUND)
        rc = ERR_UNAUTHORIZED;
    if (rc == OK) {
        struct actor by = { auth->actor, source && source[0] ? source : NULL };
        struct audit_ctx ctx = ctx_of(&by, auth->admin.tenant_id);
        rc = event(tx, &ctx, "admin_logout", auth->admin.id, NULL, NULL);
    }
    return finish(tx, rc, err);
}

enum status directory_admin_key_auth(struct directory *dir, const char *key,
                                     struct directory_admin_auth *out, struct scim_error *err)
{
    scim_error_clear(err);
    if (key == NULL || strlen(key) != DIRECTORY_ADMIN_KEY_LEN - 1 ||
        strncmp(key, DIRECTORY_ADMIN_KEY_PREFIX, strlen(DIRECTORY_ADMIN_KEY_PREFIX)) != 0)
        return scim_error_set(err, ERR_UNAUTHORIZED, "unknown admin API key");
    char hash[CRYPTO_SHA256_HEX_LEN], now[STORE_TIME_LEN];
    hash_of(key, hash);
    clock_now_iso(now);
    struct store_tx *tx = NULL;
    enum status rc = store_begin(dir->store, false, &tx);
    if (rc != OK)
        return scim_error_set(err, rc, "database unavailable");
    struct store_admin_key k;
    struct store_admin a;
    rc = store_admin_key_by_hash(tx, hash, &k);
    if (rc == OK && k.revoked_at[0])
        rc = ERR_NOT_FOUND;
    if (rc == OK)
        rc = store_admin_get(tx, k.admin_id, &a);
    store_rollback(tx);
    if (rc == ERR_NOT_FOUND)
        return scim_error_set(err, ERR_UNAUTHORIZED, "unknown or revoked admin API key");
    if (rc == OK)
        rc = touch(dir, store_admin_key_touch, k.id, k.last_used_at, now);
    if (rc != OK)
        return scim_error_set(err, rc, "database unavailable");
    auth_fill(out, &a, true, k.id);
    return OK;
}
