"""The labelled questions: each gold answer is a document plus a verbatim quote."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ValidationError, model_validator

from beleidszoeker.errors import BeleidszoekerError

Category = Literal["fact", "list", "promise", "number", "paraphrase", "multi_doc", "unanswerable"]


class GoldAnswer(BaseModel):
    document: str
    quote: str


class Question(BaseModel):
    id: str
    question: str
    lang: Literal["nl", "en"] = "nl"
    category: Category
    answers: list[GoldAnswer] = []
    notes: str | None = None

    @model_validator(mode="after")
    def _answers_match_category(self) -> Question:
        if (self.category == "unanswerable") != (not self.answers):
            raise ValueError(
                f"{self.id}: unanswerable questions have no answers, all others need at least one"
            )
        return self

    @property
    def answerable(self) -> bool:
        return bool(self.answers)

    @property
    def split(self) -> Split:
        return split_of(self.id)


def load_questions(path: Path) -> list[Question]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        questions = [Question(**item) for item in raw]
    except FileNotFoundError as exc:
        raise BeleidszoekerError(f"Questions file {path} not found.") from exc
    except (yaml.YAMLError, ValidationError, TypeError) as exc:
        raise BeleidszoekerError(f"Questions file {path} is not valid: {exc}") from exc
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        raise BeleidszoekerError(f"Questions file {path} repeats ids: {', '.join(dupes)}")
    return questions


Split = Literal["dev", "test"]
# Share of the questions in `dev`: what tuning and training may read. The rest is `test`,
# sealed: it only reports.
DEV_SHARE = 0.6


def split_of(question_id: str) -> Split:
    """`dev` or `test`, from a hash of the id alone: stable, and blind to the question's text."""
    digest = hashlib.sha256(question_id.encode("utf-8")).digest()
    return "dev" if int.from_bytes(digest[:8], "big") / 2**64 < DEV_SHARE else "test"


class SealedSplitError(BeleidszoekerError):
    """Something tried to fit (train, tune, choose a threshold) on the sealed test split."""


def dev_only(questions: list[Question]) -> list[Question]:
    """The questions a fit may read; refuses a list that holds any `test` question.

    Every fit goes through here, so a test split that leaks into training is an error, not
    a silently better score.
    """
    sealed = [q.id for q in questions if split_of(q.id) != "dev"]
    if sealed:
        shown = ", ".join(sealed[:5]) + (" ..." if len(sealed) > 5 else "")
        raise SealedSplitError(
            f"Refusing to fit on {len(sealed)} question(s) of the sealed test split ({shown}): "
            'pass only the dev split (eval.questions.in_split(questions, "dev")).'
        )
    return questions


def in_split(questions: list[Question], split: Split) -> list[Question]:
    return [q for q in questions if split_of(q.id) == split]
