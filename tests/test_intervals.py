"""The dev-test gap and its bootstrap interval, on hand-made per-question values."""

import numpy as np
import pytest

from eval.answering import AnswerEvalResult, Judged
from eval.intervals import Gap, gap
from eval.questions import GoldAnswer, Question, split_of
from search_api.models import AskResponse


def test_a_gap_between_the_same_values_is_zero_and_its_interval_holds_zero():
    values = [1.0, 0.0, 0.5, 1.0, 0.25] * 6
    found = gap(values, values)
    assert found.value == 0.0
    assert found.low < 0.0 < found.high


def test_the_interval_is_the_same_at_every_run():
    dev, test = [1, 0, 1, 1, 0, 1, 0, 1], [0, 0, 1, 0, 1]
    assert gap(dev, test) == gap(dev, test)


def test_splits_that_always_differ_have_no_spread():
    assert gap([1.0] * 20, [0.0] * 12) == Gap(1.0, 1.0, 1.0)


def test_more_questions_narrow_the_interval():
    rng = np.random.default_rng(1)
    small = gap(rng.random(15) < 0.8, rng.random(15) < 0.6)
    large = gap(rng.random(1500) < 0.8, rng.random(1500) < 0.6)
    assert large.high - large.low < 0.3 * (small.high - small.low)
    assert large.low > 0.1  # 0.8 against 0.6 on many questions: more than the draw


def test_the_interval_holds_the_gap():
    rng = np.random.default_rng(2)
    found = gap(rng.random(40), rng.random(30))
    assert found.low <= found.value <= found.high


def test_a_split_without_questions_has_no_gap():
    assert gap([], [1.0]) is None
    assert gap([1.0], []) is None


def test_the_text_reads_as_the_report_shows_it():
    assert Gap(0.1163, -0.134, 0.357).text() == "+0.116 (-0.13 to +0.36)"
    assert Gap(-0.19, -0.467, 0.086).text(points=True) == "-19.0 (-46.7 to +8.6) points"


@pytest.mark.parametrize("level", [0.5, 0.9, 0.99])
def test_a_higher_level_widens_the_interval(level):
    rng = np.random.default_rng(3)
    dev, test = rng.random(50), rng.random(40)
    narrower, wider = gap(dev, test, level=level * 0.9), gap(dev, test, level=level)
    assert wider.high - wider.low > narrower.high - narrower.low


def _ids(split: str, n: int) -> list[str]:
    found = (f"q{i:04d}" for i in range(10_000))
    return [q for q in found if split_of(q) == split][:n]


def _judged(qid: str, answerable: bool, answered: bool) -> Judged:
    gold = [GoldAnswer(document="d", quote="q")] if answerable else []
    question = Question(
        id=qid, question="?", category="fact" if answerable else "unanswerable", answers=gold
    )
    response = AskResponse(query="?", abstained=not answered, answer=None, passages=[])
    return Judged(question, response)


def test_answer_figures_are_means_of_their_per_question_values_and_gaps_compare_splits():
    # dev: 4 unanswerable questions, 3 abstained on; test: 4, 1 abstained on.
    dev = [_judged(q, False, answered=i == 0) for i, q in enumerate(_ids("dev", 4))]
    test = [_judged(q, False, answered=i > 0) for i, q in enumerate(_ids("test", 4))]
    result = AnswerEvalResult(dev + test)

    figures = result.split_figures()["unanswerable questions abstained"]
    assert figures == {"dev": "3/4 (75.0%)", "test": "1/4 (25.0%)"}
    between = result.split_gaps()["unanswerable questions abstained"]
    assert between.value == pytest.approx(0.5)
    assert between.low <= 0.5 <= between.high
    assert result.split_gaps()["answerable questions wrongly abstained"] is None
    assert "| dev - test (95% interval) |" in result.markdown()
