"""The one interface search and answers read an index through (txtai's ``ann/base.py``).

A store serves one immutable version of an index: the build a folder link points at, or
the version a database published. Passages are addressed by *row* (0..n_passages-1 in
build order) and sentence vectors by *sentence id*, the same numbering in every store, so
rows found by one store's keyword search and another's vectors line up.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from beleidszoeker.errors import UnknownDocumentError
from indexer.cleaning import CleanText
from indexer.keyword import Decompounder, coverage, idf, query_words
from indexer.schema import Chunk, Document
from indexer.sentence_terms import SentenceTerms
from indexer.words import WordBoxes


class IndexStore(ABC):
    """One version of an index, read-only and safe to share between threads."""

    manifest: dict[str, Any]
    documents: Mapping[str, Document]
    decompounder: Decompounder | None

    @property
    @abstractmethod
    def identity(self) -> str:
        """Which version this is (a build folder, a database version): a new one means reload."""

    @property
    @abstractmethod
    def n_passages(self) -> int: ...

    # -- passages
    @abstractmethod
    def passages(self, rows: Sequence[int]) -> list[Chunk]:
        """The passages at ``rows``, in that order (one round trip, not one per row)."""

    def passage(self, row: int) -> Chunk:
        return self.passages([row])[0]

    @abstractmethod
    def rows_of_chunks(self, chunk_ids: Sequence[str]) -> list[int]:
        """The rows of passages named by id."""

    @abstractmethod
    def document_rows(self, document_ids: Iterable[str]) -> np.ndarray:
        """The rows of every passage of these documents, ascending."""

    def filter_rows(self, documents: Sequence[str], year: int | None) -> np.ndarray:
        """Rows of the documents asked for (all when none) of that year (any when None)."""
        for d in documents:
            if d not in self.documents:
                raise UnknownDocumentError(d)
        docs = list(documents) or list(self.documents)
        if year is not None:
            docs = [d for d in docs if self.documents[d].year == year]
        return self.document_rows(docs)

    # -- keyword search (BM25 over the Dutch terms of ``indexer.keyword.terms``)
    @abstractmethod
    def keyword_search(
        self, query: str, k: int, rows: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """(row, BM25 score) with a positive score, best first; ``rows`` limits the rows."""

    @abstractmethod
    def term_postings(
        self, terms: Sequence[str], rows: np.ndarray
    ) -> dict[str, tuple[int, np.ndarray]]:
        """Per known term: how many passages hold it, and which of ``rows`` do."""

    def keyword_coverage(self, query: str, rows: Sequence[int]) -> np.ndarray:
        """Share of the question's keyword weight (IDF) that each passage in ``rows`` holds
        (see ``KeywordIndex.coverage``: the same words, weights and compound rule)."""
        rows = np.asarray(rows, dtype=np.int64)
        found = query_words(query, self.decompounder, lambda t: 0.0, lambda t: True)
        asked = sorted({t for stem, parts, _ in found for t in (stem, *parts)})
        postings = self.term_postings(asked, rows)
        n = self.n_passages
        weighted = query_words(
            query,
            self.decompounder,
            lambda t: idf(n, postings.get(t, (0, None))[0]),
            postings.__contains__,
        )
        empty = np.zeros(0, np.int64)
        return coverage(
            weighted,
            lambda t: np.isin(rows, postings.get(t, (0, empty))[1]),
            np.zeros(len(rows)),
        )

    # -- vectors
    @abstractmethod
    def dense_passages(self, query: np.ndarray, k: int, rows: np.ndarray | None) -> np.ndarray:
        """Rows of the ``k`` passages nearest to ``query`` (inner product), among ``rows``."""

    @abstractmethod
    def dense_sentences(self, query: np.ndarray, k: int, rows: np.ndarray | None) -> np.ndarray:
        """Passage rows of the ``k`` sentences nearest to ``query``, among ``rows``' sentences."""

    def dense_passage_hits(
        self, query: np.ndarray, k: int, rows: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """``dense_passages`` and each passage's inner product with ``query``, as
        ``passage_vectors`` gives it (None: the store does not have them at hand)."""
        return self.dense_passages(query, k, rows), None

    def dense_sentence_hits(
        self, query: np.ndarray, k: int, rows: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """``dense_sentences`` (a passage row per sentence) and each sentence's inner
        product with ``query``, as ``sentence_vectors`` gives it (or None)."""
        return self.dense_sentences(query, k, rows), None

    @abstractmethod
    def passage_vectors(self, rows: Sequence[int]) -> np.ndarray:
        """float32 (len(rows), dim), L2-normalised."""

    @abstractmethod
    def sentence_vectors(self, ids: Sequence[int]) -> np.ndarray:
        """float32 (len(ids), dim): the vectors of sentence ids (``SentenceTerms.vector_rows``)."""

    def sentence_vector_array(self) -> np.ndarray | None:
        """Every sentence vector as one (memory-mapped) array when the store has them so;
        None when they are read by id (``sentence_vectors``)."""
        return None

    @property
    @abstractmethod
    def n_sentences(self) -> int:
        """How many sentence vectors the index holds (0: passages only)."""

    @abstractmethod
    def sentence_places(self) -> tuple[np.ndarray, np.ndarray]:
        """Every sentence vector's passage row (n,) and offsets in the passage (n, 2)."""

    @abstractmethod
    def sentence_terms(self) -> SentenceTerms | None:
        """The key-word arrays of every sentence, as the indexer wrote them (None: none)."""

    # -- documents
    @abstractmethod
    def clean_text(self, document_id: str) -> CleanText:
        """A document's cleaned text; KeyError for an unknown one."""

    @abstractmethod
    def word_boxes(self, document_id: str) -> WordBoxes | None:
        """Where the words of a PDF stand on its pages; None for other formats."""

    @abstractmethod
    def file(self, name: str) -> bytes | None:
        """A further file of the build (the promise register), None when it has none."""
