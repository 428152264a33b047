"""Evidence about a question and a sentence, on hand-built cases: words the documents never
use, names by their rarest word, a person named, an answer standing by the question's words."""

from __future__ import annotations

import pytest

from indexer.keyword import terms
from search_api.evidence import QuestionTerms, new_names, person_in_role
from search_api.features import answer_nearness
from search_api.question import analyse
from search_api.rarity import specificity, unknown_names, unknown_specificity, unknown_words
from search_api.sentences import sentence_table


@pytest.fixture(scope="module")
def table(fixture_index):
    return sentence_table(fixture_index.index)


def test_ordinary_words_the_small_corpus_lacks_are_not_unknown(table):
    # "gebeurt", "rekeningen", "betaalt" stand nowhere in the fixture corpus, but they are
    # ordinary Dutch: a paraphrase uses them, and they say nothing about the documents.
    question = analyse("wat gebeurt er als iemand zijn rekeningen niet betaalt?")

    assert {"gebeurt", "rekeningen", "betaalt"} <= set(unknown_words(question, table))
    assert unknown_specificity(question, table) < 0.3
    rare = analyse("wat gebeurt er als Vion zijn rekeningen niet betaalt?")
    assert unknown_specificity(rare, table) > unknown_specificity(question, table) + 0.2


def test_a_rare_word_or_name_the_documents_never_use_is_unknown(table):
    question = analyse("hoeveel heeft het Globaliseringsfonds bijgedragen aan Vion?")

    assert "vion" in unknown_words(question, table)
    assert unknown_specificity(question, table) > 0.4
    assert unknown_names(question, table) == 1.0


def test_words_the_documents_use_whole_or_in_parts_are_known(table):
    # "waterstofketels" is a compound of words the corpus uses; "Hoogeveen" stands in it.
    question = analyse("hoeveel waterstofketels komen er in Hoogeveen?")

    assert unknown_words(question, table) == []
    assert unknown_specificity(question, table) == 0.0
    assert unknown_names(question, table) == 0.0


def test_specificity_is_near_zero_for_common_and_one_for_unseen_words():
    assert specificity("de", "nl") == 0.0
    assert specificity("burgemeester", "nl") < 0.05
    assert specificity("xqzvwolkrent", "nl") == 1.0
    assert 0.0 < specificity("weidevogels", "nl") < 1.0


def test_a_name_is_covered_by_its_rarest_word_not_a_common_one(table):
    # The fixture corpus uses "Hoogeveen" and "Bergstraat"; a sentence holding only the
    # common word of a two-word name does not name it.
    question = analyse("wat gebeurt er op bedrijventerrein Bergstraat Hoogeveen?")
    terms = QuestionTerms.of(question, table)

    assert terms.names and all(key is not None for key in terms.name_keys)
    rarest = terms.name_keys[0]
    assert terms.names_covered(frozenset({rarest})) == 1.0
    others = frozenset(t for t in terms.names[0] if t != rarest)
    assert terms.names_covered(others) == 0.0


def test_a_name_the_documents_never_use_is_never_covered(table):
    terms = QuestionTerms.of(analyse("wie is de burgemeester van Borger-Odoorn?"), table)

    assert terms.name_keys == (None,)
    assert terms.names_covered(frozenset({"borger", "odoorn"})) == 0.0


@pytest.mark.parametrize(
    ("question", "sentence", "count", "person"),
    [
        (
            "wie heeft de Bedrijfsvakschool Techniek Drenthe opgericht?",
            "John van der Laan, oprichter van de Bedrijfsvakschool Techniek Drenthe, vertelt.",
            1,
            True,
        ),
        (
            "wie heeft de Bedrijfsvakschool Techniek Drenthe opgericht?",
            "Wij richtten de Stichting Bedrijfsvakschool Techniek Drenthe op.",
            1,
            False,
        ),
        ("welke burgemeester tekende?", "K.B. Loohuis, burgemeester van Hoogeveen", 2, True),
        ("wie leidt het project?", "Het project loopt goed.", 0, False),
    ],
)
def test_new_names_and_persons(question, sentence, count, person):
    assert new_names(sentence, analyse(question)) == (count, person)


def test_an_answer_next_to_the_question_words_is_nearer_than_one_far_off():
    question = analyse("hoeveel gemeenten doen mee?")
    asked = set(terms("gemeenten"))

    near = answer_nearness("Zes gemeenten doen mee aan het project.", question, asked, None)
    far = answer_nearness(
        "De gemeenten werken al jaren samen aan een plan met 12 projecten.", question, asked, None
    )
    none = answer_nearness("De gemeenten doen mee.", question, asked, None)

    assert near == 1.0
    assert 0.0 < far < near
    assert none == 0.0


def test_the_subject_is_the_rarest_words_and_each_names_rarest_word(table):
    # "gezinscoaches" stands once in the fixture corpus, "armoede" in one passage: they say
    # what the question is about; "gezinnen" is what many passages name.
    question = analyse("wat doen de gezinscoaches in Hoogeveen tegen armoede?")
    terms = QuestionTerms.of(question, table)
    rarest = max((t for t, _, _ in terms.predicate if table.in_corpus(t)), key=table.idf)

    assert rarest in terms.subject
    assert terms.name_keys[0] in terms.subject
    assert terms.subject_covered(frozenset(terms.subject)) == 1.0
    assert terms.subject_covered(frozenset({rarest})) == pytest.approx(1 / len(terms.subject))
    assert terms.subject_covered(frozenset()) == 0.0


def test_a_question_whose_words_the_documents_never_use_covers_no_subject(table):
    # Nothing it asks about stands anywhere: that must read as "none of it", not "all".
    terms = QuestionTerms.of(analyse("wat is het recept voor xqzvwolkrent?"), table)

    assert terms.subject == ()
    assert terms.subject_covered(frozenset({"recept", "xqzvwolkrent"})) == 0.0


@pytest.mark.parametrize(
    ("sentence", "in_role"),
    [
        ("zegt projectleider Sven Jurgens.", True),
        ("John van der Laan, oprichter van de Bedrijfsvakschool, laat het met trots weten.", True),
        ("Christa Slim is projectleider vanuit de gemeente Coevorden.", True),
        # A person without a role beside them, a role without a person, a role far off.
        ("Het bezoek van Jos Kok aan Emmen duurde de hele dag en iedereen was blij.", False),
        ("De projectleider van de gemeente Emmen komt langs.", False),
        ("Jos Kok bezocht alle scholen en bedrijven in de regio, samen met de wethouder.", False),
        # The person the question itself names is no answer.
        ("Gerard Krikken is projectleider.", False),
    ],
)
def test_a_person_beside_a_role_word(sentence, in_role):
    question = analyse("wie helpt Gerard Krikken met het haalbaarheidsonderzoek?")

    assert person_in_role(sentence, question) is in_role


def test_no_candidate_is_the_best_by_words_when_none_holds_any(fixture_index):
    from search_api.answer import read_question
    from search_api.features import FEATURES, GAP_LIMIT

    words, gap = FEATURES.index("words_window"), FEATURES.index("words_gap")
    # "erwtensoep" stands nowhere in the fixture corpus, nor does "recept": every candidate is
    # equally far from the question's words, none "the best of them" (which looked like an
    # answer to the scorer).
    none = read_question(fixture_index, "wat is het recept voor erwtensoep?").features
    some = read_question(fixture_index, "wanneer trekken de eerste bewoners in de waterstofwijk?")

    assert len(none) and (none[:, words] == 0).all()
    assert (none[:, gap] == -GAP_LIMIT).all()
    assert some.features[:, words].max() > 0 and some.features[:, gap].max() == 0.0
