# shellcheck shell=bash
#
# Local service bootstrap for configmarket (PostgreSQL + Redis).
#
# Usage:
#   source scripts/services.sh        # start private services if needed and
#                                     # export DATABASE_URL / REDIS_URL
#   bash scripts/services.sh stop     # stop the private PostgreSQL and Redis
#                                     # (and scripts/objectstore.sh's store)
#   bash scripts/services.sh status   # show what is running
#   bash scripts/services.sh [start]  # start, print `export ...` lines
#
# Environment:
#   DATABASE_URL     if set, used as is; no PostgreSQL cluster is started
#   REDIS_URL        if set, used as is; no Redis is started
#   CM_PG_PORT       port of the private cluster (default 55432)
#   CM_REDIS_PORT    port of the private Redis (default 56379)
#   CM_TEST_CLUSTER  1 = start PostgreSQL with fsync etc. off (throwaway speed)
#
# State lives in <repo>/.data/ (git-ignored). When run as root and the
# postgres user cannot traverse the repo path, the cluster goes to
# /tmp/configmarket-<hash>/pg instead.
#
# The script is written to be sourced: all work happens in functions that
# return non-zero on failure; the caller's shell options are saved and
# restored, and the helper functions are removed again afterwards.

if [ -z "${BASH_VERSION:-}" ]; then
    echo "services.sh: needs bash" >&2
    return 1 2>/dev/null || exit 1
fi

_cm_log() { printf 'services: %s\n' "$*" >&2; }
_cm_err() { printf 'services: ERROR: %s\n' "$*" >&2; }

# _cm_nolock CMD...: run CMD without the services.lock fd, so daemons
# (postgres, redis, services started by apt postinst) do not inherit it and
# keep the lock held forever.
_cm_nolock() {
    (
        if [[ -n "${_cm_lock_fd:-}" ]]; then
            eval "exec ${_cm_lock_fd}>&-"
        fi
        exec "$@"
    )
}

_cm_is_root() { [[ "$(id -u)" == 0 ]]; }

# _cm_privileged CMD...: run CMD as root (directly or via sudo).
_cm_privileged() {
    if _cm_is_root; then
        _cm_nolock "$@"
    elif command -v sudo >/dev/null 2>&1; then
        _cm_nolock sudo "$@"
    else
        _cm_err "need root or sudo to run: $*"
        return 1
    fi
}

# _cm_apt_install PKG...: install Debian packages non-interactively.
_cm_apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        _cm_err "apt-get not found; install $* yourself (or set DATABASE_URL / REDIS_URL)"
        return 1
    fi
    if ! _cm_is_root && ! command -v sudo >/dev/null 2>&1; then
        _cm_err "$* not installed and this user is neither root nor has sudo;" \
            "install $* or set DATABASE_URL / REDIS_URL"
        return 1
    fi
    _cm_log "installing $* with apt-get (one-time)..."
    local log
    log="$(mktemp "${TMPDIR:-/tmp}/cm-apt.XXXXXX")" || return 1
    if _cm_privileged env DEBIAN_FRONTEND=noninteractive apt-get update >"$log" 2>&1 &&
        _cm_privileged env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >>"$log" 2>&1; then
        rm -f "$log"
        return 0
    fi
    tail -n 30 "$log" >&2
    _cm_err "apt-get install $* failed (full log: $log)"
    return 1
}

_cm_repo_root() {
    (cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
}

_cm_hash() {
    if command -v sha256sum >/dev/null 2>&1; then
        printf '%s' "$1" | sha256sum | cut -c1-12
    else
        printf '%s' "$1" | cksum | cut -d' ' -f1
    fi
}

# Quote for /bin/sh (used for the `su` fallback).
_cm_shquote() {
    local out="" a
    for a in "$@"; do
        out+="'${a//\'/\'\\\'\'}' "
    done
    printf '%s' "$out"
}

# _cm_as_pg CMD...: run CMD as the postgres OS user when we are root,
# otherwise as ourselves. cwd is / so an unreadable cwd does not matter.
_cm_as_pg() {
    if _cm_is_root; then
        if command -v runuser >/dev/null 2>&1; then
            (cd / && _cm_nolock runuser -u postgres -- "$@")
        else
            (cd / && _cm_nolock su postgres -s /bin/sh -c "$(_cm_shquote "$@")")
        fi
    else
        _cm_nolock "$@"
    fi
}

_cm_port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# ---------------------------------------------------------------- PostgreSQL

# Print the bin dir holding initdb + pg_ctl. Prefers a version matching an
# existing cluster ($1 = PG_VERSION, may be empty), else the highest
# /usr/lib/postgresql/*/bin, else other places.
_cm_pg_find_bindir() {
    local want="${1:-}" d best="" v
    if [[ -n "$want" && -x "/usr/lib/postgresql/$want/bin/pg_ctl" && -x "/usr/lib/postgresql/$want/bin/initdb" ]]; then
        printf '%s\n' "/usr/lib/postgresql/$want/bin"
        return 0
    fi
    while IFS= read -r d; do
        [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" ]] && best="$d"
    done < <(
        for d in /usr/lib/postgresql/*/bin; do
            [[ -d "$d" ]] || continue
            v="${d#/usr/lib/postgresql/}"
            v="${v%/bin}"
            printf '%s\t%s\n' "$v" "$d"
        done | sort -t$'\t' -k1,1V | cut -f2
    )
    if [[ -z "$best" ]]; then
        for d in /usr/local/pgsql/bin /usr/pgsql-*/bin /usr/local/bin /usr/bin; do
            if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then
                best="$d"
                break
            fi
        done
    fi
    [[ -n "$best" ]] || return 1
    printf '%s\n' "$best"
}

# Candidate data dirs (for stop/status): repo-local, then /tmp fallback.
_cm_pg_candidates() {
    local root="$1"
    printf '%s\n' "$root/.data/pg" "/tmp/configmarket-$(_cm_hash "$root")/pg"
}

# Print the data dir to use (creating parent dirs as needed).
_cm_pg_choose_datadir() {
    local root="$1" c
    # An existing cluster wins.
    while IFS= read -r c; do
        if [[ -f "$c/PG_VERSION" ]]; then
            printf '%s\n' "$c"
            return 0
        fi
    done < <(_cm_pg_candidates "$root")

    mkdir -p "$root/.data" || return 1
    if ! _cm_is_root; then
        printf '%s\n' "$root/.data/pg"
        return 0
    fi
    # Root: the postgres user must be able to traverse the path.
    chmod 0755 "$root/.data" 2>/dev/null
    if _cm_as_pg test -x "$root/.data" 2>/dev/null; then
        printf '%s\n' "$root/.data/pg"
        return 0
    fi
    local base
    base="/tmp/configmarket-$(_cm_hash "$root")"
    if [[ -L "$base" ]] || { [[ -e "$base" ]] && [[ "$(stat -c %u "$base")" != 0 ]]; }; then
        _cm_err "$base exists but is a symlink or not owned by root; remove it"
        return 1
    fi
    mkdir -p -m 0755 "$base" || return 1
    chmod 0755 "$base" || return 1
    _cm_log "postgres user cannot traverse $root; cluster goes to $base/pg"
    printf '%s\n' "$base/pg"
}

_cm_pg_running() { # bindir datadir
    [[ -f "$2/postmaster.pid" ]] || return 1
    _cm_as_pg "$1/pg_ctl" -D "$2" status >/dev/null 2>&1
}

_cm_pg_init() { # bindir datadir
    local bindir="$1" data="$2" locale=C out
    if command -v locale >/dev/null 2>&1 && locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
        locale=C.UTF-8
    fi
    if _cm_is_root; then
        if ! id postgres >/dev/null 2>&1; then
            useradd --system --no-create-home --home-dir /nonexistent \
                --shell /usr/sbin/nologin postgres || return 1
        fi
        mkdir -p "$data" || return 1
        chown postgres: "$data" || return 1
        chmod 0700 "$data" || return 1
    else
        mkdir -p "$(dirname "$data")" || return 1
    fi
    if ! out="$(_cm_as_pg "$bindir/initdb" -D "$data" -U postgres --auth=trust \
        --encoding=UTF8 --locale="$locale" 2>&1)"; then
        printf '%s\n' "$out" >&2
        _cm_err "initdb failed for $data"
        return 1
    fi
    # Listen on TCP 127.0.0.1 only; no unix socket (avoids clashes and
    # permission issues with /var/run/postgresql).
    if ! _cm_as_pg sh -c 'cat >>"$1/postgresql.conf"' sh "$data" <<'EOF'

# --- configmarket private cluster (scripts/services.sh) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
EOF
    then
        _cm_err "could not write $data/postgresql.conf"
        return 1
    fi
}

_cm_pg_start() {
    local root="$1"
    local port="${CM_PG_PORT:-55432}"
    local data bindir want="" opts out psql

    data="$(_cm_pg_choose_datadir "$root")" || return 1
    [[ -f "$data/PG_VERSION" ]] && want="$(<"$data/PG_VERSION")"

    if ! bindir="$(_cm_pg_find_bindir "$want")"; then
        _cm_apt_install postgresql || return 1
        bindir="$(_cm_pg_find_bindir "$want")" || {
            _cm_err "PostgreSQL installed but initdb/pg_ctl not found"
            return 1
        }
    fi
    if [[ -n "$want" && "$bindir" != "/usr/lib/postgresql/$want/bin" ]]; then
        local have
        have="$("$bindir/pg_ctl" --version 2>/dev/null)"
        if [[ "$have" != *" $want."* && "$have" != *" $want" ]]; then
            _cm_err "cluster $data is PostgreSQL $want but only found: $have ($bindir);" \
                "remove $data (or run 'make stop && rm -rf $data') to recreate it"
            return 1
        fi
    fi

    if [[ ! -f "$data/PG_VERSION" ]]; then
        _cm_pg_init "$bindir" "$data" || return 1
    fi

    if _cm_pg_running "$bindir" "$data"; then
        local running
        running="$(sed -n 4p "$data/postmaster.pid" 2>/dev/null)"
        if [[ -n "$running" && "$running" != "$port" ]]; then
            _cm_log "cluster already running on port $running (not $port); using it ('make stop' to change)"
            port="$running"
        fi
    else
        if _cm_port_open "$port"; then
            _cm_err "port $port is already in use by something else; set CM_PG_PORT to a free port"
            return 1
        fi
        opts="-p $port"
        if [[ "${CM_TEST_CLUSTER:-}" == 1 ]]; then
            opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        fi
        if ! out="$(_cm_as_pg "$bindir/pg_ctl" -D "$data" -w -t 60 -l "$data/server.log" \
            -o "$opts" start 2>&1)"; then
            printf '%s\n' "$out" >&2
            tail -n 20 "$data/server.log" >&2 2>/dev/null
            _cm_err "could not start PostgreSQL (log: $data/server.log)"
            return 1
        fi
    fi

    if [[ -x "$bindir/psql" ]]; then
        psql="$bindir/psql"
    elif command -v psql >/dev/null 2>&1; then
        psql="$(command -v psql)"
    else
        _cm_err "psql not found next to $bindir/pg_ctl nor on PATH"
        return 1
    fi
    local admin="postgresql://postgres@127.0.0.1:$port/postgres?sslmode=disable"
    if ! out="$("$psql" -X -q -t -A -d "$admin" \
        -c "select 1 from pg_database where datname = 'configmarket'" 2>&1)"; then
        printf '%s\n' "$out" >&2
        _cm_err "cannot connect to private cluster on 127.0.0.1:$port"
        return 1
    fi
    if [[ "$out" != 1 ]]; then
        if ! out="$("$psql" -X -q -d "$admin" -c 'create database configmarket' 2>&1)" &&
            [[ "$out" != *"already exists"* ]]; then
            printf '%s\n' "$out" >&2
            _cm_err "could not create database configmarket"
            return 1
        fi
    fi

    export DATABASE_URL="postgres://postgres@127.0.0.1:$port/configmarket?sslmode=disable"
    local where="$data"
    [[ "$data" == "$root/"* ]] && where="${data#"$root"/}"
    _cm_log "postgres on 127.0.0.1:$port (private cluster, $where)"
}

_cm_pg_stop() {
    local root="$1" data want bindir out
    while IFS= read -r data; do
        [[ -f "$data/postmaster.pid" ]] || continue
        want=""
        [[ -f "$data/PG_VERSION" ]] && want="$(<"$data/PG_VERSION")"
        bindir="$(_cm_pg_find_bindir "$want")" || {
            _cm_err "pg_ctl not found; cannot stop cluster in $data"
            return 1
        }
        _cm_pg_running "$bindir" "$data" || continue
        if ! out="$(_cm_as_pg "$bindir/pg_ctl" -D "$data" -m fast -w -t 60 stop 2>&1)"; then
            printf '%s\n' "$out" >&2
            _cm_err "could not stop PostgreSQL in $data"
            return 1
        fi
        _cm_log "postgres stopped ($data)"
    done < <(_cm_pg_candidates "$root")
    return 0
}

# --------------------------------------------------------------------- Redis

_cm_redis_ping() { # port
    [[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" == PONG ]]
}

_cm_redis_start() {
    local root="$1"
    local port="${CM_REDIS_PORT:-56379}"
    local dir="$root/.data/redis" i

    if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
        _cm_apt_install redis-server || return 1
        command -v redis-server >/dev/null 2>&1 || {
            _cm_err "redis-server still not found after install"
            return 1
        }
    fi

    if ! _cm_redis_ping "$port"; then
        if _cm_port_open "$port"; then
            _cm_err "port $port is in use but not by a Redis; set CM_REDIS_PORT to a free port"
            return 1
        fi
        mkdir -p "$dir" || return 1
        if ! _cm_nolock redis-server --bind 127.0.0.1 --port "$port" --daemonize yes \
            --save "" --appendonly no --dir "$dir" \
            --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null 2>&1; then
            tail -n 20 "$dir/redis.log" >&2 2>/dev/null
            _cm_err "could not start redis-server (log: $dir/redis.log)"
            return 1
        fi
        for ((i = 0; i < 100; i++)); do
            _cm_redis_ping "$port" && break
            sleep 0.1
        done
        if ! _cm_redis_ping "$port"; then
            tail -n 20 "$dir/redis.log" >&2 2>/dev/null
            _cm_err "redis on 127.0.0.1:$port did not answer PING within 10s (log: $dir/redis.log)"
            return 1
        fi
    fi

    export REDIS_URL="redis://127.0.0.1:$port/0"
    _cm_log "redis on 127.0.0.1:$port (private)"
}

_cm_redis_stop() {
    local root="$1" dir pid i
    dir="$root/.data/redis"
    [[ -f "$dir/redis.pid" ]] || return 0
    pid="$(<"$dir/redis.pid")"
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
        [[ "$(cat "/proc/$pid/comm" 2>/dev/null || ps -o comm= -p "$pid" 2>/dev/null)" == redis-server* ]]; then
        kill -TERM "$pid" 2>/dev/null
        for ((i = 0; i < 100; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            _cm_err "redis (pid $pid) did not stop within 10s"
            return 1
        fi
        _cm_log "redis stopped"
    fi
    rm -f "$dir/redis.pid"
    return 0
}

# ---------------------------------------------------------------- entry

# Serialise concurrent starts (several shells running `make test` in the
# same tree). Runs "$@" while holding .data/services.lock.
_cm_locked() {
    local root="$1" _cm_lock_fd rc
    shift
    local lock="$root/.data/services.lock"
    if ! command -v flock >/dev/null 2>&1 || ! mkdir -p "$root/.data" 2>/dev/null ||
        [[ ! -w "$root/.data" ]] || { [[ -e "$lock" ]] && [[ ! -w "$lock" ]]; }; then
        "$@" # no locking possible; go ahead anyway
        return
    fi
    exec {_cm_lock_fd}>>"$lock"
    if ! flock -w 300 "$_cm_lock_fd"; then
        exec {_cm_lock_fd}>&-
        _cm_err "timed out waiting for $root/.data/services.lock"
        return 1
    fi
    "$@"
    rc=$?
    exec {_cm_lock_fd}>&-
    return $rc
}

_cm_start_all() {
    local root="$1"
    if [[ -n "${DATABASE_URL:-}" ]]; then
        _cm_log "postgres from DATABASE_URL (not starting a cluster)"
    else
        _cm_pg_start "$root" || return 1
    fi
    if [[ -n "${REDIS_URL:-}" ]]; then
        _cm_log "redis from REDIS_URL (not starting one)"
    else
        _cm_redis_start "$root" || return 1
    fi
}

_cm_stop_all() {
    local root="$1" rc=0
    _cm_pg_stop "$root" || rc=1
    _cm_redis_stop "$root" || rc=1
    # The object store the tests start (scripts/objectstore.sh) stops too,
    # so one command stops everything.
    bash "$root/scripts/objectstore.sh" stop || rc=1
    return $rc
}

_cm_status() {
    local root="$1" data want bindir pid
    while IFS= read -r data; do
        [[ -f "$data/PG_VERSION" ]] || continue
        want="$(<"$data/PG_VERSION")"
        if bindir="$(_cm_pg_find_bindir "$want")" && _cm_pg_running "$bindir" "$data"; then
            echo "postgres: running ($data, port $(sed -n 4p "$data/postmaster.pid"))"
        else
            echo "postgres: stopped ($data)"
        fi
    done < <(_cm_pg_candidates "$root")
    pid="$(cat "$root/.data/redis/redis.pid" 2>/dev/null)"
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
        echo "redis: running (pid $pid)"
    else
        echo "redis: stopped"
    fi
    bash "$root/scripts/objectstore.sh" status
}

_cm_main() {
    local mode="$1" root
    shift
    root="$(_cm_repo_root)" || { _cm_err "cannot determine repo root"; return 1; }
    case "$mode" in
    source) _cm_locked "$root" _cm_start_all "$root" ;;
    start)
        _cm_locked "$root" _cm_start_all "$root" || return 1
        printf 'export DATABASE_URL=%q\nexport REDIS_URL=%q\n' "$DATABASE_URL" "$REDIS_URL"
        ;;
    stop) _cm_locked "$root" _cm_stop_all "$root" ;;
    status) _cm_status "$root" ;;
    *)
        echo "usage: source scripts/services.sh | bash scripts/services.sh [start|stop|status]" >&2
        return 2
        ;;
    esac
}

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    # Sourced: save caller's shell options, work without errexit/nounset/
    # pipefail, restore, clean up helper functions, return the status.
    # ($- is needed for errexit: bash clears -e inside $(...), so `set +o`
    # run there would not report it.)
    _cm_saved_flags="$-"
    _cm_saved_opts="$(set +o)"
    set +e +u +o pipefail
    _cm_main source
    _cm_rc=$?
    eval "$_cm_saved_opts"
    [[ "$_cm_saved_flags" == *e* ]] && set -e
    unset _cm_saved_opts _cm_saved_flags
    # shellcheck disable=SC2046
    unset -f $(compgen -A function _cm_)
    eval "unset _cm_rc; return $_cm_rc"
else
    _cm_main "${1:-start}" "${@:2}"
    exit $?
fi
