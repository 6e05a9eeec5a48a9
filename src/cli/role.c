/* SPDX-License-Identifier: Apache-2.0 */
/*
 * role.c - `scimd role create|map|unmap|delete|list`: roles of a tenant and the groups
 * whose live members hold them.
 */
#include <stdio.h>

#include "cli/cli.h"
#include "directory/mirroring.h"

int cli_role_create(struct cli *cli)
{
    const char *tenant = cli_opt(cli, "tenant"), *name = cli_opt(cli, "name");
    if (!tenant || !name || cli->n_args)
        return cli_usage(cli);
    struct scim_error err;
    struct store_role r;
    struct actor by = { "cli", NULL };
    if (directory_role_create(&cli->dir, tenant, name, &by, &r, &err) != OK)
        return cli_failure(&err);
    if (cli->json)
        cli_print_json(json_pack("{s:s,s:s,s:s,s:s}", "id", r.id, "tenant_id", r.tenant_id, "name",
                                 r.name, "created_at", r.created_at));
    else
        printf("role %s created (%s)\n", r.id, r.name);
    return CLI_EXIT_OK;
}

int cli_role_map(struct cli *cli)
{
    const char *role = cli_opt(cli, "role"), *group = cli_opt(cli, "group");
    if (!role || !group || cli->n_args)
        return cli_usage(cli);
    struct scim_error err;
    struct actor by = { "cli", NULL };
    if (directory_role_map(&cli->dir, cli_opt(cli, "tenant"), role, group, &by, NULL, &err) != OK)
        return cli_failure(&err);
    if (cli->json)
        cli_print_json(json_pack("{s:s,s:s}", "role", role, "group", group));
    else
        printf("group %s now grants role %s\n", group, role);
    return CLI_EXIT_OK;
}

int cli_role_list(struct cli *cli)
{
    const char *tenant = cli_opt(cli, "tenant");
    if (!tenant || cli->n_args)
        return cli_usage(cli);
    struct scim_error err;
    json_t *list;
    if (directory_role_list(&cli->dir, tenant, &list, &err) != OK)
        return cli_failure(&err);
    if (cli->json) {
        cli_print_json(list);
        return CLI_EXIT_OK;
    }
    size_t i, j;
    json_t *r, *g;
    json_array_foreach(list, i, r)
    {
        printf("%s  %s\n", json_string_value(json_object_get(r, "id")),
               json_string_value(json_object_get(r, "name")));
        json_array_foreach(json_object_get(r, "groups"), j, g)
            printf("    group %s  %s\n", json_string_value(json_object_get(g, "id")),
                   json_string_value(json_object_get(g, "displayName")));
    }
    json_decref(list);
    return CLI_EXIT_OK;
}

int cli_role_unmap(struct cli *cli)
{
    const char *role = cli_opt(cli, "role"), *group = cli_opt(cli, "group");
    if (!role || !group || cli->n_args)
        return cli_usage(cli);
    struct scim_error err;
    struct actor by = { "cli", NULL };
    if (directory_role_unmap(&cli->dir, cli_opt(cli, "tenant"), role, group, &by, NULL, &err) != OK)
        return cli_failure(&err);
    if (cli->json)
        cli_print_json(json_pack("{s:s,s:s,s:b}", "role", role, "group", group, "mapped", false));
    else
        printf("group %s no longer grants role %s\n", group, role);
    return CLI_EXIT_OK;
}

int cli_role_delete(struct cli *cli)
{
    const char *role = cli_opt(cli, "role");
    if (!role || cli->n_args)
        return cli_usage(cli);
    struct scim_error err;
    struct actor by = { "cli", NULL };
    if (directory_role_delete(&cli->dir, cli_opt(cli, "tenant"), role, &by, NULL, &err) != OK)
        return cli_failure(&err);
    return cli_report_change(cli, "role", "role", role, "deleted");
}
