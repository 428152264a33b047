"""Read scanned PDF pages with Tesseract, cached by file hash so no file is read twice.

Pages are rendered with pdfium (pypdfium2) and read by the ``tesseract`` program through
pytesseract, with the Dutch model by default. The words come back with their boxes, so a
scanned page can be highlighted in the viewer like any other. The cache holds one JSON
file per PDF (its SHA-256, the language and the resolution in the name), written after
every page: an interrupted index run keeps the pages already read.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from indexer.loaders.pdf_layout import Page, Word, reading_order

INSTALL_HINT = "install Tesseract with `apt-get install tesseract-ocr tesseract-ocr-nld`"
# Tesseract's confidence is -1 for its own layout rows; words below this are noise
# (speckles and lines in a scan read as letters).
_MIN_CONFIDENCE = 30

# Called after each page as (document name, pages done, pages to read).
PageProgress = Callable[[str, int, int], None]


@dataclass
class Ocr:
    """How scanned pages are read; ``None`` in place of an Ocr means OCR is off."""

    cache_dir: Path
    lang: str = "nld"
    dpi: int = 300
    on_page: PageProgress | None = field(default=None, repr=False)

    def unavailable(self) -> str | None:
        """Why OCR cannot run here (a sentence saying what to install), or None."""
        return _unavailable(self.lang)

    def read_pages(self, path: Path, pdf, numbers: list[int]) -> dict[int, Page]:
        """The pages ``numbers`` (1-based) of the open pypdfium2 document ``pdf``, read
        with OCR or taken from the cache."""
        key = f"{_sha256(path)}-{self.lang}-{self.dpi}"
        cache_file = self.cache_dir / f"{key}.json"
        cached = _read_cache(cache_file)
        todo = [n for n in numbers if str(n) not in cached]
        if todo and self.on_page:
            self.on_page(path.name, 0, len(todo))
        for done, number in enumerate(todo, start=1):
            cached[str(number)] = _page_to_json(self._read(pdf[number - 1]))
            _write_cache(cache_file, cached)
            if self.on_page:
                self.on_page(path.name, done, len(todo))
        return {n: _page_from_json(cached[str(n)]) for n in numbers}

    def _read(self, page) -> Page:
        import pytesseract

        width, height = page.get_size()
        image = page.render(scale=self.dpi / 72, grayscale=True).to_pil()
        data = pytesseract.image_to_data(image, lang=self.lang, output_type=pytesseract.Output.DICT)
        to_pt = 72 / self.dpi
        # Each word gets the height of its line: ascenders and descenders then do not
        # make words of one line look like lines of their own.
        key = ("block_num", "par_num", "line_num")
        lines = {
            tuple(data[k][i] for k in key): (data["top"][i], data["top"][i] + data["height"][i])
            for i in range(len(data["level"]))
            if data["level"][i] == 4
        }
        words: list[Word] = []
        for i, text in enumerate(data["text"]):
            text = text.strip()
            if not text or float(data["conf"][i]) < _MIN_CONFIDENCE:
                continue
            top, bottom = lines.get(tuple(data[k][i] for k in key), (0, 0))
            top, bottom = min(top, data["top"][i]), max(bottom, data["top"][i] + data["height"][i])
            x0, x1 = data["left"][i], data["left"][i] + data["width"][i]
            size = (bottom - top) * to_pt
            words.append(Word(text, x0 * to_pt, top * to_pt, x1 * to_pt, bottom * to_pt, size))
        # The same reading order as a text layer gets: columns, then captions.
        return Page(width, height, reading_order(words))


@cache
def _unavailable(lang: str) -> str | None:
    if shutil.which("tesseract") is None:
        return f"Tesseract is not installed: {INSTALL_HINT}"
    try:
        import pytesseract

        languages = set(pytesseract.get_languages(config=""))
    except ImportError:  # pragma: no cover - pytesseract is a core dependency
        return "pytesseract is not installed: run `pip install -e .`"
    except Exception as exc:  # a broken installation fails in many ways
        return f"Tesseract does not run ({exc}): reinstall it ({INSTALL_HINT})"
    missing = [code for code in lang.split("+") if code not in languages]
    if missing:
        packages = " ".join(f"tesseract-ocr-{m}" for m in missing)
        return f"Tesseract has no model for {'+'.join(missing)}: `apt-get install {packages}`"
    return None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _read_cache(path: Path) -> dict[str, dict]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_cache(path: Path, pages: dict[str, dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(pages, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)  # a reader never sees half a file


def _page_to_json(page: Page) -> dict:
    return {
        "size": [page.width, page.height],
        "blocks": [
            [[[w.text, w.x0, w.y0, w.x1, w.y1, w.size] for w in line] for line in block]
            for block in page.blocks
        ],
    }


def _page_from_json(data: dict) -> Page:
    width, height = data["size"]
    blocks = [[[Word(*w) for w in line] for line in block] for block in data["blocks"]]
    return Page(width, height, blocks)
