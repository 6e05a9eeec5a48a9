/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stmt.h - the statement interface every store backend provides, and the
 * record helpers the record files (rec_*.c) are written with.
 *
 * A record operation is written once, against this interface: SQL with `?`
 * or `?N` placeholders (SQLite's syntax; PostgreSQL's backend rewrites them
 * to $N), parameters bound in order, rows stepped and read by column.  The
 * backends (sqlite.c, postgres.c) keep only what really differs: connections,
 * pools, transactions, caches of prepared statements, error mapping.
 *
 * Where the two SQL dialects differ, it is said here, once (the STMT_*
 * fragments below); everything else (ON CONFLICT DO NOTHING, RETURNING,
 * CAST, the *_lc columns for case-insensitive comparison) is the same text.
 *
 * A struct stmt belongs to the thread of its transaction, from stmt_prepare
 * to stmt_finish.  While a statement's rows are being read the transaction
 * may run other statements (callbacks may re-enter the store).  Values bound
 * are borrowed until the statement has run (its first stmt_step/stmt_exec).
 */
#ifndef SCIMD_STORE_STMT_H
#define SCIMD_STORE_STMT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/sqlgen.h"
#include "store/store.h"

struct stmt;

/* ---- dialects ----------------------------------------------------------------------- */

enum stmt_dialect { STMT_SQLITE, STMT_POSTGRES, STMT_DIALECTS };

/* clang-format off */
/* A list of ids passed as one parameter p, a JSON array of strings: a FROM item
 * named ids with columns value (the id) and key (its order). */
#define STMT_SQLITE_IDS(p)   "json_each(" p ") AS ids"
#define STMT_POSTGRES_IDS(p) "json_array_elements_text(CAST(" p " AS json)) WITH ORDINALITY AS ids (value, key)"
/* A condition true when text column c holds bytes beyond ASCII. */
#define STMT_SQLITE_NON_ASCII(c)   "length(CAST(" c " AS BLOB)) <> length(" c ")"
#define STMT_POSTGRES_NON_ASCII(c) "octet_length(" c ") <> char_length(" c ")"
/* The tenant_id of an event outside a tenant (PostgreSQL's key starts with it). */
#define STMT_SQLITE_NO_TENANT   NULL
#define STMT_POSTGRES_NO_TENANT ""
/* clang-format on */

/* The fragment F of dialect D, e.g. STMT_FRAGMENT(D, IDS)("?4"). */
#define STMT_FRAGMENT(D, F) D##_##F
/* A statement written once as a macro S(D) over a dialect D: its text in every
 * dialect, indexed by enum stmt_dialect; pick with stmt_sql. */
#define STMT_PER_DIALECT(S)                                                                        \
    {                                                                                              \
        S(STMT_SQLITE), S(STMT_POSTGRES)                                                           \
    }

enum stmt_dialect stmt_dialect_of(const struct store_tx *tx);
const struct sqlgen_dialect *stmt_sqlgen_dialect(const struct store_tx *tx);
/* The text of a STMT_PER_DIALECT statement for tx's backend. */
const char *stmt_sql(const struct store_tx *tx, const char *const per_dialect[STMT_DIALECTS]);

/* ---- statements --------------------------------------------------------------------- */

#define STMT_SCAN      1u  /* rows the caller does not bound: streamed a batch at a time */
#define STMT_SCAN_ROWS 500 /* rows per batch of a streamed scan; larger pages are scans */

/* A statement for fixed SQL (`?`/`?N` placeholders), prepared once per
 * connection.  what names it in log lines.  On failure *out is NULL. */
enum status stmt_prepare(struct store_tx *tx, const char *sql, unsigned flags, const char *what,
                         struct stmt **out);
/* A statement built by sqlgen for tx's dialect, its parameters bound. */
enum status stmt_prepare_gen(struct store_tx *tx, const struct sqlgen *g, unsigned flags,
                             const char *what, struct stmt **out);
/* Bind the next parameter: text (NULL binds NULL), "" binds NULL too with
 * stmt_opt (an unset inline field), an integer. */
void stmt_text(struct stmt *st, const char *value);
void stmt_opt(struct stmt *st, const char *value);
void stmt_int(struct stmt *st, int64_t value);
/* Run the statement (first call) or move to its next row: OK at a row,
 * ERR_NOT_FOUND past the last one, another status on failure. */
enum status stmt_step(struct stmt *st);
/* Run a and then b in one round trip to the database where the backend can
 * (both unrun; a failure of a is a's and fails b): their rows are then read as
 * usual.  Without it each runs on its first step. */
enum status stmt_run_together(struct stmt *a, struct stmt *b);
/* Run a statement whose rows (if any) are not wanted. */
enum status stmt_exec(struct stmt *st);
/* Rows the statement inserted, updated or deleted (after stmt_exec). */
int64_t stmt_changes(const struct stmt *st);
/* Columns of the current row: text (NULL for SQL NULL) valid until the next
 * step, an integer (NULL reads as 0). */
const char *stmt_col_text(struct stmt *st, int col);
int64_t stmt_col_int(struct stmt *st, int col);
/* Done with st; NULL is a no-op. */
void stmt_finish(struct stmt *st);

/* ---- record helpers (stmt.c) -------------------------------------------------------- */

/* Copy a column into an inline field; NULL becomes "". */
void rec_col_copy(struct stmt *st, int col, char *dst, size_t n);
/* Heap copy of a column; NULL stays NULL.  False on allocation failure. */
bool rec_col_dup(struct stmt *st, int col, char **dst);
/* Borrowed column text (for rows handed to callbacks), NULL for NULL. */
char *rec_col_view(struct stmt *st, int col);

/* Finish st after running it: OK, or for an insert (ON CONFLICT DO NOTHING)
 * ERR_UNIQUENESS when no row was inserted, for an update or delete by key
 * ERR_NOT_FOUND when no row changed. */
enum status rec_done(struct stmt *st);
enum status rec_done_insert(struct stmt *st);
enum status rec_done_one(struct stmt *st);

/* fn is the caller's typed callback, passed through as a generic function pointer. */
typedef void (*rec_any_fn)(void);
typedef enum status (*rec_read_fn)(struct stmt *st, void *out);
typedef enum status (*rec_row_fn)(struct stmt *st, rec_any_fn fn, void *ctx);

/* Run sql with text parameters (NULL binds NULL) and no rows wanted. */
enum status rec_exec(struct store_tx *tx, const char *sql, const char *const *texts, size_t n,
                     const char *what);
/* Delete a record: sqls[0..n_sqls-1) remove its dependent rows, the last one
 * the record itself (ERR_NOT_FOUND when there was none); the same text keys
 * for each. */
enum status rec_delete_with(struct store_tx *tx, const char *const *sqls, size_t n_sqls,
                            const char *const *keys, size_t n_keys, const char *what);
/* The same for an INSERT ... ON CONFLICT DO NOTHING: ERR_UNIQUENESS when taken. */
enum status rec_insert(struct store_tx *tx, const char *sql, const char *const *texts, size_t n,
                       const char *what);
/* The first row of sql with text keys, handed to read; ERR_NOT_FOUND. */
enum status rec_find(struct store_tx *tx, const char *sql, const char *const *keys, size_t n,
                     rec_read_fn read, void *out, const char *what);
/* Every row of sql with text keys, to each(row, fn, ctx) until it fails. */
enum status rec_each(struct store_tx *tx, const char *sql, const char *const *keys, size_t n,
                     unsigned flags, rec_row_fn each, rec_any_fn fn, void *ctx, const char *what);
/* Records a caller may scope to one tenant (tenant_id NULL: every tenant's):
 * one query with "tenant_id = ?" as its first key (sql_in) and one without
 * (sql_any), so that each list and get by id is not written twice. */
/* rec_find of record id: on sql_in with (tenant_id, id), or on sql_any with (id). */
enum status rec_find_scoped(struct store_tx *tx, const char *sql_any, const char *sql_in,
                            const char *tenant_id, const char *id, rec_read_fn read, void *out,
                            const char *what);
/* rec_each: on sql_in with (tenant_id), or on sql_any without keys. */
enum status rec_each_scoped(struct store_tx *tx, const char *sql_any, const char *sql_in,
                            const char *tenant_id, rec_row_fn each, rec_any_fn fn, void *ctx,
                            const char *what);
/* Step st to the end, each(row, fn, ctx) for every row until it fails; finishes st. */
enum status rec_rows(struct stmt *st, rec_row_fn each, rec_any_fn fn, void *ctx);
/* Hand a row of SQLGEN_EVENT_COLUMNS to fn (a store_event_fn), its strings borrowed. */
enum status rec_event_row(struct stmt *st, rec_any_fn fn, void *ctx);

/* A search built by build (sqlgen_user_search, sqlgen_group_search): the count
 * when exact (unless skipped), then the rows; see store_idp_user_search. */
enum status rec_search(struct store_tx *tx, const struct store_search *q, sqlgen_search_fn build,
                       rec_row_fn each, rec_any_fn fn, void *ctx, struct store_search_result *res,
                       const char *what);

/* ---- what the record files remember (stmt.c, rec_tenants.c) ------------------------ */

/* The columns of struct store_idp never change once written (store.h has no
 * update or delete of them), so a store keeps those its read transactions saw
 * (committed, so true on every node) and store_idp_get answers from memory.
 * What does change (disabled_at, allowlist: struct store_idp_access) is never
 * cached: every token read joins it.  Whoever adds an update or delete of the
 * cached columns must drop this cache. */
#define REC_IDP_CACHE_SLOTS 1024 /* open addressing; filled to three quarters at most */
struct rec_idp_cache {
    pthread_mutex_t mu;
    struct store_idp *slots; /* REC_IDP_CACHE_SLOTS, allocated on first use; id "" is empty */
    size_t n;
};
void rec_idp_cache_init(struct rec_idp_cache *c);
void rec_idp_cache_release(struct rec_idp_cache *c);

/* Whether the IdP user row a read transaction read last is in a group of its
 * connection (its SQLGEN_IU_IN_GROUPS column): store_user_in_groups asks
 * about that row right after reading it, and within one snapshot the answer
 * cannot change. */
struct rec_memo {
    bool set;
    bool in_groups;
    char tenant_id[STORE_ID_LEN];
    char idp_id[STORE_ID_LEN];
    char user_id[STORE_ID_LEN];
};
/* Remember the in_groups of the row st is at (read transactions only). */
void rec_memo_in_groups(struct stmt *st, const char *tenant_id, const char *idp_id,
                        const char *user_id, bool in_groups);
/* True with *in_groups when tx remembers that row. */
bool rec_memo_lookup(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                     const char *user_id, bool *in_groups);
/* tx is a read transaction (its reads see one committed snapshot). */
bool rec_tx_reads_only(const struct store_tx *tx);
/* The IdP cache of tx's store. */
struct rec_idp_cache *rec_idp_cache_of(struct store_tx *tx);

/* Data migrations written in C, once for every backend (rec_migrations.c): each
 * backend runs those not yet recorded after its SQL migrations, each in a
 * write transaction, and records its name in schema_migrations. */
struct rec_migration {
    const char *name;
    enum status (*run)(struct store_tx *tx);
};
extern const struct rec_migration rec_migrations[];
extern const size_t rec_n_migrations;

/* t, or the current time written into now when t is NULL or "". */
const char *rec_time_or_now(const char *t, char now[STORE_TIME_LEN]);
/* A JSON array of the strings ids[0..n) (NULL: null), for a STMT_*_IDS
 * parameter; malloc'd, NULL on allocation failure. */
char *rec_ids_json(const char *const *ids, size_t n);

#endif
