"""A search's independent parts on another thread (``search_api.threads.beside``)."""

from __future__ import annotations

import threading
from concurrent.futures import Future

import pytest

import search_api.retrieval as retrieval
from search_api.retrieval import Searcher
from search_api.threads import beside


def test_beside_runs_on_another_thread_and_gives_back_its_result():
    assert beside(threading.get_ident).result() != threading.get_ident()
    assert beside(sum, [1, 2, 3]).result() == 6


def test_beside_raises_what_the_work_raised_where_it_is_awaited():
    def broken() -> None:
        raise ValueError("kapot")

    later = beside(broken)
    with pytest.raises(ValueError, match="kapot"):
        later.result()


def _in_line(fn, *args) -> Future:
    done: Future = Future()
    done.set_result(fn(*args))
    return done


@pytest.mark.parametrize(
    "question",
    ["welke projecten gaan over waterstof?", "Which projects are about hydrogen?", "snel internet"],
)
def test_a_search_finds_the_same_whether_its_parts_run_beside_or_in_line(
    fixture_index, monkeypatch, question
):
    searcher = Searcher(fixture_index.index, fixture_index.embedder)
    beside_hits = searcher.search(question, 10, "hybrid")
    monkeypatch.setattr(retrieval, "beside", _in_line)
    in_line_hits = searcher.search(question, 10, "hybrid")
    assert beside_hits  # the question finds something, so the comparison says something
    assert [(h.chunk.id, h.score) for h in beside_hits] == [
        (h.chunk.id, h.score) for h in in_line_hits
    ]
