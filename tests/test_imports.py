"""search_api/ imports flow one way: no module imports one that (indirectly) imports it."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "search_api"


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The search_api modules ``path`` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            if parts[0] == "search_api":
                found.update(parts[1:2] or [a.name for a in node.names])
        elif isinstance(node, ast.Import):
            found.update(
                a.name.split(".")[1] for a in node.names if a.name.startswith("search_api.")
            )
    return found & modules


def test_search_api_has_no_import_cycles():
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    graph = {m: _imports(PACKAGE / f"{m}.py", modules) for m in modules}

    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:  # pragma: no cover - the failure message names the cycle
        raise AssertionError(f"import cycle in search_api: {exc.args[1]}") from exc
    assert set(order) == modules
