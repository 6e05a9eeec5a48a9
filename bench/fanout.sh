#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# fanout.sh - the fan-out part of scimd's benchmark (`make bench`): an upstream
# scimd whose tenant has downstream apps, each app being a second scimd's own
# inbound SCIM endpoint (another process, its own database, one fresh tenant
# and IdP connection per app), all on 127.0.0.1.  bench/fanout.mjs measures
#   (a) the latency from an inbound PATCH's 2xx upstream to the downstream
#       scimd committing the change (its scim_user_updated event time),
#   (b) the time for a group grant of N users to converge (every user linked
#       and no job pending),
# and this script (c) inbound POST /Users throughput with wrk with no app, and
# with 2 apps granted a group.  Prints a markdown table, also appended to
# bench/results.md.
#
#   BENCH_FANOUT_SIZES    group sizes granted ("10000"; e.g. "10000 100000")
#   BENCH_FANOUT_CHANGES  PATCHes of the latency run (1000)
#   BENCH_FANOUT_CONCURRENCY  requests in flight per app, app 1 first ("4 16": the default, then 16)
#   BENCH_SECONDS / BENCH_WARMUP / BENCH_CONNS  as in run.sh (POST runs: first count of CONNS)
# Needs wrk, node, curl, sqlite3.
set -euo pipefail
cd "$(dirname "$0")/.."

SCIMD=${SCIMD_BIN:-build/release/scimd}
LOAD=${LOAD_BIN:-build/bench/load}
RUN_S=${BENCH_SECONDS:-10}
WARM_S=${BENCH_WARMUP:-2}
CONNS=${BENCH_CONNS:-"16 64"}
CONN=${CONNS%% *}
SIZES=${BENCH_FANOUT_SIZES:-10000}
CHANGES=${BENCH_FANOUT_CHANGES:-1000}
WRK_THREADS=$(nproc)
PUBLIC=http://127.0.0.1:18080
export BENCH_LUA_DIR=$PWD/bench

for t in wrk node curl sqlite3 "$SCIMD" "$LOAD"; do
    command -v "$t" >/dev/null || { echo "fanout.sh: $t not found" >&2; exit 1; }
done
source bench/lib.sh

max=$CHANGES
for s in $SIZES; do [ "$s" -gt "$max" ] && max=$s; done

# the downstream scimd: apps are given tenants and connections of it by fanout.mjs
DOWN_DB=$WORK/down.db
"$SCIMD" tenant list --db "$DOWN_DB" >/dev/null
start_scimd "$DOWN_DB" --reconcile-interval 0
DOWN_URL=$SCIMD_URL

# the upstream scimd: one IdP connection with max users, loaded through the store
UP_DB=$WORK/up.db
new_connection "$UP_DB" Source
load_users "$UP_DB" 0 "$max"
sqlite3 "$UP_DB" "select user_id from idp_users where idp_id = '$IDP' and deleted = 0 order by user_id" \
    >"$WORK/ids.txt"
KEY=$WORK/up.key
start_scimd "$UP_DB" --outbound-allow-private --key-file "$KEY" --reconcile-interval 0
UP_URL=$SCIMD_URL
UP_PID=$scimd_pid

post_run() { # -> "rps p50 p99 errors"
    wrk_run "$UP_URL" post.lua "$CONN" BENCH_TOKEN="$TOKEN" BENCH_BASE_PATH="/scim/v2/inbound/$IDP/"
}

say "POST /Users, no app"
read -r -a p0 <<<"$(post_run)"

say "grants and latency (fanout.mjs)"
node bench/fanout.mjs "$UP_URL/scim/v2/inbound/$IDP/" "$TOKEN" "$WORK/ids.txt" \
    "$SCIMD" "$UP_DB" "$KEY" "$TENANT" "$DOWN_DB" "$DOWN_URL" "$WORK/rows.md"

say "POST /Users, 2 apps granted"
read -r -a p2 <<<"$(post_run)"
rss=$(tool rss "$UP_PID")

ratio=$(awk -v a="${p2[0]}" -v b="${p0[0]}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
{
    echo "| POST /Users, no app | ${p0[0]} req/s (p50 ${p0[1]} ms, p99 ${p0[2]} ms, errors ${p0[3]}) | wrk, $CONN connections, ${RUN_S} s after ${WARM_S} s warm-up |"
    echo "| POST /Users, 2 apps granted | ${p2[0]} req/s (p50 ${p2[1]} ms, p99 ${p2[2]} ms, errors ${p2[3]}) | ${ratio}x of no app; the new users are in no granted group: each app's dispatcher reads every scim_user_created, finds no access and queues nothing; RSS after: $rss MiB |"
} >>"$WORK/rows.md"

{
    echo
    echo "## Fan-out to downstream apps (bench/fanout.sh)"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), nproc $(nproc), SQLite; upstream and downstream are two scimd processes on this machine"
    echo "(each app: the downstream scimd's own inbound SCIM endpoint, a fresh tenant and connection); each app has up to its concurrency requests in flight."
    echo
    echo "| measurement | result | how |"
    echo "|---|---|---|"
    cat "$WORK/rows.md"
} | tee -a bench/results.md
