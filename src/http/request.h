/* SPDX-License-Identifier: Apache-2.0 */
/*
 * request.h - one HTTP request and its response as handlers see them.
 *
 * Internal to src/http/.  A request is owned by the server for the life of
 * the connection's request; handlers fill the response, whose body the
 * server frees after sending.
 */
#ifndef SCIMD_HTTP_REQUEST_H
#define SCIMD_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"
#include "directory/directory.h"
#include "http/metrics.h"

struct MHD_Connection;
struct http_sse_hub;
struct http_sse_source;

struct http_request {
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    const char *body;
    size_t body_len;
    char source[64];          /* client address */
    struct http_sse_hub *sse; /* event streams (sse.h) */
};

struct http_response {
    int status;
    char *body; /* malloc'd, may be NULL */
    const char *content_type;
    char location[DIRECTORY_URL_MAX + 64];
    char etag[32];
    bool www_authenticate;
    unsigned retry_after_s; /* a Retry-After header when > 0 */
    const char *route;      /* static route template for metrics ("/Users/{id}"), or NULL */
    bool hsts;              /* served over TLS: Strict-Transport-Security */
    bool limited;           /* refused by a rate limit: which one */
    enum http_limit_kind limit;
    char set_cookie[160];        /* a Set-Cookie header (admin sessions), "" for none */
    bool console;                /* the web console: CSP and framing headers */
    struct http_sse_source *sse; /* stream this (a slot reserved with http_sse_reserve) */
};

/* Look up a query argument or header; NULL when absent. */
const char *http_query(const struct http_request *req, const char *name);
const char *http_header(const struct http_request *req, const char *name);
/* A header with its length in bytes, which counts any NUL inside it. */
const char *http_header_n(const struct http_request *req, const char *name, size_t *len);

/* Fill res with the SCIM error body of err. */
void http_respond_error(struct http_response *res, const struct scim_error *err);
/* Fill res with status and a JSON text body (ownership of body moves). */
void http_respond_json(struct http_response *res, int status, char *body);

struct http_ratelimit;

/* Handle everything under /scim/v2/inbound/; path is what follows that prefix.
 * limits (may be NULL: none) throttles failed authentications and rates. */
void scim_routes_handle(struct directory *dir, struct http_ratelimit *limits,
                        const struct http_request *req, const char *path,
                        struct http_response *res);

#endif
