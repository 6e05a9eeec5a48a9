/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stats_test.c - tests for the store's counters (store_stats_read, store.c
 * and sqlite.c): every write commit lands in the latency histogram, every
 * group commit in the batch histogram, read transactions count nothing,
 * and the pool is reported; the aggregate reads of rec_metrics.c.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "core/str.h"
#include "store/store.h"

#include "../../support/scratch_store.h"

static struct scratch_store scratch;

static void setup(void)
{
    struct scim_error err;
    cr_assert_eq(scratch_store_open(&scratch, "/tmp", &err), OK, "open: %s", err.detail);
}

static void teardown(void)
{
    scratch_store_close(&scratch);
}

static uint64_t sum(const uint64_t *v, size_t n)
{
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return s;
}

static void add_tenant(const char *name)
{
    struct store_tx *tx;
    cr_assert_eq(store_begin(scratch.store, true, &tx), OK);
    struct store_tenant t;
    memset(&t, 0, sizeof(t));
    cr_assert_eq(crypto_uuid(t.id), OK);
    str_copy(t.name, sizeof(t.name), name);
    str_copy(t.subdomain, sizeof(t.subdomain), name);
    cr_assert_eq(store_tenant_insert(tx, &t), OK);
    cr_assert_eq(store_commit(tx), OK);
}

Test(stats, commits_and_batches_counted, .init = setup, .fini = teardown)
{
    struct store_stats before, after;
    store_stats_read(scratch.store, &before);
    cr_assert_str_eq(before.backend, "sqlite");
    add_tenant("one");
    add_tenant("two");
    add_tenant("three");
    struct store_tx *tx;
    cr_assert_eq(store_begin(scratch.store, false, &tx), OK);
    cr_assert_eq(store_commit(tx), OK); /* a read: not a write commit */
    store_stats_read(scratch.store, &after);
    cr_assert_eq(after.commits - before.commits, 3);
    cr_assert_eq(sum(after.commit_buckets, STORE_COMMIT_BUCKETS) -
                     sum(before.commit_buckets, STORE_COMMIT_BUCKETS),
                 3, "each commit in a bucket (none took over 2.5 s)");
    cr_assert_eq(after.batched_tx - before.batched_tx, 3, "one thread: a batch each");
    cr_assert_eq(after.batches - before.batches, 3);
    cr_assert_eq(after.batch_buckets[0] - before.batch_buckets[0], 3, "in the bucket le=1");
    cr_assert_eq(after.pool_size, SCRATCH_STORE_POOL);
    cr_assert_geq(after.pool_open, 1);
    cr_assert_eq(after.pool_waits, 0);
}

static enum status count_queue(void *ctx, const struct store_app_queue *q)
{
    (void)q;
    ++*(int *)ctx;
    return OK;
}

static enum status count_token(void *ctx, const struct store_token *t)
{
    (void)t;
    ++*(int *)ctx;
    return OK;
}

Test(stats, aggregate_reads_on_an_empty_store, .init = setup, .fini = teardown)
{
    struct store_tx *tx;
    cr_assert_eq(store_begin(scratch.store, false, &tx), OK);
    int apps = 0, tokens = 0;
    cr_assert_eq(store_app_queue_each(tx, count_queue, &apps), OK);
    cr_assert_eq(store_token_expiring_each(tx, "2026-01-01T00:00:00.000Z",
                                           "2126-01-01T00:00:00.000Z", count_token, &tokens),
                 OK);
    store_rollback(tx);
    cr_assert_eq(apps, 0);
    cr_assert_eq(tokens, 0);
}
