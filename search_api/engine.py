"""The served index store and embedder for a process: got on first use, reloaded when rebuilt.

The store is the index folder (default) or the database ``BELEIDSZOEKER_DATABASE_URL``
names (``indexer/stores/factory.py``). A folder build that fails its checksums is never
served: the process keeps the build it has, or falls back to the newest good one, and
``serving_problem`` says so (``/api/health``). A database publishes versions in one commit,
so there the process simply follows the published version.
"""

from __future__ import annotations

import threading
from pathlib import Path

from beleidszoeker.config import Settings
from beleidszoeker.errors import IndexDamagedError
from indexer.embedders import get_embedder
from indexer.store import IndexData, finished_builds, load_index
from indexer.stores.base import IndexStore
from indexer.stores.factory import open_database, published_version
from indexer.stores.folder import FolderStore
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
    if settings.database_url:
        return _database_searcher(settings)
    # A ranking tried with `eval --set` gets a searcher of its own.
    key = (str(settings.index_dir), settings.embedder, settings.ranking.model_dump_json())
    damage_key = key[:2]  # damage belongs to the index, whatever the ranking
    target = str(settings.index_dir.resolve())
    searcher = _searchers.get(key)
    if searcher is not None and searcher.store.identity == target:
        return searcher
    with _lock:
        searcher = _searchers.get(key)
        if searcher is not None and searcher.store.identity == target:
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
        if searcher is None or getattr(searcher.store, "index", None) is not index:
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
        return current.store.index
    for build in finished_builds(settings.index_dir):
        if build.resolve() == exclude:
            continue
        try:
            return load_index(build, settings.embedder)
        except Exception:  # damaged or incompatible too: try an older one
            continue
    return None


def _database_searcher(settings: Settings) -> Searcher:
    """A Searcher over the version the database has published; a newer one is loaded on the
    next request after it is published (requests running keep the version they hold)."""
    url = settings.database_url or ""
    key = (url, settings.embedder, settings.ranking.model_dump_json())
    searcher = _searchers.get(key)
    version = published_version(url, settings.embedder)
    if searcher is not None and searcher.store.identity == version:
        return searcher
    with _lock:
        searcher = _searchers.get(key)
        if searcher is None or searcher.store.identity != version:
            searcher = _searcher(settings, open_database(url, settings.embedder))
            _searchers[key] = searcher
        return searcher


def _searcher(settings: Settings, index: IndexData | IndexStore) -> Searcher:
    store = index if isinstance(index, IndexStore) else FolderStore(index)
    return Searcher(store, get_embedder(settings.embedder), settings.ranking)
