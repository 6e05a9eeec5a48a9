/* SPDX-License-Identifier: Apache-2.0 */
/*
 * events.c - the audit log on the admin API: the newest-first listing
 * (?cursor=), the ordered feed (?after=, directory/feed.h) and its live
 * tail as Server-Sent Events (events/stream, http/sse.h), all with the
 * same filters, applied in SQL.  An admin of one tenant sees only its
 * events; a super admin may pick a tenant or see all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/str.h"
#include "directory/feed.h"
#include "http/sse.h"

#define ADMIN_FILTER_MAX      256 /* longest filter value taken */
#define ADMIN_STREAM_BATCH    100 /* events read per stream per poll */
#define ADMIN_STREAM_REAUTH_S 10  /* a stream's credential is checked again this often */
#define ADMIN_STREAM_RETRY_S  5   /* Retry-After when every stream slot is taken */
#define ADMIN_CREDENTIAL_MAX  256

/* Text filters of the query, as the store takes them. */
struct event_filters {
    const char *tenant_id;
    const char *idp_id;
    const char *type;
    const char *subject_id;
    const char *actor;
    const char *request_id;
    char since[STORE_TIME_LEN];
    char until[STORE_TIME_LEN];
    bool has_since, has_until;
};

static const char *query_filter(const struct admin_req *r, const char *name, bool *too_long)
{
    const char *v = http_query(r->http, name);
    if (v == NULL || v[0] == '\0')
        return NULL;
    if (strlen(v) > ADMIN_FILTER_MAX)
        *too_long = true;
    return v;
}

/* Read the filters; false when they are bad (answered). */
static bool read_filters(struct admin_req *r, struct event_filters *f)
{
    memset(f, 0, sizeof(*f));
    bool too_long = false;
    f->tenant_id = admin_tenant_scope(r);
    f->idp_id = query_filter(r, "idp", &too_long);
    f->type = query_filter(r, "type", &too_long);
    f->subject_id = query_filter(r, "subject", &too_long);
    f->actor = query_filter(r, "actor", &too_long);
    f->request_id = query_filter(r, "request_id", &too_long);
    if (too_long) {
        admin_fail(r, 400, "invalid_request", "a filter is longer than %d bytes", ADMIN_FILTER_MAX);
        return false;
    }
    const char *since = http_query(r->http, "since"), *until = http_query(r->http, "until");
    f->has_since = since && since[0];
    f->has_until = until && until[0];
    if ((f->has_since && !feed_time_parse(since, f->since)) ||
        (f->has_until && !feed_time_parse(until, f->until))) {
        admin_fail(r, 400, "invalid_request",
                   "since and until are UTC times like 2026-12-03T16:00:00Z");
        return false;
    }
    if (f->idp_id && !admin_is_super(r)) {
        /* another tenant's connection does not exist for this admin */
        struct store_tx *tx = NULL;
        struct store_idp idp;
        enum status rc = store_begin(r->dir->store, false, &tx);
        if (rc == OK) {
            rc = store_idp_get(tx, f->idp_id, &idp);
            store_rollback(tx);
        }
        if (rc == OK && !admin_sees(r, idp.tenant_id))
            rc = ERR_NOT_FOUND;
        if (rc == ERR_NOT_FOUND) {
            admin_fail(r, 404, "not_found", "no such IdP connection");
            return false;
        }
        if (rc != OK) {
            admin_fail_status(r, rc);
            return false;
        }
    }
    return true;
}

static void query_of(const struct event_filters *f, struct store_event_query *q)
{
    q->tenant_id = f->tenant_id;
    q->idp_id = f->idp_id;
    q->type = f->type;
    q->subject_id = f->subject_id;
    q->actor = f->actor;
    q->request_id = f->request_id;
    q->since = f->has_since ? f->since : NULL;
    q->until = f->has_until ? f->until : NULL;
}

/* ---- the listing, newest first, and the feed, oldest first ---------------------------- */

static enum status add_event(void *ctx, const struct store_event *e)
{
    json_t *rows = ctx;
    return json_array_append_new(rows, feed_event_json(e)) == 0 ? OK : ERR_NOMEM;
}

/* ?after=CURSOR: a page of the feed; next_cursor is where to continue, always set. */
static void reply_feed(struct admin_req *r, struct store_event_query *q, struct admin_page *page,
                       const char *after)
{
    if (!feed_cursor_parse(after, &q->after_seq)) {
        admin_fail(r, 400, "invalid_cursor", "after is not a cursor this server issued");
        return;
    }
    int64_t next = 0;
    q->limit = page->limit;
    enum status rc = feed_read(r->dir->store, q, add_event, page->items, &next);
    if (rc != OK) {
        admin_fail_status(r, rc);
        return;
    }
    char cursor[FEED_CURSOR_LEN];
    feed_cursor_format(next, cursor);
    admin_reply(r, 200, json_pack("{s:O,s:s}", "items", page->items, "next_cursor", cursor));
}

/* ?cursor=: the most recent first; the cursor is the seq of the page's last row. */
static void reply_recent(struct admin_req *r, struct store_event_query *q, struct admin_page *page)
{
    long before = 0;
    if (page->after && !str_to_long(page->after, 1, INT64_MAX, &before)) {
        admin_fail(r, 400, "invalid_cursor", "the cursor is not one this server issued");
        return;
    }
    json_t *rows = json_array(); /* oldest first, as delivered */
    q->before_seq = before;
    q->limit = page->limit + 1;
    struct store_tx *tx = NULL;
    enum status rc = rows ? store_begin(r->dir->store, false, &tx) : ERR_NOMEM;
    if (rc == OK) {
        rc = store_event_each(tx, q, add_event, rows);
        store_rollback(tx);
    }
    if (rc != OK) {
        admin_fail_status(r, rc);
        json_decref(rows);
        return;
    }
    /* newest first; one row beyond the page means there are more */
    size_t n = json_array_size(rows);
    bool more = n > page->limit;
    for (size_t i = n; i-- > (more ? 1 : 0);)
        json_array_append(page->items, json_array_get(rows, i));
    if (more) {
        json_t *last = json_array_get(page->items, page->limit - 1);
        snprintf(page->next, sizeof(page->next), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(last, "seq")));
    }
    json_decref(rows);
    admin_page_reply(r, page);
}

void admin_events_list(struct admin_req *r)
{
    struct event_filters f;
    struct admin_page page;
    if (!read_filters(r, &f) || !admin_page_init(r, &page))
        return;
    struct store_event_query q = { 0 };
    query_of(&f, &q);
    const char *after = http_query(r->http, "after");
    if (after != NULL)
        reply_feed(r, &q, &page, after);
    else
        reply_recent(r, &q, &page);
    json_decref(page.items);
}

/* ---- the live tail ------------------------------------------------------------------- */

struct event_stream {
    struct http_sse_source base;
    struct directory *dir;
    struct store_event_query q; /* its strings are owned copies */
    char since[STORE_TIME_LEN], until[STORE_TIME_LEN];
    int64_t cursor;
    bool by_key;
    char credential[ADMIN_CREDENTIAL_MAX];
    int64_t check_at_ms; /* when the credential is checked again */
    bool failing;        /* the last read failed (logged once) */
};

struct frames {
    struct buf *out;
};

/* id: the event's cursor (Last-Event-ID on reconnect); data: the event. */
static enum status add_frame(void *ctx, const struct store_event *e)
{
    struct frames *fr = ctx;
    json_t *j = feed_event_json(e);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (text == NULL)
        return ERR_NOMEM;
    char cursor[FEED_CURSOR_LEN];
    feed_cursor_format(e->seq, cursor);
    buf_printf(fr->out, "id: %s\ndata: %s\n\n", cursor, text);
    free(text);
    /* leave room: the rest comes on the next poll */
    return fr->out->len >= HTTP_SSE_BUFFER_BYTES / 2 ? ERR_TOO_MANY : OK;
}

/* Is the stream's credential still good (not signed out, not revoked)? */
static bool still_signed_in(struct event_stream *s)
{
    struct directory_admin_auth auth;
    struct scim_error err;
    enum status rc = s->by_key ? directory_admin_key_auth(s->dir, s->credential, &auth, &err)
                               : directory_admin_session_valid(s->dir, s->credential, &err);
    memset(&auth, 0, sizeof(auth));
    return rc == OK;
}

static bool stream_poll(struct http_sse_source *src, struct buf *out)
{
    struct event_stream *s = (struct event_stream *)src;
    int64_t now = clock_mono_ms();
    if (now >= s->check_at_ms) {
        if (!still_signed_in(s))
            return false;
        s->check_at_ms = now + (int64_t)ADMIN_STREAM_REAUTH_S * 1000;
    }
    struct frames fr = { out };
    s->q.after_seq = s->cursor;
    s->q.limit = ADMIN_STREAM_BATCH;
    enum status rc = feed_read(s->dir->store, &s->q, add_frame, &fr, &s->cursor);
    if (rc != OK && !s->failing) /* the next poll retries */
        log_warn("event stream: cannot read events: %s", status_name(rc));
    s->failing = rc != OK;
    return true;
}

static void stream_free(struct http_sse_source *src)
{
    struct event_stream *s = (struct event_stream *)src;
    free((char *)s->q.tenant_id);
    free((char *)s->q.idp_id);
    free((char *)s->q.type);
    free((char *)s->q.subject_id);
    free((char *)s->q.actor);
    free((char *)s->q.request_id);
    memset(s->credential, 0, sizeof(s->credential));
    free(s);
}

static const char *dup_or_null(const char *v, bool *failed)
{
    if (v == NULL)
        return NULL;
    char *copy = str_dup(v);
    if (copy == NULL)
        *failed = true;
    return copy;
}

/* Where a tail starts: Last-Event-ID, else ?after=, else now (feed_head). */
static bool stream_start(struct admin_req *r, int64_t *seq)
{
    const char *given = http_header(r->http, "Last-Event-ID");
    if (given == NULL || given[0] == '\0')
        given = http_query(r->http, "after");
    if (given != NULL) {
        if (!feed_cursor_parse(given, seq)) {
            admin_fail(r, 400, "invalid_cursor",
                       "Last-Event-ID or after is not a cursor this server issued");
            return false;
        }
        return true;
    }
    enum status rc = feed_head(r->dir->store, seq);
    if (rc != OK)
        admin_fail_status(r, rc);
    return rc == OK;
}

void admin_events_stream(struct admin_req *r)
{
    struct event_filters f;
    int64_t start = 0;
    if (!read_filters(r, &f) || !stream_start(r, &start))
        return;
    struct event_stream *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        admin_fail(r, 500, "internal", "out of memory");
        return;
    }
    s->base.poll = stream_poll;
    s->base.free = stream_free;
    s->dir = r->dir;
    s->cursor = start;
    s->by_key = r->auth.by_key;
    s->check_at_ms = clock_mono_ms() + (int64_t)ADMIN_STREAM_REAUTH_S * 1000;
    bool failed = !admin_credential(r, s->credential, sizeof(s->credential));
    s->q.tenant_id = dup_or_null(f.tenant_id, &failed);
    s->q.idp_id = dup_or_null(f.idp_id, &failed);
    s->q.type = dup_or_null(f.type, &failed);
    s->q.subject_id = dup_or_null(f.subject_id, &failed);
    s->q.actor = dup_or_null(f.actor, &failed);
    s->q.request_id = dup_or_null(f.request_id, &failed);
    memcpy(s->since, f.since, sizeof(s->since));
    memcpy(s->until, f.until, sizeof(s->until));
    s->q.since = f.has_since ? s->since : NULL;
    s->q.until = f.has_until ? s->until : NULL;
    if (failed) {
        stream_free(&s->base);
        admin_fail(r, 500, "internal", "cannot start the stream");
        return;
    }
    if (r->http->sse == NULL || !http_sse_reserve(r->http->sse)) {
        stream_free(&s->base);
        r->res->retry_after_s = ADMIN_STREAM_RETRY_S;
        admin_fail(r, 503, "too_many_streams",
                   "every event stream slot is taken; try again shortly");
        return;
    }
    r->res->status = 200;
    r->res->sse = &s->base;
}
