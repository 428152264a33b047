"""Dutch keyword search: Snowball stemming, Dutch stop words, BM25 (bm25s)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import numpy as np

STEMMER = "dutch"
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


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
        "beloofd",
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


def terms(text: str) -> list[str]:
    """Stemmed content words of ``text``, in order (the unit of keyword matching)."""
    words = [w for w in _TOKEN.findall(_fold(text)) if len(w) > 1 and w not in _stopwords()]
    return _stemmer().stemWords(words)


class KeywordIndex:
    """A BM25 index over chunk texts; rows line up with the chunk list."""

    def __init__(self, retriever) -> None:
        self._bm25 = retriever
        self._vocab = set(retriever.vocab_dict)

    @classmethod
    def build(cls, texts: list[str]) -> KeywordIndex:
        import bm25s

        retriever = bm25s.BM25(k1=1.2, b=0.75)
        corpus_terms = [terms(t) or ["∅"] for t in texts]  # bm25s needs a token per row
        retriever.index(corpus_terms, show_progress=False)
        return cls(retriever)

    def save(self, directory: Path) -> None:
        self._bm25.save(str(directory))

    @classmethod
    def load(cls, directory: Path) -> KeywordIndex:
        import bm25s

        return cls(bm25s.BM25.load(str(directory)))

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, score) pairs with a positive score, best first; ``mask`` limits the rows."""
        q = [t for t in terms(query) if t in self._vocab]
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
