/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api.c - the admin API's router: the route table (method, path pattern,
 * what the route requires), path parameters, authentication, role and
 * CSRF checks, and JSON request bodies.
 */
#include <string.h>

#include "admin/admin.h"
#include "admin/api.h"
#include "core/str.h"

#define V1 ADMIN_API_PREFIX "v1/"

enum route_needs {
    OPEN = 0,          /* no sign-in (sign-in itself, setup, the OpenAPI document) */
    READ = 1u << 0,    /* a signed-in admin of any role */
    WRITE = 1u << 1,   /* changes state: CSRF and Origin checks, auditors refused */
    SUPER = 1u << 2,   /* super admins only */
    SESSION = 1u << 3, /* signed in; CSRF checked; any role (sign-out) */
};

struct route {
    const char *method;
    const char *path; /* "{}" matches one segment; also the metrics label */
    unsigned needs;
    admin_route_fn fn;
};

/* clang-format off */
static const struct route routes[] = {
    { "GET",    V1 "openapi.json",                  OPEN,          admin_openapi },
    { "POST",   V1 "session",                       OPEN,          admin_session_create },
    { "GET",    V1 "session",                       READ,          admin_session_get },
    { "DELETE", V1 "session",                       SESSION,       admin_session_delete },
    { "POST",   V1 "setup",                         OPEN,          admin_setup },
    { "GET",    V1 "tenants",                       READ,          admin_tenants_list },
    { "POST",   V1 "tenants",                       WRITE | SUPER, admin_tenants_create },
    { "GET",    V1 "idps",                          READ,          admin_idps_list },
    { "POST",   V1 "idps",                          WRITE,         admin_idps_create },
    { "GET",    V1 "idps/{}",                       READ,          admin_idps_get },
    { "GET",    V1 "idps/{}/tokens",                READ,          admin_tokens_list },
    { "POST",   V1 "idps/{}/tokens",                WRITE,         admin_tokens_create },
    { "DELETE", V1 "tokens/{}",                     WRITE,         admin_tokens_revoke },
    { "GET",    V1 "idps/{}/groups",                READ,          admin_groups_list },
    { "GET",    V1 "idps/{}/groups/{}",             READ,          admin_groups_get },
    { "GET",    V1 "idps/{}/groups/{}/members",     READ,          admin_group_members },
    { "GET",    V1 "users",                         READ,          admin_users_list },
    { "GET",    V1 "users/{}",                      READ,          admin_users_get },
    { "GET",    V1 "events",                        READ,          admin_events_list },
    { "GET",    V1 "events/stream",                 READ,          admin_events_stream },
    { "PATCH",  V1 "idps/{}",                       WRITE,         admin_idps_patch },
    { "GET",    V1 "idps/{}/mirroring",             READ,          admin_idp_mirroring_get },
    { "PUT",    V1 "idps/{}/mirroring/{}",          WRITE,         admin_idp_mirroring_put },
    { "GET",    V1 "tenants/{}/mirroring",          READ,          admin_mirroring_get },
    { "PUT",    V1 "tenants/{}/mirroring/{}",       WRITE,         admin_mirroring_put },
    { "GET",    V1 "tenants/{}/rederive",           READ,          admin_rederive_get },
    { "GET",    V1 "tenants/{}/fields",             READ,          admin_fields_list },
    { "POST",   V1 "tenants/{}/fields",             WRITE,         admin_fields_create },
    { "GET",    V1 "tenants/{}/fields/{}",          READ,          admin_fields_get },
    { "DELETE", V1 "tenants/{}/fields/{}",          WRITE,         admin_fields_delete },
    { "GET",    V1 "tenants/{}/schemas",            READ,          admin_schemas_list },
    { "POST",   V1 "tenants/{}/schemas",            WRITE,         admin_schemas_create },
    { "GET",    V1 "tenants/{}/roles",              READ,          admin_roles_list },
    { "POST",   V1 "tenants/{}/roles",              WRITE,         admin_roles_create },
    { "GET",    V1 "tenants/{}/roles/{}",           READ,          admin_roles_get },
    { "DELETE", V1 "tenants/{}/roles/{}",           WRITE,         admin_roles_delete },
    { "PUT",    V1 "tenants/{}/roles/{}/groups/{}", WRITE,         admin_role_groups_put },
    { "DELETE", V1 "tenants/{}/roles/{}/groups/{}", WRITE,         admin_role_groups_delete },
    { "GET",    V1 "apps",                          READ,          admin_apps_list },
    { "POST",   V1 "apps",                          WRITE,         admin_apps_create },
    { "GET",    V1 "apps/{}",                       READ,          admin_apps_get },
    { "PATCH",  V1 "apps/{}",                       WRITE,         admin_apps_patch },
    { "DELETE", V1 "apps/{}",                       WRITE,         admin_apps_delete },
    { "GET",    V1 "apps/{}/status",                READ,          admin_apps_status },
    { "POST",   V1 "apps/{}/retry",                 WRITE,         admin_apps_retry },
    { "POST",   V1 "apps/{}/allow-deprovisions",    WRITE,         admin_apps_allow_deprovisions },
    { "POST",   V1 "apps/{}/resync",                WRITE,         admin_apps_resync },
    { "GET",    V1 "webhooks",                      READ,          admin_webhooks_list },
    { "POST",   V1 "webhooks",                      WRITE,         admin_webhooks_create },
    { "GET",    V1 "webhooks/{}",                   READ,          admin_webhooks_get },
    { "PATCH",  V1 "webhooks/{}",                   WRITE,         admin_webhooks_patch },
    { "DELETE", V1 "webhooks/{}",                   WRITE,         admin_webhooks_delete },
    { "POST",   V1 "webhooks/{}/replay",            WRITE,         admin_webhooks_replay },
    { "GET",    V1 "apps/{}/grants",                READ,          admin_grants_list },
    { "POST",   V1 "apps/{}/grants",                WRITE,         admin_grants_create },
    { "DELETE", V1 "apps/{}/grants/{}/{}",          WRITE,         admin_grants_delete },
};
/* clang-format on */

/* Does path match pattern?  Parameters go to params (pointing into
 * buf, a copy of path with '/' cut to NUL). */
static bool match(const char *pattern, char *buf, const char *params[ADMIN_MAX_PARAMS])
{
    size_t n = 0;
    char *seg = buf;
    const char *pat = pattern;
    for (;;) {
        const char *pat_end = strchr(pat, '/');
        size_t pat_len = pat_end ? (size_t)(pat_end - pat) : strlen(pat);
        char *seg_end = strchr(seg, '/');
        size_t seg_len = seg_end ? (size_t)(seg_end - seg) : strlen(seg);
        if (pat_len == 2 && strncmp(pat, "{}", 2) == 0) {
            if (seg_len == 0 || n == ADMIN_MAX_PARAMS)
                return false;
            params[n++] = seg;
        } else if (pat_len != seg_len || strncmp(pat, seg, seg_len) != 0) {
            return false;
        }
        if ((pat_end == NULL) != (seg_end == NULL))
            return false;
        if (pat_end == NULL)
            break;
        pat = pat_end + 1;
        seg = seg_end + 1;
    }
    /* cut the parameters out of buf */
    for (char *p = buf; *p; p++) {
        if (*p == '/')
            *p = '\0';
    }
    return true;
}

static bool parse_body(struct admin_req *r)
{
    if (r->http->body_len == 0) {
        r->body = json_object();
        return r->body != NULL;
    }
    json_error_t jerr;
    r->body = json_loadb(r->http->body, r->http->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (r->body == NULL || !json_is_object(r->body)) {
        admin_fail(r, 400, "invalid_request", "the body must be a JSON object");
        return false;
    }
    return true;
}

static void run(struct admin_req *r, const struct route *route)
{
    if (route->needs != OPEN && !admin_authenticate(r))
        return;
    if ((route->needs & SUPER) && !admin_is_super(r)) {
        admin_fail(r, 403, "forbidden", "only a super admin may do this");
        return;
    }
    if ((route->needs & (WRITE | SESSION)) && !admin_check_csrf(r))
        return;
    if ((route->needs & WRITE) && strcmp(r->auth.admin.role, "auditor") == 0) {
        admin_fail(r, 403, "forbidden", "an auditor may only read");
        return;
    }
    bool has_body = strcmp(route->method, "GET") != 0 && strcmp(route->method, "DELETE") != 0;
    if (has_body && !parse_body(r))
        return;
    route->fn(r);
}

void admin_api_handle(struct directory *dir, const struct http_request *req,
                      struct http_response *res)
{
    struct admin_req r = { .dir = dir, .http = req, .res = res };
    const char *path = req->url;
    char buf[ADMIN_PATH_MAX];
    if (strncmp(path, V1, strlen(V1)) != 0 || strlen(path) >= sizeof(buf)) {
        admin_fail(&r, 404, "not_found", "no such endpoint; the admin API is under " V1);
        return;
    }
    bool path_known = false;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        str_copy(buf, sizeof(buf), path);
        const char *params[ADMIN_MAX_PARAMS] = { 0 };
        if (!match(routes[i].path, buf, params))
            continue;
        path_known = true;
        if (strcmp(routes[i].method, req->method) != 0)
            continue;
        memcpy(r.params, params, sizeof(params));
        res->route = routes[i].path;
        run(&r, &routes[i]);
        json_decref(r.body);
        memset(&r.auth, 0, sizeof(r.auth));
        return;
    }
    if (path_known)
        admin_fail(&r, 405, "method_not_allowed", "%s is not allowed here", req->method);
    else
        admin_fail(&r, 404, "not_found", "no such endpoint");
}
