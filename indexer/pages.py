"""Giving back the pages of a memory-mapped array a build has written or read through.

A build writes its vectors into mapped ``.npy`` files a round at a time and reads them
back a block at a time. Every page touched stays mapped into the process, so its resident
memory grew by the whole file (14 GB of sentence vectors at a million passages) although
the kernel could drop those pages at any time. Unmapping them after each round keeps them
in the page cache (and the writes on their way to the file) without counting them as the
build's own memory.
"""

from __future__ import annotations

import contextlib
import ctypes
import mmap

import numpy as np


def release(array: np.ndarray) -> None:
    """Unmap the pages of ``array``'s shared file mapping from this process, if it has one
    (a plain array, or a copy-on-write mapping whose pages hold the only copy, is left)."""
    raw = getattr(array, "_mmap", None)
    if raw is None or getattr(array, "mode", "c") == "c" or not hasattr(mmap, "MADV_DONTNEED"):
        return
    with contextlib.suppress(OSError, ValueError):  # a closed mapping: nothing to give back
        raw.madvise(mmap.MADV_DONTNEED)


def give_back_freed() -> None:
    """Hand the heap pages freed objects leave behind back to the system (glibc keeps
    them otherwise, and the large arrays a build makes next never reuse them)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to do
        return
    libc.malloc_trim(0)
