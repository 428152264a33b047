"""Where adding one document to a built scale index spends its time, stage by stage.

Adds ``synthetic.extra_document`` to ``data/scale/index-N`` (as ``scale_bench``'s add step
does) under cProfile, prints the cumulative time of every stage of ``build_index`` on the
add path and the time to load the new build, then removes the document again with a
second run (so the index is left as it was, with one more masked segment entry folded
away by the next full build).

Run after ``scale_bench`` has built ``data/scale/index-N``:
``.venv/bin/python -m benchmarks.add_profile --passages 100000 [--top 30] [--merge]``;
``--merge`` makes the build merge every segment's words as it did before the patched
publish, to compare the two in the same conditions.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import time
from pathlib import Path

from benchmarks.scale_bench import WORK, _settings, _source_path

# (stage, the functions whose cumulative time it is): file and function name as pstats keys.
STAGES = [
    ("corpus scan and hashing", [("corpus.py", "discover")]),
    ("corpus manifest read", [("corpus.py", "read_manifest")]),
    ("corpus fingerprint", [("corpus.py", "corpus_fingerprint")]),
    ("loading and verifying the previous build", [("build.py", "_previous")]),
    ("  checksums verified", [("store.py", "verify_build")]),
    ("  FAISS indexes read", [("swigfaiss.py", "read_index")]),
    ("reading the new document", [("reading.py", "read_documents")]),
    ("embedding look-ups (vector cache)", [("vector_cache.py", "embed_with_cache")]),
    ("word table of the new segment", [("word_tables.py", "build")]),
    ("word-table merge, in all", [("word_tables.py", "merge")]),
    ("  splitting every distinct word", [("word_tables.py", "_word_terms")]),
    ("  bm25s scores", [("word_tables.py", "_bm25")]),
    ("  sentence terms", [("word_tables.py", "_sentence_terms")]),
    ("words appended as a part (an add)", [("word_tails.py", "append")]),
    ("  new words' terms", [("word_patch.py", "words_after")]),
    ("parts folded for a whole publish", [("word_tails.py", "whole_previous")]),
    ("keyword statistics patched, in all", [("word_patch.py", "patch")]),
    ("  which rows stay (segment masks)", [("word_patch.py", "change")]),
    ("  old words' terms compared", [("word_patch.py", "_same_terms")]),
    ("  sentence key words patched", [("word_patch.py", "_patch_sentence_terms")]),
    ("promise register", [("build.py", "_promise_register")]),
    ("writing the build, in all", [("store.py", "write_index")]),
    ("  the new segment's files", [("store.py", "_write_segment")]),
    ("  linking kept segments", [("store.py", "_link_segment")]),
    ("  keyword index saved", [("keyword.py", "save")]),
    ("  sentence terms saved", [("sentence_terms.py", "save")]),
    ("  checksums of files", [("store.py", "_file_sum")]),
    ("  pruning old builds", [("store.py", "_prune")]),
]


def _cumulative(stats: pstats.Stats, keys: list[tuple[str, str]]) -> float:
    total = 0.0
    for (file, _line, name), row in stats.stats.items():  # type: ignore[attr-defined]
        if any(file.endswith(f) and name == n for f, n in keys):
            total += row[3]  # cumulative time (recursion counted once by pstats)
    return total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--top", type=int, default=0, help="also print cProfile's top functions")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="merge every segment's words as before the patched publish (to compare)",
    )
    args = parser.parse_args(argv)

    from benchmarks.synthetic import extra_document, load_source, register_standin
    from indexer.build import build_index
    from indexer.store import load_index

    work = args.work.resolve()
    if args.merge:
        import indexer.build

        indexer.build._patched = lambda *_: None  # the build then merges, as it used to
    source = load_source(_source_path(work))
    register_standin(source)
    settings = _settings(work, args.passages)
    path = extra_document(settings.corpus_dir, source)
    profiler = cProfile.Profile()
    try:
        t, cpu = time.perf_counter(), time.process_time()
        profiler.enable()
        report = build_index(settings)
        profiler.disable()
        total, cpu = time.perf_counter() - t, time.process_time() - cpu
        t = time.perf_counter()
        load_index(settings.index_dir, settings.embedder)
        load_s = time.perf_counter() - t
    finally:
        path.unlink()
        shutil.rmtree(path.parent, ignore_errors=True)
    stats = pstats.Stats(profiler)
    print(
        f"add one document at {report.n_chunks:,} passages: {total:.2f} s under cProfile "
        f"({cpu:.2f} s of CPU; load average {os.getloadavg()[0]:.1f})"
    )
    print(f"(report.seconds {report.seconds:.2f}, added {report.added})")
    for stage, keys in STAGES:
        print(f"{stage:<45} {_cumulative(stats, keys):7.2f} s")
    print(f"{'loading the new build (a server picking it up)':<45} {load_s:7.2f} s")
    if args.top:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.top)
        print(out.getvalue())
    t = time.perf_counter()
    build_index(settings)  # the document removed again: the index serves N documents
    print(f"(removing it again: {time.perf_counter() - t:.2f} s)")


if __name__ == "__main__":
    main()
