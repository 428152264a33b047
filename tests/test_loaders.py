"""PDF, Word and web-page loaders on real generated files, and page-accurate citations."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import FIXTURE_CORPUS, make_settings
from document_factory import (
    append_scanned_page,
    encrypt_pdf,
    write_docx,
    write_html,
    write_pdf,
    write_scanned_pdf,
)

from indexer.cleaning import clean
from indexer.loaders import LoaderError, load

# Page 1 ends mid-sentence ("... vraagt om een" / "lange adem ...") and splits
# "energieopslagsystemen" over a line break; page 3 has a passage of its own.
NOTA_PAGES = [
    [
        "1. Energie in Drenthe",
        "De provincie investeert de komende jaren fors in ener-",
        "gieopslagsystemen bij zonneparken en op bedrijventerreinen.",
        "Zo blijft het stroomnet ook op zonnige middagen in balans.",
        "Gemeenten en netbeheerders maken samen een plan per regio.",
        "Bewoners denken mee over de plaats van nieuwe windturbines.",
        "Bedrijven die hun dak vol leggen met zonnepanelen krijgen",
        "advies over de aansluiting op het net en over subsidies.",
        "Voor boeren is er een regeling voor kleine windmolens op het erf.",
        "Scholen en sportclubs kunnen een lening krijgen voor isolatie.",
        "De warmtetransitie in Emmen vraagt om een",
    ],
    [
        "lange adem van alle partners in de regio.",
        "2. Waterstof",
        "In Hoogeveen wordt groene waterstof gemaakt met stroom uit het zonnepark.",
        "De waterstof gaat naar bussen van het openbaar vervoer.",
    ],
    [
        "3. Mobiliteit",
        "Bij station Assen komt een overdekte fietsenstalling voor tweeduizend fietsen.",
        "Forenzen kunnen er ook een deelfiets huren.",
    ],
]


def nota_pdf(path: Path) -> Path:
    return write_pdf(path, NOTA_PAGES, title="Energieagenda Drenthe", year=2021)


# --- PDF -------------------------------------------------------------------------------


def test_pdf_keeps_page_offsets_title_and_year(tmp_path: Path) -> None:
    extracted = load(nota_pdf(tmp_path / "nota.pdf"))
    assert extracted.title == "Energieagenda Drenthe"
    assert extracted.year == 2021
    starts = extracted.page_starts
    assert starts is not None and len(starts) == 2
    assert extracted.text[starts[0] :].startswith("lange adem van alle partners")
    assert extracted.text[starts[1] :].startswith("3. Mobiliteit")
    # The running footer with the page number is not part of the text.
    assert "Energieagenda    " not in extracted.text and "Provincie Drenthe -" not in extracted.text


def test_pdf_hyphenation_and_page_break_are_joined_by_cleaning(tmp_path: Path) -> None:
    text = clean(load(nota_pdf(tmp_path / "nota.pdf")).text).text
    assert "fors in energieopslagsystemen bij zonneparken" in text
    assert "vraagt om een lange adem van alle partners" in text


def test_pdf_with_a_password_is_refused_with_the_reason(tmp_path: Path) -> None:
    locked = encrypt_pdf(nota_pdf(tmp_path / "nota.pdf"), tmp_path / "locked.pdf", "geheim")
    with pytest.raises(LoaderError, match="password-protected"):
        load(locked)


def test_pdf_encrypted_only_against_printing_is_read(tmp_path: Path) -> None:
    restricted = encrypt_pdf(nota_pdf(tmp_path / "nota.pdf"), tmp_path / "restricted.pdf", "")
    extracted = load(restricted)
    assert "fietsenstalling" in extracted.text
    assert extracted.page_starts is not None and len(extracted.page_starts) == 2


def test_damaged_pdf_and_non_pdf_say_so(tmp_path: Path) -> None:
    data = nota_pdf(tmp_path / "nota.pdf").read_bytes()
    (tmp_path / "truncated.pdf").write_bytes(data[: len(data) // 3])
    with pytest.raises(LoaderError, match="damaged"):
        load(tmp_path / "truncated.pdf")
    (tmp_path / "renamed.pdf").write_text("Dit is geen PDF maar platte tekst.", encoding="utf-8")
    with pytest.raises(LoaderError, match="not a PDF"):
        load(tmp_path / "renamed.pdf")


def test_scanned_pdf_asks_for_ocr(tmp_path: Path) -> None:
    with pytest.raises(LoaderError, match=r"no text layer \(scanned\?\).*OCR"):
        load(write_scanned_pdf(tmp_path / "scan.pdf"))


def test_pdf_with_one_scanned_page_is_read_with_a_note(tmp_path: Path) -> None:
    mixed = append_scanned_page(nota_pdf(tmp_path / "nota.pdf"), tmp_path / "mixed.pdf")
    extracted = load(mixed)
    assert extracted.page_starts is not None and len(extracted.page_starts) == 3
    assert any("page 4 without a text layer" in n and "OCR" in n for n in extracted.notes), (
        extracted.notes
    )


def test_running_headers_and_page_numbers_are_dropped_but_headings_kept() -> None:
    from indexer.loaders.running_lines import strip_running_lines

    pages = [
        "Concept 12 maart 2024\nArtikel 3 Subsidie\nDe subsidie bedraagt ten hoogste\n"
        "Verordening Wonen | 5",
        "Concept 12 maart 2024\nArtikel 7 Aanvraag\nEen aanvraag wordt ingediend\n"
        "Verordening Wonen | 6",
        "Concept 12 maart 2024\n- 7 -\nArtikel 9 Slot\nDeze regeling treedt in werking\n"
        "Verordening Wonen | 7",
    ]
    assert strip_running_lines(pages) == [
        "Artikel 3 Subsidie\nDe subsidie bedraagt ten hoogste",
        "Artikel 7 Aanvraag\nEen aanvraag wordt ingediend",
        "Artikel 9 Slot\nDeze regeling treedt in werking",
    ]
    # One page: only a bare page number can be told apart.
    assert strip_running_lines(["Inleiding\nTekst van de nota.\n1"]) == [
        "Inleiding\nTekst van de nota."
    ]


# --- Word and HTML -----------------------------------------------------------------------

VRIJETIJD_BLOCKS = [
    ("h1", "Inleiding"),
    (
        "p",
        "Drenthe telt duizenden kilometers fietspad door bos en heide. Fietsers en wandelaars "
        "vormen de grootste groep bezoekers van de provincie.",
    ),
    ("h1", "Toerisme"),
    (
        "p",
        "De provincie wil meer bezoekers buiten het hoogseizoen trekken, met evenementen in "
        "het voorjaar en het najaar en met arrangementen voor groepen.",
    ),
    ("bullet", "Hunebedden beter bereikbaar maken"),
    ("table", "Route|Lengte\nHondsrugroute|40 km"),
    ("h2", "Recreatieparken"),
    ("p", "Verouderde vakantieparken krijgen hulp bij vernieuwing."),
    ("h1", "Uitvoering"),
    ("p", "Het programma loopt van 2020 tot en met 2023."),
]


def test_docx_headings_lists_tables_and_metadata(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "nota.docx", VRIJETIJD_BLOCKS, title="Nota Vrijetijd", year=2019)
    extracted = load(path)
    assert extracted.title == "Nota Vrijetijd"
    assert extracted.year == 2019
    assert extracted.page_starts is None
    lines = [ln for ln in extracted.text.split("\n") if ln]
    # Word shows numbers before outline-numbered headings; the text gets them back.
    assert "1. Inleiding" in lines and "2. Toerisme" in lines and "3. Uitvoering" in lines
    assert "2.1 Recreatieparken" in lines
    assert "• Hunebedden beter bereikbaar maken" in lines
    assert "Hondsrugroute | 40 km" in lines
    # Each paragraph stays a paragraph after cleaning (not merged into one line).
    cleaned = clean(extracted.text).text
    assert "de grootste groep bezoekers van de provincie.\n\n2. Toerisme" in cleaned


def test_docx_without_numbering_keeps_plain_headings(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "n.docx", VRIJETIJD_BLOCKS[:2], numbered_headings=False)
    assert load(path).text.split("\n")[0] == "Inleiding"


def test_empty_or_fake_docx_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LoaderError, match="has no text"):
        load(write_docx(tmp_path / "leeg.docx", []))
    (tmp_path / "oud.docx").write_bytes(b"\xd0\xcf\x11\xe0 old binary Word file")
    with pytest.raises(LoaderError, match=r"not a Word \.docx file"):
        load(tmp_path / "oud.docx")


OMGEVING_BODY = """<h1>Omgevingsvisie Drenthe</h1>
<p>De provincie beschermt het Drentse landschap met zijn essen, brinken en hunebedden. Nieuwe
bebouwing past bij de kernkwaliteiten van het gebied.</p>
<h2>Water</h2>
<p>Het grondwater onder de Hondsrug is de bron van het drinkwater voor een groot deel van de
provincie; daarom gelden er strenge regels voor boringen.</p>
<table><tr><th>Gebied</th><th>Beschermd</th></tr><tr><td>Drentsche Aa</td><td>ja</td></tr></table>
"""


def test_html_main_text_without_navigation(tmp_path: Path) -> None:
    path = write_html(tmp_path / "visie.html", "Omgevingsvisie", OMGEVING_BODY, "2020-06-01")
    extracted = load(path)
    assert extracted.title == "Omgevingsvisie"
    assert extracted.year == 2020
    assert "strenge regels voor boringen" in extracted.text
    assert "Drentsche Aa | ja" in extracted.text
    for boilerplate in ("Cookie", "Werken en ondernemen", "Privacyverklaring", "Subsidieloket"):
        assert boilerplate not in extracted.text


def test_short_html_page_falls_back_to_visible_blocks(tmp_path: Path) -> None:
    path = write_html(
        tmp_path / "kort.htm", "Kort bericht", "<p>Gedeputeerde Staten zijn akkoord.</p>"
    )
    extracted = load(path)
    assert "Gedeputeerde Staten zijn akkoord." in extracted.text
    assert "Privacyverklaring" not in extracted.text


def test_unknown_extensions_name_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "begroting.xlsx").write_bytes(b"PK\x03\x04")
    with pytest.raises(LoaderError, match=r"unsupported file type \.xlsx: spreadsheets"):
        load(tmp_path / "begroting.xlsx")
    (tmp_path / "data.xyz").write_text("x")
    with pytest.raises(LoaderError, match=r"supported: .*\.docx.*\.pdf"):
        load(tmp_path / "data.xyz")


# --- End to end: build the index, search, cite the page ----------------------------------


@pytest.fixture
def mixed_corpus(tmp_path: Path) -> Path:
    """Fixture texts plus a PDF in a sub-folder, a Word file and a saved web page."""
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    nota_pdf(corpus / "energie" / "energieagenda.pdf")
    write_docx(corpus / "vrijetijd.docx", VRIJETIJD_BLOCKS, title="Nota Vrijetijd", year=2019)
    write_html(corpus / "omgevingsvisie.html", "Omgevingsvisie", OMGEVING_BODY, "2020-06-01")
    manifest = corpus / "manifest.toml"
    manifest.write_text(
        manifest.read_text(encoding="utf-8")
        + '\n["vrijetijd.docx"]\ntitle = "Vrijetijdseconomie Drenthe"\nyear = 2018\n',
        encoding="utf-8",
    )
    return corpus


def _settings(corpus: Path, tmp_path: Path, cache_dir: Path, **extra: object):
    return make_settings(
        corpus, tmp_path / "index", cache_dir, chunk_size=400, chunk_overlap=60, **extra
    )


def test_citations_name_the_page_end_to_end(
    mixed_corpus: Path, tmp_path: Path, cache_dir: Path
) -> None:
    from indexer.build import build_index
    from search_api.engine import get_searcher
    from search_api.models import Passage

    settings = _settings(mixed_corpus, tmp_path, cache_dir)
    report = build_index(settings)
    assert not report.skipped
    assert set(report.added) >= {
        "energie/energieagenda.pdf",
        "vrijetijd.docx",
        "omgevingsvisie.html",
    }
    searcher = get_searcher(settings)
    docs = searcher.index.documents
    assert docs["energie-energieagenda"].title == "Energieagenda Drenthe"  # PDF info
    assert docs["energie-energieagenda"].n_pages == 3
    assert (docs["vrijetijd"].title, docs["vrijetijd"].year) == ("Vrijetijdseconomie Drenthe", 2018)
    assert docs["omgevingsvisie"].title == "Omgevingsvisie"

    def top(query: str, doc: str) -> Passage:
        hits = searcher.search(query, k=3, mode="keyword")
        hits = [h for h in hits if h.document.id == doc]
        assert hits, f"no passage of {doc} for {query!r}"
        return Passage.from_hit(hits[0])

    first = top("energieopslagsystemen zonneparken", "energie-energieagenda")
    assert "energieopslagsystemen" in first.text
    assert (first.page, first.page_end) == (1, None)

    third = top("overdekte fietsenstalling station Assen", "energie-energieagenda")
    assert (third.page, third.page_end) == (3, None)
    assert third.section.startswith("3. Mobiliteit")

    spanning = top("warmtetransitie Emmen lange adem", "energie-energieagenda")
    assert "vraagt om een lange adem" in spanning.text
    assert (spanning.page, spanning.page_end) == (1, 2)

    # Every passage's offsets point at its text in the document the viewer shows.
    for c in searcher.index.chunks:
        assert searcher.index.clean_text(c.document_id).text[c.char_start : c.char_end] == c.text

    word = top("fietspad bos heide", "vrijetijd")
    assert word.page is None and word.section.startswith("1. Inleiding")
    web = top("grondwater Hondsrug boringen", "omgevingsvisie")
    assert "Privacyverklaring" not in web.text


def test_terminal_output_shows_the_page_range(
    mixed_corpus: Path, tmp_path: Path, cache_dir: Path
) -> None:
    from rich.console import Console

    from beleidszoeker.progress import print_passages
    from indexer.build import build_index
    from search_api.engine import get_searcher
    from search_api.models import Passage, SearchResponse

    settings = _settings(mixed_corpus, tmp_path, cache_dir)
    build_index(settings)
    hits = get_searcher(settings).search("warmtetransitie Emmen lange adem", 1, "keyword")
    console = Console(record=True, width=200)
    print_passages(
        console, SearchResponse(query="q", mode="keyword", results=[Passage.from_hit(hits[0])])
    )
    assert "Energieagenda Drenthe, 2021, p. 1-2" in console.export_text()


def test_bad_files_are_skipped_with_one_line_each_and_the_rest_is_indexed(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from beleidszoeker.cli import app
    from beleidszoeker.config import get_settings
    from search_api.engine import get_searcher

    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    good = nota_pdf(tmp_path / "nota.pdf")
    encrypt_pdf(good, corpus / "beveiligd.pdf", "geheim")
    (corpus / "kapot.pdf").write_bytes(good.read_bytes()[:700])
    write_scanned_pdf(corpus / "gescand.pdf")
    write_docx(corpus / "leeg.docx", [])
    (corpus / "groot.txt").write_text("Een heel groot bestand. " * 60_000, encoding="utf-8")
    (corpus / "begroting.xlsx").write_bytes(b"PK\x03\x04 spreadsheet")
    (corpus / "archief").mkdir()
    shutil.copy(good, corpus / "archief" / "energieagenda.pdf")

    monkeypatch.setenv("BELEIDSZOEKER_CACHE_DIR", str(cache_dir))
    monkeypatch.setenv("BELEIDSZOEKER_CHUNK_SIZE", "400")
    monkeypatch.setenv("BELEIDSZOEKER_CHUNK_OVERLAP", "60")
    monkeypatch.setenv("BELEIDSZOEKER_MAX_FILE_MB", "1")
    get_settings.cache_clear()
    index_dir = tmp_path / "index"
    try:
        result = CliRunner().invoke(
            app, ["index", "--corpus", str(corpus), "--index", str(index_dir)]
        )
        settings = get_settings().with_overrides(corpus_dir=corpus, index_dir=index_dir)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())  # rich wraps long lines
    expected = {
        "beveiligd.pdf": "password-protected",
        "kapot.pdf": "damaged",
        # Grey bars where text would be: OCR runs, and finds nothing to read.
        "gescand.pdf": "no text layer (scanned?) and OCR found no text on its pages",
        "leeg.docx": "the Word file has no text",
        "groot.txt": "larger than 1 MB",
        "begroting.xlsx": "unsupported file type .xlsx",
    }
    for name, reason in expected.items():
        assert f"skipped {name}: " in out and reason in out, (name, result.output)
    assert result.output.count("skipped ") == len(expected)

    searcher = get_searcher(settings)
    assert sorted(searcher.index.documents) == [
        "archief-energieagenda",
        "breedband-en-werk",
        "waterstof-projecten",
        "zorg-en-welzijn",
    ]
    hits = searcher.search("overdekte fietsenstalling", 1, "keyword")
    assert hits[0].document.id == "archief-energieagenda" and hits[0].chunk.page == 3
