"""Words of a PDF page in reading order: columns one after the other, boxes and captions
where they belong, and the position of every word kept.

pdfium (pypdfium2) gives each character with its box; characters become words, and the
words of a page are cut into blocks by the white space between them (recursive XY-cut):
full-width rows top to bottom, and inside a row the columns left to right. The order in
which the PDF happens to draw its text does not matter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from statistics import median

# A white band at least this many line heights tall separates rows (paragraphs, a title
# above columns); ordinary line spacing stays under it.
_ROW_GAP = 0.9
# A white band at least this many line heights wide, through every line of a region,
# separates columns; word spaces stay under it.
_COLUMN_GAP = 0.6
_SENTENCE_END = (".", "!", "?", ":", ";", "”", '"', ")")
# pdfium's stand-ins for a hyphen at the end of a line (per letter, and in whole text)
_HYPHEN_MARKS = str.maketrans({"\x02": "-", "\ufffe": "-", "\x00": " "})
_RUN = re.compile(r"\S+")


@dataclass
class Word:
    """A word and its box in points, origin at the top left of the page."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    size: float  # font size (pdfium) or line height (OCR), in points

    @property
    def height(self) -> float:
        return self.y1 - self.y0


Line = list[Word]


@dataclass
class Page:
    """A page as blocks of lines in reading order; sizes in points."""

    width: float
    height: float
    blocks: list[list[Line]]


def pdfium_page(page) -> Page:
    """The words of a pypdfium2 page with their boxes, in reading order."""
    # Positions are kept relative to the crop box: the part of the page a viewer shows.
    left, bottom, right, top = page.get_bbox()  # the crop box, inherited ones included
    textpage = page.get_textpage()
    try:
        words = _words(textpage, left, top)
    finally:
        textpage.close()
    return Page(right - left, top - bottom, reading_order(words))


def _words(textpage, page_left: float, page_top: float) -> list[Word]:
    """Words split where pdfium puts white space (its own, generated ones included).

    A word is boxed from its first and last letter; only a word whose letters do not run
    left to right on one line is measured letter by letter.
    """
    import pypdfium2.raw as raw

    n = textpage.count_chars()
    text = textpage.get_text_range() if n else ""
    if len(text) != n:  # letters outside the BMP: read one code point per index instead
        text = "".join(chr(raw.FPDFText_GetUnicode(textpage, i) or 32) for i in range(n))
    text = text.translate(_HYPHEN_MARKS)

    def box(i: int) -> tuple[float, float, float, float]:
        left, bottom, right, top = textpage.get_charbox(i, loose=True)
        return left - page_left, page_top - top, right - page_left, page_top - bottom

    words: list[Word] = []
    for m in _RUN.finditer(text):
        first, last = box(m.start()), box(m.end() - 1)
        size = raw.FPDFText_GetFontSize(textpage, m.start()) or (first[3] - first[1])
        mid = (last[1] + last[3]) / 2
        if first[1] <= mid <= first[3] and first[0] <= last[0] + 0.01:
            y0, y1 = min(first[1], last[1]), max(first[3], last[3])
            words.append(Word(m.group(), first[0], y0, last[2], y1, size))
        else:
            words.extend(_by_letter(m.group(), [box(i) for i in range(m.start(), m.end())], size))
    return [w for w in words if w.x1 > w.x0 or w.y1 > w.y0]


def _by_letter(run: str, boxes: list[tuple[float, float, float, float]], size: float) -> list[Word]:
    """A run without white space that still jumps back or to another line: cut it there."""
    words: list[Word] = []
    start = 0
    for i in range(1, len(run) + 1):
        if i < len(run):
            prev, cur = boxes[i - 1], boxes[i]
            mid = (cur[1] + cur[3]) / 2
            if cur[0] >= prev[0] - 0.01 and prev[1] <= mid <= prev[3]:
                continue
        part = boxes[start:i]
        x0, y0 = min(b[0] for b in part), min(b[1] for b in part)
        x1, y1 = max(b[2] for b in part), max(b[3] for b in part)
        words.append(Word(run[start:i], x0, y0, x1, y1, size))
        start = i
    return words


def reading_order(words: list[Word]) -> list[list[Line]]:
    """``words`` as blocks of lines, in the order a reader takes them."""
    if not words:
        return []
    h = median(w.height for w in words) or 1.0
    blocks = [_lines(b) for b in _cut(words, h)]
    return _captions_after_sentences(blocks)


def _cut(words: list[Word], h: float) -> list[list[Word]]:
    rows = _split(words, vertical=True, min_gap=_ROW_GAP * h)
    if len(rows) > 1:
        regions = _merge_column_rows(rows, h)
        if len(regions) > 1:
            return [block for region in regions for block in _cut(region, h)]
    columns = _split(words, vertical=False, min_gap=_COLUMN_GAP * h)
    if len(columns) > 1 and all(len(_lines(c)) >= 2 for c in columns):
        return [block for column in columns for block in _cut(column, h)]
    return [words]


def _split(words: list[Word], vertical: bool, min_gap: float) -> list[list[Word]]:
    """Groups of words separated by white bands at least ``min_gap`` wide (top to bottom
    when ``vertical``, else left to right)."""

    def span(w: Word) -> tuple[float, float]:
        return (w.y0, w.y1) if vertical else (w.x0, w.x1)

    ordered = sorted(words, key=span)
    groups: list[list[Word]] = [[ordered[0]]]
    reach = span(ordered[0])[1]
    for w in ordered[1:]:
        lo, hi = span(w)
        if lo - reach >= min_gap:
            groups.append([])
        groups[-1].append(w)
        reach = max(reach, hi)
    return groups


def _gutters(words: list[Word], h: float) -> list[tuple[float, float]]:
    cols = _split(words, vertical=False, min_gap=_COLUMN_GAP * h)
    return [
        (max(w.x1 for w in left), min(w.x0 for w in right))
        for left, right in zip(cols, cols[1:], strict=False)
    ]


def _merge_column_rows(rows: list[list[Word]], h: float) -> list[list[Word]]:
    """Rows that share a column gutter are one multi-column region again.

    Two columns whose paragraph breaks happen to line up are cut into rows first; read
    row by row, the columns would be interleaved. Single lines (a running header with
    text left and right) never join a region.
    """
    merged: list[list[Word]] = [rows[0]]
    prev_gutters = _gutters(rows[0], h) if len(_lines(rows[0])) >= 2 else []
    for row in rows[1:]:
        gutters = _gutters(row, h) if len(_lines(row)) >= 2 else []
        if any(min(a1, b1) > max(a0, b0) for a0, a1 in prev_gutters for b0, b1 in gutters):
            merged[-1] = merged[-1] + row
            gutters = _gutters(merged[-1], h)
        else:
            merged.append(row)
        prev_gutters = gutters
    return merged


def _lines(words: list[Word]) -> list[Line]:
    """Words grouped into lines (top to bottom), each line left to right."""
    lines: list[Line] = []
    for w in sorted(words, key=lambda w: (w.y0 + w.y1) / 2):
        mid = (w.y0 + w.y1) / 2
        if lines and lines[-1][0].y0 <= mid <= lines[-1][0].y1:
            lines[-1].append(w)
        else:
            lines.append([w])
    return [sorted(line, key=lambda w: w.x0) for line in lines]


def _captions_after_sentences(blocks: list[list[Line]]) -> list[list[Line]]:
    """A caption or box (text of another size) placed inside a column interrupts the
    sentence that runs around it; the sentence is joined up and the caption read after."""
    body = median(w.size for b in blocks for ln in b for w in ln)
    out = list(blocks)
    i = 1
    while i < len(out) - 1:
        size = median(w.size for ln in out[i] for w in ln)
        before, after = out[i - 1][-1][-1].text, out[i + 1][0][0].text
        if (
            abs(size - body) > 0.1 * body
            and not before.endswith(_SENTENCE_END)
            and after[:1].islower()
        ):
            # The sentence's two halves become one block again, the caption follows.
            out[i - 1 : i + 2] = [out[i - 1] + out[i + 1], out[i]]
            i += 1
        else:
            i += 1
    return out
