#!/usr/bin/env bash
# Install Beleidszoeker with its test tools and run every test, browser and slow ones included.
# Extra arguments go to pytest, e.g. scripts/test.sh -m "not slow"
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh test
npm ci --prefix web --no-audit --no-fund --loglevel=error   # htmx, PDF.js, axe-core (a11y tests)
# System packages the tests use for real: Debian's chromium for the browser tests
# (Playwright's own browser download is not used) and Tesseract with its Dutch model for OCR.
APT=()
[ -x /usr/bin/chromium ] || APT+=(chromium chromium-driver)
if ! command -v tesseract >/dev/null || ! tesseract --list-langs 2>&1 | grep -qx nld; then
    APT+=(tesseract-ocr tesseract-ocr-nld)
fi
if [ ${#APT[@]} -gt 0 ]; then
    SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq "${APT[@]}" >/dev/null
fi
exec .venv/bin/python -m pytest "$@"
