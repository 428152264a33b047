"""Answer a promise question ("wat is beloofd over ...", "welke doelen ...") from the
register: the promise sentences first, each cited to its passage.

``answer_question`` asks :func:`promise_answer` first and answers as before when it
returns None (not a promise question, or no promise on the topic).
"""

from __future__ import annotations

import re
import time

from indexer.keyword import terms
from search_api.models import Answer, AnswerSentence, AskResponse, Passage
from search_api.promises import (
    PromiseFilters,
    find_promises,
    get_register,
    relevance_scores,
    relevant_rows,
)
from search_api.question import analyse
from search_api.retrieval import Filters, Hit, Searcher, normalize_query

MAX_PROMISES = 5
# Candidates: the promises in the passages retrieval ranks first for the topic, and the
# promises the register itself finds most relevant.
PASSAGES = 5
RELEVANT = 6
_PROMISE_WORDS = re.compile(
    r"\b(?:beloofd|belooft|beloven|belofte|beloften|toegezegd|toezegging(?:en)?|"
    r"doel|doelen|doelstelling(?:en)?|ambitie(?:s)?|streefcijfers?|streven|"
    r"promised?|promises|goals?|targets?|commit(?:ted|ments?)?)\b",
    re.I,
)
# The words of a promise question that are not its topic.
_FRAME = re.compile(
    r"\b(?:wat|welke|welk|heeft|hebben|is|zijn|er|staan|staat|de|het|een|provincie|"
    r"gemeente(?:n)?|over|voor|rond|in|op|van|the|what|which|has|have|did|does|is|are|"
    r"province|about|for|on|of|by)\b",
    re.I,
)
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")


def is_promise_question(query: str) -> bool:
    return bool(_PROMISE_WORDS.search(query))


def promise_answer(
    searcher: Searcher, query: str, k: int = 10, filters: Filters | None = None
) -> AskResponse | None:
    """The promises on the question's topic (or for its year) as a cited answer, or None."""
    t0 = time.perf_counter()
    query = normalize_query(query)
    if not is_promise_question(query):
        return None
    filters = filters or Filters()
    years = [int(y) for y in _YEAR.findall(query)]
    topic = _YEAR.sub(" ", _FRAME.sub(" ", _PROMISE_WORDS.sub(" ", query)))
    topic = " ".join(re.sub(r"[?!.,]", " ", topic).split())
    has_topic = bool(terms(topic, searcher.store.decompounder))
    if not has_topic and not years:
        return None
    base = PromiseFilters(
        documents=filters.documents, year=filters.year, target_year=years[0] if years else None
    )
    register = get_register(searcher.store)
    if has_topic:
        rows = _topic_rows(searcher, register, topic, base)
        rows = _naming(searcher, register, rows, query)
    else:
        listed = find_promises(searcher, base)
        ids = {p.id for p in listed.promises}
        rows = [i for i, p in enumerate(register.promises) if p.id in ids]
    if not rows:
        return None
    chosen = rows[:MAX_PROMISES]
    hits: list[Hit] = []
    sentences = []
    cited = searcher.store.passages([int(register.chunk_rows[i]) for i in chosen])
    for i, chunk in zip(chosen, cited, strict=True):
        p = register.promises[i]
        if chunk.id not in {h.chunk.id for h in hits}:
            document = searcher.store.documents[chunk.document_id]
            hits.append(Hit(len(hits) + 1, 1.0, chunk, document))
        label = p.topic + (f" · {p.target_year}" if p.target_year else "")
        sentences.append(AnswerSentence(text=p.text, citations=[chunk.id], label=label))
    if has_topic:
        for h in searcher.search(topic, k, "hybrid", filters):
            if len(hits) >= max(k, len(chosen)):
                break
            if h.chunk.id not in {x.chunk.id for x in hits}:
                hits.append(Hit(len(hits) + 1, h.score, h.chunk, h.document))
    # Promises on several topics read as a list, one topic's as an answer in sentences.
    kind = "list" if len({register.promises[i].topic for i in chosen}) > 1 else "sentences"
    answer = Answer(kind=kind, text=" ".join(s.text for s in sentences), sentences=sentences)
    return AskResponse(
        query=query,
        abstained=False,
        answer=answer,
        passages=[Passage.from_hit(h) for h in hits],
        took_ms=round((time.perf_counter() - t0) * 1000, 1),
    )


def _naming(searcher: Searcher, register, rows: list[int], query: str) -> list[int]:
    """The rows whose promise, section or neighbours hold every name the question asks about.

    "wat is de ambitie van de pijler Mobiliteit?" is not answered by the ambition of another
    pillar: without a promise that names it, the usual answer (or abstention) follows.
    """
    decompounder = searcher.store.decompounder
    names = [set(terms(n, decompounder)) for n in analyse(query).names]
    names = [n for n in names if n]
    if not names:
        return rows
    return [
        r
        for r in rows
        if all(n & (register.terms[r] | register.window_terms[r]) for n in names)
        and all(
            y in register.terms[r] | register.window_terms[r]
            for n in names
            for y in n
            if _YEAR.fullmatch(y)
        )
    ]


def _topic_rows(searcher: Searcher, register, topic: str, base: PromiseFilters) -> list[int]:
    """Promises on the topic: concrete ones (a target year or amount) first, then by
    relevance."""
    allowed = {p.id for p in find_promises(searcher, base).promises}
    rows = [i for i, p in enumerate(register.promises) if p.id in allowed]
    scores = dict(relevance_scores(searcher, register, rows, topic))
    top_passages = {
        h.chunk.id
        for h in searcher.search(
            topic, PASSAGES, "hybrid", Filters(documents=base.documents, year=base.year)
        )
    }
    # On the topic at all: the register's own relevance floor, as for GET /api/promises?q=.
    on_topic = {r for r, _ in relevant_rows(searcher, register, rows, topic)}
    near = [r for r in rows if r in on_topic]
    chunks = searcher.store.passages([int(register.chunk_rows[r]) for r in near])
    in_passages = [r for r, c in zip(near, chunks, strict=True) if c.id in top_passages]
    relevant = [r for r in sorted(rows, key=lambda r: -scores[r]) if r in on_topic][:RELEVANT]
    candidates = [r for r in dict.fromkeys(relevant + in_passages)]

    def concrete(r: int) -> bool:
        p = register.promises[r]
        return p.target_year is not None or p.amount is not None

    return sorted(candidates, key=lambda r: (not concrete(r), -scores[r]))
