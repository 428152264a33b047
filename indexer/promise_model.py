"""The promise classifier: a scikit-learn pipeline saved with what it was trained on.

Trained on the ``dev`` split of the labelled sentences only (``beleidszoeker promises-train``);
a ``test`` row handed to training is refused, so the figures reported on it stay honest.
The regularisation and the decision threshold are chosen by cross-validation on dev.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from beleidszoeker.errors import BeleidszoekerError
from indexer.promise_features import MEANING_WEIGHT, NUMERIC_FEATURES, Item

MODEL_DIR = Path(__file__).resolve().parent / "models"
MODEL_FILE = MODEL_DIR / "promises.joblib"
PROVENANCE_FILE = MODEL_DIR / "promises.json"
C_GRID = (0.3, 1.0, 3.0, 10.0)
FOLDS = 5
REPEATS = 3
RETRAIN = "beleidszoeker promises-train"


class PromiseModelError(BeleidszoekerError):
    """The saved promise classifier is missing or cannot be used."""


class SealedSplitError(BeleidszoekerError):
    """Training was handed rows of the held-apart test split."""


class LabelledRow(Protocol):
    id: str
    document: str
    sentence: str
    promise: bool
    split: str


@dataclass
class PromiseModel:
    pipeline: Any
    threshold: float
    provenance: dict[str, Any]

    @property
    def id(self) -> str:
        """Names the model in the index manifest: a new model re-classifies every document."""
        return str(self.provenance["model_sha256"])[:16]

    def check_embedder(self, spec: str) -> None:
        """The classifier reads sentence vectors: they must come from the embedder it knows."""
        trained_with = self.provenance.get("embedder")
        if trained_with != spec:
            raise PromiseModelError(
                f"The promise classifier was trained on {trained_with!r} sentence vectors, the "
                f"index uses {spec!r}: run `{RETRAIN}` to train it for this embedder."
            )

    def probabilities(self, items: Sequence[Item]) -> np.ndarray:
        if not items:
            return np.zeros(0)
        return self.pipeline.predict_proba(list(items))[:, 1]

    def predict(self, items: Sequence[Item]) -> np.ndarray:
        return self.probabilities(items) >= self.threshold


def make_pipeline(c: float):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    from indexer import promise_features as pf

    words = Pipeline(
        [
            ("text", FunctionTransformer(pf.texts)),
            ("tfidf", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)),
        ]
    )
    chars = Pipeline(
        [
            ("text", FunctionTransformer(pf.texts)),
            (
                "tfidf",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True
                ),
            ),
        ]
    )
    signs = Pipeline([("signs", FunctionTransformer(pf.signs)), ("scale", StandardScaler())])
    features = FeatureUnion(
        [
            ("words", words),
            ("chars", chars),
            ("signs", signs),
            ("meaning", FunctionTransformer(pf.meaning)),
        ]
    )
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000)
    return Pipeline([("features", features), ("model", model)])


def rows_sha256(rows: Sequence[LabelledRow]) -> str:
    h = hashlib.sha256()
    for r in sorted(rows, key=lambda r: r.id):
        h.update(json.dumps([r.id, r.document, r.sentence, r.promise, r.split]).encode())
    return h.hexdigest()


def train(
    rows: Sequence[LabelledRow],
    document_years: dict[str, int | None],
    vectors: np.ndarray,
    embedder: str,
    seed: int = 0,
) -> tuple[PromiseModel, dict[str, Any]]:
    """Fit on dev rows (``vectors``: their sentence embeddings, in order), choosing C and the
    threshold by cross-validation on them.

    Returns the model and the cross-validated figures it was chosen by.
    """
    sealed = [r.id for r in rows if r.split != "dev"]
    if sealed:
        raise SealedSplitError(
            f"Training takes dev rows only; {len(sealed)} rows of another split were given "
            f"({', '.join(sealed[:5])}{' ...' if len(sealed) > 5 else ''})."
        )
    if len({r.promise for r in rows}) < 2:
        raise PromiseModelError("Training needs both promises and non-promises.")
    import sklearn
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    items = [
        (r.sentence, document_years.get(r.document), v) for r, v in zip(rows, vectors, strict=True)
    ]
    y = np.asarray([r.promise for r in rows], dtype=int)
    best: tuple[float, float, float, dict[str, float]] | None = None
    grid = []
    for c in C_GRID:
        # Out-of-fold probabilities averaged over a few shuffles: a threshold chosen on one
        # split of 390 sentences moves with the luck of that split.
        proba = np.mean(
            [
                cross_val_predict(
                    make_pipeline(c),
                    items,
                    y,
                    cv=StratifiedKFold(FOLDS, shuffle=True, random_state=seed + r),
                    method="predict_proba",
                )[:, 1]
                for r in range(REPEATS)
            ],
            axis=0,
        )
        threshold, figures = _best_threshold(proba, y)
        grid.append({"C": c, "threshold": threshold, **figures})
        if best is None or figures["f1"] > best[2]:
            best = (c, threshold, figures["f1"], figures)
    assert best is not None
    c, threshold, _, figures = best
    pipeline = make_pipeline(c).fit(items, y)
    import joblib

    provenance = {
        "trained_on": "eval/promises.yaml, split dev",
        "n_rows": len(rows),
        "n_promises": int(y.sum()),
        "rows_sha256": rows_sha256(rows),
        "features": [
            "word 1-2 gram tf-idf",
            "char_wb 2-5 gram tf-idf",
            *NUMERIC_FEATURES,
            f"sentence vector x {MEANING_WEIGHT}",
        ],
        "embedder": embedder,
        "model": "LogisticRegression(class_weight=balanced)",
        "C": c,
        "threshold": threshold,
        "cross_validation": {
            "folds": FOLDS,
            "repeats": REPEATS,
            "seed": seed,
            "chosen": figures,
            "grid": grid,
        },
        "versions": {
            "scikit-learn": sklearn.__version__,
            "numpy": np.__version__,
            "joblib": joblib.__version__,
        },
    }
    return PromiseModel(pipeline, threshold, provenance), figures


def _best_threshold(proba: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, float]]:
    """The threshold with the best F1 on out-of-fold probabilities."""
    best_t, best = 0.5, {"precision": 0.0, "recall": 0.0, "f1": -1.0}
    for t in np.round(np.arange(0.2, 0.81, 0.025), 3):
        pred = proba >= t
        tp = float((pred & (y == 1)).sum())
        precision = tp / pred.sum() if pred.sum() else 0.0
        recall = tp / (y == 1).sum()
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        if f1 > best["f1"]:
            best_t, best = float(t), {"precision": precision, "recall": recall, "f1": f1}
    return best_t, {k: round(v, 4) for k, v in best.items()}


def save(model: PromiseModel, directory: Path | None = None) -> Path:
    import joblib

    directory = directory or MODEL_DIR
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / MODEL_FILE.name
    joblib.dump(model.pipeline, path, compress=3)
    provenance = {**model.provenance, "model_sha256": _sha256(path)}
    (directory / PROVENANCE_FILE.name).write_text(
        json.dumps(provenance, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    model.provenance = provenance
    return path


_lock = threading.Lock()
_loaded: dict[Path, PromiseModel] = {}


def load(directory: Path | None = None) -> PromiseModel:
    """The saved classifier, loaded once per process; refused if it is not the saved one."""
    directory = (directory or MODEL_DIR).resolve()
    with _lock:
        if directory in _loaded:
            return _loaded[directory]
        path, meta = directory / MODEL_FILE.name, directory / PROVENANCE_FILE.name
        try:
            provenance = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise PromiseModelError(
                f"No promise classifier in {directory} ({exc}): run `{RETRAIN}`."
            ) from exc
        if not path.exists() or _sha256(path) != provenance.get("model_sha256"):
            raise PromiseModelError(
                f"The promise classifier {path} is missing or not the one its provenance "
                f"describes: run `{RETRAIN}`."
            )
        import joblib

        try:
            pipeline = joblib.load(path)
        except Exception as exc:  # an unpickling error names another library version
            raise PromiseModelError(
                f"The promise classifier {path} cannot be loaded with this scikit-learn "
                f"({exc}); it was saved with {provenance.get('versions')}: run `{RETRAIN}`."
            ) from exc
        model = PromiseModel(pipeline, float(provenance["threshold"]), provenance)
        _loaded[directory] = model
        return model


def current_id(directory: Path | None = None) -> str | None:
    """The id of the saved classifier from its provenance alone, without loading it."""
    directory = directory or MODEL_DIR
    try:
        meta = json.loads((directory / PROVENANCE_FILE.name).read_text(encoding="utf-8"))
        return str(meta["model_sha256"])[:16]
    except (OSError, ValueError, KeyError):
        return None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
