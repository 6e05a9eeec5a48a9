/* SPDX-License-Identifier: Apache-2.0 */
/*
 * etag_list_fuzz.c - this file contains the libFuzzer target for If-Match
 * lists (scim_etag_list_has, used by SCIM resources and the admin API): any
 * header text is read without overrunning it, a list naming the tag in
 * quotes always matches, and "*" matches anything.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scim/render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LIST_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char list[LIST_MAX];
    if (size >= sizeof(list))
        size = sizeof(list) - 1;
    memcpy(list, data, size);
    list[size] = '\0';
    /* the first line is the tag, the rest the header */
    char *nl = strchr(list, '\n');
    const char *tag = "0123456789abcdef01234567";
    const char *header = list;
    if (nl != NULL) {
        *nl = '\0';
        tag = list;
        header = nl + 1;
    }
    (void)scim_etag_list_has(header, tag);
    (void)scim_etag_matches(header, (int64_t)size);
    if (strpbrk(tag, "\",") == NULL && tag[0] != '*' && tag[0] != ' ' && tag[0] != '\t' &&
        !(tag[0] == 'W' && tag[1] == '/')) {
        char quoted[LIST_MAX + 8];
        memcpy(quoted, "x, \"", 4);
        size_t n = strlen(tag);
        memcpy(quoted + 4, tag, n);
        memcpy(quoted + 4 + n, "\"", 2);
        if (!scim_etag_list_has(quoted, tag))
            abort();
    }
    if (!scim_etag_list_has("*", tag))
        abort();
    return 0;
}
