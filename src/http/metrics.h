/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics.h - the server's Prometheus metrics and their text exposition
 * (format 0.0.4): requests by route template, method and status, request
 * latency histograms by route and method, rate-limit refusals by limit, open
 * connections, and build information.
 *
 * Routes are templates ("/Users/{id}"), never raw paths, so the number of
 * series stays bounded: labels are static strings the caller passes, methods
 * outside the known set count as "other", and beyond HTTP_METRICS_MAX_SERIES
 * series new combinations are dropped (and counted).  One struct per server;
 * every call is thread-safe, and recording a request takes no lock once its
 * series exists (atomic counters; only a new series takes a mutex).
 */
#ifndef SCIMD_HTTP_METRICS_H
#define SCIMD_HTTP_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "core/str.h"

#define HTTP_METRICS_MAX_SERIES 1024 /* (route, method, status) and (route, method) each */

struct http_metrics;

enum http_limit_kind { HTTP_LIMIT_TOKEN, HTTP_LIMIT_CONNECTION, HTTP_LIMIT_AUTH, HTTP_LIMIT_KINDS };

enum status http_metrics_new(struct http_metrics **out);
void http_metrics_free(struct http_metrics *m);

/* One answered request: route is a static template label. */
void http_metrics_request(struct http_metrics *m, const char *route, const char *method, int status,
                          int64_t duration_us);
void http_metrics_limited(struct http_metrics *m, enum http_limit_kind kind);
/* A connection opened (+1) or closed (-1). */
void http_metrics_connection(struct http_metrics *m, int delta);

/* Append the exposition text to out. */
void http_metrics_render(struct http_metrics *m, struct buf *out);

#endif
