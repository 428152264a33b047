"""Each segment's words, merged at a publish into the corpus-wide keyword statistics: the
BM25 index and the sentence key words are bit for bit what tokenising every live text
again gives, however the passages are split into segments and whatever is masked."""

from __future__ import annotations

import math

import numpy as np
import pytest

from indexer.build import _sentences
from indexer.keyword import KeywordIndex, terms
from indexer.schema import Chunk, Document
from indexer.sentence_terms import build_sentence_terms
from indexer.word_tables import LiveWords, WordTable, merge


def _from_texts(chunks: list[Chunk], documents: dict[str, Document]):
    """The global statistics as a build computed them before word tables: from the texts."""
    rows, spans, _ = _sentences(chunks)
    keyword = KeywordIndex.build([c.embed_text() for c in chunks])
    return keyword, build_sentence_terms(chunks, documents, keyword.decompounder, rows, spans)


def _segments(groups: list[list[Chunk]], masked: set[str] = frozenset()):
    """Word tables of ``groups`` (one segment each) with ``masked`` documents not served;
    the live passages and the sentence places as the layout gives them."""
    parts, live_chunks, rows, spans = [], [], [], []
    for chunks in groups:
        doc_ids = list(dict.fromkeys(c.document_id for c in chunks))
        s_rows, s_spans, _ = _sentences(chunks)
        table = WordTable.build(chunks, doc_ids, s_rows, s_spans)
        live = np.asarray([i for i, c in enumerate(chunks) if c.document_id not in masked])
        live = live.astype(np.int64)
        live_sentences = np.flatnonzero(np.isin(s_rows, live))
        renumber = np.full(len(chunks), -1)
        renumber[live] = len(live_chunks) + np.arange(len(live))
        rows.append(renumber[s_rows[live_sentences]])
        spans.append(s_spans[live_sentences])
        live_chunks.extend(chunks[i] for i in live)
        parts.append(LiveWords(table, live, live_sentences, doc_ids))
    return parts, live_chunks, (np.concatenate(rows), np.concatenate(spans))


def _assert_identical(merged, keyword: KeywordIndex, expected) -> None:
    assert merged.decompounder.vocabulary == keyword.decompounder.vocabulary
    old = keyword._bm25
    assert merged.bm25["num_docs"] == old.scores["num_docs"]
    assert set(merged.bm25_vocab) == set(old.vocab_dict)
    for term, i in old.vocab_dict.items():
        if term == "":  # bm25s' empty token: in the vocabulary, without a column
            continue
        j = merged.bm25_vocab[term]
        a = slice(old.scores["indptr"][i], old.scores["indptr"][i + 1])
        b = slice(merged.bm25["indptr"][j], merged.bm25["indptr"][j + 1])
        assert np.array_equal(old.scores["indices"][a], merged.bm25["indices"][b]), term
        # The very same float32 scores, not merely close ones.
        assert np.array_equal(old.scores["data"][a].view(np.uint32),
                              merged.bm25["data"][b].view(np.uint32)), term  # fmt: skip
    got = merged.sentence_terms
    got_arrays, want_arrays = got.arrays(), expected.arrays()
    assert set(got_arrays) == set(want_arrays)
    for name, array in want_arrays.items():
        assert np.array_equal(got_arrays[name], array), name


@pytest.fixture(scope="module")
def fixture_chunks(fixture_index):
    index = fixture_index.index
    return list(index.chunks), dict(index.documents)


def _by_document(chunks: list[Chunk]) -> list[list[Chunk]]:
    groups: dict[str, list[Chunk]] = {}
    for c in chunks:
        groups.setdefault(c.document_id, []).append(c)
    return list(groups.values())


def test_one_segment_gives_what_the_texts_give(fixture_chunks):
    chunks, documents = fixture_chunks
    parts, live, places = _segments([chunks])
    assert live == chunks
    _assert_identical(merge(parts, documents, places), *_from_texts(chunks, documents))


def test_tables_built_and_merged_a_few_passages_at_a_time_are_the_same(fixture_chunks, monkeypatch):
    """A large build tokenises, scores and transposes in blocks (memory holds one block's
    pairs): blocks far smaller than the fixture's passages give the very same index."""
    from indexer import sentence_terms, word_tables

    chunks, documents = fixture_chunks
    monkeypatch.setattr(word_tables, "_BUILD_BLOCK", 2)
    monkeypatch.setattr(word_tables, "_MERGE_BLOCK", 2)
    monkeypatch.setattr(sentence_terms, "_TRANSPOSE_BLOCK", 3)
    assert len(chunks) >= 3 * 2
    groups = _by_document(chunks)
    parts, live, places = _segments([groups[0], [c for g in groups[1:] for c in g]])
    _assert_identical(merge(parts, documents, places), *_from_texts(live, documents))
    # A section's passages are never split between blocks, not even when its title comes
    # back later in the document (one section, passages apart).
    chunks = [
        _chunk("a", 0, "Eerste zin over wegen. Tweede zin over bruggen.", "Wegen"),
        _chunk("a", 1, "Meer over wegen en fietspaden in de provincie.", "Wegen"),
        _chunk("a", 2, "Iets over water en dijken.", "Water"),
        _chunk("a", 3, "Weer wegen: onderhoud van viaducten.", "Wegen"),
        _chunk("b", 0, "Andere tekst over zorg.", "Zorg"),
    ]
    documents = {"a": _doc("a", "Wegen en water"), "b": _doc("b", "Zorg")}
    parts, live, places = _segments([chunks])
    _assert_identical(merge(parts, documents, places), *_from_texts(live, documents))


def test_a_segment_per_document_with_one_masked_gives_what_the_live_texts_give(fixture_chunks):
    chunks, documents = fixture_chunks
    groups = _by_document(chunks)
    assert len(groups) >= 3
    masked = {groups[1][0].document_id}
    parts, live, places = _segments(groups, masked)
    assert len(live) == len(chunks) - len(groups[1])
    served = {d: doc for d, doc in documents.items() if d not in masked}
    _assert_identical(merge(parts, served, places), *_from_texts(live, served))


def _doc(doc_id: str, title: str) -> Document:
    return Document(id=doc_id, title=title, path=f"{doc_id}.txt")


def _chunk(doc_id: str, n: int, text: str, section: str = "") -> Chunk:
    end = len(text)
    return Chunk(id=f"{doc_id}#{n}", document_id=doc_id, section=section, text=text,
                 char_start=0, char_end=end, source_start=0, source_end=end)  # fmt: skip


def test_a_new_segment_that_makes_a_word_common_splits_the_old_passages_compounds():
    old = [
        _chunk("oud", 0, "De voucherregelingen helpen ondernemers. Meer volgt later.", "Inleiding")
    ]
    new = [
        _chunk("nieuw", 0, "Een voucher voor scholing. Regelingen: de voucher.", "Scholing"),
        _chunk("nieuw", 1, "Andere regelingen voor scholing.", "Scholing"),
        _chunk("nieuw", 2, "", "Scholing"),  # a passage without words: bm25s' token ∅
    ]
    documents = {"oud": _doc("oud", "Oude regeling"), "nieuw": _doc("nieuw", "Vouchers 2024")}
    parts, live, places = _segments([old, new])
    merged = merge(parts, documents, places)
    _assert_identical(merged, *_from_texts(live, documents))
    # The old passage, written before "voucher" was a word of the corpus, now holds it.
    assert "voucher" in terms("voucherregelingen", merged.decompounder)
    col = merged.bm25_vocab["voucher"]
    held = merged.bm25["indices"][merged.bm25["indptr"][col] : merged.bm25["indptr"][col + 1]]
    assert 0 in held
    # Masking the new document takes the word back out of the vocabulary.
    parts, live, places = _segments([old, new], masked={"nieuw"})
    merged = merge(parts, {"oud": documents["oud"]}, places)
    assert "voucher" not in merged.bm25_vocab
    _assert_identical(merged, *_from_texts(live, {"oud": documents["oud"]}))


def test_word_tables_round_trip_through_files(tmp_path, fixture_chunks):
    chunks, _ = fixture_chunks
    rows, spans, _ = _sentences(chunks)
    table = WordTable.build(chunks, list(dict.fromkeys(c.document_id for c in chunks)), rows, spans)
    table.save(tmp_path / "words")
    loaded = WordTable.load(tmp_path / "words")
    assert not loaded.passage.ids.flags.owndata  # mapped, not read
    for name in ("vocabulary", "passage_counts", "document", "section"):
        assert np.array_equal(getattr(loaded, name), getattr(table, name))
    for name in ("passage", "sentence", "leaf"):
        assert np.array_equal(getattr(loaded, name).ids, getattr(table, name).ids)
        assert np.array_equal(getattr(loaded, name).ptr, getattr(table, name).ptr)


def test_a_table_tokenised_in_worker_processes_is_the_same(fixture_chunks, monkeypatch):
    """A whole build tokenises its blocks in a process per core: the same table, array for
    array, as one process tokenising the texts in one block."""
    from indexer import word_tables

    chunks, _ = fixture_chunks
    doc_ids = list(dict.fromkeys(c.document_id for c in chunks))
    rows, spans, _ = _sentences(chunks)
    one = WordTable.build(chunks, doc_ids, rows, spans)
    monkeypatch.setattr(word_tables, "_BUILD_BLOCK", 2)
    assert len(chunks) > 2 * 2 and len(rows) > 10 * 2  # several blocks of both kinds
    two = WordTable.build(chunks, doc_ids, rows, spans, workers=2)
    for name in ("vocabulary", "passage_counts", "document", "section"):
        assert np.array_equal(getattr(one, name), getattr(two, name)), name
    for name in ("passage", "sentence", "leaf"):
        a, b = getattr(one, name), getattr(two, name)
        assert np.array_equal(a.ptr, b.ptr) and np.array_equal(a.ids, b.ids), name


def test_scores_block_by_block_are_bm25s_float_steps_to_the_bit(monkeypatch):
    """``_scores`` (the patched publish's BM25) scores a block of pairs at a time in one
    buffer; the values are those of bm25s' whole-array float32/float64 expression."""
    from indexer import word_tables
    from indexer.keyword import BM25_B, BM25_K1

    rng = np.random.default_rng(7)
    n, n_terms = 500, 300
    df = rng.integers(1, 40, n_terms)
    doc_of = rng.integers(0, n, int(df.sum())).astype(np.int32)
    tf = rng.integers(1, 9, len(doc_of)).astype(np.int32)
    lengths = rng.integers(1, 400, n).astype(np.int64)
    vocab = np.asarray([f"t{i:04d}" for i in range(n_terms)])
    monkeypatch.setattr(word_tables, "_SCORE_BLOCK", 1000)  # several blocks, one partial

    scores, got_vocab = word_tables._scores(np.arange(n_terms), df, doc_of, tf, lengths, vocab)

    idf = np.asarray([math.log(1 + (n - d + 0.5) / (d + 0.5)) for d in df.tolist()], np.float32)
    l_d = lengths[doc_of]
    tf32 = tf.astype(np.float32)
    tfc = tf32 / (BM25_K1 * ((1 - BM25_B) + BM25_B * l_d / lengths.mean()) + tf32)
    expected = (np.repeat(idf, df) * tfc).astype(np.float32)
    assert len(doc_of) > 3 * 1000
    assert np.array_equal(scores["data"].view(np.uint32), expected.view(np.uint32))
    assert np.array_equal(scores["indices"], doc_of)
    assert np.array_equal(scores["indptr"], np.r_[0, np.cumsum(df)])
    assert got_vocab == {**{t: i for i, t in enumerate(vocab.tolist())}, "": n_terms}
