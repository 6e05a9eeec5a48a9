/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli.c - the command table, flag parsing, loading the settings, opening
 * the database, and the error and JSON printing every command shares.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/log.h"
#include "core/str.h"

/* clang-format off */
const struct cli_command cli_commands[] = {
    { "serve",   NULL,     cli_serve,         { "print-config", NULL },
      "serve [--config FILE] [--print-config] [--SETTING VALUE...]",
      "Run the SCIM server.  Settings come from flags, SCIMD_* environment variables and the "
      "config file, in that order (see CONFIGURATION); --print-config prints the effective "
      "settings with their source and exits.  SIGINT or SIGTERM stop it; SIGHUP reloads the TLS "
      "certificate and key.",
      .settings = true },
    { "tenant",  "create", cli_tenant_create, { "subdomain", NULL },
      "tenant create NAME [--subdomain S]",
      "Create a tenant; the subdomain defaults to a slug of NAME.", .store = true },
    { "tenant",  "list",   cli_tenant_list,   { NULL },
      "tenant list",
      "List the tenants.", .store = true },
    { "idp",     "create", cli_idp_create,    { "tenant", "name", "vendor", "public-url", NULL },
      "idp create --tenant T --name N --vendor okta|entra|onelogin|ping|jumpcloud|generic",
      "Create an IdP connection of tenant T (id, name or subdomain) and print its SCIM base URL.",
      .store = true },
    { "idp",     "list",   cli_idp_list,      { "tenant", "public-url", NULL },
      "idp list [--tenant T]",
      "List the IdP connections with their SCIM base URLs.", .store = true },
    { "idp",     "disable", cli_idp_disable,  { "idp", NULL },
      "idp disable --idp ID",
      "The kill switch: every SCIM call on the connection gets 403 from its next request on; "
      "nothing stored is lost.", .store = true },
    { "idp",     "enable", cli_idp_enable,    { "idp", NULL },
      "idp enable --idp ID",
      "Undo idp disable: the connection's tokens work again.", .store = true },
    { "idp",     "rename", cli_idp_rename,    { "idp", "name", NULL },
      "idp rename --idp ID --name N",
      "Rename an IdP connection (its id and SCIM base URL stay).", .store = true },
    { "idp",     "allowlist", cli_idp_allowlist, { "idp", "cidr", "clear", NULL },
      "idp allowlist --idp ID --cidr CIDR[,CIDR...] | --clear",
      "Accept SCIM calls on the connection only from these IPv4/IPv6 blocks (others get 403), "
      "or (--clear) from any address.", .store = true },
    { "token",   "create", cli_token_create,  { "idp", "name", "expires-in", NULL },
      "token create --idp ID --name NAME [--expires-in 90d]",
      "Mint a bearer token for an IdP connection, optionally expiring after a duration (d, h, m "
      "or s).  The token is printed once; scimd keeps only its SHA-256.", .store = true },
    { "token",   "list",   cli_token_list,    { "idp", NULL },
      "token list --idp ID",
      "List the tokens of an IdP connection (never the secrets): expiry (flagged when under 14 "
      "days away), last use and its address.", .store = true },
    { "token",   "rotate", cli_token_rotate,  { "overlap", "expires-in", NULL },
      "token rotate TOKEN_ID [--overlap 24h] [--expires-in 90d]",
      "Mint the token's successor (printed once; same lifetime unless --expires-in) and let the "
      "old one work until the overlap (default 24h) ends.", .store = true },
    { "token",   "revoke", cli_token_revoke,  { NULL },
      "token revoke TOKEN_ID",
      "Revoke a token; requests with it get 401 from then on.", .store = true },
    { "purge",   NULL,     cli_purge,         { "deleted-before", "dry-run", "tenant", NULL },
      "purge --deleted-before 90d [--dry-run] [--tenant T]",
      "Erase the personal data of users deleted longer ago than the duration (their IdP "
      "documents, canonical fields, email index and group memberships); ids and the audit trail "
      "stay.  --dry-run only prints what would go.", .store = true },
    { "user",    "create", cli_user_create,   { "tenant", "email", "username", "idp", "given-name",
                                                "family-name", NULL },
      "user create --tenant T --email E --username U [--idp ID] [--given-name G] [--family-name F]",
      "Create a user by hand (or as first signed in through IdP ID).", .store = true },
    { "user",    "list",   cli_user_list,     { "tenant", "idp", NULL },
      "user list --tenant T [--idp ID]",
      "List the users of a tenant, or those an IdP connection provisioned.", .store = true },
    { "user",    "show",   cli_user_show,     { NULL },
      "user show ID",
      "Show a user and the attributes every IdP sent for it.", .store = true },
    { "field",   "add",    cli_field_add,     { "tenant", "name", "type", NULL },
      "field add --tenant T --name NAME [--type string|integer|boolean]",
      "Declare a custom canonical user field of tenant T; map a SCIM path to it with "
      "'mirror set'.", .store = true },
    { "field",   "list",   cli_field_list,    { "tenant", NULL },
      "field list --tenant T",
      "List the custom fields of tenant T.", .store = true },
    { "field",   "remove", cli_field_remove,  { "tenant", "name", NULL },
      "field remove --tenant T --name NAME",
      "Remove a custom field of tenant T, with its mirroring rules and every user's value.",
      .store = true },
    { "mirror",  "show",   cli_mirror_show,   { "tenant", "idp", NULL },
      "mirror show --tenant T [--idp ID]",
      "Show which SCIM path feeds each canonical user field, for the tenant or one IdP "
      "connection (source: default, tenant or idp).", .store = true },
    { "mirror",  "set",    cli_mirror_set,    { "tenant", "idp", "field", "path", "wait", "no-wait",
                                                NULL },
      "mirror set --tenant T [--idp ID] --field F --path P [--no-wait]",
      "Map SCIM path P (e.g. urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department) "
      "to field F for the tenant, or only for IdP ID; the change holds at once and every user of "
      "the tenant is re-derived in batches, here with progress on stderr (or by a running "
      "server, which this then follows); --no-wait leaves it to the server.", .store = true },
    { "mirror",  "progress", cli_mirror_progress, { "tenant", "job", NULL },
      "mirror progress --tenant T [--job ID]",
      "Show the progress of the tenant's newest re-derive job (or job ID): state, users done of "
      "the total, how many changed.", .store = true },
    { "schema",  "add",    cli_schema_add,    { "tenant", "urn", "attr", NULL },
      "schema add --tenant T --urn URN --attr NAME:TYPE[,NAME:TYPE...]",
      "Declare a User extension schema of tenant T (types: string, integer, boolean, decimal, "
      "dateTime); its connections list it in /Schemas and validate it.", .store = true },
    { "schema",  "list",   cli_schema_list,   { "tenant", NULL },
      "schema list --tenant T",
      "List the extension schemas of tenant T.", .store = true },
    { "role",    "create", cli_role_create,   { "tenant", "name", NULL },
      "role create --tenant T --name NAME",
      "Create a role of tenant T.", .store = true },
    { "role",    "map",    cli_role_map,      { "tenant", "role", "group", NULL },
      "role map --role R --group G [--tenant T]",
      "Grant role R (id, or name with --tenant) to the live members of group G (id, or a "
      "displayName held by one group of the tenant).", .store = true },
    { "role",    "unmap",  cli_role_unmap,    { "tenant", "role", "group", NULL },
      "role unmap --role R --group G [--tenant T]",
      "Stop group G granting role R; its members' roles are recomputed.", .store = true },
    { "role",    "delete", cli_role_delete,   { "tenant", "role", NULL },
      "role delete --role R [--tenant T]",
      "Delete role R: its holders lose it and its group mappings go.", .store = true },
    { "role",    "list",   cli_role_list,     { "tenant", NULL },
      "role list --tenant T",
      "List the roles of tenant T and the groups that grant them.", .store = true },
    { "admin",   "create", cli_admin_create,  { "email", "tenant", "role", "password-file",
                                                "public-url", NULL },
      "admin create --email E [--tenant T] [--role super|admin|auditor] [--password-file F]",
      "Create an administrator of the admin API (super: every tenant; admin: tenant T; "
      "auditor: tenant T, read-only).  Prints a one-time setup link valid 24 hours unless "
      "the password is read from file F.", .store = true },
    { "admin",   "reset",  cli_admin_reset,   { "email", "public-url", NULL },
      "admin reset --email E",
      "Print a new one-time setup link (valid 24 hours) for admin E, replacing an expired or "
      "unused one; when it is used, the new password replaces the old and every session of "
      "E ends.", .store = true },
    { "admin",   "list",   cli_admin_list,    { NULL },
      "admin list",
      "List the administrators (never their passwords).", .store = true },
    { "admin",   "key",    cli_admin_key,     { "name", "admin", NULL },
      "admin key create --name N --admin E",
      "Mint an admin API key acting as admin E (Authorization: Bearer).  Printed once; "
      "scimd keeps only its SHA-256.", .store = true },
    { "app",     "create", cli_app_create,    { "tenant", "name", "scim-url", "token-file", "basic-user",
                                                "password-file", "ca-file", "deprovision",
                                                "put-only", "push-groups", "key-file", "concurrency",
                                                NULL },
      "app create --tenant T --name N --scim-url URL --token-file F [--deprovision deactivate|delete] "
      "[--put-only] [--push-groups] [--concurrency N]",
      "Connect a downstream SCIM app to tenant T.  The bearer token (or --basic-user U "
      "--password-file F) is read from a file, sealed with the key file (--key-file) and never "
      "printed again.  --push-groups: the groups granted to it are created there too, with "
      "their members.  At most N requests (default 4) are in flight to it at once.",
      .store = true },
    { "app",     "list",   cli_app_list,      { "tenant", NULL },
      "app list --tenant T",
      "List the apps of a tenant.", .store = true },
    { "app",     "show",   cli_app_show,      { NULL },
      "app show APP",
      "Show an app: state, counts of linked, pending, failing and dead-lettered users, last "
      "success, last error, paused until.", .store = true },
    { "app",     "test",   cli_app_test,      { "key-file", "outbound-allow-private", NULL },
      "app test APP [--outbound-allow-private]",
      "Check that scimd can provision into an app, as an IdP's Test Connection does, with the "
      "app's credential and the outbound address guard: ServiceProviderConfig (if published) "
      "and a userName lookup of a random name, which must answer an empty list.  Changes "
      "nothing downstream.  Exit code: 0 works, 3 address refused, 4 unreachable, 5 bad "
      "credentials (401/403), 6 not a SCIM service provider, 7 app error (5xx, 429).",
      .store = true },
    { "app",     "resync", cli_app_resync,    { "no-wait", NULL },
      "app resync APP [--no-wait]",
      "Full reconciliation: queue every user the app's grants reach and every linked user, "
      "look at each remote account and put right what differs (changed or deleted by hand, "
      "access lost); shows progress until every job is done or dead-lettered (exit code 1 "
      "then).  --no-wait only queues.  serve does this by itself every --reconcile-interval.",
      .store = true },
    { "app",     "disable", cli_app_disable,  { NULL },
      "app disable APP",
      "Stop sending changes to an app (they wait, nothing is lost).", .store = true },
    { "app",     "enable", cli_app_enable,    { NULL },
      "app enable APP",
      "Send changes to an app again (and lift a pause).", .store = true },
    { "app",     "delete", cli_app_delete,    { NULL },
      "app delete APP",
      "Delete an app with its grants and links; remote accounts are left as they are.",
      .store = true },
    { "app",     "retry",  cli_app_retry,     { "user", NULL },
      "app retry APP [--user U]",
      "Run dead-lettered jobs of an app (or of one user) again.", .store = true },
    { "app",     "allow-deprovisions", cli_app_allow_deprovisions, { NULL },
      "app allow-deprovisions APP",
      "Let an app that holds its deprovisions (more users than serve's --deprovision-limit "
      "lost access within an hour; app show says held) switch those accounts off.",
      .store = true },
    { "webhook", "create", cli_webhook_create, { "tenant", "url", "poll", "format", "events",
                                                 "audience", "key-file", "public-url", NULL },
      "webhook create --tenant T --url URL | --poll [--format json|set] [--events TYPE,...] [--audience A]",
      "Subscribe URL to tenant T's events: json (Standard Webhooks, signed with a whsec_ secret "
      "printed once and sealed with the key file) or set (RFC 8417 SETs per RFC 9967, signed "
      "with the key at /.well-known/jwks.json, pushed per RFC 8935; --poll: polled per RFC "
      "8936 with a bearer printed once).  --events: types or prefixes (scim_user_*).",
      .store = true },
    { "webhook", "list",   cli_webhook_list,  { "tenant", NULL },
      "webhook list --tenant T",
      "List the webhook subscriptions of a tenant.", .store = true },
    { "webhook", "show",   cli_webhook_show,  { NULL },
      "webhook show ID",
      "Show a subscription: state, pending and dead-lettered messages, and its delivery log "
      "(status, attempt, latency).", .store = true },
    { "webhook", "disable", cli_webhook_disable, { NULL },
      "webhook disable ID",
      "Stop delivering to a subscription (events keep queueing; nothing is lost).", .store = true },
    { "webhook", "enable", cli_webhook_enable, { NULL },
      "webhook enable ID",
      "Deliver to a subscription again (forgets a pause and the failure streak).", .store = true },
    { "webhook", "delete", cli_webhook_delete, { NULL },
      "webhook delete ID",
      "Delete a subscription with its queue and delivery log.", .store = true },
    { "webhook", "replay", cli_webhook_replay, { "from", "dead", NULL },
      "webhook replay ID --from EVENT_ID | --dead",
      "Send every event the subscription takes from EVENT_ID on again (--from), or its dead "
      "letters (--dead).", .store = true },
    { "grant",   "add",    cli_grant_add,     { "app", "group", "user", NULL },
      "grant add --app APP --group G | --user U",
      "Give the members of group G (pushed by any IdP of the app's tenant), or user U, an "
      "account in the app.", .store = true },
    { "grant",   "remove", cli_grant_remove,  { "app", "group", "user", NULL },
      "grant remove --app APP --group G | --user U",
      "Take a grant back; users left without access are deprovisioned.", .store = true },
    { "grant",   "list",   cli_grant_list,    { "app", NULL },
      "grant list --app APP",
      "List the grants of an app.", .store = true },
    { "user",    "deactivate", cli_user_deactivate, { NULL },
      "user deactivate USER",
      "Deactivate a user; every app it has an account in follows.", .store = true },
    { "user",    "activate", cli_user_activate, { NULL },
      "user activate USER",
      "Activate a deactivated user again; its apps follow.", .store = true },
    { "audit",   NULL,     cli_audit,         { "tenant", "idp", "app", "type", "subject", "actor",
                                                  "request-id", "since", "until", "after", "limit",
                                                  "follow", NULL },
      "audit [--tenant T] [--idp ID] [--app APP] [--type TYPE] [--subject ID] [--actor A] "
      "[--request-id ID] [--since TIME] [--until TIME] [--after CURSOR] [--limit N] [--follow]",
      "Print the audit log, oldest first (the last N events, default 100); --app: what the "
      "fan-out did for one app; --request-id: the events of one request (its X-Request-Id); "
      "--since/--until: RFC 3339 UTC times; --after: the events feed, the N events after CURSOR "
      "('' for the start) and the cursor to continue from; --follow keeps printing new events "
      "until interrupted.",
      .store = true },
    { "help",    NULL,     cli_help,          { "man", NULL },
      "help [AREA] [--man]",
      "Print this summary, the commands of one AREA with their settings, or (--man) the "
      "scimd(8) manual page as roff.", .store = false },
    { "version", NULL,     cli_version,       { NULL },
      "version",
      "Print the version (also: scimd --version).", .store = false },
};
/* clang-format on */
const size_t cli_n_commands = sizeof(cli_commands) / sizeof(cli_commands[0]);

/* Flags that take no value besides the boolean settings. */
static const char *const boolean_flags[] = { "json",     "follow",      "print-config", "man",
                                             "put-only", "push-groups", "clear",        "dry-run",
                                             "wait",     "no-wait",     "poll",         "dead",
                                             NULL };
/* Flags every command takes. */
static const char *const common_flags[] = { "db", "json", "config", NULL };

static bool in_list(const char *const *list, const char *name)
{
    for (const char *const *p = list; *p; p++) {
        if (strcmp(*p, name) == 0)
            return true;
    }
    return false;
}

const struct cli_command *cli_command_find(int argc, char **argv, int *consumed)
{
    if (argc < 2)
        return NULL;
    const char *area = argv[1];
    if (strcmp(area, "--help") == 0)
        area = "help";
    else if (strcmp(area, "--version") == 0)
        area = "version";
    for (size_t i = 0; i < cli_n_commands; i++) {
        const struct cli_command *c = &cli_commands[i];
        if (strcmp(c->area, area) != 0)
            continue;
        if (c->verb == NULL) {
            *consumed = 2;
            return c;
        }
        if (argc > 2 && strcmp(c->verb, argv[2]) == 0) {
            *consumed = 3;
            return c;
        }
    }
    return NULL;
}

int cli_set_state(struct cli *cli, const char *kind, cli_state_fn fn, bool enabled)
{
    if (cli->n_args != 1)
        return cli_usage(cli);
    struct scim_error err;
    struct actor by = { "cli", NULL };
    if (fn(&cli->dir, cli->args[0], enabled, &by, NULL, &err) != OK)
        return cli_failure(&err);
    return cli_report_change(cli, kind, "id", cli->args[0], enabled ? "enabled" : "disabled");
}

int cli_delete(struct cli *cli, const char *kind, cli_delete_fn fn)
{
    if (cli->n_args != 1)
        return cli_usage(cli);
    struct scim_error err;
    struct actor by = { "cli", NULL };
    if (fn(&cli->dir, cli->args[0], &by, NULL, &err) != OK)
        return cli_failure(&err);
    return cli_report_change(cli, kind, "id", cli->args[0], "deleted");
}

/* ---- errors -------------------------------------------------------------------------------- */

int cli_usage_error(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "scimd: %s\nrun 'scimd help' for usage\n", line);
    return CLI_EXIT_USAGE;
}

int cli_usage(const struct cli *cli)
{
    return cli_usage_error("usage: scimd %s", cli->command->usage);
}

/* The error's detail fit for printing (secrets masked), or its status name. */
static const char *detail_of(const struct scim_error *err, char *out, size_t size)
{
    return err->detail[0] ? log_redact(err->detail, out, size) : status_name(err->status);
}

int cli_failure(const struct scim_error *err)
{
    char shown[SCIM_ERROR_DETAIL_MAX];
    fprintf(stderr, "scimd: %s\n", detail_of(err, shown, sizeof(shown)));
    return err->status == ERR_USAGE ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
}

int cli_store_failure(enum status rc)
{
    fprintf(stderr, "scimd: database error: %s\n", status_name(rc));
    return CLI_EXIT_FAIL;
}

/* ---- flags and settings -------------------------------------------------------------------- */

const char *cli_opt(const struct cli *cli, const char *name)
{
    for (size_t i = 0; i < cli->n_options; i++) {
        if (strcmp(cli->options[i].name, name) == 0)
            return cli->options[i].value;
    }
    return NULL;
}

bool cli_flag(const struct cli *cli, const char *name)
{
    return cli_opt(cli, name) != NULL;
}

static bool is_boolean_flag(const char *name)
{
    if (in_list(boolean_flags, name))
        return true;
    for (size_t i = 0; i < cli_n_settings; i++) {
        if (cli_settings[i].type == CONFIG_BOOL && strcmp(cli_settings[i].name, name) == 0)
            return true;
    }
    return false;
}

/* Split argv after the command words into args and --options. */
static int parse_options(struct cli *cli, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            if (cli->n_args == CLI_MAX_ARGS)
                return cli_usage_error("too many arguments at '%s'", a);
            cli->args[cli->n_args++] = a;
            continue;
        }
        const char *name = a + 2;
        if (cli->n_options == CLI_MAX_OPTIONS)
            return cli_usage_error("too many options at '%s'", a);
        const char *value = "true";
        if (!is_boolean_flag(name)) {
            if (i + 1 >= argc)
                return cli_usage_error("option '%s' needs a value", a);
            value = argv[++i];
        }
        cli->options[cli->n_options++] = (struct cli_option){ name, value };
    }
    cli->json = cli_flag(cli, "json");
    return CLI_EXIT_OK;
}

/* Reject options the command does not know, so typos do not pass silently. */
static int check_options(const struct cli *cli)
{
    const struct cli_command *c = cli->command;
    for (size_t i = 0; i < cli->n_options; i++) {
        const char *name = cli->options[i].name;
        if (!in_list(common_flags, name) && !in_list(c->options, name) &&
            !(c->settings && config_option_find(&cli->config, name)))
            return cli_usage_error("unknown option '--%s'", name);
    }
    return CLI_EXIT_OK;
}

/*
 * The settings: defaults, then the config file (--config, else $SCIMD_CONFIG,
 * else CLI_DEFAULT_CONFIG when it exists), the environment, then the flags
 * that are settings.  Every command reads them (the database is one), only
 * serve takes all of them as flags.
 */
static int load_settings(struct cli *cli)
{
    struct config *cfg = &cli->config;
    struct scim_error err;
    scim_error_clear(&err);
    const char *file = cli_opt(cli, "config");
    if (file == NULL)
        file = getenv("SCIMD_CONFIG");
    bool must_exist = file != NULL && *file != '\0';
    if (!must_exist)
        file = CLI_DEFAULT_CONFIG;
    enum status rc = config_load_file(cfg, file, &err);
    if (rc != OK && (rc != ERR_NOT_FOUND || must_exist)) {
        err.status = ERR_USAGE;
        return cli_failure(&err);
    }
    config_load_env(cfg);
    for (size_t i = 0; i < cli->n_options; i++) {
        const struct cli_option *o = &cli->options[i];
        if (config_option_find(cfg, o->name) == NULL)
            continue;
        if (config_set_flag(cfg, o->name, o->value, &err) != OK)
            return cli_failure(&err);
    }
    if (config_validate(cfg, &err) != OK)
        return cli_failure(&err);
    log_level_parse(config_get(cfg, "log-level"), &log_current_level);
    log_format_parse(config_get(cfg, "log-format"), &log_current_format);
    cli->db = config_get(cfg, "db");
    if (cli->db == NULL || *cli->db == '\0')
        cli->db = CLI_DEFAULT_DB;
    cli->db_pool = (unsigned)config_number(cfg, "db-pool");
    return CLI_EXIT_OK;
}

int cli_open_store(struct cli *cli)
{
    struct scim_error err;
    scim_error_clear(&err);
    if (store_open(cli->db, cli->db_pool, &cli->store, &err) != OK) {
        char db[512], detail[SCIM_ERROR_DETAIL_MAX];
        fprintf(stderr, "scimd: cannot open database '%s': %s\n",
                log_redact(cli->db, db, sizeof(db)), detail_of(&err, detail, sizeof(detail)));
        return CLI_EXIT_FAIL;
    }
    const char *url = config_get(&cli->config, "public-url");
    char scratch[DIRECTORY_URL_MAX];
    if (url == NULL || *url == '\0') {
        const char *tls = config_get(&cli->config, "tls-cert"); /* serves HTTPS */
        snprintf(scratch, sizeof(scratch), "%s://%s", tls && *tls ? "https" : "http",
                 config_get(&cli->config, "listen"));
        url = scratch;
    }
    directory_init(&cli->dir, cli->store, url);
    return CLI_EXIT_OK;
}

int cli_prepare(struct cli *cli, const struct cli_command *command, int argc, char **argv)
{
    memset(cli, 0, sizeof(*cli));
    cli->command = command;
    config_init(&cli->config, cli_settings, cli_n_settings);
    int code = parse_options(cli, argc, argv);
    if (code == CLI_EXIT_OK)
        code = check_options(cli);
    if (code == CLI_EXIT_OK && (command->store || command->settings))
        code = load_settings(cli);
    if (code == CLI_EXIT_OK && command->store)
        code = cli_open_store(cli);
    return code;
}

void cli_release(struct cli *cli)
{
    if (cli->store)
        store_close(cli->store);
    cli->store = NULL;
    config_release(&cli->config);
}

/* ---- output -------------------------------------------------------------------------------- */

void cli_print_json(json_t *value)
{
    char *text = json_dumps(value, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text)
        puts(text);
    free(text);
    json_decref(value);
}

int cli_report_change(const struct cli *cli, const char *kind, const char *key, const char *id,
                      const char *what)
{
    bool state = strcmp(what, "enabled") == 0 || strcmp(what, "disabled") == 0;
    if (!cli->json)
        printf("%s %s %s\n", kind, id, what);
    else if (state)
        cli_print_json(json_pack("{s:s,s:s}", key, id, "state", what));
    else
        cli_print_json(json_pack("{s:s,s:b}", key, id, what, 1));
    return CLI_EXIT_OK;
}

json_t *cli_nullable(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

int cli_list_in_read_tx(struct cli *cli, cli_read_fn read, struct cli_list *list)
{
    struct store_tx *tx = NULL;
    enum status rc = store_begin(cli->store, false, &tx);
    if (rc == OK) {
        rc = read(tx, list);
        store_rollback(tx);
    }
    if (rc != OK) {
        json_decref(list->array);
        return cli_store_failure(rc);
    }
    if (cli->json)
        cli_print_json(list->array);
    else
        json_decref(list->array);
    return CLI_EXIT_OK;
}

int cli_find_tenant(struct cli *cli, const char *key, struct store_tenant *out)
{
    struct store_tx *tx = NULL;
    enum status rc = store_begin(cli->store, false, &tx);
    if (rc == OK) {
        rc = store_tenant_find(tx, key, out);
        store_rollback(tx);
    }
    if (rc != OK) {
        fprintf(stderr, "scimd: no tenant '%s'\n", key);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}
