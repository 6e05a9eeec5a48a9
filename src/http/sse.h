/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sse.h - long-lived Server-Sent Events responses without a thread each.
 *
 * A handler that wants to stream reserves a slot (bounded: at most
 * max_streams at once) and hands a source to its response; the server turns
 * it into a libmicrohttpd callback response.  One pump thread polls every
 * source (HTTP_SSE_POLL_MS) and adds a heartbeat comment when nothing was
 * sent for HTTP_SSE_HEARTBEAT_S.  While a stream has nothing to send its
 * connection is suspended, so it holds no worker thread; the pump resumes
 * it when there is.  A client that went away is noticed on the next write
 * (a heartbeat at the latest; a closed socket is seen within a poll) and
 * the stream freed.
 *
 * The slow-client watchdog (deadline.h) does not apply: a request being
 * answered has no deadline.  libmicrohttpd's idle timeout still closes a
 * stream whose client stops reading.  Before a daemon is stopped its
 * streams must be ended: libmicrohttpd may not stop with suspended
 * connections.  A connection only tells its worker daemon, not the daemon
 * the server started, so every stream is ended (http_sse_drain); clients
 * reconnect with Last-Event-ID.  This happens at shutdown and when the old
 * daemon of a TLS reload is finally stopped.
 *
 * Ownership: the hub owns each stream and its source from the moment the
 * response is made; sources are polled and freed on the pump thread only.
 * Thread safety: everything here may be called from any thread.
 */
#ifndef SCIMD_HTTP_SSE_H
#define SCIMD_HTTP_SSE_H

#include <stdbool.h>

#include "core/status.h"
#include "core/str.h"

#define HTTP_SSE_POLL_MS         500
#define HTTP_SSE_HEARTBEAT_S     15
#define HTTP_SSE_DEFAULT_STREAMS 32           /* open streams at once, all clients */
#define HTTP_SSE_BUFFER_BYTES    (256u << 10) /* unsent bytes per stream before polling pauses */
#define HTTP_SSE_MEDIA_TYPE      "text/event-stream; charset=utf-8"

struct MHD_Connection;
struct MHD_Response;

/* What a stream sends.  poll appends whole events to out (SSE framing is
 * the source's) and returns false to end the stream after them. */
struct http_sse_source {
    bool (*poll)(struct http_sse_source *src, struct buf *out);
    void (*free)(struct http_sse_source *src);
};

struct http_sse_hub;

enum status http_sse_hub_start(unsigned max_streams, struct http_sse_hub **out);
/* Join the pump and free every stream left; after the daemons stopped.  NULL: no-op. */
void http_sse_hub_stop(struct http_sse_hub *hub);

/* Take a slot; false when max_streams are open (the caller answers 503). */
bool http_sse_reserve(struct http_sse_hub *hub);
/* Give a slot back that no response was made for. */
void http_sse_unreserve(struct http_sse_hub *hub);
/* The response of a reserved slot: src is owned by the hub from now on,
 * even when NULL is returned (out of memory; the slot is given back). */
struct MHD_Response *http_sse_response(struct http_sse_hub *hub, struct MHD_Connection *conn,
                                       struct http_sse_source *src);
/* End every stream now, and streams made from now on at once, so a daemon
 * can be stopped; http_sse_drained once it is (not at shutdown). */
void http_sse_drain(struct http_sse_hub *hub);
void http_sse_drained(struct http_sse_hub *hub);

#endif
