"""The promise register of a loaded index: filter it, search it by meaning and key words,
and find the later passages that report on each promise.

One function, :func:`find_promises`, serves ``GET /api/promises``, its CSV twin, the
``beleidszoeker promises`` command and the /beloften page.
"""

from __future__ import annotations

import csv
import io
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, Field

from indexer.keyword import terms
from indexer.promises import FILE, VECTORS, Promise, parse_promises, parse_vectors
from indexer.schema import Chunk, DocumentRef
from indexer.store import IndexData
from indexer.stores.base import IndexStore
from search_api.per_index import PerIndex, store_of
from search_api.retrieval import Searcher, normalize_query
from search_api.sentences import similarity_scale

DEFAULT_K = 20
MAX_FOLLOW_UPS = 3
# Follow-ups: a later sentence on the same commitment that reports progress or a result.
FOLLOW_UP_FLOOR = 0.82  # cosine of the two sentence vectors (e5 puts unrelated text ~0.78)
FOLLOW_UP_KEYWORDS = 2  # specific key words shared; one is enough above:
FOLLOW_UP_SIMILARITY = 0.9
COMMON_SHARE = 0.006  # a key word in more than this share of sentences is not specific
_PROGRESS = re.compile(
    r"\b(?:gerealiseerd|bereikt|behaald|afgerond|opgeleverd|gestart|begonnen|aangelegd|"
    r"inmiddels|intussen|resultaat|resultaten|voortgang|gelukt|geslaagd|uitgevoerd|"
    r"opgezet|opgericht|geopend|ingevoerd|nog niet|vertraging|vertraagd|bijgesteld|"
    r"aangepast|verlengd|loopt|liep|heeft geleid|hebben geleid|zijn\s+\w+\s+ge\w+[dt]|"
    r"is\s+\w+\s+ge\w+[dt]|hebben\s+\w+\s+ge\w+[dt]|heeft\s+\w+\s+ge\w+[dt])\b",
    re.I,
)
# Relevance to a query: dense similarity of the promise, its neighbouring sentences and its
# passage on the index's scale, plus the share of the query's key words (IDF-weighted) in the
# promise, its section and topic (and, at half weight, in its neighbours).
KEYWORD_WEIGHT = 0.6
OWN_SHARE, WINDOW_SHARE, PASSAGE_SHARE = 0.4, 0.3, 0.3
WINDOW_KEYWORDS = 0.5  # a key word near the promise counts half
WINDOW_CHARS = 300  # the sentences this close before or after a promise, in its section
MIN_RELEVANCE = 0.35
RELATIVE_MARGIN = 0.6


class FollowUp(BaseModel):
    """A later passage on the same commitment: its sentence, where it stands, its year."""

    text: str = Field(description="the reporting sentence, verbatim")
    chunk_id: str
    document: DocumentRef
    section: str
    page: int | None = None
    char_start: int = Field(description="start offset in the document's cleaned text")
    char_end: int
    score: float


class PromiseOut(BaseModel):
    """A promise as the API, the CLI and the page show it."""

    id: str
    text: str
    document: DocumentRef
    section: str
    page: int | None
    char_start: int
    char_end: int
    actor: str | None
    target_year: int | str | None
    amount: str | None
    topic: str
    follow_up: list[FollowUp]


class PromiseList(BaseModel):
    total: int = Field(description="promises matching the filters (before k)")
    promises: list[PromiseOut]


@dataclass(frozen=True)
class PromiseFilters:
    q: str | None = None
    documents: tuple[str, ...] = ()
    year: int | None = None  # the document's year
    topic: str | None = None
    target_year: int | None = None  # a target year, or a year inside a target period
    k: int | None = None


def find_promises(searcher: Searcher, filters: PromiseFilters) -> PromiseList:
    """The promises that pass the filters: by relevance to ``q``, else in document order."""
    register = get_register(searcher.store)
    index = searcher.store
    if filters.documents:
        from beleidszoeker.errors import UnknownDocumentError

        unknown = [d for d in filters.documents if d not in index.documents]
        if unknown:
            raise UnknownDocumentError(unknown[0])
    rows = [i for i, p in enumerate(register.promises) if _passes(p, index, filters)]
    q = normalize_query(filters.q) if filters.q and filters.q.strip() else None
    if q:
        scored = relevant_rows(searcher, register, rows, q)
        rows = [i for i, _ in scored]
        k = filters.k or DEFAULT_K
    else:
        k = filters.k or len(rows)
    out = [register.show(i, index) for i in rows[:k]]
    return PromiseList(total=len(rows), promises=out)


CSV_COLUMNS = [
    "id",
    "document_id",
    "document_title",
    "document_year",
    "topic",
    "section",
    "page",
    "text",
    "actor",
    "target_year",
    "amount",
    "char_start",
    "char_end",
    "follow_up",
]


def promises_csv(result: PromiseList) -> str:
    """The register as CSV for a spreadsheet; follow-ups as "year: sentence" lines."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for p in result.promises:
        follow = "\n".join(f"{f.document.year or '?'}: {f.text}" for f in p.follow_up)
        writer.writerow(
            [
                p.id,
                p.document.id,
                p.document.title,
                p.document.year or "",
                p.topic,
                p.section,
                p.page or "",
                p.text,
                p.actor or "",
                p.target_year or "",
                p.amount or "",
                p.char_start,
                p.char_end,
                follow,
            ]
        )
    return buffer.getvalue()


def _passes(p: Promise, index: IndexStore, f: PromiseFilters) -> bool:
    doc = index.documents.get(p.document_id)
    if doc is None:
        return False
    if f.documents and p.document_id not in f.documents:
        return False
    if f.year is not None and doc.year != f.year:
        return False
    if f.topic and f.topic.strip().lower() not in p.topic.lower():
        return False
    return f.target_year is None or f.target_year in _years(p.target_year)


def _years(target: int | str | None) -> range:
    if target is None:
        return range(0)
    if isinstance(target, int):
        return range(target, target + 1)
    a, b = (int(x) for x in target.split("-"))
    return range(a, b + 1)


def relevant_rows(
    searcher: Searcher, register: Register, rows: list[int], q: str
) -> list[tuple[int, float]]:
    """Rows that match ``q`` by meaning or key words, best first."""
    scores = relevance_scores(searcher, register, rows, q)
    if not scores:
        return []
    best = scores[0][1]
    return [(r, s) for r, s in scores if s >= MIN_RELEVANCE and s >= best - RELATIVE_MARGIN]


def relevance_scores(
    searcher: Searcher, register: Register, rows: list[int], q: str
) -> list[tuple[int, float]]:
    """Every row's relevance to ``q``, best first.

    A promise is often terse ("Doelstelling is dat geheel Drenthe in 2019 ontsloten is"):
    the sentences around it and its passage say what it is about ("Breedbandinternet ...").
    """
    if not rows:
        return []
    store = searcher.store
    qvec = searcher.query_vector(q)
    floor, span = similarity_scale(store)
    idx = np.asarray(rows)
    own = register.vectors[idx] @ qvec if register.vectors is not None else 0.0
    context = store.passage_vectors(register.chunk_rows[idx].tolist()) @ qvec
    around = np.zeros(len(rows))
    # Only the sentences around these promises: read from the store in one go.
    near = sorted({j for r in rows for j in register.window[r]})
    if near:
        sims = dict(zip(near, store.sentence_vectors(near) @ qvec, strict=True))
        around = np.asarray([max((sims[j] for j in register.window[r]), default=0.0) for r in rows])
    dense = (OWN_SHARE * own + WINDOW_SHARE * around + PASSAGE_SHARE * context - floor) / span
    qterms = set(terms(q, store.decompounder))
    weights = {t: register.idf(t) for t in qterms}
    total = sum(weights.values())
    scores = []
    for row, d in zip(rows, np.atleast_1d(dense), strict=True):
        own_terms, near_terms = register.terms[row], register.window_terms[row]
        held = sum(
            w if t in own_terms else WINDOW_KEYWORDS * w if t in near_terms else 0.0
            for t, w in weights.items()
        )
        scores.append((row, float(d) + KEYWORD_WEIGHT * (held / total if total else 0.0)))
    scores.sort(key=lambda s: -s[1])
    return scores


class Register:
    """The promises of one served index with their vectors, key words and follow-ups."""

    def __init__(self, store: IndexStore) -> None:
        self.promises = parse_promises(store.file(FILE))
        vectors = parse_vectors(store.file(VECTORS))
        self.vectors = (
            vectors if vectors is not None and len(vectors) == len(self.promises) else None
        )
        decompounder = store.decompounder
        self.terms = [
            frozenset(terms(f"{p.topic} {p.section} {p.text}", decompounder)) for p in self.promises
        ]
        self._places = _Places(store, {p.document_id for p in self.promises})
        self.chunk_rows = np.asarray([_chunk_row(self._places, p) for p in self.promises], np.int64)
        self.window = _windows(self._places, self.promises, self.chunk_rows)
        self.window_terms = [
            frozenset(t for i in near for t in terms(self._places.text(i), decompounder))
            for near in self.window
        ]
        df: dict[str, int] = {}
        for t in self.terms:
            for term in t:
                df[term] = df.get(term, 0) + 1
        self._df, self._n = df, max(len(self.terms), 1)
        self._follow_ups: list[list[FollowUp]] | None = None
        self._lock = threading.Lock()
        self._store = store

    def idf(self, term: str) -> float:
        return float(np.log(1 + (self._n + 0.5) / (self._df.get(term, 0) + 0.5)))

    def show(self, row: int, index: IndexStore) -> PromiseOut:
        p = self.promises[row]
        return PromiseOut(
            id=p.id,
            text=p.text,
            document=index.documents[p.document_id].ref(),
            section=p.section,
            page=p.page,
            char_start=p.char_start,
            char_end=p.char_end,
            actor=p.actor,
            target_year=p.target_year,
            amount=p.amount,
            topic=p.topic,
            follow_up=self.follow_ups()[row],
        )

    def follow_ups(self) -> list[list[FollowUp]]:
        """Every promise's follow-ups, computed once per index (one matrix product)."""
        if self._follow_ups is None:
            with self._lock:
                if self._follow_ups is None:
                    self._follow_ups = _all_follow_ups(self, self._store, self._places)
        return self._follow_ups


class _Places:
    """The passages of the documents that hold promises, and where every sentence vector
    stands: read from the store once per register, not once per promise."""

    def __init__(self, store: IndexStore, documents: set[str]) -> None:
        self._store = store
        self.rows, self.spans = store.sentence_places()
        self.chunks: dict[int, Chunk] = {}
        self.by_document: dict[str, list[int]] = {}
        self.read(store.document_rows(sorted(documents)).tolist())

    def sentences_of(self, rows: Iterable[int]) -> dict[int, list[int]]:
        """The sentence ids of each of ``rows``, ascending. One pass over the sentence rows
        (read whole and dropped): a list per passage of the corpus, kept, held 49 MB at
        100k passages and would hold half a gigabyte at a million."""
        wanted = np.unique(np.fromiter(rows, np.int64))
        every = np.asarray(self.rows, np.int64)
        ids = np.flatnonzero(np.isin(every, wanted))
        out: dict[int, list[int]] = {}
        for i, row in zip(ids.tolist(), every[ids].tolist(), strict=True):
            out.setdefault(row, []).append(i)
        return out

    def read(self, rows: list[int]) -> None:
        missing = [r for r in rows if r not in self.chunks]
        for row, chunk in zip(missing, self._store.passages(missing), strict=True):
            self.chunks[row] = chunk
            self.by_document.setdefault(chunk.document_id, []).append(row)

    def text(self, i: int) -> str:
        start, end = self.spans[i]
        return self.chunks[int(self.rows[i])].text[start:end]


def _chunk_row(places: _Places, p: Promise) -> int:
    best, best_row = -1, 0
    for row in sorted(places.by_document.get(p.document_id, [])):
        c = places.chunks[row]
        if c.char_start <= p.char_start < c.char_end:
            overlap = min(c.char_end, p.char_end) - p.char_start
            if overlap > best:
                best, best_row = overlap, row
    return best_row


def _windows(places: _Places, promises: list[Promise], chunk_rows: np.ndarray) -> list[list[int]]:
    """Per promise, the index sentences of its passage that stand close to it."""
    if not len(places.rows):
        return [[] for _ in promises]
    out = []
    by_row = places.sentences_of(int(r) for r in chunk_rows)
    for p, row in zip(promises, chunk_rows, strict=True):
        chunk = places.chunks[int(row)]
        near = []
        for i in by_row.get(int(row), []):
            a, b = (chunk.char_start + int(x) for x in places.spans[i])
            if b > p.char_start - WINDOW_CHARS and a < p.char_end + WINDOW_CHARS:
                near.append(i)
        out.append(near)
    return out


def _all_follow_ups(register: Register, store: IndexStore, places: _Places) -> list[list[FollowUp]]:
    """Per promise, later sentences that report progress on the same thing.

    Same thing: close in meaning and sharing specific key words (ones used in few sentences
    of the corpus: "breedband", "Steunouder", not "provincie"). Later: further on in the same
    document, or in a document of the same or a later year. Reporting: a progress or result
    word ("inmiddels", "gerealiseerd", "is gestart").
    """
    out: list[list[FollowUp]] = [[] for _ in register.promises]
    if register.vectors is None or not len(places.rows):
        return out
    decompounder = store.decompounder
    # Every sentence of the corpus is a candidate: every passage is read, once per index.
    places.read(list(range(store.n_passages)))
    # Each sentence once: passages overlap, so the same sentence stands in two of them.
    unique: dict[tuple[str, int], int] = {}
    # Every sentence's place read whole here, once (the store reads them by position).
    rows = np.asarray(places.rows, np.int64).tolist()
    spans = np.asarray(places.spans, np.int64).reshape(-1, 2).tolist()
    for i, (row, (a, _)) in enumerate(zip(rows, spans, strict=True)):
        chunk = places.chunks[row]
        unique.setdefault((chunk.document_id, chunk.char_start + a), i)
    texts = {i: places.chunks[rows[i]].text[spans[i][0] : spans[i][1]] for i in unique.values()}
    sentence_terms = {i: frozenset(terms(t, decompounder)) for i, t in texts.items()}
    df: dict[str, int] = {}
    for found in sentence_terms.values():
        for t in found:
            df[t] = df.get(t, 0) + 1
    common = max(3, int(COMMON_SHARE * len(texts)))
    ids = [i for i, t in texts.items() if _PROGRESS.search(t)]
    if not ids:
        return out
    sims = register.vectors @ store.sentence_vectors(ids).T
    for r, p in enumerate(register.promises):
        year = store.documents[p.document_id].year
        specific = {t for t in register.terms[r] if df.get(t, 0) <= common}
        found: list[FollowUp] = []
        for j in np.argsort(-sims[r]):
            sim = float(sims[r, j])
            if sim < FOLLOW_UP_FLOOR:
                break
            i = ids[j]
            chunk = places.chunks[int(places.rows[i])]
            a, b = (chunk.char_start + int(x) for x in places.spans[i])
            doc = store.documents[chunk.document_id]
            same = doc.id == p.document_id
            if not (
                (same and a >= p.char_end)
                or (not same and year is not None and (doc.year or 0) >= year)
            ):
                continue
            shared = len(specific & sentence_terms[i])
            if shared < FOLLOW_UP_KEYWORDS and not (shared and sim >= FOLLOW_UP_SIMILARITY):
                continue
            found.append(
                FollowUp(
                    text=texts[i],
                    chunk_id=chunk.id,
                    document=doc.ref(),
                    section=chunk.section,
                    page=chunk.page,
                    char_start=a,
                    char_end=b,
                    score=round(sim, 4),
                )
            )
            if len(found) == MAX_FOLLOW_UPS:
                break
        out[r] = found
    return out


_registers: PerIndex[Register] = PerIndex(Register)


def get_register(store: IndexStore | IndexData) -> Register:
    """The register of a served index, read on first use (a rebuilt index gets its own)."""
    return _registers.get(store_of(store))
