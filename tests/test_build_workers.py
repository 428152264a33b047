"""A build read in worker processes is the build read in one; checksums taken as written."""

from __future__ import annotations

import hashlib
import json
import time

import numpy as np
import pytest

from benchmarks.synthetic import STANDIN_SPEC, build_source, generate_corpus, register_standin
from indexer import checksums
from indexer.build import build_index
from indexer.pool import grouped, ordered_map
from indexer.reading import POOL_FROM
from indexer.store import MANIFEST, mapped_array, verify_build
from tests.conftest import make_settings

# What differs between two builds of the same corpus: when and as which build they ran.
_OF_THE_RUN = {"created_at", "build_id", "checksum", "corpus_dir"}


@pytest.fixture(scope="module")
def synthetic(fixture_index, fixture_settings, tmp_path_factory):
    """A corpus of more documents than a pool starts at, with stand-in vectors."""
    source = build_source(fixture_settings.index_dir, fixture_settings.embedder, ["water"])
    register_standin(source)
    corpus = tmp_path_factory.mktemp("many") / "corpus"
    n_docs = generate_corpus(corpus, source, 400, 400, 60, n_sections=1)
    assert n_docs >= POOL_FROM + 8  # enough for several groups of documents per worker
    return corpus


def _build(corpus, root, cache, workers: int):
    settings = make_settings(
        corpus, root / "index", cache, chunk_size=400, chunk_overlap=60,
        embedder=STANDIN_SPEC, index_workers=workers,
    )  # fmt: skip
    report = build_index(settings)
    return report, report.index_path


def test_two_workers_write_the_index_one_writes(synthetic, tmp_path):
    cache = tmp_path / "cache"
    one, path_one = _build(synthetic, tmp_path / "one", cache, 1)
    two, path_two = _build(synthetic, tmp_path / "two", cache, 2)
    assert one.n_chunks == two.n_chunks > 200
    assert one.skipped == two.skipped == []
    files = sorted(p.relative_to(path_one) for p in path_one.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(path_two) for p in path_two.rglob("*") if p.is_file())
    for rel in files:  # arrays, columns, vector indexes, word tables: byte for byte
        if rel.name != MANIFEST:
            assert (path_one / rel).read_bytes() == (path_two / rel).read_bytes(), rel

    def of_the_corpus(path):
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        for segment in manifest["segments"]:
            segment.pop("id")
        return {k: v for k, v in manifest.items() if k not in _OF_THE_RUN}

    assert of_the_corpus(path_one) == of_the_corpus(path_two)


def test_ordered_map_keeps_the_order_of_its_groups():
    groups = list(grouped([[5, 1], [3], [2, 9], [0, 4]] * 20, 3))
    expected = [x for group in groups for x in sorted(group)]
    # ``sorted`` per group, in two worker processes (more groups than are queued at once).
    assert list(ordered_map(sorted, groups, 2)) == expected
    assert list(ordered_map(sorted, groups, 1)) == expected


def test_grouped_keeps_every_item_once():
    assert list(grouped(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(grouped([], 3)) == []


def test_checksums_taken_while_writing_are_those_of_the_files(synthetic, tmp_path, monkeypatch):
    read_back = []
    file_digest = hashlib.file_digest

    def spy(f, name):
        read_back.append(f.name)
        return file_digest(f, name)

    monkeypatch.setattr(hashlib, "file_digest", spy)
    _, path = _build(synthetic, tmp_path, tmp_path / "cache", 1)
    monkeypatch.undo()
    manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    for rel, expected in manifest["files"].items():
        assert hashlib.sha256((path / rel).read_bytes()).hexdigest() == expected["sha256"], rel
    assert verify_build(path, full=True) == []
    # The vectors, vector indexes and arrays were hashed as they were written, not read back
    # (bm25s writes its own files, and small JSON and .npz files are still read).
    for rel in manifest["files"]:
        if rel.endswith((".npy", ".faiss", ".bin")) and not rel.startswith("keyword/"):
            assert not [p for p in read_back if p.endswith(f"/{rel}")], rel


def test_a_file_changed_after_it_was_written_is_hashed_again(tmp_path):
    path = tmp_path / "a.npy"
    checksums.save_npy(path, np.arange(10, dtype=np.int64))
    assert checksums.remembered(path) == hashlib.sha256(path.read_bytes()).hexdigest()
    time.sleep(0.05)  # a later modification time, whatever the clock's granularity
    np.save(path, np.arange(10, 20, dtype=np.int64))  # same size, other bytes
    assert checksums.remembered(path) is None


def test_row_digest_follows_rows_written_in_order(tmp_path):
    rows = np.random.default_rng(0).standard_normal((50, 8)).astype(np.float32)
    out = mapped_array(tmp_path, "v.npy", rows.shape)
    digest = checksums.RowDigest.of(out)
    for a in range(0, 50, 16):
        out[a : a + 16] = rows[a : a + 16]
        digest.written(a, min(a + 16, 50))
    digest.finish()
    assert (
        checksums.remembered(tmp_path / "v.npy")
        == hashlib.sha256((tmp_path / "v.npy").read_bytes()).hexdigest()
    )

    shuffled = mapped_array(tmp_path, "w.npy", rows.shape)
    digest = checksums.RowDigest.of(shuffled)
    for a in (16, 0, 32, 48):  # out of order: no digest, the file is read when listed
        shuffled[a : a + 16] = rows[a : a + 16]
        digest.written(a, min(a + 16, 50))
    digest.finish()
    assert checksums.remembered(tmp_path / "w.npy") is None


def test_sentences_split_in_worker_processes_are_those_of_each_passage(fixture_index, monkeypatch):
    from indexer import build
    from indexer.sentences import split_sentences

    chunks = list(fixture_index.index.chunks)
    expected = [(r, s.start, s.end) for r, c in enumerate(chunks) for s in split_sentences(c.text)]
    monkeypatch.setattr(build, "_SPLIT_BLOCK", 3)
    assert len(chunks) > 2 * 3
    for workers in (1, 2):
        rows, spans, texts = build._sentences(chunks, workers)
        assert rows.dtype == spans.dtype == np.int32
        got = [(int(r), int(s), int(e)) for r, (s, e) in zip(rows, spans, strict=True)]
        assert got == expected
        assert texts[len(texts) - 1] == chunks[rows[-1]].text[spans[-1][0] : spans[-1][1]]
