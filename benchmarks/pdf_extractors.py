"""Which PDF text extractor reads magazine columns in order, and how fast: the measurement
behind the choice of pypdfium2 for the PDF loader.

    .venv/bin/python -m benchmarks.pdf_extractors

Needs the test tools (`pip install -e '.[test]'`) and, for the comparison only,
pdfplumber (`pip install -e '.[bench]'`). The test suite's two-column magazine (drawn
out of reading order, with a caption box, running header and footer) is read by each
candidate; a column sentence counts when it comes out whole (line breaks aside) and after
the previous sentence of its page. Speed is pages per second over 15-page generated
reports (benchmarks.parse_bench). PyMuPDF is not measured: its AGPL licence would bind
every installation that serves Beleidszoeker over a network.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT / "tests"))


def _pypdf(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [p.extract_text() or "" for p in PdfReader(path).pages]


def _pypdf_layout(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [p.extract_text(extraction_mode="layout") or "" for p in PdfReader(path).pages]


def _pdfplumber(path: Path) -> list[str]:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return [p.extract_text() or "" for p in pdf.pages]


def _pdfplumber_xycut(path: Path) -> list[str]:
    """pdfplumber's words, ordered by the same XY-cut the loader uses."""
    import pdfplumber

    from indexer.loaders.pdf_layout import Word, reading_order

    out = []
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            words = [
                Word(w["text"], w["x0"], w["top"], w["x1"], w["bottom"], w["bottom"] - w["top"])
                for w in page.extract_words()
            ]
            out.append(_blocks_text(reading_order(words)))
    return out


def _pypdfium2_raw(path: Path) -> list[str]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    try:
        return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()


def _pypdfium2_xycut(path: Path) -> list[str]:
    """What Beleidszoeker's loader does (pypdfium2 characters, XY-cut reading order)."""
    from indexer.loaders.pdf import load_pdf

    extracted = load_pdf(path)
    starts = [0, *(extracted.page_starts or []), len(extracted.text)]
    return [extracted.text[a:b] for a, b in zip(starts, starts[1:], strict=False)]


def _blocks_text(blocks) -> str:
    return "\n\n".join("\n".join(" ".join(w.text for w in ln) for ln in b) for b in blocks)


CANDIDATES = {
    "pypdf (the loader before)": _pypdf,
    "pypdf, layout mode": _pypdf_layout,
    "pdfplumber extract_text": _pdfplumber,
    "pdfplumber words + XY-cut": _pdfplumber_xycut,
    "pypdfium2 get_text_range": _pypdfium2_raw,
    "pypdfium2 chars + XY-cut (chosen)": _pypdfium2_xycut,
}


def column_score(pages: list[str]) -> tuple[int, int, bool]:
    """(sentences whole and in order, sentences, header and footer gone, caption kept)."""
    from document_factory import MAGAZINE_CAPTION, MAGAZINE_FOOTER, MAGAZINE_HEADER, MAGAZINE_PAGES

    ok = total = 0
    for text, (_title, left, right) in zip(pages, MAGAZINE_PAGES, strict=False):
        flat = " ".join(text.split())
        pos = 0
        for paragraph in left + right:
            for sentence in re.findall(r"[^.!?]+[.!?]", paragraph):
                total += 1
                found = flat.find(" ".join(sentence.split()), pos)
                if found >= 0:
                    ok += 1
                    pos = found
    everything = " ".join(" ".join(pages).split())
    clean_edges = all(x not in everything for x in (*MAGAZINE_HEADER, MAGAZINE_FOOTER))
    return ok, total, clean_edges and MAGAZINE_CAPTION.split(",")[0] in everything


def pages_per_second(fn, pdfs: list[Path]) -> float:
    n_pages = 0
    t0 = time.perf_counter()
    for pdf in pdfs:
        n_pages += len(fn(pdf))
    return n_pages / (time.perf_counter() - t0)


def main() -> None:
    from document_factory import write_magazine_pdf

    from benchmarks.parse_bench import write_pdfs
    from indexer.loaders.running_lines import strip_running_lines

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        magazine = write_magazine_pdf(Path(tmp) / "magazine.pdf")
        reports = write_pdfs(Path(tmp), 6, 15)
        for name, fn in CANDIDATES.items():
            try:
                # Every candidate gets the loader's running-line removal on top.
                ok, total, edges = column_score(strip_running_lines(fn(magazine)))
                speed = pages_per_second(fn, reports)
            except ImportError as exc:
                rows.append({"extractor": name, "missing": str(exc)})
                continue
            rows.append(
                {
                    "extractor": name,
                    "sentences_in_order": ok,
                    "sentences": total,
                    "no_running_lines": edges,
                    "pages_per_s": round(speed, 1),
                }
            )
    results = {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"), "rows": rows}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "pdf_extractors.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        "# PDF extractors on the test magazine",
        "",
        f"Measured {results['measured_at']}. Re-run: `.venv/bin/python -m "
        "benchmarks.pdf_extractors`. Column sentences: whole and in reading order on the "
        "two-column magazine (2 pages, drawn out of order, caption box in a column). "
        "Running lines: header and footer absent after the loader's running-line removal, "
        "caption kept. "
        "Speed: 90 pages of generated reports.",
        "",
        "| extractor | column sentences whole, in order | running lines gone | pages/s |",
        "| --- | --- | --- | --- |",
    ]
    for r in rows:
        if "missing" in r:
            lines.append(f"| {r['extractor']} | not installed ({r['missing']}) | | |")
            continue
        lines.append(
            f"| {r['extractor']} | {r['sentences_in_order']}/{r['sentences']} | "
            f"{'yes' if r['no_running_lines'] else 'no'} | {r['pages_per_s']} |"
        )
    (RESULTS / "pdf_extractors.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
