"""Build the index: discover, load, clean, chunk, embed (cached), write atomically."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from beleidszoeker.config import Settings
from beleidszoeker.errors import BeleidszoekerError, EmptyCorpusError, IndexDamagedError
from indexer import corpus, word_patch, word_tables, word_tails
from indexer import vectors as ann
from indexer.cleaning import CleanText
from indexer.columns import CHUNKS, TEXTS, ChunkTable, TextStore, sections_and_texts
from indexer.embedders import get_embedder
from indexer.file_hashes import NAME as HASHES_FILE
from indexer.file_hashes import FileHashes
from indexer.keyword import STEMMER, KeywordIndex
from indexer.pages import give_back_freed
from indexer.pool import ordered_map, worker_count
from indexer.reading import LocalRunner, ReadTask, Runner, document_record
from indexer.schema import Chunk, Document, embed_text
from indexer.segments import Layout, Segment, SegmentChunks
from indexer.sentences import sentence_places
from indexer.store import (
    FORMAT_VERSION,
    MANIFEST,
    IndexData,
    NewSegment,
    SegmentPlan,
    SentenceVectors,
    builds_dir,
    linked_only_files,
    load_index,
    mapped_array,
    read_manifest,
    remove_abandoned,
    scratch,
    verify_build,
    write_index,
)
from indexer.vector_cache import VectorCache, embed_with_cache
from indexer.word_tables import LiveWords, WordTable
from indexer.words import WordBoxes

if TYPE_CHECKING:  # indexer.ocr and the loaders import each other: the loaders go first
    from indexer.ocr import Ocr

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
    n_promises: int = 0
    promise_seconds: float = 0.0  # finding the promises (classifying, the rules, their vectors)
    seconds: float = 0.0
    embed_seconds: float = 0.0
    n_segments: int = 1  # segments of the index written (docs/segments.md)
    merged: bool = False  # segments were folded into one (--optimize, or past the threshold)
    patched: bool = False  # the keyword statistics patched, not merged (indexer/word_patch.py)


class Progress:
    """What a long build reports; the CLI shows it as a progress bar."""

    def start(self, task: str, total: int) -> None: ...

    def advance(self, n: int) -> None: ...

    def message(self, text: str) -> None: ...

    def step(self, task: str, done: int, total: int) -> None:
        """A second bar beside the current one (pages of one document being read)."""


def build_index(
    settings: Settings,
    progress: Progress | None = None,
    force: bool = False,
    runner: Runner | None = None,
    optimize: bool = False,
) -> BuildReport:
    """Index ``settings.corpus_dir`` into ``settings.index_dir`` (see ``_build_index``)."""
    with scratch(settings.index_dir) as work, ann.beside() as beside:
        try:
            return _build_index(settings, work, beside, progress, force, runner, optimize)
        except _Untrusted as damaged:
            problems = damaged.problems
    # A file of the previous build the run needed whole was damaged: as when its load
    # finds damage, nothing of it is reused (this is rare: the load checks the rest).
    with scratch(settings.index_dir) as work, ann.beside() as beside:
        return _build_index(settings, work, beside, progress, force, runner, optimize, problems)


class _Untrusted(Exception):
    """The previous build's files its load left unread are damaged (``_unchecked_problems``)."""

    def __init__(self, problems: str) -> None:
        super().__init__(problems)
        self.problems = problems


def _build_index(
    settings: Settings,
    work: Path,
    beside: ann.Beside,
    progress: Progress | None = None,
    force: bool = False,
    runner: Runner | None = None,
    optimize: bool = False,
    damaged: str | None = None,
) -> BuildReport:
    """Index ``settings.corpus_dir`` into ``settings.index_dir``.

    A first index, ``force`` and ``optimize`` write the whole index as one segment; else the
    documents read anew go into one new segment beside the kept ones, and removed or
    replaced documents are masked (docs/segments.md), until ``settings.max_segments``.

    A file that cannot be read is skipped with its reason; the others are still indexed.
    When no file can be indexed at all, the existing index is left as it was. ``runner``
    does the reading and embedding (here, or on a Ray cluster); everything else, and the
    write, is the same either way. ``beside`` builds a whole build's large vector indexes
    in a thread while the keyword statistics and the promise register are made.
    """
    progress = progress or Progress()
    runner = runner or LocalRunner(settings.embed_batch_chars)
    t0 = time.perf_counter()
    report = BuildReport()
    if settings.promise_register:
        _load_promise_model_beside()
    # Also when nothing changed: a run killed after its swap left its folder behind.
    remove_abandoned(builds_dir(settings.index_dir))
    # Files unchanged since the last run are not hashed again (--force hashes them all).
    hashes = FileHashes(settings.cache_dir / HASHES_FILE, trust=not force)
    files = corpus.discover(settings.corpus_dir, hashes)
    hashes.save()
    manifest_meta = corpus.read_manifest(settings.corpus_dir, settings.cache_dir)
    fingerprint = corpus.corpus_fingerprint(files, manifest_meta)
    chunking = {
        "size": settings.chunk_size,
        "overlap": settings.chunk_overlap,
        "pipeline": PIPELINE_VERSION,
    }

    ocr = _ocr(settings, progress)
    reading = {"pdf": PDF_READER, "ocr": _ocr_state(ocr)}
    previous = _previous(settings, chunking, reading, report) if damaged is None else None
    report.repaired = damaged or report.repaired
    problems = None
    if (
        previous is not None
        and not force
        and previous.manifest.get("corpus_fingerprint") == fingerprint
        and _register_current(settings, previous.manifest)
        # Other ANN settings rebuild the vector indexes (from the cache: no embedding).
        and previous.manifest.get("ann") == settings.ann.model_dump()
        and not (optimize and _segmented(previous))
        # Called current, it is checked as a server checks it (and rebuilt if damaged).
        and (problems := _unchecked_problems(previous)) is None
    ):
        report.up_to_date = True
        report.index_path = previous.path
        report.unchanged = sorted(previous.documents)
        report.skipped = [tuple(s) for s in previous.manifest.get("skipped", [])]
        report.n_chunks = len(previous.chunks)
        report.n_segments = len(previous.segments)
        report.seconds = time.perf_counter() - t0
        return report

    if previous is not None and problems:
        report.repaired, previous = problems, None

    if not files:
        raise EmptyCorpusError(settings.corpus_dir)

    documents: dict[str, Document] = {}
    # Texts and word boxes of documents kept from the previous build are read from it when
    # a write needs them: an add that keeps them in their segment never does.
    texts: dict[str, CleanText] = _Kept(previous.clean_text if previous else None)
    words: dict[str, WordBoxes | None] = _Kept(previous.word_boxes if previous else None)
    # The passages of each document: its new ones, or OLD (those of the previous build,
    # read only when a whole build needs them: an add leaves them in their segments).
    chunks_of: dict[str, list[Chunk] | None] = {}
    page_starts_of: dict[str, list[int] | None] = {}  # documents read anew in this build
    old_by_path = {d.path: d for d in previous.documents.values()} if previous else {}

    def skip(src: corpus.SourceFile, old: Document | None, reason: str) -> None:
        """Skip a file; if an earlier version of it is indexed, keep that one.

        A document that changed and can no longer be read should not vanish from search:
        the user sees the reason and still finds the last good version.
        """
        changed = old is not None and old.id == src.doc_id and old.sha256 != src.sha256
        if changed and previous is not None:
            documents[old.id] = old  # its old sha256 makes the next run try again
            chunks_of[old.id] = OLD
            report.kept.append(src.relpath)
            reason += "; the previously indexed version is kept"
        report.skipped.append((src.relpath, reason))

    max_bytes = settings.max_file_mb * 1024 * 1024
    progress.start("Documenten lezen", len(files))
    to_read = [
        ReadTask(src, manifest_meta.get(src.relpath, {}))
        for src in files
        if _needs_reading(src, old_by_path.get(src.relpath), max_bytes)
    ]
    results = dict(runner.read_documents(to_read, settings, ocr, progress))
    for src in files:
        old = old_by_path.get(src.relpath)
        if src.relpath not in results:
            progress.advance(1)  # files read are counted as they are read
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
            doc = document_record(src, meta, old.title if not meta.get("title") else None, old)
            documents[doc.id] = doc
            chunks_of[doc.id] = OLD
            report.unchanged.append(src.relpath)
            continue
        result = results[src.relpath]
        if result.skip_reason is not None:
            skip(src, old, result.skip_reason)
            continue
        report.notes.extend((src.relpath, n) for n in result.notes)
        doc = result.document
        documents[doc.id] = doc
        texts[doc.id] = result.text
        words[doc.id] = result.words  # None too: the previous version's boxes are not its
        page_starts_of[doc.id] = result.page_starts
        chunks_of[doc.id] = result.chunks
        (report.changed if old is not None else report.added).append(src.relpath)

    current = {f.relpath for f in files}
    report.removed = sorted(p for p in old_by_path if p not in current)
    if not documents:
        reasons = "; ".join(f"{p}: {r}" for p, r in report.skipped) or "no readable files"
        raise BeleidszoekerError(
            f"No document in {settings.corpus_dir} could be indexed ({reasons}). "
            "The existing index, if any, is unchanged."
        )

    kept = _kept_segments(settings, previous, documents, page_starts_of, force or optimize)
    if kept is None and previous is not None and (problems := _unchecked_problems(previous)):
        raise _Untrusted(problems)  # a whole build reads the texts the load left unread
    report.merged = kept is None and _segmented(previous)
    if kept is not None:  # only the documents read anew are embedded, into a new segment
        new_ids = [d for d in documents if d in page_starts_of]
        chunks = [c for d in new_ids for c in chunks_of[d]]
    else:
        chunks = _all_chunks(documents, chunks_of, previous)
        # Held as objects, a whole build's passages and texts were most of its memory
        # (about 5 KB a passage): they go to the scratch folder as the columns a loaded
        # index maps, and are read from there.
        chunks_of.clear()
        chunks, texts = _spilled(work, list(documents), chunks, texts)
    results.clear()  # what the build needs of them is in the dicts above
    give_back_freed()
    embedder = get_embedder(settings.embedder)
    cache = VectorCache(settings.cache_dir / "vectors.sqlite")
    t_embed = time.perf_counter()
    progress.start("Passages embedden", len(chunks))
    try:
        # Vectors go straight into mapped files the build then links: never all in memory.
        vectors, report.n_embedded = embed_with_cache(
            embedder,
            _EmbedTexts(chunks),
            cache,
            settings.embed_batch_size,
            progress.advance,
            runner.embed,
            out=mapped_array(work, "vectors.npy", (len(chunks), embedder.dim)),
        )
        rows, spans, sentence_texts = _sentences(chunks, worker_count(settings.index_workers))
        progress.start("Zinnen embedden", len(sentence_texts))
        shape = (len(sentence_texts), int(vectors.shape[1]))
        sentence_vectors, report.n_sentences_embedded = embed_with_cache(
            embedder,
            sentence_texts,
            cache,
            settings.embed_batch_size,
            progress.advance,
            runner.embed,
            out=mapped_array(work, "sentence_vectors.npy", shape),
        )
        del sentence_texts
    finally:
        report.n_cache_invalid = cache.n_invalid
        cache.close()
    report.embed_seconds = time.perf_counter() - t_embed
    sentences = SentenceVectors(rows, spans, sentence_vectors)
    progress.message("Woorden per passage en zin tellen")
    # The texts written now are tokenised once, here; every later publish merges these
    # tables instead of reading the texts again (indexer/word_tables.py).
    word_table = WordTable.build(
        chunks, new_ids if kept is not None else list(documents), rows, spans,
        worker_count(settings.index_workers),
    )  # fmt: skip
    live_words = [LiveWords(word_table, np.arange(len(chunks)), np.arange(len(rows)),
                            new_ids if kept is not None else list(documents))]  # fmt: skip
    building = {}
    if kept is None:  # after the pool of tokenisers: the other core is free from here on
        for part, part_vectors in (("passages", vectors), ("sentences", sentence_vectors)):
            spec = ann.spec_for(len(part_vectors), settings.ann, part)
            if (started := beside.start(part_vectors, spec)) is not None:
                building[part] = started
    plan = None
    new_places = (rows, spans)  # the new segment's sentences, in its own rows
    if kept is not None:
        new = NewSegment(
            new_ids,
            chunks,
            vectors,
            sentences,
            {
                "passages": ann.spec_for(len(chunks), settings.ann),
                "sentences": ann.spec_for(len(rows), settings.ann, "sentences"),
            },
            word_table,
        )
        plan = SegmentPlan(previous.path, [s.entry for s in kept], new if new_ids else None)
        # Everything global is computed over the live passages of every segment, in row
        # order, exactly as a one-segment build of them would.
        fresh = Segment({"documents": new_ids}, chunks, vectors, rows, spans, sentence_vectors)
        layout = Layout([*kept, fresh] if new_ids else kept)
        chunks = SegmentChunks(layout)  # rows read when asked for, not all made here
        rows, spans = layout.sentence_places()
        order = [d for s in layout.segments for d in s.live_documents]
        documents = {d: documents[d] for d in order}
        report.n_segments = len(layout.segments)
        live_words = [s.live_words() for s in kept] + (live_words if new_ids else [])

    progress.message("Trefwoordenindex bouwen")
    # The corpus-wide statistics: the previous build's patched when only what changed
    # need be added and taken out, else merged from the segments' words (no text read).
    merged = added = None
    if kept is not None:
        what = word_patch.change(previous.segments, kept, live_words[-1] if new_ids else None,
                                 new_places)  # fmt: skip
        # An add that masks nothing writes its words after the previous build's.
        added = word_tails.append(previous, what, documents)
        if added is None:
            merged = _patched(previous, what, documents)
    report.patched = merged is not None or added is not None
    if added is not None:
        keyword, terms = previous.keyword, None  # linked from the previous build, not written
    else:
        if merged is None:
            merged = word_tables.merge(live_words, documents, (rows, spans))
        keyword = KeywordIndex.from_scores(
            merged.bm25, merged.bm25_vocab, merged.decompounder, merged.state
        )
        terms = merged.sentence_terms
    progress.message("Beloften zoeken")
    t_promises = time.perf_counter()
    register_files, promises_meta = _promise_register(
        settings, embedder, documents, texts, chunks, page_starts_of, previous, report
    )
    report.promise_seconds = time.perf_counter() - t_promises
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
        "n_sentences": len(rows),
        "skipped": report.skipped,
        "promises": promises_meta,
        # How the vectors are indexed: the settings, and what they gave at this size.
        "ann": settings.ann.model_dump(),
        "vectors": {
            "passages": ann.spec_for(len(chunks), settings.ann),
            "sentences": ann.spec_for(len(rows), settings.ann, "sentences"),
        },
    }
    data = IndexData(manifest, documents, chunks, vectors, keyword, sentences, terms)
    data.building = building
    data.files = register_files
    data.word_table = word_table
    data.added = added
    report.index_path = write_index(settings.index_dir, data, texts, words, plan)
    report.n_chunks = len(chunks)
    report.seconds = time.perf_counter() - t0
    return report


def _patched(
    previous: IndexData, what: word_patch.Change, documents: dict[str, Document]
) -> word_patch.GlobalTerms | None:
    """The previous build's keyword statistics patched (indexer/word_patch.py), or None."""
    old = word_tails.whole_previous(previous)
    if old is None:  # a build from before the publish state: merged whole once
        return None
    return word_patch.patch(old, what, documents)


OLD = None  # in ``chunks_of``: the document's passages are those of the previous build


def _spilled(
    work: Path, document_ids: list[str], chunks: list[Chunk], texts: dict[str, CleanText]
) -> tuple[ChunkTable, TextStore]:
    """``chunks`` and ``texts`` written into ``work`` as a build stores them, and mapped."""
    ChunkTable.write(work / CHUNKS, chunks, document_ids)
    (work / TEXTS).mkdir()
    TextStore.write(work / TEXTS, texts, document_ids)
    return ChunkTable(work / CHUNKS, document_ids), TextStore(work / TEXTS, document_ids)


def _all_chunks(
    documents: dict[str, Document],
    chunks_of: dict[str, list[Chunk] | None],
    previous: IndexData | None,
) -> list[Chunk]:
    """Every passage in document order, the kept documents' read from the previous build."""
    rows = previous.document_rows() if previous is not None else {}
    out: list[Chunk] = []
    for d in documents:
        found = chunks_of.get(d, OLD)
        if found is OLD:
            out.extend(previous.chunks[int(r)] for r in rows.get(d, ()))
        else:
            out.extend(found)
    return out


def _chunks_of(chunks: Sequence[Chunk], wanted: set[str]) -> list[Chunk]:
    """The passages of the documents ``wanted``, found by their rows when ``chunks`` is a
    view over segments (making every passage of a large index costs seconds)."""
    if isinstance(chunks, SegmentChunks):
        rows = chunks.document_rows()
        return [chunks[int(r)] for d in wanted if d in rows for r in rows[d]]
    return [c for c in chunks if c.document_id in wanted]


def _segmented(index: IndexData | None) -> bool:
    """Whether an index has several segments or masked documents (``--optimize`` folds it)."""
    return index is not None and (len(index.segments) > 1 or any(s.deleted for s in index.segments))


def _kept_segments(
    settings: Settings,
    previous: IndexData | None,
    documents: dict[str, Document],
    read_anew: dict[str, object],
    whole: bool,
) -> list[Segment] | None:
    """The previous build's segments to keep, each with the documents now masked in it
    (removed from the corpus, or read anew into the new segment); None: write everything
    as one segment (a first index, ``whole``, other ANN settings, or past
    ``settings.max_segments``)."""
    if (
        whole
        or previous is None
        or previous.path is None
        or not previous.segments
        or previous.manifest.get("ann") != settings.ann.model_dump()
        or any(s.word_table is None for s in previous.segments)
    ):
        return None
    kept = []
    for segment in previous.segments:
        ids = segment.entry["documents"]
        masked = segment.deleted
        deleted = [d for d in ids if d in masked or d not in documents or d in read_anew]
        if len(deleted) == len(ids) and ids:
            continue  # nothing of it is served any more: left out
        kept.append(dataclasses.replace(segment, entry={**segment.entry, "deleted": deleted}))
    if len(kept) + (1 if any(d in read_anew for d in documents) else 0) > settings.max_segments:
        return None
    return kept


def _register_current(settings: Settings, manifest: dict[str, object]) -> bool:
    """False when the promise classifier changed (or was switched on) since the build."""
    from indexer.promise_model import current_id

    if not settings.promise_register:
        return True
    built_with = (manifest.get("promises") or {}).get("model")  # type: ignore[union-attr]
    return built_with == current_id()


def _load_promise_model_beside() -> None:
    """Start loading the promise classifier while the corpus is scanned and the previous
    build read: scikit-learn's import was a second of every add, after them. A failure is
    left to ``_promise_register``, which loads it again and says what to do."""
    from indexer import promise_model

    def load() -> None:
        with contextlib.suppress(Exception):
            promise_model.load()

    threading.Thread(target=load, name="promise-model", daemon=True).start()


def _promise_register(
    settings: Settings,
    embedder: object,
    documents: dict[str, Document],
    texts: dict[str, CleanText],
    chunks: Sequence[Chunk],
    page_starts: dict[str, list[int] | None],
    previous: IndexData | None,
    report: BuildReport,
) -> tuple[dict[str, str | bytes], dict[str, object] | None]:
    """The register files of the build and their manifest entry.

    Documents not read anew keep their promises while the classifier stays the same. Without
    a usable classifier the index is still built, without a register, and the report says
    how to get one.
    """
    if not settings.promise_register:
        return {}, None
    from indexer import promise_model
    from indexer.promises import (
        FILE,
        VECTORS,
        build_register,
        read_promises,
        vectors_bytes,
        write_promises,
    )

    try:
        model = promise_model.load()
        model.check_embedder(settings.embedder)
    except promise_model.PromiseModelError as exc:
        report.notes.append(("promise register", str(exc)))
        return {}, None
    built_with = (previous.manifest.get("promises") or {}).get("model") if previous else None
    reuse = {d for d in documents if d not in page_starts} if built_with == model.id else set()
    old = read_promises(previous.path) if reuse and previous else []
    cache = VectorCache(settings.cache_dir / "vectors.sqlite")
    try:

        def embed(sentences: list[str]) -> np.ndarray:
            vectors, _ = embed_with_cache(
                embedder,
                sentences,
                cache,
                settings.embed_batch_size,
                batch_chars=settings.embed_batch_chars,
            )
            return vectors

        register = build_register(
            documents,
            {d: texts[d].text for d in documents if d not in reuse},
            _chunks_of(chunks, {d for d in documents if d not in reuse}),
            page_starts,
            old,
            reuse,
            model,
            embed,
        )
        vectors = embed([p.text for p in register]) if register else np.zeros((0, 1), "f4")
    finally:
        cache.close()
    report.n_promises = len(register)
    meta = {"model": model.id, "n_promises": len(register), "file": FILE}
    return {FILE: write_promises(register), VECTORS: vectors_bytes(vectors)}, meta


def _sentences(
    chunks: Sequence[Chunk], workers: int = 1
) -> tuple[np.ndarray, np.ndarray, _SentenceTexts]:
    """Passage row, offsets and text of every sentence of every passage: machine integers
    as they are found (a block of passages at a time, in ``workers`` processes), the texts
    sliced from their passages when read (at a million passages, lists of 9.4M Python
    pairs and strings took gigabytes)."""
    n = len(chunks)
    blocks = ([sections_and_texts(chunks, a, min(a + _SPLIT_BLOCK, n))[1]]
              for a in range(0, n, _SPLIT_BLOCK))  # fmt: skip
    counts, places = [np.zeros(0, np.int32)], [np.zeros((0, 2), np.int32)]
    for c, p in ordered_map(sentence_places, blocks, workers if n > _SPLIT_BLOCK else 1):
        counts.append(c)
        places.append(p)
    found = np.repeat(np.arange(n, dtype=np.int32), np.concatenate(counts))
    places = np.concatenate(places)
    return found, places, _SentenceTexts(chunks, found, places)


_SPLIT_BLOCK = 10_000  # passages split into sentences per block


class _EmbedTexts(Sequence[str]):
    """What the embedder sees of each passage, made when the vector cache asks for it (a
    round at a time) rather than a list of every passage's text at once."""

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        self._chunks = chunks

    def __len__(self) -> int:
        return len(self._chunks)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            if step != 1:
                return [self[j] for j in range(start, stop, step)]
            return list(map(embed_text, *sections_and_texts(self._chunks, start, max(start, stop))))
        return self._chunks[i].embed_text()


class _SentenceTexts(Sequence[str]):
    """Each sentence's text, sliced from its passage when read (a sentence is a verbatim
    slice of it): 9.4M strings held at once at a million passages are gigabytes."""

    def __init__(self, chunks: Sequence[Chunk], rows: np.ndarray, spans: np.ndarray) -> None:
        self._chunks, self._rows, self._spans = chunks, rows, spans

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            if step != 1 or stop <= start:
                return [self[j] for j in range(start, stop, step)]
            # A round's passages read as one run of rows, not one passage per sentence.
            rows = self._rows[start:stop]
            first = int(rows[0])
            texts = sections_and_texts(self._chunks, first, int(rows[-1]) + 1)[1]
            places = zip((rows - first).tolist(), self._spans[start:stop].tolist(), strict=True)
            return [texts[r][a:b] for r, (a, b) in places]
        start, end = self._spans[i].tolist()
        return self._chunks[int(self._rows[i])].text[start:end]


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
        # What a publish needs of it: the files a publish only links are checked by size
        # (``_unchecked_problems`` checks them when they are needed whole).
        return load_index(settings.index_dir, settings.embedder, for_publish=True)
    except IndexDamagedError as exc:
        report.repaired = "; ".join(exc.problems)
        return None
    except (BeleidszoekerError, OSError, ValueError):
        return None


def _unchecked_problems(previous: IndexData) -> str | None:
    """What is wrong with the files ``_previous`` checked by size alone, or None."""
    problems = verify_build(previous.path, only=linked_only_files(previous.manifest))
    return "; ".join(problems) if problems else None


def _ocr(settings: Settings, progress: Progress) -> Ocr | None:
    """OCR as configured; its results are cached beside the vectors."""
    if not settings.ocr:
        return None
    from indexer.ocr import Ocr

    def on_page(name: str, done: int, total: int) -> None:
        progress.step(f"OCR {name}", done, total)

    return Ocr(settings.cache_dir / "ocr", lang=settings.ocr_lang, on_page=on_page)


def _ocr_state(ocr: Ocr | None) -> str | None:
    """What the manifest records of OCR: the model in use, or None (off or not installed)."""
    return None if ocr is None or ocr.unavailable() else f"tesseract:{ocr.lang}"


class _Kept(dict):
    """A dict whose missing keys are read from the previous build (``read``) when asked for."""

    def __init__(self, read) -> None:
        super().__init__()
        self._read = read

    def __missing__(self, key: str):
        if self._read is None:
            raise KeyError(key)
        return self._read(key)

    def get(self, key: str, default=None):
        try:
            return self[key]
        except KeyError:
            return default


def _needs_reading(src: corpus.SourceFile, old: Document | None, max_bytes: float) -> bool:
    """Whether the build must read ``src``: not refused, not too large, not unchanged."""
    if src.problem is not None or src.size > max_bytes:
        return False
    return not (old is not None and old.sha256 == src.sha256 and old.id == src.doc_id)
