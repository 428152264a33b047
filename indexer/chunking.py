"""Sentence-aware chunking inside sections, with offsets into the cleaned text."""

from __future__ import annotations

from collections.abc import Iterator

from langchain_text_splitters import RecursiveCharacterTextSplitter

from indexer.cleaning import CleanText
from indexer.schema import Chunk
from indexer.sections import Section, detect_sections

# A bare heading (under this many characters, hardly any text under it) joins the section
# after it; a short section with text of its own keeps its own title.
MIN_SECTION_CHARS = 120
# A piece shorter than this (a subheading the splitter cut off before a long paragraph) is
# attached to the passage after it, which may then exceed chunk_size by at most this much.
MIN_CHUNK_CHARS = 150

# Paragraphs first, then lines, then sentence ends, then clauses: a chunk boundary falls on
# the largest unit that fits, so passages rarely stop mid-sentence.
_SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ": ", ", ", " ", ""]


def make_splitter(chunk_size: int, chunk_overlap: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=_SEPARATORS,
        keep_separator="end",
        strip_whitespace=True,
    )


def chunk_document(
    document_id: str,
    clean: CleanText,
    chunk_size: int,
    chunk_overlap: int,
    page_starts: list[int] | None = None,
) -> list[Chunk]:
    """Chunks of one cleaned document, each inside one section and carrying its title.

    ``page_starts`` (cleaned-text offsets where pages 2, 3, ... begin) gives every chunk the
    page it starts on and, when it crosses a page break, the page it ends on.
    """
    splitter = make_splitter(chunk_size, chunk_overlap)
    chunks: list[Chunk] = []
    for section in _merge_short(detect_sections(clean.text), clean.text):
        body = clean.text[section.start : section.end]
        spans = _spans(splitter.split_text(body), body, chunk_overlap)
        for start, end in _attach_short(spans, chunk_size + MIN_CHUNK_CHARS):
            a, b = section.start + start, section.start + end
            src_a, src_b = clean.to_source(a, b)
            page, page_end = _pages(page_starts, a, b)
            chunks.append(
                Chunk(
                    id=f"{document_id}#{len(chunks)}",
                    document_id=document_id,
                    section=section.path,
                    text=clean.text[a:b],
                    char_start=a,
                    char_end=b,
                    source_start=src_a,
                    source_end=src_b,
                    page=page,
                    page_end=page_end,
                )
            )
    return chunks


def _attach_short(spans: list[tuple[int, int]], limit: int) -> list[tuple[int, int]]:
    """Join each piece under MIN_CHUNK_CHARS to the next one (or, last, to the one before),
    as long as the joined passage stays within ``limit`` characters."""
    out: list[tuple[int, int]] = []
    carry: int | None = None  # start of a short piece waiting for the next one
    carry_end = 0
    for start, end in spans:
        if carry is not None and end - carry <= limit:
            start = carry
        elif carry is not None:
            out.append((carry, carry_end))
        carry = None
        if end - start < MIN_CHUNK_CHARS:
            carry, carry_end = start, end
            continue
        out.append((start, end))
    if carry is not None:
        if out and carry_end - out[-1][0] <= limit:
            out[-1] = (out[-1][0], carry_end)
        else:
            out.append((carry, carry_end))
    return out


def _is_bare_heading(section_text: str) -> bool:
    """A heading line with (almost) no text of its own under it."""
    heading, _, body = section_text.strip().partition("\n")
    return len(section_text.strip()) < MIN_SECTION_CHARS and len(body.strip()) < 40


def _merge_short(sections: list[Section], text: str) -> list[Section]:
    """A heading with hardly any text of its own joins the section after it, so no passage
    is a bare title ("WATERSTOF IN DE REGIO") and the title still reaches the search."""
    out: list[Section] = []
    pending: Section | None = None
    for s in sections:
        if pending is not None:
            s = Section(s.path or pending.path, pending.start, s.end)
            pending = None
        if _is_bare_heading(text[s.start : s.end]):
            pending = s
            continue
        out.append(s)
    if pending is not None:
        if out:
            last = out.pop()
            pending = Section(last.path, last.start, pending.end)
        out.append(pending)
    return out


def _spans(pieces: list[str], body: str, overlap: int) -> list[tuple[int, int]]:
    """Where each split piece sits in ``body``.

    Each piece starts no earlier than the previous one, overlaps it by at most ``overlap``
    characters and starts no later than the first non-space character not covered yet; all
    pieces together cover every non-space character. With repeated text ("1.4 Titel1.4 Titel")
    the first match may break that further on, so the placement backtracks (within a budget)
    to one that holds for all pieces.
    """
    pieces = [p for p in pieces if p.strip()]
    n = len(body)
    next_text = list(range(n + 1))  # the first non-space offset at or after i
    for i in range(n - 1, -1, -1):
        if body[i].isspace():
            next_text[i] = next_text[i + 1]

    def starts(k: int, start: int, end: int, reach: int) -> Iterator[int]:
        lo, hi = max(start, end - overlap, 0), next_text[reach] + len(pieces[k])
        at = body.find(pieces[k], lo, hi)
        while at >= 0:
            yield at
            at = body.find(pieces[k], at + 1, hi)

    placed: list[tuple[int, int, int]] = []  # (start, end, furthest end so far) per piece
    options = [starts(0, 0, 0, 0)] if pieces else []
    failed: set[tuple[int, int, int]] = set()
    budget = 20 * len(pieces) + 1000
    while options and budget > 0:
        budget -= 1
        k = len(placed)
        at = next(options[-1], None)
        if at is None:  # no place for piece k after the current placement of piece k - 1
            options.pop()
            if placed:
                start, _, reach = placed.pop()
                failed.add((k - 1, start, reach))
            continue
        reach = max(placed[-1][2] if placed else 0, at + len(pieces[k]))
        if (k, at, reach) in failed:
            continue
        placed.append((at, at + len(pieces[k]), reach))
        if k + 1 < len(pieces):
            options.append(starts(k + 1, *placed[-1]))
        elif next_text[reach] == n:
            return [(a, b) for a, b, _ in placed]
        else:
            failed.add((k, at, reach))
            placed.pop()
    # Over budget (long runs of identical text): the first match after the overlap.
    spans: list[tuple[int, int]] = []
    cursor = 0
    for piece in pieces:
        at = body.find(piece, cursor)
        at = at if at >= 0 else body.find(piece)
        spans.append((at, at + len(piece)))
        cursor = max(at, at + len(piece) - overlap)
    return spans


def _pages(page_starts: list[int] | None, a: int, b: int) -> tuple[int | None, int | None]:
    if page_starts is None:
        return None, None
    from bisect import bisect_right

    first = bisect_right(page_starts, a) + 1
    last = bisect_right(page_starts, max(a, b - 1)) + 1
    return first, (last if last != first else None)
