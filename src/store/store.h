/* SPDX-License-Identifier: Apache-2.0 */
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

#define STORE_ID_LEN        CRYPTO_UUID_LEN
#define STORE_TIME_LEN      CLOCK_ISO_LEN
#define STORE_NAME_MAX      129 /* tenant, IdP and token names: 128 bytes + NUL */
#define STORE_VENDOR_MAX    16
#define STORE_PREFIX_LEN    16
#define STORE_STATUS_LEN    16
#define STORE_SOURCE_MAX    48   /* a client address as text (INET6_ADDRSTRLEN, with room) */
#define STORE_ALLOWLIST_MAX 1024 /* a connection's canonical CIDR list (CIDR_LIST_TEXT_MAX) */
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

/* ---- what the store has been doing (for /metrics) ----------------------------------- */
/* Histogram upper bounds: commit latency in seconds, group-commit batch sizes
 * in transactions (the last bucket, +Inf, is the total count). */
#define STORE_COMMIT_BUCKETS 12
#define STORE_BATCH_BUCKETS  8
extern const double store_commit_bucket_s[STORE_COMMIT_BUCKETS];
extern const unsigned store_batch_bucket_tx[STORE_BATCH_BUCKETS];
struct store_stats {
    const char *backend;                           /* "sqlite", "postgres" */
    uint64_t commit_buckets[STORE_COMMIT_BUCKETS]; /* per bucket, not cumulative */
    uint64_t commits;                              /* write transactions committed or failed */
    uint64_t commit_us;                            /* their store_commit time, summed */
    uint64_t batch_buckets[STORE_BATCH_BUCKETS];   /* SQLite group commits; none on PostgreSQL */
    uint64_t batches;
    uint64_t batched_tx;
    uint64_t pool_waits;   /* transactions that waited for a pooled connection */
    uint64_t pool_wait_us; /* and how long, summed */
    unsigned pool_size;    /* connections at most (SQLite: readers) */
    unsigned pool_open;    /* open now, idle or lent */
};
/* A snapshot of the counters; thread-safe and cheap (atomics, one short lock). */
void store_stats_read(struct store *store, struct store_stats *out);

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
/* Rename the connection (its name is the only column that changes).  Other
 * nodes' caches may serve the old name to store_idp_get; where a name is
 * shown, read it with store_idp_get_fresh.  ERR_NOT_FOUND. */
enum status store_idp_rename(struct store_tx *tx, const char *idp_id, const char *name);
/* store_idp_get past the cache: the row as the database holds it now. */
enum status store_idp_get_fresh(struct store_tx *tx, const char *id, struct store_idp *out);

/* What an operator may change on a connection, never cached: read with every
 * token (store_token_by_hash), so a change made on any node holds from the
 * next request on. */
struct store_idp_access {
    char disabled_at[STORE_TIME_LEN];    /* "" when enabled */
    char allowlist[STORE_ALLOWLIST_MAX]; /* canonical CIDR list, "" for any address */
};
/* ERR_NOT_FOUND when there is no such IdP. */
enum status store_idp_access_get(struct store_tx *tx, const char *idp_id,
                                 struct store_idp_access *out);
/* at: disable from then on; NULL: enable.  ERR_NOT_FOUND. */
enum status store_idp_set_disabled(struct store_tx *tx, const char *idp_id, const char *at);
/* list: canonical CIDR list; NULL: any address.  ERR_NOT_FOUND. */
enum status store_idp_set_allowlist(struct store_tx *tx, const char *idp_id, const char *list);

/* ---- tokens ----------------------------------------------------------------------- */
struct store_token {
    char tenant_id[STORE_ID_LEN];
    char id[STORE_ID_LEN];
    char idp_id[STORE_ID_LEN];
    char name[STORE_NAME_MAX];
    char prefix[STORE_PREFIX_LEN];
    char hash[CRYPTO_SHA256_HEX_LEN]; /* SHA-256 of the plaintext, hex */
    char created_at[STORE_TIME_LEN];
    char last_used_at[STORE_TIME_LEN];     /* "" when never used */
    char revoked_at[STORE_TIME_LEN];       /* "" when live */
    char expires_at[STORE_TIME_LEN];       /* "" when it never expires */
    char last_used_from[STORE_SOURCE_MAX]; /* address of the last recorded use, "" */
    /* Read only: the connection's access state, joined in by every token read. */
    struct store_idp_access idp_access;
};
enum status store_token_insert(struct store_tx *tx, const struct store_token *t);
enum status store_token_get(struct store_tx *tx, const char *id, struct store_token *out);
enum status store_token_by_hash(struct store_tx *tx, const char *hash, struct store_token *out);
enum status store_token_revoke(struct store_tx *tx, const char *id, const char *at);
/* Set last_used_at = at (and last_used_from = source, may be NULL) unless
 * last_used_at is already later. */
enum status store_token_touch(struct store_tx *tx, const char *id, const char *at);
enum status store_token_touch_from(struct store_tx *tx, const char *id, const char *at,
                                   const char *source);
/* Set expires_at (NULL: never).  ERR_NOT_FOUND. */
enum status store_token_set_expiry(struct store_tx *tx, const char *id, const char *expires_at);
typedef enum status (*store_token_fn)(void *ctx, const struct store_token *t);
enum status store_token_each(struct store_tx *tx, const char *idp_id, store_token_fn fn, void *ctx);
/* Live tokens with now < expires_at <= until, soonest first; only tenant_id,
 * id, idp_id, name and expires_at are filled (rec_metrics.c). */
enum status store_token_expiring_each(struct store_tx *tx, const char *now, const char *until,
                                      store_token_fn fn, void *ctx);

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
/* One page of an admin's user list, filtered and paged by the database. */
struct store_user_list {
    const char *tenant_id;
    const char *idp_id; /* users this connection holds a row for; NULL: any */
    const char *q;      /* substring of username, email or a name, case-insensitively; NULL: any */
    const char *status; /* NULL: any */
    /* keyset: only users after (after_created_at, after_id) in (created_at, id) order */
    const char *after_created_at; /* NULL: from the start */
    const char *after_id;
    size_t limit;
};
/* Users matching l in (created_at, id) order, at most l->limit. */
enum status store_user_list(struct store_tx *tx, const struct store_user_list *l, store_user_fn fn,
                            void *ctx);

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
/* Hard delete: the group, its member rows and its role mappings.  ERR_NOT_FOUND. */
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

/* ---- retention: erasing the personal data of deleted users (rec_purge.c) ------------- */
struct store_purge_target {
    char tenant_id[STORE_ID_LEN];
    char id[STORE_ID_LEN];
    char deleted_at[STORE_TIME_LEN]; /* the user's updated_at: when it was deleted */
};
typedef enum status (*store_purge_fn)(void *ctx, const struct store_purge_target *t);
/* Users of tenant_id (NULL: every tenant) whose status is "deleted" since
 * before `before` (updated_at < before) and of whom no connection holds a
 * live row, at most limit (0: all), in (tenant_id, id) order. */
enum status store_user_deleted_each(struct store_tx *tx, const char *tenant_id, const char *before,
                                    size_t limit, store_purge_fn fn, void *ctx);
/* What erasing removed, added up over calls. */
struct store_erased {
    int64_t users;
    int64_t idp_rows;    /* IdP user rows: documents, externalId, userName */
    int64_t emails;      /* their emails.value index entries */
    int64_t memberships; /* group member rows */
    int64_t fields;      /* derived custom field values and role assignments */
};
/* Erase a deleted user's personal data: its IdP rows with their email index,
 * its group memberships, its custom field values and roles, and the canonical user's personal
 * columns (username, email, names); the user keeps its id with status "erased" and updated_at = at.
 * ERR_NOT_FOUND when it is not a deleted user. */
enum status store_user_erase(struct store_tx *tx, const char *tenant_id, const char *user_id,
                             const char *at, struct store_erased *counts);

/* ---- mirroring, custom fields, tenant schemas, roles (rec_mirror.c) ---------------- */
#define STORE_FIELD_NAME_MAX 65 /* custom field names: 64 bytes + NUL */
#define STORE_FIELD_TYPE_MAX 16
#define STORE_SCIM_PATH_MAX  513 /* mirrored SCIM paths: 512 bytes + NUL */
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
/* Remove the field with its mirroring rules and every user's value of it.  ERR_NOT_FOUND. */
enum status store_field_delete(struct store_tx *tx, const char *tenant_id, const char *name);

struct store_mirror_rule {
    char tenant_id[STORE_ID_LEN];
    char idp_id[STORE_ID_LEN]; /* "" for the tenant-wide rule */
    char field[STORE_FIELD_NAME_MAX];
    char path[STORE_SCIM_PATH_MAX];
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
/* Unmap the group from the role.  ERR_NOT_FOUND when it was not mapped. */
enum status store_role_group_remove(struct store_tx *tx, const char *tenant_id, const char *role_id,
                                    const char *idp_id, const char *group_id);
/* Unmap every group from the role. */
enum status store_role_groups_clear(struct store_tx *tx, const char *tenant_id,
                                    const char *role_id);
/* Users recorded as holding the role (user_roles), in id order. */
enum status store_role_users_each(struct store_tx *tx, const char *tenant_id, const char *role_id,
                                  store_id_fn fn, void *ctx);
/* The role with its group mappings and recorded holders.  ERR_NOT_FOUND. */
enum status store_role_delete(struct store_tx *tx, const char *tenant_id, const char *role_id);
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

/* ---- administrators: accounts, sessions, API keys, sign-in throttle (rec_admins.c) ---- */
#define STORE_EMAIL_MAX  256 /* 255 bytes + NUL */
#define STORE_ROLE_LEN   16
#define STORE_PWHASH_MAX 128 /* libsodium crypto_pwhash_STRBYTES */
struct store_admin {
    char id[STORE_ID_LEN];
    char tenant_id[STORE_ID_LEN]; /* "" for a super admin */
    char email[STORE_EMAIL_MAX];
    char role[STORE_ROLE_LEN];              /* "super" | "admin" | "auditor" */
    char password_hash[STORE_PWHASH_MAX];   /* Argon2id string, "" until set */
    char setup_hash[CRYPTO_SHA256_HEX_LEN]; /* of the one-time setup link, "" when none */
    char setup_expires_at[STORE_TIME_LEN];
    char created_at[STORE_TIME_LEN];
};
/* ERR_UNIQUENESS when the email is taken (compared case-insensitively). */
enum status store_admin_insert(struct store_tx *tx, const struct store_admin *a);
enum status store_admin_get(struct store_tx *tx, const char *id, struct store_admin *out);
/* By email, case-insensitively; ERR_NOT_FOUND. */
enum status store_admin_by_email(struct store_tx *tx, const char *email, struct store_admin *out);
/* By the hash of a live setup link; ERR_NOT_FOUND. */
enum status store_admin_by_setup(struct store_tx *tx, const char *setup_hash,
                                 struct store_admin *out);
/* Set the password hash and clear the setup link; ERR_NOT_FOUND. */
enum status store_admin_set_password(struct store_tx *tx, const char *id, const char *hash);
/* Replace the account's setup link (hash and expiry); ERR_NOT_FOUND. */
enum status store_admin_set_setup(struct store_tx *tx, const char *id, const char *setup_hash,
                                  const char *expires_at);
typedef enum status (*store_admin_fn)(void *ctx, const struct store_admin *a);
/* tenant_id NULL: every admin; in creation order. */
enum status store_admin_each(struct store_tx *tx, const char *tenant_id, store_admin_fn fn,
                             void *ctx);

struct store_admin_session {
    char id_hash[CRYPTO_SHA256_HEX_LEN]; /* SHA-256 of the cookie value */
    char admin_id[STORE_ID_LEN];
    char csrf_hash[CRYPTO_SHA256_HEX_LEN];
    char source[64];
    char created_at[STORE_TIME_LEN];
    char last_seen_at[STORE_TIME_LEN];
    char expires_at[STORE_TIME_LEN]; /* absolute end */
    char ended_at[STORE_TIME_LEN];   /* "" while live */
};
enum status store_admin_session_insert(struct store_tx *tx, const struct store_admin_session *s);
enum status store_admin_session_get(struct store_tx *tx, const char *id_hash,
                                    struct store_admin_session *out);
/* last_seen_at = at (never backwards); ERR_NOT_FOUND when no such session. */
enum status store_admin_session_touch(struct store_tx *tx, const char *id_hash, const char *at);
/* ended_at = at unless already ended; ERR_NOT_FOUND when no live session. */
enum status store_admin_session_end(struct store_tx *tx, const char *id_hash, const char *at);
/* End every live session of the admin (none is fine). */
enum status store_admin_sessions_end_all(struct store_tx *tx, const char *admin_id, const char *at);

struct store_admin_key {
    char id[STORE_ID_LEN];
    char admin_id[STORE_ID_LEN];
    char name[STORE_NAME_MAX];
    char prefix[STORE_PREFIX_LEN];
    char hash[CRYPTO_SHA256_HEX_LEN];
    char created_at[STORE_TIME_LEN];
    char last_used_at[STORE_TIME_LEN]; /* "" when never used */
    char revoked_at[STORE_TIME_LEN];   /* "" when live */
};
enum status store_admin_key_insert(struct store_tx *tx, const struct store_admin_key *k);
enum status store_admin_key_by_hash(struct store_tx *tx, const char *hash,
                                    struct store_admin_key *out);
/* last_used_at = at (never backwards); ERR_NOT_FOUND. */
enum status store_admin_key_touch(struct store_tx *tx, const char *id, const char *at);

struct store_throttle {
    int64_t failures;
    char window_start[STORE_TIME_LEN];
    char locked_until[STORE_TIME_LEN]; /* "" when not locked */
};
/* ERR_NOT_FOUND when key has no failures on record. */
enum status store_throttle_get(struct store_tx *tx, const char *key, struct store_throttle *out);
/* Insert or replace the record of key. */
enum status store_throttle_put(struct store_tx *tx, const char *key,
                               const struct store_throttle *t);
enum status store_throttle_clear(struct store_tx *tx, const char *key);

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
    const char *request_id; /* X-Request-Id of the HTTP request that wrote it, may be NULL */
};
/* Append e (its id, at and seq are filled in). */
enum status store_event_append(struct store_tx *tx, struct store_event *e);

struct store_event_query {
    const char *tenant_id;  /* NULL: any */
    const char *idp_id;     /* NULL: any */
    const char *type;       /* NULL: any */
    int64_t after_seq;      /* only events with seq > after_seq */
    size_t limit;           /* the most recent `limit` (after after_seq), delivered oldest first */
    const char *subject_id; /* NULL: any */
    int64_t before_seq;     /* 0: no bound; else only events with seq < before_seq */
    const char *actor;      /* NULL: any; e.g. "app:<id>" for one app's fan-out steps */
    const char *since;      /* NULL: any; else only events at or after (as clock_now_iso writes) */
    const char *until;      /* NULL: any; else only events before */
    bool oldest_first;      /* the feed: the first `limit` after after_seq, not the most recent */
    const char *request_id; /* NULL: any; else only events of the request with this X-Request-Id */
};
typedef enum status (*store_event_fn)(void *ctx, const struct store_event *e);
/* Filters become SQL, so each shape can use its index. */
enum status store_event_each(struct store_tx *tx, const struct store_event_query *q,
                             store_event_fn fn, void *ctx);

/* ---- downstream apps, grants, links, fan-out jobs (rec_apps.c) ------------------------- */
#define STORE_URL_MAX       1024 /* an app's SCIM base URL */
#define STORE_PATH_MAX      1024 /* an app's CA file */
#define STORE_REMOTE_ID_MAX 256  /* a remote (downstream) resource id */
#define STORE_ERROR_MAX     512  /* last error text kept on an app or a job */
struct store_app {
    char tenant_id[STORE_ID_LEN];
    char id[STORE_ID_LEN];
    char name[STORE_NAME_MAX];
    char scim_url[STORE_URL_MAX];
    char auth[STORE_STATUS_LEN]; /* "bearer" | "basic" */
    char basic_user[STORE_NAME_MAX];
    char *credential; /* heap: sealed by core/secretbox, never plaintext */
    char ca_file[STORE_PATH_MAX];
    char deprovision[STORE_STATUS_LEN]; /* "deactivate" | "delete" */
    bool push_groups;
    bool put_only;
    char state[STORE_STATUS_LEN];         /* "enabled" | "disabled" */
    char paused_until[STORE_TIME_LEN];    /* "" when not paused */
    char last_success_at[STORE_TIME_LEN]; /* "" when never */
    char last_error[STORE_ERROR_MAX];     /* "" when none */
    int64_t position; /* durable event-log position (events up to it are jobs) */
    char created_at[STORE_TIME_LEN];
    char updated_at[STORE_TIME_LEN];
    int64_t concurrency; /* requests in flight at once (1..STORE_APP_CONCURRENCY_MAX) */
    char pause_reason[STORE_ERROR_MAX]; /* why paused_until is set, or "" */
    int64_t quarantine_probes;          /* 0: healthy; n: quarantined, n probes so far */
};
#define STORE_APP_CONCURRENCY_DEFAULT 4
#define STORE_APP_CONCURRENCY_MAX     32
void store_app_release(struct store_app *a);
/* ERR_UNIQUENESS when the tenant has an app of that name. */
enum status store_app_insert(struct store_tx *tx, const struct store_app *a);
/* By id (tenant_id NULL: any tenant). */
enum status store_app_get(struct store_tx *tx, const char *tenant_id, const char *id,
                          struct store_app *out);
typedef enum status (*store_app_fn)(void *ctx, const struct store_app *a);
/* tenant_id NULL: every app. */
enum status store_app_each(struct store_tx *tx, const char *tenant_id, store_app_fn fn, void *ctx);
/* Admin changes: write state, paused_until, pause_reason, quarantine_probes
 * and updated_at. */
enum status store_app_update(struct store_tx *tx, const struct store_app *a);
/* The engine's bookkeeping: write paused_until, last_success_at, last_error,
 * position, pause_reason and quarantine_probes (never state, so an admin's
 * disable is not undone) -- only while the app's updated_at is still a's: an
 * admin's change since the engine read the app (an enable that ended a
 * quarantine) wins, and the engine reads the app again on its next pass. */
enum status store_app_progress(struct store_tx *tx, const struct store_app *a);
/* The app and its grants, links and jobs; ERR_NOT_FOUND. */
enum status store_app_delete(struct store_tx *tx, const char *tenant_id, const char *id);
/* The events horizon: every event with seq <= *out has committed or never
 * will, as any transaction begun after this one ended sees it.  Run it as the
 * only statement of a read transaction of its own, then read the events in a
 * new one.  SQLite (one writer, commits in seq order): INT64_MAX.
 * PostgreSQL: the seq below the oldest seq still held by a transaction in
 * flight (migration 095 tracks them), else the highest seq taken. */
enum status store_event_horizon(struct store_tx *tx, int64_t *out);
/* The highest event seq so far (0 for none). */
enum status store_event_last_seq(struct store_tx *tx, int64_t *out);

/* Events of a tenant with after_seq < seq <= upto_seq that can change who an
 * app reaches (users, groups, grants), oldest first, at most limit. */
enum status store_app_events_each(struct store_tx *tx, const char *tenant_id, int64_t after_seq,
                                  int64_t upto_seq, size_t limit, store_event_fn fn, void *ctx);

/* Grants: kind "group" (subject a group id, idp_id its connection) or "user". */
struct store_app_grant {
    char tenant_id[STORE_ID_LEN];
    char app_id[STORE_ID_LEN];
    char kind[STORE_STATUS_LEN];
    char idp_id[STORE_ID_LEN]; /* groups only, "" for users */
    char subject_id[STORE_ID_LEN];
    char created_at[STORE_TIME_LEN];
};
/* ERR_UNIQUENESS when granted already. */
enum status store_app_grant_insert(struct store_tx *tx, const struct store_app_grant *g);
/* ERR_NOT_FOUND when there was none; *out (may be NULL) gets the removed row. */
enum status store_app_grant_delete(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                   const char *kind, const char *subject_id,
                                   struct store_app_grant *out);
/* ERR_NOT_FOUND. */
enum status store_app_grant_get(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                const char *kind, const char *subject_id,
                                struct store_app_grant *out);
typedef enum status (*store_app_grant_fn)(void *ctx, const struct store_app_grant *g);
enum status store_app_grant_each(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                 store_app_grant_fn fn, void *ctx);
/* Is user_id directly granted, or a member of a group granted, to the app? */
enum status store_app_user_granted(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                   const char *user_id, bool *out);
/* Tenant and connection of the group with this id; ERR_NOT_FOUND. */
enum status store_group_locate(struct store_tx *tx, const char *group_id,
                               char tenant_id[STORE_ID_LEN], char idp_id[STORE_ID_LEN]);

/* Links: (app, user) -> remote account, and the payload last sent. */
struct store_app_link {
    char tenant_id[STORE_ID_LEN];
    char app_id[STORE_ID_LEN];
    char user_id[STORE_ID_LEN];
    char remote_id[STORE_REMOTE_ID_MAX];
    char *sent; /* heap: JSON last sent, "{}" when only linked */
    char hash[CRYPTO_SHA256_HEX_LEN];
    bool active; /* what the remote account was last set to */
    char created_at[STORE_TIME_LEN];
    char updated_at[STORE_TIME_LEN];
};
void store_app_link_release(struct store_app_link *l);
enum status store_app_link_get(struct store_tx *tx, const char *tenant_id, const char *app_id,
                               const char *user_id, struct store_app_link *out);
/* The link of the app's remote account remote_id (one user at most). */
enum status store_app_link_of_remote(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                     const char *remote_id, struct store_app_link *out);
/* Insert or replace; ERR_UNIQUENESS when another user holds remote_id. */
enum status store_app_link_put(struct store_tx *tx, const struct store_app_link *l);
enum status store_app_link_delete(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                  const char *user_id);
/* Forget whether every link's remote account still holds what was sent (hash
 * ""): the next job of each user reads the remote account first.  A
 * reconciliation does this, so drift made downstream by hand is found. */
enum status store_app_links_unverify(struct store_tx *tx, const char *tenant_id,
                                     const char *app_id);
/* User ids of every link of the app. */
enum status store_app_link_users(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                 store_id_fn fn, void *ctx);

/* Jobs: one row per (app, user) with work pending, or per (app, group) for an
 * app that pushes groups (kind "group": user_id holds the group id). */
struct store_app_job {
    char tenant_id[STORE_ID_LEN];
    char app_id[STORE_ID_LEN];
    char user_id[STORE_ID_LEN];
    char kind[STORE_STATUS_LEN]; /* "user" | "group" */
    int64_t gen;
    int64_t attempts;
    char next_at[STORE_TIME_LEN];
    char last_error[STORE_ERROR_MAX];
    bool dead;
};
/* The pending (or dead) job of a user in the app; ERR_NOT_FOUND when none. */
enum status store_app_job_get(struct store_tx *tx, const char *tenant_id, const char *app_id,
                              const char *user_id, struct store_app_job *out);
/* Add the job due at now, or make a pending one due at now (attempts and dead reset). */
enum status store_app_job_enqueue(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                  const char *user_id, const char *now);
/* The same for a group job (kind "group"), due at next_at. */
enum status store_app_group_job_enqueue(struct store_tx *tx, const char *tenant_id,
                                        const char *app_id, const char *group_id,
                                        const char *next_at);
typedef enum status (*store_app_job_fn)(void *ctx, const struct store_app_job *j);
/* Jobs of the app that failed at least once: dead letters first, then by next try. */
enum status store_app_job_failing_each(struct store_tx *tx, const char *tenant_id,
                                       const char *app_id, size_t limit, store_app_job_fn fn,
                                       void *ctx);
/* Live jobs due at or before now, oldest first, at most limit. */
enum status store_app_job_due_each(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                   const char *now, size_t limit, store_app_job_fn fn, void *ctx);
/* Delete the job if its gen is still j->gen (no newer change came in). */
enum status store_app_job_done(struct store_tx *tx, const struct store_app_job *j);
/* Write attempts, next_at, last_error and dead of j (if its gen is still j->gen). */
enum status store_app_job_update(struct store_tx *tx, const struct store_app_job *j);
/* Make dead jobs (of user_id, or all when NULL) due again at now with no attempts. */
enum status store_app_job_retry(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                const char *user_id, const char *now, int64_t *n_out);
struct store_app_counts {
    int64_t linked, pending, failing, dead; /* jobs: of users and of pushed groups */
    int64_t groups;                         /* groups linked to a remote group */
};
enum status store_app_counts_get(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                 struct store_app_counts *out);

/* ---- groups pushed to apps (rec_app_groups.c) ---------------------------------------- */
/* The link of (app, group) to the remote group, and the displayName last sent. */
struct store_app_group_link {
    char tenant_id[STORE_ID_LEN];
    char app_id[STORE_ID_LEN];
    char group_id[STORE_ID_LEN];
    char remote_id[STORE_REMOTE_ID_MAX];
    char *display_name; /* heap */
    char created_at[STORE_TIME_LEN];
    char updated_at[STORE_TIME_LEN];
};
void store_app_group_link_release(struct store_app_group_link *l);
/* ERR_NOT_FOUND. */
enum status store_app_group_link_get(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                     const char *group_id, struct store_app_group_link *out);
/* Insert or replace. */
enum status store_app_group_link_put(struct store_tx *tx, const struct store_app_group_link *l);
/* The link and its member rows (none: OK). */
enum status store_app_group_link_delete(struct store_tx *tx, const char *tenant_id,
                                        const char *app_id, const char *group_id);
/* A member scimd put in a pushed group: the user, the remote id it was added
 * under, and whether the user's account in the app is still that one. */
struct store_app_group_member {
    const char *user_id;
    const char *remote_id;
    bool account_exists;
};
typedef enum status (*store_app_group_member_fn)(void *ctx, const struct store_app_group_member *m);
/* Members scimd put in the remote group, in user_id order. */
enum status store_app_group_pushed_each(struct store_tx *tx, const char *tenant_id,
                                        const char *app_id, const char *group_id,
                                        store_app_group_member_fn fn, void *ctx);
/* Members the remote group should have: members of group (tenant, idp_id,
 * group_id) whose account in the app is linked and active, in user_id order
 * (account_exists true). */
enum status store_app_group_wanted_each(struct store_tx *tx, const char *tenant_id,
                                        const char *app_id, const char *idp_id,
                                        const char *group_id, store_app_group_member_fn fn,
                                        void *ctx);
/* Record members added (user_ids[i] under remote_ids[i]; present ones replaced). */
enum status store_app_group_pushed_add(struct store_tx *tx, const char *tenant_id,
                                       const char *app_id, const char *group_id,
                                       const char *const *user_ids, const char *const *remote_ids,
                                       size_t n);
/* Forget members (removed, or whose account is gone). */
enum status store_app_group_pushed_remove(struct store_tx *tx, const char *tenant_id,
                                          const char *app_id, const char *group_id,
                                          const char *const *user_ids, size_t n);
/* Groups to push again when user_id's account in the app changed: granted
 * groups the user is a member of, and pushed groups scimd put the user in. */
enum status store_app_groups_of_user_each(struct store_tx *tx, const char *tenant_id,
                                          const char *app_id, const char *user_id, store_id_fn fn,
                                          void *ctx);
/* Is the group pushed to the app (a link exists)? */
enum status store_app_group_linked(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                   const char *group_id, bool *out);

/* ---- app leases: which node works an app (rec_leases.c) -------------------------------- */
#define STORE_NODE_MAX 96 /* a node id: host, pid and randomness */
struct store_app_lease {
    char tenant_id[STORE_ID_LEN];
    char app_id[STORE_ID_LEN];
    char node[STORE_NODE_MAX];
    char acquired_at[STORE_TIME_LEN];
    char expires_at[STORE_TIME_LEN];
};
/* Take the app's lease for node until expires_at, or renew it when node holds
 * it: OK.  ERR_CONFLICT when another node holds it and it has not expired by
 * now.  acquired_at is kept on renewal. */
enum status store_app_lease_take(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                 const char *node, const char *now, const char *expires_at);
/* The lease row (held or expired); ERR_NOT_FOUND when no node took it yet. */
enum status store_app_lease_get(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                struct store_app_lease *out);
/* Give up every lease node holds (app_id NULL) or the one of the app. */
enum status store_app_lease_release(struct store_tx *tx, const char *node, const char *tenant_id,
                                    const char *app_id);

/* Every app's fan-out queue, for /metrics (rec_metrics.c). */
struct store_app_queue {
    char tenant_id[STORE_ID_LEN];
    char app_id[STORE_ID_LEN];
    char name[STORE_NAME_MAX];
    char state[STORE_STATUS_LEN];
    char last_success_at[STORE_TIME_LEN];   /* "" when never */
    char oldest_pending_at[STORE_TIME_LEN]; /* when the oldest pending job was queued, "" */
    int64_t pending;                        /* jobs not dead (due or waiting to retry) */
    int64_t retrying;                       /* of those, jobs that failed at least once */
    int64_t dead;                           /* dead letters */
};
typedef enum status (*store_app_queue_fn)(void *ctx, const struct store_app_queue *q);
/* Apps of every tenant, by tenant and id. */
enum status store_app_queue_each(struct store_tx *tx, store_app_queue_fn fn, void *ctx);

/* ---- re-derive jobs: a tenant's users re-derived after a mirroring change ------------ */
#define STORE_REDERIVE_RUNNING    "running"
#define STORE_REDERIVE_DONE       "done"
#define STORE_REDERIVE_SUPERSEDED "superseded"
struct store_rederive_job {
    char tenant_id[STORE_ID_LEN];
    char id[STORE_ID_LEN];
    int64_t seq; /* the tenant's jobs in start order */
    char state[STORE_STATUS_LEN];
    int64_t total;                 /* users of the tenant when it started (or done, if more) */
    int64_t done;                  /* users re-derived so far */
    int64_t changed;               /* of those, whose canonical fields changed */
    char after_id[STORE_ID_LEN];   /* the durable cursor: last user id done; "" from the start */
    char actor[STORE_NAME_MAX];    /* who changed the mapping */
    char source[STORE_SOURCE_MAX]; /* from where ("" unknown) */
    char owner[STORE_ID_LEN];      /* the worker holding the lease; "" none */
    char lease_until[STORE_TIME_LEN];
    char started_at[STORE_TIME_LEN];
    char finished_at[STORE_TIME_LEN]; /* "" while running */
    int64_t failed;   /* users skipped after failing every attempt (counted in done) */
    int64_t attempts; /* failures so far of the user after the cursor; 0 once it passes */
};
/* Supersede the tenant's running jobs (finished at j->started_at) and insert j
 * as running from the start: seq, total (the tenant's users) and the cursor
 * are set here and written back into j.  Lock the tenant's jobs first
 * (store_lock) when several writers may start one at once. */
enum status store_rederive_job_start(struct store_tx *tx, struct store_rederive_job *j);
/* The job (tenant_id, id), or with id NULL the tenant's newest; ERR_NOT_FOUND. */
enum status store_rederive_job_get(struct store_tx *tx, const char *tenant_id, const char *id,
                                   struct store_rederive_job *out);
/* The oldest running job (of any tenant) whose lease is free at now or held by
 * owner; ERR_NOT_FOUND when none. */
enum status store_rederive_job_next(struct store_tx *tx, const char *owner, const char *now,
                                    struct store_rederive_job *out);
/* Take or extend the lease of running job (tenant_id, id) for owner until
 * lease_until when it is free at now or owner's; ERR_NOT_FOUND when the job is
 * no longer running or another owner's lease holds. */
enum status store_rederive_job_claim(struct store_tx *tx, const char *tenant_id, const char *id,
                                     const char *owner, const char *now, const char *lease_until);
/* Write j's progress: state, total, done, changed, failed, attempts, cursor,
 * finished_at, lease. */
enum status store_rederive_job_update(struct store_tx *tx, const struct store_rederive_job *j);
/* The ids of at most limit users of the tenant after after_id ("" : from the
 * start), in id order. */
enum status store_user_ids_after(struct store_tx *tx, const char *tenant_id, const char *after_id,
                                 size_t limit, store_id_fn fn, void *ctx);

#endif
