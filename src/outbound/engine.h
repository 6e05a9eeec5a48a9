/* SPDX-License-Identifier: Apache-2.0 */
/*
 * engine.h - the fan-out engine: changes in the directory reach every
 * downstream app over outbound SCIM, within seconds, nothing lost.
 *
 * Does: one background thread that, for every enabled app this node holds the
 * lease of (outbound/lease.h: one node of a deployment works an app at a
 * time; it renews the lease while it works, and when it dies another node
 * takes the app over once the lease has expired), reads the events of its
 * tenant after the app's durable position (the outbox: each change and its
 * event committed together), turns them into (app, user) jobs (a membership
 * change: the users it names; a grant change: the user or every member of the
 * group; a user change: that user), and converges each due job: it reads the
 * user's CURRENT state and access and makes the remote account match (link
 * before create, POST / PATCH or PUT / active:false or DELETE), with backoff
 * and dead letters.  Every step is an audit event.
 *
 * Scale and faults: each app's work runs in batches (up to ENGINE_JOB_BATCH
 * due jobs, or the probe of a quarantined app) in a thread of their own, so a
 * slow or hung app delays no other app; the engine thread leaves an app alone
 * while its batch runs.  Up to app->concurrency jobs of a batch run at once (a
 * worker thread per slot, each with its own connection-reusing client; a batch
 * holds each user once, so no user's job runs beside itself), and their
 * results are recorded many to a transaction (one commit, not one per job; a
 * job whose result was not recorded before a crash runs again, and converges
 * to the same state).  A 429 pauses the whole app for Retry-After: a gate stops
 * every other worker's next request at once, and the jobs held back keep
 * their attempts.  Quarantine (outbound/health.h): when at least 90% of the
 * app's last 20 calls failed (5xx, timeout, connection), the app is paused
 * (app_paused, reason in `app show`) and probed with one harmless lookup at
 * growing intervals; the first answer ends it (app_resumed).  Failures during
 * quarantine are not counted against the jobs, so an outage dead-letters
 * nothing.
 *
 * What is sent: outbound/user_payload.h gathers a user's state (canonical
 * fields, access, mirrored enterprise attributes) and scim/outbound.h writes
 * the User body and the minimal PatchOp.  Apps with push_groups also get
 * (app, group) jobs, kind "group" in the same job table (same retries, backoff,
 * pauses and dead letters), worked by outbound/group_push.h; a user job that
 * changes an account enqueues that user's groups again (users before groups).
 *
 * Late commits (PostgreSQL takes an event's seq at insert, not at commit):
 * every visible event is processed at once, but the durable position only
 * moves up to the events horizon (store_event_horizon, read at the start of
 * each pass: every event up to it has committed or never will; no bound on
 * SQLite, one writer); events between the position and the newest seen are
 * re-read every ENGINE_WINDOW_MS and the ones not seen before (kept in
 * memory) are processed, however long the transaction that held them back.  After a restart or a
 * change of lease holder the unsettled window is processed again, which is harmless: jobs converge
 * state.
 *
 * A node that stalls past its lease (a request hanging longer than the
 * lease, a clock far off) may overlap with the next holder for a batch: still
 * correct, since jobs converge, but requests double.  The quarantine window
 * is per node, in memory.
 *
 * Ownership: engine_start borrows dir and box until engine_stop, which joins the
 * thread and frees everything.  Thread safety: start and stop from one thread.
 */
#ifndef SCIMD_OUTBOUND_ENGINE_H
#define SCIMD_OUTBOUND_ENGINE_H

#include <stdbool.h>

#include "core/secretbox.h"
#include "core/status.h"
#include "core/str.h"
#include "directory/directory.h"

#define ENGINE_POLL_MS            150  /* idle wait between passes */
#define ENGINE_PASS_MIN_MS        20   /* busy: passes start at most this often */
#define ENGINE_EVENT_BATCH        500  /* events read per app per pass */
#define ENGINE_JOB_BATCH          200  /* jobs worked per app per batch */
#define ENGINE_MAX_ATTEMPTS       10   /* a job failing this often is dead-lettered */
#define ENGINE_BACKOFF_BASE_MS    1000 /* first retry after about this long, doubling */
#define ENGINE_BACKOFF_MAX_S      3600
#define ENGINE_REQUEST_TIMEOUT_MS 10000
#define ENGINE_LEASE_RETRY_MS     1000 /* ask for a lease held elsewhere at most this often */

struct engine_config {
    bool allow_private;     /* serve --outbound-allow-private */
    unsigned poll_ms;       /* 0: ENGINE_POLL_MS */
    long backoff_base_ms;   /* first retry delay; 0: ENGINE_BACKOFF_BASE_MS */
    unsigned lease_s;       /* an app's lease lasts this long unrenewed; 0: LEASE_TTL_S_DEFAULT */
    long reconcile_s;       /* resync every app this often (s); 0: never */
    const char *node;       /* this node's lease id, kept across restarts; NULL: a random one */
    long deprovision_limit; /* more users losing access within an hour hold the app; 0: off */
};

struct engine;

/* Start the thread.  box may be NULL (no key): apps then fail with a clear
 * last_error instead of being contacted. */
enum status engine_start(struct directory *dir, const struct secretbox *box,
                         const struct engine_config *cfg, struct engine **out,
                         struct scim_error *err);
/* Stop after the request in flight, join, free.  NULL is a no-op. */
void engine_stop(struct engine *e);
/* /metrics families of the engine (an http_metrics_fn; ctx is the engine):
 * scimd_app_requests_in_flight per app.  Any thread. */
void engine_render_metrics(void *ctx, struct buf *out);

#endif
