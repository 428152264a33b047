"""What the promise classifier sees in a sentence: its words, its characters, and a few
hand-made signs of a commitment (future and modal verbs, goal words, first-person plural,
years after the document's year) or of its look-alikes (past tense, hopes, quoted feelings).

A classifier input is ``(sentence, document year or None, sentence vector)``: "in 2019" is a
target in a 2016 plan and history in a 2022 magazine, and the sentence's embedding (the
index's own, multilingual-e5-small) carries what it means beyond its words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from indexer.promise_rules import deadline_years

Item = tuple[str, int | None, np.ndarray]
# The embedding's share next to the n-grams: chosen by cross-validation on dev (1, 3, 6).
MEANING_WEIGHT = 3.0

YEAR = re.compile(r"(?<![\d/])(?:19|20)\d{2}(?![\d/])")


def _words(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{pattern})\b", re.I)


# Each sign: (name, pattern). The names are saved with the model as its feature list.
SIGNS: list[tuple[str, re.Pattern[str]]] = [
    ("first_person_plural", _words(r"wij|we|ons|onze")),
    ("future_verb", _words(r"zal|zullen|gaan|gaat|ga|komende|straks|toekomst\w*")),
    (
        "modal_intent",
        _words(
            r"wil|willen|streven|streeft|strev\w+|beogen|beoogt|beoogd\w*|voornemens|plannen|"
            r"belooft|beloven|beloofd|toezeggen|zegt\s+toe|zeggen\s+toe|garandeert|garanderen"
        ),
    ),
    (
        "goal_word",
        _words(
            r"doel|doelen|doelstelling\w*|doestelling\w*|ambitie\w*|bedoeling|opgave|inzet|"
            r"resultaat|resultaten|target\w*|idee is"
        ),
    ),
    (
        "goal_statement",  # "Doelstelling is dat ...", "Het uiteindelijke doel van X is ..."
        re.compile(
            r"^\W*(?:(?:het|de|ons|onze|dit|een)\s+)?(?:\w+\s+)?(?:sub)?(?:doel|doelstelling|"
            r"ambitie|streven|bedoeling|opzet|idee|inzet|insteek)\b[^.;]{0,80}?(?:\b(?:is|zijn)\b|:)",
            re.I,
        ),
    ),
    (
        "commit_verb",
        _words(
            r"zetten\s+(?:\w+\s+)?in|zet\s+(?:\w+\s+)?in|inzetten|richten|richt|maken ons|"
            r"investeren|investeert|stimuleren|stimuleert|ondersteunen|ondersteunt|"
            r"organiseren|organiseert|ontwikkelen|ontwikkelt|versterken|versterkt|"
            r"stellen|subsidiëren|werken aan|werkt aan|spant|zorgen|zorgt"
        ),
    ),
    (
        "perfect_tense",
        re.compile(
            r"\b(?:heeft|hebben|had|hadden|is|zijn|was|waren|werd|werden)\b(?:\s+\S+){0,6}?"
            r"\s+ge\w+(?:d|t|en)\b",
            re.I,
        ),
    ),
    ("simple_past_aux", _words(r"had|hadden|was|waren|werd|werden|kwam|kwamen|besloten|zei")),
    ("past_time", _words(r"onlangs|afgelopen|vorig\w*|inmiddels|destijds|toen|eerder|al\s+\d+")),
    ("has_goal", _words(r"(?:heeft|hebben)\s+(?:als\s+doel|de\s+ambitie|tot\s+doel)")),
    ("passive_future", _words(r"(?:wordt|worden)\s+(?:\w+\s+){0,5}?\w+(?:d|t|en)")),
    ("conviction", _words(r"overtuigd|vertrouwen|zien\s+dat|zien we|merken|blijkt|blijken")),
    (
        "hope_or_expect",
        _words(r"hopen|hoop|hoopt|verwacht\w*|vanuit|denk|denken|vind|vindt|wensen|wens"),
    ),
    ("say_verb", _words(r"zegt|vertelt|aldus|besluit|legt\s+\w+\s+uit|zei|vertelde")),
    ("request", _words(r"vragen|vraagt|verzoeken|roepen")),
    ("must", _words(r"moet|moeten|nodig|noodzakelijk")),
    (
        "statistic",  # a number that is not a year
        re.compile(r"\d+(?:[.,]\d+)?\s*(?:%|procent)|\b(?!(?:19|20)\d{2}\b)\d{2,}\b"),
    ),
    ("quote_mark", re.compile(r"[“”\"]")),
    ("question", re.compile(r"\?")),
    ("list_item", re.compile(r";\s*$|^[•\-–]")),
]
NAMES = [name for name, _ in SIGNS]
NUMERIC_FEATURES = NAMES + [
    "year_after_document",
    "year_not_after_document",
    "future_target",
    "commitment_without_past",
    "log_length",
]


def texts(items: Sequence[Item]) -> list[str]:
    """The sentences alone, for the word and character n-grams."""
    return [item[0] for item in items]


def meaning(items: Sequence[Item]) -> np.ndarray:
    """The sentence vectors, weighted against the n-grams."""
    return MEANING_WEIGHT * np.vstack([np.asarray(item[2], dtype=np.float64) for item in items])


def signs(items: Sequence[Item]) -> np.ndarray:
    """One row of hand-made features per sentence, in the order of ``NUMERIC_FEATURES``."""
    rows = []
    for text, doc_year, *_ in items:
        row = [float(bool(p.search(text))) for _, p in SIGNS]
        years = [int(y) for y in YEAR.findall(text)]
        # A later year counts as a deadline only where it is a date, not a plan's name.
        after = doc_year is not None and any(y > doc_year for y in deadline_years(text))
        not_after = doc_year is not None and any(y <= doc_year for y in years)
        named = dict(zip(NAMES, row, strict=True))
        past = named["perfect_tense"] or named["simple_past_aux"] or named["past_time"]
        hedged = named["hope_or_expect"] or named["request"] or named["conviction"]
        # Linear weights cannot say "a later year, and not in the past tense": these do.
        future_target = after and not past and not hedged
        commitment = (
            named["modal_intent"] or named["goal_statement"] or named["future_verb"]
        ) and not (past or hedged)
        row += [
            float(after),
            float(not_after),
            float(future_target),
            float(commitment),
            float(np.log1p(len(text))),
        ]
        rows.append(row)
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(NUMERIC_FEATURES))
