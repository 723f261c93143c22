# shellcheck shell=bash
# Sourced by `make test`: installs the real GraphQL clients the end-to-end
# tests drive, each folder pinned by its package-lock.json: e2e/ (graphql-ws,
# graphql-http) and clients/ (Apollo Client, urql, graphql-ws). Installs
# Node.js from the distribution when it is missing; graphql-ws 6 needs
# Node >= 20.
_cm_node() {
    local root
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
    if ! command -v npm >/dev/null 2>&1; then
        echo "node: installing nodejs and npm with apt-get (one-time)..." >&2
        local sudo=()
        [[ "$(id -u)" == 0 ]] || sudo=(sudo)
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
            "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null || return 1
    fi
    local dir
    # e2e/ and clients/: the real GraphQL clients; graphiql/: the explorer's
    # build and its headless-Chromium check (playwright-core, which never
    # downloads a browser).
    for dir in "$root/e2e" "$root/clients" "$root/graphiql"; do
        # npm ci is skipped when the installed tree matches the lock file.
        if [[ ! -f "$dir/node_modules/.package-lock.json" ]] || ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.cm-lock"; then
            (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || return 1
            cp "$dir/package-lock.json" "$dir/node_modules/.cm-lock"
        fi
    done
    echo "node: $(node --version), e2e/, clients/ and graphiql/ installed" >&2
}
_cm_node
_cm_node_status=$?
unset -f _cm_node
return $_cm_node_status 2>/dev/null || exit $_cm_node_status
