/* SPDX-License-Identifier: Apache-2.0 */
/*
 * edge.h - the pure parsing at the HTTP edge: percent-decoding, the split of
 * a SCIM path into connection segment and route, route patterns, path
 * segments that may reach the store, and the bearer credential.
 *
 * Pure: no I/O, no allocation, no libmicrohttpd; server.c and scim_routes.c
 * call it and fuzz/http_edge_fuzz.c drives it.  Output buffers belong to the
 * caller; returned pointers point into the caller's input.  Reentrant.
 */
#ifndef SCIMD_HTTP_EDGE_H
#define SCIMD_HTTP_EDGE_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_EDGE_SEGMENT_MAX 256 /* longest {id} or {urn} segment, in bytes */
#define HTTP_EDGE_ROUTE_MAX   320 /* longest route after the connection segment */
#define HTTP_EDGE_CONN_MAX    64  /* a connection id is shorter than this (a UUID) */

/*
 * Percent-decode s in place and NUL-terminate it; returns the new length.
 * "%00" stays as it is: a NUL would silently cut "Users/%00" down to
 * "Users"; left encoded it is just an id that matches nothing.  A '%' not
 * followed by two hex digits is kept literally.
 */
size_t http_edge_unescape(char *s);

/*
 * May the decoded path segment s (n bytes) reach the store?  1..max bytes,
 * valid UTF-8, no NUL and no other control characters (C0, DEL).
 */
bool http_edge_segment_ok(const char *s, size_t n, size_t max);

/*
 * Split path, what follows /scim/v2/inbound/ ("<idp-id>/<rest>"), into the
 * connection segment and the route with one trailing slash dropped (clients
 * join base URLs loosely).  conn (HTTP_EDGE_CONN_MAX bytes) gets "" when the
 * segment cannot be a connection id (too long, not UTF-8, control bytes), so
 * that it is refused exactly like an unknown connection.  Returns false when
 * the route does not fit route (HTTP_EDGE_ROUTE_MAX bytes): no such endpoint.
 */
bool http_edge_split(const char *path, char conn[HTTP_EDGE_CONN_MAX],
                     char route[HTTP_EDGE_ROUTE_MAX]);

/*
 * Does route match pattern?  A pattern ending in "/{}" matches one
 * non-empty segment there, copied into param (HTTP_EDGE_SEGMENT_MAX + 1
 * bytes; a longer segment does not match).  *has_param says whether the
 * pattern had one.  Whether the segment may reach the store is the
 * caller's check (http_edge_segment_ok).
 */
bool http_edge_route_match(const char *pattern, const char *route,
                           char param[HTTP_EDGE_SEGMENT_MAX + 1], bool *has_param);

/* What an Authorization header holds. */
enum http_edge_auth {
    HTTP_AUTH_MISSING,   /* no header */
    HTTP_AUTH_OTHER,     /* another scheme (Basic, ...) */
    HTTP_AUTH_MALFORMED, /* "Bearer" with an empty token, or bytes a token cannot hold */
    HTTP_AUTH_BEARER,    /* *token / *token_len: the credential */
};

/*
 * Parse an Authorization header value of len bytes (value may be NULL: no
 * header).  "Bearer" in any case, then spaces or tabs, then the token;
 * spaces and tabs around the token are dropped (IdP admins paste tokens
 * with them).  A token is visible ASCII only (RFC 6750 b64token and then
 * some): an embedded NUL, control byte, space or non-ASCII byte makes the
 * whole credential malformed, never a shorter token.
 */
enum http_edge_auth http_edge_bearer(const char *value, size_t len, const char **token,
                                     size_t *token_len);

/*
 * Write s (n bytes) into out (size bytes, always terminated) with every
 * byte that is not visible ASCII, and '%', percent-encoded: a segment that
 * failed http_edge_segment_ok, made safe for messages and audit records.
 * Truncated (whole escapes only) when out is too small.
 */
void http_edge_escape(const char *s, size_t n, char *out, size_t size);

#endif
