/* SPDX-License-Identifier: Apache-2.0 */
/*
 * app_groups_test.c - unit tests for groups pushed to apps in the store
 * (src/store/rec_app_groups.c and the group jobs of rec_apps.c) against a
 * fresh SQLite file per test: the link of a group to its remote group, the
 * member rows scimd put there and whether their accounts still exist, the
 * members a remote group should have, the groups to push again for a user,
 * group jobs, and an app's deletion taking its pushed groups along.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

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

TestSuite(app_groups, .init = setup, .fini = teardown);

static struct store_tx *begin(bool write)
{
    struct store_tx *tx = NULL;
    cr_assert_eq(store_begin(store, write, &tx), OK);
    return tx;
}

static void put_link(struct store_tx *tx, const char *user, const char *remote, bool active)
{
    struct store_app_link l = { .tenant_id = "t1", .app_id = "a1", .active = active, .hash = "h" };
    str_copy(l.user_id, sizeof(l.user_id), user);
    str_copy(l.remote_id, sizeof(l.remote_id), remote);
    l.sent = "{}";
    cr_assert_eq(store_app_link_put(tx, &l), OK);
}

/* tenant t1, IdP i1, users u1..u3 all in group g1 (granted to app a1);
 * u1 linked active as r1, u2 linked inactive as r2, u3 not linked. */
static void seed(struct store_tx *tx)
{
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
    }
    struct store_group g = { .tenant_id = "t1", .idp_id = "i1", .id = "g1", .version = 1 };
    g.display_name = "eng";
    g.doc = "{}";
    cr_assert_eq(store_group_insert(tx, &g), OK);
    cr_assert_eq(store_group_members_add(tx, "t1", "i1", "g1", users, 3, NULL, NULL), OK);
    struct store_app a = { .tenant_id = "t1",
                           .id = "a1",
                           .name = "Slack",
                           .auth = "bearer",
                           .deprovision = "deactivate",
                           .state = "enabled",
                           .push_groups = true,
                           .created_at = "2026-01-01T00:00:00.000Z",
                           .updated_at = "2026-01-01T00:00:00.000Z" };
    str_copy(a.scim_url, sizeof(a.scim_url), "https://app.example.com/scim/v2");
    a.credential = "v1:sealed";
    cr_assert_eq(store_app_insert(tx, &a), OK);
    struct store_app_grant gg = {
        .tenant_id = "t1", .app_id = "a1", .kind = "group", .idp_id = "i1", .subject_id = "g1"
    };
    cr_assert_eq(store_app_grant_insert(tx, &gg), OK);
    put_link(tx, "u1", "r1", true);
    put_link(tx, "u2", "r2", false);
}

struct seen {
    char text[256];
};

static enum status note_member(void *ctx, const struct store_app_group_member *m)
{
    struct seen *s = ctx;
    size_t n = strlen(s->text);
    snprintf(s->text + n, sizeof(s->text) - n, "%s%s=%s%s", n ? " " : "", m->user_id, m->remote_id,
             m->account_exists ? "" : "(gone)");
    return OK;
}

static enum status note_id(void *ctx, const char *id)
{
    struct seen *s = ctx;
    size_t n = strlen(s->text);
    snprintf(s->text + n, sizeof(s->text) - n, "%s%s", n ? " " : "", id);
    return OK;
}

Test(app_groups, wanted_members_are_those_with_an_active_account)
{
    struct store_tx *tx = begin(true);
    seed(tx);
    struct seen s = { "" };
    cr_assert_eq(store_app_group_wanted_each(tx, "t1", "a1", "i1", "g1", note_member, &s), OK);
    cr_assert_str_eq(s.text, "u1=r1");
    put_link(tx, "u3", "r3", true);
    s.text[0] = '\0';
    cr_assert_eq(store_app_group_wanted_each(tx, "t1", "a1", "i1", "g1", note_member, &s), OK);
    cr_assert_str_eq(s.text, "u1=r1 u3=r3");
    store_rollback(tx);
}

Test(app_groups, pushed_rows_say_whether_the_account_is_still_the_one_added)
{
    struct store_tx *tx = begin(true);
    seed(tx);
    const char *users[] = { "u1", "u2", "u3" }, *remotes[] = { "r1", "r-old", "r3" };
    cr_assert_eq(store_app_group_pushed_add(tx, "t1", "a1", "g1", users, remotes, 3), OK);
    struct seen s = { "" };
    cr_assert_eq(store_app_group_pushed_each(tx, "t1", "a1", "g1", note_member, &s), OK);
    cr_assert_str_eq(s.text, "u1=r1 u2=r-old(gone) u3=r3(gone)");
    /* adding again replaces the remote id; removing forgets */
    const char *again[] = { "r2" };
    cr_assert_eq(store_app_group_pushed_add(tx, "t1", "a1", "g1", users + 1, again, 1), OK);
    cr_assert_eq(store_app_group_pushed_remove(tx, "t1", "a1", "g1", users + 2, 1), OK);
    s.text[0] = '\0';
    cr_assert_eq(store_app_group_pushed_each(tx, "t1", "a1", "g1", note_member, &s), OK);
    cr_assert_str_eq(s.text, "u1=r1 u2=r2");
    store_rollback(tx);
}

Test(app_groups, link_put_get_and_delete_with_its_rows)
{
    struct store_tx *tx = begin(true);
    seed(tx);
    bool linked = true;
    cr_assert_eq(store_app_group_linked(tx, "t1", "a1", "g1", &linked), OK);
    cr_assert(!linked);
    struct store_app_group_link l = {
        .tenant_id = "t1", .app_id = "a1", .group_id = "g1", .remote_id = "rg1"
    };
    l.display_name = "eng";
    cr_assert_eq(store_app_group_link_put(tx, &l), OK);
    l.display_name = "platform";
    cr_assert_eq(store_app_group_link_put(tx, &l), OK);
    struct store_app_group_link got;
    cr_assert_eq(store_app_group_link_get(tx, "t1", "a1", "g1", &got), OK);
    cr_assert_str_eq(got.remote_id, "rg1");
    cr_assert_str_eq(got.display_name, "platform");
    store_app_group_link_release(&got);
    cr_assert_eq(store_app_group_linked(tx, "t1", "a1", "g1", &linked), OK);
    cr_assert(linked);
    const char *users[] = { "u1" }, *remotes[] = { "r1" };
    cr_assert_eq(store_app_group_pushed_add(tx, "t1", "a1", "g1", users, remotes, 1), OK);
    cr_assert_eq(store_app_group_link_delete(tx, "t1", "a1", "g1"), OK);
    cr_assert_eq(store_app_group_link_get(tx, "t1", "a1", "g1", &got), ERR_NOT_FOUND);
    struct seen s = { "" };
    cr_assert_eq(store_app_group_pushed_each(tx, "t1", "a1", "g1", note_member, &s), OK);
    cr_assert_str_eq(s.text, "", "member rows go with the link");
    store_rollback(tx);
}

Test(app_groups, groups_of_a_user_are_granted_ones_and_pushed_ones)
{
    struct store_tx *tx = begin(true);
    seed(tx);
    struct seen s = { "" };
    cr_assert_eq(store_app_groups_of_user_each(tx, "t1", "a1", "u1", note_id, &s), OK);
    cr_assert_str_eq(s.text, "g1");
    /* left the group, but scimd put them in a pushed one (g0, grant gone) */
    const char *users[] = { "u1" }, *remotes[] = { "r1" };
    cr_assert_eq(store_group_members_remove(tx, "t1", "i1", "g1", users, 1, NULL, NULL), OK);
    cr_assert_eq(store_app_group_pushed_add(tx, "t1", "a1", "g0", users, remotes, 1), OK);
    s.text[0] = '\0';
    cr_assert_eq(store_app_groups_of_user_each(tx, "t1", "a1", "u1", note_id, &s), OK);
    cr_assert_str_eq(s.text, "g0");
    s.text[0] = '\0';
    cr_assert_eq(store_app_groups_of_user_each(tx, "t1", "other", "u1", note_id, &s), OK);
    cr_assert_str_eq(s.text, "");
    store_rollback(tx);
}

static enum status take_job(void *ctx, const struct store_app_job *j)
{
    struct store_app_job *jobs = ctx;
    for (size_t i = 0; i < 4; i++) {
        if (jobs[i].user_id[0] == '\0') {
            jobs[i] = *j;
            return OK;
        }
    }
    return OK;
}

Test(app_groups, group_jobs_have_their_kind_and_go_with_the_app)
{
    struct store_tx *tx = begin(true);
    seed(tx);
    cr_assert_eq(store_app_job_enqueue(tx, "t1", "a1", "u1", "2026-01-01T00:00:00.000Z"), OK);
    cr_assert_eq(store_app_group_job_enqueue(tx, "t1", "a1", "g1", "2026-01-01T00:00:01.000Z"), OK);
    struct store_app_job jobs[4] = { 0 };
    cr_assert_eq(
        store_app_job_due_each(tx, "t1", "a1", "2026-01-01T00:00:00.500Z", 10, take_job, jobs), OK);
    cr_assert_str_eq(jobs[0].kind, "user");
    cr_assert_str_eq(jobs[1].user_id, "", "the group job is not due yet");
    memset(jobs, 0, sizeof(jobs));
    cr_assert_eq(
        store_app_job_due_each(tx, "t1", "a1", "2026-01-01T00:00:02.000Z", 10, take_job, jobs), OK);
    cr_assert_str_eq(jobs[1].user_id, "g1");
    cr_assert_str_eq(jobs[1].kind, "group");
    struct store_app_group_link l = {
        .tenant_id = "t1", .app_id = "a1", .group_id = "g1", .remote_id = "rg1"
    };
    l.display_name = "eng";
    cr_assert_eq(store_app_group_link_put(tx, &l), OK);
    cr_assert_eq(store_app_delete(tx, "t1", "a1"), OK);
    bool linked = true;
    cr_assert_eq(store_app_group_linked(tx, "t1", "a1", "g1", &linked), OK);
    cr_assert(!linked, "the app's pushed groups go with it");
    store_rollback(tx);
}
