"""Tests for indexer.sections: which lines are headings and the title path of each section."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.chunking import chunk_document
from indexer.cleaning import CleanText, clean
from indexer.sections import SEPARATOR, Section, detect_sections, parse_heading

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def _section_of(sections: list[Section], text: str, needle: str) -> str:
    at = text.index(needle)
    (path,) = [s.path for s in sections if s.start <= at < s.end]
    return path


def _assert_tiles(sections: list[Section], text: str) -> None:
    """Sections are in order, do not overlap and leave out nothing but blank text."""
    pos = 0
    for s in sections:
        assert s.start < s.end
        assert not text[pos : s.start].strip()
        pos = s.end
    assert not text[pos:].strip()


# --- parse_heading ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "number", "label"),
    [
        ("12. Wonen op Waterstof Tour", (12,), "12. Wonen op Waterstof Tour"),
        ("3.1  Inhoudelijk ", (3, 1), "3.1. Inhoudelijk"),
        ("3.1. Inhoudelijk", (3, 1), "3.1. Inhoudelijk"),
        ("2.1.3 Drentse beroepsbevolking", (2, 1, 3), "2.1.3. Drentse beroepsbevolking"),
        ("2. Wat willen wij?", (2,), "2. Wat willen wij?"),
        ("3. Strategie: tien kerngedachten", (3,), "3. Strategie: tien kerngedachten"),
        (
            "4.2. Programmalijn ‘Concurrentiekracht’",
            (4, 2),
            "4.2. Programmalijn ‘Concurrentiekracht’",
        ),
        ("20. 360-graden arbeidsmarkt", (20,), "20. 360-graden arbeidsmarkt"),
        (
            "1.4 Impuls positieve gezondheid1.4 Impuls positieve gezondheid",
            (1, 4),
            "1.4. Impuls positieve gezondheid",
        ),
    ],
)
def test_numbered_headings(line: str, number: tuple[int, ...], label: str) -> None:
    heading = parse_heading(line)
    assert heading is not None
    assert heading.kind == "numbered"
    assert heading.number == number
    assert heading.label == label


@pytest.mark.parametrize(
    "line",
    [
        # Numbered sentences in a list, not headings.
        "1. Het Waterstof Tiny House maakt de duurzaamheidstransitie tastbaar. Door te laten zien",
        "1. Het Waterstof Tiny House maakt de duurzaamheids- en energietransitie tastbaar.",
        "2. Dit werkt. Door samen te doen",
        "1. De beleidsnota De Economische Koers Drenthe 2016-2019 vast te stellen.",
        "3. het begint met een kleine letter",
        # A count, not a number of a heading.
        "20 Drentse bedrijven doen mee",
        "2016 was een goed jaar",
        "12 Wonen op Waterstof Tour",
        # Body text and too-short capitals.
        "Leerlingen van het Alfa-college in Hoogeveen bouwden een huis",
        "EU",
        "",
        "   ",
    ],
)
def test_not_headings(line: str) -> None:
    assert parse_heading(line) is None


def test_long_line_wrapping_into_lower_case_is_a_sentence() -> None:
    line = "1.1. De beleidsnota De Economische Koers Drenthe geeft invulling aan de economische"
    assert parse_heading(line, "opgaven van de provincie, zoals die zijn opgenomen") is None
    assert parse_heading("1.1. De economische structuur van Drenthe", "opgaven") is not None


@pytest.mark.parametrize(
    "line",
    [
        "VERSPANINGSOPLEIDING",
        "OPLEIDEN IN HET RESTAURATIEVAK",
        "GIRLSDAY & JET-NET",
        "‘WE ZIJN EEN STELLETJE KUNSTENAARS’",
    ],
)
def test_capitalised_titles(line: str) -> None:
    heading = parse_heading(line)
    assert heading is not None
    assert heading.kind == "caps"
    assert heading.label == line


# --- detect_sections ---------------------------------------------------------------------------

NUMBERED_DOC = """Voorwoord van de gedeputeerde over de regio.

1. Inleiding
Dit magazine laat de projecten zien.

2. Skills4future
20 Drentse bedrijven doen mee aan het project.

12. Wonen op Waterstof Tour
Leerlingen bouwden een tiny house met waterstof.
De tour heeft lessen opgeleverd:
1. Het Waterstof Tiny House maakt de duurzaamheidstransitie tastbaar. Door te laten zien
2. Het Waterstof Tiny House leidde tot goede gesprekken.
"""


def test_numbered_project_headings() -> None:
    sections = detect_sections(NUMBERED_DOC)
    _assert_tiles(sections, NUMBERED_DOC)
    assert [s.path for s in sections] == [
        "",
        "1. Inleiding",
        "2. Skills4future",
        "12. Wonen op Waterstof Tour",
    ]
    assert sections[0].start == 0
    assert sections[-1].end == len(NUMBERED_DOC)
    heading_at = NUMBERED_DOC.index("12. Wonen")
    assert sections[-1].start == heading_at
    assert _section_of(sections, NUMBERED_DOC, "Drentse bedrijven") == "2. Skills4future"
    assert _section_of(sections, NUMBERED_DOC, "Tiny House leidde") == "12. Wonen op Waterstof Tour"


STRATEGY_DOC = """2. De Drentse economie
De economie groeit.
3. Strategie: tien kerngedachten
Tien kerngedachten vormen de basis.
3.1. Inhoudelijk
1. Baan is basisvoorwaarde
Iedereen doet er toe.
2. Groene groei
Groei die duurzaam is.
3.2. Provinciale werkwijze
7. Schakelen tussen schaalniveaus
Wij werken op alle niveaus.
4. Economisch programma
Het programma kent programmalijnen.
4.1. Van visie naar actie
Van woorden naar daden.
4.1.1. Eerste stap
De eerste stap.
4.2. Programmalijn Arbeidsmarkt
Werk voor iedereen.
1. Werkgelegenheidstoename op korte termijn
Snel aan het werk.
2. Betere aansluiting onderwijs
Leren wat nodig is.
3. Investeren in de beroepsbevolking
Voor de toekomst.
4. Bevorderen grensoverschrijdende arbeidsmobiliteit
Over de grens.
5. Rol van de Provincie
5.1 Omgeving & provincie
De rol van de Provincie verandert.
5.2 Breder beleidsperspectief
Meer dan economie.
6. Richting uitvoering
Aan de slag.
"""


def test_dotted_headings_nest_and_keep_integer_children() -> None:
    sections = detect_sections(STRATEGY_DOC)
    _assert_tiles(sections, STRATEGY_DOC)
    paths = {s.path.split(SEPARATOR)[-1]: s.path for s in sections}
    j = SEPARATOR.join
    assert paths["2. De Drentse economie"] == "2. De Drentse economie"
    assert paths["3.1. Inhoudelijk"] == j(["3. Strategie: tien kerngedachten", "3.1. Inhoudelijk"])
    assert paths["1. Baan is basisvoorwaarde"] == j(
        ["3. Strategie: tien kerngedachten", "3.1. Inhoudelijk", "1. Baan is basisvoorwaarde"]
    )
    assert paths["2. Groene groei"] == j(
        ["3. Strategie: tien kerngedachten", "3.1. Inhoudelijk", "2. Groene groei"]
    )
    # A new dotted heading closes its sibling's children.
    assert paths["7. Schakelen tussen schaalniveaus"] == j(
        [
            "3. Strategie: tien kerngedachten",
            "3.2. Provinciale werkwijze",
            "7. Schakelen tussen schaalniveaus",
        ]
    )
    # "4." continues the chapter count, so it is a chapter, not child "7 + 1".
    assert paths["4. Economisch programma"] == "4. Economisch programma"
    assert paths["4.1.1. Eerste stap"] == j(
        ["4. Economisch programma", "4.1. Van visie naar actie", "4.1.1. Eerste stap"]
    )
    assert paths["4.2. Programmalijn Arbeidsmarkt"] == j(
        ["4. Economisch programma", "4.2. Programmalijn Arbeidsmarkt"]
    )
    assert paths["1. Werkgelegenheidstoename op korte termijn"] == j(
        [
            "4. Economisch programma",
            "4.2. Programmalijn Arbeidsmarkt",
            "1. Werkgelegenheidstoename op korte termijn",
        ]
    )
    assert paths["4. Bevorderen grensoverschrijdende arbeidsmobiliteit"].startswith(
        paths["4.2. Programmalijn Arbeidsmarkt"] + SEPARATOR
    )
    # "5." could be the fifth child of 4.2, but "5.1" right after it makes it a chapter.
    assert paths["5. Rol van de Provincie"] == "5. Rol van de Provincie"
    assert paths["5.1. Omgeving & provincie"] == j(
        ["5. Rol van de Provincie", "5.1. Omgeving & provincie"]
    )
    assert paths["6. Richting uitvoering"] == "6. Richting uitvoering"
    assert (
        _section_of(sections, STRATEGY_DOC, "Iedereen doet er toe")
        == paths["1. Baan is basisvoorwaarde"]
    )


CAPS_DOC = """DRENTHE OP DREEF
Een magazine over onderwijs en werk.

VERSPANINGSOPLEIDING
‘WE ZIJN EEN STELLETJE KUNSTENAARS’
Het werk van verspaners zie je dagelijks om je heen.

ENERGIE- EN DUURZAAMHEIDS-
CENTRUM
Een centrum voor duurzaam wonen.

Een zin die 20 Drentse bedrijven noemt.
"""


def test_capitalised_titles_when_there_are_no_numbered_headings() -> None:
    sections = detect_sections(CAPS_DOC)
    _assert_tiles(sections, CAPS_DOC)
    paths = [s.path for s in sections]
    assert paths[:2] == [
        "DRENTHE OP DREEF",
        # Consecutive capitalised lines form one title.
        "VERSPANINGSOPLEIDING ‘WE ZIJN EEN STELLETJE KUNSTENAARS’",
    ]
    # A title hyphenated over two lines is joined without a space (the hyphen may stay).
    assert len(paths) == 3
    assert paths[2] in ("ENERGIE- EN DUURZAAMHEIDSCENTRUM", "ENERGIE- EN DUURZAAMHEIDS-CENTRUM")
    assert _section_of(sections, CAPS_DOC, "verspaners") == paths[1]
    assert _section_of(sections, CAPS_DOC, "20 Drentse") == paths[2]


def test_running_header_is_not_a_section() -> None:
    text = "\n".join(
        f"REGIO DEAL MAGAZINE\nPAGINA TITEL {name}\nTekst over {name.lower()}."
        for name in ("EEN", "TWEE", "DRIE")
    )
    paths = [s.path for s in detect_sections(text)]
    assert "REGIO DEAL MAGAZINE" not in " ".join(paths)
    assert paths == ["", "PAGINA TITEL EEN", "PAGINA TITEL TWEE", "PAGINA TITEL DRIE"]


def test_few_numbered_headings_fall_back_to_capitals() -> None:
    text = "INLEIDING\n1. Eerste punt\nTekst.\n\nAANPAK\n2. Tweede punt\nMeer tekst.\n"
    assert [s.path for s in detect_sections(text)] == ["INLEIDING", "AANPAK"]


def test_text_without_headings_is_one_section() -> None:
    text = "Gewone tekst zonder koppen.\n\nNog een alinea."
    assert detect_sections(text) == [Section("", 0, len(text))]
    assert detect_sections("") == []


# --- the real documents ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def magazine() -> CleanText:
    raw = (CORPUS / "regio-deal-zuid-en-oost-drenthe-magazine.txt").read_text(encoding="utf-8")
    return clean(raw)


def test_magazine_tiny_house_chunk_is_in_its_project_section(magazine: CleanText) -> None:
    chunks = chunk_document("magazine", magazine, 800, 120)
    tiny = [c for c in chunks if "Waterstof Tiny House" in c.text]
    assert tiny
    assert {c.section for c in tiny} == {"12. Wonen op Waterstof Tour"}


def test_magazine_numbered_sentences_are_not_sections(magazine: CleanText) -> None:
    paths = " ".join(s.path for s in detect_sections(magazine.text))
    assert "12. Wonen op Waterstof Tour" in paths
    assert "Het Waterstof Tiny House" not in paths
    assert "Drentse bedrijven" not in paths


def test_koers_strategy_paths() -> None:
    raw = (CORPUS / "economische-koers-drenthe-2016-2019.txt").read_text(encoding="utf-8")
    text = clean(raw).text
    sections = detect_sections(text)
    _assert_tiles(sections, text)
    baan = _section_of(sections, text, "Iedereen doet er toe en iedereen moet mee kunnen doen")
    assert baan.split(SEPARATOR) == [
        "3. Strategie: tien kerngedachten",
        "3.1. Inhoudelijk",
        "1. Baan is basisvoorwaarde",
    ]
    rol = _section_of(sections, text, "In een netwerksamenleving verandert ook de rol")
    assert rol.split(SEPARATOR) == ["5. Rol van de Provincie", "5.1. Omgeving & provincie"]


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.txt")), ids=lambda p: p.stem)
def test_real_documents_tile_into_sections(path: Path) -> None:
    text = clean(path.read_text(encoding="utf-8")).text
    sections = detect_sections(text)
    _assert_tiles(sections, text)
    for s in sections:
        if s.path:
            # Each section starts at its heading line.
            assert s.start == 0 or text[s.start - 1] == "\n"
