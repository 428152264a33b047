"""The corpus files' SHA-256, remembered by size, modification time and inode.

Every index run hashes every corpus file to find what changed: 11,562 files took 3.4 s
of an add at 100k passages, every byte of the corpus read again, and would take half a
minute at a million. Like git's index, a file whose size, modification and change times
and inode all match what was recorded is taken to hold what it held then. A file changed
within the clock tick of the recording could keep its times, so an entry recorded less
than ``RACY_NS`` after its file's modification time is not trusted ("racy" in git).
``beleidszoeker check`` and ``index --force`` hash every file regardless.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

NAME = "corpus_hashes.json"
RACY_NS = 2_000_000_000


def _key(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


class FileHashes:
    """Known hashes, read from and saved to ``cache_dir`` (a cache: lost, it is rebuilt)."""

    def __init__(self, path: Path, trust: bool = True) -> None:
        self.path = path
        self.reused = 0
        try:
            self._known = json.loads(path.read_text(encoding="utf-8")) if trust else {}
        except (OSError, ValueError):
            self._known = {}
        self._now: dict[str, list] = {}

    def sha256(self, path: Path, hash_file) -> str:
        """``hash_file(path)``, or the recorded hash when the file is as it was."""
        try:
            st = path.stat()
        except OSError:
            return hash_file(path)
        key = os.path.abspath(path)  # not resolve(): a system call per folder level
        entry = self._known.get(key)
        if entry and entry[0] == _key(st) and entry[2] - st.st_mtime_ns >= RACY_NS:
            self.reused += 1
            self._now[key] = entry
            return entry[1]
        digest = hash_file(path)
        if digest:
            self._now[key] = [_key(st), digest, time.time_ns()]
        return digest

    def save(self) -> None:
        """Write what this run saw (files gone are forgotten); never fails a build."""
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(self._now), encoding="utf-8")
            tmp.replace(self.path)
        except OSError:
            tmp.unlink(missing_ok=True)
