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
    drop = running_lines(lines)
    out: list[str] = []
    for page, dropped in zip(lines, drop, strict=True):
        kept = [ln for j, ln in enumerate(page) if j not in dropped]
        while kept and not kept[0].strip():
            kept.pop(0)
        while kept and not kept[-1].strip():
            kept.pop()
        out.append("\n".join(kept))
    return out


def running_lines(pages: list[list[str]]) -> list[set[int]]:
    """Per page, the indexes of its running lines (see ``strip_running_lines``).

    Works on lines so a caller that keeps more per line (word positions) can drop the
    same lines from its own structure.
    """
    seen: Counter[tuple[str, int]] = Counter()
    for i, page in enumerate(pages):
        body = [ln for ln in page if ln.strip()]
        seen.update({k for ln in body[:EDGE_LINES] + body[-EDGE_LINES:] for k in _keys(ln, i)})
    threshold = max(2, (len(pages) + 1) // 2)

    def running(line: str, i: int) -> bool:
        if _PAGE_NUMBER.match(line.strip()):
            return True
        return any(seen[k] >= threshold for k in _keys(line, i))

    drop: list[set[int]] = []
    for i, page in enumerate(pages):
        dropped: set[int] = set()
        body = [j for j, ln in enumerate(page) if ln.strip()]
        lo, hi = 0, len(body) - 1
        for _ in range(EDGE_LINES):
            if lo <= hi and running(page[body[lo]], i):
                dropped.add(body[lo])
                lo += 1
        for _ in range(EDGE_LINES):
            if lo <= hi and running(page[body[hi]], i):
                dropped.add(body[hi])
                hi -= 1
        drop.append(dropped)
    return drop


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
