"""The loaded index and embedder for a process: got on first use, reloaded when rebuilt.

A build that fails its checksums is never served: the process keeps the build it has, or
falls back to the newest good one, and ``serving_problem`` says so (``/api/health``).
"""

from __future__ import annotations

import threading
from pathlib import Path

from beleidszoeker.config import Settings
from beleidszoeker.errors import IndexDamagedError
from indexer.embedders import get_embedder
from indexer.store import IndexData, finished_builds, load_index
from search_api.retrieval import Searcher

_lock = threading.Lock()
_searchers: dict[tuple[str, str, str], Searcher] = {}
# Per index: the damaged build the link points at and why, while an older build is served.
_problems: dict[tuple[str, str], tuple[str, str]] = {}


def get_searcher(settings: Settings) -> Searcher:
    """A Searcher over the current build of ``settings.index_dir``.

    The index directory is a link to the newest build; when it points somewhere new
    (a re-index finished), the next call loads that build. Requests already running keep
    the Searcher they hold, so none fails during the swap.
    """
    # A ranking tried with `eval --set` gets a searcher of its own.
    key = (str(settings.index_dir), settings.embedder, settings.ranking.model_dump_json())
    damage_key = key[:2]  # damage belongs to the index, whatever the ranking
    target = str(settings.index_dir.resolve())
    searcher = _searchers.get(key)
    if searcher is not None and str(searcher.index.path) == target:
        return searcher
    with _lock:
        searcher = _searchers.get(key)
        if searcher is not None and str(searcher.index.path) == target:
            return searcher
        if damage_key in _problems and _problems[damage_key][0] == target and searcher:
            return searcher  # the link still points at the damaged build: keep what we serve
        try:
            index = load_index(settings.index_dir, settings.embedder)
            _problems.pop(damage_key, None)
        except IndexDamagedError as exc:
            index = _newest_good(settings, exclude=Path(target), current=searcher)
            if index is None:
                raise
            _problems[damage_key] = (target, str(exc))
        if searcher is None or searcher.index is not index:
            searcher = _searcher(settings, index)
            _searchers[key] = searcher
        return searcher


def serving_problem(settings: Settings) -> str | None:
    """Why the build served is not the one the index link points at (None when it is)."""
    problem = _problems.get((str(settings.index_dir), settings.embedder))
    return problem[1] if problem else None


def _newest_good(settings: Settings, exclude: Path, current: Searcher | None) -> IndexData | None:
    """The build already served, else the newest other build that passes its checksums."""
    if current is not None:
        return current.index
    for build in finished_builds(settings.index_dir):
        if build.resolve() == exclude:
            continue
        try:
            return load_index(build, settings.embedder)
        except Exception:  # damaged or incompatible too: try an older one
            continue
    return None


def _searcher(settings: Settings, index: IndexData) -> Searcher:
    return Searcher(index, get_embedder(settings.embedder), settings.ranking)
