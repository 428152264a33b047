"""The cleaned-to-original offset map stored compactly, as runs of consecutive offsets.

Cleaning keeps most characters and drops or joins a few, so the map is nearly always
"one more than the previous". Storing only where a run starts makes a 52 MB text's map a
few KB to a few MB instead of 416 MB of int64, and a lookup is one binary search.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from indexer.rows import NPY_HEADERS


class OffsetRuns:
    """``offsets[i]`` for a cleaned position ``i``, from the starts of runs of +1 steps."""

    def __init__(self, starts: np.ndarray, values: np.ndarray, length: int) -> None:
        self.starts = starts  # cleaned positions where a run begins (starts[0] == 0)
        self.values = values  # the original offset at each run start
        self.length = length  # len(text) + 1, as the full array

    @classmethod
    def from_array(cls, offsets: np.ndarray) -> OffsetRuns:
        offsets = np.asarray(offsets, dtype=np.int64)
        if len(offsets) == 0:
            empty = np.zeros(0, dtype=np.int32)
            return cls(empty, empty, 0)
        breaks = np.flatnonzero(np.diff(offsets) != 1) + 1
        starts = np.concatenate(([0], breaks))
        return cls(_small(starts), _small(offsets[starts]), len(offsets))

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> int:
        i = int(i)
        if i < 0:
            i += self.length
        if not 0 <= i < self.length:
            raise IndexError(i)
        run = int(np.searchsorted(self.starts, i, side="right")) - 1
        return int(self.values[run]) + i - int(self.starts[run])

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return np.asarray(self.to_array(), dtype=dtype)

    def to_array(self) -> np.ndarray:
        out = np.ones(self.length, dtype=np.int64)
        if self.length:
            s, v = self.starts.astype(np.int64), self.values.astype(np.int64)
            out[0] = v[0]
            out[s[1:]] = v[1:] - (v[:-1] + np.diff(s) - 1)
        return np.cumsum(out)

    def save(self, path: Path) -> None:
        with path.open("wb") as f:
            np.savez(f, starts=self.starts, values=self.values, length=np.int64(self.length))

    @classmethod
    def load(cls, path: Path) -> OffsetRuns:
        with NPY_HEADERS, np.load(path) as data:  # its arrays' headers are parsed here
            return cls(data["starts"], data["values"], int(data["length"]))


def _small(a: np.ndarray) -> np.ndarray:
    return a.astype(np.int32) if len(a) == 0 or a.max() < 2**31 else a.astype(np.int64)
