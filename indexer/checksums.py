"""SHA-256 of a build's files, taken from the bytes as they are written.

The manifest lists every file's checksum. Reading each file back to hash it read the whole
index once more (27 GB at a million passages, most of it the sentence vectors): instead
the large files are hashed on their way to disk (``save_npy``, ``write_faiss``, and
``RowDigest`` for the vectors a build fills a round at a time in a mapped file), and
``remembered`` gives ``store.write_index`` the digest. A digest is remembered with the
file's identity, size and modification time, and only given back while they still match:
a file changed since, or one written any other way, is read and hashed as before.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

# (device, inode) -> (size, mtime_ns, sha256) of files this process wrote and hashed. By
# inode, so a file linked into a build (the mapped vectors) is known under its new name.
_written: dict[tuple[int, int], tuple[int, int, str]] = {}


def remember(path: Path, sha256: str) -> None:
    """``sha256`` is the digest of ``path`` as it is now."""
    st = os.stat(path)
    _written[(st.st_dev, st.st_ino)] = (st.st_size, st.st_mtime_ns, sha256)


def remembered(path: Path) -> str | None:
    """The digest taken while ``path`` was written, if the file is still as written."""
    st = os.stat(path)
    found = _written.get((st.st_dev, st.st_ino))
    if found is None or found[:2] != (st.st_size, st.st_mtime_ns):
        return None
    return found[2]


def forget(path: Path) -> None:
    """Drop what is remembered of ``path`` (its build is written: the manifest has it)."""
    try:
        st = os.stat(path)
    except OSError:
        return
    _written.pop((st.st_dev, st.st_ino), None)


class _HashingWriter:
    """A binary file that hashes what is written to it."""

    def __init__(self, f: Any) -> None:
        self._f, self.digest = f, hashlib.sha256()

    def write(self, data: Any) -> int:
        self.digest.update(data)
        return self._f.write(data)

    def flush(self) -> None:
        self._f.flush()


@contextmanager
def hashed_open(path: Path) -> Iterator[_HashingWriter]:
    """``path`` opened for writing; its digest is remembered when it is closed."""
    with open(path, "wb") as f:
        out = _HashingWriter(f)
        yield out
    remember(path, out.digest.hexdigest())


def save_npy(path: Path, array: np.ndarray) -> None:
    """``np.save(path, array)`` (no pickle), hashed while written."""
    with hashed_open(path) as out:
        # Not a real file to numpy: it writes the array in buffered chunks through ``out``.
        np.save(out, array, allow_pickle=False)


def write_faiss(index: Any, path: Path) -> None:
    """``faiss.write_index(index, path)``, hashed while written."""
    import faiss

    with hashed_open(path) as out:
        writer = faiss.PyCallbackIOWriter(out.write)
        faiss.write_index(index, writer)
        del writer  # flushes FAISS's own buffer into ``out``


class RowDigest:
    """The digest of a mapped ``.npy`` file (``store.mapped_array``) filled with rows in
    order, a block at a time: each block is hashed as it is written, while its pages are
    still in memory, instead of reading the file back when the build is written."""

    def __init__(self, out: np.memmap) -> None:
        self._out = out
        with open(out.filename, "rb") as f:
            self._digest = hashlib.sha256(f.read(out.offset))  # the .npy header
        self._next = 0

    @classmethod
    def of(cls, out: np.ndarray) -> RowDigest | None:
        """One for ``out`` if it is the whole of a mapped ``.npy`` file, else None."""
        if not isinstance(out, np.memmap) or not out.filename or not out.flags.c_contiguous:
            return None
        if os.path.getsize(out.filename) != out.offset + out.nbytes:
            return None
        return cls(out)

    def written(self, start: int, stop: int) -> None:
        """Rows ``start:stop`` were written (rows out of order: no digest is kept)."""
        if start != self._next:
            self._next = -1
            return
        self._digest.update(memoryview(self._out[start:stop]).cast("B"))
        self._next = stop

    def write(self, start: int, rows: np.ndarray) -> None:
        """Write ``rows`` into the file from row ``start`` and hash them: through the file,
        not the mapping, so no page of it is faulted in (or zeroed first) to be copied to."""
        data = memoryview(np.ascontiguousarray(rows, self._out.dtype)).cast("B")
        at = self._out.offset + start * self._out.strides[0]
        with open(self._out.filename, "r+b") as f:
            done = 0
            while done < len(data):
                done += os.pwrite(f.fileno(), data[done:], at + done)
        if start == self._next:
            self._digest.update(data)
            self._next = start + len(rows)
        else:
            self._next = -1

    def finish(self) -> None:
        """Every row is written: remember the file's digest."""
        if self._next == len(self._out):
            self._out.flush()
            remember(Path(self._out.filename), self._digest.hexdigest())
