#!/usr/bin/env bash
# Make sure PostgreSQL server binaries (initdb, pg_ctl) exist for the test suite.
#
# tests/support/postgres.py starts a throwaway server per test session and only needs the
# binaries, not a running service. If initdb is already in PATH or /usr/lib/postgresql/*/bin
# this does nothing, so it is safe to run on every CI job; otherwise it installs the
# distribution's postgresql package non-interactively (Debian/Ubuntu, apt-get).
set -euo pipefail

find_initdb() {
    if command -v initdb >/dev/null 2>&1; then
        command -v initdb
        return 0
    fi
    local candidate
    for candidate in /usr/lib/postgresql/*/bin/initdb; do
        if [ -x "$candidate" ]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

fail() {
    echo "install-postgres: $*" >&2
    exit 1
}

if existing=$(find_initdb); then
    echo "install-postgres: found $existing, nothing to do"
    exit 0
fi

command -v apt-get >/dev/null 2>&1 \
    || fail "initdb not found and apt-get is unavailable; install the PostgreSQL server (15) by hand"

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || fail "must run as root (or with sudo available) to install postgresql"
    sudo=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update || fail "apt-get update failed"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql \
    || fail "apt-get install postgresql failed"

installed=$(find_initdb) || fail "postgresql was installed but initdb is still not found"
echo "install-postgres: installed, using $installed"
