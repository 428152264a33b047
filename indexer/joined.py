"""Arrays stored as several files one after the other, read as one.

An add writes the key words of its documents' sentences and passages after the previous
build's (``indexer/word_tails.py``): the previous files are linked into the new build as
they are and the new entries go to files of their own, so an add writes what it adds, not
the gigabytes before it. A reader sees the parts as one array.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from indexer.rows import RowFile


class Joined:
    """A 1-d array made of ``parts`` one after the other (mapped arrays or ``RowFile``):
    indexed by an int, a slice or an array of positions, as the parts are."""

    def __init__(self, parts: Sequence[np.ndarray | RowFile]) -> None:
        self.parts = list(parts)
        self.bounds = np.cumsum([0, *(len(p) for p in self.parts)])
        self.dtype = np.dtype(self.parts[0].dtype)

    @classmethod
    def of(cls, parts: Sequence[np.ndarray | RowFile]) -> np.ndarray | RowFile | Joined:
        """One part as itself, several joined."""
        return parts[0] if len(parts) == 1 else cls(parts)

    def __len__(self) -> int:
        return int(self.bounds[-1])

    @property
    def shape(self) -> tuple[int]:
        return (len(self),)

    @property
    def ndim(self) -> int:
        return 1

    def _part(self, i: int) -> int:
        return int(np.searchsorted(self.bounds, i, side="right")) - 1

    def __getitem__(self, index):
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return np.asarray(self)[index]
            return self._range(start, max(stop, start))
        if isinstance(index, int | np.integer):
            i = int(index) + (len(self) if index < 0 else 0)
            if not 0 <= i < len(self):
                raise IndexError(index)
            k = self._part(i)
            return self.parts[k][i - int(self.bounds[k])]
        return self.take(index)

    def _range(self, start: int, stop: int) -> np.ndarray:
        pieces = []
        k = self._part(start) if start < len(self) else len(self.parts) - 1
        while start < stop:
            lo, hi = int(self.bounds[k]), int(self.bounds[k + 1])
            end = min(stop, hi)
            pieces.append(np.asarray(self.parts[k][start - lo : end - lo]))
            start, k = end, k + 1
        if len(pieces) == 1:
            return pieces[0]
        return np.concatenate(pieces) if pieces else np.zeros(0, self.dtype)

    def take(self, ids) -> np.ndarray:
        ids = np.asarray(ids, np.int64)
        part = np.searchsorted(self.bounds, ids, side="right") - 1
        out = None
        for k in np.unique(part).tolist():
            at = part == k
            found = np.asarray(self.parts[k][ids[at] - int(self.bounds[k])])
            if out is None:
                out = np.empty(len(ids), found.dtype if found.dtype.kind == "U" else self.dtype)
            if out.dtype.kind == "U" and found.dtype.itemsize > out.dtype.itemsize:
                out = out.astype(found.dtype)  # a later part's words may be longer
            out[at] = found
        return out if out is not None else np.zeros(0, self.dtype)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        whole = np.concatenate([np.asarray(p) for p in self.parts])
        return whole if dtype is None else whole.astype(dtype)
