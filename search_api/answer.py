"""Answer a question with verbatim, cited sentences from the retrieved passages, or abstain."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from beleidszoeker.config import SearchMode
from indexer.sections import SEPARATOR as SECTION_SEPARATOR
from search_api import abstain
from search_api.evidence import QuestionTerms
from search_api.models import Answer, AnswerSentence, AskResponse, Passage
from search_api.question import QuestionInfo, analyse
from search_api.retrieval import Filters, Hit, Searcher, normalize_query
from search_api.sentences import SentenceTable, sentence_table

# Passages read for a fact; a list question reads deeper to find every item.
READ_DEPTH = 10
LIST_DEPTH = 30
MAX_SENTENCES = 3
MAX_ITEMS = 15
# A topic word used in more sentences than this is too common to read every passage with it.
MAX_ANCHOR_SENTENCES = 120
# Further sentences join the best one when they score nearly as well.
SENTENCE_MARGIN = 0.35
# Relevance: similarity to the question on the index's scale (0 for a typical passage, about
# 1 for one that answers; see sentences.similarity_scale), plus key words of the question
# found in the sentence and around it.
KEYWORD_WEIGHT = 0.5
# Share of a sentence's own similarity (when the index has sentence vectors) in its dense part.
SENTENCE_SHARE = 0.5


@dataclass(frozen=True)
class Candidate:
    sentence_id: int
    hit: Hit
    score: float


def answer_question(
    searcher: Searcher,
    query: str,
    *,
    k: int = 10,
    mode: SearchMode = "hybrid",
    filters: Filters | None = None,
) -> AskResponse:
    """Search, then answer from the sentences of the top passages, or abstain.

    ``passages`` holds the top ``k`` passages, followed by any deeper passage an answer
    sentence cites, so every citation can be shown.
    """
    from search_api.promise_answer import promise_answer

    # "wat is beloofd over ...", "welke doelen ...": the promise register answers first.
    promised = promise_answer(searcher, query, k=k, filters=filters)
    if promised is not None:
        return promised
    t0 = time.perf_counter()
    query = normalize_query(query)
    question = analyse(query)
    depth = max(k, LIST_DEPTH if question.is_list else READ_DEPTH)
    hits = searcher.search(query, depth, mode, filters)
    answer = None
    if hits:
        table = sentence_table(searcher.index)
        qterms = QuestionTerms.of(question, table)
        qvec = searcher.query_vector(query)
        if question.is_list:
            hits = hits + _anchor_hits(hits, qterms, table, searcher, filters)
            candidates = _candidates(hits, question, qterms, table, searcher, qvec)
            answer = _list_answer(candidates, question, qterms, table)
        else:
            candidates = _candidates(hits[:READ_DEPTH], question, qterms, table, searcher, qvec)
            answer = _sentence_answer(candidates, question, table)
    cited = {c for s in answer.sentences for c in s.citations} if answer else set()
    shown = hits[:k] + [h for h in hits[k:] if h.chunk.id in cited]
    return AskResponse(
        query=query,
        abstained=answer is None,
        answer=answer,
        passages=[Passage.from_hit(h) for h in shown],
        took_ms=round((time.perf_counter() - t0) * 1000, 1),
    )


def _candidates(
    hits: list[Hit],
    question: QuestionInfo,
    qterms: QuestionTerms,
    table: SentenceTable,
    searcher: Searcher,
    qvec: np.ndarray,
) -> list[Candidate]:
    """Sentences that could answer, best first."""
    rows = table.rows(hits)
    floor, span = table.scale
    passage_sim = searcher.index.vectors[rows] @ qvec
    out = []
    for hit, row, sim in zip(hits, rows, passage_sim, strict=True):
        for sid in table.by_row[row]:
            sentence = table.sentences[sid]
            similarity = float(sim)
            if table.vectors is not None and sentence.vector is not None:
                # The sentence's own vector says more about it than its passage's does.
                own = float(table.vectors[sentence.vector] @ qvec)
                similarity = (1 - SENTENCE_SHARE) * similarity + SENTENCE_SHARE * own
            dense = (similarity - floor) / span
            window = table.window(sid)
            section = table.section[row]
            if not abstain.may_answer(sentence.text, window, section, question, qterms):
                continue
            words = 0.5 * qterms.coverage(sentence.terms) + 0.5 * qterms.coverage(window)
            out.append(Candidate(sid, hit, dense + KEYWORD_WEIGHT * words))
    out.sort(key=lambda c: (-c.score, c.hit.rank, c.sentence_id))
    return out


def _sentence_answer(
    candidates: list[Candidate], question: QuestionInfo, table: SentenceTable
) -> Answer | None:
    if not candidates or not abstain.confident(candidates[0].score, question):
        return None
    chosen: list[Candidate] = []
    seen: set[str] = set()
    for c in candidates:
        text = table.sentences[c.sentence_id].text
        if c.score < candidates[0].score - SENTENCE_MARGIN or len(chosen) == MAX_SENTENCES:
            break
        if text not in seen:
            seen.add(text)
            chosen.append(c)
    sentences = [
        AnswerSentence(text=table.sentences[c.sentence_id].text, citations=[c.hit.chunk.id])
        for c in chosen
    ]
    return Answer(kind="sentences", text=" ".join(s.text for s in sentences), sentences=sentences)


def _anchor_hits(
    hits: list[Hit],
    qterms: QuestionTerms,
    table: SentenceTable,
    searcher: Searcher,
    filters: Filters | None,
) -> list[Hit]:
    """Passages beyond the retrieved ones that name the list's topic word.

    Retrieval ranks passages, not items: a project that mentions "waterstof" once, in a
    passage about something else, may rank too low. Every passage with the topic word is read
    when the word is specific enough to make that a short list.
    """
    sentence_ids = sorted({i for a in qterms.anchors for i in table.by_term.get(a, [])})
    if not sentence_ids or len(sentence_ids) > MAX_ANCHOR_SENTENCES:
        return []
    have = {h.chunk.id for h in hits}
    index = searcher.index
    filters = filters or Filters()
    allowed = {
        d.id
        for d in index.documents.values()
        if (not filters.documents or d.id in filters.documents)
        and (filters.year is None or d.year == filters.year)
    }
    extra: list[Hit] = []
    for row in dict.fromkeys(table.sentences[i].row for i in sentence_ids):
        chunk = index.chunks[row]
        if chunk.id in have or chunk.document_id not in allowed:
            continue
        rank = len(hits) + len(extra) + 1
        extra.append(Hit(rank, 0.0, chunk, index.documents[chunk.document_id]))
    return extra


def _list_answer(
    candidates: list[Candidate],
    question: QuestionInfo,
    qterms: QuestionTerms,
    table: SentenceTable,
) -> Answer | None:
    """One item per project or section that answers, each with its best sentence."""
    items: dict[tuple[str, str], Candidate] = {}
    for c in candidates:
        if not abstain.confident(c.score, question):
            break  # best first: the rest score lower still
        if not abstain.on_topic(table.window(c.sentence_id), qterms):
            continue
        items.setdefault((c.hit.chunk.document_id, c.hit.chunk.section), c)
    if not items:
        return None
    sentences = [
        AnswerSentence(
            text=table.sentences[c.sentence_id].text,
            citations=[c.hit.chunk.id],
            label=_label(c.hit),
        )
        for c in list(items.values())[:MAX_ITEMS]
    ]
    return Answer(kind="list", text=" ".join(s.text for s in sentences), sentences=sentences)


def _label(hit: Hit) -> str:
    """The project or section an item belongs to, as the document names it."""
    leaf = hit.chunk.section.split(SECTION_SEPARATOR)[-1].strip()
    return leaf or hit.document.title
