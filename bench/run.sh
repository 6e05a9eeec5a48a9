#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run.sh - scimd's benchmark (`make bench`): loads data sets with bench/load,
# drives scimd with wrk (bench/*.lua) and node (bench/sync.mjs), measures the
# same response bodies served by nginx from memory in the same run (each
# nginx run right before the scimd run it is compared with), and prints one
# markdown table, also written to bench/results.md.
#
#   BENCH_SECONDS  measured seconds per run (10), after BENCH_WARMUP (2)
#   BENCH_SMALL    users of the small directory (10000)
#   BENCH_BIG      users of the big directory (1000000; 100000 for quick runs)
#   BENCH_SYNC     users of the initial-sync run (100000)
#   BENCH_CONNS    connection counts ("16 64")
# All load goes to 127.0.0.1.  Needs wrk, nginx, node, curl.
set -euo pipefail
cd "$(dirname "$0")/.."

SCIMD=${SCIMD_BIN:-build/release/scimd}
LOAD=${LOAD_BIN:-build/bench/load}
RUN_S=${BENCH_SECONDS:-10}
WARM_S=${BENCH_WARMUP:-2}
SMALL=${BENCH_SMALL:-10000}
BIG=${BENCH_BIG:-1000000}
SYNC=${BENCH_SYNC:-100000}
CONNS=${BENCH_CONNS:-"16 64"}
MID=100000 # the "after 100k users" memory point
WRK_THREADS=$(nproc)
PUBLIC=http://127.0.0.1:18080 # meta.location prefix, the same for loader and server
export BENCH_LUA_DIR=$PWD/bench

for t in wrk nginx node curl "$SCIMD" "$LOAD"; do
    command -v "$t" >/dev/null || { echo "run.sh: $t not found" >&2; exit 1; }
done
source bench/lib.sh
ROWS=$WORK/rows.md
: >"$ROWS"

row() { echo "| $* |" >>"$ROWS"; }

# scenario NAME USERS SCRIPT NGINX_KEY [ENV=V...]: nginx then scimd, per connection count
scenario() {
    local name=$1 users=$2 script=$3 key=$4 c n s rss ratio
    shift 4
    for c in $CONNS; do
        say "$name, $users users, $c connections"
        read -r -a n <<<"$(wrk_run "$NGINX_URL" "$script" "$c" BENCH_FIXED_PATH="/$key" "$@")"
        read -r -a s <<<"$(wrk_run "$SCIMD_URL" "$script" "$c" \
            BENCH_TOKEN="$TOKEN" BENCH_BASE_PATH="/scim/v2/inbound/$IDP/" "$@")"
        rss=$(tool rss "$scimd_pid")
        ratio=$(awk -v a="${s[0]}" -v b="${n[0]}" 'BEGIN { r = b > 0 ? 100 * a / b : 0; printf "%.1f%%", r }')
        row "$name | $users | $c | ${s[0]} | ${s[1]} | ${s[2]} | ${s[3]} | $rss | ${n[0]} | $ratio"
    done
}

urlenc() { node -e 'console.log(encodeURIComponent(process.argv[1]))' "$1"; }

# read scenarios at a directory size: GET by id, filter by userName / externalId
read_scenarios() {
    local users=$1 i=$(($1 / 2)) id f_un f_ext
    scim GET "Users?$(printf 'filter=%s' "$(urlenc "userName eq \"user$i@bench.test\"")")" >"$WORK/filter_un.json"
    id=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).Resources[0].id)' "$WORK/filter_un.json")
    scim GET "Users/$id" >"$WORK/get_id.json"
    f_un="/scim/v2/inbound/$IDP/Users?filter=$(urlenc "userName eq \"user$i@bench.test\"")"
    f_ext="/scim/v2/inbound/$IDP/Users?filter=$(urlenc "externalId eq \"ext-$i\"")"
    scim GET "Users?filter=$(urlenc "externalId eq \"ext-$i\"")" >"$WORK/filter_ext.json"
    scim GET "Users?count=100" >"$WORK/page.json"
    start_nginx get_id="$WORK/get_id.json" filter_un="$WORK/filter_un.json" \
        filter_ext="$WORK/filter_ext.json" page="$WORK/page.json"
    scenario "GET /Users/{id}" "$users" get.lua get_id BENCH_PATH="/scim/v2/inbound/$IDP/Users/$id"
    scenario "GET filter userName eq" "$users" get.lua filter_un BENCH_PATH="$f_un"
    scenario "GET filter externalId eq" "$users" get.lua filter_ext BENCH_PATH="$f_ext"
    [ "$2" = page ] && scenario "GET /Users?count=100" "$users" get.lua page \
        BENCH_PATH="/scim/v2/inbound/$IDP/Users?count=100"
    stop_nginx
}

write_scenarios() {
    local users=$1 id
    scim GET "Users?count=1000&startIndex=2" >"$WORK/ids.json"
    tool ids "$WORK/ids.json" >"$WORK/ids.txt"
    scim POST Users '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"sample@bench.test","externalId":"sample-1","name":{"givenName":"Post","familyName":"Bench"},"displayName":"Post Bench","emails":[{"value":"sample@bench.test","type":"work","primary":true}],"active":true}' >"$WORK/post.json"
    id=$(head -1 "$WORK/ids.txt" | cut -d' ' -f1)
    scim PATCH "Users/$id" '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}' >"$WORK/patch.json"
    read -r _ un ext < <(head -1 "$WORK/ids.txt")
    scim PUT "Users/$id" "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"$un\",\"externalId\":\"$ext\",\"name\":{\"givenName\":\"Put\",\"familyName\":\"Bench\"},\"displayName\":\"Put sample\",\"emails\":[{\"value\":\"$un\",\"type\":\"work\",\"primary\":true}],\"active\":true}" >"$WORK/put.json"
    start_nginx post="$WORK/post.json" patch="$WORK/patch.json" put="$WORK/put.json"
    scenario "POST /Users (durable)" "$users" post.lua post
    scenario "PATCH active toggle" "$users" patch.lua patch BENCH_IDS="$WORK/ids.txt"
    scenario "PUT full user" "$users" put.lua put BENCH_IDS="$WORK/ids.txt"
    stop_nginx
}

memory_row() { row "memory: $1 | $2 | - | - | - | - | - | $(tool rss "$scimd_pid") | - | -"; }

DB=$WORK/bench.db
new_connection "$DB" "Bench"
start_scimd "$DB"
sleep 1
memory_row "idle" 0
stop_scimd

# ---- small directory: every scenario
load_users "$DB" 1 "$SMALL"
start_scimd "$DB"
read_scenarios "$SMALL" page
write_scenarios "$SMALL"
stop_scimd
loaded=$SMALL

# ---- memory after 100k users (when the big directory is larger)
if [ "$BIG" -gt "$MID" ]; then
    load_users "$DB" $((loaded + 1)) $((MID - loaded))
    loaded=$MID
    start_scimd "$DB"
    wrk_run "$SCIMD_URL" get.lua 16 BENCH_TOKEN="$TOKEN" \
        BENCH_PATH="/scim/v2/inbound/$IDP/Users?filter=$(urlenc 'userName eq "user77@bench.test"')" >/dev/null
    memory_row "after filter load" "$MID"
    stop_scimd
fi

# ---- big directory: the reads again
load_users "$DB" $((loaded + 1)) $((BIG - loaded))
start_scimd "$DB"
read_scenarios "$BIG" nopage
memory_row "after the reads" "$BIG"
stop_scimd

# ---- initial sync into an empty connection of a fresh database
SDB=$WORK/sync.db
new_connection "$SDB" "Sync"
start_scimd "$SDB"
say "initial sync of $SYNC users"
sync_line=$(node bench/sync.mjs "$SCIMD_URL/scim/v2/inbound/$IDP/" "$TOKEN" "$SYNC" 16 | grep '^SYNC_RESULT')
read -r -a sv <<<"$(echo "$sync_line" | awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    print v["seconds"], v["users_per_s"], v["rps"], v["failures"] }')"
row "initial sync: GET+POST+PATCH per user | $SYNC | 16 | ${sv[2]} | - | - | ${sv[3]} | $(tool rss "$scimd_pid") | - | -"
stop_scimd

{
    echo "# scimd benchmark"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), nproc $(nproc), $(uname -sr), ${RUN_S}s per run after ${WARM_S}s warm-up," \
        "wrk -t$WRK_THREADS, scimd $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo
    echo "| scenario | users | conns | req/s | p50 ms | p99 ms | non-2xx | scimd RSS MiB | nginx req/s | vs nginx |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    cat "$ROWS"
    echo
    echo "Initial sync (Entra: lookup by externalId, POST, PATCH; 16 concurrent): $SYNC users in ${sv[0]} s" \
        "= ${sv[1]} users/s (${sv[2]} requests/s), ${sv[3]} failures."
    echo "nginx: the same response body from memory (\`return 200\`), same connections, measured just before."
} | tee bench/results.md
