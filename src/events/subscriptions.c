/* SPDX-License-Identifier: Apache-2.0 */
/*
 * subscriptions.c - this file contains the admin side of webhook
 * subscriptions: create, enable/disable, delete and replay, each with its
 * audit event in the same transaction (subscriptions.h).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/str.h"
#include "events/set.h"
#include "events/subscriptions.h"
#include "events/webhook_policy.h"

#define REPLAY_BATCH 500

static enum status end_tx(struct store_tx *tx, enum status rc, struct scim_error *err)
{
    return directory_end_change(tx, rc, "the webhook change could not be saved", err);
}

/* Append an admin event about subscription w; summary (may be NULL) is taken. */
static enum status webhook_event(struct store_tx *tx, const struct actor *by,
                                 const struct store_webhook *w, const char *type, json_t *summary)
{
    char *text = summary ? json_dumps(summary, JSON_COMPACT) : NULL;
    json_decref(summary);
    struct store_event ev = {
        .tenant_id = w->tenant_id,
        .type = type,
        .actor = by && by->name ? by->name : "cli",
        .subject_id = w->id,
        .summary = text,
        .source = by ? by->source : NULL,
    };
    enum status rc = store_event_append(tx, &ev);
    free(text);
    return rc;
}

/* An http(s) URL without credentials, spaces or control characters. */
static enum status check_url(const char *what, const char *url, struct scim_error *err)
{
    size_t n = url ? strlen(url) : 0;
    if (n == 0)
        return scim_error_set(err, ERR_INVALID_VALUE, "%s must not be empty", what);
    if (n >= STORE_URL_MAX)
        return scim_error_set(err, ERR_INVALID_VALUE, "%s is longer than %d bytes", what,
                              STORE_URL_MAX - 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c >= 0x7f)
            return scim_error_set(err, ERR_INVALID_VALUE,
                                  "%s must be ASCII without spaces or control characters", what);
    }
    const char *rest = str_istarts(url, "https://")  ? url + 8
                       : str_istarts(url, "http://") ? url + 7
                                                     : NULL;
    if (rest == NULL || *rest == '\0' || *rest == '/')
        return scim_error_set(err, ERR_INVALID_VALUE, "%s must be http(s)://host/...", what);
    const char *end = rest + strcspn(rest, "/?#");
    if (memchr(rest, '@', (size_t)(end - rest)) != NULL)
        return scim_error_set(err, ERR_INVALID_VALUE, "%s must not carry credentials", what);
    if (strchr(url, '#') != NULL)
        return scim_error_set(err, ERR_INVALID_VALUE, "%s must not have a fragment", what);
    return OK;
}

static enum status check_new(const struct webhook_new *nw, struct store_webhook *w,
                             struct scim_error *err)
{
    const char *format = nw->format ? nw->format : "json";
    if (strcmp(format, "json") != 0 && strcmp(format, "set") != 0)
        return scim_error_set(err, ERR_INVALID_VALUE, "format must be json or set");
    if (nw->poll && strcmp(format, "set") != 0)
        return scim_error_set(err, ERR_INVALID_VALUE, "only the set format can be polled");
    if (nw->poll && nw->url)
        return scim_error_set(err, ERR_INVALID_VALUE, "a poll subscription has no url");
    enum status rc = OK;
    if (!nw->poll && (rc = check_url("url", nw->url, err)) != OK)
        return rc;
    if (nw->audience && (rc = check_url("audience", nw->audience, err)) != OK)
        return rc;
    char events[WEBHOOK_EVENTS_TEXT_MAX + 1];
    if ((rc = webhook_events_normalise(nw->events, events, err)) != OK)
        return rc;
    str_copy(w->format, sizeof(w->format), format);
    str_copy(w->delivery, sizeof(w->delivery), nw->poll ? "poll" : "push");
    str_copy(w->events, sizeof(w->events), events);
    if (nw->url)
        str_copy(w->url, sizeof(w->url), nw->url);
    return OK;
}

/* The receiver's credential: a sealed whsec_ secret (json) or a poll bearer's hash. */
static enum status make_credential(const struct secretbox *box, struct store_webhook *w,
                                   struct webhook_credential *cred, struct scim_error *err)
{
    enum status rc;
    if (strcmp(w->format, "json") == 0) {
        if (box == NULL)
            return scim_error_set(err, ERR_FORBIDDEN,
                                  "no key file to seal the webhook secret (see --key-file)");
        if ((rc = webhook_secret_generate(cred->secret)) != OK)
            return scim_error_set(err, rc, "no randomness available");
        char owner[64];
        snprintf(owner, sizeof(owner), WEBHOOK_SECRET_OWNER, w->id);
        if ((rc = secretbox_seal(box, owner, cred->secret, &w->secret)) != OK)
            return scim_error_set(err, rc, "could not seal the webhook secret");
    } else if (strcmp(w->delivery, "poll") == 0) {
        if ((rc = crypto_token_new(cred->poll_token)) != OK)
            return scim_error_set(err, rc, "no randomness available");
        crypto_sha256_hex(cred->poll_token, strlen(cred->poll_token), w->poll_token_hash);
    }
    return OK;
}

enum status webhooks_create(struct directory *dir, const struct secretbox *box,
                            const struct webhook_new *nw, const struct actor *by,
                            struct store_webhook *out, struct webhook_credential *cred,
                            struct scim_error *err)
{
    scim_error_clear(err);
    memset(out, 0, sizeof(*out));
    memset(cred, 0, sizeof(*cred));
    enum status rc = check_new(nw, out, err);
    if (rc != OK)
        return rc;
    if ((rc = crypto_uuid(out->id)) != OK)
        return scim_error_set(err, rc, "no randomness available");
    if (nw->audience)
        str_copy(out->audience, sizeof(out->audience), nw->audience);
    else if (nw->poll)
        snprintf(out->audience, sizeof(out->audience), "%s" WEBHOOK_POLL_PATH "%s", dir->public_url,
                 out->id);
    else
        str_copy(out->audience, sizeof(out->audience), out->url);
    if ((rc = make_credential(box, out, cred, err)) != OK)
        goto fail;
    str_copy(out->state, sizeof(out->state), "enabled");
    clock_now_iso(out->created_at);
    str_copy(out->updated_at, sizeof(out->updated_at), out->created_at);

    struct store_tx *tx = NULL;
    if ((rc = store_begin(dir->store, true, &tx)) != OK) {
        scim_error_set(err, rc, "database unavailable");
        goto fail;
    }
    struct store_tenant tenant;
    rc = directory_tenant_find(tx, nw->tenant_key, &tenant, err);
    if (rc == OK) {
        str_copy(out->tenant_id, sizeof(out->tenant_id), tenant.id);
        rc = webhook_event(tx, by, out, "webhook_created",
                           json_pack("{s:s,s:s,s:s}", "format", out->format, "delivery",
                                     out->delivery, "events", out->events));
    }
    if (rc == OK) /* from the events after its own creation on */
        rc = store_event_last_seq(tx, &out->position);
    if (rc == OK)
        rc = store_webhook_insert(tx, out);
    rc = end_tx(tx, rc, err);
    if (rc != OK)
        goto fail;
    store_webhook_release(out); /* sealed, but callers have no use for it */
    return OK;
fail:
    store_webhook_release(out);
    memset(cred, 0, sizeof(*cred));
    return rc;
}

/* Begin a write transaction, run guard and read subscription id in it; on
 * failure the transaction is over and err says why. */
static enum status begin_change(struct directory *dir, const char *id,
                                const struct directory_guard *guard, struct store_tx **tx,
                                struct store_webhook *w, struct scim_error *err)
{
    scim_error_clear(err);
    memset(w, 0, sizeof(*w));
    enum status rc = directory_begin_change(dir, guard, tx, err);
    if (rc != OK)
        return rc;
    rc = store_webhook_get(*tx, NULL, id ? id : "", w);
    if (rc == ERR_NOT_FOUND)
        scim_error_set(err, rc, "no webhook '%.64s'", id ? id : "");
    if (rc != OK)
        return end_tx(*tx, rc, err);
    store_webhook_release(w);
    return OK;
}

enum status webhooks_set_enabled(struct directory *dir, const char *id, bool enabled,
                                 const struct actor *by, const struct directory_guard *guard,
                                 struct scim_error *err)
{
    struct store_tx *tx;
    struct store_webhook w;
    enum status rc = begin_change(dir, id, guard, &tx, &w, err);
    if (rc != OK)
        return rc;
    str_copy(w.state, sizeof(w.state), enabled ? "enabled" : "disabled");
    str_copy(w.disabled_reason, sizeof(w.disabled_reason), enabled ? "" : "disabled by an admin");
    if (enabled) {
        w.paused_until[0] = '\0';
        w.failing_since[0] = '\0';
    }
    clock_now_iso(w.updated_at);
    rc = store_webhook_set_state(tx, &w);
    if (rc == OK)
        rc = webhook_event(tx, by, &w, enabled ? "webhook_enabled" : "webhook_disabled", NULL);
    return end_tx(tx, rc, err);
}

enum status webhooks_delete(struct directory *dir, const char *id, const struct actor *by,
                            const struct directory_guard *guard, struct scim_error *err)
{
    struct store_tx *tx;
    struct store_webhook w;
    enum status rc = begin_change(dir, id, guard, &tx, &w, err);
    if (rc != OK)
        return rc;
    rc = store_webhook_delete(tx, w.tenant_id, w.id);
    if (rc == OK)
        rc = webhook_event(tx, by, &w, "webhook_deleted", NULL);
    return end_tx(tx, rc, err);
}

bool webhooks_takes(const struct store_webhook *w, const struct store_event *e)
{
    /* never its own events: a dead letter's event would fail like it, and so on */
    if (e->subject_id && strcmp(e->subject_id, w->id) == 0)
        return false;
    if (!webhook_events_match(w->events, e->type))
        return false;
    return strcmp(w->format, "set") != 0 || set_event_uri(e->type, NULL) != NULL;
}

enum status webhooks_message_of(const struct store_webhook *w, const struct store_event *e,
                                struct store_webhook_message *out)
{
    memset(out, 0, sizeof(*out));
    str_copy(out->tenant_id, sizeof(out->tenant_id), w->tenant_id);
    str_copy(out->webhook_id, sizeof(out->webhook_id), w->id);
    out->seq = e->seq;
    str_copy(out->event_id, sizeof(out->event_id), e->id);
    if (e->subject_id)
        str_copy(out->subject, sizeof(out->subject), e->subject_id);
    clock_now_iso(out->next_at);
    str_copy(out->created_at, sizeof(out->created_at), out->next_at);
    return crypto_uuid(out->jti);
}

struct replay {
    const struct store_webhook *w;
    struct store_tx *tx;
    int64_t last_seq;
    int64_t queued;
    size_t rows;
};

static enum status replay_event(void *ctx, const struct store_event *e)
{
    struct replay *r = ctx;
    r->rows++;
    r->last_seq = e->seq;
    if (!webhooks_takes(r->w, e))
        return OK;
    struct store_webhook_message m;
    enum status rc = webhooks_message_of(r->w, e, &m);
    if (rc == OK)
        rc = store_webhook_message_requeue(r->tx, &m);
    if (rc == OK)
        r->queued++;
    return rc;
}

enum status webhooks_replay(struct directory *dir, const char *id, const char *from_event_id,
                            bool dead, const struct actor *by, int64_t *n_out,
                            struct scim_error *err)
{
    *n_out = 0;
    struct store_tx *tx;
    struct store_webhook w;
    enum status rc = begin_change(dir, id, NULL, &tx, &w, err);
    if (rc != OK)
        return rc;
    struct replay r = { .w = &w, .tx = tx };
    int64_t from_seq = 0, last = 0;
    if (from_event_id) {
        rc = store_webhook_event_seq(tx, w.tenant_id, from_event_id, &from_seq);
        if (rc == ERR_NOT_FOUND)
            scim_error_set(err, rc, "no event '%.64s' in the webhook's tenant", from_event_id);
        if (rc == OK)
            rc = store_event_last_seq(tx, &last);
        r.last_seq = from_seq - 1;
        for (r.rows = REPLAY_BATCH; rc == OK && r.rows == REPLAY_BATCH;) {
            r.rows = 0;
            rc = store_webhook_events_each(tx, w.tenant_id, r.last_seq, last, REPLAY_BATCH,
                                           replay_event, &r);
        }
    }
    int64_t revived = 0;
    if (rc == OK && dead) {
        char now[STORE_TIME_LEN];
        clock_now_iso(now);
        rc = store_webhook_message_retry_dead(tx, w.tenant_id, w.id, now, &revived);
    }
    if (rc == OK)
        rc = webhook_event(tx, by, &w, "webhook_replayed",
                           json_pack("{s:o,s:I,s:I}", "from",
                                     from_event_id ? json_string(from_event_id) : json_null(),
                                     "queued", (json_int_t)r.queued, "dead_letters",
                                     (json_int_t)revived));
    rc = end_tx(tx, rc, err);
    if (rc == OK)
        *n_out = r.queued + revived;
    return rc;
}

/* ---- how a subscription is shown ---------------------------------------------------------- */

static json_t *nullable(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

json_t *webhooks_json(const struct store_webhook *w)
{
    return json_pack("{s:s,s:s,s:o,s:s,s:s,s:o,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:I,s:s}", "id", w->id,
                     "tenant_id", w->tenant_id, "url", nullable(w->url), "format", w->format,
                     "delivery", w->delivery, "events", nullable(w->events), "audience",
                     w->audience, "state", w->state, "disabled_reason",
                     nullable(w->disabled_reason), "failing_since", nullable(w->failing_since),
                     "paused_until", nullable(w->paused_until), "last_success_at",
                     nullable(w->last_success_at), "last_error", nullable(w->last_error),
                     "position", (json_int_t)w->position, "created_at", w->created_at);
}

static enum status add_attempt(void *ctx, const struct store_webhook_attempt *a)
{
    return json_array_append_new(
               ctx, json_pack("{s:s,s:s,s:I,s:I,s:s,s:I,s:o}", "at", a->at, "event", a->event_id,
                              "attempt", (json_int_t)a->attempt, "status", (json_int_t)a->status,
                              "outcome", a->outcome, "latency_ms", (json_int_t)a->latency_ms,
                              "error", nullable(a->error))) == 0
               ? OK
               : ERR_NOMEM;
}

static enum status add_dead(void *ctx, const struct store_webhook_message *m)
{
    return json_array_append_new(
               ctx, json_pack("{s:s,s:I,s:I,s:o,s:s}", "event", m->event_id, "attempts",
                              (json_int_t)m->attempts, "last_status", (json_int_t)m->last_status,
                              "last_error", nullable(m->last_error), "subject", m->subject)) == 0
               ? OK
               : ERR_NOMEM;
}

enum status webhooks_detail_json(struct store_tx *tx, const struct store_webhook *w, size_t log_max,
                                 size_t dead_max, json_t **out)
{
    *out = NULL;
    struct store_webhook_counts counts = { 0 };
    json_t *log = json_array(), *dead = json_array(), *j = webhooks_json(w);
    enum status rc = log && dead && j ? OK : ERR_NOMEM;
    if (rc == OK)
        rc = store_webhook_counts_get(tx, w->tenant_id, w->id, &counts);
    if (rc == OK)
        rc = store_webhook_attempt_each(tx, w->tenant_id, w->id, log_max, add_attempt, log);
    if (rc == OK)
        rc = store_webhook_message_each(tx, w->tenant_id, w->id, "dead", dead_max, add_dead, dead);
    if (rc == OK) {
        json_object_set_new(j, "counts",
                            json_pack("{s:I,s:I}", "pending", (json_int_t)counts.pending, "dead",
                                      (json_int_t)counts.dead));
        json_object_set(j, "deliveries", log);
        json_object_set(j, "dead_letters", dead);
        *out = j;
        j = NULL;
    }
    json_decref(log);
    json_decref(dead);
    json_decref(j);
    return rc;
}
