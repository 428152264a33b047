"""htmx and PDF.js, installed from the npm registry by `npm ci --prefix web` and served
from here.

Government networks are often offline, so the page never loads scripts from a CDN. When
htmx is missing the pages still work: every form and link is a plain GET, and the page
simply reloads instead of swapping in results. Without PDF.js the viewer shows the
cleaned text only, as it does without JavaScript.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Blueprint, abort, current_app, send_file, send_from_directory

log = logging.getLogger(__name__)

DEFAULT_HTMX_JS = Path(__file__).parent / "node_modules" / "htmx.org" / "dist" / "htmx.min.js"
PDFJS_DIR = Path(__file__).parent / "node_modules" / "pdfjs-dist"
# What the viewer needs of the package: the library and its worker, the fonts PDFs name
# without embedding them, character maps, colour profiles and image decoders.
_PDFJS_PARTS = ("build", "standard_fonts", "cmaps", "iccs", "wasm")
INSTALL_HINT = "npm ci --prefix web"

bp = Blueprint("assets", __name__)


def check_htmx(path: Path | str) -> bool:
    """Whether the htmx file is there; warns the operator once (at start-up) if not."""
    if Path(path).is_file():
        return True
    log.warning(
        "htmx not found at %s: run `%s` in the Beleidszoeker folder. The web UI works "
        "without it, with a full page load per search.",
        path,
        INSTALL_HINT,
    )
    return False


def check_pdfjs(folder: Path | str) -> bool:
    """Whether PDF.js is there; warns once if not (the viewer then shows text only)."""
    if (Path(folder) / "build" / "pdf.min.mjs").is_file():
        return True
    log.warning(
        "PDF.js not found in %s: run `%s` in the Beleidszoeker folder. The source viewer "
        "shows the cleaned text of PDFs instead of their pages.",
        folder,
        INSTALL_HINT,
    )
    return False


@bp.route("/vendor/pdfjs/<path:name>")
def pdfjs(name: str):
    """A file of the pdfjs-dist package (only its runtime folders)."""
    if not current_app.config["PDFJS_AVAILABLE"] or name.split("/", 1)[0] not in _PDFJS_PARTS:
        abort(404)
    # Module scripts must come with a JavaScript type; .mjs is not in every mimetypes table.
    mimetype = "text/javascript" if name.endswith(".mjs") else None
    # send_from_directory refuses any name that leads out of the folder.
    return send_from_directory(
        current_app.config["PDFJS_DIR"], name, mimetype=mimetype, max_age=3600
    )


@bp.route("/vendor/htmx.min.js")
def htmx_js():
    """The htmx script, from the npm package installed beside the web app."""
    if not current_app.config["HTMX_AVAILABLE"]:
        abort(404)
    # The URL carries no version, so let browsers cache it only briefly.
    return send_file(current_app.config["HTMX_JS"], mimetype="text/javascript", max_age=3600)
