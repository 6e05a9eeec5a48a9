/* SPDX-License-Identifier: Apache-2.0 */
/*
 * forwarded.h - who the client is behind trusted reverse proxies: the
 * operator's --trusted-proxy CIDR list, and the client address a request
 * from one of them names in X-Forwarded-For.
 *
 * A peer outside the list is the client, whatever it sends.  From a trusted
 * peer, X-Forwarded-For is read from the right (each proxy appends the
 * address it saw): trusted hops are skipped and the first untrusted one is
 * the client; an entry that is not an IP address ends the walk at the last
 * trusted hop, so nothing a client writes can pass for a proxy's view.
 * Pure functions on caller-owned structs; thread-safe.
 */
#ifndef SCIMD_HTTP_FORWARDED_H
#define SCIMD_HTTP_FORWARDED_H

#include <stdbool.h>
#include <stddef.h>

#include "core/cidr.h"
#include "core/status.h"

/* Address text as inet_ntop writes it, NUL included. */
#define HTTP_ADDRESS_MAX 64

struct http_proxies {
    size_t n; /* 0: no proxy is trusted */
    struct cidr blocks[CIDR_LIST_MAX];
};

/* Parse a comma-separated CIDR list (NULL or "": none). */
enum status http_proxies_parse(const char *list, struct http_proxies *out, struct scim_error *err);
/* Is address (as a socket reports it) a trusted proxy? */
bool http_proxies_trust(const struct http_proxies *p, const char *address);
/*
 * The client address of a request from peer whose X-Forwarded-For headers,
 * joined by commas, are xff (xff_len bytes; NULL: none), written to out in
 * canonical form.  peer itself when it is not trusted or names nobody.
 */
void http_forwarded_client(const struct http_proxies *p, const char *peer, const char *xff,
                           size_t xff_len, char out[HTTP_ADDRESS_MAX]);

#endif
