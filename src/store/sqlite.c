/*
 * sqlite.c - this file contains the SQLite implementation of store.h: the
 * reader pool, the writer and its group commit, checkpoints, migrations, the
 * per-connection prepared statement cache, and every record's SQL.
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
 * timeout.  Statements are prepared once per connection and reset after
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
#define STORE_POOL_DEFAULT    4  /* when store_open is given pool_size 0 */
#define STMT_CACHE_MAX        64 /* prepared statements kept per connection */
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
    sqlite3 *db;
    struct cached_stmt cache[STMT_CACHE_MAX];
    size_t n_cache;
    uint64_t tick;
    struct conn *next; /* idle list */
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
    struct store_head head; /* first: store.c dispatches through it */
    char *path;
    /* readers */
    unsigned pool_size;
    unsigned n_conns; /* open reader connections, idle or in a transaction */
    struct conn *idle;
    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cv;
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
    struct store_head head; /* first: store.c dispatches through it */
    struct store *store;
    struct conn *conn; /* a reader of the pool, or the writer */
    bool write;
    bool in_savepoint; /* a write transaction between SAVEPOINT and its end */
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
 * query).  Hand it back with stmt_done.
 */
static enum status stmt_prepare(struct store_tx *tx, const char *sql, sqlite3_stmt **out)
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

static void stmt_done(struct store_tx *tx, sqlite3_stmt *st)
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

/* "" (an unset inline field) binds NULL. */
static void bind_opt(struct binder *b, const char *s)
{
    bind_text(b, s && *s ? s : NULL);
}

static void bind_int(struct binder *b, int64_t v)
{
    int i = ++b->next;
    if (b->rc != SQLITE_OK)
        return;
    b->rc = sqlite3_bind_int64(b->st, i, v);
}

static void bind_sqlgen(struct binder *b, const struct sqlgen *g)
{
    for (size_t i = 0; i < g->n_params; i++) {
        const struct sqlgen_param *p = &g->params[i];
        if (p->kind == SQLGEN_PARAM_INT)
            bind_int(b, p->num);
        else
            bind_text(b, p->text);
    }
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
    enum status rc = stmt_prepare(tx, sql, &st);
    if (rc != OK)
        return rc;
    struct binder b = { st, 0, SQLITE_OK };
    rc = exec_stmt(tx, &b, sql);
    stmt_done(tx, st);
    return rc;
}

/* ---- columns ------------------------------------------------------------------------ */

static const char *col_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* Copy a column into an inline field; NULL becomes "". */
static void col_copy(sqlite3_stmt *st, int i, char *dst, size_t n)
{
    const char *s = col_text(st, i);
    str_copy(dst, n, s ? s : "");
}

/* Heap copy of a column; NULL stays NULL.  False on allocation failure. */
static bool col_dup(sqlite3_stmt *st, int i, char **dst)
{
    *dst = NULL;
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return true;
    const char *s = col_text(st, i);
    *dst = s ? str_dup(s) : NULL;
    return *dst != NULL;
}

/* Borrowed column text, valid until the statement steps again. */
static char *col_view(sqlite3_stmt *st, int i)
{
    return (char *)sqlite3_column_text(st, i);
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
    rc = sqlite3_exec(c->db, "PRAGMA journal_mode = WAL", journal_mode_cb, &wal, NULL);
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
    pthread_mutex_lock(&s->pool_mu);
    while (s->idle == NULL && s->n_conns >= s->pool_size)
        pthread_cond_wait(&s->pool_cv, &s->pool_mu);
    if (s->idle != NULL) {
        *out = s->idle;
        s->idle = s->idle->next;
        pthread_mutex_unlock(&s->pool_mu);
        return OK;
    }
    s->n_conns++;
    pthread_mutex_unlock(&s->pool_mu);

    enum status rc = conn_open(s->path, out);
    if (rc != OK) {
        pthread_mutex_lock(&s->pool_mu);
        s->n_conns--;
        pthread_cond_signal(&s->pool_cv);
        pthread_mutex_unlock(&s->pool_mu);
    }
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
    pthread_mutex_lock(&s->pool_mu);
    if (broken) {
        s->n_conns--;
    } else {
        c->next = s->idle;
        s->idle = c;
    }
    pthread_cond_signal(&s->pool_cv);
    pthread_mutex_unlock(&s->pool_mu);
}

/* ---- migrations --------------------------------------------------------------------- */

static const char SQL_MIGRATIONS_TABLE[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "name TEXT NOT NULL PRIMARY KEY, applied_at TEXT NOT NULL)";
static const char SQL_MIGRATION_APPLIED[] = "SELECT 1 FROM schema_migrations WHERE name = ?";
static const char SQL_MIGRATION_RECORD[] =
    "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)";

/* Apply every migration not yet recorded, all in one write transaction. */
static enum status migrate(struct store *s, struct scim_error *err)
{
    struct store_tx *tx = NULL;
    enum status rc = sqlite_begin(s, true, &tx);
    if (rc != OK)
        return scim_error_set(err, rc, "cannot lock the database for migrations");
    rc = exec_sql(tx, SQL_MIGRATIONS_TABLE);
    for (size_t i = 0; rc == OK && i < sizeof(sqlite_migrations) / sizeof(sqlite_migrations[0]); i++) {
        const struct migration *m = &sqlite_migrations[i];
        sqlite3_stmt *st;
        rc = stmt_prepare(tx, SQL_MIGRATION_APPLIED, &st);
        if (rc != OK)
            break;
        struct binder b = { st, 0, SQLITE_OK };
        bind_text(&b, m->name);
        rc = next_row(tx, &b, "read schema_migrations");
        stmt_done(tx, st);
        if (rc == OK)
            continue; /* already applied */
        if (rc != ERR_NOT_FOUND)
            break;

        int src = sqlite3_exec(tx->conn->db, m->sql, NULL, NULL, NULL);
        if (src != SQLITE_OK) {
            rc = db_status(tx->conn->db, src, m->name);
            scim_error_set(err, rc, "migration '%s' failed", m->name);
            goto fail;
        }
        char now[STORE_TIME_LEN];
        clock_now_iso(now);
        rc = stmt_prepare(tx, SQL_MIGRATION_RECORD, &st);
        if (rc != OK)
            break;
        b = (struct binder){ st, 0, SQLITE_OK };
        bind_text(&b, m->name);
        bind_text(&b, now);
        rc = exec_stmt(tx, &b, "record migration");
        stmt_done(tx, st);
        if (rc == OK)
            log_info("store: applied migration %s", m->name);
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
    s->head.ops = &sqlite_ops;
    s->path = str_dup(url);
    if (s->path == NULL) {
        free(s);
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    }
    s->pool_size = pool_size ? pool_size : STORE_POOL_DEFAULT;
    pthread_mutex_init(&s->pool_mu, NULL);
    pthread_cond_init(&s->pool_cv, NULL);
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
    pthread_mutex_lock(&s->pool_mu);
    struct conn *c = s->idle;
    s->idle = NULL;
    pthread_mutex_unlock(&s->pool_mu);
    while (c != NULL) {
        struct conn *next = c->next;
        conn_close(c);
        s->n_conns--;
        c = next;
    }
    if (s->n_conns != 0)
        log_error("store: closed with %u transactions still open", s->n_conns);
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
    pthread_mutex_destroy(&s->pool_mu);
    pthread_cond_destroy(&s->pool_cv);
    pthread_mutex_destroy(&s->writer_mu);
    pthread_mutex_destroy(&s->ckpt_mu);
    pthread_cond_destroy(&s->ckpt_cv);
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

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

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
    struct store *s = tx->store;
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
    struct store *s = tx->store;
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
    struct store *s = tx->store;
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
    struct store *s = tx->store;
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
    struct store_tx *tx = calloc(1, sizeof(*tx));
    if (tx == NULL)
        return ERR_NOMEM;
    tx->head.ops = &sqlite_ops;
    tx->store = store;
    tx->write = write;
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
    if (!tx->write) {
        rc = exec_sql(tx, "COMMIT");
        if (rc != OK && !sqlite3_get_autocommit(tx->conn->db))
            exec_sql(tx, "ROLLBACK");
        pool_put(tx->store, tx->conn);
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
    if (tx->write) {
        /* Only this transaction's changes vanish; the batch goes on. */
        savepoint_end(tx, false);
        writer_release(tx, NULL);
    } else {
        /* SQLite may already have rolled back on its own (e.g. after an I/O error). */
        if (!sqlite3_get_autocommit(tx->conn->db))
            exec_sql(tx, "ROLLBACK");
        pool_put(tx->store, tx->conn);
    }
    free(tx);
}

/* Write the current time into t when the caller left it empty. */
static const char *time_or_now(const char *t, char now[STORE_TIME_LEN])
{
    if (t != NULL && *t != '\0')
        return t;
    clock_now_iso(now);
    return now;
}

/* Run a one-row lookup with text keys, handing the row to read. */
typedef enum status (*row_reader)(sqlite3_stmt *st, void *out);

static enum status find_one(struct store_tx *tx, const char *sql, const char *const *keys,
                            size_t n_keys, row_reader read, void *out, const char *what)
{
    sqlite3_stmt *st;
    enum status rc = stmt_prepare(tx, sql, &st);
    if (rc != OK)
        return rc;
    struct binder b = { st, 0, SQLITE_OK };
    for (size_t i = 0; i < n_keys; i++)
        bind_text(&b, keys[i]);
    rc = next_row(tx, &b, what);
    if (rc == OK)
        rc = read(st, out);
    stmt_done(tx, st);
    return rc;
}

/* Run a statement with text keys and call each(row) for every row until it fails.  fn is the
 * caller's typed callback, passed through as a generic function pointer. */
typedef void (*any_fn)(void);
typedef enum status (*row_fn)(sqlite3_stmt *st, any_fn fn, void *ctx);

static enum status for_each(struct store_tx *tx, const char *sql, const char *const *keys,
                            size_t n_keys, row_fn each, any_fn fn, void *ctx, const char *what)
{
    sqlite3_stmt *st;
    enum status rc = stmt_prepare(tx, sql, &st);
    if (rc != OK)
        return rc;
    struct binder b = { st, 0, SQLITE_OK };
    for (size_t i = 0; i < n_keys; i++)
        bind_text(&b, keys[i]);
    while ((rc = next_row(tx, &b, what)) == OK) {
        rc = each(st, fn, ctx);
        if (rc != OK)
            break;
    }
    stmt_done(tx, st);
    return rc == ERR_NOT_FOUND ? OK : rc;
}

/* Run sql with text keys and no rows; *changes gets the number of rows changed. */
static enum status exec_keys(struct store_tx *tx, const char *sql, const char *const *keys,
                             size_t n_keys, int *changes, const char *what)
{
    sqlite3_stmt *st;
    enum status rc = stmt_prepare(tx, sql, &st);
    if (rc != OK)
        return rc;
    struct binder b = { st, 0, SQLITE_OK };
    for (size_t i = 0; i < n_keys; i++)
        bind_text(&b, keys[i]);
    rc = exec_stmt(tx, &b, what);
    if (changes != NULL)
        *changes = rc == OK ? sqlite3_changes(tx->conn->db) : 0;
    stmt_done(tx, st);
    return rc;
}

/* Update/delete by key: ERR_NOT_FOUND when no row changed. */
static enum status changed_one(struct store_tx *tx, enum status rc)
{
    if (rc == OK && sqlite3_changes(tx->conn->db) == 0)
        return ERR_NOT_FOUND;
    return rc;
}

/* ---- tenants ------------------------------------------------------------------------ */

#define TENANT_COLUMNS "id, name, subdomain, created_at"
static const char SQL_TENANT_INSERT[] =
    "INSERT INTO tenants (" TENANT_COLUMNS ") VALUES (?, ?, ?, ?)";
static const char SQL_TENANT_BY_ID[] = "SELECT " TENANT_COLUMNS " FROM tenants WHERE id = ?";
static const char SQL_TENANT_BY_SUBDOMAIN[] =
    "SELECT " TENANT_COLUMNS " FROM tenants WHERE subdomain = ?";
static const char SQL_TENANT_BY_NAME[] =
    "SELECT " TENANT_COLUMNS " FROM tenants WHERE name = ? ORDER BY created_at, id LIMIT 1";
static const char SQL_TENANT_EACH[] =
    "SELECT " TENANT_COLUMNS " FROM tenants ORDER BY created_at, id";

static enum status read_tenant(sqlite3_stmt *st, void *out)
{
    struct store_tenant *t = out;
    memset(t, 0, sizeof(*t));
    col_copy(st, 0, t->id, sizeof(t->id));
    col_copy(st, 1, t->name, sizeof(t->name));
    col_copy(st, 2, t->subdomain, sizeof(t->subdomain));
    col_copy(st, 3, t->created_at, sizeof(t->created_at));
    return OK;
}

static enum status sqlite_tenant_insert(struct store_tx *tx, const struct store_tenant *t)
{
    char now[STORE_TIME_LEN];
    const char *values[] = { t->id, t->name, t->subdomain, time_or_now(t->created_at, now) };
    return exec_keys(tx, SQL_TENANT_INSERT, values, 4, NULL, "insert tenant");
}

static enum status sqlite_tenant_find(struct store_tx *tx, const char *key,
                                      struct store_tenant *out)
{
    static const char *const by[] = { SQL_TENANT_BY_ID, SQL_TENANT_BY_SUBDOMAIN,
                                      SQL_TENANT_BY_NAME };
    enum status rc = ERR_NOT_FOUND;
    for (size_t i = 0; rc == ERR_NOT_FOUND && i < sizeof(by) / sizeof(by[0]); i++)
        rc = find_one(tx, by[i], &key, 1, read_tenant, out, "find tenant");
    return rc;
}

static enum status each_tenant(sqlite3_stmt *st, any_fn fn, void *ctx)
{
    struct store_tenant t;
    read_tenant(st, &t);
    return ((store_tenant_fn)fn)(ctx, &t);
}

static enum status sqlite_tenant_each(struct store_tx *tx, store_tenant_fn fn, void *ctx)
{
    return for_each(tx, SQL_TENANT_EACH, NULL, 0, each_tenant, (any_fn)fn, ctx, "list tenants");
}

/* ---- IdP connections ---------------------------------------------------------------- */

#define IDP_COLUMNS "tenant_id, id, name, vendor, created_at"
static const char SQL_IDP_INSERT[] = "INSERT INTO idps (" IDP_COLUMNS ") VALUES (?, ?, ?, ?, ?)";
static const char SQL_IDP_GET[] = "SELECT " IDP_COLUMNS " FROM idps WHERE id = ?";
static const char SQL_IDP_EACH[] = "SELECT " IDP_COLUMNS " FROM idps ORDER BY created_at, id";
static const char SQL_IDP_EACH_TENANT[] =
    "SELECT " IDP_COLUMNS " FROM idps WHERE tenant_id = ? ORDER BY created_at, id";

static enum status read_idp(sqlite3_stmt *st, void *out)
{
    struct store_idp *idp = out;
    memset(idp, 0, sizeof(*idp));
    col_copy(st, 0, idp->tenant_id, sizeof(idp->tenant_id));
    col_copy(st, 1, idp->id, sizeof(idp->id));
    col_copy(st, 2, idp->name, sizeof(idp->name));
    col_copy(st, 3, idp->vendor, sizeof(idp->vendor));
    col_copy(st, 4, idp->created_at, sizeof(idp->created_at));
    return OK;
}

static enum status sqlite_idp_insert(struct store_tx *tx, const struct store_idp *idp)
{
    char now[STORE_TIME_LEN];
    const char *values[] = { idp->tenant_id, idp->id, idp->name, idp->vendor,
                             time_or_now(idp->created_at, now) };
    return exec_keys(tx, SQL_IDP_INSERT, values, 5, NULL, "insert idp");
}

static enum status sqlite_idp_get(struct store_tx *tx, const char *id, struct store_idp *out)
{
    return find_one(tx, SQL_IDP_GET, &id, 1, read_idp, out, "get idp");
}

static enum status each_idp(sqlite3_stmt *st, any_fn fn, void *ctx)
{
    struct store_idp idp;
    read_idp(st, &idp);
    return ((store_idp_fn)fn)(ctx, &idp);
}

static enum status sqlite_idp_each(struct store_tx *tx, const char *tenant_id, store_idp_fn fn,
                                   void *ctx)
{
    if (tenant_id == NULL)
        return for_each(tx, SQL_IDP_EACH, NULL, 0, each_idp, (any_fn)fn, ctx, "list idps");
    return for_each(tx, SQL_IDP_EACH_TENANT, &tenant_id, 1, each_idp, (any_fn)fn, ctx, "list idps");
}

/* ---- tokens ------------------------------------------------------------------------- */

#define TOKEN_COLUMNS                                                                              \
    "tenant_id, id, idp_id, name, prefix, hash, created_at, last_used_at, revoked_at"
static const char SQL_TOKEN_INSERT[] =
    "INSERT INTO tokens (" TOKEN_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_TOKEN_GET[] = "SELECT " TOKEN_COLUMNS " FROM tokens WHERE id = ?";
static const char SQL_TOKEN_BY_HASH[] = "SELECT " TOKEN_COLUMNS " FROM tokens WHERE hash = ?";
static const char SQL_TOKEN_REVOKE[] =
    "UPDATE tokens SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL";
/* Never moves last_used_at backwards when two requests race. */
static const char SQL_TOKEN_TOUCH[] = "UPDATE tokens SET last_used_at = ?1 WHERE id = ?2 "
                                      "AND (last_used_at IS NULL OR last_used_at < ?1)";
static const char SQL_TOKEN_EACH[] = "SELECT " TOKEN_COLUMNS " FROM tokens ORDER BY created_at, id";
/* The tenant comes from the IdP so that the (tenant_id, idp_id) index serves. */
static const char SQL_TOKEN_EACH_IDP[] =
    "SELECT " TOKEN_COLUMNS " FROM tokens WHERE tenant_id = "
    "(SELECT tenant_id FROM idps WHERE id = ?1) AND idp_id = ?1 ORDER BY created_at, id";

static enum status read_token(sqlite3_stmt *st, void *out)
{
    struct store_token *t = out;
    memset(t, 0, sizeof(*t));
    col_copy(st, 0, t->tenant_id, sizeof(t->tenant_id));
    col_copy(st, 1, t->id, sizeof(t->id));
    col_copy(st, 2, t->idp_id, sizeof(t->idp_id));
    col_copy(st, 3, t->name, sizeof(t->name));
    col_copy(st, 4, t->prefix, sizeof(t->prefix));
    col_copy(st, 5, t->hash, sizeof(t->hash));
    col_copy(st, 6, t->created_at, sizeof(t->created_at));
    col_copy(st, 7, t->last_used_at, sizeof(t->last_used_at));
    col_copy(st, 8, t->revoked_at, sizeof(t->revoked_at));
    return OK;
}

static enum status sqlite_token_insert(struct store_tx *tx, const struct store_token *t)
{
    char now[STORE_TIME_LEN];
    const char *values[] = { t->tenant_id,
                             t->id,
                             t->idp_id,
                             t->name,
                             t->prefix,
                             t->hash,
                             time_or_now(t->created_at, now),
                             t->last_used_at[0] ? t->last_used_at : NULL,
                             t->revoked_at[0] ? t->revoked_at : NULL };
    return exec_keys(tx, SQL_TOKEN_INSERT, values, 9, NULL, "insert token");
}

static enum status sqlite_token_get(struct store_tx *tx, const char *id, struct store_token *out)
{
    return find_one(tx, SQL_TOKEN_GET, &id, 1, read_token, out, "get token");
}

static enum status sqlite_token_by_hash(struct store_tx *tx, const char *hash,
                                        struct store_token *out)
{
    return find_one(tx, SQL_TOKEN_BY_HASH, &hash, 1, read_token, out, "find token");
}

/* Set a timestamp column of one token; a token that exists but was not changed is OK. */
static enum status token_set_time(struct store_tx *tx, const char *sql, const char *id,
                                  const char *at)
{
    sqlite3_stmt *st;
    enum status rc = stmt_prepare(tx, sql, &st);
    if (rc != OK)
        return rc;
    char now[STORE_TIME_LEN];
    struct binder b = { st, 0, SQLITE_OK };
    bind_text(&b, time_or_now(at, now));
    bind_text(&b, id);
    rc = changed_one(tx, exec_stmt(tx, &b, "update token"));
    stmt_done(tx, st);
    if (rc == ERR_NOT_FOUND) {
        struct store_token t;
        rc = sqlite_token_get(tx, id, &t);
    }
    return rc;
}

static enum status sqlite_token_revoke(struct store_tx *tx, const char *id, const char *at)
{
    return token_set_time(tx, SQL_TOKEN_REVOKE, id, at);
}

static enum status sqlite_token_touch(struct store_tx *tx, const char *id, const char *at)
{
    return token_set_time(tx, SQL_TOKEN_TOUCH, id, at);
}

static enum status each_token(sqlite3_stmt *st, any_fn fn, void *ctx)
{
    struct store_token t;
    read_token(st, &t);
    return ((store_token_fn)fn)(ctx, &t);
}

static enum status sqlite_token_each(struct store_tx *tx, const char *idp_id, store_token_fn fn,
                                     void *ctx)
{
    if (idp_id == NULL)
        return for_each(tx, SQL_TOKEN_EACH, NULL, 0, each_token, (any_fn)fn, ctx, "list tokens");
    return for_each(tx, SQL_TOKEN_EACH_IDP, &idp_id, 1, each_token, (any_fn)fn, ctx, "list tokens");
}

/* ---- canonical users ---------------------------------------------------------------- */

#define USER_COLUMNS                                                                               \
    "tenant_id, id, username, email, given_name, family_name, display_name, status, idp_id, "      \
    "scim_managed, created_at, updated_at"
static const char SQL_USER_INSERT[] =
    "INSERT INTO users (tenant_id, id, username, username_lc, email, email_lc, given_name, "
    "family_name, display_name, status, idp_id, scim_managed, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_USER_UPDATE[] =
    "UPDATE users SET username = ?, username_lc = ?, email = ?, email_lc = ?, given_name = ?, "
    "family_name = ?, display_name = ?, status = ?, idp_id = ?, scim_managed = ?, "
    "updated_at = ? WHERE tenant_id = ? AND id = ?";
static const char SQL_USER_GET[] =
    "SELECT " USER_COLUMNS " FROM users WHERE tenant_id = ? AND id = ?";
static const char SQL_USER_GET_ANY[] = "SELECT " USER_COLUMNS " FROM users WHERE id = ?";
/* Each OR branch names the tenant so that it is an index probe of its own. */
static const char SQL_USER_FIND_MATCH[] =
    "SELECT " USER_COLUMNS " FROM users WHERE (tenant_id = ?1 AND email_lc = ?2) "
    "OR (tenant_id = ?1 AND username_lc = ?2) OR (tenant_id = ?1 AND username_lc = ?3) "
    "ORDER BY created_at, id LIMIT 1";
static const char SQL_USER_EACH[] =
    "SELECT " USER_COLUMNS " FROM users WHERE tenant_id = ? ORDER BY created_at, id";
static const char SQL_USER_EACH_IDP[] =
    "SELECT " USER_COLUMNS " FROM users WHERE tenant_id = ?1 AND id IN "
    "(SELECT user_id FROM idp_users WHERE tenant_id = ?1 AND idp_id = ?2) "
    "ORDER BY created_at, id";

/* Fill u from a row: heap copies when copy, else views borrowed from the statement. */
static enum status read_user(sqlite3_stmt *st, struct store_user *u, bool copy)
{
    memset(u, 0, sizeof(*u));
    col_copy(st, 0, u->tenant_id, sizeof(u->tenant_id));
    col_copy(st, 1, u->id, sizeof(u->id));
    char **heap[] = { &u->username, &u->email, &u->given_name, &u->family_name, &u->display_name };
    for (size_t i = 0; i < sizeof(heap) / sizeof(heap[0]); i++) {
        if (!copy) {
            *heap[i] = col_view(st, 2 + (int)i);
        } else if (!col_dup(st, 2 + (int)i, heap[i])) {
            store_user_release(u);
            return ERR_NOMEM;
        }
    }
    col_copy(st, 7, u->status, sizeof(u->status));
    col_copy(st, 8, u->idp_id, sizeof(u->idp_id));
    u->scim_managed = sqlite3_column_int(st, 9) != 0;
    col_copy(st, 10, u->created_at, sizeof(u->created_at));
    col_copy(st, 11, u->updated_at, sizeof(u->updated_at));
    return OK;
}

static enum status read_user_copy(sqlite3_stmt *st, void *out)
{
    return read_user(st, out, true);
}

/* The lowercased username and email columns of u; ERR_NOMEM. */
static enum status user_lc(const struct store_user *u, char **username_lc, char **email_lc)
{
    *username_lc = sqlgen_lower_dup(u->username);
    *email_lc = sqlgen_lower_dup(u->email);
    if ((u->username && *username_lc == NULL) || (u->email && *email_lc == NULL)) {
        free(*username_lc);
        free(*email_lc);
        return ERR_NOMEM;
    }
    return OK;
}

static enum status sqlite_user_insert(struct store_tx *tx, const struct store_user *u)
{
    char *username_lc, *email_lc;
    enum status rc = user_lc(u, &username_lc, &email_lc);
    if (rc != OK)
        return rc;
    sqlite3_stmt *st;
    rc = stmt_prepare(tx, SQL_USER_INSERT, &st);
    if (rc == OK) {
        char now[STORE_TIME_LEN];
        struct binder b = { st, 0, SQLITE_OK };
        bind_text(&b, u->tenant_id);
        bind_text(&b, u->id);
        bind_text(&b, u->username);
        bind_text(&b, username_lc);
        bind_text(&b, u->email);
        bind_text(&b, email_lc);
        bind_text(&b, u->given_name);
        bind_text(&b, u->family_name);
        bind_text(&b, u->display_name);
        bind_text(&b, u->status);
        bind_opt(&b, u->idp_id);
        bind_int(&b, u->scim_managed);
        const char *created_at = time_or_now(u->created_at, now);
        bind_text(&b, created_at);
        bind_text(&b, u->updated_at[0] ? u->updated_at : created_at);
        rc = exec_stmt(tx, &b, "insert user");
        stmt_done(tx, st);
    }
    free(username_lc);
    free(email_lc);
    return rc;
}

static enum status sqlite_user_update(struct store_tx *tx, const struct store_user *u)
{
    char *username_lc, *email_lc;
    enum status rc = user_lc(u, &username_lc, &email_lc);
    if (rc != OK)
        return rc;
    sqlite3_stmt *st;
    rc = stmt_prepare(tx, SQL_USER_UPDATE, &st);
    if (rc == OK) {
        char now[STORE_TIME_LEN];
        struct binder b = { st, 0, SQLITE_OK };
        bind_text(&b, u->username);
        bind_text(&b, username_lc);
        bind_text(&b, u->email);
        bind_text(&b, email_lc);
        bind_text(&b, u->given_name);
        bind_text(&b, u->family_name);
        bind_text(&b, u->display_name);
        bind_text(&b, u->status);
        bind_opt(&b, u->idp_id);
        bind_int(&b, u->scim_managed);
        bind_text(&b, time_or_now(u->updated_at, now));
        bind_text(&b, u->tenant_id);
        bind_text(&b, u->id);
        rc = changed_one(tx, exec_stmt(tx, &b, "update user"));
        stmt_done(tx, st);
    }
    free(username_lc);
    free(email_lc);
    return rc;
}

static enum status sqlite_user_get(struct store_tx *tx, const char *tenant_id, const char *id,
                                   struct store_user *out)
{
    memset(out, 0, sizeof(*out));
    if (tenant_id == NULL)
        return find_one(tx, SQL_USER_GET_ANY, &id, 1, read_user_copy, out, "get user");
    const char *keys[] = { tenant_id, id };
    return find_one(tx, SQL_USER_GET, keys, 2, read_user_copy, out, "get user");
}

static enum status sqlite_user_find_match(struct store_tx *tx, const char *tenant_id,
                                          const char *email, const char *username,
                                          struct store_user *out)
{
    memset(out, 0, sizeof(*out));
    if (email == NULL && username == NULL)
        return ERR_NOT_FOUND;
    char *email_lc = sqlgen_lower_dup(email);
    char *username_lc = sqlgen_lower_dup(username);
    enum status rc = ERR_NOMEM;
    if ((email == NULL || email_lc != NULL) && (username == NULL || username_lc != NULL)) {
        /* A NULL key binds NULL, which equals nothing: that argument is ignored. */
        const char *keys[] = { tenant_id, email_lc, username_lc };
        rc = find_one(tx, SQL_USER_FIND_MATCH, keys, 3, read_user_copy, out, "match user");
    }
    free(email_lc);
    free(username_lc);
    return rc;
}

static enum status each_user(sqlite3_stmt *st, any_fn fn, void *ctx)
{
    struct store_user u;
    read_user(st, &u, false);
    return ((store_user_fn)fn)(ctx, &u);
}

static enum status sqlite_user_each(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                                    store_user_fn fn, void *ctx)
{
    if (idp_id == NULL)
        return for_each(tx, SQL_USER_EACH, &tenant_id, 1, each_user, (any_fn)fn, ctx, "list users");
    const char *keys[] = { tenant_id, idp_id };
    return for_each(tx, SQL_USER_EACH_IDP, keys, 2, each_user, (any_fn)fn, ctx, "list users");
}

/* ---- IdP user rows ------------------------------------------------------------------ */

static const char SQL_IDP_USER_INSERT[] =
    "INSERT INTO idp_users (tenant_id, idp_id, user_id, external_id, user_name, user_name_lc, "
    "active, deleted, version, doc, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_IDP_USER_UPDATE[] =
    "UPDATE idp_users SET external_id = ?, user_name = ?, user_name_lc = ?, active = ?, "
    "deleted = ?, version = ?, doc = ?, updated_at = ? "
    "WHERE tenant_id = ? AND idp_id = ? AND user_id = ?";
static const char SQL_IDP_USER_GET[] = "SELECT " SQLGEN_IDP_USER_COLUMNS " FROM idp_users "
                                       "WHERE tenant_id = ? AND idp_id = ? AND user_id = ?";
static const char SQL_IDP_USER_BY_EXTERNAL_ID[] =
    "SELECT " SQLGEN_IDP_USER_COLUMNS " FROM idp_users "
    "WHERE tenant_id = ? AND idp_id = ? AND external_id = ?";
static const char SQL_IDP_USER_BY_USER_NAME[] =
    "SELECT " SQLGEN_IDP_USER_COLUMNS " FROM idp_users "
    "WHERE tenant_id = ? AND idp_id = ? AND user_name_lc = ? AND deleted = 0";
static const char SQL_IDP_USER_EACH_OF_USER[] =
    "SELECT " SQLGEN_IDP_USER_COLUMNS " FROM idp_users "
    "WHERE tenant_id = ? AND user_id = ? ORDER BY created_at, idp_id";
static const char SQL_EMAILS_DELETE[] =
    "DELETE FROM idp_user_emails WHERE tenant_id = ? AND idp_id = ? AND user_id = ?";
/* The same address twice in one user is one index entry. */
static const char SQL_EMAILS_INSERT[] =
    "INSERT OR IGNORE INTO idp_user_emails (tenant_id, idp_id, user_id, value_lc) "
    "VALUES (?, ?, ?, ?)";

/* Fill r from a row (SQLGEN_IDP_USER_COLUMNS): heap copies when copy, else borrowed views. */
static enum status read_idp_user(sqlite3_stmt *st, struct store_idp_user *r, bool copy)
{
    memset(r, 0, sizeof(*r));
    col_copy(st, SQLGEN_IU_TENANT_ID, r->tenant_id, sizeof(r->tenant_id));
    col_copy(st, SQLGEN_IU_IDP_ID, r->idp_id, sizeof(r->idp_id));
    col_copy(st, SQLGEN_IU_USER_ID, r->user_id, sizeof(r->user_id));
    r->active = sqlite3_column_int(st, SQLGEN_IU_ACTIVE) != 0;
    r->deleted = sqlite3_column_int(st, SQLGEN_IU_DELETED) != 0;
    r->version = sqlite3_column_int64(st, SQLGEN_IU_VERSION);
    col_copy(st, SQLGEN_IU_CREATED_AT, r->created_at, sizeof(r->created_at));
    col_copy(st, SQLGEN_IU_UPDATED_AT, r->updated_at, sizeof(r->updated_at));
    if (!copy) {
        r->external_id = col_view(st, SQLGEN_IU_EXTERNAL_ID);
        r->user_name = col_view(st, SQLGEN_IU_USER_NAME);
        r->doc = col_view(st, SQLGEN_IU_DOC);
        return OK;
    }
    if (!col_dup(st, SQLGEN_IU_EXTERNAL_ID, &r->external_id) ||
        !col_dup(st, SQLGEN_IU_USER_NAME, &r->user_name) || !col_dup(st, SQLGEN_IU_DOC, &r->doc)) {
        store_idp_user_release(r);
        return ERR_NOMEM;
    }
    return OK;
}

static enum status read_idp_user_copy(sqlite3_stmt *st, void *out)
{
    return read_idp_user(st, out, true);
}

/* Replace the email index entries of r with r->emails. */
static enum status emails_write(struct store_tx *tx, const struct store_idp_user *r)
{
    sqlite3_stmt *st;
    enum status rc = stmt_prepare(tx, SQL_EMAILS_DELETE, &st);
    if (rc != OK)
        return rc;
    struct binder b = { st, 0, SQLITE_OK };
    bind_text(&b, r->tenant_id);
    bind_text(&b, r->idp_id);
    bind_text(&b, r->user_id);
    rc = exec_stmt(tx, &b, "delete emails");
    stmt_done(tx, st);
    for (size_t i = 0; rc == OK && i < r->n_emails; i++) {
        if (r->emails[i] == NULL)
            continue;
        char *lc = sqlgen_lower_dup(r->emails[i]);
        if (lc == NULL)
            return ERR_NOMEM;
        rc = stmt_prepare(tx, SQL_EMAILS_INSERT, &st);
        if (rc == OK) {
            b = (struct binder){ st, 0, SQLITE_OK };
            bind_text(&b, r->tenant_id);
            bind_text(&b, r->idp_id);
            bind_text(&b, r->user_id);
            bind_text(&b, lc);
            rc = exec_stmt(tx, &b, "insert email");
            stmt_done(tx, st);
        }
        free(lc);
    }
    return rc;
}

static enum status sqlite_idp_user_insert(struct store_tx *tx, const struct store_idp_user *r)
{
    char *user_name_lc = sqlgen_lower_dup(r->user_name);
    if (r->user_name != NULL && user_name_lc == NULL)
        return ERR_NOMEM;
    sqlite3_stmt *st;
    enum status rc = stmt_prepare(tx, SQL_IDP_USER_INSERT, &st);
    if (rc == OK) {
        char now[STORE_TIME_LEN];
        struct binder b = { st, 0, SQLITE_OK };
        bind_text(&b, r->tenant_id);
        bind_text(&b, r->idp_id);
        bind_text(&b, r->user_id);
        bind_text(&b, r->external_id);
        bind_text(&b, r->user_name);
        bind_text(&b, user_name_lc);
        bind_int(&b, r->active);
        bind_int(&b, r->deleted);
        bind_int(&b, r->version);
        bind_text(&b, r->doc);
        const char *created_at = time_or_now(r->created_at, now);
        bind_text(&b, created_at);
        bind_text(&b, r->updated_at[0] ? r->updated_at : created_at);
        rc = exec_stmt(tx, &b, "insert idp user");
        stmt_done(tx, st);
    }
    free(user_name_lc);
    return rc == OK ? emails_write(tx, r) : rc;
}

static enum status sqlite_idp_user_update(struct store_tx *tx, const struct store_idp_user *r)
{
    char *user_name_lc = sqlgen_lower_dup(r->user_name);
    if (r->user_name != NULL && user_name_lc == NULL)
        return ERR_NOMEM;
    sqlite3_stmt *st;
    enum status rc = stmt_prepare(tx, SQL_IDP_USER_UPDATE, &st);
    if (rc == OK) {
        char now[STORE_TIME_LEN];
        struct binder b = { st, 0, SQLITE_OK };
        bind_text(&b, r->external_id);
        bind_text(&b, r->user_name);
        bind_text(&b, user_name_lc);
        bind_int(&b, r->active);
        bind_int(&b, r->deleted);
        bind_int(&b, r->version);
        bind_text(&b, r->doc);
        bind_text(&b, time_or_now(r->updated_at, now));
        bind_text(&b, r->tenant_id);
        bind_text(&b, r->idp_id);
        bind_text(&b, r->user_id);
        rc = changed_one(tx, exec_stmt(tx, &b, "update idp user"));
        stmt_done(tx, st);
    }
    free(user_name_lc);
    return rc == OK ? emails_write(tx, r) : rc;
}

/* One row by three keys.  Its emails are left NULL: they only feed the index, which every
 * insert and update rewrites from the caller's r->emails. */
static enum status idp_user_find(struct store_tx *tx, const char *sql, const char *const *keys,
                                 struct store_idp_user *out)
{
    memset(out, 0, sizeof(*out));
    return find_one(tx, sql, keys, 3, read_idp_user_copy, out, "get idp user");
}

static enum status sqlite_idp_user_get(struct store_tx *tx, const char *tenant_id,
                                       const char *idp_id, const char *user_id,
                                       struct store_idp_user *out)
{
    const char *keys[] = { tenant_id, idp_id, user_id };
    return idp_user_find(tx, SQL_IDP_USER_GET, keys, out);
}

static enum status sqlite_idp_user_by_external_id(struct store_tx *tx, const char *tenant_id,
                                                  const char *idp_id, const char *external_id,
                                                  struct store_idp_user *out)
{
    const char *keys[] = { tenant_id, idp_id, external_id };
    return idp_user_find(tx, SQL_IDP_USER_BY_EXTERNAL_ID, keys, out);
}

static enum status sqlite_idp_user_by_user_name(struct store_tx *tx, const char *tenant_id,
                                                const char *idp_id, const char *user_name,
                                                struct store_idp_user *out)
{
    memset(out, 0, sizeof(*out));
    char *lc = sqlgen_lower_dup(user_name);
    if (user_name != NULL && lc == NULL)
        return ERR_NOMEM;
    const char *keys[] = { tenant_id, idp_id, lc };
    enum status rc = idp_user_find(tx, SQL_IDP_USER_BY_USER_NAME, keys, out);
    free(lc);
    return rc;
}

static enum status each_idp_user(sqlite3_stmt *st, any_fn fn, void *ctx)
{
    struct store_idp_user r;
    read_idp_user(st, &r, false);
    return ((store_idp_user_fn)fn)(ctx, &r);
}

static enum status sqlite_idp_user_each_of_user(struct store_tx *tx, const char *tenant_id,
                                                const char *user_id, store_idp_user_fn fn,
                                                void *ctx)
{
    const char *keys[] = { tenant_id, user_id };
    return for_each(tx, SQL_IDP_USER_EACH_OF_USER, keys, 2, each_idp_user, (any_fn)fn, ctx,
                    "list idp users");
}

/* Run a statement built by sqlgen, calling each(row) until it fails. */
static enum status run_sqlgen(struct store_tx *tx, const struct sqlgen *g, row_fn each, any_fn fn,
                              void *ctx, const char *what)
{
    sqlite3_stmt *st;
    enum status rc = stmt_prepare(tx, g->sql.data, &st);
    if (rc != OK)
        return rc;
    struct binder b = { st, 0, SQLITE_OK };
    bind_sqlgen(&b, g);
    while ((rc = next_row(tx, &b, what)) == OK) {
        rc = each(st, fn, ctx);
        if (rc != OK)
            break;
    }
    stmt_done(tx, st);
    return rc == ERR_NOT_FOUND ? OK : rc;
}

static enum status read_count(sqlite3_stmt *st, any_fn fn, void *ctx)
{
    (void)fn;
    sqlite3_int64 n = sqlite3_column_int64(st, 0);
    *(size_t *)ctx = n > 0 ? (size_t)n : 0;
    return OK;
}

/* A search built by build: the count when exact (unless skipped), then the rows. */
static enum status run_search(struct store_tx *tx, const struct store_search *q,
                              sqlgen_search_fn build, row_fn each, any_fn fn, void *ctx,
                              struct store_search_result *res, const char *what)
{
    struct sqlgen count, rows;
    sqlgen_init(&count, &sqlgen_sqlite);
    sqlgen_init(&rows, &sqlgen_sqlite);
    bool exact = false;
    enum status rc = build(q, &count, &rows, &exact);
    res->exact = exact;
    res->total = 0;
    if (rc == OK && exact && !q->skip_count)
        rc = run_sqlgen(tx, &count, read_count, NULL, &res->total, what);
    if (rc == OK && (!exact || q->limit > 0))
        rc = run_sqlgen(tx, &rows, each, fn, ctx, what);
    sqlgen_release(&count);
    sqlgen_release(&rows);
    return rc;
}

static enum status sqlite_idp_user_search(struct store_tx *tx, const struct store_search *q,
                                          store_idp_user_fn fn, void *ctx,
                                          struct store_search_result *res)
{
    return run_search(tx, q, sqlgen_user_search, each_idp_user, (any_fn)fn, ctx, res,
                      "search idp users");
}

/* ---- groups ------------------------------------------------------------------------- */

static const char SQL_GROUP_INSERT[] =
    "INSERT INTO groups (tenant_id, idp_id, id, external_id, display_name, display_name_lc, "
    "version, doc, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_GROUP_UPDATE[] =
    "UPDATE groups SET external_id = ?, display_name = ?, display_name_lc = ?, version = ?, "
    "doc = ?, updated_at = ? WHERE tenant_id = ? AND idp_id = ? AND id = ?";
static const char SQL_GROUP_GET[] = "SELECT " SQLGEN_GROUP_COLUMNS " FROM groups "
                                    "WHERE tenant_id = ? AND idp_id = ? AND id = ?";
static const char SQL_GROUP_BY_EXTERNAL_ID[] =
    "SELECT " SQLGEN_GROUP_COLUMNS " FROM groups "
    "WHERE tenant_id = ? AND idp_id = ? AND external_id = ?";
static const char SQL_GROUP_DELETE[] =
    "DELETE FROM groups WHERE tenant_id = ? AND idp_id = ? AND id = ?";
static const char SQL_USER_LIVE[] =
    "SELECT 1 FROM idp_users "
    "WHERE tenant_id = ? AND idp_id = ? AND user_id = ? AND deleted = 0";
static const char SQL_MEMBER_ADD[] =
    "INSERT OR IGNORE INTO group_members (tenant_id, idp_id, group_id, user_id) VALUES (?, ?, ?, ?)";
static const char SQL_MEMBER_REMOVE[] =
    "DELETE FROM group_members "
    "WHERE tenant_id = ? AND idp_id = ? AND group_id = ? AND user_id = ?";
static const char SQL_MEMBERS_EACH[] =
    "SELECT user_id FROM group_members "
    "WHERE tenant_id = ? AND idp_id = ? AND group_id = ? ORDER BY user_id";
static const char SQL_MEMBERS_EACH_LIVE[] =
    "SELECT m.user_id FROM group_members AS m JOIN idp_users AS u ON u.tenant_id = m.tenant_id "
    "AND u.idp_id = m.idp_id AND u.user_id = m.user_id AND u.deleted = 0 "
    "WHERE m.tenant_id = ? AND m.idp_id = ? AND m.group_id = ? ORDER BY m.user_id";
static const char SQL_MEMBERS_CLEAR[] =
    "DELETE FROM group_members WHERE tenant_id = ? AND idp_id = ? AND group_id = ?";
static const char SQL_USER_IN_GROUPS[] =
    "SELECT 1 FROM group_members WHERE tenant_id = ? AND idp_id = ? AND user_id = ? LIMIT 1";
static const char SQL_GROUPS_OF_USER[] =
    "SELECT g.id, g.display_name FROM group_members AS m JOIN groups AS g ON g.tenant_id = "
    "m.tenant_id AND g.idp_id = m.idp_id AND g.id = m.group_id "
    "WHERE m.tenant_id = ? AND m.idp_id = ? AND m.user_id = ? ORDER BY m.group_id";

static enum status read_group(sqlite3_stmt *st, struct store_group *g, bool copy)
{
    memset(g, 0, sizeof(*g));
    col_copy(st, SQLGEN_G_TENANT_ID, g->tenant_id, sizeof(g->tenant_id));
    col_copy(st, SQLGEN_G_IDP_ID, g->idp_id, sizeof(g->idp_id));
    col_copy(st, SQLGEN_G_ID, g->id, sizeof(g->id));
    g->version = sqlite3_column_int64(st, SQLGEN_G_VERSION);
    col_copy(st, SQLGEN_G_CREATED_AT, g->created_at, sizeof(g->created_at));
    col_copy(st, SQLGEN_G_UPDATED_AT, g->updated_at, sizeof(g->updated_at));
    if (!copy) {
        g->external_id = col_view(st, SQLGEN_G_EXTERNAL_ID);
        g->display_name = col_view(st, SQLGEN_G_DISPLAY_NAME);
        g->doc = col_view(st, SQLGEN_G_DOC);
        return OK;
    }
    if (!col_dup(st, SQLGEN_G_EXTERNAL_ID, &g->external_id) ||
        !col_dup(st, SQLGEN_G_DISPLAY_NAME, &g->display_name) ||
        !col_dup(st, SQLGEN_G_DOC, &g->doc)) {
        store_group_release(g);
        return ERR_NOMEM;
    }
    return OK;
}

static enum status read_group_copy(sqlite3_stmt *st, void *out)
{
    return read_group(st, out, true);
}

static enum status group_write(struct store_tx *tx, const struct store_group *g, bool insert)
{
    char *lc = sqlgen_lower_dup(g->display_name);
    if (g->display_name != NULL && lc == NULL)
        return ERR_NOMEM;
    sqlite3_stmt *st;
    enum status rc = stmt_prepare(tx, insert ? SQL_GROUP_INSERT : SQL_GROUP_UPDATE, &st);
    if (rc == OK) {
        char now[STORE_TIME_LEN];
        struct binder b = { st, 0, SQLITE_OK };
        if (insert) {
            bind_text(&b, g->tenant_id);
            bind_text(&b, g->idp_id);
            bind_text(&b, g->id);
        }
        bind_text(&b, g->external_id);
        bind_text(&b, g->display_name);
        bind_text(&b, lc);
        bind_int(&b, g->version);
        bind_text(&b, g->doc);
        if (insert) {
            const char *created_at = time_or_now(g->created_at, now);
            bind_text(&b, created_at);
            bind_text(&b, g->updated_at[0] ? g->updated_at : created_at);
            rc = exec_stmt(tx, &b, "insert group");
        } else {
            bind_text(&b, time_or_now(g->updated_at, now));
            bind_text(&b, g->tenant_id);
            bind_text(&b, g->idp_id);
            bind_text(&b, g->id);
            rc = changed_one(tx, exec_stmt(tx, &b, "update group"));
        }
        stmt_done(tx, st);
    }
    free(lc);
    return rc;
}

static enum status sqlite_group_insert(struct store_tx *tx, const struct store_group *g)
{
    return group_write(tx, g, true);
}

static enum status sqlite_group_update(struct store_tx *tx, const struct store_group *g)
{
    return group_write(tx, g, false);
}

static enum status sqlite_group_get(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                                    const char *id, struct store_group *out)
{
    memset(out, 0, sizeof(*out));
    const char *keys[] = { tenant_id, idp_id, id };
    return find_one(tx, SQL_GROUP_GET, keys, 3, read_group_copy, out, "get group");
}

static enum status sqlite_group_by_external_id(struct store_tx *tx, const char *tenant_id,
                                               const char *idp_id, const char *external_id,
                                               struct store_group *out)
{
    memset(out, 0, sizeof(*out));
    const char *keys[] = { tenant_id, idp_id, external_id };
    return find_one(tx, SQL_GROUP_BY_EXTERNAL_ID, keys, 3, read_group_copy, out, "get group");
}

static enum status sqlite_group_delete(struct store_tx *tx, const char *tenant_id,
                                       const char *idp_id, const char *id)
{
    /* member rows go with the group (ON DELETE CASCADE) */
    const char *keys[] = { tenant_id, idp_id, id };
    int changes = 0;
    enum status rc = exec_keys(tx, SQL_GROUP_DELETE, keys, 3, &changes, "delete group");
    return rc == OK && changes == 0 ? ERR_NOT_FOUND : rc;
}

static enum status read_nothing(sqlite3_stmt *st, void *out)
{
    (void)st;
    (void)out;
    return OK;
}

static enum status sqlite_users_missing(struct store_tx *tx, const char *tenant_id,
                                        const char *idp_id, const char *const *user_ids, size_t n,
                                        store_id_fn fn, void *ctx)
{
    for (size_t i = 0; i < n; i++) {
        const char *keys[] = { tenant_id, idp_id, user_ids[i] };
        enum status rc = find_one(tx, SQL_USER_LIVE, keys, 3, read_nothing, NULL, "live user");
        if (rc == ERR_NOT_FOUND)
            rc = fn(ctx, user_ids[i]);
        if (rc != OK)
            return rc;
    }
    return OK;
}

/* One statement per member, each an index probe: the cost of a change does
 * not depend on the size of the group. */
static enum status members_change(struct store_tx *tx, const char *sql, const char *tenant_id,
                                  const char *idp_id, const char *group_id,
                                  const char *const *user_ids, size_t n, store_id_fn fn, void *ctx)
{
    for (size_t i = 0; i < n; i++) {
        const char *keys[] = { tenant_id, idp_id, group_id, user_ids[i] };
        int changes = 0;
        enum status rc = exec_keys(tx, sql, keys, 4, &changes, "change member");
        if (rc == OK && changes > 0 && fn != NULL)
            rc = fn(ctx, user_ids[i]);
        if (rc != OK)
            return rc;
    }
    return OK;
}

static enum status sqlite_group_members_add(struct store_tx *tx, const char *tenant_id,
                                            const char *idp_id, const char *group_id,
                                            const char *const *user_ids, size_t n, store_id_fn fn,
                                            void *ctx)
{
    return members_change(tx, SQL_MEMBER_ADD, tenant_id, idp_id, group_id, user_ids, n, fn, ctx);
}

static enum status sqlite_group_members_remove(struct store_tx *tx, const char *tenant_id,
                                               const char *idp_id, const char *group_id,
                                               const char *const *user_ids, size_t n,
                                               store_id_fn fn, void *ctx)
{
    return members_change(tx, SQL_MEMBER_REMOVE, tenant_id, idp_id, group_id, user_ids, n, fn, ctx);
}

static enum status each_id(sqlite3_stmt *st, any_fn fn, void *ctx)
{
    return ((store_id_fn)fn)(ctx, col_text(st, 0));
}

static enum status sqlite_group_members_clear(struct store_tx *tx, const char *tenant_id,
                                              const char *idp_id, const char *group_id,
                                              store_id_fn fn, void *ctx)
{
    const char *keys[] = { tenant_id, idp_id, group_id };
    enum status rc = OK;
    if (fn != NULL)
        rc = for_each(tx, SQL_MEMBERS_EACH, keys, 3, each_id, (any_fn)fn, ctx, "list members");
    return rc == OK ? exec_keys(tx, SQL_MEMBERS_CLEAR, keys, 3, NULL, "clear members") : rc;
}

static enum status sqlite_group_members_each(struct store_tx *tx, const char *tenant_id,
                                             const char *idp_id, const char *group_id,
                                             bool live_only, store_id_fn fn, void *ctx)
{
    const char *keys[] = { tenant_id, idp_id, group_id };
    return for_each(tx, live_only ? SQL_MEMBERS_EACH_LIVE : SQL_MEMBERS_EACH, keys, 3, each_id,
                    (any_fn)fn, ctx, "list members");
}

static enum status sqlite_user_in_groups(struct store_tx *tx, const char *tenant_id,
                                         const char *idp_id, const char *user_id, bool *out)
{
    const char *keys[] = { tenant_id, idp_id, user_id };
    enum status rc = find_one(tx, SQL_USER_IN_GROUPS, keys, 3, read_nothing, NULL, "user groups");
    *out = rc == OK;
    return rc == ERR_NOT_FOUND ? OK : rc;
}

static enum status each_group_of(sqlite3_stmt *st, any_fn fn, void *ctx)
{
    return ((store_group_of_fn)fn)(ctx, col_text(st, 0), col_text(st, 1));
}

static enum status sqlite_groups_of_user_each(struct store_tx *tx, const char *tenant_id,
                                              const char *idp_id, const char *user_id,
                                              store_group_of_fn fn, void *ctx)
{
    const char *keys[] = { tenant_id, idp_id, user_id };
    return for_each(tx, SQL_GROUPS_OF_USER, keys, 3, each_group_of, (any_fn)fn, ctx,
                    "groups of user");
}

static enum status each_group(sqlite3_stmt *st, any_fn fn, void *ctx)
{
    struct store_group g;
    read_group(st, &g, false);
    return ((store_group_fn)fn)(ctx, &g);
}

static enum status sqlite_group_search(struct store_tx *tx, const struct store_search *q,
                                       store_group_fn fn, void *ctx,
                                       struct store_search_result *res)
{
    return run_search(tx, q, sqlgen_group_search, each_group, (any_fn)fn, ctx, res,
                      "search groups");
}

/* ---- events ------------------------------------------------------------------------- */

static const char SQL_EVENT_INSERT[] =
    "INSERT INTO events (tenant_id, id, at, type, idp_id, actor, subject_id, summary, source) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";

static enum status sqlite_event_append(struct store_tx *tx, struct store_event *e)
{
    enum status rc = crypto_uuid(e->id);
    if (rc != OK)
        return rc;
    clock_now_iso(e->at);
    sqlite3_stmt *st;
    rc = stmt_prepare(tx, SQL_EVENT_INSERT, &st);
    if (rc != OK)
        return rc;
    struct binder b = { st, 0, SQLITE_OK };
    bind_text(&b, e->tenant_id);
    bind_text(&b, e->id);
    bind_text(&b, e->at);
    bind_text(&b, e->type);
    bind_text(&b, e->idp_id);
    bind_text(&b, e->actor);
    bind_text(&b, e->subject_id);
    bind_text(&b, e->summary);
    bind_text(&b, e->source);
    rc = exec_stmt(tx, &b, "append event");
    if (rc == OK)
        e->seq = sqlite3_last_insert_rowid(tx->conn->db);
    stmt_done(tx, st);
    return rc;
}

/* Deliver one row of SQLGEN_EVENT_COLUMNS, its strings borrowed from the statement. */
static enum status each_event(sqlite3_stmt *st, any_fn fn, void *ctx)
{
    struct store_event e;
    memset(&e, 0, sizeof(e));
    e.seq = sqlite3_column_int64(st, 0);
    col_copy(st, 1, e.id, sizeof(e.id));
    col_copy(st, 2, e.at, sizeof(e.at));
    e.tenant_id = col_text(st, 3);
    e.idp_id = col_text(st, 4);
    e.type = col_text(st, 5);
    e.actor = col_text(st, 6);
    e.subject_id = col_text(st, 7);
    e.summary = col_text(st, 8);
    e.source = col_text(st, 9);
    return ((store_event_fn)fn)(ctx, &e);
}

static enum status sqlite_event_each(struct store_tx *tx, const struct store_event_query *q,
                                     store_event_fn fn, void *ctx)
{
    struct sqlgen g;
    sqlgen_init(&g, &sqlgen_sqlite);
    enum status rc = sqlgen_event_query(q, &g);
    if (rc == OK)
        rc = run_sqlgen(tx, &g, each_event, (any_fn)fn, ctx, "list events");
    sqlgen_release(&g);
    return rc;
}

/* ---- settings ----------------------------------------------------------------------- */

static const char SQL_SETTING_INSERT[] =
    "INSERT INTO settings (name, value, created_at) VALUES (?, ?, ?) "
    "ON CONFLICT (name) DO NOTHING";
static const char SQL_SETTING_GET[] = "SELECT value FROM settings WHERE name = ?";

struct setting_out {
    char *buf;
    size_t size;
};

static enum status read_setting(sqlite3_stmt *st, void *out)
{
    struct setting_out *o = out;
    const char *v = col_text(st, 0);
    if (v == NULL || strlen(v) >= o->size)
        return ERR_INVALID_VALUE;
    str_copy(o->buf, o->size, v);
    return OK;
}

static enum status sqlite_setting_claim(struct store_tx *tx, const char *name,
                                        const char *candidate, char *out, size_t out_size)
{
    char now[STORE_TIME_LEN];
    const char *values[] = { name, candidate, time_or_now(NULL, now) };
    enum status rc = exec_keys(tx, SQL_SETTING_INSERT, values, 3, NULL, "insert setting");
    if (rc != OK)
        return rc;
    struct setting_out o = { out, out_size };
    return find_one(tx, SQL_SETTING_GET, &name, 1, read_setting, &o, "read setting");
}

/* ---- the backend table -------------------------------------------------------------- */

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sqlite_close,
    .begin = sqlite_begin,
    .lock = sqlite_lock,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .tenant_insert = sqlite_tenant_insert,
    .tenant_find = sqlite_tenant_find,
    .tenant_each = sqlite_tenant_each,
    .idp_insert = sqlite_idp_insert,
    .idp_get = sqlite_idp_get,
    .idp_each = sqlite_idp_each,
    .token_insert = sqlite_token_insert,
    .token_get = sqlite_token_get,
    .token_by_hash = sqlite_token_by_hash,
    .token_revoke = sqlite_token_revoke,
    .token_touch = sqlite_token_touch,
    .token_each = sqlite_token_each,
    .user_insert = sqlite_user_insert,
    .user_update = sqlite_user_update,
    .user_get = sqlite_user_get,
    .user_find_match = sqlite_user_find_match,
    .user_each = sqlite_user_each,
    .idp_user_insert = sqlite_idp_user_insert,
    .idp_user_update = sqlite_idp_user_update,
    .idp_user_get = sqlite_idp_user_get,
    .idp_user_by_external_id = sqlite_idp_user_by_external_id,
    .idp_user_by_user_name = sqlite_idp_user_by_user_name,
    .idp_user_each_of_user = sqlite_idp_user_each_of_user,
    .idp_user_search = sqlite_idp_user_search,
    .group_insert = sqlite_group_insert,
    .group_update = sqlite_group_update,
    .group_get = sqlite_group_get,
    .group_by_external_id = sqlite_group_by_external_id,
    .group_delete = sqlite_group_delete,
    .group_search = sqlite_group_search,
    .users_missing = sqlite_users_missing,
    .group_members_add = sqlite_group_members_add,
    .group_members_remove = sqlite_group_members_remove,
    .group_members_clear = sqlite_group_members_clear,
    .group_members_each = sqlite_group_members_each,
    .user_in_groups = sqlite_user_in_groups,
    .groups_of_user_each = sqlite_groups_of_user_each,
    .setting_claim = sqlite_setting_claim,
    .event_append = sqlite_event_append,
    .event_each = sqlite_event_each,
};
