"""The original PDF page in Debian's Chromium: a citation opens its page with boxes over
the cited sentence, paging and the switch back to the text work, nothing is fetched from
outside the machine, and without JavaScript the cleaned text is the view."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from document_factory import SCAN_PAGES

from beleidszoeker.config import Settings
from web import create_app
from web.browser import axe_violations, console_errors, serve

pytestmark = pytest.mark.browser

MAGAZINE_SENTENCE = (
    "In Borger komen daarom twaalf levensloopbestendige woningen naast de huisartsenpraktijk."
)


@pytest.fixture(scope="module")
def base_url(pdf_settings: Settings, pdf_index):
    with serve(create_app(pdf_settings)) as url:
        yield url


@pytest.fixture
def page(browser, base_url):
    """A page that records every request and fails the test on any console error."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.requests = []
    page.on("request", lambda r: page.requests.append(r.url))
    errors = console_errors(page)
    yield page
    context.close()
    assert errors == []
    # Everything came from Beleidszoeker itself: no CDN, no font service, nothing else.
    outside = [u for u in page.requests if not u.startswith((base_url, "data:", "blob:"))]
    assert outside == []


def open_citation(page, base_url: str, question: str, document_id: str) -> None:
    page.goto(f"{base_url}/?q={quote(question)}")
    link = page.locator(f".answer a.cite[href*='/documents/{document_id}?']").first
    link.click()
    page.wait_for_url(f"**/documents/{document_id}?*")


def marks(page) -> list[dict[str, float]]:
    """The highlight boxes as fractions of the drawn page."""
    return page.evaluate(
        """() => {
          const c = document.querySelector('.pdf-stage canvas').getBoundingClientRect();
          return [...document.querySelectorAll('.pdf-mark')].map(m => {
            const r = m.getBoundingClientRect();
            return {x0: (r.left - c.left) / c.width, x1: (r.right - c.left) / c.width,
                    y0: (r.top - c.top) / c.height, y1: (r.bottom - c.top) / c.height};
          });
        }"""
    )


def word_centres(pdf_path, page_number: int, sentence: str) -> list[tuple[float, float]]:
    """Where pdfium finds each word of ``sentence`` on the page, as fractions of it."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(pdf_path)
    try:
        page = pdf[page_number - 1]
        width, height = page.get_size()
        textpage = page.get_textpage()
        centres = []
        after = -1  # each word is looked for after the one before, as the sentence reads
        for word in sentence.rstrip(".").split():
            search = textpage.search(word, match_case=True, match_whole_word=True)
            while (found := search.get_next()) is not None and found[0] <= after:
                pass
            assert found is not None, word
            index, count = found
            after = index
            left, bottom, right, top = textpage.get_charbox(index + count // 2)
            centres.append(((left + right) / 2 / width, 1 - (bottom + top) / 2 / height))
        return centres
    finally:
        pdf.close()


def covered(point: tuple[float, float], boxes: list[dict[str, float]]) -> bool:
    x, y = point
    return any(b["x0"] <= x <= b["x1"] and b["y0"] <= y <= b["y1"] for b in boxes)


def test_a_citation_opens_its_pdf_page_with_the_sentence_boxed(page, base_url, pdf_settings):
    open_citation(page, base_url, "Waar komen de levensloopbestendige woningen?", "magazine")
    page.wait_for_selector("#origineel[data-shown='2']")
    assert page.inner_text(".pdf-label") == "Pagina 2 van 2"
    assert page.is_hidden("#tekst")  # the page replaces the cleaned text

    boxes = marks(page)
    assert boxes, "no highlight drawn"
    centres = word_centres(pdf_settings.corpus_dir / "magazine.pdf", 2, MAGAZINE_SENTENCE)
    assert all(covered(c, boxes) for c in centres), (centres, boxes)
    # And nothing else is boxed: the other column and the sentence after stay clear.
    other = word_centres(pdf_settings.corpus_dir / "magazine.pdf", 2, "steunpunt woningcorporatie")
    assert not any(covered(c, boxes) for c in other)


def test_paging_and_the_switch_to_the_cleaned_text(page, base_url):
    open_citation(page, base_url, "Waar komen de levensloopbestendige woningen?", "magazine")
    page.wait_for_selector("#origineel[data-shown='2']")
    page.click(".pdf-prev")
    page.wait_for_selector("#origineel[data-shown='1']")
    assert page.inner_text(".pdf-label") == "Pagina 1 van 2"
    assert page.locator(".pdf-mark").count() == 0  # the cited words are on page 2
    assert page.is_disabled(".pdf-prev")
    page.click(".pdf-next")
    page.wait_for_selector("#origineel[data-shown='2']")
    assert page.locator(".pdf-mark").count() > 0

    page.click("#wissel-weergave")
    assert page.is_hidden("#origineel") and page.is_visible("#tekst")
    assert "levensloopbestendige" in "".join(page.locator("mark.cited").all_inner_texts())
    assert page.inner_text("#wissel-weergave") == "Toon de originele pagina"
    page.click("#wissel-weergave")
    assert page.is_visible("#origineel") and page.is_hidden("#tekst")


def test_a_scanned_page_3_citation_opens_page_3_with_the_ocr_words_boxed(page, base_url):
    open_citation(page, base_url, "Hoeveel geld krijgt het dorpshuis in Gieten?", "raadsbesluit")
    page.wait_for_selector("#origineel[data-shown='3']")
    assert page.inner_text(".pdf-label") == "Pagina 3 van 3"
    boxes = marks(page)
    assert boxes
    # The scan's lines were drawn at known heights (document_factory.write_scan_pdf):
    # the sentence fills lines 3 and 4 of page 3, from the left margin.
    dpi, height_in = 200, 11.69
    tops = [(1.1 * dpi + i * 18 * dpi / 72) / (height_in * dpi) for i in (2, 3)]
    line = 12 * dpi / 72 / (height_in * dpi)
    assert SCAN_PAGES[2][2].startswith("De gemeenteraad besluit")
    for top in tops:
        middle = top + line / 2
        assert any(b["y0"] <= middle <= b["y1"] and b["x0"] < 0.12 for b in boxes), (top, boxes)


def test_without_javascript_the_cleaned_text_is_the_view(browser, base_url, pdf_index):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        text = pdf_index.index.clean_text("magazine").text
        start = text.index("In Borger")
        page.goto(f"{base_url}/documents/magazine?start={start}&end={start + 40}")
        assert page.is_hidden("#origineel") and page.is_hidden(".view-switch")
        assert page.is_visible("#tekst")
        assert "In Borger" in "".join(page.locator("mark.cited").all_inner_texts())
    finally:
        context.close()


def test_the_pdf_page_view_passes_axe_checks(browser, base_url, pdf_index):
    """The page view, with its buttons and drawn page, as axe-core checks it."""
    text = pdf_index.index.clean_text("magazine").text
    start = text.index("In Borger")
    context = browser.new_context(bypass_csp=True)  # axe is injected as an inline script
    page = context.new_page()
    try:
        page.goto(f"{base_url}/documents/magazine?start={start}&end={start + 40}")
        page.wait_for_selector("#origineel[data-shown='2']")
        problems = axe_violations(page)
    finally:
        context.close()
    assert problems == []
