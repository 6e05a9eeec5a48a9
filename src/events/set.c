/*
 * set.c - this file contains the table from scimd event types to RFC 9967
 * event URIs, and the building of one SET's claims and its compact JWS.
 */
#include <jansson.h>
#include <stdbool.h>
#include <string.h>

#include "core/str.h"
#include "events/set.h"

/* What a scimd event type is as a SCIM SET: the resource endpoint, the event
 * URI (put_uri instead when the change came as a PUT), and the attributes a
 * notice names when the caller gives none. */
struct set_kind {
    const char *type;
    const char *endpoint;
    const char *uri;
    const char *put_uri;
    const char *attribute;
};

#define URI(x) SET_URI_PREFIX x

/* clang-format off */
static const struct set_kind kinds[] = {
    { "scim_user_created",          "Users",  URI("create:notice"), NULL,               NULL      },
    { "scim_user_updated",          "Users",  URI("patch:notice"),  URI("put:notice"),  NULL      },
    { "scim_user_deleted",          "Users",  URI("delete"),        NULL,               NULL      },
    { "scim_user_deactivated",      "Users",  URI("deactivate"),    NULL,               NULL      },
    { "scim_user_reactivated",      "Users",  URI("activate"),      NULL,               NULL      },
    { "scim_group_created",         "Groups", URI("create:notice"), NULL,               NULL      },
    { "scim_group_updated",         "Groups", URI("patch:notice"),  URI("put:notice"),  NULL      },
    { "scim_group_members_changed", "Groups", URI("patch:notice"),  URI("put:notice"),  "members" },
    { "scim_group_deleted",         "Groups", URI("delete"),        NULL,               NULL      },
};
/* clang-format on */

static const struct set_kind *kind_of(const char *type)
{
    for (size_t i = 0; type != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strcmp(kinds[i].type, type) == 0)
            return &kinds[i];
    }
    return NULL;
}

static const char *uri_of(const struct set_kind *k, const char *method)
{
    bool put = method != NULL && strcmp(method, "PUT") == 0;
    return put && k->put_uri != NULL ? k->put_uri : k->uri;
}

const char *set_event_uri(const char *type, const char *method)
{
    const struct set_kind *k = kind_of(type);
    return k != NULL ? uri_of(k, method) : NULL;
}

static bool text_ok(const char *s, size_t max)
{
    size_t n = s != NULL ? strlen(s) : 0;
    return n > 0 && n <= max && str_utf8_valid(s, n);
}

/* The event member: {} or {"attributes":[...]} for notices. */
static json_t *event_payload(const struct set_kind *k, const struct set_event *e)
{
    json_t *payload = json_object();
    bool notice = strstr(uri_of(k, e->method), ":notice") != NULL;
    if (payload == NULL || !notice || (e->n_attributes == 0 && k->attribute == NULL))
        return payload;
    json_t *names = json_array();
    if (e->n_attributes == 0)
        json_array_append_new(names, json_string(k->attribute));
    for (size_t i = 0; i < e->n_attributes; i++)
        json_array_append_new(names, json_string(e->attributes[i]));
    if (json_object_set_new(payload, "attributes", names) != 0 ||
        json_array_size(names) != (e->n_attributes ? e->n_attributes : 1)) {
        json_decref(payload);
        return NULL;
    }
    return payload;
}

static enum status check(const struct set_event *e, const struct set_params *p,
                         struct scim_error *err)
{
    struct {
        const char *name, *value;
    } required[] = {
        { "event id", e->event_id }, { "resource id", e->resource_id },
        { "issuer", p->issuer },     { "audience", p->audience },
        { "jti", p->jti },
    };
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        if (!text_ok(required[i].value, SET_ID_MAX))
            return scim_error_set(err, ERR_INVALID_VALUE, "SET %s is missing or invalid",
                                  required[i].name);
    }
    if (strchr(e->resource_id, '/') != NULL)
        return scim_error_set(err, ERR_INVALID_VALUE, "SET resource id has a '/'");
    if (e->external_id != NULL && !text_ok(e->external_id, SET_ID_MAX))
        return scim_error_set(err, ERR_INVALID_VALUE, "SET externalId is invalid");
    if (e->iat < 0)
        return scim_error_set(err, ERR_INVALID_VALUE, "SET iat is negative");
    if (e->n_attributes > SET_ATTRIBUTES_MAX)
        return scim_error_set(err, ERR_INVALID_VALUE, "SET lists more than %d attributes",
                              SET_ATTRIBUTES_MAX);
    for (size_t i = 0; i < e->n_attributes; i++) {
        if (!text_ok(e->attributes[i], SET_ID_MAX))
            return scim_error_set(err, ERR_INVALID_VALUE, "SET attribute name is invalid");
    }
    return OK;
}

enum status set_claims(const struct set_event *e, const struct set_params *p, char **json,
                       struct scim_error *err)
{
    *json = NULL;
    const struct set_kind *k = kind_of(e->type);
    if (k == NULL)
        return scim_error_set(err, ERR_UNSUPPORTED, "event type '%s' has no SCIM SET",
                              e->type != NULL ? e->type : "");
    enum status rc = check(e, p, err);
    if (rc != OK)
        return rc;

    struct buf uri;
    buf_init(&uri, SET_ID_MAX * 2);
    buf_printf(&uri, "/%s/%s", k->endpoint, e->resource_id);
    json_t *sub_id = uri.failed ? NULL : json_pack("{s:s, s:s}", "format", "scim", "uri", uri.data);
    buf_release(&uri);
    if (sub_id != NULL && e->external_id != NULL &&
        json_object_set_new(sub_id, "externalId", json_string(e->external_id)) != 0) {
        json_decref(sub_id);
        sub_id = NULL;
    }
    json_t *payload = event_payload(k, e);
    json_t *events = payload != NULL ? json_object() : NULL;
    if (events != NULL && json_object_set_new(events, uri_of(k, e->method), payload) != 0) {
        json_decref(events);
        events = NULL;
    } else if (events == NULL) {
        json_decref(payload);
    }
    json_t *claims = NULL;
    if (sub_id != NULL && events != NULL)
        claims = json_pack("{s:s, s:I, s:s, s:s, s:s, s:O, s:O}", "iss", p->issuer, "iat",
                           (json_int_t)e->iat, "jti", p->jti, "aud", p->audience, "txn",
                           e->event_id, "sub_id", sub_id, "events", events);
    json_decref(sub_id);
    json_decref(events);
    *json = claims != NULL ? json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(claims);
    if (*json == NULL)
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    return OK;
}

enum status set_sign(const struct set_event *e, const struct set_params *p,
                     const struct signing_key *key, char **compact, struct scim_error *err)
{
    *compact = NULL;
    char *claims = NULL;
    enum status rc = set_claims(e, p, &claims, err);
    if (rc != OK)
        return rc;
    rc = signing_key_sign_jws(key, SET_TYP, claims, strlen(claims), compact, err);
    free(claims);
    return rc;
}
