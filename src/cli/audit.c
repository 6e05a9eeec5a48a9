/* SPDX-License-Identifier: Apache-2.0 */
/*
 * audit.c - `scimd audit`: the audit log, oldest first, optionally followed
 * (polling the store) until SIGINT or SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/str.h"
#include "directory/apps.h"

#define CLI_AUDIT_DEFAULT_LIMIT 100
#define CLI_AUDIT_MAX_LIMIT     1000000
#define CLI_FOLLOW_POLL_MS      500

struct audit_print {
    struct cli *cli;
    json_t *array; /* --json without --follow: printed at the end */
    int64_t last_seq;
};

static enum status print_event(void *ctx, const struct store_event *e)
{
    struct audit_print *p = ctx;
    p->last_seq = e->seq;
    json_t *summary = e->summary ? json_loads(e->summary, 0, NULL) : NULL;
    if (p->array) {
        json_array_append_new(
            p->array,
            json_pack("{s:I,s:s,s:s,s:s,s:o,s:o,s:s,s:o,s:o,s:o,s:o}", "seq", (json_int_t)e->seq,
                      "id", e->id, "at", e->at, "type", e->type, "tenant_id",
                      cli_nullable(e->tenant_id), "idp_id", cli_nullable(e->idp_id), "actor",
                      e->actor, "subject_id", cli_nullable(e->subject_id), "summary",
                      summary ? summary : json_object(), "source", cli_nullable(e->source),
                      "request_id", cli_nullable(e->request_id)));
        return OK;
    }
    printf("%s  %-22s  %s  subject=%s  %s%s%s%s%s\n", e->at, e->type, e->actor,
           e->subject_id ? e->subject_id : "-", e->summary ? e->summary : "",
           e->source ? "  from " : "", e->source ? e->source : "",
           e->request_id ? "  req=" : "", e->request_id ? e->request_id : "");
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

int cli_audit(struct cli *cli)
{
    long limit = CLI_AUDIT_DEFAULT_LIMIT;
    const char *limit_text = cli_opt(cli, "limit");
    if (limit_text && !str_to_long(limit_text, 1, CLI_AUDIT_MAX_LIMIT, &limit))
        return cli_usage_error("--limit must be a number from 1 to %d, not '%s'",
                               CLI_AUDIT_MAX_LIMIT, limit_text);
    struct store_event_query q = { .type = cli_opt(cli, "type"),
                                   .idp_id = cli_opt(cli, "idp"),
                                   .limit = (size_t)limit };
    /* --app: the steps of one app's fan-out (its engine events), in its tenant */
    char app_actor[8 + STORE_ID_LEN];
    struct store_app app;
    const char *app_id = cli_opt(cli, "app");
    if (app_id) {
        struct scim_error err;
        if (directory_app_get(&cli->dir, app_id, &app, &err) != OK)
            return cli_failure(&err);
        store_app_release(&app);
        snprintf(app_actor, sizeof(app_actor), "app:%s", app.id);
        q.actor = app_actor;
        q.tenant_id = app.tenant_id;
    }
    struct store_tenant tenant;
    const char *tenant_key = cli_opt(cli, "tenant");
    if (tenant_key) {
        int code = cli_find_tenant(cli, tenant_key, &tenant);
        if (code != CLI_EXIT_OK)
            return code;
        q.tenant_id = tenant.id;
    }
    bool follow = cli_flag(cli, "follow");
    struct audit_print p = { cli, cli->json && !follow ? json_array() : NULL, 0 };
    signal(SIGINT, on_stop_signal);
    signal(SIGTERM, on_stop_signal);
    do {
        struct store_tx *tx = NULL;
        enum status rc = store_begin(cli->store, false, &tx);
        if (rc == OK) {
            q.after_seq = p.last_seq;
            rc = store_event_each(tx, &q, print_event, &p);
            store_rollback(tx);
        }
        if (rc != OK) {
            json_decref(p.array);
            return cli_store_failure(rc);
        }
        if (follow)
            usleep(CLI_FOLLOW_POLL_MS * 1000);
    } while (follow && !stop_requested);
    if (p.array)
        cli_print_json(p.array);
    return CLI_EXIT_OK;
}
