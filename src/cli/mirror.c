/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mirror.c - `scimd mirror show|set`: which SCIM path feeds which canonical
 * user field, for a tenant or one of its IdP connections; `scimd mirror
 * progress`: how far the re-derivation a change started has come.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "directory/mirroring.h"
#include "directory/rederive.h"

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
static void print_progress(void *ctx, const struct store_rederive_job *j)
{
    (void)ctx;
    fprintf(stderr, "re-derived %lld of %lld users", (long long)j->done, (long long)j->total);
    if (j->failed > 0) /* skipped after DIRECTORY_REDERIVE_ATTEMPTS failures */
        fprintf(stderr, " (%lld failed and skipped)", (long long)j->failed);
    fprintf(stderr, "\n");
}

static void print_job(const struct cli *cli, const char *field, const struct store_rederive_job *j)
{
    if (cli->json) {
        cli_print_json(json_pack("{s:s?,s:I,s:I,s:o}", "field", field, "users", (json_int_t)j->done,
                                 "changed", (json_int_t)j->changed, "job",
                                 directory_rederive_json(j)));
    } else if (strcmp(j->state, STORE_REDERIVE_RUNNING) == 0) {
        printf("%s%sre-deriving users in the background: %lld of %lld done (job %s)\n",
               field ? field : "", field ? " mapped; " : "", (long long)j->done,
               (long long)j->total, j->id);
    } else if (strcmp(j->state, STORE_REDERIVE_DONE) == 0) {
        printf("%s%s%lld users re-derived, %lld changed", field ? field : "",
               field ? " mapped; " : "", (long long)j->done, (long long)j->changed);
        if (j->failed > 0)
            printf(", %lld failed and skipped (see rederive_user_failed in scimd audit)",
                   (long long)j->failed);
        printf("\n");
    } else {
        printf("%s%sre-derivation superseded by a newer mapping change after %lld of %lld "
               "users (job %s)\n",
               field ? field : "", field ? " mapped; " : "", (long long)j->done,
               (long long)j->total, j->id);
    }
}

int cli_mirror_set(struct cli *cli)
{
    const char *tenant = cli_opt(cli, "tenant"), *field = cli_opt(cli, "field"),
               *path = cli_opt(cli, "path");
    if (!tenant || !field || !path || cli->n_args ||
        (cli_flag(cli, "wait") && cli_flag(cli, "no-wait")))
        return cli_usage(cli);
    struct scim_error err;
    struct store_rederive_job job;
    struct actor by = { "cli", NULL };
    if (directory_mirror_set(&cli->dir, tenant, cli_opt(cli, "idp"), field, path, &by, NULL, &job,
                             &err) != OK)
        return cli_failure(&err);
    /* The mapping holds from here; following the job only reports (or does) the work. */
    if (!cli_flag(cli, "no-wait") &&
        directory_rederive_follow(&cli->dir, job.tenant_id, job.id, 0, print_progress, NULL, &job,
                                  &err) != OK)
        return cli_failure(&err);
    print_job(cli, field, &job);
    return CLI_EXIT_OK;
}

int cli_mirror_progress(struct cli *cli)
{
    const char *tenant = cli_opt(cli, "tenant");
    if (!tenant || cli->n_args)
        return cli_usage(cli);
    struct scim_error err;
    struct store_rederive_job job;
    if (directory_rederive_get(&cli->dir, tenant, cli_opt(cli, "job"), &job, &err) != OK)
        return cli_failure(&err);
    print_job(cli, NULL, &job);
    return CLI_EXIT_OK;
}
