/* SPDX-License-Identifier: Apache-2.0 */
/*
 * idp.c - `scimd idp create|list|rename|disable|enable|allowlist`: IdP
 * connections, their names, SCIM base URLs, kill switch and IP allowlist.
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

struct idp_print {
    struct cli_list *list;
    struct store_tx *tx;
};

static enum status print_idp(void *ctx, const struct store_idp *idp)
{
    struct idp_print *p = ctx;
    struct cli_list *l = p->list;
    struct store_idp_access a;
    enum status rc = store_idp_access_get(p->tx, idp->id, &a);
    if (rc != OK)
        return rc;
    if (l->cli->json) {
        json_t *j = idp_json(&l->cli->dir, idp);
        json_object_set_new(j, "disabled", json_boolean(a.disabled_at[0] != '\0'));
        json_object_set_new(j, "disabled_at", cli_nullable(a.disabled_at));
        json_object_set_new(j, "allowlist", cli_nullable(a.allowlist));
        json_array_append_new(l->array, j);
    } else {
        char base[DIRECTORY_URL_MAX];
        directory_idp_base_url(&l->cli->dir, idp->id, base);
        printf("%s  %-9s  %-24s  %s%s%s%s\n", idp->id, idp->vendor, idp->name, base,
               a.disabled_at[0] ? "  DISABLED" : "", a.allowlist[0] ? "  allow " : "", a.allowlist);
    }
    return OK;
}

static enum status read_idps(struct store_tx *tx, void *ctx)
{
    struct idp_list *l = ctx;
    struct idp_print p = { &l->list, tx };
    return store_idp_each(tx, l->tenant_id, print_idp, &p);
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

/* idp disable / idp enable: the kill switch. */
static int set_disabled(struct cli *cli, bool disabled)
{
    const char *idp = cli_opt(cli, "idp");
    if (!idp || cli->n_args)
        return cli_usage(cli);
    struct scim_error err;
    struct actor by = { "cli", NULL };
    bool changed;
    if (directory_idp_set_disabled(&cli->dir, idp, disabled, &by, NULL, &changed, &err) != OK)
        return cli_failure(&err);
    if (cli->json)
        cli_print_json(
            json_pack("{s:s,s:b,s:b}", "id", idp, "disabled", disabled, "changed", changed));
    else
        printf("IdP connection %s %s%s\n", idp, changed ? "" : "was already ",
               disabled ? "disabled: every SCIM call gets 403" : "enabled");
    return CLI_EXIT_OK;
}

int cli_idp_disable(struct cli *cli)
{
    return set_disabled(cli, true);
}

int cli_idp_enable(struct cli *cli)
{
    return set_disabled(cli, false);
}

int cli_idp_allowlist(struct cli *cli)
{
    const char *idp = cli_opt(cli, "idp"), *cidrs = cli_opt(cli, "cidr");
    bool clear = cli_flag(cli, "clear");
    if (!idp || cli->n_args || (cidrs == NULL) == !clear)
        return cli_usage(cli);
    struct scim_error err;
    struct actor by = { "cli", NULL };
    char list[STORE_ALLOWLIST_MAX];
    if (directory_idp_set_allowlist(&cli->dir, idp, clear ? NULL : cidrs, &by, list, &err) != OK) {
        if (err.status == ERR_INVALID_VALUE)
            err.status = ERR_USAGE;
        return cli_failure(&err);
    }
    if (cli->json)
        cli_print_json(json_pack("{s:s,s:o}", "id", idp, "allowlist", cli_nullable(list)));
    else if (clear)
        printf("IdP connection %s accepts SCIM calls from any address\n", idp);
    else
        printf("IdP connection %s accepts SCIM calls only from %s\n", idp, list);
    return CLI_EXIT_OK;
}

int cli_idp_rename(struct cli *cli)
{
    const char *idp = cli_opt(cli, "idp"), *name = cli_opt(cli, "name");
    if (!idp || !name || cli->n_args)
        return cli_usage(cli);
    struct scim_error err;
    struct actor by = { "cli", NULL };
    struct store_idp out;
    if (directory_idp_rename(&cli->dir, idp, name, &by, NULL, &out, &err) != OK)
        return cli_failure(&err);
    if (cli->json)
        cli_print_json(idp_json(&cli->dir, &out));
    else
        printf("IdP connection %s renamed to %s\n", out.id, out.name);
    return CLI_EXIT_OK;
}
