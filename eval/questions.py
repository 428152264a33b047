"""The labelled questions: each gold answer is a document plus a verbatim quote."""

from __future__ import annotations

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
