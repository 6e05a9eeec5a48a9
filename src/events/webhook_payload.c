/*
 * webhook_payload.c - this file contains the JSON body of a `json` format
 * webhook built from one event row.
 */
#include <jansson.h>
#include <string.h>

#include "core/str.h"
#include "events/webhook_payload.h"

/* A JSON string, or null for NULL. */
static json_t *string_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

enum status webhook_payload_json(const struct store_event *e, char **json, struct scim_error *err)
{
    *json = NULL;
    if (e->id[0] == '\0' || e->type == NULL || e->type[0] == '\0')
        return scim_error_set(err, ERR_INVALID_VALUE, "webhook event has no id or type");
    json_t *data = NULL;
    if (e->summary != NULL) {
        data = json_loads(e->summary, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(data)) {
            json_decref(data);
            return scim_error_set(err, ERR_INVALID_VALUE,
                                  "event %s has a summary that is not a JSON object", e->id);
        }
    } else if ((data = json_object()) == NULL) {
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    }
    json_t *doc = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "id", e->id, "type",
                            e->type, "timestamp", e->at, "tenant", string_or_null(e->tenant_id),
                            "idp", string_or_null(e->idp_id), "actor", string_or_null(e->actor),
                            "subject", string_or_null(e->subject_id), "data", data);
    if (doc == NULL)
        return scim_error_set(err, ERR_INVALID_VALUE, "event %s cannot be written as JSON", e->id);
    *json = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (*json == NULL)
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    if (strlen(*json) > WEBHOOK_PAYLOAD_MAX) {
        free(*json);
        *json = NULL;
        return scim_error_set(err, ERR_TOO_LARGE, "event %s makes a webhook body over %d bytes",
                              e->id, WEBHOOK_PAYLOAD_MAX);
    }
    return OK;
}
