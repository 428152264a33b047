"""Split a passage into verbatim sentences, with their offsets in the passage.

Sentences get vectors of their own at index time: a question that matches one sentence
of a long passage is found even when the passage as a whole is about something broader.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# A sentence ends at . ! ? (a closing quote or bracket after it stays with it) before
# white space and a capital, digit or opening quote; a blank line or a line break before
# a capital (a heading or list item in the cleaned text) ends it as well.
_END = re.compile(
    r"(?:(?<=[.!?])|(?<=[.!?][’”'\")\]]))\s+(?=[A-Z0-9À-Ý‘“'\"(•\-–])"
    r"|\n\s*\n"
    r"|\n(?=\s*[A-Z0-9À-Ý•\-–‘“])"
)
# Abbreviations that end in a full stop but not a sentence.
_ABBREV = re.compile(
    r"(?:\b(?:o\.a|d\.w\.z|m\.b\.t|i\.v\.m|bijv|nl|ca|mr|dr|drs|ir|ing|nr|e\.d|e\.a|t\.b\.v|"
    r"m\.n|z\.g|resp|incl|excl|vs|St|mln|mld)\.|\b[A-Z]\.)$"
)
MIN_CHARS = 12


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int  # offset in the passage text
    end: int


def split_sentences(text: str) -> list[Sentence]:
    """The sentences of ``text``, each a verbatim slice ``text[start:end]``."""
    out: list[Sentence] = []
    start = 0
    for m in _END.finditer(text):
        piece = text[start : m.start()]
        if m.group(0).strip() == "" or not _ABBREV.search(piece.rstrip()):
            _add(out, text, start, m.start())
            start = m.end()
    _add(out, text, start, len(text))
    return out


def _add(out: list[Sentence], text: str, start: int, end: int) -> None:
    piece = text[start:end]
    lead = len(piece) - len(piece.lstrip())
    piece = piece.strip()
    if len(piece) >= MIN_CHARS:
        out.append(Sentence(piece, start + lead, start + lead + len(piece)))


def sentence_places(block: list[Sequence[str]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """For one block of passage texts (``block[0]``; in a worker process, or here): how
    many sentences each has, and every sentence's (start, end), as int32 arrays."""
    counts, spans = [], []
    for text in block[0]:
        found = split_sentences(text)
        counts.append(len(found))
        spans.extend(x for s in found for x in (s.start, s.end))
    return [(np.asarray(counts, np.int32), np.asarray(spans, np.int32).reshape(-1, 2))]
