"""Keyword, dense and hybrid (reciprocal rank fusion) retrieval over a loaded index."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from beleidszoeker.config import RankingConfig, SearchMode
from beleidszoeker.errors import EmptyQueryError, QuestionTooLongError, UnknownDocumentError
from indexer import vectors as ann
from indexer.embedders import Embedder
from indexer.schema import Chunk, Document
from indexer.store import IndexData, vector_specs
from search_api.evidence import QuestionTerms
from search_api.question import analyse
from search_api.sentences import sentence_table

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

    def __init__(self, index: IndexData, embedder: Embedder, ranking: RankingConfig | None = None):
        self.index = index
        self.embedder = embedder
        self.ranking = ranking or RankingConfig()
        # One embedding per question even when search and answer both need it.
        self._query_vector = lru_cache(maxsize=256)(embedder.embed_query)
        self._doc_rows = index.document_rows()  # from the passage columns, no Chunk made

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
        query = expand_promise_question(query)
        mask = None
        if rows is not None:
            mask = np.zeros(len(self.index.chunks), dtype=bool)
            mask[rows] = True
        return self.index.keyword.search(query, k, mask)

    def query_vector(self, query: str) -> np.ndarray:
        """The question's vector; the answer step reuses it instead of embedding again."""
        return self._query_vector(query)

    def _dense(self, query: str, k: int, rows: np.ndarray | None) -> list[tuple[int, float]]:
        """Passages by meaning: the passage's vector and its best-matching sentence count
        equally, so one sentence that answers the question lifts a broad passage."""
        q = self.query_vector(query).reshape(1, -1).astype(np.float32)
        n = self.index.dense.ntotal if rows is None else rows.size
        k = min(k, n)
        if k <= 0:
            return []
        depth = min(n, max(k, self.ranking.candidates))
        specs = vector_specs(self.index.manifest)
        ids = ann.search(self.index.dense, specs["passages"], self.index.vectors, q, depth, rows)
        candidates = {int(i) for i in ids}
        sentences = self.index.sentences
        if sentences is not None and sentences.dense.ntotal:
            allowed = None
            if rows is not None:
                allowed = np.flatnonzero(np.isin(sentences.rows, rows))
            s_depth = min(4 * depth, sentences.dense.ntotal)
            s_ids = ann.search(
                sentences.dense, specs["sentences"], sentences.vectors, q, s_depth, allowed
            )
            candidates.update(int(sentences.rows[i]) for i in s_ids)
        scored = [(i, self._dense_score(q[0], i)) for i in candidates]
        scored.sort(key=lambda item: (-item[1], item[0]))
        return scored[:k]

    def _dense_score(self, q: np.ndarray, row: int) -> float:
        passage = float(self.index.vectors[row] @ q)
        if self.index.sentences is None:
            return passage
        # The passage's sentences, as the sentence table stores them (no per-passage lists).
        terms = sentence_table(self.index).arrays
        ids = terms.vector_rows[terms.first[row] : terms.first[row + 1]]
        if len(ids) == 0:
            return passage
        best = float(np.max(self.index.sentences.vectors[ids] @ q))
        share = self.ranking.sentence_weight
        return (1 - share) * passage + share * best

    def _hybrid(self, query: str, k: int, rows: np.ndarray | None) -> list[tuple[int, float]]:
        """Reciprocal rank fusion, with the keyword list weighted by how much of the
        question its best passage covers: a question in other words than the documents
        ("te dikke inwoners" for "obesitas", or English) gets keyword hits on its common
        words only, and those should not push the passages found by meaning down."""
        depth = max(k, self.ranking.candidates)
        dense = self._dense(query, depth, rows)
        question = analyse(query)
        keyword = self._keyword(query, depth, rows)
        keyword_weight = self.keyword_weight(query, keyword)
        fused: dict[int, float] = {}
        rrf_k = self.ranking.rrf_k
        for ranked, weight in ((dense, 1.0), (keyword, keyword_weight)):
            for rank, (i, _) in enumerate(ranked):
                fused[i] = fused.get(i, 0.0) + weight / (rrf_k + rank + 1)
        ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
        return self._by_proximity(question, ranked) if self.ranking.proximity_weight else ranked

    def keyword_weight(self, query: str, keyword: list[tuple[int, float]]) -> float:
        """How far keyword search can be trusted for this question, from 0 to 1: the most
        of the question's own words (not the goal words added for promise questions) that
        any keyword hit holds."""
        if not keyword:
            return 0.0
        return float(self.index.keyword.coverage(query, [i for i, _ in keyword]).max())

    def _by_proximity(self, question, ranked: list[tuple[int, float]]) -> list[tuple[int, float]]:
        """Nudge up passages where the question's words stand together.

        A passage gains ``proximity_weight`` times the (rarity-weighted) share of the
        question's words found in its best sentence with its neighbours: the answer to
        "welke plek ... wil Drenthe halen" is the sentence that holds most of those words,
        not the passage that repeats one of them most often.
        """
        table = sentence_table(self.index)
        qterms = QuestionTerms.of(question, table, self.ranking)
        depth, weight = self.ranking.proximity_depth, self.ranking.proximity_weight
        scored = []
        for row, score in ranked[:depth]:
            near = max((qterms.coverage(table.window(s)) for s in table.by_row[row]), default=0)
            scored.append((row, score + weight * near))
        scored.sort(key=lambda item: (-item[1], item[0]))
        return scored + ranked[depth:]


# A question about what was promised rarely shares words with the promise itself: policy
# documents state promises as goals and ambitions ("Doelstelling is dat geheel Drenthe in
# 2019 ontsloten is"). Keyword search for such a question also looks for those words.
_PROMISE_WORDS = "doelstelling ambitie streven doel"


def expand_promise_question(query: str) -> str:
    return f"{query} {_PROMISE_WORDS}" if analyse(query).is_promise else query


# One limit for every front end (API, web, CLI): a long "question" costs seconds of CPU.
MAX_QUERY_CHARS = 1000


def normalize_query(query: str) -> str:
    """Collapse whitespace; an empty or overlong question is an error the user can act on."""
    if len(query or "") > MAX_QUERY_CHARS:
        raise QuestionTooLongError(len(query), MAX_QUERY_CHARS)
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
