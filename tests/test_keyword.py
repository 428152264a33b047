"""Folding text for keyword search: lower case, accents dropped, the same for every character."""

from __future__ import annotations

import sys
import unicodedata

from indexer.keyword import _fold, terms, words


def _reference(text: str) -> str:
    """The per-character definition: NFKD, then every combining mark left out."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def test_fold_drops_accents():
    assert _fold("Geïnvesteerd in CAFÉ’s") == "geinvesteerd in cafe’s"
    assert words("Het geïnvesteerde bedrag") == words("het geinvesteerde bedrag")


def test_fold_agrees_with_the_per_character_definition_on_every_code_point():
    everything = "".join(
        chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF
    )  # surrogates cannot stand alone in a str to normalise
    assert _fold(everything) == _reference(everything)


def test_terms_split_compounds_the_corpus_knows():
    from indexer.keyword import Decompounder

    splitter = Decompounder.from_texts(["voucher vouchers regelingen regelingen"] * 2)
    assert terms("voucherregelingen", splitter)[1:] == terms("voucher regelingen")


def test_holding_agrees_with_isin_on_ascending_postings():
    import numpy as np

    from indexer.keyword import holding

    rng = np.random.default_rng(3)
    for size in (0, 1, 7, 500):
        posting = np.unique(rng.integers(0, 1000, size)).astype(np.int32)
        rows = rng.integers(0, 1100, 300)  # some past the last row any posting holds
        assert holding(rows, posting).tolist() == np.isin(rows, posting).tolist()


def test_keyword_postings_are_ascending(fixture_index):
    """``holding`` bisects each term's passages: bm25s must store them in row order."""
    import numpy as np

    keyword = fixture_index.index.keyword
    for term in sorted(keyword._vocab - {""}):  # bm25s's empty token has no column
        posting = np.asarray(keyword._postings(term))
        assert np.all(np.diff(posting) > 0), term
