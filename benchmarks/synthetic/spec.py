"""What to generate, and the calendar every generated file agrees on."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property

FREQUENCIES = {1: "annual", 2: "semi-annual", 4: "quarterly", 12: "monthly"}
"""Reviews per control -> the control's frequency (one review per period of the year)."""

PERIOD_START = date(2026, 1, 1)
PERIOD_END = date(2026, 12, 31)
DUE_DAYS = 30
SLA_DAYS = 30
MAX_EXCEPTION_DAYS = 180
ROTATION_DAYS = 90


@dataclass(frozen=True)
class Spec:
    """The size of the catalog and the share of deliberate gaps."""

    controls: int
    people: int
    systems: int
    accounts: int
    entitlement_rows: int
    reviews_per_control: int
    seed: int
    gap_rate: float = 0.05

    def check(self) -> None:
        """Refuse sizes that cannot make a valid catalog."""
        if self.reviews_per_control not in FREQUENCIES:
            raise ValueError(f"--reviews-per-control must be one of {sorted(FREQUENCIES)}")
        if not 1 <= self.controls <= 5 * self.systems:
            raise ValueError("each control reviews one account kind of one system: 1..5 x systems")
        if self.people < 100 or self.accounts < self.systems * 10:
            raise ValueError("need at least 100 people and 10 accounts per system")
        if self.entitlement_rows < self.accounts:
            raise ValueError("need at least one entitlement row per account")

    def rng(self, *parts: object) -> random.Random:
        """A random generator for one entity, independent of generation order."""
        return random.Random("|".join(map(str, (self.seed, *parts))))

    @property
    def frequency(self) -> str:
        return FREQUENCIES[self.reviews_per_control]

    @cached_property
    def periods(self) -> tuple[tuple[date, date], ...]:
        """The review periods of the assessed year."""
        months = 12 // self.reviews_per_control
        out = []
        for index in range(self.reviews_per_control):
            start = date(2026, 1 + index * months, 1)
            end_month = 1 + (index + 1) * months
            end = date(2027, 1, 1) if end_month > 12 else date(2026, end_month, 1)
            out.append((start, end - timedelta(days=1)))
        return tuple(out)

    @cached_property
    def as_of(self) -> date:
        """Every review of the year is due before the as-of date."""
        return PERIOD_END + timedelta(days=DUE_DAYS + 16)

    @cached_property
    def snapshots(self) -> tuple[datetime, ...]:
        """Extract times: the end of each review period, then the current extract."""
        ends = [datetime.combine(end, time(22, 0), tzinfo=UTC) for _start, end in self.periods]
        current = datetime.combine(self.as_of - timedelta(days=5), time(21, 30), tzinfo=UTC)
        return (*ends, current)

    @property
    def current(self) -> int:
        """Index of the current extract in :attr:`snapshots`."""
        return len(self.snapshots) - 1
