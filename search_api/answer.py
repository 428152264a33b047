"""Answer a question with verbatim, cited sentences from the retrieved passages."""

from __future__ import annotations

import time

from beleidszoeker.config import SearchMode
from indexer.keyword import terms
from search_api.models import Answer, AnswerSentence, AskResponse, Passage
from search_api.retrieval import Filters, Hit, Searcher
from search_api.sentences import split_sentences

MAX_SENTENCES = 3
PASSAGES_READ = 5
MIN_COVERAGE = 0.5


def answer_question(
    searcher: Searcher,
    query: str,
    *,
    k: int = 10,
    mode: SearchMode = "hybrid",
    filters: Filters | None = None,
) -> AskResponse:
    """Search, then answer from the best sentences of the top passages, or abstain."""
    t0 = time.perf_counter()
    hits = searcher.search(query, k, mode, filters)
    answer = _compose(query, hits)
    return AskResponse(
        query=query,
        abstained=answer is None,
        answer=answer,
        passages=[Passage.from_hit(h) for h in hits],
        took_ms=round((time.perf_counter() - t0) * 1000, 1),
    )


def _compose(query: str, hits: list[Hit]) -> Answer | None:
    wanted = set(terms(query))
    if not wanted:
        return None
    scored: list[tuple[float, int, str, str]] = []
    for hit in hits[:PASSAGES_READ]:
        for s in split_sentences(hit.chunk.text):
            coverage = len(wanted & set(terms(s.text))) / len(wanted)
            scored.append((coverage - 0.01 * hit.rank, hit.rank, s.text, hit.chunk.id))
    scored.sort(key=lambda t: -t[0])
    best = [t for t in scored if t[0] + 0.01 * t[1] >= MIN_COVERAGE][:MAX_SENTENCES]
    if not best:
        return None
    sentences = [AnswerSentence(text=text, citations=[cid]) for _, _, text, cid in best]
    return Answer(kind="sentences", text=" ".join(s.text for s in sentences), sentences=sentences)
