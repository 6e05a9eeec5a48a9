/* SPDX-License-Identifier: Apache-2.0 */
/*
 * feed.h - the ordered events feed: every committed event exactly once, in
 * seq order, paged by an opaque cursor.  `scimd audit --after`, the admin
 * API's /events?after= and its live tail, and `serve --event-log` all read
 * it here, and render an event as one JSON object with the same keys.
 *
 * Late commits: PostgreSQL takes an event's seq at insert, so an event may
 * become visible after events with higher seqs.  A reader that moved its
 * cursor past the gap would never see it.  So a page ends at the store's
 * events horizon (store_event_horizon: on PostgreSQL the seq below the oldest
 * one a transaction in flight still holds, however long it runs; on SQLite,
 * whose commits are in seq order, no bound): everything up to it has
 * committed or never will.  The price is that while a transaction that
 * wrote events is open, the events after its seqs wait for it.
 *
 * Cursor: "ev_" and the seq as 16 hex digits; opaque to clients, stable,
 * and cursors sort like the events they name.  A cursor names the last event
 * read: the next page starts after it.  "" or no cursor: the beginning.
 *
 * Thread-safe (each read is its own read transaction).
 */
#ifndef SCIMD_DIRECTORY_FEED_H
#define SCIMD_DIRECTORY_FEED_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "directory/directory.h"

#define FEED_CURSOR_LEN   20 /* "ev_" + 16 hex digits + NUL */
#define FEED_PAGE_DEFAULT 100
#define FEED_PAGE_MAX     1000

/* Write the cursor of seq into out. */
void feed_cursor_format(int64_t seq, char out[FEED_CURSOR_LEN]);
/* The seq of a cursor ("" is 0, the beginning); false when text is not one. */
bool feed_cursor_parse(const char *text, int64_t *seq);
/* A time bound given by a user (RFC 3339 UTC, e.g. "2026-12-03T16:00:00Z",
 * fractions optional) as stored events write it; false when it is not one. */
bool feed_time_parse(const char *text, char out[STORE_TIME_LEN]);

/*
 * Read one page of q (its after_seq is the cursor's seq; limit 0 means
 * FEED_PAGE_DEFAULT), oldest first, calling fn for each event.  *next_seq
 * becomes the cursor to continue from: the last event delivered, or
 * q->after_seq when none was.  fn may stop the page early by returning
 * ERR_TOO_MANY after taking the event it was given (counted as delivered).
 */
enum status feed_read(struct store *store, const struct store_event_query *q, store_event_fn fn,
                      void *ctx, int64_t *next_seq);

/*
 * A follower for people (`scimd audit --follow`): events are shown as soon
 * as they are visible, not only once the horizon passes them, and still none is
 * skipped or shown twice: events after `settled` that were delivered are
 * remembered until the settled prefix passes them.  The price is order: an
 * event that commits late comes after newer ones.  Not resumable by cursor.
 */
#define FEED_TAIL_BATCH 1000
struct feed_tail {
    int64_t settled; /* every event up to here was delivered */
    int64_t *seen;   /* delivered events after settled, ascending */
    size_t n_seen, cap_seen;
};
void feed_tail_init(struct feed_tail *t, int64_t from);
void feed_tail_release(struct feed_tail *t);
/* Count seq (> settled) as delivered by someone else (a first page shown). */
enum status feed_tail_mark(struct feed_tail *t, int64_t seq);
/* Deliver the events of q (after_seq and limit are the tail's) not yet delivered. */
enum status feed_tail_read(struct store *store, const struct store_event_query *q,
                           struct feed_tail *t, store_event_fn fn, void *ctx);

/* The cursor of "now": the newest event with every event before it settled
 * (up to the horizon; 0 on an empty log).  A reader starting there misses nothing that commits
 * from then on. */
enum status feed_head(struct store *store, int64_t *seq);

/* An event as JSON: cursor, seq, id, at, type, tenant_id, idp_id, actor,
 * subject_id, summary (an object or null), source.  NULL when out of memory. */
json_t *feed_event_json(const struct store_event *e);

#endif
