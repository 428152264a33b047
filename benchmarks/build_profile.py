"""Where a full build's time and memory go, stage by stage.

Removes the index, then runs ``build_index`` over the scale benchmark's synthetic corpus
of N passages (``benchmarks/scale_bench.py`` writes it, and fills the vector cache with
its cold build) while a thread samples, every few milliseconds, the resident memory (all
of it, and the process's own anonymous part) and which stage of the build the main thread
is in (the innermost function of ``STAGES`` on its stack). Nothing in the build is
changed or instrumented, so the figures are those of a plain build.

Run: ``nice .venv/bin/python -m benchmarks.build_profile --passages 20000 100000``
(each N in its own process, so one's memory does not count in the next).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INTERVAL = 0.02  # seconds between samples

# (module file, function) -> stage, innermost on the stack wins.
STAGES = {
    ("reading.py", "read_documents"): "read, clean, chunk documents",
    ("build.py", "_all_chunks"): "read, clean, chunk documents",
    ("vector_cache.py", "embed_with_cache"): "vector cache look-ups",
    ("build.py", "_sentences"): "split passages into sentences",
    ("word_tables.py", "build"): "word tables (tokenise)",
    ("word_tables.py", "merge"): "keyword statistics (merge, bm25)",
    ("keyword.py", "from_scores"): "keyword statistics (merge, bm25)",
    ("build.py", "_promise_register"): "promise register",
    ("columns.py", "write"): "write passage and text columns",
    ("vectors.py", "_training_sample"): "FAISS train",
    ("vectors.py", "build"): "FAISS add",
    # A large build's indexes are built in a thread beside the stages before the write
    # (their CPU counts in those stages): here the build waits for what is left of them.
    ("store.py", "_vector_index"): "FAISS, waiting for the indexes built beside",
    ("store.py", "_save_array"): "write arrays",
    ("word_tables.py", "save"): "write word tables",
    ("keyword.py", "save"): "write keyword index",
    ("sentence_terms.py", "save"): "write sentence terms",
    ("store.py", "_file_sum"): "checksums",
    ("store.py", "_prune"): "remove older builds",
}
ORDER = list(dict.fromkeys(STAGES.values()))


def _rss_kb() -> tuple[int, int]:
    """Resident memory (kB): all of it, and the process's own (anonymous) part."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]), int(fields["RssAnon"].split()[0])


def _cpu_seconds() -> float:
    """CPU seconds of this process's threads and of its finished children (the build's
    worker processes, counted when the pool that ran them is shut down)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _stage(frame) -> str:
    while frame is not None:
        code = frame.f_code
        found = STAGES.get((Path(code.co_filename).name, code.co_name))
        if found is not None:
            return found
        frame = frame.f_back
    return "other (discovery, manifests, Python between stages)"


def profile_build(n: int, work: Path) -> dict:
    """Time and peak resident memory per stage of one whole build from the cache."""
    from benchmarks.scale_bench import _remove_index, _settings, _source_path
    from benchmarks.synthetic import load_source, register_standin
    from indexer.build import build_index
    from indexer.pool import worker_count

    register_standin(load_source(_source_path(work)))
    settings = _settings(work, n)
    _remove_index(settings.index_dir)  # a whole build: every document read and written
    main = threading.main_thread().ident
    seconds: dict[str, float] = {}
    peak: dict[str, tuple[int, int]] = {}
    done = threading.Event()

    cpu: dict[str, float] = {}

    def sample() -> None:
        last, last_cpu = time.perf_counter(), _cpu_seconds()
        while not done.wait(INTERVAL):
            now, now_cpu = time.perf_counter(), _cpu_seconds()
            stage = _stage(sys._current_frames().get(main))
            seconds[stage] = seconds.get(stage, 0.0) + now - last
            # CPU seconds of every thread and worker: what the stage costs whatever else the
            # machine runs (wall time on a shared two-core machine moves by a factor of two).
            cpu[stage] = cpu.get(stage, 0.0) + now_cpu - last_cpu
            last_cpu = now_cpu
            rss, anon = _rss_kb()
            was = peak.get(stage, (0, 0))
            peak[stage] = (max(was[0], rss), max(was[1], anon))
            last = now

    start_kb = _rss_kb()[0]
    sampler = threading.Thread(target=sample, daemon=True)
    t, t_cpu = time.perf_counter(), _cpu_seconds()
    sampler.start()
    report = build_index(settings)
    done.set()
    sampler.join()
    total, total_cpu = time.perf_counter() - t, _cpu_seconds() - t_cpu
    stages = [
        {
            "stage": s,
            "seconds": round(seconds[s], 2),
            "cpu_s": round(cpu[s], 2),
            "peak_mb": round(peak[s][0] / 1024, 1),
            "peak_anon_mb": round(peak[s][1] / 1024, 1),
        }
        for s in [*ORDER, *sorted(set(seconds) - set(ORDER))]
        if s in seconds
    ]
    return {
        "passages": report.n_chunks,
        "seconds": round(total, 2),
        "cpu_s": round(total_cpu, 2),
        "load": round(os.getloadavg()[0], 1),
        "workers": worker_count(settings.index_workers),
        "start_mb": round(start_kb / 1024, 1),
        "peak_mb": round(max((p[0] for p in peak.values()), default=0) / 1024, 1),
        "peak_anon_mb": round(max((p[1] for p in peak.values()), default=0) / 1024, 1),
        "stages": stages,
    }


def markdown(runs: list[dict]) -> str:
    names = list(dict.fromkeys(s["stage"] for r in runs for s in r["stages"]))
    head = " | ".join(
        f"{r['passages']:,} passages: CPU s / wall s / peak RSS (anon) MB" for r in runs
    )
    lines = [f"| stage | {head} |", "|---|" + "---:|" * len(runs)]
    for name in names:
        cells = []
        for r in runs:
            got = next((s for s in r["stages"] if s["stage"] == name), None)
            cells.append("-" if got is None else _cell(got))
        lines.append(f"| {name} | {' | '.join(cells)} |")
    start = " | ".join(f"- / - / {r['start_mb']:,.0f}" for r in runs)
    totals = " | ".join(f"**{_cell(r)}**" for r in runs)
    lines.insert(2, f"| before the build (interpreter, libraries, stand-in) | {start} |")
    lines.append(f"| whole build | {totals} |")
    return "\n".join(lines)


def _cell(r: dict) -> str:
    return f"{r['cpu_s']} / {r['seconds']} / {r['peak_mb']:,.0f} ({r['peak_anon_mb']:,.0f})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--work", type=Path, default=ROOT / "data" / "scale")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    work = args.work.resolve()
    if args.worker:
        print(json.dumps(profile_build(args.passages[0], work)))
        return
    runs = []
    for n in args.passages:
        cmd = [sys.executable, "-m", "benchmarks.build_profile", "--worker"]
        cmd += ["--passages", str(n), "--work", str(work)]
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"N={n}: {_cell(runs[-1])}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1) + "\n", encoding="utf-8")
    print(markdown(runs))


if __name__ == "__main__":
    main()
