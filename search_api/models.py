"""Response models: one passage shape for the CLI's --json, the API and the web UI."""

from __future__ import annotations

import time

from pydantic import BaseModel, Field

from indexer.schema import DocumentRef
from search_api.retrieval import Filters, Hit, Searcher, normalize_query


class Passage(BaseModel):
    rank: int
    score: float
    chunk_id: str
    text: str = Field(description="the passage as shown to the user")
    document: DocumentRef
    section: str
    char_start: int = Field(description="start offset in the document's cleaned text")
    char_end: int
    page: int | None = Field(None, description="page the passage starts on (PDF only)")
    page_end: int | None = Field(None, description="last page, when it crosses a page break")

    @classmethod
    def from_hit(cls, hit: Hit) -> Passage:
        c = hit.chunk
        return cls(
            rank=hit.rank,
            score=round(hit.score, 6),
            chunk_id=c.id,
            text=c.text,
            document=hit.document.ref(),
            section=c.section,
            char_start=c.char_start,
            char_end=c.char_end,
            page=c.page,
            page_end=c.page_end,
        )


class SearchResponse(BaseModel):
    query: str
    mode: str
    took_ms: float | None = None
    results: list[Passage]

    @classmethod
    def run(
        cls, searcher: Searcher, query: str, k: int, mode: str, filters: Filters | None = None
    ) -> SearchResponse:
        """Search and time it: what the CLI's --json and GET /api/search return."""
        t0 = time.perf_counter()
        hits = searcher.search(query, k, mode, filters)
        return cls(
            query=normalize_query(query),
            mode=mode,
            took_ms=round((time.perf_counter() - t0) * 1000, 1),
            results=[Passage.from_hit(h) for h in hits],
        )


class AnswerSentence(BaseModel):
    """One verbatim sentence (or, for list questions, one item) and the passages it cites."""

    text: str = Field(description="verbatim text from the cited passage")
    citations: list[str] = Field(description="chunk ids of the passages it comes from")
    label: str | None = Field(None, description="for list answers: the project or section")


class Answer(BaseModel):
    kind: str = Field("sentences", description="'sentences' or 'list'")
    text: str = Field(description="the answer sentences joined, for display as one text")
    sentences: list[AnswerSentence]


class AskResponse(BaseModel):
    query: str
    abstained: bool
    answer: Answer | None
    passages: list[Passage]
    took_ms: float | None = None


class DocumentInfo(DocumentRef):
    """A document as listed for the source viewer."""

    kind: str | None = None
    publisher: str | None = None
    n_chunks: int = Field(0, description="number of passages in the index")
    n_chars: int = Field(0, description="length of the cleaned text")
    n_pages: int | None = None


class DocumentText(DocumentInfo):
    """A document's cleaned text, or the ``start``-``end`` window of it."""

    start: int = Field(description="offset of ``text`` in the cleaned text")
    end: int
    text: str


class IndexSummary(BaseModel):
    build_id: str | None = None
    created_at: str | None = None
    n_documents: int | None = None
    n_chunks: int | None = None
    embedder: str | None = None
    dim: int | None = None
    chunk_size: int | None = None
    chunk_overlap: int | None = None


class Health(BaseModel):
    status: str = Field(
        description="'ok' when the newest build is served; 'degraded' when it is damaged "
        "and an older good build is served instead (see warning)"
    )
    index: IndexSummary
    warning: str | None = Field(None, description="what is wrong and what to run")
