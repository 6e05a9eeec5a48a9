/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics.c - counters and histograms in two fixed arrays of series, found
 * through a hash index, and their Prometheus text exposition.
 *
 * The request path takes no lock: a series, once published, never changes
 * its labels, and its counts are relaxed atomics.  Only a new series takes
 * the mutex (to claim a slot and publish it in the index); a scrape reads
 * what is published.  Labels are compared by content, so one label passed
 * from two different strings still makes one series.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/version.h"
#include "http/metrics.h"

/* Latency buckets, seconds (upper bounds; +Inf is the count). */
static const double bucket_s[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                   0.25,  0.5,    1,     2.5,  5,     10 };
#define BUCKETS (sizeof(bucket_s) / sizeof(bucket_s[0]))

static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS" };
#define METHODS (sizeof(methods) / sizeof(methods[0]))

static const char *const limit_names[HTTP_LIMIT_KINDS] = {
    [HTTP_LIMIT_TOKEN] = "token",
    [HTTP_LIMIT_CONNECTION] = "connection",
    [HTTP_LIMIT_AUTH] = "auth_failures",
};

/* Index slots per table: a power of two, twice the series at most. */
#define INDEX_SLOTS (2 * HTTP_METRICS_MAX_SERIES)

/* The labels of a series: immutable once published. */
struct labels {
    const char *route;
    const char *method; /* one of methods[] or "other" */
    int status;         /* counters only; histograms use 0 */
};

struct counter {
    struct labels key;
    _Atomic uint64_t count;
};

struct histogram {
    struct labels key;
    _Atomic uint64_t buckets[BUCKETS]; /* not cumulative; summed when rendered */
    _Atomic uint64_t count;
    _Atomic uint64_t sum_us;
};

/* Series of one kind: slots [0, used) are published, in order of arrival;
 * index maps a hash of the labels to slot + 1 (0: empty). */
struct table {
    _Atomic size_t used;
    _Atomic unsigned index[INDEX_SLOTS];
};

struct http_metrics {
    pthread_mutex_t lock; /* publishing a new series */
    struct table counter_table, histogram_table;
    struct counter counters[HTTP_METRICS_MAX_SERIES];
    struct histogram histograms[HTTP_METRICS_MAX_SERIES];
    _Atomic uint64_t dropped;
    _Atomic uint64_t limited[HTTP_LIMIT_KINDS];
    atomic_long open_connections;
};

enum status http_metrics_new(struct http_metrics **out)
{
    struct http_metrics *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return ERR_NOMEM;
    pthread_mutex_init(&m->lock, NULL);
    atomic_init(&m->open_connections, 0);
    *out = m;
    return OK;
}

void http_metrics_free(struct http_metrics *m)
{
    if (m == NULL)
        return;
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static const char *method_label(const char *method)
{
    for (size_t i = 0; i < METHODS; i++)
        if (strcmp(method, methods[i]) == 0)
            return methods[i];
    return "other";
}

/* FNV-1a over the route text, the method and the status. */
static size_t hash_of(const struct labels *k)
{
    uint64_t h = 14695981039346656037ULL;
    for (const unsigned char *p = (const unsigned char *)k->route; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    for (const unsigned char *p = (const unsigned char *)k->method; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    h = (h ^ (uint64_t)(unsigned)k->status) * 1099511628211ULL;
    return (size_t)(h & (INDEX_SLOTS - 1));
}

static bool same(const struct labels *a, const struct labels *b)
{
    return a->status == b->status && (a->route == b->route || strcmp(a->route, b->route) == 0) &&
           (a->method == b->method || strcmp(a->method, b->method) == 0);
}

/* The labels of slot i of a table (counters or histograms). */
typedef const struct labels *(*labels_at_fn)(const struct http_metrics *m, size_t i);

static const struct labels *counter_labels(const struct http_metrics *m, size_t i)
{
    return &m->counters[i].key;
}

static const struct labels *histogram_labels(const struct http_metrics *m, size_t i)
{
    return &m->histograms[i].key;
}

/* Probe t for key from its hash: the slot, or SIZE_MAX at an empty index
 * entry (*at: where). */
static size_t probe(const struct http_metrics *m, struct table *t, labels_at_fn labels_at,
                    const struct labels *key, size_t h, size_t *at)
{
    for (size_t n = 0; n < INDEX_SLOTS; n++, h = (h + 1) & (INDEX_SLOTS - 1)) {
        unsigned v = atomic_load_explicit(&t->index[h], memory_order_acquire);
        if (v == 0) {
            *at = h;
            return SIZE_MAX;
        }
        if (same(labels_at(m, v - 1), key))
            return v - 1;
    }
    *at = SIZE_MAX;
    return SIZE_MAX; /* cannot happen: the index is never more than half full */
}

/* The slot of key in t, published now if new; SIZE_MAX when t is full.
 * set_key writes the labels into a claimed slot before it is published. */
static size_t find_or_add(struct http_metrics *m, struct table *t, labels_at_fn labels_at,
                          void (*set_key)(struct http_metrics *m, size_t i,
                                          const struct labels *key),
                          const struct labels *key)
{
    size_t h = hash_of(key), at;
    size_t i = probe(m, t, labels_at, key, h, &at);
    if (i != SIZE_MAX)
        return i;
    pthread_mutex_lock(&m->lock);
    i = probe(m, t, labels_at, key, h, &at); /* another thread may have added it */
    size_t used = atomic_load_explicit(&t->used, memory_order_relaxed);
    if (i == SIZE_MAX && at != SIZE_MAX && used < HTTP_METRICS_MAX_SERIES) {
        i = used;
        set_key(m, i, key);
        atomic_store_explicit(&t->used, used + 1, memory_order_release);
        atomic_store_explicit(&t->index[at], (unsigned)i + 1, memory_order_release);
    }
    pthread_mutex_unlock(&m->lock);
    return i;
}

static void set_counter_key(struct http_metrics *m, size_t i, const struct labels *key)
{
    m->counters[i].key = *key;
}

static void set_histogram_key(struct http_metrics *m, size_t i, const struct labels *key)
{
    m->histograms[i].key = *key;
}

static void add(_Atomic uint64_t *counter, uint64_t n)
{
    atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

static uint64_t get(const _Atomic uint64_t *counter)
{
    return atomic_load_explicit(counter, memory_order_relaxed);
}

void http_metrics_request(struct http_metrics *m, const char *route, const char *method, int status,
                          int64_t duration_us)
{
    struct labels key = { route, method_label(method), status };
    size_t b = 0;
    while (b < BUCKETS && (double)duration_us > bucket_s[b] * 1e6)
        b++;
    size_t c = find_or_add(m, &m->counter_table, counter_labels, set_counter_key, &key);
    key.status = 0;
    size_t h = find_or_add(m, &m->histogram_table, histogram_labels, set_histogram_key, &key);
    if (c == SIZE_MAX || h == SIZE_MAX) {
        add(&m->dropped, 1);
        return;
    }
    add(&m->counters[c].count, 1);
    struct histogram *x = &m->histograms[h];
    if (b < BUCKETS)
        add(&x->buckets[b], 1);
    add(&x->count, 1);
    add(&x->sum_us, duration_us > 0 ? (uint64_t)duration_us : 0);
}

void http_metrics_limited(struct http_metrics *m, enum http_limit_kind kind)
{
    add(&m->limited[kind], 1);
}

void http_metrics_connection(struct http_metrics *m, int delta)
{
    atomic_fetch_add(&m->open_connections, delta);
}

void http_metrics_render(struct http_metrics *m, struct buf *out)
{
    buf_puts(out, "# HELP scimd_build_info The running scimd.\n"
                  "# TYPE scimd_build_info gauge\n");
    buf_printf(out, "scimd_build_info{version=\"%s\"} 1\n", SCIMD_VERSION);

    buf_puts(out, "# HELP scimd_http_requests_total HTTP requests answered, by route template, "
                  "method and status.\n"
                  "# TYPE scimd_http_requests_total counter\n");
    size_t n = atomic_load_explicit(&m->counter_table.used, memory_order_acquire);
    for (size_t i = 0; i < n; i++) {
        const struct counter *c = &m->counters[i];
        buf_printf(out,
                   "scimd_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n",
                   c->key.route, c->key.method, c->key.status, (unsigned long long)get(&c->count));
    }

    buf_puts(out, "# HELP scimd_http_request_duration_seconds Time from a complete request to "
                  "its answer, by route template and method.\n"
                  "# TYPE scimd_http_request_duration_seconds histogram\n");
    n = atomic_load_explicit(&m->histogram_table.used, memory_order_acquire);
    for (size_t i = 0; i < n; i++) {
        const struct histogram *h = &m->histograms[i];
        /* a request recorded while this reads may be in a bucket but not yet
         * in the count: +Inf is never less than the buckets before it */
        uint64_t cumulative = 0;
        for (size_t b = 0; b < BUCKETS; b++) {
            cumulative += get(&h->buckets[b]);
            buf_printf(out,
                       "scimd_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\","
                       "le=\"%g\"} %llu\n",
                       h->key.route, h->key.method, bucket_s[b], (unsigned long long)cumulative);
        }
        uint64_t count = get(&h->count);
        if (count < cumulative)
            count = cumulative;
        buf_printf(out,
                   "scimd_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\","
                   "le=\"+Inf\"} %llu\n",
                   h->key.route, h->key.method, (unsigned long long)count);
        buf_printf(out,
                   "scimd_http_request_duration_seconds_sum{route=\"%s\",method=\"%s\"} %.6f\n",
                   h->key.route, h->key.method, (double)get(&h->sum_us) / 1e6);
        buf_printf(out,
                   "scimd_http_request_duration_seconds_count{route=\"%s\",method=\"%s\"} %llu\n",
                   h->key.route, h->key.method, (unsigned long long)count);
    }

    buf_puts(out, "# HELP scimd_rate_limited_total Requests refused with 429, by the limit they "
                  "hit.\n"
                  "# TYPE scimd_rate_limited_total counter\n");
    for (int k = 0; k < HTTP_LIMIT_KINDS; k++)
        buf_printf(out, "scimd_rate_limited_total{limit=\"%s\"} %llu\n", limit_names[k],
                   (unsigned long long)get(&m->limited[k]));

    buf_puts(out, "# HELP scimd_http_metrics_dropped_total Requests not counted: too many "
                  "series.\n"
                  "# TYPE scimd_http_metrics_dropped_total counter\n");
    buf_printf(out, "scimd_http_metrics_dropped_total %llu\n",
               (unsigned long long)get(&m->dropped));

    buf_puts(out, "# HELP scimd_http_open_connections HTTP connections open now.\n"
                  "# TYPE scimd_http_open_connections gauge\n");
    buf_printf(out, "scimd_http_open_connections %ld\n", atomic_load(&m->open_connections));
}
