/* SPDX-License-Identifier: Apache-2.0 */
/*
 * admin.h - what the files of src/admin/ share: one admin request as the
 * route handlers see it, JSON answers and errors, authentication (session
 * cookie or API key), CSRF and Origin checks, cursor pages.
 *
 * Internal to src/admin/.  A struct admin_req lives for one request; its
 * body (json_t) is owned by it and released by the router.
 */
#ifndef SCIMD_ADMIN_ADMIN_H
#define SCIMD_ADMIN_ADMIN_H

#include <jansson.h>
#include <stdbool.h>

#include "directory/admins.h"
#include "directory/directory.h"
#include "http/request.h"

#define ADMIN_JSON_TYPE    "application/json; charset=utf-8"
#define ADMIN_COOKIE       "scimd_session"
#define ADMIN_CSRF_HEADER  "X-CSRF-Token"
#define ADMIN_MAX_PARAMS   3
#define ADMIN_PAGE_DEFAULT 50
#define ADMIN_PAGE_MAX     200
#define ADMIN_CURSOR_MAX   128
#define ADMIN_PATH_MAX     512
#define ADMIN_USER_EVENTS  50 /* events shown on a user's detail */
#define ADMIN_ETAG_HEX     24 /* hex digits of a representation's SHA-256 kept in its ETag */
#define ADMIN_ETAG_LEN     (ADMIN_ETAG_HEX + 3) /* quoted, NUL */

struct admin_req {
    struct directory *dir;
    const struct http_request *http;
    struct http_response *res;
    struct directory_admin_auth auth;     /* when the route needs it */
    const char *params[ADMIN_MAX_PARAMS]; /* the {id}s of the route, in order */
    json_t *body;                         /* POST bodies: a JSON object, else NULL */
};

/* ---- answers (json.c) ---- */
/* Answer status with value (stolen; NULL: no body). */
void admin_reply(struct admin_req *r, int status, json_t *value);
/* Answer an error with a stable code. */
void admin_fail(struct admin_req *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Answer err (from the directory) with the status and code its status maps to. */
void admin_fail_with(struct admin_req *r, const struct scim_error *err);
/* A store failure. */
void admin_fail_status(struct admin_req *r, enum status rc);
/* JSON null for "" or NULL, else the string. */
json_t *admin_str(const char *s);
/* A string member of the body, NULL when absent or not a string. */
const char *admin_body_str(const struct admin_req *r, const char *name);

/* ---- ETags (json.c) ---- */
/* The ETag of an object's JSON representation: a quoted digest of its
 * canonical text (keys sorted), so it changes exactly when what GET shows does. */
void admin_etag(const json_t *value, char out[ADMIN_ETAG_LEN]);
/* Answer 200 with value (stolen) and its ETag. */
void admin_reply_tagged(struct admin_req *r, json_t *value);
/* The same, the ETag taken from tagged (the part of value an If-Match guards). */
void admin_reply_tagged_by(struct admin_req *r, json_t *value, const json_t *tagged);

/* ---- If-Match, checked in the change's own transaction (json.c) ---- */
#define ADMIN_OBJECT_KEY_MAX 160
/* What GET of the object shows, read in tx; *out is the caller's. */
typedef enum status (*admin_show_fn)(struct admin_req *r, struct store_tx *tx, void *ctx,
                                     json_t **out);
struct admin_if_match {
    struct admin_req *r;
    char object[ADMIN_OBJECT_KEY_MAX]; /* what guarded changes of the object take turns on */
    admin_show_fn show;
    void *ctx;
    struct directory_guard guard;
};
/* The guard to give the directory call that changes the object: inside that
 * call's write transaction, changes of the same object (kind, id and sub, which
 * may be NULL, name it: "app" <id>, "field" <tenant id> <name>) take turns, and when the request
 * has an If-Match, the object as show reads it there must have an ETag it names (or "*"); else the
 * change is refused with ERR_PRECONDITION, answered 412 precondition_failed.
 * Checked any earlier, two requests sent with the same ETag could both pass.
 * m holds the guard and must outlive the call. */
const struct directory_guard *admin_if_match(struct admin_if_match *m, struct admin_req *r,
                                             admin_show_fn show, void *ctx, const char *kind,
                                             const char *id, const char *sub);

/* ---- cursor pages (json.c) ---- */
struct admin_page {
    json_t *items;
    size_t limit;
    const char *after;           /* the cursor given: items up to and including it are skipped */
    char next[ADMIN_CURSOR_MAX]; /* set once a row beyond the page is seen */
    char last[ADMIN_CURSOR_MAX];
};
/* From ?limit= and ?cursor=; false (and answered 400) when they are bad. */
bool admin_page_init(struct admin_req *r, struct admin_page *p);
/* Offer the row whose cursor key is key (rows come in key order); item is
 * stolen.  ERR_TOO_MANY once the page is full and one more row was seen:
 * the caller stops and treats it as OK. */
enum status admin_page_add(struct admin_page *p, const char *key, json_t *item);
/* {"items": [...], "next_cursor": ...} answered 200. */
void admin_page_reply(struct admin_req *r, struct admin_page *p);
/* The key of a row ordered by (created_at, id). */
void admin_page_key(char out[ADMIN_CURSOR_MAX], const char *created_at, const char *id);

/* ---- who is asking (session.c) ---- */
/* Authenticate by API key (Authorization: Bearer) or session cookie; on
 * failure the answer is made and false returned. */
bool admin_authenticate(struct admin_req *r);
/* A state-changing request: Origin (when sent) must be the public URL's,
 * and a session must send its CSRF token.  Answers 403 and false otherwise. */
bool admin_check_csrf(struct admin_req *r);
/* Origin only (sign-in has no session yet). */
bool admin_check_origin(struct admin_req *r);
/* Set-Cookie for a new session id, or to clear it (id NULL). */
void admin_set_cookie(struct admin_req *r, const char *session_id);
/* May the caller see objects of tenant_id?  super: all; others: their own. */
bool admin_sees(const struct admin_req *r, const char *tenant_id);
bool admin_is_super(const struct admin_req *r);
/* The directory actor of the caller. */
struct actor admin_actor(const struct admin_req *r);
/* The credential the caller authenticated with (API key or session id), to
 * check it again later (a long-lived stream); false when it cannot be had. */
bool admin_credential(const struct admin_req *r, char *out, size_t size);

/* ---- shared by the route files (routes.c) ---- */
typedef enum status (*admin_read_fn)(struct admin_req *r, struct store_tx *tx, void *ctx);
/* A list answered as a cursor page: read gets the listing as ctx. */
struct admin_listing {
    struct admin_req *r;
    struct admin_page page;
};
void admin_list_with(struct admin_req *r, admin_read_fn read);
/* Offer item (stolen) keyed by (created_at, id), unless the caller may not
 * see tenant_id's objects. */
enum status admin_listing_add(struct admin_listing *l, const char *tenant_id,
                              const char *created_at, const char *id, json_t *item);
/* Run read in a read transaction; failures are answered (ERR_NOT_FOUND as
 * 404); ERR_TOO_MANY (a full page) counts as success. */
bool admin_in_read_tx(struct admin_req *r, admin_read_fn read, void *ctx);
/* The IdP of the route's first parameter, if the caller may see it (else ERR_NOT_FOUND). */
enum status admin_visible_idp(struct admin_req *r, struct store_tx *tx, struct store_idp *out);
json_t *admin_idp_json(const struct admin_req *r, const struct store_idp *idp);
/* ?tenant= for a super admin (NULL: all), the caller's own tenant otherwise. */
const char *admin_tenant_scope(const struct admin_req *r);
/* The id of that tenant ("" for all); ERR_NOT_FOUND when unknown or not the caller's. */
enum status admin_scope_tenant_id(struct admin_req *r, struct store_tx *tx, char out[STORE_ID_LEN]);
/* The body of a PATCH that may change only "state" (apps, webhooks): *enabled
 * for "enabled", false for "disabled"; anything else answers 400 and false. */
bool admin_body_state(struct admin_req *r, bool *enabled);
/* Are the body's members of these names strings when present?  False: answered 400. */
bool admin_body_strings(struct admin_req *r, const char *const *names, size_t n);

/* ---- the routes (routes.c) ---- */
typedef void (*admin_route_fn)(struct admin_req *r);
void admin_session_create(struct admin_req *r);
void admin_session_get(struct admin_req *r);
void admin_session_delete(struct admin_req *r);
void admin_setup(struct admin_req *r);
void admin_openapi(struct admin_req *r);
void admin_tenants_list(struct admin_req *r);
void admin_tenants_create(struct admin_req *r);
void admin_idps_list(struct admin_req *r);
void admin_idps_create(struct admin_req *r);
void admin_idps_get(struct admin_req *r);
void admin_tokens_list(struct admin_req *r);
void admin_tokens_create(struct admin_req *r);
void admin_tokens_revoke(struct admin_req *r);
void admin_users_list(struct admin_req *r);
void admin_users_get(struct admin_req *r);
void admin_groups_list(struct admin_req *r);
void admin_groups_get(struct admin_req *r);
void admin_group_members(struct admin_req *r);
void admin_events_list(struct admin_req *r);
void admin_events_stream(struct admin_req *r);

/* ---- tenant configuration (routes_config.c) ---- */
void admin_idps_patch(struct admin_req *r);
void admin_mirroring_get(struct admin_req *r);
void admin_mirroring_put(struct admin_req *r);
void admin_idp_mirroring_get(struct admin_req *r);
void admin_idp_mirroring_put(struct admin_req *r);
void admin_rederive_get(struct admin_req *r);
void admin_fields_list(struct admin_req *r);
void admin_fields_create(struct admin_req *r);
void admin_fields_get(struct admin_req *r);
void admin_fields_delete(struct admin_req *r);
void admin_schemas_list(struct admin_req *r);
void admin_schemas_create(struct admin_req *r);
void admin_roles_list(struct admin_req *r);
void admin_roles_create(struct admin_req *r);
void admin_roles_get(struct admin_req *r);
void admin_roles_delete(struct admin_req *r);
void admin_role_groups_put(struct admin_req *r);
void admin_role_groups_delete(struct admin_req *r);

/* ---- apps and grants (routes_apps.c) ---- */
void admin_apps_list(struct admin_req *r);
void admin_apps_create(struct admin_req *r);
void admin_apps_get(struct admin_req *r);
void admin_apps_patch(struct admin_req *r);
void admin_apps_delete(struct admin_req *r);
void admin_apps_status(struct admin_req *r);
void admin_apps_retry(struct admin_req *r);
void admin_apps_allow_deprovisions(struct admin_req *r);
void admin_apps_resync(struct admin_req *r);
void admin_webhooks_list(struct admin_req *r);
void admin_webhooks_create(struct admin_req *r);
void admin_webhooks_get(struct admin_req *r);
void admin_webhooks_patch(struct admin_req *r);
void admin_webhooks_delete(struct admin_req *r);
void admin_webhooks_replay(struct admin_req *r);
/* The server's key for sealed secrets (app credentials, webhook secrets), or NULL. */
const struct secretbox *admin_api_secretbox(void);
void admin_grants_list(struct admin_req *r);
void admin_grants_create(struct admin_req *r);
void admin_grants_delete(struct admin_req *r);

#endif
