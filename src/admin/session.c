/* SPDX-License-Identifier: Apache-2.0 */
/*
 * session.c - who an admin API request comes from: an API key
 * (Authorization: Bearer scimd_admin_...) or the session cookie; the CSRF
 * token and Origin checks of state-changing requests; the session cookie.
 */
#include <stdio.h>
#include <string.h>

#include "admin/admin.h"
#include "core/crypto.h"
#include "core/str.h"

/* The value of cookie name in a Cookie header, copied to out; false when absent. */
static bool cookie_value(const char *header, const char *name, char *out, size_t size)
{
    size_t n = strlen(name);
    for (const char *p = header; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > n && strncmp(p, name, n) == 0 && p[n] == '=') {
            size_t v = len - n - 1;
            if (v >= size)
                return false;
            memcpy(out, p + n + 1, v);
            out[v] = '\0';
            return true;
        }
        p = end;
    }
    return false;
}

bool admin_authenticate(struct admin_req *r)
{
    struct scim_error err;
    const char *authz = http_header(r->http, "Authorization");
    enum status rc;
    if (authz != NULL) {
        if (!str_istarts(authz, "Bearer ")) {
            admin_fail(r, 401, "unauthorized", "Authorization must be 'Bearer <admin API key>'");
            return false;
        }
        rc = directory_admin_key_auth(r->dir, authz + 7, &r->auth, &err);
    } else {
        char id[DIRECTORY_SECRET_LEN + 1];
        const char *cookies = http_header(r->http, "Cookie");
        if (cookies == NULL || !cookie_value(cookies, ADMIN_COOKIE, id, sizeof(id))) {
            admin_fail(r, 401, "unauthorized", "sign in first (POST /admin/api/v1/session)");
            return false;
        }
        rc = directory_admin_session(r->dir, id, &r->auth, &err);
        memset(id, 0, sizeof(id));
    }
    if (rc != OK) {
        admin_fail_with(r, &err);
        return false;
    }
    return true;
}

/* scheme://host[:port] of the public URL. */
static void public_origin(const struct directory *dir, char *out, size_t size)
{
    str_copy(out, size, dir->public_url);
    char *host = strstr(out, "://");
    char *slash = host ? strchr(host + 3, '/') : NULL;
    if (slash)
        *slash = '\0';
}

bool admin_check_origin(struct admin_req *r)
{
    const char *origin = http_header(r->http, "Origin");
    if (origin == NULL)
        return true;
    char expected[DIRECTORY_URL_MAX];
    public_origin(r->dir, expected, sizeof(expected));
    if (str_ieq(origin, expected))
        return true;
    admin_fail(r, 403, "bad_origin", "requests from another origin are refused");
    return false;
}

bool admin_check_csrf(struct admin_req *r)
{
    if (!admin_check_origin(r))
        return false;
    if (r->auth.by_key)
        return true;
    const char *token = http_header(r->http, ADMIN_CSRF_HEADER);
    char hash[CRYPTO_SHA256_HEX_LEN];
    if (token != NULL && strlen(token) == DIRECTORY_SECRET_CHARS) {
        crypto_sha256_hex(token, strlen(token), hash);
        if (crypto_equal(hash, r->auth.csrf_hash, sizeof(hash) - 1))
            return true;
    }
    admin_fail(r, 403, "csrf_failed",
               "this request needs the session's CSRF token in the " ADMIN_CSRF_HEADER " header");
    return false;
}

void admin_set_cookie(struct admin_req *r, const char *session_id)
{
    bool secure = str_istarts(r->dir->public_url, "https://");
    snprintf(r->res->set_cookie, sizeof(r->res->set_cookie),
             ADMIN_COOKIE "=%s; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=%d%s",
             session_id ? session_id : "", session_id ? DIRECTORY_SESSION_MAX_S : 0,
             secure ? "; Secure" : "");
}

bool admin_is_super(const struct admin_req *r)
{
    return strcmp(r->auth.admin.role, "super") == 0;
}

bool admin_sees(const struct admin_req *r, const char *tenant_id)
{
    return admin_is_super(r) || (tenant_id && strcmp(r->auth.admin.tenant_id, tenant_id) == 0);
}

struct actor admin_actor(const struct admin_req *r)
{
    struct actor by = { r->auth.actor, r->http->source[0] ? r->http->source : NULL };
    return by;
}

bool admin_credential(const struct admin_req *r, char *out, size_t size)
{
    if (r->auth.by_key) {
        const char *authz = http_header(r->http, "Authorization");
        if (authz == NULL || !str_istarts(authz, "Bearer ") || strlen(authz + 7) >= size)
            return false;
        str_copy(out, size, authz + 7);
        return true;
    }
    const char *cookies = http_header(r->http, "Cookie");
    return cookies != NULL && cookie_value(cookies, ADMIN_COOKIE, out, size);
}
