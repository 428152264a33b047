"""The web UI in a real browser: Debian's Chromium driven by Playwright, with and without
JavaScript. These tests fail (never skip) when Chromium or Playwright is missing: CI
installs both (apt-get install chromium; pip install -e '.[test]')."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from beleidszoeker.config import Settings
from web import create_app
from web.browser import axe_violations, console_errors, serve

pytestmark = pytest.mark.browser

QUESTION = "hoeveel woningen krijgen een waterstofketel?"


@pytest.fixture(scope="module")
def base_url(fixture_settings: Settings, fixture_index):
    with serve(create_app(fixture_settings)) as url:
        yield url


@pytest.fixture
def page(browser):
    """A page that also fails the test on any console error (a CSP violation, a 404)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors = console_errors(page)
    yield page
    context.close()
    assert errors == []


@pytest.fixture
def page_without_js(browser):
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, java_script_enabled=False
    )
    yield context.new_page()
    context.close()


def in_viewport(page, selector: str) -> bool:
    return page.eval_on_selector(
        selector,
        "el => { const r = el.getBoundingClientRect();"
        " return r.bottom > 0 && r.top < window.innerHeight; }",
    )


def cited_text(page) -> str:
    return "".join(page.locator("mark.cited").all_inner_texts())


def test_ask_read_and_open_the_cited_sentence(page, base_url):
    page.goto(base_url + "/")
    assert page.evaluate("document.activeElement.id") == "q"  # autofocus
    page.evaluate("window.__samePage = true")
    page.keyboard.type(QUESTION)
    page.keyboard.press("Enter")
    page.wait_for_selector("#antwoord-kop")

    # htmx swapped the results in: no reload, and the URL carries the question.
    assert page.evaluate("window.__samePage") is True
    assert parse_qs(urlsplit(page.url).query) == {"q": [QUESTION]}
    assert page.title() == f"{QUESTION} – Beleidszoeker"
    assert page.locator("#antwoord-kop").inner_text() == "Antwoord"
    sentence = page.locator(".answer .sentence").first.inner_text()
    assert "waterstofketel" in sentence
    assert page.locator("#melding").inner_text().startswith("Antwoord gevonden")

    cite = page.locator(".answer .cite").first
    number = cite.inner_text().split(":")[0].replace("bron", "").strip()
    assert page.locator(f"#bron-{number}").count() == 1
    cite.click()
    page.wait_for_url(re.compile(r"/documents/.+#citaat$"))
    assert cited_text(page) == sentence
    assert in_viewport(page, "#citaat")

    # Back to the results, then back to the empty home page: history works both ways.
    page.go_back()
    page.wait_for_selector("#antwoord-kop")
    assert page.input_value("#q") == QUESTION
    page.go_back()
    page.wait_for_selector("#intro-kop")


def test_the_same_without_javascript(page_without_js, base_url):
    page = page_without_js
    page.goto(base_url + "/")
    page.fill("#q", QUESTION)
    page.press("#q", "Enter")
    page.wait_for_selector("#antwoord-kop")
    # The plain form submit was redirected to the short, shareable URL.
    assert parse_qs(urlsplit(page.url).query) == {"q": [QUESTION]}
    sentence = page.locator(".answer .sentence").first.inner_text()
    page.locator(".answer .cite").first.click()
    page.wait_for_url(re.compile(r"/documents/.+#citaat$"))
    assert cited_text(page) == sentence
    assert in_viewport(page, "#citaat")
    page.click("text=← Terug naar de resultaten")
    page.wait_for_selector("#antwoord-kop")


def test_passage_link_opens_the_passage_in_the_document(page, base_url):
    page.goto(base_url + "/?q=snel+internet")
    passage = page.locator(".passage blockquote").first.inner_text()
    page.locator(".passage .open").first.click()
    page.wait_for_selector("#citaat")
    # Marks are split at headings and paragraphs: compare the words, not the spacing.
    assert "".join(cited_text(page).split()) == "".join(passage.split())
    assert in_viewport(page, "#citaat")
    # The section list jumps around the document.
    link = page.locator(".toc a").last
    target = link.get_attribute("href")
    link.click()
    assert in_viewport(page, target)


def test_filters_and_mode_through_htmx(page, base_url):
    page.goto(base_url + "/")
    page.select_option("#document", "breedband-en-werk")
    page.click("summary")
    page.check("input[name=mode][value=keyword]")
    page.fill("#q", "werkgelegenheid en banen")
    page.click("button[type=submit]")
    page.wait_for_selector(".passage")
    titles = set(page.locator(".passage h3").all_inner_texts())
    assert all("Economische agenda" in t for t in titles)
    query = parse_qs(urlsplit(page.url).query)
    assert query["document"] == ["breedband-en-werk"] and query["mode"] == ["keyword"]


def test_loading_indicator_shows_while_searching(page, base_url):
    page.goto(base_url + "/")
    page.evaluate(
        "document.body.addEventListener('htmx:beforeSend', () => {"
        " window.__loading = getComputedStyle(document.getElementById('laden')).display; })"
    )
    page.fill("#q", "snel internet")
    page.press("#q", "Enter")
    page.wait_for_selector("#antwoord-kop, .answer")
    assert page.evaluate("window.__loading") == "flex"
    expect(page.locator("#laden")).to_be_hidden()


def test_keyboard_focus_is_visible(page, base_url):
    page.goto(base_url + "/")
    # The question box has autofocus; Tab before it is applied would start at the skip link.
    page.wait_for_function("document.activeElement && document.activeElement.id === 'q'")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Zoeken"
    style = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert style == "solid"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/?q=hoeveel+woningen+krijgen+een+waterstofketel%3F",
        "/?q=hoeveel+kost+een+parkeervergunning+in+Amsterdam",
        "/documents/waterstof-projecten?start=40&end=200",
    ],
)
def test_pages_pass_axe_wcag_aa_checks(browser, base_url, path):
    """Labels, landmarks, headings, contrast and names, as axe-core checks them."""
    # axe is injected as an inline script, which the pages' CSP rightly refuses.
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(base_url + path)
    problems = axe_violations(page)
    context.close()
    assert problems == []


def test_phone_width_has_no_sideways_scrolling(browser, base_url):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    for path in ("/", "/?q=welke+projecten+gaan+over+waterstof%3F"):
        page.goto(base_url + path)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
    page.locator(".cite, .passage .open").first.click()
    page.wait_for_selector("#citaat")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()


@pytest.fixture(scope="module")
def evil_url(evil_settings: Settings):
    """A server over an index holding a document whose text would run if not escaped."""
    with serve(create_app(evil_settings)) as url:
        yield url


def test_scripts_in_documents_and_questions_never_run(page, evil_url):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    def nothing_ran() -> None:
        assert page.locator("main img, main script").count() == 0
        assert page.evaluate("window.__xss") is None
        assert dialogs == []

    page.goto(evil_url + "/")
    page.fill("#q", "waterstofveiligheid plaatje <img src=x onerror=alert(1)>")
    page.press("#q", "Enter")  # swapped in by htmx
    page.wait_for_selector(".passage")
    assert "<script>window.__xss" in page.locator("#resultaten").inner_text()
    nothing_ran()

    page.goto(evil_url + "/?q=waterstofveiligheid+plaatje+%3Cscript%3Ealert(2)%3C/script%3E")
    page.wait_for_selector(".passage")
    assert "onerror=" in page.locator("#resultaten").inner_text()
    nothing_ran()

    page.goto(evil_url + "/documents/gevaarlijk?start=0&end=200#citaat")
    assert "<script>window.__xss" in page.locator("article").inner_text()
    nothing_ran()
