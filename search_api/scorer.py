"""The learned sentence scorer: how likely a candidate sentence answers the question.

A scikit-learn pipeline trained by ``beleidszoeker train`` on the `dev` questions only and
saved beside this module with a record of what it was trained on (a hash of the dev
questions, the feature list, the library versions, the abstain threshold chosen on dev).
It is loaded once per process, on first use.
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
MODEL_FILE = "sentence_scorer.joblib"
RECORD_FILE = "sentence_scorer.json"


class ScorerUnavailableError(BeleidszoekerError):
    """The trained sentence scorer is missing or does not fit this code."""


@dataclass(frozen=True)
class SentenceScorer:
    pipeline: Any  # a fitted scikit-learn classifier with predict_proba
    record: dict[str, Any]

    @property
    def threshold(self) -> float:
        """Abstain when the best sentence's probability is below this (chosen on dev)."""
        return float(self.record["threshold"])

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """Per row, the probability that the sentence answers; 0 below the similarity floor
        (no dev question was answered by a sentence that far from it)."""
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
    return SentenceScorer(joblib.load(model), info)
