"""The key words of every sentence, passage and section, as arrays written at index time.

Answers weigh sentences by the question's words they hold, their neighbours' and their
passage's context (section name, document title). Built at start-up as Python sets and
dicts per sentence this took minutes and gigabytes at millions of sentences; here it is
computed once while indexing and stored as compressed-sparse-row arrays of term ids, which
a server reads only for the passages a question touches. The lists of term ids (an entry
per occurrence: gigabytes at a million passages) are read by position
(``indexer.rows.RowFile``), so the page-cache folios around what a question reads do not
become the server's memory. The rest is memory-mapped: the vocabulary (searched by
bisection), the arrays with an entry per passage or per term, and the four with an entry
per sentence (starts, ends, vector rows, where a sentence's terms start). Those four are
188 MB at a million passages, all of it the server's at worst, but a question reads them
for thousands of sentences: read by position they cost five system calls a passage, a
tenth of a search's time.

    vocabulary.npy           the term of each id, sorted (fixed-width unicode: bisectable)
    first.npy                int64 (n_passages + 1): passage p holds sentences first[p]:first[p+1]
    starts.npy, ends.npy     int32 (n_sentences): a sentence's offsets in its passage text
    vector_rows.npy          int32 (n_sentences): its row in the index's sentence vectors
    sentence_terms.{ptr,ids}.npy   the term ids of each sentence
    postings.{ptr,ids}.npy         the sentences of each term (ids ascending)
    context_terms.{ptr,ids}.npy    per passage: its section leaf and document title
    passage_terms.{ptr,ids}.npy    per passage: its context and every sentence's terms
    section_terms.of.npy           int32 per passage: its section (numbered by first passage)
    section_terms.{ptr,ids}.npy    per section: every term of every passage in it
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.checksums import save_npy
from indexer.keyword import Decompounder, terms
from indexer.rows import RowFile, mapped
from indexer.schema import Chunk, Document
from indexer.sections import SEPARATOR as SECTION_SEPARATOR
from indexer.sentences import split_sentences

FOLDER = "sentence_terms"
_ARRAYS = ("vocabulary", "first", "starts", "ends", "vector_rows")
_LISTS = ("sentence_terms", "postings", "context_terms", "passage_terms")


@dataclass
class Csr:
    """Lists of integers as one flat array and where each list starts."""

    ptr: np.ndarray | RowFile  # int64 (n + 1,)
    ids: np.ndarray | RowFile  # int32

    def __len__(self) -> int:
        return len(self.ptr) - 1

    def __getitem__(self, i: int) -> np.ndarray:
        a, b = self.ptr[i : i + 2].tolist()  # one read when ``ptr`` is a RowFile
        return self.ids[a:b]

    def size(self, i: int) -> int:
        """How long list ``i`` is, without reading it (a common word's postings are
        megabytes at a million passages, read by position)."""
        a, b = self.ptr[i : i + 2].tolist()
        return b - a

    @classmethod
    def of(cls, lists: Sequence[Iterable[int]]) -> Csr:
        arrays = [np.unique(np.fromiter(x, np.int64)) for x in lists]
        ptr = np.zeros(len(arrays) + 1, np.int64)
        ptr[1:] = np.cumsum([len(a) for a in arrays])
        ids = np.concatenate(arrays).astype(np.int32) if arrays else np.zeros(0, np.int32)
        return cls(ptr, ids)

    def arrays(self, name: str) -> dict[str, np.ndarray]:
        """The arrays it is stored as, by file name (without ``.npy``)."""
        return {f"{name}.ptr": self.ptr, f"{name}.ids": self.ids}

    def save(self, directory: Path, name: str) -> None:
        _save(directory, self.arrays(name))

    @classmethod
    def load(cls, directory: Path, name: str) -> Csr:
        """Both arrays memory-mapped (what a publish reads whole)."""
        return cls(mapped(directory / f"{name}.ptr.npy"), mapped(directory / f"{name}.ids.npy"))

    @classmethod
    def read_by_position(cls, directory: Path, name: str) -> Csr:
        """The ids read by position, ``ptr`` mapped: what a server reads a few lists of
        per question."""
        return cls(mapped(directory / f"{name}.ptr.npy"), RowFile(directory / f"{name}.ids.npy"))


@dataclass
class Shared:
    """Lists that whole runs of rows share, stored once: row ``i``'s list is
    ``lists[of[i]]``. A section's key words are every passage's in it, the same for each of
    its passages: stored per passage they were 2.1 of the 3.6 GB of key words at a million
    passages, written again at every publish."""

    of: np.ndarray  # int32 per row: its list
    lists: Csr  # the distinct lists, numbered in the order of the first row that uses each

    def __len__(self) -> int:
        return len(self.of)

    def __getitem__(self, i: int) -> np.ndarray:
        return self.lists[int(self.of[i])]

    def arrays(self, name: str) -> dict[str, np.ndarray]:
        return {f"{name}.of": self.of, **self.lists.arrays(name)}

    @classmethod
    def load(cls, directory: Path, name: str) -> Shared:
        lists = Csr.read_by_position(directory, name)
        return cls(mapped(directory / f"{name}.of.npy"), lists)

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], name: str) -> Shared:
        return cls(arrays[f"{name}.of"], Csr(arrays[f"{name}.ptr"], arrays[f"{name}.ids"]))


def _save(directory: Path, arrays: dict[str, np.ndarray]) -> None:
    for name, array in arrays.items():
        save_array(directory / f"{name}.npy", array)


def save_array(path: Path, array: np.ndarray | Spliced) -> None:
    """A plain ``.npy`` file (no pickle), so it can be memory-mapped when loaded."""
    if isinstance(array, Spliced):
        array.save(path)
    else:
        save_npy(path, array)


class Spliced:
    """A 1-d array memory-mapped from a ``.npy`` file with entries put in before positions
    ``at`` (as ``np.insert``), to be saved, never held: its file is written by copying the
    source file's bytes within the kernel around the new entries.

    An add leaves most of the sentence key words as they were, with one segment's entries
    added: gigabytes at a million passages that were read into memory, copied with the
    new entries and written again (``indexer/word_patch.py``).
    """

    def __init__(self, source: np.ndarray | RowFile, at: np.ndarray, values: np.ndarray) -> None:
        found = _mapped_file(source)
        if found is None:
            raise ValueError("not an array mapped from a whole .npy file")
        # Opened now, as its mapping was: the previous build may be pruned before the save.
        self._source = open(found[0], "rb")  # noqa: SIM115 (closed by save, else collected)
        self.offset = found[1]
        self.dtype = source.dtype
        self._n_source = len(source)
        order = np.argsort(np.asarray(at, np.int64), kind="stable")  # as np.insert orders
        self.at = np.asarray(at, np.int64)[order]
        self.values = np.asarray(values).astype(self.dtype, copy=False)[order]

    @classmethod
    def of(cls, source: np.ndarray, at: np.ndarray, values: np.ndarray) -> np.ndarray | Spliced:
        """Spliced when ``source`` maps a whole ``.npy`` file, else ``np.insert``."""
        if _mapped_file(source) is None:
            return np.insert(source, at, np.asarray(values).astype(source.dtype, copy=False))
        return cls(source, at, values)

    def __len__(self) -> int:
        return self._n_source + len(self.values)

    @property
    def shape(self) -> tuple[int]:
        return (len(self),)

    def save(self, path: Path) -> None:
        header = {
            "descr": np.lib.format.dtype_to_descr(self.dtype),
            "fortran_order": False,
            "shape": self.shape,
        }
        size = self.dtype.itemsize
        groups = np.flatnonzero(np.r_[True, self.at[1:] != self.at[:-1]]) if len(self.at) else []
        bounds = [*groups, len(self.at)]
        with self._source as src, open(path, "wb", buffering=0) as dst:
            np.lib.format.write_array_header_1_0(dst, header)
            done = 0  # entries of the source written
            for a, b in zip(bounds[:-1], bounds[1:], strict=False):
                cut = int(self.at[a])
                _copy(src.fileno(), dst, self.offset + done * size, (cut - done) * size)
                dst.write(self.values[a:b].tobytes())
                done = cut
            _copy(src.fileno(), dst, self.offset + done * size, (self._n_source - done) * size)


def _mapped_file(array: np.ndarray) -> tuple[str, int] | None:
    """The ``.npy`` file ``array`` maps (or reads by position) whole and where its data
    starts, or None."""
    if isinstance(array, RowFile):
        return (str(array.path), array.data_offset) if array.ndim == 1 else None
    base = array
    while base is not None and not isinstance(base, np.memmap):
        base = base.base
    if base is None or not base.filename or array.ndim != 1 or base.shape != array.shape:
        return None
    if array.dtype != base.dtype or array.ctypes.data != base.ctypes.data:
        return None
    return base.filename, int(base.offset)


def _copy(src: int, dst, offset: int, count: int) -> None:
    """``count`` bytes of ``src`` from ``offset`` appended to ``dst`` (in the kernel)."""
    while count > 0:
        try:
            n = os.copy_file_range(src, dst.fileno(), count, offset)
        except OSError:  # a file system or kernel without it: through memory
            n = dst.write(os.pread(src, min(count, 1 << 24), offset))
        if not n:
            raise OSError(f"{count} bytes short of a file being copied")
        offset += n
        count -= n


def position(ordered: np.ndarray, value: str) -> int | None:
    """Where ``value`` stands in the ascending ``ordered`` (bisection), None if absent."""
    i = int(np.searchsorted(ordered, value))
    return i if i < len(ordered) and ordered[i] == value else None


@dataclass
class SentenceTerms:
    """Every sentence of the index with its key words, as arrays (see the module doc)."""

    vocabulary: np.ndarray  # str, sorted
    first: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    vector_rows: np.ndarray
    sentence_terms: Csr
    postings: Csr
    context_terms: Csr
    passage_terms: Csr
    section_terms: Shared

    def term_id(self, term: str) -> int | None:
        """The id of a key word (bisection of the sorted vocabulary), None if unknown."""
        return position(self.vocabulary, term)

    def words(self, ids: np.ndarray) -> list[str]:
        """The key words of these term ids, in one gather."""
        return self.vocabulary[np.asarray(ids, np.int64)].tolist()

    @property
    def n_terms(self) -> int:
        return len(self.vocabulary)

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array it is stored as, by file name (without ``.npy``)."""
        out = {n: getattr(self, n) for n in _ARRAYS}
        for name in (*_LISTS, "section_terms"):
            out.update(getattr(self, name).arrays(name))
        return out

    def save(self, directory: Path) -> None:
        directory.mkdir()
        _save(directory, self.arrays())

    @classmethod
    def load(cls, directory: Path) -> SentenceTerms:
        """Nothing read at load: the lists' ids by position, the rest mapped."""
        arrays = [mapped(directory / f"{name}.npy") for name in _ARRAYS]
        lists = {n: Csr.read_by_position(directory, n) for n in _LISTS}
        return cls(*arrays, **lists, section_terms=Shared.load(directory, "section_terms"))

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> SentenceTerms:
        """From ``arrays()``'s output (a database keeps the files by name)."""
        lists = {n: Csr(arrays[f"{n}.ptr"], arrays[f"{n}.ids"]) for n in _LISTS}
        return cls(
            arrays["vocabulary"], arrays["first"], arrays["starts"], arrays["ends"],
            arrays["vector_rows"], **lists,
            section_terms=Shared.from_arrays(arrays, "section_terms"),
        )  # fmt: skip


def build_sentence_terms(
    chunks: list[Chunk],
    documents: dict[str, Document],
    decompounder: Decompounder | None,
    rows: np.ndarray | None = None,
    spans: np.ndarray | None = None,
) -> SentenceTerms:
    """The key words of every sentence of ``chunks`` (the stored sentences when ``rows`` and
    ``spans`` are given: then each sentence knows its vector row)."""
    spans_of = _spans(chunks, rows, spans)
    term_id: dict[str, int] = {}
    sentence_lists: list[list[int]] = []
    starts: list[int] = []
    ends: list[int] = []
    vector_rows: list[int] = []
    first = [0]
    context_lists: list[set[int]] = []
    passage_lists: list[set[int]] = []
    titles: dict[str, set[int]] = {}

    def ids(text: str) -> set[int]:
        return {term_id.setdefault(t, len(term_id)) for t in terms(text, decompounder)}

    for chunk, chunk_spans in zip(chunks, spans_of, strict=True):
        passage: set[int] = set()
        for start, end, vector in chunk_spans:
            found = ids(chunk.text[start:end])
            sentence_lists.append(sorted(found))
            passage |= found
            starts.append(start)
            ends.append(end)
            vector_rows.append(-1 if vector is None else vector)
        first.append(len(sentence_lists))
        doc = chunk.document_id
        if doc not in titles:
            titles[doc] = ids(documents[doc].title) if doc in documents else set()
        leaf = chunk.section.split(SECTION_SEPARATOR)[-1]
        context = ids(leaf) | titles[doc]
        context_lists.append(context)
        passage_lists.append(context | passage)
    # A magazine article runs over several passages; its name may stand in the first only.
    by_section: dict[tuple[str, str], set[int]] = {}  # in the order of their first passage
    for chunk, found in zip(chunks, passage_lists, strict=True):
        by_section.setdefault((chunk.document_id, chunk.section), set()).update(found)
    section_number = {key: i for i, key in enumerate(by_section)}
    section_of = [section_number[(c.document_id, c.section)] for c in chunks]

    # Term ids in sorted term order, so a loaded vocabulary is searched by bisection.
    vocabulary = sorted(term_id)
    renumber = np.zeros(len(term_id), np.int64)
    for new, term in enumerate(vocabulary):
        renumber[term_id[term]] = new

    def csr(lists: Sequence[Iterable[int]]) -> Csr:
        return Csr.of([renumber[np.fromiter(x, np.int64)] for x in lists])

    sentence_terms = csr(sentence_lists)
    postings = _transpose(sentence_terms, len(vocabulary))
    return SentenceTerms(
        vocabulary=np.asarray(vocabulary, dtype=str) if vocabulary else np.zeros(0, "<U1"),
        first=np.asarray(first, np.int64),
        starts=np.asarray(starts, np.int32),
        ends=np.asarray(ends, np.int32),
        vector_rows=np.asarray(vector_rows, np.int32),
        sentence_terms=sentence_terms,
        postings=postings,
        context_terms=csr(context_lists),
        passage_terms=csr(passage_lists),
        section_terms=Shared(np.asarray(section_of, np.int32), csr(list(by_section.values()))),
    )


# Lists (sentences) transposed at once: their pairs sorted together.
_TRANSPOSE_BLOCK = 1_000_000


def _transpose(lists: Csr, n_terms: int) -> Csr:
    """Term -> the lists (sentences) that hold it, ascending.

    ``_TRANSPOSE_BLOCK`` lists at a time, each block's entries put after the earlier blocks' in
    every term's list: sorting every (sentence, term) pair of a large index at once took
    gigabytes of int64 arrays.
    """
    ids = np.asarray(lists.ids)
    counts = np.bincount(ids, minlength=n_terms)
    ptr = np.zeros(n_terms + 1, np.int64)
    ptr[1:] = np.cumsum(counts)
    out = np.empty(len(ids), np.int32)
    cursor = ptr[:-1].copy()  # where each term's next owner goes
    list_ptr = np.asarray(lists.ptr, np.int64)
    for a in range(0, len(lists), _TRANSPOSE_BLOCK):
        b = min(a + _TRANSPOSE_BLOCK, len(lists))
        lo, hi = int(list_ptr[a]), int(list_ptr[b])
        owners = np.repeat(np.arange(a, b, dtype=np.int32), np.diff(list_ptr[a : b + 1]))
        order = np.argsort(ids[lo:hi], kind="stable")  # stable: owners stay ascending
        terms = ids[lo:hi][order]
        starts = np.flatnonzero(np.r_[True, terms[1:] != terms[:-1]]) if len(terms) else order
        run = np.repeat(starts, np.diff(np.r_[starts, len(terms)]))
        out[cursor[terms] + (np.arange(len(terms)) - run)] = owners[order]
        cursor += np.bincount(terms, minlength=n_terms)
    return Csr(ptr, out)


def _spans(
    chunks: list[Chunk], rows: np.ndarray | None, spans: np.ndarray | None
) -> list[list[tuple[int, int, int | None]]]:
    """Per passage: (start, end, sentence vector row) of each sentence, in text order."""
    if rows is None or spans is None:
        return [[(s.start, s.end, None) for s in split_sentences(c.text)] for c in chunks]
    out: list[list[tuple[int, int, int | None]]] = [[] for _ in chunks]
    for i, (row, (start, end)) in enumerate(zip(rows, spans, strict=True)):
        out[int(row)].append((int(start), int(end), i))
    for found in out:
        found.sort()
    return out
