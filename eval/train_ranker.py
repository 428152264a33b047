"""Train the passage ranker on the dev questions: cross-validated by question, kept only if
it beats rank fusion on dev out of fold.

Each of the top ``DEPTH`` fused candidates of an answerable dev question is a row
(``passage_features.PASSAGE_FEATURES``); it is positive when the passage holds a gold quote
of the right document. The model kinds, and how many fused candidates to re-order, are
compared out of fold (``GroupKFold``: a question's passages never sit on both sides) by the
MRR@10 and Recall@10 of the re-ordered lists; the best is fitted on every dev row. Its
record says whether search should use it: only when out of fold it ranks better than fusion
alone (MRR@10 higher, Recall@10 no lower). Only `dev` is read: ``dev_only`` refuses
anything else.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eval import train
from eval.matching import contains_quote
from eval.questions import Question, dev_only
from eval.train import FOLDS, out_of_fold
from search_api.passage_features import PASSAGE_FEATURES
from search_api.ranker import PassageRanker, forget_loaded
from search_api.retrieval import Searcher
from search_api.scorer import MODEL_DIR

# Fused candidates read per question; the ranker re-orders at most this many.
DEPTH = 50
DEPTHS = (10, 20, 30, 50)
CUTOFF = 10  # MRR@10 and Recall@10, as `beleidszoeker eval` reports them


@dataclass
class RankingData:
    rows: np.ndarray
    labels: np.ndarray
    groups: np.ndarray  # the question each row belongs to (its position in ``questions``)
    held: list[list[frozenset[int]]]  # per question, per candidate: the gold quotes it holds
    questions: list[Question]  # the answerable dev questions


@dataclass
class RankerResult:
    ranker: PassageRanker
    seconds: float

    def lines(self) -> list[str]:
        r = self.ranker.record
        base = r["fusion"]
        out = [
            f"Passage ranker: {r['n_questions']} answerable dev questions, top {DEPTH} fused "
            f"passages each ({r['n_rows']} rows, {r['n_positive']} holding gold).",
            f"  rank fusion alone: MRR@10 {base['mrr@10']:.3f}, Recall@10 {base['recall@10']:.3f}",
        ]
        for name, by_depth in r["cross_validation"].items():
            for depth, cv in by_depth.items():
                chosen = " (chosen)" if (name, int(depth)) == (r["model"], r["depth"]) else ""
                out.append(
                    f"  {name}, top {depth}{chosen}: MRR@10 {cv['mrr@10']:.3f}, "
                    f"Recall@10 {cv['recall@10']:.3f} out of fold"
                )
        out.append(
            "  used by search: "
            + (
                "yes, it ranks better than fusion on dev"
                if r["use"]
                else "no, fusion ranks as well"
            )
        )
        return out


def collect(
    searcher: Searcher,
    questions: list[Question],
    progress: Callable[[int, int], None] | None = None,
) -> RankingData:
    """The fused candidates of every answerable (dev) question, with their labels."""
    questions = [q for q in dev_only(questions) if q.answerable]
    rows, labels, groups, held = [], [], [], []
    for i, q in enumerate(questions):
        found, features = searcher.fused_candidates(q.question, DEPTH)
        chunks = searcher.store.passages(found)
        holds = [
            frozenset(
                j
                for j, a in enumerate(q.answers)
                if a.document == c.document_id and contains_quote(c.text, a.quote)
            )
            for c in chunks
        ]
        rows.append(features)
        labels.append(np.asarray([bool(h) for h in holds], dtype=np.int64))
        groups.append(np.full(len(found), i))
        held.append(holds)
        if progress:
            progress(i + 1, len(questions))
    width = len(PASSAGE_FEATURES)
    return RankingData(
        np.concatenate(rows) if rows else np.zeros((0, width)),
        np.concatenate(labels) if labels else np.zeros(0, np.int64),
        np.concatenate(groups) if groups else np.zeros(0, np.int64),
        held,
        questions,
    )


def candidates() -> dict[str, Callable[[], Any]]:
    """Pointwise models: logistic regression at three strengths, gradient-boosted trees."""
    return train.candidates((0.03, 0.3, 3.0))


def ranking_quality(scores: np.ndarray | None, data: RankingData, depth: int) -> dict[str, float]:
    """Mean MRR@10 and Recall@10 of the dev questions when ``scores`` re-order each one's
    top ``depth`` fused candidates (None: the fused order as it is)."""
    mrr = recall = 0.0
    for i, q in enumerate(data.questions):
        mine = np.flatnonzero(data.groups == i)
        order = np.arange(len(mine))
        if scores is not None and len(mine):
            head = np.argsort(-scores[mine[:depth]], kind="stable")
            order = np.concatenate([head, order[len(head) :]])
        top = [data.held[i][j] for j in order[:CUTOFF]]
        first = next((r for r, h in enumerate(top) if h), None)
        mrr += 0.0 if first is None else 1.0 / (first + 1)
        recall += len(frozenset().union(*top)) / len(q.answers) if top else 0.0
    n = max(len(data.questions), 1)
    return {"mrr@10": mrr / n, "recall@10": recall / n}


def train_ranker(
    searcher: Searcher,
    questions: list[Question],
    questions_text: str,
    out_dir: Path = MODEL_DIR,
    progress: Callable[[int, int], None] | None = None,
) -> RankerResult:
    """Fit, choose and save the ranker; ``questions`` must all be `dev` questions."""
    t0 = time.perf_counter()
    data = collect(searcher, questions, progress)
    if data.labels.sum() < 2 or len(data.questions) < FOLDS:
        raise ValueError("too few answerable dev questions to train the passage ranker on")
    fusion = ranking_quality(None, data, DEPTH)
    cv: dict[str, dict[str, dict[str, float]]] = {}
    for name, make in candidates().items():
        oof = out_of_fold(make, data.rows, data.labels, data.groups)
        cv[name] = {str(d): ranking_quality(oof, data, d) for d in DEPTHS}
    name, depth = max(
        ((n, int(d)) for n in cv for d in cv[n]),
        key=lambda nd: cv[nd[0]][str(nd[1])]["mrr@10"] + cv[nd[0]][str(nd[1])]["recall@10"],
    )
    best = cv[name][str(depth)]
    use = best["mrr@10"] > fusion["mrr@10"] and best["recall@10"] >= fusion["recall@10"]
    pipeline = candidates()[name]().fit(data.rows, data.labels)
    record = train.training_record(
        data.questions, data.labels, questions_text, PASSAGE_FEATURES, searcher,
        candidates_read=DEPTH,
        model=name,
        depth=depth,
        use=bool(use),
        fusion=fusion,
        out_of_fold=best,
        cross_validation=cv,
    )  # fmt: skip
    ranker = PassageRanker(pipeline, record)
    ranker.save(out_dir)
    forget_loaded()
    return RankerResult(ranker, time.perf_counter() - t0)
