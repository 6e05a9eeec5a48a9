/* SPDX-License-Identifier: Apache-2.0 */
/*
 * search_request.c - this file contains the decoding of list queries shared
 * by GET /Users, GET /Groups and their POST .search forms.
 */
#include <string.h>

#include "http/search_request.h"

#define SEARCH_INT_MAX 2147483647L

void search_window(struct scim_list_query *q, long start, long count)
{
    q->start_index = start < 1 ? 1 : (size_t)start;
    q->count = count < 0                          ? 0
               : count > DIRECTORY_LIST_MAX_COUNT ? DIRECTORY_LIST_MAX_COUNT
                                                  : (size_t)count;
}

enum status search_order(struct scim_list_query *q, const char *order, struct scim_error *err)
{
    if (order && !str_ieq(order, "ascending") && !str_ieq(order, "descending"))
        return scim_error_set(err, ERR_INVALID_VALUE,
                              "sortOrder must be 'ascending' or 'descending'");
    q->descending = order && str_ieq(order, "descending");
    return OK;
}

/* A string member: absent or null is NULL; another type is an error. */
static enum status member_string(const json_t *body, const char *name, const char **out,
                                 struct scim_error *err)
{
    const json_t *v = json_object_get(body, name);
    *out = json_is_string(v) ? json_string_value(v) : NULL;
    if (v == NULL || json_is_null(v) || json_is_string(v))
        return OK;
    return scim_error_set(err, ERR_INVALID_VALUE, "%s must be a string", name);
}

static enum status member_number(const json_t *body, const char *name, long fallback, long *out,
                                 struct scim_error *err)
{
    const json_t *v = json_object_get(body, name);
    *out = fallback;
    if (v == NULL || json_is_null(v))
        return OK;
    if (!json_is_integer(v))
        return scim_error_set(err, ERR_INVALID_VALUE, "%s must be an integer", name);
    json_int_t n = json_integer_value(v);
    *out = n < -SEARCH_INT_MAX ? -SEARCH_INT_MAX : n > SEARCH_INT_MAX ? SEARCH_INT_MAX : (long)n;
    return OK;
}

/* attributes / excludedAttributes: an array of names (or a comma-separated string). */
static enum status member_names(const json_t *body, const char *name, struct buf *out,
                                const char **names, struct scim_error *err)
{
    const json_t *v = json_object_get(body, name);
    *names = NULL;
    if (v == NULL || json_is_null(v))
        return OK;
    if (json_is_string(v)) {
        *names = json_string_value(v);
        return OK;
    }
    size_t i;
    const json_t *e;
    bool ok = json_is_array(v);
    json_array_foreach(v, i, e)
    {
        if (!json_is_string(e)) {
            ok = false;
            break;
        }
        if (i > 0)
            buf_putc(out, ',');
        buf_puts(out, json_string_value(e));
    }
    if (!ok)
        return scim_error_set(err, ERR_INVALID_VALUE, "%s must be an array of attribute names",
                              name);
    if (out->failed)
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    *names = out->data ? out->data : "";
    return OK;
}

enum status search_request_decode(const json_t *body, struct scim_list_query *q, struct buf *attrs,
                                  struct buf *excluded, struct scim_error *err)
{
    memset(q, 0, sizeof(*q));
    if (!json_is_object(body))
        return scim_error_set(err, ERR_INVALID_SYNTAX, "a SearchRequest must be a JSON object");
    const char *order = NULL;
    long start = 1, count = DIRECTORY_LIST_DEFAULT_COUNT;
    enum status rc = member_string(body, "filter", &q->filter, err);
    if (rc == OK)
        rc = member_string(body, "sortBy", &q->sort_by, err);
    if (rc == OK)
        rc = member_string(body, "sortOrder", &order, err);
    if (rc == OK)
        rc = member_number(body, "startIndex", 1, &start, err);
    if (rc == OK)
        rc = member_number(body, "count", DIRECTORY_LIST_DEFAULT_COUNT, &count, err);
    if (rc == OK)
        rc = member_names(body, "attributes", attrs, &q->attributes, err);
    if (rc == OK)
        rc = member_names(body, "excludedAttributes", excluded, &q->excluded, err);
    if (rc == OK)
        rc = member_string(body, "cursor", &q->cursor, err);
    if (rc == OK)
        rc = search_order(q, order, err);
    if (rc != OK)
        return rc;
    const json_t *given = json_object_get(body, "startIndex");
    q->start_given = given != NULL && !json_is_null(given);
    search_window(q, start, count);
    return OK;
}
