"""Corpus files unchanged since the last run are not hashed again; a changed file always
is, also when its size and modification time were put back; a file recorded within the
clock tick of its last change is hashed again (indexer/file_hashes.py)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from indexer.corpus import discover, file_sha256
from indexer.file_hashes import FileHashes


class Counting:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, path: Path) -> str:
        self.calls += 1
        return file_sha256(path)


def _aged(path: Path, text: str, seconds: float = 10) -> None:
    path.write_text(text, encoding="utf-8")
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_an_unchanged_file_is_not_read_again(tmp_path: Path):
    doc, cache = tmp_path / "nota.txt", tmp_path / "hashes.json"
    _aged(doc, "De provincie belooft snel internet.")
    first = Counting()
    hashes = FileHashes(cache)
    digest = hashes.sha256(doc, first)
    hashes.save()
    assert first.calls == 1 and digest == file_sha256(doc)

    again = Counting()
    assert FileHashes(cache).sha256(doc, again) == digest and again.calls == 0
    # --force trusts nothing recorded.
    forced = Counting()
    assert FileHashes(cache, trust=False).sha256(doc, forced) == digest and forced.calls == 1


def test_a_change_is_seen_even_with_size_and_time_put_back(tmp_path: Path):
    doc, cache = tmp_path / "nota.txt", tmp_path / "hashes.json"
    _aged(doc, "De provincie belooft snel internet.")
    hashes = FileHashes(cache)
    before = hashes.sha256(doc, file_sha256)
    hashes.save()
    st = doc.stat()
    doc.write_text("De gemeente belooft snel internet.", encoding="utf-8")  # same size
    os.utime(doc, ns=(st.st_atime_ns, st.st_mtime_ns))  # the change time cannot be reset
    counting = Counting()
    after = FileHashes(cache).sha256(doc, counting)
    assert counting.calls == 1 and after != before and after == file_sha256(doc)


def test_a_file_recorded_just_after_its_change_is_hashed_again(tmp_path: Path):
    doc, cache = tmp_path / "nota.txt", tmp_path / "hashes.json"
    doc.write_text("Vers geschreven.", encoding="utf-8")  # modified now: racy
    hashes = FileHashes(cache)
    hashes.sha256(doc, file_sha256)
    hashes.save()
    counting = Counting()
    FileHashes(cache).sha256(doc, counting)
    assert counting.calls == 1


def test_discover_gives_the_same_hashes_with_and_without_the_record(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(3):
        _aged(corpus / f"doc-{i}.txt", f"Tekst nummer {i}.")
    hashes = FileHashes(tmp_path / "hashes.json")
    plain = [(f.relpath, f.sha256) for f in discover(corpus)]
    assert [(f.relpath, f.sha256) for f in discover(corpus, hashes)] == plain
    hashes.save()
    again = FileHashes(tmp_path / "hashes.json")
    assert [(f.relpath, f.sha256) for f in discover(corpus, again)] == plain
    assert again.reused == 3
