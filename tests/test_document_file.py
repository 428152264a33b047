"""GET /api/documents/{id}/file and the web viewer's copy of it: the original file, and
never a file outside the corpus folder, whatever the id or the index says."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from beleidszoeker.errors import DocumentFileError
from search_api.app import create_app
from search_api.documents import document_file, highlight_boxes
from web import create_app as create_web_app


@pytest.fixture(scope="module")
def client(pdf_settings, pdf_index) -> TestClient:
    return TestClient(create_app(pdf_settings))


def test_the_original_pdf_is_served(client, pdf_settings) -> None:
    response = client.get("/api/documents/magazine/file")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline")
    assert response.content == (pdf_settings.corpus_dir / "magazine.pdf").read_bytes()
    # Text documents have their file too.
    text = client.get("/api/documents/breedband-en-werk/file")
    assert text.status_code == 200 and "text/plain" in text.headers["content-type"]


@pytest.mark.parametrize(
    "doc_id",
    [
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "%2Fetc%2Fpasswd",
        "..",
        "magazine.pdf",
        "raadsbesluit%00",
    ],
)
def test_ids_that_name_a_path_are_unknown_documents(client, doc_id: str) -> None:
    response = client.get(f"/api/documents/{doc_id}/file")
    assert response.status_code == 404
    assert "root:" not in response.text
    assert response.headers["content-type"] == "application/json"


def test_a_path_out_of_the_corpus_in_the_index_is_refused(pdf_index, pdf_settings) -> None:
    index = pdf_index.index
    doc = index.documents["magazine"]
    original = doc.path
    try:
        doc.path = "../../../../etc/passwd"
        with pytest.raises(DocumentFileError, match="outside the corpus folder"):
            document_file(index, pdf_settings.corpus_dir, "magazine")
    finally:
        doc.path = original


def test_a_link_out_of_the_corpus_is_not_followed(pdf_index, pdf_settings, tmp_path: Path) -> None:
    """A document that became a link to a file elsewhere is not served from there."""
    secret = tmp_path / "geheim.txt"
    secret.write_text("wachtwoorden", encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    os.symlink(secret, corpus / "magazine.pdf")
    with pytest.raises(DocumentFileError, match="outside the corpus folder"):
        document_file(pdf_index.index, corpus, "magazine")
    client = TestClient(create_app(pdf_settings.with_overrides(corpus_dir=corpus)))
    response = client.get("/api/documents/magazine/file")
    assert response.status_code == 404
    assert "wachtwoorden" not in response.text
    assert "outside the corpus folder" in response.json()["detail"]


def test_a_removed_file_says_what_to_run(pdf_index, pdf_settings, tmp_path: Path) -> None:
    client = TestClient(create_app(pdf_settings.with_overrides(corpus_dir=tmp_path)))
    response = client.get("/api/documents/magazine/file")
    assert response.status_code == 404
    assert "run `beleidszoeker index`" in response.json()["detail"]


def test_the_web_viewer_serves_the_same_file_and_nothing_else(pdf_settings, pdf_index) -> None:
    web = create_web_app(pdf_settings).test_client()
    response = web.get("/documents/magazine/file")
    assert response.status_code == 200
    assert response.data == (pdf_settings.corpus_dir / "magazine.pdf").read_bytes()
    assert web.get("/documents/..%2F..%2Fetc%2Fpasswd/file").status_code == 404
    # The PDF.js files come from the npm package only, from its runtime folders.
    assert web.get("/vendor/pdfjs/build/pdf.min.mjs").mimetype == "text/javascript"
    assert web.get("/vendor/pdfjs/package.json").status_code == 404
    assert web.get("/vendor/pdfjs/build/../../htmx.org/package.json").status_code == 404


def test_highlight_boxes_cover_a_cited_sentence_on_its_page(pdf_index) -> None:
    index = pdf_index.index
    text = index.clean_text("magazine").text
    sentence = "In Borger komen daarom twaalf levensloopbestendige woningen naast de"
    start = text.index(sentence)
    boxes = highlight_boxes(index, "magazine", start, start + len(sentence))
    # One box per line the sentence covers, all on page 2, in the left column.
    assert [b.page for b in boxes] == [2, 2]
    assert all(b.x1 < 0.5 for b in boxes)
    assert boxes[0].y1 <= boxes[1].y0
    assert highlight_boxes(index, "breedband-en-werk", 0, 50) == []
