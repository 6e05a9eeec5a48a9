/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scim_routes.c - the SCIM endpoints of one IdP connection: the route table,
 * authentication, query parameters, and the handlers that turn directory
 * results into responses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/str.h"
#include "directory/auth_audit.h"
#include "directory/directory.h"
#include "directory/mirroring.h"
#include "http/edge.h"
#include "http/ratelimit.h"
#include "http/request.h"
#include "http/search_request.h"
#include "scim/json.h"
#include "scim/render.h"
#include "scim/schema.h"

struct route_ctx {
    struct directory *dir;
    const struct http_request *req;
    const struct scim_conn *conn;
    const char *param; /* the {…} segment, or NULL */
    struct http_response *res;
};

typedef void (*route_fn)(struct route_ctx *ctx);

static void fail(struct route_ctx *ctx, enum status status, const char *detail)
{
    struct scim_error err;
    scim_error_set(&err, status, "%s", detail);
    http_respond_error(ctx->res, &err);
}

/* location: the endpoint ("Users", "Groups") for a Location header, or NULL. */
static void respond_doc_at(struct route_ctx *ctx, int status, struct scim_doc *doc,
                           const char *location)
{
    scim_etag(doc->version, ctx->res->etag);
    if (location)
        snprintf(ctx->res->location, sizeof(ctx->res->location), "%s%s/%s", ctx->conn->base_url,
                 location, doc->id);
    http_respond_json(ctx->res, status, doc->text);
    doc->text = NULL;
}

static void respond_doc(struct route_ctx *ctx, int status, struct scim_doc *doc, bool location)
{
    respond_doc_at(ctx, status, doc, location ? "Users" : NULL);
}

static void respond_value(struct route_ctx *ctx, json_t *value)
{
    char *text = value ? scim_json_text(value) : NULL;
    json_decref(value);
    if (text == NULL) {
        fail(ctx, ERR_NOMEM, "out of memory");
        return;
    }
    http_respond_json(ctx->res, 200, text);
}

/* Decode the request body; on failure answer and record it. */
static json_t *decode_body_of(struct route_ctx *ctx, const char *resource_type,
                              const char *subject_id)
{
    struct scim_error err;
    json_t *body = NULL;
    if (scim_json_decode(ctx->req->body, ctx->req->body_len, &body, &err) == OK)
        return body;
    if (resource_type != NULL)
        directory_scim_request_failed(ctx->dir, ctx->conn, resource_type, subject_id, &err);
    http_respond_error(ctx->res, &err);
    return NULL;
}

static json_t *decode_body(struct route_ctx *ctx, const char *subject_id)
{
    return decode_body_of(ctx, "User", subject_id);
}

/* ---- discovery -------------------------------------------------------------------------- */

static void get_spc(struct route_ctx *ctx)
{
    struct scim_limits limits = {
        .max_results = DIRECTORY_LIST_MAX_COUNT,
        .bulk_max_operations = DIRECTORY_BULK_MAX_OPERATIONS,
        .bulk_max_payload = SCIM_MAX_BODY_BYTES,
        .default_page = DIRECTORY_LIST_DEFAULT_COUNT,
        .cursor_timeout_s = SCIM_CURSOR_TIMEOUT_S,
    };
    respond_value(ctx, scim_service_provider_config(ctx->conn->base_url, &limits));
}

/* Discovery with the tenant's extension schemas (directory/mirroring.h). */
typedef enum status (*discovery_fn)(struct directory *dir, const struct scim_conn *conn,
                                    const char *key, json_t **out, struct scim_error *err);

static void discovery(struct route_ctx *ctx, discovery_fn fn, const char *key)
{
    struct scim_error err;
    json_t *value = NULL;
    if (fn(ctx->dir, ctx->conn, key, &value, &err) != OK)
        http_respond_error(ctx->res, &err);
    else
        respond_value(ctx, value);
}

static void get_resource_types(struct route_ctx *ctx)
{
    discovery(ctx, directory_scim_resource_types, NULL);
}

static void get_resource_type(struct route_ctx *ctx)
{
    discovery(ctx, directory_scim_resource_types, ctx->param);
}

static void get_schemas(struct route_ctx *ctx)
{
    discovery(ctx, directory_scim_schemas, NULL);
}

static void get_schema(struct route_ctx *ctx)
{
    discovery(ctx, directory_scim_schemas, ctx->param);
}

/* ---- users ---------------------------------------------------------------------------------- */

/* startIndex / count: absent -> default; junk -> 400 invalidValue. */
static bool query_number(struct route_ctx *ctx, const char *name, long fallback, long *out)
{
    const char *text = http_query(ctx->req, name);
    *out = fallback;
    if (text == NULL || *text == '\0')
        return true;
    if (str_to_long(text, -2147483647L, 2147483647L, out))
        return true;
    char detail[96];
    snprintf(detail, sizeof(detail), "%s must be an integer", name);
    fail(ctx, ERR_INVALID_VALUE, detail);
    return false;
}

typedef enum status (*list_fn)(struct directory *dir, const struct scim_conn *conn,
                               const struct scim_list_query *q, char **out, struct scim_error *err);

static void run_list(struct route_ctx *ctx, list_fn list, const struct scim_list_query *q)
{
    struct scim_error err;
    char *text = NULL;
    if (list(ctx->dir, ctx->conn, q, &text, &err) != OK) {
        http_respond_error(ctx->res, &err);
        return;
    }
    http_respond_json(ctx->res, 200, text);
}

static void list_resources(struct route_ctx *ctx, list_fn list)
{
    long start, count;
    if (!query_number(ctx, "startIndex", 1, &start) ||
        !query_number(ctx, "count", DIRECTORY_LIST_DEFAULT_COUNT, &count))
        return;
    struct scim_list_query q = {
        .filter = http_query(ctx->req, "filter"),
        .sort_by = http_query(ctx->req, "sortBy"),
        .attributes = http_query(ctx->req, "attributes"),
        .excluded = http_query(ctx->req, "excludedAttributes"),
        .cursor = http_query(ctx->req, "cursor"),
        .start_given = http_query(ctx->req, "startIndex") != NULL,
    };
    struct scim_error err;
    if (search_order(&q, http_query(ctx->req, "sortOrder"), &err) != OK) {
        http_respond_error(ctx->res, &err);
        return;
    }
    search_window(&q, start, count);
    run_list(ctx, list, &q);
}

static void list_users(struct route_ctx *ctx)
{
    list_resources(ctx, directory_scim_user_list);
}

/* POST .search (RFC 7644 §3.4.3): the query parameters of GET, in a SearchRequest body. */
static void search_resources(struct route_ctx *ctx, list_fn list)
{
    json_t *body = decode_body_of(ctx, NULL, NULL);
    if (body == NULL)
        return;
    struct buf attrs, excluded;
    buf_init(&attrs, 0);
    buf_init(&excluded, 0);
    struct scim_list_query q;
    struct scim_error err;
    if (search_request_decode(body, &q, &attrs, &excluded, &err) == OK)
        run_list(ctx, list, &q);
    else
        http_respond_error(ctx->res, &err);
    buf_release(&attrs);
    buf_release(&excluded);
    json_decref(body);
}

static void search_users(struct route_ctx *ctx)
{
    search_resources(ctx, directory_scim_user_list);
}

/* GET with attributes/excludedAttributes: project the stored document. */
static void respond_projected(struct route_ctx *ctx, struct scim_doc *doc)
{
    const char *attributes = http_query(ctx->req, "attributes");
    const char *excluded = http_query(ctx->req, "excludedAttributes");
    if (attributes == NULL && excluded == NULL) {
        respond_doc(ctx, 200, doc, false);
        return;
    }
    struct scim_error err;
    struct scim_projection *proj = NULL;
    if (scim_projection_parse(&scim_resource_user, attributes, excluded, &proj, &err) != OK) {
        http_respond_error(ctx->res, &err);
        return;
    }
    json_t *full = json_loads(doc->text, 0, NULL);
    json_t *shown = full ? scim_projection_apply(proj, &scim_resource_user, full) : NULL;
    json_decref(full);
    scim_projection_free(proj);
    scim_etag(doc->version, ctx->res->etag);
    respond_value(ctx, shown);
}

static void get_user(struct route_ctx *ctx)
{
    struct scim_error err;
    struct scim_doc doc;
    if (directory_scim_user_get(ctx->dir, ctx->conn, ctx->param, &doc, &err) != OK) {
        http_respond_error(ctx->res, &err);
        return;
    }
    respond_projected(ctx, &doc);
    scim_doc_release(&doc);
}

static void create_user(struct route_ctx *ctx)
{
    json_t *body = decode_body(ctx, NULL);
    if (body == NULL)
        return;
    struct scim_error err;
    struct scim_doc doc;
    enum status rc = directory_scim_user_create(ctx->dir, ctx->conn, body, &doc, &err);
    json_decref(body);
    if (rc != OK) {
        http_respond_error(ctx->res, &err);
        return;
    }
    respond_doc(ctx, 201, &doc, true);
}

static void replace_user(struct route_ctx *ctx)
{
    json_t *body = decode_body(ctx, ctx->param);
    if (body == NULL)
        return;
    struct scim_error err;
    struct scim_doc doc;
    enum status rc = directory_scim_user_replace(
        ctx->dir, ctx->conn, ctx->param, http_header(ctx->req, "If-Match"), body, &doc, &err);
    json_decref(body);
    if (rc != OK) {
        http_respond_error(ctx->res, &err);
        return;
    }
    respond_doc(ctx, 200, &doc, false);
}

static void patch_user(struct route_ctx *ctx)
{
    json_t *body = decode_body(ctx, ctx->param);
    if (body == NULL)
        return;
    struct scim_error err;
    struct scim_doc doc;
    enum status rc = directory_scim_user_patch(ctx->dir, ctx->conn, ctx->param,
                                               http_header(ctx->req, "If-Match"), body, &doc, &err);
    json_decref(body);
    if (rc != OK) {
        http_respond_error(ctx->res, &err);
        return;
    }
    respond_projected(ctx, &doc);
    scim_doc_release(&doc);
}

static void delete_user(struct route_ctx *ctx)
{
    struct scim_error err;
    if (directory_scim_user_delete(ctx->dir, ctx->conn, ctx->param,
                                   http_header(ctx->req, "If-Match"), &err) != OK) {
        http_respond_error(ctx->res, &err);
        return;
    }
    ctx->res->status = 204;
}

/* ---- groups ------------------------------------------------------------------------------- */

static void list_groups(struct route_ctx *ctx)
{
    list_resources(ctx, directory_scim_group_list);
}

static void search_groups(struct route_ctx *ctx)
{
    search_resources(ctx, directory_scim_group_list);
}

static void get_group(struct route_ctx *ctx)
{
    struct scim_error err;
    struct scim_doc doc;
    if (directory_scim_group_get(ctx->dir, ctx->conn, ctx->param,
                                 http_query(ctx->req, "attributes"),
                                 http_query(ctx->req, "excludedAttributes"), &doc, &err) != OK) {
        http_respond_error(ctx->res, &err);
        return;
    }
    respond_doc_at(ctx, 200, &doc, NULL);
}

static void create_group(struct route_ctx *ctx)
{
    json_t *body = decode_body_of(ctx, "Group", NULL);
    if (body == NULL)
        return;
    struct scim_error err;
    struct scim_doc doc;
    enum status rc = directory_scim_group_create(ctx->dir, ctx->conn, body, &doc, &err);
    json_decref(body);
    if (rc != OK) {
        http_respond_error(ctx->res, &err);
        return;
    }
    respond_doc_at(ctx, 201, &doc, "Groups");
}

static void replace_group(struct route_ctx *ctx)
{
    json_t *body = decode_body_of(ctx, "Group", ctx->param);
    if (body == NULL)
        return;
    struct scim_error err;
    struct scim_doc doc;
    enum status rc = directory_scim_group_replace(
        ctx->dir, ctx->conn, ctx->param, http_header(ctx->req, "If-Match"), body, &doc, &err);
    json_decref(body);
    if (rc != OK) {
        http_respond_error(ctx->res, &err);
        return;
    }
    respond_doc_at(ctx, 200, &doc, NULL);
}

/* 204 unless the request asks for the resource with attributes/excludedAttributes
 * (RFC 7644 §3.5.2): a group's members are never rendered just to be ignored. */
static void patch_group(struct route_ctx *ctx)
{
    json_t *body = decode_body_of(ctx, "Group", ctx->param);
    if (body == NULL)
        return;
    const char *attributes = http_query(ctx->req, "attributes");
    const char *excluded = http_query(ctx->req, "excludedAttributes");
    bool want = attributes != NULL || excluded != NULL;
    struct scim_error err;
    struct scim_doc doc;
    enum status rc = directory_scim_group_patch(ctx->dir, ctx->conn, ctx->param,
                                                http_header(ctx->req, "If-Match"), body, attributes,
                                                excluded, want, &doc, &err);
    json_decref(body);
    if (rc != OK) {
        http_respond_error(ctx->res, &err);
        return;
    }
    if (want) {
        respond_doc_at(ctx, 200, &doc, NULL);
        return;
    }
    scim_etag(doc.version, ctx->res->etag);
    ctx->res->status = 204;
}

static void delete_group(struct route_ctx *ctx)
{
    struct scim_error err;
    if (directory_scim_group_delete(ctx->dir, ctx->conn, ctx->param,
                                    http_header(ctx->req, "If-Match"), &err) != OK) {
        http_respond_error(ctx->res, &err);
        return;
    }
    ctx->res->status = 204;
}

/* ---- bulk --------------------------------------------------------------------------------- */

static void post_bulk(struct route_ctx *ctx)
{
    json_t *body = decode_body_of(ctx, NULL, NULL);
    if (body == NULL)
        return;
    struct scim_error err;
    char *text = NULL;
    enum status rc = directory_scim_bulk(ctx->dir, ctx->conn, body, &text, &err);
    json_decref(body);
    if (rc != OK) {
        http_respond_error(ctx->res, &err);
        return;
    }
    http_respond_json(ctx->res, 200, text);
}

/* ---- routing ------------------------------------------------------------------------------ */

struct route {
    const char *method;
    const char *pattern; /* a trailing "/{}" matches one non-empty segment */
    route_fn handler;
    /* The resource type an {id} names (NULL: none); a write to one whose
     * {id} is refused is recorded as a failed request on it. */
    const char *resource;
    const char *label; /* the route in metrics */
};

/* clang-format off */
static const struct route routes[] = {
    { "GET",    "ServiceProviderConfig", get_spc,            NULL,    "/ServiceProviderConfig" },
    { "GET",    "ResourceTypes",         get_resource_types, NULL,    "/ResourceTypes" },
    { "GET",    "ResourceTypes/{}",      get_resource_type,  NULL,    "/ResourceTypes/{id}" },
    { "GET",    "Schemas",               get_schemas,        NULL,    "/Schemas" },
    { "GET",    "Schemas/{}",            get_schema,         NULL,    "/Schemas/{id}" },
    { "GET",    "Users",                 list_users,         NULL,    "/Users" },
    { "POST",   "Users",                 create_user,        NULL,    "/Users" },
    { "POST",   "Users/.search",         search_users,       NULL,    "/Users/.search" },
    { "GET",    "Users/{}",              get_user,           "User",  "/Users/{id}" },
    { "PUT",    "Users/{}",              replace_user,       "User",  "/Users/{id}" },
    { "PATCH",  "Users/{}",              patch_user,         "User",  "/Users/{id}" },
    { "DELETE", "Users/{}",              delete_user,        "User",  "/Users/{id}" },
    { "GET",    "Groups",                list_groups,        NULL,    "/Groups" },
    { "POST",   "Groups",                create_group,       NULL,    "/Groups" },
    { "POST",   "Groups/.search",        search_groups,      NULL,    "/Groups/.search" },
    { "GET",    "Groups/{}",             get_group,          "Group", "/Groups/{id}" },
    { "PUT",    "Groups/{}",             replace_group,      "Group", "/Groups/{id}" },
    { "PATCH",  "Groups/{}",             patch_group,        "Group", "/Groups/{id}" },
    { "DELETE", "Groups/{}",             delete_group,       "Group", "/Groups/{id}" },
    { "POST",   "Bulk",                  post_bulk,          NULL,    "/Bulk" },
};
/* clang-format on */

/*
 * An {id} segment that cannot be an id (not UTF-8, control bytes) never
 * reaches the store: 404 as for any unknown id, and a write is recorded as
 * a failed request with the segment percent-encoded.
 */
static void refuse_segment(struct route_ctx *ctx, const struct route *route, const char *param)
{
    char shown[HTTP_EDGE_SEGMENT_MAX * 3 + 1];
    http_edge_escape(param, strlen(param), shown, sizeof(shown));
    struct scim_error err;
    scim_error_set(&err, ERR_NOT_FOUND, "no %s with id '%.64s'",
                   route->resource ? route->resource : "resource", shown);
    if (route->resource != NULL && strcmp(route->method, "GET") != 0)
        directory_scim_request_failed(ctx->dir, ctx->conn, route->resource, shown, &err);
    http_respond_error(ctx->res, &err);
}

/* Run the route that matches path and method, or answer 404/405. */
static void dispatch(struct route_ctx *ctx, const struct http_request *req, const char *path)
{
    char param[HTTP_EDGE_SEGMENT_MAX + 1];
    bool path_known = false;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        bool has_param;
        if (!http_edge_route_match(routes[i].pattern, path, param, &has_param))
            continue;
        path_known = true;
        if (strcmp(routes[i].method, req->method) != 0)
            continue;
        if (has_param && !http_edge_segment_ok(param, strlen(param), HTTP_EDGE_SEGMENT_MAX)) {
            refuse_segment(ctx, &routes[i], param);
            return;
        }
        ctx->param = has_param ? param : NULL;
        routes[i].handler(ctx);
        return;
    }
    if (path_known)
        fail(ctx, ERR_METHOD, "method not allowed on this endpoint");
    else
        fail(ctx, ERR_NOT_FOUND, "no such endpoint");
}

/*
 * The Authorization header as the directory should see it: NULL when
 * absent, "Bearer <token>" with the whitespace around the token dropped, or
 * a value that is no bearer credential (another scheme, or a malformed one:
 * an embedded NUL or control byte never shortens a token into a valid one).
 * *owned is what to free; *token / *token_len the credential, if any.
 */
static const char *authorization_of(const struct http_request *req, char **owned,
                                    const char **token, size_t *token_len)
{
    static const char not_bearer[] = "Bearer"; /* the directory: not a bearer token */
    *owned = NULL;
    *token = NULL;
    *token_len = 0;
    size_t len;
    const char *value = http_header_n(req, "Authorization", &len);
    switch (http_edge_bearer(value, len, token, token_len)) {
    case HTTP_AUTH_MISSING:
        return NULL;
    case HTTP_AUTH_OTHER:
        return value;
    case HTTP_AUTH_MALFORMED:
        *token = NULL;
        return not_bearer;
    case HTTP_AUTH_BEARER:
        break;
    }
    struct buf b;
    buf_init(&b, 0);
    buf_puts(&b, "Bearer ");
    buf_append(&b, *token, *token_len);
    *owned = buf_take(&b);
    return *owned ? *owned : not_bearer;
}

static void rate_limited(struct http_response *res, enum http_limit_kind kind,
                         unsigned retry_after_s, const char *what)
{
    res->limited = true;
    res->limit = kind;
    struct scim_error err;
    scim_error_set(&err, ERR_RATE_LIMITED, "%s; retry after %u s", what, retry_after_s);
    http_respond_error(res, &err);
    res->retry_after_s = retry_after_s;
}

/*
 * Authenticate the request through the failed-authentication throttle:
 * refused at once (429) while its address is over the limit; with earlier
 * failures in the window, a request that would fail (401, or 403 from a
 * disabled connection or an address outside its allowlist) is only counted
 * (no audit row, no write); else the directory checks and records as usual.
 */
static enum status authenticate(struct directory *dir, struct http_ratelimit *limits,
                                const struct http_request *req, const char *idp_id,
                                struct scim_conn *conn, struct http_response *res)
{
    int64_t now_ms = clock_mono_ms();
    unsigned retry_s = 0;
    enum http_auth_gate gate = limits
                                   ? http_ratelimit_auth_gate(limits, req->source, now_ms, &retry_s)
                                   : HTTP_AUTH_GATE_OPEN;
    if (gate == HTTP_AUTH_GATE_CLOSED) {
        rate_limited(res, HTTP_LIMIT_AUTH, retry_s,
                     "too many failed authentications from this address");
        return ERR_RATE_LIMITED;
    }
    char *owned = NULL;
    const char *token;
    size_t token_len;
    const char *authorization = authorization_of(req, &owned, &token, &token_len);
    struct scim_error err;
    scim_error_clear(&err);
    enum status rc = OK;
    if (gate == HTTP_AUTH_GATE_COUNTED)
        rc = directory_bearer_check(dir, idp_id, token, token_len, req->source, &err);
    bool quiet = rc != OK; /* refused (401 or 403) without a record: counted below */
    if (!quiet) {
        bool reads_only = strcmp(req->method, "GET") == 0; /* a GET reads in the auth's tx */
        rc =
            directory_authenticate(dir, idp_id, authorization, req->source, reads_only, conn, &err);
    }
    free(owned);
    if ((rc == ERR_UNAUTHORIZED || rc == ERR_FORBIDDEN) && limits)
        http_ratelimit_auth_failed(limits, req->source, idp_id, !quiet, now_ms);
    if (rc != OK) {
        http_respond_error(res, &err);
        return rc;
    }
    if (limits == NULL)
        return OK;
    const struct http_ratelimit_config *cfg = http_ratelimit_config(limits);
    char key[HTTP_RATE_KEY_MAX];
    snprintf(key, sizeof(key), "t:%s", conn->token_id);
    if (!http_ratelimit_take(limits, &cfg->token, key, now_ms, &retry_s)) {
        rate_limited(res, HTTP_LIMIT_TOKEN, retry_s, "too many requests with this token");
        goto limited;
    }
    snprintf(key, sizeof(key), "c:%s", conn->idp_id);
    if (!http_ratelimit_take(limits, &cfg->conn, key, now_ms, &retry_s)) {
        rate_limited(res, HTTP_LIMIT_CONNECTION, retry_s, "too many requests on this connection");
        goto limited;
    }
    return OK;
limited:
    directory_conn_release(conn);
    return ERR_RATE_LIMITED;
}

/* The template of the route path names, whatever the method ("unmatched": none). */
static const char *route_label(const char *route)
{
    char param[HTTP_EDGE_SEGMENT_MAX + 1];
    bool has_param;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (http_edge_route_match(routes[i].pattern, route, param, &has_param))
            return routes[i].label;
    return "/unmatched";
}

void scim_routes_handle(struct directory *dir, struct http_ratelimit *limits,
                        const struct http_request *req, const char *path, struct http_response *res)
{
    struct route_ctx ctx = { .dir = dir, .req = req, .res = res };
    char idp_id[HTTP_EDGE_CONN_MAX];
    char route[HTTP_EDGE_ROUTE_MAX];
    if (!http_edge_split(path, idp_id, route)) {
        fail(&ctx, ERR_NOT_FOUND, "no such endpoint");
        return;
    }
    res->route = route_label(route);
    struct scim_conn conn;
    if (authenticate(dir, limits, req, idp_id, &conn, res) != OK)
        return;
    ctx.conn = &conn;
    dispatch(&ctx, req, route);
    directory_conn_release(&conn);
}
