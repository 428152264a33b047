"""Plain text and Markdown: UTF-8, falling back to Windows-1252 for older exports."""

from __future__ import annotations

from pathlib import Path

from indexer.loaders.base import Extracted, LoaderError

_SNIFF = 8192


def load_text(path: Path) -> Extracted:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoaderError(f"cannot read file ({exc.strerror or exc})") from exc
    if b"\x00" in data[:_SNIFF]:
        raise LoaderError("looks like a binary file, not text")
    notes: list[str] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise LoaderError("not UTF-8 or Windows-1252 text; save it as UTF-8") from exc
        notes.append("read as Windows-1252 (not UTF-8)")
    if not text.strip():
        raise LoaderError("the file is empty")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    title = _markdown_title(text) if path.suffix.lower() == ".md" else None
    return Extracted(text=text, title=title, notes=notes)


def _markdown_title(text: str) -> str | None:
    for line in text.splitlines()[:20]:
        if line.startswith("# "):
            return line[2:].strip() or None
    return None
