/* SPDX-License-Identifier: Apache-2.0 */
/*
 * quirks.h - the one place where real IdP clients' dialects become RFC 7644.
 *
 * Runs on a decoded PatchOp body before scim_patch_parse, rewriting it in
 * place.  It knows the shapes Okta and Microsoft Entra ID send:
 *   - capitalised ops ("Replace", "Add", "Remove")
 *   - paths prefixed with the core schema URN
 *     ("urn:ietf:params:scim:schemas:core:2.0:User:userName" -> "userName")
 *   - value-object keys prefixed with a schema URN (core: stripped;
 *     extension: moved under the extension's URN key)
 *   - dotted keys in a no-path value ({"name.givenName":"A"} -> {"name":{"givenName":"A"}})
 *   - booleans as strings ("True"/"False") wherever the schema says boolean
 *   - manager as a bare string -> {"value": "<id>"}
 *   - Entra's remove of members with a value array ->
 *     one remove per member with path members[value eq "<id>"]
 *   - Okta's {"op":"replace","value":{"active":false}} (already RFC; kept)
 * Anything it does not recognise is left for the PATCH parser to judge.
 *
 * Pure logic: no I/O.  Thread-safe.
 */
#ifndef SCIMD_SCIM_QUIRKS_H
#define SCIMD_SCIM_QUIRKS_H

#include <jansson.h>

#include "core/status.h"
#include "scim/schema.h"

/* Normalise body (a PatchOp message) in place.  Only fails on ERR_NOMEM. */
enum status scim_quirks_patch(const struct scim_resource_type *rt, json_t *body,
                              struct scim_error *err);

#endif
