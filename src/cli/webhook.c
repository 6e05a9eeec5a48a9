/* SPDX-License-Identifier: Apache-2.0 */
/*
 * webhook.c - `scimd webhook create|list|show|disable|enable|delete|replay`:
 * event subscriptions of a tenant (src/events/subscriptions.h).  The signing
 * secret (json) or poll bearer (set --poll) is printed once at creation and
 * never again; `show` prints the delivery log and the dead letters.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "events/subscriptions.h"

#define SHOW_ATTEMPTS 20 /* delivery log lines `show` prints */
#define SHOW_DEAD     20 /* dead letters `show` prints */

/* The key file, loaded when there is one (json secrets need it). */
static int load_box(struct cli *cli, struct secretbox *box, bool *loaded)
{
    *loaded = false;
    char key_path[1024];
    if (!cli_key_path(cli, key_path, sizeof(key_path))) {
        fprintf(stderr, "scimd: no key file to seal the webhook secret: give --key-file or "
                        "SCIMD_KEY_FILE (the same one serve uses)\n");
        return CLI_EXIT_FAIL;
    }
    struct scim_error err;
    scim_error_clear(&err);
    if (secretbox_load_file(box, key_path, &err) != OK)
        return cli_failure(&err);
    *loaded = true;
    return CLI_EXIT_OK;
}

int cli_webhook_create(struct cli *cli)
{
    struct webhook_new nw = {
        .tenant_key = cli_opt(cli, "tenant"),
        .url = cli_opt(cli, "url"),
        .format = cli_opt(cli, "format"),
        .poll = cli_flag(cli, "poll"),
        .events = cli_opt(cli, "events"),
        .audience = cli_opt(cli, "audience"),
    };
    if (!nw.tenant_key || (nw.url == NULL) == !nw.poll || cli->n_args)
        return cli_usage(cli);
    struct secretbox box;
    bool have_box = false;
    bool json_format = nw.format == NULL || strcmp(nw.format, "json") == 0;
    if (json_format) {
        int code = load_box(cli, &box, &have_box);
        if (code != CLI_EXIT_OK)
            return code;
    }
    struct store_webhook w;
    struct webhook_credential cred;
    struct scim_error err;
    struct actor by = { "cli", NULL };
    enum status rc = webhooks_create(&cli->dir, have_box ? &box : NULL, &nw, &by, &w, &cred, &err);
    if (have_box)
        secretbox_release(&box);
    if (rc != OK)
        return cli_failure(&err);
    if (cli->json) {
        json_t *j = webhooks_json(&w);
        if (cred.secret[0])
            json_object_set_new(j, "secret", json_string(cred.secret));
        if (cred.poll_token[0]) {
            json_object_set_new(j, "poll_token", json_string(cred.poll_token));
            char url[DIRECTORY_URL_MAX + 64];
            snprintf(url, sizeof(url), "%s" WEBHOOK_POLL_PATH "%s", cli->dir.public_url, w.id);
            json_object_set_new(j, "poll_url", json_string(url));
        }
        cli_print_json(j);
    } else {
        printf("webhook %s created (%s, %s)\n", w.id, w.format, w.delivery);
        if (cred.secret[0])
            printf("Signing secret: %s\n"
                   "                (shown once; verify webhook-signature with it)\n",
                   cred.secret);
        if (cred.poll_token[0])
            printf("Poll URL:       %s" WEBHOOK_POLL_PATH "%s\nPoll bearer:    %s\n"
                   "                (shown once; scimd keeps only its SHA-256)\n",
                   cli->dir.public_url, w.id, cred.poll_token);
        if (strcmp(w.format, "set") == 0)
            printf("SET keys:       %s/.well-known/jwks.json\n", cli->dir.public_url);
    }
    memset(&cred, 0, sizeof(cred));
    return CLI_EXIT_OK;
}

static enum status print_webhook(void *ctx, const struct store_webhook *w)
{
    struct cli_list *l = ctx;
    if (l->cli->json)
        json_array_append_new(l->array, webhooks_json(w));
    else
        printf("%s  %-8s  %-4s %-4s  %s\n", w->id, w->state, w->format, w->delivery,
               w->url[0] ? w->url : "(poll)");
    return OK;
}

struct webhook_list {
    struct cli_list list;
    const char *tenant_id;
};

static enum status read_webhooks(struct store_tx *tx, void *ctx)
{
    struct webhook_list *l = ctx;
    return store_webhook_each(tx, l->tenant_id, print_webhook, &l->list);
}

int cli_webhook_list(struct cli *cli)
{
    const char *tenant_key = cli_opt(cli, "tenant");
    if (!tenant_key || cli->n_args)
        return cli_usage(cli);
    struct store_tenant tenant;
    int code = cli_find_tenant(cli, tenant_key, &tenant);
    if (code != CLI_EXIT_OK)
        return code;
    struct webhook_list l = { { cli, json_array() }, tenant.id };
    return cli_list_in_read_tx(cli, read_webhooks, &l.list);
}

/* ---- show -------------------------------------------------------------------------------------
 */

static void print_text(const struct store_webhook *w, const json_t *detail)
{
    const json_t *counts = json_object_get(detail, "counts");
    const json_t *log = json_object_get(detail, "deliveries");
    const json_t *dead = json_object_get(detail, "dead_letters");
    printf("id:             %s\nformat:         %s (%s)\nurl:            %s\nevents:         %s\n"
           "state:          %s%s%s\npending:        %lld\ndead letters:   %lld\n"
           "last success:   %s\nlast error:     %s\nfailing since:  %s\npaused until:   %s\n",
           w->id, w->format, w->delivery, w->url[0] ? w->url : "(poll)",
           w->events[0] ? w->events : "(all)", w->state, w->disabled_reason[0] ? ": " : "",
           w->disabled_reason, (long long)json_integer_value(json_object_get(counts, "pending")),
           (long long)json_integer_value(json_object_get(counts, "dead")),
           w->last_success_at[0] ? w->last_success_at : "-", w->last_error[0] ? w->last_error : "-",
           w->failing_since[0] ? w->failing_since : "-",
           w->paused_until[0] ? w->paused_until : "-");
    size_t i;
    const json_t *v;
    printf("\ndelivery log (newest first):\n");
    json_array_foreach(log, i, v)
    {
        printf("  %s  %s  attempt %lld  HTTP %lld  %-9s %5lld ms  %s\n",
               json_string_value(json_object_get(v, "at")),
               json_string_value(json_object_get(v, "event")),
               (long long)json_integer_value(json_object_get(v, "attempt")),
               (long long)json_integer_value(json_object_get(v, "status")),
               json_string_value(json_object_get(v, "outcome")),
               (long long)json_integer_value(json_object_get(v, "latency_ms")),
               json_is_string(json_object_get(v, "error"))
                   ? json_string_value(json_object_get(v, "error"))
                   : "");
    }
    printf("\ndead letters (replay with: scimd webhook replay %s --dead):\n", w->id);
    json_array_foreach(dead, i, v)
    {
        printf("  %s  attempts %lld  %s\n", json_string_value(json_object_get(v, "event")),
               (long long)json_integer_value(json_object_get(v, "attempts")),
               json_is_string(json_object_get(v, "last_error"))
                   ? json_string_value(json_object_get(v, "last_error"))
                   : "");
    }
}

int cli_webhook_show(struct cli *cli)
{
    if (cli->n_args != 1)
        return cli_usage(cli);
    struct store_tx *tx = NULL;
    enum status rc = store_begin(cli->store, false, &tx);
    if (rc != OK)
        return cli_store_failure(rc);
    struct store_webhook w;
    json_t *detail = NULL;
    rc = store_webhook_get(tx, NULL, cli->args[0], &w);
    if (rc == OK) {
        store_webhook_release(&w);
        rc = webhooks_detail_json(tx, &w, SHOW_ATTEMPTS, SHOW_DEAD, &detail);
    }
    store_rollback(tx);
    if (rc == ERR_NOT_FOUND) {
        fprintf(stderr, "scimd: no webhook '%s'\n", cli->args[0]);
        return CLI_EXIT_FAIL;
    }
    if (rc != OK)
        return cli_store_failure(rc);
    if (cli->json) {
        cli_print_json(detail);
        return CLI_EXIT_OK;
    }
    print_text(&w, detail);
    json_decref(detail);
    return CLI_EXIT_OK;
}

/* ---- state changes ------------------------------------------------------------------------------
 */

int cli_webhook_disable(struct cli *cli)
{
    return cli_set_state(cli, "webhook", webhooks_set_enabled, false);
}

int cli_webhook_enable(struct cli *cli)
{
    return cli_set_state(cli, "webhook", webhooks_set_enabled, true);
}

int cli_webhook_delete(struct cli *cli)
{
    return cli_delete(cli, "webhook", webhooks_delete);
}

int cli_webhook_replay(struct cli *cli)
{
    const char *from = cli_opt(cli, "from");
    bool dead = cli_flag(cli, "dead");
    if (cli->n_args != 1 || (from == NULL && !dead))
        return cli_usage(cli);
    struct scim_error err;
    struct actor by = { "cli", NULL };
    int64_t n = 0;
    if (webhooks_replay(&cli->dir, cli->args[0], from, dead, &by, &n, &err) != OK)
        return cli_failure(&err);
    if (cli->json)
        cli_print_json(json_pack("{s:s,s:I}", "id", cli->args[0], "queued", (json_int_t)n));
    else
        printf("%lld message(s) queued again for webhook %s\n", (long long)n, cli->args[0]);
    return CLI_EXIT_OK;
}
