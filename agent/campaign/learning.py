"""When does each member answer? A Beta posterior per hour of the week, shrunk to the population.

Hours of the week are in the member's local time (0 = Monday 00:00-01:00, 167 = Sunday
23:00). One attempt is evidence for its own hour (weight 1), for the same hour on the other
days of the same kind (weekday or weekend; weight `SAME_HOUR`), and for the neighbouring
hours (weight `NEIGHBOUR`): habits are daily routines, so three unanswered Tuesday-10:00
calls say something about Wednesday 10:00 too. The prior for each hour is the population's
answer rate at that hour (all members' attempts pooled), worth `strength` pseudo-attempts,
so a new member starts at the population's best hours and moves to their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

HOURS = 168
SAME_HOUR = 0.35  # weight of an attempt for the same hour on other days of its kind
NEIGHBOUR = 0.3  # weight for the hour before and after (same day)

Vector = NDArray[np.float64]


def _kernel() -> NDArray[np.float64]:
    """K[h, j]: how much an attempt at hour-of-week j counts as evidence for hour h."""
    k = np.zeros((HOURS, HOURS))
    for j in range(HOURS):
        day, hour = divmod(j, 24)
        weekend = day >= 5
        for d in range(7):
            if (d >= 5) == weekend and d != day:
                k[d * 24 + hour, j] += SAME_HOUR
        k[j, j] += 1.0
        for dh in (-1, 1):
            if 0 <= hour + dh < 24:
                k[day * 24 + hour + dh, j] += NEIGHBOUR
    return k


KERNEL = _kernel()


def hour_of_week(weekday: int, hour: int) -> int:
    """Index of a local (weekday 0 = Monday, hour 0..23) in the 168 hours of the week."""
    if not (0 <= weekday < 7 and 0 <= hour < 24):
        raise ValueError("weekday must be 0..6 and hour 0..23")
    return weekday * 24 + hour


@dataclass(slots=True)
class AnswerCounts:
    """Raw evidence for one member (or the population): answered and unanswered attempts per hour."""

    answered: Vector = field(default_factory=lambda: np.zeros(HOURS))
    unanswered: Vector = field(default_factory=lambda: np.zeros(HOURS))

    def add(self, how: int, answered: bool) -> None:
        """Count one attempt at hour-of-week `how`."""
        (self.answered if answered else self.unanswered)[how] += 1.0

    def merge(self, other: AnswerCounts) -> None:
        """Add another member's counts (to pool a population)."""
        self.answered += other.answered
        self.unanswered += other.unanswered

    @property
    def attempts(self) -> float:
        """How many attempts were counted."""
        return float(self.answered.sum() + self.unanswered.sum())

    def to_pairs(self) -> list[tuple[int, int, int]]:
        """Non-empty hours as (hour, answered, unanswered), for storage."""
        hours = np.flatnonzero(self.answered + self.unanswered)
        return [(int(h), int(self.answered[h]), int(self.unanswered[h])) for h in hours]

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[int, int, int]]) -> AnswerCounts:
        """Inverse of to_pairs."""
        out = cls()
        for how, yes, no in pairs:
            out.answered[how] += yes
            out.unanswered[how] += no
        return out


@dataclass(frozen=True, slots=True)
class Prior:
    """The population's answer rate per hour of week, worth `strength` pseudo-attempts."""

    mean: Vector
    strength: float = 3.0

    @classmethod
    def flat(cls, rate: float = 0.3, strength: float = 3.0) -> Prior:
        """The same rate at every hour (before anything is known)."""
        return cls(np.full(HOURS, rate), strength)

    @classmethod
    def from_population(
        cls, counts: AnswerCounts, strength: float = 3.0, base: Prior | None = None
    ) -> Prior:
        """Pool everyone's attempts (smoothed the same way) on top of a flat base rate."""
        base = base or Prior.flat()
        yes = KERNEL @ counts.answered
        no = KERNEL @ counts.unanswered
        k = 20.0  # the base rate's weight per hour in the pooled estimate
        mean = (k * base.mean + yes) / (k + yes + no)
        return cls(mean, strength)


def posterior(counts: AnswerCounts, prior: Prior) -> tuple[Vector, Vector]:
    """(mean, standard deviation) of the member's answer probability at each hour of the week."""
    yes = KERNEL @ counts.answered
    no = KERNEL @ counts.unanswered
    a = prior.strength * prior.mean + yes
    b = prior.strength * (1.0 - prior.mean) + no
    n = a + b
    mean = a / n
    sd = np.sqrt(a * b / (n * n * (n + 1.0)))
    return mean, sd
