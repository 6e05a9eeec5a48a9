/* SPDX-License-Identifier: Apache-2.0 */
/*
 * feed.c - this file contains the events feed of feed.h: the cursor, the
 * settled page (late commits) and the JSON shape of an event.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "directory/feed.h"

#include "core/clock.h"
#include "core/str.h"

#define CURSOR_PREFIX "ev_"
#define CURSOR_DIGITS 16

void feed_cursor_format(int64_t seq, char out[FEED_CURSOR_LEN])
{
    snprintf(out, FEED_CURSOR_LEN, CURSOR_PREFIX "%016llx", (unsigned long long)seq);
}

bool feed_cursor_parse(const char *text, int64_t *seq)
{
    if (text == NULL)
        return false;
    if (text[0] == '\0') {
        *seq = 0;
        return true;
    }
    size_t prefix = strlen(CURSOR_PREFIX);
    if (strlen(text) != prefix + CURSOR_DIGITS || strncmp(text, CURSOR_PREFIX, prefix) != 0)
        return false;
    uint64_t v = 0;
    for (size_t i = prefix; i < prefix + CURSOR_DIGITS; i++) {
        int d = str_hex_value(text[i]);
        if (d < 0 || (text[i] >= 'A' && text[i] <= 'F'))
            return false;
        v = (v << 4) | (uint64_t)d;
    }
    if (v > (uint64_t)INT64_MAX)
        return false;
    *seq = (int64_t)v;
    return true;
}

bool feed_time_parse(const char *text, char out[STORE_TIME_LEN])
{
    int64_t ms;
    if (text == NULL || !clock_parse_iso(text, &ms) || ms < 0)
        return false;
    clock_iso_from_ms(ms, out);
    return true;
}

struct settled_page {
    store_event_fn fn;
    void *ctx;
    int64_t settle_before_ms; /* events stamped from then on may have company coming */
    bool settling;            /* false: every visible event is settled (SQLite) */
    int64_t last;
};

static enum status take_settled(void *ctx, const struct store_event *e)
{
    struct settled_page *p = ctx;
    int64_t at_ms;
    /* An event that does not parse is old (written by hand?): take it. */
    if (p->settling && clock_parse_iso(e->at, &at_ms) && at_ms >= p->settle_before_ms)
        return ERR_TOO_MANY; /* the page ends before the first unsettled event */
    enum status rc = p->fn(p->ctx, e);
    if (rc == OK || rc == ERR_TOO_MANY)
        p->last = e->seq;
    return rc;
}

enum status feed_read(struct store *store, const struct store_event_query *q, store_event_fn fn,
                      void *ctx, int64_t *next_seq)
{
    *next_seq = q->after_seq;
    struct store_event_query page = *q;
    page.oldest_first = true;
    page.before_seq = 0;
    if (page.limit == 0)
        page.limit = FEED_PAGE_DEFAULT;
    struct store_tx *tx = NULL;
    enum status rc = store_begin(store, false, &tx);
    if (rc != OK)
        return rc;
    int64_t settle_ms = store_event_settle_ms(tx);
    char now[STORE_TIME_LEN];
    int64_t now_ms = 0;
    clock_now_iso(now);
    clock_parse_iso(now, &now_ms);
    struct settled_page p = { .fn = fn,
                              .ctx = ctx,
                              .settle_before_ms = now_ms - settle_ms,
                              .settling = settle_ms > 0,
                              .last = q->after_seq };
    rc = store_event_each(tx, &page, take_settled, &p);
    store_rollback(tx);
    if (rc == ERR_TOO_MANY)
        rc = OK;
    if (rc == OK)
        *next_seq = p.last;
    return rc;
}

void feed_tail_init(struct feed_tail *t, int64_t from)
{
    memset(t, 0, sizeof(*t));
    t->settled = from;
}

void feed_tail_release(struct feed_tail *t)
{
    free(t->seen);
    memset(t, 0, sizeof(*t));
}

static bool tail_seen(const struct feed_tail *t, int64_t seq)
{
    for (size_t i = 0; i < t->n_seen; i++)
        if (t->seen[i] == seq)
            return true;
    return false;
}

enum status feed_tail_mark(struct feed_tail *t, int64_t seq)
{
    if (seq <= t->settled || tail_seen(t, seq))
        return OK;
    if (t->n_seen == t->cap_seen) {
        size_t cap = t->cap_seen ? t->cap_seen * 2 : 64;
        int64_t *grown = realloc(t->seen, cap * sizeof(*grown));
        if (grown == NULL)
            return ERR_NOMEM;
        t->seen = grown;
        t->cap_seen = cap;
    }
    t->seen[t->n_seen++] = seq;
    return OK;
}

struct tail_pass {
    struct feed_tail *t;
    store_event_fn fn;
    void *ctx;
    int64_t settle_before_ms;
    bool settling;       /* false: every visible event is settled (SQLite) */
    int64_t settled;     /* the settled prefix of this pass */
    bool unsettled_seen; /* the prefix ended */
};

static enum status tail_take(void *ctx, const struct store_event *e)
{
    struct tail_pass *p = ctx;
    int64_t at_ms;
    bool settled =
        !p->settling || !clock_parse_iso(e->at, &at_ms) || at_ms < p->settle_before_ms;
    if (!settled)
        p->unsettled_seen = true;
    else if (!p->unsettled_seen)
        p->settled = e->seq;
    if (tail_seen(p->t, e->seq))
        return OK;
    enum status rc = feed_tail_mark(p->t, e->seq);
    return rc == OK ? p->fn(p->ctx, e) : rc;
}

enum status feed_tail_read(struct store *store, const struct store_event_query *q,
                           struct feed_tail *t, store_event_fn fn, void *ctx)
{
    struct store_event_query page = *q;
    page.oldest_first = true;
    page.before_seq = 0;
    page.after_seq = t->settled;
    page.limit = FEED_TAIL_BATCH;
    struct store_tx *tx = NULL;
    enum status rc = store_begin(store, false, &tx);
    if (rc != OK)
        return rc;
    char now[STORE_TIME_LEN];
    int64_t now_ms = 0;
    clock_now_iso(now);
    clock_parse_iso(now, &now_ms);
    int64_t settle_ms = store_event_settle_ms(tx);
    struct tail_pass p = { .t = t,
                           .fn = fn,
                           .ctx = ctx,
                           .settle_before_ms = now_ms - settle_ms,
                           .settling = settle_ms > 0,
                           .settled = t->settled };
    rc = store_event_each(tx, &page, tail_take, &p);
    store_rollback(tx);
    /* forget what the settled prefix passed: it is never read again */
    t->settled = p.settled;
    size_t kept = 0;
    for (size_t i = 0; i < t->n_seen; i++)
        if (t->seen[i] > t->settled)
            t->seen[kept++] = t->seen[i];
    t->n_seen = kept;
    return rc;
}

static enum status take_seq(void *ctx, const struct store_event *e)
{
    *(int64_t *)ctx = e->seq;
    return OK;
}

enum status feed_head(struct store *store, int64_t *seq)
{
    *seq = 0;
    struct store_tx *tx = NULL;
    enum status rc = store_begin(store, false, &tx);
    if (rc != OK)
        return rc;
    int64_t settle_ms = store_event_settle_ms(tx);
    char now[STORE_TIME_LEN], cutoff[STORE_TIME_LEN];
    int64_t now_ms = 0;
    clock_now_iso(now);
    clock_parse_iso(now, &now_ms);
    clock_iso_from_ms(now_ms - settle_ms, cutoff);
    if (settle_ms == 0) {
        rc = store_event_last_seq(tx, seq);
    } else {
        /* the newest event stamped before the settle window */
        struct store_event_query q = { .until = cutoff, .limit = 1 };
        rc = store_event_each(tx, &q, take_seq, seq);
    }
    store_rollback(tx);
    return rc;
}

static json_t *nullable(const char *s)
{
    return s && s[0] ? json_string(s) : json_null();
}

json_t *feed_event_json(const struct store_event *e)
{
    char cursor[FEED_CURSOR_LEN];
    feed_cursor_format(e->seq, cursor);
    json_t *summary = e->summary ? json_loads(e->summary, 0, NULL) : NULL;
    return json_pack("{s:s,s:I,s:s,s:s,s:s,s:o,s:o,s:s,s:o,s:o,s:o,s:o}", "cursor", cursor,
                     "seq", (json_int_t)e->seq, "id", e->id, "at", e->at, "type",
                     e->type ? e->type : "", "tenant_id", nullable(e->tenant_id), "idp_id",
                     nullable(e->idp_id), "actor", e->actor ? e->actor : "", "subject_id",
                     nullable(e->subject_id), "summary", summary ? summary : json_null(), "source",
                     nullable(e->source), "request_id", nullable(e->request_id));
}
