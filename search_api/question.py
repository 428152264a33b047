"""What a question asks for: a list or a fact, the type of answer, and its names and years."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

AnswerType = Literal["money", "number", "date", "person", "place", "any"]

_EN_WORDS = (
    "the what which who whom how many much does do did is are was were of in for to from "
    "when where why and or by with on at an a will be"
)
_NL_WORDS = (
    "de het een wat welke welk wie hoe hoeveel wordt worden is zijn was waren van voor naar "
    "met op aan bij uit door wanneer waar waarom en of die dat"
)
# Function words tell the language apart; the rest of the question carries the topic.
ENGLISH_FUNCTION_WORDS = _EN = frozenset(_EN_WORDS.split())
_NL = frozenset(_NL_WORDS.split())
# The first pattern that matches names the answer type; "hoeveel kost" is money, not a count.
_TYPES: list[tuple[AnswerType, re.Pattern[str]]] = [
    (
        "money",
        re.compile(
            r"\b(hoeveel (geld|euro)|(wat|hoeveel) (kost|kosten|kostte)|gekost|budget|bedrag|"
            r"how much money|cost|costs|cost(ed|ing))\b",
            re.I,
        ),
    ),
    (
        "number",
        re.compile(
            r"\b(hoeveel|hoe (hoog|groot|veel)|welk percentage|how many|how much|"
            r"what percentage|what share|percentage|(the|what) \w+ rate)\b",
            re.I,
        ),
    ),
    ("date", re.compile(r"\b(wanneer|in welk jaar|welke datum|when|what year)\b", re.I)),
    ("person", re.compile(r"^\s*(wie|who)\b", re.I)),
    ("place", re.compile(r"^\s*(waar|where|in welke (plaats|stad|gemeente))\b", re.I)),
]
# Plural things a list question asks for: "welke projecten ...", "in welke gemeenten ...".
_LIST_NOUNS = (
    "projecten|plannen|acties|initiatieven|gemeenten|wijken|dorpen|plaatsen|regelingen|"
    "partijen|organisaties|bedrijven|scholen|programma's|programma’s|"
    "maatregelen|projects|plans|initiatives|municipalities|places|organisations|"
    "organizations|companies|schools|measures"
)
_LIST = re.compile(
    rf"\b(welke|which|wat voor)\s+(\w+\s+)?\w*({_LIST_NOUNS})\b"
    r"|^\s*(waar kun je|waar kan (ik|je|men)|where can)\b"
    r"|^\s*(wie zitten|who (are|sits) (in|on))\b",
    re.I,
)
_LIST_NOUN = re.compile(rf"\b({_LIST_NOUNS})\b", re.I)
# What was promised, agreed or aimed at: answered by a goal or commitment sentence.
PROMISE_WORDS = _PROMISE = re.compile(
    r"\b(belo\w*|toegezegd|toezegging\w*|afgesproken|afspra\w*|ambitie\w*|doel\w*|"
    r"stre(ef|eft|ven)|beoog\w*|wil(t|len)?|promise\w*|ambition\w*|goals?|targets?|aims?|"
    r"pledge\w*|agreed|commit\w*)\b",
    re.IGNORECASE,
)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_WORD = re.compile(r"[^\W_][\w'’&-]*", re.UNICODE)


@dataclass(frozen=True)
class QuestionInfo:
    text: str
    lang: Literal["nl", "en"]
    is_list: bool
    answer_type: AnswerType
    years: tuple[str, ...]
    names: tuple[str, ...]  # capitalised words after the first: names of things and places
    list_nouns: tuple[str, ...] = ()  # what a list question enumerates: "projecten", ...
    is_promise: bool = False  # asks what was promised, agreed or aimed at


def analyse(question: str) -> QuestionInfo:
    """Read the question's form; no model, only its words."""
    words = _WORD.findall(question)
    lower = [w.lower() for w in words]
    lang = "en" if sum(w in _EN for w in lower) > sum(w in _NL for w in lower) else "nl"
    answer_type: AnswerType = next((t for t, p in _TYPES if p.search(question)), "any")
    # In English every noun may be a name ("the Work pillar"); only Dutch capitals are reliable.
    names = _names(question) if lang == "nl" else ()
    is_list = bool(_LIST.search(question))
    return QuestionInfo(
        text=question,
        lang=lang,
        is_list=is_list,
        answer_type=answer_type,
        years=tuple(_YEAR.findall(question)),
        names=names,
        list_nouns=tuple(_LIST_NOUN.findall(question)) if is_list else (),
        is_promise=bool(_PROMISE.search(question)),
    )


# Capitalised words in a row, with the small words and signs that join a name:
# "Leerlijn Techniek, Talent & Energie", "Koloniën van Weldadigheid".
_NAME = re.compile(
    r"(?<!^)(?<![.?!]\s)\b[A-Z0-9][\w'’-]*(?:(?:,?\s+(?:&\s+|en\s+|van\s+(?:de\s+)?|voor\s+)?)"
    r"[A-Z0-9][\w'’-]*)*"
)


def _names(question: str) -> tuple[str, ...]:
    """The names in a Dutch question (Dutch capitalises only names inside a sentence)."""
    return tuple(m.group(0) for m in _NAME.finditer(question.strip()) if m.group(0)[:1].isupper())
