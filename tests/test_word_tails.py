"""An add that masks nothing writes its words as a part after the previous build's
(indexer/word_tails.py): the previous keyword and key-word files are linked, not written;
scores, postings and key words read across the parts are those of a whole publish; answers
are the same as a whole build's; a removal folds the parts back into one publish. Real
builds on the fixture corpus."""

from __future__ import annotations

import os
import shutil

import numpy as np
from conftest import make_settings

from beleidszoeker.config import Settings
from indexer.build import build_index
from indexer.joined import Joined
from indexer.rows import RowFile
from indexer.store import load_index, read_manifest
from indexer.term_chain import ChainedTerms
from search_api.answer import answer_question
from search_api.engine import get_searcher
from search_api.retrieval import MODES
from search_api.sentences import sentence_table
from tests.test_word_patch import _assert_as_merged, _known_words

QUESTIONS = [
    "welke projecten gaan over waterstof?",
    "wat heeft de provincie beloofd over snel internet?",
    "Which projects are about hydrogen?",
    "hoeveel kost de aanleg van glasvezel?",
]


# Words no document uses, once each: new terms (one sorting before every other) that
# change no old word's compound split.
NEW_WORDS = "aabbelflap zuzzelkrom quenzivarium"


def _add(settings: Settings, name: str, skip: int, new: str = "") -> None:
    title, body = _known_words(settings, 2, skip), _known_words(settings, 90, skip + 2)
    text = f"{title}\n\n{body} {new}.\n"
    (settings.corpus_dir / name).write_text(text, encoding="utf-8")


def test_adds_are_parts_read_as_one_publish(copy_settings: Settings, tmp_path):
    build_index(copy_settings)
    written = os.stat(copy_settings.index_dir / "keyword" / "indices.csc.index.npy").st_ino
    for i, name in enumerate(["bekend-een.txt", "bekend-twee.txt"]):
        _add(copy_settings, name, 10 * i, NEW_WORDS if i else "")
        report = build_index(copy_settings)
        assert report.added == [name] and report.patched
        build = copy_settings.index_dir.resolve()
        parts = read_manifest(build)["word_parts"]
        assert len(parts) == i + 1 and all((build / p / "keyword").is_dir() for p in parts)
        # The first publish's keyword files are the same inodes: linked, not written.
        base = build / "keyword" / "indices.csc.index.npy"
        assert os.stat(base).st_ino == written
        _assert_as_merged(copy_settings)

    # The same documents published whole answer every question the same way.
    whole = make_settings(
        tmp_path / "whole-corpus", tmp_path / "whole-index", copy_settings.cache_dir,
        chunk_size=copy_settings.chunk_size, chunk_overlap=copy_settings.chunk_overlap,
    )  # fmt: skip
    shutil.copytree(copy_settings.corpus_dir, whole.corpus_dir)
    build_index(whole)
    assert not read_manifest(whole.index_dir.resolve())["word_parts"]
    one, parted = get_searcher(whole), get_searcher(copy_settings)
    assert parted.store.index.keyword._chain is not None
    assert isinstance(parted.store.index.terms, ChainedTerms)
    assert sentence_table(parted.store).in_corpus("zuzzelkrom")
    for question in [*QUESTIONS, _known_words(copy_settings, 4, 5), f"wat is {NEW_WORDS}?"]:
        for mode in MODES:
            a = [(h.chunk.id, h.score) for h in parted.search(question, 10, mode)]
            b = [(h.chunk.id, h.score) for h in one.search(question, 10, mode)]
            assert [i for i, _ in a] == [i for i, _ in b], (question, mode)
            assert np.allclose([s for _, s in a], [s for _, s in b], rtol=1e-6)
        got = answer_question(parted, question).model_dump(exclude={"took_ms"})
        assert got == answer_question(one, question).model_dump(exclude={"took_ms"}), question

    # A removal masks a document: the parts are folded into one publish again.
    (copy_settings.corpus_dir / "bekend-een.txt").unlink()
    report = build_index(copy_settings)
    assert report.removed == ["bekend-een.txt"] and report.patched
    assert not read_manifest(copy_settings.index_dir.resolve())["word_parts"]
    _assert_as_merged(copy_settings)
    index = load_index(copy_settings.index_dir, copy_settings.embedder)
    assert index.keyword._chain is None


def test_joined_arrays_read_as_their_concatenation(tmp_path):
    rng = np.random.default_rng(3)
    parts = [rng.integers(0, 1000, n).astype(np.int32) for n in (5, 0, 7, 1)]
    np.save(tmp_path / "a.npy", parts[2])
    parts[2] = RowFile(tmp_path / "a.npy")  # a part read by position
    joined = Joined(parts)
    want = np.concatenate([np.asarray(p) for p in parts])
    assert len(joined) == len(want) and np.array_equal(np.asarray(joined), want)
    for a in range(len(want) + 1):
        for b in range(a, len(want) + 2):
            assert np.array_equal(joined[a:b], want[a:b]), (a, b)
    assert [int(joined[i]) for i in range(len(want))] == want.tolist()
    assert int(joined[-1]) == int(want[-1])
    ids = rng.integers(0, len(want), 40)
    assert np.array_equal(joined[ids], want[ids])
    words = Joined([np.asarray(["aa", "b"]), np.asarray(["langer woord"])])
    assert words[np.asarray([2, 0, 1])].tolist() == ["langer woord", "aa", "b"]


def test_new_words_split_alone_as_a_whole_split_gives():
    from types import SimpleNamespace

    from indexer.keyword import Decompounder
    from indexer.word_patch import _with_new_words
    from indexer.word_tables import _word_terms

    old = np.asarray(sorted(["breedband", "internet", "breedbandinternet", "aansluiting",
                             "provincie", "drenthe", "waterstof"]))  # fmt: skip
    counts = np.asarray([2 if w in ("breedband", "internet", "aansluiting") else 1 for w in old])
    decompounder = Decompounder(old[counts >= 2].tolist())
    word_terms, term_vocab = _word_terms(old.tolist(), decompounder)
    state = SimpleNamespace(words=old, word_counts=counts, word_terms=word_terms,
                            term_vocab=term_vocab)  # fmt: skip
    # New words, one a compound of known words, one sorting first, one last.
    vocabulary = np.unique(np.r_[old, ["aaabc", "internetaansluiting", "zwembad"]])
    got, got_vocab = _with_new_words(state, vocabulary, decompounder)
    want, want_vocab = _word_terms(vocabulary.tolist(), decompounder)
    assert np.array_equal(got_vocab, want_vocab)
    assert np.array_equal(got.ptr, want.ptr) and np.array_equal(got.ids, want.ids)
    assert decompounder.split("internetaansluiting") == ("internet", "aansluiting")


def test_parts_find_the_best_passages_a_whole_scoring_finds(copy_settings: Settings):
    """The pruned search over parts (stored scores bound the new ones) returns what
    scoring every pair and taking the best gives, for small k too (where it prunes)."""
    from indexer.keyword import best

    build_index(copy_settings)
    _add(copy_settings, "bekend-een.txt", 0, NEW_WORDS)
    build_index(copy_settings)
    keyword = load_index(copy_settings.index_dir, copy_settings.embedder).keyword
    assert keyword._chain is not None
    n = keyword.n_rows
    mask = np.arange(n) % 3 != 0
    for skip in range(0, 60, 4):
        query = f"{_known_words(copy_settings, 3, skip)} zuzzelkrom"
        scores = keyword._scores(keyword.query_terms(query))
        for k in (1, 3, 10, n + 5):
            for m in (None, mask):
                full = scores if m is None else np.where(m, scores, 0)
                want = best(np.arange(n), full, k)
                assert keyword.search(query, k, m) == want, (query, k)
