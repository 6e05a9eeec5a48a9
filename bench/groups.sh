#!/usr/bin/env bash
# groups.sh - the groups part of scimd's benchmark (run at the end of `make
# bench`): starts scimd on a free 127.0.0.1 port with a temporary database,
# loads enough users for the largest group with bench/load, and runs
# bench/groups.mjs, which prints a markdown table and appends it to
# bench/results.md.
#
#   BENCH_GROUP_SIZES  member counts of the measured groups ("1000 100000 1000000")
#   BENCH_GROUPS       groups created for the listing runs (10000)
# All load goes to 127.0.0.1.  Needs node, curl, sqlite3.
set -euo pipefail
cd "$(dirname "$0")/.."

SCIMD=${SCIMD_BIN:-build/release/scimd}
LOAD=${LOAD_BIN:-build/bench/load}
SIZES=${BENCH_GROUP_SIZES:-"1000 100000 1000000"}
SPARE=200 # users outside the largest group, added and removed one at a time
PUBLIC=http://127.0.0.1:18080
export BENCH_GROUP_SIZES="$SIZES"

for t in node curl sqlite3 "$SCIMD" "$LOAD"; do
    command -v "$t" >/dev/null || { echo "groups.sh: $t not found" >&2; exit 1; }
done
WORK=$(mktemp -d /tmp/scimd-groups.XXXXXX)
DB=$WORK/groups.db
scimd_pid=""
cleanup() {
    if [ -n "$scimd_pid" ]; then
        kill -TERM "$scimd_pid" 2>/dev/null || true
        wait "$scimd_pid" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
say() { echo "[groups $(date +%T)] $*" >&2; }
json_field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s)[process.argv[1]]))' "$1"; }

TENANT=$("$SCIMD" tenant create Groups --db "$DB" --json | json_field id)
IDP=$("$SCIMD" idp create --tenant "$TENANT" --name "Groups Entra" --vendor entra --public-url "$PUBLIC" \
    --db "$DB" --json | json_field id)
TOKEN=$("$SCIMD" token create --idp "$IDP" --name bench --db "$DB" --json | json_field token)

max=0
for s in $SIZES; do [ "$s" -gt "$max" ] && max=$s; done
users=$((max + SPARE))
say "loading $users users"
"$LOAD" --db "$DB" --tenant "$TENANT" --idp "$IDP" --users "$users" --public-url "$PUBLIC" 2>/dev/null |
    sed 's/^/[groups] /' >&2
sqlite3 "$DB" "select user_id from idp_users where idp_id = '$IDP' and deleted = 0" >"$WORK/ids.txt"

port=$(node bench/tool.mjs freeport)
"$SCIMD" serve --db "$DB" --listen "127.0.0.1:$port" --public-url "$PUBLIC" \
    --token-rate 0 --conn-rate 0 >>"$WORK/scimd.log" 2>&1 &
scimd_pid=$!
URL=http://127.0.0.1:$port
for _ in $(seq 300); do
    curl -sf "$URL/healthz" >/dev/null 2>&1 && break
    kill -0 "$scimd_pid" 2>/dev/null || { tail -20 "$WORK/scimd.log" >&2; exit 1; }
    sleep 0.1
done
curl -sf "$URL/healthz" >/dev/null || { echo "groups.sh: scimd did not become healthy" >&2; tail -20 "$WORK/scimd.log" >&2; exit 1; }

node bench/groups.mjs "$URL/scim/v2/inbound/$IDP/" "$TOKEN" "$WORK/ids.txt"
