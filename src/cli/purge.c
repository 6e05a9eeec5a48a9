/* SPDX-License-Identifier: Apache-2.0 */
/*
 * purge.c - `scimd purge`: retention, erasing the personal data of users
 * soft-deleted before a cutoff (directory_purge), or with --dry-run
 * printing what would go.
 */
#include <stdio.h>

#include "cli/cli.h"
#include "core/clock.h"

struct purge_print {
    struct cli *cli;
    json_t *ids;
};

static enum status print_target(void *ctx, const struct store_purge_target *t)
{
    struct purge_print *p = ctx;
    if (p->cli->json)
        return json_array_append_new(p->ids, json_string(t->id)) == 0 ? OK : ERR_NOMEM;
    printf("%s  tenant %s  deleted %s\n", t->id, t->tenant_id, t->deleted_at);
    return OK;
}

int cli_purge(struct cli *cli)
{
    const char *age = cli_opt(cli, "deleted-before");
    if (!age || cli->n_args)
        return cli_usage(cli);
    int64_t age_s;
    if (!clock_duration_parse(age, &age_s))
        return cli_usage_error("--deleted-before '%s' is not a duration such as 90d, 24h or 30m",
                               age);
    bool dry_run = cli_flag(cli, "dry-run");
    struct purge_print p = { cli, json_array() };
    struct directory_purge_result res;
    struct scim_error err;
    struct actor by = { "cli", NULL };
    if (directory_purge(&cli->dir, cli_opt(cli, "tenant"), age_s, dry_run, &by, print_target, &p,
                        &res, &err) != OK) {
        json_decref(p.ids);
        return cli_failure(&err);
    }
    const struct store_erased *e = &res.erased;
    if (cli->json) {
        cli_print_json(json_pack(
            "{s:b,s:s,s:I,s:I,s:I,s:I,s:I,s:o}", "dry_run", dry_run, "deleted_before", res.cutoff,
            "users", (json_int_t)e->users, "idp_rows", (json_int_t)e->idp_rows, "group_memberships",
            (json_int_t)e->memberships, "email_index_entries", (json_int_t)e->emails,
            "custom_fields_and_roles", (json_int_t)e->fields, "user_ids", p.ids));
        return CLI_EXIT_OK;
    }
    json_decref(p.ids);
    printf("%s %lld users deleted before %s: %lld IdP rows, %lld group memberships, %lld email "
           "index entries, %lld custom field values and roles%s\n",
           dry_run ? "would erase" : "erased", (long long)e->users, res.cutoff,
           (long long)e->idp_rows, (long long)e->memberships, (long long)e->emails,
           (long long)e->fields, dry_run ? " (dry run: nothing changed)" : "");
    return CLI_EXIT_OK;
}
