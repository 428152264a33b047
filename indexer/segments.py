"""Segments of a published index, served as one (see docs/segments.md).

A segment is an immutable part of a build: passages, texts, vectors and sentences of some
documents. A build lists its segments in its manifest, each with the documents masked in
it (removed, or replaced by a newer segment). Rows are numbered over the live passages of
the segments in order, and sentence ids over their live sentences, so a store over several
segments reads like one build whose passages stand in that order. The views here route a
row to its segment; ``search`` fans a vector query out to every segment and merges.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from indexer import vectors as ann
from indexer.cleaning import CleanText
from indexer.schema import Chunk
from indexer.word_tables import FOLDER as WORDS_FOLDER
from indexer.word_tables import LiveWords, WordTable

SEGMENTS_DIR = "segments"
BASE = "."  # the first segment lies at the root of the build, as a one-segment build always did
# The files of a segment, relative to its folder; every other file of a build is global.
PARTS = (
    "chunks",
    "texts",
    "vectors.npy",
    "dense.faiss",
    "sentence_rows.npy",
    "sentence_spans.npy",
    "sentence_vectors.npy",
    "sentences.faiss",
    WORDS_FOLDER,  # the words of its passages and sentences (indexer/word_tables.py)
)


@dataclass
class Segment:
    """One segment: its manifest entry and its arrays (mapped when loaded)."""

    entry: dict[str, Any]  # id, path, documents, deleted, n_passages, n_sentences, vectors
    chunks: Sequence[Chunk]
    vectors: np.ndarray  # float32 (n_passages, dim)
    sentence_rows: np.ndarray  # int32 (n_sentences,): the passage row in this segment
    sentence_spans: np.ndarray  # int32 (n_sentences, 2)
    sentence_vectors: np.ndarray
    dense: Any = None  # FAISS indexes, set when loaded
    sentence_dense: Any = None
    texts: Mapping[str, CleanText] = field(default_factory=dict)
    folder: Path | None = None
    word_table: WordTable | None = None  # its words, mapped (None in a build from before them)

    @property
    def deleted(self) -> frozenset[str]:
        return frozenset(self.entry.get("deleted", ()))

    @property
    def live_documents(self) -> list[str]:
        deleted = self.deleted
        return [d for d in self.entry["documents"] if d not in deleted]

    @cached_property
    def document_rows(self) -> dict[str, np.ndarray]:
        """Local rows of each document's passages (masked ones included)."""
        if hasattr(self.chunks, "document_rows"):
            return self.chunks.document_rows()
        rows: dict[str, list[int]] = {}
        for i, c in enumerate(self.chunks):
            rows.setdefault(c.document_id, []).append(i)
        return {d: np.asarray(r, np.int64) for d, r in rows.items()}

    @cached_property
    def live_rows(self) -> np.ndarray:
        """Local rows that are served, ascending."""
        n = len(self.chunks)
        if not self.deleted:
            return np.arange(n, dtype=np.int64)
        keep = np.ones(n, bool)
        for d in self.deleted:
            keep[self.document_rows.get(d, np.zeros(0, np.int64))] = False
        return np.flatnonzero(keep)

    @cached_property
    def live_sentences(self) -> np.ndarray:
        """Local sentence ids whose passage is served, ascending."""
        if not self.deleted:
            return np.arange(len(self.sentence_rows), dtype=np.int64)
        keep = np.zeros(len(self.chunks), bool)
        keep[self.live_rows] = True
        return np.flatnonzero(keep[np.asarray(self.sentence_rows, np.int64)])

    def live_words(self) -> LiveWords:
        """Its words with what of them is served, for the global statistics."""
        if self.word_table is None:
            raise ValueError("segment without word tables")
        documents = self.entry["documents"]
        return LiveWords(self.word_table, self.live_rows, self.live_sentences, documents)

    def spec(self, part: str) -> dict[str, Any]:
        return dict((self.entry.get("vectors") or {}).get(part) or {"factory": ann.FLAT})


class Layout:
    """Where each global row and sentence id lives: segment and local number."""

    def __init__(self, segments: Sequence[Segment]) -> None:
        self.segments = list(segments)
        self.row_offsets = _offsets([len(s.live_rows) for s in self.segments])
        self.sentence_offsets = _offsets([len(s.live_sentences) for s in self.segments])

    @property
    def n_passages(self) -> int:
        return int(self.row_offsets[-1])

    @property
    def n_sentences(self) -> int:
        return int(self.sentence_offsets[-1])

    def to_global(self, i: int) -> np.ndarray:
        """Per local row of segment ``i``: its global row, -1 when masked."""
        return self._to_global[i]

    @cached_property
    def _to_global(self) -> list[np.ndarray]:
        out = []
        for s, start in zip(self.segments, self.row_offsets, strict=False):
            rows = np.full(len(s.chunks), -1, np.int64)
            rows[s.live_rows] = start + np.arange(len(s.live_rows))
            out.append(rows)
        return out

    def locate(self, rows: np.ndarray, sentences: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(segment, local row or sentence id) of global ``rows`` (or sentence ids)."""
        rows = np.asarray(rows, np.int64).ravel()
        offsets = self.sentence_offsets if sentences else self.row_offsets
        if rows.size and (rows.min() < 0 or rows.max() >= offsets[-1]):
            raise IndexError("row out of range")
        seg = np.searchsorted(offsets, rows, side="right") - 1
        local = np.empty(len(rows), np.int64)
        for i in np.unique(seg):
            s = self.segments[int(i)]
            live = s.live_sentences if sentences else s.live_rows
            at = seg == i
            local[at] = live[rows[at] - offsets[i]]
        return seg, local

    def sentence_places(self) -> tuple[np.ndarray, np.ndarray]:
        """Every live sentence's global passage row and offsets, by global sentence id."""
        rows, spans = [], []
        for i, s in enumerate(self.segments):
            live = s.live_sentences
            local_rows = np.asarray(s.sentence_rows, np.int64)[live]
            rows.append(self.to_global(i)[local_rows].astype(np.int32))
            spans.append(np.asarray(s.sentence_spans, np.int32).reshape(-1, 2)[live])
        if not rows:
            return np.zeros(0, np.int32), np.zeros((0, 2), np.int32)
        return np.concatenate(rows), np.concatenate(spans)

    def local_rows(self, i: int, rows: np.ndarray | None) -> np.ndarray:
        """The live local rows of segment ``i`` among global ``rows`` (all when None)."""
        live = self.segments[i].live_rows
        if rows is None:
            return live
        start, end = self.row_offsets[i], self.row_offsets[i + 1]
        rows = np.asarray(rows, np.int64)
        return live[rows[(rows >= start) & (rows < end)] - start]


def _offsets(sizes: list[int]) -> np.ndarray:
    out = np.zeros(len(sizes) + 1, np.int64)
    out[1:] = np.cumsum(sizes)
    return out


class SegmentChunks(Sequence[Chunk]):
    """The live passages of every segment as one sequence, by global row."""

    def __init__(self, layout: Layout) -> None:
        self._layout = layout
        self._offsets = layout.row_offsets.tolist()

    def __len__(self) -> int:
        return self._layout.n_passages

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = int(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        # One row at a time, many times per question: plain Python, no arrays made.
        seg = bisect.bisect_right(self._offsets, i) - 1
        segment = self._layout.segments[seg]
        return segment.chunks[int(segment.live_rows[i - self._offsets[seg]])]

    def __iter__(self) -> Iterator[Chunk]:
        for s in self._layout.segments:
            for r in s.live_rows:
                yield s.chunks[int(r)]

    def document_rows(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for i, s in enumerate(self._layout.segments):
            to_global = self._layout.to_global(i)
            deleted = s.deleted
            for d, rows in s.document_rows.items():
                if d not in deleted:
                    out[d] = to_global[rows]
        return out

    def spans(self) -> tuple[np.ndarray, np.ndarray]:
        starts, ends = [], []
        for s in self._layout.segments:
            if hasattr(s.chunks, "spans"):
                a, b = s.chunks.spans()
            else:
                a = np.asarray([c.char_start for c in s.chunks], np.int64)
                b = np.asarray([c.char_end for c in s.chunks], np.int64)
            starts.append(np.asarray(a)[s.live_rows])
            ends.append(np.asarray(b)[s.live_rows])
        return np.concatenate(starts), np.concatenate(ends)


class SegmentArray:
    """Passage (or sentence) vectors of every segment, indexed by global row (or id)."""

    def __init__(self, layout: Layout, sentences: bool = False) -> None:
        self._layout = layout
        self._sentences = sentences
        first = self._parts[0] if layout.segments else np.zeros((0, 0), np.float32)
        self.dtype = first.dtype
        self.shape = (
            layout.n_sentences if sentences else layout.n_passages,
            *first.shape[1:],
        )

    @property
    def _parts(self) -> list[np.ndarray]:
        attr = "sentence_vectors" if self._sentences else "vectors"
        return [getattr(s, attr) for s in self._layout.segments]

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index) -> np.ndarray:
        if isinstance(index, int | np.integer):
            return self[np.asarray([int(index)])][0]
        if isinstance(index, slice):
            index = np.arange(*index.indices(len(self)))
        ids = np.asarray(index, np.int64).ravel()
        out = np.empty((len(ids), *self.shape[1:]), self.dtype)
        if not len(ids):
            return out
        seg, local = self._layout.locate(ids, self._sentences)
        parts = self._parts
        for i in np.unique(seg):
            at = seg == i
            out[at] = parts[int(i)][local[at]]
        return out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        whole = self[np.arange(len(self))]
        return whole if dtype is None else whole.astype(dtype)


class SegmentTexts(Mapping[str, CleanText]):
    """The cleaned texts of the live documents, each from the segment that holds it."""

    def __init__(self, segments: Sequence[Segment]) -> None:
        self._of = {d: s for s in segments for d in s.live_documents}

    def __getitem__(self, document_id: str) -> CleanText:
        return self._of[document_id].texts[document_id]

    def __contains__(self, document_id: object) -> bool:
        return document_id in self._of

    def __iter__(self) -> Iterator[str]:
        return iter(self._of)

    def __len__(self) -> int:
        return len(self._of)

    def folder(self, document_id: str) -> Path | None:
        s = self._of.get(document_id)
        return None if s is None else s.folder


def nearest(
    layout: Layout, query: np.ndarray, k: int, rows: np.ndarray | None, sentences: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Global rows (or sentence ids) of the ``k`` vectors nearest ``query`` over all segments,
    and their inner products with it.

    Each segment is searched with its masked rows excluded (an ID selector, or exact
    scoring for a narrow filter: ``indexer.vectors.nearest``); the lists are merged by the
    exact inner product from the stored vectors, which a single index would rank by too.
    """
    q = np.ascontiguousarray(query, np.float32).reshape(1, -1)
    found: list[tuple[np.ndarray, np.ndarray]] = []
    for i, s in enumerate(layout.segments):
        local = layout.local_rows(i, rows)
        if sentences:
            allowed_ids = s.live_sentences
            if rows is not None:
                held = np.isin(np.asarray(s.sentence_rows, np.int64)[allowed_ids], local)
                allowed_ids = allowed_ids[held]
            index, vectors, spec = s.sentence_dense, s.sentence_vectors, s.spec("sentences")
        else:
            allowed_ids, index, vectors, spec = local, s.dense, s.vectors, s.spec("passages")
        if index is None or not index.ntotal or not len(allowed_ids):
            continue
        whole = rows is None and not s.deleted
        ids, scores = ann.nearest(index, spec, vectors, q, min(k, len(allowed_ids)),
                                  None if whole else allowed_ids)  # fmt: skip
        found.append((_global_ids(layout, i, np.asarray(ids, np.int64), sentences), scores))
    if not found:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    ids = np.concatenate([f[0] for f in found])
    scores = np.concatenate([f[1] for f in found])
    order = np.lexsort((ids, -scores))[:k]  # ties: the lower row first, as one index would
    return ids[order], scores[order]


def _global_ids(layout: Layout, i: int, local: np.ndarray, sentences: bool) -> np.ndarray:
    if not sentences:
        return layout.to_global(i)[local]
    s = layout.segments[i]
    position = np.searchsorted(s.live_sentences, local)
    return layout.sentence_offsets[i] + position


class MergedIndex:
    """A FAISS-like view (``ntotal``, ``search``) of the vector indexes of every segment, by
    global row (or sentence id), for code that searches ``IndexData.dense`` directly."""

    def __init__(self, layout: Layout, sentences: bool = False) -> None:
        self._layout = layout
        self._sentences = sentences

    @property
    def ntotal(self) -> int:
        layout = self._layout
        return layout.n_sentences if self._sentences else layout.n_passages

    def search(self, queries: np.ndarray, k: int, params: Any = None) -> tuple[Any, Any]:
        """(scores, ids) of the ``k`` nearest per query, as ``faiss.Index.search``."""
        queries = np.asarray(queries, np.float32)
        queries = queries.reshape(-1, queries.shape[-1])
        scores = np.full((len(queries), k), -np.inf, np.float32)
        ids = np.full((len(queries), k), -1, np.int64)
        for i, q in enumerate(queries):
            found, found_scores = nearest(self._layout, q, k, None, self._sentences)
            ids[i, : len(found)] = found
            scores[i, : len(found)] = found_scores
        return scores, ids
