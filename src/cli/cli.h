/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli.h - the scimd command line: the one command table, the settings
 * table, flag parsing, --json output and error printing shared by every
 * command.
 *
 * A command is a row of cli_commands {area, verb, handler, options, usage,
 * help}; `scimd help` and the man page are generated from those rows and
 * from cli_settings, the table of serve's settings (config.h: flags over
 * SCIMD_* variables over the config file).  Each area's handlers live in
 * their own file (serve.c, tenant.c, idp.c, token.c, user.c, audit.c,
 * help.c); adding a command is one handler and one row.
 *
 * Handlers return an exit code (enum cli_exit) and print their own result;
 * errors go to stderr as one "scimd: …" line.  Nothing here exits the
 * process: main.c does.  struct cli is owned by main() and released by
 * cli_release(); the CLI is single-threaded until serve starts the server.
 */
#ifndef SCIMD_CLI_CLI_H
#define SCIMD_CLI_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/config.h"
#include "directory/directory.h"
#include "store/store.h"

#define CLI_MAX_ARGS            8  /* positional arguments of one command */
#define CLI_MAX_OPTIONS         32 /* --flags of one command line */
#define CLI_MAX_COMMAND_OPTIONS 16 /* flags one command row may list */
#define CLI_DEFAULT_CONFIG      "/etc/scimd/scimd.conf"
#define CLI_DEFAULT_DB          "./scimd.db"
#define CLI_DEFAULT_LISTEN      "127.0.0.1:8080"

enum cli_exit { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };

struct cli;
typedef int (*cli_handler_fn)(struct cli *cli);

struct cli_command {
    const char *area;
    const char *verb; /* NULL: the area alone is the command */
    cli_handler_fn run;
    /* flags besides the common --db, --json and --config; NULL-terminated */
    const char *const options[CLI_MAX_COMMAND_OPTIONS];
    const char *usage; /* synopsis after "scimd " */
    const char *help;  /* what it does, for help and the man page */
    bool settings;     /* every row of cli_settings is also a flag */
    bool store;        /* open the database before running */
};

extern const struct cli_command cli_commands[];
extern const size_t cli_n_commands;
extern const struct config_option cli_settings[];
extern const size_t cli_n_settings;

struct cli_option {
    const char *name; /* without the leading "--" */
    const char *value;
};

struct cli {
    const struct cli_command *command;
    const char *args[CLI_MAX_ARGS];
    size_t n_args;
    struct cli_option options[CLI_MAX_OPTIONS];
    size_t n_options;
    bool json;
    struct config config; /* the settings: defaults < file < env < flags */
    const char *db;
    unsigned db_pool;
    struct store *store;
    struct directory dir;
};

/*
 * The row argv[1] (and argv[2], its verb) names, and how many words it took;
 * "--help" and "--version" name the help and version rows.  NULL if none.
 */
const struct cli_command *cli_command_find(int argc, char **argv, int *consumed);

/*
 * Parse the flags after the command words, load the settings (config file,
 * environment, flags), validate them, set the log level and format, and open
 * the database when the command wants it.  Returns an exit code.
 */
int cli_prepare(struct cli *cli, const struct cli_command *command, int argc, char **argv);
/* Open the database and the directory on it (serve does this itself, late). */
int cli_open_store(struct cli *cli);
void cli_release(struct cli *cli);

/* The value of --name, or NULL. */
const char *cli_opt(const struct cli *cli, const char *name);
bool cli_flag(const struct cli *cli, const char *name);

/* ---- errors: each prints one line to stderr and returns the exit code --------------------------
 */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "usage: scimd <the command's usage>" */
int cli_usage(const struct cli *cli);
int cli_failure(const struct scim_error *err);
int cli_store_failure(enum status rc);

/* ---- output -------------------------------------------------------------------------------- */
/* Print value indented and free it (takes the reference). */
void cli_print_json(json_t *value);
/* Say that the kind object `id` was enabled, disabled, deleted or revoked
 * (what): "<kind> <id> <what>", or with --json {key: id, "state": what} for
 * a state, {key: id, what: true} otherwise.  Returns CLI_EXIT_OK. */
int cli_report_change(const struct cli *cli, const char *kind, const char *key, const char *id,
                      const char *what);
/* `<kind> enable|disable|delete ID` of an object the directory changes with
 * one of these (apps, webhooks): the usage check, the call as the CLI actor,
 * its failure or cli_report_change. */
typedef enum status (*cli_state_fn)(struct directory *dir, const char *id, bool enabled,
                                    const struct actor *by, const struct directory_guard *guard,
                                    struct scim_error *err);
typedef enum status (*cli_delete_fn)(struct directory *dir, const char *id, const struct actor *by,
                                     const struct directory_guard *guard, struct scim_error *err);
int cli_set_state(struct cli *cli, const char *kind, cli_state_fn fn, bool enabled);
int cli_delete(struct cli *cli, const char *kind, cli_delete_fn fn);
/* A JSON string, or null for NULL / "". */
json_t *cli_nullable(const char *s);

/* A list being printed: rows go into array with --json, else straight to stdout. */
struct cli_list {
    struct cli *cli;
    json_t *array;
};
typedef enum status (*cli_read_fn)(struct store_tx *tx, void *ctx);
/*
 * Run read(tx, list) in a read transaction (a caller's struct may begin with
 * the struct cli_list to pass more to read), then print list->array with --json
 * (the array is freed either way).  Returns an exit code.
 */
int cli_list_in_read_tx(struct cli *cli, cli_read_fn read, struct cli_list *list);
/* Find a tenant by id, name or subdomain; prints "no tenant" and fails otherwise. */
int cli_find_tenant(struct cli *cli, const char *key, struct store_tenant *out);

/* ---- handlers, one file per area ---------------------------------------------------------------
 */
int cli_serve(struct cli *cli);
int cli_tenant_create(struct cli *cli);
int cli_tenant_list(struct cli *cli);
int cli_idp_create(struct cli *cli);
int cli_idp_list(struct cli *cli);
int cli_token_create(struct cli *cli);
int cli_token_list(struct cli *cli);
int cli_token_revoke(struct cli *cli);
int cli_token_rotate(struct cli *cli);
int cli_idp_disable(struct cli *cli);
int cli_idp_enable(struct cli *cli);
int cli_idp_allowlist(struct cli *cli);
int cli_idp_rename(struct cli *cli);
int cli_purge(struct cli *cli);
int cli_user_create(struct cli *cli);
int cli_user_list(struct cli *cli);
int cli_user_show(struct cli *cli);
int cli_audit(struct cli *cli);
int cli_field_add(struct cli *cli);
int cli_field_list(struct cli *cli);
int cli_field_remove(struct cli *cli);
int cli_mirror_show(struct cli *cli);
int cli_mirror_set(struct cli *cli);
int cli_mirror_progress(struct cli *cli);
int cli_schema_add(struct cli *cli);
int cli_schema_list(struct cli *cli);
int cli_role_create(struct cli *cli);
int cli_role_map(struct cli *cli);
int cli_role_list(struct cli *cli);
int cli_role_unmap(struct cli *cli);
int cli_role_delete(struct cli *cli);
int cli_admin_create(struct cli *cli);
int cli_admin_reset(struct cli *cli);
int cli_admin_list(struct cli *cli);
int cli_admin_key(struct cli *cli);
int cli_app_create(struct cli *cli);
int cli_app_list(struct cli *cli);
int cli_app_show(struct cli *cli);
int cli_app_disable(struct cli *cli);
int cli_app_enable(struct cli *cli);
int cli_app_delete(struct cli *cli);
int cli_app_retry(struct cli *cli);
int cli_app_allow_deprovisions(struct cli *cli);
int cli_app_test(struct cli *cli);
int cli_app_resync(struct cli *cli);
int cli_webhook_create(struct cli *cli);
int cli_webhook_list(struct cli *cli);
int cli_webhook_show(struct cli *cli);
int cli_webhook_disable(struct cli *cli);
int cli_webhook_enable(struct cli *cli);
int cli_webhook_delete(struct cli *cli);
int cli_webhook_replay(struct cli *cli);
int cli_grant_add(struct cli *cli);
int cli_grant_remove(struct cli *cli);
int cli_grant_list(struct cli *cli);
int cli_user_deactivate(struct cli *cli);
int cli_user_activate(struct cli *cli);
/* The key file that seals app credentials (--key-file / SCIMD_KEY_FILE, else
 * scimd.key next to a SQLite database or in $STATE_DIRECTORY) into out;
 * false when there is none to use (PostgreSQL without either). */
bool cli_key_path(const struct cli *cli, char *out, size_t size);
int cli_help(struct cli *cli);
int cli_version(struct cli *cli);

/* "127.0.0.1:8080" or "[::1]:8080" -> address (size bytes) and port; false if malformed. */
bool cli_listen_parse(const char *text, char *addr, size_t size, uint16_t *port);

/* The usage summary (help without an area), to out; used for `scimd` alone. */
void cli_help_print(FILE *out);

#endif
