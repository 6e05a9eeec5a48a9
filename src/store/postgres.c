/*
 * postgres.c - this file contains the PostgreSQL implementation of store.h:
 * the connection pool, transactions, migrations under an advisory lock, the
 * per-connection prepared statement cache, and every record's SQL (the
 * statements of sqlite.c in PostgreSQL's dialect).
 *
 * Connections are opened lazily up to pool_size; a transaction holds one for
 * its lifetime and a transaction that finds them all busy waits for one.
 * Write transactions run at READ COMMITTED; store_lock takes a
 * transaction-scoped advisory lock on a hash of its key, so SCIM writes on
 * the same resource never interleave on any node sharing the database (what
 * SQLite's single writer gives), while other writes run side by side.  Read transactions run at
 * REPEATABLE READ so that, as on SQLite, all their statements see one snapshot.
 *
 * A result is fetched whole before its rows reach a callback, so callbacks
 * may re-enter the store on the same transaction; scans the caller does not
 * bound (all users of a tenant, all members of a group, a search that is not
 * exact) go through a cursor a batch at a time instead.  Any error aborts a
 * PostgreSQL transaction: the transaction's later calls return that status
 * without running.  Inserts use ON CONFLICT DO NOTHING, so a duplicate is
 * ERR_UNIQUENESS and the transaction goes on, as on SQLite.  A lost
 * connection is ERR_UNAVAILABLE: it is closed, and the next transaction opens
 * a fresh one.  libpq errors become statuses here and nowhere else.
 *
 * No answer is awaited without bound: the server cancels a statement after
 * the store's timeout (db_timeout_ms in the URL, default DB_TIMEOUT_MS_DEFAULT),
 * and a server that does not answer at all (stopped, hung) is given
 * DEADLINE_GRACE_MS more before the connection is dropped, never reused, and
 * the transaction fails with ERR_UNAVAILABLE.  Connecting is bounded by
 * connect_timeout, a dead peer is noticed by TCP keepalives.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
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
#include "migrations_postgres.h"

#define STORE_POOL_DEFAULT 16    /* when store_open is given pool_size 0 */
#define STMT_CACHE_MAX     128   /* prepared statements per connection; more run unprepared */
#define STMT_NAME_MAX      16    /* "s<index>" */
#define STMT_MAX_PARAMS    16    /* parameters of the fixed statements */
#define INT_TEXT_MAX       24    /* an int64 in decimal, sign and NUL */
#define CURSOR_SQL_MAX     64    /* FETCH / CLOSE of one cursor */
#define FETCH_ROWS         500   /* rows per batch of a streamed scan */
#define ID_BATCH_MAX       1000  /* member ids per statement */
#define POOL_WAIT_MS       30000 /* longest wait for a pooled connection */
#define WARN_INTERVAL_MS   10000 /* repeated warnings at most this often */
#define ERROR_TEXT_MAX     256   /* one line of a libpq message */
#define CONNECT_TIMEOUT_S  "5"   /* unless the URL says otherwise */
/* Longest wait for one answer of the database (db_timeout_ms in the URL overrides
 * it): the server cancels a statement after this long (statement_timeout, also
 * the longest wait for a row or store_lock lock), and when even that answer
 * does not come within DEADLINE_GRACE_MS more (a hung or stopped server), the
 * connection is dropped and the transaction fails with ERR_UNAVAILABLE. */
#define DB_TIMEOUT_MS_DEFAULT 10000
#define DB_TIMEOUT_MS_MAX     3600000
#define DEADLINE_GRACE_MS     1000
#define DB_TIMEOUT_PARAM      "db_timeout_ms" /* URL query parameter, removed before libpq sees it */
#define SESSION_SQL_MAX       256
#define MIGRATION_LOCK_WAIT   "300s" /* longest wait for another node's migrations */
/* The session advisory lock held while migrating ("scimd" + 1). */
#define MIGRATION_LOCK_KEY INT64_C(0x7363696d64000001)

/* ---- types -------------------------------------------------------------------------- */

struct cached_stmt {
    char *sql;
    uint64_t hash;
};

struct conn {
    PGconn *pg;
    struct cached_stmt cache[STMT_CACHE_MAX]; /* cache[i] is prepared as "s<i>" */
    size_t n_cache;
    unsigned cursors;  /* cursor names handed out */
    bool broken;       /* the session is gone or unusable: close it, never reuse it */
    bool timed_out;    /* broken because the server did not answer in time */
    int64_t wait_ms;   /* longest wait for an answer; 0: no limit (migrations) */
    struct conn *next; /* idle list */
};

struct store {
    struct store_head head; /* first: store.c dispatches through it */
    char *url;              /* without DB_TIMEOUT_PARAM */
    int64_t timeout_ms;     /* statement_timeout; answers are awaited DEADLINE_GRACE_MS longer */
    unsigned pool_size;
    unsigned n_conns; /* open connections, idle or in a transaction */
    struct conn *idle;
    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cv; /* on CLOCK_MONOTONIC */
    int64_t busy_warned_ms; /* last warnings (clock_mono_ms), under pool_mu; 0: never */
    int64_t connect_warned_ms;
};

struct store_tx {
    struct store_head head; /* first: store.c dispatches through it */
    struct store *store;
    struct conn *conn;
    enum status failed; /* the first failed statement: PostgreSQL aborted the transaction */
};

static const struct store_ops postgres_ops;

/* ---- errors ------------------------------------------------------------------------- */

/* SQLSTATEs that are not plain failures.  Any FATAL or PANIC error (the
 * shutdowns 57P01-57P03 among them) also ends the session. */
/* clang-format off */
static const struct sqlstate_rule {
    const char *code; /* a SQLSTATE, or a two-character class */
    enum status status;
    bool gone;        /* the session cannot be used again */
} sqlstate_rules[] = {
    { "23505", ERR_UNIQUENESS,  false }, /* unique_violation */
    { "40001", ERR_UNAVAILABLE, false }, /* serialization_failure */
    { "40P01", ERR_UNAVAILABLE, false }, /* deadlock_detected */
    { "55P03", ERR_UNAVAILABLE, false }, /* lock_not_available: lock_timeout */
    { "08",    ERR_UNAVAILABLE, true  }, /* connection_exception */
    { "53",    ERR_UNAVAILABLE, false }, /* insufficient_resources */
    { "57",    ERR_UNAVAILABLE, false }, /* operator_intervention: cancel, shutdown */
};
/* clang-format on */

/* The first line of a libpq message, at most ERROR_TEXT_MAX bytes, without
 * the severity ("FATAL:  ") libpq puts before a server's message. */
static void first_line(const char *text, char out[ERROR_TEXT_MAX])
{
    text = text ? text : "";
    size_t k = 0;
    while (text[k] >= 'A' && text[k] <= 'Z')
        k++;
    if (k > 0 && strncmp(text + k, ":  ", 3) == 0)
        text += k + 3;
    str_copy(out, ERROR_TEXT_MAX, text);
    out[strcspn(out, "\r\n")] = '\0';
    if (out[0] == '\0')
        str_copy(out, ERROR_TEXT_MAX, "unknown error");
}

/*
 * The status of a statement's result on c (res NULL: nothing came back).
 * Failures are logged once, here, with the server's primary message, which
 * carries no values (terse verbosity, no DETAIL); a session that cannot go
 * on is marked broken so that it is closed instead of pooled.
 */
static enum status pg_status(struct conn *c, const PGresult *res, const char *what)
{
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return OK;
    if (res == NULL && c->timed_out)
        return ERR_UNAVAILABLE; /* logged by conn_await */
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *severity = res ? PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED) : NULL;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char msg[ERROR_TEXT_MAX];
    first_line(primary ? primary : PQerrorMessage(c->pg), msg);

    bool gone = PQstatus(c->pg) != CONNECTION_OK || st == PGRES_BAD_RESPONSE ||
                (severity && (strcmp(severity, "FATAL") == 0 || strcmp(severity, "PANIC") == 0));
    enum status rc = ERR_STORE;
    for (size_t i = 0; state && i < sizeof(sqlstate_rules) / sizeof(sqlstate_rules[0]); i++) {
        const struct sqlstate_rule *r = &sqlstate_rules[i];
        if (strncmp(state, r->code, strlen(r->code)) == 0) {
            rc = r->status;
            gone = gone || r->gone;
            break;
        }
    }
    if (gone) {
        c->broken = true;
        rc = ERR_UNAVAILABLE;
    }
    if (rc == ERR_UNIQUENESS)
        return rc;
    if (rc == ERR_UNAVAILABLE)
        log_warn("store: %s: %s%s", what, msg, gone ? " (PostgreSQL connection closed)" : "");
    else
        log_error("store: %s: %s (SQLSTATE %s)", what, msg, state ? state : "none");
    return rc;
}

/* May a warning of this kind be logged now?  The first time, then every
 * WARN_INTERVAL_MS.  Caller holds pool_mu. */
static bool warn_due(int64_t *last_ms)
{
    int64_t now = clock_mono_ms();
    if (*last_ms != 0 && now - *last_ms < WARN_INTERVAL_MS)
        return false;
    *last_ms = now != 0 ? now : 1;
    return true;
}

/* ---- waiting for the server --------------------------------------------------------- */

/*
 * Every command goes out with libpq's asynchronous calls on a non-blocking
 * socket, and its answer is awaited with poll() for at most c->wait_ms: TCP
 * keepalives notice a dead peer, but not a server that is up and does not
 * answer (stopped, hung on a full disk), and a request must not wait for it
 * without bound.
 */

/* Wait until c's socket is ready (readable, or writable too when want_write)
 * or deadline_ms (clock_mono_ms; 0: none) passes.  False on timeout or failure. */
static bool conn_poll(struct conn *c, bool want_write, int64_t deadline_ms)
{
    struct pollfd p = { .fd = PQsocket(c->pg), .events = POLLIN };
    if (p.fd < 0)
        return false;
    if (want_write)
        p.events |= POLLOUT;
    for (;;) {
        int timeout = -1;
        if (deadline_ms != 0) {
            int64_t left = deadline_ms - clock_mono_ms();
            if (left <= 0)
                return false;
            timeout = left > INT32_MAX ? INT32_MAX : (int)left;
        }
        int n = poll(&p, 1, timeout);
        if (n > 0)
            return true;
        if (n == 0 || errno != EINTR)
            return false;
    }
}

/* The server did not answer in time: the session is dropped, never reused (a
 * late answer would be taken for the next command's). */
static void conn_timed_out(struct conn *c, const char *what)
{
    c->broken = true;
    c->timed_out = true;
    log_warn("store: %s: PostgreSQL did not answer within %lld ms (connection dropped)", what,
             (long long)c->wait_ms);
}

/*
 * The result of the command just sent on c (PQsend*: sent is its return
 * value), as PQexec gives it: the first failed result of a script, else its
 * last result.  NULL when nothing came back: the connection failed (see
 * PQerrorMessage), or the deadline passed and c is marked timed out.
 */
static PGresult *conn_await(struct conn *c, int sent, const char *what)
{
    if (!sent)
        return NULL;
    int64_t deadline = c->wait_ms > 0 ? clock_mono_ms() + c->wait_ms : 0;
    int flushed;
    while ((flushed = PQflush(c->pg)) == 1) {
        if (!conn_poll(c, true, deadline)) {
            conn_timed_out(c, what);
            return NULL;
        }
        if (!PQconsumeInput(c->pg))
            return NULL;
    }
    if (flushed < 0)
        return NULL;
    PGresult *kept = NULL;
    for (;;) {
        while (PQisBusy(c->pg)) {
            if (!conn_poll(c, false, deadline)) {
                PQclear(kept);
                conn_timed_out(c, what);
                return NULL;
            }
            if (!PQconsumeInput(c->pg))
                break; /* PQgetResult reports the failure */
        }
        PGresult *res = PQgetResult(c->pg);
        if (res == NULL)
            return kept;
        ExecStatusType st = PQresultStatus(res);
        bool failed = st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK;
        if (kept != NULL && PQresultStatus(kept) != PGRES_COMMAND_OK &&
            PQresultStatus(kept) != PGRES_TUPLES_OK) {
            PQclear(res); /* the first failure stands */
        } else {
            PQclear(kept);
            kept = res;
        }
        if (failed && PQstatus(c->pg) != CONNECTION_OK)
            return kept;
    }
}

/* PQexec through conn_await. */
static PGresult *conn_exec(struct conn *c, const char *sql, const char *what)
{
    return conn_await(c, PQsendQuery(c->pg, sql), what);
}

/* ---- statements --------------------------------------------------------------------- */

static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static uint64_t sql_hash(const char *s)
{
    return fnv1a(1469598103934665603ull, s);
}

/*
 * The name sql is prepared under on tx's connection, preparing it on first
 * use; name "" when the cache is full (the statement then runs unprepared).
 * Prepared statements outlive transactions, committed or not.
 */
static enum status stmt_prepared(struct store_tx *tx, const char *sql, char name[STMT_NAME_MAX],
                                 const char *what)
{
    struct conn *c = tx->conn;
    uint64_t h = sql_hash(sql);
    for (size_t i = 0; i < c->n_cache; i++) {
        if (c->cache[i].hash == h && strcmp(c->cache[i].sql, sql) == 0) {
            snprintf(name, STMT_NAME_MAX, "s%zu", i);
            return OK;
        }
    }
    name[0] = '\0';
    if (c->n_cache == STMT_CACHE_MAX)
        return OK;
    char *key = str_dup(sql);
    if (key == NULL)
        return ERR_NOMEM;
    snprintf(name, STMT_NAME_MAX, "s%zu", c->n_cache);
    PGresult *res = conn_await(c, PQsendPrepare(c->pg, name, sql, 0, NULL), what);
    enum status rc = pg_status(c, res, what);
    PQclear(res);
    if (rc != OK) {
        free(key);
        name[0] = '\0';
        tx->failed = rc;
        return rc;
    }
    c->cache[c->n_cache++] = (struct cached_stmt){ key, h };
    return OK;
}

/*
 * Run one statement of tx with n text parameters (NULL binds NULL): prepared
 * when prepare (the fixed statements), else sent with its text (dynamic SQL,
 * transaction control).  On OK *out holds the result, for PQclear.  After a
 * failure the transaction is aborted: later calls return that status at once.
 */
static enum status tx_run(struct store_tx *tx, const char *sql, int n, const char *const *values,
                          bool prepare, PGresult **out, const char *what)
{
    *out = NULL;
    if (tx->failed != OK)
        return tx->failed;
    struct conn *c = tx->conn;
    char name[STMT_NAME_MAX] = "";
    if (prepare) {
        enum status rc = stmt_prepared(tx, sql, name, what);
        if (rc != OK)
            return rc;
    }
    int sent = name[0] ? PQsendQueryPrepared(c->pg, name, n, values, NULL, NULL, 0)
                       : PQsendQueryParams(c->pg, sql, n, NULL, values, NULL, NULL, 0);
    PGresult *res = conn_await(c, sent, what);
    enum status rc = pg_status(c, res, what);
    if (rc != OK) {
        PQclear(res);
        tx->failed = rc;
        return rc;
    }
    *out = res;
    return OK;
}

/* Run a statement without parameters whose result is not needed (BEGIN, COMMIT, ...). */
static enum status tx_exec(struct store_tx *tx, const char *sql, const char *what)
{
    PGresult *res;
    enum status rc = tx_run(tx, sql, 0, NULL, false, &res, what);
    PQclear(res);
    return rc;
}

/* Collects the parameters of a fixed statement, in order. */
struct binder {
    const char *values[STMT_MAX_PARAMS];
    char ints[STMT_MAX_PARAMS][INT_TEXT_MAX];
    int n;
};

static void bind_text(struct binder *b, const char *s)
{
    assert(b->n < STMT_MAX_PARAMS);
    b->values[b->n++] = s;
}

/* "" (an unset inline field) binds NULL. */
static void bind_opt(struct binder *b, const char *s)
{
    bind_text(b, s && *s ? s : NULL);
}

static void bind_int(struct binder *b, int64_t v)
{
    assert(b->n < STMT_MAX_PARAMS);
    snprintf(b->ints[b->n], INT_TEXT_MAX, "%" PRId64, v);
    b->values[b->n] = b->ints[b->n];
    b->n++;
}

/* Rows a command changed (PQcmdTuples); 0 when it does not say. */
static long cmd_tuples(PGresult *res)
{
    long n = 0;
    return str_to_long(PQcmdTuples(res), 0, INT32_MAX, &n) ? n : 0;
}

/* Run a prepared statement that returns no rows; *changed (may be NULL) gets the rows changed. */
static enum status exec_stmt(struct store_tx *tx, const char *sql, const struct binder *b,
                             long *changed, const char *what)
{
    PGresult *res;
    enum status rc = tx_run(tx, sql, b->n, b->values, true, &res, what);
    if (changed != NULL)
        *changed = rc == OK ? cmd_tuples(res) : 0;
    PQclear(res);
    return rc;
}

/* Update/delete by key: ERR_NOT_FOUND when no row changed. */
static enum status exec_one(struct store_tx *tx, const char *sql, const struct binder *b,
                            const char *what)
{
    long changed = 0;
    enum status rc = exec_stmt(tx, sql, b, &changed, what);
    return rc == OK && changed == 0 ? ERR_NOT_FOUND : rc;
}

/* An INSERT ... ON CONFLICT DO NOTHING: ERR_UNIQUENESS when a unique key
 * already held the row (the transaction stays usable, as on SQLite). */
static enum status exec_insert(struct store_tx *tx, const char *sql, const struct binder *b,
                               const char *what)
{
    long changed = 0;
    enum status rc = exec_stmt(tx, sql, b, &changed, what);
    return rc == OK && changed == 0 ? ERR_UNIQUENESS : rc;
}

/* ---- columns ------------------------------------------------------------------------ */

/* One row of a result. */
struct row {
    PGresult *res;
    int i;
};

/* Borrowed column text, valid while the result lives; NULL for SQL NULL. */
static char *col_view(const struct row *r, int col)
{
    return PQgetisnull(r->res, r->i, col) ? NULL : PQgetvalue(r->res, r->i, col);
}

static const char *col_text(const struct row *r, int col)
{
    return col_view(r, col);
}

/* Copy a column into an inline field; NULL becomes "". */
static void col_copy(const struct row *r, int col, char *dst, size_t n)
{
    const char *s = col_text(r, col);
    str_copy(dst, n, s ? s : "");
}

/* Heap copy of a column; NULL stays NULL.  False on allocation failure. */
static bool col_dup(const struct row *r, int col, char **dst)
{
    const char *s = col_text(r, col);
    *dst = s ? str_dup(s) : NULL;
    return s == NULL || *dst != NULL;
}

/* An integer column (bigint, integer); NULL and junk read as 0. */
static int64_t col_int(const struct row *r, int col)
{
    const char *s = col_text(r, col);
    if (s == NULL || *s == '\0')
        return 0;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    return errno == 0 && *end == '\0' ? (int64_t)v : 0;
}

/* ---- running statements ------------------------------------------------------------- */

typedef enum status (*row_reader)(const struct row *r, void *out);
/* fn is the caller's typed callback, passed through as a generic function pointer. */
typedef void (*any_fn)(void);
typedef enum status (*row_fn)(const struct row *r, any_fn fn, void *ctx);

/* Run a one-row lookup with text keys, handing the row to read; ERR_NOT_FOUND. */
static enum status find_one(struct store_tx *tx, const char *sql, const char *const *keys,
                            size_t n_keys, row_reader read, void *out, const char *what)
{
    PGresult *res;
    enum status rc = tx_run(tx, sql, (int)n_keys, keys, true, &res, what);
    if (rc != OK)
        return rc;
    if (PQntuples(res) == 0) {
        rc = ERR_NOT_FOUND;
    } else {
        struct row r = { res, 0 };
        rc = read(&r, out);
    }
    PQclear(res);
    return rc;
}

/* Call each(row) for every row of res until it fails. */
static enum status each_row(PGresult *res, row_fn each, any_fn fn, void *ctx)
{
    int n = PQntuples(res);
    for (int i = 0; i < n; i++) {
        struct row r = { res, i };
        enum status rc = each(&r, fn, ctx);
        if (rc != OK)
            return rc;
    }
    return OK;
}

/* Run a fixed statement with text keys and call each(row) for every row until it fails. */
static enum status for_each(struct store_tx *tx, const char *sql, const char *const *keys,
                            size_t n_keys, row_fn each, any_fn fn, void *ctx, const char *what)
{
    PGresult *res;
    enum status rc = tx_run(tx, sql, (int)n_keys, keys, true, &res, what);
    if (rc == OK)
        rc = each_row(res, each, fn, ctx);
    PQclear(res);
    return rc;
}

/*
 * Like for_each, for a scan whose size the caller does not bound: a cursor
 * hands over FETCH_ROWS rows at a time, so memory stays bounded and the
 * connection is free for callbacks between batches.
 */
static enum status stream_each(struct store_tx *tx, const char *sql, int n,
                               const char *const *values, row_fn each, any_fn fn, void *ctx,
                               const char *what)
{
    if (tx->failed != OK)
        return tx->failed;
    char name[CURSOR_SQL_MAX], fetch[CURSOR_SQL_MAX], close_sql[CURSOR_SQL_MAX];
    snprintf(name, sizeof(name), "scimd_c%u", ++tx->conn->cursors);
    snprintf(fetch, sizeof(fetch), "FETCH %d FROM %s", FETCH_ROWS, name);
    snprintf(close_sql, sizeof(close_sql), "CLOSE %s", name);
    struct buf declare;
    buf_init(&declare, 0);
    buf_printf(&declare, "DECLARE %s NO SCROLL CURSOR FOR %s", name, sql);
    if (declare.failed) {
        buf_release(&declare);
        return ERR_NOMEM;
    }
    PGresult *res;
    enum status rc = tx_run(tx, declare.data, n, values, false, &res, what);
    buf_release(&declare);
    PQclear(res);
    bool more = rc == OK;
    while (more) {
        rc = tx_run(tx, fetch, 0, NULL, false, &res, what);
        if (rc != OK)
            break;
        more = PQntuples(res) == FETCH_ROWS;
        rc = each_row(res, each, fn, ctx);
        PQclear(res);
        more = more && rc == OK;
    }
    if (tx->failed == OK) {
        enum status closed = tx_exec(tx, close_sql, what);
        if (rc == OK)
            rc = closed;
    }
    return rc;
}

/* A fixed statement through stream_each. */
static enum status stream_keys(struct store_tx *tx, const char *sql, const char *const *keys,
                               size_t n_keys, row_fn each, any_fn fn, void *ctx, const char *what)
{
    return stream_each(tx, sql, (int)n_keys, keys, each, fn, ctx, what);
}

/* Run a statement built by sqlgen (streamed when stream), calling each(row) until it fails. */
static enum status run_sqlgen(struct store_tx *tx, const struct sqlgen *g, bool stream, row_fn each,
                              any_fn fn, void *ctx, const char *what)
{
    size_t n = g->n_params;
    const char *sql = g->sql.data;
    const char **values = calloc(n ? n : 1, sizeof(*values));
    char(*ints)[INT_TEXT_MAX] = calloc(n ? n : 1, sizeof(*ints));
    enum status rc = ERR_NOMEM;
    if (sql == NULL || values == NULL || ints == NULL)
        goto done;
    for (size_t i = 0; i < n; i++) {
        const struct sqlgen_param *p = &g->params[i];
        if (p->kind == SQLGEN_PARAM_INT) {
            snprintf(ints[i], INT_TEXT_MAX, "%" PRId64, p->num);
            values[i] = ints[i];
        } else {
            values[i] = p->text;
        }
    }
    if (stream) {
        rc = stream_each(tx, sql, (int)n, values, each, fn, ctx, what);
    } else {
        PGresult *res;
        rc = tx_run(tx, sql, (int)n, values, false, &res, what);
        if (rc == OK)
            rc = each_row(res, each, fn, ctx);
        PQclear(res);
    }
done:
    free(values);
    free(ints);
    return rc;
}

static enum status read_count(const struct row *r, any_fn fn, void *ctx)
{
    (void)fn;
    int64_t n = col_int(r, 0);
    *(size_t *)ctx = n > 0 ? (size_t)n : 0;
    return OK;
}

/* A PostgreSQL text[] literal of ids[0..n): {"a","b"}, with " and \ escaped;
 * a NULL id is NULL.  malloc'd; NULL on OOM. */
static char *text_array(const char *const *ids, size_t n)
{
    struct buf b;
    buf_init(&b, 0);
    buf_putc(&b, '{');
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            buf_putc(&b, ',');
        if (ids[i] == NULL) {
            buf_puts(&b, "NULL");
            continue;
        }
        buf_putc(&b, '"');
        for (const char *s = ids[i]; *s; s++) {
            if (*s == '"' || *s == '\\')
                buf_putc(&b, '\\');
            buf_putc(&b, *s);
        }
        buf_putc(&b, '"');
    }
    buf_putc(&b, '}');
    char *out = buf_take(&b);
    buf_release(&b);
    return out;
}

/* ---- connections and the pool ------------------------------------------------------- */

/* Notices ("relation already exists, skipping") are of no use to an operator. */
static void notice_ignore(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static void conn_close(struct conn *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n_cache; i++)
        free(c->cache[i].sql);
    PQfinish(c->pg);
    free(c);
}

/* Run once per connection (%lld: the store's timeout_ms, twice): bounded
 * statements and lock waits (SQLite's busy timeout), and the string syntax
 * sqlgen's ESCAPE '\' relies on. */
static const char SQL_SESSION_SETUP[] = "SET statement_timeout = %lld; "
                                        "SET lock_timeout = %lld; "
                                        "SET standard_conforming_strings = on; "
                                        "SET client_min_messages = warning";

/* A new configured connection; why (may be NULL) gets the reason it failed. */
static enum status conn_open(struct store *s, struct conn **out, char why[ERROR_TEXT_MAX])
{
    *out = NULL;
    if (why != NULL)
        str_copy(why, ERROR_TEXT_MAX, "out of memory");
    struct conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return ERR_NOMEM;
    /* Our defaults come first: parameters in the URL (expanded from dbname)
     * override them.  client_encoding comes last, so it always holds. */
    /* clang-format off */
    const struct { const char *key, *value; } params[] = {
        { "connect_timeout",           CONNECT_TIMEOUT_S },
        { "keepalives",                "1" },
        { "keepalives_idle",           "30" },
        { "keepalives_interval",       "10" },
        { "keepalives_count",          "3" },
        { "tcp_user_timeout",          "30000" },
        { "fallback_application_name", "scimd" },
        { "dbname",                    s->url },
        { "client_encoding",           "UTF8" },
    };
    /* clang-format on */
    const char *keys[sizeof(params) / sizeof(params[0]) + 1] = { NULL };
    const char *values[sizeof(params) / sizeof(params[0]) + 1] = { NULL };
    for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
        keys[i] = params[i].key;
        values[i] = params[i].value;
    }
    c->pg = PQconnectdbParams(keys, values, 1);
    if (c->pg == NULL) {
        free(c);
        return ERR_NOMEM;
    }
    if (PQstatus(c->pg) != CONNECTION_OK) {
        char msg[ERROR_TEXT_MAX];
        first_line(PQerrorMessage(c->pg), msg);
        if (why != NULL)
            str_copy(why, ERROR_TEXT_MAX, msg);
        pthread_mutex_lock(&s->pool_mu);
        bool warn = warn_due(&s->connect_warned_ms);
        pthread_mutex_unlock(&s->pool_mu);
        if (warn)
            log_warn("store: cannot connect to PostgreSQL: %s", msg);
        conn_close(c);
        return ERR_UNAVAILABLE;
    }
    PQsetErrorVerbosity(c->pg, PQERRORS_TERSE);
    PQsetNoticeProcessor(c->pg, notice_ignore, NULL);
    c->wait_ms = s->timeout_ms + DEADLINE_GRACE_MS;
    enum status rc = OK;
    if (PQsetnonblocking(c->pg, 1) != 0) {
        rc = pg_status(c, NULL, "configure connection");
    } else {
        char setup[SESSION_SQL_MAX];
        snprintf(setup, sizeof(setup), SQL_SESSION_SETUP, (long long)s->timeout_ms,
                 (long long)s->timeout_ms);
        PGresult *res = conn_exec(c, setup, "configure connection");
        rc = pg_status(c, res, "configure connection");
        PQclear(res);
    }
    if (rc != OK) {
        if (why != NULL)
            first_line(PQerrorMessage(c->pg), why);
        conn_close(c);
        return rc;
    }
    *out = c;
    return OK;
}

/* Can a pooled connection serve again?  One the server closed meanwhile
 * (restart, idle timeout) is noticed here, not by the next transaction. */
static bool conn_alive(struct conn *c)
{
    if (c->broken || PQstatus(c->pg) != CONNECTION_OK)
        return false;
    /* The server's goodbye ("terminating connection") is read first, its end
     * of the stream by a second read. */
    for (int i = 0; i < 2; i++) {
        if (!PQconsumeInput(c->pg))
            return false;
    }
    return PQstatus(c->pg) == CONNECTION_OK && PQtransactionStatus(c->pg) == PQTRANS_IDLE;
}

/* Add ms to a CLOCK_MONOTONIC time. */
static struct timespec deadline_in(int64_t ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += (time_t)(ms / 1000);
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/* A connection for a transaction: an idle one that is still alive, else a new
 * one while fewer than pool_size are open, else wait.  *fresh: newly opened. */
static enum status pool_take(struct store *s, struct conn **out, bool *fresh)
{
    *out = NULL;
    *fresh = false;
    struct timespec deadline = deadline_in(POOL_WAIT_MS);
    bool waited = false;
    struct conn *dead = NULL; /* closed once the pool is unlocked */
    enum status rc = OK;
    pthread_mutex_lock(&s->pool_mu);
    for (;;) {
        while (s->idle != NULL && *out == NULL) {
            struct conn *c = s->idle;
            s->idle = c->next;
            c->next = NULL;
            if (conn_alive(c)) {
                *out = c;
            } else {
                s->n_conns--;
                c->next = dead;
                dead = c;
            }
        }
        if (*out != NULL)
            break;
        if (s->n_conns < s->pool_size)
            break;
        if (!waited) {
            waited = true;
            if (warn_due(&s->busy_warned_ms))
                log_warn("store: all %u PostgreSQL connections busy, requests are waiting "
                         "(raise --db-pool)",
                         s->pool_size);
        }
        if (pthread_cond_timedwait(&s->pool_cv, &s->pool_mu, &deadline) == ETIMEDOUT &&
            s->idle == NULL && s->n_conns >= s->pool_size) {
            rc = ERR_UNAVAILABLE;
            break;
        }
    }
    bool open_new = rc == OK && *out == NULL;
    if (open_new)
        s->n_conns++;
    if (dead != NULL)
        pthread_cond_broadcast(&s->pool_cv); /* room for new connections */
    pthread_mutex_unlock(&s->pool_mu);
    while (dead != NULL) {
        struct conn *next = dead->next;
        conn_close(dead);
        dead = next;
    }
    if (rc != OK) {
        log_warn("store: no PostgreSQL connection came free in %d ms", POOL_WAIT_MS);
        return rc;
    }
    if (!open_new)
        return OK;

    rc = conn_open(s, out, NULL);
    if (rc != OK) {
        pthread_mutex_lock(&s->pool_mu);
        s->n_conns--;
        pthread_cond_signal(&s->pool_cv);
        pthread_mutex_unlock(&s->pool_mu);
        return rc;
    }
    *fresh = true;
    return OK;
}

/* Return c to the pool when it is idle and healthy; otherwise close it. */
static void pool_put(struct store *s, struct conn *c)
{
    bool reuse = !c->broken && PQstatus(c->pg) == CONNECTION_OK &&
                 PQtransactionStatus(c->pg) == PQTRANS_IDLE;
    if (!reuse) {
        if (!c->broken && PQstatus(c->pg) == CONNECTION_OK)
            log_error("store: closing a connection left inside a transaction");
        conn_close(c);
    }
    pthread_mutex_lock(&s->pool_mu);
    if (reuse) {
        c->next = s->idle;
        s->idle = c;
    } else {
        s->n_conns--;
    }
    pthread_cond_signal(&s->pool_cv);
    pthread_mutex_unlock(&s->pool_mu);
}

/* ---- migrations --------------------------------------------------------------------- */

/* A migration may build an index for a long time: no statement timeout, and
 * no client deadline either (keepalives still notice a dead server). */
static const char SQL_MIGRATION_SESSION[] = "SET lock_timeout = '" MIGRATION_LOCK_WAIT "'; "
                                            "SET statement_timeout = 0";
static const char SQL_MIGRATION_LOCK[] = "SELECT pg_advisory_lock($1::bigint)";
static const char SQL_MIGRATION_UNLOCK[] = "SELECT pg_advisory_unlock($1::bigint)";
static const char SQL_MIGRATIONS_TABLE[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "name TEXT COLLATE \"C\" NOT NULL PRIMARY KEY, applied_at TEXT COLLATE \"C\" NOT NULL)";
static const char SQL_MIGRATION_APPLIED[] = "SELECT 1 FROM schema_migrations WHERE name = $1";
static const char SQL_MIGRATION_RECORD[] =
    "INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)";
static const char SQL_SERVER_ENCODING[] = "SHOW server_encoding";

static enum status read_nothing(const struct row *r, void *out)
{
    (void)r;
    (void)out;
    return OK;
}

static enum status read_encoding(const struct row *r, void *out)
{
    col_copy(r, 0, out, STORE_NAME_MAX);
    return OK;
}

/* Apply one migration in a transaction of its own, unless it is recorded. */
static enum status migrate_one(struct store_tx *tx, const struct migration *m)
{
    enum status rc = tx_exec(tx, "BEGIN", "begin migration");
    if (rc == OK)
        rc = find_one(tx, SQL_MIGRATION_APPLIED, &m->name, 1, read_nothing, NULL,
                      "read schema_migrations");
    if (rc == OK)
        return tx_exec(tx, "COMMIT", "end migration"); /* already applied */
    if (rc != ERR_NOT_FOUND)
        return rc;

    /* A script of several statements: the simple query protocol. */
    PGresult *res = conn_exec(tx->conn, m->sql, m->name);
    rc = pg_status(tx->conn, res, m->name);
    PQclear(res);
    if (rc != OK) {
        tx->failed = rc;
        return rc;
    }
    char now[STORE_TIME_LEN];
    clock_now_iso(now);
    struct binder b = { .n = 0 };
    bind_text(&b, m->name);
    bind_text(&b, now);
    rc = exec_stmt(tx, SQL_MIGRATION_RECORD, &b, NULL, "record migration");
    if (rc == OK)
        rc = tx_exec(tx, "COMMIT", "commit migration");
    if (rc == OK)
        log_info("store: applied migration %s", m->name);
    return rc;
}

/*
 * Apply every migration not yet recorded, each in its own transaction, under
 * a session advisory lock: nodes starting at once take turns, and the later
 * ones find the work done.  A connection of its own, closed afterwards (which
 * also drops the lock should unlocking fail).
 */
static enum status migrate(struct store *s, struct scim_error *err)
{
    struct store_tx tx = { .head = { &postgres_ops }, .store = s };
    char why[ERROR_TEXT_MAX];
    enum status rc = conn_open(s, &tx.conn, why);
    if (rc != OK)
        return scim_error_set(err, rc, "cannot connect to PostgreSQL: %s", why);
    tx.conn->wait_ms = 0;
    struct binder key = { .n = 0 };
    bind_int(&key, MIGRATION_LOCK_KEY);
    PGresult *res = conn_exec(tx.conn, SQL_MIGRATION_SESSION, "configure migrations");
    rc = pg_status(tx.conn, res, "configure migrations");
    PQclear(res);
    res = NULL;
    if (rc == OK)
        rc = tx_run(&tx, SQL_MIGRATION_LOCK, key.n, key.values, false, &res, "lock migrations");
    PQclear(res);
    if (rc != OK) {
        scim_error_set(err, rc, "cannot lock the database for migrations");
        goto done;
    }
    char encoding[STORE_NAME_MAX] = "";
    rc = find_one(&tx, SQL_SERVER_ENCODING, NULL, 0, read_encoding, encoding, "server encoding");
    if (rc == OK && strcmp(encoding, "UTF8") != 0)
        log_warn("store: the PostgreSQL database encoding is %s, not UTF8", encoding);
    if (rc == OK)
        rc = tx_exec(&tx, SQL_MIGRATIONS_TABLE, "create schema_migrations");
    const struct migration *m = NULL;
    for (size_t i = 0; rc == OK && i < sizeof(postgres_migrations) / sizeof(postgres_migrations[0]);
         i++) {
        m = &postgres_migrations[i];
        rc = migrate_one(&tx, m);
    }
    if (rc != OK) {
        if (m != NULL)
            scim_error_set(err, rc, "migration '%s' failed", m->name);
        else
            scim_error_set(err, rc, "cannot apply migrations");
        goto done;
    }
    rc = tx_run(&tx, SQL_MIGRATION_UNLOCK, key.n, key.values, false, &res, "unlock migrations");
    PQclear(res);
    if (rc != OK)
        scim_error_set(err, rc, "cannot unlock migrations");
done:
    conn_close(tx.conn);
    return rc;
}

/* ---- store and transactions --------------------------------------------------------- */

static void pg_close(struct store *s);

/*
 * Take DB_TIMEOUT_PARAM out of the query of URL url: *out gets a malloc'd
 * copy of the rest (for libpq, which would refuse the parameter), *timeout_ms
 * its value or DB_TIMEOUT_MS_DEFAULT.  ERR_USAGE (err set) for a bad value.
 */
static enum status url_take_timeout(const char *url, char **out, int64_t *timeout_ms,
                                    struct scim_error *err)
{
    *out = NULL;
    *timeout_ms = DB_TIMEOUT_MS_DEFAULT;
    const char *query = strchr(url, '?');
    struct buf b;
    buf_init(&b, 0);
    buf_append(&b, url, query ? (size_t)(query - url) : strlen(url));
    char sep = '?';
    const size_t name_len = strlen(DB_TIMEOUT_PARAM);
    for (const char *p = query ? query + 1 : NULL; p != NULL && *p;) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > name_len && strncmp(p, DB_TIMEOUT_PARAM "=", name_len + 1) == 0) {
            char value[INT_TEXT_MAX];
            long ms = 0;
            size_t n = len - name_len - 1;
            if (n < sizeof(value)) {
                memcpy(value, p + name_len + 1, n);
                value[n] = '\0';
            }
            if (n >= sizeof(value) || !str_to_long(value, 1, DB_TIMEOUT_MS_MAX, &ms)) {
                buf_release(&b);
                return scim_error_set(err, ERR_USAGE,
                                      "invalid PostgreSQL URL: " DB_TIMEOUT_PARAM
                                      " must be a number of milliseconds from 1 to %d",
                                      DB_TIMEOUT_MS_MAX);
            }
            *timeout_ms = ms;
        } else if (len > 0) {
            buf_putc(&b, sep);
            buf_append(&b, p, len);
            sep = '&';
        }
        p = end ? end + 1 : NULL;
    }
    *out = buf_take(&b);
    buf_release(&b);
    return *out ? OK : scim_error_set(err, ERR_NOMEM, "out of memory");
}

enum status postgres_store_open(const char *url, unsigned pool_size, struct store **out,
                                struct scim_error *err)
{
    *out = NULL;
    if (url == NULL || *url == '\0')
        return scim_error_set(err, ERR_USAGE, "no database URL");
    char *libpq_url = NULL;
    int64_t timeout_ms = 0;
    enum status rc = url_take_timeout(url, &libpq_url, &timeout_ms, err);
    if (rc != OK)
        return rc;
    char *parse_error = NULL;
    PQconninfoOption *opts = PQconninfoParse(libpq_url, &parse_error);
    if (opts == NULL) {
        char msg[ERROR_TEXT_MAX];
        first_line(parse_error ? parse_error : "out of memory", msg);
        PQfreemem(parse_error);
        free(libpq_url);
        return scim_error_set(err, ERR_USAGE, "invalid PostgreSQL URL: %s", msg);
    }
    PQconninfoFree(opts);

    struct store *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        free(libpq_url);
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    }
    s->head.ops = &postgres_ops;
    s->url = libpq_url;
    s->timeout_ms = timeout_ms;
    s->pool_size = pool_size ? pool_size : STORE_POOL_DEFAULT;
    pthread_mutex_init(&s->pool_mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->pool_cv, &attr);
    pthread_condattr_destroy(&attr);

    rc = migrate(s, err);
    if (rc != OK) {
        pg_close(s);
        return rc;
    }
    *out = s;
    return OK;
}

static void pg_close(struct store *s)
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
    pthread_mutex_destroy(&s->pool_mu);
    pthread_cond_destroy(&s->pool_cv);
    free(s->url);
    free(s);
}

/* Roll back whatever the connection still has open; a lost session has nothing to undo. */
static void tx_abort(struct store_tx *tx)
{
    struct conn *c = tx->conn;
    if (c->broken || PQstatus(c->pg) != CONNECTION_OK)
        return;
    PGTransactionStatusType ts = PQtransactionStatus(c->pg);
    if (ts != PQTRANS_INTRANS && ts != PQTRANS_INERROR)
        return;
    PGresult *res = conn_exec(c, "ROLLBACK", "rollback");
    if (pg_status(c, res, "rollback") != OK)
        c->broken = true;
    PQclear(res);
}

static void tx_free(struct store_tx *tx)
{
    pool_put(tx->store, tx->conn);
    free(tx);
}

/* Writes see every commit before them (READ COMMITTED, each statement its own
 * snapshot); reads see one snapshot throughout, as a SQLite read transaction. */
static const char SQL_BEGIN_WRITE[] = "BEGIN ISOLATION LEVEL READ COMMITTED";
static const char SQL_BEGIN_READ[] = "BEGIN ISOLATION LEVEL REPEATABLE READ";

static enum status pg_begin(struct store *store, bool write, struct store_tx **out)
{
    *out = NULL;
    struct store_tx *tx = calloc(1, sizeof(*tx));
    if (tx == NULL)
        return ERR_NOMEM;
    tx->head.ops = &postgres_ops;
    tx->store = store;
    enum status rc;
    /* A pooled connection may have died unnoticed (server restart): then the
     * next one is tried, and in the end a fresh one. */
    for (unsigned attempt = 0;; attempt++) {
        bool fresh = false;
        rc = pool_take(store, &tx->conn, &fresh);
        if (rc != OK)
            break;
        tx->failed = OK;
        rc = tx_exec(tx, write ? SQL_BEGIN_WRITE : SQL_BEGIN_READ, "begin");
        if (rc == OK) {
            *out = tx;
            return OK;
        }
        /* not after a timeout: the next connection would most likely wait as long */
        bool retry =
            tx->conn->broken && !tx->conn->timed_out && !fresh && attempt < store->pool_size;
        pool_put(store, tx->conn);
        tx->conn = NULL;
        if (!retry)
            break;
    }
    free(tx);
    return rc;
}

/* The advisory lock key of a tenant: 64 bits of FNV-1a, the same on every node. */
/* The advisory lock number of a store_lock key. */
static int64_t advisory_key(const char *key)
{
    uint64_t h = fnv1a(sql_hash("scimd lock "), key ? key : "");
    return (int64_t)(h & (uint64_t)INT64_MAX);
}

static const char SQL_LOCK[] = "SELECT pg_advisory_xact_lock($1::bigint)";

/* Held until the transaction ends, on every node sharing the database. */
static enum status pg_lock(struct store_tx *tx, const char *key)
{
    struct binder b = { .n = 0 };
    bind_int(&b, advisory_key(key));
    PGresult *res;
    enum status rc = tx_run(tx, SQL_LOCK, b.n, b.values, true, &res, "lock");
    PQclear(res);
    return rc;
}

static enum status pg_commit(struct store_tx *tx)
{
    enum status rc = tx->failed;
    if (rc == OK) {
        PGresult *res;
        rc = tx_run(tx, "COMMIT", 0, NULL, false, &res, "commit");
        /* COMMIT of a transaction the server aborted answers ROLLBACK. */
        if (rc == OK && strcmp(PQcmdStatus(res), "COMMIT") != 0) {
            log_error("store: commit: the transaction was rolled back");
            rc = ERR_STORE;
        }
        PQclear(res);
    }
    if (rc != OK)
        tx_abort(tx);
    tx_free(tx);
    return rc;
}

static void pg_rollback(struct store_tx *tx)
{
    if (tx == NULL)
        return;
    tx_abort(tx);
    tx_free(tx);
}

/* Write the current time into t when the caller left it empty. */
static const char *time_or_now(const char *t, char now[STORE_TIME_LEN])
{
    if (t != NULL && *t != '\0')
        return t;
    clock_now_iso(now);
    return now;
}

/* ---- tenants ------------------------------------------------------------------------ */

#define TENANT_COLUMNS "id, name, subdomain, created_at"
static const char SQL_TENANT_INSERT[] = "INSERT INTO tenants (" TENANT_COLUMNS ") "
                                        "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
static const char SQL_TENANT_BY_ID[] = "SELECT " TENANT_COLUMNS " FROM tenants WHERE id = $1";
static const char SQL_TENANT_BY_SUBDOMAIN[] =
    "SELECT " TENANT_COLUMNS " FROM tenants WHERE subdomain = $1";
static const char SQL_TENANT_BY_NAME[] =
    "SELECT " TENANT_COLUMNS " FROM tenants WHERE name = $1 ORDER BY created_at, id LIMIT 1";
static const char SQL_TENANT_EACH[] =
    "SELECT " TENANT_COLUMNS " FROM tenants ORDER BY created_at, id";

static enum status read_tenant(const struct row *r, void *out)
{
    struct store_tenant *t = out;
    memset(t, 0, sizeof(*t));
    col_copy(r, 0, t->id, sizeof(t->id));
    col_copy(r, 1, t->name, sizeof(t->name));
    col_copy(r, 2, t->subdomain, sizeof(t->subdomain));
    col_copy(r, 3, t->created_at, sizeof(t->created_at));
    return OK;
}

static enum status pg_tenant_insert(struct store_tx *tx, const struct store_tenant *t)
{
    char now[STORE_TIME_LEN];
    struct binder b = { .n = 0 };
    bind_text(&b, t->id);
    bind_text(&b, t->name);
    bind_text(&b, t->subdomain);
    bind_text(&b, time_or_now(t->created_at, now));
    return exec_insert(tx, SQL_TENANT_INSERT, &b, "insert tenant");
}

static enum status pg_tenant_find(struct store_tx *tx, const char *key, struct store_tenant *out)
{
    static const char *const by[] = { SQL_TENANT_BY_ID, SQL_TENANT_BY_SUBDOMAIN,
                                      SQL_TENANT_BY_NAME };
    enum status rc = ERR_NOT_FOUND;
    for (size_t i = 0; rc == ERR_NOT_FOUND && i < sizeof(by) / sizeof(by[0]); i++)
        rc = find_one(tx, by[i], &key, 1, read_tenant, out, "find tenant");
    return rc;
}

static enum status each_tenant(const struct row *r, any_fn fn, void *ctx)
{
    struct store_tenant t;
    read_tenant(r, &t);
    return ((store_tenant_fn)fn)(ctx, &t);
}

static enum status pg_tenant_each(struct store_tx *tx, store_tenant_fn fn, void *ctx)
{
    return for_each(tx, SQL_TENANT_EACH, NULL, 0, each_tenant, (any_fn)fn, ctx, "list tenants");
}

/* ---- IdP connections ---------------------------------------------------------------- */

#define IDP_COLUMNS "tenant_id, id, name, vendor, created_at"
static const char SQL_IDP_INSERT[] = "INSERT INTO idps (" IDP_COLUMNS ") "
                                     "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";
static const char SQL_IDP_GET[] = "SELECT " IDP_COLUMNS " FROM idps WHERE id = $1";
static const char SQL_IDP_EACH[] = "SELECT " IDP_COLUMNS " FROM idps ORDER BY created_at, id";
static const char SQL_IDP_EACH_TENANT[] =
    "SELECT " IDP_COLUMNS " FROM idps WHERE tenant_id = $1 ORDER BY created_at, id";

static enum status read_idp(const struct row *r, void *out)
{
    struct store_idp *idp = out;
    memset(idp, 0, sizeof(*idp));
    col_copy(r, 0, idp->tenant_id, sizeof(idp->tenant_id));
    col_copy(r, 1, idp->id, sizeof(idp->id));
    col_copy(r, 2, idp->name, sizeof(idp->name));
    col_copy(r, 3, idp->vendor, sizeof(idp->vendor));
    col_copy(r, 4, idp->created_at, sizeof(idp->created_at));
    return OK;
}

static enum status pg_idp_insert(struct store_tx *tx, const struct store_idp *idp)
{
    char now[STORE_TIME_LEN];
    struct binder b = { .n = 0 };
    bind_text(&b, idp->tenant_id);
    bind_text(&b, idp->id);
    bind_text(&b, idp->name);
    bind_text(&b, idp->vendor);
    bind_text(&b, time_or_now(idp->created_at, now));
    return exec_insert(tx, SQL_IDP_INSERT, &b, "insert idp");
}

static enum status pg_idp_get(struct store_tx *tx, const char *id, struct store_idp *out)
{
    return find_one(tx, SQL_IDP_GET, &id, 1, read_idp, out, "get idp");
}

static enum status each_idp(const struct row *r, any_fn fn, void *ctx)
{
    struct store_idp idp;
    read_idp(r, &idp);
    return ((store_idp_fn)fn)(ctx, &idp);
}

static enum status pg_idp_each(struct store_tx *tx, const char *tenant_id, store_idp_fn fn,
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
    "INSERT INTO tokens (" TOKEN_COLUMNS ") "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING";
static const char SQL_TOKEN_GET[] = "SELECT " TOKEN_COLUMNS " FROM tokens WHERE id = $1";
static const char SQL_TOKEN_BY_HASH[] = "SELECT " TOKEN_COLUMNS " FROM tokens WHERE hash = $1";
static const char SQL_TOKEN_REVOKE[] =
    "UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";
/* Never moves last_used_at backwards when two requests race. */
static const char SQL_TOKEN_TOUCH[] = "UPDATE tokens SET last_used_at = $1 WHERE id = $2 "
                                      "AND (last_used_at IS NULL OR last_used_at < $1)";
static const char SQL_TOKEN_EACH[] = "SELECT " TOKEN_COLUMNS " FROM tokens ORDER BY created_at, id";
/* The tenant comes from the IdP so that the (tenant_id, idp_id) index serves. */
static const char SQL_TOKEN_EACH_IDP[] =
    "SELECT " TOKEN_COLUMNS " FROM tokens WHERE tenant_id = "
    "(SELECT tenant_id FROM idps WHERE id = $1) AND idp_id = $1 ORDER BY created_at, id";

static enum status read_token(const struct row *r, void *out)
{
    struct store_token *t = out;
    memset(t, 0, sizeof(*t));
    col_copy(r, 0, t->tenant_id, sizeof(t->tenant_id));
    col_copy(r, 1, t->id, sizeof(t->id));
    col_copy(r, 2, t->idp_id, sizeof(t->idp_id));
    col_copy(r, 3, t->name, sizeof(t->name));
    col_copy(r, 4, t->prefix, sizeof(t->prefix));
    col_copy(r, 5, t->hash, sizeof(t->hash));
    col_copy(r, 6, t->created_at, sizeof(t->created_at));
    col_copy(r, 7, t->last_used_at, sizeof(t->last_used_at));
    col_copy(r, 8, t->revoked_at, sizeof(t->revoked_at));
    return OK;
}

static enum status pg_token_insert(struct store_tx *tx, const struct store_token *t)
{
    char now[STORE_TIME_LEN];
    struct binder b = { .n = 0 };
    bind_text(&b, t->tenant_id);
    bind_text(&b, t->id);
    bind_text(&b, t->idp_id);
    bind_text(&b, t->name);
    bind_text(&b, t->prefix);
    bind_text(&b, t->hash);
    bind_text(&b, time_or_now(t->created_at, now));
    bind_opt(&b, t->last_used_at);
    bind_opt(&b, t->revoked_at);
    return exec_insert(tx, SQL_TOKEN_INSERT, &b, "insert token");
}

static enum status pg_token_get(struct store_tx *tx, const char *id, struct store_token *out)
{
    return find_one(tx, SQL_TOKEN_GET, &id, 1, read_token, out, "get token");
}

static enum status pg_token_by_hash(struct store_tx *tx, const char *hash, struct store_token *out)
{
    return find_one(tx, SQL_TOKEN_BY_HASH, &hash, 1, read_token, out, "find token");
}

/* Set a timestamp column of one token; a token that exists but was not changed is OK. */
static enum status token_set_time(struct store_tx *tx, const char *sql, const char *id,
                                  const char *at)
{
    char now[STORE_TIME_LEN];
    struct binder b = { .n = 0 };
    bind_text(&b, time_or_now(at, now));
    bind_text(&b, id);
    enum status rc = exec_one(tx, sql, &b, "update token");
    if (rc == ERR_NOT_FOUND) {
        struct store_token t;
        rc = pg_token_get(tx, id, &t);
    }
    return rc;
}

static enum status pg_token_revoke(struct store_tx *tx, const char *id, const char *at)
{
    return token_set_time(tx, SQL_TOKEN_REVOKE, id, at);
}

static enum status pg_token_touch(struct store_tx *tx, const char *id, const char *at)
{
    return token_set_time(tx, SQL_TOKEN_TOUCH, id, at);
}

static enum status each_token(const struct row *r, any_fn fn, void *ctx)
{
    struct store_token t;
    read_token(r, &t);
    return ((store_token_fn)fn)(ctx, &t);
}

static enum status pg_token_each(struct store_tx *tx, const char *idp_id, store_token_fn fn,
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
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) "
    "ON CONFLICT DO NOTHING";
static const char SQL_USER_UPDATE[] =
    "UPDATE users SET username = $1, username_lc = $2, email = $3, email_lc = $4, "
    "given_name = $5, family_name = $6, display_name = $7, status = $8, idp_id = $9, "
    "scim_managed = $10, updated_at = $11 WHERE tenant_id = $12 AND id = $13";
static const char SQL_USER_GET[] =
    "SELECT " USER_COLUMNS " FROM users WHERE tenant_id = $1 AND id = $2";
static const char SQL_USER_GET_ANY[] = "SELECT " USER_COLUMNS " FROM users WHERE id = $1";
/* Each OR branch names the tenant so that it is an index probe of its own. */
static const char SQL_USER_FIND_MATCH[] =
    "SELECT " USER_COLUMNS " FROM users WHERE (tenant_id = $1 AND email_lc = $2) "
    "OR (tenant_id = $1 AND username_lc = $2) OR (tenant_id = $1 AND username_lc = $3) "
    "ORDER BY created_at, id LIMIT 1";
static const char SQL_USER_EACH[] =
    "SELECT " USER_COLUMNS " FROM users WHERE tenant_id = $1 ORDER BY created_at, id";
static const char SQL_USER_EACH_IDP[] =
    "SELECT " USER_COLUMNS " FROM users WHERE tenant_id = $1 AND id IN "
    "(SELECT user_id FROM idp_users WHERE tenant_id = $1 AND idp_id = $2) "
    "ORDER BY created_at, id";

/* Fill u from a row: heap copies when copy, else views borrowed from the result. */
static enum status read_user(const struct row *r, struct store_user *u, bool copy)
{
    memset(u, 0, sizeof(*u));
    col_copy(r, 0, u->tenant_id, sizeof(u->tenant_id));
    col_copy(r, 1, u->id, sizeof(u->id));
    char **heap[] = { &u->username, &u->email, &u->given_name, &u->family_name, &u->display_name };
    for (size_t i = 0; i < sizeof(heap) / sizeof(heap[0]); i++) {
        if (!copy) {
            *heap[i] = col_view(r, 2 + (int)i);
        } else if (!col_dup(r, 2 + (int)i, heap[i])) {
            store_user_release(u);
            return ERR_NOMEM;
        }
    }
    col_copy(r, 7, u->status, sizeof(u->status));
    col_copy(r, 8, u->idp_id, sizeof(u->idp_id));
    u->scim_managed = col_int(r, 9) != 0;
    col_copy(r, 10, u->created_at, sizeof(u->created_at));
    col_copy(r, 11, u->updated_at, sizeof(u->updated_at));
    return OK;
}

static enum status read_user_copy(const struct row *r, void *out)
{
    return read_user(r, out, true);
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

static enum status pg_user_insert(struct store_tx *tx, const struct store_user *u)
{
    char *username_lc, *email_lc;
    enum status rc = user_lc(u, &username_lc, &email_lc);
    if (rc != OK)
        return rc;
    char now[STORE_TIME_LEN];
    struct binder b = { .n = 0 };
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
    rc = exec_insert(tx, SQL_USER_INSERT, &b, "insert user");
    free(username_lc);
    free(email_lc);
    return rc;
}

static enum status pg_user_update(struct store_tx *tx, const struct store_user *u)
{
    char *username_lc, *email_lc;
    enum status rc = user_lc(u, &username_lc, &email_lc);
    if (rc != OK)
        return rc;
    char now[STORE_TIME_LEN];
    struct binder b = { .n = 0 };
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
    rc = exec_one(tx, SQL_USER_UPDATE, &b, "update user");
    free(username_lc);
    free(email_lc);
    return rc;
}

static enum status pg_user_get(struct store_tx *tx, const char *tenant_id, const char *id,
                               struct store_user *out)
{
    memset(out, 0, sizeof(*out));
    if (tenant_id == NULL)
        return find_one(tx, SQL_USER_GET_ANY, &id, 1, read_user_copy, out, "get user");
    const char *keys[] = { tenant_id, id };
    return find_one(tx, SQL_USER_GET, keys, 2, read_user_copy, out, "get user");
}

static enum status pg_user_find_match(struct store_tx *tx, const char *tenant_id, const char *email,
                                      const char *username, struct store_user *out)
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

static enum status each_user(const struct row *r, any_fn fn, void *ctx)
{
    struct store_user u;
    read_user(r, &u, false);
    return ((store_user_fn)fn)(ctx, &u);
}

static enum status pg_user_each(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                                store_user_fn fn, void *ctx)
{
    if (idp_id == NULL)
        return stream_keys(tx, SQL_USER_EACH, &tenant_id, 1, each_user, (any_fn)fn, ctx,
                           "list users");
    const char *keys[] = { tenant_id, idp_id };
    return stream_keys(tx, SQL_USER_EACH_IDP, keys, 2, each_user, (any_fn)fn, ctx, "list users");
}

/* ---- IdP user rows ------------------------------------------------------------------ */

static const char SQL_IDP_USER_INSERT[] =
    "INSERT INTO idp_users (tenant_id, idp_id, user_id, external_id, user_name, user_name_lc, "
    "active, deleted, version, doc, created_at, updated_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING";
static const char SQL_IDP_USER_UPDATE[] =
    "UPDATE idp_users SET external_id = $1, user_name = $2, user_name_lc = $3, active = $4, "
    "deleted = $5, version = $6, doc = $7, updated_at = $8 "
    "WHERE tenant_id = $9 AND idp_id = $10 AND user_id = $11";
static const char SQL_IDP_USER_GET[] = "SELECT " SQLGEN_IDP_USER_COLUMNS " FROM idp_users "
                                       "WHERE tenant_id = $1 AND idp_id = $2 AND user_id = $3";
static const char SQL_IDP_USER_BY_EXTERNAL_ID[] =
    "SELECT " SQLGEN_IDP_USER_COLUMNS " FROM idp_users "
    "WHERE tenant_id = $1 AND idp_id = $2 AND external_id = $3";
static const char SQL_IDP_USER_BY_USER_NAME[] =
    "SELECT " SQLGEN_IDP_USER_COLUMNS " FROM idp_users "
    "WHERE tenant_id = $1 AND idp_id = $2 AND user_name_lc = $3 AND deleted = 0";
static const char SQL_IDP_USER_EACH_OF_USER[] =
    "SELECT " SQLGEN_IDP_USER_COLUMNS " FROM idp_users "
    "WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at, idp_id";
static const char SQL_EMAILS_DELETE[] =
    "DELETE FROM idp_user_emails WHERE tenant_id = $1 AND idp_id = $2 AND user_id = $3";
/* All addresses in one statement; the same address twice in one user is one index entry. */
static const char SQL_EMAILS_INSERT[] =
    "INSERT INTO idp_user_emails (tenant_id, idp_id, user_id, value_lc) "
    "SELECT $1::text, $2::text, $3::text, v FROM unnest($4::text[]) AS v "
    "ON CONFLICT DO NOTHING";

/* Fill r from a row (SQLGEN_IDP_USER_COLUMNS): heap copies when copy, else borrowed views. */
static enum status read_idp_user(const struct row *row, struct store_idp_user *r, bool copy)
{
    memset(r, 0, sizeof(*r));
    col_copy(row, SQLGEN_IU_TENANT_ID, r->tenant_id, sizeof(r->tenant_id));
    col_copy(row, SQLGEN_IU_IDP_ID, r->idp_id, sizeof(r->idp_id));
    col_copy(row, SQLGEN_IU_USER_ID, r->user_id, sizeof(r->user_id));
    r->active = col_int(row, SQLGEN_IU_ACTIVE) != 0;
    r->deleted = col_int(row, SQLGEN_IU_DELETED) != 0;
    r->version = col_int(row, SQLGEN_IU_VERSION);
    col_copy(row, SQLGEN_IU_CREATED_AT, r->created_at, sizeof(r->created_at));
    col_copy(row, SQLGEN_IU_UPDATED_AT, r->updated_at, sizeof(r->updated_at));
    if (!copy) {
        r->external_id = col_view(row, SQLGEN_IU_EXTERNAL_ID);
        r->user_name = col_view(row, SQLGEN_IU_USER_NAME);
        r->doc = col_view(row, SQLGEN_IU_DOC);
        return OK;
    }
    if (!col_dup(row, SQLGEN_IU_EXTERNAL_ID, &r->external_id) ||
        !col_dup(row, SQLGEN_IU_USER_NAME, &r->user_name) ||
        !col_dup(row, SQLGEN_IU_DOC, &r->doc)) {
        store_idp_user_release(r);
        return ERR_NOMEM;
    }
    return OK;
}

static enum status read_idp_user_copy(const struct row *row, void *out)
{
    return read_idp_user(row, out, true);
}

/* Replace the email index entries of r with r->emails (fresh: r has none yet). */
static enum status emails_write(struct store_tx *tx, const struct store_idp_user *r, bool fresh)
{
    struct binder b = { .n = 0 };
    bind_text(&b, r->tenant_id);
    bind_text(&b, r->idp_id);
    bind_text(&b, r->user_id);
    enum status rc = fresh ? OK : exec_stmt(tx, SQL_EMAILS_DELETE, &b, NULL, "delete emails");
    if (rc != OK || r->n_emails == 0)
        return rc;
    char **lc = calloc(r->n_emails, sizeof(*lc));
    if (lc == NULL)
        return ERR_NOMEM;
    size_t n = 0;
    for (size_t i = 0; rc == OK && i < r->n_emails; i++) {
        if (r->emails[i] == NULL)
            continue;
        lc[n] = sqlgen_lower_dup(r->emails[i]);
        rc = lc[n++] ? OK : ERR_NOMEM;
    }
    char *array = NULL;
    if (rc == OK && n > 0) {
        array = text_array((const char *const *)lc, n);
        rc = array ? OK : ERR_NOMEM;
        if (rc == OK) {
            bind_text(&b, array);
            rc = exec_stmt(tx, SQL_EMAILS_INSERT, &b, NULL, "insert emails");
        }
    }
    free(array);
    for (size_t i = 0; i < n; i++)
        free(lc[i]);
    free(lc);
    return rc;
}

static enum status pg_idp_user_insert(struct store_tx *tx, const struct store_idp_user *r)
{
    char *user_name_lc = sqlgen_lower_dup(r->user_name);
    if (r->user_name != NULL && user_name_lc == NULL)
        return ERR_NOMEM;
    char now[STORE_TIME_LEN];
    struct binder b = { .n = 0 };
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
    enum status rc = exec_insert(tx, SQL_IDP_USER_INSERT, &b, "insert idp user");
    free(user_name_lc);
    return rc == OK ? emails_write(tx, r, true) : rc;
}

/* A userName or externalId taken by another row fails the statement: ERR_UNIQUENESS, and
 * PostgreSQL has aborted the transaction (callers roll back). */
static enum status pg_idp_user_update(struct store_tx *tx, const struct store_idp_user *r)
{
    char *user_name_lc = sqlgen_lower_dup(r->user_name);
    if (r->user_name != NULL && user_name_lc == NULL)
        return ERR_NOMEM;
    char now[STORE_TIME_LEN];
    struct binder b = { .n = 0 };
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
    enum status rc = exec_one(tx, SQL_IDP_USER_UPDATE, &b, "update idp user");
    free(user_name_lc);
    return rc == OK ? emails_write(tx, r, false) : rc;
}

/* One row by three keys.  Its emails are left NULL: they only feed the index, which every
 * insert and update rewrites from the caller's r->emails. */
static enum status idp_user_find(struct store_tx *tx, const char *sql, const char *const *keys,
                                 struct store_idp_user *out)
{
    memset(out, 0, sizeof(*out));
    return find_one(tx, sql, keys, 3, read_idp_user_copy, out, "get idp user");
}

static enum status pg_idp_user_get(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                                   const char *user_id, struct store_idp_user *out)
{
    const char *keys[] = { tenant_id, idp_id, user_id };
    return idp_user_find(tx, SQL_IDP_USER_GET, keys, out);
}

static enum status pg_idp_user_by_external_id(struct store_tx *tx, const char *tenant_id,
                                              const char *idp_id, const char *external_id,
                                              struct store_idp_user *out)
{
    const char *keys[] = { tenant_id, idp_id, external_id };
    return idp_user_find(tx, SQL_IDP_USER_BY_EXTERNAL_ID, keys, out);
}

static enum status pg_idp_user_by_user_name(struct store_tx *tx, const char *tenant_id,
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

static enum status each_idp_user(const struct row *row, any_fn fn, void *ctx)
{
    struct store_idp_user r;
    read_idp_user(row, &r, false);
    return ((store_idp_user_fn)fn)(ctx, &r);
}

static enum status pg_idp_user_each_of_user(struct store_tx *tx, const char *tenant_id,
                                            const char *user_id, store_idp_user_fn fn, void *ctx)
{
    const char *keys[] = { tenant_id, user_id };
    return for_each(tx, SQL_IDP_USER_EACH_OF_USER, keys, 2, each_idp_user, (any_fn)fn, ctx,
                    "list idp users");
}

/* The rows of a search: a page when exact (streamed if a large one), else every candidate. */
static bool search_streams(const struct store_search *q, bool exact)
{
    return !exact || q->limit > FETCH_ROWS;
}

/* A search built by build: the count when exact (unless skipped), then the rows. */
static enum status run_search(struct store_tx *tx, const struct store_search *q,
                              sqlgen_search_fn build, row_fn each, any_fn fn, void *ctx,
                              struct store_search_result *res, const char *what)
{
    struct sqlgen count, rows;
    sqlgen_init(&count, &sqlgen_postgres);
    sqlgen_init(&rows, &sqlgen_postgres);
    bool exact = false;
    enum status rc = build(q, &count, &rows, &exact);
    res->exact = exact;
    res->total = 0;
    if (rc == OK && exact && !q->skip_count)
        rc = run_sqlgen(tx, &count, false, read_count, NULL, &res->total, what);
    if (rc == OK && (!exact || q->limit > 0))
        rc = run_sqlgen(tx, &rows, search_streams(q, exact), each, fn, ctx, what);
    sqlgen_release(&count);
    sqlgen_release(&rows);
    return rc;
}

static enum status pg_idp_user_search(struct store_tx *tx, const struct store_search *q,
                                      store_idp_user_fn fn, void *ctx,
                                      struct store_search_result *res)
{
    return run_search(tx, q, sqlgen_user_search, each_idp_user, (any_fn)fn, ctx, res,
                      "search idp users");
}

/* ---- groups ------------------------------------------------------------------------- */

static const char SQL_GROUP_INSERT[] =
    "INSERT INTO groups (tenant_id, idp_id, id, external_id, display_name, display_name_lc, "
    "version, doc, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
    "ON CONFLICT DO NOTHING";
static const char SQL_GROUP_UPDATE[] =
    "UPDATE groups SET external_id = $1, display_name = $2, display_name_lc = $3, version = $4, "
    "doc = $5, updated_at = $6 WHERE tenant_id = $7 AND idp_id = $8 AND id = $9";
static const char SQL_GROUP_GET[] = "SELECT " SQLGEN_GROUP_COLUMNS " FROM groups "
                                    "WHERE tenant_id = $1 AND idp_id = $2 AND id = $3";
static const char SQL_GROUP_BY_EXTERNAL_ID[] =
    "SELECT " SQLGEN_GROUP_COLUMNS " FROM groups "
    "WHERE tenant_id = $1 AND idp_id = $2 AND external_id = $3";
static const char SQL_GROUP_DELETE[] =
    "DELETE FROM groups WHERE tenant_id = $1 AND idp_id = $2 AND id = $3";
/* The ids of $3 (in their order, repeats included) that are not live users. */
static const char SQL_USERS_MISSING[] =
    "SELECT t.u FROM unnest($3::text[]) WITH ORDINALITY AS t (u, n) WHERE NOT EXISTS "
    "(SELECT 1 FROM idp_users AS i WHERE i.tenant_id = $1 AND i.idp_id = $2 "
    "AND i.user_id = t.u AND i.deleted = 0) ORDER BY t.n";
static const char SQL_MEMBERS_ADD[] =
    "INSERT INTO group_members (tenant_id, idp_id, group_id, user_id) "
    "SELECT $1::text, $2::text, $3::text, u FROM unnest($4::text[]) AS u "
    "ON CONFLICT DO NOTHING RETURNING user_id";
static const char SQL_MEMBERS_REMOVE[] =
    "DELETE FROM group_members WHERE tenant_id = $1 AND idp_id = $2 AND group_id = $3 "
    "AND user_id = ANY ($4::text[]) RETURNING user_id";
static const char SQL_MEMBERS_EACH[] =
    "SELECT user_id FROM group_members "
    "WHERE tenant_id = $1 AND idp_id = $2 AND group_id = $3 ORDER BY user_id";
static const char SQL_MEMBERS_EACH_LIVE[] =
    "SELECT m.user_id FROM group_members AS m JOIN idp_users AS u ON u.tenant_id = m.tenant_id "
    "AND u.idp_id = m.idp_id AND u.user_id = m.user_id AND u.deleted = 0 "
    "WHERE m.tenant_id = $1 AND m.idp_id = $2 AND m.group_id = $3 ORDER BY m.user_id";
static const char SQL_MEMBERS_CLEAR[] =
    "DELETE FROM group_members WHERE tenant_id = $1 AND idp_id = $2 AND group_id = $3";
static const char SQL_USER_IN_GROUPS[] =
    "SELECT 1 FROM group_members WHERE tenant_id = $1 AND idp_id = $2 AND user_id = $3 LIMIT 1";
static const char SQL_GROUPS_OF_USER[] =
    "SELECT g.id, g.display_name FROM group_members AS m JOIN groups AS g ON g.tenant_id = "
    "m.tenant_id AND g.idp_id = m.idp_id AND g.id = m.group_id "
    "WHERE m.tenant_id = $1 AND m.idp_id = $2 AND m.user_id = $3 ORDER BY m.group_id";

static enum status read_group(const struct row *r, struct store_group *g, bool copy)
{
    memset(g, 0, sizeof(*g));
    col_copy(r, SQLGEN_G_TENANT_ID, g->tenant_id, sizeof(g->tenant_id));
    col_copy(r, SQLGEN_G_IDP_ID, g->idp_id, sizeof(g->idp_id));
    col_copy(r, SQLGEN_G_ID, g->id, sizeof(g->id));
    g->version = col_int(r, SQLGEN_G_VERSION);
    col_copy(r, SQLGEN_G_CREATED_AT, g->created_at, sizeof(g->created_at));
    col_copy(r, SQLGEN_G_UPDATED_AT, g->updated_at, sizeof(g->updated_at));
    if (!copy) {
        g->external_id = col_view(r, SQLGEN_G_EXTERNAL_ID);
        g->display_name = col_view(r, SQLGEN_G_DISPLAY_NAME);
        g->doc = col_view(r, SQLGEN_G_DOC);
        return OK;
    }
    if (!col_dup(r, SQLGEN_G_EXTERNAL_ID, &g->external_id) ||
        !col_dup(r, SQLGEN_G_DISPLAY_NAME, &g->display_name) ||
        !col_dup(r, SQLGEN_G_DOC, &g->doc)) {
        store_group_release(g);
        return ERR_NOMEM;
    }
    return OK;
}

static enum status read_group_copy(const struct row *r, void *out)
{
    return read_group(r, out, true);
}

static enum status group_write(struct store_tx *tx, const struct store_group *g, bool insert)
{
    char *lc = sqlgen_lower_dup(g->display_name);
    if (g->display_name != NULL && lc == NULL)
        return ERR_NOMEM;
    char now[STORE_TIME_LEN];
    struct binder b = { .n = 0 };
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
    enum status rc;
    if (insert) {
        const char *created_at = time_or_now(g->created_at, now);
        bind_text(&b, created_at);
        bind_text(&b, g->updated_at[0] ? g->updated_at : created_at);
        rc = exec_insert(tx, SQL_GROUP_INSERT, &b, "insert group");
    } else {
        bind_text(&b, time_or_now(g->updated_at, now));
        bind_text(&b, g->tenant_id);
        bind_text(&b, g->idp_id);
        bind_text(&b, g->id);
        rc = exec_one(tx, SQL_GROUP_UPDATE, &b, "update group");
    }
    free(lc);
    return rc;
}

static enum status pg_group_insert(struct store_tx *tx, const struct store_group *g)
{
    return group_write(tx, g, true);
}

/* An externalId taken by another group: ERR_UNIQUENESS, the transaction aborted. */
static enum status pg_group_update(struct store_tx *tx, const struct store_group *g)
{
    return group_write(tx, g, false);
}

static enum status pg_group_get(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                                const char *id, struct store_group *out)
{
    memset(out, 0, sizeof(*out));
    const char *keys[] = { tenant_id, idp_id, id };
    return find_one(tx, SQL_GROUP_GET, keys, 3, read_group_copy, out, "get group");
}

static enum status pg_group_by_external_id(struct store_tx *tx, const char *tenant_id,
                                           const char *idp_id, const char *external_id,
                                           struct store_group *out)
{
    memset(out, 0, sizeof(*out));
    const char *keys[] = { tenant_id, idp_id, external_id };
    return find_one(tx, SQL_GROUP_BY_EXTERNAL_ID, keys, 3, read_group_copy, out, "get group");
}

static enum status pg_group_delete(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                                   const char *id)
{
    /* member rows go with the group (ON DELETE CASCADE) */
    struct binder b = { .n = 0 };
    bind_text(&b, tenant_id);
    bind_text(&b, idp_id);
    bind_text(&b, id);
    return exec_one(tx, SQL_GROUP_DELETE, &b, "delete group");
}

static enum status each_id(const struct row *r, any_fn fn, void *ctx)
{
    return ((store_id_fn)fn)(ctx, col_text(r, 0));
}

static enum status pg_users_missing(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                                    const char *const *user_ids, size_t n, store_id_fn fn,
                                    void *ctx)
{
    for (size_t start = 0; start < n; start += ID_BATCH_MAX) {
        size_t k = n - start < ID_BATCH_MAX ? n - start : ID_BATCH_MAX;
        char *array = text_array(user_ids + start, k);
        if (array == NULL)
            return ERR_NOMEM;
        const char *keys[] = { tenant_id, idp_id, array };
        enum status rc =
            for_each(tx, SQL_USERS_MISSING, keys, 3, each_id, (any_fn)fn, ctx, "live users");
        free(array);
        if (rc != OK)
            return rc;
    }
    return OK;
}

struct changed_id {
    const char *id;
    bool seen;
};

static int changed_id_cmp(const void *a, const void *b)
{
    return strcmp(((const struct changed_id *)a)->id, ((const struct changed_id *)b)->id);
}

/* Call fn for each of ids[0..n) among the ids res returned (one per row):
 * once each, in the order of ids, as one statement per id would. */
static enum status deliver_changed(PGresult *res, const char *const *ids, size_t n, store_id_fn fn,
                                   void *ctx)
{
    int rows = PQntuples(res);
    if (rows == 0 || fn == NULL)
        return OK;
    struct changed_id *changed = calloc((size_t)rows, sizeof(*changed));
    if (changed == NULL)
        return ERR_NOMEM;
    for (int i = 0; i < rows; i++)
        changed[i].id = PQgetvalue(res, i, 0);
    qsort(changed, (size_t)rows, sizeof(*changed), changed_id_cmp);
    enum status rc = OK;
    for (size_t i = 0; rc == OK && i < n; i++) {
        if (ids[i] == NULL)
            continue;
        struct changed_id key = { ids[i], false };
        struct changed_id *hit =
            bsearch(&key, changed, (size_t)rows, sizeof(*changed), changed_id_cmp);
        if (hit != NULL && !hit->seen) {
            hit->seen = true;
            rc = fn(ctx, ids[i]);
        }
    }
    free(changed);
    return rc;
}

/* Add or remove members, ID_BATCH_MAX ids per statement: each batch is one
 * index probe per id, so the cost of a change does not depend on the size of
 * the group, and one round trip serves many ids. */
static enum status members_change(struct store_tx *tx, const char *sql, const char *tenant_id,
                                  const char *idp_id, const char *group_id,
                                  const char *const *user_ids, size_t n, store_id_fn fn, void *ctx)
{
    for (size_t start = 0; start < n; start += ID_BATCH_MAX) {
        size_t k = n - start < ID_BATCH_MAX ? n - start : ID_BATCH_MAX;
        char *array = text_array(user_ids + start, k);
        if (array == NULL)
            return ERR_NOMEM;
        const char *keys[] = { tenant_id, idp_id, group_id, array };
        PGresult *res;
        enum status rc = tx_run(tx, sql, 4, keys, true, &res, "change members");
        free(array);
        if (rc == OK)
            rc = deliver_changed(res, user_ids + start, k, fn, ctx);
        PQclear(res);
        if (rc != OK)
            return rc;
    }
    return OK;
}

static enum status pg_group_members_add(struct store_tx *tx, const char *tenant_id,
                                        const char *idp_id, const char *group_id,
                                        const char *const *user_ids, size_t n, store_id_fn fn,
                                        void *ctx)
{
    return members_change(tx, SQL_MEMBERS_ADD, tenant_id, idp_id, group_id, user_ids, n, fn, ctx);
}

static enum status pg_group_members_remove(struct store_tx *tx, const char *tenant_id,
                                           const char *idp_id, const char *group_id,
                                           const char *const *user_ids, size_t n, store_id_fn fn,
                                           void *ctx)
{
    return members_change(tx, SQL_MEMBERS_REMOVE, tenant_id, idp_id, group_id, user_ids, n, fn,
                          ctx);
}

static enum status pg_group_members_clear(struct store_tx *tx, const char *tenant_id,
                                          const char *idp_id, const char *group_id, store_id_fn fn,
                                          void *ctx)
{
    const char *keys[] = { tenant_id, idp_id, group_id };
    enum status rc = OK;
    if (fn != NULL)
        rc = stream_keys(tx, SQL_MEMBERS_EACH, keys, 3, each_id, (any_fn)fn, ctx, "list members");
    if (rc != OK)
        return rc;
    struct binder b = { .n = 0 };
    for (size_t i = 0; i < 3; i++)
        bind_text(&b, keys[i]);
    return exec_stmt(tx, SQL_MEMBERS_CLEAR, &b, NULL, "clear members");
}

static enum status pg_group_members_each(struct store_tx *tx, const char *tenant_id,
                                         const char *idp_id, const char *group_id, bool live_only,
                                         store_id_fn fn, void *ctx)
{
    const char *keys[] = { tenant_id, idp_id, group_id };
    return stream_keys(tx, live_only ? SQL_MEMBERS_EACH_LIVE : SQL_MEMBERS_EACH, keys, 3, each_id,
                       (any_fn)fn, ctx, "list members");
}

static enum status pg_user_in_groups(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                                     const char *user_id, bool *out)
{
    const char *keys[] = { tenant_id, idp_id, user_id };
    enum status rc = find_one(tx, SQL_USER_IN_GROUPS, keys, 3, read_nothing, NULL, "user groups");
    *out = rc == OK;
    return rc == ERR_NOT_FOUND ? OK : rc;
}

static enum status each_group_of(const struct row *r, any_fn fn, void *ctx)
{
    return ((store_group_of_fn)fn)(ctx, col_text(r, 0), col_text(r, 1));
}

static enum status pg_groups_of_user_each(struct store_tx *tx, const char *tenant_id,
                                          const char *idp_id, const char *user_id,
                                          store_group_of_fn fn, void *ctx)
{
    const char *keys[] = { tenant_id, idp_id, user_id };
    return for_each(tx, SQL_GROUPS_OF_USER, keys, 3, each_group_of, (any_fn)fn, ctx,
                    "groups of user");
}

static enum status each_group(const struct row *r, any_fn fn, void *ctx)
{
    struct store_group g;
    read_group(r, &g, false);
    return ((store_group_fn)fn)(ctx, &g);
}

static enum status pg_group_search(struct store_tx *tx, const struct store_search *q,
                                   store_group_fn fn, void *ctx, struct store_search_result *res)
{
    return run_search(tx, q, sqlgen_group_search, each_group, (any_fn)fn, ctx, res,
                      "search groups");
}

/* ---- events ------------------------------------------------------------------------- */

/* Events outside a tenant are stored with tenant_id '' (the key starts with
 * it) and read back as NULL. */
static const char SQL_EVENT_INSERT[] =
    "INSERT INTO events (tenant_id, id, at, type, idp_id, actor, subject_id, summary, source) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING seq";

static enum status pg_event_append(struct store_tx *tx, struct store_event *e)
{
    enum status rc = crypto_uuid(e->id);
    if (rc != OK)
        return rc;
    clock_now_iso(e->at);
    struct binder b = { .n = 0 };
    bind_text(&b, e->tenant_id ? e->tenant_id : "");
    bind_text(&b, e->id);
    bind_text(&b, e->at);
    bind_text(&b, e->type);
    bind_text(&b, e->idp_id);
    bind_text(&b, e->actor);
    bind_text(&b, e->subject_id);
    bind_text(&b, e->summary);
    bind_text(&b, e->source);
    PGresult *res;
    rc = tx_run(tx, SQL_EVENT_INSERT, b.n, b.values, true, &res, "append event");
    if (rc == OK && PQntuples(res) == 1) {
        struct row r = { res, 0 };
        e->seq = col_int(&r, 0);
    }
    PQclear(res);
    return rc;
}

/* Deliver one row of SQLGEN_EVENT_COLUMNS, its strings borrowed from the result. */
static enum status each_event(const struct row *r, any_fn fn, void *ctx)
{
    struct store_event e;
    memset(&e, 0, sizeof(e));
    e.seq = col_int(r, 0);
    col_copy(r, 1, e.id, sizeof(e.id));
    col_copy(r, 2, e.at, sizeof(e.at));
    e.tenant_id = col_text(r, 3);
    if (e.tenant_id != NULL && e.tenant_id[0] == '\0')
        e.tenant_id = NULL;
    e.idp_id = col_text(r, 4);
    e.type = col_text(r, 5);
    e.actor = col_text(r, 6);
    e.subject_id = col_text(r, 7);
    e.summary = col_text(r, 8);
    e.source = col_text(r, 9);
    return ((store_event_fn)fn)(ctx, &e);
}

static enum status pg_event_each(struct store_tx *tx, const struct store_event_query *q,
                                 store_event_fn fn, void *ctx)
{
    struct sqlgen g;
    sqlgen_init(&g, &sqlgen_postgres);
    enum status rc = sqlgen_event_query(q, &g);
    if (rc == OK)
        rc = run_sqlgen(tx, &g, false, each_event, (any_fn)fn, ctx, "list events");
    sqlgen_release(&g);
    return rc;
}

/* ---- settings ----------------------------------------------------------------------- */

static const char SQL_SETTING_INSERT[] =
    "INSERT INTO settings (name, value, created_at) VALUES ($1, $2, $3) "
    "ON CONFLICT (name) DO NOTHING";
static const char SQL_SETTING_GET[] = "SELECT value FROM settings WHERE name = $1";

struct setting_out {
    char *buf;
    size_t size;
};

static enum status read_setting(const struct row *r, void *out)
{
    struct setting_out *o = out;
    const char *v = col_text(r, 0);
    if (v == NULL || strlen(v) >= o->size)
        return ERR_INVALID_VALUE;
    str_copy(o->buf, o->size, v);
    return OK;
}

static enum status pg_setting_claim(struct store_tx *tx, const char *name, const char *candidate,
                                    char *out, size_t out_size)
{
    char now[STORE_TIME_LEN];
    struct binder b = { .n = 0 };
    bind_text(&b, name);
    bind_text(&b, candidate);
    bind_text(&b, time_or_now(NULL, now));
    enum status rc = exec_stmt(tx, SQL_SETTING_INSERT, &b, NULL, "insert setting");
    if (rc != OK)
        return rc;
    struct setting_out o = { out, out_size };
    return find_one(tx, SQL_SETTING_GET, &name, 1, read_setting, &o, "read setting");
}

/* ---- the backend table -------------------------------------------------------------- */

static const struct store_ops postgres_ops = {
    .name = "postgres",
    .close = pg_close,
    .begin = pg_begin,
    .lock = pg_lock,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .tenant_insert = pg_tenant_insert,
    .tenant_find = pg_tenant_find,
    .tenant_each = pg_tenant_each,
    .idp_insert = pg_idp_insert,
    .idp_get = pg_idp_get,
    .idp_each = pg_idp_each,
    .token_insert = pg_token_insert,
    .token_get = pg_token_get,
    .token_by_hash = pg_token_by_hash,
    .token_revoke = pg_token_revoke,
    .token_touch = pg_token_touch,
    .token_each = pg_token_each,
    .user_insert = pg_user_insert,
    .user_update = pg_user_update,
    .user_get = pg_user_get,
    .user_find_match = pg_user_find_match,
    .user_each = pg_user_each,
    .idp_user_insert = pg_idp_user_insert,
    .idp_user_update = pg_idp_user_update,
    .idp_user_get = pg_idp_user_get,
    .idp_user_by_external_id = pg_idp_user_by_external_id,
    .idp_user_by_user_name = pg_idp_user_by_user_name,
    .idp_user_each_of_user = pg_idp_user_each_of_user,
    .idp_user_search = pg_idp_user_search,
    .group_insert = pg_group_insert,
    .group_update = pg_group_update,
    .group_get = pg_group_get,
    .group_by_external_id = pg_group_by_external_id,
    .group_delete = pg_group_delete,
    .group_search = pg_group_search,
    .users_missing = pg_users_missing,
    .group_members_add = pg_group_members_add,
    .group_members_remove = pg_group_members_remove,
    .group_members_clear = pg_group_members_clear,
    .group_members_each = pg_group_members_each,
    .user_in_groups = pg_user_in_groups,
    .groups_of_user_each = pg_groups_of_user_each,
    .setting_claim = pg_setting_claim,
    .event_append = pg_event_append,
    .event_each = pg_event_each,
};
