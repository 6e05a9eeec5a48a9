/* SPDX-License-Identifier: Apache-2.0 */
/*
 * webhook_policy.h - the rules of webhook delivery as data: which events a
 * subscription takes (its --events filter), when a failed message is tried
 * again (the Svix schedule), and what an answer means for the message and
 * for the subscription.
 *
 * Schedule (attempts are counted from 1): immediately, then 5 s, 5 min,
 * 30 min, 2 h, 5 h, 10 h and 10 h after the previous failure; a message still
 * failing after the 8th attempt is a dead letter.  Every delay is scaled by
 * base_ms / 5000 (serve --webhook-retry-ms; tests shrink it), jitter +-10%.
 * A subscription whose messages have failed for WEBHOOK_DISABLE_AFTER_S
 * without a success in between is disabled.
 *
 * Pure functions, reentrant; no I/O.
 */
#ifndef SCIMD_EVENTS_WEBHOOK_POLICY_H
#define SCIMD_EVENTS_WEBHOOK_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"

#define WEBHOOK_ATTEMPTS_MAX    8
#define WEBHOOK_RETRY_BASE_MS   5000            /* the schedule's first retry, unscaled */
#define WEBHOOK_DISABLE_AFTER_S (5 * 24 * 3600) /* failing this long disables */
#define WEBHOOK_EVENTS_TEXT_MAX 1023            /* the filter as text */

/* What an attempt's answer means. */
enum webhook_outcome {
    WEBHOOK_DELIVERED, /* 2xx (set push: 202, or any 2xx) */
    WEBHOOK_RETRY,     /* no answer, 5xx, 408, 429 and other 4xx: try again on the schedule */
    WEBHOOK_REJECTED,  /* set push: 400 with an RFC 8935 error body: never retried */
    WEBHOOK_GONE,      /* 410: the receiver wants no more; the subscription is disabled */
};

/* Delay before attempt `attempts + 1` after `attempts` failures (1..7), in
 * ms, scaled to base_ms (0: WEBHOOK_RETRY_BASE_MS) with jitter; -1 when
 * attempts has reached WEBHOOK_ATTEMPTS_MAX (dead letter). */
int64_t webhook_retry_delay_ms(int64_t attempts, long base_ms);

/* The meaning of HTTP status for a subscription of format "json" or "set";
 * rfc8935_error: the body was a parseable {"err":...} (set only). */
enum webhook_outcome webhook_outcome_of(const char *format, long status, bool rfc8935_error);

/*
 * Check and normalise an --events filter: comma-separated event types
 * ([a-z0-9_]), each may end in '*' (a prefix); spaces around commas dropped.
 * "" or NULL means every event.  ERR_INVALID_VALUE with a message.
 */
enum status webhook_events_normalise(const char *text, char out[WEBHOOK_EVENTS_TEXT_MAX + 1],
                                     struct scim_error *err);
/* Does a normalised filter take events of this type? */
bool webhook_events_match(const char *filter, const char *type);

#endif
