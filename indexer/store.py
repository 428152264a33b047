"""The self-describing index directory: write it atomically, load it, check it.

``index_dir`` is a symbolic link to one complete build under ``<index_dir>.builds/``.
A new build is written beside the old one and the link is swapped with one rename, so a
crash never leaves a half-written index and a running server can keep reading the old one.
The manifest lists the size and SHA-256 of every file of the build (and a checksum of its
own), so a build damaged on disk is detected when loaded, never served.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Collection, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import TypeAdapter

from beleidszoeker.errors import IndexDamagedError, IndexMismatchError, IndexMissingError
from indexer import checksums
from indexer import vectors as ann
from indexer.cleaning import CleanText
from indexer.columns import CHUNKS, TEXTS, ChunkTable, TextStore
from indexer.keyword import KeywordIndex
from indexer.rows import RowFile, load_npy, mapped
from indexer.schema import Chunk, Document
from indexer.segments import (
    BASE,
    PARTS,
    SEGMENTS_DIR,
    Layout,
    MergedIndex,
    Segment,
    SegmentArray,
    SegmentChunks,
    SegmentTexts,
)
from indexer.sentence_terms import FOLDER as TERMS_FOLDER
from indexer.sentence_terms import SentenceTerms
from indexer.term_chain import ChainedTerms
from indexer.word_tables import FOLDER as WORDS_FOLDER
from indexer.word_tables import WordTable
from indexer.word_tails import MANIFEST_KEY as PARTS_KEY
from indexer.word_tails import PARTS_DIR, Added
from indexer.words import WordBoxes

# 2: sentence vectors beside the passage vectors; 3: checksums, offsets stored as runs;
# 4: vector indexes chosen by size (manifest "vectors"), vectors and the key words of every
# sentence as memory-mapped .npy arrays; 5: passages, cleaned texts and sentence offsets as
# memory-mapped columns (indexer/columns.py), not parsed at load; 6: segments (manifest
# "segments", indexer/segments.py), documents masked per segment; 7: each segment's words
# (indexer/word_tables.py), from which a publish merges the keyword statistics; 8: a
# section's key words stored once per section, not once per passage; 9: an add's words as
# a part after the previous build's (manifest "word_parts", indexer/word_tails.py)
FORMAT_VERSION = 9
MANIFEST = "manifest.json"
TMP_PREFIX = ".tmp-"  # a build being written: <builds>/.tmp-<id>, locked by .tmp-<id>.lock


@dataclass
class IndexData:
    """Everything a build writes; also what a loaded index holds."""

    manifest: dict[str, Any]
    documents: dict[str, Document]
    chunks: Sequence[Chunk]  # a list while building; a ChunkTable (rows read on demand) loaded
    vectors: np.ndarray  # float32 (n_chunks, dim), L2-normalised
    keyword: KeywordIndex
    sentences: SentenceVectors | None = None
    terms: SentenceTerms | None = None  # key words per sentence, passage and section
    word_table: WordTable | None = None  # a build's words, written with its one segment
    path: Path | None = None
    dense: Any = None  # the FAISS index, set when loaded from disk
    # Further files of the build, written as they are (name -> content): the promise register.
    files: dict[str, str | bytes] = field(default_factory=dict)
    # A loaded build's TextStore: each text is read from its mapped file when asked for.
    _texts: Mapping[str, CleanText] = field(default_factory=dict)
    # A loaded build's segments, in row order (one for a build written whole).
    segments: list[Segment] = field(default_factory=list)
    layout: Layout | None = None  # set when rows span several segments or some are masked
    # A build's large vector indexes, already being built beside it (``vectors.Beside``).
    building: dict[str, Future] = field(default_factory=dict)
    # An add's words as a part after the previous build's (indexer/word_tails.py), written
    # instead of ``keyword`` and ``terms``.
    added: Added | None = None

    def clean_text(self, document_id: str) -> CleanText:
        """The cleaned text of a document."""
        if document_id not in self._texts:
            raise KeyError(document_id)
        return self._texts[document_id]

    def document_rows(self) -> dict[str, np.ndarray]:
        """The rows of each document's passages, in order (from columns, once loaded)."""
        if isinstance(self.chunks, ChunkTable | SegmentChunks):
            return self.chunks.document_rows()
        rows: dict[str, list[int]] = {}
        for i, c in enumerate(self.chunks):
            rows.setdefault(c.document_id, []).append(i)
        return {d: np.asarray(r, dtype=np.int64) for d, r in rows.items()}

    def chunk_spans(self) -> tuple[np.ndarray, np.ndarray]:
        """``char_start`` and ``char_end`` of every passage, as arrays."""
        if isinstance(self.chunks, ChunkTable | SegmentChunks):
            return self.chunks.spans()
        starts = np.asarray([c.char_start for c in self.chunks], dtype=np.int64)
        return starts, np.asarray([c.char_end for c in self.chunks], dtype=np.int64)

    def chunk_row(self, chunk_id: str) -> int:
        """The row of the passage ``chunk_id`` (KeyError if the index has none)."""
        # Ids are "<document>#<n>", the n-th passage of its document: no table of ids.
        doc, _, n = chunk_id.rpartition("#")
        rows = self._rows_by_document.get(doc)
        if n.isdigit() and rows is not None and int(n) < len(rows):
            row = int(rows[int(n)])
            if self.chunks[row].id == chunk_id:
                return row
        return self._row_of_id[chunk_id]

    @cached_property
    def _rows_by_document(self) -> dict[str, np.ndarray]:
        return self.document_rows()

    @cached_property
    def _row_of_id(self) -> dict[str, int]:
        return {c.id: row for row, c in enumerate(self.chunks)}  # ids of another form only

    def word_boxes(self, document_id: str) -> WordBoxes | None:
        """Where the words of a PDF stand on its pages; None for other formats."""
        if self.path is None or document_id not in self.documents:
            return None
        folder = self.path
        if isinstance(self._texts, SegmentTexts):
            folder = self._texts.folder(document_id) or self.path
        path = folder / TEXTS / f"{document_id}.words.npz"
        return WordBoxes.load(path) if path.exists() else None


@dataclass
class SentenceVectors:
    """Every sentence of every passage: its passage row, offsets in the passage, vector."""

    rows: np.ndarray  # int32 (n,)
    spans: np.ndarray  # int32 (n, 2): start, end in the passage text
    vectors: np.ndarray  # float32 (n, dim), L2-normalised
    dense: Any = None  # FAISS index over ``vectors``, set when loaded from disk

    def text(self, chunks: Sequence[Chunk], i: int) -> str:
        start, end = self.spans[i]
        return chunks[int(self.rows[i])].text[start:end]


# documents.json parsed in one call (pydantic's core), not a model per dict from json.loads.
_DOCUMENTS = TypeAdapter(list[Document])


def vector_specs(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The vector index of the passages and of the sentences, as the manifest records them
    (a flat one for a manifest that records none)."""
    recorded = manifest.get("vectors") or {}
    return {
        part: dict(recorded.get(part) or {"factory": ann.FLAT})
        for part in ("passages", "sentences")
    }


def builds_dir(index_dir: Path) -> Path:
    return index_dir.parent / f"{index_dir.name}.builds"


@dataclass
class NewSegment:
    """The passages of the documents a build read anew, for a segment of their own."""

    document_ids: list[str]
    chunks: list[Chunk]
    vectors: np.ndarray
    sentences: SentenceVectors | None
    specs: dict[str, dict[str, Any]]  # the vector indexes it gets (by its own size)
    word_table: WordTable | None = None  # the words of its texts (indexer/word_tables.py)
    building: dict[str, Future] = field(default_factory=dict)  # its vector indexes, if started


@dataclass
class SegmentPlan:
    """A build that keeps the segments of the one before it (see docs/segments.md)."""

    source: Path  # the previous build: its segment files are linked, not copied
    kept: list[dict[str, Any]]  # its segment entries, with the documents now masked in each
    new: NewSegment | None = None


def write_index(
    index_dir: Path,
    data: IndexData,
    texts: Mapping[str, CleanText],
    words: Mapping[str, WordBoxes] | None = None,
    plan: SegmentPlan | None = None,
) -> Path:
    """Write a complete build next to the live one, then swap the link to it.

    Without ``plan`` the build is one segment of everything in ``data``; with it, the
    segments of the previous build are linked in and the documents read anew written as
    one more. The global files (documents, keyword index, sentence key words, register)
    are always written from ``data``. ``words`` (PDFs) are written beside each document's
    text as ``<id>.words.npz``.
    """
    root = builds_dir(index_dir)
    build_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    with _locked_folder(root, build_id) as tmp:
        carried: dict[str, Any] = {}  # checksums of linked files, from the previous manifest
        if plan is None:
            whole = NewSegment(
                list(data.documents), list(data.chunks), data.vectors, data.sentences,
                vector_specs(data.manifest), data.word_table, data.building,
            )  # fmt: skip
            segments = [_write_segment(tmp, BASE, build_id, whole, texts, words)]
        else:
            source_files = (read_manifest(plan.source) or {}).get("files", {})
            segments = []
            for entry in plan.kept:
                carried.update(_link_segment(plan.source, tmp, entry["path"], source_files))
                segments.append(entry)
            if plan.new is not None:
                rel = f"{SEGMENTS_DIR}/{build_id}"
                segments.append(_write_segment(tmp / rel, rel, build_id, plan.new, texts, words))
        # pydantic's serialiser, without indentation: the pretty-printed json.dumps (the
        # pure-Python encoder) took 2 to 3 s for the 115,607 documents of a million passages.
        (tmp / "documents.json").write_bytes(_DOCUMENTS.dump_json(list(data.documents.values())))
        for name, content in data.files.items():
            raw = content.encode("utf-8") if isinstance(content, str) else content
            (tmp / name).write_bytes(raw)
        added, parts = data.added, []
        if added is not None:  # the previous words linked, the add's written after them
            for folder in added.folders():
                inside = [f for f in source_files if f.startswith(f"{folder}/")]
                carried.update(_link_files(added.source, tmp, inside, source_files))
            parts = [*added.before, f"{PARTS_DIR}/{build_id}"]
            added.write(tmp / parts[-1])
        else:
            data.keyword.save(tmp / "keyword")
            if data.terms is not None:
                data.terms.save(tmp / TERMS_FOLDER)
        manifest = {
            **data.manifest,
            "format_version": FORMAT_VERSION,
            "build_id": build_id,
            "segments": segments,
            PARTS_KEY: parts,
        }
        manifest["files"] = {
            rel: carried[rel] if rel in carried else _file_sum(tmp / rel, written=True)
            for rel in _build_files(tmp)
        }
        # The manifest goes last: a build directory without one is incomplete by definition.
        (tmp / MANIFEST).write_text(json.dumps(_sealed(manifest), ensure_ascii=False), "utf-8")
        final = root / build_id
        tmp.rename(final)
    _point_link(index_dir, final)
    # The build a publish kept segments of was checked when it was loaded for it, seconds
    # ago (its linked files by size, and they are the new build's too): not read again.
    checked = plan.source.name if plan is not None else None
    _prune(root, keep={final.name, *_live_target_names(index_dir)}, checked=checked)
    return final


@contextmanager
def scratch(index_dir: Path) -> Iterator[Path]:
    """A locked folder beside the builds for what a build writes before its own folder
    exists (its sentence vectors, memory-mapped); removed afterwards, and by the next run
    when this one is killed (its lock is then free, as a killed build's)."""
    with _locked_folder(builds_dir(index_dir), f"scratch-{uuid.uuid4().hex[:8]}") as tmp:
        yield tmp


@contextmanager
def _locked_folder(root: Path, name: str) -> Iterator[Path]:
    """A new folder ``<TMP_PREFIX><name>`` in ``root``, removed on leaving unless renamed
    away first (a build renames its folder into place when it is complete).

    The lock is taken before the folder exists and dropped after it is renamed or removed,
    so a .tmp-* folder whose lock is free (or gone) belongs to a run that was killed.
    """
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f"{TMP_PREFIX}{name}"
    lock_path = _lock_path(tmp)
    lock = lock_path.open("w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        tmp.mkdir()
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        lock_path.unlink(missing_ok=True)
        lock.close()


def mapped_array(folder: Path, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """A float32 ``.npy`` file of ``shape`` in ``folder``, memory-mapped for writing: a
    build fills it a round at a time, and ``write_index`` links it into the build."""
    return np.lib.format.open_memmap(folder / name, mode="w+", dtype=np.float32, shape=shape)


def _write_segment(
    folder: Path,
    rel: str,
    segment_id: str,
    part: NewSegment,
    texts: Mapping[str, CleanText],
    words: Mapping[str, WordBoxes] | None,
) -> dict[str, Any]:
    """Write one segment's files into ``folder``; its manifest entry."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / TEXTS).mkdir()
    ids = part.document_ids
    # Passages and texts as columns a server maps instead of parsing (indexer/columns.py).
    TextStore.write(folder / TEXTS, texts, ids)
    for doc_id in ids:
        boxes = words.get(doc_id) if words is not None else None
        if boxes is not None:
            boxes.save(folder / TEXTS / f"{doc_id}.words.npz")
    ChunkTable.write(folder / CHUNKS, part.chunks, ids)
    # The vectors themselves, memory-mapped at load: scoring reads the rows it needs,
    # and an index that stores them compressed (SQ8) or not at all still has them exact.
    _save_array(folder / "vectors.npy", part.vectors, np.float32)
    index = _vector_index(part, "passages", part.vectors)
    checksums.write_faiss(index, folder / "dense.faiss")
    if part.word_table is not None:
        part.word_table.save(folder / WORDS_FOLDER)
    n_sentences = 0
    if part.sentences is not None:
        sent = part.sentences
        n_sentences = len(sent.rows)
        _save_array(folder / "sentence_rows.npy", sent.rows, np.int32)
        _save_array(folder / "sentence_spans.npy", np.reshape(sent.spans, (-1, 2)), np.int32)
        _save_array(folder / "sentence_vectors.npy", sent.vectors, np.float32)
        s_index = _vector_index(part, "sentences", sent.vectors)
        checksums.write_faiss(s_index, folder / "sentences.faiss")
    return {
        "id": segment_id,
        "path": rel,
        "documents": list(ids),
        "deleted": [],
        "n_passages": len(part.chunks),
        "n_sentences": n_sentences,
        "vectors": part.specs,
    }


def _vector_index(part: NewSegment, name: str, vectors: np.ndarray) -> Any:
    """The FAISS index of ``name`` ("passages", "sentences"): the one built beside the
    build if it was started, else built now."""
    started = part.building.get(name)
    return started.result() if started is not None else ann.build(vectors, part.specs[name])


def segment_files(rel: str, files: Mapping[str, Any]) -> list[str]:
    """The files of the segment at ``rel`` among a manifest's ``files``."""
    if rel == BASE:
        return [f for f in files if f.split("/", 1)[0] in PARTS]
    return [f for f in files if f.startswith(f"{rel}/")]


def _link_segment(source: Path, target: Path, rel: str, files: Mapping[str, Any]) -> dict:
    """Hard-link a segment's files from the previous build: no bytes copied, none hashed
    again (a segment is immutable: its checksums are carried over)."""
    return _link_files(source, target, segment_files(rel, files), files)


def _link_files(source: Path, target: Path, names: Sequence[str], files: Mapping[str, Any]) -> dict:
    """Hard-link ``names`` from ``source`` into ``target``, their checksums carried over."""
    carried = {}
    for f in names:
        dst = target / f
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source / f, dst)
        except OSError:  # a file system without hard links: copy
            shutil.copy2(source / f, dst)
        carried[f] = files[f]
    return carried


def _build_files(build: Path) -> list[str]:
    """Every file of a build but its manifest, as posix paths relative to the build."""
    return sorted(
        p.relative_to(build).as_posix()
        for p in build.rglob("*")
        if p.is_file() and p.name != MANIFEST
    )


def _file_sum(path: Path, written: bool = False) -> dict[str, Any]:
    """Size and SHA-256 of ``path``; with ``written``, the digest taken while this build
    wrote the file when there is one (indexer/checksums.py), else the file read whole."""
    digest = checksums.remembered(path) if written else None
    if digest is None:
        with path.open("rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
    checksums.forget(path)  # in the manifest from now on
    size = path.stat().st_size
    out: dict[str, Any] = {"size": size, "sha256": digest}
    if size > SAMPLED_ABOVE:
        out["sample_sha256"] = _sample_sum(path, size)
    return out


# Reading every byte of a large build at each start costs more than the start itself (about
# 20 GB of vectors at a million passages): files above this size are verified at load by
# their size and a hash of sampled blocks; `beleidszoeker check` reads them whole.
SAMPLED_ABOVE = 64 * 1024 * 1024
_SAMPLES, _SAMPLE_BYTES = 64, 64 * 1024


def _sample_sum(path: Path, size: int) -> str:
    """SHA-256 of ``_SAMPLES`` evenly spaced blocks, the first and the last included."""
    digest = hashlib.sha256(str(size).encode())
    last = max(size - _SAMPLE_BYTES, 0)
    with path.open("rb") as f:
        for i in range(_SAMPLES):
            f.seek(last * i // (_SAMPLES - 1))
            digest.update(f.read(_SAMPLE_BYTES))
    return digest.hexdigest()


def _manifest_sum(manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _sealed(manifest: dict[str, Any]) -> dict[str, Any]:
    return {**manifest, "checksum": _manifest_sum(manifest)}


def verify_build(
    build: Path,
    full: bool = False,
    by_size: Collection[str] = (),
    only: Collection[str] | None = None,
) -> list[str]:
    """What is wrong with the files of a build (empty when every checksum matches).

    Large files are checked by size and sampled blocks unless ``full`` (see SAMPLED_ABOVE).
    Files in ``by_size`` are checked by their size alone; with ``only``, only those files.
    """
    manifest = read_manifest(build)
    if manifest is None:
        return [f"{MANIFEST} is missing or unreadable"]
    if manifest.get("checksum") != _manifest_sum(manifest):
        return [f"{MANIFEST} does not match its checksum"]
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        return [f"{MANIFEST} lists no file checksums (written by an older Beleidszoeker)"]
    problems = []
    by_size, only = set(by_size), None if only is None else set(only)
    for rel, expected in files.items():
        if only is not None and rel not in only:
            continue
        path = build / rel
        try:
            size = path.stat().st_size
            if size != expected.get("size"):
                problems.append(f"{rel} has the wrong size")
            elif rel in by_size:
                continue
            elif not full and "sample_sha256" in expected:
                if _sample_sum(path, size) != expected["sample_sha256"]:
                    problems.append(f"{rel} does not match its checksum")
            elif _file_sum(path)["sha256"] != expected.get("sha256"):
                problems.append(f"{rel} does not match its checksum")
        except OSError:
            problems.append(f"{rel} is missing")
    return problems


# What a publish that keeps a segment never reads of it, only links into the new build: the
# texts, the vectors and their FAISS indexes (it reads the passages' columns, the sentence
# places and the words). Loaded for a publish, these are checked by size alone.
LINKED_ONLY = (TEXTS, "vectors.npy", "dense.faiss", "sentence_vectors.npy", "sentences.faiss")


def linked_only_files(manifest: Mapping[str, Any]) -> list[str]:
    """The files of a build's segments (as its manifest lists them) in ``LINKED_ONLY``."""
    files = manifest.get("files") or {}
    entries = manifest.get("segments") or [{"path": BASE}]
    out = []
    for entry in entries:
        prefix = "" if entry["path"] == BASE else f"{entry['path']}/"
        out += [
            f
            for f in segment_files(entry["path"], files)
            if f[len(prefix) :].split("/", 1)[0] in LINKED_ONLY
        ]
    return out


def finished_builds(index_dir: Path) -> list[Path]:
    """Every finished build of ``index_dir``, newest first (by the time it was written)."""
    root = builds_dir(index_dir)
    if not root.is_dir():
        return []
    builds = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return sorted(builds, key=_written_at, reverse=True)


def _written_at(build: Path) -> float:
    try:
        return (build / MANIFEST).stat().st_mtime
    except OSError:
        return build.stat().st_mtime


def _point_link(index_dir: Path, target: Path) -> None:
    if index_dir.exists() and not index_dir.is_symlink():
        # An index directory from elsewhere: keep it as an older build, then link.
        index_dir.rename(builds_dir(index_dir) / f"moved-{int(time.time())}")
    link_tmp = index_dir.parent / f".{index_dir.name}.link-{uuid.uuid4().hex[:6]}"
    os.symlink(os.path.relpath(target, index_dir.parent), link_tmp)
    os.replace(link_tmp, index_dir)  # atomic: readers see the old build or the new one


def _live_target_names(index_dir: Path) -> set[str]:
    return {index_dir.resolve().name} if index_dir.exists() else set()


def _prune(root: Path, keep: set[str], keep_previous: int = 1, checked: str | None = None) -> None:
    """Remove old builds, keeping the newest good previous one, for requests still reading
    it and for a server to fall back to should the new build be damaged later.

    A ``.tmp-*`` folder still locked is another build being written: never touched. One
    whose writer died (killed mid-build) holds no lock and is removed. So are damaged builds.
    ``checked`` names a build this run has just verified: it counts as good unread.
    """
    remove_abandoned(root)
    builds = sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    kept = 0
    for p in builds:
        if p.name in keep:
            continue
        if kept < keep_previous and (p.name == checked or not verify_build(p)):
            kept += 1
            continue
        shutil.rmtree(p, ignore_errors=True)


def _lock_path(tmp: Path) -> Path:
    return tmp.with_name(f"{tmp.name}.lock")


def unfinished_builds(root: Path) -> list[Path]:
    """The ``.tmp-*`` folders of builds being written or abandoned."""
    if not root.is_dir():
        return []
    return [p for p in root.glob(f"{TMP_PREFIX}*") if p.is_dir()]


def remove_abandoned(root: Path) -> None:
    """Remove the folders of builds whose writer was killed half-way."""
    for tmp in unfinished_builds(root):
        if abandoned(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
            _lock_path(tmp).unlink(missing_ok=True)
    for lock in root.glob(f"{TMP_PREFIX}*.lock") if root.is_dir() else ():
        # A run killed between renaming its build and removing its lock: old and free.
        folder = lock.with_name(lock.name.removesuffix(".lock"))
        if not folder.exists() and time.time() - lock.stat().st_mtime > 60 and abandoned(folder):
            lock.unlink(missing_ok=True)


def abandoned(tmp: Path) -> bool:
    """Whether no process is writing the build in ``tmp`` any more."""
    try:
        with _lock_path(tmp).open("r") as f:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(f, fcntl.LOCK_UN)
            return True
    except BlockingIOError:
        return False
    except FileNotFoundError:
        return True  # the writer drops its lock only after renaming the folder


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


def load_index(index_dir: Path, embedder_spec: str, *, for_publish: bool = False) -> IndexData:
    """Load a complete, undamaged index, or explain what to run.

    ``for_publish``: what the next build needs of it, no more. The files it only links
    (``LINKED_ONLY``) are checked by size, not read, and no FAISS index is read (the
    segments have ``dense`` None); ``verify_build(only=linked_only_files(...))`` checks
    them before anything else is made of them (a server's load checks everything).
    """
    if not index_dir.exists() and not index_dir.is_symlink():
        raise IndexMissingError(index_dir)
    path = index_dir.resolve()  # pin this build even if the link moves while we read
    manifest = read_manifest(path)
    if manifest is None and not path.is_dir():
        raise IndexMissingError(index_dir)
    if manifest is not None:
        check_compatible(manifest, embedder_spec, index_dir)
    linked = linked_only_files(manifest) if for_publish and manifest is not None else ()
    problems = verify_build(path, by_size=linked)
    if problems:
        raise IndexDamagedError(index_dir, path.name, problems)
    return _load_build(path, manifest, index_dir, ann_indexes=not for_publish)


def _load_build(
    path: Path, manifest: dict[str, Any], index_dir: Path, ann_indexes: bool = True
) -> IndexData:
    try:
        docs = _DOCUMENTS.validate_json((path / "documents.json").read_bytes())
        entries = manifest.get("segments") or [
            {"id": manifest.get("build_id"), "path": BASE, "deleted": [],
             "documents": [d.id for d in docs], "vectors": vector_specs(manifest)}
        ]  # fmt: skip
        segments = [_load_segment(path, e, ann_indexes) for e in entries]
        parts = [path / p for p in manifest.get(PARTS_KEY) or []]
        keyword = KeywordIndex.load(path / "keyword", [p / "keyword" for p in parts])
        terms = None
        if (path / TERMS_FOLDER).is_dir():
            terms = ChainedTerms.load_parts(path / TERMS_FOLDER, [p / TERMS_FOLDER for p in parts])
        if len(segments) == 1 and not segments[0].deleted:
            # One segment, nothing masked: its arrays are the index's, row for row.
            base = segments[0]
            layout, chunks, vectors, dense = None, base.chunks, base.vectors, base.dense
            sentences = SentenceVectors(
                base.sentence_rows, base.sentence_spans, base.sentence_vectors,
                base.sentence_dense,
            )  # fmt: skip
            texts: Mapping[str, CleanText] = base.texts
        else:
            layout = Layout(segments)
            # FAISS-like views for code that searches ``dense`` itself (benchmarks).
            chunks, vectors = SegmentChunks(layout), SegmentArray(layout)
            dense = MergedIndex(layout)
            rows, spans = layout.sentence_places()
            sentences = SentenceVectors(
                rows, spans, SegmentArray(layout, sentences=True), MergedIndex(layout, True)
            )
            texts = SegmentTexts(segments)
    except Exception as exc:  # checksums matched, so the files were written wrong
        raise IndexMismatchError(
            f"The index in {index_dir} cannot be read ({type(exc).__name__}: {exc}): run "
            "`beleidszoeker index --force` to rebuild it."
        ) from exc
    return IndexData(
        manifest=manifest,
        documents={d.id: d for d in docs},
        chunks=chunks,
        vectors=vectors,
        keyword=keyword,
        sentences=sentences,
        terms=terms,
        path=path,
        dense=dense,
        _texts=texts,
        segments=segments,
        layout=layout,
    )


def _load_segment(path: Path, entry: dict[str, Any], ann_indexes: bool = True) -> Segment:
    """One segment of a build, mapped: nothing is read until a row is asked for."""
    import faiss

    folder = path if entry["path"] == BASE else path / entry["path"]
    ids = entry["documents"]
    recorded = entry.get("vectors") or {}
    specs = {p: recorded.get(p) or {"factory": ann.FLAT} for p in ("passages", "sentences")}
    dense = faiss.read_index(str(folder / "dense.faiss")) if ann_indexes else None
    if dense is not None:
        ann.prepare(dense, specs["passages"])
    # The vectors are read a few thousand scattered rows per question (the refine step,
    # the features) out of files of gigabytes: read by position, not mapped, so the
    # page-cache folios around those rows do not become the server's resident memory.
    vectors = RowFile(folder / "vectors.npy")
    if (folder / "sentence_rows.npy").exists():
        # Mapped: code across the project computes on them as arrays; 37 MB of rows (read
        # by every sentence search) and 75 MB of spans (read by the promise register) at 1M.
        rows, spans = mapped(folder / "sentence_rows.npy"), mapped(folder / "sentence_spans.npy")
        s_vectors = RowFile(folder / "sentence_vectors.npy")
        s_index = faiss.read_index(str(folder / "sentences.faiss")) if ann_indexes else None
        if s_index is not None:
            ann.prepare(s_index, specs["sentences"])
    else:
        rows, spans = np.zeros(0, np.int32), np.zeros((0, 2), np.int32)
        s_vectors, s_index = np.zeros((0, vectors.shape[1]), np.float32), None
    # Mapped or opened now, read on use: a mapping and an open file outlive their file,
    # so a build pruned while a server still holds it stays readable (checksums were
    # verified above).
    return Segment(
        entry=entry,
        chunks=ChunkTable(folder / CHUNKS, ids),
        vectors=vectors,
        sentence_rows=rows,
        sentence_spans=spans,
        sentence_vectors=s_vectors,
        dense=dense,
        sentence_dense=s_index,
        texts=TextStore(folder / TEXTS, ids),
        folder=folder,
        word_table=_word_table(folder),
    )


def _word_table(folder: Path) -> WordTable | None:
    """A segment's words, mapped; None in a build written before segments stored them."""
    return WordTable.load(folder / WORDS_FOLDER) if (folder / WORDS_FOLDER).is_dir() else None


def _save_array(path: Path, array: np.ndarray, dtype: type) -> None:
    """A plain ``.npy`` file (no pickle), so it can be memory-mapped when loaded.

    An array already in such a file (``mapped_array``) is linked, not copied: no second
    copy of gigabytes of vectors passes through memory.
    """
    if isinstance(array, np.memmap) and array.filename and array.dtype == dtype:
        array.flush()
        if _whole_npy(array):
            try:
                os.link(array.filename, path)
                return
            except OSError:  # another file system: copied below
                pass
    checksums.save_npy(path, np.ascontiguousarray(array, dtype=dtype))


def _whole_npy(array: np.memmap) -> bool:
    """Whether ``array`` is the whole of the ``.npy`` file it maps (not a slice of it)."""
    try:
        on_disk = load_npy(array.filename, "r")
    except (OSError, ValueError):
        return False
    return on_disk.shape == array.shape and on_disk.dtype == array.dtype and array.offset == (
        on_disk.offset)  # fmt: skip
