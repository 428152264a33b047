"""The web UI through Flask's test client, over the real fixture index."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.datastructures import MultiDict

from beleidszoeker.config import Settings
from indexer.sections import detect_sections
from search_api.answer import answer_question
from search_api.models import Answer, AnswerSentence, AskResponse
from web import create_app
from web.assets import DEFAULT_HTMX_JS, INSTALL_HINT
from web.highlight import Piece, highlight
from web.viewer import document_page, parse_span

FIXTURE_CORPUS = Path(__file__).parent / "data" / "corpus"
HX = {"HX-Request": "true", "HX-Current-URL": "http://localhost/"}


@pytest.fixture(scope="module")
def app(fixture_settings: Settings, fixture_index):
    return create_app(fixture_settings, {"TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


def text_of(html: str) -> str:
    """The visible text of some HTML, roughly: tags dropped, entities decoded."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def viewer_links(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="(/documents/[^"]+)"', html)]


# --- the search page -------------------------------------------------------------------


def test_home_page_has_the_form_and_landmarks(client):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="nl">' in html
    assert re.search(r'<input id="q" name="q" type="search"[^>]*autofocus', html)
    assert '<label class="q-label" for="q">' in html
    for landmark in ("<header", "<main", "<footer", 'role="search"', 'class="skip"'):
        assert landmark in html
    # The filters list the documents and years of the index.
    assert '<option value="waterstof-projecten">Waterstofprojecten in Zuidoost-Drenthe' in html
    assert '<option value="2022">2022</option>' in html
    assert "<summary>Geavanceerd</summary>" in html
    assert "Trefwoord" in html and "Betekenis" in html
    assert "Zo werkt het" in html


def test_a_question_gives_a_cited_answer_and_passages(client):
    response = client.get("/?q=welke+projecten+gaan+over+waterstof%3F")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<title>welke projecten gaan over waterstof? – Beleidszoeker</title>" in html
    assert 'id="antwoord-kop">Antwoord</h2>' in html
    assert 'class="cite"' in html
    assert "<mark>waterstof</mark>" in html.lower()
    assert "Bekijk in document" in html
    links = viewer_links(html)
    assert links and all(link.endswith("#citaat") for link in links)
    # Every citation number names a passage in the list below.
    numbers = re.findall(r'class="cite"[^>]*>\s*<span class="sr-only">bron </span>(\d+)', html)
    assert numbers
    for n in numbers:
        assert f'id="bron-{n}"' in html


def test_citation_points_at_the_cited_sentence(client, fixture_index):
    query = "hoeveel woningen krijgen een waterstofketel?"
    expected = answer_question(fixture_index, query)
    assert not expected.abstained
    first = expected.answer.sentences[0]
    html = client.get("/", query_string={"q": query}).get_data(as_text=True)
    cite = re.search(r'class="cite" href="([^"]+)"', html)
    parts = urlsplit(unescape(cite.group(1)))
    args = {k: v[0] for k, v in parse_qs(parts.query).items()}
    doc_id = parts.path.rsplit("/", 1)[-1]
    text = fixture_index.index.clean_text(doc_id).text
    assert text[int(args["start"]) : int(args["end"])] == first.text
    assert args["q"] == query  # so the viewer can lead back to this search


def test_htmx_request_gets_a_fragment_and_a_shareable_url(client):
    response = client.get("/?q=snel+internet&document=&year=&mode=hybrid&k=10", headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and "<form" not in html
    assert "<title>snel internet – Beleidszoeker</title>" in html
    assert 'id="melding"' in html and 'hx-swap-oob="true"' in html
    assert response.headers["HX-Push-Url"] == "/?q=snel+internet"
    assert "HX-Request" in response.headers["Vary"]


def test_history_restore_gets_the_full_page(client):
    headers = {**HX, "HX-History-Restore-Request": "true"}
    html = client.get("/?q=snel+internet", headers=headers).get_data(as_text=True)
    assert "<html" in html and "<form" in html


def test_plain_form_submit_redirects_to_the_short_url(client):
    response = client.get("/?q=snel+internet&document=&year=&mode=hybrid&k=10")
    assert response.status_code == 302
    assert response.headers["Location"] == "/?q=snel+internet"
    kept = client.get("/?q=glasvezel&document=breedband-en-werk&year=&mode=keyword&k=3")
    assert kept.headers["Location"] == ("/?q=glasvezel&document=breedband-en-werk&mode=keyword&k=3")


def test_filters_and_mode_are_applied_and_kept_in_the_form(client):
    html = client.get("/?q=glasvezel&document=breedband-en-werk&mode=keyword&k=3").get_data(
        as_text=True
    )
    assert {link.split("?")[0] for link in viewer_links(html)} == {"/documents/breedband-en-werk"}
    assert '<option value="breedband-en-werk" selected>' in html
    assert re.search(r'value="keyword" checked', html)
    assert '<details class="advanced" open>' in html
    by_year = client.get("/?q=waterstof&year=2016").get_data(as_text=True)
    assert {link.split("?")[0] for link in viewer_links(by_year)} <= {
        "/documents/breedband-en-werk"
    }


def test_no_answer_still_shows_the_nearest_passages(client):
    html = client.get("/?q=hoeveel+kost+een+parkeervergunning+in+Amsterdam").get_data(as_text=True)
    assert "Geen antwoord gevonden in de documenten" in html
    assert 'class="card passage"' in html
    assert 'class="cite"' not in html


def test_no_passages_with_a_narrow_filter(client):
    html = client.get("/?q=waterstof&year=1999").get_data(as_text=True)
    assert "Geen antwoord gevonden in de documenten" in html
    assert "Er zijn geen passages gevonden met deze filters" in html


def test_list_answer_shows_each_item_with_its_citation(app, fixture_index):
    from flask import render_template

    from web.form import SearchForm
    from web.results import results_view

    found = answer_question(fixture_index, "welke projecten gaan over waterstof?")
    items = [
        AnswerSentence(text=p.text.split("\n")[-1], citations=[p.chunk_id], label=p.section)
        for p in found.passages[:2]
    ]
    response = AskResponse(
        query=found.query,
        abstained=False,
        answer=Answer(kind="list", text="", sentences=items),
        passages=found.passages,
    )
    with app.test_request_context("/?q=waterstof"):
        form = SearchForm.from_args(MultiDict({"q": "waterstof"}), app.config["SETTINGS"])
        html = render_template(
            "_answer.html", form=form, results=results_view(response), error=None
        )
    assert '<ul class="answer-list">' in html
    assert html.count("<li>") == 2
    for item in items:
        assert f"<strong>{item.label}</strong>" in html
    assert html.count('class="cite"') == 2


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("/?q=+++", 400, "Typ eerst een vraag"),
        ("/?q=waterstof&document=bestaat-niet", 400, "staat niet (meer) in de zoekindex"),
    ],
)
def test_user_errors_are_explained_in_dutch(client, query, status, message):
    response = client.get(query)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)


def test_bad_settings_in_the_url_are_noticed_not_fatal(client):
    html = client.get("/?q=waterstof&mode=raden&year=twintig").get_data(as_text=True)
    assert "Onbekende zoekmethode" in html
    assert "is geen jaartal" in html
    assert 'class="card passage"' in html


def test_missing_index_gives_a_friendly_page(tmp_path: Path, cache_dir: Path):
    settings = Settings(corpus_dir=FIXTURE_CORPUS, index_dir=tmp_path / "none", cache_dir=cache_dir)
    app = create_app(settings)  # nothing is loaded yet: creating the app cannot fail
    response = app.test_client().get("/?q=waterstof")
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert "De zoekindex is niet beschikbaar" in html
    assert "beleidszoeker index" in html


def test_unknown_page_is_a_dutch_404(client):
    response = client.get("/bestaat/niet")
    assert response.status_code == 404
    assert "bestaat niet" in response.get_data(as_text=True)


# --- the source viewer -------------------------------------------------------------------


def test_viewer_marks_the_span_and_lists_sections(client, fixture_index):
    text = fixture_index.index.clean_text("waterstof-projecten").text
    start = text.index("Honderd")
    end = text.index("waterstofketel.") + len("waterstofketel.")
    response = client.get(
        f"/documents/waterstof-projecten?start={start}&end={end}&q=waterstofketel"
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    cited = re.findall(r'<mark class="cited"[^>]*>([^<]*)</mark>', html)
    assert "".join(unescape(c) for c in cited) == text[start:end]
    assert html.count('id="citaat"') == 1
    assert '<a href="#sectie-2"' in html and 'id="sectie-2"' in html
    assert 'aria-current="location"' in html
    assert "<dt>Jaar</dt><dd>2022</dd>" in html
    assert "Testprovincie" in html
    assert 'href="/?q=waterstofketel">← Terug naar de resultaten' in html


def test_viewer_without_a_span_shows_the_whole_document(client, fixture_index):
    html = client.get("/documents/breedband-en-werk?start=9&end=3").get_data(as_text=True)
    assert "<mark" not in html
    assert "Snel internet voor iedereen" in html
    assert "← Nieuwe vraag" in html


def test_highlight_crossing_paragraphs_is_split_not_nested():
    text = "Kop\n\nEerste alinea.\n\nTweede alinea."
    sections = detect_sections(text)
    page = document_page(text, sections, (text.index("alinea."), text.index("Tweede") + 6))
    marked = [p.text for b in page.blocks for p in b.pieces if p.marked]
    assert marked == ["alinea.", "Tweede"]


def test_parse_span_clips_and_rejects():
    assert parse_span("5", "50", 20) == (5, 20)
    assert parse_span("-4", "3", 20) == (0, 3)
    assert parse_span("7", "7", 20) is None
    assert parse_span("x", "3", 20) is None
    assert parse_span(None, None, 20) is None


@pytest.mark.parametrize(
    "path",
    [
        "/documents/bestaat-niet",
        "/documents/..%2Fmanifest.json",
        "/documents/..%2F..%2F..%2Fetc%2Fpasswd",
        "/documents/../manifest.json",
        "/documents/%2e%2e",
        "/documents/manifest",
        "/documents/chunks",
    ],
)
def test_document_ids_cannot_reach_other_files(client, path):
    response = client.get(path)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "root:" not in html and "embedder" not in html


# --- highlighting and escaping ------------------------------------------------------------


def test_highlight_matches_stems_and_joins_runs():
    pieces = highlight("De Regio Deal bouwt woningen in de regio.", "regio deal woning")
    assert [p.text for p in pieces if p.marked] == ["Regio Deal", "woningen", "regio"]
    assert "".join(p.text for p in pieces) == "De Regio Deal bouwt woningen in de regio."
    assert highlight("tekst", "   ") == [Piece("tekst")]


@pytest.fixture(scope="module")
def evil_app(evil_settings: Settings):
    return create_app(evil_settings, {"TESTING": True})


def test_document_text_is_escaped_everywhere(evil_app):
    client = evil_app.test_client()
    for url in ("/?q=waterstofveiligheid+plaatje", "/documents/gevaarlijk?start=0&end=60"):
        html = client.get(url).get_data(as_text=True)
        assert "&lt;script&gt;window.__xss" in html, url
        assert "<script>window" not in html
        assert "<img src=x" not in html and "&lt;img src=x onerror=" in html
        # The only scripts on the page are htmx and ours, from this server.
        scripts = re.findall(r"<script[^>]*>", html)
        assert scripts == [
            '<script src="/vendor/htmx.min.js" defer>',
            '<script src="/static/app.js" defer>',
        ]


def test_the_question_is_escaped(client):
    query = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    for headers in ({}, HX):
        html = client.get("/", query_string={"q": query}, headers=headers).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_pages_forbid_inline_scripts(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- htmx, served from here ----------------------------------------------------------------


def test_htmx_is_installed():
    assert DEFAULT_HTMX_JS.is_file(), f"htmx is missing: run `{INSTALL_HINT}`"


def test_htmx_is_served_from_this_server(client):
    html = client.get("/").get_data(as_text=True)
    assert '<script src="/vendor/htmx.min.js" defer></script>' in html
    assert "//" not in re.search(r'<script src="([^"]+)"', html).group(1)
    response = client.get("/vendor/htmx.min.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert b"htmx" in response.data[:200]


def test_without_htmx_the_pages_still_work(fixture_settings, fixture_index, tmp_path, caplog):
    app = create_app(fixture_settings, {"HTMX_JS": tmp_path / "missing.js"})
    assert INSTALL_HINT in caplog.text
    client = app.test_client()
    html = client.get("/?q=waterstof").get_data(as_text=True)
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/app.js" defer>']
    assert 'action="/" method="get"' in html and 'class="card passage"' in html
    assert client.get("/vendor/htmx.min.js").status_code == 404
