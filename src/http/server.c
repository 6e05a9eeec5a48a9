/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server.c - libmicrohttpd daemon: connection limits and slow-client
 * deadlines, request heads and bodies with hard caps (refused on the
 * announcement, with SCIM error bodies), response headers, and the
 * top-level split between /healthz, /readyz and the SCIM routes.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admin/api.h"
#include "admin/console.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/str.h"
#include "directory/auth_audit.h"
#include "directory/token_expiry.h"
#include "http/conn_count.h"
#include "http/deadline.h"
#include "http/edge.h"
#include "http/events_routes.h"
#include "http/forwarded.h"
#include "http/ratelimit.h"
#include "http/request.h"
#include "http/server.h"
#include "http/sse.h"
#include "http/state_metrics.h"
#include "http/tls.h"
#include "scim/json.h"
#include "scim/render.h"

#define SCIM_PREFIX        "/scim/v2/inbound/"
#define SCIM_MEDIA_TYPE    "application/scim+json; charset=utf-8"
#define TEXT_MEDIA_TYPE    "text/plain; charset=utf-8"
#define METRICS_MEDIA_TYPE "text/plain; version=0.0.4; charset=utf-8"
/* Daemons replaced on SIGHUP that still finish their connections, at most;
 * each is stopped when it has none left, or after RETIRED_GRACE_S. */
#define RETIRED_MAX     8
#define RETIRED_GRACE_S (2 * HTTP_IDLE_TIMEOUT_S)
/* The --metrics-listen listener: one thread, a few scrapers at once. */
#define METRICS_MAX_CONNECTIONS 16
/* /readyz looks up this connection id, which no connection has. */
#define READY_PROBE_IDP "00000000-0000-0000-0000-000000000000"

/* A replaced main daemon and the TLS pair it was started with, kept until it stops. */
struct generation {
    struct MHD_Daemon *daemon;
    struct http_tls tls;
    int64_t retired_ms;
};

struct http_server {
    struct MHD_Daemon *daemon; /* the main listener's current daemon */
    struct http_tls tls;       /* its certificate and key (TLS on when cert_pem is set) */
    bool tls_on;               /* set at start, never changed */
    struct http_config cfg;    /* strings borrowed from the caller for the server's life */
    struct sockaddr_storage addr;
    bool ipv6;
    struct generation retired[RETIRED_MAX]; /* under lock */
    struct directory *dir;
    struct http_deadlines *deadlines;
    unsigned header_timeout_s;
    unsigned body_timeout_s;
    struct http_ratelimit *limits;
    struct http_metrics *metrics;
    struct http_sse_hub *sse;
    struct MHD_Daemon *metrics_daemon; /* --metrics-listen, or NULL: /metrics on loopback */
    /* housekeeping: summaries of failed-authentication windows */
    pthread_t housekeeper;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    struct http_proxies proxies;           /* --trusted-proxy, read-only after start */
    struct http_conn_count *per_ip;        /* with proxies: the per-address cap, else NULL */
    struct token_expiry_watch token_watch; /* housekeeping's only */
    http_metrics_fn extra_metrics;         /* under lock, with its ctx */
    void *extra_metrics_ctx;
    int64_t token_watch_ms; /* when it last ran (clock_mono_ms), 0: never */
};

/* How often housekeeping runs, and the summaries it writes per round at most. */
#define HOUSEKEEPING_TICK_MS   1000
#define HOUSEKEEPING_SUMMARIES 64
/* How often it looks for tokens about to expire (each is logged once a day). */
#define TOKEN_WATCH_EVERY_MS (3600 * 1000)

/* X-Request-Id: a client's is taken when it is 1..HTTP_REQUEST_ID_MAX visible
 * ASCII characters; else scimd makes one of REQUEST_ID_RANDOM_BYTES in hex. */
#define HTTP_REQUEST_ID_MAX     128
#define REQUEST_ID_RANDOM_BYTES 12

/* Per-request state, from the request line to completion. */
struct request_ctx {
    char request_id[HTTP_REQUEST_ID_MAX + 1];
    int64_t start_us; /* when the request was complete */
    struct buf body;
    size_t target_bytes; /* the request target as sent (path and query) */
    bool headers_seen;   /* the access handler's first call happened */
    bool too_large;
};

const char *http_query(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_header(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

/* Finds one header and the key of the header after it, in arrival order. */
struct header_scan {
    const char *name;
    const char *value;
    size_t len;
    const char *next_key;
    bool found;
};

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    (void)key_size;
    struct header_scan *scan = cls;
    if (scan->found) {
        scan->next_key = key;
        return MHD_NO;
    }
    if (str_ieq(key, scan->name)) {
        scan->found = true;
        scan->value = value;
        scan->len = value_size;
    }
    return MHD_YES;
}

/*
 * libmicrohttpd 0.9.75 keeps a header value as a C string in its read
 * buffer, so a NUL inside the value silently cuts it ("Bearer t\0junk" reads
 * as "Bearer t"); the bytes after the NUL are still there, between the value
 * and the next line (whose CR LF it overwrote with NULs).  The value is
 * widened over them so a parser sees the NUL.  Judged only when the value
 * lies in the request head as 0.9.75 lays it out; else left as it is.
 */
const char *http_header_n(const struct http_request *req, const char *name, size_t *len)
{
    struct header_scan scan = { .name = name };
    *len = 0;
    MHD_get_connection_values_n(req->conn, MHD_HEADER_KIND, scan_header, &scan);
    if (!scan.found || scan.value == NULL)
        return NULL;
    *len = scan.len;
    const union MHD_ConnectionInfo *head =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    if (head == NULL || req->method == NULL)
        return scan.value;
    uintptr_t start = (uintptr_t)req->method, end = start + head->header_size;
    uintptr_t value_end = (uintptr_t)scan.value + scan.len;
    uintptr_t stop = scan.next_key ? (uintptr_t)scan.next_key : end;
    /* what ends the line: CR LF, or LF; the last header also ends the head */
    size_t line_end = scan.next_key ? 2 : 4;
    if ((uintptr_t)scan.value < start || stop > end || value_end > stop ||
        stop - value_end <= line_end)
        return scan.value;
    *len = scan.len + (size_t)(stop - value_end) - line_end;
    return scan.value;
}

void http_respond_json(struct http_response *res, int status, char *body)
{
    res->status = status;
    free(res->body);
    res->body = body;
    res->content_type = SCIM_MEDIA_TYPE;
}

void http_respond_error(struct http_response *res, const struct scim_error *err)
{
    int status = status_http(err->status);
    if (status >= 500 && err->status != ERR_UNAVAILABLE)
        log_error("request failed: %s: %s", status_name(err->status), err->detail);
    http_respond_json(res, status, scim_error_body(err));
    res->www_authenticate = err->status == ERR_UNAUTHORIZED;
}

static void respond_text(struct http_response *res, int status, const char *text)
{
    res->status = status;
    free(res->body);
    res->body = str_dup(text);
    res->content_type = TEXT_MEDIA_TYPE;
}

static void client_address(struct MHD_Connection *conn, char *out, size_t size)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    out[0] = '\0';
    if (info == NULL || info->client_addr == NULL)
        return;
    const struct sockaddr *sa = info->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)size);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)size);
}

/* Joins every X-Forwarded-For header, in order, as one list. */
static enum MHD_Result join_forwarded(void *cls, enum MHD_ValueKind kind, const char *key,
                                      size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    (void)key_size;
    struct buf *joined = cls;
    if (value != NULL && str_ieq(key, "X-Forwarded-For")) {
        if (joined->len)
            buf_putc(joined, ',');
        buf_append(joined, value, value_size);
    }
    return MHD_YES;
}

/* The client: the peer, or behind a trusted proxy the address its
 * X-Forwarded-For names (forwarded.h). */
static void request_source(const struct http_server *server, struct MHD_Connection *conn,
                           char out[HTTP_ADDRESS_MAX])
{
    char peer[HTTP_ADDRESS_MAX];
    client_address(conn, peer, sizeof(peer));
    str_copy(out, HTTP_ADDRESS_MAX, peer);
    if (!http_proxies_trust(&server->proxies, peer))
        return;
    struct buf joined;
    buf_init(&joined, HTTP_MAX_HEAD_BYTES);
    MHD_get_connection_values_n(conn, MHD_HEADER_KIND, join_forwarded, &joined);
    if (joined.len && !joined.failed)
        http_forwarded_client(&server->proxies, peer, joined.data, joined.len, out);
    buf_release(&joined);
}

/* sse: the hub of res->sse (NULL when the response is not a stream). */
static enum MHD_Result send_response(struct MHD_Connection *conn, struct http_response *res,
                                     const char *request_id, struct http_sse_hub *sse)
{
    const char *body = res->body ? res->body : "";
    struct MHD_Response *r = res->sse ? http_sse_response(sse, conn, res->sse)
                                      : MHD_create_response_from_buffer(strlen(body), (void *)body,
                                                                        MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    if (res->sse) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, HTTP_SSE_MEDIA_TYPE);
        MHD_add_response_header(r, "X-Accel-Buffering", "no"); /* proxies: pass events on */
    } else if (res->body)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                res->content_type ? res->content_type : SCIM_MEDIA_TYPE);
    if (res->location[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, res->location);
    if (res->etag[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, res->etag);
    if (res->set_cookie[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, res->set_cookie);
    if (res->www_authenticate)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"scimd\"");
    if (res->retry_after_s > 0) {
        char seconds[16];
        snprintf(seconds, sizeof(seconds), "%u", res->retry_after_s);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, seconds);
    }
    if (request_id != NULL && request_id[0])
        MHD_add_response_header(r, "X-Request-Id", request_id);
    if (res->hsts)
        MHD_add_response_header(r, "Strict-Transport-Security", HTTP_HSTS_VALUE);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (res->console) {
        MHD_add_response_header(r, "Content-Security-Policy", ADMIN_CONSOLE_CSP);
        MHD_add_response_header(r, "X-Frame-Options", "DENY");
        MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    }
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned int)res->status, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- top-level endpoints ------------------------------------------------------------------ */

/* Liveness: the process answers HTTP. */
static void get_healthz(struct http_server *server, const struct http_request *req,
                        struct http_response *res)
{
    (void)server;
    (void)req;
    respond_text(res, 200, "ok\n");
}

/* Readiness: the store answers a trivial read (a connection that does not exist). */
static void get_readyz(struct http_server *server, const struct http_request *req,
                       struct http_response *res)
{
    (void)req;
    struct store_tx *tx = NULL;
    enum status rc = store_begin(server->dir->store, false, &tx);
    if (rc == OK) {
        struct store_idp idp;
        rc = store_idp_get(tx, READY_PROBE_IDP, &idp);
        store_rollback(tx);
        if (rc == ERR_NOT_FOUND)
            rc = OK;
    }
    if (rc == OK) {
        respond_text(res, 200, "ready\n");
        return;
    }
    log_warn("not ready: the database did not answer: %s", status_name(rc));
    respond_text(res, 503, "not ready: the database did not answer\n");
}

/* Prometheus metrics; no token (restricted by where it is served, see dispatch). */
static void get_metrics(struct http_server *server, const struct http_request *req,
                        struct http_response *res)
{
    (void)req;
    struct buf text;
    buf_init(&text, 0);
    http_metrics_render(server->metrics, &text);
    http_state_metrics_render(server->dir->store, &text);
    pthread_mutex_lock(&server->lock); /* held while it renders: clearing waits for it */
    if (server->extra_metrics)
        server->extra_metrics(server->extra_metrics_ctx, &text);
    pthread_mutex_unlock(&server->lock);
    res->status = 200;
    free(res->body);
    res->body = buf_take(&text);
    res->content_type = METRICS_MEDIA_TYPE;
}

typedef void (*endpoint_fn)(struct http_server *server, const struct http_request *req,
                            struct http_response *res);

/* clang-format off */
static const struct {
    const char *path; /* also its label in metrics */
    endpoint_fn handler;
} endpoints[] = {
    { "/healthz", get_healthz },
    { "/readyz",  get_readyz },
    { "/metrics", get_metrics },
};
/* clang-format on */

static bool is_loopback(const char *source)
{
    return strncmp(source, "127.", 4) == 0 || strcmp(source, "::1") == 0 ||
           strncmp(source, "::ffff:127.", 11) == 0;
}

static bool on_metrics_listener(const struct http_server *server, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_DAEMON);
    return server->metrics_daemon != NULL && info != NULL && info->daemon == server->metrics_daemon;
}

/*
 * /metrics is served on the --metrics-listen listener when there is one
 * (which serves nothing else), else on the main one to loopback clients
 * only; anywhere else it does not exist.
 */
static void dispatch(struct http_server *server, const struct http_request *req,
                     struct http_response *res)
{
    bool metrics_listener = on_metrics_listener(server, req->conn);
    bool metrics_here =
        metrics_listener || (server->metrics_daemon == NULL && is_loopback(req->source));
    for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
        if (strcmp(req->url, endpoints[i].path) != 0)
            continue;
        bool is_metrics = endpoints[i].handler == get_metrics;
        if (is_metrics ? !metrics_here : metrics_listener)
            break;
        res->route = endpoints[i].path;
        endpoints[i].handler(server, req, res);
        return;
    }
    if (metrics_listener) {
        respond_text(res, 404, "this listener serves /metrics only\n");
        return;
    }
    if (strncmp(req->url, ADMIN_API_PREFIX, strlen(ADMIN_API_PREFIX)) == 0) {
        admin_api_handle(server->dir, req, res);
        return;
    }
    if (strncmp(req->url, ADMIN_CONSOLE_PREFIX, strlen(ADMIN_CONSOLE_PREFIX)) == 0) {
        admin_console_handle(req, res);
        return;
    }
    if (events_routes_handle(server->dir, server->cfg.jwks_json, server->cfg.set_key, req, res))
        return;
    if (strncmp(req->url, SCIM_PREFIX, strlen(SCIM_PREFIX)) == 0) {
        scim_routes_handle(server->dir, server->limits, req, req->url + strlen(SCIM_PREFIX), res);
        return;
    }
    struct scim_error err;
    scim_error_set(&err, ERR_NOT_FOUND,
                   "no such endpoint; SCIM lives under " SCIM_PREFIX "<idp-id>/");
    http_respond_error(res, &err);
}

/* ---- requests ------------------------------------------------------------------------------ */

static struct http_deadline *deadline_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

/*
 * What the request head announces that the server will not take: a head or
 * request target over the caps (libmicrohttpd reads up to
 * HTTP_CONNECTION_MEMORY_BYTES, so these get a SCIM error instead of its
 * HTML one), or a body larger than the body cap.  Refused before any body
 * byte is read.
 */
static bool refused_on_head(struct MHD_Connection *conn, const struct request_ctx *ctx,
                            struct scim_error *err)
{
    if (ctx->target_bytes > HTTP_MAX_TARGET_BYTES) {
        scim_error_set(err, ERR_URI_TOO_LONG, "request URL is longer than %u bytes",
                       HTTP_MAX_TARGET_BYTES);
        return true;
    }
    const union MHD_ConnectionInfo *head =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    if (head != NULL && head->header_size > HTTP_MAX_HEAD_BYTES) {
        scim_error_set(err, ERR_HEAD_TOO_LARGE, "request headers are larger than %u bytes",
                       HTTP_MAX_HEAD_BYTES);
        return true;
    }
    const char *length =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    long announced = 0;
    if (length && str_to_long(length, 0, LONG_MAX, &announced) &&
        (unsigned long)announced > SCIM_MAX_BODY_BYTES) {
        scim_error_set(err, ERR_TOO_LARGE, "request body is larger than %u bytes",
                       SCIM_MAX_BODY_BYTES);
        return true;
    }
    return false;
}

/* Respond now with err; queued on the first call, this also closes the
 * connection, which lingers so the client reads the answer, not a reset. */
static enum MHD_Result respond_now(const struct http_server *server, struct MHD_Connection *conn,
                                   const struct scim_error *err)
{
    http_deadline_linger(deadline_of(conn));
    struct http_response res = { .hsts = server->tls_on };
    http_respond_error(&res, err);
    enum MHD_Result ret = send_response(conn, &res, NULL, NULL);
    free(res.body);
    return ret;
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The client's X-Request-Id when it is one (visible ASCII, bounded), else a new one. */
static void take_request_id(struct MHD_Connection *conn, char out[HTTP_REQUEST_ID_MAX + 1])
{
    const char *given = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
    size_t n = given ? strlen(given) : 0;
    bool ok = n > 0 && n <= HTTP_REQUEST_ID_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = given[i] > 0x20 && given[i] < 0x7f;
    if (ok) {
        memcpy(out, given, n + 1);
        return;
    }
    unsigned char random[REQUEST_ID_RANDOM_BYTES];
    out[0] = '\0';
    if (crypto_random_bytes(random, sizeof(random)) != OK)
        return;
    for (size_t i = 0; i < sizeof(random); i++)
        snprintf(out + 2 * i, 3, "%02x", random[i]);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct http_server *server = cls;
    struct request_ctx *ctx = *con_cls; /* made by on_request_line */
    if (ctx == NULL)
        return MHD_NO;
    if (!ctx->headers_seen) {
        /* First call: headers only.  Answering now closes the connection
         * in libmicrohttpd 0.9.75: done only to refuse. */
        ctx->headers_seen = true;
        http_deadline_set(deadline_of(conn), http_deadline_in(server->body_timeout_s));
        struct scim_error err;
        if (refused_on_head(conn, ctx, &err))
            return respond_now(server, conn, &err);
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!ctx->too_large) {
            buf_append(&ctx->body, upload_data, *upload_data_size);
            ctx->too_large = ctx->body.failed;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    /* The request is in: handling and answering it have no deadline of their own. */
    http_deadline_set(deadline_of(conn), 0);

    struct http_request req = {
        .conn = conn,
        .method = method,
        .url = url,
        .body = ctx->body.data ? ctx->body.data : "",
        .body_len = ctx->body.len,
        .sse = server->sse,
    };
    request_source(server, conn, req.source);
    take_request_id(conn, ctx->request_id);
    ctx->start_us = mono_us();
    log_request_id = ctx->request_id; /* in this request's log lines */
    struct http_response res = { .hsts = server->tls_on };
    if (ctx->too_large) {
        /* a body without Content-Length (chunked) that outgrew the cap */
        struct scim_error err;
        scim_error_set(&err, ERR_TOO_LARGE, "request body is larger than %u bytes",
                       SCIM_MAX_BODY_BYTES);
        http_respond_error(&res, &err);
    } else {
        dispatch(server, &req, &res);
    }
    enum MHD_Result ret = send_response(conn, &res, ctx->request_id, server->sse);
    http_metrics_request(server->metrics, res.route ? res.route : "other", method, res.status,
                         mono_us() - ctx->start_us);
    if (res.limited)
        http_metrics_limited(server->metrics, res.limit);
    free(res.body);
    log_request_id = NULL;
    return ret;
}

/* Called with the request line: the request's state starts here, with the
 * length of the target as sent (before libmicrohttpd splits and decodes it). */
static void *on_request_line(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    (void)conn;
    struct request_ctx *ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL)
        return NULL;
    buf_init(&ctx->body, SCIM_MAX_BODY_BYTES);
    ctx->target_bytes = strlen(uri);
    return ctx;
}

static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    return http_edge_unescape(s);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    (void)code;
    struct http_server *server = cls;
    /* the next request on this connection has header_timeout_s to arrive */
    http_deadline_set(deadline_of(conn), http_deadline_in(server->header_timeout_s));
    struct request_ctx *ctx = *con_cls;
    if (ctx == NULL)
        return;
    buf_release(&ctx->body);
    free(ctx);
    *con_cls = NULL;
}

/* A connection opens (deadline for its first request's head) or closes.
 * libmicrohttpd reports the close before it closes the socket. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct http_server *server = cls;
    bool started = code == MHD_CONNECTION_NOTIFY_STARTED;
    http_metrics_connection(server->metrics, started ? 1 : -1);
    /* The per-address cap, trusted proxies spared: counted here because
     * libmicrohttpd's would count them too.  A connection over it is shut
     * down at once, as libmicrohttpd would refuse it. */
    char peer[HTTP_ADDRESS_MAX];
    bool capped = false;
    if (server->per_ip != NULL) {
        client_address(conn, peer, sizeof(peer));
        capped = peer[0] && !http_proxies_trust(&server->proxies, peer);
    }
    if (started) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        bool refused = capped && !http_conn_count_enter(server->per_ip, peer);
        if (info != NULL) {
            *socket_context = http_deadlines_add(server->deadlines, info->connect_fd,
                                                 http_deadline_in(server->header_timeout_s));
            if (refused)
                shutdown(info->connect_fd, SHUT_RDWR);
        }
        return;
    }
    if (capped)
        http_conn_count_leave(server->per_ip, peer);
    http_deadlines_remove(server->deadlines, *socket_context);
    *socket_context = NULL;
}

static void reap_retired(struct http_server *server, bool all);

/* ---- housekeeping ---------------------------------------------------------------------------- */

/* One scim_auth_failed summary per finished failed-authentication window
 * (all of them with flush); written outside the limiter's lock. */
static void write_auth_summaries(struct http_server *server, bool flush)
{
    struct http_auth_summary batch[HOUSEKEEPING_SUMMARIES];
    size_t n;
    do {
        n = http_ratelimit_take_finished(server->limits, clock_mono_ms(), flush, batch,
                                         HOUSEKEEPING_SUMMARIES);
        for (size_t i = 0; i < n; i++) {
            const struct http_auth_summary *s = &batch[i];
            enum status rc = directory_auth_failures_record(server->dir, s->source, s->idp,
                                                            s->failures, s->refused, s->window_s);
            if (rc != OK)
                log_warn("cannot record %llu failed authentications from %s: %s",
                         (unsigned long long)s->failures, s->source, status_name(rc));
        }
    } while (n == HOUSEKEEPING_SUMMARIES);
}

static void *housekeeping(void *arg)
{
    struct http_server *server = arg;
    pthread_mutex_lock(&server->lock);
    while (!server->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += HOUSEKEEPING_TICK_MS / 1000;
        pthread_cond_timedwait(&server->wake, &server->lock, &until);
        if (server->stopping)
            break;
        pthread_mutex_unlock(&server->lock);
        write_auth_summaries(server, false);
        reap_retired(server, false);
        int64_t now_ms = clock_mono_ms();
        if (server->token_watch_ms == 0 ||
            now_ms - server->token_watch_ms >= TOKEN_WATCH_EVERY_MS) {
            server->token_watch_ms = now_ms;
            token_expiry_watch_run(&server->token_watch, server->dir->store, clock_now_s());
        }
        pthread_mutex_lock(&server->lock);
    }
    pthread_mutex_unlock(&server->lock);
    return NULL;
}

/* ---- daemon -------------------------------------------------------------------------------- */

static void server_free(struct http_server *server)
{
    http_sse_hub_stop(server->sse);
    http_deadlines_stop(server->deadlines);
    http_ratelimit_free(server->limits);
    http_metrics_free(server->metrics);
    http_conn_count_free(server->per_ip);
    http_tls_release(&server->tls);
    pthread_cond_destroy(&server->wake);
    pthread_mutex_destroy(&server->lock);
    free(server);
}

/* addr (IPv4 or IPv6 literal) and port as a socket address; false when addr is neither. */
static bool sock_addr(const char *text, uint16_t port, struct sockaddr_storage *addr, bool *ipv6)
{
    memset(addr, 0, sizeof(*addr));
    struct sockaddr_in *v4 = (struct sockaddr_in *)addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)addr;
    *ipv6 = false;
    if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        return true;
    }
    if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        *ipv6 = true;
        return true;
    }
    return false;
}

/* The daemon of the main listener: the thread pool, limits and callbacks;
 * with tls (cert_pem set) HTTPS; on listen_fd when >= 0 (a reload), else
 * on the server's address. */
static struct MHD_Daemon *start_main_daemon(struct http_server *server, const struct http_tls *tls,
                                            int listen_fd)
{
    const struct http_config *cfg = &server->cfg;
    /* suspend/resume: event streams (sse.h) hold no worker thread while idle */
    unsigned int flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
    if (server->ipv6)
        flags |= MHD_USE_IPv6;
    struct MHD_OptionItem options[] = {
        { MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)cfg->threads, NULL },
        { MHD_OPTION_CONNECTION_LIMIT, (intptr_t)cfg->max_connections, NULL },
        { MHD_OPTION_PER_IP_CONNECTION_LIMIT,
          (intptr_t)(server->per_ip != NULL ? 0 : cfg->max_conns_per_ip), NULL },
        { MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)HTTP_CONNECTION_MEMORY_BYTES, NULL },
        { MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, server },
        { MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_request_line, server },
        { MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, server },
        { MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)unescape, NULL },
        { MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)HTTP_IDLE_TIMEOUT_S, NULL },
        { MHD_OPTION_END, 0, NULL }, /* the listening socket, or address and reuse */
        { MHD_OPTION_END, 0, NULL },
        { MHD_OPTION_END, 0, NULL }, /* TLS certificate */
        { MHD_OPTION_END, 0, NULL }, /* TLS key */
        { MHD_OPTION_END, 0, NULL },
    };
    size_t n = sizeof(options) / sizeof(options[0]) - 5;
    if (listen_fd >= 0) {
        options[n++] = (struct MHD_OptionItem){ MHD_OPTION_LISTEN_SOCKET, listen_fd, NULL };
    } else {
        options[n++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, &server->addr };
        options[n++] = (struct MHD_OptionItem){ MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL };
    }
    if (tls->cert_pem != NULL) {
        flags |= MHD_USE_TLS;
        options[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, tls->cert_pem };
        options[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, tls->key_pem };
    }
    return MHD_start_daemon(flags, cfg->port, NULL, NULL, on_request, server, MHD_OPTION_ARRAY,
                            options, MHD_OPTION_END);
}

/* Stop retired daemons that have no connection left or are past their
 * grace; all of them with all. */
static void reap_retired(struct http_server *server, bool all)
{
    int64_t now_ms = clock_mono_ms();
    for (size_t i = 0; i < RETIRED_MAX; i++) {
        pthread_mutex_lock(&server->lock);
        struct generation g = server->retired[i];
        bool done = false, idle = false;
        if (g.daemon != NULL) {
            const union MHD_DaemonInfo *info =
                MHD_get_daemon_info(g.daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
            idle = info != NULL && info->num_connections == 0; /* it accepts no more */
            done = all || info == NULL || idle ||
                   now_ms - g.retired_ms >= (int64_t)RETIRED_GRACE_S * 1000;
        }
        if (done)
            memset(&server->retired[i], 0, sizeof(server->retired[i]));
        pthread_mutex_unlock(&server->lock);
        if (done) {
            /* streams on it may remain: end them all (which are its is not known) */
            if (!idle)
                http_sse_drain(server->sse);
            MHD_stop_daemon(g.daemon);
            if (!idle && !all)
                http_sse_drained(server->sse);
            http_tls_release(&g.tls);
        }
    }
}

/*
 * SIGHUP: read the certificate and key again and serve new connections
 * with them.  The current daemon stops accepting (quiesce) and hands its
 * listening socket, with whatever waits in its backlog, to a new daemon
 * with the new pair; it finishes its own connections (kept-alive ones
 * included) and is stopped when they are gone.  A pair that does not load
 * changes nothing.
 */
enum status http_server_reload(struct http_server *server, struct scim_error *err)
{
    scim_error_clear(err);
    if (server->tls.cert_pem == NULL)
        return scim_error_set(err, ERR_USAGE, "nothing to reload: TLS is off");
    struct http_tls fresh;
    enum status rc =
        http_tls_load(server->cfg.tls_cert_file, server->cfg.tls_key_file, &fresh, err);
    if (rc != OK)
        return rc;
    reap_retired(server, false);
    size_t slot = RETIRED_MAX;
    pthread_mutex_lock(&server->lock);
    for (size_t i = 0; i < RETIRED_MAX && slot == RETIRED_MAX; i++)
        if (server->retired[i].daemon == NULL)
            slot = i;
    pthread_mutex_unlock(&server->lock);
    if (slot == RETIRED_MAX) {
        http_tls_release(&fresh);
        return scim_error_set(err, ERR_UNAVAILABLE,
                              "too many reloads still finishing their connections; try later");
    }
    MHD_socket fd = MHD_quiesce_daemon(server->daemon);
    if (fd == MHD_INVALID_SOCKET) {
        http_tls_release(&fresh);
        return scim_error_set(err, ERR_IO, "cannot take over the listening socket");
    }
    struct MHD_Daemon *next = start_main_daemon(server, &fresh, fd);
    bool kept_old = next == NULL;
    if (kept_old) {
        /* the old daemon no longer accepts: a new one with the old pair must */
        http_tls_release(&fresh);
        next = start_main_daemon(server, &server->tls, fd);
        if (next == NULL) {
            close(fd);
            log_error("no longer accepting connections: the listening socket could not be served "
                      "again after a failed reload");
            return scim_error_set(err, ERR_IO, "cannot serve the listening socket again");
        }
    }
    pthread_mutex_lock(&server->lock);
    server->retired[slot] = (struct generation){
        .daemon = server->daemon,
        .tls = kept_old ? (struct http_tls){ 0 } : server->tls, /* GnuTLS copied what it needs */
        .retired_ms = clock_mono_ms(),
    };
    server->daemon = next;
    if (!kept_old)
        server->tls = fresh;
    pthread_mutex_unlock(&server->lock);
    if (kept_old)
        return scim_error_set(err, ERR_IO,
                              "cannot start a daemon with the new certificate; "
                              "kept the old one");
    return OK;
}

/* The --metrics-listen daemon: one thread, plain HTTP, the same callbacks. */
static struct MHD_Daemon *start_metrics_daemon(struct http_server *server,
                                               const struct http_config *cfg,
                                               const struct sockaddr_storage *addr, bool ipv6)
{
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
    if (ipv6)
        flags |= MHD_USE_IPv6;
    return MHD_start_daemon(
        flags, cfg->metrics_port, NULL, NULL, on_request, server, MHD_OPTION_SOCK_ADDR,
        (const struct sockaddr *)addr, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)METRICS_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)HTTP_CONNECTION_MEMORY_BYTES, MHD_OPTION_NOTIFY_CONNECTION, on_connection, server,
        MHD_OPTION_URI_LOG_CALLBACK, on_request_line, server, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, server, MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_IDLE_TIMEOUT_S, MHD_OPTION_END);
}

enum status http_server_start(const struct http_config *cfg, struct directory *dir,
                              struct http_server **out, struct scim_error *err)
{
    struct http_server *server = calloc(1, sizeof(*server));
    if (server == NULL)
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    server->dir = dir;
    server->header_timeout_s = cfg->header_timeout_s;
    server->body_timeout_s = cfg->body_timeout_s;
    pthread_mutex_init(&server->lock, NULL);
    pthread_cond_init(&server->wake, NULL);

    server->cfg = *cfg;
    struct sockaddr_storage metrics_addr;
    bool metrics_ipv6 = false;
    enum status rc = OK;
    if (!sock_addr(cfg->listen_addr, cfg->port, &server->addr, &server->ipv6)) {
        rc = scim_error_set(err, ERR_USAGE, "cannot listen on '%s': not an IP address",
                            cfg->listen_addr);
        goto fail;
    }
    if (cfg->metrics_addr[0] &&
        !sock_addr(cfg->metrics_addr, cfg->metrics_port, &metrics_addr, &metrics_ipv6)) {
        rc = scim_error_set(err, ERR_USAGE, "cannot serve metrics on '%s': not an IP address",
                            cfg->metrics_addr);
        goto fail;
    }
    if (http_ratelimit_new(&cfg->limits, &server->limits) != OK ||
        http_metrics_new(&server->metrics) != OK) {
        rc = scim_error_set(err, ERR_NOMEM, "out of memory");
        goto fail;
    }
    struct scim_error proxies_err;
    if (http_proxies_parse(cfg->trusted_proxies, &server->proxies, &proxies_err) != OK) {
        rc = scim_error_set(err, ERR_USAGE, "--trusted-proxy: %s", proxies_err.detail);
        goto fail;
    }
    if (server->proxies.n > 0 &&
        http_conn_count_new(cfg->max_conns_per_ip, &server->per_ip) != OK) {
        rc = scim_error_set(err, ERR_NOMEM, "out of memory");
        goto fail;
    }
    if ((cfg->tls_cert_file != NULL) != (cfg->tls_key_file != NULL)) {
        rc = scim_error_set(err, ERR_USAGE, "--tls-cert and --tls-key go together");
        goto fail;
    }
    if (cfg->tls_cert_file &&
        (rc = http_tls_load(cfg->tls_cert_file, cfg->tls_key_file, &server->tls, err)) != OK)
        goto fail;
    if (http_sse_hub_start(cfg->max_event_streams ? cfg->max_event_streams
                                                  : HTTP_SSE_DEFAULT_STREAMS,
                           &server->sse) != OK) {
        rc = scim_error_set(err, ERR_IO, "cannot start the event stream thread");
        goto fail;
    }
    if (http_deadlines_start(&server->deadlines) != OK) {
        rc = scim_error_set(err, ERR_IO, "cannot start the slow-client watchdog");
        goto fail;
    }
    server->tls_on = server->tls.cert_pem != NULL;
    /* metrics first: once /healthz answers, /metrics does too */
    if (cfg->metrics_addr[0]) {
        server->metrics_daemon = start_metrics_daemon(server, cfg, &metrics_addr, metrics_ipv6);
        if (server->metrics_daemon == NULL) {
            rc = scim_error_set(err, ERR_IO, "cannot serve metrics on %s:%u (in use?)",
                                cfg->metrics_addr, (unsigned)cfg->metrics_port);
            goto fail;
        }
    }
    server->daemon = start_main_daemon(server, &server->tls, -1);
    if (server->daemon == NULL) {
        rc = scim_error_set(err, ERR_IO, "cannot listen on %s:%u (in use?)", cfg->listen_addr,
                            (unsigned)cfg->port);
        goto fail;
    }
    if (pthread_create(&server->housekeeper, NULL, housekeeping, server) != 0) {
        rc = scim_error_set(err, ERR_IO, "cannot start the housekeeping thread");
        goto fail;
    }
    *out = server;
    return OK;
fail:
    if (server->metrics_daemon)
        MHD_stop_daemon(server->metrics_daemon);
    if (server->daemon)
        MHD_stop_daemon(server->daemon);
    server_free(server);
    return rc;
}

void http_server_set_metrics(struct http_server *server, http_metrics_fn fn, void *ctx)
{
    pthread_mutex_lock(&server->lock);
    server->extra_metrics = fn;
    server->extra_metrics_ctx = ctx;
    pthread_mutex_unlock(&server->lock);
}

void http_server_stop(struct http_server *server)
{
    if (server == NULL)
        return;
    if (server->metrics_daemon)
        MHD_stop_daemon(server->metrics_daemon);
    http_sse_drain(server->sse); /* every stream ends, none starts */
    MHD_stop_daemon(server->daemon);
    reap_retired(server, true);
    pthread_mutex_lock(&server->lock);
    server->stopping = true;
    pthread_cond_signal(&server->wake);
    pthread_mutex_unlock(&server->lock);
    pthread_join(server->housekeeper, NULL);
    write_auth_summaries(server, true); /* the windows still open */
    server_free(server);
}
