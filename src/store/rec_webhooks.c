/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rec_webhooks.c - this file contains the record operations of
 * store_webhooks.h: event subscriptions, their message queue, the log of
 * delivery attempts and the reads of the event log they make, written once
 * for every backend (stmt.h).
 */
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "store/sqlgen.h"
#include "store/stmt.h"
#include "store/store_webhooks.h"

/* ---- subscriptions ----------------------------------------------------------------------- */

#define WEBHOOK_COLUMNS                                                                            \
    "tenant_id, id, url, format, delivery, events, audience, secret, poll_token_hash, state, "     \
    "disabled_reason, failing_since, paused_until, last_success_at, last_error, position, "        \
    "created_at, updated_at"
static const char SQL_WEBHOOK_INSERT[] =
    "INSERT INTO webhooks (" WEBHOOK_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
    "?, ?, ?, ?) ON CONFLICT DO NOTHING";
static const char SQL_WEBHOOK_GET[] = "SELECT " WEBHOOK_COLUMNS " FROM webhooks WHERE id = ?";
static const char SQL_WEBHOOK_GET_IN[] =
    "SELECT " WEBHOOK_COLUMNS " FROM webhooks WHERE tenant_id = ? AND id = ?";
static const char SQL_WEBHOOK_EACH[] =
    "SELECT " WEBHOOK_COLUMNS " FROM webhooks ORDER BY created_at, id";
static const char SQL_WEBHOOK_EACH_IN[] =
    "SELECT " WEBHOOK_COLUMNS " FROM webhooks WHERE tenant_id = ? ORDER BY created_at, id";
static const char SQL_WEBHOOK_STATE[] =
    "UPDATE webhooks SET state = ?, disabled_reason = ?, paused_until = ?, failing_since = ?, "
    "updated_at = ? WHERE tenant_id = ? AND id = ?";
static const char SQL_WEBHOOK_PROGRESS[] =
    "UPDATE webhooks SET paused_until = ?, failing_since = ?, last_success_at = ?, "
    "last_error = ?, position = ? WHERE tenant_id = ? AND id = ?";
static const char SQL_WEBHOOK_NOTE[] =
    "UPDATE webhooks SET last_success_at = ?, last_error = ? WHERE tenant_id = ? AND id = ?";
static const char *const SQL_WEBHOOK_DELETE[] = {
    "DELETE FROM webhook_messages WHERE tenant_id = ? AND webhook_id = ?",
    "DELETE FROM webhook_attempts WHERE tenant_id = ? AND webhook_id = ?",
    "DELETE FROM webhooks WHERE tenant_id = ? AND id = ?",
};
static const char SQL_WEBHOOK_LEASE[] =
    "UPDATE webhooks SET lease_owner = ?3, lease_until = ?5 WHERE tenant_id = ?1 AND id = ?2 "
    "AND (lease_owner IS NULL OR lease_owner = ?3 OR lease_until < ?4)";

void store_webhook_release(struct store_webhook *w)
{
    if (w == NULL)
        return;
    free(w->secret);
    w->secret = NULL;
}

static void read_webhook_row(struct stmt *st, struct store_webhook *w)
{
    memset(w, 0, sizeof(*w));
    rec_col_copy(st, 0, w->tenant_id, sizeof(w->tenant_id));
    rec_col_copy(st, 1, w->id, sizeof(w->id));
    rec_col_copy(st, 2, w->url, sizeof(w->url));
    rec_col_copy(st, 3, w->format, sizeof(w->format));
    rec_col_copy(st, 4, w->delivery, sizeof(w->delivery));
    rec_col_copy(st, 5, w->events, sizeof(w->events));
    rec_col_copy(st, 6, w->audience, sizeof(w->audience));
    rec_col_copy(st, 8, w->poll_token_hash, sizeof(w->poll_token_hash));
    rec_col_copy(st, 9, w->state, sizeof(w->state));
    rec_col_copy(st, 10, w->disabled_reason, sizeof(w->disabled_reason));
    rec_col_copy(st, 11, w->failing_since, sizeof(w->failing_since));
    rec_col_copy(st, 12, w->paused_until, sizeof(w->paused_until));
    rec_col_copy(st, 13, w->last_success_at, sizeof(w->last_success_at));
    rec_col_copy(st, 14, w->last_error, sizeof(w->last_error));
    w->position = stmt_col_int(st, 15);
    rec_col_copy(st, 16, w->created_at, sizeof(w->created_at));
    rec_col_copy(st, 17, w->updated_at, sizeof(w->updated_at));
}

static enum status read_webhook(struct stmt *st, void *out)
{
    struct store_webhook *w = out;
    read_webhook_row(st, w);
    return rec_col_dup(st, 7, &w->secret) ? OK : ERR_NOMEM;
}

enum status store_webhook_insert(struct store_tx *tx, const struct store_webhook *w)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_WEBHOOK_INSERT, 0, "insert webhook", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, w->tenant_id);
    stmt_text(st, w->id);
    stmt_opt(st, w->url);
    stmt_text(st, w->format);
    stmt_text(st, w->delivery);
    stmt_opt(st, w->events);
    stmt_text(st, w->audience);
    stmt_opt(st, w->secret);
    stmt_opt(st, w->poll_token_hash);
    stmt_text(st, w->state);
    stmt_opt(st, w->disabled_reason);
    stmt_opt(st, w->failing_since);
    stmt_opt(st, w->paused_until);
    stmt_opt(st, w->last_success_at);
    stmt_opt(st, w->last_error);
    stmt_int(st, w->position);
    stmt_text(st, w->created_at);
    stmt_text(st, w->updated_at);
    return rec_done_insert(st);
}

enum status store_webhook_get(struct store_tx *tx, const char *tenant_id, const char *id,
                              struct store_webhook *out)
{
    return rec_find_scoped(tx, SQL_WEBHOOK_GET, SQL_WEBHOOK_GET_IN, tenant_id, id, read_webhook,
                           out, "get webhook");
}

static enum status each_webhook(struct stmt *st, rec_any_fn fn, void *ctx)
{
    struct store_webhook w;
    read_webhook_row(st, &w); /* the secret stays out of lists */
    return ((store_webhook_fn)fn)(ctx, &w);
}

enum status store_webhook_each(struct store_tx *tx, const char *tenant_id, store_webhook_fn fn,
                               void *ctx)
{
    return rec_each_scoped(tx, SQL_WEBHOOK_EACH, SQL_WEBHOOK_EACH_IN, tenant_id, each_webhook,
                           (rec_any_fn)fn, ctx, "list webhooks");
}

enum status store_webhook_set_state(struct store_tx *tx, const struct store_webhook *w)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_WEBHOOK_STATE, 0, "webhook state", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, w->state);
    stmt_opt(st, w->disabled_reason);
    stmt_opt(st, w->paused_until);
    stmt_opt(st, w->failing_since);
    stmt_text(st, w->updated_at);
    stmt_text(st, w->tenant_id);
    stmt_text(st, w->id);
    return rec_done_one(st);
}

enum status store_webhook_progress(struct store_tx *tx, const struct store_webhook *w)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_WEBHOOK_PROGRESS, 0, "webhook progress", &st);
    if (rc != OK)
        return rc;
    stmt_opt(st, w->paused_until);
    stmt_opt(st, w->failing_since);
    stmt_opt(st, w->last_success_at);
    stmt_opt(st, w->last_error);
    stmt_int(st, w->position);
    stmt_text(st, w->tenant_id);
    stmt_text(st, w->id);
    return rec_done(st);
}

enum status store_webhook_note(struct store_tx *tx, const struct store_webhook *w)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_WEBHOOK_NOTE, 0, "webhook note", &st);
    if (rc != OK)
        return rc;
    stmt_opt(st, w->last_success_at);
    stmt_opt(st, w->last_error);
    stmt_text(st, w->tenant_id);
    stmt_text(st, w->id);
    return rec_done(st);
}

enum status store_webhook_delete(struct store_tx *tx, const char *tenant_id, const char *id)
{
    const char *keys[] = { tenant_id, id };
    return rec_delete_with(tx, SQL_WEBHOOK_DELETE,
                           sizeof(SQL_WEBHOOK_DELETE) / sizeof(SQL_WEBHOOK_DELETE[0]), keys, 2,
                           "delete webhook");
}

enum status store_webhook_lease(struct store_tx *tx, const char *tenant_id, const char *id,
                                const char *owner, const char *now, const char *until)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_WEBHOOK_LEASE, 0, "webhook lease", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, tenant_id);
    stmt_text(st, id);
    stmt_text(st, owner);
    stmt_text(st, now);
    stmt_text(st, until);
    rc = rec_done_one(st);
    return rc == ERR_NOT_FOUND ? ERR_CONFLICT : rc;
}

/* ---- messages ------------------------------------------------------------------------------ */

#define MESSAGE_COLUMNS                                                                            \
    "tenant_id, webhook_id, seq, event_id, subject, jti, state, attempts, next_at, last_status, "  \
    "last_error, created_at, delivered_at"
#define MESSAGE_VALUES "(?, ?, ?, ?, ?, ?, 'pending', 0, ?, 0, NULL, ?, NULL)"
static const char SQL_MESSAGE_ADD[] = "INSERT INTO webhook_messages (" MESSAGE_COLUMNS
                                      ") VALUES " MESSAGE_VALUES " ON CONFLICT DO NOTHING";
static const char SQL_MESSAGE_REQUEUE[] =
    "INSERT INTO webhook_messages (" MESSAGE_COLUMNS ") VALUES " MESSAGE_VALUES
    " ON CONFLICT (tenant_id, webhook_id, seq) DO UPDATE SET state = 'pending', attempts = 0, "
    "next_at = excluded.next_at, last_error = NULL, delivered_at = NULL";
static const char SQL_MESSAGE_EACH[] =
    "SELECT " MESSAGE_COLUMNS " FROM webhook_messages WHERE tenant_id = ? AND webhook_id = ? "
    "AND state = ? ORDER BY seq LIMIT ?";
static const char SQL_MESSAGE_DUE[] =
    "SELECT " MESSAGE_COLUMNS " FROM webhook_messages WHERE tenant_id = ? AND webhook_id = ? "
    "AND state = 'pending' AND next_at <= ? ORDER BY seq LIMIT ?";
static const char SQL_MESSAGE_UPDATE[] =
    "UPDATE webhook_messages SET state = ?, attempts = ?, next_at = ?, last_status = ?, "
    "last_error = ?, delivered_at = ? WHERE tenant_id = ? AND webhook_id = ? AND seq = ?";
static const char SQL_MESSAGE_BY_JTI[] =
    "SELECT " MESSAGE_COLUMNS " FROM webhook_messages WHERE tenant_id = ? AND webhook_id = ? "
    "AND jti = ?";
static const char SQL_MESSAGE_PRUNE[] =
    "DELETE FROM webhook_messages WHERE tenant_id = ? AND webhook_id = ? AND state = 'delivered' "
    "AND seq <= ?";
static const char SQL_MESSAGE_RETRY_DEAD[] =
    "UPDATE webhook_messages SET state = 'pending', attempts = 0, next_at = ?3, last_error = NULL "
    "WHERE tenant_id = ?1 AND webhook_id = ?2 AND state = 'dead'";
static const char SQL_MESSAGE_COUNTS[] =
    "SELECT (SELECT COUNT(*) FROM webhook_messages WHERE tenant_id = ?1 AND webhook_id = ?2 "
    "AND state = 'pending'), (SELECT COUNT(*) FROM webhook_messages WHERE tenant_id = ?1 "
    "AND webhook_id = ?2 AND state = 'dead')";

static void read_message_row(struct stmt *st, struct store_webhook_message *m)
{
    memset(m, 0, sizeof(*m));
    rec_col_copy(st, 0, m->tenant_id, sizeof(m->tenant_id));
    rec_col_copy(st, 1, m->webhook_id, sizeof(m->webhook_id));
    m->seq = stmt_col_int(st, 2);
    rec_col_copy(st, 3, m->event_id, sizeof(m->event_id));
    rec_col_copy(st, 4, m->subject, sizeof(m->subject));
    rec_col_copy(st, 5, m->jti, sizeof(m->jti));
    rec_col_copy(st, 6, m->state, sizeof(m->state));
    m->attempts = stmt_col_int(st, 7);
    rec_col_copy(st, 8, m->next_at, sizeof(m->next_at));
    m->last_status = stmt_col_int(st, 9);
    rec_col_copy(st, 10, m->last_error, sizeof(m->last_error));
    rec_col_copy(st, 11, m->created_at, sizeof(m->created_at));
    rec_col_copy(st, 12, m->delivered_at, sizeof(m->delivered_at));
}

static enum status read_message(struct stmt *st, void *out)
{
    read_message_row(st, out);
    return OK;
}

static enum status each_message(struct stmt *st, rec_any_fn fn, void *ctx)
{
    struct store_webhook_message m;
    read_message_row(st, &m);
    return ((store_webhook_message_fn)fn)(ctx, &m);
}

static enum status message_insert(struct store_tx *tx, const char *sql,
                                  const struct store_webhook_message *m)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, sql, 0, "queue webhook message", &st);
    if (rc != OK)
        return rc;
    char now[STORE_TIME_LEN];
    stmt_text(st, m->tenant_id);
    stmt_text(st, m->webhook_id);
    stmt_int(st, m->seq);
    stmt_text(st, m->event_id);
    stmt_text(st, m->subject);
    stmt_text(st, m->jti);
    stmt_text(st, rec_time_or_now(m->next_at, now));
    stmt_text(st, rec_time_or_now(m->created_at, now));
    return rec_done(st);
}

enum status store_webhook_message_add(struct store_tx *tx, const struct store_webhook_message *m)
{
    return message_insert(tx, SQL_MESSAGE_ADD, m);
}

enum status store_webhook_message_requeue(struct store_tx *tx,
                                          const struct store_webhook_message *m)
{
    return message_insert(tx, SQL_MESSAGE_REQUEUE, m);
}

static enum status message_rows(struct store_tx *tx, const char *sql, const char *tenant_id,
                                const char *webhook_id, const char *text, size_t limit,
                                store_webhook_message_fn fn, void *ctx)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, sql, 0, "read webhook messages", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, tenant_id);
    stmt_text(st, webhook_id);
    stmt_text(st, text);
    stmt_int(st, (int64_t)limit);
    return rec_rows(st, each_message, (rec_any_fn)fn, ctx);
}

enum status store_webhook_message_each(struct store_tx *tx, const char *tenant_id,
                                       const char *webhook_id, const char *state, size_t limit,
                                       store_webhook_message_fn fn, void *ctx)
{
    return message_rows(tx, SQL_MESSAGE_EACH, tenant_id, webhook_id, state, limit, fn, ctx);
}

enum status store_webhook_message_due_each(struct store_tx *tx, const char *tenant_id,
                                           const char *webhook_id, const char *now, size_t limit,
                                           store_webhook_message_fn fn, void *ctx)
{
    return message_rows(tx, SQL_MESSAGE_DUE, tenant_id, webhook_id, now, limit, fn, ctx);
}

enum status store_webhook_message_update(struct store_tx *tx, const struct store_webhook_message *m)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_MESSAGE_UPDATE, 0, "update webhook message", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, m->state);
    stmt_int(st, m->attempts);
    stmt_text(st, m->next_at);
    stmt_int(st, m->last_status);
    stmt_opt(st, m->last_error);
    stmt_opt(st, m->delivered_at);
    stmt_text(st, m->tenant_id);
    stmt_text(st, m->webhook_id);
    stmt_int(st, m->seq);
    return rec_done_one(st);
}

enum status store_webhook_message_by_jti(struct store_tx *tx, const char *tenant_id,
                                         const char *webhook_id, const char *jti,
                                         struct store_webhook_message *out)
{
    const char *keys[] = { tenant_id, webhook_id, jti };
    return rec_find(tx, SQL_MESSAGE_BY_JTI, keys, 3, read_message, out, "find webhook message");
}

enum status store_webhook_message_prune(struct store_tx *tx, const char *tenant_id,
                                        const char *webhook_id, int64_t position)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_MESSAGE_PRUNE, 0, "prune webhook messages", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, tenant_id);
    stmt_text(st, webhook_id);
    stmt_int(st, position);
    return rec_done(st);
}

enum status store_webhook_message_retry_dead(struct store_tx *tx, const char *tenant_id,
                                             const char *webhook_id, const char *now,
                                             int64_t *n_out)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_MESSAGE_RETRY_DEAD, 0, "retry webhook messages", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, tenant_id);
    stmt_text(st, webhook_id);
    stmt_text(st, now);
    rc = stmt_exec(st);
    if (n_out)
        *n_out = rc == OK ? stmt_changes(st) : 0;
    stmt_finish(st);
    return rc;
}

static enum status read_counts(struct stmt *st, void *out)
{
    struct store_webhook_counts *c = out;
    c->pending = stmt_col_int(st, 0);
    c->dead = stmt_col_int(st, 1);
    return OK;
}

enum status store_webhook_counts_get(struct store_tx *tx, const char *tenant_id,
                                     const char *webhook_id, struct store_webhook_counts *out)
{
    const char *keys[] = { tenant_id, webhook_id };
    return rec_find(tx, SQL_MESSAGE_COUNTS, keys, 2, read_counts, out, "count webhook messages");
}

/* ---- delivery attempts ----------------------------------------------------------------------- */

#define ATTEMPT_COLUMNS                                                                            \
    "tenant_id, webhook_id, id, at, event_id, attempt, status, outcome, latency_ms, error"
static const char SQL_ATTEMPT_ADD[] =
    "INSERT INTO webhook_attempts (" ATTEMPT_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
/* ids are UUIDv7: in time order */
static const char SQL_ATTEMPT_TRIM[] =
    "DELETE FROM webhook_attempts WHERE tenant_id = ?1 AND webhook_id = ?2 AND id < "
    "(SELECT id FROM webhook_attempts WHERE tenant_id = ?1 AND webhook_id = ?2 "
    "ORDER BY id DESC LIMIT 1 OFFSET ?3)";
static const char SQL_ATTEMPT_EACH[] =
    "SELECT " ATTEMPT_COLUMNS " FROM webhook_attempts WHERE tenant_id = ? AND webhook_id = ? "
    "ORDER BY id DESC LIMIT ?";

enum status store_webhook_attempt_add(struct store_tx *tx, struct store_webhook_attempt *a)
{
    enum status rc = crypto_uuid(a->id);
    if (rc != OK)
        return rc;
    clock_now_iso(a->at);
    struct stmt *st;
    if ((rc = stmt_prepare(tx, SQL_ATTEMPT_ADD, 0, "log webhook attempt", &st)) != OK)
        return rc;
    stmt_text(st, a->tenant_id);
    stmt_text(st, a->webhook_id);
    stmt_text(st, a->id);
    stmt_text(st, a->at);
    stmt_text(st, a->event_id);
    stmt_int(st, a->attempt);
    stmt_int(st, a->status);
    stmt_text(st, a->outcome);
    stmt_int(st, a->latency_ms);
    stmt_opt(st, a->error);
    if ((rc = rec_done(st)) != OK)
        return rc;
    if ((rc = stmt_prepare(tx, SQL_ATTEMPT_TRIM, 0, "trim webhook attempts", &st)) != OK)
        return rc;
    stmt_text(st, a->tenant_id);
    stmt_text(st, a->webhook_id);
    stmt_int(st, STORE_WEBHOOK_LOG_KEEP - 1);
    return rec_done(st);
}

static enum status each_attempt(struct stmt *st, rec_any_fn fn, void *ctx)
{
    struct store_webhook_attempt a;
    memset(&a, 0, sizeof(a));
    rec_col_copy(st, 0, a.tenant_id, sizeof(a.tenant_id));
    rec_col_copy(st, 1, a.webhook_id, sizeof(a.webhook_id));
    rec_col_copy(st, 2, a.id, sizeof(a.id));
    rec_col_copy(st, 3, a.at, sizeof(a.at));
    rec_col_copy(st, 4, a.event_id, sizeof(a.event_id));
    a.attempt = stmt_col_int(st, 5);
    a.status = stmt_col_int(st, 6);
    rec_col_copy(st, 7, a.outcome, sizeof(a.outcome));
    a.latency_ms = stmt_col_int(st, 8);
    rec_col_copy(st, 9, a.error, sizeof(a.error));
    return ((store_webhook_attempt_fn)fn)(ctx, &a);
}

enum status store_webhook_attempt_each(struct store_tx *tx, const char *tenant_id,
                                       const char *webhook_id, size_t limit,
                                       store_webhook_attempt_fn fn, void *ctx)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_ATTEMPT_EACH, 0, "read webhook attempts", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, tenant_id);
    stmt_text(st, webhook_id);
    stmt_int(st, (int64_t)limit);
    return rec_rows(st, each_attempt, (rec_any_fn)fn, ctx);
}

/* ---- the event log -----------------------------------------------------------------------------
 */

static const char SQL_EVENTS[] = "SELECT " SQLGEN_EVENT_COLUMNS " FROM events WHERE tenant_id = ? "
                                 "AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?";
static const char SQL_EVENTS_UNQUEUED[] =
    "SELECT " SQLGEN_EVENT_COLUMNS " FROM events e WHERE tenant_id = ?1 AND seq > ?3 "
    "AND seq <= ?4 AND NOT EXISTS (SELECT 1 FROM webhook_messages m WHERE m.tenant_id = ?1 "
    "AND m.webhook_id = ?2 AND m.seq = e.seq) ORDER BY seq LIMIT ?5";
/* On PostgreSQL also never past a seq a transaction in flight holds (the
 * events horizon of migration 095, read once per statement). */
static const char *const SQL_SETTLED[STMT_DIALECTS] = {
    [STMT_SQLITE] = "SELECT COALESCE(MAX(seq), ?2) FROM events WHERE tenant_id = ?1 AND seq > ?2 "
                    "AND at < ?3",
    [STMT_POSTGRES] = "SELECT COALESCE(MAX(seq), ?2) FROM events WHERE tenant_id = ?1 AND seq > ?2 "
                      "AND at < ?3 AND seq <= (SELECT scimd_event_horizon())",
};
static const char SQL_EVENT_SEQ[] = "SELECT seq FROM events WHERE tenant_id = ? AND id = ?";

enum status store_webhook_events_each(struct store_tx *tx, const char *tenant_id, int64_t after_seq,
                                      int64_t upto_seq, size_t limit, store_event_fn fn, void *ctx)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_EVENTS, 0, "read webhook events", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, tenant_id);
    stmt_int(st, after_seq);
    stmt_int(st, upto_seq);
    stmt_int(st, (int64_t)limit);
    return rec_rows(st, rec_event_row, (rec_any_fn)fn, ctx);
}

enum status store_webhook_events_unqueued_each(struct store_tx *tx, const char *tenant_id,
                                               const char *webhook_id, int64_t after_seq,
                                               int64_t upto_seq, size_t limit, store_event_fn fn,
                                               void *ctx)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_EVENTS_UNQUEUED, 0, "read unqueued events", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, tenant_id);
    stmt_text(st, webhook_id);
    stmt_int(st, after_seq);
    stmt_int(st, upto_seq);
    stmt_int(st, (int64_t)limit);
    return rec_rows(st, rec_event_row, (rec_any_fn)fn, ctx);
}

static enum status read_seq(struct stmt *st, void *out)
{
    *(int64_t *)out = stmt_col_int(st, 0);
    return OK;
}

enum status store_webhook_settled_seq(struct store_tx *tx, const char *tenant_id, int64_t after_seq,
                                      const char *before, int64_t *out)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, stmt_sql(tx, SQL_SETTLED), 0, "settled events", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, tenant_id);
    stmt_int(st, after_seq);
    stmt_text(st, before);
    rc = stmt_step(st);
    if (rc == OK)
        *out = stmt_col_int(st, 0);
    stmt_finish(st);
    return rc;
}

enum status store_webhook_event_seq(struct store_tx *tx, const char *tenant_id,
                                    const char *event_id, int64_t *seq_out)
{
    const char *keys[] = { tenant_id, event_id };
    return rec_find(tx, SQL_EVENT_SEQ, keys, 2, read_seq, seq_out, "find event");
}
