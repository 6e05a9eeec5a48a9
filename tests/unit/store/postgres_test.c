/* SPDX-License-Identifier: Apache-2.0 */
/*
 * postgres_test.c - unit tests for src/store/postgres.c.  They need a
 * PostgreSQL server: SCIMD_TEST_PG is a superuser URL of a throwaway cluster
 * (tools/pg-cluster.sh); without it every test is skipped.  Each test gets a
 * database of its own, dropped afterwards.  Searches are checked against the
 * SQLite backend on the same data: both must answer alike.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "scim/filter.h"
#include "scim/schema.h"
#include "store/store.h"
#include "store/store_backend.h"

#include "core/str.h"

#define POOL_SIZE 4
#define URL_MAX   512

static const char *admin_url; /* SCIMD_TEST_PG */
static char db_name[64];
static char db_url[URL_MAX];
static struct store *store;

#define REQUIRE_PG()                                                                               \
    do {                                                                                           \
        if (admin_url == NULL)                                                                     \
            cr_skip_test("SCIMD_TEST_PG is not set: PostgreSQL tests skipped");                    \
    } while (0)

/* ---- the server, seen directly ------------------------------------------------------ */

/* url with its database replaced by name. */
static void url_with_db(const char *url, const char *name, char out[URL_MAX])
{
    const char *slash = strrchr(url, '/');
    cr_assert_not_null(slash);
    snprintf(out, URL_MAX, "%.*s/%s", (int)(slash - url), url, name);
}

static void raw_exec(const char *url, const char *sql)
{
    PGconn *c = PQconnectdb(url);
    cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    cr_assert(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
              "%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

static long long raw_count(const char *sql)
{
    PGconn *c = PQconnectdb(db_url);
    cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(c));
    long long n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    PQfinish(c);
    return n;
}

/* A new empty database; its URL in out. */
static void fresh_db(char name[64], char out[URL_MAX])
{
    static int counter;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    snprintf(name, 64, "scimd_unit_%d_%d_%ld", (int)getpid(), ++counter,
             (long)(t.tv_nsec % 100000));
    char sql[128];
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
    raw_exec(admin_url, sql);
    url_with_db(admin_url, name, out);
}

static void drop_db(const char *name)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    raw_exec(admin_url, sql);
}

static void setup(void)
{
    admin_url = getenv("SCIMD_TEST_PG");
    if (admin_url == NULL || *admin_url == '\0') {
        admin_url = NULL;
        return;
    }
    fresh_db(db_name, db_url);
    struct scim_error err = { 0 };
    cr_assert_eq(store_open(db_url, POOL_SIZE, &store, &err), OK, "open: %s", err.detail);
}

static void teardown(void)
{
    if (admin_url == NULL)
        return;
    store_close(store);
    store = NULL;
    drop_db(db_name);
}

TestSuite(pg, .init = setup, .fini = teardown, .timeout = 120);

/* ---- helpers ------------------------------------------------------------------------ */

static struct store_tx *begin_on(struct store *s, bool write)
{
    struct store_tx *tx = NULL;
    cr_assert_eq(store_begin(s, write, &tx), OK);
    cr_assert_not_null(tx);
    return tx;
}

static struct store_tx *begin(bool write)
{
    return begin_on(store, write);
}

static void commit(struct store_tx *tx)
{
    cr_assert_eq(store_commit(tx), OK);
}

static enum status add_tenant(struct store_tx *tx, const char *id, const char *subdomain)
{
    struct store_tenant t = { 0 };
    str_copy(t.id, sizeof(t.id), id);
    str_copy(t.name, sizeof(t.name), id);
    str_copy(t.subdomain, sizeof(t.subdomain), subdomain);
    return store_tenant_insert(tx, &t);
}

static enum status add_idp(struct store_tx *tx, const char *tenant_id, const char *id)
{
    struct store_idp idp = { 0 };
    str_copy(idp.tenant_id, sizeof(idp.tenant_id), tenant_id);
    str_copy(idp.id, sizeof(idp.id), id);
    str_copy(idp.name, sizeof(idp.name), id);
    str_copy(idp.vendor, sizeof(idp.vendor), "okta");
    return store_idp_insert(tx, &idp);
}

static enum status add_user_at(struct store_tx *tx, const char *tenant_id, const char *id,
                               const char *created_at)
{
    struct store_user u = { 0 };
    str_copy(u.tenant_id, sizeof(u.tenant_id), tenant_id);
    str_copy(u.id, sizeof(u.id), id);
    str_copy(u.status, sizeof(u.status), "active");
    str_copy(u.created_at, sizeof(u.created_at), created_at);
    return store_user_insert(tx, &u);
}

static enum status add_user(struct store_tx *tx, const char *tenant_id, const char *id)
{
    return add_user_at(tx, tenant_id, id, "");
}

static enum status add_row(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                           const char *user_id, const char *external_id, const char *user_name)
{
    struct store_idp_user r = { 0 };
    str_copy(r.tenant_id, sizeof(r.tenant_id), tenant_id);
    str_copy(r.idp_id, sizeof(r.idp_id), idp_id);
    str_copy(r.user_id, sizeof(r.user_id), user_id);
    r.external_id = (char *)external_id;
    r.user_name = (char *)user_name;
    r.active = true;
    r.version = 1;
    r.doc = "{}";
    return store_idp_user_insert(tx, &r);
}

/* tenant t1 with IdPs i1 and i2, tenant t2 with IdP i3, on store s. */
static void seed_basic_on(struct store *s)
{
    struct store_tx *tx = begin_on(s, true);
    cr_assert_eq(add_tenant(tx, "t1", "acme"), OK);
    cr_assert_eq(add_tenant(tx, "t2", "globex"), OK);
    cr_assert_eq(add_idp(tx, "t1", "i1"), OK);
    cr_assert_eq(add_idp(tx, "t1", "i2"), OK);
    cr_assert_eq(add_idp(tx, "t2", "i3"), OK);
    commit(tx);
}

static void seed_basic(void)
{
    seed_basic_on(store);
}

static void sleep_ms(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&t, NULL);
}

/* ---- open and migrations ------------------------------------------------------------ */

Test(pg, migrations_recorded_once_and_idempotent_on_reopen)
{
    REQUIRE_PG();
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM schema_migrations WHERE name = '001_init.sql'"),
                 1);
    long long applied = raw_count("SELECT COUNT(*) FROM schema_migrations");
    seed_basic();
    for (int i = 0; i < 3; i++) {
        store_close(store);
        struct scim_error err = { 0 };
        cr_assert_eq(store_open(db_url, POOL_SIZE, &store, &err), OK, "%s", err.detail);
        cr_assert_eq(raw_count("SELECT COUNT(*) FROM schema_migrations"), applied);
    }
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM tenants"), 2);
    /* the shape a distributed engine needs: keys start with tenant_id, text sorts bytewise */
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM information_schema.columns WHERE "
                           "table_schema = 'public' AND data_type = 'text' AND "
                           "collation_name IS DISTINCT FROM 'C'"),
                 0);
}

struct opener {
    const char *url;
    enum status rc;
};

static void *open_close(void *arg)
{
    struct opener *o = arg;
    struct store *s = NULL;
    struct scim_error err = { 0 };
    o->rc = store_open(o->url, 2, &s, &err);
    if (o->rc == OK) {
        struct store_tx *tx = NULL;
        o->rc = store_begin(s, true, &tx);
        if (o->rc == OK)
            o->rc = store_commit(tx);
        store_close(s);
    }
    return NULL;
}

Test(pg, concurrent_opens_of_a_fresh_database_migrate_once)
{
    REQUIRE_PG();
    char name[64], url[URL_MAX];
    fresh_db(name, url);
    enum { N = 6 };
    pthread_t th[N];
    struct opener o[N];
    for (int i = 0; i < N; i++) {
        o[i] = (struct opener){ url, ERR_STORE };
        cr_assert_eq(pthread_create(&th[i], NULL, open_close, &o[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        cr_expect_eq(o[i].rc, OK, "opener %d: %d", i, o[i].rc);
    }
    char saved[URL_MAX];
    str_copy(saved, sizeof(saved), db_url);
    str_copy(db_url, sizeof(db_url), url);
    /* every migration (001_init.sql, later ones, data migrations) once each */
    cr_expect_eq(raw_count("SELECT COUNT(*) FROM schema_migrations WHERE name = '001_init.sql'"),
                 1);
    cr_expect_eq(raw_count("SELECT COUNT(*) FROM schema_migrations WHERE name = "
                           "'code_001_fold_keys'"),
                 1);
    cr_expect_eq(raw_count("SELECT COUNT(*) - COUNT(DISTINCT name) FROM schema_migrations"), 0);
    str_copy(db_url, sizeof(db_url), saved);
    drop_db(name);
}

Test(pg, open_fails_fast_on_an_unreachable_server_and_rejects_bad_urls)
{
    REQUIRE_PG();
    struct store *s = NULL;
    struct scim_error err = { 0 };
    int64_t t0 = clock_mono_ms();
    cr_assert_eq(store_open("postgres://postgres@127.0.0.1:1/x", 2, &s, &err), ERR_UNAVAILABLE);
    cr_assert_null(s);
    cr_assert_lt(clock_mono_ms() - t0, 6000);
    cr_assert_eq(store_open("postgres://postgres@127.0.0.1:1/x?nosuchoption=1", 2, &s, &err),
                 ERR_USAGE);
    cr_assert_neq(err.detail[0], '\0');
}

/* ---- transactions ------------------------------------------------------------------- */

Test(pg, rollback_discards)
{
    REQUIRE_PG();
    store_rollback(NULL);
    struct store_tx *tx = begin(true);
    cr_assert_eq(add_tenant(tx, "t1", "acme"), OK);
    store_rollback(tx);
    tx = begin(false);
    struct store_tenant t;
    cr_assert_eq(store_tenant_find(tx, "t1", &t), ERR_NOT_FOUND);
    commit(tx);
}

Test(pg, a_duplicate_insert_leaves_the_transaction_usable)
{
    REQUIRE_PG();
    struct store_tx *tx = begin(true);
    cr_assert_eq(add_tenant(tx, "t1", "acme"), OK);
    cr_assert_eq(add_tenant(tx, "t1", "acme2"), ERR_UNIQUENESS);
    cr_assert_eq(add_tenant(tx, "t9", "acme"), ERR_UNIQUENESS);
    cr_assert_eq(add_tenant(tx, "t2", "globex"), OK);
    commit(tx);
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM tenants"), 2);
}

Test(pg, other_failures_abort_the_transaction_and_are_store_errors)
{
    REQUIRE_PG();
    seed_basic();
    struct store_tx *tx = begin(true);
    cr_assert_eq(add_idp(tx, "t9", "i9"), ERR_STORE); /* no tenant t9 */
    struct store_tenant t;
    cr_assert_eq(store_tenant_find(tx, "t1", &t), ERR_STORE, "aborted: later calls fail too");
    cr_assert_eq(store_commit(tx), ERR_STORE);
    tx = begin(false);
    cr_assert_eq(store_tenant_find(tx, "t1", &t), OK, "the connection serves again");
    commit(tx);
}

Test(pg, more_transactions_than_pool_size_wait_their_turn)
{
    REQUIRE_PG();
    struct store_tx *tx[POOL_SIZE];
    for (int i = 0; i < POOL_SIZE; i++)
        tx[i] = begin(false);
    for (int i = 0; i < POOL_SIZE; i++)
        commit(tx[i]);
    for (int round = 0; round < 3; round++)
        commit(begin(round % 2 == 0));
}

struct waiter {
    struct store *store;
    const char *key; /* store_lock'ed after store_begin unless NULL */
    int64_t got_ms;
    enum status rc;
};

static void *begin_and_commit(void *arg)
{
    struct waiter *w = arg;
    struct store_tx *tx = NULL;
    w->rc = store_begin(w->store, true, &tx);
    if (w->rc == OK && w->key != NULL && (w->rc = store_lock(tx, w->key)) != OK)
        store_rollback(tx);
    w->got_ms = clock_mono_ms();
    if (w->rc == OK)
        w->rc = store_commit(tx);
    return NULL;
}

Test(pg, a_full_pool_makes_the_next_transaction_wait)
{
    REQUIRE_PG();
    struct store *s = NULL;
    struct scim_error err = { 0 };
    cr_assert_eq(store_open(db_url, 1, &s, &err), OK, "%s", err.detail);
    struct store_tx *held = begin_on(s, false);
    struct waiter w = { s, NULL, 0, ERR_STORE };
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, begin_and_commit, &w), 0);
    sleep_ms(300);
    int64_t released = clock_mono_ms();
    commit(held);
    pthread_join(th, NULL);
    cr_assert_eq(w.rc, OK);
    cr_assert_geq(w.got_ms, released);
    store_close(s);
}

Test(pg, locks_serialise_per_key_only)
{
    REQUIRE_PG();
    seed_basic();
    struct store_tx *held = NULL;
    cr_assert_eq(store_begin(store, true, &held), OK);
    cr_assert_eq(store_lock(held, "t1"), OK);

    struct waiter other = { store, "t2", 0, ERR_STORE };
    pthread_t th;
    int64_t t0 = clock_mono_ms();
    cr_assert_eq(pthread_create(&th, NULL, begin_and_commit, &other), 0);
    pthread_join(th, NULL);
    cr_assert_eq(other.rc, OK);
    cr_assert_lt(other.got_ms - t0, 2000, "another key does not wait");

    struct waiter same = { store, "t1", 0, ERR_STORE };
    cr_assert_eq(pthread_create(&th, NULL, begin_and_commit, &same), 0);
    sleep_ms(300);
    int64_t released = clock_mono_ms();
    commit(held);
    pthread_join(th, NULL);
    cr_assert_eq(same.rc, OK);
    cr_assert_geq(same.got_ms, released, "the same key waits for the first to end");
}

/* ---- the events horizon (late commits) ---------------------------------------------- */

static int64_t append_event(struct store_tx *tx, const char *type)
{
    struct store_event e = { .tenant_id = "t1", .type = type, .actor = "test" };
    cr_assert_eq(store_event_append(tx, &e), OK);
    return e.seq;
}

static int64_t horizon(void)
{
    struct store_tx *tx = begin(false);
    int64_t h = 0;
    cr_assert_eq(store_event_horizon(tx, &h), OK);
    store_rollback(tx);
    return h;
}

Test(pg, events_horizon_stops_below_a_transaction_in_flight)
{
    REQUIRE_PG();
    seed_basic();
    int64_t before = horizon();
    struct store_tx *held = begin(true);
    int64_t first = append_event(held, "held");
    for (int i = 0; i < 100; i++)
        append_event(held, "held_more"); /* one floor lock for the transaction, not one each */
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND "
                           "objsubid = 2 AND database = (SELECT oid FROM pg_database "
                           "WHERE datname = current_database())"),
                 1);
    struct store_tx *tx = begin(true);
    int64_t later = append_event(tx, "later");
    commit(tx);
    cr_assert_gt(later, first);
    int64_t h = horizon();
    cr_assert_lt(h, first, "a later commit does not move the horizon past a seq in flight");
    cr_assert_geq(h, before);
    commit(held);
    cr_assert_geq(horizon(), later, "once it commits, the horizon passes both");

    /* a transaction that rolls back holds nothing afterwards */
    tx = begin(true);
    int64_t gone = append_event(tx, "rolled_back");
    cr_assert_lt(horizon(), gone);
    store_rollback(tx);
    cr_assert_geq(horizon(), gone);
}

/* ---- uniqueness across transactions ------------------------------------------------- */

struct racer {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool inserted;
    enum status rc;
};

static void *insert_then_commit_late(void *arg)
{
    struct racer *r = arg;
    struct store_tx *tx = NULL;
    r->rc = store_begin(store, true, &tx);
    if (r->rc == OK) {
        r->rc = add_user(tx, "t1", "ua");
        if (r->rc == OK)
            r->rc = add_row(tx, "t1", "i1", "ua", "E-1", "alice");
    }
    pthread_mutex_lock(&r->mu);
    r->inserted = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    sleep_ms(300);
    if (tx != NULL) {
        if (r->rc == OK)
            r->rc = store_commit(tx);
        else
            store_rollback(tx);
    }
    return NULL;
}

Test(pg, duplicate_external_id_from_two_transactions_is_uniqueness)
{
    REQUIRE_PG();
    seed_basic();
    struct racer r = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, ERR_STORE };
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, insert_then_commit_late, &r), 0);
    pthread_mutex_lock(&r.mu);
    while (!r.inserted)
        pthread_cond_wait(&r.cv, &r.mu);
    pthread_mutex_unlock(&r.mu);

    /* The first holds E-1 uncommitted: this insert waits for it, then finds it taken. */
    struct store_tx *tx = begin(true);
    cr_assert_eq(add_user(tx, "t1", "ub"), OK);
    cr_assert_eq(add_row(tx, "t1", "i1", "ub", "E-1", "bob"), ERR_UNIQUENESS);
    cr_assert_eq(add_row(tx, "t1", "i1", "ub", "E-2", "ALICE"), ERR_UNIQUENESS, "userName too");
    cr_assert_eq(add_row(tx, "t1", "i1", "ub", "E-2", "bob"), OK, "still usable");
    commit(tx);
    pthread_join(th, NULL);
    cr_assert_eq(r.rc, OK);
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM idp_users"), 2);
}

Test(pg, update_onto_a_taken_user_name_is_uniqueness)
{
    REQUIRE_PG();
    seed_basic();
    struct store_tx *tx = begin(true);
    cr_assert_eq(add_user(tx, "t1", "ua"), OK);
    cr_assert_eq(add_user(tx, "t1", "ub"), OK);
    cr_assert_eq(add_row(tx, "t1", "i1", "ua", "E-1", "alice"), OK);
    cr_assert_eq(add_row(tx, "t1", "i1", "ub", "E-2", "bob"), OK);
    commit(tx);
    tx = begin(true);
    struct store_idp_user r;
    cr_assert_eq(store_idp_user_get(tx, "t1", "i1", "ub", &r), OK);
    free(r.user_name);
    r.user_name = str_dup("Alice");
    cr_assert_eq(store_idp_user_update(tx, &r), ERR_UNIQUENESS);
    store_idp_user_release(&r);
    store_rollback(tx);

    /* a deleted row frees its userName but keeps its externalId */
    tx = begin(true);
    cr_assert_eq(store_idp_user_get(tx, "t1", "i1", "ua", &r), OK);
    r.deleted = true;
    cr_assert_eq(store_idp_user_update(tx, &r), OK);
    store_idp_user_release(&r);
    cr_assert_eq(add_user(tx, "t1", "uc"), OK);
    cr_assert_eq(add_row(tx, "t1", "i1", "uc", "E-3", "ALICE"), OK);
    cr_assert_eq(add_row(tx, "t1", "i1", "uc", "E-1", "carol"), ERR_UNIQUENESS);
    commit(tx);
}

/* ---- lost connections --------------------------------------------------------------- */

/* What PostgreSQL does to every session on a restart (57P01 admin_shutdown). */
static void kill_sessions(void)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
             "WHERE datname = '%s' AND pid <> pg_backend_pid()",
             db_name);
    raw_exec(admin_url, sql);
    sleep_ms(200);
}

Test(pg, a_lost_connection_is_unavailable_and_the_next_transaction_reconnects)
{
    REQUIRE_PG();
    seed_basic();
    /* several idle pooled connections */
    struct store_tx *txs[POOL_SIZE];
    for (int i = 0; i < POOL_SIZE; i++)
        txs[i] = begin(false);
    for (int i = 0; i < POOL_SIZE; i++)
        commit(txs[i]);

    struct store_tx *tx = begin(true);
    struct store_tenant t;
    cr_assert_eq(store_tenant_find(tx, "t1", &t), OK);
    kill_sessions();
    cr_assert_eq(add_tenant(tx, "t3", "initech"), ERR_UNAVAILABLE);
    cr_assert_eq(store_tenant_find(tx, "t1", &t), ERR_UNAVAILABLE);
    cr_assert_eq(store_commit(tx), ERR_UNAVAILABLE);

    /* the pooled connections died too: none of that reaches the next transactions */
    for (int i = 0; i < POOL_SIZE + 2; i++) {
        tx = begin(i % 2 == 0);
        cr_assert_eq(store_tenant_find(tx, "t1", &t), OK, "round %d", i);
        commit(tx);
    }
    tx = begin(false);
    cr_assert_eq(store_tenant_find(tx, "t3", &t), ERR_NOT_FOUND, "nothing half-written");
    commit(tx);

    /* a transaction that only lost its connection while rolling back is no trouble */
    tx = begin(true);
    kill_sessions();
    store_rollback(tx);
    commit(begin(true));
}

/* ---- a hung server ------------------------------------------------------------------ */

/* A throwaway cluster of its own (tools/pg-cluster.sh), so that stopping it
 * disturbs no other test; its URL in url.  False when it cannot start. */
static bool own_cluster_start(char dir[64], char url[URL_MAX])
{
    snprintf(dir, 64, "/tmp/scimd-unit-hung.%d", (int)getpid());
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "sh tools/pg-cluster.sh start %s fast >/dev/null", dir);
    if (system(cmd) != 0)
        return false;
    char path[128];
    snprintf(path, sizeof(path), "%s/url", dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    bool ok = fgets(url, URL_MAX, f) != NULL;
    fclose(f);
    url[strcspn(url, "\n")] = '\0';
    return ok;
}

static void own_cluster_stop(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "sh tools/pg-cluster.sh stop %s", dir);
    cr_expect_eq(system(cmd), 0);
}

/* Send sig to the postmaster of the cluster in dir and to every process it started:
 * SIGSTOP makes a server that is up but answers nothing. */
static void signal_cluster(const char *dir, int sig)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/data/postmaster.pid", dir);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    long postmaster = 0;
    cr_assert_eq(fscanf(f, "%ld", &postmaster), 1);
    fclose(f);
    if (sig == SIGSTOP)
        cr_assert_eq(kill((pid_t)postmaster, sig), 0, "%s", strerror(errno));
    DIR *proc = opendir("/proc");
    cr_assert_not_null(proc);
    struct dirent *e;
    while ((e = readdir(proc)) != NULL) {
        char stat_path[300], comm[256];
        snprintf(stat_path, sizeof(stat_path), "/proc/%s/stat", e->d_name);
        FILE *st = fopen(stat_path, "r");
        if (st == NULL)
            continue;
        long pid = 0, ppid = 0;
        char state;
        if (fscanf(st, "%ld (%255[^)]) %c %ld", &pid, comm, &state, &ppid) == 4 &&
            ppid == postmaster)
            kill((pid_t)pid, sig);
        fclose(st);
    }
    closedir(proc);
    if (sig == SIGCONT)
        cr_assert_eq(kill((pid_t)postmaster, sig), 0, "%s", strerror(errno));
}

/* One short read or write transaction: its first failure. */
static enum status try_read(struct store *s)
{
    struct store_tx *tx = NULL;
    enum status rc = store_begin(s, false, &tx);
    struct store_tenant t;
    if (rc == OK)
        rc = store_tenant_find(tx, "t1", &t);
    if (rc == OK)
        rc = store_commit(tx);
    else
        store_rollback(tx);
    return rc;
}

static enum status try_write(struct store *s, const char *id)
{
    struct store_tx *tx = NULL;
    enum status rc = store_begin(s, true, &tx);
    if (rc == OK)
        rc = add_tenant(tx, id, id);
    if (rc == OK)
        rc = store_commit(tx);
    else
        store_rollback(tx);
    return rc;
}

Test(pg, a_hung_server_is_unavailable_and_the_next_transaction_reconnects)
{
    REQUIRE_PG();
    char dir[64], url[URL_MAX], store_url[URL_MAX + 32];
    cr_assert(own_cluster_start(dir, url), "cannot start a cluster of its own");
    snprintf(store_url, sizeof(store_url), "%s?db_timeout_ms=500", url);
    struct store *s = NULL;
    struct scim_error err = { 0 };
    cr_assert_eq(store_open(store_url, 2, &s, &err), OK, "open: %s", err.detail);
    seed_basic_on(s);
    /* two idle pooled connections, as a server has after some traffic */
    struct store_tx *a = begin_on(s, false), *b = begin_on(s, false);
    commit(a);
    commit(b);

    signal_cluster(dir, SIGSTOP);
    enum status read_rc = try_read(s);
    enum status write_rc = try_write(s, "t8");
    signal_cluster(dir, SIGCONT);
    cr_expect_eq(read_rc, ERR_UNAVAILABLE, "a read on a stopped server");
    cr_expect_eq(write_rc, ERR_UNAVAILABLE, "a write on a stopped server");

    /* the connections that timed out were dropped: late answers reach nobody */
    cr_expect_eq(try_read(s), OK);
    cr_expect_eq(try_write(s, "t9"), OK);
    struct store_tx *tx = begin_on(s, false);
    struct store_tenant t;
    cr_expect_eq(store_tenant_find(tx, "t9", &t), OK);
    cr_expect_str_eq(t.id, "t9");
    cr_expect_eq(store_tenant_find(tx, "t8", &t), ERR_NOT_FOUND);
    commit(tx);
    store_close(s);
    own_cluster_stop(dir);
}

Test(pg, a_bad_db_timeout_is_a_usage_error)
{
    REQUIRE_PG();
    seed_basic();
    struct store *s = NULL;
    struct scim_error err = { 0 };
    char bad[URL_MAX + 32];
    snprintf(bad, sizeof(bad), "%s?db_timeout_ms=0", db_url);
    cr_assert_eq(store_open(bad, 2, &s, &err), ERR_USAGE);
    cr_assert_null(s);
    snprintf(bad, sizeof(bad), "%s?connect_timeout=3&db_timeout_ms=20000&application_name=x",
             db_url);
    cr_assert_eq(store_open(bad, 2, &s, &err), OK, "%s", err.detail);
    cr_assert_eq(try_read(s), OK);
    store_close(s);
}

/* ---- records ------------------------------------------------------------------------ */

/* Token k1 of IdP i1 (tenant t1) whose hash is hash. */
static struct store_token token_k1(const char *hash)
{
    struct store_token tok = { 0 };
    str_copy(tok.tenant_id, sizeof(tok.tenant_id), "t1");
    str_copy(tok.id, sizeof(tok.id), "k1");
    str_copy(tok.idp_id, sizeof(tok.idp_id), "i1");
    str_copy(tok.name, sizeof(tok.name), "k");
    str_copy(tok.prefix, sizeof(tok.prefix), "scimd_ab");
    str_copy(tok.hash, sizeof(tok.hash), hash);
    return tok;
}

Test(pg, tokens_touch_only_forward_and_revoke_once)
{
    REQUIRE_PG();
    seed_basic();
    struct store_tx *tx = begin(true);
    struct store_token tok = token_k1("abc");
    cr_assert_eq(store_token_insert(tx, &tok), OK);
    cr_assert_eq(store_token_insert(tx, &tok), ERR_UNIQUENESS);
    cr_assert_eq(store_token_touch(tx, "k1", "2030-01-01T00:00:02.000Z"), OK);
    cr_assert_eq(store_token_touch(tx, "k1", "2030-01-01T00:00:01.000Z"), OK);
    cr_assert_eq(store_token_touch(tx, "nope", "2030-01-01T00:00:01.000Z"), ERR_NOT_FOUND);
    struct store_token got;
    cr_assert_eq(store_token_by_hash(tx, "abc", &got), OK);
    cr_assert_str_eq(got.last_used_at, "2030-01-01T00:00:02.000Z");
    cr_assert_str_eq(got.revoked_at, "");
    cr_assert_eq(store_token_revoke(tx, "k1", "2030-01-02T00:00:00.000Z"), OK);
    cr_assert_eq(store_token_revoke(tx, "k1", "2030-01-03T00:00:00.000Z"), OK);
    cr_assert_eq(store_token_get(tx, "k1", &got), OK);
    cr_assert_str_eq(got.revoked_at, "2030-01-02T00:00:00.000Z");
    commit(tx);
}

Test(pg, settings_keep_the_first_value)
{
    REQUIRE_PG();
    struct store_tx *tx = begin(true);
    char out[16];
    cr_assert_eq(store_setting_claim(tx, "key", "first", out, sizeof(out)), OK);
    cr_assert_str_eq(out, "first");
    cr_assert_eq(store_setting_claim(tx, "key", "second", out, sizeof(out)), OK);
    cr_assert_str_eq(out, "first");
    cr_assert_eq(store_setting_claim(tx, "key", "x", out, 3), ERR_INVALID_VALUE);
    commit(tx);
}

struct event_list {
    int64_t seq[64];
    char types[64][32];
    bool null_tenant[64];
    size_t n;
};

static enum status collect_event(void *ctx, const struct store_event *e)
{
    struct event_list *l = ctx;
    cr_assert_lt(l->n, 64);
    l->seq[l->n] = e->seq;
    str_copy(l->types[l->n], sizeof(l->types[0]), e->type);
    l->null_tenant[l->n] = e->tenant_id == NULL;
    l->n++;
    return OK;
}

static int64_t append(struct store_tx *tx, const char *tenant, const char *type)
{
    struct store_event e = { 0 };
    e.tenant_id = tenant;
    e.type = type;
    e.actor = "cli";
    cr_assert_eq(store_event_append(tx, &e), OK);
    cr_assert_neq(e.id[0], '\0');
    cr_assert_neq(e.at[0], '\0');
    return e.seq;
}

Test(pg, events_keep_one_order_and_tenantless_events)
{
    REQUIRE_PG();
    seed_basic();
    struct store_tx *tx = begin(true);
    int64_t s1 = append(tx, "t1", "a");
    int64_t s2 = append(tx, NULL, "b");
    int64_t s3 = append(tx, "t2", "c");
    int64_t s4 = append(tx, "t1", "d");
    cr_assert(s1 < s2 && s2 < s3 && s3 < s4);
    commit(tx);

    tx = begin(false);
    struct event_list l = { 0 };
    struct store_event_query q = { 0 };
    cr_assert_eq(store_event_each(tx, &q, collect_event, &l), OK);
    cr_assert_eq(l.n, 4);
    cr_assert_str_eq(l.types[0], "a");
    cr_assert_str_eq(l.types[3], "d");
    cr_assert(l.null_tenant[1] && !l.null_tenant[0]);

    l.n = 0;
    q = (struct store_event_query){ .tenant_id = "t1" };
    cr_assert_eq(store_event_each(tx, &q, collect_event, &l), OK);
    cr_assert_eq(l.n, 2);

    l.n = 0;
    q = (struct store_event_query){ .after_seq = s1, .limit = 2 };
    cr_assert_eq(store_event_each(tx, &q, collect_event, &l), OK);
    cr_assert_eq(l.n, 2, "the most recent two, oldest first");
    cr_assert_eq(l.seq[0], s3);
    cr_assert_eq(l.seq[1], s4);
    commit(tx);
}

struct ids {
    char id[2048][STORE_ID_LEN];
    size_t n;
    struct store_tx *tx; /* set: re-enter the store from the callback */
};

static enum status collect_id(void *ctx, const char *id)
{
    struct ids *l = ctx;
    cr_assert_lt(l->n, 2048);
    str_copy(l->id[l->n++], STORE_ID_LEN, id);
    if (l->tx != NULL) {
        bool in = false;
        cr_assert_eq(store_user_in_groups(l->tx, "t1", "i1", id, &in), OK);
        cr_assert(in);
    }
    return OK;
}

static void add_group(struct store_tx *tx, const char *id, const char *external_id,
                      const char *display_name)
{
    struct store_group g = { 0 };
    str_copy(g.tenant_id, sizeof(g.tenant_id), "t1");
    str_copy(g.idp_id, sizeof(g.idp_id), "i1");
    str_copy(g.id, sizeof(g.id), id);
    g.external_id = (char *)external_id;
    g.display_name = (char *)display_name;
    g.version = 1;
    g.doc = "{}";
    cr_assert_eq(store_group_insert(tx, &g), OK);
}

Test(pg, members_report_what_changed_in_the_callers_order)
{
    REQUIRE_PG();
    seed_basic();
    struct store_tx *tx = begin(true);
    add_group(tx, "g1", NULL, "Admins");
    const char *first[] = { "u3", "u1", "u\"q\\", "u3" };
    struct ids l = { .n = 0 };
    cr_assert_eq(store_group_members_add(tx, "t1", "i1", "g1", first, 4, collect_id, &l), OK);
    cr_assert_eq(l.n, 3);
    cr_assert_str_eq(l.id[0], "u3");
    cr_assert_str_eq(l.id[1], "u1");
    cr_assert_str_eq(l.id[2], "u\"q\\");
    const char *second[] = { "u2", "u1", "u0" };
    l.n = 0;
    cr_assert_eq(store_group_members_add(tx, "t1", "i1", "g1", second, 3, collect_id, &l), OK);
    cr_assert_eq(l.n, 2);
    cr_assert_str_eq(l.id[0], "u2");
    cr_assert_str_eq(l.id[1], "u0");
    const char *gone[] = { "u9", "u1", "u1", "u0" };
    l.n = 0;
    cr_assert_eq(store_group_members_remove(tx, "t1", "i1", "g1", gone, 4, collect_id, &l), OK);
    cr_assert_eq(l.n, 2);
    cr_assert_str_eq(l.id[0], "u1");
    cr_assert_str_eq(l.id[1], "u0");
    l.n = 0;
    cr_assert_eq(store_group_members_each(tx, "t1", "i1", "g1", false, collect_id, &l), OK);
    cr_assert_eq(l.n, 3, "in user_id order, bytewise");
    cr_assert_str_eq(l.id[0], "u\"q\\");
    cr_assert_str_eq(l.id[1], "u2");
    cr_assert_str_eq(l.id[2], "u3");

    /* live users among ids: only those with a live row of the connection */
    cr_assert_eq(add_user(tx, "t1", "u2"), OK);
    cr_assert_eq(add_row(tx, "t1", "i1", "u2", NULL, "two"), OK);
    const char *ask[] = { "u3", "u2", "u3", "nope" };
    l.n = 0;
    cr_assert_eq(store_users_missing(tx, "t1", "i1", ask, 4, collect_id, &l), OK);
    cr_assert_eq(l.n, 3);
    cr_assert_str_eq(l.id[0], "u3");
    cr_assert_str_eq(l.id[1], "u3");
    cr_assert_str_eq(l.id[2], "nope");

    l.n = 0;
    cr_assert_eq(store_group_members_clear(tx, "t1", "i1", "g1", collect_id, &l), OK);
    cr_assert_eq(l.n, 3);
    bool in = true;
    cr_assert_eq(store_user_in_groups(tx, "t1", "i1", "u2", &in), OK);
    cr_assert(!in);
    cr_assert_eq(store_group_delete(tx, "t1", "i1", "g1"), OK);
    cr_assert_eq(store_group_delete(tx, "t1", "i1", "g1"), ERR_NOT_FOUND);
    commit(tx);
}

Test(pg, large_scans_stream_and_callbacks_may_reenter)
{
    REQUIRE_PG();
    seed_basic();
    enum { N = 1500 };
    static char names[N][16];
    static const char *ids[N];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "m%04d", N - i);
        ids[i] = names[i];
    }
    struct store_tx *tx = begin(true);
    add_group(tx, "g1", "ext", "Everyone");
    cr_assert_eq(store_group_members_add(tx, "t1", "i1", "g1", ids, N, NULL, NULL), OK);
    commit(tx);

    tx = begin(false);
    static struct ids l;
    l.n = 0;
    l.tx = tx;
    cr_assert_eq(store_group_members_each(tx, "t1", "i1", "g1", false, collect_id, &l), OK);
    cr_assert_eq(l.n, N);
    cr_assert_str_eq(l.id[0], "m0001");
    cr_assert_str_eq(l.id[N - 1], "m1500");
    commit(tx);
}

/* ---- searches agree with SQLite ----------------------------------------------------- */

struct fixture_row {
    const char *id;
    const char *user_name;
    const char *external_id;
    bool active;
    const char *emails[2];
    const char *created; /* seconds of 2024-01-01T00:00:SS.000Z */
};

/* Ids and names chosen where a byte order and a language's order part ways. */
/* clang-format off */
static const struct fixture_row fixture[] = {
    { "u01", "alice",             "ext-1",  true,  { "Alice@Example.com", NULL }, "01" },
    { "U02", "Bob",               "EXT-5",  true,  { "bob@example.com", "b@x.org" }, "02" },
    { "u03", "carol@example.com", NULL,     false, { NULL, NULL }, "03" },
    { "_04", "dave_1",            "ext-10", true,  { "dave@example.com", NULL }, "04" },
    { "a05", "eve%2",             "e_x",    true,  { "eve%@example.com", NULL }, "05" },
    { "B06", "frank\\back",       "",       false, { "frank@EXAMPLE.com", NULL }, "06" },
    { "u07", "Zo\xc3\xab",        "z\xc3\xa9", true, { NULL, NULL }, "07" },
    { "u08", "zoe",               "Zoe",    true,  { "zoe@example.com", NULL }, "08" },
    { "u09", "ALICE.Smith",       "ext-2",  true,  { "alice.smith@example.com", NULL }, "09" },
    { "u10", "\xc3\x89mile",      "ext-3",  false, { "emile@example.com", NULL }, "10" },
    { "u11", "mallory",           "a b",    true,  { "m@example.com", NULL }, "11" },
    { "u12", "trent",             NULL,     true,  { "TRENT@example.com", NULL }, "12" },
};
/* clang-format on */
#define N_FIXTURE (sizeof(fixture) / sizeof(fixture[0]))

static void seed_search_on(struct store *s)
{
    seed_basic_on(s);
    struct store_tx *tx = begin_on(s, true);
    for (size_t i = 0; i < N_FIXTURE; i++) {
        const struct fixture_row *f = &fixture[i];
        for (int copy = 0; copy < 2; copy++) {
            const char *idp = copy == 0 ? "i1" : "i2";
            /* one creation time: users list in id order, bytewise */
            if (copy == 0)
                cr_assert_eq(add_user_at(tx, "t1", f->id, "2024-01-01T00:00:00.000Z"), OK);
            struct store_idp_user r = { 0 };
            str_copy(r.tenant_id, sizeof(r.tenant_id), "t1");
            str_copy(r.idp_id, sizeof(r.idp_id), idp);
            str_copy(r.user_id, sizeof(r.user_id), f->id);
            r.external_id = (char *)f->external_id;
            r.user_name = (char *)f->user_name;
            char *emails[2];
            for (int k = 0; k < 2 && f->emails[k]; k++)
                emails[r.n_emails++] = (char *)f->emails[k];
            r.emails = emails;
            r.active = f->active;
            r.version = 1;
            r.doc = "{}";
            snprintf(r.created_at, sizeof(r.created_at), "2024-01-01T00:00:%s.000Z", f->created);
            snprintf(r.updated_at, sizeof(r.updated_at), "2024-02-01T00:00:%02d.000Z",
                     (int)(N_FIXTURE - i));
            cr_assert_eq(store_idp_user_insert(tx, &r), OK, "%s", f->id);
        }
    }
    /* a deleted row a search never returns */
    cr_assert_eq(add_user(tx, "t1", "x99"), OK);
    struct store_idp_user dead = { 0 };
    str_copy(dead.tenant_id, sizeof(dead.tenant_id), "t1");
    str_copy(dead.idp_id, sizeof(dead.idp_id), "i1");
    str_copy(dead.user_id, sizeof(dead.user_id), "x99");
    dead.user_name = "alice";
    dead.deleted = true;
    dead.doc = "{}";
    cr_assert_eq(store_idp_user_insert(tx, &dead), OK);

    /* groups: members are users of i1 */
    static const struct {
        const char *id, *external_id, *name;
        const char *members[3];
    } groups[] = {
        { "g1", "gx-1", "Admins", { "u01", "U02", NULL } },
        { "G2", NULL, "admins_all", { "u03", NULL, NULL } },
        { "g3", "GX-3", "Zo\xc3\xab's", { "x99", "_04", NULL } },
        { "_g4", "", "100%", { NULL, NULL, NULL } },
    };
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        struct store_group g = { 0 };
        str_copy(g.tenant_id, sizeof(g.tenant_id), "t1");
        str_copy(g.idp_id, sizeof(g.idp_id), "i1");
        str_copy(g.id, sizeof(g.id), groups[i].id);
        g.external_id = (char *)groups[i].external_id;
        g.display_name = (char *)groups[i].name;
        g.version = 1;
        g.doc = "{}";
        snprintf(g.created_at, sizeof(g.created_at), "2024-03-01T00:00:0%zu.000Z", i);
        cr_assert_eq(store_group_insert(tx, &g), OK);
        size_t n = 0;
        while (n < 3 && groups[i].members[n])
            n++;
        cr_assert_eq(
            store_group_members_add(tx, "t1", "i1", groups[i].id, groups[i].members, n, NULL, NULL),
            OK);
    }
    commit(tx);
}

struct answer {
    char ids[64][STORE_ID_LEN];
    size_t n;
    bool exact;
    size_t total;
};

static enum status answer_user(void *ctx, const struct store_idp_user *r)
{
    struct answer *a = ctx;
    cr_assert_lt(a->n, 64);
    cr_assert(!r->deleted);
    str_copy(a->ids[a->n++], STORE_ID_LEN, r->user_id);
    return OK;
}

static enum status answer_group(void *ctx, const struct store_group *g)
{
    struct answer *a = ctx;
    cr_assert_lt(a->n, 64);
    str_copy(a->ids[a->n++], STORE_ID_LEN, g->id);
    return OK;
}

static void search(struct store *s, const struct scim_resource_type *rt, const char *filter,
                   struct store_search q, struct answer *out)
{
    struct scim_filter *f = NULL;
    struct scim_error err = { 0 };
    if (filter != NULL) {
        cr_assert_eq(scim_filter_parse(filter, &f, &err), OK, "parse %s: %s", filter, err.detail);
        cr_assert_eq(scim_filter_bind(f, rt, &err), OK, "bind %s: %s", filter, err.detail);
    }
    q.tenant_id = "t1";
    q.idp_id = "i1";
    q.filter = f;
    memset(out, 0, sizeof(*out));
    struct store_search_result res = { 0 };
    struct store_tx *tx = begin_on(s, false);
    if (rt == &scim_resource_user)
        cr_assert_eq(store_idp_user_search(tx, &q, answer_user, out, &res), OK, "%s", filter);
    else
        cr_assert_eq(store_group_search(tx, &q, answer_group, out, &res), OK, "%s", filter);
    commit(tx);
    out->exact = res.exact;
    out->total = res.total;
    scim_filter_free(f);
}

static void expect_same(const char *what, const struct answer *pg, const struct answer *lite)
{
    cr_expect_eq(pg->exact, lite->exact, "%s: exact", what);
    cr_expect_eq(pg->total, lite->total, "%s: total %zu vs %zu", what, pg->total, lite->total);
    cr_expect_eq(pg->n, lite->n, "%s: %zu rows vs %zu", what, pg->n, lite->n);
    for (size_t i = 0; i < pg->n && i < lite->n; i++)
        cr_expect_str_eq(pg->ids[i], lite->ids[i], "%s: row %zu", what, i);
}

/* clang-format off */
static const char *const user_filters[] = {
    NULL,
    "userName eq \"ALICE\"", "userName ne \"alice\"", "userName co \"LI\"", "userName sw \"a\"",
    "userName ew \"@EXAMPLE.com\"", "userName gt \"m\"", "userName lt \"B\"", "userName ge \"_\"",
    "userName pr", "not (userName pr)", "userName pr and active eq false",
    "userName co \"%\"", "userName co \"_\"", "userName sw \"dave_\"", "userName co \"\\\\\"",
    "userName sw \"zo\xc3\xab\"", "userName eq \"zo\xc3\xab\"", "userName co \"\xc3\x89\"",
    "userName sw \"~\"", "userName sw \"\"",
    "externalId eq \"EXT-5\"", "externalId ne \"ext-1\"", "externalId pr", "not (externalId pr)",
    "externalId sw \"ext-1\"", "externalId ew \"-2\"", "externalId co \"_\"", "externalId co \"\"",
    "externalId gt \"Zoe\"", "externalId le \"EXT-5\"", "externalId eq \"\"", "externalId ew \"\xc3\xa9\"",
    "id eq \"u03\"", "id sw \"u0\"", "id gt \"U02\"", "id lt \"a05\"", "id co \"0\"", "id ew \"2\"",
    "active eq true", "active ne true", "active pr",
    "emails.value eq \"alice@example.com\"", "emails.value co \"EXAMPLE\"", "emails[value sw \"b\"]",
    "emails.value ew \".org\"", "emails pr", "emails[value co \"%\"]",
    "meta.created gt \"2024-01-01T00:00:06Z\"", "meta.lastModified le \"2024-02-01T00:00:03.000Z\"",
    "userName sw \"a\" or externalId eq \"Zoe\"", "(active eq true and not (emails pr)) or id eq \"B06\"",
    "name.givenName eq \"x\"", "userName sw \"a\" and name.givenName eq \"x\"",
};
static const char *const group_filters[] = {
    NULL,
    "displayName eq \"admins\"", "displayName co \"ADMIN\"", "displayName sw \"admins_\"",
    "displayName co \"%\"", "displayName pr", "not (displayName pr)", "externalId pr",
    "externalId eq \"gx-1\"", "externalId sw \"G\"", "id gt \"G2\"", "members.value eq \"u03\"",
    "members.value eq \"x99\"", "members pr", "members[value sw \"U\"]", "not (members pr)",
    "meta.created ge \"2024-03-01T00:00:02Z\"",
};
static const enum store_sort user_sorts[] = {
    STORE_SORT_NONE, STORE_SORT_ID, STORE_SORT_USER_NAME, STORE_SORT_EXTERNAL_ID,
    STORE_SORT_CREATED, STORE_SORT_LAST_MODIFIED,
};
static const enum store_sort group_sorts[] = {
    STORE_SORT_NONE, STORE_SORT_ID, STORE_SORT_DISPLAY_NAME, STORE_SORT_EXTERNAL_ID,
    STORE_SORT_CREATED,
};
/* clang-format on */

static struct store *open_sqlite_twin(char dir[64])
{
    str_copy(dir, 64, "/tmp/scimd_pgtwin_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/twin.db", dir);
    struct store *s = NULL;
    struct scim_error err = { 0 };
    cr_assert_eq(store_open(path, 2, &s, &err), OK, "%s", err.detail);
    return s;
}

static void close_sqlite_twin(struct store *s, const char dir[64])
{
    store_close(s);
    static const char *const files[] = { "twin.db", "twin.db-wal", "twin.db-shm" };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char p[128];
        snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

static void compare_searches(const struct scim_resource_type *rt, const char *const *filters,
                             size_t n_filters, const enum store_sort *sorts, size_t n_sorts,
                             struct store *lite)
{
    for (size_t i = 0; i < n_filters; i++) {
        for (size_t s = 0; s < n_sorts; s++) {
            for (int desc = 0; desc < 2; desc++) {
                /* the whole answer, a page, and a keyset page */
                struct store_search pages[] = {
                    { .sort = sorts[s], .descending = desc, .limit = 1000 },
                    { .sort = sorts[s], .descending = desc, .offset = 2, .limit = 3 },
                    { .sort = sorts[s], .descending = desc, .limit = 4, .after_id = "U02" },
                    { .sort = sorts[s], .descending = desc, .limit = 0 },
                };
                for (size_t p = 0; p < sizeof(pages) / sizeof(pages[0]); p++) {
                    char what[256];
                    snprintf(what, sizeof(what), "'%s' sort %d desc %d page %zu",
                             filters[i] ? filters[i] : "(none)", sorts[s], desc, p);
                    struct answer a, b;
                    search(store, rt, filters[i], pages[p], &a);
                    search(lite, rt, filters[i], pages[p], &b);
                    expect_same(what, &a, &b);
                }
            }
        }
    }
}

Test(pg, user_searches_answer_as_on_sqlite)
{
    REQUIRE_PG();
    char dir[64];
    struct store *lite = open_sqlite_twin(dir);
    seed_search_on(store);
    seed_search_on(lite);
    compare_searches(&scim_resource_user, user_filters,
                     sizeof(user_filters) / sizeof(user_filters[0]), user_sorts,
                     sizeof(user_sorts) / sizeof(user_sorts[0]), lite);
    close_sqlite_twin(lite, dir);
}

Test(pg, group_searches_answer_as_on_sqlite)
{
    REQUIRE_PG();
    char dir[64];
    struct store *lite = open_sqlite_twin(dir);
    seed_search_on(store);
    seed_search_on(lite);
    compare_searches(&scim_resource_group, group_filters,
                     sizeof(group_filters) / sizeof(group_filters[0]), group_sorts,
                     sizeof(group_sorts) / sizeof(group_sorts[0]), lite);
    close_sqlite_twin(lite, dir);
}

static enum status answer_plain_user(void *ctx, const struct store_user *u)
{
    struct answer *a = ctx;
    cr_assert_lt(a->n, 64);
    str_copy(a->ids[a->n++], STORE_ID_LEN, u->id);
    return OK;
}

Test(pg, lookups_answer_as_on_sqlite)
{
    REQUIRE_PG();
    char dir[64];
    struct store *lite = open_sqlite_twin(dir);
    seed_search_on(store);
    seed_search_on(lite);
    struct store *both[] = { store, lite };
    struct answer ans[2];
    for (int k = 0; k < 2; k++) {
        struct store_tx *tx = begin_on(both[k], false);
        memset(&ans[k], 0, sizeof(ans[k]));
        cr_assert_eq(store_user_each(tx, "t1", "i1", answer_plain_user, &ans[k]), OK);
        struct store_idp_user r;
        cr_assert_eq(store_idp_user_by_user_name(tx, "t1", "i1", "zO\xc3\xab", &r), OK);
        cr_assert_str_eq(r.user_id, "u07");
        store_idp_user_release(&r);
        cr_assert_eq(store_idp_user_by_external_id(tx, "t1", "i1", "e_x", &r), OK);
        cr_assert_str_eq(r.user_id, "a05");
        store_idp_user_release(&r);
        cr_assert_eq(store_idp_user_by_external_id(tx, "t1", "i1", "E_X", &r), ERR_NOT_FOUND);
        commit(tx);
    }
    expect_same("user_each", &ans[0], &ans[1]);
    close_sqlite_twin(lite, dir);
}

/* ---- round trips of a SCIM read -------------------------------------------------------- */

/* What a SCIM read asks of the store, in the order src/directory asks it:
 * directory_authenticate (IdP, then token by hash, on a read transaction the
 * request keeps), then directory_scim_user_get (the row, then whether the
 * user is in a group, for rendering) or directory_scim_user_list (a search
 * whose callback asks the same of each row).  What it saw, for asserting. */
struct scim_read {
    enum status auth;
    bool revoked;
    struct answer rows;
    size_t total;
    bool in_groups;
};

static struct store_tx *read_auth(const char *hash, struct scim_read *out)
{
    memset(out, 0, sizeof(*out));
    struct store_tx *tx = begin(false);
    struct store_idp idp;
    struct store_token token;
    out->auth = store_idp_get(tx, "i1", &idp);
    if (out->auth == OK)
        out->auth = store_token_by_hash(tx, hash, &token);
    out->revoked = out->auth == OK && token.revoked_at[0] != '\0';
    return tx;
}

static void read_user_by_id(const char *hash, const char *id, struct scim_read *out)
{
    struct store_tx *tx = read_auth(hash, out);
    struct store_idp_user row;
    if (out->auth == OK && store_idp_user_get(tx, "t1", "i1", id, &row) == OK) {
        str_copy(out->rows.ids[out->rows.n++], STORE_ID_LEN, row.user_id);
        cr_assert_eq(store_user_in_groups(tx, "t1", "i1", row.user_id, &out->in_groups), OK);
        store_idp_user_release(&row);
    }
    store_rollback(tx);
}

struct list_ctx {
    struct store_tx *tx;
    struct scim_read *out;
};

static enum status list_row(void *ctx, const struct store_idp_user *r)
{
    struct list_ctx *c = ctx;
    bool in_groups = false;
    enum status rc = store_user_in_groups(c->tx, r->tenant_id, r->idp_id, r->user_id, &in_groups);
    c->out->in_groups = c->out->in_groups || in_groups;
    return rc == OK ? answer_user(&c->out->rows, r) : rc;
}

static void read_user_list(const char *hash, const char *filter, struct scim_read *out)
{
    struct store_tx *tx = read_auth(hash, out);
    struct scim_filter *f = NULL;
    struct scim_error err = { 0 };
    cr_assert_eq(scim_filter_parse(filter, &f, &err), OK, "%s", err.detail);
    cr_assert_eq(scim_filter_bind(f, &scim_resource_user, &err), OK, "%s", err.detail);
    struct store_search q = { .tenant_id = "t1", .idp_id = "i1", .filter = f, .limit = 100 };
    struct store_search_result res = { 0 };
    struct list_ctx c = { tx, out };
    if (out->auth == OK)
        cr_assert_eq(store_idp_user_search(tx, &q, list_row, &c, &res), OK);
    out->total = res.total;
    store_rollback(tx);
    scim_filter_free(f);
}

static uint64_t round_trips_of_read(void (*read)(const char *, const char *, struct scim_read *),
                                    const char *hash, const char *arg, struct scim_read *out)
{
    uint64_t before = postgres_store_round_trips(store);
    read(hash, arg, out);
    return postgres_store_round_trips(store) - before;
}

Test(pg, a_scim_read_costs_two_round_trips_and_revocation_holds_at_once)
{
    REQUIRE_PG();
    seed_basic();
    struct store_tx *tx = begin(true);
    struct store_token tok = token_k1("h1");
    cr_assert_eq(store_token_insert(tx, &tok), OK);
    cr_assert_eq(add_user(tx, "t1", "ua"), OK);
    cr_assert_eq(add_row(tx, "t1", "i1", "ua", "E-1", "alice@example.com"), OK);
    cr_assert_eq(add_user(tx, "t1", "ub"), OK);
    cr_assert_eq(add_row(tx, "t1", "i1", "ub", "E-2", "bob@example.com"), OK);
    add_group(tx, "g1", "G-1", "Team");
    const char *bob[] = { "ub" };
    cr_assert_eq(store_group_members_add(tx, "t1", "i1", "g1", bob, 1, NULL, NULL), OK);
    commit(tx);

    /* the first reads on a connection prepare their statements; measure the next ones */
    struct scim_read r;
    read_user_by_id("h1", "ua", &r);
    read_user_list("h1", "userName eq \"alice@example.com\"", &r);

    cr_assert_leq(round_trips_of_read(read_user_by_id, "h1", "ua", &r), 2, "GET /Users/{id}");
    cr_assert_eq(r.auth, OK);
    cr_assert_eq(r.rows.n, 1);
    cr_assert_str_eq(r.rows.ids[0], "ua");
    cr_assert(!r.in_groups);

    cr_assert_leq(
        round_trips_of_read(read_user_list, "h1", "userName eq \"ALICE@example.com\"", &r), 2,
        "GET /Users?filter=userName eq");
    cr_assert_eq(r.rows.n, 1);
    cr_assert_eq(r.total, 1);
    cr_assert_str_eq(r.rows.ids[0], "ua");

    /* the folded group check answers as the separate one did */
    read_user_by_id("h1", "ub", &r);
    cr_assert(r.in_groups, "bob is in Team");
    read_user_list("h1", "userName eq \"bob@example.com\"", &r);
    cr_assert(r.in_groups);

    /* a token revoked (on any node) is refused by the very next request */
    tx = begin(true);
    cr_assert_eq(store_token_revoke(tx, "k1", NULL), OK);
    commit(tx);
    read_user_by_id("h1", "ua", &r);
    cr_assert_eq(r.auth, OK);
    cr_assert(r.revoked, "revocation holds on the next request");
}

/* The kill switch and the allowlist live on the IdP row, whose other columns
 * the store caches: a change made elsewhere (the CLI, another node) must be
 * seen by the very next token read, which joins them at no extra round trip. */
Test(pg, connection_access_is_read_with_the_token_never_from_the_cache)
{
    REQUIRE_PG();
    seed_basic();
    struct store_tx *tx = begin(true);
    struct store_token tok = token_k1("h1");
    cr_assert_eq(store_token_insert(tx, &tok), OK);
    commit(tx);
    struct scim_read r;
    store_rollback(read_auth("h1", &r)); /* prepares, and fills the IdP cache */

    tx = begin(true);
    cr_assert_eq(store_idp_set_disabled(tx, "i1", "2030-01-01T00:00:00.000Z"), OK);
    cr_assert_eq(store_idp_set_allowlist(tx, "i1", "10.0.0.0/8"), OK);
    cr_assert_eq(store_idp_set_disabled(tx, "nope", NULL), ERR_NOT_FOUND);
    commit(tx);

    uint64_t before = postgres_store_round_trips(store);
    tx = begin(false);
    struct store_idp idp;
    struct store_token got;
    cr_assert_eq(store_idp_get(tx, "i1", &idp), OK);
    cr_assert_eq(store_token_by_hash(tx, "h1", &got), OK);
    store_rollback(tx);
    cr_assert_leq(postgres_store_round_trips(store) - before, 1, "one round trip for both");
    cr_assert_str_eq(got.idp_access.disabled_at, "2030-01-01T00:00:00.000Z");
    cr_assert_str_eq(got.idp_access.allowlist, "10.0.0.0/8");

    tx = begin(true);
    cr_assert_eq(store_idp_set_disabled(tx, "i1", NULL), OK);
    cr_assert_eq(store_token_set_expiry(tx, "k1", "2031-01-01T00:00:00.000Z"), OK);
    cr_assert_eq(store_token_touch_from(tx, "k1", "2030-01-01T00:00:00.000Z", "2001:db8::1"), OK);
    commit(tx);
    tx = begin(false);
    cr_assert_eq(store_token_by_hash(tx, "h1", &got), OK);
    store_rollback(tx);
    cr_assert_str_eq(got.idp_access.disabled_at, "");
    cr_assert_str_eq(got.expires_at, "2031-01-01T00:00:00.000Z");
    cr_assert_str_eq(got.last_used_from, "2001:db8::1");
}
