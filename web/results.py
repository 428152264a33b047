"""What the results template shows: numbered passages and answer sentences with citations.

A citation number is the passage's place in the list below the answer, so "[2]" in the
answer and "2" above a passage are the same source.
"""

from __future__ import annotations

from dataclasses import dataclass

from search_api.models import AskResponse, Passage
from web.highlight import Piece, highlight


@dataclass(frozen=True)
class PassageView:
    number: int
    passage: Passage
    pieces: list[Piece]


@dataclass(frozen=True)
class Citation:
    number: int
    passage: Passage
    start: int  # the cited sentence in the document's cleaned text
    end: int


@dataclass(frozen=True)
class SentenceView:
    text: str
    label: str | None
    citations: list[Citation]


@dataclass(frozen=True)
class ResultsView:
    response: AskResponse
    passages: list[PassageView]
    sentences: list[SentenceView]

    @property
    def kind(self) -> str:
        return self.response.answer.kind if self.response.answer else "none"


def results_view(response: AskResponse) -> ResultsView:
    numbered = {p.chunk_id: (i, p) for i, p in enumerate(response.passages, start=1)}
    passages = [
        PassageView(i, p, highlight(p.text, response.query))
        for i, p in enumerate(response.passages, start=1)
    ]
    sentences: list[SentenceView] = []
    for s in response.answer.sentences if response.answer else []:
        cites = [_cite(s.text, *numbered[c]) for c in s.citations if c in numbered]
        sentences.append(SentenceView(s.text, s.label, cites))
    return ResultsView(response, passages, sentences)


def _cite(sentence: str, number: int, passage: Passage) -> Citation:
    """Point the citation at the sentence itself when it is a verbatim part of the passage."""
    at = passage.text.find(sentence)
    if at < 0:
        return Citation(number, passage, passage.char_start, passage.char_end)
    start = passage.char_start + at
    return Citation(number, passage, start, start + len(sentence))
