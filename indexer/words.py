"""Where each word of a PDF stands on its page, kept at index time for the page viewer.

A word is its character span in the extracted text (what ``Chunk.source_start/end`` and
``CleanText.to_source`` point into), its page number and its box as fractions of the page
(0..1, origin top left, the way a browser lays out a page), so the viewer can draw a
highlight over a cited sentence at any zoom.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.rows import NPY_HEADERS


@dataclass(frozen=True)
class Box:
    """A highlight rectangle on one page, as fractions of the page's width and height."""

    page: int
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass
class WordBoxes:
    spans: np.ndarray  # int32 (n, 2): start, end in the extracted text
    pages: np.ndarray  # int32 (n,): 1-based page number
    boxes: np.ndarray  # float32 (n, 4): x0, y0, x1, y1 as fractions of the page

    @classmethod
    def build(cls, rows: list[tuple[int, int, int, float, float, float, float]]) -> WordBoxes:
        arr = np.asarray(rows, dtype=np.float64).reshape(-1, 7)
        return cls(arr[:, :2].astype(np.int32), arr[:, 2].astype(np.int32), arr[:, 3:].astype("f4"))

    def save(self, path: Path) -> None:
        with path.open("wb") as f:  # np.savez would append ".npz" to a name without it
            np.savez(f, spans=self.spans, pages=self.pages, boxes=self.boxes)

    @classmethod
    def load(cls, path: Path) -> WordBoxes:
        with NPY_HEADERS, np.load(path) as data:  # its arrays' headers are parsed here
            return cls(data["spans"], data["pages"], data["boxes"])

    def __len__(self) -> int:
        return len(self.pages)

    def in_span(self, start: int, end: int) -> list[Box]:
        """Boxes over the words in the source span ``[start, end)``, one per line run."""
        if end <= start or not len(self):
            return []
        hit = (self.spans[:, 0] < end) & (self.spans[:, 1] > start)
        boxes: list[Box] = []
        for i in np.flatnonzero(hit):
            page = int(self.pages[i])
            x0, y0, x1, y1 = (float(v) for v in self.boxes[i])
            last = boxes[-1] if boxes else None
            # The next word on the same line extends the box, so a line is one highlight.
            if last and last.page == page and _same_line(last, y0, y1) and x0 >= last.x0:
                boxes[-1] = Box(page, last.x0, min(last.y0, y0), max(last.x1, x1), max(last.y1, y1))
            else:
                boxes.append(Box(page, x0, y0, x1, y1))
        return boxes


def _same_line(box: Box, y0: float, y1: float) -> bool:
    overlap = min(box.y1, y1) - max(box.y0, y0)
    return overlap > 0.5 * min(box.y1 - box.y0, y1 - y0)
