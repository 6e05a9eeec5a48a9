/* SPDX-License-Identifier: Apache-2.0 */
/*
 * edge_test.c - tests for src/http/edge.c: percent-decoding (and %00 kept),
 * which decoded segments may reach the store, the split of a SCIM path into
 * connection and route, route patterns, the bearer parser on pasted,
 * forged and foreign credentials, and escaping for messages.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "http/edge.h"

#include "core/str.h"

static void check_unescape(const char *in, const char *want)
{
    char buf[256];
    cr_assert(str_copy(buf, sizeof(buf), in));
    size_t n = http_edge_unescape(buf);
    cr_assert_str_eq(buf, want, "unescape(%s)", in);
    cr_assert_eq(n, strlen(want), "length of unescape(%s)", in);
}

Test(edge, unescape)
{
    check_unescape("Users", "Users");
    check_unescape("a%20b", "a b");
    check_unescape("%41%62%2f", "Ab/");
    check_unescape("%00", "%00"); /* a NUL would cut the path short */
    check_unescape("Users/%00x", "Users/%00x");
    check_unescape("%", "%");
    check_unescape("%4", "%4");
    check_unescape("%zz%4g", "%zz%4g");
    check_unescape("100%", "100%");
    check_unescape("%%41", "%A");
    check_unescape("", "");
}

Test(edge, unescape_keeps_high_bytes)
{
    char buf[] = "x%FFy%c3%a9";
    size_t n = http_edge_unescape(buf);
    cr_assert_eq(n, 5);
    cr_assert_eq((unsigned char)buf[1], 0xff);
    cr_assert_eq((unsigned char)buf[3], 0xc3);
    cr_assert_eq((unsigned char)buf[4], 0xa9);
}

Test(edge, segment_ok)
{
    cr_assert(http_edge_segment_ok("abc", 3, 10));
    cr_assert(http_edge_segment_ok("%00", 3, 10)); /* kept encoded: just text */
    cr_assert(http_edge_segment_ok("\xc3\xa9t\xc3\xa9", 5, 10));
    cr_assert(http_edge_segment_ok("\xf0\x9f\x98\x80", 4, 10));
    cr_assert_not(http_edge_segment_ok("", 0, 10), "empty");
    cr_assert_not(http_edge_segment_ok("abcdefghijk", 11, 10), "too long");
    cr_assert_not(http_edge_segment_ok("\xff", 1, 10), "not UTF-8");
    cr_assert_not(http_edge_segment_ok("\xc3\x28", 2, 10), "bad continuation");
    cr_assert_not(http_edge_segment_ok("\xed\xa0\x80", 3, 10), "surrogate");
    cr_assert_not(http_edge_segment_ok("\xc0\xaf", 2, 10), "overlong");
    cr_assert_not(http_edge_segment_ok("\xf4\x90\x80\x80", 4, 10), "beyond U+10FFFF");
    cr_assert_not(http_edge_segment_ok("\xe2\x82", 2, 10), "truncated");
    cr_assert_not(http_edge_segment_ok("a\0b", 3, 10), "NUL");
    cr_assert_not(http_edge_segment_ok("a\x01", 2, 10), "control");
    cr_assert_not(http_edge_segment_ok("a\x7f", 2, 10), "DEL");
    cr_assert_not(http_edge_segment_ok("a\tb", 3, 10), "tab");
}

Test(edge, split)
{
    char conn[HTTP_EDGE_CONN_MAX], route[HTTP_EDGE_ROUTE_MAX];
    cr_assert(http_edge_split("0192-ab/Users", conn, route));
    cr_assert_str_eq(conn, "0192-ab");
    cr_assert_str_eq(route, "Users");
    cr_assert(http_edge_split("c/Users/42/", conn, route));
    cr_assert_str_eq(route, "Users/42", "one trailing slash dropped");
    cr_assert(http_edge_split("c/", conn, route));
    cr_assert_str_eq(conn, "c");
    cr_assert_str_eq(route, "");
    cr_assert(http_edge_split("c", conn, route));
    cr_assert_str_eq(conn, "c");
    cr_assert_str_eq(route, "");
    cr_assert(http_edge_split("", conn, route));
    cr_assert_str_eq(conn, "");
}

Test(edge, split_refuses_impossible_connections)
{
    char conn[HTTP_EDGE_CONN_MAX], route[HTTP_EDGE_ROUTE_MAX];
    const char *bad[] = { "\xff/Users", "ab\xc3/Users", "a\x01/Users", "/Users" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert(http_edge_split(bad[i], conn, route), "%zu", i);
        cr_assert_str_eq(conn, "", "segment %zu becomes an unknown connection", i);
        cr_assert_str_eq(route, "Users");
    }
    char long_conn[200];
    memset(long_conn, 'a', sizeof(long_conn));
    memcpy(long_conn + 150, "/Users", 7);
    cr_assert(http_edge_split(long_conn, conn, route));
    cr_assert_str_eq(conn, "", "a segment too long for an id");
    cr_assert_str_eq(route, "Users");
}

Test(edge, split_refuses_long_routes)
{
    char conn[HTTP_EDGE_CONN_MAX], route[HTTP_EDGE_ROUTE_MAX];
    char path[HTTP_EDGE_ROUTE_MAX + 16];
    memcpy(path, "c/", 2);
    memset(path + 2, 'x', sizeof(path) - 3);
    path[sizeof(path) - 1] = '\0';
    cr_assert_not(http_edge_split(path, conn, route));
    /* the longest route that fits, with a trailing slash to drop */
    memset(path + 2, 'y', HTTP_EDGE_ROUTE_MAX - 1);
    path[2 + HTTP_EDGE_ROUTE_MAX - 1] = '/';
    path[2 + HTTP_EDGE_ROUTE_MAX] = '\0';
    cr_assert(http_edge_split(path, conn, route));
    cr_assert_eq(strlen(route), HTTP_EDGE_ROUTE_MAX - 1);
}

Test(edge, route_match)
{
    char param[HTTP_EDGE_SEGMENT_MAX + 1];
    bool has;
    cr_assert(http_edge_route_match("Users", "Users", param, &has));
    cr_assert_not(has);
    cr_assert_not(http_edge_route_match("Users", "users", param, &has));
    cr_assert_not(http_edge_route_match("Users", "Users/x", param, &has));
    cr_assert(http_edge_route_match("Users/{}", "Users/42", param, &has));
    cr_assert(has);
    cr_assert_str_eq(param, "42");
    cr_assert_not(http_edge_route_match("Users/{}", "Users/", param, &has), "empty segment");
    cr_assert_not(http_edge_route_match("Users/{}", "Users/a/b", param, &has), "two segments");
    cr_assert_not(http_edge_route_match("Users/{}", "Groups/a", param, &has));
    cr_assert(http_edge_route_match("Users/{}", "Users/.search", param, &has),
              "the table lists .search first");

    char route[HTTP_EDGE_SEGMENT_MAX + 16];
    memcpy(route, "Users/", 6);
    memset(route + 6, 'z', HTTP_EDGE_SEGMENT_MAX);
    route[6 + HTTP_EDGE_SEGMENT_MAX] = '\0';
    cr_assert(http_edge_route_match("Users/{}", route, param, &has), "longest segment");
    route[6 + HTTP_EDGE_SEGMENT_MAX] = 'z';
    route[7 + HTTP_EDGE_SEGMENT_MAX] = '\0';
    cr_assert_not(http_edge_route_match("Users/{}", route, param, &has), "one byte longer");
}

static enum http_edge_auth bearer(const char *value, size_t len, char *token, size_t size)
{
    const char *t;
    size_t n;
    enum http_edge_auth kind = http_edge_bearer(value, len, &t, &n);
    token[0] = '\0';
    if (kind == HTTP_AUTH_BEARER) {
        cr_assert_lt(n, size);
        memcpy(token, t, n);
        token[n] = '\0';
    } else {
        cr_assert_null(t);
        cr_assert_eq(n, 0);
    }
    return kind;
}

#define S(lit) lit, sizeof(lit) - 1

Test(edge, bearer_pasted_with_whitespace)
{
    char tok[128];
    const char *ok[] = { "Bearer scimd_abc",        "Bearer scimd_abc ", "Bearer scimd_abc\t",
                         "Bearer  \tscimd_abc \t ", "bearer scimd_abc",  "BEARER\tscimd_abc",
                         "  Bearer scimd_abc" };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        cr_assert_eq(bearer(ok[i], strlen(ok[i]), tok, sizeof(tok)), HTTP_AUTH_BEARER, "%s", ok[i]);
        cr_assert_str_eq(tok, "scimd_abc", "%s", ok[i]);
    }
    cr_assert_eq(bearer(S("Bearer a+b/c=="), tok, sizeof(tok)), HTTP_AUTH_BEARER);
    cr_assert_str_eq(tok, "a+b/c==");
}

Test(edge, bearer_forged)
{
    char tok[128];
    cr_assert_eq(bearer(S("Bearer scimd_abc\0junk"), tok, sizeof(tok)), HTTP_AUTH_MALFORMED);
    cr_assert_eq(bearer(S("Bearer scimd_abc\0"), tok, sizeof(tok)), HTTP_AUTH_MALFORMED);
    cr_assert_eq(bearer(S("Bearer \0scimd_abc"), tok, sizeof(tok)), HTTP_AUTH_MALFORMED);
    cr_assert_eq(bearer(S("Bearer\0scimd_abc"), tok, sizeof(tok)), HTTP_AUTH_MALFORMED);
    cr_assert_eq(bearer(S("Bearer scimd\x01"), tok, sizeof(tok)), HTTP_AUTH_MALFORMED);
    cr_assert_eq(bearer(S("Bearer scimd\x7f"), tok, sizeof(tok)), HTTP_AUTH_MALFORMED);
    cr_assert_eq(bearer(S("Bearer scimd\xc3\xa9"), tok, sizeof(tok)), HTTP_AUTH_MALFORMED);
    cr_assert_eq(bearer(S("Bearer one two"), tok, sizeof(tok)), HTTP_AUTH_MALFORMED);
    cr_assert_eq(bearer(S("Bearer"), tok, sizeof(tok)), HTTP_AUTH_MALFORMED);
    cr_assert_eq(bearer(S("Bearer "), tok, sizeof(tok)), HTTP_AUTH_MALFORMED);
    cr_assert_eq(bearer(S("Bearer \t "), tok, sizeof(tok)), HTTP_AUTH_MALFORMED);
    cr_assert_eq(bearer(S("Bearer\r\n x"), tok, sizeof(tok)), HTTP_AUTH_MALFORMED);
}

Test(edge, bearer_other_schemes_and_absence)
{
    char tok[128];
    cr_assert_eq(bearer(NULL, 0, tok, sizeof(tok)), HTTP_AUTH_MISSING);
    cr_assert_eq(bearer(S(""), tok, sizeof(tok)), HTTP_AUTH_OTHER);
    cr_assert_eq(bearer(S("Basic dXNlcjpwYXNz"), tok, sizeof(tok)), HTTP_AUTH_OTHER);
    cr_assert_eq(bearer(S("Bearerx token"), tok, sizeof(tok)), HTTP_AUTH_OTHER);
    cr_assert_eq(bearer(S("Bear"), tok, sizeof(tok)), HTTP_AUTH_OTHER);
    cr_assert_eq(bearer(S("scimd_abc"), tok, sizeof(tok)), HTTP_AUTH_OTHER);
    cr_assert_eq(bearer(S("Bea\0er x"), tok, sizeof(tok)), HTTP_AUTH_OTHER);
}

Test(edge, escape)
{
    char out[64];
    http_edge_escape(S("ab\xff%\x01 c"), out, sizeof(out));
    cr_assert_str_eq(out, "ab%FF%25%01%20c");
    http_edge_escape(S("plain-id"), out, sizeof(out));
    cr_assert_str_eq(out, "plain-id");
    char small[6];
    http_edge_escape(S("a\xff\xfe"), small, sizeof(small));
    cr_assert_str_eq(small, "a%FF", "whole escapes only");
    http_edge_escape(S("abc"), out, 1);
    cr_assert_str_eq(out, "");
}
