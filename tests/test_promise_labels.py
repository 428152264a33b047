"""The labelled promises in eval/promises.yaml: every sentence stands in its document.

A sentence is checked against the document's text after the project's own cleaning (lines
joined, hyphenation undone, whitespace collapsed) and the eval's own normalisation, and it
must stand there whole: a label on half a sentence would score the register for the wrong
reason. The fields of a promise are checked against its own sentence, so a target year,
actor or amount the sentence does not state cannot slip in.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from beleidszoeker.errors import BeleidszoekerError
from eval.matching import contains_quote, normalize
from eval.promises import LabelledSentence, load_promises
from indexer import corpus
from indexer.cleaning import clean
from indexer.loaders import load

ROOT = Path(__file__).resolve().parent.parent
LABELS = load_promises(ROOT / "eval" / "promises.yaml")
DOCUMENTS = {f.doc_id: f.path for f in corpus.discover(ROOT / "corpus")}

# Enough of each label in the held-apart split to report precision and recall on, and in
# the dev split to train or tune on.
MINIMUM_PER_LABEL = 70
MINIMUM_TEST_PER_LABEL = 60
MINIMUM_WITH_TARGET_YEAR = 10
MINIMUM_TEST_WITH_TARGET_YEAR = 5
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")


@cache
def cleaned(doc_id: str) -> str:
    return normalize(clean(load(DOCUMENTS[doc_id]).text).text)


def _promises() -> list[LabelledSentence]:
    return [s for s in LABELS if s.promise]


@pytest.mark.parametrize("label", LABELS, ids=lambda s: s.id)
def test_every_sentence_stands_verbatim_in_its_cleaned_document(label):
    assert label.document in DOCUMENTS, f"{label.id}: unknown document {label.document}"
    text = cleaned(label.document)
    assert normalize(label.sentence) in text, f"{label.id}: sentence not in {label.document}"
    # The scorer's own matching finds it too, so a register hit on it can be judged.
    assert contains_quote(text, label.sentence)


@pytest.mark.parametrize("label", _promises(), ids=lambda s: s.id)
def test_actor_and_amount_are_the_sentences_own_words(label):
    for name in ("actor", "amount"):
        value = getattr(label, name)
        if value is not None:
            assert normalize(value) in normalize(label.sentence), f"{label.id}: {name} {value!r}"


@pytest.mark.parametrize("label", _promises(), ids=lambda s: s.id)
def test_target_year_is_one_the_sentence_names(label):
    named = {int(y) for y in _YEAR.findall(label.sentence)}
    for year in label.years:
        assert year in named, f"{label.id}: target year {year} not named in the sentence"


def test_ids_run_without_gaps_in_file_order():
    assert [s.id for s in LABELS] == [f"p{i:03d}" for i in range(1, len(LABELS) + 1)]


def test_no_sentence_is_labelled_twice():
    seen = Counter((s.document, normalize(s.sentence)) for s in LABELS)
    assert [key for key, n in seen.items() if n > 1] == []


def test_the_set_is_large_enough_for_the_figures_it_reports():
    by = Counter((s.split, s.promise) for s in LABELS)
    assert by["dev", True] + by["test", True] >= MINIMUM_PER_LABEL
    assert by["dev", False] + by["test", False] >= MINIMUM_PER_LABEL
    assert by["test", True] >= MINIMUM_TEST_PER_LABEL
    assert by["test", False] >= MINIMUM_TEST_PER_LABEL
    assert sum(1 for s in _promises() if s.years) >= MINIMUM_WITH_TARGET_YEAR
    assert sum(1 for s in _promises() if s.years and s.split == "test") >= (
        MINIMUM_TEST_WITH_TARGET_YEAR
    )


def test_every_document_contributes_both_labels():
    for doc_id in DOCUMENTS:
        labels = {s.promise for s in LABELS if s.document == doc_id}
        assert labels == {True, False}, doc_id


def test_a_non_promise_carries_no_promise_fields():
    for s in LABELS:
        if not s.promise:
            assert (s.target_year, s.actor, s.amount) == (None, None, None), s.id


def test_the_loader_refuses_fields_that_do_not_fit_the_label(tmp_path):
    bad = tmp_path / "promises.yaml"
    bad.write_text(
        "- {id: p001, document: d, sentence: Het regent., promise: false, split: dev,"
        " target_year: 2019}\n",
        encoding="utf-8",
    )
    with pytest.raises(BeleidszoekerError, match="only promises carry"):
        load_promises(bad)
    bad.write_text(
        "- {id: p001, document: d, sentence: Wij gaan., promise: true, split: test,"
        " target_year: 2019-2016}\n",
        encoding="utf-8",
    )
    with pytest.raises(BeleidszoekerError, match="period"):
        load_promises(bad)
