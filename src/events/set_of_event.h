/* SPDX-License-Identifier: Apache-2.0 */
/*
 * set_of_event.h - the signed SET (set.h) of one stored event for one
 * subscription: the event's type, id and subject, and for updates the SCIM
 * method and changed attribute names its summary records.  Used by push
 * delivery (delivery.c) and the poll endpoint (poll.c), so both send the
 * same token for the same message.
 *
 * Ownership: *compact is malloc'd, the caller's.  Reentrant.
 */
#ifndef SCIMD_EVENTS_SET_OF_EVENT_H
#define SCIMD_EVENTS_SET_OF_EVENT_H

#include "events/signing_keys.h"
#include "store/store_webhooks.h"

/* The SET of e for subscription w with this jti, issued by issuer (scimd's
 * public URL) and signed with key.  ERR_UNSUPPORTED for an event with no SET
 * meaning; ERR_FORBIDDEN without a key. */
enum status set_of_event(const struct store_webhook *w, const struct store_event *e,
                         const char *jti, const char *issuer, const struct signing_key *key,
                         char **compact, struct scim_error *err);

#endif
