"""The promise register: every sentence in which a body commits to an action or states a
goal or target, found at index time and stored beside the passages (``promises.jsonl``).

Sentences come from the whole cleaned document, so each promise's ``char_start`` and
``char_end`` point into the same text as the passages' offsets; the section and topic are
those of the passage that holds it.
"""

from __future__ import annotations

import io
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from indexer import promise_rules
from indexer.promise_model import PromiseModel
from indexer.rows import load_npy
from indexer.schema import Chunk, Document
from indexer.sections import SEPARATOR
from indexer.sentences import Sentence, split_sentences

FILE = "promises.jsonl"
VECTORS = "promises.npy"  # one sentence vector per line of FILE, for search and follow-ups
Embed = Callable[[list[str]], np.ndarray]
# A classified sentence longer than this is a run-on list or table, not one promise.
MAX_CHARS = 600


class Promise(BaseModel):
    """One promise or target, with where it stands and what it names."""

    id: str
    document_id: str
    text: str = Field(description="the sentence, verbatim")
    char_start: int = Field(description="start offset in the document's cleaned text")
    char_end: int
    page: int | None = None
    section: str = ""
    topic: str = Field("", description="the project or section title it belongs to")
    actor: str | None = Field(None, description="who commits, as the sentence says")
    target_year: int | str | None = Field(None, description='a year, or a period "2016-2019"')
    amount: str | None = Field(None, description="amount or measurable result, as written")
    score: float = Field(0.0, description="the classifier's probability")


def extract_promises(
    document: Document,
    text: str,
    chunks: list[Chunk],
    model: PromiseModel,
    embed: Embed,
    page_starts: list[int] | None = None,
) -> list[Promise]:
    """The promises in one document's cleaned ``text``, in reading order."""
    sentences = [s for s in _sentences(text) if len(s.text) <= MAX_CHARS]
    if not sentences:
        return []
    vectors = embed([s.text for s in sentences])
    proba = model.probabilities(
        [(s.text, document.year, v) for s, v in zip(sentences, vectors, strict=True)]
    )
    starts = [c.char_start for c in chunks]
    out: list[Promise] = []
    for sentence, p in zip(sentences, proba, strict=True):
        if p < model.threshold:
            continue
        chunk = chunks[max(0, bisect_right(starts, sentence.start) - 1)] if chunks else None
        section = chunk.section if chunk else ""
        out.append(
            Promise(
                id=f"{document.id}@{sentence.start}",
                document_id=document.id,
                text=sentence.text,
                char_start=sentence.start,
                char_end=sentence.end,
                page=bisect_right(page_starts, sentence.start) + 1 if page_starts else None,
                section=section,
                topic=topic(section, document),
                actor=promise_rules.actor(sentence.text),
                target_year=promise_rules.target_year(sentence.text),
                amount=promise_rules.amount(sentence.text),
                score=round(float(p), 4),
            )
        )
    return out


# Items of a list run on after a semicolon: "Breedband voor iedereen in 2019; Prioriteiten in
# 2016 zijn ...". Each item is a promise (or not) of its own.
_ITEM_END = re.compile(r"(?<=;)\s+(?=[A-Z•])")


def _sentences(text: str) -> list[Sentence]:
    out: list[Sentence] = []
    for s in split_sentences(text):
        start = 0
        for m in _ITEM_END.finditer(s.text):
            out.append(Sentence(s.text[start : m.start()], s.start + start, s.start + m.start()))
            start = m.end()
        out.append(Sentence(s.text[start:], s.start + start, s.end))
    return out


def topic(section: str, document: Document) -> str:
    """The project or section a promise belongs to: its section's own title (a magazine's
    project, a plan's paragraph), else the document's title."""
    parts = [p.strip() for p in section.split(SEPARATOR) if p.strip()]
    return parts[-1] if parts else document.title


def write_promises(promises: Iterable[Promise]) -> str:
    return "".join(p.model_dump_json() + "\n" for p in promises)


def vectors_bytes(vectors: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(vectors, dtype=np.float32))
    return buffer.getvalue()


def read_vectors(index_path: Path | None) -> np.ndarray | None:
    try:
        return load_npy(index_path / VECTORS) if index_path else None
    except FileNotFoundError:
        return None


def parse_vectors(raw: bytes | None) -> np.ndarray | None:
    """The promise vectors of a build as its store gives them (None: none)."""
    return None if raw is None else load_npy(io.BytesIO(raw))


def parse_promises(raw: bytes | None) -> list[Promise]:
    """The register of a build as its store gives it (empty: none)."""
    if raw is None:
        return []
    lines = raw.decode("utf-8").splitlines()
    return [Promise.model_validate_json(line) for line in lines if line]


def read_promises(index_path: Path | None) -> list[Promise]:
    """The register of a build; empty for a build made before the register existed."""
    if index_path is None:
        return []
    try:
        lines = (index_path / FILE).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    return [Promise.model_validate_json(line) for line in lines if line]


def build_register(
    documents: dict[str, Document],
    texts: dict[str, str],
    chunks: list[Chunk],
    page_starts: dict[str, list[int] | None],
    previous: list[Promise],
    reuse: set[str],
    model: PromiseModel,
    embed: Embed,
) -> list[Promise]:
    """The register of a build: documents in ``reuse`` keep their previous promises (they did
    not change and the classifier is the same); the others are classified now."""
    kept: dict[str, list[Promise]] = {}
    for p in previous:
        if p.document_id in reuse:
            kept.setdefault(p.document_id, []).append(p)
    by_doc: dict[str, list[Chunk]] = {}
    for c in chunks:
        by_doc.setdefault(c.document_id, []).append(c)
    out: list[Promise] = []
    for doc_id, doc in documents.items():
        if doc_id in reuse:
            out.extend(kept.get(doc_id, []))
        else:
            doc_chunks = sorted(by_doc.get(doc_id, []), key=lambda c: c.char_start)
            out.extend(
                extract_promises(
                    doc, texts[doc_id], doc_chunks, model, embed, page_starts.get(doc_id)
                )
            )
    return out
