"""Finding the documents in a corpus folder and the metadata the manifest gives them."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from beleidszoeker.config import Settings
from beleidszoeker.errors import BeleidszoekerError
from indexer import corpus
from indexer.build import build_index
from indexer.store import load_index


def _write(path: Path, text: str = "Een korte notitie over beleid.\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    _write(root / "nota.txt")
    _write(root / "Beleid" / "Nota 2024.md")
    _write(root / "Beleid" / "archief" / "oud" / "verslag.txt")
    _write(root / ".verborgen.txt")
    _write(root / ".git" / "config.txt")
    _write(root / "Beleid" / ".concept" / "tekst.txt")
    _write(root / corpus.MANIFEST, '["nota.txt"]\ntitle = "Nota"\n')
    return root


def test_discover_finds_files_in_subfolders_and_skips_hidden_ones_and_the_manifest(tree: Path):
    found = corpus.discover(tree)

    assert [f.relpath for f in found] == [
        "Beleid/Nota 2024.md",
        "Beleid/archief/oud/verslag.txt",
        "nota.txt",
    ]


def test_discovered_files_carry_a_url_safe_id_hash_and_size(tree: Path):
    by_path = {f.relpath: f for f in corpus.discover(tree)}

    assert by_path["Beleid/Nota 2024.md"].doc_id == "beleid-nota-2024"
    assert by_path["Beleid/archief/oud/verslag.txt"].doc_id == "beleid-archief-oud-verslag"
    data = (tree / "nota.txt").read_bytes()
    assert by_path["nota.txt"].sha256 == hashlib.sha256(data).hexdigest()
    assert by_path["nota.txt"].size == len(data)
    assert by_path["nota.txt"].path == tree / "nota.txt"


def test_files_that_would_share_an_id_get_distinct_ids(tmp_path: Path):
    _write(tmp_path / "nota.txt")
    _write(tmp_path / "nota.md")

    ids = [f.doc_id for f in corpus.discover(tmp_path)]

    assert len(ids) == 2
    assert len(set(ids)) == 2
    assert "nota" in ids


def test_document_id_of_a_name_without_letters_or_digits_is_not_empty():
    assert corpus.document_id("___.txt") == "document"


def test_missing_corpus_folder_is_an_error_naming_it(tmp_path: Path):
    missing = tmp_path / "bestaat-niet"

    with pytest.raises(BeleidszoekerError) as info:
        corpus.discover(missing)

    assert str(missing) in str(info.value)
    assert "BELEIDSZOEKER_CORPUS_DIR" in str(info.value)


def test_title_from_filename_reads_like_a_title():
    assert corpus.title_from_filename("verslagen/notulen_overleg-emmen.txt") == (
        "Notulen overleg emmen"
    )


def test_manifest_metadata_is_applied_to_the_indexed_documents(fixture_index):
    docs = fixture_index.index.documents

    waterstof = docs["waterstof-projecten"]
    assert waterstof.title == "Waterstofprojecten in Zuidoost-Drenthe"
    assert waterstof.year == 2022
    assert waterstof.publisher == "Testprovincie"
    assert waterstof.kind == "magazine"
    assert docs["breedband-en-werk"].year == 2016
    assert docs["breedband-en-werk"].kind == "beleidsnota"


def test_a_file_without_manifest_entry_is_titled_from_itself_or_its_name(
    copy_settings: Settings,
):
    # zorg-en-welzijn.md has no manifest entry but a Markdown title; this one has neither.
    _write(
        copy_settings.corpus_dir / "notulen_overleg-emmen.txt",
        "Het overleg in Emmen ging over de bereikbaarheid van het ziekenhuis.\n",
    )

    build_index(copy_settings)
    docs = load_index(copy_settings.index_dir, copy_settings.embedder).documents

    assert docs["notulen-overleg-emmen"].title == "Notulen overleg emmen"
    assert docs["notulen-overleg-emmen"].year is None
    assert docs["notulen-overleg-emmen"].publisher is None
    assert docs["zorg-en-welzijn"].title == "Zorg dichtbij huis"
    assert docs["zorg-en-welzijn"].year is None


def test_manifest_year_written_as_text_is_read_as_a_number(copy_settings: Settings):
    manifest = copy_settings.corpus_dir / corpus.MANIFEST
    manifest.write_text(
        manifest.read_text(encoding="utf-8")
        + '\n["zorg-en-welzijn.md"]\ntitle = "Zorg in de dorpen"\nyear = "2021"\n',
        encoding="utf-8",
    )

    build_index(copy_settings)
    doc = load_index(copy_settings.index_dir, copy_settings.embedder).documents["zorg-en-welzijn"]

    assert doc.title == "Zorg in de dorpen"
    assert doc.year == 2021


def test_broken_manifest_is_an_error_naming_the_file_and_line(corpus_copy: Path):
    manifest = corpus_copy / corpus.MANIFEST
    manifest.write_text('["waterstof-projecten.txt"]\ntitle = "Waterstof\n', encoding="utf-8")

    with pytest.raises(BeleidszoekerError) as info:
        corpus.read_manifest(corpus_copy)

    message = str(info.value)
    assert str(manifest) in message
    assert "line 2" in message


def test_manifest_that_is_not_utf8_is_an_error_naming_the_file(corpus_copy: Path):
    manifest = corpus_copy / corpus.MANIFEST
    manifest.write_bytes('["a.txt"]\ntitle = "Caf\u00e9"\n'.encode("cp1252"))

    with pytest.raises(BeleidszoekerError, match="manifest.toml"):
        corpus.read_manifest(corpus_copy)


def test_build_stops_on_a_broken_manifest_instead_of_dropping_the_metadata(
    copy_settings: Settings,
):
    (copy_settings.corpus_dir / corpus.MANIFEST).write_text("[[[", encoding="utf-8")

    with pytest.raises(BeleidszoekerError, match="manifest.toml"):
        build_index(copy_settings)
    assert not copy_settings.index_dir.exists()


def test_corpus_without_manifest_has_no_metadata(tmp_path: Path):
    _write(tmp_path / "a.txt")

    assert corpus.read_manifest(tmp_path) == {}


def test_fingerprint_changes_with_content_and_with_metadata(tree: Path):
    manifest = corpus.read_manifest(tree)
    before = corpus.corpus_fingerprint(corpus.discover(tree), manifest)
    assert corpus.corpus_fingerprint(corpus.discover(tree), manifest) == before

    _write(tree / "nota.txt", "Andere inhoud.\n")
    changed_text = corpus.corpus_fingerprint(corpus.discover(tree), manifest)
    assert changed_text != before

    retitled = {"nota.txt": {"title": "Een andere titel"}}
    assert corpus.corpus_fingerprint(corpus.discover(tree), retitled) != changed_text
