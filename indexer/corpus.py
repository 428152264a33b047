"""Find the documents in the corpus folder and their manifest metadata."""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from beleidszoeker.errors import BeleidszoekerError
from indexer.file_hashes import FileHashes, ParsedManifest

MANIFEST = "manifest.toml"
MANIFEST_MEMO = "corpus_manifest.json"  # in the cache folder: the manifest parsed


@dataclass(frozen=True)
class SourceFile:
    root: Path  # the corpus folder
    relpath: str  # posix path relative to the corpus folder: the manifest key
    doc_id: str
    sha256: str
    size: int
    problem: str | None = None  # why the file must not be read: the build skips it with this

    @property
    def path(self) -> Path:
        # Made when asked for: a run reads few files, and a Path per file of a corpus of
        # 115,607 cost a second of every scan.
        return self.root / self.relpath


# Ids name files of the build (``texts/<id>.txt``): well below the 255-byte limit of a name.
MAX_ID_CHARS = 120


def document_id(relpath: str) -> str:
    """A URL-safe id: "Beleid/Nota 2024.pdf" -> "beleid-nota-2024"."""
    stem = relpath.rsplit(".", 1)[0] if "." in relpath.rsplit("/", 1)[-1] else relpath
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
    # Folder by folder ("a/b" before "a-c"): the path with its slashes below every other
    # character, cheaper than a list of its parts per file.
    found = sorted(_walk(str(corpus_dir)), key=lambda item: item[0].replace("/", "\0"))
    ids = assign_ids([rel for rel, _ in found])
    root = corpus_dir.resolve()
    base = os.path.abspath(corpus_dir)
    files: list[SourceFile] = []
    for rel, entry in found:
        if entry.is_symlink():
            problem = _problem(corpus_dir / rel, root)
        elif entry.is_file(follow_symlinks=False):
            problem = None  # a regular file in a folder of the corpus: inside by construction
        else:
            problem = NOT_REGULAR  # the walk only descends into folders: a pipe, socket, device
        if problem is not None:
            files.append(SourceFile(corpus_dir, rel, ids[rel], "", 0, problem))
            continue
        try:
            st = entry.stat()  # the one stat of a regular file (follows a link)
        except OSError:
            st = None  # a broken link or a vanished file: the loader reports why
        full = os.path.join(base, rel)
        digest = file_sha256(full) if hashes is None else hashes.sha256(full, file_sha256, st, full)
        files.append(SourceFile(corpus_dir, rel, ids[rel], digest, st.st_size if st else 0))
    return files


NOT_REGULAR = "is not a regular file (a pipe, socket or device)"


def _walk(folder: str, prefix: str = "") -> Iterator[tuple[str, os.DirEntry]]:
    """(relative path, entry) of everything below ``folder`` but folders, hidden entries
    and the manifest; links are not followed into folders.

    ``os.scandir`` tells a file, folder or link apart from the directory entry itself, so
    the walk costs no system call per file (``Path.rglob`` with ``resolve`` and ``stat``
    per file took 10 of the 27 s of a scan of 115,607 files). An unreadable folder is
    passed over: the files in it are not found, the others are.
    """
    try:
        with os.scandir(folder) as it:
            entries = list(it)
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue  # hidden, and everything below it
        rel = f"{prefix}{entry.name}"
        if not prefix and rel == MANIFEST:
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(entry.path, f"{rel}/")
        else:
            yield rel, entry


def _problem(path: Path, root: Path) -> str | None:
    """Why the link ``path`` must not be read, or None: only regular files inside the
    corpus are.

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
        return NOT_REGULAR
    return None


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return ""  # unreadable: the loader reports why
    return h.hexdigest()


def read_manifest(corpus_dir: Path, cache_dir: Path | None = None) -> dict[str, dict[str, object]]:
    """Metadata per file; a broken manifest is an error that names the file and line.

    With ``cache_dir`` the parsed manifest is remembered there, as the corpus files'
    hashes are (``indexer/file_hashes.py``): a manifest of 115,607 entries took 6 s of
    tomllib at every run, the remembered one a JSON load.
    """
    path = corpus_dir / MANIFEST
    try:
        st = path.stat()
    except OSError:
        return {}
    memo = ParsedManifest(cache_dir / MANIFEST_MEMO, path, st) if cache_dir else None
    if memo is not None and (known := memo.recall()) is not None:
        return known
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BeleidszoekerError(f"Cannot read {path}: {exc}. Fix the file and run again.") from exc
    entries = {k: v for k, v in data.items() if isinstance(v, dict)}
    if memo is not None:
        memo.remember(entries)
    return entries


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
