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
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/str.h"
#include "directory/apps.h"
#include "outbound/app_check.h"

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

/* What holds the app back now: "ok", "paused" (a 429's Retry-After),
 * "quarantined" (its calls mostly failed; probed until one answers) or
 * "held" (too many users lost access at once: an admin lets them go). */
static const char *app_health(const struct store_app *a)
{
    if (directory_app_held(a))
        return "held";
    if (a->quarantine_probes > 0)
        return "quarantined";
    char now[STORE_TIME_LEN];
    clock_now_iso(now);
    return a->paused_until[0] && strcmp(a->paused_until, now) > 0 ? "paused" : "ok";
}

static json_t *app_json(const struct store_app *a)
{
    json_t *j =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:b,s:b,s:s,s:o,s:o,s:o,s:I,s:s}", "id", a->id,
                  "tenant_id", a->tenant_id, "name", a->name, "scim_url", a->scim_url, "auth",
                  a->auth, "ca_file", cli_nullable(a->ca_file), "deprovision", a->deprovision,
                  "put_only", a->put_only, "push_groups", a->push_groups, "state", a->state,
                  "paused_until", cli_nullable(a->paused_until), "last_success_at",
                  cli_nullable(a->last_success_at), "last_error", cli_nullable(a->last_error),
                  "position", (json_int_t)a->position, "created_at", a->created_at);
    if (j == NULL)
        return NULL;
    bool held_back = strcmp(app_health(a), "ok") != 0;
    json_object_set_new(j, "concurrency", json_integer((json_int_t)a->concurrency));
    json_object_set_new(j, "health", json_string(app_health(a)));
    json_object_set_new(j, "pause_reason", held_back ? cli_nullable(a->pause_reason) : json_null());
    return j;
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
    const char *concurrency = cli_opt(cli, "concurrency");
    long n = STORE_APP_CONCURRENCY_DEFAULT;
    if (concurrency && !str_to_long(concurrency, 1, STORE_APP_CONCURRENCY_MAX, &n))
        return cli_usage_error("--concurrency must be a number from 1 to %d, not '%s'",
                               STORE_APP_CONCURRENCY_MAX, concurrency);
    na.concurrency = (int)n;
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
    struct store_app_lease lease;
    bool leased = false;
    rc = store_app_get(tx, NULL, cli->args[0], &app);
    if (rc == OK) {
        store_app_release(&app);
        rc = store_app_counts_get(tx, app.tenant_id, app.id, &counts);
    }
    if (rc == OK) {
        rc = store_app_lease_get(tx, app.tenant_id, app.id, &lease);
        leased = rc == OK;
        if (rc == ERR_NOT_FOUND)
            rc = OK;
    }
    store_rollback(tx);
    if (rc == ERR_NOT_FOUND) {
        fprintf(stderr, "scimd: no app '%s'\n", cli->args[0]);
        return CLI_EXIT_FAIL;
    }
    if (rc != OK)
        return cli_store_failure(rc);
    char now[STORE_TIME_LEN];
    clock_now_iso(now);
    bool lease_live = leased && strcmp(lease.expires_at, now) > 0;
    const char *health = app_health(&app);
    bool held_back = strcmp(health, "ok") != 0;
    if (cli->json) {
        json_t *j = app_json(&app);
        json_object_set_new(j, "counts",
                            json_pack("{s:I,s:I,s:I,s:I,s:I}", "linked", (json_int_t)counts.linked,
                                      "pending", (json_int_t)counts.pending, "failing",
                                      (json_int_t)counts.failing, "dead", (json_int_t)counts.dead,
                                      "groups", (json_int_t)counts.groups));
        json_object_set_new(j, "lease",
                            leased ? json_pack("{s:s,s:s,s:s,s:b}", "node", lease.node,
                                               "acquired_at", lease.acquired_at, "expires_at",
                                               lease.expires_at, "live", lease_live)
                                   : json_null());
        cli_print_json(j);
        return CLI_EXIT_OK;
    }
    printf("id:            %s\nname:          %s\nscim url:      %s\nstate:         %s%s%s\n"
           "deprovision:   %s%s%s\nconcurrency:   %lld\nlinked:        %lld\npending:       %lld\n"
           "failing:       %lld\ndead letters:  %lld\ngroups pushed: %lld\nlast success:  %s\n"
           "last error:    %s\npaused until:  %s\npause reason:  %s\nworked by:     %s%s%s\n",
           app.id, app.name, app.scim_url, app.state, held_back ? ", " : "",
           held_back ? health : "", app.deprovision, app.put_only ? " (PUT only)" : "",
           app.push_groups ? " (pushes groups)" : "", (long long)app.concurrency,
           (long long)counts.linked, (long long)counts.pending, (long long)counts.failing,
           (long long)counts.dead, (long long)counts.groups,
           app.last_success_at[0] ? app.last_success_at : "-",
           app.last_error[0] ? app.last_error : "-",
           held_back && app.paused_until[0] ? app.paused_until : "-",
           held_back && app.pause_reason[0] ? app.pause_reason : "-", lease_live ? lease.node : "-",
           lease_live ? " until " : "", lease_live ? lease.expires_at : "");
    return CLI_EXIT_OK;
}

int cli_app_disable(struct cli *cli)
{
    return cli_set_state(cli, "app", directory_app_set_enabled, false);
}

int cli_app_enable(struct cli *cli)
{
    return cli_set_state(cli, "app", directory_app_set_enabled, true);
}

int cli_app_delete(struct cli *cli)
{
    return cli_delete(cli, "app", directory_app_delete);
}

int cli_app_allow_deprovisions(struct cli *cli)
{
    if (cli->n_args != 1)
        return cli_usage(cli);
    struct scim_error err;
    struct actor by = { "cli", NULL };
    if (directory_app_allow_deprovisions(&cli->dir, cli->args[0], &by, &err) != OK)
        return cli_failure(&err);
    if (cli->json)
        cli_print_json(json_pack("{s:s,s:b}", "id", cli->args[0], "deprovisions_allowed", 1));
    else
        printf("app %s: its held deprovisions go ahead\n", cli->args[0]);
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

/* ---- app test ---------------------------------------------------------------------------- */

/* Exit codes of `app test`, one per verdict (help text lists them). */
/* clang-format off */
static const int test_exit_codes[] = {
    [APP_CHECK_OK]              = CLI_EXIT_OK,
    [APP_CHECK_REFUSED]         = 3,
    [APP_CHECK_UNREACHABLE]     = 4,
    [APP_CHECK_BAD_CREDENTIALS] = 5,
    [APP_CHECK_NOT_SCIM]        = 6,
    [APP_CHECK_APP_ERROR]       = 7,
};
/* clang-format on */

static const char *const step_states[] = {
    [APP_CHECK_STEP_PASSED] = "ok",
    [APP_CHECK_STEP_SKIPPED] = "skip",
    [APP_CHECK_STEP_FAILED] = "FAIL",
};

struct test_out {
    struct cli *cli;
    json_t *steps;
};

static void print_step(void *ctx, const struct app_check_step *s)
{
    struct test_out *t = ctx;
    if (t->cli->json) {
        json_t *j = json_pack("{s:s,s:s,s:o,s:s}", "step", s->name, "result", step_states[s->state],
                              "request", cli_nullable(s->request), "detail", s->detail);
        if (j && s->http_status)
            json_object_set_new(j, "http_status", json_integer(s->http_status));
        json_array_append_new(t->steps, j);
        return;
    }
    char status[16] = "";
    if (s->http_status)
        snprintf(status, sizeof(status), " [%ld]", s->http_status);
    printf("%-4s  %-22s %s%s%s%s\n", step_states[s->state], s->name, s->request ? s->request : "",
           s->request ? ": " : "", s->detail, status);
    fflush(stdout);
}

int cli_app_test(struct cli *cli)
{
    if (cli->n_args != 1)
        return cli_usage(cli);
    struct scim_error err;
    struct store_app app;
    if (directory_app_get(&cli->dir, cli->args[0], &app, &err) != OK)
        return cli_failure(&err);
    char key_path[1024];
    struct secretbox box;
    if (!cli_key_path(cli, key_path, sizeof(key_path))) {
        store_app_release(&app);
        fprintf(stderr, "scimd: no key file for app credentials: give --key-file or "
                        "SCIMD_KEY_FILE (the same one serve uses)\n");
        return CLI_EXIT_FAIL;
    }
    if (secretbox_load_file(&box, key_path, &err) != OK) {
        store_app_release(&app);
        return cli_failure(&err);
    }
    struct test_out out = { cli, json_array() };
    if (!cli->json)
        printf("testing app %s (%s) at %s\n", app.id, app.name, app.scim_url);
    enum app_check_result r = app_check_app(
        &box, &app, config_bool(&cli->config, "outbound-allow-private"), print_step, &out);
    secretbox_release(&box);
    if (cli->json) {
        cli_print_json(json_pack("{s:s,s:b,s:s,s:o}", "app", app.id, "ok", r == APP_CHECK_OK,
                                 "result", app_check_result_name(r), "steps", out.steps));
    } else {
        json_decref(out.steps);
        if (r == APP_CHECK_OK)
            printf("app %s: connection works\n", app.id);
        else
            fprintf(stderr, "scimd: app %s: %s\n", app.id, app_check_result_name(r));
    }
    store_app_release(&app);
    return test_exit_codes[r];
}

/* ---- app resync -------------------------------------------------------------------------- */

#define RESYNC_POLL_MS   300
#define RESYNC_LINE_MS   2000  /* plain progress lines, at most this often */
#define RESYNC_STALL_MS  30000 /* no progress this long: say what may be wrong, once */
#define RESYNC_BAR_WIDTH 30

static enum status read_progress(struct cli *cli, const char *app_id, struct store_app *app,
                                 struct store_app_counts *counts)
{
    struct store_tx *tx = NULL;
    enum status rc = store_begin(cli->store, false, &tx);
    if (rc != OK)
        return rc;
    rc = store_app_get(tx, NULL, app_id, app);
    if (rc == OK) {
        store_app_release(app);
        rc = store_app_counts_get(tx, app->tenant_id, app->id, counts);
    }
    store_rollback(tx);
    return rc;
}

static void print_progress(bool tty, int64_t total, int64_t done, const struct store_app_counts *c,
                           const struct store_app *app)
{
    char paused[64] = "";
    if (app->paused_until[0])
        snprintf(paused, sizeof(paused), "  paused until %s", app->paused_until);
    if (!tty) {
        printf("resync: %lld/%lld users done, %lld failing, %lld dead%s\n", (long long)done,
               (long long)total, (long long)c->failing, (long long)c->dead, paused);
        fflush(stdout);
        return;
    }
    int filled = total > 0 ? (int)(done * RESYNC_BAR_WIDTH / total) : RESYNC_BAR_WIDTH;
    char bar[RESYNC_BAR_WIDTH + 1];
    for (int i = 0; i < RESYNC_BAR_WIDTH; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[RESYNC_BAR_WIDTH] = '\0';
    printf("\r\033[K[%s] %3d%%  %lld/%lld users  %lld failing  %lld dead%s", bar,
           total > 0 ? (int)(done * 100 / total) : 100, (long long)done, (long long)total,
           (long long)c->failing, (long long)c->dead, paused);
    fflush(stdout);
}

int cli_app_resync(struct cli *cli)
{
    if (cli->n_args != 1)
        return cli_usage(cli);
    struct scim_error err;
    struct actor by = { "cli", NULL };
    int64_t total = 0;
    if (directory_app_resync(&cli->dir, cli->args[0], &by, &total, &err) != OK)
        return cli_failure(&err);
    const char *app_id = cli->args[0];
    if (cli_flag(cli, "no-wait")) {
        if (cli->json)
            cli_print_json(json_pack("{s:s,s:I}", "app", app_id, "queued", (json_int_t)total));
        else
            printf("resync of app %s: %lld user(s) queued\n", app_id, (long long)total);
        return CLI_EXIT_OK;
    }
    bool tty = !cli->json && isatty(STDOUT_FILENO);
    if (!cli->json && !tty)
        printf("resync of app %s: %lld user(s) queued\n", app_id, (long long)total);
    int64_t started = clock_mono_ms(), last_line = 0, last_change = started, last_done = -1;
    bool warned = false;
    struct store_app app;
    struct store_app_counts c;
    for (;;) {
        enum status rc = read_progress(cli, app_id, &app, &c);
        if (rc == ERR_NOT_FOUND) {
            fprintf(stderr, "%sscimd: app '%s' was deleted\n", tty ? "\n" : "", app_id);
            return CLI_EXIT_FAIL;
        }
        if (rc != OK)
            return cli_store_failure(rc);
        /* jobs of the app still live; other changes may add a few, hence the clamp */
        int64_t done = total - c.pending;
        done = done < 0 ? 0 : done;
        int64_t now = clock_mono_ms();
        bool finished = c.pending == 0;
        if (done != last_done) {
            last_change = now;
            last_done = done;
        }
        if (tty || (!cli->json && (finished || now - last_line >= RESYNC_LINE_MS))) {
            print_progress(tty, total, done, &c, &app);
            last_line = now;
        }
        if (finished)
            break;
        if (!warned && now - last_change >= RESYNC_STALL_MS) {
            warned = true;
            fprintf(stderr,
                    "%sscimd: no progress for %d s: is scimd serve running, with the key file, "
                    "and the app enabled?  The jobs stay queued; Ctrl-C stops waiting.\n",
                    tty ? "\n" : "", RESYNC_STALL_MS / 1000);
        }
        struct timespec ts = { 0, RESYNC_POLL_MS * 1000000L };
        nanosleep(&ts, NULL);
    }
    if (tty)
        printf("\n");
    int64_t secs = (clock_mono_ms() - started) / 1000;
    if (cli->json)
        cli_print_json(json_pack("{s:s,s:I,s:I,s:I,s:I,s:o,s:I}", "app", app_id, "users",
                                 (json_int_t)total, "linked", (json_int_t)c.linked, "dead",
                                 (json_int_t)c.dead, "seconds", (json_int_t)secs, "last_error",
                                 cli_nullable(app.last_error), "done", (json_int_t)total));
    else
        printf("resync of app %s done in %llds: %lld user(s) checked, %lld linked, %lld "
               "dead-lettered\n",
               app_id, (long long)secs, (long long)total, (long long)c.linked, (long long)c.dead);
    if (c.dead > 0) {
        fprintf(
            stderr,
            "scimd: %lld dead-lettered job(s): see scimd app show %s, then scimd app retry %s\n",
            (long long)c.dead, app_id, app_id);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}
