"""Indexing on Ray (``beleidszoeker index --ray``) gives the index a local build gives.

A real local Ray of two CPUs (the session's ``local_ray``) reads and embeds; the index is
compared with a local build of the same corpus: documents, passages, ids, clean texts,
word boxes, vectors, skip reasons and progress.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from conftest import FIXTURE_CORPUS, make_settings
from typer.testing import CliRunner

from beleidszoeker.cli import app
from beleidszoeker.config import Settings, get_settings
from indexer.build import BuildReport, build_index
from indexer.ray_runner import RayRunner
from indexer.store import IndexData, load_index, read_manifest

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class CountingProgress:
    """Every progress bar a build starts, with its total and how far it was advanced."""

    def __init__(self) -> None:
        self.totals: dict[str, int] = {}
        self.done: Counter[str] = Counter()
        self._task = ""

    def start(self, task: str, total: int) -> None:
        self._task = task
        self.totals[task] = total

    def advance(self, n: int) -> None:
        self.done[self._task] += n

    def message(self, text: str) -> None: ...

    def step(self, task: str, done: int, total: int) -> None: ...


@pytest.fixture(scope="module")
def mixed_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture texts, a two-column magazine PDF, and three files that cannot be read."""
    from document_factory import write_magazine_pdf

    corpus = tmp_path_factory.mktemp("ray") / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    write_magazine_pdf(corpus / "magazine.pdf")
    (corpus / "kapot.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog")
    (corpus / "oud.doc").write_bytes(b"\xd0\xcf\x11\xe0 a Word 97 file")
    (corpus / "leeg.txt").write_text("\n\n   \n", encoding="utf-8")
    return corpus


def _build(settings: Settings, runner: RayRunner | None = None, **kw) -> tuple:
    progress = CountingProgress()
    report = build_index(settings, progress, runner=runner, **kw)
    return report, progress, load_index(settings.index_dir, settings.embedder)


@pytest.fixture(scope="module")
def both_builds(mixed_corpus: Path, local_ray, tmp_path_factory: pytest.TempPathFactory):
    """The corpus built locally and on Ray, each with a cache of its own (both embed all)."""
    root = tmp_path_factory.mktemp("ray-builds")
    local = make_settings(
        mixed_corpus, root / "local", root / "cache-local", chunk_size=400, chunk_overlap=60
    )
    on_ray = make_settings(
        mixed_corpus, root / "ray", root / "cache-ray", chunk_size=400, chunk_overlap=60
    )
    with RayRunner() as runner:
        return _build(local), _build(on_ray, runner), on_ray


def test_ray_build_gives_the_same_passages_ids_and_vectors(both_builds):
    (_, _, local), (report, _, ray_index), _ = both_builds
    assert report.n_embedded == len(ray_index.chunks) > 0  # the cold cache: Ray embedded all
    assert [c.model_dump() for c in ray_index.chunks] == [c.model_dump() for c in local.chunks]
    assert {k: d.model_dump() for k, d in ray_index.documents.items()} == {
        k: d.model_dump() for k, d in local.documents.items()
    }
    np.testing.assert_allclose(ray_index.vectors, local.vectors, atol=1e-5)
    assert np.array_equal(ray_index.sentences.rows, local.sentences.rows)
    assert np.array_equal(ray_index.sentences.spans, local.sentences.spans)
    np.testing.assert_allclose(ray_index.sentences.vectors, local.sentences.vectors, atol=1e-5)


def test_ray_build_finds_the_same_promises(both_builds):
    from indexer.promises import read_promises

    (_, _, local), (_, _, ray_index), _ = both_builds
    promises = read_promises(local.path)
    assert promises  # the fixture corpus holds promises (broadband by 2025)
    assert [p.model_dump() for p in read_promises(ray_index.path)] == [
        p.model_dump() for p in promises
    ]


def test_ray_build_keeps_clean_texts_and_pdf_word_boxes(both_builds):
    (_, _, local), (_, _, ray_index), _ = both_builds
    assert "magazine" in ray_index.documents
    for doc_id in local.documents:
        mine, theirs = ray_index.clean_text(doc_id), local.clean_text(doc_id)
        assert mine.text == theirs.text
        assert np.array_equal(mine.offsets, theirs.offsets)
    ray_words, local_words = ray_index.word_boxes("magazine"), local.word_boxes("magazine")
    assert ray_words is not None and local_words is not None and len(local_words) > 100
    for field in ("spans", "pages", "boxes"):
        assert np.array_equal(getattr(ray_words, field), getattr(local_words, field))


def test_ray_build_skips_bad_files_with_the_same_reasons(both_builds):
    (local_report, _, _), (ray_report, _, ray_index), _ = both_builds
    skipped = dict(ray_report.skipped)
    assert set(skipped) == {"kapot.pdf", "oud.doc", "leeg.txt"}
    assert "save it as .docx" in skipped["oud.doc"]
    assert "empty" in skipped["leeg.txt"]
    assert ray_report.skipped == local_report.skipped
    assert ray_index.manifest["skipped"] == [list(s) for s in local_report.skipped]
    assert sorted(ray_report.added) == sorted(local_report.added)


def test_ray_build_reports_the_same_progress(both_builds):
    (_, local_progress, _), (_, ray_progress, _), _ = both_builds
    assert ray_progress.totals == local_progress.totals
    assert ray_progress.done == local_progress.done
    assert all(ray_progress.done[t] == n for t, n in ray_progress.totals.items())


def test_ray_build_embeds_only_text_missing_from_the_cache(both_builds, local_ray):
    """The driver wrote every new vector to the cache: a rebuild embeds nothing, and a new
    document only its own passages."""
    _, (_, _, ray_index), settings = both_builds
    with RayRunner() as runner:
        report, _, _ = _build(settings, runner, force=True)
        assert (report.n_embedded, report.n_sentences_embedded) == (0, 0)
        new = settings.corpus_dir / "nieuw.txt"
        new.write_text(
            "Nieuw beleid\n\nDe provincie Drenthe plant twaalf laadpalen voor elektrische "
            "deelauto's in Assen en Emmen. Zij rondt dit af in 2027.\n",
            encoding="utf-8",
        )
        try:
            report, _, index = _build(settings, runner)
        finally:
            new.unlink()
    assert report.added == ["nieuw.txt"]
    new_chunks = [c for c in index.chunks if c.document_id == "nieuw"]
    assert report.n_embedded == len(new_chunks) >= 1
    assert len(index.chunks) == len(ray_index.chunks) + len(new_chunks)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, mixed_corpus: Path, tmp_path: Path, cache_dir: Path):
    """A clean BELEIDSZOEKER_* environment over ``mixed_corpus`` and a fresh index."""
    for name in list(os.environ):
        if name.startswith("BELEIDSZOEKER_"):
            monkeypatch.delenv(name)
    for name, value in {
        "CORPUS_DIR": mixed_corpus,
        "INDEX_DIR": tmp_path / "index",
        "CACHE_DIR": cache_dir,
        "CHUNK_SIZE": 400,
        "CHUNK_OVERLAP": 60,
    }.items():
        monkeypatch.setenv(f"BELEIDSZOEKER_{name}", str(value))
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _text(output: str) -> str:
    return " ".join(_ANSI.sub("", output).split())


def test_cli_index_on_ray(env, local_ray, tmp_path: Path):
    result = CliRunner().invoke(app, ["index", "--ray"])
    assert result.exit_code == 0, result.output
    output = _text(result.output)
    assert "on Ray (local)" in output
    assert "kapot.pdf" in output and "oud.doc" in output  # skipped, each with its reason
    manifest = read_manifest(tmp_path / "index")
    assert manifest is not None and manifest["n_documents"] == 4


def test_cli_ray_address_setting_alone_indexes_on_ray(env, local_ray, tmp_path: Path):
    env.setenv("BELEIDSZOEKER_RAY_ADDRESS", "local")
    result = CliRunner().invoke(app, ["index"])
    assert result.exit_code == 0, result.output
    assert "on Ray (local)" in _text(result.output)
    assert read_manifest(tmp_path / "index") is not None


def test_cli_ray_without_ray_installed_says_how_to_install(env, tmp_path: Path):
    env.setitem(sys.modules, "ray", None)  # `import ray` now fails as if not installed
    result = CliRunner().invoke(app, ["index", "--ray", "auto"])
    assert result.exit_code == 1
    assert "pip install -e '.[ray]'" in _text(result.output)
    assert read_manifest(tmp_path / "index") is None  # nothing was built half


def test_cli_address_without_ray_flag_is_refused(env):
    result = CliRunner().invoke(app, ["index", "auto"])
    assert result.exit_code == 2
    assert "--ray auto" in _text(result.output)


@pytest.mark.slow
def test_ray_indexing_of_the_shipped_corpus_matches_a_local_run(
    real_index, real_settings: Settings, local_ray, tmp_path: Path
):
    """The real corpus on Ray, over the same vector cache as the local build."""
    local: IndexData = load_index(real_settings.index_dir, real_settings.embedder)
    settings = real_settings.with_overrides(index_dir=tmp_path / "index")
    with RayRunner() as runner:
        report: BuildReport
        report, _, ray_index = _build(settings, runner)
    assert (report.n_embedded, report.n_sentences_embedded) == (0, 0)  # all from the cache
    assert len(ray_index.documents) == len(local.documents) >= 5
    assert [c.id for c in ray_index.chunks] == [c.id for c in local.chunks]
    assert [c.text for c in ray_index.chunks] == [c.text for c in local.chunks]
    np.testing.assert_allclose(ray_index.vectors, local.vectors, atol=1e-5)
    np.testing.assert_allclose(ray_index.sentences.vectors, local.sentences.vectors, atol=1e-5)
