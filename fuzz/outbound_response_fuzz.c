/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbound_response_fuzz.c - libFuzzer target for what a downstream SCIM app
 * sends back: the same bytes are read as a Retry-After value (seconds or an HTTP
 * date), as a SCIM error body, as a ListResponse and as a resource.
 * Invariants: no crash, leak or read past the input (it is not NUL-terminated);
 * a Retry-After is within [0, SCIM_WIRE_RETRY_AFTER_MAX_S]; error fields are
 * NUL-terminated, fit their buffers and hold no control characters; any id
 * returned is one scim_wire_id_valid accepts; a total is never negative.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "outbound/scim_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1796304846 /* 2026-12-03T13:34:06Z */

static void check_printable(const char *s, size_t size)
{
    size_t n = strnlen(s, size);
    if (n == size)
        abort();
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            abort();
    }
}

static void check_id(const char *id, bool found)
{
    if (found && !scim_wire_id_valid(id, strlen(id)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;

    long wait = -1;
    if (scim_wire_retry_after(text, size, NOW, &wait) &&
        (wait < 0 || wait > SCIM_WIRE_RETRY_AFTER_MAX_S))
        abort();
    int64_t at;
    if (scim_wire_http_date(text, size, &at) && at < 0)
        abort();

    char type[SCIM_WIRE_SCIM_TYPE_MAX];
    char detail[SCIM_WIRE_DETAIL_MAX];
    scim_wire_error(text, size, type, detail);
    check_printable(type, sizeof(type));
    check_printable(detail, sizeof(detail));

    char id[SCIM_WIRE_ID_MAX];
    long total = -1;
    enum status rc = scim_wire_list(text, size, &total, id);
    if (rc == OK && total < 0)
        abort();
    check_id(id, rc == OK && id[0] != '\0');
    check_id(id, scim_wire_resource_id(text, size, id) == OK);
    return 0;
}
