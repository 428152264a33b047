"""Keyword, dense and hybrid (reciprocal rank fusion) retrieval over a loaded index."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from beleidszoeker.config import SearchMode
from beleidszoeker.errors import EmptyQueryError, UnknownDocumentError
from indexer.embedders import Embedder
from indexer.schema import Chunk, Document
from indexer.store import IndexData

MODES: tuple[SearchMode, ...] = ("hybrid", "dense", "keyword")


@dataclass(frozen=True)
class Hit:
    rank: int
    score: float
    chunk: Chunk
    document: Document


@dataclass(frozen=True)
class Filters:
    documents: tuple[str, ...] = ()
    year: int | None = None

    def is_empty(self) -> bool:
        return not self.documents and self.year is None


class Searcher:
    """Searches one loaded index; safe to share between threads."""

    def __init__(
        self, index: IndexData, embedder: Embedder, rrf_k: int = 60, candidates: int = 100
    ):
        self.index = index
        self.embedder = embedder
        self.rrf_k = rrf_k
        self.candidates = candidates
        self._doc_rows: dict[str, np.ndarray] = {}
        for i, c in enumerate(index.chunks):
            self._doc_rows.setdefault(c.document_id, [])  # type: ignore[arg-type]
            self._doc_rows[c.document_id].append(i)  # type: ignore[union-attr]
        self._doc_rows = {d: np.asarray(r, dtype=np.int64) for d, r in self._doc_rows.items()}

    def search(
        self,
        query: str,
        k: int = 10,
        mode: SearchMode = "hybrid",
        filters: Filters | None = None,
    ) -> list[Hit]:
        query = normalize_query(query)
        rows = self._allowed_rows(filters or Filters())
        if rows is not None and rows.size == 0:
            return []
        if mode == "keyword":
            ranked = self._keyword(query, k, rows)
        elif mode == "dense":
            ranked = self._dense(query, k, rows)
        elif mode == "hybrid":
            ranked = self._hybrid(query, k, rows)
        else:
            raise ValueError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
        return [
            Hit(
                rank=r + 1,
                score=s,
                chunk=self.index.chunks[i],
                document=self.index.documents[self.index.chunks[i].document_id],
            )
            for r, (i, s) in enumerate(ranked[:k])
        ]

    def _allowed_rows(self, filters: Filters) -> np.ndarray | None:
        if filters.is_empty():
            return None
        docs = list(filters.documents) or list(self.index.documents)
        for d in docs:
            if d not in self.index.documents:
                raise UnknownDocumentError(d)
        if filters.year is not None:
            docs = [d for d in docs if self.index.documents[d].year == filters.year]
        parts = [self._doc_rows.get(d, np.zeros(0, np.int64)) for d in docs]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, np.int64)

    def _keyword(self, query: str, k: int, rows: np.ndarray | None) -> list[tuple[int, float]]:
        mask = None
        if rows is not None:
            mask = np.zeros(len(self.index.chunks), dtype=bool)
            mask[rows] = True
        return self.index.keyword.search(query, k, mask)

    def _dense(self, query: str, k: int, rows: np.ndarray | None) -> list[tuple[int, float]]:
        import faiss

        q = self.embedder.embed_query(query).reshape(1, -1).astype(np.float32)
        n = self.index.dense.ntotal if rows is None else rows.size
        k = min(k, n)
        if k <= 0:
            return []
        params = None
        if rows is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(rows))
        scores, ids = self.index.dense.search(q, k, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def _hybrid(self, query: str, k: int, rows: np.ndarray | None) -> list[tuple[int, float]]:
        depth = max(k, self.candidates)
        fused: dict[int, float] = {}
        for ranked in (self._dense(query, depth, rows), self._keyword(query, depth, rows)):
            for rank, (i, _) in enumerate(ranked):
                fused[i] = fused.get(i, 0.0) + 1.0 / (self.rrf_k + rank + 1)
        return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def normalize_query(query: str) -> str:
    """Collapse whitespace; an empty question is an error the user can act on."""
    query = " ".join((query or "").split())
    if not query:
        raise EmptyQueryError()
    return query


def split_filter(values: Sequence[str] | str | None) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())
