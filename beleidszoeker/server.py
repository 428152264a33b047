"""One process serving the API under /api and, when the web package provides it, the UI at /."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from beleidszoeker.config import Settings


def create_server(settings: Settings) -> FastAPI:
    """The API app with the web UI mounted at "/" (or a redirect to /docs without one)."""
    from search_api.app import create_app

    app = create_app(settings)
    web_app = _web_app(settings)
    # Mounts match by prefix: "/" must come after /api, /docs and /openapi.json, which
    # create_app has registered already.
    if web_app is None:

        @app.get("/", include_in_schema=False)
        def _root() -> RedirectResponse:
            return RedirectResponse("/docs")

    else:
        from a2wsgi import WSGIMiddleware

        app.mount("/", WSGIMiddleware(web_app), name="web")
    return app


def _web_app(settings: Settings):
    """The Flask UI, if the ``web`` package offers ``create_app(settings)``."""
    try:
        import web
    except ImportError:
        return None
    factory = getattr(web, "create_app", None)
    if factory is None:
        return None
    return factory(settings)
