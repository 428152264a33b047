"""Vectors cached by (model, text hash), so re-indexing only embeds new or changed text."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from indexer.embedders import Embedder


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class VectorCache:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Several processes (CLI, server, tests) may share one cache: wait for locks.
        self._db = sqlite3.connect(path, timeout=60)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (model TEXT, hash TEXT, vec BLOB, "
            "PRIMARY KEY (model, hash))"
        )

    def close(self) -> None:
        self._db.close()

    def get_many(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        for i in range(0, len(unique), 500):
            part = unique[i : i + 500]
            rows = self._db.execute(
                f"SELECT hash, vec FROM vectors WHERE model = ? AND hash IN "
                f"({','.join('?' * len(part))})",
                [model, *part],
            )
            for h, blob in rows:
                found[h] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, model: str, items: dict[str, np.ndarray]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                [(model, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items.items()],
            )


def embed_with_cache(
    embedder: Embedder,
    texts: Sequence[str],
    cache: VectorCache,
    batch_size: int = 16,
    on_progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, int]:
    """Vectors for ``texts`` (in order) and how many had to be embedded anew.

    New vectors are stored batch by batch, so an interrupted run keeps what it computed.
    """
    hashes = [text_hash(t) for t in texts]
    known = cache.get_many(embedder.name, hashes)
    todo = list({h: t for h, t in zip(hashes, texts, strict=True) if h not in known}.items())
    if on_progress and len(texts) - len(todo):
        on_progress(len(texts) - len(todo))
    for i in range(0, len(todo), batch_size):
        batch = todo[i : i + batch_size]
        vecs = embedder.embed_passages([t for _, t in batch])
        fresh = {h: v for (h, _), v in zip(batch, vecs, strict=True)}
        cache.put_many(embedder.name, fresh)
        known.update(fresh)
        if on_progress:
            on_progress(len(batch))
    dim = embedder.dim
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for i, h in enumerate(hashes):
        out[i] = known[h]
    return out, len(todo)
