# shellcheck shell=bash
# Sourced by `make test`: installs Debian's chromium when it is missing, for
# the headless check of the GraphiQL page (internal/app/apitest/graphiql_test.go). Nothing else
# may download a browser.
_cm_chromium() {
    if [[ -x /usr/bin/chromium ]]; then
        return 0
    fi
    echo "chromium: installing Debian's chromium with apt-get (one-time)..." >&2
    local sudo=()
    [[ "$(id -u)" == 0 ]] || sudo=(sudo)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
}
_cm_chromium
_cm_chromium_status=$?
unset -f _cm_chromium
return $_cm_chromium_status 2>/dev/null || exit $_cm_chromium_status
