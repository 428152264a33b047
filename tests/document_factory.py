"""Real PDF, Word and HTML files made on the fly for the loader and indexing tests.

PDFs are written with fpdf2 (core Helvetica, so Latin-1 text only), encrypted with pypdf;
Word files with python-docx. Each page of a PDF is a list of lines, written one per line
exactly as given, so a test controls where lines and pages break.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

FOOTER = "Provincie Drenthe - Energieagenda"


def write_pdf(
    path: Path,
    pages: list[list[str]],
    title: str | None = None,
    year: int | None = None,
    footer: str | None = FOOTER,
) -> Path:
    """A text PDF: one list of lines per page, a running footer with the page number."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    class _Pdf(FPDF):
        def footer(self) -> None:
            if footer:
                self.set_y(-15)
                self.set_font("Helvetica", size=8)
                self.cell(0, 5, f"{footer}    {self.page_no()}", align="C")

    pdf = _Pdf(format="A4")
    pdf.set_auto_page_break(False)  # the test decides where pages break
    if title:
        pdf.set_title(title)
    if year:
        pdf.set_creation_date(dt.datetime(year, 4, 1, tzinfo=dt.UTC))
    for lines in pages:
        pdf.add_page()
        for line in lines:
            bold = line[:1].isdigit() and ". " in line[:4]  # "2. Waterstof" is a heading
            pdf.set_font("Helvetica", "B" if bold else "", 11)
            pdf.cell(0, 6, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


def write_scanned_pdf(path: Path, n_pages: int = 2) -> Path:
    """A PDF whose pages are only pictures, like a scan without OCR."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (600, 800), "white")
    draw = ImageDraw.Draw(image)
    for y in range(60, 760, 24):  # grey bars where the lines of text would be
        draw.rectangle((50, y, 550, y + 10), fill=(90, 90, 90))
    pdf = FPDF(format="A4")
    for _ in range(n_pages):
        pdf.add_page()
        pdf.image(image, x=10, y=10, w=190)
    pdf.output(str(path))
    return path


def append_scanned_page(text_pdf: Path, dest: Path) -> Path:
    """``text_pdf`` with one picture-only page added at the end."""
    from pypdf import PdfReader, PdfWriter

    scan = write_scanned_pdf(dest.with_suffix(".scan.pdf"), n_pages=1)
    writer = PdfWriter(clone_from=str(text_pdf))
    writer.append(PdfReader(scan))
    writer.write(str(dest))
    scan.unlink()
    return dest


def encrypt_pdf(src: Path, dest: Path, user_password: str, owner_password: str = "eigenaar"):
    """``src`` encrypted with AES-256; an empty user password opens it without asking."""
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=str(src))
    writer.encrypt(user_password, owner_password=owner_password, algorithm="AES-256")
    writer.write(str(dest))
    return dest


def write_docx(
    path: Path,
    blocks: list[tuple[str, str]],
    title: str | None = None,
    year: int | None = None,
    numbered_headings: bool = True,
) -> Path:
    """A Word file from (kind, text) blocks; kind is "h1", "h2", "p", "bullet" or "table".

    A "table" block's text is rows separated by newlines and cells by "|". With
    ``numbered_headings`` the Heading styles get Word list numbering, as in most notas.
    """
    import docx

    document = docx.Document()
    if numbered_headings:
        _number_heading_styles(document)
    for kind, text in blocks:
        if kind in ("h1", "h2"):
            document.add_heading(text, level=int(kind[1]))
        elif kind == "bullet":
            document.add_paragraph(text, style="List Bullet")
        elif kind == "table":
            rows = [r.split("|") for r in text.split("\n")]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for i, row in enumerate(rows):
                for j, cell in enumerate(row):
                    table.cell(i, j).text = cell.strip()
        else:
            document.add_paragraph(text)
    props = document.core_properties
    props.title = title or ""
    if year:
        props.created = dt.datetime(year, 2, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def _number_heading_styles(document) -> None:
    """Give "Heading 1/2" a numPr, as Word does for outline-numbered headings."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for level, name in enumerate(("Heading 1", "Heading 2")):
        p_pr = document.styles[name].element.get_or_add_pPr()
        num_pr = OxmlElement("w:numPr")
        ilvl = OxmlElement("w:ilvl")
        ilvl.set(qn("w:val"), str(level))
        num_id = OxmlElement("w:numId")
        num_id.set(qn("w:val"), "1")
        num_pr.append(ilvl)
        num_pr.append(num_id)
        p_pr.append(num_pr)


def write_html(path: Path, title: str, body_html: str, date: str | None = None) -> Path:
    """A saved web page: site navigation, a cookie bar and a footer around ``body_html``."""
    meta = f'<meta name="date" content="{date}">' if date else ""
    page = f"""<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><title>{title} | Provincie Drenthe</title>{meta}
<link rel="stylesheet" href="style.css"><script>var menu = "Hoofdmenu openen";</script></head>
<body>
<div class="cookiebar">Wij gebruiken cookies. <a href="/cookies">Cookie-instellingen</a></div>
<header><nav><ul>
<li><a href="/">Home</a></li><li><a href="/wonen">Wonen en leefomgeving</a></li>
<li><a href="/werken">Werken en ondernemen</a></li><li><a href="/contact">Contact</a></li>
</ul></nav></header>
<main><article>{body_html}</article></main>
<aside><h3>Meest gezocht</h3><ul><li><a href="/vacatures">Vacatures</a></li>
<li><a href="/subsidies">Subsidieloket</a></li></ul></aside>
<footer><p>Privacyverklaring | Toegankelijkheid | Provincie Drenthe, Westerbrink 1, Assen</p>
</footer></body></html>"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


# --- PDFs as users have them: a scan without a text layer, a magazine in two columns ---

SCAN_HEADER = "Gemeente Aa en Hunze - Raadsbesluit"
SCAN_PAGES = [
    [
        "Besluit van de gemeenteraad over duurzame dorpshuizen",
        "",
        "De raad van de gemeente Aa en Hunze heeft in zijn vergadering van",
        "14 maart 2024 het voorstel van het college besproken. Het voorstel",
        "gaat over de verduurzaming van de dorpshuizen in de gemeente.",
        "",
        "Veel dorpshuizen zijn oud en slecht geisoleerd. De energierekening",
        "is daardoor hoog en de besturen maken zich zorgen over de kosten.",
        "Vrijwilligers houden de gebouwen open, maar zij kunnen de stijgende",
        "lasten niet meer alleen dragen.",
    ],
    [
        "Overwegingen",
        "",
        "De gemeente wil dat elk dorp een eigen ontmoetingsplek houdt. Een",
        "dorpshuis is de plek waar verenigingen samenkomen, waar ouderen",
        "elkaar treffen en waar jongeren kunnen sporten.",
        "",
        "Het college heeft met de besturen gesproken over isolatie, warmtepompen",
        "en zonnepanelen. Uit die gesprekken blijkt dat een bijdrage van de",
        "gemeente nodig is om de plannen uit te voeren.",
    ],
    [
        "Besluit",
        "",
        "De gemeenteraad besluit een bijdrage van vijfenveertigduizend euro te",
        "verlenen aan het dorpshuis in Gieten voor zonnepanelen op het dak.",
        "Het dorpshuis in Annen krijgt een warmtepomp en nieuwe kozijnen.",
        "",
        "Het college meldt de raad voor het einde van het jaar hoeveel energie",
        "de dorpshuizen met deze maatregelen besparen.",
    ],
]


def write_scan_pdf(
    path: Path, pages: list[list[str]] = SCAN_PAGES, dpi: int = 200, garbage_layer: bool = False
) -> Path:
    """A scanned letter: each page is only a picture of its text (no text layer), with a
    running header and a page number, as a copier makes them. With ``garbage_layer`` the
    pages carry an invisible text layer of symbols, as a failed OCR run leaves behind."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw, ImageFont

    width, height = round(8.27 * dpi), round(11.69 * dpi)  # A4
    body = ImageFont.load_default(size=round(12 * dpi / 72))
    small = ImageFont.load_default(size=round(9 * dpi / 72))
    pdf = FPDF(format="A4")
    for number, lines in enumerate(pages, start=1):
        image = Image.new("L", (width, height), 255)
        draw = ImageDraw.Draw(image)
        margin = round(0.9 * dpi)
        draw.text((margin, round(0.5 * dpi)), SCAN_HEADER, font=small, fill=40)
        y = round(1.1 * dpi)
        for line in lines:
            draw.text((margin, y), line, font=body, fill=20)
            y += round(18 * dpi / 72)
        draw.text((width // 2, height - round(0.6 * dpi)), f"- {number} -", font=small, fill=40)
        pdf.add_page()
        pdf.image(image, x=0, y=0, w=210, h=297)
        if garbage_layer:
            pdf.set_font("Helvetica", size=10)
            pdf.text_mode = "INVISIBLE"
            for i in range(12):
                pdf.text(20, 40 + 8 * i, "#$%& *+<=> @[]^ {|}~ §¨©« ¬®¯° ±´¶· ¸»" * 2)
            pdf.text_mode = "FILL"
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


MAGAZINE_HEADER = ("Regio Deal Magazine", "Nummer 3 - voorjaar 2024")
MAGAZINE_FOOTER = "Regio Deal Zuid- en Oost-Drenthe"
MAGAZINE_CAPTION = "Foto: de nieuwe fietsbrug over het kanaal bij Emmen, geopend in mei."
# Per page: a title over both columns, then the left and the right column.
MAGAZINE_PAGES = [
    (
        "Samen bouwen aan de regio",
        [
            "De Regio Deal brengt gemeenten, provincie en Rijk samen rond een gedeelde "
            "agenda voor Zuid- en Oost-Drenthe.",
            "In Emmen en Coevorden starten dit jaar nieuwe leerwerkplekken voor jongeren "
            "die hun opleiding niet hebben afgemaakt.",
            "Werkgevers in de techniek bieden daarbij een vaste begeleider en een "
            "contract voor minstens een jaar.",
            "De eerste groep van twintig jongeren begint na de zomervakantie in de "
            "werkplaats aan de Bargerweg.",
        ],
        [
            "Een tweede pijler van de deal is de bereikbaarheid van de kleine kernen "
            "voor wie geen auto heeft.",
            "Daarom rijden er sinds april buurtbussen tussen Sleen, Zweeloo en het "
            "station van Emmen.",
            "De bussen worden bestuurd door vrijwilligers uit de dorpen zelf en rijden "
            "op elke werkdag twee keer per uur.",
            "Wie mee wil rijden, belt uiterlijk een uur van tevoren met de centrale van "
            "de buurtbusvereniging.",
        ],
    ),
    (
        "Wonen en zorg dichtbij",
        [
            "Ouderen willen zo lang mogelijk in hun eigen dorp blijven wonen, ook als "
            "zij meer zorg nodig hebben.",
            "In Borger komen daarom twaalf levensloopbestendige woningen naast de "
            "huisartsenpraktijk.",
            "De woningcorporatie bouwt ze met een bijdrage uit de Regio Deal en de "
            "eerste bewoners verwachten de sleutel in het najaar.",
        ],
        [
            "Ook de zorg zelf verandert: wijkverpleegkundigen werken voortaan vanuit "
            "een gedeeld steunpunt in het dorpshuis.",
            "Zo hoeven zij minder te reizen en hebben zij meer tijd voor hun cliënten.",
            "Het steunpunt is op dinsdag en donderdag ook open voor vragen van "
            "mantelzorgers uit de omgeving.",
        ],
    ),
]


def write_magazine_pdf(path: Path) -> Path:
    """A two-column magazine: a running header and footer, a title over both columns,
    and on the first page a caption box in the right column, in the middle of a sentence.

    The text is drawn out of reading order (footer, right column, caption, left column,
    title), as layout programs often do, so only a layout-aware reader gets it right.
    """
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    left_x, col_w, gutter, top = 15.0, 85.0, 10.0, 50.0
    for number, (title, left, right) in enumerate(MAGAZINE_PAGES, start=1):
        pdf.add_page()
        pdf.set_font("Helvetica", size=8)
        pdf.set_xy(15, 283)
        pdf.cell(180, 5, f"{MAGAZINE_FOOTER}    {number}", align="C")
        pdf.set_font("Helvetica", size=10)
        caption_after = 5 if number == 1 else None
        _column(pdf, right, left_x + col_w + gutter, top, col_w, caption_after)
        _column(pdf, left, left_x, top, col_w, None)
        pdf.set_font("Helvetica", "B", 20)
        pdf.set_xy(left_x, 28)
        pdf.cell(180, 10, title)
        pdf.set_font("Helvetica", size=8)
        pdf.set_xy(left_x, 12)
        pdf.cell(90, 5, MAGAZINE_HEADER[0])
        pdf.set_xy(left_x + 90, 12)
        pdf.cell(90, 5, MAGAZINE_HEADER[1], align="R")
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


def _column(pdf, paragraphs: list[str], x: float, top: float, width: float, box_after) -> None:
    """Paragraphs wrapped to ``width``; with ``box_after``, a framed caption is set in
    after that many lines, and the text continues below it."""
    pdf.set_font("Helvetica", size=10)
    y, line_no = top, 0
    for paragraph in paragraphs:
        for line in pdf.multi_cell(width, 5, paragraph, dry_run=True, output="LINES"):
            pdf.set_font("Helvetica", size=10)
            pdf.set_xy(x, y)
            pdf.cell(width, 5, line)
            y += 5
            line_no += 1
            if line_no == box_after:
                y += 4
                pdf.set_font("Helvetica", "I", 8)
                pdf.rect(x, y, width, 16)
                pdf.set_xy(x + 2, y + 2)
                pdf.multi_cell(width - 4, 4, MAGAZINE_CAPTION)
                y += 20
        y += 5  # a blank line between paragraphs
