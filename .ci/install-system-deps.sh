#!/usr/bin/env bash
# System packages the test suite needs: PostgreSQL server binaries (a throwaway server per
# test session), installed only when missing. No font: the Chinese font for chart labels comes
# with the Python install (noto-cjk-sans-otc), as it does for `make run`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/install-postgres.sh"
