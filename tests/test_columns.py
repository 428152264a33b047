"""Passages and cleaned texts as columns read back exactly as written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from beleidszoeker.config import Settings
from indexer import columns
from indexer.cleaning import CleanText, clean
from indexer.columns import ChunkTable, TextStore
from indexer.schema import Chunk
from indexer.store import IndexData, load_index


def _chunks() -> list[Chunk]:
    return [
        Chunk(id="a#0", document_id="a", section="Inleiding", text="Eerste passage.", char_start=0,
              char_end=15, source_start=0, source_end=16, page=1, page_end=1),
        Chunk(id="b#0", document_id="b", text="Één passage met ë en € en 🚲.", char_start=0,
              char_end=28, source_start=3, source_end=31),
        Chunk(id="a#1", document_id="a", section="Inleiding", text="", char_start=15,
              char_end=15, source_start=16, source_end=16, page=2, page_end=3),
        Chunk(id="a#2", document_id="a", section="Slot", text="Laatste.\nRegel.", char_start=15,
              char_end=30, source_start=16, source_end=33, page=None, page_end=None),
    ]  # fmt: skip


def test_chunk_table_reads_every_field_back(tmp_path: Path):
    chunks = _chunks()
    ChunkTable.write(tmp_path / "chunks", chunks, ["a", "b"])
    table = ChunkTable(tmp_path / "chunks", ["a", "b"])

    assert len(table) == len(chunks)
    assert [c.model_dump() for c in table] == [c.model_dump() for c in chunks]
    assert table[-1] == chunks[-1]
    assert table[1:3] == chunks[1:3]
    with pytest.raises(IndexError):
        table[len(chunks)]
    rows = table.document_rows()
    assert {d: r.tolist() for d, r in rows.items()} == {"a": [0, 2, 3], "b": [1]}


def test_a_full_pass_reads_blocks_of_rows_as_a_row_at_a_time(tmp_path: Path, monkeypatch):
    chunks = _chunks() * 3  # blocks of 4 rows: two whole, one short, an empty text in each
    ChunkTable.write(tmp_path / "chunks", chunks, ["a", "b"])
    monkeypatch.setattr(columns, "_BLOCK", 4)
    table = ChunkTable(tmp_path / "chunks", ["a", "b"])

    assert list(table) == [table[i] for i in range(len(table))] == chunks
    assert table._texts[5:11] == [c.text for c in chunks[5:11]]


def test_rows_and_spans_agree_for_a_table_and_a_list(tmp_path: Path):
    chunks = _chunks()
    ChunkTable.write(tmp_path / "chunks", chunks, ["a", "b"])
    table = ChunkTable(tmp_path / "chunks", ["a", "b"])
    in_memory = IndexData({}, {}, chunks, np.zeros((4, 2), np.float32), None)
    mapped = IndexData({}, {}, table, np.zeros((4, 2), np.float32), None)

    for index in (in_memory, mapped):
        assert [index.chunk_row(c.id) for c in chunks] == [0, 1, 2, 3]
        with pytest.raises(KeyError):
            index.chunk_row("a#9")
        starts, ends = index.chunk_spans()
        assert starts.tolist() == [c.char_start for c in chunks]
        assert ends.tolist() == [c.char_end for c in chunks]


def test_text_store_gives_each_text_and_its_offsets(tmp_path: Path):
    raws = {"a": "Zon-\nne-energie in   Emmen.\n\nEen tweede alinea.", "b": "Kort.", "c": ""}
    texts = {d: clean(raw) for d, raw in raws.items()}
    TextStore.write(tmp_path, texts, list(raws))
    store = TextStore(tmp_path, list(raws))

    assert set(store) == set(raws) and "x" not in store
    for d, expected in texts.items():
        got = store[d]
        assert isinstance(got, CleanText)
        assert got.text == expected.text
        assert np.array_equal(np.asarray(got.offsets), np.asarray(expected.offsets))
    with pytest.raises(KeyError):
        store["x"]


def test_a_loaded_index_reads_passages_from_columns(fixture_index, fixture_settings: Settings):
    index = load_index(fixture_settings.index_dir, fixture_settings.embedder)

    assert isinstance(index.chunks, ChunkTable)
    rows = index.document_rows()
    assert sorted(rows) == sorted(index.documents)
    for doc, doc_rows in rows.items():
        text = index.clean_text(doc).text
        for row in doc_rows:
            chunk = index.chunks[int(row)]
            assert chunk.document_id == doc
            assert index.chunk_row(chunk.id) == row
            assert chunk.text.strip() in text
