/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics_test.c - tests for src/http/metrics.c: counters per (route,
 * method, status), unknown methods as "other", cumulative histogram buckets
 * with +Inf equal to the count, rate-limit counters, the connection gauge,
 * new series dropped (and counted) beyond HTTP_METRICS_MAX_SERIES, and many
 * threads recording at once without a lost count or a duplicate series.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "http/metrics.h"

static char *render(struct http_metrics *m)
{
    struct buf b;
    buf_init(&b, 0);
    http_metrics_render(m, &b);
    return buf_take(&b);
}

Test(metrics, counters_histograms_limits_and_gauge)
{
    struct http_metrics *m = NULL;
    cr_assert_eq(http_metrics_new(&m), OK);
    http_metrics_request(m, "/Users/{id}", "GET", 200, 500);      /* 0.5 ms */
    http_metrics_request(m, "/Users/{id}", "GET", 200, 30000);    /* 30 ms */
    http_metrics_request(m, "/Users/{id}", "GET", 404, 20000000); /* 20 s: beyond every bucket */
    http_metrics_request(m, "/Users", "BREW", 405, 100);
    http_metrics_limited(m, HTTP_LIMIT_TOKEN);
    http_metrics_connection(m, 1);
    http_metrics_connection(m, 1);
    http_metrics_connection(m, -1);
    char *text = render(m);
    const char *want[] = {
        "scimd_build_info{version=\"",
        "scimd_http_requests_total{route=\"/Users/{id}\",method=\"GET\",status=\"200\"} 2\n",
        "scimd_http_requests_total{route=\"/Users/{id}\",method=\"GET\",status=\"404\"} 1\n",
        "scimd_http_requests_total{route=\"/Users\",method=\"other\",status=\"405\"} 1\n",
        "scimd_http_request_duration_seconds_bucket{route=\"/Users/{id}\",method=\"GET\",le=\"0.001\"} 1\n",
        "scimd_http_request_duration_seconds_bucket{route=\"/Users/{id}\",method=\"GET\",le=\"0.05\"} 2\n",
        "scimd_http_request_duration_seconds_bucket{route=\"/Users/{id}\",method=\"GET\",le=\"10\"} 2\n",
        "scimd_http_request_duration_seconds_bucket{route=\"/Users/{id}\",method=\"GET\",le=\"+Inf\"} 3\n",
        "scimd_http_request_duration_seconds_count{route=\"/Users/{id}\",method=\"GET\"} 3\n",
        "scimd_http_request_duration_seconds_sum{route=\"/Users/{id}\",method=\"GET\"} 20.030500\n",
        "scimd_rate_limited_total{limit=\"token\"} 1\n",
        "scimd_rate_limited_total{limit=\"connection\"} 0\n",
        "scimd_http_open_connections 1\n",
        "# TYPE scimd_http_request_duration_seconds histogram\n",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        cr_assert(strstr(text, want[i]) != NULL, "missing %s in:\n%s", want[i], text);
    free(text);
    http_metrics_free(m);
}

Test(metrics, series_beyond_the_cap_are_dropped_and_counted)
{
    struct http_metrics *m = NULL;
    cr_assert_eq(http_metrics_new(&m), OK);
    for (int status = 0; status < HTTP_METRICS_MAX_SERIES + 5; status++)
        http_metrics_request(m, "/Users", "GET", status, 1);
    char *text = render(m);
    cr_assert(strstr(text, "scimd_http_metrics_dropped_total 5\n") != NULL, "%s",
              strstr(text, "dropped"));
    free(text);
    http_metrics_free(m);
}

/* ---- many threads at once: no count lost, one series per label set ---- */

#define RACE_THREADS 8
#define RACE_CALLS   20000

/* The same label in two static strings (labels live as long as the metrics)
 * must still make one series. */
static const char groups_a[] = "/Groups";
static const char groups_b[] = "/Groups";

static void *record_many(void *arg)
{
    struct http_metrics *m = arg;
    for (int i = 0; i < RACE_CALLS; i++)
        http_metrics_request(m,
                             (i & 1)   ? "/Users"
                             : (i & 4) ? groups_a
                                       : groups_b,
                             (i & 2) ? "GET" : "PATCH", 200, i);
    return NULL;
}

Test(metrics, concurrent_requests_all_counted_once)
{
    struct http_metrics *m = NULL;
    cr_assert_eq(http_metrics_new(&m), OK);
    pthread_t t[RACE_THREADS];
    for (int i = 0; i < RACE_THREADS; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, record_many, m), 0);
    for (int i = 0; i < RACE_THREADS; i++)
        pthread_join(t[i], NULL);
    char *text = render(m);
    const char *series[] = { "route=\"/Users\",method=\"GET\"", "route=\"/Users\",method=\"PATCH\"",
                             "route=\"/Groups\",method=\"GET\"",
                             "route=\"/Groups\",method=\"PATCH\"" };
    for (size_t i = 0; i < 4; i++) {
        char want[160];
        snprintf(want, sizeof(want), "scimd_http_requests_total{%s,status=\"200\"} %d\n", series[i],
                 RACE_THREADS * RACE_CALLS / 4);
        cr_assert(strstr(text, want) != NULL, "missing %s in:\n%s", want, text);
        snprintf(want, sizeof(want), "scimd_http_request_duration_seconds_count{%s} %d\n",
                 series[i], RACE_THREADS * RACE_CALLS / 4);
        cr_assert(strstr(text, want) != NULL, "missing %s", want);
        /* one series each: the label set appears once among the counters */
        snprintf(want, sizeof(want), "scimd_http_requests_total{%s", series[i]);
        const char *first = strstr(text, want);
        cr_assert(first != NULL && strstr(first + 1, want) == NULL, "%s twice", want);
    }
    free(text);
    http_metrics_free(m);
}
