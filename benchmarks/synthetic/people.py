"""The directory: a manager tree of people, some contractors, some leavers, two teams.

Indexes below ``managers`` have reports (fan-out 8, the CEO at 0) and are the pool for
owners and approvers; they never leave. Leaf people hold the privileged and third-party
accounts and administer systems, so that nobody reviews their own access by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path

from .spec import Spec
from .text import scalar, write_text

FAN_OUT = 8
PER_FILE = 5000
IAM_TEAM = "iam-team"
FIRST = ("Ada", "Ben", "Carla", "Dev", "Elif", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira")
LAST = ("Adams", "Baker", "Chen", "Diaz", "Eriksen", "Fischer", "Garcia", "Hansen", "Okafor")
DEPARTMENTS = ("Finance", "Procurement", "Sales", "Operations", "IT", "HR", "Treasury", "Legal")


@dataclass(frozen=True)
class Directory:
    """Who exists; people are addressed by index, written by :meth:`id`."""

    spec: Spec

    @cached_property
    def width(self) -> int:
        return max(5, len(str(self.spec.people - 1)))

    def id(self, index: int) -> str:
        return f"u{index:0{self.width}d}"

    @cached_property
    def managers(self) -> int:
        """People ``1 .. managers-1`` have reports (and ``0``, the CEO)."""
        return (self.spec.people - 2) // FAN_OUT + 1

    @cached_property
    def contractors(self) -> range:
        """Third-party people (the last 5 % of the directory)."""
        count = max(10, self.spec.people // 20)
        return range(self.spec.people - count, self.spec.people)

    @cached_property
    def staff(self) -> range:
        """Leaf employees: neither managers nor contractors."""
        return range(self.managers, self.contractors.start)

    @cached_property
    def stayers(self) -> list[int]:
        """Leaf employees who stay all year (administrators, privileged account holders)."""
        return [i for i in self.staff if i not in self.leavers]

    def manager(self, index: int) -> int | None:
        return None if index == 0 else (index - 1) // FAN_OUT

    @cached_property
    def leavers(self) -> dict[int, date]:
        """Leaf employees who leave during the year, with their last working day."""
        rng = self.spec.rng("leavers")
        first = date(2026, 2, 15)
        days = (self.spec.as_of - timedelta(days=20) - first).days
        chosen = rng.sample(self.staff, max(1, len(self.staff) // 50))
        return {i: first + timedelta(days=rng.randrange(days)) for i in sorted(chosen)}

    def left_on(self, index: int) -> date | None:
        return self.leavers.get(index)

    def name(self, index: int) -> str:
        rng = self.spec.rng("name", index)
        return f"{rng.choice(FIRST)} {rng.choice(LAST)}"

    def write(self, root: Path) -> None:
        """``people/people-NNN.yaml``, 5,000 entries per file, plus the teams."""
        total = self.spec.people
        for number, start in enumerate(range(0, total, PER_FILE), start=1):
            lines = ["kind: people", "people:"]
            if number == 1:
                members = ", ".join(self.id(i) for i in range(1, min(4, self.managers)))
                lines += [
                    f"  - id: {IAM_TEAM}",
                    "    name: IAM team",
                    "    kind: team",
                    f"    members: [{members}]",
                ]
            for index in range(start, min(start + PER_FILE, total)):
                lines += self._entry(index)
            write_text(root / "people" / f"people-{number:03d}.yaml", lines)

    def _entry(self, index: int) -> list[str]:
        rng = self.spec.rng("person", index)
        person = self.id(index)
        if index in self.contractors:
            department, title = "Contractor", "External consultant"
        else:
            department = DEPARTMENTS[index % len(DEPARTMENTS)]
            title = f"{department} manager" if index < self.managers else f"{department} analyst"
        joined = date(2015, 1, 1) + timedelta(days=rng.randrange(365 * 10 + 180))
        lines = [
            f"  - id: {person}",
            f"    name: {scalar(self.name(index))}",
            f"    email: {person}@example.com",
            f"    title: {scalar(title)}",
            f"    department: {department}",
        ]
        boss = self.manager(index)
        if boss is not None:
            lines.append(f"    manager: {self.id(boss)}")
        lines.append(f"    employed_from: {joined.isoformat()}")
        left = self.left_on(index)
        if left is not None:
            lines.append(f"    employed_until: {left.isoformat()}")
        return lines
