/*
 * main.c - the scimd command line: serve, tenant, idp, token, user, audit.
 *
 * Every command takes --db PATH (default $SCIMD_DB, else ./scimd.db) and
 * --json.  Errors go to stderr as one readable line; the exit code is 2 for
 * usage errors and 1 for everything else.  This is the only file that may
 * exit the process.
 */
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "directory/directory.h"
#include "http/server.h"
#include "store/store.h"
#include "core/str.h"

#define CLI_MAX_OPTIONS 16
#define CLI_DEFAULT_THREADS 32 /* HTTP worker threads of serve */
#define CLI_DEFAULT_DB_POOL 16 /* database connections (transactions at once) per process */
#define CLI_MAX_DB_POOL 1024
#define CLI_MAX_ARGS 8
#define CLI_DEFAULT_LISTEN "127.0.0.1:8080"
#define CLI_AUDIT_DEFAULT_LIMIT 100
#define CLI_FOLLOW_POLL_MS 500
/* serve's file descriptors: what the connection limit leaves for everything
 * else (log, listening socket, libraries), per database connection (SQLite:
 * database, WAL, shared memory, journal; PostgreSQL: one socket), and the
 * smallest connection limit worth starting with. */
#define CLI_FD_RESERVE      64
#define CLI_FDS_PER_DB_CONN 4
#define CLI_MIN_CONNECTIONS 16
#define CLI_MAX_TIMEOUT_S   3600

enum exit_code { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct option_value {
    const char *name; /* without the leading "--" */
    const char *value;
};

struct cli {
    const char *args[CLI_MAX_ARGS];
    size_t n_args;
    struct option_value options[CLI_MAX_OPTIONS];
    size_t n_options;
    bool json;
    const char *db;
    unsigned db_pool;
    struct store *store;
    struct directory dir;
};

/* Flags that take no value. */
static const char *const boolean_flags[] = { "json", "follow", "demo", "print-config", NULL };

static const char *opt(const struct cli *cli, const char *name)
{
    for (size_t i = 0; i < cli->n_options; i++) {
        if (strcmp(cli->options[i].name, name) == 0)
            return cli->options[i].value;
    }
    return NULL;
}

static bool flag(const struct cli *cli, const char *name)
{
    return opt(cli, name) != NULL;
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "scimd: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nrun 'scimd help' for usage\n");
    return EXIT_USAGE;
}

static int failure(const struct scim_error *err)
{
    fprintf(stderr, "scimd: %s\n", err->detail[0] ? err->detail : status_name(err->status));
    return err->status == ERR_USAGE ? EXIT_USAGE : EXIT_FAIL;
}

static int store_failure(enum status rc)
{
    fprintf(stderr, "scimd: database error: %s\n", status_name(rc));
    return EXIT_FAIL;
}

/* Parse argv after the command words into args and --options. */
static int parse_options(struct cli *cli, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            if (cli->n_args == CLI_MAX_ARGS)
                return usage_error("too many arguments at '%s'", a);
            cli->args[cli->n_args++] = a;
            continue;
        }
        const char *name = a + 2;
        bool is_bool = false;
        for (const char *const *b = boolean_flags; *b; b++)
            is_bool = is_bool || strcmp(*b, name) == 0;
        if (cli->n_options == CLI_MAX_OPTIONS)
            return usage_error("too many options at '%s'", a);
        const char *value = "1";
        if (!is_bool) {
            if (i + 1 >= argc)
                return usage_error("option '%s' needs a value", a);
            value = argv[++i];
        }
        cli->options[cli->n_options++] = (struct option_value){ name, value };
    }
    cli->json = flag(cli, "json");
    cli->db = opt(cli, "db");
    if (cli->db == NULL)
        cli->db = getenv("SCIMD_DB");
    if (cli->db == NULL || *cli->db == '\0')
        cli->db = "./scimd.db";
    return EXIT_OK;
}

/* Reject options the command does not know, so typos do not pass silently. */
static int check_options(const struct cli *cli, const char *const *allowed)
{
    for (size_t i = 0; i < cli->n_options; i++) {
        const char *name = cli->options[i].name;
        bool ok = strcmp(name, "db") == 0 || strcmp(name, "json") == 0;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, name) == 0;
        if (!ok)
            return usage_error("unknown option '--%s'", name);
    }
    return EXIT_OK;
}

static const char *public_url_of(const struct cli *cli, char *scratch, size_t size)
{
    const char *url = opt(cli, "public-url");
    if (url == NULL)
        url = getenv("SCIMD_PUBLIC_URL");
    if (url && *url)
        return url;
    const char *listen = opt(cli, "listen");
    snprintf(scratch, size, "http://%s", listen ? listen : CLI_DEFAULT_LISTEN);
    return scratch;
}

/* The database URL fit for printing: a password in it becomes "***". */
static const char *shown_db(const char *url, char *scratch, size_t size)
{
    const char *scheme = strstr(url, "://");
    if (scheme == NULL)
        return url;
    const char *user = scheme + 3;
    const char *at = strchr(user, '@');
    const char *colon = strchr(user, ':');
    const char *slash = strchr(user, '/');
    if (at == NULL || colon == NULL || colon > at || (slash != NULL && slash < at))
        return url;
    snprintf(scratch, size, "%.*s:***%s", (int)(colon - url), url, at);
    return scratch;
}

static int open_store(struct cli *cli)
{
    long pool = CLI_DEFAULT_DB_POOL;
    const char *pool_text = opt(cli, "db-pool");
    if (pool_text == NULL)
        pool_text = getenv("SCIMD_DB_POOL");
    if (pool_text && !str_to_long(pool_text, 1, CLI_MAX_DB_POOL, &pool))
        return usage_error("--db-pool must be a number from 1 to 1024, not '%s'", pool_text);
    cli->db_pool = (unsigned)pool;
    struct scim_error err;
    scim_error_clear(&err);
    if (store_open(cli->db, (unsigned)pool, &cli->store, &err) != OK) {
        char shown[512];
        fprintf(stderr, "scimd: cannot open database '%s': %s\n",
                shown_db(cli->db, shown, sizeof(shown)),
                err.detail[0] ? err.detail : status_name(err.status));
        return EXIT_FAIL;
    }
    char scratch[DIRECTORY_URL_MAX];
    directory_init(&cli->dir, cli->store, public_url_of(cli, scratch, sizeof(scratch)));
    return EXIT_OK;
}

/* ---- output ------------------------------------------------------------------------------- */

static void print_json(json_t *value)
{
    char *text = json_dumps(value, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text)
        puts(text);
    free(text);
    json_decref(value);
}

static json_t *nullable(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static json_t *tenant_json(const struct store_tenant *t)
{
    return json_pack("{s:s,s:s,s:s,s:s}", "id", t->id, "name", t->name, "subdomain", t->subdomain,
                     "created_at", t->created_at);
}

static json_t *idp_json(const struct directory *dir, const struct store_idp *idp)
{
    char base[DIRECTORY_URL_MAX];
    directory_idp_base_url(dir, idp->id, base);
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "id", idp->id, "tenant_id", idp->tenant_id,
                     "name", idp->name, "vendor", idp->vendor, "created_at", idp->created_at,
                     "scim_base_url", base);
}

static json_t *token_json(const struct store_token *t)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o}", "id", t->id, "idp_id", t->idp_id, "name",
                     t->name, "prefix", t->prefix, "created_at", t->created_at, "last_used_at",
                     nullable(t->last_used_at), "revoked_at", nullable(t->revoked_at));
}

static json_t *user_json(const struct store_user *u)
{
    return json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:s,s:o,s:b,s:s,s:s}", "id", u->id,
                     "tenant_id", u->tenant_id, "username", nullable(u->username), "email",
                     nullable(u->email), "given_name", nullable(u->given_name), "family_name",
                     nullable(u->family_name), "display_name", nullable(u->display_name),
                     "status", u->status, "idp_id", nullable(u->idp_id), "scim_managed",
                     u->scim_managed, "created_at", u->created_at, "updated_at", u->updated_at);
}

/* ---- tenant ------------------------------------------------------------------------------- */

static int cmd_tenant_create(struct cli *cli)
{
    if (cli->n_args != 1)
        return usage_error("%s", "usage: scimd tenant create NAME [--subdomain S]");
    struct scim_error err;
    struct store_tenant t;
    struct actor by = { "cli", NULL };
    if (directory_tenant_create(&cli->dir, cli->args[0], opt(cli, "subdomain"), &by, &t, &err) !=
        OK)
        return failure(&err);
    if (cli->json)
        print_json(tenant_json(&t));
    else
        printf("tenant %s created (subdomain %s)\n", t.id, t.subdomain);
    return EXIT_OK;
}

struct list_ctx {
    struct cli *cli;
    json_t *array;
};

static enum status print_tenant(void *ctx, const struct store_tenant *t)
{
    struct list_ctx *l = ctx;
    if (l->cli->json)
        json_array_append_new(l->array, tenant_json(t));
    else
        printf("%s  %-20s  %s\n", t->id, t->subdomain, t->name);
    return OK;
}

/* Run each(tx, …) in a read transaction and print the JSON array it built. */
#define LIST_IN_READ_TX(cli, call)                                                                 \
    do {                                                                                           \
        struct store_tx *tx_ = NULL;                                                               \
        enum status rc_ = store_begin((cli)->store, false, &tx_);                                  \
        if (rc_ != OK)                                                                             \
            return store_failure(rc_);                                                             \
        rc_ = (call);                                                                              \
        store_rollback(tx_);                                                                       \
        if (rc_ != OK) {                                                                           \
            json_decref(l.array);                                                                  \
            return store_failure(rc_);                                                             \
        }                                                                                          \
        if ((cli)->json)                                                                           \
            print_json(l.array);                                                                   \
        else                                                                                       \
            json_decref(l.array);                                                                  \
    } while (0)

static int cmd_tenant_list(struct cli *cli)
{
    struct list_ctx l = { cli, json_array() };
    LIST_IN_READ_TX(cli, store_tenant_each(tx_, print_tenant, &l));
    return EXIT_OK;
}

/* ---- idp ------------------------------------------------------------------------------------- */

static int cmd_idp_create(struct cli *cli)
{
    const char *tenant = opt(cli, "tenant"), *name = opt(cli, "name"), *vendor = opt(cli, "vendor");
    if (!tenant || !name || !vendor || cli->n_args)
        return usage_error("%s", "usage: scimd idp create --tenant T --name N --vendor "
                                 "okta|entra|onelogin|ping|jumpcloud|generic");
    struct scim_error err;
    struct store_idp idp;
    struct actor by = { "cli", NULL };
    if (directory_idp_create(&cli->dir, tenant, name, vendor, &by, &idp, &err) != OK) {
        if (err.status == ERR_INVALID_VALUE && strstr(err.detail, "vendor"))
            err.status = ERR_USAGE;
        return failure(&err);
    }
    if (cli->json) {
        print_json(idp_json(&cli->dir, &idp));
    } else {
        char base[DIRECTORY_URL_MAX];
        directory_idp_base_url(&cli->dir, idp.id, base);
        printf("IdP connection %s created\nSCIM base URL: %s\n", idp.id, base);
    }
    return EXIT_OK;
}

static enum status print_idp(void *ctx, const struct store_idp *idp)
{
    struct list_ctx *l = ctx;
    if (l->cli->json) {
        json_array_append_new(l->array, idp_json(&l->cli->dir, idp));
    } else {
        char base[DIRECTORY_URL_MAX];
        directory_idp_base_url(&l->cli->dir, idp->id, base);
        printf("%s  %-9s  %-24s  %s\n", idp->id, idp->vendor, idp->name, base);
    }
    return OK;
}

static int cmd_idp_list(struct cli *cli)
{
    struct list_ctx l = { cli, json_array() };
    const char *tenant_key = opt(cli, "tenant");
    struct store_tenant tenant;
    if (tenant_key) {
        struct store_tx *tx = NULL;
        enum status rc = store_begin(cli->store, false, &tx);
        if (rc == OK) {
            rc = store_tenant_find(tx, tenant_key, &tenant);
            store_rollback(tx);
        }
        if (rc != OK) {
            json_decref(l.array);
            fprintf(stderr, "scimd: no tenant '%s'\n", tenant_key);
            return EXIT_FAIL;
        }
    }
    LIST_IN_READ_TX(cli, store_idp_each(tx_, tenant_key ? tenant.id : NULL, print_idp, &l));
    return EXIT_OK;
}

/* ---- token ----------------------------------------------------------------------------------- */

static int cmd_token_create(struct cli *cli)
{
    const char *idp = opt(cli, "idp"), *name = opt(cli, "name");
    if (!idp || !name || cli->n_args)
        return usage_error("%s", "usage: scimd token create --idp ID --name NAME");
    struct scim_error err;
    struct store_token t;
    char plaintext[CRYPTO_TOKEN_LEN];
    struct actor by = { "cli", NULL };
    if (directory_token_create(&cli->dir, idp, name, &by, &t, plaintext, &err) != OK)
        return failure(&err);
    if (cli->json) {
        json_t *j = token_json(&t);
        json_object_del(j, "last_used_at");
        json_object_del(j, "revoked_at");
        json_object_set_new(j, "token", json_string(plaintext));
        print_json(j);
    } else {
        printf("token %s created for IdP %s\n%s\n(shown once; scimd keeps only its SHA-256)\n", t.id,
               t.idp_id, plaintext);
    }
    memset(plaintext, 0, sizeof(plaintext));
    return EXIT_OK;
}

static enum status print_token(void *ctx, const struct store_token *t)
{
    struct list_ctx *l = ctx;
    if (l->cli->json)
        json_array_append_new(l->array, token_json(t));
    else
        printf("%s  %-10s…  %-20s  created %s  last used %s%s%s\n", t->id, t->prefix, t->name,
               t->created_at, t->last_used_at[0] ? t->last_used_at : "never",
               t->revoked_at[0] ? "  REVOKED " : "", t->revoked_at);
    return OK;
}

static int cmd_token_list(struct cli *cli)
{
    const char *idp = opt(cli, "idp");
    if (!idp)
        return usage_error("%s", "usage: scimd token list --idp ID");
    struct list_ctx l = { cli, json_array() };
    LIST_IN_READ_TX(cli, store_token_each(tx_, idp, print_token, &l));
    return EXIT_OK;
}

static int cmd_token_revoke(struct cli *cli)
{
    if (cli->n_args != 1)
        return usage_error("%s", "usage: scimd token revoke TOKEN_ID");
    struct scim_error err;
    struct actor by = { "cli", NULL };
    if (directory_token_revoke(&cli->dir, cli->args[0], &by, &err) != OK)
        return failure(&err);
    if (cli->json)
        print_json(json_pack("{s:s,s:b}", "id", cli->args[0], "revoked", 1));
    else
        printf("token %s revoked\n", cli->args[0]);
    return EXIT_OK;
}

/* ---- user ------------------------------------------------------------------------------------- */

static int cmd_user_create(struct cli *cli)
{
    struct directory_new_user nu = {
        .tenant_key = opt(cli, "tenant"),
        .email = opt(cli, "email"),
        .username = opt(cli, "username"),
        .idp_id = opt(cli, "idp"),
        .given_name = opt(cli, "given-name"),
        .family_name = opt(cli, "family-name"),
    };
    if (!nu.tenant_key || !nu.email || !nu.username || cli->n_args)
        return usage_error("%s", "usage: scimd user create --tenant T --email E --username U "
                                 "[--idp ID] [--given-name G] [--family-name F]");
    struct scim_error err;
    struct store_user u;
    struct actor by = { "cli", NULL };
    if (directory_user_create(&cli->dir, &nu, &by, &u, &err) != OK)
        return failure(&err);
    if (cli->json)
        print_json(user_json(&u));
    else
        printf("user %s created\n", u.id);
    store_user_release(&u);
    return EXIT_OK;
}

static enum status print_user(void *ctx, const struct store_user *u)
{
    struct list_ctx *l = ctx;
    if (l->cli->json)
        json_array_append_new(l->array, user_json(u));
    else
        printf("%s  %-11s  %-30s  %s%s\n", u->id, u->status, u->username ? u->username : "-",
               u->email ? u->email : "-", u->scim_managed ? "  (SCIM)" : "");
    return OK;
}

static int cmd_user_list(struct cli *cli)
{
    const char *tenant_key = opt(cli, "tenant");
    if (!tenant_key)
        return usage_error("%s", "usage: scimd user list --tenant T [--idp ID]");
    struct store_tenant tenant;
    struct store_tx *tx = NULL;
    enum status rc = store_begin(cli->store, false, &tx);
    if (rc == OK) {
        rc = store_tenant_find(tx, tenant_key, &tenant);
        store_rollback(tx);
    }
    if (rc != OK) {
        fprintf(stderr, "scimd: no tenant '%s'\n", tenant_key);
        return EXIT_FAIL;
    }
    struct list_ctx l = { cli, json_array() };
    LIST_IN_READ_TX(cli, store_user_each(tx_, tenant.id, opt(cli, "idp"), print_user, &l));
    return EXIT_OK;
}

static enum status collect_row(void *ctx, const struct store_idp_user *r)
{
    json_t *rows = ctx;
    json_t *resource = json_loads(r->doc, 0, NULL);
    json_array_append_new(rows, json_pack("{s:s,s:o,s:s,s:b,s:b,s:I,s:s,s:s,s:o}", "idp_id",
                                          r->idp_id, "external_id", nullable(r->external_id),
                                          "user_name", r->user_name ? r->user_name : "", "active",
                                          r->active, "deleted", r->deleted, "version",
                                          (json_int_t)r->version, "created_at", r->created_at,
                                          "updated_at", r->updated_at, "resource",
                                          resource ? resource : json_null()));
    return OK;
}

static int cmd_user_show(struct cli *cli)
{
    if (cli->n_args != 1)
        return usage_error("%s", "usage: scimd user show ID");
    struct store_tx *tx = NULL;
    enum status rc = store_begin(cli->store, false, &tx);
    if (rc != OK)
        return store_failure(rc);
    struct store_user u;
    rc = store_user_get(tx, NULL, cli->args[0], &u);
    if (rc != OK) {
        store_rollback(tx);
        if (rc == ERR_NOT_FOUND) {
            fprintf(stderr, "scimd: no user '%s'\n", cli->args[0]);
            return EXIT_FAIL;
        }
        return store_failure(rc);
    }
    json_t *rows = json_array();
    rc = store_idp_user_each_of_user(tx, u.tenant_id, u.id, collect_row, rows);
    store_rollback(tx);
    if (rc != OK) {
        json_decref(rows);
        store_user_release(&u);
        return store_failure(rc);
    }
    json_t *j = user_json(&u);
    json_object_set_new(j, "idp_rows", rows);
    store_user_release(&u);
    if (cli->json) {
        print_json(j);
        return EXIT_OK;
    }
    printf("id:           %s\nusername:     %s\nemail:        %s\nname:         %s %s\n"
           "status:       %s\nscim managed: %s\n",
           json_string_value(json_object_get(j, "id")),
           json_string_value(json_object_get(j, "username")) ?: "-",
           json_string_value(json_object_get(j, "email")) ?: "-",
           json_string_value(json_object_get(j, "given_name")) ?: "",
           json_string_value(json_object_get(j, "family_name")) ?: "",
           json_string_value(json_object_get(j, "status")),
           json_is_true(json_object_get(j, "scim_managed")) ? "yes" : "no");
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        printf("\nIdP %s attributes (version %lld%s):\n",
               json_string_value(json_object_get(row, "idp_id")),
               (long long)json_integer_value(json_object_get(row, "version")),
               json_is_true(json_object_get(row, "deleted")) ? ", deleted" : "");
        char *text = json_dumps(json_object_get(row, "resource"), JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text)
            puts(text);
        free(text);
    }
    json_decref(j);
    return EXIT_OK;
}

/* ---- audit --------------------------------------------------------------------------------- */

struct audit_print {
    struct cli *cli;
    json_t *array;
    int64_t last_seq;
};

static enum status print_event(void *ctx, const struct store_event *e)
{
    struct audit_print *p = ctx;
    p->last_seq = e->seq;
    json_t *summary = e->summary ? json_loads(e->summary, 0, NULL) : NULL;
    if (p->array) {
        json_array_append_new(
            p->array,
            json_pack("{s:I,s:s,s:s,s:s,s:o,s:o,s:s,s:o,s:o,s:o}", "seq", (json_int_t)e->seq,
                      "id", e->id, "at", e->at, "type", e->type, "tenant_id",
                      nullable(e->tenant_id), "idp_id", nullable(e->idp_id), "actor", e->actor,
                      "subject_id", nullable(e->subject_id), "summary",
                      summary ? summary : json_object(), "source", nullable(e->source)));
        return OK;
    }
    printf("%s  %-22s  %s  subject=%s  %s%s%s\n", e->at, e->type, e->actor,
           e->subject_id ? e->subject_id : "-", e->summary ? e->summary : "",
           e->source ? "  from " : "", e->source ? e->source : "");
    json_decref(summary);
    fflush(stdout);
    return OK;
}

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int cmd_audit(struct cli *cli)
{
    long limit = CLI_AUDIT_DEFAULT_LIMIT;
    const char *limit_text = opt(cli, "limit");
    if (limit_text && !str_to_long(limit_text, 1, 1000000, &limit))
        return usage_error("--limit must be a number from 1 to 1000000, not '%s'", limit_text);
    struct store_event_query q = { .type = opt(cli, "type"), .idp_id = opt(cli, "idp"),
                                   .limit = (size_t)limit };
    struct store_tenant tenant;
    struct store_tx *tx = NULL;
    enum status rc;
    const char *tenant_key = opt(cli, "tenant");
    if (tenant_key) {
        if ((rc = store_begin(cli->store, false, &tx)) != OK)
            return store_failure(rc);
        rc = store_tenant_find(tx, tenant_key, &tenant);
        store_rollback(tx);
        if (rc != OK) {
            fprintf(stderr, "scimd: no tenant '%s'\n", tenant_key);
            return EXIT_FAIL;
        }
        q.tenant_id = tenant.id;
    }
    bool follow = flag(cli, "follow");
    struct audit_print p = { cli, cli->json && !follow ? json_array() : NULL, 0 };
    signal(SIGINT, on_stop_signal);
    signal(SIGTERM, on_stop_signal);
    do {
        if ((rc = store_begin(cli->store, false, &tx)) != OK)
            return store_failure(rc);
        q.after_seq = p.last_seq;
        rc = store_event_each(tx, &q, print_event, &p);
        store_rollback(tx);
        if (rc != OK) {
            json_decref(p.array);
            return store_failure(rc);
        }
        if (follow)
            usleep(CLI_FOLLOW_POLL_MS * 1000);
    } while (follow && !stop_requested);
    if (p.array)
        print_json(p.array);
    return EXIT_OK;
}

/* ---- serve --------------------------------------------------------------------------------- */

/* "127.0.0.1:8080" or "[::1]:8080" -> address and port. */
static bool parse_listen(const char *text, char *addr, size_t size, uint16_t *port)
{
    const char *colon = strrchr(text, ':');
    if (colon == NULL)
        return false;
    const char *start = text, *end = colon;
    if (*start == '[') {
        start++;
        if (end == start || end[-1] != ']')
            return false;
        end--;
    }
    if ((size_t)(end - start) >= size)
        return false;
    memcpy(addr, start, (size_t)(end - start));
    addr[end - start] = '\0';
    long p;
    if (!str_to_long(colon + 1, 1, 65535, &p))
        return false;
    *port = (uint16_t)p;
    return true;
}

static enum status take_first(void *ctx, const struct store_idp *found)
{
    struct store_idp *idp = ctx;
    if (idp->id[0] == '\0')
        *idp = *found;
    return OK;
}

/* Create the demo tenant and IdP on an empty database, then mint a token. */
static int demo_setup(struct cli *cli)
{
    struct store_tx *tx = NULL;
    enum status rc = store_begin(cli->store, false, &tx);
    if (rc != OK)
        return store_failure(rc);
    struct store_tenant tenant;
    rc = store_tenant_find(tx, "demo", &tenant);
    store_rollback(tx);
    struct scim_error err;
    struct actor by = { "cli", NULL };
    if (rc == ERR_NOT_FOUND &&
        directory_tenant_create(&cli->dir, "Demo", "demo", &by, &tenant, &err) != OK)
        return failure(&err);

    /* first IdP of the demo tenant, or a new one */
    struct store_idp idp = { 0 };
    if ((rc = store_begin(cli->store, false, &tx)) != OK)
        return store_failure(rc);
    rc = store_idp_each(tx, tenant.id, take_first, &idp);
    store_rollback(tx);
    if (rc != OK)
        return store_failure(rc);
    if (idp.id[0] == '\0' &&
        directory_idp_create(&cli->dir, tenant.id, "Demo Okta", "okta", &by, &idp, &err) != OK)
        return failure(&err);

    struct store_token token;
    char plaintext[CRYPTO_TOKEN_LEN];
    char name[64];
    char now[CLOCK_ISO_LEN];
    clock_now_iso(now);
    snprintf(name, sizeof(name), "demo %s", now);
    if (directory_token_create(&cli->dir, idp.id, name, &by, &token, plaintext, &err) != OK)
        return failure(&err);
    char base[DIRECTORY_URL_MAX];
    directory_idp_base_url(&cli->dir, idp.id, base);
    printf("\nDemo tenant:   %s (%s)\nIdP connection: %s (%s)\n"
           "SCIM base URL: %s\nBearer token:  %s\n"
           "               (shown once; scimd stores only its SHA-256)\n\n"
           "  export SCIM=%s TOKEN=%s\n"
           "  curl -H \"Authorization: Bearer $TOKEN\" \"${SCIM}Users\"\n\n",
           tenant.name, tenant.subdomain, idp.name, idp.id, base, plaintext, base, plaintext);
    fflush(stdout);
    memset(plaintext, 0, sizeof(plaintext));
    return EXIT_OK;
}


/* --NAME as a number in [min, max], or fallback when absent; false on junk. */
static bool number_flag(const struct cli *cli, const char *name, long min, long max, long fallback,
                        long *out)
{
    const char *text = opt(cli, name);
    *out = fallback;
    if (text == NULL)
        return true;
    if (str_to_long(text, min, max, out))
        return true;
    fprintf(stderr, "scimd: --%s must be a number from %ld to %ld, not '%s'\n", name, min, max,
            text);
    return false;
}

/*
 * Raise the soft limit on open files to the hard limit (a server with the
 * default 1024 runs out at a thousand idle clients) and derive from it how
 * many connections serve can hold, leaving room for the database pool, the
 * HTTP worker threads and CLI_FD_RESERVE.  0 when the limit is too low.
 */
static unsigned connection_budget(unsigned threads, unsigned db_pool, rlim_t *fd_limit)
{
    struct rlimit lim;
    *fd_limit = 0;
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
        return 0;
    if (lim.rlim_cur < lim.rlim_max) {
        struct rlimit raised = { lim.rlim_max, lim.rlim_max };
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            lim = raised;
        else
            log_warn("cannot raise the open-file limit from %llu to %llu",
                     (unsigned long long)lim.rlim_cur, (unsigned long long)lim.rlim_max);
    }
    *fd_limit = lim.rlim_cur;
    rlim_t reserved = CLI_FD_RESERVE + (rlim_t)db_pool * CLI_FDS_PER_DB_CONN +
                      (rlim_t)threads * HTTP_FDS_PER_THREAD;
    if (lim.rlim_cur <= reserved + CLI_MIN_CONNECTIONS)
        return 0;
    rlim_t budget = lim.rlim_cur - reserved;
    return budget > UINT_MAX / 2 ? UINT_MAX / 2 : (unsigned)budget;
}

/* The connection limits and deadlines of serve, from flags and the fd limit. */
static int serve_limits(const struct cli *cli, struct http_config *cfg)
{
    long per_ip, header_s, body_s;
    if (!number_flag(cli, "max-conns-per-ip", 0, INT_MAX, HTTP_DEFAULT_CONNS_PER_IP, &per_ip) ||
        !number_flag(cli, "header-timeout", 1, CLI_MAX_TIMEOUT_S, HTTP_DEFAULT_HEADER_TIMEOUT_S,
                     &header_s) ||
        !number_flag(cli, "body-timeout", 1, CLI_MAX_TIMEOUT_S, HTTP_DEFAULT_BODY_TIMEOUT_S,
                     &body_s))
        return EXIT_USAGE;
    rlim_t fd_limit;
    unsigned budget = connection_budget(cfg->threads, cli->db_pool, &fd_limit);
    if (budget == 0) {
        fprintf(stderr,
                "scimd: the open-file limit (%llu) leaves no room for connections; "
                "raise it (ulimit -n) or lower --threads / --db-pool\n",
                (unsigned long long)fd_limit);
        return EXIT_FAIL;
    }
    long max_conns;
    long fallback =
        budget < HTTP_DEFAULT_MAX_CONNECTIONS ? (long)budget : HTTP_DEFAULT_MAX_CONNECTIONS;
    if (!number_flag(cli, "max-conns", 1, (long)budget, fallback, &max_conns)) {
        fprintf(stderr, "scimd: (the open-file limit %llu allows up to %u connections)\n",
                (unsigned long long)fd_limit, budget);
        return EXIT_USAGE;
    }
    cfg->max_connections = (unsigned)max_conns;
    cfg->max_conns_per_ip = (unsigned)per_ip;
    cfg->header_timeout_s = (unsigned)header_s;
    cfg->body_timeout_s = (unsigned)body_s;
    return EXIT_OK;
}

/* ---- serve: operations flags (rate limits, metrics, TLS) ---- */
static int serve_ops_flags(const struct cli *cli, struct http_config *cfg)
{
    http_ratelimit_defaults(&cfg->limits);
    struct {
        const char *flag;
        unsigned *first, *second;
    } rates[] = {
        { "token-rate", &cfg->limits.token.per_s, &cfg->limits.token.burst },
        { "conn-rate", &cfg->limits.conn.per_s, &cfg->limits.conn.burst },
        { "auth-fail-limit", &cfg->limits.auth_fail_max, &cfg->limits.auth_fail_window_s },
    };
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        const char *text = opt(cli, rates[i].flag);
        if (text && !http_rate_parse(text, rates[i].first, rates[i].second))
            return usage_error("--%s wants N or N/M (e.g. 100/1000)", rates[i].flag);
    }
    if (cfg->limits.auth_fail_max > 0 && cfg->limits.auth_fail_window_s == 0)
        return usage_error("%s", "--auth-fail-limit wants a window of at least 1 s");
    const char *metrics = opt(cli, "metrics-listen");
    if (metrics && !parse_listen(metrics, cfg->metrics_addr, sizeof(cfg->metrics_addr),
                                 &cfg->metrics_port))
        return usage_error("--metrics-listen wants ADDR:PORT, e.g. 127.0.0.1:9090, not '%s'",
                           metrics);
    cfg->tls_cert_file = opt(cli, "tls-cert");
    cfg->tls_key_file = opt(cli, "tls-key");
    return EXIT_OK;
}

static int cmd_serve(struct cli *cli)
{
    const char *listen = opt(cli, "listen");
    if (listen == NULL)
        listen = getenv("SCIMD_LISTEN");
    if (listen == NULL)
        listen = CLI_DEFAULT_LISTEN;
    char addr[64];
    uint16_t port;
    if (!parse_listen(listen, addr, sizeof(addr), &port))
        return usage_error("--listen wants ADDR:PORT, e.g. 127.0.0.1:8080, not '%s'", listen);
    /* More HTTP threads than cores: a group commit batches the writes in flight,
     * so writes only share an fsync when enough requests are in the store at once. */
    long threads = CLI_DEFAULT_THREADS;
    const char *threads_text = opt(cli, "threads");
    if (threads_text && !str_to_long(threads_text, 1, 256, &threads))
        return usage_error("--threads must be a number from 1 to 256, not '%s'", threads_text);
    if (flag(cli, "demo")) {
        int demo = demo_setup(cli);
        if (demo != EXIT_OK)
            return demo;
    }

    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP); /* reloads the TLS certificate */
    pthread_sigmask(SIG_BLOCK, &stop, NULL); /* threads inherit: only sigwait sees them */
    signal(SIGPIPE, SIG_IGN);

    struct http_config cfg = { .listen_addr = addr, .port = port, .threads = (unsigned)threads };
    int code = serve_limits(cli, &cfg);
    if (code == EXIT_OK)
        code = serve_ops_flags(cli, &cfg);
    if (code != EXIT_OK)
        return code;
    struct http_server *server = NULL;
    struct scim_error err;
    scim_error_clear(&err);
    if (directory_load_keys(&cli->dir, &err) != OK)
        return failure(&err);
    if (http_server_start(&cfg, &cli->dir, &server, &err) != OK)
        return failure(&err);
    char shown[512];
    log_info("scimd listening on %s (public URL %s, database %s, %ld threads, %u connections, "
             "%u per address, head/body deadlines %u/%u s)",
             listen, cli->dir.public_url, shown_db(cli->db, shown, sizeof(shown)), threads,
             cfg.max_connections, cfg.max_conns_per_ip, cfg.header_timeout_s, cfg.body_timeout_s);
    int sig = 0;
    while (sigwait(&stop, &sig) == 0 && sig == SIGHUP) {
        if (http_server_reload(server, &err) == OK)
            log_info("reloaded the TLS certificate and key");
        else
            log_error("reload: %s", err.detail);
    }
    log_info("stopping on signal %d", sig);
    atomic_store(&cli->dir.stopping, true); /* a running Bulk stops between operations */
    http_server_stop(server);
    return EXIT_OK;
}

/* ---- dispatch -------------------------------------------------------------------------------- */

struct command {
    const char *group;
    const char *verb; /* NULL for single-word commands */
    int (*run)(struct cli *cli);
    const char *const options[20];
    const char *usage;
};

/* clang-format off */
static const struct command commands[] = {
    { "serve",  NULL,     cmd_serve,         { "listen", "public-url", "demo", "threads", "db-pool",
                                               "max-conns", "max-conns-per-ip", "header-timeout",
                                               "body-timeout", "token-rate", "conn-rate",
                                               "auth-fail-limit", "metrics-listen", "tls-cert",
                                               "tls-key", NULL },
      "serve [--listen ADDR:PORT] [--public-url URL] [--demo] [--threads N] [--db-pool N]\n"
      "              [--max-conns N] [--max-conns-per-ip N] [--header-timeout S] [--body-timeout S]\n"
      "              [--token-rate PER_S[/BURST]] [--conn-rate PER_S[/BURST]]\n"
      "              [--auth-fail-limit MAX[/WINDOW_S]] [--metrics-listen ADDR:PORT]\n"
      "              [--tls-cert PEM --tls-key PEM] (SIGHUP reloads them)" },
    { "tenant", "create", cmd_tenant_create, { "subdomain", NULL },
      "tenant create NAME [--subdomain S]" },
    { "tenant", "list",   cmd_tenant_list,   { NULL },
      "tenant list" },
    { "idp",    "create", cmd_idp_create,    { "tenant", "name", "vendor", "public-url", NULL },
      "idp create --tenant T --name N --vendor okta|entra|onelogin|ping|jumpcloud|generic" },
    { "idp",    "list",   cmd_idp_list,      { "tenant", "public-url", NULL },
      "idp list [--tenant T]" },
    { "token",  "create", cmd_token_create,  { "idp", "name", NULL },
      "token create --idp ID --name NAME" },
    { "token",  "list",   cmd_token_list,    { "idp", NULL },
      "token list --idp ID" },
    { "token",  "revoke", cmd_token_revoke,  { NULL },
      "token revoke TOKEN_ID" },
    { "user",   "create", cmd_user_create,   { "tenant", "email", "username", "idp", "given-name",
                                               "family-name", NULL },
      "user create --tenant T --email E --username U [--idp ID]" },
    { "user",   "list",   cmd_user_list,     { "tenant", "idp", NULL },
      "user list --tenant T [--idp ID]" },
    { "user",   "show",   cmd_user_show,     { NULL },
      "user show ID" },
    { "audit",  NULL,     cmd_audit,         { "tenant", "idp", "type", "limit", "follow", NULL },
      "audit [--tenant T] [--idp ID] [--type TYPE] [--limit N] [--follow]" },
};
/* clang-format on */

static void print_usage(FILE *out)
{
    fprintf(out, "usage: scimd COMMAND [--db PATH] [--json]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  scimd %s\n", commands[i].usage);
    fprintf(out, "\n--db defaults to $SCIMD_DB, else ./scimd.db\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
        print_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *level = getenv("SCIMD_LOG_LEVEL");
    if (level && !log_level_parse(level, &log_current_level))
        return usage_error("SCIMD_LOG_LEVEL must be error, warn, info or debug, not '%s'", level);

    const struct command *cmd = NULL;
    int consumed = 0;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]) && !cmd; i++) {
        const struct command *c = &commands[i];
        if (strcmp(c->group, argv[1]) != 0)
            continue;
        if (c->verb == NULL) {
            cmd = c;
            consumed = 2;
        } else if (argc > 2 && strcmp(c->verb, argv[2]) == 0) {
            cmd = c;
            consumed = 3;
        }
    }
    if (cmd == NULL)
        return usage_error("unknown command '%s'", argc > 2 && argv[2][0] != '-'
                                                       ? argv[2]
                                                       : argv[1]);

    struct cli cli = { 0 };
    int code = parse_options(&cli, argc - consumed, argv + consumed);
    if (code == EXIT_OK)
        code = check_options(&cli, cmd->options);
    if (code != EXIT_OK)
        return code;
    if ((code = open_store(&cli)) != EXIT_OK)
        return code;
    code = cmd->run(&cli);
    store_close(cli.store);
    return code;
}
