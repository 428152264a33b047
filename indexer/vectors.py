"""The vector indexes of a build: exact while small, compact ANN indexes past a size.

A flat (exact) scan costs time linear in the number of vectors: fine for thousands, about
0.6 s per question at a million passages on two cores (and sentences are ten times as
many). Past ``VectorIndexConfig.threshold`` vectors the index is built with
``faiss.index_factory`` from ``VectorIndexConfig.factory`` (by default an inverted file of
product-quantised codes). Such an index holds compact codes, not the vectors: the float32
vectors stay in the build's memory-mapped ``.npy`` file, held once, and the candidates the
index returns are re-scored exactly from it (``refine``). What was built, and with which
parameters, is written in the manifest and read back at load, so a build is searched the
way it was made whatever the settings say today.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import numpy as np

from beleidszoeker.config import VectorIndexConfig
from indexer.pages import release

FLAT = "Flat"
# Vectors added (and read from the mapped file) per call while building: a block, not a
# float32 copy of every vector (14 GB for 9.4M sentences).
_BLOCK = 100_000
# faiss's k-means wants at least 39 training points per centroid; PQ's 256 centroids per
# sub-vector want 39 * 256 as well.
_TRAIN_PER_LIST, _TRAIN_MIN = 40, 10_000
# Fewer vectors than this get a flat index even past the threshold when the factory learns
# centroids (IVF lists, PQ's 256 per sub-vector): k-means needs more points than centroids,
# and an exact scan of a thousand vectors takes microseconds.
MIN_TRAINED = 1_000


def spec_for(n: int, config: VectorIndexConfig, part: str = "passages") -> dict[str, Any]:
    """The index ``n`` vectors of ``part`` ("passages" or "sentences") get: what the
    manifest records for it."""
    chosen = config.sentence_factory if part == "sentences" else config.factory
    factory = chosen.replace("{nlist}", str(nlist_for(n)))
    if n <= config.threshold or (n < MIN_TRAINED and _clusters(factory)):
        return {"factory": FLAT, "n": n}
    spec: dict[str, Any] = {"factory": factory, "n": n, "exact_below": config.exact_below}
    if "HNSW" in factory:
        spec.update(ef_construction=config.ef_construction, ef_search=config.ef_search)
    if factory.startswith("IVF"):
        spec.update(nprobe=config.nprobe)
    refine = config.sentence_refine if part == "sentences" else config.refine
    if refine:
        spec.update(refine=refine)
    return spec


def nlist_for(n: int) -> int:
    """Inverted lists for ``n`` vectors: the power of two nearest sqrt(n), at least 16
    (1,024 lists for a million vectors, 4,096 for ten million)."""
    return 2 ** max(4, round(math.log2(max(n, 1)) / 2))


def build(vectors: np.ndarray, spec: dict[str, Any], stop: threading.Event | None = None) -> Any:
    """A FAISS index over ``vectors`` (rows L2-normalised, so inner product is cosine).

    ``vectors`` may be memory-mapped: they are read a block at a time. ``stop`` set, the
    build gives up before its next block (``Stopped``).
    """
    import faiss

    dim = vectors.shape[1]
    index = faiss.index_factory(dim, spec["factory"], faiss.METRIC_INNER_PRODUCT)
    hnsw = _hnsw(index)
    if hnsw is not None:
        hnsw.efConstruction = int(spec["ef_construction"])
    if not index.is_trained:  # quantisers (SQ8, PQ, IVF) learn their ranges first
        with _one_thread():
            index.train(_training_sample(vectors, spec))
        release(vectors)  # the sample's rows map pages from all over the file
    for start in range(0, len(vectors), _BLOCK):
        if stop is not None and stop.is_set():
            raise Stopped
        index.add(np.ascontiguousarray(vectors[start : start + _BLOCK], dtype=np.float32))
        release(vectors)  # a mapped file's pages read so far: the kernel's, not the build's
    prepare(index, spec)
    return index


class Stopped(Exception):
    """A vector index built beside the rest of a build was given up (the build failed)."""


class Beside:
    """Large vector indexes built in a thread while a build does other work.

    The keyword statistics, the promise register and writing the columns are Python on one
    core; FAISS's training (one thread, see ``_one_thread``) and adding run without the
    GIL, so beside them they use the core left idle. A small index (flat) is not started
    here: it is built in line when written, as before. Closing stops a build still running
    at its next block and waits for it.
    """

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._stop = threading.Event()

    def start(self, vectors: np.ndarray, spec: dict[str, Any]) -> Future | None:
        """The index ``spec`` over ``vectors``, being built; None when it is flat."""
        if spec["factory"] == FLAT:
            return None
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="vector-index")
        return self._pool.submit(build, vectors, spec, self._stop)

    def close(self) -> None:
        self._stop.set()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def beside() -> Iterator[Beside]:
    """A ``Beside`` for one build, closed when it ends."""
    started = Beside()
    try:
        yield started
    finally:
        started.close()


@contextmanager
def _one_thread() -> Iterator[None]:
    """faiss's k-means runs thousands of tiny OpenMP loops (256 centroids per 8-number
    sub-vector for PQ), whose threads spin-wait for each other: on a busy two-core machine
    training a PQ took 38 s with two threads and 1.8 s with one."""
    import faiss

    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(threads)


def _clusters(factory: str) -> bool:
    """Whether an index of this factory string learns centroids by k-means."""
    return any(part.startswith(("IVF", "PQ", "OPQ")) for part in factory.split(","))


def _training_sample(vectors: np.ndarray, spec: dict[str, Any]) -> np.ndarray:
    """Enough rows to train the quantisers, picked evenly at random (seeded: the same
    vectors give the same index), in file order so a mapped file is read forwards."""
    ivf = spec["factory"].split(",")[0]
    lists = int(ivf[3:]) if ivf.startswith("IVF") and ivf[3:].isdigit() else 0
    want = max(_TRAIN_PER_LIST * lists, _TRAIN_MIN)
    if want >= len(vectors):
        return np.ascontiguousarray(vectors, dtype=np.float32)
    rows = np.sort(np.random.default_rng(0).choice(len(vectors), want, replace=False))
    return np.ascontiguousarray(vectors[rows], dtype=np.float32)


def prepare(index: Any, spec: dict[str, Any]) -> None:
    """Apply the search parameters the manifest records (HNSW's efSearch, IVF's nprobe)
    to a loaded index."""
    hnsw = _hnsw(index)
    if hnsw is not None and "ef_search" in spec:
        hnsw.efSearch = int(spec["ef_search"])
    ivf = _ivf(index)
    if ivf is not None and "nprobe" in spec:
        ivf.nprobe = int(spec["nprobe"])


def search(
    index: Any,
    spec: dict[str, Any],
    vectors: np.ndarray,
    query: np.ndarray,
    k: int,
    allowed: np.ndarray | None = None,
) -> np.ndarray:
    """The ids of the (about) ``k`` vectors nearest ``query``, only among ``allowed`` if given
    (``nearest`` without the scores)."""
    return nearest(index, spec, vectors, query, k, allowed)[0]


def nearest(
    index: Any,
    spec: dict[str, Any],
    vectors: np.ndarray,
    query: np.ndarray,
    k: int,
    allowed: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ids of the (about) ``k`` vectors nearest ``query``, only among ``allowed`` if given,
    and their inner products with it computed from ``vectors`` (float32).

    A flat index filters exactly with an ID selector. An ANN index does too for a broad
    filter (HNSW skips the excluded vectors while walking the graph, IVF while scanning its
    lists); a narrow one (``exact_below`` vectors or fewer: one document, one year of a few
    documents) is scored exactly from ``vectors``, because a search that may meet only a
    few allowed vectors can miss them. An ANN index with ``refine`` returns that many
    candidates, re-scored exactly from ``vectors``: its compact codes only choose them.
    The scores of re-scored candidates come from that re-scoring, not from reading their
    rows again: each row read is a system call, or a read from disk.
    """
    import faiss

    q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
    if k <= 0 or (allowed is not None and allowed.size == 0):
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    ann = spec.get("factory", FLAT) != FLAT
    if ann and allowed is not None and allowed.size <= spec.get("exact_below", 0):
        return _exact(np.asarray(allowed, np.int64), vectors, q[0], k)
    depth = max(k, int(spec.get("refine", 0))) if ann else k
    selector = None if allowed is None else faiss.IDSelectorBatch(np.asarray(allowed, np.int64))
    params = _ann_params(index, spec, depth, selector)
    if params is None and selector is not None:
        params = faiss.SearchParameters(sel=selector)
    _, ids = index.search(q, depth, params=params) if params else index.search(q, depth)
    found = ids[0][ids[0] >= 0]
    if ann and spec.get("refine"):
        return _exact(np.sort(found), vectors, q[0], k)
    found = found[:k]
    return found, _scores(vectors, found, q[0])


def _exact(
    ids: np.ndarray, vectors: np.ndarray, q: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` of ``ids`` nearest ``q`` by their stored vectors and their scores, ties in
    id order (ids come sorted, so a file is read forwards)."""
    scores = _scores(vectors, ids, q)
    best = np.argsort(-scores, kind="stable")[:k]
    return ids[best], scores[best]


def _scores(vectors: np.ndarray, ids: np.ndarray, q: np.ndarray) -> np.ndarray:
    if not len(ids):
        return np.zeros(0, np.float32)
    return np.asarray(vectors[ids], np.float32) @ q


def _ann_params(index: Any, spec: dict[str, Any], depth: int, selector: Any = None) -> Any:
    import faiss

    extra = {} if selector is None else {"sel": selector}
    if _hnsw(index) is not None:
        # A walk that keeps fewer candidates than it must return returns fewer.
        ef = max(int(spec.get("ef_search", 16)), depth)
        return faiss.SearchParametersHNSW(efSearch=ef, **extra)
    if _ivf(index) is not None:
        return faiss.SearchParametersIVF(nprobe=int(spec.get("nprobe", 1)), **extra)
    return None


def _hnsw(index: Any) -> Any:
    """The HNSW graph of an index built by the factory, or None."""
    import faiss

    if not isinstance(index, faiss.Index):  # a view merging the segments' own indexes
        return None
    try:
        return faiss.downcast_index(index).hnsw
    except AttributeError:
        return None
    except Exception:  # noqa: BLE001 - an index type downcast does not know
        return getattr(index, "hnsw", None)


def _ivf(index: Any) -> Any:
    """The inverted-file index inside an index built by the factory, or None."""
    import faiss

    if not isinstance(index, faiss.Index):  # a view merging the segments' own indexes
        return None
    try:
        return faiss.extract_index_ivf(index)
    except RuntimeError:  # not an IVF index
        return None
