/*
 * openapi.c - GET /admin/api/v1/openapi.json: the OpenAPI 3.1 document of
 * the admin API, src/admin/openapi.json embedded at build time.
 */
#include "admin/admin.h"
#include "core/str.h"

/* tools/embed.sh writes an array of these: { file name, file text }. */
struct migration {
    const char *name;
    const char *sql;
};
#include "admin_openapi.h"

void admin_openapi(struct admin_req *r)
{
    http_respond_json(r->res, 200, str_dup(admin_openapi_files[0].sql));
    r->res->content_type = ADMIN_JSON_TYPE;
}
