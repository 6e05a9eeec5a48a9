#!/usr/bin/env bash
# lib.sh - shell functions shared by the benchmark scripts in bench/: start
# and stop scimd and nginx on free loopback ports, create a connection, load
# users through the store, run wrk and read its BENCH_RESULT line.
# The caller sets SCIMD, LOAD, PUBLIC, RUN_S, WARM_S and WRK_THREADS.

WORK=$(mktemp -d /tmp/scimd-bench.XXXXXX)
scimd_pid=""  # the scimd started last
scimd_pids="" # every scimd running
nginx_pid=""

tool() { node bench/tool.mjs "$@"; }
say() { echo "[bench $(date +%T)] $*" >&2; }

stop_scimd() { # every scimd started
    local p
    for p in $scimd_pids; do kill -TERM "$p" 2>/dev/null || true; done
    for p in $scimd_pids; do wait "$p" 2>/dev/null || true; done
    scimd_pid=""
    scimd_pids=""
}
stop_nginx() {
    [ -n "$nginx_pid" ] || return 0
    kill -QUIT "$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
    nginx_pid=""
}
cleanup() {
    stop_scimd
    stop_nginx
    rm -rf "$WORK"
}
trap cleanup EXIT

# start_scimd DB [SERVE_ARGS...]: sets SCIMD_URL and scimd_pid (several may run)
start_scimd() {
    local port db=$1
    shift
    port=$(tool freeport)
    # the load generators use one token far beyond its default rate limit
    "$SCIMD" serve --db "$db" --listen "127.0.0.1:$port" --public-url "$PUBLIC" \
        --token-rate 0 --conn-rate 0 "$@" \
        >>"$WORK/scimd.log" 2>&1 &
    scimd_pid=$!
    scimd_pids="$scimd_pids $scimd_pid"
    SCIMD_URL=http://127.0.0.1:$port
    for _ in $(seq 300); do
        curl -sf "$SCIMD_URL/healthz" >/dev/null 2>&1 && return 0
        kill -0 "$scimd_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "bench: scimd did not become healthy; log:" >&2
    tail -20 "$WORK/scimd.log" >&2
    exit 1
}

# start_nginx KEY=BODYFILE...: sets NGINX_URL and nginx_pid
start_nginx() {
    local port dir=$WORK/nginx
    rm -rf "$dir"
    mkdir -p "$dir/logs"
    port=$(tool freeport)
    tool nginx-conf "$dir" "$port" "$@"
    nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' 2>>"$WORK/nginx.log" &
    nginx_pid=$!
    NGINX_URL=http://127.0.0.1:$port
    for _ in $(seq 100); do
        curl -sf -o /dev/null "$NGINX_URL/${1%%=*}" && return 0
        sleep 0.1
    done
    echo "bench: nginx did not start:" >&2
    cat "$WORK/nginx.log" "$dir/error.log" >&2 || true
    exit 1
}

# new_connection DB NAME: tenant + Entra IdP + token; sets TENANT IDP TOKEN
new_connection() {
    TENANT=$("$SCIMD" tenant create "$2" --db "$1" --json | node -e 'process.stdin.on("data",d=>console.log(JSON.parse(d).id))')
    IDP=$("$SCIMD" idp create --tenant "$TENANT" --name "$2 Entra" --vendor entra --public-url "$PUBLIC" --db "$1" --json |
        node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).id))')
    TOKEN=$("$SCIMD" token create --idp "$IDP" --name bench --db "$1" --json |
        node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).token))')
}

load_users() { # DB FROM COUNT
    say "loading $3 users"
    "$LOAD" --db "$1" --tenant "$TENANT" --idp "$IDP" --start "$2" --users "$3" \
        --public-url "$PUBLIC" 2>/dev/null | sed 's/^/[bench] /' >&2
}

scim() { # METHOD PATH [BODY] -> response body on stdout
    curl -sf -X "$1" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/scim+json' \
        ${3:+--data-binary "$3"} "$SCIMD_URL/scim/v2/inbound/$IDP/$2"
}

# wrk_run URL SCRIPT CONNS [ENV=V...] -> "rps p50_ms p99_ms non2xx"
wrk_run() {
    local url=$1 script=$2 conns=$3 out threads=$WRK_THREADS
    shift 3
    [ "$threads" -le "$conns" ] || threads=$conns
    env "$@" BENCH_RUN="w$RANDOM$$" wrk -t"$threads" -c"$conns" -d"${WARM_S}s" --timeout 10s \
        -s "bench/$script" "$url" >/dev/null
    out=$(env "$@" BENCH_RUN="m$RANDOM$$" wrk -t"$threads" -c"$conns" -d"${RUN_S}s" --timeout 10s \
        -s "bench/$script" "$url" | grep '^BENCH_RESULT')
    echo "$out" | awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        printf "%.0f %.2f %.2f %d\n", v["rps"], v["p50_us"] / 1000, v["p99_us"] / 1000, v["non2xx"] + v["sockerr"] }'
}

