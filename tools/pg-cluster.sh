#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# pg-cluster.sh - a throwaway PostgreSQL cluster for tests and benchmarks.
#
#   pg-cluster.sh start DIR [fast]   initdb in DIR, listen on 127.0.0.1 on a free port,
#                                    print the superuser URL (also in DIR/url)
#   pg-cluster.sh restart DIR        restart it (fast shutdown), same port
#   pg-cluster.sh stop DIR           stop it and remove DIR
#
# PostgreSQL refuses to run as root, so as root the cluster runs as the
# 'postgres' system user that Debian's package creates.  "fast" turns off
# fsync for test speed; benchmarks leave it on.
set -eu

cmd=${1:?usage: pg-cluster.sh start|restart|stop DIR}
dir=${2:?usage: pg-cluster.sh start|restart|stop DIR}

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bindir" ] || { echo "pg-cluster: PostgreSQL server binaries not found" >&2; exit 1; }

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
    node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

pg_start() {
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 start >/dev/null
}

case $cmd in
start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-sync \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    port=$(free_port)
    {
        echo "listen_addresses = '127.0.0.1'"
        echo "port = $port"
        echo "unix_socket_directories = '$dir'"
        echo "max_connections = 400"
        echo "shared_buffers = 256MB"
        if [ "${3:-}" = fast ]; then
            echo "fsync = off"
            echo "synchronous_commit = off"
            echo "full_page_writes = off"
        fi
    } | as_owner tee -a "$dir/data/postgresql.conf" >/dev/null
    pg_start || { cat "$dir/log" >&2; exit 1; }
    echo "postgres://postgres@127.0.0.1:$port/postgres" | tee "$dir/url"
    ;;
restart)
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    pg_start
    ;;
stop)
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
*)
    echo "usage: pg-cluster.sh start|restart|stop DIR" >&2
    exit 2
    ;;
esac
