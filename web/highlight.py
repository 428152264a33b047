"""Mark the question's words in a text, as plain pieces the templates escape.

Nothing here builds HTML: a text becomes a list of ``Piece(text, marked)`` and the
template writes ``<mark>`` around the marked ones, escaping every piece. Words match by
their Dutch stem, the way the keyword search matches them ("woningen" marks "woning").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.keyword import terms

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Marked words separated only by this are marked as one run: "Regio Deal", "Oost-Drenthe".
_JOIN = re.compile(r"[ \t\-–]*")


@dataclass(frozen=True)
class Piece:
    text: str
    marked: bool = False


def highlight(text: str, query: str | None) -> list[Piece]:
    """``text`` cut into pieces, the words sharing a stem with ``query`` marked."""
    wanted = set(terms(query or ""))
    if not wanted:
        return [Piece(text)]
    stems: dict[str, bool] = {}
    pieces: list[Piece] = []
    pos = 0
    for m in _WORD.finditer(text):
        word = m.group(0)
        if word not in stems:
            stems[word] = bool(set(terms(word)) & wanted)
        if stems[word]:
            gap = text[pos : m.start()]
            if pieces and pieces[-1].marked and _JOIN.fullmatch(gap):
                pieces[-1] = Piece(pieces[-1].text + gap + word, marked=True)
            else:
                if gap:
                    pieces.append(Piece(gap))
                pieces.append(Piece(word, marked=True))
            pos = m.end()
    if pos < len(text):
        pieces.append(Piece(text[pos:]))
    return pieces


def split_span(text: str, offset: int, start: int, end: int) -> list[Piece]:
    """``text`` (which starts at ``offset`` in its document) with ``[start, end)`` marked."""
    a = min(max(start - offset, 0), len(text))
    b = min(max(end - offset, 0), len(text))
    if a >= b:
        return [Piece(text)] if text else []
    parts = [Piece(text[:a]), Piece(text[a:b], marked=True), Piece(text[b:])]
    return [p for p in parts if p.text]
