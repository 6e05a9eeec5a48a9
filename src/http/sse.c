/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sse.c - this file contains the streams of sse.h: the callback response,
 * suspension while idle, the pump thread and closing on shutdown.
 */
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/clock.h"
#include "http/sse.h"

#define SSE_BLOCK_BYTES 4096
/* Sent first, so the client sees the stream open before any event:
 * reconnect after 2 s (EventSource does so by itself). */
#define SSE_PREAMBLE  ": scimd event stream\nretry: 2000\n\n"
#define SSE_HEARTBEAT ": keep-alive\n\n"

struct stream {
    struct http_sse_hub *hub;
    struct MHD_Connection *conn;
    int fd; /* its socket, -1 when unknown */
    struct http_sse_source *src;
    struct buf out; /* under the hub's lock: bytes not yet handed to libmicrohttpd */
    size_t sent;    /* of out */
    int64_t last_write_ms;
    bool suspended; /* the connection waits for the pump to resume it */
    bool closing;   /* end once out is sent: shutdown, or the source ended */
    bool gone;      /* libmicrohttpd freed the response: the pump frees the stream */
    struct stream *next;
};

struct http_sse_hub {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t pump;
    bool stopping;
    bool draining; /* a daemon is being stopped: new streams start closed */
    unsigned max_streams;
    unsigned open; /* reserved slots, streams included */
    struct stream *streams;
};

bool http_sse_reserve(struct http_sse_hub *hub)
{
    pthread_mutex_lock(&hub->lock);
    bool ok = !hub->stopping && hub->open < hub->max_streams;
    if (ok)
        hub->open++;
    pthread_mutex_unlock(&hub->lock);
    return ok;
}

void http_sse_unreserve(struct http_sse_hub *hub)
{
    pthread_mutex_lock(&hub->lock);
    hub->open--;
    pthread_mutex_unlock(&hub->lock);
}

/* Under the lock: let a suspended connection go on. */
static void wake_stream(struct stream *s)
{
    if (s->suspended) {
        s->suspended = false;
        MHD_resume_connection(s->conn);
    }
}

/* libmicrohttpd asks for body bytes (on a worker thread). */
static ssize_t read_stream(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct stream *s = cls;
    pthread_mutex_lock(&s->hub->lock);
    ssize_t n;
    if (s->out.len > s->sent) {
        size_t left = s->out.len - s->sent;
        size_t take = left < max ? left : max;
        memcpy(buf, s->out.data + s->sent, take);
        s->sent += take;
        if (s->sent == s->out.len) {
            buf_reset(&s->out);
            s->sent = 0;
        }
        n = (ssize_t)take;
    } else if (s->closing) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        /* nothing to send: hold no worker until the pump has something */
        s->suspended = true;
        MHD_suspend_connection(s->conn);
        n = 0;
    }
    pthread_mutex_unlock(&s->hub->lock);
    return n;
}

/* The connection is done with the response (closed, or the client left). */
static void release_stream(void *cls)
{
    struct stream *s = cls;
    pthread_mutex_lock(&s->hub->lock);
    s->gone = true;
    s->suspended = false;
    pthread_cond_signal(&s->hub->wake);
    pthread_mutex_unlock(&s->hub->lock);
}

struct MHD_Response *http_sse_response(struct http_sse_hub *hub, struct MHD_Connection *conn,
                                       struct http_sse_source *src)
{
    struct stream *s = calloc(1, sizeof(*s));
    struct MHD_Response *r = NULL;
    if (s != NULL) {
        s->hub = hub;
        s->conn = conn;
        s->src = src;
        const union MHD_ConnectionInfo *sock =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        s->fd = sock ? sock->connect_fd : -1;
        buf_init(&s->out, HTTP_SSE_BUFFER_BYTES * 2);
        buf_puts(&s->out, SSE_PREAMBLE);
        s->last_write_ms = clock_mono_ms();
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, SSE_BLOCK_BYTES, read_stream, s,
                                              release_stream);
    }
    if (r == NULL) {
        if (s != NULL)
            buf_release(&s->out);
        free(s);
        src->free(src);
        http_sse_unreserve(hub);
        return NULL;
    }
    pthread_mutex_lock(&hub->lock);
    /* a stream made while a daemon stops must never suspend */
    s->closing = hub->draining;
    s->next = hub->streams;
    hub->streams = s;
    pthread_mutex_unlock(&hub->lock);
    return r;
}

void http_sse_drain(struct http_sse_hub *hub)
{
    if (hub == NULL)
        return;
    pthread_mutex_lock(&hub->lock);
    hub->draining = true;
    for (struct stream *s = hub->streams; s; s = s->next) {
        if (s->gone)
            continue;
        s->closing = true;
        wake_stream(s);
    }
    pthread_mutex_unlock(&hub->lock);
}

void http_sse_drained(struct http_sse_hub *hub)
{
    if (hub == NULL)
        return;
    pthread_mutex_lock(&hub->lock);
    hub->draining = false;
    pthread_mutex_unlock(&hub->lock);
}

static void free_stream(struct stream *s)
{
    s->src->free(s->src);
    buf_release(&s->out);
    free(s);
}

/* Under the lock: unlink the streams libmicrohttpd is done with; returns them. */
static struct stream *take_gone(struct http_sse_hub *hub)
{
    struct stream *gone = NULL;
    for (struct stream **p = &hub->streams; *p;) {
        struct stream *s = *p;
        if (!s->gone) {
            p = &s->next;
            continue;
        }
        *p = s->next;
        s->next = gone;
        gone = s;
        hub->open--;
    }
    return gone;
}

/* Under the lock, for a suspended stream (whose socket libmicrohttpd cannot
 * close meanwhile): has the client closed its side?  A suspended connection
 * is not watched by libmicrohttpd, so without this a gone client would only
 * be noticed by a failing heartbeat.  Peeking consumes nothing. */
static bool client_left(const struct stream *s)
{
    if (s->fd < 0)
        return false;
    char c;
    ssize_t n = recv(s->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* One round: poll every live stream that has room, outside the lock (the
 * stream cannot be freed meanwhile: only this thread frees). */
static void pump_round(struct http_sse_hub *hub)
{
    struct buf fresh;
    buf_init(&fresh, HTTP_SSE_BUFFER_BYTES);
    pthread_mutex_lock(&hub->lock);
    for (struct stream *s = hub->streams; s; s = s->next) {
        if (s->gone || s->closing)
            continue;
        if (s->suspended && client_left(s)) {
            s->closing = true;
            wake_stream(s);
            continue;
        }
        if (s->out.len - s->sent >= HTTP_SSE_BUFFER_BYTES)
            continue;
        pthread_mutex_unlock(&hub->lock);
        buf_reset(&fresh);
        bool more = s->src->poll(s->src, &fresh);
        int64_t now = clock_mono_ms();
        pthread_mutex_lock(&hub->lock);
        if (s->gone || s->closing)
            continue;
        if (fresh.len == 0 && now - s->last_write_ms >= (int64_t)HTTP_SSE_HEARTBEAT_S * 1000)
            buf_puts(&fresh, SSE_HEARTBEAT);
        if (fresh.failed)
            more = false;
        else if (fresh.len > 0)
            buf_append(&s->out, fresh.data, fresh.len);
        if (fresh.len > 0)
            s->last_write_ms = now;
        if (!more || s->out.failed)
            s->closing = true;
        if (fresh.len > 0 || s->closing)
            wake_stream(s);
    }
    pthread_mutex_unlock(&hub->lock);
    buf_release(&fresh);
}

static void *pump(void *arg)
{
    struct http_sse_hub *hub = arg;
    pthread_mutex_lock(&hub->lock);
    while (!hub->stopping) {
        struct stream *gone = take_gone(hub);
        bool any = hub->streams != NULL;
        pthread_mutex_unlock(&hub->lock);
        while (gone) {
            struct stream *next = gone->next;
            free_stream(gone);
            gone = next;
        }
        if (any)
            pump_round(hub);
        pthread_mutex_lock(&hub->lock);
        if (hub->stopping)
            break;
        struct timespec until = clock_deadline_in_ms(HTTP_SSE_POLL_MS);
        pthread_cond_timedwait(&hub->wake, &hub->lock, &until);
    }
    pthread_mutex_unlock(&hub->lock);
    return NULL;
}

enum status http_sse_hub_start(unsigned max_streams, struct http_sse_hub **out)
{
    struct http_sse_hub *hub = calloc(1, sizeof(*hub));
    if (hub == NULL)
        return ERR_NOMEM;
    hub->max_streams = max_streams;
    pthread_mutex_init(&hub->lock, NULL);
    pthread_cond_init(&hub->wake, NULL);
    if (pthread_create(&hub->pump, NULL, pump, hub) != 0) {
        pthread_cond_destroy(&hub->wake);
        pthread_mutex_destroy(&hub->lock);
        free(hub);
        return ERR_IO;
    }
    *out = hub;
    return OK;
}

void http_sse_hub_stop(struct http_sse_hub *hub)
{
    if (hub == NULL)
        return;
    pthread_mutex_lock(&hub->lock);
    hub->stopping = true;
    pthread_cond_signal(&hub->wake);
    pthread_mutex_unlock(&hub->lock);
    pthread_join(hub->pump, NULL);
    /* the daemons are stopped: every response was released */
    struct stream *s = hub->streams;
    while (s) {
        struct stream *next = s->next;
        free_stream(s);
        s = next;
    }
    pthread_cond_destroy(&hub->wake);
    pthread_mutex_destroy(&hub->lock);
    free(hub);
}
