"""The source viewer's page model: a cleaned document as headings and paragraphs, with the
cited span marked, and the section list to jump around; for a PDF also its original page
with the cited words boxed."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from indexer.sections import SEPARATOR, Section
from indexer.words import Box
from web.highlight import Piece, split_span

_PARAGRAPH = re.compile(r"[^\n]+(?:\n[^\n]+)*")  # lines up to a blank line


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


@dataclass(frozen=True)
class DocumentPage:
    blocks: list[Block]
    sections: list[SectionLink]
    span: tuple[int, int] | None


def parse_span(start: str | None, end: str | None, length: int) -> tuple[int, int] | None:
    """The cited span from the URL, clipped to the text; None if absent or not a span."""
    try:
        a, b = int(start or ""), int(end or "")
    except ValueError:
        return None
    a, b = max(a, 0), min(b, length)
    return (a, b) if a < b else None


def document_page(text: str, sections: list[Section], span: tuple[int, int] | None) -> DocumentPage:
    hs, he = span or (0, 0)
    blocks: list[Block] = []
    links: list[SectionLink] = []
    for i, s in enumerate(sections, start=1):
        anchor = f"sectie-{i}"
        body_start = s.start
        if s.path:
            line_end = text.find("\n", s.start, s.end)
            body_start = s.end if line_end < 0 else line_end
            level = s.path.count(SEPARATOR)
            title = s.path.rsplit(SEPARATOR, 1)[-1]
            heading = split_span(text[s.start : body_start], s.start, hs, he)
            blocks.append(Block("heading", heading, level, anchor))
            links.append(SectionLink(anchor, title, level, s.start <= hs < s.end))
        first = not s.path
        for m in _PARAGRAPH.finditer(text, body_start, s.end):
            pieces = split_span(m.group(0), m.start(), hs, he)
            blocks.append(Block("paragraph", pieces, anchor=anchor if first else None))
            first = False
    return DocumentPage(blocks, links, span)


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
