"""Results files that several benchmarks share (``store.md``): each writes only its own
section, between its start and end markers, and keeps the others."""

from __future__ import annotations

from pathlib import Path


def write_section(path: Path, section: str, start: str, end: str, title: str) -> None:
    """Put ``section`` (which begins with ``start`` and ends with ``end``) into ``path``:
    in place of the previous one, or after what is there; a new file gets ``title``."""
    text = path.read_text(encoding="utf-8") if path.exists() else f"# {title}\n"
    if start in text:
        before, rest = text.split(start, 1)
        text = before + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")
