/* SPDX-License-Identifier: Apache-2.0 */
/*
 * settings.c - the table of scimd's settings: serve's flags, the SCIMD_*
 * environment variables and the keys of /etc/scimd/scimd.conf are its rows.
 *
 * Adding a setting is one row here (and reading it with config_get /
 * config_number / config_bool where it is used); `scimd help serve`, the
 * man page, --print-config and the validation at start follow from the row.
 */
#include <limits.h>
#include <string.h>

#include "cli/cli.h"
#include "core/cidr.h"
#include "core/clock.h"
#include "http/ratelimit.h"
#include "http/server.h"

#define STRINGIFY_(x) #x
#define STRINGIFY(x)  STRINGIFY_(x)

#define CLI_DEFAULT_THREADS 32 /* HTTP worker threads of serve */
#define CLI_MAX_THREADS     256
#define CLI_DEFAULT_DB_POOL 16 /* database connections (transactions at once) per process */
#define CLI_MAX_DB_POOL     1024
#define CLI_MAX_TIMEOUT_S   3600

static enum status check_listen(const char *value, struct scim_error *err)
{
    char addr[64];
    uint16_t port;
    if (cli_listen_parse(value, addr, sizeof(addr), &port))
        return OK;
    return scim_error_set(err, ERR_USAGE, "wants ADDR:PORT, e.g. 127.0.0.1:8080");
}

/* --token-rate, --conn-rate: "PER_S" or "PER_S/BURST". */
static enum status check_rate(const char *value, struct scim_error *err)
{
    unsigned per_s, burst;
    if (http_rate_parse(value, &per_s, &burst))
        return OK;
    return scim_error_set(err, ERR_USAGE, "wants N or N/M (e.g. 100/1000)");
}

/* --auth-fail-limit: "MAX" or "MAX/WINDOW_S", a window of at least 1 s unless MAX is 0. */
static enum status check_auth_fail_limit(const char *value, struct scim_error *err)
{
    unsigned max, window_s;
    if (!http_rate_parse(value, &max, &window_s))
        return scim_error_set(err, ERR_USAGE, "wants N or N/M (e.g. 20/60)");
    if (max > 0 && window_s == 0)
        return scim_error_set(err, ERR_USAGE, "wants a window of at least 1 s");
    return OK;
}

/* --trusted-proxy: a CIDR list (at most CIDR_LIST_MAX blocks). */
static enum status check_cidr_list(const char *value, struct scim_error *err)
{
    char canonical[CIDR_LIST_TEXT_MAX];
    if (value == NULL || *value == '\0')
        return OK;
    return cidr_list_canonical(value, canonical, err);
}

/* --purge-after: empty (never) or a duration such as 90d. */
static enum status check_duration(const char *value, struct scim_error *err)
{
    int64_t s;
    if (value == NULL || *value == '\0' || clock_duration_parse(value, &s))
        return OK;
    return scim_error_set(err, ERR_USAGE, "wants a duration such as 90d, 24h or 30m");
}

/* --reconcile-interval: 0 (off) or a duration such as 1h. */
static enum status check_interval(const char *value, struct scim_error *err)
{
    int64_t s;
    if (value && (strcmp(value, "0") == 0 || clock_duration_parse(value, &s)))
        return OK;
    return scim_error_set(err, ERR_USAGE, "wants 0 (off) or a duration such as 1h or 30m");
}

/* clang-format off */
const struct config_option cli_settings[] = {
    { "db", CONFIG_STRING, CLI_DEFAULT_DB, "PATH|URL",
      "The database: a SQLite file (created if missing) or a postgres://user:password@host/name "
      "URL.  A password in it is never printed.", .secret = false },
    { "db-pool", CONFIG_NUMBER, STRINGIFY(CLI_DEFAULT_DB_POOL), "N",
      "Database connections per process (transactions at once).", .min = 1,
      .max = CLI_MAX_DB_POOL },
    { "listen", CONFIG_STRING, CLI_DEFAULT_LISTEN, "ADDR:PORT",
      "Address and port to listen on ([::1]:8080 for IPv6).", .check = check_listen },
    { "public-url", CONFIG_STRING, NULL, "URL",
      "The URL clients reach scimd at, for SCIM base URLs and meta.location; unset, "
      "http:// (https:// with --tls-cert) and the listen address.", .secret = false },
    { "threads", CONFIG_NUMBER, STRINGIFY(CLI_DEFAULT_THREADS), "N",
      "HTTP worker threads.", .min = 1, .max = CLI_MAX_THREADS },
    { "max-conns", CONFIG_NUMBER, NULL, "N",
      "Connections held at once (default: what the open-file limit allows, at most "
      STRINGIFY(HTTP_DEFAULT_MAX_CONNECTIONS) ").", .min = 1, .max = INT_MAX },
    { "max-conns-per-ip", CONFIG_NUMBER, STRINGIFY(HTTP_DEFAULT_CONNS_PER_IP), "N",
      "Connections held at once from one client address (0: no limit).", .min = 0,
      .max = INT_MAX },
    { "header-timeout", CONFIG_NUMBER, STRINGIFY(HTTP_DEFAULT_HEADER_TIMEOUT_S), "S",
      "Seconds a client has to send a request's head.", .min = 1, .max = CLI_MAX_TIMEOUT_S },
    { "body-timeout", CONFIG_NUMBER, STRINGIFY(HTTP_DEFAULT_BODY_TIMEOUT_S), "S",
      "Seconds a client has to send a request's body once the head is in.", .min = 1,
      .max = CLI_MAX_TIMEOUT_S },
    { "token-rate", CONFIG_STRING,
      STRINGIFY(HTTP_RATE_TOKEN_PER_S) "/" STRINGIFY(HTTP_RATE_TOKEN_BURST), "PER_S[/BURST]",
      "Requests per second one token may make, and its burst; over it, 429 with Retry-After "
      "(0: no limit).", .check = check_rate },
    { "conn-rate", CONFIG_STRING,
      STRINGIFY(HTTP_RATE_CONN_PER_S) "/" STRINGIFY(HTTP_RATE_CONN_BURST), "PER_S[/BURST]",
      "Requests per second one IdP connection (all its tokens) may make, and its burst "
      "(0: no limit).", .check = check_rate },
    { "auth-fail-limit", CONFIG_STRING,
      STRINGIFY(HTTP_AUTH_FAIL_MAX) "/" STRINGIFY(HTTP_AUTH_FAIL_WINDOW_S), "MAX[/WINDOW_S]",
      "Failed authentications from one client address (IPv6: its /64) in a window of WINDOW_S "
      "seconds before it gets 429 until the window ends (0: no throttling).",
      .check = check_auth_fail_limit },
    { "metrics-listen", CONFIG_STRING, NULL, "ADDR:PORT",
      "A plain-HTTP listener of its own for GET /metrics; unset, /metrics is served on the main "
      "listener to loopback clients only.", .check = check_listen },
    { "trusted-proxy", CONFIG_STRING, NULL, "CIDR[,CIDR]",
      "Reverse proxies whose X-Forwarded-For is believed: from them the client is the "
      "rightmost address not in this list, for failed-authentication throttling, IP "
      "allowlists, audit events and the loopback check of /metrics; from anyone else the "
      "header is ignored.  Their connections are spared --max-conns-per-ip.",
      .check = check_cidr_list },
    { "tls-cert", CONFIG_STRING, NULL, "PEM",
      "Serve HTTPS with this certificate file (chain included); needs --tls-key.  SIGHUP reads "
      "the pair again.", .secret = false },
    { "tls-key", CONFIG_STRING, NULL, "PEM",
      "The unencrypted PEM private key of --tls-cert (the file name; the key is never logged).",
      .secret = false },
    { "purge-after", CONFIG_STRING, NULL, "AGE",
      "Erase the personal data of users deleted longer ago than AGE (e.g. 90d), at start and "
      "then daily, as scimd purge --deleted-before AGE does; unset, never.",
      .check = check_duration },
    { "event-log", CONFIG_STRING, NULL, "FILE",
      "Append every committed event to FILE as one JSON line, in commit order, for log "
      "shippers ('-': standard output); resumes after the file's last line; SIGHUP reopens it "
      "(rotation).", .secret = false },
    { "log-level", CONFIG_CHOICE, "info", "LEVEL",
      "Least important entries logged: error, warn, info or debug.",
      .choices = "error|warn|info|debug" },
    { "log-format", CONFIG_CHOICE, "text", "FORMAT",
      "text: one 'TIME LEVEL message key=value' line per entry; json: one JSON object per "
      "line with time, level, msg and the fields.", .choices = "text|json" },
    { "key-file", CONFIG_STRING, NULL, "PATH",
      "The key that seals app credentials (created with mode 0600 on first use); unset, "
      "scimd.key next to a SQLite database, or in $STATE_DIRECTORY.  Every node of a "
      "PostgreSQL deployment needs the same key.", .secret = false },
    { "outbound-allow-private", CONFIG_BOOL, "false", NULL,
      "Let downstream apps live on loopback, private and link-local addresses (cloud "
      "metadata addresses stay refused).", .secret = false },
    { "outbound-retry-ms", CONFIG_NUMBER, "1000", "MS",
      "Wait before retrying a failed downstream request; each later retry waits twice as "
      "long (with jitter, at most an hour); the 10th failure dead-letters the change.",
      .min = 1, .max = 3600000 },
    { "outbound-lease-s", CONFIG_NUMBER, "20", "SECONDS",
      "How long a node's claim to work a downstream app lasts unrenewed (renewed while it "
      "runs): when a node dies, another one takes its apps over after at most this long.",
      .min = 2, .max = 3600 },
    { "deprovision-limit", CONFIG_NUMBER, "500", "N",
      "When more users than this lose access to a downstream app within an hour (a grant "
      "removed by mistake, an IdP deactivating everyone), the app holds their deprovisioning "
      "until an admin runs scimd app allow-deprovisions; 0 turns the guard off.",
      .min = 0, .max = 100000000 },
    { "reconcile-interval", CONFIG_STRING, "1h", "DURATION",
      "Resync every downstream app this often (as scimd app resync does), so accounts changed "
      "or deleted downstream by hand are put right; 0 turns it off.", .check = check_interval },
    { "rederive-batch", CONFIG_NUMBER, "200", "N",
      "Users re-derived per write transaction after a mirroring change (smaller: shorter "
      "waits for other writers, more transactions).", .min = 1, .max = 10000 },
    { "rederive-pause-ms", CONFIG_NUMBER, "0", "MS",
      "Pause between two batches of a re-derivation, to leave a busy store to SCIM writes.",
      .min = 0, .max = 60000 },
    { "webhook-retry-ms", CONFIG_NUMBER, "5000", "MS",
      "The first retry of a failed webhook delivery; the later ones follow the Svix schedule "
      "scaled to it (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h at the default); the 8th "
      "failure dead-letters the message.", .min = 1, .max = 3600000 },
    { "demo", CONFIG_BOOL, "false", NULL,
      "Create a demo tenant and IdP connection on first start and print a fresh token.", .secret = false },
};
/* clang-format on */
const size_t cli_n_settings = sizeof(cli_settings) / sizeof(cli_settings[0]);
