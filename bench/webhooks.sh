#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# webhooks.sh - the webhook part of scimd's benchmark (run by `make bench`):
# starts scimd on a free 127.0.0.1 port with a temporary SQLite database and
# runs bench/webhooks.mjs, which subscribes a receiver of its own (json, then
# set), pushes users over SCIM and prints events delivered per second and
# the p50/p99 from an event's commit to its receipt, appended to
# bench/results.md.
#   SCIMD_BIN     the binary to measure (build/release/scimd)
#   BENCH_EVENTS  users pushed per run (default 2000)
# All traffic stays on 127.0.0.1.  Needs node and curl.
set -euo pipefail
cd "$(dirname "$0")/.."

SCIMD=${SCIMD_BIN:-build/release/scimd}
PUBLIC=http://127.0.0.1:18080
for t in node curl "$SCIMD"; do
    command -v "$t" >/dev/null || { echo "webhooks.sh: $t not found" >&2; exit 1; }
done
. bench/lib.sh

DB=$WORK/webhooks.db
KEY=$WORK/scimd.key
new_connection "$DB" Hooks
start_scimd "$DB" --key-file "$KEY" --outbound-allow-private
node bench/webhooks.mjs "$SCIMD" "$DB" "$KEY" "$TENANT" "$SCIMD_URL/scim/v2/inbound/$IDP/" "$TOKEN" \
    "${BENCH_EVENTS:-2000}"
