/* SPDX-License-Identifier: Apache-2.0 */
/*
 * poll.h - RFC 8936 poll delivery: POST /events/v1/poll/<subscription-id>
 * with the subscription's bearer (the poll token printed once by `webhook
 * create --poll`; scimd keeps only its SHA-256).
 *
 * One call applies the acknowledgements ("ack": delivered) and errors
 * ("setErrs": the SET becomes a dead letter with the receiver's err and
 * description) in one transaction, then answers up to maxEvents queued SETs
 * oldest first with moreAvailable.  A SET handed out and not acknowledged
 * within POLL_REDELIVER_S is handed out again, with the same jti and txn (at
 * least once).  Without returnImmediately, a poll with nothing to answer
 * waits until a SET is queued or POLL_WAIT_MAX_MS pass (long poll); it holds
 * an HTTP worker thread meanwhile, so at most POLL_WAITERS_MAX wait at once
 * and the rest answer at once (the RFC lets the transmitter decide).
 *
 * Answers are JSON: 200 {"sets":{jti:SET},"moreAvailable":b}; 400
 * {"err":"invalid_request","description":…}; 401 for an unknown
 * subscription or a wrong bearer (alike, so ids cannot be probed); 403
 * {"err":"access_denied"} while the subscription is disabled.
 *
 * Thread safety: any number of calls at once (the store serialises them).
 */
#ifndef SCIMD_EVENTS_POLL_H
#define SCIMD_EVENTS_POLL_H

#include <stdbool.h>
#include <stddef.h>

#include "directory/directory.h"
#include "events/signing_keys.h"

#define POLL_REDELIVER_S  30    /* an unacknowledged SET is offered again after this */
#define POLL_WAIT_MAX_MS  20000 /* longest long poll */
#define POLL_WAIT_STEP_MS 100   /* how often a long poll looks for new SETs */
#define POLL_WAITERS_MAX  8     /* long polls waiting at once */

struct poll_answer {
    int status;
    char *body; /* malloc'd JSON */
    bool unauthorized;
};

/* Answer one poll of subscription id with the Authorization header given. */
void poll_answer(struct directory *dir, const struct signing_key *key, const char *id,
                 const char *authorization, const char *body, size_t body_len,
                 struct poll_answer *out);

#endif
