/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rederive.h - re-deriving a tenant's users after a mirroring change, as a
 * durable background job (issue #12).
 *
 * directory_mirror_set (mirroring.h) commits the new mapping and starts a
 * job; a newer change supersedes it and starts over.  A job re-derives the
 * tenant's users in id order, a batch at a time, each batch in a short write
 * transaction of its own that also moves the job's durable cursor: SCIM
 * writes of every tenant go on in between (and derive with the new mapping
 * themselves), and after a crash the job resumes after its last batch.
 *
 * A worker works a job under a lease (DIRECTORY_REDERIVE_LEASE_S, renewed by
 * every batch) so that of several nodes one works it, and another takes over
 * once a dead one's lease ran out.  `scimd serve` runs a worker thread
 * (directory_rederiver_*); `scimd mirror set` works the job in the foreground
 * (directory_rederive_follow) unless a server already does.
 *
 * Thread safety: as directory.h; a rederiver is started and stopped by one thread.
 */
#ifndef SCIMD_DIRECTORY_REDERIVE_H
#define SCIMD_DIRECTORY_REDERIVE_H

#include <jansson.h>
#include <stddef.h>

#include "directory/directory.h"
#include "store/store.h"

#define DIRECTORY_REDERIVE_BATCH    200  /* users per write transaction */
#define DIRECTORY_REDERIVE_LEASE_S  10   /* a silent worker loses its job after this */
#define DIRECTORY_REDERIVE_POLL_MS  500  /* how often an idle worker looks for jobs */
#define DIRECTORY_REDERIVE_ATTEMPTS 5    /* a user failing this often is skipped */
#define DIRECTORY_REDERIVE_RETRY_MS 1000 /* pause before a failed user is tried again */

/* Work one batch of the running job (tenant_id, job_id) as owner: re-derive
 * at most batch users after its cursor, move the cursor, and when none are
 * left mark it done with the event users_rederived {job_id, users, changed,
 * failed}.  A user that fails (for a reason other than a busy store) costs
 * the step: nothing of its batch is written, the users before it are done
 * again and its failure is counted (job->attempts); at the
 * DIRECTORY_REDERIVE_ATTEMPTS-th it is skipped (job->failed, the event
 * rederive_user_failed {job_id, attempts, error}) and the job goes on.
 * *job gets the job as it stands after.  ERR_CONFLICT (with *job filled) when
 * the job is not running any more or another worker's lease holds it. */
enum status directory_rederive_step(struct directory *dir, const char *owner, const char *tenant_id,
                                    const char *job_id, size_t batch,
                                    struct store_rederive_job *job);

/* The job job_id (NULL: the newest) of tenant_key; 404 when there is none. */
enum status directory_rederive_get(struct directory *dir, const char *tenant_key,
                                   const char *job_id, struct store_rederive_job *out,
                                   struct scim_error *err);
/* {id, state, total, done, changed, failed, attempts, started_at, finished_at (null while
 * running)} */
json_t *directory_rederive_json(const struct store_rederive_job *j);

/* Told whenever the followed job made progress. */
typedef void (*directory_rederive_fn)(void *ctx, const struct store_rederive_job *j);
/*
 * Follow the job (tenant_id, job_id) until it is no longer running: work its
 * batches here while no other worker holds it, else watch the other's
 * progress.  *out gets the job as it ended (done or superseded).
 */
enum status directory_rederive_follow(struct directory *dir, const char *tenant_id,
                                      const char *job_id, size_t batch,
                                      directory_rederive_fn progress, void *ctx,
                                      struct store_rederive_job *out, struct scim_error *err);

/* `scimd serve`'s worker: a thread that works every tenant's running jobs,
 * batch users per transaction (0: DIRECTORY_REDERIVE_BATCH), pausing pause_ms
 * between batches (lets other writers in on a busy store). */
struct directory_rederiver;
enum status directory_rederiver_start(struct directory *dir, size_t batch, unsigned pause_ms,
                                      struct directory_rederiver **out);
/* Stop after the batch in flight (its lease runs out), join, free; NULL is a no-op. */
void directory_rederiver_stop(struct directory_rederiver *r);

#endif
