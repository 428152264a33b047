"""Dutch keyword search: Snowball stemming, Dutch stop words, compound splitting, BM25."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from indexer.rows import RowFile, mapped

STEMMER = "dutch"
# BM25 (bm25s' Lucene variant); the PostgreSQL store computes the same scores in SQL.
BM25_K1, BM25_B = 1.2, 0.75
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_MIN_PART = 4
# Dutch linking sounds, tried before the bare join: "gezondheid-s-centrum", "boek-en-kast".
_LINKS = ("s", "en", "", "e")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_DUTCH

    # Question words carry no topic; they would only match other questions in the text.
    extra = {
        "welke",
        "welk",
        "wat",
        "wie",
        "waar",
        "wanneer",
        "hoe",
        "hoeveel",
        "waarom",
        "gaan",
        "gaat",
        "over",
    }
    return frozenset(_fold(w) for w in STOPWORDS_DUTCH) | frozenset(extra)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer(STEMMER)


def _fold(text: str) -> str:
    """Lower case without accents, so "geïnvesteerd" and "geinvesteerd" match."""
    # One translate call rather than a Python test per character: this runs over every
    # passage and sentence at each index run (most of an add's time before).
    lower = text.lower()
    if lower.isascii():  # nothing to decompose
        return lower
    return unicodedata.normalize("NFKD", lower).translate(_combining())


@lru_cache(maxsize=1)
def _combining() -> dict[int, None]:
    """Every combining mark, to be dropped (all stand below U+20000: tests/test_keyword.py)."""
    return dict.fromkeys((c for c in range(0x20000) if unicodedata.combining(chr(c))), None)


def words(text: str) -> list[str]:
    """Folded content words (stop words removed), unstemmed."""
    return [w for w in _TOKEN.findall(_fold(text)) if len(w) > 1 and w not in _stopwords()]


class Decompounder:
    """Splits Dutch compounds into words the corpus also uses on their own.

    "voucherregelingen" -> "voucher" + "regelingen" when both stand in the corpus, so a
    question about vouchers finds the compound and a question with the compound finds the
    parts. The vocabulary comes from the indexed texts and is saved with the index.
    """

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self.vocabulary = frozenset(w for w in vocabulary if len(w) >= _MIN_PART)
        # Parts match by stem as well: "voucher" in "voucherregelingen" is known from "vouchers".
        self._stems = frozenset(_stemmer().stemWords(sorted(self.vocabulary)))

    def _known(self, part: str) -> bool:
        return part in self.vocabulary or _stemmer().stemWord(part) in self._stems

    @classmethod
    def from_texts(cls, texts: Iterable[str], min_count: int = 2) -> Decompounder:
        return cls.from_words((words(t) for t in texts), min_count)

    @classmethod
    def from_words(cls, found: Iterable[list[str]], min_count: int = 2) -> Decompounder:
        """From the ``words`` of each text (the keyword index has them already)."""
        counts = Counter(w for ws in found for w in ws)
        return cls(w for w, n in counts.items() if n >= min_count)

    @lru_cache(maxsize=65536)  # noqa: B019 - one instance per index, words repeat a lot
    def split(self, word: str) -> tuple[str, ...]:
        if len(word) < 2 * _MIN_PART:
            return ()
        whole = _stemmer().stemWord(word)
        for i in range(len(word) - _MIN_PART, _MIN_PART - 1, -1):
            head, tail = word[:i], word[i:]
            if not self._known(tail):
                continue
            if _stemmer().stemWord(head) == whole:
                continue  # "burgemee" + "ster" is the word's own stem plus a suffix
            for link in _LINKS:
                stem = head[: len(head) - len(link)]
                if head.endswith(link) and len(stem) >= _MIN_PART and self._known(stem):
                    # "breedbandinternet" + "aansluiting": the head may be a compound too.
                    return (*(self.split(stem) or (stem,)), tail)
        return ()


def terms(text: str, decompounder: Decompounder | None = None) -> list[str]:
    """Stemmed content words of ``text``, compounds followed by their parts."""
    return terms_of_words(words(text), decompounder)


def terms_of_words(found: list[str], decompounder: Decompounder | None = None) -> list[str]:
    """``terms`` of a text whose ``words`` are known."""
    out: list[str] = []
    for w in found:
        out.append(w)
        if decompounder is not None:
            out.extend(decompounder.split(w))
    return _stemmer().stemWords(out)


def idf(n: int, df: int) -> float:
    """How rare a word is among ``n`` texts when ``df`` of them hold it (BM25's IDF).

    The one IDF of Beleidszoeker: keyword search weighs passages with it, and answers weigh
    a sentence's words with it; a word no text holds weighs most.
    """
    return float(np.log(1 + (n - df + 0.5) / (df + 0.5)))


# A question word as coverage weighs it: its stem, the stems of its compound parts, a weight.
Word = tuple[str, tuple[str, ...], float]


def query_words(
    text: str,
    decompounder: Decompounder | None,
    weight: Callable[[str], float],
    known: Callable[[str], bool],
    keep: Callable[[str], bool] | None = None,
) -> list[Word]:
    """The question's content words with their weights, each once.

    A compound the texts use whole weighs what its stem weighs; one they only know by its
    parts weighs what its rarest part weighs ("voucherregelingen" is as specific as
    "voucher"). ``keep`` may leave words out (English function words, say).
    """
    out: list[Word] = []
    seen: set[str] = set()
    for word in words(text):
        stem = _stemmer().stemWord(word)
        if stem in seen or (keep is not None and not keep(word)):
            continue
        seen.add(stem)
        parts = tuple(_stemmer().stemWords(list(decompounder.split(word)))) if decompounder else ()
        if known(stem) or not parts:
            out.append((stem, parts, weight(stem)))
        else:
            out.append((stem, parts, max(weight(p) for p in parts)))
    return out


def coverage(found: list[Word] | tuple[Word, ...], holds: Callable[[str], Any], zero: Any = 0.0):
    """Weighted share of the question's words that ``holds``; a compound counts by its parts.

    ``holds(term)`` answers for one text (a bool) or many at once (a boolean array): the one
    implementation behind keyword trust, proximity and an answer's evidence.
    """
    total, got = 0.0, zero
    for stem, parts, weight in found:
        total += weight
        held = holds(stem)
        if parts:
            share = sum(holds(p) for p in parts) / len(parts)
            held = np.maximum(held, share) if isinstance(share, np.ndarray) else max(held, share)
        got = got + weight * held
    return got / total if total else got


def holding(rows: np.ndarray, posting: np.ndarray) -> np.ndarray:
    """Which of ``rows`` stand in the ascending ``posting``: one bisection per row, so a
    question's cost follows its candidates, not how many passages hold a common word
    (``np.isin`` sorts the whole posting: most of a search's time at 100k passages)."""
    if not len(posting):
        return np.zeros(len(rows), dtype=bool)
    at = np.searchsorted(posting, rows)
    return posting[np.minimum(at, len(posting) - 1)] == rows


def best(rows: np.ndarray, scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The ``k`` best (row, score) with a positive score, by score, then by row (ties
    in row order, however the scores were found)."""
    keep = scores > 0
    if np.count_nonzero(keep) > 4 * k:  # many: only those scored as the k-th or above
        keep &= scores >= np.partition(scores, len(scores) - k)[len(scores) - k]
    rows, scores = rows[keep], scores[keep]
    order = np.lexsort((rows, -scores))[:k]
    return [(int(r), float(x)) for r, x in zip(rows[order], scores[order], strict=True)]


COMPOUNDS = "compound_vocabulary.json"  # the splitter's words, beside the keyword index


def save_compounds(directory: Path, vocabulary: Iterable[str]) -> None:
    text = json.dumps(sorted(vocabulary), ensure_ascii=False)
    (directory / COMPOUNDS).write_text(text, encoding="utf-8")


def load_compounds(directory: Path) -> list[str]:
    return json.loads((directory / COMPOUNDS).read_text(encoding="utf-8"))


class KeywordIndex:
    """A BM25 index over chunk texts; rows line up with the chunk list."""

    def __init__(self, retriever, decompounder: Decompounder, state: Any = None) -> None:
        self._bm25 = retriever
        self._vocab = set(retriever.vocab_dict)
        self.decompounder = decompounder
        # What the next publish patches (indexer.word_tables.PublishState), saved beside.
        self.state = state
        # With parts added since the whole publish, their scores are made when asked
        # (indexer/keyword_parts.py): bm25s' stored ones hold the statistics before.
        self._chain = None

    @classmethod
    def build(cls, texts: list[str]) -> KeywordIndex:
        import bm25s

        found = [words(t) for t in texts]  # once: the splitter's vocabulary and the terms
        decompounder = Decompounder.from_words(found)
        retriever = bm25s.BM25(k1=BM25_K1, b=BM25_B)
        corpus_terms = [
            terms_of_words(ws, decompounder) or ["∅"] for ws in found
        ]  # ∅: bm25s needs a token
        retriever.index(corpus_terms, show_progress=False)
        return cls(retriever, decompounder)

    @classmethod
    def from_scores(
        cls, scores: dict, vocab: dict[str, int], decompounder: Decompounder, state: Any = None
    ) -> KeywordIndex:
        """The index whose scores ``indexer.word_tables`` merged from the segments' words
        (what ``build`` computes from the texts, without reading them)."""
        import bm25s

        retriever = bm25s.BM25(k1=BM25_K1, b=BM25_B)
        retriever.scores = scores
        retriever.vocab_dict = vocab
        retriever.unique_token_ids_set = set(vocab.values())
        retriever.nonoccurrence_array = None  # Lucene BM25 has none
        return cls(retriever, decompounder, state)

    def save(self, directory: Path) -> None:
        self._bm25.save(str(directory))
        save_compounds(directory, self.decompounder.vocabulary)
        if self.state is not None:
            self.state.save(directory)

    @classmethod
    def load(cls, directory: Path, parts: Sequence[Path] = ()) -> KeywordIndex:
        """The index in ``directory``, with the pairs of the parts added after it."""
        import bm25s

        # The newest publish's splitter: what it counted over every passage.
        vocab = load_compounds(parts[-1] if parts else directory)
        # The score matrix grows with the passages, and a question reads only the columns
        # of its words: those read by position (bm25s slices them, ``data[a:b]``), so the
        # page-cache folios around them do not become the server's memory as mapped pages
        # would. ``indptr``, an entry per term, stays mapped.
        retriever = bm25s.BM25.load(str(directory), mmap=True)
        for name in ("data", "indices"):
            retriever.scores[name] = RowFile(directory / f"{name}.csc.index.npy")
        index = cls(retriever, Decompounder(vocab))
        if parts:
            from indexer.keyword_parts import Chain, Part
            from indexer.word_tables import STATE

            index._chain = Chain(
                retriever.scores, retriever.vocab_dict,
                RowFile(directory / f"{STATE}tf.npy"), mapped(directory / f"{STATE}lengths.npy"),
                [Part.load(p) for p in parts],
            )  # fmt: skip
            index._vocab = index._chain.terms
        return index

    @property
    def n_rows(self) -> int:
        return self._chain.n if self._chain is not None else self._bm25.scores["num_docs"]

    def query_terms(self, query: str) -> list[str]:
        return [t for t in terms(query, self.decompounder) if t in self._vocab]

    def coverage(self, query: str, rows: np.ndarray) -> np.ndarray:
        """Share of the question's keyword weight (IDF) that each passage in ``rows`` holds.

        A word the corpus never uses weighs most: it is the question's own vocabulary
        ("obese", "te dikke inwoners") that keyword search cannot see, so a passage that
        matches only the question's common words covers little of it. A compound the corpus
        only knows by its parts ("voucherregelingen") counts by the parts it holds.
        """
        rows = np.asarray(rows, dtype=np.int64)
        postings = {}

        def posting(term: str) -> np.ndarray:
            if term not in postings:
                postings[term] = self._postings(term)
            return postings[term]

        n = self.n_rows
        weighted = query_words(
            query, self.decompounder, lambda t: idf(n, len(posting(t))), self._vocab.__contains__
        )
        return coverage(weighted, lambda t: holding(rows, posting(t)), np.zeros(len(rows)))

    def _postings(self, term: str) -> np.ndarray:
        """The rows that hold ``term``, ascending (a memory-mapped slice: bm25s stores each
        term's passages in row order)."""
        if self._chain is not None:
            return self._chain.postings(term)
        tid = self._bm25.vocab_dict.get(term)
        if tid is None:
            return np.zeros(0, dtype=np.int64)
        indptr = self._bm25.scores["indptr"]
        return self._bm25.scores["indices"][indptr[tid] : indptr[tid + 1]]

    def _scores(self, query_terms: list[str]) -> np.ndarray:
        """Every passage's BM25 score for these terms: bm25s' ``get_scores``, the same sums
        in the same order, without its ``np.add.at`` (a term's passages are distinct, so a
        plain indexed add is exact, and ten times faster over a common word's million)."""
        if self._chain is not None:
            return self._chain.scores(query_terms, np.dtype(self._bm25.dtype))
        stored = self._bm25.scores
        data, indices, indptr = stored["data"], stored["indices"], stored["indptr"]
        scores = np.zeros(stored["num_docs"], dtype=np.dtype(self._bm25.dtype))
        for term in query_terms:
            tid = self._bm25.vocab_dict[term]
            a, b = int(indptr[tid]), int(indptr[tid + 1])
            scores[indices[a:b]] += data[a:b]
        return scores

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, score) pairs with a positive score, best first; ``mask`` limits the rows."""
        q = self.query_terms(query)
        n = self.n_rows
        if not q or k <= 0:
            return []
        if self._chain is not None:
            return self._chain.top(q, k, mask, np.dtype(self._bm25.dtype))
        scores = self._scores(q)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        k = min(k, n)
        kth = np.partition(scores, n - k)[n - k]
        # Every passage scored as the k-th, so equal scores go in row order.
        found = np.flatnonzero(scores >= kth) if kth > 0 else np.flatnonzero(scores > 0)
        return best(found, scores[found], k)
