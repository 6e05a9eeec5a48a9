/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tenant.c - `scimd tenant create` and `scimd tenant list`.
 */
#include <stdio.h>

#include "cli/cli.h"

static json_t *tenant_json(const struct store_tenant *t)
{
    return json_pack("{s:s,s:s,s:s,s:s}", "id", t->id, "name", t->name, "subdomain", t->subdomain,
                     "created_at", t->created_at);
}

int cli_tenant_create(struct cli *cli)
{
    if (cli->n_args != 1)
        return cli_usage(cli);
    struct scim_error err;
    struct store_tenant t;
    struct actor by = { "cli", NULL };
    if (directory_tenant_create(&cli->dir, cli->args[0], cli_opt(cli, "subdomain"), &by, &t,
                                &err) != OK)
        return cli_failure(&err);
    if (cli->json)
        cli_print_json(tenant_json(&t));
    else
        printf("tenant %s created (subdomain %s)\n", t.id, t.subdomain);
    return CLI_EXIT_OK;
}

static enum status print_tenant(void *ctx, const struct store_tenant *t)
{
    struct cli_list *l = ctx;
    if (l->cli->json)
        json_array_append_new(l->array, tenant_json(t));
    else
        printf("%s  %-20s  %s\n", t->id, t->subdomain, t->name);
    return OK;
}

static enum status read_tenants(struct store_tx *tx, void *ctx)
{
    return store_tenant_each(tx, print_tenant, ctx);
}

int cli_tenant_list(struct cli *cli)
{
    struct cli_list l = { cli, json_array() };
    return cli_list_in_read_tx(cli, read_tenants, &l);
}
