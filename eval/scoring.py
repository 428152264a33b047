"""Score keyword, dense and hybrid retrieval on the labelled questions with ranx."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from beleidszoeker.config import Settings
from eval.intervals import Gap, gap
from eval.matching import contains_quote, normalize
from eval.questions import Question, load_questions
from search_api.engine import get_searcher
from search_api.retrieval import MODES, Hit, Searcher

HERE = Path(__file__).parent
DEFAULT_QUESTIONS = HERE / "questions.yaml"
DEFAULT_REPORT = HERE / "report.md"
DEPTH = 20
METRICS = ["mrr@10", "ndcg@10", "recall@5", "recall@10", "recall@20"]


@dataclass
class EvalResult:
    report_path: Path
    n_questions: int
    n_answerable: int
    overall: dict[str, dict[str, float]]  # mode -> metric -> value
    by_category: dict[str, dict[str, dict[str, float]]]  # category -> mode -> metric
    # The same scores on the dev and the sealed test split, and on slices of each (English
    # questions, lists): slice -> split -> mode -> metric. A change that helps dev only is
    # fitted to its questions, not better search.
    splits: dict[str, dict[str, dict[str, dict[str, float]]]] = field(default_factory=dict)
    # Each answerable question's own value of every metric: mode -> metric -> id.
    per_question: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    missing_quotes: list[str] = field(default_factory=list)
    misses: dict[str, list[str]] = field(default_factory=dict)  # mode -> question ids
    seconds: float = 0.0

    def summary_table(self) -> Table:
        table = Table(title=f"Retrieval on {self.n_answerable} answerable questions")
        table.add_column("mode")
        for m in METRICS:
            table.add_column(m.upper().replace("RECALL", "Recall").replace("NDCG", "nDCG"))
        for mode, values in self.overall.items():
            table.add_row(mode, *(f"{values[m]:.3f}" for m in METRICS))
        return table

    def split_figures(self, mode: str = "hybrid") -> dict[str, dict[str, str]]:
        """Headline figures of one mode: figure -> split -> value."""
        out: dict[str, dict[str, str]] = {}
        for name, (slice_, metric) in HEADLINE.items():
            for split in SPLITS:
                value = self.splits.get(slice_, {}).get(split, {}).get(mode, {}).get(metric)
                out.setdefault(f"{mode} {name}", {})[split] = (
                    "-" if value is None else f"{value:.3f}"
                )
        return out

    def split_gap(self, mode: str, name: str, questions: list[Question]) -> Gap | None:
        """dev minus test of one headline figure, with its bootstrap interval."""
        slice_, metric = HEADLINE[name]
        values = self.per_question.get(mode, {}).get(metric, {})
        keep = SLICES[slice_]
        by_split = {
            s: [values[q.id] for q in questions if q.id in values and q.split == s and keep(q)]
            for s in SPLITS
        }
        return gap(by_split["dev"], by_split["test"])


SPLITS = ("dev", "test")
# Slices of the answerable questions scored on each split.
SLICES = {
    "all": lambda q: True,
    "English": lambda q: q.lang == "en",
    "list": lambda q: q.category == "list",
    "paraphrase": lambda q: q.category == "paraphrase",
    "promise": lambda q: q.category == "promise",
}
HEADLINE = {
    "MRR@10": ("all", "mrr@10"),
    "Recall@10": ("all", "recall@10"),
    "list Recall@10": ("list", "recall@10"),
    "English MRR@10": ("English", "mrr@10"),
    "paraphrase MRR@10": ("paraphrase", "mrr@10"),
    "promise MRR@10": ("promise", "mrr@10"),
}


def gold_ids(question: Question) -> list[str]:
    return [f"{question.id}/{j}" for j in range(len(question.answers))]


def judge(question: Question, hits: list[Hit]) -> dict[str, float]:
    """A ranx run row: each gold quote counts once, at the first passage that holds it."""
    row: dict[str, float] = {}
    found: set[int] = set()
    for hit in hits:
        score = float(DEPTH - hit.rank + 1)
        matched = [
            j
            for j, a in enumerate(question.answers)
            if j not in found
            and a.document == hit.chunk.document_id
            and contains_quote(hit.chunk.text, a.quote)
        ]
        if matched:
            for n, j in enumerate(matched):
                row[f"{question.id}/{j}"] = score - n * 1e-3
                found.add(j)
        else:
            row[hit.chunk.id] = score
    return row


def run_eval(
    settings: Settings,
    questions_path: Path = DEFAULT_QUESTIONS,
    report_path: Path = DEFAULT_REPORT,
    console: Console | None = None,
    modes: tuple[str, ...] = MODES,
) -> EvalResult:
    from ranx import Qrels, Run, evaluate

    console = console or Console(stderr=True)
    t0 = time.perf_counter()
    questions = load_questions(questions_path)
    searcher = get_searcher(settings)
    answerable = [q for q in questions if q.answerable]
    qrels = Qrels({q.id: {g: 1 for g in gold_ids(q)} for q in answerable})

    overall: dict[str, dict[str, float]] = {}
    by_category: dict[str, dict[str, dict[str, float]]] = {}
    misses: dict[str, list[str]] = {}
    splits: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    per_question: dict[str, dict[str, dict[str, float]]] = {}
    for mode in modes:
        console.print(f"Scoring {mode} on {len(answerable)} questions ...")
        rows = {
            q.id: judge(q, searcher.search(q.question, DEPTH, mode)) or {"-": 0.0}
            for q in answerable
        }
        run = Run(rows, name=mode)
        # Each question's own scores, once; every figure is a mean of them over some questions.
        each = evaluate(qrels, run, METRICS, return_mean=False)
        per_question[mode] = {
            m: dict(zip(qrels.get_query_ids(), map(float, each[m]), strict=True)) for m in METRICS
        }
        overall[mode] = _means(per_question[mode], [q.id for q in answerable])
        misses[mode] = [q.id for q in answerable if not any(g in rows[q.id] for g in gold_ids(q))]
        for cat in sorted({q.category for q in answerable}):
            ids = [q.id for q in answerable if q.category == cat]
            by_category.setdefault(cat, {})[mode] = _means(per_question[mode], ids)
        for slice_, keep in SLICES.items():
            for split in SPLITS:
                ids = [q.id for q in answerable if q.split == split and keep(q)]
                if ids:
                    per_split = splits.setdefault(slice_, {}).setdefault(split, {})
                    per_split[mode] = _means(per_question[mode], ids)

    result = EvalResult(
        report_path=report_path,
        n_questions=len(questions),
        n_answerable=len(answerable),
        overall=overall,
        by_category=by_category,
        splits=splits,
        per_question=per_question,
        missing_quotes=_missing_quotes(searcher, answerable),
        misses=misses,
        seconds=time.perf_counter() - t0,
    )
    from eval.report import write_report

    write_report(result, questions, searcher.store.manifest, searcher.ranking)
    return result


def _means(per_question: dict[str, dict[str, float]], ids: list[str]) -> dict[str, float]:
    """Each metric's mean over the questions ``ids``, in the order ranx averages them."""
    ordered = sorted(ids)
    return {m: float(np.mean([v[i] for i in ordered])) for m, v in per_question.items()}


def _missing_quotes(searcher: Searcher, questions: list[Question]) -> list[str]:
    """Gold quotes that no longer stand in their document: a label or cleaning problem."""
    missing = []
    for q in questions:
        for j, a in enumerate(q.answers):
            if a.document not in searcher.store.documents:
                missing.append(f"{q.id}/{j}: unknown document {a.document}")
                continue
            text = normalize(searcher.store.clean_text(a.document).text)
            if normalize(a.quote) not in text:
                missing.append(f"{q.id}/{j}: quote not found in {a.document}")
    return missing
