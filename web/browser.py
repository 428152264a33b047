"""Serve the app on a loopback port and drive Debian's Chromium: for the browser tests and
the screenshots. Needs the ``test`` extra (Playwright) and ``apt-get install chromium``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
AXE_RULES = "{runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice']}"
# Headless on a closed network: no sandbox (root), and none of Chromium's own background
# connections, which would only be refused.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Run ``app`` on a free loopback port in a thread; yields its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@contextmanager
def chromium(executable: Path = CHROMIUM):
    """A headless Playwright browser on the system's Chromium (never a downloaded one)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise RuntimeError("Playwright is missing: pip install -e '.[test]'") from exc
    if not executable.exists():
        raise RuntimeError(
            f"No Chromium at {executable}: apt-get install -y chromium chromium-driver"
        )
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(executable), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def console_errors(page) -> list[str]:
    """A list that fills with every console error and uncaught exception of ``page``
    (a CSP violation, a 404, a script error): a browser test asserts it stays empty."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def axe_violations(page) -> list[str]:
    """What axe-core finds against WCAG 2.1 AA and its best practices on the page as it is
    now, one line per rule. The page's context must bypass CSP: axe is injected inline."""
    if not AXE.is_file():
        raise RuntimeError(f"axe-core is missing at {AXE}: run `npm ci --prefix web`")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(f"axe.run(document, {AXE_RULES})")
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])}x, e.g. {v['nodes'][0]['html'][:120]})"
        for v in result["violations"]
    ]
