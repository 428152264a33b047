"""PDF: the text layer page by page, so every passage can name the page it is on."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from indexer.loaders.base import Extracted, LoaderError
from indexer.loaders.running_lines import strip_running_lines

# A page with fewer visible characters than this has no usable text layer: a scan, a
# photo or a drawing. Page numbers and a stray header alone stay under it.
_MIN_PAGE_CHARS = 25
# Titles that PDF writers fill in themselves; a filename-based title is better than these.
_JUNK_TITLE = re.compile(
    r"^(?:microsoft (?:word|powerpoint) - .*|untitled.*|naamloos.*|document\d*|"
    r"presentatie\d*|titel|title|.*\.(?:docx?|pptx?|pdf|indd|xlsx?))$",
    re.IGNORECASE,
)


def load_pdf(path: Path) -> Extracted:
    try:
        from pypdf import PdfReader
        from pypdf.errors import DependencyError
    except ImportError as exc:  # pragma: no cover - pypdf is a core dependency
        raise LoaderError("PDF support is not installed: run `pip install -e .`") from exc

    try:
        with path.open("rb") as f:
            head = f.read(1024)
    except OSError as exc:
        raise LoaderError(f"cannot read file ({exc.strerror or exc})") from exc
    if b"%PDF" not in head:
        raise LoaderError("not a PDF (the file does not start with %PDF): check what it is")

    # pypdf logs every repaired cross-reference as a warning; they would tear through the
    # progress bar, and a file that is really unreadable fails below with its reason.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not _unlock(reader):
            raise LoaderError(
                "the PDF is password-protected: save a copy without a password "
                "(or ask the publisher for one) and put that in the corpus"
            )
        pages = list(reader.pages)
    except LoaderError:
        raise
    except DependencyError as exc:
        raise LoaderError(
            f"the PDF is encrypted in a way that needs an extra package ({exc}): "
            "run `pip install -e .` to install it"
        ) from exc
    except Exception as exc:  # a broken file can make pypdf fail in many ways; all mean this
        raise LoaderError(
            f"the PDF is damaged ({_short(exc)}): get a fresh copy or open and save it again"
        ) from exc
    if not pages:
        raise LoaderError("the PDF has no pages")

    texts: list[str] = []
    unreadable: list[int] = []
    for number, page in enumerate(pages, start=1):
        try:
            texts.append(_normalise(page.extract_text() or ""))
        except Exception:  # one damaged page must not cost the whole document
            texts.append("")
            unreadable.append(number)

    texts = strip_running_lines(texts)
    empty = [n for n, t in enumerate(texts, start=1) if _visible(t) < _MIN_PAGE_CHARS]
    if len(empty) == len(texts):
        if unreadable:
            raise LoaderError("the PDF is damaged: no page could be read; get a fresh copy")
        raise LoaderError(
            "no text layer (scanned?): run OCR first, e.g. `ocrmypdf in.pdf out.pdf`, "
            "and put the result in the corpus"
        )

    notes: list[str] = []
    if unreadable:
        notes.append(f"{_pages(unreadable)} could not be read (damaged)")
    # A page with a picture and (almost) no text is a scan; a blank page is just blank.
    scanned = [n for n in empty if n not in unreadable and _has_image(pages[n - 1])]
    if scanned and len(texts) > 1:
        notes.append(
            f"{_pages(scanned)} without a text layer (scanned?): "
            "run OCR (e.g. `ocrmypdf`) to make them searchable"
        )

    # Pages are joined by a single line break: a sentence running over a page break is
    # then one sentence for the cleaner, and "ener-" at a page end still rejoins.
    page_starts: list[int] = []
    pos = 0
    for i, t in enumerate(texts):
        if i:
            page_starts.append(pos)
        pos += len(t) + 1
    title, year = _metadata(reader)
    return Extracted(
        text="\n".join(texts), page_starts=page_starts, title=title, year=year, notes=notes
    )


def _unlock(reader) -> bool:
    """Many published PDFs are encrypted only to restrict printing: an empty password opens
    them. Anything else needs the user's password, which we do not have."""
    from pypdf.errors import DependencyError

    try:
        return bool(reader.decrypt(""))
    except DependencyError:
        raise
    except Exception:  # pypdf raises several types for a key it cannot use
        return False


def _has_image(page) -> bool:
    try:
        xobjects = page["/Resources"].get_object().get("/XObject")
        if xobjects is None:
            return False
        return any(
            x.get_object().get("/Subtype") == "/Image" for x in xobjects.get_object().values()
        )
    except Exception:  # odd resource dictionaries: then we cannot tell, and say nothing
        return False


def _normalise(text: str) -> str:
    # Some writers end lines with \r; the cleaner and the page offsets expect \n only.
    return text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")


def _visible(text: str) -> int:
    return sum(1 for c in text if not c.isspace())


def _metadata(reader) -> tuple[str | None, int | None]:
    try:
        info = reader.metadata
    except Exception:  # a broken info dictionary only costs the metadata
        return None, None
    if info is None:
        return None, None
    title = " ".join(str(info.title or "").split()) or None
    if title and (len(title) < 4 or _JUNK_TITLE.match(title)):
        title = None
    year = None
    try:
        created = info.creation_date
    except Exception:  # malformed dates are common
        created = None
    if created is not None and 1900 < created.year < 2200:
        year = created.year
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
