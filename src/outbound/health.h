/* SPDX-License-Identifier: Apache-2.0 */
/*
 * health.h - when a downstream app is quarantined, and how long its probes
 * wait: the bookkeeping of the fan-out engine's quarantine, kept apart from
 * the engine so the rule reads (and is tested) on its own.
 *
 * Does: remember whether each of an app's last HEALTH_WINDOW calls failed
 * (a 5xx, a timeout or a connection failure; the engine decides what a
 * failure is), say when enough of them failed to quarantine the app, and the
 * wait before the n-th probe of a quarantined app (growing, capped).
 * Does not: touch the store, send requests or keep the quarantine itself
 * (that state is on the app row: store_app.quarantine_probes).
 *
 * Ownership: plain values.  Thread safety: one struct health per app, guarded
 * by its owner.
 */
#ifndef SCIMD_OUTBOUND_HEALTH_H
#define SCIMD_OUTBOUND_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEALTH_WINDOW         20     /* calls looked at */
#define HEALTH_FAILED_PERCENT 90     /* at least this share failed: quarantine */
#define HEALTH_PROBE_FIRST_MS 1000   /* wait before the first probe */
#define HEALTH_PROBE_MAX_MS   300000 /* longest wait between probes */

struct health {
    bool failed[HEALTH_WINDOW]; /* a ring of the last calls */
    size_t n;                   /* calls remembered (up to HEALTH_WINDOW) */
    size_t next;                /* where the next call goes */
    size_t failures;            /* failed calls among them */
};

/* Forget every call (a new start after quarantine, or a new holder). */
void health_reset(struct health *h);
/* Remember one call. */
void health_record(struct health *h, bool failed);
/* A full window of calls, at least HEALTH_FAILED_PERCENT of them failed. */
bool health_failing(const struct health *h);
/* The wait before probe number probes (1 = the first after quarantine):
 * HEALTH_PROBE_FIRST_MS doubling, at most HEALTH_PROBE_MAX_MS. */
int64_t health_probe_delay_ms(int64_t probes);

#endif
