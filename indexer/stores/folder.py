"""The index folder (``indexer/store.py``'s build, FAISS + bm25s) behind the store interface.

A thin wrapper over a loaded ``IndexData``: nothing is rebuilt or copied. A build of
several segments (docs/segments.md) numbers its rows across them; keyword search and the
key-word arrays are global, vector searches fan out to every segment and merge
(``indexer/segments.py``), so the interface is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cached_property

import numpy as np

from indexer import segments
from indexer import vectors as ann
from indexer.cleaning import CleanText
from indexer.keyword import holding
from indexer.schema import Chunk
from indexer.sentence_terms import SentenceTerms, build_sentence_terms
from indexer.store import IndexData, vector_specs
from indexer.stores.base import IndexStore
from indexer.words import WordBoxes


class FolderStore(IndexStore):
    """One loaded build of the index folder."""

    def __init__(self, index: IndexData) -> None:
        self.index = index
        self.manifest = index.manifest
        self.documents = index.documents
        self.decompounder = getattr(index.keyword, "decompounder", None)
        self._specs = vector_specs(index.manifest)

    @property
    def identity(self) -> str:
        return str(self.index.path)

    @property
    def n_passages(self) -> int:
        return len(self.index.chunks)

    def passages(self, rows: Sequence[int]) -> list[Chunk]:
        chunks = self.index.chunks
        return [chunks[int(r)] for r in rows]

    def rows_of_chunks(self, chunk_ids: Sequence[str]) -> list[int]:
        return [self.index.chunk_row(c) for c in chunk_ids]

    @cached_property
    def _doc_rows(self) -> dict[str, np.ndarray]:
        return self.index.document_rows()  # from the passage columns, no Chunk made

    def document_rows(self, document_ids: Iterable[str]) -> np.ndarray:
        parts = [self._doc_rows.get(d, np.zeros(0, np.int64)) for d in document_ids]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, np.int64)

    def keyword_search(
        self, query: str, k: int, rows: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        mask = None
        if rows is not None:
            mask = np.zeros(self.n_passages, dtype=bool)
            mask[rows] = True
        return self.index.keyword.search(query, k, mask)

    def term_postings(
        self, terms: Sequence[str], rows: np.ndarray
    ) -> dict[str, tuple[int, np.ndarray]]:
        keyword = self.index.keyword
        out = {}
        for t in terms:
            if t in keyword._vocab:
                held = keyword._postings(t)
                out[t] = (len(held), np.unique(rows[holding(rows, held)]))
        return out

    def keyword_coverage(self, query: str, rows: Sequence[int]) -> np.ndarray:
        return self.index.keyword.coverage(query, np.asarray(rows, dtype=np.int64))

    def dense_passages(self, query: np.ndarray, k: int, rows: np.ndarray | None) -> np.ndarray:
        return self.dense_passage_hits(query, k, rows)[0]

    def dense_sentences(self, query: np.ndarray, k: int, rows: np.ndarray | None) -> np.ndarray:
        return self.dense_sentence_hits(query, k, rows)[0]

    def dense_passage_hits(
        self, query: np.ndarray, k: int, rows: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        if self.index.layout is not None:
            return segments.nearest(self.index.layout, query, k, rows, sentences=False)
        q = query.reshape(1, -1)
        spec = self._specs["passages"]
        return ann.nearest(self.index.dense, spec, self.index.vectors, q, k, rows)

    def dense_sentence_hits(
        self, query: np.ndarray, k: int, rows: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        sentences = self.index.sentences
        if self.index.layout is not None:
            ids, scores = segments.nearest(self.index.layout, query, k, rows, sentences=True)
            return np.asarray(sentences.rows[ids], np.int64), scores
        if sentences is None or not sentences.dense.ntotal:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        allowed = None if rows is None else np.flatnonzero(np.isin(sentences.rows, rows))
        q = query.reshape(1, -1)
        k = min(k, sentences.dense.ntotal)
        spec = self._specs["sentences"]
        ids, scores = ann.nearest(sentences.dense, spec, sentences.vectors, q, k, allowed)
        return np.asarray(sentences.rows[ids], np.int64), scores

    def passage_vectors(self, rows: Sequence[int]) -> np.ndarray:
        return self.index.vectors[np.asarray(rows, dtype=np.int64)]

    def sentence_vectors(self, ids: Sequence[int]) -> np.ndarray:
        return self.index.sentences.vectors[np.asarray(ids, dtype=np.int64)]

    def sentence_vector_array(self) -> np.ndarray | None:
        # Over segments, a view that gathers the rows asked for from each segment's map.
        return None if self.index.sentences is None else self.index.sentences.vectors

    @property
    def n_sentences(self) -> int:
        return 0 if self.index.sentences is None else len(self.index.sentences.rows)

    def sentence_places(self) -> tuple[np.ndarray, np.ndarray]:
        s = self.index.sentences
        if s is None:
            return np.zeros(0, np.int32), np.zeros((0, 2), np.int32)
        return s.rows, s.spans

    @cached_property
    def _terms(self) -> SentenceTerms:
        # An index held in memory without the arrays (a test's) gets them computed here.
        if self.index.terms is not None:
            return self.index.terms
        stored = self.index.sentences
        rows, spans = (stored.rows, stored.spans) if stored is not None else (None, None)
        return build_sentence_terms(
            self.index.chunks, self.index.documents, self.decompounder, rows, spans
        )

    def sentence_terms(self) -> SentenceTerms:
        return self._terms

    def clean_text(self, document_id: str) -> CleanText:
        return self.index.clean_text(document_id)

    def word_boxes(self, document_id: str) -> WordBoxes | None:
        return self.index.word_boxes(document_id)

    def file(self, name: str) -> bytes | None:
        if name in self.index.files:
            content = self.index.files[name]
            return content.encode("utf-8") if isinstance(content, str) else content
        if self.index.path is None:
            return None
        try:
            return (self.index.path / name).read_bytes()
        except FileNotFoundError:
            return None
