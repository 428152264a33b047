"""The index in PostgreSQL with pgvector, behind the store interface.

One ``PostgresStore`` serves one published version; every query names it, so a version
published meanwhile changes nothing for requests already running. Keyword search is BM25
summed in SQL from weights stored with the Dutch terms of each passage (written with the
IDF of ``indexer.keyword.idf`` and the k1/b of the embedded bm25s index); vectors are
searched exactly while the build's manifest says its index is flat (small corpora: the same
ranking as FAISS), else through the version's HNSW graph. Filters by document and year are SQL.
"""

from __future__ import annotations

import io
import json
import queue
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import numpy as np

from beleidszoeker.errors import DatabaseError
from indexer import vectors as ann
from indexer.cleaning import CleanText
from indexer.keyword import Decompounder, terms
from indexer.offsets import OffsetRuns
from indexer.rows import load_npy
from indexer.schema import Chunk, Document
from indexer.sentence_terms import FOLDER as TERMS_FOLDER
from indexer.sentence_terms import SentenceTerms
from indexer.store import FORMAT_VERSION, check_compatible, vector_specs
from indexer.stores.base import IndexStore
from indexer.stores.pg_schema import EMPTY, LAYOUT, OLD_LAYOUT, connect, redacted
from indexer.words import WordBoxes

# HNSW: candidates kept while walking the graph (pgvector allows up to 1000).
EF_SEARCH = 1000

# BM25: the sum of the question's terms' stored weights (each counted as often as the
# question repeats it), read from the covering index on (version, term).
_BM25 = """
SELECT t.row, sum(q.n * t.weight) AS score
FROM bz_terms t
JOIN unnest(%(terms)s::text[], %(counts)s::int[]) AS q(term, n) ON q.term = t.term
WHERE t.version = %(version)s AND t.term = ANY(%(terms)s) {filter}
GROUP BY t.row
ORDER BY score DESC, t.row
LIMIT %(k)s
"""
# Summing the postings of common words groups up to a few hundred thousand rows: enough
# memory per query that the grouping never spills to disk.
WORK_MEM = "64MB"


def current_version(url: str) -> int:
    """The published version, or a DatabaseError saying how to publish one."""
    try:
        row = _query(url, "SELECT version FROM bz_published WHERE id = 1")
    except DatabaseError:
        raise
    except Exception as exc:
        if type(exc).__name__ == "UndefinedTable":
            raise DatabaseError(EMPTY) from exc
        raise
    if not row:
        raise DatabaseError(EMPTY)
    return int(row[0][0])


# Connections per server process: a question runs a handful of short queries one after the
# other, so a few connections serve many request threads, and N servers stay well under
# PostgreSQL's max_connections (100 by default).
POOL_SIZE = 8
_pools: dict[str, _Pool] = {}
_pools_lock = threading.Lock()


class _Pool:
    """At most ``size`` open connections to one database, reused by any thread."""

    def __init__(self, url: str, size: int) -> None:
        self._url = url
        self._idle: queue.LifoQueue = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)

    @contextmanager
    def connection(self) -> Iterator[Any]:
        with self._slots:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = None
            if conn is None or conn.closed or conn.broken:
                conn = connect(self._url)
                conn.execute(f"SET hnsw.ef_search = {EF_SEARCH}")
                conn.execute("SET hnsw.iterative_scan = relaxed_order")
                conn.execute(f"SET work_mem = '{WORK_MEM}'")
            try:
                yield conn
            finally:
                if not (conn.closed or conn.broken):
                    self._idle.put(conn)


def pooled(url: str) -> Any:
    """``with pooled(url) as conn``: a connection of this process's pool for ``url``."""
    pool = _pools.get(url)
    if pool is None:
        with _pools_lock:
            pool = _pools.setdefault(url, _Pool(url, POOL_SIZE))
    return pool.connection()


def _query(url: str, sql: str, params: Any = None) -> list[tuple]:
    import psycopg

    try:
        with pooled(url) as conn:
            return conn.execute(sql, params).fetchall()
    except psycopg.OperationalError as exc:  # the server went away mid-request
        raise DatabaseError(
            f"Lost the connection to the database at {redacted(url)}: check that PostgreSQL "
            "runs; the next request connects again."
        ) from exc


class PostgresStore(IndexStore):
    """One published version of the index in the database at ``url``."""

    def __init__(self, url: str, version: int, meta: dict[str, Any]) -> None:
        self.url = url
        self.version = version
        self.manifest = meta["manifest"]
        self._n_passages = int(meta["n_passages"])
        self._n_sentences = int(meta["n_sentences"])
        self._avg_length = float(meta["avg_length"])
        self._specs = vector_specs(self.manifest)
        rows = self._query("SELECT data FROM bz_documents WHERE version = %s", (version,))
        docs = [Document.model_validate(r[0]) for r in rows]
        self.documents = {d.id: d for d in sorted(docs, key=lambda d: d.id)}
        vocabulary = json.loads(self.file("keyword/compound_vocabulary.json") or b"[]")
        self.decompounder = Decompounder(vocabulary)
        self._passages: OrderedDict[int, Chunk] = OrderedDict()
        self._lock = threading.Lock()
        self._terms: SentenceTerms | None = None
        self._places: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def open(cls, url: str, embedder: str) -> PostgresStore:
        version = current_version(url)
        found = _query(
            url,
            "SELECT manifest, n_passages, n_sentences, avg_length FROM bz_versions "
            "WHERE version = %s",
            (version,),
        )
        if not found:  # dropped between the two reads: a newer one was published
            return cls.open(url, embedder)
        manifest, n_passages, n_sentences, avg_length = found[0]
        if manifest.get("database_layout") != LAYOUT or (
            manifest.get("format_version") != FORMAT_VERSION
        ):
            raise DatabaseError(OLD_LAYOUT)
        check_compatible(manifest, embedder, f"the database {redacted(url)}")  # type: ignore[arg-type]
        return cls(
            url,
            version,
            {
                "manifest": manifest,
                "n_passages": n_passages,
                "n_sentences": n_sentences,
                "avg_length": avg_length,
            },
        )

    def _query(self, sql: str, params: Any = None) -> list[tuple]:
        return _query(self.url, sql, params)

    @property
    def identity(self) -> str:
        return str(self.version)

    @property
    def n_passages(self) -> int:
        return self._n_passages

    @property
    def n_sentences(self) -> int:
        return self._n_sentences

    # -- passages
    def passages(self, rows: Sequence[int]) -> list[Chunk]:
        rows = [int(r) for r in rows]
        got: dict[int, Chunk] = {}
        with self._lock:
            for r in rows:
                chunk = self._passages.get(r)
                if chunk is not None:
                    got[r] = chunk
                    self._passages.move_to_end(r)
        missing = sorted(set(rows) - got.keys())
        if missing:
            found = self._query(
                "SELECT row, data FROM bz_passages WHERE version = %s AND row = ANY(%s)",
                (self.version, missing),
            )
            read = {int(row): Chunk.model_validate(data) for row, data in found}
            got.update(read)
            with self._lock:
                # The passages read last are kept: a question reads its hits' sentences next.
                self._passages.update(read)
                while len(self._passages) > _KEEP_PASSAGES:
                    self._passages.popitem(last=False)
        absent = [r for r in rows if r not in got]
        if absent:
            raise IndexError(absent[0])
        return [got[r] for r in rows]

    def rows_of_chunks(self, chunk_ids: Sequence[str]) -> list[int]:
        found = dict(
            self._query(
                "SELECT chunk_id, row FROM bz_passages WHERE version = %s AND chunk_id = ANY(%s)",
                (self.version, list(chunk_ids)),
            )
        )
        return [int(found[c]) for c in chunk_ids]

    def document_rows(self, document_ids: Iterable[str]) -> np.ndarray:
        rows = self._query(
            "SELECT row FROM bz_passages WHERE version = %s AND document_id = ANY(%s) ORDER BY row",
            (self.version, list(document_ids)),
        )
        return np.asarray([r[0] for r in rows], np.int64)

    def filter_rows(self, documents: Sequence[str], year: int | None) -> np.ndarray:
        for d in documents:
            if d not in self.documents:
                from beleidszoeker.errors import UnknownDocumentError

                raise UnknownDocumentError(d)
        rows = self._query(
            "SELECT p.row FROM bz_passages p JOIN bz_documents d "
            "ON d.document_id = p.document_id AND d.version = p.version "
            "WHERE p.version = %(v)s "
            "AND (cardinality(%(docs)s::text[]) = 0 OR p.document_id = ANY(%(docs)s)) "
            "AND (%(year)s::int IS NULL OR d.year = %(year)s::int) ORDER BY p.row",
            {"v": self.version, "docs": list(documents), "year": year},
        )
        return np.asarray([r[0] for r in rows], np.int64)

    # -- keyword search
    def keyword_search(
        self, query: str, k: int, rows: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        counts = Counter(terms(query, self.decompounder))
        if not counts or k <= 0:
            return []
        params = {
            "terms": list(counts),
            "counts": list(counts.values()),
            "version": self.version,
            "k": int(k),
        }
        where = ""
        if rows is not None:
            params["rows"] = np.asarray(rows, np.int64).tolist()
            where = "AND t.row = ANY(%(rows)s)"
        found = self._query(_BM25.format(filter=where), params)
        return [(int(r), float(s)) for r, s in found if s > 0]

    def term_postings(
        self, terms: Sequence[str], rows: np.ndarray
    ) -> dict[str, tuple[int, np.ndarray]]:
        if not terms:
            return {}
        found = self._query(
            "SELECT d.term, d.df, (SELECT array_agg(t.row) FROM bz_terms t "
            "  JOIN unnest(%s::int[]) AS r(row) ON r.row = t.row "
            "  WHERE t.version = d.version AND t.term = d.term) "
            "FROM bz_df d WHERE d.version = %s AND d.term = ANY(%s)",
            (np.asarray(rows, np.int64).tolist(), self.version, list(terms)),
        )
        return {t: (int(df), np.asarray(held or [], np.int64)) for t, df, held in found}

    # -- vectors
    def _nearest(self, part: str, q: np.ndarray, k: int, rows: np.ndarray | None) -> list[tuple]:
        spec = self._specs[part]
        exact = spec.get("factory", ann.FLAT) == ann.FLAT or (
            rows is not None and len(rows) <= spec.get("exact_below", 0)
        )
        # "+ 0" keeps the planner off the graph: an exact scan, as a flat FAISS index does.
        distance = "(vector <#> %(q)s) + 0" if exact else "vector <#> %(q)s"
        where = "" if rows is None else "AND row = ANY(%(rows)s)"
        select = "row" if part == "passages" else "id, row"
        sql = (
            f"SELECT {select} FROM bz_{part} WHERE version = {int(self.version)} {where} "
            f"ORDER BY {distance}, {select.split(',')[0]} LIMIT %(k)s"
        )
        params: dict[str, Any] = {"q": np.asarray(q, np.float32), "k": int(k)}
        if rows is not None:
            params["rows"] = np.asarray(rows, np.int64).tolist()
        return self._query(sql, params)

    def dense_passages(self, query: np.ndarray, k: int, rows: np.ndarray | None) -> np.ndarray:
        return np.asarray([r[0] for r in self._nearest("passages", query, k, rows)], np.int64)

    def dense_sentences(self, query: np.ndarray, k: int, rows: np.ndarray | None) -> np.ndarray:
        return np.asarray([r[1] for r in self._nearest("sentences", query, k, rows)], np.int64)

    def _vectors(self, table: str, key: str, ids: Sequence[int]) -> np.ndarray:
        """The vectors of ``ids`` in that order, read as one bytea of pgvector's binary
        form (a row per vector costs a Python object each: 0.4 s for 2,400 sentences)."""
        ids = [int(i) for i in ids]
        dim = self._dim()
        if not ids:
            return np.zeros((0, dim), np.float32)
        wanted = sorted(set(ids))
        found = self._query(
            f"SELECT array_agg({key} ORDER BY {key}), "
            f"string_agg(vector_send(vector), ''::bytea ORDER BY {key}) "
            f"FROM {table} WHERE version = %s AND {key} = ANY(%s)",
            (self.version, wanted),
        )
        keys, blob = found[0]
        if keys is None or len(keys) != len(wanted):
            raise IndexError(f"{table}: {len(wanted) - len(keys or [])} of the ids are not stored")
        # Each vector: int16 dimension, int16 unused, then big-endian float32 values.
        block = np.frombuffer(blob, dtype=">f4").reshape(len(keys), dim + 1)[:, 1:]
        vectors = block.astype(np.float32)
        at = {k: i for i, k in enumerate(keys)}
        return vectors[[at[i] for i in ids]]

    def _dim(self) -> int:
        return int(self.manifest.get("embedder", {}).get("dim") or 0)

    def passage_vectors(self, rows: Sequence[int]) -> np.ndarray:
        return self._vectors("bz_passages", "row", rows)

    def sentence_vectors(self, ids: Sequence[int]) -> np.ndarray:
        return self._vectors("bz_sentences", "id", ids)

    def sentence_places(self) -> tuple[np.ndarray, np.ndarray]:
        if self._places is None:
            found = self._query(
                "SELECT row, span_start, span_end FROM bz_sentences WHERE version = %s ORDER BY id",
                (self.version,),
            )
            arr = np.asarray(found, np.int32).reshape(-1, 3)
            self._places = (arr[:, 0].copy(), arr[:, 1:].copy())
        return self._places

    def sentence_terms(self) -> SentenceTerms:
        """The key-word arrays the indexer wrote, stored with the version and read once."""
        if self._terms is None:
            prefix = f"{TERMS_FOLDER}/"
            found = self._query(
                "SELECT name, data FROM bz_files WHERE version = %s AND name LIKE %s",
                (self.version, prefix + "%"),
            )
            arrays = {
                name[len(prefix) :].removesuffix(".npy"): load_npy(io.BytesIO(data))
                for name, data in found
            }
            self._terms = SentenceTerms.from_arrays(arrays)
        return self._terms

    # -- documents
    @lru_cache(maxsize=64)  # noqa: B019 - one store per version, a few texts read again
    def _document(self, document_id: str) -> tuple[str, bytes, bytes | None] | None:
        found = self._query(
            "SELECT text, offsets, words FROM bz_documents WHERE version = %s AND document_id = %s",
            (self.version, document_id),
        )
        return tuple(found[0]) if found else None  # type: ignore[return-value]

    def clean_text(self, document_id: str) -> CleanText:
        found = self._document(document_id)
        if found is None:
            raise KeyError(document_id)
        return CleanText(found[0], OffsetRuns.load(io.BytesIO(found[1])))

    def word_boxes(self, document_id: str) -> WordBoxes | None:
        found = self._document(document_id)
        if found is None or found[2] is None:
            return None
        return WordBoxes.load(io.BytesIO(found[2]))

    def file(self, name: str) -> bytes | None:
        found = self._query(
            "SELECT data FROM bz_files WHERE version = %s AND name = %s", (self.version, name)
        )
        return bytes(found[0][0]) if found else None


_KEEP_PASSAGES = 4096
