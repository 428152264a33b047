"""Passages and cleaned texts stored as columns, read on demand when a build is loaded.

A server used to parse every passage into a ``Chunk`` and read every cleaned text at start:
seconds and gigabytes at a million passages. Here a build stores them as arrays and UTF-8
blobs with offsets; a loaded index maps the arrays, reads the strings by position and
builds a ``Chunk`` (or a ``CleanText``) only when a row is read. ``ChunkTable`` is a
sequence of ``Chunk``, so search code reads ``index.chunks[row]`` as before.

In a build::

    chunks/columns.npy    int64 (n, 8): document, section, char_start, char_end,
                          source_start, source_end, page, page_end (-1: no page)
    chunks/{text,ids,sections}.bin + .npy   UTF-8 strings one after the other + offsets
    texts/clean.bin + clean.npy             each document's cleaned text, in document order
    texts/runs_*.npy, lengths.npy           their offset maps (``OffsetRuns``) concatenated
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

import numpy as np

from indexer.checksums import hashed_open, save_npy
from indexer.cleaning import CleanText
from indexer.offsets import OffsetRuns
from indexer.rows import ByteFile, RowFile, mapped
from indexer.schema import Chunk

CHUNKS = "chunks"
TEXTS = "texts"
_COLUMNS = (
    "document",
    "section",
    "char_start",
    "char_end",
    "source_start",
    "source_end",
    "page",
    "page_end",
)
_NO_PAGE = -1
_BLOCK = 4096  # rows read at once by a full pass over the passages


class Strings(Sequence[str]):
    """UTF-8 strings one after the other in ``<name>.bin``, their byte offsets in
    ``<name>.npy``: the strings read by position, the offsets memory-mapped."""

    def __init__(self, blob: bytes | ByteFile, offsets: np.ndarray) -> None:
        self._blob = blob  # a slice is bytes: one pread per string
        self._offsets = offsets

    @staticmethod
    def write(directory: Path, name: str, strings: Iterable[str]) -> None:
        offsets = [0]
        with hashed_open(directory / f"{name}.bin") as f:
            for s in strings:
                raw = s.encode("utf-8")
                f.write(raw)
                offsets.append(offsets[-1] + len(raw))
        save_npy(directory / f"{name}.npy", np.asarray(offsets, np.int64))

    @classmethod
    def load(cls, directory: Path, name: str) -> Strings:
        # The blob read by position, not mapped: a mapped string brings the page-cache folio
        # around it into the server's resident memory (gigabytes of text at 1M passages).
        # The offsets, 8 bytes a string, stay mapped.
        return cls(ByteFile(directory / f"{name}.bin"), mapped(directory / f"{name}.npy"))

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            if step == 1:
                return self.block(start, max(start, stop))
            return [self[j] for j in range(start, stop, step)]
        a, b = self._offsets[i : i + 2].tolist()
        return self._blob[a:b].decode("utf-8")

    def block(self, start: int, stop: int) -> list[str]:
        """Strings ``start`` to ``stop`` from one read of their bytes."""
        offsets = self._offsets[start : stop + 1].tolist()
        if len(offsets) < 2:
            return []
        raw, base = self._blob[offsets[0] : offsets[-1]], offsets[0]
        return [raw[a - base : b - base].decode("utf-8") for a, b in pairwise(offsets)]


class ChunkTable(Sequence[Chunk]):
    """The passages of a loaded build: a ``Chunk`` is made when its row is read."""

    def __init__(self, directory: Path, document_ids: Sequence[str]) -> None:
        # A row read by position (69 MB at a million passages, read a few hundred
        # scattered rows per question); the whole-column uses below read it once.
        self._columns = RowFile(directory / "columns.npy")
        self._texts = Strings.load(directory, "text")
        self._ids = Strings.load(directory, "ids")
        sections = Strings.load(directory, "sections")
        self._sections = [sections[i] for i in range(len(sections))]  # few: one per section
        self._document_ids = list(document_ids)
        if len(self._columns) != len(self._texts) or len(self._ids) != len(self._texts):
            raise ValueError("the passage columns do not have the same length")
        # Rows read again and again while answering one question stay made.
        self._chunk = lru_cache(maxsize=4096)(self._make)

    @staticmethod
    def write(directory: Path, chunks: Sequence[Chunk], document_ids: Sequence[str]) -> None:
        directory.mkdir()
        doc_of = {d: i for i, d in enumerate(document_ids)}
        section_of: dict[str, int] = {}
        columns = np.empty((len(chunks), len(_COLUMNS)), np.int64)
        for row, c in enumerate(chunks):
            section = section_of.setdefault(c.section, len(section_of))
            columns[row] = (
                doc_of[c.document_id],
                section,
                c.char_start,
                c.char_end,
                c.source_start,
                c.source_end,
                _NO_PAGE if c.page is None else c.page,
                _NO_PAGE if c.page_end is None else c.page_end,
            )
        save_npy(directory / "columns.npy", columns)
        Strings.write(directory, "text", (c.text for c in chunks))
        Strings.write(directory, "ids", (c.id for c in chunks))
        Strings.write(directory, "sections", section_of)

    def __len__(self) -> int:
        return len(self._columns)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self._chunk(j) for j in range(*i.indices(len(self)))]
        i = int(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._chunk(i)

    def __iter__(self) -> Iterator[Chunk]:
        # A full pass (a build, an add) reads blocks of rows: three reads a block, not
        # three a row; and it bypasses the cache, which it would only flush.
        for a in range(0, len(self), _BLOCK):
            yield from self._block(a, min(a + _BLOCK, len(self)))

    def text_block(self, a: int, b: int) -> tuple[list[str], list[str]]:
        """The section titles and texts of rows ``a`` to ``b`` (no ``Chunk`` made: a
        build's look-ups read them for every passage and sentence)."""
        sections = self._columns[a:b][:, 1].tolist()
        return [self._sections[s] for s in sections], self._texts.block(a, b)

    def _block(self, a: int, b: int) -> Iterator[Chunk]:
        """Rows ``a`` to ``b``, made from one read of each column."""
        columns = self._columns[a:b].tolist()
        texts, ids = self._texts.block(a, b), self._ids.block(a, b)
        for values, id_, text in zip(columns, ids, texts, strict=True):
            yield self._chunk_of(values, id_, text)

    def _make(self, i: int) -> Chunk:
        return self._chunk_of(self._columns[i].tolist(), self._ids[i], self._texts[i])

    def _chunk_of(self, values: list[int], id_: str, text: str) -> Chunk:
        doc, section, cs, ce, ss, se, page, page_end = values
        return Chunk.model_construct(
            id=id_,
            document_id=self._document_ids[doc],
            section=self._sections[section],
            text=text,
            char_start=cs,
            char_end=ce,
            source_start=ss,
            source_end=se,
            page=None if page == _NO_PAGE else page,
            page_end=None if page_end == _NO_PAGE else page_end,
        )

    def document_rows(self) -> dict[str, np.ndarray]:
        """The rows of each document's passages, in order."""
        docs = np.asarray(self._columns)[:, 0]
        order = np.argsort(docs, kind="stable")
        cuts = np.flatnonzero(np.diff(docs[order])) + 1
        return {
            self._document_ids[int(docs[part[0]])]: part.astype(np.int64)
            for part in np.split(order, cuts)
            if len(part)
        }

    def spans(self) -> tuple[np.ndarray, np.ndarray]:
        """``char_start`` and ``char_end`` of every row."""
        columns = np.asarray(self._columns)
        return columns[:, 2].copy(), columns[:, 3].copy()


class TextStore(Mapping[str, CleanText]):
    """The cleaned texts of a loaded build by document id, read from one mapped file."""

    def __init__(self, directory: Path, document_ids: Sequence[str]) -> None:
        self._texts = Strings.load(directory, "clean")
        self._starts = mapped(directory / "runs_starts.npy")
        self._values = mapped(directory / "runs_values.npy")
        self._bounds = mapped(directory / "runs_bounds.npy")
        self._lengths = mapped(directory / "lengths.npy")
        self._row = {d: i for i, d in enumerate(document_ids)}
        if len(self._texts) != len(self._row) or len(self._lengths) != len(self._row):
            raise ValueError("the cleaned texts do not match the documents")
        self._text = lru_cache(maxsize=16)(self._read)

    @staticmethod
    def write(directory: Path, texts: Mapping[str, CleanText], document_ids: Sequence[str]):
        Strings.write(directory, "clean", (texts[d].text for d in document_ids))
        runs = []
        for d in document_ids:
            offsets = texts[d].offsets
            runs.append(
                offsets if isinstance(offsets, OffsetRuns) else OffsetRuns.from_array(offsets)
            )
        bounds = np.cumsum([0, *(len(r.starts) for r in runs)]).astype(np.int64)
        arrays = {
            "runs_starts": _concat([r.starts for r in runs]),
            "runs_values": _concat([r.values for r in runs]),
            "runs_bounds": bounds,
            "lengths": np.asarray([r.length for r in runs], np.int64),
        }
        for name, array in arrays.items():
            save_npy(directory / f"{name}.npy", array)

    def __getitem__(self, document_id: str) -> CleanText:
        if document_id not in self._row:
            raise KeyError(document_id)
        return self._text(self._row[document_id])

    def _read(self, i: int) -> CleanText:
        a, b = int(self._bounds[i]), int(self._bounds[i + 1])
        runs = OffsetRuns(self._starts[a:b], self._values[a:b], int(self._lengths[i]))
        return CleanText(self._texts[i], runs)

    def __contains__(self, document_id: object) -> bool:
        return document_id in self._row

    def __iter__(self) -> Iterator[str]:
        return iter(self._row)

    def __len__(self) -> int:
        return len(self._row)


def _concat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


def sections_and_texts(chunks: Sequence[Chunk], start: int, stop: int) -> tuple[list, list]:
    """Section titles and texts of passages ``start`` to ``stop``: from a spilled build's
    table as two columns, without making each ``Chunk`` (a build reads them for every
    passage several times: millions of objects at a million passages)."""
    if isinstance(chunks, ChunkTable):
        return chunks.text_block(start, stop)
    part = chunks[start:stop]
    return [c.section for c in part], [c.text for c in part]
