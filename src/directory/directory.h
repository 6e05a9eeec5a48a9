/*
 * directory.h - the rules of the identity directory: tenants, IdP
 * connections, tokens, users and their SCIM lifecycle.
 *
 * This is where DESIGN.md §1 lives: merge by externalId, userName
 * uniqueness per connection, adoption by email, soft delete, deactivation
 * and reactivation, mirroring into canonical fields.  Every change and its
 * audit events are written in one store transaction; a request that fails
 * still leaves its audit events.  Callers (HTTP, CLI) pass decoded JSON and
 * get rendered SCIM documents back; they never see SQL.
 *
 * Thread safety: one struct directory is shared by all threads; every call
 * is independent.  Returned strings and json_t belong to the caller.
 */
#ifndef SCIMD_DIRECTORY_DIRECTORY_H
#define SCIMD_DIRECTORY_DIRECTORY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "store/store.h"

#define DIRECTORY_URL_MAX 512
#define DIRECTORY_LIST_DEFAULT_COUNT 100
#define DIRECTORY_LIST_MAX_COUNT 1000
#define DIRECTORY_TOKEN_TOUCH_S 60 /* last_used_at is written at most this often */

struct directory {
    struct store *store;
    char public_url[DIRECTORY_URL_MAX]; /* no trailing slash */
};

/* Who is acting: "token:<id>", "cli"; and from where (client address or NULL). */
struct actor {
    const char *name;
    const char *source;
};

void directory_init(struct directory *dir, struct store *store, const char *public_url);

/* ---- admin ----------------------------------------------------------------------- */
extern const char *const directory_vendors[]; /* NULL-terminated */

enum status directory_tenant_create(struct directory *dir, const char *name, const char *subdomain,
                                    const struct actor *by, struct store_tenant *out,
                                    struct scim_error *err);
enum status directory_idp_create(struct directory *dir, const char *tenant_key, const char *name,
                                 const char *vendor, const struct actor *by, struct store_idp *out,
                                 struct scim_error *err);
/* <public_url>/scim/v2/inbound/<idp-id>/ */
void directory_idp_base_url(const struct directory *dir, const char *idp_id,
                            char out[DIRECTORY_URL_MAX]);
/* Mint a token; plaintext is written once to `plaintext` and never stored. */
enum status directory_token_create(struct directory *dir, const char *idp_id, const char *name,
                                   const struct actor *by, struct store_token *out,
                                   char plaintext[CRYPTO_TOKEN_LEN], struct scim_error *err);
enum status directory_token_revoke(struct directory *dir, const char *token_id,
                                   const struct actor *by, struct scim_error *err);
/* An admin-created user (idp_id NULL) or one created by sign-in through idp_id. */
struct directory_new_user {
    const char *tenant_key;
    const char *email;
    const char *username;
    const char *idp_id;
    const char *given_name;
    const char *family_name;
};
enum status directory_user_create(struct directory *dir, const struct directory_new_user *nu,
                                  const struct actor *by, struct store_user *out,
                                  struct scim_error *err);

/* ---- SCIM ------------------------------------------------------------------------------ */
/* An authenticated IdP connection, as a request sees it. */
struct scim_conn {
    char tenant_id[STORE_ID_LEN];
    char idp_id[STORE_ID_LEN];
    char token_id[STORE_ID_LEN];
    char actor[8 + STORE_ID_LEN]; /* "token:<id>" */
    char base_url[DIRECTORY_URL_MAX];
    const char *source; /* client address, borrowed */
};

/*
 * Check `authorization` (the header value) for the connection idp_id.
 * Missing, malformed, unknown or revoked tokens, and tokens of another
 * connection, give ERR_UNAUTHORIZED and a scim_auth_failed event.
 */
enum status directory_authenticate(struct directory *dir, const char *idp_id,
                                   const char *authorization, const char *source,
                                   struct scim_conn *out, struct scim_error *err);

/* A rendered resource as stored: JSON text and its version (for ETag). */
struct scim_doc {
    char *text;
    int64_t version;
    char id[STORE_ID_LEN];
};
void scim_doc_release(struct scim_doc *d);

enum status directory_scim_user_create(struct directory *dir, const struct scim_conn *conn,
                                       const json_t *body, struct scim_doc *out,
                                       struct scim_error *err);
enum status directory_scim_user_get(struct directory *dir, const struct scim_conn *conn,
                                    const char *id, struct scim_doc *out, struct scim_error *err);
/* if_match may be NULL. */
enum status directory_scim_user_replace(struct directory *dir, const struct scim_conn *conn,
                                        const char *id, const char *if_match, const json_t *body,
                                        struct scim_doc *out, struct scim_error *err);
enum status directory_scim_user_patch(struct directory *dir, const struct scim_conn *conn,
                                      const char *id, const char *if_match, json_t *body,
                                      struct scim_doc *out, struct scim_error *err);
enum status directory_scim_user_delete(struct directory *dir, const struct scim_conn *conn,
                                       const char *id, const char *if_match,
                                       struct scim_error *err);

struct scim_list_query {
    const char *filter;     /* may be NULL */
    const char *sort_by;    /* may be NULL */
    bool descending;        /* sortOrder=descending */
    size_t start_index;     /* 1-based */
    size_t count;           /* already capped */
    const char *attributes; /* may be NULL */
    const char *excluded;   /* may be NULL */
};
/* A ListResponse as JSON text (*out, malloc'd).  Without a projection the
 * stored resources are spliced in as they are, never re-parsed. */
enum status directory_scim_user_list(struct directory *dir, const struct scim_conn *conn,
                                     const struct scim_list_query *q, char **out,
                                     struct scim_error *err);

/* Record a write request that failed before reaching the directory (bad JSON, too large). */
void directory_scim_request_failed(struct directory *dir, const struct scim_conn *conn,
                                   const char *resource_type, const char *subject_id,
                                   const struct scim_error *failure);

/* ---- SCIM Groups (groups.c) ------------------------------------------------------------ */
/*
 * Groups of one connection; members are rows (DESIGN.md §3).  Member ids
 * must be live Users of the same connection, else 400 invalidValue naming
 * them.  attributes/excluded (either may be NULL) project the answer;
 * excluding members never loads one.
 */
enum status directory_scim_group_create(struct directory *dir, const struct scim_conn *conn,
                                        const json_t *body, struct scim_doc *out,
                                        struct scim_error *err);
enum status directory_scim_group_get(struct directory *dir, const struct scim_conn *conn,
                                     const char *id, const char *attributes,
                                     const char *excluded, struct scim_doc *out,
                                     struct scim_error *err);
/* PUT: displayName, externalId and the whole member set (absent members: none). */
enum status directory_scim_group_replace(struct directory *dir, const struct scim_conn *conn,
                                         const char *id, const char *if_match,
                                         const json_t *body, struct scim_doc *out,
                                         struct scim_error *err);
/* PATCH, atomically.  want_resource false: out gets id and version only (204). */
enum status directory_scim_group_patch(struct directory *dir, const struct scim_conn *conn,
                                       const char *id, const char *if_match, json_t *body,
                                       const char *attributes, const char *excluded,
                                       bool want_resource, struct scim_doc *out,
                                       struct scim_error *err);
/* Hard delete of the group and its member rows. */
enum status directory_scim_group_delete(struct directory *dir, const struct scim_conn *conn,
                                        const char *id, const char *if_match,
                                        struct scim_error *err);
enum status directory_scim_group_list(struct directory *dir, const struct scim_conn *conn,
                                      const struct scim_list_query *q, char **out,
                                      struct scim_error *err);
/* Record a Group write request that failed before reaching the directory. */
void directory_scim_group_request_failed(struct directory *dir, const struct scim_conn *conn,
                                         const char *subject_id, const struct scim_error *failure);
/*
 * Users' derived `groups` attribute: *out is doc (a stored User resource)
 * with "groups" added when user_id is a member of a group of the
 * connection, malloc'd; NULL when it is in none (use doc as it is).
 */
enum status directory_user_groups_render(struct store_tx *tx, const struct scim_conn *conn,
                                         const char *user_id, const char *doc, char **out);

#endif
