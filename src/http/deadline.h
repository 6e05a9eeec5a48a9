/* SPDX-License-Identifier: Apache-2.0 */
/*
 * deadline.h - absolute deadlines for slow clients.
 *
 * libmicrohttpd's connection timeout is an idle timeout: a client that
 * sends one header byte every few seconds never hits it.  This module
 * keeps one entry per open connection with a deadline (monotonic ms, 0 for
 * none) and a watchdog thread that shuts down the socket of every
 * connection past its deadline; libmicrohttpd then sees the socket closed
 * and cleans the connection up as if the client had left.
 *
 * It also lingers on close (as nginx does): when the server answered a
 * request before reading its body, closing the socket at once would turn
 * the unread body into a reset that can destroy the answer on its way to
 * the client.  A lingering socket is kept (as a duplicate descriptor) for
 * up to HTTP_LINGER_MS after libmicrohttpd closes it, reading and
 * discarding what the client still sends, then closed.
 *
 * Ownership: the server adds an entry when a connection starts and removes
 * it when libmicrohttpd reports the connection closed, which happens
 * before the socket is closed, so the watchdog never touches a reused fd.
 * Thread safety: add/remove/stop lock; http_deadline_set is one atomic
 * store, safe from any thread while the entry exists.
 */
#ifndef SCIMD_HTTP_DEADLINE_H
#define SCIMD_HTTP_DEADLINE_H

#include <stdint.h>

#include "core/status.h"

#define HTTP_DEADLINE_TICK_MS 250        /* how often the watchdog looks */
#define HTTP_LINGER_MS        5000       /* longest a refused client may go on sending */
#define HTTP_LINGER_BYTES     (8u << 20) /* most bytes discarded per lingering socket */
#define HTTP_LINGER_MAX       16         /* lingering sockets at once (beyond: closed) */

struct http_deadlines;
struct http_deadline;

/* Start the watchdog thread. */
enum status http_deadlines_start(struct http_deadlines **out);
/* Stop the thread and free the set; entries still in it are freed too.
 * NULL is a no-op. */
void http_deadlines_stop(struct http_deadlines *set);

/* A new entry for socket fd with deadline_ms (0: none); NULL when out of memory. */
struct http_deadline *http_deadlines_add(struct http_deadlines *set, int fd, int64_t deadline_ms);
/* Remove and free e (NULL is a no-op); if it was marked to linger, its
 * socket lingers (see above) before the set lets go of it. */
void http_deadlines_remove(struct http_deadlines *set, struct http_deadline *e);
/* Linger when e's connection closes: the server answered before reading the body. */
void http_deadline_linger(struct http_deadline *e);
/* Move e's deadline (0 clears it). */
void http_deadline_set(struct http_deadline *e, int64_t deadline_ms);

/* Monotonic now + seconds, in the unit deadlines use. */
int64_t http_deadline_in(unsigned seconds);

#endif
