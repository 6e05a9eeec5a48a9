/* SPDX-License-Identifier: Apache-2.0 */
/*
 * admin.c - `scimd admin create|list|reset` and `scimd admin key create`: the
 * administrators of the admin API.  Secrets (the setup link, an API key)
 * are printed once; passwords are read from a file, never from argv.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "directory/admins.h"

/* Read the first line of path into out (at most size - 1 bytes). */
static int read_password_file(const char *path, char *out, size_t size)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return cli_usage_error("cannot read the password file '%s'", path);
    size_t n = fread(out, 1, size - 1, f);
    bool more = fgetc(f) != EOF;
    fclose(f);
    out[n] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
    if (more && strlen(out) == n)
        return cli_usage_error("the password file '%s' is longer than %d bytes", path,
                               DIRECTORY_PASSWORD_MAX);
    return CLI_EXIT_OK;
}

/* The account just made or reset, with its setup link when there is one
 * (shown this once; token and link are wiped). */
static void print_admin_made(struct cli *cli, const struct store_admin *a,
                             char token[DIRECTORY_SECRET_LEN], const char *what)
{
    char link[DIRECTORY_URL_MAX];
    link[0] = '\0';
    if (token[0])
        directory_admin_setup_url(&cli->dir, token, link);
    if (cli->json) {
        json_t *j = json_pack("{s:s,s:s,s:s,s:o}", "id", a->id, "email", a->email, "role", a->role,
                              "tenant_id", cli_nullable(a->tenant_id));
        if (link[0]) {
            json_object_set_new(j, "setup_url", json_string(link));
            json_object_set_new(j, "setup_expires_at", json_string(a->setup_expires_at));
        }
        cli_print_json(j);
    } else if (link[0]) {
        printf("admin %s (%s) %s\nsetup link, valid until %s (shown once):\n%s\n", a->email,
               a->role, what, a->setup_expires_at, link);
    } else {
        printf("admin %s (%s) %s with the given password\n", a->email, a->role, what);
    }
    memset(token, 0, DIRECTORY_SECRET_LEN);
    memset(link, 0, sizeof(link));
}

int cli_admin_create(struct cli *cli)
{
    const char *email = cli_opt(cli, "email"), *file = cli_opt(cli, "password-file");
    if (!email || cli->n_args)
        return cli_usage(cli);
    char password[DIRECTORY_PASSWORD_MAX + 2];
    if (file) {
        int code = read_password_file(file, password, sizeof(password));
        if (code != CLI_EXIT_OK)
            return code;
    }
    struct directory_admin_new na = {
        .email = email,
        .tenant_key = cli_opt(cli, "tenant"),
        .role = cli_opt(cli, "role"),
        .password = file ? password : NULL,
    };
    struct scim_error err;
    struct store_admin a;
    char token[DIRECTORY_SECRET_LEN];
    struct actor by = { "cli", NULL };
    enum status rc = directory_admin_create(&cli->dir, &na, &by, &a, token, &err);
    memset(password, 0, sizeof(password));
    if (rc != OK)
        return cli_failure(&err);
    print_admin_made(cli, &a, token, "created");
    return CLI_EXIT_OK;
}

/* A new setup link for an admin whose link expired or whose password is lost. */
int cli_admin_reset(struct cli *cli)
{
    const char *email = cli_opt(cli, "email");
    if (!email || cli->n_args)
        return cli_usage(cli);
    struct scim_error err;
    struct store_admin a;
    char token[DIRECTORY_SECRET_LEN];
    struct actor by = { "cli", NULL };
    if (directory_admin_reset(&cli->dir, email, &by, &a, token, &err) != OK)
        return cli_failure(&err);
    print_admin_made(cli, &a, token, "reset");
    return CLI_EXIT_OK;
}

static enum status print_admin(void *ctx, const struct store_admin *a)
{
    struct cli_list *l = ctx;
    if (l->cli->json)
        json_array_append_new(
            l->array, json_pack("{s:s,s:s,s:s,s:o,s:b,s:s}", "id", a->id, "email", a->email, "role",
                                a->role, "tenant_id", cli_nullable(a->tenant_id), "password_set",
                                a->password_hash[0] != '\0', "created_at", a->created_at));
    else
        printf("%s  %-30s  %-8s  %s%s\n", a->id, a->email, a->role,
               a->tenant_id[0] ? a->tenant_id : "(all tenants)",
               a->password_hash[0] ? "" : "  (setup pending)");
    return OK;
}

static enum status read_admins(struct store_tx *tx, void *ctx)
{
    return store_admin_each(tx, NULL, print_admin, ctx);
}

int cli_admin_list(struct cli *cli)
{
    if (cli->n_args)
        return cli_usage(cli);
    struct cli_list l = { cli, json_array() };
    return cli_list_in_read_tx(cli, read_admins, &l);
}

/* `admin key create`: the command table matches "admin key"; "create" is the argument. */
int cli_admin_key(struct cli *cli)
{
    const char *name = cli_opt(cli, "name"), *email = cli_opt(cli, "admin");
    if (!name || !email || cli->n_args != 1 || strcmp(cli->args[0], "create") != 0)
        return cli_usage(cli);
    struct scim_error err;
    struct store_admin_key k;
    char key[DIRECTORY_ADMIN_KEY_LEN];
    struct actor by = { "cli", NULL };
    if (directory_admin_key_create(&cli->dir, email, name, &by, &k, key, &err) != OK)
        return cli_failure(&err);
    if (cli->json)
        cli_print_json(json_pack("{s:s,s:s,s:s,s:s}", "id", k.id, "name", k.name, "admin_id",
                                 k.admin_id, "key", key));
    else
        printf("admin API key %s created\n%s\n(shown once; scimd keeps only its SHA-256)\n", k.id,
               key);
    memset(key, 0, sizeof(key));
    return CLI_EXIT_OK;
}
