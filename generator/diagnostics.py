"""Where a value came from, and what is wrong with it.

Every data problem is a :class:`Diagnostic` pointing at a :class:`Location`, and
prints like a compiler message::

    controls/ctl-uar-erp.yaml:14:5: error: owners[0].person: unknown person 'l.chn'; did you mean 'l.chen'?
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, order=True)
class Location:
    """A position in a catalog file: path as displayed, 1-based line and column."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    """One problem found while loading or validating a catalog."""

    level: Level
    location: Location
    message: str
    key: str = ""
    source_line: str = ""

    def __str__(self) -> str:
        prefix = f"{self.key}: " if self.key else ""
        text = f"{self.location}: {self.level}: {prefix}{self.message}"
        if self.source_line and self.location.column > 0:
            caret = " " * (self.location.column - 1) + "^"
            text += f"\n    {self.source_line}\n    {caret}"
        return text

    def sort_key(self) -> tuple[str, int, int, str]:
        loc = self.location
        return (loc.file, loc.line, loc.column, self.message)


def format_key(path: Iterable[str | int]) -> str:
    """Render a key path like ``owners[0].person``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def did_you_mean(value: str, candidates: Iterable[str]) -> str:
    """A ``; did you mean 'x'?`` suffix when a candidate is close, else ``""``."""
    close = difflib.get_close_matches(value, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""
