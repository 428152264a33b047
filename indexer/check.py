"""`beleidszoeker check`: is every build intact, the index current and the vector cache sound?"""

from __future__ import annotations

from dataclasses import dataclass, field

from beleidszoeker.config import Settings
from beleidszoeker.errors import BeleidszoekerError
from indexer import corpus
from indexer.store import (
    abandoned,
    builds_dir,
    finished_builds,
    read_manifest,
    unfinished_builds,
    verify_build,
)
from indexer.vector_cache import VectorCache

REPAIR = "run `beleidszoeker index` to repair it"


@dataclass
class CheckReport:
    ok: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # each says what to do

    @property
    def healthy(self) -> bool:
        return not self.problems


def check_index(settings: Settings) -> CheckReport:
    """Verify every build's checksums, the corpus against the index, and the vector cache."""
    report = CheckReport()
    index_dir = settings.index_dir
    live = index_dir.resolve() if index_dir.exists() else None
    manifest = read_manifest(index_dir) if live else None
    if live is None:
        report.problems.append(f"No index in {index_dir}: run `beleidszoeker index`.")
    builds = finished_builds(index_dir)
    if live is not None and live not in [b.resolve() for b in builds]:
        builds.insert(0, live)  # an index folder that is not (yet) a link to a build
    for build in builds:
        is_live = live is not None and build.resolve() == live
        name = f"build {build.name}" + (" (served)" if is_live else "")
        problems = verify_build(build, full=True)  # every byte, not sampled blocks
        if not problems:
            report.ok.append(f"{name}: every file matches its checksum")
        elif is_live:
            shown = "; ".join(problems[:5])
            report.problems.append(f"{name} is damaged ({shown}): {REPAIR}.")
        else:
            report.ok.append(f"{name}: damaged, not used (removed by the next index run)")
    stale = [p for p in unfinished_builds(builds_dir(index_dir)) if abandoned(p)]
    if stale:
        report.ok.append(
            f"{len(stale)} unfinished build folder(s) of interrupted runs: removed by the "
            "next `beleidszoeker index`"
        )
    if manifest is not None:
        _check_corpus(settings, manifest, report)
        _check_cache(settings, manifest, report)
    return report


def _check_corpus(settings: Settings, manifest: dict, report: CheckReport) -> None:
    try:
        files = corpus.discover(settings.corpus_dir)
        fingerprint = corpus.corpus_fingerprint(files, corpus.read_manifest(settings.corpus_dir))
    except BeleidszoekerError as exc:
        report.problems.append(str(exc))
        return
    if fingerprint == manifest.get("corpus_fingerprint"):
        report.ok.append(f"index is up to date with {settings.corpus_dir} ({len(files)} files)")
    else:
        report.ok.append(
            f"{settings.corpus_dir} changed since the index was built: run "
            "`beleidszoeker index` to take the changes in"
        )


def _check_cache(settings: Settings, manifest: dict, report: CheckReport) -> None:
    path = settings.cache_dir / "vectors.sqlite"
    if not path.exists():
        report.ok.append(f"no vector cache at {path} yet (made by the next index run)")
        return
    embedder = manifest.get("embedder", {})
    try:
        cache = VectorCache(path, timeout=5)
        try:
            damage = cache.check()
            total, invalid = cache.count_invalid(embedder.get("name", ""), embedder.get("dim", 0))
        finally:
            cache.close()
    except BeleidszoekerError as exc:
        report.problems.append(str(exc))
        return
    if damage:
        report.problems.append(
            f"The vector cache {path} is damaged ({damage}): delete it and run "
            "`beleidszoeker index` (it only saves time and is rebuilt)."
        )
    elif invalid:
        report.ok.append(
            f"vector cache {path}: {invalid} of {total} vectors unusable (NaN or wrong size); "
            "they are embedded again by the next index run"
        )
    else:
        report.ok.append(f"vector cache {path}: {total} vectors, all sound")
