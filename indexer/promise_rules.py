"""Rules for what a promise names: its target year or period, who commits, and the amount.

Each field is taken from the sentence's own words, or left None when the sentence does not
say: a register that guesses a deadline is worse than one that leaves it blank.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_MONTHS = "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december"
# "2016-2019", "2016 - 2019", "2016 tot 2019"; a school year "2016-2017" is a period too.
_PERIOD = re.compile(
    r"(?<![\d/])((?:19|20)\d{2})\s*(?:[-–]|tot(?: en met)?|t/m)\s*((?:19|20)\d{2})\b"
)
_YEAR = re.compile(r"(?<![\d/])(?:19|20)\d{2}(?![\d/])")
# Words before a year that make it a deadline or a start: "in 2019", "medio 2022",
# "vanaf maart 2022", "uiterlijk eind 2020".
_TIME_WORD = re.compile(
    rf"\b(?:in|medio|vanaf|voor|vóór|tot|uiterlijk|eind|begin|per|rond|na|sinds|"
    rf"{_MONTHS})\s+$",
    re.I,
)


def target_year(sentence: str) -> int | str | None:
    """The year or period the sentence names for its result, or None.

    A year inside brackets is a reference ("(2014 plaats 6/7)") and a year right after a
    capitalised word is part of a name ("call Human Capital A 2016"), unless a time word
    precedes it.
    """
    if m := _PERIOD.search(sentence):
        a, b = int(m.group(1)), int(m.group(2))
        if a < b:
            return f"{a}-{b}"
    candidates = _dated_years(sentence)
    if not candidates:
        return None
    return min(candidates)[1]


def deadline_years(sentence: str) -> list[int]:
    """The years a sentence names as dates, not as part of a name or reference, and not
    inside a period ("De Economische Koers Drenthe 2016-2019" names a plan)."""
    spans = [m.span() for m in _PERIOD.finditer(sentence)]
    return [y for _, y in _dated_years(sentence, skip=spans)]


def _dated_years(sentence: str, skip: Sequence[tuple[int, int]] = ()) -> list[tuple[int, int]]:
    """(preference, year) of each dated year: 0 after a time word, 1 for a bare year."""
    candidates: list[tuple[int, int]] = []
    for m in _YEAR.finditer(sentence):
        if any(a <= m.start() < b for a, b in skip):
            continue
        before = sentence[: m.start()]
        if before.count("(") > before.count(")"):
            continue
        if _TIME_WORD.search(before):
            candidates.append((0, int(m.group(0))))
            continue
        previous = before.rstrip().rsplit(None, 1)[-1:] or [""]
        if previous[0][:1].isupper():
            continue
        candidates.append((1, int(m.group(0))))
    return candidates


_ACTOR = re.compile(
    r"\b(?:[Ww]ij|[Ww]e)\b"
    r"|\b(?:[Dd]e\s+)?[Pp]rovincie(?:\s+Drenthe)?\b"
    r"|\b(?:[Dd]e\s+)?[Gg]emeenten?(?:\s+[A-Z][\w-]*(?:\s+(?:en\s+)?[A-Z][\w-]*)*)?"
    r"|\b(?:[Hh]et|[Dd]it|[Dd]at)\s+(?:project|programma|netwerk|plan|samenwerkingsverband)\b"
    r"|\b(?:[Dd]e\s+)?(?:Regio Deal|Koers|samenwerkende partijen|partners)\b"
)


def actor(sentence: str) -> str | None:
    """Who commits, in the sentence's own words: "wij", "De provincie", "het project"."""
    m = _ACTOR.search(sentence)
    return m.group(0) if m else None


_NUMBER_WORDS = (
    "twee|drie|vier|vijf|zes|zeven|acht|negen|tien|twintig|dertig|veertig|vijftig|honderd|"
    "duizend|tweehonderd|driehonderd|vijfhonderd"
)
_AMOUNT = re.compile(
    r"(?:€|EUR|euro)\s?\d[\d.,]*(?:\s?(?:miljoen|mln|miljard|mld|duizend))?"
    r"|\d[\d.,]*\s?(?:miljoen|mln|miljard)?\s?euro"
    r"|\d[\d.,]*\s?(?:%|procent)"
    rf"|\b(?:(?!(?:19|20)\d{{2}}\b)\d[\d.,]*|{_NUMBER_WORDS})\s+(?!(?:procent|jaar|jaren|maand|maanden|week|weken|dag|dagen|uur|keer)\b)[a-zà-ÿ][\w-]*"
    r"(?:\s+(?!(?:te|in|om|en|van|voor|die|dat|met|op|aan|uit|per|de|het|een|bij|tot)\b)"
    r"[a-zà-ÿ][\w-]*)?",
    re.I,
)


def amount(sentence: str) -> str | None:
    """The amount or measurable result as written: "€ 2 miljoen", "20%", "120 bedrijven"."""
    for m in _AMOUNT.finditer(sentence):
        text = m.group(0).strip()
        if _YEAR.fullmatch(text.split()[0]):
            continue  # "2019 ontsloten" is a year, not an amount
        return text
    return None
