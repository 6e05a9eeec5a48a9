/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cursor.h - opaque cursors for RFC 9865 cursor pagination.
 *
 * A cursor names a position in the stable (id ascending) order of a list:
 * "after id X" for the next page or "before id X" for the previous one,
 * with an expiry, the totalResults of the walk's first page (so later
 * pages need not count again) and the scope of the walk: a digest of what
 * issued it (tenant, connection, resource type, normalised query), so a
 * cursor is only honoured by the list it came from.  On the wire it is
 * base64url (no padding) of the text
 * "v3:<a|b>:<total>:<id>:<expiry epoch s>:<scope, 32 lowercase hex>" followed
 * by its HMAC-SHA256 tag under a key the caller supplies, so a client can
 * neither forge nor alter one.  The key (not the process) makes a cursor
 * valid: every node sharing the key honours it.
 * Pure: no I/O, no clock (the caller passes now).  Thread-safe.
 */
#ifndef SCIMD_SCIM_CURSOR_H
#define SCIMD_SCIM_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

#define SCIM_CURSOR_KEY_LEN   32
#define SCIM_CURSOR_ID_MAX    64  /* longest id + NUL */
#define SCIM_CURSOR_TEXT_MAX  320 /* longest encoded cursor + NUL */
#define SCIM_CURSOR_TIMEOUT_S 600
#define SCIM_CURSOR_SCOPE_LEN 16 /* bytes of the scope digest */

struct scim_cursor {
    bool backward; /* rows before id (previousCursor); else rows after id */
    char id[SCIM_CURSOR_ID_MAX];
    int64_t expires; /* epoch seconds */
    int64_t total;   /* totalResults of the walk, counted on its first page */
    unsigned char scope[SCIM_CURSOR_SCOPE_LEN]; /* from scim_cursor_scope */
};

/* The scope digest of n strings (NULL reads as ""): truncated SHA-256 over
 * the length-prefixed parts, so ("ab","c") and ("a","bc") differ.  ERR_NOMEM. */
enum status scim_cursor_scope(const char *const *parts, size_t n,
                              unsigned char out[SCIM_CURSOR_SCOPE_LEN]);

/* ERR_INVALID_VALUE when the id is empty, too long or has characters
 * outside [0-9A-Za-z._-], or expires or total is negative. */
enum status scim_cursor_encode(const struct scim_cursor *c,
                               const unsigned char key[SCIM_CURSOR_KEY_LEN],
                               char out[SCIM_CURSOR_TEXT_MAX]);
/* ERR_INVALID_CURSOR for anything malformed, forged, altered or expired
 * (expires < now); err->detail says which, never echoing the text.  The
 * caller compares out->scope with its own (scim_cursor_scope). */
enum status scim_cursor_decode(const char *text, const unsigned char key[SCIM_CURSOR_KEY_LEN],
                               int64_t now, struct scim_cursor *out, struct scim_error *err);

#endif
