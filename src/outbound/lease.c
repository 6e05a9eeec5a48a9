/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lease.c - this file contains the fan-out engine's app leases: the node id,
 * taking and renewing a lease in one store statement, and giving leases back.
 * See lease.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/str.h"
#include "outbound/lease.h"

enum status lease_node_init(struct lease_node *n, unsigned ttl_s, const char *id)
{
    memset(n, 0, sizeof(*n));
    n->ttl_s = ttl_s ? ttl_s : LEASE_TTL_S_DEFAULT;
    if (id != NULL && id[0] != '\0') {
        str_copy(n->id, sizeof(n->id), id);
        return OK;
    }
    uint8_t r[8];
    enum status rc = crypto_random_bytes(r, sizeof(r));
    if (rc != OK)
        return rc;
    char host[64];
    if (gethostname(host, sizeof(host)) != 0)
        snprintf(host, sizeof(host), "node");
    host[sizeof(host) - 1] = '\0';
    for (char *p = host; *p; p++) { /* keep the id one readable token */
        if (*p == ' ' || *p == ':' || (unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            *p = '-';
    }
    snprintf(n->id, sizeof(n->id), "%s:%ld:%02x%02x%02x%02x%02x%02x%02x%02x", host, (long)getpid(),
             r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
    return OK;
}

enum status lease_hold(const struct lease_node *n, struct store *s, const char *tenant_id,
                       const char *app_id, bool *held, int64_t *until_ms)
{
    *held = false;
    *until_ms = 0;
    int64_t now = clock_now_ms();
    int64_t until = now + (int64_t)n->ttl_s * 1000;
    char now_iso[STORE_TIME_LEN], until_iso[STORE_TIME_LEN];
    clock_iso_from_ms(now, now_iso);
    clock_iso_from_ms(until, until_iso);
    struct store_tx *tx = NULL;
    enum status rc = store_begin(s, true, &tx);
    if (rc != OK)
        return rc;
    rc = store_app_lease_take(tx, tenant_id, app_id, n->id, now_iso, until_iso);
    if (rc == ERR_CONFLICT) {
        store_rollback(tx);
        return OK; /* another node works it */
    }
    if (rc != OK) {
        store_rollback(tx);
        return rc;
    }
    rc = store_commit(tx);
    if (rc == OK) {
        *held = true;
        *until_ms = until;
    }
    return rc;
}

bool lease_renewal_due(const struct lease_node *n, int64_t until_ms, int64_t now_ms)
{
    return until_ms - now_ms < (int64_t)n->ttl_s * 1000 * 2 / 3;
}

void lease_release_all(const struct lease_node *n, struct store *s)
{
    struct store_tx *tx = NULL;
    enum status rc = store_begin(s, true, &tx);
    if (rc == OK)
        rc = store_app_lease_release(tx, n->id, NULL, NULL);
    rc = rc == OK ? store_commit(tx) : (store_rollback(tx), rc);
    if (rc != OK)
        log_warn("fan-out: could not give back this node's app leases: %s", status_name(rc));
}
