"""Clean PDF-extracted text while keeping a map back to the original characters.

Lines broken mid-sentence are joined, words hyphenated across a line break are rejoined
("ener-" + "gieopslagsystemen"), real compounds keep their hyphen ("zonne-energie",
"Borger-Odoorn", "zorg- en welzijn"), invisible characters are dropped and whitespace is
normalised. Headings and list items stay on lines of their own; paragraphs are separated
by a blank line.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from indexer.sections import next_nonblank, parse_heading

_INVISIBLE = {"\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}
_SPACES = {"\t", "\u00a0", "\u2002", "\u2003", "\u2009", "\u202f", "\f", "\v", "\r"}
_BULLET = re.compile(r"^(?:[•●▪■◦‣∙·\-–—*]|\d{1,2}[.)]\s|[a-z][.)]\s)")
_COORDINATORS = {"en", "of", "tot", "en/of", "dan", "als", "noch"}
_VOWELS = set("aeiouyáéíóúäëïöüèà")
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)


@dataclass(frozen=True)
class CleanText:
    """Cleaned text and, for every cleaned character, its offset in the original."""

    text: str
    offsets: np.ndarray  # int64, len(text) + 1; the last entry is len(original)

    def to_source(self, start: int, end: int) -> tuple[int, int]:
        """Original-text span ``[a, b)`` covering the cleaned span ``[start, end)``."""
        if end <= start:
            a = int(self.offsets[start])
            return a, a
        return int(self.offsets[start]), int(self.offsets[end - 1]) + 1


def _is_dropped(ch: str) -> bool:
    if ch in _INVISIBLE:
        return True
    # Private-use glyphs (U+E000..U+F8FF) are invisible icon-font leftovers of PDF extraction.
    return unicodedata.category(ch) in ("Co", "Cc") and ch != "\n"


class _Builder:
    def __init__(self) -> None:
        self.chars: list[str] = []
        self.offs: list[int] = []

    def add(self, ch: str, off: int) -> None:
        self.chars.append(ch)
        self.offs.append(off)

    def extend(self, text: str, offs: Sequence[int]) -> None:
        self.chars.extend(text)
        self.offs.extend(offs)

    def ends_with(self, s: str) -> bool:
        return "".join(self.chars[-len(s) :]) == s


def _line_chars(raw: str, start: int, end: int) -> tuple[str, Sequence[int]]:
    """The visible characters of one line, whitespace collapsed and trimmed, and the
    offset of each in ``raw``."""
    line = raw[start:end]
    # Most lines need nothing done: no control, invisible or non-ASCII space character
    # (none of them is printable), no double, leading or trailing space. Such a line is
    # kept as it is, without a Python step per character (most of a build's reading).
    if line.isprintable() and "  " not in line and line[:1] != " " and line[-1:] != " ":
        return line, range(start, end)
    out: list[tuple[str, int]] = []
    for i in range(start, end):
        ch = raw[i]
        # Spaces first: tab, form feed and CR are control characters too, but separate words.
        if ch in _SPACES or ch.isspace():
            if out and out[-1][0] != " ":
                out.append((" ", i))
            continue
        if _is_dropped(ch):
            continue
        out.append((ch, i))
    while out and out[-1][0] == " ":
        out.pop()
    return "".join(c for c, _ in out), [i for _, i in out]


def _vocabulary(lines: list[str]) -> tuple[Counter[str], set[str]]:
    """Word counts of the document and prefixes it uses in hyphenated compounds."""
    words: Counter[str] = Counter()
    prefixes: set[str] = set()
    for line in lines:
        body = line.rstrip("- ")  # a fragment before a line-end hyphen is no word
        for w in _WORD.findall(body):
            words[w.lower()] += 1
            if "-" in w:
                prefixes.add(w.split("-")[0].lower())
    return words, prefixes


def _hyphen_join(prefix: str, nxt: str, words: Counter[str], prefixes: set[str]) -> str:
    """How "prefix-" at a line end meets the next line's first word: "", "-" or "- "."""
    if nxt.lower() in _COORDINATORS:
        return "- "  # "zorg- en welzijn": the hyphen stands for a left-out word
    if not prefix or not nxt or prefix[-1].isupper() or nxt[0].isupper() or prefix[-1].isdigit():
        return "-"  # "Borger-Odoorn", "Pieter-Jan", "CO2-uitstoot"
    joined, hyphened = (prefix + nxt).lower(), f"{prefix}-{nxt}".lower()
    if words[joined] > words[hyphened]:
        return ""
    if words[hyphened] or prefix.lower() in prefixes:
        return "-"
    if prefix[-1].lower() in _VOWELS and nxt[0].lower() in _VOWELS:
        return "-"  # Dutch spelling keeps the hyphen at a vowel clash: "zonne-energie"
    return ""


_SENTENCE_END = (".", ":", "!", "?", "”", '"')


def _continues(prev_text: str, text: str) -> bool:
    return text[:1].islower() and not prev_text.endswith(_SENTENCE_END)


def _is_subheading(line: str) -> bool:
    """A short title line such as "Opleiden" that opens a paragraph."""
    return (
        len(line.split()) <= 5
        and line[:1].isupper()
        and not line.endswith((".", ",", ";", ":", "-", "!", "?", "”", '"'))
    )


def clean(raw: str) -> CleanText:
    """Clean one document's extracted text (see module docstring)."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in raw.split("\n"):
        spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    lines = [_line_chars(raw, a, b) for a, b in spans]
    texts = [text for text, _ in lines]
    words, prefixes = _vocabulary(texts)
    nexts = next_nonblank(texts)

    # Some extractions put a blank line after every line; there only two or more blank
    # lines in a row separate paragraphs.
    runs = [len(r) for r in re.findall(r"(?:\n[ \t]*){2,}", "\n".join(texts))]
    nonblank = sum(1 for t in texts if t)
    min_blank = 2 if nonblank and sum(1 for r in runs if r == 2) > 0.5 * nonblank else 1

    out = _Builder()
    prev: int | None = None  # index of the previous non-blank line
    blank_since_prev = False
    blanks = 0
    prev_opens_paragraph = True
    for i, (_, line_offsets) in enumerate(lines):
        if not line_offsets:
            blanks += 1
            # Even where single blank lines are mere double spacing, one after a finished
            # sentence ends a paragraph: "A.\n\nB.\n\nC." stays three paragraphs.
            blank_since_prev = prev is not None and (
                blanks >= min_blank or texts[prev].endswith(_SENTENCE_END)
            )
            continue
        text = texts[i]
        if prev is not None:
            prev_text = texts[prev]
            brk = spans[prev][1]  # the original newline that ended the previous line
            structural = (
                (prev_opens_paragraph and _is_subheading(prev_text) and text[:1].isupper())
                or parse_heading(prev_text, text) is not None
                or parse_heading(text, nexts[i]) is not None
                or _BULLET.match(text) is not None
            )
            if blank_since_prev and blanks <= min_blank and _continues(prev_text, text):
                blank_since_prev = False  # a sentence that the PDF split over a blank line
            if blank_since_prev:
                out.add("\n", brk)
                out.add("\n", brk)
            elif structural:
                out.add("\n", brk)
            elif prev_text.endswith("-") and len(prev_text) > 1 and prev_text[-2].isalnum():
                m = re.search(r"([^\W\d_]+)-$", prev_text)
                first = _WORD.match(text)
                join = _hyphen_join(
                    m.group(1) if m else "",
                    first.group(0).split("-")[0] if first else "",
                    words,
                    prefixes,
                )
                if join != "-":
                    # The hyphen was line-end hyphenation or stands for a left-out word.
                    hyphen_off = out.offs.pop()
                    out.chars.pop()
                    if join == "- ":
                        out.add("-", hyphen_off)
                        out.add(" ", brk)
            elif prev_text.endswith(("’-", "'-", '"-', "”-", ")-")) and text[:1].isalpha():
                pass  # a quoted or bracketed word in a compound: "‘Meister-Geselle’-concept"
            else:
                out.add(" ", brk)
        out.extend(text, line_offsets)
        prev_opens_paragraph = prev is None or blank_since_prev
        prev = i
        blank_since_prev = False
        blanks = 0

    text = "".join(out.chars)
    offsets = np.array(out.offs + [len(raw)], dtype=np.int64)
    return CleanText(text=text, offsets=offsets)
