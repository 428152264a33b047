"""PDF: the text page by page in reading order, with the position of every word.

pdfium (pypdfium2) reads the text layer; columns are read one after the other (see
``pdf_layout``), and running headers, footers and page numbers are dropped. Pages without
a usable text layer are scans: they are read with Tesseract when OCR is on.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from indexer.loaders.base import Extracted, LoaderError
from indexer.loaders.pdf_layout import Page, pdfium_page
from indexer.loaders.running_lines import running_lines
from indexer.ocr import Ocr
from indexer.words import WordBoxes

# A page with fewer visible characters than this has no usable text layer: a scan, a
# photo or a drawing. Page numbers and a stray header alone stay under it.
_MIN_PAGE_CHARS = 25
# Titles that PDF writers fill in themselves; a filename-based title is better than these.
_JUNK_TITLE = re.compile(
    r"^(?:microsoft (?:word|powerpoint) - .*|untitled.*|naamloos.*|document\d*|"
    r"presentatie\d*|titel|title|.*\.(?:docx?|pptx?|pdf|indd|xlsx?))$",
    re.IGNORECASE,
)
_YEAR = re.compile(r"^(?:D:)?(\d{4})")
# Readers accept a little junk after the end marker; a file without one was cut short.
_TAIL = 4096
_PDFIUM_ERRORS = {  # FPDF_ERR_* codes
    2: "the file cannot be opened",
    3: "it is not a valid PDF structure",
    5: "it uses an unsupported security handler",
}


def load_pdf(path: Path, ocr: Ocr | None = None) -> Extracted:
    """Read ``path``; scanned pages are read with ``ocr`` (None: OCR is off)."""
    try:
        import pypdfium2 as pdfium
    except ImportError as exc:  # pragma: no cover - pypdfium2 is a core dependency
        raise LoaderError("PDF support is not installed: run `pip install -e .`") from exc

    _check_file(path)
    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == 4:  # FPDF_ERR_PASSWORD
            raise LoaderError(
                "the PDF is password-protected: save a copy without a password "
                "(or ask the publisher for one) and put that in the corpus"
            ) from exc
        reason = _PDFIUM_ERRORS.get(getattr(exc, "err_code", None), _short(exc))
        raise LoaderError(
            f"the PDF is damaged ({reason}): get a fresh copy or open and save it again"
        ) from exc
    try:
        return _read(path, pdf, ocr)
    finally:
        pdf.close()


def _check_file(path: Path) -> None:
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(1024)
            f.seek(max(0, size - _TAIL))
            tail = f.read()
    except OSError as exc:
        raise LoaderError(f"cannot read file ({exc.strerror or exc})") from exc
    if size == 0:
        raise LoaderError("the file is empty (0 bytes): copy it again from its source")
    if b"%PDF" not in head:
        raise LoaderError("not a PDF (the file does not start with %PDF): check what it is")
    if b"%%EOF" not in tail:
        raise LoaderError(
            "the PDF is damaged (truncated: it stops before its end, an interrupted download "
            "or copy?): get a complete copy"
        )


def _read(path: Path, pdf, ocr: Ocr | None) -> Extracted:
    n_pages = len(pdf)
    if not n_pages:
        raise LoaderError("the PDF has no pages")
    pages: list[Page | None] = []
    for index in range(n_pages):
        try:
            pages.append(pdfium_page(pdf[index]))
        except Exception:  # one damaged page must not cost the whole document
            pages.append(None)
    unreadable = [n for n, p in enumerate(pages, start=1) if p is None]
    empty = [n for n, p in enumerate(pages, start=1) if p is not None and not _usable(p)]
    # Text that is mostly symbols comes from fonts without a character map, or from a bad
    # OCR layer: not worth indexing, and on a scan better read again.
    garbled = [n for n in empty if _visible(pages[n - 1]) >= _MIN_PAGE_CHARS]
    for n in garbled:
        pages[n - 1] = Page(pages[n - 1].width, pages[n - 1].height, [])
    # A page with a picture and (almost) no text is a scan; a blank page is just blank.
    scanned = [n for n in empty if _has_image(pdf[n - 1])]
    garbled = [n for n in garbled if n not in scanned]

    notes: list[str] = []
    why_not = _OCR_OFF if ocr is None else ocr.unavailable()
    if scanned and why_not is None:
        for n, page in ocr.read_pages(path, pdf, scanned).items():
            pages[n - 1] = page
        read = [n for n in scanned if _visible(pages[n - 1]) >= _MIN_PAGE_CHARS]
        if read:
            notes.append(f"{_pages(read)} read with OCR (Tesseract, {ocr.lang})")
        scanned = [n for n in scanned if n not in read]
        empty = [n for n in empty if n not in read]

    if len(empty) + len(unreadable) == n_pages:
        if len(unreadable) == n_pages:
            raise LoaderError("the PDF is damaged: no page could be read; get a fresh copy")
        if garbled and not scanned:
            raise LoaderError(
                "the text layer cannot be read (its fonts have no character map): "
                "export the PDF again, or print it to PDF and put that in the corpus"
            )
        if not scanned:
            raise LoaderError("the PDF has no text (blank pages or drawings only)")
        if why_not is None:
            raise LoaderError(
                "no text layer (scanned?) and OCR found no text on its pages: "
                "check that the scan is legible"
            )
        raise LoaderError(
            f"no text layer (scanned?) and {why_not}, then run `beleidszoeker index` again"
        )
    if unreadable:
        notes.append(f"{_pages(unreadable)} could not be read (damaged)")
    if garbled:
        notes.append(f"{_pages(garbled)} left out: the text layer cannot be read")
    if scanned:
        detail = "OCR found no text" if why_not is None else why_not
        notes.append(f"{_pages(scanned)} without a text layer (scanned?): {detail}")

    text, page_starts, words = _assemble([p or Page(0, 0, []) for p in pages])
    title, year = _metadata(pdf)
    return Extracted(
        text=text, page_starts=page_starts, title=title, year=year, notes=notes, words=words
    )


_OCR_OFF = (
    "OCR is off: set BELEIDSZOEKER_OCR=true (or put a copy made with `ocrmypdf` in the corpus)"
)


def _assemble(pages: list[Page]) -> tuple[str, list[int], WordBoxes]:
    """The text of all pages (running lines dropped), where pages 2.. start, and the
    position of every word.

    Lines are joined by a line break, blocks by a blank line, and pages by a single line
    break: a sentence running over a page break is then one sentence for the cleaner, and
    "ener-" at a page end still rejoins.
    """
    page_lines = [_page_lines(p) for p in pages]
    drop = running_lines([[" ".join(w.text for w in ln) for ln in lines] for lines in page_lines])
    parts: list[str] = []
    page_starts: list[int] = []
    rows: list[tuple[int, int, int, float, float, float, float]] = []
    pos = 0  # where the current page starts in the whole text
    for number, (page, lines, dropped) in enumerate(zip(pages, page_lines, drop, strict=True), 1):
        if number > 1:
            page_starts.append(pos)
        texts: list[str] = []
        line_start = pos
        for line in _trim([ln for j, ln in enumerate(lines) if j not in dropped]):
            start = line_start
            for w in line:
                rows.append(
                    (start, start + len(w.text), number,
                     w.x0 / page.width, w.y0 / page.height,
                     w.x1 / page.width, w.y1 / page.height)
                )  # fmt: skip
                start += len(w.text) + 1
            texts.append(" ".join(w.text for w in line))
            line_start += len(texts[-1]) + 1
        parts.append("\n".join(texts))
        pos += len(parts[-1]) + 1
    return "\n".join(parts), page_starts, WordBoxes.build(rows)


def _page_lines(page: Page) -> list[list]:
    """The page's lines, an empty line between blocks."""
    lines: list[list] = []
    for block in page.blocks:
        if lines:
            lines.append([])
        lines.extend(block)
    return lines


def _trim(lines: list[list]) -> list[list]:
    """No blank lines at the edges, and never two in a row (a dropped line between)."""
    out: list[list] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return out


def _visible(page: Page) -> int:
    return sum(len(w.text) for block in page.blocks for line in block for w in line)


def _usable(page: Page) -> bool:
    """Enough text, and text made of words rather than symbols and unmapped glyphs."""
    chars = "".join(w.text for block in page.blocks for line in block for w in line)
    if len(chars) < _MIN_PAGE_CHARS:
        return False
    wordlike = sum(c.isalnum() for c in chars)
    unmapped = sum(c == "\ufffd" or unicodedata.category(c) in ("Co", "Cn") for c in chars)
    return wordlike >= 0.5 * len(chars) and unmapped <= 0.1 * len(chars)


def _has_image(page) -> bool:
    import pypdfium2.raw as raw

    try:
        return any(True for _ in page.get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE]))
    except Exception:  # odd page resources: then we cannot tell, and say nothing
        return False


def _metadata(pdf) -> tuple[str | None, int | None]:
    try:
        info = pdf.get_metadata_dict(skip_empty=True)
    except Exception:  # a broken info dictionary only costs the metadata
        return None, None
    title = " ".join(str(info.get("Title", "")).split()) or None
    if title and (len(title) < 4 or _JUNK_TITLE.match(title)):
        title = None
    m = _YEAR.match(str(info.get("CreationDate", "")))
    year = int(m.group(1)) if m and 1900 < int(m.group(1)) < 2200 else None
    return title, year


def _pages(numbers: list[int]) -> str:
    """[4] -> "page 4"; [1, 2, 3, 7] -> "pages 1-3, 7"."""
    return f"page {numbers[0]}" if len(numbers) == 1 else f"pages {_ranges(numbers)}"


def _ranges(numbers: list[int]) -> str:
    parts: list[str] = []
    start = prev = numbers[0]
    for n in numbers[1:] + [None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(parts)


def _short(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."
