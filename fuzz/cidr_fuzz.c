/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cidr_fuzz.c - this file contains the libFuzzer target for the CIDR
 * parser: any text must be refused or give a block whose canonical text
 * parses back to the same block and contains its own network address;
 * lists must be refused or canonical and stable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cidr.h"
#include "core/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[CIDR_LIST_TEXT_MAX + 64];
    if (size >= sizeof(text))
        size = sizeof(text) - 1;
    memcpy(text, data, size);
    text[size] = '\0';
    struct cidr c;
    if (cidr_parse(text, size, &c, NULL) == OK) {
        char canonical[CIDR_TEXT_MAX];
        cidr_format(&c, canonical);
        struct cidr back;
        if (cidr_parse(canonical, strlen(canonical), &back, NULL) != OK || !cidr_equal(&back, &c))
            abort();
        char *slash = strchr(canonical, '/');
        *slash = '\0';
        if (!cidr_contains(&c, canonical))
            abort();
    }
    char list[CIDR_LIST_TEXT_MAX];
    if (cidr_list_canonical(text, list, NULL) == OK) {
        char again[CIDR_LIST_TEXT_MAX];
        if (cidr_list_canonical(list, again, NULL) != OK || strcmp(list, again) != 0)
            abort();
    }
    (void)cidr_list_allows(text, "10.1.2.3");
    (void)cidr_list_allows(text, "2001:db8::1");
    return 0;
}
