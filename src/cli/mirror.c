/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mirror.c - `scimd mirror show|set`: which SCIM path feeds which canonical
 * user field, for a tenant or one of its IdP connections.
 */
#include <stdio.h>

#include "cli/cli.h"
#include "directory/mirroring.h"

int cli_mirror_show(struct cli *cli)
{
    const char *tenant = cli_opt(cli, "tenant");
    if (!tenant || cli->n_args)
        return cli_usage(cli);
    struct scim_error err;
    json_t *map;
    if (directory_mirror_show(&cli->dir, tenant, cli_opt(cli, "idp"), &map, &err) != OK)
        return cli_failure(&err);
    if (cli->json) {
        cli_print_json(map);
        return CLI_EXIT_OK;
    }
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(map, "fields"), i, e)
    {
        const char *path = json_string_value(json_object_get(e, "path"));
        printf("%-20s  %-60s  (%s)\n", json_string_value(json_object_get(e, "field")),
               path ? path : "-", json_string_value(json_object_get(e, "source")));
    }
    json_decref(map);
    return CLI_EXIT_OK;
}

/* Progress on stderr, so --json output stays one document. */
static void print_progress(void *ctx, size_t done, size_t total)
{
    (void)ctx;
    if (done == total || done % 100 == 0)
        fprintf(stderr, "re-derived %zu of %zu users\n", done, total);
}

int cli_mirror_set(struct cli *cli)
{
    const char *tenant = cli_opt(cli, "tenant"), *field = cli_opt(cli, "field"),
               *path = cli_opt(cli, "path");
    if (!tenant || !field || !path || cli->n_args)
        return cli_usage(cli);
    struct scim_error err;
    struct directory_rederive res;
    struct actor by = { "cli", NULL };
    if (directory_mirror_set(&cli->dir, tenant, cli_opt(cli, "idp"), field, path, &by,
                             print_progress, NULL, &res, &err) != OK)
        return cli_failure(&err);
    if (cli->json)
        cli_print_json(json_pack("{s:s,s:I,s:I}", "field", field, "users", (json_int_t)res.users,
                                 "changed", (json_int_t)res.changed));
    else
        printf("%s mapped; %zu users re-derived, %zu changed\n", field, res.users, res.changed);
    return CLI_EXIT_OK;
}
