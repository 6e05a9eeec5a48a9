/* SPDX-License-Identifier: Apache-2.0 */
/*
 * health.c - this file contains the quarantine rule of the fan-out engine: a
 * ring of an app's last calls, the share of them that failed, and the growing
 * wait between probes.  See health.h.
 */
#include <string.h>

#include "outbound/health.h"

void health_reset(struct health *h)
{
    memset(h, 0, sizeof(*h));
}

void health_record(struct health *h, bool failed)
{
    if (h->n == HEALTH_WINDOW && h->failed[h->next])
        h->failures--; /* the oldest call leaves the window */
    h->failed[h->next] = failed;
    h->next = (h->next + 1) % HEALTH_WINDOW;
    if (h->n < HEALTH_WINDOW)
        h->n++;
    if (failed)
        h->failures++;
}

bool health_failing(const struct health *h)
{
    return h->n == HEALTH_WINDOW &&
           h->failures * 100 >= (size_t)HEALTH_WINDOW * HEALTH_FAILED_PERCENT;
}

int64_t health_probe_delay_ms(int64_t probes)
{
    int64_t ms = HEALTH_PROBE_FIRST_MS;
    for (int64_t i = 1; i < probes && ms < HEALTH_PROBE_MAX_MS; i++)
        ms *= 2;
    return ms > HEALTH_PROBE_MAX_MS ? HEALTH_PROBE_MAX_MS : ms;
}
