/* SPDX-License-Identifier: Apache-2.0 */
/*
 * state_metrics.c - store counters, fan-out queues and token expiry as
 * Prometheus text, read when /metrics is scraped.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/str.h"
#include "directory/token_expiry.h"
#include "http/state_metrics.h"
#include "store/store_webhooks.h"

/* A label value as the text format wants it: \ " and newline escaped. */
static void put_label(struct buf *out, const char *value)
{
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"')
            buf_putc(out, '\\');
        if (*p == '\n') {
            buf_puts(out, "\\n");
            continue;
        }
        buf_putc(out, *p);
    }
}

static void family(struct buf *out, const char *name, const char *type, const char *help)
{
    buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The counters are read one by one while commits go on: a bucket may have
 * counted a commit the total has not yet, so the total is at least the
 * buckets' sum (a +Inf below the last bucket is an invalid histogram). */
static unsigned long long at_least(uint64_t total, uint64_t cumulative)
{
    return (unsigned long long)(total > cumulative ? total : cumulative);
}

static void render_store(const struct store_stats *st, struct buf *out)
{
    family(out, "scimd_store_commit_duration_seconds", "histogram",
           "Time a write transaction's commit takes until it is durable (with SQLite's group "
           "commit: until its batch is on disk).");
    uint64_t cumulative = 0;
    for (size_t b = 0; b < STORE_COMMIT_BUCKETS; b++) {
        cumulative += st->commit_buckets[b];
        buf_printf(out, "scimd_store_commit_duration_seconds_bucket{le=\"%g\"} %llu\n",
                   store_commit_bucket_s[b], (unsigned long long)cumulative);
    }
    buf_printf(out, "scimd_store_commit_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
               at_least(st->commits, cumulative));
    buf_printf(out, "scimd_store_commit_duration_seconds_sum %.6f\n", (double)st->commit_us / 1e6);
    buf_printf(out, "scimd_store_commit_duration_seconds_count %llu\n",
               at_least(st->commits, cumulative));

    if (strcmp(st->backend, "sqlite") == 0) {
        family(out, "scimd_store_group_commit_transactions", "histogram",
               "Write transactions per SQLite group commit (one fsync each).");
        cumulative = 0;
        for (size_t b = 0; b < STORE_BATCH_BUCKETS; b++) {
            cumulative += st->batch_buckets[b];
            buf_printf(out, "scimd_store_group_commit_transactions_bucket{le=\"%u\"} %llu\n",
                       store_batch_bucket_tx[b], (unsigned long long)cumulative);
        }
        buf_printf(out, "scimd_store_group_commit_transactions_bucket{le=\"+Inf\"} %llu\n",
                   at_least(st->batches, cumulative));
        buf_printf(out, "scimd_store_group_commit_transactions_sum %llu\n",
                   (unsigned long long)st->batched_tx);
        buf_printf(out, "scimd_store_group_commit_transactions_count %llu\n",
                   at_least(st->batches, cumulative));
    }

    family(out, "scimd_store_pool_waits_total", "counter",
           "Transactions that waited for a pooled database connection (PostgreSQL: any; SQLite: "
           "readers); raise --db-pool when it grows.");
    buf_printf(out, "scimd_store_pool_waits_total %llu\n", (unsigned long long)st->pool_waits);
    family(out, "scimd_store_pool_wait_seconds_total", "counter",
           "Time transactions spent waiting for a pooled database connection.");
    buf_printf(out, "scimd_store_pool_wait_seconds_total %.6f\n", (double)st->pool_wait_us / 1e6);
    family(out, "scimd_store_pool_connections", "gauge",
           "Pooled database connections open now (idle or in use), and the most there may be.");
    buf_printf(out, "scimd_store_pool_connections{state=\"open\"} %u\n", st->pool_open);
    buf_printf(out, "scimd_store_pool_connections{state=\"max\"} %u\n", st->pool_size);
}

/* ---- fan-out queues ------------------------------------------------------------------ */

/* The families of one app row, each a gauge with the same labels. */
enum queue_family {
    Q_PENDING,
    Q_RETRYING,
    Q_DEAD,
    Q_OLDEST_AGE,
    Q_LAST_SUCCESS,
    Q_ENABLED,
    Q_FAMILIES
};

/* clang-format off */
static const struct {
    const char *name;
    const char *help;
} queue_families[Q_FAMILIES] = {
    [Q_PENDING]       = { "scimd_app_jobs_pending", "Fan-out jobs of the app not yet done (due or waiting to retry), per app." },
    [Q_RETRYING]      = { "scimd_app_jobs_retrying", "Pending fan-out jobs that failed at least once, per app." },
    [Q_DEAD]          = { "scimd_app_dead_letters", "Fan-out jobs that gave up (scimd app retry brings them back), per app." },
    [Q_OLDEST_AGE]    = { "scimd_app_oldest_pending_job_age_seconds", "Age of the app's oldest pending fan-out job; 0 when none." },
    [Q_LAST_SUCCESS]  = { "scimd_app_last_success_timestamp_seconds", "When a call to the app last succeeded (absent when never)." },
    [Q_ENABLED]       = { "scimd_app_enabled", "1 when the app is enabled, 0 when an admin disabled it." },
};
/* clang-format on */

/* Rows are kept until every family is rendered: one buffer per family. */
struct queue_render {
    struct buf families[Q_FAMILIES];
    int64_t now_ms;
};

static void queue_sample(struct buf *out, enum queue_family f, const struct store_app_queue *q,
                         double value)
{
    buf_printf(out, "%s{tenant=\"", queue_families[f].name);
    put_label(out, q->tenant_id);
    buf_puts(out, "\",app=\"");
    put_label(out, q->app_id);
    buf_puts(out, "\",name=\"");
    put_label(out, q->name);
    buf_printf(out, "\"} %.15g\n", value);
}

static enum status add_queue(void *ctx, const struct store_app_queue *q)
{
    struct queue_render *r = ctx;
    int64_t at_ms = 0;
    double oldest_s = 0;
    if (q->oldest_pending_at[0] && clock_parse_iso(q->oldest_pending_at, &at_ms) &&
        r->now_ms > at_ms)
        oldest_s = (double)(r->now_ms - at_ms) / 1000;
    queue_sample(&r->families[Q_PENDING], Q_PENDING, q, (double)q->pending);
    queue_sample(&r->families[Q_RETRYING], Q_RETRYING, q, (double)q->retrying);
    queue_sample(&r->families[Q_DEAD], Q_DEAD, q, (double)q->dead);
    queue_sample(&r->families[Q_OLDEST_AGE], Q_OLDEST_AGE, q, oldest_s);
    if (q->last_success_at[0] && clock_parse_iso(q->last_success_at, &at_ms))
        queue_sample(&r->families[Q_LAST_SUCCESS], Q_LAST_SUCCESS, q, (double)at_ms / 1000);
    queue_sample(&r->families[Q_ENABLED], Q_ENABLED, q, strcmp(q->state, "enabled") == 0);
    return OK;
}

static enum status render_queues(struct store_tx *tx, struct buf *out)
{
    struct queue_render r = { .now_ms = clock_now_s() * 1000 };
    for (size_t f = 0; f < Q_FAMILIES; f++)
        buf_init(&r.families[f], 0);
    enum status rc = store_app_queue_each(tx, add_queue, &r);
    for (size_t f = 0; f < Q_FAMILIES; f++) {
        if (rc == OK) {
            family(out, queue_families[f].name, "gauge", queue_families[f].help);
            if (r.families[f].len)
                buf_append(out, r.families[f].data, r.families[f].len);
        }
        buf_release(&r.families[f]);
    }
    return rc;
}

/* ---- webhook queues -------------------------------------------------------------------- */

struct webhook_row {
    char tenant_id[STORE_ID_LEN];
    char id[STORE_ID_LEN];
    char last_success_at[STORE_TIME_LEN];
    bool enabled;
};

struct webhook_rows {
    struct webhook_row *v;
    size_t n, alloc;
};

static enum status add_webhook_row(void *ctx, const struct store_webhook *w)
{
    struct webhook_rows *l = ctx;
    struct webhook_row *v = array_room(l->v, l->n, &l->alloc, sizeof(*v), 16);
    if (v == NULL)
        return ERR_NOMEM;
    l->v = v;
    struct webhook_row *r = &l->v[l->n++];
    str_copy(r->tenant_id, sizeof(r->tenant_id), w->tenant_id);
    str_copy(r->id, sizeof(r->id), w->id);
    str_copy(r->last_success_at, sizeof(r->last_success_at), w->last_success_at);
    r->enabled = strcmp(w->state, "enabled") == 0;
    return OK;
}

static void webhook_sample(struct buf *out, const char *name, const struct webhook_row *w,
                           double value)
{
    buf_printf(out, "%s{tenant=\"", name);
    put_label(out, w->tenant_id);
    buf_puts(out, "\",webhook=\"");
    put_label(out, w->id);
    buf_printf(out, "\"} %.15g\n", value);
}

/* Per subscription: messages waiting, dead letters, last success, enabled. */
static enum status render_webhooks(struct store_tx *tx, struct buf *out)
{
    struct webhook_rows l = { 0 };
    enum status rc = store_webhook_each(tx, NULL, add_webhook_row, &l);
    struct buf pending, dead, success, enabled;
    buf_init(&pending, 0);
    buf_init(&dead, 0);
    buf_init(&success, 0);
    buf_init(&enabled, 0);
    for (size_t i = 0; rc == OK && i < l.n; i++) {
        const struct webhook_row *w = &l.v[i];
        struct store_webhook_counts c;
        rc = store_webhook_counts_get(tx, w->tenant_id, w->id, &c);
        if (rc != OK)
            break;
        webhook_sample(&pending, "scimd_webhook_messages_pending", w, (double)c.pending);
        webhook_sample(&dead, "scimd_webhook_dead_letters", w, (double)c.dead);
        int64_t at_ms;
        if (w->last_success_at[0] && clock_parse_iso(w->last_success_at, &at_ms))
            webhook_sample(&success, "scimd_webhook_last_success_timestamp_seconds", w,
                           (double)at_ms / 1000);
        webhook_sample(&enabled, "scimd_webhook_enabled", w, w->enabled);
    }
    if (rc == OK) {
        family(out, "scimd_webhook_messages_pending", "gauge",
               "Events waiting to be delivered to the subscription (due or waiting to retry).");
        buf_append(out, pending.data ? pending.data : "", pending.len);
        family(out, "scimd_webhook_dead_letters", "gauge",
               "Messages that gave up (scimd webhook replay ID --dead sends them again).");
        buf_append(out, dead.data ? dead.data : "", dead.len);
        family(out, "scimd_webhook_last_success_timestamp_seconds", "gauge",
               "When a delivery to the subscription last succeeded (absent when never).");
        buf_append(out, success.data ? success.data : "", success.len);
        family(out, "scimd_webhook_enabled", "gauge",
               "1 when the subscription is enabled, 0 when disabled (by an admin, a 410 or 5 "
               "days of failures).");
        buf_append(out, enabled.data ? enabled.data : "", enabled.len);
    }
    buf_release(&pending);
    buf_release(&dead);
    buf_release(&success);
    buf_release(&enabled);
    free(l.v);
    return rc;
}

/* ---- tokens -------------------------------------------------------------------------- */

struct token_count {
    const char *soon; /* now + TOKEN_EXPIRES_SOON_S */
    int64_t expiring_soon;
    char soonest[STORE_TIME_LEN]; /* "" when no live token expires */
};

static enum status count_token(void *ctx, const struct store_token *t)
{
    struct token_count *c = ctx;
    if (!c->soonest[0])
        str_copy(c->soonest, sizeof(c->soonest), t->expires_at); /* delivered soonest first */
    if (strcmp(t->expires_at, c->soon) <= 0)
        c->expiring_soon++;
    return OK;
}

static enum status render_tokens(struct store_tx *tx, struct buf *out)
{
    int64_t now_s = clock_now_s();
    char now[CLOCK_ISO_LEN], soon[CLOCK_ISO_LEN], never[CLOCK_ISO_LEN];
    clock_iso_from_ms(now_s * 1000, now);
    clock_iso_from_ms((now_s + TOKEN_EXPIRES_SOON_S) * 1000, soon);
    clock_iso_from_ms((now_s + CLOCK_DURATION_MAX_S) * 1000, never);
    struct token_count c = { .soon = soon };
    enum status rc = store_token_expiring_each(tx, now, never, count_token, &c);
    if (rc != OK)
        return rc;
    family(out, "scimd_tokens_expiring_soon", "gauge",
           "Live SCIM tokens that expire within 14 days: rotate them (scimd token list).");
    buf_printf(out, "scimd_tokens_expiring_soon %lld\n", (long long)c.expiring_soon);
    family(out, "scimd_token_next_expiry_timestamp_seconds", "gauge",
           "When the first live SCIM token with an expiry stops working (absent when none).");
    int64_t at_ms;
    if (c.soonest[0] && clock_parse_iso(c.soonest, &at_ms))
        buf_printf(out, "scimd_token_next_expiry_timestamp_seconds %.3f\n", (double)at_ms / 1000);
    return OK;
}

void http_state_metrics_render(struct store *store, struct buf *out)
{
    struct store_stats st;
    store_stats_read(store, &st);
    render_store(&st, out);

    struct store_tx *tx = NULL;
    enum status rc = store_begin(store, false, &tx);
    if (rc == OK)
        rc = render_queues(tx, out);
    if (rc == OK)
        rc = render_webhooks(tx, out);
    if (rc == OK)
        rc = render_tokens(tx, out);
    store_rollback(tx);
    if (rc != OK)
        log_warn("metrics: cannot read queues and tokens from the database: %s", status_name(rc));
    family(out, "scimd_store_up", "gauge",
           "1 when the last scrape read the database, 0 when it did not answer.");
    buf_printf(out, "scimd_store_up %d\n", rc == OK);
}
