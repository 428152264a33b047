"""The HTTP API under /api: thin routes over retrieval, answers and the index."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel

from beleidszoeker.config import Settings, get_settings
from beleidszoeker.errors import (
    BeleidszoekerError,
    DatabaseError,
    DocumentFileError,
    EmbedderUnavailableError,
    EmptyQueryError,
    IndexDamagedError,
    IndexMismatchError,
    IndexMissingError,
    QuestionTooLongError,
    UnknownDocumentError,
)
from search_api.deps import (
    FiltersDep,
    KParam,
    ModeParam,
    QueryParam,
    SearcherDep,
    SettingsDep,
    one_value_each,
)
from search_api.models import (
    AskResponse,
    DocumentInfo,
    DocumentText,
    Health,
    SearchResponse,
)


class ErrorMessage(BaseModel):
    detail: str


NOT_FOUND = {404: {"model": ErrorMessage, "description": "unknown document id"}}
NO_INDEX = {503: {"model": ErrorMessage, "description": "no usable index: the message says why"}}

router = APIRouter(prefix="/api", responses=NO_INDEX)


@router.get("/search", response_model=SearchResponse, responses=NOT_FOUND)
def search(
    q: QueryParam,
    searcher: SearcherDep,
    filters: FiltersDep,
    k: KParam = 10,
    mode: ModeParam = "hybrid",
) -> SearchResponse:
    """Find the passages that best answer the question."""
    return SearchResponse.run(searcher, q, k, mode, filters)


@router.get("/ask", response_model=AskResponse, responses=NOT_FOUND)
def ask(
    q: QueryParam,
    searcher: SearcherDep,
    filters: FiltersDep,
    k: KParam = 10,
    mode: ModeParam = "hybrid",
) -> AskResponse:
    """Answer with verbatim, cited sentences, or abstain when the documents do not answer."""
    from search_api.answer import answer_question

    return answer_question(searcher, q, k=k, mode=mode, filters=filters)


@router.get("/documents", response_model=list[DocumentInfo])
def documents(searcher: SearcherDep) -> list[DocumentInfo]:
    """The indexed documents."""
    from search_api.documents import list_documents

    return list_documents(searcher.store)


@router.get("/documents/{document_id}", response_model=DocumentText, responses=NOT_FOUND)
def document(
    document_id: Annotated[str, Path(description="a document id from /api/documents")],
    searcher: SearcherDep,
    start: Annotated[int, Query(ge=0, description="first character of the window")] = 0,
    end: Annotated[
        int | None, Query(ge=0, description="end of the window (default: end of text)")
    ] = None,
) -> DocumentText:
    """A document's metadata and cleaned text (passage offsets point into it)."""
    from search_api.documents import document_text

    if end is not None and end < start:
        body = [
            {
                "loc": ["query", "end"],
                "msg": f"end ({end}) is before start ({start}): ask for start <= end",
                "type": "value_error",
            }
        ]
        return JSONResponse({"detail": body}, status_code=422)
    return document_text(searcher.store, document_id, start, end)


@router.get(
    "/documents/{document_id}/file",
    response_class=FileResponse,
    responses={
        200: {"description": "the original file", "content": {"application/octet-stream": {}}},
        **NOT_FOUND,
    },
)
def document_file(
    document_id: Annotated[str, Path(description="a document id from /api/documents")],
    searcher: SearcherDep,
    settings: SettingsDep,
) -> FileResponse:
    """The document's original file (PDF, Word, ...), as it lies in the corpus folder."""
    from search_api.documents import document_file

    path = document_file(searcher.store, settings.corpus_dir, document_id)
    return FileResponse(path, filename=path.name, content_disposition_type="inline")


@router.get("/health", response_model=Health)
def health(searcher: SearcherDep, settings: SettingsDep) -> Health:
    """Whether an index is loaded, a summary of its manifest, and any damage found."""
    from search_api.documents import index_summary
    from search_api.engine import serving_problem

    problem = serving_problem(settings)
    summary = index_summary(searcher.store)
    if problem is None:
        return Health(status="ok", index=summary)
    # Still answering, from an older good build: say so, and what fixes it.
    return Health(
        status="degraded",
        index=summary,
        warning=f"{problem} Serving older build {summary.build_id} meanwhile.",
    )


# Domain errors are translated here, at the edge: status code plus the user-readable message.
_STATUS: list[tuple[type[BeleidszoekerError], int]] = [
    (UnknownDocumentError, 404),
    (DocumentFileError, 404),
    (IndexMissingError, 503),
    (IndexMismatchError, 503),
    (IndexDamagedError, 503),
    (EmbedderUnavailableError, 503),
    (DatabaseError, 503),
]


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, EmptyQueryError | QuestionTooLongError):
        # Same shape as FastAPI's own 422, so clients handle one kind of validation error.
        body = [{"loc": ["query", "q"], "msg": str(exc), "type": "value_error"}]
        return JSONResponse({"detail": body}, status_code=422)
    status = next((code for cls, code in _STATUS if isinstance(exc, cls)), 500)
    return JSONResponse({"detail": str(exc)}, status_code=status)


_FRIENDLY = {
    "string_pattern_mismatch": "The question is empty: type a few words, for example "
    '"welke projecten gaan over waterstof?".',
}


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 body, with pydantic's messages kept: they already say what is allowed."""
    errors = []
    for e in exc.errors():
        msg = _FRIENDLY.get(e.get("type"), e.get("msg"))
        errors.append({"loc": list(e.get("loc", ())), "msg": msg, "type": e.get("type")})
    return JSONResponse({"detail": errors}, status_code=422)


_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _api_fallback(routers: list[APIRouter]):
    """JSON 404 for unknown paths under /api and 405 for known paths with another method.

    Without it, such requests would fall through to the web UI mounted at "/" and get a
    Dutch HTML page that an API client cannot read.
    """

    async def not_routed(request: Request) -> JSONResponse:
        allowed = sorted(
            {
                m
                for api in routers
                for r in api.routes
                if isinstance(r, APIRoute) and r.path_regex.match(request.url.path)
                for m in r.methods
            }
        )
        if allowed and request.method not in allowed:
            return JSONResponse(
                {"detail": f"{request.method} is not allowed here; use {', '.join(allowed)}."},
                status_code=405,
                headers={"Allow": ", ".join(allowed)},
            )
        return JSONResponse(
            {"detail": f"No API endpoint at {request.url.path}: see /docs for the endpoints."},
            status_code=404,
        )

    return not_routed


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API app; the index is loaded on the first request that needs it."""
    from beleidszoeker import __version__
    from search_api.docs import add_docs

    app = FastAPI(
        title="Beleidszoeker API",
        version=__version__,
        description="Search Dutch policy documents and get answers with cited passages.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings or get_settings()
    from search_api.promise_routes import router as promise_router

    once = [Depends(one_value_each)]
    app.include_router(router, dependencies=once)
    app.include_router(promise_router, responses={**NOT_FOUND, **NO_INDEX}, dependencies=once)
    add_docs(app)
    # Last, so every real route matches first; "/" (the web UI) is mounted after this.
    fallback = _api_fallback([router, promise_router])
    for path in ("/api", "/api/{rest:path}"):
        app.add_api_route(path, fallback, methods=_METHODS, include_in_schema=False)
    app.add_exception_handler(BeleidszoekerError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    return app
