/* SPDX-License-Identifier: Apache-2.0 */
/*
 * user.c - `scimd user create|list|show`: canonical users of a tenant and,
 * for show, what every IdP sent for one of them.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "directory/mirroring.h"

static json_t *user_json(const struct store_user *u)
{
    return json_pack(
        "{s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:s,s:o,s:b,s:s,s:s}", "id", u->id, "tenant_id", u->tenant_id,
        "username", cli_nullable(u->username), "email", cli_nullable(u->email), "given_name",
        cli_nullable(u->given_name), "family_name", cli_nullable(u->family_name), "display_name",
        cli_nullable(u->display_name), "status", u->status, "idp_id", cli_nullable(u->idp_id),
        "scim_managed", u->scim_managed, "created_at", u->created_at, "updated_at", u->updated_at);
}

int cli_user_create(struct cli *cli)
{
    struct directory_new_user nu = {
        .tenant_key = cli_opt(cli, "tenant"),
        .email = cli_opt(cli, "email"),
        .username = cli_opt(cli, "username"),
        .idp_id = cli_opt(cli, "idp"),
        .given_name = cli_opt(cli, "given-name"),
        .family_name = cli_opt(cli, "family-name"),
    };
    if (!nu.tenant_key || !nu.email || !nu.username || cli->n_args)
        return cli_usage(cli);
    struct scim_error err;
    struct store_user u;
    struct actor by = { "cli", NULL };
    if (directory_user_create(&cli->dir, &nu, &by, &u, &err) != OK)
        return cli_failure(&err);
    if (cli->json)
        cli_print_json(user_json(&u));
    else
        printf("user %s created\n", u.id);
    store_user_release(&u);
    return CLI_EXIT_OK;
}

struct user_list {
    struct cli_list list;
    const char *tenant_id;
    const char *idp_id;
};

static enum status print_user(void *ctx, const struct store_user *u)
{
    struct cli_list *l = ctx;
    if (l->cli->json)
        json_array_append_new(l->array, user_json(u));
    else
        printf("%s  %-11s  %-30s  %s%s\n", u->id, u->status, u->username ? u->username : "-",
               u->email ? u->email : "-", u->scim_managed ? "  (SCIM)" : "");
    return OK;
}

static enum status read_users(struct store_tx *tx, void *ctx)
{
    struct user_list *l = ctx;
    return store_user_each(tx, l->tenant_id, l->idp_id, print_user, &l->list);
}

int cli_user_list(struct cli *cli)
{
    const char *tenant_key = cli_opt(cli, "tenant");
    if (!tenant_key)
        return cli_usage(cli);
    struct store_tenant tenant;
    int code = cli_find_tenant(cli, tenant_key, &tenant);
    if (code != CLI_EXIT_OK)
        return code;
    struct user_list l = { { cli, json_array() }, tenant.id, cli_opt(cli, "idp") };
    return cli_list_in_read_tx(cli, read_users, &l.list);
}

static enum status collect_row(void *ctx, const struct store_idp_user *r)
{
    json_t *rows = ctx;
    json_t *resource = json_loads(r->doc, 0, NULL);
    json_array_append_new(
        rows, json_pack("{s:s,s:o,s:s,s:b,s:b,s:I,s:s,s:s,s:o}", "idp_id", r->idp_id, "external_id",
                        cli_nullable(r->external_id), "user_name", r->user_name ? r->user_name : "",
                        "active", r->active, "deleted", r->deleted, "version",
                        (json_int_t)r->version, "created_at", r->created_at, "updated_at",
                        r->updated_at, "resource", resource ? resource : json_null()));
    return OK;
}

/* The user and its IdP rows as one JSON object, or an exit code. */
static int load_user(struct cli *cli, const char *id, json_t **out)
{
    struct store_tx *tx = NULL;
    enum status rc = store_begin(cli->store, false, &tx);
    if (rc != OK)
        return cli_store_failure(rc);
    struct store_user u;
    rc = store_user_get(tx, NULL, id, &u);
    if (rc != OK) {
        store_rollback(tx);
        if (rc == ERR_NOT_FOUND) {
            fprintf(stderr, "scimd: no user '%s'\n", id);
            return CLI_EXIT_FAIL;
        }
        return cli_store_failure(rc);
    }
    json_t *rows = json_array();
    rc = store_idp_user_each_of_user(tx, u.tenant_id, u.id, collect_row, rows);
    *out = user_json(&u);
    if (rc == OK)
        rc = *out ? directory_user_detail(tx, &u, *out) : ERR_NOMEM; /* custom fields, roles */
    store_rollback(tx);
    if (rc != OK) {
        json_decref(*out);
        json_decref(rows);
        store_user_release(&u);
        return cli_store_failure(rc);
    }
    json_object_set_new(*out, "idp_rows", rows);
    store_user_release(&u);
    return CLI_EXIT_OK;
}

static const char *text_of(json_t *j, const char *key, const char *fallback)
{
    const char *s = json_string_value(json_object_get(j, key));
    return s ? s : fallback;
}

/* Custom fields and roles of a user's JSON. */
static void print_detail(json_t *j)
{
    printf("display name: %s\n", text_of(j, "display_name", "-"));
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(j, "custom_fields"), key, v)
    {
        char *text = json_dumps(v, JSON_ENCODE_ANY);
        printf("%-13s %s\n", key, json_is_string(v) ? json_string_value(v) : text ? text : "");
        free(text);
    }
    printf("roles:        ");
    size_t i;
    json_array_foreach(json_object_get(j, "roles"), i, v)
        printf("%s%s", i ? ", " : "", json_string_value(v));
    printf("%s\n", json_array_size(json_object_get(j, "roles")) ? "" : "-");
}

int cli_user_show(struct cli *cli)
{
    if (cli->n_args != 1)
        return cli_usage(cli);
    json_t *j = NULL;
    int code = load_user(cli, cli->args[0], &j);
    if (code != CLI_EXIT_OK)
        return code;
    if (cli->json) {
        cli_print_json(j);
        return CLI_EXIT_OK;
    }
    printf("id:           %s\nusername:     %s\nemail:        %s\nname:         %s %s\n"
           "status:       %s\nscim managed: %s\n",
           text_of(j, "id", ""), text_of(j, "username", "-"), text_of(j, "email", "-"),
           text_of(j, "given_name", ""), text_of(j, "family_name", ""), text_of(j, "status", ""),
           json_is_true(json_object_get(j, "scim_managed")) ? "yes" : "no");
    print_detail(j);
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(j, "idp_rows"), i, row)
    {
        printf("\nIdP %s attributes (version %lld%s):\n", text_of(row, "idp_id", ""),
               (long long)json_integer_value(json_object_get(row, "version")),
               json_is_true(json_object_get(row, "deleted")) ? ", deleted" : "");
        char *text =
            json_dumps(json_object_get(row, "resource"), JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text)
            puts(text);
        free(text);
    }
    json_decref(j);
    return CLI_EXIT_OK;
}
