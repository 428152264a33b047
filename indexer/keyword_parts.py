"""BM25 over a whole publish's pairs and the pairs each add brought, scored when asked.

bm25s stores every (term, passage) pair's score with the IDF and the average passage
length baked in, so one added passage changes every stored score: at a million passages
an add rewrote 1.2 GB of keyword files. An add now writes only its own pairs (a ``Part``:
each term's new passages and term frequencies, and the new passages' lengths) beside the
previous files, linked as they are; a question's terms are then scored from the
frequencies with the statistics of every part together, in bm25s' own float32/float64
steps, so the scores are those a whole publish would store, bit for bit
(tests/test_word_tails.py).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.checksums import save_npy
from indexer.keyword import BM25_B, BM25_K1
from indexer.rows import RowFile, mapped

COMPOUNDS = "compound_vocabulary.json"
_ARRAYS = ("terms", "ptr", "rows", "tf", "lengths")


@dataclass
class Part:
    """The pairs of the passages an add brought, by term."""

    terms: np.ndarray  # str, sorted: the terms these passages hold
    ptr: np.ndarray  # int64 (len(terms) + 1): term i's pairs are ptr[i]:ptr[i+1]
    rows: np.ndarray | RowFile  # int32: the passages (index rows), ascending per term
    tf: np.ndarray | RowFile  # int32: each pair's term frequency
    lengths: np.ndarray  # int64 per added passage: its length in terms

    def pairs(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        i = int(np.searchsorted(self.terms, term))
        if i >= len(self.terms) or self.terms[i] != term:
            return None
        a, b = int(self.ptr[i]), int(self.ptr[i + 1])
        return np.asarray(self.rows[a:b]), np.asarray(self.tf[a:b])

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for name in _ARRAYS:
            save_npy(directory / f"{name}.npy", getattr(self, name))

    @classmethod
    def load(cls, directory: Path) -> Part:
        terms, ptr, lengths = (mapped(directory / f"{n}.npy") for n in ("terms", "ptr", "lengths"))
        return cls(terms, ptr, RowFile(directory / "rows.npy"), RowFile(directory / "tf.npy"),
                   lengths)  # fmt: skip


class Chain:
    """A whole publish's pairs (bm25s' columns and the publish state's frequencies) and
    each added part's, scored with the statistics of all of them."""

    def __init__(self, indices, indptr, vocab: dict[str, int], tf, lengths,
                 parts: Sequence[Part]) -> None:  # fmt: skip
        self._indices, self._indptr, self._vocab, self._tf = indices, indptr, vocab, tf
        self.parts = list(parts)
        every = np.concatenate([np.asarray(lengths), *(np.asarray(p.lengths) for p in parts)])
        self.n = len(every)
        self.lengths = every
        # As bm25s normalises: per passage, in float64, from the mean of every length.
        self._norm = BM25_K1 * ((1 - BM25_B) + BM25_B * every / every.mean())
        self.terms = set(vocab) - {""} | {str(t) for p in parts for t in p.terms}

    def _pairs(self, term: str) -> list[tuple[np.ndarray, np.ndarray]]:
        found = []
        tid = self._vocab.get(term)
        if tid is not None and term:
            a, b = int(self._indptr[tid]), int(self._indptr[tid + 1])
            found.append((np.asarray(self._indices[a:b]), np.asarray(self._tf[a:b])))
        for part in self.parts:
            if (got := part.pairs(term)) is not None:
                found.append(got)
        return found

    def postings(self, term: str) -> np.ndarray:
        """The rows that hold ``term``, ascending (each part's rows follow the ones before)."""
        rows = [r for r, _ in self._pairs(term)]
        if not rows:
            return np.zeros(0, np.int64)
        return rows[0] if len(rows) == 1 else np.concatenate(rows)

    def scores(self, query_terms: list[str], dtype) -> np.ndarray:
        """Every passage's BM25 score: ``KeywordIndex._scores`` of a whole publish."""
        scores = np.zeros(self.n, dtype=dtype)
        for term in query_terms:
            pairs = self._pairs(term)
            df = sum(len(r) for r, _ in pairs)
            idf = np.float32(math.log(1 + (self.n - df + 0.5) / (df + 0.5)))
            for rows, tf in pairs:
                t = tf.astype(np.float32)
                x = np.take(self._norm, rows)
                x += t
                np.divide(t, x, out=x)
                x *= idf
                scores[rows] += x.astype(np.float32)
        return scores


def save_compounds(directory: Path, vocabulary) -> None:
    words = sorted(vocabulary)
    (directory / COMPOUNDS).write_text(json.dumps(words, ensure_ascii=False), encoding="utf-8")


def load_compounds(directory: Path) -> list[str]:
    return json.loads((directory / COMPOUNDS).read_text(encoding="utf-8"))


def whole(chain: Chain) -> tuple[dict, dict[str, int], np.ndarray, np.ndarray]:
    """The columns, vocabulary, frequencies and lengths a whole publish stores for the
    pairs of ``chain`` (what a publish that is not an add patches)."""
    base_terms = sorted((t for t in chain._vocab if t), key=chain._vocab.get)
    sources = [(np.asarray(base_terms, dtype=str), np.asarray(chain._indptr, np.int64),
                chain._indices, chain._tf)]  # fmt: skip
    for p in chain.parts:
        sources.append((np.asarray(p.terms), np.asarray(p.ptr, np.int64), p.rows, p.tf))
    terms = np.unique(np.concatenate([s[0] for s in sources]))
    term_of = np.concatenate(
        [np.repeat(np.searchsorted(terms, t), np.diff(ptr)) for t, ptr, _, _ in sources]
    )
    # Stable: each term's rows stay ascending, the base's then each part's.
    order = np.argsort(term_of, kind="stable")
    rows = np.concatenate([np.asarray(r) for _, _, r, _ in sources])[order]
    tf = np.concatenate([np.asarray(f) for _, _, _, f in sources])[order]
    indptr = np.zeros(len(terms) + 1, np.int64)
    np.cumsum(np.bincount(term_of, minlength=len(terms)), out=indptr[1:])
    vocab = {str(t): i for i, t in enumerate(terms.tolist())}
    vocab[""] = len(vocab)  # as bm25s adds its empty token
    scores = {"indices": rows.astype(np.int32), "indptr": indptr, "num_docs": chain.n}
    lengths = np.asarray(chain.lengths, np.int64)
    return scores, vocab, tf.astype(np.int32), lengths
