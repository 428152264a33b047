"""Ingest figures: PDF text layer and OCR, embedding throughput, and re-indexing the
shipped corpus.

    .venv/bin/python -m benchmarks.ingest_bench

Writes benchmarks/results/ingest.json and ingest.md. The re-index runs work on copies of
corpus/ and of the warm vector cache (data/cache) in a temporary folder, as a user's
second `beleidszoeker index` would; embedding throughput uses a cold, temporary cache.
The machine is shared, so the load average is recorded next to the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.parse_bench import bench_parse

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
CHANGED_DOC = "vierkant-voor-werk-actieplan.txt"
NEW_PARAGRAPH = (
    "\n\nAanvulling: in het najaar start een proef met leerwerkplekken in de zorg, samen "
    "met de regionale opleidingscentra en de werkgevers in Zuidoost-Drenthe.\n"
)


def _cli_index(corpus: Path, index_dir: Path, cache_dir: Path) -> float:
    """Wall time of `beleidszoeker index` as a user runs it (start-up included)."""
    env = {**os.environ, "BELEIDSZOEKER_CACHE_DIR": str(cache_dir)}
    exe = Path(sys.executable).with_name("beleidszoeker")
    t0 = time.perf_counter()
    subprocess.run(
        [str(exe), "index", "--corpus", str(corpus), "--index", str(index_dir)],
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - t0


def _copy_cache(shared: Path, dest: Path) -> Path:
    """A snapshot of the shared vector cache, so the runs here neither add to it nor
    depend on what an earlier run added (SQLite's backup is safe while others write)."""
    import sqlite3

    dest.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(shared / "vectors.sqlite", timeout=60)
    dst = sqlite3.connect(dest / "vectors.sqlite")
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return dest


def bench_reindex(shared_cache: Path) -> dict[str, object]:
    from beleidszoeker.config import Settings
    from indexer.build import build_index

    with tempfile.TemporaryDirectory() as tmp:
        cache_dir = _copy_cache(shared_cache, Path(tmp) / "cache")
        corpus = Path(tmp) / "corpus"
        shutil.copytree(ROOT / "corpus", corpus)
        index_dir = Path(tmp) / "index"
        settings = Settings(corpus_dir=corpus, index_dir=index_dir, cache_dir=cache_dir)

        first = build_index(settings)
        noop = build_index(settings)
        assert noop.up_to_date
        noop_cli = _cli_index(corpus, index_dir, cache_dir)

        doc = corpus / CHANGED_DOC
        text = doc.read_text(encoding="utf-8")
        middle = text.index("\n\n", len(text) // 2)
        doc.write_text(text[:middle] + NEW_PARAGRAPH + text[middle:], encoding="utf-8")
        changed = build_index(settings)
        assert changed.changed == [CHANGED_DOC], changed.changed

        # Another edit, through the command line (start-up and model load included).
        other = NEW_PARAGRAPH.replace("in de zorg", "in de techniek")
        doc.write_text(text[:middle] + other + text[middle:], encoding="utf-8")
        changed_cli = _cli_index(corpus, index_dir, cache_dir)
    return {
        "documents": len(first.added),
        "chunks": first.n_chunks,
        "first_build_s": round(first.seconds, 2),
        "first_build_embedded": first.n_embedded,
        "noop_reindex_s": round(noop.seconds, 3),
        "noop_reindex_cli_s": round(noop_cli, 2),
        "one_changed_s": round(changed.seconds, 2),
        "one_changed_embedded": changed.n_embedded,
        "one_changed_embed_s": round(changed.embed_seconds, 2),
        "one_changed_cli_s": round(changed_cli, 2),
    }


def bench_embedding(n_chunks: int) -> dict[str, object]:
    """Chunks per second for passages not in the cache (model already loaded)."""
    from beleidszoeker.config import Settings
    from indexer import corpus, loaders
    from indexer.chunking import chunk_document
    from indexer.cleaning import clean
    from indexer.embedders import get_embedder
    from indexer.vector_cache import VectorCache, embed_with_cache

    settings = Settings()
    chunks = []  # the real passages of the shipped corpus, spread over all documents
    for src in corpus.discover(ROOT / "corpus"):
        cleaned = clean(loaders.load(src.path).text)
        chunks += chunk_document(src.doc_id, cleaned, settings.chunk_size, settings.chunk_overlap)
    step = max(1, len(chunks) // n_chunks)
    texts = [c.embed_text() for c in chunks[::step][:n_chunks]]
    with tempfile.TemporaryDirectory() as tmp:
        embedder = get_embedder(settings.embedder)
        embedder.embed_query("opwarmen")  # load the model outside the timing
        cache = VectorCache(Path(tmp) / "cold" / "vectors.sqlite")
        try:
            t0 = time.perf_counter()
            _, n = embed_with_cache(embedder, texts, cache, settings.embed_batch_size)
            seconds = time.perf_counter() - t0
        finally:
            cache.close()
    return {
        "embedder": embedder.name,
        "chunks": n,
        "mean_chars": round(sum(map(len, texts)) / len(texts)),
        "batch_size": settings.embed_batch_size,
        "seconds": round(seconds, 2),
        "chunks_per_s": round(n / seconds, 2),
    }


def bench_ocr(n_pages: int) -> dict[str, object]:
    """Scanned pages per second through the PDF loader with Tesseract (cold OCR cache),
    and again with the cache warm (a re-index of the same file)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from document_factory import SCAN_PAGES, write_scan_pdf

    from indexer.loaders.pdf import load_pdf
    from indexer.ocr import Ocr

    ocr = Ocr(Path(tempfile.mkdtemp()) / "ocr")
    if ocr.unavailable():
        return {"missing": ocr.unavailable()}
    with tempfile.TemporaryDirectory() as tmp:
        pages = [SCAN_PAGES[i % len(SCAN_PAGES)] for i in range(n_pages)]
        scan = write_scan_pdf(Path(tmp) / "scan.pdf", pages)
        t0 = time.perf_counter()
        load_pdf(scan, ocr)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        load_pdf(scan, ocr)
        warm = time.perf_counter() - t0
    shutil.rmtree(ocr.cache_dir.parent, ignore_errors=True)
    return {
        "pages": n_pages,
        "lang": ocr.lang,
        "dpi": ocr.dpi,
        "seconds": round(cold, 2),
        "pages_per_s": round(n_pages / cold, 3),
        "cached_pages_per_s": round(n_pages / warm, 1),
    }


def write_markdown(results: dict[str, object], path: Path) -> None:
    p, r, e = results["parse"], results["reindex"], results["embedding"]
    o = results["ocr"]
    ocr_rows = (
        [f"| OCR, scanned pages | not measured: {o['missing']} |"]
        if "missing" in o
        else [
            f"| OCR, scanned pages (Tesseract {o['lang']}, {o['dpi']} dpi, cold cache) | "
            f"**{o['pages_per_s']} pages/s** ({o['pages']} A4 pages in {o['seconds']} s) |",
            f"| OCR, same file again (cache by file hash) | {o['cached_pages_per_s']} pages/s |",
        ]
    )
    lines = [
        "# Ingest benchmarks",
        "",
        f"Measured {results['measured_at']} on {results['cpus']} CPU cores shared with other "
        f"work (load average {results['load_before']} before, {results['load_after']} after). "
        "Re-run: `.venv/bin/python -m benchmarks.ingest_bench`.",
        "",
        "| figure | value |",
        "| --- | --- |",
        f"| PDF text layer (loader: pypdfium2, reading order, word positions) | "
        f"**{p['load_pages_per_s']} pages/s** "
        f"({p['pages']} pages in {p['documents']} generated PDFs) |",
        *ocr_rows,
        f"| PDF parsing + cleaning + chunking | {p['load_clean_chunk_pages_per_s']} pages/s |",
        f"| Embedding, cold cache | **{e['chunks_per_s']} chunks/s** ({e['chunks']} chunks of "
        f"~{e['mean_chars']} chars, {e['embedder']}, batch {e['batch_size']}) |",
        f"| Re-index, nothing changed (in process) | **{r['noop_reindex_s']} s** |",
        f"| Re-index, nothing changed (`beleidszoeker index`, start-up included) | "
        f"**{r['noop_reindex_cli_s']} s** (target <= 5 s) |",
        f"| Re-index, one document changed (in process) | **{r['one_changed_s']} s** "
        f"({r['one_changed_embedded']} passage(s) embedded in {r['one_changed_embed_s']} s, "
        "model load included) |",
        f"| Re-index, one document changed (`beleidszoeker index`) | {r['one_changed_cli_s']} s |",
        f"| First build, shared warm cache | {r['first_build_s']} s "
        f"({r['documents']} documents, {r['chunks']} passages, "
        f"{r['first_build_embedded']} embedded) |",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdf-docs", type=int, default=20)
    parser.add_argument("--pdf-pages", type=int, default=15)
    parser.add_argument("--embed-chunks", type=int, default=60)
    parser.add_argument("--ocr-pages", type=int, default=6)
    parser.add_argument("--cache", type=Path, default=ROOT / "data" / "cache")
    args = parser.parse_args()

    load_before = [round(x, 2) for x in os.getloadavg()]
    results: dict[str, object] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_before": load_before,
        "parse": bench_parse(args.pdf_docs, args.pdf_pages),
        "ocr": bench_ocr(args.ocr_pages),
        "reindex": bench_reindex(args.cache),
        "embedding": bench_embedding(args.embed_chunks),
    }
    results["load_after"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ingest.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    write_markdown(results, RESULTS / "ingest.md")
    print((RESULTS / "ingest.md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
