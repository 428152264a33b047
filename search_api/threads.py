"""BLAS on one thread while a question is searched and answered.

A question multiplies small matrices (a few thousand sentence vectors by one question
vector). numpy's OpenBLAS splits each product over every core, and its threads wait for
each other by spinning: on a busy two-core machine that made search p95 three times slower
at 100k passages (74 ms with two threads, 26 ms with one), and a server answering several
questions at once gains nothing from it. The products give the same numbers either way.
Index builds and training keep every thread: the limit holds only while a question runs.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

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
