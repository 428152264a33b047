"""What every loader returns, and the one error it raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from indexer.words import WordBoxes


class LoaderError(Exception):
    """A file cannot be read; the message is the reason shown next to the file name."""


@dataclass
class Extracted:
    """Text as extracted from a file, before cleaning.

    ``page_starts`` holds the offsets in ``text`` where pages 2, 3, ... begin (None for
    formats without pages). ``title``/``year`` come from the file's own metadata, if any.
    ``words`` holds where each word stands on its page (PDFs), by offsets in ``text``.
    """

    text: str
    page_starts: list[int] | None = None
    title: str | None = None
    year: int | None = None
    notes: list[str] = field(default_factory=list)
    words: WordBoxes | None = None
