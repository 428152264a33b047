"""Score the promise register of an index on the labelled sentences, per split.

A labelled sentence counts as found when a register entry of its document holds it (or it
holds the entry: the extraction may glue a heading to a sentence). Precision and recall are
over the labelled sentences; the target year is judged on the promises the register found
whose label names one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.table import Table

from beleidszoeker.config import Settings
from eval.matching import normalize
from eval.promises import DEFAULT_PROMISES, LabelledSentence, load_promises
from indexer import corpus, promise_rules
from indexer.promises import FILE, Promise, parse_promises

TARGETS = {"precision": 0.85, "recall": 0.80, "target_year": 0.90}


@dataclass
class SplitScore:
    split: str
    n_promises: int
    n_non_promises: int
    true_positives: int
    false_positives: int
    years_right: int
    years_judged: int
    # The year rule on every labelled promise that names a target, found by the register or not.
    rule_years_right: int = 0
    rule_years_judged: int = 0

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 0.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.n_promises if self.n_promises else 0.0

    @property
    def year_accuracy(self) -> float:
        return self.years_right / self.years_judged if self.years_judged else 0.0

    @property
    def rule_year_accuracy(self) -> float:
        return self.rule_years_right / self.rule_years_judged if self.rule_years_judged else 0.0


@dataclass
class PromiseEvalResult:
    splits: dict[str, SplitScore]
    n_register: int
    model: str | None

    def summary_table(self) -> Table:
        table = Table(title=f"Promise register ({self.n_register} promises in the index)")
        for col in (
            "split",
            "promises",
            "non-promises",
            "precision",
            "recall",
            "target year (found)",
            "target year (all labelled)",
        ):
            table.add_column(col)
        for s in self.splits.values():
            table.add_row(
                s.split,
                str(s.n_promises),
                str(s.n_non_promises),
                f"{s.precision:.3f}",
                f"{s.recall:.3f}",
                f"{s.year_accuracy:.3f} ({s.years_right}/{s.years_judged})",
                f"{s.rule_year_accuracy:.3f} ({s.rule_years_right}/{s.rule_years_judged})",
            )
        return table

    def markdown(self) -> str:
        lines = [
            "",
            "## Promise register",
            "",
            f"{self.n_register} promises in the index (classifier `{self.model}`), scored on "
            "the labelled sentences of `eval/promises.yaml`. The classifier was trained and "
            "its threshold chosen on `dev` only; `test` is the held-apart figure. Targets: "
            "precision >= 0.85, recall >= 0.80, target year right for >= 90% of the found "
            "promises whose label names one.",
            "",
            "| split | promises | non-promises | precision | recall | target year (found) "
            "| target year (all labelled) |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for s in self.splits.values():
            lines.append(
                f"| {s.split} | {s.n_promises} | {s.n_non_promises} | {s.precision:.3f} | "
                f"{s.recall:.3f} | {s.year_accuracy:.3f} ({s.years_right}/{s.years_judged}) | "
                f"{s.rule_year_accuracy:.3f} ({s.rule_years_right}/{s.rule_years_judged}) |"
            )
        lines += [
            "",
            "*Target year (found)*: the register's year for the labelled promises it found that "
            "name one. *(all labelled)*: the same year rule on every labelled promise that "
            "names one, found or not.",
        ]
        return "\n".join(lines) + "\n"

    def append_to(self, report: Path) -> None:
        with report.open("a", encoding="utf-8") as f:
            f.write(self.markdown())


def score_register(
    register: list[Promise], labels: list[LabelledSentence], model: str | None = None
) -> PromiseEvalResult:
    by_doc: dict[str, list[tuple[str, Promise]]] = {}
    for p in register:
        by_doc.setdefault(p.document_id, []).append((normalize(p.text), p))
    splits: dict[str, SplitScore] = {}
    for split in ("test", "dev"):
        rows = [s for s in labels if s.split == split]
        score = SplitScore(
            split, sum(s.promise for s in rows), sum(not s.promise for s in rows), 0, 0, 0, 0
        )
        for label in rows:
            if label.promise and label.target_year is not None:
                score.rule_years_judged += 1
                score.rule_years_right += str(promise_rules.target_year(label.sentence)) == str(
                    label.target_year
                )
            hit = _found(label, by_doc.get(label.document, []))
            if hit is None:
                continue
            if not label.promise:
                score.false_positives += 1
                continue
            score.true_positives += 1
            if label.target_year is not None:
                score.years_judged += 1
                score.years_right += str(hit.target_year) == str(label.target_year)
        splits[split] = score
    return PromiseEvalResult(splits, len(register), model)


def _found(label: LabelledSentence, entries: list[tuple[str, Promise]]) -> Promise | None:
    wanted = normalize(label.sentence)
    for text, promise in entries:
        if wanted in text or (len(text) >= 20 and text in wanted):
            return promise
    return None


def run_promise_eval(settings: Settings, labels_path: Path = DEFAULT_PROMISES) -> PromiseEvalResult:
    from search_api.engine import get_searcher

    store = get_searcher(settings).store
    model = (store.manifest.get("promises") or {}).get("model")
    promises = parse_promises(store.file(FILE))
    return score_register(promises, load_promises(labels_path), model)


def document_years(corpus_dir: Path) -> dict[str, int | None]:
    """Each document id's year from the corpus manifest: a feature of the classifier."""
    years: dict[str, int | None] = {}
    for relpath, meta in corpus.read_manifest(corpus_dir).items():
        year = meta.get("year")
        years[corpus.document_id(relpath)] = int(year) if isinstance(year, int) else None
    return years
