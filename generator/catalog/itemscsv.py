"""Review items kept in a CSV file beside the review (``items_file:``), read columnar.

A quarterly review of a large company holds tens of thousands of decisions; as YAML they
are most of the catalog's parsing time. As a CSV (columns :data:`ITEMS_COLUMNS`, any
order, optional ones may be left out, an empty cell is a value not given) DuckDB reads
them in one columnar scan, and pydantic validates all rows in one call against the same
:class:`ReviewItem` model the YAML items use, so both ways mean the same.

Positions point into the CSV: the line of the row, and as column the number of the field
(as a spreadsheet counts them), so ``item.loc("decision")`` is ``….items.csv:17:4`` when
``decision`` is the fourth column. A file DuckDB cannot read exactly as Python's ``csv``
module does (a lone carriage return, blank lines, a glob character in its path, or any
disagreement on where rows start) is read by that module instead, the reference reader.
"""

from __future__ import annotations

import csv
import io
import re
import threading
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
from pydantic import TypeAdapter, ValidationError

from ..diagnostics import Diagnostic, Level, Location, did_you_mean, invisible_characters
from ..model.positions import Mark, Path_, SourceMap
from ..model.reviews import (
    ITEMS_COLUMNS,
    ITEMS_OPTIONAL_COLUMNS,
    Decision,
    ReviewItem,
)
from .wording import friendly_error

MAX_ITEMS_BYTES = 256 * 1024 * 1024
"""Larger items files are refused (about two million decisions)."""
LINE_LIMIT = 131072
"""Longest line (and field) read: Python's ``csv`` refuses longer fields."""
DUCKDB_FROM_BYTES = 256 * 1024
"""Smaller files are read by Python's ``csv``: a DuckDB query costs a few milliseconds
whatever its size, more than reading a few hundred rows (measured on the benchmark)."""
_GLOB = frozenset("*?[]{}")
_LONG_LINE = re.compile(rf"[^\n]{{{LINE_LIMIT + 1},}}")
_BLANK_LINE = re.compile(r"\n\r?\n")
_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)
_REMEDIATION = {"remediation_ticket": "ticket", "remediation_completed": "completed"}
_ROWS = TypeAdapter(list[ReviewItem])


_LOCK = threading.Lock()


@cache
def _connection() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB for every items file of the process: opening one per file
    costs more than reading a file of a few hundred rows."""
    return duckdb.connect()


class ItemsPositions(SourceMap):
    """Where each item of an items CSV was written: its row's line, and the field number
    of each column. Item paths are ``(row index, field)``, as ``Record.loc`` builds them."""

    __slots__ = ("_columns", "_lines")

    def __init__(self, lines: array[int], columns: dict[str, int]) -> None:
        super().__init__()
        self._lines = lines
        self._columns = columns

    def value(self, path: Path_) -> Mark:
        if not path or not isinstance(path[0], int) or not 0 <= path[0] < len(self._lines):
            return Mark(1, 1)
        line = self._lines[path[0]]
        name = "_".join(str(part) for part in path[1:])
        if name == "remediation":
            name = "remediation_ticket" if "remediation_ticket" in self._columns else name
            name = name if name in self._columns else "remediation_completed"
        return Mark(line, self._columns.get(name, 1))

    def key(self, path: Path_) -> Mark:
        return self.value(path)

    def detach(self) -> None:
        """Nothing to copy: the positions do not depend on the values."""

    def __getstate__(self) -> tuple[Any, array[int]]:  # type: ignore[override]
        return self._lines, self._columns  # type: ignore[return-value]

    def __setstate__(self, state: tuple[Any, Any]) -> None:
        self.__init__(*state)  # type: ignore[misc]


Problem = tuple[int, int, str, str]
"""An error in an items file: line, column, message and the key it is about."""


class _Problems:
    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, line: int, column: int, message: str, key: str = "") -> None:
        self.items.append((line, column, message, key))


@dataclass
class ItemsRead:
    """What an items file holds before validation, whatever it is shown as: a record
    (plain strings) and the line of each row read, the field number of each column, the
    errors found in the text, and the rows at fault there (``bad``: left out of the items).

    This is what the parse cache keeps. The records are validated into
    :class:`ReviewItem` when the items are asked for (:meth:`result`), once per load:
    a parse worker reads the file and the load validates, never both."""

    records: list[dict[str, Any]]
    lines: array[int]
    columns: dict[str, int]
    problems: list[Problem]
    bad: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if len(self.records) != len(self.lines) or not all(
            0 <= i < len(self.records) for i in self.bad
        ):
            raise ValueError(f"{len(self.records)} records but {len(self.lines)} lines")

    def result(self, display: str) -> tuple[list[ReviewItem], list[Diagnostic]]:
        """The items of the rows that are valid, with their positions in ``display``; the
        errors (the text's and each invalid row's) as diagnostics."""
        records, problems = self.records, list(self.problems)
        try:
            items = _ROWS.validate_python(records)
            kept: list[int] = list(range(len(items)))
        except ValidationError as exc:
            failed: set[int] = set()
            for error in exc.errors(include_url=False):
                index, *where = error["loc"]
                failed.add(int(index))
                if int(index) in self.bad:
                    continue
                name = "_".join(str(p) for p in where) if where else "account"
                column = self.columns.get(name, 1)
                problems.append((self.lines[int(index)], column, _friendly(error), name))
            kept = [i for i in range(len(records)) if i not in failed]
            items = _ROWS.validate_python([records[i] for i in kept])
        positions = ItemsPositions(self.lines, self.columns)
        good: list[ReviewItem] = []
        for row, item in zip(kept, items, strict=True):
            if row in self.bad:
                continue
            item.attach_source(display, (row,), positions)
            if item.remediation is not None:
                item.remediation.attach_source(display, (row, "remediation"), positions)
            good.append(item)
        diagnostics = [
            Diagnostic(Level.ERROR, Location(display, line, column), message, key)
            for line, column, message, key in problems
        ]
        return good, diagnostics


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _header(text: str, out: _Problems) -> list[str] | None:
    """The column names, or None (with errors at line 1) when the header is not usable."""
    first = next(csv.reader(io.StringIO(text[: text.find("\n") + 1 or len(text)])), None)
    if not first:
        out.add(1, 1, f"the items file has no header row; write: {','.join(ITEMS_COLUMNS)}")
        return None
    columns = [name.strip() for name in first]
    seen: dict[str, int] = {}
    for number, name in enumerate(columns, start=1):
        if name not in ITEMS_COLUMNS:
            hint = did_you_mean(name, ITEMS_COLUMNS)
            out.add(
                1, number, f"unknown column {name!r}{hint} (columns: {', '.join(ITEMS_COLUMNS)})"
            )
        elif name in seen:
            out.add(1, number, f"column {name!r} appears twice (first as column {seen[name]})")
        else:
            seen[name] = number
    missing = [c for c in ITEMS_COLUMNS if c not in ITEMS_OPTIONAL_COLUMNS and c not in seen]
    if missing:
        out.add(1, 1, f"missing column(s) {', '.join(missing)}; an empty cell says 'not given'")
    return None if out.items else columns


def _duckdb_rows(
    path: Path, text: str, width: int
) -> tuple[list[tuple[Any, ...]], array[int]] | None:
    """Rows and their first lines, read by DuckDB; None when DuckDB may not read the file
    as Python's ``csv`` does (the caller then uses :func:`_python_rows`)."""
    if _GLOB & set(str(path)) or text.count("\r") != text.count("\r\n"):
        return None
    if _BLANK_LINE.search(text):
        return None
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
    quoted = "'" + str(path).replace("'", "''") + "'"
    query = (
        f"SELECT * FROM read_csv({quoted}, header = true, columns = {columns}, "
        "auto_detect = false, delim = ',', quote = '\"', escape = '\"', strict_mode = true, "
        f"max_line_size = {LINE_LIMIT + 2}, encoding = 'utf-8')"
    )
    try:
        with _LOCK:
            rows = _connection().execute(query).fetchall()
    except duckdb.Error:
        return None
    lines = array("I", bytes(4 * len(rows)))
    line = 2
    quotes = '"' in text
    for index, row in enumerate(rows):
        lines[index] = line
        line += 1 + (sum(v.count("\n") for v in row if v) if quotes else 0)
    physical = text.count("\n") + (0 if text.endswith("\n") else 1)
    return (rows, lines) if line - 1 == physical else None


def _python_rows(text: str, width: int, out: _Problems) -> tuple[list[tuple[Any, ...]], array[int]]:
    """Rows and their first lines by Python's ``csv`` module; errors name the line."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[Any, ...]] = []
    lines = array("I")
    line = 1
    try:
        next(reader, None)
        line = reader.line_num + 1
        for values in reader:
            start, line = line, reader.line_num + 1
            if not values:
                continue
            if len(values) != width:
                out.add(start, 1, f"expected {width} fields (as the header), got {len(values)}")
                continue
            rows.append(tuple(v if v != "" else None for v in values))
            lines.append(start)
    except csv.Error as exc:
        out.add(line, 1, f"unreadable CSV ({exc})")
    return rows, lines


def _cell_problems(
    columns: Sequence[str],
    rows: list[tuple[Any, ...]],
    lines: array[int],
    text: str,
    out: _Problems,
) -> set[int]:
    """Invisible characters and empty accounts; the indexes of the rows at fault."""
    bad: set[int] = set()
    account = columns.index("account")
    suspicious = bool(_UNSAFE.search(text))
    for index, row in enumerate(rows):
        if row[account] is None or not row[account].strip():
            out.add(
                lines[index],
                account + 1,
                "no account: every row names the account decided on",
                "account",
            )
            bad.add(index)
        if not suspicious:
            continue
        for number, (name, value) in enumerate(zip(columns, row, strict=True), start=1):
            shown = (
                value.replace("\r\n", " ").replace("\n", " ")
                if value and name == "comment"
                else value
            )
            hidden = invisible_characters(shown) if shown else []
            if hidden:
                out.add(
                    lines[index],
                    number,
                    f"{name} {value.strip()!a} holds {', '.join(hidden)}, which shows as nothing "
                    "or reorders the text around it (retype it)",
                    name,
                )
                bad.add(index)
    return bad


def _record(columns: Sequence[str], row: tuple[Any, ...]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    remediation: dict[str, str] = {}
    for name, value in zip(columns, row, strict=True):
        if value is None:
            continue
        value = value.strip()
        if not value:
            continue
        if name in _REMEDIATION:
            remediation[_REMEDIATION[name]] = value
        else:
            data[name] = value
    if remediation:
        data["remediation"] = remediation
    return data


def _friendly(error: dict[str, Any]) -> str:
    if error["type"] == "enum" and error["loc"][-1] == "decision":
        choices = [d.value for d in Decision]
        value = str(error.get("input"))
        return f"unknown decision {value!r}{did_you_mean(value, choices)} (one of: {', '.join(choices)})"
    return friendly_error(error)


def _failed(out: _Problems) -> ItemsRead:
    return ItemsRead([], array("I"), {}, out.items)


def read_items(raw: bytes, path: Path) -> ItemsRead:
    """Read an items CSV (``raw`` is its content, ``path`` where DuckDB reads it): every
    error with line and column; rows at fault are left out of the items."""
    out = _Problems()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        out.add(line, column, "the items file is not UTF-8 text (save it as CSV UTF-8)")
        return _failed(out)
    if "\x00" in text:
        out.add(*_position(text, text.index("\x00")), "a NUL byte: this is not a text CSV file")
        return _failed(out)
    if long := _LONG_LINE.search(text):
        line = text.count("\n", 0, long.start()) + 1
        out.add(line, 1, f"line longer than {LINE_LIMIT:,} characters; an item is one short row")
        return _failed(out)
    columns = _header(text, out)
    if columns is None:
        return _failed(out)
    read = _duckdb_rows(path, text, len(columns)) if len(raw) >= DUCKDB_FROM_BYTES else None
    rows, lines = read if read is not None else _python_rows(text, len(columns), out)
    bad = _cell_problems(columns, rows, lines, text, out)
    numbers = {name: number for number, name in enumerate(columns, start=1)}
    records = [_record(columns, row) for row in rows]
    return ItemsRead(records, lines, numbers, out.items, frozenset(bad))


def parse_items(raw: bytes, path: Path, display: str) -> tuple[list[ReviewItem], list[Diagnostic]]:
    """The items of an items CSV (see :func:`read_items`) with their positions attached,
    and every error with file:line:column."""
    return read_items(raw, path).result(display)


__all__ = ["MAX_ITEMS_BYTES", "ItemsPositions", "ItemsRead", "parse_items", "read_items"]
