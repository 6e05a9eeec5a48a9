/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render.c - meta, ETags, list responses and error bodies.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "scim/render.h"

void scim_etag(int64_t version, char out[SCIM_ETAG_MAX])
{
    snprintf(out, SCIM_ETAG_MAX, "W/\"%" PRId64 "\"", version);
}

bool scim_etag_list_has(const char *if_match, const char *tag)
{
    size_t want_len = strlen(tag);
    const char *p = if_match;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return true;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        bool quoted = *p == '"';
        if (quoted)
            p++;
        const char *start = p;
        while (*p && *p != '"' && *p != ',')
            p++;
        if ((size_t)(p - start) == want_len && memcmp(start, tag, want_len) == 0)
            return true;
        if (quoted && *p == '"')
            p++;
        while (*p && *p != ',')
            p++;
    }
    return false;
}

bool scim_etag_matches(const char *if_match, int64_t version)
{
    if (if_match == NULL)
        return true;
    char want[SCIM_ETAG_MAX];
    snprintf(want, sizeof(want), "%" PRId64, version);
    return scim_etag_list_has(if_match, want);
}

enum status scim_resource_finish(const struct scim_resource_type *rt, json_t *doc,
                                 const struct scim_meta *meta)
{
    char etag[SCIM_ETAG_MAX];
    scim_etag(meta->version, etag);
    json_t *m =
        json_pack("{s:s,s:s,s:s,s:s,s:s}", "resourceType", rt->id, "created", meta->created,
                  "lastModified", meta->last_modified, "location", meta->location, "version", etag);
    if (m == NULL)
        return ERR_NOMEM;
    /* Rebuild with schemas and id first; jansson keeps insertion order. */
    json_t *schemas = json_incref(json_object_get(doc, "schemas"));
    json_t *ordered = json_object();
    if (ordered == NULL) {
        json_decref(m);
        json_decref(schemas);
        return ERR_NOMEM;
    }
    if (schemas)
        json_object_set_new(ordered, "schemas", schemas);
    json_object_set_new(ordered, "id", json_string(meta->id));
    const char *key;
    json_t *value;
    json_object_foreach(doc, key, value)
    {
        if (strcmp(key, "schemas") != 0 && strcmp(key, "id") != 0 && strcmp(key, "meta") != 0)
            json_object_set(ordered, key, value);
    }
    json_object_set_new(ordered, "meta", m);
    json_object_clear(doc);
    json_object_update(doc, ordered);
    json_decref(ordered);
    return OK;
}

char *scim_error_body(const struct scim_error *err)
{
    char status[8];
    snprintf(status, sizeof(status), "%d", status_http(err->status));
    const char *detail = err->detail[0] ? err->detail : status_name(err->status);
    json_t *body = json_pack("{s:[s],s:s}", "schemas", SCIM_SCHEMA_ERROR, "status", status);
    if (body == NULL)
        return NULL;
    const char *type = status_scim_type(err->status);
    if (type)
        json_object_set_new(body, "scimType", json_string(type));
    json_object_set_new(body, "detail", json_string(detail));
    char *text = scim_json_text(body);
    json_decref(body);
    return text;
}

char *scim_json_text(const json_t *doc)
{
    return json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

json_t *scim_service_provider_config(const char *base_url, const struct scim_limits *limits)
{
    size_t n = strlen(base_url) + sizeof("ServiceProviderConfig");
    char *location = malloc(n);
    if (location == NULL)
        return NULL;
    snprintf(location, n, "%sServiceProviderConfig", base_url);
    json_t *spc = json_pack(
        "{s:[s],s:s,s:{s:b},s:{s:b,s:I,s:I},s:{s:b,s:I},s:{s:b},s:{s:b},s:{s:b},"
        "s:[{s:s,s:s,s:s,s:b}],s:{s:s,s:s}}",
        "schemas", SCIM_SCHEMA_SPC, "documentationUri",
        "https://datatracker.ietf.org/doc/html/rfc7644", "patch", "supported", 1, "bulk",
        "supported", limits->bulk_max_operations > 0, "maxOperations",
        (json_int_t)limits->bulk_max_operations, "maxPayloadSize",
        (json_int_t)limits->bulk_max_payload, "filter", "supported", 1, "maxResults",
        (json_int_t)limits->max_results, "changePassword", "supported", 0, "sort", "supported", 1,
        "etag", "supported", 1, "authenticationSchemes", "type", "oauthbearertoken", "name",
        "OAuth Bearer Token", "description",
        "A bearer token minted by 'scimd token create' for this IdP connection", "primary", 1,
        "meta", "resourceType", "ServiceProviderConfig", "location", location);
    free(location);
    /* RFC 9865 §4: how lists may be paged */
    if (spc != NULL && limits->cursor_timeout_s > 0)
        json_object_set_new(spc, "pagination",
                            json_pack("{s:b,s:b,s:s,s:I,s:I,s:I}", "cursor", 1, "index", 1,
                                      "defaultPaginationMethod", "index", "defaultPageSize",
                                      (json_int_t)limits->default_page, "maxPageSize",
                                      (json_int_t)limits->max_results, "cursorTimeout",
                                      (json_int_t)limits->cursor_timeout_s));
    return spc;
}
