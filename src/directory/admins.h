/* SPDX-License-Identifier: Apache-2.0 */
/*
 * admins.h - administrators of scimd: accounts (created by the CLI, a
 * password set through a one-time setup link or a file), sign-in with
 * throttling, server-side sessions with idle and absolute timeouts, and
 * admin API keys.  The CLI and the admin API call these same functions.
 *
 * Secrets (passwords, setup links, session ids, CSRF tokens, API keys) are
 * returned to the caller once and never stored, logged or put in events:
 * passwords are kept as Argon2id strings (libsodium crypto_pwhash_str), the
 * others as SHA-256.  Which tenant's objects an admin may see is decided by
 * the caller (src/admin/) from the account's role and tenant.
 *
 * Thread safety: as directory.h; every call is independent.
 */
#ifndef SCIMD_DIRECTORY_ADMINS_H
#define SCIMD_DIRECTORY_ADMINS_H

#include <stdbool.h>

#include "directory/directory.h"

#define DIRECTORY_ADMIN_SETUP_S        (24 * 3600) /* a setup link is valid this long */
#define DIRECTORY_SESSION_IDLE_S       (30 * 60)   /* a session unused this long ends */
#define DIRECTORY_SESSION_MAX_S        (12 * 3600) /* and any session after this long */
#define DIRECTORY_LOGIN_WINDOW_S       (15 * 60)   /* failures are counted over this window */
#define DIRECTORY_LOGIN_LOCK_S         (15 * 60)   /* then sign-in is refused this long */
#define DIRECTORY_LOGIN_MAX_PER_EMAIL  5           /* failures per account in a window */
#define DIRECTORY_LOGIN_MAX_PER_SOURCE 20          /* failures per client address */
#define DIRECTORY_PASSWORD_MIN         12
#define DIRECTORY_PASSWORD_MAX         1024
#define DIRECTORY_SECRET_CHARS         43 /* base62 characters: 256 bits */
#define DIRECTORY_SECRET_LEN           (DIRECTORY_SECRET_CHARS + 1)
#define DIRECTORY_ADMIN_KEY_PREFIX     "scimd_admin_"
#define DIRECTORY_ADMIN_KEY_LEN        (12 + DIRECTORY_SECRET_LEN)

/* NULL-terminated: "super", "admin", "auditor". */
extern const char *const directory_admin_roles[];

struct directory_admin_new {
    const char *email;
    const char *tenant_key; /* NULL for super; required for admin and auditor */
    const char *role;       /* NULL: "admin" */
    const char *password;   /* NULL: a setup link is made */
};
/* Create an account.  Without a password, setup_token gets the one-time
 * setup token (else ""): see directory_admin_setup_url.  ERR_UNIQUENESS when
 * the email is taken. */
enum status directory_admin_create(struct directory *dir, const struct directory_admin_new *na,
                                   const struct actor *by, struct store_admin *out,
                                   char setup_token[DIRECTORY_SECRET_LEN], struct scim_error *err);
/* A new one-time setup link for the account with this email (an expired or
 * lost one is replaced; the current password, if any, works until the link
 * is used).  out gets the account with the new expiry.  ERR_NOT_FOUND. */
enum status directory_admin_reset(struct directory *dir, const char *email, const struct actor *by,
                                  struct store_admin *out, char setup_token[DIRECTORY_SECRET_LEN],
                                  struct scim_error *err);
/* <public_url>/admin/setup#<token> */
void directory_admin_setup_url(const struct directory *dir, const char *token,
                               char out[DIRECTORY_URL_MAX]);
/* Set the password of the account a live setup link names (once); every
 * session of the account ends. */
enum status directory_admin_setup(struct directory *dir, const char *token, const char *password,
                                  const char *source, struct scim_error *err);
/* An API key acting as the admin with that email; plaintext shown once. */
enum status directory_admin_key_create(struct directory *dir, const char *admin_email,
                                       const char *name, const struct actor *by,
                                       struct store_admin_key *out,
                                       char plaintext[DIRECTORY_ADMIN_KEY_LEN],
                                       struct scim_error *err);

/* Who an admin request runs as. */
struct directory_admin_auth {
    struct store_admin admin;
    bool by_key;                              /* an API key (no session, no CSRF) */
    char actor[16 + STORE_ID_LEN];            /* "admin:<id>" or "admin_key:<id>" */
    char session_hash[CRYPTO_SHA256_HEX_LEN]; /* sessions only */
    char csrf_hash[CRYPTO_SHA256_HEX_LEN];    /* sessions only */
};
/*
 * Sign in.  Wrong email or password: ERR_UNAUTHORIZED (the same answer for
 * both) and an admin_login_failed event; too many failures for the email or
 * the source address in DIRECTORY_LOGIN_WINDOW_S: ERR_TOO_MANY, even with
 * the right password, until the lock ends.  Success: an admin_login event,
 * session_id (the cookie value) and csrf (the header value).
 */
enum status directory_admin_login(struct directory *dir, const char *email, const char *password,
                                  const char *source, struct directory_admin_auth *out,
                                  char session_id[DIRECTORY_SECRET_LEN],
                                  char csrf[DIRECTORY_SECRET_LEN], struct scim_error *err);
/* A live session (not ended, not idle, not past its end); touches it.  ERR_UNAUTHORIZED. */
enum status directory_admin_session(struct directory *dir, const char *session_id,
                                    struct directory_admin_auth *out, struct scim_error *err);
/* Is the session still valid?  Unlike directory_admin_session this is not
 * activity: a long-lived reader (the live tail) does not keep it from idling out. */
enum status directory_admin_session_valid(struct directory *dir, const char *session_id,
                                          struct scim_error *err);
/* End the session of auth; an admin_logout event. */
enum status directory_admin_logout(struct directory *dir, const struct directory_admin_auth *auth,
                                   const char *source, struct scim_error *err);
/* A live API key; ERR_UNAUTHORIZED. */
enum status directory_admin_key_auth(struct directory *dir, const char *key,
                                     struct directory_admin_auth *out, struct scim_error *err);

#endif
