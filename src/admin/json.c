/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json.c - JSON answers of the admin API: bodies, errors with stable codes
 * (one table from status to HTTP status and code), and cursor pages.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/str.h"
#include "scim/render.h"

void admin_reply(struct admin_req *r, int status, json_t *value)
{
    char *text = NULL;
    if (value != NULL) {
        text = json_dumps(value, JSON_COMPACT | JSON_ENSURE_ASCII);
        json_decref(value);
        if (text == NULL) {
            admin_fail(r, 500, "internal", "out of memory");
            return;
        }
    }
    http_respond_json(r->res, status, text);
    r->res->content_type = ADMIN_JSON_TYPE;
}

void admin_fail(struct admin_req *r, int status, const char *code, const char *fmt, ...)
{
    char message[SCIM_ERROR_DETAIL_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    json_t *body = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
    if (body == NULL) {
        http_respond_json(r->res, 500, NULL);
        return;
    }
    admin_reply(r, status, body);
}

/* clang-format off */
static const struct {
    enum status status;
    int http;
    const char *code;
} codes[] = {
    { ERR_INVALID_SYNTAX, 400, "invalid_request" },
    { ERR_INVALID_VALUE,  400, "invalid_request" },
    { ERR_INVALID_FILTER, 400, "invalid_request" },
    { ERR_BAD_REQUEST,    400, "invalid_request" },
    { ERR_INVALID_CURSOR, 400, "invalid_cursor" },
    { ERR_UNAUTHORIZED,   401, "unauthorized" },
    { ERR_FORBIDDEN,      403, "forbidden" },
    { ERR_NOT_FOUND,      404, "not_found" },
    { ERR_METHOD,         405, "method_not_allowed" },
    { ERR_UNIQUENESS,     409, "conflict" },
    { ERR_CONFLICT,       409, "conflict" },
    { ERR_PRECONDITION,   412, "precondition_failed" },
    { ERR_TOO_LARGE,      413, "too_large" },
    { ERR_TOO_MANY,       429, "throttled" },
    { ERR_UNAVAILABLE,    503, "unavailable" },
};
/* clang-format on */

void admin_fail_with(struct admin_req *r, const struct scim_error *err)
{
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        if (codes[i].status == err->status) {
            admin_fail(r, codes[i].http, codes[i].code, "%s",
                       err->detail[0] ? err->detail : status_name(err->status));
            return;
        }
    }
    log_error("admin request failed: %s", status_name(err->status));
    admin_fail(r, 500, "internal", "internal error: %s", status_name(err->status));
}

void admin_fail_status(struct admin_req *r, enum status rc)
{
    struct scim_error err;
    scim_error_clear(&err);
    err.status = rc;
    admin_fail_with(r, &err);
}

json_t *admin_str(const char *s)
{
    return s && s[0] ? json_string(s) : json_null();
}

const char *admin_body_str(const struct admin_req *r, const char *name)
{
    return r->body ? json_string_value(json_object_get(r->body, name)) : NULL;
}

/* ---- ETags ------------------------------------------------------------------------------ */

void admin_etag(const json_t *value, char out[ADMIN_ETAG_LEN])
{
    char hash[CRYPTO_SHA256_HEX_LEN];
    char *text = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    crypto_sha256_hex(text ? text : "", text ? strlen(text) : 0, hash);
    free(text);
    snprintf(out, ADMIN_ETAG_LEN, "\"%.*s\"", ADMIN_ETAG_HEX, hash);
}

void admin_reply_tagged(struct admin_req *r, json_t *value)
{
    admin_reply_tagged_by(r, value, value);
}

void admin_reply_tagged_by(struct admin_req *r, json_t *value, const json_t *tagged)
{
    char etag[ADMIN_ETAG_LEN];
    if (value != NULL && tagged != NULL)
        admin_etag(tagged, etag);
    admin_reply(r, 200, value);
    if (value != NULL && tagged != NULL && r->res->status == 200)
        str_copy(r->res->etag, sizeof(r->res->etag), etag);
}

/* directory_guard_fn of admin_if_match: take turns, then compare. */
static enum status check_if_match(void *ctx, struct store_tx *tx, struct scim_error *err)
{
    struct admin_if_match *m = ctx;
    /* a second change of the object waits here, then reads what the first one wrote */
    enum status rc = store_lock(tx, m->object);
    if (rc != OK)
        return scim_error_set(err, rc, "could not lock the object: %s", status_name(rc));
    const char *if_match = http_header(m->r->http, "If-Match");
    if (if_match == NULL)
        return OK;
    json_t *current = NULL;
    rc = m->show(m->r, tx, m->ctx, &current);
    if (rc == OK && current == NULL)
        rc = ERR_NOMEM;
    char etag[ADMIN_ETAG_LEN];
    if (rc == OK)
        admin_etag(current, etag);
    json_decref(current);
    if (rc == ERR_NOT_FOUND)
        return scim_error_set(err, rc, "no such object");
    if (rc != OK)
        return scim_error_set(err, rc, "%s", status_name(rc));
    char tag[ADMIN_ETAG_LEN];
    snprintf(tag, sizeof(tag), "%.*s", ADMIN_ETAG_HEX, etag + 1); /* without its quotes */
    if (scim_etag_list_has(if_match, tag))
        return OK;
    return scim_error_set(err, ERR_PRECONDITION,
                          "the object changed since it was read (If-Match does not name its ETag "
                          "%s): read it again",
                          etag);
}

const struct directory_guard *admin_if_match(struct admin_if_match *m, struct admin_req *r,
                                             admin_show_fn show, void *ctx, const char *kind,
                                             const char *id, const char *sub)
{
    memset(m, 0, sizeof(*m));
    m->r = r;
    m->show = show;
    m->ctx = ctx;
    snprintf(m->object, sizeof(m->object), "%s %s %s", kind, id, sub ? sub : "");
    m->guard.check = check_if_match;
    m->guard.ctx = m;
    return &m->guard;
}

/* ---- cursor pages ---------------------------------------------------------------------- */

bool admin_page_init(struct admin_req *r, struct admin_page *p)
{
    memset(p, 0, sizeof(*p));
    p->limit = ADMIN_PAGE_DEFAULT;
    const char *limit = http_query(r->http, "limit");
    long n = 0;
    if (limit != NULL) {
        if (!str_to_long(limit, 1, ADMIN_PAGE_MAX, &n)) {
            admin_fail(r, 400, "invalid_request", "limit must be 1 to %d", ADMIN_PAGE_MAX);
            return false;
        }
        p->limit = (size_t)n;
    }
    const char *cursor = http_query(r->http, "cursor");
    if (cursor != NULL && cursor[0] != '\0') {
        size_t len = strlen(cursor);
        bool ok = len < ADMIN_CURSOR_MAX;
        for (size_t i = 0; ok && i < len; i++)
            ok = cursor[i] > 0x20 && cursor[i] < 0x7f;
        if (!ok) {
            admin_fail(r, 400, "invalid_cursor", "the cursor is not one this server issued");
            return false;
        }
        p->after = cursor;
    }
    p->items = json_array();
    if (p->items == NULL) {
        admin_fail(r, 500, "internal", "out of memory");
        return false;
    }
    return true;
}

enum status admin_page_add(struct admin_page *p, const char *key, json_t *item)
{
    if (item == NULL)
        return ERR_NOMEM;
    if (p->after != NULL && strcmp(key, p->after) <= 0) {
        json_decref(item);
        return OK;
    }
    if (json_array_size(p->items) >= p->limit) {
        json_decref(item);
        str_copy(p->next, sizeof(p->next), p->last);
        return ERR_TOO_MANY;
    }
    str_copy(p->last, sizeof(p->last), key);
    return json_array_append_new(p->items, item) == 0 ? OK : ERR_NOMEM;
}

void admin_page_reply(struct admin_req *r, struct admin_page *p)
{
    json_t *body = json_pack("{s:o,s:o}", "items", p->items, "next_cursor", admin_str(p->next));
    p->items = NULL;
    admin_reply(r, 200, body);
}

void admin_page_key(char out[ADMIN_CURSOR_MAX], const char *created_at, const char *id)
{
    snprintf(out, ADMIN_CURSOR_MAX, "%s~%s", created_at, id);
}
