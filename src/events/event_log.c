/* SPDX-License-Identifier: Apache-2.0 */
/*
 * event_log.c - this file contains the event log writer of event_log.h:
 * finding the position in an existing file, the thread, batches, reopening.
 */
#include "events/event_log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/str.h"
#include "directory/feed.h"

struct event_log {
    struct directory *dir;
    char *path; /* NULL: standard output */
    FILE *out;
    int64_t position; /* the seq of the last event written */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping; /* under lock */
    bool reopen;   /* under lock */
    bool failing;  /* the last write failed (logged once until it works again) */
};

/* The seq of the last complete line of f (opened for reading), 0 when there
 * is none; *ends_open when the file ends inside a line (a crash mid-write). */
static int64_t last_line_seq(FILE *f, bool *ends_open)
{
    *ends_open = false;
    if (fseek(f, 0, SEEK_END) != 0)
        return 0;
    long size = ftell(f);
    if (size <= 0)
        return 0;
    long from = size > EVENT_LOG_TAIL_BYTES ? size - EVENT_LOG_TAIL_BYTES : 0;
    char *tail = malloc((size_t)(size - from) + 1);
    if (tail == NULL || fseek(f, from, SEEK_SET) != 0) {
        free(tail);
        return 0;
    }
    size_t n = fread(tail, 1, (size_t)(size - from), f);
    tail[n] = '\0';
    int64_t seq = 0;
    *ends_open = n > 0 && tail[n - 1] != '\n';
    /* the last complete line: up to the last '\n' */
    char *end = strrchr(tail, '\n');
    if (end != NULL) {
        *end = '\0';
        char *start = strrchr(tail, '\n');
        start = start ? start + 1 : tail;
        json_t *line = json_loads(start, 0, NULL);
        const char *cursor = json_string_value(json_object_get(line, "cursor"));
        if (cursor == NULL || !feed_cursor_parse(cursor, &seq))
            seq = 0;
        json_decref(line);
    }
    free(tail);
    return seq;
}

static FILE *open_file(const char *path)
{
    FILE *f = fopen(path, "a+");
    if (f == NULL)
        log_error("event log: cannot open %s: %s", path, strerror(errno));
    return f;
}

/* Write one event as a line (buffered; flushed per batch). */
static enum status write_line(void *ctx, const struct store_event *e)
{
    struct event_log *log = ctx;
    json_t *j = feed_event_json(e);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (text == NULL)
        return ERR_NOMEM;
    int rc = fprintf(log->out, "%s\n", text);
    free(text);
    return rc < 0 ? ERR_IO : OK;
}

static void reopen_file(struct event_log *log)
{
    FILE *f = open_file(log->path);
    if (f == NULL)
        return; /* keep writing to the old one; the next SIGHUP tries again */
    fclose(log->out);
    log->out = f;
    log_info("event log: reopened %s", log->path);
}

/* One batch: read, write, flush; the position moves only when all of it is out. */
static void write_batch(struct event_log *log)
{
    struct store_event_query q = { .after_seq = log->position, .limit = EVENT_LOG_BATCH };
    int64_t next = log->position;
    enum status rc = feed_read(log->dir->store, &q, write_line, log, &next);
    if (rc == OK && fflush(log->out) != 0)
        rc = ERR_IO;
    if (rc != OK) {
        if (!log->failing)
            log_error("event log: cannot write events after seq %lld: %s%s%s",
                      (long long)log->position, status_name(rc), rc == ERR_IO ? ": " : "",
                      rc == ERR_IO ? strerror(errno) : "");
        log->failing = true;
        clearerr(log->out);
        return;
    }
    if (log->failing)
        log_info("event log: writing again");
    log->failing = false;
    log->position = next;
}

static void *run(void *arg)
{
    struct event_log *log = arg;
    pthread_mutex_lock(&log->lock);
    while (!log->stopping) {
        bool reopen = log->reopen;
        log->reopen = false;
        pthread_mutex_unlock(&log->lock);
        if (reopen && log->path)
            reopen_file(log);
        int64_t before = log->position;
        write_batch(log);
        bool more = log->position - before >= EVENT_LOG_BATCH; /* a full batch: go on at once */
        pthread_mutex_lock(&log->lock);
        if (more || log->stopping || log->reopen)
            continue;
        struct timespec until = clock_deadline_in_ms(EVENT_LOG_POLL_MS);
        pthread_cond_timedwait(&log->wake, &log->lock, &until);
    }
    pthread_mutex_unlock(&log->lock);
    return NULL;
}

enum status event_log_start(struct directory *dir, const char *path, struct event_log **out,
                            struct scim_error *err)
{
    scim_error_clear(err);
    struct event_log *log = calloc(1, sizeof(*log));
    if (log == NULL)
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    log->dir = dir;
    bool to_stdout = strcmp(path, "-") == 0;
    enum status rc = OK;
    if (to_stdout) {
        log->out = stdout;
    } else {
        log->path = str_dup(path);
        log->out = log->path ? fopen(path, "a+") : NULL;
        if (log->out == NULL) {
            rc = scim_error_set(err, ERR_IO, "cannot open the event log %s: %s", path,
                                strerror(errno));
            goto fail;
        }
        bool ends_open = false;
        log->position = last_line_seq(log->out, &ends_open);
        if (ends_open) /* a line cut by a crash: the next one starts on its own line */
            fputc('\n', log->out);
    }
    if (log->position == 0 && (rc = feed_head(dir->store, &log->position)) != OK) {
        scim_error_set(err, rc, "cannot read the events feed");
        goto fail;
    }
    pthread_mutex_init(&log->lock, NULL);
    pthread_cond_init(&log->wake, NULL);
    if (pthread_create(&log->thread, NULL, run, log) != 0) {
        pthread_cond_destroy(&log->wake);
        pthread_mutex_destroy(&log->lock);
        rc = scim_error_set(err, ERR_IO, "cannot start the event log thread");
        goto fail;
    }
    *out = log;
    return OK;
fail:
    if (log->out && log->out != stdout)
        fclose(log->out);
    free(log->path);
    free(log);
    return rc;
}

void event_log_reopen(struct event_log *log)
{
    if (log == NULL)
        return;
    pthread_mutex_lock(&log->lock);
    log->reopen = true;
    pthread_cond_signal(&log->wake);
    pthread_mutex_unlock(&log->lock);
}

void event_log_stop(struct event_log *log)
{
    if (log == NULL)
        return;
    pthread_mutex_lock(&log->lock);
    log->stopping = true;
    pthread_cond_signal(&log->wake);
    pthread_mutex_unlock(&log->lock);
    pthread_join(log->thread, NULL);
    if (log->out == stdout)
        fflush(stdout);
    else
        fclose(log->out);
    pthread_cond_destroy(&log->wake);
    pthread_mutex_destroy(&log->lock);
    free(log->path);
    free(log);
}
