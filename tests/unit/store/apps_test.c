/* SPDX-License-Identifier: Apache-2.0 */
/*
 * apps_test.c - unit tests for the downstream-app parts of the store
 * (src/store/rec_apps.c) against a fresh SQLite file per test: apps and name
 * uniqueness, grants and the access query, job generations (a change that
 * arrives while a job runs is never dropped), dead letters and retry, and the
 * events an app's dispatcher reads.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/str.h"
#include "store/store.h"

#include "../../support/scratch_store.h"

static struct scratch_store scratch;
static struct store *store;

static void setup(void)
{
    struct scim_error err = { 0 };
    cr_assert_eq(scratch_store_open(&scratch, "/tmp", &err), OK, "open: %s", err.detail);
    store = scratch.store;
}

static void teardown(void)
{
    scratch_store_close(&scratch);
    store = NULL;
}

TestSuite(apps, .init = setup, .fini = teardown);

static struct store_tx *begin(bool write)
{
    struct store_tx *tx = NULL;
    cr_assert_eq(store_begin(store, write, &tx), OK);
    return tx;
}

static struct store_app make_app(const char *id, const char *name)
{
    struct store_app a = { .tenant_id = "t1",
                           .auth = "bearer",
                           .deprovision = "deactivate",
                           .state = "enabled",
                           .created_at = "2026-01-01T00:00:00.000Z",
                           .updated_at = "2026-01-01T00:00:00.000Z" };
    str_copy(a.id, sizeof(a.id), id);
    str_copy(a.name, sizeof(a.name), name);
    str_copy(a.scim_url, sizeof(a.scim_url), "https://app.example.com/scim/v2");
    a.credential = "v1:sealed";
    return a;
}

/* tenant t1, IdP i1, users u1 (in group g1), u2 (directly granted), u3 (neither). */
static void seed(void)
{
    struct store_tx *tx = begin(true);
    struct store_tenant t = { .id = "t1", .name = "T", .subdomain = "t" };
    cr_assert_eq(store_tenant_insert(tx, &t), OK);
    struct store_idp idp = { .tenant_id = "t1", .id = "i1", .name = "i1", .vendor = "okta" };
    cr_assert_eq(store_idp_insert(tx, &idp), OK);
    const char *users[] = { "u1", "u2", "u3" };
    for (size_t i = 0; i < 3; i++) {
        struct store_user u = { .tenant_id = "t1", .status = "active" };
        str_copy(u.id, sizeof(u.id), users[i]);
        u.username = (char *)users[i];
        cr_assert_eq(store_user_insert(tx, &u), OK);
        struct store_idp_user r = {
            .tenant_id = "t1", .idp_id = "i1", .active = true, .version = 1
        };
        str_copy(r.user_id, sizeof(r.user_id), users[i]);
        r.user_name = (char *)users[i];
        r.doc = "{}";
        cr_assert_eq(store_idp_user_insert(tx, &r), OK);
    }
    struct store_group g = { .tenant_id = "t1", .idp_id = "i1", .id = "g1", .version = 1 };
    g.display_name = "eng";
    g.doc = "{}";
    cr_assert_eq(store_group_insert(tx, &g), OK);
    const char *members[] = { "u1" };
    cr_assert_eq(store_group_members_add(tx, "t1", "i1", "g1", members, 1, NULL, NULL), OK);
    struct store_app a = make_app("a1", "Slack");
    cr_assert_eq(store_app_insert(tx, &a), OK);
    cr_assert_eq(store_commit(tx), OK);
}

Test(apps, insert_get_and_unique_name)
{
    seed();
    struct store_tx *tx = begin(true);
    struct store_app dup = make_app("a2", "Slack");
    cr_assert_eq(store_app_insert(tx, &dup), ERR_UNIQUENESS);
    struct store_app got;
    cr_assert_eq(store_app_get(tx, NULL, "a1", &got), OK);
    cr_assert_str_eq(got.credential, "v1:sealed");
    cr_assert_str_eq(got.state, "enabled");
    store_app_release(&got);
    cr_assert_eq(store_app_get(tx, "t2", "a1", &got), ERR_NOT_FOUND);
    cr_assert_eq(store_app_delete(tx, "t1", "a1"), OK);
    cr_assert_eq(store_app_delete(tx, "t1", "a1"), ERR_NOT_FOUND);
    store_rollback(tx);
}

Test(apps, access_by_group_or_direct_grant)
{
    seed();
    struct store_tx *tx = begin(true);
    struct store_app_grant gg = {
        .tenant_id = "t1", .app_id = "a1", .kind = "group", .idp_id = "i1", .subject_id = "g1"
    };
    struct store_app_grant gu = {
        .tenant_id = "t1", .app_id = "a1", .kind = "user", .subject_id = "u2"
    };
    cr_assert_eq(store_app_grant_insert(tx, &gg), OK);
    cr_assert_eq(store_app_grant_insert(tx, &gu), OK);
    cr_assert_eq(store_app_grant_insert(tx, &gu), ERR_UNIQUENESS);
    bool granted;
    const char *expect[][2] = { { "u1", "1" }, { "u2", "1" }, { "u3", "0" } };
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(store_app_user_granted(tx, "t1", "a1", expect[i][0], &granted), OK);
        cr_assert_eq(granted, expect[i][1][0] == '1', "%s", expect[i][0]);
    }
    cr_assert_eq(store_app_user_granted(tx, "t1", "other", "u1", &granted), OK);
    cr_assert(!granted);
    char tenant[STORE_ID_LEN], idp[STORE_ID_LEN];
    cr_assert_eq(store_group_locate(tx, "g1", tenant, idp), OK);
    cr_assert_str_eq(tenant, "t1");
    cr_assert_str_eq(idp, "i1");
    cr_assert_eq(store_app_grant_delete(tx, "t1", "a1", "group", "g1", NULL), OK);
    cr_assert_eq(store_app_user_granted(tx, "t1", "a1", "u1", &granted), OK);
    cr_assert(!granted);
    store_rollback(tx);
}

static enum status take_job(void *ctx, const struct store_app_job *j)
{
    *(struct store_app_job *)ctx = *j;
    return OK;
}

Test(apps, a_change_during_a_job_is_not_dropped)
{
    seed();
    const char *now = "2026-01-01T00:00:00.000Z";
    struct store_tx *tx = begin(true);
    cr_assert_eq(store_app_job_enqueue(tx, "t1", "a1", "u1", now), OK);
    struct store_app_job running = { 0 };
    cr_assert_eq(store_app_job_due_each(tx, "t1", "a1", now, 10, take_job, &running), OK);
    cr_assert_str_eq(running.user_id, "u1");
    /* a newer change comes in while the job runs */
    cr_assert_eq(store_app_job_enqueue(tx, "t1", "a1", "u1", now), OK);
    cr_assert_eq(store_app_job_done(tx, &running), OK);
    struct store_app_job left = { 0 };
    cr_assert_eq(store_app_job_due_each(tx, "t1", "a1", now, 10, take_job, &left), OK);
    cr_assert_str_eq(left.user_id, "u1", "the newer change is still pending");
    cr_assert_gt(left.gen, running.gen);
    cr_assert_eq(store_app_job_done(tx, &left), OK);
    struct store_app_job none = { 0 };
    cr_assert_eq(store_app_job_due_each(tx, "t1", "a1", now, 10, take_job, &none), OK);
    cr_assert_str_eq(none.user_id, "");
    store_rollback(tx);
}

Test(apps, dead_letters_are_counted_and_retried)
{
    seed();
    const char *now = "2026-01-01T00:00:00.000Z";
    struct store_tx *tx = begin(true);
    cr_assert_eq(store_app_job_enqueue(tx, "t1", "a1", "u1", now), OK);
    cr_assert_eq(store_app_job_enqueue(tx, "t1", "a1", "u2", now), OK);
    struct store_app_job j = { 0 };
    cr_assert_eq(store_app_job_due_each(tx, "t1", "a1", now, 1, take_job, &j), OK);
    j.attempts = 10;
    j.dead = true;
    str_copy(j.last_error, sizeof(j.last_error), "create user: transient (HTTP 500)");
    cr_assert_eq(store_app_job_update(tx, &j), OK);
    struct store_app_counts c;
    cr_assert_eq(store_app_counts_get(tx, "t1", "a1", &c), OK);
    cr_assert_eq(c.dead, 1);
    cr_assert_eq(c.pending, 1);
    cr_assert_eq(c.failing, 0);
    int64_t n = 0;
    cr_assert_eq(store_app_job_retry(tx, "t1", "a1", NULL, now, &n), OK);
    cr_assert_eq(n, 1);
    cr_assert_eq(store_app_counts_get(tx, "t1", "a1", &c), OK);
    cr_assert_eq(c.dead, 0);
    cr_assert_eq(c.pending, 2);
    store_rollback(tx);
}

struct seqs {
    int64_t v[16];
    size_t n;
};

static enum status take_seq(void *ctx, const struct store_event *e)
{
    struct seqs *s = ctx;
    cr_assert_lt(s->n, 16);
    s->v[s->n++] = e->seq;
    return OK;
}

Test(apps, dispatcher_reads_only_relevant_events_in_its_range)
{
    seed();
    struct store_tx *tx = begin(true);
    const char *types[] = { "scim_user_updated", "token_created",    "scim_group_members_changed",
                            "app_grant_added",   "user_deactivated", "app_user_updated" };
    int64_t first = 0;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        struct store_event e = { .tenant_id = "t1", .type = types[i], .actor = "cli" };
        cr_assert_eq(store_event_append(tx, &e), OK);
        if (i == 0)
            first = e.seq;
    }
    struct seqs s = { .n = 0 };
    cr_assert_eq(store_app_events_each(tx, "t1", first - 1, INT64_MAX, 10, take_seq, &s), OK);
    cr_assert_eq(s.n, 4, "users, groups, grants and user_ events only");
    cr_assert_eq(s.v[0], first);
    s.n = 0;
    cr_assert_eq(store_app_events_each(tx, "t1", first, first + 2, 10, take_seq, &s), OK);
    cr_assert_eq(s.n, 1);
    cr_assert_eq(s.v[0], first + 2);
    int64_t last = 0;
    cr_assert_eq(store_event_last_seq(tx, &last), OK);
    cr_assert_geq(last, first + 5);
    store_rollback(tx);
}

/* The engine's progress write does not undo an admin's change made since the
 * engine read the app (an enable that ended a quarantine). */
Test(apps, progress_yields_to_an_admin_change_since_read)
{
    seed();
    struct store_tx *tx = begin(false);
    struct store_app engine_copy;
    cr_assert_eq(store_app_get(tx, "t1", "a1", &engine_copy), OK);
    store_rollback(tx);

    tx = begin(true); /* the admin enables, ending a quarantine */
    struct store_app admin = engine_copy;
    str_copy(admin.updated_at, sizeof(admin.updated_at), "2026-06-01T00:00:00.000Z");
    admin.quarantine_probes = 0;
    cr_assert_eq(store_app_update(tx, &admin), OK);
    cr_assert_eq(store_commit(tx), OK);

    tx = begin(true); /* the engine, still on its old copy, records a probe */
    engine_copy.quarantine_probes = 3;
    str_copy(engine_copy.pause_reason, sizeof(engine_copy.pause_reason), "quarantined");
    cr_assert_eq(store_app_progress(tx, &engine_copy), OK);
    cr_assert_eq(store_commit(tx), OK);

    tx = begin(false);
    struct store_app now;
    cr_assert_eq(store_app_get(tx, "t1", "a1", &now), OK);
    cr_assert_eq(now.quarantine_probes, 0, "the admin's enable stands");
    cr_assert_str_eq(now.pause_reason, "");
    store_app_release(&now);
    store_rollback(tx);
    store_app_release(&engine_copy);
}
