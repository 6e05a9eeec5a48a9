/* SPDX-License-Identifier: Apache-2.0 */
/*
 * auth_audit.h - failed SCIM authentications counted instead of recorded
 * one by one: a check of a bearer token that writes nothing, the verdict on
 * a token both checks share, and the one summary event of a window of
 * repeated failures (401s and 403s) from one address.
 *
 * The HTTP layer's throttle (src/http/ratelimit.h) decides when to use
 * them; directory_authenticate still records an address's first failure of
 * a window.  Thread-safe like the rest of the directory.
 */
#ifndef SCIMD_DIRECTORY_AUTH_AUDIT_H
#define SCIMD_DIRECTORY_AUTH_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "directory/directory.h"

/*
 * What directory_authenticate would answer for bearer token (len bytes,
 * NULL: none) on connection idp_id from source: OK, or ERR_UNAUTHORIZED /
 * ERR_FORBIDDEN with the reason in err.  Reads only; records nothing.  A
 * store failure answers OK, so the caller's directory_authenticate reports it.
 */
enum status directory_bearer_check(struct directory *dir, const char *idp_id, const char *token,
                                   size_t len, const char *source, struct scim_error *err);

/*
 * The verdict on token t (found by the hash of a bearer) for a request on
 * connection idp_id from source at now: revoked, expired or another
 * connection's -> ERR_UNAUTHORIZED; its connection disabled or source not in
 * the connection's allowlist -> ERR_FORBIDDEN; else OK.  Pure.
 */
enum status directory_token_verdict(const struct store_token *t, const char *idp_id,
                                    const char *source, const char *now, struct scim_error *err);

/*
 * One scim_auth_failed event for `failures` failed authentications from
 * source (an address or prefix) over window_s, `refused` of them refused
 * without a check: summary {reason, count, refused, window_s}.  idp_id is
 * the connection the first one named (attributed when it exists).
 */
enum status directory_auth_failures_record(struct directory *dir, const char *source,
                                           const char *idp_id, uint64_t failures, uint64_t refused,
                                           unsigned window_s);

#endif
