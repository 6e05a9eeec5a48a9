/* SPDX-License-Identifier: Apache-2.0 */
/*
 * delivery.c - this file contains the webhook delivery thread: events after
 * each subscription's position -> message rows, and the push of due messages
 * (signed json or SET) with retries, pauses, dead letters, the delivery log
 * and the audit events of state changes.  See delivery.h.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/str.h"
#include "events/delivery.h"
#include "events/secevent_http.h"
#include "events/set.h"
#include "events/set_of_event.h"
#include "events/subscriptions.h"
#include "events/webhook_http.h"
#include "events/webhook_payload.h"
#include "events/webhook_policy.h"
#include "events/webhook_sign.h"
#include "outbound/scim_wire.h"

/* What the thread keeps about one subscription between passes. */
struct sub_rt {
    char id[STORE_ID_LEN];
    int64_t high;           /* highest event seq read */
    int64_t window_at_ms;   /* when the unsettled window was last read (monotonic) */
    int64_t lease_until_ms; /* our lease, as far as we know (monotonic) */
    struct webhook_secret secret;
    bool secret_open;
    bool present;
};

struct delivery {
    struct directory *dir;
    const struct secretbox *box;
    const struct signing_key *key;
    struct delivery_config cfg;
    struct webhook_http *http;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;
    struct sub_rt *subs;
    size_t n_subs, alloc_subs;
};

static bool stopping(struct delivery *d)
{
    pthread_mutex_lock(&d->mu);
    bool s = d->stopping;
    pthread_mutex_unlock(&d->mu);
    return s;
}

static void rt_release(struct sub_rt *rt)
{
    webhook_secret_wipe(&rt->secret);
    memset(rt, 0, sizeof(*rt));
}

static struct sub_rt *rt_of(struct delivery *d, const struct store_webhook *w)
{
    for (size_t i = 0; i < d->n_subs; i++) {
        if (strcmp(d->subs[i].id, w->id) == 0)
            return &d->subs[i];
    }
    if (d->n_subs == d->alloc_subs) {
        size_t alloc = d->alloc_subs ? d->alloc_subs * 2 : 8;
        struct sub_rt *p = realloc(d->subs, alloc * sizeof(*p));
        if (p == NULL)
            return NULL;
        d->subs = p;
        d->alloc_subs = alloc;
    }
    struct sub_rt *rt = &d->subs[d->n_subs++];
    memset(rt, 0, sizeof(*rt));
    str_copy(rt->id, sizeof(rt->id), w->id);
    rt->high = w->position;
    return rt;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Append an event the delivery itself causes (webhook_disabled, webhook_dead_letter). */
static enum status delivery_event(struct store_tx *tx, const struct store_webhook *w,
                                  const char *type, json_t *summary)
{
    char *text = summary ? json_dumps(summary, JSON_COMPACT) : NULL;
    json_decref(summary);
    char actor[16 + STORE_ID_LEN];
    snprintf(actor, sizeof(actor), "webhook:%s", w->id);
    struct store_event ev = {
        .tenant_id = w->tenant_id,
        .type = type,
        .actor = actor,
        .subject_id = w->id,
        .summary = text,
    };
    enum status rc = store_event_append(tx, &ev);
    free(text);
    return rc;
}

/* ---- the lease ------------------------------------------------------------------------------ */

/* Is this node the one to work w now?  Renews the lease when half of it is gone. */
static bool hold_lease(struct delivery *d, const struct store_webhook *w, struct sub_rt *rt)
{
    int64_t mono = clock_mono_ms();
    if (rt->lease_until_ms - mono > DELIVERY_LEASE_S * 1000 / 2)
        return true;
    char now[STORE_TIME_LEN], until[STORE_TIME_LEN];
    int64_t wall = now_ms();
    clock_iso_from_ms(wall, now);
    clock_iso_from_ms(wall + DELIVERY_LEASE_S * 1000, until);
    struct store_tx *tx = NULL;
    enum status rc = store_begin(d->dir->store, true, &tx);
    if (rc == OK)
        rc = store_webhook_lease(tx, w->tenant_id, w->id, d->cfg.node, now, until);
    rc = rc == OK ? store_commit(tx) : (store_rollback(tx), rc);
    if (rc != OK) {
        if (rc != ERR_CONFLICT)
            log_warn("webhook %s: could not take its lease: %s", w->id, status_name(rc));
        rt->lease_until_ms = 0;
        return false;
    }
    rt->lease_until_ms = mono + DELIVERY_LEASE_S * 1000;
    return true;
}

/* ---- queue: events -> messages ----------------------------------------------------------------
 */

struct queue {
    const struct store_webhook *w;
    struct store_webhook_message *msgs;
    size_t n, alloc;
    int64_t last_seq;
    bool failed;
};

static enum status queue_event(void *ctx, const struct store_event *e)
{
    struct queue *q = ctx;
    if (e->seq > q->last_seq)
        q->last_seq = e->seq;
    if (!webhooks_takes(q->w, e))
        return OK;
    if (q->n == q->alloc) {
        size_t alloc = q->alloc ? q->alloc * 2 : 64;
        struct store_webhook_message *p = realloc(q->msgs, alloc * sizeof(*p));
        if (p == NULL)
            return ERR_NOMEM;
        q->msgs = p;
        q->alloc = alloc;
    }
    return webhooks_message_of(q->w, e, &q->msgs[q->n++]);
}

/*
 * Queue w's new events; every DELIVERY_WINDOW_MS read the unsettled window
 * again for late commits and move the position over what has settled.
 * Returns how many messages were queued.
 */
static size_t queue_sub(struct delivery *d, struct store_webhook *w, struct sub_rt *rt)
{
    struct queue q = { .w = w, .last_seq = rt->high };
    bool window = clock_mono_ms() - rt->window_at_ms >= DELIVERY_WINDOW_MS;
    int64_t settled = w->position;
    struct store_tx *tx = NULL;
    enum status rc = store_begin(d->dir->store, false, &tx);
    if (rc == OK && window && rt->high > w->position)
        rc = store_webhook_events_unqueued_each(tx, w->tenant_id, w->id, w->position, rt->high,
                                                DELIVERY_WINDOW_MAX, queue_event, &q);
    if (rc == OK)
        rc = store_webhook_events_each(tx, w->tenant_id, rt->high, INT64_MAX, DELIVERY_EVENT_BATCH,
                                       queue_event, &q);
    if (rc == OK && window) {
        char before[STORE_TIME_LEN];
        clock_iso_from_ms(now_ms() - DELIVERY_SETTLE_S * 1000, before);
        rc = store_webhook_settled_seq(tx, w->tenant_id, w->position, before, &settled);
    }
    store_rollback(tx);
    int64_t position = settled < q.last_seq ? settled : q.last_seq; /* never past what was read */
    if (position < w->position)
        position = w->position;
    if (rc == OK && (q.n > 0 || position != w->position)) {
        rc = store_begin(d->dir->store, true, &tx);
        for (size_t i = 0; rc == OK && i < q.n; i++)
            rc = store_webhook_message_add(tx, &q.msgs[i]);
        if (rc == OK && position != w->position) {
            int64_t before = w->position;
            w->position = position;
            rc = store_webhook_progress(tx, w);
            if (rc == OK)
                rc = store_webhook_message_prune(tx, w->tenant_id, w->id, position);
            if (rc != OK)
                w->position = before;
        }
        rc = rc == OK ? store_commit(tx) : (store_rollback(tx), rc);
    }
    size_t queued = 0;
    if (rc == OK) {
        queued = q.n;
        rt->high = q.last_seq;
        if (window)
            rt->window_at_ms = clock_mono_ms();
    } else {
        log_warn("webhook %s: could not queue its events: %s", w->id, status_name(rc));
    }
    free(q.msgs);
    return queued;
}

/* ---- one attempt ------------------------------------------------------------------------------
 */

/* One message of a batch: its event (copied), then what became of its attempt. */
struct slot {
    struct store_webhook_message m;
    struct store_event e; /* strings owned (event_release) */
    bool sent;
    enum webhook_outcome outcome;
    bool paused;    /* 429/503 with Retry-After: not counted, the subscription waits */
    bool permanent; /* the message itself can never be sent (too large, no meaning) */
    struct webhook_http_result res;
    char error[STORE_ERROR_MAX];
};

static char *dup_opt(const char *s, bool *failed)
{
    char *d = s ? str_ndup(s, strlen(s)) : NULL;
    if (s && d == NULL)
        *failed = true;
    return d;
}

static enum status keep_event(void *ctx, const struct store_event *e)
{
    struct store_event *out = ctx;
    bool failed = false;
    *out = *e;
    out->type = dup_opt(e->type, &failed);
    out->actor = dup_opt(e->actor, &failed);
    out->idp_id = dup_opt(e->idp_id, &failed);
    out->subject_id = dup_opt(e->subject_id, &failed);
    out->summary = dup_opt(e->summary, &failed);
    out->tenant_id = dup_opt(e->tenant_id, &failed);
    out->source = NULL;
    return failed ? ERR_NOMEM : OK;
}

static void event_release(struct store_event *e)
{
    free((char *)e->type);
    free((char *)e->actor);
    free((char *)e->idp_id);
    free((char *)e->subject_id);
    free((char *)e->summary);
    free((char *)e->tenant_id);
    memset(e, 0, sizeof(*e));
}

/* The subscription's secret, opened on first use. */
static enum status secret_of(struct delivery *d, const struct store_webhook *w, struct sub_rt *rt,
                             struct scim_error *err)
{
    if (rt->secret_open)
        return OK;
    if (d->box == NULL)
        return scim_error_set(err, ERR_FORBIDDEN,
                              "no key to open the webhook secret (serve --key-file)");
    struct store_tx *tx = NULL;
    struct store_webhook full;
    memset(&full, 0, sizeof(full));
    enum status rc = store_begin(d->dir->store, false, &tx);
    if (rc == OK)
        rc = store_webhook_get(tx, w->tenant_id, w->id, &full);
    store_rollback(tx);
    if (rc != OK)
        return scim_error_set(err, rc, "could not read the webhook: %s", status_name(rc));
    char owner[64];
    snprintf(owner, sizeof(owner), WEBHOOK_SECRET_OWNER, w->id);
    char *plain = NULL;
    rc = secretbox_open(d->box, owner, full.secret ? full.secret : "", &plain);
    store_webhook_release(&full);
    if (rc != OK)
        return scim_error_set(err, rc, "the webhook secret does not open with this key file");
    rc = webhook_secret_parse(plain, &rt->secret, err);
    secretbox_plain_free(plain);
    rt->secret_open = rc == OK;
    return rc;
}

/* The body, content type and headers of one message. */
struct wire {
    char *body;
    const char *content_type;
    char lines[3][WEBHOOK_SIGNATURE_MAX + 32];
    const char *headers[3];
    size_t n_headers;
};

/* RFC 8935: the SET as the body. */
static enum status set_wire(struct delivery *d, const struct store_webhook *w, struct sub_rt *rt,
                            const struct slot *s, struct wire *out, struct scim_error *err)
{
    (void)rt;
    out->content_type = SET_CONTENT_TYPE;
    str_copy(out->lines[0], sizeof(out->lines[0]), "Accept: application/json");
    out->headers[0] = out->lines[0];
    out->n_headers = 1;
    return set_of_event(w, &s->e, s->m.jti, d->dir->public_url, d->key, &out->body, err);
}

/* Standard Webhooks: the event as JSON, signed with the subscription's secret. */
static enum status json_wire(struct delivery *d, const struct store_webhook *w, struct sub_rt *rt,
                             const struct slot *s, struct wire *out, struct scim_error *err)
{
    enum status rc;
    if ((rc = secret_of(d, w, rt, err)) != OK)
        return rc;
    if ((rc = webhook_payload_json(&s->e, &out->body, err)) != OK)
        return rc;
    struct webhook_headers h;
    rc = webhook_sign(&rt->secret, 1, s->m.event_id, clock_now_s(), out->body, strlen(out->body),
                      &h, err);
    if (rc != OK)
        return rc;
    out->content_type = "application/json";
    snprintf(out->lines[0], sizeof(out->lines[0]), "webhook-id: %s", h.id);
    snprintf(out->lines[1], sizeof(out->lines[1]), "webhook-timestamp: %s", h.timestamp);
    snprintf(out->lines[2], sizeof(out->lines[2]), "webhook-signature: %s", h.signature);
    for (size_t i = 0; i < 3; i++)
        out->headers[i] = out->lines[i];
    out->n_headers = 3;
    return OK;
}

typedef enum status (*wire_fn)(struct delivery *d, const struct store_webhook *w, struct sub_rt *rt,
                               const struct slot *s, struct wire *out, struct scim_error *err);

/* clang-format off */
static const struct {
    const char *format;
    wire_fn build;
} formats[] = {
    { "json", json_wire },
    { "set",  set_wire  },
};
/* clang-format on */

static enum status wire_of(struct delivery *d, const struct store_webhook *w, struct sub_rt *rt,
                           const struct slot *s, struct wire *out, struct scim_error *err)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        if (strcmp(w->format, formats[i].format) == 0)
            return formats[i].build(d, w, rt, s, out, err);
    }
    return scim_error_set(err, ERR_UNSUPPORTED, "unknown format '%s'", w->format);
}

static void attempt_send(struct delivery *d, const struct store_webhook *w, struct sub_rt *rt,
                         struct slot *s)
{
    s->sent = true;
    s->outcome = WEBHOOK_RETRY;
    if (s->e.type == NULL) {
        snprintf(s->error, sizeof(s->error), "event %s is no longer in the log", s->m.event_id);
        s->permanent = true;
        return;
    }
    struct wire wire;
    struct scim_error err;
    scim_error_clear(&err);
    enum status rc = wire_of(d, w, rt, s, &wire, &err);
    if (rc != OK) {
        str_copy(s->error, sizeof(s->error), err.detail);
        s->permanent = rc == ERR_TOO_LARGE || rc == ERR_UNSUPPORTED || rc == ERR_INVALID_VALUE;
        free(wire.body);
        return;
    }
    webhook_http_post(d->http, w->url, wire.content_type, wire.headers, wire.n_headers, wire.body,
                      strlen(wire.body), &s->res);
    free(wire.body);
    struct secevent_error refusal;
    bool rfc8935 = s->res.status == 400 && secevent_error_parse(s->res.body ? s->res.body : "",
                                                                s->res.body_len, &refusal) == OK;
    s->outcome = webhook_outcome_of(w->format, s->res.status, rfc8935);
    s->paused = s->outcome == WEBHOOK_RETRY && s->res.retry_after_s > 0;
    if (s->res.status == 0)
        str_copy(s->error, sizeof(s->error), s->res.detail);
    else if (rfc8935)
        snprintf(s->error, sizeof(s->error), "HTTP 400: %s%s%s", refusal.err,
                 refusal.description[0] ? ": " : "", refusal.description);
    else if (s->outcome != WEBHOOK_DELIVERED)
        snprintf(s->error, sizeof(s->error), "HTTP %ld", s->res.status);
}

/* ---- recording attempts ---------------------------------------------------------------------- */

static const char *const outcome_names[] = {
    [WEBHOOK_DELIVERED] = "delivered",
    [WEBHOOK_RETRY] = "failed",
    [WEBHOOK_REJECTED] = "rejected",
    [WEBHOOK_GONE] = "gone",
};

/* Disable w (by the delivery, not an admin) with reason. */
static enum status disable_sub(struct store_tx *tx, struct store_webhook *w, const char *reason)
{
    str_copy(w->state, sizeof(w->state), "disabled");
    str_copy(w->disabled_reason, sizeof(w->disabled_reason), reason);
    clock_now_iso(w->updated_at);
    enum status rc = store_webhook_set_state(tx, w);
    if (rc == OK)
        rc = delivery_event(tx, w, "webhook_disabled", json_pack("{s:s}", "reason", reason));
    if (rc == OK)
        log_warn("webhook %s disabled: %s", w->id, reason);
    return rc;
}

/* Record one attempt's end inside tx: the message, the log line, the subscription (in memory). */
static enum status record_one(struct delivery *d, struct store_tx *tx, struct store_webhook *w,
                              struct slot *s, int64_t wall)
{
    char now[STORE_TIME_LEN];
    clock_iso_from_ms(wall, now);
    struct store_webhook_message *m = &s->m;
    m->last_status = s->res.status;
    str_copy(m->last_error, sizeof(m->last_error), s->error);
    const char *outcome = s->permanent ? "rejected"
                          : s->paused  ? "paused"
                                       : outcome_names[s->outcome];
    bool dead = false;
    enum status rc = OK;
    if (s->outcome == WEBHOOK_DELIVERED) {
        m->attempts++;
        str_copy(m->state, sizeof(m->state), "delivered");
        str_copy(m->delivered_at, sizeof(m->delivered_at), now);
        str_copy(w->last_success_at, sizeof(w->last_success_at), now);
        w->failing_since[0] = '\0';
        w->paused_until[0] = '\0';
    } else if (s->outcome == WEBHOOK_REJECTED || s->permanent) {
        m->attempts++;
        dead = true;
    } else if (s->outcome == WEBHOOK_GONE) {
        rc = disable_sub(tx, w, "the receiver answered 410 Gone");
    } else if (s->paused) {
        long wait_s = s->res.retry_after_s < SCIM_WIRE_RETRY_AFTER_MAX_S
                          ? s->res.retry_after_s
                          : SCIM_WIRE_RETRY_AFTER_MAX_S;
        clock_iso_from_ms(wall + (int64_t)wait_s * 1000, w->paused_until);
    } else {
        m->attempts++;
        int64_t delay = webhook_retry_delay_ms(m->attempts, d->cfg.retry_base_ms);
        dead = delay < 0;
        if (!dead)
            clock_iso_from_ms(wall + delay, m->next_at);
        if (w->failing_since[0] == '\0')
            str_copy(w->failing_since, sizeof(w->failing_since), now);
        else if (clock_iso_diff_s(w->failing_since, now) >= WEBHOOK_DISABLE_AFTER_S)
            rc = disable_sub(tx, w, "every delivery failed for 5 days");
    }
    if (s->outcome != WEBHOOK_DELIVERED && s->error[0])
        str_copy(w->last_error, sizeof(w->last_error), s->error);
    if (dead) {
        str_copy(m->state, sizeof(m->state), "dead");
        if (rc == OK)
            rc = delivery_event(tx, w, "webhook_dead_letter",
                                json_pack("{s:s,s:I,s:s}", "event", m->event_id, "attempts",
                                          (json_int_t)m->attempts, "last_error", m->last_error));
    }
    if (rc == OK)
        rc = store_webhook_message_update(tx, m);
    struct store_webhook_attempt log = { .attempt = m->attempts ? m->attempts : 1,
                                         .status = s->res.status,
                                         .latency_ms = s->res.latency_ms };
    str_copy(log.tenant_id, sizeof(log.tenant_id), w->tenant_id);
    str_copy(log.webhook_id, sizeof(log.webhook_id), w->id);
    str_copy(log.event_id, sizeof(log.event_id), m->event_id);
    str_copy(log.outcome, sizeof(log.outcome), outcome);
    str_copy(log.error, sizeof(log.error), s->error);
    if (rc == OK)
        rc = store_webhook_attempt_add(tx, &log);
    return rc;
}

/* Record every attempt of a batch in one transaction (a crash before it
 * commits sends them again: at least once). */
static enum status record(struct delivery *d, struct store_webhook *w, struct slot *slots, size_t n)
{
    struct store_tx *tx = NULL;
    enum status rc = store_begin(d->dir->store, true, &tx);
    if (rc != OK)
        return rc;
    int64_t wall = now_ms();
    for (size_t i = 0; rc == OK && i < n; i++) {
        if (slots[i].sent)
            rc = record_one(d, tx, w, &slots[i], wall);
    }
    if (rc == OK)
        rc = store_webhook_progress(tx, w);
    return rc == OK ? store_commit(tx) : (store_rollback(tx), rc);
}

/* ---- send: due messages of one subscription ------------------------------------------------- */

struct batch {
    struct slot slots[DELIVERY_SEND_BATCH];
    size_t n;
};

static enum status collect_message(void *ctx, const struct store_webhook_message *m)
{
    struct batch *b = ctx;
    if (b->n < DELIVERY_SEND_BATCH)
        b->slots[b->n++].m = *m;
    return OK;
}

/* Subjects with an earlier message still waiting: their later ones wait too. */
struct held {
    const char *subjects[DELIVERY_SEND_BATCH];
    size_t n;
};

static bool held_has(const struct held *h, const char *subject)
{
    for (size_t i = 0; i < h->n; i++) {
        if (strcmp(h->subjects[i], subject) == 0)
            return true;
    }
    return false;
}

static void hold(struct held *h, const char *subject)
{
    if (h->n < DELIVERY_SEND_BATCH && !held_has(h, subject))
        h->subjects[h->n++] = subject;
}

/* The pending messages of w, oldest first, with the events of those due
 * (and not held back by an earlier one of their subject). */
static enum status read_batch(struct delivery *d, const struct store_webhook *w, const char *now,
                              struct batch *b, struct held *held)
{
    struct store_tx *tx = NULL;
    enum status rc = store_begin(d->dir->store, false, &tx);
    if (rc == OK)
        rc = store_webhook_message_each(tx, w->tenant_id, w->id, "pending", DELIVERY_SEND_BATCH,
                                        collect_message, b);
    for (size_t i = 0; rc == OK && i < b->n; i++) {
        struct slot *s = &b->slots[i];
        if (held_has(held, s->m.subject))
            continue;
        if (strcmp(s->m.next_at, now) > 0) {
            hold(held, s->m.subject);
            continue;
        }
        rc = store_webhook_events_each(tx, w->tenant_id, s->m.seq - 1, s->m.seq, 1, keep_event,
                                       &s->e);
    }
    store_rollback(tx);
    return rc;
}

/* Send w's due messages in order; returns how many attempts were made. */
static size_t send_sub(struct delivery *d, struct store_webhook *w, struct sub_rt *rt)
{
    char now[STORE_TIME_LEN];
    clock_now_iso(now);
    if (w->paused_until[0] && strcmp(w->paused_until, now) > 0)
        return 0;
    struct batch *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return 0;
    struct held held = { .n = 0 };
    enum status rc = read_batch(d, w, now, b, &held);
    size_t sent = 0;
    for (size_t i = 0; rc == OK && i < b->n && !stopping(d); i++) {
        struct slot *s = &b->slots[i];
        if (held_has(&held, s->m.subject))
            continue;
        attempt_send(d, w, rt, s);
        sent++;
        if (s->outcome != WEBHOOK_DELIVERED)
            hold(&held, s->m.subject);
        bool down = s->outcome == WEBHOOK_RETRY && !s->permanent &&
                    (s->res.status == 0 || s->res.status >= 500);
        if (down || s->paused || s->outcome == WEBHOOK_GONE)
            break; /* the receiver is down, asked to wait, or is gone: the rest can wait */
    }
    if (rc != OK)
        log_warn("webhook %s: could not read its messages: %s", w->id, status_name(rc));
    else if (sent > 0 && (rc = record(d, w, b->slots, b->n)) != OK)
        log_warn("webhook %s: could not record %zu deliveries: %s", w->id, sent, status_name(rc));
    for (size_t i = 0; i < b->n; i++) {
        event_release(&b->slots[i].e);
        webhook_http_result_release(&b->slots[i].res);
    }
    free(b);
    return sent;
}

/* ---- the thread --------------------------------------------------------------------------------
 */

struct sub_list {
    struct store_webhook *v;
    size_t n, alloc;
};

static enum status collect_sub(void *ctx, const struct store_webhook *w)
{
    struct sub_list *l = ctx;
    if (l->n == l->alloc) {
        size_t alloc = l->alloc ? l->alloc * 2 : 8;
        struct store_webhook *p = realloc(l->v, alloc * sizeof(*p));
        if (p == NULL)
            return ERR_NOMEM;
        l->v = p;
        l->alloc = alloc;
    }
    l->v[l->n++] = *w;
    return OK;
}

/* One pass over every subscription; returns how much work was done. */
static size_t delivery_pass(struct delivery *d)
{
    struct sub_list l = { 0 };
    struct store_tx *tx = NULL;
    enum status rc = store_begin(d->dir->store, false, &tx);
    if (rc == OK)
        rc = store_webhook_each(tx, NULL, collect_sub, &l);
    store_rollback(tx);
    for (size_t i = 0; i < d->n_subs; i++)
        d->subs[i].present = false;
    size_t work = 0;
    for (size_t i = 0; rc == OK && i < l.n && !stopping(d); i++) {
        struct store_webhook *w = &l.v[i];
        struct sub_rt *rt = rt_of(d, w);
        if (rt == NULL)
            break;
        rt->present = true;
        if (strcmp(w->state, "enabled") != 0 || !hold_lease(d, w, rt))
            continue;
        work += queue_sub(d, w, rt);
        if (strcmp(w->delivery, "push") == 0)
            work += send_sub(d, w, rt);
    }
    if (rc == OK) { /* forget deleted subscriptions */
        size_t kept = 0;
        for (size_t i = 0; i < d->n_subs; i++) {
            if (d->subs[i].present)
                d->subs[kept++] = d->subs[i];
            else
                rt_release(&d->subs[i]);
        }
        d->n_subs = kept;
    } else {
        log_warn("webhooks: could not list subscriptions: %s", status_name(rc));
    }
    free(l.v);
    return work;
}

static void *delivery_main(void *arg)
{
    struct delivery *d = arg;
    unsigned poll_ms = d->cfg.poll_ms ? d->cfg.poll_ms : DELIVERY_POLL_MS;
    while (!stopping(d)) {
        if (delivery_pass(d) > 0)
            continue;
        pthread_mutex_lock(&d->mu);
        if (!d->stopping) {
            struct timespec until = clock_deadline_in_ms(poll_ms);
            pthread_cond_timedwait(&d->cv, &d->mu, &until);
        }
        pthread_mutex_unlock(&d->mu);
    }
    return NULL;
}

enum status delivery_start(struct directory *dir, const struct secretbox *box,
                           const struct signing_key *key, const struct delivery_config *cfg,
                           struct delivery **out, struct scim_error *err)
{
    *out = NULL;
    struct delivery *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    d->dir = dir;
    d->box = box;
    d->key = key;
    d->cfg = *cfg;
    if (d->cfg.node == NULL || d->cfg.node[0] == '\0')
        d->cfg.node = "scimd";
    enum status rc = webhook_http_new(cfg->allow_private, &d->http, err);
    if (rc != OK) {
        free(d);
        return rc;
    }
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    if (pthread_create(&d->thread, NULL, delivery_main, d) != 0) {
        webhook_http_free(d->http);
        pthread_cond_destroy(&d->cv);
        pthread_mutex_destroy(&d->mu);
        free(d);
        return scim_error_set(err, ERR_IO, "cannot start the webhook delivery thread");
    }
    *out = d;
    return OK;
}

void delivery_stop(struct delivery *d)
{
    if (d == NULL)
        return;
    pthread_mutex_lock(&d->mu);
    d->stopping = true;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
    pthread_join(d->thread, NULL);
    for (size_t i = 0; i < d->n_subs; i++)
        rt_release(&d->subs[i]);
    free(d->subs);
    webhook_http_free(d->http);
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
    free(d);
}
