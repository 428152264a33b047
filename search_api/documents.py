"""The documents of a served index, for the source viewer."""

from __future__ import annotations

from pathlib import Path

from beleidszoeker.errors import DocumentFileError, UnknownDocumentError
from indexer.schema import Document
from indexer.stores.base import IndexStore
from indexer.words import Box
from search_api.models import DocumentInfo, DocumentText, IndexSummary


def _info(doc: Document) -> dict:
    return DocumentInfo.model_validate(doc, from_attributes=True).model_dump()


def list_documents(index: IndexStore) -> list[DocumentInfo]:
    """Every indexed document, by title."""
    docs = sorted(index.documents.values(), key=lambda d: (d.title.lower(), d.id))
    return [DocumentInfo(**_info(d)) for d in docs]


def document_text(
    index: IndexStore, document_id: str, start: int = 0, end: int | None = None
) -> DocumentText:
    """A document's cleaned text (what passage offsets point into), optionally a window."""
    doc = index.documents.get(document_id)
    if doc is None:
        raise UnknownDocumentError(document_id)
    text = index.clean_text(document_id).text
    start = min(start, len(text))
    end = len(text) if end is None else max(start, min(end, len(text)))
    return DocumentText(**_info(doc), start=start, end=end, text=text[start:end])


def index_summary(index: IndexStore) -> IndexSummary:
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


def document_file(index: IndexStore, corpus_dir: Path, document_id: str) -> Path:
    """The original file of a document, only ever a file inside ``corpus_dir``.

    The path comes from the index, never from the request; even so it is resolved (links
    followed) and refused when it leads out of the corpus folder.
    """
    doc = index.documents.get(document_id)
    if doc is None:
        raise UnknownDocumentError(document_id)
    root = corpus_dir.resolve()
    path = (root / doc.path).resolve()
    if not path.is_relative_to(root):
        raise DocumentFileError(document_id, "lies outside the corpus folder")
    if not path.is_file():
        raise DocumentFileError(document_id, f"is no longer in the corpus folder ({doc.path})")
    return path


def highlight_boxes(index: IndexStore, document_id: str, start: int, end: int) -> list[Box]:
    """Boxes over the words of the cleaned-text span ``[start, end)`` on the original
    pages (PDFs only; an empty list for other formats)."""
    if document_id not in index.documents:
        raise UnknownDocumentError(document_id)
    words = index.word_boxes(document_id)
    clean = index.clean_text(document_id)
    start, end = max(0, start), min(end, len(clean.text))
    if words is None or start >= end:
        return []
    return words.in_span(*clean.to_source(start, end))
