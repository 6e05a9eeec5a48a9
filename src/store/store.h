/*
 * store.h - the only way scimd reads or writes persistent state.
 *
 * Every call runs inside a transaction (struct store_tx) taken from a
 * store.  All SQL lives below src/store/; callers see typed records and
 * statuses.  Records hold their strings inline (fixed, validated maxima) or
 * as heap strings released by the record's _release function.
 *
 * Uniqueness (userName and externalId per IdP connection) is enforced by
 * constraints, never by read-then-write: inserts and updates that would break
 * one return ERR_UNIQUENESS.  A busy or vanished database returns
 * ERR_UNAVAILABLE; other database failures are logged here once and returned
 * as ERR_STORE.
 *
 * Thread safety: a struct store is shared by all threads; a struct store_tx
 * belongs to one thread from store_begin to store_commit/store_rollback.
 */
#ifndef SCIMD_STORE_STORE_H
#define SCIMD_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/status.h"
#include "scim/filter.h"

#define STORE_ID_LEN     CRYPTO_UUID_LEN
#define STORE_TIME_LEN   CLOCK_ISO_LEN
#define STORE_NAME_MAX   129 /* tenant, IdP and token names: 128 bytes + NUL */
#define STORE_VENDOR_MAX 16
#define STORE_PREFIX_LEN 16
#define STORE_STATUS_LEN 16
/* Longest value the store indexes (userName, externalId, emails.value, group
 * displayName): PostgreSQL cannot index much more than 2.7 KB per entry.
 * Longer values are refused with ERR_INVALID_VALUE on every backend alike. */
#define STORE_INDEXED_VALUE_MAX 1024

struct store;
struct store_tx;

/* Open (creating if needed) the store at url: postgres://… or postgresql://…
 * for PostgreSQL, anything else (optionally sqlite:…) is a SQLite file path.
 * Applies pending migrations.  pool_size bounds concurrent read transactions
 * (PostgreSQL: all transactions; SQLite writes share one writer connection). */
enum status store_open(const char *url, unsigned pool_size, struct store **out,
                       struct scim_error *err);
void store_close(struct store *store);

/* Begin a transaction.  write=true takes the write lock up front so that a
 * transaction never fails half-way on lock upgrade. */
enum status store_begin(struct store *store, bool write, struct store_tx **out);
/* Serialise write transaction tx with every other one that locks the same
 * key, on every node sharing the database, until tx ends.  Keys are opaque
 * text (hashed: a collision only serialises more).  Writes that decide on what
 * they read lock what they decide on first (src/directory/locks.h).  Free on
 * SQLite, whose write transactions already take turns. */
enum status store_lock(struct store_tx *tx, const char *key);
/* Commit and free tx.  On failure the transaction is rolled back and freed. */
enum status store_commit(struct store_tx *tx);
/* Roll back and free tx; NULL is a no-op. */
void store_rollback(struct store_tx *tx);

/* ---- tenants ---------------------------------------------------------------------- */
struct store_tenant {
    char id[STORE_ID_LEN];
    char name[STORE_NAME_MAX];
    char subdomain[STORE_NAME_MAX];
    char created_at[STORE_TIME_LEN];
};
enum status store_tenant_insert(struct store_tx *tx, const struct store_tenant *t);
/* Find by id, subdomain or name (in that order). */
enum status store_tenant_find(struct store_tx *tx, const char *key, struct store_tenant *out);
typedef enum status (*store_tenant_fn)(void *ctx, const struct store_tenant *t);
enum status store_tenant_each(struct store_tx *tx, store_tenant_fn fn, void *ctx);

/* ---- IdP connections ----------------------------------------------------------------- */
struct store_idp {
    char tenant_id[STORE_ID_LEN];
    char id[STORE_ID_LEN];
    char name[STORE_NAME_MAX];
    char vendor[STORE_VENDOR_MAX];
    char created_at[STORE_TIME_LEN];
};
enum status store_idp_insert(struct store_tx *tx, const struct store_idp *idp);
enum status store_idp_get(struct store_tx *tx, const char *id, struct store_idp *out);
typedef enum status (*store_idp_fn)(void *ctx, const struct store_idp *idp);
/* tenant_id NULL: every IdP. */
enum status store_idp_each(struct store_tx *tx, const char *tenant_id, store_idp_fn fn, void *ctx);

/* ---- tokens ----------------------------------------------------------------------- */
struct store_token {
    char tenant_id[STORE_ID_LEN];
    char id[STORE_ID_LEN];
    char idp_id[STORE_ID_LEN];
    char name[STORE_NAME_MAX];
    char prefix[STORE_PREFIX_LEN];
    char hash[CRYPTO_SHA256_HEX_LEN]; /* SHA-256 of the plaintext, hex */
    char created_at[STORE_TIME_LEN];
    char last_used_at[STORE_TIME_LEN]; /* "" when never used */
    char revoked_at[STORE_TIME_LEN];   /* "" when live */
};
enum status store_token_insert(struct store_tx *tx, const struct store_token *t);
enum status store_token_get(struct store_tx *tx, const char *id, struct store_token *out);
enum status store_token_by_hash(struct store_tx *tx, const char *hash, struct store_token *out);
enum status store_token_revoke(struct store_tx *tx, const char *id, const char *at);
/* Set last_used_at = at unless it is already newer than min_previous. */
enum status store_token_touch(struct store_tx *tx, const char *id, const char *at);
typedef enum status (*store_token_fn)(void *ctx, const struct store_token *t);
enum status store_token_each(struct store_tx *tx, const char *idp_id, store_token_fn fn, void *ctx);

/* ---- canonical users --------------------------------------------------------------------- */
struct store_user {
    char tenant_id[STORE_ID_LEN];
    char id[STORE_ID_LEN];
    char *username; /* heap strings, may be NULL */
    char *email;
    char *given_name;
    char *family_name;
    char *display_name;
    char status[STORE_STATUS_LEN]; /* "active" | "deactivated" | "deleted" */
    char idp_id[STORE_ID_LEN];     /* IdP the user is bound to, "" for none */
    bool scim_managed;
    char created_at[STORE_TIME_LEN];
    char updated_at[STORE_TIME_LEN];
};
void store_user_release(struct store_user *u);
enum status store_user_insert(struct store_tx *tx, const struct store_user *u);
/* Update every mutable column of the user (tenant_id, id) to u's values. */
enum status store_user_update(struct store_tx *tx, const struct store_user *u);
/* By id alone (CLI) when tenant_id is NULL. */
enum status store_user_get(struct store_tx *tx, const char *tenant_id, const char *id,
                           struct store_user *out);
/* The oldest user of the tenant whose email or username equals email (or
 * whose username equals username), compared case-insensitively; ERR_NOT_FOUND. */
enum status store_user_find_match(struct store_tx *tx, const char *tenant_id, const char *email,
                                  const char *username, struct store_user *out);
typedef enum status (*store_user_fn)(void *ctx, const struct store_user *u);
/* idp_id NULL: every user of the tenant; else users that IdP holds a row for. */
enum status store_user_each(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                            store_user_fn fn, void *ctx);

/* ---- IdP user rows: what one connection said about one user ----------------------------- */
struct store_idp_user {
    char tenant_id[STORE_ID_LEN];
    char idp_id[STORE_ID_LEN];
    char user_id[STORE_ID_LEN]; /* also the SCIM id */
    char *external_id;          /* heap, NULL when none */
    char *user_name;            /* heap */
    /* emails[].value for the filter index: input only.  Borrowed by insert and
     * update; the store never fills it on reads and never frees it. */
    char **emails;
    size_t n_emails;
    bool active;
    bool deleted;
    int64_t version;
    char *doc; /* heap: the rendered SCIM resource */
    char created_at[STORE_TIME_LEN];
    char updated_at[STORE_TIME_LEN];
};
void store_idp_user_release(struct store_idp_user *r);
/* ERR_UNIQUENESS when externalId or (live) userName is taken on this connection. */
enum status store_idp_user_insert(struct store_tx *tx, const struct store_idp_user *r);
enum status store_idp_user_update(struct store_tx *tx, const struct store_idp_user *r);
/* Includes deleted rows; callers decide what a deleted row means. */
enum status store_idp_user_get(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                               const char *user_id, struct store_idp_user *out);
enum status store_idp_user_by_external_id(struct store_tx *tx, const char *tenant_id,
                                          const char *idp_id, const char *external_id,
                                          struct store_idp_user *out);
/* Live (not deleted) row holding user_name, case-insensitively. */
enum status store_idp_user_by_user_name(struct store_tx *tx, const char *tenant_id,
                                        const char *idp_id, const char *user_name,
                                        struct store_idp_user *out);
typedef enum status (*store_idp_user_fn)(void *ctx, const struct store_idp_user *r);
/* Every row of one user (all connections). */
enum status store_idp_user_each_of_user(struct store_tx *tx, const char *tenant_id,
                                        const char *user_id, store_idp_user_fn fn, void *ctx);

enum store_sort {
    STORE_SORT_NONE, /* stable storage order */
    STORE_SORT_USER_NAME,
    STORE_SORT_EXTERNAL_ID,
    STORE_SORT_ID,
    STORE_SORT_CREATED,
    STORE_SORT_LAST_MODIFIED,
    STORE_SORT_DISPLAY_NAME, /* groups */
};

struct store_search {
    const char *tenant_id;
    const char *idp_id;
    const struct scim_filter *filter; /* bound, or NULL for all */
    enum store_sort sort;
    bool descending;
    size_t offset; /* rows to skip, only honoured when the result is exact */
    size_t limit;  /* rows to return, only honoured when exact; 0 = count only */
    /* Keyset (cursor pagination): only rows whose id sorts after after_id
     * (before it when descending), only honoured when exact and sort is
     * NONE or ID; the count still counts every match.  NULL: from the start. */
    const char *after_id;
    /* Exact results only: skip the count (res->total stays 0), as a cursor
     * walk's later pages report the total counted on its first. */
    bool skip_count;
};

struct store_search_result {
    bool exact;   /* every row delivered matches the filter; offset/limit applied */
    size_t total; /* when exact: number of matching rows */
};

/*
 * Deliver live rows of one connection that may match q->filter, in q->sort
 * order.  The parts of the filter on indexed attributes (id, userName,
 * externalId, emails.value, active, meta.created, meta.lastModified) are
 * compiled to SQL; when that is the whole filter, res->exact is set, only
 * the requested page is delivered and res->total counts all matches.
 * Otherwise every candidate row is delivered (a superset) and the caller
 * evaluates the filter and paginates.  res->exact and res->total are set
 * before the first row is delivered, so fn may look at them.  Rows passed to
 * fn are borrowed for the duration of the call.
 */
enum status store_idp_user_search(struct store_tx *tx, const struct store_search *q,
                                  store_idp_user_fn fn, void *ctx, struct store_search_result *res);

/* ---- groups: SCIM Groups of one connection; members are rows ------------------------- */
struct store_group {
    char tenant_id[STORE_ID_LEN];
    char idp_id[STORE_ID_LEN];
    char id[STORE_ID_LEN];
    char *external_id;  /* heap, NULL when none */
    char *display_name; /* heap */
    int64_t version;
    char *doc; /* heap: the rendered SCIM resource WITHOUT members */
    char created_at[STORE_TIME_LEN];
    char updated_at[STORE_TIME_LEN];
};
void store_group_release(struct store_group *g);
/* ERR_UNIQUENESS when externalId is taken on this connection. */
enum status store_group_insert(struct store_tx *tx, const struct store_group *g);
enum status store_group_update(struct store_tx *tx, const struct store_group *g);
enum status store_group_get(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                            const char *id, struct store_group *out);
enum status store_group_by_external_id(struct store_tx *tx, const char *tenant_id,
                                       const char *idp_id, const char *external_id,
                                       struct store_group *out);
/* Hard delete: the group and its member rows.  ERR_NOT_FOUND. */
enum status store_group_delete(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                               const char *id);
typedef enum status (*store_group_fn)(void *ctx, const struct store_group *g);
/*
 * Like store_idp_user_search, over the groups of one connection: the parts
 * of a bound Group filter on displayName, externalId, id, members.value and
 * meta.created/lastModified compile to SQL (members.value through the
 * member rows of live users).  Sorts: NONE, ID, DISPLAY_NAME, EXTERNAL_ID,
 * CREATED, LAST_MODIFIED.
 */
enum status store_group_search(struct store_tx *tx, const struct store_search *q, store_group_fn fn,
                               void *ctx, struct store_search_result *res);

/* Ids among user_ids (n of them) that are not live users of the connection,
 * passed to fn one by one (ctx, id). */
typedef enum status (*store_id_fn)(void *ctx, const char *id);
enum status store_users_missing(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                                const char *const *user_ids, size_t n, store_id_fn fn, void *ctx);
/* Add members (present ones are skipped); fn (may be NULL) sees each id actually added. */
enum status store_group_members_add(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                                    const char *group_id, const char *const *user_ids, size_t n,
                                    store_id_fn fn, void *ctx);
/* Remove members (absent ones are skipped); fn (may be NULL) sees each id actually removed. */
enum status store_group_members_remove(struct store_tx *tx, const char *tenant_id,
                                       const char *idp_id, const char *group_id,
                                       const char *const *user_ids, size_t n, store_id_fn fn,
                                       void *ctx);
/* Remove every member; fn (may be NULL) sees each id removed. */
enum status store_group_members_clear(struct store_tx *tx, const char *tenant_id,
                                      const char *idp_id, const char *group_id, store_id_fn fn,
                                      void *ctx);
/* Member ids in user_id order; live_only skips soft-deleted users. */
enum status store_group_members_each(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                                     const char *group_id, bool live_only, store_id_fn fn,
                                     void *ctx);
/* Is user_id a member of any group of the connection? */
enum status store_user_in_groups(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                                 const char *user_id, bool *out);
/* Groups (id, displayName) the user is a member of, in group id order. */
typedef enum status (*store_group_of_fn)(void *ctx, const char *group_id, const char *display_name);
enum status store_groups_of_user_each(struct store_tx *tx, const char *tenant_id,
                                      const char *idp_id, const char *user_id, store_group_of_fn fn,
                                      void *ctx);

/* ---- mirroring, custom fields, tenant schemas, roles (rec_mirror.c) ---------------- */
#define STORE_FIELD_NAME_MAX 65 /* custom field names: 64 bytes + NUL */
#define STORE_FIELD_TYPE_MAX 16
#define STORE_PATH_MAX       513 /* mirrored SCIM paths: 512 bytes + NUL */
#define STORE_URN_MAX        257

struct store_field {
    char tenant_id[STORE_ID_LEN];
    char name[STORE_FIELD_NAME_MAX];
    char type[STORE_FIELD_TYPE_MAX]; /* "string" | "integer" | "boolean" */
    char created_at[STORE_TIME_LEN];
};
/* ERR_UNIQUENESS when the tenant already has a field of that name. */
enum status store_field_insert(struct store_tx *tx, const struct store_field *f);
typedef enum status (*store_field_fn)(void *ctx, const struct store_field *f);
/* In name order. */
enum status store_field_each(struct store_tx *tx, const char *tenant_id, store_field_fn fn,
                             void *ctx);

struct store_mirror_rule {
    char tenant_id[STORE_ID_LEN];
    char idp_id[STORE_ID_LEN]; /* "" for the tenant-wide rule */
    char field[STORE_FIELD_NAME_MAX];
    char path[STORE_PATH_MAX];
    char updated_at[STORE_TIME_LEN];
};
/* Insert or replace the rule of (tenant, idp, field). */
enum status store_mirror_rule_put(struct store_tx *tx, const struct store_mirror_rule *r);
typedef enum status (*store_mirror_rule_fn)(void *ctx, const struct store_mirror_rule *r);
/* The tenant's whole mirroring configuration in one statement: every custom
 * field (name order) to field_fn, then every rule (tenant-wide ones first,
 * then per connection) to rule_fn. */
enum status store_mirror_config_each(struct store_tx *tx, const char *tenant_id,
                                     store_field_fn field_fn, store_mirror_rule_fn rule_fn,
                                     void *ctx);
/* Is any role mapped to the group (tenant, idp_id, group_id)? */
enum status store_group_has_roles(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                                  const char *group_id, bool *out);

/* A derived custom field value of a user; strings borrowed. */
struct store_user_field {
    const char *name;
    const char *value;  /* JSON text of the value */
    const char *idp_id; /* the connection it came from */
};
/* Replace every custom field value of the user by fields[0..n). */
enum status store_user_fields_replace(struct store_tx *tx, const char *tenant_id,
                                      const char *user_id, const struct store_user_field *fields,
                                      size_t n);
typedef enum status (*store_user_field_fn)(void *ctx, const struct store_user_field *f);
/* In name order. */
enum status store_user_field_each(struct store_tx *tx, const char *tenant_id, const char *user_id,
                                  store_user_field_fn fn, void *ctx);

/* A tenant's own User extension schema: attrs is "name:type,..." (borrowed). */
struct store_tenant_schema {
    char tenant_id[STORE_ID_LEN];
    char urn[STORE_URN_MAX];
    const char *attrs;
    char created_at[STORE_TIME_LEN];
};
/* ERR_UNIQUENESS when the tenant has that URN (case-insensitively). */
enum status store_tenant_schema_insert(struct store_tx *tx, const struct store_tenant_schema *s);
typedef enum status (*store_tenant_schema_fn)(void *ctx, const struct store_tenant_schema *s);
enum status store_tenant_schema_each(struct store_tx *tx, const char *tenant_id,
                                     store_tenant_schema_fn fn, void *ctx);

struct store_role {
    char tenant_id[STORE_ID_LEN];
    char id[STORE_ID_LEN];
    char name[STORE_NAME_MAX];
    char created_at[STORE_TIME_LEN];
};
/* ERR_UNIQUENESS when the tenant has a role of that name (case-insensitively). */
enum status store_role_insert(struct store_tx *tx, const struct store_role *r);
/* By id, else by name (case-insensitively); tenant_id NULL: any tenant, by id only. */
enum status store_role_find(struct store_tx *tx, const char *tenant_id, const char *key,
                            struct store_role *out);
typedef enum status (*store_role_fn)(void *ctx, const struct store_role *r);
/* In name order. */
enum status store_role_each(struct store_tx *tx, const char *tenant_id, store_role_fn fn,
                            void *ctx);
/* Map a group (of connection idp_id) to a role; mapping it twice is OK. */
enum status store_role_group_add(struct store_tx *tx, const char *tenant_id, const char *role_id,
                                 const char *idp_id, const char *group_id);
/* Groups mapped to the role: fn(ctx, group_id, display_name) per group. */
enum status store_role_groups_each(struct store_tx *tx, const char *tenant_id, const char *role_id,
                                   store_group_of_fn fn, void *ctx);
/* The group of the tenant whose id is key, else the only one whose displayName
 * is key (case-insensitively): its connection and id.  ERR_NOT_FOUND;
 * ERR_UNIQUENESS when the displayName is held by several groups. */
enum status store_group_find_in_tenant(struct store_tx *tx, const char *tenant_id, const char *key,
                                       char idp_id[STORE_ID_LEN], char group_id[STORE_ID_LEN]);
/* Roles granted by the groups the user is a member of (any connection), in
 * name order; the caller decides whether the user is live. */
enum status store_user_roles_granted(struct store_tx *tx, const char *tenant_id,
                                     const char *user_id, store_role_fn fn, void *ctx);
/* The user's recorded roles (user_roles), in name order. */
enum status store_user_roles_each(struct store_tx *tx, const char *tenant_id, const char *user_id,
                                  store_role_fn fn, void *ctx);
/* Replace the user's recorded roles by role_ids[0..n). */
enum status store_user_roles_replace(struct store_tx *tx, const char *tenant_id,
                                     const char *user_id, const char *const *role_ids, size_t n);

/* ---- settings: small named values shared by every node on the database ------------ */
/* The value stored under name, copied into out (out_size bytes).  When there is
 * none, candidate is stored and returned: nodes racing on a fresh database all
 * end up with the first value written.  ERR_INVALID_VALUE when out is too small. */
enum status store_setting_claim(struct store_tx *tx, const char *name, const char *candidate,
                                char *out, size_t out_size);

/* ---- events (audit log and outbox) ---------------------------------------------------- */
struct store_event {
    int64_t seq; /* assigned on append */
    char id[STORE_ID_LEN];
    char at[STORE_TIME_LEN];
    const char *tenant_id;  /* NULL for events outside a tenant */
    const char *idp_id;     /* may be NULL */
    const char *type;       /* e.g. "scim_user_created" */
    const char *actor;      /* "token:<id>", "cli", "anonymous" */
    const char *subject_id; /* may be NULL */
    const char *summary;    /* compact JSON object text, may be NULL */
    const char *source;     /* client address, may be NULL */
};
/* Append e (its id, at and seq are filled in). */
enum status store_event_append(struct store_tx *tx, struct store_event *e);

struct store_event_query {
    const char *tenant_id; /* NULL: any */
    const char *idp_id;    /* NULL: any */
    const char *type;      /* NULL: any */
    int64_t after_seq;     /* only events with seq > after_seq */
    size_t limit;          /* the most recent `limit` (after after_seq), delivered oldest first */
};
typedef enum status (*store_event_fn)(void *ctx, const struct store_event *e);
enum status store_event_each(struct store_tx *tx, const struct store_event_query *q,
                             store_event_fn fn, void *ctx);

#endif
