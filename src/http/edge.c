/* SPDX-License-Identifier: Apache-2.0 */
/*
 * edge.c - pure parsing at the HTTP edge: percent-decoding, the connection
 * segment and route of a SCIM path, route patterns, and the bearer
 * credential of an Authorization header.  See edge.h.
 */
#include <string.h>

#include "http/edge.h"

#include "core/str.h"

size_t http_edge_unescape(char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++) {
        int hi, lo;
        if (r[0] == '%' && (hi = str_hex_value(r[1])) >= 0 && (lo = str_hex_value(r[2])) >= 0 &&
            (hi | lo) != 0) {
            *w++ = (char)(hi * 16 + lo);
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

static bool is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

bool http_edge_segment_ok(const char *s, size_t n, size_t max)
{
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (is_control((unsigned char)s[i]))
            return false;
    }
    return str_utf8_valid(s, n);
}

bool http_edge_split(const char *path, char conn[HTTP_EDGE_CONN_MAX],
                     char route[HTTP_EDGE_ROUTE_MAX])
{
    const char *slash = strchr(path, '/');
    size_t conn_len = slash ? (size_t)(slash - path) : strlen(path);
    /* An id that cannot exist still goes through authentication, so that
     * unknown connections look exactly like wrong tokens (401). */
    if (!http_edge_segment_ok(path, conn_len, HTTP_EDGE_CONN_MAX - 1))
        conn_len = 0;
    memcpy(conn, path, conn_len);
    conn[conn_len] = '\0';
    const char *rest = slash ? slash + 1 : "";
    size_t n = strlen(rest);
    if (n > 0 && rest[n - 1] == '/')
        n--;
    if (n >= HTTP_EDGE_ROUTE_MAX) {
        route[0] = '\0';
        return false;
    }
    memcpy(route, rest, n);
    route[n] = '\0';
    return true;
}

bool http_edge_route_match(const char *pattern, const char *route,
                           char param[HTTP_EDGE_SEGMENT_MAX + 1], bool *has_param)
{
    const char *brace = strstr(pattern, "{}");
    *has_param = brace != NULL;
    param[0] = '\0';
    if (brace == NULL)
        return strcmp(pattern, route) == 0;
    size_t prefix = (size_t)(brace - pattern);
    if (strncmp(pattern, route, prefix) != 0)
        return false;
    const char *segment = route + prefix;
    if (*segment == '\0' || strchr(segment, '/') != NULL)
        return false;
    return str_copy(param, HTTP_EDGE_SEGMENT_MAX + 1, segment);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

enum http_edge_auth http_edge_bearer(const char *value, size_t len, const char **token,
                                     size_t *token_len)
{
    static const char scheme[] = "Bearer";
    const size_t scheme_len = sizeof(scheme) - 1;
    *token = NULL;
    *token_len = 0;
    if (value == NULL)
        return HTTP_AUTH_MISSING;
    size_t i = 0;
    while (i < len && is_space(value[i]))
        i++;
    if (len - i < scheme_len || !str_ieqn(value + i, scheme, scheme_len))
        return HTTP_AUTH_OTHER;
    i += scheme_len;
    if (i == len)
        return HTTP_AUTH_MALFORMED; /* "Bearer" alone */
    if (!is_space(value[i]))
        /* "Bearerx" is another scheme; "Bearer\0..." or "Bearer\x01" is broken */
        return (unsigned char)value[i] > 0x20 && (unsigned char)value[i] < 0x7f
                   ? HTTP_AUTH_OTHER
                   : HTTP_AUTH_MALFORMED;
    while (i < len && is_space(value[i]))
        i++;
    size_t end = len;
    while (end > i && is_space(value[end - 1]))
        end--;
    if (end == i)
        return HTTP_AUTH_MALFORMED;
    for (size_t k = i; k < end; k++) {
        unsigned char c = (unsigned char)value[k];
        if (c <= 0x20 || c >= 0x7f)
            return HTTP_AUTH_MALFORMED;
    }
    *token = value + i;
    *token_len = end - i;
    return HTTP_AUTH_BEARER;
}

void http_edge_escape(const char *s, size_t n, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t w = 0;
    if (size == 0)
        return;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool plain = c > 0x20 && c < 0x7f && c != '%';
        size_t need = plain ? 1 : 3;
        if (w + need >= size)
            break;
        if (plain) {
            out[w++] = (char)c;
        } else {
            out[w++] = '%';
            out[w++] = hex[c >> 4];
            out[w++] = hex[c & 15];
        }
    }
    out[w] = '\0';
}
