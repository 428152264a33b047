"""The pages: search with answer, and the source viewer. Thin: each calls the library."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from beleidszoeker.errors import (
    DocumentFileError,
    EmptyQueryError,
    QuestionTooLongError,
    UnknownDocumentError,
)
from indexer.sections import detect_sections
from search_api.answer import answer_question
from search_api.documents import document_file as find_file
from search_api.documents import document_text, highlight_boxes, list_documents
from search_api.models import DocumentInfo, DocumentText
from search_api.retrieval import Searcher
from web.deps import current_settings, get_searcher
from web.errors import message
from web.form import MODE_LABELS, SearchForm
from web.results import results_view
from web.viewer import OriginalPage, document_page, original_page, parse_span

bp = Blueprint("web", __name__)

# A long document's headings take a second or more to find: once per text, not per page
# view. The texts live as long as their index, so their hashes are computed once too.
_sections = lru_cache(maxsize=16)(detect_sections)


@dataclass(frozen=True)
class Choices:
    """The options of the document and year filters."""

    documents: list[DocumentInfo]
    years: list[int]


def _choices(searcher: Searcher) -> Choices:
    docs = list_documents(searcher.store)
    years = sorted({d.year for d in docs if d.year is not None}, reverse=True)
    return Choices(docs, years)


@bp.get("/")
def search():
    """The search page; with ``?q=`` also the answer and the passages it cites."""
    form = SearchForm.from_args(request.args, current_settings())
    htmx = current_app.htmx
    partial = bool(htmx) and not htmx.history_restore_request and not htmx.boosted
    if form.asked and not partial and not form.errors and set(request.args) != set(form.params()):
        # A plain form submit sends every field, empty or default: keep URLs short to share.
        return redirect(url_for(".search", **form.params()))

    searcher = get_searcher()
    results, error, status = None, None, 200
    if form.asked:
        try:
            response = answer_question(
                searcher, form.q or "", k=form.k, mode=form.mode, filters=form.filters()
            )
            results = results_view(response)
        except (EmptyQueryError, QuestionTooLongError, UnknownDocumentError) as exc:
            error, status = message(exc), 400

    page = render_template(
        "_results.html" if partial else "search.html",
        form=form,
        results=results,
        error=error,
        choices=_choices(searcher),
        modes=MODE_LABELS,
        partial=partial,
    )
    resp = make_response(page, status)
    # The same URL answers with a fragment for htmx and a full page otherwise.
    resp.vary.add("HX-Request")
    if partial and form.asked:
        resp.headers["HX-Push-Url"] = url_for(".search", **form.params())
    return resp


@bp.get("/documents/<doc_id>")
def document(doc_id: str):
    """A document's cleaned text with the cited span (``?start=&end=``) marked."""
    try:
        # Only ids of the loaded index are accepted, so no id can name a file of its own.
        doc = document_text(get_searcher().store, doc_id)
    except UnknownDocumentError:
        abort(404)
    text = doc.text
    span = parse_span(request.args.get("start"), request.args.get("end"), len(text))
    form = SearchForm.from_args(request.args, current_settings())
    asked = request.args.get("pagina", type=int)
    page = document_page(text, _sections(text), span, asked)
    keep = {k: v for k, v in request.args.items() if k in ("start", "end", "q")}

    def page_url(n: int) -> str:
        return url_for(".document", doc_id=doc_id, pagina=n, **keep)

    return render_template(
        "document.html",
        doc=doc,
        page=page,
        page_url=page_url,
        original=_original(doc, span),
        back=url_for(".search", **form.params()) if form.q else None,
    )


def _original(doc: DocumentText, span: tuple[int, int] | None) -> OriginalPage | None:
    """The PDF page viewer's data, for a PDF when PDF.js is installed."""
    index = get_searcher().store
    is_pdf = index.documents[doc.id].path.lower().endswith(".pdf")
    if not (is_pdf and doc.n_pages and current_app.config["PDFJS_AVAILABLE"]):
        return None
    boxes = highlight_boxes(index, doc.id, *span) if span else []
    return original_page(url_for(".document_file", doc_id=doc.id), doc.n_pages, boxes)


@bp.get("/documents/<doc_id>/file")
def document_file(doc_id: str):
    """The original file, for the page viewer (the same as GET /api/documents/{id}/file)."""
    try:
        path = find_file(get_searcher().store, current_settings().corpus_dir, doc_id)
    except (UnknownDocumentError, DocumentFileError):
        abort(404)
    return send_file(path, download_name=path.name, max_age=0)
