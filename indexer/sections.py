"""Section detection: numbered headings ("12. Wonen op Waterstof Tour", "2.1.3 ...") and
capitalised titles ("VERSPANINGSOPLEIDING"), kept as a path on every chunk."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

# "2.1.3 Title", "2.1. Title" or "12. Title"; a bare "20 Drentse bedrijven" is body text.
_NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){1,3}\.?|\d{1,2}\.)\s+(\S.*)$")
_MARKDOWN = re.compile(r"^(#{1,6})\s+(\S.*?)\s*#*$")
_MAX_TITLE_WORDS = 12
SEPARATOR = " › "


@dataclass(frozen=True)
class Heading:
    kind: str  # "numbered", "caps" or "markdown" (number holds the "#" level)
    number: tuple[int, ...]
    title: str

    @property
    def label(self) -> str:
        if self.kind == "numbered":
            return f"{'.'.join(map(str, self.number))}. {self.title}"
        return self.title


@dataclass(frozen=True)
class Section:
    path: str
    start: int  # offset in the cleaned text where the section's heading line starts
    end: int


def parse_heading(line: str, next_line: str = "") -> Heading | None:
    """The heading a single line stands for, or None for body text.

    A long line followed by one starting in lower case is a sentence wrapped by the PDF, not
    a heading ("1.1. De beleidsnota ... geeft invulling aan de economische" + "opgaven ...").
    """
    line = line.strip()
    if not line or len(line) > 120:
        return None
    if len(line.split()) >= 8 and next_line.lstrip()[:1].islower():
        return None
    md = _MARKDOWN.match(line)
    if md:
        return Heading("markdown", (len(md.group(1)),), md.group(2).strip())
    m = _NUMBERED.match(line)
    if m:
        number = tuple(int(p) for p in m.group(1).split(".") if p)
        title = m.group(2).strip()
        # PDF extraction sometimes repeats a heading on one line: "1.4 X1.4 X".
        title = re.split(rf"(?<=[^\W\d]){re.escape(m.group(1).rstrip('.'))}\.?\s", title)[0]
        title = title.strip()
        if _looks_like_title(title):
            return Heading("numbered", number, title.rstrip(":").strip())
        return None
    if _is_caps_title(line):
        return Heading("caps", (), line)
    return None


def _looks_like_title(title: str) -> bool:
    words = title.split()
    if not words or len(words) > _MAX_TITLE_WORDS:
        return False
    first = title.lstrip("‘'\"“(")
    if not first or not (first[0].isupper() or first[0].isdigit()):
        return False
    if title.endswith((".", ",", ";", "-")) or ">" in title or "•" in title:
        return False
    # A full stop followed by more words means this is a numbered sentence, not a heading.
    return not re.search(r"[.!?]\s+\S", title)


def _is_caps_title(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    if len(letters) < 5 or len(line.split()) > _MAX_TITLE_WORDS:
        return False
    upper = sum(c.isupper() for c in letters)
    return upper / len(letters) >= 0.9 and not line.rstrip().endswith((",", ";"))


def next_nonblank(lines: list[str]) -> list[str]:
    """For every line, the next line that is not blank ("" at the end)."""
    out = [""] * len(lines)
    following = ""
    for i in range(len(lines) - 1, -1, -1):
        out[i] = following
        if lines[i].strip():
            following = lines[i]
    return out


def detect_sections(text: str) -> list[Section]:
    """Split cleaned text (headings on lines of their own) into sections with title paths.

    Numbered headings win when a document has at least three; otherwise capitalised titles
    mark the sections. Integer-only headings that follow a dotted one ("3.1 Inhoudelijk",
    then "1. Baan is basisvoorwaarde") are read as its children unless they continue the
    top-level chapter count.
    """
    lines = []
    pos = 0
    for raw in text.split("\n"):
        lines.append((pos, raw))
        pos += len(raw) + 1
    nexts = next_nonblank([raw for _, raw in lines])
    headings = [
        (off, h)
        for (off, raw), nxt in zip(lines, nexts, strict=True)
        if (h := parse_heading(raw, nxt))
    ]
    caps_seen = Counter(h.title for _, h in headings if h.kind == "caps")
    # A capitalised line printed on three or more pages is a running header, not a section.
    headings = [(o, h) for o, h in headings if h.kind != "caps" or caps_seen[h.title] < 3]
    numbered = [(off, h) for off, h in headings if h.kind == "numbered"]
    markdown = [(off, h) for off, h in headings if h.kind == "markdown"]
    if markdown:  # explicit "#" structure (Markdown, Word headings) says it all
        paths = _markdown_paths(markdown)
    elif len(numbered) >= 3:
        paths = _numbered_paths(numbered)
    else:
        caps = _merge_caps([(off, h) for off, h in headings if h.kind == "caps"], text)
        paths = [(o, h.label) for o, h in caps]
    sections: list[Section] = []
    if not paths or paths[0][0] > 0:
        sections.append(Section("", 0, paths[0][0] if paths else len(text)))
    for i, (off, path) in enumerate(paths):
        end = paths[i + 1][0] if i + 1 < len(paths) else len(text)
        sections.append(Section(path, off, end))
    return [s for s in sections if text[s.start : s.end].strip()]


def _merge_caps(caps: list[tuple[int, Heading]], text: str) -> list[tuple[int, Heading]]:
    """Consecutive capitalised lines form one title ("ENERGIE- EN DUURZAAMHEIDS-" + "CENTRUM")."""
    merged: list[tuple[int, Heading]] = []
    prev_end = -2
    for off, h in caps:
        if merged and off == prev_end + 1:
            first_off, first = merged[-1]
            joiner = "" if first.title.endswith("-") else " "
            merged[-1] = (first_off, Heading("caps", (), first.title + joiner + h.title))
        else:
            merged.append((off, h))
        prev_end = text.find("\n", off)
        if prev_end < 0:
            prev_end = len(text)
    return merged


def _markdown_paths(headings: list[tuple[int, Heading]]) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    stack: list[Heading] = []
    for off, h in headings:
        stack = [s for s in stack if s.number[0] < h.number[0]] + [h]
        out.append((off, SEPARATOR.join(s.title for s in stack)))
    return out


def _numbered_paths(headings: list[tuple[int, Heading]]) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    stack: list[Heading] = []  # the open headings, outermost first
    top = 0  # the chapter we are in, from "3." or "3.2"
    last_int = 0  # the last integer-only heading read as a chapter
    child_last: int | None = None
    for i, (off, h) in enumerate(headings):
        n = h.number
        nxt = headings[i + 1][1].number if i + 1 < len(headings) else ()
        opens_dotted = nxt[:2] == (n[0], 1)  # "5. Rol ..." directly followed by "5.1 ..."
        if len(n) > 1:
            stack = [s for s in stack if len(s.number) < len(n) and s.number == n[: len(s.number)]]
            stack.append(h)
            top, child_last = n[0], None
        else:
            under_dotted = any(len(s.number) > 1 for s in stack)
            continues = (child_last is None and n[0] == 1) or (
                child_last is not None and n[0] == child_last + 1
            )
            new_chapter = n[0] in (top + 1, last_int + 1)
            if under_dotted and not opens_dotted and (continues or not new_chapter):
                child_last = n[0]
                out.append((off, SEPARATOR.join([s.label for s in stack] + [h.label])))
                continue
            stack, top, last_int, child_last = [h], n[0], n[0], None
        out.append((off, SEPARATOR.join(s.label for s in stack)))
    return out
