"""Screenshots of the main states for the README: ``python -m web.screenshots``.

Uses the index of the default settings (``data/index``), so build it first with
``beleidszoeker index``; writes PNGs to ``docs/screenshots/``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from web import create_app
from web.browser import chromium, serve

DESKTOP = {"width": 1280, "height": 1000}
PHONE = {"width": 390, "height": 844}

ANSWER = "wie is voorzitter van de stuurgroep van de Regio Deal Zuid- en Oost-Drenthe?"
LIST = "welke projecten gaan over waterstof?"
NO_ANSWER = "hoeveel kost een parkeervergunning in Amsterdam?"


def take(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    app = create_app()
    with serve(app) as base, chromium() as browser:
        page = browser.new_page(viewport=DESKTOP)

        def shot(name: str) -> None:
            path = out / f"{name}.png"
            page.screenshot(path=str(path))
            saved.append(path)

        page.goto(base + "/")
        shot("home")
        for name, question in (("answer", ANSWER), ("list-answer", LIST)):
            page.goto(base + "/")
            page.fill("#q", question)
            page.press("#q", "Enter")
            page.wait_for_selector("#antwoord-kop")
            page.wait_for_load_state("networkidle")
            shot(name)
        page.locator(".cite").first.click()
        page.wait_for_selector("#citaat")
        shot("viewer")
        page.goto(base + "/?q=" + NO_ANSWER)
        shot("no-answer")

        phone = browser.new_page(viewport=PHONE, device_scale_factor=2)
        page = phone
        page.goto(base + "/?q=" + ANSWER)
        shot("phone-answer")
        page.locator(".cite").first.click()
        page.wait_for_selector("#citaat")
        shot("phone-viewer")
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    for path in take(parser.parse_args().out):
        print(path)


if __name__ == "__main__":
    main()
