/* SPDX-License-Identifier: Apache-2.0 */
/*
 * feed_cursor_fuzz.c - this file contains the libFuzzer target for the
 * events feed's untrusted inputs (after=, Last-Event-ID, since=, until=):
 * feed_cursor_parse must refuse or give a seq that formats back to the same
 * text; feed_time_parse must refuse or give a time that parses back to
 * itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "directory/feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[64];
    if (size >= sizeof(text))
        size = sizeof(text) - 1;
    memcpy(text, data, size);
    text[size] = '\0';
    int64_t seq;
    if (feed_cursor_parse(text, &seq) && text[0] != '\0') {
        char again[FEED_CURSOR_LEN];
        feed_cursor_format(seq, again);
        if (seq < 0 || strcmp(again, text) != 0)
            abort();
    }
    char at[STORE_TIME_LEN], again[STORE_TIME_LEN];
    if (feed_time_parse(text, at)) {
        if (!feed_time_parse(at, again) || strcmp(at, again) != 0)
            abort();
    }
    return 0;
}
