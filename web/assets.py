"""htmx, installed from the npm registry by `npm ci --prefix web` and served from here.

Government networks are often offline, so the page never loads scripts from a CDN. When
the file is missing the pages still work: every form and link is a plain GET, and the
page simply reloads instead of swapping in results.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Blueprint, abort, current_app, send_file

log = logging.getLogger(__name__)

DEFAULT_HTMX_JS = Path(__file__).parent / "node_modules" / "htmx.org" / "dist" / "htmx.min.js"
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


@bp.route("/vendor/htmx.min.js")
def htmx_js():
    """The htmx script, from the npm package installed beside the web app."""
    if not current_app.config["HTMX_AVAILABLE"]:
        abort(404)
    # The URL carries no version, so let browsers cache it only briefly.
    return send_file(current_app.config["HTMX_JS"], mimetype="text/javascript", max_age=3600)
