/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_webhooks.h - the store's webhook records (rec_webhooks.c): event
 * subscriptions of a tenant, the messages waiting for each, the log of
 * delivery attempts, and the reads of the event log a subscription makes.
 *
 * Kept beside store.h (same rules: typed records, statuses, one transaction
 * per thread) so the webhook section stays in one place.  A subscription's
 * secret is sealed text (core/secretbox), its poll bearer only a SHA-256.
 * Message rows are keyed by (tenant, webhook, event seq): adding one twice
 * is harmless, so re-reading part of the log never queues an event twice.
 */
#ifndef SCIMD_STORE_STORE_WEBHOOKS_H
#define SCIMD_STORE_STORE_WEBHOOKS_H

#include "store/store.h"

#define STORE_WEBHOOK_EVENTS_MAX 1024 /* the --events filter as text */
#define STORE_WEBHOOK_LOG_KEEP   100  /* delivery attempts kept per subscription */

struct store_webhook {
    char tenant_id[STORE_ID_LEN];
    char id[STORE_ID_LEN];
    char url[STORE_URL_MAX];                     /* "" for a poll subscription */
    char format[STORE_STATUS_LEN];               /* "json" | "set" */
    char delivery[STORE_STATUS_LEN];             /* "push" | "poll" */
    char events[STORE_WEBHOOK_EVENTS_MAX];       /* "" all; else "type,prefix_*,..." */
    char audience[STORE_URL_MAX];                /* aud of its SETs */
    char *secret;                                /* heap: sealed whsec_ secret, NULL when none */
    char poll_token_hash[CRYPTO_SHA256_HEX_LEN]; /* "" unless delivery is poll */
    char state[STORE_STATUS_LEN];                /* "enabled" | "disabled" */
    char disabled_reason[STORE_ERROR_MAX];       /* "" while enabled */
    char failing_since[STORE_TIME_LEN];          /* first failure since the last success, or "" */
    char paused_until[STORE_TIME_LEN];           /* Retry-After, or "" */
    char last_success_at[STORE_TIME_LEN];
    char last_error[STORE_ERROR_MAX];
    int64_t position; /* every event up to it has its message row */
    char created_at[STORE_TIME_LEN];
    char updated_at[STORE_TIME_LEN];
};
void store_webhook_release(struct store_webhook *w);
enum status store_webhook_insert(struct store_tx *tx, const struct store_webhook *w);
/* By id (tenant_id NULL: any tenant), with its sealed secret; ERR_NOT_FOUND. */
enum status store_webhook_get(struct store_tx *tx, const char *tenant_id, const char *id,
                              struct store_webhook *out);
typedef enum status (*store_webhook_fn)(void *ctx, const struct store_webhook *w);
/* tenant_id NULL: every subscription.  Lists carry no secret. */
enum status store_webhook_each(struct store_tx *tx, const char *tenant_id, store_webhook_fn fn,
                               void *ctx);
/* Write state, disabled_reason, paused_until, failing_since and updated_at. */
enum status store_webhook_set_state(struct store_tx *tx, const struct store_webhook *w);
/* The delivery's bookkeeping: paused_until, failing_since, last_success_at,
 * last_error and position (never state, so an admin's disable stays). */
enum status store_webhook_progress(struct store_tx *tx, const struct store_webhook *w);
/* Only last_success_at and last_error (the poll endpoint: it runs beside the
 * delivery thread, whose position it must not move back). */
enum status store_webhook_note(struct store_tx *tx, const struct store_webhook *w);
/* The subscription with its messages and attempts; ERR_NOT_FOUND. */
enum status store_webhook_delete(struct store_tx *tx, const char *tenant_id, const char *id);
/* Take or renew the delivery lease of a subscription for owner until `until`
 * when it is free, expired (lease_until < now) or owner's already;
 * ERR_CONFLICT when another node holds it. */
enum status store_webhook_lease(struct store_tx *tx, const char *tenant_id, const char *id,
                                const char *owner, const char *now, const char *until);

/* One event waiting for one subscription. */
struct store_webhook_message {
    char tenant_id[STORE_ID_LEN];
    char webhook_id[STORE_ID_LEN];
    int64_t seq;
    char event_id[STORE_ID_LEN];
    char subject[STORE_ID_LEN];   /* "" when the event has none */
    char jti[STORE_ID_LEN];       /* the SET's jti, the same on every retry */
    char state[STORE_STATUS_LEN]; /* "pending" | "delivered" | "dead" */
    int64_t attempts;
    char next_at[STORE_TIME_LEN];
    int64_t last_status; /* HTTP status of the last attempt, 0 when none */
    char last_error[STORE_ERROR_MAX];
    char created_at[STORE_TIME_LEN];
    char delivered_at[STORE_TIME_LEN];
};
/* Queue m (state pending) unless the event is queued for it already. */
enum status store_webhook_message_add(struct store_tx *tx, const struct store_webhook_message *m);
/* Queue m again from scratch (pending, no attempts, due at m->next_at),
 * whatever became of it; a new row when there is none. */
enum status store_webhook_message_requeue(struct store_tx *tx,
                                          const struct store_webhook_message *m);
typedef enum status (*store_webhook_message_fn)(void *ctx, const struct store_webhook_message *m);
/* Messages of a subscription in state, oldest event first, at most limit. */
enum status store_webhook_message_each(struct store_tx *tx, const char *tenant_id,
                                       const char *webhook_id, const char *state, size_t limit,
                                       store_webhook_message_fn fn, void *ctx);
/* Pending messages due at or before now (poll: not handed out, or handed out
 * and not acknowledged in time), oldest first, at most limit. */
enum status store_webhook_message_due_each(struct store_tx *tx, const char *tenant_id,
                                           const char *webhook_id, const char *now, size_t limit,
                                           store_webhook_message_fn fn, void *ctx);
/* Write state, attempts, next_at, last_status, last_error and delivered_at. */
enum status store_webhook_message_update(struct store_tx *tx,
                                         const struct store_webhook_message *m);
/* The message with this jti; ERR_NOT_FOUND. */
enum status store_webhook_message_by_jti(struct store_tx *tx, const char *tenant_id,
                                         const char *webhook_id, const char *jti,
                                         struct store_webhook_message *out);
/* Forget delivered messages of events at or before position. */
enum status store_webhook_message_prune(struct store_tx *tx, const char *tenant_id,
                                        const char *webhook_id, int64_t position);
/* Dead messages pending again, due at now; *n_out how many. */
enum status store_webhook_message_retry_dead(struct store_tx *tx, const char *tenant_id,
                                             const char *webhook_id, const char *now,
                                             int64_t *n_out);
struct store_webhook_counts {
    int64_t pending, dead;
};
enum status store_webhook_counts_get(struct store_tx *tx, const char *tenant_id,
                                     const char *webhook_id, struct store_webhook_counts *out);

/* One delivery attempt, for `webhook show`. */
struct store_webhook_attempt {
    char tenant_id[STORE_ID_LEN];
    char webhook_id[STORE_ID_LEN];
    char id[STORE_ID_LEN];
    char at[STORE_TIME_LEN];
    char event_id[STORE_ID_LEN];
    int64_t attempt;
    int64_t status;                 /* HTTP status, 0 when no answer */
    char outcome[STORE_STATUS_LEN]; /* "delivered" | "failed" | "rejected" | "gone" | ... */
    int64_t latency_ms;
    char error[STORE_ERROR_MAX];
};
/* Record a (its id and at filled in) and keep the newest STORE_WEBHOOK_LOG_KEEP. */
enum status store_webhook_attempt_add(struct store_tx *tx, struct store_webhook_attempt *a);
typedef enum status (*store_webhook_attempt_fn)(void *ctx, const struct store_webhook_attempt *a);
/* Newest first, at most limit. */
enum status store_webhook_attempt_each(struct store_tx *tx, const char *tenant_id,
                                       const char *webhook_id, size_t limit,
                                       store_webhook_attempt_fn fn, void *ctx);

/* ---- the event log as a subscription reads it ---------------------------------------- */
/* Events of a tenant with after_seq < seq <= upto_seq, oldest first, at most limit. */
enum status store_webhook_events_each(struct store_tx *tx, const char *tenant_id, int64_t after_seq,
                                      int64_t upto_seq, size_t limit, store_event_fn fn, void *ctx);
/* The same, leaving out events the subscription has a message for (late commits). */
enum status store_webhook_events_unqueued_each(struct store_tx *tx, const char *tenant_id,
                                               const char *webhook_id, int64_t after_seq,
                                               int64_t upto_seq, size_t limit, store_event_fn fn,
                                               void *ctx);
/* The highest seq after after_seq of the tenant's events written before
 * `before` (ISO time); after_seq when there is none.  On PostgreSQL also at
 * most the events horizon (store_event_horizon) as this statement reads it:
 * never past a seq a transaction still open holds, however old.  (Read after
 * the caller's snapshot, so a transaction that commits between the two and
 * is older than `before` could still be passed: a window of the caller's own
 * statements, not of the other's run time.) */
enum status store_webhook_settled_seq(struct store_tx *tx, const char *tenant_id, int64_t after_seq,
                                      const char *before, int64_t *out);
/* The event with this id of the tenant; ERR_NOT_FOUND. */
enum status store_webhook_event_seq(struct store_tx *tx, const char *tenant_id,
                                    const char *event_id, int64_t *seq_out);

#endif
