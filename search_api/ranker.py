"""The learned passage ranker: re-orders the top fused candidates of a hybrid search.

A scikit-learn pipeline trained by ``beleidszoeker train`` on the `dev` questions only, over
``passage_features.PASSAGE_FEATURES``, and saved beside the sentence scorer with a record of
what it was trained on (a hash of the dev questions, the features, the library versions, how
many candidates it re-orders) and whether it measured better on dev than rank fusion alone
(out of fold). Search uses it only when that record says so. Loaded once per process, on
first use; without a saved ranker search keeps the fused order.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from search_api.passage_features import PASSAGE_FEATURES
from search_api.scorer import MODEL_DIR, ScorerUnavailableError

RANKER_FILE = "passage_ranker.joblib"
RANKER_RECORD = "passage_ranker.json"


@dataclass(frozen=True)
class PassageRanker:
    pipeline: Any  # a fitted scikit-learn classifier with predict_proba
    record: dict[str, Any]

    @property
    def in_use(self) -> bool:
        """Whether it measured better than rank fusion on dev (out of fold)."""
        return bool(self.record.get("use"))

    @property
    def depth(self) -> int:
        """How many of the fused candidates it re-orders (chosen on dev)."""
        return int(self.record["depth"])

    def scores(self, rows: np.ndarray) -> np.ndarray:
        """Per candidate passage, the probability that it holds an answer."""
        if len(rows) == 0:
            return np.zeros(0)
        return self.pipeline.predict_proba(rows)[:, 1]

    def order(self, rows: np.ndarray) -> np.ndarray:
        """Positions of the candidates best first; equal scores keep the fused order (to 12
        decimals: the same row can come out a rounding error apart in a batch)."""
        return np.argsort(-np.round(self.scores(rows), 12), kind="stable")

    def save(self, directory: Path = MODEL_DIR) -> None:
        import joblib

        directory.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.pipeline, directory / RANKER_FILE)
        (directory / RANKER_RECORD).write_text(
            json.dumps(self.record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )


_lock = threading.Lock()
_loaded: dict[str, PassageRanker | None] = {}


def get_ranker(directory: Path = MODEL_DIR) -> PassageRanker | None:
    """The saved ranker (None when none was trained), loaded on first use and then kept."""
    key = str(directory)
    if key not in _loaded:
        with _lock:
            if key not in _loaded:
                _loaded[key] = _load(directory)
    return _loaded[key]


def forget_loaded() -> None:
    """Drop loaded rankers, so the next use reads the files again (after training)."""
    with _lock:
        _loaded.clear()


def _load(directory: Path) -> PassageRanker | None:
    model, record = directory / RANKER_FILE, directory / RANKER_RECORD
    if not model.exists() or not record.exists():
        return None
    import joblib

    info = json.loads(record.read_text(encoding="utf-8"))
    if tuple(info.get("features", ())) != PASSAGE_FEATURES:
        raise ScorerUnavailableError(
            f"The passage ranker in {directory} was trained on other features than this "
            "version computes: run `beleidszoeker train` again."
        )
    return PassageRanker(joblib.load(model), info)
