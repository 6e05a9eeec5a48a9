/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rederive.c - the re-derive job of a mirroring change: one batch of users
 * per short write transaction with a durable cursor, under a lease; the
 * foreground follower of the CLI and the worker thread of `scimd serve`.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/str.h"
#include "directory/locks.h"
#include "directory/mirror.h"
#include "directory/rederive.h"

/* ---- one batch -------------------------------------------------------------------------- */

static void lease_end(char out[STORE_TIME_LEN])
{
    int64_t now_ms = clock_now_s() * 1000;
    clock_iso_from_ms(now_ms + DIRECTORY_REDERIVE_LEASE_S * 1000, out);
}

/* Re-derive user id of the tenant in tx (locked as a SCIM write would);
 * *changed when its canonical fields changed.  A user gone since is skipped. */
static enum status rederive_user(struct store_tx *tx, const char *tenant_id, const char *id,
                                 const char *now, bool *changed)
{
    struct scim_conn conn;
    memset(&conn, 0, sizeof(conn));
    str_copy(conn.tenant_id, sizeof(conn.tenant_id), tenant_id);
    *changed = false;
    enum status rc = lock_user(tx, &conn, id);
    struct store_user u;
    if (rc != OK || (rc = store_user_get(tx, tenant_id, id, &u)) != OK)
        return rc == ERR_NOT_FOUND ? OK : rc;
    rc = mirror_derive(tx, &u, NULL, changed);
    if (rc == OK && *changed) {
        str_copy(u.updated_at, sizeof(u.updated_at), now);
        rc = store_user_update(tx, &u);
    }
    store_user_release(&u);
    return rc;
}

/* The job is done: say so, with the event. */
static enum status finish(struct store_tx *tx, struct store_rederive_job *j, const char *now)
{
    str_copy(j->state, sizeof(j->state), STORE_REDERIVE_DONE);
    str_copy(j->finished_at, sizeof(j->finished_at), now);
    j->owner[0] = j->lease_until[0] = '\0';
    if (j->total < j->done)
        j->total = j->done; /* users created while it ran */
    struct audit_ctx ctx = {
        .tenant_id = j->tenant_id,
        .actor = j->actor[0] ? j->actor : "cli",
        .source = j->source[0] ? j->source : NULL,
    };
    json_t *summary = json_pack("{s:s,s:I,s:I,s:I}", "job_id", j->id, "users", (json_int_t)j->done,
                                "changed", (json_int_t)j->changed, "failed", (json_int_t)j->failed);
    enum status rc = summary ? audit_append(tx, &ctx, "users_rederived", NULL, summary) : ERR_NOMEM;
    json_decref(summary);
    return rc;
}

static enum status read_job(struct directory *dir, const char *tenant_id, const char *job_id,
                            struct store_rederive_job *job)
{
    struct store_tx *tx;
    enum status rc = store_begin(dir->store, false, &tx);
    if (rc != OK)
        return rc;
    rc = store_rederive_job_get(tx, tenant_id, job_id, job);
    store_rollback(tx);
    return rc;
}

/* A user whose re-derive failed in a batch (nothing of the batch was written). */
struct user_failure {
    bool failed;
    size_t index; /* in the batch */
    char id[STORE_ID_LEN];
};

/* Claim the job for owner in a new write transaction and read it; ERR_CONFLICT
 * (with *job read afresh) when it is not running any more or another holds it. */
static enum status claim(struct directory *dir, const char *owner, const char *tenant_id,
                         const char *job_id, struct store_rederive_job *job, struct store_tx **tx,
                         char now[STORE_TIME_LEN])
{
    enum status rc = store_begin(dir->store, true, tx);
    if (rc != OK)
        return rc;
    char until[STORE_TIME_LEN];
    clock_now_iso(now);
    lease_end(until);
    /* The claim comes first: on PostgreSQL it locks the job's row, so a
     * mapping change superseding it waits for this batch, or this one sees it. */
    rc = store_rederive_job_claim(*tx, tenant_id, job_id, owner, now, until);
    if (rc == OK)
        rc = store_rederive_job_get(*tx, tenant_id, job_id, job);
    if (rc == OK)
        return OK;
    store_rollback(*tx);
    *tx = NULL;
    if (rc != ERR_NOT_FOUND)
        return rc;
    rc = read_job(dir, tenant_id, job_id, job);
    return rc == OK ? ERR_CONFLICT : rc;
}

/* Re-derive at most batch users after the job's cursor in one transaction
 * and move the cursor; finish the job when none are left.  When a user fails
 * nothing is written, *fail says which and its status is returned. */
static enum status run_batch(struct directory *dir, const char *owner, const char *tenant_id,
                             const char *job_id, size_t batch, struct store_rederive_job *job,
                             struct user_failure *fail)
{
    memset(fail, 0, sizeof(*fail));
    struct store_tx *tx;
    char now[STORE_TIME_LEN];
    enum status rc = claim(dir, owner, tenant_id, job_id, job, &tx, now);
    if (rc != OK)
        return rc;
    struct id_array ids = { 0 };
    rc = store_user_ids_after(tx, tenant_id, job->after_id, batch, id_array_push, &ids);
    for (size_t i = 0; rc == OK && i < ids.n; i++) {
        bool changed;
        rc = rederive_user(tx, tenant_id, ids.ids[i], now, &changed);
        if (rc != OK) {
            *fail = (struct user_failure){ .failed = true, .index = i };
            str_copy(fail->id, sizeof(fail->id), ids.ids[i]);
            break;
        }
        job->done++;
        job->changed += changed;
        job->attempts = 0; /* the user after the cursor passed */
        str_copy(job->after_id, sizeof(job->after_id), ids.ids[i]);
    }
    if (rc == OK && ids.n < batch)
        rc = finish(tx, job, now);
    if (rc == OK)
        rc = store_rederive_job_update(tx, job);
    id_array_release(&ids);
    if (rc != OK) {
        store_rollback(tx);
        return rc;
    }
    return store_commit(tx);
}

/* Count a failure of the user right after the cursor; at the last attempt
 * skip it (counted failed, audited) so that the job goes on. */
static enum status count_failure(struct directory *dir, const char *owner, const char *tenant_id,
                                 const char *job_id, const struct user_failure *fail,
                                 enum status why, struct store_rederive_job *job)
{
    struct store_tx *tx;
    char now[STORE_TIME_LEN];
    enum status rc = claim(dir, owner, tenant_id, job_id, job, &tx, now);
    if (rc != OK)
        return rc;
    job->attempts++;
    bool skip = job->attempts >= DIRECTORY_REDERIVE_ATTEMPTS;
    log_warn("rederive: job %s: user %s failed: %s (attempt %lld of %d%s)", job_id, fail->id,
             status_name(why), (long long)job->attempts, DIRECTORY_REDERIVE_ATTEMPTS,
             skip ? "; skipped" : "");
    if (skip) {
        struct audit_ctx ctx = {
            .tenant_id = job->tenant_id,
            .actor = job->actor[0] ? job->actor : "cli",
            .source = job->source[0] ? job->source : NULL,
        };
        json_t *summary = json_pack("{s:s,s:I,s:s}", "job_id", job->id, "attempts",
                                    (json_int_t)job->attempts, "error", status_name(why));
        rc =
            summary ? audit_append(tx, &ctx, "rederive_user_failed", fail->id, summary) : ERR_NOMEM;
        json_decref(summary);
        str_copy(job->after_id, sizeof(job->after_id), fail->id);
        job->done++;
        job->failed++;
        job->attempts = 0;
    }
    if (rc == OK)
        rc = store_rederive_job_update(tx, job);
    if (rc != OK) {
        store_rollback(tx);
        return rc;
    }
    return store_commit(tx);
}

/* Statuses that say "try again later" about the store, not about the user:
 * never counted against a user. */
static bool transient(enum status rc)
{
    return rc == ERR_UNAVAILABLE || rc == ERR_CONFLICT;
}

enum status directory_rederive_step(struct directory *dir, const char *owner, const char *tenant_id,
                                    const char *job_id, size_t batch,
                                    struct store_rederive_job *job)
{
    if (batch == 0)
        batch = DIRECTORY_REDERIVE_BATCH;
    struct user_failure fail;
    enum status rc = run_batch(dir, owner, tenant_id, job_id, batch, job, &fail);
    if (rc == OK || !fail.failed || transient(rc))
        return rc;
    if (fail.index > 0) {
        /* the users before it: the next step starts at the failing one */
        struct user_failure again;
        return run_batch(dir, owner, tenant_id, job_id, fail.index, job, &again);
    }
    return count_failure(dir, owner, tenant_id, job_id, &fail, rc, job);
}

/* Let go of the lease of a job still running (a worker stopping), so that the
 * next worker need not wait for it to run out. */
static void release(struct directory *dir, const char *owner, const char *tenant_id,
                    const char *job_id)
{
    struct store_tx *tx;
    if (store_begin(dir->store, true, &tx) != OK)
        return;
    char now[STORE_TIME_LEN];
    clock_now_iso(now);
    struct store_rederive_job j;
    enum status rc = store_rederive_job_claim(tx, tenant_id, job_id, owner, now, now);
    if (rc == OK)
        rc = store_rederive_job_get(tx, tenant_id, job_id, &j);
    if (rc == OK) {
        j.owner[0] = j.lease_until[0] = '\0';
        rc = store_rederive_job_update(tx, &j);
    }
    if (rc == OK)
        store_commit(tx);
    else
        store_rollback(tx);
}

/* ---- reading a job ---------------------------------------------------------------------- */

enum status directory_rederive_get(struct directory *dir, const char *tenant_key,
                                   const char *job_id, struct store_rederive_job *out,
                                   struct scim_error *err)
{
    scim_error_clear(err);
    struct store_tx *tx;
    struct store_tenant tenant;
    enum status rc = mirror_begin(dir, tenant_key, false, &tx, &tenant, err);
    if (rc != OK)
        return rc;
    rc = store_rederive_job_get(tx, tenant.id, job_id, out);
    store_rollback(tx);
    if (rc == ERR_NOT_FOUND && job_id)
        return scim_error_set(err, rc, "no re-derive job '%.64s'", job_id);
    if (rc == ERR_NOT_FOUND)
        return scim_error_set(err, rc, "the tenant's users were never re-derived");
    if (rc != OK)
        return scim_error_set(err, rc, "%s", status_name(rc));
    return OK;
}

json_t *directory_rederive_json(const struct store_rederive_job *j)
{
    return json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:s,s:o}", "id", j->id, "state", j->state,
                     "total", (json_int_t)j->total, "done", (json_int_t)j->done, "changed",
                     (json_int_t)j->changed, "failed", (json_int_t)j->failed, "attempts",
                     (json_int_t)j->attempts, "started_at", j->started_at, "finished_at",
                     j->finished_at[0] ? json_string(j->finished_at) : json_null());
}

/* ---- the foreground follower ------------------------------------------------------------ */

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

enum status directory_rederive_follow(struct directory *dir, const char *tenant_id,
                                      const char *job_id, size_t batch,
                                      directory_rederive_fn progress, void *ctx,
                                      struct store_rederive_job *out, struct scim_error *err)
{
    scim_error_clear(err);
    char owner[STORE_ID_LEN];
    enum status rc = crypto_uuid(owner);
    int64_t last_done = -1;
    while (rc == OK) {
        rc = directory_rederive_step(dir, owner, tenant_id, job_id, batch, out);
        bool watching = rc == ERR_CONFLICT;
        if (watching)
            rc = OK;
        if (rc != OK)
            break;
        if (progress && (out->done != last_done || strcmp(out->state, STORE_REDERIVE_RUNNING) != 0))
            progress(ctx, out);
        last_done = out->done;
        if (strcmp(out->state, STORE_REDERIVE_RUNNING) != 0)
            return OK;
        if (watching)
            sleep_ms(DIRECTORY_REDERIVE_POLL_MS / 2);
        else if (out->attempts > 0)
            sleep_ms(DIRECTORY_REDERIVE_RETRY_MS);
    }
    return scim_error_set(err, rc, "could not re-derive the users: %s", status_name(rc));
}

/* ---- the worker of `scimd serve` -------------------------------------------------------- */

struct directory_rederiver {
    struct directory *dir;
    size_t batch;
    unsigned pause_ms;
    char owner[STORE_ID_LEN];
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
};

/* Wait ms or until stopped; true when stopped. */
static bool wait_or_stop(struct directory_rederiver *r, unsigned ms)
{
    pthread_mutex_lock(&r->mu);
    if (!r->stop && ms > 0) {
        struct timespec until = clock_deadline_in_ms(ms);
        pthread_cond_timedwait(&r->cv, &r->mu, &until);
    }
    bool stop = r->stop;
    pthread_mutex_unlock(&r->mu);
    return stop;
}

/* Work the next job free to take until it ends; true when there was one. */
static bool work_next(struct directory_rederiver *r)
{
    struct store_tx *tx;
    struct store_rederive_job job;
    char now[STORE_TIME_LEN];
    clock_now_iso(now);
    if (store_begin(r->dir->store, false, &tx) != OK)
        return false;
    enum status rc = store_rederive_job_next(tx, r->owner, now, &job);
    store_rollback(tx);
    if (rc != OK) {
        if (rc != ERR_NOT_FOUND)
            log_warn("rederive: cannot look for jobs: %s", status_name(rc));
        return false;
    }
    char tenant_id[STORE_ID_LEN], job_id[STORE_ID_LEN];
    str_copy(tenant_id, sizeof(tenant_id), job.tenant_id);
    str_copy(job_id, sizeof(job_id), job.id);
    log_info("rederive: job %s of tenant %s from user %lld of %lld", job_id, tenant_id,
             (long long)job.done, (long long)job.total);
    for (;;) {
        rc = directory_rederive_step(r->dir, r->owner, tenant_id, job_id, r->batch, &job);
        if (rc != OK) {
            if (rc != ERR_CONFLICT)
                log_warn("rederive: job %s: %s (tried again)", job_id, status_name(rc));
            return false; /* the worker waits before it looks again */
        }
        if (strcmp(job.state, STORE_REDERIVE_RUNNING) != 0) {
            log_info("rederive: job %s done: %lld users, %lld changed", job_id, (long long)job.done,
                     (long long)job.changed);
            return true;
        }
        if (wait_or_stop(r, job.attempts > 0 ? DIRECTORY_REDERIVE_RETRY_MS : r->pause_ms)) {
            release(r->dir, r->owner, tenant_id, job_id);
            return false;
        }
    }
}

static void *rederiver_main(void *arg)
{
    struct directory_rederiver *r = arg;
    while (!wait_or_stop(r, 0)) {
        if (!work_next(r))
            wait_or_stop(r, DIRECTORY_REDERIVE_POLL_MS);
    }
    return NULL;
}

enum status directory_rederiver_start(struct directory *dir, size_t batch, unsigned pause_ms,
                                      struct directory_rederiver **out)
{
    *out = NULL;
    struct directory_rederiver *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return ERR_NOMEM;
    r->dir = dir;
    r->batch = batch ? batch : DIRECTORY_REDERIVE_BATCH;
    r->pause_ms = pause_ms;
    enum status rc = crypto_uuid(r->owner);
    if (rc != OK) {
        free(r);
        return rc;
    }
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (pthread_create(&r->thread, NULL, rederiver_main, r) != 0) {
        pthread_cond_destroy(&r->cv);
        pthread_mutex_destroy(&r->mu);
        free(r);
        return ERR_NOMEM;
    }
    *out = r;
    return OK;
}

void directory_rederiver_stop(struct directory_rederiver *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
