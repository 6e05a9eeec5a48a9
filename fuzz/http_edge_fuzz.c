/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_edge_fuzz.c - libFuzzer target for the HTTP edge (src/http/edge.c):
 * any bytes are percent-decoded as a URL path, split into connection
 * segment and route, matched against the SCIM route patterns, parsed as an
 * Authorization header (NULs included), and escaped.  Invariants: no crash
 * or leak; decoding never grows the text or adds a NUL; a connection segment
 * is "" or one the store may see; a {} segment is non-empty, has no '/', fits
 * and, when accepted, is UTF-8; a bearer token is a non-empty run of visible
 * ASCII inside the input; escaped text is visible ASCII.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/edge.h"

#include "core/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The patterns of src/http/scim_routes.c. */
static const char *const patterns[] = {
    "ServiceProviderConfig",
    "ResourceTypes",
    "ResourceTypes/{}",
    "Schemas",
    "Schemas/{}",
    "Users",
    "Users/.search",
    "Users/{}",
    "Groups",
    "Groups/.search",
    "Groups/{}",
    "Bulk",
};

static bool visible(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return false;
    }
    return true;
}

static void fuzz_path(const char *text)
{
    char *path = str_dup(text);
    if (path == NULL)
        return;
    size_t before = strlen(path);
    size_t n = http_edge_unescape(path);
    if (n > before || strlen(path) != n)
        abort();

    char conn[HTTP_EDGE_CONN_MAX], route[HTTP_EDGE_ROUTE_MAX];
    if (!http_edge_split(path, conn, route)) {
        free(path);
        return;
    }
    if (conn[0] != '\0' && !http_edge_segment_ok(conn, strlen(conn), HTTP_EDGE_CONN_MAX - 1))
        abort();
    if (strlen(route) >= HTTP_EDGE_ROUTE_MAX)
        abort();
    for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
        char param[HTTP_EDGE_SEGMENT_MAX + 1];
        bool has_param;
        if (!http_edge_route_match(patterns[i], route, param, &has_param))
            continue;
        if (!has_param) {
            if (strcmp(patterns[i], route) != 0)
                abort();
            continue;
        }
        size_t len = strlen(param);
        if (len == 0 || len > HTTP_EDGE_SEGMENT_MAX || strchr(param, '/') != NULL)
            abort();
        if (http_edge_segment_ok(param, len, HTTP_EDGE_SEGMENT_MAX) && !str_utf8_valid(param, len))
            abort();
        char shown[HTTP_EDGE_SEGMENT_MAX * 3 + 1];
        http_edge_escape(param, len, shown, sizeof(shown));
        if (!visible(shown, strlen(shown)))
            abort();
    }
    free(path);
}

static void fuzz_bearer(const char *value, size_t len)
{
    const char *token;
    size_t token_len;
    enum http_edge_auth kind = http_edge_bearer(value, len, &token, &token_len);
    if (kind != HTTP_AUTH_BEARER) {
        if (token != NULL || token_len != 0)
            abort();
        return;
    }
    if (token_len == 0 || token < value || token + token_len > value + len ||
        !visible(token, token_len))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = str_ndup((const char *)data, size); /* as a C string: up to a NUL */
    if (text == NULL)
        return 0;
    fuzz_path(text);
    free(text);
    fuzz_bearer((const char *)data, size);
    return 0;
}
