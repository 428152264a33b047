"""How well one sentence answers a question: its key words and the type of answer it holds."""

from __future__ import annotations

import re
from dataclasses import dataclass

from beleidszoeker.config import RankingConfig
from indexer.keyword import Word, coverage, query_words, terms
from search_api.question import ENGLISH_FUNCTION_WORDS, QuestionInfo
from search_api.sentences import SentenceTable

_NUMBER_MORPHEMES = (
    "twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|dertien|veertien|vijftien|"
    "zestien|zeventien|achttien|negentien|twintig|dertig|veertig|vijftig|zestig|zeventig|"
    "tachtig|negentig|honderd|duizend|miljoen|miljard|"
    "two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    "hundred|thousand|million|billion"
)
# A number in digits (a year alone is not an amount: "in 2014" does not answer "how many"),
# or a whole word made of number words: "drieënveertig", "tweehonderdvijftig", "honderden";
# "prachtige" holds "acht" but is no number.
_NUMBER = re.compile(
    r"(?<![\w.,])(?!(?:19|20)\d\d(?![\d.,]))\d[\d.,]*"
    rf"|\b(?:een|ën|en)*(?:{_NUMBER_MORPHEMES})(?:{_NUMBER_MORPHEMES}|een|ën|en)*"
    r"(?:tallen|den|en)?\b",
    re.I,
)
_MONEY = re.compile(r"€|\beuro\b|\bmln\b|\bmiljoen\b|\bmiljard\b|\bEUR\b", re.I)
_DATE = re.compile(
    r"\b(?:19|20)\d\d\b|\b(?:januari|februari|maart|april|mei|juni|juli|augustus|september|"
    r"oktober|november|december|voorjaar|najaar|zomer|winter)\b",
    re.I,
)
# A capitalised word inside the sentence ("NS" too): a person, organisation or place.
_NAME = re.compile(r"(?<=[\s(‘“'\"])[A-Z][\w&'’-]*[A-Za-z]")


def holds_answer_type(text: str, question: QuestionInfo) -> bool:
    """Whether the sentence holds what the question asks for (an amount, a date, a name)."""
    return question.answer_type == "any" or bool(answer_spans(text, question))


def answer_spans(text: str, question: QuestionInfo) -> list[tuple[int, int]]:
    """Where in the sentence stands what the question asks for: each new amount, date or
    name (character spans); empty for a question that asks for no particular kind."""
    kind = question.answer_type
    if kind == "any":
        return []
    asked = question.text.lower()
    if kind == "money":
        return [m.span() for m in _MONEY.finditer(text)]
    # The answer must be new: echoing "2014" or "12" or the question's own name answers
    # nothing.
    pattern = {"number": _NUMBER, "date": _DATE}.get(kind, _NAME)
    return [m.span() for m in pattern.finditer(text) if m.group(0).lower() not in asked]


# Two capitalised words in a row, or initials before one: how a person is named
# ("Arjan Hartemink", "K.B. Loohuis", "Jos Kok").
_PERSON = re.compile(
    r"(?<![\w.-])(?:[A-Z]\.){1,3}\s?[A-Z][a-zà-ÿ]+"
    r"|(?<![\w.-])[A-Z][a-zà-ÿ]+(?:\s+(?:van|de|der|den|ter|ten|te|'t)){0,3}"
    r"\s+[A-Z][a-zà-ÿ]+"
)


def new_names(text: str, question: QuestionInfo) -> tuple[int, bool]:
    """(how many capitalised words inside the sentence the question does not use, whether
    they name a person the way a person is named)."""
    asked = question.text.lower()
    names = [m.group(0) for m in _NAME.finditer(text) if m.group(0).lower() not in asked]
    person = any(
        not any(part.lower() in asked for part in m.group(0).split() if part[:1].isupper())
        for m in _PERSON.finditer(text)
    )
    return len(names), person


# A function or role as these documents name it beside a person: "projectleider Sven
# Jurgens", "John van der Laan, oprichter van ...", "kwartiermaker Arjan Hartemink".
_ROLE = re.compile(
    r"\b\w*(?:leider|leidster|voorzitter|directeur|manager|co[öo]rdinator|adviseu?r|"
    r"oprichter|oprichtster|trekker|kwartiermaker|initiatiefnemer|wethouder|burgemeester|"
    r"gedeputeerde|minister|eigena(?:ar|resse)|secretaris|bestuurder|regisseur|consulent|"
    r"woordvoerder|voorman|voorvrouw)s?\b",
    re.I,
)
# How close (in characters) a role must stand to the name to be that person's.
_ROLE_REACH = 30


def person_in_role(text: str, question: QuestionInfo) -> bool:
    """Whether the sentence names a person the question does not, right beside a function
    or role: how "wie leidt ...", "wie trekt ..." are answered in these documents, often in
    a sentence that is mostly about something else."""
    asked = question.text.lower()
    roles = [m.span() for m in _ROLE.finditer(text)]
    if not roles:
        return False
    for m in _PERSON.finditer(text):
        if any(part.lower() in asked for part in m.group(0).split() if part[:1].isupper()):
            continue
        a, b = m.span()
        if any(s - _ROLE_REACH <= b and a - _ROLE_REACH <= e for s, e in roles):
            return True
    return False


@dataclass(frozen=True)
class QuestionTerms:
    """The question's content words, names and years, as the sentence table spells them."""

    words: tuple[Word, ...]
    names: tuple[tuple[str, ...], ...]  # stems of each name in the question
    years: tuple[str, ...]
    # The words a list item must be about: not the things enumerated ("projecten").
    topic: tuple[Word, ...] = ()
    # The most specific topic words the corpus uses ("waterstof"): a list item names one.
    anchors: tuple[str, ...] = ()
    # What the question says about its names: "burgemeester" in "wie is de burgemeester
    # van Borger-Odoorn?". An answer must be about that, not only about Borger-Odoorn.
    predicate: tuple[Word, ...] = ()
    # Per name, its rarest word the documents use (None: they use none of its words):
    # "midden" of "Midden-Drenthe", since "drenthe" stands everywhere.
    name_keys: tuple[str | None, ...] = ()
    # What the question is specifically about: its rarest words the documents use (about
    # equally rare) and the rarest word of each name. "wolf" in "wat is het beleid voor de
    # wolf in Drenthe?", "burgemeester" and "odoorn" in "wie is de burgemeester van
    # Borger-Odoorn?". A sentence that answers stands where these are named.
    subject: tuple[str, ...] = ()

    @classmethod
    def of(
        cls, question: QuestionInfo, table: SentenceTable, ranking: RankingConfig | None = None
    ) -> QuestionTerms:
        ranking = ranking or RankingConfig()

        def keep(word: str) -> bool:
            # "the" stands in English titles in the corpus: no evidence. Nor is an English
            # word the Dutch documents never use, either way.
            if question.lang != "en":
                return True
            if word in ENGLISH_FUNCTION_WORDS:
                return False
            found = terms(word, table.decompounder)
            return any(table.in_corpus(t) for t in found)

        found = tuple(
            query_words(
                question.text,
                table.decompounder,
                lambda t: min(table.idf(t), ranking.max_word_weight),
                table.in_corpus,
                keep,
            )
        )
        names = tuple(t for t in (tuple(terms(n, table.decompounder)) for n in question.names) if t)
        enumerated = set(terms(" ".join(question.list_nouns), table.decompounder))
        topic = tuple(w for w in found if w[0] not in enumerated)
        named = {t for name in names for t in name}
        predicate = tuple(w for w in found if w[0] not in named)
        anchors = _anchors(topic, table, ranking.anchor_share)
        keys = tuple(_rarest_known(name, table) for name in names)
        rarest = _anchors(predicate or found, table, ranking.anchor_share)
        subject = tuple(sorted({*rarest, *(k for k in keys if k is not None)}))
        return cls(found, names, question.years, topic, anchors, predicate, keys, subject)

    def coverage(self, found: frozenset[str]) -> float:
        """Weighted share of the question's words in ``found`` (a compound's parts count)."""
        return _coverage(self.words, found)

    @property
    def asked(self) -> frozenset[str]:
        """Every term ``coverage`` looks for: the words' stems and their compounds' parts.
        ``coverage(found)`` equals ``coverage(found & asked)``."""
        return frozenset(t for stem, parts, _ in self.words for t in (stem, *parts))

    def topic_coverage(self, found: frozenset[str]) -> float | None:
        """Weighted share of the topic words in ``found``; None when there are none."""
        return _coverage(self.topic, found) if self.topic else None

    def predicate_coverage(self, found: frozenset[str]) -> float | None:
        """Weighted share of the words besides the names in ``found``; None without any."""
        return _coverage(self.predicate, found) if self.predicate else None

    def names_covered(self, found: frozenset[str]) -> float:
        """Share of the question's names whose rarest word stands in ``found``: the
        municipality Midden-Drenthe is not named by a sentence about Drenthe."""
        if not self.names:
            return 1.0
        return sum(key is not None and key in found for key in self.name_keys) / len(self.names)

    def subject_covered(self, found: frozenset[str]) -> float:
        """Share of the question's subject words (``subject``) in ``found``. Without any,
        the documents use none of the question's words ("erwtensoep"): nothing of what it
        asks about stands anywhere, so 0, never "all of it"."""
        if not self.subject:
            return 0.0
        return sum(t in found for t in self.subject) / len(self.subject)

    def years_covered(self, found: frozenset[str]) -> bool:
        return all(y in found for y in self.years)


def _anchors(topic: tuple[Word, ...], table: SentenceTable, share: float) -> tuple[str, ...]:
    """The rarest topic words (or compound parts) the corpus uses, about equally rare."""
    known = {t for stem, parts, _ in topic for t in (stem, *parts) if table.in_corpus(t)}
    if not known:
        return ()
    rarest = max(table.idf(t) for t in known)
    return tuple(sorted(t for t in known if table.idf(t) >= share * rarest))


def _rarest_known(name: tuple[str, ...], table: SentenceTable) -> str | None:
    known = [t for t in name if table.in_corpus(t)]
    return max(known, key=lambda t: (table.idf(t), t)) if known else None


def _coverage(words: tuple[Word, ...], found: frozenset[str]) -> float:
    return coverage(words, found.__contains__)
