"""Answer a question with verbatim, cited sentences from the retrieved passages, or abstain.

Every sentence of the passages read is a candidate; the learned scorer (``scorer.py``) gives
each a probability of answering, from the evidence ``features.py`` computes. The answer is the
likeliest sentences, or none when even the best is below the threshold chosen on dev.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from beleidszoeker.config import RankingConfig, SearchMode
from indexer.sections import SEPARATOR as SECTION_SEPARATOR
from search_api.evidence import QuestionTerms
from search_api.features import COMMITMENT, FEATURES, QuestionContext, feature_rows, topic_text
from search_api.models import Answer, AnswerSentence, AskResponse, Passage
from search_api.question import QuestionInfo, analyse
from search_api.retrieval import Filters, Hit, Searcher, normalize_query
from search_api.scorer import SentenceScorer, get_scorer
from search_api.sentences import SentenceTable, sentence_table
from search_api.threads import one_blas_thread


@dataclass(frozen=True)
class Candidate:
    sentence_id: int
    hit: Hit
    probability: float


@dataclass(frozen=True)
class Reading:
    """Every candidate sentence of one question, with its features, before scoring."""

    question: QuestionInfo
    hits: list[Hit]  # the passages searched, then any read for a list's topic word
    sentence_ids: list[int]
    owners: list[Hit]  # the passage each candidate stands in
    features: np.ndarray  # one row per candidate, columns as features.FEATURES
    table: SentenceTable


def read_question(
    searcher: Searcher,
    query: str,
    *,
    k: int = 10,
    mode: SearchMode = "hybrid",
    filters: Filters | None = None,
) -> Reading:
    """Search, then gather every sentence of the passages an answer may come from."""
    ranking = searcher.ranking
    query = normalize_query(query)
    question = analyse(query)
    depth = max(k, ranking.list_depth if question.is_list else ranking.read_depth)
    hits = searcher.search(query, depth, mode, filters)
    table = sentence_table(searcher.store)
    if not hits:
        return Reading(question, hits, [], [], np.zeros((0, len(FEATURES))), table)
    qterms = QuestionTerms.of(question, table, ranking)
    if question.is_list:
        hits = hits + _anchor_hits(hits, qterms, table, searcher, filters)
        read = hits
    else:
        read = hits[: ranking.read_depth]
    context = QuestionContext(
        question=question,
        terms=qterms,
        vector=(qvector := searcher.query_vector(query)),
        topic=searcher.query_vector(topic) if (topic := topic_text(question)) else qvector,
        commitment=searcher.query_vector(COMMITMENT),
        scale=table.scale,
        sentence_share=ranking.sentence_share,
        min_words=ranking.min_words,
    )
    rows = table.rows(read)
    table.prefetch(rows)
    # The scorer reads each passage's rank in the fused list and the rank the passage
    # ranker gave it: how much each counts is learned.
    ranks = [h.rank if h.fused_rank is None else h.fused_rank for h in read]
    ids, owners, features = feature_rows(
        context, table, searcher.store.passage_vectors(rows), rows, ranks, [h.rank for h in read]
    )
    # What cannot answer however close it is, is no candidate at all: a sentence without the
    # kind of answer asked for (no amount for "hoeveel", no name for "wie"), one far from
    # the year the question names, one in a section that names none of the question's
    # names ("Assen"), and a heading.
    typed = (
        (features[:, FEATURES.index("type_match")] > 0)
        & (features[:, FEATURES.index("years_window")] > 0)
        & (features[:, FEATURES.index("names_section")] > 0)
        & (features[:, FEATURES.index("sentence_like")] > 0)
    )
    ids = [s for s, keep in zip(ids, typed, strict=True) if keep]
    owners = [o for o, keep in zip(owners, typed, strict=True) if keep]
    return Reading(question, hits, ids, [read[i] for i in owners], features[typed], table)


@one_blas_thread()
def answer_question(
    searcher: Searcher,
    query: str,
    *,
    k: int = 10,
    mode: SearchMode = "hybrid",
    filters: Filters | None = None,
    scorer: SentenceScorer | None = None,
) -> AskResponse:
    """Search, then answer with the sentences the scorer finds likely enough, or abstain.

    ``passages`` holds the top ``k`` passages, followed by any deeper passage an answer
    sentence cites, so every citation can be shown.
    """
    from search_api.promise_answer import promise_answer

    # "wat is beloofd over ...", "welke doelen ...": the promise register answers first.
    promised = promise_answer(searcher, query, k=k, filters=filters)
    if promised is not None:
        return promised
    t0 = time.perf_counter()
    scorer = scorer or get_scorer()
    reading = read_question(searcher, query, k=k, mode=mode, filters=filters)
    threshold = searcher.ranking.threshold
    threshold = scorer.threshold if threshold is None else threshold
    probabilities = scorer.probabilities(reading.features)
    candidates = [
        Candidate(sid, hit, float(p))
        for sid, hit, p in zip(reading.sentence_ids, reading.owners, probabilities, strict=True)
    ]
    # Best first; equal ones in reading order (passage rank, then place in the passage).
    candidates.sort(key=lambda c: (-c.probability, c.hit.rank, c.sentence_id))
    answer = None
    if candidates and candidates[0].probability >= threshold:
        if reading.question.is_list:
            answer = _list_answer(candidates, threshold, searcher.ranking, reading.table)
        else:
            answer = _sentence_answer(candidates, threshold, searcher.ranking, reading.table)
    hits = reading.hits
    cited = {c for s in answer.sentences for c in s.citations} if answer else set()
    shown = hits[:k] + [h for h in hits[k:] if h.chunk.id in cited]
    return AskResponse(
        query=reading.question.text,
        abstained=answer is None,
        answer=answer,
        passages=[Passage.from_hit(h) for h in shown],
        took_ms=round((time.perf_counter() - t0) * 1000, 1),
    )


def _sentence_answer(
    candidates: list[Candidate], threshold: float, ranking: RankingConfig, table: SentenceTable
) -> Answer:
    """The best sentence, and the next ones that score nearly as well."""
    floor = max(threshold, candidates[0].probability - ranking.sentence_margin)
    chosen: list[Candidate] = []
    seen: set[str] = set()
    for c in candidates:
        if c.probability < floor or len(chosen) == ranking.max_sentences:
            break
        text = table.sentences[c.sentence_id].text
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
    if not sentence_ids or len(sentence_ids) > searcher.ranking.max_anchor_sentences:
        return []
    have = {h.chunk.id for h in hits}
    filters = filters or Filters()
    allowed = {
        d.id
        for d in searcher.store.documents.values()
        if (not filters.documents or d.id in filters.documents)
        and (filters.year is None or d.year == filters.year)
    }
    rows = list(dict.fromkeys(table.rows_of(sentence_ids)))
    kept = [
        h.chunk
        for h in searcher.hits(rows)
        if h.chunk.id not in have and h.chunk.document_id in allowed
    ]
    return [
        Hit(len(hits) + i + 1, 0.0, chunk, searcher.store.documents[chunk.document_id])
        for i, chunk in enumerate(kept)
    ]


def _list_answer(
    candidates: list[Candidate], threshold: float, ranking: RankingConfig, table: SentenceTable
) -> Answer:
    """One item per project or section that answers, each with its best sentence."""
    items: dict[tuple[str, str], Candidate] = {}
    for c in candidates:
        if c.probability < threshold:
            break  # best first: the rest score lower still
        items.setdefault((c.hit.chunk.document_id, c.hit.chunk.section), c)
    sentences = [
        AnswerSentence(
            text=table.sentences[c.sentence_id].text,
            citations=[c.hit.chunk.id],
            label=_label(c.hit),
        )
        for c in list(items.values())[: ranking.max_items]
    ]
    return Answer(kind="list", text=" ".join(s.text for s in sentences), sentences=sentences)


def _label(hit: Hit) -> str:
    """The project or section an item belongs to, as the document names it."""
    leaf = hit.chunk.section.split(SECTION_SEPARATOR)[-1].strip()
    return leaf or hit.document.title
