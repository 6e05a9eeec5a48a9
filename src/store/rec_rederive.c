/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rec_rederive.c - this file contains the record operations of store.h for
 * re-derive jobs (a tenant's users re-derived in the background after a
 * mirroring change) and the id-ordered walk over a tenant's users they use,
 * written once for every backend (stmt.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/stmt.h"
#include "store/store.h"

#define JOB_COLUMNS                                                                                \
    "tenant_id, id, seq, state, total, done, changed, after_id, actor, source, owner, "            \
    "lease_until, started_at, finished_at, failed, attempts"

static const char SQL_JOB_SUPERSEDE[] =
    "UPDATE rederive_jobs SET state = 'superseded', finished_at = ?2, owner = '', "
    "lease_until = '' WHERE tenant_id = ?1 AND state = 'running'";
static const char SQL_JOB_INSERT[] =
    "INSERT INTO rederive_jobs (" JOB_COLUMNS ") VALUES (?1, ?2, "
    "(SELECT COALESCE(MAX(seq), 0) + 1 FROM rederive_jobs WHERE tenant_id = ?1), 'running', "
    "(SELECT COUNT(*) FROM users WHERE tenant_id = ?1), 0, 0, '', ?3, ?4, '', '', ?5, '', 0, 0) "
    "ON CONFLICT DO NOTHING";
static const char SQL_JOB_GET[] =
    "SELECT " JOB_COLUMNS " FROM rederive_jobs WHERE tenant_id = ? AND id = ?";
static const char SQL_JOB_NEWEST[] = "SELECT " JOB_COLUMNS " FROM rederive_jobs "
                                     "WHERE tenant_id = ? ORDER BY seq DESC LIMIT 1";
static const char SQL_JOB_NEXT[] =
    "SELECT " JOB_COLUMNS " FROM rederive_jobs WHERE state = 'running' "
    "AND (owner = ?1 OR owner = '' OR lease_until < ?2) ORDER BY started_at, tenant_id LIMIT 1";
static const char SQL_JOB_CLAIM[] =
    "UPDATE rederive_jobs SET owner = ?3, lease_until = ?5 WHERE tenant_id = ?1 AND id = ?2 "
    "AND state = 'running' AND (owner = ?3 OR owner = '' OR lease_until < ?4)";
static const char SQL_JOB_UPDATE[] =
    "UPDATE rederive_jobs SET state = ?3, total = ?4, done = ?5, changed = ?6, after_id = ?7, "
    "finished_at = ?8, owner = ?9, lease_until = ?10, failed = ?11, attempts = ?12 "
    "WHERE tenant_id = ?1 AND id = ?2";
static const char SQL_USER_IDS_AFTER[] =
    "SELECT id FROM users WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?";

static enum status read_job(struct stmt *st, void *out)
{
    struct store_rederive_job *j = out;
    memset(j, 0, sizeof(*j));
    rec_col_copy(st, 0, j->tenant_id, sizeof(j->tenant_id));
    rec_col_copy(st, 1, j->id, sizeof(j->id));
    j->seq = stmt_col_int(st, 2);
    rec_col_copy(st, 3, j->state, sizeof(j->state));
    j->total = stmt_col_int(st, 4);
    j->done = stmt_col_int(st, 5);
    j->changed = stmt_col_int(st, 6);
    rec_col_copy(st, 7, j->after_id, sizeof(j->after_id));
    rec_col_copy(st, 8, j->actor, sizeof(j->actor));
    rec_col_copy(st, 9, j->source, sizeof(j->source));
    rec_col_copy(st, 10, j->owner, sizeof(j->owner));
    rec_col_copy(st, 11, j->lease_until, sizeof(j->lease_until));
    rec_col_copy(st, 12, j->started_at, sizeof(j->started_at));
    rec_col_copy(st, 13, j->finished_at, sizeof(j->finished_at));
    j->failed = stmt_col_int(st, 14);
    j->attempts = stmt_col_int(st, 15);
    return OK;
}

enum status store_rederive_job_start(struct store_tx *tx, struct store_rederive_job *j)
{
    const char *supersede[] = { j->tenant_id, j->started_at };
    enum status rc = rec_exec(tx, SQL_JOB_SUPERSEDE, supersede, 2, "supersede rederive jobs");
    const char *values[] = { j->tenant_id, j->id, j->actor, j->source, j->started_at };
    if (rc == OK)
        rc = rec_insert(tx, SQL_JOB_INSERT, values, 5, "insert rederive job");
    if (rc == OK)
        rc = store_rederive_job_get(tx, j->tenant_id, j->id, j);
    return rc;
}

enum status store_rederive_job_get(struct store_tx *tx, const char *tenant_id, const char *id,
                                   struct store_rederive_job *out)
{
    const char *keys[] = { tenant_id, id };
    if (id == NULL)
        return rec_find(tx, SQL_JOB_NEWEST, keys, 1, read_job, out, "newest rederive job");
    return rec_find(tx, SQL_JOB_GET, keys, 2, read_job, out, "get rederive job");
}

enum status store_rederive_job_next(struct store_tx *tx, const char *owner, const char *now,
                                    struct store_rederive_job *out)
{
    const char *keys[] = { owner, now };
    return rec_find(tx, SQL_JOB_NEXT, keys, 2, read_job, out, "next rederive job");
}

enum status store_rederive_job_claim(struct store_tx *tx, const char *tenant_id, const char *id,
                                     const char *owner, const char *now, const char *lease_until)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_JOB_CLAIM, 0, "claim rederive job", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, tenant_id);
    stmt_text(st, id);
    stmt_text(st, owner);
    stmt_text(st, now);
    stmt_text(st, lease_until);
    return rec_done_one(st);
}

enum status store_rederive_job_update(struct store_tx *tx, const struct store_rederive_job *j)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_JOB_UPDATE, 0, "update rederive job", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, j->tenant_id);
    stmt_text(st, j->id);
    stmt_text(st, j->state);
    stmt_int(st, j->total);
    stmt_int(st, j->done);
    stmt_int(st, j->changed);
    stmt_text(st, j->after_id);
    stmt_text(st, j->finished_at);
    stmt_text(st, j->owner);
    stmt_text(st, j->lease_until);
    stmt_int(st, j->failed);
    stmt_int(st, j->attempts);
    return rec_done_one(st);
}

static enum status each_id(struct stmt *st, rec_any_fn fn, void *ctx)
{
    return ((store_id_fn)fn)(ctx, stmt_col_text(st, 0));
}

enum status store_user_ids_after(struct store_tx *tx, const char *tenant_id, const char *after_id,
                                 size_t limit, store_id_fn fn, void *ctx)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_USER_IDS_AFTER, 0, "users after id", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, tenant_id);
    stmt_text(st, after_id);
    stmt_int(st, limit ? (int64_t)limit : INT64_MAX);
    return rec_rows(st, each_id, (rec_any_fn)fn, ctx);
}
