/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sqlite_test.c - unit tests for src/store/sqlite.c (and the filter compiler of
 * src/store/sqlgen.c as the search sees it).  Each test opens a fresh database
 * file in its own temporary directory.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scim/filter.h"
#include "scim/schema.h"
#include "store/sqlgen.h"
#include "store/store.h"

#include "core/str.h"

#define POOL_SIZE 4

static char dir[64];
static char db_path[128];
static struct store *store;

static void setup(void)
{
    str_copy(dir, sizeof(dir), "/tmp/scimd_store_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(db_path, sizeof(db_path), "%s/test.db", dir);
    struct scim_error err = { 0 };
    cr_assert_eq(store_open(db_path, POOL_SIZE, &store, &err), OK, "open: %s", err.detail);
}

/* Remove the database db_path names with its WAL, shared memory and journal. */
static void remove_db_files(void)
{
    static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char p[160];
        snprintf(p, sizeof(p), "%s%s", db_path, suffixes[i]);
        unlink(p);
    }
}

static void teardown(void)
{
    store_close(store);
    store = NULL;
    remove_db_files();
    rmdir(dir);
}

TestSuite(store, .init = setup, .fini = teardown);

/* ---- helpers ------------------------------------------------------------------------ */

static struct store_tx *begin(bool write)
{
    struct store_tx *tx = NULL;
    cr_assert_eq(store_begin(store, write, &tx), OK);
    cr_assert_not_null(tx);
    return tx;
}

static void commit(struct store_tx *tx)
{
    cr_assert_eq(store_commit(tx), OK);
}

static enum status add_tenant(struct store_tx *tx, const char *id, const char *name,
                              const char *subdomain, const char *created_at)
{
    struct store_tenant t = { 0 };
    str_copy(t.id, sizeof(t.id), id);
    str_copy(t.name, sizeof(t.name), name);
    str_copy(t.subdomain, sizeof(t.subdomain), subdomain);
    str_copy(t.created_at, sizeof(t.created_at), created_at);
    return store_tenant_insert(tx, &t);
}

static enum status add_idp(struct store_tx *tx, const char *tenant_id, const char *id,
                           const char *created_at)
{
    struct store_idp idp = { 0 };
    str_copy(idp.tenant_id, sizeof(idp.tenant_id), tenant_id);
    str_copy(idp.id, sizeof(idp.id), id);
    snprintf(idp.name, sizeof(idp.name), "IdP %s", id);
    str_copy(idp.vendor, sizeof(idp.vendor), "okta");
    str_copy(idp.created_at, sizeof(idp.created_at), created_at);
    return store_idp_insert(tx, &idp);
}

static enum status add_user(struct store_tx *tx, const char *tenant_id, const char *id,
                            const char *username, const char *email, const char *created_at)
{
    struct store_user u = { 0 };
    str_copy(u.tenant_id, sizeof(u.tenant_id), tenant_id);
    str_copy(u.id, sizeof(u.id), id);
    u.username = (char *)username;
    u.email = (char *)email;
    str_copy(u.status, sizeof(u.status), "active");
    str_copy(u.created_at, sizeof(u.created_at), created_at);
    str_copy(u.updated_at, sizeof(u.updated_at), created_at);
    return store_user_insert(tx, &u);
}

static enum status add_row(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                           const char *user_id, const char *external_id, const char *user_name,
                           bool deleted)
{
    struct store_idp_user r = { 0 };
    str_copy(r.tenant_id, sizeof(r.tenant_id), tenant_id);
    str_copy(r.idp_id, sizeof(r.idp_id), idp_id);
    str_copy(r.user_id, sizeof(r.user_id), user_id);
    r.external_id = (char *)external_id;
    r.user_name = (char *)user_name;
    r.active = true;
    r.deleted = deleted;
    r.version = 1;
    r.doc = "{}";
    return store_idp_user_insert(tx, &r);
}

/* tenant t1 with IdPs i1, i2; tenant t2 with IdP i3. */
static void seed_basic(void)
{
    struct store_tx *tx = begin(true);
    cr_assert_eq(add_tenant(tx, "t1", "Acme", "acme", "2024-01-01T00:00:00.000Z"), OK);
    cr_assert_eq(add_tenant(tx, "t2", "Globex", "globex", "2024-01-02T00:00:00.000Z"), OK);
    cr_assert_eq(add_idp(tx, "t1", "i1", "2024-01-01T00:00:01.000Z"), OK);
    cr_assert_eq(add_idp(tx, "t1", "i2", "2024-01-01T00:00:02.000Z"), OK);
    cr_assert_eq(add_idp(tx, "t2", "i3", "2024-01-01T00:00:03.000Z"), OK);
    commit(tx);
}

static sqlite3 *raw_open(void)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    return db;
}

static long long raw_count(const char *sql)
{
    sqlite3 *db = raw_open();
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    long long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* ---- open and migrations ------------------------------------------------------------ */

Test(store, migrations_recorded_once_and_idempotent_on_reopen)
{
    long long applied = raw_count("SELECT COUNT(*) FROM schema_migrations");
    cr_assert_geq(applied, 1);
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM schema_migrations WHERE name = '001_init.sql'"),
                 1);
    seed_basic();
    for (int i = 0; i < 3; i++) {
        store_close(store);
        struct scim_error err = { 0 };
        cr_assert_eq(store_open(db_path, POOL_SIZE, &store, &err), OK, "%s", err.detail);
        cr_assert_eq(raw_count("SELECT COUNT(*) FROM schema_migrations"), applied);
    }
    struct store_tx *tx = begin(false);
    struct store_tenant t;
    cr_assert_eq(store_tenant_find(tx, "t1", &t), OK);
    commit(tx);
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM tenants"), 2);
}

Test(store, connection_settings)
{
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"),
                 1);
}

Test(store, open_rejects_empty_path_and_unwritable_directory)
{
    struct store *s = NULL;
    struct scim_error err = { 0 };
    cr_assert_neq(store_open("", 1, &s, &err), OK);
    cr_assert_null(s);
    cr_assert_neq(store_open("/nonexistent-dir/sub/x.db", 1, &s, &err), OK);
    cr_assert_null(s);
    cr_assert_neq(err.detail[0], '\0');
}

Test(store, open_accepts_sqlite_url_prefix)
{
    char url[160];
    snprintf(url, sizeof(url), "sqlite://%s", db_path);
    struct store *s = NULL;
    struct scim_error err = { 0 };
    cr_assert_eq(store_open(url, 1, &s, &err), OK, "%s", err.detail);
    store_close(s);
}

struct opener {
    enum status rc;
};

static void *open_close(void *arg)
{
    struct opener *o = arg;
    struct store *s = NULL;
    struct scim_error err = { 0 };
    o->rc = store_open(db_path, 2, &s, &err);
    if (o->rc == OK) {
        struct store_tx *tx = NULL;
        o->rc = store_begin(s, true, &tx);
        if (o->rc == OK)
            o->rc = store_commit(tx);
        store_close(s);
    }
    return NULL;
}

#define OPENERS 8

Test(store, concurrent_opens_of_a_fresh_file_migrate_once)
{
    /* Use a second, brand-new file so that the openers race on the switch to
     * WAL and on the first migration. */
    snprintf(db_path, sizeof(db_path), "%s/fresh.db", dir);
    pthread_t th[OPENERS];
    struct opener o[OPENERS];
    int started = 0;
    while (started < OPENERS && pthread_create(&th[started], NULL, open_close, &o[started]) == 0)
        started++;
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    long long applied =
        raw_count("SELECT COUNT(*) FROM schema_migrations WHERE name = '001_init.sql'");
    remove_db_files();
    snprintf(db_path, sizeof(db_path), "%s/test.db", dir);

    cr_assert_eq(started, OPENERS);
    for (int i = 0; i < OPENERS; i++)
        cr_assert_eq(o[i].rc, OK, "opener %d: %d", i, o[i].rc);
    cr_assert_eq(applied, 1);
}

/* Another process is switching a rollback-journal file to WAL (it holds the
 * write lock): SQLite fails the switch at once rather than wait, and
 * store_open must wait for it like for any other lock. */
Test(store, open_waits_for_another_connection_switching_the_file_to_wal)
{
    snprintf(db_path, sizeof(db_path), "%s/legacy.db", dir);
    sqlite3 *other = NULL;
    cr_assert_eq(sqlite3_open(db_path, &other), SQLITE_OK);
    sqlite3_busy_timeout(other, 10000);
    cr_assert_eq(sqlite3_exec(other, "CREATE TABLE legacy (x); BEGIN IMMEDIATE", NULL, NULL, NULL),
                 SQLITE_OK);
    pthread_t th;
    struct opener o = { .rc = ERR_STORE };
    int created = pthread_create(&th, NULL, open_close, &o);
    usleep(200 * 1000); /* let the opener run into the lock; it passes either way */
    int released = sqlite3_exec(other, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(other);
    if (created == 0)
        pthread_join(th, NULL);
    long long wal =
        raw_count("SELECT COUNT(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'");
    remove_db_files();
    snprintf(db_path, sizeof(db_path), "%s/test.db", dir);

    cr_assert_eq(created, 0);
    cr_assert_eq(released, SQLITE_OK);
    cr_assert_eq(o.rc, OK, "open while another connection held the lock: %d", o.rc);
    cr_assert_eq(wal, 1);
}

/* ---- transactions ------------------------------------------------------------------- */

Test(store, rollback_discards_and_null_is_noop)
{
    store_rollback(NULL);
    struct store_tx *tx = begin(true);
    cr_assert_eq(add_tenant(tx, "t1", "Acme", "acme", ""), OK);
    store_rollback(tx);
    tx = begin(false);
    struct store_tenant t;
    cr_assert_eq(store_tenant_find(tx, "t1", &t), ERR_NOT_FOUND);
    commit(tx);
}

Test(store, a_failed_statement_leaves_the_transaction_usable)
{
    struct store_tx *tx = begin(true);
    cr_assert_eq(add_tenant(tx, "t1", "Acme", "acme", ""), OK);
    cr_assert_eq(add_tenant(tx, "t1", "Acme again", "acme2", ""), ERR_UNIQUENESS);
    cr_assert_eq(add_tenant(tx, "t2", "Globex", "globex", ""), OK);
    commit(tx);
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM tenants"), 2);
}

Test(store, more_transactions_than_pool_size_wait_their_turn)
{
    struct store_tx *tx[POOL_SIZE];
    for (int i = 0; i < POOL_SIZE; i++)
        tx[i] = begin(false);
    for (int i = 0; i < POOL_SIZE; i++)
        commit(tx[i]);
    for (int round = 0; round < 3; round++)
        commit(begin(round % 2 == 0));
}

/* ---- tenants ------------------------------------------------------------------------ */

static enum status count_tenant(void *ctx, const struct store_tenant *t)
{
    char *order = ctx;
    size_t n = strlen(order);
    order[n] = t->id[1];
    order[n + 1] = '\0';
    return OK;
}

Test(store, tenants)
{
    struct store_tx *tx = begin(true);
    cr_assert_eq(add_tenant(tx, "t2", "Globex", "globex", "2024-01-02T00:00:00.000Z"), OK);
    cr_assert_eq(add_tenant(tx, "t1", "Acme", "acme", "2024-01-01T00:00:00.000Z"), OK);
    cr_assert_eq(add_tenant(tx, "t3", "Initech", "initech", ""), OK);
    cr_assert_eq(add_tenant(tx, "t1", "Other", "other", ""), ERR_UNIQUENESS);
    cr_assert_eq(add_tenant(tx, "t4", "Other", "acme", ""), ERR_UNIQUENESS);
    commit(tx);

    tx = begin(false);
    struct store_tenant t;
    cr_assert_eq(store_tenant_find(tx, "t1", &t), OK);
    cr_assert_str_eq(t.name, "Acme");
    cr_assert_str_eq(t.subdomain, "acme");
    cr_assert_str_eq(t.created_at, "2024-01-01T00:00:00.000Z");
    cr_assert_eq(store_tenant_find(tx, "globex", &t), OK);
    cr_assert_str_eq(t.id, "t2");
    cr_assert_eq(store_tenant_find(tx, "Initech", &t), OK);
    cr_assert_str_eq(t.id, "t3");
    cr_assert_eq(strlen(t.created_at), 24, "created_at defaults to now: %s", t.created_at);
    cr_assert_eq(store_tenant_find(tx, "nope", &t), ERR_NOT_FOUND);
    char order[8] = "";
    cr_assert_eq(store_tenant_each(tx, count_tenant, order), OK);
    cr_assert_str_eq(order, "123");
    commit(tx);
}

Test(store, tenant_find_prefers_id_over_subdomain_over_name)
{
    struct store_tx *tx = begin(true);
    cr_assert_eq(add_tenant(tx, "x", "y", "z", ""), OK);
    cr_assert_eq(add_tenant(tx, "y", "z", "x", ""), OK);
    cr_assert_eq(add_tenant(tx, "z", "x", "y", ""), OK);
    struct store_tenant t;
    cr_assert_eq(store_tenant_find(tx, "x", &t), OK);
    cr_assert_str_eq(t.id, "x");
    commit(tx);
}

static enum status stop_at_first(void *ctx, const struct store_tenant *t)
{
    (void)t;
    (*(int *)ctx)++;
    return ERR_CONFLICT;
}

Test(store, callback_status_stops_iteration)
{
    seed_basic();
    struct store_tx *tx = begin(false);
    int calls = 0;
    cr_assert_eq(store_tenant_each(tx, stop_at_first, &calls), ERR_CONFLICT);
    cr_assert_eq(calls, 1);
    commit(tx);
}

/* ---- IdPs --------------------------------------------------------------------------- */

static enum status collect_idp(void *ctx, const struct store_idp *idp)
{
    char *order = ctx;
    size_t n = strlen(order);
    order[n] = idp->id[1];
    order[n + 1] = '\0';
    return OK;
}

Test(store, idps)
{
    seed_basic();
    struct store_tx *tx = begin(true);
    struct store_idp idp;
    cr_assert_eq(store_idp_get(tx, "i2", &idp), OK);
    cr_assert_str_eq(idp.tenant_id, "t1");
    cr_assert_str_eq(idp.name, "IdP i2");
    cr_assert_str_eq(idp.vendor, "okta");
    cr_assert_str_eq(idp.created_at, "2024-01-01T00:00:02.000Z");
    cr_assert_eq(store_idp_get(tx, "i9", &idp), ERR_NOT_FOUND);
    cr_assert_eq(add_idp(tx, "t1", "i1", ""), ERR_UNIQUENESS);

    char order[8] = "";
    cr_assert_eq(store_idp_each(tx, NULL, collect_idp, order), OK);
    cr_assert_str_eq(order, "123");
    order[0] = '\0';
    cr_assert_eq(store_idp_each(tx, "t1", collect_idp, order), OK);
    cr_assert_str_eq(order, "12");
    order[0] = '\0';
    cr_assert_eq(store_idp_each(tx, "t9", collect_idp, order), OK);
    cr_assert_str_eq(order, "");
    commit(tx);
}

Test(store, foreign_keys_are_enforced)
{
    seed_basic();
    struct store_tx *tx = begin(true);
    cr_assert_eq(add_idp(tx, "t9", "i9", ""), ERR_STORE);
    cr_assert_eq(add_row(tx, "t1", "i1", "no-such-user", NULL, "x", false), ERR_STORE);
    store_rollback(tx);
}

/* ---- tokens ------------------------------------------------------------------------- */

static enum status add_token(struct store_tx *tx, const char *id, const char *idp_id,
                             const char *tenant_id, const char *plaintext, const char *created)
{
    struct store_token t = { 0 };
    str_copy(t.tenant_id, sizeof(t.tenant_id), tenant_id);
    str_copy(t.id, sizeof(t.id), id);
    str_copy(t.idp_id, sizeof(t.idp_id), idp_id);
    snprintf(t.name, sizeof(t.name), "token %s", id);
    str_copy(t.prefix, sizeof(t.prefix), "scimd_abcd");
    crypto_sha256_hex(plaintext, strlen(plaintext), t.hash);
    str_copy(t.created_at, sizeof(t.created_at), created);
    return store_token_insert(tx, &t);
}

static enum status collect_token(void *ctx, const struct store_token *t)
{
    char *order = ctx;
    size_t n = strlen(order);
    order[n] = t->id[1];
    order[n + 1] = '\0';
    return OK;
}

Test(store, tokens)
{
    seed_basic();
    struct store_tx *tx = begin(true);
    cr_assert_eq(add_token(tx, "k1", "i1", "t1", "secret-1", "2024-01-01T00:00:00.000Z"), OK);
    cr_assert_eq(add_token(tx, "k2", "i1", "t1", "secret-2", "2024-01-02T00:00:00.000Z"), OK);
    cr_assert_eq(add_token(tx, "k3", "i2", "t1", "secret-3", "2024-01-03T00:00:00.000Z"), OK);
    cr_assert_eq(add_token(tx, "k4", "i3", "t2", "secret-4", "2024-01-04T00:00:00.000Z"), OK);
    cr_assert_eq(add_token(tx, "k5", "i1", "t1", "secret-1", ""), ERR_UNIQUENESS,
                 "hash is globally unique");
    commit(tx);

    tx = begin(true);
    struct store_token t;
    char hash[CRYPTO_SHA256_HEX_LEN];
    crypto_sha256_hex("secret-2", 8, hash);
    cr_assert_eq(store_token_by_hash(tx, hash, &t), OK);
    cr_assert_str_eq(t.id, "k2");
    cr_assert_str_eq(t.idp_id, "i1");
    cr_assert_str_eq(t.tenant_id, "t1");
    cr_assert_str_eq(t.prefix, "scimd_abcd");
    cr_assert_str_eq(t.last_used_at, "");
    cr_assert_str_eq(t.revoked_at, "");
    crypto_sha256_hex("secret-9", 8, hash);
    cr_assert_eq(store_token_by_hash(tx, hash, &t), ERR_NOT_FOUND);

    cr_assert_eq(store_token_touch(tx, "k2", "2024-02-01T00:00:00.000Z"), OK);
    cr_assert_eq(store_token_get(tx, "k2", &t), OK);
    cr_assert_str_eq(t.last_used_at, "2024-02-01T00:00:00.000Z");
    cr_assert_eq(store_token_touch(tx, "k2", "2024-03-01T00:00:00.000Z"), OK);
    cr_assert_eq(store_token_touch(tx, "k2", "2024-02-15T00:00:00.000Z"), OK,
                 "an older touch is not an error");
    cr_assert_eq(store_token_get(tx, "k2", &t), OK);
    cr_assert_str_eq(t.last_used_at, "2024-03-01T00:00:00.000Z", "never moves backwards");
    cr_assert_eq(store_token_touch(tx, "k9", "2024-02-01T00:00:00.000Z"), ERR_NOT_FOUND);

    cr_assert_eq(store_token_revoke(tx, "k1", "2024-04-01T00:00:00.000Z"), OK);
    cr_assert_eq(store_token_revoke(tx, "k1", "2024-05-01T00:00:00.000Z"), OK);
    cr_assert_eq(store_token_get(tx, "k1", &t), OK);
    cr_assert_str_eq(t.revoked_at, "2024-04-01T00:00:00.000Z", "first revocation time kept");
    cr_assert_eq(store_token_revoke(tx, "k9", "2024-04-01T00:00:00.000Z"), ERR_NOT_FOUND);
    crypto_sha256_hex("secret-1", 8, hash);
    cr_assert_eq(store_token_by_hash(tx, hash, &t), OK, "revoked tokens are still found");
    cr_assert_str_neq(t.revoked_at, "");

    char order[8] = "";
    cr_assert_eq(store_token_each(tx, "i1", collect_token, order), OK);
    cr_assert_str_eq(order, "12");
    order[0] = '\0';
    cr_assert_eq(store_token_each(tx, NULL, collect_token, order), OK);
    cr_assert_str_eq(order, "1234");
    order[0] = '\0';
    cr_assert_eq(store_token_each(tx, "i9", collect_token, order), OK);
    cr_assert_str_eq(order, "");
    commit(tx);
}

/* ---- users -------------------------------------------------------------------------- */

Test(store, users_insert_get_update)
{
    seed_basic();
    struct store_tx *tx = begin(true);
    struct store_user u = { 0 };
    str_copy(u.tenant_id, sizeof(u.tenant_id), "t1");
    str_copy(u.id, sizeof(u.id), "u1");
    u.username = "Alice";
    u.email = "Alice@Example.com";
    u.given_name = "Alice";
    u.family_name = NULL;
    u.display_name = "Alice A.";
    str_copy(u.status, sizeof(u.status), "active");
    str_copy(u.idp_id, sizeof(u.idp_id), "i1");
    u.scim_managed = true;
    str_copy(u.created_at, sizeof(u.created_at), "2024-01-01T00:00:00.000Z");
    str_copy(u.updated_at, sizeof(u.updated_at), "2024-01-01T00:00:00.000Z");
    cr_assert_eq(store_user_insert(tx, &u), OK);
    cr_assert_eq(store_user_insert(tx, &u), ERR_UNIQUENESS);
    cr_assert_eq(add_user(tx, "t1", "u2", NULL, NULL, ""), OK);
    commit(tx);

    tx = begin(true);
    struct store_user got;
    cr_assert_eq(store_user_get(tx, "t1", "u1", &got), OK);
    cr_assert_str_eq(got.username, "Alice");
    cr_assert_str_eq(got.email, "Alice@Example.com");
    cr_assert_str_eq(got.given_name, "Alice");
    cr_assert_null(got.family_name);
    cr_assert_str_eq(got.display_name, "Alice A.");
    cr_assert_str_eq(got.status, "active");
    cr_assert_str_eq(got.idp_id, "i1");
    cr_assert(got.scim_managed);
    cr_assert_str_eq(got.created_at, "2024-01-01T00:00:00.000Z");
    store_user_release(&got);
    store_user_release(&got); /* safe twice */

    cr_assert_eq(store_user_get(tx, NULL, "u1", &got), OK);
    cr_assert_str_eq(got.tenant_id, "t1");
    store_user_release(&got);
    cr_assert_eq(store_user_get(tx, "t2", "u1", &got), ERR_NOT_FOUND);
    cr_assert_eq(store_user_get(tx, NULL, "u9", &got), ERR_NOT_FOUND);

    cr_assert_eq(store_user_get(tx, "t1", "u2", &got), OK);
    cr_assert_null(got.username);
    cr_assert_null(got.email);
    cr_assert_str_eq(got.idp_id, "");
    cr_assert(!got.scim_managed);
    store_user_release(&got);

    u.username = "alice2";
    u.email = NULL;
    u.family_name = "Smith";
    str_copy(u.status, sizeof(u.status), "deactivated");
    u.idp_id[0] = '\0';
    u.scim_managed = false;
    str_copy(u.created_at, sizeof(u.created_at), "2030-01-01T00:00:00.000Z");
    str_copy(u.updated_at, sizeof(u.updated_at), "2024-06-01T00:00:00.000Z");
    cr_assert_eq(store_user_update(tx, &u), OK);
    cr_assert_eq(store_user_get(tx, "t1", "u1", &got), OK);
    cr_assert_str_eq(got.username, "alice2");
    cr_assert_null(got.email);
    cr_assert_str_eq(got.family_name, "Smith");
    cr_assert_str_eq(got.status, "deactivated");
    cr_assert_str_eq(got.idp_id, "");
    cr_assert(!got.scim_managed);
    cr_assert_str_eq(got.created_at, "2024-01-01T00:00:00.000Z", "created_at is immutable");
    cr_assert_str_eq(got.updated_at, "2024-06-01T00:00:00.000Z");
    store_user_release(&got);

    str_copy(u.id, sizeof(u.id), "u9");
    cr_assert_eq(store_user_update(tx, &u), ERR_NOT_FOUND);
    str_copy(u.id, sizeof(u.id), "u1");
    str_copy(u.tenant_id, sizeof(u.tenant_id), "t2");
    cr_assert_eq(store_user_update(tx, &u), ERR_NOT_FOUND, "another tenant's user");
    commit(tx);
}

Test(store, user_find_match)
{
    seed_basic();
    struct store_tx *tx = begin(true);
    cr_assert_eq(add_user(tx, "t1", "u1", "Alice", "alice@example.com", "2024-01-02T00:00:00.000Z"),
                 OK);
    cr_assert_eq(
        add_user(tx, "t1", "u0", "alice.old", "ALICE@example.COM", "2024-01-01T00:00:00.000Z"), OK);
    cr_assert_eq(add_user(tx, "t1", "u2", "bob@example.com", NULL, "2024-01-03T00:00:00.000Z"), OK);
    cr_assert_eq(add_user(tx, "t1", "u3", "carol", "carol@example.com", "2024-01-04T00:00:00.000Z"),
                 OK);
    cr_assert_eq(add_user(tx, "t2", "u4", "dave", "dave@example.com", "2024-01-01T00:00:00.000Z"),
                 OK);
    commit(tx);

    /* clang-format off */
    static const struct {
        const char *tenant, *email, *username, *want;
    } cases[] = {
        { "t1", "alice@example.com", NULL,      "u0" }, /* oldest of two emails */
        { "t1", "Alice@Example.Com", NULL,      "u0" },
        { "t1", NULL,                "ALICE",   "u1" },
        { "t1", NULL,                "alice",   "u1" },
        { "t1", "BOB@example.com",   NULL,      "u2" }, /* email equals a username */
        { "t1", "nobody@example.com","carol",   "u3" },
        { "t1", "carol@example.com", "nobody",  "u3" },
        { "t1", "nobody@example.com","nobody",  NULL },
        { "t1", NULL,                NULL,      NULL },
        { "t1", "dave@example.com",  "dave",    NULL }, /* other tenant */
        { "t2", "DAVE@EXAMPLE.COM",  NULL,      "u4" },
        { "t1", NULL,                "alice.old","u0" },
        { "t1", "%@example.com",     "_lice",   NULL }, /* no pattern matching */
    };
    /* clang-format on */
    tx = begin(false);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct store_user u;
        enum status rc =
            store_user_find_match(tx, cases[i].tenant, cases[i].email, cases[i].username, &u);
        if (cases[i].want == NULL) {
            cr_expect_eq(rc, ERR_NOT_FOUND, "case %zu", i);
        } else {
            cr_expect_eq(rc, OK, "case %zu", i);
            if (rc == OK)
                cr_expect_str_eq(u.id, cases[i].want, "case %zu", i);
        }
        if (rc == OK)
            store_user_release(&u);
    }
    commit(tx);
}

struct user_list {
    char ids[16][STORE_ID_LEN];
    size_t n;
};

static enum status collect_user(void *ctx, const struct store_user *u)
{
    struct user_list *l = ctx;
    cr_assert_lt(l->n, 16);
    str_copy(l->ids[l->n++], STORE_ID_LEN, u->id);
    return OK;
}

Test(store, user_each)
{
    seed_basic();
    struct store_tx *tx = begin(true);
    cr_assert_eq(add_user(tx, "t1", "u3", "c", NULL, "2024-01-03T00:00:00.000Z"), OK);
    cr_assert_eq(add_user(tx, "t1", "u1", "a", NULL, "2024-01-01T00:00:00.000Z"), OK);
    cr_assert_eq(add_user(tx, "t1", "u2", "b", NULL, "2024-01-02T00:00:00.000Z"), OK);
    cr_assert_eq(add_user(tx, "t2", "u4", "d", NULL, "2024-01-01T00:00:00.000Z"), OK);
    cr_assert_eq(add_row(tx, "t1", "i1", "u3", NULL, "c", false), OK);
    cr_assert_eq(add_row(tx, "t1", "i1", "u2", NULL, "b", true), OK);
    cr_assert_eq(add_row(tx, "t1", "i2", "u1", NULL, "a", false), OK);
    commit(tx);

    tx = begin(false);
    struct user_list l = { 0 };
    cr_assert_eq(store_user_each(tx, "t1", NULL, collect_user, &l), OK);
    cr_assert_eq(l.n, 3);
    cr_assert_str_eq(l.ids[0], "u1");
    cr_assert_str_eq(l.ids[1], "u2");
    cr_assert_str_eq(l.ids[2], "u3");
    memset(&l, 0, sizeof(l));
    cr_assert_eq(store_user_each(tx, "t1", "i1", collect_user, &l), OK);
    cr_assert_eq(l.n, 2, "deleted rows still belong to the IdP");
    cr_assert_str_eq(l.ids[0], "u2");
    cr_assert_str_eq(l.ids[1], "u3");
    memset(&l, 0, sizeof(l));
    cr_assert_eq(store_user_each(tx, "t2", "i1", collect_user, &l), OK);
    cr_assert_eq(l.n, 0);
    commit(tx);
}

static enum status add_user_named(struct store_tx *tx, const char *id, const char *username,
                                  const char *email, const char *given, const char *status,
                                  const char *created_at)
{
    struct store_user u = { 0 };
    str_copy(u.tenant_id, sizeof(u.tenant_id), "t1");
    str_copy(u.id, sizeof(u.id), id);
    u.username = (char *)username;
    u.email = (char *)email;
    u.given_name = (char *)given;
    str_copy(u.status, sizeof(u.status), status);
    str_copy(u.created_at, sizeof(u.created_at), created_at);
    str_copy(u.updated_at, sizeof(u.updated_at), created_at);
    return store_user_insert(tx, &u);
}

Test(store, user_list_filters_and_pages_in_sql)
{
    seed_basic();
    struct store_tx *tx = begin(true);
    cr_assert_eq(add_user_named(tx, "u1", "ann", "Ann@X.test", "Annette", "active",
                                "2024-01-01T00:00:00.000Z"),
                 OK);
    cr_assert_eq(
        add_user_named(tx, "u2", "b_2", "bob@x.test", NULL, "active", "2024-01-02T00:00:00.000Z"),
        OK);
    cr_assert_eq(
        add_user_named(tx, "u3", "b22", NULL, "Ann", "deactivated", "2024-01-02T00:00:00.000Z"),
        OK);
    cr_assert_eq(add_user(tx, "t2", "u4", "ann", NULL, "2024-01-01T00:00:00.000Z"), OK);
    cr_assert_eq(add_row(tx, "t1", "i2", "u3", NULL, "b22", false), OK);
    commit(tx);

    tx = begin(false);
    struct user_list l = { 0 };
    struct store_user_list q = { .tenant_id = "t1", .limit = 10 };
    cr_assert_eq(store_user_list(tx, &q, collect_user, &l), OK);
    cr_assert_eq(l.n, 3, "the tenant's users only");
    cr_assert_str_eq(l.ids[0], "u1");
    memset(&l, 0, sizeof(l));
    q.q = "ANN"; /* username, email or a name, any case */
    cr_assert_eq(store_user_list(tx, &q, collect_user, &l), OK);
    cr_assert_eq(l.n, 2);
    cr_assert_str_eq(l.ids[0], "u1");
    cr_assert_str_eq(l.ids[1], "u3");
    memset(&l, 0, sizeof(l));
    q.q = "b_";
    cr_assert_eq(store_user_list(tx, &q, collect_user, &l), OK);
    cr_assert_eq(l.n, 1, "_ matches only itself");
    cr_assert_str_eq(l.ids[0], "u2");
    memset(&l, 0, sizeof(l));
    q.q = "%";
    cr_assert_eq(store_user_list(tx, &q, collect_user, &l), OK);
    cr_assert_eq(l.n, 0, "%% matches only itself");
    q.q = NULL;
    q.status = "deactivated";
    cr_assert_eq(store_user_list(tx, &q, collect_user, &l), OK);
    cr_assert_eq(l.n, 1);
    cr_assert_str_eq(l.ids[0], "u3");
    memset(&l, 0, sizeof(l));
    q.status = NULL;
    q.idp_id = "i2";
    cr_assert_eq(store_user_list(tx, &q, collect_user, &l), OK);
    cr_assert_eq(l.n, 1);
    cr_assert_str_eq(l.ids[0], "u3");
    memset(&l, 0, sizeof(l));
    /* keyset: after u2, which shares its created_at with u3 */
    q.idp_id = NULL;
    q.after_created_at = "2024-01-02T00:00:00.000Z";
    q.after_id = "u2";
    q.limit = 1;
    cr_assert_eq(store_user_list(tx, &q, collect_user, &l), OK);
    cr_assert_eq(l.n, 1);
    cr_assert_str_eq(l.ids[0], "u3");
    commit(tx);
}

static enum status add_group(struct store_tx *tx, const char *idp_id, const char *id,
                             const char *name)
{
    struct store_group g = { 0 };
    str_copy(g.tenant_id, sizeof(g.tenant_id), "t1");
    str_copy(g.idp_id, sizeof(g.idp_id), idp_id);
    str_copy(g.id, sizeof(g.id), id);
    g.display_name = (char *)name;
    g.version = 1;
    g.doc = "{}";
    str_copy(g.created_at, sizeof(g.created_at), "2024-01-01T00:00:00.000Z");
    str_copy(g.updated_at, sizeof(g.updated_at), "2024-01-01T00:00:00.000Z");
    return store_group_insert(tx, &g);
}

static enum status count_id(void *ctx, const char *id)
{
    (void)id;
    (*(size_t *)ctx)++;
    return OK;
}

static enum status count_group_of(void *ctx, const char *group_id, const char *display_name)
{
    (void)display_name;
    return count_id(ctx, group_id);
}

Test(store, role_mappings_go_with_their_group_role_or_unmapping)
{
    seed_basic();
    struct store_tx *tx = begin(true);
    struct store_role r = { .tenant_id = "t1", .id = "r1", .name = "editor" };
    cr_assert_eq(store_role_insert(tx, &r), OK);
    cr_assert_eq(add_group(tx, "i1", "g1", "One"), OK);
    cr_assert_eq(add_group(tx, "i1", "g2", "Two"), OK);
    cr_assert_eq(store_role_group_add(tx, "t1", "r1", "i1", "g1"), OK);
    cr_assert_eq(store_role_group_add(tx, "t1", "r1", "i1", "g2"), OK);
    cr_assert_eq(add_user(tx, "t1", "u1", "a", NULL, "2024-01-01T00:00:00.000Z"), OK);
    const char *ids[] = { "r1" };
    cr_assert_eq(store_user_roles_replace(tx, "t1", "u1", ids, 1), OK);
    commit(tx);

    tx = begin(true);
    cr_assert_eq(store_group_delete(tx, "t1", "i1", "g1"), OK);
    commit(tx);
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM role_groups WHERE group_id = 'g1'"), 0);

    tx = begin(true);
    size_t holders = 0, groups = 0;
    cr_assert_eq(store_role_users_each(tx, "t1", "r1", count_id, &holders), OK);
    cr_assert_eq(holders, 1);
    cr_assert_eq(store_role_group_remove(tx, "t1", "r1", "i1", "g2"), OK);
    cr_assert_eq(store_role_group_remove(tx, "t1", "r1", "i1", "g2"), ERR_NOT_FOUND);
    cr_assert_eq(store_role_groups_each(tx, "t1", "r1", count_group_of, &groups), OK);
    cr_assert_eq(groups, 0);
    cr_assert_eq(store_role_group_add(tx, "t1", "r1", "i1", "g2"), OK);
    cr_assert_eq(store_role_delete(tx, "t1", "r1"), OK);
    cr_assert_eq(store_role_delete(tx, "t1", "r1"), ERR_NOT_FOUND);
    commit(tx);
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM role_groups"), 0);
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM user_roles"), 0);
}

Test(store, field_delete_takes_rules_and_values)
{
    seed_basic();
    struct store_tx *tx = begin(true);
    struct store_field f = { .tenant_id = "t1", .name = "dept", .type = "string" };
    cr_assert_eq(store_field_insert(tx, &f), OK);
    struct store_mirror_rule rule = {
        .tenant_id = "t1", .idp_id = "i1", .field = "dept", .path = "title"
    };
    cr_assert_eq(store_mirror_rule_put(tx, &rule), OK);
    cr_assert_eq(add_user(tx, "t1", "u1", "a", NULL, "2024-01-01T00:00:00.000Z"), OK);
    struct store_user_field v = { .name = "dept", .value = "\"R&D\"", .idp_id = "i1" };
    cr_assert_eq(store_user_fields_replace(tx, "t1", "u1", &v, 1), OK);
    commit(tx);

    tx = begin(true);
    cr_assert_eq(store_field_delete(tx, "t1", "dept"), OK);
    cr_assert_eq(store_field_delete(tx, "t1", "dept"), ERR_NOT_FOUND);
    commit(tx);
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM custom_fields"), 0);
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM mirror_rules"), 0);
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM user_fields"), 0);
}

Test(store, idp_rename_is_seen_by_cached_reads)
{
    seed_basic();
    struct store_tx *tx = begin(false);
    struct store_idp idp;
    cr_assert_eq(store_idp_get(tx, "i1", &idp), OK); /* now cached */
    cr_assert_str_eq(idp.name, "IdP i1");
    store_rollback(tx);

    tx = begin(true);
    cr_assert_eq(store_idp_rename(tx, "i1", "Okta (production)"), OK);
    cr_assert_eq(store_idp_rename(tx, "nope", "x"), ERR_NOT_FOUND);
    commit(tx);

    tx = begin(false);
    cr_assert_eq(store_idp_get(tx, "i1", &idp), OK);
    cr_assert_str_eq(idp.name, "Okta (production)");
    cr_assert_eq(store_idp_get_fresh(tx, "i1", &idp), OK);
    cr_assert_str_eq(idp.name, "Okta (production)");
    cr_assert_str_eq(idp.tenant_id, "t1");
    store_rollback(tx);
}

/* ---- IdP user rows ------------------------------------------------------------------ */

Test(store, idp_user_rows)
{
    seed_basic();
    struct store_tx *tx = begin(true);
    cr_assert_eq(add_user(tx, "t1", "u1", "alice", NULL, ""), OK);
    struct store_idp_user r = { 0 };
    str_copy(r.tenant_id, sizeof(r.tenant_id), "t1");
    str_copy(r.idp_id, sizeof(r.idp_id), "i1");
    str_copy(r.user_id, sizeof(r.user_id), "u1");
    r.external_id = "00u1";
    r.user_name = "Alice@Example.com";
    char *emails[] = { "Alice@Example.com", "alice@example.com", "a2@Example.org", NULL };
    r.emails = emails;
    r.n_emails = 4;
    r.active = true;
    r.version = 3;
    r.doc = "{\"id\":\"u1\"}";
    str_copy(r.created_at, sizeof(r.created_at), "2024-01-01T00:00:00.000Z");
    str_copy(r.updated_at, sizeof(r.updated_at), "2024-01-02T00:00:00.000Z");
    cr_assert_eq(store_idp_user_insert(tx, &r), OK);
    commit(tx);
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM idp_user_emails"), 2,
                 "lowercased, deduplicated, NULL entries skipped");
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM idp_user_emails WHERE value_lc IN "
                           "('alice@example.com', 'a2@example.org')"),
                 2);

    tx = begin(true);
    struct store_idp_user got;
    cr_assert_eq(store_idp_user_get(tx, "t1", "i1", "u1", &got), OK);
    cr_assert_str_eq(got.external_id, "00u1");
    cr_assert_str_eq(got.user_name, "Alice@Example.com");
    cr_assert(got.active);
    cr_assert(!got.deleted);
    cr_assert_eq(got.version, 3);
    cr_assert_str_eq(got.doc, "{\"id\":\"u1\"}");
    cr_assert_str_eq(got.created_at, "2024-01-01T00:00:00.000Z");
    cr_assert_str_eq(got.updated_at, "2024-01-02T00:00:00.000Z");
    cr_assert_null(got.emails, "emails are input only");
    cr_assert_eq(got.n_emails, 0);
    store_idp_user_release(&got);
    store_idp_user_release(&got);

    cr_assert_eq(store_idp_user_get(tx, "t1", "i2", "u1", &got), ERR_NOT_FOUND);
    cr_assert_eq(store_idp_user_get(tx, "t2", "i1", "u1", &got), ERR_NOT_FOUND);
    cr_assert_eq(store_idp_user_by_external_id(tx, "t1", "i1", "00u1", &got), OK);
    cr_assert_str_eq(got.user_id, "u1");
    store_idp_user_release(&got);
    cr_assert_eq(store_idp_user_by_external_id(tx, "t1", "i1", "00U1", &got), ERR_NOT_FOUND,
                 "externalId is case-exact");
    cr_assert_eq(store_idp_user_by_external_id(tx, "t1", "i2", "00u1", &got), ERR_NOT_FOUND);
    cr_assert_eq(store_idp_user_by_user_name(tx, "t1", "i1", "ALICE@example.COM", &got), OK);
    cr_assert_str_eq(got.user_id, "u1");
    store_idp_user_release(&got);

    /* Update: new externalId (NULL), fewer emails, soft delete. */
    r.external_id = NULL;
    r.emails = emails + 2;
    r.n_emails = 1;
    r.deleted = true;
    r.active = false;
    r.version = 4;
    r.doc = "{}";
    str_copy(r.updated_at, sizeof(r.updated_at), "2024-01-03T00:00:00.000Z");
    cr_assert_eq(store_idp_user_update(tx, &r), OK);
    cr_assert_eq(store_idp_user_get(tx, "t1", "i1", "u1", &got), OK, "deleted rows are found");
    cr_assert_null(got.external_id);
    cr_assert(got.deleted);
    cr_assert(!got.active);
    cr_assert_eq(got.version, 4);
    cr_assert_str_eq(got.created_at, "2024-01-01T00:00:00.000Z");
    cr_assert_str_eq(got.updated_at, "2024-01-03T00:00:00.000Z");
    store_idp_user_release(&got);
    cr_assert_eq(store_idp_user_by_user_name(tx, "t1", "i1", "alice@example.com", &got),
                 ERR_NOT_FOUND, "only live rows hold a userName");

    str_copy(r.user_id, sizeof(r.user_id), "u9");
    cr_assert_eq(store_idp_user_update(tx, &r), ERR_NOT_FOUND);
    commit(tx);
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM idp_user_emails WHERE tenant_id = 't1' AND "
                           "idp_id = 'i1' AND user_id = 'u1' AND value_lc = 'a2@example.org'"),
                 1, "the update rewrote the index");
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM idp_user_emails"), 1);
}

Test(store, deleted_row_keeps_its_external_id)
{
    seed_basic();
    struct store_tx *tx = begin(true);
    cr_assert_eq(add_user(tx, "t1", "u1", "a", NULL, ""), OK);
    cr_assert_eq(add_user(tx, "t1", "u2", "b", NULL, ""), OK);
    cr_assert_eq(add_row(tx, "t1", "i1", "u1", "ext", "a", true), OK);
    struct store_idp_user got;
    cr_assert_eq(store_idp_user_by_external_id(tx, "t1", "i1", "ext", &got), OK,
                 "a deleted row is still found by externalId (merge key)");
    store_idp_user_release(&got);
    cr_assert_eq(add_row(tx, "t1", "i1", "u2", "ext", "b", false), ERR_UNIQUENESS);
    commit(tx);
}

Test(store, uniqueness_per_connection)
{
    seed_basic();
    struct store_tx *tx = begin(true);
    for (int i = 1; i <= 6; i++) {
        char id[8];
        snprintf(id, sizeof(id), "u%d", i % 10);
        cr_assert_eq(add_user(tx, i == 6 ? "t2" : "t1", id, NULL, NULL, ""), OK);
    }
    cr_assert_eq(add_row(tx, "t1", "i1", "u1", "ext-1", "Alice", false), OK);
    /* externalId: unique per IdP, case-exact. */
    cr_assert_eq(add_row(tx, "t1", "i1", "u2", "ext-1", "bob", false), ERR_UNIQUENESS);
    cr_assert_eq(add_row(tx, "t1", "i1", "u2", "EXT-1", "bob", false), OK);
    cr_assert_eq(add_row(tx, "t1", "i2", "u3", "ext-1", "carol", false), OK, "another IdP");
    /* userName: unique per IdP among live rows, case-insensitively. */
    cr_assert_eq(add_row(tx, "t1", "i1", "u3", NULL, "ALICE", false), ERR_UNIQUENESS);
    cr_assert_eq(add_row(tx, "t1", "i1", "u3", NULL, "alice", false), ERR_UNIQUENESS);
    cr_assert_eq(add_row(tx, "t1", "i2", "u1", NULL, "alice", false), OK, "another IdP");
    cr_assert_eq(add_row(tx, "t2", "i3", "u6", NULL, "alice", false), OK, "another tenant");
    /* The same user twice on one IdP. */
    cr_assert_eq(add_row(tx, "t1", "i1", "u1", NULL, "zed", false), ERR_UNIQUENESS);
    /* NULL externalIds never collide. */
    cr_assert_eq(add_row(tx, "t1", "i1", "u4", NULL, "dave", false), OK);
    cr_assert_eq(add_row(tx, "t1", "i1", "u5", NULL, "erin", false), OK);

    /* Once the old row is deleted its userName is free again. */
    struct store_idp_user r;
    cr_assert_eq(store_idp_user_get(tx, "t1", "i1", "u1", &r), OK);
    r.deleted = true;
    cr_assert_eq(store_idp_user_update(tx, &r), OK);
    store_idp_user_release(&r);
    cr_assert_eq(add_row(tx, "t1", "i1", "u3", NULL, "aLiCe", false), OK);
    /* ... but reviving the deleted row now collides. */
    cr_assert_eq(store_idp_user_get(tx, "t1", "i1", "u1", &r), OK);
    r.deleted = false;
    cr_assert_eq(store_idp_user_update(tx, &r), ERR_UNIQUENESS);
    store_idp_user_release(&r);
    /* An update that takes another row's userName or externalId. */
    cr_assert_eq(store_idp_user_get(tx, "t1", "i1", "u4", &r), OK);
    free(r.user_name);
    r.user_name = str_dup("ERIN");
    cr_assert_eq(store_idp_user_update(tx, &r), ERR_UNIQUENESS);
    free(r.user_name);
    r.user_name = str_dup("dave");
    free(r.external_id);
    r.external_id = str_dup("EXT-1");
    cr_assert_eq(store_idp_user_update(tx, &r), ERR_UNIQUENESS);
    store_idp_user_release(&r);
    commit(tx);
}

struct row_list {
    char ids[64][STORE_ID_LEN];
    size_t n;
};

static enum status collect_row(void *ctx, const struct store_idp_user *r)
{
    struct row_list *l = ctx;
    cr_assert_lt(l->n, 64);
    str_copy(l->ids[l->n++], STORE_ID_LEN, r->idp_id);
    return OK;
}

Test(store, idp_user_each_of_user)
{
    seed_basic();
    struct store_tx *tx = begin(true);
    cr_assert_eq(add_user(tx, "t1", "u1", "a", NULL, ""), OK);
    cr_assert_eq(add_user(tx, "t1", "u2", "b", NULL, ""), OK);
    cr_assert_eq(add_row(tx, "t1", "i2", "u1", NULL, "a", false), OK);
    cr_assert_eq(add_row(tx, "t1", "i1", "u1", NULL, "a", true), OK);
    cr_assert_eq(add_row(tx, "t1", "i1", "u2", NULL, "b", false), OK);
    commit(tx);
    tx = begin(false);
    struct row_list l = { 0 };
    cr_assert_eq(store_idp_user_each_of_user(tx, "t1", "u1", collect_row, &l), OK);
    cr_assert_eq(l.n, 2);
    memset(&l, 0, sizeof(l));
    cr_assert_eq(store_idp_user_each_of_user(tx, "t2", "u1", collect_row, &l), OK);
    cr_assert_eq(l.n, 0);
    commit(tx);
}

/* A callback that re-enters the same query on the same transaction. */
struct reenter {
    struct store_tx *tx;
    int depth;
    int calls;
};

static enum status reenter_row(void *ctx, const struct store_idp_user *r)
{
    struct reenter *re = ctx;
    re->calls++;
    if (re->depth > 0)
        return OK;
    re->depth++;
    enum status rc = store_idp_user_each_of_user(re->tx, r->tenant_id, r->user_id, reenter_row, re);
    re->depth--;
    return rc;
}

Test(store, callbacks_may_reenter_the_same_query)
{
    seed_basic();
    struct store_tx *tx = begin(true);
    cr_assert_eq(add_user(tx, "t1", "u1", "a", NULL, ""), OK);
    cr_assert_eq(add_row(tx, "t1", "i1", "u1", NULL, "a", false), OK);
    cr_assert_eq(add_row(tx, "t1", "i2", "u1", NULL, "a", false), OK);
    struct reenter re = { tx, 0, 0 };
    cr_assert_eq(store_idp_user_each_of_user(tx, "t1", "u1", reenter_row, &re), OK);
    cr_assert_eq(re.calls, 2 + 2 * 2);
    commit(tx);
}

/* ---- events ------------------------------------------------------------------------- */

struct event_list {
    int64_t seq[256];
    char types[256][32];
    size_t n;
};

static enum status collect_event(void *ctx, const struct store_event *e)
{
    struct event_list *l = ctx;
    cr_assert_lt(l->n, 256);
    l->seq[l->n] = e->seq;
    str_copy(l->types[l->n], sizeof(l->types[0]), e->type);
    l->n++;
    return OK;
}

static int64_t append(struct store_tx *tx, const char *tenant, const char *idp, const char *type)
{
    struct store_event e = { 0 };
    e.tenant_id = tenant;
    e.idp_id = idp;
    e.type = type;
    e.actor = "cli";
    cr_assert_eq(store_event_append(tx, &e), OK);
    return e.seq;
}

Test(store, event_append_fills_id_at_seq)
{
    struct store_tx *tx = begin(true);
    struct store_event e = { 0 };
    e.tenant_id = "t1";
    e.idp_id = "i1";
    e.type = "scim_user_created";
    e.actor = "token:k1";
    e.subject_id = "u1";
    e.summary = "{\"userName\":\"x\"}";
    e.source = "10.0.0.1";
    cr_assert_eq(store_event_append(tx, &e), OK);
    cr_assert_gt(e.seq, 0);
    cr_assert_eq(strlen(e.id), 36);
    cr_assert_eq(strlen(e.at), 24);
    struct store_event f = { 0 };
    f.type = "token_created";
    cr_assert_eq(store_event_append(tx, &f), OK, "NULL tenant, actor etc.");
    cr_assert_eq(f.seq, e.seq + 1);
    cr_assert_str_neq(f.id, e.id);
    commit(tx);
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM events WHERE tenant_id IS NULL AND actor IS NULL "
                           "AND summary IS NULL AND type = 'token_created'"),
                 1);
}

static const struct store_event *last_event;
static char last_summary[64];

static enum status keep_event(void *ctx, const struct store_event *e)
{
    (void)ctx;
    last_event = e;
    str_copy(last_summary, sizeof(last_summary), e->summary ? e->summary : "(null)");
    cr_assert_str_eq(e->tenant_id, "t1");
    cr_assert_str_eq(e->idp_id, "i1");
    cr_assert_str_eq(e->type, "scim_user_created");
    cr_assert_str_eq(e->actor, "token:k1");
    cr_assert_str_eq(e->subject_id, "u1");
    cr_assert_str_eq(e->source, "10.0.0.1");
    cr_assert_eq(strlen(e->id), 36);
    return OK;
}

Test(store, event_round_trip)
{
    struct store_tx *tx = begin(true);
    struct store_event e = { 0 };
    e.tenant_id = "t1";
    e.idp_id = "i1";
    e.type = "scim_user_created";
    e.actor = "token:k1";
    e.subject_id = "u1";
    e.summary = "{\"userName\":\"x\"}";
    e.source = "10.0.0.1";
    cr_assert_eq(store_event_append(tx, &e), OK);
    struct store_event_query q = { 0 };
    cr_assert_eq(store_event_each(tx, &q, keep_event, NULL), OK);
    cr_assert_not_null(last_event);
    cr_assert_str_eq(last_summary, "{\"userName\":\"x\"}");
    commit(tx);
}

Test(store, event_each_order_limit_filters)
{
    struct store_tx *tx = begin(true);
    int64_t first = 0;
    for (int i = 0; i < 120; i++) {
        const char *tenant = i % 3 == 0 ? "t1" : (i % 3 == 1 ? "t2" : NULL);
        const char *idp = i % 2 == 0 ? "i1" : "i2";
        const char *type = i % 5 == 0 ? "scim_user_deleted" : "scim_user_updated";
        int64_t seq = append(tx, tenant, idp, type);
        if (i == 0)
            first = seq;
    }
    commit(tx);

    tx = begin(false);
    struct event_list l = { 0 };
    struct store_event_query q = { 0 };
    cr_assert_eq(store_event_each(tx, &q, collect_event, &l), OK);
    cr_assert_eq(l.n, 100, "limit 0 means 100");
    cr_assert_eq(l.seq[0], first + 20, "the most recent 100");
    for (size_t i = 1; i < l.n; i++)
        cr_assert_eq(l.seq[i], l.seq[i - 1] + 1, "oldest first");

    memset(&l, 0, sizeof(l));
    q.limit = 5;
    cr_assert_eq(store_event_each(tx, &q, collect_event, &l), OK);
    cr_assert_eq(l.n, 5);
    cr_assert_eq(l.seq[0], first + 115);
    cr_assert_eq(l.seq[4], first + 119);

    memset(&l, 0, sizeof(l));
    q.limit = 1000;
    q.after_seq = first + 109;
    cr_assert_eq(store_event_each(tx, &q, collect_event, &l), OK);
    cr_assert_eq(l.n, 10);
    cr_assert_eq(l.seq[0], first + 110);

    memset(&l, 0, sizeof(l));
    q.after_seq = 0;
    q.tenant_id = "t1";
    cr_assert_eq(store_event_each(tx, &q, collect_event, &l), OK);
    cr_assert_eq(l.n, 40);
    for (size_t i = 0; i < l.n; i++)
        cr_assert_eq((l.seq[i] - first) % 3, 0);

    memset(&l, 0, sizeof(l));
    q.tenant_id = "t1";
    q.idp_id = "i2";
    cr_assert_eq(store_event_each(tx, &q, collect_event, &l), OK);
    cr_assert_eq(l.n, 20);
    for (size_t i = 0; i < l.n; i++)
        cr_assert_eq((l.seq[i] - first) % 6, 3);

    memset(&l, 0, sizeof(l));
    q.tenant_id = NULL;
    q.idp_id = NULL;
    q.type = "scim_user_deleted";
    q.limit = 3;
    cr_assert_eq(store_event_each(tx, &q, collect_event, &l), OK);
    cr_assert_eq(l.n, 3);
    cr_assert_eq(l.seq[0], first + 105);
    cr_assert_eq(l.seq[2], first + 115);
    cr_assert_str_eq(l.types[0], "scim_user_deleted");

    memset(&l, 0, sizeof(l));
    q.type = "nothing";
    cr_assert_eq(store_event_each(tx, &q, collect_event, &l), OK);
    cr_assert_eq(l.n, 0);
    commit(tx);
}

Test(store, events_are_rolled_back_with_the_change)
{
    struct store_tx *tx = begin(true);
    append(tx, "t1", "i1", "scim_user_created");
    store_rollback(tx);
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM events"), 0);
}

/* ---- search ------------------------------------------------------------------------- */

#define BASE "2024-01-01T"

struct fixture_row {
    const char *id;
    const char *user_name;
    const char *external_id;
    const char *emails[3]; /* values; "-" for an element with a type but no value */
    bool active;
    const char *created; /* time of day */
    const char *updated;
    const char *given;
};

/* clang-format off */
static const struct fixture_row fixture[] = {
    { "u01", "alice",             "ext-1",  { "alice@example.com", "Alice.Home@Example.org", NULL }, true,  "00:01:00.000Z", "00:40:00.000Z", "Alice" },
    { "u02", "Bob",               "ext-2",  { "bob@example.org", NULL, NULL },                       true,  "00:02:00.000Z", "00:05:00.000Z", "Bob" },
    { "u03", "carol@example.com", "ext-3",  { "carol@example.com", NULL, NULL },                     false, "00:03:00.000Z", "00:30:00.500Z", "Carol" },
    { "u04", "dave",              NULL,     { NULL, NULL, NULL },                                    true,  "00:04:00.000Z", "00:04:00.000Z", "Dave" },
    { "u05", "Erin",              "EXT-5",  { "erin@example.com", "-", NULL },                       false, "00:05:00.000Z", "01:00:00.000Z", NULL },
    { "u06", "frank_1",           "ext-6",  { "frank@example.net", NULL, NULL },                     true,  "00:06:00.000Z", "00:06:00.001Z", "Frank" },
    { "u07", "frankx1",           "",       { "FRANKX@EXAMPLE.NET", NULL, NULL },                    true,  "00:07:00.000Z", "00:20:00.000Z", "Frank" },
    { "u08", "100%real",          "ext-8",  { "real%100@example.com", NULL, NULL },                  true,  "00:08:00.000Z", "00:08:00.000Z", "Real" },
    { "u09", "back\\slash",       "ext-9",  { "back\\slash@example.com", NULL, NULL },               false, "00:09:00.000Z", "00:50:00.000Z", "Back" },
    { "u10", "Zo\xc3\xab",        "ext-10", { "zoe@example.com", NULL, NULL },                       true,  "00:10:00.000Z", "00:10:00.000Z", "Zo\xc3\xab" },
    { "u11", "ALICE.SMITH",       "ext-11", { "alice.smith@example.com", "asmith@example.org", "" }, true,  "00:11:00.000Z", "00:15:00.000Z", "Alice" },
    { "u12", "mallory",           "ext-12", { "-", NULL, NULL },                                     false, "00:12:00.000Z", "00:12:00.000Z", "Mallory" },
    { "u13", "Oscar@Example.COM", "ext-13", { "oscar@example.com", NULL, NULL },                     true,  "00:13:00.000Z", "00:13:00.000Z", "Oscar" },
    { "u14", "peggy",             NULL,     { "peggy@example.org", NULL, NULL },                     true,  "00:14:00.000Z", "00:35:00.000Z", "Peggy" },
    { "u15", "trent",             "ext-15", { "trent@example.com", "trent@example.com", NULL },      true,  "00:15:00.000Z", "00:15:00.000Z", "Trent" },
    { "u16", "victor",            "ext-16", { "victor@sub.example.com", NULL, NULL },                false, "00:16:00.000Z", "00:45:00.000Z", "Victor" },
    { "u17", "walter",            "ext-17", { NULL, NULL, NULL },                                    true,  "00:17:00.000Z", "00:17:00.000Z", "Walter" },
    { "u18", "a",                 "ext-18", { "a@example.com", NULL, NULL },                         true,  "00:18:00.000Z", "00:18:00.000Z", "A" },
    { "u19", "Aa",                "ext-19", { "aa@example.com", NULL, NULL },                        false, "00:19:00.000Z", "00:19:00.000Z", "Aa" },
    { "u20", "yvonne",            "ext-20", { "yvonne@example.com", NULL, NULL },                    true,  "00:20:00.000Z", "00:20:00.000Z", "Yvonne" },
    { "u21", "sybil",             "EXT-21", { "sybil@example.com", NULL, NULL },                     true,  "00:21:00.000Z", "00:21:00.000Z", "Sybil" },
    { "u22", "grace",             "ext-22", { "grace@example.com", NULL, NULL },                     true,  "00:22:00.000Z", "00:22:00.000Z", "Grace" },
    { "u23", "heidi",             "ext-23", { "heidi@example.com", NULL, NULL },                     true,  "00:23:00.000Z", "00:23:00.000Z", "Heidi" },
    { "u24", "ivan",              "ext-24", { "ivan@example.com", NULL, NULL },                      false, "00:24:00.000Z", "00:24:00.000Z", "Ivan" },
    { "u25", "judy",              "ext-25", { "judy@example.com", NULL, NULL },                      true,  "00:25:00.000Z", "00:25:00.000Z", "Judy" },
    { "u26", "ken",               "ext-26", { "ken@example.com", NULL, NULL },                       true,  "00:26:00.000Z", "00:26:00.000Z", "Ken" },
    { "u27", "laura",             "ext-27", { "laura@example.com", NULL, NULL },                     true,  "00:27:00.000Z", "00:27:00.000Z", "Laura" },
    { "u28", "mike",              "ext-28", { "mike@example.com", NULL, NULL },                      true,  "00:28:00.000Z", "00:28:00.000Z", "Mike" },
    { "u29", "nina",              "ext-29", { "nina@example.com", NULL, NULL },                      true,  "00:29:00.000Z", "00:29:00.000Z", "Nina" },
    { "u30", "olga",              "ext-30", { "olga@example.com", NULL, NULL },                      true,  "00:30:00.000Z", "00:30:00.000Z", "Olga" },
};
/* clang-format on */
#define N_FIXTURE (sizeof(fixture) / sizeof(fixture[0]))

static json_t *fixture_doc(const struct fixture_row *f)
{
    json_t *doc = json_object();
    json_object_set_new(doc, "schemas", json_pack("[s]", SCIM_SCHEMA_USER));
    json_object_set_new(doc, "id", json_string(f->id));
    if (f->external_id)
        json_object_set_new(doc, "externalId", json_string(f->external_id));
    json_object_set_new(doc, "userName", json_string(f->user_name));
    if (f->given)
        json_object_set_new(doc, "name", json_pack("{ss}", "givenName", f->given));
    json_t *emails = json_array();
    for (int i = 0; i < 3 && f->emails[i]; i++) {
        json_t *e = json_pack("{ss}", "type", i == 0 ? "work" : "home");
        if (strcmp(f->emails[i], "-") != 0)
            json_object_set_new(e, "value", json_string(f->emails[i]));
        json_array_append_new(emails, e);
    }
    if (json_array_size(emails) > 0)
        json_object_set_new(doc, "emails", emails);
    else
        json_decref(emails);
    json_object_set_new(doc, "active", json_boolean(f->active));
    char created[STORE_TIME_LEN], updated[STORE_TIME_LEN];
    snprintf(created, sizeof(created), BASE "%s", f->created);
    snprintf(updated, sizeof(updated), BASE "%s", f->updated);
    json_object_set_new(
        doc, "meta",
        json_pack("{ssssss}", "resourceType", "User", "created", created, "lastModified", updated));
    return doc;
}

static void insert_fixture_row(struct store_tx *tx, const char *tenant, const char *idp,
                               const struct fixture_row *f, const char *id, bool deleted)
{
    struct store_user u = { 0 };
    str_copy(u.tenant_id, sizeof(u.tenant_id), tenant);
    str_copy(u.id, sizeof(u.id), id);
    str_copy(u.status, sizeof(u.status), "active");
    struct store_user existing;
    if (store_user_get(tx, tenant, id, &existing) == OK)
        store_user_release(&existing);
    else
        cr_assert_eq(store_user_insert(tx, &u), OK);

    json_t *doc = fixture_doc(f);
    json_object_set_new(doc, "id", json_string(id));
    struct store_idp_user r = { 0 };
    str_copy(r.tenant_id, sizeof(r.tenant_id), tenant);
    str_copy(r.idp_id, sizeof(r.idp_id), idp);
    str_copy(r.user_id, sizeof(r.user_id), id);
    r.external_id = (char *)f->external_id;
    r.user_name = (char *)f->user_name;
    char *emails[3];
    for (int i = 0; i < 3 && f->emails[i]; i++) {
        if (strcmp(f->emails[i], "-") != 0)
            emails[r.n_emails++] = (char *)f->emails[i];
    }
    r.emails = emails;
    r.active = f->active;
    r.deleted = deleted;
    r.version = 1;
    r.doc = json_dumps(doc, JSON_COMPACT);
    snprintf(r.created_at, sizeof(r.created_at), BASE "%s", f->created);
    snprintf(r.updated_at, sizeof(r.updated_at), BASE "%s", f->updated);
    cr_assert_eq(store_idp_user_insert(tx, &r), OK, "row %s on %s", id, idp);
    free(r.doc);
    json_decref(doc);
}

/*
 * IdP i1 of tenant t1 holds every fixture row; it also holds deleted copies of
 * a few rows under other ids, and IdP i2 and tenant t2 hold copies, all of
 * which a search of i1 must never return.
 */
static void seed_search(void)
{
    seed_basic();
    struct store_tx *tx = begin(true);
    for (size_t i = 0; i < N_FIXTURE; i++) {
        insert_fixture_row(tx, "t1", "i1", &fixture[i], fixture[i].id, false);
        insert_fixture_row(tx, "t1", "i2", &fixture[i], fixture[i].id, false);
        insert_fixture_row(tx, "t2", "i3", &fixture[i], fixture[i].id, false);
    }
    static const size_t dead[] = { 0, 1, 3, 9 };
    for (size_t i = 0; i < sizeof(dead) / sizeof(dead[0]); i++) {
        char id[16];
        snprintf(id, sizeof(id), "x%02zu", dead[i]);
        struct fixture_row f = fixture[dead[i]];
        f.external_id = NULL; /* externalIds stay unique even among deleted rows */
        insert_fixture_row(tx, "t1", "i1", &f, id, true);
    }
    commit(tx);
}

struct found {
    char ids[N_FIXTURE + 8][STORE_ID_LEN];
    char *docs[N_FIXTURE + 8];
    size_t n;
};

static enum status collect_found(void *ctx, const struct store_idp_user *r)
{
    struct found *f = ctx;
    cr_assert_lt(f->n, N_FIXTURE + 8);
    cr_assert_null(r->emails);
    cr_assert_eq(r->n_emails, 0);
    cr_assert_not_null(r->doc);
    cr_assert(!r->deleted);
    cr_assert_str_eq(r->tenant_id, "t1");
    cr_assert_str_eq(r->idp_id, "i1");
    str_copy(f->ids[f->n], STORE_ID_LEN, r->user_id);
    f->docs[f->n] = str_dup(r->doc);
    f->n++;
    return OK;
}

static void found_release(struct found *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->docs[i]);
    f->n = 0;
}

static bool found_has(const struct found *f, const char *id)
{
    for (size_t i = 0; i < f->n; i++) {
        if (strcmp(f->ids[i], id) == 0)
            return true;
    }
    return false;
}

static struct scim_filter *filter_of(const char *text)
{
    struct scim_filter *f = NULL;
    struct scim_error err = { 0 };
    cr_assert_eq(scim_filter_parse(text, &f, &err), OK, "parse %s: %s", text, err.detail);
    cr_assert_eq(scim_filter_bind(f, &scim_resource_user, &err), OK, "bind %s: %s", text,
                 err.detail);
    return f;
}

struct search_case {
    const char *filter;
    bool exact;
};

/* clang-format off */
static const struct search_case search_cases[] = {
    /* userName: case-insensitive, on user_name_lc */
    { "userName eq \"alice\"", true },
    { "userName eq \"ALICE\"", true },
    { "USERNAME Eq \"Bob\"", true },
    { "userName ne \"alice\"", true },
    { "userName co \"LI\"", true },
    { "userName sw \"a\"", true },
    { "userName ew \"@EXAMPLE.com\"", true },
    { "userName gt \"m\"", true },
    { "userName ge \"Mallory\"", true },
    { "userName lt \"B\"", true },
    { "userName le \"carol@example.com\"", true },
    { "userName pr", true },
    { "userName co \"%\"", true },
    { "userName co \"_\"", true },
    { "userName sw \"frank_\"", true },
    { "userName sw \"Oscar@\"", true },
    { "userName sw \"Zo\xc3\xab\"", true },
    { "userName sw \"back\\\\\"", true },
    { "userName sw \"ALICE.\"", true },
    { "userName sw \"\"", true },
    { "emails.value sw \"alice.\"", true },
    { "emails[value sw \"TRENT@\"]", true },
    { "userName co \"\\\\\"", true },
    { "userName eq \"zo\xc3\xab\"", true },
    { "userName co \"\xc3\x8b\"", true },
    { "userName eq \"nobody\"", true },
    { "urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"dave\"", true },
    { "userName eq null", false },
    { "userName ne null", false },
    /* externalId: case-exact, may be absent */
    { "externalId eq \"ext-1\"", true },
    { "externalId eq \"EXT-5\"", true },
    { "externalId eq \"ext-5\"", true },
    { "externalId ne \"ext-1\"", true },
    { "externalId pr", true },
    { "not (externalId pr)", true },
    { "externalId sw \"ext-1\"", true },
    { "externalId sw \"\"", true },
    { "externalId ew \"-2\"", true },
    { "externalId ew \"\"", true },
    { "externalId co \"T-\"", true },
    { "externalId co \"\"", true },
    { "externalId gt \"ext-5\"", true },
    { "externalId le \"EXT-5\"", true },
    { "externalId eq \"\"", true },
    { "externalId eq null", false },
    /* id */
    { "id eq \"u03\"", true },
    { "id sw \"u0\"", true },
    { "id ne \"u03\"", true },
    { "id ew \"5\"", true },
    { "id co \"2\"", true },
    { "id lt \"u10\"", true },
    { "id eq \"U03\"", true },
    /* active */
    { "active eq true", true },
    { "active eq false", true },
    { "active eq \"False\"", true },
    { "active ne true", true },
    { "active pr", true },
    /* emails.value: case-insensitive, any element */
    { "emails.value eq \"alice@example.com\"", true },
    { "emails.value eq \"ALICE.HOME@example.org\"", true },
    { "emails.value co \"example.org\"", true },
    { "emails.value sw \"A\"", true },
    { "emails.value ew \".NET\"", true },
    { "emails.value co \"%\"", true },
    { "emails.value pr", true },
    { "not (emails.value pr)", true },
    { "emails eq \"bob@example.org\"", true },
    { "emails[value eq \"bob@example.org\"]", true },
    { "emails[value co \"example\" and value ew \".org\"]", true },
    { "emails[value sw \"alice\" or value sw \"bob\"]", true },
    { "emails[value pr]", true },
    { "emails[type eq \"work\" and value co \"example.org\"]", false },
    { "emails[type eq \"home\"]", false },
    { "emails[not (value eq \"alice@example.com\")]", false },
    { "emails.type eq \"work\"", false },
    { "emails.value ne \"alice@example.com\"", false },
    { "emails.value gt \"m\"", false },
    { "emails pr", false },
    /* meta */
    { "meta.created gt \"2024-01-01T00:10:00Z\"", true },
    { "meta.created ge \"2024-01-01T00:10:00.000Z\"", true },
    { "meta.created eq \"2024-01-01T00:05:00Z\"", true },
    { "meta.created lt \"2024-01-01T00:05:00.5Z\"", true },
    { "meta.lastModified lt \"2024-01-01T01:00:00+00:00\"", true },
    { "meta.lastModified le \"2024-01-01T00:30:00.5Z\"", true },
    { "meta.lastModified gt \"2024-01-01T00:06:00.00Z\"", true },
    { "meta.lastModified eq \"2024-01-01T00:06:00.001Z\"", true },
    { "meta.created gt \"2024-01-01T00:10:00+01:00\"", false },
    { "meta.created gt \"2024-01-01T00:10:00.1234Z\"", false },
    { "meta.created gt \"2024-01-01\"", false },
    { "meta.created ne \"2024-01-01T00:05:00Z\"", false },
    { "meta.created sw \"2024\"", false },
    /* combinations */
    { "userName sw \"a\" and active eq true", true },
    { "userName sw \"a\" or externalId pr", true },
    { "not (userName sw \"a\" or active eq false)", true },
    { "(userName eq \"alice\" or userName eq \"bob\") and (emails.value co \"example\" or externalId eq \"ext-3\")", true },
    { "emails[value sw \"ALICE\"] and not (active eq false)", true },
    { "userName sw \"a\" and name.givenName eq \"Alice\"", false },
    { "name.givenName eq \"Alice\" and userName sw \"a\"", false },
    { "userName sw \"a\" or name.givenName eq \"Alice\"", false },
    { "not (name.givenName pr)", false },
    { "not (userName sw \"a\" and name.givenName eq \"Alice\")", false },
    { "name.givenName eq \"Frank\" and (externalId eq \"ext-6\" or id eq \"u07\")", false },
    { "not (not (userName eq \"alice\"))", true },
    { "name.givenName eq \"Alice\"", false },
    { "displayName pr", false },
    { "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"1\"", false },
    { "urn:example:unknown:1.0:User:foo eq \"1\"", false },
};
/* clang-format on */

static void run_case(struct store_tx *tx, const struct search_case *c)
{
    struct scim_filter *f = filter_of(c->filter);

    /* Ground truth: the evaluator over every live row of i1. */
    bool expected[N_FIXTURE];
    size_t n_expected = 0;
    for (size_t i = 0; i < N_FIXTURE; i++) {
        json_t *doc = fixture_doc(&fixture[i]);
        expected[i] = scim_filter_match(f, doc);
        n_expected += expected[i];
        json_decref(doc);
    }

    struct found got = { 0 };
    struct store_search q = { .tenant_id = "t1",
                              .idp_id = "i1",
                              .filter = f,
                              .sort = STORE_SORT_NONE,
                              .descending = false,
                              .offset = 0,
                              .limit = 1000 };
    struct store_search_result res = { 0 };
    cr_assert_eq(store_idp_user_search(tx, &q, collect_found, &got, &res), OK, "%s", c->filter);
    cr_expect_eq(res.exact, c->exact, "exact for %s: got %d", c->filter, res.exact);
    for (size_t i = 1; i < got.n; i++)
        cr_expect_lt(strcmp(got.ids[i - 1], got.ids[i]), 0, "%s: ordered by id", c->filter);

    if (res.exact) {
        cr_expect_eq(res.total, n_expected, "%s: total %zu, want %zu", c->filter, res.total,
                     n_expected);
        cr_expect_eq(got.n, n_expected, "%s: rows %zu, want %zu", c->filter, got.n, n_expected);
        for (size_t i = 0; i < N_FIXTURE; i++)
            cr_expect_eq(found_has(&got, fixture[i].id), expected[i], "%s: row %s", c->filter,
                         fixture[i].id);
    } else {
        /* A superset: every match is delivered, and filtering it gives the truth. */
        size_t n_matching = 0;
        for (size_t i = 0; i < got.n; i++) {
            json_t *doc = json_loads(got.docs[i], 0, NULL);
            cr_assert_not_null(doc);
            n_matching += scim_filter_match(f, doc);
            json_decref(doc);
        }
        cr_expect_eq(n_matching, n_expected, "%s", c->filter);
        for (size_t i = 0; i < N_FIXTURE; i++) {
            if (expected[i])
                cr_expect(found_has(&got, fixture[i].id), "%s: missing %s", c->filter,
                          fixture[i].id);
        }
    }
    found_release(&got);
    scim_filter_free(f);
}

Test(store, search_agrees_with_the_evaluator)
{
    seed_search();
    cr_assert_geq(sizeof(search_cases) / sizeof(search_cases[0]), 40);
    struct store_tx *tx = begin(false);
    /* Twice: the second round runs on cached statements. */
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < sizeof(search_cases) / sizeof(search_cases[0]); i++)
            run_case(tx, &search_cases[i]);
    }
    commit(tx);
}

Test(store, search_without_filter_and_scoping)
{
    seed_search();
    struct store_tx *tx = begin(false);
    struct found got = { 0 };
    struct store_search q = { .tenant_id = "t1",
                              .idp_id = "i1",
                              .filter = NULL,
                              .sort = STORE_SORT_NONE,
                              .descending = false,
                              .offset = 0,
                              .limit = 1000 };
    struct store_search_result res = { 0 };
    cr_assert_eq(store_idp_user_search(tx, &q, collect_found, &got, &res), OK);
    cr_assert(res.exact);
    cr_assert_eq(res.total, N_FIXTURE, "deleted rows, other IdPs and tenants excluded");
    cr_assert_eq(got.n, N_FIXTURE);
    found_release(&got);

    q.idp_id = "i3"; /* an IdP of another tenant */
    cr_assert_eq(store_idp_user_search(tx, &q, collect_found, &got, &res), OK);
    cr_assert_eq(res.total, 0);
    cr_assert_eq(got.n, 0);
    commit(tx);
}

Test(store, search_pagination)
{
    seed_search();
    struct store_tx *tx = begin(false);
    struct scim_filter *f = filter_of("id sw \"u\"");
    struct found all = { 0 };
    struct store_search q = { .tenant_id = "t1",
                              .idp_id = "i1",
                              .filter = f,
                              .sort = STORE_SORT_ID,
                              .descending = false,
                              .offset = 0,
                              .limit = 1000 };
    struct store_search_result res = { 0 };
    cr_assert_eq(store_idp_user_search(tx, &q, collect_found, &all, &res), OK);
    cr_assert_eq(all.n, N_FIXTURE);

    /* clang-format off */
    static const struct { size_t offset, limit, want; } pages[] = {
        { 0, 10, 10 }, { 10, 10, 10 }, { 25, 10, 5 }, { 29, 10, 1 }, { 30, 10, 0 },
        { 1000, 10, 0 }, { 0, 1, 1 }, { 5, 0, 0 }, { 0, 0, 0 }, { 3, 1000, 27 },
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
        struct found page = { 0 };
        q.offset = pages[i].offset;
        q.limit = pages[i].limit;
        cr_assert_eq(store_idp_user_search(tx, &q, collect_found, &page, &res), OK);
        cr_expect(res.exact);
        cr_expect_eq(res.total, N_FIXTURE, "page %zu: total", i);
        cr_expect_eq(page.n, pages[i].want, "page %zu: %zu rows", i, page.n);
        for (size_t k = 0; k < page.n; k++)
            cr_expect_str_eq(page.ids[k], all.ids[pages[i].offset + k], "page %zu", i);
        found_release(&page);
    }
    found_release(&all);

    /* Inexact: offset and limit are the caller's job; every candidate comes back. */
    scim_filter_free(f);
    f = filter_of("name.givenName eq \"Frank\"");
    q.filter = f;
    q.offset = 5;
    q.limit = 2;
    struct found cand = { 0 };
    cr_assert_eq(store_idp_user_search(tx, &q, collect_found, &cand, &res), OK);
    cr_assert(!res.exact);
    cr_assert_eq(cand.n, N_FIXTURE);
    found_release(&cand);
    scim_filter_free(f);
    commit(tx);
}

static enum status stop_search(void *ctx, const struct store_idp_user *r)
{
    (void)r;
    (*(int *)ctx)++;
    return ERR_TOO_MANY;
}

Test(store, search_callback_status_stops)
{
    seed_search();
    struct store_tx *tx = begin(false);
    int calls = 0;
    struct store_search q = { .tenant_id = "t1",
                              .idp_id = "i1",
                              .filter = NULL,
                              .sort = STORE_SORT_NONE,
                              .descending = false,
                              .offset = 0,
                              .limit = 100 };
    struct store_search_result res = { 0 };
    cr_assert_eq(store_idp_user_search(tx, &q, stop_search, &calls, &res), ERR_TOO_MANY);
    cr_assert_eq(calls, 1);
    commit(tx);
}

/* Expected order of the fixture for a sort, by the rule the store documents. */
static enum store_sort sort_key;

static int lower_cmp(const char *a, const char *b)
{
    char *la = sqlgen_key_dup(a), *lb = sqlgen_key_dup(b);
    int c = strcmp(la, lb);
    free(la);
    free(lb);
    return c;
}

static int fixture_cmp(const void *pa, const void *pb)
{
    const struct fixture_row *a = *(const struct fixture_row *const *)pa;
    const struct fixture_row *b = *(const struct fixture_row *const *)pb;
    int c = 0;
    switch (sort_key) {
    case STORE_SORT_USER_NAME:
        c = lower_cmp(a->user_name, b->user_name);
        break;
    case STORE_SORT_EXTERNAL_ID:
        if ((a->external_id == NULL) != (b->external_id == NULL))
            c = a->external_id == NULL ? 1 : -1; /* absent last */
        else if (a->external_id != NULL)
            c = strcmp(a->external_id, b->external_id);
        break;
    case STORE_SORT_CREATED:
        c = strcmp(a->created, b->created);
        break;
    case STORE_SORT_LAST_MODIFIED:
        c = strcmp(a->updated, b->updated);
        break;
    default:
        break;
    }
    return c != 0 ? c : strcmp(a->id, b->id);
}

Test(store, search_sort_orders)
{
    seed_search();
    struct store_tx *tx = begin(false);
    static const enum store_sort sorts[] = { STORE_SORT_NONE,        STORE_SORT_USER_NAME,
                                             STORE_SORT_EXTERNAL_ID, STORE_SORT_ID,
                                             STORE_SORT_CREATED,     STORE_SORT_LAST_MODIFIED };
    for (size_t s = 0; s < sizeof(sorts) / sizeof(sorts[0]); s++) {
        sort_key = sorts[s];
        const struct fixture_row *want[N_FIXTURE];
        for (size_t i = 0; i < N_FIXTURE; i++)
            want[i] = &fixture[i];
        qsort(want, N_FIXTURE, sizeof(want[0]), fixture_cmp);
        for (int desc = 0; desc < 2; desc++) {
            struct found got = { 0 };
            struct store_search q = { .tenant_id = "t1",
                                      .idp_id = "i1",
                                      .filter = NULL,
                                      .sort = sorts[s],
                                      .descending = desc,
                                      .offset = 0,
                                      .limit = 1000 };
            struct store_search_result res = { 0 };
            cr_assert_eq(store_idp_user_search(tx, &q, collect_found, &got, &res), OK);
            cr_assert_eq(got.n, N_FIXTURE);
            /* Descending is the exact reverse, except that a missing externalId
             * stays last. */
            const struct fixture_row *order[N_FIXTURE];
            size_t n_order = 0;
            for (size_t i = 0; i < N_FIXTURE; i++) {
                const struct fixture_row *w = want[desc ? N_FIXTURE - 1 - i : i];
                if (!(desc && sorts[s] == STORE_SORT_EXTERNAL_ID && w->external_id == NULL))
                    order[n_order++] = w;
            }
            for (size_t i = 0; i < N_FIXTURE && n_order < N_FIXTURE; i++) {
                const struct fixture_row *w = want[N_FIXTURE - 1 - i];
                if (w->external_id == NULL)
                    order[n_order++] = w; /* still tie-broken by id, descending */
            }
            for (size_t i = 0; i < N_FIXTURE; i++) {
                const struct fixture_row *w = order[i];
                cr_expect_str_eq(got.ids[i], w->id, "sort %d desc %d position %zu", sorts[s], desc,
                                 i);
            }
            found_release(&got);
        }
    }
    /* Sorting and paging an inexact result's candidates is still in order. */
    struct scim_filter *f = filter_of("userName sw \"a\" and name.givenName eq \"Alice\"");
    struct found got = { 0 };
    struct store_search q = { .tenant_id = "t1",
                              .idp_id = "i1",
                              .filter = f,
                              .sort = STORE_SORT_USER_NAME,
                              .descending = true,
                              .offset = 0,
                              .limit = 1 };
    struct store_search_result res = { 0 };
    cr_assert_eq(store_idp_user_search(tx, &q, collect_found, &got, &res), OK);
    cr_assert(!res.exact);
    cr_assert_eq(got.n, 4, "alice, ALICE.SMITH, a, Aa");
    cr_assert_str_eq(got.ids[0], "u11");
    cr_assert_str_eq(got.ids[3], "u18");
    found_release(&got);
    scim_filter_free(f);
    commit(tx);
}

/* ---- query plans -------------------------------------------------------------------- */

/* EXPLAIN QUERY PLAN of the statement g, details joined by newlines. */
static void query_plan(const struct sqlgen *g, char *out, size_t size)
{
    sqlite3 *db = raw_open();
    char *sql = NULL;
    cr_assert_geq(asprintf(&sql, "EXPLAIN QUERY PLAN %s", g->sql.data), 0);
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s",
                 sqlite3_errmsg(db), sql);
    for (size_t i = 0; i < g->n_params; i++) {
        const struct sqlgen_param *p = &g->params[i];
        if (p->kind == SQLGEN_PARAM_INT)
            sqlite3_bind_int64(st, (int)i + 1, p->num);
        else
            sqlite3_bind_text(st, (int)i + 1, p->text, -1, SQLITE_STATIC);
    }
    out[0] = '\0';
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%s\n",
                              (const char *)sqlite3_column_text(st, 3));
    }
    sqlite3_finalize(st);
    free(sql);
    sqlite3_close(db);
}

struct plan_case {
    const char *filter;
    const char *index; /* must appear as "USING ... INDEX <index>" */
};

/* clang-format off */
static const struct plan_case plan_cases[] = {
    { "userName eq \"Alice\"", "idp_users_user_name" },
    { "externalId eq \"00u1\"", "idp_users_external_id" },
    { "urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"bob\" and active eq true", "idp_users_user_name" },
    { "meta.lastModified gt \"2024-01-01T00:00:00Z\"", "idp_users_updated" },
    { "emails.value eq \"a@example.com\"", "sqlite_autoindex_idp_user_emails_1" },
    { "userName sw \"ali\"", "idp_users_user_name" },
    { "emails.value sw \"ali\"", "sqlite_autoindex_idp_user_emails_1 (tenant_id=? AND idp_id=? AND value_lc>? AND value_lc<?)" },
};
/* clang-format on */

Test(store, filters_on_indexed_attributes_are_index_probes)
{
    seed_search();
    /* Without statistics (a fresh database), then with them (as PRAGMA optimize leaves). */
    for (int analyzed = 0; analyzed < 2; analyzed++) {
        if (analyzed) {
            sqlite3 *db = raw_open();
            cr_assert_eq(sqlite3_exec(db, "ANALYZE", NULL, NULL, NULL), SQLITE_OK);
            sqlite3_close(db);
        }
        for (size_t i = 0; i < sizeof(plan_cases) / sizeof(plan_cases[0]); i++) {
            struct scim_filter *f = filter_of(plan_cases[i].filter);
            struct store_search q = { .tenant_id = "t1",
                                      .idp_id = "i1",
                                      .filter = f,
                                      .sort = STORE_SORT_NONE,
                                      .descending = false,
                                      .offset = 0,
                                      .limit = 10 };
            struct sqlgen count, rows;
            sqlgen_init(&count, &sqlgen_sqlite);
            sqlgen_init(&rows, &sqlgen_sqlite);
            bool exact = false;
            cr_assert_eq(sqlgen_user_search(&q, &count, &rows, &exact), OK);
            cr_assert(exact);
            const struct sqlgen *stmts[] = { &count, &rows };
            for (size_t k = 0; k < 2; k++) {
                char plan[2048];
                query_plan(stmts[k], plan, sizeof(plan));
                cr_expect_not_null(strstr(plan, plan_cases[i].index), "%s (%s, %s): plan\n%s",
                                   plan_cases[i].filter, k ? "rows" : "count",
                                   analyzed ? "analyzed" : "fresh", plan);
                cr_expect_null(strstr(plan, "SCAN idp_users"), "%s: plan\n%s", plan_cases[i].filter,
                               plan);
            }
            sqlgen_release(&count);
            sqlgen_release(&rows);
            scim_filter_free(f);
        }
    }
}

/* The SQL of the store's fixed lookups (mirrors the statements in sqlite.c). */
Test(store, lookups_are_index_probes)
{
    seed_basic();
    /* clang-format off */
    static const struct { const char *sql; const char *index; } cases[] = {
        { "SELECT * FROM tokens WHERE hash = 'x'", "tokens_hash" },
        { "SELECT * FROM idp_users WHERE tenant_id = 't' AND idp_id = 'i' AND user_name_lc = 'x' AND deleted = 0", "idp_users_user_name" },
        { "SELECT * FROM users WHERE (tenant_id = 't' AND email_lc = 'x') OR (tenant_id = 't' AND username_lc = 'x') OR (tenant_id = 't' AND username_lc = 'y') ORDER BY created_at, id LIMIT 1", "users_email" },
        { "SELECT * FROM idps WHERE id = 'x'", "idps_id" },
        { "SELECT * FROM users WHERE id = 'x'", "users_id" },
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sqlgen g;
        sqlgen_init(&g, &sqlgen_sqlite);
        sqlgen_sql(&g, cases[i].sql);
        char plan[2048];
        query_plan(&g, plan, sizeof(plan));
        cr_expect_not_null(strstr(plan, cases[i].index), "%s: plan\n%s", cases[i].sql, plan);
        cr_expect_null(strstr(plan, "SCAN"), "%s: plan\n%s", cases[i].sql, plan);
        sqlgen_release(&g);
    }
}

/* ---- concurrency -------------------------------------------------------------------- */

#define WRITER_THREADS    8
#define WRITES_PER_THREAD 40

struct writer {
    struct store *store;
    int n;
    int failures;
    enum status last;
};

static void *write_loop(void *arg)
{
    struct writer *w = arg;
    for (int i = 0; i < WRITES_PER_THREAD; i++) {
        struct store_tx *tx = NULL;
        enum status rc = store_begin(w->store, true, &tx);
        if (rc == OK) {
            char id[32];
            snprintf(id, sizeof(id), "w%d-%d-%p", w->n, i, (void *)w->store);
            struct store_user u = { 0 };
            str_copy(u.tenant_id, sizeof(u.tenant_id), "t1");
            str_copy(u.id, sizeof(u.id), id);
            u.username = id;
            str_copy(u.status, sizeof(u.status), "active");
            rc = store_user_insert(tx, &u);
            struct store_event e = { 0 };
            e.tenant_id = "t1";
            e.type = "scim_user_created";
            e.subject_id = id;
            if (rc == OK)
                rc = store_event_append(tx, &e);
            if (rc == OK) {
                rc = store_commit(tx);
            } else {
                store_rollback(tx);
            }
        }
        /* Interleave a read transaction. */
        if (rc == OK) {
            rc = store_begin(w->store, false, &tx);
            if (rc == OK) {
                struct store_tenant t;
                rc = store_tenant_find(tx, "t1", &t);
                store_rollback(tx);
            }
        }
        if (rc != OK) {
            w->failures++;
            w->last = rc;
        }
    }
    return NULL;
}

static void run_writers(struct store **stores, size_t n_stores)
{
    pthread_t th[WRITER_THREADS];
    struct writer w[WRITER_THREADS];
    for (int i = 0; i < WRITER_THREADS; i++) {
        w[i] = (struct writer){ stores[(size_t)i % n_stores], i, 0, OK };
        cr_assert_eq(pthread_create(&th[i], NULL, write_loop, &w[i]), 0);
    }
    for (int i = 0; i < WRITER_THREADS; i++) {
        pthread_join(th[i], NULL);
        cr_expect_eq(w[i].failures, 0, "thread %d: %d failures, last status %d", i, w[i].failures,
                     w[i].last);
    }
}

Test(store, concurrent_write_transactions_never_report_busy)
{
    seed_basic();
    run_writers(&store, 1);
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM events"), WRITER_THREADS * WRITES_PER_THREAD);
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM users"), WRITER_THREADS * WRITES_PER_THREAD);
}

Test(store, two_stores_on_one_file_wait_for_each_other)
{
    seed_basic();
    struct store *second = NULL;
    struct scim_error err = { 0 };
    cr_assert_eq(store_open(db_path, 2, &second, &err), OK);
    struct store *stores[] = { store, second };
    run_writers(stores, 2);
    store_close(second);
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM events"), WRITER_THREADS * WRITES_PER_THREAD);
}

/* ---- group commit ------------------------------------------------------------------- */

#define GROUP_THREADS 32
#define GROUP_ROUNDS  2 /* small enough that the WAL never reaches a checkpoint */

/* What one transaction of the group test does (by thread and round). */
enum group_kind {
    GROUP_COMMIT,   /* insert a tenant and its event, commit */
    GROUP_ROLLBACK, /* insert a tenant and its event, roll back */
    GROUP_CONFLICT, /* insert a tenant whose subdomain is taken: ERR_UNIQUENESS, roll back */
    GROUP_PARTIAL,  /* insert a tenant, then a conflicting one, commit what worked */
    GROUP_KINDS
};

struct group_writer {
    int n;
    pthread_barrier_t *start;
    enum status rc[GROUP_ROUNDS];
    char failed[GROUP_ROUNDS][64];
};

static enum group_kind group_kind_of(int n, int round)
{
    return (enum group_kind)((n + round) % GROUP_KINDS);
}

static void group_id(char *out, size_t size, int n, int round)
{
    snprintf(out, size, "g%02d-%d", n, round);
}

/* One transaction; rc is what its last step returned, OK when it went as planned. */
static enum status group_tx(struct group_writer *w, int round, char *why, size_t why_size)
{
    char id[32];
    group_id(id, sizeof(id), w->n, round);
    enum group_kind kind = group_kind_of(w->n, round);
    struct store_tx *tx = NULL;
    enum status rc = store_begin(store, true, &tx);
    if (rc != OK) {
        snprintf(why, why_size, "begin");
        return rc;
    }
    if (kind == GROUP_CONFLICT) {
        rc = add_tenant(tx, id, "Conflict", "acme", "");
        store_rollback(tx);
        snprintf(why, why_size, "conflicting insert");
        return rc == ERR_UNIQUENESS ? OK : ERR_STORE;
    }
    rc = add_tenant(tx, id, "Group", id, "");
    struct store_event e = { 0 };
    e.tenant_id = id;
    e.type = "group_commit";
    e.subject_id = id;
    if (rc == OK)
        rc = store_event_append(tx, &e);
    if (rc == OK && kind == GROUP_PARTIAL &&
        add_tenant(tx, "t1", "Again", "again", "") != ERR_UNIQUENESS)
        rc = ERR_STORE;
    if (rc != OK) {
        store_rollback(tx);
        snprintf(why, why_size, "insert");
        return rc;
    }
    if (kind == GROUP_ROLLBACK) {
        store_rollback(tx);
        return OK;
    }
    snprintf(why, why_size, "commit");
    return store_commit(tx);
}

static void *group_loop(void *arg)
{
    struct group_writer *w = arg;
    pthread_barrier_wait(w->start);
    for (int round = 0; round < GROUP_ROUNDS; round++)
        w->rc[round] = group_tx(w, round, w->failed[round], sizeof(w->failed[round]));
    return NULL;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Commit records in the WAL (one per committed transaction that changed
 * something); *restarts gets the WAL's checkpoint sequence number. */
static long wal_commits(uint32_t *restarts)
{
    char p[160];
    snprintf(p, sizeof(p), "%s-wal", db_path);
    FILE *f = fopen(p, "rb");
    cr_assert_not_null(f, "no WAL at %s", p);
    unsigned char hdr[32], frame[24];
    long n = 0;
    cr_assert_eq(fread(hdr, 1, sizeof(hdr), f), sizeof(hdr));
    uint32_t page_size = be32(hdr + 8);
    *restarts = be32(hdr + 12);
    /* frames with the header's salts belong to the current log */
    while (fread(frame, 1, sizeof(frame), f) == sizeof(frame) &&
           memcmp(frame + 8, hdr + 16, 8) == 0) {
        if (be32(frame + 4) != 0)
            n++;
        if (fseek(f, (long)page_size, SEEK_CUR) != 0)
            break;
    }
    fclose(f);
    return n;
}

Test(store, concurrent_writes_share_commits_and_fail_alone)
{
    seed_basic();
    uint32_t restarts_before, restarts_after;
    long commits_before = wal_commits(&restarts_before);

    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, GROUP_THREADS);
    pthread_t th[GROUP_THREADS];
    struct group_writer w[GROUP_THREADS];
    for (int i = 0; i < GROUP_THREADS; i++) {
        w[i] = (struct group_writer){ .n = i, .start = &start };
        cr_assert_eq(pthread_create(&th[i], NULL, group_loop, &w[i]), 0);
    }
    long committed = 0;
    for (int i = 0; i < GROUP_THREADS; i++) {
        pthread_join(th[i], NULL);
        for (int round = 0; round < GROUP_ROUNDS; round++) {
            cr_expect_eq(w[i].rc[round], OK, "thread %d round %d: %s: status %d", i, round,
                         w[i].failed[round], w[i].rc[round]);
            enum group_kind kind = group_kind_of(i, round);
            committed += kind == GROUP_COMMIT || kind == GROUP_PARTIAL;
        }
    }
    pthread_barrier_destroy(&start);
    long commits = wal_commits(&restarts_after) - commits_before;

    /* every committed transaction is there with its event, nothing else is */
    for (int i = 0; i < GROUP_THREADS; i++) {
        for (int round = 0; round < GROUP_ROUNDS; round++) {
            char id[32], sql[160];
            group_id(id, sizeof(id), i, round);
            enum group_kind kind = group_kind_of(i, round);
            long long want = kind == GROUP_COMMIT || kind == GROUP_PARTIAL;
            snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM tenants WHERE id = '%s'", id);
            cr_expect_eq(raw_count(sql), want, "tenant %s (kind %d)", id, kind);
            snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM events WHERE subject_id = '%s'", id);
            cr_expect_eq(raw_count(sql), want, "event of %s (kind %d)", id, kind);
        }
    }
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM tenants"), 2 + committed);
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM events"), committed);
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM tenants WHERE subdomain = 'acme'"), 1);

    /* and they shared commits: fewer commit records than committed transactions */
    cr_assert_eq(restarts_after, restarts_before, "the WAL restarted; commits cannot be counted");
    cr_assert_gt(commits, 0);
    cr_assert_lt(commits, committed, "%ld commits for %ld committed transactions: no batch formed",
                 commits, committed);
}

Test(store, a_read_transaction_does_not_wait_for_an_open_write)
{
    seed_basic();
    struct store_tx *w = begin(true);
    cr_assert_eq(add_tenant(w, "t3", "Initech", "initech", ""), OK);
    struct store_tenant t;
    cr_assert_eq(store_tenant_find(w, "t3", &t), OK, "a write sees its own change");
    struct store_tx *r = begin(false);
    cr_assert_eq(store_tenant_find(r, "t1", &t), OK);
    cr_assert_eq(store_tenant_find(r, "t3", &t), ERR_NOT_FOUND,
                 "a read sees no uncommitted change");
    commit(r);
    commit(w);
    r = begin(false);
    cr_assert_eq(store_tenant_find(r, "t3", &t), OK);
    commit(r);
}

Test(store, writes_after_a_rollback_and_a_failed_statement_commit)
{
    seed_basic();
    struct store_tx *tx = begin(true);
    cr_assert_eq(add_tenant(tx, "t3", "Initech", "initech", ""), OK);
    store_rollback(tx);
    tx = begin(true);
    cr_assert_eq(add_tenant(tx, "t4", "Umbrella", "acme", ""), ERR_UNIQUENESS);
    cr_assert_eq(add_tenant(tx, "t4", "Umbrella", "umbrella", ""), OK);
    commit(tx);
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM tenants WHERE id = 't3'"), 0);
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM tenants WHERE id = 't4'"), 1);
}

#define LOAD_THREADS   8
#define LOAD_TX        50
#define LOAD_USERS_PER 20

static void *load_loop(void *arg)
{
    int n = *(int *)arg;
    for (int i = 0; i < LOAD_TX; i++) {
        struct store_tx *tx = NULL;
        enum status rc = store_begin(store, true, &tx);
        for (int j = 0; rc == OK && j < LOAD_USERS_PER; j++) {
            /* scattered keys: every insert dirties pages of its own */
            uint32_t k = (uint32_t)(n * LOAD_TX * LOAD_USERS_PER + i * LOAD_USERS_PER + j);
            char id[48];
            snprintf(id, sizeof(id), "%08x-%u", k * 2654435761u, k);
            rc = add_user(tx, "t1", id, id, id, "");
        }
        if (rc == OK)
            rc = store_commit(tx);
        else
            store_rollback(tx);
        if (rc != OK)
            return (void *)1;
    }
    return NULL;
}

Test(store, a_long_write_load_is_checkpointed_and_the_wal_restarts)
{
    seed_basic();
    pthread_t th[LOAD_THREADS];
    int n[LOAD_THREADS];
    for (int i = 0; i < LOAD_THREADS; i++) {
        n[i] = i;
        cr_assert_eq(pthread_create(&th[i], NULL, load_loop, &n[i]), 0);
    }
    for (int i = 0; i < LOAD_THREADS; i++) {
        void *failed = NULL;
        pthread_join(th[i], &failed);
        cr_expect_null(failed, "thread %d failed", i);
    }
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM users"), LOAD_THREADS * LOAD_TX * LOAD_USERS_PER);
    uint32_t restarts = 0;
    wal_commits(&restarts);
    cr_assert_gt(restarts, 0, "the WAL was never restarted");
    char p[160];
    snprintf(p, sizeof(p), "%s-wal", db_path);
    FILE *f = fopen(p, "rb");
    cr_assert_not_null(f);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long wal_bytes = ftell(f);
    fclose(f);
    cr_assert_lt(wal_bytes, 64L * 1024 * 1024, "the WAL grew to %ld bytes", wal_bytes);
}

/* ---- userNames compare by Unicode NFC + case folding ------------------------------------ */

#define ARGER_UPPER "\xc3\x84RGER@example.com"  /* ÄRGER, Ä precomposed */
#define ARGER_LOWER "\xc3\xa4rger@example.com"  /* ärger */
#define ARGER_NFD   "a\xcc\x88rger@example.com" /* ärger, a + combining diaeresis */

static void raw_exec_sql(const char *sql)
{
    sqlite3 *db = raw_open();
    char *msg = NULL;
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &msg), SQLITE_OK, "%s: %s", sql, msg);
    sqlite3_close(db);
}

Test(store, user_names_fold_beyond_ascii)
{
    seed_basic();
    struct store_tx *tx = begin(true);
    cr_assert_eq(add_user(tx, "t1", "ua", ARGER_UPPER, ARGER_UPPER, ""), OK);
    cr_assert_eq(add_row(tx, "t1", "i1", "ua", "E-1", ARGER_UPPER, false), OK);
    cr_assert_eq(add_user(tx, "t1", "ub", NULL, NULL, ""), OK);
    cr_assert_eq(add_row(tx, "t1", "i1", "ub", "E-2", ARGER_LOWER, false), ERR_UNIQUENESS,
                 "another case beyond ASCII is the same userName");
    cr_assert_eq(add_row(tx, "t1", "i1", "ub", "E-2", ARGER_NFD, false), ERR_UNIQUENESS,
                 "NFD and NFC spellings are the same userName");
    commit(tx);

    tx = begin(false);
    struct store_idp_user r;
    cr_assert_eq(store_idp_user_by_user_name(tx, "t1", "i1", ARGER_NFD, &r), OK);
    cr_assert_str_eq(r.user_name, ARGER_UPPER, "the value stays as sent");
    store_idp_user_release(&r);
    struct store_user u;
    cr_assert_eq(store_user_find_match(tx, "t1", ARGER_LOWER, NULL, &u), OK, "email adoption");
    cr_assert_str_eq(u.id, "ua");
    store_user_release(&u);
    struct found got = { 0 };
    struct scim_filter *f = filter_of("userName eq \"" ARGER_LOWER "\"");
    struct store_search q = { .tenant_id = "t1", .idp_id = "i1", .filter = f, .limit = 10 };
    struct store_search_result res = { 0 };
    cr_assert_eq(store_idp_user_search(tx, &q, collect_found, &got, &res), OK);
    cr_assert(res.exact);
    cr_assert_eq(res.total, 1);
    cr_assert(found_has(&got, "ua"));
    found_release(&got);
    scim_filter_free(f);
    commit(tx);
}

Test(store, keys_written_before_folding_are_rekeyed_once)
{
    seed_basic();
    struct store_tx *tx = begin(true);
    cr_assert_eq(add_user(tx, "t1", "ua", ARGER_UPPER, NULL, ""), OK);
    cr_assert_eq(add_row(tx, "t1", "i1", "ua", "E-1", ARGER_UPPER, false), OK);
    commit(tx);
    store_close(store);
    store = NULL;
    /* as an older scimd wrote them: ASCII letters lowered, the rest as sent */
    raw_exec_sql("UPDATE idp_users SET user_name_lc = '\xc3\x84rger@example.com';"
                 "UPDATE users SET username_lc = '\xc3\x84rger@example.com';"
                 "DELETE FROM schema_migrations WHERE name = 'code_001_fold_keys'");
    struct scim_error err = { 0 };
    cr_assert_eq(store_open(db_path, POOL_SIZE, &store, &err), OK, "%s", err.detail);
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM idp_users WHERE user_name_lc = '" ARGER_LOWER "'"),
                 1);
    cr_assert_eq(raw_count("SELECT COUNT(*) FROM users WHERE username_lc = '" ARGER_LOWER "'"), 1);
    cr_assert_eq(
        raw_count("SELECT COUNT(*) FROM schema_migrations WHERE name = 'code_001_fold_keys'"), 1);
    tx = begin(false);
    struct store_idp_user r;
    cr_assert_eq(store_idp_user_by_user_name(tx, "t1", "i1", ARGER_LOWER, &r), OK);
    cr_assert_str_eq(r.user_name, ARGER_UPPER);
    store_idp_user_release(&r);
    commit(tx);
}
