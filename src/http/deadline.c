/* SPDX-License-Identifier: Apache-2.0 */
/*
 * deadline.c - the slow-client watchdog: a list of open connections with
 * absolute deadlines, a list of closed ones still lingering, and a thread
 * that shuts down the sockets past their deadline and drains the lingering
 * ones.  See deadline.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "http/deadline.h"

struct http_deadline {
    struct http_deadline *prev, *next;
    int fd;
    _Atomic int64_t deadline_ms; /* 0: none; lingering: when to give up */
    atomic_bool linger;
    size_t discarded; /* lingering: bytes read and dropped */
};

struct http_deadlines {
    pthread_mutex_t lock;
    pthread_t thread;
    int wake[2]; /* a pipe: written to stop the watchdog */
    bool stopping;
    struct http_deadline open;      /* sentinel: connections libmicrohttpd holds */
    struct http_deadline lingering; /* sentinel: closed by it, still draining */
    size_t n_lingering;
};

int64_t http_deadline_in(unsigned seconds)
{
    return clock_mono_ms() + (int64_t)seconds * 1000;
}

static void list_init(struct http_deadline *head)
{
    head->next = head->prev = head;
}

static void list_push(struct http_deadline *head, struct http_deadline *e)
{
    e->next = head;
    e->prev = head->prev;
    head->prev->next = e;
    head->prev = e;
}

static void list_unlink(struct http_deadline *e)
{
    e->prev->next = e->next;
    e->next->prev = e->prev;
}

/* Shut down every open socket past its deadline; the caller holds the lock. */
static void expire(struct http_deadlines *set, int64_t now)
{
    for (struct http_deadline *e = set->open.next; e != &set->open; e = e->next) {
        int64_t deadline = atomic_load_explicit(&e->deadline_ms, memory_order_relaxed);
        if (deadline == 0 || deadline > now)
            continue;
        atomic_store_explicit(&e->deadline_ms, 0, memory_order_relaxed);
        /* The owner's event loop sees end-of-stream and closes the connection. */
        shutdown(e->fd, SHUT_RDWR);
    }
}

/* Read and drop what a lingering client sent; true when done with it
 * (end of stream, error, or enough bytes). */
static bool drain(struct http_deadline *e)
{
    char sink[16384];
    for (;;) {
        ssize_t n = recv(e->fd, sink, sizeof(sink), MSG_DONTWAIT);
        if (n > 0) {
            e->discarded += (size_t)n;
            if (e->discarded >= HTTP_LINGER_BYTES)
                return true;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
    }
}

/* Drain every lingering socket; close those done or out of time.  Only
 * the watchdog frees lingering entries; the caller holds the lock. */
static void linger_pass(struct http_deadlines *set, int64_t now)
{
    struct http_deadline *e = set->lingering.next;
    while (e != &set->lingering) {
        struct http_deadline *next = e->next;
        if (drain(e) || atomic_load_explicit(&e->deadline_ms, memory_order_relaxed) <= now) {
            list_unlink(e);
            close(e->fd);
            free(e);
            set->n_lingering--;
        }
        e = next;
    }
}

static void *watchdog(void *arg)
{
    struct http_deadlines *set = arg;
    for (;;) {
        struct pollfd fds[1 + HTTP_LINGER_MAX];
        nfds_t n = 0;
        fds[n++] = (struct pollfd){ .fd = set->wake[0], .events = POLLIN };
        pthread_mutex_lock(&set->lock);
        bool stopping = set->stopping;
        for (struct http_deadline *e = set->lingering.next;
             e != &set->lingering && n < sizeof(fds) / sizeof(fds[0]); e = e->next)
            fds[n++] = (struct pollfd){ .fd = e->fd, .events = POLLIN };
        pthread_mutex_unlock(&set->lock);
        if (stopping)
            break;
        /* fds stay valid: only this thread closes lingering sockets */
        poll(fds, n, HTTP_DEADLINE_TICK_MS);
        pthread_mutex_lock(&set->lock);
        int64_t now = clock_mono_ms();
        linger_pass(set, now);
        if (!set->stopping)
            expire(set, now);
        pthread_mutex_unlock(&set->lock);
    }
    return NULL;
}

enum status http_deadlines_start(struct http_deadlines **out)
{
    struct http_deadlines *set = calloc(1, sizeof(*set));
    if (set == NULL)
        return ERR_NOMEM;
    list_init(&set->open);
    list_init(&set->lingering);
    if (pipe2(set->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        free(set);
        return ERR_IO;
    }
    pthread_mutex_init(&set->lock, NULL);
    if (pthread_create(&set->thread, NULL, watchdog, set) != 0) {
        log_error("cannot start the slow-client watchdog thread");
        pthread_mutex_destroy(&set->lock);
        close(set->wake[0]);
        close(set->wake[1]);
        free(set);
        return ERR_IO;
    }
    *out = set;
    return OK;
}

static void free_list(struct http_deadline *head, bool close_fds)
{
    struct http_deadline *e = head->next;
    while (e != head) {
        struct http_deadline *next = e->next;
        if (close_fds)
            close(e->fd);
        free(e);
        e = next;
    }
    list_init(head);
}

void http_deadlines_stop(struct http_deadlines *set)
{
    if (set == NULL)
        return;
    pthread_mutex_lock(&set->lock);
    set->stopping = true;
    pthread_mutex_unlock(&set->lock);
    ssize_t ignored = write(set->wake[1], "x", 1);
    (void)ignored;
    pthread_join(set->thread, NULL);
    free_list(&set->open, false);     /* their sockets belong to libmicrohttpd */
    free_list(&set->lingering, true); /* these are the set's duplicates */
    close(set->wake[0]);
    close(set->wake[1]);
    pthread_mutex_destroy(&set->lock);
    free(set);
}

struct http_deadline *http_deadlines_add(struct http_deadlines *set, int fd, int64_t deadline_ms)
{
    struct http_deadline *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    e->fd = fd;
    atomic_init(&e->deadline_ms, deadline_ms);
    atomic_init(&e->linger, false);
    pthread_mutex_lock(&set->lock);
    list_push(&set->open, e);
    pthread_mutex_unlock(&set->lock);
    return e;
}

void http_deadlines_remove(struct http_deadlines *set, struct http_deadline *e)
{
    if (e == NULL)
        return;
    pthread_mutex_lock(&set->lock);
    list_unlink(e);
    if (atomic_load(&e->linger) && !set->stopping && set->n_lingering < HTTP_LINGER_MAX) {
        /* libmicrohttpd closes its descriptor right after this; a duplicate
         * keeps the socket, so no reset goes out while the client sends */
        int fd = fcntl(e->fd, F_DUPFD_CLOEXEC, 0);
        if (fd >= 0) {
            e->fd = fd;
            e->discarded = 0;
            atomic_store(&e->deadline_ms, clock_mono_ms() + HTTP_LINGER_MS);
            list_push(&set->lingering, e);
            set->n_lingering++;
            pthread_mutex_unlock(&set->lock);
            return;
        }
    }
    pthread_mutex_unlock(&set->lock);
    free(e);
}

void http_deadline_set(struct http_deadline *e, int64_t deadline_ms)
{
    if (e != NULL)
        atomic_store_explicit(&e->deadline_ms, deadline_ms, memory_order_relaxed);
}

void http_deadline_linger(struct http_deadline *e)
{
    if (e != NULL)
        atomic_store(&e->linger, true);
}
