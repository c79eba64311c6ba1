#!/usr/bin/env bash
# System packages the test suite needs, each installed only when missing: PostgreSQL server
# binaries (a throwaway server per test session) and headless Chromium (documents rendered at
# phone width). No font: the Chinese font for charts and documents comes with the Python
# install (noto-cjk-sans-otc), as it does for `make run`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/install-postgres.sh"
bash "$here/install-chromium.sh"
