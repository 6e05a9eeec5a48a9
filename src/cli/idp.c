/*
 * idp.c - `scimd idp create` and `scimd idp list`: IdP connections and
 * their SCIM base URLs.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static json_t *idp_json(const struct directory *dir, const struct store_idp *idp)
{
    char base[DIRECTORY_URL_MAX];
    directory_idp_base_url(dir, idp->id, base);
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "id", idp->id, "tenant_id", idp->tenant_id,
                     "name", idp->name, "vendor", idp->vendor, "created_at", idp->created_at,
                     "scim_base_url", base);
}

int cli_idp_create(struct cli *cli)
{
    const char *tenant = cli_opt(cli, "tenant"), *name = cli_opt(cli, "name"),
               *vendor = cli_opt(cli, "vendor");
    if (!tenant || !name || !vendor || cli->n_args)
        return cli_usage(cli);
    struct scim_error err;
    struct store_idp idp;
    struct actor by = { "cli", NULL };
    if (directory_idp_create(&cli->dir, tenant, name, vendor, &by, &idp, &err) != OK) {
        if (err.status == ERR_INVALID_VALUE && strstr(err.detail, "vendor"))
            err.status = ERR_USAGE;
        return cli_failure(&err);
    }
    if (cli->json) {
        cli_print_json(idp_json(&cli->dir, &idp));
    } else {
        char base[DIRECTORY_URL_MAX];
        directory_idp_base_url(&cli->dir, idp.id, base);
        printf("IdP connection %s created\nSCIM base URL: %s\n", idp.id, base);
    }
    return CLI_EXIT_OK;
}

struct idp_list {
    struct cli_list list;
    const char *tenant_id; /* NULL: every tenant */
};

static enum status print_idp(void *ctx, const struct store_idp *idp)
{
    struct cli_list *l = ctx;
    if (l->cli->json) {
        json_array_append_new(l->array, idp_json(&l->cli->dir, idp));
    } else {
        char base[DIRECTORY_URL_MAX];
        directory_idp_base_url(&l->cli->dir, idp->id, base);
        printf("%s  %-9s  %-24s  %s\n", idp->id, idp->vendor, idp->name, base);
    }
    return OK;
}

static enum status read_idps(struct store_tx *tx, void *ctx)
{
    struct idp_list *l = ctx;
    return store_idp_each(tx, l->tenant_id, print_idp, &l->list);
}

int cli_idp_list(struct cli *cli)
{
    struct idp_list l = { { cli, NULL }, NULL };
    const char *tenant_key = cli_opt(cli, "tenant");
    struct store_tenant tenant;
    if (tenant_key) {
        int code = cli_find_tenant(cli, tenant_key, &tenant);
        if (code != CLI_EXIT_OK)
            return code;
        l.tenant_id = tenant.id;
    }
    l.list.array = json_array();
    return cli_list_in_read_tx(cli, read_idps, &l.list);
}
