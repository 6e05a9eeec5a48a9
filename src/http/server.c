/*
 * server.c - libmicrohttpd daemon, request bodies with a hard cap, response
 * headers, and the top-level split between /healthz and the SCIM routes.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/log.h"
#include "http/request.h"
#include "http/server.h"
#include "scim/json.h"
#include "scim/render.h"
#include "core/str.h"

#define SCIM_PREFIX "/scim/v2/inbound/"
#define SCIM_MEDIA_TYPE "application/scim+json; charset=utf-8"
/* Bodies announced larger than this are refused before reading them. */
#define HTTP_EARLY_REFUSE_BYTES (16u << 20)

struct http_server {
    struct MHD_Daemon *daemon;
    struct directory *dir;
};

/* Per-request state, from the first call of the access handler to completion. */
struct request_ctx {
    struct buf body;
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

static enum MHD_Result send_response(struct MHD_Connection *conn, struct http_response *res)
{
    const char *body = res->body ? res->body : "";
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    if (res->body)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                res->content_type ? res->content_type : SCIM_MEDIA_TYPE);
    if (res->location[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, res->location);
    if (res->etag[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, res->etag);
    if (res->www_authenticate)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"scimd\"");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned int)res->status, r);
    MHD_destroy_response(r);
    return ret;
}

static void dispatch(struct http_server *server, const struct http_request *req,
                     struct http_response *res)
{
    if (strcmp(req->url, "/healthz") == 0) {
        res->status = 200;
        res->body = str_dup("ok\n");
        res->content_type = "text/plain; charset=utf-8";
        return;
    }
    if (strncmp(req->url, SCIM_PREFIX, strlen(SCIM_PREFIX)) == 0) {
        scim_routes_handle(server->dir, req, req->url + strlen(SCIM_PREFIX), res);
        return;
    }
    struct scim_error err;
    scim_error_set(&err, ERR_NOT_FOUND, "no such endpoint; SCIM lives under " SCIM_PREFIX
                                        "<idp-id>/");
    http_respond_error(res, &err);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    struct http_server *server = cls;
    struct request_ctx *ctx = *con_cls;
    if (ctx == NULL) {
        /* First call: headers only.  Answering now would close the
         * connection in libmicrohttpd 0.9.75, so just set up. */
        ctx = calloc(1, sizeof(*ctx));
        if (ctx == NULL)
            return MHD_NO;
        buf_init(&ctx->body, SCIM_MAX_BODY_BYTES);
        const char *length =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        long announced = 0;
        if (length && str_to_long(length, 0, LONG_MAX, &announced) &&
            (unsigned long)announced > HTTP_EARLY_REFUSE_BYTES)
            ctx->too_large = true;
        *con_cls = ctx;
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

    struct http_request req = {
        .conn = conn,
        .method = method,
        .url = url,
        .body = ctx->body.data ? ctx->body.data : "",
        .body_len = ctx->body.len,
    };
    client_address(conn, req.source, sizeof(req.source));
    struct http_response res = { 0 };
    if (ctx->too_large) {
        struct scim_error err;
        scim_error_set(&err, ERR_TOO_LARGE, "request body is larger than %u bytes",
                       SCIM_MAX_BODY_BYTES);
        http_respond_error(&res, &err);
    } else {
        dispatch(server, &req, &res);
    }
    enum MHD_Result ret = send_response(conn, &res);
    free(res.body);
    return ret;
}

/* Percent-decode URL paths and query values in place, except %00: a NUL
 * would silently cut "Users/%00" down to "Users".  Left encoded, it is just
 * an id or a filter character that matches nothing. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    char *w = s;
    for (const char *r = s; *r; r++) {
        int hi, lo;
        if (r[0] == '%' && (hi = str_hex_value(r[1])) >= 0 && (lo = str_hex_value(r[2])) >= 0 &&
            (hi | lo) != 0) {
            *w++ = (char)(hi * 16 + lo);
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)conn;
    (void)code;
    struct request_ctx *ctx = *con_cls;
    if (ctx == NULL)
        return;
    buf_release(&ctx->body);
    free(ctx);
    *con_cls = NULL;
}

enum status http_server_start(const struct http_config *cfg, struct directory *dir,
                              struct http_server **out, struct scim_error *err)
{
    struct http_server *server = calloc(1, sizeof(*server));
    if (server == NULL)
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    server->dir = dir;

    struct sockaddr_storage addr;
    memset(&addr, 0, sizeof(addr));
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&addr;
    if (inet_pton(AF_INET, cfg->listen_addr, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(cfg->port);
    } else if (inet_pton(AF_INET6, cfg->listen_addr, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(cfg->port);
        flags |= MHD_USE_IPv6;
    } else {
        free(server);
        return scim_error_set(err, ERR_USAGE, "cannot listen on '%s': not an IP address",
                              cfg->listen_addr);
    }
    server->daemon = MHD_start_daemon(
        flags, cfg->port, NULL, NULL, on_request, server, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)cfg->threads,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, server, MHD_OPTION_UNESCAPE_CALLBACK, unescape,
        NULL, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)60, MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1, MHD_OPTION_END);
    if (server->daemon == NULL) {
        free(server);
        return scim_error_set(err, ERR_IO, "cannot listen on %s:%u (in use?)", cfg->listen_addr,
                              (unsigned)cfg->port);
    }
    *out = server;
    return OK;
}

void http_server_stop(struct http_server *server)
{
    if (server == NULL)
        return;
    MHD_stop_daemon(server->daemon);
    free(server);
}
