"""Saved web pages (.html, .htm): the main text, without menus, cookie bars and footers."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from indexer.loaders.base import Extracted, LoaderError
from indexer.loaders.docx import BLOCK_BREAK

_BOILERPLATE = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form")
_BLOCKS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr", "dd", "dt", "blockquote")
_YEAR = re.compile(r"^(\d{4})")
# "Omgevingsvisie | Provincie Drenthe": the page's own title comes before the site name.
_SITE_SEPARATOR = re.compile(r"\s+[|–—·-]\s+|\s+::\s+")


def load_html(path: Path) -> Extracted:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoaderError(f"cannot read file ({exc.strerror or exc})") from exc
    if not data.strip():
        raise LoaderError("the file is empty")
    try:
        import trafilatura
        from lxml import etree
    except ImportError as exc:  # pragma: no cover - trafilatura is a core dependency
        raise LoaderError("web page support is not installed: run `pip install -e .`") from exc

    # trafilatura logs pages it finds too short; the fallback below handles those.
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    xml = trafilatura.extract(
        data,
        output_format="xml",
        include_tables=True,
        include_comments=False,
        with_metadata=True,
        # Only dates in the page's markup; guessing from the body text picks up any date.
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    page = _parse(data)
    title = _page_title(page) if page is not None else None
    year = None
    blocks: list[str] = []
    if xml:
        root = etree.fromstring(xml.encode("utf-8"))
        title = title or " ".join((root.get("title") or "").split()) or None
        m = _YEAR.match(root.get("date") or "")
        year = int(m.group(1)) if m else None
        main = root.find("main")
        blocks = _xml_blocks(main) if main is not None else []
    if not blocks and page is not None:
        # Very short pages are below trafilatura's threshold: take the visible blocks.
        blocks = _visible_blocks(page)
    if not blocks:
        raise LoaderError("no text found in the web page (only menus, scripts or images?)")
    return Extracted(text=BLOCK_BREAK.join(blocks), title=title, year=year)


def _text(el) -> str:
    for lb in el.iter("lb"):
        lb.tail = " " + (lb.tail or "")  # a <br> separates words
    return " ".join("".join(el.itertext()).split())


def _xml_blocks(main) -> list[str]:
    """One block per heading, paragraph, list item or table row of trafilatura's XML."""
    blocks: list[str] = []
    for el in main:
        if el.tag == "table":
            for row in el.iter("row"):
                cells = [_text(c) for c in row.iter("cell")]
                if any(cells):
                    blocks.append(" | ".join(c for c in cells if c))
        elif el.tag == "list":
            blocks.extend(f"• {t}" for item in el.iter("item") if (t := _text(item)))
        elif text := _text(el):
            blocks.append(text)
    return blocks


def _parse(data: bytes):
    import lxml.html
    from lxml import etree

    try:
        return lxml.html.document_fromstring(data)
    except (etree.ParserError, ValueError):
        return None


def _page_title(page) -> str | None:
    """The <title>, without the site name that most sites append."""
    el = page.find(".//title")
    title = " ".join(el.text_content().split()) if el is not None else ""
    if not title:
        return None
    separators = list(_SITE_SEPARATOR.finditer(title))
    if separators:
        last = separators[-1]
        page, site = title[: last.start()].strip(), title[last.end() :]
        # Only the last part is the site; "Actieplan 2024 - 2027" has no site name.
        if len(page) >= 4 and any(c.isalpha() for c in site):
            return page
    return title


def _visible_blocks(page) -> list[str]:
    doc = page
    for el in list(doc.iter(*_BOILERPLATE)):
        el.drop_tree()
    blocks = []
    for el in doc.iter(*_BLOCKS):
        if any(a.tag in _BLOCKS for a in el.iterancestors()):
            continue  # the enclosing list item or row already holds this text
        if el.tag == "tr":
            cells = [" ".join(c.text_content().split()) for c in el.iter("td", "th")]
            text = " | ".join(c for c in cells if c)
        else:
            text = " ".join(el.text_content().split())
        if text:
            blocks.append(text)
    return blocks
