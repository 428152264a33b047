"""PDFs as users have them, on real generated files: a scan read with Tesseract's Dutch
model, a two-column magazine read column by column, and broken files skipped with a reason.

The scan is OCR'd once per session (the ``pdf_build`` index); every later read here comes
from the OCR cache, which is what these tests also check.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from conftest import RecordingProgress, make_settings
from document_factory import (
    MAGAZINE_CAPTION,
    MAGAZINE_FOOTER,
    MAGAZINE_HEADER,
    MAGAZINE_PAGES,
    SCAN_HEADER,
    SCAN_PAGES,
    encrypt_pdf,
    write_magazine_pdf,
    write_pdf,
)

from indexer.cleaning import clean
from indexer.loaders import LoaderError, load
from indexer.ocr import Ocr

_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def page_texts(extracted) -> list[str]:
    starts = [0, *(extracted.page_starts or []), len(extracted.text)]
    return [extracted.text[a:b] for a, b in zip(starts, starts[1:], strict=False)]


def sentences(paragraph: str) -> list[str]:
    return [s.strip() for s in re.findall(r"[^.!?]+[.!?]", paragraph)]


def flat(text: str) -> str:
    return " ".join(text.split())


# --- OCR -------------------------------------------------------------------------------


def test_scanned_pages_are_read_with_dutch_ocr(pdf_build, cache_dir: Path) -> None:
    settings, report, _ = pdf_build
    scan = settings.corpus_dir / "raadsbesluit.pdf"
    assert ("raadsbesluit.pdf", "pages 1-3 read with OCR (Tesseract, nld)") in report.notes

    extracted = load(scan, Ocr(cache_dir / "ocr"))
    pages = page_texts(extracted)
    assert len(pages) == 3
    for number, (truth, got) in enumerate(zip(SCAN_PAGES, pages, strict=True), start=1):
        expected = Counter(words(" ".join(truth)))
        found = Counter(words(got))
        recall = sum((expected & found).values()) / sum(expected.values())
        assert recall >= 0.95, (number, recall, got)
    # The copier's running header and page numbers are dropped like a text layer's.
    assert SCAN_HEADER not in extracted.text
    assert not re.search(r"^\W*\d\W*$", extracted.text, re.MULTILINE)


def test_ocr_reports_each_page_and_never_reads_a_file_twice(pdf_build, cache_dir, tmp_path):
    settings, _, progress = pdf_build
    # The session build showed a bar for the scan, page by page.
    assert [s for s in progress.steps if s[0] == "OCR raadsbesluit.pdf"] == [
        ("OCR raadsbesluit.pdf", n, 3) for n in range(4)
    ]
    read: list[tuple[str, int, int]] = []
    ocr = Ocr(cache_dir / "ocr", on_page=lambda *a: read.append(a))
    # The same bytes under another name (a re-index, a moved file) come from the cache.
    copy = shutil.copy(settings.corpus_dir / "raadsbesluit.pdf", tmp_path / "kopie.pdf")
    assert "Gieten" in load(Path(copy), ocr).text
    assert read == []


def test_a_page_3_passage_is_cited_as_page_3(pdf_index) -> None:
    from search_api.answer import answer_question

    response = answer_question(pdf_index, "Hoeveel geld krijgt het dorpshuis in Gieten?")
    assert response.answer is not None
    cited = {c for s in response.answer.sentences for c in s.citations}
    passages = [p for p in response.passages if p.chunk_id in cited]
    scan = [p for p in passages if p.document.id == "raadsbesluit"]
    assert scan, response
    assert "vijfenveertigduizend euro" in scan[0].text
    assert scan[0].page == 3


def test_a_scan_under_a_garbage_text_layer_is_read_with_ocr(tmp_path: Path) -> None:
    from document_factory import write_scan_pdf

    scan = write_scan_pdf(tmp_path / "scan.pdf", SCAN_PAGES[2:], garbage_layer=True)
    with pytest.raises(LoaderError, match="no text layer"):
        load(scan)  # OCR off: the symbols are not indexed as if they were text
    extracted = load(scan, Ocr(tmp_path / "ocr"))
    assert "#$%&" not in extracted.text
    assert "vijfenveertigduizend euro" in extracted.text
    assert extracted.notes == ["page 1 read with OCR (Tesseract, nld)"]


def test_without_tesseract_a_scan_is_skipped_with_the_package_to_install(
    pdf_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from indexer import ocr

    monkeypatch.setenv("PATH", str(tmp_path))  # no tesseract on it
    ocr._unavailable.cache_clear()
    try:
        with pytest.raises(LoaderError) as info:
            load(pdf_corpus / "raadsbesluit.pdf", Ocr(tmp_path / "ocr"))
    finally:
        ocr._unavailable.cache_clear()
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("no text layer (scanned?) and Tesseract is not installed")
    assert "apt-get install tesseract-ocr tesseract-ocr-nld" in message


def test_ocr_can_be_turned_off(
    pdf_build, pdf_corpus: Path, tmp_path: Path, cache_dir: Path
) -> None:
    from indexer.build import build_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(pdf_corpus / "raadsbesluit.pdf", corpus)
    shutil.copy(pdf_corpus / "breedband-en-werk.txt", corpus)
    settings = make_settings(corpus, tmp_path / "index", cache_dir, ocr=False)
    report = build_index(settings)
    assert report.skipped == [
        (
            "raadsbesluit.pdf",
            "no text layer (scanned?) and OCR is off: set BELEIDSZOEKER_OCR=true (or put a "
            "copy made with `ocrmypdf` in the corpus), then run `beleidszoeker index` again",
        )
    ]
    # Turning it on reads the scan at the next run, from the OCR cache: the session index
    # read these very bytes already, so no page is OCR'd again.
    progress = RecordingProgress()
    report = build_index(settings.with_overrides(ocr=True), progress)
    assert "raadsbesluit.pdf" in report.added and report.skipped == []
    assert progress.steps == []


# --- Columns ---------------------------------------------------------------------------


def test_magazine_columns_are_read_whole_and_in_order(tmp_path: Path) -> None:
    extracted = load(write_magazine_pdf(tmp_path / "magazine.pdf"))
    text = flat(clean(extracted.text).text)
    for number, (title, left, right) in enumerate(MAGAZINE_PAGES, start=1):
        page = flat(page_texts(extracted)[number - 1])
        pos = text.index(title)
        # Left column, then right column: every sentence whole, each after the one before.
        for paragraph in left + right:
            for sentence in sentences(paragraph):
                found = text.find(sentence, pos)
                assert found > pos, (number, sentence, text[pos : pos + 300])
                pos = found
        assert page.startswith(title)
    for running in (*MAGAZINE_HEADER, MAGAZINE_FOOTER):
        assert running not in text
    # The caption stays, after the sentence it was set into, not inside it.
    assert flat(MAGAZINE_CAPTION) in text
    assert "vrijwilligers uit de dorpen zelf en rijden op elke werkdag" in text


def test_word_positions_point_at_the_words_on_their_page(tmp_path: Path) -> None:
    import pypdfium2 as pdfium

    path = write_magazine_pdf(tmp_path / "magazine.pdf")
    extracted = load(path)
    boxes = extracted.words
    assert boxes is not None and len(boxes) > 200
    pdf = pdfium.PdfDocument(path)
    try:
        for word in ("levensloopbestendige", "huisartsenpraktijk", "buurtbusvereniging"):
            start = extracted.text.index(word)
            [box] = boxes.in_span(start, start + len(word))
            page = pdf[box.page - 1]
            width, height = page.get_size()
            textpage = page.get_textpage()
            index, count = textpage.search(word).get_next()
            left, bottom, right, top = textpage.get_charbox(index)
            # The middle of the word's first letter, as pdfium finds it by searching.
            x, y = (left + right) / 2 / width, 1 - (bottom + top) / 2 / height
            assert box.x0 <= x <= box.x1 and box.y0 <= y <= box.y1, (word, box, x, y)
    finally:
        pdf.close()


# --- Bad input loses nothing -------------------------------------------------------------


def test_encrypted_truncated_and_empty_pdfs_are_skipped_with_a_reason(
    tmp_path: Path, cache_dir: Path
) -> None:
    from indexer.build import build_index

    corpus = tmp_path / "corpus"
    good = write_pdf(tmp_path / "nota.pdf", [["1. Waterstof", "In Hoogeveen rijden bussen."]])
    corpus.mkdir()
    encrypt_pdf(good, corpus / "beveiligd.pdf", "geheim")
    (corpus / "afgebroken.pdf").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    (corpus / "leeg.pdf").write_bytes(b"")
    shutil.copy(good, corpus / "nota.pdf")
    report = build_index(make_settings(corpus, tmp_path / "index", cache_dir))
    reasons = dict(report.skipped)
    assert reasons.keys() == {"beveiligd.pdf", "afgebroken.pdf", "leeg.pdf"}
    assert "password-protected" in reasons["beveiligd.pdf"]
    assert "truncated" in reasons["afgebroken.pdf"]
    assert "the file is empty (0 bytes)" in reasons["leeg.pdf"]
    assert report.added == ["nota.pdf"]


def test_three_columns_with_aligned_paragraph_breaks_are_read_column_by_column() -> None:
    """Paragraph breaks at the same height in all columns must not cut the page into rows
    (which would read the tops of all columns before their bottoms)."""
    from indexer.loaders.pdf_layout import Word, reading_order

    words: list[Word] = []
    for col in range(3):
        x = 40 + col * 180
        y = 100.0
        for line in range(8):
            if line == 4:
                y += 14  # a paragraph break, at the same height in every column
            words.append(Word(f"k{col}r{line}a", x, y, x + 60, y + 11, 10))
            words.append(Word(f"k{col}r{line}b", x + 63, y, x + 150, y + 11, 10))
            y += 14
    words.append(Word("Kop", 40, 50, 560, 70, 18))  # a title over all columns
    blocks = reading_order(list(reversed(words)))  # drawn in any order
    order = [w.text for block in blocks for line in block for w in line]
    expected = ["Kop"] + [f"k{c}r{r}{s}" for c in range(3) for r in range(8) for s in "ab"]
    assert order == expected
