#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pg.sh - the PostgreSQL part of scimd's benchmark (`make bench`): durable
# creates/s, PATCH/s, GET by id and `userName eq` lookups/s at 64 connections on SQLite
# (one node), on PostgreSQL with one node, and with two nodes on the same
# PostgreSQL database (each node gets half the connections from its own wrk).
# PostgreSQL is a throwaway cluster from tools/pg-cluster.sh with fsync on.
# Prints a markdown table and appends it to bench/results.md.
#
#   BENCH_SECONDS   measured seconds per run (10), after BENCH_WARMUP (2)
#   BENCH_PG_USERS  users loaded before the runs (10000)
# All load goes to 127.0.0.1.  Needs wrk, node, curl, psql, PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."

SCIMD=${SCIMD_BIN:-build/release/scimd}
LOAD=${LOAD_BIN:-build/bench/load}
RUN_S=${BENCH_SECONDS:-10}
WARM_S=${BENCH_WARMUP:-2}
USERS=${BENCH_PG_USERS:-10000}
CONNS=64
WRK_THREADS=$(nproc)
PUBLIC=http://127.0.0.1:18080
export BENCH_LUA_DIR=$PWD/bench

for t in wrk node curl psql "$SCIMD" "$LOAD"; do
    command -v "$t" >/dev/null || { echo "pg.sh: $t not found" >&2; exit 1; }
done
source bench/lib.sh
PGDIR=$(mktemp -d /tmp/scimd-bench-pg.XXXXXX) # outside WORK: the postgres user must reach it
pg_cleanup() {
    stop_scimd
    sh tools/pg-cluster.sh stop "$PGDIR" 2>/dev/null || true
    cleanup
}
trap pg_cleanup EXIT
PGURL=$(sh tools/pg-cluster.sh start "$PGDIR")
say "PostgreSQL cluster at $PGURL (durable: fsync on)"

# wrk_nodes SCRIPT [ENV=V...]: CONNS connections split over the nodes in URLS,
# one wrk per node at once -> "rps p50_ms p99_ms non2xx" (summed; worst p50/p99)
wrk_nodes() {
    local script=$1 n=0 u
    shift
    set -- "$@"
    local per=$((CONNS / $(echo "$URLS" | wc -w)))
    for u in $URLS; do
        n=$((n + 1))
        wrk_run "$u" "$script" "$per" BENCH_TOKEN="$TOKEN" BENCH_BASE_PATH="/scim/v2/inbound/$IDP/" "$@" \
            >"$WORK/wrk.$n" &
    done
    wait
    cat "$WORK"/wrk.* | awk '{ r += $1; if ($2 > p50) p50 = $2; if ($3 > p99) p99 = $3; e += $4 }
        END { printf "%.0f %.2f %.2f %d\n", r, p50, p99, e }'
    rm -f "$WORK"/wrk.*
}

urlenc() { node -e 'console.log(encodeURIComponent(process.argv[1]))' "$1"; }

declare -A cell
fmt_cell() { # rps p50 p99 non2xx
    if [ "$4" -gt 0 ]; then echo "$1 (p99 $3 ms, $4 non-2xx)"; else echo "$1 (p99 $3 ms)"; fi
}
# measure LABEL DB NODES
measure() {
    local label=$1 db=$2 nodes=$3 i r
    new_connection "$db" "PG bench"
    load_users "$db" 1 "$USERS"
    # A bulk load leaves PostgreSQL without statistics until autovacuum gets to
    # it; a directory that grew through SCIM has them.  Measure the latter.
    case $db in postgres://*) psql "$db" -qc ANALYZE ;; esac
    URLS=""
    for i in $(seq "$nodes"); do
        start_scimd "$db" --db-pool 32
        URLS="$URLS $SCIMD_URL"
    done
    scim GET "Users?count=1000&startIndex=2" >"$WORK/ids.json"
    tool ids "$WORK/ids.json" >"$WORK/ids.txt"
    local f_un="/scim/v2/inbound/$IDP/Users?filter=$(urlenc "userName eq \"user$((USERS / 2))@bench.test\"")"
    say "$label: POST"
    read -r -a r <<<"$(wrk_nodes post.lua)"
    cell[post,$label]=$(fmt_cell "${r[@]}")
    say "$label: PATCH"
    read -r -a r <<<"$(wrk_nodes patch.lua BENCH_IDS="$WORK/ids.txt")"
    cell[patch,$label]=$(fmt_cell "${r[@]}")
    say "$label: GET by id"
    read -r -a r <<<"$(wrk_nodes get.lua BENCH_PATH="/scim/v2/inbound/$IDP/Users/$(head -n 1 "$WORK/ids.txt" | cut -d" " -f1)")"
    cell[getid,$label]=$(fmt_cell "${r[@]}")
    say "$label: userName eq"
    read -r -a r <<<"$(wrk_nodes get.lua BENCH_PATH="$f_un")"
    cell[get,$label]=$(fmt_cell "${r[@]}")
    stop_scimd
}

measure sqlite "$WORK/pg-bench.db" 1
psql "$PGURL" -qc 'CREATE DATABASE bench1'
measure pg1 "${PGURL%/*}/bench1" 1
psql "$PGURL" -qc 'CREATE DATABASE bench2'
measure pg2 "${PGURL%/*}/bench2" 2

{
    echo
    echo "## SQLite and PostgreSQL, one and two nodes"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), nproc $(nproc), $CONNS connections, ${RUN_S}s per run after ${WARM_S}s warm-up," \
        "$USERS users loaded; PostgreSQL $(psql "$PGURL" -Atc 'show server_version') on the same machine, fsync on." \
        "Two nodes: two scimd processes on one database, $((CONNS / 2)) connections each."
    echo
    echo "| scenario, req/s (p99) | SQLite, 1 node | PostgreSQL, 1 node | PostgreSQL, 2 nodes |"
    echo "|---|---:|---:|---:|"
    echo "| POST /Users (durable) | ${cell[post,sqlite]} | ${cell[post,pg1]} | ${cell[post,pg2]} |"
    echo "| PATCH active toggle | ${cell[patch,sqlite]} | ${cell[patch,pg1]} | ${cell[patch,pg2]} |"
    echo "| GET /Users/{id} | ${cell[getid,sqlite]} | ${cell[getid,pg1]} | ${cell[getid,pg2]} |"
    echo "| GET filter userName eq | ${cell[get,sqlite]} | ${cell[get,pg1]} | ${cell[get,pg2]} |"
} | tee -a bench/results.md
