"""The labelled questions in eval/questions.yaml: every gold quote stands in its document.

A quote is checked against the document's text after the project's own cleaning (lines
joined, hyphenation undone, whitespace collapsed) and the eval's own normalisation, and it
must stand there whole: a quote that only partly matches would let the scorer count a
passage for the wrong reason.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from eval.matching import normalize
from eval.questions import load_questions
from indexer import corpus
from indexer.cleaning import clean
from indexer.loaders import load

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = load_questions(ROOT / "eval" / "questions.yaml")
DOCUMENTS = {f.doc_id: f.path for f in corpus.discover(ROOT / "corpus")}

# What the labelled set must cover so every kind of question a user asks is measured.
MINIMUM_PER_CATEGORY = {
    "fact": 40,
    "number": 30,
    "list": 30,
    "promise": 30,
    "paraphrase": 25,
    "multi_doc": 20,
    "unanswerable": 40,
}
# English questions ask for facts and lists; they are counted there.
MINIMUM_ENGLISH_FACTS_AND_LISTS = 25
MINIMUM_TOTAL = 250


@cache
def cleaned(doc_id: str) -> str:
    return normalize(clean(load(DOCUMENTS[doc_id]).text).text)


def _gold() -> list[tuple[str, str, str]]:
    return [(q.id, a.document, a.quote) for q in QUESTIONS for a in q.answers]


@pytest.mark.parametrize(("qid", "document", "quote"), _gold(), ids=lambda v: str(v)[:40])
def test_every_gold_quote_stands_verbatim_in_its_cleaned_document(qid, document, quote):
    assert document in DOCUMENTS, f"{qid}: unknown document {document}"
    assert normalize(quote) in cleaned(document), f"{qid}: quote not found in {document}"


def test_ids_run_without_gaps_in_file_order():
    assert [q.id for q in QUESTIONS] == [f"q{i:03d}" for i in range(1, len(QUESTIONS) + 1)]


def test_no_question_is_asked_twice():
    asked = Counter(normalize(q.question) for q in QUESTIONS)
    assert [q for q, n in asked.items() if n > 1] == []


def test_a_question_lists_each_gold_quote_once():
    for q in QUESTIONS:
        quotes = [(a.document, normalize(a.quote)) for a in q.answers]
        assert len(quotes) == len(set(quotes)), q.id


def test_multi_document_questions_have_gold_in_at_least_two_documents():
    for q in QUESTIONS:
        if q.category == "multi_doc":
            assert len({a.document for a in q.answers}) >= 2, q.id


def test_english_questions_are_written_in_english():
    # A cheap guard against a Dutch question labelled en (or the reverse).
    dutch = re.compile(r"\b(wat|wie|welke|hoeveel|wanneer|waar|hoe|de|het|een|van)\b", re.I)
    for q in QUESTIONS:
        if q.lang == "en":
            assert not dutch.search(q.question), q.id


def test_the_set_covers_every_kind_of_question():
    counts = Counter(q.category for q in QUESTIONS)
    short = {c: (counts[c], n) for c, n in MINIMUM_PER_CATEGORY.items() if counts[c] < n}
    assert short == {}, f"categories below their minimum (have, need): {short}"
    english = [q for q in QUESTIONS if q.lang == "en" and q.category in ("fact", "list")]
    assert len(english) >= MINIMUM_ENGLISH_FACTS_AND_LISTS
    assert len(QUESTIONS) >= MINIMUM_TOTAL
