/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json_test.c - tests for src/scim/json.c: the request-body gate.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "scim/json.h"

#include "core/str.h"

struct decode_case {
    const char *label;
    const char *body;
    size_t len; /* 0: strlen(body) */
    enum status want;
    const char *detail; /* substring expected in err.detail, or NULL */
};

/* clang-format off */
static const struct decode_case decode_cases[] = {
    { "object",                "{\"userName\":\"a\"}",           0, OK, NULL },
    { "empty object",          "{}",                              0, OK, NULL },
    { "whitespace around",     " \r\n\t{\"a\":[1,2,{}]} \n",      0, OK, NULL },
    { "unicode escapes",       "{\"a\":\"\\u00e9\\ud83d\\ude00\"}", 0, OK, NULL },
    { "raw utf-8",             "{\"name\":\"J\xc3\xb6rg \xe6\x97\xa5\xf0\x9f\x98\x80\"}", 0, OK, NULL },
    { "brackets in strings",   "{\"a\":\"[[[[{{{{]]]]\"}",        0, OK, NULL },
    { "escaped quote",         "{\"a\":\"\\\"[\",\"b\":[]}",      0, OK, NULL },
    { "empty",                 "",                                0, ERR_INVALID_SYNTAX, "empty request body" },
    { "only whitespace",       " \n\t ",                          0, ERR_INVALID_SYNTAX, "empty request body" },
    { "array",                 "[]",                              0, ERR_INVALID_SYNTAX, "must be a JSON object" },
    { "array of object",       "[{\"a\":1}]",                     0, ERR_INVALID_SYNTAX, "must be a JSON object" },
    { "string",                "\"x\"",                           0, ERR_INVALID_SYNTAX, "must be a JSON object" },
    { "number",                "42",                              0, ERR_INVALID_SYNTAX, "must be a JSON object" },
    { "null",                  "null",                            0, ERR_INVALID_SYNTAX, "must be a JSON object" },
    { "true",                  "true",                            0, ERR_INVALID_SYNTAX, "must be a JSON object" },
    { "unterminated object",   "{\"a\":1",                        0, ERR_INVALID_SYNTAX, "line 1" },
    { "unterminated string",   "{\"a\":\"xyz",                    0, ERR_INVALID_SYNTAX, "invalid JSON" },
    { "trailing comma",        "{\"a\":1,}",                      0, ERR_INVALID_SYNTAX, "invalid JSON" },
    { "trailing array comma",  "{\"a\":[1,]}",                    0, ERR_INVALID_SYNTAX, "invalid JSON" },
    { "missing colon",         "{\"a\" 1}",                       0, ERR_INVALID_SYNTAX, "invalid JSON" },
    { "single quotes",         "{'a':1}",                         0, ERR_INVALID_SYNTAX, "invalid JSON" },
    { "bare key",              "{a:1}",                           0, ERR_INVALID_SYNTAX, "invalid JSON" },
    { "comment",               "{/*c*/\"a\":1}",                  0, ERR_INVALID_SYNTAX, "invalid JSON" },
    { "bad literal",           "{\"a\":tru}",                     0, ERR_INVALID_SYNTAX, "invalid JSON" },
    { "NaN",                   "{\"a\":NaN}",                     0, ERR_INVALID_SYNTAX, "invalid JSON" },
    { "leading zero",          "{\"a\":01}",                      0, ERR_INVALID_SYNTAX, "invalid JSON" },
    { "huge integer",          "{\"a\":123456789012345678901234567890}", 0, ERR_INVALID_SYNTAX, "invalid JSON" },
    { "two documents",         "{}{}",                            0, ERR_INVALID_SYNTAX, "invalid JSON" },
    { "trailing garbage",      "{\"a\":1} x",                     0, ERR_INVALID_SYNTAX, "invalid JSON" },
    { "unbalanced close",      "{\"a\":1}}",                      0, ERR_INVALID_SYNTAX, "invalid JSON" },
    { "only close",            "}",                               0, ERR_INVALID_SYNTAX, "invalid JSON" },
    { "raw control char",      "{\"a\":\"x\ny\"}",                0, ERR_INVALID_SYNTAX, "invalid JSON" },
    { "bad escape",            "{\"a\":\"\\q\"}",                 0, ERR_INVALID_SYNTAX, "invalid JSON" },
    { "short unicode escape",  "{\"a\":\"\\u12\"}",               0, ERR_INVALID_SYNTAX, "invalid JSON" },
    { "lone surrogate",        "{\"a\":\"\\ud800\"}",             0, ERR_INVALID_SYNTAX, "invalid JSON" },
    { "escaped NUL",           "{\"a\":\"x\\u0000y\"}",           0, ERR_INVALID_SYNTAX, "invalid JSON" },
    { "raw NUL",               "{\"a\":\"x\0y\"}",                11, ERR_INVALID_SYNTAX, "invalid JSON" },
    { "NUL after object",      "{}\0",                            3, ERR_INVALID_SYNTAX, "invalid JSON" },
    { "duplicate keys",        "{\"userName\":\"a\",\"userName\":\"b\"}", 0, ERR_INVALID_SYNTAX, "duplicate" },
    { "nested duplicate keys", "{\"name\":{\"givenName\":\"a\",\"givenName\":\"b\"}}", 0, ERR_INVALID_SYNTAX, "duplicate" },
    { "bad utf-8 0xff",        "{\"a\":\"\xff\"}",                0, ERR_INVALID_SYNTAX, "invalid JSON" },
    { "bad utf-8 truncated",   "{\"a\":\"\xc3\"}",                0, ERR_INVALID_SYNTAX, "invalid JSON" },
    { "overlong utf-8",        "{\"a\":\"\xc0\xaf\"}",            0, ERR_INVALID_SYNTAX, "invalid JSON" },
    { "utf-8 surrogate",       "{\"a\":\"\xed\xa0\x80\"}",        0, ERR_INVALID_SYNTAX, "invalid JSON" },
    { "bad utf-8 in key",      "{\"\xfe\":1}",                    0, ERR_INVALID_SYNTAX, "invalid JSON" },
    { "utf-8 BOM",             "\xef\xbb\xbf{}",                  0, ERR_INVALID_SYNTAX, "invalid JSON" },
};
/* clang-format on */

Test(json, decode_table)
{
    for (size_t i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]); i++) {
        const struct decode_case *c = &decode_cases[i];
        size_t len = c->len ? c->len : strlen(c->body);
        json_t *out = (json_t *)0x1;
        struct scim_error err;
        scim_error_clear(&err);
        enum status rc = scim_json_decode(c->body, len, &out, &err);
        cr_expect_eq(rc, c->want, "case %zu (%s): got %d: %s", i, c->label, rc, err.detail);
        if (rc == OK) {
            cr_expect(json_is_object(out), "case %zu", i);
            json_decref(out);
        } else {
            cr_expect_null(out, "case %zu: out set on error", i);
            if (c->detail)
                cr_expect_not_null(strstr(err.detail, c->detail), "case %zu (%s): detail '%s'", i,
                                   c->label, err.detail);
        }
    }
}

Test(json, detail_has_position_but_no_body)
{
    const char *body = "{\n  \"userName\": \"a\",\n  \"password\": s3cr3tTOKEN\n}";
    json_t *out = NULL;
    struct scim_error err;
    cr_assert_eq(scim_json_decode(body, strlen(body), &out, &err), ERR_INVALID_SYNTAX);
    cr_expect_not_null(strstr(err.detail, "line 3"), "%s", err.detail);
    cr_expect_not_null(strstr(err.detail, "column"), "%s", err.detail);
    cr_expect_null(strstr(err.detail, "s3cr3t"), "body echoed: %s", err.detail);

    const char *dup = "{\"secretKeyName\":1,\"secretKeyName\":2}";
    cr_assert_eq(scim_json_decode(dup, strlen(dup), &out, &err), ERR_INVALID_SYNTAX);
    cr_expect_null(strstr(err.detail, "secretKeyName"), "body echoed: %s", err.detail);
}

static char *nest_body(size_t depth, bool arrays)
{
    /* {"k": + (depth-1) openers + 1 + (depth-1) closers + } */
    size_t cap = depth * 8 + 32;
    char *s = malloc(cap);
    cr_assert_not_null(s);
    size_t n = 0;
    n += (size_t)snprintf(s + n, cap - n, "{\"k\":");
    for (size_t i = 1; i < depth; i++)
        n += (size_t)snprintf(s + n, cap - n, arrays ? "[" : "{\"k\":");
    n += (size_t)snprintf(s + n, cap - n, "1");
    for (size_t i = 1; i < depth; i++)
        n += (size_t)snprintf(s + n, cap - n, arrays ? "]" : "}");
    n += (size_t)snprintf(s + n, cap - n, "}");
    return s;
}

Test(json, depth_limit)
{
    struct {
        size_t depth;
        bool arrays;
        enum status want;
    } cases[] = {
        { 1, false, OK },
        { SCIM_JSON_MAX_DEPTH, false, OK },
        { SCIM_JSON_MAX_DEPTH, true, OK },
        { SCIM_JSON_MAX_DEPTH + 1, false, ERR_INVALID_SYNTAX },
        { SCIM_JSON_MAX_DEPTH + 1, true, ERR_INVALID_SYNTAX },
        { 100000, true, ERR_INVALID_SYNTAX },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *body = nest_body(cases[i].depth, cases[i].arrays);
        json_t *out = NULL;
        struct scim_error err;
        scim_error_clear(&err);
        enum status rc = scim_json_decode(body, strlen(body), &out, &err);
        cr_expect_eq(rc, cases[i].want, "case %zu depth %zu: %s", i, cases[i].depth, err.detail);
        if (rc != OK)
            cr_expect_not_null(strstr(err.detail, "deeper"), "%s", err.detail);
        json_decref(out);
        free(body);
    }
}

Test(json, depth_ignores_brackets_in_strings)
{
    /* 1000 brackets inside a string, with escaped quotes and backslashes around */
    size_t cap = 4096;
    char *body = malloc(cap);
    cr_assert_not_null(body);
    size_t n = (size_t)snprintf(body, cap, "{\"a\":\"\\\\\\\"");
    for (int i = 0; i < 1000; i++)
        body[n++] = (i % 2) ? '[' : '{';
    n += (size_t)snprintf(body + n, cap - n, "\\\\\",\"b\":[[{}]]}");
    json_t *out = NULL;
    struct scim_error err;
    scim_error_clear(&err);
    cr_expect_eq(scim_json_decode(body, n, &out, &err), OK, "%s", err.detail);
    json_decref(out);
    free(body);

    /* an escaped quote must not end the string early and expose brackets */
    const char *tricky = "{\"a\":\"\\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}";
    cr_expect_eq(scim_json_decode(tricky, strlen(tricky), &out, &err), OK, "%s", err.detail);
    json_decref(out);
}

Test(json, size_limit)
{
    size_t n = SCIM_MAX_BODY_BYTES + 1;
    char *body = malloc(n);
    cr_assert_not_null(body);
    /* a valid object padded with spaces: only the size can reject it */
    memset(body, ' ', n);
    body[0] = '{';
    body[n - 1] = '}';
    json_t *out = NULL;
    struct scim_error err;
    cr_expect_eq(scim_json_decode(body, n, &out, &err), ERR_TOO_LARGE);
    cr_expect_null(out);
    cr_expect_eq(scim_json_decode(body, n - 1, &out, &err), ERR_INVALID_SYNTAX,
                 "1 MiB exactly is parsed (and is unterminated here)");
    body[n - 2] = '}';
    cr_expect_eq(scim_json_decode(body, n - 1, &out, &err), OK, "%s", err.detail);
    json_decref(out);
    free(body);
}

Test(json, null_body)
{
    json_t *out = NULL;
    struct scim_error err;
    cr_expect_eq(scim_json_decode(NULL, 0, &out, &err), ERR_INVALID_SYNTAX);
    cr_expect_null(out);
}
