/* SPDX-License-Identifier: Apache-2.0 */
/*
 * state_metrics.h - the metrics /metrics reads from the store when it is
 * scraped, beside the request counters of metrics.h: the store's commit
 * latency, group-commit batch sizes and pool waits (its own counters), each
 * app's fan-out queue, and tokens about to expire (one read transaction).
 *
 * Costs a scrape one read transaction and nothing to requests.  Label
 * values from the database (app names) are escaped as the text format
 * asks.  Thread-safe.
 */
#ifndef SCIMD_HTTP_STATE_METRICS_H
#define SCIMD_HTTP_STATE_METRICS_H

#include "core/str.h"
#include "store/store.h"

/* Append the exposition text to out; a database that does not answer shows
 * as scimd_store_up 0 and leaves the queue and token families out. */
void http_state_metrics_render(struct store *store, struct buf *out);

#endif
