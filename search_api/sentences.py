"""Split a passage into verbatim sentences, with their offsets in the passage."""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from indexer.keyword import Decompounder, terms
from indexer.sections import SEPARATOR as SECTION_SEPARATOR
from indexer.store import IndexData

if TYPE_CHECKING:
    from search_api.retrieval import Hit

# A sentence ends at . ! ? (optionally followed by a closing quote or bracket) before
# white space and a capital, digit or opening quote; a blank line or a line break before
# a capital (a heading or list item in the cleaned text) ends it as well.
_END = re.compile(
    r"(?<=[.!?])[’'\")\]]?\s+(?=[A-Z0-9À-Ý‘“'\"(•\-–])"
    r"|\n\s*\n"
    r"|\n(?=\s*[A-Z0-9À-Ý•\-–‘“])"
)
# Abbreviations that end in a full stop but not a sentence.
_ABBREV = re.compile(
    r"(?:\b(?:o\.a|d\.w\.z|m\.b\.t|i\.v\.m|bijv|nl|ca|mr|dr|drs|ir|ing|nr|e\.d|e\.a|t\.b\.v|m\.n|z\.g|resp|incl|excl|vs|St|mln|mld)\.|\b[A-Z]\.)$"
)
MIN_CHARS = 12


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int  # offset in the passage text
    end: int


def split_sentences(text: str) -> list[Sentence]:
    """The sentences of ``text``, each a verbatim slice ``text[start:end]``."""
    out: list[Sentence] = []
    start = 0
    for m in _END.finditer(text):
        piece = text[start : m.start()]
        if m.group(0).strip() == "" or not _ABBREV.search(piece.rstrip()):
            _add(out, text, start, m.start())
            start = m.end()
    _add(out, text, start, len(text))
    return out


def _add(out: list[Sentence], text: str, start: int, end: int) -> None:
    piece = text[start:end]
    lead = len(piece) - len(piece.lstrip())
    piece = piece.strip()
    if len(piece) >= MIN_CHARS:
        out.append(Sentence(piece, start + lead, start + lead + len(piece)))


@dataclass(frozen=True)
class IndexedSentence:
    """A sentence of one passage of the index, with its key words."""

    row: int  # the passage's row in the index
    start: int  # offsets in the passage text
    end: int
    text: str
    terms: frozenset[str]


class SentenceTable:
    """Every sentence of every passage, with key words and how rare each word is.

    Built from the index in memory when first needed (well under a second for the shipped
    corpus), so indexing stays as fast as it is and nothing new is stored on disk.
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
        self._row_of = {c.id: row for row, c in enumerate(index.chunks)}
        df: Counter[str] = Counter()
        titles: dict[str, frozenset[str]] = {}
        for row, chunk in enumerate(index.chunks):
            first = len(self.sentences)
            for s in split_sentences(chunk.text):
                found = frozenset(terms(s.text, self.decompounder))
                df.update(found)
                for t in found:
                    self.by_term.setdefault(t, []).append(len(self.sentences))
                self.sentences.append(IndexedSentence(row, s.start, s.end, s.text, found))
            self.by_row.append(range(first, len(self.sentences)))
            doc = chunk.document_id
            if doc not in titles:
                title = index.documents[doc].title if doc in index.documents else ""
                titles[doc] = frozenset(terms(title, self.decompounder))
            leaf = chunk.section.split(SECTION_SEPARATOR)[-1]
            self.context.append(frozenset(terms(leaf, self.decompounder)) | titles[doc])
            self.passage.append(self.context[row].union(*(s.terms for s in self.sentences[first:])))
        n = max(len(self.sentences), 1)
        # Smoothed IDF; a word the corpus never uses gets the highest weight of all.
        self._idf = {t: math.log((n + 1) / (c + 0.5)) for t, c in df.items()}
        self.max_idf = math.log((n + 1) / 0.5)

    def idf(self, term: str) -> float:
        return self._idf.get(term, self.max_idf)

    def rows(self, hits: Sequence[Hit]) -> list[int]:
        """The index rows of the hits' passages."""
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
