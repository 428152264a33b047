"""Sentence-aware chunking inside sections, with offsets into the cleaned text."""

from __future__ import annotations

from collections.abc import Iterator

from langchain_text_splitters import RecursiveCharacterTextSplitter

from indexer.cleaning import CleanText
from indexer.schema import Chunk
from indexer.sections import detect_sections

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
    for section in detect_sections(clean.text):
        body = clean.text[section.start : section.end]
        for start, end in _spans(splitter.split_text(body), body):
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


def _spans(pieces: list[str], body: str) -> Iterator[tuple[int, int]]:
    """Where each split piece sits in ``body``; pieces come in order and may overlap."""
    cursor = 0
    for piece in pieces:
        if not piece.strip():
            continue
        at = body.find(piece, cursor)
        if at < 0:  # cannot happen with strip_whitespace splitting; keep going regardless
            at = body.find(piece)
        yield at, at + len(piece)
        cursor = at + 1


def _pages(page_starts: list[int] | None, a: int, b: int) -> tuple[int | None, int | None]:
    if page_starts is None:
        return None, None
    from bisect import bisect_right

    first = bisect_right(page_starts, a) + 1
    last = bisect_right(page_starts, max(a, b - 1)) + 1
    return first, (last if last != first else None)
