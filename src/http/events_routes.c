/* SPDX-License-Identifier: Apache-2.0 */
/*
 * events_routes.c - this file contains the JWKS and RFC 8936 poll endpoints
 * (events_routes.h): method and media type checks, then src/events/poll.
 */
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "events/poll.h"
#include "events/secevent_http.h"
#include "http/events_routes.h"

#define JWKS_MEDIA_TYPE "application/jwk-set+json"
#define JSON_MEDIA_TYPE "application/json"
#define EMPTY_JWKS      "{\"keys\":[]}"

static void respond(struct http_response *res, int status, const char *media, char *body)
{
    res->status = status;
    free(res->body);
    res->body = body;
    res->content_type = media;
}

static void refuse(struct http_response *res, int status, const char *code, const char *why)
{
    char *body = NULL;
    if (secevent_error_json(code, why, &body) != OK)
        body = NULL;
    respond(res, status, JSON_MEDIA_TYPE, body);
}

static void get_jwks(const char *jwks_json, const struct http_request *req,
                     struct http_response *res)
{
    res->route = EVENTS_JWKS_PATH;
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        refuse(res, 405, "invalid_request", "use GET");
        return;
    }
    const char *text = jwks_json ? jwks_json : EMPTY_JWKS;
    respond(res, 200, JWKS_MEDIA_TYPE, str_ndup(text, strlen(text)));
}

static void post_poll(struct directory *dir, const struct signing_key *key, const char *id,
                      const struct http_request *req, struct http_response *res)
{
    res->route = EVENTS_POLL_PREFIX "{id}";
    if (strcmp(req->method, "POST") != 0) {
        refuse(res, 405, "invalid_request", "poll with POST");
        return;
    }
    const char *type = http_header(req, "Content-Type");
    if (req->body_len > 0 && (type == NULL || !str_istarts(type, JSON_MEDIA_TYPE))) {
        refuse(res, 415, "invalid_request", "the poll body must be application/json");
        return;
    }
    struct poll_answer a;
    poll_answer(dir, key, id, http_header(req, "Authorization"), req->body, req->body_len, &a);
    respond(res, a.status, JSON_MEDIA_TYPE, a.body);
    res->www_authenticate = a.unauthorized;
}

bool events_routes_handle(struct directory *dir, const char *jwks_json,
                          const struct signing_key *key, const struct http_request *req,
                          struct http_response *res)
{
    if (strcmp(req->url, EVENTS_JWKS_PATH) == 0) {
        get_jwks(jwks_json, req, res);
        return true;
    }
    size_t n = strlen(EVENTS_POLL_PREFIX);
    if (strncmp(req->url, EVENTS_POLL_PREFIX, n) != 0)
        return false;
    const char *id = req->url + n;
    if (id[0] == '\0' || strlen(id) >= STORE_ID_LEN || strchr(id, '/') != NULL) {
        res->route = EVENTS_POLL_PREFIX "{id}";
        refuse(res, 404, "invalid_request", "no such subscription");
        return true;
    }
    post_poll(dir, key, id, req, res);
    return true;
}
