/* SPDX-License-Identifier: Apache-2.0 */
/*
 * feed_test.c - tests for src/directory/feed.c against a real SQLite
 * store: cursors (format, parse, refusals), time bounds, pages that return
 * every event once in order with filters, and the JSON shape of an event.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "directory/feed.h"

#include "../../support/scratch_directory.h"

static struct scratch_directory scratch;

static void setup(void)
{
    struct scim_error err = { 0 };
    cr_assert_eq(scratch_directory_open(&scratch, "/tmp", &err), OK, "%s", err.detail);
}

static void teardown(void)
{
    scratch_directory_close(&scratch);
}

TestSuite(feed, .init = setup, .fini = teardown);

Test(feed, cursor_round_trip)
{
    char c[FEED_CURSOR_LEN];
    int64_t seq = -1;
    feed_cursor_format(42, c);
    cr_assert_str_eq(c, "ev_000000000000002a");
    cr_assert(feed_cursor_parse(c, &seq));
    cr_assert_eq(seq, 42);
    cr_assert(feed_cursor_parse("", &seq));
    cr_assert_eq(seq, 0);
    char a[FEED_CURSOR_LEN], b[FEED_CURSOR_LEN];
    feed_cursor_format(9, a);
    feed_cursor_format(10, b);
    cr_assert_lt(strcmp(a, b), 0, "cursors sort like their events");
}

Test(feed, cursor_refusals)
{
    const char *bad[] = { "ev_",
                          "ev_2a",
                          "ev_000000000000002A",
                          "xx_000000000000002a",
                          "ev_000000000000002a0",
                          "ev_800000000000000a",
                          "ev_00000000000000-1",
                          "42",
                          NULL };
    int64_t seq = 0;
    for (size_t i = 0; bad[i]; i++)
        cr_assert(!feed_cursor_parse(bad[i], &seq), "'%s' is refused", bad[i]);
    cr_assert(!feed_cursor_parse(NULL, &seq));
}

Test(feed, time_bounds)
{
    char out[STORE_TIME_LEN];
    cr_assert(feed_time_parse("2026-12-03T16:00:00Z", out));
    cr_assert_str_eq(out, "2026-12-03T16:00:00.000Z", "written as events are, to compare as text");
    cr_assert(!feed_time_parse("yesterday", out));
    cr_assert(!feed_time_parse("", out));
    cr_assert(!feed_time_parse(NULL, out));
}

static enum status collect(void *ctx, const struct store_event *e)
{
    json_t *seqs = ctx;
    json_array_append_new(seqs, json_integer(e->seq));
    return OK;
}

/* A tenant and an IdP: events of two types and subjects. */
static void make_events(struct store_tenant *t)
{
    struct scim_error err = { 0 };
    struct actor by = { "cli", NULL };
    cr_assert_eq(directory_tenant_create(&scratch.dir, "Feed", "feed", &by, t, &err), OK, "%s",
                 err.detail);
    for (int i = 0; i < 5; i++) {
        char name[32];
        snprintf(name, sizeof(name), "idp %d", i);
        struct store_idp idp;
        cr_assert_eq(directory_idp_create(&scratch.dir, t->id, name, "generic", &by, &idp, &err),
                     OK, "%s", err.detail);
    }
}

Test(feed, pages_return_every_event_once_in_order)
{
    struct store_tenant t;
    make_events(&t);
    json_t *all = json_array(), *paged = json_array();
    struct store_event_query q = { .limit = 100000 };
    int64_t next = 0;
    cr_assert_eq(feed_read(scratch.dir.store, &q, collect, all, &next), OK);
    cr_assert_geq(json_array_size(all), 6);
    /* pages of 2, each from the last cursor */
    int64_t cursor = 0;
    for (int round = 0; round < 100; round++) {
        struct store_event_query page = { .after_seq = cursor, .limit = 2 };
        size_t before = json_array_size(paged);
        cr_assert_eq(feed_read(scratch.dir.store, &page, collect, paged, &next), OK);
        if (json_array_size(paged) == before) {
            cr_assert_eq(next, cursor, "an empty page keeps the cursor");
            break;
        }
        cursor = next;
    }
    cr_assert(json_equal(all, paged), "the pages hold every event once, in order");
    for (size_t i = 1; i < json_array_size(all); i++)
        cr_assert_gt(json_integer_value(json_array_get(all, i)),
                     json_integer_value(json_array_get(all, i - 1)));
    /* a filter: only idp_created, still in order */
    json_t *typed = json_array();
    struct store_event_query by_type = { .type = "idp_created", .tenant_id = t.id };
    cr_assert_eq(feed_read(scratch.dir.store, &by_type, collect, typed, &next), OK);
    cr_assert_eq(json_array_size(typed), 5);
    cr_assert_eq(next, json_integer_value(json_array_get(typed, 4)));
    json_decref(all);
    json_decref(paged);
    json_decref(typed);
}

Test(feed, head_is_the_newest_event_on_sqlite)
{
    struct store_tenant t;
    make_events(&t);
    int64_t head = 0, last = 0;
    cr_assert_eq(feed_head(scratch.dir.store, &head), OK);
    struct store_tx *tx = NULL;
    cr_assert_eq(store_begin(scratch.dir.store, false, &tx), OK);
    cr_assert_eq(store_event_last_seq(tx, &last), OK);
    int64_t horizon = 0;
    cr_assert_eq(store_event_horizon(tx, &horizon), OK);
    cr_assert_eq(horizon, INT64_MAX, "SQLite commits in seq order: no bound");
    store_rollback(tx);
    cr_assert_eq(head, last);
}

Test(feed, event_json_shape)
{
    struct store_event e = {
        .seq = 7, .type = "scim_user_created", .actor = "token:x", .summary = "{\"a\":1}"
    };
    str_copy(e.id, sizeof(e.id), "01a23cb2-fee1-79ba-9cca-fd3de2ad7375");
    str_copy(e.at, sizeof(e.at), "2026-12-03T16:00:00.000Z");
    json_t *j = feed_event_json(&e);
    cr_assert_not_null(j);
    cr_assert_str_eq(json_string_value(json_object_get(j, "cursor")), "ev_0000000000000007");
    cr_assert(json_is_null(json_object_get(j, "tenant_id")));
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(j, "summary"), "a")), 1);
    json_decref(j);
}

Test(feed, tail_delivers_each_event_once)
{
    struct store_tenant t;
    make_events(&t);
    json_t *all = json_array(), *tailed = json_array();
    struct store_event_query q = { .limit = 100000 };
    int64_t next = 0;
    cr_assert_eq(feed_read(scratch.dir.store, &q, collect, all, &next), OK);
    int64_t second = json_integer_value(json_array_get(all, 1));
    struct feed_tail tail;
    feed_tail_init(&tail, 0);
    cr_assert_eq(feed_tail_mark(&tail, second), OK, "shown by a first page");
    struct store_event_query none = { 0 };
    cr_assert_eq(feed_tail_read(scratch.dir.store, &none, &tail, collect, tailed), OK);
    cr_assert_eq(json_array_size(tailed), json_array_size(all) - 1, "all but the marked one");
    cr_assert_eq(tail.settled, next, "SQLite: everything read is settled");
    cr_assert_eq(tail.n_seen, 0, "and forgotten");
    cr_assert_eq(feed_tail_read(scratch.dir.store, &none, &tail, collect, tailed), OK);
    cr_assert_eq(json_array_size(tailed), json_array_size(all) - 1, "nothing twice");
    feed_tail_release(&tail);
    json_decref(all);
    json_decref(tailed);
}
