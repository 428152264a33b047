"""Keyword, dense and hybrid (reciprocal rank fusion) retrieval over an index store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from beleidszoeker.config import RankingConfig, SearchMode
from beleidszoeker.errors import EmptyQueryError, QuestionTooLongError
from indexer.embedders import Embedder
from indexer.schema import Chunk, Document
from indexer.store import IndexData
from indexer.stores.base import IndexStore
from search_api.evidence import QuestionTerms
from search_api.passage_features import Retrieved, passage_rows
from search_api.per_index import store_of
from search_api.question import QuestionInfo, analyse
from search_api.ranker import PassageRanker, get_ranker
from search_api.sentences import sentence_table
from search_api.threads import beside, one_blas_thread

MODES: tuple[SearchMode, ...] = ("hybrid", "dense", "keyword")


@dataclass(frozen=True)
class Hit:
    rank: int
    score: float
    chunk: Chunk
    document: Document
    # Its rank in the fused list, when the passage ranker moved it (None: not re-ordered).
    fused_rank: int | None = None


@dataclass(frozen=True)
class Filters:
    documents: tuple[str, ...] = ()
    year: int | None = None

    def is_empty(self) -> bool:
        return not self.documents and self.year is None


class Searcher:
    """Searches one index store; safe to share between threads."""

    def __init__(
        self,
        store: IndexStore | IndexData,
        embedder: Embedder,
        ranking: RankingConfig | None = None,
        ranker: PassageRanker | None = None,
    ):
        self.store = store_of(store)
        self.embedder = embedder
        self.ranking = ranking or RankingConfig()
        self._ranker = ranker  # None: the one `beleidszoeker train` saved, if any
        # One embedding per question even when search and answer both need it.
        self._query_vector = lru_cache(maxsize=256)(embedder.embed_query)

    @property
    def index(self) -> IndexData:
        """The loaded index folder behind a folder store (tools that read the folder itself)."""
        index = getattr(self.store, "index", None)
        if index is None:
            raise AttributeError("this searcher reads a database, not an index folder")
        return index

    @one_blas_thread()
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
        fused_ranks: dict[int, int] = {}
        if mode == "keyword":
            ranked = self._keyword(query, k, rows)
        elif mode == "dense":
            ranked = self._dense(query, k, rows)
        elif mode == "hybrid":
            ranked, fused_ranks = self._hybrid(query, k, rows)
        else:
            raise ValueError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
        ranked = ranked[:k]
        chunks = self.store.passages([i for i, _ in ranked])
        documents = self.store.documents
        return [
            Hit(r + 1, s, chunk, documents[chunk.document_id], fused_ranks.get(i))
            for r, ((i, s), chunk) in enumerate(zip(ranked, chunks, strict=True))
        ]

    def hits(self, rows: list[int], first_rank: int = 1, score: float = 0.0) -> list[Hit]:
        """Passages at ``rows`` as hits ranked from ``first_rank`` (read in one go)."""
        documents = self.store.documents
        return [
            Hit(first_rank + r, score, chunk, documents[chunk.document_id])
            for r, chunk in enumerate(self.store.passages(rows))
        ]

    def _allowed_rows(self, filters: Filters) -> np.ndarray | None:
        if filters.is_empty():
            return None
        return self.store.filter_rows(filters.documents, filters.year)

    def _keyword(self, query: str, k: int, rows: np.ndarray | None) -> list[tuple[int, float]]:
        return self.store.keyword_search(expand_promise_question(query), k, rows)

    def query_vector(self, query: str) -> np.ndarray:
        """The question's vector; the answer step reuses it instead of embedding again."""
        return self._query_vector(query)

    def _dense(self, query: str, k: int, rows: np.ndarray | None) -> list[tuple[int, float]]:
        """Passages by meaning: the passage's vector and its best-matching sentence count
        equally, so one sentence that answers the question lifts a broad passage."""
        q = self.query_vector(query).astype(np.float32)
        n = self.store.n_passages if rows is None else rows.size
        k = min(k, n)
        if k <= 0:
            return []
        depth = min(n, max(k, self.ranking.candidates))
        found, scores = self.store.dense_passage_hits(q, depth, rows)
        passage = {} if scores is None else dict(zip(found.tolist(), scores.tolist(), strict=True))
        candidates = {int(i) for i in found}
        best: dict[int, float] = {}
        if self.store.n_sentences:
            s_depth = min(4 * depth, self.store.n_sentences)
            found, scores = self.store.dense_sentence_hits(q, s_depth, rows)
            candidates.update(int(r) for r in found)
            # The nearest sentences hold every sentence nearer than the last of them, so a
            # passage among them has its best sentence among them (an ANN index may have
            # missed a nearer one): its sentences need not be read again.
            if scores is not None:
                for row, score in zip(found.tolist(), scores.tolist(), strict=True):
                    best[row] = max(score, best.get(row, score))
        rows_read = sorted(candidates)
        scored = list(zip(rows_read, self._dense_scores(q, rows_read, passage, best), strict=True))
        scored.sort(key=lambda item: (-item[1], item[0]))
        return scored[:k]

    def _dense_scores(
        self,
        q: np.ndarray,
        rows: list[int],
        passage_known: dict[int, float],
        best_known: dict[int, float],
    ) -> list[float]:
        """Each passage's dense score: its own vector and its best sentence's, each read
        from the vectors unless already known."""
        passage = np.array([passage_known.get(r, np.nan) for r in rows], np.float64)
        missing = np.isnan(passage)
        if missing.any():
            at = [r for r, m in zip(rows, missing.tolist(), strict=True) if m]
            passage[missing] = (self.store.passage_vectors(at) @ q).astype(np.float64)
        best = np.array([best_known.get(r, np.nan) for r in rows], np.float64)
        missing = np.isnan(best)
        if missing.any():
            at = [r for r, m in zip(rows, missing.tolist(), strict=True) if m]
            best[missing] = self._similarities(q, at, mean=False, passage=passage[missing])[1]
        share = self.ranking.sentence_weight
        return [float(v) for v in (1 - share) * passage + share * best]

    def _similarities(
        self, q: np.ndarray, rows: list[int], mean: bool = True, passage: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(passage, best sentence, mean sentence) similarity of each passage to ``q``, as
        the sentence table stores a passage's sentences (vectors read in two round trips);
        a passage without sentence vectors counts as its own sentence. ``mean=False``
        leaves the mean at the passage's similarity: dense search scores hundreds of
        candidates by their best sentence and needs no mean. ``passage``: the passages'
        similarities when already known."""
        if not rows:
            empty = np.zeros(0, np.float64)
            return empty, empty, empty
        if passage is None:
            passage = (self.store.passage_vectors(rows) @ q).astype(np.float64)
        if not self.store.n_sentences:
            return passage, passage.copy(), passage.copy()
        terms = sentence_table(self.store).arrays
        at = np.asarray(rows, np.int64)
        starts, counts = terms.first[at], terms.first[at + 1] - terms.first[at]
        # Every candidate's sentence ids in one gather (in passage order), not a slice each.
        ends = np.cumsum(counts)
        total = int(ends[-1])
        offsets = np.repeat(starts - (ends - counts), counts) + np.arange(total)
        ids = terms.vector_rows[offsets] if total else np.zeros(0, np.int64)
        sims = self.store.sentence_vectors(ids) @ q if total else np.zeros(0, np.float32)
        best, average = passage.copy(), passage.copy()
        owning = counts > 0
        if owning.any():
            # Segments of the candidates that own sentences start here in ``sims``: the max
            # of each, exact whatever the order (a Python loop per passage cost more than the
            # vectors' reading at 100k passages).
            best[owning] = np.maximum.reduceat(sims, (ends - counts)[owning])
        if mean:
            for i in np.flatnonzero(owning):
                a = int(ends[i] - counts[i])
                average[i] = float(np.mean(sims[a : int(ends[i])]))
        return passage, best, average

    def _hybrid(
        self, query: str, k: int, rows: np.ndarray | None
    ) -> tuple[list[tuple[int, float]], dict[int, int]]:
        """Rank fusion, then the learned passage ranker over its head when its record says
        it measured better on dev than fusion alone; also each re-ordered passage's rank in
        the fused list."""
        question = analyse(query)
        retrieved = self._fused(query, question, max(k, self.ranking.candidates), rows)
        ranker = self.active_ranker()
        if ranker is None:
            return retrieved.fused, {}
        depth = self.rerank_depth(ranker)
        head = retrieved.fused[:depth]
        order = ranker.order(self.passage_features(query, question, retrieved, depth))
        # The head keeps its scores, sorted, so scores still fall with the rank.
        scores = sorted((s for _, s in head), reverse=True)
        reranked = [(head[i][0], s) for i, s in zip(order, scores, strict=True)]
        fused_ranks = {head[i][0]: int(i) + 1 for i in order}
        return reranked + retrieved.fused[depth:], fused_ranks

    def active_ranker(self) -> PassageRanker | None:
        """The passage ranker hybrid search uses: none when the ranking turns it off, none
        was trained, or it did not beat rank fusion on dev."""
        if not self.ranking.rerank:
            return None
        ranker = self._ranker if self._ranker is not None else get_ranker()
        return ranker if ranker is not None and ranker.in_use else None

    def rerank_depth(self, ranker: PassageRanker) -> int:
        depth = self.ranking.rerank_depth
        return ranker.depth if depth is None else depth

    def fused_candidates(self, query: str, depth: int) -> tuple[list[int], np.ndarray]:
        """The top ``depth`` passages of rank fusion alone (never re-ranked) and their
        passage features: what the passage ranker is trained on."""
        query = normalize_query(query)
        question = analyse(query)
        retrieved = self._fused(query, question, max(depth, self.ranking.candidates), None)
        features = self.passage_features(query, question, retrieved, depth)
        return [r for r, _ in retrieved.fused[:depth]], features

    def passage_features(
        self, query: str, question: QuestionInfo, retrieved: Retrieved, depth: int
    ) -> np.ndarray:
        """The passage ranker's rows for the top ``depth`` fused candidates."""
        head = [r for r, _ in retrieved.fused[:depth]]
        table = sentence_table(self.store)
        q = self.query_vector(query).astype(np.float32)
        return passage_rows(
            self.store,
            table,
            question,
            QuestionTerms.of(question, table, self.ranking),
            retrieved,
            self._similarities(q, head),
            self.ranking.sentence_weight,
            depth,
        )

    def _fused(
        self, query: str, question: QuestionInfo, depth: int, rows: np.ndarray | None
    ) -> Retrieved:
        """Reciprocal rank fusion, with the keyword list weighted by how much of the
        question its best passage covers: a question in other words than the documents
        ("te dikke inwoners" for "obesitas", or English) gets keyword hits on its common
        words only, and those should not push the passages found by meaning down."""
        keyword_later = beside(self._keyword, query, depth, rows)
        dense = self._dense(query, depth, rows)
        keyword = keyword_later.result()
        keyword_weight = self.keyword_weight(query, keyword)
        fused: dict[int, float] = {}
        rrf_k = self.ranking.rrf_k
        for ranked, weight in ((dense, 1.0), (keyword, keyword_weight)):
            for rank, (i, _) in enumerate(ranked):
                fused[i] = fused.get(i, 0.0) + weight / (rrf_k + rank + 1)
        ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
        if self.ranking.proximity_weight:
            ranked = self._by_proximity(question, ranked)
        return Retrieved(dense, keyword, ranked, keyword_weight)

    def keyword_weight(self, query: str, keyword: list[tuple[int, float]]) -> float:
        """How far keyword search can be trusted for this question, from 0 to 1: the most
        of the question's own words (not the goal words added for promise questions) that
        any keyword hit holds."""
        if not keyword:
            return 0.0
        return float(self.store.keyword_coverage(query, [i for i, _ in keyword]).max())

    def _by_proximity(self, question, ranked: list[tuple[int, float]]) -> list[tuple[int, float]]:
        """Nudge up passages where the question's words stand together.

        A passage gains ``proximity_weight`` times the (rarity-weighted) share of the
        question's words found in its best sentence with its neighbours: the answer to
        "welke plek ... wil Drenthe halen" is the sentence that holds most of those words,
        not the passage that repeats one of them most often.
        """
        table = sentence_table(self.store)
        qterms = QuestionTerms.of(question, table, self.ranking)
        depth, weight = self.ranking.proximity_depth, self.ranking.proximity_weight
        # The passages' texts in one read (a database store keeps them for the table).
        self.store.passages([row for row, _ in ranked[:depth]])
        asked = qterms.asked
        # Windows holding the same question words cover it alike: each set scored once.
        covered: dict[frozenset[str], float] = {}
        scored = []
        for row, score in ranked[:depth]:
            near = 0.0
            for held in table.windows_holding(row, asked):
                if held not in covered:
                    covered[held] = qterms.coverage(held)
                near = max(near, covered[held])
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
