"""Where a question's time goes on a built scale index, in process.

Searches and answers the evaluation questions exactly as ``scale_bench``'s serve step does
(stand-in question vectors looked up, not embedded), once to warm up and then timed, and
optionally under cProfile. Prints search and ask p50/p95 and, with ``--profile``, the
functions with the most cumulative and own time.

Run after ``scale_bench`` has built ``data/scale/index-N``:
``.venv/bin/python -m benchmarks.query_profile --passages 100000 [--profile]``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import time
from pathlib import Path

import numpy as np

from benchmarks.scale_bench import WORK, _rss_mb, _settings, _source_path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2, help="timed passes over the questions")
    parser.add_argument(
        "--breakdown", action="store_true", help="resident memory per mapped file and per cache"
    )
    parser.add_argument(
        "--dump", type=Path, help="write every search's hits and answer here (to compare)"
    )
    args = parser.parse_args(argv)

    from benchmarks.synthetic import load_source, register_standin
    from search_api.answer import answer_question
    from search_api.engine import get_searcher

    source = load_source(_source_path(args.work.resolve()))
    register_standin(source)
    questions = list(source.queries)
    t = time.perf_counter()
    searcher = get_searcher(_settings(args.work.resolve(), args.passages))
    searcher.search(questions[0], 10, "hybrid")
    start_s = time.perf_counter() - t
    dumped = {}
    for q in questions:  # warm: the pages a question reads, the lazily loaded models
        answer = answer_question(searcher, q)
        if args.dump:
            hits = searcher.search(q, 10, "hybrid")
            dumped[q] = {
                "search": [[h.chunk.id, h.score, h.fused_rank] for h in hits],
                "ask": answer.model_dump(mode="json", exclude={"took_ms"}),
            }
    if args.dump:
        args.dump.write_text(json.dumps(dumped, indent=1, ensure_ascii=False), encoding="utf-8")

    profiler = cProfile.Profile() if args.profile else None
    search, ask = [], []
    for _ in range(args.rounds):
        for q in questions:
            t = time.perf_counter()
            if profiler:
                profiler.enable()
            searcher.search(q, 10, "hybrid")
            if profiler:
                profiler.disable()
            search.append((time.perf_counter() - t) * 1000)
        for q in questions:
            t = time.perf_counter()
            if profiler:
                profiler.enable()
            answer_question(searcher, q)
            if profiler:
                profiler.disable()
            ask.append((time.perf_counter() - t) * 1000)
    result = {
        "passages": searcher.store.n_passages,
        "questions": len(questions),
        "load_s": round(start_s, 2),
        "search_p50_p95_ms": [round(float(np.percentile(search, p)), 1) for p in (50, 95)],
        "ask_p50_p95_ms": [round(float(np.percentile(ask, p)), 1) for p in (50, 95)],
        "memory": _rss_mb(),
    }
    if args.breakdown:
        result["breakdown"] = _breakdown(searcher)
    if profiler:
        for key in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(args.top)
            print(out.getvalue())
    print(json.dumps(result))


def _breakdown(searcher) -> dict:
    """Resident memory per mapped file (MB), the IVF codes, then what emptying each cache
    frees (this empties them: run it last)."""
    from benchmarks.memory_breakdown import by_cache, by_mapping, ivf_codes_mb, search_caches

    anon, files = by_mapping()
    return {
        "anon_mb": round(anon, 1),
        "files_mb": {path: round(mb, 1) for path, mb in files},
        "ivf_codes_mb": dict(ivf_codes_mb(searcher)),
        "caches_mb": dict(by_cache(search_caches(searcher))),
        "after_emptying": _rss_mb(),
    }


if __name__ == "__main__":
    main()
