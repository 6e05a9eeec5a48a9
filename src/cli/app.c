/* SPDX-License-Identifier: Apache-2.0 */
/*
 * app.c - `scimd app create|list|show|disable|enable|delete|retry`,
 * `scimd grant add|remove|list` and `scimd user deactivate|activate`: the
 * downstream apps of a tenant, who reaches them, and the admin lifecycle
 * changes that fan out to them.  Secrets are read from files (never argv),
 * sealed with the key file and never printed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/str.h"
#include "directory/apps.h"

#define CLI_KEY_FILE_NAME "scimd.key"

bool cli_key_path(const struct cli *cli, char *out, size_t size)
{
    const char *given = config_get(&cli->config, "key-file");
    if (given && given[0])
        return str_copy(out, size, given);
    const char *db = cli->db ? cli->db : CLI_DEFAULT_DB;
    if (strncmp(db, "postgres://", 11) == 0 || strncmp(db, "postgresql://", 13) == 0) {
        const char *state = getenv("STATE_DIRECTORY");
        if (state == NULL || state[0] == '\0')
            return false;
        return snprintf(out, size, "%s/%s", state, CLI_KEY_FILE_NAME) < (int)size;
    }
    if (strncmp(db, "sqlite:", 7) == 0)
        db += 7;
    const char *slash = strrchr(db, '/');
    if (slash == NULL)
        return str_copy(out, size, CLI_KEY_FILE_NAME);
    return snprintf(out, size, "%.*s/%s", (int)(slash - db), db, CLI_KEY_FILE_NAME) < (int)size;
}

/* Read a secret from path: one line, surrounding whitespace cut.  Exit code. */
static int read_secret_file(const char *what, const char *path, char **out)
{
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "scimd: cannot read %s '%s': %s\n", what, path, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    char *buf = calloc(1, SECRETBOX_PLAIN_MAX + 2);
    size_t n = buf ? fread(buf, 1, SECRETBOX_PLAIN_MAX + 1, f) : 0;
    fclose(f);
    if (buf == NULL)
        return cli_store_failure(ERR_NOMEM);
    while (n > 0 &&
           (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
        buf[--n] = '\0';
    size_t start = strspn(buf, " \t");
    if (n > SECRETBOX_PLAIN_MAX || n == start || memchr(buf, '\n', n) != NULL) {
        memset(buf, 0, SECRETBOX_PLAIN_MAX + 2);
        free(buf);
        fprintf(stderr, "scimd: %s '%s' must hold one line of 1 to %d bytes\n", what, path,
                SECRETBOX_PLAIN_MAX);
        return CLI_EXIT_FAIL;
    }
    memmove(buf, buf + start, n - start + 1);
    *out = buf;
    return CLI_EXIT_OK;
}

static void secret_free(char *s)
{
    if (s)
        memset(s, 0, strlen(s));
    free(s);
}

static json_t *app_json(const struct store_app *a)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:b,s:b,s:s,s:o,s:o,s:o,s:I,s:s}", "id", a->id,
                     "tenant_id", a->tenant_id, "name", a->name, "scim_url", a->scim_url, "auth",
                     a->auth, "ca_file", cli_nullable(a->ca_file), "deprovision", a->deprovision,
                     "put_only", a->put_only, "push_groups", a->push_groups, "state", a->state,
                     "paused_until", cli_nullable(a->paused_until), "last_success_at",
                     cli_nullable(a->last_success_at), "last_error", cli_nullable(a->last_error),
                     "position", (json_int_t)a->position, "created_at", a->created_at);
}

int cli_app_create(struct cli *cli)
{
    const char *token_file = cli_opt(cli, "token-file");
    const char *password_file = cli_opt(cli, "password-file");
    struct directory_app_new na = {
        .tenant_key = cli_opt(cli, "tenant"),
        .name = cli_opt(cli, "name"),
        .scim_url = cli_opt(cli, "scim-url"),
        .basic_user = cli_opt(cli, "basic-user"),
        .ca_file = cli_opt(cli, "ca-file"),
        .deprovision = cli_opt(cli, "deprovision"),
        .put_only = cli_flag(cli, "put-only"),
        .push_groups = cli_flag(cli, "push-groups"),
    };
    if (!na.tenant_key || !na.name || !na.scim_url || cli->n_args ||
        (token_file == NULL) == (na.basic_user == NULL) ||
        (na.basic_user != NULL) != (password_file != NULL))
        return cli_usage(cli);
    char key_path[1024];
    if (!cli_key_path(cli, key_path, sizeof(key_path))) {
        fprintf(stderr, "scimd: no key file for app credentials: give --key-file or "
                        "SCIMD_KEY_FILE (the same one serve uses)\n");
        return CLI_EXIT_FAIL;
    }
    char *secret = NULL;
    int code = read_secret_file(token_file ? "token file" : "password file",
                                token_file ? token_file : password_file, &secret);
    if (code != CLI_EXIT_OK)
        return code;
    if (token_file)
        na.token = secret;
    else
        na.password = secret;
    struct secretbox box;
    struct scim_error err;
    scim_error_clear(&err);
    if (secretbox_load_file(&box, key_path, &err) != OK) {
        secret_free(secret);
        return cli_failure(&err);
    }
    struct store_app app;
    struct actor by = { "cli", NULL };
    enum status rc = directory_app_create(&cli->dir, &box, &na, &by, &app, &err);
    secretbox_release(&box);
    secret_free(secret);
    if (rc != OK)
        return cli_failure(&err);
    if (cli->json)
        cli_print_json(app_json(&app));
    else
        printf("app %s created\n", app.id);
    return CLI_EXIT_OK;
}

struct app_list {
    struct cli_list list;
    const char *tenant_id;
};

static enum status print_app(void *ctx, const struct store_app *a)
{
    struct cli_list *l = ctx;
    if (l->cli->json)
        json_array_append_new(l->array, app_json(a));
    else
        printf("%s  %-8s  %-24s  %s\n", a->id, a->state, a->name, a->scim_url);
    return OK;
}

static enum status read_apps(struct store_tx *tx, void *ctx)
{
    struct app_list *l = ctx;
    return store_app_each(tx, l->tenant_id, print_app, &l->list);
}

int cli_app_list(struct cli *cli)
{
    const char *tenant_key = cli_opt(cli, "tenant");
    if (!tenant_key || cli->n_args)
        return cli_usage(cli);
    struct store_tenant tenant;
    int code = cli_find_tenant(cli, tenant_key, &tenant);
    if (code != CLI_EXIT_OK)
        return code;
    struct app_list l = { { cli, json_array() }, tenant.id };
    return cli_list_in_read_tx(cli, read_apps, &l.list);
}

int cli_app_show(struct cli *cli)
{
    if (cli->n_args != 1)
        return cli_usage(cli);
    struct store_tx *tx = NULL;
    enum status rc = store_begin(cli->store, false, &tx);
    if (rc != OK)
        return cli_store_failure(rc);
    struct store_app app;
    struct store_app_counts counts;
    rc = store_app_get(tx, NULL, cli->args[0], &app);
    if (rc == OK) {
        store_app_release(&app);
        rc = store_app_counts_get(tx, app.tenant_id, app.id, &counts);
    }
    store_rollback(tx);
    if (rc == ERR_NOT_FOUND) {
        fprintf(stderr, "scimd: no app '%s'\n", cli->args[0]);
        return CLI_EXIT_FAIL;
    }
    if (rc != OK)
        return cli_store_failure(rc);
    if (cli->json) {
        json_t *j = app_json(&app);
        json_object_set_new(j, "counts",
                            json_pack("{s:I,s:I,s:I,s:I,s:I}", "linked", (json_int_t)counts.linked,
                                      "pending", (json_int_t)counts.pending, "failing",
                                      (json_int_t)counts.failing, "dead", (json_int_t)counts.dead,
                                      "groups", (json_int_t)counts.groups));
        cli_print_json(j);
        return CLI_EXIT_OK;
    }
    printf(
        "id:            %s\nname:          %s\nscim url:      %s\nstate:         %s\n"
        "deprovision:   %s%s%s\nlinked:        %lld\npending:       %lld\nfailing:       %lld\n"
        "dead letters:  %lld\ngroups pushed: %lld\nlast success:  %s\nlast error:    %s\npaused until:  %s\n",
        app.id, app.name, app.scim_url, app.state, app.deprovision,
        app.put_only ? " (PUT only)" : "", app.push_groups ? " (pushes groups)" : "",
        (long long)counts.linked, (long long)counts.pending, (long long)counts.failing,
        (long long)counts.dead, (long long)counts.groups,
        app.last_success_at[0] ? app.last_success_at : "-",
        app.last_error[0] ? app.last_error : "-", app.paused_until[0] ? app.paused_until : "-");
    return CLI_EXIT_OK;
}

static int app_state(struct cli *cli, bool enabled)
{
    if (cli->n_args != 1)
        return cli_usage(cli);
    struct scim_error err;
    struct actor by = { "cli", NULL };
    if (directory_app_set_enabled(&cli->dir, cli->args[0], enabled, &by, &err) != OK)
        return cli_failure(&err);
    if (!cli->json)
        printf("app %s %s\n", cli->args[0], enabled ? "enabled" : "disabled");
    return CLI_EXIT_OK;
}

int cli_app_disable(struct cli *cli)
{
    return app_state(cli, false);
}

int cli_app_enable(struct cli *cli)
{
    return app_state(cli, true);
}

int cli_app_delete(struct cli *cli)
{
    if (cli->n_args != 1)
        return cli_usage(cli);
    struct scim_error err;
    struct actor by = { "cli", NULL };
    if (directory_app_delete(&cli->dir, cli->args[0], &by, &err) != OK)
        return cli_failure(&err);
    if (!cli->json)
        printf("app %s deleted\n", cli->args[0]);
    return CLI_EXIT_OK;
}

int cli_app_retry(struct cli *cli)
{
    if (cli->n_args != 1)
        return cli_usage(cli);
    struct scim_error err;
    struct actor by = { "cli", NULL };
    int64_t n = 0;
    if (directory_app_retry(&cli->dir, cli->args[0], cli_opt(cli, "user"), &by, &n, &err) != OK)
        return cli_failure(&err);
    if (cli->json)
        cli_print_json(json_pack("{s:I}", "retried", (json_int_t)n));
    else
        printf("%lld dead-lettered job(s) will run again\n", (long long)n);
    return CLI_EXIT_OK;
}

/* ---- grants ---------------------------------------------------------------------------------- */

static int grant_change(struct cli *cli, bool add)
{
    const char *app = cli_opt(cli, "app");
    const char *group = cli_opt(cli, "group");
    const char *user = cli_opt(cli, "user");
    if (!app || (group == NULL) == (user == NULL) || cli->n_args)
        return cli_usage(cli);
    struct scim_error err;
    struct actor by = { "cli", NULL };
    const char *kind = group ? "group" : "user";
    const char *subject = group ? group : user;
    enum status rc = add ? directory_grant_add(&cli->dir, app, kind, subject, &by, &err)
                         : directory_grant_remove(&cli->dir, app, kind, subject, &by, &err);
    if (rc != OK)
        return cli_failure(&err);
    if (cli->json)
        cli_print_json(json_pack("{s:s,s:s,s:s}", "app", app, "kind", kind, "subject", subject));
    else
        printf("%s %s %s app %s\n", kind, subject, add ? "granted" : "no longer granted", app);
    return CLI_EXIT_OK;
}

int cli_grant_add(struct cli *cli)
{
    return grant_change(cli, true);
}

int cli_grant_remove(struct cli *cli)
{
    return grant_change(cli, false);
}

struct grant_list {
    struct cli_list list;
    struct store_app app;
};

static enum status print_grant(void *ctx, const struct store_app_grant *g)
{
    struct cli_list *l = ctx;
    if (l->cli->json)
        json_array_append_new(l->array, json_pack("{s:s,s:s,s:o,s:s}", "kind", g->kind, "subject",
                                                  g->subject_id, "idp_id", cli_nullable(g->idp_id),
                                                  "created_at", g->created_at));
    else
        printf("%-5s  %s  %s\n", g->kind, g->subject_id, g->created_at);
    return OK;
}

static enum status read_grants(struct store_tx *tx, void *ctx)
{
    struct grant_list *l = ctx;
    enum status rc = store_app_get(tx, NULL, l->app.id, &l->app);
    if (rc != OK)
        return rc;
    store_app_release(&l->app);
    return store_app_grant_each(tx, l->app.tenant_id, l->app.id, print_grant, &l->list);
}

int cli_grant_list(struct cli *cli)
{
    const char *app = cli_opt(cli, "app");
    if (!app || cli->n_args)
        return cli_usage(cli);
    struct grant_list l = { .list = { cli, json_array() } };
    if (!str_copy(l.app.id, sizeof(l.app.id), app)) {
        json_decref(l.list.array);
        fprintf(stderr, "scimd: no app '%.64s'\n", app);
        return CLI_EXIT_FAIL;
    }
    return cli_list_in_read_tx(cli, read_grants, &l.list);
}

/* ---- user lifecycle ---------------------------------------------------------------------------
 */

static int user_active(struct cli *cli, bool active)
{
    if (cli->n_args != 1)
        return cli_usage(cli);
    struct scim_error err;
    struct actor by = { "cli", NULL };
    if (directory_user_set_active(&cli->dir, cli->args[0], active, &by, &err) != OK)
        return cli_failure(&err);
    if (cli->json)
        cli_print_json(json_pack("{s:s,s:s}", "id", cli->args[0], "status",
                                 active ? "active" : "deactivated"));
    else
        printf("user %s %s\n", cli->args[0], active ? "activated" : "deactivated");
    return CLI_EXIT_OK;
}

int cli_user_deactivate(struct cli *cli)
{
    return user_active(cli, false);
}

int cli_user_activate(struct cli *cli)
{
    return user_active(cli, true);
}
