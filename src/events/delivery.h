/* SPDX-License-Identifier: Apache-2.0 */
/*
 * delivery.h - the webhook delivery thread: every committed event reaches
 * every subscription that takes it, at least once, in order per subject.
 *
 * Does: for every enabled subscription, reads the tenant's events after its
 * durable position (the outbox) and queues one message row per event it
 * takes (webhook_messages: the row, not memory, is the truth, so a crash or
 * kill -9 loses nothing and re-sends with the same webhook-id / jti); then,
 * for push subscriptions, sends the due messages oldest first, skipping a
 * subject whose earlier message is still waiting (order per subject), on the
 * Svix retry schedule (webhook_policy.h).  `json` messages are signed per
 * Standard Webhooks with the subscription's secret, `set` messages are RFC
 * 8417 SETs signed with the shared key and pushed per RFC 8935.  429/503 with
 * Retry-After pause the subscription; 410 disables it, as do 5 days of
 * failures; a message failing its 8th attempt is a dead letter.  Every
 * attempt goes to the delivery log (`webhook show`).  Poll subscriptions
 * are only queued here: the poll endpoint (poll.h) hands their messages out.
 *
 * Late commits (PostgreSQL takes an event's seq at insert, not at commit):
 * the position moves only over events older than DELIVERY_SETTLE_S; every
 * DELIVERY_WINDOW_MS the events between it and the newest seen that have no
 * message yet are read again.  Several nodes: a subscription is worked by the
 * node holding its lease (DELIVERY_LEASE_S, renewed while it works).
 *
 * Ownership: delivery_start borrows dir, box and key until delivery_stop,
 * which joins the thread and frees everything.  Start and stop from one thread.
 */
#ifndef SCIMD_EVENTS_DELIVERY_H
#define SCIMD_EVENTS_DELIVERY_H

#include <stdbool.h>

#include "core/secretbox.h"
#include "core/status.h"
#include "directory/directory.h"
#include "events/signing_keys.h"

#define DELIVERY_POLL_MS     150   /* idle wait between passes */
#define DELIVERY_SETTLE_S    10    /* older events have committed (capped at the events horizon) */
#define DELIVERY_WINDOW_MS   1000  /* how often the unsettled window is read again */
#define DELIVERY_EVENT_BATCH 500   /* events read per subscription per pass */
#define DELIVERY_SEND_BATCH  100   /* messages looked at per subscription per pass */
#define DELIVERY_WINDOW_MAX  20000 /* unsettled events read again at most */
#define DELIVERY_LEASE_S     10    /* a node killed -9 hands over within this */

struct delivery_config {
    bool allow_private; /* serve --outbound-allow-private */
    unsigned poll_ms;   /* 0: DELIVERY_POLL_MS */
    long retry_base_ms; /* the schedule's 5 s, scaled (serve --webhook-retry-ms); 0: 5000 */
    const char *node;   /* who holds leases: stable across restarts of the same node */
};

struct delivery;

/* Start the thread.  box (NULL: json subscriptions wait with a clear
 * last_error) opens secrets; key (NULL: set subscriptions wait) signs SETs. */
enum status delivery_start(struct directory *dir, const struct secretbox *box,
                           const struct signing_key *key, const struct delivery_config *cfg,
                           struct delivery **out, struct scim_error *err);
/* Stop after the request in flight, join, free.  NULL is a no-op. */
void delivery_stop(struct delivery *d);

#endif
