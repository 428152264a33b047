"""What the promise register costs at index time on the shipped corpus.

Builds the corpus with the register switched on and off (``BELEIDSZOEKER_PROMISE_REGISTER``),
each in a temporary folder:

1. a first index on a cold vector cache of its own (every passage and sentence embedded),
2. forced rebuilds on that warm cache (everything but the embedding), alternating on and off.

The target: the register adds at most 10% to the first index. On a shared machine two cold
runs minutes apart differ by more than that, so the build also times its register step
itself: that share of the same run is the figure to trust.

Run: ``.venv/bin/python -m benchmarks.promise_bench``. Writes ``benchmarks/results/promises.json``
and ``benchmarks/results/promises.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from beleidszoeker.config import Settings  # noqa: E402
from benchmarks.index_bench import machine  # noqa: E402
from indexer.build import build_index  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def build(settings: Settings, force: bool = False) -> dict[str, float | int]:
    report = build_index(settings, force=force)
    return {
        "seconds": round(report.seconds, 3),
        "embed_seconds": round(report.embed_seconds, 3),
        "passages": report.n_chunks,
        "promises": report.n_promises,
        "promise_seconds": round(report.promise_seconds, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--rebuilds", type=int, default=5, help="forced rebuilds per setting")
    args = parser.parse_args()

    runs: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for register in (True, False):
            name = "with register" if register else "without register"
            root = Path(tmp) / name.replace(" ", "-")
            settings = Settings(
                corpus_dir=args.corpus,
                index_dir=root / "index",
                cache_dir=root / "cache",
                promise_register=register,
            )
            print(f"{name}: first index on a cold cache ...", file=sys.stderr)
            runs[name] = {"settings": settings, "cold": build(settings)}
        for name in ("with register", "without register"):
            runs[name]["warm"] = []
        for _ in range(args.rebuilds):
            for name in ("with register", "without register"):
                runs[name]["warm"].append(build(runs[name]["settings"], force=True))

    result = {"machine": machine(), "load_average": os.getloadavg()[0], "runs": {}}
    for name, run in runs.items():
        warm = [r["seconds"] for r in run["warm"]]
        result["runs"][name] = {
            "cold": run["cold"],
            "warm_median_seconds": round(statistics.median(warm), 3),
            "warm_seconds": warm,
        }
    off, on = result["runs"]["without register"], result["runs"]["with register"]
    result["cold_overhead"] = round(on["cold"]["seconds"] / off["cold"]["seconds"] - 1, 4)
    result["warm_overhead_seconds"] = round(
        on["warm_median_seconds"] - off["warm_median_seconds"], 3
    )
    result["cold_register_share"] = round(on["cold"]["promise_seconds"] / on["cold"]["seconds"], 4)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "promises.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "promises.md").write_text(report(result, args.corpus))
    print(report(result, args.corpus))


def report(result: dict, corpus: Path) -> str:
    m = result["machine"]
    off, on = result["runs"]["without register"], result["runs"]["with register"]
    lines = [
        "# Promise register: cost at index time",
        "",
        f"{m['date']} · {m['nproc']} cores ({m['cpu']}) · Python {m['python']} · commit "
        f"{m['commit']} · load average {result['load_average']:.2f} at the end (the machine "
        "is shared, so figures vary).",
        "",
        f"Corpus: {corpus} ({on['cold']['passages']} passages, {on['cold']['promises']} "
        "promises found). Each setting has a vector cache of its own.",
        "",
        "| run | without register (s) | with register (s) | difference |",
        "|---|---:|---:|---:|",
        f"| first index, cold vector cache | {off['cold']['seconds']:.1f} | "
        f"{on['cold']['seconds']:.1f} | {result['cold_overhead']:+.1%} |",
        f"| forced rebuild, warm cache (median of {len(on['warm_seconds'])}) | "
        f"{off['warm_median_seconds']:.2f} | {on['warm_median_seconds']:.2f} | "
        f"{result['warm_overhead_seconds']:+.2f} s |",
        "",
        f"Within the cold first index with the register, the register step itself took "
        f"{on['cold']['promise_seconds']:.2f} s of {on['cold']['seconds']:.1f} s "
        f"({result['cold_register_share']:.2%}); the rest of the difference between the two "
        "cold runs is the machine's load changing between them.",
        "",
        "The register classifies every sentence of every document read anew; unchanged "
        "documents keep their promises, so a re-index after a small change pays only for "
        "the changed documents. Its sentence vectors come from the same cache as the index's "
        "own, so on a cold cache it adds the sentences that passage boundaries cut in two.",
        "",
        "Run `.venv/bin/python -m benchmarks.promise_bench` to measure again.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
