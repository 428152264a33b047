"""Tests for indexer.chunking: chunks inside sections, with offsets, sections and pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.chunking import MIN_CHUNK_CHARS, MIN_SECTION_CHARS, chunk_document
from indexer.cleaning import CleanText, clean
from indexer.schema import Chunk
from indexer.sections import detect_sections

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
SETTINGS = [(800, 120), (300, 60), (120, 30), (60, 0)]

SMALL_DOC = """Voorwoord van de gedeputeerde. Samen bouwen we aan de regio, met inwoners,
ondernemers, scholen en zorgverleners. Dit magazine laat zien wat dat tot nu toe heeft opgeleverd.

1. Inleiding
Dit magazine laat de projecten van de Regio Deal zien. Elk project heeft een penvoerder.
De projecten lopen van onderwijs tot zorg, en van wonen tot werk.

2. Skills4future
20 Drentse bedrijven doen mee aan het project. Werknemers leren nieuwe vaardigheden.
Het project loopt drie jaar; daarna gaat het verder in de regio.

12. Wonen op Waterstof Tour
Leerlingen van het Alfa-college bouwden een tiny house met waterstof als energiedrager.
Na de oplevering is het Tiny House op Tour gegaan. Het huis stond in zes gemeenten.
"""


def _check_chunks(clean_text: CleanText, chunks: list[Chunk], size: int, overlap: int) -> None:
    """The invariants every chunking must meet, whatever the text."""
    text = clean_text.text
    sections = detect_sections(text)
    paths = [s.path for s in sections]
    long_enough = [len(text[s.start : s.end].strip()) >= MIN_SECTION_CHARS for s in sections]
    assert len({c.id for c in chunks}) == len(chunks)
    covered = bytearray(len(text))
    for i, c in enumerate(chunks):
        assert c.text == text[c.char_start : c.char_end]
        assert c.text.strip() == c.text != ""
        # A short subheading piece may be attached to the passage after it.
        assert len(c.text) <= size + MIN_CHUNK_CHARS
        assert (c.source_start, c.source_end) == clean_text.to_source(c.char_start, c.char_end)
        covered[c.char_start : c.char_end] = b"\x01" * len(c.text)
        # Every chunk carries the path of the section it starts in (a very short section
        # may lend its text to a neighbour), and never runs from one section into another.
        (k,) = [k for k, s in enumerate(sections) if s.start <= c.char_start < s.end]
        assert c.section in paths
        if long_enough[k]:
            assert c.section == sections[k].path
        for j in range(1, len(sections)):
            if long_enough[j - 1] and long_enough[j]:
                assert not c.char_start < sections[j].start < c.char_end, "crosses a section"
        if i:
            prev = chunks[i - 1]
            assert prev.char_start <= c.char_start, "chunks come in document order"
            assert (prev.char_start, prev.char_end) != (c.char_start, c.char_end)
            assert prev.char_end - c.char_start <= overlap
    missed = [i for i, ch in enumerate(text) if not covered[i] and not ch.isspace()]
    assert not missed, f"text left out of every chunk: {text[missed[0] : missed[0] + 40]!r}"


@pytest.fixture(scope="module")
def corpus() -> dict[str, CleanText]:
    return {p.stem: clean(p.read_text(encoding="utf-8")) for p in sorted(CORPUS.glob("*.txt"))}


@pytest.mark.parametrize(("size", "overlap"), SETTINGS)
def test_real_corpus_chunks(corpus: dict[str, CleanText], size: int, overlap: int) -> None:
    for doc_id, clean_text in corpus.items():
        chunks = chunk_document(doc_id, clean_text, size, overlap)
        assert chunks
        assert all(c.document_id == doc_id and c.id.startswith(doc_id) for c in chunks)
        _check_chunks(clean_text, chunks, size, overlap)


def test_small_doc_chunks_carry_their_sections() -> None:
    clean_text = clean(SMALL_DOC)
    chunks = chunk_document("magazine", clean_text, 40, 15)
    _check_chunks(clean_text, chunks, 40, 15)
    sections = [c.section for c in chunks]
    assert sections[0] == ""
    assert "2. Skills4future" in sections
    bedrijven = [c for c in chunks if "Drentse bedrijven" in c.text]
    assert bedrijven and all(c.section == "2. Skills4future" for c in bedrijven)
    assert all(c.section == "12. Wonen op Waterstof Tour" for c in chunks if "Tour" in c.text)
    # Small chunks overlap: some text is in two consecutive chunks of one section.
    assert any(
        a.section == b.section and a.char_end > b.char_start
        for a, b in zip(chunks, chunks[1:], strict=False)
    )


def test_one_chunk_per_short_section() -> None:
    clean_text = clean(SMALL_DOC)
    chunks = chunk_document("doc", clean_text, 2000, 200)
    assert [c.section for c in chunks] == [s.path for s in detect_sections(clean_text.text)]
    assert chunks[-1].text.startswith("12. Wonen op Waterstof Tour\nLeerlingen")


def test_chunks_break_at_sentence_ends() -> None:
    text = " ".join(f"Zin nummer {n} gaat over de regio Drenthe." for n in range(30))
    chunks = chunk_document("doc", clean(text), 200, 0)
    assert len(chunks) > 1
    assert all(c.text.endswith(".") for c in chunks)


_LINE = "1.4 Impuls positieve gezondheid"


@pytest.mark.parametrize(
    ("text", "size", "overlap"),
    [
        # PDF extraction can repeat a line; each chunk must still point at its own place.
        (f"Vorige alinea.\n\n{_LINE}{_LINE}{_LINE}\n\nPositieve gezondheid is anders.", 40, 0),
        (f"Vorige alinea.\n\n{_LINE}{_LINE}{_LINE}\n\nPositieve gezondheid is anders.", 40, 10),
        (f"Vorige alinea.\n\n{_LINE}{_LINE}{_LINE}\n\nPositieve gezondheid is anders.", 25, 5),
        # The second "Drenthe." is a chunk of its own, not the one inside the first chunk.
        ("werk, Drenthe. Drenthe.", 21, 9),
        ("Zorg a a a a a a a a zorg regio.", 6, 1),
    ],
)
def test_repeated_text_keeps_true_positions(text: str, size: int, overlap: int) -> None:
    clean_text = clean(text)
    _check_chunks(clean_text, chunk_document("doc", clean_text, size, overlap), size, overlap)


@settings(max_examples=100, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(
            ["regio", "Drenthe.", "werk,", "zorg", "\n", "\n\n", "3. Titel\n", "wonen;"]
        ),
        max_size=120,
    ),
    size=st.integers(20, 200),
    overlap_share=st.floats(0, 0.5),
)
def test_chunk_invariants_property(words: list[str], size: int, overlap_share: float) -> None:
    clean_text = clean(" ".join(words))
    overlap = int(size * overlap_share)
    _check_chunks(clean_text, chunk_document("doc", clean_text, size, overlap), size, overlap)


# --- page numbers ------------------------------------------------------------------------------


def _page_doc() -> tuple[CleanText, list[int]]:
    pages = [
        "1. Inleiding\nDe eerste pagina gaat over de regio en haar inwoners.",
        "Het verhaal loopt door op de tweede pagina over werk en onderwijs.",
        "2. Wonen\nDe derde pagina gaat over wonen met waterstof in Hoogeveen. Leerlingen "
        "bouwden er een tiny house, dat daarna langs zes gemeenten in de regio trok.\n\n"
        "3. Werken\nHet laatste hoofdstuk gaat over werk. Twintig Drentse bedrijven doen mee "
        "aan een project waarin werknemers nieuwe vaardigheden leren.",
    ]
    clean_text = clean("\n\n".join(pages))
    page_starts = [clean_text.text.index(p.split("\n")[0]) for p in pages[1:]]
    return clean_text, page_starts


def _expected_pages(page_starts: list[int], a: int, b: int) -> tuple[int, int | None]:
    first = 1 + sum(1 for p in page_starts if p <= a)
    last = 1 + sum(1 for p in page_starts if p < b)
    return first, (last if last != first else None)


@pytest.mark.parametrize(("size", "overlap"), [(40, 10), (90, 20), (500, 0)])
def test_page_numbers(size: int, overlap: int) -> None:
    clean_text, page_starts = _page_doc()
    chunks = chunk_document("doc", clean_text, size, overlap, page_starts=page_starts)
    for c in chunks:
        assert (c.page, c.page_end) == _expected_pages(page_starts, c.char_start, c.char_end)
    assert {p for c in chunks for p in range(c.page, (c.page_end or c.page) + 1)} == {1, 2, 3}


def test_chunk_across_a_page_break_gets_page_end() -> None:
    clean_text, page_starts = _page_doc()
    chunks = chunk_document("doc", clean_text, 500, 0, page_starts=page_starts)
    first = chunks[0]
    assert first.section == "1. Inleiding"
    assert first.char_start < page_starts[0] < first.char_end
    assert (first.page, first.page_end) == (1, 2)
    wonen = chunks[1]
    assert wonen.section == "2. Wonen"
    assert wonen.char_start == page_starts[1]
    assert (wonen.page, wonen.page_end) == (3, None)
    assert (chunks[-1].page, chunks[-1].page_end) == (3, None)


def test_chunk_ending_right_before_a_page_start_stays_on_its_page() -> None:
    one = "Pagina een eindigt hier, na een lange zin over de regio en haar plannen. " * 3
    two = "Pagina twee begint hier, met een nieuwe zin over werk en wonen in Drenthe. " * 3
    clean_text = clean(f"{one.strip()}\n\n{two.strip()}")
    page_starts = [clean_text.text.index("Pagina twee")]
    chunks = chunk_document("doc", clean_text, 250, 0, page_starts=page_starts)
    assert [(c.text, c.page, c.page_end) for c in chunks] == [
        (one.strip(), 1, None),
        (two.strip(), 2, None),
    ]


def test_no_page_starts_means_no_pages() -> None:
    chunks = chunk_document("doc", clean(SMALL_DOC), 120, 30)
    assert all(c.page is None and c.page_end is None for c in chunks)
