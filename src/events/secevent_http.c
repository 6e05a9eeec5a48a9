/*
 * secevent_http.c - this file contains the RFC 8935/8936 error bodies (parse
 * and write) and the RFC 8936 poll answer.
 */
#include <jansson.h>
#include <string.h>

#include "core/str.h"
#include "events/secevent_http.h"

static bool token_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

enum status secevent_error_parse(const char *body, size_t n, struct secevent_error *out)
{
    memset(out, 0, sizeof(*out));
    if (body == NULL || n == 0 || n > SECEVENT_ERROR_BODY_MAX)
        return ERR_INVALID_VALUE;
    json_t *doc = json_loadb(body, n, JSON_REJECT_DUPLICATES, NULL);
    const char *code = json_string_value(json_object_get(doc, "err"));
    const char *desc = json_string_value(json_object_get(doc, "description"));
    size_t len = code != NULL ? strlen(code) : 0;
    enum status rc = ERR_INVALID_VALUE;
    if (!json_is_object(doc) || len == 0 || len > SECEVENT_ERR_MAX)
        goto done;
    for (size_t i = 0; i < len; i++) {
        if (!token_char(code[i]))
            goto done;
    }
    memcpy(out->err, code, len);
    for (size_t i = 0; desc != NULL && desc[i] != '\0' && i < SECEVENT_DESCRIPTION_MAX; i++)
        out->description[i] = desc[i] >= 0x20 && desc[i] < 0x7f ? desc[i] : '?';
    rc = OK;
done:
    json_decref(doc);
    return rc;
}

/* Compact text of doc (stolen), NULL in, ERR_NOMEM out. */
static enum status dump(json_t *doc, char **json)
{
    *json = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return *json != NULL ? OK : ERR_NOMEM;
}

enum status secevent_error_json(const char *code, const char *description, char **json)
{
    json_t *doc = json_pack("{s:s}", "err", code);
    if (doc != NULL && description != NULL &&
        json_object_set_new(doc, "description", json_string(description)) != 0) {
        json_decref(doc);
        doc = NULL;
    }
    return dump(doc, json);
}

enum status secevent_poll_response_json(const char *const *jtis, const char *const *sets, size_t n,
                                        bool more_available, char **json)
{
    json_t *map = json_object();
    for (size_t i = 0; map != NULL && i < n; i++) {
        if (json_object_set_new(map, jtis[i], json_string(sets[i])) != 0) {
            json_decref(map);
            map = NULL;
        }
    }
    return dump(map != NULL ? json_pack("{s:o, s:b}", "sets", map, "moreAvailable", more_available)
                            : NULL,
                json);
}
