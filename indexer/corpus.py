"""Find the documents in the corpus folder and their manifest metadata."""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from beleidszoeker.errors import BeleidszoekerError

MANIFEST = "manifest.toml"


@dataclass(frozen=True)
class SourceFile:
    path: Path
    relpath: str  # posix path relative to the corpus folder: the manifest key
    doc_id: str
    sha256: str
    size: int


def document_id(relpath: str) -> str:
    """A URL-safe id: "Beleid/Nota 2024.pdf" -> "beleid-nota-2024"."""
    stem = relpath.rsplit(".", 1)[0] if "." in Path(relpath).name else relpath
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    return slug or "document"


def discover(corpus_dir: Path) -> list[SourceFile]:
    """Every file below ``corpus_dir`` (hidden files and the manifest excluded)."""
    if not corpus_dir.is_dir():
        raise BeleidszoekerError(
            f"Corpus folder {corpus_dir} does not exist: create it and put documents in it, "
            "or point BELEIDSZOEKER_CORPUS_DIR / --corpus at your documents."
        )
    files: list[SourceFile] = []
    taken: set[str] = set()
    for path in sorted(corpus_dir.rglob("*")):
        rel = path.relative_to(corpus_dir).as_posix()
        if rel == MANIFEST or any(p.startswith(".") for p in rel.split("/")):
            continue
        # A broken link is kept, so the build names it as unreadable instead of ignoring it.
        if not path.is_file() and not (path.is_symlink() and not path.exists()):
            continue
        doc_id = document_id(rel)
        if doc_id in taken:  # "nota.pdf" next to "nota.docx"
            doc_id = document_id(rel.replace(".", "-"))
        taken.add(doc_id)
        files.append(SourceFile(path, rel, doc_id, file_sha256(path), _size(path)))
    return files


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # a broken link: the loader reports why it cannot be read


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return ""  # unreadable: the loader reports why
    return h.hexdigest()


def read_manifest(corpus_dir: Path) -> dict[str, dict[str, object]]:
    """Metadata per file; a broken manifest is an error that names the file and line."""
    path = corpus_dir / MANIFEST
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BeleidszoekerError(f"Cannot read {path}: {exc}. Fix the file and run again.") from exc
    return {k: v for k, v in data.items() if isinstance(v, dict)}


def title_from_filename(relpath: str) -> str:
    stem = Path(relpath).stem
    words = re.sub(r"[-_]+", " ", stem).strip()
    return words[:1].upper() + words[1:] if words else relpath


def corpus_fingerprint(files: list[SourceFile], manifest: dict[str, dict[str, object]]) -> str:
    """Changes whenever a file is added, removed, changed or re-described."""
    h = hashlib.sha256()
    for f in files:
        h.update(f"{f.relpath}\0{f.sha256}\n".encode())
    h.update(repr(sorted(manifest.items())).encode())
    return h.hexdigest()
