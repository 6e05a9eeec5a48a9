/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sqlite.c - this file contains the SQLite backend of the store: the reader
 * pool, the writer and its group commit, checkpoints, migrations, the
 * per-connection prepared statement cache, and stmt.h's statements on
 * SQLite.  The records' SQL lives in rec_*.c, written once for every backend.
 *
 * Read transactions take a connection of the pool (created lazily up to
 * pool_size) and never wait for writers (WAL).  Every write transaction of
 * the process runs on one long-lived writer connection, which one
 * transaction owns at a time; the others queue for it in arrival order.
 * Writes are group-committed: the first owner opens a batch (BEGIN
 * IMMEDIATE); each transaction runs inside its own SAVEPOINT, so a failing
 * one rolls back alone, and releases its savepoint into the batch.  The batch
 * is committed (one fsync, synchronous=FULL) by the first owner to finish
 * while nobody is queued, or once it holds BATCH_MAX_TX transactions or is
 * BATCH_MAX_AGE_MS old; until then committed members wait, and every member
 * gets the batch's outcome: store_commit returns OK only once the change is
 * on disk.  A checkpointer thread copies the WAL back into the database off
 * the commit path.  Other processes (the CLI) are absorbed by the busy
 * timeout, and by bounded retries where SQLite answers BUSY without waiting
 * (switching a new file to WAL).  Statements are prepared once per connection and reset after
 * use.  SQLite result codes are turned into statuses here and nowhere else.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store.h"

#include "core/log.h"
#include "store/sqlgen.h"
#include "store/store_backend.h"

#include "core/str.h"

struct migration {
    const char *name;
    const char *sql;
};
#include "migrations_sqlite.h"

#define STORE_BUSY_TIMEOUT_MS 10000
#define BUSY_RETRY_MAX_MS     32    /* longest pause between retries of a non-waiting BUSY */
#define STORE_POOL_DEFAULT    4     /* when store_open is given pool_size 0 */
#define STMT_CACHE_MAX        64    /* prepared statements kept per connection */
#define BATCH_MAX_TX          128   /* write transactions per group commit */
#define BATCH_MAX_AGE_MS      3     /* a batch older than this commits at its next chance */
#define WRITER_CACHE_KIB      16384 /* page cache of the writer connection */
#define WAL_CHECKPOINT_FRAMES 1000  /* the checkpointer runs each time the WAL grew this much */
#define WAL_MAX_FRAMES        8000  /* past this the writer checkpoints itself: the WAL restarts */

/* ---- types -------------------------------------------------------------------------- */

struct cached_stmt {
    char *sql;
    uint64_t hash;
    sqlite3_stmt *st;
    uint64_t last_use;
};

struct conn {
    struct store_pool_conn link; /* first: the pool lends it */
    sqlite3 *db;
    struct cached_stmt cache[STMT_CACHE_MAX];
    size_t n_cache;
    uint64_t tick;
};

/* A thread queued for the writer connection; posted when it becomes the owner. */
struct writer_wait {
    sem_t granted;
    struct writer_wait *next;
};

/* A write transaction released into the open batch, waiting for its COMMIT. */
struct batch_member {
    enum status rc; /* the batch's outcome, set before done is posted */
    sem_t done;
    struct batch_member *next;
};

struct store {
    struct store_common common; /* first: store.c dispatches through it */
    char *path;
    /* readers */
    struct store_pool pool; /* reader connections */
    /* the writer: owner, queue and members under writer_mu */
    pthread_mutex_t writer_mu;
    struct conn *writer;
    bool writer_owned;
    struct writer_wait *queue_head, *queue_tail;
    unsigned n_queued;
    struct batch_member *members; /* of the open batch */
    unsigned batch_size;          /* transactions released into the open batch */
    uint64_t n_batches, n_batched_tx;
    /* the open batch: only the writer's current owner touches these */
    bool batch_open;
    int64_t batch_started_ns;
    enum status batch_failed; /* first failure that dooms the open batch, OK if none */
    int wal_frames;           /* WAL size after the last commit */
    int wal_frames_asked;     /* WAL size when the checkpointer was last asked to run */
    /* checkpoints: one at a time, under ckpt_mu */
    pthread_mutex_t ckpt_mu;
    pthread_cond_t ckpt_cv;
    pthread_t ckpt_thread;
    bool ckpt_thread_started, ckpt_wanted, ckpt_busy, ckpt_stop;
    struct conn *ckpt_conn; /* the checkpointer thread's */
};

struct store_tx {
    struct store_tx_common c; /* first: store.c dispatches through it; store, write */
    struct conn *conn;        /* a reader of the pool, or the writer */
    bool in_savepoint;        /* a write transaction between SAVEPOINT and its end */
};

static const struct store_ops sqlite_ops;
static enum status sqlite_begin(struct store *store, bool write, struct store_tx **out);
static enum status sqlite_commit(struct store_tx *tx);
static void sqlite_rollback(struct store_tx *tx);
static void sqlite_close(struct store *s);

/* ---- errors ------------------------------------------------------------------------- */

/* Map a SQLite result code; unexpected ones are logged once, here, without values. */
static enum status db_status(sqlite3 *db, int rc, const char *what)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return OK;
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            return ERR_UNIQUENESS;
        break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return ERR_UNAVAILABLE;
    case SQLITE_CANTOPEN:
        log_error("store: %s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        return ERR_UNAVAILABLE;
    case SQLITE_NOMEM:
        return ERR_NOMEM;
    default:
        break;
    }
    log_error("store: %s: %s (%d)", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), rc);
    return ERR_STORE;
}

/* ---- statements --------------------------------------------------------------------- */

static uint64_t sql_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/*
 * A ready statement for sql on tx's connection: the cached one, or a fresh
 * one when the cached one is still stepping (a callback re-entered the same
 * query).  Hand it back with cache_done.
 */
static enum status cache_prepare(struct store_tx *tx, const char *sql, sqlite3_stmt **out)
{
    struct conn *c = tx->conn;
    uint64_t h = sql_hash(sql);
    struct cached_stmt *slot = NULL;
    bool cache = true;
    *out = NULL;
    /* After an I/O error or a full disk SQLite may roll the whole batch back; what
     * this transaction would run next must not run outside it, on its own. */
    if (tx->in_savepoint && sqlite3_get_autocommit(c->db))
        return ERR_STORE;
    for (size_t i = 0; i < c->n_cache; i++) {
        struct cached_stmt *e = &c->cache[i];
        if (e->hash == h && strcmp(e->sql, sql) == 0) {
            if (!sqlite3_stmt_busy(e->st)) {
                e->last_use = ++c->tick;
                *out = e->st;
                return OK;
            }
            cache = false;
            break;
        }
    }
    if (cache && c->n_cache < STMT_CACHE_MAX) {
        slot = &c->cache[c->n_cache];
    } else if (cache) {
        for (size_t i = 0; i < c->n_cache; i++) {
            struct cached_stmt *e = &c->cache[i];
            if (!sqlite3_stmt_busy(e->st) && (slot == NULL || e->last_use < slot->last_use))
                slot = e;
        }
    }
    char *key = slot ? str_dup(sql) : NULL;
    if (slot != NULL && key == NULL)
        return ERR_NOMEM;

    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(c->db, sql, -1, slot ? SQLITE_PREPARE_PERSISTENT : 0, &st, NULL);
    if (rc != SQLITE_OK) {
        free(key);
        sqlite3_finalize(st);
        return db_status(c->db, rc, "prepare");
    }
    if (slot != NULL) {
        if (slot == &c->cache[c->n_cache]) {
            c->n_cache++;
        } else {
            sqlite3_finalize(slot->st);
            free(slot->sql);
        }
        slot->sql = key;
        slot->hash = h;
        slot->st = st;
        slot->last_use = ++c->tick;
    }
    *out = st;
    return OK;
}

static void cache_done(struct store_tx *tx, sqlite3_stmt *st)
{
    if (st == NULL)
        return;
    struct conn *c = tx->conn;
    for (size_t i = 0; i < c->n_cache; i++) {
        if (c->cache[i].st == st) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            return;
        }
    }
    sqlite3_finalize(st);
}

/* Binds parameters 1, 2, ... in order; the first failure sticks. */
struct binder {
    sqlite3_stmt *st;
    int next;
    int rc;
};

static void bind_text(struct binder *b, const char *s)
{
    int i = ++b->next;
    if (b->rc != SQLITE_OK)
        return;
    b->rc = s ? sqlite3_bind_text(b->st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(b->st, i);
}

static void bind_int(struct binder *b, int64_t v)
{
    int i = ++b->next;
    if (b->rc != SQLITE_OK)
        return;
    b->rc = sqlite3_bind_int64(b->st, i, v);
}

/* Step a statement that returns no rows. */
static enum status exec_stmt(struct store_tx *tx, struct binder *b, const char *what)
{
    if (b->rc != SQLITE_OK)
        return db_status(tx->conn->db, b->rc, what);
    int rc = sqlite3_step(b->st);
    return rc == SQLITE_DONE ? OK : db_status(tx->conn->db, rc, what);
}

/* Step to the next row: OK with a row, ERR_NOT_FOUND when done. */
static enum status next_row(struct store_tx *tx, struct binder *b, const char *what)
{
    if (b->rc != SQLITE_OK)
        return db_status(tx->conn->db, b->rc, what);
    int rc = sqlite3_step(b->st);
    if (rc == SQLITE_ROW)
        return OK;
    if (rc == SQLITE_DONE)
        return ERR_NOT_FOUND;
    return db_status(tx->conn->db, rc, what);
}

/* Run a statement with no parameters and no rows (BEGIN, COMMIT, ...). */
static enum status exec_sql(struct store_tx *tx, const char *sql)
{
    sqlite3_stmt *st;
    enum status rc = cache_prepare(tx, sql, &st);
    if (rc != OK)
        return rc;
    struct binder b = { st, 0, SQLITE_OK };
    rc = exec_stmt(tx, &b, sql);
    cache_done(tx, st);
    return rc;
}

/* ---- connections and the pool ------------------------------------------------------- */

static void conn_close(struct conn *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n_cache; i++) {
        sqlite3_finalize(c->cache[i].st);
        free(c->cache[i].sql);
    }
    int rc = sqlite3_close(c->db);
    if (rc != SQLITE_OK)
        log_error("store: close: %s", sqlite3_errstr(rc));
    free(c);
}

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Run sql on db like sqlite3_exec, but retry SQLITE_BUSY with a growing pause
 * until STORE_BUSY_TIMEOUT_MS have passed.  For the statements on which
 * SQLite answers BUSY at once instead of calling the busy handler because
 * waiting could deadlock: "PRAGMA journal_mode = WAL" reads the header under a
 * shared lock, then needs the write lock to switch a rollback-journal file
 * (such as a brand-new one) to WAL, and fails at once while another
 * connection, in any process, holds it to do the same switch. */
static int exec_retrying_busy(sqlite3 *db, const char *sql,
                              int (*cb)(void *, int, char **, char **), void *ctx)
{
    int64_t deadline = monotonic_ns() + (int64_t)STORE_BUSY_TIMEOUT_MS * 1000000;
    int pause_ms = 1;
    for (;;) {
        int rc = sqlite3_exec(db, sql, cb, ctx, NULL);
        if ((rc & 0xff) != SQLITE_BUSY || monotonic_ns() >= deadline)
            return rc;
        sqlite3_sleep(pause_ms);
        if (pause_ms < BUSY_RETRY_MAX_MS)
            pause_ms *= 2;
    }
}

static int journal_mode_cb(void *ctx, int n, char **values, char **names)
{
    (void)names;
    if (n > 0 && values[0] != NULL)
        *(bool *)ctx = str_ieq(values[0], "wal");
    return 0;
}

static enum status conn_open(const char *path, struct conn **out)
{
    *out = NULL;
    struct conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return ERR_NOMEM;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &c->db, flags, NULL);
    if (rc != SQLITE_OK) {
        enum status s = db_status(c->db, rc, "open");
        conn_close(c);
        return s;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, STORE_BUSY_TIMEOUT_MS);
    bool wal = false;
    rc = exec_retrying_busy(c->db, "PRAGMA journal_mode = WAL", journal_mode_cb, &wal);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(c->db,
                          "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; "
                          "PRAGMA temp_store = MEMORY",
                          NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        enum status s = db_status(c->db, rc, "configure connection");
        conn_close(c);
        return s;
    }
    if (!wal)
        log_warn("store: the database is not in WAL mode; readers will block writers");
    *out = c;
    return OK;
}

static enum status pool_take(struct store *s, struct conn **out)
{
    struct store_pool *p = &s->pool;
    pthread_mutex_lock(&p->mu);
    if (p->idle == NULL && p->n_conns >= p->size) {
        int64_t start_us = store_mono_us();
        while (p->idle == NULL && p->n_conns >= p->size)
            pthread_cond_wait(&p->cv, &p->mu);
        store_count_pool_wait(&s->common.counters, store_mono_us() - start_us);
    }
    if (p->idle != NULL) {
        *out = (struct conn *)p->idle;
        p->idle = p->idle->next;
        pthread_mutex_unlock(&p->mu);
        return OK;
    }
    p->n_conns++;
    pthread_mutex_unlock(&p->mu);

    enum status rc = conn_open(s->path, out);
    if (rc != OK)
        store_pool_slot_free(p);
    return rc;
}

/* Return c to the pool; a connection stuck in a transaction is closed instead. */
static void pool_put(struct store *s, struct conn *c)
{
    bool broken = !sqlite3_get_autocommit(c->db);
    if (broken) {
        log_error("store: closing a connection left inside a transaction");
        conn_close(c);
    }
    store_pool_put(&s->pool, &c->link, !broken);
}

static void pooled_close(struct store_pool_conn *c)
{
    conn_close((struct conn *)c);
}

/* ---- migrations --------------------------------------------------------------------- */

static const char SQL_MIGRATIONS_TABLE[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "name TEXT NOT NULL PRIMARY KEY, applied_at TEXT NOT NULL)";
static const char SQL_MIGRATION_APPLIED[] = "SELECT 1 FROM schema_migrations WHERE name = ?";
static const char SQL_MIGRATION_RECORD[] =
    "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)";

static enum status read_nothing(struct stmt *st, void *out)
{
    (void)st;
    (void)out;
    return OK;
}

/* Apply every migration not yet recorded, all in one write transaction: the
 * SQL scripts, then the data migrations in C (stmt.h). */
static enum status migrate(struct store *s, struct scim_error *err)
{
    struct store_tx *tx = NULL;
    enum status rc = sqlite_begin(s, true, &tx);
    if (rc != OK)
        return scim_error_set(err, rc, "cannot lock the database for migrations");
    rc = exec_sql(tx, SQL_MIGRATIONS_TABLE);
    size_t n_sql = sizeof(sqlite_migrations) / sizeof(sqlite_migrations[0]);
    const char *name = NULL;
    for (size_t i = 0; rc == OK && i < n_sql + rec_n_migrations; i++) {
        name = i < n_sql ? sqlite_migrations[i].name : rec_migrations[i - n_sql].name;
        rc = rec_find(tx, SQL_MIGRATION_APPLIED, &name, 1, read_nothing, NULL,
                      "read schema_migrations");
        if (rc == OK)
            continue; /* already applied */
        if (rc != ERR_NOT_FOUND)
            break;
        if (i < n_sql) {
            int src = sqlite3_exec(tx->conn->db, sqlite_migrations[i].sql, NULL, NULL, NULL);
            rc = src == SQLITE_OK ? OK : db_status(tx->conn->db, src, name);
        } else {
            rc = rec_migrations[i - n_sql].run(tx);
        }
        if (rc != OK) {
            scim_error_set(err, rc, "migration '%s' failed", name);
            goto fail;
        }
        char now[STORE_TIME_LEN];
        clock_now_iso(now);
        const char *record[] = { name, now };
        rc = rec_exec(tx, SQL_MIGRATION_RECORD, record, 2, "record migration");
        if (rc == OK)
            log_info("store: applied migration %s", name);
    }
    if (rc != OK) {
        scim_error_set(err, rc, "cannot apply migrations");
        goto fail;
    }
    rc = sqlite_commit(tx);
    if (rc != OK)
        scim_error_set(err, rc, "cannot commit migrations");
    return rc;
fail:
    sqlite_rollback(tx);
    return rc;
}

/* ---- store and transactions --------------------------------------------------------- */

static int wal_committed(void *ctx, sqlite3 *db, const char *name, int frames);

/* Process-wide SQLite settings, before its first use.  Memory statistics take
 * a global mutex on every allocation, which every connection's thread would
 * contend for; scimd never reads them. */
static void sqlite_configure(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_initialize();
}

enum status sqlite_store_open(const char *url, unsigned pool_size, struct store **out,
                              struct scim_error *err)
{
    static pthread_once_t configured = PTHREAD_ONCE_INIT;
    pthread_once(&configured, sqlite_configure);
    *out = NULL;
    if (url == NULL || *url == '\0')
        return scim_error_set(err, ERR_USAGE, "no database path");
    if (str_istarts(url, "sqlite://"))
        url += strlen("sqlite://");
    else if (str_istarts(url, "sqlite:"))
        url += strlen("sqlite:");

    struct store *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    s->common.head.ops = &sqlite_ops;
    s->path = str_dup(url);
    if (s->path == NULL) {
        free(s);
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    }
    store_pool_init(&s->pool, pool_size ? pool_size : STORE_POOL_DEFAULT);
    rec_idp_cache_init(&s->common.idps);
    s->common.pool = &s->pool;
    pthread_mutex_init(&s->writer_mu, NULL);
    pthread_mutex_init(&s->ckpt_mu, NULL);
    pthread_cond_init(&s->ckpt_cv, NULL);

    enum status rc = conn_open(s->path, &s->writer);
    if (rc == OK) {
        char sql[64];
        snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", WRITER_CACHE_KIB);
        int src = sqlite3_exec(s->writer->db, sql, NULL, NULL, NULL);
        if (src != SQLITE_OK)
            rc = db_status(s->writer->db, src, "configure the writer");
        /* replaces SQLite's automatic checkpoint, which would run inside COMMIT */
        sqlite3_wal_hook(s->writer->db, wal_committed, s);
    }
    if (rc != OK)
        scim_error_set(err, rc, "cannot open the database");
    else
        rc = migrate(s, err);
    if (rc != OK) {
        sqlite_close(s);
        return rc;
    }
    *out = s;
    return OK;
}

static void sqlite_close(struct store *s)
{
    if (s == NULL)
        return;
    store_pool_release(&s->pool, pooled_close);
    if (s->writer != NULL)
        sqlite3_wal_hook(s->writer->db, NULL, NULL); /* no new checkpointer from here on */
    if (s->ckpt_thread_started) {
        pthread_mutex_lock(&s->ckpt_mu);
        s->ckpt_stop = true;
        pthread_cond_broadcast(&s->ckpt_cv);
        pthread_mutex_unlock(&s->ckpt_mu);
        pthread_join(s->ckpt_thread, NULL);
    }
    conn_close(s->ckpt_conn);
    if (s->writer != NULL) {
        if (s->writer_owned || s->batch_open)
            log_error("store: closed with a write transaction still open");
        if (!sqlite3_get_autocommit(s->writer->db))
            sqlite3_exec(s->writer->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_exec(s->writer->db, "PRAGMA optimize", NULL, NULL, NULL); /* planner stats */
        conn_close(s->writer); /* the last connection: checkpoints and removes the WAL */
    }
    if (s->n_batches > 0)
        log_debug("store: %llu write transactions in %llu batches",
                  (unsigned long long)s->n_batched_tx, (unsigned long long)s->n_batches);
    pthread_mutex_destroy(&s->writer_mu);
    pthread_mutex_destroy(&s->ckpt_mu);
    pthread_cond_destroy(&s->ckpt_cv);
    rec_idp_cache_release(&s->common.idps);
    free(s->path);
    free(s);
}

/* ---- checkpoints -------------------------------------------------------------------- */

/* Copy what the WAL holds back into the database file, as far as readers allow
 * (PASSIVE: never waits for a reader or the writer).  One at a time. */
static void checkpoint(struct store *s, sqlite3 *db)
{
    pthread_mutex_lock(&s->ckpt_mu);
    while (s->ckpt_busy)
        pthread_cond_wait(&s->ckpt_cv, &s->ckpt_mu);
    s->ckpt_busy = true;
    pthread_mutex_unlock(&s->ckpt_mu);

    int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        db_status(db, rc, "checkpoint");

    pthread_mutex_lock(&s->ckpt_mu);
    s->ckpt_busy = false;
    pthread_cond_broadcast(&s->ckpt_cv);
    pthread_mutex_unlock(&s->ckpt_mu);
}

/* The checkpointer thread: a checkpoint whenever the writer asks for one. */
static void *checkpointer(void *arg)
{
    struct store *s = arg;
    pthread_mutex_lock(&s->ckpt_mu);
    for (;;) {
        while (!s->ckpt_wanted && !s->ckpt_stop)
            pthread_cond_wait(&s->ckpt_cv, &s->ckpt_mu);
        if (s->ckpt_stop)
            break;
        s->ckpt_wanted = false;
        pthread_mutex_unlock(&s->ckpt_mu);
        if (s->ckpt_conn == NULL && conn_open(s->path, &s->ckpt_conn) != OK)
            log_warn("store: cannot open the database for checkpoints; the writer does them");
        if (s->ckpt_conn != NULL)
            checkpoint(s, s->ckpt_conn->db);
        pthread_mutex_lock(&s->ckpt_mu);
    }
    pthread_mutex_unlock(&s->ckpt_mu);
    return NULL;
}

/* SQLite calls this on the writer after each commit, with the WAL's size in
 * pages: every WAL_CHECKPOINT_FRAMES the checkpointer thread (started on first
 * use) gets to work.  Runs in the owner's thread. */
static int wal_committed(void *ctx, sqlite3 *db, const char *name, int frames)
{
    (void)db;
    (void)name;
    struct store *s = ctx;
    if (frames < s->wal_frames)
        s->wal_frames_asked = 0; /* the WAL restarted */
    s->wal_frames = frames;
    if (frames - s->wal_frames_asked < WAL_CHECKPOINT_FRAMES)
        return SQLITE_OK;
    s->wal_frames_asked = frames;
    pthread_mutex_lock(&s->ckpt_mu);
    if (!s->ckpt_thread_started) {
        /* signals stay with the threads that wait for them (scimd serve's sigwait) */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        s->ckpt_thread_started = pthread_create(&s->ckpt_thread, NULL, checkpointer, s) == 0;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (!s->ckpt_thread_started)
            log_warn("store: cannot start the checkpointer; the writer does the checkpoints");
    }
    s->ckpt_wanted = true;
    pthread_cond_signal(&s->ckpt_cv);
    pthread_mutex_unlock(&s->ckpt_mu);
    return SQLITE_OK;
}

/* ---- the writer and its batches ----------------------------------------------------- */

static void sem_wait_intr(sem_t *sem)
{
    while (sem_wait(sem) != 0 && errno == EINTR)
        ;
}

/* Become the owner of the writer connection, after every thread already queued. */
static void writer_acquire(struct store *s)
{
    pthread_mutex_lock(&s->writer_mu);
    if (!s->writer_owned) {
        s->writer_owned = true;
        pthread_mutex_unlock(&s->writer_mu);
        return;
    }
    struct writer_wait me = { .next = NULL };
    sem_init(&me.granted, 0, 0);
    if (s->queue_tail != NULL)
        s->queue_tail->next = &me;
    else
        s->queue_head = &me;
    s->queue_tail = &me;
    s->n_queued++;
    pthread_mutex_unlock(&s->writer_mu);
    sem_wait_intr(&me.granted);
    sem_destroy(&me.granted);
}

/* Take the first queued thread off the queue, to be posted the writer once
 * writer_mu is released; NULL and the writer is free when nobody is queued. */
static struct writer_wait *writer_next_locked(struct store *s)
{
    struct writer_wait *next = s->queue_head;
    if (next == NULL) {
        s->writer_owned = false;
        return NULL;
    }
    s->queue_head = next->next;
    if (s->queue_head == NULL)
        s->queue_tail = NULL;
    s->n_queued--;
    return next; /* writer_owned stays true: it changes hands */
}

/* Remember the first failure that dooms the open batch.  Owner only. */
static enum status batch_fail(struct store *s, enum status rc)
{
    if (s->batch_failed == OK)
        s->batch_failed = rc;
    return s->batch_failed;
}

/* Open a batch unless one is open: BEGIN IMMEDIATE on the writer.  Owner only. */
static enum status batch_open(struct store_tx *tx)
{
    struct store *s = tx->c.store;
    if (s->batch_open)
        return OK;
    if (!sqlite3_get_autocommit(s->writer->db)) {
        log_error("store: the writer was left inside a transaction; rolling it back");
        exec_sql(tx, "ROLLBACK");
    }
    enum status rc = exec_sql(tx, "BEGIN IMMEDIATE");
    if (rc != OK)
        return rc;
    s->batch_open = true;
    s->batch_started_ns = monotonic_ns();
    s->batch_failed = OK;
    return OK;
}

/* Commit the open batch, or roll it back when it is doomed or COMMIT fails; the
 * outcome for all of its members.  Owner only. */
static enum status batch_end(struct store_tx *tx)
{
    struct store *s = tx->c.store;
    sqlite3 *db = s->writer->db;
    enum status rc = s->batch_failed;
    if (rc == OK && sqlite3_get_autocommit(db))
        rc = ERR_STORE; /* SQLite rolled it back on its own; the cause was logged */
    if (rc == OK)
        rc = exec_sql(tx, "COMMIT");
    if (rc != OK && !sqlite3_get_autocommit(db))
        exec_sql(tx, "ROLLBACK");
    s->batch_open = false;
    s->batch_failed = OK;
    return rc;
}

/* End tx's savepoint: its changes stay in the batch (RELEASE) or vanish (ROLLBACK
 * TO, RELEASE).  A failure here, or a batch SQLite has already rolled back,
 * dooms the whole batch. */
static enum status savepoint_end(struct store_tx *tx, bool keep)
{
    struct store *s = tx->c.store;
    tx->in_savepoint = false;
    if (sqlite3_get_autocommit(tx->conn->db))
        return batch_fail(s, ERR_STORE);
    enum status rc = keep ? OK : exec_sql(tx, "ROLLBACK TO w");
    if (rc == OK)
        rc = exec_sql(tx, "RELEASE w");
    return rc == OK ? OK : batch_fail(s, rc);
}

/* Commit the open batch now?  Holds writer_mu. */
static bool batch_due(const struct store *s)
{
    return s->n_queued == 0 || s->batch_size >= BATCH_MAX_TX || s->batch_failed != OK ||
           sqlite3_get_autocommit(s->writer->db) ||
           monotonic_ns() - s->batch_started_ns >= (int64_t)BATCH_MAX_AGE_MS * 1000000;
}

/*
 * The owner is done with the writer.  self, when not NULL, joins the open
 * batch as a member.  The batch is committed now unless writers are queued
 * to join it and it is still small, young and sound; then the writer passes
 * to the first of them.  A member returns the batch's outcome once it is
 * known; without self this returns OK at once.
 */
static enum status writer_release(struct store_tx *tx, struct batch_member *self)
{
    struct store *s = tx->c.store;
    struct batch_member *ended = NULL;
    enum status outcome = OK;
    pthread_mutex_lock(&s->writer_mu);
    if (self != NULL) {
        self->next = s->members;
        s->members = self;
        s->batch_size++;
    }
    if (s->batch_open && batch_due(s)) {
        /* writers arriving meanwhile queue up for the next batch */
        pthread_mutex_unlock(&s->writer_mu);
        outcome = batch_end(tx);
        pthread_mutex_lock(&s->writer_mu);
        ended = s->members;
        s->members = NULL;
        s->n_batches++;
        s->n_batched_tx += s->batch_size;
        store_count_batch(&s->common.counters, s->batch_size);
        s->batch_size = 0;
    }
    bool restart_wal = ended != NULL && s->wal_frames >= WAL_MAX_FRAMES;
    struct writer_wait *next = restart_wal ? NULL : writer_next_locked(s);
    pthread_mutex_unlock(&s->writer_mu);
    if (next != NULL)
        sem_post(&next->granted);
    for (struct batch_member *m = ended, *after; m != NULL; m = after) {
        after = m->next; /* m may be gone once posted */
        m->rc = outcome;
        sem_post(&m->done);
    }
    if (restart_wal) {
        /* The checkpointer never catches up while batches follow each other: with
         * no batch open, a complete checkpoint lets the next one restart the WAL. */
        checkpoint(s, s->writer->db);
        pthread_mutex_lock(&s->writer_mu);
        next = writer_next_locked(s);
        pthread_mutex_unlock(&s->writer_mu);
        if (next != NULL)
            sem_post(&next->granted);
    }
    if (self == NULL)
        return OK;
    sem_wait_intr(&self->done);
    return self->rc;
}

/* ---- transactions ------------------------------------------------------------------- */

static enum status sqlite_begin(struct store *store, bool write, struct store_tx **out)
{
    *out = NULL;
    struct store_tx *tx = store_tx_new(sizeof(*tx), &sqlite_ops, store, write);
    if (tx == NULL)
        return ERR_NOMEM;
    enum status rc;
    if (!write) {
        rc = pool_take(store, &tx->conn);
        if (rc != OK) {
            free(tx);
            return rc;
        }
        rc = exec_sql(tx, "BEGIN");
        if (rc != OK) {
            pool_put(store, tx->conn);
            free(tx);
            return rc;
        }
        *out = tx;
        return OK;
    }
    tx->conn = store->writer;
    writer_acquire(store);
    rc = batch_open(tx);
    if (rc == OK)
        rc = exec_sql(tx, "SAVEPOINT w");
    if (rc != OK) {
        writer_release(tx, NULL);
        free(tx);
        return rc;
    }
    tx->in_savepoint = true;
    *out = tx;
    return OK;
}

static enum status sqlite_commit(struct store_tx *tx)
{
    enum status rc;
    if (!tx->c.write) {
        rc = exec_sql(tx, "COMMIT");
        if (rc != OK && !sqlite3_get_autocommit(tx->conn->db))
            exec_sql(tx, "ROLLBACK");
        pool_put(tx->c.store, tx->conn);
        free(tx);
        return rc;
    }
    rc = savepoint_end(tx, true);
    if (rc == OK) {
        struct batch_member self = { .rc = OK, .next = NULL };
        sem_init(&self.done, 0, 0);
        rc = writer_release(tx, &self);
        sem_destroy(&self.done);
    } else {
        writer_release(tx, NULL);
    }
    free(tx);
    return rc;
}

/* Write transactions in this process already exclude each other (the writer has
 * one owner at a time) and other processes' (BEGIN IMMEDIATE). */
static enum status sqlite_lock(struct store_tx *tx, const char *key)
{
    (void)tx;
    (void)key;
    return OK;
}

static void sqlite_rollback(struct store_tx *tx)
{
    if (tx == NULL)
        return;
    if (tx->c.write) {
        /* Only this transaction's changes vanish; the batch goes on. */
        savepoint_end(tx, false);
        writer_release(tx, NULL);
    } else {
        /* SQLite may already have rolled back on its own (e.g. after an I/O error). */
        if (!sqlite3_get_autocommit(tx->conn->db))
            exec_sql(tx, "ROLLBACK");
        pool_put(tx->c.store, tx->conn);
    }
    free(tx);
}

/* ---- statements of the record files (stmt.h) ---------------------------------------- */

struct stmt {
    struct stmt_common c; /* first: stmt.c dispatches through it; tx */
    struct binder b;
    const char *what;
};

/* SQLite's placeholders are stmt.h's: the text goes in as it is, fixed or not, and
 * every statement is kept in the connection's cache (searches repeat their shapes). */
static enum status sqlite_prepare(struct store_tx *tx, const char *sql, bool fixed, unsigned flags,
                                  const char *what, struct stmt **out)
{
    (void)fixed;
    (void)flags; /* rows are read one step at a time anyway */
    *out = NULL;
    struct stmt *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return ERR_NOMEM;
    sqlite3_stmt *prepared;
    enum status rc = cache_prepare(tx, sql, &prepared);
    if (rc != OK) {
        free(st);
        return rc;
    }
    st->c.head.ops = &sqlite_ops;
    st->c.tx = tx;
    st->b = (struct binder){ prepared, 0, SQLITE_OK };
    st->what = what;
    *out = st;
    return OK;
}

static void sqlite_bind_text(struct stmt *st, const char *value)
{
    bind_text(&st->b, value);
}

static void sqlite_bind_int(struct stmt *st, int64_t value)
{
    bind_int(&st->b, value);
}

static enum status sqlite_step(struct stmt *st)
{
    return next_row(st->c.tx, &st->b, st->what);
}

static enum status sqlite_exec(struct stmt *st)
{
    enum status rc;
    while ((rc = next_row(st->c.tx, &st->b, st->what)) == OK)
        ; /* rows not wanted (RETURNING) */
    return rc == ERR_NOT_FOUND ? OK : rc;
}

static int64_t sqlite_changes(const struct stmt *st)
{
    return sqlite3_changes64(st->c.tx->conn->db);
}

static const char *sqlite_col_text(struct stmt *st, int col)
{
    return (const char *)sqlite3_column_text(st->b.st, col);
}

static int64_t sqlite_col_int(struct stmt *st, int col)
{
    return sqlite3_column_int64(st->b.st, col);
}

static void sqlite_finish(struct stmt *st)
{
    cache_done(st->c.tx, st->b.st);
    free(st);
}

/* ---- the backend table -------------------------------------------------------------- */

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .dialect = STMT_SQLITE,
    .sqlgen = &sqlgen_sqlite,
    .close = sqlite_close,
    .begin = sqlite_begin,
    .lock = sqlite_lock,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .prepare = sqlite_prepare,
    .bind_text = sqlite_bind_text,
    .bind_int = sqlite_bind_int,
    .step = sqlite_step,
    .exec = sqlite_exec,
    .changes = sqlite_changes,
    .col_text = sqlite_col_text,
    .col_int = sqlite_col_int,
    .finish = sqlite_finish,
};
