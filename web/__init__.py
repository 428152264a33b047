"""The Flask + htmx web UI: ask a question, read the cited answer, open the source."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from beleidszoeker.config import Settings, get_settings

log = logging.getLogger(__name__)

# Inline scripts and styles are never needed: refusing them means that even a missed escape
# in a document text could not run. htmx's own inline indicator style is switched off in
# base.html for the same reason.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def create_app(
    settings: Settings | None = None, test_config: dict[str, Any] | None = None
) -> Flask:
    """The web app over the index named in ``settings``; nothing is loaded until a request."""
    from flask_htmx import HTMX

    from web import assets, errors, promises_view, views

    app = Flask(__name__)
    app.config.from_mapping(
        SETTINGS=settings or get_settings(),
        HTMX_JS=assets.DEFAULT_HTMX_JS,
        PDFJS_DIR=assets.PDFJS_DIR,
        EXAMPLE_QUESTIONS=[
            "welke projecten gaan over waterstof?",
            "wat heeft de provincie beloofd over snel internet?",
            "wie is de voorzitter van de stuurgroep van de Regio Deal Zuid- en Oost-Drenthe?",
        ],
    )
    if test_config:
        app.config.from_mapping(test_config)
    app.config["HTMX_AVAILABLE"] = assets.check_htmx(app.config["HTMX_JS"])
    app.config["PDFJS_AVAILABLE"] = assets.check_pdfjs(app.config["PDFJS_DIR"])

    HTMX(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(promises_view.bp)
    app.register_blueprint(assets.bp)
    errors.register(app)

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    return app
