"""The one place that chooses the store: the index folder, or the database when
``BELEIDSZOEKER_DATABASE_URL`` is set."""

from __future__ import annotations

import threading
import time

from beleidszoeker.config import Settings
from indexer.stores.base import IndexStore

# How long a server trusts the version it last saw published before asking again: a
# question costs one small query at most this often, and a new version is served this soon.
RECHECK_SECONDS = 0.5
_seen: dict[tuple[str, str], tuple[float, str]] = {}
_lock = threading.Lock()


def open_store(settings: Settings) -> IndexStore:
    """The store of the index the settings name, loaded (folder) or connected (database)."""
    if settings.database_url:
        return open_database(settings.database_url, settings.embedder)
    from indexer.store import load_index
    from indexer.stores.folder import FolderStore

    return FolderStore(load_index(settings.index_dir, settings.embedder))


def open_database(url: str, embedder: str) -> IndexStore:
    from indexer.stores.postgres import PostgresStore

    return PostgresStore.open(url, embedder)


def published_version(url: str, embedder: str) -> str:
    """The version the database serves now (its store's ``identity``), rechecked at most
    every ``RECHECK_SECONDS``."""
    from indexer.stores.postgres import current_version

    key = (url, embedder)
    now = time.monotonic()
    seen = _seen.get(key)
    if seen is not None and now - seen[0] < RECHECK_SECONDS:
        return seen[1]
    with _lock:
        version = str(current_version(url))
        _seen[key] = (now, version)
    return version


def publish_to_database(settings: Settings, say=lambda _: None) -> int:
    """Copy the index folder's current build into the database as a new published version
    (the folder stays as it is); the version's number."""
    from beleidszoeker.errors import DatabaseError
    from indexer.store import load_index
    from indexer.stores.folder import FolderStore
    from indexer.stores.pg_write import write_version

    if not settings.database_url:
        raise DatabaseError(
            "No database to write to: set BELEIDSZOEKER_DATABASE_URL=postgresql://... "
            "(or pass --database-url) and run `beleidszoeker index --to-database` again."
        )
    store = FolderStore(load_index(settings.index_dir, settings.embedder))
    return write_version(settings.database_url, store, say)
