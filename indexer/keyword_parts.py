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

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.checksums import save_npy
from indexer.keyword import BM25_B, BM25_K1, best
from indexer.rows import RowFile, mapped
from indexer.sentence_terms import position

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
        i = position(self.terms, term)
        if i is None:
            return None
        a, b = int(self.ptr[i]), int(self.ptr[i + 1])
        return np.asarray(self.rows[a:b]), np.asarray(self.tf[a:b])

    def df(self, term: str) -> int:
        """How many of these passages hold ``term``."""
        i = position(self.terms, term)
        return 0 if i is None else int(self.ptr[i + 1] - self.ptr[i])

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

    def __init__(self, stored: dict, vocab: dict[str, int], tf, lengths,
                 parts: Sequence[Part]) -> None:  # fmt: skip
        self._stored, self._vocab, self._tf = stored, vocab, tf
        self._indices, self._indptr = stored["indices"], stored["indptr"]
        self.parts = list(parts)
        base = np.asarray(lengths)
        every = np.concatenate([base, *(np.asarray(p.lengths) for p in parts)])
        self.n, self.n_base = len(every), len(base)
        self.lengths = every
        # As bm25s normalises: per passage, in float64, from the mean of every length.
        self._norm = BM25_K1 * ((1 - BM25_B) + BM25_B * every / every.mean())
        # How much a stored score can have moved with the average length (see ``top``).
        self._length_moved = float(every.mean() / base.mean()) if len(base) else 1.0
        self.terms = set(vocab) - {""} | {str(t) for p in parts for t in p.terms}

    def top(self, query_terms: list[str], k: int, mask: np.ndarray | None,
            dtype) -> list[tuple[int, float]]:  # fmt: skip
        """``KeywordIndex.search``'s hits of a whole publish, without scoring every pair.

        The stored scores of the whole publish's passages are summed as they are; with
        the new statistics each term's score of a passage moves by a factor known per
        term (its IDF's ratio, times at most the average length's ratio), so a passage's
        new score lies within known bounds of its stored one. Only the passages whose
        upper bound reaches the k-th best lower bound can be among the k best: those, and
        the added passages, are scored exactly, pair by pair as ``scores`` does.
        """
        stored = np.zeros(self.n_base, dtype=dtype)
        low, high = math.inf, 0.0
        data = self._stored["data"]
        base_pairs: dict[str, np.ndarray] = {}
        for term in dict.fromkeys(query_terms):
            tid = self._vocab.get(term)
            if tid is None or not term:
                continue
            a, b = int(self._indptr[tid]), int(self._indptr[tid + 1])
            rows = np.asarray(self._indices[a:b])
            base_pairs[term] = rows
            before = _idf(self.n_base, b - a)
            now = _idf(self.n, b - a + sum(p.df(term) for p in self.parts))
            ratio = now / before
            low, high = min(low, ratio), max(high, ratio)
        for term in query_terms:  # every occurrence, as ``scores`` adds them up
            if term in base_pairs:
                tid = self._vocab[term]
                a, b = int(self._indptr[tid]), int(self._indptr[tid + 1])
                stored[base_pairs[term]] += np.asarray(data[a:b])
        moved = self._length_moved
        low *= min(1.0, moved) * (1 - _MARGIN)
        high *= max(1.0, moved) * (1 + _MARGIN)
        added = np.arange(self.n_base, self.n)
        added_scores = self._exact(query_terms, added, base_pairs)
        if mask is not None:
            stored = np.where(mask[: self.n_base], stored, 0)
            added_scores = np.where(mask[self.n_base :], added_scores, 0)
        k = min(k, self.n)
        if k <= 0:
            return []
        # The k best stored scores' lower bounds and the added passages' scores: the k-th
        # best of those is a score at least k passages reach.
        first = stored if k >= len(stored) else np.partition(stored, len(stored) - k)[-k:]
        pool = np.concatenate([first[first > 0] * low, added_scores[added_scores > 0]])
        if len(pool) > k:
            bound = np.partition(pool, len(pool) - k)[len(pool) - k]
            held = np.flatnonzero(stored >= bound / high)
        else:
            held = np.flatnonzero(stored > 0)
        rows = np.concatenate([held, added[added_scores > 0]])
        scores = np.concatenate(
            [self._exact(query_terms, held, base_pairs), added_scores[added_scores > 0]]
        )
        return best(rows, scores, k)

    def _exact(self, query_terms: list[str], rows: np.ndarray,
               base_pairs: dict[str, np.ndarray]) -> np.ndarray:  # fmt: skip
        """The scores of ``rows`` (ascending), the float steps of ``scores``, per pair."""
        out = np.zeros(len(rows), np.float32)
        if not len(rows):
            return out
        for term in query_terms:
            pairs = []
            tid = self._vocab.get(term)
            if term in base_pairs and rows[0] < self.n_base:
                found = base_pairs[term]
                hit, at = _held_at(found, rows)
                if hit.any():
                    a = int(self._indptr[tid])
                    pairs.append((hit, _read(self._tf, a, len(found), at)))
            for part in self.parts:
                got = part.pairs(term)
                if got is None:
                    continue
                hit, at = _held_at(got[0], rows)
                if hit.any():
                    pairs.append((hit, got[1][at]))
            if not pairs:
                continue
            df = len(base_pairs.get(term, ())) + sum(p.df(term) for p in self.parts)
            idf = _idf32(self.n, df)
            for hit, tf in pairs:
                out[hit] += self._pair_scores(rows[hit], tf, idf)
        return out

    def _pair_scores(self, rows: np.ndarray, tf: np.ndarray, idf: np.float32) -> np.ndarray:
        """Each pair's score, in bm25s' float32/float64 steps (``word_tables._scores``)."""
        t = np.asarray(tf).astype(np.float32)
        x = np.take(self._norm, rows)
        x += t
        np.divide(t, x, out=x)
        x *= idf
        return x.astype(np.float32)

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
            idf = _idf32(self.n, sum(len(r) for r, _ in pairs))
            for rows, tf in pairs:
                scores[rows] += self._pair_scores(rows, tf, idf)
        return scores


_MARGIN = 1e-4  # rounding of the float32 sums and IDFs, with room to spare


def _read(values, start: int, size: int, at: np.ndarray) -> np.ndarray:
    """``values[start + at]``: the whole run of ``size`` read at once when ``at`` is more
    than a sliver of it (one read of a term's frequencies beats thousands of small ones)."""
    if len(at) * 64 > size:
        return np.asarray(values[start : start + size])[at]
    return np.asarray(values[start + at])


def _idf(n: int, df: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def _idf32(n: int, df: int) -> np.float32:
    """A term's IDF as bm25s stores it (``math.log``, then float32)."""
    return np.float32(_idf(n, df))


def _held_at(posting: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which of ``rows`` stand in the ascending ``posting`` (``keyword.holding``), and
    where they stand in it."""
    at = np.searchsorted(posting, rows)
    hit = at < len(posting)
    hit[hit] = posting[at[hit]] == rows[hit]
    return hit, at[hit]


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
