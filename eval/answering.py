"""Score the answers: abstention on the labelled questions and whether citations hold gold."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from rich.table import Table

from beleidszoeker.config import Settings
from eval.intervals import LEVEL, Gap, gap
from eval.matching import contains_quote, normalize
from eval.questions import Question, load_questions
from eval.scoring import DEFAULT_QUESTIONS, SPLITS
from search_api.answer import answer_question
from search_api.engine import get_searcher
from search_api.models import AskResponse


@dataclass
class Judged:
    """How one question was answered."""

    question: Question
    response: AskResponse
    cited_gold: int = 0  # gold quotes held by a cited passage
    said_gold: int = 0  # gold quotes overlapping an answer sentence

    @property
    def answered(self) -> bool:
        return not self.response.abstained


@dataclass
class AnswerEvalResult:
    judged: list[Judged]
    seconds: float = 0.0

    @property
    def unanswerable(self) -> list[Judged]:
        return [j for j in self.judged if not j.question.answerable]

    @property
    def answerable(self) -> list[Judged]:
        return [j for j in self.judged if j.question.answerable]

    @property
    def abstained_ok(self) -> int:
        return sum(not j.answered for j in self.unanswerable)

    @property
    def wrongly_abstained(self) -> list[Judged]:
        return [j for j in self.answerable if not j.answered]

    @property
    def wrongly_answered(self) -> list[Judged]:
        return [j for j in self.unanswerable if j.answered]

    @property
    def answered(self) -> list[Judged]:
        return [j for j in self.answerable if j.answered]

    def share(self, attr: str) -> float:
        """Share of answered answerable questions whose answer has at least one gold hit."""
        answered = self.answered
        return sum(getattr(j, attr) > 0 for j in answered) / len(answered) if answered else 0.0

    def list_recall(self) -> float:
        """For list questions: the share of gold items whose passage the answer cites."""
        lists = [j for j in self.answerable if j.question.category == "list"]
        if not lists:
            return 0.0
        return sum(j.cited_gold / len(j.question.answers) for j in lists) / len(lists)

    def said_share(self, category: str | None = None) -> float:
        """Share of answerable questions whose answer text itself holds a gold quote."""
        pool = [j for j in self.answerable if category is None or j.question.category == category]
        return sum(j.said_gold > 0 for j in pool) / len(pool) if pool else 0.0

    def of_split(self, split: str) -> AnswerEvalResult:
        return AnswerEvalResult([j for j in self.judged if j.question.split == split])

    def per_question(self) -> dict[str, list[float]]:
        """Each answer figure as the per-question values it is the mean of."""
        answered = self.answered
        promises = [j for j in self.answerable if j.question.category == "promise"]
        lists = [j for j in self.answerable if j.question.category == "list"]
        return {
            "unanswerable questions abstained": [float(not j.answered) for j in self.unanswerable],
            "answerable questions wrongly abstained": [
                float(not j.answered) for j in self.answerable
            ],
            "answers whose citations hold a gold quote": [
                float(j.cited_gold > 0) for j in answered
            ],
            "answers with a gold quote in an answer sentence": [
                float(j.said_gold > 0) for j in answered
            ],
            "answerable questions whose answer text holds a gold quote": [
                float(j.said_gold > 0) for j in self.answerable
            ],
            "promise questions whose answer text holds a gold quote": [
                float(j.said_gold > 0) for j in promises
            ],
            "list questions: gold items cited": [
                j.cited_gold / len(j.question.answers) for j in lists
            ],
        }

    def figures(self) -> dict[str, str]:
        out = {}
        for name, values in self.per_question().items():
            share = sum(values) / len(values) if values else 0.0
            # Abstentions are few: their counts say more than a percentage does.
            counted = name.endswith("abstained")
            shown = f"{share:.1%}"
            out[name] = f"{int(sum(values))}/{len(values)} ({shown})" if counted else shown
        return out

    def split_figures(self) -> dict[str, dict[str, str]]:
        """figure -> split -> value, for dev and test side by side."""
        by_split = {s: self.of_split(s).figures() for s in SPLITS}
        return {name: {s: by_split[s][name] for s in SPLITS} for name in by_split[SPLITS[0]]}

    def split_gaps(self) -> dict[str, Gap | None]:
        """figure -> dev minus test, with its bootstrap interval."""
        dev, test = (self.of_split(s).per_question() for s in SPLITS)
        return {name: gap(dev[name], test[name]) for name in dev}

    def summary_table(self) -> Table:
        table = Table(title=f"Answers on {len(self.judged)} questions")
        table.add_column("figure")
        for split in SPLITS:
            table.add_column(split, justify="right")
        for name, values in self.split_figures().items():
            table.add_row(name, *(values[s] for s in SPLITS))
        return table

    def markdown(self) -> str:
        gaps = self.split_gaps()
        lines = [
            "## Answers",
            "",
            "`beleidszoeker eval` also asks every question through `answer_question` (the "
            "function behind `/api/ask` and `beleidszoeker ask`). An answer should abstain on "
            "the unanswerable questions and answer the others with sentences whose cited "
            "passages hold a gold quote. The last column is dev minus test and its "
            f"{LEVEL:.0%} bootstrap interval, in percentage points.",
            "",
            "| figure | " + " | ".join(SPLITS) + f" | dev - test ({LEVEL:.0%} interval) |",
            "|---|" + "---:|" * (len(SPLITS) + 1),
            *(
                f"| {name} | "
                + " | ".join(values[s] for s in SPLITS)
                + f" | {gaps[name].text(points=True) if gaps[name] else '-'} |"
                for name, values in self.split_figures().items()
            ),
            "",
        ]
        for title, items in (
            ("Answerable questions abstained on", self.wrongly_abstained),
            ("Unanswerable questions answered", self.wrongly_answered),
            (
                "Answers whose citations hold no gold quote",
                [j for j in self.answered if not j.cited_gold],
            ),
        ):
            lines.append(f"- {title}: " + (", ".join(j.question.id for j in items) or "none"))
        lines.append("")
        return "\n".join(lines)

    def append_to(self, report: Path) -> None:
        """Add the answer section to the retrieval report just written."""
        text = report.read_text(encoding="utf-8") if report.exists() else ""
        report.write_text(text.rstrip("\n") + "\n\n" + self.markdown(), encoding="utf-8")


def judge_answer(question: Question, response: AskResponse) -> Judged:
    judged = Judged(question, response)
    if response.answer is None or not question.answerable:
        return judged
    by_id = {p.chunk_id: p for p in response.passages}
    cited = [by_id[c] for s in response.answer.sentences for c in s.citations if c in by_id]
    said = [normalize(s.text) for s in response.answer.sentences]
    for gold in question.answers:
        holds = (
            p.document.id == gold.document and contains_quote(p.text, gold.quote) for p in cited
        )
        if any(holds):
            judged.cited_gold += 1
        quote = normalize(gold.quote)
        if any(_overlaps(s, quote) for s in said):
            judged.said_gold += 1
    return judged


def _overlaps(sentence: str, quote: str) -> bool:
    """The sentence holds the quote, or is a large part of it (quotes may span sentences)."""
    return quote in sentence or (len(sentence) >= 0.4 * len(quote) and sentence in quote)


def run_answer_eval(
    settings: Settings, questions_path: Path = DEFAULT_QUESTIONS
) -> AnswerEvalResult:
    questions = load_questions(questions_path)
    searcher = get_searcher(settings)
    t0 = time.perf_counter()
    judged = [judge_answer(q, answer_question(searcher, q.question)) for q in questions]
    return AnswerEvalResult(judged, time.perf_counter() - t0)
