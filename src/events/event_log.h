/* SPDX-License-Identifier: Apache-2.0 */
/*
 * event_log.h - `scimd serve --event-log FILE|-`: every committed event as
 * one JSON line (directory/feed.h's shape), in commit order, for log
 * shippers (Vector, Fluent Bit, Filebeat, journald via stdout).
 *
 * One thread reads the events feed after its position (so late commits on
 * PostgreSQL are waited for, not skipped: directory/feed.h), appends
 * a batch of lines and flushes once per batch.  A FILE is opened for
 * appending; at start the position is the cursor of its last complete line
 * (nothing lost or repeated across restarts), or, for a new or empty file
 * and for '-' (standard output), the head of the feed (events from then
 * on).  A write that fails is retried from the same position (at least
 * once: lines may repeat, never go missing).  SIGHUP reopens FILE
 * (logrotate: rename, then SIGHUP) and the next batch goes to the new one.
 *
 * Ownership: event_log_start borrows dir until event_log_stop, which joins
 * the thread and closes the file.  Thread safety: reopen from any thread.
 */
#ifndef SCIMD_EVENTS_EVENT_LOG_H
#define SCIMD_EVENTS_EVENT_LOG_H

#include "core/status.h"
#include "directory/directory.h"

#define EVENT_LOG_POLL_MS    250   /* idle wait between reads of the feed */
#define EVENT_LOG_BATCH      1000  /* events per batch (one flush) */
#define EVENT_LOG_TAIL_BYTES 65536 /* how far back the last line of FILE is looked for */

struct event_log;

/* Open path ("-": standard output), find the position, start the thread. */
enum status event_log_start(struct directory *dir, const char *path, struct event_log **out,
                            struct scim_error *err);
/* Reopen the file before the next batch (SIGHUP). */
void event_log_reopen(struct event_log *log);
/* Stop the thread (after the batch in flight), flush and close.  NULL: no-op. */
void event_log_stop(struct event_log *log);

#endif
