"""The PostgreSQL tables of the index, and connecting to them with errors that say what to do.

Every table of passages, sentences, terms and documents carries ``document_id`` first in
its primary key: the distribution column for Citus (``create_distributed_table``), so a
document's passages, sentences and terms live on one shard. ``bz_versions``,
``bz_published`` and ``bz_files`` are small (one row per version or file): reference tables.

A version is written whole in one transaction and published by the same commit
(``bz_published``): a reader sees the old version or the new one, never half of one.
"""

from __future__ import annotations

from typing import Any

from beleidszoeker.errors import DatabaseError

INSTALL = "pip install -e '.[postgres]'"
OLD_LAYOUT = (
    "The database's published index was written by another version of Beleidszoeker: run "
    "`beleidszoeker index` (it rebuilds the index folder from the vector cache when its "
    "format changed too), then `beleidszoeker index --to-database` to write it again."
)
EMPTY = (
    "The database holds no published index yet: run `beleidszoeker index --to-database` "
    "(with BELEIDSZOEKER_DATABASE_URL set) to write one."
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS bz_versions (
    version bigint PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    manifest jsonb NOT NULL,
    n_passages integer NOT NULL,
    n_sentences integer NOT NULL,
    avg_length double precision NOT NULL
);
CREATE TABLE IF NOT EXISTS bz_published (
    id integer PRIMARY KEY CHECK (id = 1),
    version bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS bz_files (
    version bigint NOT NULL,
    name text NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (version, name)
);
CREATE TABLE IF NOT EXISTS bz_documents (
    document_id text NOT NULL,
    version bigint NOT NULL,
    year integer,
    data jsonb NOT NULL,
    text text NOT NULL,
    offsets bytea NOT NULL,
    words bytea,
    PRIMARY KEY (document_id, version)
);
CREATE TABLE IF NOT EXISTS bz_passages (
    document_id text NOT NULL,
    version bigint NOT NULL,
    row integer NOT NULL,
    chunk_id text NOT NULL,
    data jsonb NOT NULL,
    length integer NOT NULL,
    vector vector({dim}) NOT NULL,
    PRIMARY KEY (document_id, version, row)
);
CREATE INDEX IF NOT EXISTS bz_passages_row ON bz_passages (version, row);
CREATE INDEX IF NOT EXISTS bz_passages_chunk ON bz_passages (version, chunk_id);
CREATE TABLE IF NOT EXISTS bz_sentences (
    document_id text NOT NULL,
    version bigint NOT NULL,
    id integer NOT NULL,
    row integer NOT NULL,
    span_start integer NOT NULL,
    span_end integer NOT NULL,
    vector vector({dim}) NOT NULL,
    PRIMARY KEY (document_id, version, id)
);
CREATE INDEX IF NOT EXISTS bz_sentences_id ON bz_sentences (version, id);
CREATE INDEX IF NOT EXISTS bz_sentences_row ON bz_sentences (version, row);
-- Keyword search: the Dutch terms of each passage (indexer.keyword.terms), their counts,
-- and the term's BM25 weight in the passage under its version's statistics (a version never
-- changes, so the weight is computed once, as bm25s does). A question's score is the sum of
-- its terms' weights, read from the covering index alone.
CREATE TABLE IF NOT EXISTS bz_terms (
    document_id text NOT NULL,
    version bigint NOT NULL,
    row integer NOT NULL,
    term text NOT NULL,
    tf integer NOT NULL,
    PRIMARY KEY (document_id, version, row, term)
);
ALTER TABLE bz_terms ADD COLUMN IF NOT EXISTS weight real NOT NULL DEFAULT 0;
DROP INDEX IF EXISTS bz_terms_term;
CREATE INDEX IF NOT EXISTS bz_terms_weight ON bz_terms (version, term) INCLUDE (row, weight);
-- How many passages of a version hold each term (a reference table for Citus).
CREATE TABLE IF NOT EXISTS bz_df (
    version bigint NOT NULL,
    term text NOT NULL,
    df integer NOT NULL,
    PRIMARY KEY (version, term)
);
CREATE SEQUENCE IF NOT EXISTS bz_version_seq;
"""

# Tables that hold the rows of a version (dropped with it).
VERSIONED = ("bz_terms", "bz_df", "bz_sentences", "bz_passages", "bz_documents", "bz_files")
# What a version's rows look like; a store refuses versions written in another layout.
LAYOUT = 2


def connect(url: str, vector: bool = True) -> Any:
    """An autocommit connection (with pgvector's types unless ``vector`` is False: a writer
    creates the extension first), or a DatabaseError saying what to do."""
    try:
        import psycopg
    except ImportError as exc:
        raise DatabaseError(
            f"BELEIDSZOEKER_DATABASE_URL is set but the PostgreSQL driver is not installed: "
            f"run `{INSTALL}`."
        ) from exc
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise DatabaseError(
            f"Cannot reach the database at {redacted(url)} ({_first_line(exc)}): check that "
            "PostgreSQL runs and BELEIDSZOEKER_DATABASE_URL is right, or unset it to serve "
            "the index folder."
        ) from exc
    if not vector:
        return conn
    try:
        from pgvector.psycopg import register_vector

        register_vector(conn)
    except psycopg.ProgrammingError as exc:  # the type "vector" does not exist
        available = conn.execute(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'"
        ).fetchone()
        conn.close()
        if available:  # nothing was ever written here: the writer creates the extension
            raise DatabaseError(EMPTY) from exc
        raise DatabaseError(
            f"The database at {redacted(url)} has no pgvector: install the pgvector package "
            "on the database server, then run `beleidszoeker index --to-database` (it runs "
            "`CREATE EXTENSION vector`, which needs a superuser or the database owner)."
        ) from exc
    return conn


def create_schema(conn: Any, dim: int) -> None:
    """The extension and the tables (idempotent; one writer at a time)."""
    import psycopg

    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(7311)")
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except psycopg.Error as exc:
            raise DatabaseError(
                "pgvector is not available in this PostgreSQL: install the pgvector package "
                f"on the database server, then run `CREATE EXTENSION vector;` ({_first_line(exc)})"
            ) from exc
        row = conn.execute(
            "SELECT atttypmod FROM pg_attribute WHERE attrelid = to_regclass('bz_passages') "
            "AND attname = 'vector'"
        ).fetchone()
        if row is not None and row[0] != dim:
            raise DatabaseError(
                f"The database holds {row[0]}-dimensional vectors, this index has {dim}: "
                "use another database (or drop the bz_* tables) for an index of another embedder."
            )
        conn.execute(SCHEMA.format(dim=int(dim)))
    from pgvector.psycopg import register_vector

    register_vector(conn)


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
