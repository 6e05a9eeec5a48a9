/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scim_wire.h - the text scimd exchanges with a downstream SCIM app, in and out:
 * the `attr eq "value"` filter query, percent-encoded path segments, the member
 * PatchOp body, and the parsing of what comes back (Retry-After in seconds or as
 * an HTTP date, SCIM error bodies, ListResponse and resource ids).
 *
 * Pure logic: no I/O, no clock (callers pass "now").  The SCIM client
 * (scim_client.h) is its only user; it is a module of its own so the parsers can
 * be fuzzed and table-tested without a network.  Every parser treats the remote
 * as hostile: sizes are capped, ids are checked, nothing is trusted to be
 * NUL-terminated.  Output buffers are the caller's; thread-safe.
 */
#ifndef SCIMD_OUTBOUND_SCIM_WIRE_H
#define SCIMD_OUTBOUND_SCIM_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "core/str.h"

#define SCIM_WIRE_RETRY_AFTER_DEFAULT_S 300          /* a 429 without a usable Retry-After */
#define SCIM_WIRE_RETRY_AFTER_MAX_S     (24L * 3600) /* longer asks are clamped to a day */
#define SCIM_WIRE_ID_MAX                256          /* remote ids: 1..255 bytes + NUL */
#define SCIM_WIRE_SCIM_TYPE_MAX         32
#define SCIM_WIRE_DETAIL_MAX            256

/*
 * Parse an HTTP date in any of the three forms RFC 9110 §5.6.7 says a recipient
 * must accept: IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850
 * "Sunday, 06-Nov-94 08:49:37 GMT" and asctime "Sun Nov  6 08:49:37 1994".
 * Weekday names are checked for form, not against the date.
 */
bool scim_wire_http_date(const char *s, size_t n, int64_t *epoch_s);

/*
 * Seconds to wait from a Retry-After header value (s[0..n), as received, may
 * hold surrounding spaces): delta-seconds or an HTTP date relative to now_s.
 * A date in the past gives 0; anything above SCIM_WIRE_RETRY_AFTER_MAX_S is
 * clamped.  false (and *seconds untouched) when the value is not one of the two
 * forms; callers then use SCIM_WIRE_RETRY_AFTER_DEFAULT_S.
 */
bool scim_wire_retry_after(const char *s, size_t n, int64_t now_s, long *seconds);

/*
 * scimType and detail of a SCIM error body (RFC 7644 §3.12), for logs and audit
 * events: both "" when the body is not a SCIM error.  Control characters become
 * spaces and the detail is cut (at a UTF-8 boundary) to fit.
 */
void scim_wire_error(const char *body, size_t n, char scim_type[SCIM_WIRE_SCIM_TYPE_MAX],
                     char detail[SCIM_WIRE_DETAIL_MAX]);

/*
 * Is s a usable remote id: 1..SCIM_WIRE_ID_MAX-1 bytes of valid UTF-8 without
 * control characters?
 */
bool scim_wire_id_valid(const char *s, size_t n);

/* The "id" of a resource body (a POST, PUT or GET answer).  ERR_INVALID_SYNTAX
 * when the body is not a JSON object, ERR_INVALID_VALUE when its id is missing or
 * not a usable id. */
enum status scim_wire_resource_id(const char *body, size_t n, char id[SCIM_WIRE_ID_MAX]);

/*
 * totalResults and the id of the first resource of a ListResponse.  *total is
 * totalResults, or the number of Resources when it is absent; id is "" when
 * there are none.  ERR_INVALID_SYNTAX / ERR_INVALID_VALUE when it is not a
 * ListResponse or a listed resource has no usable id.
 */
enum status scim_wire_list(const char *body, size_t n, long *total, char id[SCIM_WIRE_ID_MAX]);

/* Append s[0..n) percent-encoded: everything but RFC 3986 unreserved characters. */
void scim_wire_percent_encode(struct buf *out, const char *s, size_t n);

/*
 * Append the query parameter `filter=<attr eq "value">`, the value written as a
 * JSON string (RFC 7644 §3.4.2.2) and the whole percent-encoded.  attr is one of
 * the caller's own attribute names (letters, digits, '_', '-', '.', ':');
 * ERR_INVALID_VALUE when value is not valid UTF-8 or attr has other characters.
 */
enum status scim_wire_eq_filter(struct buf *out, const char *attr, const char *value);

/*
 * A PatchOp body changing a group's members: one "add" of add[0..n_add) and one
 * "remove" with a `members[value eq "id"]` path per id of remove[0..n_remove)
 * (the form RFC 7644 §3.5.2.2 defines and AWS, Okta and Entra targets accept).
 * Appends to out; ERR_INVALID_VALUE for an id that is not valid UTF-8.
 */
enum status scim_wire_members_patch(struct buf *out, const char *const *add, size_t n_add,
                                    const char *const *remove, size_t n_remove);

#endif
