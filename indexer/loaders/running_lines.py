"""Running headers, footers and page numbers of paged text, found and dropped.

Left in, they land in the middle of every sentence that runs over a page break
("... vraagt om een Provincie Drenthe 12 lange adem ...").
"""

from __future__ import annotations

import re
from collections import Counter

EDGE_LINES = 2  # looked for in this many non-blank lines at the top and bottom of a page
_PAGE_NUMBER = re.compile(
    r"^[\W_]*(?:(?:pagina|page|blz\.?|p\.)\s*)?\d{1,3}(?:\s*(?:van|of|/)\s*\d{1,4})?[\W_]*$",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d+")


def strip_running_lines(pages: list[str]) -> list[str]:
    """``pages`` without the lines that repeat at the top or bottom of most pages.

    A line is running when it is a bare page number ("12", "- 3 -", "Pagina 3 van 40"),
    when the same line opens or closes at least half of the pages (two at least), or when
    it does so with one number that grows with the page ("Nota Wonen | 12", "13", ...).
    A number that does not follow the pages keeps the line: "Artikel 3" and "Artikel 7"
    at the top of two pages are headings, not a running header.
    """
    lines = [p.split("\n") for p in pages]
    seen: Counter[tuple[str, int]] = Counter()
    for i, page in enumerate(lines):
        body = [ln for ln in page if ln.strip()]
        seen.update({k for ln in body[:EDGE_LINES] + body[-EDGE_LINES:] for k in _keys(ln, i)})
    threshold = max(2, (len(pages) + 1) // 2)

    def running(line: str, i: int) -> bool:
        if _PAGE_NUMBER.match(line.strip()):
            return True
        return any(seen[k] >= threshold for k in _keys(line, i))

    out: list[str] = []
    for i, page in enumerate(lines):
        for _ in range(EDGE_LINES):
            while page and not page[0].strip():
                page.pop(0)
            if page and running(page[0], i):
                page.pop(0)
        for _ in range(EDGE_LINES):
            while page and not page[-1].strip():
                page.pop()
            if page and running(page[-1], i):
                page.pop()
        out.append("\n".join(page))
    return out


def _keys(line: str, page_index: int) -> set[tuple[str, int]]:
    """The line itself, and for each number in it: the line with that number blanked out
    plus how far the number is from the page index (the same on every page for a page
    number, whatever the numbering starts at)."""
    text = " ".join(line.split()).lower()
    keys = {(text, 0)}
    for m in list(_NUMBER.finditer(text))[:3]:
        blanked = text[: m.start()] + "#" + text[m.end() :]
        keys.add((blanked, int(m.group()) - page_index))
    return keys
