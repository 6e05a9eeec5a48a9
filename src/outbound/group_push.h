/* SPDX-License-Identifier: Apache-2.0 */
/*
 * group_push.h - groups pushed to a downstream app (an app created with
 * --push-groups): every group granted to it exists downstream with, as
 * members, the granted users whose accounts there are linked and active.
 *
 * Does: which events concern which pushed groups (a grant, a group's
 * members or name, the group's deletion); the group job (kind "group" in
 * app_jobs, so it shares the user jobs' retries, backoff, 429 pauses and dead
 * letters): link before create (`displayName eq`, then POST of an empty group;
 * 409 -> look up and link), displayName PATCH on a rename, member PATCHes of
 * at most SCIM_CLIENT_MEMBER_BATCH changes each (a PUT of the whole group for
 * PUT-only apps), every change recorded as member rows so a retry goes on
 * where the last attempt stopped; audit event app_group_pushed.
 *
 * Users before groups: a member is added only once its user job has linked an
 * active account (the remote id exists), and a user job that changes an
 * account (created, linked, switched off or on, deleted) enqueues the groups
 * of that user again; group jobs are due GROUP_PUSH_DELAY_MS after the last
 * such change, so a group's members are provisioned before it is patched.
 *
 * A grant taken back, or the group deleted upstream: the members scimd put
 * in the remote group are removed and the group is left in place (it may hold
 * accounts scimd does not manage), unless the app's deprovision mode is
 * "delete": then the remote group is DELETEd.  Either way the link is dropped.
 * Members scimd did not add (a pre-existing group that was linked) are never
 * removed.
 *
 * Thread safety: called from the engine's thread; every call is independent.
 */
#ifndef SCIMD_OUTBOUND_GROUP_PUSH_H
#define SCIMD_OUTBOUND_GROUP_PUSH_H

#include "core/status.h"
#include "outbound/scim_client.h"
#include "store/store.h"

#define GROUP_PUSH_DELAY_MS 1000 /* a group job waits this long after its members' changes */

/* The ids of the groups event ev asks app (which pushes groups) to push again,
 * to fn. */
enum status group_push_event_groups(struct store_tx *tx, const struct store_app *app,
                                    const struct store_event *ev, store_id_fn fn, void *ctx);

/* Enqueue (or postpone) the job of group_id, due in GROUP_PUSH_DELAY_MS. */
enum status group_push_enqueue(struct store_tx *tx, const struct store_app *app,
                               const char *group_id);

/* user_id's account in app changed: enqueue every group to push again. */
enum status group_push_user_changed(struct store_tx *tx, const struct store_app *app,
                                    const char *user_id);

/*
 * Make the remote group of group_id match: linked or created, named, its
 * members those wanted.  Progress is written to the store as it is made
 * (links, member rows, app_group_pushed); the returned outcome and res (the
 * last answer; *failed_at names the request that failed) are for the
 * caller's job bookkeeping, as for a user job.
 */
enum scim_client_outcome group_push_converge(struct store *store, const struct store_app *app,
                                             struct scim_client *client, const char *group_id,
                                             struct scim_client_result *res,
                                             const char **failed_at);

#endif
