"""Re-indexing: only what changed is read and embedded, failures keep the last good
version, and searchers (in-process and over HTTP) move to the new build without a failed
request."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from conftest import FIXTURE_CORPUS, make_settings
from document_factory import write_docx, write_pdf
from test_loaders import NOTA_PAGES, nota_pdf

from beleidszoeker.config import Settings
from indexer.build import build_index
from search_api.engine import get_searcher
from search_api.retrieval import Searcher

PDF = "energieagenda.pdf"


@pytest.fixture(scope="module")
def fresh_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A vector cache of this module alone, so counts of embedded texts are exact."""
    return tmp_path_factory.mktemp("incremental-cache")


@pytest.fixture
def settings(tmp_path: Path, fresh_cache: Path) -> Settings:
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    nota_pdf(corpus / PDF)
    return make_settings(corpus, tmp_path / "index", fresh_cache, chunk_size=400, chunk_overlap=60)


def doc_ids(searcher: Searcher, query: str, k: int = 5) -> list[str]:
    return [h.document.id for h in searcher.search(query, k, "keyword")]


def embed_texts(searcher: Searcher, document_id: str | None = None) -> set[str]:
    return {
        c.embed_text()
        for c in searcher.index.chunks
        if document_id is None or c.document_id == document_id
    }


def test_add_change_remove_between_two_runs(settings: Settings) -> None:
    corpus = settings.corpus_dir
    first = build_index(settings)
    assert "energieagenda.pdf" in first.added and not first.removed
    before = get_searcher(settings)
    old_texts = embed_texts(before)
    assert "zorg-en-welzijn" in doc_ids(before, "zorg welzijn")

    # Add a Word file, change the end of a text, remove the Markdown file.
    write_docx(
        corpus / "nieuw" / "kunstijsbaan.docx",
        [("p", "De kunstijsbaan in Assen krijgt een nieuw dak met zonnepanelen.")],
        title="Kunstijsbaan",
    )
    changed = corpus / "breedband-en-werk.txt"
    changed.write_text(
        changed.read_text(encoding="utf-8")
        + "\n\nIn 2025 krijgt elk dorp een glasvezelknooppunt in het dorpshuis.\n",
        encoding="utf-8",
    )
    (corpus / "zorg-en-welzijn.md").unlink()

    second = build_index(settings)
    assert second.added == ["nieuw/kunstijsbaan.docx"]
    assert second.changed == ["breedband-en-werk.txt"]
    assert second.removed == ["zorg-en-welzijn.md"]
    assert sorted(second.unchanged) == ["energieagenda.pdf", "waterstof-projecten.txt"]
    assert not second.skipped and not second.kept

    after = get_searcher(settings)
    assert after is not before and after.index.path != before.index.path
    new_texts = embed_texts(after)
    # Only texts never embedded before were embedded; the unchanged start of the changed
    # document was not embedded again.
    assert second.n_embedded == len(new_texts - old_texts) > 0
    assert embed_texts(after, "breedband-en-werk") & old_texts
    assert second.n_embedded < len(embed_texts(after, "breedband-en-werk")) + len(
        embed_texts(after, "nieuw-kunstijsbaan")
    )

    assert doc_ids(after, "glasvezelknooppunt dorpshuis")[0] == "breedband-en-werk"
    assert doc_ids(after, "kunstijsbaan Assen dak")[0] == "nieuw-kunstijsbaan"
    assert "zorg-en-welzijn" not in after.index.documents
    assert all(h.document.id != "zorg-en-welzijn" for h in after.search("zorg welzijn", 10))
    # The unchanged PDF kept its page numbers.
    hits = after.search("overdekte fietsenstalling", 1, "keyword")
    assert (hits[0].document.id, hits[0].chunk.page) == ("energieagenda", 3)

    third = build_index(settings)
    assert third.up_to_date and third.n_embedded == 0


def test_a_changed_file_that_fails_keeps_its_previous_version(settings: Settings) -> None:
    corpus = settings.corpus_dir
    build_index(settings)
    good = (corpus / PDF).read_bytes()
    (corpus / PDF).write_bytes(good[: len(good) // 3])  # a download that broke off

    report = build_index(settings)
    assert report.kept == [PDF]
    reasons = dict(report.skipped)
    assert "damaged" in reasons[PDF] and "previously indexed version is kept" in reasons[PDF]
    searcher = get_searcher(settings)
    hits = searcher.search("overdekte fietsenstalling", 1, "keyword")
    assert (hits[0].document.id, hits[0].chunk.page) == ("energieagenda", 3)

    # Nothing changed since: the index is current and still says why the file is old.
    again = build_index(settings)
    assert again.up_to_date and "previously indexed version is kept" in dict(again.skipped)[PDF]

    # A new file that fails has nothing to keep: it is only skipped.
    (corpus / "nieuw.pdf").write_bytes(b"%PDF-1.7\n broken")
    # The repaired PDF replaces the old version.
    pages = [p[:] for p in NOTA_PAGES]
    pages[2] = ["3. Mobiliteit", "Bij station Assen komt een parkeergarage voor deelauto's."]
    write_pdf(corpus / PDF, pages, title="Energieagenda Drenthe", year=2022)
    fixed = build_index(settings)
    assert fixed.changed == [PDF] and not fixed.kept
    assert [p for p, _ in fixed.skipped] == ["nieuw.pdf"]
    searcher = get_searcher(settings)
    assert "nieuw" not in searcher.index.documents
    assert searcher.index.documents["energieagenda"].year == 2022
    assert doc_ids(searcher, "parkeergarage deelauto's")[0] == "energieagenda"
    assert "energieagenda" not in doc_ids(searcher, "overdekte fietsenstalling tweeduizend")


def test_a_changed_file_grown_over_the_size_limit_keeps_its_previous_version(
    settings: Settings,
) -> None:
    build_index(settings)
    big = settings.corpus_dir / "waterstof-projecten.txt"
    big.write_text(big.read_text(encoding="utf-8") + "Bijlage. " * 150_000, encoding="utf-8")
    report = build_index(settings.with_overrides(max_file_mb=1.0))
    assert report.kept == ["waterstof-projecten.txt"]
    assert "larger than 1 MB" in dict(report.skipped)["waterstof-projecten.txt"]
    assert "waterstof-projecten" in get_searcher(settings).index.documents


def _search_loop(
    searcher_of, queries: list[str], stop: threading.Event, errors: list, counts: list
) -> None:
    """Search until told to stop (bounded to one minute), recording any failure."""
    deadline = time.monotonic() + 60
    i = 0
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            hits = searcher_of().search(queries[i % len(queries)], 5, "keyword")
            assert hits, "no hits"
            counts.append(1)
        except Exception as exc:  # collected: the test reports what failed
            errors.append(repr(exc))
        i += 1


def test_readers_keep_working_while_the_index_is_swapped(settings: Settings) -> None:
    build_index(settings)
    held = get_searcher(settings)
    queries = ["waterstof", "glasvezel", "fietsenstalling"]
    stop = threading.Event()
    errors: list[str] = []
    counts: list[int] = []
    readers = [
        threading.Thread(target=_search_loop, args=(lambda: held, queries, stop, errors, counts)),
        threading.Thread(
            target=_search_loop,
            args=(lambda: get_searcher(settings), queries, stop, errors, counts),
        ),
    ]
    for t in readers:
        t.start()
    try:
        for n in range(2):
            note = settings.corpus_dir / f"besluit-{n}.txt"
            note.write_text(f"Besluit {n}: de provincie subsidieert laadpalen.", encoding="utf-8")
            build_index(settings)
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert not errors, errors[:3]
    assert len(counts) > 10
    current = get_searcher(settings)
    assert current is not held
    assert current.index.path == settings.index_dir.resolve()
    assert doc_ids(current, "laadpalen")[0].startswith("besluit-")
    assert "besluit-0" not in held.index.documents  # the held one still reads its own build
    assert doc_ids(held, "waterstof")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_running_server_picks_up_a_new_index_without_failing_a_request(
    settings: Settings,
) -> None:
    httpx = pytest.importorskip("httpx")
    uvicorn = pytest.importorskip("uvicorn")
    app_module = pytest.importorskip("search_api.app")

    build_index(settings)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app_module.create_app(settings), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    base = f"http://127.0.0.1:{port}"
    statuses: list[int] = []
    failures: list[str] = []
    stop = threading.Event()

    def client() -> None:
        deadline = time.monotonic() + 90
        with httpx.Client(base_url=base, timeout=30) as http:
            while not stop.is_set() and time.monotonic() < deadline:
                try:
                    r = http.get("/api/search", params={"q": "waterstof", "mode": "keyword"})
                    statuses.append(r.status_code)
                    if r.status_code != 200 or not r.json()["results"]:
                        failures.append(f"{r.status_code} {r.text[:200]}")
                except httpx.HTTPError as exc:
                    failures.append(repr(exc))

    try:
        for _ in range(100):  # wait up to 10 s for the server to listen
            if server.started:
                break
            time.sleep(0.1)
        assert server.started, "the test server did not start"
        loop = threading.Thread(target=client)
        loop.start()
        try:
            for n in range(2):
                note = settings.corpus_dir / f"besluit-{n}.txt"
                note.write_text(
                    f"Besluit {n}: de provincie subsidieert snelladers.", encoding="utf-8"
                )
                build_index(settings)
                time.sleep(0.5)  # let requests run against the new build
        finally:
            stop.set()
            loop.join()
        with httpx.Client(base_url=base, timeout=30) as http:
            r = http.get("/api/search", params={"q": "snelladers", "mode": "keyword"})
            assert r.status_code == 200
            assert r.json()["results"][0]["document"]["id"].startswith("besluit-")
            # The API cites the page of a PDF passage.
            r = http.get(
                "/api/search", params={"q": "warmtetransitie lange adem", "mode": "keyword"}
            )
            top = r.json()["results"][0]
            assert (top["document"]["id"], top["page"], top["page_end"]) == ("energieagenda", 1, 2)
    finally:
        server.should_exit = True
        serving.join(timeout=10)
    assert not failures, failures[:3]
    assert len(statuses) > 5
