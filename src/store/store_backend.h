/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_backend.h - what a storage backend provides: one table of functions
 * for transactions and statements (stmt.h).  The record operations of
 * store.h are written once, over statements, in the rec_*.c files.
 *
 * Every backend's struct store, struct store_tx and struct stmt begin with a
 * struct store_head (inside store_common, store_tx_common, stmt_common), so
 * store.c and stmt.c can dispatch a call without knowing the backend.  Only src/store/ includes
 * this file.
 */
#ifndef SCIMD_STORE_BACKEND_H
#define SCIMD_STORE_BACKEND_H

#include "store/sqlgen.h"
#include "store/stmt.h"
#include "store/store.h"

struct store_ops;

struct store_head {
    const struct store_ops *ops;
};

/* A pooled connection: every backend's struct conn begins with one. */
struct store_pool_conn {
    struct store_pool_conn *next; /* idle list */
};

/* The connections of a backend: at most size open, idle ones kept for reuse.
 * The backend opens, checks and closes them; the pool counts and lends them
 * (its fields are under mu; cv, on CLOCK_MONOTONIC, says a slot came free). */
struct store_pool {
    unsigned size;
    unsigned n_conns; /* open: idle or lent */
    struct store_pool_conn *idle;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};
void store_pool_init(struct store_pool *p, unsigned size);
/* Close every idle connection with close_conn, then destroy p. */
void store_pool_release(struct store_pool *p, void (*close_conn)(struct store_pool_conn *c));
/* Give c back: idle for reuse, or (closed by the caller) its slot free. */
void store_pool_put(struct store_pool *p, struct store_pool_conn *c, bool reuse);
/* A slot taken for a connection that did not open is free again. */
void store_pool_slot_free(struct store_pool *p);
/* A new transaction of a backend (size bytes, zeroed, its common part set); NULL on OOM. */
void *store_tx_new(size_t size, const struct store_ops *ops, struct store *s, bool write);

/* The counters behind store_stats_read: relaxed atomics, so counting costs a
 * request no lock (a scrape may see one counter a step ahead of another). */
struct store_counters {
    _Atomic uint64_t commit_buckets[STORE_COMMIT_BUCKETS];
    _Atomic uint64_t commits, commit_us;
    _Atomic uint64_t batch_buckets[STORE_BATCH_BUCKETS];
    _Atomic uint64_t batches, batched_tx;
    _Atomic uint64_t pool_waits, pool_wait_us;
};
/* A group commit of n transactions (SQLite's writer). */
void store_count_batch(struct store_counters *c, unsigned n);
/* A transaction waited wait_us for a pooled connection. */
void store_count_pool_wait(struct store_counters *c, int64_t wait_us);
/* Monotonic microseconds, for the counters above. */
int64_t store_mono_us(void);

/* What every backend's struct store begins with. */
struct store_common {
    struct store_head head;
    struct rec_idp_cache idps;
    struct store_counters counters; /* zeroed with the store */
    struct store_pool *pool;        /* for store_stats_read, NULL when none */
};

/* What every backend's struct store_tx begins with. */
struct store_tx_common {
    struct store_head head;
    struct store *store;
    bool write;
    struct rec_memo memo;
};

/* What every backend's struct stmt begins with. */
struct stmt_common {
    struct store_head head;
    struct store_tx *tx;
};

/* Transactions do what the store.h function named store_<member> does;
 * statements what the stmt.h function named stmt_<member> does. */
struct store_ops {
    const char *name; /* "sqlite", "postgres" */
    enum stmt_dialect dialect;
    const struct sqlgen_dialect *sqlgen;
    void (*close)(struct store *store);
    enum status (*begin)(struct store *store, bool write, struct store_tx **out);
    enum status (*lock)(struct store_tx *tx, const char *key);
    enum status (*commit)(struct store_tx *tx);
    void (*rollback)(struct store_tx *tx);
    /* fixed: sql is a constant with ?/?N placeholders, worth keeping prepared;
     * else sqlgen's text, already in the backend's syntax */
    enum status (*prepare)(struct store_tx *tx, const char *sql, bool fixed, unsigned flags,
                           const char *what, struct stmt **out);
    void (*bind_text)(struct stmt *st, const char *value);
    void (*bind_int)(struct stmt *st, int64_t value);
    enum status (*run_together)(struct stmt *a, struct stmt *b); /* NULL: not needed */
    enum status (*step)(struct stmt *st);
    enum status (*exec)(struct stmt *st);
    int64_t (*changes)(const struct stmt *st);
    const char *(*col_text)(struct stmt *st, int col);
    int64_t (*col_int)(struct stmt *st, int col);
    void (*finish)(struct stmt *st);
};

enum status sqlite_store_open(const char *url, unsigned pool_size, struct store **out,
                              struct scim_error *err);
enum status postgres_store_open(const char *url, unsigned pool_size, struct store **out,
                                struct scim_error *err);
/* For tests: the round trips a PostgreSQL store has waited for (a ROLLBACK
 * sent without waiting is not one; its answer rides on the next). */
uint64_t postgres_store_round_trips(struct store *s);

#endif
