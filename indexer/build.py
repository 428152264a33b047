"""Build the index: discover, load, clean, chunk, embed (cached), write atomically."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from beleidszoeker.config import Settings
from beleidszoeker.errors import BeleidszoekerError, EmptyCorpusError, IndexDamagedError
from indexer import corpus, loaders
from indexer import vectors as ann
from indexer.chunking import chunk_document
from indexer.cleaning import CleanText, clean
from indexer.embedders import get_embedder
from indexer.keyword import STEMMER, KeywordIndex
from indexer.ocr import Ocr
from indexer.offsets import OffsetRuns
from indexer.schema import Chunk, Document
from indexer.sentence_terms import build_sentence_terms
from indexer.sentences import split_sentences
from indexer.store import (
    FORMAT_VERSION,
    MANIFEST,
    IndexData,
    SentenceVectors,
    builds_dir,
    load_index,
    read_manifest,
    remove_abandoned,
    write_index,
)
from indexer.vector_cache import VectorCache, embed_with_cache
from indexer.words import WordBoxes

# Bump when cleaning, section detection, chunking or the keyword index change their output,
# so `beleidszoeker index` rebuilds instead of calling an index built by older code current.
PIPELINE_VERSION = 7  # 7: PDFs read in reading order by pypdfium2, word positions kept

PDF_READER = "pypdfium2+xycut"


@dataclass
class BuildReport:
    index_path: Path | None = None
    up_to_date: bool = False
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    kept: list[str] = field(default_factory=list)  # changed but unreadable: old version kept
    notes: list[tuple[str, str]] = field(default_factory=list)
    repaired: str | None = None  # why the live build could not be trusted and was rebuilt
    n_chunks: int = 0
    n_embedded: int = 0  # passages embedded anew (not found in the vector cache)
    n_sentences_embedded: int = 0
    n_cache_invalid: int = 0  # cached vectors refused (NaN, wrong size) and embedded again
    seconds: float = 0.0
    embed_seconds: float = 0.0


class Progress:
    """What a long build reports; the CLI shows it as a progress bar."""

    def start(self, task: str, total: int) -> None: ...

    def advance(self, n: int) -> None: ...

    def message(self, text: str) -> None: ...

    def step(self, task: str, done: int, total: int) -> None:
        """A second bar beside the current one (pages of one document being read)."""


def build_index(
    settings: Settings, progress: Progress | None = None, force: bool = False
) -> BuildReport:
    """Index ``settings.corpus_dir`` into ``settings.index_dir``.

    A file that cannot be read is skipped with its reason; the others are still indexed.
    When no file can be indexed at all, the existing index is left as it was.
    """
    progress = progress or Progress()
    t0 = time.perf_counter()
    report = BuildReport()
    # Also when nothing changed: a run killed after its swap left its folder behind.
    remove_abandoned(builds_dir(settings.index_dir))
    files = corpus.discover(settings.corpus_dir)
    manifest_meta = corpus.read_manifest(settings.corpus_dir)
    fingerprint = corpus.corpus_fingerprint(files, manifest_meta)
    chunking = {
        "size": settings.chunk_size,
        "overlap": settings.chunk_overlap,
        "pipeline": PIPELINE_VERSION,
    }

    ocr = _ocr(settings, progress)
    reading = {"pdf": PDF_READER, "ocr": _ocr_state(ocr)}
    previous = _previous(settings, chunking, reading, report)
    if (
        previous is not None
        and not force
        and previous.manifest.get("corpus_fingerprint") == fingerprint
        # Other ANN settings rebuild the vector indexes (from the cache: no embedding).
        and previous.manifest.get("ann") == settings.ann.model_dump()
    ):
        report.up_to_date = True
        report.index_path = previous.path
        report.unchanged = sorted(previous.documents)
        report.skipped = [tuple(s) for s in previous.manifest.get("skipped", [])]
        report.n_chunks = len(previous.chunks)
        report.seconds = time.perf_counter() - t0
        return report

    if not files:
        raise EmptyCorpusError(settings.corpus_dir)

    documents: dict[str, Document] = {}
    texts: dict[str, CleanText] = {}
    words: dict[str, WordBoxes] = {}
    chunks: list[Chunk] = []
    old_by_path = {d.path: d for d in previous.documents.values()} if previous else {}
    old_chunks: dict[str, list[Chunk]] = {}
    if previous:
        for c in previous.chunks:
            old_chunks.setdefault(c.document_id, []).append(c)

    def skip(src: corpus.SourceFile, old: Document | None, reason: str) -> None:
        """Skip a file; if an earlier version of it is indexed, keep that one.

        A document that changed and can no longer be read should not vanish from search:
        the user sees the reason and still finds the last good version.
        """
        changed = old is not None and old.id == src.doc_id and old.sha256 != src.sha256
        if changed and previous is not None:
            documents[old.id] = old  # its old sha256 makes the next run try again
            texts[old.id] = previous.clean_text(old.id)
            _keep_words(words, previous, old.id)
            chunks.extend(old_chunks.get(old.id, []))
            report.kept.append(src.relpath)
            reason += "; the previously indexed version is kept"
        report.skipped.append((src.relpath, reason))

    max_bytes = settings.max_file_mb * 1024 * 1024
    progress.start("Documenten lezen", len(files))
    for src in files:
        progress.advance(1)
        old = old_by_path.get(src.relpath)
        meta = manifest_meta.get(src.relpath, {})
        if src.problem is not None:
            skip(src, None, src.problem)  # never kept: the old version may be the leak
            continue
        if src.size > max_bytes:
            skip(
                src,
                old,
                f"larger than {settings.max_file_mb:g} MB "
                "(raise BELEIDSZOEKER_MAX_FILE_MB to include it)",
            )
            continue
        if old is not None and old.sha256 == src.sha256 and old.id == src.doc_id:
            doc = _document(src, meta, old.title if not meta.get("title") else None, old)
            documents[doc.id] = doc
            texts[doc.id] = previous.clean_text(doc.id)
            _keep_words(words, previous, doc.id)
            chunks.extend(old_chunks.get(doc.id, []))
            report.unchanged.append(src.relpath)
            continue
        try:
            extracted = loaders.load(src.path, ocr)
            cleaned = clean(extracted.text)
            if not cleaned.text.strip():
                skip(src, old, "no text found after cleaning")
                continue
            page_starts = _clean_page_starts(cleaned, extracted.page_starts)
            doc_chunks = chunk_document(
                src.doc_id, cleaned, settings.chunk_size, settings.chunk_overlap, page_starts
            )
            doc = _document(src, meta, extracted.title, None, extracted.year)
        except loaders.LoaderError as exc:
            skip(src, old, str(exc))
            continue
        except PermissionError as exc:
            skip(src, old, f"cannot be read ({exc.strerror}): give the indexing user read access")
            continue
        except Exception as exc:  # a bug on one odd file must not stop the others
            skip(src, old, f"could not be read ({type(exc).__name__}: {exc}); please report it")
            continue
        report.notes.extend((src.relpath, n) for n in extracted.notes)
        doc.n_chars = len(cleaned.text)
        doc.n_chunks = len(doc_chunks)
        doc.n_pages = len(extracted.page_starts) + 1 if extracted.page_starts is not None else None
        documents[doc.id] = doc
        # Kept until the build is written: as runs, not 8 bytes per character.
        texts[doc.id] = CleanText(cleaned.text, OffsetRuns.from_array(cleaned.offsets))
        if extracted.words is not None:
            words[doc.id] = extracted.words
        chunks.extend(doc_chunks)
        (report.changed if old is not None else report.added).append(src.relpath)

    current = {f.relpath for f in files}
    report.removed = sorted(p for p in old_by_path if p not in current)
    if not documents:
        reasons = "; ".join(f"{p}: {r}" for p, r in report.skipped) or "no readable files"
        raise BeleidszoekerError(
            f"No document in {settings.corpus_dir} could be indexed ({reasons}). "
            "The existing index, if any, is unchanged."
        )

    embedder = get_embedder(settings.embedder)
    cache = VectorCache(settings.cache_dir / "vectors.sqlite")
    t_embed = time.perf_counter()
    progress.start("Passages embedden", len(chunks))
    try:
        vectors, report.n_embedded = embed_with_cache(
            embedder,
            [c.embed_text() for c in chunks],
            cache,
            settings.embed_batch_size,
            progress.advance,
        )
        rows, spans, sentence_texts = _sentences(chunks)
        progress.start("Zinnen embedden", len(sentence_texts))
        sentence_vectors, report.n_sentences_embedded = embed_with_cache(
            embedder, sentence_texts, cache, settings.embed_batch_size, progress.advance
        )
    finally:
        report.n_cache_invalid = cache.n_invalid
        cache.close()
    report.embed_seconds = time.perf_counter() - t_embed
    sentences = SentenceVectors(rows, spans, sentence_vectors)

    progress.message("Trefwoordenindex bouwen")
    keyword = KeywordIndex.build([c.embed_text() for c in chunks])
    progress.message("Trefwoorden per zin opslaan")
    # Here, once, rather than at every server start: see indexer/sentence_terms.py.
    terms = build_sentence_terms(chunks, documents, keyword.decompounder, rows, spans)
    manifest = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "embedder": {
            "spec": settings.embedder,
            "name": embedder.name,
            "dim": int(vectors.shape[1]),
        },
        "chunking": chunking,
        "reading": reading,
        "keyword": {"stemmer": STEMMER, "stopwords": "nl"},
        # The ranking in force when the index was built (`eval` reports the one it used).
        "ranking": settings.ranking.model_dump(),
        "corpus_dir": str(settings.corpus_dir),
        "corpus_fingerprint": fingerprint,
        "n_documents": len(documents),
        "n_chunks": len(chunks),
        "n_sentences": len(sentence_texts),
        "skipped": report.skipped,
        # How the vectors are indexed: the settings, and what they gave at this size.
        "ann": settings.ann.model_dump(),
        "vectors": {
            "passages": ann.spec_for(len(chunks), settings.ann),
            "sentences": ann.spec_for(len(sentence_texts), settings.ann),
        },
    }
    data = IndexData(
        manifest, documents, chunks, np.asarray(vectors, np.float32), keyword, sentences, terms
    )
    report.index_path = write_index(settings.index_dir, data, texts, words)
    report.n_chunks = len(chunks)
    report.seconds = time.perf_counter() - t0
    return report


def _sentences(chunks: list[Chunk]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Passage row, offsets and text of every sentence of every passage."""
    rows: list[int] = []
    spans: list[tuple[int, int]] = []
    texts: list[str] = []
    for row, chunk in enumerate(chunks):
        for sentence in split_sentences(chunk.text):
            rows.append(row)
            spans.append((sentence.start, sentence.end))
            texts.append(sentence.text)
    return (
        np.asarray(rows, dtype=np.int32),
        np.asarray(spans, dtype=np.int32).reshape(-1, 2),
        texts,
    )


def _previous(
    settings: Settings,
    chunking: dict[str, int],
    reading: dict[str, str | None],
    report: BuildReport,
) -> IndexData | None:
    """The current index, if it can be reused (same format, embedder, chunking and way of
    reading PDFs: turning OCR on, or installing Tesseract, reads the scans again).

    A damaged build is never reused, not even its unchanged documents: everything is read
    again from the corpus, and the vector cache spares the embedding.
    """
    manifest = read_manifest(settings.index_dir)
    if manifest is None and settings.index_dir.resolve().is_dir():
        report.repaired = f"the build in {settings.index_dir} has no readable {MANIFEST}"
        return None
    if (
        manifest is None
        or manifest.get("format_version") != FORMAT_VERSION
        or manifest.get("embedder", {}).get("spec") != settings.embedder
        or manifest.get("chunking") != chunking
        or manifest.get("reading") != reading
    ):
        return None
    try:
        return load_index(settings.index_dir, settings.embedder)
    except IndexDamagedError as exc:
        report.repaired = "; ".join(exc.problems)
        return None
    except (BeleidszoekerError, OSError, ValueError):
        return None


def _ocr(settings: Settings, progress: Progress) -> Ocr | None:
    """OCR as configured; its results are cached beside the vectors."""
    if not settings.ocr:
        return None

    def on_page(name: str, done: int, total: int) -> None:
        progress.step(f"OCR {name}", done, total)

    return Ocr(settings.cache_dir / "ocr", lang=settings.ocr_lang, on_page=on_page)


def _ocr_state(ocr: Ocr | None) -> str | None:
    """What the manifest records of OCR: the model in use, or None (off or not installed)."""
    return None if ocr is None or ocr.unavailable() else f"tesseract:{ocr.lang}"


def _keep_words(words: dict[str, WordBoxes], previous: IndexData, doc_id: str) -> None:
    kept = previous.word_boxes(doc_id)
    if kept is not None:
        words[doc_id] = kept


def _document(
    src: corpus.SourceFile,
    meta: dict[str, object],
    file_title: str | None,
    old: Document | None,
    file_year: int | None = None,
) -> Document:
    year = meta.get("year", file_year if old is None else old.year)
    return Document(
        id=src.doc_id,
        title=str(meta.get("title") or file_title or corpus.title_from_filename(src.relpath)),
        year=int(year) if isinstance(year, int | str) and str(year).isdigit() else None,
        publisher=str(meta["publisher"]) if meta.get("publisher") else None,
        kind=str(meta["kind"]) if meta.get("kind") else None,
        path=src.relpath,
        sha256=src.sha256,
        n_chars=old.n_chars if old else 0,
        n_chunks=old.n_chunks if old else 0,
        n_pages=old.n_pages if old else None,
    )


def _clean_page_starts(cleaned: CleanText, raw_starts: list[int] | None) -> list[int] | None:
    """Page starts moved from extracted-text offsets to cleaned-text offsets."""
    if raw_starts is None:
        return None
    return [int(np.searchsorted(cleaned.offsets[:-1], s, side="left")) for s in raw_starts]
