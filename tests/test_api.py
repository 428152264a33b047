"""The HTTP API over the fixture index: TestClient for the contract, a real uvicorn server
for the wire, and concurrent requests."""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from beleidszoeker.config import Settings
from beleidszoeker.server import create_server
from search_api.app import create_app

PASSAGE_KEYS = {
    "rank",
    "score",
    "chunk_id",
    "text",
    "document",
    "section",
    "char_start",
    "char_end",
    "page",
    "page_end",
}


@pytest.fixture(scope="module")
def client(fixture_index, fixture_settings) -> TestClient:
    return TestClient(create_app(fixture_settings))


def test_search_returns_passages_with_their_provenance(client):
    r = client.get("/api/search", params={"q": "welke projecten gaan over waterstof?", "k": 3})

    assert r.status_code == 200
    body = r.json()
    assert body["query"] == "welke projecten gaan over waterstof?"
    assert body["mode"] == "hybrid"
    assert body["took_ms"] >= 0
    assert [p["rank"] for p in body["results"]] == [1, 2, 3]
    first = body["results"][0]
    assert set(first) == PASSAGE_KEYS
    assert first["document"] == {
        "id": "waterstof-projecten",
        "title": "Waterstofprojecten in Zuidoost-Drenthe",
        "year": 2022,
    }
    assert first["page"] is None  # plain text has no pages
    assert "waterstof" in first["text"].lower()


def test_passage_offsets_point_into_the_document_text(client):
    hit = client.get("/api/search", params={"q": "snel internet", "k": 1}).json()["results"][0]

    doc = client.get(
        f"/api/documents/{hit['document']['id']}",
        params={"start": hit["char_start"], "end": hit["char_end"]},
    ).json()

    assert doc["text"] == hit["text"]
    assert (doc["start"], doc["end"]) == (hit["char_start"], hit["char_end"])


@pytest.mark.parametrize("mode", ["keyword", "dense", "hybrid"])
def test_search_modes_and_document_filter(client, mode):
    r = client.get(
        "/api/search",
        params={"q": "werkloosheid", "mode": mode, "document": "breedband-en-werk", "k": 50},
    )

    assert r.status_code == 200
    docs = {p["document"]["id"] for p in r.json()["results"]}
    assert docs == {"breedband-en-werk"}


def test_ask_answers_with_verbatim_sentences_that_cite_returned_passages(client):
    r = client.get("/api/ask", params={"q": "wat belooft de provincie over snel internet?"})

    assert r.status_code == 200
    body = r.json()
    assert body["abstained"] is False
    passages = {p["chunk_id"]: p for p in body["passages"]}
    assert body["answer"]["sentences"]
    for sentence in body["answer"]["sentences"]:
        assert sentence["citations"]
        for cid in sentence["citations"]:
            assert sentence["text"] in passages[cid]["text"]  # verbatim from what it cites
    assert "snelle breedbandverbinding" in body["answer"]["text"]


def test_ask_abstains_but_still_returns_the_closest_passages(client):
    r = client.get("/api/ask", params={"q": "wie is de burgemeester van Assen?"})

    assert r.status_code == 200
    body = r.json()
    assert body["abstained"] is True
    assert body["answer"] is None
    assert body["passages"]


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"q": "   "}, "empty"),
        ({"q": ""}, "at least 1"),
        ({"q": "x" * 1001}, "1000"),
        ({"q": "waterstof", "k": 0}, "greater than or equal to 1"),
        ({"q": "waterstof", "k": 51}, "less than or equal to 50"),
        ({"q": "waterstof", "mode": "fuzzy"}, "'hybrid', 'dense' or 'keyword'"),
        ({}, "required"),
    ],
)
@pytest.mark.parametrize("path", ["/api/search", "/api/ask"])
def test_bad_input_is_a_422_that_says_what_is_allowed(client, path, params, needle):
    r = client.get(path, params=params)

    assert r.status_code == 422
    messages = " ".join(e["msg"] for e in r.json()["detail"])
    assert needle in messages


def test_a_question_of_exactly_1000_characters_is_accepted(client):
    q = ("waterstof " * 100)[:1000]
    assert client.get("/api/search", params={"q": q}).status_code == 200


def test_unknown_document_is_a_404(client):
    r = client.get("/api/search", params={"q": "waterstof", "document": "bestaat-niet"})
    assert r.status_code == 404
    assert "bestaat-niet" in r.json()["detail"]

    r = client.get("/api/documents/bestaat-niet")
    assert r.status_code == 404
    assert "/api/documents" in r.json()["detail"]


@pytest.mark.parametrize("path", ["/api/search", "/api/ask", "/api/promises"])
def test_a_one_value_parameter_given_twice_is_refused_and_document_may_repeat(client, path):
    twice = client.get(path, params=[("q", "waterstof"), ("year", "2019"), ("year", "2022")])
    repeated = client.get(
        path,
        params=[
            ("q", "waterstof"),
            ("document", "waterstof-projecten"),
            ("document", "zorg-en-welzijn"),
        ],
    )

    unknown = client.get(
        path, params=[("q", "waterstof"), ("", "x"), ("colour", "a"), ("colour", "b")]
    )

    assert twice.status_code == 422
    (error,) = twice.json()["detail"]
    assert error["loc"] == ["query", "year"] and "give it once" in error["msg"]
    assert repeated.status_code == 200
    # A parameter the API does not take is ignored, given once or twice.
    assert unknown.status_code == 200


def test_documents_lists_every_indexed_document(client, fixture_index):
    r = client.get("/api/documents")

    assert r.status_code == 200
    docs = {d["id"]: d for d in r.json()}
    assert set(docs) == set(fixture_index.index.documents)
    w = docs["waterstof-projecten"]
    assert (w["title"], w["year"], w["kind"]) == (
        "Waterstofprojecten in Zuidoost-Drenthe",
        2022,
        "magazine",
    )
    assert w["n_chunks"] == sum(
        c.document_id == "waterstof-projecten" for c in fixture_index.index.chunks
    )


def test_document_text_window_is_clamped_to_the_text(client, fixture_index):
    full = fixture_index.index.clean_text("zorg-en-welzijn").text

    whole = client.get("/api/documents/zorg-en-welzijn").json()
    tail = client.get("/api/documents/zorg-en-welzijn", params={"start": 10, "end": 10**9})
    reversed_window = client.get("/api/documents/zorg-en-welzijn", params={"start": 20, "end": 5})

    assert whole["text"] == full and whole["n_chars"] == len(full)
    assert tail.json()["text"] == full[10:]
    # start > end is a mistake of the client: said, not answered with an empty text.
    assert reversed_window.status_code == 422
    assert "end (5) is before start (20)" in reversed_window.json()["detail"][0]["msg"]


def test_health_summarises_the_loaded_index(client, fixture_index):
    body = client.get("/api/health").json()

    assert body["status"] == "ok"
    assert body["index"]["n_chunks"] == len(fixture_index.index.chunks)
    assert body["index"]["embedder"] == fixture_index.embedder.name


def test_without_an_index_every_route_is_a_503_that_says_what_to_run(tmp_path: Path):
    client = TestClient(create_app(Settings(index_dir=tmp_path / "none", cache_dir=tmp_path)))

    for path in ("/api/health", "/api/documents", "/api/search?q=waterstof", "/api/ask?q=x"):
        r = client.get(path)
        assert r.status_code == 503, path
        assert "beleidszoeker index" in r.json()["detail"]


def test_openapi_docs_are_served(client):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/search", "/api/ask", "/api/documents", "/api/documents/{document_id}"} <= set(
        paths
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live_server(fixture_index, fixture_settings):
    """The composed server (API and, if present, the UI) in uvicorn on a free port."""
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(
        create_server(fixture_settings), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_real_server_answers_over_http(live_server):
    with httpx.Client(base_url=live_server, timeout=30) as http:
        health = http.get("/api/health")
        ask = http.get("/api/ask", params={"q": "wat belooft de provincie over snel internet?"})
        bad = http.get("/api/search", params={"q": " "})
        docs = http.get("/docs")
        schema = http.get("/openapi.json")
        root = http.get("/")

    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert ask.status_code == 200 and ask.headers["content-type"] == "application/json"
    assert ask.json()["abstained"] is False
    assert bad.status_code == 422
    assert docs.status_code == 200 and "/api/ask" in schema.json()["paths"]
    # The web UI is mounted at "/" when the web package provides one; otherwise "/" points
    # at the API docs. Either way the mount must not hide /api, /docs or /openapi.json.
    web = pytest.importorskip("web")
    if hasattr(web, "create_app"):
        assert root.status_code == 200 and root.headers["content-type"].startswith("text/html")
    else:
        assert root.status_code == 307 and root.headers["location"] == "/docs"


def test_concurrent_requests_get_the_same_answers_as_one_at_a_time(live_server):
    questions = [
        "welke projecten gaan over waterstof?",
        "wat belooft de provincie over snel internet?",
        "hoe hoog is de werkloosheid in de regio?",
        "wie is de burgemeester van Assen?",
    ]
    with httpx.Client(base_url=live_server, timeout=60) as http:
        alone = {q: http.get("/api/ask", params={"q": q}).json() for q in questions}

        def ask(q: str) -> tuple[str, dict]:
            return q, http.get("/api/ask", params={"q": q}).json()

        with ThreadPoolExecutor(8) as pool:
            together = list(pool.map(ask, questions * 6))

    for q, body in together:
        assert body["answer"] == alone[q]["answer"], q
        assert [p["chunk_id"] for p in body["passages"]] == [
            p["chunk_id"] for p in alone[q]["passages"]
        ]


@pytest.mark.slow
def test_real_corpus_through_the_api(real_index, real_settings):
    client = TestClient(create_server(real_settings))

    docs = client.get("/api/documents").json()
    ask = client.get("/api/ask", params={"q": "wie is de directeur van IQ BLVD?"}).json()
    none = client.get("/api/ask", params={"q": "wanneer wordt de Nedersaksenlijn aangelegd?"})
    search = client.get(
        "/api/search", params={"q": "waterstof", "document": "vierkant-voor-werk-actieplan"}
    )

    assert len(docs) == len(real_index.index.documents) == 5
    assert "Mireille Klinket" in ask["answer"]["text"]
    cited = ask["answer"]["sentences"][0]["citations"][0]
    assert cited in {p["chunk_id"] for p in ask["passages"]}
    assert none.json()["abstained"] is True and none.json()["passages"]
    assert search.status_code == 200
    assert {p["document"]["id"] for p in search.json()["results"]} <= {
        "vierkant-voor-werk-actieplan"
    }


def test_serve_builds_a_missing_index_then_serves_api_and_docs(corpus_copy, tmp_path, cache_dir):
    """`beleidszoeker serve` as a user runs it: a child process on a free port."""
    import os
    import subprocess
    import sys

    port = _free_port()
    env = {
        **os.environ,
        "BELEIDSZOEKER_CACHE_DIR": str(cache_dir),
        "BELEIDSZOEKER_CHUNK_SIZE": "400",
        "BELEIDSZOEKER_CHUNK_OVERLAP": "60",
    }
    index_dir = tmp_path / "index"
    cmd = [sys.executable, "-m", "beleidszoeker.cli", "serve", "--port", str(port)]
    cmd += ["--corpus", str(corpus_copy), "--index", str(index_dir)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.stdout.read().decode()
            assert time.monotonic() < deadline, "server did not start"
            try:
                if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        ask = httpx.get(f"{url}/api/ask", params={"q": "welke projecten gaan over waterstof?"})
        docs = httpx.get(f"{url}/docs")
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0].decode()

    assert (index_dir / "manifest.json").exists()
    assert "building it first" in output
    assert ask.status_code == 200 and ask.json()["answer"]["kind"] == "list"
    assert docs.status_code == 200
