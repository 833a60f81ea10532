"""Where a value came from, and what is wrong with it.

Every data problem is a :class:`Diagnostic` pointing at a :class:`Location`, and
prints like a compiler message::

    controls/ctl-uar-erp.yaml:14:5: error: owners[0].person: unknown person 'l.chn'; did you mean 'l.chen'?
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


def printable(text: str, limit: int = 200) -> str:
    """``text`` made safe for a terminal line: control, bidi and zero-width characters shown
    as escapes (a file name cannot forge another ``file:line: error`` line or recolour the
    terminal), cut after ``limit`` characters with the number left out."""

    def escape(match: re.Match[str]) -> str:
        char = match.group()
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    shown = text if len(text) <= limit else text[:limit]
    shown = _UNSAFE.sub(escape, shown)
    if len(text) > limit:
        shown += f"… ({len(text) - limit:,} more characters)"
    return shown


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """Text that a spreadsheet will not run as a formula (``=HYPERLINK(...)`` gets a ``'``):
    for every CSV Controlbook writes, reports and PDF attachments alike."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def invisible_characters(text: str) -> list[str]:
    """Names of the control, bidi and zero-width characters in ``text`` (tab excluded)."""
    return [
        unicodedata.name(c, f"U+{ord(c):04X}")
        for c in dict.fromkeys(_UNSAFE.findall(text))
        if c != "\t"
    ]


@dataclass(frozen=True, order=True)
class Location:
    """A position in a catalog file: path as displayed, 1-based line and column."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        file = printable(self.file, limit=300)
        if self.line <= 0:
            return file
        return f"{file}:{self.line}:{self.column}"


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
        prefix = f"{printable(self.key)}: " if self.key else ""
        text = f"{self.location}: {self.level}: {prefix}{printable(self.message, limit=1000)}"
        if self.source_line and self.location.column > 0:
            before = printable(self.source_line[: self.location.column - 1], limit=120)
            caret = " " * len(before) + "^"
            text += f"\n    {printable(self.source_line, limit=240)}\n    {caret}"
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
