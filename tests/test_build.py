"""Building the index from bad input: each problem is named, the rest is still indexed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from beleidszoeker.config import Settings
from beleidszoeker.errors import BeleidszoekerError, EmptyCorpusError
from indexer.build import build_index
from indexer.store import builds_dir, load_index
from search_api.engine import get_searcher

FIXTURE_CORPUS = Path(__file__).parent / "data" / "corpus"
FIXTURE_FILES = ["breedband-en-werk.txt", "waterstof-projecten.txt", "zorg-en-welzijn.md"]
FIXTURE_IDS = {"breedband-en-werk", "waterstof-projecten", "zorg-en-welzijn"}

CP1252_TEXT = (
    "Caf\u00e9 De Brug\n\n"
    "Het caf\u00e9 in Coevorden krijgt \u20ac 5.000 subsidie voor \u00e9\u00e9n jaar "
    "\u2013 \u201cna\u00efef\u201d of niet.\n"
)


def _skipped(report) -> dict[str, str]:
    return dict(report.skipped)


def _loaded(settings: Settings):
    return load_index(settings.index_dir, settings.embedder)


def _same_words(a: str, b: str) -> bool:
    """Equal apart from whitespace and hyphens (cleaning re-joins broken lines and words)."""
    return re.sub(r"[\s\-\u00ad]", "", a) == re.sub(r"[\s\-\u00ad]", "", b)


# ---------------------------------------------------------------- a good build


def test_build_indexes_every_fixture_document(copy_settings: Settings):
    report = build_index(copy_settings)

    assert sorted(report.added) == FIXTURE_FILES
    assert report.skipped == []
    index = _loaded(copy_settings)
    assert set(index.documents) == FIXTURE_IDS
    assert report.n_chunks == len(index.chunks) == index.manifest["n_chunks"]
    assert {c.document_id for c in index.chunks} == FIXTURE_IDS
    for doc in index.documents.values():
        assert doc.n_chunks == sum(c.document_id == doc.id for c in index.chunks)


def test_every_passage_points_back_into_its_source_file(fixture_index):
    index = fixture_index.index
    for chunk in index.chunks:
        doc = index.documents[chunk.document_id]
        source = (FIXTURE_CORPUS / doc.path).read_text(encoding="utf-8")
        clean = index.clean_text(doc.id)
        assert clean.text[chunk.char_start : chunk.char_end] == chunk.text
        assert clean.to_source(chunk.char_start, chunk.char_end) == (
            chunk.source_start,
            chunk.source_end,
        )
        assert _same_words(source[chunk.source_start : chunk.source_end], chunk.text), chunk.id


# ---------------------------------------------------------------- empty corpus


def test_empty_corpus_folder_names_the_folder(tmp_path: Path, cache_dir: Path):
    empty = tmp_path / "leeg"
    empty.mkdir()
    settings = Settings(corpus_dir=empty, index_dir=tmp_path / "index", cache_dir=cache_dir)

    with pytest.raises(EmptyCorpusError) as info:
        build_index(settings)

    assert str(empty) in str(info.value)
    assert "beleidszoeker index" in str(info.value)
    assert not settings.index_dir.exists()


def test_folder_with_only_hidden_files_and_a_manifest_counts_as_empty(
    tmp_path: Path, cache_dir: Path
):
    folder = tmp_path / "alleen-verborgen"
    folder.mkdir()
    (folder / ".notitie.txt").write_text("verborgen", encoding="utf-8")
    (folder / "manifest.toml").write_text('["a.txt"]\ntitle = "A"\n', encoding="utf-8")
    settings = Settings(corpus_dir=folder, index_dir=tmp_path / "index", cache_dir=cache_dir)

    with pytest.raises(EmptyCorpusError, match=re.escape(str(folder))):
        build_index(settings)


def test_emptied_corpus_keeps_the_existing_index(copy_settings: Settings):
    first = build_index(copy_settings)
    for name in FIXTURE_FILES:
        (copy_settings.corpus_dir / name).unlink()

    with pytest.raises(EmptyCorpusError):
        build_index(copy_settings)

    assert copy_settings.index_dir.resolve() == first.index_path
    assert set(_loaded(copy_settings).documents) == FIXTURE_IDS


# ---------------------------------------------------------------- unreadable files


def test_binary_file_is_skipped_with_its_name_and_the_others_indexed(copy_settings: Settings):
    (copy_settings.corpus_dir / "scan.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

    report = build_index(copy_settings)

    assert "binary" in _skipped(report)["scan.txt"]
    assert sorted(report.added) == FIXTURE_FILES
    assert set(_loaded(copy_settings).documents) == FIXTURE_IDS


def test_unsupported_file_type_is_skipped_with_its_name(copy_settings: Settings):
    (copy_settings.corpus_dir / "begroting.xyz").write_text("cijfers", encoding="utf-8")

    report = build_index(copy_settings)

    assert ".xyz" in _skipped(report)["begroting.xyz"]
    assert set(_loaded(copy_settings).documents) == FIXTURE_IDS


def test_empty_file_is_skipped_with_its_name(copy_settings: Settings):
    (copy_settings.corpus_dir / "leeg.txt").write_text("  \n\n\t\n", encoding="utf-8")

    report = build_index(copy_settings)

    assert "empty" in _skipped(report)["leeg.txt"]
    assert set(_loaded(copy_settings).documents) == FIXTURE_IDS


def test_broken_link_is_skipped_as_unreadable_with_its_name(copy_settings: Settings):
    # Works as root too (in CI), where file permissions do not stop a read.
    link = copy_settings.corpus_dir / "verplaatst.txt"
    link.symlink_to(copy_settings.corpus_dir / "bestaat-niet.txt")

    report = build_index(copy_settings)

    assert "cannot read" in _skipped(report)["verplaatst.txt"]
    assert set(_loaded(copy_settings).documents) == FIXTURE_IDS


def test_skipped_files_are_recorded_in_the_index_manifest(copy_settings: Settings):
    (copy_settings.corpus_dir / "scan.txt").write_bytes(b"\x00\x01\x02")

    build_index(copy_settings)
    again = build_index(copy_settings)

    assert [p for p, _ in _loaded(copy_settings).manifest["skipped"]] == ["scan.txt"]
    assert again.up_to_date
    assert "scan.txt" in _skipped(again)


def test_build_where_no_file_is_readable_fails_and_keeps_the_previous_index(
    copy_settings: Settings,
):
    first = build_index(copy_settings)
    # The folder now holds only files that cannot be read (none of them indexed before).
    for name in FIXTURE_FILES:
        (copy_settings.corpus_dir / name).unlink()
    (copy_settings.corpus_dir / "scan-1.txt").write_bytes(b"\x00binary\x00")
    (copy_settings.corpus_dir / "scan-2.md").write_bytes(b"\x00binary\x00")

    with pytest.raises(BeleidszoekerError) as info:
        build_index(copy_settings)

    message = str(info.value)
    assert "scan-1.txt" in message
    assert "scan-2.md" in message
    assert "unchanged" in message
    assert copy_settings.index_dir.resolve() == first.index_path
    assert [p.name for p in builds_dir(copy_settings.index_dir).iterdir()] == [
        first.index_path.name
    ]
    searcher = get_searcher(copy_settings)
    assert set(searcher.index.documents) == FIXTURE_IDS
    hits = searcher.search("waterstof", 3, "keyword")
    assert hits[0].document.id == "waterstof-projecten"


# ---------------------------------------------------------------- other encodings


def test_cp1252_file_is_read_correctly_with_a_note(copy_settings: Settings):
    (copy_settings.corpus_dir / "cafe.txt").write_bytes(CP1252_TEXT.encode("cp1252"))

    report = build_index(copy_settings)

    assert "cafe.txt" in report.added
    notes = [n for p, n in report.notes if p == "cafe.txt"]
    assert len(notes) == 1
    assert "Windows-1252" in notes[0]
    index = _loaded(copy_settings)
    text = index.clean_text("cafe").text
    assert "\u20ac 5.000" in text
    assert "\u00e9\u00e9n jaar" in text
    assert "\u201cna\u00efef\u201d" in text
    assert "\ufffd" not in text
    hits = get_searcher(copy_settings).search("subsidie voor het caf\u00e9", 1, "keyword")
    assert hits[0].document.id == "cafe"


def test_utf8_with_byte_order_mark_needs_no_note(copy_settings: Settings):
    (copy_settings.corpus_dir / "bom.txt").write_bytes(
        "\ufeffTekst met een BOM over caf\u00e9s.\n".encode()
    )

    report = build_index(copy_settings)

    assert [n for p, n in report.notes if p == "bom.txt"] == []
    assert _loaded(copy_settings).clean_text("bom").text.startswith("Tekst met een BOM")


# ---------------------------------------------------------------- up to date and --force


def test_second_build_of_an_unchanged_corpus_is_up_to_date(copy_settings: Settings):
    first = build_index(copy_settings)

    second = build_index(copy_settings)

    assert not first.up_to_date
    assert second.up_to_date
    assert second.index_path == first.index_path
    assert sorted(second.unchanged) == sorted(FIXTURE_IDS)
    assert second.n_chunks == first.n_chunks
    assert len(list(builds_dir(copy_settings.index_dir).iterdir())) == 1


def test_changed_manifest_makes_the_index_stale(copy_settings: Settings):
    build_index(copy_settings)
    manifest = copy_settings.corpus_dir / "manifest.toml"
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace(
            "Economische agenda", "Economische agenda 2016"
        ),
        encoding="utf-8",
    )

    report = build_index(copy_settings)

    assert not report.up_to_date
    assert report.n_embedded == 0  # the text did not change, only its description
    assert _loaded(copy_settings).documents["breedband-en-werk"].title == (
        "Economische agenda 2016"
    )


def test_changed_chunk_settings_make_the_index_stale(copy_settings: Settings):
    first = build_index(copy_settings)
    smaller = copy_settings.with_overrides(chunk_size=200, chunk_overlap=20)

    report = build_index(smaller)

    assert not report.up_to_date
    assert _loaded(smaller).manifest["chunking"]["size"] == 200
    assert report.n_chunks > first.n_chunks


def test_force_rebuilds_an_up_to_date_index(copy_settings: Settings):
    first = build_index(copy_settings)

    forced = build_index(copy_settings, force=True)

    assert not forced.up_to_date
    assert forced.index_path != first.index_path
    assert copy_settings.index_dir.resolve() == forced.index_path
    assert forced.n_embedded == 0  # every passage comes from the vector cache
    assert forced.n_chunks == first.n_chunks
    old_ids = [c.id for c in load_index(first.index_path, copy_settings.embedder).chunks]
    assert [c.id for c in _loaded(copy_settings).chunks] == old_ids
