/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rec_metrics.c - this file contains the aggregate reads of store.h that
 * /metrics makes at scrape time: each app's fan-out queue (pending jobs,
 * retries, dead letters, the oldest pending job) and the live tokens that expire soon.  Written
 * once for every backend (stmt.h); the same SQL text on both.
 */
#include <stdlib.h>
#include <string.h>

#include "store/stmt.h"
#include "store/store.h"

/* One row per app, jobs or not; dead is 0 or 1 (INTEGER on both backends). */
static const char SQL_APP_QUEUES[] =
    "SELECT a.tenant_id, a.id, a.name, a.state, a.last_success_at, "
    "COALESCE(SUM(CASE WHEN j.dead = 0 THEN 1 ELSE 0 END), 0), "
    "COALESCE(SUM(CASE WHEN j.dead = 0 AND j.attempts > 0 THEN 1 ELSE 0 END), 0), "
    "COALESCE(SUM(CASE WHEN j.dead = 1 THEN 1 ELSE 0 END), 0), "
    "MIN(CASE WHEN j.dead = 0 THEN j.created_at END) "
    "FROM apps a LEFT JOIN app_jobs j ON j.tenant_id = a.tenant_id AND j.app_id = a.id "
    "GROUP BY a.tenant_id, a.id, a.name, a.state, a.last_success_at "
    "ORDER BY a.tenant_id, a.id";

static enum status each_queue(struct stmt *st, rec_any_fn fn, void *ctx)
{
    struct store_app_queue q;
    memset(&q, 0, sizeof(q));
    rec_col_copy(st, 0, q.tenant_id, sizeof(q.tenant_id));
    rec_col_copy(st, 1, q.app_id, sizeof(q.app_id));
    rec_col_copy(st, 2, q.name, sizeof(q.name));
    rec_col_copy(st, 3, q.state, sizeof(q.state));
    rec_col_copy(st, 4, q.last_success_at, sizeof(q.last_success_at));
    q.pending = stmt_col_int(st, 5);
    q.retrying = stmt_col_int(st, 6);
    q.dead = stmt_col_int(st, 7);
    rec_col_copy(st, 8, q.oldest_pending_at, sizeof(q.oldest_pending_at));
    return ((store_app_queue_fn)fn)(ctx, &q);
}

enum status store_app_queue_each(struct store_tx *tx, store_app_queue_fn fn, void *ctx)
{
    return rec_each(tx, SQL_APP_QUEUES, NULL, 0, 0, each_queue, (rec_any_fn)fn, ctx,
                    "count app queues");
}

/* Live (not revoked), not yet expired, expiring at or before ?2. */
static const char SQL_TOKENS_EXPIRING[] =
    "SELECT t.tenant_id, t.id, t.idp_id, t.name, t.expires_at FROM tokens t "
    "WHERE t.revoked_at IS NULL AND t.expires_at IS NOT NULL AND t.expires_at > ?1 "
    "AND t.expires_at <= ?2 ORDER BY t.expires_at, t.id";

static enum status each_expiring(struct stmt *st, rec_any_fn fn, void *ctx)
{
    struct store_token t;
    memset(&t, 0, sizeof(t));
    rec_col_copy(st, 0, t.tenant_id, sizeof(t.tenant_id));
    rec_col_copy(st, 1, t.id, sizeof(t.id));
    rec_col_copy(st, 2, t.idp_id, sizeof(t.idp_id));
    rec_col_copy(st, 3, t.name, sizeof(t.name));
    rec_col_copy(st, 4, t.expires_at, sizeof(t.expires_at));
    return ((store_token_fn)fn)(ctx, &t);
}

enum status store_token_expiring_each(struct store_tx *tx, const char *now, const char *until,
                                      store_token_fn fn, void *ctx)
{
    const char *keys[] = { now, until };
    return rec_each(tx, SQL_TOKENS_EXPIRING, keys, 2, 0, each_expiring, (rec_any_fn)fn, ctx,
                    "list expiring tokens");
}
