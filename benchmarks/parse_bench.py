"""PDF parsing speed: generate multi-page PDFs, then time reading them (pages per second).

    .venv/bin/python -m benchmarks.parse_bench --docs 20 --pages 15

Needs fpdf2 to generate the PDFs (`pip install -e '.[test]'`). Two figures: the PDF
loader alone (text layer, page offsets, running headers removed) and the loader plus
cleaning and chunking, which is what `beleidszoeker index` does per changed file.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

_WORDS = [
    "provincie",
    "Drenthe",
    "gemeenten",
    "waterschap",
    "energie",
    "waterstof",
    "werkgelegenheid",
    "onderwijs",
    "arbeidsmarkt",
    "bedrijven",
    "innovatie",
    "subsidie",
    "regeling",
    "samenwerking",
    "landbouw",
    "natuur",
    "bereikbaarheid",
    "mobiliteit",
    "woningbouw",
    "leefbaarheid",
    "dorpen",
    "zorg",
    "welzijn",
    "economie",
    "programma",
    "uitvoering",
    "doelen",
    "resultaten",
    "inwoners",
    "ondernemers",
    "partners",
    "regio",
    "Emmen",
    "Assen",
    "Hoogeveen",
    "Meppel",
    "Coevorden",
    "investeren",
    "ontwikkelen",
    "versterken",
    "ondersteunen",
]


def write_pdfs(folder: Path, n_docs: int, n_pages: int, seed: int = 7) -> list[Path]:
    """``n_docs`` A4 PDFs of ``n_pages`` full pages of body text, numbered headings and a
    running footer, like a policy document."""
    try:
        from fpdf import FPDF
        from fpdf.enums import XPos, YPos
    except ImportError as exc:
        raise SystemExit("The benchmark needs fpdf2: run `pip install -e '.[test]'`.") from exc

    class _Nota(FPDF):
        def footer(self) -> None:  # a running footer, as the loader meets in real notas
            self.set_y(-15)
            self.set_font("Helvetica", size=8)
            self.cell(0, 5, f"Provincie Drenthe    {self.page_no()}", align="C")

    rng = random.Random(seed)
    paths = []
    for d in range(n_docs):
        pdf = _Nota(format="A4")
        pdf.set_title(f"Beleidsnota {d + 1}")
        pdf.set_auto_page_break(True, margin=20)
        pdf.add_page()
        chapter = 0
        # Fill pages until the last one is nearly full (a paragraph may spill onto one more).
        while pdf.page_no() < n_pages or pdf.get_y() < 240:
            if chapter == 0 or rng.random() < 0.15:
                chapter += 1
                pdf.set_font("Helvetica", "B", 13)
                title = f"{chapter}. {rng.choice(_WORDS).capitalize()} in de regio"
                pdf.multi_cell(0, 8, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_font("Helvetica", size=10)
            words = [rng.choice(_WORDS) for _ in range(rng.randint(40, 120))]
            text = " ".join(words).capitalize() + "."
            pdf.multi_cell(0, 5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(2)
        path = folder / f"nota-{d + 1:03d}.pdf"
        pdf.output(str(path))
        paths.append(path)
    return paths


def bench_parse(n_docs: int = 20, n_pages: int = 15) -> dict[str, float]:
    from indexer.chunking import chunk_document
    from indexer.cleaning import clean
    from indexer.loaders import load

    with tempfile.TemporaryDirectory() as tmp:
        paths = write_pdfs(Path(tmp), n_docs, n_pages)
        t0 = time.perf_counter()
        extracted = [load(p) for p in paths]
        t_load = time.perf_counter() - t0
        pages = sum(len(e.page_starts or []) + 1 for e in extracted)
        chars = sum(len(e.text) for e in extracted)
        t0 = time.perf_counter()
        n_chunks = 0
        for e in extracted:
            cleaned = clean(e.text)
            n_chunks += len(chunk_document("bench", cleaned, 1000, 150))
        t_rest = time.perf_counter() - t0
    return {
        "documents": n_docs,
        "pages": pages,
        "characters": chars,
        "chunks": n_chunks,
        "load_seconds": round(t_load, 2),
        "load_pages_per_s": round(pages / t_load, 1),
        "load_clean_chunk_pages_per_s": round(pages / (t_load + t_rest), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20)
    parser.add_argument("--pages", type=int, default=15)
    args = parser.parse_args()
    print(json.dumps(bench_parse(args.docs, args.pages), indent=2))


if __name__ == "__main__":
    main()
