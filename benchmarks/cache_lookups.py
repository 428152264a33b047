"""A whole build's vector-cache look-ups alone: every passage and sentence of a built
scale index looked up again in its vector cache, into fresh mapped files.

The build's own code (``embed_with_cache`` over the passage table and the sentence places
the index stores), with nothing to embed: what ``build_profile`` books under "vector cache
look-ups", without the stages around it. Prints wall and CPU seconds (this process's
threads) and the SHA-256 of the two files written, so two versions of the code can be
compared for time and for bytes.

Run after ``build_profile`` (or ``scale_bench``) has built the index:
``nice .venv/bin/python -m benchmarks.cache_lookups --passages 100000 --work data/scale``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def look_up(n: int, work: Path) -> dict:
    """Wall and CPU seconds of the look-ups of every text of index ``n``, and the digests."""
    from benchmarks.scale_bench import _settings, _source_path
    from benchmarks.synthetic import load_source, register_standin
    from indexer.build import _EmbedTexts, _SentenceTexts
    from indexer.columns import CHUNKS, ChunkTable
    from indexer.embedders import get_embedder
    from indexer.store import mapped_array
    from indexer.vector_cache import VectorCache, embed_with_cache

    register_standin(load_source(_source_path(work)))
    settings = _settings(work, n)
    index = settings.index_dir.resolve()
    documents = [d["id"] for d in json.loads((index / "documents.json").read_text("utf-8"))]
    chunks = ChunkTable(index / CHUNKS, documents)
    rows, spans = np.load(index / "sentence_rows.npy"), np.load(index / "sentence_spans.npy")
    embedder = get_embedder(settings.embedder)
    cache = VectorCache(settings.cache_dir / "vectors.sqlite")
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        out = Path(tmp)
        t, cpu = time.perf_counter(), os.times()
        _, new_passages = embed_with_cache(
            embedder, _EmbedTexts(chunks), cache,
            out=mapped_array(out, "vectors.npy", (len(chunks), embedder.dim)),
        )  # fmt: skip
        _, new_sentences = embed_with_cache(
            embedder, _SentenceTexts(chunks, rows, spans), cache,
            out=mapped_array(out, "sentence_vectors.npy", (len(rows), embedder.dim)),
        )  # fmt: skip
        wall, done = time.perf_counter() - t, os.times()
        digests = {
            name: hashlib.sha256((out / name).read_bytes()).hexdigest()
            for name in ("vectors.npy", "sentence_vectors.npy")
        }
    cache.close()
    return {
        "passages": len(chunks),
        "sentences": len(rows),
        "embedded": new_passages + new_sentences,
        "seconds": round(wall, 2),
        "cpu_s": round(done.user + done.system - cpu.user - cpu.system, 2),
        "load": round(os.getloadavg()[0], 1),
        "sha256": digests,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=ROOT / "data" / "scale")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    for _ in range(args.repeat):
        print(json.dumps(look_up(args.passages, args.work.resolve())), flush=True)


if __name__ == "__main__":
    main()
