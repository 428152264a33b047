"""Where a serving process's resident memory is: per mapped file, and the anonymous part by
the caches that hold it.

``by_mapping`` reads ``/proc/self/smaps``: the resident pages of each mapped file (an index
column, a library) and of the anonymous mappings (the heap, FAISS's codes). ``by_cache``
empties the search code's bounded caches one by one, returning freed memory to the system
after each (``malloc_trim``), and reports how far anonymous memory fell: what each cache
held, measured rather than estimated from object sizes. Used by ``query_profile
--breakdown`` after the questions have run.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
from collections.abc import Callable
from pathlib import Path

from benchmarks.scale_bench import _rss_mb


def by_mapping(top: int = 25) -> tuple[float, list[tuple[str, float]]]:
    """(anonymous MB, [(file, resident MB)] largest first) of this process."""
    per_file: dict[str, float] = {}
    anon = 0.0
    name = ""
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()
        if not head:
            continue
        if "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
            name = head[5] if len(head) > 5 else ""
            continue
        if head[0] == "Rss:":
            mb = int(head[1]) / 1024
            if name.startswith("/"):
                per_file[name] = per_file.get(name, 0.0) + mb
            else:
                anon += mb
    files = sorted(per_file.items(), key=lambda kv: -kv[1])
    return anon, files[:top]


def _trim() -> None:
    gc.collect()
    with contextlib.suppress(OSError):  # not glibc: freed memory stays with the process
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def by_cache(caches: list[tuple[str, Callable[[], None]]]) -> list[tuple[str, float]]:
    """(cache, MB of anonymous memory freed by emptying it), in the order given."""
    _trim()
    out = []
    before = _rss_mb()["anon_mb"]
    for name, clear in caches:
        clear()
        _trim()
        after = _rss_mb()["anon_mb"]
        out.append((name, round(before - after, 1)))
        before = after
    return out


def search_caches(searcher) -> list[tuple[str, Callable[[], None]]]:
    """The bounded caches a served index fills while answering, each with its clear()."""
    from indexer.keyword import Decompounder
    from search_api import features, rarity
    from search_api.sentences import sentence_table

    store = searcher.store
    table = sentence_table(store)
    index = getattr(store, "index", None)
    out: list[tuple[str, Callable[[], None]]] = [
        ("sentences.window (16,384 word sets)", table._window.cache_clear),
        ("sentences.sentences (8,192 passages of them)", table.sentences._of_passage.cache_clear),
        ("sentences.chunks (8,192 passages)", table.chunks._get.cache_clear),
        ("sentences.context (4,096 word sets)", table.context._get.cache_clear),
        ("sentences.passage (4,096 word sets)", table.passage._get.cache_clear),
    ]
    if hasattr(table.vectors, "_kept"):
        out.append(("sentences.vectors (16,384 rows)", table.vectors._kept.clear))
    for segment in getattr(index, "segments", None) or []:
        if hasattr(segment.chunks, "_chunk"):
            out.append(("columns.ChunkTable (4,096 chunks)", segment.chunks._chunk.cache_clear))
        if hasattr(segment.texts, "_text"):
            out.append(("columns.TextStore (16 cleaned texts)", segment.texts._text.cache_clear))
    out += [
        ("features._token_terms (65,536)", features._token_terms.cache_clear),
        ("features.is_sentence (16,384)", features.is_sentence.cache_clear),
        ("rarity.zipf (65,536)", rarity.zipf.cache_clear),
        ("keyword.Decompounder.split (65,536)", Decompounder.split.cache_clear),
    ]
    if hasattr(searcher, "_query_vector"):
        out.append(("retrieval query vectors (256)", searcher._query_vector.cache_clear))
    return out


def ivf_codes_mb(searcher) -> list[tuple[str, float]]:
    """Bytes of the FAISS indexes' codes and ids (what an IVF index holds in memory)."""
    index = getattr(searcher.store, "index", None)
    out = []
    for i, segment in enumerate(getattr(index, "segments", None) or []):
        for part, dense in (("passages", segment.dense), ("sentences", segment.sentence_dense)):
            if dense is None:
                continue
            out.append((f"segment {i} {part} ({dense.ntotal:,})", round(_faiss_mb(dense), 1)))
    return out


def _faiss_mb(dense) -> float:
    import faiss

    ivf = faiss.try_extract_index_ivf(dense)
    if ivf is None:
        return dense.ntotal * dense.d * 4 / 2**20
    return ivf.ntotal * (ivf.code_size + 8) / 2**20
