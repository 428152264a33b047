"""A publish that keeps the previous build's segments patches its keyword statistics
(indexer/word_patch.py) instead of merging every segment's words again: the result is bit
for bit what the merge gives (and the merge what tokenising every live text gives,
tests/test_word_tables.py), after adds, changes, removals, and when a new document changes
an old word's compound split (then the build merges). Real builds on the fixture corpus."""

from __future__ import annotations

import numpy as np

from beleidszoeker.config import Settings
from indexer.build import build_index
from indexer.keyword import KeywordIndex
from indexer.keyword_parts import whole as whole_keyword
from indexer.segments import Layout
from indexer.store import load_index
from indexer.word_tables import merge


def _assert_as_merged(settings: Settings) -> None:
    """The served keyword index and sentence key words equal a fresh merge of the live
    segments' words, array for array (the float32 scores to the bit)."""
    index = load_index(settings.index_dir, settings.embedder)
    layout = Layout(index.segments)
    expected = merge(
        [s.live_words() for s in index.segments], index.documents, layout.sentence_places()
    )
    keyword = index.keyword
    assert keyword.decompounder.vocabulary == expected.decompounder.vocabulary
    if keyword._chain is not None:  # an add's parts: scored when asked (test_word_tails.py)
        assert_scores_as(keyword, expected)
        got_bm25, vocab, tf, lengths = whole_keyword(keyword._chain)
        assert vocab == expected.bm25_vocab
        for name in ("indptr", "indices"):
            assert np.array_equal(got_bm25[name], expected.bm25[name]), name
        assert np.array_equal(tf, expected.state.tf)
        assert np.array_equal(lengths, expected.state.lengths)
        _assert_terms(index.terms, expected.sentence_terms)
        return
    assert keyword._bm25.vocab_dict == expected.bm25_vocab
    got = keyword._bm25.scores
    assert got["num_docs"] == expected.bm25["num_docs"] == layout.n_passages
    for name in ("indptr", "indices"):
        assert np.array_equal(got[name], expected.bm25[name]), name
    data = np.asarray(got["data"])  # read by position when loaded (indexer/rows.py)
    assert np.array_equal(data.view(np.uint32), expected.bm25["data"].view(np.uint32))
    state, want = keyword.state or index_state(index), expected.state
    for name in ("tf", "lengths"):
        assert np.array_equal(getattr(state, name), getattr(want, name)), name
    _assert_terms(index.terms, expected.sentence_terms)


def _assert_terms(terms, want_terms) -> None:
    got_arrays, want_arrays = terms.arrays(), want_terms.arrays()
    assert set(got_arrays) == set(want_arrays)
    for name, array in want_arrays.items():
        assert np.array_equal(got_arrays[name], array), name


def assert_scores_as(keyword, expected) -> None:
    """Every term's BM25 scores and postings as the merged index has them, to the bit."""
    merged = KeywordIndex.from_scores(expected.bm25, expected.bm25_vocab, expected.decompounder)
    assert keyword.n_rows == merged.n_rows
    terms = sorted(t for t in expected.bm25_vocab if t)
    assert keyword._vocab - {""} == set(terms)
    for term in terms:
        got, want = keyword._scores([term]), merged._scores([term])
        assert np.array_equal(got.view(np.uint32), want.view(np.uint32)), term
        assert np.array_equal(keyword._postings(term), merged._postings(term)), term
    both = terms[::7]  # several terms at once add up in the same order
    assert np.array_equal(keyword._scores(both), merged._scores(both))


def index_state(index):
    from indexer.word_tables import PublishState

    return PublishState.load(index.path / "keyword")


def _known_words(settings: Settings, n: int, skip: int = 0) -> str:
    """Words the index's compound splitter already knows (used twice or more): a text of
    them makes no old word split differently."""
    index = load_index(settings.index_dir, settings.embedder)
    known = sorted(w for w in index.keyword.decompounder.vocabulary if w.isalpha())
    return " ".join(known[skip : skip + n])


def test_adds_changes_and_removals_patch_what_a_merge_gives(copy_settings: Settings):
    corpus = copy_settings.corpus_dir
    assert not build_index(copy_settings).patched  # a first index: merged whole
    _assert_as_merged(copy_settings)

    title, body = _known_words(copy_settings, 2), _known_words(copy_settings, 120, 2)
    (corpus / "bekend.txt").write_text(f"{title}\n\n{body}.\n", encoding="utf-8")
    report = build_index(copy_settings)
    assert report.added == ["bekend.txt"] and report.patched
    _assert_as_merged(copy_settings)

    # A changed document (masked in its segment, its new version in a new one) and the
    # added one removed, in one run.
    changed = corpus / "breedband-en-werk.txt"
    extra = _known_words(copy_settings, 30, 40)
    changed.write_text(changed.read_text(encoding="utf-8") + f"\n\n{extra}.\n", "utf-8")
    (corpus / "bekend.txt").unlink()
    report = build_index(copy_settings)
    assert report.changed and report.removed == ["bekend.txt"] and report.patched
    _assert_as_merged(copy_settings)

    # Only a removal (no new segment): patched, or merged when a word it held falls
    # below two uses and so changes an old split; the same statistics either way.
    (corpus / "zorg-en-welzijn.md").unlink()
    report = build_index(copy_settings)
    assert report.removed == ["zorg-en-welzijn.md"]
    _assert_as_merged(copy_settings)


def test_a_new_compound_split_of_an_old_word_is_merged_whole(copy_settings: Settings):
    corpus = copy_settings.corpus_dir
    (corpus / "regeling.txt").write_text(
        "Voucherregelingen\n\nDe voucherregelingen van de provincie helpen ondernemers; "
        "zulke regelingen, en andere regelingen, zijn er meer.\n",
        encoding="utf-8",
    )
    build_index(copy_settings)
    index = load_index(copy_settings.index_dir, copy_settings.embedder)
    assert not index.keyword.decompounder.split("voucherregelingen")
    # "voucher" used twice: a known word now, so the old "voucherregelingen" splits.
    (corpus / "voucher.txt").write_text(
        "Vouchers\n\nEen voucher voor elk bedrijf, een voucher per jaar.\n", encoding="utf-8"
    )
    report = build_index(copy_settings)
    assert report.added == ["voucher.txt"] and not report.patched
    index = load_index(copy_settings.index_dir, copy_settings.embedder)
    assert index.keyword.decompounder.split("voucherregelingen") == ("voucher", "regelingen")
    _assert_as_merged(copy_settings)
    # And the next add, which changes no old word's split, patches again.
    title, body = _known_words(copy_settings, 2), _known_words(copy_settings, 80, 2)
    (corpus / "bekend.txt").write_text(f"{title}\n\n{body}.\n", encoding="utf-8")
    assert build_index(copy_settings).patched
    _assert_as_merged(copy_settings)
