"""The key words of every sentence, written at index time and read on demand, and
large files verified by sampled blocks."""

from __future__ import annotations

import shutil
from collections import Counter

import numpy as np
import pytest

from indexer import store
from indexer.keyword import idf, terms
from indexer.rows import RowFile
from indexer.sections import SEPARATOR as SECTION_SEPARATOR
from indexer.sentence_terms import FOLDER
from indexer.store import load_index, verify_build
from search_api.sentences import SentenceTable, sentence_table


@pytest.fixture(scope="module")
def table(fixture_index):
    return sentence_table(fixture_index.index)


def test_the_build_writes_the_arrays_and_a_load_reads_them_on_demand(fixture_index, table):
    index = fixture_index.index
    assert (index.path / FOLDER / "postings.ids.npy").is_file()
    # Per occurrence: read by position; per sentence and per passage: mapped from the file.
    assert isinstance(index.terms.postings.ids, RowFile)
    assert isinstance(index.terms.sentence_terms.ids, RowFile)
    for mapped in (index.terms.first, index.terms.starts, index.terms.sentence_terms.ptr):
        assert not mapped.flags.owndata
        assert not mapped.flags.writeable
    assert table.arrays is index.terms  # the table is a view, nothing rebuilt
    assert len(table.sentences) == len(index.sentences.rows)


def test_every_sentence_holds_the_words_of_its_own_text(fixture_index, table):
    index = fixture_index.index
    decompounder = index.keyword.decompounder
    for row, chunk in enumerate(index.chunks):
        ids = table.by_row[row]
        assert ids, chunk.id
        starts = [table.sentences[i].start for i in ids]
        assert starts == sorted(starts)
        for i in ids:
            s = table.sentences[i]
            assert s.row == row
            assert s.text == chunk.text[s.start : s.end]
            assert s.terms == frozenset(terms(s.text, decompounder))
            # Its vector is the one the index stores for this very sentence.
            assert index.sentences.rows[s.vector] == row
            assert tuple(index.sentences.spans[s.vector]) == (s.start, s.end)


def test_postings_and_rarity_match_a_count_over_the_sentences(table):
    df: Counter[str] = Counter()
    holders: dict[str, list[int]] = {}
    for i in range(len(table.sentences)):
        for t in table.sentences[i].terms:
            df[t] += 1
            holders.setdefault(t, []).append(i)
    n = len(table.sentences)
    for t, count in df.items():
        assert table.by_term.get(t, []) == holders[t]
        assert table.in_corpus(t)
        assert table.idf(t) == pytest.approx(idf(n, count))
    assert not table.in_corpus("xyzzyplugh")
    assert table.by_term.get("xyzzyplugh", []) == []
    assert table.idf("xyzzyplugh") == table.max_idf == pytest.approx(idf(n, 0))


def test_context_passage_and_section_words(fixture_index, table):
    index = fixture_index.index
    decompounder = index.keyword.decompounder
    for row, chunk in enumerate(index.chunks):
        title = terms(index.documents[chunk.document_id].title, decompounder)
        leaf = terms(chunk.section.split(SECTION_SEPARATOR)[-1], decompounder)
        assert set(title) <= table.context[row]
        assert set(leaf) <= table.context[row]
        own = set().union(*(table.sentences[i].terms for i in table.by_row[row]))
        assert table.passage[row] == table.context[row] | own
        assert table.passage[row] <= table.section[row]
        same = [
            r
            for r, c in enumerate(index.chunks)
            if (c.document_id, c.section) == (chunk.document_id, chunk.section)
        ]
        assert table.section[row] == frozenset().union(*(table.passage[r] for r in same))


def test_a_sections_words_are_stored_once_numbered_by_its_first_passage(real_index):
    index = real_index.index
    sections = index.terms.section_terms
    keys = [(c.document_id, c.section) for c in index.chunks]
    first_seen = list(dict.fromkeys(keys))
    assert len(sections.lists) == len(first_seen) < len(keys)  # some sections span passages
    assert [first_seen.index(k) for k in keys] == np.asarray(sections.of).tolist()


def test_an_index_without_stored_arrays_gets_the_same_table(fixture_index, table):
    index = fixture_index.index
    in_memory = SentenceTable(
        store.IndexData(
            index.manifest,
            index.documents,
            index.chunks,
            np.asarray(index.vectors),
            index.keyword,
            index.sentences,
        )
    )
    for i in range(len(table.sentences)):
        assert in_memory.sentences[i] == table.sentences[i]
    for row in range(len(index.chunks)):
        assert in_memory.section[row] == table.section[row]


# ---------------------------------------------------------------- sampled verification


def test_large_files_are_verified_by_samples_at_load_and_whole_by_check(
    fixture_settings, fixture_index, tmp_path, monkeypatch
):
    monkeypatch.setattr(store, "SAMPLED_ABOVE", 10_000)
    monkeypatch.setattr(store, "_SAMPLE_BYTES", 256)
    index_dir = tmp_path / "index"
    build = store.write_index(
        index_dir, fixture_index.index, dict(fixture_index.index._texts), None
    )
    manifest = store.read_manifest(build)
    large = manifest["files"]["sentence_vectors.npy"]
    assert large["size"] > 10_000 and "sample_sha256" in large
    assert "sample_sha256" not in manifest["files"]["documents.json"]
    assert verify_build(build) == [] and verify_build(build, full=True) == []

    # A byte between the sampled blocks: only the full check sees it.
    path = build / "sentence_vectors.npy"
    data = bytearray(path.read_bytes())
    blocks = [(len(data) - store._SAMPLE_BYTES) * i // (store._SAMPLES - 1) for i in range(64)]
    gap = next(
        b + store._SAMPLE_BYTES + 1
        for b, nxt in zip(blocks, blocks[1:], strict=False)
        if nxt - b > store._SAMPLE_BYTES + 2
    )
    data[gap] ^= 0xFF
    path.write_bytes(bytes(data))
    assert verify_build(build) == []
    assert verify_build(build, full=True) == ["sentence_vectors.npy does not match its checksum"]

    # A byte in a sampled block (the first): refused at load.
    data[blocks[0] + 200] ^= 0xFF
    path.write_bytes(bytes(data))
    assert verify_build(build) == ["sentence_vectors.npy does not match its checksum"]
    shutil.rmtree(index_dir.parent / f"{index_dir.name}.builds")


def test_the_shipped_settings_load_an_index_whose_files_are_all_hashed(fixture_settings):
    build = fixture_settings.index_dir.resolve()
    files = store.read_manifest(build)["files"]
    assert all("sha256" in f for f in files.values())
    assert load_index(fixture_settings.index_dir, fixture_settings.embedder).path == build


@pytest.mark.parametrize(
    "at",
    [[], [0], [7], [7, 7, 7], [0, 3, 3, 5, 7], [5, 1, 3]],
    ids=["none", "first", "after", "three-after", "spread", "unsorted"],
)
def test_a_spliced_array_is_saved_as_np_insert_gives_it(tmp_path, at):
    """An add writes the previous build's key words with its entries put in, by copying
    the old file's bytes around them (sentence_terms.Spliced), not through memory."""
    from indexer.rows import mapped
    from indexer.sentence_terms import Spliced

    source = np.arange(100, 107, dtype=np.int32)
    np.save(tmp_path / "old.npy", source)
    old = mapped(tmp_path / "old.npy")
    values = np.arange(len(at), dtype=np.int64) + 900

    spliced = Spliced.of(old, np.asarray(at, np.int64), values)
    spliced.save(tmp_path / "new.npy")

    assert isinstance(spliced, Spliced) and len(spliced) == len(source) + len(at)
    expected = np.insert(source, np.asarray(at, np.int64), values.astype(np.int32))
    got = np.load(tmp_path / "new.npy")
    assert got.dtype == np.int32 and np.array_equal(got, expected)
    # An array in memory (no file to copy from) is put together by np.insert.
    in_memory = Spliced.of(source, np.asarray(at, np.int64), values)
    assert isinstance(in_memory, np.ndarray) and np.array_equal(in_memory, expected)


def test_a_lists_size_is_its_length_without_reading_it(fixture_index):
    postings = fixture_index.index.terms.postings
    assert [postings.size(t) for t in range(len(postings))] == [
        len(postings[t]) for t in range(len(postings))
    ]
    assert sum(postings.size(t) for t in range(len(postings))) == len(postings.ids) > 0


@pytest.mark.parametrize("pick", ["first sentence", "two words", "nothing"])
def test_windows_holding_are_the_windows_cut_to_the_words_asked(table, pick):
    asked = {
        "first sentence": table.sentences[0].terms | {"onbekendwoord"},
        "two words": frozenset({"waterstof", "onbekendwoord"}),
        "nothing": frozenset(),
    }[pick]
    some = 0
    for row in range(len(table.by_row)):
        held = table.windows_holding(row, asked)
        assert held == [table.window(i) & asked for i in table.by_row[row]]
        some += sum(bool(h) for h in held)
    assert bool(some) == (pick != "nothing")  # the words known stand somewhere
