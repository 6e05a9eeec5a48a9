/* SPDX-License-Identifier: Apache-2.0 */
/*
 * field.c - `scimd field add|list|remove`: custom canonical user fields of a tenant.
 */
#include <stdio.h>

#include "cli/cli.h"
#include "directory/mirroring.h"

int cli_field_add(struct cli *cli)
{
    const char *tenant = cli_opt(cli, "tenant"), *name = cli_opt(cli, "name");
    if (!tenant || !name || cli->n_args)
        return cli_usage(cli);
    struct scim_error err;
    struct store_field f;
    struct actor by = { "cli", NULL };
    if (directory_field_add(&cli->dir, tenant, name, cli_opt(cli, "type"), &by, &f, &err) != OK)
        return cli_failure(&err);
    if (cli->json)
        cli_print_json(
            json_pack("{s:s,s:s,s:s}", "name", f.name, "type", f.type, "created_at", f.created_at));
    else
        printf("field %s (%s) added\n", f.name, f.type);
    return CLI_EXIT_OK;
}

int cli_field_list(struct cli *cli)
{
    const char *tenant = cli_opt(cli, "tenant");
    if (!tenant || cli->n_args)
        return cli_usage(cli);
    struct scim_error err;
    json_t *list;
    if (directory_field_list(&cli->dir, tenant, &list, &err) != OK)
        return cli_failure(&err);
    if (cli->json) {
        cli_print_json(list);
        return CLI_EXIT_OK;
    }
    size_t i;
    json_t *f;
    json_array_foreach(list, i, f)
        printf("%-32s  %s\n", json_string_value(json_object_get(f, "name")),
               json_string_value(json_object_get(f, "type")));
    json_decref(list);
    return CLI_EXIT_OK;
}

int cli_field_remove(struct cli *cli)
{
    const char *tenant = cli_opt(cli, "tenant"), *name = cli_opt(cli, "name");
    if (!tenant || !name || cli->n_args)
        return cli_usage(cli);
    struct scim_error err;
    struct actor by = { "cli", NULL };
    if (directory_field_remove(&cli->dir, tenant, name, &by, NULL, &err) != OK)
        return cli_failure(&err);
    if (cli->json)
        cli_print_json(json_pack("{s:s,s:b}", "name", name, "removed", true));
    else
        printf("field %s removed\n", name);
    return CLI_EXIT_OK;
}
