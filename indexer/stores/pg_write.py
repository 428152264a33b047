"""Write a built index into PostgreSQL as a new version, published in one commit.

Everything of the version (documents, passages, sentences, terms, vectors, HNSW indexes) is
written inside one transaction that ends by pointing ``bz_published`` at it: a run killed
half-way is rolled back by the server and the previous version stays served. Versions older
than the one before are dropped afterwards (the one before stays for requests still on it).
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

from indexer.keyword import BM25_B, BM25_K1, idf, terms
from indexer.offsets import OffsetRuns
from indexer.promises import FILE as PROMISES
from indexer.promises import VECTORS as PROMISE_VECTORS
from indexer.sentence_terms import FOLDER as TERMS_FOLDER
from indexer.stores.folder import FolderStore
from indexer.stores.pg_schema import LAYOUT, VERSIONED, connect, create_schema

KEEP_PREVIOUS = 1
# pgvector's HNSW graph per vector besides the vector itself: m = 16 gives 32 neighbours on the
# ground layer, each a 6-byte item pointer plus its distance while building, and headers.
GRAPH_BYTES_PER_VECTOR = 400
MAX_BUILD_MEMORY_MB = 8192
# Passages with no key word at all still count one token, as in the embedded bm25s index.
EMPTY_TOKEN = "∅"

Say = Callable[[str], None]


def write_version(url: str, store: FolderStore, say: Say = lambda _: None) -> int:
    """Copy a loaded index folder into the database as a new published version; its number."""
    index = store.index
    dim = int(index.vectors.shape[1])
    conn = connect(url, vector=False)
    try:
        create_schema(conn, dim)
        with conn.transaction():
            # One writer at a time; readers are never blocked.
            conn.execute("SELECT pg_advisory_xact_lock(7312)")
            version = int(conn.execute("SELECT nextval('bz_version_seq')").fetchone()[0])
            say(f"writing version {version}")
            _documents(conn, version, store)
            say(f"{len(index.documents)} documents")
            lengths = _passages(conn, version, store)
            say(f"{len(index.chunks)} passages and their terms")
            n_sentences = _sentences(conn, version, store)
            say(f"{n_sentences} sentences")
            _files(conn, version, store)
            _vector_indexes(conn, version, max(len(index.chunks), n_sentences), dim)
            say("vector indexes built")
            conn.execute(
                "INSERT INTO bz_versions (version, manifest, n_passages, n_sentences, avg_length)"
                " VALUES (%s, %s, %s, %s, %s)",
                (
                    version,
                    json.dumps({**index.manifest, "database_layout": LAYOUT}),
                    len(index.chunks),
                    n_sentences,
                    float(np.mean(lengths)) if lengths else 1.0,
                ),
            )
            conn.execute(
                "INSERT INTO bz_published (id, version) VALUES (1, %s) "
                "ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version",
                (version,),
            )
        say(f"version {version} published")
        drop_old_versions(conn, version)
        # Fresh statistics, so the planner knows the sizes (graph or scan, join order), and a
        # visibility map, so keyword search reads the covering index without the table.
        conn.execute("VACUUM (ANALYZE) bz_terms, bz_df")
        for table in ("bz_passages", "bz_sentences", "bz_documents"):
            conn.execute(f"ANALYZE {table}")
        return version
    finally:
        conn.close()


def drop_old_versions(conn: Any, published: int) -> None:
    """Drop every version older than the ``KEEP_PREVIOUS`` before ``published``."""
    rows = conn.execute(
        "SELECT version FROM bz_versions WHERE version < %s ORDER BY version DESC", (published,)
    ).fetchall()
    for (old,) in rows[KEEP_PREVIOUS:]:
        with conn.transaction():
            for part in ("passages", "sentences"):
                conn.execute(f"DROP INDEX IF EXISTS bz_{part}_hnsw_{int(old)}")
            for table in VERSIONED:
                conn.execute(f"DELETE FROM {table} WHERE version = %s", (old,))
            conn.execute("DELETE FROM bz_versions WHERE version = %s", (old,))
    # Rows of runs killed before they published were never committed: nothing to clean.


def _documents(conn: Any, version: int, store: FolderStore) -> None:
    with conn.cursor().copy(
        "COPY bz_documents (document_id, version, year, data, text, offsets, words) FROM STDIN"
    ) as copy:
        for doc in store.documents.values():
            clean = store.clean_text(doc.id)
            offsets = clean.offsets
            runs = offsets if isinstance(offsets, OffsetRuns) else OffsetRuns.from_array(offsets)
            words = store.word_boxes(doc.id)
            copy.write_row(
                (
                    doc.id,
                    version,
                    doc.year,
                    doc.model_dump_json(),
                    clean.text,
                    _npz(starts=runs.starts, values=runs.values, length=np.int64(runs.length)),
                    None
                    if words is None
                    else _npz(spans=words.spans, pages=words.pages, boxes=words.boxes),
                )
            )


def _passages(conn: Any, version: int, store: FolderStore) -> list[int]:
    """Passages with their vectors, and the BM25 terms of each (as the embedded index
    tokenises them: section and text, Dutch stems, compounds and their parts)."""
    from pgvector.psycopg import register_vector
    from psycopg.types.json import Jsonb

    register_vector(conn)
    index = store.index
    lengths = []
    cur = conn.cursor()
    with cur.copy(
        "COPY bz_passages (document_id, version, row, chunk_id, data, length, vector) "
        "FROM STDIN WITH (FORMAT BINARY)"
    ) as copy:
        copy.set_types(["text", "int8", "int4", "text", "jsonb", "int4", "vector"])
        counts = []
        for row, chunk in enumerate(index.chunks):
            found = terms(chunk.embed_text(), store.decompounder) or [EMPTY_TOKEN]
            counts.append(Counter(found))
            lengths.append(len(found))
            copy.write_row(
                (
                    chunk.document_id,
                    version,
                    row,
                    chunk.id,
                    Jsonb(chunk.model_dump()),
                    len(found),
                    np.asarray(index.vectors[row], np.float32),
                )
            )
    df = Counter(term for found in counts for term in found)
    _terms(cur, version, index.chunks, counts, lengths, df)
    with cur.copy("COPY bz_df (version, term, df) FROM STDIN WITH (FORMAT BINARY)") as copy:
        copy.set_types(["int8", "text", "int4"])
        for term, n in df.items():
            copy.write_row((version, term, n))
    return lengths


def _terms(cur: Any, version: int, chunks: Any, counts: list, lengths: list, df: Counter) -> None:
    """Each passage's terms with their BM25 weight: bm25s' Lucene formula, in float32 as
    bm25s stores it."""
    n, avg = len(counts), (float(np.mean(lengths)) if lengths else 1.0)
    weights = {term: idf(n, d) for term, d in df.items()}
    with cur.copy(
        "COPY bz_terms (document_id, version, row, term, tf, weight) FROM STDIN "
        "WITH (FORMAT BINARY)"
    ) as copy:
        copy.set_types(["text", "int8", "int4", "text", "int4", "float4"])
        for row, (chunk, found) in enumerate(zip(chunks, counts, strict=True)):
            norm = BM25_K1 * ((1 - BM25_B) + BM25_B * lengths[row] / avg)
            for term, tf in found.items():
                weight = np.float32(weights[term] * tf / (norm + tf))
                copy.write_row((chunk.document_id, version, row, term, tf, float(weight)))


def _sentences(conn: Any, version: int, store: FolderStore) -> int:
    rows, spans = store.sentence_places()
    if not len(rows):
        return 0
    vectors = store.index.sentences.vectors
    chunks = store.index.chunks
    with conn.cursor().copy(
        "COPY bz_sentences (document_id, version, id, row, span_start, span_end, vector) "
        "FROM STDIN WITH (FORMAT BINARY)"
    ) as copy:
        copy.set_types(["text", "int8", "int4", "int4", "int4", "int4", "vector"])
        for i, (row, (start, end)) in enumerate(zip(rows, spans, strict=True)):
            copy.write_row(
                (
                    chunks[int(row)].document_id,
                    version,
                    i,
                    int(row),
                    int(start),
                    int(end),
                    np.asarray(vectors[i], np.float32),
                )
            )
    return len(rows)


def _files(conn: Any, version: int, store: FolderStore) -> None:
    """The build's other files (promise register, compound vocabulary) and the sentence
    key-word arrays, as they are."""
    files: dict[str, bytes] = {}
    for name in (PROMISES, PROMISE_VECTORS):
        raw = store.file(name)
        if raw is not None:
            files[name] = raw
    vocabulary = sorted(store.decompounder.vocabulary) if store.decompounder else []
    files["keyword/compound_vocabulary.json"] = json.dumps(vocabulary, ensure_ascii=False).encode()
    for name, array in store.sentence_terms().arrays().items():
        files[f"{TERMS_FOLDER}/{name}.npy"] = _npy(array)
    with conn.cursor().copy("COPY bz_files (version, name, data) FROM STDIN") as copy:
        for name, data in files.items():
            copy.write_row((version, name, data))


def _vector_indexes(conn: Any, version: int, n: int, dim: int) -> None:
    """An HNSW graph (inner product: the vectors are L2-normalised) per table, for this
    version only: a partial index, so a search of one version never walks another's.

    pgvector builds fast only while the graph fits in ``maintenance_work_mem`` (64 MB by
    default: about 40,000 of these vectors); past it the build slows many times over. So the
    transaction asks for what the largest graph (``n`` vectors of ``dim``) needs, up to
    ``MAX_BUILD_MEMORY_MB``."""
    need_mb = int(n * (4 * dim + GRAPH_BYTES_PER_VECTOR) * 1.25 / 2**20) + 64
    have_mb = _setting_mb(conn, "maintenance_work_mem")
    if need_mb > have_mb:
        mb = min(need_mb, MAX_BUILD_MEMORY_MB)
        conn.execute(f"SET LOCAL maintenance_work_mem = '{mb}MB'")
    for part in ("passages", "sentences"):
        conn.execute(
            f"CREATE INDEX bz_{part}_hnsw_{version} ON bz_{part} "
            f"USING hnsw (vector vector_ip_ops) WITH (m = 16, ef_construction = 64) "
            f"WHERE version = {version}"
        )


def _setting_mb(conn: Any, name: str) -> int:
    value, unit = conn.execute(
        "SELECT setting::bigint, unit FROM pg_settings WHERE name = %s", (name,)
    ).fetchone()
    return int(value) * {"kB": 1, "8kB": 8, "MB": 1024}.get(unit or "kB", 1) // 1024


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def _npz(**arrays: Any) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()
