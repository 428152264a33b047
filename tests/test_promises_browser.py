"""The /beloften page in Debian's Chromium: filter, open a promise in the viewer, read its
follow-ups, with and without JavaScript, at phone width, and axe's accessibility checks."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from test_browser import cited_text, in_viewport

from beleidszoeker.config import Settings
from web import create_app
from web.browser import axe_violations, console_errors, serve

pytestmark = pytest.mark.browser

PROMISE = "De provincie belooft dat in 2025 ieder huis en bedrijf in het buitengebied"


@pytest.fixture(scope="module")
def base_url(followup_settings: Settings):
    with serve(create_app(followup_settings)) as url:
        yield url


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def page(request, browser):
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, java_script_enabled=request.param
    )
    page = context.new_page()
    errors = console_errors(page)
    yield page
    context.close()
    assert errors == []


def test_filter_then_open_a_promise_in_the_viewer(page, base_url):
    page.goto(base_url + "/")
    page.click("text=Beloften en doelen")
    page.wait_for_selector("h1:has-text('Beloften en doelen')")
    assert page.locator("table.promises").count() >= 1

    page.select_option("#doeljaar", "2025")
    page.click("button:has-text('Filteren')")
    page.wait_for_url(re.compile(r"doeljaar=2025"))
    assert parse_qs(urlsplit(page.url).query)["doeljaar"] == ["2025"]
    rows = page.locator("table.promises tbody tr")
    assert rows.count() == 1
    assert page.locator("#aantal").inner_text().startswith("1 belofte")

    # The follow-up is folded under the promise until opened.
    details = page.locator("details.follow-up")
    report = details.locator("li").first
    assert not report.is_visible()
    details.locator("summary").click()
    assert report.is_visible() and "2023" in report.inner_text()

    link = rows.first.locator(".promise-text > a")
    text = link.inner_text()
    assert text.startswith(PROMISE)
    link.click()
    page.wait_for_url(re.compile(r"/documents/breedband-en-werk\?.*#citaat$"))
    assert "".join(cited_text(page).split()) == "".join(text.split())
    assert in_viewport(page, "#citaat")


def test_text_filter_and_csv_link(page, base_url):
    page.goto(base_url + "/beloften")
    page.fill("#q", "glasvezel in het buitengebied")
    page.click("button:has-text('Filteren')")
    page.wait_for_url(re.compile(r"q=glasvezel"))
    first = page.locator("table.promises tbody tr .promise-text > a").first
    assert first.inner_text().startswith(PROMISE)
    href = page.locator("a.csv").get_attribute("href")
    assert href.startswith("/beloften.csv?") and "q=glasvezel" in href


def test_phone_width_has_no_sideways_scrolling(browser, base_url):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    for path in ("/beloften", "/beloften?doeljaar=2025"):
        page.goto(base_url + path)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
    # On a phone each promise is a card: the column headers become labels in the cells.
    label = page.evaluate(
        "getComputedStyle(document.querySelector('.promises td'), '::before').content"
    )
    assert "Belofte" in label
    page.locator(".promise-text > a").first.click()
    page.wait_for_selector("#citaat")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()


@pytest.mark.parametrize("path", ["/beloften", "/beloften?q=glasvezel&doeljaar=2025"])
def test_beloften_passes_axe_wcag_aa_checks(browser, base_url, path):
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(base_url + path)
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    problems = axe_violations(page)
    context.close()
    assert problems == []
