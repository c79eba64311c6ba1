#!/usr/bin/env bash
# Make sure headless Chromium exists for the document tests (tests/support/browser.py renders
# each plan and report at phone width). Does nothing when a `chromium` binary is already on
# PATH; otherwise installs Debian's chromium package non-interactively (apt-get). No fonts:
# the documents carry their own (Noto Sans CJK from the noto-cjk-sans-otc Python package).
set -euo pipefail

fail() {
    echo "install-chromium: $*" >&2
    exit 1
}

for candidate in chromium chromium-browser; do
    if command -v "$candidate" >/dev/null 2>&1; then
        echo "install-chromium: found $(command -v "$candidate"), nothing to do"
        exit 0
    fi
done

command -v apt-get >/dev/null 2>&1 \
    || fail "chromium not found and apt-get is unavailable; install Chromium by hand"

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || fail "must run as root (or with sudo available) to install chromium"
    sudo=(sudo)
fi

"${sudo[@]}" apt-get update || fail "apt-get update failed"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium \
    || fail "apt-get install chromium failed"

command -v chromium >/dev/null 2>&1 || fail "chromium was installed but is still not on PATH"
echo "install-chromium: installed $(command -v chromium)"
