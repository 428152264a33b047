#!/usr/bin/env bash
# Install Beleidszoeker with its test tools and run every test, browser and slow ones included.
# Extra arguments go to pytest, e.g. scripts/test.sh -m "not slow"
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh test
npm ci --prefix web --no-audit --no-fund --loglevel=error   # htmx, and axe-core for a11y tests
if [ ! -x /usr/bin/chromium ]; then
    # The browser tests drive Debian's chromium; Playwright's own browser download is not used.
    SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
exec .venv/bin/python -m pytest "$@"
