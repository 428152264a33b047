"""Dutch keyword search: Snowball stemming, Dutch stop words, compound splitting, BM25."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np

STEMMER = "dutch"
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
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


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
        counts = Counter(w for t in texts for w in words(t))
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
    out: list[str] = []
    for w in words(text):
        out.append(w)
        if decompounder is not None:
            out.extend(decompounder.split(w))
    return _stemmer().stemWords(out)


class KeywordIndex:
    """A BM25 index over chunk texts; rows line up with the chunk list."""

    def __init__(self, retriever, decompounder: Decompounder) -> None:
        self._bm25 = retriever
        self._vocab = set(retriever.vocab_dict)
        self.decompounder = decompounder

    @classmethod
    def build(cls, texts: list[str]) -> KeywordIndex:
        import bm25s

        decompounder = Decompounder.from_texts(texts)
        retriever = bm25s.BM25(k1=1.2, b=0.75)
        corpus_terms = [terms(t, decompounder) or ["∅"] for t in texts]  # bm25s needs a token
        retriever.index(corpus_terms, show_progress=False)
        return cls(retriever, decompounder)

    def save(self, directory: Path) -> None:
        self._bm25.save(str(directory))
        vocab = sorted(self.decompounder.vocabulary)
        (directory / "compound_vocabulary.json").write_text(json.dumps(vocab, ensure_ascii=False))

    @classmethod
    def load(cls, directory: Path) -> KeywordIndex:
        import bm25s

        vocab = json.loads((directory / "compound_vocabulary.json").read_text(encoding="utf-8"))
        return cls(bm25s.BM25.load(str(directory)), Decompounder(vocab))

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
        total, held = 0.0, np.zeros(len(rows))
        for word in dict.fromkeys(words(query)):
            stem = _stemmer().stemWord(word)
            parts = _stemmer().stemWords(list(self.decompounder.split(word)))
            if stem in self._vocab or not parts:
                weight, share = self._weigh(stem, rows)
            else:
                weighed = [self._weigh(p, rows) for p in parts]
                weight = max(w for w, _ in weighed)
                share = sum(h for _, h in weighed) / len(parts)
            total += weight
            held += weight * share
        return held / total if total else held

    def _weigh(self, term: str, rows: np.ndarray) -> tuple[float, np.ndarray]:
        """The term's BM25 IDF, and which of ``rows`` hold it."""
        tid = self._bm25.vocab_dict.get(term)
        postings = np.zeros(0, dtype=np.int64)
        if tid is not None:
            indptr = self._bm25.scores["indptr"]
            postings = self._bm25.scores["indices"][indptr[tid] : indptr[tid + 1]]
        n, df = self._bm25.scores["num_docs"], len(postings)
        return float(np.log(1 + (n - df + 0.5) / (df + 0.5))), np.isin(rows, postings)

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, score) pairs with a positive score, best first; ``mask`` limits the rows."""
        q = self.query_terms(query)
        n = self._bm25.scores["num_docs"]
        if not q or k <= 0:
            return []
        scores = self._bm25.get_scores(q)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        k = min(k, n)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]
