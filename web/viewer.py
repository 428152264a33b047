"""The source viewer's page model: a cleaned document as headings and paragraphs, with the
cited span marked, and the section list to jump around; for a PDF also its original page
with the cited words boxed."""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass

from indexer.sections import SEPARATOR, Section
from indexer.words import Box
from web.highlight import Piece, split_span

_PARAGRAPH = re.compile(r"[^\n]+(?:\n[^\n]+)*")  # lines up to a blank line
# Characters per viewer page: a 52 MB text would otherwise be one page of as many MB.
PAGE_CHARS = 60_000


@dataclass(frozen=True)
class Block:
    kind: str  # "heading" or "paragraph"
    pieces: list[Piece]
    level: int = 0  # heading depth: 0 for a chapter
    anchor: str | None = None


@dataclass(frozen=True)
class SectionLink:
    anchor: str
    title: str
    level: int
    current: bool
    page: int = 1  # the viewer page the section starts on


@dataclass(frozen=True)
class DocumentPage:
    blocks: list[Block]
    sections: list[SectionLink]
    span: tuple[int, int] | None
    page: int = 1
    n_pages: int = 1


def page_starts(text: str, size: int = PAGE_CHARS) -> list[int]:
    """Where each viewer page starts: at the first paragraph break after every ``size``."""
    starts = [0]
    while len(text) - starts[-1] > size:
        cut = text.find("\n\n", starts[-1] + size)
        if cut < 0 or cut - starts[-1] > 2 * size:
            cut = starts[-1] + size  # one endless paragraph: cut it anyway
        starts.append(cut)
    return starts


def page_of(starts: list[int], offset: int) -> int:
    """The 1-based page holding ``offset``."""
    return max(1, bisect.bisect_right(starts, offset))


def parse_span(start: str | None, end: str | None, length: int) -> tuple[int, int] | None:
    """The cited span from the URL, clipped to the text; None if absent or not a span."""
    try:
        a, b = int(start or ""), int(end or "")
    except ValueError:
        return None
    a, b = max(a, 0), min(b, length)
    return (a, b) if a < b else None


def document_page(
    text: str,
    sections: list[Section],
    span: tuple[int, int] | None,
    page: int | None = None,
    size: int = PAGE_CHARS,
) -> DocumentPage:
    """One page of the document (the one holding the span, unless ``page`` is asked for)."""
    hs, he = span or (0, 0)
    starts = page_starts(text, size)
    if page is None:
        page = page_of(starts, hs) if span else 1
    page = min(max(page, 1), len(starts))
    lo = starts[page - 1]
    hi = starts[page] if page < len(starts) else len(text)
    blocks: list[Block] = []
    links: list[SectionLink] = []
    for i, s in enumerate(sections, start=1):
        anchor = f"sectie-{i}"
        body_start = s.start
        on_page = lo <= s.start < hi
        if s.path:
            line_end = text.find("\n", s.start, s.end)
            body_start = s.end if line_end < 0 else line_end
            level = s.path.count(SEPARATOR)
            title = s.path.rsplit(SEPARATOR, 1)[-1]
            current = s.start <= hs < s.end
            links.append(SectionLink(anchor, title, level, current, page_of(starts, s.start)))
            if on_page:
                heading = split_span(text[s.start : body_start], s.start, hs, he)
                blocks.append(Block("heading", heading, level, anchor))
        if s.end <= lo or s.start >= hi:
            continue
        first = not s.path and on_page
        for m in _PARAGRAPH.finditer(text, max(body_start, lo), min(s.end, hi)):
            pieces = split_span(m.group(0), m.start(), hs, he)
            blocks.append(Block("paragraph", pieces, anchor=anchor if first else None))
            first = False
    if len(starts) > 1:
        # Only this page's sections: a long document's full list would be a page of its own.
        links = [link for link in links if link.page == page]
    return DocumentPage(blocks, links, span, page, len(starts))


@dataclass(frozen=True)
class OriginalPage:
    """What the page viewer (PDF.js) needs: the file, the page to open and the boxes to
    draw over the cited words, as JSON ``[[page, x0, y0, x1, y1], ...]`` in fractions of
    the page."""

    file_url: str
    page: int
    pages: int
    boxes: str


def original_page(file_url: str, n_pages: int, boxes: list[Box]) -> OriginalPage:
    """The viewer opens on the page where the cited text starts (page 1 without one)."""
    rows = [[b.page, *(round(v, 5) for v in (b.x0, b.y0, b.x1, b.y1))] for b in boxes]
    page = boxes[0].page if boxes else 1
    return OriginalPage(file_url, page, n_pages, json.dumps(rows))
