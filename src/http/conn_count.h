/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conn_count.h - open connections per client address, for the
 * --max-conns-per-ip cap when --trusted-proxy is set: libmicrohttpd's own cap
 * cannot spare the proxies (every client behind one shares its address), so
 * the server counts here instead and skips the trusted addresses.
 *
 * Addresses are the text a socket reports (the whole address, as
 * libmicrohttpd's cap keys them).  Entries exist only while an address has
 * a connection open.  Thread-safe (one mutex; taken once per connection
 * opened or closed, never per request).
 */
#ifndef SCIMD_HTTP_CONN_COUNT_H
#define SCIMD_HTTP_CONN_COUNT_H

#include <stdbool.h>

#include "core/status.h"

struct http_conn_count;

/* per_ip_max 0: count, never refuse. */
enum status http_conn_count_new(unsigned per_ip_max, struct http_conn_count **out);
void http_conn_count_free(struct http_conn_count *c);
/* A connection from address opened: false when it puts the address over
 * the cap (the caller closes it, and still calls _leave when it is gone). */
bool http_conn_count_enter(struct http_conn_count *c, const char *address);
/* A connection from address closed. */
void http_conn_count_leave(struct http_conn_count *c, const char *address);

#endif
