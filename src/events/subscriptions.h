/* SPDX-License-Identifier: Apache-2.0 */
/*
 * subscriptions.h - webhook subscriptions of a tenant: create (the secret
 * or poll bearer made here and shown once), enable / disable, delete, replay,
 * and which events a subscription takes.
 *
 * Three kinds: `json` pushed to a URL and signed per Standard Webhooks with
 * a whsec_ secret (sealed with the key file, core/secretbox); `set` pushed
 * per RFC 8935 (signed RS256, nothing secret to share: receivers use the
 * JWKS); `set` polled per RFC 8936 (no URL: the receiver polls
 * /events/v1/poll/<id> with a bearer scimd keeps only as a SHA-256).  A new
 * subscription starts at the end of the event log.  Every change and its
 * audit event (webhook_created, ...) commit together.  Events name the
 * subscription, never its secret or URL.
 *
 * Thread safety: every call is independent (one store transaction each).
 */
#ifndef SCIMD_EVENTS_SUBSCRIPTIONS_H
#define SCIMD_EVENTS_SUBSCRIPTIONS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/crypto.h"
#include "core/secretbox.h"
#include "directory/directory.h"
#include "events/webhook_sign.h"
#include "store/store_webhooks.h"

#define WEBHOOK_SECRET_OWNER "webhook:%s:secret" /* secretbox owner of a subscription */
#define WEBHOOK_POLL_PATH    "/events/v1/poll/"

struct webhook_new {
    const char *tenant_key; /* tenant id, name or subdomain */
    const char *url;        /* push target; NULL with poll */
    const char *format;     /* "json" (default, NULL) or "set" */
    bool poll;              /* RFC 8936 poll instead of push (set only) */
    const char *events;     /* filter (webhook_policy.h), NULL: every event */
    const char *audience;   /* aud of SETs; NULL: the URL (push) or the poll URL */
};

/* What a new subscription's receiver needs, shown once. */
struct webhook_credential {
    char secret[WEBHOOK_SECRET_TEXT_MAX]; /* json: whsec_...; else "" */
    char poll_token[CRYPTO_TOKEN_LEN];    /* poll: the bearer; else "" */
};

/* Create a subscription; box seals a json secret (may be NULL otherwise).
 * out has no secret; cred holds what to show once (wipe it after). */
enum status webhooks_create(struct directory *dir, const struct secretbox *box,
                            const struct webhook_new *nw, const struct actor *by,
                            struct store_webhook *out, struct webhook_credential *cred,
                            struct scim_error *err);
/* Enabling also forgets a pause and the failure streak (webhook_enabled / _disabled). */
enum status webhooks_set_enabled(struct directory *dir, const char *id, bool enabled,
                                 const struct actor *by, const struct directory_guard *guard,
                                 struct scim_error *err);
enum status webhooks_delete(struct directory *dir, const char *id, const struct actor *by,
                            const struct directory_guard *guard, struct scim_error *err);
/* Queue again every event the subscription takes from event from_event_id on
 * (even delivered ones), and/or (dead) its dead letters; *n_out how many. */
enum status webhooks_replay(struct directory *dir, const char *id, const char *from_event_id,
                            bool dead, const struct actor *by, int64_t *n_out,
                            struct scim_error *err);

/* The subscription as the CLI and the admin API show it (never its secret). */
json_t *webhooks_json(const struct store_webhook *w);
/* webhooks_json of w with "counts" {pending, dead}, "deliveries" (the newest
 * log_max attempts) and "dead_letters" (at most dead_max), read in tx. */
enum status webhooks_detail_json(struct store_tx *tx, const struct store_webhook *w, size_t log_max,
                                 size_t dead_max, json_t **out);

/* Does subscription w take event e (its filter, for `set` a SET meaning; never
 * the events about w itself)? */
bool webhooks_takes(const struct store_webhook *w, const struct store_event *e);
/* The message row of e for w, due now, with a new jti. */
enum status webhooks_message_of(const struct store_webhook *w, const struct store_event *e,
                                struct store_webhook_message *out);

#endif
