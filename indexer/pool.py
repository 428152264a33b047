"""A pool of worker processes for the per-document and per-block steps of a build.

Cleaning, chunking, splitting and tokenising are Python per character and per word: one
process keeps one core busy. ``ordered_map`` runs such a step in worker processes and gives
the results back in the order of its inputs, so a build with several workers writes the
same bytes as one without. Few items are done here, in this process: starting a worker
(a fresh interpreter importing the indexer) costs more than they do.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from beleidszoeker.errors import BeleidszoekerError

T = TypeVar("T")
R = TypeVar("R")

# Groups handed out per worker ahead of the one being consumed: enough to keep every worker
# busy while this process unpacks a result, few enough that results waiting to be consumed
# stay a handful of groups (memory bounded whatever the size of the corpus).
AHEAD = 3


def machine_cpus() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_count(setting: int | None) -> int:
    """Processes to use: the setting, or every core when it is unset (0)."""
    return setting if setting else machine_cpus()


def ordered_map(
    fn: Callable[[list[T]], list[R]],
    groups: Iterable[list[T]],
    workers: int,
) -> Iterator[R]:
    """``fn`` over each group, the results flattened in input order.

    With ``workers`` above 1, the groups run in that many worker processes (``fn`` a
    module-level function, groups and results picklable), at most ``AHEAD`` groups a worker
    in flight; else each group runs here. Workers are started fresh ("spawn"), not forked:
    a fork would copy the threads FAISS and the tokenisers may hold, and their locks.
    """
    if workers <= 1:
        for group in groups:
            yield from fn(group)
        return
    context = multiprocessing.get_context("spawn")
    pending: deque[Future[list[R]]] = deque()
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        try:
            for group in groups:
                pending.append(pool.submit(fn, group))
                if len(pending) >= workers * AHEAD:
                    yield from _result(pending.popleft())
            while pending:
                yield from _result(pending.popleft())
        finally:  # stopped early (an error, Ctrl-C, the consumer gone): drop what is queued
            for future in pending:
                future.cancel()


def _result(future: Future[list[R]]) -> list[R]:
    try:
        return future.result()
    except BrokenProcessPool as exc:
        raise BeleidszoekerError(
            "A worker process of the build stopped unexpectedly (out of memory, or a file "
            "that crashes its reader). Run `beleidszoeker index` again with "
            "BELEIDSZOEKER_INDEX_WORKERS=1 to index in one process and see which file it is."
        ) from exc


def grouped(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last one shorter)."""
    group: list[T] = []
    for item in items:
        group.append(item)
        if len(group) == size:
            yield group
            group = []
    if group:
        yield group
