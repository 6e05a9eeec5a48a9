/*
 * metrics.c - counters and histograms in two fixed arrays searched by
 * label under one mutex, and their Prometheus text exposition.
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

struct counter {
    const char *route; /* NULL: free */
    const char *method;
    int status;
    uint64_t count;
};

struct histogram {
    const char *route; /* NULL: free */
    const char *method;
    uint64_t buckets[BUCKETS]; /* not cumulative; summed when rendered */
    uint64_t count;
    uint64_t sum_us;
};

struct http_metrics {
    pthread_mutex_t lock;
    struct counter counters[HTTP_METRICS_MAX_SERIES];
    struct histogram histograms[HTTP_METRICS_MAX_SERIES];
    uint64_t dropped;
    uint64_t limited[HTTP_LIMIT_KINDS];
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

void http_metrics_request(struct http_metrics *m, const char *route, const char *method, int status,
                          int64_t duration_us)
{
    const char *me = method_label(method);
    size_t b = 0;
    while (b < BUCKETS && (double)duration_us > bucket_s[b] * 1e6)
        b++;
    pthread_mutex_lock(&m->lock);
    struct counter *c = NULL;
    for (size_t i = 0; i < HTTP_METRICS_MAX_SERIES; i++) {
        struct counter *x = &m->counters[i];
        if (x->route == NULL ||
            (x->status == status && strcmp(x->route, route) == 0 && strcmp(x->method, me) == 0)) {
            c = x;
            break;
        }
    }
    struct histogram *h = NULL;
    for (size_t i = 0; i < HTTP_METRICS_MAX_SERIES; i++) {
        struct histogram *x = &m->histograms[i];
        if (x->route == NULL || (strcmp(x->route, route) == 0 && strcmp(x->method, me) == 0)) {
            h = x;
            break;
        }
    }
    if (c == NULL || h == NULL) {
        m->dropped++;
    } else {
        c->route = route;
        c->method = me;
        c->status = status;
        c->count++;
        h->route = route;
        h->method = me;
        if (b < BUCKETS)
            h->buckets[b]++;
        h->count++;
        h->sum_us += duration_us > 0 ? (uint64_t)duration_us : 0;
    }
    pthread_mutex_unlock(&m->lock);
}

void http_metrics_limited(struct http_metrics *m, enum http_limit_kind kind)
{
    pthread_mutex_lock(&m->lock);
    m->limited[kind]++;
    pthread_mutex_unlock(&m->lock);
}

void http_metrics_connection(struct http_metrics *m, int delta)
{
    atomic_fetch_add(&m->open_connections, delta);
}

void http_metrics_render(struct http_metrics *m, struct buf *out)
{
    pthread_mutex_lock(&m->lock);
    buf_puts(out, "# HELP scimd_build_info The running scimd.\n"
                  "# TYPE scimd_build_info gauge\n");
    buf_printf(out, "scimd_build_info{version=\"%s\"} 1\n", SCIMD_VERSION);

    buf_puts(out, "# HELP scimd_http_requests_total HTTP requests answered, by route template, "
                  "method and status.\n"
                  "# TYPE scimd_http_requests_total counter\n");
    for (size_t i = 0; i < HTTP_METRICS_MAX_SERIES && m->counters[i].route; i++) {
        const struct counter *c = &m->counters[i];
        buf_printf(out,
                   "scimd_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n",
                   c->route, c->method, c->status, (unsigned long long)c->count);
    }

    buf_puts(out, "# HELP scimd_http_request_duration_seconds Time from a complete request to "
                  "its answer, by route template and method.\n"
                  "# TYPE scimd_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < HTTP_METRICS_MAX_SERIES && m->histograms[i].route; i++) {
        const struct histogram *h = &m->histograms[i];
        uint64_t cumulative = 0;
        for (size_t b = 0; b < BUCKETS; b++) {
            cumulative += h->buckets[b];
            buf_printf(out,
                       "scimd_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\","
                       "le=\"%g\"} %llu\n",
                       h->route, h->method, bucket_s[b], (unsigned long long)cumulative);
        }
        buf_printf(out,
                   "scimd_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\","
                   "le=\"+Inf\"} %llu\n",
                   h->route, h->method, (unsigned long long)h->count);
        buf_printf(out,
                   "scimd_http_request_duration_seconds_sum{route=\"%s\",method=\"%s\"} %.6f\n",
                   h->route, h->method, (double)h->sum_us / 1e6);
        buf_printf(out,
                   "scimd_http_request_duration_seconds_count{route=\"%s\",method=\"%s\"} %llu\n",
                   h->route, h->method, (unsigned long long)h->count);
    }

    buf_puts(out, "# HELP scimd_rate_limited_total Requests refused with 429, by the limit they "
                  "hit.\n"
                  "# TYPE scimd_rate_limited_total counter\n");
    for (int k = 0; k < HTTP_LIMIT_KINDS; k++)
        buf_printf(out, "scimd_rate_limited_total{limit=\"%s\"} %llu\n", limit_names[k],
                   (unsigned long long)m->limited[k]);

    buf_puts(out, "# HELP scimd_http_metrics_dropped_total Requests not counted: too many "
                  "series.\n"
                  "# TYPE scimd_http_metrics_dropped_total counter\n");
    buf_printf(out, "scimd_http_metrics_dropped_total %llu\n", (unsigned long long)m->dropped);
    pthread_mutex_unlock(&m->lock);

    buf_puts(out, "# HELP scimd_http_open_connections HTTP connections open now.\n"
                  "# TYPE scimd_http_open_connections gauge\n");
    buf_printf(out, "scimd_http_open_connections %ld\n", atomic_load(&m->open_connections));
}
