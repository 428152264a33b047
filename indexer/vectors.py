"""The vector indexes of a build: exact while small, HNSW graphs past a size.

A flat (exact) scan costs time linear in the number of vectors: fine for thousands, about
0.6 s per question at a million passages on two cores (and sentences are ten times as
many). Past ``VectorIndexConfig.threshold`` vectors the index is built with
``faiss.index_factory`` from ``VectorIndexConfig.factory`` (an HNSW graph by default).
What was built, and with which parameters, is written in the manifest and read back at
load, so a build is searched the way it was made whatever the settings say today.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from beleidszoeker.config import VectorIndexConfig

FLAT = "Flat"


def spec_for(n: int, config: VectorIndexConfig) -> dict[str, Any]:
    """The index ``n`` vectors get: what the manifest records for it."""
    if n <= config.threshold:
        return {"factory": FLAT, "n": n}
    spec: dict[str, Any] = {"factory": config.factory, "n": n, "exact_below": config.exact_below}
    if "HNSW" in config.factory:
        spec.update(ef_construction=config.ef_construction, ef_search=config.ef_search)
    return spec


def build(vectors: np.ndarray, spec: dict[str, Any]) -> Any:
    """A FAISS index over ``vectors`` (rows L2-normalised, so inner product is cosine)."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dim = vectors.shape[1]
    index = faiss.index_factory(dim, spec["factory"], faiss.METRIC_INNER_PRODUCT)
    hnsw = _hnsw(index)
    if hnsw is not None:
        hnsw.efConstruction = int(spec["ef_construction"])
    if not index.is_trained:  # quantisers (SQ8, PQ, IVF) learn their ranges first
        index.train(vectors)
    index.add(vectors)
    prepare(index, spec)
    return index


def prepare(index: Any, spec: dict[str, Any]) -> None:
    """Apply the search parameters the manifest records (HNSW's efSearch) to a loaded index."""
    hnsw = _hnsw(index)
    if hnsw is not None and "ef_search" in spec:
        hnsw.efSearch = int(spec["ef_search"])


def search(
    index: Any,
    spec: dict[str, Any],
    vectors: np.ndarray,
    query: np.ndarray,
    k: int,
    allowed: np.ndarray | None = None,
) -> np.ndarray:
    """The ids of the (about) ``k`` vectors nearest ``query``, only among ``allowed`` if given.

    A flat index filters exactly with an ID selector. An ANN index does too for a broad
    filter (HNSW skips the excluded vectors while walking the graph, with efSearch at least
    ``k``); a narrow one (``exact_below`` vectors or fewer: one document, one year of a few
    documents) is scored exactly from ``vectors``, because a graph walk that may visit
    only a few allowed nodes can miss them.
    """
    import faiss

    q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
    if allowed is None:
        params = _ann_params(index, spec, k)
        _, ids = index.search(q, k, params=params) if params else index.search(q, k)
        return ids[0][ids[0] >= 0]
    if allowed.size == 0 or k <= 0:
        return np.zeros(0, np.int64)
    if spec.get("factory", FLAT) != FLAT and allowed.size <= spec.get("exact_below", 0):
        scores = np.asarray(vectors[allowed], np.float32) @ q[0]
        top = np.argsort(-scores, kind="stable")[:k]
        return np.asarray(allowed, np.int64)[top]
    selector = faiss.IDSelectorBatch(np.asarray(allowed, np.int64))
    params = _ann_params(index, spec, k, selector) or faiss.SearchParameters(sel=selector)
    _, ids = index.search(q, k, params=params)
    return ids[0][ids[0] >= 0]


def _ann_params(index: Any, spec: dict[str, Any], k: int, selector: Any = None) -> Any:
    import faiss

    if _hnsw(index) is None:
        return None
    # A walk that keeps fewer candidates than it must return returns fewer.
    ef = max(int(spec.get("ef_search", 16)), k)
    if selector is None:
        return faiss.SearchParametersHNSW(efSearch=ef)
    return faiss.SearchParametersHNSW(sel=selector, efSearch=ef)


def _hnsw(index: Any) -> Any:
    """The HNSW graph of an index built by the factory, or None."""
    import faiss

    try:
        return faiss.downcast_index(index).hnsw
    except AttributeError:
        return None
    except Exception:  # noqa: BLE001 - an index type downcast does not know
        return getattr(index, "hnsw", None)
