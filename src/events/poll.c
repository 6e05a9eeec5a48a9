/* SPDX-License-Identifier: Apache-2.0 */
/*
 * poll.c - this file contains RFC 8936 poll delivery: the bearer check,
 * acknowledgements and errors applied, queued SETs handed out (long poll
 * when asked), each step in the subscription's delivery log (poll.h).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/str.h"
#include "events/poll.h"
#include "events/poll_request.h"
#include "events/secevent_http.h"
#include "events/set_of_event.h"
#include "store/store_webhooks.h"

static atomic_int waiters;

static void answer_error(struct poll_answer *out, int status, const char *code,
                         const char *description)
{
    out->status = status;
    if (secevent_error_json(code, description, &out->body) != OK)
        out->body = NULL;
}

/* The subscription, if the bearer is its poll token. */
static enum status authorize(struct directory *dir, const char *id, const char *authorization,
                             struct store_webhook *w)
{
    if (authorization == NULL || !str_istarts(authorization, "Bearer "))
        return ERR_UNAUTHORIZED;
    const char *token = authorization + 7;
    char hash[CRYPTO_SHA256_HEX_LEN];
    crypto_sha256_hex(token, strlen(token), hash);
    memset(w, 0, sizeof(*w));
    struct store_tx *tx = NULL;
    enum status rc = store_begin(dir->store, false, &tx);
    if (rc != OK)
        return rc;
    rc = store_webhook_get(tx, NULL, id, w);
    store_rollback(tx);
    store_webhook_release(w);
    if (rc == ERR_NOT_FOUND)
        return ERR_UNAUTHORIZED;
    if (rc != OK)
        return rc;
    bool ok = strcmp(w->delivery, "poll") == 0 && w->poll_token_hash[0] != '\0' &&
              crypto_equal(hash, w->poll_token_hash, sizeof(hash));
    return ok ? OK : ERR_UNAUTHORIZED;
}

static void log_attempt(struct store_tx *tx, const struct store_webhook *w,
                        const struct store_webhook_message *m, const char *outcome,
                        const char *error)
{
    struct store_webhook_attempt a = { .attempt = m->attempts ? m->attempts : 1 };
    str_copy(a.tenant_id, sizeof(a.tenant_id), w->tenant_id);
    str_copy(a.webhook_id, sizeof(a.webhook_id), w->id);
    str_copy(a.event_id, sizeof(a.event_id), m->event_id);
    str_copy(a.outcome, sizeof(a.outcome), outcome);
    str_copy(a.error, sizeof(a.error), error ? error : "");
    if (store_webhook_attempt_add(tx, &a) != OK)
        log_warn("webhook %s: could not log a poll step", w->id);
}

/* Apply the receiver's acknowledgements and errors; unknown jtis are ignored. */
static enum status apply_acks(struct directory *dir, struct store_webhook *w,
                              const struct poll_request *req)
{
    if (req->n_acks == 0 && req->n_errs == 0)
        return OK;
    char now[STORE_TIME_LEN];
    clock_now_iso(now);
    struct store_tx *tx = NULL;
    enum status rc = store_begin(dir->store, true, &tx);
    for (size_t i = 0; rc == OK && i < req->n_acks + req->n_errs; i++) {
        bool ack = i < req->n_acks;
        const struct poll_set_err *e = ack ? NULL : &req->errs[i - req->n_acks];
        struct store_webhook_message m;
        rc = store_webhook_message_by_jti(tx, w->tenant_id, w->id, ack ? req->acks[i] : e->jti, &m);
        if (rc == ERR_NOT_FOUND) {
            rc = OK;
            continue;
        }
        if (rc != OK || strcmp(m.state, "pending") != 0)
            continue;
        if (ack) {
            str_copy(m.state, sizeof(m.state), "delivered");
            str_copy(m.delivered_at, sizeof(m.delivered_at), now);
            str_copy(w->last_success_at, sizeof(w->last_success_at), now);
        } else {
            str_copy(m.state, sizeof(m.state), "dead");
            snprintf(m.last_error, sizeof(m.last_error), "%s%s%s", e->err,
                     e->description ? ": " : "", e->description ? e->description : "");
            str_copy(w->last_error, sizeof(w->last_error), m.last_error);
        }
        rc = store_webhook_message_update(tx, &m);
        if (rc == OK)
            log_attempt(tx, w, &m, ack ? "acked" : "rejected", ack ? NULL : m.last_error);
    }
    if (rc == OK)
        rc = store_webhook_note(tx, w);
    return rc == OK ? store_commit(tx) : (store_rollback(tx), rc);
}

struct due {
    struct store_webhook_message *msgs;
    size_t n, max;
};

static enum status collect(void *ctx, const struct store_webhook_message *m)
{
    struct due *d = ctx;
    if (d->n < d->max)
        d->msgs[d->n++] = *m;
    return OK;
}

static enum status read_due(struct directory *dir, const struct store_webhook *w, struct due *d)
{
    char now[STORE_TIME_LEN];
    clock_now_iso(now);
    d->n = 0;
    struct store_tx *tx = NULL;
    enum status rc = store_begin(dir->store, false, &tx);
    if (rc == OK)
        rc = store_webhook_message_due_each(tx, w->tenant_id, w->id, now, d->max, collect, d);
    store_rollback(tx);
    return rc;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Due messages, waiting for some up to POLL_WAIT_MAX_MS when asked to. */
static enum status wait_due(struct directory *dir, const struct store_webhook *w, bool wait,
                            struct due *d)
{
    enum status rc = read_due(dir, w, d);
    if (rc != OK || d->n > 0 || !wait)
        return rc;
    if (atomic_fetch_add(&waiters, 1) >= POLL_WAITERS_MAX) {
        atomic_fetch_sub(&waiters, 1);
        return OK;
    }
    int64_t deadline = clock_mono_ms() + POLL_WAIT_MAX_MS;
    while (rc == OK && d->n == 0 && clock_mono_ms() < deadline && !atomic_load(&dir->stopping)) {
        sleep_ms(POLL_WAIT_STEP_MS);
        rc = read_due(dir, w, d);
    }
    atomic_fetch_sub(&waiters, 1);
    return rc;
}

struct signing {
    const struct store_webhook *w;
    const struct signing_key *key;
    const char *issuer;
    const char *jti;
    char *compact; /* NULL when it could not be signed (err says why) */
    struct scim_error err;
};

static enum status sign_event(void *ctx, const struct store_event *e)
{
    struct signing *s = ctx;
    if (set_of_event(s->w, e, s->jti, s->issuer, s->key, &s->compact, &s->err) != OK)
        s->compact = NULL;
    return OK;
}

/* Sign the due messages, hand them out (due again after POLL_REDELIVER_S) and answer. */
static enum status hand_out(struct directory *dir, const struct signing_key *key,
                            struct store_webhook *w, struct due *d, bool more,
                            struct poll_answer *out)
{
    const char **jtis = calloc(d->n + 1, sizeof(*jtis));
    char **sets = calloc(d->n + 1, sizeof(*sets));
    size_t n = 0;
    char now[STORE_TIME_LEN], again[STORE_TIME_LEN];
    clock_now_iso(now);
    clock_iso_from_ms(clock_now_s() * 1000 + POLL_REDELIVER_S * 1000, again);
    struct store_tx *tx = NULL;
    enum status rc = jtis && sets ? store_begin(dir->store, true, &tx) : ERR_NOMEM;
    for (size_t i = 0; rc == OK && i < d->n; i++) {
        struct store_webhook_message *m = &d->msgs[i];
        struct signing s = { .w = w, .key = key, .issuer = dir->public_url, .jti = m->jti };
        scim_error_clear(&s.err);
        rc = store_webhook_events_each(tx, w->tenant_id, m->seq - 1, m->seq, 1, sign_event, &s);
        if (rc != OK)
            break;
        m->attempts++;
        if (s.compact == NULL) { /* no key, or the event is gone: tell the log, skip it */
            str_copy(m->last_error, sizeof(m->last_error),
                     s.err.detail[0] ? s.err.detail : "the event is no longer in the log");
            str_copy(w->last_error, sizeof(w->last_error), m->last_error);
            str_copy(m->next_at, sizeof(m->next_at), again);
            rc = store_webhook_message_update(tx, m);
            log_attempt(tx, w, m, "failed", m->last_error);
            continue;
        }
        str_copy(m->next_at, sizeof(m->next_at), again);
        rc = store_webhook_message_update(tx, m);
        log_attempt(tx, w, m, "polled", NULL);
        jtis[n] = m->jti;
        sets[n++] = s.compact;
    }
    if (rc == OK)
        rc = store_webhook_note(tx, w);
    rc = rc == OK ? store_commit(tx) : (store_rollback(tx), rc);
    if (rc == OK &&
        secevent_poll_response_json(jtis, (const char *const *)sets, n, more, &out->body) == OK)
        out->status = 200;
    for (size_t i = 0; i < n; i++)
        free(sets[i]);
    free(sets);
    free(jtis);
    return rc;
}

void poll_answer(struct directory *dir, const struct signing_key *key, const char *id,
                 const char *authorization, const char *body, size_t body_len,
                 struct poll_answer *out)
{
    memset(out, 0, sizeof(*out));
    struct store_webhook w;
    enum status rc = authorize(dir, id, authorization, &w);
    if (rc == ERR_UNAUTHORIZED) {
        out->unauthorized = true;
        answer_error(out, 401, "authentication_failed", "unknown subscription or wrong bearer");
        return;
    }
    if (rc != OK) {
        answer_error(out, 503, "unavailable", "the event store did not answer");
        return;
    }
    if (strcmp(w.state, "enabled") != 0) {
        answer_error(out, 403, "access_denied", "the subscription is disabled");
        return;
    }
    struct poll_request req;
    struct scim_error err;
    scim_error_clear(&err);
    if (poll_request_parse(body, body_len, &req, &err) != OK) {
        answer_error(out, 400, "invalid_request", err.detail);
        return;
    }
    rc = apply_acks(dir, &w, &req);
    struct due d = { .max = req.max_events + 1 };
    d.msgs = calloc(d.max, sizeof(*d.msgs));
    if (rc == OK && d.msgs == NULL)
        rc = ERR_NOMEM;
    if (rc == OK && req.max_events > 0)
        rc = wait_due(dir, &w, !req.return_immediately, &d);
    else if (rc == OK)
        rc = read_due(dir, &w, &d); /* acknowledgements only: say whether more wait */
    bool more = d.n > req.max_events;
    if (more)
        d.n = req.max_events;
    if (rc == OK)
        rc = hand_out(dir, key, &w, &d, more, out);
    free(d.msgs);
    poll_request_release(&req);
    if (rc != OK || out->body == NULL) {
        free(out->body);
        log_warn("webhook %s: poll failed: %s", w.id, status_name(rc));
        answer_error(out, 503, "unavailable", "the event store did not answer");
    }
}
