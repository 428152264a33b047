"""Tests for indexer.cleaning: rejoining PDF lines and the map back to the original text."""

from __future__ import annotations

import random
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.cleaning import CleanText, clean

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
MAGAZINE = CORPUS / "regio-deal-zuid-en-oost-drenthe-magazine.txt"


def _letters(s: str) -> str:
    """What must survive cleaning: no whitespace, hyphens or invisible/control characters."""
    return "".join(
        c
        for c in s
        if not c.isspace() and c != "-" and unicodedata.category(c) not in ("Cc", "Cf", "Co")
    )


def _assert_offsets_consistent(raw: str, cleaned: CleanText) -> None:
    text, offsets = cleaned.text, cleaned.offsets
    assert len(offsets) == len(text) + 1
    assert offsets[-1] == len(raw)
    assert all(offsets[i] <= offsets[i + 1] for i in range(len(text)))
    for i, ch in enumerate(text):
        if not ch.isspace():
            assert raw[offsets[i]] == ch, (i, ch, raw[offsets[i]])


def _assert_span_maps_back(raw: str, cleaned: CleanText, start: int, end: int) -> None:
    a, b = cleaned.to_source(start, end)
    assert 0 <= a <= b <= len(raw)
    assert _letters(raw[a:b]) == _letters(cleaned.text[start:end]), (start, end, raw[a:b])


@pytest.fixture(scope="module")
def magazine() -> tuple[str, CleanText]:
    raw = MAGAZINE.read_text(encoding="utf-8")
    return raw, clean(raw)


# --- hyphenation across line breaks -------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Wij bouwen ener-\ngieopslagsystemen.", "Wij bouwen energieopslagsystemen."),
        ("De samenwer-\nking is goed.", "De samenwerking is goed."),
        ("Een korte sa-\nmenvatting volgt.", "Een korte samenvatting volgt."),
        # Real compounds keep their hyphen.
        ("Meer zonne-\nenergie in Drenthe.", "Meer zonne-energie in Drenthe."),
        (
            "Penvoerder is gemeente Borger-\nOdoorn samen met Emmen.",
            "Penvoerder is gemeente Borger-Odoorn samen met Emmen.",
        ),
        ("De CO2-\nuitstoot daalt.", "De CO2-uitstoot daalt."),
        # The hyphen stands for a left-out word: keep it, and the space after it.
        ("Scholen, zorg- \nen welzijn werken samen.", "Scholen, zorg- en welzijn werken samen."),
        ("Scholen, zorg-\nen welzijn werken samen.", "Scholen, zorg- en welzijn werken samen."),
        ("Onderwijs- \nof zorginstellingen doen mee.", "Onderwijs- of zorginstellingen doen mee."),
    ],
)
def test_line_end_hyphens(raw: str, expected: str) -> None:
    assert clean(raw).text == expected


def test_hyphen_follows_how_the_document_spells_the_word() -> None:
    hyphened = "Dit pilot-project loopt. Een tweede pilot-\nproject volgt."
    assert clean(hyphened).text == "Dit pilot-project loopt. Een tweede pilot-project volgt."
    joined = "Dit innovatiecentrum loopt. Een tweede innovatie-\ncentrum volgt."
    assert clean(joined).text == "Dit innovatiecentrum loopt. Een tweede innovatiecentrum volgt."


def test_hyphen_inside_a_line_is_kept() -> None:
    assert clean("Het Alfa-college en de mbo-studenten.").text == (
        "Het Alfa-college en de mbo-studenten."
    )


# --- invisible characters and whitespace -----------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Het\ue006 huis", "Het huis"),  # private-use icon-font glyph
        ("hobb\ue006isten", "hobbisten"),
        ("zon\u00adne", "zonne"),  # soft hyphen
        ("zero\u200bwidth\u200c en\u200d joiner\u2060", "zerowidth en joiner"),
        ("\ufeffBegin", "Begin"),  # byte-order mark
    ],
)
def test_invisible_characters_dropped(raw: str, expected: str) -> None:
    assert clean(raw).text == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Een\ttab", "Een tab"),
        ("dubbele  spatie   hier", "dubbele spatie hier"),
        ("harde\u00a0spatie en\u00a0\u00a0twee", "harde spatie en twee"),
        ("smalle\u2009en\u202fvaste\u2002spaties", "smalle en vaste spaties"),
        ("pagina\feinde", "pagina einde"),
        ("Windows\r\nregel", "Windows regel"),
        ("   ingesprongen regel   ", "ingesprongen regel"),
        ("1.\t Het Waterstof Tiny House", "1. Het Waterstof Tiny House"),
    ],
)
def test_whitespace_normalised(raw: str, expected: str) -> None:
    assert clean(raw).text == expected


# --- lines, paragraphs and headings -------------------------------------------------------------


def test_mid_sentence_line_breaks_joined() -> None:
    raw = (
        "Leerlingen van het Alfa-college \nin Hoogeveen bouwden van \n"
        "november 2020 tot september \n2021 aan een tiny house."
    )
    assert clean(raw).text == (
        "Leerlingen van het Alfa-college in Hoogeveen bouwden van november 2020 tot september "
        "2021 aan een tiny house."
    )


def test_paragraphs_kept_as_one_blank_line() -> None:
    raw = "Eerste alinea loopt\nover twee regels.\n\nTweede alinea.\n\n\n\nDerde alinea.\n"
    assert clean(raw).text == (
        "Eerste alinea loopt over twee regels.\n\nTweede alinea.\n\nDerde alinea."
    )


def test_sentence_split_over_a_blank_line_is_joined() -> None:
    assert clean("Dit doen we samen met\n\ninwoners en scholen.").text == (
        "Dit doen we samen met inwoners en scholen."
    )


def test_double_spaced_extraction_joins_lines_and_keeps_paragraphs() -> None:
    # Some PDFs come out with a blank line after every line: there a single blank line is
    # a line break and only two or more separate paragraphs.
    raw = (
        "Wij werken in deze regio samen met \n\n"
        "Drenthe en Emmen aan de \n\n"
        "economie van de regio. Het \n\n"
        "Rijk draagt ook bij. \n\n\n\n"
        "Een nieuwe alinea begint hier en loopt door naar \n\n"
        "Drenthe met een hoofdletter. \n\n"
    )
    assert clean(raw).text == (
        "Wij werken in deze regio samen met Drenthe en Emmen aan de economie van de regio. "
        "Het Rijk draagt ook bij.\n\n"
        "Een nieuwe alinea begint hier en loopt door naar Drenthe met een hoofdletter."
    )


@pytest.mark.parametrize(
    "heading",
    [
        "12. Wonen op Waterstof Tour",
        "3.1 Inhoudelijk",
        "2.1.3. Drentse beroepsbevolking",
        "VERSPANINGSOPLEIDING",
    ],
)
def test_headings_stay_on_their_own_line(heading: str) -> None:
    raw = f"De vorige tekst eindigt hier.\n{heading}\nLeerlingen bouwden een huis \nmet waterstof."
    assert clean(raw).text == (
        f"De vorige tekst eindigt hier.\n{heading}\nLeerlingen bouwden een huis met waterstof."
    )


def test_bullets_stay_on_their_own_line() -> None:
    raw = "Wij doen:\n• opleiden van \nvakmensen\n• bouwen\n- samenwerken"
    assert clean(raw).text == "Wij doen:\n• opleiden van vakmensen\n• bouwen\n- samenwerken"


def test_subheading_opening_a_paragraph_stays_on_its_own_line() -> None:
    raw = "Vorige alinea.\n\nVervolg\nHet Waterstof Tiny House krijgt een \nstandplaats."
    assert clean(raw).text == (
        "Vorige alinea.\n\nVervolg\nHet Waterstof Tiny House krijgt een standplaats."
    )


def test_empty_and_blank_input() -> None:
    for raw in ("", "\n\n \t\n", "\ue006\u00ad"):
        cleaned = clean(raw)
        assert cleaned.text == ""
        assert list(cleaned.offsets) == [len(raw)]


# --- the offset map ------------------------------------------------------------------------------


def test_offsets_point_at_the_original_characters() -> None:
    raw = "Meer zonne-\nenergie en ener-\ngieopslag\u00ad.\n\n12. Titel\nzorg- \nen welzijn\ttest"
    cleaned = clean(raw)
    _assert_offsets_consistent(raw, cleaned)
    i = cleaned.text.index("energieopslag")
    assert raw[slice(*cleaned.to_source(i, i + len("energieopslag")))] == "ener-\ngieopslag"
    i = cleaned.text.index("zorg- en")
    assert raw[slice(*cleaned.to_source(i, i + len("zorg- en")))] == "zorg- \nen"
    i = cleaned.text.index("Titel")
    assert raw[slice(*cleaned.to_source(i, i + 5))] == "Titel"


def test_to_source_of_an_empty_span() -> None:
    raw = "Ab.\n\nCd."
    cleaned = clean(raw)
    assert cleaned.text == "Ab.\n\nCd."
    a, b = cleaned.to_source(5, 5)
    assert a == b == raw.index("C")


_PIECES = st.sampled_from(
    list("aeoknrZE29.,:- \t\n\u00a0\u00ad\u200b\ue006")
    + ["\n\n", " en ", "zorg-", "ener-\ngie", "12. Titel\n", "1. Het huis. Door\n", "• ", "\r\n"]
)


@settings(max_examples=200, deadline=None)
@given(raw=st.lists(_PIECES, max_size=50).map("".join), data=st.data())
def test_offset_map_property(raw: str, data: st.DataObject) -> None:
    cleaned = clean(raw)
    text = cleaned.text
    _assert_offsets_consistent(raw, cleaned)
    assert _letters(text) == _letters(raw)
    assert text == text.strip()
    assert "  " not in text and "\n\n\n" not in text and " \n" not in text and "\n " not in text
    if text:
        start = data.draw(st.integers(0, len(text) - 1))
        end = data.draw(st.integers(start + 1, len(text)))
        _assert_span_maps_back(raw, cleaned, start, end)


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.txt")), ids=lambda p: p.stem)
def test_real_corpus_maps_back(path: Path) -> None:
    raw = path.read_text(encoding="utf-8")
    cleaned = clean(raw)
    text = cleaned.text
    _assert_offsets_consistent(raw, cleaned)
    assert _letters(text) == _letters(raw)
    for bad in ("  ", "\t", "\n\n\n", "\u00ad", "\u00a0", "\ue006", " \n", "\n "):
        assert bad not in text, repr(bad)
    rng = random.Random(path.stem)
    for _ in range(300):
        start = rng.randrange(len(text))
        end = min(len(text), start + rng.randrange(1, 600))
        _assert_span_maps_back(raw, cleaned, start, end)


def test_magazine_rejoins_energieopslagsystemen(magazine: tuple[str, CleanText]) -> None:
    raw, cleaned = magazine
    assert "energieopslagsystemen" not in raw
    i = cleaned.text.index("energieopslagsystemen")
    a, b = cleaned.to_source(i, i + len("energieopslagsystemen"))
    assert raw[a:b] == "ener-\ngieopslagsystemen"


def test_magazine_compounds_and_elisions(magazine: tuple[str, CleanText]) -> None:
    raw, cleaned = magazine
    text = cleaned.text
    assert "Borger-\nOdoorn" in raw
    assert text.count("Borger-Odoorn") >= raw.count("Borger-\nOdoorn") + raw.count("Borger-Odoorn")
    assert "BorgerOdoorn" not in text and "Borger- Odoorn" not in text
    assert "zorg- en welzijn" in text
    assert "De samenwer-\nking" in raw and "De samenwerking van bijvoorbeeld" in text
    assert "zorgverleners, woningcorporaties" in text  # "zorg- \nverleners" is hyphenation


def test_compound_after_a_quoted_word_keeps_its_hyphen_without_a_space() -> None:
    cleaned = clean("het ‘Meister-Geselle’-\nconcept uit Duitsland").text
    assert cleaned == "het ‘Meister-Geselle’-concept uit Duitsland"
