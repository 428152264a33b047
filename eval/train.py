"""Train the sentence scorer on the dev questions: cross-validated, threshold chosen on dev.

Each candidate sentence of a dev question is a row (``features.FEATURES``); it is positive
when it holds (or is a large part of) a gold quote of the right document. Two model kinds
are cross-validated with the questions as groups (a question's sentences never sit on both
sides); the better one is fitted on every dev row, and the abstain threshold is read off its
out-of-fold probabilities, as is the similarity floor: the least similar answering sentence
of any dev question. An abstainer, a second model over one row per question (its best
sentence's out-of-fold probability and evidence, and the question's words the documents never
use), is cross-validated over the dev questions too and kept when it tells answerable from
unanswerable questions better than the best sentence's probability alone. Only `dev` is read:
``dev_only`` refuses anything else.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from eval.matching import normalize
from eval.questions import Question, dev_only
from search_api.answer import read_question
from search_api.features import FEATURES
from search_api.retrieval import Searcher
from search_api.scorer import (
    MODEL_DIR,
    QUESTION_FEATURES,
    SentenceScorer,
    forget_loaded,
    question_row,
)

FOLDS = 5
SEED = 0
SIMILARITY = FEATURES.index("similarity")
# Beleidszoeker promises its users to abstain on at most 3% of the answerable questions.
# The abstain threshold is the highest that abstains on at most this share of them on dev,
# out of fold: 2%, so questions it never saw (where the share has come out up to 1.2
# points higher than on dev) still keep to the promise.
MAX_WRONGLY_ABSTAINED = 0.02


@dataclass
class TrainingData:
    rows: np.ndarray
    labels: np.ndarray
    groups: np.ndarray  # the question each row belongs to (its position in ``questions``)
    questions: list[Question]


@dataclass
class TrainResult:
    scorer: SentenceScorer
    seconds: float

    def lines(self) -> list[str]:
        r = self.scorer.record
        out = [
            f"Trained on {r['n_questions']} dev questions ({r['n_rows']} sentences, "
            f"{r['n_positive']} answering) in {self.seconds:.1f} s.",
        ]
        for name, cv in r["cross_validation"].items():
            chosen = " (chosen)" if name == r["model"] else ""
            out.append(
                f"  {name}{chosen}: best sentence holds gold {cv['top1']:.1%} of answerable, "
                f"abstention AUC {cv['abstain_auc']:.3f}, average precision {cv['ap']:.3f}"
            )
        if r.get("abstainer"):
            out.append(
                f"  abstainer {r['abstainer']}: abstention AUC "
                f"{r['with_abstainer']['abstain_auc']:.3f} out of fold"
            )
        out.append(
            f"  threshold {r['threshold']:.3f}: out of fold on dev, "
            f"{r['threshold_fit']['wrongly_abstained']} answerable abstained, "
            f"{r['threshold_fit']['unanswerable_answered']} unanswerable answered"
        )
        return out


def gold_labels(question: Question, texts: list[str], documents: list[str]) -> np.ndarray:
    """1 for a sentence that holds a gold quote of the right document (or most of one)."""
    quotes = [(a.document, normalize(a.quote)) for a in question.answers]
    labels = np.zeros(len(texts), dtype=np.int64)
    for i, (text, doc) in enumerate(zip(texts, documents, strict=True)):
        s = normalize(text)
        labels[i] = any(
            d == doc and (q in s or (len(s) >= 0.4 * len(q) and s in q)) for d, q in quotes
        )
    return labels


def collect(
    searcher: Searcher,
    questions: list[Question],
    progress: Callable[[int, int], None] | None = None,
) -> TrainingData:
    """Every candidate sentence of every (dev) question, with its label."""
    questions = dev_only(questions)
    rows, labels, groups = [], [], []
    for i, q in enumerate(questions):
        reading = read_question(searcher, q.question)
        texts = [reading.table.sentences[s].text for s in reading.sentence_ids]
        docs = [h.chunk.document_id for h in reading.owners]
        rows.append(reading.features)
        labels.append(gold_labels(q, texts, docs))
        groups.append(np.full(len(texts), i))
        if progress:
            progress(i + 1, len(questions))
    return TrainingData(
        np.concatenate(rows) if rows else np.zeros((0, len(FEATURES))),
        np.concatenate(labels) if labels else np.zeros(0, np.int64),
        np.concatenate(groups) if groups else np.zeros(0, np.int64),
        questions,
    )


def candidates(
    strengths: tuple[float, ...] = (0.03, 0.1, 0.3), trees: bool = True
) -> dict[str, Callable[[], Any]]:
    """The models cross-validated: logistic regression at these strengths of
    regularisation, and gradient-boosted trees unless ``trees`` is False."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def logistic(c: float) -> Callable[[], Any]:
        return lambda: make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=3000))

    made: dict[str, Callable[[], Any]] = {
        f"logistic_regression_c{c:g}": logistic(c) for c in strengths
    }
    if trees:
        made["gradient_boosting"] = lambda: HistGradientBoostingClassifier(
            max_depth=3,
            learning_rate=0.05,
            max_iter=200,
            min_samples_leaf=20,
            l2_regularization=1.0,
            random_state=SEED,
        )
    return made


def train_scorer(
    searcher: Searcher,
    questions: list[Question],
    questions_text: str,
    out_dir: Path = MODEL_DIR,
    progress: Callable[[int, int], None] | None = None,
) -> TrainResult:
    """Fit, choose and save the scorer; ``questions`` must all be `dev` questions."""
    t0 = time.perf_counter()
    data = collect(searcher, questions, progress)
    if data.labels.sum() < 2 or len(set(data.groups.tolist())) < FOLDS:
        raise ValueError("too few dev questions with an answering sentence to train on")
    cv: dict[str, dict[str, float]] = {}
    oof: dict[str, np.ndarray] = {}
    floor = similarity_floor(data)
    for name, make in candidates().items():
        oof[name] = floored(out_of_fold(make, data.rows, data.labels, data.groups), data, floor)
        cv[name] = _judge(oof[name], data)
    best = max(cv, key=lambda n: (cv[n]["top1"] + cv[n]["abstain_auc"], cv[n]["ap"]))
    sentence_threshold, _ = _threshold(oof[best], data)
    item_threshold = _item_threshold(oof[best], data)
    abstainer, abstainer_cv, combined = _abstainer(oof[best], data)
    # Kept only when it separates answerable from unanswerable dev questions better.
    if abstainer is not None and _judge(combined, data)["abstain_auc"] <= cv[best]["abstain_auc"]:
        abstainer, combined = None, oof[best]
    threshold, fit = _threshold(combined, data)
    pipeline = candidates()[best]().fit(data.rows, data.labels)
    record = training_record(
        data.questions, data.labels, questions_text, FEATURES, searcher,
        model=best,
        cross_validation=cv,
        abstainer=abstainer_cv.get("chosen") if abstainer is not None else None,
        question_features=list(QUESTION_FEATURES),
        abstainer_cross_validation=abstainer_cv,
        with_abstainer=_judge(combined, data),
        threshold=threshold,
        sentence_threshold=sentence_threshold,
        item_threshold=item_threshold,
        similarity_floor=floor,
        threshold_fit=fit,
    )  # fmt: skip
    scorer = SentenceScorer(pipeline, record, abstainer)
    scorer.save(out_dir)
    forget_loaded()
    return TrainResult(scorer, time.perf_counter() - t0)


def similarity_floor(data: TrainingData) -> float:
    """No sentence that answered a dev question was less similar to it than this: below it a
    sentence shares words with the question at most ("Human Capital" for "capital")."""
    return float(data.rows[data.labels > 0, SIMILARITY].min())


def floored(p: np.ndarray, data: TrainingData, floor: float) -> np.ndarray:
    """``p`` with every candidate below the similarity floor at 0, as the scorer answers."""
    return np.where(data.rows[:, SIMILARITY] >= floor, p, 0.0)


def out_of_fold(
    make: Callable[[], Any], rows: np.ndarray, labels: np.ndarray, groups: np.ndarray
) -> np.ndarray:
    """Each row's probability from a model fitted without its question (grouped folds)."""
    from sklearn.model_selection import GroupKFold

    out = np.zeros(len(labels))
    for fit_rows, held_rows in GroupKFold(n_splits=FOLDS).split(rows, labels, groups):
        if labels[fit_rows].sum() == 0:
            continue
        model = make().fit(rows[fit_rows], labels[fit_rows])
        out[held_rows] = model.predict_proba(rows[held_rows])[:, 1]
    return out


def _question_rows(p: np.ndarray, data: TrainingData) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """One abstainer row per question with a candidate, whether it is answerable, and the
    question's position."""
    rows, answerable, which = [], [], []
    for i, q in enumerate(data.questions):
        mine = np.flatnonzero(data.groups == i)
        if len(mine) == 0:
            continue  # no candidate: it abstains whatever any model says
        rows.append(question_row(p[mine], data.rows[mine])[0])
        answerable.append(q.answerable)
        which.append(i)
    return np.asarray(rows), np.asarray(answerable, dtype=np.int64), which


def abstainer_candidates() -> dict[str, Callable[[], Any]]:
    """Logistic regression at three strengths: one row per question is few rows."""
    return candidates((0.01, 0.03, 0.1), trees=False)


def _abstainer(p: np.ndarray, data: TrainingData) -> tuple[Any, dict[str, Any], np.ndarray]:
    """(the fitted abstainer or None, its cross-validation, out-of-fold probabilities of
    every candidate with each question's best at the abstainer's probability) from the
    sentence model's out-of-fold ``p``; the threshold is chosen on these."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    rows, answerable, which = _question_rows(p, data)
    if len(set(answerable.tolist())) < 2 or min(np.bincount(answerable)) < FOLDS:
        return None, {}, p
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    cv: dict[str, Any] = {}
    answered: dict[str, np.ndarray] = {}
    for name, make in abstainer_candidates().items():
        answered[name] = cross_val_predict(
            make(), rows, answerable, cv=folds, method="predict_proba"
        )[:, 1]
        cv[name] = {"abstain_auc": float(roc_auc_score(answerable, answered[name]))}
    chosen = max(cv, key=lambda n: cv[n]["abstain_auc"])
    cv["chosen"] = chosen
    combined = np.zeros(len(p))
    for i, a in zip(which, answered[chosen], strict=True):
        mine = np.flatnonzero(data.groups == i)
        top = p[mine].max()
        combined[mine] = a * p[mine] / top if top > 0 else 0.0
    return abstainer_candidates()[chosen]().fit(rows, answerable), cv, combined


# A list is read to find every item, and each item is cited: recall counts more than
# precision when choosing which items a list answer shows (F-beta with beta 2).
ITEM_BETA = 2.0


def _item_threshold(p: np.ndarray, data: TrainingData, max_items: int = 15) -> float:
    """The sentence probability from which a list answer takes an item, chosen on the dev
    list questions: the cut with the best F-beta of their answering sentences shown."""
    is_list = data.rows[:, FEATURES.index("is_list")] > 0
    lists = [
        np.flatnonzero(data.groups == i)
        for i, q in enumerate(data.questions)
        if q.answerable and (is_list & (data.groups == i)).any()
    ]
    lists = [m[np.argsort(-p[m], kind="stable")][:max_items] for m in lists]
    lists = [m for m in lists if data.labels[data.groups == data.groups[m[0]]].sum() > 0]
    if not lists:
        return 0.0
    best, best_f = 0.0, -1.0
    for t in np.unique(np.concatenate([p[m] for m in lists])):
        recall = precision = 0.0
        for m in lists:
            shown = m[p[m] >= t]
            recall += data.labels[shown].sum() / data.labels[data.groups == data.groups[m[0]]].sum()
            precision += data.labels[shown].mean() if len(shown) else 0.0
        recall, precision = recall / len(lists), precision / len(lists)
        b2 = ITEM_BETA**2
        f = (1 + b2) * precision * recall / (b2 * precision + recall) if precision + recall else 0
        if f > best_f:
            best, best_f = float(t), f
    return best


def _per_question(p: np.ndarray, data: TrainingData) -> list[tuple[Question, float, bool]]:
    """(question, best probability, whether its best sentence is an answering one)."""
    out = []
    for i, q in enumerate(data.questions):
        mine = np.flatnonzero(data.groups == i)
        if len(mine) == 0:
            out.append((q, 0.0, False))
            continue
        top = mine[np.argmax(p[mine])]
        out.append((q, float(p[top]), bool(data.labels[top])))
    return out


def _judge(p: np.ndarray, data: TrainingData) -> dict[str, float]:
    from sklearn.metrics import average_precision_score, roc_auc_score

    per = _per_question(p, data)
    answerable = [(best, hit) for q, best, hit in per if q.answerable]
    top1 = sum(hit for _, hit in answerable) / max(len(answerable), 1)
    answerable_flags = [q.answerable for q, _, _ in per]
    auc = (
        roc_auc_score(answerable_flags, [b for _, b, _ in per])
        if 0 < sum(answerable_flags) < len(answerable_flags)
        else 0.5
    )
    return {
        "top1": top1,
        "abstain_auc": float(auc),
        "ap": float(average_precision_score(data.labels, p)),
    }


def _threshold(p: np.ndarray, data: TrainingData) -> tuple[float, dict[str, int]]:
    """The highest threshold that abstains on at most MAX_WRONGLY_ABSTAINED of the
    answerable dev questions (out of fold): the promise to answer what the documents answer
    comes first, and within it as many unanswerable questions as possible are abstained on.

    The cut lies midway between the lowest answerable question kept and the next lower
    probability of any question, so a question near it is not decided by rounding.
    """
    per = _per_question(p, data)
    ans = np.sort(np.array([b for q, b, _ in per if q.answerable]))
    una = np.array([b for q, b, _ in per if not q.answerable])
    if len(ans) == 0:
        return 0.5, _fit(0.5, ans, una)
    allowed = int(MAX_WRONGLY_ABSTAINED * len(ans) + 1e-9)
    kept = float(ans[min(allowed, len(ans) - 1)])
    below = np.concatenate([ans[ans < kept], una[una < kept]])
    best = (kept + float(below.max())) / 2 if len(below) else kept / 2
    return best, _fit(best, ans, una)


def _fit(threshold: float, ans: np.ndarray, una: np.ndarray) -> dict[str, int]:
    return {
        "wrongly_abstained": int((ans < threshold).sum()),
        "unanswerable_answered": int((una >= threshold).sum()),
        "answerable": len(ans),
        "unanswerable": len(una),
    }


def training_record(
    questions: list[Question],
    labels: np.ndarray,
    questions_text: str,
    features: Sequence[str],
    searcher: Searcher,
    **fields: Any,
) -> dict[str, Any]:
    """What a model saved beside the code says of itself: when and on which dev questions
    and rows it was trained, its features, ``fields`` (its choices and cross-validation),
    and the index, ranking and library versions it was trained with."""
    return {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "split": "dev",
        "dev_questions_sha256": _questions_hash(questions),
        "questions_file_sha256": hashlib.sha256(questions_text.encode("utf-8")).hexdigest(),
        "n_questions": len(questions),
        "n_rows": int(len(labels)),
        "n_positive": int(labels.sum()),
        "features": list(features),
        **fields,
        "folds": FOLDS,
        "embedder": searcher.store.manifest.get("embedder", {}).get("name"),
        "ranking": searcher.ranking.model_dump(),
        "versions": _versions(),
    }


def _questions_hash(questions: list[Question]) -> str:
    """Hash of the dev questions themselves: which labels the scorer learnt from."""
    payload = json.dumps([q.model_dump() for q in questions], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _versions() -> dict[str, str]:
    import joblib
    import sklearn

    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "joblib": joblib.__version__,
    }
