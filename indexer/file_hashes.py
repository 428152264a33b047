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

    def sha256(
        self, path: str | Path, hash_file, st: os.stat_result | None = None, key: str | None = None
    ) -> str:
        """``hash_file(path)``, or the recorded hash when the file is as it was.

        ``st`` (its ``os.stat``) and ``key`` (its absolute path) spare the system calls
        when the caller has them already (the corpus walk does).
        """
        if st is None:
            try:
                st = os.stat(path)
            except OSError:
                return hash_file(path)
        key = key or os.path.abspath(path)  # not resolve(): a system call per folder level
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
        _write_quietly(self.path, json.dumps(self._now))


class ParsedManifest:
    """The corpus manifest as last parsed, remembered under the same rule as the hashes:
    trusted while the file's size, times and inode are those recorded, and not when it
    was recorded within ``RACY_NS`` of its last change (a cache: lost, it is parsed again).
    """

    def __init__(self, memo: Path, manifest: Path, st: os.stat_result) -> None:
        self.memo, self.key, self.st = memo, os.path.abspath(manifest), st

    def recall(self) -> dict | None:
        """The entries parsed from the manifest as it is now, or None."""
        try:
            known = json.loads(self.memo.read_text(encoding="utf-8"))
            fresh = known["path"] == self.key and known["stat"] == _key(self.st)
            if fresh and known["recorded"] - self.st.st_mtime_ns >= RACY_NS:
                return known["entries"]
        except (OSError, ValueError, KeyError, TypeError):
            pass
        return None

    def remember(self, entries: dict) -> None:
        """Record ``entries``; never fails a build. Values JSON cannot give back as they
        were (TOML dates) are not recorded: such a manifest is parsed every time."""
        record = {"path": self.key, "stat": _key(self.st), "recorded": time.time_ns()}
        try:
            text = json.dumps({**record, "entries": entries}, ensure_ascii=False)
        except (TypeError, ValueError):
            return
        _write_quietly(self.memo, text)


def _write_quietly(path: Path, text: str) -> None:
    """``text`` to ``path`` whole or not at all; a cache that cannot be written is no error."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)
