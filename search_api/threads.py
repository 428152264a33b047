"""BLAS on one thread while a question is searched and answered; independent parts of a
search on the other core.

A question multiplies small matrices (a few thousand sentence vectors by one question
vector). numpy's OpenBLAS splits each product over every core, and its threads wait for
each other by spinning: on a busy two-core machine that made search p95 three times slower
at 100k passages (74 ms with two threads, 26 ms with one), and a server answering several
questions at once gains nothing from it. The products give the same numbers either way.
Index builds and training keep every thread: the limit holds only while a question runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_running = 0  # questions inside ``one_blas_thread``, in all threads
_limiter: Any = None


@lru_cache(maxsize=1)
def _controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()  # finds the BLAS libraries loaded: once, it takes ms


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS limited to one thread until the last question running leaves (the limit is
    process-wide, so concurrent questions share it)."""
    global _running, _limiter
    with _lock:
        if _running == 0:
            _limiter = _controller().limit(limits=1, user_api="blas")
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0:
                _limiter.restore_original_limits()
                _limiter = None


@lru_cache(maxsize=1)
def _side_pool() -> ThreadPoolExecutor:
    # One: a search runs its keyword search beside its own thread. Under many questions at
    # once they queue here and the cores are busy anyway; alone, a question gets both.
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="beleidszoeker-side")


def beside(fn: Callable[..., T], *args: Any) -> Future[T]:
    """``fn(*args)`` started on another thread; ``.result()`` waits for it (and raises
    what it raised).

    FAISS, reads by position and numpy's larger operations release the GIL, so the
    keyword search of a question runs while its vectors are searched. At a million
    passages, on an idle machine, search p50 / p95 went from 35.7 / 46.7 to 31.1 / 41.9 ms;
    on a machine busy with other work (load 8 to 10) p95 went from 121 to 128 ms, and
    running the sentence vectors' search beside as well made that 140 ms, so only the
    keyword search runs here.
    Only leaves of the work run here (nothing waits on this pool from inside it), so it
    cannot deadlock however many questions run at once.
    """
    return _side_pool().submit(fn, *args)
