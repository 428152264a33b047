"""The searcher for the current request, got on first use (flaskr's ``get_db`` pattern)."""

from __future__ import annotations

from flask import current_app, g

from beleidszoeker.config import Settings
from search_api.retrieval import Searcher


def current_settings() -> Settings:
    return current_app.config["SETTINGS"]


def get_searcher() -> Searcher:
    """One Searcher per request, so a re-index finishing mid-request cannot mix two builds."""
    if "searcher" not in g:
        from search_api.engine import get_searcher as load

        g.searcher = load(current_settings())
    return g.searcher
