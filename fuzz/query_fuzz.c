/* SPDX-License-Identifier: Apache-2.0 */
/*
 * query_fuzz.c - libFuzzer target for the query-string values of
 * GET /Users: the input is split at newlines into startIndex, count,
 * sortOrder, sortBy, attributes, excludedAttributes and filter (in that
 * order; missing fields are absent), and each goes through the function the
 * server uses for it: str_to_long, the sortOrder comparison,
 * scim_schema_resolve, scim_projection_parse (+ apply to a fixed user) and
 * scim_filter_parse + scim_filter_bind (+ match).  Any crash, leak or
 * sanitizer report is a bug.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scim/filter.h"
#include "scim/schema.h"

#include "core/str.h"

#define QUERY_FIELDS 7 /* startIndex count sortOrder sortBy attributes excluded filter */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char user_text[] =
    "{\"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:User\","
    "  \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"],"
    "\"id\": \"2819c223-7f76-453a-919d-413861904646\", \"externalId\": \"ext-1\","
    "\"userName\": \"user1@bench.test\", \"displayName\": \"User One\", \"active\": true,"
    "\"name\": {\"familyName\": \"One\", \"givenName\": \"User\"},"
    "\"emails\": [{\"value\": \"user1@bench.test\", \"type\": \"work\", \"primary\": true}],"
    "\"meta\": {\"resourceType\": \"User\", \"created\": \"2026-01-23T04:56:22.000Z\","
    "  \"lastModified\": \"2026-05-13T04:42:34.123Z\", \"version\": \"W/\\\"3\\\"\"},"
    "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\": {\"employeeNumber\": \"7\","
    "  \"manager\": {\"value\": \"26118915\"}}}";

static json_t *user_doc;

/* The numeric parameters as scim_routes.c reads them. */
static void number(const char *text)
{
    long v = 0;
    if (text && *text && str_to_long(text, -2147483647L, 2147483647L, &v) &&
        (v < -2147483647L || v > 2147483647L))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (user_doc == NULL && (user_doc = json_loads(user_text, 0, NULL)) == NULL)
        abort();
    /* query values are C strings after URL decoding: stop at the first NUL */
    char *text = str_ndup((const char *)data, size);
    if (text == NULL)
        return 0;
    const char *field[QUERY_FIELDS] = { 0 };
    char *p = text;
    for (size_t i = 0; i < QUERY_FIELDS && p; i++) {
        field[i] = p;
        char *nl = i + 1 < QUERY_FIELDS ? strchr(p, '\n') : NULL;
        if (nl)
            *nl++ = '\0';
        p = nl;
    }

    number(field[0]);
    number(field[1]);
    if (field[2])
        (void)(str_ieq(field[2], "ascending") || str_ieq(field[2], "descending"));

    struct scim_error err = { 0 };
    if (field[3] && *field[3]) {
        struct scim_attr_ref ref;
        if (scim_schema_resolve(&scim_resource_user, field[3], &ref, &err) != OK &&
            err.detail[0] == '\0')
            abort();
    }

    struct scim_projection *proj = NULL;
    if (field[4] || field[5]) {
        if (scim_projection_parse(&scim_resource_user, field[4], field[5], &proj, &err) == OK) {
            /* NULL is the identity projection (both lists blank) */
            json_t *shown = scim_projection_apply(proj, &scim_resource_user, user_doc);
            json_decref(shown);
            scim_projection_free(proj);
        } else if (err.detail[0] == '\0') {
            abort();
        }
    }

    if (field[6]) {
        struct scim_filter *f = NULL;
        if (scim_filter_parse(field[6], &f, &err) == OK) {
            if (f == NULL)
                abort();
            if (scim_filter_bind(f, &scim_resource_user, &err) == OK)
                (void)scim_filter_match(f, user_doc);
            scim_filter_free(f);
        } else if (f != NULL || err.status != ERR_INVALID_FILTER) {
            abort();
        }
    }
    free(text);
    return 0;
}
