/*
 * settings.c - the table of scimd's settings: serve's flags, the SCIMD_*
 * environment variables and the keys of /etc/scimd/scimd.conf are its rows.
 *
 * Adding a setting is one row here (and reading it with config_get /
 * config_number / config_bool where it is used); `scimd help serve`, the
 * man page, --print-config and the validation at start follow from the row.
 */
#include <limits.h>

#include "cli/cli.h"
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
      "http:// and the listen address.", .secret = false },
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
    { "demo", CONFIG_BOOL, "false", NULL,
      "Create a demo tenant and IdP connection on first start and print a fresh token.", .secret = false },
};
/* clang-format on */
const size_t cli_n_settings = sizeof(cli_settings) / sizeof(cli_settings[0]);
