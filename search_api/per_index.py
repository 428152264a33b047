"""Objects derived from a loaded index, built once on first use and shared by threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from indexer.store import IndexData

T = TypeVar("T")


class PerIndex(Generic[T]):
    """``build(index)`` once per loaded index; a few at most, so an index replaced by a
    rebuild drops out instead of being kept alive."""

    def __init__(self, build: Callable[[IndexData], T], keep: int = 4) -> None:
        self._build = build
        self._keep = keep
        self._items: dict[tuple[int, str], T] = {}
        self._lock = threading.Lock()

    def get(self, index: IndexData) -> T:
        key = (id(index), str(index.path))
        item = self._items.get(key)
        if item is None:
            with self._lock:
                item = self._items.get(key)
                if item is None:
                    item = self._build(index)
                    while len(self._items) >= self._keep:
                        self._items.pop(next(iter(self._items)))
                    self._items[key] = item
        return item
