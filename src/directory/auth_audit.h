/*
 * auth_audit.h - failed SCIM authentications counted instead of recorded
 * one by one: a check of a bearer token that writes nothing, and the one
 * summary event of a window of repeated failures from one address.
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
 * Would directory_authenticate accept bearer token (len bytes, NULL: none)
 * for connection idp_id?  Reads only; records nothing.  A store failure
 * answers true, so the caller's directory_authenticate reports it.
 */
bool directory_bearer_accepted(struct directory *dir, const char *idp_id, const char *token,
                               size_t len);

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
