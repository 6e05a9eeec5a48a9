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

/* The events horizon (store_event_horizon), read in a transaction of its
 * own so that a read begun after it sees every event up to it. */
static enum status read_horizon(struct store *store, int64_t *horizon)
{
    struct store_tx *tx = NULL;
    enum status rc = store_begin(store, false, &tx);
    if (rc != OK)
        return rc;
    rc = store_event_horizon(tx, horizon);
    store_rollback(tx);
    return rc;
}

struct page {
    store_event_fn fn;
    void *ctx;
    int64_t last;
};

static enum status take(void *ctx, const struct store_event *e)
{
    struct page *p = ctx;
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
    int64_t horizon;
    enum status rc = read_horizon(store, &horizon);
    if (rc != OK)
        return rc;
    if (horizon <= q->after_seq)
        return OK; /* nothing settled after the cursor yet */
    if (horizon < INT64_MAX)
        page.before_seq = horizon + 1; /* the page ends before the first seq in flight */
    struct store_tx *tx = NULL;
    rc = store_begin(store, false, &tx);
    if (rc != OK)
        return rc;
    struct page p = { .fn = fn, .ctx = ctx, .last = q->after_seq };
    rc = store_event_each(tx, &page, take, &p);
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
    int64_t horizon; /* every event up to it is visible or never will be */
    int64_t read;    /* the highest seq this pass read */
};

static enum status tail_take(void *ctx, const struct store_event *e)
{
    struct tail_pass *p = ctx;
    p->read = e->seq;
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
    struct tail_pass p = { .t = t, .fn = fn, .ctx = ctx, .read = t->settled };
    enum status rc = read_horizon(store, &p.horizon);
    if (rc != OK)
        return rc;
    struct store_tx *tx = NULL;
    rc = store_begin(store, false, &tx);
    if (rc != OK)
        return rc;
    rc = store_event_each(tx, &page, tail_take, &p);
    store_rollback(tx);
    /* settled: what this pass read (in seq order, maybe a batch short of
     * the horizon), as far as the horizon */
    int64_t settled = p.read < p.horizon ? p.read : p.horizon;
    if (rc == OK && settled > t->settled)
        t->settled = settled;
    /* forget what the settled prefix passed: it is never read again */
    size_t kept = 0;
    for (size_t i = 0; i < t->n_seen; i++)
        if (t->seen[i] > t->settled)
            t->seen[kept++] = t->seen[i];
    t->n_seen = kept;
    return rc;
}

enum status feed_head(struct store *store, int64_t *seq)
{
    *seq = 0;
    int64_t horizon;
    enum status rc = read_horizon(store, &horizon);
    if (rc != OK)
        return rc;
    struct store_tx *tx = NULL;
    rc = store_begin(store, false, &tx);
    if (rc != OK)
        return rc;
    rc = store_event_last_seq(tx, seq);
    store_rollback(tx);
    if (rc == OK && *seq > horizon)
        *seq = horizon; /* a lower seq is still in flight */
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
    return json_pack("{s:s,s:I,s:s,s:s,s:s,s:o,s:o,s:s,s:o,s:o,s:o,s:o}", "cursor", cursor, "seq",
                     (json_int_t)e->seq, "id", e->id, "at", e->at, "type", e->type ? e->type : "",
                     "tenant_id", nullable(e->tenant_id), "idp_id", nullable(e->idp_id), "actor",
                     e->actor ? e->actor : "", "subject_id", nullable(e->subject_id), "summary",
                     summary ? summary : json_null(), "source", nullable(e->source), "request_id",
                     nullable(e->request_id));
}
