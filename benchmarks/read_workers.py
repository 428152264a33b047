"""A whole build's per-passage Python stages with one process and with a pool of workers.

Reads, cleans and chunks every document of the scale benchmark's synthetic corpus of N
passages (``benchmarks/scale_bench.py`` writes it), splits the passages into sentences and
tokenises them for the word tables, as ``build_index`` does, once per worker count asked
for (in turn, repeated, so a shared machine's load falls on each alike). Reports the wall
time and the CPU seconds of this process and of its workers per stage, and the load.

Run: ``nice .venv/bin/python -m benchmarks.read_workers --passages 100000 --workers 1 2``
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _cpu() -> tuple[float, float]:
    t = os.times()
    return t.user + t.system, t.children_user + t.children_system


def measure(work: Path, n: int, workers: int) -> dict:
    """Wall and CPU seconds of each stage with ``workers`` processes."""
    from benchmarks.scale_bench import _settings
    from indexer import corpus
    from indexer.build import Progress, _sentences
    from indexer.columns import ChunkTable
    from indexer.file_hashes import FileHashes
    from indexer.reading import LocalRunner, ReadTask
    from indexer.word_tables import WordTable

    settings = _settings(work, n).with_overrides(index_workers=workers)
    files = corpus.discover(settings.corpus_dir, FileHashes(Path(os.devnull), trust=False))
    meta = corpus.read_manifest(settings.corpus_dir)
    tasks = [ReadTask(f, meta.get(f.relpath, {})) for f in files if f.problem is None]
    out: dict = {"workers": workers, "documents": len(tasks), "load": os.getloadavg()[0]}

    def timed(stage: str, fn):
        t, (own, children) = time.perf_counter(), _cpu()
        result = fn()
        own2, children2 = _cpu()
        out[stage] = {
            "wall_s": round(time.perf_counter() - t, 2),
            "cpu_main_s": round(own2 - own, 2),
            "cpu_workers_s": round(children2 - children, 2),
        }
        return result

    runner = LocalRunner()
    results = timed("read", lambda: dict(runner.read_documents(tasks, settings, None, Progress())))
    chunks = [c for r in results.values() if r.document for c in r.chunks]
    ids = list(dict.fromkeys(c.document_id for c in chunks))
    del results
    scratch = work / f"read-workers-{os.getpid()}"
    ChunkTable.write(scratch, chunks, ids)  # as a whole build reads them: from its columns
    table = ChunkTable(scratch, ids)
    del chunks
    try:
        rows, spans, _ = timed("split", lambda: _sentences(table, workers))
        timed("tokenise", lambda: WordTable.build(table, ids, rows, spans, workers))
    finally:
        for f in scratch.iterdir():
            f.unlink()
        scratch.rmdir()
    out["passages"], out["sentences"] = len(table), len(rows)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--work", type=Path, default=ROOT / "data" / "scale")
    args = parser.parse_args(argv)
    for _ in range(args.repeat):
        for w in args.workers:
            print(json.dumps(measure(args.work.resolve(), args.passages, w)), flush=True)


if __name__ == "__main__":
    main()
