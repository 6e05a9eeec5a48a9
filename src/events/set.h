/*
 * set.h - one Security Event Token (RFC 8417) per scimd event, in the SCIM
 * profile of RFC 9967.
 *
 * The claims: iss (scimd's public URL), iat, jti (unique per SET), aud (the
 * subscription's audience), txn (the scimd event id: the same across retries
 * and across subscriptions, so receivers can deduplicate), sub_id
 * {"format":"scim","uri":"/Users/<id>","externalId":...} (RFC 9967 §2.1) and
 * events keyed by the RFC 9967 §2.4 provisioning URIs: one table maps scimd
 * event types to them.  The compact form is a JWS with header
 * typ "secevent+jwt" (RFC 8417 §2.3), alg RS256 and the key's kid.
 *
 * Does not: generate ids (the caller passes jti, e.g. from crypto_uuid), read
 * events from the store, deliver, or carry attribute values (notices name
 * changed attributes only, so a SET never leaks a password or a PII value).
 * Ownership: inputs are borrowed; returned strings are malloc'd, the caller's.
 * Thread safety: pure functions of their arguments, reentrant.
 */
#ifndef SCIMD_EVENTS_SET_H
#define SCIMD_EVENTS_SET_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "events/signing_keys.h"

#define SET_TYP            "secevent+jwt"
#define SET_CONTENT_TYPE   "application/secevent+jwt" /* RFC 8935 push body */
#define SET_URI_PREFIX     "urn:ietf:params:scim:event:prov:"
#define SET_ATTRIBUTES_MAX 64  /* attribute names one notice lists */
#define SET_ID_MAX         256 /* resource id, externalId, jti, txn: characters */

/* One scimd event as a SET describes it. */
struct set_event {
    const char *type;        /* scimd event type, e.g. "scim_user_deactivated" */
    const char *event_id;    /* becomes txn: stable across retries */
    const char *resource_id; /* the User's or Group's id */
    const char *external_id; /* its externalId; NULL when it has none */
    const char *method;      /* the SCIM method for updates: "PUT" gives put:notice, else patch */
    const char *const *attributes; /* changed attribute names for notices; may be NULL */
    size_t n_attributes;
    int64_t iat; /* when the SET is issued, Unix seconds */
};

/* Who issues it, to whom. */
struct set_params {
    const char *issuer;   /* iss: the public base URL of scimd */
    const char *audience; /* aud: the subscription's audience */
    const char *jti;      /* unique per SET (a new one for each subscription) */
};

/*
 * The RFC 9967 event URI for a scimd event type (method as in struct
 * set_event), or NULL when the type has no SCIM provisioning meaning (e.g.
 * "scim_user_adopted"): such events are not sent as SETs.
 */
const char *set_event_uri(const char *type, const char *method);

/*
 * The claims of e as compact JSON with sorted keys (*json malloc'd).
 * ERR_UNSUPPORTED when set_event_uri has nothing for e->type;
 * ERR_INVALID_VALUE for a missing or over-long id, issuer, audience or jti,
 * iat < 0, or more than SET_ATTRIBUTES_MAX attributes.
 */
enum status set_claims(const struct set_event *e, const struct set_params *p, char **json,
                       struct scim_error *err);
/* The claims signed with key as a compact JWS (*compact malloc'd). */
enum status set_sign(const struct set_event *e, const struct set_params *p,
                     const struct signing_key *key, char **compact, struct scim_error *err);

#endif
