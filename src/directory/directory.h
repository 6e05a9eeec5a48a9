/* SPDX-License-Identifier: Apache-2.0 */
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
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "scim/cursor.h"
#include "store/store.h"

#define DIRECTORY_URL_MAX            512
#define DIRECTORY_LIST_DEFAULT_COUNT 100
#define DIRECTORY_LIST_MAX_COUNT     1000
#define DIRECTORY_TOKEN_TOUCH_S      60 /* last_used_at is written at most this often */

struct directory {
    struct store *store;
    char public_url[DIRECTORY_URL_MAX]; /* no trailing slash */
    /* Signs pagination cursors; shared by every node on the database
     * (directory_load_keys), so a cursor from one node works on another. */
    unsigned char cursor_key[SCIM_CURSOR_KEY_LEN];
    bool cursor_key_loaded;
    /* Set once the server begins to stop: long requests (Bulk) end between
     * operations instead of holding the shutdown. */
    atomic_bool stopping;
};

/* Who is acting: "token:<id>", "cli"; and from where (client address or NULL). */
struct actor {
    const char *name;
    const char *source;
};

/* A condition a caller puts on a change, checked inside the change's write
 * transaction before the change reads what it decides on.  An admin's
 * If-Match is one: checked in a transaction of its own, two requests sent
 * with the same ETag could both pass.  check reads what it needs in tx (and
 * may store_lock first, so that guarded changes of one object take turns);
 * a status other than OK refuses the change, with err set. */
typedef enum status (*directory_guard_fn)(void *ctx, struct store_tx *tx, struct scim_error *err);
struct directory_guard {
    directory_guard_fn check;
    void *ctx;
};
/* Run guard (NULL: none) in tx. */
enum status directory_guard_check(const struct directory_guard *guard, struct store_tx *tx,
                                  struct scim_error *err);
/* Begin a write transaction and run guard (NULL: none) in it first.  On
 * failure the transaction is over (*tx NULL) and err says why. */
enum status directory_begin_change(struct directory *dir, const struct directory_guard *guard,
                                   struct store_tx **tx, struct scim_error *err);
/* A store failure of a SCIM write as a message a client can act on, the same
 * for users and groups but for what was too long (ERR_INVALID_VALUE: an
 * indexed value over STORE_INDEXED_VALUE_MAX) and what was taken (ERR_UNIQUENESS). */
enum status directory_store_failure(enum status rc, const char *too_long, const char *taken,
                                    struct scim_error *err);
/* End it: commit when rc is OK, else roll back (tx may be NULL).  A failure
 * err does not explain yet is told as "<failure>: <status name>". */
enum status directory_end_change(struct store_tx *tx, enum status rc, const char *failure,
                                 struct scim_error *err);

void directory_init(struct directory *dir, struct store *store, const char *public_url);
/* Load the keys every node shares (the cursor key), creating them on a fresh
 * database.  The server calls it once at start; CLI commands need not. */
enum status directory_load_keys(struct directory *dir, struct scim_error *err);

/* ---- admin ----------------------------------------------------------------------- */
extern const char *const directory_vendors[]; /* NULL-terminated */
/* The tenant tenant_key (id, subdomain or name; NULL: none) in tx; on
 * ERR_NOT_FOUND err says "no tenant '<key>'", the one wording every command has. */
enum status directory_tenant_find(struct store_tx *tx, const char *tenant_key,
                                  struct store_tenant *out, struct scim_error *err);

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
/* The same with a lifetime: the token is refused (401 "token expired") from
 * expires_in_s seconds on; 0: it never expires. */
enum status directory_token_create_expiring(struct directory *dir, const char *idp_id,
                                            const char *name, int64_t expires_in_s,
                                            const struct actor *by, struct store_token *out,
                                            char plaintext[CRYPTO_TOKEN_LEN],
                                            struct scim_error *err);
/*
 * Rotate token_id: mint its successor on the same connection (its name
 * marked " (rotated)"; lifetime expires_in_s, or with -1 the predecessor's
 * own lifetime), printed once like any new token, and let the old one work
 * only overlap_s more seconds (never longer than it would have).  A revoked
 * or expired token -> ERR_CONFLICT.  Audited token_created + token_rotated.
 */
enum status directory_token_rotate(struct directory *dir, const char *token_id, int64_t overlap_s,
                                   int64_t expires_in_s, const struct actor *by,
                                   struct store_token *out, char plaintext[CRYPTO_TOKEN_LEN],
                                   struct scim_error *err);
/* The kill switch: a disabled connection answers every SCIM call 403, keeping
 * all it stored; enabling restores it.  *changed is false when it already was
 * in that state (nothing recorded).  Audited idp_disabled / idp_enabled. */
enum status directory_idp_set_disabled(struct directory *dir, const char *idp_id, bool disabled,
                                       const struct actor *by, const struct directory_guard *guard,
                                       bool *changed, struct scim_error *err);
/* Rename the connection (a name like directory_idp_create's); out gets it
 * renamed.  Audited idp_renamed {old, new} when the name changes. */
enum status directory_idp_rename(struct directory *dir, const char *idp_id, const char *name,
                                 const struct actor *by, const struct directory_guard *guard,
                                 struct store_idp *out, struct scim_error *err);
/* Only addresses in cidrs (a comma-separated CIDR list; NULL: any address) may
 * call the connection; others get 403.  out: the canonical list stored.
 * Audited idp_allowlist_set. */
enum status directory_idp_set_allowlist(struct directory *dir, const char *idp_id,
                                        const char *cidrs, const struct actor *by,
                                        char out[STORE_ALLOWLIST_MAX], struct scim_error *err);
/* ---- retention (purge.c) ---------------------------------------------------------- */
struct directory_purge_result {
    char cutoff[STORE_TIME_LEN]; /* users deleted before this went */
    struct store_tenant tenant;  /* when one was named */
    struct store_erased erased;
};
/* Called with each user erased (or, in a dry run, that would be). */
typedef enum status (*directory_purge_fn)(void *ctx, const struct store_purge_target *t);
/*
 * Erase the personal data of users soft-deleted more than deleted_before_s
 * seconds ago (of tenant_key, or every tenant when NULL), in batches: their
 * IdP rows, email index and group memberships, and the canonical user's
 * personal columns (the id stays, status "erased").  Events keep ids and
 * types; one users_purged event per tenant and batch lists the ids erased
 * and the counts.  dry_run changes nothing and reports what would go.
 */
enum status directory_purge(struct directory *dir, const char *tenant_key, int64_t deleted_before_s,
                            bool dry_run, const struct actor *by, directory_purge_fn fn, void *ctx,
                            struct directory_purge_result *out, struct scim_error *err);

/* `serve --purge-after`: directory_purge of every tenant on a thread of its
 * own, at start and then every every_s seconds, until stopped (failures are
 * logged and tried again next time). */
struct directory_purger;
enum status directory_purger_start(struct directory *dir, int64_t deleted_before_s, int64_t every_s,
                                   struct directory_purger **out);
/* Stop and free it (waits for a purge under way); NULL is a no-op. */
void directory_purger_stop(struct directory_purger *p);

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
    const char *source;       /* client address, borrowed */
    struct store_tx *read_tx; /* the request's read transaction, or NULL */
};

/*
 * Check `authorization` (the header value) for the connection idp_id.
 * Missing, malformed, unknown or revoked tokens, and tokens of another
 * connection, give ERR_UNAUTHORIZED and a scim_auth_failed event.  With
 * keep_reading, the read transaction the check ran in may be left open in
 * out->read_tx for the request's reads (one transaction per GET instead of
 * two); directory_conn_release ends it.
 */
enum status directory_authenticate(struct directory *dir, const char *idp_id,
                                   const char *authorization, const char *source, bool keep_reading,
                                   struct scim_conn *out, struct scim_error *err);
void directory_conn_release(struct scim_conn *conn);
/* A read transaction for a request on conn: its open one, else a new one.
 * End it with directory_read_end, which leaves conn's own open. */
enum status directory_read_begin(struct directory *dir, const struct scim_conn *conn,
                                 struct store_tx **out);
void directory_read_end(const struct scim_conn *conn, struct store_tx *tx);

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
    /* RFC 9865: NULL for index paging; "" asks for the first page of a
     * cursor walk, else a nextCursor/previousCursor this server issued. */
    const char *cursor;
    bool start_given; /* startIndex was in the request (not allowed with cursor) */
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
                                     const char *id, const char *attributes, const char *excluded,
                                     struct scim_doc *out, struct scim_error *err);
/* PUT: displayName, externalId and the whole member set (absent members: none). */
enum status directory_scim_group_replace(struct directory *dir, const struct scim_conn *conn,
                                         const char *id, const char *if_match, const json_t *body,
                                         struct scim_doc *out, struct scim_error *err);
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
/*
 * Users' derived `groups` attribute: *out is doc (a stored User resource)
 * with "groups" added when user_id is a member of a group of the
 * connection, malloc'd; NULL when it is in none (use doc as it is).
 */
enum status directory_user_groups_render(struct store_tx *tx, const struct scim_conn *conn,
                                         const char *user_id, const char *doc, char **out);

/* ---- cursor pagination (search.c, shared with groups.c) --------------------------------- */
/*
 * A cursor walk goes over id order (ascending), keyset: a page holds rows
 * whose id sorts after the last one seen, so rows created or deleted
 * during a walk never make it repeat or skip a row that existed
 * throughout.  Cursors are signed with the key kept in the settings table,
 * so every node of one database honours them, and bound to the tenant,
 * connection, resource type and query (canonical filter, sortBy, sortOrder)
 * that issued them: any other list refuses them with 400 invalidCursor.
 */
struct directory_cursor {
    const unsigned char *key;    /* the directory's cursor key */
    bool active;                 /* a cursor walk (else index paging) */
    bool backward;               /* previousCursor: rows before id, delivered descending */
    int64_t total;               /* totalResults carried by the cursor; -1 on a first page */
    char id[SCIM_CURSOR_ID_MAX]; /* "" on the first page */
    unsigned char scope[SCIM_CURSOR_SCOPE_LEN]; /* of this list; cursors carry it */
};
/* Rows of one cursor page, in delivery order: id and JSON text (owned). */
struct directory_page {
    char (*ids)[STORE_ID_LEN];
    char **texts;
    size_t n, alloc;
    size_t matched; /* inexact path: every match, for totalResults */
};
/* Check and decode q->cursor for the list of rt on conn with filter (parsed
 * and bound from q->filter, or NULL); cursor with startIndex or sortBy -> 400
 * invalidValue, forged/expired/garbage or issued by another list -> 400
 * invalidCursor. */
enum status directory_cursor_begin(const struct directory *dir, const struct scim_conn *conn,
                                   const struct scim_resource_type *rt,
                                   const struct scim_list_query *q,
                                   const struct scim_filter *filter, struct directory_cursor *cur,
                                   struct scim_error *err);
/* The keyset store search of one cursor page: ids past the cursor, in the
 * walk's direction, count + 1 rows so the page knows whether more follow. */
struct store_search directory_cursor_search(const struct scim_conn *conn,
                                            const struct scim_list_query *q,
                                            const struct directory_cursor *cur,
                                            const struct scim_filter *filter);
/* Inexact path: does id lie beyond the cursor in the walk's direction? */
bool directory_cursor_past(const struct directory_cursor *cur, const char *id);
/* Take text (even on failure). */
enum status directory_page_add(struct directory_page *p, const char *id, char *text);
/* The ListResponse of a cursor page: the first `count` rows (p holds up to
 * count + 1), with nextCursor / previousCursor. */
enum status directory_cursor_finish(const struct directory_cursor *cur, struct directory_page *p,
                                    size_t count, const struct store_search_result *res,
                                    char **out);
void directory_page_release(struct directory_page *p);
/* What the row callback of a cursor page sees (users: search.c, groups: groups.c). */
struct directory_cursor_collect {
    struct store_tx *tx;
    const struct scim_conn *conn;
    const struct scim_filter *filter;
    const struct scim_projection *proj;
    const struct store_search_result *res;
    const struct directory_cursor *cur;
    size_t count;
    struct directory_page page;
};
/* The store search of one resource type, each row handed to its collector with c. */
typedef enum status (*directory_cursor_search_fn)(struct store_tx *tx,
                                                  const struct store_search *search,
                                                  struct directory_cursor_collect *c,
                                                  struct store_search_result *res);
/* One cursor page of a list, the same for every resource type: the keyset
 * search in a read transaction, then its ListResponse. */
enum status directory_cursor_list(struct directory *dir, const struct scim_conn *conn,
                                  const struct scim_list_query *q,
                                  const struct directory_cursor *cur,
                                  const struct scim_filter *filter,
                                  const struct scim_projection *proj,
                                  directory_cursor_search_fn search, char **out);

/* ---- Bulk (bulk.c) --------------------------------------------------------------------- */
#define DIRECTORY_BULK_MAX_OPERATIONS 1000
/* "bulkId:" references one BulkRequest may hold (paths and data together);
 * more -> 413 before any operation runs. */
#define DIRECTORY_BULK_MAX_REFERENCES 20000
/* How long one BulkRequest may keep starting operations; those not started
 * by then (or once the server is stopping) are answered 503 each. */
#define DIRECTORY_BULK_BUDGET_MS 30000
/*
 * POST /Bulk (RFC 7644 §3.7): each operation runs through the functions
 * above in its own transaction; "bulkId:<id>" in a path or anywhere in data
 * names a resource POSTed in the same request (an operation waits for a
 * later POST it refers to; every operation of a cycle fails 409).
 * failOnErrors N stops after N failed operations.  *out is the BulkResponse
 * (malloc'd).  A request that is not a BulkRequest -> 400; more than
 * maxOperations or DIRECTORY_BULK_MAX_REFERENCES -> 413.  Operations done
 * stay done when the time budget runs out.
 */
enum status directory_scim_bulk(struct directory *dir, const struct scim_conn *conn, json_t *body,
                                char **out, struct scim_error *err);

#endif
