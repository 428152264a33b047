"""``beleidszoeker`` with the scale benchmark's stand-in embedder registered first.

    .venv/bin/python -m benchmarks.standin_serve data/scale/source.npz \
        serve --index data/scale/index-100000

An index of the synthetic corpus can only be served by the embedder it was built with, and the
stand-in lives in the process that registers it: benchmarks start such a server through this
module, with ``BELEIDSZOEKER_EMBEDDER`` set to the stand-in's name.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or not Path(argv[0]).is_file():
        raise SystemExit(
            "Name the synthetic corpus' source first (data/scale/source.npz, written by "
            "`python -m benchmarks.scale_bench`), then the beleidszoeker command."
        )
    from benchmarks.synthetic import load_source, register_standin

    register_standin(load_source(Path(argv[0])))
    from beleidszoeker.cli import app

    app(argv[1:], prog_name="beleidszoeker")


if __name__ == "__main__":
    main()
