/* SPDX-License-Identifier: Apache-2.0 */
/*
 * audit.c - `scimd audit`: the audit log, oldest first, filtered in the
 * store; a page of the ordered events feed from a cursor (--after); or
 * followed (polling, directory/feed.h's tail) until SIGINT or SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/str.h"
#include "directory/apps.h"
#include "directory/feed.h"

#define CLI_AUDIT_DEFAULT_LIMIT 100
#define CLI_AUDIT_MAX_LIMIT     1000000
#define CLI_FOLLOW_POLL_MS      500

struct audit_print {
    struct cli *cli;
    json_t *array; /* --json without --follow: printed at the end */
    int64_t last_seq;
    struct feed_tail *tail; /* --follow: what the first page showed */
};

static enum status print_event(void *ctx, const struct store_event *e)
{
    struct audit_print *p = ctx;
    p->last_seq = e->seq;
    if (p->tail && feed_tail_mark(p->tail, e->seq) != OK)
        return ERR_NOMEM;
    json_t *summary = e->summary ? json_loads(e->summary, 0, NULL) : NULL;
    if (p->cli->json) {
        char cursor[FEED_CURSOR_LEN];
        feed_cursor_format(e->seq, cursor);
        json_t *j =
            json_pack("{s:s,s:I,s:s,s:s,s:s,s:o,s:o,s:s,s:o,s:o,s:o,s:o}", "cursor", cursor, "seq",
                      (json_int_t)e->seq, "id", e->id, "at", e->at, "type", e->type, "tenant_id",
                      cli_nullable(e->tenant_id), "idp_id", cli_nullable(e->idp_id), "actor",
                      e->actor ? e->actor : "", "subject_id", cli_nullable(e->subject_id),
                      "summary", summary ? summary : json_object(), "source",
                      cli_nullable(e->source), "request_id", cli_nullable(e->request_id));
        if (p->array) {
            json_array_append_new(p->array, j);
        } else { /* --follow --json: one object a line */
            char *line = json_dumps(j, JSON_COMPACT);
            if (line)
                printf("%s\n", line);
            free(line);
            json_decref(j);
            fflush(stdout);
        }
        return OK;
    }
    printf("%s  %-22s  %s  subject=%s  %s%s%s%s%s\n", e->at, e->type, e->actor ? e->actor : "-",
           e->subject_id ? e->subject_id : "-", e->summary ? e->summary : "",
           e->source ? "  from " : "", e->source ? e->source : "", e->request_id ? "  req=" : "",
           e->request_id ? e->request_id : "");
    json_decref(summary);
    fflush(stdout);
    return OK;
}

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* The filters of the flags into q; a CLI exit code. */
/* q's strings point into app, app_actor, tenant, since and until, which the caller keeps. */
static int read_filters(struct cli *cli, struct store_event_query *q, struct store_app *app,
                        char *app_actor, size_t app_actor_size, struct store_tenant *tenant,
                        char since[STORE_TIME_LEN], char until[STORE_TIME_LEN])
{
    q->type = cli_opt(cli, "type");
    q->idp_id = cli_opt(cli, "idp");
    q->subject_id = cli_opt(cli, "subject");
    q->actor = cli_opt(cli, "actor");
    q->request_id = cli_opt(cli, "request-id");
    /* --app: the steps of one app's fan-out (its engine events), in its tenant */
    const char *app_id = cli_opt(cli, "app");
    if (app_id) {
        struct scim_error err;
        if (directory_app_get(&cli->dir, app_id, app, &err) != OK)
            return cli_failure(&err);
        store_app_release(app); /* its heap parts; the ids stay */
        snprintf(app_actor, app_actor_size, "app:%s", app->id);
        q->actor = app_actor;
        q->tenant_id = app->tenant_id;
    }
    const char *tenant_key = cli_opt(cli, "tenant");
    if (tenant_key) {
        int code = cli_find_tenant(cli, tenant_key, tenant);
        if (code != CLI_EXIT_OK)
            return code;
        q->tenant_id = tenant->id;
    }
    const char *text = cli_opt(cli, "since");
    if (text && !feed_time_parse(text, since))
        return cli_usage_error("--since must be a UTC time like 2026-12-03T16:00:00Z, not '%s'",
                               text);
    q->since = text ? since : NULL;
    text = cli_opt(cli, "until");
    if (text && !feed_time_parse(text, until))
        return cli_usage_error("--until must be a UTC time like 2026-12-03T16:00:00Z, not '%s'",
                               text);
    q->until = text ? until : NULL;
    return CLI_EXIT_OK;
}

/* --after: one page of the feed and the cursor to continue from. */
static int print_feed_page(struct cli *cli, struct store_event_query *q, struct audit_print *p)
{
    int64_t next = 0;
    enum status rc = feed_read(cli->store, q, print_event, p, &next);
    if (rc != OK) {
        json_decref(p->array);
        return cli_store_failure(rc);
    }
    char cursor[FEED_CURSOR_LEN];
    feed_cursor_format(next, cursor);
    if (p->array)
        cli_print_json(json_pack("{s:o,s:s}", "events", p->array, "next_cursor", cursor));
    else
        printf("next cursor: %s\n", cursor);
    return CLI_EXIT_OK;
}

int cli_audit(struct cli *cli)
{
    long limit = CLI_AUDIT_DEFAULT_LIMIT;
    const char *limit_text = cli_opt(cli, "limit");
    bool feed = cli_opt(cli, "after") != NULL;
    long max = feed ? FEED_PAGE_MAX : CLI_AUDIT_MAX_LIMIT;
    if (limit_text && !str_to_long(limit_text, 1, max, &limit))
        return cli_usage_error("--limit must be a number from 1 to %ld, not '%s'", max, limit_text);
    struct store_event_query q = { .limit = (size_t)limit };
    char app_actor[8 + STORE_ID_LEN], since[STORE_TIME_LEN], until[STORE_TIME_LEN];
    struct store_tenant tenant;
    struct store_app app;
    int code = read_filters(cli, &q, &app, app_actor, sizeof(app_actor), &tenant, since, until);
    if (code != CLI_EXIT_OK)
        return code;
    bool follow = cli_flag(cli, "follow");
    struct audit_print p = { cli, cli->json && !follow ? json_array() : NULL, 0, NULL };
    if (feed) {
        const char *after = cli_opt(cli, "after");
        if (!feed_cursor_parse(strcmp(after, "0") == 0 ? "" : after, &q.after_seq)) {
            json_decref(p.array);
            return cli_usage_error("--after must be a cursor scimd printed (ev_...), or '' for "
                                   "the start, not '%s'",
                                   after);
        }
        p.last_seq = q.after_seq;
        if (!follow)
            return print_feed_page(cli, &q, &p);
    }
    signal(SIGINT, on_stop_signal);
    signal(SIGTERM, on_stop_signal);
    /* the first round: the last N (or the feed from --after); then a tail
     * from there: new events at once, late commits too, none twice */
    bool first = !feed;
    struct feed_tail tail;
    int64_t head = p.last_seq;
    enum status rc = first && follow ? feed_head(cli->store, &head) : OK;
    if (rc != OK) {
        json_decref(p.array);
        return cli_store_failure(rc);
    }
    feed_tail_init(&tail, head);
    p.tail = follow ? &tail : NULL;
    do {
        if (first) {
            struct store_tx *tx = NULL;
            rc = store_begin(cli->store, false, &tx);
            if (rc == OK) {
                rc = store_event_each(tx, &q, print_event, &p);
                store_rollback(tx);
            }
            first = false;
            p.tail = NULL;
        } else {
            rc = feed_tail_read(cli->store, &q, &tail, print_event, &p);
        }
        if (rc != OK) {
            feed_tail_release(&tail);
            json_decref(p.array);
            return cli_store_failure(rc);
        }
        if (follow)
            usleep(CLI_FOLLOW_POLL_MS * 1000);
    } while (follow && !stop_requested);
    feed_tail_release(&tail);
    if (p.array)
        cli_print_json(p.array);
    return CLI_EXIT_OK;
}
