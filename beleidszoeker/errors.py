"""Domain errors. Each message says what the user can do next; the edges translate them."""

from __future__ import annotations


class BeleidszoekerError(Exception):
    """Base class: the message is meant for the user."""


class EmptyCorpusError(BeleidszoekerError):
    def __init__(self, corpus_dir: object) -> None:
        super().__init__(
            f"No documents found in {corpus_dir}: add .txt, .md, .pdf, .docx or .html files "
            "there (or point BELEIDSZOEKER_CORPUS_DIR / --corpus at your documents) and run "
            "`beleidszoeker index` again."
        )


class IndexMissingError(BeleidszoekerError):
    def __init__(self, index_dir: object) -> None:
        super().__init__(f"No index found in {index_dir}: run `beleidszoeker index` first.")


class IndexMismatchError(BeleidszoekerError):
    """The index on disk was built with other settings than the ones in force."""


class EmptyQueryError(BeleidszoekerError):
    def __init__(self) -> None:
        super().__init__(
            "The question is empty: type a few words, for example "
            '"welke projecten gaan over waterstof?".'
        )


class QuestionTooLongError(BeleidszoekerError):
    def __init__(self, length: int, limit: int) -> None:
        super().__init__(
            f"The question is {length:,} characters long; ask in at most {limit:,} characters "
            "(a question, not a whole text)."
        )
        self.length = length
        self.limit = limit


class UnknownDocumentError(BeleidszoekerError):
    def __init__(self, document_id: str) -> None:
        super().__init__(f"Unknown document {document_id!r}: see `GET /api/documents` for the ids.")
        self.document_id = document_id


class EmbedderUnavailableError(BeleidszoekerError):
    """The configured embedding backend cannot be loaded."""


class DocumentFileError(BeleidszoekerError):
    """A document's original file cannot be served (gone, or outside the corpus folder)."""

    def __init__(self, document_id: str, reason: str) -> None:
        super().__init__(
            f"The original file of document {document_id!r} {reason}: "
            "run `beleidszoeker index` to bring the index up to date with the corpus folder."
        )
        self.document_id = document_id


class IndexDamagedError(BeleidszoekerError):
    """A build whose files do not match the checksums in its manifest."""

    def __init__(self, index_dir: object, build_id: str, problems: list[str]) -> None:
        more = f" (and {len(problems) - 3} more)" if problems[3:] else ""
        shown = "; ".join(problems[:3]) + more
        super().__init__(
            f"The index build {build_id} in {index_dir} is damaged ({shown}): run "
            "`beleidszoeker index` to repair it from the documents and the vector cache."
        )
        self.build_id = build_id
        self.problems = problems


class VectorCacheError(BeleidszoekerError):
    """The vector cache cannot be used (damaged or locked); the message says what to do."""


class RayUnavailableError(BeleidszoekerError):
    """Indexing on Ray was asked for, but Ray is not installed or cannot be reached."""


class DatabaseError(BeleidszoekerError):
    """The PostgreSQL store cannot be used (unreachable, no pgvector, empty, or no driver)."""
