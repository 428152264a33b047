"""Find the documents in the corpus folder and their manifest metadata."""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path

from beleidszoeker.errors import BeleidszoekerError
from indexer.file_hashes import FileHashes

MANIFEST = "manifest.toml"


@dataclass(frozen=True)
class SourceFile:
    path: Path
    relpath: str  # posix path relative to the corpus folder: the manifest key
    doc_id: str
    sha256: str
    size: int
    problem: str | None = None  # why the file must not be read: the build skips it with this


# Ids name files of the build (``texts/<id>.txt``): well below the 255-byte limit of a name.
MAX_ID_CHARS = 120


def document_id(relpath: str) -> str:
    """A URL-safe id: "Beleid/Nota 2024.pdf" -> "beleid-nota-2024"."""
    stem = relpath.rsplit(".", 1)[0] if "." in Path(relpath).name else relpath
    return _slug(stem, relpath)


def _slug(text: str, relpath: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "document"
    if len(slug) > MAX_ID_CHARS:
        # A deep or long path: keep the readable start, the hash keeps it unique.
        slug = f"{slug[: MAX_ID_CHARS - 9].rstrip('-')}-{_path_hash(relpath)}"
    return slug


def _path_hash(relpath: str) -> str:
    return hashlib.sha256(relpath.encode("utf-8", "surrogateescape")).hexdigest()[:8]


def assign_ids(relpaths: list[str]) -> dict[str, str]:
    """A unique id per path, the same for the same set of paths on every run.

    Paths are taken in sorted order: the first keeps its plain id ("nota"), a later one
    that would share it gets its extension ("nota-docx"), and if that is taken too (or is
    some other file's plain id) a hash of its path ("nota-3f2a9c1b"). "a.b.txt", "a-b.txt",
    "a_b.txt" and "NOTA.TXT", "Nota.txt", "nota.txt" thus all get ids of their own.
    """
    plain = {rel: document_id(rel) for rel in relpaths}
    reserved = set(plain.values())
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for rel in sorted(relpaths):
        candidates = [plain[rel]]
        if plain[rel] in taken:
            with_ext = _slug(rel, rel)
            candidates = [] if with_ext in reserved else [with_ext]
            candidates.append(_slug(f"{plain[rel]}-{_path_hash(rel)}", rel))
        doc_id = next((c for c in candidates if c not in taken), None)
        n = 1
        while doc_id is None or doc_id in taken:  # two hashes alike: practically never
            doc_id = _slug(f"{plain[rel]}-{_path_hash(f'{rel}#{n}')}", rel)
            n += 1
        taken.add(doc_id)
        ids[rel] = doc_id
    return ids


def discover(corpus_dir: Path, hashes: FileHashes | None = None) -> list[SourceFile]:
    """Every file below ``corpus_dir`` (hidden files and the manifest excluded); with
    ``hashes``, files unchanged since they were last hashed are not read again."""
    if not corpus_dir.is_dir():
        raise BeleidszoekerError(
            f"Corpus folder {corpus_dir} does not exist: create it and put documents in it, "
            "or point BELEIDSZOEKER_CORPUS_DIR / --corpus at your documents."
        )
    found: list[tuple[Path, str]] = []
    for path in sorted(corpus_dir.rglob("*")):
        rel = path.relative_to(corpus_dir).as_posix()
        if rel == MANIFEST or any(p.startswith(".") for p in rel.split("/")):
            continue
        if path.is_dir() and not path.is_symlink():
            continue
        found.append((path, rel))
    ids = assign_ids([rel for _, rel in found])
    root = corpus_dir.resolve()
    files: list[SourceFile] = []
    for path, rel in found:
        problem = _problem(path, root)
        if problem is not None:
            files.append(SourceFile(path, rel, ids[rel], "", 0, problem))
        else:
            digest = hashes.sha256(path, file_sha256) if hashes else file_sha256(path)
            files.append(SourceFile(path, rel, ids[rel], digest, _size(path)))
    return files


def _problem(path: Path, root: Path) -> str | None:
    """Why ``path`` must not be read, or None: only regular files inside the corpus are.

    A link may point anywhere (``ln -s /etc/passwd``): what it points at is served to
    every user, so a link out of the corpus folder is refused, not followed. A broken link
    is left to the loader, which names it as unreadable.
    """
    try:
        resolved = path.resolve(strict=False)
    except (OSError, RuntimeError) as exc:  # a loop of links
        return f"cannot be resolved ({exc})"
    if resolved != root and root not in resolved.parents:
        return "is a link to a file outside the corpus folder; links out are not followed"
    try:
        mode = os.stat(resolved).st_mode
    except OSError:
        return None  # a broken link or a vanished file: the loader reports why
    if stat.S_ISDIR(mode):
        return "is a link to a folder; put the documents themselves in the corpus folder"
    if not stat.S_ISREG(mode):
        return "is not a regular file (a pipe, socket or device)"
    return None


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
