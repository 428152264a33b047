"""The one chunk schema and the document record, shared by indexer, API and web."""

from __future__ import annotations

from pydantic import BaseModel, Field


class DocumentRef(BaseModel):
    """How a passage names its document in results."""

    id: str
    title: str
    year: int | None = None


class Document(DocumentRef):
    """A document as indexed: manifest metadata plus where it came from."""

    publisher: str | None = None
    kind: str | None = None
    path: str = Field(description="file path relative to the corpus folder")
    sha256: str = ""
    n_chars: int = 0
    n_chunks: int = 0
    n_pages: int | None = None

    def ref(self) -> DocumentRef:
        return DocumentRef(id=self.id, title=self.title, year=self.year)


class Chunk(BaseModel):
    """A passage of a document and its provenance.

    ``char_start``/``char_end`` index the document's cleaned text (what the viewer shows);
    ``source_start``/``source_end`` index the text as extracted from the file, so a
    citation can point at the exact place in the original.
    """

    id: str
    document_id: str
    section: str = ""
    text: str
    char_start: int
    char_end: int
    source_start: int
    source_end: int
    page: int | None = None
    page_end: int | None = None

    def embed_text(self) -> str:
        """What the embedder and keyword index see: the section title gives context."""
        return embed_text(self.section, self.text)


def embed_text(section: str, text: str) -> str:
    """``Chunk.embed_text`` of a passage with this section and text."""
    return f"{section}\n{text}" if section else text
