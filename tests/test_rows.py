"""Rows of a ``.npy`` file read by position (``indexer.rows.RowFile``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from indexer import rows as rows_module
from indexer.rows import RowFile


@pytest.fixture
def stored(tmp_path: Path) -> tuple[np.ndarray, RowFile]:
    array = np.random.default_rng(1).standard_normal((5_000, 24)).astype(np.float32)
    np.save(tmp_path / "v.npy", array)
    return array, RowFile(tmp_path / "v.npy")


def test_rows_read_by_position_equal_the_array(stored) -> None:
    array, rows = stored
    assert rows.shape == array.shape and rows.dtype == array.dtype and len(rows) == len(array)
    rng = np.random.default_rng(2)
    for ids in (
        rng.choice(len(array), 700, replace=False),  # scattered, unsorted
        rng.integers(0, len(array), 900),  # repeats
        np.arange(100, 400),  # one run, read in one call
        np.r_[4_999, 0, 1, 2, 4_998, 7],  # both ends
        [3, -1, -5_000],  # negative ids count from the end
    ):
        np.testing.assert_array_equal(rows[ids], array[ids])
    assert rows[[]].shape == (0, 24)
    np.testing.assert_array_equal(rows[17], array[17])
    np.testing.assert_array_equal(rows[-1], array[-1])
    np.testing.assert_array_equal(rows[10:250], array[10:250])
    np.testing.assert_array_equal(rows[4_990:], array[4_990:])
    np.testing.assert_array_equal(rows[5:60:7], array[5:60:7])
    np.testing.assert_array_equal(np.asarray(rows), array)
    np.testing.assert_array_equal(np.asarray(rows, np.float64), array.astype(np.float64))


def test_rows_are_read_with_and_without_coalescing(stored, monkeypatch) -> None:
    array, rows = stored
    ids = np.random.default_rng(3).integers(0, len(array), 2_000)
    monkeypatch.setattr(rows_module, "_GAP_BYTES", 0)  # every row its own read
    np.testing.assert_array_equal(rows[ids], array[ids])
    monkeypatch.setattr(rows_module, "_GAP_BYTES", 1 << 20)  # long runs, gaps dropped
    np.testing.assert_array_equal(rows[ids], array[ids])


def test_rows_are_read_the_same_with_and_without_hints(stored, monkeypatch) -> None:
    array, rows = stored
    ids = np.random.default_rng(4).integers(0, len(array), 1_000)
    monkeypatch.setattr(rows_module, "_GAP_BYTES", 0)  # scattered rows: runs of their own
    hinted = []
    real = rows_module._WILLNEED
    monkeypatch.setattr(rows_module, "_WILLNEED", lambda *a: hinted.append(a) or real(*a))
    np.testing.assert_array_equal(rows[ids], array[ids])
    assert hinted  # scattered rows: every run hinted before the reads
    hinted.clear()
    np.testing.assert_array_equal(rows[np.arange(10, 20)], array[10:20])
    assert not hinted  # one run: read at once, nothing to hint
    monkeypatch.setattr(rows_module, "_WILLNEED", None)  # a system without it
    np.testing.assert_array_equal(rows[ids], array[ids])


def test_a_row_out_of_range_is_an_index_error(stored) -> None:
    _, rows = stored
    with pytest.raises(IndexError):
        rows[[0, 5_000]]
    with pytest.raises(IndexError):
        rows[-5_001]


def test_a_file_removed_while_open_stays_readable(stored, tmp_path: Path) -> None:
    array, rows = stored
    (tmp_path / "v.npy").unlink()  # a pruned build, still served
    np.testing.assert_array_equal(rows[[9, 3]], array[[9, 3]])


def test_a_file_that_is_not_a_plain_array_is_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "f.npy", np.asfortranarray(np.ones((3, 4), np.float32)))
    with pytest.raises(ValueError, match="not a C-ordered array"):
        RowFile(tmp_path / "f.npy")


def _rss_file_kb() -> int:
    status = Path("/proc/self/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("RssFile"))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux memory accounting")
def test_reading_rows_does_not_map_the_file_into_the_process(tmp_path: Path) -> None:
    # 48 MB just written, so the page cache holds it: mapped, each scattered row read
    # would bring its cached folio into the process's resident memory.
    array = np.ones((125_000, 96), np.float32)
    np.save(tmp_path / "big.npy", array)
    rows = RowFile(tmp_path / "big.npy")
    ids = np.random.default_rng(4).choice(len(array), 3_000, replace=False)
    before = _rss_file_kb()
    for _ in range(5):
        assert rows[ids].sum() == ids.size * 96
    assert _rss_file_kb() - before < 2_048


def test_npy_headers_are_parsed_one_thread_at_a_time(tmp_path):
    """numpy parses a header with ast, which CPython 3.11 cannot do in two threads at once
    (python/cpython#106905): every load of ours waits for the others' headers."""
    import threading

    from indexer.rows import NPY_HEADERS, load_npy, mapped

    np.save(tmp_path / "a.npy", np.arange(3))
    done: list = []

    def load_all() -> None:
        done.append(mapped(tmp_path / "a.npy"))
        done.append(load_npy(tmp_path / "a.npy"))
        done.append(RowFile(tmp_path / "a.npy")[0:3])

    with NPY_HEADERS:
        loader = threading.Thread(target=load_all)
        loader.start()
        loader.join(0.3)
        assert not done and loader.is_alive()  # waiting for the header lock
    loader.join(10)
    assert [a.tolist() for a in done] == [[0, 1, 2]] * 3
