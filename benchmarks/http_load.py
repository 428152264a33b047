"""Latency and throughput of /api/search and /api/ask over HTTP, on this machine.

Starts the real server (``beleidszoeker serve``) on a free loopback port over an existing
index and drives it with the evaluation questions, with one client and with eight clients
at once, for each endpoint. Every such run starts a fresh server and has two phases:

1. cold: each question asked once, so every request computes its question's vector;
2. repeated: the questions again and again until the request or time budget is spent.
   The server keeps the vectors of recent questions, so these are mostly cache hits: this
   is what a popular question costs, not a new one.

Run: ``.venv/bin/python benchmarks/http_load.py [--index data/index]``. Writes
``benchmarks/results/http_load.json`` and ``benchmarks/results/http_load.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval.questions import load_questions  # noqa: E402
from eval.scoring import DEFAULT_QUESTIONS  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = {
    ("search", 1): "p95 <= 100 ms",
    ("ask", 1): "p95 <= 100 ms",
    ("ask", 8): ">= 20 requests/s",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``beleidszoeker serve`` in a child process, on loopback: over the index folder, or over
    PostgreSQL when ``database_url`` is given. With ``standin`` (a synthetic corpus' source
    file) the server embeds with the scale benchmark's stand-in, as that index was built."""

    def __init__(
        self, index: Path, database_url: str | None = None, standin: Path | None = None
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        cmd = [sys.executable, "-m", "beleidszoeker.cli"]
        if standin is not None:
            from benchmarks.synthetic import STANDIN_SPEC

            cmd = [sys.executable, "-m", "benchmarks.standin_serve", str(standin)]
            env["BELEIDSZOEKER_EMBEDDER"] = STANDIN_SPEC
        cmd += ["serve", "--host", "127.0.0.1", "--port", str(self.port), "--index", str(index)]
        env.pop("BELEIDSZOEKER_DATABASE_URL", None)
        if database_url:
            env["BELEIDSZOEKER_DATABASE_URL"] = database_url
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def wait(self, timeout: float = 300.0) -> float:
        """Seconds until ``/api/health`` answers (model and index loaded)."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.proc.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    return round(time.monotonic() - t0, 2)
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise RuntimeError("server did not become healthy in time")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def run_phase(
    url: str, endpoint: str, questions: list[str], clients: int, max_requests: int, seconds: float
) -> dict[str, object]:
    """``clients`` threads ask the questions in turn until the request or time budget is spent."""
    lock = threading.Lock()
    issued = 0
    samples: list[tuple[float, int]] = []  # (ms, status)
    deadline = time.monotonic() + seconds

    def client() -> None:
        nonlocal issued
        with httpx.Client(base_url=url, timeout=60) as http:
            while time.monotonic() < deadline:
                with lock:
                    if issued >= max_requests:
                        return
                    q = questions[issued % len(questions)]
                    issued += 1
                t0 = time.perf_counter()
                status = get(http, f"/api/{endpoint}", {"q": q})
                ms = (time.perf_counter() - t0) * 1000
                with lock:
                    samples.append((ms, status))

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    all_ms = [ms for ms, _ in samples]
    return {
        "requests": len(samples),
        "errors": sum(status != 200 for _, status in samples),
        "seconds": round(elapsed, 2),
        "requests_per_s": round(len(samples) / elapsed, 1),
        "p50_ms": pct(all_ms, 50),
        "p95_ms": pct(all_ms, 95),
        "mean_ms": round(statistics.fmean(all_ms), 1) if all_ms else None,
    }


def get(http: httpx.Client, path: str, params: dict[str, str]) -> int:
    """The status of one request; 0 when it timed out (an error counted, not a crash)."""
    try:
        return http.get(path, params=params).status_code
    except httpx.TimeoutException:
        return 0


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return round(ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo), 1)


def write_markdown(result: dict[str, object], path: Path) -> None:
    lines = [
        "# HTTP load: /api/search and /api/ask",
        "",
        f"Measured {result['when']} on {result['machine']} ({result['cores']} cores), shared "
        f"with other work: load average {result['loadavg_before']} before the run and "
        f"{result['loadavg_after']} after.",
        "",
        f"Server: `beleidszoeker serve` over `{result['index']}` ({result['n_chunks']} "
        f"passages), one process. Load: the {result['n_questions']} evaluation questions over "
        "loopback; every row starts a fresh server. *Cold*: each question once, so each request "
        "computes its question's vector. *Repeated*: the questions again until "
        f"{result['max_requests']} requests or {result['max_seconds']} s; mostly served from "
        "the server's cache of recent question vectors.",
        "",
        "| endpoint | clients | phase | requests | p50 ms | p95 ms | req/s | errors | target |",
        "|---|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for run in result["runs"]:
        target = TARGETS.get((run["endpoint"], run["clients"]), "")
        for phase in ("cold", "repeated"):
            ph = run[phase]
            lines.append(
                f"| /api/{run['endpoint']} | {run['clients']} | {phase} | {ph['requests']} | "
                f"{ph['p50_ms']} | {ph['p95_ms']} | {ph['requests_per_s']} | {ph['errors']} | "
                f"{target if phase == 'cold' else ''} |"
            )
    lines += ["", "Command: `.venv/bin/python benchmarks/http_load.py`", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, default=ROOT / "data" / "index")
    parser.add_argument("--max-requests", type=int, default=400, help="per phase")
    parser.add_argument("--seconds", type=float, default=30.0, help="per phase")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    questions = [q.question for q in load_questions(DEFAULT_QUESTIONS)]
    manifest = json.loads((args.index / "manifest.json").read_text(encoding="utf-8"))
    result: dict[str, object] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "loadavg_before": [round(x, 2) for x in os.getloadavg()],
        "index": str(args.index),
        "n_chunks": manifest.get("n_chunks"),
        "n_questions": len(questions),
        "max_requests": args.max_requests,
        "max_seconds": args.seconds,
        "runs": [],
    }
    for endpoint in ("search", "ask"):
        for clients in (1, 8):
            server = Server(args.index)
            try:
                server.wait()
                n = len(questions)
                run = {
                    "endpoint": endpoint,
                    "clients": clients,
                    "cold": run_phase(server.url, endpoint, questions, clients, n, args.seconds),
                    "repeated": run_phase(
                        server.url, endpoint, questions, clients, args.max_requests, args.seconds
                    ),
                }
            finally:
                server.stop()
            print(json.dumps(run), flush=True)
            result["runs"].append(run)
    result["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "http_load.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    write_markdown(result, args.out / "http_load.md")
    print(f"Wrote {args.out / 'http_load.md'}")


if __name__ == "__main__":
    main()
