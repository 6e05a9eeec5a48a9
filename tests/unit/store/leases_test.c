/* SPDX-License-Identifier: Apache-2.0 */
/*
 * leases_test.c - unit tests for app leases in the store (src/store/rec_leases.c)
 * against a fresh SQLite file per test: a lease is taken, renewed by its holder
 * only, refused to another node until it expires, then taken over; releasing
 * gives back a node's leases and no one else's; the app's new columns
 * (concurrency, pause reason, quarantine) round-trip.
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

TestSuite(leases, .init = setup, .fini = teardown);

static enum status take(const char *app, const char *node, const char *now, const char *until)
{
    struct store_tx *tx = NULL;
    cr_assert_eq(store_begin(store, true, &tx), OK);
    enum status rc = store_app_lease_take(tx, "t1", app, node, now, until);
    cr_assert_eq(store_commit(tx), OK);
    return rc;
}

static struct store_app_lease get(const char *app)
{
    struct store_tx *tx = NULL;
    cr_assert_eq(store_begin(store, false, &tx), OK);
    struct store_app_lease l;
    cr_assert_eq(store_app_lease_get(tx, "t1", app, &l), OK);
    store_rollback(tx);
    return l;
}

#define T(s) "2026-01-01T00:00:" s ".000Z"

Test(leases, one_node_at_a_time_until_expiry)
{
    cr_assert_eq(take("a1", "n1", T("00"), T("20")), OK);
    cr_assert_eq(take("a1", "n2", T("05"), T("25")), ERR_CONFLICT, "held by n1");
    cr_assert_eq(take("a1", "n1", T("10"), T("30")), OK, "the holder renews");
    struct store_app_lease l = get("a1");
    cr_assert_str_eq(l.node, "n1");
    cr_assert_str_eq(l.acquired_at, T("00"), "a renewal keeps when it was taken");
    cr_assert_str_eq(l.expires_at, T("30"));
    cr_assert_eq(take("a1", "n2", T("29"), T("49")), ERR_CONFLICT, "not expired yet");
    cr_assert_eq(take("a1", "n2", T("30"), T("50")), OK, "expired: taken over");
    l = get("a1");
    cr_assert_str_eq(l.node, "n2");
    cr_assert_str_eq(l.acquired_at, T("30"));
    cr_assert_eq(take("a2", "n1", T("31"), T("51")), OK, "leases are per app");
}

Test(leases, release_gives_back_only_the_nodes_own)
{
    cr_assert_eq(take("a1", "n1", T("00"), T("20")), OK);
    cr_assert_eq(take("a2", "n1", T("00"), T("20")), OK);
    cr_assert_eq(take("a3", "n2", T("00"), T("20")), OK);
    struct store_tx *tx = NULL;
    cr_assert_eq(store_begin(store, true, &tx), OK);
    cr_assert_eq(store_app_lease_release(tx, "n1", NULL, NULL), OK);
    struct store_app_lease l;
    cr_assert_eq(store_app_lease_get(tx, "t1", "a1", &l), ERR_NOT_FOUND);
    cr_assert_eq(store_app_lease_get(tx, "t1", "a2", &l), ERR_NOT_FOUND);
    cr_assert_eq(store_app_lease_get(tx, "t1", "a3", &l), OK);
    cr_assert_eq(store_app_lease_release(tx, "n1", "t1", "a3"), OK);
    cr_assert_eq(store_app_lease_get(tx, "t1", "a3", &l), OK, "n2's lease stays");
    cr_assert_eq(store_commit(tx), OK);
    cr_assert_eq(take("a1", "n2", T("01"), T("21")), OK, "released: free at once");
}

Test(leases, app_scale_columns_round_trip)
{
    struct store_tx *tx = NULL;
    cr_assert_eq(store_begin(store, true, &tx), OK);
    struct store_tenant t = { .id = "t1", .name = "T", .subdomain = "t" };
    cr_assert_eq(store_tenant_insert(tx, &t), OK);
    struct store_app a = { .tenant_id = "t1",
                           .id = "a1",
                           .name = "Slack",
                           .scim_url = "https://x.example/scim",
                           .auth = "bearer",
                           .deprovision = "deactivate",
                           .state = "enabled",
                           .created_at = T("00"),
                           .updated_at = T("00") };
    a.credential = "v1:sealed";
    cr_assert_eq(store_app_insert(tx, &a), OK);
    struct store_app got;
    cr_assert_eq(store_app_get(tx, NULL, "a1", &got), OK);
    store_app_release(&got);
    cr_assert_eq(got.concurrency, STORE_APP_CONCURRENCY_DEFAULT, "0 stores the default");
    cr_assert_eq(got.quarantine_probes, 0);
    got.quarantine_probes = 3;
    str_copy(got.paused_until, sizeof(got.paused_until), T("40"));
    str_copy(got.pause_reason, sizeof(got.pause_reason),
             "quarantined: 20 of the last 20 calls failed");
    cr_assert_eq(store_app_progress(tx, &got), OK);
    cr_assert_eq(store_app_get(tx, NULL, "a1", &got), OK);
    store_app_release(&got);
    cr_assert_eq(got.quarantine_probes, 3);
    cr_assert_str_eq(got.pause_reason, "quarantined: 20 of the last 20 calls failed");
    cr_assert_str_eq(got.paused_until, T("40"));
    cr_assert_eq(store_app_delete(tx, "t1", "a1"), OK);
    cr_assert_eq(store_commit(tx), OK);
}
