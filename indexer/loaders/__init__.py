"""Read a file into plain text, one loader per format, chosen by extension."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from indexer.loaders.base import Extracted, LoaderError
from indexer.loaders.docx import load_docx
from indexer.loaders.html import load_html
from indexer.loaders.pdf import load_pdf
from indexer.loaders.text import load_text
from indexer.ocr import Ocr

Loader = Callable[[Path], Extracted]

LOADERS: dict[str, Loader] = {
    ".txt": load_text,
    ".md": load_text,
    ".pdf": load_pdf,
    ".docx": load_docx,
    ".html": load_html,
    ".htm": load_html,
}

# What to do with formats people often have next to the supported ones.
_HINTS = {
    ".doc": "open it in Word and save it as .docx",
    ".rtf": "open it in Word and save it as .docx",
    ".odt": "save it as .docx or .pdf",
    ".xls": "spreadsheets are not indexed; save the text as .pdf or .docx",
    ".xlsx": "spreadsheets are not indexed; save the text as .pdf or .docx",
    ".ppt": "save the presentation as .pdf",
    ".pptx": "save the presentation as .pdf",
    ".mhtml": "save the page as 'Web page, HTML only' (.html)",
    ".mht": "save the page as 'Web page, HTML only' (.html)",
    ".jpg": "images are not indexed; run OCR and save the text as .pdf",
    ".png": "images are not indexed; run OCR and save the text as .pdf",
    ".tif": "images are not indexed; run OCR and save the text as .pdf",
}


def supported_extensions() -> list[str]:
    return sorted(LOADERS)


def load(path: Path, ocr: Ocr | None = None) -> Extracted:
    """Extract the text of ``path``; raises LoaderError with a user-readable reason.

    Scanned PDF pages are read with ``ocr``; without it they are skipped with a note.
    """
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        hint = _HINTS.get(path.suffix.lower())
        raise LoaderError(
            f"unsupported file type {path.suffix or '(none)'}"
            + (f": {hint}" if hint else f"; supported: {', '.join(supported_extensions())}")
        )
    return load_pdf(path, ocr) if loader is load_pdf else loader(path)


__all__ = ["Extracted", "LoaderError", "load", "supported_extensions", "LOADERS"]
