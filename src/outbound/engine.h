/* SPDX-License-Identifier: Apache-2.0 */
/*
 * engine.h - the fan-out engine: changes in the directory reach every
 * downstream app over outbound SCIM, within seconds, nothing lost.
 *
 * Does: one background thread that, for every enabled app, reads the events of
 * its tenant after the app's durable position (the outbox: each change and its
 * event committed together), turns them into (app, user) jobs (a membership
 * change: the users it names; a grant change: the user or every member of the
 * group; a user change: that user), and converges each due job: it reads the
 * user's CURRENT state and access and makes the remote account match (link
 * before create, POST / PATCH or PUT / active:false or DELETE), with backoff,
 * 429 pauses and dead letters.  Every step is an audit event.
 *
 * What is sent: outbound/user_payload.h gathers a user's state (canonical
 * fields, access, mirrored enterprise attributes) and scim/outbound.h writes
 * the User body and the minimal PatchOp.  Apps with push_groups also get
 * (app, group) jobs, kind "group" in the same job table (same retries, backoff,
 * pauses and dead letters), worked by outbound/group_push.h; a user job that
 * changes an account enqueues that user's groups again (users before groups).
 *
 * Late commits (PostgreSQL takes an event's seq at insert, not at commit): the
 * durable position only moves past events older than ENGINE_SETTLE_S; events
 * between it and the newest seen are re-read every pass and the ones not seen
 * before (kept in memory) are processed.  After a restart the unsettled
 * window is processed again, which is harmless: jobs converge state.
 *
 * Does not (yet): quarantine, leases for several nodes (two nodes
 * on one PostgreSQL database both work every app: still correct, since jobs
 * converge, but requests double), more than one request at a time per app.
 *
 * Ownership: engine_start borrows dir and box until engine_stop, which joins the
 * thread and frees everything.  Thread safety: start and stop from one thread.
 */
#ifndef SCIMD_OUTBOUND_ENGINE_H
#define SCIMD_OUTBOUND_ENGINE_H

#include <stdbool.h>

#include "core/secretbox.h"
#include "core/status.h"
#include "directory/directory.h"

#define ENGINE_POLL_MS            150  /* idle wait between passes */
#define ENGINE_SETTLE_S           10   /* events older than this have committed or never will */
#define ENGINE_EVENT_BATCH        500  /* events read per app per pass */
#define ENGINE_JOB_BATCH          50   /* jobs worked per app per pass */
#define ENGINE_MAX_ATTEMPTS       10   /* a job failing this often is dead-lettered */
#define ENGINE_BACKOFF_BASE_MS    1000 /* first retry after about this long, doubling */
#define ENGINE_BACKOFF_MAX_S      3600
#define ENGINE_REQUEST_TIMEOUT_MS 10000

struct engine_config {
    bool allow_private;   /* serve --outbound-allow-private */
    unsigned poll_ms;     /* 0: ENGINE_POLL_MS */
    long backoff_base_ms; /* first retry delay; 0: ENGINE_BACKOFF_BASE_MS */
};

struct engine;

/* Start the thread.  box may be NULL (no key): apps then fail with a clear
 * last_error instead of being contacted. */
enum status engine_start(struct directory *dir, const struct secretbox *box,
                         const struct engine_config *cfg, struct engine **out,
                         struct scim_error *err);
/* Stop after the request in flight, join, free.  NULL is a no-op. */
void engine_stop(struct engine *e);

#endif
