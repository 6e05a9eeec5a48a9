/*
 * webhook_payload.h - the body of a `json` format webhook: one scimd event
 * as JSON, in the Standard Webhooks payload shape (type, timestamp, data)
 * with the rest of what scimd knows of the event beside it:
 *
 *   {"id":…,"type":"scim_user_updated","timestamp":"2026-…Z","tenant":…,
 *    "idp":…,"actor":…,"subject":…,"data":{…the event's summary…}}
 *
 * id is the event id: receivers deduplicate on it (it is also the
 * webhook-id).  Members scimd does not know (no tenant, no subject) are
 * null; data is {} when the event has no summary.  Bodies stay under
 * WEBHOOK_PAYLOAD_MAX (the Standard Webhooks advice).
 *
 * Does not: sign (webhook_sign does), read the store, or add attribute
 * values beyond what the event's summary already holds (names of changed
 * attributes, never values).  Ownership: *json is malloc'd, the caller's.
 * Thread safety: reentrant.
 */
#ifndef SCIMD_EVENTS_WEBHOOK_PAYLOAD_H
#define SCIMD_EVENTS_WEBHOOK_PAYLOAD_H

#include "core/status.h"
#include "store/store.h"

#define WEBHOOK_PAYLOAD_MAX (20 * 1024) /* bytes of one body */

/*
 * The payload of e.  ERR_INVALID_VALUE when e has no id or type, or its
 * summary is not a JSON object; ERR_TOO_LARGE when the body would exceed
 * WEBHOOK_PAYLOAD_MAX; ERR_NOMEM.
 */
enum status webhook_payload_json(const struct store_event *e, char **json, struct scim_error *err);

#endif
