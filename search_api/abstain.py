"""When a sentence may answer, and when the documents do not answer at all.

Without a language model, honesty comes from checks a reader can follow:

* the sentence must hold the kind of answer asked for: an amount for "hoeveel", money for
  "wat kost", a date for "wanneer", a name for "wie"/"waar" that the question does not
  already contain;
* a year the question names must stand in the sentence or right beside it, and most of the
  names it mentions ("Borger-Odoorn", "Nedersaksenlijn") in the same section;
* for a "wie" question, the role it asks about ("burgemeester") must stand around the name;
* its relevance (passage similarity plus key-word coverage) must clear a threshold.

The thresholds were calibrated on ``eval/questions.yaml`` (`beleidszoeker eval` reports the
result): every unanswerable question abstains and almost every answerable one does not.
"""

from __future__ import annotations

from functools import lru_cache

from search_api.evidence import QuestionTerms, holds_answer_type
from search_api.question import QuestionInfo

# A typed question ("hoeveel", "wanneer", "wie") has an exact answer or none: the best
# sentence of the right type must be clearly on topic.
MIN_TYPED = 0.8
# An amount in euros is rare (about 1 sentence in 80 in the shipped corpus, against 1 in 8
# for any number and 1 in 2 for a name): an on-topic sentence that holds one is good evidence
# already, so "hoeveel kost" needs less relevance.
RARE_TYPES = ("money",)
MIN_RARE_TYPED = 0.5
# An open question ("hoe", "wat") is answered when a passage is on topic at all; off-topic
# questions mostly score below this. On the eval set no unanswerable open question reaches
# the checks before this one, and the lowest answerable one scores 0.396.
MIN_OPEN = 0.35
# Share of a list question's topic words that must stand around an item's sentence.
MIN_TOPIC = 0.3
# For "wie is de burgemeester van X": share of the words besides the names ("burgemeester")
# that must stand around a sentence that names someone.
MIN_PREDICATE = 0.3
# Shorter lines are headings or labels, not answers.
MIN_WORDS = 5
# Share of the question's names that must stand near the sentence.
MIN_NAMES = 0.5


def may_answer(
    text: str,
    window: frozenset[str],
    section: frozenset[str],
    question: QuestionInfo,
    qterms: QuestionTerms,
) -> bool:
    """Whether a sentence is the kind of thing that could answer the question.

    ``window`` holds the key words of the sentence, its neighbours and its section title;
    ``section`` those of every passage of its section (an article, a chapter).
    """
    if not (
        _is_prose(text)
        and qterms.years_covered(window)
        and qterms.names_covered(section) >= MIN_NAMES
        and holds_answer_type(text, question)
    ):
        return False
    if question.answer_type != "person" or question.lang != "nl" or question.is_list:
        return True
    # "Wie is de burgemeester van X?": a name beside X is no answer unless the role is there.
    said = qterms.predicate_coverage(window)
    return said is None or said >= MIN_PREDICATE


def on_topic(window: frozenset[str], qterms: QuestionTerms) -> bool:
    """Whether a list item is about what the list asks for, not only near it.

    Around the item's sentence must stand a fair share of the topic words, and one of the
    most specific ones ("energiecoaches", not only "coaches").
    """
    share = qterms.topic_coverage(window)
    if share is None:  # nothing to check against (an English question, say)
        return True
    return share >= MIN_TOPIC and (not qterms.anchors or not window.isdisjoint(qterms.anchors))


def confident(score: float, question: QuestionInfo) -> bool:
    """Whether the best sentence is relevant enough to answer with."""
    if question.answer_type in RARE_TYPES:
        return score >= MIN_RARE_TYPED
    return score >= (MIN_OPEN if question.answer_type == "any" else MIN_TYPED)


@lru_cache(maxsize=16384)
def _is_prose(text: str) -> bool:
    """A sentence, not a heading, a label or a list of names."""
    if text.rstrip().endswith(":") or len(text.split()) < MIN_WORDS:
        return False
    letters = [c for c in text if c.isalpha()]
    return sum(c.islower() for c in letters) > 0.5 * len(letters)
