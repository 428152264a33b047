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


# --- the walk: one scandir per folder, links resolved one by one --------------------------


def _scan_as_before(corpus_dir: Path) -> list[tuple[str, str | None, int]]:
    """What discover found before its walk: rglob, then resolve and stat every file."""
    import os
    import stat

    root = corpus_dir.resolve()
    found = []
    for path in sorted(corpus_dir.rglob("*")):
        rel = path.relative_to(corpus_dir).as_posix()
        if rel == corpus.MANIFEST or any(p.startswith(".") for p in rel.split("/")):
            continue
        if path.is_dir() and not path.is_symlink():
            continue
        try:
            resolved = path.resolve(strict=False)
        except (OSError, RuntimeError):
            found.append((rel, "cannot be resolved", 0))
            continue
        problem = None
        if resolved != root and root not in resolved.parents:
            problem = "outside the corpus folder"
        else:
            try:
                mode = os.stat(resolved).st_mode
                if stat.S_ISDIR(mode):
                    problem = "link to a folder"
                elif not stat.S_ISREG(mode):
                    problem = "not a regular file"
            except OSError:
                pass
        size = 0 if problem or not os.path.exists(path) else path.stat().st_size
        found.append((rel, problem, size))
    return found


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """A corpus with every kind of entry the walk must tell apart."""
    import os

    root = tmp_path / "docs"
    _write(root / "nota.txt")
    _write(root / "a b" / "x.txt")  # sorts after "a/x.txt" by path parts, before as text
    _write(root / "a" / "x.txt", "Langer: " * 10)
    _write(root / "a" / "b" / "diep.md")
    _write(root / ".verborgen" / "y.txt")
    _write(root / corpus.MANIFEST, "")
    _write(root / "a" / corpus.MANIFEST)  # only the top-level manifest is not a document
    outside = _write(tmp_path / "geheim.txt", "root:x:0:0\n")
    (root / "binnen.txt").symlink_to(root / "a" / "x.txt")
    (root / "a" / "terug.txt").symlink_to("../nota.txt")
    (root / "buiten.txt").symlink_to(outside)
    (root / "map").symlink_to(root / "a", target_is_directory=True)
    (root / "weg.txt").symlink_to(root / "bestaat-niet.txt")
    (root / "lus.txt").symlink_to(root / "lus.txt")
    os.mkfifo(root / "pijp.txt")
    return root


def test_the_walk_finds_and_refuses_exactly_what_resolving_every_file_did(mixed: Path):
    found = corpus.discover(mixed)

    now = [(f.relpath, f.problem, f.size) for f in found]
    before = _scan_as_before(mixed)
    assert [rel for rel, _, _ in now] == [rel for rel, _, _ in before]
    for (rel, problem, size), (_, expected, expected_size) in zip(now, before, strict=True):
        assert (problem is None) == (expected is None), rel
        if expected is not None:
            assert expected in problem, rel
        assert size == expected_size, rel
    by_path = {f.relpath: f for f in found}
    assert by_path["binnen.txt"].sha256 == by_path["a/x.txt"].sha256 != ""
    assert by_path["weg.txt"].problem is None and by_path["weg.txt"].sha256 == ""
    assert "a/manifest.toml" in by_path and not any(".verborgen" in r for r in by_path)


def test_the_walk_resolves_only_links(mixed: Path, monkeypatch: pytest.MonkeyPatch):
    calls: list[Path] = []
    resolve = Path.resolve

    def counting(self: Path, strict: bool = False) -> Path:
        calls.append(self)
        return resolve(self, strict=strict)

    monkeypatch.setattr(Path, "resolve", counting)
    for i in range(20):
        _write(mixed / "veel" / f"doc-{i}.txt")

    corpus.discover(mixed)

    links = {"binnen.txt", "a/terug.txt", "buiten.txt", "map", "weg.txt", "lus.txt"}
    assert {p.relative_to(mixed).as_posix() for p in calls if p != mixed} == links
    assert calls.count(mixed) == 1  # the corpus folder, once


def test_an_unreadable_folder_is_passed_over_and_the_rest_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import os

    _write(tmp_path / "a.txt")
    _write(tmp_path / "dicht" / "b.txt")
    _write(tmp_path / "z" / "c.txt")
    scandir = os.scandir

    def refusing(path):  # as for a folder without read permission (root reads any)
        if str(path).endswith("dicht"):
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(corpus.os, "scandir", refusing)

    assert [f.relpath for f in corpus.discover(tmp_path)] == ["a.txt", "z/c.txt"]


# --- the manifest, parsed once --------------------------------------------------------------


class _CountingToml:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import tomllib

        self.calls = 0
        loads = tomllib.loads

        def counting(text: str):
            self.calls += 1
            return loads(text)

        monkeypatch.setattr(corpus.tomllib, "loads", counting)


def _aged(path: Path, text: str, seconds: float = 10) -> None:
    import os
    import time

    path.write_text(text, encoding="utf-8")
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_an_unchanged_manifest_is_parsed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    cache = tmp_path / "cache"
    _aged(tmp_path / corpus.MANIFEST, '["a.txt"]\ntitle = "Nota"\nyear = 2024\nweight = 1.5\n')
    toml = _CountingToml(monkeypatch)

    first = corpus.read_manifest(tmp_path, cache)
    again = corpus.read_manifest(tmp_path, cache)

    assert first == again == {"a.txt": {"title": "Nota", "year": 2024, "weight": 1.5}}
    assert repr(sorted(again.items())) == repr(sorted(first.items()))  # the fingerprint's input
    assert toml.calls == 1
    assert corpus.read_manifest(tmp_path) == first and toml.calls == 2  # no cache: parsed


def test_a_changed_manifest_is_parsed_again_even_with_size_and_time_put_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import os

    cache, manifest = tmp_path / "cache", tmp_path / corpus.MANIFEST
    _aged(manifest, '["a.txt"]\ntitle = "Nota"\n')
    corpus.read_manifest(tmp_path, cache)
    st = manifest.stat()
    manifest.write_text('["a.txt"]\ntitle = "Noot"\n', encoding="utf-8")  # same size
    os.utime(manifest, ns=(st.st_atime_ns, st.st_mtime_ns))  # the change time moves on

    assert corpus.read_manifest(tmp_path, cache) == {"a.txt": {"title": "Noot"}}


def test_a_manifest_recorded_just_after_its_change_is_parsed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    cache = tmp_path / "cache"
    (tmp_path / corpus.MANIFEST).write_text('["a.txt"]\ntitle = "Nota"\n', "utf-8")  # racy
    toml = _CountingToml(monkeypatch)

    corpus.read_manifest(tmp_path, cache)
    corpus.read_manifest(tmp_path, cache)

    assert toml.calls == 2


def test_a_manifest_broken_after_it_was_remembered_is_the_same_clear_error(tmp_path: Path):
    cache, manifest = tmp_path / "cache", tmp_path / corpus.MANIFEST
    _aged(manifest, '["a.txt"]\ntitle = "Nota"\n')
    corpus.read_manifest(tmp_path, cache)
    manifest.write_text('["a.txt"]\ntitle = "Nota\n', encoding="utf-8")

    with pytest.raises(BeleidszoekerError) as info:
        corpus.read_manifest(tmp_path, cache)

    assert str(manifest) in str(info.value) and "line 2" in str(info.value)


def test_a_manifest_with_dates_is_given_back_as_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import datetime

    cache = tmp_path / "cache"
    _aged(tmp_path / corpus.MANIFEST, '["a.txt"]\ntitle = "Nota"\nvastgesteld = 2024-03-01\n')
    toml = _CountingToml(monkeypatch)

    for _ in range(2):  # JSON cannot keep a date: such a manifest is parsed every time
        meta = corpus.read_manifest(tmp_path, cache)
        assert meta["a.txt"]["vastgesteld"] == datetime.date(2024, 3, 1)
    assert toml.calls == 2


def test_a_damaged_manifest_record_is_parsed_again(tmp_path: Path):
    cache = tmp_path / "cache"
    _aged(tmp_path / corpus.MANIFEST, '["a.txt"]\ntitle = "Nota"\n')
    corpus.read_manifest(tmp_path, cache)
    (cache / corpus.MANIFEST_MEMO).write_text('{"path": ', encoding="utf-8")

    assert corpus.read_manifest(tmp_path, cache) == {"a.txt": {"title": "Nota"}}
