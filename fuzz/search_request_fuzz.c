/* SPDX-License-Identifier: Apache-2.0 */
/*
 * search_request_fuzz.c - libFuzzer target for the POST .search body: any
 * bytes are decoded as JSON (as the server does) and, when that works, as a
 * SearchRequest.  Invariants: no crash or leak; on success the window is
 * clamped (startIndex >= 1, count <= DIRECTORY_LIST_MAX_COUNT) and every
 * string the query points to is NUL-terminated.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/search_request.h"
#include "scim/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void touch(const char *s)
{
    if (s != NULL && strlen(s) > SIZE_MAX / 2)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *body = NULL;
    struct scim_error err;
    if (scim_json_decode((const char *)data, size, &body, &err) != OK)
        return 0;
    struct buf attrs, excluded;
    buf_init(&attrs, 0);
    buf_init(&excluded, 0);
    struct scim_list_query q;
    if (search_request_decode(body, &q, &attrs, &excluded, &err) == OK) {
        if (q.start_index < 1 || q.count > DIRECTORY_LIST_MAX_COUNT)
            abort();
        touch(q.filter);
        touch(q.sort_by);
        touch(q.attributes);
        touch(q.excluded);
        touch(q.cursor);
    } else if (err.status != ERR_INVALID_VALUE && err.status != ERR_INVALID_SYNTAX &&
               err.status != ERR_NOMEM) {
        abort();
    }
    buf_release(&attrs);
    buf_release(&excluded);
    json_decref(body);
    return 0;
}
