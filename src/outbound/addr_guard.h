/* SPDX-License-Identifier: Apache-2.0 */
/*
 * addr_guard.h - may scimd's outbound requests contact this address? (SSRF guard)
 *
 * An app's SCIM URL is typed by a tenant admin, so without this guard it could
 * point scimd at its own loopback services, the private network it runs in or a
 * cloud metadata endpoint.  This module classifies socket addresses (IPv4, IPv6
 * and the IPv6 forms that embed an IPv4 address: mapped, compatible, NAT64
 * 64:ff9b::/96, 6to4) and decides; the SCIM client applies it to the address of
 * every socket it is about to connect (so DNS rebinding cannot slip past a check
 * made earlier), and addr_guard_check_url gives early feedback when an app is
 * configured.
 *
 * Policy: public addresses are allowed.  Loopback, private (RFC 1918, CGNAT
 * 100.64/10, fc00::/7, fec0::/10) and link-local (169.254/16, fe80::/10) are
 * refused unless allow_private is on (`scimd serve --outbound-allow-private`, and
 * the tests).  Cloud metadata endpoints, unspecified, multicast, broadcast and
 * reserved/documentation ranges are refused always.
 *
 * Does not: resolve names at connect time (libcurl does), follow redirects, or
 * know about proxies.  No allocation is kept; thread-safe.
 */
#ifndef SCIMD_OUTBOUND_ADDR_GUARD_H
#define SCIMD_OUTBOUND_ADDR_GUARD_H

#include <stdbool.h>
#include <sys/socket.h>

#include "core/status.h"

enum addr_class {
    ADDR_PUBLIC = 0,
    ADDR_LOOPBACK,    /* 127/8, ::1 */
    ADDR_PRIVATE,     /* 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7, fec0::/10 */
    ADDR_LINK_LOCAL,  /* 169.254/16, fe80::/10 */
    ADDR_METADATA,    /* cloud instance metadata: 169.254.169.254, fd00:ec2::254, 100.100.100.200 */
    ADDR_UNSPECIFIED, /* 0/8, :: */
    ADDR_MULTICAST,   /* 224/4, ff00::/8 */
    ADDR_BROADCAST,   /* 255.255.255.255 */
    ADDR_RESERVED,    /* 240/4, documentation, benchmarking, 192.0.0/24, 100::/64, 2001:db8::/32 */
    ADDR_UNKNOWN,     /* not AF_INET / AF_INET6, or too short */
};

/* The class of a socket address. */
enum addr_class addr_guard_classify(const struct sockaddr *sa, socklen_t len);
/* Short lowercase name of a class, e.g. "link-local". */
const char *addr_guard_class_name(enum addr_class cls);
/* May an address of this class be contacted? */
bool addr_guard_class_allowed(enum addr_class cls, bool allow_private);
/* addr_guard_class_allowed(addr_guard_classify(sa, len), allow_private). */
bool addr_guard_allowed(const struct sockaddr *sa, socklen_t len, bool allow_private);

/*
 * Resolve the host of an http(s) URL and check every address it resolves to.
 * OK when all are allowed; ERR_FORBIDDEN naming the first refused class;
 * ERR_INVALID_VALUE for a URL that is not http(s)://host...; ERR_UNAVAILABLE
 * when the name does not resolve.  The detail names the host, never a
 * credential in the URL.
 */
enum status addr_guard_check_url(const char *url, bool allow_private, struct scim_error *err);

#endif
