#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bulk.sh - the Bulk part of scimd's benchmark (run by `make bench`): starts
# scimd on a free 127.0.0.1 port with a temporary database and runs
# bench/bulk.mjs (a 1,000-op bulkId chain, thousands of references, a ~1 MiB
# body), which prints a markdown table and appends it to bench/results.md.
#   SCIMD_BIN  the binary to measure (build/release/scimd); set it to an older
#              build to get the "before" numbers.
# All load goes to 127.0.0.1.  Needs node and curl.
set -euo pipefail
cd "$(dirname "$0")/.."

SCIMD=${SCIMD_BIN:-build/release/scimd}
PUBLIC=http://127.0.0.1:18080
for t in node curl "$SCIMD"; do
    command -v "$t" >/dev/null || { echo "bulk.sh: $t not found" >&2; exit 1; }
done
. bench/lib.sh

DB=$WORK/bulk.db
new_connection "$DB" Bulk
start_scimd "$DB"
node bench/bulk.mjs "$SCIMD_URL/scim/v2/inbound/$IDP/" "$TOKEN"
