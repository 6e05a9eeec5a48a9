/*
 * deadline.c - the slow-client watchdog: a list of open connections with
 * absolute deadlines and a thread that shuts down the sockets of those past
 * theirs.  See deadline.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "http/deadline.h"

struct http_deadline {
    struct http_deadline *prev, *next;
    int fd;
    _Atomic int64_t deadline_ms; /* 0: none */
};

struct http_deadlines {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool stopping;
    struct http_deadline head; /* sentinel of a circular list */
};

int64_t http_deadline_in(unsigned seconds)
{
    return clock_mono_ms() + (int64_t)seconds * 1000;
}

/* Shut down every socket past its deadline; the caller holds the lock. */
static void expire(struct http_deadlines *set, int64_t now)
{
    for (struct http_deadline *e = set->head.next; e != &set->head; e = e->next) {
        int64_t deadline = atomic_load_explicit(&e->deadline_ms, memory_order_relaxed);
        if (deadline == 0 || deadline > now)
            continue;
        atomic_store_explicit(&e->deadline_ms, 0, memory_order_relaxed);
        /* The owner's event loop sees end-of-stream and closes the connection. */
        shutdown(e->fd, SHUT_RDWR);
    }
}

static void *watchdog(void *arg)
{
    struct http_deadlines *set = arg;
    pthread_mutex_lock(&set->lock);
    while (!set->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += (long)HTTP_DEADLINE_TICK_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        int rc = pthread_cond_timedwait(&set->wake, &set->lock, &until);
        if (rc != 0 && rc != ETIMEDOUT)
            continue;
        if (!set->stopping)
            expire(set, clock_mono_ms());
    }
    pthread_mutex_unlock(&set->lock);
    return NULL;
}

enum status http_deadlines_start(struct http_deadlines **out)
{
    struct http_deadlines *set = calloc(1, sizeof(*set));
    if (set == NULL)
        return ERR_NOMEM;
    set->head.next = set->head.prev = &set->head;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    bool cond_ok = pthread_cond_init(&set->wake, &attr) == 0;
    pthread_condattr_destroy(&attr);
    if (!cond_ok) {
        free(set);
        return ERR_NOMEM;
    }
    pthread_mutex_init(&set->lock, NULL);
    if (pthread_create(&set->thread, NULL, watchdog, set) != 0) {
        log_error("cannot start the slow-client watchdog thread");
        pthread_cond_destroy(&set->wake);
        pthread_mutex_destroy(&set->lock);
        free(set);
        return ERR_IO;
    }
    *out = set;
    return OK;
}

void http_deadlines_stop(struct http_deadlines *set)
{
    if (set == NULL)
        return;
    pthread_mutex_lock(&set->lock);
    set->stopping = true;
    pthread_cond_signal(&set->wake);
    pthread_mutex_unlock(&set->lock);
    pthread_join(set->thread, NULL);
    struct http_deadline *e = set->head.next;
    while (e != &set->head) {
        struct http_deadline *next = e->next;
        free(e);
        e = next;
    }
    pthread_cond_destroy(&set->wake);
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
    pthread_mutex_lock(&set->lock);
    e->next = &set->head;
    e->prev = set->head.prev;
    set->head.prev->next = e;
    set->head.prev = e;
    pthread_mutex_unlock(&set->lock);
    return e;
}

void http_deadlines_remove(struct http_deadlines *set, struct http_deadline *e)
{
    if (e == NULL)
        return;
    pthread_mutex_lock(&set->lock);
    e->prev->next = e->next;
    e->next->prev = e->prev;
    pthread_mutex_unlock(&set->lock);
    free(e);
}

void http_deadline_set(struct http_deadline *e, int64_t deadline_ms)
{
    if (e != NULL)
        atomic_store_explicit(&e->deadline_ms, deadline_ms, memory_order_relaxed);
}
