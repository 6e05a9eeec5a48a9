/*
 * metrics_test.c - tests for src/http/metrics.c: counters per (route,
 * method, status), unknown methods as "other", cumulative histogram buckets
 * with +Inf equal to the count, rate-limit counters, the connection gauge,
 * and new series dropped (and counted) beyond HTTP_METRICS_MAX_SERIES.
 */
#include <criterion/criterion.h>
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
