"""Objects derived from a served index, built once on first use and shared by threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from indexer.store import IndexData
from indexer.stores.base import IndexStore

T = TypeVar("T")


class PerIndex(Generic[T]):
    """``build(store)`` once per served store; a few at most, so a store replaced by a
    rebuild drops out instead of being kept alive."""

    def __init__(self, build: Callable[[Any], T], keep: int = 4) -> None:
        self._build = build
        self._keep = keep
        self._items: dict[tuple[int, str], tuple[Any, T]] = {}
        self._lock = threading.Lock()

    def get(self, owner: Any) -> T:
        ident = owner.identity if isinstance(owner, IndexStore) else str(owner.path)
        key = (id(owner), ident)
        item = self._items.get(key)
        if item is None:
            with self._lock:
                item = self._items.get(key)
                if item is None:
                    # The owner is held with what was built from it, so its id is not reused.
                    item = (owner, self._build(owner))
                    while len(self._items) >= self._keep:
                        self._items.pop(next(iter(self._items)))
                    self._items[key] = item
        return item[1]


def _folder(index: IndexData) -> IndexStore:
    from indexer.stores.folder import FolderStore

    return FolderStore(index)


_folders: PerIndex[IndexStore] = PerIndex(_folder)


def store_of(index: IndexStore | IndexData) -> IndexStore:
    """The store of a loaded index folder (one per loaded build); a store as it is."""
    return index if isinstance(index, IndexStore) else _folders.get(index)
