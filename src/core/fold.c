/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fold.c - Unicode NFC + full case folding keys (utf8proc), with an ASCII fast
 * path and a byte-wise fallback for invalid UTF-8.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/fold.h"
#include "core/str.h"

/* NFC (stable composition) with full Unicode case folding; NUL-terminated input. */
#define FOLD_OPTIONS                                                                               \
    ((utf8proc_option_t)(UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE |                  \
                         UTF8PROC_CASEFOLD))

static bool is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

static char *ascii_lower_dup(const char *s)
{
    char *out = str_dup(s);
    str_lower(out);
    return out;
}

char *fold_key(const char *utf8)
{
    if (utf8 == NULL)
        return NULL;
    if (is_ascii(utf8))
        return ascii_lower_dup(utf8);
    utf8proc_uint8_t *out = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)utf8, 0, &out, FOLD_OPTIONS);
    if (n >= 0)
        return (char *)out;
    if (n == UTF8PROC_ERROR_NOMEM)
        return NULL;
    /* Invalid UTF-8 (or a string too long for utf8proc): compare the bytes. */
    return ascii_lower_dup(utf8);
}
