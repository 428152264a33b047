"""The labelled promise set: sentences from the documents marked promise or not.

A promise carries what the register should find with it: the target year or period, who
commits and the amount or measurable result, each as the sentence states it (or None).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ValidationError, model_validator

from beleidszoeker.errors import BeleidszoekerError

DEFAULT_PROMISES = Path(__file__).resolve().parent / "promises.yaml"
_PERIOD = re.compile(r"^(\d{4})\s*[-–]\s*(\d{4})$")
_YEARS = range(1990, 2101)


class LabelledSentence(BaseModel):
    id: str
    document: str
    sentence: str
    promise: bool
    split: Literal["dev", "test"]
    target_year: int | str | None = None
    actor: str | None = None
    amount: str | None = None

    @model_validator(mode="after")
    def _fields_fit_the_label(self) -> LabelledSentence:
        if not self.promise and any(
            v is not None for v in (self.target_year, self.actor, self.amount)
        ):
            raise ValueError(f"{self.id}: only promises carry target_year, actor or amount")
        if isinstance(self.target_year, int) and self.target_year not in _YEARS:
            raise ValueError(f"{self.id}: target_year {self.target_year} is not a year")
        if isinstance(self.target_year, str):
            m = _PERIOD.match(self.target_year)
            if not m or not int(m.group(1)) < int(m.group(2)):
                raise ValueError(f'{self.id}: a period is written as two years, e.g. "2016-2019"')
        return self

    @property
    def years(self) -> tuple[int, ...]:
        """The target as years: (2019,) or the two ends of a period; () when none is named."""
        if self.target_year is None:
            return ()
        if isinstance(self.target_year, int):
            return (self.target_year,)
        m = _PERIOD.match(self.target_year)
        assert m is not None  # checked at load
        return (int(m.group(1)), int(m.group(2)))


def load_promises(path: Path = DEFAULT_PROMISES) -> list[LabelledSentence]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        items = [LabelledSentence(**item) for item in raw]
    except FileNotFoundError as exc:
        raise BeleidszoekerError(f"Promise labels {path} not found.") from exc
    except (yaml.YAMLError, ValidationError, TypeError) as exc:
        raise BeleidszoekerError(f"Promise labels {path} are not valid: {exc}") from exc
    ids = [s.id for s in items]
    if len(set(ids)) != len(ids):
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        raise BeleidszoekerError(f"Promise labels {path} repeat ids: {', '.join(dupes)}")
    return items
