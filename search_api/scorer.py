"""The learned sentence scorer: how likely a candidate sentence answers the question.

Two scikit-learn pipelines trained by ``beleidszoeker train`` on the `dev` questions only
and saved beside this module with a record of what they were trained on (a hash of the dev
questions, the feature lists, the library versions, the abstain threshold chosen on dev):
one ranks the candidate sentences of a question, the other (the abstainer) reads the
question as a whole, from its likeliest sentence and what the question asks about, and
says how likely the documents answer it at all. They are loaded once per process, on first
use.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from beleidszoeker.errors import BeleidszoekerError
from search_api.features import FEATURES

MODEL_DIR = Path(__file__).parent / "model"
_SIMILARITY = FEATURES.index("similarity")
_IS_LIST = FEATURES.index("is_list")
MODEL_FILE = "sentence_scorer.joblib"
ABSTAINER_FILE = "abstainer.joblib"
RECORD_FILE = "sentence_scorer.json"
# What the abstainer reads of a question: how likely its best sentence is and how far ahead
# of the next, how many candidates it has, that sentence's evidence, how high its passage
# ranks (before and after the passage ranker: an answer found in the 8th passage, with
# better ones ranked above it, is weaker evidence than one in the first), and the question's
# own (words or names the documents never use). Not the question's form: whether it asks
# "how many" says nothing about whether the documents answer it.
QUESTION_FEATURES: tuple[str, ...] = (
    "log_probability",
    "log_margin",
    "log_candidates",
    "similarity",
    "sentence_similarity",
    "words_window",
    "words_sentence",
    "names_window",
    "answer_near",
    "person_name",
    "unknown",
    "english_unknown",
    "names_unknown",
    "best_words",
    "best_similarity",
    "predicate",
    "names_section",
    "words_passage",
    "subject_window",
    "subject_passage",
    "best_subject",
    "reciprocal_rank",
    "shown_reciprocal_rank",
)
_FROM_ROW = [FEATURES.index(f) for f in QUESTION_FEATURES[3:]]
_EPSILON = 1e-4


def question_row(p: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The abstainer's view of one question: ``p`` the sentence probabilities of its
    candidates ``rows`` (at least one)."""
    top = int(np.argmax(p))
    ranked = np.sort(p)[::-1]
    second = ranked[1] if len(ranked) > 1 else 0.0
    head = [
        np.log(p[top] + _EPSILON),
        np.log(p[top] + _EPSILON) - np.log(second + _EPSILON),
        np.log(len(p)),
    ]
    return np.asarray([head + rows[top, _FROM_ROW].tolist()], dtype=np.float64)


class ScorerUnavailableError(BeleidszoekerError):
    """The trained sentence scorer is missing or does not fit this code."""


@dataclass(frozen=True)
class SentenceScorer:
    pipeline: Any  # a fitted scikit-learn classifier with predict_proba
    record: dict[str, Any]
    abstainer: Any = None  # the same, over question_row; None: the best sentence decides

    @property
    def threshold(self) -> float:
        """Abstain when the best sentence's probability is below this (chosen on dev)."""
        return float(self.record["threshold"])

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """Per candidate sentence of one question, the probability that it answers.

        With an abstainer, the best sentence gets the probability that the question is
        answered at all (``answered``), and the others keep their order and where they stand
        against the sentence model's own threshold: a sentence at it lands on the abstain
        threshold, so a list keeps the items the sentence model finds likely enough.
        """
        p = self.sentence_probabilities(rows)
        if self.abstainer is None or len(p) == 0 or p.max() <= 0:
            return p
        answered = float(self.abstainer.predict_proba(question_row(p, rows))[0, 1])
        top, own = float(p.max()), float(self.record.get("sentence_threshold", 0.0))
        if len(rows) and rows[0, _IS_LIST] > 0:
            # A list shows every item from the bar chosen for list items on dev.
            own = float(self.record.get("item_threshold", own))
        threshold = self.threshold
        if answered < threshold or top <= own:
            return answered * p / top
        below = threshold * p / own if own > 0 else np.zeros_like(p)
        above = threshold + (answered - threshold) * (p - own) / (top - own)
        return np.where(p >= own, above, below)

    def sentence_probabilities(self, rows: np.ndarray) -> np.ndarray:
        """Per row, the sentence model's probability; 0 below the similarity floor (no dev
        question was answered by a sentence that far from it)."""
        if len(rows) == 0:
            return np.zeros(0)
        p = self.pipeline.predict_proba(rows)[:, 1]
        floor = self.record.get("similarity_floor")
        if floor is None:
            return p
        return np.where(rows[:, _SIMILARITY] >= floor, p, 0.0)

    def save(self, directory: Path = MODEL_DIR) -> None:
        import joblib

        directory.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.pipeline, directory / MODEL_FILE)
        if self.abstainer is not None:
            joblib.dump(self.abstainer, directory / ABSTAINER_FILE)
        (directory / RECORD_FILE).write_text(
            json.dumps(self.record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )


_lock = threading.Lock()
_loaded: dict[str, SentenceScorer] = {}


def get_scorer(directory: Path = MODEL_DIR) -> SentenceScorer:
    """The saved scorer, loaded on first use and then kept."""
    key = str(directory)
    scorer = _loaded.get(key)
    if scorer is None:
        with _lock:
            scorer = _loaded.get(key) or _load(directory)
            _loaded[key] = scorer
    return scorer


def forget_loaded() -> None:
    """Drop loaded scorers, so the next use reads the files again (after training)."""
    with _lock:
        _loaded.clear()


def _load(directory: Path) -> SentenceScorer:
    model, record = directory / MODEL_FILE, directory / RECORD_FILE
    if not model.exists() or not record.exists():
        raise ScorerUnavailableError(
            f"No trained sentence scorer in {directory}: run `beleidszoeker train` "
            "(it trains on the dev questions of eval/questions.yaml)."
        )
    import joblib

    info = json.loads(record.read_text(encoding="utf-8"))
    if tuple(info.get("features", ())) != FEATURES:
        raise ScorerUnavailableError(
            f"The sentence scorer in {directory} was trained on other features than this "
            "version computes: run `beleidszoeker train` again."
        )
    if tuple(info.get("question_features", QUESTION_FEATURES)) != QUESTION_FEATURES:
        raise ScorerUnavailableError(
            f"The abstainer in {directory} was trained on other question features than this "
            "version computes: run `beleidszoeker train` again."
        )
    abstainer = directory / ABSTAINER_FILE
    return SentenceScorer(
        joblib.load(model),
        info,
        joblib.load(abstainer) if info.get("abstainer") and abstainer.exists() else None,
    )
