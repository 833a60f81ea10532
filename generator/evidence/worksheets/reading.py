"""Reading a returned worksheet back (XLSX or CSV): its About fields and its rows, as text.

Nothing is judged here (see :mod:`.collecting`); a file that is not a worksheet at all
(not a workbook, no Review sheet, columns missing) is one problem with its file name.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook

from .layout import ABOUT, ABOUT_KEYS, COLUMNS, SHEET
from .writing import unsafe


@dataclass(frozen=True)
class ReturnedRow:
    line: int
    """The spreadsheet row (XLSX) or the line (CSV), 1-based."""
    values: dict[str, str]


@dataclass(frozen=True)
class Returned:
    """A worksheet as it came back."""

    path: Path
    shown: str
    about: dict[str, str]
    rows: tuple[ReturnedRow, ...]


class NotAWorksheet(Exception):
    """The file cannot be read as a worksheet; the message says why."""


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _require(about: dict[str, str]) -> None:
    missing = [k for k in ABOUT_KEYS if not about.get(k)]
    if missing:
        raise NotAWorksheet(f"the worksheet does not say its {', '.join(missing)}")


def _rows(header: list[str], records: list[tuple[int, list[str]]]) -> tuple[ReturnedRow, ...]:
    names = [h.strip().lower() for h in header]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise NotAWorksheet(f"the header lacks {', '.join(missing)}")
    out = []
    for line, values in records:
        if not any(v.strip() for v in values):
            continue
        padded = values + [""] * (len(names) - len(values))
        out.append(ReturnedRow(line, {n: padded[i].strip() for i, n in enumerate(names)}))
    return tuple(out)


def read_xlsx(path: Path, shown: str) -> Returned:
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise NotAWorksheet(f"not an XLSX workbook ({type(exc).__name__})") from None
    try:
        if SHEET not in book.sheetnames or ABOUT not in book.sheetnames:
            raise NotAWorksheet(f"no {SHEET} and {ABOUT} sheets: not a worksheet that was issued")
        about = {
            _text(row[0]): _text(row[1]) if len(row) > 1 else ""
            for row in book[ABOUT].iter_rows(values_only=True)
            if row and row[0] is not None
        }
        records = [
            (number, [_text(v) for v in row])
            for number, row in enumerate(book[SHEET].iter_rows(values_only=True), start=1)
        ]
    finally:
        book.close()
    _require(about)
    if not records:
        raise NotAWorksheet(f"the {SHEET} sheet is empty")
    return Returned(path, shown, about, _rows(records[0][1], records[1:]))


def read_csv(path: Path, shown: str) -> Returned:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NotAWorksheet("not UTF-8 text") from None
    about: dict[str, str] = {}
    lines = text.splitlines(keepends=True)
    skipped = 0
    for line in lines:
        if not line.startswith("#"):
            break
        key, _, value = line[1:].partition(":")
        about[key.strip()] = value.strip()
        skipped += 1
    _require(about)
    try:
        reader = csv.reader(io.StringIO("".join(lines[skipped:])))
        header = next(reader, None)
        if header is None:
            raise NotAWorksheet("no header row")
        records = []
        for values in reader:
            records.append((skipped + reader.line_num, [unsafe(v) for v in values]))
    except csv.Error as exc:
        raise NotAWorksheet(f"unreadable CSV ({exc})") from None
    return Returned(path, shown, about, _rows(header, records))


def read_returned(path: Path, shown: str) -> Returned:
    """Raises :class:`NotAWorksheet`."""
    return read_xlsx(path, shown) if path.suffix.lower() == ".xlsx" else read_csv(path, shown)
