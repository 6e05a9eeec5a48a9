/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json.c - this file contains scim_json_decode, the gate every request body
 * passes: size cap, a nesting-depth pre-scan (so jansson's recursive parser
 * never sees a hostile depth), then a strict jansson parse (UTF-8 checked,
 * duplicate keys rejected) into an object.
 */
#include <stdbool.h>
#include <string.h>

#include "scim/json.h"

#include "core/str.h"

/* Longest part of a jansson message quoted in an error detail. */
#define JSON_REASON_MAX 160

static bool is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Deepest nesting of [ and { outside strings.  Stops counting once the cap
 * is passed; malformed input is left for the parser to report.
 */
static size_t max_depth(const char *body, size_t n)
{
    size_t depth = 0;
    size_t deepest = 0;
    bool in_string = false;
    for (size_t i = 0; i < n; i++) {
        char c = body[i];
        if (in_string) {
            if (c == '\\')
                i++; /* skip the escaped character, so \" does not end the string */
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > deepest) {
                deepest = depth;
                if (deepest > SCIM_JSON_MAX_DEPTH)
                    break;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return deepest;
}

/* jansson's message without a " near '<token>'" tail, which would echo the body. */
static void reason(char *dst, size_t dst_size, const char *text)
{
    str_copy(dst, dst_size, text);
    char *near = strstr(dst, " near '");
    if (near != NULL)
        *near = '\0';
}

enum status scim_json_decode(const char *body, size_t n, json_t **out, struct scim_error *err)
{
    *out = NULL;
    if (n > SCIM_MAX_BODY_BYTES)
        return scim_error_set(err, ERR_TOO_LARGE, "request body larger than %u bytes",
                              SCIM_MAX_BODY_BYTES);
    size_t i = 0;
    while (body != NULL && i < n && is_json_space(body[i]))
        i++;
    if (body == NULL || i == n)
        return scim_error_set(err, ERR_INVALID_SYNTAX, "empty request body");
    if (max_depth(body, n) > SCIM_JSON_MAX_DEPTH)
        return scim_error_set(err, ERR_INVALID_SYNTAX, "JSON nested deeper than %d levels",
                              SCIM_JSON_MAX_DEPTH);

    json_error_t jerr;
    json_t *doc = json_loadb(body, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (doc == NULL) {
        char why[JSON_REASON_MAX];
        reason(why, sizeof(why), jerr.text);
        return scim_error_set(err, ERR_INVALID_SYNTAX, "invalid JSON at line %d column %d: %s",
                              jerr.line, jerr.column, why);
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        return scim_error_set(err, ERR_INVALID_SYNTAX, "request body must be a JSON object");
    }
    *out = doc;
    return OK;
}

json_t *scim_json_iget(const json_t *obj, const char *name)
{
    if (!json_is_object(obj) || name == NULL)
        return NULL;
    json_t *v = json_object_get(obj, name);
    if (v != NULL)
        return v;
    const char *k;
    json_object_foreach((json_t *)obj, k, v)
    {
        if (str_ieq(k, name))
            return v;
    }
    return NULL;
}

void scim_json_idel(json_t *obj, const char *name)
{
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(obj, tmp, k, v)
    {
        if (str_ieq(k, name))
            json_object_del(obj, k);
    }
}

int scim_json_iset(json_t *obj, const char *name, json_t *v)
{
    if (v == NULL)
        return -1;
    const char *k;
    json_t *x;
    void *tmp;
    json_object_foreach_safe(obj, tmp, k, x)
    {
        if (str_ieq(k, name) && strcmp(k, name) != 0)
            json_object_del(obj, k);
    }
    return json_object_set_new(obj, name, v);
}
