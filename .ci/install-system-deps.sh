#!/usr/bin/env bash
# System packages the test suite needs: PostgreSQL server binaries (a throwaway server per
# test session) and a Chinese font for chart labels. Each is installed only when missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/install-postgres.sh"

if command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh 2>/dev/null | head -1)" ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-system-deps: no Chinese font and no apt-get; charts will use English labels" >&2
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y --no-install-recommends fonts-wqy-microhei >/dev/null 2>&1 || {
    $SUDO apt-get update >/dev/null && $SUDO apt-get install -y --no-install-recommends fonts-wqy-microhei >/dev/null
} || { echo "install-system-deps: could not install fonts-wqy-microhei" >&2; exit 1; }
