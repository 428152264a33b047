#!/usr/bin/env bash
# Install Beleidszoeker and start it on http://127.0.0.1:8000/ (the first start indexes corpus/).
# Extra arguments go to `beleidszoeker serve`, e.g. scripts/start.sh --port 8080
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
if command -v npm >/dev/null; then
    # htmx and PDF.js for the web UI, served by Beleidszoeker itself (offline networks have
    # no CDN).
    npm ci --prefix web --omit=dev --no-audit --no-fund --loglevel=error
else
    echo "npm not found: the web UI works, but reloads the page on every search" \
        "and shows PDFs as text only." >&2
fi
if ! command -v tesseract >/dev/null || ! tesseract --list-langs 2>&1 | grep -qx nld; then
    # Scanned PDFs need OCR; everything else is indexed without it.
    echo "Tesseract (Dutch) not found: scanned PDFs are skipped. To read them:" \
        "sudo apt-get install tesseract-ocr tesseract-ocr-nld" >&2
fi
exec .venv/bin/beleidszoeker serve "$@"
