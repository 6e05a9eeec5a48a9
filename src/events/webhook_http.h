/* SPDX-License-Identifier: Apache-2.0 */
/*
 * webhook_http.h - one POST of one message to a subscriber (libcurl): the
 * body with its content type and signature headers, what came back (status,
 * Retry-After, the start of the body), how long it took.
 *
 * Every socket passes the SSRF guard (outbound/addr_guard.h) with the
 * address it is about to connect to; no redirects, no proxy from the
 * environment, TLS verified.  A failure is a result (status 0 and a detail
 * naming what went wrong), never logged with the body or headers.
 *
 * Ownership: a struct webhook_http is one thread's (it keeps the connection
 * alive between calls); _free releases it.  Results are caller-owned.
 */
#ifndef SCIMD_EVENTS_WEBHOOK_HTTP_H
#define SCIMD_EVENTS_WEBHOOK_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

#define WEBHOOK_HTTP_TIMEOUT_MS         15000 /* Svix's per-attempt limit */
#define WEBHOOK_HTTP_CONNECT_TIMEOUT_MS 5000
#define WEBHOOK_HTTP_BODY_KEEP          4096 /* bytes of an answer kept */
#define WEBHOOK_HTTP_DETAIL_MAX         256
#define WEBHOOK_HTTP_HEADERS_MAX        6

struct webhook_http;

struct webhook_http_result {
    long status;        /* HTTP status; 0 when none came */
    long retry_after_s; /* Retry-After of a 429/503, else 0 */
    char *body;         /* the first WEBHOOK_HTTP_BODY_KEEP bytes, NUL-terminated, or NULL */
    size_t body_len;
    int64_t latency_ms;
    bool blocked;                         /* the SSRF guard refused the address */
    char detail[WEBHOOK_HTTP_DETAIL_MAX]; /* why there is no status, else "" */
};

enum status webhook_http_new(bool allow_private, struct webhook_http **out, struct scim_error *err);
void webhook_http_free(struct webhook_http *h);
/* POST body to url with Content-Type content_type and headers ("Name: value",
 * at most WEBHOOK_HTTP_HEADERS_MAX).  Fills res (release it). */
void webhook_http_post(struct webhook_http *h, const char *url, const char *content_type,
                       const char *const *headers, size_t n_headers, const char *body,
                       size_t body_len, struct webhook_http_result *res);
void webhook_http_result_release(struct webhook_http_result *res);

#endif
