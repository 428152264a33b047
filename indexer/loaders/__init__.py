"""Read a file into plain text, one loader per format, chosen by extension."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from indexer.loaders.base import Extracted, LoaderError
from indexer.loaders.text import load_text

Loader = Callable[[Path], Extracted]

LOADERS: dict[str, Loader] = {
    ".txt": load_text,
    ".md": load_text,
}


def supported_extensions() -> list[str]:
    return sorted(LOADERS)


def load(path: Path) -> Extracted:
    """Extract the text of ``path``; raises LoaderError with a user-readable reason."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise LoaderError(
            f"unsupported file type {path.suffix or '(none)'}; "
            f"supported: {', '.join(supported_extensions())}"
        )
    return loader(path)


__all__ = ["Extracted", "LoaderError", "load", "supported_extensions", "LOADERS"]
