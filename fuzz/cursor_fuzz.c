/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cursor_fuzz.c - this file contains the libFuzzer target for
 * scim_cursor_decode: any text must be refused or decode to a valid
 * cursor, and a decoded cursor must re-encode to the same text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "scim/cursor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned char key[SCIM_CURSOR_KEY_LEN] = "fuzz-key-fuzz-key-fuzz-key-fuzz";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[SCIM_CURSOR_TEXT_MAX + 8];
    if (size >= sizeof(text))
        size = sizeof(text) - 1;
    memcpy(text, data, size);
    text[size] = '\0';
    struct scim_cursor c;
    struct scim_error err;
    if (scim_cursor_decode(text, key, 0, &c, &err) == OK) {
        char again[SCIM_CURSOR_TEXT_MAX];
        if (scim_cursor_encode(&c, key, again) != OK || strcmp(again, text) != 0)
            abort();
    }
    /* a cursor minted from the input as an id must round-trip */
    struct scim_cursor m = { .backward = size % 2,
                             .expires = (int64_t)size,
                             .total = (int64_t)size * 7919 };
    if (str_copy(m.id, sizeof(m.id), text)) {
        char minted[SCIM_CURSOR_TEXT_MAX];
        if (scim_cursor_encode(&m, key, minted) == OK) {
            struct scim_cursor back;
            if (scim_cursor_decode(minted, key, 0, &back, NULL) != OK ||
                strcmp(back.id, m.id) != 0 || back.backward != m.backward ||
                back.expires != m.expires || back.total != m.total)
                abort();
        }
    }
    return 0;
}
