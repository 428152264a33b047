"""How far apart dev and test can fall by the draw of their questions alone.

A figure on a few dozen questions moves by several points when one question changes: with 13
English questions in `test`, one of them is worth 0.077 of English MRR@10. A percentile
bootstrap resamples each split's questions (with replacement, so each keeps its size) and
reads the spread of the difference of the two means. A gap whose interval holds 0 is within
what the draw of questions alone makes likely; the 0.05 rule is read on the gap itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

RESAMPLES = 4000
LEVEL = 0.95
SEED = 0  # the same questions give the same interval in every report


@dataclass(frozen=True)
class Gap:
    """dev minus test, and the interval the bootstrap puts around it."""

    value: float
    low: float
    high: float

    def text(self, points: bool = False) -> str:
        """ "+0.116 (-0.05 to +0.29)"; with ``points``, shares as percentage points."""
        if points:
            v, lo, hi = (100 * x for x in (self.value, self.low, self.high))
            return f"{v:+.1f} ({lo:+.1f} to {hi:+.1f}) points"
        return f"{self.value:+.3f} ({self.low:+.2f} to {self.high:+.2f})"


def gap(
    dev: Sequence[float],
    test: Sequence[float],
    resamples: int = RESAMPLES,
    level: float = LEVEL,
    seed: int = SEED,
) -> Gap | None:
    """The difference of the means of per-question values, with its bootstrap interval;
    None when a split has no question to judge."""
    d, t = np.asarray(dev, dtype=np.float64), np.asarray(test, dtype=np.float64)
    if not len(d) or not len(t):
        return None
    rng = np.random.default_rng(seed)
    d_means = d[rng.integers(0, len(d), (resamples, len(d)))].mean(axis=1)
    t_means = t[rng.integers(0, len(t), (resamples, len(t)))].mean(axis=1)
    low, high = np.quantile(d_means - t_means, [(1 - level) / 2, (1 + level) / 2])
    return Gap(float(d.mean() - t.mean()), float(low), float(high))
