# shellcheck shell=bash
#
# A real S3-compatible object store for configmarket's tests (and for anyone
# who wants packages in an object store locally): versitygw serving a POSIX
# folder.
#
# Usage:
#   source scripts/objectstore.sh        # start it if needed and export
#                                        # CM_TEST_OBJECT_STORE_URL
#   bash scripts/objectstore.sh stop     # stop it
#   bash scripts/objectstore.sh status   # show whether it runs
#   bash scripts/objectstore.sh [start]  # start, print the `export ...` line
#
# Environment:
#   OBJECT_STORE_URL       if set, used as the test URL as is; nothing is started
#   CM_OBJECT_STORE_PORT   port of the private versitygw (default 59000)
#
# The first start builds versitygw with `go install` from the Go module
# proxy into <repo>/.data/bin (a couple of minutes with a cold module
# cache, seconds with a warm one). Objects live under
# <repo>/.data/objectstore/data; the log is .data/objectstore/versitygw.log.
# The server listens on 127.0.0.1 only, with fixed local credentials.
#
# Written to be sourced, like scripts/services.sh: all work happens in
# functions that return non-zero on failure; the caller's shell options are
# saved and restored, and the helper functions are removed afterwards.

if [ -z "${BASH_VERSION:-}" ]; then
    echo "objectstore.sh: needs bash" >&2
    return 1 2>/dev/null || exit 1
fi

_cmos_version=v1.0.14
_cmos_access_key=configmarket
_cmos_secret_key=configmarket-local-secret
_cmos_bucket=configmarket-test
_cmos_region=us-east-1

_cmos_log() { printf 'objectstore: %s\n' "$*" >&2; }
_cmos_err() { printf 'objectstore: ERROR: %s\n' "$*" >&2; }

_cmos_repo_root() {
    (cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
}

_cmos_port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# _cmos_healthy PORT: versitygw answers its health check on PORT.
_cmos_healthy() {
    local line
    line="$({
        exec 3<>"/dev/tcp/127.0.0.1/$1" &&
            printf 'GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 &&
            IFS= read -r -t 2 line <&3 && printf '%s' "$line"
    } 2>/dev/null)"
    [[ "$line" == "HTTP/1."?" 200"* ]]
}

# _cmos_pid DIR: the pid of our running versitygw, or nothing (status 1).
_cmos_pid() {
    local pid
    pid="$(cat "$1/versitygw.pid" 2>/dev/null)"
    [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    [[ "$(cat "/proc/$pid/comm" 2>/dev/null || ps -o comm= -p "$pid" 2>/dev/null)" == versitygw* ]] || return 1
    printf '%s\n' "$pid"
}

# _cmos_install ROOT: build the pinned versitygw into ROOT/.data/bin unless
# that version is there already.
_cmos_install() {
    local root="$1" bin="$1/.data/bin" log start
    if [[ -x "$bin/versitygw" && "$(cat "$bin/versitygw.version" 2>/dev/null)" == "$_cmos_version" ]]; then
        return 0
    fi
    if ! command -v go >/dev/null 2>&1; then
        _cmos_err "go not found: it builds versitygw (or set OBJECT_STORE_URL to a store of your own)"
        return 1
    fi
    mkdir -p "$bin" || return 1
    _cmos_log "building versitygw $_cmos_version into .data/bin (one-time; minutes with a cold module cache)..."
    log="$(mktemp "${TMPDIR:-/tmp}/cm-versitygw.XXXXXX")" || return 1
    start=$SECONDS
    # Outside the repo, so its go.mod plays no part.
    if ! (cd / && GOBIN="$bin" go install \
        "github.com/versity/versitygw/cmd/versitygw@$_cmos_version") >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        _cmos_err "go install github.com/versity/versitygw/cmd/versitygw@$_cmos_version failed (full log: $log)"
        return 1
    fi
    rm -f "$log"
    printf '%s\n' "$_cmos_version" >"$bin/versitygw.version"
    _cmos_log "versitygw built in $((SECONDS - start))s"
}

_cmos_url() { # port
    printf 's3://%s:%s@127.0.0.1:%s/%s?secure=false&region=%s' \
        "$_cmos_access_key" "$_cmos_secret_key" "$1" "$_cmos_bucket" "$_cmos_region"
}

_cmos_start() {
    local root="$1"
    local port="${CM_OBJECT_STORE_PORT:-59000}"
    local dir="$root/.data/objectstore" pid i

    if [[ ! "$port" =~ ^[0-9]+$ ]]; then
        _cmos_err "CM_OBJECT_STORE_PORT=$port is not a port number"
        return 1
    fi
    _cmos_install "$root" || return 1

    if pid="$(_cmos_pid "$dir")"; then
        local running
        running="$(cat "$dir/versitygw.port" 2>/dev/null)"
        if [[ -n "$running" && "$running" != "$port" ]]; then
            _cmos_log "versitygw already running on port $running (not $port); using it ('make stop' to change)"
            port="$running"
        fi
        if ! _cmos_healthy "$port"; then
            _cmos_err "versitygw (pid $pid) runs but does not answer on 127.0.0.1:$port (log: $dir/versitygw.log); 'make stop' and retry"
            return 1
        fi
    else
        if _cmos_port_open "$port"; then
            _cmos_err "port $port is already in use by something else; set CM_OBJECT_STORE_PORT to a free port"
            return 1
        fi
        mkdir -p "$dir/data" || return 1
        # Launched from a subshell without job control, so setsid need not
        # fork and $! is the server itself; in its own session it outlives
        # this shell and gets none of its terminal's signals (Ctrl-C in
        # `make test`). The lock's fd is closed, or the server would hold
        # the lock forever.
        pid="$(
            set +m
            [[ -n "${_cmos_lock_fd:-}" ]] && eval "exec ${_cmos_lock_fd}>&-"
            ROOT_ACCESS_KEY="$_cmos_access_key" ROOT_SECRET_KEY="$_cmos_secret_key" \
                setsid "$root/.data/bin/versitygw" --port "127.0.0.1:$port" \
                --region "$_cmos_region" --health /health --quiet \
                posix "$dir/data" </dev/null >"$dir/versitygw.log" 2>&1 &
            printf '%s' "$!"
        )"
        printf '%s\n' "$pid" >"$dir/versitygw.pid"
        printf '%s\n' "$port" >"$dir/versitygw.port"
        for ((i = 0; i < 100; i++)); do
            _cmos_healthy "$port" && break
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if ! _cmos_healthy "$port"; then
            tail -n 20 "$dir/versitygw.log" >&2 2>/dev/null
            if kill -0 "$pid" 2>/dev/null; then
                kill -TERM "$pid" 2>/dev/null
                _cmos_err "versitygw on 127.0.0.1:$port did not answer within 10s (log: $dir/versitygw.log)"
            else
                _cmos_err "versitygw exited at start (log: $dir/versitygw.log)"
            fi
            rm -f "$dir/versitygw.pid" "$dir/versitygw.port"
            return 1
        fi
    fi

    CM_TEST_OBJECT_STORE_URL="$(_cmos_url "$port")"
    export CM_TEST_OBJECT_STORE_URL
    _cmos_log "versitygw on 127.0.0.1:$port (private, .data/objectstore)"
}

_cmos_stop() {
    local root="$1" dir pid i
    dir="$root/.data/objectstore"
    if pid="$(_cmos_pid "$dir")"; then
        kill -TERM "$pid" 2>/dev/null
        for ((i = 0; i < 100; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            _cmos_err "versitygw (pid $pid) did not stop within 10s"
            return 1
        fi
        _cmos_log "versitygw stopped"
    fi
    rm -f "$dir/versitygw.pid" "$dir/versitygw.port"
    return 0
}

_cmos_status() {
    local root="$1" pid
    if pid="$(_cmos_pid "$root/.data/objectstore")"; then
        echo "objectstore: running (pid $pid, port $(cat "$root/.data/objectstore/versitygw.port" 2>/dev/null))"
    else
        echo "objectstore: stopped"
    fi
}

# Serialise concurrent starts (several shells running `make test` in the
# same tree). Runs "$@" while holding .data/objectstore.lock.
_cmos_locked() {
    local root="$1" _cmos_lock_fd rc
    shift
    local lock="$root/.data/objectstore.lock"
    if ! command -v flock >/dev/null 2>&1 || ! mkdir -p "$root/.data" 2>/dev/null ||
        [[ ! -w "$root/.data" ]] || { [[ -e "$lock" ]] && [[ ! -w "$lock" ]]; }; then
        "$@" # no locking possible; go ahead anyway
        return
    fi
    exec {_cmos_lock_fd}>>"$lock"
    # The first start builds versitygw: allow for it.
    if ! flock -w 600 "$_cmos_lock_fd"; then
        exec {_cmos_lock_fd}>&-
        _cmos_err "timed out waiting for $root/.data/objectstore.lock"
        return 1
    fi
    "$@"
    rc=$?
    exec {_cmos_lock_fd}>&-
    return $rc
}

_cmos_start_or_use() {
    local root="$1"
    if [[ -n "${OBJECT_STORE_URL:-}" ]]; then
        export CM_TEST_OBJECT_STORE_URL="$OBJECT_STORE_URL"
        _cmos_log "object store from OBJECT_STORE_URL (not starting one)"
        return 0
    fi
    _cmos_locked "$root" _cmos_start "$root"
}

_cmos_main() {
    local mode="$1" root
    root="$(_cmos_repo_root)" || { _cmos_err "cannot determine repo root"; return 1; }
    case "$mode" in
    source) _cmos_start_or_use "$root" ;;
    start)
        _cmos_start_or_use "$root" || return 1
        printf 'export CM_TEST_OBJECT_STORE_URL=%q\n' "$CM_TEST_OBJECT_STORE_URL"
        ;;
    stop) _cmos_locked "$root" _cmos_stop "$root" ;;
    status) _cmos_status "$root" ;;
    *)
        echo "usage: source scripts/objectstore.sh | bash scripts/objectstore.sh [start|stop|status]" >&2
        return 2
        ;;
    esac
}

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    # Sourced: save the caller's shell options, work without errexit/
    # nounset/pipefail, restore, clean up, return the status. ($- is needed
    # for errexit: bash clears -e inside $(...).)
    _cmos_saved_flags="$-"
    _cmos_saved_opts="$(set +o)"
    set +e +u +o pipefail
    _cmos_main source
    _cmos_rc=$?
    eval "$_cmos_saved_opts"
    [[ "$_cmos_saved_flags" == *e* ]] && set -e
    unset _cmos_saved_opts _cmos_saved_flags
    unset _cmos_version _cmos_access_key _cmos_secret_key _cmos_bucket _cmos_region
    # shellcheck disable=SC2046
    unset -f $(compgen -A function _cmos_)
    eval "unset _cmos_rc; return $_cmos_rc"
else
    _cmos_main "${1:-start}"
    exit $?
fi
