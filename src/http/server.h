/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server.h - the HTTP front door: libmicrohttpd glue, connection limits,
 * slow-client deadlines, head and body limits, /healthz and /readyz, and
 * routing of /scim/v2/inbound/<idp-id>/... to the SCIM handlers.
 *
 * The server owns its libmicrohttpd daemon, a thread pool, a watchdog
 * thread (deadline.h) and a housekeeping thread that writes the summary
 * audit events of failed-authentication windows (ratelimit.h); handlers run on the pool's threads
 * and call into the directory, which is thread-safe.  The server knows routes and status codes, not
 * lifecycle rules.
 */
#ifndef SCIMD_HTTP_SERVER_H
#define SCIMD_HTTP_SERVER_H

#include <stdint.h>

#include "core/status.h"
#include "directory/directory.h"
#include "http/ratelimit.h"

struct signing_key;

struct http_server;

/* Defaults of `scimd serve` (flags --max-conns-per-ip, --header-timeout, --body-timeout). */
#define HTTP_DEFAULT_CONNS_PER_IP     256
#define HTTP_DEFAULT_HEADER_TIMEOUT_S 30 /* to send a request's head */
#define HTTP_DEFAULT_BODY_TIMEOUT_S   60 /* to send its body, once the head is in */
/* A connection that sends nothing for this long (or does not read the
 * response) is closed; trickling bytes resets it, the deadlines above do not. */
#define HTTP_IDLE_TIMEOUT_S 60
/* Request target (path and query, as sent) and whole head: larger ones get a
 * SCIM 414 / 431.  libmicrohttpd reads a head up to about its connection
 * memory, so heads up to there get a SCIM error body; only larger ones get
 * its own HTML answer.  That memory is touched whole by every keep-alive
 * connection (it zeroes it between requests): it sets what a connection costs. */
#define HTTP_MAX_TARGET_BYTES        (16u << 10)
#define HTTP_MAX_HEAD_BYTES          (32u << 10)
#define HTTP_CONNECTION_MEMORY_BYTES (64u << 10)
/* Open connections at most unless --max-conns says otherwise (and the
 * open-file limit allows): bounds connection memory near 640 MiB. */
#define HTTP_DEFAULT_MAX_CONNECTIONS 10000
/* Descriptors the daemon holds per worker thread besides its connections
 * (an epoll set and a wake-up channel), for sizing the connection limit. */
#define HTTP_FDS_PER_THREAD 2

struct http_config {
    const char *listen_addr; /* IPv4 or IPv6 literal */
    uint16_t port;
    unsigned threads;
    unsigned max_connections;  /* open connections at once, all clients */
    unsigned max_conns_per_ip; /* per source address; 0: no cap */
    unsigned header_timeout_s; /* from connect or the previous response to a complete head */
    unsigned body_timeout_s;   /* from the head to the complete body */
    struct http_ratelimit_config limits; /* http_ratelimit_defaults, or --token-rate etc. */
    char metrics_addr[64];               /* --metrics-listen address, or "": /metrics on loopback */
    uint16_t metrics_port;
    const char *tls_cert_file; /* --tls-cert / --tls-key: HTTPS; NULL: plain HTTP */
    const char *tls_key_file;
    const char *trusted_proxies; /* --trusted-proxy CIDR list: their X-Forwarded-For names the
                                  * client (forwarded.h); NULL: no proxy is trusted */
    unsigned max_event_streams;  /* admin API event streams at once; 0: HTTP_SSE_DEFAULT_STREAMS */
    const char *jwks_json;       /* GET /.well-known/jwks.json; NULL: no keys */
    const struct signing_key *set_key; /* signs polled SETs; NULL: none (borrowed) */
};

enum status http_server_start(const struct http_config *cfg, struct directory *dir,
                              struct http_server **out, struct scim_error *err);
void http_server_stop(struct http_server *server);
/* More metrics for /metrics from another part of the daemon (the fan-out
 * engine): fn(ctx, out) appends text-format families.  NULL fn removes it;
 * set and clear it while the server runs, before the provider goes away. */
typedef void (*http_metrics_fn)(void *ctx, struct buf *out);
void http_server_set_metrics(struct http_server *server, http_metrics_fn fn, void *ctx);
/* SIGHUP: load the TLS certificate and key files again; new connections get
 * the new pair, open ones finish on the old.  From one thread at a time. */
enum status http_server_reload(struct http_server *server, struct scim_error *err);

#endif
