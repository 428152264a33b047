"""Which question features tell the abstainer answerable from unanswerable questions, on dev.

Every variant is judged as ``beleidszoeker train`` judges the abstainer: over the sentence
model's out-of-fold probabilities, cross-validated over the `dev` questions (never `test`),
the regularisation chosen by AUC, the threshold the highest that abstains on at most the
budgeted share of the answerable dev questions. What each row adds to the question features
before this change (``BEFORE``): the passage rank of the best sentence (shipped), the kind of
answer asked for, and whether dense and keyword search agree on the best sentence's passage.

    .venv/bin/python -m benchmarks.abstainer_variants   # writes results/abstainer_variants.md
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import eval.train as train
from beleidszoeker.config import get_settings
from eval.questions import in_split, load_questions
from eval.scoring import DEFAULT_QUESTIONS
from eval.train import (
    FOLDS,
    SEED,
    SIMILARITY,
    TrainingData,
    _threshold,
    abstainer_candidates,
    candidates,
    collect,
    out_of_fold,
)
from search_api.engine import get_searcher
from search_api.features import FEATURES
from search_api.scorer import QUESTION_FEATURES, get_scorer

RESULTS = Path(__file__).parent / "results" / "abstainer_variants.md"
RANKS = ("reciprocal_rank", "shown_reciprocal_rank")
BEFORE = tuple(f for f in QUESTION_FEATURES if f not in RANKS)
BUDGETS = (0.03, 0.02)
_EPSILON = 1e-4
# Per question, where dense and keyword search alone put the passages (row ids, best first).
Lists = list[tuple[list[int], list[int]]]


def _agreement(kind: str) -> Callable[[int, int, Lists], list[float]]:
    def extra(i: int, row: int, lists: Lists) -> list[float]:
        dense, keyword = lists[i]
        if kind == "agree":
            return [float(bool(dense) and bool(keyword) and dense[0] == keyword[0])]
        return [1.0 / (r.index(row) + 1) if row in r else 0.0 for r in (dense, keyword)]

    return extra


VARIANTS: dict[str, tuple[tuple[str, ...], Callable[[int, int, Lists], list[float]] | None]] = {
    "before": (BEFORE, None),
    "+ passage rank, fused and shown (shipped)": (QUESTION_FEATURES, None),
    "+ shown passage rank only": (BEFORE + ("shown_reciprocal_rank",), None),
    "+ fused passage rank only": (BEFORE + ("reciprocal_rank",), None),
    "+ answer type asked and held": (BEFORE + ("typed", "type_match"), None),
    "+ dense and keyword rank of its passage": (BEFORE, _agreement("ranks")),
    "+ dense and keyword agree on the top passage": (BEFORE, _agreement("agree")),
}


def question_rows(
    p: np.ndarray,
    data: TrainingData,
    rows_of: list[list[int]],
    lists: Lists,
    features: tuple[str, ...],
    extra: Callable[[int, int, Lists], list[float]] | None,
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """As ``scorer.question_row`` builds them, over ``features`` and any ``extra``."""
    columns = [FEATURES.index(f) for f in features[3:]]
    out, answerable, which = [], [], []
    for i, q in enumerate(data.questions):
        mine = np.flatnonzero(data.groups == i)
        if len(mine) == 0:
            continue
        top = int(np.argmax(p[mine]))
        ranked = np.sort(p[mine])[::-1]
        second = ranked[1] if len(ranked) > 1 else 0.0
        best = np.log(ranked[0] + _EPSILON)
        row = [best, best - np.log(second + _EPSILON), np.log(len(mine))]
        row += data.rows[mine[top], columns].tolist()
        if extra is not None:
            row += extra(i, rows_of[i][top], lists)
        out.append(row)
        answerable.append(q.answerable)
        which.append(i)
    return np.asarray(out), np.asarray(answerable, dtype=np.int64), which


def judge(
    p: np.ndarray, data: TrainingData, rows: np.ndarray, answerable: np.ndarray, which: list[int]
) -> tuple[float, str, dict[float, tuple[float, dict[str, int]]]]:
    """(AUC, chosen model, per budget: (threshold, fit)) out of fold on dev."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    scored = {}
    for name, make in abstainer_candidates().items():
        a = cross_val_predict(make(), rows, answerable, cv=folds, method="predict_proba")[:, 1]
        scored[name] = (float(roc_auc_score(answerable, a)), a)
    chosen = max(scored, key=lambda n: scored[n][0])
    combined = np.zeros(len(p))
    for i, a in zip(which, scored[chosen][1], strict=True):
        mine = np.flatnonzero(data.groups == i)
        top = p[mine].max()
        combined[mine] = a * p[mine] / top if top > 0 else 0.0
    fits = {}
    kept = train.MAX_WRONGLY_ABSTAINED
    try:
        for budget in BUDGETS:
            train.MAX_WRONGLY_ABSTAINED = budget
            fits[budget] = _threshold(combined, data)
    finally:
        train.MAX_WRONGLY_ABSTAINED = kept
    return scored[chosen][0], chosen, fits


def main() -> None:
    t0 = time.perf_counter()
    settings = get_settings()
    searcher = get_searcher(settings)
    dev = in_split(load_questions(DEFAULT_QUESTIONS), "dev")
    data = collect(searcher, dev)
    from search_api.answer import read_question

    rows_of, lists = [], []
    for q in data.questions:
        reading = read_question(searcher, q.question)
        rows_of.append(reading.table.rows(reading.owners) if reading.owners else [])
        dense = [r for r, _ in searcher._dense(q.question, 10, None)]
        keyword = [r for r, _ in searcher._keyword(q.question, 10, None)]
        lists.append((dense, keyword))
    model = get_scorer().record["model"]
    p = out_of_fold(candidates()[model], data.rows, data.labels, data.groups)
    floor = float(data.rows[data.labels > 0, SIMILARITY].min())
    p = np.where(data.rows[:, SIMILARITY] >= floor, p, 0.0)
    lines = [
        "# Abstainer features, out of fold on dev",
        "",
        f"{len(data.questions)} `dev` questions, sentence model `{model}`; made by "
        "`.venv/bin/python -m benchmarks.abstainer_variants` in "
        f"{time.perf_counter() - t0:.0f} s. Per budget of answerable dev questions abstained "
        "on: how many were (wrongly), and how many unanswerable ones were abstained on.",
        "",
        "| question features | AUC | abstainer | "
        + " | ".join(f"{b:.0%}: wrongly / unanswerable abstained" for b in BUDGETS)
        + " |",
        "|---|---:|---|" + "---:|" * len(BUDGETS),
    ]
    for name, (features, extra) in VARIANTS.items():
        q_rows, answerable, which = question_rows(p, data, rows_of, lists, features, extra)
        auc, chosen, fits = judge(p, data, q_rows, answerable, which)
        cells = []
        for budget in BUDGETS:
            _, fit = fits[budget]
            una = fit["unanswerable"]
            cells.append(
                f"{fit['wrongly_abstained']}/{fit['answerable']} / "
                f"{una - fit['unanswerable_answered']}/{una}"
            )
        lines.append(f"| {name} | {auc:.3f} | {chosen} | " + " | ".join(cells) + " |")
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
