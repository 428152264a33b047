"""The self-describing index directory: write it atomically, load it, check it.

``index_dir`` is a symbolic link to one complete build under ``<index_dir>.builds/``.
A new build is written beside the old one and the link is swapped with one rename, so a
crash never leaves a half-written index and a running server can keep reading the old one.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from beleidszoeker.errors import IndexMismatchError, IndexMissingError
from indexer.cleaning import CleanText
from indexer.keyword import KeywordIndex
from indexer.schema import Chunk, Document

FORMAT_VERSION = 2  # 2: sentence vectors beside the passage vectors
MANIFEST = "manifest.json"


@dataclass
class IndexData:
    """Everything a build writes; also what a loaded index holds."""

    manifest: dict[str, Any]
    documents: dict[str, Document]
    chunks: list[Chunk]
    vectors: np.ndarray  # float32 (n_chunks, dim), L2-normalised
    keyword: KeywordIndex
    sentences: SentenceVectors | None = None
    path: Path | None = None
    dense: Any = None  # the FAISS index, set when loaded from disk
    # Further files of the build, written as they are (name -> content): the promise register.
    files: dict[str, str | bytes] = field(default_factory=dict)
    _texts: dict[str, CleanText] = field(default_factory=dict)

    def clean_text(self, document_id: str) -> CleanText:
        """The cleaned text of a document (read from disk on first use)."""
        if document_id not in self._texts:
            if self.path is None or document_id not in self.documents:
                raise KeyError(document_id)
            base = self.path / "texts" / document_id
            text = (base.with_suffix(".txt")).read_text(encoding="utf-8")
            offsets = np.load(base.with_suffix(".offsets.npy"))
            self._texts[document_id] = CleanText(text, offsets)
        return self._texts[document_id]


@dataclass
class SentenceVectors:
    """Every sentence of every passage: its passage row, offsets in the passage, vector."""

    rows: np.ndarray  # int32 (n,)
    spans: np.ndarray  # int32 (n, 2): start, end in the passage text
    vectors: np.ndarray  # float32 (n, dim), L2-normalised
    dense: Any = None  # FAISS index over ``vectors``, set when loaded from disk

    def text(self, chunks: list[Chunk], i: int) -> str:
        start, end = self.spans[i]
        return chunks[int(self.rows[i])].text[start:end]


def builds_dir(index_dir: Path) -> Path:
    return index_dir.parent / f"{index_dir.name}.builds"


def write_index(index_dir: Path, data: IndexData, texts: dict[str, CleanText]) -> Path:
    """Write a complete build next to the live one, then swap the link to it."""
    import faiss

    root = builds_dir(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    build_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    tmp = root / f".tmp-{build_id}"
    tmp.mkdir()
    try:
        (tmp / "texts").mkdir()
        for doc_id, clean in texts.items():
            (tmp / "texts" / f"{doc_id}.txt").write_text(clean.text, encoding="utf-8")
            np.save(tmp / "texts" / f"{doc_id}.offsets.npy", clean.offsets)
        with (tmp / "chunks.jsonl").open("w", encoding="utf-8") as f:
            for c in data.chunks:
                f.write(c.model_dump_json() + "\n")
        docs = [d.model_dump() for d in data.documents.values()]
        (tmp / "documents.json").write_text(json.dumps(docs, ensure_ascii=False, indent=1))
        index = faiss.IndexFlatIP(data.vectors.shape[1])
        index.add(np.ascontiguousarray(data.vectors, dtype=np.float32))
        faiss.write_index(index, str(tmp / "dense.faiss"))
        if data.sentences is not None:
            sent = data.sentences
            np.savez(tmp / "sentences.npz", rows=sent.rows, spans=sent.spans)
            s_index = faiss.IndexFlatIP(sent.vectors.shape[1])
            s_index.add(np.ascontiguousarray(sent.vectors, dtype=np.float32))
            faiss.write_index(s_index, str(tmp / "sentences.faiss"))
        data.keyword.save(tmp / "keyword")
        for name, content in data.files.items():
            raw = content.encode("utf-8") if isinstance(content, str) else content
            (tmp / name).write_bytes(raw)
        manifest = {**data.manifest, "format_version": FORMAT_VERSION, "build_id": build_id}
        # The manifest goes last: a build directory without one is incomplete by definition.
        (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
        final = root / build_id
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _point_link(index_dir, final)
    _prune(root, keep={final.name, *_live_target_names(index_dir)})
    return final


def _point_link(index_dir: Path, target: Path) -> None:
    if index_dir.exists() and not index_dir.is_symlink():
        # An index directory from elsewhere: keep it as an older build, then link.
        index_dir.rename(builds_dir(index_dir) / f"moved-{int(time.time())}")
    link_tmp = index_dir.parent / f".{index_dir.name}.link-{uuid.uuid4().hex[:6]}"
    os.symlink(os.path.relpath(target, index_dir.parent), link_tmp)
    os.replace(link_tmp, index_dir)  # atomic: readers see the old build or the new one


def _live_target_names(index_dir: Path) -> set[str]:
    return {index_dir.resolve().name} if index_dir.exists() else set()


def _prune(root: Path, keep: set[str], keep_previous: int = 1) -> None:
    """Remove old builds, keeping the newest previous one for requests still reading it.

    A ``.tmp-*`` folder is another build still being written: never a candidate.
    """
    builds = sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
    )
    old = [p for p in builds if p.name not in keep]
    for p in old[: max(0, len(old) - keep_previous)]:
        shutil.rmtree(p, ignore_errors=True)


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def check_compatible(manifest: dict[str, Any], embedder_spec: str, index_dir: Path) -> None:
    """Refuse an index this version or the configured embedder cannot serve."""
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise IndexMismatchError(
            f"The index in {index_dir} has format version {version}, this Beleidszoeker reads "
            f"version {FORMAT_VERSION}: run `beleidszoeker index --force` to rebuild it."
        )
    built_with = manifest.get("embedder", {}).get("spec")
    if built_with != embedder_spec:
        raise IndexMismatchError(
            f"The index in {index_dir} was built with embedder {built_with!r}, but the settings "
            f"ask for {embedder_spec!r}: run `beleidszoeker index` to rebuild it with "
            f"{embedder_spec!r}, or set BELEIDSZOEKER_EMBEDDER={built_with} to use it as it is."
        )


def load_index(index_dir: Path, embedder_spec: str) -> IndexData:
    """Load a complete index, or explain what to run."""
    import faiss

    manifest = read_manifest(index_dir)
    if manifest is None:
        raise IndexMissingError(index_dir)
    check_compatible(manifest, embedder_spec, index_dir)
    path = index_dir.resolve()  # pin this build even if the link moves while we read
    try:
        chunks = [
            Chunk.model_validate_json(line)
            for line in (path / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
            if line
        ]
        docs = [Document(**d) for d in json.loads((path / "documents.json").read_text("utf-8"))]
        dense = faiss.read_index(str(path / "dense.faiss"))
        vectors = dense.reconstruct_n(0, dense.ntotal) if dense.ntotal else np.zeros((0, 1), "f4")
        keyword = KeywordIndex.load(path / "keyword")
        sentences = _load_sentences(path)
    except (OSError, ValueError, RuntimeError) as exc:  # RuntimeError: FAISS cannot read
        raise IndexMismatchError(
            f"The index in {index_dir} is incomplete or was written by another version of "
            f"Beleidszoeker ({exc}): run `beleidszoeker index --force` to rebuild it."
        ) from exc
    return IndexData(
        manifest=manifest,
        documents={d.id: d for d in docs},
        chunks=chunks,
        vectors=np.asarray(vectors, dtype=np.float32),
        keyword=keyword,
        sentences=sentences,
        path=path,
        dense=dense,
    )


def _load_sentences(path: Path) -> SentenceVectors:
    import faiss

    arrays = np.load(path / "sentences.npz")
    s_index = faiss.read_index(str(path / "sentences.faiss"))
    vectors = s_index.reconstruct_n(0, s_index.ntotal) if s_index.ntotal else np.zeros((0, 1))
    return SentenceVectors(
        rows=arrays["rows"],
        spans=arrays["spans"],
        vectors=np.asarray(vectors, dtype=np.float32),
        dense=s_index,
    )
