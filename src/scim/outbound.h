/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbound.h - the SCIM bodies scimd sends to a downstream app (RFC 7643 /
 * RFC 7644): the User resource a user's current state becomes, the minimal
 * PatchOp between what was last sent and what is wanted, and the Group
 * resource and displayName PatchOp of a pushed group.
 *
 * Pure logic: no I/O, no store, no clock.  The fan-out engine reads the state
 * and decides what to send; this module only says how it looks on the wire.
 * Bodies are compact JSON text with sorted keys, so equal states give equal
 * text (the engine hashes what it sent).  Returned text is the caller's
 * (free()).  Thread-safe.
 */
#ifndef SCIMD_SCIM_OUTBOUND_H
#define SCIMD_SCIM_OUTBOUND_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"

/* What a downstream account should hold.  Strings are borrowed; NULL or ""
 * leaves the attribute out. */
struct scim_outbound_user {
    const char *id; /* scimd's stable user id: sent as externalId */
    const char *user_name;
    const char *display_name;
    const char *given_name;
    const char *family_name;
    const char *email; /* sent as the primary work email */
    bool active;
    /* Enterprise extension attributes ({"department": "R&D", "manager":
     * {"value": "..."}}), or NULL.  A non-empty object is sent under
     * urn:ietf:params:scim:schemas:extension:enterprise:2.0:User and that
     * schema is listed in "schemas". */
    const json_t *enterprise;
};

/* The User resource for u; NULL when out of memory. */
char *scim_outbound_user_body(const struct scim_outbound_user *u);

/*
 * The PatchOp taking a remote account from sent (a body this module made, or
 * "{}" / NULL when nothing was sent yet) to want: one no-path "replace" whose
 * value holds every attribute that changed (inside complex attributes and the
 * extension, only the sub-attributes that changed), and a "remove" with a
 * path ("displayName", "name.givenName", "urn:...:User:department") for each
 * attribute sent before and no longer wanted.  "schemas" is never patched.
 * *out is NULL when nothing differs.  ERR_INVALID_SYNTAX when a body is not a
 * JSON object; ERR_NOMEM.
 */
enum status scim_outbound_user_patch(const char *sent, const char *want, char **out);

/* The PatchOp switching an account off when its user is gone altogether. */
#define SCIM_OUTBOUND_DEACTIVATE                                                                   \
    "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":[{\"op\":"    \
    "\"replace\",\"value\":{\"active\":false}}]}"

/* The Group resource of a pushed group: displayName, externalId (scimd's group
 * id) and members (remote user ids; n 0: no "members" at all, as a create of an
 * empty group sends).  NULL when out of memory. */
char *scim_outbound_group_body(const char *group_id, const char *display_name,
                               const char *const *member_ids, size_t n);

/* The PatchOp renaming a group: replace displayName.  NULL when out of memory. */
char *scim_outbound_group_rename(const char *display_name);

#endif
