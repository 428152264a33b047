"""Why sentence recall fell at scale, and which vector index finds what exact search finds.

Reads a built scale index (``benchmarks/scale_bench.py``) as it is on disk, never through
the pipeline: the exact top 10 of every evaluation question, how many distinct texts it
holds and how far apart its scores are (the synthetic corpus repeats each source sentence
hundreds of times with a little noise), then recall of the index already built and of
other FAISS indexes built here from the same vectors:

    python -m benchmarks.ann_sweep data/scale/index-100000 --part sentences \\
        --factory IVF1024,SQ4 IVF1024,SQ8 --nprobe 32 64 --refine 300 1000

A sentence's text is told by the source sentence nearest its vector (the stand-in adds
noise of 0.15 to a source vector, which keeps it nearest its own; see
``benchmarks/synthetic.py``). Results go to stdout; the findings are in
``benchmarks/results/ann_recall.md``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from indexer.rows import RowFile, load_npy

K = 10
EPSILON = 0.01  # ann-benchmarks' "Epsilon 0.01 Recall", as in scale_bench


def exact_top(q: np.ndarray, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    top_s = np.full((len(q), k), -np.inf, np.float32)
    top_i = np.zeros((len(q), k), np.int64)
    for a in range(0, len(vectors), 200_000):
        scores = q @ np.asarray(vectors[a : a + 200_000], np.float32).T
        ids = np.broadcast_to(np.arange(a, a + scores.shape[1]), scores.shape)
        both_s, both_i = np.concatenate([top_s, scores], 1), np.concatenate([top_i, ids], 1)
        order = np.argsort(-both_s, axis=1, kind="stable")[:, :k]
        top_s, top_i = np.take_along_axis(both_s, order, 1), np.take_along_axis(both_i, order, 1)
    return top_s, top_i


def text_ids(vectors: np.ndarray, source: np.ndarray) -> np.ndarray:
    out = np.empty(len(vectors), np.int32)
    for a in range(0, len(vectors), 100_000):
        out[a : a + 100_000] = (np.asarray(vectors[a : a + 100_000]) @ source.T).argmax(1)
    return out


def measures(found, q, vectors, top_s, top_i, tid) -> str:
    idr = eps = texts = 0.0
    for r, f in enumerate(found):
        f = np.asarray(f)[np.asarray(f) >= 0]
        got = np.asarray(vectors[np.sort(f)], np.float32) @ q[r]
        idr += len(set(f.tolist()) & set(top_i[r].tolist())) / K
        eps += np.sum(1 - got <= (1 - top_s[r, -1]) * (1 + EPSILON)) / K
        want = set(tid[top_i[r]].tolist())
        texts += len(want & set(tid[f].tolist())) / len(want)
    n = len(found)
    return f"id {idr / n:.3f}  epsilon {eps / n:.3f}  texts {texts / n:.3f}"


def refined(index, q, vectors, depth: int) -> list[np.ndarray]:
    _, cand = index.search(q, max(depth, K))
    if depth <= K:
        return list(cand)
    out = []
    for r, c in enumerate(cand):
        c = np.sort(c[c >= 0])
        out.append(c[np.argsort(-(np.asarray(vectors[c], np.float32) @ q[r]), kind="stable")[:K]])
    return out


def main(argv: list[str] | None = None) -> None:
    import faiss

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", type=Path, help="a scale index folder (or one build of it)")
    parser.add_argument("--source", type=Path, default=Path("data/scale/source.npz"))
    parser.add_argument("--part", choices=["passages", "sentences"], default="sentences")
    parser.add_argument("--ef", type=int, nargs="*", default=[64, 256, 1024, 4096])
    parser.add_argument("--factory", nargs="*", default=[])
    parser.add_argument("--nprobe", type=int, nargs="*", default=[32, 64])
    parser.add_argument("--refine", type=int, nargs="*", default=[300, 1000])
    parser.add_argument(
        "--no-texts",
        action="store_true",
        help="skip telling each sentence's source text (a product of every sentence with every "
        "source sentence: hours at a million passages)",
    )
    args = parser.parse_args(argv)
    build = args.index.resolve()
    src = np.load(args.source)
    q = src["query_vectors"].astype(np.float32)
    name = "sentence_vectors.npy" if args.part == "sentences" else "vectors.npy"
    # Read by position, not mapped: mapped, the 14 GB of a million passages' sentence
    # vectors became this process's memory and pushed the index out of the page cache.
    vectors = RowFile(build / name)
    top_s, top_i = exact_top(q, vectors, 50)
    if args.part == "sentences" and not args.no_texts:
        tid = text_ids(vectors, src["vectors"].astype(np.float32))
    else:  # a passage mixes several source sentences (or --no-texts): each is its own text
        tid = np.arange(len(vectors), dtype=np.int32)
    counts = np.bincount(tid)
    distinct = np.array([len(set(tid[r[:K]].tolist())) for r in top_i])
    print(
        f"{args.part}: {len(vectors):,} vectors, {np.count_nonzero(counts):,} distinct texts, "
        f"copies per text median {np.median(counts[counts > 0]):.0f}, max {counts.max()}"
    )
    print(
        f"exact top {K}: distinct texts mean {distinct.mean():.2f}, one text only in "
        f"{np.mean(distinct == 1):.0%} of questions; score 1st - 10th median "
        f"{np.median(top_s[:, 0] - top_s[:, K - 1]):.4f}; 10th - 11th median "
        f"{np.median(top_s[:, K - 1] - top_s[:, K]):.6f}; within 0.001 of the 10th: median "
        f"{np.median((top_s >= top_s[:, [K - 1]] - 0.001).sum(1)):.0f} of the top 50"
    )
    top_s, top_i = top_s[:, :K], top_i[:, :K]
    built = build / ("sentences.faiss" if args.part == "sentences" else "dense.faiss")
    index = faiss.read_index(str(built))
    hnsw = getattr(faiss.downcast_index(index), "hnsw", None)
    for ef in args.ef if hnsw is not None else []:
        t = time.perf_counter()
        _, ids = index.search(q, K, params=faiss.SearchParametersHNSW(efSearch=ef))
        ms = (time.perf_counter() - t) * 1000 / len(q)
        print(
            f"built index, efSearch {ef}: {ms:.1f} ms  "
            f"{measures(ids, q, vectors, top_s, top_i, tid)}"
        )
    if hnsw is None:
        sweep(index, "built index, ", args, q, vectors, (top_s, top_i, tid))
    del index
    from beleidszoeker.config import VectorIndexConfig
    from indexer import vectors as ann

    vectors = load_npy(build / name, mmap_mode="r")  # a build reads every row
    for factory in args.factory:
        spec = ann.spec_for(len(vectors), VectorIndexConfig(threshold=0, factory=factory))
        t = time.perf_counter()
        index = ann.build(vectors, spec)
        size = faiss.serialize_index(index).size / len(vectors)
        print(f"{factory}: built in {time.perf_counter() - t:.0f} s, {size:.0f} bytes a vector")
        sweep(index, "  ", args, q, vectors, (top_s, top_i, tid))


def sweep(index, label: str, args, q: np.ndarray, vectors, exact: tuple) -> None:
    """An IVF index at every ``--nprobe`` and ``--refine``: time and recall of each."""
    import faiss

    for nprobe in args.nprobe:
        faiss.extract_index_ivf(index).nprobe = nprobe
        for depth in args.refine:
            t = time.perf_counter()
            found = refined(index, q, vectors, depth)
            ms = (time.perf_counter() - t) * 1000 / len(q)
            print(
                f"{label}nprobe {nprobe}, refine {depth}: {ms:.2f} ms  "
                f"{measures(found, q, vectors, *exact)}",
                flush=True,
            )


if __name__ == "__main__":
    main()
