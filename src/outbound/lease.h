/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lease.h - one node works a downstream app at a time: the leases of the
 * fan-out engine, for several nodes on one (PostgreSQL) database.
 *
 * Does: name the node (serve gives its host and listen address, so a node
 * restarted after a crash takes its own leases back at once; else host, pid
 * and 64 random bits);
 * take an app's lease for LEASE ttl seconds or renew it (one statement, so two
 * nodes racing for an expired lease cannot both win); say when a held lease is
 * due for renewal (a third of its time gone); give leases back on a clean
 * stop, so another node takes over at once.  A node killed without stopping
 * keeps its leases until they expire; then the next node to ask takes them.
 * Does not: stop work in flight when a renewal fails (the engine checks);
 * cope with clocks further apart than the ttl (expiry is the holder's clock).
 *
 * Ownership: struct lease_node is a plain value.  Thread safety: the calls
 * open their own transactions; any thread.
 */
#ifndef SCIMD_OUTBOUND_LEASE_H
#define SCIMD_OUTBOUND_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "store/store.h"

#define LEASE_TTL_S_DEFAULT 20 /* a dead node's apps wait at most this long */

struct lease_node {
    char id[STORE_NODE_MAX];
    unsigned ttl_s;
};

/* Node id (NULL: a fresh random one); ttl_s 0 means LEASE_TTL_S_DEFAULT. */
enum status lease_node_init(struct lease_node *n, unsigned ttl_s, const char *id);
/* Take or renew the lease of the app: *held says whether this node now works
 * it, *until_ms (wall clock) until when.  A store failure is returned (and
 * nothing is held). */
enum status lease_hold(const struct lease_node *n, struct store *s, const char *tenant_id,
                       const char *app_id, bool *held, int64_t *until_ms);
/* Is a lease held until until_ms due for renewal at now_ms? */
bool lease_renewal_due(const struct lease_node *n, int64_t until_ms, int64_t now_ms);
/* Give back every lease of this node. */
void lease_release_all(const struct lease_node *n, struct store *s);

#endif
