#!/bin/sh
# wk-test-env.sh - private redis-server + mariadbd for hand-testing the workers.
#   workers/scripts/wk-test-env.sh start [DIR]   (default DIR=/tmp/wk-test)
#   workers/scripts/wk-test-env.sh stop  [DIR]
# Writes DIR/tthc.conf; everything (sockets, data, store) lives under DIR.
set -eu
cmd=${1:-start}
D=${2:-/tmp/wk-test}
case "$cmd" in
start)
    mkdir -p "$D/run" "$D/redis" "$D/log" "$D/store/files" "$D/store/journal" "$D/store/tmp"
    if [ ! -d "$D/mysql/mysql" ]; then
        mariadb-install-db --no-defaults --datadir="$D/mysql" \
            --auth-root-authentication-method=socket --user=root >"$D/log/install-db.log" 2>&1
    fi
    redis-server --port 0 --unixsocket "$D/run/redis.sock" --unixsocketperm 700 \
        --dir "$D/redis" --appendonly yes --appendfsync everysec \
        --daemonize yes --pidfile "$D/run/redis.pid" --logfile "$D/log/redis.log"
    mariadbd --no-defaults --datadir="$D/mysql" --socket="$D/run/mysqld.sock" \
        --pid-file="$D/run/mysqld.pid" --skip-networking --user=root \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
        --log-error="$D/log/mysqld.err" >/dev/null 2>&1 &
    i=0
    until mariadb --no-defaults -S "$D/run/mysqld.sock" -uroot -e 'SELECT 1' >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -gt 100 ] && { echo "mariadbd did not start" >&2; exit 1; }
        sleep 0.2
    done
    [ -f "$D/db.secret" ] || { head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$D/db.secret"; chmod 600 "$D/db.secret"; }
    PW=$(cat "$D/db.secret")
    # the edge <-> workers RPC sealing key (32 raw bytes; conf default DIR/rpc.key)
    [ -s "$D/rpc.key" ] || { head -c 32 /dev/urandom >"$D/rpc.key"; chmod 600 "$D/rpc.key"; }
    mariadb --no-defaults -S "$D/run/mysqld.sock" -uroot <<SQL
CREATE DATABASE IF NOT EXISTS tthc CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'tthc'@'localhost' IDENTIFIED BY '$PW';
ALTER USER 'tthc'@'localhost' IDENTIFIED BY '$PW';
GRANT ALL PRIVILEGES ON tthc.* TO 'tthc'@'localhost';
SQL
    cat >"$D/tthc.conf" <<CONF
redis = unix:$D/run/redis.sock
mysql_socket = $D/run/mysqld.sock
mysql_user = tthc
mysql_password_file = $D/db.secret
mysql_database = tthc
store = $D/store
worker_visibility_ms = 30000
worker_max_attempts = 8
worker_backoff_base_ms = 500
reconcile_interval_ms = 5000
journal_grace_ms = 5000
journal_orphan_ms = 30000
log_level = info
rpc_key_file = $D/rpc.key
# e-ID: workers/scripts/fake-eid.py 18099 (or sim/eid/eid_sim.py) on loopback
eid_issuer = http://127.0.0.1:18099
eid_token_url = http://127.0.0.1:18099/token
eid_jwks_url = http://127.0.0.1:18099/jwks
eid_client_id = tthc
eid_redirect_uri = http://127.0.0.1:8080/api/v1/auth/eid/callback
CONF
    echo "ready: TTHC_CONF=$D/tthc.conf"
    ;;
stop)
    [ -f "$D/run/redis.pid" ] && kill "$(cat "$D/run/redis.pid")" 2>/dev/null || true
    [ -f "$D/run/mysqld.pid" ] && kill "$(cat "$D/run/mysqld.pid")" 2>/dev/null || true
    ;;
*)
    echo "usage: $0 start|stop [DIR]" >&2; exit 2 ;;
esac
