"""Word (.docx): paragraphs, headings and tables in document order."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from indexer.loaders.base import Extracted, LoaderError

# Blocks are separated by two blank lines. The cleaner reads text where every line is
# followed by exactly one blank line as PDF output that double-spaces lines, and would
# then merge single-line paragraphs; two blank lines are a paragraph break either way.
BLOCK_BREAK = "\n\n\n"
_HEADING_STYLE = re.compile(r"^(?:heading|kop)\s*(\d)$", re.IGNORECASE)
_TITLE_STYLES = {"title", "titel"}
_LIST_STYLE = re.compile(r"^(?:list|lijst)", re.IGNORECASE)


def load_docx(path: Path) -> Extracted:
    try:
        import docx
        from docx.opc.exceptions import PackageNotFoundError
    except ImportError as exc:  # pragma: no cover - python-docx is a core dependency
        raise LoaderError("Word support is not installed: run `pip install -e .`") from exc
    if not zipfile.is_zipfile(path):
        raise LoaderError(
            "not a Word .docx file (an old .doc renamed to .docx?): "
            "open it in Word and save it as .docx"
        )
    try:
        document = docx.Document(str(path))
        blocks = _blocks(document)
        title, year = _metadata(document)
    except PackageNotFoundError as exc:
        raise LoaderError("not a Word document inside (no word/document.xml)") from exc
    except Exception as exc:  # damaged XML inside the zip fails in many ways; all mean this
        raise LoaderError(
            f"the Word file is damaged ({type(exc).__name__}): open it in Word and save it again"
        ) from exc
    if not blocks:
        raise LoaderError("the Word file has no text")
    return Extracted(text=BLOCK_BREAK.join(blocks), title=title, year=year)


def _metadata(document) -> tuple[str | None, int | None]:
    props = document.core_properties
    title = " ".join((props.title or "").split()) or None
    created = props.created
    year = created.year if created is not None and 1900 < created.year < 2200 else None
    return title, year


def _blocks(document) -> list[str]:
    """Headings, paragraphs, list items and table rows, one text block each."""
    blocks: list[str] = []
    numbering = _HeadingNumbers()
    for item in document.iter_inner_content():
        if hasattr(item, "rows"):
            blocks.extend(_table_rows(item))
            continue
        text = " ".join(item.text.split())
        if not text:
            continue
        style = (item.style.name if item.style is not None else "") or ""
        level = _heading_level(style)
        if level is not None:
            number = numbering.next(level) if _is_numbered(item) else ""
            text = f"{number} {text}" if number else text
        elif _LIST_STYLE.match(style):
            text = f"• {text}"  # the cleaner keeps bullet items on lines of their own
        blocks.append(text)
    return blocks


def _heading_level(style: str) -> int | None:
    if style.lower() in _TITLE_STYLES:
        return 0
    m = _HEADING_STYLE.match(style.strip())
    return int(m.group(1)) if m else None


def _is_numbered(paragraph) -> bool:
    """Whether Word shows a number before this heading (set on it or on its style)."""
    p_pr = paragraph._p.pPr
    if p_pr is not None and p_pr.numPr is not None:
        return True
    style = paragraph.style
    while style is not None:
        s_pr = style.element.pPr
        if s_pr is not None and s_pr.numPr is not None:
            return True
        style = style.base_style
    return False


class _HeadingNumbers:
    """The "2.1" Word displays before numbered headings, which the text itself lacks.

    Section detection recognises numbered headings, so the number is put back. This
    follows the usual outline (level n counts within level n-1); custom number formats
    (letters, roman numerals) come out as plain digits.
    """

    def __init__(self) -> None:
        self.counts: list[int] = []

    def next(self, level: int) -> str:
        if level < 1:
            return ""
        self.counts = self.counts[:level] + [0] * (level - len(self.counts))
        self.counts[level - 1] += 1
        parts = [str(max(c, 1)) for c in self.counts[:level]]
        return ".".join(parts) + ("." if level == 1 else "")


def _table_rows(table) -> list[str]:
    """One block per row, cells separated by " | "; merged cells repeat, keep them once."""
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            if text and (not cells or cells[-1] != text):
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return rows
