"""Are the answers the same? ``/api/ask`` for every evaluation question, saved and compared.

A change to how the index is stored or loaded must not change a single answer. Take a
snapshot with the old code and one with the new, each over its own index of the same
corpus, and compare them:

    python -m benchmarks.answer_diff snapshot before.json --index-dir /tmp/before/index
    python -m benchmarks.answer_diff snapshot after.json --index-dir /tmp/after/index
    python -m benchmarks.answer_diff compare before.json after.json

``snapshot`` indexes the corpus first (from the vector cache) when the index is missing.
Only the question texts are used, never their labels. ``took_ms`` is left out.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def snapshot(index_dir: Path, out: Path) -> int:
    """Ask every evaluation question through the HTTP API; write the responses to ``out``."""
    from fastapi.testclient import TestClient

    from beleidszoeker.config import Settings
    from eval.questions import load_questions
    from indexer.build import build_index
    from search_api.app import create_app

    settings = Settings(index_dir=index_dir, corpus_dir=ROOT / "corpus")
    build_index(settings)
    questions = load_questions(ROOT / "eval" / "questions.yaml")
    responses = {}
    with TestClient(create_app(settings)) as client:
        for q in questions:
            response = client.get("/api/ask", params={"q": q.question})
            body = response.json()
            body.pop("took_ms", None)
            responses[q.id] = {"status": response.status_code, "body": body}
    out.write_text(json.dumps(responses, ensure_ascii=False, indent=1, sort_keys=True))
    return len(responses)


def compare(before: Path, after: Path) -> list[str]:
    """The question ids whose responses differ (a question in one file only differs too)."""
    a = json.loads(before.read_text(encoding="utf-8"))
    b = json.loads(after.read_text(encoding="utf-8"))
    return sorted(q for q in set(a) | set(b) if a.get(q) != b.get(q))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    snap = sub.add_parser("snapshot", help="ask every evaluation question, save the answers")
    snap.add_argument("out", type=Path)
    snap.add_argument("--index-dir", type=Path, required=True)
    comp = sub.add_parser("compare", help="list the questions whose answers differ")
    comp.add_argument("before", type=Path)
    comp.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.command == "snapshot":
        n = snapshot(args.index_dir, args.out)
        print(f"{n} answers written to {args.out}")
        return 0
    differ = compare(args.before, args.after)
    total = len(json.loads(args.before.read_text(encoding="utf-8")))
    if differ:
        print(f"{len(differ)} of {total} answers differ: {', '.join(differ)}")
        return 1
    print(f"all {total} answers identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
