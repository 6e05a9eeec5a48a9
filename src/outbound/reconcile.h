/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reconcile.h - full reconciliation of downstream apps: the engine's periodic
 * resync (`serve --reconcile-interval`) and the look at a remote account that
 * a reconciliation asks for, so an account changed or deleted downstream by
 * hand is put right.
 *
 * Does: decide when an app's next resync is due (directory_app_resync_if_due
 * enqueues it; the jobs are worked like any other), and, for a link whose
 * remote state is unknown (store_app_links_unverify left its hash empty), GET
 * the remote account and compare it with what scimd wants it to hold.
 *
 * Does not: write downstream (the engine's convergence does, from the verdict),
 * or keep state of its own (the caller keeps each app's next due time).
 * Thread safety: no shared state; a client is used by one thread at a time.
 */
#ifndef SCIMD_OUTBOUND_RECONCILE_H
#define SCIMD_OUTBOUND_RECONCILE_H

#include <stdbool.h>
#include <stdint.h>

#include "directory/directory.h"
#include "outbound/scim_client.h"
#include "store/store.h"

#define RECONCILE_INTERVAL_DEFAULT_S 3600 /* serve --reconcile-interval 1h */
#define RECONCILE_RETRY_S            60   /* a failed scheduling is tried again after this */

/*
 * The engine's timer, called for every enabled app on each pass: when
 * *next_ms (epoch ms; 0 = not known yet) has come, resync the app if it is due
 * (directory_app_resync_if_due) and set *next_ms to the next due time.
 * interval_s 0 turns reconciliation off.
 */
void reconcile_tick(struct directory *dir, const struct store_app *app, int64_t interval_s,
                    int64_t *next_ms);

/* Does the remote resource (JSON text) hold what want (the payload scimd
 * sends) says?  Every attribute of want but "schemas" must be in the remote
 * with an equal value: names compared case-insensitively, objects as subsets,
 * arrays element by element as subsets (extra remote attributes are fine). */
bool reconcile_remote_matches(const char *want, const char *remote, size_t remote_len);

/*
 * Look at the remote account of link (GET Users/<remote_id>) and bring the
 * link up to date with what it shows: gone (404): link->remote_id becomes "";
 * holds want: link->sent becomes want; differs: link->sent becomes "{}" (so the
 * update sends every attribute).  Returns the GET's outcome (NOT_FOUND counts
 * as OK here); res holds the answer.
 */
enum scim_client_outcome reconcile_verify(struct scim_client *c, struct store_app_link *link,
                                          const char *want, struct scim_client_result *res);

#endif
