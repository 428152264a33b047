"""The loaded index and embedder for a process: got on first use, reloaded when rebuilt."""

from __future__ import annotations

import threading

from beleidszoeker.config import Settings
from indexer.embedders import get_embedder
from indexer.store import load_index
from search_api.retrieval import Searcher

_lock = threading.Lock()
_searchers: dict[tuple[str, str, str], Searcher] = {}


def get_searcher(settings: Settings) -> Searcher:
    """A Searcher over the current build of ``settings.index_dir``.

    The index directory is a link to the newest build; when it points somewhere new
    (a re-index finished), the next call loads that build. Requests already running keep
    the Searcher they hold, so none fails during the swap.
    """
    # A ranking tried with `eval --set` gets a searcher of its own.
    key = (str(settings.index_dir), settings.embedder, settings.ranking.model_dump_json())
    target = str(settings.index_dir.resolve())
    searcher = _searchers.get(key)
    if searcher is not None and str(searcher.index.path) == target:
        return searcher
    with _lock:
        searcher = _searchers.get(key)
        if searcher is None or str(searcher.index.path) != target:
            index = load_index(settings.index_dir, settings.embedder)
            searcher = Searcher(index, get_embedder(settings.embedder), settings.ranking)
            _searchers[key] = searcher
        return searcher
