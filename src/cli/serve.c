/* SPDX-License-Identifier: Apache-2.0 */
/*
 * serve.c - `scimd serve`: the settings check and --print-config, the demo
 * tenant, the open-file and connection budget, rate limits, metrics and TLS,
 * and the HTTP server's life from start to the stopping signal (SIGHUP
 * reloads the TLS certificate).
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "admin/api.h"
#include "cli/cli.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/str.h"
#include "core/version.h"
#include "directory/admins.h"
#include "directory/rederive.h"
#include "events/delivery.h"
#include "events/event_log.h"
#include "events/signing_store.h"
#include "http/ratelimit.h"
#include "http/server.h"
#include "outbound/engine.h"

/* serve's file descriptors: what the connection limit leaves for everything
 * else (log, listening socket, libraries), per database connection (SQLite:
 * database, WAL, shared memory, journal; PostgreSQL: one socket), and the
 * smallest connection limit worth starting with. */
#define CLI_FD_RESERVE      64
#define CLI_FDS_PER_DB_CONN 4
#define CLI_MIN_CONNECTIONS 16
#define CLI_LISTEN_ADDR_MAX 64
#define SERVE_PURGE_EVERY_S 86400 /* --purge-after runs at start and then this often */

bool cli_listen_parse(const char *text, char *addr, size_t size, uint16_t *port)
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

/* ---- --print-config -------------------------------------------------------------------------- */

static int print_config(const struct cli *cli)
{
    const struct config *cfg = &cli->config;
    if (!cli->json) {
        if (cfg->file)
            printf("# settings of scimd serve (config file %s)\n", cfg->file);
        else
            printf("# settings of scimd serve (no config file)\n");
        config_print(cfg, stdout);
        return CLI_EXIT_OK;
    }
    json_t *all = json_array();
    for (size_t i = 0; i < cfg->n_options; i++) {
        char shown[CONFIG_MAX_VALUE];
        json_array_append_new(all,
                              json_pack("{s:s,s:o,s:s}", "name", cfg->options[i].name, "value",
                                        cli_nullable(config_shown(cfg, i, shown, sizeof(shown))),
                                        "source", config_source_name(cfg->sources[i])));
    }
    cli_print_json(all);
    return CLI_EXIT_OK;
}

/* ---- --demo ---------------------------------------------------------------------------------- */

static enum status take_first(void *ctx, const struct store_idp *found)
{
    struct store_idp *idp = ctx;
    if (idp->id[0] == '\0')
        *idp = *found;
    return OK;
}

#define DEMO_ADMIN_EMAIL "admin@demo.example"

/* The demo super admin for the web console: its one-time setup link on the
 * first run; afterwards where to sign in. */
static int demo_admin(struct cli *cli)
{
    struct directory_admin_new na = { .email = DEMO_ADMIN_EMAIL, .role = "super" };
    struct scim_error err;
    struct store_admin a;
    char token[DIRECTORY_SECRET_LEN], link[DIRECTORY_URL_MAX];
    struct actor by = { "cli", NULL };
    enum status rc = directory_admin_create(&cli->dir, &na, &by, &a, token, &err);
    if (rc == ERR_UNIQUENESS) {
        printf("Web console:   %s/admin/  (sign in as %s with the password you set;\n"
               "               another admin: scimd admin create --email E --role super)\n",
               cli->dir.public_url, DEMO_ADMIN_EMAIL);
        return CLI_EXIT_OK;
    }
    if (rc != OK)
        return cli_failure(&err);
    directory_admin_setup_url(&cli->dir, token, link);
    printf("Web console:   %s/admin/\n"
           "Set the password of %s (super admin) once, within 24 hours, at:\n"
           "               %s\n",
           cli->dir.public_url, DEMO_ADMIN_EMAIL, link);
    memset(token, 0, sizeof(token));
    memset(link, 0, sizeof(link));
    return CLI_EXIT_OK;
}

/* Create the demo tenant and IdP on an empty database, then mint a token. */
static int demo_setup(struct cli *cli)
{
    struct store_tx *tx = NULL;
    enum status rc = store_begin(cli->store, false, &tx);
    if (rc != OK)
        return cli_store_failure(rc);
    struct store_tenant tenant;
    rc = store_tenant_find(tx, "demo", &tenant);
    store_rollback(tx);
    struct scim_error err;
    struct actor by = { "cli", NULL };
    if (rc == ERR_NOT_FOUND &&
        directory_tenant_create(&cli->dir, "Demo", "demo", &by, &tenant, &err) != OK)
        return cli_failure(&err);

    /* first IdP of the demo tenant, or a new one */
    struct store_idp idp = { 0 };
    if ((rc = store_begin(cli->store, false, &tx)) != OK)
        return cli_store_failure(rc);
    rc = store_idp_each(tx, tenant.id, take_first, &idp);
    store_rollback(tx);
    if (rc != OK)
        return cli_store_failure(rc);
    if (idp.id[0] == '\0' &&
        directory_idp_create(&cli->dir, tenant.id, "Demo Okta", "okta", &by, &idp, &err) != OK)
        return cli_failure(&err);

    struct store_token token;
    char plaintext[CRYPTO_TOKEN_LEN];
    char name[64];
    char now[CLOCK_ISO_LEN];
    clock_now_iso(now);
    snprintf(name, sizeof(name), "demo %s", now);
    if (directory_token_create(&cli->dir, idp.id, name, &by, &token, plaintext, &err) != OK)
        return cli_failure(&err);
    char base[DIRECTORY_URL_MAX];
    directory_idp_base_url(&cli->dir, idp.id, base);
    printf("\nDemo tenant:   %s (%s)\nIdP connection: %s (%s)\n"
           "SCIM base URL: %s\nBearer token:  %s\n"
           "               (shown once; scimd stores only its SHA-256)\n\n"
           "  export SCIM=%s TOKEN=%s\n"
           "  curl -H \"Authorization: Bearer $TOKEN\" \"${SCIM}Users\"\n\n",
           tenant.name, tenant.subdomain, idp.name, idp.id, base, plaintext, base, plaintext);
    memset(plaintext, 0, sizeof(plaintext));
    int code = demo_admin(cli);
    printf("\n");
    fflush(stdout);
    return code;
}

/* ---- limits ---------------------------------------------------------------------------------- */

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

/* The connection limits and deadlines of serve, from the settings and the fd limit. */
static int serve_limits(const struct cli *cli, struct http_config *cfg)
{
    const struct config *c = &cli->config;
    rlim_t fd_limit;
    unsigned budget = connection_budget(cfg->threads, cli->db_pool, &fd_limit);
    if (budget == 0) {
        fprintf(stderr,
                "scimd: the open-file limit (%llu) leaves no room for connections; "
                "raise it (ulimit -n) or lower --threads / --db-pool\n",
                (unsigned long long)fd_limit);
        return CLI_EXIT_FAIL;
    }
    long max_conns =
        budget < HTTP_DEFAULT_MAX_CONNECTIONS ? (long)budget : HTTP_DEFAULT_MAX_CONNECTIONS;
    if (config_get(c, "max-conns")) {
        max_conns = config_number(c, "max-conns");
        if (max_conns > (long)budget) {
            fprintf(stderr,
                    "scimd: --max-conns must be a number from 1 to %u, not '%ld'\n"
                    "scimd: (the open-file limit %llu allows up to %u connections)\n",
                    budget, max_conns, (unsigned long long)fd_limit, budget);
            return CLI_EXIT_USAGE;
        }
    }
    cfg->max_connections = (unsigned)max_conns;
    cfg->max_conns_per_ip = (unsigned)config_number(c, "max-conns-per-ip");
    cfg->header_timeout_s = (unsigned)config_number(c, "header-timeout");
    cfg->body_timeout_s = (unsigned)config_number(c, "body-timeout");
    return CLI_EXIT_OK;
}

/* Rate limits, the metrics listener and TLS, from the settings (validated at start). */
static void serve_ops(const struct cli *cli, struct http_config *cfg)
{
    const struct config *c = &cli->config;
    http_rate_parse(config_get(c, "token-rate"), &cfg->limits.token.per_s,
                    &cfg->limits.token.burst);
    http_rate_parse(config_get(c, "conn-rate"), &cfg->limits.conn.per_s, &cfg->limits.conn.burst);
    http_rate_parse(config_get(c, "auth-fail-limit"), &cfg->limits.auth_fail_max,
                    &cfg->limits.auth_fail_window_s);
    const char *metrics = config_get(c, "metrics-listen");
    if (metrics)
        cli_listen_parse(metrics, cfg->metrics_addr, sizeof(cfg->metrics_addr), &cfg->metrics_port);
    const char *cert = config_get(c, "tls-cert"), *key = config_get(c, "tls-key");
    cfg->tls_cert_file = cert && *cert ? cert : NULL;
    cfg->tls_key_file = key && *key ? key : NULL;
    const char *proxies = config_get(c, "trusted-proxy");
    cfg->trusted_proxies = proxies && *proxies ? proxies : NULL;
}

/* ---- event streams ------------------------------------------------------------------------- */

/* The SET signing key, the JWKS served at /.well-known/jwks.json and the
 * webhook delivery thread. */
struct serve_events {
    struct signing_key *key; /* NULL without a key file */
    char *jwks;
    char node[CLI_LISTEN_ADDR_MAX + 256];
    struct delivery *delivery;
};

/* Claim the shared signing key (the first node on a database makes it) and
 * publish its JWKS to the HTTP server's config. */
static void serve_events_start(struct cli *cli, const struct secretbox *box,
                               struct serve_events *ev, struct http_config *cfg)
{
    memset(ev, 0, sizeof(*ev));
    struct scim_error err;
    scim_error_clear(&err);
    if (box == NULL)
        log_warn("no key file: SET subscriptions wait until serve has one (--key-file)");
    else if (signing_store_claim(cli->store, box, SIGNING_STORE_SETTING, SIGNING_KEY_BITS_DEFAULT,
                                 &ev->key, &err) != OK)
        log_error("SET signing key: %s", err.detail);
    const struct signing_key *keys[] = { ev->key };
    if (signing_keys_jwks(keys, ev->key ? 1 : 0, &ev->jwks, &err) != OK)
        log_error("JWKS: %s", err.detail);
    cfg->jwks_json = ev->jwks;
    cfg->set_key = ev->key;
}

/* This node's name in leases: its host and listen address, so that a node
 * restarted after a crash takes its own leases (apps, webhooks) back at once
 * instead of waiting for them to expire.  Two live nodes cannot share it. */
static void serve_node_id(struct cli *cli, char *out, size_t size)
{
    char host[200] = "scimd";
    gethostname(host, sizeof(host) - 1);
    snprintf(out, size, "%s/%s", host, config_get(&cli->config, "listen"));
}

/* Start webhook delivery under the node's name (ev->node). */
static void serve_events_deliver(struct cli *cli, const struct secretbox *box,
                                 struct serve_events *ev)
{
    struct delivery_config dcfg = {
        .allow_private = config_bool(&cli->config, "outbound-allow-private"),
        .retry_base_ms = config_number(&cli->config, "webhook-retry-ms"),
        .node = ev->node,
    };
    struct scim_error err;
    if (delivery_start(&cli->dir, box, ev->key, &dcfg, &ev->delivery, &err) != OK)
        log_error("webhook delivery: %s", err.detail);
}

static void serve_events_stop(struct serve_events *ev)
{
    signing_key_free(ev->key);
    free(ev->jwks);
    memset(ev, 0, sizeof(*ev));
}

/* ---- serve ----------------------------------------------------------------------------------- */

/*
 * SIGHUP: what can change without a restart is re-read here: the TLS
 * certificate and key (the listener is handed to a daemon with the new
 * pair; a pair that does not load changes nothing), and the event log file
 * is reopened.
 */
static void serve_reload(struct http_server *server, const struct http_config *cfg,
                         struct event_log *event_log)
{
    event_log_reopen(event_log); /* --event-log: the next batch goes to a fresh file */
    if (cfg->tls_cert_file == NULL) {
        log_info("SIGHUP: nothing to reload; restart to apply changed settings");
        return;
    }
    struct scim_error err;
    if (http_server_reload(server, &err) == OK)
        log_info("SIGHUP: reloaded the TLS certificate and key");
    else
        log_error("reload: %s", err.detail);
}

/* Log where scimd listens and with what limits, as fields (the database without its password). */
static void log_started(const struct cli *cli, const struct http_config *cfg)
{
    char threads[16], conns[16], per_ip[16], deadlines[32];
    snprintf(threads, sizeof(threads), "%u", cfg->threads);
    snprintf(conns, sizeof(conns), "%u", cfg->max_connections);
    snprintf(per_ip, sizeof(per_ip), "%u", cfg->max_conns_per_ip);
    snprintf(deadlines, sizeof(deadlines), "%u/%u", cfg->header_timeout_s, cfg->body_timeout_s);
    const struct log_field fields[] = {
        { "listen", config_get(&cli->config, "listen") },
        { "public_url", cli->dir.public_url },
        { "db", cli->db },
        { "threads", threads },
        { "max_conns", conns },
        { "max_conns_per_ip", per_ip },
        { "deadlines_s", deadlines },
        { "trusted_proxies", cfg->trusted_proxies }, /* left out when none */
        { "version", SCIMD_VERSION },
    };
    log_with(LOG_INFO, fields, sizeof(fields) / sizeof(fields[0]), "scimd listening");
}

int cli_serve(struct cli *cli)
{
    if (cli->n_args)
        return cli_usage(cli);
    if (cli_flag(cli, "print-config"))
        return print_config(cli);
    const char *listen = config_get(&cli->config, "listen");
    char addr[CLI_LISTEN_ADDR_MAX];
    uint16_t port;
    cli_listen_parse(listen, addr, sizeof(addr), &port); /* validated with the settings */
    /* More HTTP threads than cores: a group commit batches the writes in flight,
     * so writes only share an fsync when enough requests are in the store at once. */
    struct http_config cfg = { .listen_addr = addr,
                               .port = port,
                               .threads = (unsigned)config_number(&cli->config, "threads") };
    int code = cli_open_store(cli);
    if (code != CLI_EXIT_OK)
        return code;
    if (config_bool(&cli->config, "demo") && (code = demo_setup(cli)) != CLI_EXIT_OK)
        return code;

    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, NULL); /* threads inherit: only sigwait sees them */
    signal(SIGPIPE, SIG_IGN);

    if ((code = serve_limits(cli, &cfg)) != CLI_EXIT_OK)
        return code;
    serve_ops(cli, &cfg);
    struct http_server *server = NULL;
    struct scim_error err;
    scim_error_clear(&err);
    if (directory_load_keys(&cli->dir, &err) != OK)
        return cli_failure(&err);
    struct event_log *event_log = NULL;
    const char *event_log_path = config_get(&cli->config, "event-log");
    if (event_log_path && *event_log_path &&
        event_log_start(&cli->dir, event_log_path, &event_log, &err) != OK)
        return cli_failure(&err);
    /* fan-out to downstream apps and webhooks: without a usable key they run, but wait */
    struct secretbox box;
    bool have_key = false;
    char key_path[1024];
    if (!cli_key_path(cli, key_path, sizeof(key_path)))
        log_warn("no --key-file: downstream apps cannot be reached until one is given");
    else if (secretbox_load_file(&box, key_path, &err) != OK)
        log_error("key file: %s; downstream apps cannot be reached", err.detail);
    else
        have_key = true;
    struct serve_events events;
    serve_events_start(cli, have_key ? &box : NULL, &events, &cfg);
    serve_node_id(cli, events.node, sizeof(events.node));
    if (http_server_start(&cfg, &cli->dir, &server, &err) != OK) {
        event_log_stop(event_log);
        serve_events_stop(&events);
        if (have_key)
            secretbox_release(&box);
        return cli_failure(&err);
    }
    struct engine_config ecfg = {
        .allow_private = config_bool(&cli->config, "outbound-allow-private"),
        .backoff_base_ms = config_number(&cli->config, "outbound-retry-ms"),
        .lease_s = (unsigned)config_number(&cli->config, "outbound-lease-s"),
        .node = events.node,
        .deprovision_limit = (long)config_number(&cli->config, "deprovision-limit"),
    };
    int64_t interval_s = 0; /* "0": off */
    if (clock_duration_parse(config_get(&cli->config, "reconcile-interval"), &interval_s))
        ecfg.reconcile_s = (long)interval_s;
    struct engine *engine = NULL;
    admin_api_set_secretbox(have_key ? &box : NULL);
    if (engine_start(&cli->dir, have_key ? &box : NULL, &ecfg, &engine, &err) != OK)
        log_error("fan-out engine: %s", err.detail);
    else
        http_server_set_metrics(server, engine_render_metrics, engine);
    serve_events_deliver(cli, have_key ? &box : NULL, &events);
    log_started(cli, &cfg);
    struct directory_purger *purger = NULL;
    int64_t purge_after_s;
    const char *purge_after = config_get(&cli->config, "purge-after");
    if (purge_after && *purge_after && clock_duration_parse(purge_after, &purge_after_s) &&
        directory_purger_start(&cli->dir, purge_after_s, SERVE_PURGE_EVERY_S, &purger) != OK)
        log_error("purge-after: cannot start the purge thread");
    struct directory_rederiver *rederiver = NULL; /* mirroring changes re-derive users */
    if (directory_rederiver_start(&cli->dir, (size_t)config_number(&cli->config, "rederive-batch"),
                                  (unsigned)config_number(&cli->config, "rederive-pause-ms"),
                                  &rederiver) != OK)
        log_error("rederive: cannot start the re-derive thread");
    int sig = 0;
    while (sigwait(&signals, &sig) == 0 && sig == SIGHUP)
        serve_reload(server, &cfg, event_log);
    log_info("stopping on signal %d", sig);
    atomic_store(&cli->dir.stopping, true); /* a running Bulk stops between operations */
    event_log_stop(event_log);
    directory_purger_stop(purger);
    directory_rederiver_stop(rederiver);
    http_server_set_metrics(server, NULL, NULL);
    engine_stop(engine);
    delivery_stop(events.delivery);
    http_server_stop(server);
    admin_api_set_secretbox(NULL);
    serve_events_stop(&events);
    if (have_key)
        secretbox_release(&box);
    return CLI_EXIT_OK;
}
