/* SPDX-License-Identifier: Apache-2.0 */
/*
 * token.c - `scimd token create|list|rotate|revoke`: the bearer tokens of an
 * IdP connection, their lifetimes and rotation with an overlap.  The
 * plaintext is printed once at creation (and rotation) and wiped.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "directory/token_expiry.h"

#define DEFAULT_OVERLAP "24h" /* token rotate: how long the old token keeps working */

/* Is t live and due to expire within TOKEN_EXPIRES_SOON_S?  Expired: past its expiry. */
static bool expires_soon(const struct store_token *t, const char *now, bool *expired)
{
    enum token_expiry state = token_expiry_of(t, now);
    *expired = state == TOKEN_EXPIRY_EXPIRED;
    return state == TOKEN_EXPIRY_SOON;
}

static json_t *token_json(const struct store_token *t)
{
    char now[STORE_TIME_LEN];
    clock_now_iso(now);
    bool expired;
    bool soon = expires_soon(t, now, &expired);
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:b,s:b}", "id", t->id, "idp_id",
                     t->idp_id, "name", t->name, "prefix", t->prefix, "created_at", t->created_at,
                     "last_used_at", cli_nullable(t->last_used_at), "last_used_from",
                     cli_nullable(t->last_used_from), "revoked_at", cli_nullable(t->revoked_at),
                     "expires_at", cli_nullable(t->expires_at), "expired", expired, "expires_soon",
                     soon);
}

/* --NAME as a duration ("90d", "24h", "30m", "15s") into *seconds; fallback when absent. */
static bool duration_opt(const struct cli *cli, const char *name, const char *fallback,
                         int64_t *seconds)
{
    const char *text = cli_opt(cli, name);
    if (text == NULL)
        text = fallback;
    if (text == NULL)
        return true;
    if (clock_duration_parse(text, seconds))
        return true;
    cli_usage_error("--%s '%s' is not a duration such as 90d, 24h, 30m or 15s", name, text);
    return false;
}

/* Print a token just minted (create or rotate). */
static void print_new_token(const struct cli *cli, const struct store_token *t,
                            const char *plaintext, const char *verb)
{
    if (cli->json) {
        json_t *j = token_json(t);
        json_object_del(j, "last_used_at");
        json_object_del(j, "last_used_from");
        json_object_del(j, "revoked_at");
        json_object_set_new(j, "token", json_string(plaintext));
        cli_print_json(j);
        return;
    }
    printf("token %s %s for IdP %s%s%s\n%s\n(shown once; scimd keeps only its SHA-256)\n", t->id,
           verb, t->idp_id, t->expires_at[0] ? ", expires " : "", t->expires_at, plaintext);
}

int cli_token_create(struct cli *cli)
{
    const char *idp = cli_opt(cli, "idp"), *name = cli_opt(cli, "name");
    if (!idp || !name || cli->n_args)
        return cli_usage(cli);
    struct scim_error err;
    struct store_token t;
    char plaintext[CRYPTO_TOKEN_LEN];
    int64_t expires_in_s = 0;
    if (!duration_opt(cli, "expires-in", NULL, &expires_in_s))
        return CLI_EXIT_USAGE;
    if (cli_opt(cli, "expires-in") && expires_in_s == 0)
        return cli_usage_error("--expires-in must be longer than 0");
    struct actor by = { "cli", NULL };
    if (directory_token_create_expiring(&cli->dir, idp, name, expires_in_s, &by, &t, plaintext,
                                        &err) != OK)
        return cli_failure(&err);
    print_new_token(cli, &t, plaintext, "created");
    memset(plaintext, 0, sizeof(plaintext));
    return CLI_EXIT_OK;
}

int cli_token_rotate(struct cli *cli)
{
    if (cli->n_args != 1)
        return cli_usage(cli);
    int64_t overlap_s = 0, expires_in_s = -1;
    if (!duration_opt(cli, "overlap", DEFAULT_OVERLAP, &overlap_s) ||
        !duration_opt(cli, "expires-in", NULL, &expires_in_s))
        return CLI_EXIT_USAGE;
    if (cli_opt(cli, "expires-in") && expires_in_s == 0)
        return cli_usage_error("--expires-in must be longer than 0");
    struct scim_error err;
    struct store_token t;
    char plaintext[CRYPTO_TOKEN_LEN];
    struct actor by = { "cli", NULL };
    if (directory_token_rotate(&cli->dir, cli->args[0], overlap_s, expires_in_s, &by, &t, plaintext,
                               &err) != OK)
        return cli_failure(&err);
    print_new_token(cli, &t, plaintext, "created");
    if (!cli->json)
        printf("token %s keeps working for %s more, then is refused\n", cli->args[0],
               cli_opt(cli, "overlap") ? cli_opt(cli, "overlap") : DEFAULT_OVERLAP);
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
    if (l->cli->json) {
        json_array_append_new(l->array, token_json(t));
        return OK;
    }
    char now[STORE_TIME_LEN];
    clock_now_iso(now);
    bool expired;
    bool soon = expires_soon(t, now, &expired);
    printf("%s  %-10s…  %-20s  created %s  last used %s%s%s  expires %s%s%s%s\n", t->id, t->prefix,
           t->name, t->created_at, t->last_used_at[0] ? t->last_used_at : "never",
           t->last_used_from[0] ? " from " : "", t->last_used_from,
           t->expires_at[0] ? t->expires_at : "never", soon ? "  EXPIRES SOON" : "",
           expired ? "  EXPIRED" : "", t->revoked_at[0] ? "  REVOKED" : "");
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
    return cli_report_change(cli, "token", "id", cli->args[0], "revoked");
}
