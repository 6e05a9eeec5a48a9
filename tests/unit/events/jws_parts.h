/*
 * jws_parts.h - test helper: split a compact JWS and decode its base64url
 * header and payload into JSON, so tests can look at what was signed.
 */
#ifndef SCIMD_TESTS_EVENTS_JWS_PARTS_H
#define SCIMD_TESTS_EVENTS_JWS_PARTS_H

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"

/* base64url segment [s, s+n) as JSON (asserts it is). */
static inline json_t *jws_segment_json(const char *s, size_t n)
{
    char *text = calloc(1, n + 4);
    cr_assert_not_null(text);
    for (size_t i = 0; i < n; i++) {
        cr_assert(s[i] != '=' && s[i] != '+' && s[i] != '/', "not unpadded base64url");
        text[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
    }
    while (n % 4 != 0)
        text[n++] = '=';
    unsigned char *raw = calloc(1, n);
    long len = base64_decode(text, n, raw, n);
    cr_assert_geq(len, 0, "segment is not base64url");
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)raw, (size_t)len, 0, &jerr);
    cr_assert_not_null(doc, "segment is not JSON: %s", jerr.text);
    free(text);
    free(raw);
    return doc;
}

/* The header and payload of compact; asserts three non-empty parts. */
static inline void jws_split(const char *compact, json_t **header, json_t **payload)
{
    const char *dot1 = strchr(compact, '.');
    cr_assert_not_null(dot1);
    const char *dot2 = strchr(dot1 + 1, '.');
    cr_assert_not_null(dot2);
    cr_assert_null(strchr(dot2 + 1, '.'));
    cr_assert_gt(strlen(dot2 + 1), 300, "an RS256 signature is 256+ bytes");
    *header = jws_segment_json(compact, (size_t)(dot1 - compact));
    *payload = jws_segment_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
}

#endif
