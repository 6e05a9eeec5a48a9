/* SPDX-License-Identifier: Apache-2.0 */
/*
 * postgres.c - this file contains the PostgreSQL backend of the store: the
 * connection pool, transactions, migrations under an advisory lock, the
 * per-connection prepared statement cache, and stmt.h's statements on libpq
 * (placeholders rewritten to $N).  The records' SQL lives in rec_*.c,
 * written once for every backend.
 *
 * Connections are opened lazily up to pool_size; a transaction holds one for
 * its lifetime and a transaction that finds them all busy waits for one.
 * Write transactions run at READ COMMITTED; store_lock takes a
 * transaction-scoped advisory lock on a hash of its key, so SCIM writes on
 * the same resource never interleave on any node sharing the database (what
 * SQLite's single writer gives), while other writes run side by side.  Read
 * transactions run at REPEATABLE READ so that, as on SQLite, all their
 * statements see one snapshot.
 *
 * Round trips are what a request waits for, so they are few: connections run
 * in libpq's pipeline mode; BEGIN goes with a transaction's first statement,
 * PREPARE with a statement's first run, a search's count with its rows, and a
 * transaction that does not commit sends its ROLLBACK without waiting (the
 * answer is read with the connection's next round trip).  A SCIM read is two:
 * BEGIN + token, then the row (its group check folded in, see
 * SQLGEN_IDP_USER_COLUMNS); the IdP comes from rec_tenants.c's cache.
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
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store.h"

#include "core/clock.h"
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
#define STMT_CACHE_GEN_MAX 96    /* of which generated ones (searches) may take this many */
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
    struct store_pool_conn link; /* first: the pool lends it; also the list of dead ones */
    PGconn *pg;
    struct cached_stmt cache[STMT_CACHE_MAX]; /* cache[i] is prepared as "s<i>" */
    size_t n_cache;
    unsigned cursors; /* cursor names handed out */
    bool broken;      /* the session is gone or unusable: close it, never reuse it */
    bool timed_out;   /* broken because the server did not answer in time */
    int64_t wait_ms;  /* longest wait for an answer; 0: no limit (migrations) */
    unsigned owed;    /* syncs sent without waiting (a deferred ROLLBACK): read first */
};

struct store {
    struct store_common common; /* first: store.c dispatches through it */
    char *url;                  /* without DB_TIMEOUT_PARAM */
    int64_t timeout_ms; /* statement_timeout; answers are awaited DEADLINE_GRACE_MS longer */
    struct store_pool pool;
    int64_t busy_warned_ms; /* last warnings (clock_mono_ms), under pool.mu; 0: never */
    int64_t connect_warned_ms;
    uint64_t round_trips; /* answers waited for (tests count them); atomic */
};

struct store_tx {
    struct store_tx_common c; /* first: store.c dispatches through it; store, write */
    struct conn *conn;
    bool fresh;         /* conn was opened for this transaction */
    bool begin_pending; /* BEGIN not sent yet: it goes with the first statement */
    enum status failed; /* the first failed statement: PostgreSQL aborted the transaction */
};

static const struct store_ops postgres_ops;
static enum status pool_take(struct store *s, struct conn **out, bool *fresh);
static void pool_put(struct store *s, struct conn *c);

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
        return ERR_UNAVAILABLE; /* logged when it timed out */
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *severity = res ? PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED) : NULL;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char msg[ERROR_TEXT_MAX];
    first_line(primary ? primary : PQerrorMessage(c->pg), msg);

    bool gone = (res == NULL && c->broken) || PQstatus(c->pg) != CONNECTION_OK ||
                st == PGRES_BAD_RESPONSE ||
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
 * WARN_INTERVAL_MS.  Caller holds pool.mu. */
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

/* The next result on c (NULL: the end of a command), waiting until deadline.
 * False when c timed out. */
static bool conn_next(struct conn *c, int64_t deadline, PGresult **res, const char *what)
{
    *res = NULL;
    while (PQisBusy(c->pg)) {
        if (!conn_poll(c, false, deadline)) {
            conn_timed_out(c, what);
            return false;
        }
        if (!PQconsumeInput(c->pg))
            break; /* PQgetResult reports the failure */
    }
    *res = PQgetResult(c->pg);
    return true;
}

/* Send what libpq holds for c, waiting until deadline. */
static bool conn_flush(struct conn *c, int64_t deadline, const char *what)
{
    int flushed;
    while ((flushed = PQflush(c->pg)) == 1) {
        if (!conn_poll(c, true, deadline)) {
            conn_timed_out(c, what);
            return false;
        }
        if (!PQconsumeInput(c->pg))
            return false;
    }
    return flushed == 0;
}

/*
 * The result of the command just sent on c (PQsend*: sent is its return
 * value), as PQexec gives it: the first failed result of a script, else its
 * last result.  NULL when nothing came back: the connection failed (see
 * PQerrorMessage), or the deadline passed and c is marked timed out.
 */
static PGresult *conn_await(struct conn *c, int sent, const char *what)
{
    int64_t deadline = c->wait_ms > 0 ? clock_mono_ms() + c->wait_ms : 0;
    if (!sent || !conn_flush(c, deadline, what))
        return NULL;
    PGresult *kept = NULL, *res;
    while (conn_next(c, deadline, &res, what)) {
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
    PQclear(kept);
    return NULL;
}

/* PQexec through conn_await (a script of several statements: not in pipeline mode). */
static PGresult *conn_exec(struct conn *c, const char *sql, const char *what)
{
    return conn_await(c, PQsendQuery(c->pg, sql), what);
}

/* Run a script of several statements on a connection in pipeline mode (which
 * takes one statement per command): out of it and back. */
static enum status conn_script(struct conn *c, const char *sql, const char *what)
{
    if (PQexitPipelineMode(c->pg) != 1) {
        c->broken = true;
        return pg_status(c, NULL, what);
    }
    PGresult *res = conn_exec(c, sql, what);
    enum status rc = pg_status(c, res, what);
    PQclear(res);
    if (PQenterPipelineMode(c->pg) != 1) {
        c->broken = true;
        return rc == OK ? pg_status(c, NULL, what) : rc;
    }
    return rc;
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
 * stmt.h's SQL with PostgreSQL's placeholders: `?N` becomes $N and each bare
 * `?` the next number (text in quotes is left alone).  malloc'd; NULL on OOM.
 */
static char *pg_placeholders(const char *sql)
{
    struct buf b;
    buf_init(&b, 0);
    int next = 0;
    bool quoted = false;
    for (const char *p = sql; *p; p++) {
        if (*p == '\'')
            quoted = !quoted;
        if (*p != '?' || quoted) {
            buf_putc(&b, *p);
            continue;
        }
        if (p[1] >= '0' && p[1] <= '9') {
            buf_putc(&b, '$');
            continue; /* the digits follow as they are */
        }
        buf_printf(&b, "$%d", ++next);
    }
    char *out = buf_take(&b);
    buf_release(&b);
    return out;
}

/* ---- round trips -------------------------------------------------------------------- */

/*
 * Pooled connections run in libpq's pipeline mode: the commands of one step
 * (BEGIN with a transaction's first statement, PREPARE with a statement's
 * first run, a search's count with its rows) go out together and are
 * answered in one round trip.  A transaction that ends without committing
 * sends its ROLLBACK without waiting: the answer is read at the start of the
 * connection's next round trip.
 */

#define ROUND_TRIP_CMDS 8 /* commands of one round trip: BEGIN, two PREPAREs and runs, ... */

/* One command of a round trip. */
struct pg_cmd {
    const char *sql;          /* text to run unprepared, or to prepare */
    char name[STMT_NAME_MAX]; /* prepared statement to run, or (prepare) to create; "" */
    bool prepare;
    int n;
    const char *const *values;
    const char *what;
    char *owned;   /* malloc'd text the command points into, freed by cmds_release */
    PGresult *res; /* its result, for PQclear */
};

static void cmds_release(struct pg_cmd *cmds, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        PQclear(cmds[i].res);
        free(cmds[i].owned);
        cmds[i].res = NULL;
        cmds[i].owned = NULL;
    }
}

/* Read the answers owed to commands sent without waiting, up to their syncs. */
static bool conn_drain(struct conn *c, int64_t deadline, const char *what)
{
    for (unsigned reads = 0; c->owed > 0; reads++) {
        PGresult *res;
        if (reads > 8 * c->owed || !conn_next(c, deadline, &res, what))
            return false;
        if (res == NULL) {
            if (PQstatus(c->pg) != CONNECTION_OK)
                return false;
            continue; /* the end of the owed command */
        }
        ExecStatusType st = PQresultStatus(res);
        PQclear(res);
        if (st == PGRES_PIPELINE_SYNC)
            c->owed--;
        else if (st != PGRES_COMMAND_OK)
            return false; /* a ROLLBACK that failed: the session is in doubt */
    }
    return true;
}

static int cmd_send(struct conn *c, const struct pg_cmd *cmd)
{
    if (cmd->prepare)
        return PQsendPrepare(c->pg, cmd->name, cmd->sql, 0, NULL);
    if (cmd->name[0])
        return PQsendQueryPrepared(c->pg, cmd->name, cmd->n, cmd->values, NULL, NULL, 0);
    return PQsendQueryParams(c->pg, cmd->sql, cmd->n, NULL, cmd->values, NULL, NULL, 0);
}

/*
 * One round trip on c: send cmds and a sync, read what earlier round trips
 * left owed, then each command's result (cmds[i].res; after a failed command
 * the rest are PGRES_PIPELINE_ABORTED) and the sync.  ERR_UNAVAILABLE with no
 * results and c marked broken when the connection failed or did not answer
 * within c->wait_ms.
 */
static enum status conn_roundtrip(struct conn *c, struct pg_cmd *cmds, size_t n, const char *what)
{
    int64_t deadline = c->wait_ms > 0 ? clock_mono_ms() + c->wait_ms : 0;
    bool ok = !c->broken;
    for (size_t i = 0; ok && i < n; i++)
        ok = cmd_send(c, &cmds[i]) == 1;
    ok = ok && PQpipelineSync(c->pg) == 1 && conn_flush(c, deadline, what) &&
         conn_drain(c, deadline, what);
    for (size_t i = 0; ok && i < n; i++) {
        PGresult *end = NULL;
        ok = conn_next(c, deadline, &cmds[i].res, what) && cmds[i].res != NULL &&
             conn_next(c, deadline, &end, what) && end == NULL;
        PQclear(end);
    }
    PGresult *sync = NULL;
    ok = ok && conn_next(c, deadline, &sync, what) && sync != NULL &&
         PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
    PQclear(sync);
    if (ok)
        return OK;
    c->broken = true;
    for (size_t i = 0; i < n; i++) {
        PQclear(cmds[i].res);
        cmds[i].res = NULL;
    }
    return ERR_UNAVAILABLE;
}

/* Send sql (no parameters) and a sync without waiting for the answer, which
 * the next round trip reads first.  A connection that cannot is broken. */
static void conn_defer(struct conn *c, const char *sql)
{
    if (c->broken || PQstatus(c->pg) != CONNECTION_OK)
        return;
    int64_t deadline = c->wait_ms > 0 ? clock_mono_ms() + c->wait_ms : 0;
    if (PQsendQueryParams(c->pg, sql, 0, NULL, NULL, NULL, NULL, 0) != 1 ||
        PQpipelineSync(c->pg) != 1 || !conn_flush(c, deadline, sql)) {
        c->broken = true;
        return;
    }
    c->owed++;
}

/* Register the statement a successful PREPARE created in c's cache. */
static void cache_add(struct conn *c, const char *sql)
{
    char *key = str_dup(sql);
    if (key == NULL || c->n_cache == STMT_CACHE_MAX) {
        c->broken = true; /* the server has a statement we would prepare again */
        free(key);
        return;
    }
    c->cache[c->n_cache++] = (struct cached_stmt){ key, sql_hash(sql) };
}

/*
 * One round trip of tx: cmds, after BEGIN when the transaction has not sent
 * it yet.  The first failure is the transaction's (logged once, here): its
 * later calls return it at once; successful PREPAREs are registered (their
 * key is cmds[i].sql's text before rewriting: cmds[i].owned holds the
 * rewrite).  On failure no results remain.
 */
static enum status tx_roundtrip(struct store_tx *tx, struct pg_cmd *cmds, size_t n,
                                const char *const *cache_keys)
{
    if (tx->failed != OK)
        return tx->failed;
    struct conn *c = tx->conn;
    struct pg_cmd all[ROUND_TRIP_CMDS + 1];
    size_t k = 0;
    bool with_begin = tx->begin_pending;
    if (with_begin) {
        all[k++] = (struct pg_cmd){ .sql = tx->c.write ? "BEGIN ISOLATION LEVEL READ COMMITTED"
                                                       : "BEGIN ISOLATION LEVEL REPEATABLE READ",
                                    .what = "begin" };
    }
    assert(n <= ROUND_TRIP_CMDS);
    memcpy(all + k, cmds, n * sizeof(*cmds));
    __atomic_add_fetch(&tx->c.store->round_trips, 1, __ATOMIC_RELAXED);
    enum status rc = conn_roundtrip(c, all, k + n, n > 0 ? cmds[0].what : "begin");
    for (size_t i = 0; rc == OK && i < k + n; i++) {
        rc = pg_status(c, all[i].res, all[i].what);
        if (rc == OK && all[i].prepare)
            cache_add(c, cache_keys[i - k]);
    }
    if (with_begin && !c->broken)
        tx->begin_pending = false; /* the server has the transaction, failed or not */
    PQclear(with_begin ? all[0].res : NULL);
    for (size_t i = 0; i < n; i++) {
        cmds[i].res = all[k + i].res;
        if (rc != OK) {
            PQclear(cmds[i].res);
            cmds[i].res = NULL;
        }
    }
    if (rc != OK)
        tx->failed = rc;
    return rc;
}

/* Run sql as it is (no placeholders to rewrite) with n text parameters; on OK
 * *out holds the result, for PQclear. */
static enum status tx_run(struct store_tx *tx, const char *sql, int n, const char *const *values,
                          PGresult **out, const char *what)
{
    struct pg_cmd cmd = { .sql = sql, .n = n, .values = values, .what = what };
    enum status rc = tx_roundtrip(tx, &cmd, 1, NULL);
    *out = cmd.res;
    return rc;
}

/* Run a statement without parameters whose result is not needed (COMMIT, FETCH, ...). */
static enum status tx_exec(struct store_tx *tx, const char *sql, const char *what)
{
    PGresult *res;
    enum status rc = tx_run(tx, sql, 0, NULL, &res, what);
    PQclear(res);
    return rc;
}

/* Rows a command changed (PQcmdTuples); 0 when it does not say. */
static int64_t cmd_tuples(PGresult *res)
{
    long n = 0;
    return str_to_long(PQcmdTuples(res), 0, LONG_MAX, &n) ? n : 0;
}

/* ---- statements of the record files (stmt.h) ---------------------------------------- */

struct pg_param {
    const char *text;
    bool is_int;
    char num[INT_TEXT_MAX];
};

struct stmt {
    struct stmt_common c; /* first: stmt.c dispatches through it; tx */
    const char *sql;      /* borrowed until stmt_finish */
    bool fixed, scan;
    const char *what;
    struct pg_param inline_params[STMT_MAX_PARAMS];
    struct pg_param *params; /* inline_params, or a heap array when more are bound */
    size_t n, cap;
    const char **values; /* the parameters as libpq takes them, once run */
    bool nomem;          /* binding ran out of memory */
    bool ran;
    PGresult *res;
    int row; /* current row of res; -1 before the first */
    int64_t changes;
    bool cursor_open, more;
    char cursor[CURSOR_SQL_MAX];
};

static enum status pg_prepare(struct store_tx *tx, const char *sql, bool fixed, unsigned flags,
                              const char *what, struct stmt **out)
{
    *out = NULL;
    if (tx->failed != OK)
        return tx->failed;
    struct stmt *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return ERR_NOMEM;
    st->c.head.ops = &postgres_ops;
    st->c.tx = tx;
    st->sql = sql;
    st->fixed = fixed;
    st->scan = (flags & STMT_SCAN) != 0;
    st->what = what;
    st->params = st->inline_params;
    st->cap = STMT_MAX_PARAMS;
    st->row = -1;
    *out = st;
    return OK;
}

static struct pg_param *next_param(struct stmt *st)
{
    if (st->n == st->cap) {
        size_t cap = 2 * st->cap;
        struct pg_param *more = calloc(cap, sizeof(*more));
        if (more == NULL) {
            st->nomem = true;
            return NULL;
        }
        memcpy(more, st->params, st->n * sizeof(*more));
        if (st->params != st->inline_params)
            free(st->params);
        st->params = more;
        st->cap = cap;
    }
    return &st->params[st->n++];
}

static void pg_bind_text(struct stmt *st, const char *value)
{
    struct pg_param *p = next_param(st);
    if (p != NULL)
        *p = (struct pg_param){ .text = value };
}

static void pg_bind_int(struct stmt *st, int64_t value)
{
    struct pg_param *p = next_param(st);
    if (p != NULL) {
        p->is_int = true;
        snprintf(p->num, INT_TEXT_MAX, "%" PRId64, value);
    }
}

/*
 * Append to cmds what runs st on tx's connection (*n of them so far, *prepares
 * of those PREPAREs; keys[i] the cache key of cmds[i]): a prepared statement,
 * [PREPARE and] EXECUTE for fixed SQL, the text for sqlgen's, DECLARE of a
 * cursor for a scan.
 */
static enum status stmt_cmds(struct stmt *st, struct pg_cmd *cmds, const char **keys, size_t *n,
                             unsigned *prepares)
{
    if (st->nomem)
        return ERR_NOMEM;
    struct conn *c = ((struct store_tx *)st->c.tx)->conn;
    free(st->values);
    st->values = calloc(st->n ? st->n : 1, sizeof(*st->values));
    if (st->values == NULL)
        return ERR_NOMEM;
    for (size_t i = 0; i < st->n; i++)
        st->values[i] = st->params[i].is_int ? st->params[i].num : st->params[i].text;
    struct pg_cmd run = { .sql = st->sql, .n = (int)st->n, .values = st->values, .what = st->what };
    if (st->scan) {
        /* A cursor hands over STMT_SCAN_ROWS rows at a time: memory stays bounded
         * and the connection is free for callbacks between batches. */
        char *text = st->fixed ? pg_placeholders(st->sql) : NULL;
        struct buf declare;
        buf_init(&declare, 0);
        snprintf(st->cursor, sizeof(st->cursor), "scimd_c%u", ++c->cursors);
        buf_printf(&declare, "DECLARE %s NO SCROLL CURSOR FOR %s", st->cursor,
                   text ? text : st->sql);
        free(text);
        run.owned = buf_take(&declare);
        buf_release(&declare);
        if (run.owned == NULL)
            return ERR_NOMEM;
        run.sql = run.owned;
    } else {
        /* Generated SQL (a search of one filter shape: the values are bound) is
         * prepared too, so its plan is made once per connection, not per
         * request; a share of the cache stays for the fixed statements. */
        uint64_t h = sql_hash(st->sql);
        for (size_t i = 0; run.name[0] == '\0' && i < c->n_cache; i++) {
            if (c->cache[i].hash == h && strcmp(c->cache[i].sql, st->sql) == 0)
                snprintf(run.name, sizeof(run.name), "s%zu", i);
        }
        if (run.name[0] == '\0') {
            if (st->fixed) {
                run.owned = pg_placeholders(st->sql);
                if (run.owned == NULL)
                    return ERR_NOMEM;
                run.sql = run.owned;
            }
            if (c->n_cache + *prepares < (st->fixed ? STMT_CACHE_MAX : STMT_CACHE_GEN_MAX)) {
                /* prepared on first use: PREPARE goes in the same round trip */
                struct pg_cmd prepare = { .sql = run.sql, .prepare = true, .what = st->what };
                snprintf(prepare.name, sizeof(prepare.name), "s%zu", c->n_cache + *prepares);
                str_copy(run.name, sizeof(run.name), prepare.name);
                keys[*n] = st->sql;
                cmds[(*n)++] = prepare;
                ++*prepares;
            }
        }
    }
    keys[*n] = NULL;
    cmds[(*n)++] = run;
    return OK;
}

/*
 * Run sts[0..n) in one round trip.  A transaction's first round trip that
 * finds its pooled connection dead (a server restart) moves to another and
 * tries again, as nothing of it has run yet.
 */
static enum status stmts_run(struct stmt **sts, size_t n)
{
    struct store_tx *tx = (struct store_tx *)sts[0]->c.tx;
    for (unsigned attempt = 0;; attempt++) {
        struct pg_cmd cmds[ROUND_TRIP_CMDS];
        const char *keys[ROUND_TRIP_CMDS];
        size_t k = 0;
        unsigned prepares = 0;
        size_t run_at[2];
        enum status rc = tx->failed;
        for (size_t i = 0; rc == OK && i < n; i++) {
            rc = stmt_cmds(sts[i], cmds, keys, &k, &prepares);
            run_at[i] = k - 1;
        }
        bool first = tx->begin_pending;
        if (rc == OK)
            rc = tx_roundtrip(tx, cmds, k, keys);
        for (size_t i = 0; rc == OK && i < n; i++) {
            struct stmt *st = sts[i];
            st->ran = true;
            if (st->scan) {
                st->cursor_open = st->more = true;
            } else {
                st->res = cmds[run_at[i]].res;
                cmds[run_at[i]].res = NULL;
                st->changes = cmd_tuples(st->res);
            }
        }
        cmds_release(cmds, k);
        struct conn *c = tx->conn;
        bool retry = rc == ERR_UNAVAILABLE && first && c->broken && !c->timed_out && !tx->fresh &&
                     attempt < tx->c.store->pool.size;
        if (!retry) {
            for (size_t i = 0; i < n; i++)
                sts[i]->ran = true;
            return rc;
        }
        pool_put(tx->c.store, c);
        tx->conn = NULL;
        if (pool_take(tx->c.store, &tx->conn, &tx->fresh) != OK)
            return rc; /* tx->failed stays, and without a connection there is nothing to end */
        tx->failed = OK;
    }
}

/* The next batch of st's cursor into st->res. */
static enum status stmt_fetch(struct stmt *st)
{
    char fetch[CURSOR_SQL_MAX];
    snprintf(fetch, sizeof(fetch), "FETCH %d FROM %s", STMT_SCAN_ROWS, st->cursor);
    PQclear(st->res);
    st->res = NULL;
    st->row = -1;
    enum status rc = tx_run((struct store_tx *)st->c.tx, fetch, 0, NULL, &st->res, st->what);
    st->more = rc == OK && PQntuples(st->res) == STMT_SCAN_ROWS;
    return rc;
}

static enum status pg_run_together(struct stmt *a, struct stmt *b)
{
    if (a->ran || b->ran)
        return OK;
    struct stmt *both[] = { a, b };
    return stmts_run(both, 2);
}

static enum status pg_step(struct stmt *st)
{
    if (!st->ran) {
        enum status rc = stmts_run(&st, 1);
        if (rc != OK)
            return rc;
    }
    if (st->res != NULL && st->row + 1 < PQntuples(st->res)) {
        st->row++;
        return OK;
    }
    if (!st->more)
        return ERR_NOT_FOUND;
    enum status rc = stmt_fetch(st);
    if (rc != OK)
        return rc;
    return pg_step(st);
}

static enum status pg_exec(struct stmt *st)
{
    return st->ran ? OK : stmts_run(&st, 1);
}

static int64_t pg_changes(const struct stmt *st)
{
    return st->changes;
}

static const char *pg_col_text(struct stmt *st, int col)
{
    return PQgetisnull(st->res, st->row, col) ? NULL : PQgetvalue(st->res, st->row, col);
}

/* An integer column (bigint, integer); NULL and junk read as 0. */
static int64_t pg_col_int(struct stmt *st, int col)
{
    const char *s = pg_col_text(st, col);
    if (s == NULL || *s == '\0')
        return 0;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    return errno == 0 && *end == '\0' ? (int64_t)v : 0;
}

static void pg_finish(struct stmt *st)
{
    PQclear(st->res);
    if (st->cursor_open && st->c.tx->failed == OK) {
        char close_sql[CURSOR_SQL_MAX];
        snprintf(close_sql, sizeof(close_sql), "CLOSE %s", st->cursor);
        tx_exec(st->c.tx, close_sql, st->what);
    }
    if (st->params != st->inline_params)
        free(st->params);
    free(st->values);
    free(st);
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
        pthread_mutex_lock(&s->pool.mu);
        bool warn = warn_due(&s->connect_warned_ms);
        pthread_mutex_unlock(&s->pool.mu);
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
        if (rc == OK && PQenterPipelineMode(c->pg) != 1)
            rc = pg_status(c, NULL, "configure connection");
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
    return PQstatus(c->pg) == CONNECTION_OK &&
           (c->owed > 0 || PQtransactionStatus(c->pg) == PQTRANS_IDLE);
}

/* A connection for a transaction: an idle one that is still alive, else a new
 * one while fewer than pool.size are open, else wait.  *fresh: newly opened. */
static enum status pool_take(struct store *s, struct conn **out, bool *fresh)
{
    *out = NULL;
    *fresh = false;
    struct store_pool *p = &s->pool;
    struct timespec deadline = clock_after_ms(CLOCK_MONOTONIC, POOL_WAIT_MS); /* the pool's clock */
    bool waited = false;
    int64_t wait_start_us = 0;
    struct store_pool_conn *dead = NULL; /* closed once the pool is unlocked */
    enum status rc = OK;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->idle != NULL && *out == NULL) {
            struct store_pool_conn *c = p->idle;
            p->idle = c->next;
            c->next = NULL;
            if (conn_alive((struct conn *)c)) {
                *out = (struct conn *)c;
            } else {
                p->n_conns--;
                c->next = dead;
                dead = c;
            }
        }
        if (*out != NULL)
            break;
        if (p->n_conns < p->size)
            break;
        if (!waited) {
            waited = true;
            wait_start_us = store_mono_us();
            if (warn_due(&s->busy_warned_ms))
                log_warn("store: all %u PostgreSQL connections busy, requests are waiting "
                         "(raise --db-pool)",
                         p->size);
        }
        if (pthread_cond_timedwait(&p->cv, &p->mu, &deadline) == ETIMEDOUT && p->idle == NULL &&
            p->n_conns >= p->size) {
            rc = ERR_UNAVAILABLE;
            break;
        }
    }
    bool open_new = rc == OK && *out == NULL;
    if (open_new)
        p->n_conns++;
    if (waited)
        store_count_pool_wait(&s->common.counters, store_mono_us() - wait_start_us);
    if (dead != NULL)
        pthread_cond_broadcast(&p->cv); /* room for new connections */
    pthread_mutex_unlock(&p->mu);
    while (dead != NULL) {
        struct store_pool_conn *next = dead->next;
        conn_close((struct conn *)dead);
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
        store_pool_slot_free(p);
        return rc;
    }
    *fresh = true;
    return OK;
}

/* Return c to the pool when it is idle and healthy; otherwise close it. */
static void pool_put(struct store *s, struct conn *c)
{
    if (c == NULL)
        return;
    /* owed: its transaction's ROLLBACK is on its way */
    bool reuse = !c->broken && PQstatus(c->pg) == CONNECTION_OK &&
                 (c->owed > 0 || PQtransactionStatus(c->pg) == PQTRANS_IDLE);
    if (!reuse) {
        if (!c->broken && PQstatus(c->pg) == CONNECTION_OK)
            log_error("store: closing a connection left inside a transaction");
        conn_close(c);
    }
    store_pool_put(&s->pool, &c->link, reuse);
}

static void pooled_close(struct store_pool_conn *c)
{
    conn_close((struct conn *)c);
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

/* The number of rows sql (with text parameters) returns; -1 when it fails. */
static int tx_count_rows(struct store_tx *tx, const char *sql, int n, const char *const *values,
                         const char *what)
{
    PGresult *res;
    if (tx_run(tx, sql, n, values, &res, what) != OK)
        return -1;
    int rows = PQntuples(res);
    PQclear(res);
    return rows;
}

/* Apply one migration, a script (sql) or a data migration in C (run), in a
 * transaction of its own, unless it is recorded. */
static enum status migrate_one(struct store_tx *tx, const char *name, const char *sql,
                               enum status (*run)(struct store_tx *tx))
{
    enum status rc = tx_exec(tx, "BEGIN", "begin migration");
    int applied = rc == OK
                      ? tx_count_rows(tx, SQL_MIGRATION_APPLIED, 1, &name, "read schema_migrations")
                      : -1;
    if (applied < 0)
        return tx->failed != OK ? tx->failed : rc;
    if (applied > 0)
        return tx_exec(tx, "COMMIT", "end migration");

    /* A script of several statements goes as one simple query. */
    rc = sql != NULL ? conn_script(tx->conn, sql, name) : run(tx);
    if (rc != OK) {
        tx->failed = rc;
        return rc;
    }
    PGresult *res;
    char now[STORE_TIME_LEN];
    clock_now_iso(now);
    const char *record[] = { name, now };
    rc = tx_run(tx, SQL_MIGRATION_RECORD, 2, record, &res, "record migration");
    PQclear(res);
    if (rc == OK)
        rc = tx_exec(tx, "COMMIT", "commit migration");
    if (rc == OK)
        log_info("store: applied migration %s", name);
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
    struct store_tx tx = { .c = { .head = { &postgres_ops }, .store = s, .write = true } };
    char why[ERROR_TEXT_MAX];
    enum status rc = conn_open(s, &tx.conn, why);
    if (rc != OK)
        return scim_error_set(err, rc, "cannot connect to PostgreSQL: %s", why);
    tx.conn->wait_ms = 0;
    char key_text[INT_TEXT_MAX];
    snprintf(key_text, sizeof(key_text), "%" PRId64, MIGRATION_LOCK_KEY);
    const char *key = key_text;
    PGresult *res = NULL;
    rc = conn_script(tx.conn, SQL_MIGRATION_SESSION, "configure migrations");
    if (rc == OK)
        rc = tx_run(&tx, SQL_MIGRATION_LOCK, 1, &key, &res, "lock migrations");
    PQclear(res);
    if (rc != OK) {
        scim_error_set(err, rc, "cannot lock the database for migrations");
        goto done;
    }
    rc = tx_run(&tx, SQL_SERVER_ENCODING, 0, NULL, &res, "server encoding");
    if (rc == OK && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "UTF8") != 0)
        log_warn("store: the PostgreSQL database encoding is %s, not UTF8", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (rc == OK)
        rc = tx_exec(&tx, SQL_MIGRATIONS_TABLE, "create schema_migrations");
    const char *name = NULL;
    size_t n_sql = sizeof(postgres_migrations) / sizeof(postgres_migrations[0]);
    for (size_t i = 0; rc == OK && i < n_sql + rec_n_migrations; i++) {
        if (i < n_sql) {
            name = postgres_migrations[i].name;
            rc = migrate_one(&tx, name, postgres_migrations[i].sql, NULL);
        } else {
            name = rec_migrations[i - n_sql].name;
            rc = migrate_one(&tx, name, NULL, rec_migrations[i - n_sql].run);
        }
    }
    if (rc != OK) {
        if (name != NULL)
            scim_error_set(err, rc, "migration '%s' failed", name);
        else
            scim_error_set(err, rc, "cannot apply migrations");
        goto done;
    }
    rc = tx_run(&tx, SQL_MIGRATION_UNLOCK, 1, &key, &res, "unlock migrations");
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
    s->common.head.ops = &postgres_ops;
    s->url = libpq_url;
    s->timeout_ms = timeout_ms;
    store_pool_init(&s->pool, pool_size ? pool_size : STORE_POOL_DEFAULT);
    rec_idp_cache_init(&s->common.idps);
    s->common.pool = &s->pool;

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
    store_pool_release(&s->pool, pooled_close);
    rec_idp_cache_release(&s->common.idps);
    free(s->url);
    free(s);
}

/* End tx's transaction on the server without waiting (a deferred ROLLBACK):
 * one that sent nothing has nothing to undo, a lost session neither. */
static void tx_abort(struct store_tx *tx)
{
    struct conn *c = tx->conn;
    if (c == NULL || tx->begin_pending || c->broken || PQstatus(c->pg) != CONNECTION_OK)
        return;
    conn_defer(c, "ROLLBACK");
}

static void tx_free(struct store_tx *tx)
{
    pool_put(tx->c.store, tx->conn);
    free(tx);
}

/*
 * Writes see every commit before them (READ COMMITTED, each statement its own
 * snapshot); reads see one snapshot throughout (REPEATABLE READ), as a SQLite
 * read transaction.  Nothing is sent yet: BEGIN goes with the first statement.
 */
static enum status pg_begin(struct store *store, bool write, struct store_tx **out)
{
    *out = NULL;
    struct store_tx *tx = store_tx_new(sizeof(*tx), &postgres_ops, store, write);
    if (tx == NULL)
        return ERR_NOMEM;
    tx->begin_pending = true;
    enum status rc = pool_take(store, &tx->conn, &tx->fresh);
    if (rc != OK) {
        free(tx);
        return rc;
    }
    *out = tx;
    return OK;
}

/* The advisory lock number of a store_lock key: 64 bits of FNV-1a, the same on every node. */
static int64_t advisory_key(const char *key)
{
    uint64_t h = fnv1a(sql_hash("scimd lock "), key ? key : "");
    return (int64_t)(h & (uint64_t)INT64_MAX);
}

static const char SQL_LOCK[] = "SELECT pg_advisory_xact_lock(CAST(? AS bigint))";

/* Held until the transaction ends, on every node sharing the database. */
static enum status pg_lock(struct store_tx *tx, const char *key)
{
    struct stmt *st;
    enum status rc = pg_prepare(tx, SQL_LOCK, true, 0, "lock", &st);
    if (rc != OK)
        return rc;
    pg_bind_int(st, advisory_key(key));
    rc = pg_exec(st);
    pg_finish(st);
    return rc;
}

static enum status pg_commit(struct store_tx *tx)
{
    enum status rc = tx->failed;
    if (rc == OK && !tx->begin_pending) {
        PGresult *res;
        rc = tx_run(tx, "COMMIT", 0, NULL, &res, "commit");
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

uint64_t postgres_store_round_trips(struct store *s)
{
    return __atomic_load_n(&s->round_trips, __ATOMIC_RELAXED);
}

/* ---- the backend table -------------------------------------------------------------- */

static const struct store_ops postgres_ops = {
    .name = "postgres",
    .dialect = STMT_POSTGRES,
    .sqlgen = &sqlgen_postgres,
    .close = pg_close,
    .begin = pg_begin,
    .lock = pg_lock,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .prepare = pg_prepare,
    .run_together = pg_run_together,
    .bind_text = pg_bind_text,
    .bind_int = pg_bind_int,
    .step = pg_step,
    .exec = pg_exec,
    .changes = pg_changes,
    .col_text = pg_col_text,
    .col_int = pg_col_int,
    .finish = pg_finish,
};
