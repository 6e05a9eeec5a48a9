/* SPDX-License-Identifier: Apache-2.0 */
/*
 * members.h - group membership PATCH: which member rows a PatchOp adds,
 * removes or replaces, and which operations are left for the document.
 *
 * Members are rows, never part of the stored Group document (DESIGN.md §3),
 * so a Group PATCH is split: scim_members_plan turns every operation on
 * "members" (path "members", members[value eq "id" or ...], or a no-path
 * add/replace whose value carries "members", at its top or under the core
 * schema URN) into an ordered list of row
 * actions and keeps the other operations, in order, for scim_patch_apply.
 * Whether the ids are live Users is the caller's business (it has the store).
 *
 * Pure logic: no I/O.  Thread-safe.  A plan borrows the paths and values of
 * the patch it was made from (except the no-path values it had to copy
 * without "members", which it owns) and must not outlive it.
 */
#ifndef SCIMD_SCIM_MEMBERS_H
#define SCIMD_SCIM_MEMBERS_H

#include <jansson.h>
#include <stddef.h>

#include "core/status.h"
#include "scim/patch.h"

#define SCIM_MEMBERS_ID_MAX_BYTES 100 /* a longer member id is refused (ids are UUIDs) */

enum scim_members_action_kind {
    SCIM_MEMBERS_ADD,     /* add ids (already members: no change) */
    SCIM_MEMBERS_REMOVE,  /* remove ids (not members: no change, Entra retries removes) */
    SCIM_MEMBERS_REPLACE, /* the member set becomes exactly ids */
    SCIM_MEMBERS_CLEAR,   /* remove every member */
};

struct scim_members_action {
    enum scim_members_action_kind kind;
    char **ids; /* owned, in request order, duplicates kept; none for CLEAR */
    size_t n_ids;
};

struct scim_members_plan {
    struct scim_members_action *actions; /* in request order */
    size_t n_actions;
    struct scim_patch rest; /* the other operations; ops array owned, contents borrowed */
    json_t **owned;         /* values owned by the plan: one slot per patch operation */
    size_t n_owned;
};

/*
 * Split patch (a parsed Group PatchOp) into out.  A member path with a
 * sub-attribute, a filter on add/replace, or a filter other than
 * value eq "id" joined by or -> ERR_INVALID_PATH; a members value that is
 * not objects with a non-empty string "value" (no NUL, at most
 * SCIM_MEMBERS_ID_MAX_BYTES) -> ERR_INVALID_VALUE.  replace of members with
 * null, and remove without a value, clear the set.  ERR_NOMEM.  On failure
 * out is released and empty.
 */
enum status scim_members_plan(const struct scim_patch *patch, struct scim_members_plan *out,
                              struct scim_error *err);
void scim_members_plan_release(struct scim_members_plan *plan);

/* Append to a->ids the user ids of a "members" value (POST/PUT bodies too): an
 * array of objects with a "value" (a single object is one), checked as above
 * -> ERR_INVALID_VALUE.  ERR_NOMEM. */
enum status scim_members_value_ids(const json_t *value, struct scim_members_action *a,
                                   struct scim_error *err);
/* Free a's ids (a itself is the caller's). */
void scim_members_action_release(struct scim_members_action *a);

#endif
