"""The documents of a loaded index, for the source viewer."""

from __future__ import annotations

from beleidszoeker.errors import UnknownDocumentError
from indexer.schema import Document
from indexer.store import IndexData
from search_api.models import DocumentInfo, DocumentText, IndexSummary


def _info(doc: Document) -> dict:
    return DocumentInfo.model_validate(doc, from_attributes=True).model_dump()


def list_documents(index: IndexData) -> list[DocumentInfo]:
    """Every indexed document, by title."""
    docs = sorted(index.documents.values(), key=lambda d: (d.title.lower(), d.id))
    return [DocumentInfo(**_info(d)) for d in docs]


def document_text(
    index: IndexData, document_id: str, start: int = 0, end: int | None = None
) -> DocumentText:
    """A document's cleaned text (what passage offsets point into), optionally a window."""
    doc = index.documents.get(document_id)
    if doc is None:
        raise UnknownDocumentError(document_id)
    text = index.clean_text(document_id).text
    start = min(start, len(text))
    end = len(text) if end is None else max(start, min(end, len(text)))
    return DocumentText(**_info(doc), start=start, end=end, text=text[start:end])


def index_summary(index: IndexData) -> IndexSummary:
    m = index.manifest
    embedder = m.get("embedder", {})
    chunking = m.get("chunking", {})
    return IndexSummary(
        build_id=m.get("build_id"),
        created_at=m.get("created_at"),
        n_documents=m.get("n_documents"),
        n_chunks=m.get("n_chunks"),
        embedder=embedder.get("name"),
        dim=embedder.get("dim"),
        chunk_size=chunking.get("size"),
        chunk_overlap=chunking.get("overlap"),
    )
