/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cidr.h - IPv4 and IPv6 CIDR blocks: parsing, canonical text, and whether
 * an address lies in a block or in a comma-separated list of them.
 *
 * Pure functions on caller-owned structs: no allocation, no I/O.  An
 * IPv4-mapped IPv6 address (::ffff:10.1.2.3, what a dual-stack socket
 * reports) matches the IPv4 blocks.  A bare address is a /32 or /128
 * block; a block with host bits set (10.0.0.1/8) is refused, as it is
 * almost always a typo.  Thread-safe.
 */
#ifndef SCIMD_CORE_CIDR_H
#define SCIMD_CORE_CIDR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"

#define CIDR_TEXT_MAX      52   /* "ffff:...:ffff/128" + NUL, with room */
#define CIDR_LIST_MAX      32   /* blocks in one list */
#define CIDR_LIST_TEXT_MAX 1024 /* canonical list text, commas and NUL included */

struct cidr {
    bool v4;
    unsigned char addr[16]; /* network address; IPv4 uses the first 4 bytes */
    unsigned prefix;        /* 0..32 or 0..128 */
};

/* Parse one block ("10.0.0.0/8", "2001:db8::/32", "192.0.2.7") of len bytes. */
enum status cidr_parse(const char *text, size_t len, struct cidr *out, struct scim_error *err);
/* Same block? */
bool cidr_equal(const struct cidr *a, const struct cidr *b);
/* Canonical text ("10.0.0.0/8", "2001:db8::/32"). */
void cidr_format(const struct cidr *c, char out[CIDR_TEXT_MAX]);
/* Does address (text, as a socket reports it) lie in c?  False when it does not parse. */
bool cidr_contains(const struct cidr *c, const char *address);

/*
 * Parse a comma-separated list (spaces around items allowed, at least one
 * item, at most CIDR_LIST_MAX) into its canonical text: blocks in the
 * order given, duplicates dropped, joined by ",".
 */
enum status cidr_list_canonical(const char *text, char out[CIDR_LIST_TEXT_MAX],
                                struct scim_error *err);
/* Does address lie in any block of list (canonical or not)?  An empty or
 * NULL list allows every address; a list that does not parse allows none. */
bool cidr_list_allows(const char *list, const char *address);

#endif
