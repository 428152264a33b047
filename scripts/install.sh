#!/usr/bin/env bash
# Create .venv and install Beleidszoeker into it. Used by start.sh and test.sh.
#   scripts/install.sh          the product
#   scripts/install.sh test     the product plus everything the tests need
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    echo "Beleidszoeker needs Python 3.11; set PYTHON=/path/to/python3.11" >&2
    exit 1
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip

if [ "${1:-}" = "test" ]; then
    # The CPU build of torch first: asked for by sentence-transformers without a pin,
    # pip would fetch a CUDA build of several GB.
    .venv/bin/pip install --quiet torch==2.13.0
    .venv/bin/pip install --quiet -e '.[test]'
else
    .venv/bin/pip install --quiet -e .
fi
