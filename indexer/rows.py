"""Rows of a ``.npy`` file (and byte ranges of a blob) read by position (``os.pread``),
never mapped.

A question re-scores a few thousand vectors from files of gigabytes (13 GB of sentence
vectors at a million passages). Mapped, every row read maps the page-cache folio around
it into the process, and those pages count as its resident memory: after a few hundred
questions the mapped part of ``sentence_vectors.npy`` was most of the server's RSS
(docs/scale.md). Read with ``pread``, a question's rows cost their own bytes, copied
into a fresh array; the page cache still holds the file for the next question, shared
and dropped first under memory pressure, but outside the process.
"""

from __future__ import annotations

import os
import threading
import weakref
from pathlib import Path
from typing import Any

import numpy as np

# numpy parses a .npy header with ``ast.literal_eval``, and CPython 3.11 counts the depth
# of the ASTs it builds in one counter shared by every thread (python/cpython#106905): a
# server loading a new build while an add read the previous build's arrays failed with
# "AST constructor recursion depth mismatch". Beleidszoeker parses its headers one at a time.
NPY_HEADERS = threading.RLock()


def load_npy(source: Any, mmap_mode: str | None = None) -> Any:
    """``np.load`` of a ``.npy`` file (a path or a file object), its header parsed under
    ``NPY_HEADERS``."""
    with NPY_HEADERS:
        return np.load(source, mmap_mode=mmap_mode)


def mapped(path: str | Path) -> np.ndarray:
    """A ``.npy`` file memory-mapped read-only, as a plain array over the map: indexing a
    ``np.memmap`` costs microseconds more per row; only the pages read are ever loaded."""
    return np.asarray(load_npy(path, "r"))


# Rows closer than this many bytes apart are read in one call, the gap read and dropped:
# a system call costs about as much as copying a few kilobytes from the page cache.
_GAP_BYTES = 8192
# Reads of at least this many runs hint every run to the kernel first (not on every system).
_HINTED_RUNS = 8
_WILLNEED = getattr(os, "posix_fadvise", None)


class RowFile:
    """A read-only 2-d ``.npy`` file that indexes like an array: ``rows[ids]``,
    ``rows[i]``, ``rows[a:b]`` and ``np.asarray(rows)`` (the whole file, for a build).

    The file is held open, so a build pruned while a server still reads it stays
    readable, as a mapping would.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        with open(self.path, "rb") as f, NPY_HEADERS:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            self._offset = f.tell()
        if fortran or dtype.hasobject or len(shape) < 1:
            raise ValueError(f"{self.path} is not a C-ordered array of numbers")
        self.shape: tuple[int, ...] = tuple(shape)
        self.dtype = dtype
        self.ndim = len(shape)
        self._row_shape = self.shape[1:]
        self._row_bytes = int(np.prod(self._row_shape, dtype=np.int64)) * dtype.itemsize
        self._fd = os.open(self.path, os.O_RDONLY)
        self._closer = weakref.finalize(self, os.close, self._fd)

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def data_offset(self) -> int:
        """Where the rows start in the file (after the ``.npy`` header)."""
        return self._offset

    def __getitem__(self, index) -> np.ndarray:
        if isinstance(index, int | np.integer):
            i = int(index) + (len(self) if index < 0 else 0)
            if not 0 <= i < len(self):
                raise IndexError(f"row {index} out of range for {len(self)} rows")
            return self._block(i, i + 1)[0]
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step == 1:
                return self._block(start, max(start, stop))
            index = np.arange(start, stop, step)
        return self.take(index)

    def take(self, ids) -> np.ndarray:
        """The rows ``ids`` (any order, repeats allowed), read in file order, neighbours
        in one call."""
        ids = np.asarray(ids, np.int64).ravel()
        n = len(self)
        if ids.size and (ids.min() < -n or ids.max() >= n):
            raise IndexError(f"row ids out of range for {n} rows")
        ids = np.where(ids < 0, ids + n, ids)
        out = np.empty((ids.size, *self._row_shape), self.dtype)
        if not ids.size:
            return out
        order = np.argsort(ids, kind="stable")
        wanted = ids[order]
        rb, fd, base = self._row_bytes, self._fd, self._offset
        # Runs of rows read in one call: a new run where the gap to the previous row is
        # more than _GAP_BYTES. Plain Python lists: this loop runs per row.
        cuts = (np.flatnonzero(np.diff(wanted) > max(1, _GAP_BYTES // max(rb, 1))) + 1).tolist()
        flat = out.reshape(-1).view(np.uint8)
        buffer = memoryview(flat)
        dest, at = (order * rb).tolist(), (wanted * rb + base).tolist()
        preadv = os.preadv
        runs = list(zip([0, *cuts], [*cuts, ids.size], strict=True))
        if len(runs) >= _HINTED_RUNS and _WILLNEED is not None:
            # Every run asked of the kernel before the first is read: a disk not holding
            # them serves them together (900 scattered rows of a file not in the page
            # cache: 55 to 64 ms read one after another, 11 to 15 ms hinted first; 0.6 ms
            # of hints when they are cached).
            for a, b in runs:
                _WILLNEED(fd, at[a], at[b - 1] + rb - at[a], os.POSIX_FADV_WILLNEED)
        for a, b in runs:
            if b - a == 1:  # most runs: one row, read straight into the output
                row = buffer[dest[a] : dest[a] + rb]
                if preadv(fd, [row], at[a]) != rb:
                    _read_into(fd, row, at[a])
                continue
            raw = np.frombuffer(_read(fd, at[b - 1] + rb - at[a], at[a]), np.uint8)
            picked = raw.reshape(-1, rb)[wanted[a:b] - wanted[a]]
            flat.reshape(-1, rb)[order[a:b]] = picked
        return out

    def _block(self, start: int, stop: int) -> np.ndarray:
        out = np.empty((stop - start, *self._row_shape), self.dtype)
        if stop > start:
            _read_into(self._fd, memoryview(out.reshape(-1).view(np.uint8)),
                       self._offset + start * self._row_bytes)  # fmt: skip
        return out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        whole = self._block(0, len(self))
        return whole if dtype is None else whole.astype(dtype)

    def close(self) -> None:
        self._closer()


class ByteFile:
    """A read-only file whose byte ranges are read by position: ``blob[a:b]`` is bytes.

    The UTF-8 texts of a build (passages, cleaned documents) are read a few hundred
    strings per question; mapped, each read would map its page-cache folio into the
    process, as the vectors' rows did.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fd = os.open(self.path, os.O_RDONLY)
        self._size = os.fstat(self._fd).st_size
        self._closer = weakref.finalize(self, os.close, self._fd)

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, index: slice) -> bytes:
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("a ByteFile is read by slices of consecutive bytes")
        start, stop, _ = index.indices(self._size)
        return _read(self._fd, stop - start, start) if stop > start else b""

    def close(self) -> None:
        self._closer()


def _read(fd: int, size: int, offset: int) -> bytes:
    data = os.pread(fd, size, offset)
    if len(data) != size:
        raise OSError(f"short read: {len(data)} of {size} bytes at {offset}")
    return data


def _read_into(fd: int, buffer: memoryview, offset: int) -> None:
    """Fill ``buffer`` from the file at ``offset`` (pread may return less than asked,
    past 2 GB on Linux)."""
    done = 0
    while done < len(buffer):
        got = os.preadv(fd, [buffer[done:]], offset + done)
        if got <= 0:
            raise OSError(f"short read: {done} of {len(buffer)} bytes at {offset}")
        done += got
