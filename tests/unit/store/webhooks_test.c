/* SPDX-License-Identifier: Apache-2.0 */
/*
 * webhooks_test.c - unit tests for the webhook records of the store
 * (src/store/rec_webhooks.c) against a fresh SQLite file per test: a
 * subscription and its sealed secret, the message queue (an event queued
 * twice is one message; requeue revives a delivered or dead one; pruning),
 * leases between nodes, the trimmed delivery log, and the event-log reads
 * (unqueued events, the settled position, an event by id).
 */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "core/str.h"
#include "store/store_webhooks.h"

#include "../../support/scratch_store.h"

static struct scratch_store scratch;
static struct store *store;

static struct store_tx *begin(bool write)
{
    struct store_tx *tx = NULL;
    cr_assert_eq(store_begin(store, write, &tx), OK);
    return tx;
}

static void setup(void)
{
    struct scim_error err = { 0 };
    cr_assert_eq(scratch_store_open(&scratch, "/tmp", &err), OK, "open: %s", err.detail);
    store = scratch.store;
    struct store_tx *tx = begin(true);
    struct store_tenant t = {
        .id = "t1", .name = "T", .subdomain = "t", .created_at = "2026-01-01T00:00:00.000Z"
    };
    cr_assert_eq(store_tenant_insert(tx, &t), OK);
    struct store_webhook w = { .tenant_id = "t1",
                               .id = "w1",
                               .format = "json",
                               .delivery = "push",
                               .state = "enabled",
                               .created_at = "2026-01-01T00:00:00.000Z",
                               .updated_at = "2026-01-01T00:00:00.000Z" };
    str_copy(w.url, sizeof(w.url), "https://hooks.example.com/in");
    str_copy(w.audience, sizeof(w.audience), w.url);
    w.secret = "v1:sealed";
    cr_assert_eq(store_webhook_insert(tx, &w), OK);
    cr_assert_eq(store_commit(tx), OK);
}

static void teardown(void)
{
    scratch_store_close(&scratch);
    store = NULL;
}

TestSuite(webhooks, .init = setup, .fini = teardown);

static int64_t append(struct store_tx *tx, const char *type, const char *subject)
{
    struct store_event e = {
        .tenant_id = "t1", .type = type, .actor = "cli", .subject_id = subject
    };
    cr_assert_eq(store_event_append(tx, &e), OK);
    return e.seq;
}

static struct store_webhook_message message(int64_t seq, const char *jti)
{
    struct store_webhook_message m = { .tenant_id = "t1", .webhook_id = "w1", .seq = seq };
    snprintf(m.event_id, sizeof(m.event_id), "e%lld", (long long)seq);
    str_copy(m.subject, sizeof(m.subject), "u1");
    str_copy(m.jti, sizeof(m.jti), jti);
    return m;
}

static enum status count_message(void *ctx, const struct store_webhook_message *m)
{
    (void)m;
    ++*(int *)ctx;
    return OK;
}

Test(webhooks, secret_only_in_get_and_state_changes_keep_position)
{
    struct store_tx *tx = begin(true);
    struct store_webhook w;
    cr_assert_eq(store_webhook_get(tx, NULL, "w1", &w), OK);
    cr_assert_str_eq(w.secret, "v1:sealed");
    w.position = 42;
    cr_assert_eq(store_webhook_progress(tx, &w), OK);
    str_copy(w.state, sizeof(w.state), "disabled");
    str_copy(w.disabled_reason, sizeof(w.disabled_reason), "410");
    cr_assert_eq(store_webhook_set_state(tx, &w), OK);
    store_webhook_release(&w);
    cr_assert_eq(store_webhook_get(tx, "t1", "w1", &w), OK);
    cr_assert_eq(w.position, 42);
    cr_assert_str_eq(w.state, "disabled");
    store_webhook_release(&w);
    cr_assert_eq(store_webhook_get(tx, "t2", "w1", &w), ERR_NOT_FOUND, "another tenant's id");
    cr_assert_eq(store_commit(tx), OK);
}

Test(webhooks, a_message_is_queued_once_and_requeue_revives_it)
{
    struct store_tx *tx = begin(true);
    struct store_webhook_message m = message(7, "j7");
    cr_assert_eq(store_webhook_message_add(tx, &m), OK);
    struct store_webhook_message again = message(7, "other-jti");
    cr_assert_eq(store_webhook_message_add(tx, &again), OK, "a second add is harmless");
    struct store_webhook_message got;
    cr_assert_eq(store_webhook_message_by_jti(tx, "t1", "w1", "j7", &got), OK);
    cr_assert_str_eq(got.state, "pending");
    cr_assert_eq(store_webhook_message_by_jti(tx, "t1", "w1", "other-jti", &got), ERR_NOT_FOUND);
    str_copy(got.state, sizeof(got.state), "dead");
    got.attempts = 8;
    cr_assert_eq(store_webhook_message_update(tx, &got), OK);
    cr_assert_eq(store_webhook_message_requeue(tx, &again), OK);
    cr_assert_eq(store_webhook_message_by_jti(tx, "t1", "w1", "j7", &got), OK, "the jti stays");
    cr_assert_str_eq(got.state, "pending");
    cr_assert_eq(got.attempts, 0);
    struct store_webhook_counts c;
    cr_assert_eq(store_webhook_counts_get(tx, "t1", "w1", &c), OK);
    cr_assert_eq(c.pending, 1);
    /* delivered messages go once the position has passed them */
    str_copy(got.state, sizeof(got.state), "delivered");
    cr_assert_eq(store_webhook_message_update(tx, &got), OK);
    cr_assert_eq(store_webhook_message_prune(tx, "t1", "w1", 6), OK);
    cr_assert_eq(store_webhook_message_by_jti(tx, "t1", "w1", "j7", &got), OK);
    cr_assert_eq(store_webhook_message_prune(tx, "t1", "w1", 7), OK);
    cr_assert_eq(store_webhook_message_by_jti(tx, "t1", "w1", "j7", &got), ERR_NOT_FOUND);
    cr_assert_eq(store_commit(tx), OK);
}

Test(webhooks, due_messages_in_event_order_and_dead_letters_retried)
{
    struct store_tx *tx = begin(true);
    for (int64_t seq = 3; seq >= 1; seq--) {
        char jti[8];
        snprintf(jti, sizeof(jti), "j%lld", (long long)seq);
        struct store_webhook_message m = message(seq, jti);
        str_copy(m.next_at, sizeof(m.next_at),
                 seq == 2 ? "2999-01-01T00:00:00.000Z" : "2026-01-01T00:00:00.000Z");
        cr_assert_eq(store_webhook_message_add(tx, &m), OK);
    }
    int n = 0;
    cr_assert_eq(store_webhook_message_due_each(tx, "t1", "w1", "2026-06-01T00:00:00.000Z", 10,
                                                count_message, &n),
                 OK);
    cr_assert_eq(n, 2, "the one due in 2999 waits");
    struct store_webhook_message m;
    cr_assert_eq(store_webhook_message_by_jti(tx, "t1", "w1", "j1", &m), OK);
    str_copy(m.state, sizeof(m.state), "dead");
    cr_assert_eq(store_webhook_message_update(tx, &m), OK);
    int64_t revived = 0;
    cr_assert_eq(
        store_webhook_message_retry_dead(tx, "t1", "w1", "2026-06-01T00:00:00.000Z", &revived), OK);
    cr_assert_eq(revived, 1);
    cr_assert_eq(store_commit(tx), OK);
}

Test(webhooks, a_lease_belongs_to_one_node_until_it_expires)
{
    struct store_tx *tx = begin(true);
    const char *t0 = "2026-01-01T00:00:00.000Z", *t1 = "2026-01-01T00:00:10.000Z";
    const char *t2 = "2026-01-01T00:00:11.000Z", *t3 = "2026-01-01T00:00:21.000Z";
    cr_assert_eq(store_webhook_lease(tx, "t1", "w1", "node-a", t0, t1), OK);
    cr_assert_eq(store_webhook_lease(tx, "t1", "w1", "node-b", t0, t1), ERR_CONFLICT);
    cr_assert_eq(store_webhook_lease(tx, "t1", "w1", "node-a", t0, t1), OK, "renewal");
    cr_assert_eq(store_webhook_lease(tx, "t1", "w1", "node-b", t2, t3), OK, "expired: taken over");
    cr_assert_eq(store_webhook_lease(tx, "t1", "w1", "node-a", t2, t3), ERR_CONFLICT);
    cr_assert_eq(store_commit(tx), OK);
}

static enum status count_attempt(void *ctx, const struct store_webhook_attempt *a)
{
    int *n = ctx;
    if (*n == 0)
        cr_assert_eq(a->attempt, STORE_WEBHOOK_LOG_KEEP + 9, "newest first");
    cr_assert_geq(a->attempt, 10, "the oldest are gone");
    ++*n;
    return OK;
}

Test(webhooks, the_delivery_log_keeps_the_newest)
{
    struct store_tx *tx = begin(true);
    for (int i = 0; i < STORE_WEBHOOK_LOG_KEEP + 10; i++) {
        struct store_webhook_attempt a = { .tenant_id = "t1",
                                           .webhook_id = "w1",
                                           .event_id = "e1",
                                           .attempt = i,
                                           .status = 503,
                                           .outcome = "failed" };
        cr_assert_eq(store_webhook_attempt_add(tx, &a), OK);
        usleep(1500); /* ids are time-ordered to the millisecond, random within one */
    }
    int n = 0;
    cr_assert_eq(store_webhook_attempt_each(tx, "t1", "w1", 1000, count_attempt, &n), OK);
    cr_assert_eq(n, STORE_WEBHOOK_LOG_KEEP);
    cr_assert_eq(store_commit(tx), OK);
}

static enum status count_event(void *ctx, const struct store_event *e)
{
    (void)e;
    ++*(int *)ctx;
    return OK;
}

Test(webhooks, event_log_reads)
{
    struct store_tx *tx = begin(true);
    int64_t a = append(tx, "scim_user_created", "u1");
    int64_t b = append(tx, "scim_user_updated", "u1");
    int64_t c = append(tx, "scim_user_deleted", "u1");
    struct store_webhook_message m = message(b, "jb");
    cr_assert_eq(store_webhook_message_add(tx, &m), OK);
    int n = 0;
    cr_assert_eq(store_webhook_events_unqueued_each(tx, "t1", "w1", a - 1, c, 100, count_event, &n),
                 OK);
    cr_assert_eq(n, 2, "the queued one is left out");
    n = 0;
    cr_assert_eq(store_webhook_events_each(tx, "t1", a, c, 1, count_event, &n), OK);
    cr_assert_eq(n, 1, "limit");
    int64_t settled = -1;
    cr_assert_eq(store_webhook_settled_seq(tx, "t1", a - 1, "2000-01-01T00:00:00.000Z", &settled),
                 OK);
    cr_assert_eq(settled, a - 1, "nothing is older than 2000");
    cr_assert_eq(store_webhook_settled_seq(tx, "t1", a - 1, "2999-01-01T00:00:00.000Z", &settled),
                 OK);
    cr_assert_eq(settled, c);
    int64_t seq = 0;
    cr_assert_eq(store_webhook_event_seq(tx, "t1", "no-such-id", &seq), ERR_NOT_FOUND);
    cr_assert_eq(store_commit(tx), OK);
}
