/*
 * token.c - `scimd token create|list|revoke`: the bearer tokens of an IdP
 * connection.  The plaintext is printed once at creation and wiped.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static json_t *token_json(const struct store_token *t)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o}", "id", t->id, "idp_id", t->idp_id, "name",
                     t->name, "prefix", t->prefix, "created_at", t->created_at, "last_used_at",
                     cli_nullable(t->last_used_at), "revoked_at", cli_nullable(t->revoked_at));
}

int cli_token_create(struct cli *cli)
{
    const char *idp = cli_opt(cli, "idp"), *name = cli_opt(cli, "name");
    if (!idp || !name || cli->n_args)
        return cli_usage(cli);
    struct scim_error err;
    struct store_token t;
    char plaintext[CRYPTO_TOKEN_LEN];
    struct actor by = { "cli", NULL };
    if (directory_token_create(&cli->dir, idp, name, &by, &t, plaintext, &err) != OK)
        return cli_failure(&err);
    if (cli->json) {
        json_t *j = token_json(&t);
        json_object_del(j, "last_used_at");
        json_object_del(j, "revoked_at");
        json_object_set_new(j, "token", json_string(plaintext));
        cli_print_json(j);
    } else {
        printf("token %s created for IdP %s\n%s\n(shown once; scimd keeps only its SHA-256)\n",
               t.id, t.idp_id, plaintext);
    }
    memset(plaintext, 0, sizeof(plaintext));
    return CLI_EXIT_OK;
}

struct token_list {
    struct cli_list list;
    const char *idp_id;
};

static enum status print_token(void *ctx, const struct store_token *t)
{
    struct cli_list *l = ctx;
    if (l->cli->json)
        json_array_append_new(l->array, token_json(t));
    else
        printf("%s  %-10s…  %-20s  created %s  last used %s%s%s\n", t->id, t->prefix, t->name,
               t->created_at, t->last_used_at[0] ? t->last_used_at : "never",
               t->revoked_at[0] ? "  REVOKED " : "", t->revoked_at);
    return OK;
}

static enum status read_tokens(struct store_tx *tx, void *ctx)
{
    struct token_list *l = ctx;
    return store_token_each(tx, l->idp_id, print_token, &l->list);
}

int cli_token_list(struct cli *cli)
{
    const char *idp = cli_opt(cli, "idp");
    if (!idp)
        return cli_usage(cli);
    struct token_list l = { { cli, json_array() }, idp };
    return cli_list_in_read_tx(cli, read_tokens, &l.list);
}

int cli_token_revoke(struct cli *cli)
{
    if (cli->n_args != 1)
        return cli_usage(cli);
    struct scim_error err;
    struct actor by = { "cli", NULL };
    if (directory_token_revoke(&cli->dir, cli->args[0], &by, &err) != OK)
        return cli_failure(&err);
    if (cli->json)
        cli_print_json(json_pack("{s:s,s:b}", "id", cli->args[0], "revoked", 1));
    else
        printf("token %s revoked\n", cli->args[0]);
    return CLI_EXIT_OK;
}
