"""Domain errors and HTTP errors turned into Dutch pages (the edge of the web UI)."""

from __future__ import annotations

from flask import Flask, current_app, render_template
from werkzeug.exceptions import HTTPException

from beleidszoeker.errors import (
    BeleidszoekerError,
    DatabaseError,
    EmbedderUnavailableError,
    EmptyQueryError,
    IndexDamagedError,
    IndexMismatchError,
    IndexMissingError,
    QuestionTooLongError,
    UnknownDocumentError,
)


def message(exc: BeleidszoekerError) -> str:
    """What a civil servant reads; the technical detail goes to the log and the admin."""
    if isinstance(exc, EmptyQueryError):
        return "Typ eerst een vraag, bijvoorbeeld “welke projecten gaan over waterstof?”."
    if isinstance(exc, QuestionTooLongError):
        return (
            f"Uw vraag is {exc.length:,} tekens lang; stel een vraag van hoogstens "
            f"{exc.limit:,} tekens.".replace(",", ".")
        )
    if isinstance(exc, UnknownDocumentError):
        return (
            f"Het document “{exc.document_id}” staat niet (meer) in de zoekindex. "
            "Kies een ander document of zoek in alle documenten."
        )
    if isinstance(
        exc,
        IndexMissingError | IndexMismatchError | IndexDamagedError | EmbedderUnavailableError,
    ):
        return (
            "De zoekindex is niet beschikbaar. Vraag de beheerder om "
            "`beleidszoeker index` uit te voeren."
        )
    if isinstance(exc, DatabaseError):
        return (
            "De database met de zoekindex is niet bereikbaar of nog leeg. Vraag de beheerder "
            "om de database te controleren of `beleidszoeker index --to-database` uit te voeren."
        )
    return "Er ging iets mis bij het zoeken. Probeer het opnieuw."


def status(exc: BeleidszoekerError) -> int:
    if isinstance(exc, EmptyQueryError | QuestionTooLongError | UnknownDocumentError):
        return 400
    return 503


def _page(status_code: int, **context: object):
    """A full page, or only the message when htmx swaps it into the results."""
    htmx = getattr(current_app, "htmx", None)
    partial = bool(htmx) and not htmx.history_restore_request
    return render_template("_error.html" if partial else "error.html", **context), status_code


def register(app: Flask) -> None:
    @app.errorhandler(BeleidszoekerError)
    def _domain(exc: BeleidszoekerError):
        app.logger.warning("%s", exc)
        return _page(status(exc), title="Niet beschikbaar", message=message(exc), detail=str(exc))

    @app.errorhandler(404)
    def _not_found(exc: HTTPException):
        return _page(
            404,
            title="Niet gevonden",
            message="Deze pagina of dit document bestaat niet. Zoek opnieuw vanaf de startpagina.",
        )

    @app.errorhandler(500)
    def _server_error(exc: Exception):
        return _page(
            500,
            title="Er ging iets mis",
            message="Er ging iets mis aan onze kant. Probeer het later opnieuw.",
        )
