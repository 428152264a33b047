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
