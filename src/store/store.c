/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store.c - picks the backend named by a store URL and forwards the
 * transaction calls to it; also the record helpers that do not depend on a
 * backend.  The record operations live in rec_*.c, written once over stmt.h.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store.h"

#include "core/log.h"
#include "core/str.h"
#include "store/store_backend.h"

static const struct store_ops *ops_of(const void *store_or_tx)
{
    return ((const struct store_head *)store_or_tx)->ops;
}

enum status store_open(const char *url, unsigned pool_size, struct store **out,
                       struct scim_error *err)
{
    if (url != NULL && (str_istarts(url, "postgres://") || str_istarts(url, "postgresql://")))
        return postgres_store_open(url, pool_size, out, err);
    return sqlite_store_open(url, pool_size, out, err);
}

void store_close(struct store *store)
{
    if (store != NULL)
        ops_of(store)->close(store);
}

enum status store_begin(struct store *store, bool write, struct store_tx **out)
{
    return ops_of(store)->begin(store, write, out);
}

enum status store_lock(struct store_tx *tx, const char *key)
{
    return ops_of(tx)->lock(tx, key);
}

/* clang-format off */
const double store_commit_bucket_s[STORE_COMMIT_BUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
};
const unsigned store_batch_bucket_tx[STORE_BATCH_BUCKETS] = { 1, 2, 4, 8, 16, 32, 64, 128 };
/* clang-format on */

int64_t store_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void count(_Atomic uint64_t *counter, uint64_t n)
{
    atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

/* A write transaction's commit (durable on return) took took_us. */
static void count_commit(struct store_counters *c, int64_t took_us)
{
    uint64_t us = took_us > 0 ? (uint64_t)took_us : 0;
    size_t b = 0;
    while (b < STORE_COMMIT_BUCKETS && (double)us > store_commit_bucket_s[b] * 1e6)
        b++;
    if (b < STORE_COMMIT_BUCKETS)
        count(&c->commit_buckets[b], 1);
    count(&c->commits, 1);
    count(&c->commit_us, us);
}

void store_count_batch(struct store_counters *c, unsigned n)
{
    size_t b = 0;
    while (b < STORE_BATCH_BUCKETS && n > store_batch_bucket_tx[b])
        b++;
    if (b < STORE_BATCH_BUCKETS)
        count(&c->batch_buckets[b], 1);
    count(&c->batches, 1);
    count(&c->batched_tx, n);
}

void store_count_pool_wait(struct store_counters *c, int64_t wait_us)
{
    count(&c->pool_waits, 1);
    count(&c->pool_wait_us, wait_us > 0 ? (uint64_t)wait_us : 0);
}

enum status store_commit(struct store_tx *tx)
{
    const struct store_tx_common *common = (const struct store_tx_common *)tx;
    if (!common->write)
        return ops_of(tx)->commit(tx);
    struct store_common *store = (struct store_common *)common->store; /* tx is freed below */
    int64_t start_us = store_mono_us();
    enum status rc = ops_of(tx)->commit(tx);
    count_commit(&store->counters, store_mono_us() - start_us);
    return rc;
}

void store_stats_read(struct store *s, struct store_stats *out)
{
    struct store_common *store = (struct store_common *)s;
    struct store_counters *c = &store->counters;
    memset(out, 0, sizeof(*out));
    out->backend = ops_of(s)->name;
    for (size_t b = 0; b < STORE_COMMIT_BUCKETS; b++)
        out->commit_buckets[b] = atomic_load_explicit(&c->commit_buckets[b], memory_order_relaxed);
    out->commits = atomic_load_explicit(&c->commits, memory_order_relaxed);
    out->commit_us = atomic_load_explicit(&c->commit_us, memory_order_relaxed);
    for (size_t b = 0; b < STORE_BATCH_BUCKETS; b++)
        out->batch_buckets[b] = atomic_load_explicit(&c->batch_buckets[b], memory_order_relaxed);
    out->batches = atomic_load_explicit(&c->batches, memory_order_relaxed);
    out->batched_tx = atomic_load_explicit(&c->batched_tx, memory_order_relaxed);
    out->pool_waits = atomic_load_explicit(&c->pool_waits, memory_order_relaxed);
    out->pool_wait_us = atomic_load_explicit(&c->pool_wait_us, memory_order_relaxed);
    if (store->pool != NULL) {
        pthread_mutex_lock(&store->pool->mu);
        out->pool_size = store->pool->size;
        out->pool_open = store->pool->n_conns;
        pthread_mutex_unlock(&store->pool->mu);
    }
}

void store_rollback(struct store_tx *tx)
{
    if (tx != NULL)
        ops_of(tx)->rollback(tx);
}

/* ---- what the backends share ---------------------------------------------------------- */

void store_pool_init(struct store_pool *p, unsigned size)
{
    p->size = size;
    p->n_conns = 0;
    p->idle = NULL;
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &attr);
    pthread_condattr_destroy(&attr);
}

void store_pool_release(struct store_pool *p, void (*close_conn)(struct store_pool_conn *c))
{
    pthread_mutex_lock(&p->mu);
    struct store_pool_conn *c = p->idle;
    p->idle = NULL;
    pthread_mutex_unlock(&p->mu);
    while (c != NULL) {
        struct store_pool_conn *next = c->next;
        close_conn(c);
        p->n_conns--;
        c = next;
    }
    if (p->n_conns != 0)
        log_error("store: closed with %u transactions still open", p->n_conns);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
}

void store_pool_put(struct store_pool *p, struct store_pool_conn *c, bool reuse)
{
    pthread_mutex_lock(&p->mu);
    if (reuse) {
        c->next = p->idle;
        p->idle = c;
    } else {
        p->n_conns--;
    }
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void store_pool_slot_free(struct store_pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->n_conns--;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void *store_tx_new(size_t size, const struct store_ops *ops, struct store *s, bool write)
{
    struct store_tx_common *tx = calloc(1, size);
    if (tx != NULL) {
        tx->head.ops = ops;
        tx->store = s;
        tx->write = write;
    }
    return tx;
}

/* ---- records --------------------------------------------------------------------- */

void store_user_release(struct store_user *u)
{
    if (u == NULL)
        return;
    free(u->username);
    free(u->email);
    free(u->given_name);
    free(u->family_name);
    free(u->display_name);
    u->username = u->email = u->given_name = u->family_name = u->display_name = NULL;
}

void store_idp_user_release(struct store_idp_user *r)
{
    if (r == NULL)
        return;
    /* emails belong to the caller (store.h): never freed here. */
    free(r->external_id);
    free(r->user_name);
    free(r->doc);
    r->external_id = r->user_name = r->doc = NULL;
}

void store_group_release(struct store_group *g)
{
    if (g == NULL)
        return;
    free(g->external_id);
    free(g->display_name);
    free(g->doc);
    g->external_id = g->display_name = g->doc = NULL;
}
