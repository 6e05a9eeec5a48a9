/* SPDX-License-Identifier: Apache-2.0 */
/*
 * schema.c - `scimd schema add|list`: a tenant's own SCIM User extension
 * schemas, shown in /Schemas and validated on its connections.
 */
#include <stdio.h>

#include "cli/cli.h"
#include "directory/mirroring.h"

int cli_schema_add(struct cli *cli)
{
    const char *tenant = cli_opt(cli, "tenant"), *urn = cli_opt(cli, "urn"),
               *attrs = cli_opt(cli, "attr");
    if (!tenant || !urn || !attrs || cli->n_args)
        return cli_usage(cli);
    struct scim_error err;
    struct actor by = { "cli", NULL };
    if (directory_schema_add(&cli->dir, tenant, urn, attrs, &by, &err) != OK)
        return cli_failure(&err);
    if (cli->json)
        cli_print_json(json_pack("{s:s,s:s}", "urn", urn, "attributes", attrs));
    else
        printf("schema %s added\n", urn);
    return CLI_EXIT_OK;
}

int cli_schema_list(struct cli *cli)
{
    const char *tenant = cli_opt(cli, "tenant");
    if (!tenant || cli->n_args)
        return cli_usage(cli);
    struct scim_error err;
    json_t *list;
    if (directory_schema_list(&cli->dir, tenant, &list, &err) != OK)
        return cli_failure(&err);
    if (cli->json) {
        cli_print_json(list);
        return CLI_EXIT_OK;
    }
    size_t i, j;
    json_t *s, *a;
    json_array_foreach(list, i, s)
    {
        printf("%s\n", json_string_value(json_object_get(s, "id")));
        json_array_foreach(json_object_get(s, "attributes"), j, a)
            printf("  %-32s  %s\n", json_string_value(json_object_get(a, "name")),
                   json_string_value(json_object_get(a, "type")));
    }
    json_decref(list);
    return CLI_EXIT_OK;
}
