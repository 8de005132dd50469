#!/usr/bin/env bash
# Throwaway PostgreSQL + Redis for tests and benchmarks.
#
#   scripts/test-services.sh start    # start both (idempotent), wait until they accept connections
#   scripts/test-services.sh stop     # stop both and delete their data
#   scripts/test-services.sh env      # print `export DATABASE_URL=... REDIS_URL=...` lines
#   scripts/test-services.sh status   # say what is running
#   scripts/test-services.sh restart-postgres [SECONDS]  # stop PostgreSQL (fast: sessions end), start it
#                                     # again SECONDS later (default 0) on the same data: outage tests
#   scripts/test-services.sh stop-redis   # stop Redis only (nothing is kept); `start` brings it back
#
#   eval "$(scripts/test-services.sh env)"
#
# Knobs (environment):
#   HERON_PG_PORT       (default 55432)
#   HERON_REDIS_PORT    (default 56379)
#   HERON_SERVICES_DIR  (default <repo>/var/test-services)
#   HERON_SERVICES_TIMEOUT  seconds to wait for readiness (default 60)
#
# PostgreSQL refuses to run as root, so when invoked as root the server runs as the
# `postgres` system user (created by the Debian postgresql package) via runuser.
# Everything listens on 127.0.0.1 only; the PG unix socket lives inside the data dir.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_PORT="${HERON_PG_PORT:-55432}"
REDIS_PORT="${HERON_REDIS_PORT:-56379}"
TIMEOUT="${HERON_SERVICES_TIMEOUT:-60}"
DIR="${HERON_SERVICES_DIR:-$ROOT/var/test-services}"
PG_USER_DB="heron"   # role, password and database name

log() { echo "[test-services] $*" >&2; }
die() { echo "[test-services] ERROR: $*" >&2; exit 1; }

# ---------------------------------------------------------------- binaries
find_pg_bindir() {
    local d
    if [[ -n "${HERON_PG_BINDIR:-}" ]]; then echo "$HERON_PG_BINDIR"; return; fi
    # Debian: versioned dirs, newest first.
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -V -r); do
        [[ -x "$d/postgres" && -x "$d/initdb" ]] && { echo "$d"; return; }
    done
    if command -v pg_config >/dev/null 2>&1; then
        d="$(pg_config --bindir)"
        [[ -x "$d/postgres" ]] && { echo "$d"; return; }
    fi
    if command -v postgres >/dev/null 2>&1; then dirname "$(command -v postgres)"; return; fi
    return 1
}

# --------------------------------------------------------------- pg helpers
if [[ $EUID -eq 0 ]]; then
    PG_OS_USER="postgres"
    id -u "$PG_OS_USER" >/dev/null 2>&1 || die "running as root but there is no 'postgres' user (install the postgresql package)"
    as_pg() { runuser -u "$PG_OS_USER" -- "$@"; }
else
    PG_OS_USER="$(id -un)"
    as_pg() { "$@"; }
fi

# The data dir must be reachable by the postgres user. A checkout under /root (mode 700)
# is not, so fall back to a per-port directory under /tmp in that case.
pg_base_dir() {
    if [[ $EUID -ne 0 ]]; then echo "$DIR"; return; fi
    mkdir -p "$DIR"
    chmod 755 "$DIR" 2>/dev/null || true
    if as_pg test -x "$DIR" 2>/dev/null; then echo "$DIR"; else echo "/tmp/heron-test-services-$PG_PORT"; fi
}

init_paths() {
    PG_BASE="$(pg_base_dir)"
    PGDATA="$PG_BASE/pg"
    PG_LOG="$PG_BASE/pg.log"
    REDIS_PID="$DIR/redis.pid"
    REDIS_LOG="$DIR/redis.log"
}

# True if $1 is a live (non-zombie) process whose command name starts with $2.
proc_alive() {
    local pid="$1" name="$2" state
    [[ "$pid" =~ ^[0-9]+$ && -r /proc/$pid/stat ]] || return 1
    state="$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$pid/stat" 2>/dev/null)" || return 1
    [[ "$state" != Z && "$state" != X ]] || return 1
    [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$name"* ]]
}

pg_running_ours() {
    # True if a postmaster is running on our data dir (a kill -9'd one leaves postmaster.pid behind).
    [[ -f "$PGDATA/postmaster.pid" ]] || return 1
    proc_alive "$(head -n1 "$PGDATA/postmaster.pid" 2>/dev/null)" postgres
}

pg_port_answers() {
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2 >/dev/null 2>&1
}

psql_admin() {
    # Superuser connection over the unix socket inside the data dir (trust auth).
    as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGDATA" -p "$PG_PORT" -U postgres -d postgres "$@"
}

pg_start() {
    PG_BIN="$(find_pg_bindir)" || die "PostgreSQL server binaries not found (apt-get install postgresql)"

    if pg_running_ours; then
        log "PostgreSQL already running on 127.0.0.1:$PG_PORT ($PGDATA)"
    else
        if pg_port_answers; then
            die "port $PG_PORT is already used by another PostgreSQL; stop it or set HERON_PG_PORT"
        fi
        # Anything left here is from a killed run: it is throwaway, start from scratch.
        if [[ -e "$PGDATA" ]]; then
            log "removing stale PostgreSQL data dir $PGDATA"
            rm -rf "$PGDATA"
        fi
        mkdir -p "$PG_BASE" "$PGDATA"
        chmod 755 "$PG_BASE"
        chmod 700 "$PGDATA"
        : >"$PG_LOG"
        if [[ $EUID -eq 0 ]]; then chown "$PG_OS_USER": "$PGDATA" "$PG_LOG"; fi

        log "initdb $PGDATA ($("$PG_BIN/postgres" --version))"
        as_pg "$PG_BIN/initdb" -D "$PGDATA" -U postgres -E UTF8 --locale=C.UTF-8 \
            --auth-local=trust --auth-host=scram-sha-256 >"$PG_BASE/initdb.log" 2>&1 \
            || { cat "$PG_BASE/initdb.log" >&2; die "initdb failed"; }

        cat >>"$PGDATA/postgresql.conf" <<EOF

# --- heron throwaway test server ---
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PGDATA'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
log_min_messages = warning
EOF
        log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
        if ! as_pg "$PG_BIN/pg_ctl" start -D "$PGDATA" -l "$PG_LOG" -w -t "$TIMEOUT" -s >/dev/null 9>&-; then
            tail -n 40 "$PG_LOG" >&2 || true
            die "PostgreSQL failed to start (log: $PG_LOG)"
        fi
    fi

    local deadline=$((SECONDS + TIMEOUT))
    until pg_port_answers; do
        ((SECONDS < deadline)) || { tail -n 40 "$PG_LOG" >&2 || true; die "PostgreSQL not ready after ${TIMEOUT}s"; }
        sleep 0.2
    done

    psql_admin <<EOF
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER_DB') THEN
    CREATE ROLE $PG_USER_DB LOGIN SUPERUSER CREATEDB PASSWORD '$PG_USER_DB';
  END IF;
END
\$\$;
SELECT 'CREATE DATABASE $PG_USER_DB OWNER $PG_USER_DB'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$PG_USER_DB') \gexec
EOF
    log "PostgreSQL ready: postgres://$PG_USER_DB:$PG_USER_DB@127.0.0.1:$PG_PORT/$PG_USER_DB"
}

pg_stop() {
    PG_BIN="$(find_pg_bindir)" || { rm -rf "$PGDATA"; return 0; }
    if pg_running_ours; then
        log "stopping PostgreSQL"
        as_pg "$PG_BIN/pg_ctl" stop -D "$PGDATA" -m fast -w -t 30 -s >/dev/null 2>&1 \
            || as_pg "$PG_BIN/pg_ctl" stop -D "$PGDATA" -m immediate -w -t 10 -s >/dev/null 2>&1 \
            || true
    fi
    if [[ -f "$PGDATA/postmaster.pid" ]]; then
        local pid
        pid="$(head -n1 "$PGDATA/postmaster.pid" 2>/dev/null || true)"
        if proc_alive "$pid" postgres; then kill -9 "$pid" 2>/dev/null || true; fi
    fi
    rm -rf "$PGDATA" "$PG_LOG" "$PG_BASE/initdb.log"
    [[ "$PG_BASE" == "$DIR" ]] || rmdir "$PG_BASE" 2>/dev/null || true
}

pg_restart() {
    PG_BIN="$(find_pg_bindir)" || die "PostgreSQL server binaries not found"
    pg_running_ours || die "PostgreSQL is not running on $PGDATA"
    as_pg "$PG_BIN/pg_ctl" stop -D "$PGDATA" -m fast -w -t 30 -s >/dev/null
    sleep "${1:-0}"
    as_pg "$PG_BIN/pg_ctl" start -D "$PGDATA" -l "$PG_LOG" -w -t "$TIMEOUT" -s >/dev/null 9>&- \
        || { tail -n 40 "$PG_LOG" >&2 || true; die "PostgreSQL failed to start again (log: $PG_LOG)"; }
}

# ------------------------------------------------------------ redis helpers
redis_cli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

redis_answers() { [[ "$(redis_cli ping 2>/dev/null)" == "PONG" ]]; }

redis_is_ours() {
    # Our server was started with --dir $DIR; use that to recognise it even if the pidfile is gone.
    local d
    d="$(redis_cli config get dir 2>/dev/null | sed -n 2p)"
    [[ -n "$d" && "$(cd "$DIR" 2>/dev/null && pwd -P)" == "$d" ]]
}

redis_start() {
    command -v redis-server >/dev/null 2>&1 || die "redis-server not found (apt-get install redis-server)"
    command -v redis-cli >/dev/null 2>&1 || die "redis-cli not found (apt-get install redis-tools)"
    mkdir -p "$DIR"
    if redis_answers; then
        if redis_is_ours; then
            log "Redis already running on 127.0.0.1:$REDIS_PORT"
            return 0
        fi
        die "port $REDIS_PORT is already used by another Redis; stop it or set HERON_REDIS_PORT"
    fi
    rm -f "$REDIS_PID" dump.rdb "$DIR/dump.rdb"
    log "starting Redis on 127.0.0.1:$REDIS_PORT"
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --protected-mode yes \
        --save '' --appendonly no --daemonize yes \
        --pidfile "$REDIS_PID" --logfile "$REDIS_LOG" --dir "$DIR" 9>&- \
        || die "redis-server failed to start (log: $REDIS_LOG)"
    local deadline=$((SECONDS + TIMEOUT))
    until redis_answers; do
        ((SECONDS < deadline)) || { tail -n 40 "$REDIS_LOG" >&2 || true; die "Redis not ready after ${TIMEOUT}s"; }
        sleep 0.1
    done
    log "Redis ready: redis://127.0.0.1:$REDIS_PORT/0"
}

redis_stop() {
    local pid=""
    [[ -f "$REDIS_PID" ]] && pid="$(cat "$REDIS_PID" 2>/dev/null || true)"
    if command -v redis-cli >/dev/null 2>&1 && redis_answers && redis_is_ours; then
        log "stopping Redis"
        redis_cli shutdown nosave >/dev/null 2>&1 || true
    fi
    if proc_alive "$pid" redis; then
        local i
        for i in $(seq 1 50); do proc_alive "$pid" redis || break; sleep 0.1; done
        if proc_alive "$pid" redis; then kill -9 "$pid" 2>/dev/null || true; fi
    fi
    rm -f "$REDIS_PID" "$REDIS_LOG" "$DIR/dump.rdb"
}

# ------------------------------------------------------------------- main
print_env() {
    echo "export DATABASE_URL=postgres://$PG_USER_DB:$PG_USER_DB@127.0.0.1:$PG_PORT/$PG_USER_DB"
    echo "export REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
}

with_lock() {
    # Serialise concurrent start/stop calls (e.g. two terminals). The servers are started
    # with fd 9 closed so the daemons do not keep holding the lock.
    mkdir -p "$(dirname "$DIR")"
    exec 9>"$(dirname "$DIR")/.test-services.lock"
    flock -w "$TIMEOUT" 9 || die "could not get lock $(dirname "$DIR")/.test-services.lock"
}

cmd="${1:-}"
case "$cmd" in
    start)
        with_lock
        init_paths
        pg_start
        redis_start
        ;;
    stop)
        with_lock
        init_paths
        redis_stop
        pg_stop
        rm -rf "$DIR"
        log "stopped"
        ;;
    restart-postgres)
        with_lock
        init_paths
        pg_restart "${2:-0}"
        ;;
    stop-redis)
        with_lock
        init_paths
        redis_stop
        ;;
    env)
        print_env
        ;;
    status)
        init_paths
        PG_BIN="$(find_pg_bindir)" || die "PostgreSQL binaries not found"
        rc=0
        if pg_running_ours && pg_port_answers; then echo "postgres: running on 127.0.0.1:$PG_PORT ($PGDATA)"; else echo "postgres: not running"; rc=1; fi
        if redis_answers && redis_is_ours; then echo "redis:    running on 127.0.0.1:$REDIS_PORT"; else echo "redis:    not running"; rc=1; fi
        exit $rc
        ;;
    *)
        echo "usage: $0 start|stop|env|status|restart-postgres [SECONDS]|stop-redis" >&2
        exit 2
        ;;
esac
